import os
import subprocess
from pathlib import Path

import pytest
import torch

from circle_survival import optimizer
from circle_survival.config import GROUPS, TrainConfig


# Test models are tiny: one thread avoids thread hand-offs that cost more than the work
# (5x slower on a busy 2-core machine). Subprocesses (the CLI, Slurm jobs) inherit it.
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)


def tiny(**overrides) -> TrainConfig:
    """A config small enough for a unit test: p=11, d=8, width 16, 30 steps.
    `model=SumMLPConfig(...)` (any group's dataclass) replaces a group's option."""
    cfg = TrainConfig(p=11, d=8, steps=30, trials=3, progress="off", checkpoint_every=0)
    cfg.model.width = 16
    cfg.log.dense_steps, cfg.log.every = 10, 10
    for key, value in overrides.items():
        target = cfg
        *path, last = key.split(".")
        if path and path[0] in GROUPS and last == "kind" and value in GROUPS[path[0]]:
            setattr(cfg, path[0], GROUPS[path[0]][value]())  # "perturbation.kind": another option
            continue
        for part in path:
            target = getattr(target, part)
        if not hasattr(target, last):
            raise AttributeError(f"{key}: no such field in {type(target).__name__}")
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


@pytest.fixture
def small_disk(tmp_path):
    """`small_disk("512k")`: a real file system of that size (a tmpfs; read_only=True mounts
    it read-only) under tmp_path, unmounted afterwards. Mounting needs root: elsewhere the
    test is skipped, or fails where CS_REQUIRE_TMPFS=1 (set it where tests run as root)."""
    mounted = []

    def mount(size: str, read_only: bool = False) -> Path:
        path = tmp_path / f"disk{len(mounted)}"
        path.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                              capture_output=True, text=True) if os.geteuid() == 0 else None
        if done is None or done.returncode != 0:
            reason = "not root" if done is None else done.stderr.strip()
            if os.environ.get("CS_REQUIRE_TMPFS") == "1":
                pytest.fail(f"a tmpfs is required (CS_REQUIRE_TMPFS=1) but cannot be mounted: {reason}")
            pytest.skip(f"cannot mount a tmpfs: {reason}")
        mounted.append(path)
        return path

    yield mount
    for path in mounted:
        subprocess.run(["umount", str(path)], check=True)
