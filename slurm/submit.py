"""Submit named sweeps to a Slurm cluster, after printing what they will cost.

    python slurm/submit.py fig5_top fig6_left --dry-run      # jobs, trials, model-steps, GPU-hours
    python slurm/submit.py --all                              # every paper sweep
    python slurm/submit.py fig4 --scale smoke -- hydra.launcher.partition=debug

Each sweep runs as `python -m circle_survival.train -m +sweep=NAME hydra/launcher=slurm`
in its own process (all at once), logging to multirun/.submit/NAME.log. Jobs already
complete are skipped, so the same command resumes an interrupted submission.
GPU-hours are model-steps / --rate: measure your GPU's rate with
`python benchmarks/train_speed.py --device cuda --trials 100` and pass it.
"""
from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from circle_survival import sweeps
from circle_survival.config import SCALES

# Sweeps whose jobs read another job's results: these overrides run first, to the end.
# (fig12's ablations keep the strongest frequencies of its unablated run.)
PREREQUISITES = {"fig12": ["perturbation=none"]}

# An assumption, not a measurement: model-steps per second of one GPU at 100 trials per
# job. Replace it with your own figure (--rate).
ASSUMED_RATE = 20_000.0


def plan(names: list[str], scale: str, rate: float) -> str:
    """The dry run: one line per sweep and a total."""
    rows = [("sweep", "jobs", "trials", "model-steps", "GPU-hours")]
    total = [0, 0, 0]
    for name in names:
        s = sweeps.size(name, scale)
        total = [total[0] + s.jobs, total[1] + s.trials, total[2] + s.model_steps]
        rows.append((name, f"{s.jobs:,}", f"{s.trials:,}", f"{s.model_steps:,}",
                     f"{s.model_steps / rate / 3600:,.1f}"))
    rows.append(("total", f"{total[0]:,}", f"{total[1]:,}", f"{total[2]:,}",
                 f"{total[2] / rate / 3600:,.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    return "\n".join(lines + [f"(GPU-hours at {rate:,.0f} model-steps/s per GPU; --rate changes it)"])


def submit(names: list[str], scale: str, extra: list[str]) -> int:
    """Run every sweep's launcher at once; return how many sweeps had failed jobs."""
    log_dir = Path("multirun") / ".submit"
    log_dir.mkdir(parents=True, exist_ok=True)
    running = []
    for name in names:
        cmd = [sys.executable, "-m", "circle_survival.train", "-m", f"+sweep={name}",
               f"scale={scale}", "hydra/launcher=slurm", *extra]
        steps = [cmd + PREREQUISITES[name]] if name in PREREQUISITES else []
        chain = " && ".join(shlex.join(c) for c in [*steps, cmd])
        log = open(log_dir / f"{name}.log", "a")
        print(f"{name}: {chain}  (log: {log.name})")
        running.append((name, subprocess.Popen(chain, shell=True, stdout=log,
                                               stderr=subprocess.STDOUT), log))
    failed = 0
    for name, proc, log in running:
        code = proc.wait()
        log.close()
        failed += code != 0
        print(f"{name}: {'done' if code == 0 else f'FAILED (exit {code}); see {log.name}'}")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="named sweeps (python -m circle_survival.sweeps lists them)")
    parser.add_argument("--all", action="store_true", help="every named sweep")
    parser.add_argument("--scale", default="paper", choices=SCALES)
    parser.add_argument("--rate", type=float, default=ASSUMED_RATE,
                        help="model-steps per second of one GPU, for the GPU-hour estimate")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, submit nothing")
    parser.add_argument("extra", nargs=argparse.REMAINDER,
                        help="after --: Hydra overrides for every job (hydra.launcher.partition=...)")
    args = parser.parse_args(argv)
    known = sweeps.names()
    names = sweeps.names(forms=False) if args.all else args.names  # each figure once
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        parser.error(f"unknown sweep(s) {unknown}; known: {', '.join(known)}" if unknown
                     else "name at least one sweep, or --all")
    print(plan(names, args.scale, args.rate))
    if args.dry_run:
        return 0
    extra = [a for a in args.extra if a != "--"]
    return 1 if submit(names, args.scale, extra) else 0


if __name__ == "__main__":
    sys.exit(main())
