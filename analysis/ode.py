"""Circle dynamics as a linear ODE, dx/dt = A x + b (Section 4.2), and the Lotka-Volterra form.

x_t holds the signals of k = 1..p//2 over the first 1000 logged steps. The ODE is
fitted by regressing (x_{t+1} - x_t) / dt on x_t, with least squares or a Lasso.

    steps, X = trajectory(signals_of_one_trial)          # (T,), (T, p//2)
    fit = fit_linear(steps, X, lasso=0.01)                # fit.A, fit.b, fit.r2_in, fit.r2_out
    path = rollout(fit.A, fit.b, X[0], steps)             # the fitted map, stepped forward
    exact = analytic(fit.A, fit.b, X[0], steps - steps[0])   # e^{At} x0 + (e^{At} - I) A^-1 b
    lv = fit_lotka_volterra(steps, X)                     # Eq. 2: adds every x_i x_j term
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import expm
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

N_STEPS = 1000  # after ~1000 steps weight decay alone drives the signals (Appendix D)
LASSO_ALPHA = 0.01
EPS = 1e-8  # added to A's diagonal so that A is invertible (the Lasso's A is very sparse)


@dataclass
class Fit:
    """A fitted dx/dt = A x + b (or, for Lotka-Volterra, dx/dt = W phi(x) + b)."""

    A: np.ndarray
    b: np.ndarray
    r2_in: float   # in-sample, fitted on all pairs (what the authors' code scored)
    r2_out: float  # fitted on 80 % of the pairs, scored on the other 20 % (the paper's figure)


def trajectory(signals: pd.DataFrame, n_steps: int = N_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """Steps (T,) and signals (T, K) of k >= 1 from one trial's long signals table (step < n_steps)."""
    early = signals[(signals["step"] < n_steps) & (signals["k"] >= 1)]
    wide = early.pivot_table(index="step", columns="k", values="signal", aggfunc="first").sort_index()
    return wide.index.to_numpy(dtype=float), wide.to_numpy(dtype=float)


def fit_linear(steps, X, lasso: float | None = None, test_size: float = 0.2, seed: int = 0) -> Fit:
    """Fit dx/dt = A x + b by least squares (lasso=None) or Lasso(alpha=lasso)."""
    return _fit(_pairs(steps, X), _model(lasso), test_size, seed, phi=lambda x: x)


def fit_lotka_volterra(steps, X, test_size: float = 0.2, seed: int = 0) -> Fit:
    """Fit Eq. 2, dx/dt = A x + B (x_i x_j)_{i<=j} + b, by least squares; Fit.A holds [A | B]."""
    return _fit(_pairs(steps, X), _model(None), test_size, seed, phi=quadratic_features)


def quadratic_features(X: np.ndarray) -> np.ndarray:
    """[x, x_i x_j for i <= j] for each row of X (the Lotka-Volterra regressors)."""
    i, j = np.triu_indices(X.shape[-1])
    return np.concatenate([X, X[..., i] * X[..., j]], axis=-1)


def rollout(A, b, x0, steps, phi=None) -> np.ndarray:
    """Step the fitted map x <- x + dt (A phi(x) + b) from x0 over the given steps.

    phi is the identity for the linear ODE and quadratic_features for Lotka-Volterra;
    an unstable fit overflows to inf/NaN, which is the point of showing it.
    """
    phi = phi or (lambda x: x)
    out = np.empty((len(steps), len(x0)))
    out[0] = x0
    with np.errstate(over="ignore", invalid="ignore"):
        for t, dt in enumerate(np.diff(steps), start=1):
            out[t] = out[t - 1] + dt * (A @ phi(out[t - 1]) + b)
    return out


def analytic(A, b, x0, t, eps: float = EPS) -> np.ndarray:
    """x(t) = e^{At} x0 + (e^{At} - I) A^{-1} b with A + eps I, for each time in t -> (len(t), K)."""
    A = A + eps * np.eye(len(A))
    c = np.linalg.solve(A, b)  # the fixed point is -c
    return np.stack([expm(A * s) @ (x0 + c) - c for s in np.asarray(t, dtype=float)])


def diverged_at(path: np.ndarray, data: np.ndarray, factor: float = 10.0):
    """First index where a rollout leaves `factor` x the data's range (or is not finite); None if never."""
    limit = factor * np.abs(data).max()
    bad = ~np.isfinite(path).all(axis=1) | (np.abs(np.nan_to_num(path, nan=np.inf)) > limit).any(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def _pairs(steps, X):
    """(x_t, (x_{t+1} - x_t) / dt) for consecutive logged steps."""
    steps, X = np.asarray(steps, dtype=float), np.asarray(X, dtype=float)
    return X[:-1], np.diff(X, axis=0) / np.diff(steps)[:, None]


def _model(lasso):
    return LinearRegression() if lasso is None else Lasso(alpha=lasso, max_iter=50_000)


def _fit(pairs, model, test_size, seed, phi) -> Fit:
    x, dx = pairs
    features = phi(x)
    train_f, test_f, train_dx, test_dx = train_test_split(features, dx, test_size=test_size,
                                                          random_state=seed)
    # A small Lasso alpha may stop short of sklearn's tight tolerance; R² still says how good it is.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r2_out = r2_score(test_dx, model.fit(train_f, train_dx).predict(test_f))
        model.fit(features, dx)
    r2_in = r2_score(dx, model.predict(features))
    return Fit(A=np.atleast_2d(model.coef_), b=np.atleast_1d(model.intercept_), r2_in=r2_in, r2_out=r2_out)
