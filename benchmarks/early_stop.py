"""Does stop=settled give the circles of training to the end, and how much does it save?

    python benchmarks/early_stop.py [--conditions paper p23 ...] [--trials 8 --steps 30000
                                     --seed 0 --parallel 2 --out /tmp/cs-bench/early_stop]
    python benchmarks/early_stop.py --replay [--rule window=4000 alive=1.5 ...]

Per condition it trains the same trials twice, with stop=never and stop=settled (the
rule's defaults, conf/stop/settled.yaml), as ordinary resumable jobs (cli_jobs), and
prints: the share of trials whose final circle sets are identical, the mean and largest
stopping step, how many trials never stopped, and the factor of model-steps saved.

A stopped trial's results are those of the same trial trained on, taken at its stopping
step (tests/test_stop.py). So the rule can also be replayed on the stop=never jobs'
logged signals (`--replay`: no stop=settled jobs; `--rule` tries other settings), and
where both exist the table says whether the replay stopped every trial where the real
run did. Only the two_mean circle rule is replayed.

The conditions cover the sweeps that use final circles only: Fig 5 (p, d), 6 and 7
(the paper's default), 10 (weight decay) and 14 (composite p). The fig10 sweep itself
refuses stop=settled: its count above circles.threshold needs final signals.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import torch
from cli_jobs import load, run_jobs

from circle_survival.config import StopConfig
from circle_survival.fourier import Settled, settling_steps

CONDITIONS = {  # name: (figures, overrides)
    "paper": ("5, 6, 7, 10", ["p=59", "d=128"]),
    "p23": ("5 top", ["p=23", "d=128"]),
    "p97": ("5 top", ["p=97", "d=128"]),
    "d32": ("5 bottom", ["p=59", "d=32"]),
    "p23_d32": ("5", ["p=23", "d=32"]),
    "wd0.05": ("10", ["p=59", "d=128", "optimizer.weight_decay=0.05"]),
    "wd1.5": ("10", ["p=59", "d=128", "optimizer.weight_decay=1.5"]),
    "p58": ("14", ["p=58", "d=128"]),
}


def ratios(job: Path) -> tuple[np.ndarray, np.ndarray]:
    """(logged steps (L,), two_mean threshold ratios (L, T, K)) of a job, from signals.parquet."""
    s = pq.read_table(job / "signals.parquet", columns=["trial", "step", "k", "signal"]).to_pandas()
    steps, trials, K = np.unique(s.step), np.unique(s.trial), s.k.max() + 1
    half = np.full((len(steps), len(trials), K), np.nan)
    half[np.searchsorted(steps, s.step), np.searchsorted(trials, s.trial), s.k] = s.signal
    p = pq.read_table(job / "trials.parquet", columns=["p"]).column("p")[0].as_py()
    # The mean over all p frequencies: k and p - k have one norm; k = p/2 (even p) is one.
    count = np.ones(K)
    count[1:(p + 1) // 2] = 2
    return steps, half / (2 * (half * count).sum(-1, keepdims=True) / p)


def replay(steps: np.ndarray, ratio: np.ndarray, rule: StopConfig, optim: dict) -> np.ndarray:
    """(T,) the step each trial of a stop=never job would have stopped at, -1 = never;
    `optim`: its `optimizer.lr` and `optimizer.weight_decay` (trials.parquet)."""
    after, window = settling_steps(rule.after, rule.window, rule.decay_times, optim["optimizer.lr"],
                                   optim["optimizer.weight_decay"])
    watch = Settled(ratio.shape[1], torch.device("cpu"), after, window, rule.alive, rule.dead)
    stop = np.full(ratio.shape[1], -1)
    for step, r in zip(steps[:-1], ratio[:-1]):  # the last step ends the run anyway
        watch.update(int(step), torch.from_numpy(r))
        stop[watch.settled(int(step)).numpy() & (stop < 0)] = step
    return stop


def circles_at(steps: np.ndarray, ratio: np.ndarray, stop: np.ndarray) -> list[list[int]]:
    """Each trial's circles at its stopping step (the last step where it never stopped)."""
    rows = np.searchsorted(steps, np.where(stop < 0, steps[-1], stop))
    alive = ratio[rows, np.arange(len(stop))] > 1
    return [[int(k) for k in np.flatnonzero(a) if k] for a in alive]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", nargs="+", default=list(CONDITIONS), choices=list(CONDITIONS))
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--steps", type=int, default=30_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--parallel", type=int, default=2, help="jobs at once, one thread each")
    ap.add_argument("--out", type=Path, default=Path("/tmp/cs-bench/early_stop"))
    ap.add_argument("--replay", action="store_true", help="replay the rule on the stop=never jobs only")
    ap.add_argument("--rule", nargs="*", default=[], metavar="KEY=VALUE",
                    help="with --replay: settings other than conf/stop/settled.yaml's")
    args = ap.parse_args()
    rule = StopConfig(kind="settled")
    for key, value in (kv.split("=", 1) for kv in args.rule):
        setattr(rule, key, type(getattr(rule, key))(value))
    start = time.perf_counter()
    common = [f"trials={args.trials}", f"steps={args.steps}", f"seed={args.seed}"]
    stops = ("never",) if args.replay else ("never", "settled")
    run_jobs({f"{name}_{stop}": [*CONDITIONS[name][1], *common, f"stop={stop}"]
              for name in args.conditions for stop in stops}, args.out, args.parallel)
    print(f"{args.trials} trials per condition, seed {args.seed}, {args.steps} steps "
          f"({time.perf_counter() - start:.0f} s; jobs under {args.out}); "
          f"{'replayed ' if args.replay else ''}rule {asdict(rule)}\n")
    print("| condition | figures | identical circle sets | mean / largest stopping step "
          "| never stopped | model-steps saved | stopped with another set | replay agrees |")
    print("|---|---|---|---|---|---|---|---|")
    total = same_total = 0
    for name in args.conditions:
        never, _ = load(args.out / f"{name}_never")
        steps, ratio = ratios(args.out / f"{name}_never")
        replayed = replay(steps, ratio, rule, next(iter(never.values())))
        if args.replay:
            stop, circles, agrees = replayed, circles_at(steps, ratio, replayed), "-"
        else:
            settled, _ = load(args.out / f"{name}_settled")
            stop = np.array([settled[t]["stopped_step"] if settled[t]["stopped_step"] is not None
                             else -1 for t in sorted(settled)])
            circles = [settled[t]["circles"] for t in sorted(settled)]
            agrees = f"{(stop == replayed).sum()}/{len(stop)}"
        final = [never[t]["circles"] for t in sorted(never)]
        same = sum(c == f for c, f in zip(circles, final))
        ran = np.where(stop < 0, args.steps, stop)
        stopped = stop[stop >= 0]
        wrong = [f"{t}: {c} at {s}, {f} at the end"
                 for t, (c, f, s) in enumerate(zip(circles, final, stop)) if c != f]
        mean_max = f"{stopped.mean():.0f} / {stopped.max()}" if len(stopped) else "-"
        print(f"| {name} ({' '.join(CONDITIONS[name][1])}) | {CONDITIONS[name][0]} "
              f"| {same}/{len(final)} | {mean_max} | {(stop < 0).sum()} "
              f"| {len(final) * args.steps / ran.sum():.1f}x | {'; '.join(wrong) or '-'} | {agrees} |")
        total, same_total = total + len(final), same_total + same
    print(f"\nidentical circle sets in all: {same_total}/{total} ({100 * same_total / total:.1f} %)")


if __name__ == "__main__":
    main()
