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

from .kernels import gaussian_pair_expectation

__all__ = [
    "empirical_eigenbasis", "gd_mode_factor", "gradient_flow_mode_factor", "gd_solution",
    "population_test_error", "gd_test_error_modes",
    "min_norm_solution", "ridge_solution", "gd_limit",
    "effective_ridge", "RidgeRisk", "ridge_risk", "min_norm_risk_isotropic", "flat_tail_min_norm_errors",
    "effective_ranks",
    "relu_features_as_linear_problem",
]


def _as_spectrum(spectrum) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=float)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"the spectrum must be a non-empty 1-d array of eigenvalues, got shape {lam.shape}")
    if np.any(lam < 0) or not np.all(np.isfinite(lam)):
        raise ValueError("the eigenvalues of a covariance must be finite and non-negative")
    return lam


def _spectrum_and_teacher(spectrum, w_star) -> tuple[np.ndarray, np.ndarray]:
    lam = _as_spectrum(spectrum)
    w = np.asarray(w_star, dtype=float)
    if w.shape != lam.shape:
        raise ValueError(f"w_star must have the shape of the spectrum {lam.shape}, got {w.shape}")
    return lam, w


def _check_data(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim < 2:
        raise ValueError(f"X must have shape (..., N, D), got {X.shape}")
    if y.shape != X.shape[:-1]:
        raise ValueError(f"y must have shape {X.shape[:-1]} (one label per row of X), got {y.shape}")
    return X, y


# --------------------------------------------------------------------------------------------
# Gradient descent and gradient flow, mode by mode
# --------------------------------------------------------------------------------------------

def empirical_eigenbasis(X) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues λ̂_k (descending) and eigenvectors u_k (columns) of Σ̂ = XᵀX / N.

    Gradient descent on L(θ) = (1/2N)‖Xθ − y‖² is diagonal in this basis (§1 of the chapter).
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, D), got {X.shape}")
    lam, U = np.linalg.eigh(X.T @ X / X.shape[0])
    return np.clip(lam[::-1], 0.0, None), U[:, ::-1]


def gd_mode_factor(eigenvalues, lr: float, steps) -> np.ndarray:
    """(1 − η λ_k)^t: the fraction of mode k's initial error left after t steps of gradient descent.

    Returns an array of shape (len(steps), len(eigenvalues)). The mode converges when
    |1 − ηλ_k| < 1, i.e. for η < 2/λ_k; it oscillates in sign when ηλ_k > 1.
    """
    lam = _as_spectrum(eigenvalues)
    if lr <= 0:
        raise ValueError(f"the learning rate must be positive, got {lr}")
    t = np.asarray(steps, dtype=float)
    if np.any(t < 0):
        raise ValueError("steps must be non-negative")
    return (1.0 - lr * lam[None, :]) ** t[:, None]


def gradient_flow_mode_factor(eigenvalues, time) -> np.ndarray:
    """exp(−λ_k τ): the same fraction under gradient flow dθ/dτ = −∇L, at time τ = η t.

    Gradient descent with step η is gradient flow sampled at τ = ηt, up to a relative error
    of about ηλ_k²τ/2 (the small-η limit). Shape (len(time), len(eigenvalues)).
    """
    lam = _as_spectrum(eigenvalues)
    tau = np.asarray(time, dtype=float)
    if np.any(tau < 0):
        raise ValueError("times must be non-negative")
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
        raise ValueError("gd_solution takes one data set, X of shape (N, D)")
    N, D = X.shape
    lam, U = empirical_eigenbasis(X)
    theta0 = np.zeros(D) if theta0 is None else np.asarray(theta0, dtype=float)
    if theta0.shape != (D,):
        raise ValueError(f"theta0 must have shape ({D},), got {theta0.shape}")
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
    lam = _as_spectrum(spectrum)
    theta = np.asarray(theta, dtype=float)
    w = np.asarray(w_star, dtype=float)
    if theta.shape[-1] != lam.size or w.shape != lam.shape:
        raise ValueError(f"theta (…, {theta.shape[-1]}) and w_star {w.shape} must match the spectrum ({lam.size},)")
    if noise < 0:
        raise ValueError(f"the noise level σ must be non-negative, got {noise}")
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
    if n < 1:
        raise ValueError(f"the number of samples must be positive, got {n}")
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
        return (Xt @ np.linalg.solve(X @ Xt, y[..., None]))[..., 0]
    return np.linalg.solve(Xt @ X, (Xt @ y[..., None]))[..., 0]


def ridge_solution(X, y, ridge: float) -> np.ndarray:
    """Minimiser of (1/2N)‖Xθ − y‖² + (ridge/2)‖θ‖²: θ = (Σ̂ + ridge·I)⁻¹ Xᵀy/N (batched).

    Computed in whichever of the D×D or N×N forms is smaller: (XᵀX + Nρ)⁻¹Xᵀy = Xᵀ(XXᵀ + Nρ)⁻¹y,
    with ρ = ``ridge``.
    ``ridge = 0`` gives :func:`min_norm_solution`.
    """
    if ridge < 0:
        raise ValueError(f"the ridge parameter must be non-negative, got {ridge}")
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
    theta0 = np.asarray(theta0, dtype=float)
    if theta0.shape != X.shape[:-2] + X.shape[-1:]:
        raise ValueError(f"theta0 must have shape {X.shape[:-2] + X.shape[-1:]}, got {theta0.shape}")
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
    if not n >= 1:
        raise ValueError(f"the number of samples must be at least 1, got {n}")
    if ridge < 0:
        raise ValueError(f"the ridge parameter must be non-negative, got {ridge}")
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
    if noise < 0:
        raise ValueError(f"the noise level σ must be non-negative, got {noise}")
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
    if n < 1 or p < 1:
        raise ValueError(f"need n ≥ 1 and p ≥ 1, got n={n}, p={p}")
    if signal_seen < 0 or signal_unseen < 0 or noise < 0:
        raise ValueError("signal powers and the noise level must be non-negative")
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
    lam = _as_spectrum(head_spectrum)
    w = np.asarray(w_head, dtype=float)
    if w.shape != lam.shape:
        raise ValueError(f"w_head must have the shape of the head spectrum {lam.shape}, got {w.shape}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of samples n must be a positive integer, got {n!r}")
    if not (tail_dim == np.inf or float(tail_dim).is_integer()) or not tail_dim >= n:
        raise ValueError(f"tail_dim must be an integer ≥ n = {n} (the tail Gram matrix is then invertible) "
                         f"or np.inf, got {tail_dim!r}")
    if not tail_variance > 0:
        raise ValueError(f"the tail's total variance must be positive, got {tail_variance}")
    if noise < 0:
        raise ValueError(f"the noise level σ must be non-negative, got {noise}")
    if not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
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
    if not 0 <= k < lam.size:
        raise ValueError(f"k must be between 0 and {lam.size - 1}, got {k}")
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
    F = np.asarray(weights, dtype=float)
    beta = np.asarray(beta, dtype=float)
    if F.ndim != 2 or beta.shape != (F.shape[1],):
        raise ValueError(f"weights must be (P, d) and beta (d,), got {F.shape} and {beta.shape}")
    if noise < 0:
        raise ValueError(f"the noise level σ must be non-negative, got {noise}")
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
