"""A grid of optimizer hyperparameters trained as the trials of one job.

    cfg.grid.optimizer.decoder.lr = [1e-4, 1e-3]        # grid.optimizer.decoder.lr=[1e-4,1e-3]
    cfg.grid.optimizer.decoder.weight_decay = [0.0, 5.0]
    points(cfg)        # [{"optimizer.decoder.lr": 1e-4, "optimizer.decoder.weight_decay": 0.0}, ...] 4 points
    layout(cfg)        # one Trial per trial of the job: its index, replicate, point
    at(cfg, point)     # the single-point config: the point's values set, no grid
    columns(cfg)       # {"optimizer.decoder.lr": [per-trial values], ...}: trials.parquet columns

The job trains `trials` replicates of every point of the grid's Cartesian product (the
first key varies slowest), point by point: its trials are

    position j = point_index * trials + r         (r = 0 .. trials - 1)
    replicate  = trial_offset + r                  what seeding uses (initial values, split)
    trial      = trial_offset + j                  the `trial` column: unique in the job

so a trial's numbers equal those of trial `replicate` of the single-point job `at(cfg,
point)` with the same seed, init_seed and trial_offset, bit for bit on the CPU (whatever
else shares its job). Without a grid there is one point and trial == replicate, as before.
"""
from __future__ import annotations

import copy
import functools
import itertools
from dataclasses import dataclass

from .config import ConfigError, GridConfig, TrainConfig, grid_values


@dataclass(frozen=True)
class Trial:
    trial: int  # the job's `trial` column: trial_offset + position in the job
    replicate: int  # the index seeding uses: trial_offset + r
    point: int  # index into points(cfg)


def points(cfg: TrainConfig) -> list[dict[str, float]]:
    """Every combination of the grid's values, the first key varying slowest; [{}] without a grid."""
    grid = grid_values(cfg)
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def check_not_shadowed(cfg: TrainConfig, overrides: list[str]) -> None:
    """ConfigError if a job's override ("optimizer.lr=1e-3", from the command line or a
    sweep) sets a grid key: the grid's values would silently replace the value set.

        check_not_shadowed(cfg, ["optimizer.lr=1e-3"])   # with grid.optimizer.lr=[...]: error
    """
    grid = grid_values(cfg)
    for override in overrides:
        key = override.split("=", 1)[0].lstrip("+~")
        if key in grid:
            raise ConfigError(f"{key} is set ({override}) and also a grid key (grid.{key}={grid[key]}): "
                              f"the grid's values would replace it; give one of the two")


def layout(cfg: TrainConfig) -> list[Trial]:
    """The job's trials in order: point by point, `trials` replicates each."""
    n = len(points(cfg))
    return [Trial(cfg.trial_offset + i * cfg.trials + r, cfg.trial_offset + r, i)
            for i in range(n) for r in range(cfg.trials)]


def at(cfg: TrainConfig, point: dict[str, float]) -> TrainConfig:
    """`cfg` with the point's values set and no grid: the single-point job it stands for."""
    out = copy.deepcopy(cfg)
    out.grid = GridConfig()
    for key, value in point.items():
        *path, name = key.split(".")
        setattr(functools.reduce(getattr, path, out), name, value)
    return out


def optimizers(cfg: TrainConfig) -> list:
    """Each trial's optimizer config (cfg.optimizer with its point's values), in job order."""
    per_point = [at(cfg, point).optimizer for point in points(cfg)]
    return [per_point[t.point] for t in layout(cfg)]


def columns(cfg: TrainConfig) -> dict[str, list[float]]:
    """The grid's keys as trials.parquet columns: each trial's own value; {} without a grid."""
    grid, where = points(cfg), layout(cfg)
    return {key: [grid[t.point][key] for t in where] for key in grid_values(cfg)}
