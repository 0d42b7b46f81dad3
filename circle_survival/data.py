"""The data sets (config group `task`) and their seeded splits.

    a, b, y = pairs(cfg.task, p)                 # each (n_pairs,): tokens a, b and the label
    a, b, y = pairs("add", 10)                   # or by kind (analysis/: no config, no Hydra)
    cfg.task.n_pairs(p), cfg.task.n_classes(p)   # sizes (config.TaskConfig)
    train, test = split(n_pairs, n_train, gen)   # indices into pairs(...), sorted

task=mod_add: every ordered pair, index a * p + b, label (a + b) mod p (both orders are
separate samples). task=add: unordered pairs a <= b in lexicographic order ((0, 0),
(0, 1), ..., (p-1, p-1)), label a + b.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # imports nothing at run time: analysis/ reads this module without Hydra
    from .config import TaskConfig


def pairs(task: TaskConfig | str, p: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every sample of the task (a TaskConfig or its kind): tokens a, b and label y, each
    (n_pairs,) int64."""
    kind = getattr(task, "kind", task)
    if kind == "mod_add":
        idx = torch.arange(p * p)
        a, b = idx // p, idx % p
        return a, b, (a + b) % p
    if kind == "add":
        a, b = torch.triu_indices(p, p)  # row-major: a <= b
        return a, b, a + b
    raise ValueError(f"unknown task {kind!r}; known: mod_add, add")


def split(n_pairs: int, n_train: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded split: n_train of the n_pairs samples drawn without replacement for training
    (config.train_size gives n_train), the rest for testing."""
    perm = torch.randperm(n_pairs, generator=gen)
    # Sorted so the gathers in the forward pass walk memory in order.
    return perm[:n_train].sort().values, perm[n_train:].sort().values
