"""Trials that fail loudly: divergence and loss spikes, watched at every step.

    watch = Health(trials=8, device)       # in the trainer
    watch.update(step, loss)               # loss (T,) at `step`, on the device, no host sync
    watch.diverged_step, watch.spike_step  # (T,) int64, -1 = never
    loss_spike_step(steps, losses)         # the spike rule on a logged series (benchmarks)

A trial diverges at the first step whose training loss is not finite: a NaN or infinite
parameter makes the loss NaN at the next step, so the loss alone catches both. A loss
spike is the first step after `SPIKE_AFTER` whose training loss exceeds `SPIKE_FACTOR`
times its running minimum so far (steps 0.. included): the float32 "softmax collapse"
showed as jumps of 1,000x or more at ~2.4e-7 loss, while the healthy loss keeps falling.
"""
from __future__ import annotations

import numpy as np
import torch

SPIKE_FACTOR = 10.0
SPIKE_AFTER = 1000
NEVER = -1


class Health:
    """Per-trial first divergence and first loss spike; its state goes in checkpoints."""

    def __init__(self, trials: int, device: torch.device):
        self.running_min = torch.full((trials,), float("inf"), dtype=torch.float64, device=device)
        self.diverged_step = torch.full((trials,), NEVER, dtype=torch.int64, device=device)
        self.spike_step = torch.full((trials,), NEVER, dtype=torch.int64, device=device)

    def update(self, step: int, loss: torch.Tensor, s: slice = slice(None)) -> None:
        """Record the training loss (T_s,) of trials `s` at `step`."""
        loss = loss.to(torch.float64)
        never = self.diverged_step[s] == NEVER
        self.diverged_step[s] = torch.where(never & ~torch.isfinite(loss), step, self.diverged_step[s])
        minimum = torch.fmin(self.running_min[s], loss)  # fmin: a NaN loss keeps the minimum
        self.running_min[s] = minimum
        if step > SPIKE_AFTER:
            spike = (self.spike_step[s] == NEVER) & (loss > SPIKE_FACTOR * minimum)
            self.spike_step[s] = torch.where(spike, step, self.spike_step[s])

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).cpu().clone() for k in ("running_min", "diverged_step", "spike_step")}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for k, v in state.items():
            getattr(self, k).copy_(v)


def loss_spike_step(steps: np.ndarray, losses: np.ndarray) -> int | None:
    """The first of `steps` after SPIKE_AFTER where `losses` exceeds SPIKE_FACTOR x its
    running minimum, or None: the trainer's rule, on a (logged) series of one trial."""
    running_min = np.fmin.accumulate(np.asarray(losses, dtype=np.float64))
    hit = (np.asarray(steps) > SPIKE_AFTER) & (losses > SPIKE_FACTOR * running_min)
    return int(steps[np.argmax(hit)]) if hit.any() else None
