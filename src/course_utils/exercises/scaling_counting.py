"""Checkers for the exercises of the chapter "Scaling laws from counting"
(book/06_scaling/01_scaling_from_counting).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

from scipy.special import gamma, zeta

from .. import validate
from ..theory.counting import expected_kl
from . import answers
from .answers import number, say, setting, tolerance

__all__ = ["check_bernoulli_expected_kl", "check_missing_mass_prefactor"]


@answers.checker
def check_bernoulli_expected_kl(fn: Callable, verbose: bool = True) -> bool:
    """Exercise "The exact learning curve of a coin": does ``fn(p, N, beta)`` return the exact
    expected KL(p‖q) of the add-β estimate q = (n + β)/(N + 2β) of a Bernoulli(p) variable from N samples,
    E KL = Σ_n Binom(n; N, p) KL(p‖q_n)?

    Compares with :func:`course_utils.theory.counting.expected_kl` at a few (p, N, β), to
    10⁻⁸ + 10⁻⁶·reference.
    """
    fn = answers.student_function(fn, "fn (a function fn(p, N, beta))")
    cases = [(0.5, 1, 0.5), (0.3, 7, 1.0), (0.05, 40, 0.5), (0.9, 200, 0.25), (0.01, 1000, 1.0)]
    for p, N, beta in cases:
        answer = number(answers.call(fn, p, N, beta, what=f"fn({p}, {N}, {beta})"),
                                f"fn({p}, {N}, {beta}) (one number)")
        reference = float(expected_kl([p, 1 - p], N, beta))
        if not abs(answer - reference) <= 1e-8 + 1e-6 * reference:
            hint = ""
            if abs(answer - (1 / (2 * N))) < 1e-3 * reference:
                hint = " (that is the asymptote 1/(2N), not the exact sum)"
            return say(False, f"at p = {p}, N = {N}, β = {beta} you return {answer:.6g}, the exact value is "
                              f"{reference:.6g}{hint}", verbose)
    return say(True, "your exact sum over the binomial distribution agrees with the reference at every (p, N, β)",
               verbose)


@answers.checker
def check_missing_mass_prefactor(prefactor, alpha: float, rtol: float = 1e-3, verbose: bool = True) -> bool:
    """Exercise "The missing mass of Zipf's law": is ``prefactor`` the A_M in M(N) ≈ A_M N^(−α/(1+α)) for
    p_k = k^(−1−α)/ζ(1+α) on infinitely many categories?

    Reference: A_M = ζ(1+α)^(−1/(1+α)) Γ(α/(1+α)) / (1+α), to a relative ``rtol``.
    """
    alpha = setting(validate.real, "alpha", alpha, low=0.0, high=100.0, low_open=True)
    rtol = tolerance("rtol", rtol)
    answer = number(prefactor, "prefactor")
    s = 1 / (1 + alpha)
    reference = zeta(1 + alpha) ** (-s) * gamma(1 - s) / (1 + alpha)
    ok = abs(answer - reference) <= rtol * reference
    if ok:
        return say(True, f"A_M = {answer:.4f}: the missing mass of Zipf's law with α = {alpha} is "
                         f"A_M N^(−{alpha / (1 + alpha):.3f})", verbose)
    return say(False, f"your A_M = {answer:.4g} is off by {abs(answer / reference - 1):.1%} for α = {alpha}", verbose)
