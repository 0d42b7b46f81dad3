import numpy as np
import pandas as pd
import pytest

from analysis import ode

# A known sparse system: two damped rotations (so one trajectory explores every
# direction) and a single coupling from x_0 into x_3.
A = np.array([
    [-0.01, 0.05, 0.00, 0.00],
    [-0.05, -0.01, 0.00, 0.00],
    [0.00, 0.00, -0.02, 0.03],
    [0.02, 0.00, -0.03, -0.02],
])
B = np.array([0.5, -0.2, 0.3, 0.1])


def simulate(x0=(40.0, -30, 20, 5), T=1000):
    X = [np.asarray(x0, float)]
    for _ in range(T - 1):
        X.append(X[-1] + A @ X[-1] + B)
    return np.arange(T, dtype=float), np.array(X)


def test_least_squares_recovers_a_known_sparse_system():
    steps, X = simulate()
    fit = ode.fit_linear(steps, X)
    assert fit.A == pytest.approx(A, abs=1e-9) and fit.b == pytest.approx(B, abs=1e-9)
    assert fit.r2_in == pytest.approx(1) and fit.r2_out == pytest.approx(1)
    assert ode.rollout(fit.A, fit.b, X[0], steps) == pytest.approx(X, rel=1e-4)


def test_lasso_recovers_the_sparsity_pattern():
    rng = np.random.default_rng(0)
    steps, X = simulate()
    fit = ode.fit_linear(steps, X + rng.normal(0, 1e-2, X.shape), lasso=1e-3)
    assert ((np.abs(fit.A) > 1e-3) == (A != 0)).all()
    assert fit.A == pytest.approx(A, abs=1e-3) and fit.r2_out > 0.99


def test_analytic_solution_of_a_diagonal_system():
    a, b, x0 = np.array([-0.1, -0.5]), np.array([1.0, 2.0]), np.array([3.0, -1.0])
    t = np.array([0, 1, 2.5, 10])
    expected = np.exp(np.outer(t, a)) * x0 + (np.exp(np.outer(t, a)) - 1) * b / a
    assert ode.analytic(np.diag(a), b, x0, t, eps=0) == pytest.approx(expected)
    # with eps the near-singular Lasso case stays finite and close to x0 + b t
    near = ode.analytic(np.zeros((2, 2)), b, x0, t)
    assert near == pytest.approx(x0 + np.outer(t, b), rel=1e-6)


def test_lotka_volterra_fits_in_sample_but_its_rollout_blows_up():
    # 8 species, 60 noisy steps: 44 regressors per equation overfit, as in the paper.
    rng = np.random.default_rng(0)
    A8 = -0.02 * np.eye(8) + 0.005 * rng.normal(size=(8, 8))
    b8 = rng.uniform(0, 0.5, 8)
    X = [rng.uniform(5, 50, 8)]
    for _ in range(59):
        X.append(X[-1] + A8 @ X[-1] + b8 + rng.normal(0, 0.3, 8))
    X, steps = np.array(X), np.arange(60.0)
    lv, linear = ode.fit_lotka_volterra(steps, X), ode.fit_linear(steps, X)
    assert lv.A.shape == (8, 8 + 36) and lv.r2_in > linear.r2_in + 0.3
    assert ode.diverged_at(ode.rollout(lv.A, lv.b, X[0], steps, phi=ode.quadratic_features), X) is not None
    assert ode.diverged_at(ode.rollout(linear.A, linear.b, X[0], steps), X) is None
    assert ode.quadratic_features(np.array([[2.0, 3.0]])).tolist() == [[2, 3, 4, 6, 9]]


def test_trajectory_from_long_signals():
    rows = [(step, k, 10 * k + step) for step in range(1200) for k in range(3)]
    steps, X = ode.trajectory(pd.DataFrame(rows, columns=["step", "k", "signal"]))
    assert steps.tolist() == list(range(1000)) and X.shape == (1000, 2)
    assert X[5].tolist() == [15, 25]
