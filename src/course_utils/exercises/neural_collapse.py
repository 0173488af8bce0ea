"""Checkers for the exercises of the chapter "Neural collapse" (book/04_feature_learning/03_neural_collapse).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..models.deep_linear import balanced_factors
from ..theory.neural_collapse import etf_gram
from . import answers
from .answers import say, values

__all__ = ["check_simplex_etf", "check_balanced_readout_gram"]


@answers.checker
def check_simplex_etf(simplex_etf: Callable, verbose: bool = True) -> bool:
    """Exercise "Build a simplex ETF": does ``simplex_etf(C)`` return C unit vectors in R^{C−1}
    (a (C, C−1) array V) whose Gram matrix is V Vᵀ = C/(C−1)(I − 11ᵀ/C)? Tried for C = 2, 3, 4, 10,
    to 10⁻⁸ in every entry."""
    simplex_etf = answers.student_function(simplex_etf, "simplex_etf (a function of C)")
    for C in (2, 3, 4, 10):
        V = values(answers.call(simplex_etf, C, what=f"simplex_etf({C})"),
                           f"simplex_etf({C}) (C vectors in C−1 dimensions)", shape=(C, C - 1))
        G = V @ V.T
        norms = np.sqrt(np.diag(G))
        if not np.max(abs(norms - 1)) <= 1e-8:
            return say(False, f"for C = {C} the vectors are not unit vectors (lengths from "
                              f"{norms.min():.4g} to {norms.max():.4g})", verbose)
        err = np.max(abs(G - etf_gram(C)))
        if not err <= 1e-8:
            cos = G[~np.eye(C, dtype=bool)]
            return say(False, f"for C = {C} the cosines range from {cos.min():.4g} to {cos.max():.4g}; "
                              f"a simplex ETF has all of them equal to {-1 / (C - 1):.4g}", verbose)
    return say(True, "your vectors form a simplex ETF: unit length, all cosines −1/(C−1), in C−1 dimensions", verbose)


@answers.checker
def check_balanced_readout_gram(readout_gram: Callable, verbose: bool = True) -> bool:
    """Exercise "The readout of a balanced network": does ``readout_gram(E, L)`` return W_L W_Lᵀ = (E Eᵀ)^{1/L}
    of a balanced depth-L linear network with end-to-end map E? The reference builds such networks with
    :func:`course_utils.models.deep_linear.balanced_factors` (hidden width 12) and reads off W_L W_Lᵀ;
    the answer must agree to a relative 10⁻⁶ (Frobenius norm)."""
    readout_gram = answers.student_function(readout_gram, "readout_gram (a function readout_gram(E, L))")
    rng = np.random.default_rng(7)
    g = torch.Generator().manual_seed(7)
    for C, d, L in ((3, 5, 2), (4, 8, 3), (2, 6, 4)):
        E = rng.standard_normal((C, d))
        Ws = balanced_factors(torch.tensor(E), [12] * (L - 1), generator=g)
        reference = (Ws[-1] @ Ws[-1].T).numpy()
        answer = values(answers.call(readout_gram, E.copy(), L, what="readout_gram(E, L)"),
                                f"readout_gram(E, L) with E of shape ({C}, {d})", shape=(C, C))
        err = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
        if not err <= 1e-6:
            hint = (" (that is E Eᵀ itself: take its L-th root)"
                    if np.linalg.norm(answer - E @ E.T) < 1e-6 * np.linalg.norm(E @ E.T) else "")
            return say(False, f"for C = {C}, d = {d}, L = {L} your W_L W_Lᵀ is off by {err:.2%} (relative){hint}",
                       verbose)
    return say(True, "your W_L W_Lᵀ agrees with balanced networks built layer by layer", verbose)
