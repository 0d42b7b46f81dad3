"""The reporting/skipping launcher through submitit's local executor (`hydra/launcher=processes`):
the same code path as `hydra/launcher=slurm`, without a cluster."""
from cli import TINY, run


def test_failures_reported_together_others_intact_then_rerun_retries_only_them(tmp_path):
    out = run(tmp_path, "-m", "hydra/launcher=processes", "p=5,7,11", *TINY, "train_frac=0.99")
    assert out.returncode == 0, out.stderr
    sweep = tmp_path / "multirun" / "adhoc"
    assert len(list(sweep.glob("*/trials.parquet"))) == 3

    out = run(tmp_path, "-m", "hydra/launcher=processes", "p=5,7,11", *TINY, "train_frac=0.99")
    assert "3 of 3 jobs already complete; submitting 0" in out.stdout + out.stderr

    # two bad jobs among good ones: both named, with the reason, in one report
    out = run(tmp_path, "-m", "hydra/launcher=processes", "d=8,0,-1", "p=7", *TINY[1:])
    assert out.returncode != 0
    report = (sweep / "failed_jobs.txt").read_text()
    assert report.startswith("2 of 3 jobs failed")
    assert "d=0" in report and "d=-1" in report and "allowed: an integer >= 1" in report
    assert "2 of 3 jobs failed" in out.stderr
    good = [p for p in sweep.glob("d=8,*p=7,*/trials.parquet") if "train_frac" not in str(p)]
    assert len(good) == 1

    # rerun: only the failed jobs are submitted again (and fail again)
    out = run(tmp_path, "-m", "hydra/launcher=processes", "d=8,0,-1", "p=7", *TINY[1:])
    assert "1 of 3 jobs already complete; submitting 2" in out.stdout + out.stderr
