"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.kernels.

Closed forms for erf (Williams) give independent references for the signal-propagation functions
(variance fixed point, χ₁, c*, ξ_c) at their defaults; Monte Carlo options must reach every layer of the
recursions; validation boundaries (zero variance, the rounding slack of a covariance, |c| ≤ 1 + 1e-12);
kernel gradient flow depends only on ηΘt (scale invariance) and treats rounding-level negative eigenvalues
as zero.
"""

import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.optimize import brentq

from course_utils.theory import kernels
from course_utils.validate import ArgumentError

gpe = kernels.gaussian_pair_expectation


# ---- independent erf references: E[erf(u) erf(v)] = (2/π) arcsin(2k12/√((1+2k11)(1+2k22))) ----

def _erf_e(k11, k12, k22):
    return 2 / np.pi * np.arcsin(2 * k12 / np.sqrt((1 + 2 * k11) * (1 + 2 * k22)))


def _erf_edot(k11, k12, k22):
    return 4 / np.pi / np.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12 ** 2)


def _erf_q(sw2, sb2):
    """q* = σ_b² + σ_w² E[erf(√q z)²], by root finding on the closed form."""
    return brentq(lambda q: sb2 + sw2 * _erf_e(q, q, q) - q, 1e-9, 1e3, xtol=1e-15)


def _erf_c(sw2, sb2):
    """The stable fixed point c* < 1 of the erf correlation map (chaotic phase)."""
    q = _erf_q(sw2, sb2)
    return brentq(lambda c: (sb2 + sw2 * _erf_e(q, q * c, q)) / q - c, -1.0, 1 - 1e-6, xtol=1e-15), q


# ---- signal propagation at the defaults (σ_w² = 1, σ_b² = 0) and with erf / ReLU / linear ----

def test_chi1_defaults_and_activation_reach_the_fixed_point():
    # σ_w² = 1, σ_b² = 0: erf has q* > 0 and χ₁ = (4/π)/√(1 + 4q*) (just above 1: weakly chaotic)
    q = _erf_q(1.0, 0.0)
    assert float(kernels.chi1(activation="erf")) == pytest.approx(4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-9)
    # the fixed point is the one of the activation asked for (erf, not the default tanh)
    q = _erf_q(1.2, 0.3)
    assert float(kernels.chi1(activation="erf", sigma_w2=1.2, sigma_b2=0.3)) == pytest.approx(
        1.2 * 4 / np.pi / np.sqrt(1 + 4 * q), rel=1e-9)
    # with q given, χ₁ = σ_w² E[tanh'(√q z)²] at the default σ_w² = 1
    dphi = kernels.ACTIVATIONS["tanh"][1]
    ref = quad(lambda z: dphi(math.sqrt(0.5) * z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -12, 12,
               epsabs=1e-14, points=[0.0])[0]
    assert float(kernels.chi1(q=0.5)) == pytest.approx(ref, rel=1e-9)


def test_variance_fixed_point_defaults():
    # ReLU: q ↦ σ_b² + σ_w² q/2; at the defaults (σ_w² = 1, σ_b² = 0) q* = 0
    assert float(kernels.variance_fixed_point(activation="relu")) == pytest.approx(0.0, abs=1e-9)
    # at He initialisation (σ_w² = 2) every q is fixed: the iteration returns its start q0 (default 1)
    assert float(kernels.variance_fixed_point(activation="relu", sigma_w2=2.0)) == pytest.approx(1.0, rel=1e-12)
    assert float(kernels.variance_fixed_point(activation="relu", sigma_w2=2.0, q0=3.0)) == pytest.approx(3.0)
    # erf at the defaults, against the closed form
    assert float(kernels.variance_fixed_point(activation="erf")) == pytest.approx(_erf_q(1.0, 0.0), rel=1e-9)


@pytest.mark.parametrize("activation, critical", [("tanh", 1.0), ("erf", np.pi / 4)])
def test_variance_fixed_point_is_zero_for_saturating_activations_without_bias(activation, critical):
    """tanh/erf with σ_b² = 0 and σ_w² φ'(0)² ≤ 1: q* = 0 exactly, at the critical σ_w² too (there q_l ≈ 3/(2l)
    for tanh, which the iteration cannot follow); just above it q* > 0 (iterated), and a bias lifts q* above σ_b²."""
    sw2 = np.array([0.3 * critical, critical, 1.5 * critical])
    q = kernels.variance_fixed_point(activation=activation, sigma_w2=sw2)
    assert q[0] == 0.0 and q[1] == 0.0
    assert q[2] > 0.1 and float(kernels.variance_map(q[2], activation=activation, sigma_w2=sw2[2])) == \
        pytest.approx(q[2], rel=1e-10)
    # σ_b² > 0 (one entry of an array): no shortcut, q* ≥ σ_b²
    q_b = kernels.variance_fixed_point(activation=activation, sigma_w2=critical, sigma_b2=np.array([0.0, 0.05]))
    assert q_b[0] == 0.0 and q_b[1] > 0.05
    # χ₁ = σ_w² φ'(0)² at q* = 0: exactly 1 at the critical point; c* = 1 and ξ_c = ∞ there
    assert float(kernels.chi1(activation=activation, sigma_w2=critical)) == pytest.approx(1.0, abs=1e-12)
    assert float(kernels.chi1(activation=activation, sigma_w2=0.3 * critical)) == pytest.approx(0.3, abs=1e-12)
    assert kernels.correlation_fixed_point(activation=activation, sigma_w2=critical) == 1.0
    assert kernels.correlation_length(activation=activation, sigma_w2=critical) == np.inf


def test_relu_and_linear_keep_the_iteration_without_bias():
    """The q* = 0 shortcut is for the saturating tanh and erf only: linear at σ_w² = 1 keeps every q (q* = q0), ReLU
    at σ_w² = 2 as well."""
    assert float(kernels.variance_fixed_point(activation="linear", q0=2.5)) == pytest.approx(2.5, rel=1e-12)
    assert float(kernels.variance_fixed_point(activation="relu", sigma_w2=2.0, q0=0.4)) == pytest.approx(0.4, rel=1e-12)


@pytest.mark.parametrize("activation, slope2", [("tanh", 1.0), ("erf", 4 / np.pi)])
def test_correlation_map_at_zero_variance_is_its_small_q_limit(activation, slope2):
    """With q* = 0 the correlation map is its q → 0 limit M(c) = σ_w² φ'(0)² c, continuous with small q > 0."""
    c = np.array([-0.9, 0.0, 0.4, 1.0])
    sw2 = 0.8 / slope2
    assert kernels.correlation_map(c, activation=activation, sigma_w2=sw2) == pytest.approx(0.8 * c, abs=1e-15)
    assert kernels.correlation_map(c, q=0.0, activation=activation, sigma_w2=sw2) == pytest.approx(0.8 * c, abs=1e-15)
    small = kernels.correlation_map(c, q=1e-6, activation=activation, sigma_w2=sw2)
    assert small == pytest.approx(0.8 * c, abs=1e-5)      # E[φ(u)φ(v)] = φ'(0)² q c + O(q²)
    for bad in (dict(activation="relu"), dict(activation="tanh", sigma_b2=0.1)):
        with pytest.raises(ArgumentError, match="q = 0"):
            kernels.correlation_map(c, q=0.0, **bad)
    with pytest.raises(ArgumentError, match="q"):
        kernels.correlation_map(c, q=-1e-3, activation=activation)


def test_variance_fixed_point_tolerance_is_absolute_plus_relative():
    """The iteration stops at the first step with |q_new − q| ≤ tol·(1 + |q|). ReLU, σ_w² = 1, σ_b² = 0 halves q:
    from q0 = 1 the steps are 0.5, 0.25, 0.125, 0.0625 and with tol = 0.09 the first accepted one is
    0.125 → 0.0625 (0.0625 ≤ 0.09·1.125, while 0.125 > 0.09·1.25)."""
    assert float(kernels.variance_fixed_point(activation="relu", tol=0.09)) == pytest.approx(0.0625, rel=1e-12)
    # large q*: the tolerance is relative. q* = 2·10⁶; 30 halvings bring q within 2·10⁶·2⁻³⁰ of it, enough for tol
    # = 1e-6 (relative) but never for an absolute 1e-6/(1 + q) ≈ 5e-13
    q = kernels.variance_fixed_point(activation="relu", sigma_b2=1e6, tol=1e-6, max_iter=30)
    assert float(q) == pytest.approx(2e6, rel=2e-6)


def test_variance_map_defaults_and_order():
    # ReLU: q ↦ σ_b² + σ_w² q/2 with the defaults σ_w² = 1, σ_b² = 0
    assert kernels.variance_map(np.array([1.0, 3.0]), activation="relu") == pytest.approx([0.5, 1.5], rel=1e-12)
    # the default quadrature order is 8 nodes per panel, and `order` is used (2 nodes per panel is less exact)
    q = np.array([0.7, 30.0])
    assert np.array_equal(kernels.variance_map(q), kernels.variance_map(q, order=8))
    exact = kernels.variance_map(q, order=32)
    assert np.abs(kernels.variance_map(q, order=2) - exact).max() > 1e-12
    assert kernels.variance_map(q) == pytest.approx(exact, rel=1e-10)


def test_correlation_map_defaults_activation_and_method():
    # the defaults σ_w² = 1, σ_b² = 0 with a given q: M(c) = E[erf(u) erf(v)]/q
    c = np.array([-0.5, 0.2, 0.9])
    assert kernels.correlation_map(c, q=0.8, activation="erf") == pytest.approx(_erf_e(0.8, 0.8 * c, 0.8) / 0.8,
                                                                                 rel=1e-12)
    # without q: the erf fixed point q*, not tanh's
    q = _erf_q(1.4, 0.2)
    assert kernels.correlation_map(c, activation="erf", sigma_w2=1.4, sigma_b2=0.2) == pytest.approx(
        (0.2 + 1.4 * _erf_e(q, q * c, q)) / q, rel=1e-9)
    # the method is used: tanh has no closed form
    with pytest.raises(ArgumentError, match="closed forms"):
        kernels.correlation_map(0.5, q=1.0, activation="tanh", method="closed")


def test_correlation_map_accepts_correlations_up_to_rounding():
    # |c| ≤ 1 + 1e-12 is accepted (rounding), anything larger refused
    assert float(kernels.correlation_map(1 + 1e-12, q=1.0, activation="erf")) == pytest.approx(
        _erf_e(1.0, 1.0, 1.0), rel=1e-9)
    assert float(kernels.correlation_map(-1 - 1e-12, q=1.0, activation="erf")) == pytest.approx(
        -_erf_e(1.0, 1.0, 1.0), rel=1e-9)
    for c in (1 + 1e-11, -1 - 1e-11, 1.5):
        with pytest.raises(ArgumentError, match="correlations c"):
            kernels.correlation_map(c, q=1.0, activation="erf")


def test_correlation_fixed_point_defaults():
    # linear network at the defaults σ_w² = 1, σ_b² = 0: the map is c ↦ c (χ₁ = 1), c* = 1
    assert kernels.correlation_fixed_point(activation="linear") == 1.0
    # erf at the defaults is (weakly) chaotic; odd φ without bias: M(0) = 0 is the stable fixed point
    assert kernels.correlation_fixed_point(activation="erf") == pytest.approx(0.0, abs=1e-12)


def test_correlation_fixed_point_uses_the_activation():
    # erf with σ_b² = 0.05 is chaotic above σ_w² ≈ 1.376, tanh only above ≈ 1.761: at 1.5 erf has c* < 1
    c_ref, _ = _erf_c(1.5, 0.05)
    assert c_ref < 0.99
    assert kernels.correlation_fixed_point(activation="erf", sigma_w2=1.5, sigma_b2=0.05) == pytest.approx(
        c_ref, abs=1e-9)
    c_ref, _ = _erf_c(3.0, 0.3)
    assert kernels.correlation_fixed_point(activation="erf", sigma_w2=3.0, sigma_b2=0.3) == pytest.approx(
        c_ref, abs=1e-9)


def test_correlation_fixed_point_just_above_the_edge_of_chaos():
    """χ₁ barely above 1 (tanh, σ_b² = 1, σ_w² 1e-8 above critical): c* cannot be told apart from 1
    (M(c) ≥ c at c = 1 − 1e-6 to the accuracy of q*), and 1.0 is returned."""
    kw = dict(activation="tanh", sigma_b2=1.0)
    crit = brentq(lambda s: float(kernels.chi1(sigma_w2=s, **kw)) - 1, 3.0, 4.0, xtol=1e-14)
    sw2 = crit * (1 + 1e-8)
    assert float(kernels.chi1(sigma_w2=sw2, **kw)) > 1
    assert kernels.correlation_fixed_point(sigma_w2=sw2, **kw) == 1.0


def test_correlation_length_against_erf_closed_forms():
    # defaults σ_w² = 1, σ_b² = 0 with erf: c* = 0, χ_c = σ_w² (4/π)/(1 + 2q*), ξ = −1/ln χ_c
    q = _erf_q(1.0, 0.0)
    assert kernels.correlation_length(activation="erf") == pytest.approx(-1 / np.log(_erf_edot(q, 0.0, q)), rel=1e-8)
    # chaotic with bias: χ_c is the slope of the erf map at its own c*
    c, q = _erf_c(2.0, 0.2)
    chi_c = 2.0 * _erf_edot(q, q * c, q)
    assert kernels.correlation_length(activation="erf", sigma_w2=2.0, sigma_b2=0.2) == pytest.approx(
        -1 / np.log(chi_c), rel=1e-7)
    # ordered: c* = 1 and χ_c = χ₁ = σ_w² (4/π)/√(1 + 4q*)
    q = _erf_q(0.8, 0.1)
    assert kernels.correlation_length(activation="erf", sigma_w2=0.8, sigma_b2=0.1) == pytest.approx(
        -1 / np.log(0.8 * 4 / np.pi / np.sqrt(1 + 4 * q)), rel=1e-8)


def test_correlation_length_diverges_at_he_initialisation():
    # ReLU, σ_w² = 2, σ_b² = 0: χ_c = 1 exactly, ξ = ∞
    assert kernels.correlation_length(activation="relu", sigma_w2=2.0) == np.inf


# ---- Gaussian expectations: boundaries of the inputs ----

def test_gaussian_expectation_zero_and_negative_variance():
    # q = 0 is allowed: E[g(0)] = g(0)
    assert float(kernels.gaussian_expectation(np.cos, 0.0)) == pytest.approx(1.0, rel=1e-12)
    assert kernels.gaussian_expectation(lambda u: u + 2.0, np.array([0.0, 1.0])) == pytest.approx([2.0, 2.0])
    with pytest.raises(ArgumentError, match="non-negative"):
        kernels.gaussian_expectation(np.cos, -1e-3)


def test_gaussian_expectation_default_order():
    q = np.array([0.3, 50.0])
    assert np.array_equal(kernels.gaussian_expectation(np.tanh, q), kernels.gaussian_expectation(np.tanh, q, order=8))


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_covariance_at_the_rounding_bound(sign):
    """k12 = ±(1 + 5e-9)·√(k11 k22) passes the check (slack 1e-8) and is treated as ρ = ±1."""
    k12 = sign * (1 + 5e-9)
    relu = float(gpe(1.0, k12, 1.0, "relu"))
    assert relu == pytest.approx(0.5 if sign > 0 else 0.0, abs=1e-12)
    assert float(gpe(1.0, k12, 1.0, "relu", derivative=True)) == pytest.approx(0.5 if sign > 0 else 0.0, abs=1e-12)
    # Monte Carlo: v = ±u exactly, so the average of erf(u)·erf(±u) is within its error of ±E[erf(u)²]
    mc = float(gpe(1.0, k12, 1.0, "erf", method="monte_carlo", n_samples=4000, seed=1))
    exact = sign * float(_erf_e(1.0, 1.0, 1.0))
    assert abs(mc - exact) < 5 * 0.6 / math.sqrt(4000)


def test_zero_variance_closed_form_and_monte_carlo():
    # ReLU: u ≡ 0 gives φ(u) φ(v) ≡ 0; the derivative takes its θ = 0 value 1/2 (a vanishing variance counts as
    # full correlation), a number, not NaN
    assert float(gpe(0.0, 0.0, 1.0, "relu")) == 0.0
    assert float(gpe(2.0, 0.0, 0.0, "relu")) == 0.0
    assert float(gpe(0.0, 0.0, 1.0, "relu", derivative=True)) == 0.5
    # Monte Carlo with v ≡ 0: E[erf'(u) erf'(0)] = (4/π)/√3 for k11 = 1
    n = 20_000
    mc = float(gpe(1.0, 0.0, 0.0, "erf", derivative=True, method="monte_carlo", n_samples=n, seed=2))
    assert abs(mc - 4 / np.pi / np.sqrt(3.0)) < 5 * 0.3 / math.sqrt(n)
    mc = float(gpe(0.0, 0.0, 1.0, "erf", derivative=True, method="monte_carlo", n_samples=n, seed=2))
    assert abs(mc - 4 / np.pi / np.sqrt(3.0)) < 5 * 0.3 / math.sqrt(n)


def test_monte_carlo_small_variances_and_arrays():
    # √(k11 k22) < 1: the correlation is k12/√(k11 k22) = 0.8, not 0
    n = 20_000
    mc = float(gpe(0.5, 0.4, 0.5, "erf", method="monte_carlo", n_samples=n, seed=3))
    assert abs(mc - _erf_e(0.5, 0.4, 0.5)) < 5 * 0.5 / math.sqrt(n)
    # arrays of any shape: one average per entry, in place
    k11 = np.array([[1.0, 0.5, 2.0], [0.3, 1.0, 1.5]])
    k22 = np.array([[0.5, 1.0, 1.0], [0.3, 2.0, 0.7]])
    k12 = np.array([[0.2, -0.3, 1.0], [0.1, 0.0, -0.9]])
    mc = gpe(k11, k12, k22, "erf", method="monte_carlo", n_samples=n, seed=4)
    assert mc.shape == (2, 3) and mc.dtype == np.float64
    assert np.abs(mc - _erf_e(k11, k12, k22)).max() < 5 * 0.6 / math.sqrt(n)
    # a seed gives reproducible numbers
    again = gpe(k11, k12, k22, "erf", method="monte_carlo", n_samples=n, seed=4)
    assert np.array_equal(mc, again)


# ---- the recursions pass the method and its options to every layer ----

X3 = np.array([[1.0, 0.5, -0.2], [0.3, -1.0, 0.8], [-0.6, 0.4, 1.1]])


def test_monte_carlo_options_reach_every_layer_of_the_nngp_recursion():
    """K¹ = σ_b² + σ_w² E over N(0, K⁰) and the diagonal recursion qˡ = σ_b² + σ_w² E[φ(u)²], each by the same
    Monte Carlo average (same n_samples and seed): the depth-2 diagonal is the diagonal recursion."""
    sw2, sb2, n, seed = 1.5, 0.1, 3000, 7
    opts = dict(method="monte_carlo", n_samples=n, seed=seed)
    K0 = kernels.input_kernel(X3, sigma_w2=sw2, sigma_b2=sb2)
    d0 = np.diag(K0).copy()
    K1 = sb2 + sw2 * gpe(d0[:, None], K0, d0[None, :], "relu", **opts)
    assert kernels.nngp_kernel(X3, depth=1, sigma_w2=sw2, sigma_b2=sb2, **opts) == pytest.approx(K1, rel=1e-12)
    d1 = sb2 + sw2 * gpe(d0, d0, d0, "relu", **opts)
    d2 = sb2 + sw2 * gpe(d1, d1, d1, "relu", **opts)
    K2 = kernels.nngp_kernel(X3, depth=2, sigma_w2=sw2, sigma_b2=sb2, **opts)
    assert np.diag(K2) == pytest.approx(d2, rel=1e-6)
    # the cross kernel follows the diagonal recursions of both input sets
    K2x = kernels.nngp_kernel(X3[:1], X3[1:], depth=2, sigma_w2=sw2, sigma_b2=sb2, **opts)
    assert K2x == pytest.approx(K2[:1, 1:], rel=1e-6)


def test_monte_carlo_options_reach_the_ntk():
    sw2, sb2, n, seed = 1.5, 0.1, 3000, 5
    opts = dict(method="monte_carlo", n_samples=n, seed=seed)
    K0 = kernels.input_kernel(X3, sigma_w2=sw2, sigma_b2=sb2)
    d0 = np.diag(K0).copy()
    K1 = sb2 + sw2 * gpe(d0[:, None], K0, d0[None, :], "relu", **opts)
    Kdot = gpe(d0[:, None], K0, d0[None, :], "relu", derivative=True, **opts)
    Theta, K = kernels.ntk_kernel(X3, depth=1, sigma_w2=sw2, sigma_b2=sb2, return_nngp=True, **opts)
    assert K == pytest.approx(K1, rel=1e-12)
    assert Theta == pytest.approx(K1 + sw2 * Kdot * K0, rel=1e-12)


def _relu_layer(K, sw2, sb2):
    d = np.sqrt(np.diag(K))
    cos = np.clip(K / np.outer(d, d), -1, 1)
    th = np.arccos(cos)
    return (sb2 + sw2 * np.outer(d, d) / (2 * np.pi) * (np.sin(th) + (np.pi - th) * cos),
            (np.pi - th) / (2 * np.pi))


def test_nngp_and_ntk_defaults():
    """Defaults: one hidden ReLU layer at He initialisation (σ_w² = 2, σ_b² = 0)."""
    K0 = 2.0 * X3 @ X3.T / 3
    K1, Kdot = _relu_layer(K0, 2.0, 0.0)
    assert kernels.nngp_kernel(X3) == pytest.approx(K1, rel=1e-12)
    assert kernels.ntk_kernel(X3) == pytest.approx(K1 + 2.0 * Kdot * K0, rel=1e-12)


# ---- kernel gradient flow ----

def test_kernel_regression_dynamics_defaults():
    """Defaults: gradient flow (not GD) with η = 1. For Θ = λI, f_t = y + e^{−λt}(f₀ − y) and the test point
    moves by −Θ(x*, X) Θ⁻¹ (1 − e^{−λt}) (f₀ − y)."""
    lam, t = 0.7, 1.3
    y, f0, g0 = np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([0.2])
    cross = np.array([[0.3, -0.1]])
    ft, fs = kernels.kernel_regression_dynamics(lam * np.eye(2), cross, y, t, f0_train=f0, f0_test=g0)
    decay = math.exp(-lam * t)
    assert ft == pytest.approx(y + decay * (f0 - y), rel=1e-12)
    assert fs == pytest.approx(g0 - cross @ ((1 - decay) / lam * (f0 - y)), rel=1e-12)


def test_kernel_regression_dynamics_depends_on_eta_theta_t_only():
    """Only ηΘt matters: rescaling Θ → cΘ and t → t/c leaves the trajectory unchanged, also for a tiny kernel whose
    eigenvalues span 8 decades (both are far from the λ → 0 cut-off at 1e-12 of the largest)."""
    rng = np.random.default_rng(0)
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    lam = np.array([1.0, 1e-4, 1e-8])
    Theta = V @ np.diag(lam) @ V.T
    cross = rng.standard_normal((2, 3))
    y, f0 = rng.standard_normal(3), rng.standard_normal(3)
    t = np.array([1.0, 1e4, 1e8])
    ref = kernels.kernel_regression_dynamics(Theta, cross, y, t, f0_train=f0)
    for c in (1e-6, 1e6):
        got = kernels.kernel_regression_dynamics(c * Theta, c * cross, y, t / c, f0_train=f0)
        assert got[0] == pytest.approx(ref[0], rel=1e-6, abs=1e-9)
        assert got[1] == pytest.approx(ref[1], rel=1e-6, abs=1e-9)


def test_kernel_regression_dynamics_rounding_negative_eigenvalue():
    """A kernel matrix with a rounding-level negative eigenvalue (−1e-13) is treated as positive semi-definite:
    that direction does not grow, even after a very long time."""
    V = np.array([[1.0, 1.0], [1.0, -1.0]]) / np.sqrt(2)
    Theta = V @ np.diag([1.0, -1e-13]) @ V.T
    y, f0 = np.array([1.0, 0.0]), np.array([0.0, 0.0])
    cross = np.array([[1.0, 1.0]])                                # no component along the null mode
    ft, fs = kernels.kernel_regression_dynamics(Theta, cross, y, 1e15, f0_train=f0)
    r0 = V.T @ (f0 - y)
    assert ft == pytest.approx(y + V[:, 1] * r0[1], abs=1e-9)   # the λ = 1 mode has decayed, the null mode stays
    assert fs == pytest.approx(-(cross @ V[:, 0]) * r0[0], rel=1e-9)


# ---- activations ----

def test_silu_and_all_derivatives():
    """SiLU is x·σ(x) = x/(1 + e⁻ˣ); every φ' is the derivative of its φ (central differences)."""
    x = np.array([-4.0, -1.3, -0.2, 0.0, 0.4, 1.1, 3.5])
    silu, dsilu = kernels.ACTIVATIONS["silu"]
    assert silu(x) == pytest.approx(x / (1 + np.exp(-x)), rel=1e-14, abs=1e-300)
    assert dsilu(x) == pytest.approx((1 + np.exp(-x) * (1 + x)) / (1 + np.exp(-x)) ** 2, rel=1e-13)
    h = 1e-6
    for name in ("silu", "tanh", "erf", "linear"):
        phi, dphi = kernels.activation(name), kernels.activation_derivative(name)
        assert dphi(x) == pytest.approx((phi(x + h) - phi(x - h)) / (2 * h), rel=1e-7, abs=1e-9), name
    relu_d = kernels.activation_derivative("relu")
    assert list(relu_d(np.array([-1.0, 0.0, 2.0]))) == [0.0, 0.0, 1.0]   # φ'(0) = 0, as torch


def test_activation_lookups():
    assert kernels.activation(np.sin) is np.sin                      # a user function passes through
    assert kernels.activation(" SiLU ") is kernels.ACTIVATIONS["silu"][0]
    assert kernels.activation_derivative("Tanh") is kernels.ACTIVATIONS["tanh"][1]
    with pytest.raises(ArgumentError, match="must be one of"):
        kernels.activation_derivative(3)
    with pytest.raises(ArgumentError, match="dphi"):
        kernels.activation_derivative(np.tanh)


# ---- σ² arguments: numbers, or arrays where the function broadcasts ----

def test_sigma_arrays_boundaries():
    # where arrays are allowed: σ_b² = 0 is fine, σ_w² = 0 is not; a bool is not a variance
    assert kernels.variance_map(2.0, activation="relu", sigma_w2=np.array([1.0, 2.0]),
                                sigma_b2=np.array([0.0, 0.1])) == pytest.approx([1.0, 2.1])
    with pytest.raises(ArgumentError, match="sigma_w2"):
        kernels.variance_map(1.0, sigma_w2=np.array([0.0, 1.0]))
    with pytest.raises(ArgumentError, match="sigma_b2"):
        kernels.variance_map(1.0, sigma_b2=np.array([0.1, -1e-9]))
    with pytest.raises(ArgumentError, match="sigma_w2"):
        kernels.variance_map(1.0, sigma_w2=True)
    # where they are numbers: a list is refused, not broadcast over the kernel matrix
    with pytest.raises(ArgumentError, match="sigma_w2"):
        kernels.nngp_kernel(np.eye(2), sigma_w2=[1.0, 2.0])
    with pytest.raises(ArgumentError, match="sigma_b2"):
        kernels.input_kernel(np.eye(2), sigma_b2=[0.0, 0.1])
    assert kernels.input_kernel(np.eye(2), sigma_w2=2.0, sigma_b2=0.0) == pytest.approx(np.eye(2))


# ---- gaussian_pair_expectation: the covariance check, the options, the quadrature's special cases ----

def test_covariance_check_boundaries():
    # k12 may exceed √(k11 k22) by a relative 1e-8 (rounding), no more
    assert float(gpe(1.0, 1.0 + 1e-8, 1.0, "relu")) == pytest.approx(0.5)
    with pytest.raises(ArgumentError, match="k12 must satisfy"):
        gpe(1.0, 1.0 + 3e-8, 1.0, "relu")
    # the bound is √(k11 k22), not a ratio: k11 = 1, k22 = 4 allow |k12| up to 2
    assert float(gpe(1.0, 1.9, 4.0, "linear")) == 1.9
    with pytest.raises(ArgumentError, match="k12 must satisfy"):
        gpe(1.0, 2.1, 4.0, "linear")
    # an all-zero covariance is valid; a negative variance in either slot is not
    assert float(gpe(0.0, 0.0, 0.0, "relu")) == 0.0
    assert float(gpe(0.0, 0.0, 0.0, "tanh", method="quadrature")) == 0.0
    for k11, k22 in ((-1.0, 1.0), (1.0, -1.0)):
        with pytest.raises(ArgumentError, match="non-negative"):
            gpe(k11, 0.0, k22, "relu")


def test_pair_expectation_defaults_and_boundaries_of_options():
    k11, k12, k22 = np.array([0.5, 2.0]), np.array([0.2, -1.0]), np.array([1.0, 3.0])
    q = gpe(k11, k12, k22, "tanh")
    assert np.array_equal(q, gpe(k11, k12, k22, "tanh", order=8, method="quadrature"))
    assert np.array_equal(gpe(k11, k12, k22, "tanh", derivative=True),
                          gpe(k11, k12, k22, "tanh", derivative=True, order=8))
    # order from 2 to 64 nodes per panel (the same check for both functions)
    low = gpe(k11, k12, k22, "tanh", order=2)
    assert low == pytest.approx(q, rel=1e-2) and np.abs(low - q).max() > 1e-8
    with pytest.raises(ArgumentError, match="order"):
        gpe(k11, k12, k22, "tanh", order=65)
    with pytest.raises(ArgumentError, match="order"):
        kernels.gaussian_expectation(np.tanh, 1.0, order=65)
    assert float(kernels.gaussian_expectation(np.cos, 1.0, order=64)) == pytest.approx(np.exp(-0.5), rel=1e-12)
    # Monte Carlo: the defaults are n_samples = 200 000 and seed = 0; two samples are enough to run
    mc = gpe(k11, k12, k22, "erf", method="monte_carlo")
    assert np.array_equal(mc, gpe(k11, k12, k22, "erf", method="monte_carlo", n_samples=200_000, seed=0))
    assert np.all(np.isfinite(gpe(k11, k12, k22, "erf", method="monte_carlo", n_samples=2)))


def test_recursion_defaults_of_the_options():
    """The recursions use the same defaults: order 8, and for Monte Carlo 200 000 samples with seed 0."""
    Xs = X3[:2]
    assert np.array_equal(kernels.nngp_kernel(Xs, activation="tanh", depth=2),
                          kernels.nngp_kernel(Xs, activation="tanh", depth=2, order=8))
    assert np.array_equal(kernels.ntk_kernel(Xs, activation="tanh"), kernels.ntk_kernel(Xs, activation="tanh", order=8))
    mc = kernels.nngp_kernel(Xs, method="monte_carlo")
    assert np.array_equal(mc, kernels.nngp_kernel(Xs, method="monte_carlo", n_samples=200_000, seed=0))


def test_user_activation_and_derivative_closed_forms():
    """E[sin u sin v] = e^{−(k11+k22)/2} sinh k12 and E[cos u cos v] = e^{−(k11+k22)/2} cosh k12: φ = sin by
    quadrature, and with derivative=True the derivative given as dphi = cos."""
    k11, k12, k22 = np.array([0.7, 3.0]), np.array([0.3, -2.5]), np.array([1.2, 4.0])
    pref = np.exp(-(k11 + k22) / 2)
    assert gpe(k11, k12, k22, np.sin) == pytest.approx(pref * np.sinh(k12), rel=1e-10)
    assert gpe(k11, k12, k22, np.sin, derivative=True, dphi=np.cos) == pytest.approx(pref * np.cosh(k12), rel=1e-10)
    mc = gpe(k11, k12, k22, np.sin, derivative=True, dphi=np.cos, method="monte_carlo", n_samples=20_000, seed=1)
    assert np.abs(mc - pref * np.cosh(k12)).max() < 5 / math.sqrt(20_000)


@pytest.mark.parametrize("k11,k12,k22", [(1.0, -20.0, 400.0), (400.0, -20.0, 1.0), (1.0, 20.0, 400.0),
                                         (2e4, -2e4, 2e4)])
def test_quadrature_at_full_correlation_unequal_variances(k11, k12, k22):
    """|ρ| = 1: v = ±√(k22/k11) u, a 1-D integral; against scipy.integrate.quad with the kinks of tanh(az) marked."""
    a, b = math.sqrt(k11), math.copysign(math.sqrt(k22), k12)
    pts = sorted({0.0, 1 / a, -1 / a, 1 / abs(b), -1 / abs(b)})
    ref = quad(lambda z: math.tanh(a * z) * math.tanh(b * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
               -12, 12, points=pts, epsabs=0, epsrel=1e-13, limit=500)[0]
    assert float(gpe(k11, k12, k22, "tanh", method="quadrature")) == pytest.approx(ref, rel=1e-10)


def test_quadrature_degenerate_cases():
    # |k12| a hair above √(k11 k22) (the rounding slack) is ρ = ±1
    e2 = float(kernels.gaussian_expectation(lambda u: np.tanh(u) ** 2, 1.0))
    assert float(gpe(1.0, 1 + 5e-9, 1.0, "tanh", method="quadrature")) == pytest.approx(e2, rel=1e-12)
    assert float(gpe(1.0, -1 - 5e-9, 1.0, "tanh", method="quadrature")) == pytest.approx(-e2, rel=1e-12)
    # a zero variance: E[φ'(u) φ'(0)] = E[φ'(u)] (tanh'(0) = 1), in either slot
    e1 = float(kernels.gaussian_expectation(kernels.ACTIVATIONS["tanh"][1], 1.0))
    assert float(gpe(1.0, 0.0, 0.0, "tanh", derivative=True, method="quadrature")) == pytest.approx(e1, rel=1e-12)
    assert float(gpe(0.0, 0.0, 1.0, "tanh", derivative=True, method="quadrature")) == pytest.approx(e1, rel=1e-12)
    # empty arrays give empty results
    assert gpe(np.empty(0), np.empty(0), np.empty(0), "tanh").shape == (0,)


def test_erf_closed_form_at_the_rounding_bound():
    """At huge variances the rounding slack can push 2k12/√((1+2k11)(1+2k22)) past 1: clipped, arcsin = π/2."""
    k = 1e9
    assert float(gpe(k, k * (1 + 5e-9), k, "erf")) == pytest.approx(1.0, rel=1e-12)
    assert float(gpe(k, -k * (1 + 5e-9), k, "erf")) == pytest.approx(-1.0, rel=1e-12)


def test_erf_derivative_at_the_rounding_bound():
    """k12 within the accepted rounding slack above √(k11k22) is taken at the bound, where
    E[φ'φ'] = (4/π)/√(1 + 2k11 + 2k22) (no NaN: the radicand (1+2k11)(1+2k22) − 4k12² is positive there)."""
    k = 1e9
    at_bound = 4 / np.pi / np.sqrt(1 + 4 * k)
    assert float(gpe(k, k * (1 + 5e-9), k, "erf", derivative=True)) == pytest.approx(at_bound, rel=1e-12)
    assert float(gpe(k, -k * (1 + 5e-9), k, "erf", derivative=True)) == pytest.approx(at_bound, rel=1e-12)
    assert float(gpe(k, k, k, "erf", derivative=True)) == pytest.approx(at_bound, rel=1e-12)


# ---- GP posterior and gradient flow: shapes and the discrete-time boundary ----

def test_gp_posterior_several_outputs_and_one_test_point():
    K = np.array([[2.0, 0.5, 0.1], [0.5, 1.5, 0.3], [0.1, 0.3, 1.0]])
    Y = np.array([[1.0, -1.0], [0.5, 2.0], [0.0, 0.3]])
    kx = np.array([0.4, 0.2, 0.6])
    mean, var = kernels.gp_posterior(K, kx, np.array([1.2]), Y, noise_var=0.1, jitter=0.0)
    A = np.linalg.inv(K + 0.1 * np.eye(3))
    assert mean.shape == (1, 2) and var.shape == (1,)
    assert mean == pytest.approx((kx @ A @ Y)[None, :], rel=1e-12)
    assert var == pytest.approx([1.2 - kx @ A @ kx], rel=1e-12)


def test_discrete_dynamics_fractional_steps_boundary():
    """(1 − ηλ)^t is real for fractional t while ηλ ≤ 1 (ηλ = 1 included), refused once ηλ > 1."""
    y, f0 = np.array([1.0, 2.0]), np.zeros(2)
    ft, _ = kernels.kernel_regression_dynamics(np.eye(2), np.eye(2), y, 1.5, lr=1.0, f0_train=f0, discrete=True)
    assert ft == pytest.approx(y)
    with pytest.raises(ArgumentError, match="whole numbers"):
        kernels.kernel_regression_dynamics(1.5 * np.eye(2), np.eye(2), y, 1.5, lr=1.0, discrete=True)
    # whole numbers of steps are fine at any ηλ: (1 − 3)² = 4
    ft, _ = kernels.kernel_regression_dynamics(3.0 * np.eye(2), np.eye(2), y, 2, lr=1.0, f0_train=f0, discrete=True)
    assert ft == pytest.approx(y + 4 * (f0 - y))
    # and gradient flow takes any t
    ft, _ = kernels.kernel_regression_dynamics(3.0 * np.eye(2), np.eye(2), y, 0.5, lr=1.0, f0_train=f0)
    assert ft == pytest.approx(y + math.exp(-1.5) * (f0 - y))


def _nested_tanh(k11, k12, k22):
    """E[tanh(u) tanh(v)] = E_z[tanh(√k11 z) E[tanh(m + s z₂)]], m = √k22 ρ z, s = √(k22(1 − ρ²)), by scipy quad."""
    a, rho = math.sqrt(k11), k12 / math.sqrt(k11 * k22)
    b, s = math.sqrt(k22) * rho, math.sqrt(k22 * (1 - rho ** 2))
    gauss = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731

    def inner(m):
        pts = [p for p in ((-1 - m) / s, -m / s, (1 - m) / s) if -12 < p < 12]
        return quad(lambda z: math.tanh(m + s * z) * gauss(z), -12, 12, points=pts, epsabs=1e-15, epsrel=1e-13,
                    limit=200)[0]

    pts = sorted({0.0, 1 / a, -1 / a, 1 / abs(b), -1 / abs(b)})
    return quad(lambda z: math.tanh(a * z) * inner(b * z) * gauss(z), -12, 12, points=pts, epsabs=1e-15,
                epsrel=1e-12, limit=200)[0]


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("k12", [-19.99, 19.99])
def test_quadrature_near_full_correlation_unequal_variances(k12):
    """ρ = ±0.9995 with k11 = 1, k22 = 400: E[tanh(v) | u] has features of width s/|m'| ≈ 0.03 in z₁, resolved for
    either sign of ρ (the odd symmetry E(−k12) = −E(k12) holds as well)."""
    got = float(gpe(1.0, k12, 400.0, "tanh", method="quadrature"))
    assert got == pytest.approx(_nested_tanh(1.0, k12, 400.0), rel=1e-9)


def test_no_runtime_warnings_at_zero_variance_or_overflow():
    """Zero variances and an overflowing integrand are handled without NumPy RuntimeWarnings: the results are
    exact, or an ArgumentError says what went wrong."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(kernels.gaussian_expectation(np.cos, 0.0)) == pytest.approx(1.0)
        assert float(gpe(0.0, 0.0, 1.0, "tanh", derivative=True, method="quadrature")) == pytest.approx(
            float(kernels.gaussian_expectation(kernels.ACTIVATIONS["tanh"][1], 1.0)), rel=1e-12)
        assert float(gpe(0.0, 0.0, 0.0, "relu")) == 0.0
        assert float(gpe(1.0, 0.0, 0.0, "erf", method="monte_carlo", n_samples=100)) == 0.0
        with pytest.raises(ArgumentError, match="not finite"):
            kernels.gaussian_expectation(lambda u: np.exp(u ** 4), 4.0)
        with pytest.raises(ArgumentError, match="not finite"):
            gpe(4.0, 1.0, 4.0, lambda u: np.exp(u ** 4), method="quadrature")
        with pytest.raises(ArgumentError, match="not finite"):
            gpe(4.0, 1.0, 4.0, lambda u: np.exp(u ** 4), method="monte_carlo", n_samples=10_000)
        # 0·inf = NaN inside the integrand (invalid) as well as overflow
        for method in ("quadrature", "monte_carlo"):
            with pytest.raises(ArgumentError, match="not finite"):
                gpe(4.0, 0.0, 4.0, lambda u: np.maximum(u, 0.0) * np.exp(u ** 4), method=method, n_samples=10_000)


@pytest.mark.parametrize("rho", [1 - 1e-6, 1 - 1e-8, -(1 - 1e-8)])
@pytest.mark.parametrize("k11,k22", [(1.0, 4.0), (100.0, 0.01)])
def test_relu_quadrature_close_to_full_correlation(rho, k11, k22):
    """Near |ρ| = 1 the conditional width s = √(k22(1 − ρ²)) is tiny and E[φ'(v) | u] is a step smoothed over s:
    the quadrature still matches the arc-cosine closed form, E[φ'φ'] = (π − θ)/(2π) with θ ≈ √(2(1 − ρ))."""
    k12 = rho * math.sqrt(k11 * k22)
    quad_ = float(gpe(k11, k12, k22, "relu", derivative=True, method="quadrature"))
    assert quad_ == pytest.approx(float(gpe(k11, k12, k22, "relu", derivative=True)), rel=1e-8)
    if rho > 0:
        assert float(gpe(k11, k12, k22, "relu", method="quadrature")) == pytest.approx(
            float(gpe(k11, k12, k22, "relu")), rel=1e-12)


def test_correlation_map_broadcasts_sigmas_when_q_is_given():
    # with q given the σ's may be arrays (one map per value); without q they must be numbers (q* is one number)
    sw2 = np.array([1.0, 2.0])
    assert kernels.correlation_map(0.5, q=1.0, activation="erf", sigma_w2=sw2) == pytest.approx(
        sw2 * _erf_e(1.0, 0.5, 1.0), rel=1e-12)
    with pytest.raises(ArgumentError, match="sigma_w2"):
        kernels.correlation_map(0.5, activation="erf", sigma_w2=sw2)


def test_relu_excess_kurtosis_of_no_widths():
    assert kernels.relu_excess_kurtosis(np.array([]), 3).shape == (0,)


# ================================================================================================
# Second round (survivors of the run of 2026-12-06). Equivalent mutants left (not killable by any test
# through the functions' callers; no pragma, since each of their lines also holds mutants that matter):
#
# - _composite_pair_7, _9 (errstate invalid=None / dropped): the only caller, _pair_expectation, already
#   wraps the call in errstate(invalid="ignore").
# - _composite_pair_37, _39, _41, _44, _monte_carlo_pair_36, _46, _49, _52, _pair_expectation_143, _146,
#   _149, _189, _191, _normal_rule_64, _68, kernel_regression_dynamics_20, _93, _117: ``reshape(-2)`` and
#   ``reshape(None)``; NumPy (2.x) reads any negative size as "the rest", and these arrays are already 1-D
#   (reshape(None) keeps the shape).
# - _composite_pair_82 (``range(0, n, )``: chunks start at every index, overlapping): each entry is
#   recomputed with the same numbers, only slower.
# - _composite_pair_110 (_BENDS instead of _SMOOTHED_BENDS: adds the edge 0, already an edge of
#   _GAUSS_EDGES): a panel of zero width, weight exactly 0 (rounding-level change of the sum order).
# - _normal_rule_22 (np.sort without axis: the default axis is −1), _normal_rule_43 (a + b)/2 − half·x:
#   the Gauss–Legendre nodes are symmetric, the same nodes in reverse order with the same weights.
# - _check_sigmas_15, activation_derivative_9, correlation_fixed_point_7, correlation_length_7
#   (``positive=None`` / ``allow_function=None``): None is as falsy as False.
# - ntk_kernel_30, _39 (return_layers None / dropped: _recursion's default is False).
# - correlation_fixed_point_16, _28, _32, _39, _44 (q = None or not passed: chi1 and correlation_map then
#   recompute the same q* by the same iteration), _31 (chi1 without σ_b²: with q given, χ₁ = σ_w² E[φ'²]
#   does not use σ_b²), _33, _53 (≤ vs <, ≥ vs > at χ₁ == 1 or gap == 0 exactly: at χ₁ = 1 the map is
#   tangent to c at 1 and gap(1 − 1e-6) ≥ 0, both branches return 1.0).
# - kernel_regression_dynamics_203, _205 (the denominator where λ ≤ 0): masked by the outer np.where.
# - kernel_regression_dynamics_186 (λ > vs ≥ 1e-12·λmax): at exact equality the mutant's (1 − e^{−ηλt})/λ is,
#   if anything, the more exact value; not pinned.
# - _monte_carlo_pair_18 (``out=None`` in the division where √(k11 k22) = 0): uninitialised ρ multiplies a
#   sample path whose law does not depend on ρ (u ≡ 0 or v ≡ 0); only the Monte Carlo noise changes.
# ================================================================================================


def test_activation_messages_offer_a_function_only_where_one_is_accepted():
    """activation() accepts a user function, activation_derivative() does not: the messages say so."""
    with pytest.raises(ArgumentError, match=r"name \(the activation\) must be one of .* or a function"):
        kernels.activation(3)
    with pytest.raises(ArgumentError, match=r"unknown name \(the activation\) .* or pass a function"):
        kernels.activation("sigmoidal")
    with pytest.raises(ArgumentError, match=r"name \(the activation\)") as err:
        kernels.activation_derivative(3)
    assert "or a function" not in str(err.value)
    with pytest.raises(ArgumentError, match=r"unknown name \(the activation\)") as err:
        kernels.activation_derivative("sigmoidal")
    assert "function" not in str(err.value)


def test_signal_propagation_refuses_user_functions_by_name():
    """correlation_fixed_point / correlation_length take names only: a user function is refused at once
    (with the list of names), before the variance map is iterated (here φ(u) = u with σ_w² = 2 diverges)."""
    for fn in (kernels.correlation_fixed_point, kernels.correlation_length):
        with pytest.raises(ArgumentError, match="must be one of"):
            fn(activation=lambda u: u, sigma_w2=2.0)


def test_sigma_messages_name_weight_and_bias_variance():
    with pytest.raises(ArgumentError, match="weight variance"):
        kernels.input_kernel(np.eye(2), sigma_w2=-1.0)
    with pytest.raises(ArgumentError, match="bias variance"):
        kernels.input_kernel(np.eye(2), sigma_b2=-1.0)
    with pytest.raises(ArgumentError, match="weight variance"):
        kernels.variance_map(1.0, sigma_w2=np.array([1.0, -1.0]))
    with pytest.raises(ArgumentError, match="bias variance"):
        kernels.variance_map(1.0, sigma_b2=np.array([1.0, -1.0]))


def test_messages_name_the_argument_and_shapes():
    """Validation errors name the argument (and, for broadcasting, the shapes)."""
    with pytest.raises(ArgumentError, match=r"\(2,\).*\(3,\)"):
        gpe(np.ones(2), np.zeros(3), np.ones(2))
    with pytest.raises(ArgumentError, match=r"q \(the variance\)"):
        kernels.variance_map(np.nan)
    with pytest.raises(ArgumentError, match="X2"):
        kernels.input_kernel(np.eye(2), np.array([[np.nan, 1.0]]))
    with pytest.raises(ArgumentError, match="from X1"):       # d is set by X1, and X2 disagrees
        kernels.input_kernel(np.eye(2), np.ones((1, 3)))
    with pytest.raises(ValueError, match="no closed form for 'tanh'"):
        kernels._closed_form("tanh", np.ones(1), np.ones(1), np.ones(1), False)


def test_non_finite_integrands_are_reported_by_method():
    """A φ that returns NaN is reported, naming the method that met it."""
    bad = lambda u: np.full_like(u, np.nan)  # noqa: E731
    with pytest.raises(ArgumentError, match="quadrature of E"):
        kernels.gaussian_expectation(bad, 1.0)
    with pytest.raises(ArgumentError, match="quadrature of E"):
        gpe(1.0, 0.5, 1.0, bad)
    with pytest.raises(ArgumentError, match="Monte Carlo"):
        gpe(1.0, 0.5, 1.0, bad, method="monte_carlo", n_samples=10)


def test_inputs_must_be_vectors_or_matrices():
    """X1, X2: one input (1-D) or rows of inputs (2-D); a bare number or a 3-D array is refused."""
    X = np.array([[1.0, 0.0], [0.6, 0.8]])
    for bad in (2.0, np.ones((1, 2, 2))):
        with pytest.raises(ArgumentError, match="X1"):
            kernels.input_kernel(bad)
        with pytest.raises(ArgumentError, match="X2"):
            kernels.input_kernel(X, bad)
    with pytest.raises(ArgumentError, match="X2"):                # d = 1 inputs: a number is still not one
        kernels.input_kernel(np.ones((2, 1)), 2.0)
    # a single input as X2: K⁰(x, x') = x·x'/d with the defaults σ_w² = 1, σ_b² = 0
    assert kernels.input_kernel(X, X[1]) == pytest.approx(np.array([[0.3], [0.5]]), rel=1e-15)


def test_correlation_map_of_no_correlations():
    assert kernels.correlation_map(np.array([]), q=1.0, activation="erf").shape == (0,)


def test_variance_fixed_point_accepts_a_step_equal_to_the_tolerance():
    """Stop rule |q_new − q| ≤ tol·(1 + |q|): from q0 = 0, ReLU gives q_new = σ_b² exactly (φ(0) = 0), so with
    tol = σ_b² the first step is accepted (equality is exact in floating point: 0.25 = 0.25·(1 + 0))."""
    q = kernels.variance_fixed_point(activation="relu", sigma_w2=1.0, sigma_b2=0.25, q0=0.0, tol=0.25)
    assert float(q) == 0.25


def test_variance_fixed_point_default_iteration_budget():
    """max_iter defaults to 10 000. φ(u) = u, σ_w² = r, σ_b² = 0 gives q_n = rⁿ and the step at iteration i is
    (1 − r) r^i; tol is put half a step between i = 9999 and i = 10 000 (a factor r^0.5 ≈ 1 − 5e-4 from
    either, far above the ~1e-10 relative rounding the 10⁴ quadratures accumulate), so convergence needs
    10 001 iterations: one more than the default allows."""
    r = 0.999
    qh = r ** 9999.5
    tol = (1 - r) * qh / (1 + qh)
    with pytest.raises(ArgumentError, match="did not converge"):
        kernels.variance_fixed_point(activation="linear", sigma_w2=r, sigma_b2=0.0, tol=tol)
    q = kernels.variance_fixed_point(activation="linear", sigma_w2=r, sigma_b2=0.0, tol=tol, max_iter=10_001)
    assert float(q) == pytest.approx(r ** 10_001, rel=1e-8)


def test_gp_posterior_shapes_are_checked_against_each_other():
    K = np.array([[1.0, 0.3], [0.3, 1.0]])
    y = np.array([1.0, -1.0])
    with pytest.raises(ArgumentError, match="from K_train"):     # N = 3 in K_cross and y, 2 in K_train
        kernels.gp_posterior(K, np.ones((1, 3)), np.ones(1), np.ones(3))
    with pytest.raises(ArgumentError, match="K_cross"):          # a bare number is not a row of k*
        kernels.gp_posterior(np.ones((1, 1)), 0.5, np.ones(1), np.ones(1))
    with pytest.raises(ArgumentError, match="K_cross"):
        kernels.gp_posterior(K, np.array([[np.nan, 0.0]]), np.ones(1), y)
    with pytest.raises(ArgumentError, match="y_train"):
        kernels.gp_posterior(K, np.ones((1, 2)), np.ones(1), np.ones((2, 1, 1)))


def test_kernel_regression_dynamics_argument_shapes():
    """y_train, f0_train, f0_test may be columns (they are flattened); Θ_cross may be one row (1-D); numbers
    where matrices are expected, 2-D times and NaNs are refused, naming the argument. At t = 0 the predictions
    are f₀, whatever the kernel."""
    Th = np.array([[2.0, 0.5], [0.5, 1.0]])
    cross = np.array([0.3, 0.1])
    f_tr, f_te = kernels.kernel_regression_dynamics(Th, cross, np.array([[1.0], [-1.0]]), 0.0,
                                                    f0_train=np.array([[0.2], [0.1]]), f0_test=np.array([[0.7]]))
    assert f_tr == pytest.approx([0.2, 0.1], abs=1e-15) and f_te == pytest.approx([0.7], abs=1e-15)
    # long times: f(X) → y and f(x*) = f₀(x*) − Θ(x*, X) Θ⁻¹ (f₀(X) − y)
    y = np.array([1.0, -1.0])
    f_tr, f_te = kernels.kernel_regression_dynamics(Th, cross, y, 1e4)
    assert f_tr == pytest.approx(y, abs=1e-12)
    assert f_te == pytest.approx([cross @ np.linalg.solve(Th, y)], rel=1e-12)
    with pytest.raises(ArgumentError, match="from y_train"):
        kernels.kernel_regression_dynamics(np.eye(3), np.ones(3), y, 1.0)
    with pytest.raises(ArgumentError, match="Theta_cross"):
        kernels.kernel_regression_dynamics(np.ones((1, 1)), 0.5, np.ones(1), 1.0)
    for name, kw in (("y_train", dict(y_train=np.array([np.nan, 1.0]))),
                     ("Theta_cross", dict(Theta_cross=np.array([np.nan, 1.0]))),
                     ("f0_train", dict(f0_train=np.array([np.nan, 1.0]))),
                     ("f0_test", dict(f0_test=np.array([np.nan])))):
        args = dict(Theta_train=Th, Theta_cross=cross, y_train=y, t=1.0)
        args.update(kw)
        with pytest.raises(ArgumentError, match=name):
            kernels.kernel_regression_dynamics(**args)
    with pytest.raises(ArgumentError, match="t"):
        kernels.kernel_regression_dynamics(Th, cross, y, np.ones((2, 2)))


def test_recursion_skips_the_covariance_check():
    """The recursions call _pair_expectation without the k12² ≤ k11 k22 check (their entries may pass the bound
    by rounding or Monte Carlo noise); ρ is clipped to 1 instead: E[relu(u) relu(v)] = k/2 at ρ = 1."""
    assert float(kernels._pair_expectation(1.0, 1.1, 1.0, "relu")) == pytest.approx(0.5, rel=1e-15)
    with pytest.raises(ArgumentError, match="k12 must satisfy"):
        gpe(1.0, 1.1, 1.0, "relu")


def test_user_function_is_integrated_whatever_it_compares_equal_to():
    """A user φ always goes to quadrature, even one whose == says it equals every string (like some symbolic
    or mock objects): E[u v] = k12 for φ(u) = u, computed by quadrature here; the mutant took it for a name."""
    class Odd:
        def __call__(self, u):
            return u ** 3
        def __eq__(self, other):
            return True
        __hash__ = object.__hash__
    # E[u³ v³] = 9 k11 k22 ρ + 6 ρ³ (k11 k22)^{3/2} (Isserlis) with k11 = k22 = 1, ρ = 0.5: 4.5 + 0.75
    assert float(gpe(1.0, 0.5, 1.0, Odd())) == pytest.approx(5.25, rel=1e-10)


@pytest.mark.filterwarnings("error")
def test_quadrature_when_the_variance_product_underflows():
    """k11 = k22 = 1e-200: k11·k22 underflows to 0, so ρ = k12/√(k11 k22) cannot be formed; the quadrature
    takes ρ = 0, right here (the true ρ is 1e-301/1e-200 = 1e-101) and silently (no divide warning).
    E[relu(u) relu(v)] at ρ = 0 is (E relu u)² = k/(2π) (ρ = 1 would give k/2); quadrature error ≪ 1e-8."""
    k = 1e-200
    # abs=0: pytest.approx's default absolute tolerance (1e-12) would accept any number this small
    assert float(gpe(k, 1e-301, k, "relu", method="quadrature")) == pytest.approx(k / (2 * np.pi), rel=1e-8, abs=0)


def test_panel_edges_stay_within_ten_standard_deviations():
    """_bend_edges and _normal_rule clip the panels to ±10 sd (the mass outside is 1.5e-23): no node beyond."""
    z = kernels._bend_edges(np.zeros(1), np.array([1e-3]))
    assert z.min() == -10.0 and z.max() == 10.0
    nodes, w = kernels._normal_rule([np.array([-30.0, -5.0, 0.0, 5.0, 30.0])], 32)
    assert np.abs(nodes).max() < 10.0
    assert w.sum() == pytest.approx(1.0, abs=1e-12)  # 32 Gauss–Legendre nodes on panels ≤ 5 sd: error ≪ 1e-12
