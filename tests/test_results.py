import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from circle_survival.config import AddTask, TrainConfig, flatten, train_size
from circle_survival.data import pairs, split
from circle_survival.parallelograms import quadruples, rqi
from circle_survival.models.mlp import shapes as layer_shapes
from circle_survival.results import CONFIG_KEY, stored_config, write_job
from circle_survival.trainer import TrainResult, logged_steps, train


def test_files_schema_and_values(tmp_path, tiny_cfg):
    cfg = tiny_cfg(trials=2, trial_offset=5, steps=30)
    result = train(cfg)
    write_job(tmp_path, cfg, result)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "metrics.parquet", "params.parquet", "signals.parquet", "trials.parquet"]

    trials = pq.read_table(tmp_path / "trials.parquet").to_pandas()
    assert list(trials.trial) == [5, 6]
    for key, value in flatten(cfg).items():  # every config value, named as its override
        cells = [list(v) for v in trials[key]] if isinstance(value, list) else list(trials[key])
        assert cells == [value] * len(trials), key
    assert trials["optimizer.weight_decay"].iloc[0] == 0.5 and trials["vary"].iloc[0] == "embedding,mlp,split"
    assert len(trials.init_signal.iloc[0]) == cfg.p // 2 + 1
    assert list(trials.n_circles) == [len(c) for c in trials.circles]
    assert json.loads(pq.read_schema(tmp_path / "trials.parquet").metadata[CONFIG_KEY]) == flatten(cfg)
    assert stored_config(tmp_path) == flatten(cfg)

    signals = pq.read_table(tmp_path / "signals.parquet").to_pandas()
    assert len(signals) == 2 * len(result.steps) * (cfg.p // 2 + 1)
    row = signals[(signals.trial == 6) & (signals.step == 20) & (signals.k == 3)]
    i = list(result.steps).index(20)
    assert row.signal.item() == pytest.approx(result.signal[i, 1, 3])
    assert row.grad_signal.item() == pytest.approx(result.grad_signal[i, 1, 3])

    metrics = pq.read_table(tmp_path / "metrics.parquet").to_pandas()
    last = metrics[metrics.step == 30].set_index("trial")
    assert last.loc[6, "test_acc"] == pytest.approx(trials.final_test_acc.iloc[1])

    params = pq.read_table(tmp_path / "params.parquet").to_pandas()
    E = params[(params.trial == 5) & (params.step == 30) & (params.name == "E")]
    np.testing.assert_array_equal(np.stack(E["values"].to_list())[0].reshape(E["shape"].iloc[0]),
                                  result.params[30]["E"][0].numpy())


def test_stored_config_none_when_incomplete(tmp_path):
    assert stored_config(tmp_path) is None


def fake_result(cfg: TrainConfig) -> TrainResult:
    """A result with the shapes of a full paper-default run and incompressible values."""
    rng = np.random.default_rng(0)
    steps = np.asarray(logged_steps(cfg.steps, cfg.log.dense_steps, cfg.log.every))
    L, T, K = len(steps), cfg.trials, cfg.p // 2 + 1
    params = {s: {n: torch.randn(T, *shape) for n, shape in layer_shapes(cfg).items()}
              for s in (0, cfg.steps)}
    return TrainResult(np.arange(T), steps, rng.random((L, T, K), dtype=np.float32),
                       rng.random((L, T, K), dtype=np.float32), rng.random((L, T, 4), dtype=np.float32),
                       rng.random((T, cfg.p)), rng.random((T, cfg.p)), params, "cpu",
                       diverged_step=np.full(T, -1), spike_step=np.full(T, -1),
                       stopped_step=np.full(T, -1),
                       train_pairs=np.stack([split(cfg.p ** 2, train_size(cfg), torch.Generator().manual_seed(t))[0]
                                             for t in range(T)]).astype(np.int32))


def test_paper_default_job_fits_one_megabyte_per_trial(tmp_path):
    cfg = TrainConfig(trials=4)  # p=59, d=128, 30k steps, default cadence
    write_job(tmp_path, cfg, fake_result(cfg))
    total = sum(f.stat().st_size for f in tmp_path.iterdir())
    assert total / cfg.trials <= 1_000_000, total / cfg.trials


def test_floats_are_float32_and_not_dictionary_encoded(tmp_path):
    cfg = TrainConfig(trials=1, steps=300)
    write_job(tmp_path, cfg, fake_result(cfg))
    meta = pq.ParquetFile(tmp_path / "signals.parquet").metadata
    schema = pq.read_schema(tmp_path / "signals.parquet")
    assert str(schema.field("signal").type) == "float"
    for j in range(meta.num_columns):
        col = meta.row_group(0).column(j)
        if col.path_in_schema in ("signal", "grad_signal"):
            assert not any("DICTIONARY" in e for e in col.encodings), col.encodings


def test_no_temporary_files_left(tmp_path, tiny_cfg):
    cfg = tiny_cfg(steps=5)
    write_job(tmp_path, cfg, train(cfg))
    assert not list(tmp_path.glob(".*"))


def planted_result(cfg: TrainConfig, accs: np.ndarray, stopped: np.ndarray) -> TrainResult:
    """A result of cfg's shapes whose train / test accuracies at the logged steps are
    `accs` (L, T, 2), with an embedding E[step, trial] = step + trial / 10 everywhere."""
    steps = np.asarray(logged_steps(cfg.steps, cfg.log.dense_steps, cfg.log.every))
    L, T, K = len(steps), cfg.trials, cfg.p // 2 + 1
    metrics = np.zeros((L, T, 4), np.float32)
    metrics[:, :, 2:] = accs
    E = (steps[:, None, None, None] + np.arange(T)[None, :, None, None] / 10) * np.ones((1, 1, cfg.p, cfg.d))
    params = {s: {n: torch.zeros(T, *shape) for n, shape in layer_shapes(cfg).items()} for s in (0, cfg.steps)}
    return TrainResult(np.arange(T), steps, np.ones((L, T, K), np.float32), np.ones((L, T, K), np.float32),
                       metrics, np.ones((T, cfg.p)), np.ones((T, cfg.p)), params, "cpu",
                       diverged_step=np.full(T, -1), spike_step=np.full(T, -1), stopped_step=stopped,
                       train_pairs=np.tile(np.arange(3, dtype=np.int32), (T, 1)),
                       embedding=E.astype(np.float32))


def test_accuracy_threshold_steps_and_embedding_file(tmp_path, tiny_cfg):
    # Logged steps 0, 10, 20, 30. Trial 0 reaches 0.9 in training at 10 and 9 of 10 (0.9 in
    # float32) in testing at 20; trial 1 trains to 0.95 at 30 but stops at 20: never; trial 2
    # reaches the threshold 1.0 at 30 only in training.
    cfg = tiny_cfg(trials=3, steps=30, **{"log.embedding": True, "log.dense_steps": 0})
    nine_tenths = np.float32(9) / np.float32(10)
    accs = np.array([[[0.5, 0.1], [0.4, 0.2], [0.3, 0.3]],
                     [[0.9, 0.8], [0.5, 0.5], [0.8, 0.8]],
                     [[0.95, nine_tenths], [0.89, 0.89], [0.99, 0.9]],
                     [[1.0, 1.0], [0.95, 0.95], [1.0, 0.5]]], np.float32)
    write_job(tmp_path, cfg, planted_result(cfg, accs, np.array([-1, 20, -1])))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "embedding.parquet", "metrics.parquet", "params.parquet", "signals.parquet", "trials.parquet"]
    trials = pq.read_table(tmp_path / "trials.parquet").to_pandas()
    assert trials.train_acc_step.tolist()[:1] == [10] and np.isnan(trials.train_acc_step[1])
    assert trials.train_acc_step[2] == 20  # 0.99 >= 0.9
    assert trials.test_acc_step[0] == 20 and np.isnan(trials.test_acc_step[1])
    assert trials.test_acc_step[2] == 20  # 0.9 reached
    assert [list(v) for v in trials.train_pairs] == [[0, 1, 2]] * 3
    schema = pq.read_schema(tmp_path / "trials.parquet")
    assert str(schema.field("train_acc_step").type) == "int32" and str(schema.field("train_pairs").type) == "list<element: int32>"
    # a higher threshold moves the steps
    strict = tiny_cfg(trials=3, steps=30, **{"log.acc_threshold": 1.0, "log.dense_steps": 0})
    write_job(tmp_path / "strict", strict, planted_result(strict, accs, np.array([-1, -1, -1])))
    trials = pq.read_table(tmp_path / "strict" / "trials.parquet").to_pandas()
    assert trials.train_acc_step[0] == trials.train_acc_step[2] == 30 and np.isnan(trials.train_acc_step[1])
    assert trials.test_acc_step[0] == 30
    assert np.isnan(trials.test_acc_step[1]) and np.isnan(trials.test_acc_step[2])
    assert not (tmp_path / "strict" / "embedding.parquet").exists()

    E = pq.read_table(tmp_path / "embedding.parquet").to_pandas()
    assert str(pq.read_schema(tmp_path / "embedding.parquet").field("E").type) == "list<element: float>"
    # every logged step of trials 0 and 2, trial 1's up to its stopping step
    assert E.groupby("trial").step.apply(list).to_dict() == {0: [0, 10, 20, 30], 1: [0, 10, 20], 2: [0, 10, 20, 30]}
    row = E[(E.trial == 2) & (E.step == 10)]["E"].iloc[0]
    assert len(row) == cfg.p * cfg.d and np.allclose(row, 10.2)
    metrics = pq.read_table(tmp_path / "metrics.parquet").to_pandas()
    assert metrics.rqi.isna().all() and len(metrics) == 11  # rqi is null without log.rqi


def test_rqi_column_is_the_rqi_of_the_logged_embedding(tmp_path, tiny_cfg):
    # metrics' rqi at each logged step is parallelograms.rqi of that step's embedding (as
    # embedding.parquet holds it) over all 70 parallelograms of seed 002's 55 samples
    cfg = tiny_cfg(p=10, d=1, trials=2, steps=20, task=AddTask(train_count=45),
                   **{"log.rqi": True, "log.embedding": True})
    write_job(tmp_path, cfg, train(cfg))
    metrics = pq.read_table(tmp_path / "metrics.parquet").to_pandas()
    E = pq.read_table(tmp_path / "embedding.parquet").to_pandas()
    quads = quadruples(*pairs("add", 10))
    assert len(quads) == 70 and len(metrics) == len(E) == 2 * 12  # steps 0..9, 10, 20
    expected = rqi(torch.tensor(np.stack(E["E"].to_list())).view(-1, 10, 1), quads).numpy()
    np.testing.assert_allclose(metrics.rqi.to_numpy(), expected, rtol=1e-6)
    assert metrics.rqi.between(0, 1).all() and metrics.rqi.nunique() > 1  # d = 1: some by chance
