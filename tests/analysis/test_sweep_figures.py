import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection

from analysis import figdata, jobs, plotting, sweep_figures, synthetic


@pytest.fixture(scope="module")
def raw(trained) -> pd.DataFrame:
    """Every trial, read straight from the trials.parquet files."""
    return pd.concat([pd.read_parquet(job / "trials.parquet") for job in trained.jobs], ignore_index=True)


def lines(ax) -> dict:
    """{label: (x, y)} of the labelled lines of a panel."""
    return {line.get_label(): (line.get_xdata(), line.get_ydata()) for line in ax.lines
            if not line.get_label().startswith("_")}


def test_circles_has_a_panel_per_varied_key_and_a_line_per_other(trained, raw):
    trials, _ = jobs.load_trials([trained.root])
    fig = sweep_figures.circles(trials, title="adhoc: surviving circles")
    assert fig.get_suptitle() == "adhoc: surviving circles (steps = 300)"
    by_p, by_d = fig.axes
    assert (by_p.get_xlabel(), by_d.get_xlabel()) == ("p", "d")
    drawn = lines(by_p)
    assert by_p.get_legend().get_title().get_text() == "d"
    assert sorted(drawn) == ["12 (n = 3 per point)", "8 (n = 3 per point)"]
    for d in (8, 12):
        x, y = drawn[f"{d} (n = 3 per point)"]
        means = raw[raw["d"] == d].groupby("p")["n_circles"].mean()
        assert list(x) == means.index.tolist() and list(y) == pytest.approx(means.tolist())
    assert sorted(lines(by_d)) == [f"{p} (n = 3 per point)" for p in (11, 13, 7)]
    for ax in fig.axes:
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        ys = np.concatenate([c.get_paths()[0].vertices[:, 1] for c in bands])
        assert ys.min() == 0 and ys.max() == 6  # clipped to 0 .. p//2 (13 // 2), reached at both ends
        dots = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections if isinstance(c, PathCollection)])
        assert sorted(dots) == sorted(raw["n_circles"].astype(float))  # integers: jittered sideways only
    plotting.plt.close(fig)


def test_one_varied_key_is_one_line_with_its_trial_count(trained, tmp_path, raw):
    trials, _ = jobs.load_trials([trained.copy(tmp_path, d=8)])
    fig = sweep_figures.circles(trials)
    (ax,) = fig.axes
    (label, (x, y)), = lines(ax).items()
    assert label == "mean, 95 % CI (n = 3 per point)" and list(x) == [7, 11, 13]
    assert "d = 8" in fig.get_suptitle()
    dots = ax.collections[0].get_offsets()
    assert np.abs(dots[:, 0] - trials["p"].to_numpy()).max() <= sweep_figures.JITTER * 4 / 2  # gap 11 - 7 = 4
    assert ax.get_ylim()[0] == 0  # no room below the fewest circles there can be
    plotting.plt.close(fig)


def test_circles_of_a_single_condition_is_refused(trained, tmp_path):
    trials, _ = jobs.load_trials([trained.copy(tmp_path, p=7, d=8)])
    with pytest.raises(ValueError, match="one condition"):
        sweep_figures.circles(trials)


def test_text_and_wide_keys_get_category_and_log_axes(trained):
    trials, _ = jobs.load_trials([trained.root])
    decay = {7: 1e-4, 11: 1e-2, 13: 1.0}  # stand-ins: the axis follows the values, not the key
    relabelled = trials.assign(**{"optimizer.weight_decay": trials["p"].map(decay),
                                  "model.mlp_init": trials["d"].map({8: "default", 12: "normal"})})
    fig = sweep_figures.circles(relabelled, keys=["optimizer.weight_decay", "model.mlp_init"])
    wd, init = fig.axes
    assert wd.get_xscale() == "log" and init.get_xscale() == "linear"
    assert [t.get_text() for t in init.get_xticklabels()] == ["default", "normal"]
    x, _ = lines(init)["0.0001 (n = 3 per point)"]
    assert list(x) == [0, 1]
    plotting.plt.close(fig)


def test_survival_has_a_panel_per_p_with_the_rates_of_the_files(trained, raw):
    trials, _ = jobs.load_trials([trained.root])
    fig = sweep_figures.frequency_survival(trials)
    assert [ax.get_title() for ax in fig.axes] == ["p = 7", "p = 11", "p = 13"]
    assert fig.axes[0].get_legend().get_title().get_text() == "d"
    for ax, p in zip(fig.axes, (7, 11, 13)):
        for d in (8, 12):
            x, y = lines(ax)[f"{d}, n = 3"]
            rows = raw[(raw["p"] == p) & (raw["d"] == d)]
            expected = [np.mean([k in c for c in rows["circles"]]) for k in range(1, p // 2 + 1)]
            assert list(x) == list(range(1, p // 2 + 1)) and list(y) == pytest.approx(expected)
    plotting.plt.close(fig)


def test_signals_has_a_panel_per_trial_of_one_job(trained):
    trials, _ = jobs.load_trials([trained.root])
    job = trials["job"].iloc[0]
    fig = sweep_figures.signals(figdata.job_signals(trials), trials)
    assert "trials 0-2 of 3" in fig.get_suptitle() and job.split("/")[-1] in fig.get_suptitle()
    raw = pd.read_parquet(f"{job}/signals.parquet")
    circles = pd.read_parquet(f"{job}/trials.parquet").set_index("trial")["circles"]
    assert len(fig.axes) == 3
    for trial, ax in enumerate(fig.axes):
        alive = sorted(circles[trial])
        assert ax.get_title() == f"trial {trial}: {len(alive)} circle{'s' * (len(alive) != 1)}"
        assert sorted(lines(ax)) == sorted(f"k = {k}" for k in alive)
        k = alive[0]
        x, y = lines(ax)[f"k = {k}"]
        one = raw[(raw["trial"] == trial) & (raw["k"] == k) & (raw["step"] > 0)]
        assert list(x) == one["step"].tolist() and list(y) == pytest.approx(one["signal"].tolist())
    plotting.plt.close(fig)


def test_survival_of_many_moduli_is_one_image_of_the_rates(tmp_path):
    ps = list(range(11, 29, 2))  # 9 values of p: more than MAX_LINES
    for p in ps:  # planted: trial 0 keeps k = 1, trial 1 keeps k = 1 and 2
        cfg = synthetic.config(p=p, d=8, trials=2)
        synthetic.write_job(tmp_path / str(p), synthetic.trials_table(cfg, [[1], [1, 2]], np.ones((2, p // 2 + 1))))
    trials, _ = jobs.load_trials([tmp_path])
    fig = sweep_figures.frequency_survival(trials)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (9, 13)  # a row per p, a column per k = 1 .. 27 // 2
    for row, p in enumerate(ps):
        assert list(image[row, :2]) == [1.0, 0.5] and (image[row, 2:p // 2] == 0).all()
        assert image.mask[row, p // 2:].all()  # no such k
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [str(p) for p in ps]
    plotting.plt.close(fig)


def test_trials_where_no_frequency_stands_out_are_named_in_the_title():
    p = 7
    trials = pd.DataFrame({
        "sweep": "s", "job": ["a", "a", "b", "b"], "trial": [0, 1, 0, 1], "p": p, "d": 8, "steps": 10,
        "optimizer.weight_decay": [0.0, 0.0, 0.5, 0.5], "circles.rule": "two_mean", "circles.threshold": np.nan,
        "n_circles": [0, 0, 1, 0], "circles": [[], [], [2], []], "init_signal": [[1.0] * 4] * 4,
        # wd 0: every k ends at ~100, none stands out; wd 0.5: one survivor, or all died
        "final_signal": [[1.0, 100, 90, 110], [1.0, 95, 100, 105], [1.0, 2, 50, 3], [1.0, 2, 3, 1]]})
    assert figdata.none_stand_out(trials) == 2
    fig = sweep_figures.circles(trials, ["optimizer.weight_decay"])
    assert fig.get_suptitle().endswith("\n2 of 4 trials: 0 circles under 2 x mean, yet most frequencies end "
                                       "above 10 (all survived: none stands out)")
    plotting.plt.close(fig)
