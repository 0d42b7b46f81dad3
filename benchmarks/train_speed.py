"""Milliseconds per model-step of the vectorised trainer, with the paper model's
hand-written backward and with the generic torch.func one, against the plain per-trial loop.

    python benchmarks/train_speed.py [--p 59 --d 128 --steps 200 --trials 1 8 32 --rounds 3]
    python benchmarks/train_speed.py --model sum_mlp      # a family with the generic path only

A model-step is one full-batch update of one model. All implementations run in this
one process, interleaved, so their ratios are meaningful on a noisy shared machine.
"""
from __future__ import annotations

import argparse
import time

import torch

from circle_survival.config import GROUPS, TrainConfig
from circle_survival.cpu_speed import keep_freed_memory
from circle_survival.models import FAMILIES
from circle_survival.plain import PlainModel, train_plain
from circle_survival.trainer import Trainer


def vectorised_ms(cfg: TrainConfig) -> float:
    trainer = Trainer(cfg)
    start = time.perf_counter()
    trainer.run()
    return 1e3 * (time.perf_counter() - start) / (cfg.steps * cfg.trials)


def plain_ms(cfg: TrainConfig) -> float:
    trainer = Trainer(cfg)  # only for identical initial values and split
    init = {k: trainer.param(k) for k in trainer.blocks[0]}
    model = PlainModel(cfg, init, 0)
    a, b, y = (t[0] for t in trainer.train)
    start = time.perf_counter()
    train_plain(model, a, b, y, cfg.steps)
    return 1e3 * (time.perf_counter() - start) / cfg.steps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=59)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--trials", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--model", default="mlp", choices=list(FAMILIES))
    args = ap.parse_args()
    backwards = ["auto", "generic"] if FAMILIES[args.model].fast else ["generic"]
    keep_freed_memory()  # as Trainer.run does on a CPU, here for the plain loop too

    def config(trials: int, backward: str = "auto") -> TrainConfig:
        # Log only the first and last step: this measures the training step itself.
        cfg = TrainConfig(p=args.p, d=args.d, trials=trials, steps=args.steps, device=args.device,
                          progress="off", backward=backward, model=GROUPS["model"][args.model]())
        cfg.log.dense_steps, cfg.log.every = 0, args.steps
        return cfg

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"model={args.model} p={args.p} d={args.d}, {args.steps} steps, float32, "
          f"best of {args.rounds} rounds")
    for backward in backwards:
        vectorised_ms(config(1, backward))  # warm-up: first calls allocate and pick kernels
    on_cpu = Trainer(config(1)).device.type == "cpu"
    # Rounds interleave the implementations, so a slow spell of a shared machine hits
    # all of them; the best round of each is its least disturbed figure.
    plain_runs, runs = [], {(bw, t): [] for t in args.trials for bw in backwards}
    for _ in range(args.rounds):
        if on_cpu:
            plain_runs.append(plain_ms(config(1)))
        for backward, t in runs:
            runs[backward, t].append(vectorised_ms(config(t, backward)))
    plain = min(plain_runs, default=float("nan"))
    print(f"{'implementation':<36}{'ms/model-step':>15}{'model-steps/s':>15}{'speed-up':>10}")
    print(f"{'plain nn.Module + AdamW':<36}{plain:>15.3f}{1e3 / plain:>15.0f}{1.0:>10.2f}")
    for (backward, t), times in runs.items():
        ms, name = min(times), "hand-written" if backward == "auto" else "generic"
        label = f"vectorised {name}, trials={t}"
        print(f"{label:<36}{ms:>15.3f}{1e3 / ms:>15.0f}{plain / ms:>10.2f}")


if __name__ == "__main__":
    main()
