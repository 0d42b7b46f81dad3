import numpy as np
import pytest

from analysis import fourier, synthetic


UNIT = np.eye(6)  # axes of R^6 for planted circles


def test_signals_of_a_circle():
    s = fourier.signals(synthetic.circle(13, 4, UNIT[0], UNIT[1]))
    # F_4 = (p/2) u - i (p/2) v, so ||F_4|| = p / sqrt(2); every other frequency is empty
    assert s[4] == pytest.approx(13 / np.sqrt(2))
    assert np.delete(s, 4) == pytest.approx(0, abs=1e-12)
    E = synthetic.circle(13, 4, UNIT[0], UNIT[1])
    assert fourier.signals(np.stack([E, 2 * E])).shape == (2, 7)


def test_full_mean_counts_partner_frequencies():
    assert fourier.full_mean([1, 2, 3], 5) == pytest.approx((1 + 2 * 2 + 2 * 3) / 5)
    assert fourier.full_mean([1, 2, 3], 4) == pytest.approx((1 + 2 * 2 + 3) / 4)  # Nyquist counted once
    E = np.random.default_rng(0).normal(size=(12, 5))
    full = np.linalg.norm(np.fft.fft(E, axis=0), axis=1).mean()
    assert fourier.full_mean(fourier.signals(E), 12) == pytest.approx(full)


def test_keep_frequencies_removes_the_others_and_keeps_dc():
    a, b = synthetic.circle(11, 3, UNIT[0], UNIT[1]), synthetic.circle(11, 5, UNIT[2], UNIT[3])
    dc = np.full((11, 6), 0.7)
    assert fourier.keep_frequencies(a + b + dc, [3]) == pytest.approx(a + dc)
    assert fourier.keep_frequencies(a + b + dc, [3, 5]) == pytest.approx(a + b + dc)


def test_project_puts_a_circle_on_the_unit_circle():
    xy = fourier.project(3 * synthetic.circle(11, 2, UNIT[0], UNIT[1]), 2)
    assert np.linalg.norm(xy, axis=1) == pytest.approx(3)
    assert fourier.plane_basis(synthetic.circle(11, 2, UNIT[0], UNIT[1]), 2).shape == (6, 2)
