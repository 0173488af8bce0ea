"""Unit tests of course_utils.data.sparse_parity (multitask sparse parity)."""

import math

import numpy as np
import pytest
import torch

from course_utils.data.sparse_parity import MultitaskSparseParity, skill_subsets


def test_skill_probabilities_follow_the_power_law():
    p = MultitaskSparseParity(n_skills=50, n_bits=10, m=2, alpha=0.5).probabilities
    assert p.dtype == torch.float64 and p.sum().item() == pytest.approx(1.0)
    ratios = (p[:-1] / p[1:]).numpy()
    k = np.arange(1, 50)
    assert np.allclose(ratios, ((k + 1) / k) ** 1.5)


def test_skill_subsets_are_sorted_distinct_and_seeded():
    S = skill_subsets(30, 10, 3, seed=4)
    assert S.shape == (30, 3)
    assert torch.all(S[:, 1:] > S[:, :-1]) and S.min() >= 0 and S.max() < 10
    assert len({tuple(r) for r in S.tolist()}) == 30
    assert torch.equal(S, skill_subsets(30, 10, 3, seed=4))
    assert not torch.equal(S, skill_subsets(30, 10, 3, seed=5))
    # more skills than subsets: repeats are allowed, the call still ends
    assert skill_subsets(5, 3, 2).shape == (5, 2) and math.comb(3, 2) < 5


def test_sample_encodes_control_bits_and_parity_labels():
    task = MultitaskSparseParity(n_skills=5, n_bits=12, m=3, alpha=1.0, seed=0)
    x, y, k = task.sample(2000, seed=1)
    assert x.shape == (2000, task.input_dim) == (2000, 17)
    assert torch.equal(x[:, :5].argmax(1), k) and torch.all(x[:, :5].sum(1) == 1)
    bits = x[:, 5:].long()
    manual = torch.stack([bits[i, task.subsets[k[i]]].sum() % 2 for i in range(len(k))])
    assert torch.equal(y, manual)
    assert set(y.unique().tolist()) == {0, 1}
    pm = task.labels(k, bits, labels="pm1")
    assert torch.equal(pm, 1.0 - 2.0 * y.to(pm.dtype))


def test_skill_frequencies_match_zipf():
    task = MultitaskSparseParity(n_skills=6, n_bits=8, m=2, alpha=1.0)
    k = task.sample_skills(200_000, seed=3)
    freq = torch.bincount(k, minlength=6).double() / len(k)
    assert torch.allclose(freq, task.probabilities, atol=4e-3)


def test_sampling_is_reproducible_and_a_generator_continues_its_stream():
    task = MultitaskSparseParity(n_skills=4, n_bits=8, m=2, alpha=0.5)
    a, b = task.sample(10, seed=7), task.sample(10, seed=7)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    gen = torch.Generator().manual_seed(7)
    first, second = task.sample(10, generator=gen), task.sample(10, generator=gen)
    assert torch.equal(first[0], a[0]) and not torch.equal(second[0], first[0])


def test_each_skill_alone_is_balanced_and_low_order_bits_are_uninformative():
    task = MultitaskSparseParity(n_skills=3, n_bits=10, m=3, alpha=1.0, seed=2)
    x, y, k = task.sample(20_000, seed=0, skill=2)
    assert torch.all(k == 2)
    assert abs(y.double().mean().item() - 0.5) < 0.02
    # a single bit of the subset says nothing about the parity of three
    corr = [np.corrcoef(x[:, 3 + i].numpy(), y.numpy())[0, 1] for i in task.subsets[2].tolist()]
    assert max(abs(c) for c in corr) < 0.03


@pytest.mark.parametrize("kwargs", [dict(n_skills=0, n_bits=5, m=2, alpha=1.0),
                                    dict(n_skills=3, n_bits=5, m=6, alpha=1.0),
                                    dict(n_skills=3, n_bits=5, m=0, alpha=1.0),
                                    dict(n_skills=3, n_bits=5, m=2, alpha=0.0)])
def test_bad_task_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        MultitaskSparseParity(**kwargs)


def test_bad_sample_arguments_raise():
    task = MultitaskSparseParity(n_skills=3, n_bits=5, m=2, alpha=1.0)
    with pytest.raises(ValueError, match="seed"):
        task.sample(5)
    with pytest.raises(ValueError):
        task.sample(-1, seed=0)
    with pytest.raises(ValueError):
        task.sample(5, seed=0, skill=3)
    with pytest.raises(ValueError):
        task.sample(5, seed=0, labels="bool")
    with pytest.raises(ValueError):
        task.labels(torch.zeros(4, dtype=torch.long), torch.zeros(4, 6))
    with pytest.raises(ValueError):
        task.labels(torch.full((4,), 7), torch.zeros(4, 5))


@pytest.mark.parametrize("m", [1, 2, 3, 5])
def test_relu_network_solves_the_first_skills_with_m_units_each(m):
    task = MultitaskSparseParity(n_skills=5, n_bits=9, m=m, alpha=1.0, seed=3)
    x, y, _ = task.test_set(100, seed=7)
    for skills in (5, 2):
        net = task.relu_network(skills)
        assert net[0].out_features == m * skills
        with torch.no_grad():
            correct = (net(x).argmax(-1) == y).double().view(5, -1).mean(-1)
        assert torch.all(correct[:skills] == 1.0)
        if skills < 5:                                    # the others are at chance, not learned
            assert correct[skills:].max() < 0.75
    with pytest.raises(ValueError):
        task.relu_network(0)
    with pytest.raises(ValueError):
        task.relu_network(6)
