"""Checkers for the exercises of the chapter "Variance-limited and resolution-limited scaling"
(book/06_scaling/02_variance_and_resolution).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type,
NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..data.manifold import TorusManifold, intrinsic_dimension_mle
from ..theory.scaling_regimes import resolution_limited_coefficient
from . import answers
from .answers import number, say

__all__ = ["check_intrinsic_dimension_estimator", "check_resolution_limited_coefficient"]


@answers.checker
def check_intrinsic_dimension_estimator(estimator: Callable, verbose: bool = True) -> bool:
    """Exercise "Measure a dimension": does ``estimator(X, k)`` return the Levina–Bickel estimate
    d̂ = [mean_x (1/(k−1)) Σ_(j<k) log(T_k(x)/T_j(x))]^(−1)?

    Compared with :func:`course_utils.data.manifold.intrinsic_dimension_mle` on tori of dimension
    2, 3 and 5 embedded in R^24, for k = 5 and k = 12 (relative tolerance 1e-6).
    """
    estimator = answers.student_function(estimator, "estimator (a function estimator(X, k))")
    rng = np.random.default_rng(7)
    for d, k in [(2, 5), (3, 12), (5, 12)]:
        _, X, _ = TorusManifold(d, 24, seed=d).sample(600, rng)
        answer = number(answers.call(estimator, X.copy(), k, what="estimator(X, k)"),
                                "estimator(X, k) (one number)")
        reference = intrinsic_dimension_mle(X, k)
        if not abs(answer - reference) <= 1e-6 * reference:
            hint = ""
            if abs(answer - d) < 0.15 * d:
                hint = " (close to the true d, but not the same estimator: average 1/d̂(x) over the points, then invert)"
            return say(False, f"on a {d}-torus with k = {k} you get {answer:.4f}, the estimator gives "
                              f"{reference:.4f}{hint}", verbose)
    return say(True, "your estimator agrees with the Levina–Bickel maximum-likelihood estimate", verbose)


@answers.checker
def check_resolution_limited_coefficient(coefficient_fn: Callable, verbose: bool = True) -> bool:
    """Exercise "The constant in front": does ``coefficient_fn(alpha)`` return C(α) in L ≈ C(α) N^(−α)
    for the random-feature model with λ_i = i^(−(1+α)) and an isotropic teacher?

    The reference is C(α) = I^(1+α), I = (π/b)/sin(π/b), b = 1 + α (relative tolerance 1e-6).
    """
    coefficient_fn = answers.student_function(coefficient_fn, "coefficient_fn (a function of alpha)")
    for alpha in (0.3, 0.5, 1.0, 2.0):
        answer = number(answers.call(coefficient_fn, alpha, what=f"coefficient_fn({alpha})"),
                                f"coefficient_fn({alpha}) (one number)")
        reference = resolution_limited_coefficient(alpha)
        if not abs(answer - reference) <= 1e-6 * reference:
            hint = " (that is the naive tail sum Σ_(i>N) λ_i ≈ N^(−α)/α)" if abs(answer - 1 / alpha) < 1e-6 else ""
            return say(False, f"at α = {alpha} you get C = {answer:.5g}, the theory {reference:.5g}{hint}", verbose)
    return say(True, "C(α) = I(α)^(1+α) with I(α) = (π/b)/sin(π/b): the resolution-limited constant", verbose)
