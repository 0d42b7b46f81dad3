"""Gradients for any model family from its one-trial forward pass, with torch.func.

    path = GenericPath(cfg.model, sum_mlp.forward, make_loss(cfg))
    batch = path.prepare(a, b, y)                 # (T, n) each
    loss, logits, grads = path.loss_and_grads(params, batch)   # (T,), (T, n, outputs), {name: (T, ...)}
    logits = path.forward(params, a, b)

The forward pass is vmapped over the trial axis; `torch.func.vjp` of it pulls back the
gradient of the summed per-trial mean losses, which for independent trials is each
trial's own gradient. The loss and its gradient with respect to the outputs come from the
loss object (loss.make_loss: the config's `loss`), as in the hand-written path, so
cross-entropy keeps its precision at tiny loss in both.
"""
from __future__ import annotations

from functools import partial

import torch
from torch.func import vjp, vmap

from ..loss import CrossEntropyLoss


class GenericPath:
    def __init__(self, model_config, forward, loss=None):
        self.forward = vmap(partial(forward, model_config))  # (params, a, b), all with a trial axis
        self.loss = loss or CrossEntropyLoss()

    def prepare(self, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> tuple:
        return a, b, y

    def loss_and_grads(self, params: dict[str, torch.Tensor], batch: tuple,
                       out: dict[str, torch.Tensor] | None = None,
                       ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Per-trial mean loss (T,), outputs (T, n, outputs), gradients ({name: (T, ...)},
        written into `out` if given)."""
        a, b, y = batch
        logits, pull_back = vjp(lambda P: self.forward(P, a, b), params)
        per_example, g = self.loss.per_example(logits.contiguous(), y)  # g: d loss / d logits
        (grads,) = pull_back(g.mul_(1 / y.shape[1]))
        if out is None:
            return per_example.mean(1), logits, grads
        for k, v in grads.items():
            out[k].copy_(v)
        return per_example.mean(1), logits, out
