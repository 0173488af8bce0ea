"""Checkers for the exercises of the chapter on lazy versus rich learning
(book/04_feature_learning/02_lazy_vs_rich).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory.lazy_rich import relative_change_at_convergence
from . import answers
from .answers import say, tolerance, values

__all__ = ["check_relative_change"]


@answers.checker
def check_relative_change(relative_change: Callable, rtol: float = 1e-6, verbose: bool = True) -> bool:
    """Exercise "The relative weight change as a function of ρ": does ``relative_change(rho)`` return
    Δ(ρ) = ‖θ_∞ − θ₀‖/‖θ₀‖ of the scalar model started with w₀ = 0, for an array of ratios ρ?

    The reference is :func:`course_utils.theory.lazy_rich.relative_change_at_convergence`, on ρ from
    10⁻⁴ (rich) to 10⁴ (lazy); every value must agree to a relative ``rtol``.
    """
    relative_change = answers.student_function(relative_change, "relative_change (a function of rho)")
    rtol = tolerance("rtol", rtol)
    rho = np.geomspace(1e-4, 1e4, 33)
    answer = values(answers.call(relative_change, rho.copy(), what="relative_change(rho)"),
                            f"relative_change(rho) with rho of shape {rho.shape}", shape=rho.shape)
    reference = relative_change_at_convergence(rho)
    error = np.abs(answer - reference) / reference
    ok = bool(np.all(error <= rtol))
    if ok:
        return say(True, "your Δ(ρ) is the relative weight change at convergence from ρ = 1e-4 (rich) to 1e4 (lazy)",
                   verbose)
    worst = int(np.argmax(error))
    side = "lazy (ρ ≫ 1: expect 1/2ρ)" if rho[worst] > 1 else "rich (ρ ≪ 1: expect ρ^(-1/2))"
    return say(False, f"at ρ = {rho[worst]:.1e} your value {answer[worst]:.4g} differs from "
                      f"{reference[worst]:.4g}; look at the {side} side", verbose)
