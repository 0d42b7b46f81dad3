import numpy as np
import pytest

from analysis import stats


def test_t_interval_known_answer():
    mean, lo, hi = stats.t_interval([1, 2, 3, 4, 5])
    # sd = 1.5811, se = 0.7071, t(0.975, 4) = 2.776445
    assert mean == 3
    assert (lo, hi) == pytest.approx((3 - 1.963243, 3 + 1.963243), abs=1e-5)
    assert np.isnan(stats.t_interval([7])[1])
    # R² of 0.943 and 0.96 (fig9 at laptop scale, 2 runs): t(0.975, 1) = 12.706 makes the
    # interval wider than R² allows; the upper end stops at 1
    mean, lo, hi = stats.t_interval([0.926, 0.96], upper=1.0)
    assert (mean, hi) == (pytest.approx(0.943), 1.0) and lo == pytest.approx(0.943 - 12.7062 * 0.017, abs=1e-3)
    # test losses 0.1 and 13.2 (fig4 at laptop scale, d = 16, 2 runs): the lower end stops at 0
    mean, lo, hi = stats.t_interval([0.1, 13.2], lower=0.0)
    assert (mean, lo) == (pytest.approx(6.65), 0.0) and hi == pytest.approx(6.65 + 12.7062 * 6.55)


def test_t_half_width_vectorised_matches_scalar():
    half = stats.t_half_width([1.5811388, 0.0, 1.0], [5, 3, 1])
    assert half[:2] == pytest.approx([1.963243, 0.0], abs=1e-5)
    assert np.isnan(half[2])


def test_bootstrap_interval():
    assert stats.bootstrap_interval([4, 4, 4]) == (4, 4)
    x = np.random.default_rng(1).normal(10, 2, 400)
    _, t_lo, t_hi = stats.t_interval(x)
    assert stats.bootstrap_interval(x) == pytest.approx((t_lo, t_hi), abs=0.03)  # large n: they agree
    assert stats.bootstrap_interval(x, seed=3) == stats.bootstrap_interval(x, seed=3)


def test_wilson_interval_known_answers():
    lo, hi = stats.wilson_interval([5, 0, 10], [10, 10, 10])
    assert lo == pytest.approx([0.236593, 0.0, 0.722467], abs=1e-5)
    assert hi == pytest.approx([0.763407, 0.277533, 1.0], abs=1e-5)


def test_pearson_interval_fisher_z():
    # z = atanh(0.5) = 0.5493, se = 1 / sqrt(100) -> tanh(0.5493 -+ 0.19600)
    assert stats.pearson_interval(0.5, 103) == pytest.approx((0.339308, 0.632338), abs=1e-5)


def test_slope_interval():
    x = np.arange(10.0)
    slope, lo, hi = stats.slope_interval(x, 2 * x + 1)
    assert (slope, lo, hi) == pytest.approx((2, 2, 2))
    y = 2 * x + np.array([1, -1] * 5)
    slope, lo, hi = stats.slope_interval(x, y)
    assert lo < 2 < hi and lo > 1.5


def test_difference_interval_welch_known_answer():
    # diff -3, se sqrt(1/3 + 1/3), Welch df = 4, t(0.975, 4) = 2.776445
    diff, lo, hi = stats.difference_interval([1, 2, 3], [4, 5, 6])
    half = 2.776445 * np.sqrt(2 / 3)
    assert (diff, lo, hi) == pytest.approx((-3, -3 - half, -3 + half), abs=1e-5)
    assert stats.difference_interval([2, 2], [1, 1]) == (1, 1, 1)
