"""Parts the model families share: the embedding's and the linear layers' initialisation,
and a stack of linear layers for one trial.

    params = {**embedding(cfg, trial), **linears(cfg, trial, [2 * d, h, h, p])}
    logits = run_linears(params, x, F.silu, 3)      # x (n, 2d) -> (n, p)

Layout follows torch.nn.Linear (weight (out, in)), so a trial's slice loads straight into
``nn.Linear``. Parameters are drawn in float64 on the CPU whatever the training dtype, so
float32 and float64 runs start from the same values (up to rounding).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..config import TrainConfig
from ..seeding import generator

ACTIVATIONS = {"silu": F.silu, "relu": F.relu, "tanh": torch.tanh}


def linear_shapes(sizes: list[int]) -> dict[str, tuple[int, ...]]:
    """{"W1": (sizes[1], sizes[0]), "b1": (sizes[1],), "W2": ...}: layer i maps sizes[i-1] -> sizes[i]."""
    out: dict[str, tuple[int, ...]] = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:]), 1):
        out[f"W{i}"], out[f"b{i}"] = (fan_out, fan_in), (fan_out,)
    return out


def embedding(cfg: TrainConfig, trial: int) -> dict[str, torch.Tensor]:
    """{"E": (p, d)} from the trial's embedding generator: model.embedding_scale times
    N(0, 1) entries (embedding_init normal) or U(-1/2, 1/2) ones (uniform)."""
    gen, mc = generator(cfg, "embedding", trial), cfg.model
    if mc.embedding_init == "uniform":
        E = torch.rand((cfg.p, cfg.d), generator=gen, dtype=torch.float64) - 0.5
    else:
        E = torch.randn((cfg.p, cfg.d), generator=gen, dtype=torch.float64)
    return {"E": E * mc.embedding_scale if mc.embedding_scale != 1 else E}


def linears(cfg: TrainConfig, trial: int, sizes: list[int]) -> dict[str, torch.Tensor]:
    """The layers of `linear_shapes(sizes)` from the trial's "mlp" generator, weight then
    bias, layer by layer: nn.Linear's U(+-1/sqrt(fan_in)) or, with mlp_init=normal, N(0, 1)."""
    gen, out = generator(cfg, "mlp", trial), {}
    shapes = linear_shapes(sizes)
    for i in range(1, len(sizes)):
        w_shape, b_shape = shapes[f"W{i}"], shapes[f"b{i}"]
        if cfg.model.mlp_init == "normal":
            w = torch.randn(w_shape, generator=gen, dtype=torch.float64)
            b = torch.randn(b_shape, generator=gen, dtype=torch.float64)
        else:
            bound = 1 / math.sqrt(w_shape[1])
            w = (torch.rand(w_shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand(b_shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        out[f"W{i}"], out[f"b{i}"] = w, b
    return out


def run_linears(params: dict[str, torch.Tensor], x: torch.Tensor, activation, layers: int) -> torch.Tensor:
    """Layers 1..`layers` of one trial on x (n, in), `activation` after all but the last."""
    for i in range(1, layers + 1):
        x = F.linear(x, params[f"W{i}"], params[f"b{i}"])
        if i < layers:
            x = activation(x)
    return x
