"""AdamW over the trials of a job's blocks, with a state that ignores how they are blocked.

    opt = TrialAdamW(blocks, grads, cfg.optimizer, trained=["W1", "b1", ...])  # per_trial=None: by device
    opt = TrialAdamW(blocks, grads, [cfg_0.optimizer, ...], trained)  # one config per trial (a grid)
    opt.step()                    # after loss_and_grads has filled `grads`
    state = opt.state_dict()      # {"step": 12.0, "exp_avg": {name: (T, ...)}, "exp_avg_sq": ...}
    opt.load_state_dict(state)    # into any blocking of the same trials, on any device

`blocks` and `grads` are lists of {name: (trials in block, *shape)}; the optimizer's
tensors are views into them. On a CPU there is one per trial and parameter: fused AdamW
computes a tensor's last elements with scalar code there, so one tensor per block would
make a trial's rounding depend on which trials share its block (trial_offset,
block_trials). Parameters with different (lr, weight decay) (optimizer=split) go in
separate parameter groups. On a GPU every element is computed alike, and one tensor per block and
parameter saves the optimizer's host work per tensor: for 100 trials, 4.9 against 0.14 ms
a step (benchmarks/optimizer_layout.py), where 1e5 model-steps/s leaves 1 ms a step.

Per-trial settings (a grid, circle_survival.grid) give each trial's tensors the parameter
group of its own (lr, weight decay). On a GPU a tensor then spans a run of consecutive
trials of a block with equal settings, rather than the whole block: the blocks stay as
they are (the grid's trials are laid out point by point, so a run is a point's
replicates), and the tensors number about points x parameters instead of trials x
parameters, keeping the host work per step small. Without a grid a run is the block.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from .config import OptimizerConfig

MOMENTS = ("exp_avg", "exp_avg_sq")


def _fused_ok(device: torch.device, dtype: torch.dtype) -> bool:
    """Fused AdamW (one kernel for all parameters) where this torch build has it."""
    try:
        probe = torch.zeros(2, device=device, dtype=dtype, requires_grad=True)
        probe.grad = torch.zeros_like(probe)
        torch.optim.AdamW([probe], fused=True).step()
        return True
    except (RuntimeError, TypeError):
        return False


def _runs(settings: list[OptimizerConfig], width: int) -> list[tuple[int, int]]:
    """[start, stop) of consecutive trials with equal settings, at most `width` long."""
    out, start = [], 0
    for i in range(1, len(settings) + 1):
        if i == len(settings) or i - start == width or settings[i] != settings[start]:
            out.append((start, i))
            start = i
    return out


def per_trial_tensors(device: torch.device) -> bool:
    """One optimizer tensor per trial (CPU) or per block (GPU); see the module docstring."""
    return device.type == "cpu"


class TrialAdamW:
    """torch.optim.AdamW over views of the blocks' trials; see the module docstring."""

    def __init__(self, blocks: list[dict[str, torch.Tensor]], grads: list[dict[str, torch.Tensor]],
                 optimizer: OptimizerConfig | Sequence[OptimizerConfig], trained: list[str],
                 per_trial: bool | None = None):
        first = blocks[0][trained[0]]
        per_trial = per_trial_tensors(first.device) if per_trial is None else per_trial
        total = sum(len(blk[trained[0]]) for blk in blocks)
        # One config per trial of the blocks, in order (a grid's trials differ).
        settings = list(optimizer) if isinstance(optimizer, Sequence) else [optimizer] * total
        if len(settings) != total:
            raise ValueError(f"{len(settings)} optimizer configs for {total} trials")
        # Each tensor's (name, trials): its slice of the job's trials, and its settings.
        self.pieces: list[tuple[str, slice]] = []
        tensors, configs, start = [], [], 0
        for blk, grad in zip(blocks, grads):
            n = len(blk[trained[0]])
            for i, j in _runs(settings[start:start + n], 1 if per_trial else n):
                for k in trained:
                    tensors.append(blk[k][i:j])
                    tensors[-1].grad = grad[k][i:j]
                    self.pieces.append((k, slice(start + i, start + j)))
                    configs.append(settings[start + i])
            start += n
        self.shapes = {k: (start, *blocks[0][k].shape[1:]) for k in trained}
        self.tensors = tensors
        # One parameter group per (lr, weight decay); `order` lists the pieces in the
        # optimizer's own order (its state_dict numbers tensors group by group).
        groups: dict[tuple[float, float], list[int]] = {}
        for i, (k, _) in enumerate(self.pieces):
            groups.setdefault(configs[i].settings(k), []).append(i)
        self.order = [i for members in groups.values() for i in members]
        self.opt = torch.optim.AdamW(
            [{"params": [tensors[i] for i in members], "lr": lr, "weight_decay": wd}
             for (lr, wd), members in groups.items()],
            betas=(settings[0].beta1, settings[0].beta2), eps=settings[0].eps,  # no grid key: alike in every trial
            **({"fused": True} if _fused_ok(first.device, first.dtype) else {}))

    def step(self) -> None:
        self.opt.step()

    def state_dict(self) -> dict:
        """The step count and both moments of every trained parameter, (T, *shape), on the CPU."""
        out = {"step": 0.0}
        out.update({m: {k: torch.zeros(shape, dtype=self.tensors[0].dtype)
                        for k, shape in self.shapes.items()} for m in MOMENTS})
        for (k, trials), tensor in zip(self.pieces, self.tensors):
            state = self.opt.state.get(tensor)  # none before the first update
            if state:
                out["step"] = float(state["step"])
                for m in MOMENTS:
                    out[m][k][trials] = state[m].cpu()
        return out

    def load_state_dict(self, state: dict) -> None:
        """Take `state_dict()` of an optimizer over the same trials; ValueError if it does not fit."""
        for m in MOMENTS:
            got = {k: tuple(v.shape) for k, v in state[m].items()}
            if got != self.shapes:
                raise ValueError(f"{m} has shapes {got}, expected {self.shapes}")
        if not state["step"]:
            return  # before the first update AdamW holds no state
        self.opt.load_state_dict({
            "param_groups": self.opt.state_dict()["param_groups"],
            # load_state_dict moves each value to its tensor's device and dtype
            "state": {n: {"step": torch.tensor(state["step"]),
                          **{m: state[m][k][trials].clone() for m in MOMENTS}}
                      for n, (k, trials) in enumerate(self.pieces[i] for i in self.order)},
        })
