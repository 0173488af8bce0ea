"""Checkers for the exercises of the chapter "Linear models and gradient flow"
(book/01_foundations/01_linear_models).

Each checker prints a one-line verdict and returns True or False; it raises ``ValueError`` only
when the answer has the wrong type or shape, with a message that says what was expected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from ..theory.linear import empirical_eigenbasis, gd_solution, ridge_risk

__all__ = ["check_gd_limit", "check_optimal_ridge"]


def _gd_to_convergence(X, y, theta0) -> np.ndarray:
    """Gradient descent with step 1/λ̂_max, run (in closed form) until the slowest mode has converged."""
    lam, _ = empirical_eigenbasis(X)
    smallest = lam[lam > 1e-10 * lam[0]].min()
    steps = int(np.ceil(40 * lam[0] / smallest))  # (1 − λ_min/λ_max)^steps < e^(−40)
    return gd_solution(X, y, 1.0 / lam[0], [steps], theta0=theta0)[0]


def check_gd_limit(gd_limit: Callable, verbose: bool = True) -> bool:
    """Exercise "Where does gradient descent go from a non-zero start?".

    Calls ``gd_limit(X, y, theta0)`` on random problems with more features than samples and with
    fewer, and compares its answer with gradient descent from ``theta0`` run to convergence.
    """
    rng = np.random.default_rng(12345)
    for n, p in [(8, 20), (15, 40), (20, 8)]:
        X = rng.standard_normal((n, p))
        y = rng.standard_normal(n)
        theta0 = rng.standard_normal(p)
        answer = gd_limit(X.copy(), y.copy(), theta0.copy())
        if not isinstance(answer, (np.ndarray, list, tuple)) and not hasattr(answer, "__array__"):
            raise ValueError(f"gd_limit must return an array of shape ({p},), got {type(answer).__name__}")
        answer = np.asarray(answer, dtype=float)
        if answer.shape != (p,):
            raise ValueError(f"gd_limit(X, y, theta0) with X of shape ({n}, {p}) must return shape ({p},), "
                             f"got {answer.shape}")
        reference = _gd_to_convergence(X, y, theta0)
        error = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
        if error > 1e-6:
            if verbose:
                regime = "more features than samples" if p > n else "fewer features than samples"
                print(f"✗ not yet: with N={n}, P={p} ({regime}) your answer is off by {error:.1%} "
                      "(relative) from where gradient descent goes")
            return False
    if verbose:
        print("✓ gd_limit agrees with gradient descent run to convergence, in both regimes")
    return True


def _optimal_ridge(P: int, N: int, r2: float, sigma2: float) -> float:
    def error(log_rho):
        return ridge_risk(np.ones(P), np.full(P, np.sqrt(r2 / P)), np.sqrt(sigma2), N, np.exp(log_rho)).test_error

    return float(np.exp(minimize_scalar(error, bounds=(-12.0, 5.0), method="bounded",
                                        options={"xatol": 1e-8}).x))


def check_optimal_ridge(rho_star, P: int = 100, N: int = 100, r2: float = 1.0, sigma2: float = 0.25,
                        rtol: float = 0.02, verbose: bool = True) -> bool:
    """Exercise "The optimal ridge": is ``rho_star`` the ridge that minimises the isotropic test error?

    The reference minimises :func:`course_utils.theory.linear.ridge_risk` for Σ = I_P, a
    teacher of squared norm ``r2`` and noise variance ``sigma2``; the answer must agree within ``rtol``.
    """
    try:
        rho = float(rho_star)
    except (TypeError, ValueError):
        raise ValueError(f"rho_star must be a number, got {type(rho_star).__name__}") from None
    reference = _optimal_ridge(P, N, r2, sigma2)
    ok = abs(rho - reference) <= rtol * reference
    if verbose:
        if ok:
            print(f"✓ ρ* = {rho:.4g} minimises the test error at P={P}, N={N} (reference {reference:.4g})")
        else:
            print(f"✗ not yet: ρ* = {rho:.4g} does not minimise the test error at P={P}, N={N}; "
                  f"look at {'smaller' if rho > reference else 'larger'} ridges")
    return ok
