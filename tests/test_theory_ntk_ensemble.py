"""Tests of course_utils.theory.ntk_ensemble (the NTK-ensemble prediction, the batched NTK-parameterised
networks, the discrepancy estimator) and of the checker in course_utils.exercises.ntk_ensemble."""

import math

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedSGD, mse_per_sample, train_ensemble
from course_utils.exercises import ntk_ensemble as ex
from course_utils.models.mlp import MLP
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as ne

pytestmark = pytest.mark.usefixtures("float64")


def _features(seed=0, n_train=5, n_test=4, p_trained=12, p_frozen=7):
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((n_train + n_test, p_trained)) / math.sqrt(p_trained)
    psi = rng.standard_normal((n_train + n_test, p_frozen)) / math.sqrt(p_frozen)
    y = rng.standard_normal(n_train)
    return phi, psi, y


def test_moments_match_a_monte_carlo_ensemble_of_linear_models():
    """f(x) = a·ψ(x) + θ·φ(x): a ~ N(0, I) frozen, θ₀ ~ N(0, I) trained by gradient descent on ½Σ(f − y)².
    Its tangent kernel is Θ = φφᵀ and its prior kernel K = ψψᵀ + φφᵀ (≠ Θ): the ensemble of trained
    models, simulated step by step, must have the mean and covariance of eqs. (2)-(3)."""
    phi, psi, y = _features()
    N, M, lr, steps = 5, 200_000, 0.3, 25
    rng = np.random.default_rng(1)
    a = rng.standard_normal((M, psi.shape[1]))
    theta = rng.standard_normal((M, phi.shape[1]))
    frozen = a @ psi.T
    for _ in range(steps):
        f_train = frozen[:, :N] + theta @ phi[:N].T
        theta -= lr * (f_train - y) @ phi[:N]
    f_test = frozen[:, N:] + theta @ phi[N:].T
    Theta, K = phi @ phi.T, psi @ psi.T + phi @ phi.T
    mu, cov = ne.ntk_ensemble_moments(Theta[:N, :N], Theta[N:, :N], K[:N, :N], K[N:, :N], K[N:, N:], y, steps,
                                      lr=lr)
    se_mean = np.sqrt(np.diag(cov) / M)
    assert np.all(np.abs(f_test.mean(0) - mu) < 5 * se_mean)
    se_cov = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov ** 2) / M)
    assert np.all(np.abs(np.cov(f_test, rowvar=False) - cov) < 5 * se_cov)
    # and it is not the NNGP posterior of K
    mg, cg = ne.nngp_posterior(K[:N, :N], K[N:, :N], K[N:, N:], y)
    assert np.max(np.abs(cov - cg) / se_cov) > 20


def test_theta_equal_to_k_converges_to_the_nngp_posterior():
    phi, psi, y = _features(seed=3)
    K = phi @ phi.T
    N = 5
    lam = np.linalg.eigvalsh(K[:N, :N])
    mu, cov = ne.ntk_ensemble_moments(K[:N, :N], K[N:, :N], K[:N, :N], K[N:, :N], K[N:, N:], y, 1e9, lr=1.0,
                                      discrete=False)
    mg, cg = ne.nngp_posterior(K[:N, :N], K[N:, :N], K[N:, N:], y, jitter=0.0)
    assert lam.min() > 1e-6
    np.testing.assert_allclose(mu, mg, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(cov, cg, rtol=1e-7, atol=1e-10)
    mean, var = kernels.gp_posterior(K[:N, :N], K[N:, :N], np.diag(K[N:, N:]), y, jitter=0.0)
    np.testing.assert_allclose(mg, mean, rtol=1e-10)
    np.testing.assert_allclose(np.diag(cg), var, rtol=1e-8, atol=1e-12)


def test_response_matrix_discrete_steps_and_flow():
    phi, _, _ = _features(seed=4)
    Theta = phi @ phi.T
    N = 5
    # at t = 0 nothing is learned; one step of size lr gives A = lr Θ(x, X); flow = many small steps
    np.testing.assert_allclose(ne.response_matrix(Theta[:N, :N], Theta[N:, :N], 0, lr=0.2), 0, atol=1e-14)
    np.testing.assert_allclose(ne.response_matrix(Theta[:N, :N], Theta[N:, :N], 1, lr=0.2), 0.2 * Theta[N:, :N],
                               rtol=1e-10)
    flow = ne.response_matrix(Theta[:N, :N], Theta[N:, :N], 3.0, lr=0.5, discrete=False)
    fine = ne.response_matrix(Theta[:N, :N], Theta[N:, :N], 30_000, lr=0.5e-4)
    np.testing.assert_allclose(fine, flow, rtol=1e-3)
    # the same as kernel_regression_dynamics with f0 = 0
    _, f = kernels.kernel_regression_dynamics(Theta[:N, :N], Theta[N:, :N], np.arange(N, dtype=float), 7, lr=0.3,
                                              discrete=True)
    np.testing.assert_allclose(ne.response_matrix(Theta[:N, :N], Theta[N:, :N], 7, lr=0.3) @ np.arange(N), f,
                               rtol=1e-10)


def test_bad_arguments_raise_value_error():
    T = np.eye(3)
    with pytest.raises(ValueError, match="lr"):
        ne.response_matrix(T, np.ones((2, 3)), 5, lr=-1.0)
    with pytest.raises(ValueError, match="Theta_cross .one column per training input"):
        ne.response_matrix(T, np.ones((2, 4)), 5, lr=0.1)
    with pytest.raises(ValueError, match="square"):
        ne.response_matrix(np.ones((3, 2)), np.ones((2, 3)), 5, lr=0.1)
    with pytest.raises(ValueError, match="K_test"):
        ne.ntk_ensemble_moments(T, np.ones((2, 3)), T, np.ones((2, 3)), np.eye(3), np.ones(3), 5, lr=0.1)
    with pytest.raises(ValueError, match="activation"):
        ne.BatchedNTKMLP(2, 2, 4, 1, activation="softsign")
    with pytest.raises(ValueError, match="seeds"):
        ne.BatchedNTKMLP(2, 2, 4, 1, seeds=[1])
    with pytest.raises(ValueError, match="shape"):
        ne.ensemble_discrepancy(np.ones((5, 3)), np.ones((5, 2)), np.eye(3))
    with pytest.raises(ValueError, match="samples"):
        ne.excess_kurtosis(np.ones((3, 2)))


@pytest.mark.parametrize("activation", ["erf", "relu"])
def test_batched_member_is_the_single_ntk_mlp(activation):
    sw, sb = math.sqrt(2.0), math.sqrt(0.1)
    net = ne.BatchedNTKMLP(3, 2, 16, 2, activation=activation, sigma_w=sw, sigma_b=sb, seeds=[5, 6, 7])
    X = torch.randn(9, 2, generator=torch.Generator().manual_seed(0))
    out = net(X)
    assert out.shape == (3, 9, 1)
    for k, s in enumerate([5, 6, 7]):
        single = MLP(2, 16, 2, activation=activation, sigma_w=sw, sigma_b=sb, parameterization="ntk",
                     generator=torch.Generator().manual_seed(s))
        torch.testing.assert_close(out[k], single(X))
        # one gradient step of the ensemble is that of each member alone
    y = torch.randn(9, 1, generator=torch.Generator().manual_seed(1))
    train_ensemble(net, mse_per_sample, X, y, steps=1, optimizer=BatchedSGD(net.parameters(), lr=0.1),
                   progress=False)
    single = MLP(2, 16, 2, activation=activation, sigma_w=sw, sigma_b=sb, parameterization="ntk",
                 generator=torch.Generator().manual_seed(6))
    opt = torch.optim.SGD(single.parameters(), lr=0.1)
    ((single(X) - y) ** 2).mean().backward()
    opt.step()
    torch.testing.assert_close(net(X)[1], single(X))


def test_output_covariance_of_random_networks_is_the_nngp_kernel():
    X = torch.tensor([[1.0, 0.0], [0.6, 0.8], [-1.0, 0.0]])
    net = ne.BatchedNTKMLP(4000, 2, 8, 1, activation="erf", sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.1))
    with torch.no_grad():
        f = net(X)[:, :, 0].numpy()
    K = kernels.nngp_kernel(X.numpy(), depth=1, activation="erf", sigma_w2=2.0, sigma_b2=0.1)
    se = np.sqrt((np.outer(np.diag(K), np.diag(K)) + K ** 2) / 4000)
    assert np.all(np.abs(np.cov(f, rowvar=False) - K) < 5 * se)


def test_ensemble_discrepancy_finds_a_known_bias_and_no_false_one():
    rng = np.random.default_rng(0)
    M, P = 4000, 6
    cov = np.eye(P) + 0.3
    g = rng.multivariate_normal(np.zeros(P), cov, size=M)
    bias = 0.2 * np.ones(P)
    f = g + bias + 0.3 * rng.standard_normal((M, P))
    r = ne.ensemble_discrepancy(f, g, cov, n_boot=100)
    s2 = np.mean(np.diag(cov))
    assert abs(r["mean2"] - 0.04 / s2) < 4 * r["mean2_se"]
    # f = g + independent noise of variance 0.09: the covariance grows by 0.09 on the diagonal
    expected_cov2 = np.mean((0.09 * np.eye(P)) ** 2) / np.mean(cov ** 2)
    assert abs(r["cov2"] - expected_cov2) < 4 * r["cov2_se"]
    same = ne.ensemble_discrepancy(g + 1e-3 * rng.standard_normal((M, P)), g, cov, n_boot=100)
    assert abs(same["mean2"]) < 4 * same["mean2_se"] + 1e-9
    assert same["spread"] == pytest.approx(1e-3 / np.sqrt(s2), rel=0.05)


def test_excess_kurtosis():
    rng = np.random.default_rng(2)
    assert abs(ne.excess_kurtosis(rng.standard_normal(200_000))) < 4 * math.sqrt(24 / 200_000)
    assert ne.excess_kurtosis(rng.uniform(size=200_000)) == pytest.approx(-1.2, abs=0.02)


def test_checker_accepts_the_right_answer_and_rejects_wrong_ones(capsys):
    def right(Tt, Tc, Kt, Kc, Ks):
        A = np.linalg.solve(Tt, Tc.T).T
        return Ks - A @ Kc.T - Kc @ A.T + A @ Kt @ A.T

    def nngp(Tt, Tc, Kt, Kc, Ks):
        return Ks - Kc @ np.linalg.solve(Kt, Kc.T)

    assert ex.check_converged_ensemble_covariance(right)
    assert "✓" in capsys.readouterr().out
    for wrong in (nngp, lambda *a: np.full((3, 3), np.nan), lambda *a: np.zeros((2, 2)), lambda *a: None,
                  lambda *a: right, lambda *a: 1 / 0, lambda *a: "covariance"):
        assert not ex.check_converged_ensemble_covariance(wrong)
        assert "✗" in capsys.readouterr().out
    assert not ex.check_converged_ensemble_covariance(np.eye(3))
    assert "callable" in capsys.readouterr().out
