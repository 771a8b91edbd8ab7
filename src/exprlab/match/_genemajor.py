"""On-disk library format 2: gene-major blocks inside a GCTX file.

A rank-based query (KS, WTCS, XSum, XCos) reads the ranks and values of its own ~300 genes
only, not the 12,328 of every signature. Format 1 stores each signature's row contiguously, so a
query reads the whole file; format 2 stores each gene's values for a block of signatures
contiguously, so a query reads its genes' runs and nothing else (docs/methods.md §1 for the
scores; the layout is documented in docs/user-guide-scoring.md, "On-disk library format").

Layout (one HDF5 file, a GCTX file that cmapPy, cmapR and Morpheus open as usual)::

    attrs: version="GCTX1.0", format="exprlab-library", library_version=2, kind, ties, block
    /0/DATA/0/matrix       (n_signatures, n_genes) float32, HDF5 chunks (block, 1), uncompressed
    /0/META/ROW/id         gene ids; /0/META/ROW/<field> gene metadata (e.g. clue.io geneinfo)
    /0/META/COL/id         signature ids; /0/META/COL/<field> one dataset per metadata column
    /exprlab/rank2         (n_signatures, n_genes) doubled descending ranks, int16 (int32 above
                           16,383 genes), chunks (block, 1)
    /exprlab/sum, /exprlab/sumsq
                           (n_signatures,) float64 sum and sum of squares of each signature
                           over all genes (what gene-set cosine/Pearson need beyond the set)
    /exprlab/offsets/matrix, /exprlab/offsets/rank2
                           (n_blocks, n_genes) int64 file offset of each chunk
    /exprlab/ids           (n_signatures,) fixed-width bytes: the signature ids again, for a fast
                           open (optional: written when every id is ASCII)

A chunk holds ``block`` consecutive signatures of one gene, stored raw, so the reader fetches a
gene's run with one ``pread`` at the recorded offset (the offsets are checked against the HDF5
index when the file is opened and recomputed if a tool rewrote the file). Values are checked
finite once, when the library is built.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h5py
import numba
import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab._validation import check_choice, check_count
from exprlab.errors import DuplicateIdError, FileAccessError, FormatError, InputDataError
from exprlab.match._finite import checked_chunk
from exprlab.match._ranks import Ties, check_ties, doubled_ranks, rank_dtype

FORMAT = "exprlab-library"
LIBRARY_VERSION = 2
GCTX_VERSION = "GCTX1.0"
MATRIX = "0/DATA/0/matrix"
ROW_META = "0/META/ROW"
COL_META = "0/META/COL"
RANKS = "exprlab/rank2"
SUMS = "exprlab/sum"
SUMSQ = "exprlab/sumsq"
OFFSETS = "exprlab/offsets"
PLAIN_IDS = "exprlab/ids"
DEFAULT_BLOCK = 16384  # signatures per chunk: 96 kB per gene read (values and ranks) in one request
WHOLE_ROWS = 8192  # signatures per block when whole signatures are read (bounds that path's memory)
_ADVISE_GAP = 1 << 18  # bytes of a gap read along rather than split a read-ahead request
_GENE_GROUP = 512  # genes transposed at a time while writing (bounds the temporary)


def _strings(group: h5py.Group, name: str, values) -> None:
    group.create_dataset(name, data=np.asarray(values, dtype=object), dtype=h5py.string_dtype())


def _strings_of(dset: h5py.Dataset) -> np.ndarray:
    """A string dataset as an array of str (decoded by h5py in one call)."""
    return dset.asstr()[()]


def write_obs(group: h5py.Group, obs: pd.DataFrame) -> None:
    """Signature ids and metadata as GCTX column metadata (ids in ``id``, one field per column)."""
    _strings(group, "id", obs.index.astype(str))
    keys = []
    for col in obs.columns:
        s = obs[col]
        key = str(col).replace("/", "_")
        key = "_id" if key == "id" else key
        keys.append([key, str(col)])
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            group.create_dataset(key, data=s.to_numpy(dtype=np.float64))
        else:
            _strings(group, key, s.astype(str))
    group.attrs["exprlab_columns"] = json.dumps(keys)


def read_obs(group: h5py.Group, ids: h5py.Dataset | None = None) -> pd.DataFrame:
    """The signature metadata written by :func:`write_obs`.

    ``ids``: the fixed-width copy of the ids (:func:`write_plain_ids`), read instead of the
    group's ``id`` when given and of the same length.
    """
    cols = {}
    for key, name in json.loads(group.attrs.get("exprlab_columns", "[]")):
        dset = group[key]
        cols[name] = _strings_of(dset) if dset.dtype.kind in "OS" else dset[()]
    if ids is not None and ids.shape == group["id"].shape:
        index = pd.Index(ids[()].astype(str).astype(object))
    else:
        index = pd.Index(_strings_of(group["id"]))
    return pd.DataFrame(cols, index=index)


def write_plain_ids(file: h5py.File, ids: pd.Index) -> None:
    """A fixed-width ASCII copy of the signature ids, when every id is ASCII.

    GCTX stores ids as variable-length strings, which HDF5 hands over one object at a time:
    40 to 50 ms per 100,000 ids against about 15 ms for the fixed-width copy, a good part of
    the time to open a large library for one query.
    """
    text = ids.astype(str)
    if not len(text) or not all(x.isascii() for x in text):
        return
    file.create_dataset(PLAIN_IDS, data=np.array(text, dtype=bytes))


def _gene_frame(genes: pd.Index, var: pd.DataFrame | None) -> pd.DataFrame:
    """Gene metadata indexed by ``genes`` (an empty frame when there is none)."""
    if var is None:
        return pd.DataFrame(index=genes)
    return var.set_axis(genes, axis=0)


def is_gene_major(f: h5py.File) -> bool:
    """Whether an open exprlab library file uses format 2 (this module)."""
    return int(f.attrs.get("library_version", 1)) == LIBRARY_VERSION


class GeneMajorWriter:
    """Write a format-2 library signature block by signature block (atomically, on close).

    Incoming rows are buffered until ``block`` signatures are held, then ranked (a few rows at a
    time), and every gene's run of the block is written as one raw HDF5 chunk. Memory: the
    buffer, ``block`` x n_genes x 6 bytes (1.2 GB for 16,384 x 12,328), plus small temporaries.
    Ranks are computed as rows arrive, a few rows at a time.

    Parameters
    ----------
    path
        The library file to write.
    genes
        Gene identifiers (columns of every appended block), unique.
    ties
        Rule for tied values in the stored ranks: ``"midrank"`` or ``"first"``.
    kind
        ``"signatures"`` or ``"genesets"``.
    block
        Signatures per chunk (default 16,384): a query reads each of its genes' chunks, value
        and rank side by side, in one request of ``block`` x 6 bytes (96 kB), large enough
        for a disk to serve near its sequential rate with a few requests in flight.
    var
        Gene metadata (index = ``genes``), stored as GCTX row metadata; None for ids only.
    """

    def __init__(
        self,
        path,
        genes,
        *,
        ties: Ties = "midrank",
        kind: str = "signatures",
        block: int | None = None,
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
        self.kind = check_choice(kind, "kind", ("signatures", "genesets"))
        self.block = check_count(block or DEFAULT_BLOCK, "chunk_size", minimum=1)
        g = len(self.genes)
        self._vals = np.zeros((self.block, g), dtype=np.float32)
        self._rank_buf = np.zeros((self.block, g), dtype=rank_dtype(g))
        self._fill = 0
        self._n = 0
        self._obs: list[pd.DataFrame] = []
        self._sums: list[np.ndarray] = []
        self._ctx = atomic_path(self.path)
        self._file = h5py.File(self._ctx.__enter__(), "w")
        self._file.attrs.update(
            version=GCTX_VERSION,
            format=FORMAT,
            library_version=LIBRARY_VERSION,
            kind=self.kind,
            ties=self.ties,
            block=self.block,
        )
        write_obs(self._file.require_group(ROW_META), _gene_frame(self.genes, var))
        opts = dict(shape=(0, g), maxshape=(None, g), chunks=(self.block, 1))
        self._matrix = self._file.create_dataset(MATRIX, dtype=np.float32, **opts)
        self._ranks = self._file.create_dataset(RANKS, dtype=rank_dtype(g), **opts)

    def append(self, values: np.ndarray, obs: pd.DataFrame, rank2: np.ndarray | None = None) -> None:
        """Add signatures (rows of ``values``; ``obs`` holds their ids as index and metadata).

        ``rank2``: their doubled ranks under this writer's tie rule when already known (a
        library being converted); computed here otherwise.
        """
        values = checked_chunk(values, obs, len(self.genes), self.path)
        if rank2 is None:
            rank2 = doubled_ranks(values, self.ties)
        self._obs.append(obs)
        start = 0
        while start < len(values):
            take = min(len(values) - start, self.block - self._fill)
            self._vals[self._fill : self._fill + take] = values[start : start + take]
            self._rank_buf[self._fill : self._fill + take] = rank2[start : start + take]
            self._fill += take
            start += take
            if self._fill == self.block:
                self._flush()

    def _flush(self) -> None:
        """Write the buffered signatures: one chunk per gene, plus their sums."""
        m = self._fill
        if m == 0:
            return
        for lo in range(0, m, 256):  # float64 copies of a few rows at a time
            v64 = self._vals[lo : min(m, lo + 256)].astype(np.float64)
            self._sums.append(np.stack([v64.sum(axis=1), (v64 * v64).sum(axis=1)]))
        if m < self.block:
            self._vals[m:] = 0.0
            self._rank_buf[m:] = 0
        row0 = self._n
        self._n += m
        self._matrix.resize(self._n, axis=0)
        self._ranks.resize(self._n, axis=0)
        write_value, write_rank = self._matrix.id.write_direct_chunk, self._ranks.id.write_direct_chunk
        for j0 in range(0, self._vals.shape[1], _GENE_GROUP):
            cols = slice(j0, j0 + _GENE_GROUP)
            vruns = np.ascontiguousarray(self._vals[:, cols].T)
            rruns = np.ascontiguousarray(self._rank_buf[:, cols].T)
            for j in range(vruns.shape[0]):  # a gene's value chunk, then its rank chunk: side by side
                write_value((row0, j0 + j), vruns[j])
                write_rank((row0, j0 + j), rruns[j])
        self._fill = 0

    def close(self, error: BaseException | None = None) -> None:
        """Finish the file (obs, sums, chunk offsets; rename into place), or discard it on ``error``."""
        try:
            if error is None:
                self._finish()
        except BaseException as err:
            error = err
            raise
        finally:
            self._file.close()
            if error is None:
                self._ctx.__exit__(None, None, None)
            else:
                self._ctx.__exit__(type(error), error, error.__traceback__)

    def _finish(self) -> None:
        self._flush()
        if self._n == 0:
            raise InputDataError(
                "the library holds no signatures",
                where=self.path,
                fix="build from a source with at least one signature",
            )
        obs = pd.concat(self._obs)
        if obs.index.has_duplicates:
            dup = obs.index[obs.index.duplicated()].unique()[:5].tolist()
            raise DuplicateIdError(
                f"signature ids repeat: {dup}", where=self.path, fix="make the signature ids unique"
            )
        write_obs(self._file.require_group(COL_META), obs)
        write_plain_ids(self._file, obs.index)
        sums = np.concatenate(self._sums, axis=1)
        self._file.create_dataset(SUMS, data=sums[0])
        self._file.create_dataset(SUMSQ, data=sums[1])
        for name, dset in (("matrix", self._matrix), ("rank2", self._ranks)):
            self._file.create_dataset(f"{OFFSETS}/{name}", data=chunk_offsets(dset, self.block, self.path))

    def __enter__(self) -> GeneMajorWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(exc)


def chunk_offsets(dset: h5py.Dataset, block: int, where) -> np.ndarray:
    """File offset of every (block of signatures, gene) chunk of ``dset``, from the HDF5 index.

    Refuses chunks that are filtered (compressed) or missing: the reader needs raw runs.
    """
    n, g = dset.shape
    offsets = np.full((-(-n // block), g), -1, dtype=np.int64)
    size = block * dset.dtype.itemsize
    bad: list[tuple] = []

    def visit(info) -> None:
        if info.filter_mask != 0 or info.size != size:
            bad.append(info.chunk_offset)
        offsets[info.chunk_offset[0] // block, info.chunk_offset[1]] = info.byte_offset

    dset.id.chunk_iter(visit)
    if bad or (offsets < 0).any():
        raise FormatError(
            f"the library's {dset.name} is compressed, rechunked or incomplete",
            where=where,
            fix="rebuild it with `exprlab library build`",
        )
    return offsets


@numba.njit(nogil=True, cache=True)
def _transpose_into(src, dst):  # pragma: no cover - compiled
    """``dst[:] = src.T`` by tiles of 512 rows x 128 columns of ``src``.

    Each row of a tile is read contiguously (128 values: two to eight cache lines) and the
    tile's part of ``dst`` (128 rows of up to 512 values, 256 kB at most) stays in the cache
    while it is filled.
    """
    n, m = src.shape
    for i0 in range(0, n, 512):
        i1 = min(n, i0 + 512)
        for j0 in range(0, m, 128):
            j1 = min(m, j0 + 128)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    dst[j, i] = src[i, j]


def transposed(runs: np.ndarray) -> np.ndarray:
    """Gene-major runs (genes x signatures) as a C-contiguous signatures x genes array.

    A tiled copy, two to five times faster than numpy's ``runs.T.copy()`` on the blocks read
    (300 genes x 65,536 signatures, 12,328 genes x 4,096 signatures).
    """
    out = np.empty((runs.shape[1], runs.shape[0]), dtype=runs.dtype)
    src = runs if runs.strides[1] == runs.itemsize else np.ascontiguousarray(runs)  # rows may be a slice
    _transpose_into(src, out)
    return out


class BlockBuffers:
    """Memory for the arrays of a block read, kept and handed out again for the next block.

    Fresh memory costs a page fault per 4 kB page the first time it is written: for the runs of
    a query's 300 genes that is most of the time of the read itself (a 100,000-signature pass
    reads in 0.04 s into memory already touched, 0.14 to 0.6 s into new arrays). A scorer
    reading block after block gives each read the buffers of the block before the last, whose
    scoring is over.
    """

    def __init__(self) -> None:
        self._flat: dict[str, np.ndarray] = {}

    def take(self, key: str, shape: tuple[int, int], dtype) -> np.ndarray:
        """A C-contiguous ``shape`` array of ``dtype`` over the memory kept under ``key``.

        The memory grows when a larger array is asked for; its contents are undefined.
        """
        dtype = np.dtype(dtype)
        size = int(np.prod(shape))
        flat = self._flat.get(key)
        if flat is None or flat.dtype != dtype or flat.size < size:
            flat = self._flat[key] = np.empty(size, dtype=dtype)
        return flat[:size].reshape(shape)


class GeneMajorLibrary:
    """A format-2 library: reads the runs of chosen genes for a range of signatures.

    Opening reads the genes, the signature metadata, the per-signature sums and the chunk
    offsets (16 bytes per chunk); ranks and values are read on demand.

    Parameters
    ----------
    path
        A library file written by :class:`GeneMajorWriter`.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.exists():
            raise FileAccessError(
                "library file not found", where=self.path, fix="build it with `exprlab library build`"
            )
        with h5py.File(self.path, "r") as f:
            self.kind = str(f.attrs["kind"])
            self.ties = str(f.attrs["ties"])
            self.block = int(f.attrs["block"])
            self.var = read_obs(f[ROW_META])
            self.genes = pd.Index(self.var.index.astype(str))
            self.obs = read_obs(f[COL_META], f.get(PLAIN_IDS))
            self.shape = f[MATRIX].shape
            self.dtypes = {"matrix": f[MATRIX].dtype, "rank2": f[RANKS].dtype}
            self.sums = f[SUMS][:]
            self.sumsq = f[SUMSQ][:]
            self.offsets = {k: self._checked_offsets(f, k) for k in ("matrix", "rank2")}
        self.has_ranks = True
        # (block, gene) pairs whose rank chunk directly follows the value chunk: one read each
        chunk = self.block * self.dtypes["matrix"].itemsize
        self.paired = self.offsets["rank2"] == self.offsets["matrix"] + chunk

    def _checked_offsets(self, f: h5py.File, name: str) -> np.ndarray:
        """Stored offsets, verified against the HDF5 index on a few chunks (recomputed if stale).

        The chunks checked are the first block's first two genes and its last gene: HDF5 finds
        a chunk by coordinates in a time that grows with the chunk's place in its index (the
        last chunk of a 100,000 x 12,328 library takes 10 to 20 ms, the first ones microseconds).
        A tool that rewrites the file lays the chunks out anew: the writer puts each gene's
        rank chunk right after its value chunk, which a copy made dataset by dataset does not,
        so the second gene's offset moves even when the first one's does not.
        """
        dset = f[MATRIX] if name == "matrix" else f[RANKS]
        stored = f[f"{OFFSETS}/{name}"][:]
        for g in sorted({0, min(1, stored.shape[1] - 1), stored.shape[1] - 1}):
            info = dset.id.get_chunk_info_by_coord((0, g))
            if info.byte_offset != stored[0, g] or info.filter_mask != 0:
                return chunk_offsets(dset, self.block, self.path)
        return stored

    @property
    def n(self) -> int:
        return self.shape[0]

    def read_genes(self, name: str, genes: np.ndarray, start: int, stop: int, fd: int) -> np.ndarray:
        """Gene-major (len(genes), stop - start) runs of dataset ``name`` (``"matrix"``/``"rank2"``).

        One ``pread`` per (gene, chunk) the range touches, straight into the result.
        """
        return self.read_runs((name,), genes, start, stop, fd)[name]

    def read_runs(
        self,
        names: tuple[str, ...],
        genes: np.ndarray,
        start: int,
        stop: int,
        fd: int,
        *,
        threads: int = 1,
        signature_major: bool = False,
        buffers: BlockBuffers | None = None,
        scratch: BlockBuffers | None = None,
    ) -> dict[str, np.ndarray]:
        """Gene-major (len(genes), stop - start) runs of each dataset in ``names``.

        With both datasets asked for, a gene's value chunk and rank chunk that lie side by side
        in the file (as :class:`GeneMajorWriter` writes them) are fetched by one ``preadv``
        scattering into both results (unless the range covers a small part of the chunk, when
        the bytes between the two parts would outweigh a second request); otherwise one
        ``pread`` per (dataset, gene, chunk).
        ``threads`` > 1 splits the genes among that many threads (``preadv`` releases the GIL):
        several requests in flight, which a file not in the page cache needs to be read at the
        disk's speed. With ``signature_major``, the result is (stop - start, len(genes)) instead:
        each thread transposes the runs it read (the copy is shared among the threads too).
        The arrays returned are taken from ``buffers`` when given (valid until they are handed
        out again), the runs read before a transpose from ``scratch`` (see
        :class:`BlockBuffers`); by default they are new.
        """
        shape = (stop - start, len(genes))
        runs_from = scratch if signature_major else buffers

        def array(source: BlockBuffers | None, key: str, name: str, dims: tuple[int, int]) -> np.ndarray:
            dtype = self.dtypes[name]
            return (
                np.empty(dims, dtype=dtype) if source is None else source.take(f"{key}/{name}", dims, dtype)
            )

        out = {name: array(runs_from, "runs", name, shape[::-1]) for name in names}
        rows = {name: array(buffers, "rows", name, shape) for name in names if signature_major}
        parts = [p for p in np.array_split(np.arange(len(genes)), max(1, min(threads, len(genes)))) if len(p)]

        def job(part: np.ndarray) -> None:
            self._read_rows(out, genes, part, start, stop, fd)
            for name in names if signature_major else ():
                _transpose_into(out[name][part[0] : part[-1] + 1], rows[name][:, part[0] : part[-1] + 1])

        if len(parts) == 1:
            job(parts[0])
        else:
            with ThreadPoolExecutor(len(parts)) as pool:
                for done in [pool.submit(job, part) for part in parts]:
                    done.result()
        return rows if signature_major else out

    def _read_rows(
        self, out: dict[str, np.ndarray], genes: np.ndarray, rows: np.ndarray, start: int, stop: int, fd: int
    ) -> None:
        """Fill rows ``rows`` of every array of ``out`` (see :meth:`read_runs`)."""
        views = {name: arr.data.cast("B") for name, arr in out.items()}
        size = {name: arr.dtype.itemsize for name, arr in out.items()}
        both = len(out) == 2
        v, r = "matrix", "rank2"
        gap = bytearray(self.block * sum(size.values()))  # bytes between a pair's two parts
        for k in range(start // self.block, -(-stop // self.block)):
            a = max(start, k * self.block)
            b = min(stop, (k + 1) * self.block)
            first, count = a - k * self.block, b - a
            # bytes between the value part and the rank part of a gene: read along (one request)
            # when they are few against the bytes wanted, else skipped (two requests)
            lead = (self.block - first - count) * size.get("matrix", 0) + first * size.get("rank2", 0)
            join = both and 4 * lead <= count * sum(size.values())
            for i in rows.tolist():
                g = int(genes[i])
                if join and self.paired[k, g]:
                    bufs = [
                        views[v][(i * (stop - start) + a - start) * size[v] :][: count * size[v]],
                        memoryview(gap)[:lead],
                        views[r][(i * (stop - start) + a - start) * size[r] :][: count * size[r]],
                    ]
                    self._pread(fd, [x for x in bufs if len(x)], int(self.offsets[v][k, g]) + first * size[v])
                    continue
                for name, view in views.items():
                    pos = (i * (stop - start) + a - start) * size[name]
                    self._pread(
                        fd,
                        [view[pos : pos + count * size[name]]],
                        int(self.offsets[name][k, g]) + first * size[name],
                    )

    def _pread(self, fd: int, bufs: list, offset: int) -> None:
        want = sum(len(x) for x in bufs)
        if os.preadv(fd, bufs, offset) != want:
            raise FormatError("the library file is truncated", where=self.path, fix="rebuild it")

    def cached(
        self, names: tuple[str, ...], genes: np.ndarray, start: int, stop: int, fd: int, *, probes: int = 8
    ) -> bool | None:
        """Whether the runs of signatures ``start:stop`` are in the page cache (None: cannot tell).

        One byte of the runs of up to ``probes`` genes spread over ``genes`` is read from each
        dataset with ``RWF_NOWAIT``: the kernel answers from the page cache or refuses at once,
        without going to the disk. A file on the disk is read fastest with requests in flight
        (threads, read-ahead), a cached one with a plain copy. The rate of a read cannot tell
        the two apart: a cached block read into new memory comes as slowly (page faults) as
        one from a fast disk.
        """
        flag = getattr(os, "RWF_NOWAIT", None)
        if flag is None or not len(genes) or stop <= start:
            return None
        k = start // self.block
        first = start - k * self.block
        picks = np.asarray(genes)[np.linspace(0, len(genes) - 1, min(probes, len(genes))).astype(int)]
        probe = bytearray(1)
        try:
            for name in names:
                for g in picks.tolist():
                    offset = int(self.offsets[name][k, g]) + first * self.dtypes[name].itemsize
                    if os.preadv(fd, [probe], offset, flag) < 1:
                        return False
        except BlockingIOError:  # EAGAIN: the page is not in memory
            return False
        except OSError:  # the file system does not take RWF_NOWAIT
            return None
        return True

    def advise(self, names: tuple[str, ...], genes: np.ndarray, start: int, stop: int, fd: int) -> None:
        """Ask the kernel to start reading the runs :meth:`read_runs` will read (cold files).

        The byte ranges wanted are merged where less than ``_ADVISE_GAP`` apart (a gene's value
        and rank chunks; the chunks of neighbouring genes, end to end when most genes are
        wanted) and each merged range gets one ``posix_fadvise(WILLNEED)``: the disk reads them
        together, in large requests, instead of one after the other; on pages already cached it
        is a cheap no-op.
        """
        if not hasattr(os, "posix_fadvise"):
            return
        for k in range(start // self.block, -(-stop // self.block)):
            a = max(start, k * self.block)
            count = min(stop, (k + 1) * self.block) - a
            lo = np.concatenate(
                [self.offsets[n][k, genes] + (a - k * self.block) * self.dtypes[n].itemsize for n in names]
            )
            hi = np.concatenate(
                [
                    self.offsets[n][k, genes] + (a - k * self.block + count) * self.dtypes[n].itemsize
                    for n in names
                ]
            )
            order = np.argsort(lo, kind="stable")
            lo, hi = lo[order], np.maximum.accumulate(hi[order])
            breaks = (np.flatnonzero(lo[1:] > hi[:-1] + _ADVISE_GAP) + 1).tolist()
            for i0, i1 in zip([0, *breaks], [*breaks, len(lo)]):
                os.posix_fadvise(fd, int(lo[i0]), int(hi[i1 - 1] - lo[i0]), os.POSIX_FADV_WILLNEED)

    def read(self, start: int, stop: int, *, ranks: bool, ties: str, values: bool = True):
        """Values and (if asked) doubled ranks of signatures ``start:stop``, signature-major.

        Every gene is read (the path of methods that need whole signatures); ranks are
        recomputed when ``ties`` differs from the stored rule.
        """
        every = np.arange(len(self.genes))
        fd = os.open(self.path, os.O_RDONLY)
        try:
            vals = transposed(self.read_genes("matrix", every, start, stop, fd)) if values else None
            r2 = None
            if ranks and ties == self.ties:
                r2 = transposed(self.read_genes("rank2", every, start, stop, fd))
            elif ranks:
                raw = transposed(self.read_genes("matrix", every, start, stop, fd)) if vals is None else vals
                r2 = doubled_ranks(raw, ties)
        finally:
            os.close(fd)
        return vals, r2
