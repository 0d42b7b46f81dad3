"""Loss of a trained model when its embedding keeps only chosen frequencies (Fig 8, Fig 12).

A numpy forward pass of the model stored in params.parquet, on all p*p ordered pairs:
logits = W3 silu(W2 silu(W1 [E_a; E_b] + b1) + b2) + b3, label (a + b) % p.

    snaps = snapshots(params)                        # {(trial, step): {"E": ..., "W1": ...}}
    loss, acc = evaluate(snaps[(0, 30000)])          # the unmodified model
    curve = restricted_curves(params, trial=0, keep={"1 circle": [17], "3 circles": [17, 4, 22]})
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from analysis import fourier


# The job settings this forward pass is: the paper's model, modular addition, plain
# cross-entropy (trials.parquet columns; `check_supported` refuses any other).
SUPPORTED = {"model.kind": "mlp", "task.kind": "mod_add", "loss.kind": "cross_entropy"}


def check_supported(trial: pd.Series) -> None:
    """ValueError naming the setting if `trial` (a trials.parquet row) is a job this module's
    forward pass would get wrong, e.g. task=add or loss=mse; columns absent are the defaults."""
    wrong = [f"{k}={trial[k]}" for k, v in SUPPORTED.items() if k in trial and trial[k] != v]
    if "loss.scale" in trial and trial["loss.scale"] not in (None, 1.0) and not pd.isna(trial["loss.scale"]):
        wrong.append(f"loss.scale={trial['loss.scale']}")
    if wrong:
        raise ValueError(f"the restricted loss is computed for the paper's setting only "
                         f"({', '.join(f'{k}={v}' for k, v in SUPPORTED.items())}, loss.scale=1); "
                         f"job {trial.get('job', '?')} has {', '.join(wrong)}")


def snapshots(params: pd.DataFrame) -> dict:
    """Arrays by (trial, step) and name, reshaped from the row-major `values` lists."""
    lengths = np.asarray(params["values"].list.len())
    flat = np.asarray(params["values"].list.flatten(), dtype=np.float64)
    ends = np.cumsum(lengths)
    shapes = params["shape"].tolist()
    out: dict = {}
    for i, (trial, step, name) in enumerate(zip(params["trial"], params["step"], params["name"])):
        array = flat[ends[i] - lengths[i]:ends[i]].reshape([int(s) for s in shapes[i]])
        out.setdefault((int(trial), int(step)), {})[name] = array
    return out


def logits(weights: dict, E: np.ndarray | None = None) -> np.ndarray:
    """Logits (p, p, p) for every pair (a, b); E replaces the snapshot's embedding if given."""
    E = weights["E"] if E is None else E
    d = E.shape[1]
    W1 = weights["W1"]
    # W1 [E_a; E_b] = W1[:, :d] E_a + W1[:, d:] E_b: two (p, width) products, broadcast over pairs.
    h = (E @ W1[:, :d].T)[:, None, :] + (E @ W1[:, d:].T)[None, :, :] + weights["b1"]
    h = _silu(_silu(h) @ weights["W2"].T + weights["b2"])
    return h @ weights["W3"].T + weights["b3"]


def evaluate(weights: dict, E: np.ndarray | None = None) -> tuple[float, float]:
    """Mean cross-entropy and accuracy over all p*p pairs."""
    z = logits(weights, E)
    p = z.shape[0]
    label = (np.arange(p)[:, None] + np.arange(p)[None, :]) % p
    z = z - z.max(axis=-1, keepdims=True)
    log_prob = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_prob, label[..., None], axis=-1)[..., 0]
    return float(-picked.mean()), float((z.argmax(axis=-1) == label).mean())


def restricted_curves(params: pd.DataFrame, trial: int, keep: dict) -> pd.DataFrame:
    """Loss and accuracy at every snapshot of `trial`, once per named set of kept frequencies.

    keep maps a label to the frequencies kept (DC always kept); returns columns
    label, step, loss, acc.
    """
    rows = []
    for (_, step), weights in sorted(snapshots(params[params["trial"] == trial]).items()):
        for label, ks in keep.items():
            loss, acc = evaluate(weights, fourier.keep_frequencies(weights["E"], ks))
            rows.append({"label": label, "step": step, "loss": loss, "acc": acc})
    return pd.DataFrame(rows, columns=["label", "step", "loss", "acc"])


def _silu(x):
    return x * expit(x)
