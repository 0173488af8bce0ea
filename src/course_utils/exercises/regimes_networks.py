"""Checkers for the exercises of the chapter "Variance- or resolution-limited? The four scaling
regimes of a trained network" (book/06_scaling/05_regimes_in_networks).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong type, a wrong
shape, None, NaN or an exception inside the student's function gives a ✗ verdict that says what
was expected, never a traceback; a NaN never passes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory.regimes_networks import asymptotic_excess_coefficient
from ..theory.scaling_regimes import kernel_learning_curve_exponent
from . import answers
from .answers import number, say

__all__ = ["check_sandwich_coefficient", "check_learning_curve_exponent"]


def _test_cases():
    """Symmetric positive semi-definite H (some with exact null directions) and G with the same null space."""
    rng = np.random.default_rng(20240517)
    cases = []
    for P, null in [(3, 0), (6, 2), (10, 3)]:
        A = rng.standard_normal((P, P - null))
        H = A @ A.T                                   # rank P − null
        B = A @ rng.standard_normal((P - null, P - null))
        G = B @ B.T                                   # G u = 0 wherever H u = 0
        cases.append((H, G))
    return cases


@answers.checker
def check_sandwich_coefficient(sandwich: Callable, verbose: bool = True) -> bool:
    """Exercise "The coefficient of the variance-limited law": does ``sandwich(H, G)`` return
    c = ½ tr(𝓗⁺𝓖) (eq-regnet-sandwich), the pseudo-inverse taken on the non-zero eigenvalues of H?

    Compared with :func:`course_utils.theory.regimes_networks.asymptotic_excess_coefficient` on three
    pairs, two of them with exact null directions (relative tolerance 1e-6).
    """
    sandwich = answers.student_function(sandwich, "sandwich (a function sandwich(H, G))")
    for H, G in _test_cases():
        answer = number(answers.call(sandwich, H.copy(), G.copy(), what="sandwich(H, G)"),
                                "sandwich(H, G)")
        reference = asymptotic_excess_coefficient(H, G)
        if not abs(answer - reference) <= 1e-6 * abs(reference):
            hint = ""
            if abs(answer - 2 * reference) <= 1e-6 * abs(reference):
                hint = " (twice the answer: the excess is ½ δθᵀ𝓗δθ)"
            elif np.linalg.matrix_rank(H) < H.shape[0]:
                hint = " (this H has null directions: drop them, do not invert them)"
            return say(False, f"for a {H.shape[0]}×{H.shape[0]} pair you get {answer:.6g}, "
                              f"½ tr(H⁺G) = {reference:.6g}{hint}", verbose)
    return say(True, "c = ½ tr(𝓗⁺𝓖): the coefficient of the variance-limited law L(D) − L(∞) ≈ c/D", verbose)


@answers.checker
def check_learning_curve_exponent(exponent: Callable, verbose: bool = True) -> bool:
    """Exercise "Predict an exponent from a spectrum": does ``exponent(b, a)`` return the asymptotic
    exponent min(a, 2b) of ridgeless kernel regression with λ_k ∝ k^(−b) and p_k ∝ k^(−(1+a))
    (to 10⁻⁹)?"""
    exponent = answers.student_function(exponent, "exponent (a function exponent(b, a))")
    for b, a in [(1.5, 0.5), (1.2, 4.0), (2.0, 1.0), (1.1, 2.2), (4 / 3, 1 / 3)]:
        answer = number(answers.call(exponent, b, a, what=f"exponent({b}, {a})"), f"exponent({b}, {a})")
        reference = kernel_learning_curve_exponent(b, 1 + a)
        if not abs(answer - reference) <= 1e-9:
            hint = ""
            if abs(answer - a) < 1e-9:
                hint = " (the target's tail is not the only term: the learned modes are shrunk by κ ∝ D^(−b))"
            elif abs(answer - (b - 1)) < 1e-9:
                hint = " (b − 1 assumes a target as rough as the kernel's Gaussian process)"
            return say(False, f"for b = {b:.3g}, a = {a:.3g} you get {answer:.4g}, the theory "
                              f"{reference:.4g}{hint}", verbose)
    return say(True, "α_D = min(a, 2b): the tail of the target or the shrinkage of the learned modes, "
                     "whichever falls more slowly", verbose)
