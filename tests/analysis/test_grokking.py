import numpy as np
import pandas as pd
import pytest

from analysis import (figdata, figures, grokking_claims, grokking_data, grokking_figures, grokking_regions, jobs,
                      paper_check, phases, plotting, synthetic)

STEPS = {"comprehension": (100, 500), "grokking": (100, 5000), "memorization": (100, None), "confusion": (None, None)}
LRS = [1e-5, 3.98e-5, 1e-4, 2.51e-4, 1e-3, 1e-2]


def planted_grid(directory, figure, ys, seeds=2):
    """A job whose every trial is in the phase the authors report for its cell (confusion where they say nothing)."""
    spec = grokking_regions.FIGURES[figure]
    cells = [(x, y) for x in LRS for y in ys] * seeds
    x, y = np.array(cells).T
    wanted = [w if w != grokking_regions.ANY else "confusion" for w in grokking_regions.expected(figure, x, y)]
    columns = {spec.x: list(x), spec.y: list(y),
               "train_acc_step": [STEPS[w][0] for w in wanted], "test_acc_step": [STEPS[w][1] for w in wanted]}
    synthetic.grokking_job(directory, spec.sweep, columns)


def linear(p=10, slope=0.3):
    return (slope * np.arange(p) - 1.0)[:, None]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("grokking")
    planted_grid(root / "fig6b", "fig6b", [0.0, 2.0, 6.0, 10.0])
    planted_grid(root / "fig6c", "fig6c", [0.0, 4.0, 10.0, 20.0])
    rng = np.random.default_rng(0)
    # fig3: trial 0 learns a line, trial 1 stays random; fractions 0.4 and 0.8 (22 and 44 pairs)
    E0 = [np.stack([rng.uniform(-0.5, 0.5, (10, 1)), linear()]), np.stack([rng.uniform(-0.5, 0.5, (10, 1))] * 2)]
    E0 += [np.stack([rng.uniform(-0.5, 0.5, (10, 1)), linear(slope=-0.2)]) for _ in range(2)]
    # trials 4-7 (no embedding): RQI > 0.95 at steps 666, 1000 (fraction 0.4) and 333, 333 (0.8)
    synthetic.grokking_job(root / "fig3", "grokking_fig3", {
        "train_pairs": [list(range(22)), list(range(22)), list(range(44)), list(range(11, 55))]
        + [list(range(22))] * 2 + [list(range(44))] * 2,
        "final_train_acc": [1.0] * 8, "final_test_acc": [1.0, 0.0, 1.0, 1.0] + [1.0] * 4,
    }, embeddings=dict(enumerate(E0)), rqi={0: [0.1, 0.5, 0.96, 1.0], 1: [0.1, 0.1, 0.2, 0.2],
                                            2: [0.2, 0.97, 1.0, 1.0], 3: [0.99, 1.0, 1.0, 1.0],
                                            4: [0.0, 0.2, 0.96, 1.0], 5: [0.0, 0.1, 0.5, 0.99],
                                            6: [0.2, 0.97, 1.0, 1.0], 7: [0.1, 0.96, 1.0, 1.0]})
    return root


def test_samples_and_training_masks():
    a, b, y = grokking_data.samples("add", 10)
    assert len(y) == 55 and (a[1].item(), b[1].item()) == (0, 1) and (a[10].item(), b[10].item()) == (1, 1)
    assert len(grokking_data.samples("mod_add", 5)[2]) == 25
    row = pd.Series({"task.kind": "add", "p": 4, "train_pairs": "0,3,9"})
    assert grokking_data.train_mask(row).nonzero()[0].tolist() == [0, 3, 9]
    row["train_pairs"] = [1, 2]
    assert grokking_data.train_mask(row).nonzero()[0].tolist() == [1, 2]


def test_quality_and_steps_to_high_rqi(root):
    trials, _ = jobs.load_trials([root / "fig3"])
    quality = grokking_data.quality(trials).set_index("trial")
    # the first 22 pairs hold every label 0..10 and none above: a line links the 35 samples
    # with labels 0..10 to training pairs, the 20 with labels 11..18 to none
    assert quality.loc[0, "rqi"] == 1.0 and quality.loc[0, "predicted_acc"] == pytest.approx(35 / 55)
    # the first 44 pairs reach label 13 at most: of the other 11 only (6,6) and (6,7) are linked
    assert quality.loc[2, "predicted_acc"] == pytest.approx(46 / 55)
    assert quality.loc[1, "rqi"] < 0.3 and quality.loc[1, "predicted_acc"] < 35 / 55
    assert quality.loc[0, "train_frac"] == pytest.approx(22 / 55)
    assert quality.loc[1, "acc"] == pytest.approx(22 / 55)  # train 1.0 on 22 pairs, test 0.0 on 33
    reach = grokking_data.steps_to_rqi(trials).set_index("trial")["step"]
    assert reach[0] == 666 and np.isnan(reach[1]) and reach[2] == 333 and reach[3] == 0


def test_flow_and_run_start_together_and_the_flow_keeps_its_norm(root):
    trials, _ = jobs.load_trials([root / "fig3"])
    steps, E = grokking_data.embeddings(trials.head(1))[(str(root / "fig3"), 0)]
    run_steps, run, flow_steps, flow = grokking_data.flow_and_run(trials.iloc[0], steps, E, points=50)
    np.testing.assert_allclose(flow[0], run[0])
    assert flow_steps[0] == 0 and flow_steps[-1] <= steps[-1] and len(flow_steps) == len(flow) <= 51
    np.testing.assert_allclose((flow ** 2).sum((1, 2)), (run[0] ** 2).sum(), rtol=1e-6)


def test_phase_diagrams_agree_with_planted_regions(root):
    trials, _ = jobs.load_trials([root])
    sweeps = figdata.Sweeps(trials)
    rows = {c.claim.split(" (")[0]: c for c in grokking_claims.check_all(sweeps)}
    assert rows["phase regions of Fig. 6b"].agree and rows["phase regions of Fig. 6b"].ours.startswith("100% of trials")
    assert rows["phase regions of Fig. 6c"].agree
    cells = grokking_claims.region_cells(sweeps["grokking_fig6b"], "fig6b")
    said = cells[cells["expected"] != "any"]
    assert (said["share"] == 1.0).all() and len(said) > 5


def test_claims_of_seed_002(root):
    trials, _ = jobs.load_trials([root])
    rows, problems, _ = paper_check.check(trials)
    assert problems == []
    mine = [r for r in rows if r.source == grokking_claims.PAPER]
    critical = next(r for r in mine if r.claim.startswith("critical training fraction"))
    assert 0.3 < float(critical.ours) < 0.5
    falls = next(r for r in mine if r.claim.startswith("steps to RQI"))
    assert falls.n == 7 and falls.agree  # 666, 666, 1000 at 0.4; 333, 0, 333, 333 at 0.8
    assert falls.ours.startswith("7 of 8 runs reach RQI > 0.95")
    text = paper_check.markdown(rows)
    assert f"## {grokking_claims.PAPER}" in text


def test_seed_001_data_gets_no_seed_002_rows_or_figures(planted):
    trials, _ = jobs.load_trials([planted.root])
    assert grokking_claims.check_all(figdata.Sweeps(trials)) == []
    assert not any(name.startswith("grokking") for name in figures.absent(trials))


def test_figures_bind_and_draw(root, tmp_path):
    assert figures.bind("grokking_fig6b") == ("grokking_fig6b", "grokking_fig6b")
    assert figures.bind("grokking_fig3") == ("grokking_fig3", "grokking_fig3")
    drawn, not_drawn = figures.draw_all([root], tmp_path)
    names = {path.stem for path, _ in drawn}
    assert {"grokking_fig3", "grokking_fig4", "grokking_fig6b", "grokking_fig6c"} <= names, not_drawn
    assert (tmp_path / "grokking_fig6b.png").stat().st_size > 0


def test_figure_functions_draw_non_empty_axes(root):
    trials, _ = jobs.load_trials([root])
    sweeps = figdata.Sweeps(trials)
    with plotting.styled():
        for name, draw in grokking_figures.FIGURES.items():
            if not figures.available(name, sweeps):
                continue
            fig = draw(sweeps)
            assert all(plotting.has_data(ax) for ax in fig.axes if ax.get_label() != "<colorbar>"), name
            plotting.plt.close(fig)
