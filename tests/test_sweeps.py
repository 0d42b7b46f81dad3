"""The named sweeps: each composes, holds the paper's settings, and runs end to end."""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from circle_survival import grid, sweeps
from circle_survival.config import (SCALES, SETTLED_SWEEPS, ConfigError, TrainConfig, grid_values,
                                    leaves, validate)
from circle_survival.keys import SWEEP_FORMS
from circle_survival.hydra_setup import by_scale
from circle_survival.trainer import logged_steps, snapshot_steps

README = Path(__file__).resolve().parent.parent / "README.md"


def swept(name: str, scale: str) -> dict[str, list[str]]:
    """Each swept key's values, in order, from the sweep's job list."""
    values: dict[str, list[str]] = {}
    for job in sweeps.jobs(name, scale):
        for item in job:
            key, value = item.split("=", 1)
            if value not in values.setdefault(key, []):
                values[key].append(value)
    return values


def gridded(name: str, scale: str) -> dict[str, list[float]]:
    """The grid's values by optimizer key (`grid.optimizer.weight_decay` -> "optimizer.weight_decay")."""
    return grid_values(sweeps.job_config(name, scale, sweeps.jobs(name, scale)[0]))


def test_one_sweep_file_per_figure():
    assert sweeps.names()[:len(sweeps.ORDER)] == list(sweeps.ORDER)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("name", sweeps.names())
def test_every_sweep_composes_and_its_jobs_validate(name, scale):
    job_list = sweeps.jobs(name, scale)
    size = sweeps.size(name, scale)
    for overrides in {0: job_list[0], -1: job_list[-1]}.values():
        cfg = sweeps.job_config(name, scale, overrides)
        validate(cfg)
        assert cfg.sweep == name and cfg.scale == scale
        assert cfg.trials * len(grid.points(cfg)) in size.trials_per_job  # a grid: trials per point
    if name == "fig12":  # the ablations read the unablated job of the same sweep
        cfg = sweeps.job_config(name, scale, ["perturbation=keep_top2", "steps=7"])
        suffix = "" if scale == "paper" else f"-{scale}"
        assert cfg.perturbation.source == f"multirun/fig12{suffix}/perturbation=none,steps=7"
        assert (cfg.perturbation.kind, cfg.perturbation.top) == ("keep", 2)


def floats(values):
    return np.array([float(v) for v in values])


def test_paper_scale_settings_follow_the_paper():
    """Known answers: each figure's settings in the paper (Survival of the Fittest
    Representation: the figure captions, Sections 3-4, Appendices A-F), completed from
    the authors' code (linked from the paper) where the text is silent."""
    primes = [p for p in range(13, 128) if all(p % q for q in range(2, p))]
    expect = {  # name: (swept values, trials per job)
        "fig4": ({"d": list(range(16, 129))}, 5),
        "fig5_top": ({"p": primes}, 100),
        "fig5_bottom": ({"d": list(range(16, 129))}, 50),
        "fig6_left": ({"init_seed": list(range(10))}, 50),
        "fig7": ({}, 100),
        "fig9": ({"d": list(range(4, 96))}, 10),
        "fig11": ({"d": list(range(16, 129))}, 50),
        "fig14": ({"p": list(range(16, 102))}, 20),
        "fig2": ({}, 1), "fig3": ({}, 1), "fig8": ({}, 1), "fig13": ({}, 1),
    }
    for name, (values, trials) in expect.items():
        got = {k: [int(v) for v in vs] for k, vs in swept(name, "paper").items()}
        assert got == values, name
        assert sweeps.size(name, "paper").trials_per_job == {trials}, name

    def fixed(name, overrides=()):
        return sweeps.job_config(name, "paper", list(overrides))

    for name in sweeps.ORDER:
        cfg = fixed(name, sweeps.jobs(name, "paper")[0])
        assert cfg.steps == (1 if name == "fig11" else 30_000), name  # fig11: initialisation only
        if name not in ("fig4", "fig5_bottom", "fig9", "fig11"):
            assert cfg.d == 128, name
        if name not in ("fig5_top", "fig14"):
            assert cfg.p == 59, name
        assert (cfg.optimizer.weight_decay == 0.5) == (name != "fig10"), name

    fig4 = fixed("fig4", ["d=16"])
    assert fig4.freeze_embedding
    assert {500, 1000, 5000, 10_000} <= set(logged_steps(fig4.steps, fig4.log.dense_steps, fig4.log.every))
    assert sorted(fixed("fig6_left").vary) == ["mlp", "split"]

    middle = swept("fig6_middle", "paper")
    assert [int(v) for v in middle["init_seed"]] == list(range(8))
    np.testing.assert_allclose(floats(middle["perturbation.alpha"]), np.linspace(0.85, 1.15, 50), atol=1e-6)
    m = fixed("fig6_middle")
    assert (m.perturbation.kind, m.perturbation.ks, sorted(m.vary)) == ("scale", [25], ["mlp", "split"])
    assert sweeps.size("fig6_middle", "paper").trials_per_job == {50}

    right = swept("fig6_right", "paper")
    np.testing.assert_allclose(floats(right["perturbation.r"]), np.exp(np.linspace(-4, 0, 16)), rtol=1e-5)
    r = fixed("fig6_right")
    assert (r.perturbation.kind, r.perturbation.scale, r.perturbation.eps) == ("construct", 80.0, 1e-6)
    assert r.vary == ["embedding"] and r.init_seed == 0
    assert sweeps.size("fig6_right", "paper").trials_per_job == {100}

    assert fixed("fig7").vary == ["mlp"]
    assert fixed("fig8").snapshots.every == 100
    assert fixed("fig9", ["d=4"]).log.dense_steps >= 1000  # signals every step of the first 1000

    wd = floats(swept("fig10", "paper")["optimizer.weight_decay"])
    want = np.concatenate([[0], np.linspace(0.1, 1.5, 16), 10 ** np.linspace(-4, -2, 16)])
    np.testing.assert_allclose(wd, want, rtol=1e-5)
    assert sweeps.size("fig10", "paper").trials_per_job == {50}

    assert swept("fig12", "paper") == {"perturbation": ["none", "keep_top1", "keep_top2",
                                                         "keep_random1", "keep_random2"]}
    assert sweeps.size("fig12", "paper").trials_per_job == {1}
    assert fixed("fig12", ["perturbation=none"]).seed == 0


def test_grids_circles_trains_seed_003s_demo_model():
    """Known answers: seed 003's public demo (p = 17, d = 2, summed embeddings, Linear(2, 64),
    ReLU, Linear(64, 17)), AdamW, weight decay 0 among the values at every scale."""
    for scale in SCALES:
        cfg = sweeps.job_config("grids_circles", scale, sweeps.jobs("grids_circles", scale)[0])
        m = cfg.model
        assert (cfg.p, cfg.d, m.kind, m.width, m.depth, m.activation) == (17, 2, "sum_mlp", 64, 1, "relu")
        assert cfg.optimizer.kind == "adamw" and cfg.snapshots.every > 0  # embeddings over training
        grid = swept("grids_circles", scale)
        assert 0.0 in as_set(grid["optimizer.weight_decay"]) and len(grid["optimizer.weight_decay"]) >= 2


def test_settled_estimate_waits_for_small_weight_decay():
    # fig7: 100 trials at the paper's defaults, each estimated to stop at SETTLED_MEAN_STEPS
    assert sweeps.size("fig7", "paper").settled_model_steps == 100 * sweeps.SETTLED_MEAN_STEPS
    # fig10: 50 trials per weight decay; decay 0 never stops, below 10 / (0.01 x 30,000) = 1/30
    # the rule's span (10 decay times) reaches past 30,000 steps; at 1/30..0.1 it is 10/(0.01 wd)
    wd = floats(swept("fig10", "paper")["optimizer.weight_decay"])
    per_trial = [min(30_000, max(sweeps.SETTLED_MEAN_STEPS, 1000 / w)) if w else 30_000 for w in wd]
    assert sweeps.size("fig10", "paper").settled_model_steps == pytest.approx(50 * sum(per_trial), abs=50 * 33)


def test_cs_scale_takes_one_value_per_scale():
    root = {"scale": "laptop"}
    assert by_scale(*SCALES, _root_=root) == "laptop"
    assert by_scale(*SCALES, _root_={"scale": "no such"}) == "smoke"  # validate() then names it
    with pytest.raises(ConfigError, match="one value per scale"):
        by_scale("paper", "smoke", _root_=root)


def as_set(values):
    """Swept values as numbers where they are numbers ("0.5" and "0.50" alike), else as given."""
    try:
        return {float(v) for v in values}
    except ValueError:
        return set(values)


# What laptop scale may change: how many trials, and stopping settled trials; nothing else
# (fig12's perturbation.source is a job of its own sweep, in the laptop sweep's folder).
LAPTOP_CHANGES = {"trials", "scale", "perturbation.source",
                  *(k for k in leaves(TrainConfig()) if k.startswith(("stop.", "grid.")))}


@pytest.mark.parametrize("name", sweeps.names())
def test_laptop_scale_cuts_only_trials_and_grid_points(name):
    paper, smoke, laptop = (sweeps.size(name, s) for s in ("paper", "smoke", "laptop"))
    assert max(laptop.trials_per_job) <= min(paper.trials_per_job)
    assert min(laptop.trials_per_job) >= max(smoke.trials_per_job)
    points = {scale: {**swept(name, scale), **gridded(name, scale)} for scale in ("paper", "smoke", "laptop")}
    assert points["laptop"].keys() == points["paper"].keys()
    for key, values in points["laptop"].items():  # a subset of the paper's values, no fewer than smoke's
        assert len(points["smoke"][key]) <= len(values) <= len(points["paper"][key]), key
        assert as_set(values) <= as_set(points["paper"][key]), key
    for job in {0: sweeps.jobs(name, "laptop")[0], -1: sweeps.jobs(name, "laptop")[-1]}.values():
        at_laptop, at_paper = sweeps.job_config(name, "laptop", job), sweeps.job_config(name, "paper", job)
        # p, d, steps, optimizer.*, model.*, perturbation.*, log.*, ...: the paper's, for the same job
        kept = {k: v for k, v in leaves(at_laptop).items() if k not in LAPTOP_CHANGES}
        assert kept == {k: v for k, v in leaves(at_paper).items() if k not in LAPTOP_CHANGES}
        assert at_laptop.scale == "laptop" and at_laptop.trials <= at_paper.trials
        # stop=settled exactly where the figure allows it, with conf/stop/settled.yaml's rule
        if name in SETTLED_SWEEPS:
            assert at_laptop.stop == sweeps.job_config(name, "paper", ["stop=settled", *job]).stop
        else:
            assert at_laptop.stop.kind == "never"


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("form, name", SWEEP_FORMS.items())
def test_a_sweeps_other_form_trains_the_same_trials(form, name, scale):
    # fig10_onejob: one job whose grid is fig10's swept weight decays (one source: fig10.yaml),
    # with fig10's every other setting
    assert sweeps.jobs(form, scale) == [[]]
    values = swept(name, scale)
    assert {k: [float(v) for v in vs] for k, vs in values.items()} == gridded(form, scale)
    one_job = leaves(sweeps.job_config(form, scale, []))
    for job in sweeps.jobs(name, scale):
        point = leaves(sweeps.job_config(name, scale, job))
        differ = {k for k in point if point[k] != one_job[k]}
        assert differ <= {"sweep", *(k.split("=")[0] for k in job), *(k for k in point if k.startswith("grid."))}
    size, form_size = sweeps.size(name, scale), sweeps.size(form, scale)
    assert (size.trials, size.model_steps, size.steps_to_run) == (
        form_size.trials, form_size.model_steps, form_size.steps_to_run)


def test_laptop_scale_keeps_what_the_claims_read():
    """Known answers: analysis/claims.py's checks need these jobs at laptop scale."""
    def ints(name, key):
        return [int(float(v)) for v in swept(name, "laptop")[key]]
    assert 59 in ints("fig5_top", "p") and 128 in ints("fig5_bottom", "d")  # circles at the default
    d = ints("fig4", "d")  # frozen dip: at least two d within 10 below p = 59, two above
    assert len([x for x in d if 49 <= x < 59]) >= 2 and len([x for x in d if 59 < x <= 69]) >= 2
    assert "0" in swept("fig10", "laptop")["optimizer.weight_decay"]  # weight decay 0 keeps all
    assert len(swept("fig6_middle", "laptop")["perturbation.alpha"]) >= 3  # a slope needs 3 points
    assert ints("fig11", "d") == ints("fig5_bottom", "d")  # fig11's right panel is fig5_bottom's
    fig11, fig5 = sweeps.size("fig11", "laptop"), sweeps.size("fig5_bottom", "laptop")
    assert min(fig11.trials_per_job) >= max(fig5.trials_per_job)


def test_laptop_stop_settled_keeps_the_choice_at_other_scales():
    for scale in ("paper", "smoke"):
        assert sweeps.job_config("fig7", scale, []).stop.kind == "never"
        assert sweeps.job_config("fig7", scale, ["stop=settled"]).stop.kind == "settled"
    assert sweeps.job_config("fig7", "laptop", ["stop.kind=never"]).stop.kind == "never"


def test_listing_and_readme_table(capsys):
    sweeps.main([])
    text = capsys.readouterr().out
    for name in sweeps.ORDER:
        assert f" {name} " in text
    assert "600,000,000" in text  # fig6_middle: 400 jobs x 50 trials x 30k steps
    assert "laptop: jobs × trials" in text and "with stop=settled" in text
    # README's table is this command's output, not hand-written
    assert sweeps.table(markdown=True) in README.read_text(), \
        "README's sweep table is stale: paste in `python -m circle_survival.sweeps --markdown`"


# ---- end to end: every sweep at smoke scale, made tinier on the command line -------------

TINY = ["steps=12", "model.width=8", "log.dense_steps=4", "log.every=4", "checkpoint_every=0",
        "progress=off"]


def run_sweep(cwd: Path, name: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "circle_survival.train", "-m", f"+sweep={name}",
                           "scale=smoke", *TINY], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    """Every sweep run once, from a directory outside the repository, two at a time."""
    cwd = tmp_path_factory.mktemp("sweeps")
    with ThreadPoolExecutor(2) as pool:
        done = dict(zip(sweeps.names(), pool.map(lambda n: run_sweep(cwd, n), sweeps.names())))
    return cwd, done


def read(cwd: Path, name: str, file: str = "trials") -> pd.DataFrame:
    paths = sorted((cwd / "multirun" / f"{name}-smoke").glob(f"*/{file}.parquet"))
    return pd.concat([pd.read_parquet(p).assign(job=p.parent.name) for p in paths], ignore_index=True)


@pytest.mark.parametrize("name", sweeps.names())
def test_every_sweep_runs_end_to_end(tiny_runs, name):
    cwd, done = tiny_runs
    assert done[name].returncode == 0, done[name].stderr[-3000:]
    trials = read(cwd, name)
    size = sweeps.size(name, "smoke")
    assert trials.job.nunique() == size.jobs and len(trials) == size.trials
    assert (trials.sweep == name).all() and (trials.scale == "smoke").all()
    for key, values in swept(name, "smoke").items():  # every swept value is a column
        column = "perturbation.kind" if key == "perturbation" else key
        assert column in trials, column
        if key != "perturbation":
            np.testing.assert_allclose(sorted(set(trials[key].astype(float))), sorted(floats(values)))
    params = read(cwd, name, "params")
    for _, row in trials.drop_duplicates("job").iterrows():
        want = snapshot_steps(row.steps, row["snapshots.every"], list(row["snapshots.steps"]))
        assert sorted(params[params.job == row.job].step.unique()) == want


def test_a_sweeps_other_form_gives_the_same_trials_end_to_end(tiny_runs):
    # fig10_onejob's trial at weight decay w, replicate r is fig10's trial r of the job at w
    cwd, _ = tiny_runs
    for form, name in SWEEP_FORMS.items():
        one_job, jobs = read(cwd, form), read(cwd, name)
        assert one_job.job.nunique() == 1 and len(one_job) == len(jobs) > 0
        key = ["optimizer.weight_decay", "replicate"]
        a, b = (t.sort_values(key).reset_index(drop=True) for t in (one_job, jobs))
        for column in ["optimizer.weight_decay", "replicate", "n_circles", "final_train_loss"]:
            pd.testing.assert_series_equal(a[column], b[column])
        np.testing.assert_array_equal(np.stack(a.final_signal), np.stack(b.final_signal))


def init_at(row, k):
    return np.asarray(row["init_signal"])[k]


def test_fig6_middle_scales_k_by_alpha(tiny_runs):
    trials = read(tiny_runs[0], "fig6_middle")
    assert (trials["perturbation.kind"] == "scale").all()
    assert all(list(a) == [9] == list(ks) for a, ks in zip(trials["perturbation.applied"], trials["perturbation.ks"]))
    pivot = {(r["init_seed"], r["trial"], r["perturbation.alpha"]): r for _, r in trials.iterrows()}
    for seed in (0, 1):
        for trial in (0, 1):
            lo, one, hi = (pivot[(seed, trial, a)] for a in (0.85, 1.0, 1.15))
            assert init_at(hi, 9) / init_at(lo, 9) == pytest.approx(1.15 / 0.85, rel=1e-5)
            np.testing.assert_allclose(np.delete(hi.init_signal, 9), np.delete(one.init_signal, 9), rtol=1e-5)


def test_fig6_right_constructs_two_frequencies(tiny_runs):
    trials = read(tiny_runs[0], "fig6_right")
    for _, row in trials.iterrows():
        first, second = row["perturbation.applied"]
        s = np.asarray(row.init_signal)
        assert s[first] == pytest.approx(80, rel=1e-5)
        assert s[second] == pytest.approx(80 * row["perturbation.r"], rel=1e-4)
        assert np.all(np.delete(s[1:], [first - 1, second - 1]) == pytest.approx(1e-6, rel=1e-2))


def test_fig12_ablations_keep_what_they_say(tiny_runs):
    trials = read(tiny_runs[0], "fig12").set_index("job")
    base = next(j for j in trials.index if "perturbation=none" in j)
    final = np.asarray(trials.loc[base, "final_signal"])
    strongest = [int(k) for k in 1 + np.argsort(-final[1:])]
    for job, row in trials.iterrows():
        kind = job.split("perturbation=")[1].split(",")[0]
        applied = list(row["perturbation.applied"])
        assert row["perturbation.kind"] == ("none" if kind == "none" else "keep")
        want = {"none": None, "keep_top1": sorted(strongest[:1]), "keep_top2": sorted(strongest[:2])}
        if kind in want:
            assert applied == ([] if want[kind] is None else want[kind])
        else:
            assert len(applied) == int(kind[-1]) == row["perturbation.random"]
        if kind != "none":  # only DC and the kept frequencies are nonzero at step 0
            s = np.asarray(row.init_signal)
            assert np.all(np.delete(s, [0, *applied]) < 1e-4) and np.all(s[applied] > 1)
        if kind.startswith("keep_top"):  # the sibling job; other kinds have no source
            assert row["perturbation.source"] == f"multirun/fig12-smoke/{base}"


def test_fig4_freezes_and_fig11_shares_fig5_bottoms_initial_embeddings(tiny_runs):
    cwd = tiny_runs[0]
    assert read(cwd, "fig4")["freeze_embedding"].all()
    fig11 = read(cwd, "fig11").set_index(["d", "trial"]).init_signal
    fig5 = read(cwd, "fig5_bottom").set_index(["d", "trial"]).init_signal
    common = fig11.index.intersection(fig5.index)
    assert len(common) > 0
    for key in common:
        np.testing.assert_array_equal(fig11[key], fig5[key])


@pytest.mark.parametrize("name", sweeps.names())
def test_stop_settled_only_where_a_figure_uses_final_circles(name):
    cfg = sweeps.job_config(name, "smoke", ["stop=settled", *sweeps.jobs(name, "smoke")[0]])
    if name in SETTLED_SWEEPS:
        validate(cfg)
    else:
        with pytest.raises(ConfigError, match=f"stop.kind='settled'.*in sweep {name},"):
            validate(cfg)
