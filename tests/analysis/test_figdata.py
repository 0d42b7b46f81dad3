import pandas as pd
import pytest

from analysis import figdata, jobs


def test_job_signals_reads_one_jobs_trials_and_marks_survivors(trained):
    trials, _ = jobs.load_trials([trained.root])
    table = figdata.job_signals(trials)  # the first job's trials
    job = trials["job"].iloc[0]
    raw = pd.read_parquet(f"{job}/signals.parquet")
    assert set(table["job"]) == {job} and len(table) == len(raw)
    merged = table.merge(raw, on=["trial", "step", "k"], suffixes=("", "_raw"))
    assert (merged["signal"] == merged["signal_raw"]).all()
    circles = pd.read_parquet(f"{job}/trials.parquet").set_index("trial")["circles"]
    for trial, rows in table.groupby("trial"):
        assert sorted(rows.loc[rows["survived"], "k"].unique()) == sorted(circles[trial])


def test_a_missing_file_is_named_not_a_missing_column(trained, tmp_path):
    root = trained.copy(tmp_path, p=11, d=8)
    (next(root.iterdir()) / "params.parquet").unlink()
    trials, _ = jobs.load_trials([root])
    skipped = []
    with pytest.raises(figdata.Unreadable, match=r"cannot read params\.parquet: .*: incomplete: no params\.parquet"):
        figdata.restricted(trials, skipped)
    assert [s.reason for s in skipped] == ["incomplete: no params.parquet"]
