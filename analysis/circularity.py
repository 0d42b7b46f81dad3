"""Circularity of each Fourier frequency of an embedding (Eq. 5, Appendix B).

For frequency k, project the tokens onto the plane spanned by Re F_k and Im F_k,
X_j = B_k^T E_j, and measure which fraction of that projection's energy sits at
frequency k:

    c_k = 2 / (p sum_j ||X_j||^2) * || sum_j X_j exp(2 pi i j k / p) ||^2

1 for a perfect circle of frequency k, smaller when other frequencies leak into
the plane. Because Re F_k and Im F_k lie in the plane, the numerator is ||F_k||^2.

    c = circularity(E)          # (p//2 + 1,) for E of shape (p, d); c[0] is NaN
    c = circularity(Es)         # (n, p//2 + 1) for a stack of embeddings (n, p, d)
"""
from __future__ import annotations

import numpy as np


def circularity(E: np.ndarray) -> np.ndarray:
    """c_k for k = 0..p//2 over the last two axes (p, d); NaN where F_k = 0 and for k = 0."""
    E = np.asarray(E, dtype=float)
    p = E.shape[-2]
    F = np.fft.rfft(E, axis=-2)                                   # (..., K, d)
    planes = np.stack([F.real, F.imag], axis=-1)                  # (..., K, d, 2)
    u, s, _ = np.linalg.svd(planes, full_matrices=False)
    # Drop directions that carry nothing (Im F_k = 0 for k = 0 and p/2; all of an empty k),
    # judged against the embedding's own scale so that rounding noise counts as nothing.
    scale = np.sqrt((E**2).sum(axis=(-2, -1)))[..., None, None]
    u = u * (s > 1e-9 * scale)[..., None, :]
    X = E[..., None, :, :] @ u                                    # (..., K, p, 2)
    energy = (X**2).sum(axis=(-2, -1))
    partners = np.full(p // 2 + 1, 2.0)
    partners[0] = np.nan  # DC is no circle
    if p % 2 == 0:
        partners[-1] = 1.0  # k = p/2 has no separate partner frequency
    with np.errstate(invalid="ignore", divide="ignore"):
        c = partners * (np.abs(F) ** 2).sum(axis=-1) / (p * energy)
    return np.where(energy > 0, c, np.nan)
