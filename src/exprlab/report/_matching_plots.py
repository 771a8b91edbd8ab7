"""The plot of one match explanation: top genes by side, and the enriched pathways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from exprlab._atomic import atomic_path
from exprlab.report._plots import _pyplot


def plot_explanation(expl: Any, path: str | Path, *, n_genes: int = 20, n_pathways: int = 10) -> Path:
    """Bar plots of the top genes (disease and drug attributions stacked) and pathways.

    Parameters
    ----------
    expl
        A match explanation (:func:`exprlab.explain.explain_match`).
    path
        The PNG file to write (atomically).
    n_genes
        Genes shown, best first.
    n_pathways
        Pathways shown, most enriched first (when the explanation has pathways).

    Returns
    -------
    pathlib.Path
        The PNG file.
    """
    plt = _pyplot()
    has_pw = expl.pathways is not None and len(expl.pathways) > 0
    fig, axes = plt.subplots(1, 2 if has_pw else 1, figsize=(12 if has_pw else 6, 6), squeeze=False)
    top = expl.genes.head(int(n_genes)).iloc[::-1]
    y = np.arange(len(top))
    ax = axes[0, 0]
    d, s = top["disease_attribution"].to_numpy(), top["drug_attribution"].to_numpy()
    ax.barh(y, d, color="tab:red", label="disease side")
    ax.barh(y, s, left=np.where(np.sign(s) == np.sign(d), d, 0), color="tab:blue", label="drug side")
    ax.set_yticks(y, top["gene"].to_numpy(), fontsize=7)
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_xlabel("Integrated Gradients attribution (logit)")
    ax.set_title(f"{expl.drug} for {expl.disease}: top genes", fontsize=9)
    ax.legend(fontsize=7)
    if has_pw:
        pw = expl.pathways.head(int(n_pathways)).iloc[::-1]
        ax = axes[0, 1]
        values = -np.log10(np.clip(pw["hyper_pvalue"].to_numpy(dtype=float), 1e-300, 1.0))
        ax.barh(np.arange(len(pw)), values, color="tab:green")
        ax.set_yticks(np.arange(len(pw)), [str(p)[:45] for p in pw["pathway"]], fontsize=7)
        ax.set_xlabel("-log10 p (hypergeometric, top genes)")
        ax.set_title("enriched pathways", fontsize=9)
    fig.tight_layout()
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)
