"""Unit tests of course_utils.theory.linear: closed forms, limits and argument checks."""

import numpy as np
import pytest

from course_utils.theory import linear as th


def _gd_by_hand(X, y, lr, steps, theta0):
    theta, out = theta0.copy(), []
    for t in range(max(steps) + 1):
        if t in steps:
            out.append(theta.copy())
        theta = theta - lr * (X.T @ (X @ theta - y)) / len(y)
    return np.array(out)


@pytest.mark.parametrize("n,d", [(30, 5), (5, 12)])
def test_gd_solution_is_gradient_descent(n, d):
    rng = np.random.default_rng(0)
    X, y, theta0 = rng.standard_normal((n, d)), rng.standard_normal(n), rng.standard_normal(d)
    lam, _ = th.empirical_eigenbasis(X)
    steps = [0, 1, 7, 50]
    np.testing.assert_allclose(th.gd_solution(X, y, 1.2 / lam[0], steps, theta0),
                               _gd_by_hand(X, y, 1.2 / lam[0], steps, theta0), rtol=1e-9, atol=1e-12)


def test_mode_factors():
    lam = np.array([1.0, 0.1])
    q = th.gd_mode_factor(lam, 0.5, [0, 1, 2])
    np.testing.assert_allclose(q, [[1, 1], [0.5, 0.95], [0.25, 0.95**2]])
    np.testing.assert_allclose(th.gradient_flow_mode_factor(lam, [0.0, 2.0]), [[1, 1], np.exp([-2, -0.2])])
    # the largest gap between the two is x/2e for small x = ηλ
    x, t = 1e-3, np.arange(10_000)
    gap = np.abs(th.gd_mode_factor([x], 1.0, t) - th.gradient_flow_mode_factor([x], t)).max()
    assert gap == pytest.approx(x / (2 * np.e), rel=2e-3)
    with pytest.raises(ValueError, match="learning rate"):
        th.gd_mode_factor(lam, 0.0, [1])
    with pytest.raises(ValueError, match="non-negative"):
        th.gd_mode_factor(lam, 0.1, [-1])


def test_min_norm_ridge_and_gd_limit():
    rng = np.random.default_rng(1)
    for n, d in [(6, 15), (15, 6)]:
        X, y = rng.standard_normal((n, d)), rng.standard_normal(n)
        np.testing.assert_allclose(th.min_norm_solution(X, y), np.linalg.pinv(X) @ y, rtol=1e-9)
        rho = 0.3
        explicit = np.linalg.solve(X.T @ X / n + rho * np.eye(d), X.T @ y / n)
        np.testing.assert_allclose(th.ridge_solution(X, y, rho), explicit, rtol=1e-9)
        np.testing.assert_allclose(th.ridge_solution(X, y, 1e-10), th.min_norm_solution(X, y), rtol=1e-5)
        theta0 = rng.standard_normal(d)
        lam, _ = th.empirical_eigenbasis(X)
        steps = int(60 * lam[0] / lam[min(n, d) - 1])
        np.testing.assert_allclose(th.gd_limit(X, y, theta0), th.gd_solution(X, y, 1 / lam[0], [steps], theta0)[0],
                                   rtol=1e-7, atol=1e-9)
    # batched
    Xb, yb = rng.standard_normal((4, 6, 15)), rng.standard_normal((4, 6))
    np.testing.assert_allclose(th.min_norm_solution(Xb, yb)[2], np.linalg.pinv(Xb[2]) @ yb[2], rtol=1e-9)
    with pytest.raises(ValueError, match="ridge"):
        th.ridge_solution(Xb, yb, -1.0)
    with pytest.raises(ValueError, match="one label per row"):
        th.min_norm_solution(Xb, yb[:, :5])


def test_effective_ridge_solves_its_equation():
    lam = 1.0 / np.arange(1, 301)
    for n, rho in [(50, 0.0), (50, 1e-3), (500, 1e-2)]:
        kappa = th.effective_ridge(lam, n, rho)
        assert kappa == pytest.approx(rho + kappa / n * np.sum(lam / (lam + kappa)), rel=1e-9)
        assert kappa >= rho
    assert th.effective_ridge(lam, 500, 0.0) == 0.0  # fewer features than samples
    # isotropic ridgeless, P > N: κ = P/N − 1
    assert th.effective_ridge(np.ones(300), 100, 0.0) == pytest.approx(2.0, rel=1e-9)
    with pytest.raises(ValueError, match="ridge"):
        th.effective_ridge(lam, 10, -0.1)


def test_ridge_risk_limits():
    sigma = 0.5
    # underparameterised least squares: σ² N/(N − D)
    r = th.ridge_risk(np.ones(20), np.ones(20), sigma, 100)
    assert r.test_error == pytest.approx(sigma**2 * 100 / 80)
    assert r.bias == 0 and r.gamma == pytest.approx(0.2)
    # isotropic min-norm, P > N: ‖w‖²(1 − N/P) + σ² P/(P − N)
    w = np.full(300, 1 / np.sqrt(300))
    r = th.ridge_risk(np.ones(300), w, sigma, 100)
    assert r.test_error == pytest.approx(1 - 100 / 300 + sigma**2 * 300 / 200)
    assert r.excess == pytest.approx(r.test_error - sigma**2)
    # the interpolation threshold
    assert th.ridge_risk(np.ones(100), w[:100], sigma, 100).test_error == np.inf
    # many samples: the population answer (ridge bias only)
    r = th.ridge_risk(np.array([1.0, 0.5]), np.array([1.0, 1.0]), sigma, 10**9, ridge=0.1)
    pop = np.sum(np.array([1.0, 0.5]) * (0.1 / (np.array([1.0, 0.5]) + 0.1)) ** 2)
    assert r.test_error == pytest.approx(pop + sigma**2, rel=1e-6)
    with pytest.raises(ValueError, match="w_star"):
        th.ridge_risk(np.ones(3), np.ones(2), sigma, 10)


def test_belkin_hsu_xu_and_its_large_n_limit():
    assert th.min_norm_risk_isotropic(100, 99, 1.0, 0.0, 0.1) == np.inf
    assert th.min_norm_risk_isotropic(100, 20, 0.3, 0.7, 0.0) == pytest.approx(0.7 * (1 + 20 / 79))
    assert th.min_norm_risk_isotropic(100, 300, 0.3, 0.7, 0.0) == pytest.approx(0.3 * (2 / 3) + 0.7 * (1 + 100 / 199))
    # the self-consistent theory is its large-N limit
    n, p = 4000, 12000
    exact = th.min_norm_risk_isotropic(n, p, 1.0, 0.0, 0.5)
    mean_field = th.ridge_risk(np.ones(p), np.full(p, 1 / np.sqrt(p)), 0.5, n).test_error
    assert mean_field == pytest.approx(exact, rel=1e-3)


def test_effective_ranks():
    r, R = th.effective_ranks(np.ones(50), 0)
    assert r == pytest.approx(50) and R == pytest.approx(50)
    r, R = th.effective_ranks(np.r_[np.ones(3), np.full(10, 0.1)], 3)
    assert r == pytest.approx(10) and R == pytest.approx(10)
    with pytest.raises(ValueError, match="number of head eigenvalues"):
        th.effective_ranks(np.ones(5), 5)


def test_relu_features_as_linear_problem_matches_monte_carlo():
    rng = np.random.default_rng(4)
    d, P = 6, 5
    F, beta = rng.standard_normal((P, d)), rng.standard_normal(d)
    lam, theta_star, noise_eff = th.relu_features_as_linear_problem(F, beta, 0.3)
    x = rng.standard_normal((400_000, d))
    phi = np.maximum(x @ F.T / np.sqrt(d), 0)
    y = x @ beta + 0.3 * rng.standard_normal(len(x))
    cov = phi.T @ phi / len(x)
    np.testing.assert_allclose(np.sort(lam), np.linalg.eigvalsh(cov), rtol=0.03, atol=1e-3)
    best = np.linalg.solve(cov, phi.T @ y / len(x))
    assert noise_eff**2 == pytest.approx(np.mean((y - phi @ best) ** 2), rel=0.02)
    assert np.linalg.norm(theta_star) == pytest.approx(np.linalg.norm(best), rel=0.03)
    with pytest.raises(ValueError, match="beta"):
        th.relu_features_as_linear_problem(F, beta[:3], 0.3)


def test_flat_tail_min_norm_errors_match_a_direct_simulation():
    from course_utils.models.linear import ridge_test_errors
    s, T, sigma, n = 3, 200, 0.4, 15
    lam = np.r_[np.array([1.0, 0.5, 0.25]), np.full(T, 0.8 / T)]
    w = np.r_[np.array([0.6, -0.5, 0.3]), np.zeros(T)]
    rng = np.random.default_rng(0)
    direct = ridge_test_errors(lam, w, sigma, n, rng, draws=3000)
    exact = th.flat_tail_min_norm_errors(lam[:s], w[:s], T, 0.8, sigma, n, rng, draws=3000)
    se = np.hypot(direct.std() / np.sqrt(direct.size), exact.std() / np.sqrt(exact.size))
    assert abs(direct.mean() - exact.mean()) < 4 * se
    assert exact.std() < direct.std()   # the label noise is averaged in closed form


def test_flat_tail_infinite_limit_is_ridge_on_the_head():
    """T → ∞: the tail's Gram matrix is v·I, so the interpolator is ridge regression on the head with ρ = v/N."""
    from course_utils.models.linear import ridge_test_errors
    lam, w, sigma, n, v = np.array([1.0, 0.3]), np.array([0.8, 0.6]), 0.5, 12, 0.7
    rng = np.random.default_rng(1)
    limit = th.flat_tail_min_norm_errors(lam, w, np.inf, v, sigma, n, rng, draws=20_000)
    ridge = ridge_test_errors(lam, w, sigma, n, rng, ridge=v / n, draws=20_000)
    se = np.hypot(limit.std() / np.sqrt(limit.size), ridge.std() / np.sqrt(ridge.size))
    assert abs(limit.mean() - ridge.mean()) < 4 * se
    # and a very wide tail approaches it (its own noise cost σ²(N − s)v/T → 0)
    wide = th.flat_tail_min_norm_errors(lam, w, 200_000, v, sigma, n, rng, draws=400)
    assert wide.mean() == pytest.approx(limit.mean(), rel=0.02)


def test_flat_tail_min_norm_errors_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="tail_dim"):
        th.flat_tail_min_norm_errors([1.0], [1.0], 10, 1.0, 0.1, 20, rng)   # T < N
    with pytest.raises(ValueError, match="w_head"):
        th.flat_tail_min_norm_errors([1.0, 1.0], [1.0], 100, 1.0, 0.1, 20, rng)
    with pytest.raises(ValueError, match="total variance"):
        th.flat_tail_min_norm_errors([1.0], [1.0], 100, 0.0, 0.1, 20, rng)
    with pytest.raises(ValueError, match="Generator"):
        th.flat_tail_min_norm_errors([1.0], [1.0], 100, 1.0, 0.1, 20, 0)
    with pytest.raises(ValueError, match="draws"):
        th.flat_tail_min_norm_errors([1.0], [1.0], 100, 1.0, 0.1, 20, rng, draws=0)
