"""course_utils.theory.layerwise: bad arguments end in a clear ArgumentError naming the argument; the closed
forms against numerical derivatives, quadratures and special cases (hypothesis properties)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad, solve_ivp
from scipy.linalg import expm

from course_utils.theory import layerwise as lw
from course_utils.validate import ArgumentError

NAN = float("nan")
W1, W2, M = np.ones((4, 3)), np.ones((2, 4)), np.ones((2, 3))

BAD = {
    "linear t NaN": (lambda: lw.linear_mode(NAN, 1.0, 1.0), "t \\(the times\\) must contain only finite"),
    "linear t negative": (lambda: lw.linear_mode(-1.0, 1.0, 1.0), "times \\(t\\) must be non-negative"),
    "linear lam NaN": (lambda: lw.linear_mode(1.0, NAN, 1.0), "lam must contain only finite"),
    "linear lam zero": (lambda: lw.linear_mode(1.0, 0.0, 1.0), "lam must be finite and positive"),
    "linear lam string": (lambda: lw.linear_mode(1.0, "1", 1.0), "lam must be"),
    "linear S NaN": (lambda: lw.linear_mode(1.0, 1.0, NAN), "S must contain only finite"),
    "linear theta0 inf": (lambda: lw.linear_mode(1.0, 1.0, 1.0, np.inf), "theta0 must contain only finite"),
    "linear shapes": (lambda: lw.linear_mode(np.ones(3), np.ones(2), 1.0), "must broadcast"),
    "time_to fraction 1": (lambda: lw.linear_time_to(1.0, 1.0), "fraction must be below 1"),
    "time_to fraction NaN": (lambda: lw.linear_time_to(NAN, 1.0), "fraction must contain only finite"),
    "time_to S zero": (lambda: lw.linear_time_to(0.5, 1.0, S=0.0), "S must be non-zero"),
    "time_to past": (lambda: lw.linear_time_to(0.5, 1.0, theta0=0.8), "already past"),
    "time_to theta0 NaN": (lambda: lw.linear_time_to(0.5, 1.0, theta0=NAN), "theta0 must contain only finite"),
    "diagonal S zero": (lambda: lw.diagonal_mode(1.0, 1.0, 0.0, 0.1), "S must be non-zero"),
    "diagonal saddle": (lambda: lw.diagonal_mode(1.0, 1.0, 1.0, -0.1, 0.0), "saddle"),
    "diagonal w0 NaN": (lambda: lw.diagonal_mode(1.0, 1.0, 1.0, NAN), "w0 must contain only finite"),
    "diagonal c NaN": (lambda: lw.diagonal_mode(1.0, 1.0, 1.0, 0.1, NAN), "c must contain only finite"),
    "diagonal t negative": (lambda: lw.diagonal_mode(-1.0, 1.0, 1.0, 0.1), "times"),
    "diagonal shapes": (lambda: lw.diagonal_mode(np.ones(3), 1.0, np.ones(2), 0.1), "must broadcast"),
    "diagonal lam": (lambda: lw.diagonal_mode(1.0, -1.0, 1.0, 0.1), "lam must be finite and positive"),
    "time_to w beyond S": (lambda: lw.diagonal_time_to(2.0, 1.0, 1.0, 0.1), "between"),
    "time_to w at S": (lambda: lw.diagonal_time_to(1.0, 1.0, 1.0, 0.1), "between"),
    "time_to w before w0": (lambda: lw.diagonal_time_to(0.05, 1.0, 1.0, 0.1), "between"),
    "time_to w NaN": (lambda: lw.diagonal_time_to(NAN, 1.0, 1.0, 0.1), "w must contain only finite"),
    "time_to w shape": (lambda: lw.diagonal_time_to(np.ones(3) * 0.5, 1.0, np.ones(2), 0.1), "must broadcast"),
    "crossing fraction 1": (lambda: lw.crossing_time(1.0, 1.0, 1.0, 0.1), "fraction must lie in \\(0, 1\\)"),
    "crossing fraction 0": (lambda: lw.crossing_time(0.0, 1.0, 1.0, 0.1), "fraction must lie in \\(0, 1\\)"),
    "crossing fraction NaN": (lambda: lw.crossing_time(NAN, 1.0, 1.0, 0.1), "fraction must contain only finite"),
    "crossing S NaN": (lambda: lw.crossing_time(0.5, 1.0, NAN, 0.1), "S must contain only finite"),
    "midpoint w0 ≥ S": (lambda: lw.small_init_midpoint(1.0, 1.0, 1.0), "w0 must be below S"),
    "midpoint w0 zero": (lambda: lw.small_init_midpoint(1.0, 1.0, 0.0), "w0 must be finite and positive"),
    "midpoint S": (lambda: lw.small_init_midpoint(1.0, -1.0, 0.1), "S must be finite and positive"),
    "midpoint shapes": (lambda: lw.small_init_midpoint(np.ones(2), np.ones(3), 0.1), "must broadcast"),
    "rise low > high": (lambda: lw.rise_time(1.0, 1.0, low=0.9, high=0.1), "low"),
    "rise low NaN": (lambda: lw.rise_time(1.0, 1.0, low=NAN), "low must be a finite"),
    "rise high NaN": (lambda: lw.rise_time(1.0, 1.0, high=NAN), "high must be a finite"),
    "rise high 1": (lambda: lw.rise_time(1.0, 1.0, high=1.0), "need 0 < low < high < 1"),
    "rise low 0": (lambda: lw.rise_time(1.0, 1.0, low=0.0), "need 0 < low < high < 1"),
    "rise S": (lambda: lw.rise_time(1.0, 0.0), "S must be finite and positive"),
    "stage lengths": (lambda: lw.is_stage_like([1.0], [2.0, 3.0]), "t_saturate has shape"),
    "stage order": (lambda: lw.is_stage_like([1.0, 2.0], [0.5, 3.0]), "saturate after"),
    "stage equal": (lambda: lw.is_stage_like([1.0, 2.0], [1.0, 3.0]), "saturate after"),
    "stage NaN": (lambda: lw.is_stage_like([1.0, NAN], [2.0, 3.0]), "t_emerge must contain only finite"),
    "stage 2-d": (lambda: lw.is_stage_like(np.ones((2, 2)), np.ones((2, 2))), "t_emerge must have 1 dim"),
    "drift lr": (lambda: lw.conservation_drift(0.0, 1.0, 1.0, 1.0, 0.1), "lr must be a finite number > 0"),
    "drift T": (lambda: lw.conservation_drift(0.1, NAN, 1.0, 1.0, 0.1), "T must be a finite number > 0"),
    "drift lam": (lambda: lw.conservation_drift(0.1, 1.0, -1.0, 1.0, 0.1), "lam must be finite and positive"),
    "drift S NaN": (lambda: lw.conservation_drift(0.1, 1.0, 1.0, NAN, 0.1), "S must contain only finite"),
    "drift w0 NaN": (lambda: lw.conservation_drift(0.1, 1.0, 1.0, 1.0, NAN), "w0 must contain only finite"),
    "drift c NaN": (lambda: lw.conservation_drift(0.1, 1.0, 1.0, 1.0, 0.1, NAN), "c must contain only finite"),
    "drift shapes": (lambda: lw.conservation_drift(0.1, 1.0, np.ones(2), np.ones(3), 0.1), "must broadcast"),
    "depth 0": (lambda: lw.saxe_mode([1.0], 1.0, 0.1, 0), "depth"),
    "depth 2.5": (lambda: lw.saxe_rhs(0.5, 1.0, 2.5), "depth must be an integer ≥ 1"),
    "depth string": (lambda: lw.saxe_time_to(0.5, 1.0, 0.1, "3"), "depth must be an integer"),
    "rhs u NaN": (lambda: lw.saxe_rhs(NAN, 1.0, 2), "u must contain only finite"),
    "rhs s NaN": (lambda: lw.saxe_rhs(0.5, NAN, 2), "s must contain only finite"),
    "rhs lam": (lambda: lw.saxe_rhs(0.5, 1.0, 2, lam=0.0), "lam must be finite and positive"),
    "rhs shapes": (lambda: lw.saxe_rhs(np.ones(2), np.ones(3), 2), "must broadcast"),
    "saxe_mode u0 ≥ s": (lambda: lw.saxe_mode([1.0], 1.0, 2.0, 3), "u0"),
    "saxe_mode s array": (lambda: lw.saxe_mode([1.0], np.ones(2), 0.1, 3), "s must be a single"),
    "saxe_mode lam NaN": (lambda: lw.saxe_mode([1.0], 1.0, 0.1, 3, lam=NAN), "lam must be a finite number > 0"),
    "saxe_mode t inf": (lambda: lw.saxe_mode([np.inf], 1.0, 0.1, 3), "t \\(the times\\) must contain only finite"),
    "saxe_mode t negative": (lambda: lw.saxe_mode([-1.0], 1.0, 0.1, 3), "times \\(t\\) must be non-negative"),
    "time_to u < u0": (lambda: lw.saxe_time_to(0.05, 1.0, 0.1, 3), "u0"),
    "time_to u ≥ s": (lambda: lw.saxe_time_to(1.0, 1.0, 0.1, 3), "u0 ≤ u < s"),
    "time_to u0 ≥ s": (lambda: lw.saxe_time_to(1.5, 1.0, 1.2, 3), "u0 ≤ u < s"),
    "time_to u NaN": (lambda: lw.saxe_time_to(NAN, 1.0, 0.1, 3), "u must contain only finite"),
    "time_to shapes": (lambda: lw.saxe_time_to(np.full(3, 0.5), np.ones(2), 0.1, 3), "must broadcast"),
    "plateau u0": (lambda: lw.saxe_plateau_time(1.0, 0.0, 3), "u0 must be finite and positive"),
    "plateau shapes": (lambda: lw.saxe_plateau_time(np.ones(2), np.full(3, 0.1), 3), "must broadcast"),
    "silent W2 shape": (lambda: lw.silent_alignment_strength(np.zeros((3, 2)), np.zeros((2, 4)), np.zeros((2, 2))),
                        "W2 has shape"),
    "silent M shape": (lambda: lw.silent_alignment_strength(W1, W2, np.ones((3, 3))), "target_map has shape"),
    "silent W1 1-d": (lambda: lw.silent_alignment_strength(np.ones(3), W2, M), "W1 must have 2 dim"),
    "silent NaN": (lambda: lw.silent_alignment_strength(W1 * NAN, W2, M), "W1 must contain only finite"),
    "lazy target shape": (lambda: lw.lazy_residual([np.zeros((3, 2)), np.zeros((2, 3))], np.zeros((3, 3)), [1.0]),
                          "target_map"),
    "lazy chain": (lambda: lw.lazy_residual([np.zeros((3, 2)), np.zeros((2, 4))], np.zeros((2, 2)), [1.0]),
                   "weights\\[1\\] has shape"),
    "lazy empty": (lambda: lw.lazy_residual([], M, [1.0]), "weights must be a non-empty list"),
    "lazy array": (lambda: lw.lazy_residual(np.ones((2, 2)), np.ones((2, 2)), [1.0]), "weights must be a non-empty"),
    "lazy NaN": (lambda: lw.lazy_residual([np.full((2, 2), NAN)], np.ones((2, 2)), [1.0]), "weights\\[0\\] must contain"),
    "lazy lr": (lambda: lw.lazy_residual([np.ones((2, 2))], np.ones((2, 2)), [1.0], lr=-1.0), "lr"),
    "lazy lr NaN": (lambda: lw.lazy_residual([np.ones((2, 2))], np.ones((2, 2)), [1.0], lr=NAN), "lr"),
    "lazy t negative": (lambda: lw.lazy_residual([np.ones((2, 2))], np.ones((2, 2)), [-1.0]), "times"),
}


@pytest.mark.parametrize("call, message", BAD.values(), ids=BAD.keys())
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_valid_edge_cases_are_accepted():
    assert lw.linear_mode(0.0, 1.0, 2.0, 0.5) == 0.5                          # t = 0: the start
    assert lw.linear_time_to(0.0, 2.0) == 0.0                                  # already there (ratio 1)
    assert lw.diagonal_mode(0.0, 1.0, 2.0, 0.3, 0.1) == pytest.approx(0.3)
    assert lw.diagonal_time_to(0.3, 1.0, 2.0, 0.3) == pytest.approx(0.0)        # w = w0 allowed
    assert lw.saxe_time_to(0.1, 1.0, 0.1, 3) == pytest.approx(0.0)              # u = u0 allowed
    assert lw.saxe_mode([], 1.0, 0.1, 3).shape == (0,)
    assert lw.is_stage_like([1.0], [2.0])                                       # one mode: trivially
    assert lw.saxe_plateau_time(1.0, 1e-3, 1) == pytest.approx(np.log(2))
    assert lw.lazy_residual([np.eye(2)], np.eye(2), 0.0).shape == (1, 2, 2)
    assert lw.saxe_rhs(0.5, 1.0, np.int64(2), lam=2) == pytest.approx(2 * 2 * 0.5 * 0.5)


def _derivative(f, t, h=1e-5):
    return (f(t + h) - f(t - h)) / (2 * h)


@settings(max_examples=30, deadline=None, database=None)
@given(lam=st.floats(0.1, 3.0), S=st.floats(-3.0, 3.0).filter(lambda s: abs(s) > 0.1),
       theta0=st.floats(-2.0, 2.0), t=st.floats(0.01, 3.0))
def test_linear_mode_solves_its_ode(lam, S, theta0, t):
    theta = lw.linear_mode(t, lam, S, theta0)
    assert _derivative(lambda x: lw.linear_mode(x, lam, S, theta0), t) == pytest.approx(-lam * (theta - S), abs=1e-6)
    assert lw.linear_mode(0.0, lam, S, theta0) == pytest.approx(theta0)
    f = (theta - 0.0) / S
    if 0 <= f < 1 and abs(theta0) < 1e-12:
        assert lw.linear_time_to(f, lam, theta0, S) == pytest.approx(t, rel=1e-6)


@settings(max_examples=30, deadline=None, database=None)
@given(lam=st.floats(0.2, 2.0), S=st.floats(-3.0, 3.0).filter(lambda s: abs(s) > 0.2),
       a0=st.floats(-1.0, 1.0), b0=st.floats(-1.0, 1.0), t=st.floats(0.01, 2.0))
def test_diagonal_mode_satisfies_its_ode_and_inverts(lam, S, a0, b0, t):
    w0, c = a0 * b0, a0 ** 2 - b0 ** 2
    if abs(c) < 1e-3 and w0 * S <= 1e-3:          # the saddle (refused) and starts too near it
        return
    w = lw.diagonal_mode(t, lam, S, w0, c)
    rhs = lam * (S - w) * np.sqrt(c ** 2 + 4 * w ** 2)
    assert _derivative(lambda x: lw.diagonal_mode(x, lam, S, w0, c), t) == pytest.approx(rhs, abs=1e-5 * (1 + abs(rhs)))
    assert lw.diagonal_mode(0.0, lam, S, w0, c) == pytest.approx(w0, abs=1e-12)
    if (w - w0) * (S - w) > 0 and abs(w - S) > 1e-6 * abs(S) and abs(w - w0) > 1e-6:
        assert lw.diagonal_time_to(w, lam, S, w0, c) == pytest.approx(t, rel=1e-5)


@settings(max_examples=25, deadline=None, database=None)
@given(lam=st.floats(0.2, 2.0), S=st.floats(0.2, 3.0), ratio=st.floats(1e-6, 0.3),
       low=st.floats(0.05, 0.45), high=st.floats(0.55, 0.95))
def test_balanced_times_midpoint_and_rise(lam, S, ratio, low, high):
    w0 = ratio * S
    # the balanced midpoint is exact for the logistic: ln(S/w0 − 1)/(2λS)
    assert lw.small_init_midpoint(lam, S, w0) == pytest.approx(lw.crossing_time(0.5, lam, S, w0), rel=1e-9)
    if low > ratio:
        rise = lw.crossing_time(high, lam, S, w0) - lw.crossing_time(low, lam, S, w0)
        assert lw.rise_time(lam, S, low, high) == pytest.approx(rise, rel=1e-7)
    # the crossing time solves w(t) = fraction·S, also for S < 0 (mirror symmetry)
    t = lw.crossing_time(high, lam, -S, -w0, 0.1)
    assert lw.diagonal_mode(t, lam, -S, -w0, 0.1) == pytest.approx(-high * S, rel=1e-8)


@settings(max_examples=25, deadline=None, database=None)
@given(em=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=5), width=st.lists(st.floats(0.1, 30.0), min_size=5,
                                                                                       max_size=5))
def test_is_stage_like_by_definition(em, width):
    em = np.array(em)
    sat = em + np.array(width[: len(em)])
    order = np.argsort(em)
    expected = all(sat[order[k]] < em[order[k + 1]] for k in range(len(em) - 1))
    assert lw.is_stage_like(em, sat) == expected


def test_conservation_drift_is_the_integral_of_g_squared():
    lam, S, w0, c, lr, T = 0.7, 1.3, 0.01, 0.05, 0.02, 12.0
    t = np.linspace(0, T, 200_001)
    g2 = (lam * (lw.diagonal_mode(t, lam, S, w0, c) - S)) ** 2
    trapezoid = np.sum((g2[1:] + g2[:-1]) / 2) * (t[1] - t[0])
    assert lw.conservation_drift(lr, T, lam, S, w0, c) == pytest.approx(-lr * trapezoid, rel=1e-6)
    both = lw.conservation_drift(lr, T, [lam, 2 * lam], S, w0, c)
    assert both.shape == (2,) and both[0] == pytest.approx(-lr * trapezoid, rel=1e-6)
    # a start past the target (w0 > S): no midpoint, still the integral
    t2 = np.linspace(0, 3.0, 100_001)
    g2 = (lam * (lw.diagonal_mode(t2, lam, S, 2.0, c) - S)) ** 2
    assert lw.conservation_drift(lr, 3.0, lam, S, 2.0, c) == pytest.approx(
        -lr * np.sum((g2[1:] + g2[:-1]) / 2) * (t2[1] - t2[0]), rel=1e-6)


@settings(max_examples=20, deadline=None, database=None)
@given(depth=st.integers(1, 6), s=st.floats(0.5, 3.0), v0=st.floats(1e-3, 0.3), v=st.floats(0.35, 0.95),
       lam=st.floats(0.3, 2.0))
def test_saxe_time_to_is_the_quadrature_and_saxe_mode_inverts_it(depth, s, v0, v, lam):
    u0, u = v0 * s, v * s
    p = 2 - 2 / depth
    exact = quad(lambda x: 1 / (depth * lam * x ** p * (s - x)), u0, u, epsabs=0, epsrel=1e-11, limit=200)[0]
    t = lw.saxe_time_to(u, s, u0, depth, lam)
    assert t == pytest.approx(exact, rel=1e-7)
    assert lw.saxe_mode(np.array([t]), s, u0, depth, lam)[0] == pytest.approx(u, rel=1e-8)
    assert lw.saxe_rhs(u, s, depth, lam) == pytest.approx(depth * lam * u ** p * (s - u))
    assert lw.saxe_rhs(-u, s, depth, lam) == pytest.approx(depth * lam * u ** p * (s + u))   # |u|^p


def test_saxe_mode_closed_forms_at_depth_one_and_two():
    t = np.linspace(0, 4, 9)
    assert np.allclose(lw.saxe_mode(t, 2.0, 0.1, 1, lam=0.5), 2.0 + (0.1 - 2.0) * np.exp(-0.5 * t))
    assert np.allclose(lw.saxe_mode(t, 2.0, 0.1, 2, lam=0.5), 2.0 / (1 + (2.0 / 0.1 - 1) * np.exp(-2 * 0.5 * 2.0 * t)))
    sol = solve_ivp(lambda _, u: lw.saxe_rhs(u, 2.0, 3, 0.5), (0, 4), [0.1], t_eval=t, rtol=1e-12, atol=1e-14)
    assert np.allclose(lw.saxe_mode(t, 2.0, 0.1, 3, lam=0.5), sol.y[0], rtol=1e-7)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_saxe_plateau_time_is_the_small_u0_limit(depth):
    s, lam = 1.7, 0.6
    for u0 in (1e-9, 1e-11):
        exact = lw.saxe_time_to(s / 2, s, u0, depth, lam)
        assert lw.saxe_plateau_time(s, u0, depth, lam) == pytest.approx(exact, rel=0.02)


def test_silent_alignment_strength_from_its_definition():
    rng = np.random.default_rng(3)
    U, _ = np.linalg.qr(rng.standard_normal((4, 2)))
    V, _ = np.linalg.qr(rng.standard_normal((3, 2)))
    Mt = U @ np.diag([2.0, 0.5]) @ V.T
    # weights along mode 0 only: x0 = W1 v_0 = c e, y0 = W2ᵀ u_0 = c e, so u_eff = |2c e|²/4 = c²
    e = np.eye(5)[:, 0]
    W1 = 0.3 * np.outer(e, V[:, 0])
    W2 = 0.3 * np.outer(U[:, 0], e)
    strength = lw.silent_alignment_strength(W1, W2, Mt)
    assert strength[0] == pytest.approx(0.09) and strength[1] == pytest.approx(0.0, abs=1e-20)
    # the early flow Ẇ₁ = W₂ᵀM, Ẇ₂ = MW₁ᵀ: u_α(t) = (W₂W₁)_α grows as u_eff e^{2 s t} once the difference has died
    W1, W2 = 1e-3 * rng.standard_normal((5, 3)), 1e-3 * rng.standard_normal((4, 5))
    u_eff = lw.silent_alignment_strength(W1, W2, Mt)
    T = 4.0
    sol = solve_ivp(lambda _, z: np.r_[(z[15:].reshape(4, 5).T @ Mt).ravel(), (Mt @ z[:15].reshape(5, 3).T).ravel()],
                    (0, T), np.r_[W1.ravel(), W2.ravel()], rtol=1e-12, atol=1e-16)
    W1T, W2T = sol.y[:15, -1].reshape(5, 3), sol.y[15:, -1].reshape(4, 5)
    u_T = U[:, 0] @ W2T @ W1T @ V[:, 0]
    assert u_T == pytest.approx(u_eff[0] * np.exp(2 * 2.0 * T), rel=1e-3)


def test_lazy_residual_special_cases_and_the_ode():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((2, 3))
    Mt = rng.standard_normal((2, 3))
    t = np.array([0.0, 0.5, 2.0])
    one = lw.lazy_residual([W], Mt, t)                       # one layer: Θ = identity, R = e^{−t} R₀
    assert np.allclose(one, np.exp(-t)[:, None, None] * (W - Mt))
    gd = lw.lazy_residual([W], Mt, t, lr=0.25)               # gradient descent: (1 − η)^{t/η} R₀
    assert np.allclose(gd, (0.75 ** (t / 0.25))[:, None, None] * (W - Mt))
    # t = η × steps, rounded to whole steps: t = 0.3 with η = 0.25 is one step
    assert np.allclose(lw.lazy_residual([W], Mt, [0.3, 0.4], lr=0.25), 0.75 ** np.array([1, 2])[:, None, None] * (W - Mt))
    # two layers: the linearised flow Ṙ = −(W₂W₂ᵀ R + R W₁ᵀW₁), solved by the matrix exponential
    W1, W2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    R0 = W2 @ W1 - Mt
    Theta = np.kron(W2 @ W2.T, np.eye(3)) + np.kron(np.eye(2), W1.T @ W1)
    expected = np.stack([(expm(-Theta * tt) @ R0.ravel()).reshape(2, 3) for tt in t])
    assert np.allclose(lw.lazy_residual([W1, W2], Mt, t), expected, atol=1e-10)
    # three layers: the generator is Σ_l P_lP_lᵀ ⊗ Q_lᵀQ_l; check dR/dt at t = 0 by its definition
    W3 = rng.standard_normal((2, 2))
    Ws = [W1, W2, W3]
    R0 = W3 @ W2 @ W1 - Mt
    h = 1e-6
    dR = (lw.lazy_residual(Ws, Mt, [h])[0] - lw.lazy_residual(Ws, Mt, [0.0])[0]) / h
    expect = -(W3 @ W2 @ (W3 @ W2).T @ R0 + W3 @ W3.T @ R0 @ W1.T @ W1 + R0 @ (W2 @ W1).T @ (W2 @ W1))
    assert np.allclose(dR, expect, rtol=1e-4, atol=1e-4)


def test_defaults_are_the_documented_ones():
    """theta0 = 0, S = 1 (linear_time_to), c = 0, low = 0.1, high = 0.9, lam = 1 (Saxe)."""
    t = np.array([0.0, 0.7])
    assert np.array_equal(lw.linear_mode(t, 2.0, 1.5), lw.linear_mode(t, 2.0, 1.5, 0.0))
    assert lw.linear_time_to(0.5, 2.0) == lw.linear_time_to(0.5, 2.0, 0.0, 1.0)
    assert lw.linear_time_to(0.5, 2.0, S=3.0) == lw.linear_time_to(0.5, 2.0)              # θ₀ = 0: S cancels
    assert lw.linear_time_to(0.5, 2.0, theta0=0.1) != lw.linear_time_to(0.5, 2.0, theta0=0.1, S=2.0)
    assert np.array_equal(lw.diagonal_mode(t, 1.0, 2.0, 0.1), lw.diagonal_mode(t, 1.0, 2.0, 0.1, 0.0))
    assert lw.diagonal_time_to(1.0, 1.0, 2.0, 0.1) == lw.diagonal_time_to(1.0, 1.0, 2.0, 0.1, 0.0)
    assert lw.crossing_time(0.5, 1.0, 2.0, 0.1) == lw.crossing_time(0.5, 1.0, 2.0, 0.1, 0.0)
    assert lw.rise_time(1.0, 2.0) == pytest.approx(np.log(81) / 4)
    assert lw.conservation_drift(0.01, 2.0, 1.0, 2.0, 0.1) == lw.conservation_drift(0.01, 2.0, 1.0, 2.0, 0.1, 0.0)
    assert lw.saxe_rhs(0.5, 1.0, 3) == lw.saxe_rhs(0.5, 1.0, 3, 1.0)
    assert lw.saxe_time_to(0.5, 1.0, 0.1, 3) == lw.saxe_time_to(0.5, 1.0, 0.1, 3, 1.0)
    assert np.array_equal(lw.saxe_mode(t, 1.0, 0.1, 3), lw.saxe_mode(t, 1.0, 0.1, 3, 1.0))
    assert lw.saxe_plateau_time(1.0, 0.01, 3) == lw.saxe_plateau_time(1.0, 0.01, 3, 1.0)
    W = np.eye(2)
    assert np.array_equal(lw.lazy_residual([W], 2 * W, t), lw.lazy_residual([W], 2 * W, t, None))
