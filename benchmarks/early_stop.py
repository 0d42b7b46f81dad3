"""Does stop=settled give the circles of training to the end, and how much does it save?

    python benchmarks/early_stop.py [--conditions paper p23 ...] [--trials 8 --steps 30000
                                     --seed 0 --parallel 2 --out /tmp/cs-bench/early_stop]

Per condition it trains the same trials twice, with stop=never and stop=settled (the
rule's defaults, conf/stop/settled.yaml), as ordinary resumable jobs (cli_jobs), and
prints: the share of trials whose final circle sets are identical, the mean and largest
stopping step, how many trials never stopped, and the factor of model-steps saved.
The conditions cover the sweeps that use final circles only: Fig 5 (p, d), 6 and 7
(the paper's default), 10 (weight decay) and 14 (composite p).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from cli_jobs import load, run_jobs

CONDITIONS = {  # name: (figures, overrides)
    "paper": ("5, 6, 7, 10", ["p=59", "d=128"]),
    "p23": ("5 top", ["p=23", "d=128"]),
    "p97": ("5 top", ["p=97", "d=128"]),
    "d32": ("5 bottom", ["p=59", "d=32"]),
    "p23_d32": ("5", ["p=23", "d=32"]),
    "wd0.05": ("10", ["p=59", "d=128", "optim.weight_decay=0.05"]),
    "wd1.5": ("10", ["p=59", "d=128", "optim.weight_decay=1.5"]),
    "p58": ("14", ["p=58", "d=128"]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--steps", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=2, help="jobs at once, one thread each")
    ap.add_argument("--out", type=Path, default=Path("/tmp/cs-bench/early_stop"))
    args = ap.parse_args()
    start = time.perf_counter()
    common = [f"trials={args.trials}", f"steps={args.steps}", f"seed={args.seed}"]
    jobs = {f"{name}_{stop}": [*CONDITIONS[name][1], *common, f"stop={stop}"]
            for name in args.conditions for stop in ("never", "settled")}
    run_jobs(jobs, args.out, args.parallel)
    print(f"{args.trials} trials per condition, seed {args.seed}, {args.steps} steps "
          f"({time.perf_counter() - start:.0f} s; jobs under {args.out})\n")
    print("| condition | figures | identical circle sets | mean / largest stopping step "
          "| never stopped | model-steps saved | stopped with another set |")
    print("|---|---|---|---|---|---|---|")
    total = same_total = 0
    for name in args.conditions:
        (never, _), (settled, _) = (load(args.out / f"{name}_{stop}") for stop in ("never", "settled"))
        trials = sorted(never)
        same = [t for t in trials if settled[t]["circles"] == never[t]["circles"]]
        stops = np.array([settled[t]["stopped_step"] if settled[t]["stopped_step"] is not None
                          else args.steps for t in trials])
        stopped = [s for s in stops if s < args.steps]
        wrong = [f"{t}: {settled[t]['circles']} vs {never[t]['circles']}" for t in trials if t not in same]
        mean_max = f"{np.mean(stopped):.0f} / {max(stopped)}" if stopped else "-"
        print(f"| {name} ({' '.join(CONDITIONS[name][1])}) | {CONDITIONS[name][0]} "
              f"| {len(same)}/{len(trials)} | {mean_max} | {len(trials) - len(stopped)} "
              f"| {len(trials) * args.steps / stops.sum():.1f}x | {'; '.join(wrong) or '-'} |")
        total, same_total = total + len(trials), same_total + len(same)
    print(f"\nidentical circle sets in all: {same_total}/{total} ({100 * same_total / total:.1f} %)")


if __name__ == "__main__":
    main()
