import errno
import logging
import os
import signal

import numpy as np
import pandas as pd
import pytest

from circle_survival import job
from circle_survival.config import ConfigError
from circle_survival.job import CHECKPOINT, ResultsNotWritten, checkpoint_due, run_job


class Killed(Exception):
    pass


def signal_at_step(monkeypatch, step: int, sig: int) -> None:
    """Send `sig` to this process mid-step `step`: once its first block's gradients are
    used, before the update."""
    real_blocks = job.Trainer.block_gradients

    def blocks_then_signal(self):
        for i, block in enumerate(real_blocks(self)):
            yield block
            if i == 0 and self.step == step:
                os.kill(os.getpid(), sig)

    monkeypatch.setattr(job.Trainer, "block_gradients", blocks_then_signal)


def test_killed_job_resumes_and_matches_uninterrupted(tmp_path, tiny_cfg, monkeypatch):
    cfg = tiny_cfg(steps=60, checkpoint_every=1e-9)  # a checkpoint after every step
    run_job(cfg, tmp_path / "straight")

    real_save = job.save_checkpoint
    saves = []

    def save_then_die(trainer, path):
        real_save(trainer, path)
        saves.append(trainer.step)
        if trainer.step == 40:
            raise Killed  # as if the job were killed right after its second checkpoint

    monkeypatch.setattr(job, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        run_job(cfg, tmp_path / "killed")
    assert (tmp_path / "killed" / CHECKPOINT).exists()
    assert not (tmp_path / "killed" / "trials.parquet").exists()  # nothing looks complete
    monkeypatch.setattr(job, "save_checkpoint", real_save)

    run_job(cfg, tmp_path / "killed")  # the rerun resumes at step 40
    assert saves == list(range(1, 41)) and not (tmp_path / "killed" / CHECKPOINT).exists()
    for name in ("signals", "metrics", "trials"):
        a = pd.read_parquet(tmp_path / "straight" / f"{name}.parquet")
        b = pd.read_parquet(tmp_path / "killed" / f"{name}.parquet")
        pd.testing.assert_frame_equal(a, b)


# Each spoils a checkpoint {"config": ..., "trainer": Trainer.state_dict()} in place.
def _other_config(ckpt):
    ckpt["config"]["p"] = 999


def _older_version(ckpt):  # the optimizer state under its former key
    ckpt["trainer"]["opt"] = ckpt["trainer"].pop("adam")


def _other_shapes(ckpt):  # a moment of another shape
    moments = ckpt["trainer"]["adam"]["exp_avg"]
    moments["W2"] = moments["W2"][:, :1]


def _other_params(ckpt):  # a parameter of another shape
    params = ckpt["trainer"]["params"]
    params["b3"] = params["b3"][:, :1]


@pytest.mark.parametrize("spoil, problem", [
    (_other_config, "another config"),
    (_older_version, "does not fit this job's training state"),
    (_other_shapes, r"does not fit this job's training state \(exp_avg has shapes"),
    (_other_params, r"does not fit this job's training state \(parameter b3 has shape")])
def test_checkpoint_that_does_not_fit_is_refused_and_kept(tmp_path, tiny_cfg, monkeypatch,
                                                          spoil, problem):
    def save_then_die(trainer, path):
        ckpt = {"config": job.flatten(trainer.cfg), "trainer": trainer.state_dict()}
        spoil(ckpt)
        job.torch.save(ckpt, path)
        raise Killed

    monkeypatch.setattr(job, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        run_job(tiny_cfg(checkpoint_every=1e-9), tmp_path)
    monkeypatch.undo()
    with pytest.raises(ConfigError, match=problem):
        run_job(tiny_cfg(checkpoint_every=1e-9), tmp_path)
    assert (tmp_path / CHECKPOINT).exists()


def test_corrupt_trials_file_is_named(tmp_path, tiny_cfg):
    (tmp_path / "trials.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ConfigError, match="trials.parquet is unreadable"):
        run_job(tiny_cfg(), tmp_path)
    assert (tmp_path / "trials.parquet").read_bytes() == b"PAR1 not really"


def test_force_redoes(tmp_path, tiny_cfg):
    run_job(tiny_cfg(), tmp_path)
    assert run_job(tiny_cfg(), tmp_path) is None
    result = run_job(tiny_cfg(force=True), tmp_path)
    assert result is not None and np.isfinite(result.metrics).all()


def test_sigterm_mid_training_saves_a_checkpoint_then_stops(tmp_path, tiny_cfg, monkeypatch):
    """SIGTERM (Slurm's requeue or cancel) arrives mid-run: the job saves its state at the
    next step boundary and terminates; rerun, it resumes and matches an uninterrupted job."""
    cfg = tiny_cfg(steps=60, checkpoint_every=0)
    run_job(cfg, tmp_path / "straight")
    signal_at_step(monkeypatch, 30, signal.SIGTERM)
    def terminate(signum, frame):  # stands for the default action: the process ends
        raise Killed

    signal.signal(signal.SIGTERM, terminate)
    try:
        with pytest.raises(Killed):
            run_job(cfg, tmp_path / "killed")
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    state = job.torch.load(tmp_path / "killed" / CHECKPOINT, weights_only=True)
    assert state["trainer"]["step"] == 31  # saved right after step 30's update
    assert not (tmp_path / "killed" / "trials.parquet").exists()
    monkeypatch.undo()
    run_job(cfg, tmp_path / "killed")
    for name in ("signals", "metrics", "trials"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "straight" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "killed" / f"{name}.parquet"))


def test_an_ignored_signal_stays_ignored(tmp_path, tiny_cfg, monkeypatch, caplog):
    """A job started with SIGINT ignored (`cmd &` in a script, nohup) neither stops nor
    claims a checkpoint when SIGINT comes; SIGTERM still stops it."""
    signal_at_step(monkeypatch, 10, signal.SIGINT)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        assert run_job(tiny_cfg(steps=30, checkpoint_every=0), tmp_path) is not None
    finally:
        signal.signal(signal.SIGINT, previous)
    assert "received" not in caplog.text and not (tmp_path / CHECKPOINT).exists()
    assert (tmp_path / "trials.parquet").exists()


def test_a_job_already_running_is_not_run_twice(tmp_path, tiny_cfg):
    cfg = tiny_cfg()
    with job.job_lock(tmp_path / "run"):
        assert (tmp_path / "run" / job.LOCK).read_text().startswith(f"pid {os.getpid()} on ")
        with pytest.raises(job.JobRunning, match=f"being trained by pid {os.getpid()}"):
            run_job(cfg, tmp_path / "run")
        assert not (tmp_path / "run" / "trials.parquet").exists()
    assert not (tmp_path / "run" / job.LOCK).exists()  # released and removed
    assert run_job(cfg, tmp_path / "run") is not None
    assert not (tmp_path / "run" / job.LOCK).exists()


def test_a_stale_lock_file_does_not_block(tmp_path, tiny_cfg):
    # A job killed outright leaves its lock file, but the kernel drops the lock itself.
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / job.LOCK).write_text("pid 1 on elsewhere")
    assert run_job(tiny_cfg(), tmp_path / "run") is not None


@pytest.mark.parametrize("elapsed, since_last, every, due", [
    (29.9, None, 300, False), (30.0, None, 300, True),  # the first comes 30 s in...
    (5.0, None, 5, True), (4.9, None, 5, False),        # ...or sooner, if checkpoints are
    (200.0, 170.0, 300, False), (330.0, 300.0, 300, True),  # then every `every` seconds
    (1e6, None, 0, False), (1e6, 1e6, 0, False),        # 0: never
])
def test_checkpoint_schedule(elapsed, since_last, every, due):
    assert checkpoint_due(elapsed, since_last, every) is due


def test_results_not_written_keep_the_state_the_rerun_writes_them(tmp_path, tiny_cfg, caplog):
    cfg = tiny_cfg(steps=40)
    run_job(cfg, tmp_path / "straight")
    (tmp_path / "job" / "metrics.parquet").mkdir(parents=True)  # in the way of the second file
    with pytest.raises(ResultsNotWritten, match="metrics.parquet: Is a directory.*without training again"):
        run_job(cfg, tmp_path / "job")
    assert sorted(f.name for f in (tmp_path / "job").iterdir()) == [CHECKPOINT, "metrics.parquet"]
    (tmp_path / "job" / "metrics.parquet").rmdir()
    with caplog.at_level(logging.INFO, logger="circle_survival"):
        run_job(cfg, tmp_path / "job")
    assert "holds the finished training" in caplog.text and "resuming" not in caplog.text
    assert not (tmp_path / "job" / CHECKPOINT).exists()
    for name in ("signals", "metrics", "params", "trials"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "straight" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "job" / f"{name}.parquet"))


def test_a_checkpoint_not_written_is_warned_about_and_training_goes_on(tmp_path, tiny_cfg,
                                                                       monkeypatch, caplog):
    real_save = job.save_checkpoint

    def full_disk_at_step_5(trainer, path):
        if trainer.step == 5:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        real_save(trainer, path)

    monkeypatch.setattr(job, "save_checkpoint", full_disk_at_step_5)
    assert run_job(tiny_cfg(checkpoint_every=1e-9), tmp_path) is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [f"checkpoint not saved at step 5 ({tmp_path / CHECKPOINT}: No space left "
                        f"on device); checkpoint of step 4 kept in {tmp_path / CHECKPOINT}"]
    assert (tmp_path / "trials.parquet").exists() and not (tmp_path / CHECKPOINT).exists()
