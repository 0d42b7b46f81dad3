"""submitit against the real local Slurm cluster (see tests/slurm/conftest.py).

Every test is bounded in time: waits poll with deadlines, and an alarm
interrupts anything that still hangs.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import cloudpickle
import pytest
import submitit
from submitit.core.utils import FailedJobError, UncompletedJobError

pytestmark = pytest.mark.slurm

# The job's Python cannot import this test module (pytest puts the checkout on
# sys.path, the job does not): ship the job functions by value instead.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

TEST_LIMIT_S = 90  # hard limit per test
JOB_LIMIT_S = 60  # how long a job may take to finish


# ---- functions run as jobs ---------------------------------------------------------


def square_in_job(x: int) -> tuple[int, str | None]:
    return x * x, os.environ.get("SLURM_JOB_ID")


def affine_in_task(x: int) -> tuple[int, str | None]:
    return 10 * x + 1, os.environ.get("SLURM_ARRAY_TASK_ID")


def sleep_in_job(seconds: float) -> str:
    print("sleeping", flush=True)
    time.sleep(seconds)
    return "woke up"


def fail_in_job(x: int) -> int:
    raise ValueError(f"deliberate failure for x={x}")


# ---- helpers -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _hard_time_limit() -> Iterator[None]:
    """Fail a test that runs longer than TEST_LIMIT_S instead of hanging the run."""

    def on_alarm(signum: int, frame: object) -> None:
        raise TimeoutError(f"test exceeded {TEST_LIMIT_S}s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TEST_LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def make_executor(folder: Path, cluster) -> submitit.AutoExecutor:
    executor = submitit.AutoExecutor(folder=folder, cluster="slurm")
    # timeout_min >= 5: submitit asks Slurm for its signal 90 s before the limit.
    executor.update_parameters(timeout_min=5, slurm_partition=cluster.partition, cpus_per_task=1, nodes=1)
    return executor


def forced_state(job: submitit.Job) -> str:
    """Job state straight from sacct (no caching)."""
    return job.watcher.get_state(job.job_id, mode="force")


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.5)


def result_within(job: submitit.Job, timeout: float = JOB_LIMIT_S):
    """job.result(), but only after the job finished within `timeout` seconds."""
    wait_for(lambda: job.done(force_check=True), timeout, f"job {job.job_id} to finish (state {job.state})")
    return job.result()


# ---- tests ---------------------------------------------------------------------------


def test_submit_returns_value(slurm_cluster, tmp_path: Path) -> None:
    job = make_executor(tmp_path, slurm_cluster).submit(square_in_job, 7)
    value, slurm_job_id = result_within(job)
    assert value == 49
    # It really ran as that Slurm job.
    assert slurm_job_id == str(job.job_id)


def test_job_array_returns_all_values(slurm_cluster, tmp_path: Path) -> None:
    jobs = make_executor(tmp_path, slurm_cluster).map_array(affine_in_task, [1, 2, 3])
    assert len(jobs) == 3
    results = [result_within(job) for job in jobs]
    assert [value for value, _ in results] == [11, 21, 31]
    assert [task for _, task in results] == ["0", "1", "2"]


def test_cancel_running_job(slurm_cluster, tmp_path: Path) -> None:
    job = make_executor(tmp_path, slurm_cluster).submit(sleep_in_job, 600)
    wait_for(lambda: forced_state(job) == "RUNNING", JOB_LIMIT_S, f"job {job.job_id} to run")

    job.cancel()
    # Needs accounting: submitit learns the final state from sacct.
    wait_for(lambda: job.done(force_check=True), 30, f"cancelled job {job.job_id} to be done")
    assert "CANCELLED" in forced_state(job)
    with pytest.raises(UncompletedJobError) as info:
        job.result()  # waits at most submitit's results timeout (15 s) for a result file
    assert "CANCELLED" in str(info.value)


def test_failing_job_reports_exception(slurm_cluster, tmp_path: Path) -> None:
    job = make_executor(tmp_path, slurm_cluster).submit(fail_in_job, 3)
    with pytest.raises(FailedJobError) as info:
        result_within(job)
    assert "ValueError: deliberate failure for x=3" in str(info.value)
    # The traceback is also available without raising.
    assert "deliberate failure for x=3" in str(job.exception())
