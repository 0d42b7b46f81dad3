"""Sweeps through `hydra/launcher=slurm` on the real local cluster (fixture slurm_cluster)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers.cli import TINY, run

pytestmark = pytest.mark.slurm

FILES = ("trials", "signals", "metrics", "params")


def slurm_args(cluster) -> list[str]:
    # No GPUs on the test node; the profile's half-node request would never start here.
    return ["hydra/launcher=slurm", f"hydra.launcher.partition={cluster.partition}",
            "hydra.launcher.gpus_per_node=null", "hydra.launcher.cpus_per_task=1",
            "hydra.launcher.mem_gb=2", "hydra.launcher.timeout_min=10"]


def tables(job_dir: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_parquet(job_dir / f"{name}.parquet") for name in FILES}


def assert_same_results(a: Path, b: Path) -> None:
    for name, frame in tables(a).items():
        pd.testing.assert_frame_equal(frame, tables(b)[name], obj=name)


def squeue(*fields: str) -> list[list[str]]:
    out = subprocess.run(["squeue", "-h", "-o", " ".join(fields)], capture_output=True,
                         text=True, check=True).stdout
    return [line.split() for line in out.splitlines()]


def wait_for(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.5)


def start(cwd: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "circle_survival.train", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_slurm_multirun_equals_local_then_rerun_submits_nothing(slurm_cluster, tmp_path):
    sweep = ["-m", "p=5,7,11", "trials=2", *TINY]
    local = run(tmp_path, *sweep, "hydra.sweep.dir=local")
    assert local.returncode == 0, local.stderr
    out = run(tmp_path, *sweep, *slurm_args(slurm_cluster), "hydra.sweep.dir=slurm")
    assert out.returncode == 0, out.stdout + out.stderr
    jobs = sorted(p.parent.name for p in (tmp_path / "slurm").glob("*/trials.parquet"))
    assert len(jobs) == 3
    for job in jobs:
        assert_same_results(tmp_path / "local" / job, tmp_path / "slurm" / job)
        assert "logs:" in (tmp_path / "slurm" / job / "train.log").read_text()

    submitted = sorted((tmp_path / "slurm" / ".submitit").iterdir())
    again = run(tmp_path, *sweep, *slurm_args(slurm_cluster), "hydra.sweep.dir=slurm")
    assert again.returncode == 0, again.stderr
    assert "3 of 3 jobs already complete; submitting 0" in again.stdout + again.stderr
    assert sorted((tmp_path / "slurm" / ".submitit").iterdir()) == submitted


def test_requeued_job_resumes_and_matches_uninterrupted(slurm_cluster, tmp_path):
    job = ["p=11", "d=8", "model.width=16", "steps=20000", "trials=2", "progress=lines",
           "checkpoint_every=0.2"]
    assert run(tmp_path, *job, "hydra.run.dir=straight").returncode == 0
    proc = start(tmp_path, "-m", *job, *slurm_args(slurm_cluster), "hydra.sweep.dir=sweep")
    try:
        wait_for(lambda: list((tmp_path / "sweep").glob("*/checkpoint.pt")), 120,
                 "a first checkpoint")
        job_id = squeue("%i")[0][0]
        subprocess.run(["scontrol", "requeue", job_id], check=True)
        # Slurm holds a requeued job for a couple of minutes; let it start again now.
        wait_for(lambda: squeue("%T") == [["PENDING"]], 60, "the job to be requeued")
        subprocess.run(["scontrol", "update", f"JobId={job_id}", "StartTime=now"], check=True)
        out, _ = proc.communicate(timeout=240)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    (job_dir,) = [p.parent for p in (tmp_path / "sweep").glob("*/trials.parquet")]
    log = (job_dir / "train.log").read_text()
    assert "received SIGTERM: checkpoint saved" in log and "resuming from" in log
    assert_same_results(tmp_path / "straight", job_dir)


def test_cancelled_task_is_reported_and_others_intact(slurm_cluster, tmp_path):
    proc = start(tmp_path, "-m", "steps=40,41,200000", "p=7", *TINY[0:1], *TINY[2:],
                 *slurm_args(slurm_cluster), "hydra.sweep.dir=sweep")
    try:
        wait_for(lambda: len(list((tmp_path / "sweep").glob("*/trials.parquet"))) == 2, 120,
                 "the two short jobs")
        (long_task,) = [i for (i,) in squeue("%i") if i.endswith("_2")]
        subprocess.run(["scancel", long_task], check=True)
        out, _ = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode != 0
    report = (tmp_path / "sweep" / "failed_jobs.txt").read_text()
    assert report.startswith("1 of 3 jobs failed") and "steps=200000" in report
    assert "CANCELLED" in report
    for done in (tmp_path / "sweep").glob("*/trials.parquet"):
        assert len(pd.read_parquet(done)) == 1 and (done.parent / "signals.parquet").exists()
