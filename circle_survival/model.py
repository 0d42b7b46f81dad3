"""The model, for many trials at once: stacked parameters with a leading trial axis.

    params = init_params(cfg, trials=[0, 1, 2])   # {"E": (T, p, d), "W1": (T, h, 2d), ...}
    logits = forward(params, a, b)                # a, b: (T, n) token indices -> (T, n, p)

Layout follows torch.nn.Linear (weight (out, in)), so one trial's slice loads straight
into ``nn.Linear``. The first layer is computed per token, not per pair:
W1 @ [E_a; E_b] = (E W1[:, :d]^T)_a + (E W1[:, d:]^T)_b, the same function with p rows
of matmul instead of n.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .config import TrainConfig
from .seeding import generator

NAMES = ("E", "W1", "b1", "W2", "b2", "W3", "b3")


def layer_shapes(cfg: TrainConfig) -> dict[str, tuple[int, ...]]:
    """Shape of each parameter of one trial."""
    h, p, d = cfg.model.width, cfg.p, cfg.d
    return {"E": (p, d), "W1": (h, 2 * d), "b1": (h,), "W2": (h, h), "b2": (h,),
            "W3": (p, h), "b3": (p,)}


def _init_one(cfg: TrainConfig, trial: int) -> dict[str, torch.Tensor]:
    """One trial's initial parameters, drawn in float64 on the CPU.

    Drawing in float64 whatever the training dtype makes float32 and float64 runs start
    from the same values (up to rounding), so the two can be compared trial by trial.
    """
    shapes = layer_shapes(cfg)
    out = {"E": torch.randn(shapes["E"], generator=generator(cfg, "embedding", trial),
                            dtype=torch.float64)}
    gen = generator(cfg, "mlp", trial)
    for layer in ("1", "2", "3"):
        w_shape, b_shape = shapes["W" + layer], shapes["b" + layer]
        if cfg.model.mlp_init == "normal":
            w = torch.randn(w_shape, generator=gen, dtype=torch.float64)
            b = torch.randn(b_shape, generator=gen, dtype=torch.float64)
        else:  # nn.Linear's default: weight and bias uniform in +-1/sqrt(fan_in)
            bound = 1 / math.sqrt(w_shape[1])
            w = (torch.rand(w_shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
            b = (torch.rand(b_shape, generator=gen, dtype=torch.float64) * 2 - 1) * bound
        out["W" + layer], out["b" + layer] = w, b
    return out


def init_params(cfg: TrainConfig, trials: list[int]) -> dict[str, torch.Tensor]:
    """Initial parameters of the given global trials, stacked: {name: (T, *shape)}, float64."""
    per_trial = [_init_one(cfg, t) for t in trials]
    return {name: torch.stack([pt[name] for pt in per_trial]) for name in NAMES}


def forward(params: dict[str, torch.Tensor], a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Logits (T, n, p) of the pairs (a, b), each (T, n) of token indices."""
    E, W1 = params["E"], params["W1"]
    T, p, d = E.shape
    h = W1.shape[1]
    left = (E @ W1[:, :, :d].transpose(1, 2)).reshape(T * p, h)  # first token's term, per token
    right = (E @ W1[:, :, d:].transpose(1, 2)).reshape(T * p, h)  # second token's term
    # Row lookup in the flattened (T * p, h) tables: F.embedding's gather and its
    # backward (an index_add) are faster on CPU than gather/scatter over a trial axis.
    row = torch.arange(0, T * p, p, device=a.device).unsqueeze(1)  # (T, 1)
    x = F.embedding(a + row, left) + F.embedding(b + row, right) + params["b1"].unsqueeze(1)
    x = F.silu(x)  # (T, n, h)
    x = F.silu(torch.baddbmm(params["b2"].unsqueeze(1), x, params["W2"].transpose(1, 2)))
    return torch.baddbmm(params["b3"].unsqueeze(1), x, params["W3"].transpose(1, 2))


def per_trial_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each trial: logits (T, n, p), labels (T, n) -> (T,)."""
    T, n, p = logits.shape
    return F.cross_entropy(logits.reshape(T * n, p), y.reshape(T * n),
                           reduction="none").view(T, n).mean(1)
