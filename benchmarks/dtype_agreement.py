"""Do float32 and float64 runs pick the same circles? (paper-facts: float32 is a fair
default only if results agree statistically; the authors trained in float64.)

    python benchmarks/dtype_agreement.py [--p 23 --d 32 --trials 16 --steps 5000]

Both dtypes start from identical initial values (drawn in float64), so trials pair up.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from circle_survival.config import TrainConfig
from circle_survival.logs import trial_circles
from circle_survival.trainer import train


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=23)
    ap.add_argument("--d", type=int, default=32)
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--steps", type=int, default=5000)
    args = ap.parse_args()
    circles = {}
    for dtype in ("float32", "float64"):
        cfg = TrainConfig(p=args.p, d=args.d, trials=args.trials, steps=args.steps, dtype=dtype,
                          progress="off", checkpoint_every=0)
        start = time.perf_counter()
        circles[dtype] = trial_circles(cfg, train(cfg))
        print(f"{dtype}: {time.perf_counter() - start:.0f} s")
    n32 = np.array([len(c) for c in circles["float32"]])
    n64 = np.array([len(c) for c in circles["float64"]])
    same = sum(a == b for a, b in zip(circles["float32"], circles["float64"]))
    jaccard = np.mean([len(set(a) & set(b)) / max(len(set(a) | set(b)), 1)
                       for a, b in zip(circles["float32"], circles["float64"])])
    diff = n32 - n64
    half_width = 1.96 * diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    print(f"p={args.p} d={args.d} steps={args.steps}, {args.trials} paired trials")
    print(f"mean circles: float32 {n32.mean():.2f}, float64 {n64.mean():.2f}; "
          f"paired difference {diff.mean():+.2f} +- {half_width:.2f} (95 %)")
    print(f"identical circle sets: {same}/{args.trials}; mean Jaccard overlap {jaccard:.2f}")


if __name__ == "__main__":
    main()
