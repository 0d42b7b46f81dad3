"""Group trials by whatever configuration varies across jobs, and summarise a value per group.

    keys = varying_keys(trials)                 # e.g. ["sweep", "p"]
    table = summarise(trials, keys)             # n, mean, sd, 95 % t and bootstrap CIs of n_circles
    fixed_values(trials, "p", "d")              # ["d = 128", "p = 59"]: those with one value
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import jobs, stats

# Config that shards or records a run without changing what is sampled: jobs that
# differ only here are replicates of one condition, not different conditions.
REPLICATE_COLUMNS = ("trials", "trial_offset", "seed", "device", "log.dense_steps", "log.every")


def fixed_values(trials: pd.DataFrame, *columns: str) -> list[str]:
    """["d = 128", "p = 59"] for the columns that hold one value in these trials."""
    return [f"{c} = {trials[c].iloc[0]:g}" for c in sorted(columns) if trials[c].nunique() == 1]


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

        summarise(trials, ["d"]).loc[:, ["d", "n", "mean", "t_lo", "t_hi"]]
    """
    keys = list(keys)
    if not keys:  # a single condition: one group holding everything
        return summarise(trials.assign(group="all"), ["group"], value)
    grouped = trials.groupby(keys, dropna=False, sort=True)[value]
    table = grouped.agg(n="size", mean="mean", sd="std").reset_index()
    half = stats.t_half_width(table["sd"], table["n"])
    table["t_lo"], table["t_hi"] = table["mean"] - half, table["mean"] + half
    boot = [
        stats.bootstrap_interval(x.to_numpy()) if len(x) < stats.SMALL_N else (np.nan, np.nan)
        for _, x in grouped
    ]
    table["boot_lo"], table["boot_hi"] = np.array(boot, dtype=float).reshape(-1, 2).T
    return table
