"""Scores written into a scverse AnnData; queries from scanpy's rank_genes_groups; clue.io export.

A single-cell AnnData whose clusters were compared with ``scanpy.tl.rank_genes_groups`` holds,
in ``adata.uns["rank_genes_groups"]``, record arrays of gene names and scores per group. exprlab
turns each group into an up/down query, scores it against a library and stores the scores back
under ``key_added``; the same groups are exported as clue.io's up/down GMT pair.
"""

import anndata as ad
import numpy as np
import pandas as pd

import exprlab.match as match

rng = np.random.default_rng(2)
genes = [f"G{i}" for i in range(300)]
library = ad.AnnData(
    rng.normal(size=(40, 300)).astype(np.float32),
    obs=pd.DataFrame(index=[f"drug{i}" for i in range(40)]),
    var=pd.DataFrame(index=genes),
)

# what scanpy.tl.rank_genes_groups(adata, "leiden", n_genes=adata.n_vars) leaves in uns:
# cluster "0" looks like the reverse of drug5, cluster "1" like drug9
cells = ad.AnnData(np.zeros((10, 300), dtype=np.float32), var=pd.DataFrame(index=genes))
groups = {"0": -library.X[5], "1": library.X[9]}
order = {g: np.argsort(-v) for g, v in groups.items()}
cells.uns["rank_genes_groups"] = {
    "names": np.rec.fromarrays([np.array(genes)[o] for o in order.values()], names=list(groups)),
    "scores": np.rec.fromarrays([groups[g][o] for g, o in order.items()], names=list(groups)),
}

scores = match.score(cells, library, "xsum", groups_key="rank_genes_groups", up=50, down=50, key_added="cmap")
stored = cells.uns["cmap"]["scores"]  # groups x library signatures
assert stored.loc["0"].idxmin() == "drug5" and stored.loc["1"].idxmax() == "drug9"
print(
    f"cluster 0 is reversed most by {stored.loc['0'].idxmin()}, cluster 1 mimicked by {stored.loc['1'].idxmax()}"
)

ups, downs = match.clue_query_sets(cells, groups_key="rank_genes_groups", up=50, down=50)
assert all(match.CLUE_MIN_GENES <= len(s) <= match.CLUE_MAX_GENES for s in [*ups.values(), *downs.values()])
print(f"clue.io sets: {', '.join(f'{g}: {len(ups[g])} up / {len(downs[g])} down' for g in ups)}")
