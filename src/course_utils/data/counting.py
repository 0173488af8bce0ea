"""Samples from a categorical distribution, the data of the chapter "Scaling laws from counting"
(book/06_scaling/01_scaling_from_counting).

A data set of N samples from a categorical distribution p over K categories is, for every
estimator that does not care about the order of the samples, summarised by its counts
n = (n_1, …, n_K) ~ Multinomial(N, p). So we draw counts directly, for many independent data
sets at once (one row per draw). The Bernoulli case is K = 2.
"""

from __future__ import annotations

import numpy as np

from .. import validate
from ..validate import ArgumentError

__all__ = ["zipf_probabilities", "sample_counts", "sample_labels"]


def _check_rng(rng) -> np.random.Generator:
    """``rng`` checked to be a NumPy Generator. A seed is refused here (tests/test_theory_counting.py
    expects it): the chapter passes one Generator through many calls, and a seed would restart it."""
    if not isinstance(rng, np.random.Generator):
        raise ArgumentError("rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(0), "
                            f"got {validate.show(rng)}")
    return rng


def _check_probabilities(p) -> np.ndarray:
    p = validate.probabilities("p", p, min_size=2)
    return p / p.sum()


def zipf_probabilities(K: int, exponent: float) -> np.ndarray:
    """Zipf's law on K categories: p_k = k^(−exponent) / Σ_j j^(−exponent), k = 1, …, K.

    ``exponent = 0`` is the uniform distribution. The course writes the exponent 1 + α, so that the
    tail mass beyond rank k falls as k^(−α): the counting chapter's categories and the skills of
    :class:`~course_utils.data.sparse_parity.MultitaskSparseParity` and
    :func:`course_utils.theory.quanta.skill_probabilities` (p_k ∝ k^−(α+1)) all use this one law.
    """
    K = validate.integer("K (the number of categories)", K, low=1)
    exponent = validate.nonnegative("exponent (the Zipf exponent)", exponent)
    w = np.arange(1, K + 1, dtype=float) ** (-float(exponent))
    return w / w.sum()


def sample_counts(p, N: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Counts of ``draws`` independent data sets of N samples each: shape (draws, K), rows ~ Multinomial(N, p).

    For K = 2 (a Bernoulli variable) this is one binomial draw per data set, which is fast.
    """
    p = _check_probabilities(p)
    rng = _check_rng(rng)
    N = validate.nonnegative_int("N (the number of samples)", N)
    draws = validate.positive_int("draws", draws)
    if p.size == 2:
        n1 = rng.binomial(N, p[0], size=draws)
        return np.stack([n1, N - n1], axis=1)
    return rng.multinomial(N, p, size=draws)


def sample_labels(p, N: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """The samples themselves: integer labels in {0, …, K−1}, shape (draws, N), i.i.d. from p.

    Used to train a model sample by sample (minibatches); ``np.bincount`` of a row gives its counts.
    """
    p = _check_probabilities(p)
    rng = _check_rng(rng)
    N = validate.positive_int("N (the number of samples)", N)
    draws = validate.positive_int("draws", draws)
    return rng.choice(p.size, size=(draws, N), p=p)
