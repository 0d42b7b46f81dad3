import numpy as np
import pytest
import torch

from circle_survival.effective_theory import (critical_fraction, effective_loss, eigenvalues, gradient_flow,
                                              lambda3_of, nullity, parallelogram_matrix, random_training_sets,
                                              structure_vs_fraction, training_set_eigenvalues, unique_linear)
from circle_survival.parallelograms import quadruples


def addition(p: int):
    a, b = torch.triu_indices(p, p)
    return a, b, a + b


def matrix_of(p: int, keep=None):
    """A_D for the training set `keep` (bool mask over the samples; all when None)."""
    a, b, y = addition(p)
    if keep is not None:
        a, b, y = a[keep], b[keep], y[keep]
    return parallelogram_matrix(quadruples(a, b, y), p)


def test_rows_sum_repeated_tokens():
    A = parallelogram_matrix(torch.tensor([[1, 1, 0, 2], [0, 3, 1, 2]]), 4)
    torch.testing.assert_close(A, torch.tensor([[-1.0, 2, -1, 0], [1, -1, -1, 1]], dtype=torch.float64))


def test_full_data_fixes_a_unique_linear_structure():
    A = matrix_of(10)
    assert A.shape == (70, 10)
    assert nullity(A).item() == 2 and unique_linear(A).item()
    k = torch.arange(10, dtype=torch.float64)
    assert torch.allclose(A @ (2.5 - 0.3 * k), torch.zeros(70, dtype=torch.float64))


def test_a_symbol_left_unconstrained_raises_the_nullity():
    a, b, y = addition(10)
    keep = (a != 9) & (b != 9)  # no sample with token 9: E_9 is free
    A = matrix_of(10, keep)
    assert A[:, 9].abs().sum() == 0
    assert nullity(A).item() == 3 and not unique_linear(A).item()
    assert lambda3_of(eigenvalues(A)).item() == 0.0


def test_lambda3_of_hand_cases():
    # p = 3, one parallelogram (0,2)~(1,1): A = [1, -2, 1], A^T A has eigenvalues 0, 0, 6
    torch.testing.assert_close(eigenvalues(matrix_of(3)), torch.tensor([0.0, 0, 6], dtype=torch.float64))
    # p = 4, D = {(0,2), (1,1), (1,3), (2,2)}: rows [1,-2,1,0], [0,1,-2,1]; A A^T = [[6,-4],[-4,6]] -> 2, 10
    a, b, y = addition(4)
    keep = torch.tensor([(int(i), int(j)) in {(0, 2), (1, 1), (1, 3), (2, 2)} for i, j in zip(a, b)])
    lam = eigenvalues(matrix_of(4, keep))
    torch.testing.assert_close(lam, torch.tensor([0.0, 0, 2, 10], dtype=torch.float64), atol=1e-12, rtol=0)
    assert lambda3_of(lam).item() == pytest.approx(2.0)


def test_batched_eigenvalues_match_one_matrix_per_training_set():
    a, b, y = addition(10)
    train = random_training_sets(55, 30, 5, torch.Generator().manual_seed(1))
    assert train.sum(1).tolist() == [30] * 5
    lam = training_set_eigenvalues(a, b, y, 10, train)
    for s in range(5):
        torch.testing.assert_close(lam[s], eigenvalues(matrix_of(10, train[s])), atol=1e-9, rtol=1e-9)


def test_gradient_flow_conserves_sum_and_norm_and_reaches_the_ground_state():
    A = matrix_of(10)
    g = torch.Generator().manual_seed(0)
    E0 = torch.rand(10, 2, generator=g, dtype=torch.float64) - 0.5
    E0 = E0 - E0.mean(0)
    path = gradient_flow(E0, A, eta=0.1, steps=300)
    assert path.shape == (301, 10, 2)
    torch.testing.assert_close(path.sum(1), E0.sum(0).expand(301, 2), atol=1e-10, rtol=0)
    Z0 = path.pow(2).sum((1, 2))
    torch.testing.assert_close(Z0, Z0[0].expand(301), atol=1e-8, rtol=1e-8)
    loss = effective_loss(path, A)
    assert loss[-1] < 1e-6 * loss[0]
    assert (loss[1:] <= loss[:-1] + 1e-15).all()
    assert (A @ path[-1]).abs().max() < 1e-3


def test_effective_loss_is_scale_and_translation_free_in_l0():
    A = matrix_of(6)
    E = torch.randn(6, 1, dtype=torch.float64)
    assert effective_loss(3 * E, A).item() == pytest.approx(effective_loss(E, A).item())
    k = torch.arange(6, dtype=torch.float64)[:, None]
    assert effective_loss(1 + 2 * k, A).item() == pytest.approx(0.0, abs=1e-20)


def test_structure_vs_fraction_is_seeded_and_has_the_known_ends():
    a, b, y = addition(10)
    s1 = structure_vs_fraction(a, b, y, 10, [0.05, 0.5, 1.0], sets=200, seed=3)
    s2 = structure_vs_fraction(a, b, y, 10, [0.05, 0.5, 1.0], sets=200, seed=3)
    np.testing.assert_array_equal(s1.p_unique, s2.p_unique)
    assert s1.train_count.tolist() == [3, 28, 55]
    assert s1.p_unique[0] == 0.0 and s1.p_unique[2] == 1.0
    assert s1.mean_lambda3[0] == 0.0
    assert s1.mean_lambda3[2] == pytest.approx(eigenvalues(matrix_of(10))[2].item())


def test_critical_fraction_interpolates_the_half_crossing():
    assert critical_fraction([0.2, 0.4, 0.6], [0.0, 0.25, 0.75]) == pytest.approx(0.5)
    assert critical_fraction([0.2, 0.4], [0.6, 1.0]) == 0.2
    assert np.isnan(critical_fraction([0.2, 0.4], [0.0, 0.1]))
