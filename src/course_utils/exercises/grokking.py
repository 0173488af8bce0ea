"""Checkers for the exercises of the grokking chapters (book/05_grokking).

Grokking I:
- :func:`check_parallelogram_count`: the number of parallelograms of p symbols, Σ_s C(c_s, 2)
  with c_s the number of unordered pairs with sum s;
- :func:`check_unique_structure`: a function ``fn(train_pairs, p) -> bool`` that decides whether a
  training set pins a unique linear structure, compared with the reference on random training sets.

Grokking II:
- :func:`check_phase_classifier`: a function ``fn(train_step, val_step, budget) -> str`` returning
  one of "comprehension", "grokking", "memorisation", "confusion", compared with
  :func:`course_utils.theory.grokking.classify_phase` on a set of cases.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory import grokking as G

__all__ = ["check_parallelogram_count", "check_unique_structure", "check_phase_classifier"]


def _verdict(ok: bool, name: str, detail: str) -> bool:
    print(f"{'✓ correct' if ok else '✗ not yet'}: {name}. {detail}")
    return ok


def check_parallelogram_count(p: int, answer) -> bool:
    """Is ``answer`` the number of parallelograms (i, j, m, n), i + j = m + n, of p symbols?"""
    try:
        value = int(answer)
    except (TypeError, ValueError):
        raise ValueError(f"the answer must be an integer, got {answer!r}") from None
    ref = len(G.parallelograms(p))
    if value == ref:
        return _verdict(True, f"{ref} parallelograms for p = {p}",
                        "Each sum s with c_s pairs contributes c_s(c_s − 1)/2.")
    if value == 2 * ref:
        return _verdict(False, "parallelogram count", "You counted each parallelogram twice: "
                        "(i, j, m, n) and (m, n, i, j) are the same equation.")
    return _verdict(False, "parallelogram count",
                    "Count the unordered pairs c_s with each sum s, then choose two of them.")


def check_unique_structure(fn: Callable, *, p: int = 10, n_sets: int = 60, seed: int = 0) -> bool:
    """Compare ``fn(train_pairs, p)`` (train_pairs: int array (n, 2)) with the reference on random sets."""
    rng = np.random.default_rng(seed)
    pairs = G.unordered_pairs(p)
    wrong = []
    for _ in range(n_sets):
        n = int(rng.integers(len(pairs) // 5, len(pairs) + 1))
        train = pairs[np.sort(rng.permutation(len(pairs))[:n])]
        ref = G.unique_linear_structure(train, p)
        got = fn(train, p)
        if not isinstance(got, (bool, np.bool_)):
            raise ValueError(f"fn must return True or False, got {got!r}")
        if bool(got) != ref:
            wrong.append((n, ref))
    if not wrong:
        return _verdict(True, f"unique-structure test on {n_sets} random training sets",
                        "The rank of the training parallelograms' constraint matrix must be p − 2.")
    n, ref = wrong[0]
    return _verdict(False, f"{len(wrong)} of {n_sets} training sets misjudged",
                    f"e.g. a set of {n} pairs where the answer is {ref}. Build one row "
                    "e_i + e_j − e_m − e_n per training parallelogram and compare its rank with p − 2.")


def check_phase_classifier(fn: Callable) -> bool:
    """Compare ``fn(train_step, val_step, budget)`` with the chapter's phase rule: grokking when
    validation passes the threshold more than budget/10 steps after training."""
    nan = float("nan")
    cases = [(100, 150, 5000), (100, 2000, 5000), (100, nan, 5000), (nan, nan, 5000),
             (300, 800, 5000), (300, 801, 5000), (4000, nan, 5000), (200, 6000, 5000)]
    wrong = []
    for tr, va, budget in cases:
        ref = G.PHASES[int(G.classify_phase(tr, va, budget=budget))]
        got = fn(tr, va, budget)
        if got not in G.PHASES:
            raise ValueError(f"fn must return one of {G.PHASES}, got {got!r}")
        if got != ref:
            wrong.append(((tr, va, budget), got, ref))
    if not wrong:
        return _verdict(True, "phase classifier", "All eight cases, including the boundaries.")
    case, got, ref = wrong[0]
    return _verdict(False, f"{len(wrong)} of {len(cases)} cases wrong",
                    f"e.g. (train step, val step, budget) = {case}: you said {got!r}, expected {ref!r}.")
