"""Unit tests of course_utils.theory.quanta: each closed form against a simulation or a sum."""

import math

import numpy as np
import pytest

import course_utils as cu
from course_utils.theory import quanta


def test_exponents():
    e = quanta.exponents(1.0)
    assert e == pytest.approx({"time": 0.5, "data": 0.5, "parameters": 1.0, "compute": 1 / 3})
    assert quanta.exponents(0.5)["compute"] == pytest.approx(0.2)


def test_skill_strength_solves_the_ode():
    p, S, s0 = np.array([0.3, 0.05]), 2.0, 1e-3
    t = np.linspace(0.0, 40.0, 401)[:, None]
    s = quanta.skill_strength(t, p, S, s0)
    assert np.allclose(s[0], s0)
    ds = np.gradient(s, t[:, 0], axis=0)
    assert np.allclose(ds[1:-1], (2 * p * s * (S - s))[1:-1], rtol=2e-2, atol=1e-4)
    th = quanta.half_time(p, S, s0)
    assert np.allclose(quanta.skill_strength(th, p, S, s0), S / 2)


def test_gradient_descent_approaches_gradient_flow_at_small_learning_rate():
    p = quanta.skill_probabilities(20, 1.0)
    lr, steps = 0.05, 4000
    rec = np.arange(0, steps + 1, 100)
    s = quanta.gradient_descent(p, steps, lr, a0=0.05, record_steps=rec)
    flow = quanta.skill_strength(lr * rec[:, None], p, s0=0.05 ** 2)
    assert np.max(np.abs(s - flow)) < 0.02
    # unbalanced start: gradient flow conserves a² − b²; the strengths still rise to S
    s_unb = quanta.gradient_descent(p[:3], 4000, 0.05, a0=0.1, b0=0.02, record_steps=[4000])
    assert np.allclose(s_unb, 1.0, atol=1e-3)


def test_loss_time_matches_gd_and_the_time_law_prefactor():
    for alpha in (0.5, 1.0):
        p = quanta.skill_probabilities(20_000, alpha)
        tau = np.geomspace(1e3, 1e5, 5)
        exact = quanta.loss_time(tau / 2, p)
        asym = quanta.time_law_prefactor(alpha, 20_000) * tau ** (-alpha / (alpha + 1))
        tail = quanta.zipf_tail(20_000, alpha)       # the continuum counts skills beyond n_s
        assert np.allclose(exact, asym - tail, rtol=0.01), alpha
        assert not np.allclose(exact, asym, rtol=0.01) or alpha == 1.0


def test_time_law_exponent_from_gradient_descent():
    p = quanta.skill_probabilities(3000, 1.0)
    rec = np.unique(np.round(np.geomspace(300, 20_000, 12)).astype(int))
    s = quanta.gradient_descent(p, int(rec[-1]), 1.0, a0=0.01, record_steps=rec)
    assert cu.fit_power_law(rec, quanta.loss_from_strengths(s, p)).alpha == pytest.approx(0.5, abs=0.02)


def test_expected_data_loss_against_sampling_and_its_asymptote():
    rng = np.random.default_rng(0)
    p = quanta.skill_probabilities(500, 1.0)
    for D in (20, 200):
        unseen = [p[np.bincount(rng.choice(500, size=D, p=p), minlength=500) == 0].sum() for _ in range(3000)]
        assert np.mean(unseen) == pytest.approx(float(quanta.expected_loss_data(D, p)), rel=0.03)
    for alpha in (0.5, 1.0):
        p = quanta.skill_probabilities(200_000, alpha)
        D = np.array([1e3, 1e4])
        assert np.allclose(quanta.expected_loss_data(D, p), quanta.data_law_prefactor(alpha, 200_000)
                           * D ** (-alpha / (alpha + 1)) - quanta.zipf_tail(200_000, alpha), rtol=0.02)


def test_parameter_law_and_its_finite_size_correction():
    for alpha, n_s in [(1.0, 100), (0.5, 1000), (1.0, 10**5)]:
        p = quanta.skill_probabilities(n_s, alpha)
        N = np.array([3, 10, 30, min(60, n_s - 10)])
        exact = quanta.loss_parameters(N, p)
        assert np.allclose(exact, [p[n:].sum() for n in N])
        assert np.allclose(quanta.parameter_law_asymptote(N, alpha, n_s), exact, rtol=0.01)
    p = quanta.skill_probabilities(100, 1.0)
    N = np.arange(1, 61)
    naive = cu.fit_power_law(N, quanta.loss_parameters(N, p)).alpha
    assert abs(naive - 1.0) > 0.05          # the naive fit is visibly off at n_s = 100


def test_loss_with_units_and_loss_time_parameters():
    p = quanta.skill_probabilities(50, 1.0)
    s = quanta.skill_strength(30.0, p)
    L = quanta.loss_with_units(s, p, [0, 10, 50])
    assert L[0] == pytest.approx(1.0)
    assert L[2] == pytest.approx(quanta.loss_from_strengths(s, p))
    assert L[1] == pytest.approx(quanta.loss_time_parameters(30.0, 10, p))


def test_compute_frontier_exponents():
    p = quanta.skill_probabilities(20_000, 1.0)
    C = np.geomspace(1e4, 1e7, 8)
    L, N = quanta.compute_frontier(C, p, n_grid=120)
    assert cu.fit_power_law(C, L).alpha == pytest.approx(1 / 3, abs=0.02)
    assert -cu.fit_power_law(C, N).alpha == pytest.approx(1 / 3, abs=0.05)


def test_lower_envelope():
    env = quanta.lower_envelope([1, 2, 3, 4], [5.0, 3.0, 4.0, 1.0], [0.5, 1, 2.5, 3.5, 10])
    assert np.isnan(env[0]) and np.allclose(env[1:], [5.0, 3.0, 3.0, 1.0])


def test_bad_arguments_raise():
    p = quanta.skill_probabilities(5, 1.0)
    with pytest.raises(ValueError):
        quanta.exponents(0.0)
    with pytest.raises(ValueError):
        quanta.skill_strength(1.0, p, S=1.0, s0=2.0)
    with pytest.raises(ValueError):
        quanta.gradient_descent(p, 10, lr=10.0)             # unstable
    with pytest.raises(ValueError):
        quanta.gradient_descent(p, 10, lr=0.1, record_steps=[5, 3])
    with pytest.raises(ValueError):
        quanta.loss_from_strengths(np.zeros(4), p)
    with pytest.raises(ValueError):
        quanta.loss_time(1.0, np.array([0.5, 0.6]))          # not a distribution
    with pytest.raises(ValueError):
        quanta.loss_parameters(2.5, p)
    with pytest.raises(ValueError):
        quanta.loss_with_units(np.zeros(5), p, [6])
    with pytest.raises(ValueError):
        quanta.half_time(np.array([0.0, 1.0]))
    with pytest.raises(ValueError):
        quanta.compute_frontier([0.5], p)
    with pytest.raises(ValueError):
        quanta.expected_loss_data(-1, p)
    assert quanta.normaliser(math.inf, 1.0) == pytest.approx(math.pi ** 2 / 6)


def test_gradient_descent_fast_path_is_the_two_vector_update():
    """a0 = b0 runs one vector in place; it must equal the plain two-vector update bit for bit."""
    p = quanta.skill_probabilities(50, 0.6)
    rec = np.array([0, 1, 7, 100, 999])
    fast = quanta.gradient_descent(p, 999, 0.8, a0=0.03, record_steps=rec)
    a = b = np.full(p.size, 0.03)
    ref = []
    for step in range(1000):
        if step in rec:
            ref.append(a * b)
        err = 0.8 * p * (1.0 - a * b)
        a, b = a + err * b, b + err * a
    assert np.array_equal(fast, np.array(ref))


def test_logistic_fit_and_calibrated_sigmoids():
    p = np.array([0.5, 0.2, 0.05])
    t = np.linspace(0, 400, 801)
    # the multilinear sigmoids are logistic in t with r_k t_k = ln(S/s0 - 1) for every skill
    s = quanta.skill_strength(t[:, None], p, s0=1e-3)
    t_h, r = quanta.fit_logistic(t, s[:, 0])
    assert t_h == pytest.approx(quanta.half_time(p[0], s0=1e-3), rel=1e-6)
    assert r == pytest.approx(2 * p[0], rel=1e-6)
    assert np.allclose(quanta.calibrated_sigmoids(t, p, p[0], t_h, r), s, atol=1e-6)
    with pytest.raises(ValueError):
        quanta.fit_logistic(t, np.zeros_like(t))          # never crosses one half
    with pytest.raises(ValueError):
        quanta.logistic(t, -1.0, 1.0)


def test_count_threshold_law_and_its_fit():
    n = np.array([10.0, 100.0, 300.0, 1000.0, 3000.0])
    a = quanta.count_threshold_law(n, 400.0)
    assert np.allclose(a, [0.025, 0.25, 0.75, 1.0, 1.0])
    assert quanta.fit_count_threshold(n, a) == pytest.approx(400.0, rel=1e-4)
    with pytest.raises(ValueError):
        quanta.count_threshold_law(n, 0.0)
    with pytest.raises(ValueError):
        quanta.fit_count_threshold(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
