import pytest

from circle_survival.config import TrainConfig


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
