"""Seed 002's effective theory of representation learning (Sec. 3.2, App. F).

A training set D fixes the permissible parallelograms P0(D) (parallelograms.quadruples of D's
samples). One row per parallelogram gives A_D; ground states solve A_D E = 0.

    quads = quadruples(a[train], b[train], y[train])     # P0(D), (Q, 4)
    A = parallelogram_matrix(quads, p)                   # (Q, p)
    nullity(A)                                           # 2: a unique linear structure
    lam = eigenvalues(A)                                 # (p,) of A^T A, ascending
    lambda3_of(lam)                                      # the third smallest (0 when nullity > 2)
    E_t = gradient_flow(E0, A, eta=1e-3, steps=2000)     # (steps + 1, p, d), dE/dt = -eta grad l_eff
    structure_vs_fraction(a, b, y, p, [0.2, 0.4, 0.6])   # P(unique) and mean lambda3 over random D

Everything takes batches where it says so; float64 throughout (the matrices are small integers).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from circle_survival.parallelograms import quadruples, sample_pairs

RANK_TOL = 1e-9  # an eigenvalue of A^T A below RANK_TOL x max(1, largest) counts as zero


def parallelogram_matrix(quads: torch.Tensor, p: int) -> torch.Tensor:
    """A_D (Q, p) float64: row q has +1 at i, +1 at j, -1 at m, -1 at n, summed when tokens repeat.

    (1, 1, 0, 2) gives the row [-1, 2, -1, 0, ...]; A_D E stacks E_i + E_j - E_m - E_n.
    """
    quads = torch.as_tensor(quads).long().reshape(-1, 4)
    A = torch.zeros(len(quads), p, dtype=torch.float64)
    sign = torch.tensor([1.0, 1.0, -1.0, -1.0], dtype=torch.float64).expand(len(quads), 4)
    return A.scatter_add_(1, quads, sign.contiguous())


def gram(A: torch.Tensor) -> torch.Tensor:
    """A^T A: (..., Q, p) -> (..., p, p); the effective theory's Hessian up to a constant factor."""
    return A.transpose(-1, -2) @ A


def eigenvalues(A: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of A^T A in increasing order: (..., Q, p) -> (..., p). lambda3 = [..., 2]."""
    return torch.linalg.eigvalsh(gram(A))


def nullity_of(lam: torch.Tensor) -> torch.Tensor:
    """How many eigenvalues of A^T A (..., p) are zero (relative to RANK_TOL): (...,) int64."""
    scale = lam[..., -1:].clamp(min=1.0)
    return (lam <= RANK_TOL * scale).sum(-1)


def lambda3_of(lam: torch.Tensor) -> torch.Tensor:
    """The grokking rate lambda3 from eigenvalues (..., p): the third smallest, exactly 0 when nullity > 2."""
    return torch.where(nullity_of(lam) > 2, 0.0, lam[..., 2])


def nullity(A: torch.Tensor) -> torch.Tensor:
    """dim null(A_D) = p - rank: (..., Q, p) -> (...,). At least 2 (translation and scale)."""
    return nullity_of(eigenvalues(A))


def unique_linear(A: torch.Tensor) -> torch.Tensor:
    """Whether D fixes E up to translation and scale (E_k = a + b k): nullity == 2, (...,) bool."""
    return nullity(A) == 2


def effective_loss(E: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """l_eff = l0 / Z0: E (..., p, d), A (Q, p) -> (...,).

    l0 = mean over the Q parallelograms of |E_i + E_j - E_m - E_n|^2, Z0 = sum_k |E_k|^2.
    """
    l0 = (A @ E).pow(2).sum(-1).mean(-1)
    return l0 / E.pow(2).sum((-1, -2))


def effective_gradient(E: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
    """grad_E l_eff = (2 / (Q Z0)) A^T A E - (2 l0 / Z0^2) E, same shape as E (..., p, d)."""
    Q = A.shape[-2]
    Z0 = E.pow(2).sum((-1, -2), keepdim=True)       # (..., 1, 1)
    AE = A @ E                                      # (..., Q, d)
    l0 = AE.pow(2).sum((-1, -2), keepdim=True) / Q  # (..., 1, 1)
    return 2 * (A.transpose(-1, -2) @ AE) / (Q * Z0) - 2 * l0 * E / Z0 ** 2


def gradient_flow(E0: torch.Tensor, A: torch.Tensor, eta: float, steps: int, substeps: int = 4) -> torch.Tensor:
    """Integrate dE/dt = -eta grad l_eff from E0 (p, d) for t = 0..steps: (steps + 1, p, d).

    Time is in optimizer steps (rate eta); RK4 with `substeps` stages per step. The flow
    conserves Z0 and, when sum_k E0_k = 0 (start from a centred embedding, as the paper
    normalises it), sum_k E_k; it drives A E to 0. A with no rows leaves E0 unchanged.
    """
    E = torch.as_tensor(E0, dtype=torch.float64).clone()
    A = torch.as_tensor(A, dtype=torch.float64)
    out = [E.clone()]
    if A.shape[0] == 0:
        return torch.stack(out * (steps + 1))
    h = 1.0 / substeps

    def f(x):
        return -eta * effective_gradient(x, A)

    for _ in range(steps):
        for _ in range(substeps):
            k1 = f(E)
            k2 = f(E + h / 2 * k1)
            k3 = f(E + h / 2 * k2)
            k4 = f(E + h * k3)
            E = E + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(E.clone())
    return torch.stack(out)


@dataclass
class Structure:
    """Per training fraction (F,): the count used, P(unique linear structure) and mean lambda3."""
    fraction: np.ndarray
    train_count: np.ndarray
    p_unique: np.ndarray
    mean_lambda3: np.ndarray


def random_training_sets(n: int, count: int, sets: int, gen: torch.Generator) -> torch.Tensor:
    """`sets` random training sets of `count` of the n samples, uniformly: (sets, n) bool."""
    rank = torch.rand(sets, n, generator=gen, dtype=torch.float64).argsort(-1).argsort(-1)
    return rank < count


def training_set_eigenvalues(a, b, y, p: int, train: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of A_D^T A_D for each training set train (S, n) bool of the samples (a, b, y): (S, p).

    Uses A_D^T A_D = A0^T diag(w) A0 with A0 over every permissible parallelogram of the
    whole data and w = both samples in D, so all S sets go through one batched eigvalsh.
    """
    s, t = sample_pairs(y).T
    A0 = parallelogram_matrix(quadruples(a, b, y), p)        # (Q0, p)
    w = (train[:, s] & train[:, t]).double()                 # (S, Q0)
    H = torch.einsum("qi,sq,qj->sij", A0, w, A0)             # (S, p, p)
    return torch.linalg.eigvalsh(H)


def structure_vs_fraction(a, b, y, p: int, fractions, sets: int = 1000, seed: int = 0) -> Structure:
    """P(nullity(A_D) == 2) and mean lambda3 of A_D^T A_D over `sets` random training sets per fraction.

    A training set of fraction r has round(r n) of the n samples (a, b, y). Seeded.

        structure_vs_fraction(*addition_pairs(10), 10, np.linspace(0.1, 1, 19))
    """
    n = len(torch.as_tensor(y))
    gen = torch.Generator().manual_seed(seed)
    fractions = np.asarray(fractions, dtype=float)
    counts = np.rint(fractions * n).astype(int)
    p_unique, lambda3 = [], []
    for count in counts:
        lam = training_set_eigenvalues(a, b, y, p, random_training_sets(n, int(count), sets, gen))
        p_unique.append((nullity_of(lam) == 2).double().mean().item())
        lambda3.append(lambda3_of(lam).mean().item())
    return Structure(fractions, counts, np.array(p_unique), np.array(lambda3))


def critical_fraction(fraction, p_unique, level: float = 0.5) -> float:
    """The training fraction where P(unique linear structure) first reaches `level`, interpolated linearly.

    NaN when it never does.
    """
    fraction, p_unique = np.asarray(fraction, float), np.asarray(p_unique, float)
    above = np.flatnonzero(p_unique >= level)
    if len(above) == 0:
        return float("nan")
    k = above[0]
    if k == 0:
        return float(fraction[0])
    f0, f1, q0, q1 = fraction[k - 1], fraction[k], p_unique[k - 1], p_unique[k]
    return float(f0 + (level - q0) * (f1 - f0) / (q1 - q0))
