import math

import pytest
import torch
from torch import nn

from circle_survival.config import AddTask, CrossEntropyConfig, MSEConfig, SumMLPConfig
from circle_survival.loss import make_loss
from circle_survival.models import FAMILIES, init_params, training_path
from circle_survival.models.generic import GenericPath
from circle_survival.models.mlp import FastPath, _sum_rows, _sum_rows_sorted, shapes
from circle_survival.plain import PlainModel, plain_loss

SUM_MLPS = [SumMLPConfig(width=12, depth=depth, activation=act)
            for depth, act in ((1, "relu"), (2, "tanh"), (3, "silu"))]
# Seed 002's task with either loss (p = 10: 19 classes; mse: 7 outputs here)
ADD_MSE = {"p": 10, "task": AddTask(train_count=45), "loss": MSEConfig(target_dim=7)}
ADD_CE = {"p": 10, "task": AddTask(train_count=45), "loss": CrossEntropyConfig(scale=19.0)}


def test_trial_depends_only_on_seed_and_index(tiny_cfg):
    full = init_params(tiny_cfg(trials=4), [0, 1, 2, 3])
    part = init_params(tiny_cfg(trials=2, trial_offset=2), [2, 3])
    for name in full:
        assert torch.equal(full[name][2:], part[name])
    assert not torch.equal(full["E"][0], full["E"][1])
    other_seed = init_params(tiny_cfg(seed=1), [0])
    assert not torch.equal(other_seed["E"][0], full["E"][0])


def test_parts_not_varied_come_from_init_seed(tiny_cfg):
    cfg = tiny_cfg(vary=["mlp", "split"])
    p = init_params(cfg, [0, 1, 2])
    assert torch.equal(p["E"][0], p["E"][1]) and torch.equal(p["E"][0], p["E"][2])
    assert not torch.equal(p["W1"][0], p["W1"][1])
    # the fixed embedding changes with init_seed, not with seed
    assert torch.equal(init_params(tiny_cfg(vary=["mlp"], seed=5), [0])["E"][0], p["E"][0])
    assert not torch.equal(init_params(tiny_cfg(vary=["mlp"], init_seed=1), [0])["E"][0], p["E"][0])


def test_default_and_normal_init(tiny_cfg):
    cfg = tiny_cfg(trials=8)
    p = init_params(cfg, list(range(8)))
    for layer, fan_in in (("1", 2 * cfg.d), ("2", 16), ("3", 16)):
        bound = 1 / math.sqrt(fan_in)
        assert p["W" + layer].abs().max() <= bound and p["b" + layer].abs().max() <= bound
        assert p["W" + layer].abs().max() > 0.9 * bound  # uniform fills the range
    assert abs(p["E"].std().item() - 1) < 0.1
    normal = init_params(tiny_cfg(trials=8, **{"model.mlp_init": "normal"}), list(range(8)))
    assert abs(normal["W2"].std().item() - 1) < 0.1 and normal["W2"].abs().max() > 2
    assert {k: tuple(v.shape[1:]) for k, v in p.items()} == shapes(cfg)


def test_embedding_init_uniform_and_scaled(tiny_cfg):
    normal = init_params(tiny_cfg(trials=4), [0, 1, 2, 3])["E"]
    # seed 002: U(-s/2, s/2) with s = 1 from the same generator as the normal draw
    uniform = init_params(tiny_cfg(trials=4, **{"model.embedding_init": "uniform"}), [0, 1, 2, 3])["E"]
    assert 0.45 < uniform.max() < 0.5 and -0.5 < uniform.min() < -0.45
    assert abs(uniform.var().item() - 1 / 12) < 0.02
    scaled = init_params(tiny_cfg(trials=4, **{"model.embedding_scale": 3.0}), [0, 1, 2, 3])["E"]
    torch.testing.assert_close(scaled, 3 * normal, rtol=0, atol=0)


@pytest.mark.parametrize("mc", SUM_MLPS)
def test_sum_mlp_shapes_and_init(tiny_cfg, mc):
    cfg = tiny_cfg(model=mc)
    params = init_params(cfg, [0, 1])
    widths = [cfg.d] + [12] * mc.depth + [cfg.p]
    expected = {"E": (cfg.p, cfg.d)}
    for i in range(1, mc.depth + 2):
        expected[f"W{i}"], expected[f"b{i}"] = (widths[i], widths[i - 1]), (widths[i],)
    assert {k: tuple(v.shape[1:]) for k, v in params.items()} == expected
    assert params["W1"].abs().max() <= 1 / math.sqrt(cfg.d)  # nn.Linear's bound, fan_in d
    # the embedding is drawn as the paper model's: a family changes the decoder only
    assert torch.equal(params["E"], init_params(tiny_cfg(), [0, 1])["E"])


def test_mlp_forward_equals_nn_sequential(tiny_cfg):
    # An independent definition of the paper's model: nn.Linear layers on concat(E_a, E_b).
    cfg = tiny_cfg()
    params = init_params(cfg, [0, 1, 2])
    a, b = torch.randint(0, cfg.p, (3, 20)), torch.randint(0, cfg.p, (3, 20))
    batched = FastPath(cfg).forward(params, a, b)
    for t in range(3):
        mlp = nn.Sequential(nn.Linear(2 * cfg.d, 16), nn.SiLU(), nn.Linear(16, 16), nn.SiLU(),
                            nn.Linear(16, cfg.p)).double()
        with torch.no_grad():
            for i, layer in zip("123", mlp[::2]):
                layer.weight.copy_(params["W" + i][t])
                layer.bias.copy_(params["b" + i][t])
        E = params["E"][t]
        expected = mlp(torch.cat([E[a[t]], E[b[t]]], -1)).detach()
        torch.testing.assert_close(batched[t], expected, atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(PlainModel(cfg, params, t)(a[t], b[t]).detach(), expected,
                                   atol=1e-12, rtol=1e-12)


def _batch(cfg, trials=3, n=30):
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randint(0, cfg.p, (trials, n), generator=gen) for _ in range(2))  # repeats rows
    return a, b, (a + b) % cfg.task.n_classes(cfg.p)  # labels in range for either task


@pytest.mark.parametrize("kind, extra, outputs", [
    ("mlp", {}, 11), ("mlp", ADD_MSE, 7), ("sum_mlp", ADD_CE, 19), ("sum_mlp", ADD_MSE, 7)])
def test_output_size_is_what_the_loss_needs(tiny_cfg, kind, extra, outputs):
    cfg = tiny_cfg(**({"model": SUM_MLPS[0]} if kind == "sum_mlp" else {}), **extra)
    last = len(FAMILIES[kind].shapes(cfg)) // 2  # W1, b1, ..., W_last, b_last after E
    assert FAMILIES[kind].shapes(cfg)[f"W{last}"][0] == outputs
    a, b, _ = _batch(cfg)
    assert training_path(cfg).forward(init_params(cfg, [0, 1, 2]), a, b).shape == (3, 30, outputs)


@pytest.mark.parametrize("extra", [{}, ADD_MSE, ADD_CE], ids=["mod_add_ce", "add_mse", "add_ce19"])
def test_hand_written_backward_equals_generic(tiny_cfg, extra):
    cfg = tiny_cfg(**extra)
    params = init_params(cfg, [0, 1, 2])
    a, b, y = _batch(cfg)
    fast, generic = FastPath(cfg), GenericPath(cfg.model, FAMILIES["mlp"].forward, make_loss(cfg))
    loss, logits, grads = fast.loss_and_grads(params, fast.prepare(a, b, y))
    g_loss, g_logits, g_grads = generic.loss_and_grads(params, generic.prepare(a, b, y))
    assert set(grads) == set(g_grads) == set(params)
    torch.testing.assert_close(loss, g_loss, atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(logits, g_logits, atol=1e-12, rtol=1e-12)
    for k in params:
        torch.testing.assert_close(grads[k], g_grads[k], atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("mc, extra", [(None, {}), *((mc, {}) for mc in SUM_MLPS), (SUM_MLPS[1], ADD_MSE),
                                       (SUM_MLPS[1], ADD_CE), (None, ADD_MSE)],
                         ids=["mlp", "sum1_relu", "sum2_tanh", "sum3_silu", "sum2_add_mse", "sum2_add_ce19",
                              "mlp_add_mse"])
def test_generic_backward_equals_autograd_of_plain_loop(tiny_cfg, mc, extra):
    cfg = tiny_cfg(backward="generic", **({"model": mc} if mc else {}), **extra)
    params = init_params(cfg, [0, 1, 2])
    a, b, y = _batch(cfg)
    path = training_path(cfg)
    assert isinstance(path, GenericPath)
    # Into given buffers (as the trainer's optimizer reads them), whatever they held:
    buffers = {k: torch.full_like(v, float("nan")) for k, v in params.items()}
    loss, logits, grads = path.loss_and_grads(params, path.prepare(a, b, y), out=buffers)
    assert all(grads[k] is buffers[k] for k in params)
    for t in range(3):
        plain = PlainModel(cfg, params, t)
        plain_logits = plain(a[t], b[t])
        reference = plain_loss(make_loss(cfg), plain_logits, y[t])
        reference.backward()
        torch.testing.assert_close(loss[t], reference.detach(), atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(logits[t], plain_logits.detach(), atol=1e-12, rtol=1e-12)
        if cfg.loss.kind == "cross_entropy":  # and the usual cross-entropy agrees at these losses
            usual = nn.functional.cross_entropy(plain_logits, y[t]) / cfg.loss.scale
            assert abs(usual.item() - loss[t].item()) < 1e-12
        for name, value in plain.weights.items():
            assert grads[name][t].shape == value.shape
            torch.testing.assert_close(grads[name][t], value.grad, atol=1e-12, rtol=1e-12)


def test_backward_choice(tiny_cfg):
    assert isinstance(training_path(tiny_cfg()), FastPath)
    assert isinstance(training_path(tiny_cfg(backward="generic")), GenericPath)
    assert isinstance(training_path(tiny_cfg(model=SUM_MLPS[0])), GenericPath)  # no fast path
    # the hand-written path takes any loss: its backward starts from the loss's gradient
    assert isinstance(training_path(tiny_cfg(**ADD_MSE)), FastPath)


def test_gpu_row_sums_equal_cpu_row_sums():
    # The GPU's deterministic scatter, run on the CPU against the CPU's index_add_.
    gen = torch.Generator().manual_seed(1)
    dz = torch.randn(40, 5, generator=gen, dtype=torch.float64)
    rows = torch.randint(0, 12, (40, 2), generator=gen)
    expected = torch.zeros(12, 5, dtype=torch.float64)
    for i, (r0, r1) in enumerate(rows.tolist()):
        expected[r0] += dz[i]
        expected[r1] += dz[i]
    torch.testing.assert_close(_sum_rows(dz, rows, 12), expected, atol=1e-12, rtol=0)
    torch.testing.assert_close(_sum_rows_sorted(dz, rows, 12), expected, atol=1e-12, rtol=0)
