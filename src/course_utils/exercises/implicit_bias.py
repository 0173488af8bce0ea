"""Checkers for the exercises of the chapter "What does a small initialisation buy? Implicit bias in diagonal
linear networks" (book/04_feature_learning/04_implicit_bias).

Each checker prints a one-line verdict and returns True or False. A wrong type, a wrong shape, None, NaN,
or a function where a value is expected (or the reverse) gets a ✗ verdict that says what was expected,
never a traceback.
"""

from __future__ import annotations

import numpy as np

from ..theory.implicit_bias import q as _q_reference
from . import answers
from .answers import number, say, tolerance, values

__all__ = ["check_q", "check_limits"]


@answers.checker
def check_q(q, rtol: float = 1e-8, verbose: bool = True) -> bool:
    """Exercise "The potential of one coordinate": does ``q(z)`` (vectorised, NumPy) return
    q(z) = 2 − √(4 + z²) + z·arcsinh(z/2) for z from −10⁶ to 10⁶ (0 and small values included), to
    relative precision ``rtol`` at every z (|q − q_ref| ≤ rtol·|q_ref|), also where q ≈ z²/4 is tiny
    (q(0) must be 0)?"""
    q = answers.student_function(q, "q (your function q itself, e.g. check_q(q))")
    rtol = tolerance("rtol", rtol)
    z = np.concatenate([-np.geomspace(1e-6, 1e6, 25)[::-1], [0.0], np.geomspace(1e-6, 1e6, 25)])
    answer = values(answers.call(q, z.copy(), what="q(z)"), "q(z) (one value per input)", shape=z.shape)
    reference = _q_reference(z)
    good = np.abs(answer - reference) <= rtol * np.abs(reference) + 1e-300   # q(0) = 0 exactly
    if not good.all():
        i = int(np.argmax(np.abs(answer - reference) / (np.abs(reference) + 1e-300)))
        hint = ""
        if abs(z[i]) < 1e-2:
            hint = " (small |z|: 2 − √(4 + z²) loses its digits; write it as −z²/(2 + √(4 + z²)))"
        elif np.allclose(answer, reference * 2, rtol=1e-6):
            hint = " (twice the reference: check the factor ½ in arcsinh(z/2))"
        return say(False, f"at z = {z[i]:.3g} your q is {answer[i]:.10g}, expected {reference[i]:.10g}{hint}",
                   verbose)
    return say(True, "your q(z) is the potential of one coordinate, from |z| = 1e-6 to 1e6", verbose)


@answers.checker
def check_limits(lazy_limit, rich_limit, verbose: bool = True) -> bool:
    """Exercise "The two limits of Q_α": do ``lazy_limit(beta, alpha)`` (the α → ∞ form ‖β‖²/(4α²)) and
    ``rich_limit(beta, alpha)`` (the α → 0 form ln(1/α²)‖β‖₁ + Σ|β_i|(ln|β_i| − 1)) agree with
    Q_α(β) = α² Σ q(β_i/α²) where they should: to 1e-6 relative at α = 10³ and α = 10⁻⁶ for a β with
    entries of order one (no zeros)? Each returns one number."""
    for name, f in (("lazy_limit", lazy_limit), ("rich_limit", rich_limit)):
        answers.student_function(f, f"{name} (your function itself)")
    beta = np.array([1.0, -0.5, 2.0, 0.25, -1.5])
    for name, f, alpha in (("lazy_limit", lazy_limit, 1e3), ("rich_limit", rich_limit, 1e-6)):
        value = number(answers.call(f, beta.copy(), alpha, what=f"{name}(beta, alpha)"),
                               f"{name}(beta, alpha)")
        exact = alpha ** 2 * _q_reference(beta / alpha ** 2).sum()
        if not abs(value - exact) <= 1e-6 * abs(exact):
            return say(False, f"at α = {alpha:g} your {name} gives {value:.8g}, Q_α(β) = {exact:.8g}", verbose)
    return say(True, "both limits agree with Q_α: ‖β‖²/4α² for large α, ln(1/α²)‖β‖₁ + Σ|β|(ln|β| − 1) for small α",
               verbose)
