"""The theory-vs-experiment checks of the chapter "Scaling laws from counting"
(book/06_scaling/01_scaling_from_counting), at small sizes (seconds)."""

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.data.counting import sample_counts, zipf_probabilities
from course_utils.theory import counting as th


def _mean_kl(p, N, beta, draws, rng):
    kl = th.kl_divergence(p, th.add_beta_estimate(sample_counts(p, int(N), draws, rng), beta))
    return kl.mean(), kl.std() / np.sqrt(draws)


@pytest.mark.parametrize("p", [0.5, 0.01])
def test_coin_learning_curve_exponent_and_coefficient(p):
    rng = np.random.default_rng(0)
    pv = np.array([p, 1 - p])
    N = np.array([2_000, 5_000, 20_000, 100_000])          # N p(1-p) ≥ 10 for both coins
    sim = np.array([_mean_kl(pv, n, 1.0, 20_000, rng) for n in N])
    z = np.abs(sim[:, 0] - th.expected_kl(pv, N, 1.0)) / sim[:, 1]
    assert z.max() < 4.5
    fit = cu.fit_power_law(N, sim[:, 0])
    assert fit.alpha == pytest.approx(1.0, abs=0.05)
    assert N[-1] * sim[-1, 0] == pytest.approx(0.5, rel=0.04)


def test_rare_coin_has_the_prior_coefficient_before_the_crossover():
    # N p ≪ 1: no rare outcome seen, E KL ≈ KL of the estimate (β/(N+2β)) ≈ β/N for N ≫ β
    p, beta, N = 1e-4, 1.0, 100
    pv = np.array([p, 1 - p])
    none_seen = th.kl_divergence(pv, th.add_beta_estimate(np.array([0, N]), beta))
    assert th.expected_kl(pv, N, beta) == pytest.approx(none_seen, rel=0.03)
    assert 2 * N * th.expected_kl(pv, N, beta) == pytest.approx(2 * beta, rel=0.08)
    # ... and the compensated curve crosses over to 1 once N p(1-p) ≫ 1
    assert 2 * 10**6 * th.expected_kl(pv, 10**6, beta) == pytest.approx(1.0, rel=0.02)


def test_uniform_categorical_coefficient_and_few_seen_regime():
    rng = np.random.default_rng(1)
    K, beta = 50, 0.5
    pv = np.full(K, 1 / K)
    N = np.array([500, 2_000, 10_000, 50_000])
    sim = np.array([_mean_kl(pv, n, beta, 1_000, rng)[0] for n in N])
    assert cu.fit_power_law(N, sim).alpha == pytest.approx(1.0, abs=0.04)
    assert N[-1] * sim[-1] / ((K - 1) / 2) == pytest.approx(1.0, rel=0.05)
    n_few = K // 10
    few = np.log1p(n_few / (K * beta)) - th.expected_seen(pv, n_few) / K * np.log1p(1 / beta)
    assert few == pytest.approx(th.expected_kl(pv, n_few, beta), rel=0.05)


def test_zipf_intermediate_exponent_is_alpha_over_one_plus_alpha():
    rng = np.random.default_rng(2)
    K, alpha = 300, 1.0
    p = zipf_probabilities(K, 1 + alpha)
    N = np.array([10, 30, 100, 300, 1000])
    sim = np.array([_mean_kl(p, n, 1 / K, 400, rng)[0] for n in N])
    assert cu.fit_power_law(N, sim).alpha == pytest.approx(alpha / (1 + alpha), abs=0.05)
    assert sim == pytest.approx(th.expected_kl(p, N, 1 / K), rel=0.06)
    # the missing mass has the same exponent, and far beyond 1/p_K the 1/N law takes over
    assert cu.fit_power_law(N, th.missing_mass(p, N)).alpha == pytest.approx(0.5, abs=0.05)
    assert 10**9 * th.expected_kl(p, 10**9, 1 / K) / ((K - 1) / 2) == pytest.approx(1.0, rel=0.02)


def test_quantisation_floor_falls_like_four_to_the_minus_bits():
    p = zipf_probabilities(1000, 1.0)
    bits = np.arange(4, 12)
    floor = np.array([th.kl_divergence(p, th.quantize_log_probabilities(p, int(b), -10.0)) for b in bits])
    assert -np.polyfit(bits, np.log(floor), 1)[0] == pytest.approx(np.log(4), rel=0.1)


def test_top_n_surface_is_data_limited_then_model_limited():
    p = zipf_probabilities(300, 2.0)
    n_small, n_large = 5, 300
    # data-limited corner: more parameters do not help at small N
    assert th.top_n_expected_kl(p, 20, n_large, 0.5) > th.top_n_expected_kl(p, 20, n_small, 0.5)
    # model-limited corner: at large N the small model sits on its floor
    assert th.top_n_expected_kl(p, 10**7, n_small, 0.5) == pytest.approx(th.top_n_floor(p, n_small), rel=0.01)
    Ns = np.array([100, 1_000, 10_000])
    ns = np.arange(1, 301)
    floors = np.array([th.top_n_floor(p, int(n)) for n in ns])
    n_star = [ns[np.argmin(ns / (2 * N) + floors)] for N in Ns]
    assert n_star[0] < n_star[1] < n_star[2]


def test_optimal_loss_exponent_follows_the_log_corrected_prediction():
    """Along the valley, −dlnL*/dlnN = α_F/(1+α_F) (envelope theorem), α_F the floor's local exponent."""
    K, alpha, beta = 300, 1.0, 0.5
    p = zipf_probabilities(K, 1 + alpha)
    ns = np.arange(1, K - 1)                # F(K − 1) = 0: one category in the bucket is stored exactly
    floors = np.array([th.top_n_floor(p, int(n)) for n in ns])
    alpha_F = -np.gradient(np.log(floors), np.log(ns))
    N = np.array([100, 300, 1000, 3000])
    heuristic = ns[:, None] / (2 * N[None, :]) + floors[:, None]
    n_opt = ns[heuristic.argmin(0)]
    # the envelope theorem: the heuristic's local exponent is α_F/(1+α_F) at n*
    L_h = heuristic.min(0)
    local = -np.diff(np.log(L_h)) / np.diff(np.log(N))
    predicted = alpha_F[n_opt - 1] / (1 + alpha_F[n_opt - 1])
    assert local == pytest.approx(0.5 * (predicted[1:] + predicted[:-1]), abs=0.03)
    assert np.all(alpha_F[n_opt - 1] > alpha)          # the logarithm steepens the floor
    # the exact optimum over n follows the prediction's fitted exponent, not α/(1+α)
    exact = np.array([min(th.top_n_expected_kl(p, [int(n_)], int(n), beta)[0] for n in range(1, K, 3))
                      for n_ in N])
    a_exact, a_pred = cu.fit_power_law(N, exact).alpha, cu.fit_power_law(N, L_h).alpha
    assert a_exact == pytest.approx(a_pred, abs=0.05)
    assert a_exact > alpha / (1 + alpha) + 0.05


def test_increments_follow_the_missing_mass_not_one_over_n():
    K, alpha, beta = 1000, 1.0, 1e-3
    p = zipf_probabilities(K, 1 + alpha)
    N = np.array([30, 100, 300, 1000, 3000])
    increment = th.expected_kl(p, N, beta) - th.expected_kl(p, N + 1, beta)
    assert cu.fit_power_law(N, N * increment).alpha == pytest.approx(alpha / (1 + alpha), abs=0.03)
    ratio = N * increment / th.missing_mass(p, N)
    assert ratio.max() / ratio.min() < 1.2


def test_softmax_with_label_smoothing_is_add_beta_and_weight_decay_keeps_the_law():
    torch_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        rng = np.random.default_rng(3)
        K, beta = 5, 0.5
        p = zipf_probabilities(K, 1.0)
        N = np.array([300, 1_000, 3_000, 10_000])
        draws = 400
        counts = np.concatenate([sample_counts(p, int(n), draws, rng) for n in N])
        n_row = torch.tensor(np.repeat(N, draws), dtype=torch.float64)[:, None]

        def train(target, wd, steps=1500, lr=1.9):
            theta = torch.zeros_like(target)
            for _ in range(steps):
                theta -= lr * (torch.softmax(theta, 1) - target + wd * theta)
            return torch.softmax(theta, 1).numpy()

        q_ls = train((torch.tensor(counts) + beta) / (n_row + K * beta), 0.0)
        assert np.abs(q_ls / th.add_beta_estimate(counts, beta) - 1).max() < 1e-6
        q_wd = train(torch.tensor(counts) / n_row, 1.0 / n_row)
        kl = th.kl_divergence(p, q_wd).reshape(len(N), draws).mean(1)
        assert cu.fit_power_law(N, kl).alpha == pytest.approx(1.0, abs=0.08)
        assert N[-1] * kl[-1] == pytest.approx((K - 1) / 2, rel=0.12)
    finally:
        torch.set_default_dtype(torch_dtype)


def test_online_sgd_with_averaging_learns_at_the_rate_of_counting():
    torch_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        from course_utils.data.counting import sample_labels
        rng = np.random.default_rng(4)
        K, draws, N_max = 5, 500, 4_000
        p = zipf_probabilities(K, 1.0)
        x = torch.tensor(sample_labels(p, N_max, draws, rng))
        checkpoints = (500, 1_000, 2_000, 4_000)
        theta, avg, rows, kl = torch.zeros(draws, K), torch.zeros(draws, K), torch.arange(draws), []
        for t in range(1, N_max + 1):
            grad = torch.softmax(theta, 1)
            grad[rows, x[:, t - 1]] -= 1.0
            theta -= 2.0 * t ** -0.5 * grad
            avg += (theta - avg) / t
            if t in checkpoints:
                kl.append(th.kl_divergence(p, torch.softmax(avg, 1).numpy()).mean())
        kl = np.array(kl)
        assert cu.fit_power_law(checkpoints, kl).alpha == pytest.approx(1.0, abs=0.1)
        assert N_max * kl[-1] == pytest.approx((K - 1) / 2, rel=0.15)
    finally:
        torch.set_default_dtype(torch_dtype)
