"""The plain implementation the vectorised trainer is tested and benchmarked against: one
model and one torch.optim.AdamW per trial, gradients by autograd, for any model family.

    model = PlainModel(cfg, params, trial=0)         # params from models.init_params
    losses = train_plain(model, train_a, train_b, train_y, steps=50)
    loss = plain_loss(make_loss(cfg), model(a, b), y)   # autograd scalar, cfg's loss

The loss is written the textbook way for autograd (loss=mse: torch's mse_loss against
the label's target; loss=cross_entropy: the stable CrossEntropy, divided by its scale),
so the trainer's hand-written loss gradients are checked against autograd's.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .config import TrainConfig
from .loss import CrossEntropy, CrossEntropyLoss, TargetMSELoss, make_loss
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


def plain_loss(loss: CrossEntropyLoss | TargetMSELoss, outputs: torch.Tensor, y: torch.Tensor,
               ) -> torch.Tensor:
    """The mean loss of one trial's outputs (n, k) with labels y (n,), by autograd."""
    if isinstance(loss, TargetMSELoss):
        return F.mse_loss(outputs, loss.targets.to(outputs)[y])  # reduction 'mean': over n x k
    return CrossEntropy.apply(outputs, y) / loss.scale  # the trainer's, stable in float32


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
    losses, objective = [], make_loss(model.cfg)
    for _ in range(steps):
        loss = plain_loss(objective, model(a, b), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
