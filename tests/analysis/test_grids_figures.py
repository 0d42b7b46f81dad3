import numpy as np
import pandas as pd

from analysis import grids, grids_figures, plotting


def test_frequency_draws_rates_of_0_and_1_with_their_intervals():
    # 0 of 64 and 64 of 64: Wilson bounds round a hair past the rate; the bars must still draw
    table = pd.DataFrame({"structure": ["neither"] * 64 + ["grid"] * 3 + ["neither"] * 61,
                          "weight_decay": [0.0] * 64 + [1.0] * 64})
    freq = grids.frequencies(table, ["weight_decay"])
    with plotting.styled():
        fig = grids_figures.frequency(freq, "weight_decay")
        lines = {c.get_label(): np.asarray(c.lines[0].get_ydata(), dtype=float) for c in fig.axes[0].containers}
    np.testing.assert_allclose(lines["neither"], [1.0, 61 / 64])
    np.testing.assert_allclose(lines["circle"], [0.0, 0.0])
    assert fig.axes[0].get_title() == "n = 64 per point"
    plotting.plt.close(fig)


def test_snapshots_label_every_token():
    K = np.arange(5)
    emb = pd.DataFrame({"step": [0, 10], "E": [np.stack([K, K], 1) * 1.0, np.stack([K, -K], 1) * 1.0]})
    with plotting.styled():
        fig = grids_figures.snapshots(emb)
    ax = fig.axes[1]
    assert ax.get_title() == "step 10" and [t.get_text() for t in ax.texts] == ["0", "1", "2", "3", "4"]
    assert ax.texts[4].xy == (4.0, -4.0)
    plotting.plt.close(fig)
