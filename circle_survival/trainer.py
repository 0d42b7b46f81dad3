"""The training loop: `trials` models trained at once as one vectorised computation.

    result = train(TrainConfig(p=23, d=32, trials=10, steps=5000))
    result.signal          # (L, T, p//2 + 1) ||F_k|| at each logged step
    result.metrics         # (L, T, 4) train_loss, test_loss, train_acc, test_acc (cfg.loss's)
    result.train_pairs     # (T, n_train) each trial's training samples: indices into data.pairs
    result.embedding       # (L, T, p, d) E at each logged step, if cfg.log.embedding
    result.rqi             # (L, T) representation quality index, if cfg.log.rqi
    result.params          # {step: {"E": (T, p, d), "W1": ..., ...}} at the snapshot steps

The initial embedding is perturbed first if cfg.perturbation asks for it, so step 0's
signal and `init_spectrum` are those of the perturbed embedding.

One AdamW over the stacked parameters equals separate optimizers per trial because
AdamW is elementwise and the loss is the SUM of per-trial mean losses: a mean over
trials would scale every gradient by 1/T and change Adam's trajectory (through eps).

Trials are stacked in blocks (`block_trials`): on a CPU, blocks of 2 keep a block's
activations in cache and run ~1.3x faster than one block of 32; a GPU takes all
trials in one block.

A grid (cfg.grid) makes the job's trials `trials` replicates of each grid point, each
with its point's optimizer settings and seeded by its replicate index (circle_survival.grid).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

from . import grid, parallelograms
from .config import ConfigError, TrainConfig, train_size, validate
from .cpu_speed import flushed_denormals, keep_freed_memory
from .data import pairs, split
from .fourier import Settled, half, settling_steps, spectrum, threshold_ratio
from .health import Health
from .models import init_params, training_path
from .optimizer import MOMENTS, TrialAdamW
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
    stopped_step: np.ndarray  # (T,) step a trial stopped at (stop=settled), -1 = ran to the end
    train_pairs: np.ndarray  # (T, n_train) int32 training samples, ascending indices into data.pairs
    applied: list[list[int]] | None = None  # per trial, the frequencies perturbed (perturbation.perturb)
    embedding: np.ndarray | None = None  # (L, T, p, d) float32 E at each logged step (log.embedding)
    rqi: np.ndarray | None = None  # (L, T) float32 RQI at each logged step (log.rqi)


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

    Job-wide tensors (`params`, `grads`: {name: (T, ...)} on the device; `moments`: AdamW's,
    on the CPU) hold every trial; the blocks train copies of the running trials only, in
    `block` groups, and hand them back (`_collect`) before a checkpoint, a snapshot, or a
    regrouping when trials stop (stop=settled): a stopped trial costs nothing after.

    `state_dict()` / `load_state_dict()` capture everything needed to resume: training is
    deterministic after initialisation (full batch), so no RNG state is involved.
    """

    def __init__(self, cfg: TrainConfig):
        validate(cfg)
        self.cfg = cfg
        self.device = dev = resolve_device(cfg.device)
        self.dtype = getattr(torch, cfg.dtype)
        layout = grid.layout(cfg)  # without a grid: trials trial_offset.., each its own replicate
        self.trials = [t.trial for t in layout]  # global indices, the `trial` column
        replicates = [t.replicate for t in layout]  # what seeding uses
        self.optimizers = grid.optimizers(cfg)  # each trial's optimizer settings
        self.block = cfg.block_trials or (2 if dev.type == "cpu" else len(layout))

        init = init_params(cfg, replicates)  # {name: (T, ...)} float64 on CPU
        init["E"], self.applied = perturb(cfg, init["E"], replicates)
        # Gradients come from the path's loss_and_grads (models), not from autograd on
        # these tensors: no parameter requires grad.
        self.path = training_path(cfg)
        self.params = {k: v.to(dev, self.dtype) for k, v in init.items()}
        self.grads = {k: torch.zeros_like(v) for k, v in self.params.items()}
        # A frozen embedding's gradient is only logged, not trained.
        self.trained = [k for k in self.params if k != "E" or not cfg.freeze_embedding]
        self.moments: dict | None = None  # AdamW's state, job-wide; None before the first update
        self.loss = self.path.loss  # loss.make_loss(cfg): metrics use its loss and accuracy rule
        a, b, y = pairs(cfg.task, cfg.p)
        n_pairs, n_train = cfg.task.n_pairs(cfg.p), train_size(cfg)
        train_idx, test_idx = zip(*(split(n_pairs, n_train, generator(cfg, "split", t))
                                    for t in replicates))
        train_idx, test_idx = torch.stack(train_idx), torch.stack(test_idx)
        self.train_pairs = train_idx.numpy().astype(np.int32)  # (T, n_train)
        self.train = [t.to(dev) for t in (a[train_idx], b[train_idx], y[train_idx])]  # (T, n_train)
        self.test = [t.to(dev) for t in (a[test_idx], b[test_idx], y[test_idx])]  # (T, n_test)

        self.log_steps = logged_steps(cfg.steps, cfg.log.dense_steps, cfg.log.every)
        self.snapshot_steps = set(snapshot_steps(cfg.steps, cfg.snapshots.every, cfg.snapshots.steps))
        L, T, K = len(self.log_steps), len(layout), cfg.p // 2 + 1
        # Logged values stay on the device until the end: no per-step host sync.
        self.signal = torch.zeros(L, T, K, device=dev)
        self.grad_signal = torch.zeros(L, T, K, device=dev)
        self.metrics = torch.zeros(L, T, len(METRICS), device=dev)
        # Optional logs (log.embedding, log.rqi); they go into checkpoints with the others.
        self.logs = ["signal", "grad_signal", "metrics"]
        if cfg.log.embedding:
            self.embedding = torch.zeros(L, T, cfg.p, cfg.d, device=dev)
            self.logs.append("embedding")
        if cfg.log.rqi:
            # Every parallelogram of the whole data set (Q, 4): Q = 70 for seed 002's 55
            # samples, ~1e5 for mod_add at p = 59 (then each logged step costs Q x d work).
            self.quads = parallelograms.quadruples(a, b, y).to(dev)
            self.rqi = torch.full((L, T), float("nan"), device=dev)
            self.logs.append("rqi")
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.health = Health(T, dev)  # every step's loss, watched on the device
        sc = cfg.stop
        # (T,) each trial's earliest stop and window, from its own embedding lr and decay
        after, window = torch.tensor([settling_steps(sc.after, sc.window, sc.decay_times,
                                                     *o.settings("E")) for o in self.optimizers],
                                     dtype=torch.float64).reshape(T, 2).T
        self.settle = (Settled(T, dev, after, window, sc.alive, sc.dead)
                       if sc.kind == "settled" else None)
        self.stopped_step = np.full(T, -1)  # per trial: the step it stopped at, -1 = running
        self.init_spectrum = spectrum(init["E"]).numpy()
        self.step = 0  # the next step to compute
        self._regroup(list(range(T)))

    def _regroup(self, running: list[int]) -> None:
        """Blocks of `block` trials over the `running` positions, from the job-wide tensors."""
        self.running = running
        groups = [running[i:i + self.block] for i in range(0, len(running), self.block)]
        self.groups = [torch.tensor(g, device=self.device) for g in groups]
        self.blocks = [{k: v[g].clone() for k, v in self.params.items()} for g in self.groups]
        # The optimizer's gradients are views of one buffer per block, which loss_and_grads fills.
        self.block_grads = [{k: v[g].clone() for k, v in self.grads.items()} for g in self.groups]
        self.batches = [self.path.prepare(*(t[g] for t in self.train)) for g in self.groups]
        self.labels = [self.train[2][g] for g in self.groups]
        self.opt = (TrialAdamW(self.blocks, self.block_grads, [self.optimizers[t] for t in running],
                               self.trained) if running else None)
        if self.opt is not None and self.moments is not None:
            order = torch.tensor(running)  # the blocks' trials in order
            self.opt.load_state_dict({"step": self.moments["step"], **{
                m: {k: v[order] for k, v in self.moments[m].items()} for m in MOMENTS}})

    def _collect(self) -> None:
        """Copy the blocks' parameters, gradients and AdamW moments into the job-wide tensors."""
        for g, blk, grads in zip(self.groups, self.blocks, self.block_grads):
            for k in blk:
                self.params[k][g] = blk[k]
                self.grads[k][g] = grads[k]
        if self.opt is None:
            return
        state = self.opt.state_dict()
        if not state["step"]:
            return  # before the first update
        if self.moments is None:
            self.moments = {m: {k: torch.zeros(len(self.trials), *v.shape[1:], dtype=v.dtype)
                                for k, v in state[m].items()} for m in MOMENTS}
        self.moments["step"] = state["step"]
        order = torch.tensor(self.running)
        for m in MOMENTS:
            for k, v in state[m].items():
                self.moments[m][k][order] = v

    def param(self, name: str) -> torch.Tensor:
        """One parameter of all trials, (T, *shape); a stopped trial's as it stopped."""
        self._collect()
        return self.params[name]

    def _snapshot(self) -> dict[str, torch.Tensor]:
        """Every parameter of every trial, a float32 copy on the CPU."""
        self._collect()
        return {k: v.to("cpu", torch.float32, copy=True) for k, v in self.params.items()}

    def block_gradients(self) -> Iterator[tuple[torch.Tensor, dict, tuple]]:
        """Per block: its trials (positions in the job), its parameters, and `loss_and_grads`
        at them, whose gradients land in the optimizer's buffers. One block at a time.

            for _ in trainer.block_gradients(): pass   # then trainer.opt.step() updates
        """
        for g, blk, batch, buffers in zip(self.groups, self.blocks, self.batches, self.block_grads):
            yield g, blk, self.path.loss_and_grads(blk, batch, out=buffers)

    def _record(self, row: int, g: torch.Tensor, blk: dict, grad_E: torch.Tensor,
                logits: torch.Tensor, loss: torch.Tensor, y: torch.Tensor) -> None:
        full = spectrum(blk["E"])  # (B, p)
        if self.settle is not None:
            circles = self.cfg.circles
            self.settle.update(self.log_steps[row], threshold_ratio(full, circles.rule, circles.threshold), g)
        a, b, test_y = (t[g] for t in self.test)
        test_logits = self.path.forward(blk, a, b)
        # Logs are float32 whatever the dtype; index_put_ (g is an index tensor) does not cast.
        self.signal[row, g] = half(full).float()
        self.grad_signal[row, g] = half(spectrum(grad_E)).float()
        self.metrics[row, g] = torch.stack([
            loss, self.loss.mean(test_logits, test_y),
            self.loss.correct(logits, y).to(loss.dtype).mean(1),
            self.loss.correct(test_logits, test_y).to(loss.dtype).mean(1)], -1).float()  # (B, 4)
        if self.cfg.log.embedding:
            self.embedding[row, g] = blk["E"].float()
        if self.cfg.log.rqi:
            self.rqi[row, g] = parallelograms.rqi(blk["E"], self.quads).float()

    def _stop_settled(self, step: int) -> None:
        """Stop the running trials that have settled at logged step `step` (one host sync)."""
        done = self.settle.settled(step).cpu().numpy()
        stopping = [t for t in self.running if done[t]]
        if stopping:
            self._collect()  # their parameters as of `step`, before its update
            self.stopped_step[stopping] = step
            self._regroup([t for t in self.running if not done[t]])

    def run(self, on_step: Callable[["Trainer"], None] | None = None) -> TrainResult:
        """Train from `self.step` until every trial has stopped or reached `steps`;
        `on_step(self)` runs after every update."""
        cfg = self.cfg
        log_row = {s: i for i, s in enumerate(self.log_steps)}
        bar = progress(cfg.progress, total=cfg.steps, desc=f"p={cfg.p} d={cfg.d} x{len(self.trials)}",
                       initial=self.step)
        if self.device.type == "cpu":
            keep_freed_memory()  # steps reuse warm memory instead of faulting it in anew
        with flushed_denormals(self.device):
            while self.step <= cfg.steps and self.running:
                step = self.step
                # Gradient at the parameters of `step`; the last pass only logs.
                for i, (g, blk, (loss, logits, grads)) in enumerate(self.block_gradients()):
                    self.health.update(step, loss, g)
                    if step in log_row:
                        self._record(log_row[step], g, blk, grads["E"], logits, loss, self.labels[i])
                if step in self.snapshot_steps:
                    self.snapshots[step] = self._snapshot()
                if self.settle is not None and step in log_row and step < cfg.steps:
                    self._stop_settled(step)
                if step < cfg.steps:
                    if self.opt is not None:
                        self.opt.step()
                    bar.update(1)
                self.step += 1
                if on_step is not None and self.step <= cfg.steps and self.running:
                    on_step(self)
        bar.close()
        if cfg.steps not in self.snapshots:  # every trial stopped early (stop=settled)
            self.snapshots[cfg.steps] = self._snapshot()
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
            stopped_step=self.stopped_step.copy(),
            applied=self.applied,
            train_pairs=self.train_pairs,
            embedding=self.embedding.cpu().numpy() if self.cfg.log.embedding else None,
            rqi=self.rqi.cpu().numpy() if self.cfg.log.rqi else None,
        )

    def state_dict(self) -> dict:
        """A copy of everything that changes during training, on the CPU (for torch.save)."""
        self._collect()
        moments = self.moments or {m: {k: torch.zeros(v.shape, dtype=v.dtype)
                                       for k, v in self.params.items() if k in self.trained}
                                   for m in MOMENTS}
        return {
            "step": self.step,
            "params": {k: v.cpu().clone() for k, v in self.params.items()},
            "adam": {"step": (self.moments or {}).get("step", 0.0),
                     **{m: {k: v.cpu().clone() for k, v in moments[m].items()} for m in MOMENTS}},
            "logs": {name: getattr(self, name).cpu().clone() for name in self.logs},
            "snapshots": dict(self.snapshots),
            "health": self.health.state_dict(),
            "stopped_step": torch.from_numpy(self.stopped_step.copy()),
            "settle": self.settle.state_dict() if self.settle is not None else {},
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume from `state_dict()` of a Trainer built from the same config (any blocking,
        any device); ValueError if its tensors have other shapes (an older version's)."""
        for k, v in self.params.items():
            got, expected = tuple(state["params"][k].shape), tuple(v.shape)
            if got != expected:
                raise ValueError(f"parameter {k} has shape {got}, expected {expected}")
        adam = state["adam"]
        for m in MOMENTS:
            got = {k: tuple(v.shape) for k, v in adam[m].items()}
            expected = {k: tuple(self.params[k].shape) for k in self.trained}
            if got != expected:
                raise ValueError(f"{m} has shapes {got}, expected {expected}")
        for k, v in self.params.items():
            v.copy_(state["params"][k])
        self.moments = ({"step": adam["step"], **{m: {k: v.clone() for k, v in adam[m].items()}
                                                  for m in MOMENTS}} if adam["step"] else None)
        for name, value in state["logs"].items():
            getattr(self, name).copy_(value)
        self.snapshots = state["snapshots"]
        self.health.load_state_dict(state["health"])
        self.stopped_step = state["stopped_step"].numpy().copy()
        if self.settle is not None:
            self.settle.load_state_dict(state["settle"])
        self.step = state["step"]
        self._regroup([t for t in range(len(self.trials)) if self.stopped_step[t] < 0])


def train(cfg: TrainConfig) -> TrainResult:
    """Train cfg.trials models of one job and return everything logged."""
    return Trainer(cfg).run()
