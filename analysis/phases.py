"""Seed 002's learning phases (App. A, Table 1), per trial and per grid cell.

train_acc_step and test_acc_step (trials.parquet) are the first logged steps at which
training and validation accuracy reached log.acc_threshold, null if never:

    classify(train_step=[100, 100, 100, None], test_step=[500, 5000, None, None])
    # ["comprehension", "grokking", "memorization", "confusion"]
    trials["phase"] = of_trials(trials)                     # gap 1e3 unless given
    cells = grid(trials, "optimizer.decoder.lr", "optimizer.decoder.weight_decay")

| phase         | train reached | validation reached | G = t_val - t_train |
| comprehension | yes           | yes                | G < gap             |
| grokking      | yes           | yes                | G >= gap            |
| memorization  | yes           | no                 |                     |
| confusion     | no            | either             |                     |

Table 1 leaves "validation reached but not training" unsaid (the model then fits held-out
pairs it was never trained on but not its own): it counts as confusion here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

PHASES = ("comprehension", "grokking", "memorization", "confusion")
GAP = 1e3  # G >= GAP steps between train and validation reaching the threshold is grokking
TRAIN_STEP, TEST_STEP = "train_acc_step", "test_acc_step"


def classify(train_step, test_step, gap: float = GAP) -> np.ndarray:
    """The phase of each trial from its two first-reached steps (NaN or None: never): (n,) str."""
    train = pd.to_numeric(pd.Series(train_step, dtype="object"), errors="coerce").to_numpy(float)
    test = pd.to_numeric(pd.Series(test_step, dtype="object"), errors="coerce").to_numpy(float)
    fits, generalises = np.isfinite(train), np.isfinite(test)
    with np.errstate(invalid="ignore"):
        slow = (test - train) >= gap
    return np.select([fits & generalises & ~slow, fits & generalises & slow, fits],
                     ["comprehension", "grokking", "memorization"], "confusion")


def of_trials(trials: pd.DataFrame, gap: float = GAP) -> pd.Series:
    """Each trial's phase, from its train_acc_step and test_acc_step columns."""
    return pd.Series(classify(trials[TRAIN_STEP], trials[TEST_STEP], gap), index=trials.index, name="phase")


def grid(trials: pd.DataFrame, x: str, y: str, gap: float = GAP) -> pd.DataFrame:
    """One row per (x, y) cell: x, y, n, a count per phase, and the majority phase.

    A tie goes to the phase listed first in PHASES.
    """
    phase = of_trials(trials, gap)
    counts = pd.crosstab([trials[x], trials[y]], phase).reindex(columns=list(PHASES), fill_value=0)
    counts.columns.name = None
    cells = counts.reset_index()
    cells["n"] = counts.to_numpy().sum(1)
    cells["majority"] = np.asarray(PHASES)[counts.to_numpy().argmax(1)]
    return cells
