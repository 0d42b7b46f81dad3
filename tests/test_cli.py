"""The Hydra app end to end, as a user runs it (subprocesses in a temporary directory)."""
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from cli import TINY, run

def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_two_job_multirun_then_rerun_skips(tmp_path):
    out = run(tmp_path, "-m", "p=7,11", "trials=2", *TINY)
    assert out.returncode == 0, out.stderr
    jobs = sorted((tmp_path / "multirun" / "adhoc").glob("*/trials.parquet"))
    assert len(jobs) == 2
    trials = pd.concat(pd.read_parquet(j) for j in jobs)
    assert sorted(trials.p.unique()) == [7, 11] and len(trials) == 4
    assert "trial 1:" in out.stdout and "logs:" in out.stdout
    for job in jobs:
        signals = pd.read_parquet(job.parent / "signals.parquet")
        p = pd.read_parquet(job).p.iloc[0]
        assert signals.k.max() == p // 2 and signals.step.max() == 40
        assert (job.parent / "train.log").read_text().count("trial") >= 2
    before = {j: j.stat().st_mtime_ns for j in jobs}

    again = run(tmp_path, "-m", "p=7,11", "trials=2", *TINY)
    assert again.returncode == 0 and again.stdout.count("outputs complete, skipping") == 2
    assert {j: j.stat().st_mtime_ns for j in jobs} == before


BAD = [
    (["p=2"], "p=2"), (["d=0"], "d=0"), (["trials=0"], "trials=0"), (["steps=0"], "steps=0"),
    (["optim.lr=0"], "optim.lr=0.0"), (["optim.weight_decay=-1"], "optim.weight_decay=-1.0"),
    (["train_frac=1.2"], "train_frac=1.2"), (["vary=[mlp,bogus]"], "vary="),
    (["bogus_key=3"], "'bogus_key'"), (["p=abc"], "p='abc'"), (["-m", "p=7,abc"], "p='abc'"),
    (["freeze_embedding=maybe"], "freeze_embedding='maybe'"), (["d=3.5"], "d=3.5"),
    (["optim.lr=inf"], "optim.lr=inf"), (["optim.lr=nan"], "optim.lr=nan"),
    (["circles.threshold=-inf"], "circles.threshold=-inf"),
    (["+bogus=1"], "'bogus'"), (["++optim.bogus=1"], "'optim.bogus'"), (["hydrax=1"], "'hydrax'"),
    pytest.param(["device=cuda"], "device='cuda'",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")),
]


@pytest.mark.parametrize("args,named", BAD)
def test_bad_input_one_line_nonzero_exit_nothing_written(tmp_path, args, named):
    out = run(tmp_path, *TINY, *args)  # the bad value last, so it wins
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and named in lines[0], out.stderr
    assert files_under(tmp_path) == []


@pytest.mark.parametrize("args,named", [(["p=7,2"], "p=2"),
                                        (["p=7,11", "trials=1,0", "hydra/launcher=processes"], "trials=0")])
def test_bad_sweep_stops_before_its_first_job(tmp_path, args, named):
    out = run(tmp_path, "-m", *TINY, *args)
    assert out.returncode != 0
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and named in lines[0], out.stderr
    assert files_under(tmp_path) == []


def test_bad_sweep_keeps_earlier_results(tmp_path):
    assert run(tmp_path, "-m", "p=7", *TINY).returncode == 0
    before = sorted(files_under(tmp_path))
    out = run(tmp_path, "-m", "p=7,2", *TINY)  # the same sweep folder, now with a bad job
    assert out.returncode != 0 and "p=2" in out.stderr
    assert sorted(files_under(tmp_path)) == before


def test_other_config_in_same_directory_is_refused(tmp_path):
    assert run(tmp_path, "p=7", *TINY, "hydra.run.dir=job").returncode == 0
    before = (tmp_path / "job" / "trials.parquet").read_bytes()
    out = run(tmp_path, "p=11", *TINY, "hydra.run.dir=job")
    assert out.returncode != 0 and "another config" in out.stderr and "p: 7 != 11" in out.stderr
    assert (tmp_path / "job" / "trials.parquet").read_bytes() == before


def test_a_crashing_job_keeps_its_traceback_in_its_own_log(tmp_path):
    # A folder where signals.parquet goes: the job trains, then fails to write it.
    (tmp_path / "job" / "signals.parquet").mkdir(parents=True)
    (tmp_path / "job" / "signals.parquet" / "keep").write_text("not ours")
    out = run(tmp_path, "p=7", *TINY, "hydra.run.dir=job")
    assert out.returncode != 0
    log = (tmp_path / "job" / "train.log").read_text()
    assert "job failed" in log and "Traceback (most recent call last)" in log
    assert (tmp_path / "job" / "signals.parquet" / "keep").read_text() == "not ours"


def test_a_second_process_on_a_running_job_stops_and_leaves_it_alone(tmp_path):
    first = subprocess.Popen([sys.executable, "-m", "circle_survival.train", "p=7", *TINY,
                              "steps=1000000", "hydra.run.dir=job"], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = tmp_path / "job" / ".lock"
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        out = run(tmp_path, "p=7", *TINY, "steps=1000000", "hydra.run.dir=job")
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode == 2 and len(lines) == 1, out.stderr
        assert f"being trained by pid {first.pid} on " in lines[0]
        assert first.poll() is None  # still training, its files in place
        assert {".hydra", "train.log", ".lock"} <= {f.name for f in (tmp_path / "job").iterdir()}
    finally:
        first.terminate()  # SIGTERM: it checkpoints at the next step boundary and stops
        first.wait(timeout=120)
    assert (tmp_path / "job" / "checkpoint.pt").exists()
