"""Checkers for the exercises of the chapter "Minimal and extended features"
(book/04_feature_learning/05_minimal_features).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong answer, and an answer of
the wrong kind (not a function, a function that raises, a result of the wrong shape, NaN), gets a ✗ verdict
that says what was expected; the checker never raises on it.
"""

from __future__ import annotations

import numpy as np

from ..theory.features import uniform_error_kappa
from . import answers
from .answers import say, tolerance, values

__all__ = ["check_uniform_error_kappa"]


@answers.checker
def check_uniform_error_kappa(kappa, rtol: float = 1e-8, verbose: bool = True) -> bool:
    """Exercise "The held-out κ of a perfect minimal-feature network": does ``kappa(error, C)`` return
    κ_CKA = 1 − A for balanced classes, features collapsed onto a simplex ETF by predicted class, and errors
    spread evenly over the other classes, for an array of error rates ``error`` and a number of classes ``C``?

    The reference is :func:`course_utils.theory.features.uniform_error_kappa` on ε from 0 to 0.5 and
    C = 2, 3, 5, 10, 100; every value must satisfy |κ − κ_ref| ≤ rtol·max(|κ_ref|, 10⁻¹²) + 10⁻¹².
    """
    kappa = answers.student_function(kappa, "kappa (a function kappa(error, C))")
    rtol = tolerance("rtol", rtol)
    error = np.linspace(0.0, 0.5, 11)
    for C in (2, 3, 5, 10, 100):
        answer = values(answers.call(kappa, error.copy(), C, what=f"kappa(error, {C})"),
                                f"kappa(error, {C}) with error of shape {error.shape}", shape=error.shape)
        reference = uniform_error_kappa(error, C)
        good = np.abs(answer - reference) <= rtol * np.maximum(np.abs(reference), 1e-12) + 1e-12
        if not np.all(good):
            i = int(np.argmin(good))
            hint = (" (at ε = 0 a perfect network has κ = 0)" if i == 0 else
                    " (is the 'random guessing' point ε = (C−1)/C at κ = 1?)")
            return say(False, f"for C = {C}, ε = {error[i]:.2f} you give κ = {answer[i]:.6g}, expected "
                              f"{reference[i]:.6g}{hint}", verbose)
    return say(True, "your κ(ε, C) is that of collapsed features with evenly spread errors, for C = 2 to 100",
               verbose)
