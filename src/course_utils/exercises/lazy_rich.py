"""Checkers for the exercises of the chapter on lazy versus rich learning
(book/04_feature_learning/02_lazy_vs_rich).

Each checker prints a one-line verdict and returns True or False; it raises ``ValueError`` only
when the answer has the wrong type or shape, with a message that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory.lazy_rich import relative_change_at_convergence

__all__ = ["check_relative_change"]


def check_relative_change(relative_change: Callable, rtol: float = 1e-6, verbose: bool = True) -> bool:
    """Exercise "The relative weight change as a function of ρ": does ``relative_change(rho)`` return
    ‖θ_∞ − θ₀‖/‖θ₀‖ of the scalar model started with w₀ = 0, for an array of ratios ρ?

    The reference is :func:`course_utils.theory.lazy_rich.relative_change_at_convergence`, on ρ from
    10⁻⁴ (rich) to 10⁴ (lazy).
    """
    rho = np.geomspace(1e-4, 1e4, 33)
    answer = np.asarray(relative_change(rho.copy()), dtype=float)
    if answer.shape != rho.shape:
        raise ValueError(f"relative_change(rho) with rho of shape {rho.shape} must return the same shape, "
                         f"got {answer.shape}")
    reference = relative_change_at_convergence(rho)
    error = np.abs(answer - reference) / reference
    ok = bool(np.all(np.isfinite(answer)) and np.all(error <= rtol))
    if verbose:
        if ok:
            print("✓ your Δ(ρ) is the relative weight change at convergence from ρ = 1e-4 (rich) to 1e4 (lazy)")
        else:
            worst = int(np.nanargmax(np.where(np.isfinite(error), error, np.inf)))
            side = "lazy (ρ ≫ 1: expect 1/2ρ)" if rho[worst] > 1 else "rich (ρ ≪ 1: expect ρ^(-1/2))"
            print(f"✗ not yet: at ρ = {rho[worst]:.1e} your value {answer[worst]:.4g} differs from "
                  f"{reference[worst]:.4g}; look at the {side} side")
    return ok
