"""Unit tests of course_utils.models.linear: the linear and random-feature models, the loss,
and the batched ridge experiment."""

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.data.synthetic import random_feature_weights, random_relu_features
from course_utils.models.linear import LinearModel, RandomFeatureModel, half_mse, ridge_test_errors
from course_utils.theory.linear import min_norm_solution, population_test_error


def test_half_mse_gradient_is_sigma_theta_minus_b():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 4)), rng.standard_normal(20)
    model = LinearModel(4, theta0=rng.standard_normal(4))
    half_mse(model(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    theta = model.weights()
    expected = X.T @ X / 20 @ theta - X.T @ y / 20
    np.testing.assert_allclose(model.theta.grad.numpy(), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        half_mse(torch.zeros(3), torch.zeros(3, 1))


def test_linear_model_forward_and_validation():
    model = LinearModel(3, theta0=[1.0, 2.0, 3.0])
    assert model.theta.dtype == torch.float64
    x = torch.tensor([[1.0, 0.0, 1.0]], dtype=torch.float64)
    assert model(x).shape == (1,) and float(model(x).detach()) == 4.0
    assert np.array_equal(LinearModel(3).weights(), np.zeros(3))
    with pytest.raises(ValueError, match="theta0"):
        LinearModel(3, theta0=[1.0, 2.0])
    with pytest.raises(ValueError, match="features"):
        model(torch.zeros(2, 4, dtype=torch.float64))


def test_random_feature_model_trains_only_its_readout():
    rng = np.random.default_rng(1)
    F = random_feature_weights(6, 30, rng)
    model = RandomFeatureModel(F)
    X = rng.standard_normal((10, 6))
    np.testing.assert_allclose(model.features(torch.from_numpy(X)).numpy(), random_relu_features(X, F))
    assert [name for name, _ in model.named_parameters()] == ["readout.theta"]
    assert model.n_features == 30
    with pytest.raises(ValueError, match="dimension"):
        model(torch.zeros(2, 5, dtype=torch.float64))


def test_train_from_zero_reaches_the_min_norm_interpolator():
    rng = np.random.default_rng(2)
    F = random_feature_weights(5, 40, rng)
    X, y = rng.standard_normal((8, 5)), rng.standard_normal(8)
    model = RandomFeatureModel(F)
    Phi = random_relu_features(X, F)
    lam_max = np.linalg.eigvalsh(Phi.T @ Phi / 8).max()
    cu.train(model, half_mse, torch.from_numpy(X), torch.from_numpy(y), steps=3000, lr=1 / lam_max, progress=False)
    np.testing.assert_allclose(model.weights(), min_norm_solution(Phi, y), rtol=1e-6, atol=1e-9)


def test_ridge_test_errors_shapes_and_reproducibility():
    lam, w = np.ones(6), np.ones(6) / np.sqrt(6)
    one = ridge_test_errors(lam, w, 0.1, 10, np.random.default_rng(0), draws=5)
    assert one.shape == (5,)
    several = ridge_test_errors(lam, w, 0.1, 10, np.random.default_rng(0), ridge=[0.0, 0.1], draws=5)
    assert several.shape == (2, 5)
    np.testing.assert_allclose(several[0], one)   # same draws, same seed
    assert not np.allclose(several[1], several[0])
    # batching changes the order of the random stream, not what is computed
    small_batches = ridge_test_errors(lam, w, 0.1, 10, np.random.default_rng(0), draws=5, max_batch_entries=60)
    assert small_batches.shape == (5,) and np.all(small_batches >= 0.1**2)


def test_ridge_test_errors_with_unseen_features():
    """With seen=P the model ignores the other features: its error includes all their signal."""
    lam, w = np.ones(5), np.array([1.0, 0.0, 0.0, 0.0, 2.0])
    errors = ridge_test_errors(lam, w, 0.0, 50, np.random.default_rng(3), draws=4, seen=4)
    assert np.all(errors >= 4.0)  # ‖w_unseen‖² = 4 can never be learned
    assert population_test_error(np.zeros(5), w, lam, 0.0) == 5.0
    with pytest.raises(ValueError, match="seen"):
        ridge_test_errors(lam, w, 0.0, 5, np.random.default_rng(0), seen=6)
    with pytest.raises(ValueError, match="draws"):
        ridge_test_errors(lam, w, 0.0, 5, np.random.default_rng(0), draws=0)
