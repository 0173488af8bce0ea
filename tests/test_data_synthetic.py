"""Unit tests of course_utils.data.synthetic (Chapter 1's data generators)."""

import numpy as np
import pytest

from course_utils.data.synthetic import (gaussian_features, linear_teacher, power_law_spectrum,
                                         random_feature_weights, random_relu_features)


def test_power_law_spectrum():
    lam = power_law_spectrum(4, 2.0, scale=3.0)
    np.testing.assert_allclose(lam, 3.0 * np.array([1, 1 / 4, 1 / 9, 1 / 16]))
    with pytest.raises(ValueError, match="dimension"):
        power_law_spectrum(0, 1.0)
    with pytest.raises(ValueError, match="scale"):
        power_law_spectrum(3, 1.0, scale=0.0)


def test_gaussian_features_have_the_chosen_covariance():
    lam = np.array([4.0, 1.0, 0.25])
    X = gaussian_features(200_000, lam, np.random.default_rng(0))
    assert X.shape == (200_000, 3)
    np.testing.assert_allclose(X.T @ X / len(X), np.diag(lam), atol=0.03)
    assert gaussian_features(5, lam, np.random.default_rng(0), batch=(7,)).shape == (7, 5, 3)


def test_gaussian_features_are_reproducible_and_validated():
    a = gaussian_features(4, [1.0, 2.0], np.random.default_rng(3))
    b = gaussian_features(4, [1.0, 2.0], np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Generator"):
        gaussian_features(4, [1.0], rng=3.5)
    # a seed stands for default_rng(seed)
    np.testing.assert_array_equal(gaussian_features(4, [1.0, 2.0], 3), a)
    with pytest.raises(ValueError, match="non-negative"):
        gaussian_features(4, [1.0, -1.0], np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"n \(the number of samples\) must be an integer ≥ 1"):
        gaussian_features(0, [1.0], np.random.default_rng(0))


def test_linear_teacher():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100_000, 3))
    w = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(linear_teacher(X, w, 0.0, rng), X @ w)
    residual = linear_teacher(X, w, 0.3, rng) - X @ w
    assert residual.std() == pytest.approx(0.3, rel=0.02)
    assert linear_teacher(rng.standard_normal((2, 5, 3)), w, 0.1, rng).shape == (2, 5)
    with pytest.raises(ValueError, match="w_star"):
        linear_teacher(X, w[:2], 0.1, rng)
    with pytest.raises(ValueError, match="noise"):
        linear_teacher(X, w, -0.1, rng)


def test_random_relu_features():
    rng = np.random.default_rng(2)
    F = random_feature_weights(5, 7, rng)
    assert F.shape == (7, 5)
    X = rng.standard_normal((3, 4, 5))
    Phi = random_relu_features(X, F)
    assert Phi.shape == (3, 4, 7)
    np.testing.assert_allclose(Phi, np.maximum(X @ F.T / np.sqrt(5), 0))
    assert (Phi >= 0).all()
    with pytest.raises(ValueError, match="weights"):
        random_relu_features(X, F[:, :4])
    with pytest.raises(ValueError, match="n_features"):
        random_feature_weights(5, 0, rng)
