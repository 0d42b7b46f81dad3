"""Group trials by whatever configuration varies across jobs, and summarise a value per group.

    parts = by_sweep(trials)                    # {"adhoc": ..., "fig5_top-smoke": ...}: jobs launched together
    keys = varying_keys(trials)                 # e.g. ["sweep", "p"]
    table = summarise(trials, keys)             # n, mean, sd, 95 % t and bootstrap CIs of n_circles
    fixed_values(trials, "p", "d")              # ["d = 128", "p = 59"]: those with one value
    fixed_values(trials)                        # every config column with one value, schema order
    text(1e-8), text(float("nan"))              # "1e-08", "-": a config value for people
"""
from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from analysis import jobs, stats
from circle_survival.keys import RUNTIME_KEYS

# Config that shards or records a run without changing what is sampled: jobs that
# differ only here are replicates of one condition, not different conditions. Of the
# runtime keys only `device` is a column; the rest are here so that none is missed.
REPLICATE_COLUMNS = (*RUNTIME_KEYS, "trials", "trial_offset", "seed", "log.dense_steps", "log.every")
ADHOC = "adhoc"  # the group of runs without a sweep name (as the trainer's multirun/adhoc/)
FULL_SCALE = "paper"  # the scale a group's name leaves unsaid


def by_sweep(trials: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Trials split into the groups of jobs launched together, named as the trainer names
    their folders: the sweep ("fig5_top"), with "-smoke" (any scale but paper) where
    set, and "adhoc" for runs without a sweep name.

        for name, part in by_sweep(trials).items(): ...
    """
    sweep = trials["sweep"].fillna("").replace("", ADHOC)
    scale = trials["scale"].fillna(FULL_SCALE) if "scale" in trials else pd.Series(FULL_SCALE, trials.index)
    name = sweep.where(scale.isin([FULL_SCALE, ""]), sweep + "-" + scale.astype(str))
    return {key: part.reset_index(drop=True) for key, part in trials.groupby(name, sort=True)}


def fixed_values(trials: pd.DataFrame, *columns: str) -> list[str]:
    """["d = 128", "p = 59"] for the columns (sorted) that hold one value in these trials.

    With no columns named: every config column that holds one set value (blanks such as
    an unused perturbation's parameters left out), in schema order: the settings a table
    of the varying ones need not repeat.
    """
    names = sorted(columns) if columns else jobs.config_columns(trials)
    return [f"{c} = {text(trials[c].iloc[0])}" for c in names
            if trials[c].nunique(dropna=False) == 1 and _is_set(trials[c].iloc[0])]


def varying_keys(trials: pd.DataFrame) -> list[str]:
    """Config columns that split the trials into conditions: sweep first, then schema order.

    Replicate columns never count, and a column that splits no group further (say
    perturbation.alpha alongside perturbation.kind when one alpha goes with one kind)
    is left out, so the keys stay few and readable.
    """
    keys, count = [], 1
    columns = jobs.config_columns(trials)
    # The named sweep first: it says which experiment a row belongs to.
    for column in sorted(columns, key=lambda c: c != "sweep"):
        if column in REPLICATE_COLUMNS or trials[column].nunique(dropna=False) < 2:
            continue
        n = len(trials[[*keys, column]].drop_duplicates())
        if n > count:
            keys, count = keys + [column], n
    return keys


def summarise(trials: pd.DataFrame, keys, value: str = "n_circles") -> pd.DataFrame:
    """One row per group: keys, n, mean, sd, t_lo, t_hi, and boot_lo, boot_hi where n < SMALL_N.

    For n_circles the t-interval is clipped to the counts possible, 0..p//2 (the
    bootstrap's never leaves the observed counts).

        summarise(trials, ["d"]).loc[:, ["d", "n", "mean", "t_lo", "t_hi"]]
    """
    keys = list(keys)
    if not keys:  # a single condition: one group holding everything
        return summarise(trials.assign(group="all"), ["group"], value)
    grouping = trials.groupby(keys, dropna=False, sort=True)
    grouped = grouping[value]
    table = grouped.agg(n="size", mean="mean", sd="std").reset_index()
    half = stats.t_half_width(table["sd"], table["n"])
    table["t_lo"], table["t_hi"] = table["mean"] - half, table["mean"] + half
    if value in ("n_circles", "n_above_threshold"):  # counts of frequencies k = 1..p//2
        most = (grouping["p"].max() // 2).to_numpy(dtype=float)
        table["t_lo"], table["t_hi"] = np.clip(table["t_lo"], 0, most), np.clip(table["t_hi"], 0, most)
    boot = [
        stats.bootstrap_interval(x.to_numpy()) if len(x) < stats.SMALL_N else (np.nan, np.nan)
        for _, x in grouped
    ]
    table["boot_lo"], table["boot_hi"] = np.array(boot, dtype=float).reshape(-1, 2).T
    return table


def _is_set(value) -> bool:
    return not (pd.isna(value) or (isinstance(value, str) and value == ""))


def text(value) -> str:
    """A config value for people: 128, 0.01, 1e-08, True, two_mean; "-" when unset."""
    if not _is_set(value):
        return "-"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Number):
        return str(value)
    return f"{value:g}"
