"""The plain implementation the vectorised trainer is tested and benchmarked against: one
model and one torch.optim.AdamW per trial, gradients by autograd, for any model family.

    model = PlainModel(cfg, params, trial=0)         # params from models.init_params
    losses = train_plain(model, train_a, train_b, train_y, steps=50)
"""
from __future__ import annotations

import torch
from torch import nn

from .config import TrainConfig
from .loss import CrossEntropy
from .models import family


class PlainModel(nn.Module):
    """Trial `trial` of stacked parameters ({name: (T, *shape)}) as an nn.Module whose
    forward is the family's one-trial forward pass."""

    def __init__(self, cfg: TrainConfig, params: dict[str, torch.Tensor], trial: int):
        super().__init__()
        self.cfg = cfg
        self.weights = nn.ParameterDict({k: nn.Parameter(v[trial].clone()) for k, v in params.items()})

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return family(self.cfg).forward(self.cfg.model, dict(self.weights), a, b)


def train_plain(model: PlainModel, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor,
                steps: int) -> list[float]:
    """Full-batch AdamW (model.cfg.optimizer) for `steps` updates; the loss before each."""
    o = model.cfg.optimizer
    groups: dict[tuple[float, float], list[nn.Parameter]] = {}
    for name, weight in model.weights.items():
        if name != "E" or not model.cfg.freeze_embedding:
            groups.setdefault(o.settings(name), []).append(weight)
    opt = torch.optim.AdamW([{"params": ws, "lr": lr, "weight_decay": wd}
                             for (lr, wd), ws in groups.items()], betas=(o.beta1, o.beta2), eps=o.eps)
    losses = []
    for _ in range(steps):
        loss = CrossEntropy.apply(model(a, b), y)  # the trainer's loss, stable in float32
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
