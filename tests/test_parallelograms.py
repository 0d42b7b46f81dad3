import itertools

import pytest
import torch

from circle_survival.parallelograms import predicted_accuracy, present, quadruples, rqi, sample_pairs, zscore


def addition(p: int):
    """Seed 002's data: unordered pairs i <= j in lexicographic order, label i + j."""
    a, b = torch.triu_indices(p, p)
    return a, b, a + b


def test_quadruples_of_seed_002_data_are_the_70_permissible_parallelograms():
    quads = quadruples(*addition(10))
    assert quads.shape == (70, 4)
    i, j, m, n = quads.T
    assert torch.equal(i + j, m + n)
    # distinct samples, each unordered pair once
    pairs = {frozenset([(int(r[0]), int(r[1])), (int(r[2]), int(r[3]))]) for r in quads}
    assert len(pairs) == 70 and all(len(s) == 2 for s in pairs)


def test_quadruples_brute_force_for_modular_labels():
    p = 5
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    y = (a + b) % p
    quads = quadruples(a, b, y)
    expected = [(int(a[s]), int(b[s]), int(a[t]), int(b[t]))
                for s, t in itertools.combinations(range(p * p), 2)
                if y[s] == y[t] and (a[s], b[s]) != (b[t], a[t])]  # not a pair and its swap
    assert [tuple(map(int, r)) for r in quads] == expected
    # p labels of p samples each, less the p(p-1)/2 token pairs met in both orders
    assert len(expected) == p * (p * (p - 1) // 2) - p * (p - 1) // 2


def test_planted_linear_embedding_has_every_parallelogram():
    p = 10
    quads = quadruples(*addition(p))
    k = torch.arange(p, dtype=torch.float64)
    E1 = (3.0 - 0.7 * k)[:, None]                         # (p, 1)
    E2 = torch.stack([1 + 2 * k, -5 + 0.1 * k], 1)        # (p, 2): a + b k in 2-D
    assert rqi(E1[None], quads).item() == 1.0
    assert rqi(E2[None], quads).item() == 1.0
    assert present(E2, quads).all()


def test_random_embedding_has_low_rqi_and_rqi_is_per_trial():
    p = 10
    quads = quadruples(*addition(p))
    g = torch.Generator().manual_seed(0)
    E = torch.rand(8, p, 1, generator=g) - 0.5
    k = torch.arange(p, dtype=torch.float32)[:, None]
    E[3] = 2 * k + 1
    r = rqi(E, quads)
    assert r.shape == (8,)
    assert r[3].item() == 1.0
    assert r[torch.arange(8) != 3].max().item() < 0.3


def test_threshold_is_on_the_mean_squared_residual_of_the_zscored_embedding():
    # p = 4, d = 1; one parallelogram (0, 3, 1, 2). Move token 3 so the residual is known.
    quads = torch.tensor([[0, 3, 1, 2]])
    for shift, expected in ((0.0, True), (0.05, True), (0.2, False)):
        E = torch.tensor([0.0, 1.0, 2.0, 3.0 + shift], dtype=torch.float64)[:, None]
        Z = zscore(E)
        residual = (Z[0] + Z[3] - Z[1] - Z[2]).item()
        assert present(E, quads).item() == (residual ** 2 <= 0.01) == expected
    assert rqi(E[None], quads, delta=1.0).item() == 1.0


def test_zscore_is_per_dimension_over_tokens():
    E = torch.tensor([[1.0, 10.0], [2.0, 30.0], [3.0, 50.0]])
    Z = zscore(E)
    torch.testing.assert_close(Z, torch.tensor([[-1.0, -1.0], [0.0, 0.0], [1.0, 1.0]]))


def test_constant_embedding_has_no_parallelogram():
    quads = quadruples(*addition(4))
    assert rqi(torch.ones(1, 4, 1), quads).item() == 0.0


def test_predicted_accuracy_counts_validation_samples_linked_to_training_by_a_present_parallelogram():
    # p = 4: samples (0,0) (0,1) (0,2) (0,3) (1,1) (1,2) (1,3) (2,2) (2,3) (3,3)
    p = 4
    a, b, y = addition(p)
    n = len(y)
    k = torch.arange(p, dtype=torch.float64)
    linear = k[:, None]
    train = torch.zeros(n, dtype=torch.bool)
    train[[0, 1, 3]] = True  # (0,0) (0,1) (0,3)
    # linear E: validation (1,2) linked to (0,3); labels 0, 1 have no partner; (1,1) <-> (0,2)? (0,2) not train.
    # reached: (0,0),(0,1),(0,3) + (1,2) = 4 of 10
    assert predicted_accuracy(linear[None], a, b, y, train).item() == pytest.approx(4 / 10)
    # a full training set is 1 whatever E is
    assert predicted_accuracy(torch.rand(2, p, 1), a, b, y, torch.ones(n, dtype=torch.bool)).tolist() == [1.0, 1.0]
    # break token 2 (E_2 far off the line): (1,2) <-> (0,3) is absent, back to the training set alone
    broken = linear.clone()
    broken[2] = 7.0
    E = torch.stack([linear, broken])
    torch.testing.assert_close(predicted_accuracy(E, a, b, y, train), torch.tensor([0.4, 0.3], dtype=torch.float64))


def test_predicted_accuracy_takes_one_split_per_trial():
    a, b, y = addition(4)
    E = torch.arange(4, dtype=torch.float64)[None, :, None].expand(2, 4, 1)
    train = torch.zeros(2, 10, dtype=torch.bool)
    train[0, [0, 1, 3]] = True
    train[1, 0] = True  # (0,0) alone: label 0 has no partner
    torch.testing.assert_close(predicted_accuracy(E, a, b, y, train), torch.tensor([0.4, 0.1], dtype=torch.float64))


def test_sample_pairs_and_quadruples_name_the_same_parallelograms():
    a, b, y = addition(6)
    s, t = sample_pairs(y, a, b).T
    torch.testing.assert_close(quadruples(a, b, y), torch.stack([a[s], b[s], a[t], b[t]], 1))


def test_present_in_chunks_matches_the_direct_formula():
    # d = 5000 puts the 1014 parallelograms of p = 13 (ordered pairs, mod p) in two chunks
    from circle_survival.data import pairs
    a, b, y = pairs("mod_add", 13)
    quads = quadruples(a, b, y)
    # 13 labels of 13 ordered pairs each: C(13, 2) pairs of samples per label, less the
    # (a, b) ~ (b, a) pairs (78 in all), which say nothing about E and are left out
    assert len(quads) == 13 * 13 * 12 // 2 - 78
    g = torch.Generator().manual_seed(0)
    E = torch.randn(1, 13, 5000, generator=g, dtype=torch.float64)
    E[0, :, :4000] = torch.arange(13, dtype=torch.float64)[:, None] * torch.randn(4000, generator=g, dtype=torch.float64)
    Z = zscore(E)
    i, j, m, n = quads.T
    direct = ((Z[:, i] + Z[:, j] - Z[:, m] - Z[:, n]) ** 2).mean(-1) <= 0.01
    assert torch.equal(present(E, quads), direct)
    assert not (((i == n) & (j == m)).any())  # no token pair against its own swap
