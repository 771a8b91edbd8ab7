"""Signature libraries: in memory (AnnData, optionally with precomputed ranks) or on disk (HDF5).

Two on-disk layouts exist. Format 1 (``layout="signature_major"``, the default, this module)
stores signatures as rows; every query reads every gene. Format 2 (``layout="gene_major"``,
:mod:`exprlab.match._genemajor`) stores each gene's run of a block of signatures contiguously
inside a GCTX file, so a rank-based query reads its own genes only. Format 1::

    attrs: format="exprlab-library", version=1, kind ("signatures" | "genesets"), ties
    values   (n_signatures, n_genes) float32, chunked by signature
    rank2    (n_signatures, n_genes) int16/int32, doubled descending ranks (rank 1 = largest)
    genes    (n_genes,) utf-8 strings
    obs/_index and one dataset per obs column (strings or numbers)
    var/_index and one dataset per gene metadata column      (optional; e.g. clue.io geneinfo)
    sum, sumsq (n_signatures,) float64 sum and sum of squares of each signature (optional)

The optional datasets were added without changing the version: a library written before them
still opens (no gene metadata; the sums are computed when first needed and kept in memory).

Ranks are computed once when the library is built, so rank-based scoring (KS, WTCS, XSum...)
only gathers and sorts the query's hits. Scoring streams the file in bounded chunks of
signatures; nothing holds the whole matrix in memory.

A gene-set library (from GMT) stores +1 for a set's up genes and -1 for its down genes. Sets
named ``<name>_up`` and ``<name>_dn`` (or ``_down``) are paired into one signature ``<name>``;
any other set becomes a signature with only up genes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import weakref
from pathlib import Path
from typing import Any, Literal, cast

import h5py
import numpy as np
import pandas as pd
from anndata import AnnData

from exprlab._atomic import atomic_path
from exprlab._outputs import refuse_inputs
from exprlab._progress import track
from exprlab._validation import check_choice, check_count
from exprlab.errors import (
    DuplicateIdError,
    FileAccessError,
    FormatError,
    InputDataError,
    InvalidParameterError,
)
from exprlab.genes import GeneSpace
from exprlab.io import read, read_gctx, read_gmt, read_h5ad
from exprlab.match._finite import check_finite, checked_chunk
from exprlab.match._genemajor import DEFAULT_BLOCK, GeneMajorLibrary, GeneMajorWriter, is_gene_major
from exprlab.match._metadata import Annotation
from exprlab.match._ranks import Ties, check_ties, doubled_ranks, rank_dtype
from exprlab.signatures import signed_set_matrix

logger = logging.getLogger(__name__)

LibraryKind = Literal["signatures", "genesets"]
KINDS: tuple[LibraryKind, ...] = ("signatures", "genesets")
Layout = Literal["gene_major", "signature_major"]
LAYOUTS: tuple[Layout, ...] = ("gene_major", "signature_major")
FORMAT = "exprlab-library"
VERSION = 1
KIND_KEY = "library_kind"


def default_chunk_size(n_genes: int, budget: int = 1 << 25) -> int:
    """Signatures per streamed chunk so one chunk of values holds about ``budget`` numbers."""
    return max(1, budget // max(1, n_genes))


class MemoryLibrary:
    """A library held in memory: values (float32) plus, when prepared, doubled ranks.

    Build with :func:`prepare_library` to precompute ranks once and reuse them across queries;
    a plain AnnData passed to :func:`exprlab.match.score` is wrapped without ranks, which are
    then computed per chunk.

    Parameters
    ----------
    values
        Signatures x genes, float32.
    genes
        Gene identifiers (columns of ``values``), unique.
    obs
        Signature metadata, one row per signature (its index holds the signature ids).
    kind
        ``"signatures"`` (measured values) or ``"genesets"`` (+1 up / -1 down).
    rank2
        Precomputed doubled descending ranks, or None to rank chunk by chunk.
    ties
        The tie rule of ``rank2`` (``"midrank"`` or ``"first"``).
    var
        Gene metadata indexed like ``genes`` (None: ids only).
    """

    def __init__(
        self,
        values: np.ndarray,
        genes,
        obs: pd.DataFrame,
        *,
        kind: LibraryKind = "signatures",
        rank2: np.ndarray | None = None,
        ties: Ties | None = None,
        var: pd.DataFrame | None = None,
    ):
        self.values = values
        self.genes = pd.Index(pd.Index(genes).astype(str))
        self.var = pd.DataFrame(index=self.genes) if var is None else var.set_axis(self.genes, axis=0)
        self.obs = obs
        self._sums: tuple[np.ndarray, np.ndarray] | None = None
        self.kind = kind
        self.rank2 = rank2
        self.ties = ties
        self.checked = False  # set once every value has been checked finite (prepare_library)
        self.keep_ranks = False  # rank the whole library on first need and keep the ranks
        _check_library(self.values.shape, self.genes, self.obs.index, where="library")

    @property
    def n(self) -> int:
        return self.values.shape[0]

    def read(self, start: int, stop: int, *, ranks: bool, ties: str, values: bool = True):
        """Values and (if asked) doubled ranks of signatures ``start:stop`` (values always)."""
        vals = np.ascontiguousarray(self.values[start:stop], dtype=np.float32)
        if not self.checked:
            check_finite(vals, self.obs.index[start:stop], "library")
        r2 = None
        if ranks and self.keep_ranks and (self.rank2 is None or self.ties != ties):
            logger.debug(
                "ranking the in-memory library once (%d x %d); kept for later calls on the same "
                "AnnData (prepare_library(adata) does this explicitly)",
                self.n,
                len(self.genes),
            )
            self.rank2, self.ties = all_ranks(self, cast(Ties, ties)), cast(Ties, ties)
            self.checked = True
        if ranks:
            if self.rank2 is not None and self.ties == ties:
                r2 = self.rank2[start:stop]
            else:
                r2 = doubled_ranks(vals, ties)
        return vals, r2

    def row_stats(self, start: int, stop: int) -> tuple[int, np.ndarray, np.ndarray]:
        """(n_genes, sum, sum of squares) of signatures ``start:stop``, computed once, kept."""
        if self._sums is None:
            self._sums = row_sums(self.values)
        return len(self.genes), self._sums[0][start:stop], self._sums[1][start:stop]


def row_sums(values: np.ndarray, step: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-row sum and sum of squares in float64 (a few rows converted at a time)."""
    n = values.shape[0]
    total, sq = np.empty(n), np.empty(n)
    for lo in range(0, n, step):
        v = np.asarray(values[lo : lo + step], dtype=np.float64)
        total[lo : lo + len(v)] = v.sum(axis=1)
        sq[lo : lo + len(v)] = np.einsum("ij,ij->i", v, v)
    return total, sq


def is_library_file(path) -> bool:
    """Whether ``path`` is an on-disk exprlab library (HDF5 with the format attribute).

    Lets a caller tell a built library (streamed in chunks) from a matrix or GMT file.

    Parameters
    ----------
    path
        The file to test.

    Returns
    -------
    bool
        True for a library written by :func:`build_library` or :class:`LibraryWriter`.
    """
    try:
        with h5py.File(path, "r") as f:
            return f.attrs.get("format") == FORMAT
    except (OSError, TypeError):
        return False


class DiskLibrary:
    """An on-disk library of either layout (see the module docstring); reads chunks on demand.

    Opening reads the genes and the signature metadata only; values and ranks are read chunk
    by chunk while scoring. ``layout`` says which format the file uses; ``gene_major`` holds the
    format-2 reader (None for format 1), which scoring uses to read the query genes only.

    Parameters
    ----------
    path
        A library file written by :func:`build_library` or :class:`LibraryWriter`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise FileAccessError(
                "library file not found", where=self.path, fix="build it with `exprlab library build`"
            )
        try:
            with h5py.File(self.path, "r") as f:
                if f.attrs.get("format") != FORMAT:
                    raise FormatError(
                        "not an exprlab library (attribute format is missing)",
                        where=self.path,
                        fix="build the library with `exprlab library build`",
                    )
                gene_major = is_gene_major(f)
                if not gene_major:
                    self._open_v1(f)
        except OSError as err:
            raise FormatError(
                f"cannot open as HDF5 ({err})",
                where=self.path,
                fix="build the library with `exprlab library build`",
            ) from err
        self.gene_major: GeneMajorLibrary | None = None
        self.layout: Layout = "signature_major"
        if gene_major:
            gm = GeneMajorLibrary(self.path)
            self.gene_major, self.layout = gm, "gene_major"
            self.kind, self.ties, self.genes, self.obs, self.shape = (
                gm.kind,
                gm.ties,
                gm.genes,
                gm.obs,
                gm.shape,
            )
            self.var = gm.var
            self.has_ranks = True

    def _open_v1(self, f: h5py.File) -> None:
        self.kind = str(f.attrs["kind"])
        self.ties = str(f.attrs["ties"])
        self.genes = pd.Index([g.decode() if isinstance(g, bytes) else str(g) for g in f["genes"][:]])
        self.obs = _read_obs(f["obs"])
        self.var = (
            _read_obs(f["var"]).set_axis(self.genes, axis=0) if "var" in f else pd.DataFrame(index=self.genes)
        )
        self.shape = f["values"].shape
        self.has_ranks = "rank2" in f
        self._sums: tuple[np.ndarray, np.ndarray] | None = None
        if "sum" in f and "sumsq" in f:
            self._sums = (f["sum"][:], f["sumsq"][:])

    @property
    def n(self) -> int:
        return self.shape[0]

    def read(self, start: int, stop: int, *, ranks: bool, ties: str, values: bool = True):
        """Values and (if asked) doubled ranks of signatures ``start:stop``.

        Values are checked finite when the library is built, not again here. With
        ``values=False`` and stored ranks of the asked rule, values are not read (None).
        """
        if self.gene_major is not None:
            return self.gene_major.read(start, stop, ranks=ranks, ties=ties, values=values)
        stored = ranks and self.has_ranks and self.ties == ties
        with h5py.File(self.path, "r") as f:
            vals = f["values"][start:stop] if values or not stored else None
            r2 = None
            if stored:
                r2 = f["rank2"][start:stop]
            elif ranks:
                r2 = doubled_ranks(f["values"][start:stop] if vals is None else vals, ties)
        return vals, r2

    def row_stats(self, start: int, stop: int) -> tuple[int, np.ndarray, np.ndarray]:
        """(n_genes, sum, sum of squares) of signatures ``start:stop``.

        Stored at build (format 2, and format-1 libraries written since the sums were added);
        computed in one streamed pass and kept for an older format-1 file.
        """
        if self.gene_major is not None:
            gm = self.gene_major
            return len(self.genes), gm.sums[start:stop], gm.sumsq[start:stop]
        if self._sums is None:
            parts = []
            step = default_chunk_size(len(self.genes))
            with h5py.File(self.path, "r") as f:
                for lo in range(0, self.n, step):
                    parts.append(row_sums(f["values"][lo : lo + step]))
            self._sums = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
        return len(self.genes), self._sums[0][start:stop], self._sums[1][start:stop]


def _check_library(shape, genes: pd.Index, names: pd.Index, where: str) -> None:
    if shape[0] == 0:
        raise InputDataError(
            "the library holds no signatures",
            where=where,
            fix="pass a library with at least one signature",
        )
    if shape[1] == 0:
        raise InputDataError("the library holds no genes", where=where, fix="pass a library with genes")
    if genes.has_duplicates:
        dup = genes[genes.duplicated()].unique()[:5].tolist()
        raise DuplicateIdError(
            f"the library repeats gene(s) {dup}",
            where=where,
            fix="collapse duplicated genes before building the library",
        )


def _kind_of(adata: AnnData) -> LibraryKind:
    """The library kind an AnnData carries in ``uns`` (``"signatures"`` when unmarked)."""
    uns = getattr(adata, "uns", {})
    return cast(LibraryKind, str(uns.get(KIND_KEY, "signatures")))


def _dense(x) -> np.ndarray:
    return x.toarray() if hasattr(x, "toarray") else np.asarray(x)


# In-memory AnnData libraries scored by successive calls: their float32 values, sums and ranks
# are prepared once and kept, keyed on the object's identity and a cheap content fingerprint.
_CACHE: dict[int, tuple[weakref.ref, tuple, MemoryLibrary]] = {}
_CACHE_ENTRIES = 4
CACHE_MAX_VALUES = 1 << 28  # larger libraries are not kept: prepare_library() them explicitly


def _fingerprint(adata: AnnData) -> tuple:
    """Shape, dtype, buffer address, names and a sample of rows of ``adata`` (cheap to compute).

    An in-place change of values outside the sampled rows is not seen: after editing ``X`` in
    place, call :func:`prepare_library` (or pass a copy).
    """
    x = adata.X
    data = getattr(x, "data", x)
    address = data.__array_interface__["data"][0] if isinstance(data, np.ndarray) else id(x)
    rows = np.unique(np.linspace(0, adata.n_obs - 1, num=min(adata.n_obs, 16)).astype(int))
    sample = _dense(x[rows]).astype(np.float32, copy=False)
    digest = hashlib.blake2b(np.ascontiguousarray(sample).tobytes(), digest_size=16).hexdigest()
    names = (tuple(adata.obs_names[[0, -1]]), tuple(adata.var_names[[0, -1]]))
    return (adata.shape, str(getattr(x, "dtype", "")), address, names, digest, _kind_of(adata))


def _memory_library(library: AnnData) -> MemoryLibrary:
    if library.n_obs == 0:
        raise _no_signatures("library")
    x = library.X
    values = x if isinstance(x, np.ndarray) and x.dtype == np.float32 else _dense(x).astype(np.float32)
    return MemoryLibrary(values, library.var_names, _obs_of(library), kind=_kind_of(library), var=library.var)


def _obs_of(library: AnnData) -> pd.DataFrame:
    """The signature metadata of an AnnData library, ids as strings (a shallow copy)."""
    obs = library.obs.copy(deep=False)
    obs.index = obs.index.astype(str)
    return obs


def cached_library(library: AnnData) -> MemoryLibrary:
    """The kept :class:`MemoryLibrary` of an in-memory AnnData (made on first use).

    Ranks are computed on the first rank-based call and kept with it; a library above
    :data:`CACHE_MAX_VALUES` values is wrapped afresh each call (use :func:`prepare_library`).
    """
    if library.n_obs == 0 or library.n_vars == 0 or library.n_obs * library.n_vars > CACHE_MAX_VALUES:
        logger.info(
            "library of %d x %d is ranked at every call; prepare_library(adata) ranks it once",
            library.n_obs,
            library.n_vars,
        )
        return _memory_library(library)
    key = id(library)
    fingerprint = _fingerprint(library)
    hit = _CACHE.get(key)
    obs, var = _obs_of(library), library.var
    if hit is not None and hit[0]() is library and hit[1] == fingerprint:
        kept: MemoryLibrary = hit[2]
        kept.obs = obs  # metadata is read afresh: columns may have been added
        kept.var = var.set_axis(kept.genes, axis=0)
        return kept
    lib = _memory_library(library)
    step = default_chunk_size(lib.values.shape[1])
    for lo in range(0, lib.n, step):  # checked finite once, not at every call
        check_finite(lib.values[lo : lo + step], lib.obs.index[lo : lo + step], "library")
    lib.keep_ranks, lib.checked = True, True
    for old in [k for k, v in _CACHE.items() if v[0]() is None] + list(_CACHE)[: -_CACHE_ENTRIES + 1]:
        _CACHE.pop(old, None)
    _CACHE[key] = (weakref.ref(library, lambda _ref: _CACHE.pop(key, None)), fingerprint, lib)
    return lib


#: library files opened in this process: resolved path -> (the file's identity, the library)
_OPENED: dict[str, tuple[tuple[int, ...], DiskLibrary]] = {}
_OPENED_ENTRIES = 2
_OPENED_LOCK = threading.Lock()


def opened_library(path: str | os.PathLike) -> DiskLibrary | None:
    """The library file at ``path``, opened once per process while the file stays the same.

    Opening reads every signature's id and metadata, its sums and the chunk offsets: 0.03 to
    0.08 s per 100,000 signatures, a sixth to a third of one WTCS query's time, which every
    call of :func:`exprlab.match.score` with the same path would pay again. A file replaced or
    rewritten since (another device, inode, size or modification time) is opened afresh; the
    last ``_OPENED_ENTRIES`` files are kept.

    Parameters
    ----------
    path
        A file.

    Returns
    -------
    DiskLibrary or None
        The library, or None when ``path`` is not an exprlab library file
        (:func:`is_library_file`).
    """
    path = Path(path)
    if not path.is_file():
        return None
    info = path.stat()
    key, identity = str(path.resolve()), (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    with _OPENED_LOCK:  # calls from several threads (a threaded Dask worker) share the table
        hit = _OPENED.get(key)
    if hit is not None and hit[0] == identity:
        library = hit[1]
    elif is_library_file(path):
        library = DiskLibrary(path)  # opened outside the lock: other paths need not wait for it
    else:
        return None
    with _OPENED_LOCK:
        _OPENED.pop(key, None)
        while len(_OPENED) >= _OPENED_ENTRIES:
            _OPENED.pop(next(iter(_OPENED)))  # the least recently used
        _OPENED[key] = (identity, library)
    return library


def _library_from_path(path: Path):
    """An on-disk library as is; GMT as a gene-set library; any matrix file read whole."""
    library = opened_library(path)
    if library is not None:
        return library
    if not path.exists():
        raise FileAccessError("library file not found", where=path, fix="check the path")
    if path.name.lower().endswith((".gmt", ".gmt.gz", ".gmt.xz")):
        return _memory_library(genesets_to_library(read_gmt(path)))
    return _memory_library(read(path))


def as_source(library, *, ties: str = "midrank"):
    """Turn what :func:`exprlab.match.score` accepts as a library into a chunk source."""
    if isinstance(library, (MemoryLibrary, DiskLibrary)):
        return library
    if isinstance(library, (str, os.PathLike)):
        return _library_from_path(Path(library))
    if isinstance(library, AnnData):
        return cached_library(library)
    raise InvalidParameterError(
        f"a library of type {type(library).__name__} is not supported",
        where="library",
        fix="pass an AnnData, a prepared library (prepare_library) or a library / GCTX / h5ad / GMT path",
    )


def prepare_library(
    library: AnnData, *, ties: Ties = "midrank", chunk_size: int | None = None
) -> MemoryLibrary:
    """Precompute the doubled ranks of an in-memory library once, for repeated fast scoring.

    The rank matrix is int16 for up to 16,383 genes (2 bytes per value); ranks are computed in
    chunks so the temporary argsort never holds more than one chunk.

    Parameters
    ----------
    library
        AnnData, obs = signatures, var = genes.
    ties
        Rule for tied values: ``"midrank"`` (average rank) or ``"first"`` (gene order).
    chunk_size
        Signatures ranked at a time (default: about 16 million values per chunk).

    Returns
    -------
    MemoryLibrary
        The library with its ranks, to pass to :func:`score` as ``library``.
    """
    check_ties(ties)
    check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
    src = _memory_library(library) if isinstance(library, AnnData) else as_source(library)
    if not isinstance(src, MemoryLibrary):
        raise InvalidParameterError(
            "prepare_library takes an in-memory library",
            where="library",
            fix="pass an AnnData; an on-disk library already stores its ranks",
        )
    src.rank2, src.ties, src.checked = all_ranks(src, ties, chunk_size), ties, True
    return src


def all_ranks(src: MemoryLibrary, ties: Ties, chunk_size: int | None = None) -> np.ndarray:
    """Doubled ranks of every signature of ``src``, computed chunk by chunk (values checked finite)."""
    n, g = src.values.shape
    step = chunk_size or default_chunk_size(g, 1 << 24)
    rank2 = np.empty((n, g), dtype=rank_dtype(g))
    src.keep_ranks, keep = False, src.keep_ranks
    for start in track(range(0, n, step), "ranking library", total=-(-n // step)):
        vals, _ = src.read(start, min(n, start + step), ranks=False, ties=ties)
        rank2[start : start + len(vals)] = doubled_ranks(vals, ties)
    src.keep_ranks = keep
    return rank2


def genesets_to_library(sets: dict[str, list[str]]) -> AnnData:
    """A gene-set library (+1 up / -1 down) from GMT sets, to score queries against gene sets.

    Sets named ``<name>_up`` and ``<name>_dn`` (or ``_down``) are paired into one signature
    ``<name>`` (:func:`split_up_down`); any other set becomes a signature with only up genes.
    A gene in both sets of a pair counts as down.

    Parameters
    ----------
    sets
        Set name -> genes, as :func:`exprlab.io.read_gmt` returns them.

    Returns
    -------
    anndata.AnnData
        Signatures x genes (genes in first-seen order), float32; ``uns`` marks it a gene-set
        library.
    """
    if not sets:
        raise InputDataError("the gene-set collection is empty", where="library", fix="pass at least one set")
    pairs = split_up_down(sets)
    genes = list(dict.fromkeys(g for u, d in pairs.values() for g in list(u) + list(d)))
    signed = [_down_wins(u, d) for u, d in pairs.values()]
    x = signed_set_matrix(signed, pd.Index(genes, dtype=object), dtype=np.float32).toarray()
    out = AnnData(x, obs=pd.DataFrame(index=list(pairs)), var=pd.DataFrame(index=genes))
    out.uns[KIND_KEY] = "genesets"
    return out


def _down_wins(up: list[str], down: list[str]) -> tuple[list[str], list[str]]:
    """The pair with genes of both sets kept in the down set only."""
    both = set(up) & set(down)
    return ([g for g in up if g not in both] if both else up), down


_UP = ("_up",)
_DOWN = ("_dn", "_down")


def split_up_down(sets: dict[str, list[str]]) -> dict[str, tuple[list[str], list[str]]]:
    """Pair GMT sets named ``<name>_up`` / ``<name>_dn`` (or ``_down``) into (up, down) pairs.

    Matching of the suffix ignores case. A set without such a suffix becomes (genes, []).

    Parameters
    ----------
    sets
        Set name -> genes, as :func:`exprlab.io.read_gmt` returns them.

    Returns
    -------
    dict
        Base name -> (up genes, down genes), each without repeats, in first-seen order.
    """
    out: dict[str, tuple[list[str], list[str]]] = {}
    for name, genes in sets.items():
        low = name.lower()
        base, direction = name, "up"
        for suf in _UP:
            if low.endswith(suf):
                base, direction = name[: -len(suf)], "up"
        for suf in _DOWN:
            if low.endswith(suf):
                base, direction = name[: -len(suf)], "down"
        u, d = out.get(base, ([], []))
        if direction == "up":
            u = list(dict.fromkeys(u + [str(g) for g in genes]))
        else:
            d = list(dict.fromkeys(d + [str(g) for g in genes]))
        out[base] = (u, d)
    return out


def _write_obs(group: h5py.Group, obs: pd.DataFrame) -> None:
    group.create_dataset(
        "_index", data=np.asarray(obs.index.astype(str), dtype=object), dtype=h5py.string_dtype()
    )
    order = []
    for col in obs.columns:
        s = obs[col]
        key = str(col).replace("/", "_")
        order.append(key)
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            group.create_dataset(key, data=s.to_numpy(dtype=np.float64))
        else:
            group.create_dataset(key, data=np.asarray(s.astype(str), dtype=object), dtype=h5py.string_dtype())
    group.attrs["columns"] = json.dumps(order)


def _read_obs(group: h5py.Group) -> pd.DataFrame:
    index = [v.decode() if isinstance(v, bytes) else str(v) for v in group["_index"][:]]
    cols = {}
    for key in json.loads(group.attrs.get("columns", "[]")):
        data = group[key][:]
        if data.dtype.kind in "OS":
            data = [v.decode() if isinstance(v, bytes) else str(v) for v in data]
        cols[key] = data
    return pd.DataFrame(cols, index=pd.Index(index))


class LibraryWriter:
    """Write an on-disk library chunk by chunk (atomically: the file appears when closed).

    Use as a context manager; :meth:`append` ranks each chunk as it arrives, so a library larger
    than memory can be written from a generator of chunks.

    Parameters
    ----------
    path
        The library file to write (HDF5).
    genes
        Gene identifiers (columns of every chunk), unique.
    ties
        Rule for tied values in the stored ranks: ``"midrank"`` or ``"first"``.
    kind
        ``"signatures"`` (measured values) or ``"genesets"`` (+1 up / -1 down).
    chunk_size
        Signatures per HDF5 storage chunk (default: about 256 thousand values per chunk).
    var
        Gene metadata indexed like ``genes`` (stored in the ``var`` group); None for ids only.
    """

    def __init__(
        self,
        path,
        genes,
        *,
        ties: Ties = "midrank",
        kind: LibraryKind = "signatures",
        chunk_size: int | None = None,
        var: pd.DataFrame | None = None,
    ):
        self.path = Path(path)
        self.genes = pd.Index(pd.Index(genes).astype(str))
        if self.genes.has_duplicates:
            dup = self.genes[self.genes.duplicated()].unique()[:5].tolist()
            raise DuplicateIdError(
                f"the library repeats gene(s) {dup}",
                where=self.path,
                fix="collapse duplicated genes before building the library",
            )
        self.ties = check_ties(ties)
        self.kind = check_choice(kind, "kind", KINDS)
        check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
        g = len(self.genes)
        self.chunk_size = chunk_size or max(1, (1 << 18) // max(1, g))
        self._obs: list[pd.DataFrame] = []
        self._sums: list[tuple[np.ndarray, np.ndarray]] = []
        self._n = 0
        self._ctx = atomic_path(self.path)
        self._tmp = self._ctx.__enter__()
        self._file = h5py.File(self._tmp, "w")
        self._file.attrs.update(format=FORMAT, version=VERSION, kind=kind, ties=ties)
        self._file.create_dataset(
            "genes", data=np.asarray(self.genes, dtype=object), dtype=h5py.string_dtype()
        )
        if var is not None and len(var.columns):
            _write_obs(self._file.create_group("var"), var.set_axis(self.genes, axis=0))
        rows = (self.chunk_size, g)
        self._values = self._file.create_dataset(
            "values", shape=(0, g), maxshape=(None, g), dtype=np.float32, chunks=rows
        )
        self._rank2 = self._file.create_dataset(
            "rank2", shape=(0, g), maxshape=(None, g), dtype=rank_dtype(g), chunks=rows
        )

    def append(self, values: np.ndarray, obs: pd.DataFrame, rank2: np.ndarray | None = None) -> None:
        """Add signatures (rows of ``values``, metadata ``obs`` with the signature ids as index).

        ``rank2``: their doubled ranks under this writer's tie rule when already known (a
        library being converted); computed here otherwise.
        """
        values = checked_chunk(values, obs, len(self.genes), self.path)
        n0, n1 = self._n, self._n + len(values)
        self._values.resize(n1, axis=0)
        self._rank2.resize(n1, axis=0)
        self._values[n0:n1] = values
        self._rank2[n0:n1] = doubled_ranks(values, self.ties) if rank2 is None else rank2
        self._sums.append(row_sums(values))
        self._obs.append(obs)
        self._n = n1

    def close(self, error: BaseException | None = None) -> None:
        """Finish the file (write obs, rename into place), or discard it on ``error``."""
        try:
            if error is None:
                obs = pd.concat(self._obs) if self._obs else pd.DataFrame()
                if self._n == 0:
                    raise InputDataError(
                        "the library holds no signatures",
                        where=self.path,
                        fix="build from a source with at least one signature",
                    )
                if obs.index.has_duplicates:
                    dup = obs.index[obs.index.duplicated()].unique()[:5].tolist()
                    raise DuplicateIdError(
                        f"signature ids repeat: {dup}", where=self.path, fix="make the signature ids unique"
                    )
                _write_obs(self._file.create_group("obs"), obs)
                self._file.create_dataset("sum", data=np.concatenate([t for t, _ in self._sums]))
                self._file.create_dataset("sumsq", data=np.concatenate([q for _, q in self._sums]))
        except BaseException as err:
            error = err
            raise
        finally:
            try:
                self._file.close()
            except BaseException as err:  # closing fails on a full disk: the file is discarded
                error = error or err
                raise
            finally:
                if error is None:
                    self._ctx.__exit__(None, None, None)
                else:
                    self._ctx.__exit__(type(error), error, error.__traceback__)

    def __enter__(self) -> LibraryWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


def build_library(
    source,
    out: str | os.PathLike,
    *,
    ties: Ties = "midrank",
    chunk_size: int | None = None,
    layout: Layout = "signature_major",
    siginfo=None,
    geneinfo=None,
    gene_space: GeneSpace = "full",
) -> Path:
    """Write an on-disk library from an AnnData, gene sets (dict), a file or another library.

    The library stores values and precomputed ranks, so scoring never ranks it again. The source
    is streamed in blocks of signatures, so memory stays bounded whatever the library's size.
    ``layout="gene_major"`` (format 2, a GCTX file with extra datasets) lets a query read its own
    genes only: much faster for KS, WTCS, XSum, XCos and gene-set cosine/Pearson, while methods
    that need whole signatures (overlap, Spearman, full-signature cosine) read it more slowly than
    ``"signature_major"`` (format 1, rows of signatures, read whole by every query), which stays
    the default. Both are described in docs/user-guide-scoring.md, "On-disk library format".

    Parameters
    ----------
    source
        AnnData (obs = signatures), gene sets (name -> genes) or a file: an exprlab library of
        either format (converted, e.g. format 1 to format 2), ``.gmt`` (gene-set library; see
        :func:`genesets_to_library` for the up/down pairing), ``.gctx`` (streamed by signature
        blocks), ``.h5ad`` (opened backed, streamed) or anything else :func:`exprlab.io.read`
        reads.
    out
        The library file to write (HDF5).
    ties
        Rule for tied values in the stored ranks: ``"midrank"`` or ``"first"``.
    chunk_size
        Signatures read and ranked at a time (default: about 32 million values per chunk); for
        the gene-major layout also the signatures per stored chunk (default 16,384).
    layout
        ``"signature_major"`` (default) or ``"gene_major"``.
    siginfo
        clue.io signature table (path or DataFrame indexed by ``sig_id``): its columns are
        joined to the signatures' metadata by signature id (refused when it names none).
    geneinfo
        clue.io gene table (path or DataFrame indexed by ``gene_id``): its columns become the
        library's gene metadata; the source of ``feature_space`` for ``gene_space``.
    gene_space
        ``"full"`` (every gene, default), ``"bing"`` (landmark + best inferred) or
        ``"landmark"``: the library keeps these genes only, and ranks them among themselves.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    check_ties(ties)
    check_count(chunk_size, "chunk_size", minimum=1, allow_none=True)  # type: ignore[arg-type]
    refuse_inputs(out, [source])
    check_choice(layout, "layout", LAYOUTS)
    ann = Annotation(siginfo, geneinfo, gene_space)
    opts: dict[str, Any] = dict(ties=ties, chunk_size=chunk_size, layout=layout, ann=ann)
    return _build_from(source, out, opts)


def _build_from(source, out, opts: dict[str, Any]) -> Path:
    """Dispatch :func:`build_library` on the kind of ``source``."""
    if isinstance(source, dict):
        source = genesets_to_library(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = path.name.lower()
        if is_library_file(path):
            return _build_from_library(DiskLibrary(path), out, **opts)
        if name.endswith(".gmt") or name.endswith(".gmt.gz") or name.endswith(".gmt.xz"):
            source = genesets_to_library(read_gmt(path))
        elif name.endswith(".gctx"):
            return _build_from_gctx(path, out, **opts)
        elif name.endswith(".h5ad"):
            backed = read_h5ad(path, backed="r")
            try:
                return _build_from_anndata(backed, out, **opts)
            finally:
                backed.file.close()
        else:
            source = read(path)
    if not isinstance(source, AnnData):
        raise InvalidParameterError(
            f"cannot build a library from {type(source).__name__}",
            where="source",
            fix="pass an AnnData, a dict of gene sets or a GCTX/h5ad/GMT/GCT file",
        )
    return _build_from_anndata(source, out, **opts)


def _writer(out, genes, n: int, *, ties: Ties, kind: str, chunk_size: int | None, layout: str, var=None):
    """The writer of ``layout`` for ``n`` signatures over ``genes``."""
    if layout == "signature_major":
        return LibraryWriter(out, genes, ties=ties, kind=cast(LibraryKind, kind), var=var)
    block = chunk_size or min(DEFAULT_BLOCK, n)
    return GeneMajorWriter(out, genes, ties=ties, kind=kind, block=block, var=var)


def _no_signatures(where) -> InputDataError:
    return InputDataError(
        "the library holds no signatures", where=where, fix="pass a library with at least one signature"
    )


def _columns(values: np.ndarray, cols: np.ndarray | None) -> np.ndarray:
    """The kept columns of a block (all of them when ``cols`` is None)."""
    return values if cols is None else np.ascontiguousarray(values[:, cols])


def _build_from_anndata(
    adata: AnnData, out, *, ties: Ties, chunk_size: int | None, layout: str, ann: Annotation
) -> Path:
    if adata.n_obs == 0:
        raise _no_signatures("source")
    step = chunk_size or default_chunk_size(adata.n_vars)
    obs = adata.obs.copy()
    obs.index = obs.index.astype(str)
    kind = _kind_of(adata)
    genes, cols = ann.genes(adata.var_names)
    var = ann.var(genes)
    with _writer(
        out, genes, adata.n_obs, ties=ties, kind=kind, chunk_size=chunk_size, layout=layout, var=var
    ) as w:
        for start in track(range(0, adata.n_obs, step), "building library", total=-(-adata.n_obs // step)):
            stop = min(adata.n_obs, start + step)
            w.append(_columns(_dense(adata.X[start:stop]), cols), ann.obs(obs.iloc[start:stop]))
        ann.check_joined("siginfo")
    return Path(out)


def _build_from_library(
    lib: DiskLibrary, out, *, ties: Ties, chunk_size: int | None, layout: str, ann: Annotation
) -> Path:
    step = chunk_size or default_chunk_size(len(lib.genes))
    genes, cols = ann.genes(lib.genes)
    var = (
        ann.var(genes)
        if ann.geneinfo is not None
        else lib.var.iloc[cols if cols is not None else slice(None)]
    )
    with _writer(
        out, genes, lib.n, ties=ties, kind=lib.kind, chunk_size=chunk_size, layout=layout, var=var
    ) as w:
        for start in track(range(0, lib.n, step), "building library", total=-(-lib.n // step)):
            stop = min(lib.n, start + step)
            # stored ranks of the same rule over the same genes are not ranked again
            reuse = lib.has_ranks and lib.ties == ties and cols is None
            vals, r2 = lib.read(start, stop, ranks=reuse, ties=ties)
            w.append(_columns(vals, cols), ann.obs(lib.obs.iloc[start:stop]), rank2=r2)
        ann.check_joined("siginfo")
    return Path(out)


def _build_from_gctx(
    path: Path, out, *, ties: Ties, chunk_size: int | None, layout: str, ann: Annotation
) -> Path:
    head = read_gctx(path, ridx=[0])  # every signature's metadata, one gene
    n = head.n_obs
    if n == 0:
        raise _no_signatures(path)
    first = read_gctx(path, cidx=[0])
    genes, _ = ann.genes(first.var_names)
    var = ann.var(genes)
    step = chunk_size or default_chunk_size(len(genes))
    with _writer(
        out, genes, n, ties=ties, kind="signatures", chunk_size=chunk_size, layout=layout, var=var
    ) as w:
        for start in track(range(0, n, step), "building library", total=-(-n // step)):
            block = read_gctx(path, cidx=list(range(start, min(n, start + step))))
            block = block[:, genes]
            obs = block.obs.copy()
            obs.index = obs.index.astype(str)
            w.append(_dense(block.X), ann.obs(obs))
        ann.check_joined("siginfo")
    return Path(out)
