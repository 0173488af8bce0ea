"""Unit tests of course_utils.theory.quanta_networks: the finite-task-set predictions of the quantization
model, their calibrations, the padded width ensemble and the online training loop."""

import numpy as np
import pytest
import torch

from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedAdam, BatchedMLP, mlp
from course_utils.theory import quanta
from course_utils.theory import quanta_networks as qn


def test_tail_loss_is_the_weight_of_the_unlearned_skills():
    p = quanta.skill_probabilities(20, 1.0)
    for n in range(21):
        assert qn.tail_loss(n, p) == pytest.approx(p[n:].sum(), abs=1e-15)
    # fractional n interpolates linearly, and ℓ_u scales
    assert qn.tail_loss(2.25, p, np.log(2)) == pytest.approx(np.log(2) * (p[2:].sum() - 0.25 * p[2]))
    # asymptote: Σ_{k>n} k^-2 / Z ≈ 1/((n + ½) Z) for 1 ≪ n ≪ n_s
    p_big = quanta.skill_probabilities(1_000_000, 1.0)
    assert qn.tail_loss(100, p_big) == pytest.approx(1 / (100.5 * quanta.normaliser(1_000_000, 1.0)), rel=1e-3)
    with pytest.raises(ValueError, match="n must lie"):
        qn.tail_loss(21, p)
    with pytest.raises(ValueError, match="unlearned_loss"):
        qn.tail_loss(1, p, 0.0)


def test_expected_tail_loss_data_matches_a_simulation_and_the_multilinear_law():
    p = quanta.skill_probabilities(30, 1.0)
    rng = np.random.default_rng(0)
    D, D_c = 400, 5
    counts = rng.multinomial(D, p, size=20_000)                        # (sets, skills)
    simulated = ((counts < D_c) * p).sum(1).mean()
    assert qn.expected_tail_loss_data([D], p, D_c)[0] == pytest.approx(simulated, rel=0.01)
    # D_c = 1: the multilinear model's Σ p_k (1 − p_k)^D
    D = np.array([10, 100, 1000])
    assert np.allclose(qn.expected_tail_loss_data(D, p, 1), quanta.expected_loss_data(D, p))
    with pytest.raises(ValueError, match="D_c"):
        qn.expected_tail_loss_data(D, p, 0.5)


def test_calibrations_recover_their_constants():
    w = np.array([4, 8, 16, 32, 64])
    assert qn.units_per_skill(w, w / 3.0) == pytest.approx(3.0)
    counts = np.array([1, 5, 10, 50, 100, 200, 400])
    learned = counts >= 80
    D_c = qn.count_threshold(counts, learned)
    assert 50 < D_c <= 100 and D_c == pytest.approx(np.sqrt(50 * 100))
    with pytest.raises(ValueError, match="both learned and unlearned"):
        qn.count_threshold(counts, np.ones_like(learned))


def test_order_statistics():
    ok = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]], dtype=bool)
    f = qn.out_of_order_fraction(ok)
    assert f[0] == 0.0
    assert f[1] == pytest.approx(1 / 4)   # informative pairs (1,2),(1,4)... exactly one learned: 4 pairs, 1 reversed
    assert np.isnan(f[2])
    assert qn.learned_prefix_fraction(ok) == pytest.approx(2 / 3)


def test_padded_member_is_the_small_network_and_its_extra_units_stay_zero():
    task = MultitaskSparseParity(n_skills=4, n_bits=6, m=2, alpha=1.0, seed=0)
    x, y, _ = task.sample(64, seed=1)
    big = qn.padded_ensemble(task.input_dim, [3, 8], [5, 6])
    assert big.n_members == 4
    small = mlp([task.input_dim, 3, 2], "relu", seed=6)
    with torch.no_grad():
        assert torch.allclose(big(x)[1], small(x), atol=1e-6)           # member (width 3, seed 6)
    x_test, y_test, _ = task.test_set(16, seed=2)
    opt = BatchedAdam(big.parameters(), lr=1e-2)
    run = qn.train_online(task, big, opt, steps=30, batch=32, record_steps=[0, 15, 30], x_test=x_test,
                          y_test=y_test, seed=3, desc="test")
    assert run["acc"].shape == (3, 4, 4) and run["ce"].shape == (3, 4, 4)
    w_in = big.layers[0].weight                                          # (K, in, max_width)
    assert w_in[:2, :, 3:].abs().max().item() == 0.0                     # width-3 members: units 3.. unused
    assert big.layers[1].weight[:2, 3:].abs().max().item() == 0.0


def test_train_online_learns_the_frequent_skill_and_matches_a_member_trained_alone():
    task = MultitaskSparseParity(n_skills=3, n_bits=6, m=2, alpha=1.0, seed=0)
    x_test, y_test, _ = task.test_set(128, seed=5)
    model = BatchedMLP(2, [task.input_dim, 32, 2], "relu", seeds=[0, 1])
    run = qn.train_online(task, model, BatchedAdam(model.parameters(), lr=1e-2), steps=600, batch=64,
                          record_steps=[0, 600], x_test=x_test, y_test=y_test, seed=7, desc="test")
    assert run["acc"][0, :, 0].max() < 0.8 and run["acc"][-1, :, 0].min() > 0.95
    assert np.all(run["ce"][-1, :, 0] < run["ce"][0, :, 0])
    with pytest.raises(ValueError, match="record_steps"):
        qn.train_online(task, model, BatchedAdam(model.parameters(), lr=1e-2), steps=5, batch=4,
                        record_steps=[6], x_test=x_test, y_test=y_test, seed=0)
