"""course_utils.theory.quanta: bad arguments end in a clear ArgumentError naming the argument; the closed forms
against their sums, the ODE, gradient descent by hand and brute-force minimisation (hypothesis properties)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import quanta as Q
from course_utils.validate import ArgumentError

NAN = float("nan")
P5 = Q.skill_probabilities(5, 1.0)

BAD = {
    "alpha zero": (lambda: Q.exponents(0.0), "alpha"),
    "alpha NaN": (lambda: Q.exponents(NAN), "alpha"),
    "alpha string": (lambda: Q.normaliser(5, "1"), "alpha"),
    "n_skills zero": (lambda: Q.skill_probabilities(0, 1.0), "n_skills"),
    "n_skills fractional": (lambda: Q.normaliser(2.5, 1.0), "n_skills"),
    "n_skills NaN": (lambda: Q.zipf_tail(NAN, 1.0), "n_skills"),
    "n_skills -inf": (lambda: Q.zipf_tail(-math.inf, 1.0), "n_skills"),
    "prefactor n_skills": (lambda: Q.time_law_prefactor(1.0, 0), "n_skills"),
    "data prefactor n_skills": (lambda: Q.data_law_prefactor(1.0, 1.5), "n_skills"),
    "S zero": (lambda: Q.skill_strength(1.0, P5, S=0.0), "S \\(the target scale\\)"),
    "S NaN": (lambda: Q.half_time(P5, S=NAN), "S \\(the target scale\\)"),
    "s0 ≥ S": (lambda: Q.skill_strength(1.0, P5, S=1.0, s0=2.0), "s0 \\(the initial strength\\)"),
    "s0 zero": (lambda: Q.half_time(P5, s0=0.0), "s0"),
    "s0 NaN": (lambda: Q.loss_time(1.0, P5, s0=NAN), "s0"),
    "t negative": (lambda: Q.skill_strength(-1.0, P5), "times t and rates p"),
    "t NaN": (lambda: Q.skill_strength(NAN, P5), "t must contain only finite"),
    "p negative": (lambda: Q.skill_strength(1.0, [-0.1]), "times t and rates p"),
    "t/p shapes": (lambda: Q.skill_strength(np.ones(3), np.ones(2) / 2), "must broadcast"),
    "half_time p zero": (lambda: Q.half_time(np.array([0.0, 1.0])), "p must be positive"),
    "half_time p NaN": (lambda: Q.half_time([NAN]), "p must contain only finite"),
    "gd unstable": (lambda: Q.gradient_descent(P5, 10, lr=10.0), "unstable"),
    "gd lr zero": (lambda: Q.gradient_descent(P5, 10, lr=0.0), "lr"),
    "gd lr NaN": (lambda: Q.gradient_descent(P5, 10, lr=NAN), "lr"),
    "gd steps negative": (lambda: Q.gradient_descent(P5, -1, lr=0.1), "steps"),
    "gd steps fractional": (lambda: Q.gradient_descent(P5, 2.5, lr=0.1), "steps"),
    "gd p 2-d": (lambda: Q.gradient_descent(np.ones((2, 2)), 5, lr=0.1), "p must have 1 dim"),
    "gd p negative": (lambda: Q.gradient_descent([-0.1, 0.5], 5, lr=0.1), "non-negative rates"),
    "gd p NaN": (lambda: Q.gradient_descent([NAN], 5, lr=0.1), "p must contain only finite"),
    "gd a0 NaN": (lambda: Q.gradient_descent(P5, 5, lr=0.1, a0=NAN), "a0 must be"),
    "gd b0 NaN": (lambda: Q.gradient_descent(P5, 5, lr=0.1, b0=NAN), "b0 must be"),
    "gd a0 b0 too large": (lambda: Q.gradient_descent(P5, 5, lr=0.1, a0=2.0), "a0 · b0"),
    "gd a0 b0 negative": (lambda: Q.gradient_descent(P5, 5, lr=0.1, a0=0.1, b0=-0.1), "a0 · b0"),
    "gd S": (lambda: Q.gradient_descent(P5, 5, lr=0.1, S=-1.0), "S \\(the target scale\\)"),
    "gd record order": (lambda: Q.gradient_descent(P5, 10, lr=0.1, record_steps=[5, 3]), "record_steps must increase"),
    "gd record repeated": (lambda: Q.gradient_descent(P5, 10, lr=0.1, record_steps=[3, 3]), "record_steps must incr"),
    "gd record beyond": (lambda: Q.gradient_descent(P5, 10, lr=0.1, record_steps=[11]), "record_steps must incr"),
    "gd record negative": (lambda: Q.gradient_descent(P5, 10, lr=0.1, record_steps=[-1]), "record_steps must"),
    "gd record fractional": (lambda: Q.gradient_descent(P5, 10, lr=0.1, record_steps=[1.5]), "record_steps must hold"),
    "loss s length": (lambda: Q.loss_from_strengths(np.zeros(4), P5), "s has 4 skills"),
    "loss s scalar": (lambda: Q.loss_from_strengths(0.5, P5), "s must hold one strength per skill"),
    "loss s NaN": (lambda: Q.loss_from_strengths(np.full(5, NAN), P5), "s must contain only finite"),
    "loss S zero": (lambda: Q.loss_from_strengths(np.zeros(5), P5, S=0.0), "S must be a finite number > 0"),
    "p not a distribution": (lambda: Q.loss_time(1.0, np.array([0.5, 0.6])), "p must be a 1-d array of skill prob"),
    "p negative entry": (lambda: Q.loss_time(1.0, np.array([1.5, -0.5])), "p must be a 1-d array of skill prob"),
    "p empty": (lambda: Q.loss_parameters(1, []), "p must not be empty"),
    "p 2-d": (lambda: Q.expected_loss_data(1, np.ones((2, 2)) / 4), "p must have 1 dim"),
    "loss_time t NaN": (lambda: Q.loss_time(NAN, P5), "t must contain only finite"),
    "D negative": (lambda: Q.expected_loss_data(-1, P5), "D"),
    "D NaN": (lambda: Q.expected_loss_data(NAN, P5), "D must contain only finite"),
    "N fractional": (lambda: Q.loss_parameters(2.5, P5), "N \\(the number of skill units\\)"),
    "N negative": (lambda: Q.loss_parameters(-1, P5), "N \\(the number of skill units\\)"),
    "N NaN": (lambda: Q.loss_parameters(NAN, P5), "N must contain only finite"),
    "asymptote N negative": (lambda: Q.parameter_law_asymptote(-1.0, 1.0), "N \\(the number of skill units\\)"),
    "asymptote N NaN": (lambda: Q.parameter_law_asymptote(NAN, 1.0), "N must contain only finite"),
    "units N > n_s": (lambda: Q.loss_with_units(np.zeros(5), P5, [6]), "N must hold whole numbers in \\[0, 5\\]"),
    "units N fractional": (lambda: Q.loss_with_units(np.zeros(5), P5, [2.5]), "N must hold whole numbers"),
    "units s length": (lambda: Q.loss_with_units(np.zeros(4), P5, [2]), "s has 4 skills"),
    "units s scalar": (lambda: Q.loss_with_units(0.0, P5, [2]), "s must hold one strength"),
    "units S": (lambda: Q.loss_with_units(np.zeros(5), P5, [2], S=NAN), "S must be a finite"),
    "envelope sizes": (lambda: Q.lower_envelope([1, 2], [1.0], [1.0]), "x and y must have the same size"),
    "envelope NaN": (lambda: Q.lower_envelope([1, NAN], [1.0, 2.0], [1.0]), "x must contain only finite"),
    "envelope y NaN": (lambda: Q.lower_envelope([1, 2], [1.0, NAN], [1.0]), "y must contain only finite"),
    "envelope x_eval NaN": (lambda: Q.lower_envelope([1, 2], [1.0, 2.0], [NAN]), "x_eval must contain"),
    "ltp N fractional": (lambda: Q.loss_time_parameters(1.0, 2.5, P5), "N \\(the number of skill units\\)"),
    "ltp N negative": (lambda: Q.loss_time_parameters(1.0, -1, P5), "N \\(the number of skill units\\)"),
    "ltp shapes": (lambda: Q.loss_time_parameters(np.ones(3), np.ones(2, dtype=int), P5), "must broadcast"),
    "ltp t NaN": (lambda: Q.loss_time_parameters(NAN, 2, P5), "t must contain only finite"),
    "frontier C < 1": (lambda: Q.compute_frontier([0.5], P5), "compute C"),
    "frontier C NaN": (lambda: Q.compute_frontier([NAN], P5), "C must contain only finite"),
    "frontier lr": (lambda: Q.compute_frontier([10.0], P5, lr=0.0), "lr must be"),
    "frontier n_grid": (lambda: Q.compute_frontier([10.0], P5, n_grid=0), "n_grid"),
    "logistic t_half": (lambda: Q.logistic(1.0, -1.0, 1.0), "t_half"),
    "logistic rate": (lambda: Q.logistic(1.0, 1.0, NAN), "rate"),
    "logistic t NaN": (lambda: Q.logistic(NAN, 1.0, 1.0), "t must contain only finite"),
    "fit never crosses": (lambda: Q.fit_logistic(np.arange(5.0), np.zeros(5)), "cross one half"),
    "fit lengths": (lambda: Q.fit_logistic(np.arange(5.0), np.zeros(4)), "a has shape"),
    "fit too short": (lambda: Q.fit_logistic([1.0, 2.0], [0.0, 1.0]), "at least 3 points"),
    "fit NaN": (lambda: Q.fit_logistic([1.0, 2.0, NAN], [0.0, 0.5, 1.0]), "t must contain only finite"),
    "fit no positive time": (lambda: Q.fit_logistic([-2.0, -1.0, 0.0], [0.0, 0.6, 1.0]), "positive times"),
    "calibrated p": (lambda: Q.calibrated_sigmoids([1.0], [0.0, 0.5], 0.5, 1.0, 1.0), "p must be positive"),
    "calibrated p_ref": (lambda: Q.calibrated_sigmoids([1.0], [0.5], 0.0, 1.0, 1.0), "p_ref"),
    "calibrated t_half": (lambda: Q.calibrated_sigmoids([1.0], [0.5], 0.5, NAN, 1.0), "t_half"),
    "calibrated t NaN": (lambda: Q.calibrated_sigmoids([NAN], [0.5], 0.5, 1.0, 1.0), "t must contain only finite"),
    "D_c zero": (lambda: Q.count_threshold_law([1.0], 0.0), "D_c"),
    "D_c NaN": (lambda: Q.count_threshold_law([1.0], NAN), "D_c"),
    "n negative": (lambda: Q.count_threshold_law([-1.0], 1.0), "n \\(the sample counts\\)"),
    "n NaN": (lambda: Q.count_threshold_law([NAN], 1.0), "n must contain only finite"),
    "fit_ct n zero": (lambda: Q.fit_count_threshold(np.array([0.0, 1.0]), np.array([0.0, 1.0])), "n > 0"),
    "fit_ct lengths": (lambda: Q.fit_count_threshold(np.array([1.0, 2.0]), np.array([0.0])), "same shape"),
    "fit_ct one point": (lambda: Q.fit_count_threshold([1.0], [1.0]), "at least 2 points"),
    "fit_ct NaN": (lambda: Q.fit_count_threshold([1.0, 2.0], [NAN, 1.0]), "a must contain only finite"),
}


@pytest.mark.parametrize("call, message", BAD.values(), ids=BAD.keys())
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_valid_edge_cases_are_accepted():
    assert Q.normaliser(np.int64(3), 1.0) == pytest.approx(1 + 1 / 4 + 1 / 9)
    assert Q.normaliser(3.0, 1.0) == pytest.approx(1 + 1 / 4 + 1 / 9)
    assert Q.zipf_tail(np.inf, 2.0) == 0.0
    assert Q.data_law_prefactor(1.0) == pytest.approx(Q.normaliser(math.inf, 1.0) ** -0.5 * math.gamma(0.5) * 0.5)
    assert Q.gradient_descent(P5, 0, lr=0.1).shape == (1, 5)
    assert Q.gradient_descent(P5, 5, lr=0.1, record_steps=[]).shape == (0, 5)
    assert Q.gradient_descent([], 5, lr=0.1).shape == (6, 0)                 # no skills
    assert Q.loss_parameters(0, P5) == pytest.approx(1.0)
    assert Q.loss_parameters(7, P5) == 0.0                                    # more units than skills
    assert Q.expected_loss_data(0, P5) == pytest.approx(1.0)
    assert np.allclose(Q.expected_loss_data([0, 1, 3], [1.0]), [1.0, 0.0, 0.0], atol=1e-15)   # p = 1: no NaN at D = 0
    assert Q.count_threshold_law([], 2.0).shape == (0,)


@settings(max_examples=20, deadline=None, database=None)
@given(n=st.integers(1, 40), alpha=st.floats(0.2, 3.0))
def test_probabilities_normaliser_and_tail(n, alpha):
    k = np.arange(1, n + 1)
    Z = np.sum(k ** -(alpha + 1.0))
    assert Q.normaliser(n, alpha) == pytest.approx(Z, rel=1e-12)
    assert np.allclose(Q.skill_probabilities(n, alpha), k ** -(alpha + 1.0) / Z, rtol=1e-6)
    assert Q.zipf_tail(n, alpha) == pytest.approx((n + 0.5) ** -alpha / (alpha * Z))
    e = Q.exponents(alpha)
    assert e["time"] == e["data"] == pytest.approx(alpha / (alpha + 1))
    assert e["parameters"] == alpha and e["compute"] == pytest.approx(alpha / (alpha + 2))
    assert Q.data_law_prefactor(alpha, n) == pytest.approx(Z ** (-1 / (alpha + 1)) * math.gamma(alpha / (alpha + 1))
                                                           / (alpha + 1))


@settings(max_examples=30, deadline=None, database=None)
@given(p=st.floats(0.01, 1.0), S=st.floats(0.2, 3.0), r=st.floats(1e-4, 0.9), t=st.floats(0.0, 20.0))
def test_skill_strength_solves_its_ode_and_the_half_time(p, S, r, t):
    s0 = r * S
    s = Q.skill_strength(t, p, S, s0)
    h = 1e-6
    ds = (Q.skill_strength(t + h, p, S, s0) - Q.skill_strength(max(t - h, 0.0), p, S, s0)) / (t + h - max(t - h, 0))
    assert ds == pytest.approx(2 * p * s * (S - s), rel=1e-4, abs=1e-7)
    assert Q.skill_strength(0.0, p, S, s0) == pytest.approx(s0)
    if r < 0.5:
        assert Q.skill_strength(Q.half_time(p, S, s0), p, S, s0) == pytest.approx(S / 2)
        assert Q.half_time(p, S, s0) == pytest.approx(math.log(S / s0 - 1) / (2 * S * p))


def test_gradient_descent_by_hand():
    p = np.array([0.5, 0.3, 0.2])
    a, b = np.full(3, 0.1), np.full(3, 0.2)
    lr, S = 0.7, 1.5
    ref = [a * b]
    for _ in range(6):
        err = lr * p * (S - a * b)
        a, b = a + err * b, b + err * a
        ref.append(a * b)
    out = Q.gradient_descent(p, 6, lr, S=S, a0=0.1, b0=0.2)
    assert np.allclose(out, ref, rtol=1e-13)
    assert np.allclose(Q.gradient_descent(p, 6, lr, S=S, a0=0.1, b0=0.2, record_steps=[2, 6]), np.array(ref)[[2, 6]])
    same = Q.gradient_descent(p, 6, lr, S=S, a0=0.3)                              # the balanced fast path
    a = np.full(3, 0.3)
    ref = [a * a]
    for _ in range(6):
        a = a + lr * p * (S - a * a) * a
        ref.append(a * a)
    assert np.allclose(same, ref, rtol=1e-13)
    assert np.allclose(Q.gradient_descent(p, 6, lr, S=S, a0=0.3, record_steps=[0, 3]), np.array(ref)[[0, 3]])
    # the stability limit lr · 2 S max p < 2 is strict
    with pytest.raises(ArgumentError, match="unstable"):
        Q.gradient_descent(p, 2, 1 / (S * 0.5), S=S)
    assert Q.gradient_descent(p, 2, 0.999 / (S * 0.5), S=S).shape == (3, 3)


@settings(max_examples=25, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), S=st.floats(0.5, 2.0))
def test_losses_from_their_sums(seed, n, S):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(n))
    s = rng.uniform(0, S, (3, n))
    L = [sum(p[k] * (1 - s[r, k] / S) ** 2 for k in range(n)) for r in range(3)]
    assert np.allclose(Q.loss_from_strengths(s, p, S), L)
    N = np.arange(n + 1)
    units = [[sum(p[k] * (1 - s[r, k] / S) ** 2 for k in range(m)) + sum(p[m:]) for m in N] for r in range(3)]
    assert np.allclose(Q.loss_with_units(s, p, N, S), units)
    assert np.allclose(Q.loss_parameters(N, p), [sum(p[m:]) for m in N])
    D = np.array([0, 1, 5, 40])
    assert np.allclose(Q.expected_loss_data(D, p), [sum(pk * (1 - pk) ** d for pk in p) for d in D])
    t = rng.uniform(0, 30)
    st_ = Q.skill_strength(t, p, S, 1e-3 * S)
    assert Q.loss_time(t, p, S, 1e-3 * S) == pytest.approx(float(Q.loss_from_strengths(st_, p, S)))
    for m in (0, n // 2, n):
        expect = sum(p[k] * (1 - st_[k] / S) ** 2 for k in range(m)) + sum(p[m:])
        assert Q.loss_time_parameters(t, m, p, S, 1e-3 * S) == pytest.approx(expect)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_parameter_law_asymptote_is_the_midpoint_sum(alpha):
    n_s = 400
    p = Q.skill_probabilities(n_s, alpha)
    N = np.array([20, 100, 300])                  # midpoint rule: relative error ≈ (α+1)(α+2)/(24N²)
    assert np.allclose(Q.parameter_law_asymptote(N, alpha, n_s), [p[n:].sum() for n in N], rtol=3e-3)
    assert Q.parameter_law_asymptote(10, alpha) == pytest.approx(10.5 ** -alpha / (alpha * Q.normaliser(math.inf, alpha)))


def test_time_law_prefactor_is_the_continuum_integral():
    alpha, S, s0 = 1.0, 2.0, 1e-3
    R, q = S / s0 - 1, 1 / (alpha + 1)
    v = np.geomspace(1e-12, 100.0, 400_001)
    h = (R * np.exp(-v) / (1 + R * np.exp(-v))) ** 2
    f = v ** -q * h
    integral = np.sum((f[1:] + f[:-1]) / 2 * np.diff(v)) + 1e-12 ** (1 - q) / (1 - q)
    assert Q.time_law_prefactor(alpha, math.inf, S, s0) == pytest.approx(
        Q.normaliser(math.inf, alpha) ** -q * q * integral, rel=1e-4)
    assert Q.time_law_prefactor(alpha, 50, S, s0) == pytest.approx(
        Q.normaliser(50, alpha) ** -q * q * integral, rel=1e-4)


@settings(max_examples=25, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 15))
def test_lower_envelope_by_brute_force(seed, n):
    rng = np.random.default_rng(seed)
    x, y = rng.integers(1, 10, n).astype(float), rng.standard_normal(n)
    ev = np.array([0.5, 1.0, 3.0, 5.5, 9.0, 12.0])
    expect = [min((yi for xi, yi in zip(x, y) if xi <= e), default=np.nan) for e in ev]
    assert np.allclose(Q.lower_envelope(x, y, ev), expect, equal_nan=True)


def test_compute_frontier_by_brute_force():
    p = Q.skill_probabilities(30, 1.0)
    C = np.array([1.0, 7.0, 100.0, 2000.0])
    L, N = Q.compute_frontier(C, p, lr=0.5, n_grid=30)
    for c, l_best, n_best in zip(C, L, N):
        cands = {int(m): float(Q.loss_time_parameters(0.5 * c / m, int(m), p)) for m in range(1, 31) if c / m >= 1}
        assert l_best == pytest.approx(min(cands.values()))
        assert cands[int(n_best)] == pytest.approx(l_best)


@settings(max_examples=20, deadline=None, database=None)
@given(t_half=st.floats(1.0, 50.0), rate=st.floats(0.05, 2.0))
def test_logistic_fit_and_calibration(t_half, rate):
    t = np.linspace(0, 2 * t_half + 10 / rate, 60)
    a = 1 / (1 + np.exp(-rate * (t - t_half)))
    assert np.allclose(Q.logistic(t, t_half, rate), a)
    th, r = Q.fit_logistic(t, a)
    assert th == pytest.approx(t_half, rel=1e-5) and r == pytest.approx(rate, rel=1e-5)
    p = np.array([0.4, 0.1])
    cal = Q.calibrated_sigmoids(t, p, 0.4, t_half, rate)
    assert np.allclose(cal[:, 0], a)
    assert np.allclose(cal[:, 1], 1 / (1 + np.exp(-rate * 0.25 * (t - 4 * t_half))))   # t_k = t_ref p_ref/p_k
    assert Q.logistic(1e6, t_half, rate) == 1.0 and Q.logistic(-1e6, 1.0, 1.0) < 1e-300   # clipped, no overflow


@settings(max_examples=20, deadline=None, database=None)
@given(D_c=st.floats(20.0, 2000.0))
def test_count_threshold_law_and_fit(D_c):
    n = np.geomspace(5.0, 5000.0, 12)
    a = Q.count_threshold_law(n, D_c)
    assert np.allclose(a, np.minimum(n / D_c, 1.0))
    assert Q.fit_count_threshold(n, a) == pytest.approx(D_c, rel=1e-4)


def test_defaults_are_the_documented_ones():
    """S = 1, s0 = 1e-4, n_skills = ∞, lr = 1 and n_grid = 200 (compute_frontier), a0 = 1e-2, b0 = a0."""
    p = Q.skill_probabilities(40, 1.0)
    assert np.array_equal(Q.skill_strength(3.0, p), Q.skill_strength(3.0, p, 1.0, 1e-4))
    assert np.array_equal(Q.half_time(p), Q.half_time(p, 1.0, 1e-4))
    assert Q.half_time(0.5) == pytest.approx(math.log(1e4 - 1))
    assert np.array_equal(Q.loss_time(3.0, p), Q.loss_time(3.0, p, 1.0, 1e-4))
    assert Q.time_law_prefactor(1.0) == Q.time_law_prefactor(1.0, math.inf, 1.0, 1e-4)
    assert Q.data_law_prefactor(1.0) == Q.data_law_prefactor(1.0, math.inf)
    assert np.array_equal(Q.parameter_law_asymptote(5, 1.0), Q.parameter_law_asymptote(5, 1.0, math.inf))
    s = Q.skill_strength(3.0, p)
    assert Q.loss_from_strengths(s, p) == Q.loss_from_strengths(s, p, 1.0)
    assert np.array_equal(Q.loss_with_units(s, p, [3]), Q.loss_with_units(s, p, [3], 1.0))
    assert Q.loss_time_parameters(3.0, 5, p) == Q.loss_time_parameters(3.0, 5, p, 1.0, 1e-4)
    L1, N1 = Q.compute_frontier([300.0], p)
    L2, N2 = Q.compute_frontier([300.0], p, 1.0, 1.0, 1e-4, 200)
    assert np.array_equal(L1, L2) and np.array_equal(N1, N2)
    assert not np.array_equal(L1, Q.compute_frontier([300.0], p, lr=2.0)[0])
    assert np.array_equal(Q.gradient_descent(p, 5, 0.5), Q.gradient_descent(p, 5, 0.5, S=1.0, a0=1e-2, b0=1e-2))
    assert Q.gradient_descent(p, 0, 0.5)[0, 0] == pytest.approx(1e-4)


def test_empty_inputs_give_empty_results():
    e = np.array([])
    assert Q.skill_strength(e, 0.5).shape == (0,) and Q.skill_strength(1.0, e).shape == (0,)
    assert Q.half_time(e).shape == (0,)
    assert Q.loss_time(e, P5).shape == (0,)
    assert Q.expected_loss_data(e, P5).shape == (0,)
    assert Q.loss_parameters(e, P5).shape == (0,)
    assert Q.parameter_law_asymptote(e, 1.0).shape == (0,)
    assert Q.loss_with_units(np.zeros(5), P5, []).shape == (0,)
    assert Q.lower_envelope([1.0], [2.0], e).shape == (0,)
    assert Q.loss_time_parameters(e, 2, P5).shape == (0,)
    assert Q.loss_time_parameters(1.0, np.array([], dtype=int), P5).shape == (0,)
    assert Q.compute_frontier(e, P5)[0].shape == (0,)
    assert Q.logistic(e, 1.0, 1.0).shape == (0,)
    assert Q.calibrated_sigmoids(e, [0.5], 0.5, 1.0, 1.0).shape == (0, 1)
    assert Q.calibrated_sigmoids([1.0], e, 0.5, 1.0, 1.0).shape == (1, 0)
