"""Checkers for the exercises of the chapter "Skills, quanta and emergence"
(book/06_scaling/03_skills_and_quanta).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import binom

from .. import validate
from ..theory.quanta import skill_probabilities
from . import answers
from .answers import number, say, setting, values

__all__ = ["reference_threshold_data_loss", "check_threshold_data_loss", "check_compute_allocation"]


def reference_threshold_data_loss(D, p, n_c: int) -> np.ndarray:
    """E L(D) = Σ_k p_k P[n_k < n_c] with n_k ~ Binomial(D, p_k): a skill is learned iff seen n_c times.

    ``D``: data-set sizes (≥ 0, any shape); ``p``: the skill frequencies (1-d, each in [0, 1]);
    ``n_c``: the number of examples a skill needs (an integer ≥ 1). Returns an array of D's shape.
    """
    D = validate.array("D", D)
    if np.any(D < 0):
        raise validate.ArgumentError(f"D must contain data-set sizes ≥ 0, got a smallest entry of {D.min():g}")
    p = validate.array("p", p, ndim=1)
    if np.any((p < 0) | (p > 1)):
        raise validate.ArgumentError("p must contain skill frequencies in [0, 1], got entries from "
                                     f"{p.min():g} to {p.max():g}")
    n_c = validate.integer("n_c", n_c, low=1)
    return np.sum(p * binom.cdf(n_c - 1, D[..., None], p), axis=-1)


@answers.checker
def check_threshold_data_loss(loss_fn: Callable, verbose: bool = True) -> bool:
    """Exercise "A skill needs n_c examples": does ``loss_fn(D, p, n_c)`` return Σ_k p_k P[n_k < n_c]?

    ``D`` is a 1-d array of data-set sizes, ``p`` the skill frequencies, ``n_c`` the number of
    examples a skill needs; the answer must have the shape of ``D`` and agree to a relative 10⁻⁶.
    """
    loss_fn = answers.student_function(loss_fn, "loss_fn (a function loss_fn(D, p, n_c))")
    for alpha, n_s, n_c in [(1.0, 300, 1), (0.5, 500, 5), (1.5, 200, 20)]:
        p = skill_probabilities(n_s, alpha)
        D = np.array([10.0, 100.0, 1000.0, 10000.0])
        answer = values(answers.call(loss_fn, D.copy(), p.copy(), n_c, what="loss_fn(D, p, n_c)"),
                                f"loss_fn(D, p, n_c) (one loss per data-set size, D of shape {D.shape})",
                                shape=D.shape)
        reference = reference_threshold_data_loss(D, p, n_c)
        error = np.max(np.abs(answer - reference) / reference)
        if not error <= 1e-6:
            hint = ""
            if n_c > 1 and np.allclose(answer, reference_threshold_data_loss(D, p, n_c + 1), rtol=1e-6):
                hint = " (you counted a skill with exactly n_c examples as unlearned)"
            elif n_c > 1 and np.allclose(answer, reference_threshold_data_loss(D, p, n_c - 1), rtol=1e-6):
                hint = " (off by one: a skill with n_c − 1 examples is not yet learned)"
            return say(False, f"at α = {alpha}, n_s = {n_s}, n_c = {n_c} your loss is off by up to "
                              f"{error:.2%}{hint}", verbose)
    return say(True, "your expected loss Σ_k p_k P[n_k < n_c] is right for n_c = 1, 5 and 20", verbose)


@answers.checker
def check_compute_allocation(units_exponent, steps_exponent, alpha: float = 1.0, verbose: bool = True) -> bool:
    """Exercise "Spending compute": are N* ∝ C^units_exponent and steps* ∝ C^steps_exponent optimal?

    For the multilinear model, L(N, T) ≈ max(N^−α, T^−α/(α+1)) up to constants, and C = N T gives
    N* ∝ C^(1/(α+2)), T* ∝ C^((α+1)/(α+2)) (each exponent to 10⁻³).
    """
    alpha = setting(validate.positive, "alpha", alpha)
    a = number(units_exponent, "units_exponent")
    b = number(steps_exponent, "steps_exponent")
    ref_a, ref_b = 1 / (alpha + 2), (alpha + 1) / (alpha + 2)
    ok = abs(a - ref_a) < 1e-3 and abs(b - ref_b) < 1e-3
    if ok:
        return say(True, f"N* ∝ C^{a:.3f} and T* ∝ C^{b:.3f}: the compute-optimal split at α = {alpha}", verbose)
    if abs(a + b - 1) > 1e-3:
        return say(False, f"C = N · T, so the two exponents must add up to 1 (yours add up to {a + b:.3f})", verbose)
    return say(False, f"at the optimum both bottlenecks bind together, N^−α ∼ T^−α/(α+1); "
                      f"your N* ∝ C^{a:.3f} does not balance them", verbose)
