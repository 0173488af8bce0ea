"""theory.linear: bad arguments end in a clear error naming the argument; the formulas against independent
computations (explicit gradient-descent loops, Monte Carlo over data sets, the defining equations)."""

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import linear as th
from course_utils.validate import ArgumentError

NAN, INF = float("nan"), float("inf")
LAM = np.array([2.0, 1.0, 0.5])
W = np.array([1.0, -0.5, 0.3])
X = np.random.default_rng(0).standard_normal((5, 3))
Y = np.random.default_rng(1).standard_normal(5)

BAD = [
    ("spectrum", lambda: th.ridge_risk([1.0, -1.0], [1.0, 1.0], 0.1, 10)),
    ("spectrum", lambda: th.ridge_risk([1.0, NAN], [1.0, 1.0], 0.1, 10)),
    ("spectrum", lambda: th.ridge_risk([], [], 0.1, 10)),
    ("spectrum", lambda: th.ridge_risk("1", [1.0], 0.1, 10)),
    ("w_star", lambda: th.ridge_risk(LAM, [1.0, 1.0], 0.1, 10)),
    ("noise", lambda: th.ridge_risk(LAM, W, NAN, 10)),
    ("noise", lambda: th.ridge_risk(LAM, W, -0.1, 10)),
    ("n", lambda: th.ridge_risk(LAM, W, 0.1, 0)),
    ("n", lambda: th.ridge_risk(LAM, W, 0.1, NAN)),
    ("ridge", lambda: th.ridge_risk(LAM, W, 0.1, 10, ridge=NAN)),
    ("ridge", lambda: th.effective_ridge(LAM, 10, -1.0)),
    ("n", lambda: th.effective_ridge(LAM, None, 0.1)),
    ("X", lambda: th.empirical_eigenbasis(np.ones(3))),
    ("X", lambda: th.empirical_eigenbasis([[1.0, NAN]])),
    ("eigenvalues", lambda: th.gd_mode_factor([-1.0], 0.1, [1])),
    ("lr", lambda: th.gd_mode_factor(LAM, NAN, [1])),
    ("lr", lambda: th.gd_mode_factor(LAM, 0.0, [1])),
    ("steps", lambda: th.gd_mode_factor(LAM, 0.1, [-1])),
    ("steps", lambda: th.gd_mode_factor(LAM, 0.1, [NAN])),
    ("steps", lambda: th.gd_mode_factor(LAM, 0.1, np.ones((2, 2)))),
    ("whole numbers", lambda: th.gd_mode_factor(LAM, 0.9, [0.5])),
    ("time", lambda: th.gradient_flow_mode_factor(LAM, [-1.0])),
    ("time", lambda: th.gradient_flow_mode_factor(LAM, "1")),
    ("y", lambda: th.gd_solution(X, Y[:4], 0.1, [1])),
    ("X", lambda: th.gd_solution(np.ones((2, 5, 3)), np.ones((2, 5)), 0.1, [1])),
    ("lr", lambda: th.gd_solution(X, Y, -0.1, [1])),
    ("rcond", lambda: th.gd_solution(X, Y, 0.1, [1], rcond=NAN)),
    ("theta0", lambda: th.gd_solution(X, Y, 0.1, [1], theta0=np.ones(4))),
    ("theta", lambda: th.population_test_error(np.ones(4), W, LAM)),
    ("theta", lambda: th.population_test_error([1.0, NAN, 1.0], W, LAM)),
    ("w_star", lambda: th.population_test_error(np.ones(3), W[:2], LAM)),
    ("noise", lambda: th.population_test_error(np.ones(3), W, LAM, noise=-1.0)),
    ("noise", lambda: th.gd_test_error_modes(LAM, W, NAN, 10, 0.1, [1])),
    ("n", lambda: th.gd_test_error_modes(LAM, W, 0.1, 0, 0.1, [1])),
    ("X", lambda: th.min_norm_solution(np.ones(3), np.ones(1))),
    ("y", lambda: th.min_norm_solution(X, np.ones(4))),
    ("y", lambda: th.min_norm_solution(X, np.full(5, NAN))),
    ("singular", lambda: th.min_norm_solution(np.ones((3, 2)), np.ones(3))),
    ("ridge", lambda: th.ridge_solution(X, Y, -1.0)),
    ("ridge", lambda: th.ridge_solution(X, Y, NAN)),
    ("theta0", lambda: th.gd_limit(X, Y, np.ones(4))),
    ("n", lambda: th.min_norm_risk_isotropic(0, 3, 1.0, 0.0, 0.1)),
    ("p", lambda: th.min_norm_risk_isotropic(10, 2.5, 1.0, 0.0, 0.1)),
    ("signal_seen", lambda: th.min_norm_risk_isotropic(10, 3, NAN, 0.0, 0.1)),
    ("signal_unseen", lambda: th.min_norm_risk_isotropic(10, 3, 1.0, -1.0, 0.1)),
    ("noise", lambda: th.min_norm_risk_isotropic(10, 3, 1.0, 0.0, -0.1)),
    ("head_spectrum", lambda: th.flat_tail_min_norm_errors([-1.0], [1.0], 10, 1.0, 0.1, 5, np.random.default_rng())),
    ("w_head", lambda: th.flat_tail_min_norm_errors([1.0], [1.0, 2.0], 10, 1.0, 0.1, 5, np.random.default_rng())),
    ("n", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], 10, 1.0, 0.1, 0, np.random.default_rng())),
    ("tail_dim", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], 3, 1.0, 0.1, 5, np.random.default_rng())),
    ("tail_dim", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], NAN, 1.0, 0.1, 5, np.random.default_rng())),
    ("tail_dim", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], "10", 1.0, 0.1, 5, np.random.default_rng())),
    ("tail_variance", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], 10, NAN, 0.1, 5, np.random.default_rng())),
    ("noise", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], 10, 1.0, NAN, 5, np.random.default_rng())),
    ("draws", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], 10, 1.0, 0.1, 5, np.random.default_rng(), draws=0)),
    ("rng", lambda: th.flat_tail_min_norm_errors([1.0], [1.0], 10, 1.0, 0.1, 5, 3)),
    ("k", lambda: th.effective_ranks(LAM, 3)),
    ("k", lambda: th.effective_ranks(LAM, -1)),
    ("k", lambda: th.effective_ranks(LAM, 0.5)),
    ("tail beyond k is zero", lambda: th.effective_ranks([1.0, 0.0], 1)),
    ("weights", lambda: th.relu_features_as_linear_problem(np.ones(3), np.ones(3), 0.1)),
    ("beta", lambda: th.relu_features_as_linear_problem(np.ones((4, 3)), np.ones(2), 0.1)),
    ("noise", lambda: th.relu_features_as_linear_problem(np.ones((4, 3)), np.ones(3), INF)),
]


@pytest.mark.parametrize("needle, call", BAD, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_a_clear_error(needle, call):
    with pytest.raises(ValueError) as info:
        call()
    # the argument's name as a word of the message (not inside another word: "n" is not found in "None")
    assert re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(info.value)), str(info.value)
    assert isinstance(info.value, ArgumentError) or needle == "tail beyond k is zero"


# ---- the formulas against independent computations ----


def test_gd_solution_is_the_gradient_descent_loop():
    """θ ← θ − η(Σ̂θ − b) written out, from a non-zero θ0, with more features than samples (a null space)."""
    rng = np.random.default_rng(2)
    Xs, ys, th0 = rng.standard_normal((3, 5)), rng.standard_normal(3), rng.standard_normal(5)
    lr, steps = 0.2, np.arange(8)
    got = th.gd_solution(Xs, ys, lr, steps, theta0=th0)
    theta = th0.copy()
    for t in steps:
        assert got[t] == pytest.approx(theta, rel=1e-9, abs=1e-12)
        theta = theta - lr * (Xs.T @ (Xs @ theta - ys) / 3)
    # after many steps: gd_limit (min-norm solution plus the untouched null-space part of θ0)
    far = th.gd_solution(Xs, ys, lr, [100_000], theta0=th0)[0]
    assert far == pytest.approx(th.gd_limit(Xs, ys, th0), rel=1e-7)
    assert th.gd_limit(Xs, ys, np.zeros(5)) == pytest.approx(th.min_norm_solution(Xs, ys), rel=1e-10)


def test_mode_factors():
    lam = np.array([1.5, 0.5, 0.0])
    assert th.gd_mode_factor(lam, 0.4, [0, 1, 3]) == pytest.approx(
        np.array([[1, 1, 1], [0.4, 0.8, 1], [0.4 ** 3, 0.8 ** 3, 1]]))
    assert th.gradient_flow_mode_factor(lam, [0.0, 2.0]) == pytest.approx(
        np.array([[1, 1, 1], [math.exp(-3), math.exp(-1), 1]]))
    # gradient descent with a small step samples gradient flow at τ = ηt
    assert th.gd_mode_factor(lam, 1e-4, [20_000]) == pytest.approx(th.gradient_flow_mode_factor(lam, [2.0]), rel=1e-3)
    eig, U = th.empirical_eigenbasis(X)
    assert np.all(np.diff(eig) <= 0) and eig == pytest.approx(np.linalg.eigvalsh(X.T @ X / 5)[::-1])
    assert U @ np.diag(eig) @ U.T == pytest.approx(X.T @ X / 5)


def test_population_test_error_by_monte_carlo():
    rng = np.random.default_rng(5)
    theta, noise, n = np.array([0.5, 0.1, 1.0]), 0.3, 200_000
    x = rng.standard_normal((n, 3)) * np.sqrt(LAM)
    y = x @ W + noise * rng.standard_normal(n)
    sq = (y - x @ theta) ** 2
    exact = th.population_test_error(theta, W, LAM, noise)
    assert abs(exact - sq.mean()) < 5 * sq.std() / math.sqrt(n)
    assert th.population_test_error(np.stack([theta, W]), W, LAM, noise) == pytest.approx([exact, noise ** 2])


def test_gd_test_error_modes_formula():
    q = 1 - 0.3 * LAM
    got = th.gd_test_error_modes(LAM, W, 0.4, 50, 0.3, [0, 2])
    assert got[0] == pytest.approx(LAM * W ** 2)
    assert got[1] == pytest.approx(LAM * W ** 2 * q ** 4 + 0.16 / 50 * (1 - q ** 2) ** 2)


def test_estimators_against_lstsq():
    rng = np.random.default_rng(6)
    for N, D in [(8, 3), (3, 8)]:
        Xs, ys = rng.standard_normal((N, D)), rng.standard_normal(N)
        ref = np.linalg.lstsq(Xs, ys, rcond=None)[0]
        assert th.min_norm_solution(Xs, ys) == pytest.approx(ref, rel=1e-9)
        ridge = 0.3
        ref_r = np.linalg.solve(Xs.T @ Xs / N + ridge * np.eye(D), Xs.T @ ys / N)
        assert th.ridge_solution(Xs, ys, ridge) == pytest.approx(ref_r, rel=1e-9)
        assert th.ridge_solution(Xs, ys, 0) == pytest.approx(ref, rel=1e-9)
    # batched = one at a time
    Xb, yb = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 4))
    got = th.ridge_solution(Xb, yb, 0.1)
    assert got[1] == pytest.approx(th.ridge_solution(Xb[1], yb[1], 0.1))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 30), ridge=st.sampled_from([0.0, 1e-3, 0.1, 2.0]))
def test_effective_ridge_solves_its_equation(seed, n, ridge):
    lam = np.random.default_rng(seed).uniform(0.01, 3, 12)
    kappa = th.effective_ridge(lam, n, ridge)
    assert kappa >= ridge
    if ridge == 0 and lam.size <= n:
        assert kappa == 0.0
        return
    assert kappa == pytest.approx(ridge + kappa / n * np.sum(lam / (lam + kappa)), rel=1e-9)
    assert th.effective_ridge(lam, n, ridge * 2 + 0.01) > kappa          # increasing in the ridge


def test_ridge_risk_formulas_and_limits():
    lam, w, noise, n, ridge = np.array([2.0, 1.0, 0.5, 0.1]), np.array([1.0, -1.0, 0.5, 2.0]), 0.3, 6, 0.05
    r = th.ridge_risk(lam, w, noise, n, ridge)
    k = th.effective_ridge(lam, n, ridge)
    g = np.sum(lam ** 2 / (lam + k) ** 2) / n
    assert r.kappa == k and r.gamma == pytest.approx(g)
    assert r.bias == pytest.approx(k ** 2 * np.sum(lam * w ** 2 / (lam + k) ** 2) / (1 - g))
    assert r.variance == pytest.approx(noise ** 2 * g / (1 - g))
    assert r.test_error == pytest.approx(r.bias + r.variance + noise ** 2) and r.excess == pytest.approx(r.bias + r.variance)
    # underparameterised least squares: γ = D/N, test error σ²(1 + D/(N − D)) (the isotropic exact result
    # at large N), bias 0
    r = th.ridge_risk(np.ones(3), np.ones(3), 0.5, 1000)
    assert r.bias == 0.0 and r.test_error == pytest.approx(0.25 * (1 + 3 / 997), rel=1e-2)
    # the interpolation threshold: infinite
    assert th.ridge_risk(np.ones(4), np.ones(4), 0.1, 4).test_error == np.inf
    # a λ = 0 direction contributes nothing
    assert th.ridge_risk(np.r_[LAM, 0.0], np.r_[W, 5.0], 0.1, 10).test_error == pytest.approx(
        th.ridge_risk(LAM, W, 0.1, 10).test_error)


def test_min_norm_risk_isotropic_by_monte_carlo():
    """Belkin–Hsu–Xu against simulated least squares, on both sides of the threshold."""
    rng = np.random.default_rng(7)
    n, noise, draws = 10, 0.5, 4000
    for p, D in [(4, 6), (20, 24)]:
        beta = rng.standard_normal(D)
        beta *= 1.0 / np.linalg.norm(beta)
        seen, unseen = np.sum(beta[:p] ** 2), np.sum(beta[p:] ** 2)
        errs = []
        for _ in range(draws):
            Xs = rng.standard_normal((n, D))
            ys = Xs @ beta + noise * rng.standard_normal(n)
            th_hat = np.linalg.lstsq(Xs[:, :p], ys, rcond=None)[0]
            errs.append(np.sum((th_hat - beta[:p]) ** 2) + unseen + noise ** 2)
        errs = np.array(errs)
        exact = th.min_norm_risk_isotropic(n, p, seen, unseen, noise)
        assert abs(exact - errs.mean()) < 5 * errs.std() / math.sqrt(draws), (p, exact, errs.mean())
    assert th.min_norm_risk_isotropic(10, 9, 1.0, 0.0, 0.1) == np.inf
    assert th.min_norm_risk_isotropic(10, 11, 1.0, 0.0, 0.1) == np.inf
    assert th.min_norm_risk_isotropic(10, 8, 1.0, 0.0, 0.5) == pytest.approx(0.25 * (1 + 8 / 1))
    assert th.min_norm_risk_isotropic(10, 12, 1.0, 0.0, 0.5) == pytest.approx(1 - 10 / 12 + 0.25 * (1 + 10 / 1))


def test_flat_tail_against_direct_simulation():
    """The Bartlett-drawn exact errors against an explicit min-norm fit on head + tail features."""
    rng = np.random.default_rng(8)
    head, w, T, v, noise, n = np.array([1.0, 0.5]), np.array([1.0, -0.7]), 30, 2.0, 0.3, 6
    exact = th.flat_tail_min_norm_errors(head, w, T, v, noise, n, np.random.default_rng(9), draws=3000)
    errs = []
    lam_all = np.r_[head, np.full(T, v / T)]
    w_all = np.r_[w, np.zeros(T)]
    for _ in range(3000):
        Xs = rng.standard_normal((n, 2 + T)) * np.sqrt(lam_all)
        ys = Xs[:, :2] @ w + noise * rng.standard_normal(n)
        theta = Xs.T @ np.linalg.solve(Xs @ Xs.T, ys)
        errs.append(np.sum(lam_all * (theta - w_all) ** 2) + noise ** 2)
    errs = np.array(errs)
    se = math.hypot(errs.std() / math.sqrt(errs.size), exact.std() / math.sqrt(exact.size))
    assert abs(exact.mean() - errs.mean()) < 5 * se
    # the T → ∞ limit is ridge on the head with ridge v/N: its mean is close to the finite-T mean at large T
    inf = th.flat_tail_min_norm_errors(head, w, np.inf, v, noise, n, np.random.default_rng(10), draws=3000)
    big = th.flat_tail_min_norm_errors(head, w, 5000, v, noise, n, np.random.default_rng(10), draws=3000)
    assert inf.mean() == pytest.approx(big.mean(), rel=0.05)


def test_effective_ranks_and_relu_features():
    assert th.effective_ranks([4.0, 1.0, 1.0, 0.5], 1) == pytest.approx((2.5, 2.5 ** 2 / 2.25))
    assert th.effective_ranks([1.0, 2.0], 0) == pytest.approx((1.5, 9 / 5))      # sorted first
    # ReLU features: the moments by Monte Carlo
    rng = np.random.default_rng(11)
    F, beta, noise = rng.standard_normal((3, 2)), np.array([1.0, -0.5]), 0.2
    lam, theta_star, s_eff = th.relu_features_as_linear_problem(F, beta, noise)
    x = rng.standard_normal((400_000, 2))
    phi = np.maximum(x @ F.T / np.sqrt(2), 0)
    y = x @ beta
    cov = phi.T @ phi / len(x)
    assert np.sort(lam) == pytest.approx(np.sort(np.linalg.eigvalsh(cov)), rel=2e-2)
    c = phi.T @ y / len(x)
    best = np.linalg.solve(cov, c)
    assert s_eff ** 2 == pytest.approx(beta @ beta + noise ** 2 - c @ best, rel=3e-2)
    assert np.sum(theta_star ** 2 * lam) == pytest.approx(c @ best, rel=3e-2)
