"""The Fourier view of an embedding E (p tokens x d dims): F_k = sum_n exp(-2 pi i k n / p) E_n.

    s = signals(E)                    # ||F_k|| for k = 0..p//2, as in the parquet files
    m = full_mean(s, p)               # mean of ||F_k|| over all p frequencies
    E2 = keep_frequencies(E, [3, 7])  # zero every other k >= 1 (DC kept), back to tokens
    xy = project(E, k=3)              # (p, 2) token coordinates in the plane of F_3
"""
from __future__ import annotations

import numpy as np


def signals(E: np.ndarray) -> np.ndarray:
    """||F_k|| for k = 0..p//2 (norm over d); E may carry leading batch axes (..., p, d)."""
    return np.linalg.norm(np.fft.rfft(E, axis=-2), axis=-1)


def full_mean(half, p: int) -> np.ndarray:
    """Mean of ||F_k|| over all k = 0..p-1 from the half spectrum k = 0..p//2 (last axis).

    F_{p-k} is the conjugate of F_k, so each k in 1..(p-1)//2 counts twice.
    """
    half = np.asarray(half, dtype=float)
    weights = np.full(p // 2 + 1, 2.0)
    weights[0] = 1.0
    if p % 2 == 0:
        weights[-1] = 1.0  # the Nyquist frequency p/2 is its own partner
    return half @ weights / p


def keep_frequencies(E: np.ndarray, keep) -> np.ndarray:
    """E with every frequency k in 1..p//2 outside `keep` zeroed (and its partner p-k)."""
    p = E.shape[-2]
    F = np.fft.rfft(E, axis=-2)
    mask = np.zeros(p // 2 + 1, dtype=bool)
    mask[0] = True
    mask[list(keep)] = True
    return np.fft.irfft(F * mask[:, None], n=p, axis=-2)


def plane_basis(E: np.ndarray, k: int) -> np.ndarray:
    """Orthonormal basis (d, r <= 2) of span(Re F_k, Im F_k); r < 2 where the plane degenerates."""
    F = np.fft.rfft(E, axis=0)[k]
    u, s, _ = np.linalg.svd(np.stack([F.real, F.imag], axis=1), full_matrices=False)
    return u[:, s > 1e-9 * max(s.max(), 1e-300)]


def project(E: np.ndarray, k: int) -> np.ndarray:
    """Token coordinates (p, 2) on the axes Re F_k / ||Re F_k||, Im F_k / ||Im F_k||."""
    F = np.fft.rfft(E, axis=0)[k]
    axes = np.stack([F.real, F.imag], axis=1)
    norms = np.linalg.norm(axes, axis=0)
    return E @ (axes / np.where(norms > 0, norms, 1))
