"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.implicit_bias.

The two step sizes of the diagonal networks against their closed forms (the curvature bound and the growth
limit η‖g₀‖_∞ = growth_step), the bookkeeping of train_diagonal_networks (steps, losses, η g, padded members,
a member that diverges in the escape phase, the progress bars), the batched lazy/rich quantities, the dual
objective of the interpolator, and the argument checks (empty inputs, the argument named in each message).

Mutants left alive as equivalent (no valid input changes what the function returns, raises or warns):

- ``finite=False -> finite=None`` in V.array/V.tensor (_alpha_per_coordinate_5, _problem_4, _problem_17,
  dual_to_beta_4, DiagonalNetworks.__init___10, DiagonalNetworks.forward_6): ``finite`` is only tested for
  truth, and None is false like False.
- _alpha_per_coordinate_2 (``V.array(None, alpha, ...)``): the ArgumentError is caught and replaced by a
  message of the function's own, so the name never shows.
- ``dtype=float`` dropped or None in np.full of the sample counts (learning_rates_86/_89,
  curvature_learning_rates_76/_79, train_diagonal_networks_181/_184): the counts are integers, the step
  formulas divide by them in floating point either way.
- learning_rates_34, train_diagonal_networks_32 (``reshape(-1) -> reshape(-2)``): NumPy ≥ 2 reads any
  negative size as "the unknown one".
- potential_small_alpha_20/_22/_30, weight_to_target_ratio_13/_33/_35: the value chosen for β_i = 0 in the
  inner np.where (``safe``), or ``>=`` there, is thrown away by the outer np.where (and no warning is raised:
  log(0) at β = 0 in _20 is computed under no errstate but its warning is not an error and the result is the
  same; the divide warning of _33 is ignored by the errstate).
- min_l1_interpolator_11/_17 (bounds None or dropped: linprog's default bounds are (0, None)), _18 (method
  dropped: the default is "highs"), _25 (bounds (1, None): p and m shifted by the same 1 leave p − m and the
  optimal support unchanged, the objective only gains the constant 2d), _38 (the message of a RuntimeError for
  an LP that cannot fail: feasible because X has full row rank, bounded below by 0).
- sparse_regression_33 (``replace=None``): Generator.choice tests ``replace`` for truth.
- statistical_dimension_l1_40/_44 (method None or dropped: with bounds, minimize_scalar uses "bounded"),
  _41/_45 (xatol 1e-5 instead of 1e-10: δ is the value at a quadratic minimum, its error (1e-5)²·f''/2 is far
  below any use), _47 (upper bound 11 instead of 10: τ* ≈ √(2 ln(d/k)) reaches 10 only for d/k > e^50).
- min_l1_interpolator_13/_19/_30/_31/_32/_33 (HiGHS feasibility tolerances back at their defaults): on 300
  random, badly scaled problems (column scales e^{±6}) the solution was the same to the last bit -- HiGHS ends
  at a vertex solved to rounding; the tolerances would matter only for a degenerate, ill-conditioned LP.
- interpolator_53/_62/_63/_67/_68/_69 (the starting point of the damped Newton iteration: the same convex
  minimiser is reached from any finite start), _94/_141/_152 (``<`` vs ``<=`` against a tolerance that the
  float iterate never equals exactly: t is a power of two, never 1e-12), _107/_136/_137/_138/_153/_154 (Hessian
  approximation, Armijo constant or the residual-halving acceptance changed: only the path, not the limit, of
  the iteration), _145/_160/_161 (the overflow branch: F = inf after backtracking to t < 1e-12 needs a point
  at the edge e^300 already, which the capped start and the descent never reach; with F_new = inf the
  residual test of _145 is false anyway).
- train_diagonal_networks_135/_137/_139/_141/_143 (``device=`` dropped or None): identical on the CPU, the only
  device of the reference machine; they matter on a GPU only.
- train_diagonal_networks_283 (``h2_loss[:, lost] = None``): None stored in a float array is NaN.
- train_diagonal_networks_318 (``loss`` always from the second phase): with converge_steps = 0 the second phase
  records only its step 0, the loss of the very weights that ended the first phase, computed the same way.
"""

import numpy as np
import pytest
import torch

from course_utils.theory import implicit_bias as ib
from course_utils.validate import ArgumentError

pytestmark = pytest.mark.usefixtures("float64")

XS, BS, YS = ib.sparse_regression(3, 6, 2, draws=2, seed=11)     # two members, n = 3 samples, d = 6


# --- closed forms of the two step sizes, computed here without the module --------------------------------

def _top_eig_gram(A):
    """λ_max(A Aᵀ) as the square of the largest singular value (a route other than eigvalsh)."""
    return np.linalg.svd(A, compute_uv=False)[0] ** 2


def _escape_steps(X, y, alpha, beta_max, curvature_fraction, growth_step, n):
    """The docstring of learning_rates: min(curvature_fraction · 2/[(8/n)(2α² + β_max)λ_max(XXᵀ)],
    growth_step / [(4/n)‖Xᵀy‖_∞])."""
    out = []
    for k in range(X.shape[0]):
        hess = 8 / n[k] * (2 * alpha[k] ** 2 + beta_max) * _top_eig_gram(X[k])
        curvature = curvature_fraction * 2 / hess
        growth = growth_step / (4 / n[k] * np.abs(X[k].T @ y[k]).max())
        out.append(min(curvature, growth))
    return np.array(out)


def _curvature_steps(X, y, u, v, fraction, n):
    """η = fraction · 2/λ̄, λ̄ = (2/n)λ_max(JJᵀ) + (4/n)‖Xᵀr‖_∞ with J = [2X diag u, −2X diag v] the Jacobian
    of the outputs in (u, v) (so JJᵀ is the tangent kernel)."""
    out = []
    for k in range(X.shape[0]):
        J = np.hstack([2 * X[k] * u[k], -2 * X[k] * v[k]])
        r = X[k] @ (u[k] ** 2 - v[k] ** 2) - y[k]
        lam = 2 / n[k] * _top_eig_gram(J) + 4 / n[k] * np.abs(X[k].T @ r).max()
        out.append(fraction * 2 / lam)
    return np.array(out)


# --- learning_rates ---------------------------------------------------------------------------------------

def test_learning_rates_closed_form_in_both_limits():
    """A lazy member (α = 3: 2α² ≫ β_max, the curvature bound) and a rich one (α = 0.05: the growth limit,
    where η(4/n)‖Xᵀy‖_∞ = growth_step exactly); n = 3 samples, so that λ_max is not also the 2nd eigenvalue.
    Tolerance: rounding only (1e-12 relative)."""
    X, _, y = ib.sparse_regression(3, 6, 2, draws=2, seed=2)
    alpha = np.array([3.0, 0.05])
    lr = ib.learning_rates(X, y, alpha, beta_max=2.0, curvature_fraction=0.3, growth_step=0.02)
    want = _escape_steps(X, y, alpha, 2.0, 0.3, 0.02, np.array([3.0, 3.0]))
    assert lr == pytest.approx(want, rel=1e-12)
    # which limit binds: the lazy member by the curvature, the rich one by the growth
    assert lr[0] == pytest.approx(0.3 * 2 * 3 / (8 * (2 * 9 + 2.0) * _top_eig_gram(X[0])), rel=1e-12)
    assert lr[1] * 4 / 3 * np.abs(X[1].T @ y[1]).max() == pytest.approx(0.02, rel=1e-12)


def test_learning_rates_curvature_bound_holds_at_the_interpolator():
    """The curvature step is curvature_fraction·2/bound with bound ≥ λ_max(∇²L) near the interpolator: at
    curvature_fraction = 1 the step is below 2/λ_max of the exact Hessian (by autograd) at the Q_α-interpolator
    with |β_i| ≤ β_max. (Gauss–Newton bound: u² + v² = √(β² + 4α⁴) ≤ |β| + 2α².)"""
    X, _, y = ib.sparse_regression(3, 6, 2, draws=1, seed=4)
    alpha = 1.5
    beta = ib.interpolator(X[0], y[0], alpha)
    w = 0.5 * np.arcsinh(beta / (2 * alpha ** 2))
    uv = torch.tensor(np.concatenate([alpha * np.exp(w), alpha * np.exp(-w)]), requires_grad=True)
    Xt, yt = torch.tensor(X[0]), torch.tensor(y[0])

    def loss(p):
        return ((Xt @ (p[:6] ** 2 - p[6:] ** 2) - yt) ** 2).mean()

    H = torch.autograd.functional.hessian(loss, uv).numpy()
    lam = np.linalg.eigvalsh(H)[-1]
    lr = ib.learning_rates(X, y, [alpha], beta_max=np.abs(beta).max(), curvature_fraction=1.0, growth_step=1e6)
    assert lr[0] <= 2 / lam * (1 + 1e-9)
    assert lr[0] > 0.2 * 2 / lam                       # and not absurdly small: the bound is within a factor 5


def test_learning_rates_scalar_alpha_and_one_sample_members():
    """A single member may give α as a number; n_samples = 1 (one real sample) is a valid member: the padded
    member takes the step of the unpadded one-sample problem."""
    X, _, y = ib.sparse_regression(1, 4, 1, draws=1, seed=0)
    lr = ib.learning_rates(X, y, 0.5, beta_max=1.0)
    assert lr == pytest.approx(_escape_steps(X, y, [0.5], 1.0, 0.25, 0.01, [1.0]), rel=1e-12)
    Xp, yp = np.zeros((1, 3, 4)), np.zeros((1, 3))
    Xp[:, 0], yp[:, 0] = X[:, 0], y[:, 0]
    assert ib.learning_rates(Xp, yp, [0.5], beta_max=1.0, n_samples=[1]) == pytest.approx(lr, rel=1e-12)


BAD_LR = {
    "X string": (lambda: ib.learning_rates("X", YS, [1.0, 1.0], beta_max=1.0), "X must be"),
    "X empty": (lambda: ib.learning_rates(np.zeros((2, 0, 6)), np.zeros((2, 0)), [1.0, 1.0], beta_max=1.0),
                "need X"),
    "y string": (lambda: ib.learning_rates(XS, "y", [1.0, 1.0], beta_max=1.0), "^y must be"),
    "y empty": (lambda: ib.learning_rates(XS, np.zeros((2, 0)), [1.0, 1.0], beta_max=1.0), "need X"),
    "alpha string": (lambda: ib.learning_rates(XS, YS, "a", beta_max=1.0), "^alpha must be"),
    "alpha empty": (lambda: ib.learning_rates(XS, YS, [], beta_max=1.0), "need X"),
    "X 2-d": (lambda: ib.learning_rates(XS[0], YS[0], [1.0, 1.0, 1.0], beta_max=1.0), "need X"),
    "X 2-d matching": (lambda: ib.learning_rates(XS[0], XS[0], [1.0, 1.0, 1.0], beta_max=1.0), "need X"),
    "y shape": (lambda: ib.learning_rates(XS, YS[:, :2], [1.0, 1.0], beta_max=1.0), "need X"),
    "alpha shape": (lambda: ib.learning_rates(XS, YS, [1.0, 1.0, 1.0], beta_max=1.0), "need X"),
    "n_samples string": (lambda: ib.learning_rates(XS, YS, [1.0, 1.0], beta_max=1.0, n_samples="n"),
                         "^n_samples must be"),
}


@pytest.mark.parametrize("call, message", BAD_LR.values(), ids=BAD_LR.keys())
def test_learning_rates_bad_arguments_name_the_argument(call, message):
    """Each bad argument ends in an ArgumentError whose message starts with its name (or the shape summary)."""
    with pytest.raises(ArgumentError, match=message):
        call()


def test_learning_rates_single_entry_problem():
    """n = d = 1 (X of one entry) is a valid problem, not an empty one: curvature 2f·1/(8(2α² + β_max)x²)."""
    lr = ib.learning_rates(np.array([[[2.0]]]), np.array([[1.0]]), [0.5], beta_max=1.0, growth_step=1e6)
    assert lr == pytest.approx([0.25 * 2 / (8 * (2 * 0.25 + 1.0) * 4.0)], rel=1e-12)


# --- curvature_learning_rates -----------------------------------------------------------------------------

def test_curvature_learning_rates_closed_form_and_the_exact_hessian():
    """One coordinate by hand: x = 2, y = 1, u = v = ½: Θ = 4(u² + v²)x² = 8, r = −1, λ̄ = 2·8 + 4·|x r| = 24,
    η = fraction·2/24. λ̄ bounds the exact Hessian of L = (x(u² − v²) − y)² (eigenvalues by hand)."""
    X, y = np.array([[[2.0]]]), np.array([[1.0]])
    u = v = np.array([[0.5]])
    assert ib.curvature_learning_rates(X, y, u, v) == pytest.approx([0.5 * 2 / 24], rel=1e-12)
    assert ib.curvature_learning_rates(X, y, u, v, fraction=1.0) == pytest.approx([2 / 24], rel=1e-12)
    # ∂²L/∂u² = 8x²u² + 4x r, ∂²L/∂v² = 8x²v² − 4x r, ∂²L/∂u∂v = −8x²uv
    H = np.array([[8 * 4 * 0.25 - 8, -8 * 4 * 0.25], [-8 * 4 * 0.25, 8 * 4 * 0.25 + 8]])
    assert np.linalg.eigvalsh(H)[-1] <= 24


def test_curvature_learning_rates_against_the_jacobian_and_padding():
    """Several members at random weights, against (2/n)σ_max(J)² + (4/n)‖Xᵀr‖_∞ computed from the Jacobian;
    a member with one real sample padded by zero rows takes the step of its one-sample problem."""
    g = np.random.default_rng(3)
    u, v = g.uniform(0.2, 1.5, (2, 6)), g.uniform(0.2, 1.5, (2, 6))
    lr = ib.curvature_learning_rates(XS, YS, u, v, fraction=0.7)
    assert lr == pytest.approx(_curvature_steps(XS, YS, u, v, 0.7, [3.0, 3.0]), rel=1e-12)
    Xp, yp = np.zeros_like(XS), np.zeros_like(YS)
    Xp[:, 0], yp[:, 0] = XS[:, 0], YS[:, 0]
    padded = ib.curvature_learning_rates(Xp, yp, u, v, n_samples=[1, 1])
    assert padded == pytest.approx(_curvature_steps(XS[:, :1], YS[:, :1], u, v, 0.5, [1.0, 1.0]), rel=1e-12)


U7 = np.ones((2, 6))
BAD_CLR = {
    "X string": (lambda: ib.curvature_learning_rates("X", YS, U7, U7), "^X must be"),
    "X empty": (lambda: ib.curvature_learning_rates(np.zeros((2, 0, 6)), np.zeros((2, 0)), U7, U7), "need X"),
    "y string": (lambda: ib.curvature_learning_rates(XS, "y", U7, U7), "^y must be"),
    "y empty": (lambda: ib.curvature_learning_rates(XS, np.zeros((2, 0)), U7, U7), "need X"),
    "u empty": (lambda: ib.curvature_learning_rates(XS, YS, np.zeros((2, 0)), U7), "need X"),
    "v string": (lambda: ib.curvature_learning_rates(XS, YS, U7, "v"), "^v must be"),
    "v empty": (lambda: ib.curvature_learning_rates(XS, YS, U7, np.zeros((2, 0))), "need X"),
    "X 2-d": (lambda: ib.curvature_learning_rates(XS[0], XS[0], U7, U7), "need X"),
    "y shape": (lambda: ib.curvature_learning_rates(XS, YS[:, :2], U7, U7), "need X"),
    "fraction > 1": (lambda: ib.curvature_learning_rates(XS, YS, U7, U7, fraction=1.5), "fraction"),
    "n_samples string": (lambda: ib.curvature_learning_rates(XS, YS, U7, U7, n_samples="n"), "^n_samples must be"),
}


@pytest.mark.parametrize("call, message", BAD_CLR.values(), ids=BAD_CLR.keys())
def test_curvature_learning_rates_bad_arguments_name_the_argument(call, message):
    """Each bad argument ends in an ArgumentError naming it (or the shape summary "need X ...")."""
    with pytest.raises(ArgumentError, match=message):
        call()


def test_curvature_learning_rates_empty_samples_with_matching_shapes():
    """X with no samples (K, 0, d) and y (K, 0) is refused by the shape check, not later."""
    with pytest.raises(ArgumentError, match="need X"):
        ib.curvature_learning_rates(np.zeros((2, 0, 6)), np.zeros((2, 0)), U7, U7)


# --- the interpolator and its dual ------------------------------------------------------------------------

def _kkt(X, y, beta, nu, alpha):
    """Feasibility Xβ = y and stationarity arcsinh(β/2α²) = Xᵀν (the mirror map in the row space)."""
    return (np.linalg.norm(X @ beta - y) <= 1e-10 * np.linalg.norm(y)
            and np.allclose(np.arcsinh(beta / (2 * alpha ** 2)), X.T @ nu, atol=1e-8))


def test_dual_objective_is_two_alpha_squared_cosh_minus_y_nu():
    """F(ν) = 2α² Σ_i cosh z_i − yᵀν (z = Xᵀν, per-coordinate α): against the formula with np.cosh, at z of
    both signs and sizes (|z| = 1 and away from it). Tolerance: rounding of the log-domain evaluation."""
    X, _, y = ib.sparse_regression(3, 5, 2, draws=1, seed=7)
    X, y = X[0], y[0]
    nu = np.array([0.4, -1.1, 0.7])
    z = X.T @ nu
    alpha = np.array([0.3, 1.0, 2.0, 0.8, 1.5])
    want = np.sum(2 * alpha ** 2 * np.cosh(z)) - y @ nu
    assert ib._dual_objective(z, nu, y, 2 * np.log(alpha)) == pytest.approx(want, rel=1e-12)
    # its gradient in ν is Xβ(ν) − y with β = 2α² sinh z (central differences)
    h = 1e-6
    grad = [(ib._dual_objective(X.T @ (nu + h * e), nu + h * e, y, 2 * np.log(alpha))
             - ib._dual_objective(X.T @ (nu - h * e), nu - h * e, y, 2 * np.log(alpha))) / (2 * h) for e in np.eye(3)]
    assert np.allclose(grad, X @ ib.dual_to_beta(z, alpha) - y, atol=1e-6)


def test_dual_objective_is_infinite_beyond_e_to_the_300():
    """inf once some |z_i| + ln α_i² exceeds 300 (β beyond e^300), finite up to it: the threshold is on
    |z| + ln α², not on |z| alone."""
    nu, y = np.zeros(1), np.zeros(1)
    assert ib._dual_objective(np.array([300.0]), nu, y, np.array([0.0])) == pytest.approx(np.exp(300.0), rel=1e-12)
    assert ib._dual_objective(np.array([300.5]), nu, y, np.array([0.0])) == np.inf
    assert np.isfinite(ib._dual_objective(np.array([290.0]), nu, y, np.array([-20.0])))
    assert ib._dual_objective(np.array([290.0]), nu, y, np.array([20.0])) == np.inf


def test_interpolator_y_of_norm_exactly_one_and_of_norm_a_million():
    """The relative stopping rule ‖Xβ − y‖ ≤ tol‖y‖ works at every scale of y: ‖y‖ = 1 exactly (not mistaken for
    y = 0) and ‖y‖ ~ 1e6 (where an absolute 1e-12 would be below rounding). Both reach the KKT point."""
    X, _, _ = ib.sparse_regression(4, 7, 2, draws=1, seed=0)
    X = X[0]
    y = np.array([0.0, 1.0, 0.0, 0.0])
    beta, nu = ib.interpolator(X, y, 0.5, return_dual=True)
    assert _kkt(X, y, beta, nu, 0.5) and np.abs(beta).sum() > 0
    y = 1e6 * np.array([0.3, -0.2, 0.5, 0.1])
    beta, nu = ib.interpolator(X, y, 30.0, return_dual=True)
    assert _kkt(X, y, beta, nu, 30.0)


def test_interpolator_coordinate_no_sample_sees_stays_zero_without_warnings():
    """A zero column of X (a coordinate no sample sees): z_i = (Xᵀν)_i = 0 throughout, so β_i = 2α² sinh 0 = 0
    exactly, the rest is the interpolator of the other columns, and the Newton iteration raises no warning
    (no division by z_i anywhere)."""
    import warnings
    X, _, y = ib.sparse_regression(3, 6, 2, draws=1, seed=8)
    X, y = X[0].copy(), y[0]
    X[:, 2] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        beta, nu = ib.interpolator(X, y, 0.2, return_dual=True)
    assert beta[2] == 0.0 and _kkt(X, y, beta, nu, 0.2)
    rest = ib.interpolator(np.delete(X, 2, axis=1), y, 0.2)
    assert np.allclose(np.delete(beta, 2), rest, rtol=1e-8, atol=1e-12)


def test_interpolator_refuses_bad_alpha_even_for_y_zero():
    """y = 0 returns β = 0 without iterating, but a non-positive or NaN α (one per coordinate too) is still
    refused."""
    X = XS[0]
    for bad in (-1.0, 0.0, np.nan, np.array([1.0, 1.0, 0.0, 1.0, 1.0, 1.0])):
        with pytest.raises(ArgumentError, match="positive and finite"):
            ib.interpolator(X, np.zeros(3), bad)


def test_dual_to_beta_arguments():
    """α NaN is refused with the function's own message, α a string names alpha; empty z with empty α is a
    valid (empty) call."""
    with pytest.raises(ArgumentError, match=r"alpha \(the initial scale\) must be positive and finite"):
        ib.dual_to_beta(1.0, np.nan)
    with pytest.raises(ArgumentError, match="^alpha must be"):
        ib.dual_to_beta(1.0, "a")
    assert ib.dual_to_beta(np.zeros(0), np.zeros(0)).shape == (0,)


def test_problem_names_y():
    """A y that is not an array of numbers is named in the message."""
    with pytest.raises(ArgumentError, match="^y must be"):
        ib.min_l2_interpolator(XS[0], "y")


# --- basis pursuit and the statistical dimension -------------------------------------------------------------

def test_min_l1_interpolator_raises_no_warning():
    """The LP options are all recognised by HiGHS (an unknown option would warn): no warning at all."""
    import warnings
    X, beta_star, y = ib.sparse_regression(8, 16, 1, draws=1, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        l1 = ib.min_l1_interpolator(X[0], y[0])
    assert np.allclose(l1, beta_star[0], atol=1e-8)             # one spike from 8 Gaussian measurements


def test_statistical_dimension_against_a_grid_and_no_warning():
    """δ(d, k) = min_τ≥0 of the Amelunxen formula, against a fine grid of τ in [0, 5] (step 1e-4: the grid minimum
    is above δ by at most f''·(5e-5)²); for k close to d the minimiser τ* is near 0 (δ → d). The solver options
    are recognised (no warning)."""
    import warnings
    from scipy.stats import norm
    for d, k in [(10, 9), (20, 19), (10, 5), (200, 3)]:
        tau = np.linspace(0.0, 5.0, 50001)
        f = k * (1 + tau ** 2) + 2 * (d - k) * ((1 + tau ** 2) * norm.sf(tau) - tau * norm.pdf(tau))
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            delta = ib.statistical_dimension_l1(d, k)
        assert delta <= f.min() + 1e-9
        assert delta == pytest.approx(f.min(), rel=1e-6)


def test_sparse_regression_names_its_seed():
    """A negative seed is refused with a message that starts with "seed"."""
    with pytest.raises(ArgumentError, match="^seed must be"):
        ib.sparse_regression(2, 3, 1, seed=-1)


# --- the network module -------------------------------------------------------------------------------------

def test_diagonal_networks_alpha_buffer_and_messages():
    """The α of each member is kept as the buffer ``alpha``; an empty or NaN α gets the module's own message."""
    net = ib.DiagonalNetworks([0.5, 2.0], 3)
    assert torch.equal(net.alpha, torch.tensor([0.5, 2.0])) and "alpha" in dict(net.named_buffers())
    for bad in ([], [np.nan]):
        with pytest.raises(ArgumentError, match="one entry per member"):
            ib.DiagonalNetworks(bad, 3)


def test_diagonal_networks_forward_passes_nan_and_empty_batches():
    """forward accepts no samples (K, 0, d) → (K, 0, 1), and lets NaN inputs through as NaN outputs (the training
    loop detects divergence from them; refusing them would hide it)."""
    net = ib.DiagonalNetworks([0.5, 2.0], 3)
    assert net(torch.zeros(2, 0, 3)).shape == (2, 0, 1)
    X = torch.ones(2, 1, 3)
    X[0, 0, 0] = float("nan")
    out = net(X)
    assert torch.isnan(out[0, 0, 0]) and out[1, 0, 0] == 0


# --- the lazy/rich view, batched ------------------------------------------------------------------------------

def _weights(beta, alpha):
    """u = α e^w, v = α e^{−w} with sinh 2w = β/(2α²): the point of the flow that represents β."""
    w = 0.5 * np.arcsinh(beta / (2 * alpha ** 2))
    return alpha * np.exp(w), alpha * np.exp(-w)


def test_relative_kernel_change_batched_against_the_kernels():
    """Batched over members: ‖Θ_∞ − Θ₀‖_F/‖Θ₀‖_F per member, with Θ = JJᵀ from the weights that represent β."""
    alpha = 0.4
    got = ib.relative_kernel_change(XS, BS, alpha)
    assert got.shape == (2,)
    for k in range(2):
        u, v = _weights(BS[k], alpha)
        J = np.hstack([2 * XS[k] * u, -2 * XS[k] * v])
        J0 = np.hstack([2 * XS[k] * alpha, -2 * XS[k] * alpha])
        want = np.linalg.norm(J @ J.T - J0 @ J0.T) / np.linalg.norm(J0 @ J0.T)
        assert got[k] == pytest.approx(want, rel=1e-10)


RKC = {
    "X string": (lambda: ib.relative_kernel_change("X", BS[0], 1.0), "^X must be"),
    "beta string": (lambda: ib.relative_kernel_change(XS[0], "b", 1.0), "^beta must be"),
    "X 1-d": (lambda: ib.relative_kernel_change(XS[0, 0], BS[0], 1.0), "X must have shape"),
    "beta scalar": (lambda: ib.relative_kernel_change(XS[0], 1.0, 1.0), "X must have shape"),
    "batch": (lambda: ib.relative_kernel_change(XS, np.ones((3, 6)), 1.0), "beta of shape"),
    "one zero member": (lambda: ib.relative_kernel_change(XS * [[[0.0]], [[1.0]]], BS, 1.0), "X is zero"),
    "kernel v string": (lambda: ib.tangent_kernel(XS[0], np.ones(6), "v"), "^v must be"),
    "kernel batch": (lambda: ib.tangent_kernel(XS, np.ones((3, 6)), np.ones((3, 6))), "u of shape"),
}


@pytest.mark.parametrize("call, message", RKC.values(), ids=RKC.keys())
def test_kernel_bad_arguments_name_the_argument(call, message):
    """Each bad argument of the kernel functions ends in an ArgumentError naming it."""
    with pytest.raises(ArgumentError, match=message):
        call()


def test_tangent_kernel_with_two_batch_axes():
    """X (2, 3, n, d) with u, v (2, 3, d): each of the 6 kernels is 4 X diag(u² + v²) Xᵀ."""
    g = np.random.default_rng(1)
    X = g.standard_normal((2, 3, 4, 5))
    u, v = g.uniform(0.1, 1.0, (2, 3, 5)), g.uniform(0.1, 1.0, (2, 3, 5))
    K = ib.tangent_kernel(X, u, v)
    assert K.shape == (2, 3, 4, 4)
    for i in range(2):
        for j in range(3):
            assert np.allclose(K[i, j], 4 * X[i, j] @ np.diag(u[i, j] ** 2 + v[i, j] ** 2) @ X[i, j].T, rtol=1e-12)


def test_relative_weight_change_batched():
    """Over the last axis only: a (2, d) β gives one value per row, ‖θ − θ₀‖/‖θ₀‖ from the weights."""
    alpha = 0.3
    got = ib.relative_weight_change(BS, alpha)
    assert got.shape == (2,)
    for k in range(2):
        u, v = _weights(BS[k], alpha)
        want = np.sqrt(((u - alpha) ** 2 + (v - alpha) ** 2).sum() / (2 * 6 * alpha ** 2))
        assert got[k] == pytest.approx(want, rel=1e-12)


# --- train_diagonal_networks ------------------------------------------------------------------------------

W = np.ones((2, 3))
TRAIN = dict(escape_steps=2, converge_steps=2, beta_max=1.0, progress=False)
BAD_TRAIN = {
    "X 2-d": (lambda: ib.train_diagonal_networks(XS[0], YS, [1.0, 1.0], **TRAIN), "X must have 3 dimensions"),
    "y string": (lambda: ib.train_diagonal_networks(XS, "y", [1.0, 1.0], **TRAIN), "^y must be"),
    "alpha string": (lambda: ib.train_diagonal_networks(XS, YS, "a", **TRAIN), "^alpha must be"),
    "y shape": (lambda: ib.train_diagonal_networks(XS, YS[:, :2], [1.0, 1.0], **TRAIN), r"need X \(K, N, d\)"),
    "alpha shape": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 1.0, 1.0], **TRAIN), r"need X \(K, N, d\)"),
    "alpha negative": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, -1.0], **TRAIN),
                       r"alpha \(the initial scales\) must be positive"),
    "alpha zero": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 0.0], **TRAIN),
                   r"alpha \(the initial scales\) must be positive"),
    "converge_steps": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 1.0], escape_steps=2, converge_steps=-1,
                                                          beta_max=1.0, progress=False), "^converge_steps"),
    "growth_step": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 1.0], growth_step=-1.0, **TRAIN),
                    "^growth_step"),
    "sample_weight string": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 1.0], sample_weight="w", **TRAIN),
                             "^sample_weight must be"),
    "sample_weight not 0/1": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 1.0], sample_weight=0.5 * W, **TRAIN),
                              "sample_weight must be a 0/1 array"),
    "sample_weight shape": (lambda: ib.train_diagonal_networks(XS, YS, [1.0, 1.0], sample_weight=W[:, :2], **TRAIN),
                            "sample_weight must be a 0/1 array"),
    "y not padded": (lambda: ib.train_diagonal_networks(XS * [[[1.0], [1.0], [0.0]], [[1.0]] * 3], YS, [1.0, 1.0],
                                                        sample_weight=np.array([[1, 1, 0], [1, 1, 1.0]]), **TRAIN),
                     "padding"),
}


@pytest.mark.parametrize("call, message", BAD_TRAIN.values(), ids=BAD_TRAIN.keys())
def test_train_bad_arguments_name_the_argument(call, message):
    """Bad arguments are refused before any training, with a message naming them."""
    with pytest.raises(ValueError, match=message):
        call()


def _mse(X, y, beta):
    """L_k = (1/n)‖X_k β_k − y_k‖², by hand."""
    return np.array([np.mean((X[k] @ beta[k] - y[k]) ** 2) for k in range(X.shape[0])])


def _eta_g(lr, X, y, beta, n):
    """η (4/n)‖Xᵀr‖_∞ per member, r = Xβ − y."""
    return np.array([lr[k] * 4 / n[k] * np.abs(X[k].T @ (X[k] @ beta[k] - y[k])).max() for k in range(len(lr))])


def test_escape_phase_steps_and_eta_g_against_their_closed_forms():
    """converge_steps = 0: the returned weights are those at the end of the escape phase, so both steps and η g
    follow by hand. The escape step is learning_rates' with half the curvature_fraction (0.6 → 0.3) and the
    given growth_step; the convergence step is curvature_fraction·2/λ̄ at those weights; η g is the larger of
    η₁(4/n)‖Xᵀy‖_∞ (β = 0 at the start) and η₂(4/n)‖Xᵀr‖_∞. N = 3 samples ≠ d = 6. Tolerance: rounding
    (the weights enter only through formulas evaluated here in float64)."""
    alpha = np.array([3.0, 0.05])
    n = np.array([3.0, 3.0])
    run = ib.train_diagonal_networks(XS, YS, alpha, escape_steps=40, converge_steps=0, beta_max=2.0,
                                     growth_step=0.02, curvature_fraction=0.6, progress=False)
    lr1 = _escape_steps(XS, YS, alpha, 2.0, 0.3, 0.02, n)
    assert run["lr_escape"] == pytest.approx(lr1, rel=1e-12)
    assert run["lr_converge"] == pytest.approx(_curvature_steps(XS, YS, run["u"], run["v"], 0.6, n), rel=1e-10)
    assert np.allclose(run["beta"], run["u"] ** 2 - run["v"] ** 2, rtol=0, atol=1e-15)
    start = _eta_g(lr1, XS, YS, np.zeros((2, 6)), n)
    end = _eta_g(run["lr_converge"], XS, YS, run["beta"], n)
    assert run["eta_g"] == pytest.approx(np.maximum(start, end), rel=1e-9)
    assert start[1] == pytest.approx(0.02, rel=1e-12)            # the rich member is growth-limited
    # the loss at the end of the escape phase, from the returned β
    assert run["loss"] == pytest.approx(_mse(XS, YS, run["beta"]), rel=1e-9)
    assert run["history"].shape[1] == 2 and run["history"][-1] == pytest.approx(run["loss"], rel=1e-12)
    assert run["history"][0] == pytest.approx(np.mean(YS ** 2, axis=1), rel=1e-12)   # β = 0 at step 0
    assert run["steps"][0] == 0 and run["steps"][-1] == 40 and len(run["steps"]) == len(run["history"])
    assert not run["diverged"].any() and run["diverged"].shape == (2,)


def test_two_phase_loss_history_and_steps():
    """With both phases: ``loss`` is the loss of the returned β (by hand) and the last entry of the history;
    the record steps run from 0 to escape_steps + converge_steps without going back; the loss falls from
    mean(y²) (β = 0)."""
    alpha = np.array([3.0, 0.05])
    run = ib.train_diagonal_networks(XS, YS, alpha, escape_steps=40, converge_steps=30, beta_max=2.0,
                                     growth_step=0.02, progress=False)
    assert run["loss"] == pytest.approx(_mse(XS, YS, run["beta"]), rel=1e-9)
    assert run["history"][-1] == pytest.approx(run["loss"], rel=1e-12)
    steps = run["steps"]
    assert steps[0] == 0 and steps[-1] == 70 and np.all(np.diff(steps) >= 0)
    assert np.all(run["history"][-1] < 0.9 * run["history"][0])
    # the loss of the second phase, at its second record, is below that at the end of the first
    assert np.all(run["history"][-1] <= run["history"][steps.tolist().index(40)])


def test_padded_member_uses_its_own_sample_count():
    """Member 0 has 2 real samples (its third row is zero padding): its escape step and η g use n = 2, member 1
    uses n = 3 (the same formulas as for an unpadded problem)."""
    Xp, yp = XS.copy(), YS.copy()
    Xp[0, 2], yp[0, 2] = 0.0, 0.0
    w = np.ones((2, 3))
    w[0, 2] = 0.0
    n = np.array([2.0, 3.0])
    alpha = np.array([3.0, 0.05])
    run = ib.train_diagonal_networks(Xp, yp, alpha, escape_steps=20, converge_steps=0, beta_max=2.0,
                                     growth_step=0.02, sample_weight=w, progress=False)
    lr1 = _escape_steps(Xp, yp, alpha, 2.0, 0.25, 0.02, n)
    assert run["lr_escape"] == pytest.approx(lr1, rel=1e-12)
    assert run["lr_converge"] == pytest.approx(_curvature_steps(Xp, yp, run["u"], run["v"], 0.5, n), rel=1e-10)
    expected = np.maximum(_eta_g(lr1, Xp, yp, np.zeros((2, 6)), n),
                          _eta_g(run["lr_converge"], Xp, yp, run["beta"], n))
    assert run["eta_g"] == pytest.approx(expected, rel=1e-9)
    assert run["loss"] == pytest.approx([np.mean((Xp[0, :2] @ run["beta"][0] - yp[0, :2]) ** 2),
                                         np.mean((Xp[1] @ run["beta"][1] - yp[1]) ** 2)], rel=1e-9)


def test_member_diverging_in_the_escape_phase():
    """β_max far too small for the rich member (α = 0.01) and no growth limit: its escape step is ~50 n/λ and it
    diverges at once; the lazy member (α = 3, step far below 2/λ_max) is not affected. The lost member gets
    convergence step 0, NaN weights, β and loss, NaN history through the convergence phase, and
    ``diverged`` True."""
    X, _, y = ib.sparse_regression(3, 6, 2, draws=1, seed=5)
    X2, y2 = np.repeat(X, 2, 0), np.repeat(y, 2, 0)
    run = ib.train_diagonal_networks(X2, y2, np.array([3.0, 0.01]), escape_steps=30, converge_steps=20,
                                     beta_max=1e-3, growth_step=1e3, progress=False)
    assert run["diverged"].tolist() == [False, True]
    assert run["lr_converge"][1] == 0.0 and run["lr_converge"][0] > 0
    assert np.all(np.isnan(run["u"][1])) and np.all(np.isnan(run["v"][1])) and np.all(np.isnan(run["beta"][1]))
    assert np.isnan(run["loss"][1]) and np.isnan(run["history"][-1, 1])
    assert np.all(np.isfinite(run["beta"][0])) and np.isfinite(run["loss"][0])
    assert run["loss"][0] == pytest.approx(_mse(X2[:1], y2[:1], run["beta"][:1])[0], rel=1e-9)


def test_progress_bars_are_shown_by_default_with_their_labels(capfd):
    """progress=True is the default: both phases show a bar labelled "<desc>: escape" / "<desc>: convergence"
    (desc "diagonal networks" by default). One member with α given as a number; device "cpu" by name."""
    X, _, y = ib.sparse_regression(2, 3, 1, draws=1, seed=1)
    run = ib.train_diagonal_networks(X, y, 0.5, escape_steps=3, converge_steps=2, beta_max=1.0, device="cpu")
    err = capfd.readouterr().err
    assert "diagonal networks: escape" in err and "diagonal networks: convergence" in err
    assert run["beta"].shape == (1, 3)
    # the defaults growth_step = 0.01 and curvature_fraction = 0.5 (half of it, 0.25, in the escape phase)
    assert run["lr_escape"] == pytest.approx(_escape_steps(X, y, [0.5], 1.0, 0.25, 0.01, [2.0]), rel=1e-12)
    ib.train_diagonal_networks(X, y, [0.5], escape_steps=3, converge_steps=2, beta_max=1.0, desc="toy")
    err = capfd.readouterr().err
    assert "toy: escape" in err and "toy: convergence" in err
    ib.train_diagonal_networks(X, y, [0.5], escape_steps=3, converge_steps=2, beta_max=1.0, progress=False)
    assert "escape" not in capfd.readouterr().err


def test_lr_escape_of_a_diverged_member_is_the_step_it_trained_with():
    """lr_escape is the escape step of learning_rates for every member, also for one that diverged with it
    (curvature_fraction 0.5 → 0.25 in the escape phase, growth_step 1e3: the curvature limit binds)."""
    X, _, y = ib.sparse_regression(3, 6, 2, draws=1, seed=5)
    X2, y2 = np.repeat(X, 2, 0), np.repeat(y, 2, 0)
    run = ib.train_diagonal_networks(X2, y2, np.array([3.0, 0.01]), escape_steps=30, converge_steps=20,
                                     beta_max=1e-3, growth_step=1e3, progress=False)
    assert run["diverged"].tolist() == [False, True]
    assert run["lr_escape"] == pytest.approx(_escape_steps(X2, y2, [3.0, 0.01], 1e-3, 0.25, 1e3, [3.0, 3.0]),
                                             rel=1e-12)
