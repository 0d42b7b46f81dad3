import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

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


def raw_counts(trained) -> dict:
    """{(p, d): [n_circles, ...]} read straight from each job's trials.parquet."""
    out = {}
    for job in trained.jobs:
        table = pd.read_parquet(job / "trials.parquet")
        out[(int(table["p"].iloc[0]), int(table["d"].iloc[0]))] = table["n_circles"].tolist()
    return out


def test_circle_intervals_are_clipped_to_the_possible_counts(trained):
    trials, _ = jobs.load_trials([trained.root])
    table = groups.summarise(trials, ["p", "d"]).set_index(["p", "d"])
    crossed = set()
    for (p, d), counts in raw_counts(trained).items():
        x = np.array(counts, dtype=float)
        half = st.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        lo, hi = x.mean() - half, x.mean() + half
        crossed |= {"below 0"} if lo < 0 else set()
        crossed |= {"above p//2"} if hi > p // 2 else set()
        row = table.loc[(p, d)]
        assert row["mean"] == pytest.approx(x.mean())
        assert (row["t_lo"], row["t_hi"]) == pytest.approx((max(lo, 0), min(hi, p // 2)))
    assert crossed == {"below 0", "above p//2"}  # the data reaches both ends


def test_by_sweep_names_groups_as_the_trainer_names_their_folders(trained, figure_data):
    trials, _ = jobs.load_trials([trained.root])
    assert list(groups.by_sweep(trials)) == ["adhoc"] and len(groups.by_sweep(trials)["adhoc"]) == 18
    named, _ = jobs.load_trials([figure_data.root / "fig5_top", figure_data.root / "fig7"])
    named.loc[named["sweep"] == "fig7", "scale"] = "smoke"
    parts = groups.by_sweep(named)
    assert {name: len(part) for name, part in parts.items()} == {"fig5_top": 18, "fig7-smoke": 30}


def test_fixed_values_without_columns_lists_every_shared_setting(trained, tmp_path):
    trials, _ = jobs.load_trials([trained.copy(tmp_path, d=8)])
    fixed = groups.fixed_values(trials)
    for setting in ("d = 8", "steps = 300", "trials = 3", "circles.rule = threshold", "circles.threshold = 6",
                    "freeze_embedding = False", "optimizer.eps = 1e-08", "perturbation.kind = none"):
        assert setting in fixed
    assert not [f for f in fixed if f.startswith(("p = ", "perturbation.alpha", "perturbation.ks"))]
    assert fixed.index("d = 8") < fixed.index("steps = 300") < fixed.index("optimizer.lr = 0.01")  # schema order
