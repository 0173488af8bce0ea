"""The excess log loss of estimating a categorical distribution by counting: exact and asymptotic.

Used by the chapter "Scaling laws from counting" (book/06_scaling/01_scaling_from_counting).

N samples from p = (p_1, …, p_K) give counts n_k. The **add-β estimator** (β = 1: Laplace,
β = 1/2: Krichevsky–Trofimov) is the posterior mean under a Dirichlet(β, …, β) prior,

    q_k = (n_k + β) / (N + Kβ).

Its excess log loss on a fresh sample is the Kullback–Leibler divergence
KL(p‖q) = Σ_k p_k log(p_k / q_k) (nats), and its expectation over the data is

    E KL = Σ_k p_k log p_k + log(N + Kβ) − Σ_k p_k E[log(n_k + β)],   n_k ~ Binomial(N, p_k),   (1)

a sum over the *marginal* binomial distribution of each count, which :func:`expected_kl` evaluates
exactly. Expanding log(n_k + β) around N p_k to fourth order in the fluctuation gives

    E KL = (K − 1)/(2N) + c₂/N² + O(N⁻³),
    c₂ = (β²/2 − β + 5/12) S + Kβ − K²β²/2 − K/2 + 1/12,   S = Σ_k 1/p_k,                       (2)

(:func:`expected_kl_asymptotic`, derived in the chapter). The leading term does not depend on β
or on p; the correction does, through S, so the expansion holds once N p_k (1 − p_k) ≫ 1 for every k.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from .. import validate

__all__ = ["add_beta_estimate", "kl_divergence", "expected_kl", "expected_kl_asymptotic",
           "second_order_coefficient", "unseen_probability", "missing_mass", "expected_seen", "top_n_floor", "top_n_expected_kl",
           "quantize_log_probabilities", "quantization_floor"]


def _probabilities(p, positive: bool = False) -> np.ndarray:
    p = validate.probabilities("p", p, min_size=2)
    if positive and np.any(p == 0):
        raise ValueError("the asymptotic expansion needs every p_k > 0 (it is an expansion in 1/(N p_k))")
    return p / p.sum()


def _beta(beta: float) -> float:
    # β = 0 gives an infinite expected log loss; NaN and inf are refused too
    return validate.real("beta (the pseudo-count β)", beta, low=0.0, low_open=True)


def _sample_sizes(N) -> np.ndarray:
    N_arr = validate.array("N (the number of samples)", N, dtype=None, allow_empty=True)
    if N_arr.dtype.kind not in "iuf":
        raise validate.ArgumentError(f"the number of samples N must be an integer (or an array of integers), "
                                     f"got {validate.show(N)}")
    if not np.all(N_arr == np.round(N_arr)):
        raise ValueError(f"the number of samples N must be an integer (or an array of integers), got {N!r}")
    if np.any(N_arr >= 2 ** 62):
        raise validate.ArgumentError(f"the number of samples N must be below 2^62 (a 64-bit integer), got {N!r}")
    N_arr = N_arr.astype(np.int64)
    if np.any(N_arr < 0):
        raise ValueError(f"the number of samples N must be non-negative, got {N!r}")
    return N_arr


def add_beta_estimate(counts, beta: float) -> np.ndarray:
    """The add-β estimate q_k = (n_k + β)/(N + Kβ) from counts of shape (..., K), row by row."""
    beta = _beta(beta)
    n = validate.array("counts", counts, allow_empty=True)
    if n.ndim < 1 or n.shape[-1] < 2 or np.any(n < 0):
        raise ValueError(f"counts must be non-negative with a last axis of K ≥ 2 categories, got shape {n.shape}")
    return (n + beta) / (n.sum(axis=-1, keepdims=True) + n.shape[-1] * beta)


def kl_divergence(p, q) -> np.ndarray:
    """KL(p‖q) = Σ_k p_k log(p_k/q_k) in nats, for one truth p (K,) and estimates q (..., K); 0 log 0 = 0."""
    p = _probabilities(p)
    q = validate.array("q", q, allow_empty=True)
    if q.ndim < 1 or q.shape[-1] != p.size:
        raise ValueError(f"q must have a last axis of length K = {p.size}, got shape {q.shape}")
    if np.any(q < 0):
        raise validate.ArgumentError("q must hold probabilities (non-negative numbers), got negative entries")
    seen = p > 0
    return np.sum(p[seen] * (np.log(p[seen]) - np.log(q[..., seen])), axis=-1)


def _expected_log_ratio(p: np.ndarray, N: int, beta: float) -> np.ndarray:
    """E[log((n_k + β)/(N p_k))] for n_k ~ Binomial(N, p_k), one value per k (all p_k > 0).

    The sum runs over n within 12 standard deviations (+15) of the mean, where all but a
    negligible part of the probability lies; the truncated weights are renormalised.
    """
    mean = N * p
    # The window's width (sd, 12, 15, the +1) only truncates a sum whose terms outside it are below
    # 1e-30: a wider window gives the same numbers, so mutants that widen it are equivalent.
    sd = np.sqrt(N * p * (1 - p))  # pragma: no mutate
    lo = np.maximum(0, np.floor(mean - 12 * sd - 15)).astype(np.int64)  # pragma: no mutate
    hi = np.minimum(N, np.ceil(mean + 12 * sd + 15)).astype(np.int64)  # pragma: no mutate
    lengths = hi - lo + 1  # pragma: no mutate
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    k = np.repeat(np.arange(p.size), lengths)
    n = lo[k] + np.arange(lengths.sum()) - starts[k]
    w = binom.pmf(n, N, p[k])
    # log1p of the relative deviation keeps the O(1/N) result accurate when N is large
    vals = np.log1p((n + beta - mean[k]) / mean[k])
    # the renormalisation divides by Σ w = 1 − (< 1e-30): multiplying instead is an equivalent mutant
    return np.add.reduceat(w * vals, starts) / np.add.reduceat(w, starts)  # pragma: no mutate


def expected_kl(p, N, beta: float) -> np.ndarray:
    """Exact E[KL(p‖q)] of the add-β estimator from N samples, equation (1) of the module docstring.

    ``p``: the true distribution (K,), zeros allowed; ``N``: an integer or an array of integers;
    returns a float array of the shape of ``N``. For N = 0 the estimate is uniform: KL(p‖1/K).
    Exact up to rounding (relative error ≲ 1e-9 for N up to 10⁸).
    """
    p = _probabilities(p)
    beta = _beta(beta)
    N_arr = _sample_sizes(N)
    if np.any(N_arr > 10 ** 12):
        # the exact sum runs over ~24 √(N p_k) counts per category: beyond 10¹² it would not fit in memory
        raise validate.ArgumentError(f"expected_kl sums over the binomial distribution exactly and needs N ≤ 10^12, "
                                     f"got {N!r}; use expected_kl_asymptotic for larger N")
    K = p.size
    pos = p[p > 0]
    out = np.empty(N_arr.shape, dtype=float)
    for idx, n_samples in np.ndenumerate(N_arr):
        n_samples = int(n_samples)
        if n_samples == 0:
            out[idx] = float(np.sum(pos * np.log(pos * K)))
        else:
            out[idx] = np.log1p(K * beta / n_samples) - float(pos @ _expected_log_ratio(pos, n_samples, beta))
    return out


def second_order_coefficient(p, beta: float) -> float:
    """c₂ of equation (2): E KL = (K−1)/(2N) + c₂/N² + O(N⁻³) for the add-β estimator (all p_k > 0).

    c₂ = (β²/2 − β + 5/12) S + Kβ − K²β²/2 − K/2 + 1/12 with S = Σ_k 1/p_k.
    For a Bernoulli variable with β = 1/2: c₂ = 1/(24 p(1−p)) − 5/12.
    """
    p = _probabilities(p, positive=True)
    beta = _beta(beta)
    K, S = p.size, float(np.sum(1 / p))
    return (beta ** 2 / 2 - beta + 5 / 12) * S + K * beta - K ** 2 * beta ** 2 / 2 - K / 2 + 1 / 12


def expected_kl_asymptotic(p, N, beta: float, order: int = 2) -> np.ndarray:
    """The large-N expansion of E KL: (K−1)/(2N) (``order=1``) or (K−1)/(2N) + c₂/N² (``order=2``).

    Valid once N p_k(1 − p_k) ≫ 1 for every category; see :func:`second_order_coefficient`.
    """
    p = _probabilities(p, positive=True)
    N_arr = validate.array("N", N, allow_empty=True)
    if np.any(N_arr <= 0):
        raise ValueError(f"the expansion is in 1/N: N must be positive, got {N!r}")
    order = validate.integer("order", order, low=1, high=2)
    _beta(beta)
    lead = (p.size - 1) / (2 * N_arr)
    return lead if order == 1 else lead + second_order_coefficient(p, beta) / N_arr ** 2


def _n_log_unseen(p: np.ndarray, N_arr: np.ndarray) -> np.ndarray:
    """N log(1 − p_k), the log-probability that category k is not among N samples, shape N.shape + (K,).

    It is 0 at N = 0 for every p_k, also p_k = 1, where N log(1 − p_k) would be 0·(−∞) = NaN.
    """
    sure = p == 1
    x = N_arr[..., None] * np.log1p(-np.where(sure, 0.0, p))        # log(1 − p_k) where p_k < 1
    return np.where(sure & (N_arr[..., None] > 0), -np.inf, x)


def unseen_probability(p, N) -> np.ndarray:
    """(1 − p_k)^N: the probability that category k is absent from N independent samples, shape N.shape + (K,).

    The one formula behind :func:`missing_mass`, :func:`expected_seen` and the data law of the quanta model
    (:func:`course_utils.theory.quanta.expected_loss_data`: a skill never seen is never learned). N may be any
    real number ≥ 0 there (a smooth interpolation between data-set sizes); (1 − 1)⁰ = 1.
    """
    p = validate.array("p", p, ndim=1)
    if np.any(p < 0) or np.any(p > 1):
        raise validate.ArgumentError(f"p must hold probabilities in [0, 1], got {validate.show(p)}")
    N_arr = validate.array("N (the number of samples)", N, allow_empty=True)
    if np.any(N_arr < 0):
        raise validate.ArgumentError(f"the number of samples N must be non-negative, got {validate.show(N)}")
    return np.exp(_n_log_unseen(p, N_arr))


def missing_mass(p, N) -> np.ndarray:
    """Expected probability of the categories not seen in N samples: M(N) = Σ_k p_k (1 − p_k)^N.

    For Zipf's law p_k ∝ k^(−1−α) on infinitely many categories, M(N) ∝ N^(−α/(1+α)).
    """
    p = _probabilities(p)
    return np.sum(p * unseen_probability(p, _sample_sizes(N).astype(float)), axis=-1)


def expected_seen(p, N) -> np.ndarray:
    """Expected number of distinct categories in N samples: Σ_k [1 − (1 − p_k)^N]."""
    p = _probabilities(p)
    N_arr = _sample_sizes(N).astype(float)
    return np.sum(-np.expm1(_n_log_unseen(p, N_arr)), axis=-1)       # 1 − (1 − p_k)^N without cancellation


def top_n_floor(p, n: int) -> float:
    """Loss floor of a model that stores only the n most probable categories (p sorted, largest first)
    and spreads the rest of the mass R_n = Σ_{k>n} p_k uniformly over the other K − n:

        F(n) = Σ_{k>n} p_k log(p_k (K − n) / R_n)    (the N → ∞ limit of :func:`top_n_expected_kl`).
    """
    p = _probabilities(p)
    K = p.size
    n = validate.integer(f"n (the number of stored categories, K = {K})", n, low=1, high=K)
    if np.any(np.diff(p) > 0):
        raise ValueError("p must be sorted from the most to the least probable category")
    tail = p[n:]
    R = tail.sum()
    if n == K or R == 0:
        return 0.0
    t = tail[tail > 0]
    return float(np.sum(t * np.log(t * (K - n) / R)))


def top_n_expected_kl(p, N, n: int, beta: float) -> np.ndarray:
    """Exact expected excess loss of the top-n model trained on N samples.

    The model keeps add-β estimates of the n most probable categories and of one "other" bucket
    (all the rest, counted together), and spreads the bucket's probability uniformly inside it.
    By the chain rule of the KL divergence,

        E L(N, n) = E KL(p_coarse‖q_coarse) + F(n),   p_coarse = (p_1, …, p_n, R_n),

    the first term being :func:`expected_kl` on n + 1 categories and F(n) :func:`top_n_floor`.
    """
    p = _probabilities(p)
    n = validate.integer(f"n (the number of stored categories, K = {p.size})", n, low=1, high=p.size)
    floor = top_n_floor(p, n)
    coarse = p if n >= p.size - 1 else np.concatenate([p[:n], [p[n:].sum()]])
    return expected_kl(coarse, N, beta) + floor


def quantize_log_probabilities(q, bits: int, log_min: float) -> np.ndarray:
    """Store log q_k with ``bits`` bits each: round it to the nearest of 2^bits levels evenly spaced on
    [log_min, 0] (values below log_min are clipped), then renormalise. Rows of q (..., K)."""
    # more than 52 bits is finer than a float64 resolves (and 2^bits overflows a float from 1024 on)
    bits = validate.integer("bits", bits, low=1, high=52)
    log_min = validate.real("log_min (the smallest storable log-probability)", log_min, high=0.0, high_open=True)
    q = validate.array("q", q)
    if q.ndim < 1 or np.any(q < 0) or np.any(q.sum(axis=-1) <= 0):
        raise validate.ArgumentError(f"q must hold rows of probabilities (non-negative, each row with a positive "
                                     f"sum), got {validate.show(q)}")
    step = -log_min / (2 ** bits - 1)
    level = np.round((np.clip(np.log(q), log_min, 0.0) - log_min) / step)
    w = np.exp(log_min + level * step)
    return w / w.sum(axis=-1, keepdims=True)


def quantization_floor(bits, log_min: float) -> np.ndarray:
    """Heuristic loss floor of :func:`quantize_log_probabilities` applied to the truth:
    Δ²/24 with Δ = |log_min|/(2^bits − 1).

    Rounding shifts each log-probability by δ_k, roughly uniform on [−Δ/2, Δ/2]; after
    renormalisation KL = log E_p e^δ − E_p δ ≈ Var_p(δ)/2 = Δ²/24. It falls like 4^(−bits).
    """
    b = validate.array("bits", bits, allow_empty=True)
    if np.any(b < 1) or np.any(b > 52):
        raise ValueError(f"bits must be ≥ 1 (and at most 52, the bits of a float64 mantissa), got {bits!r}")
    log_min = validate.real("log_min", log_min, high=0.0, high_open=True)
    step = -log_min / (2 ** b - 1)
    return step ** 2 / 24
