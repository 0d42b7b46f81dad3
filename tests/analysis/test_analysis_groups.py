import numpy as np
import pytest

from analysis import groups, jobs


def test_varying_keys_ignore_shards_and_seeds(planted):
    trials, _ = jobs.load_trials([planted.root])
    # seed, trial_offset and trials also vary, but only split one condition into jobs;
    # perturbation.ks varies too but goes with perturbation.kind
    assert groups.varying_keys(trials) == ["p", "perturbation.kind"]


def test_summarise_known_answers(planted):
    trials, _ = jobs.load_trials([planted.root])
    table = groups.summarise(trials, groups.varying_keys(trials)).set_index(["p", "perturbation.kind"])
    row = table.loc[(11, "none")]  # n_circles 1, 2, 3, 2 and 2, 2 over two shards
    assert (row["n"], row["mean"], row["sd"]) == pytest.approx((6, 2, np.sqrt(0.4)))
    half = 2.570582 * np.sqrt(0.4) / np.sqrt(6)
    assert (row["t_lo"], row["t_hi"]) == pytest.approx((2 - half, 2 + half), abs=1e-5)
    assert row["boot_lo"] >= 1 and row["boot_hi"] <= 3
    for kind in ("none", "scale"):
        row = table.loc[(13, kind)]
        assert (row["n"], row["mean"], row["t_lo"], row["t_hi"], row["boot_lo"]) == (5, 3, 3, 3, 3)


def test_summarise_without_keys_is_one_group(planted):
    trials, _ = jobs.load_trials([planted.root])
    table = groups.summarise(trials, [])
    assert table["n"].tolist() == [16] and table["mean"].iloc[0] == pytest.approx(42 / 16)
