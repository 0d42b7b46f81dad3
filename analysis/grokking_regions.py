"""The phases seed 002's authors report in Fig 6 (a, b, c), per grid cell: the one source.

From /work/shared/grokking-facts.md ("Phase diagrams the authors report"). A figure is a
list of regions, each a box in (x, y) (and for 6a a band of the ratio y / x) with the
phase the authors report there; a cell in no region is "any" (the facts do not say).
Bounds are inclusive and loose by TOL (a factor 1.05), since the facts round grid values
(6.3e-5 for 10^-4.2 = 6.31e-5); the grid's next point is a factor 1.58 away.

    expected("fig6b", 1e-4, 2.0)                 # "comprehension"
    expected("fig6b", 1e-4, 4.0)                 # "any": between the stated regions
    agreement(cells, "fig6b")                    # per cell: expected, share of trials in it, majority agrees

Where the facts use words ("low wd", "high lr") the box below is our reading, said in `said`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.phases import PHASES

ANY = "any"
TOL = 1.05
INF = float("inf")


@dataclass(frozen=True)
class Region:
    phase: str                     # one of analysis.phases.PHASES
    x: tuple = (0.0, INF)          # inclusive bounds on the x column
    y: tuple = (0.0, INF)          # inclusive bounds on the y column
    ratio: tuple = (0.0, INF)      # inclusive bounds on y / x
    said: str = ""                 # the facts' words, and our reading of vague ones

    def holds(self, x, y) -> np.ndarray:
        x, y = np.asarray(x, float), np.asarray(y, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return _within(x, self.x) & _within(y, self.y) & _within(y / x, self.ratio)


@dataclass(frozen=True)
class Figure:
    x: str             # trials.parquet column on the x axis
    y: str             # and on the y axis
    regions: tuple     # Region, first match wins
    sweep: str         # the named sweep that trains its grid


LR, WD, EMB = "optimizer.decoder.lr", "optimizer.decoder.weight_decay", "optimizer.embedding.lr"
FIGURES = {
    "fig6b": Figure(LR, WD, (
        Region("grokking", x=(1e-5, 6.3e-5), y=(0, 7), said="lr 1e-5 to 6.3e-5: grokking for wd <= 7"),
        Region("memorization", x=(1e-5, 6.3e-5), y=(9, INF), said="lr 1e-5 to 6.3e-5: memorization for wd >= 9"),
        Region("comprehension", x=(1e-4, 2.5e-4), y=(0, 3),
               said="lr 1e-4 to 2.5e-4: comprehension for wd up to about 3-5 (read: wd <= 3)"),
        Region("grokking", x=(1e-4, 2.5e-4), y=(5, 9), said="lr 1e-4 to 2.5e-4: grokking for wd of about 5-9"),
        Region("memorization", x=(1e-4, 2.5e-4), y=(10, INF), said="lr 1e-4 to 2.5e-4: memorization at wd 10"),
        Region("memorization", x=(4e-4, INF), y=(0, 1), said="lr >= 4e-4 with low wd (read: wd <= 1): memorization"),
        Region("confusion", x=(4e-3, INF), y=(8, INF),
               said="high lr with high wd (read: lr >= 4e-3, wd >= 8): confusion"),
    ), "grokking_fig6b"),
    "fig6c": Figure(LR, WD, (
        Region("comprehension", x=(1.6e-5, 6.3e-4), y=(0, 4), said="comprehension at wd <= 4 for lr 1.6e-5 to 6.3e-4"),
        Region("memorization", x=(1e-3, INF), y=(0, 2), said="memorization at lr >= 1e-3 with wd <= 2"),
        Region("grokking", y=(6, 16), said="grokking at wd 6-16"),
        Region("memorization", y=(20, INF), said="memorization at wd 20"),
    ), "grokking_fig6c"),
    "fig6a": Figure(LR, EMB, (
        Region("memorization", ratio=(0, 3), said="memorization when embedding lr <= about 3x decoder lr"),
        Region("grokking", x=(0, 5.6e-5), ratio=(5.6, INF),
               said="generalisation when embedding lr >= about 5.6x decoder lr; grokking there for decoder lr <= 5.6e-5"),
        Region("comprehension", x=(5.6e-5 * TOL ** 2, INF), ratio=(5.6, INF),
               said="... and comprehension for larger decoder lr"),
    ), "grokking_fig6a"),
}


def expected(figure: str, x, y) -> np.ndarray:
    """The phase the authors report at each (x, y), ANY where they say nothing: (n,) str."""
    x, y = np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float))
    out = np.full(np.broadcast(x, y).shape, ANY, dtype=object)
    for region in reversed(FIGURES[figure].regions):  # the first region that holds wins
        out = np.where(region.holds(x, y), region.phase, out)
    return out.astype(str)


def agrees(phase, wanted) -> np.ndarray:
    """Whether each phase is the reported one: 1.0 or 0.0, NaN where ANY (no claim)."""
    phase, wanted = np.asarray(phase, str), np.asarray(wanted, str)
    return np.where(wanted == ANY, np.nan, (phase == wanted).astype(float))


def agreement(cells: pd.DataFrame, figure: str) -> pd.DataFrame:
    """phases.grid's cells with `expected`, `share` (of the cell's trials in the expected
    phase; NaN where ANY) and `majority_agrees` (1.0, 0.0, or NaN where ANY)."""
    spec = FIGURES[figure]
    out = cells.copy()
    out["expected"] = expected(figure, out[spec.x], out[spec.y])
    counts = np.zeros(len(out))
    for phase in PHASES:
        if phase in out:
            counts += out[phase].to_numpy(float) * (agrees([phase] * len(out), out["expected"]) == 1)
    out["share"] = np.where(out["expected"] == ANY, np.nan, counts / out["n"].to_numpy(float))
    out["majority_agrees"] = agrees(out["majority"], out["expected"])
    return out


def _within(v, bounds) -> np.ndarray:
    lo, hi = bounds
    return (v >= lo / TOL) & (v <= hi * TOL)
