"""Initial gradient as a fitness measure (Section 3.2.2, Fig 7).

The gradient of frequency k at step i is signal(i) - signal(i-1), divided by the
initial signal; it includes weight decay, as in the paper.

    table = gradient_table(trials, signals)        # signals: job, trial, step, k, signal
    curve = survival_vs_gradient(table, step=4)    # binned survival rate, Wilson CI
    t, pvalue = gradient_ttest(table, step=4)      # survived vs dead (Welch)
    svm = svm_accuracy(table, step=4)              # {"accuracy", "lo", "hi", "n_test", ...}
    peak, late = spike(grads)                      # Fig 13: grads has step, k, grad_signal
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from analysis import stats, survival

STEPS = (1, 2, 3, 4)


def gradient_table(trials: pd.DataFrame, signals: pd.DataFrame, steps=STEPS) -> pd.DataFrame:
    """One row per (job, trial, k >= 1): init_signal, survived, and g1..g4 (relative gradients)."""
    wanted = signals[signals["step"].isin([0, *steps]) & (signals["k"] >= 1)]
    wide = wanted.pivot_table(index=["job", "trial", "k"], columns="step", values="signal",
                              aggfunc="first", observed=True)
    missing = [s for s in [0, *steps] if s not in wide.columns]
    if missing:
        raise ValueError(f"signals lack steps {missing}: log.dense_steps must be > {max(steps)}")
    out = pd.DataFrame(index=wide.index)
    out["init_signal"] = wide[0]
    for step in steps:
        out[f"g{step}"] = (wide[step] - wide[step - 1]) / wide[0]
    out = out.reset_index()
    out["job"] = out["job"].astype(str)
    freq = survival.frequency_table(trials)
    freq["job"] = trials["job"].to_numpy()[freq["row"]]
    freq["trial"] = trials["trial"].to_numpy()[freq["row"]]
    return out.merge(freq[["job", "trial", "k", "survived"]], on=["job", "trial", "k"], how="inner")


def survival_vs_gradient(table: pd.DataFrame, step: int = 4, bins: int = 10) -> pd.DataFrame:
    """Survival rate in quantile bins of the step's gradient: g (bin mean), n, rate, lo, hi."""
    g = table[f"g{step}"]
    edges = np.unique(np.quantile(g, np.linspace(0, 1, bins + 1)))
    binned = table.groupby(pd.cut(g, edges, include_lowest=True), observed=True)
    curve = binned.agg(g=(f"g{step}", "mean"), n=("survived", "size"), survived=("survived", "sum"))
    curve = curve.reset_index(drop=True)
    curve["rate"] = curve["survived"] / curve["n"]
    curve["lo"], curve["hi"] = stats.wilson_interval(curve["survived"], curve["n"])
    return curve


def gradient_ttest(table: pd.DataFrame, step: int = 4) -> tuple[float, float]:
    """Welch t statistic and p-value, gradient of survived vs dead frequencies."""
    g = table[f"g{step}"]
    result = sps.ttest_ind(g[table["survived"]], g[~table["survived"]], equal_var=False)
    return float(result.statistic), float(result.pvalue)


def svm_accuracy(table: pd.DataFrame, step: int = 4, test_size: float = 0.2, seed: int = 0) -> dict:
    """Linear SVM on (gradient at `step`, initial signal) -> survived, scored on a held-out split.

    Returns accuracy with its Wilson 95 % interval, n_test, the majority-class
    baseline on the same test set, and the fitted model.
    """
    X = table[[f"g{step}", "init_signal"]].to_numpy(dtype=float)
    y = table["survived"].to_numpy()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed)
    model = make_pipeline(StandardScaler(), LinearSVC(random_state=seed)).fit(X_train, y_train)
    correct = int((model.predict(X_test) == y_test).sum())
    lo, hi = stats.wilson_interval(correct, len(y_test))
    return {
        "accuracy": correct / len(y_test), "lo": float(lo), "hi": float(hi), "n_test": len(y_test),
        "baseline": max(y_test.mean(), 1 - y_test.mean()), "model": model,
    }


def spike(grads: pd.DataFrame, after: int = 1000) -> tuple[int, float]:
    """Fig 13: the step at which the embedding gradient's Fourier norm, averaged over k >= 1,
    peaks, and its largest value from step `after` on as a share of that peak.

        spike(signals[["step", "k", "grad_signal"]])   # (100, 0.01): a spike at 100, 1 % later
    """
    mean = grads[grads["k"] >= 1].groupby("step")["grad_signal"].mean()
    late = mean[mean.index >= after]
    return int(mean.idxmax()), float(late.max() / mean.max()) if len(late) else float("nan")
