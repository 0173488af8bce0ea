"""Variance-limited and resolution-limited scaling: the closed forms of the chapter
"Variance-limited and resolution-limited scaling" (book/06_scaling/02_variance_and_resolution).

Three families of predictions:

* the **teacher–student random-feature model** (features x ~ N(0, diag λ) with λ_i = i^(−(1+α)),
  teacher y = w·x with w ~ N(0, I), student f(x) = θ·(Vx) on P random projections, fitted by
  least squares of minimum norm to D samples). Its test loss is symmetric under D ↔ P, falls as
  N^(−α) when the smaller of D and P = N limits it (resolution-limited,
  :func:`resolution_limited_loss`), and approaches its limit as 1/D or 1/P when the larger one
  is finite (variance-limited, :func:`variance_limited_loss`);
* **interpolation on a d-dimensional data manifold**: nearest-neighbour distances ∝ D^(−1/d), and
  the loss of a model that is locally a polynomial of degree ``order − 1`` ∝ D^(−2·order/d)
  (:func:`manifold_exponent`);
* **kernel regression with a power-law spectrum**: the exponent of the learning curve from the
  decay of the kernel's eigenvalues and of the target's power on them (:func:`kernel_learning_curve_exponent`,
  :func:`spectral_learning_curve`).
"""

from __future__ import annotations

import numpy as np

from .. import validate
from .linear import ridge_risk

__all__ = [
    "spectrum_integral", "resolution_limited_coefficient", "resolution_limited_loss",
    "resolution_limited_loss_finite", "variance_limited_loss", "variance_limited_coefficient",
    "manifold_exponent", "kernel_learning_curve_exponent", "spectral_learning_curve", "tail_power",
]


def _check_alpha(alpha) -> float:
    # α > 0 so that λ_i = i^-(1+α) is summable; NaN and inf are refused too
    return validate.real("alpha (the exponent α of λ_i = i^-(1+α))", alpha, low=0.0, low_open=True)


def _sample_counts(n) -> np.ndarray:
    """``n`` (a number or an array) checked to hold whole numbers ≥ 1 (samples or features)."""
    ns = validate.array("n", n, ndim=(0, 1), allow_empty=True)
    if np.any(ns < 1):
        raise ValueError("n (samples or features) must be at least 1")
    if np.any(ns != np.round(ns)):
        raise validate.ArgumentError(f"n (samples or features) must hold whole numbers, got {validate.show(n)}")
    return ns


def _spectrum(name: str, value) -> np.ndarray:
    """A 1-d array of non-negative eigenvalues with at least one positive (rounding noise below
    −10⁻¹⁰ max|λ| is tolerated, as from ``np.linalg.eigh`` of a kernel matrix)."""
    lam = validate.array(name, value, ndim=1)
    if np.any(lam < -1e-10 * np.abs(lam).max()) or not np.any(lam > 0):
        raise validate.ArgumentError(f"{name} must be non-negative eigenvalues, at least one positive, "
                                     f"got {validate.show(value)}")
    return lam


def spectrum_integral(alpha: float) -> float:
    """I(α) = ∫₀^∞ dx / (1 + x^b) = (π/b) / sin(π/b) with b = 1 + α.

    It converts the effective-ridge condition Σ_i λ_i/(λ_i + κ) = N for λ_i = i^(−b) into
    κ^(1/b) = I(α)/N (the sum over i becomes an integral over x = κ^(1/b) i).
    """
    b = 1.0 + _check_alpha(alpha)
    return float((np.pi / b) / np.sin(np.pi / b))


def resolution_limited_coefficient(alpha: float) -> float:
    """The constant C(α) = I(α)^(1+α) in L ≈ C(α) N^(−α) (see :func:`resolution_limited_loss`)."""
    return spectrum_integral(alpha) ** (1.0 + _check_alpha(alpha))


def resolution_limited_loss(n, alpha: float) -> np.ndarray:
    """Resolution-limited loss of the random-feature model, L(N) ≈ I(α)^(1+α) N^(−α), for N ≫ 1.

    N is the number of samples D at P = ∞, or the number of features P at D = ∞ (the two limits
    have the same distribution). With λ_i = i^(−(1+α)) and w ~ N(0, I), the deterministic
    equivalent of ridgeless regression (Chapter 1) gives κ = (I/N)^(1+α), 1 − γ = (I − I₂)/I and
    L = κ² Σ λ_i/(λ_i + κ)² / (1 − γ) = κ^(α/(1+α)) I = I^(1+α) N^(−α), with I = :func:`spectrum_integral`.
    (The naive tail sum Σ_(i>N) λ_i ≈ N^(−α)/α has the same exponent but a smaller constant.)
    """
    n = validate.array("n", n, allow_empty=True)
    if np.any(n < 1):
        raise ValueError("n (samples or features) must be at least 1")
    return resolution_limited_coefficient(alpha) * n ** (-float(alpha))


def resolution_limited_loss_finite(spectrum, n) -> np.ndarray:
    """The same loss for a finite spectrum (M features), from :func:`course_utils.theory.linear.ridge_risk`.

    L(N) = ridgeless deterministic-equivalent risk with teacher power w_i² = 1 (the average of the
    isotropic prior) and no label noise. Use it when N is not ≪ M: the truncation at M lowers the loss.
    """
    lam = _spectrum("spectrum", spectrum)
    _sample_counts(n)
    ns = np.atleast_1d(np.asarray(n))
    out = np.array([ridge_risk(lam, np.ones_like(lam), 0.0, int(k), 0.0).test_error for k in ns])
    return out if np.ndim(n) else out[0]


def variance_limited_loss(loss_limit, n_fixed: int, n) -> np.ndarray:
    """Exact expected loss when the larger of D and P is finite: L = L_∞ (1 + N_s/(N − N_s − 1)).

    ``n_fixed`` = N_s is the smaller size (P at fixed width, or D at fixed data), ``n`` = N the
    larger one (N ≥ N_s + 2) and ``loss_limit`` = L_∞ the loss at N = ∞. For D > P this is least
    squares on P Gaussian features whose unexplained part (variance L_∞) acts as label noise:
    E‖θ̂ − θ*‖²_Σ = L_∞ tr[(ZᵀZ)⁻¹Σ] = L_∞ P/(D − P − 1) (inverse-Wishart mean). The D ↔ P duality of
    the model gives the same form for P > D. For N ≫ N_s: L − L_∞ ≈ L_∞ N_s / N, exponent 1.
    """
    n = validate.array("n", n, allow_empty=True)
    n_fixed = validate.real("n_fixed (the fixed size N_s)", n_fixed, low=1.0)
    if np.any(n < n_fixed + 2):
        raise ValueError(f"n (the larger size N) must be ≥ N_s + 2 = {n_fixed + 2}: the formula needs it (it diverges "
                         f"at the interpolation threshold N = N_s + 1), got {validate.show(n)}")
    loss_limit = validate.array("loss_limit", loss_limit, allow_empty=True)
    if np.any(loss_limit < 0):
        raise ValueError("the limiting loss L_∞ (loss_limit) must be non-negative")
    return loss_limit * (1.0 + n_fixed / (n - n_fixed - 1.0))


def variance_limited_coefficient(loss_limit, n_fixed: int) -> np.ndarray:
    """The coefficient of the variance-limited law L − L_∞ ≈ c / N: c = N_s · L_∞."""
    n_fixed = validate.real("n_fixed (the fixed size N_s)", n_fixed, low=1.0)
    loss_limit = validate.array("loss_limit", loss_limit, allow_empty=True)
    if np.any(loss_limit < 0):
        raise ValueError("the limiting loss L_∞ (loss_limit) must be non-negative")
    return n_fixed * loss_limit


def manifold_exponent(d: int, quantity: str = "linear") -> float:
    """Exponent c/d of a power law in the number of samples D on a d-dimensional data manifold.

    With D points the typical spacing is h ∝ D^(−1/d). For a C² target:

    * ``"distance"``: nearest-neighbour distance h ∝ D^(−1/d)                   → 1/d;
    * ``"nearest"``: piecewise-constant (1-nearest-neighbour) model, error ∝ h |∇f|,
      squared loss ∝ h²                                                        → 2/d;
    * ``"linear"``: piecewise-linear interpolation (a ReLU network can represent it),
      error ∝ h² |∇²f|, squared loss ∝ h⁴                                     → 4/d.
    """
    d = validate.integer("d (the intrinsic dimension, a positive integer)", d, low=1)
    c = {"distance": 1.0, "nearest": 2.0, "linear": 4.0}
    quantity = validate.choice("quantity", quantity, sorted(c))
    return c[quantity] / d


def kernel_learning_curve_exponent(spectrum_exponent: float, target_exponent: float) -> float:
    """Learning-curve exponent of ridgeless kernel regression from two power laws.

    Eigenvalues λ_k ∝ k^(−b) (``spectrum_exponent`` b > 1) and target power on the eigenmodes
    p_k = λ_k w_k² ∝ k^(−(1+a)) (``target_exponent`` 1 + a > 1). With κ ∝ D^(−b) the loss is
    Σ_(k>D) p_k + κ² Σ_(k<D) p_k/λ_k² ∝ D^(−a) + D^(−2b): exponent min(a, 2b). The isotropic
    ("typical sample of the kernel's own Gaussian process") target, w_k² = const, has a = b − 1 = α.
    """
    b = validate.real("spectrum_exponent", spectrum_exponent)
    one_plus_a = validate.real("target_exponent", target_exponent)
    if not b > 1:
        raise ValueError(f"the spectrum exponent (spectrum_exponent) must exceed 1 (a trace-class kernel), got {b}")
    if not one_plus_a > 1:
        raise ValueError(f"the target exponent 1 + a (target_exponent) must exceed 1 (a target of finite variance), got {one_plus_a}")
    return min(one_plus_a - 1.0, 2.0 * b)


def tail_power(power) -> np.ndarray:
    """Tail sums T(k) = Σ_(i>k) p_i for k = 0 … len(p) − 1 (the part of the target beyond mode k)."""
    p = validate.array("power", power, ndim=1)
    if np.any(p < 0):
        raise ValueError("power must be a 1-d array of non-negative numbers")
    return np.cumsum(p[::-1])[::-1]


def spectral_learning_curve(eigenvalues, target_power, n, ridge: float = 0.0) -> np.ndarray:
    """Deterministic-equivalent learning curve of kernel regression (Bordelon, Canatar & Pehlevan).

    The kernel's eigenvalues λ_k and the target's power p_k = λ_k w_k² on its eigenfunctions
    define an equivalent linear problem (Chapter 1): L(D) = ``ridge_risk``(λ, w = √(p/λ), σ = 0, D, ridge).
    Modes with λ_k = 0 are dropped. ``n`` may be an array of sample sizes.
    """
    lam = validate.array("eigenvalues", eigenvalues)
    p = validate.array("target_power", target_power)
    if lam.shape != p.shape or lam.ndim != 1:
        raise ValueError(f"eigenvalues {lam.shape} and target_power {p.shape} must be 1-d of the same length")
    if np.any(p < 0):
        raise ValueError("target power must be non-negative")
    _spectrum("eigenvalues", lam)
    ridge = validate.nonnegative("ridge", ridge)
    _sample_counts(n)
    keep = lam > 0
    lam, p = lam[keep], p[keep]
    w = np.sqrt(p / lam)
    ns = np.atleast_1d(np.asarray(n))
    out = np.array([ridge_risk(lam, w, 0.0, int(k), ridge).test_error for k in ns])
    return out if np.ndim(n) else out[0]
