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
    quad = kernels.gaussian_pair_expectation(k11, k12, k22, act, derivative=derivative, method="quadrature",
                                             n_points=300)
    # smooth integrands converge exponentially; ReLU's kink (and the step function) only like 1/n_points
    tol = (2e-2 if derivative else 5e-3) if act == "relu" else 1e-8
    assert np.allclose(closed, quad, rtol=tol, atol=tol)


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
    quad = kernels.ntk_kernel(X, depth=3, activation=act, sigma_w2=2.0, sigma_b2=0.1, method="quadrature",
                              n_points=300)
    assert np.allclose(closed, quad, rtol=1e-2 if act == "relu" else 1e-8)


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
    with pytest.raises(ValueError, match="same dimension"):
        kernels.input_kernel(X, np.ones((2, 4)))
    with pytest.raises(ValueError, match="learning rate"):
        kernels.kernel_regression_dynamics(np.eye(2), np.eye(2), np.ones(2), 1.0, lr=0.0)
