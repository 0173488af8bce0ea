"""Fourier analysis of networks that learned a + b mod p: the "clock" of Nanda et al. (2023), "Progress
measures for grokking via mechanistic interpretability", and Gromov (2023), "Grokking modular arithmetic"
(Grokking III).

Functions of a symbol a ∈ ℤ_p (p odd) are expanded in the real orthonormal Fourier basis
(:func:`fourier_basis`)

    φ₀(a) = 1/√p,   φ_{c,k}(a) = √(2/p) cos(ω_k a),   φ_{s,k}(a) = √(2/p) sin(ω_k a),   ω_k = 2πk/p,

k = 1 … F, F = (p − 1)/2 frequencies. An embedding matrix W (p symbols × n directions) has the power
P_k = Σ_j (φ_{c,k}·W_{:,j})² + (φ_{s,k}·W_{:,j})² at frequency k (:func:`frequency_power`), and the
**frequency shares** s_k = P_k / Σ_k' P_k' (:func:`frequency_shares`; the constant k = 0 is left out: a
shift of every embedding carries no information about a). Their participation ratio
N_eff = 1/Σ_k s_k² (:func:`effective_frequencies`) counts the frequencies in use: F/(1 + 1/n) on average
for i.i.d. Gaussian weights (:func:`random_effective_frequencies`), a handful after grokking.

**The clock.** With key frequencies K, the trained transformer's logit for the answer c is

    ℓ(a, b, c) ≈ Σ_{k∈K} α_k cos(ω_k (a + b − c)),

built from cos(ω_k(a + b)) = cos ω_k a cos ω_k b − sin ω_k a sin ω_k b (products the MLP computes) and
read out by the unembedding via cos(ω(a + b − c)) = cos ω(a + b) cos ωc + sin ω(a + b) sin ωc. Every
term is largest at c ≡ a + b, where all of them are 1: the frequencies interfere constructively on the
right answer only. On the full grid of p³ triples the functions cos(ω_k s), sin(ω_k s) of
s = a + b − c mod p are orthogonal (each residue s occurs p² times), so

- :func:`clock_component`: the projection of the logits onto span{cos ω_k s, sin ω_k s : k ∈ K};
- :func:`clock_fraction`: the share of the logits' variance over c (softmax ignores a shift
  common to every c) that lies in that span;
- the progress measures of Nanda et al.: the **restricted** logits keep only the clock component, the
  **excluded** logits remove it (:func:`restricted_logits`, :func:`excluded_logits`); a network that
  computes the answer with the clock has a small restricted loss and a large excluded loss, both
  measured by :func:`answer_loss`, the cross-entropy of the right answers c = a + b mod p.

:func:`neuron_fraction`: the share of the MLP neurons' variance over (a, b) in the two-dimensional
Fourier terms built from the key frequencies (cos ω_k a, sin ω_k b, cos ω_k a · sin ω_k' b, …).
:func:`unit_frequency_shares`: the frequency shares of each column of W on its own (one hidden unit's
weights on the symbols), for networks whose units each pick one frequency.

Logits are indexed ``[..., a, b, c]`` (shape (…, p, p, p)), neuron activations ``[..., a, b, neuron]``.
All functions take NumPy arrays or tensors and return NumPy values.
"""

from __future__ import annotations

import numpy as np

from .. import validate as V

__all__ = ["fourier_basis", "frequency_power", "frequency_shares", "effective_frequencies",
           "unit_frequency_shares", "random_effective_frequencies", "top_frequencies", "top_share",
           "key_frequencies", "answer_loss",
           "clock_amplitudes", "clock_component",
           "clock_fraction", "restricted_logits", "excluded_logits", "neuron_fraction"]


def _odd_p(p) -> int:
    p = V.integer("p (the modulus)", p, low=3)
    if p % 2 == 0:
        raise V.ArgumentError(f"p (the modulus) must be odd (then every frequency 1 … (p−1)/2 has a cos and a "
                              f"sin), got {p}")
    return p


def fourier_basis(p: int) -> np.ndarray:
    """The real orthonormal Fourier basis of functions on ℤ_p, shape (p, p): row 0 is 1/√p, rows 2k−1 and 2k
    are √(2/p) cos(2πka/p) and √(2/p) sin(2πka/p), k = 1 … (p−1)/2. Orthonormal: B Bᵀ = 1."""
    p = _odd_p(p)
    a = np.arange(p)
    rows = [np.full(p, 1 / np.sqrt(p))]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [np.sqrt(2 / p) * np.cos(2 * np.pi * k * a / p), np.sqrt(2 / p) * np.sin(2 * np.pi * k * a / p)]
    return np.stack(rows)


def frequency_power(W) -> np.ndarray:
    """P_k = Σ_j (φ_{c,k}·W_{:,j})² + (φ_{s,k}·W_{:,j})², k = 1 … (p−1)/2, of embeddings W of shape
    (…, p, n) (symbols on the second-last axis): shape (…, (p−1)/2)."""
    W = V.array("W (embeddings, shape (…, p, n))", W, ndim=tuple(range(2, 8)))
    B = fourier_basis(W.shape[-2])
    coef = np.einsum("fa,...an->...fn", B, W) ** 2                    # (…, p, n): power per basis function
    per_row = coef.sum(-1)                                            # (…, p)
    return per_row[..., 1::2] + per_row[..., 2::2]


def frequency_shares(W) -> np.ndarray:
    """s_k = P_k / Σ_k' P_k' (:func:`frequency_power`) of embeddings W (…, p, n): shape (…, (p−1)/2), each row
    summing to 1. Raises ``ValueError`` when W is constant over the symbols (no power at any frequency)."""
    W = V.array("W (embeddings, shape (…, p, n))", W, ndim=tuple(range(2, 8)))
    P = frequency_power(W)
    total = P.sum(-1, keepdims=True)
    if np.any(total <= 1e-24 * (W ** 2).sum((-2, -1))[..., None]):      # nothing but rounding left
        raise V.ArgumentError("W: the embeddings are the same for every symbol (no power at any frequency k ≥ 1), "
                              "so the frequency shares are undefined")
    return P / total


def unit_frequency_shares(W) -> np.ndarray:
    """The frequency shares (:func:`frequency_shares`) of each column of W (…, p, n) on its own: one unit's
    weights on the p symbols each, shape (…, n, (p−1)/2). A unit made of one frequency has a share 1 there."""
    W = V.array("W (weights, shape (…, p, n))", W, ndim=tuple(range(2, 7)))
    return frequency_shares(np.swapaxes(W, -1, -2)[..., None])


def _shares(shares) -> np.ndarray:
    s = V.array("shares", shares, ndim=tuple(range(1, 8)))
    if np.any(s < 0) or not np.allclose(s.sum(-1), 1.0, atol=1e-6):
        raise V.ArgumentError(f"shares must be frequency shares (non-negative, each row summing to 1; see "
                              f"frequency_shares), got {V.show(shares)}")
    return s


def effective_frequencies(shares) -> np.ndarray | float:
    """The participation ratio N_eff = 1/Σ_k s_k² of frequency shares (…, F): F for equal shares, 1 when one
    frequency holds everything."""
    s = _shares(shares)
    out = 1.0 / (s ** 2).sum(-1)
    return float(out) if out.ndim == 0 else out


def random_effective_frequencies(p: int, n: int) -> float:
    """N_eff ≈ F/(1 + 1/n), F = (p−1)/2, for a p × n matrix of i.i.d. Gaussian weights: each P_k is σ² times a
    χ² with 2n degrees of freedom, so E[P_k²]/E[P_k]² = 1 + 1/n (to leading order in 1/F)."""
    p = _odd_p(p)
    n = V.positive_int("n (directions per symbol)", n)
    return (p - 1) / 2 / (1 + 1 / n)


def top_frequencies(shares, n: int) -> np.ndarray:
    """The n frequencies k (1 … F) with the largest shares, largest first: shape (…, n)."""
    s = _shares(shares)
    n = V.integer("n (number of frequencies)", n, low=1, high=s.shape[-1])
    return np.argsort(-s, axis=-1, kind="stable")[..., :n] + 1


def top_share(shares, n: int) -> np.ndarray | float:
    """The summed share of the n largest frequencies (:func:`top_frequencies`): 2n/(p−1) on average for random
    weights, near 1 when n frequencies carry everything."""
    s = _shares(shares)
    n = V.integer("n (number of frequencies)", n, low=1, high=s.shape[-1])
    out = -np.sort(-s, axis=-1)[..., :n].sum(-1)
    return float(out) if out.ndim == 0 else out


def key_frequencies(shares, factor: float = 2.0) -> np.ndarray:
    """The key frequencies of frequency shares (F,): the k whose share exceeds ``factor``/F, ``factor`` times the
    share of a flat spectrum, sorted. For i.i.d. Gaussian weights of n directions each s_k ≈ (1 ± 1/√n)/F, so
    factor 2 is many standard deviations above noise for n ≳ 16. May be empty."""
    s = _shares(shares)
    if s.ndim != 1:
        raise V.ArgumentError(f"shares must be the shares of one matrix, shape (F,), got {s.shape}; call it per member")
    factor = V.positive("factor", factor)
    return np.nonzero(s > factor / len(s))[0] + 1


def _logits(logits, name: str = "logits") -> tuple[np.ndarray, int]:
    L = V.array(f"{name} (shape (…, p, p, p), indexed [a, b, c])", logits, ndim=tuple(range(3, 8)))
    p = L.shape[-1]
    if L.shape[-3:] != (p, p, p):
        raise V.ArgumentError(f"{name} must have shape (…, p, p, p) (indexed [a, b, c]), got {L.shape}")
    return L, _odd_p(p)


def _frequencies(freqs, p: int) -> np.ndarray:
    f = V.array("freqs (key frequencies)", freqs, ndim=(0, 1), dtype=np.int64).reshape(-1)
    if np.any(f < 1) or np.any(f > (p - 1) // 2) or len(set(f.tolist())) != len(f):
        raise V.ArgumentError(f"freqs must be distinct frequencies 1 … (p−1)/2 = {(p - 1) // 2}, got {V.show(freqs)}")
    return f


def _residue(p: int) -> np.ndarray:
    """(a + b − c) mod p on the grid [a, b, c]: an involution in c, so it also gives c from s = r."""
    a = np.arange(p)
    return (a[:, None, None] + a[None, :, None] - a[None, None, :]) % p


def answer_loss(logits, which=None) -> np.ndarray | float:
    """The mean cross-entropy −log softmax_c ℓ(a, b, c) at the right answer c = a + b mod p, over the pairs
    (a, b) where ``which`` (a (p, p) boolean mask, e.g. a training set) is True, or over all p² pairs.
    Logits (…, p, p, p) indexed [a, b, c] → shape (…). Of the restricted logits it is the restricted loss, of
    the excluded logits on the training pairs the excluded loss; ln p for logits that do not depend on c."""
    L, p = _logits(logits)
    z = L - L.max(-1, keepdims=True)
    log_prob = z - np.log(np.exp(z).sum(-1, keepdims=True))
    a = np.arange(p)
    right = log_prob[..., a[:, None], a[None, :], (a[:, None] + a[None, :]) % p]       # (…, p, p)
    if which is None:
        out = -right.mean((-2, -1))
    else:
        mask = V.array("which (a (p, p) mask of pairs)", which, shape=(p, p), dtype=bool)
        if not mask.any():
            raise V.ArgumentError("which selects no pair (a, b): the loss over no pairs is undefined")
        out = -right[..., mask].mean(-1)
    return float(out) if np.ndim(out) == 0 else out


def clock_amplitudes(logits, freqs) -> tuple[np.ndarray, np.ndarray]:
    """The clock amplitudes of logits ℓ(a, b, c): α_k = (2/p³) Σ_{a,b,c} ℓ cos ω_k s and β_k (the same with
    sin), s = a + b − c mod p, for k in ``freqs``: two arrays (…, |K|). The clock predicts α_k > 0 and β_k ≈ 0
    (every term peaks at c ≡ a + b). Computed from g(r) = Σ_{a,b} ℓ(a, b, a + b − r mod p)."""
    L, p = _logits(logits)
    f = _frequencies(freqs, p)
    g = np.take_along_axis(L, np.broadcast_to(_residue(p), L.shape), axis=-1).sum((-3, -2))   # (…, p): g(r)
    phase = 2 * np.pi * np.outer(f, np.arange(p)) / p                   # (|K|, p): ω_k r
    return (2 / p ** 3 * np.einsum("...r,kr->...k", g, np.cos(phase)),
            2 / p ** 3 * np.einsum("...r,kr->...k", g, np.sin(phase)))


def clock_component(logits, freqs) -> np.ndarray:
    """The projection of logits ℓ(a, b, c) onto span{cos ω_k s, sin ω_k s : k ∈ freqs}, s = a + b − c mod p:
    h(s) = Σ_k α_k cos ω_k s + β_k sin ω_k s with the amplitudes of :func:`clock_amplitudes`. Shape of logits."""
    L, p = _logits(logits)
    f = _frequencies(freqs, p)
    alpha, beta = clock_amplitudes(L, f)
    phase = 2 * np.pi * np.outer(f, np.arange(p)) / p
    h = np.einsum("...k,kr->...r", alpha, np.cos(phase)) + np.einsum("...k,kr->...r", beta, np.sin(phase))
    s = _residue(p)                                                     # s(a, b, c) = a + b − c mod p
    return np.take_along_axis(h[..., None, None, :], np.broadcast_to(s, L.shape), axis=-1)


def clock_fraction(logits, freqs) -> np.ndarray | float:
    """‖clock component‖² / ‖ℓ − mean_c ℓ‖²: the share of the logits' variance over the answers c that the
    key-frequency clock terms explain (:func:`clock_component`); 2|K|/(p²(p − 1)) on average for unstructured
    logits (the span holds 2|K| of the p²(p − 1) dimensions of logits centred over c)."""
    L, _ = _logits(logits)
    centred = L - L.mean(-1, keepdims=True)
    total = (centred ** 2).sum((-3, -2, -1))
    if np.any(total <= 0):
        raise V.ArgumentError("logits: the same for every answer c, so there is no variance to explain")
    out = (clock_component(L, freqs) ** 2).sum((-3, -2, -1)) / total
    return float(out) if out.ndim == 0 else out


def restricted_logits(logits, freqs) -> np.ndarray:
    """The restricted logits of Nanda et al.: the clock component alone (:func:`clock_component`) — what the
    network would output if it kept only its key-frequency circuit. Shape of logits."""
    return clock_component(logits, freqs)


def excluded_logits(logits, freqs) -> np.ndarray:
    """The excluded logits of Nanda et al.: ℓ minus its clock component (:func:`clock_component`) — what is
    left of the network's output without the key-frequency circuit (memorised lookup). Shape of logits."""
    L, _ = _logits(logits)
    return L - clock_component(L, freqs)


def neuron_fraction(activations, freqs) -> np.ndarray:
    """The share of each neuron's variance over (a, b) in the Fourier terms of the key frequencies:
    with 2-d coefficients c_ij = Σ_{a,b} B_ia B_jb x(a, b) (:func:`fourier_basis`), the sum of c_ij² over
    i, j ∈ {constant, cos ω_k, sin ω_k : k ∈ freqs}, (i, j) ≠ (0, 0), divided by the sum over all
    (i, j) ≠ (0, 0). Activations (…, p, p, m) indexed [a, b, neuron] → shape (…, m); a neuron constant over
    (a, b) gets NaN. (1 + 2|K|)² − 1 of the p² − 1 terms are kept: that fraction on average for noise.)"""
    X = V.array("activations (shape (…, p, p, m), indexed [a, b, neuron])", activations, ndim=tuple(range(3, 8)))
    p = X.shape[-3]
    if X.shape[-2] != p:
        raise V.ArgumentError(f"activations must have shape (…, p, p, m) (indexed [a, b, neuron]), got {X.shape}")
    f = _frequencies(freqs, _odd_p(p))
    B = fourier_basis(p)
    c = np.einsum("ia,jb,...abm->...ijm", B, B, X) ** 2
    scale = c.sum((-3, -2))
    c[..., 0, 0, :] = 0.0
    keep = np.concatenate([[0], 2 * f - 1, 2 * f])
    total = c.sum((-3, -2))
    kept = c[..., keep[:, None], keep[None, :], :].sum((-3, -2))
    varies = total > 1e-24 * scale                                    # more than rounding around the mean
    return np.where(varies, kept / np.where(varies, total, 1.0), np.nan)
