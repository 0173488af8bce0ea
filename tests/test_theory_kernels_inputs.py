"""theory.kernels: bad arguments end in a clear error naming the argument; the formulas against
independent computations (Monte Carlo, numerical derivatives, special values, limits)."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import kernels
from course_utils.validate import ArgumentError

X = np.array([[1.0, 0.5, -0.2], [0.3, -1.0, 0.8]])
T = np.array([[2.0, 0.5], [0.5, 1.0]])
NAN, INF = float("nan"), float("inf")

BAD = [
    ("activation", lambda: kernels.activation("softsign")),
    ("activation", lambda: kernels.activation(3)),
    ("activation", lambda: kernels.activation_derivative(None)),
    ("dphi", lambda: kernels.activation_derivative(np.tanh)),
    ("k11", lambda: kernels.gaussian_pair_expectation("1", 0.5, 1.0)),
    ("k12", lambda: kernels.gaussian_pair_expectation(1.0, NAN, 1.0)),
    ("k22", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, INF)),
    ("k11", lambda: kernels.gaussian_pair_expectation(-1.0, 0.5, 1.0)),
    ("broadcast", lambda: kernels.gaussian_pair_expectation(np.ones(2), np.ones(3), 1.0)),
    ("k12", lambda: kernels.gaussian_pair_expectation(1.0, 2.0, 1.0)),
    ("phi", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, "softsign")),
    ("method", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, method="exact")),
    ("dphi", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, np.sin, derivative=True, dphi=3.0)),
    ("order", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, "tanh", order=1)),
    ("order", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, "tanh", order=8.5)),
    ("n_samples", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, method="monte_carlo", n_samples=1)),
    ("seed", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, method="monte_carlo", seed=-1)),
    ("not finite", lambda: kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, lambda u: u / 0.0,
                                                            method="monte_carlo")),
    ("g", lambda: kernels.gaussian_expectation(2.0, 1.0)),
    ("q", lambda: kernels.gaussian_expectation(np.tanh, -1.0)),
    ("q", lambda: kernels.gaussian_expectation(np.tanh, NAN)),
    ("X1", lambda: kernels.input_kernel("x")),
    ("X1", lambda: kernels.input_kernel(np.ones((2, 2, 2)))),
    ("X1", lambda: kernels.input_kernel(np.array([[1.0, NAN]]))),
    ("X2", lambda: kernels.input_kernel(X, np.ones((2, 4)))),
    ("sigma_w2", lambda: kernels.input_kernel(X, sigma_w2=NAN)),
    ("sigma_w2", lambda: kernels.input_kernel(X, sigma_w2=-1.0)),
    ("sigma_b2", lambda: kernels.input_kernel(X, sigma_b2=-0.1)),
    ("sigma_b2", lambda: kernels.nngp_kernel(X, sigma_b2=NAN)),
    ("depth", lambda: kernels.nngp_kernel(X, depth=1.5)),
    ("depth", lambda: kernels.ntk_kernel(X, depth=-1)),
    ("activation", lambda: kernels.ntk_kernel(X, activation="softsign")),
    ("method", lambda: kernels.nngp_kernel(X, method=None)),
    ("sigma_w2", lambda: kernels.ntk_kernel(X, sigma_w2="2")),
    ("q", lambda: kernels.variance_map(-1.0)),
    ("sigma_w2", lambda: kernels.variance_map(1.0, sigma_w2=np.array([1.0, -1.0]))),
    ("sigma_b2", lambda: kernels.variance_map(1.0, sigma_b2=np.array([0.1, NAN]))),
    ("activation", lambda: kernels.variance_map(1.0, activation="softsign")),
    ("q0", lambda: kernels.variance_fixed_point(q0=NAN)),
    ("tol", lambda: kernels.variance_fixed_point(tol=0.0)),
    ("max_iter", lambda: kernels.variance_fixed_point(max_iter=0)),
    ("sigma_w2", lambda: kernels.variance_fixed_point(sigma_w2=0.0)),
    ("did not converge", lambda: kernels.variance_fixed_point(activation="relu", sigma_w2=3.0)),
    ("did not converge", lambda: kernels.variance_fixed_point(sigma_w2=1.5, max_iter=1)),
    ("c", lambda: kernels.correlation_map(1.5, q=1.0)),
    ("c", lambda: kernels.correlation_map(NAN, q=1.0)),
    ("q", lambda: kernels.correlation_map(0.5, q=0.0, sigma_b2=0.1)),   # q* ≥ σ_b² > 0
    ("q", lambda: kernels.correlation_map(0.5, q=NAN)),
    ("sigma_w2", lambda: kernels.correlation_map(0.5, q=1.0, sigma_w2=NAN)),
    ("activation", lambda: kernels.correlation_fixed_point(activation=np.tanh)),
    ("sigma_b2", lambda: kernels.correlation_fixed_point(sigma_b2=-1.0)),
    ("activation", lambda: kernels.chi1(activation="softsign")),
    ("sigma_w2", lambda: kernels.chi1(sigma_w2=NAN)),
    ("sigma_w2", lambda: kernels.correlation_length(sigma_w2=INF)),
    ("width", lambda: kernels.relu_excess_kurtosis(0, 2)),
    ("width", lambda: kernels.relu_excess_kurtosis(NAN, 2)),
    ("depth", lambda: kernels.relu_excess_kurtosis(10, -1)),
    ("K_train", lambda: kernels.gp_posterior(np.ones((2, 3)), np.ones((1, 2)), np.ones(1), np.ones(2))),
    ("K_cross", lambda: kernels.gp_posterior(T, np.ones((1, 3)), np.ones(1), np.ones(2))),
    ("K_test_diag", lambda: kernels.gp_posterior(T, np.ones((1, 2)), np.ones(2), np.ones(2))),
    ("y_train", lambda: kernels.gp_posterior(T, np.ones((1, 2)), np.ones(1), np.ones(3))),
    ("y_train", lambda: kernels.gp_posterior(T, np.ones((1, 2)), np.ones(1), [1.0, NAN])),
    ("noise_var", lambda: kernels.gp_posterior(T, np.ones((1, 2)), np.ones(1), np.ones(2), noise_var=NAN)),
    ("jitter", lambda: kernels.gp_posterior(T, np.ones((1, 2)), np.ones(1), np.ones(2), jitter=-1.0)),
    ("positive definite", lambda: kernels.gp_posterior(-T, np.ones((1, 2)), np.ones(1), np.ones(2))),
    ("Theta_train", lambda: kernels.kernel_regression_dynamics(np.ones((3, 3)), np.ones((1, 2)), np.ones(2), 1.0)),
    ("Theta_cross", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 3)), np.ones(2), 1.0)),
    ("lr", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), 1.0, lr=NAN)),
    ("t", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), -1.0)),
    ("t", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), NAN)),
    ("f0_train", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), 1.0, f0_train=np.ones(3))),
    ("f0_test", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), 1.0, f0_test=np.ones(3))),
    ("whole numbers", lambda: kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), 1.5, lr=1.0,
                                                                 discrete=True)),
]


@pytest.mark.parametrize("needle, call", BAD, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_a_clear_error(needle, call):
    with pytest.raises(ValueError) as info:
        call()
    # the argument's name as a word of the message (not inside another word: "n" is not found in "None")
    assert re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(info.value)), str(info.value)
    assert isinstance(info.value, ArgumentError)


def test_conversions_and_names_any_case():
    assert kernels.activation("ReLU")(np.array(-1.0)) == 0.0
    a = kernels.nngp_kernel(X.tolist(), activation=" Tanh ", method="AUTO")
    assert np.array_equal(a, kernels.nngp_kernel(X, activation="tanh"))
    # a single input (1-d) is one row
    assert kernels.input_kernel(X[0]).shape == (1, 1)
    # fractional times are fine for gradient flow, and for GD while every 1 − ηλ ≥ 0
    f, _ = kernels.kernel_regression_dynamics(T, np.ones((1, 2)), np.ones(2), 1.5, lr=0.1, discrete=True)
    assert np.all(np.isfinite(f))


# ---- special values and independent computations ----


def _mc(f, g, k11, k12, k22, n=400_000, seed=1):
    """Monte Carlo E[f(u) g(v)] with its standard error."""
    rng = np.random.default_rng(seed)
    L = np.linalg.cholesky(np.array([[k11, k12], [k12, k22]]) + 1e-300 * np.eye(2))
    u, v = L @ rng.standard_normal((2, n))
    s = f(u) * g(v)
    return s.mean(), s.std() / math.sqrt(n)


@pytest.mark.parametrize("phi", ["relu", "erf", "linear"])
@pytest.mark.parametrize("derivative", [False, True])
def test_closed_forms_against_monte_carlo(phi, derivative):
    """The closed forms (Cho–Saul, Williams) against a Monte Carlo average, within 5 standard errors."""
    f = kernels.ACTIVATIONS[phi][1 if derivative else 0]
    for k11, k12, k22 in [(1.0, 0.3, 2.0), (0.5, -0.4, 0.7), (3.0, 0.0, 0.2)]:
        exact = float(kernels.gaussian_pair_expectation(k11, k12, k22, phi, derivative=derivative, method="closed"))
        est, se = _mc(f, f, k11, k12, k22)
        assert abs(exact - est) < 5 * se + 1e-12, (k11, k12, k22, exact, est, se)


def test_closed_forms_special_values():
    # ReLU: E[relu(u)²] = k/2 at ρ = 1; E[relu u relu v] = k/(2π) at ρ = 0; 0 at ρ = −1; E[step step] = 1/2, 1/4, 0
    k = 1.7
    g = kernels.gaussian_pair_expectation
    assert g(k, k, k, "relu") == pytest.approx(k / 2, rel=1e-14)
    assert g(k, 0.0, k, "relu") == pytest.approx(k / (2 * np.pi), rel=1e-14)
    assert g(k, -k, k, "relu") == pytest.approx(0.0, abs=1e-15)
    assert [float(g(k, c * k, k, "relu", derivative=True)) for c in (1, 0, -1)] == pytest.approx([0.5, 0.25, 0.0])
    # erf: E[erf(u)²] = (2/π) arcsin(2k/(1+2k)); E[erf' erf'] at ρ = 0 = (4/π)/(1+2k)
    assert g(k, k, k, "erf") == pytest.approx(2 / np.pi * np.arcsin(2 * k / (1 + 2 * k)), rel=1e-14)
    assert g(k, 0.0, k, "erf", derivative=True) == pytest.approx(4 / np.pi / (1 + 2 * k), rel=1e-14)
    assert g(k, 0.0, 2 * k, "erf") == 0.0
    # identity: E[uv] = k12, E[1·1] = 1
    assert g(2.0, 0.7, 3.0, "linear") == 0.7 and g(2.0, 0.7, 3.0, "linear", derivative=True) == 1.0
    # zero variance: φ(0) φ(v) with φ(0) = 0
    assert g(0.0, 0.0, 1.0, "relu") == 0.0


@settings(max_examples=30, deadline=None)
@given(k11=st.floats(0.01, 20), k22=st.floats(0.01, 20), rho=st.floats(-1, 1), phi=st.sampled_from(["relu", "erf"]),
       derivative=st.booleans())
def test_quadrature_agrees_with_closed_forms(k11, k22, rho, phi, derivative):
    k12 = rho * math.sqrt(k11 * k22)
    a = kernels.gaussian_pair_expectation(k11, k12, k22, phi, derivative=derivative, method="closed")
    b = kernels.gaussian_pair_expectation(k11, k12, k22, phi, derivative=derivative, method="quadrature")
    assert b == pytest.approx(a, rel=1e-6, abs=1e-9)


@settings(max_examples=20, deadline=None)
@given(k11=st.floats(0.05, 5), k22=st.floats(0.05, 5), rho=st.floats(-0.95, 0.95), phi=st.sampled_from(["relu", "erf"]))
def test_price_theorem(k11, k22, rho, phi):
    """∂E[φ(u)φ(v)]/∂k12 = E[φ'(u)φ'(v)] (Price's theorem): a numerical derivative of the NNGP map is the K̇ map."""
    k12 = rho * math.sqrt(k11 * k22)
    h = 1e-5 * math.sqrt(k11 * k22)
    g = kernels.gaussian_pair_expectation
    slope = (g(k11, k12 + h, k22, phi) - g(k11, k12 - h, k22, phi)) / (2 * h)
    assert slope == pytest.approx(float(g(k11, k12, k22, phi, derivative=True)), rel=1e-5, abs=1e-8)


def test_gaussian_expectation_moments():
    """E[(√q z)²] = q, E[(√q z)⁴] = 3q², E[relu(√q z)] = √(q/2π), E[1] = 1."""
    q = np.array([0.3, 1.0, 7.0])
    assert kernels.gaussian_expectation(lambda u: u ** 2, q) == pytest.approx(q, rel=1e-12)
    assert kernels.gaussian_expectation(lambda u: u ** 4, q) == pytest.approx(3 * q ** 2, rel=1e-12)
    assert kernels.gaussian_expectation(lambda u: np.maximum(u, 0), q) == pytest.approx(np.sqrt(q / (2 * np.pi)))
    assert kernels.gaussian_expectation(np.ones_like, q) == pytest.approx(np.ones(3), rel=1e-12)


def test_input_kernel_formula():
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    B = np.array([[1.0, 1.0, 1.0]])
    K = kernels.input_kernel(A, B, sigma_w2=2.0, sigma_b2=0.5)
    assert K == pytest.approx(np.array([[0.5 + 2.0 * 3 / 3], [0.5 + 2.0 * 2 / 3]]))
    assert kernels.input_kernel(A).shape == (2, 2)
    assert kernels.input_kernel(A)[0, 1] == pytest.approx(-2 / 3)


def _relu_nngp_by_hand(X, depth, sw2, sb2):
    K = sb2 + sw2 * X @ X.T / X.shape[1]
    for _ in range(depth):
        d = np.sqrt(np.diag(K))
        cos = np.clip(K / np.outer(d, d), -1, 1)
        th = np.arccos(cos)
        K = sb2 + sw2 * np.outer(d, d) / (2 * np.pi) * (np.sin(th) + (np.pi - th) * cos)
    return K


def test_nngp_and_ntk_recursions_by_hand():
    """K and Θ of a depth-2 ReLU network from the arc-cosine formulas written out here, and NTK ≥ NNGP."""
    Xs = np.array([[1.0, 0.2], [-0.5, 1.0], [0.3, 0.3]])
    sw2, sb2 = 1.6, 0.2
    K0 = sb2 + sw2 * Xs @ Xs.T / 2
    Ks = [K0]
    for _ in range(2):
        Ks.append(_relu_nngp_by_hand(Xs, len(Ks), sw2, sb2))
    assert kernels.nngp_kernel(Xs, depth=2, sigma_w2=sw2, sigma_b2=sb2) == pytest.approx(Ks[2], rel=1e-12)
    layers = kernels.nngp_kernel(Xs, depth=2, sigma_w2=sw2, sigma_b2=sb2, return_layers=True)
    assert len(layers) == 3 and all(np.allclose(a, b) for a, b in zip(layers, Ks))
    Theta = K0.copy()
    for K in Ks[:-1]:
        d = np.sqrt(np.diag(K))
        th = np.arccos(np.clip(K / np.outer(d, d), -1, 1))
        K_next = sb2 + sw2 * np.outer(d, d) / (2 * np.pi) * (np.sin(th) + (np.pi - th) * np.cos(th))
        Theta = K_next + sw2 * (np.pi - th) / (2 * np.pi) * Theta          # Θˡ = Kˡ + σ_w² K̇ˡ Θˡ⁻¹
    Th, Kout = kernels.ntk_kernel(Xs, depth=2, sigma_w2=sw2, sigma_b2=sb2, return_nngp=True)
    assert Th == pytest.approx(Theta, rel=1e-12) and Kout == pytest.approx(Ks[2], rel=1e-12)
    assert np.all(np.linalg.eigvalsh(Th - Kout) > -1e-12)
    # the cross kernel is the off-diagonal block of the joint kernel
    Tj = kernels.ntk_kernel(Xs, depth=2, sigma_w2=sw2, sigma_b2=sb2)
    assert kernels.ntk_kernel(Xs[:2], Xs[2:], depth=2, sigma_w2=sw2, sigma_b2=sb2) == pytest.approx(Tj[:2, 2:], rel=1e-12)
    assert kernels.nngp_kernel(Xs[:2], Xs[2:], depth=2, sigma_w2=sw2, sigma_b2=sb2) == pytest.approx(Ks[2][:2, 2:])


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(0, 3), phi=st.sampled_from(["relu", "erf", "tanh"]),
       sb2=st.floats(0, 1))
def test_kernels_are_positive_semidefinite(seed, depth, phi, sb2):
    Xs = np.random.default_rng(seed).standard_normal((6, 3))
    Th, K = kernels.ntk_kernel(Xs, depth=depth, activation=phi, sigma_b2=sb2, return_nngp=True)
    for M in (K, Th, Th - K):
        assert np.allclose(M, M.T)
        assert np.linalg.eigvalsh(M).min() >= -1e-9 * max(np.abs(M).max(), 1.0)


def test_variance_fixed_point_and_maps():
    # ReLU without bias: q ↦ σ_w² q/2; with bias the fixed point is σ_b²/(1 − σ_w²/2)
    assert kernels.variance_map(np.array([1.0, 4.0]), activation="relu", sigma_w2=1.5) == pytest.approx([0.75, 3.0])
    assert kernels.variance_map(2.0, activation="relu", sigma_w2=1.0, sigma_b2=0.3) == pytest.approx(1.3)
    q = kernels.variance_fixed_point(activation="relu", sigma_w2=1.0, sigma_b2=0.3)
    assert q == pytest.approx(0.6, rel=1e-9)
    # linear: q* = σ_b²/(1 − σ_w²)
    assert kernels.variance_fixed_point(activation="linear", sigma_w2=0.5, sigma_b2=0.2) == pytest.approx(0.4, rel=1e-9)
    # a fixed point of the map, for arrays of σ's
    sw = np.array([0.8, 1.5, 2.5])
    q = kernels.variance_fixed_point(activation="tanh", sigma_w2=sw, sigma_b2=0.1)
    assert kernels.variance_map(q, activation="tanh", sigma_w2=sw, sigma_b2=0.1) == pytest.approx(q, rel=1e-10)
    assert np.all(np.diff(q) > 0)                                   # q* grows with σ_w²
    # a user function: φ(u) = u is the linear case
    assert kernels.variance_map(2.0, activation=lambda u: u, sigma_w2=0.5) == pytest.approx(1.0)


def test_correlation_map_properties():
    kw = dict(activation="tanh", sigma_w2=2.0, sigma_b2=0.05)
    q = float(kernels.variance_fixed_point(**kw))
    assert kernels.correlation_map(1.0, q=q, **kw) == pytest.approx(1.0, rel=1e-9)   # c = 1 is fixed
    c = np.linspace(-1, 1, 21)
    m = kernels.correlation_map(c, **kw)
    assert np.all(np.diff(m) > 0)                                                    # increasing
    # its slope at c = 1 is χ₁ (one-sided numerical derivative)
    h = 1e-5
    slope = (1.0 - float(kernels.correlation_map(1 - h, q=q, **kw))) / h
    assert slope == pytest.approx(float(kernels.chi1(**kw)), rel=1e-3)
    # ReLU without bias: the map is the normalised arc-cosine kernel, M(0) = 1/π, M(-1) = 0
    assert kernels.correlation_map(0.0, q=1.0, activation="relu", sigma_w2=2.0) == pytest.approx(1 / np.pi)
    assert kernels.correlation_map(-1.0, q=1.0, activation="relu", sigma_w2=2.0) == pytest.approx(0.0, abs=1e-15)
    # with a bias: (σ_b² + σ_w² E)/q
    E = float(kernels.gaussian_pair_expectation(2.0, 1.0, 2.0, "erf"))
    assert kernels.correlation_map(0.5, q=2.0, activation="erf", sigma_w2=1.5, sigma_b2=0.3) == pytest.approx(
        (0.3 + 1.5 * E) / 2.0)


def test_chi1_and_fixed_points():
    # ReLU, σ_b = 0: χ₁ = σ_w²/2
    assert kernels.chi1(activation="relu", sigma_w2=np.array([1.0, 2.0, 3.0]), q=1.0) == pytest.approx([0.5, 1, 1.5])
    assert kernels.chi1(activation="erf", sigma_w2=2.0, q=0.5) == pytest.approx(2.0 * 4 / np.pi / np.sqrt(3.0))
    # ordered: c* = 1; chaotic: c* < 1 is a fixed point of the map, stable (slope < 1)
    assert kernels.correlation_fixed_point(activation="tanh", sigma_w2=0.8, sigma_b2=0.05) == 1.0
    kw = dict(activation="tanh", sigma_w2=3.0, sigma_b2=0.05)
    c = kernels.correlation_fixed_point(**kw)
    assert 0 < c < 1
    assert float(kernels.correlation_map(c, **kw)) == pytest.approx(c, abs=1e-10)
    q = float(kernels.variance_fixed_point(**kw))
    chi_c = 3.0 * float(kernels.gaussian_pair_expectation(q, q * c, q, "tanh", derivative=True))
    assert kernels.correlation_length(**kw) == pytest.approx(-1 / np.log(chi_c))
    # ordered side: ξ_c = −1/ln χ₁; at the critical ReLU point χ₁ = 1, ξ = ∞
    kw = dict(activation="tanh", sigma_w2=0.8, sigma_b2=0.05)
    assert kernels.correlation_length(**kw) == pytest.approx(-1 / np.log(float(kernels.chi1(**kw))))
    assert kernels.correlation_length(activation="erf", sigma_w2=1.0, sigma_b2=0.0) > 100


def test_relu_excess_kurtosis_closed_form():
    assert kernels.relu_excess_kurtosis(np.array([5.0, 10.0]), 2) == pytest.approx([3 * (4 - 1), 3 * (2.25 - 1)])
    assert kernels.relu_excess_kurtosis(7, 0) == 0.0
    assert kernels.relu_excess_kurtosis(1, 1) == pytest.approx(15.0)


def test_gp_posterior_against_the_formula():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((7, 2))
    Kall = kernels.nngp_kernel(Z, depth=1, sigma_b2=0.1)
    Ktr, Kx, kd = Kall[:5, :5], Kall[5:, :5], np.diag(Kall)[5:]
    y = rng.standard_normal(5)
    mean, var = kernels.gp_posterior(Ktr, Kx, kd, y, noise_var=0.2, jitter=0.0)
    A = np.linalg.inv(Ktr + 0.2 * np.eye(5))
    assert mean == pytest.approx(Kx @ A @ y, rel=1e-10)
    assert var == pytest.approx(kd - np.einsum("ij,jk,ik->i", Kx, A, Kx), rel=1e-10)
    # the posterior at a training input with no noise is the label, with zero variance
    m0, v0 = kernels.gp_posterior(Ktr, Ktr[:2], np.diag(Ktr)[:2], y, jitter=0.0)
    assert m0 == pytest.approx(y[:2], rel=1e-8) and v0 == pytest.approx(0.0, abs=1e-8)
    # the relative jitter acts as extra noise of size jitter · mean(diag K)
    mj, _ = kernels.gp_posterior(Ktr, Kx, kd, y, noise_var=0.1, jitter=0.1)
    mn, _ = kernels.gp_posterior(Ktr, Kx, kd, y, noise_var=0.1 + 0.1 * np.mean(np.diag(Ktr)), jitter=0.0)
    assert mj == pytest.approx(mn, rel=1e-12)


def test_kernel_regression_dynamics_against_explicit_steps():
    rng = np.random.default_rng(4)
    Z = rng.standard_normal((6, 2))
    Th = kernels.ntk_kernel(Z, depth=1)
    tr, te = slice(0, 4), slice(4, 6)
    y, f0, g0 = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(2)
    lr = 0.3
    ft, fs = kernels.kernel_regression_dynamics(Th[tr, tr], Th[te, tr], y, np.arange(6), lr=lr, discrete=True,
                                                f0_train=f0, f0_test=g0)
    f, g = f0.copy(), g0.copy()
    for t in range(6):
        assert ft[t] == pytest.approx(f, rel=1e-9, abs=1e-12) and fs[t] == pytest.approx(g, rel=1e-9, abs=1e-12)
        r = f - y
        f, g = f - lr * Th[tr, tr] @ r, g - lr * Th[te, tr] @ r
    # gradient flow: an Euler integration with a small step, and the t → ∞ limit (kernel regression)
    T_end, n = 2.0, 20_000
    f, g = f0.copy(), g0.copy()
    for _ in range(n):
        r = f - y
        f, g = f - lr * T_end / n * Th[tr, tr] @ r, g - lr * T_end / n * Th[te, tr] @ r
    ft, fs = kernels.kernel_regression_dynamics(Th[tr, tr], Th[te, tr], y, T_end, lr=lr, f0_train=f0, f0_test=g0)
    assert ft == pytest.approx(f, rel=1e-3) and fs == pytest.approx(g, rel=1e-3)
    ft, fs = kernels.kernel_regression_dynamics(Th[tr, tr], Th[te, tr], y, 1e6, lr=lr)
    assert ft == pytest.approx(y, rel=1e-8)
    assert fs == pytest.approx(Th[te, tr] @ np.linalg.solve(Th[tr, tr], y), rel=1e-6)
    # a zero eigenvalue: the gain (1 − e^{−ηλt})/λ → ηt
    ft, fs = kernels.kernel_regression_dynamics(np.zeros((1, 1)), np.ones((1, 1)), np.ones(1), 2.0, lr=0.5)
    assert ft == pytest.approx([0.0]) and fs == pytest.approx([0.5 * 2.0 * 1.0])


@pytest.mark.parametrize("derivative", [False, True])
def test_monte_carlo_method_agrees_with_the_closed_form(derivative):
    """method="monte_carlo" is an average over Gaussian pairs: within 5 standard errors of the exact value, the
    same numbers for the same seed, different ones for another seed."""
    k11, k12, k22 = np.array([1.0, 2.0]), np.array([0.4, -1.0]), np.array([0.5, 3.0])
    n = 50_000
    mc = kernels.gaussian_pair_expectation(k11, k12, k22, "erf", derivative=derivative, method="monte_carlo",
                                           n_samples=n, seed=3)
    exact = kernels.gaussian_pair_expectation(k11, k12, k22, "erf", derivative=derivative)
    f = kernels.ACTIVATIONS["erf"][1 if derivative else 0]
    for i in range(2):
        _, se = _mc(f, f, k11[i], k12[i], k22[i], n=n)
        assert abs(mc[i] - exact[i]) < 5 * se
    again = kernels.gaussian_pair_expectation(k11, k12, k22, "erf", derivative=derivative, method="monte_carlo",
                                              n_samples=n, seed=3)
    other = kernels.gaussian_pair_expectation(k11, k12, k22, "erf", derivative=derivative, method="monte_carlo",
                                              n_samples=n, seed=4)
    assert np.array_equal(mc, again) and not np.array_equal(mc, other) and mc.shape == (2,)
