import numpy as np
import pytest

from analysis import synthetic
from analysis.circularity import circularity


UNIT = np.eye(6)  # axes of R^6 for planted circles


def test_perfect_circles_have_circularity_one():
    c = circularity(synthetic.circle(11, 3, UNIT[0], UNIT[1]) + 2 * synthetic.circle(11, 5, UNIT[2], UNIT[3]))
    assert c[[3, 5]] == pytest.approx(1)
    assert np.isnan(c[[0, 1, 2, 4]]).all()  # empty frequencies (and DC) have no circularity


def test_two_frequencies_sharing_one_axis_split_the_energy():
    t = np.arange(11)
    E = np.zeros((11, 4))
    E[:, 0] = np.cos(2 * np.pi * 3 * t / 11) + np.cos(2 * np.pi * 5 * t / 11)
    # the plane of k = 3 is that one axis; half its energy is at k = 3
    assert circularity(E)[[3, 5]] == pytest.approx([0.5, 0.5])


def test_nyquist_frequency_of_even_p():
    E = np.zeros((8, 3))
    E[:, 1] = (-1.0) ** np.arange(8)
    assert circularity(E)[4] == pytest.approx(1)


def test_random_embeddings_get_more_circular_with_d_and_batches_work():
    rng = np.random.default_rng(0)
    small = circularity(rng.normal(size=(20, 31, 8)))[..., 1:]
    large = circularity(rng.normal(size=(20, 31, 128)))[..., 1:]
    assert small.shape == (20, 15)
    assert large.mean() > small.mean() + 0.2
    assert ((small > 0) & (small <= 1 + 1e-12)).all()
