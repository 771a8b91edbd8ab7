"""Score a query against a signature library with connectivity methods.

A query is a mapping name -> (up genes, down genes), or an AnnData of full signatures; the
library is an AnnData (obs = signatures). A signature queried with its own top and bottom genes
is its own best match.
"""

import anndata as ad
import numpy as np
import pandas as pd

import exprlab.match as match

rng = np.random.default_rng(1)
genes = [f"G{i}" for i in range(400)]
library = ad.AnnData(
    rng.normal(size=(50, 400)),
    obs=pd.DataFrame(index=[f"sig{i}" for i in range(50)]),
    var=pd.DataFrame(index=genes),
)

own = library.X[7]
order = np.argsort(-own)
query = {"like_sig7": ([genes[i] for i in order[:30]], [genes[i] for i in order[-30:]])}

for method in ("wtcs", "ks", "xsum"):
    scores = match.score(query, library, method=method)
    best = scores.loc["like_sig7"].idxmax()
    assert best == "sig7", (method, best)
    print(f"{method}: best match {best} with score {scores.loc['like_sig7', best]:.3f}")

tidy = match.score_long(query, library, method="wtcs")
print(tidy.sort_values("rank").head(3).to_string(index=False))
