"""The quantization model on trained networks: finite-task-set predictions, their calibration, and the
width sweep as one batched ensemble.

The quantization model (Michaud et al. 2023) says a network learns skills ("quanta") in order of
frequency, and its loss is what the unlearned ones cost. With n_s skills of Zipf frequencies p_k and
a per-skill loss ℓ_u of an unlearned skill (ln 2 for a cross-entropy at chance, ½ for the error), the
loss of a network that has learned the n most frequent skills is

    L(n) = ℓ_u Σ_{k>n}^{n_s} p_k                                                     (tail_loss)

(n may be fractional: the last skill counts with its fraction). Each resource sets n its own way:

- width w, with u hidden units per skill:  n(w) = min(w/u, n_s)           →  L(w) ∝ w^−α   for n ≪ n_s;
- data D, a skill learned once its count n_k ~ Binomial(D, p_k) reaches D_c:
  E L(D) = ℓ_u Σ_k p_k P[n_k < D_c]                                       →  L(D) ∝ D^−α/(α+1).

The asymptotic exponents α and α/(α+1) hold where 1 ≪ n ≪ n_s; over a finite range of a finite task
set the curve bends, and the chapter fits the same power law over the same range to the
measured loss and to these finite-set predictions. :func:`units_per_skill` and
:func:`count_threshold` are the one-constant calibrations (u, D_c) from the learned-skill counts.

The networks are built and trained online by :mod:`course_utils.ensemble.online` (a width sweep as
one padded ensemble, fresh batches every step, per-skill scores).

Used by the chapter "Do trained networks follow the quantization model?"
(book/06_scaling/04_quanta_in_networks); tested in ``tests/test_theory_quanta_networks.py``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from .. import validate

__all__ = ["tail_loss", "expected_tail_loss_data", "units_per_skill", "count_threshold", "learned_prefix_fraction",
           "out_of_order_fraction"]


def _check_p(p) -> np.ndarray:
    return validate.probabilities("p", p, what="skill frequencies")


def _booleans(name: str, value) -> np.ndarray:
    """``value`` as a NumPy array of booleans; only True/False, 0/1 (numbers or booleans) are accepted."""
    a = validate.array(name, value)                      # float64: True/False become 1/0
    if not np.all((a == 0) | (a == 1)):
        raise validate.ArgumentError(f"{name} must hold booleans (True/False or 0/1), got {validate.show(value)}")
    return a == 1


def tail_loss(n, p, unlearned_loss: float = 1.0) -> np.ndarray:
    """L(n) = ℓ_u Σ_{k>n} p_k: the loss of a network that has learned the n most frequent skills.

    ``n`` (any shape, 0 ≤ n ≤ n_s) may be fractional: L(n) = ℓ_u [Σ_{k>⌊n⌋} p_k − (n − ⌊n⌋) p_{⌊n⌋+1}],
    the linear interpolation between whole numbers of skills. ``p`` are the frequencies sorted from
    the most frequent, ``unlearned_loss`` ℓ_u the loss of one unlearned skill (ln 2 for a
    cross-entropy at chance, ½ for the error of a binary skill).
    """
    p = _check_p(p)
    unlearned_loss = validate.positive("unlearned_loss", unlearned_loss)
    n = validate.array("n", n, allow_empty=True)
    if np.any(n < 0) or np.any(n > p.size):
        raise ValueError(f"n must lie in [0, n_s] = [0, {p.size}]")
    tail = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])            # tail[j] = Σ_{k>j} p_k (1-based k)
    whole = np.floor(n).astype(int)
    frac = n - whole
    # p_{⌊n⌋+1}, 0 at n = n_s (where frac = 0, so the appended value is never used: equivalent mutants)
    nxt = np.append(p, 0.0)[np.minimum(whole, p.size)]  # pragma: no mutate
    return unlearned_loss * (tail[whole] - frac * nxt)


def expected_tail_loss_data(D, p, D_c: float, unlearned_loss: float = 1.0) -> np.ndarray:
    """E L(D) = ℓ_u Σ_k p_k P[n_k < D_c], n_k ~ Binomial(D, p_k): skill k is learned once seen D_c times.

    ``D`` an array of training-set sizes; returns an array of its shape. D_c = 1 is the multilinear
    model's "learned iff seen".
    """
    p = _check_p(p)
    D_c = validate.real("D_c (samples a skill needs)", D_c, low=1.0)
    unlearned_loss = validate.positive("unlearned_loss", unlearned_loss)
    D = validate.array("D", D, allow_empty=True)
    if np.any(D < 0) or np.any(D != np.round(D)):
        raise ValueError("D must be non-negative whole numbers of samples")
    below = binom.cdf(np.ceil(D_c) - 1, D[..., None], p)                # P[n_k ≤ ⌈D_c⌉ − 1] = P[n_k < D_c]
    return unlearned_loss * np.sum(p * below, axis=-1)


def units_per_skill(widths, n_learned) -> float:
    """u, the hidden units per learned skill: the least-squares fit of n = w/u to (width, count) pairs.

    1/u = Σ w n / Σ w² over all networks (one entry per network; a width repeated once per seed).
    """
    w, n = validate.array("widths", widths).ravel(), validate.array("n_learned", n_learned).ravel()
    if w.shape != n.shape or w.size == 0 or np.any(w <= 0) or np.any(n < 0):
        raise ValueError("widths (> 0) and n_learned (≥ 0) must have the same number of entries, at least one")
    if not np.any(n > 0):
        raise ValueError("no network learned a skill: u is undefined")
    return float(np.sum(w * w) / np.sum(w * n))


def count_threshold(counts, learned) -> float:
    """D_c, the training samples a skill needs: the threshold that best sorts skills into learned/unlearned.

    "Learned iff n_k ≥ D_c" misclassifies some of the (network, skill) pairs; the misclassified
    number is constant between consecutive distinct counts. Returns the geometric middle of the
    lowest-misclassification interval (n_lo, n_hi]: D_c = √(n_lo n_hi), with n_lo ≥ 1, so D_c ≥ 1.
    """
    c, ok = validate.array("counts", counts).ravel(), _booleans("learned", learned).ravel()
    if c.shape != ok.shape or np.any(c < 0):
        raise ValueError("counts (≥ 0) and learned (booleans) must have the same number of entries")
    if ok.all() or not ok.any():
        raise ValueError("need both learned and unlearned skills to locate a threshold")
    levels = np.unique(c)
    # candidate thresholds: each positive count, and one above all (D_c > 0: a skill never seen is not learned)
    cuts = np.append(levels[levels > 0], levels[-1] + 1.0)
    errors = np.array([np.sum(ok & (c < t)) + np.sum(~ok & (c >= t)) for t in cuts])
    hi = cuts[int(np.argmin(errors))]
    below = levels[levels < hi]
    lo = below[-1] if below.size else hi / 2
    return float(np.sqrt(max(lo, 1.0) * hi))


def learned_prefix_fraction(learned) -> float:
    """The fraction of networks whose learned skills are exactly the most frequent ones, {1, …, n}.

    ``learned``: booleans of shape (networks, n_s), skills sorted from the most frequent.
    """
    ok = _booleans("learned", learned)
    if ok.ndim != 2:
        raise validate.ArgumentError(f"learned must have shape (networks, n_skills), got shape {ok.shape}")
    prefix = np.arange(ok.shape[1])[None, :] < ok.sum(1)[:, None]
    return float(np.mean(np.all(ok == prefix, axis=1)))


def out_of_order_fraction(learned) -> np.ndarray:
    """Per network, the fraction of skill pairs (i < j) with j learned and the more frequent i not.

    ``learned``: booleans (networks, n_s). Only pairs with exactly one of the two learned are
    counted (the others say nothing about order); a network with no such pair gives NaN.
    """
    ok = _booleans("learned", learned)
    if ok.ndim != 2:
        raise validate.ArgumentError(f"learned must have shape (networks, n_skills), got shape {ok.shape}")
    # pairs i < j (with k = 0 the pairs i = i are never informative, so dropping k=1 is an equivalent mutant)
    i, j = np.triu_indices(ok.shape[1], k=1)  # pragma: no mutate
    wrong = (~ok[:, i] & ok[:, j]).sum(1)
    informative = (ok[:, i] ^ ok[:, j]).sum(1)
    return np.where(informative > 0, wrong / np.maximum(informative, 1), np.nan)   # no 0/0: the maximum
