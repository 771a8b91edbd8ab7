"""CMap build 02: 6,100 treatment instances as +1/-1 top-100 gene sets, with their metadata."""

from __future__ import annotations

import re
from functools import lru_cache

import anndata as ad
import numpy as np
import pandas as pd

from exprlab.datasets._registry import _key
from exprlab.drugs import normalize_drug_name
from exprlab.errors import FormatError
from exprlab.io import read_delimited, read_gmt
from exprlab.signatures import signed_set_matrix

_CMAP_NAME = re.compile(r"^(?P<name>.+)@(?P<cell>[^@#]+)#(?P<conc>[^#]+)M_(?P<id>\d+)$")


def _name_parts(names: list[str], up_path: str) -> pd.DataFrame:
    """Drug, cell line, concentration and instance id of every GMT set name."""
    parts = pd.Series(names, dtype=object).str.extract(_CMAP_NAME)
    if parts["id"].isna().any():
        bad = names[int(np.flatnonzero(parts["id"].isna().to_numpy())[0])]
        raise FormatError(
            f"set name {bad!r} is not of the form drug@CELL#<conc>M_<instance id>",
            where=up_path,
            fix="use the CMap 02 GMT files",
        )
    return parts


def _instance_metadata(names: list[str], parts: pd.DataFrame, inst_path: str) -> pd.DataFrame:
    """The instance-table rows of the sets, checked against the drug, cell and dose of the names."""
    inst = read_delimited(
        inst_path, dtype={"cmap_name": str, "cell2": str, "vehicle": str, "array3": str, "batch_id": str}
    )
    inst = inst.set_index("instance_id", drop=False)
    ids = parts["id"].astype(int).to_numpy()
    missing_ids = ~np.isin(ids, inst.index.to_numpy())
    if missing_ids.any():
        raise FormatError(
            f"instance {ids[missing_ids][0]} of the GMT files is not in the instance table",
            where=inst_path,
            fix="use the instance table of CMap build 02",
        )
    meta = inst.loc[ids]
    conc = parts["conc"].astype(float).to_numpy()
    mismatch = (
        (meta["cmap_name"].to_numpy() != parts["name"].to_numpy())
        | (meta["cell2"].to_numpy() != parts["cell"].to_numpy())
        | ~np.isclose(meta["concentration (M)"].to_numpy(dtype=float), conc, rtol=1e-6, atol=0)
    )
    if mismatch.any():
        bad = names[int(np.flatnonzero(mismatch)[0])]
        raise FormatError(
            f"set {bad!r} disagrees with its instance-table row (drug, cell or dose)",
            where=inst_path,
            fix="use the GMT files and instance table of one release",
        )
    return meta


def _upper(genes: list[str]) -> list[str]:
    """Upper-case symbols: one join/split instead of a call per gene (1.2 million genes)."""
    return "\t".join(genes).upper().split("\t") if genes else []


@lru_cache(maxsize=2)
def _cmap02_parsed(up_path: str, down_path: str, inst_path: str):
    """(obs indexed by set name, {name: (up, down)}, CMap's own sorted genes); parsed once."""
    up = read_gmt(up_path)
    down = read_gmt(down_path)
    if list(up) != list(down):
        missing = sorted(set(up) ^ set(down))[:3]
        raise FormatError(
            f"the up and down GMT files name different instances (e.g. {missing})",
            where=down_path,
            fix="use the CmapUp100/CmapDn100 pair of one release",
        )
    names = list(up)
    parts = _name_parts(names, up_path)
    meta = _instance_metadata(names, parts, inst_path)
    obs = pd.DataFrame(
        {
            "drug": normalize_drug_name(meta["cmap_name"].reset_index(drop=True)).to_numpy(),
            "cmap_name": meta["cmap_name"].to_numpy(),
            "cell_line": meta["cell2"].to_numpy(),
            "dose": meta["concentration (M)"].to_numpy(dtype=float),
            "time": meta["duration (h)"].to_numpy(dtype=float),
            "instance_id": parts["id"].astype(int).to_numpy(),
            "batch_id": meta["batch_id"].to_numpy(),
            "array": meta["array3"].to_numpy(),
            "vehicle": meta["vehicle"].to_numpy(),
        },
        index=pd.Index(names, dtype=str),
    )
    sets = {n: (_upper(up[n]), _upper(down[n])) for n in names}
    genes = pd.Index(sorted({g for u, d in sets.values() for g in (*u, *d)}), dtype=object)
    return obs, sets, genes


def _cmap02_files() -> tuple[str, str, str]:
    return (
        _key("cmap02/CmapUp100.gmt.xz"),
        _key("cmap02/CmapDn100.gmt.xz"),
        _key("cmap02/cmap_instances_02.txt"),
    )


def cmap02(*, as_sets: bool = False) -> ad.AnnData | dict[str, tuple[list[str], list[str]]]:
    """CMap build 02: 6,100 treatment instances of 1,309 compounds (1,307 normalised names).

    Parameters
    ----------
    as_sets
        Return ``{instance name: (up genes, down genes)}`` (100 upper-case symbols each, in the
        file's order) instead of the AnnData.

    Returns
    -------
    anndata.AnnData or dict
        6,100 x 12,317 (the symbols of the two GMT files, sorted). X is a SciPy CSR float32
        matrix: +1 for the instance's 100 up genes, -1 for its 100 down genes, 0 elsewhere
        (:func:`exprlab.signatures.signed_set_matrix`). obs_names the GMT set names
        (``metformin@MCF7#1e-05M_1``); obs columns ``drug`` (normalised name), ``cmap_name``,
        ``cell_line``, ``dose`` (M), ``time`` (h), ``instance_id``, ``batch_id``, ``array``,
        ``vehicle``.
    """
    obs, sets, genes = _cmap02_parsed(*_cmap02_files())
    if as_sets:
        return {n: (list(u), list(d)) for n, (u, d) in sets.items()}
    X = signed_set_matrix([sets[n] for n in obs.index], genes)
    return ad.AnnData(X=X, obs=obs.copy(), var=pd.DataFrame(index=genes.astype(str)))
