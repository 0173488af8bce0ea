"""Checkers for the exercises of the chapter "Linear models and gradient flow"
(book/01_foundations/01_linear_models).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from .. import validate
from ..theory.linear import empirical_eigenbasis, gd_solution, ridge_risk
from . import answers
from .answers import number, say, setting, tolerance, values

__all__ = ["check_gd_limit", "check_optimal_ridge"]


def _gd_to_convergence(X, y, theta0) -> np.ndarray:
    """Gradient descent with step 1/λ̂_max, run (in closed form) until the slowest mode has converged."""
    lam, _ = empirical_eigenbasis(X)
    smallest = lam[lam > 1e-10 * lam[0]].min()
    steps = int(np.ceil(40 * lam[0] / smallest))  # (1 − λ_min/λ_max)^steps < e^(−40)
    return gd_solution(X, y, 1.0 / lam[0], [steps], theta0=theta0)[0]


@answers.checker
def check_gd_limit(gd_limit: Callable, verbose: bool = True) -> bool:
    """Exercise "Where does gradient descent go from a non-zero start?".

    Calls ``gd_limit(X, y, theta0)`` on random problems with more features than samples and with
    fewer, and compares its answer with gradient descent from ``theta0`` run to convergence:
    ‖θ − θ_GD‖ ≤ 10⁻⁶ ‖θ_GD‖.
    """
    gd_limit = answers.student_function(gd_limit, "gd_limit (a function gd_limit(X, y, theta0))")
    rng = np.random.default_rng(12345)
    for n, p in [(8, 20), (15, 40), (20, 8)]:
        X = rng.standard_normal((n, p))
        y = rng.standard_normal(n)
        theta0 = rng.standard_normal(p)
        answer = values(answers.call(gd_limit, X.copy(), y.copy(), theta0.copy(), what="gd_limit(X, y, theta0)"),
                                f"gd_limit(X, y, theta0) with X of shape ({n}, {p})", shape=(p,))
        reference = _gd_to_convergence(X, y, theta0)
        error = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
        if not error <= 1e-6:
            regime = "more features than samples" if p > n else "fewer features than samples"
            return say(False, f"with N={n}, P={p} ({regime}) your answer is off by {error:.1%} "
                              "(relative) from where gradient descent goes", verbose)
    return say(True, "gd_limit agrees with gradient descent run to convergence, in both regimes", verbose)


def _optimal_ridge(P: int, N: int, r2: float, sigma2: float) -> float:
    def error(log_rho):
        return ridge_risk(np.ones(P), np.full(P, np.sqrt(r2 / P)), np.sqrt(sigma2), N, np.exp(log_rho)).test_error

    return float(np.exp(minimize_scalar(error, bounds=(-12.0, 5.0), method="bounded",
                                        options={"xatol": 1e-8}).x))


@answers.checker
def check_optimal_ridge(rho_star, P: int = 100, N: int = 100, r2: float = 1.0, sigma2: float = 0.25,
                        rtol: float = 0.02, verbose: bool = True) -> bool:
    """Exercise "The optimal ridge": is ``rho_star`` the ridge that minimises the isotropic test error?

    The reference minimises :func:`course_utils.theory.linear.ridge_risk` for Σ = I_P, a
    teacher of squared norm ``r2`` and noise variance ``sigma2``; the answer must agree within ``rtol``
    (|ρ − ρ*| ≤ rtol·ρ*).
    """
    P = setting(validate.integer, "P", P, low=1, high=100_000)
    N = setting(validate.integer, "N", N, low=1, high=100_000)
    r2 = setting(validate.positive, "r2", r2)
    sigma2 = setting(validate.positive, "sigma2", sigma2)
    rtol = tolerance("rtol", rtol)
    rho = number(rho_star, "rho_star")
    reference = _optimal_ridge(P, N, r2, sigma2)
    ok = abs(rho - reference) <= rtol * reference
    if ok:
        return say(True, f"ρ* = {rho:.4g} minimises the test error at P={P}, N={N} (reference {reference:.4g})", verbose)
    if rho <= 0:
        return say(False, f"ρ* = {rho:.4g} is not a ridge: a ridge is positive", verbose)
    return say(False, f"ρ* = {rho:.4g} does not minimise the test error at P={P}, N={N}; "
                      f"look at {'smaller' if rho > reference else 'larger'} ridges", verbose)
