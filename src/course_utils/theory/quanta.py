"""The multilinear model of skills ("quanta"): closed-form learning of each skill and the scaling laws.

The model (Nam et al. 2024, in the spirit of Michaud et al. 2023's quantization model) is

    f(x) = Σ_k a_k b_k g_k(x),        target  f*(x) = S Σ_k g_k(x),

with skill functions g_k orthogonal under the data distribution, E[g_k g_l] = p_k δ_kl (for
multitask sparse parity, g_k(x) = [control bit k is on] · (±1 parity of skill k's bits)). The
training loss ½E[(f* − f)²] = ½ Σ_k p_k (S − s_k)² splits into one term per skill strength
s_k = a_k b_k. Gradient flow ȧ_k = p_k b_k (S − s_k), ḃ_k = p_k a_k (S − s_k) from a_k = b_k gives

    ṡ_k = p_k (a_k² + b_k²)(S − s_k) = 2 p_k s_k (S − s_k)
    ⇒ s_k(t) = S / (1 + (S/s_k(0) − 1) e^{−2 S p_k t})                       (a sigmoid),

the normalised loss L = E[(f* − f)²]/E[f*²] = Σ_k p_k (1 − s_k/S)², and, with Zipf frequencies
p_k = k^−(α+1)/Z, the scaling laws (the "learned iff" argument, made exact by the continuum
limit of the sums; τ = 2 S t):

    time        L ≈ A_T τ^(−α/(α+1)) (− the Zipf tail beyond n_s, :func:`zipf_tail`),   A_T = Z^(−1/(α+1))/(α+1) ∫_0^∞ v^(−1/(α+1)) (1 − σ(v))² dv
    data        L ≈ A_D D^(−α/(α+1)),   A_D = Z^(−1/(α+1)) Γ(α/(α+1))/(α+1)    (a skill is learned iff seen)
    parameters  L = Σ_{k>N} p_k ≈ [(N+½)^(−α) − (n_s+½)^(−α)] / (α Z)           (N units, first N skills)
    compute     L* ∝ C^(−α/(α+2))  on the frontier C = N · steps.

For trained networks, :func:`fit_logistic` and :func:`calibrated_sigmoids` calibrate the sigmoid on one
skill and move it to the others (p_1 t → p_k t), and :func:`count_threshold_law` is the count law
R_k/S = min(n_k/D_c, 1) of a skill that needs D_c samples (:func:`fit_count_threshold` calibrates D_c).

Every closed form here is checked against :func:`gradient_descent` in ``tests/test_theory_quanta.py``.
Used by the chapter "Skills, quanta and emergence" (book/06_scaling/03_skills_and_quanta).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from .. import validate as V
from . import counting, layerwise
from ..data.counting import zipf_probabilities

__all__ = ["exponents", "skill_probabilities", "normaliser", "zipf_tail", "skill_strength", "half_time", "gradient_descent",
           "loss_from_strengths", "loss_time", "time_law_prefactor", "expected_loss_data", "data_law_prefactor",
           "loss_parameters", "parameter_law_asymptote", "loss_with_units", "loss_time_parameters",
           "compute_frontier", "lower_envelope", "logistic", "fit_logistic", "calibrated_sigmoids",
           "count_threshold_law", "fit_count_threshold"]


def exponents(alpha: float) -> dict[str, float]:
    """The four exponents of L ∝ X^(−exponent) for Zipf frequencies p_k ∝ k^−(α+1).

    time α/(α+1), data α/(α+1), parameters α, compute α/(α+2).
    """
    alpha = _check_alpha(alpha)
    return {"time": alpha / (alpha + 1), "data": alpha / (alpha + 1), "parameters": alpha,
            "compute": alpha / (alpha + 2)}


def _check_alpha(alpha: float) -> float:
    return V.real("alpha (the Zipf exponent, p_k ∝ k^-(alpha+1))", alpha, low=0.0, low_open=True)


def _check_p(p) -> np.ndarray:
    return V.probabilities("p", p, what="skill probabilities")


def _check_init(S: float, s0: float, name: str = "s0") -> None:
    S = V.real("S (the target scale)", S, low=0.0, low_open=True)
    V.real(f"{name} (the initial strength)", s0, low=0.0, high=S, low_open=True, high_open=True)


def _n_skills(n_skills) -> int | float:
    """A positive whole number of skills, or ``math.inf``."""
    if isinstance(n_skills, (int, float, np.floating)) and not isinstance(n_skills, bool) and n_skills == math.inf:
        return n_skills
    return V.positive_int("n_skills", n_skills)


def _whole(name: str, value, low: int | None = 0, high: int | None = None) -> np.ndarray:
    """An array of whole numbers in [low, high] (an int array of the same shape)."""
    a = V.array(name, value, allow_empty=True)
    if np.any(a != np.round(a)) or (low is not None and np.any(a < low)) or (high is not None and np.any(a > high)):
        bounds = f" in [{low}, {high}]" if high is not None else f" ≥ {low}"
        raise V.ArgumentError(f"{name} must hold whole numbers{bounds}, got {V.show(value) if a.ndim else value!r}")
    return a.astype(int)


def skill_probabilities(n_skills: int, alpha: float) -> np.ndarray:
    """p_k = k^−(α+1)/Z for k = 1 … n_skills (:func:`course_utils.data.counting.zipf_probabilities` with
    exponent α + 1, the frequencies of :class:`~course_utils.data.sparse_parity.MultitaskSparseParity`)."""
    return zipf_probabilities(V.positive_int("n_skills", n_skills), _check_alpha(alpha) + 1.0)


def normaliser(n_skills: int | float, alpha: float) -> float:
    """Z = Σ_{k=1}^{n_s} k^−(α+1) (ζ(α+1) for ``n_skills=math.inf``)."""
    alpha = _check_alpha(alpha)
    n_skills = _n_skills(n_skills)
    if n_skills == math.inf:
        from scipy.special import zeta
        return float(zeta(alpha + 1))
    return float(np.sum(np.arange(1, int(n_skills) + 1, dtype=float) ** (-(alpha + 1))))


def zipf_tail(n_skills: int | float, alpha: float) -> float:
    """(n_s + ½)^(−α) / (α Z): the weight the continuum Zipf law puts beyond the last skill n_s.

    The continuum asymptotes of the time and data laws integrate over k up to ∞; with a finite
    number of skills subtract this (valid while the learned skills k* ≪ n_s). Zero for n_s = ∞.
    """
    alpha = _check_alpha(alpha)
    n_skills = _n_skills(n_skills)
    if n_skills == math.inf:
        return 0.0
    return (float(n_skills) + 0.5) ** (-alpha) / (alpha * normaliser(n_skills, alpha))


def skill_strength(t, p, S: float = 1.0, s0: float = 1e-4) -> np.ndarray:
    """s_k(t) = S / (1 + (S/s0 − 1) e^{−2 S p_k t}): the sigmoid of each skill under gradient flow.

    A skill is a balanced two-weight (Saxe) mode with λ = p_k: this is
    :func:`course_utils.theory.layerwise.diagonal_mode` with lam = p, w0 = s0 (a skill with p_k = 0 stays at s0).
    ``t`` (gradient-flow time = learning rate × steps) and ``p`` broadcast: t of shape (R, 1) and
    p of shape (n_s,) give (R, n_s). For a training set, put the empirical frequencies n_k/D in p.
    """
    _check_init(S, s0)
    t, p = V.array("t", t, allow_empty=True), V.array("p", p, allow_empty=True)
    V.broadcast(t=t, p=p)
    if np.any(t < 0) or np.any(p < 0):
        raise V.ArgumentError("times t and rates p must be non-negative")
    asked = p > 0
    s = layerwise.diagonal_mode(t, np.where(asked, p, 1.0), S, s0)
    return np.where(asked, s, np.broadcast_to(s0, s.shape))


def half_time(p, S: float = 1.0, s0: float = 1e-4) -> np.ndarray:
    """The gradient-flow time at which skill k is half learned, s_k = S/2: t_k = ln(S/s0 − 1) / (2 S p_k).

    It grows as 1/p_k ∝ k^(α+1) for Zipf frequencies; divide by the learning rate for GD steps.
    The midpoint of a balanced two-weight mode, :func:`course_utils.theory.layerwise.small_init_midpoint`.
    """
    _check_init(S, s0)
    p = V.array("p", p, allow_empty=True)
    if np.any(p <= 0):
        raise V.ArgumentError("skill frequencies p must be positive (a skill with p = 0 is never learned)")
    return layerwise.small_init_midpoint(p, S, s0) if p.size else np.empty(p.shape)


def gradient_descent(p, steps: int, lr: float, *, S: float = 1.0, a0: float = 1e-2, b0: float | None = None,
                     record_steps=None) -> np.ndarray:
    """Plain gradient descent on ½ Σ_k p_k (S − a_k b_k)², all skills at once (vectorised).

    a_k ← a_k + lr p_k b_k (S − a_k b_k),  b_k ← b_k + lr p_k a_k (S − a_k b_k), from a_k = a0,
    b_k = b0 (default a0). Returns the strengths s_k = a_k b_k at ``record_steps`` (default: every
    step), shape (len(record_steps), n_s). Stable for lr · 2 S max(p) < 2.
    """
    p = V.array("p", p, ndim=1, allow_empty=True)
    if np.any(p < 0):
        raise V.ArgumentError("p must be a 1-d array of non-negative rates (skill frequencies)")
    steps = V.nonnegative_int("steps", steps)
    lr = V.positive("lr (the learning rate)", lr)
    a0 = V.real("a0", a0)
    b0 = a0 if b0 is None else V.real("b0", b0)
    _check_init(S, a0 * b0, "a0 · b0")
    if lr * 2 * S * p.max(initial=0.0) >= 2:
        raise V.ArgumentError(f"lr = {lr} is unstable: need lr · 2 S max(p) < 2, i.e. lr < {1 / (S * p.max()):.3g}")
    record = np.arange(steps + 1) if record_steps is None else \
        _whole("record_steps", V.array("record_steps", record_steps, ndim=1, allow_empty=True))
    if record.size and (record.min() < 0 or record.max() > steps or np.any(np.diff(record) <= 0)):
        raise V.ArgumentError(f"record_steps must increase strictly and lie in [0, steps = {steps}]")
    out = np.empty((record.size, p.size))
    j, lp = 0, lr * p
    if a0 == b0:
        # a_k = b_k at every step (the two updates are the same floating-point operations), so one
        # vector suffices: a ← a + lr p (S − a²) a, computed in place (about 2.5× faster; bit-identical)
        a, err = np.full(p.size, float(a0)), np.empty(p.size)
        for step in range(steps + 1):
            while j < record.size and record[j] == step:
                np.multiply(a, a, out=out[j])
                j += 1
            if step == steps or j == record.size:
                break
            np.multiply(a, a, out=err)
            np.subtract(S, err, out=err)
            err *= lp
            err *= a
            a += err
        return out
    a, b = np.full(p.size, float(a0)), np.full(p.size, float(b0))
    for step in range(steps + 1):
        while j < record.size and record[j] == step:
            out[j] = a * b
            j += 1
        if step == steps or j == record.size:
            break
        err = lp * (S - a * b)
        a, b = a + err * b, b + err * a
    return out


def loss_from_strengths(s, p, S: float = 1.0) -> np.ndarray:
    """The normalised test loss L = E[(f* − f)²]/E[f*²] = Σ_k p_k (1 − s_k/S)² (sum over the last axis)."""
    p = _check_p(p)
    s = V.array("s", s, allow_empty=True)
    S = V.positive("S", S)
    if s.ndim == 0:
        raise V.ArgumentError(f"s must hold one strength per skill on its last axis, got the single number {s!r}")
    if s.shape[-1] != p.size:
        raise V.ArgumentError(f"s has {s.shape[-1]} skills on its last axis, p has {p.size}")
    return np.sum(p * (1.0 - s / S) ** 2, axis=-1)


def loss_time(t, p, S: float = 1.0, s0: float = 1e-4) -> np.ndarray:
    """L(t) = Σ_k p_k (1 − s_k(t)/S)² with the sigmoids of :func:`skill_strength` (gradient-flow time t)."""
    t = V.array("t", t, allow_empty=True)
    p = _check_p(p)
    return loss_from_strengths(skill_strength(t[..., None], p, S, s0), p, S)


def time_law_prefactor(alpha: float, n_skills: int | float = math.inf, S: float = 1.0,
                       s0: float = 1e-4) -> float:
    """A_T of the time law L(t) ≈ A_T τ^(−α/(α+1)), τ = 2 S t (continuum limit of the sum over k).

    Substituting v = τ p_k in Σ_k p_k h(τ p_k), h(v) = (1 − σ(v))² = (R e^{−v}/(1 + R e^{−v}))²,
    R = S/s0 − 1, gives A_T = Z^(−1/(α+1))/(α+1) ∫_0^∞ v^(−1/(α+1)) h(v) dv.
    """
    alpha = _check_alpha(alpha)
    _check_init(S, s0)
    n_skills = _n_skills(n_skills)
    R, q = S / s0 - 1.0, 1.0 / (alpha + 1.0)

    def integrand(v):                      # v^(-q) h(v), written to avoid overflow of e^v
        return v ** (-q) * (R * math.exp(-v) / (R * math.exp(-v) + 1.0)) ** 2

    v0 = max(math.log(R), 0.0)             # h falls from 1 to 0 around ln(S/s0 - 1); below 0 when s0 > S/2
    head = integrate.quad(integrand, 0, v0, limit=200)[0]
    tail = integrate.quad(integrand, v0, v0 + 80.0, limit=200)[0]
    return normaliser(n_skills, alpha) ** (-q) * q * (head + tail)


def expected_loss_data(D, p) -> np.ndarray:
    """E L(D) = Σ_k p_k (1 − p_k)^D: skills never seen in D samples stay unlearned, the others are learned.

    The limit of long training on D samples (every skill with n_k ≥ 1 samples converges to s_k = S): the
    missing mass of the counting chapter, with (1 − p_k)^D from :func:`course_utils.theory.counting.unseen_probability`.
    """
    p = _check_p(p)
    D = V.array("D", D, allow_empty=True)
    if np.any(D < 0):
        raise V.ArgumentError("the number of samples D must be non-negative")
    return np.sum(p * counting.unseen_probability(p, D), axis=-1)


def data_law_prefactor(alpha: float, n_skills: int | float = math.inf) -> float:
    """A_D of the data law L(D) ≈ A_D D^(−α/(α+1)): A_D = Z^(−1/(α+1)) Γ(α/(α+1)) / (α+1)."""
    alpha = _check_alpha(alpha)
    n_skills = _n_skills(n_skills)
    q = 1.0 / (alpha + 1.0)
    return normaliser(n_skills, alpha) ** (-q) * math.gamma(alpha * q) * q


def loss_parameters(N, p) -> np.ndarray:
    """L(N) = Σ_{k>N} p_k: a model with N skill units learns (at best) the N most frequent skills."""
    p = _check_p(p)
    N = V.array("N", N, allow_empty=True)
    if np.any(N < 0) or np.any(N != np.round(N)):
        raise V.ArgumentError(f"N (the number of skill units) must be a non-negative integer, got {N!r}")
    tail = np.concatenate([[1.0], 1.0 - np.cumsum(p)])
    return np.clip(tail[np.minimum(N.astype(int), p.size)], 0.0, None)


def parameter_law_asymptote(N, alpha: float, n_skills: int | float = math.inf) -> np.ndarray:
    """L(N) ≈ [(N + ½)^(−α) − (n_s + ½)^(−α)] / (α Z): Σ_{k=N+1}^{n_s} k^−(α+1)/Z by the midpoint rule.

    With n_s = ∞ it is the naive power law ∝ N^(−α); a finite n_s bends it down near N → n_s.
    """
    alpha = _check_alpha(alpha)
    n_skills = _n_skills(n_skills)
    N = V.array("N", N, allow_empty=True)
    if np.any(N < 0):
        raise V.ArgumentError(f"N (the number of skill units) must be non-negative, got {N!r}")
    return (N + 0.5) ** (-alpha) / (alpha * normaliser(n_skills, alpha)) - zipf_tail(n_skills, alpha)


def loss_with_units(s, p, N, S: float = 1.0) -> np.ndarray:
    """L(N) = Σ_{k≤N} p_k (1 − s_k/S)² + Σ_{k>N} p_k for every N in ``N``, from strengths s of all skills.

    A model with N skill units is the full model with the units k > N removed (f has no term for
    them), so one simulation of all n_s skills gives the loss of every smaller model. ``s`` has
    shape (..., n_s); the result has shape (..., len(N)).
    """
    p = _check_p(p)
    s = V.array("s", s, allow_empty=True)
    S = V.positive("S", S)
    if s.ndim == 0:
        raise V.ArgumentError(f"s must hold one strength per skill on its last axis, got the single number {s!r}")
    if s.shape[-1] != p.size:
        raise V.ArgumentError(f"s has {s.shape[-1]} skills on its last axis, p has {p.size}")
    N = _whole("N", N, 0, p.size)
    learned = np.cumsum(p * (1.0 - s / S) ** 2, axis=-1)
    learned = np.concatenate([np.zeros(s.shape[:-1] + (1,)), learned], axis=-1)
    tail = np.concatenate([[1.0], 1.0 - np.cumsum(p)])
    return learned[..., N] + np.clip(tail[N], 0.0, None)


def lower_envelope(x, y, x_eval) -> np.ndarray:
    """min{ y_i : x_i ≤ x } at each x in ``x_eval``: the best loss reachable with a budget x.

    With x_i = C = N · steps of every simulated (N, steps) pair this is the compute-optimal frontier.
    Budgets below the smallest x_i give NaN.
    """
    x, y = V.array("x", x).ravel(), V.array("y", y).ravel()
    if x.shape != y.shape:
        raise V.ArgumentError(f"x and y must have the same size, got {x.size} and {y.size}")
    x_eval = V.array("x_eval", x_eval, allow_empty=True)
    order = np.argsort(x, kind="stable")
    best = np.minimum.accumulate(y[order])
    idx = np.searchsorted(x[order], x_eval, side="right") - 1
    return np.where(idx >= 0, best[np.maximum(idx, 0)], np.nan)


def loss_time_parameters(t, N, p, S: float = 1.0, s0: float = 1e-4) -> np.ndarray:
    """L(N, t) = Σ_{k≤N} p_k (1 − s_k(t)/S)² + Σ_{k>N} p_k: N units (the first N skills) trained for time t.

    ``t`` and ``N`` broadcast against each other.
    """
    p = _check_p(p)
    t, N = V.array("t", t, allow_empty=True), V.array("N", N, allow_empty=True, dtype=None)
    if not (np.issubdtype(N.dtype, np.integer) or np.issubdtype(N.dtype, np.floating)) or np.any(N < 0) \
            or np.any(N != np.round(N)):
        raise V.ArgumentError(f"N (the number of skill units) must hold non-negative whole numbers, got {V.show(N)}")
    V.broadcast(t=t, N=N)
    t, N = np.broadcast_arrays(t, N)
    k = np.arange(1, p.size + 1)
    s = skill_strength(t[..., None], p, S, s0)
    return np.sum(np.where(k <= N[..., None], p * (1 - s / S) ** 2, p), axis=-1)


def compute_frontier(C, p, lr: float = 1.0, S: float = 1.0, s0: float = 1e-4,
                     n_grid: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The compute-optimal loss L*(C) = min_N L(N, steps = C/N), C = N · steps (units × steps).

    Minimises :func:`loss_time_parameters` (gradient-flow time t = lr · steps) over ``n_grid``
    log-spaced integer N in [1, n_s] with steps ≥ 1. Returns (L*, N*) of the shape of C.
    Theory: N* ∝ C^(1/(α+2)) and L* ∝ C^(−α/(α+2)).
    """
    p = _check_p(p)
    C = V.array("C", C, allow_empty=True)
    lr = V.positive("lr", lr)
    n_grid = V.positive_int("n_grid", n_grid)
    if np.any(C < 1):
        raise V.ArgumentError("compute C = N · steps must be at least 1")
    Ns = np.unique(np.round(np.geomspace(1, p.size, n_grid)).astype(int))
    L = np.full(C.shape + (Ns.size,), np.inf)
    for j, N in enumerate(Ns):
        steps = C / N
        ok = steps >= 1
        L[..., j] = np.where(ok, loss_time_parameters(lr * np.where(ok, steps, 1.0), N, p, S, s0), np.inf)
    best = np.argmin(L, axis=-1)
    return np.take_along_axis(L, best[..., None], -1)[..., 0], Ns[best]


def logistic(t, t_half: float, rate: float) -> np.ndarray:
    """σ(t) = 1 / (1 + e^{−r (t − t_half)}): the multilinear sigmoid s_k(t)/S written with its half-time.

    With t_half = ln(S/s0 − 1)/(2 S p_k) and r = 2 S p_k this is :func:`skill_strength` / S; the
    product r · t_half = ln(S/s0 − 1) is the same for every skill (one curve in p_k t).
    """
    t_half, rate = V.positive("t_half", t_half), V.positive("rate", rate)
    x = np.clip(rate * (V.array("t", t, allow_empty=True) - t_half), -700.0, 700.0)
    return 1.0 / (1.0 + np.exp(-x))


def fit_logistic(t, a) -> tuple[float, float]:
    """Least-squares fit of a(t) ≈ :func:`logistic` (t, t_half, rate) to a curve that rises from 0 to 1.

    Returns (t_half, rate). Used to calibrate the multilinear sigmoid on one skill of a trained
    network (a = (accuracy − ½)/½, the accuracy above chance as a fraction of its maximum).
    """
    from scipy.optimize import least_squares

    dims = V.Dims()
    t, a = V.array("t", t, shape=("n",), dims=dims), V.array("a", a, shape=("n",), dims=dims)
    if t.size < 3:
        raise V.ArgumentError(f"t and a must have at least 3 points, got {t.size}")
    if not (a.min() < 0.5 < a.max()):
        raise V.ArgumentError("the curve a must cross one half to locate its half-time")
    if not np.any(t > 0):
        raise V.ArgumentError("t must contain positive times (the logistic's half-time is positive)")
    t0 = t[np.argmax(a >= 0.5)]
    t0 = t0 if t0 > 0 else t[t > 0].min()
    x0 = np.log([t0, 4.0 / t0])
    res = least_squares(lambda x: logistic(t, *np.exp(x)) - a, x0)
    t_half, rate = np.exp(res.x)
    return float(t_half), float(rate)


def calibrated_sigmoids(t, p, p_ref: float, t_half_ref: float, rate_ref: float) -> np.ndarray:
    """The multilinear prediction for every skill, calibrated on one: a_k(t) = σ(r_k (t − t_k)),

    t_k = t_ref p_ref / p_k and r_k = r_ref p_k / p_ref (every skill the same curve in p_k t,
    Eq. eq-quanta-sigmoid of the chapter). ``t`` of shape (R,) and ``p`` of shape (n_s,) give (R, n_s).
    """
    p = V.array("p", p, ndim=1, allow_empty=True)
    p_ref = V.positive("p_ref", p_ref)
    t_half_ref, rate_ref = V.positive("t_half_ref", t_half_ref), V.positive("rate_ref", rate_ref)
    if np.any(p <= 0):
        raise V.ArgumentError("skill frequencies p must be positive")
    t = V.array("t", t, allow_empty=True)[..., None]
    return logistic(t * p / p_ref, t_half_ref, rate_ref)


def count_threshold_law(n, D_c: float) -> np.ndarray:
    """R_k/S = min(n_k / D_c, 1): the learned fraction of a skill seen n_k times, full at D_c samples."""
    D_c = V.positive("D_c", D_c)
    n = V.array("n", n, allow_empty=True)
    if np.any(n < 0):
        raise V.ArgumentError("n (the sample counts) must be non-negative")
    return np.minimum(n / D_c, 1.0)


def fit_count_threshold(n, a) -> float:
    """The D_c that minimises Σ (min(n/D_c, 1) − a)² over the points (n, a) of one skill (bounded search)."""
    from scipy.optimize import minimize_scalar

    n, a = V.array("n", n), V.array("a", a)
    if n.shape != a.shape or n.size < 2 or np.any(n <= 0):
        raise V.ArgumentError("n and a must have the same shape, at least 2 points, n > 0")
    lo, hi = np.log(n.min()) - np.log(10.0), np.log(n.max()) + np.log(10.0)
    res = minimize_scalar(lambda x: np.sum((count_threshold_law(n, np.exp(x)) - a) ** 2), bounds=(lo, hi),
                          method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))
