"""One job, end to end: skip if complete, resume from a checkpoint, train, write, report.

    result = run_job(TrainConfig(p=23, trials=10), Path("outputs/p=23"))   # None if skipped

The checkpoint (`checkpoint.pt`, the whole Trainer state) is written every
`checkpoint_every` steps under a temporary name and renamed, and removed once the
results are written, so a killed job rerun with the same config resumes where it was.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import pyarrow as pa
import torch

from .config import ConfigError, TrainConfig, flatten, validate
from .logs import FILES, stored_config, trial_circles, write_job
from .trainer import Trainer, TrainResult

log = logging.getLogger("circle_survival")
CHECKPOINT = "checkpoint.pt"


def _differences(stored: dict, wanted: dict) -> list[str]:
    keys = sorted(set(stored) | set(wanted))
    return [f"{k}: {stored.get(k)!r} != {wanted.get(k)!r}" for k in keys
            if stored.get(k) != wanted.get(k)]


def _complete(out_dir: Path, cfg: TrainConfig) -> bool:
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
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save({"config": flatten(trainer.cfg), "trainer": trainer.state_dict()}, tmp)
    os.replace(tmp, path)


def _resume(trainer: Trainer, path: Path) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a checkpoint cut short by a kill: start over
        log.warning("ignoring unreadable checkpoint %s (%s); starting from step 0", path, err)
        return
    diff = _differences(state["config"], flatten(trainer.cfg))
    if diff:
        raise ConfigError(f"{path} belongs to another config ({'; '.join(diff)}); "
                          "pass force=true to discard it")
    trainer.load_state_dict(state["trainer"])
    log.info("resuming from %s at step %d", path, trainer.step)


def report(cfg: TrainConfig, result: TrainResult, out_dir: Path) -> None:
    """Print each trial's surviving circles and where the logs are."""
    for trial, circles in zip(result.trials, trial_circles(cfg, result)):
        ks = ", ".join(map(str, circles)) or "-"
        log.info("trial %d: %d circle%s  k = %s", trial, len(circles),
                 "" if len(circles) == 1 else "s", ks)
    log.info("logs: %s (%s)", out_dir, ", ".join(FILES))


def run_job(cfg: TrainConfig, out_dir: Path) -> TrainResult | None:
    """Train one job into out_dir; None if its outputs were already complete."""
    validate(cfg)
    out_dir = Path(out_dir)
    ckpt = out_dir / CHECKPOINT
    if cfg.force:
        # The completeness mark goes first: a redo killed midway must not look complete.
        for name in ("trials.parquet", CHECKPOINT):
            (out_dir / name).unlink(missing_ok=True)
    elif _complete(out_dir, cfg):
        log.info("%s: outputs complete, skipping (force=true redoes the job)", out_dir)
        return None

    trainer = Trainer(cfg)
    if ckpt.exists():
        _resume(trainer, ckpt)

    def on_step(tr: Trainer) -> None:
        if cfg.checkpoint_every and tr.step % cfg.checkpoint_every == 0:
            out_dir.mkdir(parents=True, exist_ok=True)
            save_checkpoint(tr, ckpt)

    result = trainer.run(on_step)
    write_job(out_dir, cfg, result)
    ckpt.unlink(missing_ok=True)
    report(cfg, result, out_dir)
    return result
