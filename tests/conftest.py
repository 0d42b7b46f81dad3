import os

import pytest
import torch

from circle_survival import optimizer
from circle_survival.config import TrainConfig


# Test models are tiny: one thread avoids thread hand-offs that cost more than the work
# (5x slower on a busy 2-core machine). Subprocesses (the CLI, Slurm jobs) inherit it.
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)


def tiny(**overrides) -> TrainConfig:
    """A config small enough for a unit test: p=11, d=8, width 16, 30 steps."""
    cfg = TrainConfig(p=11, d=8, steps=30, trials=3, progress="off", checkpoint_every=0)
    cfg.model.width = 16
    cfg.log.dense_steps, cfg.log.every = 10, 10
    for key, value in overrides.items():
        target = cfg
        *path, last = key.split(".")
        for part in path:
            target = getattr(target, part)
        setattr(target, last, value)
    return cfg


@pytest.fixture
def tiny_cfg():
    return tiny


@pytest.fixture
def gpu_layout(monkeypatch):
    """Call it to give trainers built afterwards, here on the CPU, the optimizer layout a
    GPU gets: one tensor per block and parameter instead of one per trial."""
    return lambda: monkeypatch.setattr(optimizer, "per_trial_tensors", lambda device: False)
