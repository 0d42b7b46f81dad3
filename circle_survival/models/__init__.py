"""Model families, registered by name (config group `model`, option = `kind`).

    family = FAMILIES[cfg.model.kind]                 # a Family
    params = init_params(cfg, trials=[0, 1, 2])       # {"E": (T, p, d), ...} float64, CPU
    path = training_path(cfg)                         # fast hand-written or generic backward
    path.loss                                         # its loss (loss.make_loss(cfg))
    batch = path.prepare(a, b, y)                     # once per set of trials: (T, n) each
    loss, logits, grads = path.loss_and_grads(params, batch)   # loss (T,), logits (T, n, outputs)

A family is one module defining, for ONE trial, its parameter shapes, its initialisation
from the trial's seeded generators, and its forward pass `forward(mc, params, a, b)`
(a, b: (n,) token indices -> outputs (n, loss.n_outputs(cfg))) in plain torch. `generic.GenericPath` vmaps
that forward over the trial axis and takes gradients with torch.func: a new family needs
no backward code. A family may add a hand-written batched path (`fast`), used unless
`backward=generic`. Every family's parameters include the embedding "E" (p, d), which the
Fourier metrics read. docs/architecture.md shows how to add one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..config import TrainConfig
from ..loss import make_loss
from . import mlp, sum_mlp
from .generic import GenericPath


@dataclass(frozen=True)
class Family:
    shapes: Callable  # (cfg) -> {name: shape of one trial}, "E" first
    init: Callable  # (cfg, trial) -> {name: tensor}, float64 on the CPU, from seeding.generator
    forward: Callable  # (model config, params of one trial, a (n,), b (n,)) -> outputs (n, n_outputs)
    fast: Callable | None = None  # (cfg, loss) -> a batched path like GenericPath, hand-written


FAMILIES = {
    "mlp": Family(mlp.shapes, mlp.init, mlp.forward, fast=mlp.FastPath),
    "sum_mlp": Family(sum_mlp.shapes, sum_mlp.init, sum_mlp.forward),
}


def family(cfg: TrainConfig) -> Family:
    return FAMILIES[cfg.model.kind]


def init_params(cfg: TrainConfig, trials: list[int]) -> dict[str, torch.Tensor]:
    """Initial parameters of the given global trials, stacked: {name: (T, *shape)}, float64."""
    per_trial = [family(cfg).init(cfg, t) for t in trials]
    return {name: torch.stack([pt[name] for pt in per_trial]) for name in per_trial[0]}


def training_path(cfg: TrainConfig):
    """The batched forward and backward the trainer uses, with cfg's loss (`.loss`): the
    family's hand-written one if it has one and cfg.backward is auto, else the generic
    torch.func one."""
    fam, loss = family(cfg), make_loss(cfg)
    if fam.fast is not None and cfg.backward == "auto":
        return fam.fast(cfg, loss)
    return GenericPath(cfg.model, fam.forward, loss)
