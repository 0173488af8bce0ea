"""Checkers for the exercises of the chapter "Neural collapse" (book/04_feature_learning/03_neural_collapse).

Each checker prints a one-line verdict and returns True or False; it raises ``ValueError`` only
when the answer has the wrong type or shape, with a message that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..models.deep_linear import balanced_factors
from ..theory.neural_collapse import etf_gram

__all__ = ["check_simplex_etf", "check_balanced_readout_gram"]


def check_simplex_etf(simplex_etf: Callable, verbose: bool = True) -> bool:
    """Exercise "Build a simplex ETF": does ``simplex_etf(C)`` return C unit vectors in R^{C−1}
    (a (C, C−1) array) whose Gram matrix is C/(C−1)(I − 11ᵀ/C)? Tried for C = 2, 3, 4, 10."""
    for C in (2, 3, 4, 10):
        V = np.asarray(simplex_etf(C), dtype=float)
        if V.shape != (C, C - 1):
            raise ValueError(f"simplex_etf({C}) must return an array of shape ({C}, {C - 1}) "
                             f"(C vectors in C−1 dimensions), got {V.shape}")
        G = V @ V.T
        norms = np.sqrt(np.diag(G))
        if np.max(abs(norms - 1)) > 1e-8:
            if verbose:
                print(f"✗ not yet: for C = {C} the vectors are not unit vectors (lengths from "
                      f"{norms.min():.4g} to {norms.max():.4g})")
            return False
        err = np.max(abs(G - etf_gram(C)))
        if err > 1e-8:
            if verbose:
                cos = G[~np.eye(C, dtype=bool)]
                print(f"✗ not yet: for C = {C} the cosines range from {cos.min():.4g} to {cos.max():.4g}; "
                      f"a simplex ETF has all of them equal to {-1 / (C - 1):.4g}")
            return False
    if verbose:
        print("✓ your vectors form a simplex ETF: unit length, all cosines −1/(C−1), in C−1 dimensions")
    return True


def check_balanced_readout_gram(readout_gram: Callable, verbose: bool = True) -> bool:
    """Exercise "The readout of a balanced network": does ``readout_gram(E, L)`` return W_L W_Lᵀ of a
    balanced depth-L linear network with end-to-end map E? The reference builds such networks with
    :func:`course_utils.models.deep_linear.balanced_factors` (hidden width 12) and reads off W_L W_Lᵀ."""
    rng = np.random.default_rng(7)
    g = torch.Generator().manual_seed(7)
    for C, d, L in ((3, 5, 2), (4, 8, 3), (2, 6, 4)):
        E = rng.standard_normal((C, d))
        Ws = balanced_factors(torch.tensor(E), [12] * (L - 1), generator=g)
        reference = (Ws[-1] @ Ws[-1].T).numpy()
        answer = np.asarray(readout_gram(E.copy(), L), dtype=float)
        if answer.shape != (C, C):
            raise ValueError(f"readout_gram(E, L) with E of shape ({C}, {d}) must return a ({C}, {C}) array, "
                             f"got {answer.shape}")
        err = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
        if err > 1e-6:
            if verbose:
                hint = (" (that is E Eᵀ itself: take its L-th root)"
                        if np.linalg.norm(answer - E @ E.T) < 1e-6 * np.linalg.norm(E @ E.T) else "")
                print(f"✗ not yet: for C = {C}, d = {d}, L = {L} your W_L W_Lᵀ is off by {err:.2%} (relative){hint}")
            return False
    if verbose:
        print("✓ your W_L W_Lᵀ agrees with balanced networks built layer by layer")
    return True
