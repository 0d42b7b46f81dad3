"""Figures for any group of jobs, whatever it varies: circles against each varied key,
survival rate by frequency, and the signals of one job's trials.

Plain functions of data frames (trials from jobs.load_trials, signals from
figdata.job_signals) that return a matplotlib figure; figures.py picks the jobs and
writes the files.

    fig = circles(trials)                    # a panel per varied key; colours: the other varied keys
    fig = frequency_survival(trials)         # survival rate of every k: a panel per p, a line per condition
    fig = signals(figdata.job_signals(trials.head(6)), trials)   # a panel per trial of one job
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from analysis import figdata, groups, plotting, survival

MAX_LINES = 8  # lines in one panel; more conditions are pooled (circles) or shown as an image (survival)
MAX_TRIALS = 6  # panels of one job's signals
LOG_RATIO = 20  # a positive x spanning more than this factor goes on a log axis
JITTER = 0.3  # trial dots spread sideways over this share of the smallest gap between x values
MAX_TICKS = 10  # up to this many values of x each get a tick
SETTINGS = ("p", "d", "steps")  # named in a title when they hold one value
CIRCLES = "surviving circles"


def circles(trials: pd.DataFrame, keys=None, title: str = CIRCLES):
    """Circles against each varied key (default groups.varying_keys, without sweep), one
    panel each; the other varied keys are the lines. ValueError if nothing varies."""
    keys = [k for k in (groups.varying_keys(trials) if keys is None else keys) if k != "sweep"]
    if not keys:
        raise ValueError("one condition: no config key varies between these jobs")
    fig, axes = plotting.figure(1, len(keys), title=f"{title}{_settings(trials, keys)}{_flag(trials)}")
    for ax, x in zip(axes[0], keys):
        circles_panel(ax, trials, x, by=[k for k in keys if k != x])
    return fig


def circles_panel(ax, trials: pd.DataFrame, x: str, by=(), xlabel: str | None = None):
    """Circles against config column x: every trial a dot (jittered sideways only), the
    mean with its 95 % t-interval (within 0..p//2) per x, one line per value of the `by`
    columns (pooled if more than MAX_LINES), trial counts in the legend."""
    by = list(by)
    lines = _lines(trials, by)
    pooled = len(lines) > MAX_LINES
    if pooled:
        lines = [("", trials)]
    where, ticks, log, spread = _axis(trials[x])
    colours = plotting.plt.get_cmap("tab10").colors
    for i, (label, part) in enumerate(lines):
        colour = colours[i % len(colours)] if by and not pooled else "tab:blue"
        table = figdata.circles_vs(part, x)
        plotting.trial_points(ax, where(part[x]), part["n_circles"], spread, log, color=colour)
        plotting.line_with_band(ax, where(table[x]), table["mean"], table["t_lo"], table["t_hi"],
                                label=f"{label or 'mean, 95 % CI'} ({plotting.n_text(table['n'])} per point)",
                                color=colour)
    if log:
        ax.set_xscale("log")
    if ticks is not None:
        ax.set_xticks(range(len(ticks)), ticks)
    elif not log and trials[x].nunique() <= MAX_TICKS:
        ax.set_xticks(sorted(trials[x].unique()))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    # The axis starts at 0, the fewest circles there can be; dots at 0 show unclipped.
    ax.set(xlabel=xlabel or x, ylabel=CIRCLES, ylim=(0, None),
           title=f"pooled over {', '.join(by)}" if pooled else "")
    _legend(ax, by if len(lines) > 1 else [])


def frequency_survival(trials: pd.DataFrame, keys=None, title: str = "survival rate of each frequency"):
    """Survival rate of each k with its Wilson 95 % interval: a panel per p, a line per
    condition (the other varied keys; pooled beyond MAX_LINES). With more than MAX_LINES
    values of p, one image of the rates, a row per condition."""
    keys = [k for k in (groups.varying_keys(trials) if keys is None else keys) if k != "sweep"]
    others = [k for k in keys if k != "p"]
    ps = sorted(trials["p"].unique())
    if len(ps) > MAX_LINES:
        return _survival_image(trials, [*others, "p"], title)
    if len(trials[others].drop_duplicates()) > MAX_LINES:
        others = []
    cols = min(len(ps), 4)
    fig, axes = plotting.figure(-(-len(ps) // cols), cols, title=f"{title}{_settings(trials, keys)}{_flag(trials)}",
                                panel=(4.4, 3.0))
    for ax, (p, part) in zip(axes.ravel(), trials.groupby("p", sort=True)):
        rates = survival.survival_rates(part, others)
        for label, line in _lines(rates, others):
            plotting.line_with_band(ax, line["k"], line["rate"], line["lo"], line["hi"], marker=".",
                                    label=f"{label + ', ' if label else ''}n = {line['n'].iloc[0]}")
        ax.set(xlabel="frequency k", ylabel="survival rate (Wilson 95 %)", ylim=(-0.02, 1.02), title=f"p = {p}")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        _legend(ax, others)
    for ax in axes.ravel()[len(ps):]:
        ax.set_axis_off()
    return fig


def _survival_image(trials: pd.DataFrame, by, title: str):
    """Survival rates as an image: a row per condition (by), a column per k."""
    rates = survival.survival_rates(trials, by)
    conditions = _lines(rates, by)
    fig, axes = plotting.figure(1, 1, title=f"{title}{_settings(trials, by)}", panel=(5.4, 4.0))
    ax = axes[0, 0]
    image = np.full((len(conditions), int(rates["k"].max())), np.nan)
    for row, (_, part) in enumerate(conditions):
        image[row, part["k"].to_numpy() - 1] = part["rate"].to_numpy()
    fig.colorbar(ax.imshow(image, aspect="auto", vmin=0, vmax=1, interpolation="nearest",
                           extent=(0.5, image.shape[1] + 0.5, len(conditions) - 0.5, -0.5)),
                 ax=ax, label="survival rate")
    step = max(len(conditions) // 20, 1)
    ax.set_yticks(range(0, len(conditions), step), [label for label, _ in conditions][::step], fontsize=6)
    ax.set(xlabel="frequency k", ylabel=", ".join(by),
           title=f"{len(conditions)} conditions; n = {rates['n'].min()}-{rates['n'].max()} trials each")
    ax.grid(False)
    return fig


def signals(table: pd.DataFrame, trials: pd.DataFrame):
    """One panel per trial in `table` (figdata.job_signals of one job): each k's signal
    over training (log steps), survivors coloured."""
    shown = sorted(table["trial"].unique())
    if not shown:
        raise ValueError("no signals logged for these trials")
    job = str(table["job"].iloc[0])
    total = int((trials["job"] == job).sum())
    cols = 2 if len(shown) == 4 else min(len(shown), 3)
    fig, axes = plotting.figure(-(-len(shown) // cols), cols,
                                title=f"signals over training, trials {shown[0]}-{shown[-1]} of {total}"
                                      f"{_settings(trials[trials['job'] == job], [])}\njob {Path(job).name}")
    for ax, trial in zip(axes.ravel(), shown):
        part = table[table["trial"] == trial]
        plotting.signal_lines(ax, part, "signal", log_x=True)
        alive = sorted(part.loc[part["survived"], "k"].unique())
        ax.set(ylabel=plotting.SIGNAL, title=f"trial {trial}: {len(alive)} circle{'s' * (len(alive) != 1)}")
    for ax in axes.ravel()[len(shown):]:
        ax.set_axis_off()
    return fig


def _lines(table: pd.DataFrame, by) -> list[tuple[str, pd.DataFrame]]:
    """(label, rows) per value of the `by` columns, labelled by their values ("12, normal");
    one unlabelled line without them."""
    if not by:
        return [("", table)]
    return [(", ".join(groups.text(part[c].iloc[0]) for c in by), part)
            for _, part in table.groupby(list(by), dropna=False, sort=True)]


def _legend(ax, by):
    """The legend, titled by the columns its lines stand for; beside the panel when long."""
    labels = ax.get_legend_handles_labels()[1]
    outside = len(labels) > 3 or max(map(len, labels), default=0) > 40
    ax.legend(title=", ".join(by) or None, title_fontsize=8,
              **({"loc": "upper left", "bbox_to_anchor": (1.0, 1.0)} if outside else {}))


def _flag(trials: pd.DataFrame) -> str:
    """A title's second line where "2 x mean" counted no circle in trials whose frequencies
    mostly survived (figdata.none_stand_out), so that their 0 is not read as "all died"."""
    n = figdata.none_stand_out(trials)
    return (f"\n{n} of {len(trials)} trials: 0 circles under 2 x mean, yet most frequencies end above "
            f"{figdata.threshold_of(trials).iloc[0]:g} (all survived: none stands out)") if n else ""


def _settings(trials: pd.DataFrame, varied) -> str:
    """" (d = 32, p = 59)": the SETTINGS not varied here and holding one value."""
    fixed = groups.fixed_values(trials, *[s for s in SETTINGS if s not in varied])
    return f" ({', '.join(fixed)})" if fixed else ""


def _axis(values: pd.Series):
    """How to place config values on x: (position of each value, tick labels or None, log,
    sideways spread of the trial dots). Numbers sit where they are, on a log axis when
    positive and wider than LOG_RATIO; anything else (text, booleans, a column with
    blanks) at 0, 1, 2, ... in sorted order. The spread is JITTER of the smallest gap
    between values (in decades on a log axis)."""
    numeric = (pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
               and values.notna().all())
    if not numeric:
        ticks = sorted({groups.text(v) for v in values})
        index = {t: i for i, t in enumerate(ticks)}
        return (lambda v: np.array([index[groups.text(t)] for t in v], dtype=float)), ticks, False, JITTER
    xs = np.unique(values.to_numpy(dtype=float))
    log = bool(xs[0] > 0 and xs[-1] / xs[0] > LOG_RATIO)
    gaps = np.diff(np.log10(xs) if log else xs)
    return (lambda v: np.asarray(v, dtype=float)), None, log, JITTER * (gaps.min() if len(gaps) else 1.0)
