"""The reporting/skipping launcher through submitit's local executor (`hydra/launcher=processes`):
the same code path as `hydra/launcher=slurm`, without a cluster."""
import subprocess
import sys

from tests.helpers.cli import TINY, run


def test_circle_survival_does_not_import_its_launcher_plugin():
    """The plugin imports circle_survival; train.py registers it by name, not by import."""
    code = ("import sys, circle_survival.train, circle_survival.sweeps; "
            "print([m for m in sys.modules if m.startswith('hydra_plugins.circle_survival')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_failures_reported_together_others_intact_then_rerun_retries_only_them(tmp_path):
    out = run(tmp_path, "-m", "hydra/launcher=processes", "p=5,7,11", *TINY, "train_frac=0.99")
    assert out.returncode == 0, out.stderr
    sweep = tmp_path / "multirun" / "adhoc"
    assert len(list(sweep.glob("*/trials.parquet"))) == 3

    out = run(tmp_path, "-m", "hydra/launcher=processes", "p=5,7,11", *TINY, "train_frac=0.99")
    assert "3 of 3 jobs already complete; submitting 0" in out.stdout + out.stderr

    # two jobs that fail among good ones (a folder where their signals.parquet goes):
    # both named, with the reason, in one report
    for d in (9, 10):
        dirname = ",".join(sorted([f"d={d}", "p=7", *TINY[1:-1]]))  # progress: not in names
        (sweep / dirname / "signals.parquet").mkdir(parents=True)
    out = run(tmp_path, "-m", "hydra/launcher=processes", "d=8,9,10", "p=7", *TINY[1:])
    assert out.returncode != 0
    report = (sweep / "failed_jobs.txt").read_text()
    assert report.startswith("2 of 3 jobs failed")
    assert "d=9" in report and "d=10" in report and report.count("Is a directory") == 2
    assert "2 of 3 jobs failed" in out.stderr
    good = [p for p in sweep.glob("d=8,*p=7,*/trials.parquet") if "train_frac" not in str(p)]
    assert len(good) == 1

    # rerun: only the failed jobs are submitted again (and fail again)
    out = run(tmp_path, "-m", "hydra/launcher=processes", "d=8,9,10", "p=7", *TINY[1:])
    assert "1 of 3 jobs already complete; submitting 2" in out.stdout + out.stderr
