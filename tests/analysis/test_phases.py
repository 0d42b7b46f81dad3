import numpy as np
import pandas as pd

from analysis import grokking_regions, phases


def test_table_1_on_hand_rows():
    train = [100, 100, 100, None, np.nan, 200]
    test = [500, 5000, None, None, 300, 150]
    assert phases.classify(train, test).tolist() == [
        "comprehension", "grokking", "memorization", "confusion", "confusion", "comprehension"]


def test_gap_is_configurable_and_inclusive():
    assert phases.classify([0], [1000]).tolist() == ["grokking"]
    assert phases.classify([0], [999]).tolist() == ["comprehension"]
    assert phases.classify([0], [1000], gap=5000).tolist() == ["comprehension"]


def test_grid_counts_and_majority():
    trials = pd.DataFrame({
        "lr": [1, 1, 1, 2, 2], "wd": [0, 0, 0, 0, 0],
        "train_acc_step": [10, 10, None, 10, 10], "test_acc_step": [20, 5000, None, None, 20],
    })
    cells = phases.grid(trials, "lr", "wd")
    assert cells[["lr", "wd", "n", "majority"]].values.tolist() == [[1, 0, 3, "comprehension"], [2, 0, 2, "comprehension"]]
    assert cells[list(phases.PHASES)].values.tolist() == [[1, 1, 0, 1], [1, 0, 1, 0]]


def test_reported_regions_of_fig6b():
    lr = [1e-5, 6.31e-5, 1e-4, 1.58e-4, 2.51e-4, 1e-4, 1e-4, 6.31e-4, 1e-2, 1e-2, 3.98e-5, 1e-4]
    wd = [0, 7, 2, 3, 6, 10, 4, 0, 10, 4, 8, 9]
    assert grokking_regions.expected("fig6b", lr, wd).tolist() == [
        "grokking", "grokking", "comprehension", "comprehension", "grokking", "memorization", "any",
        "memorization", "confusion", "any", "any", "grokking"]


def test_reported_regions_of_fig6c_and_6a():
    assert grokking_regions.expected("fig6c", [1e-5, 1.58e-5, 6.31e-4, 1e-3, 1e-4, 1e-4, 1e-2],
                                     [0, 4, 2, 2, 10, 20, 4]).tolist() == [
        "any", "comprehension", "comprehension", "memorization", "grokking", "memorization", "any"]
    # x = decoder lr, y = embedding lr
    assert grokking_regions.expected("fig6a", [1e-4, 1e-4, 1e-4, 1e-5, 1e-4], [1e-4, 3e-4, 1e-3, 1e-4, 3.98e-4]).tolist() == [
        "memorization", "memorization", "comprehension", "grokking", "any"]


def test_agreement_per_cell():
    trials = pd.DataFrame({
        "optimizer.decoder.lr": [1e-4] * 4 + [1e-5] * 2 + [1e-4],
        "optimizer.decoder.weight_decay": [0] * 4 + [0] * 2 + [4],
        "train_acc_step": [10, 10, 10, 10, 10, 10, 10], "test_acc_step": [20, 20, 20, 9000, 20, 20, 20],
    })
    cells = grokking_regions.agreement(phases.grid(trials, grokking_regions.LR, grokking_regions.WD), "fig6b")
    rows = cells.set_index([grokking_regions.LR, grokking_regions.WD])
    assert rows.loc[(1e-4, 0), "expected"] == "comprehension"
    assert rows.loc[(1e-4, 0), "share"] == 0.75 and rows.loc[(1e-4, 0), "majority_agrees"] == 1.0
    assert rows.loc[(1e-5, 0), "expected"] == "grokking"
    assert rows.loc[(1e-5, 0), "share"] == 0.0 and rows.loc[(1e-5, 0), "majority_agrees"] == 0.0
    assert rows.loc[(1e-4, 4), "expected"] == "any" and np.isnan(rows.loc[(1e-4, 4), "share"])
