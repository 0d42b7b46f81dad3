"""rejected.discard_leftovers: what Hydra wrote for a rejected job goes, anything else stays."""
from circle_survival.rejected import discard_leftovers


def test_leftovers_and_their_empty_folders_go(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "outputs" / "p=2"
    (job / ".hydra").mkdir(parents=True)
    (job / ".hydra" / "config.yaml").write_text("p: 2\n")
    (job / "train.log").write_text("")
    discard_leftovers(job, (".hydra", "train.log"))
    assert list(tmp_path.iterdir()) == []  # outputs/ went too, the working directory stayed


def test_a_folder_holding_anything_else_is_kept_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    job = tmp_path / "outputs" / "p=2"
    job.mkdir(parents=True)
    (job / "train.log").write_text("")
    (job / "trials.parquet").write_text("")  # a finished job's results
    discard_leftovers(job, (".hydra", "train.log"))
    assert sorted(f.name for f in job.iterdir()) == ["train.log", "trials.parquet"]
