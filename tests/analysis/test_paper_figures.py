import numpy as np
import pandas as pd

from analysis import figdata, jobs, paper_figures


def test_fig2_token_colours_have_a_key(trained, tmp_path):
    trials, _ = jobs.load_trials([trained.copy(tmp_path, p=11, d=8)])
    fig = paper_figures.fig2(figdata.Sweeps(trials.assign(sweep="fig2")))
    keys = [ax for ax in fig.axes if ax.get_ylabel() == paper_figures.TOKEN]
    assert len(keys) == 1
    assert keys[0].get_ylim() == (0, 10)  # tokens 0 .. p - 1
    paper_figures.plotting.plt.close(fig)


def test_fig5_trial_points_keep_their_integer_counts(trained):
    trials, _ = jobs.load_trials([trained.root])
    fig = paper_figures.fig5(figdata.Sweeps(trials.assign(sweep="fig5_top")))
    (dots,) = fig.axes[0].collections[:1]
    x, y = dots.get_offsets().T
    raw = pd.concat(pd.read_parquet(job / "trials.parquet") for job in trained.jobs)
    assert sorted(y) == sorted(raw["n_circles"].astype(float))  # jittered sideways only
    assert np.abs(x - np.round(x)).max() < 0.5 and set(np.round(x)) == {7, 11, 13}
    paper_figures.plotting.plt.close(fig)


def test_fig10_draws_circles_and_the_count_above_the_threshold(trained):
    trials, _ = jobs.load_trials([trained.root])
    p = trials["p"].to_numpy()
    # every frequency far above the threshold (6 here) at the small weight decay, one at the
    # large: the threshold line is p//2 then 1, whatever the circle rule counted
    wd = np.where(p == p.min(), 1e-4, 0.5)
    final = [np.r_[0.0, np.full(k // 2, 100.0)] if w < 0.1 else np.r_[0.0, 100.0, np.zeros(k // 2 - 1)]
             for k, w in zip(p, wd)]
    trials = trials.assign(sweep="fig10", **{"optimizer.weight_decay": wd, "final_signal": final})
    fig = paper_figures.fig10(figdata.Sweeps(trials))
    lines = {line.get_label().split(" (n")[0]: line.get_ydata() for line in fig.axes[0].get_lines()}
    assert list(lines["final signal > 6"]) == [p.min() // 2, 1]
    assert list(lines["circles (threshold)"]) == [trials.loc[wd == w, "n_circles"].mean() for w in (1e-4, 0.5)]
    paper_figures.plotting.plt.close(fig)


def test_fig11_takes_survival_from_fig5_bottoms_trained_runs(trained):
    trials, _ = jobs.load_trials([trained.root])
    alone = paper_figures.fig11(figdata.Sweeps(trials.assign(sweep="fig11")))
    assert "survival comes from fig5_bottom's trained runs" in alone.axes[1].texts[0].get_text()
    assert not alone.axes[1].patches  # no histogram of "dead" frequencies that were never trained
    paper_figures.plotting.plt.close(alone)
    both = pd.concat([trials.assign(sweep="fig11"), trials.assign(sweep="fig5_bottom")], ignore_index=True)
    fig = paper_figures.fig11(figdata.Sweeps(both))
    survived = sum(len(c) for c in trials["circles"])
    frequencies = int((trials["p"] // 2).sum())
    assert sorted(t.get_text() for t in fig.axes[1].get_legend().get_texts()) == [
        f"dead ({frequencies - survived})", f"survived ({survived})"]
    paper_figures.plotting.plt.close(fig)
