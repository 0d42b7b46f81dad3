"""Parallelograms of an addition data set and the representation quality index (RQI).

Seed 002 (Liu et al. 2022, Sec. 3.1): a sample is a token pair (a, b) with label y. Two
distinct samples (i, j) and (m, n) with equal labels form a permissible parallelogram
(i, j, m, n); it is present in an embedding E when E_i + E_j is close to E_m + E_n.

    a, b, y = ...                       # (n,) tokens and labels of a data set's samples
    quads = quadruples(a, b, y)         # (Q, 4) token indices (i, j, m, n); Q = 70 for p = 10, i <= j
    rqi(E, quads)                       # (T,) fraction present, E (T, p, d)
    present(E, quads)                   # (T, Q) bool: which ones
    predicted_accuracy(E, a, b, y, train)   # (T,) |D_bar| / |D0|, train (T, n) bool

Works for modular labels ((a + b) mod p) as well: only equality of labels is used.
"""
from __future__ import annotations

import torch

DELTA = 0.01  # the authors' cut on the mean squared residual of z-scored embeddings


def sample_pairs(y: torch.Tensor) -> torch.LongTensor:
    """Sample indices (s, t), s < t, of every pair of distinct samples with equal labels: (Q, 2).

    Ordered by (s, t); row q of sample_pairs and of quadruples name the same parallelogram.
    """
    y = torch.as_tensor(y).long().reshape(-1)
    s, t = torch.triu_indices(len(y), len(y), offset=1)  # (2, n(n-1)/2), s < t
    keep = y[s] == y[t]
    return torch.stack([s[keep], t[keep]], dim=1)


def quadruples(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> torch.LongTensor:
    """Rows (i, j, m, n) = (a_s, b_s, a_t, b_t) for every pair of samples s < t with y_s == y_t.

    Each unordered pair of distinct samples appears once, ordered by (s, t).
    """
    a, b = (torch.as_tensor(x).long().reshape(-1) for x in (a, b))
    s, t = sample_pairs(y).T
    return torch.stack([a[s], b[s], a[t], b[t]], dim=1)  # (Q, 4)


def zscore(E: torch.Tensor) -> torch.Tensor:
    """E (..., p, d) standardised per dimension over the p tokens (mean 0, unbiased std 1)."""
    return (E - E.mean(-2, keepdim=True)) / E.std(-2, keepdim=True)


def residuals(E: torch.Tensor, quads: torch.Tensor) -> torch.Tensor:
    """E_i + E_j - E_m - E_n for each row of quads: E (..., p, d) -> (..., Q, d)."""
    i, j, m, n = quads.long().T
    return E[..., i, :] + E[..., j, :] - E[..., m, :] - E[..., n, :]


def present(E: torch.Tensor, quads: torch.Tensor, delta: float = DELTA) -> torch.Tensor:
    """Which parallelograms are present: mean over d of the squared residual of zscore(E) <= delta.

    E (..., p, d) -> (..., Q) bool. A constant embedding (std 0) has none present.
    """
    r = residuals(zscore(E.double()), quads)  # (..., Q, d)
    return (r ** 2).mean(-1) <= delta         # NaN (std 0) compares False


def rqi(E: torch.Tensor, quads: torch.Tensor, delta: float = DELTA) -> torch.Tensor:
    """RQI = (parallelograms of quads present in E) / Q: E (T, p, d) -> (T,) float64.

    As the authors do: z-score E per dimension over the tokens (see zscore), then call a
    parallelogram present when the mean over d of (E_i + E_j - E_m - E_n)^2 <= delta.
    An empty quads gives NaN.
    """
    return present(E, quads, delta).double().mean(-1)


def predicted_accuracy(E: torch.Tensor, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor,
                       train: torch.Tensor, delta: float = DELTA) -> torch.Tensor:
    """The paper's predicted accuracy |D_bar| / |D0| (App. D, Eq. 12-13): (T,) float64.

    D0 is the whole data set, the n samples (a, b, y). D is the training set, train (n,) or
    (T, n) bool. D_bar is D plus every other sample v of D0 that forms, with some training
    sample t of equal label, a parallelogram (v, t) present in E (T, p, d) (see present):
    the decoder then sees E_v = E_t up to delta and answers y_t = y_v.

        predicted_accuracy(E, a, b, a + b, train)   # 1.0 for a linear E whatever the split
    """
    pairs = sample_pairs(y)                                 # (Q, 2) sample indices
    s, t = pairs.T
    on = present(E, quadruples(a, b, y), delta)             # (T, Q)
    train = torch.as_tensor(train, dtype=torch.bool).expand(on.shape[0], len(y))  # (T, n)
    linked = torch.zeros(train.shape, dtype=torch.int64)
    linked.index_add_(1, s, (on & train[:, t]).long())      # s reached from training t
    linked.index_add_(1, t, (on & train[:, s]).long())      # t reached from training s
    return (train | (linked > 0)).double().mean(-1)
