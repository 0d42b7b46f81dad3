import math

import torch

from circle_survival.model import (_sum_rows, _sum_rows_sorted, forward, init_params, layer_shapes,
                                   loss_and_grads, pair_rows)
from circle_survival.reference import PlainModel


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
    assert {k: tuple(v.shape[1:]) for k, v in p.items()} == layer_shapes(cfg)


def test_vectorised_forward_equals_plain_module(tiny_cfg):
    cfg = tiny_cfg()
    params = init_params(cfg, [0, 1, 2])
    a = torch.randint(0, cfg.p, (3, 20))
    b = torch.randint(0, cfg.p, (3, 20))
    out = forward(params, a, b)
    for t in range(3):
        plain = PlainModel.from_params(params, t)(a[t], b[t])
        torch.testing.assert_close(out[t], plain, atol=1e-12, rtol=1e-12)


def test_hand_written_gradients_equal_autograd_of_plain_module(tiny_cfg):
    cfg = tiny_cfg()
    params = init_params(cfg, [0, 1, 2])
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randint(0, cfg.p, (3, 30), generator=gen) for _ in range(2))  # repeats rows
    y = (a + b) % cfg.p
    rows = pair_rows(a, b, cfg.p)
    loss, logits, grads = loss_and_grads(params, rows, y)
    assert set(grads) == set(params)
    # Into given buffers (as the trainer's optimizer reads them), whatever they held:
    buffers = {k: torch.full_like(v, float("nan")) for k, v in params.items()}
    _, _, into = loss_and_grads(params, rows, y, out=buffers)
    for k in params:
        assert into[k] is buffers[k] and torch.equal(into[k], grads[k])
    for t in range(3):
        plain = PlainModel.from_params(params, t)
        plain_loss = torch.nn.functional.cross_entropy(plain(a[t], b[t]), y[t])
        plain_loss.backward()
        torch.testing.assert_close(loss[t], plain_loss.detach(), atol=1e-12, rtol=1e-12)
        torch.testing.assert_close(logits[t], plain(a[t], b[t]).detach(), atol=1e-12, rtol=1e-12)
        for name, value in plain.named_stack().items():
            assert grads[name][t].shape == value.shape
            torch.testing.assert_close(grads[name][t], value.grad, atol=1e-12, rtol=1e-12)


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
