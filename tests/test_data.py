import torch

from circle_survival.data import all_pairs, split


def test_all_ordered_pairs_with_labels():
    a, b, y = all_pairs(5)
    assert len(a) == 25
    assert set(zip(a.tolist(), b.tolist())) == {(i, j) for i in range(5) for j in range(5)}
    assert torch.equal(y, (a + b) % 5)


def test_split_sizes_disjoint_and_seeded():
    train, test = split(59, 0.8, torch.Generator().manual_seed(1))
    assert len(train) == int(59 * 59 * 0.8) == 2784 and len(test) == 59 * 59 - 2784
    assert not set(train.tolist()) & set(test.tolist())
    again, _ = split(59, 0.8, torch.Generator().manual_seed(1))
    other, _ = split(59, 0.8, torch.Generator().manual_seed(2))
    assert torch.equal(train, again) and not torch.equal(train, other)
