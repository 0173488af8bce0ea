"""Checkers for the exercises of the chapter "Can emergence be predicted?"
(book/06_scaling/07_predicting_emergence).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong answer, and an answer of
the wrong kind (not a function, a function that raises, a result of the wrong shape, NaN), gets a ✗ verdict
that says what was expected; the checker never raises on it.
"""

from __future__ import annotations

import numpy as np

from ..theory.emergence import data_law
from ..theory.quanta import skill_probabilities

__all__ = ["check_data_law", "check_complete_skills"]


def _say(ok: bool, message: str, verbose: bool) -> bool:
    if verbose:
        print(("✓ " if ok else "✗ ") + message)
    return ok


def _numbers(answer, shape, what: str, verbose: bool):
    """The answer as a float array of ``shape``, or a ✗ verdict (returned as a bool) saying what is wrong."""
    if callable(answer):
        return _say(False, f"{what} returned a function; expected an array of shape {shape}", verbose)
    try:
        answer = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        return _say(False, f"{what} must return numbers, got {type(answer).__name__}", verbose)
    if answer.shape != shape:
        return _say(False, f"{what} must return an array of shape {shape} (sizes × skills), got {answer.shape}",
                    verbose)
    if not np.all(np.isfinite(answer)):
        return _say(False, f"{what} returned NaN or infinite values", verbose)
    return answer


def check_data_law(law, verbose: bool = True) -> bool:
    """Exercise "The corrected data law": does ``law(D, p, D_c)`` return R_k/S = min(p_k D / D_c, 1)?

    ``D`` is a 1-d array of data-set sizes, ``p`` the skill frequencies (1-d), ``D_c`` the samples a skill
    needs; the answer has shape (len(D), len(p)). The reference is
    :func:`course_utils.theory.emergence.data_law`.
    """
    if not callable(law):
        return _say(False, f"expected a function law(D, p, D_c), got a {type(law).__name__}", verbose)
    for alpha, n_s, D_c in [(1.0, 6, 600.0), (0.5, 50, 100.0), (2.0, 10, 3000.0)]:
        p = skill_probabilities(n_s, alpha)
        D = np.array([10.0, 300.0, 3000.0, 1e5, 1e7])
        try:
            answer = law(D.copy(), p.copy(), D_c)
        except Exception as exc:                                          # the student's code failed
            return _say(False, f"law(D, p, {D_c:g}) raised {type(exc).__name__}: {exc}", verbose)
        answer = _numbers(answer, (D.size, n_s), "law(D, p, D_c)", verbose)
        if isinstance(answer, bool):
            return False
        reference = data_law(D, p, D_c)
        if not np.allclose(answer, reference, rtol=1e-9, atol=1e-12):
            hint = ""
            if np.allclose(answer, np.minimum(D[:, None] / D_c, 1.0) * np.ones_like(reference)):
                hint = " (each skill gets only its share p_k D of the samples, not all D)"
            elif np.allclose(answer, D[:, None] * p / D_c):
                hint = " (a skill cannot be learned more than completely: cap at 1)"
            elif np.allclose(answer, (D[:, None] * p >= D_c).astype(float)):
                hint = " (that is a threshold; the law rises linearly in the count below D_c)"
            return _say(False, f"not yet: at α = {alpha}, n_s = {n_s}, D_c = {D_c:g} your R_k/S differs from "
                        f"min(p_k D/D_c, 1){hint}", verbose)
    return _say(True, "your law is R_k/S = min(p_k D / D_c, 1) for every skill and data-set size", verbose)


def check_complete_skills(count, D: float, D_c: float, n_skills: int, alpha: float, verbose: bool = True) -> bool:
    """Exercise "The corrected data law", second part: how many skills are complete (R_k = S) at data-set size D?

    The answer is the number of k ≤ n_skills with p_k D ≥ D_c, p_k = k^−(α+1)/Z.
    """
    if callable(count) or isinstance(count, (bool, np.bool_)):
        return _say(False, f"expected a whole number of skills, got a {type(count).__name__}", verbose)
    try:
        value = float(count)
    except (TypeError, ValueError):
        return _say(False, f"expected a whole number of skills, got {count!r}", verbose)
    if not np.isfinite(value) or value != round(value):
        return _say(False, f"expected a whole number of skills, got {count!r}", verbose)
    p = skill_probabilities(int(n_skills), alpha)
    reference = int(np.sum(p * D >= D_c))
    if int(value) == reference:
        return _say(True, f"{reference} skills have p_k D ≥ D_c at D = {D:g}: they are complete", verbose)
    hint = " (count the skills with p_k D ≥ D_c)" if int(value) != int(np.sum(p * D >= 1)) else \
        " (that counts the skills seen at least once: the multilinear model without D_c)"
    return _say(False, f"not yet: {int(value)} is not the number of complete skills at D = {D:g}{hint}", verbose)
