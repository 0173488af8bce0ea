"""Unit tests of course_utils.theory.counting, course_utils.data.counting and the exercise checkers of
the chapter "Scaling laws from counting"."""

import numpy as np
import pytest
from scipy.stats import binom

from course_utils.data.counting import sample_counts, sample_labels, zipf_probabilities
from course_utils.exercises import scaling_counting as ex
from course_utils.theory import counting as th


def _coin_kl_by_hand(p, N, beta):
    n = np.arange(N + 1)
    q = (n + beta) / (N + 2 * beta)
    return binom.pmf(n, N, p) @ (p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q)))


@pytest.mark.parametrize("p,N,beta", [(0.5, 1, 0.5), (0.3, 17, 1.0), (0.02, 300, 0.5), (0.9, 5000, 0.1)])
def test_expected_kl_of_a_coin_is_the_full_binomial_sum(p, N, beta):
    assert th.expected_kl([p, 1 - p], N, beta) == pytest.approx(_coin_kl_by_hand(p, N, beta), rel=1e-9)


def test_expected_kl_of_a_categorical_by_enumeration():
    # K = 3, N = 4: enumerate every count vector with its multinomial probability
    from itertools import product
    from math import factorial
    p, N, beta = np.array([0.5, 0.3, 0.2]), 4, 0.7
    total = 0.0
    for n in product(range(N + 1), repeat=3):
        if sum(n) != N:
            continue
        prob = factorial(N) / np.prod([factorial(k) for k in n]) * np.prod(p ** np.array(n))
        total += prob * th.kl_divergence(p, th.add_beta_estimate(np.array(n), beta))
    assert th.expected_kl(p, N, beta) == pytest.approx(total, rel=1e-10)


def test_expected_kl_at_zero_samples_is_the_divergence_from_uniform():
    p = np.array([0.7, 0.2, 0.1, 0.0])
    assert th.expected_kl(p, 0, 1.0) == pytest.approx(th.kl_divergence(p, np.full(4, 0.25)))


def test_expected_kl_matches_simulation():
    rng = np.random.default_rng(1)
    p = zipf_probabilities(20, 1.2)
    for N in (5, 50, 500):
        kl = th.kl_divergence(p, th.add_beta_estimate(sample_counts(p, N, 20_000, rng), 0.5))
        assert abs(kl.mean() - th.expected_kl(p, N, 0.5)) < 4 * kl.std() / np.sqrt(kl.size)


@pytest.mark.parametrize("beta", [0.1, 0.5, 1.0])
def test_second_order_coefficient_against_the_exact_sum(beta):
    p = zipf_probabilities(5, 1.0)
    N = 100_000
    c2 = (th.expected_kl(p, N, beta) - (p.size - 1) / (2 * N)) * N ** 2
    assert c2 == pytest.approx(th.second_order_coefficient(p, beta), rel=2e-3)


def test_second_order_coefficient_closed_forms_for_a_coin():
    for p in (0.5, 0.2):
        S = 1 / (p * (1 - p))
        assert th.second_order_coefficient([p, 1 - p], 0.5) == pytest.approx(S / 24 - 5 / 12)
        assert th.second_order_coefficient([p, 1 - p], 1.0) == pytest.approx(-S / 12 - 11 / 12)


def test_asymptotic_orders():
    p = np.full(4, 0.25)
    assert th.expected_kl_asymptotic(p, 100, 0.5, order=1) == pytest.approx(3 / 200)
    exact = th.expected_kl(p, 1000, 0.5)
    second, first = th.expected_kl_asymptotic(p, 1000, 0.5), th.expected_kl_asymptotic(p, 1000, 0.5, order=1)
    assert abs(second - exact) < abs(first - exact)


def test_missing_mass_and_seen_categories():
    p = np.array([0.5, 0.25, 0.25])
    assert th.missing_mass(p, 2) == pytest.approx(0.5 * 0.25 + 2 * 0.25 * 0.75 ** 2)
    assert th.expected_seen(p, 0) == 0
    assert th.expected_seen(p, 1) == pytest.approx(1.0)
    assert th.missing_mass(p, 0) == pytest.approx(1.0)
    # Zipf tail: M(N) ∝ N^(-α/(1+α)) with the prefactor of the exercise
    from scipy.special import gamma, zeta
    q = zipf_probabilities(2_000_000, 2.0)
    A_M = zeta(2.0) ** -0.5 * gamma(0.5) / 2
    assert th.missing_mass(q, 10_000) == pytest.approx(A_M * 10_000 ** -0.5, rel=0.02)


def test_top_n_model():
    p = zipf_probabilities(50, 1.5)
    assert th.top_n_floor(p, 50) == 0.0
    assert th.top_n_floor(p, 49) == pytest.approx(0.0, abs=1e-15)
    floors = [th.top_n_floor(p, n) for n in (1, 5, 20)]
    assert floors[0] > floors[1] > floors[2] > 0
    assert th.top_n_expected_kl(p, 10**9, 5, 0.5) == pytest.approx(floors[1], rel=1e-5)
    assert th.top_n_expected_kl(p, 300, 50, 0.5) == pytest.approx(th.expected_kl(p, 300, 0.5))
    rng = np.random.default_rng(3)
    c = sample_counts(p, 200, 20_000, rng)
    coarse = np.concatenate([c[:, :5], c[:, 5:].sum(1, keepdims=True)], axis=1)
    pc = np.concatenate([p[:5], [p[5:].sum()]])
    q = np.concatenate([th.add_beta_estimate(coarse, 0.5)[:, :5],
                        np.repeat(th.add_beta_estimate(coarse, 0.5)[:, 5:] / 45, 45, axis=1)], axis=1)
    sim = th.kl_divergence(p, q)
    assert th.kl_divergence(pc, th.add_beta_estimate(coarse, 0.5)).mean() + floors[1] == pytest.approx(sim.mean())
    assert abs(sim.mean() - th.top_n_expected_kl(p, 200, 5, 0.5)) < 4 * sim.std() / np.sqrt(sim.size)


def test_quantisation():
    q = np.array([0.5, 0.3, 0.2])
    assert th.quantize_log_probabilities(q, 20, -5.0) == pytest.approx(q, rel=1e-5)
    coarse = th.quantize_log_probabilities(q, 2, -5.0)
    assert coarse.sum() == pytest.approx(1.0)
    assert th.quantization_floor(3, -7.0) == pytest.approx(1.0 / 24)
    p = zipf_probabilities(1000, 1.0)
    for b in (6, 8):
        ratio = th.kl_divergence(p, th.quantize_log_probabilities(p, b, -10.0)) / th.quantization_floor(b, -10.0)
        assert 0.5 < ratio < 2


def test_data_module():
    rng = np.random.default_rng(0)
    p = zipf_probabilities(6, 1.0)
    assert p.sum() == pytest.approx(1.0) and np.all(np.diff(p) < 0)
    assert zipf_probabilities(4, 0.0) == pytest.approx(np.full(4, 0.25))
    c = sample_counts(p, 30, 1000, rng)
    assert c.shape == (1000, 6) and np.all(c.sum(1) == 30)
    assert c.mean(0) == pytest.approx(30 * p, rel=0.1)
    coin = sample_counts([0.3, 0.7], 10, 5, rng)
    assert coin.shape == (5, 2) and np.all(coin.sum(1) == 10)
    labels = sample_labels(p, 40, 3, rng)
    assert labels.shape == (3, 40) and labels.max() < 6


@pytest.mark.parametrize("call", [
    lambda: th.add_beta_estimate(np.array([1, 2]), 0.0),
    lambda: th.add_beta_estimate(np.array([3]), 0.5),
    lambda: th.kl_divergence([0.5, 0.5], np.ones((2, 3)) / 3),
    lambda: th.expected_kl([0.5, 0.6], 10, 0.5),
    lambda: th.expected_kl([0.5, 0.5], -1, 0.5),
    lambda: th.expected_kl([0.5, 0.5], 2.5, 0.5),
    lambda: th.expected_kl_asymptotic([0.5, 0.5], 0, 0.5),
    lambda: th.expected_kl_asymptotic([1.0, 0.0], 10, 0.5),
    lambda: th.expected_kl_asymptotic([0.5, 0.5], 10, 0.5, order=3),
    lambda: th.top_n_floor([0.2, 0.8], 1),
    lambda: th.top_n_floor([0.8, 0.2], 0),
    lambda: th.quantize_log_probabilities([0.5, 0.5], 0, -3.0),
    lambda: th.quantize_log_probabilities([0.5, 0.5], 4, 1.0),
    lambda: th.quantization_floor(0, -3.0),
    lambda: zipf_probabilities(0, 1.0),
    lambda: zipf_probabilities(5, -1.0),
    lambda: sample_counts([0.5, 0.5], 10, 0, np.random.default_rng(0)),
    lambda: sample_counts([0.5, 0.5], 10, 3, 0),
    lambda: sample_labels([0.5, 0.5], 0, 3, np.random.default_rng(0)),
])
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_exercise_checkers():
    assert ex.check_bernoulli_expected_kl(_coin_kl_by_hand)
    assert not ex.check_bernoulli_expected_kl(lambda p, N, beta: 1 / (2 * N))
    assert not ex.check_bernoulli_expected_kl(lambda p, N, beta: np.zeros(3))    # a verdict, not a traceback
    from scipy.special import gamma, zeta
    good = zeta(2.0) ** -0.5 * gamma(0.5) / 2
    assert ex.check_missing_mass_prefactor(good, alpha=1.0)
    assert not ex.check_missing_mass_prefactor(1.1 * good, alpha=1.0)
    assert not ex.check_missing_mass_prefactor("a", alpha=1.0)


def test_unseen_probability_is_one_formula_for_counting_and_skills():
    """(1 − p_k)^N for real N ≥ 0 (1 at N = 0, also for p_k = 1; 0 for p_k = 1 at N > 0); missing_mass and the quanta
    data law are Σ_k p_k (1 − p_k)^N of it, so they agree on whole N."""
    from course_utils.theory import quanta
    p = np.array([0.6, 0.3, 0.1, 0.0])
    N = np.array([0.0, 1.0, 2.5, 40.0])
    np.testing.assert_allclose(th.unseen_probability(p, N), (1 - p) ** N[:, None], rtol=1e-14)
    assert np.array_equal(th.unseen_probability([1.0, 0.0], [0, 3]), [[1.0, 1.0], [0.0, 1.0]])
    D = np.array([0, 1, 7, 300])
    np.testing.assert_allclose(quanta.expected_loss_data(D, p), th.missing_mass(p, D), rtol=1e-14)
    np.testing.assert_allclose(quanta.expected_loss_data(D, p), np.sum(p * (1 - p) ** D[:, None], axis=1), rtol=1e-12)
    for bad_p, bad_N, name in (([0.5, 1.5], 3, "p"), ([0.5, 0.5], -1, "N"), ([0.5, np.nan], 3, "p")):
        with pytest.raises(ValueError, match=name):
            th.unseen_probability(bad_p, bad_N)
