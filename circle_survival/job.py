"""One job, end to end: skip if complete, resume from a checkpoint, train, write, report.

    result = run_job(TrainConfig(p=23, trials=10), Path("outputs/p=23"))   # None if skipped

The checkpoint (`checkpoint.pt`, the whole Trainer state) is written 30 s into training
(or `checkpoint_every`, if sooner), then every `checkpoint_every` seconds, whenever the
job is told to stop (SIGTERM from Slurm's requeue, cancel or preemption; SIGUSR2,
submitit's timeout warning; Ctrl-C), and once training ends, always between two steps,
under a temporary name and renamed. It is removed only once the results are written, so
a job killed at any moment and rerun with the same config resumes, and one whose results
could not be written (a full disk) writes them on the rerun without training again.
A checkpoint that cannot be written (a full disk) is warned about; training goes on.

While it runs, a job holds a lock on `.lock` in its directory: a second process on the
same job (a sweep resubmitted while its jobs still run) stops with `JobRunning` instead
of training it twice and racing to write the same files.
"""
from __future__ import annotations

import errno
import fcntl
import io
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
from .fourier import settling_steps, survivors
from .health import SPIKE_AFTER, SPIKE_FACTOR
from .results import end_steps, files, stored_config, trial_circles, write_job
from .trainer import Trainer, TrainResult

log = logging.getLogger("circle_survival")
CHECKPOINT = "checkpoint.pt"
LOCK = ".lock"
FIRST_CHECKPOINT_S = 30.0  # a job killed in its first minutes loses at most this much


def checkpoint_due(elapsed: float, since_last: float | None, every: float) -> bool:
    """Whether a checkpoint is due `elapsed` seconds into training and `since_last` seconds
    after the last one (None: none yet): the first after min(30 s, every), then one every
    `every` seconds; never if `every` is 0.

        checkpoint_due(30.0, None, 300)    # True: the first comes early
        checkpoint_due(200.0, 170.0, 300)  # False: the next is 300 s after it
    """
    if not every:
        return False
    if since_last is None:
        return elapsed >= min(FIRST_CHECKPOINT_S, every)
    return since_last >= every


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, taken between two steps; the message says whether a checkpoint was saved."""


class ResultsNotWritten(OSError):
    """Writing the results failed; the message says what was kept and how to finish."""


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
    """The trainer's whole state to `path`, atomically; OSError if it cannot be written
    (a file already at `path` is then kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()  # torch.save reports a full disk as an opaque RuntimeError
    torch.save({"config": flatten(trainer.cfg), "trainer": trainer.state_dict()}, buffer)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(buffer.getbuffer())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a partial file only takes space a rerun needs
        raise


def oserror_text(err: OSError, folder: Path | str | None = None) -> str:
    """An OSError as the file it concerns (or else `folder`) and why:
    "outputs/x/.lock: Read-only file system"."""
    path = err.filename2 or err.filename or folder  # os.replace(src, dst) fails for dst's sake
    why = os.strerror(err.errno) if err.errno else str(err)  # pyarrow's strerror is long
    return f"{path}: {why}" if path else why


class Checkpoints:
    """The job's checkpoint file: when the next one is due, and which step a rerun resumes at.

        ckpt = Checkpoints(out_dir / CHECKPOINT, every=300, saved_step=None)
        if ckpt.due(): ckpt.save(trainer)
        ckpt.kept()     # "checkpoint of step 1200 kept" or "no checkpoint saved"
    """

    def __init__(self, path: Path, every: float, saved_step: int | None):
        self.path, self.every, self.saved_step = path, every, saved_step
        self.start, self.last = time.monotonic(), None
        self.error: str | None = None  # why the latest save failed

    def due(self) -> bool:
        now = time.monotonic()
        return checkpoint_due(now - self.start, None if self.last is None else now - self.last,
                              self.every)

    def save(self, trainer: Trainer) -> bool:
        """Save; on a write error warn, keep the previous checkpoint, and return False."""
        self.last = time.monotonic()
        try:
            save_checkpoint(trainer, self.path)
        except OSError as err:
            self.error = oserror_text(err, self.path)
            log.warning("checkpoint not saved at step %d (%s); %s", trainer.step, self.error,
                        self.kept())
            return False
        self.saved_step, self.error = trainer.step, None
        return True

    def kept(self) -> str:
        if self.saved_step is None:
            return "no checkpoint saved"
        return f"checkpoint of step {self.saved_step} kept in {self.path}"


def _resume(trainer: Trainer, path: Path) -> bool:
    """Load the checkpoint at `path` into `trainer`; False if it is unreadable."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file means: start over
        log.warning("ignoring unreadable checkpoint %s (%s); starting from step 0", path, err)
        return False
    diff = _differences(state["config"], flatten(trainer.cfg))
    if diff:
        raise ConfigError(f"{path} belongs to another config ({'; '.join(diff)}); "
                          "pass force=true to discard it")
    try:
        trainer.load_state_dict(state["trainer"])
    except (KeyError, ValueError, RuntimeError) as err:  # e.g. from an older version
        raise ConfigError(f"{path} does not fit this job's training state ({err}); "
                          "pass force=true to discard it") from None
    if trainer.step > trainer.cfg.steps or not trainer.running:
        log.info("%s holds the finished training; writing its results", path)
    else:
        log.info("resuming from %s at step %d", path, trainer.step)
    return True


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

    def deliver(self, step: int, checkpoint: str) -> None:
        """Hand on the signals caught; `checkpoint` says what was saved at `step`."""
        caught, self.caught = self.caught, []
        for sig in caught:
            handler = self.previous[sig]
            if handler is signal.default_int_handler:  # Ctrl-C: one message, no traceback
                raise Interrupted(f"interrupted at step {step}; {checkpoint}; "
                                  "rerun the same command to resume")
            log.warning("received %s: %s (step %d)", signal.Signals(sig).name, checkpoint, step)
            if callable(handler):
                handler(sig, None)
            elif handler == signal.SIG_DFL:
                signal.signal(sig, signal.SIG_DFL)
                signal.raise_signal(sig)


def _why_none(cfg: TrainConfig, spectrum) -> str:
    """For a trial with no circle under "2 x mean": how many frequencies are still strong.
    A relative rule counts none both when every frequency died and when every one survived
    (weight decay 0), two opposite outcomes; this tells them apart."""
    if cfg.circles.rule != "two_mean":
        return ""
    above = int(survivors(spectrum.reshape(1, -1), "threshold", cfg.circles.threshold).sum())
    return (f"  (none exceeds 2 x the mean signal; {above} of {cfg.p // 2} frequencies end above "
            f"circles.threshold={cfg.circles.threshold:g})")


def report(cfg: TrainConfig, result: TrainResult, out_dir: Path) -> None:
    """Print each trial's surviving circles, a summary naming diverged and spiking trials,
    and where the logs are."""
    for trial, circles, diverged, spectrum in zip(result.trials, trial_circles(cfg, result), result.diverged_step,
                                                  result.final_spectrum):
        if circles is None:
            log.warning("trial %d: DIVERGED at step %d (loss or parameters not finite); "
                        "no circles counted", trial, diverged)
            continue
        ks = ", ".join(map(str, circles)) or "-"
        log.info("trial %d: %d circle%s  k = %s%s", trial, len(circles),
                 "" if len(circles) == 1 else "s", ks, "" if circles else _why_none(cfg, spectrum))
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
        sc = cfg.stop
        after, window = settling_steps(sc.after, sc.window, sc.decay_times, *cfg.optimizer.settings("E"))
        log.info("stop=%s (from step %g, over %g steps): %s model-steps run, %s saved (%.1fx fewer); "
                 "stopped: %s", sc.kind, after, window, f"{run:,}", f"{full - run:,}",
                 full / max(run, 1), stopped or "none")
    log.info("logs: %s (%s)", out_dir, ", ".join(files(cfg)))


def run_job(cfg: TrainConfig, out_dir: Path) -> TrainResult | None:
    """Train one job into out_dir; None if its outputs were already complete."""
    validate(cfg)
    out_dir = Path(out_dir)
    with job_lock(out_dir):
        return _run_locked(cfg, out_dir)


def skip_or_start(out_dir: Path, force: bool, complete, marks: tuple[str, ...], threads: int) -> bool:
    """True if a job is to be skipped: `complete()` and not `force`. Otherwise the job
    starts: with force its `marks` go (the completeness mark first: a redo killed midway
    must not look complete), and torch takes `threads` (0: as it is). Call it holding
    job_lock(out_dir).

        if skip_or_start(out_dir, cfg.force, lambda: is_complete(out_dir, cfg), ("trials.parquet",), cfg.threads):
            return None
    """
    if force:
        for name in marks:
            (out_dir / name).unlink(missing_ok=True)
    elif complete():
        log.info("%s: outputs complete, skipping (force=true redoes the job)", out_dir)
        return True
    if threads:
        torch.set_num_threads(threads)
    return False


def _run_locked(cfg: TrainConfig, out_dir: Path) -> TrainResult | None:
    ckpt = out_dir / CHECKPOINT
    if skip_or_start(out_dir, cfg.force, lambda: is_complete(out_dir, cfg), ("trials.parquet", CHECKPOINT),
                     cfg.threads):
        return None
    trainer = Trainer(cfg)
    resumed = ckpt.exists() and _resume(trainer, ckpt)
    checkpoints = Checkpoints(ckpt, cfg.checkpoint_every, trainer.step if resumed else None)
    first_step = trainer.step

    with StopSignals() as stop:
        def on_step(tr: Trainer) -> None:
            if stop.caught or checkpoints.due():
                saved = checkpoints.save(tr)
                if stop.caught:
                    stop.deliver(tr.step, "checkpoint saved" if saved else
                                 f"checkpoint NOT saved ({checkpoints.error}); {checkpoints.kept()}")

        result = trainer.run(on_step)
    if trainer.step != first_step:
        checkpoints.save(trainer)  # kept until the results are written: nothing trained is lost
    try:
        write_job(out_dir, cfg, result)
    except OSError as err:
        raise ResultsNotWritten(_not_written(err, checkpoints, trainer.step)) from err
    ckpt.unlink(missing_ok=True)
    report(cfg, result, out_dir)
    return result


def _not_written(err: OSError, checkpoints: Checkpoints, end: int) -> str:
    """The one line for results that could not be written: why, and what a rerun does."""
    fix = ("free some space" if err.errno in (errno.ENOSPC, errno.EDQUOT) else "fix that")
    if checkpoints.saved_step == end:
        then = (f"the trained state is kept in {checkpoints.path}: {fix}, then rerun the same "
                "command to write them without training again")
    elif checkpoints.saved_step is not None:
        then = (f"the final state could not be saved either; {checkpoints.kept()}: {fix}, then "
                "rerun the same command to resume from there")
    else:
        then = f"no checkpoint could be saved either, so the training is lost: {fix} and rerun"
    return f"results not written to {checkpoints.path.parent} ({oserror_text(err)}); {then}"
