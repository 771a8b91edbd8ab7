"""Generic plots for reports, drawn with matplotlib's Agg backend and returned as PNG bytes.

Each function takes tidy data, draws one figure and returns its PNG (to embed in HTML with
:func:`exprlab.report._html.png_data_uri`, or to write with :func:`save_png`). No display is
needed and no figure stays open.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from exprlab._atomic import atomic_path
from exprlab.report._format import label
from exprlab.report._html import Figure

DPI = 110
#: whether :func:`figure_png` also keeps each figure as SVG (``exprlab report --svg``)
_SVG: contextvars.ContextVar[bool] = contextvars.ContextVar("exprlab_report_svg", default=False)
#: series beyond this many get colours from a continuous colormap instead of the 10-colour cycle
_CYCLE = 10


@contextlib.contextmanager
def svg_figures(enabled: bool = True) -> Iterator[None]:
    """Within this block, every figure drawn also carries its SVG (written beside the report)."""
    token = _SVG.set(enabled)
    try:
        yield
    finally:
        _SVG.reset(token)


def colours(n: int) -> list:
    """``n`` distinguishable colours: the default cycle up to 10, a sampled colormap beyond."""
    plt = _pyplot()
    if n <= _CYCLE:
        return [f"C{i}" for i in range(n)]
    cmap = plt.get_cmap("tab20" if n <= 20 else "turbo")
    return [cmap(i / max(1, n - 1)) if n > 20 else cmap(i) for i in range(n)]


def legend_outside(ax, n: int) -> None:
    """A legend to the right of the axes (never over the data), in columns when it is long."""
    if n == 0:
        return
    ax.legend(
        fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1 if n <= 16 else 2, frameon=False
    )


def _pyplot():
    """Pyplot on matplotlib's Agg backend (no display needed)."""
    import matplotlib  # heavy: loaded only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # heavy: loaded only when a figure is drawn

    return plt


def figure_png(fig) -> bytes:
    """The PNG bytes of a matplotlib figure; the figure is closed."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    out = Figure(buf.getvalue())
    if _SVG.get():
        svg = io.BytesIO()
        fig.savefig(svg, format="svg", bbox_inches="tight")
        out.svg = svg.getvalue()
    plt.close(fig)
    return out


def save_png(png: bytes, path: str | os.PathLike) -> Path:
    """Write PNG bytes atomically."""
    target = Path(path)
    with atomic_path(target) as tmp:
        tmp.write_bytes(png)
    return target


def _data_ylim(ax, heights, lo, hi, extra: Sequence[float]) -> None:
    """Y limits from the data (bars, their intervals, reference lines) and zero, padded by 8%."""
    parts = [np.asarray(heights, dtype=float).ravel(), np.asarray(extra, dtype=float).ravel(), np.zeros(1)]
    for bound in (lo, hi):
        if bound is not None:
            parts.append(np.asarray(bound, dtype=float).ravel())
    values = np.concatenate(parts)
    values = values[np.isfinite(values)]
    bottom, top = float(values.min()), float(values.max())
    pad = 0.08 * ((top - bottom) or 1.0)
    ax.set_ylim(bottom - pad if bottom < 0 else 0.0, top + pad if top > 0 else 0.0)


def bars_with_intervals(
    labels: Sequence[str],
    means: Sequence[float],
    lo: Sequence[float] | None = None,
    hi: Sequence[float] | None = None,
    *,
    title: str = "",
    ylabel: str = "",
    reference: Mapping[str, float] | None = None,
) -> bytes:
    """One bar per label with its interval [lo, hi]; ``reference`` draws named dashed lines."""
    plt = _pyplot()
    heights = np.asarray(means, dtype=float)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.55 * len(labels) + 1.5), 3.6))
    x = np.arange(len(labels))
    yerr = None
    if lo is not None and hi is not None:
        below = np.clip(heights - np.asarray(lo, dtype=float), 0, None)
        above = np.clip(np.asarray(hi, dtype=float) - heights, 0, None)
        yerr = np.vstack([np.nan_to_num(below), np.nan_to_num(above)])
    ax.bar(x, heights, yerr=yerr, capsize=3, color="#4a7fb0")
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, linestyle="--", linewidth=1.2, color=("k", "C3", "C2", "C4")[i % 4], label=name)
    _data_ylim(ax, heights, lo, hi, list((reference or {}).values()))
    if reference:
        legend_outside(ax, len(reference))
    ax.set_xticks(x)
    ax.set_xticklabels(
        labels, rotation=45 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center", fontsize=8
    )
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return figure_png(fig)


def grouped_bars(
    table: pd.DataFrame,
    *,
    group: str,
    series: Sequence[str],
    errors: Mapping[str, str] | None = None,
    title: str = "",
    ylabel: str = "",
    reference: Mapping[str, float] | None = None,
) -> bytes:
    """Bars of several columns (``series``) side by side for each row's ``group`` label.

    ``errors`` maps a series to the column holding its error half-width (e.g. an sd).
    """
    plt = _pyplot()
    labels = table[group].astype(str).tolist()
    x = np.arange(len(labels))
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.1 * len(labels) * max(1, len(series)) / 2 + 2), 3.6))
    for i, s in enumerate(series):
        err = None
        if errors and errors.get(s) in table:
            err = table[errors[s]].to_numpy(dtype=float)
        ax.bar(
            x + i * width - 0.4 + width / 2,
            table[s].to_numpy(dtype=float),
            width,
            yerr=err,
            capsize=2,
            label=label(s),
        )
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, linestyle="--", linewidth=1, color="k" if i == 0 else f"C{i + 5}", label=name)
    ax.set_xticks(x)
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    legend_outside(ax, len(series) + len(reference or {}))
    return figure_png(fig)


def line_curves(
    table: pd.DataFrame,
    *,
    x: str,
    y: str,
    by: Sequence[str],
    title: str = "",
    xlabel: str | None = None,
    ylabel: str | None = None,
    logx: bool = False,
    dashed: Mapping[str, str] | None = None,
) -> bytes:
    """One line per combination of the ``by`` columns (mean of ``y`` at each ``x``).

    ``dashed`` = {column: value}: lines whose ``column`` equals ``value`` are dashed (e.g. the
    random-gene references of keep/remove curves).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.8))
    mean = table.groupby([*by, x], sort=True)[y].mean().reset_index()
    groups = list(mean.groupby(list(by), sort=True))
    palette = colours(len(groups))
    for (key, part), colour in zip(groups, palette, strict=True):
        key = key if isinstance(key, tuple) else (key,)
        style = "-"
        if dashed:
            for col, val in dashed.items():
                if dict(zip(by, key, strict=True)).get(col) == val:
                    style = "--"
        ax.plot(part[x], part[y], marker="o", linestyle=style, color=colour, label=" ".join(map(label, key)))
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel or label(x))
    ax.set_ylabel(ylabel or label(y))
    ax.set_title(title, fontsize=10)
    legend_outside(ax, len(groups))
    return figure_png(fig)


#: line styles of successive curves (with their colours), so that coinciding curves stay visible
LINE_STYLES = ("-", (0, (5, 3)), ":", "-.")


def _same_curve(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether two (x, y) curves are the same points (equal up to float rounding; NaN equals NaN)."""
    return all(
        u.shape == v.shape and bool(np.allclose(u, v, equal_nan=True)) for u, v in zip(a, b, strict=True)
    )


def curves_xy(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    title: str = "",
    xlabel: str = "",
    ylabel: str = "",
    xlim: tuple[float, float] | None = None,
    reference: Mapping[str, float] | None = None,
    integer_x: bool = False,
) -> bytes:
    """Named (x, y) curves on one axis (e.g. precision-recall curves per method).

    Many curves get distinct colours (:func:`colours`) and line styles (:data:`LINE_STYLES` in
    turn); a curve equal to an earlier one is drawn broken, in a style other than that curve's, so
    the earlier one shows through its gaps, and says so in the legend (``xsum (same curve as
    cosine)``). The legend sits
    outside the axes; ``reference`` draws named dashed horizontal lines (baselines);
    ``integer_x`` puts ticks on whole numbers only (epochs: no epoch 1.2).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    names = [str(name) for name in curves]
    drawn = [(np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)) for xs, ys in curves.values()]
    styles: list = []
    for i, ((xs, ys), colour) in enumerate(zip(drawn, colours(len(drawn)), strict=True)):
        same = next((j for j in range(i) if _same_curve(drawn[j], (xs, ys))), None)
        style = LINE_STYLES[i % len(LINE_STYLES)]
        if same is not None and (style == "-" or style == styles[same]):
            # drawn over the curve it equals: a broken style that differs from that curve's
            style = next(s for s in LINE_STYLES[1:] if s != styles[same])
        styles.append(style)
        ax.plot(
            xs,
            ys,
            label=names[i] if same is None else f"{names[i]} (same curve as {names[same]})",
            color=colour,
            linestyle=style,
        )
    for i, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, linestyle="--", linewidth=1.2, color=("k", "C3")[i % 2], label=name)
    if xlim:
        ax.set_xlim(*xlim)
    if integer_x:
        from matplotlib.ticker import MaxNLocator  # heavy: loaded only when a figure is drawn

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    legend_outside(ax, len(curves) + len(reference or {}))
    return figure_png(fig)


def heatmap(
    values: np.ndarray,
    *,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str = "",
    colorbar: str = "",
    marked: np.ndarray | None = None,
    center: bool = True,
) -> bytes:
    """A heat map of ``values`` (rows × columns); ``marked`` (same shape, bool) cells get a dot.

    With ``center`` the colour scale is symmetric around zero (signed attributions).
    """
    plt = _pyplot()
    v = np.asarray(values, dtype=float)
    fig, ax = plt.subplots(figsize=(max(4.5, 0.28 * v.shape[1] + 2), max(2.2, 0.35 * v.shape[0] + 1.2)))
    if center:
        bound = float(np.nanmax(np.abs(v))) or 1.0
        im = ax.imshow(v, aspect="auto", cmap="RdBu_r", vmin=-bound, vmax=bound)
    else:
        im = ax.imshow(v, aspect="auto", cmap="viridis")
    if marked is not None:
        r, c = np.nonzero(np.asarray(marked, dtype=bool))
        ax.scatter(c, r, s=9, c="k", marker="o", label="ground truth")
        if r.size:
            ax.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 1.25))
    ax.set_yticks(np.arange(v.shape[0]))
    ax.set_yticklabels(row_labels, fontsize=8)
    ax.set_xticks(np.arange(v.shape[1]))
    ax.set_xticklabels(col_labels, rotation=90, fontsize=6)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label=colorbar, shrink=0.8)
    return figure_png(fig)


def central_range(values: np.ndarray, central: float) -> tuple[float, float] | None:
    """The range of the central share ``central`` of ``values`` (equal tails left out).

    Parameters
    ----------
    values
        Finite values.
    central
        Share kept, in (0, 1]: 0.99 leaves out the lowest and the highest 0.5%.

    Returns
    -------
    tuple of float or None
        (low, high) percentiles; ``None`` when fewer than two values or the range is empty.
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return None
    tail = 100 * (1 - central) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return (float(low), float(high)) if high > low else None


def distributions(
    groups: Mapping[str, np.ndarray],
    *,
    title: str = "",
    xlabel: str = "",
    bins: int = 40,
    central: float | None = None,
) -> bytes:
    """Overlaid density histograms of several groups of values.

    For example the scores of indicated pairs against all others. With ``central`` (e.g.
    0.99) the bins span only that central share of the pooled values, so that a few extreme
    scores do not squeeze the rest into one bar; each group's density is over its values in
    that range.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.6, 3.6))
    finite = [np.asarray(v, dtype=float)[np.isfinite(v)] for v in groups.values()]
    allv = np.concatenate([f for f in finite if f.size]) if any(f.size for f in finite) else np.zeros(1)
    span = central_range(allv, central) if central is not None else None
    edges = np.histogram_bin_edges(allv, bins=bins, range=span)
    for (name, _), vals in zip(groups.items(), finite, strict=True):
        shown = vals if span is None else vals[(vals >= span[0]) & (vals <= span[1])]
        if shown.size:
            ax.hist(shown, bins=edges, density=True, alpha=0.5, label=f"{name} (n={vals.size})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    legend_outside(ax, len(groups))
    return figure_png(fig)


def boxes(groups: Mapping[str, np.ndarray], *, title: str = "", xlabel: str = "") -> bytes:
    """One horizontal box per group (median, quartiles, 1.5 IQR whiskers), first group on top.

    Legible for tens of groups, where overlaid histograms are not.
    """
    plt = _pyplot()
    names = list(groups)
    values = [np.asarray(v, dtype=float)[np.isfinite(np.asarray(v, dtype=float))] for v in groups.values()]
    fig, ax = plt.subplots(figsize=(6.0, max(2.2, 0.28 * len(names) + 1.0)))
    # matplotlib >= 3.10 names the direction `orientation`; older releases only know `vert`
    horizontal = (
        {"orientation": "horizontal"}
        if "orientation" in inspect.signature(ax.boxplot).parameters
        else {"vert": False}
    )
    ax.boxplot(values[::-1], widths=0.6, flierprops={"markersize": 2}, **horizontal)
    ax.set_yticks(np.arange(1, len(names) + 1))
    ax.set_yticklabels(names[::-1], fontsize=7 if len(names) > 15 else 8)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    return figure_png(fig)


def histogram_panels(
    groups: Mapping[str, np.ndarray],
    *,
    xlabel: str = "",
    ylabel: str = "count",
    bins: int = 20,
    xlim: tuple[float, float] | None = None,
    columns: int = 3,
) -> bytes:
    """One small histogram per group on shared bins, in a grid of ``columns`` panels per row.

    Overlaid translucent histograms of more than two groups mix into colours no palette
    tells apart; one panel each stays readable (e.g. the p-values of each query of a search).

    Parameters
    ----------
    groups
        Name → values (non-finite values are left out); each gets a panel titled with its name.
    xlabel
        Label of the x axes.
    ylabel
        Label of the y axes (what a bar counts).
    bins
        Number of bins, shared by every panel.
    xlim
        Range of the bins and the axes (default: the range of all values).
    columns
        Panels per row.

    Returns
    -------
    bytes
        The figure's PNG.
    """
    plt = _pyplot()
    names = list(groups)
    values = [np.asarray(groups[n], dtype=float) for n in names]
    values = [v[np.isfinite(v)] for v in values]
    pooled = np.concatenate([v for v in values if v.size]) if any(v.size for v in values) else np.zeros(1)
    edges = np.histogram_bin_edges(pooled, bins=bins, range=xlim)
    ncol = max(1, min(columns, len(names)))
    nrow = max(1, -(-len(names) // ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.6 * ncol + 0.6, 2.1 * nrow + 0.4), squeeze=False)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    for ax, name, vals in zip(axes.ravel(), names, values, strict=False):
        ax.hist(vals, bins=edges, color="#4a7fb0")
        ax.set_title(f"{name} (n={vals.size})", fontsize=9)
        ax.tick_params(labelsize=7)
        ax.set_xlabel(xlabel, fontsize=8)
        if xlim:
            ax.set_xlim(*xlim)
    for row in axes:
        row[0].set_ylabel(ylabel, fontsize=8)
    fig.tight_layout()
    return figure_png(fig)
