"""Arithmetic tables (course_utils.data.arithmetic)."""

import pytest
import torch

from course_utils.data import arithmetic as A


def test_addition_task():
    task = A.addition_task(10, 30, target_seed=1)
    assert task.n == 55 and task.targets.shape == (19, 30)
    assert torch.equal(task.targets, A.addition_task(10, 30, target_seed=1).targets)
    assert (task.sums == task.pairs.sum(1)).all()


def test_modular_addition_and_one_hot():
    pairs, labels = A.modular_addition(7)
    assert pairs.shape == (49, 2) and (labels == (pairs[:, 0] + pairs[:, 1]) % 7).all()
    x = A.one_hot_pairs(pairs, 7)
    assert x.shape == (49, 14) and (x.sum(1) == 2).all()
    assert (x[:, :7].argmax(1) == pairs[:, 0]).all() and (x[:, 7:].argmax(1) == pairs[:, 1]).all()
    with pytest.raises(ValueError):
        A.one_hot_pairs(pairs + 7, 7)


def test_splits():
    m = A.split_mask(55, 0.5, seed=3)
    assert m.sum() == 28 and torch.equal(m, A.split_mask(55, 0.5, seed=3))
    ms = A.split_masks(55, [0.2, 0.8], seeds=[0, 0])
    assert ms.sum(1).tolist() == [11, 44]
    with pytest.raises(ValueError):
        A.split_mask(55, 0.0)


def test_answerable():
    labels = torch.tensor([0, 1, 1, 2, 2])
    train = torch.tensor([False, True, False, True, False])
    assert A.answerable(labels, train).tolist() == [False, False, True, False, True]
    assert A.answerable(labels, torch.stack([train, ~train])).shape == (2, 5)
