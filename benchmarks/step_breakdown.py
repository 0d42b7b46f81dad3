"""Where a training step's time goes: matrix products, optimizer, and everything else.

    python benchmarks/step_breakdown.py [--p 59 --d 128 --trials 8 --steps 200 --rounds 3]

Runs the trainer's step (`loss_and_grads` on every block, then one AdamW step) under the
PyTorch profiler and splits its time by operator. The matrix products are the step's
floor in eager PyTorch: plain-loop time / matrix-product time bounds the speed-up over
the plain loop that removing every other operator could give. The plain loop is timed in
the same run (best of --rounds, interleaved), as in train_speed.py.
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from circle_survival.config import TrainConfig
from circle_survival.cpu_speed import flushed_denormals, keep_freed_memory
from circle_survival.trainer import Trainer
from train_speed import plain_ms

MATMULS = {"aten::bmm", "aten::mm", "aten::addmm", "aten::baddbmm"}


def steps(trainer: Trainer, n: int) -> None:
    """n training steps of the trainer, without logging."""
    for _ in range(n):
        for _ in trainer.block_gradients():
            pass
        trainer.opt.step()


def breakdown_ms(trainer: Trainer, n: int) -> dict[str, float]:
    """ms per model-step: wall time of the whole step, and the profiler's split of it."""
    per_model_step = 1e3 / (n * trainer.cfg.trials)
    start = time.perf_counter()
    steps(trainer, n)
    wall = (time.perf_counter() - start) * per_model_step
    start = time.perf_counter()
    for _ in range(n):
        trainer.opt.step()
    optimizer = (time.perf_counter() - start) * per_model_step
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        steps(trainer, n)
    matmul_us = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in MATMULS)
    return {"step": wall, "matmul": matmul_us * 1e-6 * per_model_step, "optimizer": optimizer}


def matmul_mflop(trainer: Trainer) -> float:
    """Floating-point operations of the matrix products of one model-step, in millions."""
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        steps(trainer, 1)  # counting shapes slows the profiler: one step, not timed
    return sum(e.flops for e in prof.key_averages() if e.key in MATMULS) / trainer.cfg.trials / 1e6


def square_gemm_gflops(size: int = 1024, reps: int = 20) -> float:
    """GFLOP/s of one large float32 matrix product: what this machine's BLAS attains."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * size**3 * reps / (time.perf_counter() - start) * 1e-9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=59)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    keep_freed_memory()
    cfg = TrainConfig(p=args.p, d=args.d, trials=args.trials, steps=args.steps, device="cpu",
                      progress="off")
    trainer = Trainer(cfg)
    steps(trainer, 20)  # warm-up: first calls allocate and pick kernels
    plain, parts, gemm = [], [], []
    for _ in range(args.rounds):
        plain.append(plain_ms(cfg))
        with flushed_denormals(trainer.device):  # as Trainer.run
            parts.append(breakdown_ms(trainer, args.steps))
        gemm.append(square_gemm_gflops())
    best = {k: min(p[k] for p in parts) for k in parts[0]}
    plain_best = min(plain)
    rest = best["step"] - best["matmul"] - best["optimizer"]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, p={args.p} d={args.d} "
          f"trials={args.trials}, float32, best of {args.rounds} rounds")
    print(f"{'':<40}{'ms/model-step':>15}{'plain / this':>14}")
    for name, ms in [("plain nn.Module + AdamW", plain_best),
                     ("vectorised step, all of it", best["step"]),
                     ("  its matrix products (profiler)", best["matmul"]),
                     ("  its AdamW step", best["optimizer"]),
                     ("  everything else (difference)", rest)]:
        print(f"{name:<40}{ms:>15.3f}{plain_best / ms:>14.2f}")
    mflop = matmul_mflop(trainer)
    print(f"matrix products: {mflop:.0f} MFLOP per model-step at {mflop / best['matmul']:.0f} GFLOP/s; "
          f"one 1024x1024 product here: {max(gemm):.0f} GFLOP/s")


if __name__ == "__main__":
    main()
