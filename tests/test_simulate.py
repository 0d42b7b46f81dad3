"""python -m circle_survival.simulate: composes, writes parquet the analysis reads, skips when done."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from analysis import grids
from circle_survival import simulate  # noqa: F401 - stores simulate_schema
from circle_survival.particles import SimulateConfig

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DOC = ROOT / "docs" / "schema.md"


def test_conf_composes_to_the_schema_defaults():
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        cfg = compose("simulate", overrides=["weight_decay=0.3", "systems=5"])
    sim = OmegaConf.to_object(cfg)
    assert isinstance(sim, SimulateConfig)
    assert (sim.weight_decay, sim.systems) == (0.3, 5)
    assert {k: v for k, v in vars(sim).items() if k not in ("weight_decay", "systems")} == \
        {k: v for k, v in vars(SimulateConfig()).items() if k not in ("weight_decay", "systems")}


def run(cwd, *args):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "circle_survival.simulate", *args], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def test_smoke_multirun_writes_what_analysis_reads(tmp_path):
    args = ["-m", "sweep=grids_circles", "scale=smoke", "systems=3", "steps=20", "every=10",
            "weight_decay=0,1", "threads=1"]
    done = run(tmp_path, *args)
    assert done.returncode == 0, done.stderr[-2000:]
    root = tmp_path / "simulations" / "multirun" / "grids_circles-smoke"
    jobs = sorted(p.parent for p in root.glob("*/systems.parquet"))
    assert [j.name for j in jobs] == ["every=10,steps=20,systems=3,weight_decay=0",
                                      "every=10,steps=20,systems=3,weight_decay=1"]
    positions = pq.read_table(jobs[0] / "positions.parquet").to_pandas()
    assert sorted(positions.step.unique()) == [0, 10, 20] and len(positions) == 9
    doc = SCHEMA_DOC.read_text()
    for path in (jobs[0] / "positions.parquet", jobs[0] / "systems.parquet"):
        missing = [n for n in pq.read_schema(path).names if f"`{n}`" not in doc]
        assert not missing, f"columns not in docs/schema.md: {missing}"
    systems, skipped = grids.load_systems([tmp_path / "simulations"])
    assert not skipped and len(systems) == 6 and set(systems.weight_decay) == {0.0, 1.0}
    assert (systems.sweep == "grids_circles").all() and (systems.scale == "smoke").all()
    final = positions[positions.step == 20].sort_values("system")
    np.testing.assert_array_equal(np.stack(final.positions), np.stack(
        systems[systems.job == str(jobs[0])].sort_values("system").final_positions))
    table = grids.simulation_structures(systems)
    assert len(table) == 6 and set(table.structure) <= {"circle", "grid", "neither"}
    again = run(tmp_path, *args)
    assert again.returncode == 0 and again.stdout.count("outputs complete, skipping") == 2


def test_bad_value_is_one_line_and_leaves_nothing(tmp_path):
    done = run(tmp_path, "train_frac=2")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: invalid config: train_frac=2.0; allowed: a number in (0, 1]"
    assert not (tmp_path / "simulations").exists()


def test_sweep_names_a_group_from_the_repository_root(tmp_path):
    # From the checkout's root (README's commands), Hydra imports the launcher plugin in
    # hydra_plugins/; were `sweep` a config group there, `sweep=NAME` would be refused.
    done = run(ROOT, "sweep=mine", "systems=2", "steps=3", "every=3", "threads=1",
               f"hydra.run.dir={tmp_path / 'job'}")
    assert done.returncode == 0, done.stderr[-2000:]
    assert pq.read_table(tmp_path / "job" / "systems.parquet").column("sweep").to_pylist() == ["mine", "mine"]
