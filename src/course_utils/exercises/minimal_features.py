"""Checkers for the exercises of the chapter "Minimal and extended features"
(book/04_feature_learning/05_minimal_features).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong answer, and an answer of
the wrong kind (not a function, a function that raises, a result of the wrong shape, NaN), gets a ✗ verdict
that says what was expected; the checker never raises on it.
"""

from __future__ import annotations

import numpy as np

from ..theory.features import uniform_error_kappa

__all__ = ["check_uniform_error_kappa"]


def _say(ok: bool, message: str, verbose: bool) -> bool:
    if verbose:
        print(("✓ " if ok else "✗ ") + message)
    return ok


def check_uniform_error_kappa(kappa, rtol: float = 1e-8, verbose: bool = True) -> bool:
    """Exercise "The held-out κ of a perfect minimal-feature network": does ``kappa(error, C)`` return
    κ_CKA = 1 − A for balanced classes, features collapsed onto a simplex ETF by predicted class, and errors
    spread evenly over the other classes, for an array of error rates ``error`` and a number of classes ``C``?

    The reference is :func:`course_utils.theory.features.uniform_error_kappa` on ε from 0 to 0.5 and
    C = 2, 3, 5, 10, 100.
    """
    if not callable(kappa):
        return _say(False, f"expected a function kappa(error, C), got a {type(kappa).__name__}", verbose)
    error = np.linspace(0.0, 0.5, 11)
    for C in (2, 3, 5, 10, 100):
        try:
            answer = kappa(error.copy(), C)
        except Exception as exc:                                         # the student's code failed
            return _say(False, f"kappa(error, {C}) raised {type(exc).__name__}: {exc}", verbose)
        if callable(answer):
            return _say(False, f"kappa(error, {C}) returned a function; expected an array of {error.size} "
                        "numbers", verbose)
        try:
            answer = np.asarray(answer, dtype=float)
        except (TypeError, ValueError):
            return _say(False, f"kappa(error, {C}) must return numbers, got {type(answer).__name__}", verbose)
        if answer.shape != error.shape:
            return _say(False, f"kappa(error, {C}) with error of shape {error.shape} must return the same shape, "
                        f"got {answer.shape}", verbose)
        if not np.all(np.isfinite(answer)):
            return _say(False, f"kappa(error, {C}) returned NaN or infinite values", verbose)
        reference = uniform_error_kappa(error, C)
        bad = np.abs(answer - reference) > rtol * np.maximum(np.abs(reference), 1e-12) + 1e-12
        if np.any(bad):
            i = int(np.argmax(bad))
            hint = (" (at ε = 0 a perfect network has κ = 0)" if i == 0 else
                    " (is the 'random guessing' point ε = (C−1)/C at κ = 1?)")
            return _say(False, f"not yet: for C = {C}, ε = {error[i]:.2f} you give κ = {answer[i]:.6g}, expected "
                        f"{reference[i]:.6g}{hint}", verbose)
    return _say(True, "your κ(ε, C) is that of collapsed features with evenly spread errors, for C = 2 to 100",
                verbose)
