import logging
import math

import numpy as np
import pandas as pd
import torch

from circle_survival.health import Health, loss_spike_step
from circle_survival.job import run_job
from circle_survival.trainer import Trainer
from tests.helpers.crash import run_until


def watched(losses: list[list[float]]) -> Health:
    """A Health fed a per-step loss series of each trial: losses[trial][step]."""
    health = Health(len(losses), torch.device("cpu"))
    for step, loss in enumerate(zip(*losses)):
        health.update(step, torch.tensor(loss, dtype=torch.float32))
    return health


def test_spike_and_divergence_known_answers():
    falling = [1.0 / (1 + s) for s in range(2000)]
    spike_late = falling[:1500] + [50 * falling[1500]] + falling[1501:]  # 50x at step 1500
    spike_early = falling[:500] + [50 * falling[500]] + falling[501:]  # before step 1,000: ignored
    nan_at_7 = falling[:7] + [math.nan] * 1993
    nan_only_once = falling[:1200] + [math.nan] + falling[1201:]  # NaN keeps the running minimum
    health = watched([falling, spike_late, spike_early, nan_at_7, nan_only_once])
    assert health.spike_step.tolist() == [-1, 1500, -1, -1, -1]
    assert health.diverged_step.tolist() == [-1, -1, -1, 7, 1200]
    steps = np.arange(2000)
    assert [loss_spike_step(steps, np.array(x)) for x in (falling, spike_late, spike_early)] == [None, 1500, None]
    # 9.9x is no spike, 10.1x is (the rule's factor is 10)
    for factor, expected in ((9.9, -1), (10.1, 1100)):
        series = falling[:1100] + [factor * falling[1099]] + falling[1101:]
        assert watched([series]).spike_step.tolist() == [expected]


def spoil_at(step: int, trial: int, name: str, factor: float):
    """on_step: multiply one trial's parameter by `factor` just before `step` is computed."""
    def on_step(tr: Trainer) -> None:
        if tr.step == step:
            for g, blk in zip(tr.groups, tr.blocks):
                for i in (g == trial).nonzero()[:, 0].tolist():
                    blk[name][i].mul_(factor)
    return on_step


def test_a_nan_parameter_marks_its_trial_diverged_and_leaves_its_block_mates_alone(tiny_cfg):
    cfg = tiny_cfg(trials=3, steps=30)
    clean = Trainer(cfg).run()
    spoiled = Trainer(cfg).run(spoil_at(12, trial=1, name="W3", factor=math.nan))
    assert spoiled.diverged_step.tolist() == [-1, 12, -1] and clean.diverged_step.tolist() == [-1] * 3
    for t in (0, 2):  # trial 0 shares trial 1's block
        np.testing.assert_array_equal(clean.metrics[:, t], spoiled.metrics[:, t])
    assert np.isnan(spoiled.metrics[-1, 1, 0])


def test_a_late_kick_is_a_spike_of_that_trial_only(tiny_cfg):
    cfg = tiny_cfg(trials=2, steps=1100, **{"log.dense_steps": 0, "log.every": 100})
    result = Trainer(cfg).run(spoil_at(1050, trial=0, name="W3", factor=-1.0))
    assert result.spike_step.tolist() == [1050, -1]


def test_health_survives_a_resume(tiny_cfg):
    cfg = tiny_cfg(trials=2, steps=30)
    straight = Trainer(cfg).run(spoil_at(12, trial=0, name="E", factor=math.inf))
    crashed = run_until(Trainer(cfg), 12)
    crashed.blocks[0]["E"][0].mul_(math.inf)
    run_until(crashed, 20)
    second = Trainer(cfg)
    second.load_state_dict(crashed.state_dict())
    assert second.run().diverged_step.tolist() == straight.diverged_step.tolist() == [12, -1]


def test_diverged_job_is_reported_and_counts_no_circles(tmp_path, tiny_cfg, caplog):
    cfg = tiny_cfg(trials=2, steps=20, **{"optimizer.lr": 1e30})  # float32 overflows at once
    with caplog.at_level(logging.INFO, logger="circle_survival"):
        run_job(cfg, tmp_path)
    trials = pd.read_parquet(tmp_path / "trials.parquet")
    assert trials.diverged.tolist() == [True, True] and trials.diverged_step.tolist() == [1, 1]
    assert trials.n_circles.isna().all() and trials.circles.isna().all()
    assert trials.loss_spike_step.isna().all()
    assert "trial 0: DIVERGED at step 1" in caplog.text
    assert "diverged: trial 0 at step 1, trial 1 at step 1" in caplog.text


def test_a_trial_without_circles_says_how_many_frequencies_are_strong(tmp_path, tiny_cfg, caplog):
    # weight decay 0 and 3 steps: every frequency keeps its initial signal (~sqrt(p d) = 16 for
    # p = 7, d = 36), none stands out, so "2 x mean" counts none; all 3 are above a threshold of 5
    cfg = tiny_cfg(trials=1, steps=3, p=7, d=36, **{"optimizer.weight_decay": 0.0, "circles.threshold": 5.0})
    with caplog.at_level(logging.INFO, logger="circle_survival"):
        run_job(cfg, tmp_path)
    assert pd.read_parquet(tmp_path / "trials.parquet").n_circles.tolist() == [0]
    assert ("trial 0: 0 circles  k = -  (none exceeds 2 x the mean signal; 3 of 3 frequencies end above "
            "circles.threshold=5)") in caplog.text
