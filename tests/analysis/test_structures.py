import numpy as np
import pytest

from analysis import structures

N = 17
K = np.arange(N)


def ring(omega, radius=1.0, centre=(0.0, 0.0), theta0=0.3):
    angle = theta0 + 2 * np.pi * omega * K / N
    return np.stack([np.cos(angle), np.sin(angle)], 1) * radius + centre


def lattice(noise=0.0, seed=0):
    """17 points on a 4 x 4 (+1) lattice with skewed basis vectors."""
    pts = np.stack([K % 4, K // 4], 1) @ np.array([[1.0, 0.2], [0.1, 1.0]])
    return pts + noise * np.random.default_rng(seed).standard_normal(pts.shape)


@pytest.mark.parametrize("omega", [1, 3, 8, 14])
def test_perfect_circle_reports_its_step(omega):
    label, ev = structures.classify(ring(omega, radius=2.5, centre=(4, -1)))
    assert label == "circle"
    assert ev["omega"] == min(omega, N - omega)  # 14 is 3's mirror image
    assert ev["cv"] == pytest.approx(0, abs=1e-12) and ev["angle_residual"] == pytest.approx(0, abs=1e-9)
    assert ev["quality"] < 0.01  # chords of a circle differ: no parallelograms


def test_noisy_circle_passes_and_too_noisy_fails():
    rng = np.random.default_rng(0)
    E = ring(5) * (1 + 0.02 * rng.standard_normal((N, 1)))
    ev = structures.circle(E)
    assert ev.ok and ev.omega == 5 and 0 < ev.cv < structures.CV_MAX
    loud = ring(5) * (1 + 0.3 * rng.standard_normal((N, 1)))
    assert not structures.circle(loud).ok
    assert structures.circle(loud, cv_max=1.0, angle_tol=0.5).ok  # thresholds are arguments


def test_shuffled_ring_is_not_a_circle():
    # on a circle, but tokens in no arithmetic order: the angle law fails
    E = ring(1)[np.random.default_rng(2).permutation(N)]
    ev = structures.circle(E)
    assert ev.cv == pytest.approx(0, abs=1e-12) and not ev.ok and ev.angle_residual > 1


def test_lattice_and_line_are_grids():
    for E in (lattice(), lattice(noise=0.05), np.stack([K, 0 * K], 1).astype(float)):
        label, ev = structures.classify(E)
        assert label == "grid", ev
    assert structures.grid(lattice()).quality == pytest.approx(56 / 153, abs=1e-9)
    # a line: the parallelograms whose sums do not wrap mod N hold exactly
    assert structures.grid(np.stack([K, 0 * K], 1).astype(float)).median_residual == 0


def test_random_points_are_neither():
    rng = np.random.default_rng(3)
    for _ in range(20):
        label, ev = structures.classify(rng.standard_normal((N, 2)))
        assert label == "neither" and ev["quality"] < structures.QUALITY_MIN


def test_quadruples_are_every_modular_parallelogram_once():
    q = structures.quadruples(5)
    assert ((q[:, 0] + q[:, 1]) % 5 == (q[:, 2] + q[:, 3]) % 5).all()
    assert len({tuple(r) for r in q}) == len(q)
    # 15 unordered pairs a <= b, 3 per residue class mod 5: 5 x C(3, 2) = 15 quadruples
    assert len(q) == 15
