"""The particle simulation: the effective loss's invariances, weight decay's known
effect on the centre, and systems independent of how they are batched."""
import numpy as np
import pytest
import torch

from circle_survival.config import ConfigError
from circle_survival.particles import (SimulateConfig, effective_loss, parallelograms, seen_weights,
                                       simulate, validate)

P = 17
K = np.arange(P)


def ring(omega):
    angle = 2 * np.pi * omega * K / P
    return torch.tensor(np.stack([np.cos(angle), np.sin(angle)], 1))[None]  # (1, P, 2)


def all_seen(p=P):
    return torch.ones(1, len(parallelograms(p)), dtype=torch.float64)


def test_parallelograms_of_5():
    q = parallelograms(5)
    assert len(q) == 15 and ((q[:, 0] + q[:, 1]) % 5 == (q[:, 2] + q[:, 3]) % 5).all()


def test_loss_is_invariant_to_translation_and_scale():
    q = torch.as_tensor(parallelograms(P))
    w = seen_weights(SimulateConfig(train_frac=0.6), parallelograms(P), np.arange(1))
    E = torch.randn(1, P, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    base = effective_loss(E, q, w)
    assert effective_loss(3.7 * E + torch.tensor([1.0, -2.0]), q, w) == pytest.approx(base.item(), rel=1e-12)


def test_line_holds_every_parallelogram_that_does_not_wrap():
    quads = parallelograms(P)
    no_wrap = torch.tensor((quads[:, 0] + quads[:, 1]) == (quads[:, 2] + quads[:, 3]), dtype=torch.float64)
    line = torch.tensor(np.stack([K, 0 * K], 1), dtype=torch.float64)[None]
    assert effective_loss(line, torch.as_tensor(quads), no_wrap[None]).item() == 0
    assert effective_loss(line, torch.as_tensor(quads), all_seen()).item() > 0


def test_every_circle_costs_the_same_with_every_pair_seen():
    # p prime: multiplying tokens by a unit permutes the parallelograms, so all frequencies
    # tie (README: why the simulation does not single out circles)
    q = torch.as_tensor(parallelograms(P))
    losses = [effective_loss(ring(w), q, all_seen()).item() for w in (1, 3, 8)]
    assert losses == pytest.approx([losses[0]] * 3, rel=1e-12)


def test_weight_decay_shrinks_the_centre_geometrically():
    # the gradient sums to zero over particles (translation invariance), so the centre
    # moves by weight decay alone: mean_t = (1 - lr wd)^t mean_0
    cfg = SimulateConfig(systems=3, steps=40, lr=0.2, weight_decay=0.5, every=20, train_frac=0.7)
    r = simulate(cfg)
    centre = r.positions.mean(axis=2)  # (L, S, 2)
    np.testing.assert_allclose(centre[-1], centre[0] * (1 - 0.2 * 0.5) ** 40, rtol=1e-9)
    still = simulate(SimulateConfig(systems=3, steps=40, lr=0.2, every=20, train_frac=0.7))
    np.testing.assert_allclose(still.positions.mean(axis=2)[-1], still.positions.mean(axis=2)[0], atol=1e-12)
    assert (still.loss[-1] < still.loss[0]).all()  # descent lowers the loss


def test_systems_do_not_depend_on_their_batch():
    whole = simulate(SimulateConfig(systems=4, steps=10, every=5))
    part = simulate(SimulateConfig(systems=2, system_offset=2, steps=10, every=5))
    np.testing.assert_allclose(part.positions, whole.positions[:, 2:], rtol=1e-12)
    assert list(part.systems) == [2, 3] and list(whole.steps) == [0, 5, 10]


def test_bad_values_name_key_and_range():
    with pytest.raises(ConfigError, match=r"train_frac=0.0; allowed: a number in \(0, 1\]"):
        validate(SimulateConfig(train_frac=0.0))
    with pytest.raises(ConfigError, match="weight_decay=-1"):
        validate(SimulateConfig(weight_decay=-1))
