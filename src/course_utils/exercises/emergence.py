"""Checkers for the exercises of the chapter "Can emergence be predicted?"
(book/06_scaling/07_predicting_emergence).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong answer, and an answer of
the wrong kind (not a function, a function that raises, a result of the wrong shape, NaN), gets a ✗ verdict
that says what was expected; the checker never raises on it.
"""

from __future__ import annotations

import numpy as np

from .. import validate
from ..theory.emergence import data_law
from ..theory.quanta import skill_probabilities
from . import answers
from .answers import say, setting, values, whole_number

__all__ = ["check_data_law", "check_complete_skills"]


@answers.checker
def check_data_law(law, verbose: bool = True) -> bool:
    """Exercise "The corrected data law": does ``law(D, p, D_c)`` return R_k/S = min(p_k D / D_c, 1)?

    ``D`` is a 1-d array of data-set sizes, ``p`` the skill frequencies (1-d), ``D_c`` the samples a skill
    needs; the answer has shape (len(D), len(p)). The reference is
    :func:`course_utils.theory.emergence.data_law`.
    """
    law = answers.student_function(law, "law (a function law(D, p, D_c))")
    for alpha, n_s, D_c in [(1.0, 6, 600.0), (0.5, 50, 100.0), (2.0, 10, 3000.0)]:
        p = skill_probabilities(n_s, alpha)
        D = np.array([10.0, 300.0, 3000.0, 1e5, 1e7])
        answer = values(answers.call(law, D.copy(), p.copy(), D_c, what=f"law(D, p, {D_c:g})"),
                                "law(D, p, D_c) (sizes × skills)", shape=(D.size, n_s))
        reference = data_law(D, p, D_c)
        if not np.allclose(answer, reference, rtol=1e-9, atol=1e-12):
            hint = ""
            if np.allclose(answer, np.minimum(D[:, None] / D_c, 1.0) * np.ones_like(reference)):
                hint = " (each skill gets only its share p_k D of the samples, not all D)"
            elif np.allclose(answer, D[:, None] * p / D_c):
                hint = " (a skill cannot be learned more than completely: cap at 1)"
            elif np.allclose(answer, (D[:, None] * p >= D_c).astype(float)):
                hint = " (that is a threshold; the law rises linearly in the count below D_c)"
            return say(False, f"at α = {alpha}, n_s = {n_s}, D_c = {D_c:g} your R_k/S differs from "
                       f"min(p_k D/D_c, 1){hint}", verbose)
    return say(True, "your law is R_k/S = min(p_k D / D_c, 1) for every skill and data-set size", verbose)


@answers.checker
def check_complete_skills(count, D: float, D_c: float, n_skills: int, alpha: float, verbose: bool = True) -> bool:
    """Exercise "The corrected data law", second part: how many skills are complete (R_k = S) at data-set size D?

    The answer is the number of k ≤ n_skills with p_k D ≥ D_c, p_k = k^−(α+1)/Z; it must be a whole number.
    """
    D = setting(validate.positive, "D", D)
    D_c = setting(validate.positive, "D_c", D_c)
    n_skills = setting(validate.integer, "n_skills", n_skills, low=1, high=10_000_000)
    alpha = setting(validate.positive, "alpha", alpha)
    value = whole_number(count, "the number of complete skills")
    p = skill_probabilities(n_skills, alpha)
    reference = int(np.sum(p * D >= D_c))
    if value == reference:
        return say(True, f"{reference} skills have p_k D ≥ D_c at D = {D:g}: they are complete", verbose)
    hint = " (count the skills with p_k D ≥ D_c)" if value != int(np.sum(p * D >= 1)) else \
        " (that counts the skills seen at least once: the multilinear model without D_c)"
    return say(False, f"{value} is not the number of complete skills at D = {D:g}{hint}", verbose)
