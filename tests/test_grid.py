"""A grid of optimizer settings as one job: each trial equals its single-point job's."""
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf.errors import ValidationError

from circle_survival import grid
from circle_survival.config import ConfigError, LearningRate, SplitConfig, to_dataclass, validate
from circle_survival.job import CHECKPOINT, run_job, save_checkpoint
from circle_survival.trainer import Trainer
from tests.helpers.crash import run_until

CONF = str(Path(__file__).resolve().parent.parent / "conf")
SPLIT = SplitConfig(embedding=LearningRate(lr=0.03, weight_decay=0.0),
                    decoder=LearningRate(lr=0.005, weight_decay=1.0))


def with_grid(cfg, **lists):
    """cfg with grid lists set by dotted optimizer key: decoder__lr=[...] is grid.optimizer.decoder.lr."""
    for key, values in lists.items():
        *path, name = key.split("__")
        target = cfg.grid.optimizer
        for part in path:
            target = getattr(target, part)
        setattr(target, name, values)
    return cfg


def test_points_and_layout(tiny_cfg):
    cfg = with_grid(tiny_cfg(trials=2, trial_offset=5, optimizer=SPLIT),
                    decoder__lr=[1e-3, 1e-2], decoder__weight_decay=[0, 5])
    assert grid.points(cfg) == [
        {"optimizer.decoder.lr": 1e-3, "optimizer.decoder.weight_decay": 0.0},
        {"optimizer.decoder.lr": 1e-3, "optimizer.decoder.weight_decay": 5.0},
        {"optimizer.decoder.lr": 1e-2, "optimizer.decoder.weight_decay": 0.0},
        {"optimizer.decoder.lr": 1e-2, "optimizer.decoder.weight_decay": 5.0}]
    assert [(t.trial, t.replicate, t.point) for t in grid.layout(cfg)][:4] == [
        (5, 5, 0), (6, 6, 0), (7, 5, 1), (8, 6, 1)]
    assert grid.columns(cfg)["optimizer.decoder.weight_decay"] == [0, 0, 5, 5, 0, 0, 5, 5]
    single = grid.at(cfg, grid.points(cfg)[3])
    assert single.optimizer.decoder.lr == 1e-2 and single.optimizer.decoder.weight_decay == 5
    assert grid.points(single) == [{}] and cfg.optimizer.decoder.lr == 0.005  # cfg untouched


def _trained(cfg):
    trainer = Trainer(cfg)
    result = trainer.run()
    return trainer, result


@pytest.mark.parametrize("dtype, block, split", [("float64", 0, False), ("float32", 0, True),
                                                 ("float32", 3, False), ("float64", 1, True)])
def test_a_grid_trial_equals_its_single_point_job_bit_for_bit(tiny_cfg, dtype, block, split):
    # 2 x 2 points x 2 replicates in blocks of 2 (auto), 3 (mixing points) or 1, against each
    # point's own job in blocks of 2: the same numbers to the last bit.
    base = dict(trials=2, trial_offset=1, steps=25, dtype=dtype, seed=3)
    if split:
        cfg = with_grid(tiny_cfg(block_trials=block, optimizer=SPLIT, **base),
                        decoder__lr=[0.005, 0.02], embedding__weight_decay=[0.0, 2.0])
    else:
        cfg = with_grid(tiny_cfg(block_trials=block, **base), lr=[0.01, 0.03], weight_decay=[0.5, 2.0])
    job, result = _trained(cfg)
    layout = grid.layout(cfg)
    assert list(result.trials) == [t.trial for t in layout] == list(range(1, 9))
    for i, point in enumerate(grid.points(cfg)):
        single_cfg = grid.at(cfg, point)
        single_cfg.block_trials = 0
        single, expected = _trained(single_cfg)
        rows = [j for j, t in enumerate(layout) if t.point == i]
        for k in single.params:
            assert torch.equal(job.param(k)[rows], single.param(k)), (point, k)
        np.testing.assert_array_equal(result.metrics[:, rows], expected.metrics)
        np.testing.assert_array_equal(result.signal[:, rows], expected.signal)
    # the points differ: the grid did set each point's values
    E = job.param("E")
    assert not torch.equal(E[0], E[2])


def test_gpu_layout_gives_a_tensor_per_run_of_one_points_trials(tiny_cfg, gpu_layout):
    gpu_layout()
    cfg = with_grid(tiny_cfg(trials=2, block_trials=5), weight_decay=[0.1, 0.2, 0.3])
    pieces = Trainer(cfg).opt.pieces  # blocks [0..4], [5]: runs (0,2), (2,4), (4,5), (5,6)
    assert sorted({(s.start, s.stop) for _, s in pieces}) == [(0, 2), (2, 4), (4, 5), (5, 6)]
    groups = Trainer(cfg).opt.opt.param_groups
    assert sorted(g["weight_decay"] for g in groups) == [0.1, 0.2, 0.3]


def test_grid_on_gpu_layout_equals_single_points(tiny_cfg, gpu_layout):
    gpu_layout()  # one tensor per run: close to the CPU's, and each point as its own job
    cfg = with_grid(tiny_cfg(trials=2, steps=20, dtype="float64", block_trials=6), lr=[0.01, 0.02, 0.04])
    job, _ = _trained(cfg)
    for i, point in enumerate(grid.points(cfg)):
        single, _ = _trained(grid.at(cfg, point))
        torch.testing.assert_close(job.param("W2")[2 * i:2 * i + 2], single.param("W2"),
                                   rtol=1e-12, atol=1e-14)


def test_a_resumed_grid_job_equals_the_uninterrupted_one(tiny_cfg):
    cfg = with_grid(tiny_cfg(trials=2, steps=30, optimizer=SPLIT), decoder__weight_decay=[0.0, 3.0])
    straight, _ = _trained(cfg)
    saved = run_until(Trainer(cfg), 13).state_dict()
    cfg.block_trials = 3  # another blocking
    resumed = Trainer(cfg)
    resumed.load_state_dict(saved)
    assert resumed.opt.state_dict()["step"] == 13
    resumed.run()
    for k in straight.params:
        assert torch.equal(resumed.param(k), straight.param(k)), k


def test_stop_settled_waits_each_trials_own_decay_times(tiny_cfg):
    # 10 decay times of 1 / (lr x weight_decay): 10 / (0.01 x 0.5) = 2000 steps; no decay: never
    cfg = with_grid(tiny_cfg(trials=1, **{"stop.kind": "settled", "stop.after": 0, "stop.window": 0}),
                    weight_decay=[0.0, 0.5, 5.0])
    settle = Trainer(cfg).settle
    assert settle.after.tolist() == [float("inf"), 2000.0, 200.0]
    assert settle.window.tolist() == [float("inf"), 2000.0, 200.0]


@pytest.mark.parametrize("optimizer, key, values, message", [
    ("adamw", "decoder.lr", [0.1], "grid.optimizer.decoder.lr=[0.1]; allowed: grid keys of optimizer=adamw: "
     "grid.optimizer.lr, grid.optimizer.weight_decay"),
    ("split", "lr", [0.1], "grid.optimizer.lr=[0.1]; allowed: grid keys of optimizer=split: "
     "grid.optimizer.embedding.lr, grid.optimizer.embedding.weight_decay"),
    ("adamw", "lr", [], "grid.optimizer.lr=[]; allowed: a non-empty list"),
    ("adamw", "lr", [0.1, 0.1], "grid.optimizer.lr=[0.1, 0.1]; allowed: distinct values"),
    ("adamw", "lr", [0.1, 0.0], "grid.optimizer.lr=0.0; allowed: a number > 0"),
    ("split", "decoder.weight_decay", [-1.0], "grid.optimizer.decoder.weight_decay=-1.0; allowed: a number >= 0"),
])
def test_bad_grids_are_one_line_naming_key_and_range(optimizer, key, values, message):
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        cfg = compose("train", [f"optimizer={optimizer}", f"grid.optimizer.{key}={values}"])
    with pytest.raises(ConfigError, match="^invalid config: ") as err:
        validate(to_dataclass(cfg))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_grid_composes_from_the_command_line_and_refuses_unknown_keys():
    with initialize_config_dir(config_dir=CONF, version_base="1.3"):
        cfg = to_dataclass(compose("train", ["optimizer=split", "grid.optimizer.decoder.lr=[1e-4,1e-3]",
                                             "grid.optimizer.decoder.weight_decay=[0,5]"]))
        assert len(grid.points(cfg)) == 4 and cfg.grid.optimizer.decoder.weight_decay == [0.0, 5.0]
        with pytest.raises(ConfigCompositionException):
            compose("train", ["grid.optimizer.momentum=[0.9]"])
        with pytest.raises((ConfigCompositionException, ValidationError)):
            compose("train", ["grid.optimizer.lr=[abc]"])


def test_trials_file_holds_each_trials_values_and_replicate(tmp_path, tiny_cfg):
    cfg = with_grid(tiny_cfg(trials=2, steps=5, trial_offset=4, optimizer=SPLIT),
                    decoder__lr=[0.001, 0.01], decoder__weight_decay=[0.0, 1.0, 2.0])
    run_job(cfg, tmp_path)
    table = pq.read_table(tmp_path / "trials.parquet").to_pandas()
    assert table["trial"].tolist() == list(range(4, 16))
    assert table["replicate"].tolist() == [4, 5] * 6
    assert table["optimizer.decoder.lr"].tolist() == [0.001] * 6 + [0.01] * 6
    assert table["optimizer.decoder.weight_decay"].tolist() == [0.0, 0.0, 1.0, 1.0, 2.0, 2.0] * 2
    assert table["optimizer.embedding.lr"].tolist() == [0.03] * 12  # not in the grid: the constant
    assert not [c for c in table.columns if c.startswith("grid")]
    assert run_job(cfg, tmp_path) is None  # complete: the stored config (grid included) matches


def test_a_grid_job_resumes_from_its_checkpoint_and_refuses_another_grids(tmp_path, tiny_cfg):
    cfg = with_grid(tiny_cfg(trials=2, steps=30, optimizer=SPLIT), decoder__lr=[0.005, 0.02])
    run_job(cfg, tmp_path / "straight")
    save_checkpoint(run_until(Trainer(cfg), 13), tmp_path / "resumed" / CHECKPOINT)
    other = with_grid(tiny_cfg(trials=2, steps=30, optimizer=SPLIT), decoder__lr=[0.005, 0.03])
    with pytest.raises(ConfigError, match="belongs to another config .*grid"):
        run_job(other, tmp_path / "resumed")
    run_job(cfg, tmp_path / "resumed")
    for name in ("signals", "metrics", "trials"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "straight" / f"{name}.parquet"),
                                      pd.read_parquet(tmp_path / "resumed" / f"{name}.parquet"))
