"""Exact and asymptotic theory of linear regression: gradient descent mode by mode, interpolation,
ridge, and the double-descent curve. The chapter "Linear models and gradient flow"
(book/01_foundations/01_linear_models) uses all of it.

Conventions (the same as in the chapter):

* data: ``X`` of shape (N, D) (N samples, D features: the chapter writes P for the number of
  features a model uses once there can be more of them than samples, §3), labels ``y`` of shape (N,);
* loss: L(θ) = (1/2N) ‖Xθ − y‖², whose gradient is Σ̂θ − b with the empirical covariance
  Σ̂ = XᵀX/N and b = Xᵀy/N;
* population: features x ~ N(0, Σ) with Σ = diag(λ_1, …, λ_D) ("the spectrum"), labels
  y = x·w* + σξ with ξ ~ N(0, 1); the coefficients ``w_star`` are given in the eigenbasis of Σ;
* test error: E_(x,y)[(y − x·θ)²] = (θ − w*)ᵀ Σ (θ − w*) + σ², the label noise included;
* ridge: ρ, in the normalisation (1/2N)‖Xθ − y‖² + (ρ/2)‖θ‖² (λ always denotes an eigenvalue).

The estimators (:func:`min_norm_solution`, :func:`ridge_solution`, :func:`gd_limit`) and
:func:`population_test_error` accept leading batch dimensions (``X`` of shape (..., N, D)), so
averages over many independent draws are one vectorised call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from .. import validate
from ..validate import ArgumentError, Dims
from .kernels import gaussian_pair_expectation

__all__ = [
    "empirical_eigenbasis", "gd_mode_factor", "gradient_flow_mode_factor", "gd_solution",
    "population_test_error", "gd_test_error_modes",
    "min_norm_solution", "ridge_solution", "gd_limit",
    "effective_ridge", "RidgeRisk", "ridge_risk", "min_norm_risk_isotropic", "flat_tail_min_norm_errors",
    "effective_ranks",
    "relu_features_as_linear_problem",
]


def _as_spectrum(spectrum, name: str = "spectrum", dims: Dims | None = None) -> np.ndarray:
    """The eigenvalues λ_i ≥ 0 of a covariance: a non-empty 1-d float array, finite (named dimension D)."""
    lam = validate.array(name, spectrum, shape=("D",), dims=dims)
    if np.any(lam < 0):
        raise ArgumentError(f"{name}: the eigenvalues of a covariance must be non-negative, got entries down to "
                            f"{lam.min():g}")
    return lam


def _spectrum_and_teacher(spectrum, w_star, names=("spectrum", "w_star")) -> tuple[np.ndarray, np.ndarray]:
    dims = Dims()
    lam = _as_spectrum(spectrum, names[0], dims)
    w = validate.array(names[1], w_star, shape=("D",), dims=dims)
    return lam, w


def _noise(noise) -> float:
    return validate.nonnegative("noise (the label-noise level σ)", noise)


def _times(name: str, value) -> np.ndarray:
    """Steps or times: a number or a 1-d array of finite, non-negative numbers, as a 1-d float array."""
    t = np.atleast_1d(validate.array(name, value, ndim=(0, 1), allow_empty=True))
    if np.any(t < 0):
        raise ArgumentError(f"{name} must be non-negative, got entries down to {t.min():g}")
    return t


def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = validate.array("X", X)
    if X.ndim < 2:
        raise ArgumentError(f"X must have shape (..., N, D), got {X.shape}")
    y = validate.array("y", y, ndim=X.ndim - 1)
    if y.shape != X.shape[:-1]:
        raise ArgumentError(f"y must have shape {X.shape[:-1]} (one label per row of X, whose shape is {X.shape}), "
                            f"got {y.shape}")
    return X, y


def _solve(A: np.ndarray, B: np.ndarray, what: str) -> np.ndarray:
    """np.linalg.solve with a clear message when the matrix is singular."""
    try:
        return np.linalg.solve(A, B)
    except np.linalg.LinAlgError:
        raise ArgumentError(f"{what} is singular: the rows (or columns) of X are linearly dependent; use "
                            "ridge_solution with a small ridge > 0, or gd_limit (which uses the pseudo-inverse)") from None


# --------------------------------------------------------------------------------------------
# Gradient descent and gradient flow, mode by mode
# --------------------------------------------------------------------------------------------

def empirical_eigenbasis(X) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues λ̂_k (descending) and eigenvectors u_k (columns) of Σ̂ = XᵀX / N.

    Gradient descent on L(θ) = (1/2N)‖Xθ − y‖² is diagonal in this basis (§1 of the chapter).
    """
    X = validate.array("X", X, ndim=2)
    lam, U = np.linalg.eigh(X.T @ X / X.shape[0])
    return np.clip(lam[::-1], 0.0, None), U[:, ::-1]


def gd_mode_factor(eigenvalues, lr: float, steps) -> np.ndarray:
    """(1 − η λ_k)^t: the fraction of mode k's initial error left after t steps of gradient descent.

    Returns an array of shape (len(steps), len(eigenvalues)). The mode converges when
    |1 − ηλ_k| < 1, i.e. for η < 2/λ_k; it oscillates in sign when ηλ_k > 1.
    """
    lam = _as_spectrum(eigenvalues, "eigenvalues")
    lr = validate.positive("lr (the learning rate η)", lr)
    t = _times("steps", steps)
    if np.any(t != np.round(t)) and np.any(lr * lam > 1):
        raise ArgumentError("steps must be whole numbers when lr·λ > 1 for some eigenvalue λ ((1 − lr·λ)^t is then "
                            f"not real), got {validate.show(steps)}")
    return (1.0 - lr * lam[None, :]) ** t[:, None]


def gradient_flow_mode_factor(eigenvalues, time) -> np.ndarray:
    """exp(−λ_k τ): the same fraction under gradient flow dθ/dτ = −∇L, at time τ = η t.

    Gradient descent with step η is gradient flow sampled at τ = ηt, up to a relative error
    of about ηλ_k²τ/2 (the small-η limit). Shape (len(time), len(eigenvalues)).
    """
    lam = _as_spectrum(eigenvalues, "eigenvalues")
    tau = _times("time", time)
    return np.exp(-lam[None, :] * tau[:, None])


def gd_solution(X, y, lr: float, steps, theta0=None, rcond: float = 1e-10) -> np.ndarray:
    """θ_t of full-batch gradient descent θ ← θ − η(Σ̂θ − b) in closed form, for every t in ``steps``.

    In the eigenbasis of Σ̂ every coordinate c_k = u_k·θ obeys c_k ← (1 − ηλ̂_k) c_k + η b_k, so

        c_k(t) = (1 − ηλ̂_k)^t c_k(0) + [1 − (1 − ηλ̂_k)^t] b_k / λ̂_k,

    and c_k(t) = c_k(0) for the modes with λ̂_k = 0 (directions the data never see; below
    ``rcond``·λ̂_max they count as zero). Returns shape (len(steps), D).
    """
    X, y = _check_data(X, y)
    if X.ndim != 2:
        raise ArgumentError(f"gd_solution takes one data set, X of shape (N, D), got shape {X.shape}")
    N, D = X.shape
    lr = validate.positive("lr (the learning rate η)", lr)
    rcond = validate.nonnegative("rcond", rcond)
    lam, U = empirical_eigenbasis(X)
    theta0 = np.zeros(D) if theta0 is None else validate.array("theta0", theta0, shape=("D",), dims=Dims(D=D))
    b = U.T @ (X.T @ y / N)
    c0 = U.T @ theta0
    seen = lam > rcond * lam.max()
    target = np.where(seen, b / np.where(seen, lam, 1.0), c0)  # where each mode goes
    q = gd_mode_factor(np.where(seen, lam, 0.0), lr, steps)    # (T, D); 1 for unseen modes
    c = target[None, :] + q * (c0 - target)[None, :]
    return c @ U.T


def population_test_error(theta, w_star, spectrum, noise: float = 0.0) -> np.ndarray:
    """Test error (θ − w*)ᵀ Σ (θ − w*) + σ² for Σ = diag(spectrum); θ may carry batch dimensions.

    This is E[(y − x·θ)²] over fresh test points, computed exactly (no test set needed).
    """
    lam, w = _spectrum_and_teacher(spectrum, w_star)
    theta = validate.array("theta", theta)
    if theta.ndim < 1 or theta.shape[-1] != lam.size:
        raise ArgumentError(f"theta must have shape (..., D) with D = {lam.size} (from spectrum), got {theta.shape}")
    noise = _noise(noise)
    return np.sum(lam * (theta - w) ** 2, axis=-1) + noise**2


def gd_test_error_modes(spectrum, w_star, noise: float, n: int, lr: float, steps) -> np.ndarray:
    """Each mode's contribution to the test error during gradient descent from θ = 0 (N ≫ D theory).

    For N ≫ D the empirical covariance is close to Σ, so mode i relaxes as q_i^t = (1 − ηλ_i)^t
    towards w*_i plus the noise it picked up from the labels (variance σ²/(Nλ_i)):

        E_i(t) = λ_i w*_i² q_i^(2t) + (σ²/N) (1 − q_i^t)²,     E(t) = σ² + Σ_i E_i(t).

    The first term is the part of the target not yet learned (bias), the second the label noise
    already learned (variance). Corrections are of relative order D/N. Shape (len(steps), D).
    """
    lam, w = _spectrum_and_teacher(spectrum, w_star)
    noise = _noise(noise)
    n = validate.real("n (the number of samples)", n, low=1.0)
    q = gd_mode_factor(lam, lr, steps)
    return lam * w**2 * q**2 + noise**2 / n * (1.0 - q) ** 2


# --------------------------------------------------------------------------------------------
# Interpolation and ridge: the estimators (batched over leading dimensions)
# --------------------------------------------------------------------------------------------

def min_norm_solution(X, y) -> np.ndarray:
    """The least-squares solution of smallest norm, θ = X⁺y (batched over leading dimensions).

    With more features than samples (D > N) it is the interpolator Xᵀ(XXᵀ)⁻¹y, the point
    gradient descent from θ = 0 converges to; with D < N it is the ordinary least-squares
    fit (XᵀX)⁻¹Xᵀy.
    """
    X, y = _check_data(X, y)
    N, D = X.shape[-2:]
    Xt = np.swapaxes(X, -1, -2)
    if D > N:
        return (Xt @ _solve(X @ Xt, y[..., None], "X Xᵀ"))[..., 0]
    return _solve(Xt @ X, (Xt @ y[..., None]), "Xᵀ X")[..., 0]


def ridge_solution(X, y, ridge: float) -> np.ndarray:
    """Minimiser of (1/2N)‖Xθ − y‖² + (ridge/2)‖θ‖²: θ = (Σ̂ + ridge·I)⁻¹ Xᵀy/N (batched).

    Computed in whichever of the D×D or N×N forms is smaller: (XᵀX + Nρ)⁻¹Xᵀy = Xᵀ(XXᵀ + Nρ)⁻¹y,
    with ρ = ``ridge``.
    ``ridge = 0`` gives :func:`min_norm_solution`.
    """
    ridge = validate.nonnegative("ridge (the ridge parameter ρ)", ridge)
    if ridge == 0:
        return min_norm_solution(X, y)
    X, y = _check_data(X, y)
    N, D = X.shape[-2:]
    Xt = np.swapaxes(X, -1, -2)
    if D > N:
        return (Xt @ np.linalg.solve(X @ Xt + N * ridge * np.eye(N), y[..., None]))[..., 0]
    return np.linalg.solve(Xt @ X + N * ridge * np.eye(D), Xt @ y[..., None])[..., 0]


def gd_limit(X, y, theta0) -> np.ndarray:
    """Where gradient descent from ``theta0`` converges (for a stable step): X⁺y + (I − X⁺X) θ0.

    The data only move θ within the row space of X; the component of θ0 orthogonal to it
    (the null space, non-empty when D > N) is never touched. From θ0 = 0 this is the
    minimum-norm solution. (The answer to the second exercise of the chapter.)
    """
    X, y = _check_data(X, y)
    theta0 = validate.array("theta0", theta0)
    if theta0.shape != X.shape[:-2] + X.shape[-1:]:
        raise ArgumentError(f"theta0 must have shape {X.shape[:-2] + X.shape[-1:]} (X has shape {X.shape}), "
                            f"got {theta0.shape}")
    X_pinv = np.linalg.pinv(X)
    null_part = theta0 - (X_pinv @ (X @ theta0[..., None]))[..., 0]
    return (X_pinv @ y[..., None])[..., 0] + null_part


# --------------------------------------------------------------------------------------------
# The deterministic equivalent of the ridge risk, and the exact isotropic min-norm risk
# --------------------------------------------------------------------------------------------

def _df1(lam, kappa):
    return np.sum(lam / (lam + kappa))


def effective_ridge(spectrum, n: int, ridge: float) -> float:
    """The effective (renormalised) ridge κ of N samples: the root of κ = ρ + (κ/N) Σ_i λ_i/(λ_i + κ).

    ρ = ``ridge``, λ_i the eigenvalues of Σ (equation eq-linear-kappa of the chapter).

    κ ≥ ``ridge`` always: a finite sample regularises by itself. Ridgeless (``ridge = 0``) with
    fewer features than samples gives κ = 0; with more, κ > 0 is fixed by Σ_i λ_i/(λ_i + κ) = N
    ("the model has exactly N effective degrees of freedom"). Zero eigenvalues are ignored.
    """
    lam = _as_spectrum(spectrum)
    lam = lam[lam > 0]
    n = validate.real("n (the number of samples)", n, low=1.0)
    ridge = validate.nonnegative("ridge (the ridge parameter ρ)", ridge)
    if ridge == 0 and lam.size <= n:
        return 0.0

    def g(log_kappa):  # increasing through its root; negative below it
        kappa = np.exp(log_kappa)
        return kappa * (1.0 - _df1(lam, kappa) / n) - ridge

    lo = np.log(ridge / 2) if ridge > 0 else np.log(lam.min() * 1e-12)
    hi = np.log(ridge + lam.sum() / n) + 1e-12
    return float(np.exp(brentq(g, lo, hi, xtol=1e-14, rtol=1e-13, maxiter=500)))


@dataclass(frozen=True)
class RidgeRisk:
    """The deterministic-equivalent test error of ridge regression, split into its parts.

    ``test_error = bias + variance + noise²``; ``kappa`` is the effective ridge and
    ``gamma = (1/N) Σ_i λ_i²/(λ_i + κ)²`` the fraction of the error fed back (1/(1 − γ)).
    """

    test_error: float
    bias: float
    variance: float
    kappa: float
    gamma: float

    @property
    def excess(self) -> float:
        """The test error minus the irreducible label noise: bias + variance."""
        return self.bias + self.variance


def ridge_risk(spectrum, w_star, noise: float, n: int, ridge: float = 0.0) -> RidgeRisk:
    """Deterministic-equivalent test error of ridge regression with N samples (§3.2 of the chapter).

    With κ = :func:`effective_ridge` and γ = (1/N) Σ_i λ_i²/(λ_i + κ)²,

        bias     = κ² Σ_i λ_i w*_i² / (λ_i + κ)²  / (1 − γ),
        variance = σ² γ / (1 − γ),
        test error = bias + variance + σ².

    Exact as N, D → ∞ at fixed ratio for Gaussian features, with O(1/N) corrections at finite
    size; ``ridge = 0`` gives the minimum-norm interpolator (D > N) or least squares (D < N).
    At the interpolation threshold (ridgeless, D = N) γ = 1 and the test error is infinite.
    """
    lam, w = _spectrum_and_teacher(spectrum, w_star)
    noise = _noise(noise)
    kappa = effective_ridge(lam, n, ridge)
    seen = lam > 0
    gamma = float(np.sum(lam[seen] ** 2 / (lam[seen] + kappa) ** 2) / n)
    # directions with λ = 0 contribute nothing to the test error
    bias0 = float(np.sum(kappa**2 * lam[seen] * w[seen] ** 2 / (lam[seen] + kappa) ** 2))
    if gamma >= 1.0 - 1e-12:
        return RidgeRisk(np.inf, np.inf, np.inf, kappa, gamma)
    bias = bias0 / (1.0 - gamma)
    variance = noise**2 * gamma / (1.0 - gamma)
    return RidgeRisk(bias + variance + noise**2, bias, variance, kappa, gamma)


def min_norm_risk_isotropic(n: int, p: int, signal_seen: float, signal_unseen: float,
                            noise: float) -> float:
    """Belkin–Hsu–Xu's exact expected test error of least squares on p of D isotropic features.

    x ~ N(0, I_D), y = x·β + σξ; the model sees p features, with ‖β_seen‖² = ``signal_seen``
    and ‖β_unseen‖² = ``signal_unseen`` (which acts as extra label noise). For N samples:

        p ≤ N − 2:  (‖β_unseen‖² + σ²) (1 + p/(N − p − 1))
        p ≥ N + 2:  ‖β_seen‖² (1 − N/p) + (‖β_unseen‖² + σ²) (1 + N/(p − N − 1))

    and infinite for N − 1 ≤ p ≤ N + 1. Exact at every finite N and p (no asymptotics).
    """
    n = validate.positive_int("n (the number of samples)", n)
    p = validate.positive_int("p (the number of features seen)", p)
    signal_seen = validate.nonnegative("signal_seen", signal_seen)
    signal_unseen = validate.nonnegative("signal_unseen", signal_unseen)
    noise = _noise(noise)
    s2 = signal_unseen + noise**2
    if p <= n - 2:
        return s2 * (1.0 + p / (n - p - 1))
    if p >= n + 2:
        return signal_seen * (1.0 - n / p) + s2 * (1.0 + n / (p - n - 1))
    return np.inf


def flat_tail_min_norm_errors(head_spectrum, w_head, tail_dim: float, tail_variance: float, noise: float,
                              n: int, rng: np.random.Generator, draws: int = 100) -> np.ndarray:
    """Exact finite-N test errors of the min-norm interpolator on a head plus a flat tail, one per draw.

    Features: a head of s directions with variances ``head_spectrum`` that carries the whole
    signal, y = x_head·w_head + σξ, and a flat tail of T = ``tail_dim`` directions of variance
    v/T each (v = ``tail_variance``, their total). Because Σ_tail ∝ I, the interpolator
    θ = Xᵀ(XXᵀ)⁻¹y and its test error depend on the tail only through its N × N Gram matrix
    K = X_tail X_tailᵀ, which is (v/T)·Wishart_N(T, I). With A = X_h X_hᵀ + K and
    G = X_hᵀA⁻¹X_h, averaging over the label noise in closed form,

        head:  (Gw − w)ᵀΛ(Gw − w) + σ² tr(Λ X_hᵀA⁻²X_h),
        tail:  (v/T) [wᵀGw − ‖Gw‖² + σ² (tr A⁻¹ − ‖A⁻¹X_h‖²_F)]     (θ_tailᵀΣ_tail θ_tail, using K = A − X_hX_hᵀ),

    and the test error of the draw is their sum + σ². K is drawn by Bartlett's decomposition
    (an N × N triangular matrix instead of N × T Gaussian numbers), so one draw costs O(N³)
    instead of O(N²T): the exact expectation at finite N and T to any precision, to compare
    with a simulation and with the deterministic equivalent :func:`ridge_risk`.
    ``tail_dim = np.inf`` gives the limit T → ∞ at fixed N, where K = v·I and the interpolator is
    exactly ridge regression on the head with ``ridge`` v/N (a flat tail acts as a ridge).
    Returns shape (draws,); their mean estimates the expected test error, label noise included.
    """
    lam, w = _spectrum_and_teacher(head_spectrum, w_head, ("head_spectrum", "w_head"))
    n = validate.positive_int("n (the number of samples)", n)
    if not (tail_dim == np.inf
            or isinstance(tail_dim, (int, float, np.integer, np.floating)) and not isinstance(tail_dim, bool)
            and np.isfinite(tail_dim) and float(tail_dim).is_integer() and tail_dim >= n):
        raise ArgumentError(f"tail_dim must be an integer ≥ n = {n} (the tail Gram matrix is then invertible) "
                            f"or np.inf, got {validate.show(tail_dim)}")
    tail_variance = validate.positive("tail_variance (the tail's total variance)", tail_variance)
    noise = _noise(noise)
    draws = validate.positive_int("draws", draws)
    if not isinstance(rng, np.random.Generator):
        raise ArgumentError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                            f"got {validate.show(rng)}")
    s, v = lam.size, float(tail_variance)
    out = np.empty(draws)
    batch = max(1, min(draws, 2_000_000 // (n * n)))
    rows, cols = np.tril_indices(n, -1)
    if tail_dim == np.inf:  # K = v·I: ridge on the head, in its s × s form (push-through identity)
        batch = max(1, min(draws, 2_000_000 // (n * s)))
    for start in range(0, draws, batch):
        b = min(batch, draws - start)
        Xh = rng.standard_normal((b, n, s)) * np.sqrt(lam)
        if tail_dim == np.inf:
            W = np.swapaxes(Xh, 1, 2) @ Xh                        # X_hᵀX_h, (b, s, s)
            M = np.linalg.inv(W + v * np.eye(s))
            G = M @ W                                             # X_hᵀA⁻¹X_h = (W + v)⁻¹W
            Gw = G @ w
            variance = np.einsum("j,bjk,bkj->b", lam, G, M)      # tr(Λ X_hᵀA⁻²X_h) = tr(Λ (W+v)⁻¹W(W+v)⁻¹)
            out[start:start + b] = np.sum(lam * (Gw - w) ** 2, axis=1) + noise**2 * variance + noise**2
            continue
        # Bartlett: K = (v/T) L Lᵀ, L lower triangular, L_ii² ~ χ²(T − i), L_ij ~ N(0, 1) below the diagonal
        L = np.zeros((b, n, n))
        L[:, np.arange(n), np.arange(n)] = np.sqrt(rng.chisquare(float(tail_dim) - np.arange(n), size=(b, n)))
        L[:, rows, cols] = rng.standard_normal((b, rows.size))
        K = (v / tail_dim) * (L @ np.swapaxes(L, 1, 2))
        A_inv = np.linalg.inv(Xh @ np.swapaxes(Xh, 1, 2) + K)
        AX = A_inv @ Xh                                           # A⁻¹X_h, (b, n, s)
        G = np.swapaxes(Xh, 1, 2) @ AX                            # X_hᵀA⁻¹X_h, (b, s, s)
        Gw = G @ w
        head = np.sum(lam * (Gw - w) ** 2, axis=1) + noise**2 * np.sum(lam * AX**2, axis=(1, 2))
        tail = (v / tail_dim) * (np.sum(Gw * w, axis=1) - np.sum(Gw**2, axis=1)
                                 + noise**2 * (np.trace(A_inv, axis1=1, axis2=2) - np.sum(AX**2, axis=(1, 2))))
        out[start:start + b] = head + tail + noise**2
    return out


def effective_ranks(spectrum, k: int) -> tuple[float, float]:
    """Bartlett et al.'s effective ranks of the tail of a spectrum beyond its first k eigenvalues.

    r_k = Σ_(i>k) λ_i / λ_(k+1)  and  R_k = (Σ_(i>k) λ_i)² / Σ_(i>k) λ_i²  (eigenvalues sorted
    in decreasing order). Overfitting is benign when, for the smallest k with r_k ≳ N, both
    k/N and N/R_k are small: the tail is made of many small, nearly equal directions.
    """
    lam = np.sort(_as_spectrum(spectrum))[::-1]
    k = validate.integer("k (the number of head eigenvalues)", k, low=0, high=lam.size - 1)
    tail = lam[k:]
    if tail[0] == 0:
        raise ValueError("the tail beyond k is zero; the effective ranks are undefined")
    return float(tail.sum() / tail[0]), float(tail.sum() ** 2 / np.sum(tail**2))


def relu_features_as_linear_problem(weights, beta, noise: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Random ReLU features of x ~ N(0, I_d) with a linear teacher y = β·x + σξ, seen as a linear problem.

    For φ_a(x) = max(0, f_a·x/√d) (rows f_a of ``weights``) the population moments are exact:

        Σ_ab = E[φ_a φ_b] = (s_a s_b / 2π) (sin ϑ_ab + (π − ϑ_ab) cos ϑ_ab),   s_a = |f_a|/√d,
        c_a  = E[φ_a y]   = f_a·β / (2√d),                                   (cos ϑ_ab = f̂_a·f̂_b)

    (the first is the arc-cosine kernel, :func:`course_utils.theory.kernels.gaussian_pair_expectation`;
    the second is Stein's lemma). Regression on φ is then
    linear regression with covariance Σ, best weights θ* = Σ⁻¹c and, as extra label noise, the
    part of y the features cannot express: σ_eff² = E[y²] − c·θ*. Returns the spectrum of Σ,
    θ* in its eigenbasis and σ_eff, ready for :func:`ridge_risk` (which treats the features as
    Gaussian: an approximation here, checked in §3.4 of the chapter).
    """
    dims = Dims()
    F = validate.array("weights", weights, shape=("P", "d"), dims=dims)
    beta = validate.array("beta", beta, shape=("d",), dims=dims)
    noise = _noise(noise)
    d = F.shape[1]
    gram = F @ F.T / d  # covariances of the pre-activations f_a·x/√d
    q = np.diag(gram)
    cov = gaussian_pair_expectation(q[:, None], gram, q[None, :], "relu")  # the arc-cosine kernel
    c = F @ beta / (2 * np.sqrt(d))
    lam, U = np.linalg.eigh(cov)
    lam = np.clip(lam, 0.0, None)
    coeff = U.T @ c
    keep = lam > 1e-12 * lam.max()
    theta_star = np.where(keep, coeff / np.where(keep, lam, 1.0), 0.0)
    residual = float(beta @ beta + noise**2 - np.sum(coeff[keep] ** 2 / lam[keep]))
    return lam[::-1], theta_star[::-1], float(np.sqrt(max(residual, 0.0)))
