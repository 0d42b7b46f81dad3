import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from analysis import jobs, synthetic


def test_find_jobs_any_depth_and_lists_incomplete(planted):
    found, skipped = jobs.find_jobs([planted.root])
    names = sorted(path.split("/")[-1] for path in found)
    # 3 multirun jobs + 1 single run + the bad ones that do hold a trials.parquet
    assert names == sorted(["0", "1", "2", "09-30-00", "corrupt", "no_circles", "version2", "short", "aggregated"])
    assert sorted(s.path.split("/")[-1] for s in skipped) == ["no_trials", "running", "writing"]
    assert all(s.reason == "incomplete: no trials.parquet" for s in skipped)


def test_load_trials_reads_good_jobs_and_skips_bad_ones_with_reasons(planted):
    trials, skipped = jobs.load_trials([planted.root])
    planted_rows = sum(map(len, planted.p11_circles)) + 2 * len(planted.p13_circles)
    assert len(trials) == planted_rows == 16
    reasons = {s.path.split("/")[-1]: s.reason for s in skipped}
    assert {k: v.split(":")[0] for k, v in reasons.items()} == planted.bad_reasons
    assert reasons["short"] == "incomplete: 1 of 2 trials"
    assert reasons["version2"] == "different schema: schema_version 4, expected one of 1, 2, 3"
    assert reasons["no_circles"] == "different schema: no column 'circles'"
    # the numbers of the good jobs are intact
    assert trials.groupby("p")["n_circles"].sum().to_dict() == {11: 12, 13: 30}
    assert sorted(trials.query("p == 11")["trial"]) == list(range(6))


def test_load_trials_normalises_old_and_list_config_columns(planted):
    trials, _ = jobs.load_trials([planted.root])
    old = trials[trials["job"].str.endswith("09-30-00")]
    assert (old["perturbation.kind"] == "none").all()          # absent means none
    scaled = trials[trials["perturbation.kind"] == "scale"]
    assert (scaled["perturbation.ks"] == "5").all()             # list config -> groupable string
    assert jobs.list_matrix(scaled["init_signal"]).shape == (5, 7)
    # a stop rule's settings define no condition while stop=never (as a perturbation's)
    assert (trials["stop.kind"] == "never").all() and trials["stop.window"].isna().all()
    assert "job" not in jobs.config_columns(trials) and "circles" not in jobs.config_columns(trials)


def test_overlapping_roots_count_each_job_once(planted):
    trials, _ = jobs.load_trials([planted.root, planted.root / "multirun"])
    assert len(trials) == 16


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(jobs.DataError, match="root not found: .*nowhere"):
        jobs.load_trials([tmp_path / "nowhere"])
    with pytest.raises(jobs.DataError, match="no job directories"):
        jobs.load_trials([tmp_path])


def test_only_a_corrupt_job_names_the_file_and_the_problem(tmp_path):
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "trials.parquet").write_bytes(b"PAR1 cut off mid-write")
    with pytest.raises(jobs.DataError, match=r"no readable jobs .*1 skipped; first: .*job: .*corrupt"):
        jobs.load_trials([tmp_path])


def test_read_table_with_filter_keeps_each_row_with_its_job(tmp_path):
    for offset in (0, 3):
        cfg = synthetic.config(p=7, d=4, trials=3, trial_offset=offset, steps=20, **{"log.dense_steps": 10, "log.every": 5})
        synthetic.fake_job(tmp_path / f"job{offset}", cfg, n_circles=1)
    table, skipped = jobs.read_table(sorted(str(p) for p in tmp_path.iterdir()), "signals.parquet",
                                     columns=["trial", "step", "k", "signal"], filter=ds.field("step") <= 4)
    assert skipped == [] and set(table["step"]) == {0, 1, 2, 3, 4}
    assert len(table) == 2 * 3 * 5 * 4  # jobs x trials x steps x k
    for job, rows in table.groupby("job", observed=True):
        expected = {0, 1, 2} if job.endswith("job0") else {3, 4, 5}
        assert set(rows["trial"]) == expected


def test_list_matrix_refuses_mixed_lengths(planted):
    trials, _ = jobs.load_trials([planted.root])
    with pytest.raises(ValueError, match="mixed p"):
        jobs.list_matrix(trials["init_signal"])
    np.testing.assert_array_equal(jobs.list_matrix(trials.query("p == 13")["init_signal"]).shape, (10, 7))


def test_version1_jobs_read_as_version2(tmp_path):
    # A job written before the config groups: optim.* columns, every perturbation field.
    v2 = synthetic.trials_table(synthetic.config(trials=2, **{"perturbation.kind": "scale", "perturbation.ks": [3],
                                                   "perturbation.alpha": 1.5}), [[3], [3, 4]], np.ones((2, 6)))
    v1 = v2.drop_columns(["model.kind", "optimizer.kind"])
    v1 = v1.rename_columns([c.replace("optimizer.", "optim.") for c in v1.column_names])
    for name in ("perturbation.top", "perturbation.r"):  # version 1 stored them for every kind
        v1 = v1.set_column(v1.schema.get_field_index(name), name, pa.array([0, 0] if name.endswith("top")
                                                                            else [1.0, 1.0], v1.schema.field(name).type))
    v1 = v1.set_column(v1.schema.get_field_index("schema_version"), "schema_version", pa.array([1, 1], pa.int32()))
    synthetic.write_job(tmp_path / "old", v1)
    synthetic.write_job(tmp_path / "new", v2.set_column(0, "trial", pa.array([0, 1], pa.int32())))
    trials, skipped = jobs.load_trials([tmp_path])
    assert skipped == [] and len(trials) == 4
    assert not any(c.startswith("optim.") for c in trials.columns)
    assert (trials["optimizer.lr"] == 0.01).all() and (trials["model.kind"] == "mlp").all()
    assert (trials["optimizer.kind"] == "adamw").all()
    assert trials["perturbation.top"].isna().all() and trials["perturbation.r"].isna().all()
    assert (trials["perturbation.alpha"] == 1.5).all() and (trials["perturbation.ks"] == "3").all()
    # old and new jobs of one condition group together
    assert trials.drop(columns=["job", "schema_version"]).astype(str).drop_duplicates(
        subset=[c for c in trials.columns if c.startswith(("optimizer.", "perturbation.", "model."))]).shape[0] == 1


def test_version2_jobs_read_as_version3_and_embedding_is_optional(tmp_path):
    # A version-2 job has no task, loss or new log columns and no embedding.parquet; a
    # version-3 job of task=add with its embedding logged.
    cfg = synthetic.config(trials=2)
    v3 = synthetic.trials_table(cfg, [[3], [3, 4]], np.ones((2, 6)))
    new = [c for c in v3.column_names if c.startswith(("task.", "loss.", "log.acc", "log.emb", "log.rqi"))]
    v2 = v3.drop_columns(new)
    v2 = v2.set_column(v2.schema.get_field_index("schema_version"), "schema_version", pa.array([2, 2], pa.int32()))
    synthetic.write_job(tmp_path / "old", v2)
    v3 = v3.set_column(v3.schema.get_field_index("task.kind"), "task.kind", pa.array(["add", "add"]))
    job = synthetic.write_job(tmp_path / "new", v3)
    embedding = pa.table({"trial": pa.array([0, 1], pa.int32()), "step": pa.array([0, 0], pa.int32()),
                          "E": pa.array([[0.5, 1.5], [2.0, 3.0]], pa.list_(pa.float32()))})
    pq.write_table(embedding, job / "embedding.parquet")
    trials, skipped = jobs.load_trials([tmp_path])
    assert skipped == [] and len(trials) == 4
    assert trials.groupby("job")["task.kind"].first().to_dict() == {str(tmp_path / "new"): "add",
                                                                     str(tmp_path / "old"): "mod_add"}
    assert (trials["loss.kind"] == "cross_entropy").all()
    frame, skipped = jobs.read_table(trials.job.unique(), "embedding.parquet")
    assert skipped == [] and set(frame.job) == {str(tmp_path / "new")}
    assert [list(e) for e in frame.E] == [[0.5, 1.5], [2.0, 3.0]]
