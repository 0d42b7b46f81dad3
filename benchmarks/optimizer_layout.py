"""Host time of one AdamW step with one tensor per trial against one per block.

    python benchmarks/optimizer_layout.py [--trials 100 --steps 300 --rounds 3]

A CPU trainer holds one AdamW tensor per trial and parameter (exact rounding whatever the
blocking), a GPU trainer one per block and parameter. The parameters here are tiny (p=11,
d=8, width 16; all trials in one block), so a step is mostly host work, which a GPU does
as well: the difference is what per-trial tensors would add to every GPU step.
"""
from __future__ import annotations

import argparse
import time

import torch

from circle_survival.config import TrainConfig
from circle_survival.models.mlp import shapes as layer_shapes
from circle_survival.optimizer import TrialAdamW


def step_ms(trials: int, steps: int, per_trial: bool) -> float:
    cfg = TrainConfig(p=11, d=8)
    cfg.model.width = 16
    block = {k: torch.randn(trials, *shape) for k, shape in layer_shapes(cfg).items()}
    grads = {k: torch.randn_like(v) for k, v in block.items()}
    opt = TrialAdamW([block], [grads], cfg.optimizer, list(block), per_trial=per_trial)
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return 1e3 * (time.perf_counter() - start) / steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    step_ms(args.trials, 20, True), step_ms(args.trials, 20, False)  # warm-up
    per_trial, per_block = [], []
    for _ in range(args.rounds):  # interleaved, so a slow spell hits both
        per_trial.append(step_ms(args.trials, args.steps, True))
        per_block.append(step_ms(args.trials, args.steps, False))
    params = len(layer_shapes(TrainConfig(p=11, d=8)))  # E, W1, b1, ...
    print(f"AdamW step, {args.trials} trials of p=11 d=8 width=16, best of {args.rounds} rounds")
    print(f"one tensor per trial and parameter ({params * args.trials:>4}): "
          f"{min(per_trial):.3f} ms")
    print(f"one tensor per block and parameter ({params:>4}): {min(per_block):.3f} ms")


if __name__ == "__main__":
    main()
