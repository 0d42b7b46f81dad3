"""Softmax cross-entropy that keeps its precision as the loss goes to zero.

    loss, grad = cross_entropy(logits, y)    # logits (T, n, p), y (T, n) -> (T, n), (T, n, p)
    loss, _ = cross_entropy(logits, y, grad=False)
    mean = CrossEntropy.apply(logits, y)     # autograd: mean loss of (n, p) logits, same gradient

Why: the usual form takes the correct class's gradient as softmax_c - 1 =
exp(log_softmax_c) - 1. Once the loss is near 1e-7, float32 rounds that to steps of
about 6e-8 while the other classes' gradients stay exact, so the gradient no longer
sums to zero over classes and Adam turns the error into full-size steps: the loss
spikes at paper length, and circles die that float64 keeps ("softmax collapse").

Here, with r = logits - max and c the correct class, everything is a sum over the
OTHER classes, computed without cancelling against 1:

    others = sum_{j != c} exp(r_j)
    loss   = log1p(expm1(r_c) + others) - r_c     # = log1p(others) when c is the top class
    grad_j = exp(r_j) / (exp(r_c) + others)       # j != c
    grad_c = -others / (exp(r_c) + others)        # = softmax_c - 1, without the cancellation

exp(r_c) + others >= 1 (the top class contributes exp(0)), so nothing divides by zero.
"""
from __future__ import annotations

import torch

from .elementwise import by_trial


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, grad: bool = True,
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-example loss (T, n) and, if `grad`, its gradient d loss[t, i] / d logits[t, i] (T, n, p).

    logits (T, n, p) contiguous, y (T, n) labels. Transcendental ops go through `by_trial`,
    so a trial's values do not depend on the trials that share its block.
    """
    T, n, p = logits.shape
    target = torch.arange(0, T * n * p, p, device=y.device) + y.reshape(-1)  # into .view(-1)
    top = logits.amax(-1, keepdim=True)  # (T, n, 1)
    r_c = logits.view(-1)[target].view(T, n, 1) - top  # <= 0, exactly 0 when c is the top
    e = by_trial(torch.exp, logits - top)  # (T, n, p), in (0, 1]
    e_c = e.view(-1)[target].view(T, n, 1)
    e.view(-1)[target] = 0
    others = e.sum(-1, keepdim=True)  # (T, n, 1), the other classes only
    loss = by_trial(torch.log1p, by_trial(torch.expm1, r_c).add_(others)).sub_(r_c).view(T, n)
    if not grad:
        return loss, None
    total = e_c.add_(others)  # (T, n, 1), the softmax's denominator
    e.div_(total)
    e.view(-1)[target] = others.div_(total).neg_().view(-1)
    return loss, e


class CrossEntropy(torch.autograd.Function):
    """Mean `cross_entropy` of logits (n, p) with labels (n,), for autograd (the plain loop)."""

    @staticmethod
    def forward(ctx, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        loss, grad = cross_entropy(logits.unsqueeze(0).contiguous(), y.unsqueeze(0))
        ctx.save_for_backward(grad[0] / y.shape[0])
        return loss.mean()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (grad,) = ctx.saved_tensors
        return grad * grad_output, None
