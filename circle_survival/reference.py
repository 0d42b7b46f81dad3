"""The plain implementation: one nn.Module and one torch.optim.AdamW per trial.

The vectorised trainer is tested against it and benchmarked against it:

    model = PlainModel.from_params(params, trial=0)      # params from model.init_params
    losses = train_plain(model, train_a, train_b, train_y, steps=50, optim=cfg.optim)
"""
from __future__ import annotations

import torch
from torch import nn

from .config import OptimConfig
from .loss import CrossEntropy


class PlainModel(nn.Module):
    """Embedding (p, d) -> concat(E_a, E_b) -> Linear, SiLU, Linear, SiLU, Linear -> logits."""

    def __init__(self, p: int, d: int, width: int):
        super().__init__()
        self.E = nn.Parameter(torch.empty(p, d))
        self.mlp = nn.Sequential(nn.Linear(2 * d, width), nn.SiLU(), nn.Linear(width, width),
                                 nn.SiLU(), nn.Linear(width, p))

    @classmethod
    def from_params(cls, params: dict[str, torch.Tensor], trial: int) -> "PlainModel":
        """Copy trial `trial` of stacked parameters (model.init_params layout)."""
        p, d = params["E"].shape[1:]
        model = cls(p, d, params["W1"].shape[1]).to(params["E"].dtype)
        with torch.no_grad():
            model.E.copy_(params["E"][trial])
            for i, layer in zip("123", model.mlp[::2]):
                layer.weight.copy_(params["W" + i][trial])
                layer.bias.copy_(params["b" + i][trial])
        return model

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([self.E[a], self.E[b]], dim=-1))

    def named_stack(self) -> dict[str, torch.Tensor]:
        """Parameters under the vectorised names (E, W1, b1, ...)."""
        out = {"E": self.E}
        for i, layer in zip("123", self.mlp[::2]):
            out["W" + i], out["b" + i] = layer.weight, layer.bias
        return out


def train_plain(model: PlainModel, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor,
                steps: int, optim: OptimConfig) -> list[float]:
    """Full-batch AdamW for `steps` updates; returns the loss before each update."""
    opt = torch.optim.AdamW(model.parameters(), lr=optim.lr, betas=(optim.beta1, optim.beta2),
                            eps=optim.eps, weight_decay=optim.weight_decay)
    losses = []
    for _ in range(steps):
        loss = CrossEntropy.apply(model(a, b), y)  # the trainer's loss, stable in float32
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses
