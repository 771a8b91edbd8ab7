"""Rank precomputation and the running-sum kernels shared by the rank-based methods (KS, WTCS).

Ranks are stored *doubled* (``rank2 = 2 * rank``, rank 1 = the most up-regulated gene) so that
midranks of tied values, which are multiples of 1/2, stay integers: an ``int16`` matrix holds
them for up to 16,383 genes, half the memory of ``int32``.

For a gene set S of t genes scored against a chunk of references, the only work per reference
is: gather the t doubled ranks of S, put them in order (a two-level bitmap over the rank range,
read back through its non-empty words only: O(t + n/4096), no comparisons), then evaluate the
running sum at the hits. That is far less than the O(n log n) of sorting the whole reference
per query. The kernel is compiled with numba, releases the GIL and runs on row blocks in a
thread pool.
"""

from __future__ import annotations

from typing import Literal, cast

import numba
import numpy as np

from exprlab._validation import check_choice
from exprlab.match._base import scratch_array
from exprlab.match._threads import n_threads, run_blocks  # noqa: F401 - n_threads re-exported
from exprlab.match._torch_kernels import torch_set_statistics
from exprlab.match._walk import ES_TIE, MIN_SETS, walk_statistics
from exprlab.match._walk import lowest_bit as _lowest_bit

Ties = Literal["midrank", "first"]
TIES: tuple[Ties, ...] = ("midrank", "first")
_PAD16 = np.iinfo(np.int16).max
_RANK_BLOCK = 1 << 21  # values ranked at a time: the argsort's int64 temporaries stay near 16 MB


def check_ties(ties: str | None) -> Ties:
    """Validate the ``ties`` option (``"midrank"`` or ``"first"``) and return it."""
    allowed: tuple[str | None, ...] = TIES
    return cast(Ties, check_choice(ties, "ties", allowed))


def rank_dtype(n_genes: int) -> np.dtype:
    """Smallest integer dtype holding doubled ranks of ``n_genes`` genes."""
    return np.dtype(np.int16) if 2 * n_genes < _PAD16 else np.dtype(np.int32)


def doubled_ranks(values: np.ndarray, ties: str = "midrank") -> np.ndarray:
    """Doubled descending ranks of each row of ``values`` (rank 1 = largest value).

    ``ties="midrank"`` gives tied values the average of their ranks (so the result does not
    depend on gene order); ``ties="first"`` breaks ties by gene order (column position).
    One argsort per row; tie blocks are then found on the sorted values (midranks) or the
    tied rows re-sorted stably (first). Rows are ranked a few at a time, so the temporaries
    (int64 argsort, sorted copy) stay a few megabytes whatever the size of ``values``.
    """
    check_ties(ties)
    values = np.asarray(values)
    n, g = values.shape
    out = np.empty((n, g), dtype=rank_dtype(g))
    step = max(1, _RANK_BLOCK // max(1, g))  # bounds the int64 argsort temporaries
    for lo in range(0, n, step):
        _rank_rows(values[lo : lo + step], ties, out[lo : lo + step])
    return out


def _rank_rows(values: np.ndarray, ties: str, out: np.ndarray) -> None:
    """:func:`doubled_ranks` of a few rows, written into ``out``."""
    n, g = values.shape
    neg = -values
    order = np.argsort(neg, axis=1)  # vectorised quicksort; rows with ties are fixed below
    sorted_vals = np.take_along_axis(neg, order, axis=1)
    same = np.diff(sorted_vals, axis=1) == 0
    tied_rows = np.flatnonzero(same.any(axis=1))
    if tied_rows.size and ties == "first":
        order[tied_rows] = np.argsort(neg[tied_rows], axis=1, kind="stable")
    positions = np.arange(2, 2 * g + 1, 2, dtype=out.dtype)
    if ties == "midrank" and tied_rows.size:
        # a tie block spanning sorted positions s..e (0-based) has midrank (s + e)/2 + 1,
        # i.e. doubled rank s + e + 2; the order inside a block does not matter
        sub = same[tied_rows]
        idx = np.broadcast_to(np.arange(g), (len(tied_rows), g))
        new_block = np.concatenate([np.ones((len(tied_rows), 1), bool), ~sub], axis=1)
        start = np.maximum.accumulate(np.where(new_block, idx, 0), axis=1)
        last = np.concatenate([~sub, np.ones((len(tied_rows), 1), bool)], axis=1)
        end = np.minimum.accumulate(np.where(last, idx, g - 1)[:, ::-1], axis=1)[:, ::-1]
        pos = np.broadcast_to(positions, (n, g)).copy()
        pos[tied_rows] = (start + end + 2).astype(out.dtype)
        np.put_along_axis(out, order, pos, axis=1)
    else:
        np.put_along_axis(out, order, np.broadcast_to(positions, (n, g)), axis=1)


# Fast-math without the no-NaN / no-inf assumptions (the running extremes start at +-inf): lets
# the compiler reassociate and fuse the weight arithmetic; scores stay equal to the plain
# definition within 1e-15 (checked by the tests and benchmarks/bench_match_memory.py).
# Over 80 lines and kept as one function: it is a single compiled loop nest whose scratch
# bitmap and counters live across the gather and the running sum, and a call between them in
# the innermost loop would cost speed.
@numba.njit(nogil=True, cache=True, fastmath={"nsz", "arcp", "contract", "reassoc"}, error_model="numpy")
def _set_stats_kernel(rank2, values, hits, lengths, n_genes, weighted, out):  # pragma: no cover
    """KS (``weighted=False``) or weighted ES of every set (row of ``hits``) against every row.

    The hits' doubled ranks are bucketed in a bitmap over [0, 2N], with a summary bitmap of its
    non-empty words, and read back in increasing order (lowest set bit first), which sorts them
    in O(t + N/4096) without comparisons; repeated midranks (ties) are counted aside. Tied hits share a value, hence a weight.

    KS (Lamb 2006): a = max_j (j/t - V(j)/n), b = max_j (V(j)/n - (j-1)/t), KS = a if a > b
    else -b, evaluated in exact integer arithmetic (units of 1/(2tn)), so exact ties a == b
    follow the definition rather than floating-point rounding.
    ES (CMap-L1000): a hit adds |r|/sum_hits|r|, a miss subtracts 1/(N - t); the running sum
    peaks just after a hit and dips just before one, where the number of misses so far is
    V(j) - j; ES is the extreme of larger absolute value (0 when no hit has weight). Hits tied
    at one midrank are taken together, centred in their tie block (see the loop), which keeps
    ES independent of gene order and within [-1, 1].
    """
    n_words = (2 * n_genes + 1) // 64 + 1
    words = np.zeros(n_words, dtype=np.uint64)
    summary = np.zeros(n_words // 64 + 1, dtype=np.uint64)  # bit k set <=> words[k] != 0
    extra = np.zeros(2 * n_genes + 1, dtype=np.int32)
    weight = np.zeros(2 * n_genes + 1, dtype=np.float64)
    one = np.uint64(1)
    for b in range(rank2.shape[0]):
        for q in range(hits.shape[0]):
            t = lengths[q]
            if t == 0 or t >= n_genes:
                out[q, b] = 0.0
                continue
            total = 0.0
            dup = False
            for j in range(t):
                g = hits[q, j]
                p = rank2[b, g]
                bit = one << np.uint64(p & 63)
                if words[p >> 6] & bit:
                    extra[p] += 1
                    dup = True
                else:
                    words[p >> 6] |= bit
                    summary[p >> 12] |= one << np.uint64((p >> 6) & 63)
                if weighted:
                    w = abs(values[b, g])
                    weight[p] = w
                    total += w
            scale = 1.0 / total if total > 0 else 0.0
            miss = 1.0 / (n_genes - t)
            j = 0
            cum = 0.0
            hi = -np.inf
            lo = np.inf
            ia = -(1 << 62)  # integer KS numerators, units of 1 / (2 t n)
            ib = -(1 << 62)
            for si in range(summary.shape[0]):
                sword = summary[si]
                summary[si] = 0
                while sword:
                    slow = sword & (~sword + one)
                    k = (si << 6) + _lowest_bit(slow)  # type: ignore[call-arg]
                    sword ^= slow
                    word = words[k]
                    words[k] = 0
                    while word:
                        low = word & (~word + one)
                        p = (k << 6) + _lowest_bit(low)
                        word ^= low
                        c = 1
                        if dup:
                            c += extra[p]
                            extra[p] = 0
                        if weighted:
                            # c tied hits share the block's midrank v and one weight; they are laid
                            # out together at the block's centre, its misses split evenly around
                            # them, so the misses before them are v - (j + (c + 1) / 2): order-free,
                            # and within the misses before and after the block (ES stays in [-1, 1])
                            d = (p * 0.5 - j - (c + 1) * 0.5) * miss
                            lo = min(lo, cum - d)
                            cum += c * weight[p] * scale
                            hi = max(hi, cum - d)
                            j += c
                        else:
                            for _ in range(c):
                                j += 1
                                ia = max(ia, 2 * j * n_genes - p * t)
                                ib = max(ib, p * t - 2 * (j - 1) * n_genes)
            if weighted:
                out[q, b] = 0.0 if total == 0.0 else (hi if hi > -lo + ES_TIE else lo)
            else:
                unit = 2.0 * t * n_genes
                out[q, b] = ia / unit if ia > ib else -ib / unit


def _hit_matrix(sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pad gene-index arrays into a (n_sets, t_max) matrix plus their lengths.

    Indices are sorted so each reference row is read in ascending column order (friendlier to
    the hardware prefetcher); the statistics do not depend on the order of a set's genes.
    """
    lengths = np.array([len(s) for s in sets], dtype=np.int64)
    width = max(1, int(lengths.max()) if len(sets) else 1)
    hits = np.zeros((len(sets), width), dtype=np.int64)
    for i, s in enumerate(sets):
        hits[i, : len(s)] = np.sort(s)
    return hits, lengths


def up_down_statistics(
    queries, rank2: np.ndarray, values: np.ndarray | None, *, statistic: str, opts: dict
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`set_statistics` of every query's up and down set, in one pass over the references.

    Parameters
    ----------
    queries
        The chunk's queries (``up`` and ``down`` lists of gene-index arrays).
    rank2, values, statistic
        As for :func:`set_statistics`.
    opts
        The scoring options; ``_n_genes`` and ``_device`` are passed on, and the statistics
        land in ``_scratch`` memory when the driver gives some (:func:`scratch_array`).

    Returns
    -------
    tuple of numpy.ndarray
        The up and the down sets' statistics, each (n_queries, n_references).
    """
    both = set_statistics(
        queries.up + queries.down,
        rank2,
        values,
        statistic=statistic,
        n_genes=opts.get("_n_genes"),
        device=opts.get("_device"),
        out=scratch_array(opts, "set_statistics", (2 * len(queries), rank2.shape[0])),
    )
    return both[: len(queries)], both[len(queries) :]


def set_statistics(
    sets: list[np.ndarray],
    rank2: np.ndarray,
    values: np.ndarray | None,
    *,
    statistic: str,
    n_genes: int | None = None,
    device: str | None = None,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """KS (``statistic="ks"``) or weighted ES (``"es"``) of each set against each reference row.

    Parameters
    ----------
    sets
        Gene-index arrays (columns of the chunk), one per set; duplicates must be removed.
    rank2
        Doubled ranks of the chunk (references x genes).
    values
        The chunk's values (weights of the ES); unused for KS.
    statistic
        ``"ks"`` or ``"es"``.
    n_genes
        Size of the reference's gene space when ``rank2`` holds only some of its genes (the
        columns the sets use, as read from a gene-major library); default ``rank2.shape[1]``.
    device
        ``None`` or ``"numba"``: the compiled kernels; a torch device name: the torch kernel
        (:mod:`exprlab.match._torch_kernels`) on that device, same numbers.
    out
        A float64 (n_sets, n_references) array to write into (memory kept across blocks);
        default: a new one. The torch kernel returns its own.

    Returns
    -------
    (n_sets, n_references) float64 matrix.
    """
    n_rows, n_cols = rank2.shape
    n_genes = n_cols if n_genes is None else n_genes
    if device is not None and device != "numba" and sets and n_rows:
        return torch_set_statistics(sets, rank2, values, statistic=statistic, n_genes=n_genes, device=device)
    if out is None:
        out = np.empty((len(sets), n_rows), dtype=np.float64)
    if not sets or n_rows == 0:
        return out
    weighted = statistic == "es"
    if len(sets) >= MIN_SETS:  # a batch of queries: one walk down each reference serves every set
        return walk_statistics(sets, rank2, values, weighted=weighted, n_genes=n_genes, out=out)
    hits, lengths = _hit_matrix(sets)
    vals = values if weighted and values is not None else np.zeros((1, 1), dtype=np.float32)

    def block(rows: slice, sel: slice) -> None:
        _set_stats_kernel(
            rank2[rows],
            vals[rows] if weighted else vals,
            hits[sel],
            lengths[sel],
            n_genes,
            weighted,
            out[sel, rows],
        )

    run_blocks(block, n_rows, len(sets))
    return out
