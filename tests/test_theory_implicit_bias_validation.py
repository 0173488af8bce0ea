"""course_utils.theory.implicit_bias: bad arguments end in a clear ArgumentError naming the argument; the
formulas against their definitions (KKT conditions, Hessians by finite differences, closed forms)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import implicit_bias as ib
from course_utils.validate import ArgumentError

NAN = float("nan")
XS, BS, YS = ib.sparse_regression(4, 7, 2, draws=2, seed=0)
X, Y = XS[0], YS[0]

BAD = {
    "alpha negative": (lambda: ib.interpolator(X, Y, -1.0), "alpha"),
    "alpha wrong length": (lambda: ib.interpolator(X, Y, np.ones(3)), "alpha must be a number or have one entry"),
    "alpha NaN": (lambda: ib.interpolator(X, Y, NAN), "alpha \\(the initial scale\\) must be positive and finite"),
    "alpha 2-d": (lambda: ib.interpolator(X, Y, np.ones((7, 1))), "alpha must be a positive number or one per"),
    "alpha string": (lambda: ib.interpolator(X, Y, "big"), "alpha must be a positive number or one per"),
    "y length": (lambda: ib.interpolator(X, Y[:-1], 1.0), "y must"),
    "X 1-d": (lambda: ib.min_l2_interpolator(X[0], Y[:1]), "X must be an \\(n, d\\) matrix"),
    "X empty": (lambda: ib.min_l2_interpolator(np.zeros((0, 3)), np.zeros(0)), "X must be an \\(n, d\\) matrix"),
    "X NaN": (lambda: ib.min_l1_interpolator(X * NAN, Y), "X and y must be finite"),
    "y inf": (lambda: ib.min_l1_interpolator(X, Y * np.inf), "X and y must be finite"),
    "X string": (lambda: ib.min_l2_interpolator("X", Y), "X must be"),
    "rank": (lambda: ib.interpolator(np.vstack([X, X[:1]]), np.append(Y, Y[0]), 1.0), "full row rank"),
    "tol NaN": (lambda: ib.interpolator(X, Y, 1.0, tol=NAN), "tol"),
    "max_iter zero": (lambda: ib.interpolator(X, Y, 1.0, max_iter=0), "max_iter"),
    "max_iter too few": (lambda: ib.interpolator(X, Y, 1e-3, max_iter=1), None),
    "potential alpha": (lambda: ib.potential(np.ones(3), 0.0), "alpha \\(the initial scale\\)"),
    "potential alpha array": (lambda: ib.potential(np.ones(3), np.ones(2)), "alpha \\(the initial scale\\)"),
    "potential beta NaN": (lambda: ib.potential(np.array([NAN]), 1.0), "beta must contain only finite"),
    "large alpha beta NaN": (lambda: ib.potential_large_alpha([NAN], 1.0), "beta must contain only finite"),
    "large alpha alpha": (lambda: ib.potential_large_alpha([1.0], NAN), "alpha"),
    "small alpha beta inf": (lambda: ib.potential_small_alpha([np.inf], 1.0), "beta must contain only finite"),
    "small alpha alpha": (lambda: ib.potential_small_alpha([1.0], -1.0), "alpha"),
    "q NaN": (lambda: ib.q(NAN), "z must contain only finite"),
    "q string": (lambda: ib.q("1"), "z must be"),
    "q_prime inf": (lambda: ib.q_prime(np.inf), "z must contain only finite"),
    "dual alpha": (lambda: ib.dual_to_beta(1.0, 0.0), "alpha"),
    "dual z NaN": (lambda: ib.dual_to_beta(NAN, 1.0), "z must contain only finite"),
    "dual shapes": (lambda: ib.dual_to_beta(np.ones(3), np.ones(2)), "must broadcast"),
    "sparse n": (lambda: ib.sparse_regression(0, 5, 1), "n must be"),
    "sparse d float": (lambda: ib.sparse_regression(2, 5.5, 1), "d must be"),
    "sparse k > d": (lambda: ib.sparse_regression(2, 3, 4), "sparsity k = 4 cannot exceed"),
    "sparse draws": (lambda: ib.sparse_regression(2, 3, 1, draws=0), "draws must be"),
    "sparse seed": (lambda: ib.sparse_regression(2, 3, 1, seed=-1), "seed"),
    "ratio alpha": (lambda: ib.weight_to_target_ratio([1.0], NAN), "alpha"),
    "ratio beta NaN": (lambda: ib.weight_to_target_ratio([NAN], 1.0), "beta must contain only finite"),
    "change alpha": (lambda: ib.relative_weight_change([1.0], 0.0), "alpha"),
    "change beta scalar": (lambda: ib.relative_weight_change(1.0, 1.0), "beta must have the coordinates"),
    "change beta NaN": (lambda: ib.relative_weight_change([NAN], 1.0), "beta must contain only finite"),
    "kernel u/v shapes": (lambda: ib.tangent_kernel(X, np.ones(7), np.ones(6)), "u and v must have the same shape"),
    "kernel u length": (lambda: ib.tangent_kernel(X, np.ones(6), np.ones(6)), "u and v must have one entry per"),
    "kernel X 1-d": (lambda: ib.tangent_kernel(np.ones(7), np.ones(7), np.ones(7)), "X must have shape"),
    "kernel X NaN": (lambda: ib.tangent_kernel(X * NAN, np.ones(7), np.ones(7)), "X must contain only finite"),
    "kernel u NaN": (lambda: ib.tangent_kernel(X, np.full(7, NAN), np.ones(7)), "u must contain only finite"),
    "kernel batch": (lambda: ib.tangent_kernel(XS, np.ones((3, 7)), np.ones((3, 7))), "same leading axes"),
    "kernel scalar u": (lambda: ib.tangent_kernel(X, 1.0, 1.0), "u and v must have the same shape"),
    "kernel change shapes": (lambda: ib.relative_kernel_change(X, np.ones(6), 1.0), "X must have shape .* and beta"),
    "kernel change batch": (lambda: ib.relative_kernel_change(XS, np.ones((3, 7)), 1.0), "same leading axes"),
    "kernel change X zero": (lambda: ib.relative_kernel_change(0 * X, np.ones(7), 1.0), "X is zero"),
    "kernel change alpha": (lambda: ib.relative_kernel_change(X, np.ones(7), NAN), "alpha"),
    "stat dim k > d": (lambda: ib.statistical_dimension_l1(5, 6), "1 ≤ k ≤ d"),
    "stat dim k zero": (lambda: ib.statistical_dimension_l1(5, 0), "k must be"),
    "stat dim d string": (lambda: ib.statistical_dimension_l1("5", 1), "d must be"),
    "net alpha": (lambda: ib.DiagonalNetworks([0.0, 1.0], 3), "alpha"),
    "net alpha empty": (lambda: ib.DiagonalNetworks([], 3), "alpha"),
    "net alpha 2-d": (lambda: ib.DiagonalNetworks(np.ones((2, 2)), 3), "alpha must have"),
    "net d": (lambda: ib.DiagonalNetworks([1.0], 0), "d must be"),
    "net dtype": (lambda: ib.DiagonalNetworks([1.0], 3, dtype=torch.int64), "dtype must be a floating"),
    "net X shape": (lambda: ib.DiagonalNetworks([1.0, 1.0], 3)(torch.randn(4, 3)), "X must have shape"),
    "net X members": (lambda: ib.DiagonalNetworks([1.0, 1.0], 3)(torch.randn(3, 4, 3)), "X must have shape"),
    "net X string": (lambda: ib.DiagonalNetworks([1.0], 3)("X"), "X must be"),
    "lr shapes": (lambda: ib.learning_rates(XS, YS, np.ones(3), beta_max=3.0), "need X"),
    "lr beta_max": (lambda: ib.learning_rates(XS, YS, np.ones(2), beta_max=-1.0), "beta_max"),
    "lr beta_max NaN": (lambda: ib.learning_rates(XS, YS, np.ones(2), beta_max=NAN), "beta_max"),
    "lr growth": (lambda: ib.learning_rates(XS, YS, np.ones(2), beta_max=1.0, growth_step=0), "growth_step"),
    "lr fraction": (lambda: ib.learning_rates(XS, YS, np.ones(2), beta_max=1.0, curvature_fraction=1.5),
                    "curvature_fraction"),
    "lr fraction 0": (lambda: ib.learning_rates(XS, YS, np.ones(2), beta_max=1.0, curvature_fraction=0.0),
                      "curvature_fraction"),
    "lr alpha": (lambda: ib.learning_rates(XS, YS, [1.0, 0.0], beta_max=1.0), "alpha \\(the initial scales\\)"),
    "lr X NaN": (lambda: ib.learning_rates(XS * NAN, YS, [1.0, 1.0], beta_max=1.0), "X must contain only finite"),
    "lr n_samples": (lambda: ib.learning_rates(XS, YS, [1.0, 1.0], beta_max=1.0, n_samples=[4, 0]), "n_samples"),
    "lr n_samples length": (lambda: ib.learning_rates(XS, YS, [1.0, 1.0], beta_max=1.0, n_samples=[4]), "n_samples"),
    "lr X zero member": (lambda: ib.learning_rates(XS * [[[1.0]], [[0.0]]], YS, [1.0, 1.0], beta_max=1.0), "X must be non-zero"),
    "clr shapes": (lambda: ib.curvature_learning_rates(XS, YS, np.ones((2, 6)), np.ones((2, 6))), "need X"),
    "clr fraction": (lambda: ib.curvature_learning_rates(XS, YS, np.ones((2, 7)), np.ones((2, 7)), fraction=0),
                     "fraction"),
    "clr fraction NaN": (lambda: ib.curvature_learning_rates(XS, YS, np.ones((2, 7)), np.ones((2, 7)), fraction=NAN),
                         "fraction"),
    "clr n_samples": (lambda: ib.curvature_learning_rates(XS, YS, np.ones((2, 7)), np.ones((2, 7)), n_samples=[1, 0.5]),
                      "n_samples"),
    "clr zero": (lambda: ib.curvature_learning_rates(XS, 0 * YS, np.zeros((2, 7)), np.zeros((2, 7))), "curvature bound"),
    "clr u NaN": (lambda: ib.curvature_learning_rates(XS, YS, np.full((2, 7), NAN), np.ones((2, 7))), "u must contain"),
}


@pytest.mark.parametrize("call, message", BAD.values(), ids=BAD.keys())
def test_bad_arguments_name_the_argument(call, message):
    if message is None:                       # a bounded iteration that runs out: a clear RuntimeError
        with pytest.raises(RuntimeError, match="did not converge in 1 Newton steps"):
            call()
        return
    with pytest.raises(ArgumentError, match=message):
        call()


def test_valid_edge_cases_and_conversions():
    assert np.array_equal(ib.interpolator(X, 0 * Y, 0.3), np.zeros(7))                # y = 0: β = 0
    beta, nu = ib.interpolator(X, 0 * Y, 0.3, return_dual=True)
    assert np.array_equal(nu, np.zeros(4))
    assert np.allclose(ib.min_l2_interpolator(torch.tensor(X), torch.tensor(Y, dtype=torch.float32)),
                       ib.min_l2_interpolator(X, Y), atol=1e-5)
    assert ib.q(np.array([])).shape == (0,)
    assert ib.weight_to_target_ratio([0.0, 1.0], 1.0).tolist() == [np.inf, 2.0]
    net = ib.DiagonalNetworks(0.5, 3, dtype=torch.float32)
    assert net.u.dtype == torch.float32 and net.n_members == 1
    out = net(np.ones((1, 2, 3)))                                                          # NumPy is converted
    assert out.dtype == torch.float32 and out.shape == (1, 2, 1) and torch.all(out == 0)
    out64 = ib.DiagonalNetworks([0.5], 3)(torch.ones(1, 2, 3, dtype=torch.float32))      # float32 → the model's
    assert out64.dtype == torch.float64
    assert ib.statistical_dimension_l1(np.int64(5), 5) == 5.0
    assert ib.sparse_regression(2, 3, 3)[1].tolist()[0].count(0.0) == 0                  # k = d: all non-zero


@settings(max_examples=30, deadline=None, database=None)
@given(z=st.floats(-20.0, 20.0), alpha=st.floats(1e-3, 10.0))
def test_dual_to_beta_and_the_potential(z, alpha):
    assert ib.dual_to_beta(z, alpha) == pytest.approx(2 * alpha ** 2 * np.sinh(z), rel=1e-10, abs=1e-300)
    beta = 2 * alpha ** 2 * np.sinh(z)
    # ∇Q_α(β) = arcsinh(β/2α²) = z (the mirror map), by central differences
    h = 1e-5 * max(alpha ** 2, abs(beta))             # the scale of β on which Q_α curves
    grad = (ib.potential(np.array([beta + h]), alpha) - ib.potential(np.array([beta - h]), alpha)) / (2 * h)
    assert grad == pytest.approx(z, abs=1e-4 * (1 + abs(z)))
    assert ib.q_prime(beta / alpha ** 2) == pytest.approx(z, abs=1e-9 * (1 + abs(z)))
    # the textbook form of q where it does not cancel
    zz = beta / alpha ** 2
    if abs(zz) > 1:
        assert ib.q(zz) == pytest.approx(2 - np.sqrt(4 + zz ** 2) + zz * np.arcsinh(zz / 2), rel=1e-10)


def test_potential_limits_by_formula():
    beta = np.array([[1.0, -0.5, 0.0], [2.0, 0.0, 0.25]])
    assert np.allclose(ib.potential_large_alpha(beta, 2.0), (beta ** 2).sum(1) / (4 * 4.0))
    a2 = 1e-3 ** 2
    nz = np.abs(beta)
    ent = np.where(nz > 0, nz * (np.log(np.where(nz > 0, nz, 1)) - 1), 0).sum(1)
    assert np.allclose(ib.potential_small_alpha(beta, 1e-3), np.log(1 / a2) * nz.sum(1) + ent)
    assert np.allclose(ib.potential(beta, 1e-3), ib.potential_small_alpha(beta, 1e-3), atol=10 * a2)
    assert np.allclose(ib.potential(beta, 1e3), ib.potential_large_alpha(beta, 1e3), rtol=1e-10)


@settings(max_examples=15, deadline=None, database=None)
@given(seed=st.integers(0, 1000), log_alpha=st.floats(-4.0, 1.0), per_coordinate=st.booleans())
def test_interpolator_satisfies_the_kkt_conditions(seed, log_alpha, per_coordinate):
    X, _, y = ib.sparse_regression(3, 6, 2, draws=1, seed=seed)
    X, y = X[0], y[0]
    alpha = 10.0 ** log_alpha * (np.linspace(0.5, 2.0, 6) if per_coordinate else 1.0)
    beta, nu = ib.interpolator(X, y, alpha, return_dual=True)
    assert np.allclose(X @ beta, y, atol=1e-9 * np.linalg.norm(y))                       # feasible
    a2 = np.broadcast_to(alpha, (6,)) ** 2
    assert np.allclose(np.arcsinh(beta / (2 * a2)), X.T @ nu, atol=1e-6)                # ∇Q ∈ row space
    # and Q_α is smaller than at any other interpolator nearby: β + null-space directions
    N = np.linalg.svd(X)[2][3:].T
    Qa = lambda b: np.sum(a2 * ib.q(b / a2))
    for v in np.random.default_rng(seed).standard_normal((5, 3)):
        assert Qa(beta) <= Qa(beta + 1e-3 * N @ v) + 1e-12


@settings(max_examples=15, deadline=None, database=None)
@given(seed=st.integers(0, 1000))
def test_min_l2_and_min_l1_interpolators(seed):
    X, _, y = ib.sparse_regression(3, 6, 2, draws=1, seed=seed)
    X, y = X[0], y[0]
    l2 = ib.min_l2_interpolator(X, y)
    assert np.allclose(l2, np.linalg.pinv(X) @ y)
    l1 = ib.min_l1_interpolator(X, y)
    assert np.allclose(X @ l1, y, atol=1e-8)
    N = np.linalg.svd(X)[2][3:].T
    for v in np.random.default_rng(seed).standard_normal((10, 3)):
        assert np.abs(l1).sum() <= np.abs(l1 + 0.1 * N @ v).sum() + 1e-9
        assert np.linalg.norm(l2) <= np.linalg.norm(l2 + 0.1 * N @ v)


def test_sparse_regression_draws():
    X, beta, y = ib.sparse_regression(5, 9, 3, draws=4, seed=2)
    assert X.shape == (4, 5, 9) and beta.shape == (4, 9) and y.shape == (4, 5)
    assert np.all((beta != 0).sum(1) == 3) and set(np.unique(beta)) <= {-1.0, 0.0, 1.0}
    assert np.allclose(y, np.einsum("jnd,jd->jn", X, beta))
    again = ib.sparse_regression(5, 9, 3, draws=4, seed=np.random.default_rng(2))
    assert all(np.array_equal(a, b) for a, b in zip(again, (X, beta, y)))


@settings(max_examples=20, deadline=None, database=None)
@given(beta=st.floats(-5.0, 5.0), alpha=st.floats(0.05, 3.0))
def test_weight_ratio_and_weight_change_from_the_weights(beta, alpha):
    if beta != 0:
        assert ib.weight_to_target_ratio([beta], alpha)[0] == pytest.approx(2 * alpha ** 2 / abs(beta))
    w = 0.5 * np.arcsinh(beta / (2 * alpha ** 2))
    u, v = alpha * np.exp(w), alpha * np.exp(-w)
    change = np.sqrt(((u - alpha) ** 2 + (v - alpha) ** 2) / (2 * alpha ** 2))
    assert ib.relative_weight_change([beta], alpha) == pytest.approx(change, abs=1e-12)
    # the kernel at convergence from the weights: u² + v² = √(β² + 4α⁴)
    x = np.array([[1.0], [2.0]])
    K = ib.tangent_kernel(x, [u], [v])
    assert np.allclose(K, 4 * (u * u + v * v) * x @ x.T)
    assert ib.relative_kernel_change(x, [beta], alpha) == pytest.approx(
        abs(4 * np.sqrt(beta ** 2 + 4 * alpha ** 4) - 8 * alpha ** 2) / (8 * alpha ** 2), rel=1e-9, abs=1e-12)


def _hessian(X, y, u, v):
    """The Hessian of L = (1/n)‖X(u² − v²) − y‖² in (u, v), by central differences of the exact gradient."""
    n, d = X.shape

    def grad(theta):
        uu, vv = theta[:d], theta[d:]
        r = X @ (uu * uu - vv * vv) - y
        g = 2 / n * X.T @ r
        return np.r_[2 * uu * g, -2 * vv * g]

    theta, h = np.r_[u, v], 1e-6
    return np.stack([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in np.eye(2 * d)])


def test_learning_rates_from_their_formulas_and_the_curvature_bound():
    X, _, y = ib.sparse_regression(4, 6, 2, draws=2, seed=3)
    alpha = np.array([0.1, 1.0])
    lr = ib.learning_rates(X, y, alpha, beta_max=2.0, curvature_fraction=0.5, growth_step=0.02)
    for k in range(2):
        lam = np.linalg.eigvalsh(X[k] @ X[k].T)[-1]
        curv = 0.5 * 2 * 4 / (8 * (2 * alpha[k] ** 2 + 2.0) * lam)
        growth = 0.02 * 4 / (4 * np.abs(X[k].T @ y[k]).max())
        assert lr[k] == pytest.approx(min(curv, growth))
    n_lr = ib.learning_rates(X, y, alpha, beta_max=2.0, n_samples=[2, 3])
    assert n_lr[0] == pytest.approx(ib.learning_rates(X, y, alpha, beta_max=2.0)[0] / 2)
    # the curvature step: λ̄ bounds the largest Hessian eigenvalue at the current weights
    rng = np.random.default_rng(4)
    u, v = rng.uniform(0.2, 1.5, (2, 6)), rng.uniform(0.2, 1.5, (2, 6))
    eta = ib.curvature_learning_rates(X, y, u, v, fraction=0.8)
    for k in range(2):
        Hk = _hessian(X[k], y[k], u[k], v[k])
        top = np.linalg.eigvalsh((Hk + Hk.T) / 2)[-1]
        theta = ib.tangent_kernel(X[k], u[k], v[k])
        r = X[k] @ (u[k] ** 2 - v[k] ** 2) - y[k]
        bar = 2 / 4 * np.linalg.eigvalsh(theta)[-1] + 4 / 4 * np.abs(X[k].T @ r).max()
        assert eta[k] == pytest.approx(0.8 * 2 / bar)
        assert top <= bar * (1 + 1e-6)
    assert np.allclose(ib.curvature_learning_rates(X, y, u, v, n_samples=[4, 4]),
                       ib.curvature_learning_rates(X, y, u, v))


def test_statistical_dimension_limits():
    assert ib.statistical_dimension_l1(8, 8) == 8.0
    d = 400
    assert ib.statistical_dimension_l1(d, 1) < ib.statistical_dimension_l1(d, 10) < ib.statistical_dimension_l1(d, 100)
    # k = 1 in large d: δ ≈ 2 ln d (to leading order; the minimiser τ ≈ √(2 ln d))
    assert ib.statistical_dimension_l1(10 ** 6, 1) == pytest.approx(2 * np.log(10 ** 6), rel=0.35)


def test_defaults_are_the_documented_ones():
    """tol = 1e-12 and max_iter = 500 (interpolator), draws = 1, seed = 0, curvature_fraction = 0.25,
    growth_step = 0.01, fraction = 0.5, dtype float64."""
    assert np.array_equal(ib.interpolator(X, Y, 0.05), ib.interpolator(X, Y, 0.05, tol=1e-12, max_iter=500))
    beta = ib.interpolator(X, Y, 0.05)
    assert np.linalg.norm(X @ beta - Y) <= 1e-12 * np.linalg.norm(Y)
    loose = ib.interpolator(X, Y, 0.05, tol=1e-3)
    assert np.linalg.norm(X @ loose - Y) <= 1e-3 * np.linalg.norm(Y)
    one = ib.sparse_regression(3, 5, 2)
    assert one[0].shape == (1, 3, 5)
    assert all(np.array_equal(a, b) for a, b in zip(one, ib.sparse_regression(3, 5, 2, draws=1, seed=0)))
    alpha = np.array([0.1, 1.0])
    assert np.array_equal(ib.learning_rates(XS, YS, alpha, beta_max=2.0),
                          ib.learning_rates(XS, YS, alpha, beta_max=2.0, curvature_fraction=0.25, growth_step=0.01))
    u = v = np.ones((2, 7))
    assert np.array_equal(ib.curvature_learning_rates(XS, YS, u, v), ib.curvature_learning_rates(XS, YS, u, v, fraction=0.5))
    assert ib.DiagonalNetworks([0.1], 3).u.dtype == torch.float64
