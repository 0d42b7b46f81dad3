"""Fourier signals of an embedding and the rules that call a frequency a surviving circle.

    s = spectrum(E)                  # (..., p): ||F_k|| for k = 0..p-1 (Eq. 1, norm over d)
    alive = survivors(s, "two_mean") # (..., p//2 + 1) bool over k = 0..p//2
    circle_list(alive[0])            # [2, 8, 22, 23]

F_k = sum_n exp(-2 pi i k n / p) E_n is the FFT along the token axis; for real E,
F_{p-k} is the conjugate of F_k, so k and p - k are one circle.
"""
from __future__ import annotations

import numpy as np
import torch

RULES = {
    "two_mean": "||F_k|| > 2 x mean of ||F_k|| over all p frequencies (DC included)",
    "threshold": "||F_k|| > circles.threshold",
}


def spectrum(E: torch.Tensor) -> torch.Tensor:
    """||F_k|| for every k = 0..p-1: E (..., p, d) -> (..., p), real, in E's precision."""
    return torch.linalg.vector_norm(torch.fft.fft(E, dim=-2), dim=-1)


def half(full: torch.Tensor | np.ndarray):
    """The distinct frequencies k = 0..p//2 of a full spectrum (..., p)."""
    return full[..., : full.shape[-1] // 2 + 1]


def survivors(full, rule: str = "two_mean", threshold: float = 10.0) -> np.ndarray:
    """Which k = 0..p//2 are surviving circles, from a full spectrum (..., p).

    DC (k = 0) is never a circle. For odd and even p alike, k counts if k or p - k
    passes (for a real embedding both have the same norm).
    """
    full = np.asarray(full, dtype=np.float64)
    p = full.shape[-1]
    if rule == "two_mean":
        above = full > 2 * full.mean(-1, keepdims=True)
    elif rule == "threshold":
        above = full > threshold
    else:
        raise ValueError(f"unknown circle rule {rule!r}; known: {sorted(RULES)}")
    ks = np.arange(p // 2 + 1)
    alive = above[..., ks] | above[..., (p - ks) % p]
    alive[..., 0] = False
    return alive


def circle_list(alive: np.ndarray) -> list[int]:
    """The surviving k of one trial's mask (p//2 + 1,), ascending."""
    return [int(k) for k in np.flatnonzero(alive)]
