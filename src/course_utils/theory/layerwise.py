"""Closed forms for layerwise (product-of-weights) learning: sigmoids, stages and saddles.

Used by the chapter "Layerwise dynamics: sigmoids, stages and saddles"
(book/04_feature_learning/01_layerwise_dynamics), where each formula is derived and checked
against gradient-descent training and an ODE solve.

Set-up. Independent inputs x_i with variances λ_i, a target f* = Σ_i S_i x_i, the population
loss L = ½E[(f − f*)²], gradient flow in the time t (for gradient descent with step η, t = η × steps).

* Linear model f = x·θ: θ̇_i = −λ_i(θ_i − S_i), so θ_i(t) = S_i + (θ_i(0) − S_i) e^{−λ_i t}
  (:func:`linear_mode`, :func:`linear_time_to`).
* Diagonal model f = Σ_i x_i a_i b_i: ȧ = −λ(ab − S)b, ḃ = −λ(ab − S)a conserve c = a² − b², and the
  product w = ab obeys ẇ = λ(S − w)(a² + b²) = λ(S − w)√(c² + 4w²) (:func:`diagonal_mode`, :func:`diagonal_rapidity`,
  :func:`diagonal_time_to`, :func:`crossing_time`, :func:`is_stage_like`, :func:`conservation_drift`).
* Balanced, decoupled deep linear networks (Saxe et al. 2014): the strength u = a^L of a singular
  mode obeys u̇ = Lλ u^{2−2/L}(s − u) (:func:`saxe_rhs`, :func:`saxe_mode`, :func:`saxe_time_to`,
  :func:`saxe_plateau_time`); depth 1 is the linear model, depth 2 the balanced diagonal model.
* Random small initialisation of a two-layer linear network: :func:`silent_alignment_strength`;
  large initialisation (the lazy, linearised network of the NTK chapter): :func:`lazy_residual`.

This module is the one home of the two-weight (Riccati) flow: a skill of the quanta model is a balanced
diagonal mode with λ = p_k (:func:`course_utils.theory.quanta.skill_strength` calls :func:`diagonal_mode`),
and the lazy/rich scalar model is a diagonal mode for a whole layer of units
(:meth:`course_utils.theory.lazy_rich.ScalarModel.rapidity` calls :func:`diagonal_rapidity`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.integrate import quad
from scipy.special import hyp2f1

from .. import validate as V

__all__ = [
    "linear_mode", "linear_time_to",
    "diagonal_mode", "diagonal_rapidity", "diagonal_time_to", "crossing_time", "small_init_midpoint", "rise_time",
    "is_stage_like", "conservation_drift",
    "saxe_rhs", "saxe_mode", "saxe_time_to", "saxe_plateau_time",
    "silent_alignment_strength", "lazy_residual",
]


def _finite(x, name: str) -> np.ndarray:
    """A number or an array of numbers as a float array, every entry finite (NaN and ±inf refused)."""
    return V.array(name, x, allow_empty=True)


def _positive(x, name: str) -> np.ndarray:
    x = _finite(x, name)
    if np.any(x <= 0):
        raise V.ArgumentError(f"{name} must be finite and positive, got {V.show(x) if x.ndim else float(x)}")
    return x


def _times(t, name: str = "t") -> np.ndarray:
    t = _finite(t, f"{name} (the times)")
    if np.any(t < 0):
        raise V.ArgumentError(f"times ({name}) must be non-negative, got {V.show(t) if t.ndim else float(t)}")
    return t


# --------------------------------------------------------------------------------------------
# The linear model
# --------------------------------------------------------------------------------------------

def linear_mode(t, lam, S, theta0=0.0) -> np.ndarray:
    """θ(t) = S + (θ₀ − S) e^{−λt}: gradient flow of the linear model on one input direction of
    variance λ with target coefficient S (exponential relaxation, rate λ independent of S).
    Arguments broadcast against each other."""
    t, lam = _times(t), _positive(lam, "lam")
    S, theta0 = _finite(S, "S"), _finite(theta0, "theta0")
    V.broadcast(t=t, lam=lam, S=S, theta0=theta0)
    return S + (theta0 - S) * np.exp(-lam * t)


def linear_time_to(fraction, lam, theta0=0.0, S=1.0) -> np.ndarray:
    """The time at which θ(t) = fraction·S: t = ln[(S − θ₀)/(S(1 − fraction))]/λ (θ₀ = 0: −ln(1 − fraction)/λ)."""
    lam = _positive(lam, "lam")
    f = _finite(fraction, "fraction")
    theta0, S = _finite(theta0, "theta0"), _finite(S, "S")
    V.broadcast(fraction=f, lam=lam, theta0=theta0, S=S)
    if np.any(f >= 1):
        raise V.ArgumentError("fraction must be below 1: θ reaches S only as t → ∞")
    if np.any(S == 0):
        raise V.ArgumentError("S must be non-zero (θ = fraction·S = 0 is no target to reach)")
    ratio = (S - theta0) / (S * (1 - f))
    if np.any(ratio < 1):
        raise V.ArgumentError("θ₀ is already past fraction·S")
    return np.log(ratio) / lam


# --------------------------------------------------------------------------------------------
# The diagonal model f = Σ x_i a_i b_i
# --------------------------------------------------------------------------------------------

def _diag_setup(lam, S, w0, c):
    lam = _positive(lam, "lam")
    S = _finite(S, "S")
    w0, c = _finite(w0, "w0"), _finite(c, "c")
    V.broadcast(lam=lam, S=S, w0=w0, c=c)
    if np.any(S == 0):
        raise V.ArgumentError("S must be non-zero (for S = 0 the product just decays to 0)")
    sign = np.sign(S)             # ẇ = λ(S − w)√(c² + 4w²) is symmetric under (w, S) → (−w, −S)
    S, w0 = S * sign, w0 * sign
    q = np.abs(c) / 2
    if np.any((q == 0) & (w0 <= 0)):
        raise V.ArgumentError("w0 must have the sign of S when c = a² − b² = 0: with w0·S ≤ 0 the product "
                         "never grows (it sits at, or approaches, the saddle w = 0); or give c ≠ 0")
    r = np.hypot(S, q)
    y0 = w0 + np.hypot(w0, q)               # hypot: w0² would underflow for |w0| < 1e-154
    K = (y0 - (S + r)) / (y0 - (S - r))
    return lam, S, sign, q, r, K


def _diagonal_y(t, lam, S, w0, c):
    """y(t) = w + √(w² + q²) of the Riccati solution (for S > 0 after the sign flip), with the set-up."""
    t = _times(t)
    lam, S_pos, sign, q, r, K = _diag_setup(lam, S, w0, c)
    V.broadcast(t=t, lam=lam, S=S, w0=w0, c=c)
    g = K * np.exp(-2 * lam * r * t)
    return ((S_pos + r) - g * (S_pos - r)) / (1 - g), sign, q


def diagonal_mode(t, lam, S, w0, c=0.0) -> np.ndarray:
    """w(t) = a(t)b(t) for the diagonal model under gradient flow, from w(0) = w₀ with a² − b² = c.

    Derivation (chapter §2): ẇ = λ(S − w)√(c² + 4w²). With q = |c|/2, r = √(S² + q²) and the
    variable y = w + √(w² + q²) (so w = (y − q²/y)/2), the ODE becomes the Riccati equation
    ẏ = 2λy(S − w) = λ(2Sy + q² − y²) = −λ(y − y₊)(y − y₋), whose solution is

        (y − y₊)/(y − y₋) = K e^{−2λrt},   y± = S ± r,   K = (y₀ − y₊)/(y₀ − y₋),

    i.e. y(t) = (y₊ − g y₋)/(1 − g) with g = K e^{−2λrt}. For c = 0 (balanced) this is the logistic
    w(t) = S/[1 + (S/w₀ − 1)e^{−2λSt}]. Arguments broadcast against each other.
    """
    y, sign, q = _diagonal_y(t, lam, S, w0, c)
    return sign * (y - q ** 2 / y) / 2


def diagonal_rapidity(t, lam, S, w0, c=0.0) -> np.ndarray:
    """The rapidity τ(t) of the diagonal model's gradient flow: every path is a boost

        a(t) = a₀ cosh τ + b₀ sinh τ,   b(t) = a₀ sinh τ + b₀ cosh τ,   τ(t) = ∫₀ᵗ λ(S − w) dt',

    and since y = w + √(w² + c²/4) = (a + b)²/2 grows as e^{2τ}, τ(t) = ½ ln(y(t)/y₀) with the y(t) of
    :func:`diagonal_mode` (for S < 0 the sign of τ flips with it). :class:`course_utils.theory.lazy_rich.ScalarModel`
    is this model for a whole layer of units (c² = Q² − 4U², Q = Σ(a² + b²), U = Σab)."""
    y, sign, q = _diagonal_y(t, lam, S, w0, c)
    w0s = _finite(w0, "w0") * sign
    return sign * 0.5 * np.log(y / (w0s + np.hypot(w0s, q)))


def diagonal_time_to(w, lam, S, w0, c=0.0) -> np.ndarray:
    """The time at which the diagonal model's product reaches w (between w₀ and S):
    t = ln[K (y − y₋)/(y − y₊)]/(2λr), the inverse of :func:`diagonal_mode`."""
    lam, S_pos, sign, q, r, K = _diag_setup(lam, S, w0, c)
    w = _finite(w, "w")
    V.broadcast(w=w, lam=lam, S=S, w0=w0, c=c)
    w = w * sign
    w0s = np.asarray(w0, dtype=float) * sign
    if np.any((w - w0s) * (S_pos - w) < 0) or np.any(w == S_pos):
        raise V.ArgumentError("w must lie between w₀ and S (S itself is reached only as t → ∞)")
    y = w + np.hypot(w, q)
    return np.log(K * (y - (S_pos - r)) / (y - (S_pos + r))) / (2 * lam * r)


def crossing_time(fraction, lam, S, w0, c=0.0) -> np.ndarray:
    """The time at which the diagonal model has learned ``fraction`` of its target, w = fraction·S.

    The chapter calls fraction = 0.1 the *emergence* time, 0.5 the midpoint, 0.9 the *saturation* time.
    """
    f = _finite(fraction, "fraction")
    if np.any(f <= 0) or np.any(f >= 1):
        raise V.ArgumentError(f"fraction must lie in (0, 1), got {f}")
    return diagonal_time_to(f * _finite(S, "S"), lam, S, w0, c)


def small_init_midpoint(lam, S, w0) -> np.ndarray:
    """Leading order for w₀ ≪ S (balanced): the sigmoid's midpoint t½ = ln(S/w₀ − 1)/(2λS) ≈ ln(S/w₀)/(2λS)."""
    lam, S, w0 = _positive(lam, "lam"), _positive(S, "S"), _positive(w0, "w0")
    V.broadcast(lam=lam, S=S, w0=w0)
    if np.any(w0 >= S):
        raise V.ArgumentError("w0 must be below S (the midpoint S/2 of a sigmoid that starts at w0 < S/2)")
    return np.log(S / w0 - 1) / (2 * lam * S)


def rise_time(lam, S, low: float = 0.1, high: float = 0.9) -> np.ndarray:
    """Width of the balanced sigmoid: t(high·S) − t(low·S) = ln[high(1 − low)/(low(1 − high))]/(2λS)
    (= ln 81/(2λS) from 10 % to 90 %), independent of the initialisation."""
    lam, S = _positive(lam, "lam"), _positive(S, "S")
    V.broadcast(lam=lam, S=S)
    low, high = V.real("low", low), V.real("high", high)
    if not 0 < low < high < 1:
        raise V.ArgumentError(f"need 0 < low < high < 1, got low={low}, high={high}")
    return np.log(high * (1 - low) / (low * (1 - high))) / (2 * lam * S)


def is_stage_like(t_emerge, t_saturate) -> bool:
    """Stage-like learning: ordered by emergence, every mode saturates before the next emerges,
    t_sat(k) < t_em(k+1). Takes the emergence and saturation times of the modes (any order)."""
    dims = V.Dims()
    t_emerge = V.array("t_emerge", t_emerge, shape=("modes",), dims=dims)
    t_saturate = V.array("t_saturate", t_saturate, shape=("modes",), dims=dims)
    if np.any(t_saturate <= t_emerge):
        raise V.ArgumentError("each mode must saturate after it emerges")
    order = np.argsort(t_emerge)
    return bool(np.all(t_saturate[order][:-1] < t_emerge[order][1:]))


def conservation_drift(lr: float, T: float, lam, S, w0, c=0.0) -> np.ndarray:
    """First-order prediction of the relative change of c = a² − b² under gradient descent.

    One step a ← a − ηgb, b ← b − ηga (g = λ(ab − S)) gives c ← c(1 − η²g²) exactly, so after
    the time T = η × steps, ln(c_T/c_0) = Σ ln(1 − η²g²) ≈ −η ∫₀ᵀ g(t)² dt along the flow.
    Returns −η ∫₀ᵀ λ²(w(t) − S)² dt (quadrature of the closed form), one value per mode.
    """
    lr, T = V.positive("lr", lr), V.positive("T", T)
    arrays = dict(lam=_positive(lam, "lam"), S=_finite(S, "S"), w0=_finite(w0, "w0"), c=_finite(c, "c"))
    V.broadcast(**arrays)
    lam, S, w0, c = np.broadcast_arrays(*arrays.values())
    out = []
    for li, si, wi, ci in zip(lam.ravel(), S.ravel(), w0.ravel(), c.ravel()):
        def g2(t, li=li, si=si, wi=wi, ci=ci):
            return (li * (diagonal_mode(t, li, si, wi, ci) - si)) ** 2
        # g² is concentrated around the midpoint t½ (where w crosses S/2) and then decays like e^{−4λr(t − t½)}:
        # break [0, T] at t½ and at 4, 16 and 64 decay times 1/(2λr) after it, so that no piece hides the transition
        t_half = float(crossing_time(0.5, li, si, wi, ci)) if (wi * si > 0 and abs(wi) < abs(si)) else 0.0
        rate = 2 * li * np.hypot(si, ci / 2)                  # 2λr (0 only for S = c = 0, which diagonal_mode refuses)
        after = [t_half + k / rate for k in (4, 16, 64)] if rate > 0 else []
        edges = [0.0] + [e for e in [t_half, *after] if 0.0 < e < T] + [T]
        out.append(-lr * sum(quad(g2, a, b, limit=200)[0] for a, b in zip(edges[:-1], edges[1:])))
    return np.array(out).reshape(lam.shape)


# --------------------------------------------------------------------------------------------
# Deep linear networks: balanced, decoupled modes (Saxe et al.)
# --------------------------------------------------------------------------------------------

def _check_depth(depth) -> int:
    return V.integer("depth", depth, low=1)


def saxe_rhs(u, s, depth: int, lam=1.0) -> np.ndarray:
    """du/dt = Lλ u^{2 − 2/L}(s − u): the strength u = a^L of a balanced, decoupled mode of a depth-L
    linear network (each of its L layers carries a, so ȧ = λa^{L−1}(s − a^L)). Depth 1: the linear model."""
    L = _check_depth(depth)
    u, s, lam = _finite(u, "u"), _finite(s, "s"), _positive(lam, "lam")
    V.broadcast(u=u, s=s, lam=lam)
    return L * lam * np.abs(u) ** (2 - 2 / L) * (s - u)


def _G(v, p):
    """G(v) = ∫ v^{−p}/(1 − v) dv = v^{1−p}/(1−p) · ₂F₁(1, 1−p; 2−p; v) for p ≠ 1, 0 < v < 1."""
    return v ** (1 - p) / (1 - p) * hyp2f1(1.0, 1 - p, 2 - p, v)


def saxe_time_to(u, s, u0, depth: int, lam=1.0) -> np.ndarray:
    """The time at which a balanced, decoupled mode of a depth-L linear network reaches strength u.

    t = (1/Lλ)∫_{u₀}^{u} du'/(u'^p (s − u')), p = 2 − 2/L:
    L = 1: ln[(s − u₀)/(s − u)]/λ;  L = 2: ln[u(s − u₀)/(u₀(s − u))]/(2λs) (Saxe et al. 2014);
    L ≥ 3: s^{−p}[G(u/s) − G(u₀/s)]/(Lλ) with G(v) = v^{1−p}₂F₁(1, 1−p; 2−p; v)/(1−p). Needs 0 < u₀ ≤ u < s.
    """
    L = _check_depth(depth)
    s, u0, lam = _positive(s, "s"), _positive(u0, "u0"), _positive(lam, "lam")
    u = _finite(u, "u")
    V.broadcast(u=u, s=s, u0=u0, lam=lam)
    if np.any(u0 >= s) or np.any(u < u0) or np.any(u >= s):
        raise V.ArgumentError(f"saxe_time_to needs 0 < u0 ≤ u < s, got u0 = {u0}, u = {u}, s = {s}")
    if L == 1:
        return np.log((s - u0) / (s - u)) / lam
    if L == 2:
        return np.log(u * (s - u0) / (u0 * (s - u))) / (2 * lam * s)
    p = 2 - 2 / L
    return s ** (-p) * (_G(u / s, p) - _G(u0 / s, p)) / (L * lam)


def saxe_mode(t, s, u0, depth: int, lam=1.0) -> np.ndarray:
    """u(t) of a balanced, decoupled mode of a depth-L linear network, from u(0) = u₀ (0 < u₀ < s).

    L = 1: s + (u₀ − s)e^{−λt}; L = 2: the logistic s/[1 + (s/u₀ − 1)e^{−2λst}]; L ≥ 3: the inverse of
    :func:`saxe_time_to`, found by bisection in logit(u/s) (60 halvings: exact to rounding).
    ``s``, ``u0``, ``lam`` are scalars; ``t`` an array of times.
    """
    L = _check_depth(depth)
    t = _times(t)
    s, u0, lam = (V.positive(name, v) for name, v in (("s", s), ("u0", u0), ("lam", lam)))
    if u0 >= s:
        raise V.ArgumentError("saxe_mode needs 0 < u0 < s")
    if L == 1:
        return s + (u0 - s) * np.exp(-lam * t)
    if L == 2:
        return s / (1 + (s / u0 - 1) * np.exp(-2 * lam * s * t))
    v0 = u0 / s
    lo = np.full(t.shape, np.log(v0 / (1 - v0)))
    hi = np.full(t.shape, 40.0)                       # 1 − v = e^{−40}: beyond float64's reach of s − u
    for _ in range(60):
        mid = (lo + hi) / 2
        v = 1 / (1 + np.exp(-mid))
        below = saxe_time_to(np.clip(v * s, u0, np.nextafter(s, 0)), s, u0, L, lam) < t
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return s / (1 + np.exp(-(lo + hi) / 2))


def saxe_plateau_time(s, u0, depth: int, lam=1.0) -> np.ndarray:
    """Leading order for u₀ ≪ s of the time to reach s/2 (the length of the plateau before mode s):
    L = 1: ln 2/λ;  L = 2: ln(s/u₀)/(2λs);  L ≥ 3: 1/[(L − 2)λ s u₀^{1−2/L}] (a power of 1/u₀, not a log)."""
    L = _check_depth(depth)
    s, u0, lam = _positive(s, "s"), _positive(u0, "u0"), _positive(lam, "lam")
    V.broadcast(s=s, u0=u0, lam=lam)
    if L == 1:
        return np.log(2) / lam * np.ones(np.broadcast(s, u0).shape)
    if L == 2:
        return np.log(s / u0) / (2 * lam * s)
    return 1 / ((L - 2) * lam * s * u0 ** (1 - 2 / L))


# --------------------------------------------------------------------------------------------
# Random initialisation: small (silent alignment) and large (lazy)
# --------------------------------------------------------------------------------------------

def silent_alignment_strength(W1, W2, target_map) -> np.ndarray:
    """Effective initial strengths u_eff,α = |W₁v_α + W₂ᵀu_α|²/4 of a two-layer linear network
    W₂W₁ started from small random weights, for the singular modes (u_α, s_α, v_α) of the target M.

    While the weights are small, Ẇ₁ = W₂ᵀM and Ẇ₂ = MW₁ᵀ; the hidden vectors x = W₁v_α and
    y = W₂ᵀu_α obey ẋ = s_α y, ẏ = s_α x, so x + y grows as e^{s_α t}, x − y decays, and
    u_α = x·y → ¼|x₀ + y₀|² e^{2s_α t}: the early growth of a balanced mode started at u_eff,α.
    Returns one value per singular value of M (descending).
    """
    dims = V.Dims()
    W1 = V.array("W1", W1, shape=("h", "d_in"), dims=dims)
    W2 = V.array("W2", W2, shape=("d_out", "h"), dims=dims)
    M = V.array("target_map", target_map, shape=("d_out", "d_in"), dims=dims)
    U, _, Vt = np.linalg.svd(M, full_matrices=False)
    z = W1 @ Vt.T + W2.T @ U                     # column α: x₀ + y₀ of mode α
    return np.sum(z ** 2, axis=0) / 4


def lazy_residual(weights: Sequence, target_map, t, lr: float | None = None) -> np.ndarray:
    """The residual R(t) = W(t) − M of the *linearised* deep linear network (the lazy/NTK picture).

    Linearising W_L⋯W_1 around the initial weights and training on ½‖W − M‖_F² gives
    Ṙ = −Σ_l P_lP_lᵀ R Q_lᵀQ_l with P_l = W_L⋯W_{l+1}, Q_l = W_{l−1}⋯W_1: a linear ODE whose
    generator is the tangent kernel Θ = Σ_l (P_lP_lᵀ) ⊗ (Q_lᵀQ_l), so R(t) = e^{−Θt}R(0).
    With ``lr`` given, gradient descent on the linearised model instead, R(t) = (1 − ηΘ)^{t/η}R(0)
    (exact for the linearised model; t = η × steps). Returns shape (len(t), d_out, d_in).
    """
    if isinstance(weights, (str, bytes, np.ndarray)) or not isinstance(weights, Sequence) or len(weights) == 0:
        raise V.ArgumentError(f"weights must be a non-empty list of weight matrices [W_1, …, W_L], got "
                              f"{V.show(weights)}")
    dims = V.Dims()
    Ws = [V.array(f"weights[{l}]", W, shape=(f"d_{l + 1}", f"d_{l}"), dims=dims) for l, W in enumerate(weights)]
    t = _times(np.atleast_1d(t))
    d_out, d_in = Ws[-1].shape[0], Ws[0].shape[1]
    M = V.array("target_map", target_map, shape=(d_out, d_in))
    Theta = np.zeros((d_out * d_in, d_out * d_in))
    for l in range(len(Ws)):
        P = np.eye(d_out)
        for W in Ws[l + 1:][::-1]:
            P = P @ W
        Q = np.eye(d_in)
        for W in Ws[:l]:
            Q = W @ Q
        Theta += np.kron(P @ P.T, Q.T @ Q)        # row-major vec(R): vec(A R B) = (A ⊗ Bᵀ) vec(R)
    R0 = _product(Ws) - M
    ev, E = np.linalg.eigh(Theta)
    coef = E.T @ R0.ravel()
    if lr is None:
        decay = np.exp(-np.outer(t, ev))
    else:
        lr = V.positive("lr", lr)
        decay = (1 - lr * ev[None, :]) ** np.round(t / lr)[:, None]
    R = (E[None] * decay[:, None, :]) @ coef
    return R.reshape(len(t), d_out, d_in)


def _product(Ws):
    W = Ws[0]
    for Wl in Ws[1:]:
        W = Wl @ W
    return W
