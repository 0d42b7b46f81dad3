"""End to end: a tiny real sweep from the trainer, then aggregate, figures and paper check.

The numbers are checked against the raw parquet files, recomputed here independently:
circles from the final logged signals under the configured rule, the ODE's R² from a
plain least-squares fit, group sizes from the sweep's shape.
"""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import aggregate, figures, paper_check

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("circle_survival.train", "torch", "hydra")),
    reason="the training package (circle_survival, torch, hydra) is not installed here",
)
# A threshold rule makes 300 steps enough for a mix of surviving and dead frequencies;
# signals are logged at every step (log.dense_steps = 1000 > steps), as the ODE needs.
COMMON = ["d=16", "steps=300", "circles.rule=threshold", "circles.threshold=7", "progress=off", "checkpoint_every=0"]


@pytest.fixture(scope="module")
def sweep_root(tmp_path_factory):
    """A multirun (fig5_top and fig9 at p = 11, 13) and a single run (fig7, fixed embedding)."""
    root = tmp_path_factory.mktemp("e2e")
    # The named sweeps themselves, shrunk further on the command line.
    commands = [
        ["-m", f"+sweep={name}", "p=11,13", "trials=4", f"hydra.sweep.dir={root / 'multirun' / name}"]
        for name in ("fig5_top", "fig9")
    ] + [["-m", "+sweep=fig7", "p=11", "trials=6", "vary=[mlp,split]",
          f"hydra.sweep.dir={root / 'outputs' / 'fig7'}"]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny models: one thread is fastest on a shared machine
    for args in commands:
        done = subprocess.run([sys.executable, "-m", "circle_survival.train", *args, *COMMON],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    return root


def final_signals(job: Path) -> pd.DataFrame:
    signals = pd.read_parquet(job / "signals.parquet")
    return signals[signals["step"] == signals["step"].max()]


def test_aggregate_matches_the_raw_files(sweep_root, tmp_path, capsys):
    assert aggregate.main([str(sweep_root), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert f"read 5 jobs, 22 trials under {sweep_root}; skipped 0" in printed
    trials = pd.read_parquet(tmp_path / "all_trials.parquet")
    recomputed = []
    for job, rows in trials.groupby("job"):
        last = final_signals(Path(job))
        alive = last[(last["k"] >= 1) & (last["signal"] > 7)]
        recomputed += [alive[alive["trial"] == t]["k"].tolist() for t in rows["trial"]]
    assert [list(c) for c in trials["circles"]] == recomputed
    assert 0 < trials["n_circles"].sum() < len(trials) * 5  # a mix of survivors and dead
    groups = pd.read_csv(tmp_path / "groups.csv")
    top = groups[groups["sweep"] == "fig5_top"].set_index("p")
    assert top["n"].to_dict() == {11: 4, 13: 4}
    for p in (11, 13):
        mean = trials.query("sweep == 'fig5_top' and p == @p")["n_circles"].mean()
        assert top.loc[p, "mean"] == pytest.approx(mean)
    survival = pd.read_csv(tmp_path / "survival_by_p.csv").set_index(["p", "k"])
    k_alive = sum(1 in c for c in trials.query("p == 11")["circles"])
    assert survival.loc[(11, 1), "survived"] == k_alive and survival.loc[(11, 1), "n"] == 14


def test_figures_draw_what_the_sweep_covers(sweep_root, tmp_path, capsys):
    assert figures.main([str(sweep_root), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    for name in ("fig5", "fig7", "fig9", "fig15", "fig16", "eq2"):
        assert (tmp_path / f"{name}.png").exists() and (tmp_path / f"{name}.pdf").exists(), printed
    for group in ("fig5_top", "fig9", "fig7"):  # each sweep's own figures
        for name in ("survival", "signals"):
            assert (tmp_path / group / f"{name}.png").exists(), printed
    assert (tmp_path / "fig5_top" / "circles.png").exists() and (tmp_path / "fig9" / "circles.png").exists()
    assert "fig7/circles: not drawn: one condition" in printed  # one job at p = 11
    assert "paper figures whose named sweeps are not under" in printed and " fig4, " in printed
    assert "14 of 15 figures drawn" in printed


def test_paper_check_numbers(sweep_root, tmp_path, capsys):
    out = tmp_path / "check.md"
    assert paper_check.main([str(sweep_root), "--out", str(out)]) == 0
    text = out.read_text()
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in text.splitlines() if line.startswith("| ") and not line.startswith("| claim")}
    assert rows["circles rise with p (d = 16, Fig. 5 top)"][3] == "8"  # p = 11, 13 x 4 trials
    assert rows["linear SVM on (gradient, initial signal) predicts survival (Fig. 7)"][3] == "6"  # 20 % of 6 x 5
    linear = rows["linear ODE fits the first 1000 steps, linear (held-out 20 %, Fig. 9)"]
    assert linear[3] == "8"
    fig9_jobs = [path.parent for path in sorted(sweep_root.rglob("trials.parquet"))
                 if pd.read_parquet(path, columns=["sweep"])["sweep"].iloc[0] == "fig9"]
    assert len(fig9_jobs) == 2
    in_sample = np.mean([r2 for job in fig9_jobs for r2 in plain_r2(job)])
    assert f"(in-sample {in_sample:.3f})" in linear[1]


def plain_r2(job: Path) -> list[float]:
    """In-sample R² of x_{t+1} - x_t = A x_t + b per trial, by plain least squares (numpy only)."""
    signals = pd.read_parquet(job / "signals.parquet")
    out = []
    for _, rows in signals[signals["k"] >= 1].groupby("trial"):
        X = rows.pivot(index="step", columns="k", values="signal").to_numpy(float)
        design, dx = np.c_[X[:-1], np.ones(len(X) - 1)], np.diff(X, axis=0)
        resid = dx - design @ np.linalg.lstsq(design, dx, rcond=None)[0]
        out.append(np.mean(1 - (resid**2).sum(0) / ((dx - dx.mean(0)) ** 2).sum(0)))
    return out
