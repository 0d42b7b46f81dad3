"""One matplotlib style for every figure, and the few drawing primitives they share.

    with styled():
        fig, axes = figure(1, 2)                  # sized per panel
        line_with_band(ax, x, mean, lo, hi, label="n circles")
        trial_points(ax, x, n_circles, width=0.3) # one dot per trial, jittered sideways only
        save(fig, "out/fig5")                     # writes out/fig5.png and out/fig5.pdf;
                                                  # raises EmptyFigure if no panel holds data
"""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only; never needs a display

import matplotlib.pyplot as plt  # noqa: E402

STYLE = {
    "figure.dpi": 120, "savefig.dpi": 150, "savefig.bbox": "tight",
    "font.size": 10, "axes.titlesize": 10, "axes.labelsize": 10, "legend.fontsize": 8,
    "xtick.labelsize": 9, "ytick.labelsize": 9,
    "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.25, "grid.linewidth": 0.6,
    "lines.linewidth": 1.6, "lines.markersize": 4, "legend.frameon": False,
    "image.cmap": "viridis",
}
SURVIVED, DEAD = "tab:orange", "tab:blue"  # the paper's colours for the two fates
PANEL = (3.6, 2.8)  # inches per panel
STEP = "training step"
SIGNAL = "signal ||F_k||"


class EmptyFigure(ValueError):
    """A figure with nothing plotted in any panel: never written."""


def styled():
    """Context in which figures are built and saved, so every artist gets the style."""
    return plt.rc_context(STYLE)


def figure(rows: int = 1, cols: int = 1, title: str | None = None, panel=PANEL, **kwargs):
    """A figure with a rows x cols grid of axes (always a 2-D array)."""
    fig, axes = plt.subplots(rows, cols, figsize=(panel[0] * cols, panel[1] * rows),
                             squeeze=False, layout="constrained", **kwargs)
    if title:
        fig.suptitle(title)
    return fig, axes


def mosaic(layout, title: str | None = None, panel=PANEL):
    """A figure from a subplot_mosaic layout (list of rows of panel names); axes by name."""
    fig, axes = plt.subplot_mosaic(layout, figsize=(panel[0] * len(layout[0]), panel[1] * len(layout)),
                                   layout="constrained")
    if title:
        fig.suptitle(title)
    return fig, axes


def note(ax, text: str):
    """Fill an empty panel with a message (e.g. which sweep would provide its data)."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True, transform=ax.transAxes, color="0.4")


def n_text(counts) -> str:
    """Trials per point for a legend or title: "n = 8", or "n = 4-8" where they differ."""
    low, high = int(min(counts)), int(max(counts))
    return f"n = {low}" if low == high else f"n = {low}-{high}"


def line_with_band(ax, x, mean, lo, hi, label=None, color=None, marker="o", **kwargs):
    """A mean line with markers and its 95 % interval as a shaded band (an error bar where
    there is one point: a band over one x has no width)."""
    (line,) = ax.plot(x, mean, marker=marker, label=label, color=color, **kwargs)
    if len(np.atleast_1d(x)) == 1:
        error_bars(ax, x, mean, lo, hi, color=line.get_color(), linestyle="none", capsize=4)
    else:
        ax.fill_between(x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    return line


def error_bars(ax, x, y, lo, hi, **kwargs):
    """ax.errorbar from the interval [lo, hi] around y. A bound a rounding error on the
    wrong side of y (a Wilson bound of a rate of 0 or 1) gives a bar of 0, not matplotlib's
    "'yerr' must not contain negative values"."""
    below = np.clip(np.subtract(y, lo, dtype=float), 0, None)
    above = np.clip(np.subtract(hi, y, dtype=float), 0, None)
    return ax.errorbar(x, y, yerr=np.vstack([below, above]), **kwargs)


def trial_points(ax, x, y, width: float, log: bool = False, **kwargs):
    """One dot per trial at (x, y), spread sideways over +-width/2 so that equal points do
    not hide each other; y (an integer count) stays exact. With log, width is in decades."""
    x = np.asarray(x, dtype=float)
    shift = np.random.default_rng(0).uniform(-width / 2, width / 2, len(x))
    x = x * 10**shift if log else x + shift
    return ax.scatter(x, np.asarray(y, dtype=float), **{"s": 6, "alpha": 0.45, "color": "0.4", "clip_on": False, **kwargs})


def signal_lines(ax, signals, column: str = "signal", log_x: bool = True):
    """One line per frequency k >= 1 of one trial's long signals table (step, k, column,
    survived): coloured if it survived, grey if not."""
    colours = iter(plt.get_cmap("tab10").colors * 10)
    for k, part in signals[signals["k"] >= 1].groupby("k"):
        part = part[part["step"] > 0] if log_x else part
        alive = bool(part["survived"].iloc[0])
        style = dict(color=next(colours), linewidth=1.4, label=f"k = {k}", zorder=3) if alive \
            else dict(color="0.75", linewidth=0.7, zorder=2)
        ax.plot(part["step"], part[column], **style)
    ax.set(xscale="log" if log_x else "linear", xlabel=STEP)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def has_data(ax) -> bool:
    """Whether anything was plotted in data coordinates (a note or a bare axvline is not data)."""
    return bool(np.isfinite(ax.dataLim.get_points()).all())


def save(fig, stem) -> list[Path]:
    """Write stem.png and stem.pdf, close the figure, return the paths.

    A figure none of whose panels holds data is closed unwritten: EmptyFigure.
    """
    if not any(has_data(ax) for ax in fig.axes):
        plt.close(fig)
        raise EmptyFigure("nothing to plot: every panel is empty")
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    for path in paths:
        fig.savefig(path)
    plt.close(fig)
    return paths
