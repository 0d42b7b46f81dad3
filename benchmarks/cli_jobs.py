"""Run ordinary training jobs for a benchmark, resumably, and read back their results.

    run_jobs({"float32": ["p=59", "dtype=float32"], ...}, out=Path("/tmp/x"), parallel=2)
    circles, losses = load(Path("/tmp/x/float32"))

Each job is `python -m circle_survival.train ... threads=1 hydra.run.dir=OUT/NAME`, its log
in OUT/NAME.log: a rerun skips finished jobs and resumes killed ones from their checkpoints.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq


def run_jobs(jobs: dict[str, list[str]], out: Path, parallel: int = 1) -> None:
    """Run the named jobs, `parallel` at a time, one thread each; exit naming a failed one."""
    out.mkdir(parents=True, exist_ok=True)
    pending, running = list(jobs.items()), []
    while pending or running:
        while pending and len(running) < parallel:
            name, overrides = pending.pop(0)
            cmd = [sys.executable, "-m", "circle_survival.train", *overrides, "threads=1",
                   "progress=lines", f"hydra.run.dir={out / name}"]
            log = open(out / f"{name}.log", "a")
            running.append((name, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)))
        name, proc = running.pop(0)
        if proc.wait():
            sys.exit(f"error: job {name} failed; see {out / name}.log")


def load(job: Path) -> tuple[dict[int, dict], dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Per trial: its trials.parquet row, and (steps, train losses) as logged."""
    rows = pq.read_table(job / "trials.parquet").to_pylist()
    metrics = pq.read_table(job / "metrics.parquet", columns=["trial", "step", "train_loss"]).to_pandas()
    series = {t: (g.step.to_numpy(), g.train_loss.to_numpy().astype(np.float64))
              for t, g in metrics.sort_values("step").groupby("trial")}
    return {r["trial"]: r for r in rows}, series
