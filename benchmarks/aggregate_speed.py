"""How long aggregation takes at scale: synthetic jobs (default 2000 x 100 trials, p = 59).

    python benchmarks/aggregate_speed.py [--jobs 2000] [--trials 100] [--dir DIR]

Writes the jobs to a temporary directory (or DIR, reused if already there), then
times analysis.aggregate (discover, validate, read, group, survival) and writing
the tables, and prints the seconds.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from analysis import synthetic
from analysis.aggregate import aggregate, write


def make_jobs(root: Path, n_jobs: int, n_trials: int, p: int = 59) -> None:
    """n_jobs multirun job dirs: 10 shards for each of n_jobs / 10 values of d, random circles."""
    rng = np.random.default_rng(0)
    K = p // 2 + 1
    for j in range(n_jobs):
        cfg = synthetic.config(p=p, d=16 + j // 10, trials=n_trials, trial_offset=(j % 10) * n_trials,
                               seed=j % 10, sweep="fig5_bottom")
        init = rng.rayleigh(np.sqrt(p * cfg["d"] / 2), (n_trials, K))
        counts = rng.integers(2, 7, n_trials)
        circles = [np.sort(rng.choice(np.arange(1, K), c, replace=False)) for c in counts]
        synthetic.write_job(root / f"{j // 100}" / f"{j}", synthetic.trials_table(cfg, circles, init, init))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--dir", type=Path, help="keep the synthetic jobs here (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.dir or Path(tmp) / "jobs"
        if not root.exists():
            start = time.perf_counter()
            make_jobs(root, args.jobs, args.trials)
            print(f"wrote {args.jobs} jobs x {args.trials} trials in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        result = aggregate([root])
        read = time.perf_counter() - start
        write(result, Path(tmp) / "out")
        total = time.perf_counter() - start
    print(f"aggregated {result.trials['job'].nunique()} jobs, {len(result.trials)} trials, "
          f"{len(result.groups)} groups: {read:.2f} s to read and summarise, "
          f"{total:.2f} s with writing the tables")


if __name__ == "__main__":
    main()
