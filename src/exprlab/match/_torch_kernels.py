"""KS and weighted ES of many sets against a block of references with torch tensor operations.

The same statistics as the numba kernel of :mod:`exprlab.match._ranks` (docs/methods.md §1.1,
§1.2 and §1.9), written for a GPU: every (reference, set) pair is evaluated at once. For each pair
the set's doubled ranks are gathered from the block and put in increasing order (a sort of the t
gathered ranks, never of the reference), then:

* KS: with V(j) the j-th smallest rank, a = max_j (j/t - V(j)/n) and b = max_j (V(j)/n - (j-1)/t)
  in integer units of 1/(2tn); KS = a if a > b else -b.
* ES: a hit of midrank v, with j0 hits of smaller rank and c hits sharing v, sits at the centre of
  its tie block; the misses before the group number v - j0 - (c + 1)/2. The running sum just
  before the group is W(<v)/W - misses/(N - t) and just after it W(<=v)/W - misses/(N - t), with
  W(<v), W(<=v) the summed hit weights |r| below and up to v and W their total. ES is the lowest
  "before" or the highest "after" value, whichever is farther from zero (the negative one on a
  tie). j0, c and the partial sums come from a search of each rank in the sorted ranks (left and
  right ends of its tie group) and one cumulative sum, so no loop runs over hits.

torch is imported on first use, so ``import exprlab.match`` stays light. Arithmetic is float64
(weights) and int64 (ranks, KS numerators), so the numbers agree with the numba kernel to
rounding.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

import numpy as np

from exprlab.errors import InvalidParameterError
from exprlab.match._walk import ES_TIE

_BUDGET = 1 << 21  # (reference, set, hit) triples per step: bounds each temporary near 16 MB
NUMBA = "numba"


def resolve_device(device: str) -> str:
    """The kernel a ``device`` option selects: ``"numba"`` or a torch device name.

    ``"auto"`` gives a CUDA device when torch is installed and sees one, else ``"numba"``;
    ``"numba"`` forces the compiled CPU kernel; any torch device name (``"cpu"``, ``"cuda"``,
    ``"cuda:1"``, ``"mps"``) forces the torch kernel on that device.
    """
    if not isinstance(device, str):
        raise InvalidParameterError(
            f"device must be a string, got {type(device).__name__}",
            where="device",
            fix='use "auto", "numba" or a torch device name such as "cpu" or "cuda"',
        )
    if device == NUMBA:
        return NUMBA
    if device == "auto":
        if not cuda_possible() or importlib.util.find_spec("torch") is None:
            return NUMBA  # decided without importing torch, which costs about a second
        import torch  # loaded only when asked for: import exprlab.match stays light

        return "cuda" if torch.cuda.is_available() else NUMBA
    return _torch_device(device)


def cuda_possible() -> bool:
    """Whether this machine may hold a CUDA device, decided without importing torch.

    On Linux the NVIDIA driver exposes ``/proc/driver/nvidia/version``; without it no CUDA device
    can exist. Other platforms are not ruled out (torch then decides).
    """
    if sys.platform.startswith("linux"):
        return os.path.exists("/proc/driver/nvidia/version")
    return True


def _torch_device(device: str) -> str:
    """Check that torch can place tensors on ``device`` and return its canonical name."""
    fix = 'use "auto", "numba", "cpu" or an available accelerator ("cuda", "cuda:0", ...)'
    if importlib.util.find_spec("torch") is None:
        raise InvalidParameterError(
            f"device {device!r} needs torch, which is not installed", where="device", fix="pip install torch"
        )
    import torch  # loaded only when asked for: import exprlab.match stays light

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as err:
        raise InvalidParameterError(f"unknown device {device!r} ({err})", where="device", fix=fix) from None
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()),
    }
    if not available.get(dev.type, False):
        raise InvalidParameterError(
            f"device {device!r} is not available on this machine", where="device", fix=fix
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise InvalidParameterError(
            f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s)", where="device", fix=fix
        )
    return str(dev)


def torch_set_statistics(
    sets: list[np.ndarray],
    rank2: np.ndarray,
    values: np.ndarray | None,
    *,
    statistic: str,
    n_genes: int | None = None,
    device: str = "cpu",
) -> np.ndarray:
    """KS (``statistic="ks"``) or weighted ES (``"es"``) of each set against each reference row.

    Parameters
    ----------
    sets
        Gene-index arrays (columns of the block), one per set; duplicates must be removed.
    rank2
        Doubled ranks of the block (references x genes).
    values
        The block's values (weights of the ES); unused for KS.
    statistic
        ``"ks"`` or ``"es"``.
    n_genes
        Size of the reference's gene space when ``rank2`` holds only some of its genes;
        default ``rank2.shape[1]``.
    device
        torch device the work runs on.

    Returns
    -------
    (n_sets, n_references) float64 matrix, equal to :func:`exprlab.match._ranks.set_statistics`.
    """
    import torch  # loaded only when asked for: import exprlab.match stays light

    n_rows, n_cols = rank2.shape
    n_genes = n_cols if n_genes is None else n_genes
    out = np.zeros((len(sets), n_rows), dtype=np.float64)
    if not sets or n_rows == 0:
        return out
    dev = torch.device(device)
    lengths = np.array([len(s) for s in sets], dtype=np.int64)
    width = max(1, int(lengths.max()))
    hits = np.zeros((len(sets), width), dtype=np.int64)
    for i, s in enumerate(sets):
        hits[i, : len(s)] = s
    idx = torch.as_tensor(hits, device=dev)
    valid = torch.arange(width, device=dev)[None, :] < torch.as_tensor(lengths, device=dev)[:, None]
    t = torch.as_tensor(lengths, device=dev)
    step = max(1, _BUDGET // (len(sets) * width))
    weighted = statistic == "es"
    for lo in range(0, n_rows, step):
        hi = min(n_rows, lo + step)
        ranks = torch.as_tensor(np.ascontiguousarray(rank2[lo:hi]), device=dev)
        gathered = ranks[:, idx].long()  # (block, sets, width)
        if weighted:
            assert values is not None
            vals = torch.as_tensor(np.ascontiguousarray(values[lo:hi]), device=dev)
            weights = vals[:, idx].double().abs()
            res = _es(gathered, weights, valid, t, n_genes)
        else:
            res = _ks(gathered, valid, t, n_genes)
        out[:, lo:hi] = res.T.cpu().numpy()
    return out


def _sorted_hits(gathered, valid, n_genes: int) -> tuple[Any, Any, Any]:
    """Ranks sorted per (reference, set), padding last, with the permutation and a validity mask."""
    import torch  # loaded only when asked for: import exprlab.match stays light

    pad = 2 * n_genes + 2  # above every doubled rank (at most 2N)
    ranks = torch.where(valid[None], gathered, torch.full_like(gathered, pad))
    ranks, order = torch.sort(ranks, dim=-1)
    return ranks.contiguous(), order, ranks < pad


def _es(gathered, weights, valid, t, n_genes: int):
    """Weighted ES of every (reference, set) pair; see the module docstring."""
    import torch  # loaded only when asked for: import exprlab.match stays light

    ranks, order, ok = _sorted_hits(gathered, valid, n_genes)
    w = torch.gather(torch.where(valid[None], weights, torch.zeros_like(weights)), -1, order)
    first = torch.searchsorted(ranks, ranks, right=False)  # hits of smaller rank (j0)
    last = torch.searchsorted(ranks, ranks, right=True)  # hits of rank <= v (j0 + c)
    total = w.sum(dim=-1, keepdim=True)
    scale = torch.where(total > 0, 1.0 / torch.where(total > 0, total, 1.0), 0.0)
    # the same operations as the numba kernel (reciprocals, then products), so that exact ties
    # of the two extremes round alike
    cum = torch.cat([torch.zeros_like(w[..., :1]), torch.cumsum(w * scale, dim=-1)], dim=-1)
    miss = 1.0 / (n_genes - t).clamp(min=1).double()
    misses = ranks.double() * 0.5 - first.double() - ((last - first).double() + 1.0) * 0.5
    d = misses * miss[None, :, None]
    before = torch.gather(cum, -1, first) - d
    after = torch.gather(cum, -1, last) - d
    low = torch.where(ok, before, torch.inf).amin(dim=-1)
    high = torch.where(ok, after, -torch.inf).amax(dim=-1)
    # equally far from zero -> the negative extreme, with the numba kernels' margin (ES_TIE)
    es = torch.where(high > -low + ES_TIE, high, low)
    usable = (t > 0) & (t < n_genes)
    return torch.where((total[..., 0] > 0) & usable[None], es, 0.0)


def _ks(gathered, valid, t, n_genes: int):
    """KS of every (reference, set) pair in integer units of 1/(2tn); see the module docstring."""
    import torch  # loaded only when asked for: import exprlab.match stays light

    ranks, _, ok = _sorted_hits(gathered, valid, n_genes)
    j = torch.arange(1, ranks.shape[-1] + 1, device=ranks.device)[None, None, :]
    tt = t[None, :, None]
    floor = torch.iinfo(torch.int64).min
    a = torch.where(ok, 2 * j * n_genes - ranks * tt, floor).amax(dim=-1)
    b = torch.where(ok, ranks * tt - 2 * (j - 1) * n_genes, floor).amax(dim=-1)
    unit = (2.0 * t * n_genes).clamp(min=1.0).double()[None, :]
    ks = torch.where(a > b, a.double() / unit, -b.double() / unit)
    usable = (t > 0) & (t < n_genes)
    return torch.where(usable[None], ks, 0.0)
