"""Checkers for the exercises of the chapter "Skills, quanta and emergence"
(book/06_scaling/03_skills_and_quanta).

Each checker prints a one-line verdict and returns True or False; it raises ``ValueError`` only
when the answer has the wrong type or shape, with a message that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import binom

from ..theory.quanta import skill_probabilities

__all__ = ["reference_threshold_data_loss", "check_threshold_data_loss", "check_compute_allocation"]


def reference_threshold_data_loss(D, p, n_c: int) -> np.ndarray:
    """E L(D) = Σ_k p_k P[n_k < n_c] with n_k ~ Binomial(D, p_k): a skill is learned iff seen n_c times."""
    D = np.asarray(D, dtype=float)
    p = np.asarray(p, dtype=float)
    return np.sum(p * binom.cdf(n_c - 1, D[..., None], p), axis=-1)


def check_threshold_data_loss(loss_fn: Callable, verbose: bool = True) -> bool:
    """Exercise "A skill needs n_c examples": does ``loss_fn(D, p, n_c)`` return Σ_k p_k P[n_k < n_c]?

    ``D`` is a 1-d array of data-set sizes, ``p`` the skill frequencies, ``n_c`` the number of
    examples a skill needs; the answer must have the shape of ``D``.
    """
    for alpha, n_s, n_c in [(1.0, 300, 1), (0.5, 500, 5), (1.5, 200, 20)]:
        p = skill_probabilities(n_s, alpha)
        D = np.array([10.0, 100.0, 1000.0, 10000.0])
        answer = np.asarray(loss_fn(D.copy(), p.copy(), n_c), dtype=float)
        if answer.shape != D.shape:
            raise ValueError(f"loss_fn(D, p, n_c) must return one loss per data-set size, shape {D.shape}, "
                             f"got {answer.shape}")
        reference = reference_threshold_data_loss(D, p, n_c)
        error = np.max(np.abs(answer - reference) / reference)
        if error > 1e-6:
            if verbose:
                hint = ""
                if n_c > 1 and np.allclose(answer, reference_threshold_data_loss(D, p, n_c + 1), rtol=1e-6):
                    hint = " (you counted a skill with exactly n_c examples as unlearned)"
                elif n_c > 1 and np.allclose(answer, reference_threshold_data_loss(D, p, n_c - 1), rtol=1e-6):
                    hint = " (off by one: a skill with n_c − 1 examples is not yet learned)"
                print(f"✗ not yet: at α = {alpha}, n_s = {n_s}, n_c = {n_c} your loss is off by up to "
                      f"{error:.2%}{hint}")
            return False
    if verbose:
        print("✓ your expected loss Σ_k p_k P[n_k < n_c] is right for n_c = 1, 5 and 20")
    return True


def check_compute_allocation(units_exponent, steps_exponent, alpha: float = 1.0, verbose: bool = True) -> bool:
    """Exercise "Spending compute": are N* ∝ C^units_exponent and steps* ∝ C^steps_exponent optimal?

    For the multilinear model, L(N, T) ≈ max(N^−α, T^−α/(α+1)) up to constants, and C = N T gives
    N* ∝ C^(1/(α+2)), T* ∝ C^((α+1)/(α+2)).
    """
    try:
        a, b = float(units_exponent), float(steps_exponent)
    except (TypeError, ValueError):
        raise ValueError("units_exponent and steps_exponent must be numbers") from None
    ref_a, ref_b = 1 / (alpha + 2), (alpha + 1) / (alpha + 2)
    ok = abs(a - ref_a) < 1e-3 and abs(b - ref_b) < 1e-3
    if verbose:
        if ok:
            print(f"✓ N* ∝ C^{a:.3f} and T* ∝ C^{b:.3f}: the compute-optimal split at α = {alpha}")
        elif abs(a + b - 1) > 1e-3:
            print(f"✗ not yet: C = N · T, so the two exponents must add up to 1 (yours add up to {a + b:.3f})")
        else:
            print(f"✗ not yet: at the optimum both bottlenecks bind together, N^−α ∼ T^−α/(α+1); "
                  f"your N* ∝ C^{a:.3f} does not balance them")
    return ok
