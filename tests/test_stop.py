"""stop=settled: trials stop once their circles settle, and a stopped trial's results are
exactly those of an uninterrupted run at its stopping step."""
import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from circle_survival.fourier import half, survivors
from circle_survival.job import run_job
from circle_survival.trainer import Trainer, train
from tests.helpers.crash import run_until

# Circles of a tiny model under a fixed threshold; margins 1 (the set alone must hold for
# `window` steps): trials 0..4 stop at 30, 140, 50 and never, never (checked below).
SETTLE = {"p": 13, "d": 16, "model.width": 32, "trials": 5, "steps": 200, "log.dense_steps": 20,
          "log.every": 10, "circles.rule": "threshold", "circles.threshold": 14.0,
          "stop.kind": "settled", "stop.after": 30, "stop.window": 30, "stop.alive": 1.0,
          "stop.dead": 1.0, "stop.decay_times": 0}
NEVER = {**SETTLE, "stop.kind": "never", "stop.after": 2000, "stop.window": 2000,
         "stop.alive": 1.3, "stop.dead": 0.7, "stop.decay_times": 10}


@pytest.fixture
def runs(tiny_cfg):
    return tiny_cfg(**SETTLE), train(tiny_cfg(**SETTLE)), train(tiny_cfg(**NEVER))


def test_stopped_trials_equal_the_uninterrupted_run_at_their_stopping_step(runs):
    cfg, settled, never = runs
    assert settled.stopped_step.tolist() == [30, 140, 50, -1, -1]
    assert never.stopped_step.tolist() == [-1] * 5
    for t, stop in enumerate(settled.stopped_step):
        rows = settled.steps <= (stop if stop >= 0 else cfg.steps)
        # on one thread a trial's numbers do not depend on its block-mates, regrouped or not
        np.testing.assert_array_equal(settled.signal[rows, t], never.signal[rows, t])
        np.testing.assert_array_equal(settled.metrics[rows, t], never.metrics[rows, t])
        assert not settled.signal[~rows, t].any()  # nothing computed after it stopped
        last = np.flatnonzero(rows)[-1]  # its final values are those at its stopping step
        np.testing.assert_allclose(half(settled.final_spectrum[t]), never.signal[last, t], rtol=1e-5)
        alive = survivors(settled.final_spectrum[t], "threshold", 14.0)
        assert (alive == (never.signal[last, t] > 14.0) & (np.arange(7) > 0)).all()


def test_job_writes_no_rows_after_a_trials_stop_and_reports_steps_saved(tmp_path, runs, caplog):
    cfg, settled, _ = runs
    with caplog.at_level("INFO", logger="circle_survival"):
        run_job(cfg, tmp_path)
    trials = pq.read_table(tmp_path / "trials.parquet").to_pandas()
    assert trials.stopped_step.fillna(-1).tolist() == [30, 140, 50, -1, -1]
    assert trials["stop.kind"].tolist() == ["settled"] * 5 and trials["stop.window"].iloc[0] == 30
    metrics = pq.read_table(tmp_path / "metrics.parquet").to_pandas()
    last = metrics.groupby("trial").step.max().tolist()
    assert last == [30, 140, 50, 200, 200]
    signals = pq.read_table(tmp_path / "signals.parquet").to_pandas()
    assert signals.groupby("trial").step.max().tolist() == last
    params = pq.read_table(tmp_path / "params.parquet").to_pandas()
    assert sorted(params.query("name == 'E'").groupby("trial").step.max().tolist()) == sorted(last)
    at_stop = metrics.set_index(["trial", "step"]).loc[list(zip(range(5), last)), "train_loss"]
    np.testing.assert_array_equal(trials.final_train_loss.to_numpy(), at_stop.to_numpy())
    run = 30 + 140 + 50 + 200 + 200
    assert f"{run:,} model-steps run, {1000 - run:,} saved" in caplog.text


def test_resume_with_stopped_trials_is_bitwise_identical(tiny_cfg, runs):
    _, straight, _ = runs
    crashed = run_until(Trainer(tiny_cfg(**SETTLE)), 45)  # trial 0 has stopped
    saved = crashed.state_dict()
    run_until(crashed, 120)  # training on must not change the saved state
    resumed = Trainer(tiny_cfg(**SETTLE, block_trials=3))  # under another blocking too
    resumed.load_state_dict(saved)
    result = resumed.run()
    assert result.stopped_step.tolist() == straight.stopped_step.tolist()
    np.testing.assert_array_equal(result.signal, straight.signal)
    np.testing.assert_array_equal(result.metrics, straight.metrics)
    np.testing.assert_array_equal(result.final_spectrum, straight.final_spectrum)


def test_gpu_layout_compacts_its_one_block(tiny_cfg, gpu_layout, runs):
    _, straight, _ = runs
    gpu_layout()
    trainer = Trainer(tiny_cfg(**SETTLE, block_trials=5))  # all trials in one block, as on a GPU
    sizes = []
    result = trainer.run(lambda tr: sizes.append([len(g) for g in tr.groups]))
    changes = [s for i, s in enumerate(sizes) if i == 0 or s != sizes[i - 1]]
    assert changes == [[5], [4], [3], [2]]  # trials 0, 2, 1 leave the one block
    assert result.stopped_step.tolist() == straight.stopped_step.tolist()
    np.testing.assert_allclose(result.final_spectrum, straight.final_spectrum, rtol=1e-5)


def test_a_job_ends_when_its_last_trial_stops(tiny_cfg):
    cfg = tiny_cfg(**{**SETTLE, "trials": 1})
    result = train(cfg)
    assert result.stopped_step.tolist() == [30]
    assert not result.signal[result.steps > 30].any() and set(result.params) == {0, 200}


def test_small_weight_decay_waits_its_decay_times(tiny_cfg):
    # 1 / (lr x weight_decay) = 1 / (0.01 x 0.5) = 200 steps: 0.4 decay times make after and
    # window 80 steps, so trial 0 (settled by steps 30..60 above) stops at a later step,
    # and with no weight decay no trial stops at all.
    slow = train(tiny_cfg(**{**SETTLE, "trials": 1, "stop.decay_times": 0.4}))
    assert 80 <= slow.stopped_step[0] <= 200
    none = train(tiny_cfg(**{**SETTLE, "trials": 1, "stop.decay_times": 0.4, "optimizer.weight_decay": 0.0}))
    assert none.stopped_step.tolist() == [-1]
