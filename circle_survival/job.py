"""One job, end to end: skip if complete, resume from a checkpoint, train, write, report.

    result = run_job(TrainConfig(p=23, trials=10), Path("outputs/p=23"))   # None if skipped

The checkpoint (`checkpoint.pt`, the whole Trainer state) is written every
`checkpoint_every` seconds and whenever the job is told to stop (SIGTERM from Slurm's
requeue, cancel or preemption; SIGUSR2, submitit's timeout warning; Ctrl-C), always
between two steps, under a temporary name and renamed. It is removed once the results
are written, so a job killed at any moment and rerun with the same config resumes.

While it runs, a job holds a lock on `.lock` in its directory: a second process on the
same job (a sweep resubmitted while its jobs still run) stops with `JobRunning` instead
of training it twice and racing to write the same files.
"""
from __future__ import annotations

import fcntl
import logging
import os
import signal
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pyarrow as pa
import torch

from .config import ConfigError, TrainConfig, flatten, validate
from .health import SPIKE_AFTER, SPIKE_FACTOR
from .logs import FILES, end_steps, stored_config, trial_circles, write_job
from .trainer import Trainer, TrainResult

log = logging.getLogger("circle_survival")
CHECKPOINT = "checkpoint.pt"
LOCK = ".lock"


class JobRunning(RuntimeError):
    """Another process holds this job's lock."""


def _lock(path: Path) -> IO | None:
    """`path` opened and locked; None on a file system without locks; JobRunning if held.

    The holder removes the file on release. A process that opened it just before that
    finds, once it gets the lock, that the path no longer names its file, and tries again.
    """
    while True:
        f = open(path, "a+")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise JobRunning(f"{path.parent} is being trained by {holder}; wait for it to "
                             "finish or stop it, then rerun") from None
        except OSError as err:
            f.close()
            log.warning("cannot lock %s (%s); a second process could run this job too", path, err)
            return None
        if path.exists() and os.stat(path).st_ino == os.fstat(f.fileno()).st_ino:
            return f
        f.close()


@contextmanager
def job_lock(out_dir: Path):
    """Hold out_dir/.lock for the duration; JobRunning if another process holds it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / LOCK
    f = _lock(path)
    try:
        if f is not None:
            f.truncate(0)
            f.write(f"pid {os.getpid()} on {socket.gethostname()}")
            f.flush()
        yield
    finally:
        if f is not None:
            path.unlink(missing_ok=True)  # before unlocking, so no one locks a stale file
            f.close()


def _differences(stored: dict, wanted: dict) -> list[str]:
    """Keys whose values differ; a key an older version did not record (stop.*) counts
    as its default, so results from before it existed still match a config leaving it so."""
    defaults = flatten(TrainConfig())
    keys = sorted(set(stored) | set(wanted))
    return [f"{k}: {stored.get(k, defaults.get(k))!r} != {wanted.get(k)!r}" for k in keys
            if stored.get(k, defaults.get(k)) != wanted.get(k)]


def is_complete(out_dir: Path, cfg: TrainConfig) -> bool:
    """True if out_dir holds this config's finished results; error if another config's."""
    try:
        stored = stored_config(out_dir)
    except (OSError, pa.ArrowException) as err:
        raise ConfigError(f"{out_dir / 'trials.parquet'} is unreadable ({err}); "
                          "move it away or pass force=true to redo the job") from None
    if stored is None:
        return False
    diff = _differences(stored, flatten(cfg))
    if diff:
        raise ConfigError(f"{out_dir} holds results of another config ({'; '.join(diff)}); "
                          "choose another output directory or pass force=true to overwrite")
    return True


def save_checkpoint(trainer: Trainer, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"config": flatten(trainer.cfg), "trainer": trainer.state_dict()}, tmp)
    os.replace(tmp, path)


def _resume(trainer: Trainer, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file means: start over
        log.warning("ignoring unreadable checkpoint %s (%s); starting from step 0", path, err)
        return
    diff = _differences(state["config"], flatten(trainer.cfg))
    if diff:
        raise ConfigError(f"{path} belongs to another config ({'; '.join(diff)}); "
                          "pass force=true to discard it")
    try:
        trainer.load_state_dict(state["trainer"])
    except (KeyError, ValueError, RuntimeError) as err:  # e.g. from an older version
        raise ConfigError(f"{path} does not fit this job's training state ({err}); "
                          "pass force=true to discard it") from None
    log.info("resuming from %s at step %d", path, trainer.step)


class StopSignals:
    """Hold SIGTERM, SIGUSR2 and SIGINT until a step boundary.

    They arrive mid-step, when parameters and optimizer state may disagree; the handler
    only notes them. `deliver()` later hands each to the handler that was there before
    (submitit's requeue, Python's KeyboardInterrupt, or the default: terminate). A signal
    the process ignores (SIGINT in a job started with `&` or `nohup`) stays ignored.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGUSR2, signal.SIGINT)

    def __enter__(self) -> "StopSignals":
        self.caught: list[int] = []
        self.previous = {}
        for sig in self.SIGNALS:
            if signal.getsignal(sig) == signal.SIG_IGN:
                continue
            try:
                self.previous[sig] = signal.signal(sig, lambda s, _: self.caught.append(s))
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def deliver(self) -> None:
        caught, self.caught = self.caught, []
        for sig in caught:
            handler = self.previous[sig]
            log.warning("received %s: checkpoint saved", signal.Signals(sig).name)
            if callable(handler):
                handler(sig, None)
            elif handler == signal.SIG_DFL:
                signal.signal(sig, signal.SIG_DFL)
                signal.raise_signal(sig)


def report(cfg: TrainConfig, result: TrainResult, out_dir: Path) -> None:
    """Print each trial's surviving circles, a summary naming diverged and spiking trials,
    and where the logs are."""
    for trial, circles, diverged in zip(result.trials, trial_circles(cfg, result), result.diverged_step):
        if circles is None:
            log.warning("trial %d: DIVERGED at step %d (loss or parameters not finite); "
                        "no circles counted", trial, diverged)
            continue
        ks = ", ".join(map(str, circles)) or "-"
        log.info("trial %d: %d circle%s  k = %s", trial, len(circles),
                 "" if len(circles) == 1 else "s", ks)
    diverged = [f"trial {t} at step {s}" for t, s in zip(result.trials, result.diverged_step) if s >= 0]
    spiked = [f"trial {t} at step {s}" for t, s in zip(result.trials, result.spike_step) if s >= 0]
    summary = (f"summary: {len(result.trials)} trials; diverged: {', '.join(diverged) or 'none'}; "
               f"loss spikes (> {SPIKE_FACTOR:g}x the running minimum after step {SPIKE_AFTER}): "
               f"{', '.join(spiked) or 'none'}")
    (log.warning if diverged or spiked else log.info)(summary)
    ends = end_steps(result)
    if cfg.stop.kind != "never":
        run, full = int(ends.sum()), len(result.trials) * cfg.steps
        stopped = ", ".join(f"{t} at {s}" for t, s in zip(result.trials, result.stopped_step) if s >= 0)
        log.info("stop=%s: %s model-steps run, %s saved (%.1fx fewer); stopped: %s", cfg.stop.kind,
                 f"{run:,}", f"{full - run:,}", full / max(run, 1), stopped or "none")
    log.info("logs: %s (%s)", out_dir, ", ".join(FILES))


def run_job(cfg: TrainConfig, out_dir: Path) -> TrainResult | None:
    """Train one job into out_dir; None if its outputs were already complete."""
    validate(cfg)
    out_dir = Path(out_dir)
    with job_lock(out_dir):
        return _run_locked(cfg, out_dir)


def _run_locked(cfg: TrainConfig, out_dir: Path) -> TrainResult | None:
    ckpt = out_dir / CHECKPOINT
    if cfg.force:
        # The completeness mark goes first: a redo killed midway must not look complete.
        for name in ("trials.parquet", CHECKPOINT):
            (out_dir / name).unlink(missing_ok=True)
    elif is_complete(out_dir, cfg):
        log.info("%s: outputs complete, skipping (force=true redoes the job)", out_dir)
        return None

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    trainer = Trainer(cfg)
    if ckpt.exists():
        _resume(trainer, ckpt)
    last_save = time.monotonic()

    with StopSignals() as stop:
        def on_step(tr: Trainer) -> None:
            nonlocal last_save
            due = cfg.checkpoint_every and time.monotonic() - last_save >= cfg.checkpoint_every
            if due or stop.caught:
                save_checkpoint(tr, ckpt)
                last_save = time.monotonic()
            stop.deliver()

        result = trainer.run(on_step)
    write_job(out_dir, cfg, result)
    ckpt.unlink(missing_ok=True)
    report(cfg, result, out_dir)
    return result
