"""Checkers for the exercises of the grokking chapters (book/05_grokking).

Grokking I:
- :func:`check_parallelogram_count`: the number of parallelograms of p symbols, Σ_s C(c_s, 2)
  with c_s the number of unordered pairs with sum s (a whole number);
- :func:`check_unique_structure`: a function ``fn(train_pairs, p) -> bool`` that decides whether a
  training set pins a unique linear structure, compared with the reference on random training sets.

Grokking II:
- :func:`check_phase_classifier`: a function ``fn(train_step, val_step, budget) -> str`` returning
  one of "comprehension", "grokking", "memorisation", "confusion", compared with
  :func:`course_utils.theory.grokking.classify_phase` on a set of cases.

Each checker prints a verdict and returns True or False; an answer of the wrong kind (not a whole
number, not a function, a function that raises or returns something else than asked) gets a ✗
verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import validate
from ..theory import grokking as G
from ..validate import show
from . import answers
from .answers import setting, whole_number

__all__ = ["check_parallelogram_count", "check_unique_structure", "check_phase_classifier"]


def _parallelogram_count(p: int) -> int:
    """Σ_s C(c_s, 2), with c_s = ⌊min(s, 2p − 2 − s)/2⌋ + 1 the number of unordered pairs a ≤ b < p
    with a + b = s: the number of rows of :func:`course_utils.theory.grokking.parallelograms`, in
    O(p) operations instead of listing them (so any p gives an answer at once)."""
    c = np.array([min(s, 2 * p - 2 - s) // 2 + 1 for s in range(2 * p - 1)], dtype=np.int64)
    return int(np.sum(c * (c - 1) // 2))


@answers.checker
def check_parallelogram_count(p: int, answer) -> bool:
    """Is ``answer`` the number of parallelograms (i, j, m, n), i + j = m + n, of p symbols?

    The count is Σ_s C(c_s, 2), c_s the number of unordered pairs with sum s; ``answer`` must be a
    whole number (70.7 is not 70).
    """
    p = setting(validate.integer, "p", p, low=2, high=1_000_000)
    value = whole_number(answer, "the number of parallelograms")
    ref = _parallelogram_count(p)
    if value == ref:
        return answers.verdict(True, f"{ref} parallelograms for p = {p}",
                               "Each sum s with c_s pairs contributes c_s(c_s − 1)/2.")
    if value == 2 * ref:
        return answers.verdict(False, "parallelogram count", "You counted each parallelogram twice: "
                               "(i, j, m, n) and (m, n, i, j) are the same equation.")
    return answers.verdict(False, "parallelogram count",
                           "Count the unordered pairs c_s with each sum s, then choose two of them.")


@answers.checker
def check_unique_structure(fn: Callable, *, p: int = 10, n_sets: int = 60, seed: int = 0) -> bool:
    """Compare ``fn(train_pairs, p)`` (train_pairs: int array (n, 2)) with the reference on random sets.

    ``fn`` must return True exactly when the training set pins a unique linear structure (the rank of
    the training parallelograms' constraint matrix is p − 2).
    """
    fn = answers.student_function(fn, "fn (a function fn(train_pairs, p))")
    p = setting(validate.integer, "p", p, low=3, high=30)
    n_sets = setting(validate.integer, "n_sets", n_sets, low=1, high=1000)
    seed = setting(validate.nonnegative_int, "seed", seed)
    rng = np.random.default_rng(seed)
    pairs = G.unordered_pairs(p)
    wrong = []
    for _ in range(n_sets):
        n = int(rng.integers(len(pairs) // 5, len(pairs) + 1))
        train = pairs[np.sort(rng.permutation(len(pairs))[:n])]
        ref = G.unique_linear_structure(train, p)
        got = answers.call(fn, train, p, what="fn(train_pairs, p)")
        if not isinstance(got, (bool, np.bool_)):
            raise answers.NotAnAnswer(f"fn(train_pairs, p) should return True or False, got {show(got)}")
        if bool(got) != ref:
            wrong.append((n, ref))
    if not wrong:
        return answers.verdict(True, f"unique-structure test on {n_sets} random training sets",
                               "The rank of the training parallelograms' constraint matrix must be p − 2.")
    n, ref = wrong[0]
    return answers.verdict(False, f"{len(wrong)} of {n_sets} training sets misjudged",
                           f"e.g. a set of {n} pairs where the answer is {ref}. Build one row "
                           "e_i + e_j − e_m − e_n per training parallelogram and compare its rank with p − 2.")


@answers.checker
def check_phase_classifier(fn: Callable) -> bool:
    """Compare ``fn(train_step, val_step, budget)`` with the chapter's phase rule: grokking when
    validation passes the threshold more than budget/10 steps after training (t_val > t_train + budget/10)."""
    fn = answers.student_function(fn, "fn (a function fn(train_step, val_step, budget))")
    nan = float("nan")
    cases = [(100, 150, 5000), (100, 2000, 5000), (100, nan, 5000), (nan, nan, 5000),
             (300, 800, 5000), (300, 801, 5000), (4000, nan, 5000), (200, 6000, 5000)]
    wrong = []
    for tr, va, budget in cases:
        ref = G.PHASES[int(G.classify_phase(tr, va, budget=budget))]
        got = answers.call(fn, tr, va, budget, what=f"fn({tr}, {va}, {budget})")
        if not isinstance(got, str) or got not in G.PHASES:
            raise answers.NotAnAnswer(f"fn(train_step, val_step, budget) should return one of {G.PHASES}, "
                                      f"got {show(got)}")
        if got != ref:
            wrong.append(((tr, va, budget), got, ref))
    if not wrong:
        return answers.verdict(True, "phase classifier", "All eight cases, including the boundaries.")
    case, got, ref = wrong[0]
    return answers.verdict(False, f"{len(wrong)} of {len(cases)} cases wrong",
                           f"e.g. (train step, val step, budget) = {case}: you said {got!r}, expected {ref!r}.")
