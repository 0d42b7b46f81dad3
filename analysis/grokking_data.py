"""The tidy data behind seed 002's figures and claims, from parquet columns only.

trials.parquet (task.kind, p, train_pairs, final_*_acc, optimizer.embedding.lr, ...),
metrics.parquet (trial, step, rqi) and embedding.parquet (trial, step, E: p*d values,
row-major) as docs/schema.md describes them. Readers append what they cannot read to
`skipped` when given a list (figdata's convention).

    a, b, y = samples("add", 10)                       # the 55 unordered pairs i <= j, label i + j
    train = train_mask(trials.iloc[0])                 # (n,) bool from train_pairs
    quality(trials, skipped)                           # per trial: rqi, predicted_acc, acc (final E)
    steps_to_rqi(trials, skipped)                      # per trial: first step with rqi > 0.95 (NaN: never)
    structure(10)                                      # theory: P(unique), mean lambda3 per fraction
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import torch

from analysis import figdata
from circle_survival import effective_theory, parallelograms
from circle_survival.data import pairs

HIGH_RQI = 0.95  # the authors' "high RQI"
FRACTIONS = np.round(np.arange(0.05, 1.0001, 0.05), 2)  # Fig 4a / 5a grid of training fractions
SETS = 1000  # random training sets per fraction
THEORY_SEED = 0
SEED_002_P = 10  # the toy model's symbols (facts file)


def samples(kind: str, p: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(a, b, y) of a task's samples in its pair-list order (train_pairs index into it):
    circle_survival.data.pairs, the trainer's own list ("add": unordered pairs i <= j,
    lexicographic, label i + j; "mod_add": ordered pairs, label (i + j) mod p)."""
    return pairs(kind, p)


def train_mask(row: pd.Series) -> np.ndarray:
    """A trial's training set as a bool mask over samples(task.kind, p), from train_pairs.

    train_pairs is a list of indices, or the comma-joined string jobs.load_trials makes of
    a list column it takes for configuration.
    """
    a, _, _ = samples(row["task.kind"], int(row["p"]))
    pairs = row["train_pairs"]
    if isinstance(pairs, str):
        pairs = [int(v) for v in pairs.split(",") if v.strip()]
    mask = np.zeros(len(a), dtype=bool)
    mask[np.asarray(list(pairs), dtype=int)] = True
    return mask


def embeddings(trials: pd.DataFrame, skipped=None) -> dict:
    """{(job, trial): (steps (S,), E (S, p, d))} from embedding.parquet, steps ascending."""
    table = figdata._read(trials, "embedding.parquet", ["trial", "step", "E"], skipped,
                          filter=ds.field("trial").isin([int(t) for t in trials["trial"].unique()]))
    shape = {(str(j), int(t)): (int(p), int(d)) for j, t, p, d in zip(trials["job"], trials["trial"], trials["p"], trials["d"])}
    out = {}
    for (job, trial), rows in table.groupby(["job", "trial"], sort=True):
        key = (str(job), int(trial))
        if key not in shape:
            continue
        rows = rows.sort_values("step")
        E = np.stack([np.asarray(v, dtype=np.float64) for v in rows["E"]]).reshape(len(rows), *shape[key])
        out[key] = (rows["step"].to_numpy(), E)
    return out


def quality(trials: pd.DataFrame, skipped=None) -> pd.DataFrame:
    """Fig 3: per trial with a final embedding: job, trial, train_frac, rqi and predicted_acc
    of the last logged E (over every permissible parallelogram of the whole data), and acc,
    the real accuracy over the whole data (train and test accuracies weighted by their sizes)."""
    found = embeddings(trials, skipped)
    rows = []
    for _, row in trials.iterrows():
        key = (str(row["job"]), int(row["trial"]))
        if key not in found:
            continue
        E = torch.as_tensor(found[key][1][-1])[None]  # (1, p, d)
        a, b, y = samples(row["task.kind"], int(row["p"]))
        train = train_mask(row)
        quads = parallelograms.quadruples(a, b, y)
        share = train.mean()
        rows.append({
            "job": key[0], "trial": key[1], "train_frac": share,
            "rqi": parallelograms.rqi(E, quads).item(),
            "predicted_acc": parallelograms.predicted_accuracy(E, a, b, y, torch.as_tensor(train)).item(),
            "acc": share * row["final_train_acc"] + (1 - share) * row["final_test_acc"],
        })
    return pd.DataFrame(rows, columns=["job", "trial", "train_frac", "rqi", "predicted_acc", "acc"])


def steps_to_rqi(trials: pd.DataFrame, skipped=None, level: float = HIGH_RQI) -> pd.DataFrame:
    """Fig 4b: per trial: job, trial, train_frac (the share of samples in train_pairs, whether
    the split was given as a count or a fraction) and step (first logged step with rqi > level;
    NaN if never)."""
    metrics = figdata._read(trials, "metrics.parquet", ["trial", "step", "rqi"], skipped)
    metrics = metrics.dropna(subset=["rqi"])
    high = metrics[metrics["rqi"].astype(float) > level]
    first = high.groupby(["job", "trial"], observed=True)["step"].min()
    out = trials[["job", "trial"]].copy()
    out["train_frac"] = [train_mask(row).mean() for _, row in trials.iterrows()]
    out["step"] = [first.get((str(j), t), np.nan) for j, t in zip(out["job"], out["trial"])]
    out["step"] = out["step"].astype(float)
    return out.reset_index(drop=True)


def structure(p: int = SEED_002_P, fractions=FRACTIONS, sets: int = SETS, seed: int = THEORY_SEED):
    """Fig 4a / 5a: effective_theory.structure_vs_fraction over random training sets of task add."""
    return effective_theory.structure_vs_fraction(*samples("add", p), p, fractions, sets, seed)


def flow_and_run(row: pd.Series, steps: np.ndarray, E: np.ndarray, points: int = 200):
    """Fig 4 c, d for one 1-D run: its normalised trajectory and the effective flow from its start.

    E (S, p, d) at logged steps; each step normalised by parallelograms.zscore (zero mean and unit
    variance per dimension over tokens, as the paper's Fig 4d). The flow starts from the normalised
    first E, uses A_D of the run's training set and eta = optimizer.embedding.lr, and is
    sampled at `points` (or fewer) steps up to the last logged one.
    Returns (run_steps, run (S, p, d), flow_steps, flow (F, p, d)).
    """
    run = parallelograms.zscore(torch.as_tensor(E, dtype=torch.float64)).numpy()
    a, b, y = samples(row["task.kind"], int(row["p"]))
    train = torch.as_tensor(train_mask(row))
    A = effective_theory.parallelogram_matrix(parallelograms.quadruples(a[train], b[train], y[train]), int(row["p"]))
    last = int(steps[-1] - steps[0])
    stride = max(1, -(-last // points))  # ceil: at most `points` flow samples
    eta = float(row["optimizer.embedding.lr"])
    flow = effective_theory.gradient_flow(torch.as_tensor(run[0]), A, eta * stride, last // stride)
    return steps, run, steps[0] + stride * np.arange(len(flow)), flow.numpy()
