"""Run every named sweep at one scale on this machine, a few at a time, resumably.

    python -m circle_survival.reproduce --out repro                  # laptop scale, 2 at a time
    python -m circle_survival.reproduce --out repro --dry-run        # the plan only
    python analysis/report.py repro --out repro/report               # then: the report page
    python -m circle_survival.reproduce fig7 --out t -- steps=12      # some sweeps; overrides after --

Prints first each sweep's model-steps at that scale (overrides after -- change its
measured speed, not its count), the jobs already complete in DIR, its speed (measured here
on its first, middle and last jobs, a fraction of a second each) and an estimated time for
the rest: a range where stop=settled is on, from "trials settle as at the defaults" to
"none settles". Each sweep runs as
``python -m circle_survival.train -m +sweep=NAME scale=SCALE threads=1`` with DIR as its
working directory (jobs under DIR/multirun/NAME-SCALE/, its log in DIR/logs/NAME.log),
--parallel sweeps at once, largest first (--smallest-first: the other way); within a sweep the jobs run in order, so fig12's
ablations find its unablated job. Complete jobs are skipped and interrupted ones resume
from their checkpoints: after a crash or Ctrl-C, or `kill -TERM -- -PGID` of a background
run (a shell starts background commands with SIGINT ignored, so -INT does nothing there;
every job checkpoints on SIGTERM), rerun the same command.

Not `hydra/launcher=processes`: submitit's local executor starts every job of a sweep at
once, with no limit, where two cores want two.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from . import grid, sweeps
from .config import SCALES, LogConfig, StopConfig, TrainConfig
from .trainer import Trainer



def measure_ms_per_step(cfg: TrainConfig | None = None, steps: int = 40) -> float:
    """Milliseconds per model-step of `cfg` (default: p = 59, d = 128, most laptop-scale
    jobs) on one thread of this machine, as loaded as it is now: two trials (times the
    grid's points) for `steps` steps, the first 10 not timed; well under a second for
    these models.

    Measured rather than a constant: the same 2-core machine type has given 2 to 10 ms at
    p = 59, d = 128, and seed 002's models cost a tenth of that.
    """
    torch.set_num_threads(1)
    cfg = _for_timing(cfg or TrainConfig(), steps)
    times = []
    Trainer(cfg).run(on_step=lambda t: times.append(time.perf_counter()))
    models = cfg.trials * len(grid.points(cfg))
    return (times[-1] - times[9]) / (len(times) - 10) / models * 1000


def _for_timing(cfg: TrainConfig, steps: int = 40) -> TrainConfig:
    """`cfg` as timed: two trials, `steps` steps, nothing logged, stopped or perturbed (a
    perturbation changes the start, not the cost; fig12's read another job's output)."""
    return dataclasses.replace(
        cfg, trials=2, steps=steps, trial_offset=0, seed=0, init_seed=0, progress="off", checkpoint_every=0,
        log=LogConfig(dense_steps=0, every=steps), stop=StopConfig(), perturbation=TrainConfig().perturbation)


def sweep_ms_per_step(name: str, scale: str, extra: list[str] = (), cache: dict | None = None) -> float:
    """A sweep's milliseconds per model-step: the mean of measure_ms_per_step over its
    first, middle and last jobs (their p and d may differ: fig5_top's p = 13 costs a
    tenth of its p = 89). `cache` maps a config's text to its measurement, shared over
    sweeps.

        sweep_ms_per_step("grokking_fig3", "laptop")   # ~1 ms where p = 59, d = 128 take ~7
    """
    cache = {} if cache is None else cache
    job_list = sweeps.jobs(name, scale)
    out = []
    for i in sorted({0, len(job_list) // 2, len(job_list) - 1}):
        cfg = sweeps.job_config(name, scale, (*job_list[i], *extra))
        key = repr(_for_timing(cfg))
        if key not in cache:
            cache[key] = measure_ms_per_step(cfg)
        out.append(cache[key])
    return sum(out) / len(out)


def complete_jobs(out: Path, name: str, scale: str) -> int:
    """Jobs of sweep `name` already finished under `out` (trials.parquet is a complete
    job's last file), so a resumed run's estimate leaves them out."""
    folder = out / "multirun" / (name if scale == "paper" else f"{name}-{scale}")
    return sum(1 for _ in folder.glob("*/trials.parquet"))


def plan(names: list[str], scale: str, parallel: int, ms: float | dict[str, float],
         out: Path | None = None, smallest_first: bool = False) -> tuple[str, list[str]]:
    """The table printed before starting, and the sweeps in launch order (largest first,
    or smallest first, each to the least loaded of `parallel` slots, which also gives the
    time estimate). `ms`: milliseconds per model-step, one for all or per sweep
    (sweep_ms_per_step).
    With `out`, the jobs complete there are counted as done: a sweep's model-steps to run
    shrink by its share of complete jobs (checkpoints of unfinished ones not counted)."""
    ms = ms if isinstance(ms, dict) else dict.fromkeys(names, ms)
    sizes = {name: sweeps.size(name, scale) for name in names}
    done = {name: min(complete_jobs(out, name, scale), sizes[name].jobs) if out else 0 for name in names}
    share_left = {name: 1 - done[name] / sizes[name].jobs for name in names}
    left = {name: round(sizes[name].steps_to_run * share_left[name]) for name in names}
    hours = {name: left[name] * ms[name] / 3.6e6 for name in names}
    # The other end of the range: no trial settles (seen at laptop scale: fig6_right's
    # spiking trials at r <= 0.07).
    most = {name: sizes[name].model_steps * share_left[name] * ms[name] / 3.6e6 for name in names}
    order = sorted(names, key=lambda n: hours[n] if smallest_first else -hours[n])
    rows = [("sweep", "jobs", "done", "trials", "model-steps", "to run (stop=settled: estimate)",
             "ms/step", "hours")]
    for name in order:
        s = sizes[name]
        rows.append((name, f"{s.jobs}", f"{done[name]}", f"{s.trials:,}", f"{s.model_steps:,}",
                     f"{left[name]:,}" + (" (settled)" if s.stops_settled and left[name] else ""),
                     f"{ms[name]:.2g}", f"{hours[name]:.2f}"))
    rows.append(("all", f"{sum(s.jobs for s in sizes.values())}", f"{sum(done.values())}",
                 f"{sum(s.trials for s in sizes.values()):,}",
                 f"{sum(s.model_steps for s in sizes.values()):,}",
                 f"{sum(left.values()):,}", "", f"{sum(hours.values()):.2f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    low, high = _busiest_slot(order, hours, parallel), _busiest_slot(order, most, parallel)
    lines.append(f"estimated time: {low:.1f} h, {parallel} sweeps at a time, one thread each "
                 f"(ms/step: measured on this machine now unless --ms-per-step is given)")
    if high > low:
        lines.append(f"  up to {high:.1f} h if no trial settles (stop=settled saves nothing on a "
                     f"trial whose signals keep moving)")
    return "\n".join(lines), order


def _busiest_slot(order: list[str], hours: dict[str, float], parallel: int) -> float:
    """Hours of the busiest of `parallel` slots when each sweep in `order` goes to the
    least loaded one."""
    slots = [0.0] * parallel
    for name in order:
        slots[slots.index(min(slots))] += hours[name]
    return max(slots)


def run(order: list[str], scale: str, out: Path, parallel: int, extra: list[str]) -> list[str]:
    """Run the sweeps, `parallel` at a time, one thread each; return those that failed."""
    (out / "logs").mkdir(parents=True, exist_ok=True)
    # threads=1 sets torch's threads; OMP_NUM_THREADS also keeps OpenMP's waiting threads
    # from competing with the other sweep (README: up to 100-fold slower otherwise).
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}

    def one(name: str) -> bool:
        cmd = [sys.executable, "-m", "circle_survival.train", "-m", f"+sweep={name}",
               f"scale={scale}", "threads=1", *extra]
        log = out / "logs" / f"{name}.log"
        start = time.monotonic()
        print(f"{name}: started ({log})", flush=True)
        with open(log, "a") as f:
            f.write(f"$ {' '.join(cmd)}\n")
            f.flush()
            code = subprocess.run(cmd, cwd=out, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
        minutes = (time.monotonic() - start) / 60
        print(f"{name}: {'done' if code == 0 else f'FAILED (exit {code}; see {log})'} "
              f"after {minutes:.1f} min", flush=True)
        return code == 0

    pool = ThreadPoolExecutor(parallel)
    try:
        ok = list(pool.map(one, order))
    finally:  # Ctrl-C: the running sweeps checkpoint and stop; start no others
        pool.shutdown(cancel_futures=True)
    return [name for name, good in zip(order, ok) if not good]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m circle_survival.reproduce",
                                     description=__doc__.splitlines()[0],
                                     epilog="After --: overrides for every job (e.g. -- device=cuda).")
    parser.add_argument("names", nargs="*", help="named sweeps (default: every one, each figure's once)")
    parser.add_argument("--scale", default="laptop", choices=SCALES)
    parser.add_argument("--out", type=Path, required=True, help="working folder: DIR/multirun, DIR/logs")
    parser.add_argument("--parallel", type=int, default=2, help="sweeps at once, one thread each")
    parser.add_argument("--ms-per-step", type=float, default=None,
                        help="milliseconds per model-step of every sweep, for the time estimate "
                             "only (default: each sweep's, measured on this machine: well under a minute)")
    parser.add_argument("--smallest-first", action="store_true",
                        help="start the smallest sweeps first: a run stopped early has more "
                             "figures complete (default: largest first, which ends soonest)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run nothing")
    argv = sys.argv[1:] if argv is None else argv
    # Everything after `--` is Hydra's, split off by hand: argparse would let the sweep
    # names swallow it.
    cut = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:cut])
    extra = argv[cut + 1:]
    known = sweeps.names()
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown sweep(s) {unknown}; known: {', '.join(known)}")
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")
    names = args.names or sweeps.names(forms=False)
    if args.ms_per_step is None:
        cache = {}
        ms = {name: sweep_ms_per_step(name, args.scale, extra, cache) for name in names}
    else:
        ms = args.ms_per_step
    text, order = plan(names, args.scale, args.parallel, ms, args.out, args.smallest_first)
    print(text, flush=True)
    if args.dry_run:
        return 0
    try:
        failed = run(order, args.scale, args.out.resolve(), args.parallel, extra)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    if failed:
        print(f"failed: {', '.join(failed)}; rerun the same command to retry their unfinished jobs")
        return 1
    print(f"all done; the report: python analysis/report.py {args.out} --out {args.out / 'report'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
