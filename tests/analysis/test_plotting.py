import numpy as np
import pytest

from analysis import jobs, plotting


def test_save_never_writes_an_empty_figure(tmp_path):
    fig, axes = plotting.figure(1, 3)
    plotting.note(axes[0, 0], "no data: run this")
    axes[0, 1].plot([], [])
    axes[0, 2].axvline(3)  # a reference line is no data
    with pytest.raises(plotting.EmptyFigure, match="every panel is empty"):
        plotting.save(fig, tmp_path / "empty")
    assert list(tmp_path.iterdir()) == []
    assert not plotting.plt.fignum_exists(fig.number)

    fig, axes = plotting.figure(1, 2)
    plotting.note(axes[0, 0], "no data")
    axes[0, 1].plot([1], [2], marker="o")  # one panel with one point is enough
    assert [p.name for p in plotting.save(fig, tmp_path / "one")] == ["one.png", "one.pdf"]


def test_trial_points_spread_sideways_and_keep_counts_exact(trained):
    trials, _ = jobs.load_trials([trained.root])
    fig, axes = plotting.figure()
    dots = plotting.trial_points(axes[0, 0], trials["p"], trials["n_circles"], width=0.6)
    x, y = dots.get_offsets().T
    assert y.tolist() == trials["n_circles"].astype(float).tolist()
    shift = x - trials["p"].to_numpy()
    assert np.abs(shift).max() <= 0.3 and np.abs(shift).min() > 0
    dots = plotting.trial_points(axes[0, 0], trials["p"], trials["n_circles"], width=0.5, log=True)
    ratio = dots.get_offsets()[:, 0] / trials["p"].to_numpy()
    assert np.abs(np.log10(ratio)).max() <= 0.25  # half a width, in decades
    plotting.plt.close(fig)


def test_one_point_gets_an_error_bar_from_lo_to_hi_not_an_invisible_band():
    fig, axes = plotting.figure()
    plotting.line_with_band(axes[0, 0], [0.018], [1.0], [0.72], [1.0])
    (bar,) = axes[0, 0].containers
    (segments,) = [c.get_segments() for c in bar.lines[2]]
    np.testing.assert_allclose(segments[0], [[0.018, 0.72], [0.018, 1.0]])
    fig, axes = plotting.figure()
    plotting.line_with_band(axes[0, 0], [1, 2], [1.0, 2.0], [0.5, 1.5], [1.5, 2.5])
    assert axes[0, 0].containers == [] and len(axes[0, 0].collections) == 1  # the band
    fig, axes = plotting.figure()
    plotting.line_with_band(axes[0, 0], [0.018], [1.0], [0.72], [1.0 - 1e-16])  # Wilson's hi, rounded
    (bar,) = axes[0, 0].containers
    assert bar.lines[2][0].get_segments()[0][1][1] == 1.0


def test_error_bars_of_rates_0_and_1_whose_bounds_round_past_them():
    # Fig 6 left at laptop scale: a rate of 0 whose Wilson lower bound is ~1e-17, not 0
    fig, axes = plotting.figure()
    bar = plotting.error_bars(axes[0, 0], [3.0, 5.0], [0.0, 1.0], [1e-17, 0.7], [0.3, 1.0 - 1e-16], fmt="o")
    (segments,) = [c.get_segments() for c in bar.lines[2]]
    np.testing.assert_allclose(segments, [[[3.0, 0.0], [3.0, 0.3]], [[5.0, 0.7], [5.0, 1.0]]])
