import numpy as np
import pandas as pd
import pytest

from analysis import gradient, jobs, synthetic


def test_gradient_table_known_relative_gradients(tmp_path):
    p, n = 7, 2
    cfg = synthetic.config(p=p, trials=n)
    init = np.full((n, p // 2 + 1), 4.0)
    synthetic.write_job(tmp_path / "job", synthetic.trials_table(cfg, [[1], [2, 3]], init))
    trials = jobs.load_trials([tmp_path])[0]
    rate = {1: 0.5, 2: -0.25, 3: 0.0}  # planted: signal(i) = 4 (1 + rate_k i)
    rows = [(str(tmp_path / "job"), t, step, k, 4 * (1 + rate.get(k, 0.1) * step))
            for t in range(n) for step in range(6) for k in range(p // 2 + 1)]
    signals = pd.DataFrame(rows, columns=["job", "trial", "step", "k", "signal"])
    table = gradient.gradient_table(trials, signals).set_index(["trial", "k"])
    for step in (1, 2, 3, 4):
        assert table[f"g{step}"].xs(1, level="k").tolist() == pytest.approx([0.5, 0.5])
        assert table.loc[(0, 2), f"g{step}"] == pytest.approx(-0.25)
    assert table["survived"].tolist() == [True, False, False, False, True, True]
    assert (table["init_signal"] == 4).all()


def test_survival_vs_gradient_bins():
    table = pd.DataFrame({"g4": np.arange(100.0), "survived": np.arange(100) >= 50})
    curve = gradient.survival_vs_gradient(table, step=4, bins=4)
    assert curve["rate"].tolist() == [0, 0, 1, 1] and curve["n"].tolist() == [25] * 4


def test_gradient_ttest_known_answer():
    table = pd.DataFrame({"g4": [1.0, 2, 3, 4, 5, 6], "survived": [False] * 3 + [True] * 3})
    t, pvalue = gradient.gradient_ttest(table)
    assert t == pytest.approx(3 / np.sqrt(2 / 3))  # (5 - 2) / sqrt(1/3 + 1/3)
    assert pvalue == pytest.approx(0.02131, abs=1e-4)


def test_svm_accuracy_separable_and_noisy():
    rng = np.random.default_rng(0)
    g, s = rng.normal(size=500), rng.normal(size=500)
    table = pd.DataFrame({"g4": g, "init_signal": s, "survived": g + s > 0})
    svm = gradient.svm_accuracy(table)
    assert svm["accuracy"] > 0.97 and svm["n_test"] == 100
    flipped = table.assign(survived=table["survived"] ^ (rng.random(500) < 0.2))
    noisy = gradient.svm_accuracy(flipped)
    assert noisy["lo"] < 0.8 < noisy["hi"]  # 20 % label noise caps accuracy near 80 %
    assert gradient.svm_accuracy(flipped)["accuracy"] == noisy["accuracy"]  # fixed seed


def test_spike_finds_the_planted_peak_and_the_late_share():
    steps = np.r_[1:1000, 1000:3001:100]
    rows = [(s, k, (k + 1) * np.exp(-np.log(s / 120) ** 2)) for s in steps for k in (0, 1, 2)]
    grads = pd.DataFrame(rows, columns=["step", "k", "grad_signal"])
    peak, late = gradient.spike(grads)
    assert peak == 120  # k = 0 (DC) is left out, k = 1, 2 average to 2.5 x the bump
    assert late == pytest.approx(np.exp(-np.log(1000 / 120) ** 2), rel=1e-12)
    assert np.isnan(gradient.spike(grads[grads["step"] < 1000])[1])
