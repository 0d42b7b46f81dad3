"""A grid job reads as the multirun of its single-point jobs: same conditions, same table."""
import pandas as pd
import pyarrow.parquet as pq
import pytest

from analysis import aggregate, figdata, groups, jobs
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


def test_fig10_reads_its_one_job_form():
    trials = pd.DataFrame({"sweep": ["fig10_onejob", "fig5_top"], "n_circles": [1, 2]})
    sweeps = figdata.Sweeps(trials)
    assert "fig10" in sweeps and "fig10_onejob" not in sweeps and len(sweeps["fig10"]) == 1
