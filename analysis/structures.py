"""Which structure N points in the plane form: a circle, a grid, or neither (seed 003).

Seed 003 (Mușat 2024) reports that 2-D embeddings of modular addition form grids and
circles; its criteria are not public, so these are this project's, with thresholds as
arguments (documented defaults below):

    ev = circle(E)                 # E (N, 2): CircleEvidence(cv, omega, angle_residual, ok)
    ev = grid(E)                   # GridEvidence(quality, median_residual, ok)
    label, evidence = classify(E)  # "circle" | "grid" | "neither", and both evidences as a dict

- circle: the centred radii vary little (coefficient of variation <= `cv_max`) and the
  angles follow theta0 + 2 pi omega k / N for one integer omega: the largest angular
  deviation from that law is at most `angle_tol` angle steps (2 pi / N). omega is
  reported as the frequency 1..N//2 (omega and N - omega are mirror images).
- grid: the modular parallelogram quality is at least `quality_min`: the share of
  quadruples a + b = c + d (mod N), {a, b} != {c, d}, whose residual
  |E_a + E_b - E_c - E_d| is at most `residual_tol` times the points' RMS distance from
  their centre. A circle has quality ~0 (its chords differ unless the pairs coincide); a
  line E_k = k u about 0.5 (the quadruples whose sums do not wrap); random points ~0.
  A grid is such a structure that is not a circle. The quadruples are those of
  circle_survival/parallelograms.py (seed 002's RQI) for the unordered pairs mod N.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from circle_survival import parallelograms

# Defaults, chosen on planted embeddings of N = 17 (tests/analysis/test_structures.py): a
# circle with 2 % noise passes the circle test (cv ~0.04, angle residual ~0.1), a lattice
# does not; a lattice has quality 0.37 (0.28 with 5 % noise), a line 0.61, random points
# at most 0.003 and circles ~0: QUALITY_MIN sits between.
CV_MAX = 0.1  # circle: std / mean of the centred radii
ANGLE_TOL = 0.25  # circle: largest angle deviation from the law, in steps of 2 pi / N
RESIDUAL_TOL = 0.1  # grid: a parallelogram "holds" below this x RMS radius
QUALITY_MIN = 0.2  # grid: share of parallelograms that hold
LABELS = ("circle", "grid", "neither")


@dataclass
class CircleEvidence:
    cv: float  # coefficient of variation of the centred radii
    omega: int  # best-fitting frequency, 1..N//2
    angle_residual: float  # largest angle deviation from theta0 + 2 pi omega k / N, in steps 2 pi / N
    ok: bool


@dataclass
class GridEvidence:
    quality: float  # share of modular parallelograms whose residual <= tol x RMS radius
    median_residual: float  # median residual / RMS radius over all of them
    ok: bool


def _wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def circle(E: np.ndarray, cv_max: float = CV_MAX, angle_tol: float = ANGLE_TOL) -> CircleEvidence:
    """Circle evidence of E (N, 2): ok when cv <= cv_max and angle_residual <= angle_tol."""
    E = np.asarray(E, dtype=float)
    N = len(E)
    X = E - E.mean(axis=0)  # (N, 2)
    r = np.hypot(X[:, 0], X[:, 1])
    cv = float(r.std() / r.mean()) if r.mean() > 0 else float("inf")
    theta = np.arctan2(X[:, 1], X[:, 0])  # (N,)
    k = np.arange(N)
    omegas = np.arange(1, N)  # both orientations: omega and N - omega
    law = 2 * np.pi * omegas[:, None] * k[None, :] / N  # (N-1, N)
    offset = np.angle(np.exp(1j * (theta[None, :] - law)).mean(axis=1))  # (N-1,) circular mean theta0
    dev = np.abs(_wrap(theta[None, :] - law - offset[:, None])).max(axis=1)  # (N-1,)
    best = int(np.argmin(dev))
    residual = float(dev[best] / (2 * np.pi / N))
    omega = int(min(omegas[best], N - omegas[best]))
    return CircleEvidence(cv, omega, residual, bool(cv <= cv_max and residual <= angle_tol))


def quadruples(N: int) -> np.ndarray:
    """(Q, 4) every (a, b, c, d) with a <= b, c <= d, a + b = c + d (mod N) and
    (a, b) < (c, d): each unordered pair of distinct unordered pairs once."""
    return parallelograms.modular_quadruples(N).numpy()


def grid(E: np.ndarray, residual_tol: float = RESIDUAL_TOL, quality_min: float = QUALITY_MIN) -> GridEvidence:
    """Modular parallelogram evidence of E (N, 2): ok when quality >= quality_min."""
    E = np.asarray(E, dtype=float)
    q = quadruples(len(E))  # (Q, 4)
    scale = np.sqrt(((E - E.mean(axis=0)) ** 2).sum(axis=1).mean())
    res = np.linalg.norm(E[q[:, 0]] + E[q[:, 1]] - E[q[:, 2]] - E[q[:, 3]], axis=1)  # (Q,)
    res = res / scale if scale > 0 else np.full(len(q), np.inf)
    quality = float((res <= residual_tol).mean())
    return GridEvidence(quality, float(np.median(res)), bool(quality >= quality_min))


def classify(E: np.ndarray, cv_max: float = CV_MAX, angle_tol: float = ANGLE_TOL,
             residual_tol: float = RESIDUAL_TOL, quality_min: float = QUALITY_MIN) -> tuple[str, dict]:
    """("circle" | "grid" | "neither", evidence): a circle first; a grid is high
    parallelogram quality without a circle. Evidence keys: cv, omega, angle_residual,
    quality, median_residual."""
    c, g = circle(E, cv_max, angle_tol), grid(E, residual_tol, quality_min)
    label = "circle" if c.ok else "grid" if g.ok else "neither"
    evidence = {k: v for k, v in {**asdict(c), **asdict(g)}.items() if k != "ok"}
    return label, evidence
