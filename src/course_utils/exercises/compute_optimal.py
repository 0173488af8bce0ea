"""Checkers for the exercises of the chapter "How large a model for a given compute? A compute-optimal
frontier in miniature" (book/06_scaling/06_compute_optimal).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong type, a wrong
shape, None, NaN or an exception raised by the student's function gives a ✗ verdict that says what
was expected, never a traceback (see :mod:`course_utils.exercises.answers`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .. import validate
from . import answers
from .answers import number, say, setting

__all__ = ["check_optimal_size", "check_frontier_loss_exponent"]

#: Parameter sets (E, A, alpha, B, beta) and compute budgets the checkers try. The last is the
#: fit of Hoffmann et al. (2022) as quoted from the paper (not re-derived here): E = 1.69, A = 406.4, B = 410.7, α = 0.34, β = 0.28.
_CASES = [
    ((0.01, 10.0, 0.8, 40.0, 0.5), 1e8),
    ((0.2, 3.0, 0.4, 300.0, 0.9), 1e12),
    ((0.0, 1.0, 1.0, 1.0, 1.0), 6e6),
    ((1.69, 406.4, 0.34, 410.7, 0.28), 5.76e23),
]


def _brute_force_optimal_size(C: float, E: float, A: float, alpha: float, B: float, beta: float) -> float:
    """argmin over N of E + A N^−α + B (C/(6N))^−β, by golden-section search on ln N (no closed form used)."""
    lo, hi = 0.0, math.log(C / 6)
    f = lambda u: A * math.exp(-alpha * u) + B * math.exp(-beta * (math.log(C / 6) - u))
    g = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if f(a) < f(b):
            hi = b
        else:
            lo = a
    return math.exp((lo + hi) / 2)


@answers.checker
def check_optimal_size(fn: Callable, verbose: bool = True) -> bool:
    """Exercise "The optimal size from a fitted law": does ``fn(C, E, A, alpha, B, beta)`` return
    N*(C), the N that minimises E + A/N^α + B/D^β at C = 6ND?

    Compared, to a relative 10⁻⁴ (|N/N* − 1| < 10⁻⁴), with a numerical minimisation at four
    parameter sets, one of them Hoffmann et al.'s fit at the compute of Chinchilla (5.76·10²³ FLOPs).
    """
    fn = answers.student_function(fn, "fn (a function fn(C, E, A, alpha, B, beta))")
    for (E, A, alpha, B, beta), C in _CASES:
        what = f"fn({C:g}, {E}, {A}, {alpha}, {B}, {beta})"
        answer = number(answers.call(fn, C, E, A, alpha, B, beta, what=what),
                                f"{what} (N*, one number)")
        reference = _brute_force_optimal_size(C, E, A, alpha, B, beta)
        if not abs(answer / reference - 1) < 1e-4:
            hint = ""
            if abs(answer / (C / (6 * reference)) - 1) < 1e-3:
                hint = " (that is D*, not N*)"
            elif abs(answer / (reference * 6 ** (beta / (alpha + beta))) - 1) < 1e-3:
                hint = " (check the 6 in C = 6ND: N* ∝ (C/6)^a)"
            return say(False, f"for (E, A, α, B, β) = ({E}, {A}, {alpha}, {B}, {beta}) and C = {C:g} you return "
                              f"{answer:.5g}, the minimum is at N* = {reference:.5g}{hint}", verbose)
    chinchilla = _brute_force_optimal_size(_CASES[-1][1], *_CASES[-1][0])
    return say(True, "your N*(C) minimises the joint law at fixed compute for every parameter set "
                     f"(Hoffmann et al.'s fit at C = 5.76e23: N* = {chinchilla:.3g})", verbose)


@answers.checker
def check_frontier_loss_exponent(value, alpha: float, beta: float, verbose: bool = True) -> bool:
    """Exercise "How fast does the optimal loss fall?": is ``value`` the exponent c of
    L*(C) − E ∝ C^(−c) along the compute-optimal frontier, c = αβ/(α+β) (to 10⁻⁶·max(1, c))?
    """
    a = setting(validate.positive, "alpha", alpha)
    b = setting(validate.positive, "beta", beta)
    answer = number(value, "the exponent c")
    reference = a * b / (a + b)
    ok = abs(answer - reference) <= 1e-6 * max(1.0, reference)
    if ok:
        return say(True, f"c = αβ/(α+β) = {reference:.4f}: both terms fall as C^(−c) on the frontier", verbose)
    hint = ""
    if abs(answer - b / (a + b)) < 1e-6 or abs(answer - a / (a + b)) < 1e-6:
        hint = " (that is an allocation exponent: multiply it by the exponent of the term it feeds)"
    return say(False, f"you give {answer:.4g} for α = {a}, β = {b}{hint}", verbose)
