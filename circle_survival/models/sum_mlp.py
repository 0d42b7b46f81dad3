"""model=sum_mlp: summed embeddings into an MLP, the toy model of seeds 002 and 003.

    logits = forward(cfg.model, params, a, b)    # one trial: a, b (n,) -> (n, outputs)

E_a + E_b (d) -> `depth` hidden layers of `width` with `activation` -> Linear -> outputs
(loss.n_outputs: one logit per class, or loss=mse's target_dim).
Seed 002: d = 1, width 200, depth 2, tanh. Seed 003: d = 2, width 64, depth 1, ReLU.
Gradients come from the generic torch.func path (models.generic).
"""
from __future__ import annotations

import torch

from ..config import SumMLPConfig, TrainConfig
from ..loss import n_outputs
from .layers import ACTIVATIONS, embedding, linear_shapes, linears, run_linears


def _sizes(cfg: TrainConfig) -> list[int]:
    return [cfg.d] + [cfg.model.width] * cfg.model.depth + [n_outputs(cfg)]


def shapes(cfg: TrainConfig) -> dict[str, tuple[int, ...]]:
    return {"E": (cfg.p, cfg.d), **linear_shapes(_sizes(cfg))}


def init(cfg: TrainConfig, trial: int) -> dict[str, torch.Tensor]:
    return {**embedding(cfg, trial), **linears(cfg, trial, _sizes(cfg))}


def forward(mc: SumMLPConfig, params: dict[str, torch.Tensor], a: torch.Tensor,
            b: torch.Tensor) -> torch.Tensor:
    E = params["E"]
    return run_linears(params, E[a] + E[b], ACTIVATIONS[mc.activation], mc.depth + 1)
