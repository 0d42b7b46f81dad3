"""The Hydra app end to end, as a user runs it (subprocesses in a temporary directory).

A user's error ends with one line on stderr and exit status 2, Ctrl-C with one line and
130; each test says what is left behind."""
import os
import re
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from tests.helpers.cli import TINY, run, start, tiny


def files_under(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def names(folder):
    return sorted(f.name for f in folder.iterdir())


def lines(text):
    return [line for line in text.splitlines() if line.strip()]


def wait_for(condition, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


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
    (["optimizer.lr=0"], "optimizer.lr=0.0"), (["optimizer.weight_decay=-1"], "optimizer.weight_decay=-1.0"),
    (["train_frac=1.2"], "train_frac=1.2"), (["vary=[mlp,bogus]"], "vary="),
    (["bogus_key=3"], "'bogus_key'"), (["p=abc"], "p='abc'"), (["-m", "p=7,abc"], "p='abc'"),
    (["freeze_embedding=maybe"], "freeze_embedding='maybe'"), (["d=3.5"], "d=3.5"),
    (["optimizer.lr=inf"], "optimizer.lr=inf"), (["optimizer.lr=nan"], "optimizer.lr=nan"),
    (["circles.threshold=-inf"], "circles.threshold=-inf"),
    (["+bogus=1"], "'bogus'"), (["++optimizer.bogus=1"], "'optimizer.bogus'"), (["hydrax=1"], "'hydrax'"),
    (["perturbation=bogus"], "unknown option perturbation=bogus; options: construct, keep,"),
    (["-m", "perturbation=none,bogus"], "unknown option perturbation=bogus"),
    (["-m", "+sweep=nosuch"], "unknown named sweep 'nosuch'; named sweeps: fig10, fig10_onejob, fig11,"),
    (["d=0", "d=4"], "d given twice (d=0 and d=4)"),
    (["grid.optimizer.decoder.lr=[1e-4]"], "grid.optimizer.decoder.lr=[0.0001]; allowed: grid keys of optimizer=adamw"),
    (["grid.optimizer.lr=[]"], "grid.optimizer.lr=[]; allowed: a non-empty list"),
    (["optimizer.lr=0.01", "grid.optimizer.lr=[0.001,0.01]"],
     "optimizer.lr is set (optimizer.lr=0.01) and also a grid key (grid.optimizer.lr=[0.001, 0.01])"),
    (["-m", "optimizer.weight_decay=0,1", "grid.optimizer.weight_decay=[0,2]"],
     "optimizer.weight_decay is set (optimizer.weight_decay=0) and also a grid key"),
    (["grid.optimizer.lr=[abc]"], "grid.optimizer.lr="), (["grid.optimizer.bogus=[1]"], "'grid.optimizer.bogus'"),
    (["circles.threshold=-1"], "circles.threshold=-1.0"), (["circles.threshold=0"], "circles.threshold=0.0"),
    (["optimizer.eps=-1e-8"], "optimizer.eps=-1e-08"), (["seed=[1,"], "'[1,'"),
    (["perturbation=construct", "perturbation.alpha=2"],
     "perturbation.alpha is not a key of perturbation=construct (its keys: kind, scale, eps, r)"),
    (["model.depth=3"], "model.depth is not a key of model=mlp"),
    (["optimizer=split", "optimizer.lr=0.1"], "optimizer.lr is not a key of optimizer=split"),
    (["model=sum_mlp", "model.activation=gelu"], "model.activation='gelu'"),
    pytest.param(["device=cuda"], "device='cuda'",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")),
]


@pytest.mark.parametrize("args,named", BAD)
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, args, named):
    out = run(tmp_path, *tiny(*args))
    assert out.returncode == 2
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


def test_results_not_written_keep_the_trained_state_and_the_rerun_writes_them(tmp_path):
    # A folder where signals.parquet goes: the job trains, then fails to write it.
    job = tmp_path / "job"
    (job / "signals.parquet").mkdir(parents=True)
    (job / "signals.parquet" / "keep").write_text("not ours")
    out = run(tmp_path, *tiny("p=7", "hydra.run.dir=job"))
    err = lines(out.stderr)
    assert out.returncode == 2 and len(err) == 1, out.stderr
    assert "signals.parquet: Is a directory" in err[0] and "without training again" in err[0]
    assert names(job) == [".hydra", "checkpoint.pt", "signals.parquet", "train.log"]
    log = (job / "train.log").read_text()
    assert "job failed" in log and "Traceback (most recent call last)" in log  # there only
    assert "Traceback" not in out.stdout + out.stderr
    assert (job / "signals.parquet" / "keep").read_text() == "not ours"

    (job / "signals.parquet" / "keep").unlink()
    (job / "signals.parquet").rmdir()
    out = run(tmp_path, *tiny("p=7", "hydra.run.dir=job"))
    assert out.returncode == 0 and out.stderr == ""
    assert "holds the finished training; writing its results" in out.stdout
    assert names(job) == [".hydra", "metrics.parquet", "params.parquet", "signals.parquet",
                          "train.log", "trials.parquet"]


# Results of about 90 KB, a checkpoint of about 100 KB
BIG_LOGS = ["p=23", "d=4", "model.width=8", "steps=300", "log.dense_steps=300", "trials=2",
            "progress=off"]


def fill(disk, leave: int):
    """Fill `disk` with one file until `leave` bytes are free; delete it to free them."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, bytes(1 << 16))
    except OSError:  # the disk is full
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    finally:
        os.close(fd)
    return filler


def test_full_disk_while_writing_results_keeps_the_trained_state(tmp_path, small_disk):
    disk = small_disk("512k")
    job, args = disk / "job", [*BIG_LOGS, f"hydra.run.dir={disk / 'job'}"]
    filler = fill(disk, leave=160_000)  # room for the checkpoint, not for the results too
    out = run(tmp_path, *args)
    err = lines(out.stderr)
    assert out.returncode == 2 and len(err) == 1, out.stderr
    assert "No space left on device" in err[0] and "free some space" in err[0]
    assert f"the trained state is kept in {job / 'checkpoint.pt'}" in err[0]
    assert names(job) == [".hydra", "checkpoint.pt", "train.log"]  # no partial files

    filler.unlink()
    out = run(tmp_path, *args)
    assert out.returncode == 0 and out.stderr == ""
    assert "holds the finished training; writing its results" in out.stdout
    assert names(job) == [".hydra", "metrics.parquet", "params.parquet", "signals.parquet",
                          "train.log", "trials.parquet"]


def test_full_disk_from_the_start_one_line(tmp_path, small_disk):
    disk = small_disk("512k")
    fill(disk, leave=40_000)  # room for Hydra's files, not for a checkpoint or the results
    out = run(tmp_path, *BIG_LOGS, f"hydra.run.dir={disk / 'job'}")
    err = lines(out.stderr)
    assert out.returncode == 2 and len(err) == 1, out.stderr
    assert "No space left on device" in err[0] and "no checkpoint could be saved" in err[0]
    assert "checkpoint not saved" in out.stdout and "Traceback" not in out.stdout
    assert names(disk / "job") == [".hydra", "train.log"]


@pytest.fixture
def read_only_folder(tmp_path, small_disk):
    if os.geteuid() == 0:  # root writes anywhere but on a read-only file system
        return small_disk("64k", read_only=True)
    (tmp_path / "ro").mkdir(mode=0o555)
    return tmp_path / "ro"


@pytest.mark.parametrize("where", ["hydra.run.dir={ro}", "hydra.run.dir={ro}/job",
                                   "-m hydra.sweep.dir={ro}"])
def test_unwritable_output_folder_one_line(tmp_path, read_only_folder, where):
    out = run(tmp_path, *tiny("p=7", *where.format(ro=read_only_folder).split()))
    err = lines(out.stderr)
    assert out.returncode == 2 and len(err) == 1, out.stderr
    assert err[0].startswith(f"error: cannot write {read_only_folder}")
    assert "choose an output folder you can write to" in err[0]
    assert files_under(read_only_folder) == [] and names(tmp_path) == [read_only_folder.name]


@pytest.mark.parametrize("where", ["hydra.run.dir=afile", "hydra.run.dir=afile/job",
                                   "-m hydra.sweep.dir=afile"])
def test_a_file_where_the_output_folder_goes_one_line(tmp_path, where):
    (tmp_path / "afile").write_text("mine")
    out = run(tmp_path, *tiny("p=7", *where.split()))
    err = lines(out.stderr)
    assert out.returncode == 2 and len(err) == 1, out.stderr
    assert "error: cannot write afile" in err[0] and "in the way" in err[0]
    assert names(tmp_path) == ["afile"] and (tmp_path / "afile").read_text() == "mine"


def test_ctrl_c_one_message_exit_130_checkpoint_saved(tmp_path):
    proc = start(tmp_path, *tiny("p=7", "steps=1000000", "checkpoint_every=0.1",
                                 "hydra.run.dir=job"))
    ckpt = tmp_path / "job" / "checkpoint.pt"
    try:
        wait_for(ckpt.exists, "a first checkpoint")  # training is under way
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130 and len(lines(err)) == 1, err
    message = re.fullmatch(r"interrupted at step (\d+); checkpoint saved; "
                           r"rerun the same command to resume", lines(err)[0])
    assert message and "Traceback" not in out
    assert names(tmp_path / "job") == [".hydra", "checkpoint.pt", "train.log"]
    assert torch.load(ckpt, weights_only=True)["trainer"]["step"] == int(message[1])


def test_killed_outright_the_rerun_resumes_from_its_checkpoint(tmp_path):
    args = tiny("p=7", "steps=1000000", "checkpoint_every=0.1", "hydra.run.dir=job")
    ckpt, log = tmp_path / "job" / "checkpoint.pt", tmp_path / "job" / "train.log"
    first = start(tmp_path, *args)
    try:
        wait_for(ckpt.exists, "a first checkpoint")
    finally:
        first.kill()  # SIGKILL: no chance to save anything more
        first.communicate(timeout=120)
    saved = torch.load(ckpt, weights_only=True)["trainer"]["step"]
    again = start(tmp_path, *args)
    try:
        wait_for(lambda: "resuming from" in log.read_text(), "the rerun to resume")
        again.send_signal(signal.SIGINT)
        _, err = again.communicate(timeout=120)
    finally:
        again.kill()
    assert saved > 0 and f"resuming from {ckpt} at step {saved}" in log.read_text()
    assert again.returncode == 130 and len(lines(err)) == 1, err
    assert int(re.search(r"interrupted at step (\d+)", err)[1]) > saved


def test_progress_lines_without_a_terminal(tmp_path):
    out = run(tmp_path, *tiny("p=7", "progress=auto", "hydra.run.dir=job"))
    progress = [line for line in lines(out.stdout) if "steps/s" in line]
    assert out.returncode == 0 and out.stderr == ""
    steps = [int(re.search(r"step (\d+)/40", line)[1]) for line in progress]
    assert set(range(4, 41, 4)) <= set(steps)  # every tenth of the run (and maybe a timed line)
    assert all(re.search(r"\d+ steps/s, \d+:\d\d left$", line) for line in progress)
    assert "trials.parquet" in names(tmp_path / "job")


def test_a_second_process_on_a_running_job_stops_and_leaves_it_alone(tmp_path):
    first = subprocess.Popen([sys.executable, "-m", "circle_survival.train",
                              *tiny("p=7", "steps=1000000", "hydra.run.dir=job")], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = tmp_path / "job" / ".lock"
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        out = run(tmp_path, *tiny("p=7", "steps=1000000", "hydra.run.dir=job"))
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode == 2 and len(lines) == 1, out.stderr
        assert f"being trained by pid {first.pid} on " in lines[0]
        assert first.poll() is None  # still training, its files in place
        assert {".hydra", "train.log", ".lock"} <= {f.name for f in (tmp_path / "job").iterdir()}
    finally:
        first.terminate()  # SIGTERM: it checkpoints at the next step boundary and stops
        first.wait(timeout=120)
    assert (tmp_path / "job" / "checkpoint.pt").exists()
