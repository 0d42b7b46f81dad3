"""The losses of config group `loss`, and softmax cross-entropy that keeps its precision
as the loss goes to zero.

    loss = make_loss(cfg)                    # CrossEntropyLoss or TargetMSELoss
    n_outputs(cfg)                           # the model's output size the loss needs
    per_example, grad = loss.per_example(outputs, y)   # (T, n, k), (T, n) -> (T, n), (T, n, k)
    loss.mean(outputs, y)                    # (T,): each trial's mean loss
    loss.correct(outputs, y)                 # (T, n) bool: the accuracy rule

    loss, grad = cross_entropy(logits, y)    # logits (T, n, p), y (T, n) -> (T, n), (T, n, p)
    loss, _ = cross_entropy(logits, y, grad=False)
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

from .config import CrossEntropyConfig, MSEConfig, TrainConfig
from .elementwise import by_trial
from .seeding import shared_generator


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


class CrossEntropyLoss:
    """loss=cross_entropy: `cross_entropy` divided by `scale`; correct = the largest logit."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def per_example(self, logits: torch.Tensor, y: torch.Tensor, grad: bool = True):
        """Loss (T, n) and, if `grad`, d loss[t, i] / d logits[t, i] (T, n, classes)."""
        loss, g = cross_entropy(logits, y, grad)
        if self.scale != 1:  # at 1, exactly today's numbers
            loss = loss / self.scale
            g = None if g is None else g.div_(self.scale)
        return loss, g

    def mean(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Each trial's mean loss (T,)."""
        return self.per_example(logits, y, grad=False)[0].mean(1)

    def correct(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return logits.argmax(-1) == y


class TargetMSELoss:
    """loss=mse: per example, the mean over the `target_dim` entries of (output - Y_y)^2,
    Y (classes, target_dim) fixed; so the trial's mean loss is PyTorch's MSELoss ('mean',
    seed 002's) of the outputs against their targets. Correct: Y_y is the nearest target."""

    def __init__(self, targets: torch.Tensor):
        self.targets = targets  # (classes, target_dim), float64 on the CPU
        self._cast: dict = {}

    def _targets(self, like: torch.Tensor) -> torch.Tensor:
        key = (like.device, like.dtype)
        if key not in self._cast:
            self._cast[key] = self.targets.to(like.device, like.dtype)
        return self._cast[key]

    def per_example(self, outputs: torch.Tensor, y: torch.Tensor, grad: bool = True):
        """Loss (T, n) and, if `grad`, d loss[t, i] / d outputs[t, i] (T, n, target_dim)."""
        diff = outputs - self._targets(outputs)[y]  # (T, n, D)
        loss = diff.square().mean(-1)
        return loss, (diff.mul_(2 / diff.shape[-1]) if grad else None)

    def mean(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.per_example(outputs, y, grad=False)[0].mean(1)

    def correct(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # Squared distances to every target, elementwise: (T, n, classes). Not the
        # |x|^2 - 2 x.Y + |Y|^2 expansion, whose rounding could swap near ties.
        distance = (outputs.unsqueeze(-2) - self._targets(outputs)).square().sum(-1)
        return distance.argmin(-1) == y


def targets(cfg: TrainConfig) -> torch.Tensor:
    """loss=mse's fixed targets Y (classes, target_dim) ~ N(0, 1), float64 on the CPU, from
    init_seed only: every trial of every job with this init_seed shares them."""
    return torch.randn((cfg.task.n_classes(cfg.p), cfg.loss.target_dim),
                       generator=shared_generator(cfg, "targets"), dtype=torch.float64)


def make_loss(cfg: TrainConfig) -> CrossEntropyLoss | TargetMSELoss:
    """The loss cfg.loss names."""
    if isinstance(cfg.loss, MSEConfig):
        return TargetMSELoss(targets(cfg))
    if isinstance(cfg.loss, CrossEntropyConfig):
        return CrossEntropyLoss(cfg.loss.scale)
    raise ValueError(f"unknown loss {cfg.loss.kind!r}")


def n_outputs(cfg: TrainConfig) -> int:
    """The model's output size: one logit per class (cross_entropy), or target_dim (mse)."""
    if isinstance(cfg.loss, MSEConfig):
        return cfg.loss.target_dim
    return cfg.task.n_classes(cfg.p)
