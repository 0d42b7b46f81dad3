"""Figures of seed 003's structures: embeddings in the plane, an animation, frequencies.

Each takes data frames (analysis/grids.py builds them); analysis/figures.py binds them
to the `grids_circles` sweep and to simulation jobs.

    fig = snapshots(emb, steps=[0, 500, 2000])      # emb: one trial's rows of grids.embeddings
    path = animation(emb, "out/anim")               # out/anim.gif (Pillow) or .mp4 (ffmpeg)
    fig = frequency(freq, x="optimizer.weight_decay", panel="optimizer.lr")
    fig = example(E, "circle", evidence)            # one structure, points labelled by token
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import animation as mpl_animation

from analysis import plotting, structures

COLOURS = {"circle": "tab:orange", "grid": "tab:green", "neither": "0.5"}


def _points(ax, E: np.ndarray, title: str | None = None) -> None:
    """The N points of E (N, 2), each labelled with its token."""
    ax.scatter(E[:, 0], E[:, 1], s=14, color="tab:blue", zorder=3)
    for k, (x, y) in enumerate(E):
        ax.annotate(str(k), (x, y), textcoords="offset points", xytext=(3, 3), fontsize=7)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set(xticks=[], yticks=[])
    if title:
        ax.set_title(title)


def snapshots(emb: pd.DataFrame, steps=None, title: str | None = None):
    """One trial's embedding at `steps` (default: up to 6 stored steps, evenly spaced),
    one panel each. emb: rows of grids.embeddings for one (job, trial)."""
    stored = emb["step"].to_numpy()
    if steps is None:
        steps = stored[np.unique(np.linspace(0, len(stored) - 1, min(6, len(stored))).round().astype(int))]
    rows = emb.set_index("step").loc[list(steps)]
    fig, axes = plotting.figure(1, len(rows), title=title, panel=(2.6, 2.6))
    for ax, (step, row) in zip(axes[0], rows.iterrows()):
        _points(ax, row["E"], f"step {step}")
    return fig


def writer():
    """(matplotlib writer, file suffix): a GIF by Pillow, else MP4 by ffmpeg; ValueError if neither."""
    if mpl_animation.PillowWriter.isAvailable():
        return mpl_animation.PillowWriter(fps=5), ".gif"
    if shutil.which("ffmpeg"):
        return mpl_animation.FFMpegWriter(fps=5), ".mp4"
    raise ValueError("no animation writer: install Pillow (GIF) or ffmpeg (MP4)")


def animation(emb: pd.DataFrame, stem, title: str = "") -> Path:
    """One trial's embedding over its stored steps, one frame each, written to stem.gif
    (or stem.mp4); returns the path. The axes hold every frame's points."""
    frames = list(emb[["step", "E"]].itertuples(index=False))
    every = np.concatenate([e for _, e in frames])
    lo, hi = every.min(axis=0), every.max(axis=0)
    pad = 0.1 * (hi - lo).max()
    write, suffix = writer()
    path = Path(stem).with_suffix(suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    with plotting.styled():
        fig, axes = plotting.figure(1, 1, panel=(4, 4))
        ax = axes[0, 0]
        dots = ax.scatter(*frames[0][1].T, s=16, color="tab:blue", zorder=3)
        labels = [ax.annotate(str(k), tuple(p), textcoords="offset points", xytext=(3, 3), fontsize=7)
                  for k, p in enumerate(frames[0][1])]
        ax.set(xlim=(lo[0] - pad, hi[0] + pad), ylim=(lo[1] - pad, hi[1] + pad), xticks=[], yticks=[])
        ax.set_aspect("equal")
        with write.saving(fig, str(path), dpi=80):
            for step, E in frames:
                dots.set_offsets(E)
                for label, p in zip(labels, E):
                    label.xy = tuple(p)
                ax.set_title(f"{title} step {step}".strip())
                write.grab_frame()
        plotting.plt.close(fig)
    return path


def frequency(freq: pd.DataFrame, x: str, panel: str | None = None, title: str | None = None):
    """Rate of each structure against config column x with 95 % intervals, one panel per
    value of `panel`. freq: grids.frequencies(table, [x] or [panel, x])."""
    parts = list(freq.groupby(panel)) if panel else [(None, freq)]
    fig, axes = plotting.figure(1, len(parts), title=title)
    for ax, (value, part) in zip(axes[0], parts):
        for label in structures.LABELS:
            rows = part[part["structure"] == label].sort_values(x)
            if len(rows):
                xs = rows[x].to_numpy(dtype=float)
                plotting.error_bars(ax, xs, rows["rate"], rows["lo"], rows["hi"],
                                    marker="o", capsize=3, color=COLOURS[label], label=label)
        values = np.unique(part[x].to_numpy(dtype=float))
        if (values > 0).sum() > 1:
            positive = values[values > 0]
            ax.set_xscale("symlog", linthresh=positive.min())
        ax.set(xlabel=x, ylabel="share of runs", ylim=(-0.03, 1.03))
        n = part.groupby(x)["n"].first()
        ax.set_title(f"{panel} = {value:g}, {plotting.n_text(n)} per point" if panel
                     else f"{plotting.n_text(n)} per point")
        ax.legend()
    return fig


def example(E: np.ndarray, label: str, evidence: dict, title: str | None = None):
    """One embedding, labelled by token, with its detector evidence."""
    fig, axes = plotting.figure(1, 1, title=title, panel=(3.6, 3.6))
    text = (f"{label}: cv {evidence['cv']:.2f}, omega {evidence['omega']}, "
            f"angle residual {evidence['angle_residual']:.2f}, quality {evidence['quality']:.2f}")
    _points(axes[0, 0], np.asarray(E), text)
    return fig
