"""Fourier signals of an embedding and the rules that call a frequency a surviving circle.

    s = spectrum(E)                  # (..., p): ||F_k|| for k = 0..p-1 (Eq. 1, norm over d)
    alive = survivors(s, "two_mean") # (..., p//2 + 1) bool over k = 0..p//2
    circle_list(alive[0])            # [2, 8, 22, 23]
    circle_lists(S, "two_mean")      # [[2, 8, 22, 23], [5]]: one list per trial of S (T, p)

F_k = sum_n exp(-2 pi i k n / p) E_n is the FFT along the token axis; for real E,
F_{p-k} is the conjugate of F_k, so k and p - k are one circle.
"""
from __future__ import annotations

import numpy as np
import torch

RULES = {
    "two_mean": "||F_k|| > 2 x mean of ||F_k|| over all p frequencies (DC included)",
    "threshold": "||F_k|| > circles.threshold",
}


def spectrum(E: torch.Tensor) -> torch.Tensor:
    """||F_k|| for every k = 0..p-1: E (..., p, d) -> (..., p), real, in E's precision."""
    return torch.linalg.vector_norm(torch.fft.fft(E, dim=-2), dim=-1)


def half(full: torch.Tensor | np.ndarray):
    """The distinct frequencies k = 0..p//2 of a full spectrum (..., p)."""
    return full[..., : full.shape[-1] // 2 + 1]


def survivors(full, rule: str = "two_mean", threshold: float = 10.0) -> np.ndarray:
    """Which k = 0..p//2 are surviving circles, from a full spectrum (..., p).

    DC (k = 0) is never a circle. For odd and even p alike, k counts if k or p - k
    passes (for a real embedding both have the same norm).
    """
    full = np.asarray(full, dtype=np.float64)
    p = full.shape[-1]
    if rule == "two_mean":
        above = full > 2 * full.mean(-1, keepdims=True)
    elif rule == "threshold":
        above = full > threshold
    else:
        raise ValueError(f"unknown circle rule {rule!r}; known: {sorted(RULES)}")
    ks = np.arange(p // 2 + 1)
    alive = above[..., ks] | above[..., (p - ks) % p]
    alive[..., 0] = False
    return alive


def circle_list(alive: np.ndarray) -> list[int]:
    """The surviving k of one trial's mask (p//2 + 1,), ascending."""
    return [int(k) for k in np.flatnonzero(alive)]


def circle_lists(full, rule: str = "two_mean", threshold: float = 10.0) -> list[list[int]]:
    """Each trial's surviving circles under the rule, from full spectra (T, p).

        circle_lists(final_spectrum, "threshold", 14.0)   # [[3], [1, 5]]
    """
    return [circle_list(alive) for alive in survivors(full, rule, threshold)]


def threshold_ratio(full: torch.Tensor, rule: str = "two_mean", threshold: float = 10.0) -> torch.Tensor:
    """||F_k|| over the rule's threshold for k = 0..p//2, from a full spectrum (..., p):
    k is a surviving circle where this exceeds 1 (k >= 1; see `survivors`)."""
    if rule == "two_mean":
        return half(full) / (2 * full.mean(-1, keepdim=True))
    if rule == "threshold":
        return half(full) / threshold
    raise ValueError(f"unknown circle rule {rule!r}; known: {sorted(RULES)}")


SETTLED = (
    "settled: at logged step s >= after, over every logged step of the last `window` steps, "
    "the circle set is the same, every surviving circle's signal is >= stop.alive x the "
    "rule's threshold and every dead one's <= stop.dead x it, and the gap between them "
    "(weakest survivor / strongest dead) is at least what it was at the window's first step; "
    "after and window are stop.after and stop.window steps, or stop.decay_times AdamW decay "
    "times 1 / (lr x weight_decay) where that is longer")


def settling_steps(after: int, window: int, decay_times: float, lr: float,
                   weight_decay: float) -> tuple[float, float]:
    """`after` and `window` of the `SETTLED` rule, in steps, for a trial's lr and weight decay.

        settling_steps(2000, 2000, 10, lr=0.01, weight_decay=0.05)   # (20000.0, 20000.0)

    Dead circles fade through weight decay, whose time constant under AdamW is
    1 / (lr x weight_decay) steps: 200 at the paper's defaults, 2,000 at weight decay 0.05.
    Without decay (and decay_times > 0) both are infinite: the trial never stops early.
    """
    rate = lr * weight_decay
    if decay_times and rate <= 0:
        return float("inf"), float("inf")
    span = decay_times / rate if decay_times else 0.0
    return max(float(after), span), max(float(window), span)


class Settled:
    """The `SETTLED` rule, fed one logged step at a time, for every trial of a job at once.

        rule = Settled(trials=8, device, after=2000, window=2000, alive=1.3, dead=0.7)
        rule.update(step, threshold_ratio(spectrum(E)), idx)   # idx: the trials E holds
        rule.settled(step)                                     # (T,) bool: may stop at `step`

    The state is a few (T,) and (T, K) tensors on the device: no host sync per update.
    `since` is the first logged step of each trial's current run of clear, unchanged
    steps (-1: not in one); its gap and circle set are kept to compare against.
    """

    def __init__(self, trials: int, device: torch.device, after: float | torch.Tensor,
                 window: float | torch.Tensor, alive: float, dead: float):
        # after, window: one for all trials, or (T,) each trial's own (a grid of weight decays)
        self.after, self.window = (torch.as_tensor(x, dtype=torch.float64).to(device).expand(trials)
                                   for x in (after, window))
        self.alive_margin, self.dead_margin = alive, dead
        self.since = torch.full((trials,), -1, dtype=torch.int64, device=device)
        self.gap_since = torch.zeros(trials, dtype=torch.float64, device=device)
        self.gap = torch.zeros(trials, dtype=torch.float64, device=device)
        self.circles_since: torch.Tensor | None = None  # (T, K) bool, from the first update

    def update(self, step: int, ratio: torch.Tensor, idx=slice(None)) -> None:
        """Record the ratios (B, K) (`threshold_ratio`) of trials `idx` at logged step `step`."""
        ratio = ratio.to(torch.float64)
        if self.circles_since is None:
            self.circles_since = torch.zeros(len(self.since), ratio.shape[-1], dtype=torch.bool,
                                             device=ratio.device)
        alive = ratio > 1
        alive[:, 0] = False  # DC is never a circle
        inf = torch.tensor(float("inf"), dtype=ratio.dtype, device=ratio.device)
        weakest = torch.where(alive, ratio, inf)[:, 1:].amin(-1)  # inf without survivors
        strongest = torch.where(alive, 0, ratio)[:, 1:].amax(-1)  # 0 when every k survives
        clear = (weakest >= self.alive_margin) & (strongest <= self.dead_margin)
        gap = weakest / strongest  # inf when nothing is dead
        same = (alive == self.circles_since[idx]).all(-1)
        going_on = (self.since[idx] >= 0) & clear & same
        self.since[idx] = torch.where(going_on, self.since[idx], torch.where(clear, step, -1))
        self.gap_since[idx] = torch.where(going_on, self.gap_since[idx], gap)
        self.circles_since[idx] = torch.where(going_on.unsqueeze(-1), self.circles_since[idx], alive)
        self.gap[idx] = gap

    def settled(self, step: int) -> torch.Tensor:
        """(T,) bool: trials whose last update (at `step`) completes the rule."""
        return ((step >= self.after) & (self.since >= 0) & (step - self.since >= self.window)
                & (self.gap >= self.gap_since))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {k: getattr(self, k).cpu().clone() for k in ("since", "gap_since", "gap", "circles_since")
                if getattr(self, k) is not None}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for k, v in state.items():
            if k == "circles_since" and self.circles_since is None:
                self.circles_since = v.to(self.since.device).clone()
            else:
                getattr(self, k).copy_(v)
