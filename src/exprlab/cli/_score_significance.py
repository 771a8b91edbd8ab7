"""The significance and reference-tau options of ``exprlab score`` (tidy tables with p-values)."""

from __future__ import annotations

from exprlab._validation import check_choice
from exprlab.errors import InvalidParameterError

SIGNIFICANCE_METHODS = ("ks", "ks_raw", "wtcs", "xsum")


def significance_table(q, lib, method: str, n_permutations: int, null: str, seed: int, kwargs: dict):
    """The tidy score table of ``exprlab score --n-permutations`` (``pvalue`` and ``fdr`` columns)."""
    # deferred: the engine is imported only when the command runs, so `exprlab --help` stays fast
    from exprlab.match import significance

    check_choice(method, "--method", SIGNIFICANCE_METHODS)
    kept = {k: kwargs[k] for k in ("up", "down", "ties", "chunk_size", "top") if k in kwargs}
    res = significance(q, lib, method, n_permutations=n_permutations, seed=seed, null=null, **kept)  # type: ignore[arg-type]
    table = res.long()
    table.attrs["query_report"] = res.info["query_report"]
    return table


def reference_tau_table(q, lib, kwargs: dict):
    """The tidy table of ``exprlab score --method tau --tau-background library``."""
    # deferred: the engine is imported only when the command runs, so `exprlab --help` stays fast
    from exprlab.match import tau_reference

    kept = {
        k: kwargs[k]
        for k in ("up", "down", "ties", "chunk_size", "seed", "n_background", "group_by")
        if k in kwargs
    }
    wide = tau_reference(q, lib, **kept)
    long = wide.stack().rename("score").reset_index()
    long["rank"] = long.groupby("query")["score"].rank(ascending=False, method="min").astype(int)
    long.attrs["query_report"] = wide.attrs.get("query_report", {})
    return long


def tested_table(q, lib, method, n_permutations, null, seed, tau_background, reshaped, kwargs):
    """The tidy table of ``score --n-permutations`` or of ``--tau-background library``."""
    if reshaped:
        raise InvalidParameterError(
            "--n-permutations and --tau-background library write the tidy table only",
            where="command line",
            fix="drop --wide / --aggregate (or summarise with `exprlab search`)",
        )
    if n_permutations is not None:
        return significance_table(q, lib, method, n_permutations, null, seed, kwargs)
    return reference_tau_table(q, lib, kwargs)


def with_parsed_ids(lib, pattern: str | None):
    """The in-memory library with metadata parsed from its ids (``score --parse-ids``)."""
    if pattern is None:
        return lib
    from exprlab.workflows import library_metadata  # deferred: keeps `exprlab --help` fast

    if not hasattr(lib, "obs_names"):  # an on-disk library path or a prepared library
        raise InvalidParameterError(
            "--parse-ids needs a library read into memory, not an on-disk library",
            where="--parse-ids",
            fix="store the metadata when building the library, or pass the signature matrix file",
        )
    lib = lib.copy()
    lib.obs = library_metadata(lib, pattern).reindex(lib.obs_names.astype(str))
    return lib
