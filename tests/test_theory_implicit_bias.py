"""Unit tests of course_utils.theory.implicit_bias (diagonal linear networks) and of its exercise checkers,
against independent computations: finite differences, brute-force constrained minimisation, long runs of
gradient descent, the lazy/rich scalar model and Monte Carlo."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from course_utils.exercises import implicit_bias as ex
from course_utils.theory import implicit_bias as ib
from course_utils.theory import lazy_rich

pytestmark = pytest.mark.usefixtures("float64")


def _problem(n=4, d=7, k=2, seed=0):
    X, b, y = ib.sparse_regression(n, d, k, draws=1, seed=seed)
    return X[0], b[0], y[0]


# --- q and the potential ------------------------------------------------------------------------

def test_q_closed_form_derivative_and_limits():
    z = np.linspace(-30, 30, 601)
    assert ib.q(0.0) == 0.0
    assert np.allclose(ib.q(z), ib.q(-z))
    assert np.all(ib.q(z) >= 0)
    # the textbook form, where it has no cancellation
    big = np.abs(z) > 1
    assert np.allclose(ib.q(z[big]), 2 - np.sqrt(4 + z[big] ** 2) + z[big] * np.arcsinh(z[big] / 2), rtol=1e-12)
    # q' = arcsinh(z/2), by central differences
    h = 1e-5
    assert np.allclose((ib.q(z + h) - ib.q(z - h)) / (2 * h), np.arcsinh(z / 2), atol=1e-8)
    # small z: z²/4 (to relative O(z²)); large z: |z|(ln|z| − 1) + 2 (to O(1/|z|))
    small = np.array([1e-6, 1e-4, 1e-3])
    assert np.allclose(ib.q(small), small ** 2 / 4, rtol=1e-5)
    large = np.array([1e4, 1e6])
    assert np.allclose(ib.q(large), large * (np.log(large) - 1) + 2, atol=2 / large.min())


def test_potential_limits_converge_at_the_predicted_rate():
    beta = np.array([1.0, -0.5, 2.0, 0.25])
    errs = []
    for alpha in (10.0, 100.0):
        exact = ib.potential(beta, alpha)
        errs.append(abs(ib.potential_large_alpha(beta, alpha) / exact - 1))
    # relative error O(β²/α⁴): a factor 10 in α gives 10⁴
    assert errs[0] < 1e-3 and errs[1] < errs[0] / 5e3
    errs = []
    for alpha in (1e-3, 1e-5):
        exact = ib.potential(beta, alpha)
        errs.append(abs(ib.potential_small_alpha(beta, alpha) - exact))
    # absolute error O(α²) per non-zero coordinate (the constant 2α²)
    assert errs[0] < 10 * 1e-6 and errs[1] < 10 * 1e-10
    # and the ℓ1 norm dominates: Q/ln(1/α²) → ‖β‖₁
    assert ib.potential(beta, 1e-12) / np.log(1e24) == pytest.approx(np.abs(beta).sum(), rel=0.05)


# --- the interpolators --------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.2, 0.7, 2.0])
def test_interpolator_against_brute_force_constrained_minimisation(alpha):
    X, _, y = _problem()
    beta = ib.interpolator(X, y, alpha)
    assert np.allclose(X @ beta, y, atol=1e-10)
    start = ib.min_l2_interpolator(X, y)
    res = minimize(lambda b: ib.potential(b, alpha), start, jac=lambda b: ib.q_prime(b / alpha ** 2),
                   constraints=[dict(type="eq", fun=lambda b: X @ b - y, jac=lambda b: X)], method="SLSQP",
                   options=dict(ftol=1e-14, maxiter=1000))
    assert res.success
    assert np.allclose(beta, res.x, atol=1e-5)
    assert ib.potential(beta, alpha) <= ib.potential(res.x, alpha) + 1e-10


def test_interpolator_kkt_and_per_coordinate_scales():
    X, _, y = _problem(n=5, d=12, k=2, seed=3)
    alpha = np.geomspace(0.05, 2.0, 12)
    beta, nu = ib.interpolator(X, y, alpha, return_dual=True)
    assert np.allclose(X @ beta, y, atol=1e-10)
    # stationarity: ∇Q = arcsinh(β/2α²) lies in the row space, equal to Xᵀν
    assert np.allclose(np.arcsinh(beta / (2 * alpha ** 2)), X.T @ nu, atol=1e-8)


def test_interpolator_limits_are_l2_and_l1():
    X, beta_star, y = _problem(n=12, d=30, k=2, seed=1)
    l2 = ib.min_l2_interpolator(X, y)
    assert np.allclose(l2, np.linalg.pinv(X) @ y, atol=1e-12)
    assert np.allclose(ib.interpolator(X, y, 1e3), l2, atol=1e-6)
    l1 = ib.min_l1_interpolator(X, y)
    assert np.allclose(l1, beta_star, atol=1e-8)          # 12 samples recover 2 of 30 (basis pursuit)
    # α down to 1e-8 works (log domain); the approach to ℓ1 is slow (the ℓ1 weight is only ln(1/α²))
    dist = [np.linalg.norm(ib.interpolator(X, y, a) - l1) / np.linalg.norm(l1) for a in (1e-2, 1e-4, 1e-8)]
    assert np.all(np.diff(dist) < 0) and dist[-1] < 1e-2
    # the ℓ1 norm of the interpolator falls monotonically as α shrinks
    norms = [np.abs(ib.interpolator(X, y, a)).sum() for a in (10.0, 1.0, 0.1, 0.01, 1e-4)]
    assert np.all(np.diff(norms) < 1e-10)


def test_min_l1_is_no_worse_than_any_interpolator():
    X, _, y = _problem(n=4, d=9, k=3, seed=5)
    l1 = ib.min_l1_interpolator(X, y)
    assert np.allclose(X @ l1, y, atol=1e-8)
    g = np.random.default_rng(0)
    null = np.linalg.svd(X)[2][X.shape[0]:]                # basis of the null space
    for _ in range(200):
        other = l1 + null.T @ g.standard_normal(null.shape[0])
        assert np.abs(other).sum() >= np.abs(l1).sum() - 1e-9


def test_interpolator_rejects_bad_arguments():
    X, _, y = _problem()
    with pytest.raises(ValueError, match="alpha"):
        ib.interpolator(X, y, -1.0)
    with pytest.raises(ValueError, match="alpha"):
        ib.interpolator(X, y, np.ones(3))
    with pytest.raises(ValueError, match="y must"):
        ib.interpolator(X, y[:-1], 1.0)
    with pytest.raises(ValueError, match="full row rank"):
        ib.interpolator(np.vstack([X, X[:1]]), np.append(y, y[0]), 1.0)


# --- gradient descent reaches the interpolator ---------------------------------------------------

def test_long_gradient_descent_reaches_the_q_interpolator():
    X, _, y = _problem(n=6, d=15, k=2, seed=2)
    alphas = np.array([0.03, 0.3, 3.0])
    run = ib.train_diagonal_networks(np.repeat(X[None], 3, 0), np.repeat(y[None], 3, 0), alphas,
                                     escape_steps=3000, converge_steps=20000, beta_max=3.0,
                                     growth_step=0.002, progress=False)
    for m, a in enumerate(alphas):
        predicted = ib.interpolator(X, y, a)
        assert np.linalg.norm(run["beta"][m] - predicted) < 3e-3 * np.linalg.norm(predicted)
        # and the finite-step picture: Q at the effective scales √(u v) is closer still
        effective = ib.interpolator(X, X @ run["beta"][m], np.sqrt(run["u"][m] * run["v"][m]))
        assert np.linalg.norm(run["beta"][m] - effective) < 1e-4 * np.linalg.norm(predicted)
    # the three scales give three different interpolators (a wrong α would show)
    assert np.linalg.norm(run["beta"][0] - run["beta"][2]) > 0.1 * np.linalg.norm(run["beta"][2])


def test_padded_members_train_as_their_unpadded_selves():
    X, _, y = _problem(n=5, d=10, k=2, seed=4)
    Xp = np.zeros((2, 8, 10))
    yp = np.zeros((2, 8))
    Xp[:, :5], yp[:, :5] = X, y
    w = np.zeros((2, 8))
    w[:, :5] = 1
    kw = dict(escape_steps=200, converge_steps=200, beta_max=3.0, progress=False)
    padded = ib.train_diagonal_networks(Xp, yp, np.array([0.1, 1.0]), sample_weight=w, **kw)
    plain = ib.train_diagonal_networks(np.repeat(X[None], 2, 0), np.repeat(y[None], 2, 0), np.array([0.1, 1.0]), **kw)
    assert np.allclose(padded["beta"], plain["beta"], rtol=1e-10, atol=1e-13)
    with pytest.raises(ValueError, match="padding"):
        bad = Xp.copy()
        bad[:, 6] = 1.0
        ib.train_diagonal_networks(bad, yp, np.array([0.1, 1.0]), sample_weight=w, **kw)


def test_diagonal_networks_module():
    net = ib.DiagonalNetworks([0.5, 2.0], 3)
    assert torch.allclose(net.beta, torch.zeros(2, 3))
    with torch.no_grad():
        net.u += torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])
    X = torch.randn(2, 4, 3)
    out = net(X)
    assert out.shape == (2, 4, 1)
    assert torch.allclose(out[..., 0], torch.einsum("knd,kd->kn", X, net.u ** 2 - net.v ** 2))
    with pytest.raises(ValueError, match="X must have shape"):
        net(torch.randn(4, 3))
    with pytest.raises(ValueError, match="alpha"):
        ib.DiagonalNetworks([0.0, 1.0], 3)


# --- the lazy/rich view -------------------------------------------------------------------------

def test_relative_weight_change_is_the_scalar_model_per_coordinate():
    beta = np.array([1.0, -0.5, 1e-2, 2.0])
    for alpha in (1e-3, 0.1, 1.0, 10.0):
        per_coordinate = lazy_rich.relative_change_at_convergence(ib.weight_to_target_ratio(beta, alpha))
        assert ib.relative_weight_change(beta, alpha) == pytest.approx(np.sqrt(np.mean(per_coordinate ** 2)), rel=1e-6)
    # directly from the weights u = α e^w, v = α e^{−w}, sinh 2w = β/2α²
    alpha = 0.3
    w = 0.5 * np.arcsinh(beta / (2 * alpha ** 2))
    u, v = alpha * np.exp(w), alpha * np.exp(-w)
    assert np.allclose(u ** 2 - v ** 2, beta)
    direct = np.sqrt((((u - alpha) ** 2 + (v - alpha) ** 2).sum()) / (2 * beta.size * alpha ** 2))
    assert ib.relative_weight_change(beta, alpha) == pytest.approx(direct, rel=1e-12)
    # limits: 1/2ρ per coordinate (lazy), ρ^{-1/2} (rich)
    assert ib.relative_weight_change(np.array([1.0]), 100.0) == pytest.approx(1 / 4e4, rel=1e-3)
    assert ib.relative_weight_change(np.array([1.0]), 1e-4) == pytest.approx((2e-8) ** -0.5, rel=1e-3)


def test_kernel_from_weights_and_from_the_interpolator():
    X, _, y = _problem(n=5, d=9, k=2, seed=6)
    alpha = 0.4
    beta = ib.interpolator(X, y, alpha)
    w = 0.5 * np.arcsinh(beta / (2 * alpha ** 2))
    u, v = alpha * np.exp(w), alpha * np.exp(-w)
    K = ib.tangent_kernel(X, u, v)
    # Θ = J Jᵀ with J the Jacobian of the outputs, built by hand
    J = np.hstack([2 * X * u, -2 * X * v])
    assert np.allclose(K, J @ J.T)
    K0 = ib.tangent_kernel(X, np.full(9, alpha), np.full(9, alpha))
    assert np.allclose(K0, 8 * alpha ** 2 * X @ X.T)
    assert ib.relative_kernel_change(X, beta, alpha) == pytest.approx(np.linalg.norm(K - K0) / np.linalg.norm(K0), rel=1e-10)


def test_statistical_dimension_against_monte_carlo():
    d, k = 60, 4
    delta = ib.statistical_dimension_l1(d, k)
    assert ib.statistical_dimension_l1(10, 10) == 10.0
    assert k < delta < d
    # E[dist²(g, τ ∂‖β*‖₁)] at τ ≥ 0, by Monte Carlo, minimised over a grid of τ
    g = np.random.default_rng(0).standard_normal((40000, d))
    taus = np.linspace(0.5, 3.5, 61)
    mc = [np.mean(((g[:, :k] - t) ** 2).sum(1) + (np.maximum(np.abs(g[:, k:]) - t, 0) ** 2).sum(1)) for t in taus]
    assert min(mc) == pytest.approx(delta, rel=0.01)
    with pytest.raises(ValueError):
        ib.statistical_dimension_l1(5, 6)


def test_learning_rates_shapes_and_errors():
    X, _, y = ib.sparse_regression(5, 12, 2, draws=3, seed=0)
    lr = ib.learning_rates(X, y, np.array([1e-3, 1.0, 100.0]), beta_max=3.0)
    assert lr.shape == (3,) and np.all(lr > 0)
    assert lr[2] < lr[1] / 100                          # lazy: the step falls like 1/α²
    with pytest.raises(ValueError, match="need X"):
        ib.learning_rates(X, y, np.ones(2), beta_max=3.0)
    with pytest.raises(ValueError):
        ib.learning_rates(X, y, np.ones(3), beta_max=-1.0)


# --- exercise checkers ------------------------------------------------------------------------------

def test_check_q(capsys):
    assert ex.check_q(ib.q)
    naive = lambda z: 2 - np.sqrt(4 + np.asarray(z) ** 2) + np.asarray(z) * np.arcsinh(np.asarray(z) / 2)  # noqa: E731
    assert not ex.check_q(naive)                          # loses its digits at small z
    assert not ex.check_q(lambda z: 2 * ib.q(z))
    assert not ex.check_q(lambda z: np.full_like(np.asarray(z, dtype=float), np.nan))
    assert not ex.check_q(lambda z: ib.q(z)[:-1])
    assert not ex.check_q(lambda z: None)
    assert not ex.check_q(lambda z: ib.q)                 # a function where values go
    assert not ex.check_q(ib.q(np.ones(3)))               # values where a function goes
    assert not ex.check_q(lambda z: "q")
    out = capsys.readouterr().out
    assert out.count("✗") == 8 and "Traceback" not in out


def test_check_limits(capsys):
    good_lazy = lambda b, a: np.sum(np.asarray(b) ** 2) / (4 * a ** 2)  # noqa: E731

    def good_rich(b, a):
        b = np.abs(np.asarray(b, dtype=float))
        return np.log(1 / a ** 2) * b.sum() + np.sum(b * (np.log(b) - 1))

    assert ex.check_limits(good_lazy, good_rich)
    assert not ex.check_limits(lambda b, a: np.sum(np.asarray(b) ** 2) / (2 * a ** 2), good_rich)
    assert not ex.check_limits(good_lazy, lambda b, a: np.log(1 / a ** 2) * np.abs(b).sum())   # entropy term missing
    assert not ex.check_limits(good_lazy, lambda b, a: np.nan)
    assert not ex.check_limits(good_lazy, lambda b, a: np.ones(2))
    assert not ex.check_limits(3.0, good_rich)
    assert not ex.check_limits(good_lazy, lambda b: 1.0)  # wrong signature: ✗, no traceback
    out = capsys.readouterr().out
    assert out.count("✗") == 6 and "Traceback" not in out
