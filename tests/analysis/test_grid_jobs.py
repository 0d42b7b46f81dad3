"""A grid job reads as the multirun of its single-point jobs: same conditions, same table."""
import dataclasses

import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis import aggregate, claims, figdata, groups, jobs, paper_figures
from circle_survival import grid
from circle_survival.config import LearningRate, SplitConfig, TrainConfig
from circle_survival.job import run_job

KEYS = ["optimizer.decoder.lr", "optimizer.decoder.weight_decay"]


def _config(**overrides) -> TrainConfig:
    cfg = TrainConfig(p=11, d=8, steps=120, trials=3, trial_offset=2, progress="off", checkpoint_every=0,
                      optimizer=SplitConfig(embedding=LearningRate(lr=0.03), decoder=LearningRate()), **overrides)
    cfg.model.width = 16
    cfg.log.dense_steps, cfg.log.every = 0, 40
    return cfg


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """One grid job (2 x 2 points, 3 replicates), and the four single-point jobs it stands for."""
    root = tmp_path_factory.mktemp("grid")
    cfg = _config()
    cfg.grid.optimizer.decoder.lr = [0.003, 0.03]
    cfg.grid.optimizer.decoder.weight_decay = [0.0, 2.0]
    run_job(cfg, root / "grid" / "job")
    for i, point in enumerate(grid.points(cfg)):
        run_job(grid.at(cfg, point), root / "single" / f"job{i}")
    return root / "grid", root / "single"


def test_aggregate_gives_the_same_table_for_a_grid_job_and_its_single_point_jobs(roots):
    one_job, multirun = (aggregate.aggregate([root]) for root in roots)
    assert one_job.trials["job"].nunique() == 1 and multirun.trials["job"].nunique() == 4
    assert one_job.skipped == [] and multirun.skipped == []
    assert one_job.keys == multirun.keys == KEYS
    assert len(one_job.groups) == 4 and (one_job.groups["n"] == 3).all()
    pd.testing.assert_frame_equal(one_job.groups, multirun.groups)
    pd.testing.assert_frame_equal(one_job.survival, multirun.survival)
    # the trials themselves are the same (bit for bit on the CPU), matched by replicate
    for value in ("final_train_loss", "final_test_acc"):
        pd.testing.assert_frame_equal(groups.summarise(one_job.trials, KEYS, value),
                                      groups.summarise(multirun.trials, KEYS, value))
    by = [*KEYS, "replicate"]
    a, b = (r.trials.sort_values(by).reset_index(drop=True) for r in (one_job, multirun))
    assert a["replicate"].tolist() == [2, 3, 4] * 4
    pd.testing.assert_series_equal(a["final_train_loss"], b["final_train_loss"])


def test_a_grid_job_missing_a_row_is_incomplete(roots, tmp_path):
    # 3 replicates x 4 points = 12 rows expected
    table = pq.read_table(roots[0] / "job" / "trials.parquet")
    (tmp_path / "short").mkdir()
    pq.write_table(table.slice(0, 11), tmp_path / "short" / "trials.parquet")
    with pytest.raises(jobs.DataError, match="incomplete: 11 of 12 trials"):
        jobs.load_trials([tmp_path])


@pytest.fixture(scope="module")
def fig10_forms(tmp_path_factory):
    """Fig 10's two forms, tiny: one job of 3 weight decays x 2 trials, and a job per weight decay."""
    root = tmp_path_factory.mktemp("fig10")
    cfg = TrainConfig(p=11, d=8, steps=150, trials=2, progress="off", checkpoint_every=0, sweep="fig10_onejob")
    cfg.model.width = 16
    cfg.log.dense_steps, cfg.log.every = 0, 50
    cfg.grid.optimizer.weight_decay = [0.0, 1.0, 4.0]
    run_job(cfg, root / "fig10_onejob" / "default")
    for point in grid.points(cfg):
        single = grid.at(cfg, point)
        single.sweep = "fig10"
        run_job(single, root / "fig10" / f"optimizer.weight_decay={point['optimizer.weight_decay']}")
    return root


def test_fig10_figure_and_claims_read_either_form(fig10_forms):
    one_job = figdata.Sweeps(jobs.load_trials([fig10_forms / "fig10_onejob"])[0])
    per_value = figdata.Sweeps(jobs.load_trials([fig10_forms / "fig10"])[0])
    both = figdata.Sweeps(jobs.load_trials([fig10_forms])[0])
    assert "fig10" in one_job and "fig10_onejob" not in one_job and len(one_job["fig10"]) == 6
    assert len(both["fig10"]) == 6 and (both["fig10"]["sweep"] == "fig10").all()  # not counted twice
    for check in (claims.circles_vs_wd, claims.no_weight_decay):  # the same numbers (its label names the sweep)
        got = [dataclasses.replace(check(sweeps), claim="") for sweeps in (one_job, per_value, both)]
        assert got[0] == got[1] == got[2]
    assert claims.no_weight_decay(one_job).n == 2
    for sweeps in (one_job, per_value):
        assert paper_figures.available("fig10", sweeps)
        assert paper_figures.FIGURES["fig10"](sweeps) is not None
