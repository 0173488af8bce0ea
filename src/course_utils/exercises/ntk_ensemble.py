"""Checker for the exercise of the chapter "The ensemble of trained wide networks"
(book/03_wide_networks/03_trained_ensembles).

The checker prints a one-line verdict and returns True or False. A wrong type, a wrong shape, a NaN or
an exception raised by the student's function gives a ✗ verdict that says what was expected, never a
traceback.
"""

from __future__ import annotations

import numpy as np

from . import answers
from .answers import say, tolerance, values

__all__ = ["check_converged_ensemble_covariance"]


def _reference(Theta_train, Theta_cross, K_train, K_cross, K_test):
    """Σ_∞ = K(x,x') − A K(X,x') − K(x,X) Aᵀ + A K(X,X) Aᵀ with A = Θ(x,X) Θ(X,X)⁻¹ (t → ∞)."""
    A = np.linalg.solve(Theta_train, Theta_cross.T).T
    return K_test - A @ K_cross.T - K_cross @ A.T + A @ K_train @ A.T


def _random_case(rng, n_train: int, n_test: int, proportional: bool):
    """Random kernels of two different random-feature models on the same inputs: K and Θ positive definite."""
    n = n_train + n_test
    F = rng.standard_normal((n, 3 * n))
    G = rng.standard_normal((n, 3 * n))
    Theta = F @ F.T / (3 * n)
    K = 0.7 * Theta if proportional else G @ G.T / (3 * n) + 0.5 * Theta
    return (Theta[:n_train, :n_train], Theta[n_train:, :n_train], K[:n_train, :n_train], K[n_train:, :n_train],
            K[n_train:, n_train:])


@answers.checker
def check_converged_ensemble_covariance(cov_fn, rtol: float = 1e-6, verbose: bool = True) -> bool:
    """Exercise "The spread of the converged ensemble": does
    ``cov_fn(Theta_train, Theta_cross, K_train, K_cross, K_test)`` return the covariance of the trained
    infinite-width networks at t → ∞,

        Σ_∞(x, x') = K(x, x') − A K(X, x') − K(x, X) Aᵀ + A K(X, X) Aᵀ,   A = Θ(x, X) Θ(X, X)⁻¹ ?

    Tested on random positive-definite kernels (several sizes, and Θ ∝ K, where Σ_∞ is the NNGP
    posterior covariance), to a relative ``rtol`` in the Frobenius norm.
    """
    cov_fn = answers.student_function(cov_fn, "cov_fn (your function itself, a callable)")
    rtol = tolerance("rtol", rtol)
    rng = np.random.default_rng(18)
    for n_train, n_test, proportional in [(5, 3, False), (8, 6, False), (4, 4, True)]:
        args = _random_case(rng, n_train, n_test, proportional)
        answer = values(answers.call(cov_fn, *(a.copy() for a in args), what="your function"),
                                f"the covariance with {n_test} test inputs", shape=(n_test, n_test))
        reference = _reference(*args)
        err = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
        if not err <= rtol:
            hint = " (is it the NNGP posterior K − K(x,X)K⁻¹K(X,x')? that holds only when Θ ∝ K)" \
                if not proportional else ""
            return say(False, f"relative error {err:.2g} with {n_train} training and {n_test} test inputs{hint}",
                       verbose)
    return say(True, "Σ_∞ is right: the converged ensemble keeps the prior's spread in the directions Θ "
                     "does not constrain", verbose)
