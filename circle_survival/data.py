"""The modular-addition dataset: all p*p ordered pairs (a, b) with label (a + b) mod p.

    a, b, y = all_pairs(p)                        # each (p*p,)
    train, test = split(p, 0.8, generator)        # indices into all_pairs, sorted
"""
from __future__ import annotations

import torch


def all_pairs(p: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every ordered pair, pair index = a * p + b; both orders are separate samples."""
    idx = torch.arange(p * p)
    a, b = idx // p, idx % p
    return a, b, (a + b) % p


def split(p: int, train_frac: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded split: int(p*p*train_frac) pairs drawn without replacement for training."""
    n_train = int(p * p * train_frac)
    perm = torch.randperm(p * p, generator=gen)
    # Sorted so the gathers in the forward pass walk memory in order.
    return perm[:n_train].sort().values, perm[n_train:].sort().values
