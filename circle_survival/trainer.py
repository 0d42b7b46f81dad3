"""The training loop: `trials` models trained at once as one vectorised computation.

    result = train(TrainConfig(p=23, d=32, trials=10, steps=5000))
    result.signal          # (L, T, p//2 + 1) ||F_k|| at each logged step
    result.metrics         # (L, T, 4) train_loss, test_loss, train_acc, test_acc
    result.params          # {step: {"E": (T, p, d), "W1": ..., ...}} at the snapshot steps

The initial embedding is perturbed first if cfg.perturbation asks for it, so step 0's
signal and `init_spectrum` are those of the perturbed embedding.

One AdamW over the stacked parameters equals separate optimizers per trial because
AdamW is elementwise and the loss is the SUM of per-trial mean losses: a mean over
trials would scale every gradient by 1/T and change Adam's trajectory (through eps).

Trials are stacked in blocks (`block_trials`): on a CPU, blocks of 2 keep a block's
activations in cache and run ~1.3x faster than one block of 32; a GPU takes all
trials in one block.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from .config import ConfigError, TrainConfig, validate
from .data import all_pairs, split
from .denormals import flushed_denormals
from .fourier import half, spectrum
from .health import Health
from .heap import keep_freed_memory
from .model import NAMES, forward, init_params, loss_and_grads, pair_rows, per_trial_loss
from .optimizer import TrialAdamW
from .perturbation import perturb
from .progress import progress
from .seeding import generator

METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


@dataclass
class TrainResult:
    trials: np.ndarray  # (T,) global trial indices
    steps: np.ndarray  # (L,) logged steps, 0 = initialisation
    signal: np.ndarray  # (L, T, K) ||F_k|| of E, k = 0..p//2, float32
    grad_signal: np.ndarray  # (L, T, K) ||F_k|| of dL/dE (before weight decay)
    metrics: np.ndarray  # (L, T, 4) in METRICS order
    init_spectrum: np.ndarray  # (T, p) ||F_k|| of the initial E, all k, float64
    final_spectrum: np.ndarray  # (T, p) of the final E
    params: dict[int, dict[str, torch.Tensor]]  # step -> name -> (T, *shape), float32, CPU
    device: str
    diverged_step: np.ndarray  # (T,) first step with a non-finite loss, -1 = never (health)
    spike_step: np.ndarray  # (T,) first loss spike after step 1,000, -1 = never (health)
    applied: list[list[int]] | None = None  # per trial, the frequencies perturbed (perturbation.perturb)


def logged_steps(steps: int, dense_steps: int, every: int) -> list[int]:
    """Every step below dense_steps, then every `every`-th, and always the last one."""
    chosen = set(range(min(dense_steps, steps + 1)))
    chosen.update(range(0, steps + 1, every))
    chosen.add(steps)
    return sorted(chosen)


def snapshot_steps(steps: int, every: int, extra: list[int]) -> list[int]:
    """Steps 0 and `steps`, every `every`-th (0 = none), and the extra ones up to `steps`."""
    chosen = {0, steps, *(s for s in extra if s <= steps)}
    if every:
        chosen.update(range(0, steps + 1, every))
    return sorted(chosen)


def resolve_device(name: str) -> torch.device:
    """`auto` is CUDA where available, else the CPU; `cuda` without one is a ConfigError.

    Checked where the job runs, not where it is submitted: a Slurm login node may have
    no GPU while the compute nodes do.
    """
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device='cuda' but this torch {torch.__version__} sees no CUDA "
                          f"device here; use device=auto or device=cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class Trainer:
    """The whole training state of one job; `run()` trains it to the end.

    `state_dict()` / `load_state_dict()` capture everything needed to resume: training is
    deterministic after initialisation (full batch), so no RNG state is involved.
    """

    def __init__(self, cfg: TrainConfig):
        validate(cfg)
        self.cfg = cfg
        self.device = dev = resolve_device(cfg.device)
        self.dtype = getattr(torch, cfg.dtype)
        self.trials = list(range(cfg.trial_offset, cfg.trial_offset + cfg.trials))
        size = cfg.block_trials or (2 if dev.type == "cpu" else cfg.trials)
        self.slices = [slice(i, min(i + size, cfg.trials)) for i in range(0, cfg.trials, size)]

        init = init_params(cfg, self.trials)  # {name: (T, ...)} float64 on CPU
        init["E"], self.applied = perturb(cfg, init["E"], self.trials)
        # Gradients come from model.loss_and_grads, not autograd: no parameter requires grad.
        self.blocks = [{k: v[s].to(dev, self.dtype) for k, v in init.items()} for s in self.slices]
        a, b, y = all_pairs(cfg.p)
        train_idx, test_idx = zip(*(split(cfg.p, cfg.train_frac, generator(cfg, "split", t))
                                    for t in self.trials))
        train_idx, test_idx = torch.stack(train_idx), torch.stack(test_idx)
        self.train = [t.to(dev) for t in (a[train_idx], b[train_idx], y[train_idx])]  # (T, n_train)
        self.test = [t.to(dev) for t in (a[test_idx], b[test_idx], y[test_idx])]  # (T, n_test)
        self.rows = [pair_rows(self.train[0][s], self.train[1][s], cfg.p) for s in self.slices]

        # The optimizer's gradients are views of one buffer per block, which loss_and_grads fills.
        self.grads = [{k: torch.zeros_like(v) for k, v in blk.items()} for blk in self.blocks]
        # A frozen embedding's gradient is only logged, not trained.
        trained = [k for k in NAMES if k != "E" or not cfg.freeze_embedding]
        self.opt = TrialAdamW(self.blocks, self.grads, cfg.optim, trained)

        self.log_steps = logged_steps(cfg.steps, cfg.log.dense_steps, cfg.log.every)
        self.snapshot_steps = set(snapshot_steps(cfg.steps, cfg.snapshots.every, cfg.snapshots.steps))
        L, T, K = len(self.log_steps), cfg.trials, cfg.p // 2 + 1
        # Logged values stay on the device until the end: no per-step host sync.
        self.signal = torch.zeros(L, T, K, device=dev)
        self.grad_signal = torch.zeros(L, T, K, device=dev)
        self.metrics = torch.zeros(L, T, len(METRICS), device=dev)
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.health = Health(T, dev)  # every step's loss, watched on the device
        self.init_spectrum = spectrum(init["E"]).numpy()
        self.step = 0  # the next step to compute

    def param(self, name: str) -> torch.Tensor:
        """One parameter of all trials, (T, *shape)."""
        return torch.cat([blk[name] for blk in self.blocks])

    def block_gradients(self) -> Iterator[tuple[slice, dict, tuple]]:
        """Per block: its trial slice, its parameters, and `loss_and_grads` at them, whose
        gradients land in the optimizer's buffers. One block at a time, as consumed.

            for _ in trainer.block_gradients(): pass   # then trainer.opt.step() updates
        """
        for s, blk, rows, buffers in zip(self.slices, self.blocks, self.rows, self.grads):
            yield s, blk, loss_and_grads(blk, rows, self.train[2][s], out=buffers)

    def _record(self, row: int, s: slice, blk: dict, grad_E: torch.Tensor,
                logits: torch.Tensor, loss: torch.Tensor) -> None:
        self.signal[row, s] = half(spectrum(blk["E"]))
        self.grad_signal[row, s] = half(spectrum(grad_E))
        a, b, y = (t[s] for t in self.test)
        test_logits = forward(blk, a, b)
        self.metrics[row, s, 0] = loss
        self.metrics[row, s, 1] = per_trial_loss(test_logits, y)
        self.metrics[row, s, 2] = (logits.argmax(-1) == self.train[2][s]).float().mean(1)
        self.metrics[row, s, 3] = (test_logits.argmax(-1) == y).float().mean(1)

    def run(self, on_step: Callable[["Trainer"], None] | None = None) -> TrainResult:
        """Train from `self.step` to the end; `on_step(self)` runs after every update."""
        cfg = self.cfg
        log_row = {s: i for i, s in enumerate(self.log_steps)}
        bar = progress(cfg.progress, total=cfg.steps, desc=f"p={cfg.p} d={cfg.d} x{cfg.trials}",
                       initial=self.step)
        if self.device.type == "cpu":
            keep_freed_memory()  # steps reuse warm memory instead of faulting it in anew
        with flushed_denormals(self.device):
            while self.step <= cfg.steps:
                step = self.step
                # Gradient at the parameters of `step`; the last pass only logs.
                for s, blk, (loss, logits, grads) in self.block_gradients():
                    self.health.update(step, loss, s)
                    if step in log_row:
                        self._record(log_row[step], s, blk, grads["E"], logits, loss)
                if step in self.snapshot_steps:
                    self.snapshots[step] = {k: self.param(k).float().cpu()
                                            for k in self.blocks[0]}
                if step < cfg.steps:
                    self.opt.step()
                    bar.update(1)
                self.step += 1
                if on_step is not None and self.step <= cfg.steps:
                    on_step(self)
        bar.close()
        return TrainResult(
            trials=np.asarray(self.trials),
            steps=np.asarray(self.log_steps),
            signal=self.signal.cpu().numpy(),
            grad_signal=self.grad_signal.cpu().numpy(),
            metrics=self.metrics.cpu().numpy(),
            init_spectrum=self.init_spectrum,
            final_spectrum=spectrum(self.param("E").double()).cpu().numpy(),
            params=self.snapshots,
            device=self.device.type,
            diverged_step=self.health.diverged_step.cpu().numpy(),
            spike_step=self.health.spike_step.cpu().numpy(),
            applied=self.applied,
        )

    def state_dict(self) -> dict:
        """A copy of everything that changes during training, on the CPU (for torch.save)."""
        return {
            "step": self.step,
            "params": {k: self.param(k).cpu().clone() for k in self.blocks[0]},
            "adam": self.opt.state_dict(),
            "logs": {name: getattr(self, name).cpu().clone()
                     for name in ("signal", "grad_signal", "metrics")},
            "snapshots": dict(self.snapshots),
            "health": self.health.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume from `state_dict()` of a Trainer built from the same config (any blocking,
        any device); ValueError if its tensors have other shapes (an older version's)."""
        for k, v in self.blocks[0].items():
            got, expected = tuple(state["params"][k].shape), (self.cfg.trials, *v.shape[1:])
            if got != expected:
                raise ValueError(f"parameter {k} has shape {got}, expected {expected}")
        self.opt.load_state_dict(state["adam"])
        for s, blk in zip(self.slices, self.blocks):
            for k, v in blk.items():
                v.copy_(state["params"][k][s])
        for name, value in state["logs"].items():
            getattr(self, name).copy_(value)
        self.snapshots = state["snapshots"]
        self.health.load_state_dict(state["health"])
        self.step = state["step"]


def train(cfg: TrainConfig) -> TrainResult:
    """Train cfg.trials models of one job and return everything logged."""
    return Trainer(cfg).run()
