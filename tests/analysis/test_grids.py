"""Seed 003's analysis on a real tiny grids_circles sweep whose final embeddings are
replaced by planted ones (known answers), and a real tiny simulation."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis import figures, grids, grids_claims, jobs, paper_check, structures
from tests.analysis.conftest import train

N = 17
K = np.arange(N)
ARGS = ["-m", "+sweep=grids_circles", "scale=smoke", "steps=20", "snapshots.every=10", "model.width=8",
        "threads=1", "progress=off", "checkpoint_every=0"]


def ring(omega):
    angle = 2 * np.pi * omega * K / N
    return np.stack([np.cos(angle), np.sin(angle)], 1)


PLANTED = {  # (weight decay, trial): final E and the label it must get
    (0.0, 0): (ring(3), "circle"), (0.0, 1): (np.stack([K % 4, K // 4], 1).astype(float), "grid"),
    (1.0, 0): (ring(5) * 2 + 1, "circle"), (1.0, 1): (np.random.default_rng(0).standard_normal((N, 2)), "neither"),
}


def plant(job: Path) -> None:
    """Replace each trial's final E in job/params.parquet by its planted value."""
    wd = float(pq.read_table(job / "trials.parquet", columns=["optimizer.weight_decay"])[0][0].as_py())
    table = pq.read_table(job / "params.parquet").to_pandas()
    last = (table["name"] == "E") & (table["step"] == table["step"].max())
    for i in np.flatnonzero(last):
        table.at[i, "values"] = PLANTED[(wd, int(table.at[i, "trial"]))][0].astype(np.float32).ravel()
    pq.write_table(pa.Table.from_pandas(table, schema=pq.read_schema(job / "params.parquet")),
                   job / "params.parquet")


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    run = train(tmp_path_factory.mktemp("grids"), ARGS, 2)
    for job in run.jobs:
        plant(job)
    done = subprocess.run([sys.executable, "-m", "circle_survival.simulate", "-m", "sweep=grids_circles",
                           "scale=smoke", "systems=3", "steps=20", "weight_decay=0,1", "threads=1"],
                          cwd=run.cwd, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return run


def test_network_structures_find_the_planted_labels(planted):
    trials, _ = jobs.load_trials([planted.root])
    table = grids.network_structures(trials)
    got = {(r["optimizer.weight_decay"], r["trial"]): r["structure"] for _, r in table.iterrows()}
    assert got == {key: label for key, (_, label) in PLANTED.items()}
    assert sorted(table.loc[table.structure == "circle", "omega"]) == [3, 5]
    emb = grids.embeddings(trials)
    assert sorted(emb.step.unique()) == [0, 10, 20] and emb.E.iloc[0].shape == (N, 2)


def test_frequencies_count_every_label_with_wilson_intervals(planted):
    trials, _ = jobs.load_trials([planted.root])
    freq = grids.frequencies(grids.network_structures(trials), ["optimizer.weight_decay"])
    row = freq[(freq["optimizer.weight_decay"] == 1.0) & (freq.structure == "grid")].iloc[0]
    assert (row["count"], row["n"], row["rate"], row["lo"]) == (0, 2, 0.0, 0.0)
    circle = freq[freq.structure == "circle"]
    assert list(circle["count"]) == [1, 1] and list(circle["rate"]) == [0.5, 0.5]
    # Wilson 95 %, 1 of 2: centre 0.5, half-width 1.96 / 2.9208 x sqrt(0.125 + 0.2401) = 0.4055
    assert circle["hi"].iloc[0] == pytest.approx(0.9055, abs=1e-4)


def test_paper_check_rows(planted):
    trials, _ = jobs.load_trials([planted.root])
    systems, skipped = grids.load_systems([planted.cwd])
    assert not skipped and len(systems) == 6
    rows = {c.claim: c for c in grids_claims.check(trials, systems)}
    occur = rows["both grids and circles occur (networks, seed 003)"]
    assert occur.agree and occur.n == 4 and occur.ours == "circles 2/4 (50%), grids 1/4 (25%)"
    effect = rows["weight decay changes which structure forms (networks, seed 003)"]
    assert effect.n == 4 and not effect.agree  # 2/2 structured at 0, 1/2 at 1: Fisher p = 1
    assert "structured at wd 0: 2/2; at wd 1: 1/2" in effect.ours
    assert "both grids and circles occur (simulation, this project's forces, seed 003)" in rows
    full, _, _ = paper_check.check(trials, systems=systems)
    assert [c.claim for c in full] == list(rows)
    # without the grids_circles sweep there are no seed-003 rows
    assert grids_claims.check(trials.assign(sweep="fig5_top"), systems) == []


def test_figures_draw_structures_snapshots_animation_and_examples(planted, tmp_path):
    drawn, not_drawn = figures.draw_all([planted.root, planted.cwd / "simulations"], tmp_path)
    names = {path.relative_to(tmp_path).as_posix() for path, _ in drawn}
    group = "grids_circles-smoke"
    want = {f"{group}/{n}.png" for n in ("structures", "snapshots", "example_circle", "example_grid",
                                         "example_neither", "simulation_structures")}
    assert want <= names, (names, not_drawn)
    assert f"{group}/animation.gif" in names
    gif = tmp_path / group / "animation.gif"
    assert gif.read_bytes()[:6] == b"GIF89a"
    from PIL import Image
    assert Image.open(gif).n_frames == 3  # steps 0, 10, 20


def test_thresholds_reach_the_detector(planted):
    trials, _ = jobs.load_trials([planted.root])
    strict = grids.network_structures(trials, quality_min=0.99)
    assert "grid" not in set(strict.structure) and structures.QUALITY_MIN < 0.99


def test_structure_table_command(planted, tmp_path, capsys):
    from analysis import structure_table
    out = tmp_path / "t.md"
    assert structure_table.main([str(planted.root), str(planted.cwd / "simulations"), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == ("| source | weight decay | lr | train_frac | n | circle | grid | neither "
                        "| 100 % train acc |")
    network = [line for line in lines if line.startswith("| network |")]
    # weight decay 0: the planted circle and lattice; 20 steps reach no 100 % accuracy here
    assert network[0].startswith("| network | 0 | 0.01 | 0.8 | 2 | 1 (50%, [9%, 91%]) | 1 (50%, [9%, 91%]) "
                                 "| 0 (0%, [0%, 66%]) |")
    assert len([line for line in lines if line.startswith("| simulation |")]) == 2
