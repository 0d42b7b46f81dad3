"""Does the float32 default follow float64 at the paper's setting and length?

    python benchmarks/dtype_agreement.py [--p 59 --d 128 --trials 8 --steps 30000 --seed 11
                                          --out /tmp/cs-bench/dtype_agreement]

Trains the same trials in float32 and in float64 (both start from identical initial
values, drawn in float64, so trials pair up): two ordinary jobs, run side by side with
one thread each, under --out. A rerun skips finished jobs and resumes killed ones from
their checkpoints, so it can be stopped and continued. Per pair it prints the largest
ratio of the two training losses over the logged steps (either way up), the first loss
spike of each (`health.loss_spike_step`: > 10x its running minimum after step 1,000),
and both final circle sets. seed 11 is the seed whose float32 trials spiked before the
stable cross-entropy (6 of 8 between steps 18,900 and 20,800).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from cli_jobs import load, run_jobs

from circle_survival.health import loss_spike_step

DTYPES = ("float32", "float64")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--p", type=int, default=59)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--steps", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path, default=Path("/tmp/cs-bench/dtype_agreement"))
    args = ap.parse_args()
    args.out = args.out / f"p{args.p}_d{args.d}_trials{args.trials}_steps{args.steps}_seed{args.seed}"
    start = time.perf_counter()
    common = [f"p={args.p}", f"d={args.d}", f"trials={args.trials}", f"steps={args.steps}",
              f"seed={args.seed}"]
    run_jobs({dtype: [*common, f"dtype={dtype}"] for dtype in DTYPES}, args.out, parallel=2)
    (r32, s32), (r64, s64) = (load(args.out / dtype) for dtype in DTYPES)
    c32, c64 = ({t: r["circles"] for t, r in rows.items()} for rows in (r32, r64))
    print(f"p={args.p} d={args.d} steps={args.steps} seed={args.seed}: {args.trials} paired trials "
          f"({time.perf_counter() - start:.0f} s; jobs under {args.out})\n")
    print("| trial | largest loss ratio (step) | first spike f32 / f64 | final loss f32 / f64 "
          "| circles float32 | circles float64 | same |")
    print("|---|---|---|---|---|---|---|")
    same = spikes_only_32 = 0
    for t in sorted(c64):
        (steps, l32), (_, l64) = s32[t], s64[t]
        ratio = np.maximum(l32 / l64, l64 / l32)
        worst = int(np.nanargmax(ratio))
        spike32, spike64 = loss_spike_step(steps, l32), loss_spike_step(steps, l64)
        spikes_only_32 += spike32 is not None and spike64 is None
        same += c32[t] == c64[t]
        print(f"| {t} | {ratio[worst]:.4g} ({steps[worst]}) | {spike32 or '-'} / {spike64 or '-'} "
              f"| {l32[-1]:.3g} / {l64[-1]:.3g} | {', '.join(map(str, c32[t]))} "
              f"| {', '.join(map(str, c64[t]))} | {'yes' if c32[t] == c64[t] else 'NO'} |")
    print(f"\nidentical circle sets: {same}/{len(c64)}; float32 spikes where float64 has none: "
          f"{spikes_only_32}/{len(c64)}")


if __name__ == "__main__":
    main()
