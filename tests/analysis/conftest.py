"""Job trees shared by the analysis tests: synthetic ones with planted answers (docs/schema.md,
v1), and one real ad-hoc multirun trained by the trainer (`trained`)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis import synthetic


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: opens a page in headless Chromium (root installs Debian's "
                                       "chromium; CS_REQUIRE_BROWSER=1 makes a missing browser a failure)")


# Planted circles per trial, by p (d = 16): n_circles for p = 11 is 1, 2, 3, 2, 2, 2
# (two shards of one condition), for p = 13 always 3.
P11_CIRCLES = [[1], [1, 2], [1, 2, 3], [1, 4]], [[1, 5], [2, 3]]
P13_CIRCLES = [[1, 2, 3]] * 5


def _signal(n, p, seed):
    return np.random.default_rng(seed).uniform(1, 10, (n, p // 2 + 1))


def write_planted(root: Path) -> Path:
    """Good jobs with known answers, plus every kind of bad job the loader must list."""
    multirun = root / "multirun" / "2024-06-01" / "12-00-00"
    for i, (offset, circles) in enumerate(zip((0, 4), P11_CIRCLES)):
        cfg = synthetic.config(p=11, d=16, trials=len(circles), trial_offset=offset, seed=i, sweep="fig5_top")
        synthetic.write_job(multirun / str(i), synthetic.trials_table(cfg, circles, _signal(len(circles), 11, i)))
    cfg = synthetic.config(p=13, d=16, trials=5, sweep="fig5_top", **{"perturbation.kind": "scale", "perturbation.ks": [5]})
    synthetic.write_job(multirun / "2", synthetic.trials_table(cfg, P13_CIRCLES, _signal(5, 13, 2)))

    # A single run at another depth, written by an older trainer without perturbation columns.
    old = synthetic.trials_table(synthetic.config(p=13, d=16, trials=5, sweep="fig5_top"), P13_CIRCLES, _signal(5, 13, 3))
    old = old.drop_columns([c for c in old.column_names if c.startswith("perturbation.")])
    synthetic.write_job(root / "outputs" / "2024-06-02" / "09-30-00", old)

    bad = root / "multirun" / "bad"
    good = synthetic.trials_table(synthetic.config(p=11, d=16, trials=2), [[1], [2]], _signal(2, 11, 9))
    synthetic.write_job(bad / "corrupt", good)
    data = (bad / "corrupt" / "trials.parquet").read_bytes()
    (bad / "corrupt" / "trials.parquet").write_bytes(data[: len(data) // 2])  # bad footer
    (bad / "no_trials").mkdir(parents=True)
    pq.write_table(pa.table({"trial": pa.array([0], pa.int32())}), bad / "no_trials" / "metrics.parquet")
    (bad / "writing").mkdir()
    (bad / "writing" / ".trials.parquet.tmp").write_bytes(b"partial")
    synthetic.write_job(bad / "no_circles", good.drop_columns(["circles"]))
    version2 = good.set_column(good.schema.get_field_index("schema_version"), "schema_version", pa.array([4, 4], pa.int32()))
    synthetic.write_job(bad / "version2", version2)
    synthetic.write_job(bad / "short", good.slice(0, 1))  # 1 of 2 trials
    synthetic.write_job(bad / "aggregated", good.append_column("job", pa.array(["x", "y"])))
    (bad / "running" / ".hydra").mkdir(parents=True)  # started, nothing written yet
    (bad / "running" / "train.log").write_text("step 100\n")
    (root / "unrelated").mkdir()
    (root / "unrelated" / "notes.txt").write_text("not a job")  # neither job nor incomplete: ignored
    return root


BAD_REASONS = {
    "corrupt": "corrupt", "no_trials": "incomplete", "writing": "incomplete",
    "no_circles": "different schema", "version2": "different schema", "short": "incomplete",
    "running": "incomplete", "aggregated": "different schema",
}


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> SimpleNamespace:
    """The planted tree: .root, and the answers .p11_circles, .p13_circles, .bad_reasons."""
    root = write_planted(tmp_path_factory.mktemp("planted"))
    return SimpleNamespace(root=root, p11_circles=P11_CIRCLES, p13_circles=P13_CIRCLES, bad_reasons=BAD_REASONS)


FIGURE_SWEEPS = {
    # sweep: (list of configs, job kwargs) -- tiny, but enough for every figure to draw.
    "fig2": ([dict(p=11, d=8, trials=1, steps=300, **{"log.dense_steps": 100, "log.every": 50})], {"snapshot_every": 100}),
    "fig3": ([dict(p=11, d=8, trials=1, steps=100)], {}),
    "fig4": ([dict(p=11, d=d, trials=2, steps=1000, freeze_embedding=True, **{"log.every": 500, "log.dense_steps": 10})
              for d in (8, 10, 11, 12, 14)], {}),
    "fig5_top": ([dict(p=p, d=16, trials=6, steps=10, **{"log.dense_steps": 5}) for p in (11, 13, 17)], {}),
    "fig5_bottom": ([dict(p=11, d=d, trials=6, steps=10, **{"log.dense_steps": 5}) for d in (8, 16, 24)], {}),
    "fig6_left": ([dict(p=11, d=16, trials=20, init_seed=s, vary="mlp,split", steps=10, **{"log.dense_steps": 5})
                   for s in range(4)], {}),
    "fig6_middle": ([dict(p=11, d=16, trials=8, init_seed=s, vary="mlp,split", steps=10,
                          **{"log.dense_steps": 5, "perturbation.kind": "scale", "perturbation.ks": [3], "perturbation.alpha": a})
                     for s in range(2) for a in (0.5, 1.0, 1.5)], {}),
    "fig6_right": ([dict(p=11, d=16, trials=10, vary="", steps=10,
                         **{"log.dense_steps": 5, "perturbation.kind": "construct", "perturbation.r": r})
                    for r in (0.1, 0.5, 1.0)], {}),
    "fig7": ([dict(p=11, d=16, trials=30, vary="mlp,split", steps=20, **{"log.dense_steps": 10})], {}),
    "fig8": ([dict(p=11, d=16, trials=1, steps=400, **{"log.dense_steps": 10, "log.every": 100})], {"snapshot_every": 100}),
    "fig9": ([dict(p=11, d=d, trials=2, steps=200, **{"log.dense_steps": 200}) for d in (4, 8)], {}),
    "fig10": ([dict(p=11, d=16, trials=4, steps=10, **{"log.dense_steps": 5, "optimizer.weight_decay": w})
               for w in (1e-4, 1e-3, 0.1, 0.5, 1.5)], {}),
    "fig11": ([dict(p=11, d=d, trials=4, steps=10, **{"log.dense_steps": 5}) for d in (8, 16)], {}),
    "fig12": ([dict(p=11, d=8, trials=1, steps=300, **{"log.dense_steps": 10, "log.every": 50, **pert})
               for pert in ({}, {"perturbation.kind": "keep", "perturbation.top": 1, "perturbation.ks": [2]},
                            {"perturbation.kind": "keep", "perturbation.top": 2, "perturbation.ks": [2, 3]},
                            {"perturbation.kind": "keep", "perturbation.random": 1},
                            {"perturbation.kind": "keep", "perturbation.random": 2})], {}),
    "fig13": ([dict(p=11, d=8, trials=1, steps=2000, **{"log.dense_steps": 1000, "log.every": 100})], {}),
    "fig14": ([dict(p=p, d=16, trials=3, steps=10, **{"log.dense_steps": 5}) for p in (10, 11, 12)], {}),
}


def planted_circles(cfg: dict) -> int:
    """Circle counts planted in the figure data: up with p and d, down with weight decay."""
    wd = cfg["optimizer.weight_decay"]
    return (cfg["p"] - 5) // 2 + cfg["d"] // 16 - (wd > 0.01) - (wd > 1.0)


def planted_loss_scale(cfg: dict) -> float:
    """Test-loss scale planted in the figure data: frozen d > p and the two strongest circles learn."""
    if cfg["freeze_embedding"]:
        return 0.5 if cfg["d"] > cfg["p"] else 2.0
    return 1e-3 if cfg["perturbation.top"] == 2 else 1.0


def write_figure_data(root: Path) -> Path:
    """One tiny job per config of every named sweep, with planted circle counts and losses."""
    for sweep, (configs, kwargs) in FIGURE_SWEEPS.items():
        for i, overrides in enumerate(configs):
            cfg = synthetic.config(sweep=sweep, **overrides)
            synthetic.fake_job(root / sweep / str(i), cfg, n_circles=min(planted_circles(cfg), cfg["p"] // 2),
                               seed=i, loss_scale=planted_loss_scale(cfg), **kwargs)
    return root


@pytest.fixture(scope="session")
def figure_data(tmp_path_factory) -> SimpleNamespace:
    """Every sweep's tiny synthetic jobs: .root, and the planting rules .circles, .loss_scale."""
    root = write_figure_data(tmp_path_factory.mktemp("figures"))
    return SimpleNamespace(root=root, circles=planted_circles, loss_scale=planted_loss_scale, sweeps=FIGURE_SWEEPS)


# A user's ad-hoc multirun, tiny: 6 jobs (p x d) of 3 trials, 300 steps, parameter snapshots
# every 100 steps; a threshold rule gives 0 to p//2 circles (7 x 12 has counts 1, 0, 1 and
# 13 x 12 reaches 6 = p//2, so their t-intervals cross both ends of the possible range).
TRAINED = ["-m", "p=7,11,13", "d=8,12", "trials=3", "steps=300", "threads=1", "progress=off",
           "checkpoint_every=0", "snapshots.every=100", "circles.rule=threshold", "circles.threshold=6"]


class Trained(SimpleNamespace):
    """.cwd (where the trainer ran), .root (its multirun/), .jobs (job dirs), .args (the
    trainer's arguments), and copy()."""

    def config(self, job: Path) -> dict:
        return pd.read_parquet(job / "trials.parquet", columns=["p", "d"]).iloc[0].to_dict()

    def copy(self, dest: Path, **where) -> Path:
        """Copy the jobs whose config matches `where` (e.g. d=8) into dest/; returns dest."""
        for job in self.jobs:
            if all(self.config(job)[key] == value for key, value in where.items()):
                shutil.copytree(job, dest / job.name)
        return dest


def train(cwd: Path, args: list[str], n_jobs: int) -> Trained:
    """Run the trainer with `args` in cwd, as a user types it; its n_jobs jobs as a Trained."""
    if any(importlib.util.find_spec(m) is None for m in ("circle_survival", "torch", "hydra")):
        pytest.skip("the training package (circle_survival, torch, hydra) is not installed here")
    done = subprocess.run([sys.executable, "-m", "circle_survival.train", *args], cwd=cwd,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    jobs = sorted(path.parent for path in (cwd / "multirun").rglob("trials.parquet"))
    assert len(jobs) == n_jobs
    return Trained(cwd=cwd, root=cwd / "multirun", jobs=jobs, args=args)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """The real multirun of TRAINED, run as a user types it in a fresh directory."""
    return train(tmp_path_factory.mktemp("trained"), TRAINED, 6)


# A named sweep, tiny: Fig 5 top at p = 11, 13 (3 trials each), enough for one claim of the paper.
NAMED = ["-m", "+sweep=fig5_top", "p=11,13", "d=16", "trials=3", "steps=300", "threads=1", "progress=off",
         "checkpoint_every=0", "circles.rule=threshold", "circles.threshold=6"]


@pytest.fixture(scope="session")
def named(tmp_path_factory) -> Trained:
    """The real multirun of NAMED (multirun/fig5_top/ in a fresh directory)."""
    return train(tmp_path_factory.mktemp("named"), NAMED, 2)
