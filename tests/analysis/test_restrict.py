import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis import fourier, restrict


def random_model(p=7, d=4, width=5, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"E": (p, d), "W1": (width, 2 * d), "b1": (width,), "W2": (width, width),
              "b2": (width,), "W3": (p, width), "b3": (p,)}
    return {name: rng.normal(size=shape) for name, shape in shapes.items()}


def as_params(weights, trial=0, steps=(0, 100)):
    rows = [(trial, step, name, list(a.shape), a.ravel().tolist()) for step in steps for name, a in weights.items()]
    frame = pd.DataFrame(rows, columns=["trial", "step", "name", "shape", "values"])
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    return arrow.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_list(t) else None)


def test_zero_model_has_loss_log_p():
    w = {k: np.zeros_like(v) for k, v in random_model().items()}
    loss, acc = restrict.evaluate(w)
    assert loss == pytest.approx(np.log(7)) and acc == pytest.approx(1 / 7)  # argmax ties -> class 0


def test_logits_match_a_direct_pair_by_pair_computation():
    w = random_model()
    silu = lambda x: x / (1 + np.exp(-x))
    a, b = 3, 5
    h = silu(w["W1"] @ np.concatenate([w["E"][a], w["E"][b]]) + w["b1"])
    direct = w["W3"] @ silu(w["W2"] @ h + w["b2"]) + w["b3"]
    assert restrict.logits(w)[a, b] == pytest.approx(direct)


def test_bias_only_model_known_loss():
    # every pair gets logits b3 = (L, 0, ..., 0); each label occurs p times among p*p pairs
    p, L = 5, 3.0
    w = {k: np.zeros_like(v) for k, v in random_model(p=p).items()}
    w["b3"][0] = L
    loss, acc = restrict.evaluate(w)
    assert loss == pytest.approx(np.log(np.exp(L) + p - 1) - L / p)
    assert acc == pytest.approx(1 / p)


def test_snapshots_reshape_row_major_and_restriction_to_all_is_identity():
    w = random_model()
    params = as_params(w)
    snaps = restrict.snapshots(params)
    assert sorted(snaps) == [(0, 0), (0, 100)]
    assert snaps[(0, 100)]["W1"] == pytest.approx(w["W1"])
    curves = restrict.restricted_curves(params, trial=0, keep={"all": [1, 2, 3], "one": [2]})
    full_loss, _ = restrict.evaluate(w)
    assert curves.query("label == 'all'")["loss"].tolist() == pytest.approx([full_loss, full_loss])
    one = restrict.evaluate(w, fourier.keep_frequencies(w["E"], [2]))[0]
    assert curves.query("label == 'one'")["loss"].tolist() == pytest.approx([one, one])


@pytest.mark.parametrize("setting", [{"task.kind": "add"}, {"loss.kind": "mse"},
                                     {"model.kind": "sum_mlp"}, {"loss.scale": 19.0}])
def test_only_the_papers_setting_is_evaluated(setting):
    paper = pd.Series({"job": "j", "model.kind": "mlp", "task.kind": "mod_add",
                       "loss.kind": "cross_entropy", "loss.scale": 1.0})
    restrict.check_supported(paper)  # the paper's setting, and a row of an old job (no columns):
    restrict.check_supported(pd.Series({"job": "old"}))
    key, value = next(iter(setting.items()))
    with pytest.raises(ValueError, match=f"job j has {key}={value}"):
        restrict.check_supported(paper.copy().where(lambda s: s.index != key, value))
