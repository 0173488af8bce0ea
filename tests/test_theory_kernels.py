"""Unit tests of course_utils.theory.kernels: closed forms against quadrature, the recursions,
signal propagation, GP regression and kernel gradient flow."""

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from course_utils.theory import kernels


@pytest.fixture
def X():
    return np.random.default_rng(0).standard_normal((5, 3))


@pytest.mark.parametrize("act", ["relu", "erf", "linear"])
@pytest.mark.parametrize("derivative", [False, True])
def test_closed_forms_match_quadrature(act, derivative):
    rng = np.random.default_rng(1)
    k11, k22 = rng.uniform(0.2, 3.0, 20), rng.uniform(0.2, 3.0, 20)
    k12 = rng.uniform(-0.95, 0.95, 20) * np.sqrt(k11 * k22)
    closed = kernels.gaussian_pair_expectation(k11, k12, k22, act, derivative=derivative, method="closed")
    quad = kernels.gaussian_pair_expectation(k11, k12, k22, act, derivative=derivative, method="quadrature")
    # ReLU's kink lies on a panel edge of the composite rule, so it converges as fast as the smooth ones
    assert np.allclose(quad, closed, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("act", ["relu", "erf"])
@pytest.mark.parametrize("scale", [1e-4, 1e2, 1e4, 1e6])
def test_closed_forms_match_quadrature_at_any_scale_and_correlation(act, scale):
    rng = np.random.default_rng(2)
    k11, k22 = rng.uniform(0.2, 3.0, 30) * scale, rng.uniform(0.2, 3.0, 30) * scale
    rho = np.concatenate([rng.uniform(-0.999, 0.999, 24), [1 - 1e-4, 1 - 1e-8, 1.0, -1.0, -1 + 1e-6, 0.0]])
    k12 = rho * np.sqrt(k11 * k22)
    for derivative in (False, True):
        closed = kernels.gaussian_pair_expectation(k11, k12, k22, act, derivative=derivative, method="closed")
        quad = kernels.gaussian_pair_expectation(k11, k12, k22, act, derivative=derivative, method="quadrature")
        # rtol 1e-9, not 1e-10: near |ρ| = 1 at large variances the closed form for erf' subtracts two numbers of
        # order k², (1 + 2k11)(1 + 2k22) − 4k12², and loses digits itself
        assert np.allclose(quad, closed, rtol=1e-9, atol=1e-12 * np.abs(closed).max())


@pytest.mark.parametrize("act", ["tanh", "silu", "erf"])
def test_quadrature_matches_monte_carlo(act):
    q = kernels.gaussian_pair_expectation(1.3, 0.6, 0.9, act, method="quadrature")
    mc = kernels.gaussian_pair_expectation(1.3, 0.6, 0.9, act, method="monte_carlo", n_samples=400_000, seed=3)
    assert mc == pytest.approx(q, abs=4e-3)


def test_relu_closed_form_special_values():
    # identical inputs: E[relu(u)^2] = q/2; orthogonal inputs: E = q/(2π); opposite: 0
    assert kernels.gaussian_pair_expectation(2.0, 2.0, 2.0, "relu") == pytest.approx(1.0)
    assert kernels.gaussian_pair_expectation(2.0, 0.0, 2.0, "relu") == pytest.approx(2.0 / (2 * math.pi))
    assert kernels.gaussian_pair_expectation(2.0, -2.0, 2.0, "relu") == pytest.approx(0.0, abs=1e-12)
    assert kernels.gaussian_pair_expectation(2.0, 0.0, 2.0, "relu", derivative=True) == pytest.approx(0.25)


def test_nngp_depth0_is_input_kernel_and_linear_network_is_linear(X):
    K0 = kernels.input_kernel(X, sigma_w2=1.5, sigma_b2=0.2)
    assert np.allclose(kernels.nngp_kernel(X, depth=0, sigma_w2=1.5, sigma_b2=0.2), K0)
    # a linear network: K^1 = σ_b² + σ_w² K^0
    K1 = kernels.nngp_kernel(X, depth=1, activation="linear", sigma_w2=1.5, sigma_b2=0.2)
    assert np.allclose(K1, 0.2 + 1.5 * K0)


def test_relu_diagonal_at_he_init_is_preserved(X):
    Ks = kernels.nngp_kernel(X, depth=5, sigma_w2=2.0, sigma_b2=0.0, return_layers=True)
    assert len(Ks) == 6
    for K in Ks:
        assert np.allclose(np.diag(K), np.diag(Ks[0]))


def test_nngp_cross_kernel_is_consistent(X):
    full = kernels.nngp_kernel(X, depth=3, activation="erf", sigma_w2=2.5, sigma_b2=0.1)
    cross = kernels.nngp_kernel(X[:2], X[2:], depth=3, activation="erf", sigma_w2=2.5, sigma_b2=0.1)
    assert np.allclose(full[:2, 2:], cross)
    assert np.allclose(full, full.T)
    assert np.all(np.linalg.eigvalsh(full) > -1e-10)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_ntk_closed_form_matches_quadrature(X, act):
    closed = kernels.ntk_kernel(X, depth=3, activation=act, sigma_w2=2.0, sigma_b2=0.1)
    quad = kernels.ntk_kernel(X, depth=3, activation=act, sigma_w2=2.0, sigma_b2=0.1, method="quadrature")
    assert np.allclose(closed, quad, rtol=1e-10)


def test_ntk_one_layer_relu_formula(X):
    # Θ¹ = K¹ + σ_w² K̇¹ K⁰ with K̇¹ = (π − θ)/(2π)
    sw2, sb2 = 2.0, 0.3
    Theta, K = kernels.ntk_kernel(X, depth=1, sigma_w2=sw2, sigma_b2=sb2, return_nngp=True)
    K0 = kernels.input_kernel(X, sigma_w2=sw2, sigma_b2=sb2)
    d = np.sqrt(np.diag(K0))
    theta = np.arccos(np.clip(K0 / np.outer(d, d), -1, 1))
    assert np.allclose(Theta, K + sw2 * (np.pi - theta) / (2 * np.pi) * K0)
    assert np.allclose(K, kernels.nngp_kernel(X, depth=1, sigma_w2=sw2, sigma_b2=sb2))


def test_variance_and_correlation_maps():
    # ReLU with a bias: q* = σ_b²/(1 − σ_w²/2), χ₁ = σ_w²/2
    q = kernels.variance_fixed_point(activation="relu", sigma_w2=1.5, sigma_b2=0.1)
    assert float(q) == pytest.approx(0.1 / (1 - 0.75))
    assert float(kernels.chi1(activation="relu", sigma_w2=1.5, sigma_b2=0.1)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="did not converge"):
        kernels.variance_fixed_point(activation="relu", sigma_w2=2.5, sigma_b2=0.1)
    # c = 1 is always a fixed point of the correlation map
    assert float(kernels.correlation_map(1.0, activation="tanh", sigma_w2=2.0, sigma_b2=0.05)) == pytest.approx(1.0)
    # tanh: ordered below, chaotic above the critical σ_w²
    crit = brentq(lambda s: float(kernels.chi1(activation="tanh", sigma_w2=s, sigma_b2=0.05)) - 1, 1.0, 3.0)
    assert 1.7 < crit < 1.8
    assert kernels.correlation_fixed_point(activation="tanh", sigma_w2=crit - 0.2, sigma_b2=0.05) == 1.0
    c_star = kernels.correlation_fixed_point(activation="tanh", sigma_w2=3.0, sigma_b2=0.05)
    assert 0 < c_star < 1
    assert float(kernels.correlation_map(c_star, activation="tanh", sigma_w2=3.0, sigma_b2=0.05)) == pytest.approx(c_star)
    # the correlation length is finite off criticality and grows towards it
    xi = [kernels.correlation_length(activation="tanh", sigma_w2=s, sigma_b2=0.05) for s in (1.0, 1.5, 1.7)]
    assert xi[0] < xi[1] < xi[2]


def test_chi1_broadcasts():
    chi = kernels.chi1(activation="tanh", sigma_w2=np.array([[1.0, 2.0, 3.0]]), sigma_b2=np.array([[0.05], [0.2]]))
    assert chi.shape == (2, 3)
    assert np.all(np.diff(chi, axis=1) > 0)


def test_relu_excess_kurtosis():
    assert float(kernels.relu_excess_kurtosis(10, 1)) == pytest.approx(1.5)
    assert float(kernels.relu_excess_kurtosis(5, 2)) == pytest.approx(3 * (4 - 1))
    assert float(kernels.relu_excess_kurtosis(1e6, 3)) == pytest.approx(45e-6, rel=1e-4)
    with pytest.raises(ValueError):
        kernels.relu_excess_kurtosis(0, 1)


def test_gp_posterior_interpolates_and_shrinks_variance(X):
    K = kernels.nngp_kernel(X, depth=2)
    y = np.arange(5.0)
    mean, var = kernels.gp_posterior(K, K, np.diag(K), y, noise_var=0.0)
    assert np.allclose(mean, y, atol=1e-6)
    assert np.all(var < 1e-6 * np.diag(K).max())
    # with noise: the mean equals kernel ridge regression, and the variance lies between 0 and the prior's
    mean, var = kernels.gp_posterior(K, K, np.diag(K), y, noise_var=0.5, jitter=0.0)
    assert np.allclose(mean, K @ np.linalg.solve(K + 0.5 * np.eye(5), y))
    assert np.all((var > 0) & (var < np.diag(K)))
    with pytest.raises(ValueError):
        kernels.gp_posterior(K, K[:, :3], np.diag(K), y)


def test_kernel_regression_dynamics_flow_and_discrete():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 6))
    Theta = A @ A.T + 0.1 * np.eye(6)
    cross = rng.standard_normal((3, 6))
    y, f0, f0s = rng.standard_normal(6), rng.standard_normal(6), rng.standard_normal(3)
    lr = 0.5 / np.linalg.eigvalsh(Theta).max()
    # discrete: iterate f ← f − η Θ (f − y) by hand
    f, fs = f0.copy(), f0s.copy()
    for _ in range(25):
        r = f - y
        f, fs = f - lr * Theta @ r, fs - lr * cross @ r
    ft, fst = kernels.kernel_regression_dynamics(Theta, cross, y, 25, lr=lr, f0_train=f0, f0_test=f0s, discrete=True)
    assert np.allclose(ft, f) and np.allclose(fst, fs)
    # flow: t → ∞ interpolates, and the test prediction is the kernel regressor plus the initial offset
    ft, fst = kernels.kernel_regression_dynamics(Theta, cross, y, 1e6, lr=lr, f0_train=f0, f0_test=f0s)
    assert np.allclose(ft, y)
    assert np.allclose(fst, f0s + cross @ np.linalg.solve(Theta, y - f0))
    # arrays of times give a leading axis; t = 0 returns the initial function
    ft, fst = kernels.kernel_regression_dynamics(Theta, cross, y, np.array([0.0, 1.0]), f0_train=f0, f0_test=f0s)
    assert ft.shape == (2, 6) and fst.shape == (2, 3)
    assert np.allclose(ft[0], f0) and np.allclose(fst[0], f0s)


def test_bad_arguments_raise():
    X = np.ones((2, 3))
    with pytest.raises(ValueError, match="unknown activation"):
        kernels.nngp_kernel(X, activation="softsign")
    with pytest.raises(ValueError, match="sigma_w2"):
        kernels.nngp_kernel(X, sigma_w2=0.0)
    with pytest.raises(ValueError, match="depth"):
        kernels.nngp_kernel(X, depth=-1)
    with pytest.raises(ValueError, match="closed forms"):
        kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, "tanh", method="closed")
    with pytest.raises(ValueError, match="same dimension d"):
        kernels.input_kernel(X, np.ones((2, 4)))
    with pytest.raises(ValueError, match="learning rate"):
        kernels.kernel_regression_dynamics(np.eye(2), np.eye(2), np.ones(2), 1.0, lr=0.0)


# ---- the quadrature against an independent reference (scipy.integrate.quad), at large variances ----

def _quad_1d(g, q):
    """E[g(√q z)] by adaptive quadrature in u, split where the activations bend (an independent reference)."""
    from scipy.integrate import quad

    def density(u):
        return float(g(np.asarray(u))) * math.exp(-u * u / (2 * q)) / math.sqrt(2 * math.pi * q)

    edges = [-np.inf, -8.0, -1.0, 0.0, 1.0, 8.0, np.inf]
    return sum(quad(density, a, b, epsabs=0, epsrel=1e-12, limit=500)[0] for a, b in zip(edges[:-1], edges[1:]))


def _quad_pair(f, g, k11, k12, k22):
    """E[f(u) g(v)] by nested adaptive quadrature in (u, v), split at the bends (an independent reference)."""
    from scipy.integrate import quad

    s1, s2 = math.sqrt(k11), math.sqrt(k22)
    rho = k12 / (s1 * s2)
    sc = s2 * math.sqrt(1 - rho ** 2)

    def inner(u):
        m = s2 * rho * u / s1
        edges = sorted({m - 12 * sc, -1.0, 0.0, 1.0, m + 12 * sc})
        edges = [e for e in edges if m - 12 * sc <= e <= m + 12 * sc]
        dens = lambda v: float(g(np.asarray(v))) * math.exp(-(v - m) ** 2 / (2 * sc ** 2)) / math.sqrt(2 * math.pi * sc ** 2)
        return sum(quad(dens, a, b, epsabs=0, epsrel=1e-10, limit=500)[0] for a, b in zip(edges[:-1], edges[1:]))

    outer_edges = sorted({-12 * s1, -1.0, 0.0, 1.0, 12 * s1})
    dens = lambda u: float(f(np.asarray(u))) * inner(u) * math.exp(-u * u / (2 * k11)) / math.sqrt(2 * math.pi * k11)
    return sum(quad(dens, a, b, epsabs=0, epsrel=1e-10, limit=500)[0] for a, b in zip(outer_edges[:-1], outer_edges[1:]))


@pytest.mark.parametrize("act", ["tanh", "silu", "erf", "relu"])
@pytest.mark.parametrize("q", [1e-3, 1.0, 10.0, 20.0, 100.0, 1e3, 1e4])
def test_gaussian_expectation_is_converged_at_any_variance(act, q):
    phi, dphi = kernels.ACTIVATIONS[act]
    for g in (lambda u: phi(u) ** 2, lambda u: dphi(u) ** 2):
        assert float(kernels.gaussian_expectation(g, q)) == pytest.approx(_quad_1d(g, q), rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("act", ["tanh", "silu"])
@pytest.mark.parametrize("k11,k12,k22", [(1.0, 0.5, 2.0), (20.0, 12.0, 10.0), (100.0, -30.0, 80.0),
                                         (150.0, 149.0, 150.0), (0.01, 0.002, 400.0)])
def test_pair_quadrature_matches_nested_scipy_quad(act, k11, k12, k22):
    phi, dphi = kernels.ACTIVATIONS[act]
    for derivative, f in ((False, phi), (True, dphi)):
        got = float(kernels.gaussian_pair_expectation(k11, k12, k22, act, derivative=derivative, method="quadrature"))
        assert got == pytest.approx(_quad_pair(f, f, k11, k12, k22), rel=1e-8, abs=1e-12)


def test_chi1_of_tanh_at_large_variance():
    # χ₁ = σ_w² E[tanh'(√q z)²] at q = 100 (σ_b² = 100 makes q* ≥ 100): the old 100-node Gauss–Hermite rule
    # returned 12 % of the true value here
    q = float(kernels.variance_fixed_point(activation="tanh", sigma_w2=1.5, sigma_b2=100.0))
    dphi = kernels.ACTIVATIONS["tanh"][1]
    assert float(kernels.chi1(activation="tanh", sigma_w2=1.5, sigma_b2=100.0)) == pytest.approx(
        1.5 * _quad_1d(lambda u: dphi(u) ** 2, q), rel=1e-10)


def test_quadrature_raises_instead_of_returning_nan():
    with pytest.raises(ValueError, match="not finite"):
        kernels.gaussian_expectation(lambda u: np.exp(u ** 4), 4.0)  # overflows to inf at the outer nodes
    with pytest.raises(ValueError, match="not finite"):
        kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, lambda u: np.where(u > 0, np.nan, u), method="quadrature")
    with pytest.raises(ValueError, match="order"):
        kernels.gaussian_expectation(np.tanh, 1.0, order=600)
    with pytest.raises(ValueError, match="order"):
        kernels.gaussian_pair_expectation(1.0, 0.5, 1.0, "tanh", order=1)


def test_monte_carlo_recursion_tolerates_its_own_noise():
    """A Monte Carlo layer's estimate of a diagonal entry E[φ(u)²] may exceed the variance of the next
    layer's diagonal recursion; the recursion must go on (the correlation is clipped), while a
    student's non-PSD covariance passed to gaussian_pair_expectation is refused."""
    X = np.random.default_rng(3).standard_normal((6, 3))
    for seed in range(6):
        K = kernels.nngp_kernel(X, depth=3, activation="tanh", sigma_w2=1.5, sigma_b2=0.1, method="monte_carlo",
                                n_samples=200, seed=seed)
        assert np.all(np.isfinite(K))
    with pytest.raises(ValueError, match="k12 must satisfy"):
        kernels.gaussian_pair_expectation(1.0, 1.01, 1.0, "tanh", method="monte_carlo", n_samples=200)
