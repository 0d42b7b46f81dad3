"""Seed 003's structures in trained networks and in the particle simulation, as tables.

The per-trial structure evidence is computed here, from the parquet files (training
writes no structure column): each trial's final embedding E (params.parquet, name "E",
its last step) and each simulated system's final positions (systems.parquet) go through
structures.classify, one row per trial or system.

    trials, skipped = jobs.load_trials(["multirun/grids_circles-smoke"])
    net = network_structures(trials)                 # job, trial, structure, cv, omega, ... + config
    sims, skipped = load_systems(["simulations/multirun/grids_circles-smoke"])
    sim = simulation_structures(sims)                # job, system, structure, ... + config
    freq = frequencies(net, ["optimizer.weight_decay"])   # n, count and rate with 95 % Wilson CI per label
    E = embeddings(trials, skipped=[])               # job, trial, step, E (N, 2): every stored step
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow.dataset as ds

from analysis import jobs, stats, structures

# Config columns a network row keeps, and a simulation row's, for grouping and comparison.
NETWORK_CONFIG = ("sweep", "scale", "p", "d", "optimizer.lr", "optimizer.weight_decay", "train_frac",
                  "final_train_acc", "final_test_acc")
SIM_CONFIG = ("sweep", "scale", "p", "d", "lr", "weight_decay", "train_frac", "final_loss")


def _classified(points: list[np.ndarray], thresholds: dict) -> pd.DataFrame:
    rows = []
    for E in points:
        label, evidence = structures.classify(E, **thresholds)
        rows.append({"structure": label, **evidence})
    return pd.DataFrame(rows, columns=["structure", "cv", "omega", "angle_residual", "quality",
                                       "median_residual"])


def embeddings(trials: pd.DataFrame, skipped: list | None = None, last_only: bool = False) -> pd.DataFrame:
    """Every stored embedding of these trials: job, trial, step, E ((p, d) array).
    Snapshots come from `snapshots.every` (params.parquet stores E at steps 0 and last always)."""
    job_dirs = sorted(trials["job"].unique())
    table, bad = jobs.read_table(job_dirs, "params.parquet", columns=["trial", "step", "shape", "values"],
                                 filter=ds.field("name") == "E")
    if skipped is not None:
        skipped += bad
    if table.empty:
        raise ValueError(f"no embedding in params.parquet of {len(job_dirs)} jobs" +
                         (f" (first: {bad[0]})" if bad else ""))
    table["job"] = table["job"].astype(str)
    if last_only:
        table = table[table["step"] == table.groupby(["job", "trial"])["step"].transform("max")]
    table = table.merge(trials[["job", "trial"]], on=["job", "trial"])
    E = [np.asarray(v, dtype=float).reshape(tuple(s)) for v, s in zip(table["values"], table["shape"])]
    out = table[["job", "trial", "step"]].reset_index(drop=True)
    out["E"] = E
    return out.sort_values(["job", "trial", "step"], kind="stable").reset_index(drop=True)


def network_structures(trials: pd.DataFrame, skipped: list | None = None, **thresholds) -> pd.DataFrame:
    """One row per trial: job, trial, structure, its evidence, and NETWORK_CONFIG columns.
    `thresholds` go to structures.classify (cv_max, angle_tol, residual_tol, quality_min)."""
    final = embeddings(trials, skipped, last_only=True)
    if (final["E"].map(lambda e: e.shape[1]) != 2).any():
        raise ValueError("structures are defined for 2-D embeddings (d = 2)")
    table = pd.concat([final[["job", "trial"]], _classified(list(final["E"]), thresholds)], axis=1)
    config = [c for c in NETWORK_CONFIG if c in trials]
    return table.merge(trials[["job", "trial", *config]], on=["job", "trial"])


def load_systems(roots) -> tuple[pd.DataFrame, list[jobs.Skip]]:
    """Every simulated system under `roots` (directories holding systems.parquet), with a
    `job` column; unreadable jobs come back as skips. DataError if there are none."""
    found = []
    for root in roots:
        for dirpath, _, filenames in os.walk(root):
            if jobs.SIMULATION in filenames:
                found.append(os.path.normpath(dirpath))
    if not found:
        raise jobs.DataError(f"no simulation jobs (with {jobs.SIMULATION}) under {' '.join(map(str, roots))}")
    table, skipped = jobs.read_table(sorted(found), jobs.SIMULATION)
    table["job"] = table["job"].astype(str)
    return table, skipped


def simulation_structures(systems: pd.DataFrame, **thresholds) -> pd.DataFrame:
    """One row per simulated system: job, system, structure, its evidence, SIM_CONFIG columns."""
    points = [np.asarray(v, dtype=float).reshape(p, d)
              for v, p, d in zip(systems["final_positions"], systems["p"], systems["d"])]
    if (systems["d"] != 2).any():
        raise ValueError("structures are defined for points in the plane (d = 2)")
    table = pd.concat([systems[["job", "system"]].reset_index(drop=True), _classified(points, thresholds)],
                      axis=1)
    config = [c for c in SIM_CONFIG if c in systems]
    return pd.concat([table, systems[config].reset_index(drop=True)], axis=1)


def frequencies(table: pd.DataFrame, by) -> pd.DataFrame:
    """Per group of the `by` columns and label: n (rows in the group), count, rate and its
    95 % Wilson interval (lo, hi). Every label of structures.LABELS appears, count 0 included."""
    by = list(by)
    n = table.groupby(by).size().rename("n")
    counts = table.groupby([*by, "structure"]).size().unstack("structure", fill_value=0)
    counts = counts.reindex(columns=list(structures.LABELS), fill_value=0)
    out = counts.stack().rename("count").reset_index().merge(n.reset_index(), on=by)
    out["rate"] = out["count"] / out["n"]
    out["lo"], out["hi"] = stats.wilson_interval(out["count"], out["n"])
    return out
