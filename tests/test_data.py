import torch

from circle_survival.config import AddTask, ModAddTask, train_size
from circle_survival.data import pairs, split


def test_mod_add_all_ordered_pairs_with_labels():
    a, b, y = pairs(ModAddTask(), 5)
    assert len(a) == 25 == ModAddTask().n_pairs(5) and ModAddTask().n_classes(5) == 5
    assert set(zip(a.tolist(), b.tolist())) == {(i, j) for i in range(5) for j in range(5)}
    assert torch.equal(a * 5 + b, torch.arange(25))  # index a * p + b
    assert torch.equal(y, (a + b) % 5)


def test_add_unordered_pairs_seed_002():
    # p = 10: 55 samples i <= j, labels i + j in 0..18 (19 classes)
    a, b, y = pairs(AddTask(), 10)
    assert len(a) == 55 == AddTask().n_pairs(10) and AddTask().n_classes(10) == 19
    assert list(zip(a.tolist(), b.tolist())) == [(i, j) for i in range(10) for j in range(i, 10)]
    assert torch.equal(y, a + b) and set(y.tolist()) == set(range(19))
    assert y.bincount().tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_train_size_count_or_fraction(tiny_cfg):
    assert train_size(tiny_cfg(p=10, task=AddTask(train_count=45))) == 45
    assert train_size(tiny_cfg(p=10, task=AddTask(), train_frac=0.5)) == 27  # int(55 * 0.5)
    assert train_size(tiny_cfg(p=59, train_frac=0.8)) == int(59 * 59 * 0.8) == 2784


def test_split_sizes_disjoint_and_seeded():
    train, test = split(59 * 59, 2784, torch.Generator().manual_seed(1))
    assert len(train) == 2784 and len(test) == 59 * 59 - 2784
    assert not set(train.tolist()) & set(test.tolist())
    assert torch.equal(train, train.sort().values)
    again, _ = split(59 * 59, 2784, torch.Generator().manual_seed(1))
    other, _ = split(59 * 59, 2784, torch.Generator().manual_seed(2))
    assert torch.equal(train, again) and not torch.equal(train, other)
    train, test = split(55, 45, torch.Generator().manual_seed(1))
    assert len(train) == 45 and len(test) == 10 and set(train.tolist()) | set(test.tolist()) == set(range(55))
