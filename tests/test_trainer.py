import numpy as np
import pytest
import torch

from circle_survival.config import AddTask, CrossEntropyConfig, LearningRate, MSEConfig, SplitConfig, SumMLPConfig
from circle_survival.plain import PlainModel, train_plain
from circle_survival.trainer import Trainer, logged_steps, snapshot_steps, train
from tests.helpers.crash import run_until


def _assert_equals_plain_loop(cfg, trainer):
    init = {k: trainer.param(k).clone() for k in trainer.blocks[0]}
    result = trainer.run()
    for t in range(cfg.trials):
        model = PlainModel(cfg, init, t)
        a, b, y = (x[t] for x in trainer.train)
        losses = train_plain(model, a, b, y, cfg.steps)
        for name, value in model.weights.items():
            diff = (value.detach() - trainer.param(name)[t]).abs().max().item()
            assert diff <= 1e-9, (name, diff)
        logged = {s: i for i, s in enumerate(result.steps)}
        for step in (0, 1, 9, 40):  # losses before update `step`
            assert abs(result.metrics[logged[step], t, 0] - losses[step]) <= 1e-6  # float32 log


@pytest.mark.parametrize("block, one_per_block", [(1, False), (0, False), (3, False), (3, True)])
def test_vectorised_equals_plain_loop_float64(tiny_cfg, gpu_layout, block, one_per_block):
    # blocks of one trial, auto (2), all in one; and one optimizer tensor per block and
    # parameter, as a GPU has
    if one_per_block:
        gpu_layout()
    cfg = tiny_cfg(trials=3, steps=50, dtype="float64", block_trials=block)
    _assert_equals_plain_loop(cfg, Trainer(cfg))


SPLIT = SplitConfig(embedding=LearningRate(lr=0.03, weight_decay=0.0),
                    decoder=LearningRate(lr=0.005, weight_decay=1.0))
# Seed 002's setting, small: p = 10, 45 of 55 unordered pairs, d = 1, tanh, split AdamW
SEED2 = {"p": 10, "d": 1, "task": AddTask(train_count=45), "optimizer": SPLIT,
         "model": SumMLPConfig(width=12, depth=2, activation="tanh")}


@pytest.mark.parametrize("overrides", [
    {"backward": "generic"},
    {"model": SumMLPConfig(width=12, depth=2, activation="tanh")},
    {"model": SumMLPConfig(width=12, depth=1, activation="relu"), "optimizer": SPLIT},
    {"optimizer": SPLIT},
    {"optimizer": SPLIT, "freeze_embedding": True},
    {**SEED2, "loss": MSEConfig(target_dim=6)},
    {**SEED2, "loss": CrossEntropyConfig(scale=19.0)},
    {"p": 10, "task": AddTask(), "loss": MSEConfig(target_dim=5)},
], ids=["mlp_generic", "sum_tanh", "sum_relu_split", "mlp_split", "mlp_split_frozen", "add_mse", "add_ce",
        "mlp_add_mse_fast"])
def test_any_family_and_optimizer_equal_plain_loop_float64(tiny_cfg, overrides):
    cfg = tiny_cfg(trials=3, steps=50, dtype="float64", **overrides)
    _assert_equals_plain_loop(cfg, Trainer(cfg))


def test_split_optimizer_uses_each_parts_settings(tiny_cfg):
    # Known answer: AdamW's first update moves an entry by lr x |g| / (|g| + eps) (~lr) plus
    # lr x weight_decay x the entry; the embedding's and the decoder's by their own.
    cfg = tiny_cfg(trials=1, steps=1, dtype="float64", optimizer=SPLIT)
    trainer = Trainer(cfg)
    before = {k: trainer.param(k).clone() for k in ("E", "W2")}
    trainer.run()
    for name, part in (("E", SPLIT.embedding), ("W2", SPLIT.decoder)):
        moved = (trainer.param(name) - before[name] * (1 - part.lr * part.weight_decay)).abs()
        torch.testing.assert_close(moved.max().item(), part.lr, rtol=1e-4, atol=0)


def test_logged_steps_cadence():
    assert logged_steps(30_000, 1000, 100)[:3] == [0, 1, 2]
    steps = logged_steps(30_000, 1000, 100)
    assert len(steps) == 1000 + 291 and steps[-1] == 30_000 and 1100 in steps and 1050 not in steps
    assert logged_steps(250, 0, 100) == [0, 100, 200, 250]


def test_learns_and_logs(tiny_cfg):
    cfg = tiny_cfg(steps=300, trials=2, **{"log.dense_steps": 5, "log.every": 50})
    r = train(cfg)
    assert list(r.steps) == [0, 1, 2, 3, 4, 50, 100, 150, 200, 250, 300]
    assert r.signal.shape == (11, 2, 6) and r.grad_signal.shape == (11, 2, 6)
    train_loss, train_acc = r.metrics[:, :, 0], r.metrics[:, :, 2]
    assert (train_loss[-1] < 0.5 * train_loss[0]).all() and (train_acc[-1] > 0.9).all()
    # the logged signal at step 0 is the initial spectrum; the final one the final spectrum
    np.testing.assert_allclose(r.signal[0], r.init_spectrum[:, :6], rtol=1e-5)
    np.testing.assert_allclose(r.signal[-1], r.final_spectrum[:, :6], rtol=1e-4)
    assert (r.grad_signal[1:, :, 1:] > 0).all()  # a loss gradient reaches every frequency
    assert set(r.params) == {0, 300} and r.params[0]["E"].shape == (2, 11, 8)


def test_frozen_embedding_stays_put_and_mlp_trains(tiny_cfg):
    r = train(tiny_cfg(freeze_embedding=True, steps=20))
    assert torch.equal(r.params[0]["E"], r.params[20]["E"])
    assert not torch.equal(r.params[0]["W2"], r.params[20]["W2"])
    assert (r.grad_signal[-1, :, 1:] > 0).all()  # its gradient is still logged


@pytest.mark.parametrize("offset, trials, block", [(1, 3, 0), (2, 2, 0), (0, 5, 1), (1, 4, 3)])
def test_any_trial_offset_and_blocking_give_the_same_trials(tiny_cfg, offset, trials, block):
    # Trials 0..4 in blocks of 2 against other slices and blockings of them: each trial's
    # numbers are the same whichever trials share its block (float32, exact).
    whole = train(tiny_cfg(trials=5, steps=40))
    part = train(tiny_cfg(trials=trials, trial_offset=offset, block_trials=block, steps=40))
    assert list(part.trials) == list(range(offset, offset + trials))
    mine = slice(offset, offset + trials)
    np.testing.assert_array_equal(whole.signal[:, mine], part.signal)
    np.testing.assert_array_equal(whole.grad_signal[:, mine], part.grad_signal)
    np.testing.assert_array_equal(whole.metrics[:, mine], part.metrics)
    for name, value in part.params[40].items():
        assert torch.equal(whole.params[40][name][mine], value), name


def test_add_mse_trials_do_not_depend_on_their_block_mates(tiny_cfg):
    extra = {**SEED2, "loss": MSEConfig(), "log.embedding": True}
    whole = train(tiny_cfg(trials=3, steps=30, **extra))
    part = train(tiny_cfg(trials=1, trial_offset=2, block_trials=1, steps=30, **extra))
    np.testing.assert_array_equal(whole.metrics[:, 2:], part.metrics)
    np.testing.assert_array_equal(whole.embedding[:, 2:], part.embedding)
    np.testing.assert_array_equal(whole.train_pairs[2:], part.train_pairs)


def test_add_task_splits_and_logs(tiny_cfg):
    r = train(tiny_cfg(trials=2, steps=20, **SEED2, **{"log.embedding": True}))
    assert r.train_pairs.shape == (2, 45) and r.train_pairs.dtype == np.int32
    assert (np.diff(r.train_pairs, axis=1) > 0).all() and r.train_pairs.max() < 55
    assert not np.array_equal(r.train_pairs[0], r.train_pairs[1])  # split varies per trial
    assert r.embedding.shape == (len(r.steps), 2, 10, 1) and r.rqi is None
    np.testing.assert_array_equal(r.embedding[0], r.params[0]["E"].numpy())
    np.testing.assert_array_equal(r.embedding[-1], r.params[20]["E"].numpy())
    # accuracies are multiples of 1/45 (train) and 1/10 (test)
    np.testing.assert_allclose(r.metrics[:, :, 2] * 45, np.round(r.metrics[:, :, 2] * 45), atol=1e-4)
    np.testing.assert_allclose(r.metrics[:, :, 3] * 10, np.round(r.metrics[:, :, 3] * 10), atol=1e-4)


def test_weight_decay_zero_runs(tiny_cfg):
    r = train(tiny_cfg(**{"optimizer.weight_decay": 0.0}, steps=20))
    assert np.isfinite(r.metrics).all() and np.isfinite(r.signal).all()


@pytest.mark.parametrize("p", [16, 15, 12])  # Fig 14: even and composite p
def test_even_and_composite_p_run(tiny_cfg, p):
    r = train(tiny_cfg(p=p, steps=20))
    assert r.signal.shape[-1] == p // 2 + 1
    assert np.isfinite(r.metrics).all() and np.isfinite(r.signal).all()


def crash_and_resume(cfg, save_at: int, crash_at: int, resume_cfg=None):
    """Train straight through, and again with a state saved at `save_at`, a crash at
    `crash_at` and a new Trainer (of `resume_cfg`, if given) resumed from the saved
    state: both results."""
    straight = train(cfg)
    crashed = run_until(Trainer(cfg), save_at)
    saved = crashed.state_dict()
    run_until(crashed, crash_at)  # training on must not change the saved state
    second = Trainer(resume_cfg or cfg)
    second.load_state_dict(saved)
    return straight, second.run()


def test_resume_from_state_is_bitwise_identical(tiny_cfg):
    straight, resumed = crash_and_resume(tiny_cfg(steps=40), save_at=13, crash_at=17)
    np.testing.assert_array_equal(straight.signal, resumed.signal)
    np.testing.assert_array_equal(straight.metrics, resumed.metrics)
    np.testing.assert_array_equal(straight.final_spectrum, resumed.final_spectrum)


def test_resume_keeps_the_logged_embedding(tiny_cfg):
    cfg = tiny_cfg(steps=40, **SEED2, **{"log.embedding": True, "loss": MSEConfig()})
    straight, resumed = crash_and_resume(cfg, save_at=13, crash_at=17)
    np.testing.assert_array_equal(straight.embedding, resumed.embedding)
    np.testing.assert_array_equal(straight.metrics, resumed.metrics)


@pytest.mark.parametrize("blocks", [(2, 3), (1, 2)])
def test_resume_with_another_blocking(tiny_cfg, blocks):
    # e.g. a CPU job (blocks of 2) requeued onto a GPU (one block of all trials)
    first, then = (tiny_cfg(steps=40, block_trials=b) for b in blocks)
    straight, resumed = crash_and_resume(first, save_at=13, crash_at=17, resume_cfg=then)
    np.testing.assert_array_equal(straight.signal, resumed.signal)
    np.testing.assert_array_equal(straight.metrics, resumed.metrics)


def test_snapshot_steps_cadence():
    assert snapshot_steps(30_000, 0, []) == [0, 30_000]
    assert snapshot_steps(1000, 100, [])[:3] == [0, 100, 200] and len(snapshot_steps(1000, 100, [])) == 11
    assert snapshot_steps(50, 0, [7, 60, 3]) == [0, 3, 7, 50]  # past the end: skipped


def test_snapshots_at_configured_steps_survive_resume(tiny_cfg):
    cfg = tiny_cfg(steps=40, **{"snapshots.every": 15, "snapshots.steps": [7]})
    straight, resumed = crash_and_resume(cfg, save_at=20, crash_at=20)
    assert sorted(straight.params) == sorted(resumed.params) == [0, 7, 15, 30, 40]
    for step, named in straight.params.items():
        for name, value in named.items():
            assert torch.equal(value, resumed.params[step][name]), (step, name)
