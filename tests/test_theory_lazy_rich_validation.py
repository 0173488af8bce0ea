"""course_utils.theory.lazy_rich: bad arguments end in a clear ArgumentError naming the argument; the formulas
against numerical gradients, explicit boosts of the weights and gradient descent by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import lazy_rich as T
from course_utils.validate import ArgumentError

NAN = float("nan")
A, B = np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.4, -0.3])

BAD = {
    "norm_sq negative": (lambda: T.weight_to_target_ratio(-1.0, 1.0), "norm_sq"),
    "norm_sq NaN": (lambda: T.weight_to_target_ratio(NAN, 1.0), "norm_sq"),
    "target zero": (lambda: T.weight_to_target_ratio(1.0, 0.0), "target"),
    "Z zero": (lambda: T.weight_to_target_ratio(1.0, 1.0, Z=0.0), "Z must be positive"),
    "input_scale negative": (lambda: T.weight_to_target_ratio(1.0, 1.0, input_scale=-1.0), "input_scale"),
    "input_scale string": (lambda: T.weight_to_target_ratio(1.0, 1.0, input_scale="1"), "input_scale"),
    "ratio shapes": (lambda: T.weight_to_target_ratio(np.ones(2), np.ones(3)), "must broadcast"),
    "omega > rho": (lambda: T.rapidity_at_convergence(1.0, 2.0), "omega must satisfy"),
    "rho + omega = 0": (lambda: T.rapidity_at_convergence(1.0, -1.0), "rho \\+ omega must be positive"),
    "rho NaN": (lambda: T.rapidity_at_convergence(NAN), "rho"),
    "rho zero": (lambda: T.rapidity_at_convergence(0.0), "rho"),
    "omega NaN": (lambda: T.rapidity_at_convergence(1.0, NAN), "omega must contain only finite"),
    "ratio shapes 2": (lambda: T.rapidity_at_convergence(np.ones(2), np.zeros(3)), "must broadcast"),
    "tau NaN": (lambda: T.relative_change_from_rapidity(NAN), "tau must contain only finite"),
    "tau shapes": (lambda: T.norm_ratio_from_rapidity(np.ones(2), np.ones(3)), "must broadcast"),
    "norm tau inf": (lambda: T.norm_ratio_from_rapidity(np.inf), "tau must contain only finite"),
    "model |w0| too large": (lambda: T.ScalarModel(norm_sq=1.0, w0=1.0), "exceeds"),
    "model w0 NaN": (lambda: T.ScalarModel(norm_sq=1.0, w0=NAN), "w0 must be a finite"),
    "model norm_sq": (lambda: T.ScalarModel(norm_sq=0.0, w0=0.0), "norm_sq must be a finite number > 0"),
    "model Z NaN": (lambda: T.ScalarModel(norm_sq=1.0, w0=0.0, Z=NAN), "Z must be a finite number > 0"),
    "model target": (lambda: T.ScalarModel(norm_sq=1.0, w0=0.0, target=-1.0), "target must be a finite number > 0"),
    "from_weights lengths": (lambda: T.ScalarModel.from_weights(np.ones(3), np.ones(4)), "b has shape"),
    "from_weights 2-d": (lambda: T.ScalarModel.from_weights(np.ones((2, 2)), np.ones((2, 2))), "a must have 1 dim"),
    "from_weights NaN": (lambda: T.ScalarModel.from_weights(np.array([NAN]), np.ones(1)), "a must contain"),
    "from_weights Z": (lambda: T.ScalarModel.from_weights(A, B, Z=0.0), "Z must be a finite number > 0"),
    "from_weights None": (lambda: T.ScalarModel.from_weights(None, B), "a must be"),
    "output t negative": (lambda: T.ScalarModel(norm_sq=1.0, w0=0.0).output(-1.0), "times t must be non-negative"),
    "output t NaN": (lambda: T.ScalarModel(norm_sq=1.0, w0=0.0).rapidity(NAN), "t \\(the times\\) must contain"),
    "output stuck": (lambda: T.ScalarModel(norm_sq=1.0, w0=-0.5).output(1.0), "rho \\+ omega = 0"),
    "rhs shapes": (lambda: T.gradient_flow_rhs(np.ones(3), np.ones(2)), "a and b must be arrays of the same shape"),
    "rhs scalar": (lambda: T.gradient_flow_rhs(1.0, 1.0), "a and b must be arrays of the same shape"),
    "rhs Z zero": (lambda: T.gradient_flow_rhs(A, B, Z=0.0), "Z must be positive"),
    "rhs target NaN": (lambda: T.gradient_flow_rhs(A, B, NAN), "target must contain only finite"),
    "rhs input_scale": (lambda: T.gradient_flow_rhs(A, B, input_scale=NAN), "input_scale"),
    "rhs target shape": (lambda: T.gradient_flow_rhs(np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 1))),
                         "must broadcast"),
    "gd lr zero": (lambda: T.gradient_descent(A, B, lr=0.0), "lr"),
    "gd lr NaN": (lambda: T.gradient_descent(A, B, lr=NAN), "lr"),
    "gd steps negative": (lambda: T.gradient_descent(A, B, steps=-1), "steps"),
    "gd steps fractional": (lambda: T.gradient_descent(A, B, steps=2.5), "steps"),
    "gd a NaN": (lambda: T.gradient_descent(np.array([NAN, 0, 0]), B), "a and b must contain only finite"),
    "gd b inf": (lambda: T.gradient_descent(A, np.array([np.inf, 0, 0])), "a and b must contain only finite"),
    "gd record beyond": (lambda: T.gradient_descent(A, B, steps=5, record=[6]), "record must list whole steps"),
    "gd record negative": (lambda: T.gradient_descent(A, B, steps=5, record=[-1]), "record must list whole steps"),
    "gd record fraction": (lambda: T.gradient_descent(A, B, steps=5, record=[1.5]), "record must list whole steps"),
    "gd lr shape": (lambda: T.gradient_descent(np.ones((2, 3)), np.ones((2, 3)), lr=np.ones((3, 1))), "must broadcast"),
}


@pytest.mark.parametrize("call, message", BAD.values(), ids=BAD.keys())
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ArgumentError, match=message), np.errstate(over="ignore", invalid="ignore"):
        call()


def test_valid_edge_cases_are_accepted():
    a, b = T.gradient_descent(A, B, lr=0.1, steps=0)
    assert np.array_equal(a, A) and np.array_equal(b, B)
    *_, w = T.gradient_descent(A, B, lr=0.1, steps=3, record=[3, 0])
    assert w.shape == (2,) and w[0] == pytest.approx(A @ B)                   # recorded in step order
    *_, w = T.gradient_descent(A, B, lr=0.1, steps=3, record=np.int64(2))     # one step number
    assert w.shape == (1,)
    assert T.ScalarModel(norm_sq=1.0, w0=0.5).rapidity(0.0) == pytest.approx(0.0)   # |w0| = Q/2Z is allowed
    assert T.rapidity_at_convergence(1.0, 1.0) == 0.0                        # ω = ρ = 1: already at the target


def _loss(a, b, S, gamma, Z):
    return 0.5 * (gamma * np.sum(a * b) / Z - S) ** 2


@settings(max_examples=30, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), S=st.floats(-2.0, 2.0), gamma=st.floats(0.2, 3.0), Z=st.floats(0.3, 4.0))
def test_gradient_flow_rhs_is_minus_the_gradient(seed, S, gamma, Z):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(4), rng.standard_normal(4)
    da, db = T.gradient_flow_rhs(a, b, S, input_scale=gamma, Z=Z)
    h = 1e-6
    for i in range(4):
        e = np.eye(4)[i] * h
        assert da[i] == pytest.approx(-(_loss(a + e, b, S, gamma, Z) - _loss(a - e, b, S, gamma, Z)) / (2 * h),
                                      abs=1e-6)
        assert db[i] == pytest.approx(-(_loss(a, b + e, S, gamma, Z) - _loss(a, b - e, S, gamma, Z)) / (2 * h),
                                      abs=1e-6)


def test_gradient_descent_steps_by_hand():
    S, gamma, Z, lr = 1.3, 0.7, 2.0, 0.1
    a, b = A.copy(), B.copy()
    ws = []
    for _ in range(4):
        ws.append(np.sum(a * b) / Z)
        g = gamma / Z * (S - gamma * np.sum(a * b) / Z)
        a, b = a + lr * g * b, b + lr * g * a
    ws.append(np.sum(a * b) / Z)
    a4, b4, w = T.gradient_descent(A, B, S, input_scale=gamma, Z=Z, lr=lr, steps=4, record=range(5))
    assert np.allclose(a4, a) and np.allclose(b4, b) and np.allclose(w, ws)


@settings(max_examples=30, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), tau=st.floats(-1.5, 1.5))
def test_rapidity_formulas_match_an_explicit_boost_of_the_weights(seed, tau):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(5), rng.standard_normal(5)
    Q, U = a @ a + b @ b, a @ b
    rho, omega = Q / 2, U                         # γ = Z = S = 1
    a_t, b_t = a * np.cosh(tau) + b * np.sinh(tau), a * np.sinh(tau) + b * np.cosh(tau)
    theta0, theta = np.r_[a, b], np.r_[a_t, b_t]
    assert T.norm_ratio_from_rapidity(tau, rho, omega) == pytest.approx(np.linalg.norm(theta) / np.linalg.norm(theta0))
    # abs 1e-7: cosh τ − 1 cancels to 0 for |τ| ≲ 1e-8 (the closed form loses the O(|τ|) change there)
    assert T.relative_change_from_rapidity(tau, rho, omega) == pytest.approx(
        np.linalg.norm(theta - theta0) / np.linalg.norm(theta0), abs=1e-7)
    # the closed form of the output w(τ) = (Q/2) sinh 2τ + U cosh 2τ
    m = T.ScalarModel(norm_sq=Q, w0=U)
    assert m.rho == pytest.approx(rho) and m.omega == pytest.approx(omega)
    if rho + omega > 1e-3:
        tau_inf = T.rapidity_at_convergence(rho, omega)
        assert rho * np.sinh(2 * tau_inf) + omega * np.cosh(2 * tau_inf) == pytest.approx(1.0)


@settings(max_examples=25, deadline=None, database=None)
@given(Q=st.floats(0.05, 10.0), u=st.floats(-0.9, 0.9), S=st.floats(0.3, 3.0), gamma=st.floats(0.3, 2.0),
       Z=st.floats(0.5, 3.0))
def test_scalar_model_solves_its_ode_and_relaxes_at_its_rate(Q, u, S, gamma, Z):
    m = T.ScalarModel(norm_sq=Q, w0=u * Q / (2 * Z), target=S, input_scale=gamma, Z=Z)
    assert m.rho == pytest.approx(gamma * Q / (2 * Z * S))
    assert m.omega == pytest.approx(gamma * m.w0 / S)
    assert m.rapidity(0.0) == pytest.approx(0.0, abs=1e-12)
    assert m.output(0.0) == pytest.approx(m.w0, abs=1e-12)
    # dτ/dt = (γS/Z)(1 − [ρ sinh 2τ + ω cosh 2τ])
    t, h = 0.7 / m.rate, 1e-6 / m.rate
    tau = m.rapidity(t)
    dtau = (m.rapidity(t + h) - m.rapidity(t - h)) / (2 * h)
    assert dtau == pytest.approx(gamma * S / Z * (1 - (m.rho * np.sinh(2 * tau) + m.omega * np.cosh(2 * tau))),
                                 rel=1e-5, abs=1e-9)
    assert m.loss(t) == pytest.approx(0.5 * (gamma * m.output(t) - S) ** 2)
    # late times: the error decays as e^{−λt}
    t1, t2 = 18 / m.rate, 19 / m.rate
    e1, e2 = abs(gamma * m.output(t1) - S), abs(gamma * m.output(t2) - S)
    if e2 > 1e-11 * S:
        assert np.log(e1 / e2) / (t2 - t1) == pytest.approx(m.rate, rel=1e-3)
    assert m.relative_change_at_convergence() == pytest.approx(float(m.relative_change(200 / m.rate)), rel=1e-9)
    assert m.norm_ratio(0.0) == pytest.approx(1.0)


def test_defaults_are_the_documented_ones():
    """target S = 1, input_scale γ = 1, Z = 1, lr = 0.01, steps = 1000 (the signatures' defaults)."""
    m = T.ScalarModel.from_weights(A, B)
    assert (m.target, m.input_scale, m.Z) == (1.0, 1.0, 1.0)
    assert m == T.ScalarModel(norm_sq=A @ A + B @ B, w0=A @ B)
    ref = T.gradient_flow_rhs(A, B, 1.0, input_scale=1.0, Z=1.0)
    assert all(np.array_equal(x, y) for x, y in zip(T.gradient_flow_rhs(A, B), ref))
    g = 1.0 - A @ B                                                   # γ/Z (S − γ Σab/Z) with γ = Z = S = 1
    assert np.allclose(ref[0], g * B) and np.allclose(ref[1], g * A)
    a1, b1 = T.gradient_descent(A, B)
    a2, b2 = T.gradient_descent(A, B, 1.0, input_scale=1.0, Z=1.0, lr=0.01, steps=1000)
    assert np.array_equal(a1, a2) and np.array_equal(b1, b2)
    a3, _ = T.gradient_descent(A, B, lr=0.01, steps=999)
    assert not np.array_equal(a1, a3)


def test_gradient_descent_records_per_model_in_a_batch():
    rng = np.random.default_rng(1)
    a0, b0 = rng.standard_normal((3, 4)) * 0.3, rng.standard_normal((3, 4)) * 0.3
    S = np.array([[1.0], [2.0], [0.5]])
    *_, w = T.gradient_descent(a0, b0, S, lr=0.05, steps=10, record=[0, 10])
    assert w.shape == (2, 3)
    assert np.allclose(w[0], (a0 * b0).sum(1))                        # one output per model, not their sum
    for k in range(3):
        *_, wk = T.gradient_descent(a0[k], b0[k], S[k, 0], lr=0.05, steps=10, record=[10])
        assert w[1, k] == pytest.approx(wk[0])
    # no records asked: only the weights come back
    assert len(T.gradient_descent(a0, b0, S, lr=0.05, steps=3, record=[])) == 2


BAD_MORE = {
    "rhs a string": (lambda: T.gradient_flow_rhs("a", B), "^a must be"),
    "rhs b None": (lambda: T.gradient_flow_rhs(A, None), "^b must be"),
    "gd record 2-d": (lambda: T.gradient_descent(A, B, steps=5, record=[[1, 2]]), "^record must have 0 or 1 dim"),
    "gd record shown": (lambda: T.gradient_descent(A, B, steps=5, record=[6]), "got \\[6\\]"),
    "gd record None-like": (lambda: T.gradient_descent(A, B, steps=5, record="1"), "^record must be"),
    "gd steps name": (lambda: T.gradient_descent(A, B, steps=-1), "^steps must"),
    "rhs input_scale shape": (lambda: T.gradient_flow_rhs(np.ones((2, 3)), np.ones((2, 3)), input_scale=np.ones((3, 1))),
                              "input_scale \\(3, 1\\)"),
    "rhs Z shape": (lambda: T.gradient_flow_rhs(np.ones((2, 3)), np.ones((2, 3)), Z=np.ones((3, 1))), "Z \\(3, 1\\)"),
    "rhs input_scale name": (lambda: T.gradient_flow_rhs(A, B, input_scale=0.0), "^input_scale must"),
    "gd lr name": (lambda: T.gradient_descent(A, B, lr=-1.0), "^lr must"),
}


@pytest.mark.parametrize("call, message", BAD_MORE.values(), ids=BAD_MORE.keys())
def test_more_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_empty_times_and_ratios_give_empty_results():
    m = T.ScalarModel(norm_sq=1.0, w0=0.1)
    assert m.output([]).shape == (0,) and m.rapidity(np.array([])).shape == (0,)
    assert T.weight_to_target_ratio([], 1.0).shape == (0,)
    assert T.relative_change_from_rapidity([], 1.0).shape == (0,)
    assert T.rapidity_at_convergence(np.array([])).shape == (0,)


BROADCAST = {
    "change tau/rho": (lambda: T.relative_change_from_rapidity(np.ones(2), np.ones(3)), "tau \\(2,\\), rho \\(3,\\)"),
    "change tau/omega": (lambda: T.relative_change_from_rapidity(np.ones(2), 5.0, np.zeros(3)),
                         "tau \\(2,\\), rho \\(\\), omega \\(3,\\)"),
    "norm tau/rho": (lambda: T.norm_ratio_from_rapidity(np.ones(2), np.ones(3)), "tau \\(2,\\), rho \\(3,\\)"),
    "norm tau/omega": (lambda: T.norm_ratio_from_rapidity(np.ones(2), 5.0, np.zeros(3)), "omega \\(3,\\)"),
    "ratio norm_sq/input_scale": (lambda: T.weight_to_target_ratio(np.ones(2), 1.0, input_scale=np.ones(3)),
                                  "input_scale \\(3,\\)"),
    "ratio norm_sq/Z": (lambda: T.weight_to_target_ratio(np.ones(2), 1.0, Z=np.ones(3)), "Z \\(3,\\)"),
    "ratio rho/omega shapes": (lambda: T.rapidity_at_convergence(np.ones(2), np.zeros(3)), "rho \\(2,\\), omega \\(3,\\)"),
    "model message": (lambda: T.ScalarModel(norm_sq=1.0, w0=1.0, Z=2.0), "‖θ₀‖²/\\(2Z\\) = 0.25:"),
}


@pytest.mark.parametrize("call, message", BROADCAST.values(), ids=BROADCAST.keys())
def test_mismatched_shapes_name_the_arguments_and_their_shapes(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_rapidity_defaults():
    """rho = 1, omega = 0 by default."""
    tau = np.array([0.2, 0.7])
    assert np.array_equal(T.relative_change_from_rapidity(tau), T.relative_change_from_rapidity(tau, 1.0, 0.0))
    assert np.array_equal(T.norm_ratio_from_rapidity(tau), np.sqrt(np.cosh(2 * tau)))
    assert np.array_equal(T.relative_change_from_rapidity(tau, omega=0.5), T.relative_change_from_rapidity(tau, 1.0, 0.5))
    assert np.array_equal(T.norm_ratio_from_rapidity(tau, omega=0.5), T.norm_ratio_from_rapidity(tau, 1.0, 0.5))
    assert not np.allclose(T.relative_change_from_rapidity(tau), T.relative_change_from_rapidity(tau, 1.0, 0.5))
    assert np.array_equal(T.relative_change_at_convergence(0.5), T.relative_change_at_convergence(0.5, 0.0))
    assert T.rapidity_at_convergence(0.5) == T.rapidity_at_convergence(0.5, 0.0)


def test_gradient_descent_that_diverges_says_so():
    from course_utils.train import TrainingDiverged
    with pytest.raises(TrainingDiverged, match="diverged.*lr = 50.0") as info, \
            np.errstate(over="ignore", invalid="ignore"):
        T.gradient_descent(A * 10, B * 10, lr=50.0, steps=200)
    assert info.value.lr == 50.0 and info.value.step == 200
