"""Checkers for the exercises of the chapter "Scaling laws from counting"
(book/06_scaling/01_scaling_from_counting).

Each checker prints a one-line verdict and returns True or False; it raises ``ValueError`` only
when the answer has the wrong type or shape, with a message that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable

from scipy.special import gamma, zeta

from ..theory.counting import expected_kl

__all__ = ["check_bernoulli_expected_kl", "check_missing_mass_prefactor"]


def check_bernoulli_expected_kl(fn: Callable, verbose: bool = True) -> bool:
    """Exercise "The exact learning curve of a coin": does ``fn(p, N, beta)`` return the exact
    expected KL(p‖q) of the add-β estimate of a Bernoulli(p) variable from N samples?

    Compares with :func:`course_utils.theory.counting.expected_kl` at a few (p, N, β).
    """
    cases = [(0.5, 1, 0.5), (0.3, 7, 1.0), (0.05, 40, 0.5), (0.9, 200, 0.25), (0.01, 1000, 1.0)]
    for p, N, beta in cases:
        try:
            answer = float(fn(p, N, beta))
        except (TypeError, ValueError) as err:
            raise ValueError(f"fn(p, N, beta) must return one number, e.g. fn(0.3, 7, 1.0); it raised: {err}") from None
        reference = float(expected_kl([p, 1 - p], N, beta))
        if not abs(answer - reference) <= 1e-8 + 1e-6 * reference:
            if verbose:
                hint = ""
                if abs(answer - (1 / (2 * N))) < 1e-3 * reference:
                    hint = " (that is the asymptote 1/(2N), not the exact sum)"
                print(f"✗ not yet: at p = {p}, N = {N}, β = {beta} you return {answer:.6g}, the exact value is "
                      f"{reference:.6g}{hint}")
            return False
    if verbose:
        print("✓ your exact sum over the binomial distribution agrees with the reference at every (p, N, β)")
    return True


def check_missing_mass_prefactor(prefactor, alpha: float, rtol: float = 1e-3, verbose: bool = True) -> bool:
    """Exercise "The missing mass of Zipf's law": is ``prefactor`` the A_M in M(N) ≈ A_M N^(−α/(1+α)) for
    p_k = k^(−1−α)/ζ(1+α) on infinitely many categories?

    Reference: A_M = ζ(1+α)^(−1/(1+α)) Γ(α/(1+α)) / (1+α).
    """
    try:
        answer = float(prefactor)
    except (TypeError, ValueError):
        raise ValueError(f"prefactor must be a number, got {type(prefactor).__name__}") from None
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    s = 1 / (1 + alpha)
    reference = zeta(1 + alpha) ** (-s) * gamma(1 - s) / (1 + alpha)
    ok = abs(answer - reference) <= rtol * reference
    if verbose:
        if ok:
            print(f"✓ A_M = {answer:.4f}: the missing mass of Zipf's law with α = {alpha} is "
                  f"A_M N^(−{alpha / (1 + alpha):.3f})")
        else:
            print(f"✗ not yet: your A_M = {answer:.4g} is off by {abs(answer / reference - 1):.1%} for α = {alpha}")
    return ok
