"""KS and weighted ES of many gene sets against each reference in one walk down the reference.

The per-set kernel of :mod:`exprlab.match._ranks` sorts each set's hits by rank (a bitmap) and
then runs the set's running sum: every hit costs a sort step plus a step of a dependency chain.
When hundreds of sets (a batch of queries) are scored against the same reference, it is cheaper
to put the reference's genes in rank order once (bucketed by doubled rank) and walk down them,
advancing the running sum of every set that holds the current gene: no per-set sort, and
consecutive steps update different sets, so they overlap in the processor. Each set still sees
its hits in increasing rank with the same steps, so the statistics are those of the per-set
kernel (docs/methods.md §1.1 and §1.2; ties as in §1.9): KS exactly (integer arithmetic), ES to
rounding (its running sum is kept with the misses folded in, one value fewer per step; the two
agree within 1e-13).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.extending import intrinsic

from exprlab.match._threads import run_row_parts

#: Below this many sets, the per-set kernel is faster (the walk has a fixed cost per reference):
#: at 12,328 genes, sets of 150 genes, one thread, the walk takes 0.94x the per-set kernel's
#: time at 200 sets, 0.76x at 300, 0.61x at 500, 0.45x at 1,000 and 0.41x at 2,000.
MIN_SETS = 200
# ES extremes whose absolute values differ by less than this are equally far from zero, and the
# negative one is kept (docs/methods.md §1.2): exact ties are common with equal weights (+-1 or
# integer signatures) and rounding must not decide them
ES_TIE = 1e-12


@intrinsic
def lowest_bit(typingctx, word):  # pragma: no cover - compiled
    """Index of the lowest set bit of a non-zero uint64 (one ``tzcnt`` instruction)."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return sig, codegen


@intrinsic
def prefetch(typingctx, array, index):  # pragma: no cover - compiled
    """Ask the processor to bring ``array[index]`` (1-d) into its caches (``llvm.prefetch``)."""
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        view = context.make_array(array_type)(context, builder, args[0])
        where = cgutils.get_item_pointer(context, builder, array_type, view, [args[1]], wraparound=False)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]), "llvm.prefetch.p0"
        )
        # read access, keep in every cache level, data (not instructions)
        builder.call(
            fn,
            [builder.bitcast(where, byte_ptr), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)],
        )
        return context.get_dummy_value()

    return sig, codegen


def set_columns(sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the columns of each set, each set's in increasing order: (pointers, columns)."""
    ptr = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in sets], out=ptr[1:])
    columns = (
        np.concatenate([np.sort(np.asarray(s, dtype=np.int64)) for s in sets])
        if sets
        else np.zeros(0, np.int64)
    )
    return ptr, columns


def gene_to_sets(set_ptr: np.ndarray, set_cols: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the sets holding each column, from the sets' own CSR (:func:`set_columns`).

    Returns (pointers, set ids): each column's sets in increasing order of id.
    """
    owner = np.repeat(np.arange(len(set_ptr) - 1, dtype=np.int32), np.diff(set_ptr))
    ptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(set_cols, minlength=n_cols), out=ptr[1:])
    return ptr, _bucket_owners(set_cols, owner, ptr)


#: References whose ES totals are summed together: one float64 vector per (set, column).
_TOTAL_TILE = 8


@numba.njit(nogil=True, cache=True)
def _tile_totals(values, first, set_ptr, set_cols, by_column, totals):  # pragma: no cover - compiled
    """Sum of |value| over each set's columns, for references ``first`` to ``first + 7``.

    Summed column by column into one total per set, 1,000 queries' sets scatter 300,000 additions
    per reference (a quarter of the walk's time). Here the tile's |values| are laid out by column
    (``by_column``: a row of ``_TOTAL_TILE`` per column), so adding one of a set's columns is one
    vector addition over the tile's references. Each set's columns are added in increasing order:
    every total is the same sum, bit for bit, as the column-by-column loop's. Lanes past the last
    reference hold stale sums and are not read.
    """
    n = min(_TOTAL_TILE, values.shape[0] - first)
    for i in range(n):
        for u in range(values.shape[1]):
            by_column[u, i] = abs(values[first + i, u])
    for s in range(totals.shape[0]):
        acc = totals[s]
        acc[:] = 0.0
        for k in range(set_ptr[s], set_ptr[s + 1]):
            column = by_column[set_cols[k]]
            for i in range(_TOTAL_TILE):  # a constant trip count: one vector operation
                acc[i] += column[i]


@numba.njit(cache=True)
def _bucket_owners(genes, owner, ptr):  # pragma: no cover - compiled
    """``owner`` reordered by gene (counting sort, stable): the set ids of each column in turn."""
    out = np.empty_like(owner)
    fill = ptr[:-1].copy()
    for i in range(genes.shape[0]):
        out[fill[genes[i]]] = owner[i]
        fill[genes[i]] += 1
    return out


#: Columns ahead of the walk whose set lists are fetched into the cache while it runs: the lists
#: of 1,000 queries' sets (1.2 MB) do not stay in a core's cache, and each column's list starts
#: at an unpredictable place (12% of the walk's time at 1,000 queries).
_AHEAD = 8


# Same fast-math flags as the per-set kernel.
# Over 80 lines as one compiled loop nest: the scratch buckets and per-set state live across
# the bucketing, the walk and the read-out of each reference, and a call per step would cost speed.
@numba.njit(nogil=True, cache=True, fastmath={"nsz", "arcp", "contract", "reassoc"}, error_model="numpy")
def _walk_kernel(rank2, values, ptr, owner, set_ptr, set_cols, n_genes, weighted, out):  # pragma: no cover
    """Statistic of every set (CSR ``ptr``/``owner`` over columns) against every row of ``rank2``.

    Per set, ES state sits in one cache line of ``es``: y (the hits' share of the total weight
    so far, plus 1/misses for each hit passed, so that the running sum just before a hit at
    doubled rank p is y - (p/2 - 1)/misses), highest peak, lowest dip, 1/total weight and
    1/misses. The total weights come from the sets' own columns (CSR ``set_ptr``/``set_cols``),
    eight rows at a time (:func:`_tile_totals`). KS state (hits passed, the two integer
    numerators) is in ``ks``. A step at doubled rank p with c of the set's hits, of weight w, is
    the per-set kernel's step: c tied hits centred in their block.
    """
    n_sets = set_ptr.shape[0] - 1
    lengths = set_ptr[1:] - set_ptr[:-1]  # set sizes, read at every KS step
    n_cols = rank2.shape[1]
    size = 2 * n_genes + 1
    head = np.full(size, -1, dtype=np.int32)  # a column at each doubled rank, chained by nxt
    occupied = np.zeros(size // 64 + 1, dtype=np.uint64)  # bitmap of the ranks holding a column
    one = np.uint64(1)
    nxt = np.full(n_cols, -1, dtype=np.int32)
    order = np.zeros(n_cols + _AHEAD, dtype=np.int32)  # the columns by rank (first of each tie)
    order_rank = np.zeros(n_cols, dtype=np.int32)
    count = np.zeros(n_sets, dtype=np.int64)
    touched = np.zeros(n_sets, dtype=np.int64)
    by_column = np.zeros((n_cols if weighted else 0, _TOTAL_TILE))
    totals = np.zeros((n_sets, _TOTAL_TILE))  # ES: total |value| of each set, per reference of a tile
    es = np.zeros((n_sets, 8))
    ks = np.zeros((n_sets, 3), dtype=np.int64)
    for b in range(rank2.shape[0]):
        lane = b % _TOTAL_TILE
        if weighted and lane == 0:
            _tile_totals(values, b, set_ptr, set_cols, by_column, totals)
        for u in range(n_cols):  # bucket the columns by doubled rank
            if ptr[u] == ptr[u + 1]:
                continue
            p = rank2[b, u]
            nxt[u] = head[p]
            head[p] = u
            occupied[p >> 6] |= one << np.uint64(p & 63)
        for s in range(n_sets):
            t = lengths[s]
            total = totals[s, lane]
            es[s, 0], es[s, 1], es[s, 2] = 0.0, -np.inf, np.inf
            es[s, 3] = 1.0 / total if total > 0 else 0.0
            es[s, 4] = 1.0 / (n_genes - t) if t < n_genes else 0.0
            ks[s, 0], ks[s, 1], ks[s, 2] = 0, -(1 << 62), -(1 << 62)
        n_ranks = 0
        for word_index in range(occupied.shape[0]):  # the occupied ranks, in increasing order
            word = occupied[word_index]
            occupied[word_index] = 0
            while word:
                low = word & (~word + one)
                word ^= low
                p = (word_index << 6) + lowest_bit(low)  # type: ignore[call-arg]
                order[n_ranks] = head[p]
                order_rank[n_ranks] = p
                head[p] = -1
                n_ranks += 1
        order[n_ranks : n_ranks + _AHEAD] = order[0]
        for i in range(n_ranks):
            prefetch(owner, ptr[order[i + _AHEAD]])  # type: ignore[call-arg]
            u = order[i]
            p = order_rank[i]
            if nxt[u] < 0:  # one column at this rank (no tie): one hit for each of its sets
                w = abs(values[b, u]) if weighted else 0.0
                for k in range(ptr[u], ptr[u + 1]):
                    s = owner[k]
                    if weighted:
                        st = es[s]
                        m = st[4]
                        e = st[0] - (p * 0.5 - 1.0) * m  # the running sum just before the hit
                        st[2] = min(st[2], e)
                        g = w * st[3]
                        st[1] = max(st[1], e + g)
                        st[0] += g + m
                    else:
                        t = lengths[s]
                        ks[s, 0] += 1
                        ks[s, 1] = max(ks[s, 1], 2 * ks[s, 0] * n_genes - p * t)
                        ks[s, 2] = max(ks[s, 2], p * t - 2 * (ks[s, 0] - 1) * n_genes)
                continue
            n_touched = 0
            v = u
            while v >= 0:  # the sets holding the columns at this rank, with their hit counts
                for k in range(ptr[v], ptr[v + 1]):
                    s = owner[k]
                    if count[s] == 0:
                        touched[n_touched] = s
                        n_touched += 1
                    count[s] += 1
                following = nxt[v]
                nxt[v] = -1
                v = following
            w = abs(values[b, u]) if weighted else 0.0  # tied columns share one value
            for j in range(n_touched):
                s = touched[j]
                c = count[s]
                count[s] = 0
                if weighted:
                    st = es[s]
                    m = st[4]
                    e = st[0] - (p * 0.5 - (c + 1) * 0.5) * m
                    st[2] = min(st[2], e)
                    g = c * w * st[3]
                    st[1] = max(st[1], e + g)
                    st[0] += g + c * m
                else:
                    t = lengths[s]
                    for _ in range(c):
                        ks[s, 0] += 1
                        ks[s, 1] = max(ks[s, 1], 2 * ks[s, 0] * n_genes - p * t)
                        ks[s, 2] = max(ks[s, 2], p * t - 2 * (ks[s, 0] - 1) * n_genes)
        for s in range(n_sets):
            t = lengths[s]
            if t == 0 or t >= n_genes:
                out[s, b] = 0.0
            elif weighted:
                hi, lo = es[s, 1], es[s, 2]
                out[s, b] = 0.0 if totals[s, lane] == 0.0 else (hi if hi > -lo + ES_TIE else lo)
            else:
                unit = 2.0 * t * n_genes
                out[s, b] = ks[s, 1] / unit if ks[s, 1] > ks[s, 2] else -ks[s, 2] / unit


def walk_statistics(
    sets: list[np.ndarray],
    rank2: np.ndarray,
    values: np.ndarray | None,
    *,
    weighted: bool,
    n_genes: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """KS (``weighted=False``) or weighted ES of each set against each row, by walking each row.

    Parameters
    ----------
    sets
        Column-index arrays of ``rank2``, one per set, without repeats.
    rank2
        Doubled ranks (references x columns).
    values
        The references' values (weights of the ES); unused for KS.
    weighted
        ES (True) or KS (False).
    n_genes
        Size of the references' gene space (``rank2`` may hold only the sets' columns).
    out
        A float64 (n_sets, n_references) array to write into (every entry is written);
        default: a new one.

    Returns
    -------
    numpy.ndarray
        (n_sets, n_references) float64, equal to :func:`exprlab.match._ranks.set_statistics`.
    """
    n_rows, n_cols = rank2.shape
    if out is None:
        out = np.empty((len(sets), n_rows), dtype=np.float64)
    set_ptr, set_cols = set_columns(sets)
    ptr, owner = gene_to_sets(set_ptr, set_cols, n_cols)
    vals = values if weighted and values is not None else np.zeros((1, 1), dtype=np.float32)

    def part(rows: slice) -> None:
        _walk_kernel(
            rank2[rows],
            vals[rows] if weighted else vals,
            ptr,
            owner,
            set_ptr,
            set_cols,
            n_genes,
            weighted,
            out[:, rows],
        )

    run_row_parts(part, n_rows, min_rows=64)
    return out
