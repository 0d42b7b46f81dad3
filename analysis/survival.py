"""Which frequencies survive: survival rates, and survival against initial signal (Fig 6).

A frequency k (1..p//2) of a trial survived when k is in that trial's `circles`.

    freq = frequency_table(trials)                  # one row per (trial, k)
    rates = survival_rates(trials, ["init_seed"])   # per group and k, Wilson 95 % CI
    r, pvalue, n = signal_correlation(rates)        # Fig 6 left
    curve = perturbation_curve(trials)              # Fig 6 middle
    curve = construction_curve(trials)              # Fig 6 right
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis import fourier, jobs, stats

# What survival_rates adds to the group keys.
RATE_COLUMNS = ("k", "n", "survived", "rate", "lo", "hi", "init_signal")


def frequency_table(trials: pd.DataFrame) -> pd.DataFrame:
    """One row per (trial, k >= 1): row (position in trials), k, init_signal, final_signal, survived."""
    lengths = np.asarray(trials["init_signal"].list.len(), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    row = np.repeat(np.arange(len(trials), dtype=np.int32), lengths)
    k = (np.arange(lengths.sum()) - np.repeat(starts, lengths)).astype(np.int32)
    survived = np.zeros(lengths.sum(), dtype=bool)
    circles = np.asarray(trials["circles"].list.flatten(), dtype=np.int64)
    owner = np.repeat(np.arange(len(trials)), np.asarray(trials["circles"].list.len()))
    survived[starts[owner] + circles] = True
    circle = k >= 1  # k = 0 (DC) is no circle
    return pd.DataFrame({
        "row": row[circle], "k": k[circle],
        "init_signal": np.asarray(trials["init_signal"].list.flatten(), dtype=np.float32)[circle],
        "final_signal": np.asarray(trials["final_signal"].list.flatten(), dtype=np.float32)[circle],
        "survived": survived[circle],
    })


def survival_matrix(trials: pd.DataFrame) -> np.ndarray:
    """(n_trials, p//2 + 1) booleans, [i, k] = frequency k survived in trial i (one p only)."""
    p = trials["p"].unique()
    if len(p) != 1:
        raise ValueError(f"survival_matrix needs one p, got {sorted(p)}")
    out = np.zeros((len(trials), p[0] // 2 + 1), dtype=bool)
    owner = np.repeat(np.arange(len(trials)), np.asarray(trials["circles"].list.len()))
    out[owner, np.asarray(trials["circles"].list.flatten(), dtype=np.int64)] = True
    return out


def survival_rates(trials: pd.DataFrame, keys=()) -> pd.DataFrame:
    """Per group (keys, plus p) and frequency k: n, survived, rate, lo, hi, init_signal (mean).

        survival_rates(trials, ["d"]).query("d == 128 and k == 5")
    """
    keys = list(keys) + ([] if "p" in keys else ["p"])  # k means nothing without its p
    grouping = trials.groupby(keys, dropna=False, sort=True)
    group = grouping.ngroup().to_numpy()
    freq = frequency_table(trials)
    width = int(freq["k"].max()) + 1 if len(freq) else 1
    cell = group[freq["row"].to_numpy()] * width + freq["k"].to_numpy()
    size = (group.max() + 1) * width
    n = np.bincount(cell, minlength=size)
    survived = np.bincount(cell, weights=freq["survived"].to_numpy(), minlength=size)
    signal = np.bincount(cell, weights=freq["init_signal"].to_numpy(), minlength=size)
    cells = np.flatnonzero(n)
    first_row = pd.Series(np.arange(len(trials))).groupby(group).first().to_numpy()
    table = trials[keys].iloc[first_row[cells // width]].reset_index(drop=True)
    table["k"] = cells % width
    table["n"] = n[cells]
    table["survived"] = survived[cells].astype(int)
    table["rate"] = survived[cells] / n[cells]
    table["lo"], table["hi"] = stats.wilson_interval(table["survived"], table["n"])
    table["init_signal"] = signal[cells] / n[cells]
    return table


def signal_correlation(rates: pd.DataFrame) -> tuple[float, float, int]:
    """Pearson r and p-value of survival rate against mean initial signal, over (group, k) cells."""
    result = sps.pearsonr(rates["init_signal"], rates["rate"])
    return float(result.statistic), float(result.pvalue), len(rates)


def perturbation_curve(trials: pd.DataFrame, line: str = "init_seed") -> pd.DataFrame:
    """Fig 6 middle: survival of the scaled frequency against its lead over the mean signal.

    One curve per `line` value (an embedding). x is the scaled frequency's initial
    signal (as recorded, i.e. after scaling) minus the mean initial signal over all
    p frequencies; each point is one alpha.
    """
    p = int(trials["p"].iloc[0])
    k = _fold(int(str(trials["perturbation.ks"].iloc[0]).split(",")[0]), p)
    init = jobs.list_matrix(trials["init_signal"])
    frame = pd.DataFrame({
        "line": trials[line].to_numpy(), "alpha": trials["perturbation.alpha"].to_numpy(),
        "x": init[:, k] - fourier.full_mean(init, p),
        "survived": survival_matrix(trials)[:, k],
    })
    curve = frame.groupby(["line", "alpha"], sort=True).agg(
        x=("x", "mean"), n=("survived", "size"), survived=("survived", "sum")).reset_index()
    curve["k"] = k
    curve["rate"] = curve["survived"] / curve["n"]
    curve["lo"], curve["hi"] = stats.wilson_interval(curve["survived"], curve["n"])
    return curve


def construction_curve(trials: pd.DataFrame) -> pd.DataFrame:
    """Fig 6 right: per ratio r, survival rates of the strongest constructed frequency
    ("first"), the second ("second") and of both, each with a Wilson interval.

    The two constructed frequencies are `perturbation.applied`; which one is the
    strongest is read off the recorded initial signals, not off the list order.
    """
    p = int(trials["p"].iloc[0])
    applied = _fold(jobs.list_matrix(trials["perturbation.applied"]).astype(int)[:, :2], p)
    init = jobs.list_matrix(trials["init_signal"])
    rows = np.arange(len(trials))
    a_first = init[rows, applied[:, 0]] >= init[rows, applied[:, 1]]
    first = np.where(a_first, applied[:, 0], applied[:, 1])
    second = np.where(a_first, applied[:, 1], applied[:, 0])
    alive = survival_matrix(trials)
    frame = pd.DataFrame({
        "r": trials["perturbation.r"].to_numpy(),
        "first": alive[rows, first], "second": alive[rows, second],
    })
    frame["both"] = frame["first"] & frame["second"]
    curve = frame.groupby("r", sort=True).agg(
        n=("first", "size"), first=("first", "sum"), second=("second", "sum"), both=("both", "sum"),
    ).reset_index()
    for which in ("first", "second", "both"):
        curve[f"{which}_rate"] = curve[which] / curve["n"]
        curve[f"{which}_lo"], curve[f"{which}_hi"] = stats.wilson_interval(curve[which], curve["n"])
    return curve


def _fold(k, p: int):
    """Frequency k and p - k are one circle: name it by the smaller."""
    return np.minimum(k, p - k)
