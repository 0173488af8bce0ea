"""Unit tests of course_utils.theory.scaling_regimes: closed forms, their limits and the argument checks."""

import numpy as np
import pytest
from scipy.integrate import quad

from course_utils.data.synthetic import power_law_spectrum
from course_utils.theory import scaling_regimes as sr
from course_utils.theory.linear import ridge_risk


@pytest.mark.parametrize("alpha", [0.3, 0.5, 1.0, 2.0])
def test_spectrum_integral_is_the_integral(alpha):
    b = 1 + alpha
    value, _ = quad(lambda u: 1.0 / (1.0 + u ** b), 0, np.inf)
    assert sr.spectrum_integral(alpha) == pytest.approx(value, rel=1e-7)
    assert sr.resolution_limited_coefficient(alpha) == pytest.approx(value ** b, rel=1e-7)


def test_alpha_one_constant():
    # b = 2: I = π/2, C = π²/4
    assert sr.resolution_limited_coefficient(1.0) == pytest.approx(np.pi ** 2 / 4)


@pytest.mark.parametrize("alpha", [0.7, 1.0])
def test_asymptotic_law_matches_the_deterministic_equivalent(alpha):
    """At N ≪ M the boxed formula and Chapter 1's deterministic equivalent agree to a few percent."""
    lam = power_law_spectrum(200_000, 1 + alpha)
    n = np.array([50, 100, 200])
    finite = sr.resolution_limited_loss_finite(lam, n)
    np.testing.assert_allclose(finite, sr.resolution_limited_loss(n, alpha), rtol=0.05)
    slope = -np.polyfit(np.log(n), np.log(finite), 1)[0]
    assert slope == pytest.approx(alpha, abs=0.03)
    assert np.ndim(sr.resolution_limited_loss_finite(lam, 50)) == 0


def test_finite_loss_is_ridge_risk():
    lam = power_law_spectrum(500, 2.0)
    assert sr.resolution_limited_loss_finite(lam, 40) == pytest.approx(
        ridge_risk(lam, np.ones(500), 0.0, 40).test_error)


def test_variance_limited_formula():
    L = sr.variance_limited_loss(0.5, 8, np.array([19, 1008]))
    np.testing.assert_allclose(L, [0.5 * (1 + 8 / 10), 0.5 * (1 + 8 / 999)])
    # at large N the excess is c/N with c = N_s L_∞
    N = 1e7
    assert (sr.variance_limited_loss(0.5, 8, N) - 0.5) * N == pytest.approx(sr.variance_limited_coefficient(0.5, 8),
                                                                           rel=1e-5)


def test_variance_limited_formula_against_monte_carlo():
    """Least squares on P Gaussian features with independent Gaussian noise of variance L_∞."""
    rng = np.random.default_rng(0)
    P, D, L_inf, draws = 5, 20, 0.3, 4000
    Z = rng.standard_normal((draws, D, P))
    r = np.sqrt(L_inf) * rng.standard_normal((draws, D))
    err = np.linalg.solve(np.swapaxes(Z, 1, 2) @ Z, (np.swapaxes(Z, 1, 2) @ r[..., None]))[..., 0]
    measured = L_inf + np.mean(np.sum(err ** 2, axis=1))
    assert measured == pytest.approx(sr.variance_limited_loss(L_inf, P, D), rel=0.03)


def test_manifold_exponents():
    assert sr.manifold_exponent(2, "distance") == 0.5
    assert sr.manifold_exponent(4, "nearest") == 0.5
    assert sr.manifold_exponent(3, "linear") == pytest.approx(4 / 3)


def test_kernel_exponent_and_tail():
    assert sr.kernel_learning_curve_exponent(1.3, 1.6) == pytest.approx(0.6)
    assert sr.kernel_learning_curve_exponent(1.2, 5.0) == pytest.approx(2.4)  # saturates at 2b
    np.testing.assert_allclose(sr.tail_power([1.0, 2.0, 3.0]), [6.0, 5.0, 3.0])


def test_spectral_learning_curve_of_a_power_law():
    """With p_k = λ_k (isotropic target) the spectral curve is the random-feature curve of §2."""
    lam = power_law_spectrum(20_000, 2.0)
    n = np.array([20, 40, 80])
    np.testing.assert_allclose(sr.spectral_learning_curve(lam, lam, n), sr.resolution_limited_loss_finite(lam, n),
                               rtol=1e-10)
    # a smoother target, p_k ∝ k^-(1+a) with a = 2: exponent a
    L = sr.spectral_learning_curve(lam, lam * np.arange(1, 20_001) ** -1.0, np.array([50, 100, 200, 400]))
    assert -np.polyfit(np.log([50, 100, 200, 400]), np.log(L), 1)[0] == pytest.approx(2.0, abs=0.1)


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        sr.spectrum_integral(0.0)
    with pytest.raises(ValueError, match="at least 1"):
        sr.resolution_limited_loss(0.5, 1.0)
    with pytest.raises(ValueError, match="at least 1"):
        sr.resolution_limited_loss_finite(np.ones(5), 0)
    with pytest.raises(ValueError, match="threshold"):
        sr.variance_limited_loss(1.0, 8, 9)
    with pytest.raises(ValueError, match="fixed size"):
        sr.variance_limited_loss(1.0, 0, 9)
    with pytest.raises(ValueError, match="non-negative"):
        sr.variance_limited_loss(-1.0, 2, 9)
    with pytest.raises(ValueError, match="fixed size"):
        sr.variance_limited_coefficient(1.0, 0)
    with pytest.raises(ValueError, match="positive integer"):
        sr.manifold_exponent(0)
    with pytest.raises(ValueError, match="quantity"):
        sr.manifold_exponent(2, "cubic")
    with pytest.raises(ValueError, match="exceed 1"):
        sr.kernel_learning_curve_exponent(1.0, 2.0)
    with pytest.raises(ValueError, match="exceed 1"):
        sr.kernel_learning_curve_exponent(2.0, 0.5)
    with pytest.raises(ValueError, match="non-negative"):
        sr.tail_power([1.0, -1.0])
    with pytest.raises(ValueError, match="same length"):
        sr.spectral_learning_curve(np.ones(3), np.ones(4), 2)
    with pytest.raises(ValueError, match="non-negative"):
        sr.spectral_learning_curve(np.ones(3), -np.ones(3), 2)
