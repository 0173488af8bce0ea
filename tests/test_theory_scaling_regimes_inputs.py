"""Bad inputs to course_utils.theory.scaling_regimes end in a clear error naming the argument, and its
closed forms agree with independent computations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from course_utils.theory import scaling_regimes as sr
from course_utils.theory.linear import ridge_risk

LAM = np.arange(1, 40) ** -1.5


@pytest.mark.parametrize("call, words", [
    (lambda: sr.spectrum_integral(float("nan")), "alpha"),
    (lambda: sr.spectrum_integral(float("inf")), "alpha"),
    (lambda: sr.spectrum_integral(-1.0), "alpha"),
    (lambda: sr.spectrum_integral("1"), "alpha"),
    (lambda: sr.resolution_limited_coefficient(0.0), "alpha"),
    (lambda: sr.resolution_limited_loss([1, np.nan], 1.0), "n"),
    (lambda: sr.resolution_limited_loss(10, float("nan")), "alpha"),
    (lambda: sr.resolution_limited_loss_finite(LAM, 2.5), "whole"),
    (lambda: sr.resolution_limited_loss_finite(LAM, [np.nan]), "n"),
    (lambda: sr.resolution_limited_loss_finite(-LAM, 3), "spectrum"),
    (lambda: sr.resolution_limited_loss_finite(np.zeros(5), 3), "spectrum"),
    (lambda: sr.resolution_limited_loss_finite([[1.0]], 3), "spectrum"),
    (lambda: sr.variance_limited_loss(1.0, float("nan"), 9), "fixed size"),
    (lambda: sr.variance_limited_loss(1.0, 2, [9, np.nan]), "n"),
    (lambda: sr.variance_limited_loss(np.nan, 2, 9), "loss_limit"),
    (lambda: sr.variance_limited_loss(1.0, 2, 3.5), "threshold"),
    (lambda: sr.variance_limited_coefficient(-1.0, 2), "non-negative"),
    (lambda: sr.variance_limited_coefficient(1.0, "2"), "fixed size"),
    (lambda: sr.manifold_exponent(2.5), "d"),
    (lambda: sr.manifold_exponent(True), "d"),
    (lambda: sr.manifold_exponent(2, None), "quantity"),
    (lambda: sr.kernel_learning_curve_exponent(float("nan"), 2.0), "spectrum_exponent"),
    (lambda: sr.kernel_learning_curve_exponent(2.0, float("inf")), "target_exponent"),
    (lambda: sr.kernel_learning_curve_exponent(2.0, "3"), "target_exponent"),
    (lambda: sr.tail_power([[1.0]]), "power"),
    (lambda: sr.tail_power([1.0, np.nan]), "power"),
    (lambda: sr.spectral_learning_curve(LAM, LAM, 2.5), "whole"),
    (lambda: sr.spectral_learning_curve(LAM, LAM, 0), "at least 1"),
    (lambda: sr.spectral_learning_curve(LAM, LAM, 3, ridge=-1.0), "ridge"),
    (lambda: sr.spectral_learning_curve(LAM, LAM, 3, ridge=float("nan")), "ridge"),
    (lambda: sr.spectral_learning_curve(-LAM, LAM, 3), "eigenvalues"),
    (lambda: sr.spectral_learning_curve(np.zeros(3), np.ones(3), 3), "eigenvalues"),
    (lambda: sr.spectral_learning_curve(LAM, np.where(LAM > 0.1, np.nan, LAM), 3), "target_power"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_case_of_quantity_and_rounding_noise_in_the_spectrum_are_accepted():
    assert sr.manifold_exponent(2, "Linear") == 2.0
    noisy = np.append(LAM, -1e-17)                           # eigh of a kernel matrix gives such values
    assert sr.spectral_learning_curve(noisy, np.append(LAM, 0.0), 5) == sr.spectral_learning_curve(LAM, LAM, 5)


@settings(max_examples=15, deadline=None)
@given(alpha=st.floats(0.2, 4))
def test_spectrum_integral_is_the_integral(alpha):
    b = 1 + alpha
    value, _ = quad(lambda u: 1.0 / (1.0 + u ** b), 0, np.inf)
    assert sr.spectrum_integral(alpha) == pytest.approx(value, rel=1e-7)
    assert sr.resolution_limited_coefficient(alpha) == pytest.approx(value ** b, rel=1e-7)
    n = np.array([1.0, 10.0, 1000.0])
    assert sr.resolution_limited_loss(n, alpha) == pytest.approx(value ** b * n ** -alpha, rel=1e-7)


@settings(max_examples=30, deadline=None)
@given(L=st.floats(0, 5), Ns=st.integers(1, 50), extra=st.integers(2, 500))
def test_variance_limited_loss_by_hand(L, Ns, extra):
    N = Ns + extra
    assert sr.variance_limited_loss(L, Ns, N) == pytest.approx(L * (N - 1) / (N - Ns - 1), rel=1e-12, abs=1e-300)
    assert sr.variance_limited_coefficient(L, Ns) == pytest.approx(Ns * L)


def test_variance_limited_loss_at_the_smallest_allowed_size():
    # N = N_s + 2: L = L_∞ (1 + N_s) exactly
    assert sr.variance_limited_loss(2.0, 3, 5) == pytest.approx(8.0)


@pytest.mark.parametrize("d, q, want", [(1, "distance", 1.0), (5, "nearest", 0.4), (8, "linear", 0.5)])
def test_manifold_exponent_values(d, q, want):
    assert sr.manifold_exponent(d, q) == pytest.approx(want)


@settings(max_examples=30, deadline=None)
@given(b=st.floats(1.01, 5), a1=st.floats(1.01, 12))
def test_kernel_exponent_is_the_smaller_of_a_and_2b(b, a1):
    assert sr.kernel_learning_curve_exponent(b, a1) == pytest.approx(min(a1 - 1, 2 * b))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0, 10), min_size=1, max_size=8))
def test_tail_power_by_hand(p):
    assert sr.tail_power(p) == pytest.approx([sum(p[k:]) for k in range(len(p))], rel=1e-12, abs=1e-12)


def test_spectral_learning_curve_is_ridge_risk_on_the_modes_with_positive_eigenvalues():
    lam = np.array([1.0, 0.5, 0.0, 0.2, 0.1])
    p = np.array([0.3, 0.2, 5.0, 0.1, 0.05])                  # power on a λ = 0 mode is dropped
    keep = lam > 0
    want = ridge_risk(lam[keep], np.sqrt(p[keep] / lam[keep]), 0.0, 3, 0.01).test_error
    assert sr.spectral_learning_curve(lam, p, 3, ridge=0.01) == pytest.approx(want)
    got = sr.spectral_learning_curve(lam, p, np.array([2, 3]), ridge=0.01)
    assert got.shape == (2,) and got[1] == pytest.approx(want)
    # the learning curve falls with more data
    assert got[1] < got[0]


@pytest.mark.parametrize("call, start", [
    (lambda: sr.spectrum_integral(0.0), "alpha"),
    (lambda: sr.resolution_limited_loss("a", 1.0), "n must"),
    (lambda: sr.resolution_limited_loss_finite(LAM, "a"), "n must"),
    (lambda: sr.resolution_limited_loss_finite("a", 3), "spectrum must"),
    (lambda: sr.variance_limited_loss(1.0, 0.5, 9), "n_fixed"),
    (lambda: sr.variance_limited_loss(1.0, 2, "a"), "n must"),
    (lambda: sr.variance_limited_loss("a", 2, 9), "loss_limit must"),
    (lambda: sr.variance_limited_coefficient("a", 2), "loss_limit must"),
    (lambda: sr.manifold_exponent(0), "d "),
    (lambda: sr.manifold_exponent(2, "cubic"), "quantity must"),
    (lambda: sr.kernel_learning_curve_exponent(None, 2.0), "spectrum_exponent must"),
    (lambda: sr.kernel_learning_curve_exponent(2.0, None), "target_exponent must"),
    (lambda: sr.tail_power("a"), "power must"),
    (lambda: sr.tail_power([1.0, -1.0]), "power must be a 1-d array of non-negative"),
    (lambda: sr.spectral_learning_curve("a", LAM, 3), "eigenvalues must"),
    (lambda: sr.spectral_learning_curve(LAM, "a", 3), "target_power must"),
    (lambda: sr.spectral_learning_curve(LAM, LAM, "a"), "n must"),
    (lambda: sr.spectral_learning_curve(LAM, LAM, 3, ridge=None), "ridge must"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_values_are_accepted():
    assert sr.resolution_limited_loss(1, 1.0) == pytest.approx(np.pi ** 2 / 4)          # N = 1 is allowed
    assert sr.resolution_limited_loss([], 1.0).shape == (0,)
    assert sr.resolution_limited_loss_finite(LAM, []).shape == (0,)
    assert sr.resolution_limited_loss_finite(np.append(LAM, 0.0), 1) > 0
    assert sr.variance_limited_loss(1.0, 1, 3) == pytest.approx(2.0)                    # N_s = 1, N = N_s + 2
    assert sr.variance_limited_loss(0.0, 2, [10, 20]).tolist() == [0.0, 0.0]
    assert sr.variance_limited_loss(1.0, 2, []).shape == (0,)
    assert sr.variance_limited_loss([], 2, 5).shape == (0,)
    assert sr.variance_limited_coefficient([], 2).shape == (0,)
    assert sr.variance_limited_coefficient(0.0, 1) == 0.0
    assert sr.tail_power([0.0, 0.0, 1.0]).tolist() == [1.0, 1.0, 1.0]
    assert sr.spectral_learning_curve(LAM, LAM, []).shape == (0,)
    assert sr.spectral_learning_curve(LAM, np.zeros_like(LAM), 3) == 0.0             # no target: no loss


@pytest.mark.parametrize("call, start", [
    (lambda: sr.resolution_limited_loss_finite([[1.0, 0.5]], 3), "spectrum must have 1 dimension"),
    (lambda: sr.resolution_limited_loss_finite([1.0, -0.5], 3), "spectrum must be non-negative eigenvalues"),
    (lambda: sr.spectral_learning_curve([1.0, -0.5], [1.0, 1.0], 3), "eigenvalues must be non-negative"),
    (lambda: sr.kernel_learning_curve_exponent(2.0, 1.0), "the target exponent 1 \\+ a .target_exponent. must exceed 1"),
    (lambda: sr.kernel_learning_curve_exponent(1.0, 2.0), "the spectrum exponent .spectrum_exponent. must exceed 1"),
])
def test_more_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_rounding_noise_tolerance_is_relative_and_scalars_stay_scalars():
    lam = np.array([100.0, 1.0, -1e-9])                    # −1e-9 > −1e-10 · 100: rounding noise, accepted
    assert np.isfinite(sr.spectral_learning_curve(lam, np.array([1.0, 1.0, 0.0]), 1))
    got = sr.spectral_learning_curve(LAM, LAM, 4)
    assert np.ndim(got) == 0 and got == sr.spectral_learning_curve(LAM, LAM, [4])[0]
    assert np.ndim(sr.resolution_limited_loss_finite(LAM, 4)) == 0
