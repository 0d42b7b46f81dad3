"""Softmax cross-entropy that keeps its precision as the loss goes to zero.

    loss, grad = cross_entropy(logits, y)    # logits (T, n, p), y (T, n) -> (T, n), (T, n, p)
    loss, _ = cross_entropy(logits, y, grad=False)
    mean = mean_cross_entropy(logits, y)     # (T,): each trial's mean loss
    mean = CrossEntropy.apply(logits, y)     # autograd: mean loss of (n, p) logits, same gradient

Why: the usual form takes the correct class's gradient as softmax_c - 1 and its loss as
-log softmax_c. Once the loss is near 1e-7, float32 rounds softmax_c (~1 - 1e-7) to steps
of about 6e-8 while the other classes' probabilities stay exact, so the gradient no
longer sums to zero over classes and Adam turns the error into full-size steps: the
loss spikes at paper length, and circles die that float64 keeps ("softmax collapse").

Here both come from the probability of the OTHER classes, summed without cancelling
against 1 (each softmax_j = exp(log_softmax_j) is exact to a relative float rounding):

    others = sum_{j != c} softmax_j
    grad_c = -others                            # = softmax_c - 1, without the cancellation
    loss   = -log1p(-others)    if others < 1/2 # = -log softmax_c, exact at tiny loss
             -log_softmax_c     otherwise       # large loss: no precision problem there

One extra read of the probabilities (the sum) over the usual form: ~70 us per model-step
at p = 59 (of 2.5-6 ms) on one CPU thread.
"""
from __future__ import annotations

import torch

from .elementwise import by_trial


def cross_entropy(logits: torch.Tensor, y: torch.Tensor, grad: bool = True,
                  ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-example loss (T, n) and, if `grad`, its gradient d loss[t, i] / d logits[t, i] (T, n, p).

    logits (T, n, p) contiguous, y (T, n) labels. exp and log1p go through `by_trial`, so
    a trial's values do not depend on the trials that share its block.
    """
    T, n, p = logits.shape
    target = torch.arange(0, T * n * p, p, device=y.device) + y.reshape(-1)  # into .view(-1)
    g = torch.log_softmax(logits, -1)  # (T, n, p)
    log_p_c = g.view(-1)[target].view(T, n)
    g = by_trial(torch.exp, g, out=g)  # softmax
    g.view(-1)[target] = 0
    others = g.sum(-1)  # (T, n): probability of the wrong classes
    loss = torch.where(others < 0.5, by_trial(torch.log1p, -others).neg_(), -log_p_c)
    if not grad:
        return loss, None
    g.view(-1)[target] = -others.view(-1)
    return loss, g


def mean_cross_entropy(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of each trial: logits (T, n, p), labels (T, n) -> (T,)."""
    return cross_entropy(logits, y, grad=False)[0].mean(1)


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
