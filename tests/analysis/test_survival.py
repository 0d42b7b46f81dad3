import numpy as np
import pandas as pd
import pytest

from analysis import jobs, survival, synthetic


def load(tmp_path, tables):
    for i, table in enumerate(tables):
        synthetic.write_job(tmp_path / str(i), table)
    return jobs.load_trials([tmp_path])[0]


def test_survival_rates_known_answers(planted):
    trials, _ = jobs.load_trials([planted.root])
    rates = survival.survival_rates(trials, ["p"]).set_index(["p", "k"])
    # p = 11: circles [1], [1,2], [1,2,3], [1,4], [1,5], [2,3]
    assert rates.loc[11, "survived"].tolist() == [5, 3, 2, 1, 1]
    assert (rates.loc[11, "n"] == 6).all()
    assert rates.loc[(11, 2), "rate"] == 0.5
    assert rates.loc[13, "rate"].tolist() == [1, 1, 1, 0, 0, 0]
    assert (rates.loc[13, "n"] == 10).all()
    lo, hi = rates.loc[(11, 2), ["lo", "hi"]]
    assert (lo, hi) == pytest.approx((0.18761, 0.81239), abs=1e-4)  # Wilson 3/6
    init = jobs.list_matrix(trials.query("p == 11")["init_signal"])
    assert rates.loc[11, "init_signal"].to_numpy() == pytest.approx(init[:, 1:].mean(axis=0))


def test_frequency_table_marks_survivors(planted):
    trials, _ = jobs.load_trials([planted.root])
    freq = survival.frequency_table(trials)
    assert len(freq) == 6 * 5 + 10 * 6 and freq["k"].min() == 1
    first = freq[freq["row"] == 0]
    assert first.loc[first["survived"], "k"].tolist() == list(trials["circles"].iloc[0])


def test_signal_correlation_known_answer():
    rates = pd.DataFrame({"init_signal": [1, 2, 3, 4, 5], "rate": [2, 1, 4, 3, 5]})
    r, pvalue, n = survival.signal_correlation(rates)
    assert (r, n) == (pytest.approx(0.8), 5)
    assert pvalue == pytest.approx(0.1040, abs=1e-3)


def test_perturbation_curve_known_x_and_rates(tmp_path):
    tables = []
    for alpha, survivors in ((0.5, 0), (1.0, 2), (2.0, 4)):
        cfg = synthetic.config(p=11, trials=4, vary="mlp,split",
                               **{"perturbation.kind": "scale", "perturbation.ks": [3], "perturbation.alpha": alpha})
        init = np.tile([0.0, 1, 1, 2 * alpha, 1, 1], (4, 1))  # recorded after scaling
        circles = [[3, 1]] * survivors + [[1]] * (4 - survivors)
        tables.append(synthetic.trials_table(cfg, circles, init))
    curve = survival.perturbation_curve(load(tmp_path, tables))
    mean_all = lambda a: 2 * (4 + 2 * a) / 11  # DC 0, k = 1..5 each twice
    assert curve["x"].to_numpy() == pytest.approx([2 * a - mean_all(a) for a in (0.5, 1.0, 2.0)])
    assert curve["rate"].tolist() == [0, 0.5, 1] and (curve["k"] == 3).all()
    assert curve["line"].tolist() == [0, 0, 0]


def test_construction_curve_reads_the_strongest_from_signals(tmp_path):
    tables = []
    for j, (r, second_survives) in enumerate(((0.1, [0, 0, 0, 1]), (1.0, [1, 1, 1, 1]))):
        cfg = synthetic.config(p=11, trials=4, vary="", trial_offset=4 * j,
                               **{"perturbation.kind": "construct", "perturbation.r": r})
        applied = [[2, 4], [4, 2], [2, 4], [4, 2]]  # order of the list must not matter
        init = np.zeros((4, 6))
        for i, (a, b) in enumerate(applied):
            init[i, a], init[i, b] = (80, 80 * r) if i % 2 == 0 else (80 * r, 80)
        strongest = [2, 2, 2, 2]
        circles = [[s, 6 - s] if keep else [s, 5] for s, keep in zip(strongest, second_survives)]
        tables.append(synthetic.trials_table(cfg, circles, init, applied=applied))
    curve = survival.construction_curve(load(tmp_path, tables)).set_index("r")
    assert curve["first_rate"].tolist() == [1, 1]
    assert curve["second_rate"].tolist() == [0.25, 1]
    assert curve["both_rate"].tolist() == [0.25, 1]
    assert curve.loc[0.1, "second_lo"] == pytest.approx(0.04558, abs=1e-4)  # Wilson 1/4
