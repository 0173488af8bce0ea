"""Implicit bias of the initial scale: the diagonal linear network β = u⊙u − v⊙v.

Used by the chapter "What does a small initialisation buy? Implicit bias in diagonal linear networks"
(book/04_feature_learning/04_implicit_bias), after Woodworth et al. (2020), "Kernel and rich regimes in
overparametrized models".

The model is the linear predictor f(x) = x·β with β = u⊙u − v⊙v, u, v ∈ R^d, started at u = v = α·1
(so β₀ = 0), trained on n < d samples (X ∈ R^{n×d}, y = Xβ*) by gradient flow on the mean squared error

    L(u, v) = (1/n) Σ_μ (x_μ·β − y_μ)² = (1/n) ‖Xβ − y‖²                       (the course's convention)

(the mean of :func:`course_utils.ensemble.mse_per_sample`, without a factor ½). With the residual
r = Xβ − y the flow is u̇ = −(4/n) u⊙Xᵀr, v̇ = +(4/n) v⊙Xᵀr: multiplicative. Writing
ν(t) = −(8/n) ∫₀ᵗ r dt', it integrates to u = α e^{Xᵀν/2}, v = α e^{−Xᵀν/2}, so u⊙v = α² stays fixed and

    β(t) = 2α² sinh(Xᵀν(t)),   i.e.   arcsinh(β/(2α²)) = Xᵀν ∈ row space of X.    (mirror descent)

If the flow reaches an interpolator (Xβ = y), the pair (β, ν) is exactly the KKT point of

    min Q_α(β)  subject to  Xβ = y,   Q_α(β) = α² Σ_i q(β_i/α²),
    q(z) = 2 − √(4 + z²) + z·arcsinh(z/2),                                         (Woodworth et al., Thm 1)

because ∇Q_α(β)_i = q'(β_i/α²) = arcsinh(β_i/(2α²)). The normalisation of the loss only rescales time:
the limit does not depend on it. Limits: q(z) ≈ z²/4 for |z| ≪ 1, so Q_α(β) ≈ ‖β‖²/(4α²) for α → ∞
(the minimum-ℓ2 interpolator, which is also kernel regression with the tangent kernel at initialisation,
Θ₀ = 8α² XXᵀ); q(z) ≈ |z|(ln|z| − 1) + 2 for |z| ≫ 1, so Q_α(β) ≈ ln(1/α²)‖β‖₁ + Σ|β_i|(ln|β_i| − 1) for
α → 0 (the minimum-ℓ1 interpolator).

Each coordinate is the scalar two-layer model of the lazy/rich chapter (theory.lazy_rich) with
weight-to-target ratio ρ_i = 2α²/|β_i|: the relative weight change and the tangent-kernel change at
convergence follow from the interpolator alone (:func:`relative_weight_change`, :func:`tangent_kernel`).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import linprog
from torch import nn

from .. import validate as V

__all__ = ["q", "q_prime", "potential", "potential_large_alpha", "potential_small_alpha",
           "interpolator", "dual_to_beta", "min_l2_interpolator", "min_l1_interpolator",
           "sparse_regression", "relative_weight_change", "tangent_kernel", "relative_kernel_change",
           "weight_to_target_ratio", "statistical_dimension_l1", "DiagonalNetworks",
           "learning_rates", "curvature_learning_rates", "train_diagonal_networks"]


# --- validation -------------------------------------------------------------------------------

def _alpha(alpha) -> float:
    return V.positive("alpha (the initial scale)", alpha)


def _finite(name: str, value) -> np.ndarray:
    """A number or an array of numbers as a float array, every entry finite (NaN and ±inf refused)."""
    return V.array(name, value, allow_empty=True)


def _alpha_per_coordinate(alpha, d: int) -> np.ndarray:
    """α as a (d,) array: one number for every coordinate, or one per coordinate (e.g. the effective
    scale √(u_i v_i) that gradient descent with a finite step ends with)."""
    try:
        a = V.array("alpha", alpha, ndim=(0, 1), finite=False)
    except V.ArgumentError:
        raise V.ArgumentError(f"alpha must be a positive number or one per coordinate, got {V.show(alpha)}") from None
    if a.ndim == 0:
        a = np.full(d, float(a))
    if a.shape != (d,):
        raise V.ArgumentError(f"alpha must be a number or have one entry per coordinate ({d},), got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise V.ArgumentError(f"alpha (the initial scale) must be positive and finite, got {V.show(alpha)}")
    return a


def _problem(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = V.array("X", X, finite=False, allow_empty=True)
    y = V.array("y", y, finite=False, allow_empty=True)
    if X.ndim != 2 or X.size == 0:
        raise V.ArgumentError(f"X must be an (n, d) matrix of inputs, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise V.ArgumentError(f"y must have one entry per row of X, shape ({X.shape[0]},), got {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise V.ArgumentError("X and y must be finite (no NaN or inf)")
    if np.linalg.matrix_rank(X) < X.shape[0]:
        raise V.ArgumentError(f"X must have full row rank n = {X.shape[0]} (n ≤ d, rows independent), so that "
                         "an interpolator exists for every y")
    return X, y


def _leading_axes(X: np.ndarray, name: str, per_coordinate: np.ndarray) -> None:
    """X (…, n, d) and a per-coordinate array (…, d) must agree on their leading (batch) axes."""
    try:
        np.broadcast_shapes(X.shape[:-2], per_coordinate.shape[:-1])
    except ValueError:
        raise V.ArgumentError(f"X of shape {X.shape} (…, n, d) and {name} of shape {per_coordinate.shape} (…, d) "
                              "must have the same leading axes") from None


# --- the potential --------------------------------------------------------------------------------

def q(z):
    """q(z) = 2 − √(4 + z²) + z·arcsinh(z/2), the one-coordinate potential of Woodworth et al. (2020).

    Evaluated as z·arcsinh(z/2) − z²/(2 + √(4 + z²)) (no cancellation at small z). q(0) = 0, q ≥ 0,
    q(z) ≈ z²/4 for |z| ≪ 1 and ≈ |z|(ln|z| − 1) + 2 for |z| ≫ 1; q'(z) = arcsinh(z/2).
    """
    z = _finite("z", z)
    return z * np.arcsinh(z / 2) - z * z / (2 + np.sqrt(4 + z * z))


def q_prime(z):
    """q'(z) = arcsinh(z/2): the mirror map of the flow (∇Q_α(β) = arcsinh(β/(2α²)))."""
    return np.arcsinh(_finite("z", z) / 2)


def potential(beta, alpha) -> np.ndarray:
    """Q_α(β) = α² Σ_i q(β_i/α²) over the last axis of ``beta`` (eq-implicitbias-potential)."""
    a2 = _alpha(alpha) ** 2
    beta = _finite("beta", beta)
    return a2 * q(beta / a2).sum(axis=-1)


def potential_large_alpha(beta, alpha) -> np.ndarray:
    """The lazy limit of Q_α: ‖β‖²/(4α²) (from q(z) ≈ z²/4); relative error O(‖β‖²_∞/α⁴)."""
    a2 = _alpha(alpha) ** 2
    beta = _finite("beta", beta)
    return (beta ** 2).sum(axis=-1) / (4 * a2)


def potential_small_alpha(beta, alpha) -> np.ndarray:
    """The rich limit of Q_α: ln(1/α²)‖β‖₁ + Σ_{β_i≠0} |β_i|(ln|β_i| − 1) (from q(z) ≈ |z|(ln|z| − 1) + 2).

    The leading term is the ℓ1 norm with weight ln(1/α²); the error is O(α²) per non-zero coordinate
    (the constant 2α² and the next term α⁴/|β_i|).
    """
    a2 = _alpha(alpha) ** 2
    beta = np.abs(_finite("beta", beta))
    safe = np.where(beta > 0, beta, 1.0)
    entropy = np.where(beta > 0, beta * (np.log(safe) - 1), 0.0)
    return math.log(1 / a2) * beta.sum(axis=-1) + entropy.sum(axis=-1)


# --- the interpolators ------------------------------------------------------------------------------

def dual_to_beta(z, alpha) -> np.ndarray:
    """β = 2α² sinh(z) for z = Xᵀν, computed as sign(z)·exp(|z| + ln α²)·(1 − e^{−2|z|}) (no overflow of
    sinh where α² is tiny and |z| large). ``alpha``: a number, or an array broadcasting against z."""
    a = V.array("alpha", alpha, finite=False, allow_empty=True)
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise V.ArgumentError(f"alpha (the initial scale) must be positive and finite, got {alpha!r}")
    z = _finite("z", z)
    V.broadcast(z=z, alpha=a)
    return np.sign(z) * np.exp(np.abs(z) + 2 * np.log(a)) * -np.expm1(-2 * np.abs(z))


def _dual_objective(z, nu, y, la2):
    """F(ν) = 2α² Σ cosh(Xᵀν) − yᵀν (convex; its minimiser gives the Q_α-interpolator). inf on overflow."""
    e = np.abs(z) + la2
    if np.max(e) > 300:   # β would exceed e^300: far from any interpolator (and its square must not overflow)
        return math.inf
    return float(np.sum(np.exp(e) * (1 + np.exp(-2 * np.abs(z)))) - y @ nu)


def interpolator(X, y, alpha, *, tol: float = 1e-12, max_iter: int = 500, return_dual: bool = False):
    """The interpolator gradient flow reaches from u = v = α·1: argmin Q_α(β) s.t. Xβ = y.

    Solved exactly through its dual: β(ν) = 2α² sinh(Xᵀν) with ν the minimiser of the convex
    F(ν) = 2α² Σ_i cosh((Xᵀν)_i) − yᵀν, whose gradient X β(ν) − y vanishes at the interpolator. Damped
    Newton (Hessian X diag(2α² cosh Xᵀν) Xᵀ, backtracking on F, everything in the log domain so that
    α down to 1e-12 works) until ‖Xβ − y‖ ≤ tol·‖y‖. ``alpha`` is a number or one scale per coordinate
    (then Q = Σ_i α_i² q(β_i/α_i²)). Returns β (and ν with ``return_dual=True``).
    """
    X, y = _problem(X, y)
    a = _alpha_per_coordinate(alpha, X.shape[1])
    tol = V.positive("tol", tol)  # tol = 0 asks for an exact zero residual, which rounding never gives
    max_iter = V.positive_int("max_iter", max_iter)
    la2 = 2 * np.log(a)
    ynorm = float(np.linalg.norm(y))
    if ynorm == 0:
        beta, nu = np.zeros(X.shape[1]), np.zeros(X.shape[0])
        return (beta, nu) if return_dual else beta
    # start from the lazy solution, scaled down if it would overflow (the Newton steps take it from there)
    nu = np.linalg.solve((X * (2 * a * a)) @ X.T, y)
    zmax = np.max(np.abs(X.T @ nu))
    cap = max(1.0, -float(la2.min()) + math.log(ynorm + 1.0))
    if zmax > cap:
        nu *= cap / zmax
    z = X.T @ nu
    F = _dual_objective(z, nu, y, la2)
    for _ in range(max_iter):
        beta = dual_to_beta(z, a)
        grad = X @ beta - y
        gnorm = float(np.linalg.norm(grad))
        if gnorm <= tol * ynorm:
            break
        curv = np.exp(np.abs(z) + la2) * (1 + np.exp(-2 * np.abs(z)))   # 2α² cosh z
        H = (X * curv) @ X.T
        step = -np.linalg.solve(H, grad)
        slope = float(grad @ step)
        t = 1.0
        while True:
            nu_new = nu + t * step
            z_new = X.T @ nu_new
            F_new = _dual_objective(z_new, nu_new, y, la2)
            if F_new <= F + 1e-4 * t * slope or t < 1e-12:
                break
            # near the solution F's decrease drowns in its rounding: accept a step that halves the gradient
            if F_new < math.inf and np.linalg.norm(X @ dual_to_beta(z_new, a) - y) <= 0.5 * gnorm:
                break
            t *= 0.5
        if not F_new < math.inf:
            raise RuntimeError("the Newton iteration for the Q_α-interpolator overflowed; alpha too small?")
        nu, z, F = nu_new, z_new, F_new
    else:
        raise RuntimeError(f"the Q_α-interpolator did not converge in {max_iter} Newton steps "
                           f"(residual {gnorm / ynorm:.2e} relative)")
    beta = dual_to_beta(z, a)
    return (beta, nu) if return_dual else beta


def min_l2_interpolator(X, y) -> np.ndarray:
    """argmin ‖β‖₂ s.t. Xβ = y: β = Xᵀ(XXᵀ)⁻¹y. Also the lazy limit (kernel regression with Θ₀ ∝ XXᵀ)."""
    X, y = _problem(X, y)
    return X.T @ np.linalg.solve(X @ X.T, y)


def min_l1_interpolator(X, y) -> np.ndarray:
    """argmin ‖β‖₁ s.t. Xβ = y (basis pursuit), as the linear program min 1ᵀ(p + m) s.t. X(p − m) = y,
    p, m ≥ 0 (scipy's HiGHS). The rich limit α → 0 of the flow."""
    X, y = _problem(X, y)
    n, d = X.shape
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None), method="highs",
                  options=dict(primal_feasibility_tolerance=1e-10, dual_feasibility_tolerance=1e-10))
    if res.status != 0:
        raise RuntimeError(f"basis pursuit failed: {res.message}")
    return res.x[:d] - res.x[d:]


# --- data -----------------------------------------------------------------------------------------

def sparse_regression(n: int, d: int, k: int, *, draws: int = 1, seed: int = 0):
    """``draws`` problems: X with i.i.d. N(0, 1) entries, shape (draws, n, d); β* with k non-zero entries ±1
    on a random support (signs random), shape (draws, d); y = Xβ*, shape (draws, n). For inputs
    x ~ N(0, I_d) the test error of a predictor β is E[(x·β − x·β*)²] = ‖β − β*‖²."""
    n, d, k, draws = (V.positive_int(name, v) for name, v in (("n", n), ("d", d), ("k", k), ("draws", draws)))
    if k > d:
        raise V.ArgumentError(f"the sparsity k = {k} cannot exceed the dimension d = {d}")
    g = V.generator("seed", seed)
    X = g.standard_normal((draws, n, d))
    beta = np.zeros((draws, d))
    for j in range(draws):
        support = g.choice(d, size=k, replace=False)
        beta[j, support] = g.choice([-1.0, 1.0], size=k)
    return X, beta, np.einsum("jnd,jd->jn", X, beta)


# --- the lazy/rich view ---------------------------------------------------------------------------

def weight_to_target_ratio(beta, alpha) -> np.ndarray:
    """Per coordinate ρ_i = 2α²/|β_i| (∞ where β_i = 0): the weight-to-target ratio of the scalar model of
    the lazy/rich chapter for the pair (u_i, v_i), whose initial ‖θ₀‖² is 2α² and whose smallest weights
    representing β_i have ‖θ‖² = |β_i|."""
    a2 = _alpha(alpha) ** 2
    beta = np.abs(_finite("beta", beta))
    with np.errstate(divide="ignore"):
        return np.where(beta > 0, 2 * a2 / np.where(beta > 0, beta, 1.0), np.inf)


def relative_weight_change(beta, alpha) -> np.ndarray:
    """‖θ_∞ − θ₀‖/‖θ₀‖ of the network whose flow ended at β (θ = (u, v), θ₀ = α·1):

        ‖θ_∞ − θ₀‖² / ‖θ₀‖² = (2/d) Σ_i cosh w_i (cosh w_i − 1),   sinh 2w_i = β_i/(2α²),

    since u_i = α e^{w_i}, v_i = α e^{−w_i}. Per coordinate this is the scalar model's Δ(ρ_i)² (lazy_rich),
    so the result is √(mean_i Δ(ρ_i)²). Over the last axis of ``beta``.
    """
    a2 = _alpha(alpha) ** 2
    beta = _finite("beta", beta)
    if beta.ndim == 0 or beta.shape[-1] == 0:
        raise V.ArgumentError(f"beta must have the coordinates on its last axis (shape (…, d), d ≥ 1), got {beta!r}")
    w = 0.5 * np.arcsinh(beta / (2 * a2))
    return np.sqrt(2 * np.mean(np.cosh(w) * 2 * np.sinh(w / 2) ** 2, axis=-1))   # cosh w − 1 = 2 sinh²(w/2)


def tangent_kernel(X, u, v) -> np.ndarray:
    """Θ(x_μ, x_ν) = ∇_θ f(x_μ)·∇_θ f(x_ν) = 4 Σ_i (u_i² + v_i²) x_μi x_νi, i.e. 4 X diag(u² + v²) Xᵀ.

    At initialisation 8α² XXᵀ; on the flow u_i² + v_i² = √(β_i² + 4α⁴), so the kernel at convergence
    follows from the interpolator: ``tangent_kernel(X, *weights_from_beta(beta, alpha))``."""
    X = V.array("X", X)
    u, v = V.array("u", u), V.array("v", v)
    if X.ndim < 2:
        raise V.ArgumentError(f"X must have shape (…, n, d), got shape {X.shape}")
    if u.shape != v.shape or u.ndim == 0:
        raise V.ArgumentError(f"u and v must have the same shape (…, d), got {u.shape} and {v.shape}")
    s = u ** 2 + v ** 2
    if s.shape[-1] != X.shape[-1]:
        raise V.ArgumentError(f"u and v must have one entry per input dimension ({X.shape[-1]}), got {s.shape}")
    _leading_axes(X, "u", s)
    return 4 * np.einsum("...ni,...i,...mi->...nm", X, s, X)


def relative_kernel_change(X, beta, alpha) -> np.ndarray:
    """‖Θ_∞ − Θ₀‖_F/‖Θ₀‖_F with Θ₀ = 8α²XXᵀ and Θ_∞ = 4X diag(√(β² + 4α⁴))Xᵀ (the flow keeps u⊙v = α²)."""
    a2 = _alpha(alpha) ** 2
    X = V.array("X", X)
    beta = _finite("beta", beta)
    if X.ndim < 2 or beta.ndim == 0 or beta.shape[-1] != X.shape[-1]:
        raise V.ArgumentError(f"X must have shape (…, n, d) and beta (…, d) with the same d, got {X.shape} and "
                              f"{beta.shape}")
    _leading_axes(X, "beta", beta)
    if np.any(np.linalg.norm(X, axis=(-2, -1)) == 0):
        raise V.ArgumentError("X is zero: the kernel Θ₀ = 8α²XXᵀ vanishes and its relative change is undefined")
    s_inf = np.sqrt(beta ** 2 + 4 * a2 * a2)
    diff = 4 * np.einsum("...ni,...i,...mi->...nm", X, s_inf - 2 * a2, X)
    K0 = 8 * a2 * np.einsum("...ni,...mi->...nm", X, X)
    return np.linalg.norm(diff, axis=(-2, -1)) / np.linalg.norm(K0, axis=(-2, -1))


# --- the sparse-recovery threshold ------------------------------------------------------------------

def statistical_dimension_l1(d: int, k: int) -> float:
    """The statistical dimension of the descent cone of ‖·‖₁ at a k-sparse vector in R^d (Amelunxen et
    al. 2014): δ = min_{τ ≥ 0} [ k(1 + τ²) + 2(d − k)((1 + τ²)Φ̄(τ) − τφ(τ)) ], with φ, Φ̄ the standard
    normal density and tail. Basis pursuit with n Gaussian measurements recovers the vector with
    probability → 1 for n above δ and → 0 below, with a transition of width O(√d)."""
    from scipy.optimize import minimize_scalar
    from scipy.stats import norm

    d, k = V.positive_int("d", d), V.positive_int("k", k)
    if k > d:
        raise V.ArgumentError(f"need integers 1 ≤ k ≤ d, got d={d!r}, k={k!r}")
    if k == d:
        return float(d)

    def f(tau):
        return k * (1 + tau ** 2) + 2 * (d - k) * ((1 + tau ** 2) * norm.sf(tau) - tau * norm.pdf(tau))

    res = minimize_scalar(f, bounds=(0.0, 10.0), method="bounded", options=dict(xatol=1e-10))
    return float(res.fun)


# --- the network and its training ------------------------------------------------------------------

class DiagonalNetworks(nn.Module):
    """K diagonal linear networks f_k(x) = x·(u_k⊙u_k − v_k⊙v_k), each started at u_k = v_k = α_k·1.

    Parameters ``u``, ``v`` of shape (K, d) (a leading member axis, for :func:`course_utils.ensemble.
    train_ensemble` and the batched optimisers). ``forward(X)`` takes per-member inputs (K, N, d) and
    returns (K, N, 1).
    """

    def __init__(self, alpha, d: int, *, dtype=torch.float64):
        super().__init__()
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise V.ArgumentError(f"dtype must be a floating torch dtype (torch.float64, torch.float32), got "
                                  f"{V.show(dtype)}")
        a_np = V.array("alpha", alpha, ndim=(0, 1), finite=False, allow_empty=True)
        a = torch.as_tensor(a_np, dtype=dtype).reshape(-1)
        if a.numel() == 0 or not torch.isfinite(a).all() or (a <= 0).any():
            raise V.ArgumentError(f"alpha must be positive and finite, one entry per member, got {alpha!r}")
        d = V.positive_int("d", d)
        self.n_members, self.d = a.numel(), int(d)
        self.register_buffer("alpha", a)
        self.u = nn.Parameter(a[:, None].expand(-1, self.d).clone())
        self.v = nn.Parameter(a[:, None].expand(-1, self.d).clone())

    @property
    def beta(self) -> torch.Tensor:
        """β_k = u_k⊙u_k − v_k⊙v_k, shape (K, d)."""
        return self.u * self.u - self.v * self.v

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """f_k(x) = x·β_k for per-member inputs X (K, N, d) → (K, N, 1); NumPy or another float dtype converted."""
        X = V.tensor("X", X, dtype=self.u.dtype, allow_empty=True, finite=False)
        if X.dim() != 3 or X.shape[0] != self.n_members or X.shape[2] != self.d:
            raise V.ArgumentError(f"X must have shape ({self.n_members}, N, {self.d}) (one data set per member), "
                             f"got {tuple(X.shape)}")
        return torch.einsum("knd,kd->kn", X, self.beta).unsqueeze(-1)


def learning_rates(X, y, alpha, *, beta_max: float, curvature_fraction: float = 0.25,
                   growth_step: float = 0.01, n_samples=None) -> np.ndarray:
    """A stable gradient-descent step per member for L = (1/n)‖Xβ − y‖² on the diagonal network.

    Two limits (per member, X of shape (K, n, d), y (K, n), alpha (K,)):

    - curvature: the Hessian near an interpolator is (2/n)JᵀJ with top eigenvalue (2/n)λ_max(Θ) ≤
      (8/n)(2α² + β_max)λ_max(XXᵀ) (u² + v² = √(β² + 4α⁴) ≤ |β| + 2α²); the step is
      ``curvature_fraction`` × 2/(that bound), so the lazy members (Θ ∝ α²) take steps ∝ 1/α²;
    - growth: at the start u, v change by the factor (1 ∓ η g), g = (4/n)Xᵀr; the step keeps
      η‖g₀‖_∞ = η(4/n)‖Xᵀy‖_∞ ≤ ``growth_step``, so that the discrete factors follow the flow's
      exponentials e^{∓ηg} (the rich members escape from α by this growth).

    ``n_samples`` (K,): each member's number of samples where X, y are padded with zero rows (and the
    loss averages over the real samples only, as ``train_ensemble`` does with a 0/1 ``sample_weight``).
    """
    X, y = V.array("X", X, allow_empty=True), V.array("y", y, allow_empty=True)
    alpha = V.array("alpha", alpha, allow_empty=True).reshape(-1)
    if X.ndim != 3 or X.size == 0 or y.shape != X.shape[:2] or alpha.shape != (X.shape[0],):
        raise V.ArgumentError(f"need X (K, n, d), y (K, n) and alpha (K,); got {X.shape}, {y.shape}, {alpha.shape}")
    if np.any(alpha <= 0):
        raise V.ArgumentError(f"alpha (the initial scales) must be positive, got {V.show(alpha)}")
    beta_max, growth_step = V.positive("beta_max", beta_max), V.positive("growth_step", growth_step)
    curvature_fraction = V.real("curvature_fraction", curvature_fraction, low=0.0, high=1.0, low_open=True)
    n = np.full(X.shape[0], X.shape[1], dtype=float) if n_samples is None else V.array("n_samples", n_samples)
    if n.shape != alpha.shape or np.any(n < 1):
        raise V.ArgumentError(f"n_samples must have one positive entry per member, got {n_samples!r}")
    if np.any(np.abs(X).max(axis=(1, 2)) == 0):
        raise V.ArgumentError("X must be non-zero for every member (else no step size follows)")
    lam = np.linalg.eigvalsh(np.einsum("kni,kmi->knm", X, X))[:, -1]
    curvature = curvature_fraction * 2 * n / (8 * (2 * alpha ** 2 + beta_max) * lam)
    growth = growth_step * n / (4 * np.abs(np.einsum("kni,kn->ki", X, y)).max(axis=1))
    return np.minimum(curvature, growth)


def curvature_learning_rates(X, y, u, v, *, fraction: float = 0.5, n_samples=None) -> np.ndarray:
    """A gradient-descent step per member from the curvature at the current weights (u, v of shape (K, d)):

        η_k = fraction · 2/λ̄_k,   λ̄ = (2/n) λ_max(4X diag(u² + v²)Xᵀ) + (4/n)‖Xᵀr‖_∞ ≥ λ_max(∇²L),

    the Gauss–Newton part (2/n)JᵀJ (whose non-zero spectrum is that of the tangent kernel Θ) plus a
    bound on the residual part, diag(±(4/n)Xᵀr). Used once the weights are near their final size,
    where it allows much larger steps than :func:`learning_rates`.
    """
    X, y = V.array("X", X, allow_empty=True), V.array("y", y, allow_empty=True)
    u, v = V.array("u", u, allow_empty=True), V.array("v", v, allow_empty=True)
    if X.ndim != 3 or X.size == 0 or y.shape != X.shape[:2] or u.shape != (X.shape[0], X.shape[2]) \
            or v.shape != u.shape:
        raise V.ArgumentError(f"need X (K, n, d), y (K, n), u and v (K, d); got {X.shape}, {y.shape}, {u.shape}, {v.shape}")
    fraction = V.real("fraction", fraction, low=0.0, high=1.0, low_open=True)
    n = np.full(X.shape[0], X.shape[1], dtype=float) if n_samples is None else V.array("n_samples", n_samples)
    if n.shape != (X.shape[0],) or np.any(n < 1):
        raise V.ArgumentError(f"n_samples must have one positive entry per member, got {n_samples!r}")
    theta = tangent_kernel(X, u, v)
    r = np.einsum("kni,ki->kn", X, u * u - v * v) - y
    lam = 2 / n * np.linalg.eigvalsh(theta)[:, -1] + 4 / n * np.abs(np.einsum("kni,kn->ki", X, r)).max(axis=1)
    if np.any(lam == 0):
        raise V.ArgumentError("the curvature bound is zero for some member (X or u² + v² zero): no step size follows")
    return fraction * 2 / lam


def train_diagonal_networks(X, y, alpha, *, escape_steps: int, converge_steps: int, beta_max: float,
                            growth_step: float = 0.01, curvature_fraction: float = 0.5, sample_weight=None,
                            progress: bool = True, desc: str = "diagonal networks", device=None) -> dict:
    """Gradient descent on K diagonal networks (one data set and one α per member), in two phases.

    Loss L_k = (1/n_k) Σ_μ (x_μ·β_k − y_μ)² (``train_ensemble`` with ``mse_per_sample``), from u = v = α_k·1:

    1. ``escape_steps`` steps with the step of :func:`learning_rates` (small enough that the
       multiplicative growth out of the small initialisation follows the flow);
    2. ``converge_steps`` steps with the larger step of :func:`curvature_learning_rates`, computed from
       the weights at the end of phase 1 (``curvature_fraction`` of the stability limit).

    X: (K, N, d), y: (K, N); ``sample_weight`` (K, N) 0/1 marks each member's samples when the data sets
    have different sizes (rows with weight 0 must be zero). ``device``: where to train (default: the CPU);
    the results come back as NumPy arrays. Returns a dict with ``u``, ``v``, ``beta``
    (K, d) NumPy arrays, ``loss`` (K,) at the end, ``history`` (the loss at the record steps of both
    phases, shape (records, K), and ``steps``), the two steps ``lr_escape``, ``lr_converge`` (K,), and
    ``eta_g`` (K,): the larger of max_i|η g_i| at the start of each phase (g = (4/n)Xᵀr, which falls as
    the residual does), the size of the per-step factors (1 ∓ ηg) that set the finite-step corrections.
    """
    from ..ensemble import BatchedSGD, mse_per_sample, train_ensemble

    X = V.array("X", X, ndim=3)
    y = V.array("y", y)
    alpha = V.array("alpha", alpha).reshape(-1)
    if X.ndim != 3 or y.shape != X.shape[:2] or alpha.shape != (X.shape[0],):
        raise V.ArgumentError(f"need X (K, N, d), y (K, N) and alpha (K,); got {X.shape}, {y.shape}, {alpha.shape}")
    if np.any(alpha <= 0):
        raise V.ArgumentError(f"alpha (the initial scales) must be positive, got {alpha.tolist()}")
    escape_steps = V.nonnegative_int("escape_steps", escape_steps)
    converge_steps = V.nonnegative_int("converge_steps", converge_steps)
    beta_max, growth_step = V.positive("beta_max", beta_max), V.positive("growth_step", growth_step)
    curvature_fraction = V.positive("curvature_fraction", curvature_fraction)
    n_samples = None
    if sample_weight is not None:
        sample_weight = V.array("sample_weight", sample_weight)
        if sample_weight.shape != X.shape[:2] or not np.all((sample_weight == 0) | (sample_weight == 1)):
            raise ValueError(f"sample_weight must be a 0/1 array of shape {X.shape[:2]}")
        if np.any(X[sample_weight == 0] != 0) or np.any(y[sample_weight == 0] != 0):
            raise ValueError("rows of X and y with sample_weight 0 must be zero (padding)")
        n_samples = sample_weight.sum(axis=1)
    K, _, d = X.shape
    device = torch.device("cpu") if device is None else V.device("device", device)
    Xt, yt = torch.tensor(X, device=device), torch.tensor(y, device=device)[..., None]
    net = DiagonalNetworks(alpha, d).to(device)
    lr1 = learning_rates(X, y, alpha, beta_max=beta_max, growth_step=growth_step, n_samples=n_samples,
                         curvature_fraction=curvature_fraction / 2)
    kw = dict(per_member_data=True, sample_weight=sample_weight, progress=progress)
    n = np.full(K, X.shape[1], dtype=float) if n_samples is None else n_samples

    def eta_g(lr):   # the largest |η g_i| = η (4/n)|Xᵀr|_i at the current weights (padded rows give r = 0)
        with torch.no_grad():
            beta = net.beta.cpu().numpy()
        r = np.einsum("kni,ki->kn", X, beta) - y
        return lr * 4 / n * np.abs(np.einsum("kni,kn->ki", X, r)).max(axis=1)

    eta_g_start = eta_g(lr1)
    h1 = train_ensemble(net, mse_per_sample, Xt, yt, steps=escape_steps, optimizer=BatchedSGD(net.parameters(), lr=lr1),
                        desc=f"{desc}: escape", **kw)
    with torch.no_grad():
        u, v = net.u.cpu().numpy().copy(), net.v.cpu().numpy().copy()
    lost = h1.diverged                        # diverged in phase 1 (frozen at zero): no phase 2 for them
    if lost.any():
        u[lost], v[lost] = alpha[lost, None], alpha[lost, None]     # any finite weights: their step is set to 0
    lr2 = curvature_learning_rates(X, y, u, v, fraction=curvature_fraction, n_samples=n_samples)
    lr2[lost] = 0.0
    eta_g_phase2 = eta_g(lr2)
    h2 = train_ensemble(net, mse_per_sample, Xt, yt, steps=converge_steps,
                        optimizer=BatchedSGD(net.parameters(), lr=lr2), desc=f"{desc}: convergence", **kw)
    with torch.no_grad():
        u, v = net.u.cpu().numpy().copy(), net.v.cpu().numpy().copy()
    h2_loss = h2["loss"]
    diverged = h1.diverged | h2.diverged
    if diverged.any():                        # the diverged members' weights and losses are NaN
        u[diverged], v[diverged] = np.nan, np.nan
        h2_loss = h2_loss.copy()
        h2_loss[:, lost] = np.nan
    return dict(u=u, v=v, beta=u * u - v * v, loss=h2_loss[-1] if converge_steps else h1["loss"][-1],
                history=np.concatenate([h1["loss"], h2_loss]), diverged=diverged,
                steps=np.concatenate([h1["step"], escape_steps + h2["step"]]), lr_escape=lr1, lr_converge=lr2,
                eta_g=np.maximum(eta_g_start, eta_g_phase2))
