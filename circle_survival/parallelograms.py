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

import functools

import torch

DELTA = 0.01  # the authors' cut on the mean squared residual of z-scored embeddings
CHUNK = 1 << 22  # residual values computed at once


def sample_pairs(y: torch.Tensor, a: torch.Tensor | None = None,
                 b: torch.Tensor | None = None) -> torch.LongTensor:
    """Sample indices (s, t), s < t, of every pair of distinct samples with equal labels: (Q, 2).

    Given the tokens a, b, pairs of one token pair in both orders ((a, b) and (b, a), as
    mod_add's ordered pairs have) are left out: E_a + E_b - E_b - E_a is 0 in every
    embedding, so such a "parallelogram" says nothing about it.
    Ordered by (s, t); row q of sample_pairs(y, a, b) and of quadruples name the same parallelogram.
    """
    y = torch.as_tensor(y).long().reshape(-1)
    pairs = [torch.zeros(0, 2, dtype=torch.long)]
    for label in torch.unique(y):  # per label, so memory is O(Q), not O(n^2)
        members = torch.nonzero(y == label).reshape(-1)                  # ascending
        i, j = torch.triu_indices(len(members), len(members), offset=1)
        pairs.append(torch.stack([members[i], members[j]], dim=1))
    pairs = torch.cat(pairs)
    if a is not None:
        a, b = (torch.as_tensor(x).long().reshape(-1) for x in (a, b))
        s, t = pairs.T
        pairs = pairs[(a[s] != b[t]) | (b[s] != a[t])]
    return pairs[torch.argsort(pairs[:, 0] * len(y) + pairs[:, 1])]


def quadruples(a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> torch.LongTensor:
    """Rows (i, j, m, n) = (a_s, b_s, a_t, b_t) for every pair of samples s < t with y_s == y_t,
    but one token pair in both orders (see sample_pairs).

    Each unordered pair of distinct samples appears once, ordered by (s, t).
    """
    a, b = (torch.as_tensor(x).long().reshape(-1) for x in (a, b))
    s, t = sample_pairs(y, a, b).T
    return torch.stack([a[s], b[s], a[t], b[t]], dim=1)  # (Q, 4)


@functools.lru_cache(maxsize=16)
def modular_quadruples(N: int) -> torch.LongTensor:
    """(Q, 4) every (a, b, c, d) with a <= b, c <= d, a + b = c + d (mod N) and
    (a, b) < (c, d): quadruples() of the unordered pairs labelled mod N (seed 003's
    parallelograms). Cached: treat as read-only."""
    a, b = torch.triu_indices(N, N)  # pairs a <= b, in numpy.triu_indices' order
    return quadruples(a, b, (a + b) % N)


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
    Z = zscore(E.double())
    # chunks of parallelograms bound the (..., chunk, d) residual's memory for large p and d
    chunk = max(1, CHUNK // max(1, Z[..., :1, :].numel()))
    out = [(residuals(Z, part) ** 2).mean(-1) <= delta for part in torch.split(quads, chunk)]
    return torch.cat(out, -1) if out else torch.zeros(Z.shape[:-2] + (0,), dtype=torch.bool)  # NaN: False


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
    pairs = sample_pairs(y, a, b)                           # (Q, 2) sample indices
    s, t = pairs.T
    on = present(E, quadruples(a, b, y), delta)             # (T, Q)
    train = torch.as_tensor(train, dtype=torch.bool).expand(on.shape[0], len(y))  # (T, n)
    linked = torch.zeros(train.shape, dtype=torch.int64)
    linked.index_add_(1, s, (on & train[:, t]).long())      # s reached from training t
    linked.index_add_(1, t, (on & train[:, s]).long())      # t reached from training s
    return (train | (linked > 0)).double().mean(-1)
