"""Seed 003's qualitative claims (Mușat 2024), checked against the grids_circles sweep
and the particle simulation, as paper-check rows (claims.Claim).

    rows = check(trials, systems)     # [] when no grids_circles trials; systems may be None

- both grids and circles occur in trained networks;
- the simulation (this project's construction, circle_survival/particles.py) produces them;
- weight decay changes which structure forms: the share of structured runs (circle or
  grid) at weight decay 0 against the largest weight decay, Fisher's exact test. Trial i
  starts from the same values in every setting, so the runs are paired across weight
  decays; Fisher's test treats them as independent (docs/reproduction/grids_circles.md
  gives the paired sign test).
"""
from __future__ import annotations

import pandas as pd
from scipy import stats as scipy_stats

from analysis import grids, stats
from analysis.claims import Claim, ci_text

SWEEP = "grids_circles"
PAPER = "Mușat 2024 (seed 003)"  # the paper-check section its rows go in
ALPHA = 0.05  # the weight-decay effect: Fisher's exact test at this level


def _counts(table: pd.DataFrame, label: str) -> tuple[int, int, str]:
    """(count, n, "k/n = rate, CI") of one label."""
    k, n = int((table["structure"] == label).sum()), len(table)
    lo, hi = stats.wilson_interval(k, n)
    return k, n, f"{label} {ci_text(lo, hi, '.0%')}"


def _occur(table: pd.DataFrame, what: str, paper: str) -> Claim:
    (kc, n, cic), (kg, _, cig) = _counts(table, "circle"), _counts(table, "grid")
    return Claim(f"both grids and circles occur ({what}, seed 003)", paper,
                 f"circles {kc}/{n} ({kc / n:.0%}), grids {kg}/{n} ({kg / n:.0%})", f"{cic}; {cig}", n,
                 bool(kc > 0 and kg > 0), "at least one circle and one grid")


def weight_decay_effect(table: pd.DataFrame, column: str, what: str) -> Claim | None:
    """Structured share (circle or grid) at weight decay 0 against the largest; None
    without both."""
    wd = table[column].astype(float)
    if not (wd == 0).any() or wd.max() <= 0:
        return None
    zero, top = table[wd == 0], table[wd == wd.max()]
    a, b = [int(t["structure"].isin(["circle", "grid"]).sum()) for t in (zero, top)]
    _, pvalue = scipy_stats.fisher_exact([[a, len(zero) - a], [b, len(top) - b]])
    lo, hi = stats.wilson_interval([a, b], [len(zero), len(top)])  # (2,) each: wd 0, the largest
    direction = "more" if b / len(top) > a / len(zero) else "fewer" if b / len(top) < a / len(zero) else "as many"
    by = {lab: f"{int((top['structure'] == lab).sum())}/{len(top)}" for lab in ("circle", "grid")}
    return Claim(f"weight decay changes which structure forms ({what}, seed 003)",
                 "changes it (direction not public)",
                 f"structured at wd 0: {a}/{len(zero)}; at wd {wd.max():g}: {b}/{len(top)} "
                 f"(circles {by['circle']}, grids {by['grid']}): {direction} with decay, {stats.p_text(pvalue)}",
                 f"{ci_text(lo[0], hi[0], '.0%')} vs {ci_text(lo[1], hi[1], '.0%')}", len(zero) + len(top),
                 bool(pvalue < ALPHA), f"Fisher's exact test of the structured share, wd 0 vs the largest, p < {ALPHA}")


def check(trials: pd.DataFrame, systems: pd.DataFrame | None = None, skipped: list | None = None) -> list[Claim]:
    """The seed-003 rows these data cover (none without grids_circles trials)."""
    part = trials[trials["sweep"] == SWEEP]
    if part.empty:
        return []
    net = grids.network_structures(part, skipped)
    rows = [_occur(net, "networks", "both"),
            weight_decay_effect(net, "optimizer.weight_decay", "networks")]
    sims = None if systems is None else systems[systems["sweep"] == SWEEP]
    if sims is not None and len(sims):
        sim = grids.simulation_structures(sims)
        rows += [_occur(sim, "simulation, this project's forces", "the simulation reproduces both"),
                 weight_decay_effect(sim, "weight_decay", "simulation")]
    rows = [r for r in rows if r is not None]
    for row in rows:
        row.source = PAPER
    return rows
