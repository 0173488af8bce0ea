"""Checkers for the exercises of the chapter "Do trained networks follow the quantization model?"
(book/06_scaling/04_quanta_in_networks).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong answer, and an answer of
the wrong kind (not a function, a function that raises, a result of the wrong shape, NaN), gets a ✗ verdict
that says what was expected; the checker never raises on it.
"""

from __future__ import annotations

import numpy as np

from ..theory.quanta import skill_probabilities
from ..theory.quanta_networks import tail_loss
from . import answers
from .answers import say, tolerance, values

__all__ = ["check_tail_loss"]


@answers.checker
def check_tail_loss(tail, rtol: float = 1e-9, verbose: bool = True) -> bool:
    """Exercise "The finite-size bend of a Zipf tail": does ``tail(n, p)`` return Σ_{k>n} p_k?

    ``n`` is an integer array of learned-skill counts (0 ≤ n ≤ n_s), ``p`` the skill frequencies sorted
    from the most frequent; the answer must have the shape of ``n``. The reference is
    :func:`course_utils.theory.quanta_networks.tail_loss` with ℓ_u = 1, for α = 0.4, 1, 2 and n_s = 5 to 500
    (|answer − reference| ≤ rtol·|reference| + 10⁻¹² in every entry).
    """
    tail = answers.student_function(tail, "tail (a function tail(n, p))")
    rtol = tolerance("rtol", rtol)
    for alpha, n_s in [(1.0, 32), (0.4, 500), (2.0, 5)]:
        p = skill_probabilities(n_s, alpha)
        n = np.unique(np.round(np.linspace(0, n_s, 7)).astype(int))
        answer = values(answers.call(tail, n.copy(), p.copy(), what="tail(n, p)"),
                                f"tail(n, p) with n of shape {n.shape}", shape=n.shape)
        reference = tail_loss(n, p)
        good = np.abs(answer - reference) <= rtol * np.abs(reference) + 1e-12
        if not np.all(good):
            i = int(np.argmin(good))
            hint = ""
            if n[i] > 0 and np.isclose(answer[i], reference[i] + p[n[i] - 1]):
                hint = " (you included skill n itself: the tail starts at k = n + 1)"
            elif n[i] < n_s and np.isclose(answer[i], reference[i] - p[n[i]]):
                hint = " (off by one: skill n + 1 is the first unlearned one, and it belongs to the tail)"
            return say(False, f"for α = {alpha}, n_s = {n_s}, n = {n[i]} you give {answer[i]:.6g}, expected "
                              f"{reference[i]:.6g}{hint}", verbose)
    return say(True, "your tail(n, p) = Σ_(k>n) p_k is right for α = 0.4, 1, 2 and n_s = 5 to 500", verbose)
