import numpy as np
import pytest
import torch

from circle_survival.fourier import (Settled, circle_list, circle_lists, half, settling_steps, spectrum,
                                    survivors, threshold_ratio)


def planted(p: int, d: int, ks: list[int], amp: float = 5.0, noise: float = 0.0, seed: int = 0):
    """An embedding (p, d) that is a sum of circles of frequencies ks (plus small noise)."""
    rng = np.random.default_rng(seed)
    n = np.arange(p)[:, None]
    E = noise * rng.standard_normal((p, d))
    for j, k in enumerate(ks):
        E[:, 2 * j] += amp * np.cos(2 * np.pi * k * n[:, 0] / p)
        E[:, 2 * j + 1] += amp * np.sin(2 * np.pi * k * n[:, 0] / p)
    return torch.tensor(E)


def test_spectrum_is_the_dft_norm_of_eq1():
    E = torch.randn(7, 5, dtype=torch.float64)
    n = torch.arange(7, dtype=torch.float64)
    for k in range(7):
        w = torch.exp(-2j * torch.pi * k * n / 7)
        F_k = (w[:, None] * E.to(torch.complex128)).sum(0)
        assert spectrum(E)[k].item() == pytest.approx(torch.linalg.vector_norm(F_k).item())


def test_spectrum_of_a_pure_circle():
    # cos and sin of frequency 3 on two axes: ||F_3|| = ||F_{p-3}|| = p / sqrt(2) * amp
    s = spectrum(planted(13, 4, [3], amp=2.0))
    expected = np.zeros(13)
    expected[[3, 10]] = 13 / np.sqrt(2) * 2.0
    np.testing.assert_allclose(s.numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("p", [13, 16, 15, 59])  # odd prime, even, odd composite, default
@pytest.mark.parametrize("rule", ["two_mean", "threshold"])
def test_rules_find_exactly_the_planted_frequencies(p, rule):
    ks = [3, 7] if p > 14 else [2, 5]
    s = spectrum(planted(p, 8, ks, noise=0.01))
    alive = survivors(s, rule, threshold=10.0)
    assert alive.shape == (p // 2 + 1,)
    assert circle_list(alive) == ks


def test_two_mean_counts_dc_in_the_mean():
    # Signals: DC large, k=1 moderate. Mean over 7 (incl. DC) = (70 + 2*10)/7 ~ 12.9, so
    # k = 1 (10) does not pass 2 x mean; without DC it would (mean 20/7, threshold 5.7).
    full = np.array([70, 10, 0, 0, 0, 0, 10], dtype=float)
    assert circle_list(survivors(full, "two_mean")) == []
    full[0] = 0
    assert circle_list(survivors(full, "two_mean")) == [1]


def test_nyquist_frequency_of_even_p_can_survive():
    s = spectrum(planted(8, 4, [4], noise=0.0) + planted(8, 4, [1], noise=0.0, amp=0.01))
    assert 4 in circle_list(survivors(s, "two_mean"))


def test_half_and_batches():
    s = spectrum(torch.stack([planted(11, 6, [1]), planted(11, 6, [2, 4])]))
    assert half(s).shape == (2, 6)
    alive = survivors(s, "two_mean")
    assert [circle_list(a) for a in alive] == [[1], [2, 4]]
    assert circle_lists(s, "two_mean") == [[1], [2, 4]]  # the rule results.py records


def test_unknown_rule_is_rejected():
    with pytest.raises(ValueError, match="unknown circle rule"):
        survivors(np.ones(5), "bogus")


def settle_steps(trajectory, steps, **rule):
    """The step at which `Settled` stops each trial of ratios (L, T, K) logged at `steps`."""
    kw = {"after": 2000, "window": 2000, "alive": 1.5, "dead": 0.5, **rule}
    watch = Settled(trajectory.shape[1], torch.device("cpu"), **kw)
    stopped = torch.full((trajectory.shape[1],), -1)
    for step, ratio in zip(steps, trajectory):
        watch.update(step, torch.as_tensor(ratio))
        now = watch.settled(step) & (stopped < 0)
        stopped[now] = step
    return stopped.tolist()


def test_settled_rule_on_synthetic_trajectories():
    steps = np.arange(0, 10_001, 100)
    L = len(steps)
    base = np.tile([0.4, 3.0, 0.2, 2.0, 0.1], (L, 1))  # k = 0..4: DC, alive, dead, alive, dead
    clear = base.copy()  # settled from the start: stops at `after` (2000 steps of history)
    late = base.copy()  # a dead frequency rises through the threshold to 2.0 at step 9000
    late[:, 2] = np.minimum(0.2 + 2e-4 * steps, 2.0)
    near = base.copy()  # a survivor hovering at 1.2x the threshold: never clear of it
    near[:, 3] = 1.2
    closing = base.copy()  # clear, same set, but the weakest survivor falls toward the threshold
    closing[:, 3] = np.linspace(3.0, 1.6, L)
    slow = base.copy()  # a frequency undecided (0.9x) until step 4000, then dead
    slow[steps < 4000, 4] = 0.9
    trials = np.stack([clear, late, near, closing, slow], 1)  # (L, T, K)
    # late: its gap closes while it rises, so no stop until it is clear as a survivor
    # (1.5x from step 6500) and has held for 2000 steps: the final set, k = 1, 2, 3
    assert settle_steps(trials, steps) == [2000, 8500, -1, -1, 6000]
    # the margins alone hold back a set that is not clear of the threshold
    assert settle_steps(trials[:, 2:3], steps, after=0, window=0) == [-1]


def test_settling_steps_follow_the_decay_time():
    # 1 / (lr x weight_decay): 200 steps at the paper's defaults, 2,000 at weight decay 0.05
    assert settling_steps(2000, 2000, 10, lr=0.01, weight_decay=0.5) == (2000, 2000)
    assert settling_steps(2000, 2000, 10, lr=0.01, weight_decay=0.05) == (20000, 20000)
    assert settling_steps(2000, 1000, 10, lr=0.01, weight_decay=1.5) == (2000, 1000)  # floors
    assert settling_steps(2000, 2000, 0, lr=0.01, weight_decay=0.0) == (2000, 2000)  # steps only
    assert settling_steps(2000, 2000, 10, lr=0.01, weight_decay=0.0) == (float("inf"),) * 2
    # an infinite window never completes
    steps = np.arange(0, 5001, 100)
    clear = np.tile([0.4, 3.0, 0.2], (len(steps), 1))[:, None]  # (L, 1, K)
    assert settle_steps(clear, steps, after=float("inf"), window=float("inf")) == [-1]


def test_threshold_ratio_is_one_at_the_rules_threshold():
    full = torch.tensor([[4.0, 1.0, 2.0, 2.0, 1.0]])  # mean 2: two_mean's threshold is 4
    torch.testing.assert_close(threshold_ratio(full), torch.tensor([[1.0, 0.25, 0.5]]))
    torch.testing.assert_close(threshold_ratio(full, "threshold", 2.0), torch.tensor([[2.0, 0.5, 1.0]]))
