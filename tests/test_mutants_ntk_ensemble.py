"""Tests written against the surviving mutants of benchmarks/mutation.md: theory.ntk_ensemble.

The shapes accepted for Theta_cross / K_cross / y and which argument a size mismatch is blamed on, the
whole-number rule for t at lr·λ ≤ 1 (its boundary lr·λ = 1 included), the small-eigenvalue limit ηt of the
gain over a long training time, the default jitter of the NNGP posterior, excess_kurtosis along either axis of
columns with different means and scales, BatchedNTKMLP's default σ_b = 0 and its device check.
"""

import math
import re

import numpy as np
import pytest
import torch

from course_utils.models.mlp import MLP
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as ne
from course_utils.validate import ArgumentError

Z = np.random.default_rng(0).standard_normal((6, 2))
TH = kernels.ntk_kernel(Z, depth=1)
KK = kernels.nngp_kernel(Z, depth=1)
TR, TE = slice(0, 4), slice(4, 6)
Y = np.array([1.0, -0.5, 0.3, 0.8])


def _names(needle, message):
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", message) is not None


# ---------------------------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------------------------

def test_one_test_input_may_be_a_1d_row():
    """Theta_cross for one test input may be given as a 1-d array of N numbers (the row Θ(x, X))."""
    A_row = ne.response_matrix(TH[TR, TR], TH[4, TR], 3, lr=0.1)
    A_2d = ne.response_matrix(TH[TR, TR], TH[4:5, TR], 3, lr=0.1)
    assert A_row.shape == (1, 4) and np.array_equal(A_row, A_2d)
    mu, cov = ne.ntk_ensemble_moments(TH[TR, TR], TH[4, TR], KK[TR, TR], KK[4, TR], KK[4:5, 4:5], Y, 3, lr=0.1)
    mu2, cov2 = ne.ntk_ensemble_moments(TH[TR, TR], TH[4:5, TR], KK[TR, TR], KK[4:5, TR], KK[4:5, 4:5], Y, 3, lr=0.1)
    assert np.array_equal(mu, mu2) and np.array_equal(cov, cov2)


def test_a_number_is_not_a_row_of_theta_cross():
    """Even with one training input (N = 1), a bare number is refused: Θ(x, X) is an array."""
    with pytest.raises(ArgumentError) as info:
        ne.response_matrix([[1.0]], 0.5, 1, lr=0.1)
    assert _names("Theta_cross", str(info.value)), str(info.value)
    with pytest.raises(ArgumentError) as info:
        ne.response_matrix(np.eye(2), np.ones((1, 1, 2)), 1, lr=0.1)
    assert str(info.value).startswith("Theta_cross"), str(info.value)


def test_labels_may_be_a_column():
    """y of shape (N, 1) is the same as y of shape (N,)."""
    args = (TH[TR, TR], TH[TE, TR], KK[TR, TR], KK[TE, TR], KK[TE, TE])
    a = ne.ntk_ensemble_moments(*args, Y, 5, lr=0.1)
    b = ne.ntk_ensemble_moments(*args, Y[:, None], 5, lr=0.1)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    c = ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y)
    d = ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y[:, None])
    assert np.array_equal(c[0], d[0]) and np.array_equal(c[1], d[1])


def test_bad_labels_are_named():
    for call in (lambda: ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], "y"),
                 lambda: ne.ntk_ensemble_moments(TH[TR, TR], TH[TE, TR], KK[TR, TR], KK[TE, TR], KK[TE, TE], None,
                                                 5, lr=0.1)):
        with pytest.raises(ArgumentError) as info:
            call()
        assert str(info.value).startswith("y "), str(info.value)


def test_nngp_posterior_blames_a_k_train_of_the_wrong_size():
    """K_cross and y agree on N = 4 but K_train is 3 × 3: the mismatch is an ArgumentError that names K_train."""
    with pytest.raises(ArgumentError) as info:
        ne.nngp_posterior(KK[:3, :3], KK[TE, TR], KK[TE, TE], Y)
    assert _names("K_train", str(info.value)), str(info.value)


def test_moments_check_the_kernels_against_theta():
    """P and N come from Theta_cross and Theta_train: K's that agree among themselves on other sizes are refused,
    the message saying where the expected size comes from."""
    # K_test and K_cross for 3 test inputs, Theta_cross for 2
    with pytest.raises(ArgumentError) as info:
        ne.ntk_ensemble_moments(TH[TR, TR], TH[TE, TR], KK[TR, TR], KK[3:6, TR], KK[3:6, 3:6], Y, 5, lr=0.1)
    assert _names("K_test", str(info.value)) and "Theta_cross" in str(info.value), str(info.value)
    # K_train, K_cross and y for 3 training inputs, Theta_train for 4
    with pytest.raises(ArgumentError) as info:
        ne.ntk_ensemble_moments(TH[TR, TR], TH[TE, TR], KK[:3, :3], KK[TE, :3], KK[TE, TE], Y[:3], 5, lr=0.1)
    assert _names("K_train", str(info.value)) and "Theta_train" in str(info.value), str(info.value)


# ---------------------------------------------------------------------------------------------
# the time and the gain
# ---------------------------------------------------------------------------------------------

def test_fractional_steps_are_allowed_while_lr_lambda_is_at_most_one():
    """(1 − ηλ)^t is real for every t ≥ 0 while ηλ ≤ 1: t = 1.5 steps at ηλ = 0.5, and at the boundary ηλ = 1
    (where (1 − ηλ)^t = 0, the mode learned at once); above it a fractional t is refused."""
    a = ne.response_matrix([[0.5]], [[1.0]], 1.5, lr=1.0)
    assert a[0, 0] == pytest.approx((1 - 0.5 ** 1.5) / 0.5, rel=1e-14)
    b = ne.response_matrix([[2.0]], [[1.0]], 2.5, lr=0.5)
    assert b[0, 0] == pytest.approx(0.5, rel=1e-14)
    with pytest.raises(ArgumentError, match="whole number"):
        ne.response_matrix([[2.0]], [[1.0]], 2.5, lr=0.6)


def _gain(lam, lr, t):
    """(1 − (1 − ηλ)^t)/λ without cancellation."""
    return -math.expm1(t * math.log1p(-lr * lam)) / lam


def test_gain_of_a_tiny_eigenvalue_over_a_long_gradient_flow():
    """Θ = diag(10⁻³, 10⁻¹³), gradient flow for ηt = 10¹⁰: the tiny mode is partly learned (ηλt = 10⁻³), so its
    gain is (1 − e^{−ηλt})/λ ≈ ηt(1 − ηλt/2), not the λ → 0 limit ηt; the large one is 1/λ = 1000."""
    lam = (1e-3, 1e-13)
    A = ne.response_matrix(np.diag(lam), np.eye(2), 1e10, lr=1.0, discrete=False)
    assert A[0, 0] == pytest.approx(1000.0, rel=1e-12)
    assert A[1, 1] == pytest.approx(-math.expm1(-1e-3) / lam[1], rel=1e-9)
    assert abs(A[1, 1] / 1e10 - 1) > 1e-4  # far from ηt


def test_gain_below_the_threshold_relative_to_a_large_lambda_max():
    """λ_max = 10⁴, λ = 10⁻⁹ ≤ 10⁻¹² λ_max: the gain is the limit ηt (ηλt = 3·10⁻¹³)."""
    A = ne.response_matrix(np.diag([1e4, 1e-9]), np.eye(2), 3, lr=1e-4)
    assert A[1, 1] == pytest.approx(3e-4, rel=1e-10)
    assert A[0, 0] == pytest.approx(1e-4, rel=1e-12)  # (1 − (1 − 1)^3)/10⁴


def test_gain_at_the_small_eigenvalue_threshold_is_eta_t():
    """At λ = 10⁻¹² λ_max the gain is ηt (to 10⁻¹³, the size of ηλt/2), not a number spoilt by cancellation."""
    A = ne.response_matrix(np.diag([1.0, 1e-12]), np.eye(2), 3, lr=0.1)
    assert A[1, 1] == pytest.approx(0.3, rel=1e-10)


def test_gain_just_above_the_small_eigenvalue_threshold_is_accurate():
    """(1 − (1 − lr·λ)^t)/λ computed directly loses digits as 1 − lr·λ rounds (relative error ~1e-16/(lr·λ),
    1e-4 at λ = 2e-12); as −expm1(t·log1p(−lr·λ))/λ it keeps them. Reference: the binomial series
    (1 − (1 − x)^t)/λ = lr·(t − C(t,2) x + C(t,3) x²), exact for t = 3. Gradient flow likewise, (1 − e^{−xt})/λ."""
    lam, lr, t = 2e-12, 0.1, 3
    x = lr * lam
    A = ne.response_matrix(np.diag([1.0, lam]), np.eye(2), t, lr=lr)
    assert A[1, 1] == pytest.approx(lr * (t - 3 * x + x ** 2), rel=1e-13)
    A = ne.response_matrix(np.diag([1.0, lam]), np.eye(2), 2.5, lr=lr, discrete=False)
    assert A[1, 1] == pytest.approx(lr * 2.5 * (1 - x * 2.5 / 2 + (x * 2.5) ** 2 / 6), rel=1e-13)


# ---------------------------------------------------------------------------------------------
# nngp_posterior's default jitter
# ---------------------------------------------------------------------------------------------

def test_default_jitter_is_tiny():
    """The default relative jitter 10⁻¹⁰ changes a well-conditioned posterior by about 10⁻¹⁰ only."""
    K = kernels.nngp_kernel(Z, depth=1, sigma_b2=0.5)
    mean, cov = ne.nngp_posterior(K[TR, TR], K[TE, TR], K[TE, TE], Y)
    m0, c0 = ne.nngp_posterior(K[TR, TR], K[TE, TR], K[TE, TE], Y, jitter=0.0)
    m1, c1 = ne.nngp_posterior(K[TR, TR], K[TE, TR], K[TE, TE], Y, jitter=1e-10)
    assert np.array_equal(mean, m1) and np.array_equal(cov, c1)
    np.testing.assert_allclose(mean, m0, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(cov, c0, rtol=1e-6, atol=1e-8)


# ---------------------------------------------------------------------------------------------
# excess_kurtosis
# ---------------------------------------------------------------------------------------------

def test_excess_kurtosis_is_per_column_and_shift_and_scale_invariant():
    """Columns that are shifted and scaled copies of one sample have its kurtosis; along axis 1 the rows."""
    x = np.array([0.0, 1.0, 1.0, 2.0, 5.0, -1.0, 0.5, 3.0])
    c = x - x.mean()
    exact = np.mean(c ** 4) / np.mean(c ** 2) ** 2 - 3
    cols = np.stack([x, 3 * x + 10, -0.5 * x - 4], axis=1)  # (8, 3)
    assert ne.excess_kurtosis(cols) == pytest.approx([exact] * 3, rel=1e-12)
    rows = cols.T  # (3, 8): the same along axis 1 or -1
    assert ne.excess_kurtosis(rows, axis=1) == pytest.approx([exact] * 3, rel=1e-12)
    assert ne.excess_kurtosis(rows, axis=-1) == pytest.approx([exact] * 3, rel=1e-12)
    assert ne.excess_kurtosis(cols, axis=-2) == pytest.approx([exact] * 3, rel=1e-12)


def test_excess_kurtosis_axis_bounds_and_scalars():
    s = np.random.default_rng(1).standard_normal((6, 5))
    with pytest.raises(ArgumentError, match="axis"):
        ne.excess_kurtosis(s, axis=-3)
    with pytest.raises(ArgumentError) as info:
        ne.excess_kurtosis(3.0)
    assert str(info.value).startswith("samples must have 1 dimension"), str(info.value)


# ---------------------------------------------------------------------------------------------
# BatchedNTKMLP
# ---------------------------------------------------------------------------------------------

def test_batched_ntk_mlp_default_has_no_bias():
    """σ_b = 0 by default (as MLP's): the member is the MLP with σ_b = 0, whatever its drawn biases β."""
    net = ne.BatchedNTKMLP(2, 3, 6, 1, activation="tanh", seeds=[4, 5], dtype=torch.float64)
    assert net.sigma_b == 0.0
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for k, s in enumerate([4, 5]):
        mlp = MLP(3, 6, 1, activation="tanh", sigma_b=0.0, generator=torch.Generator().manual_seed(s),
                  dtype=torch.float64)
        assert torch.allclose(net(x)[k], mlp(x), rtol=1e-12, atol=1e-13)


def test_batched_ntk_mlp_moves_inputs_to_its_device_and_refuses_meta():
    net = ne.BatchedNTKMLP(2, 3, 4, 1, dtype=torch.float64).to("meta")
    with pytest.raises(ArgumentError, match="device"):
        net(torch.ones(5, 3, dtype=torch.float64))
