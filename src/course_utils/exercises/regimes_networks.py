"""Checkers for the exercises of the chapter "Variance- or resolution-limited? The four scaling
regimes of a trained network" (book/06_scaling/05_regimes_in_networks).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong type, a wrong
shape, None, NaN or an exception inside the student's function gives a ✗ verdict that says what
was expected, never a traceback; a NaN never passes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory.regimes_networks import asymptotic_excess_coefficient
from ..theory.scaling_regimes import kernel_learning_curve_exponent

__all__ = ["check_sandwich_coefficient", "check_learning_curve_exponent"]


def _say(verbose: bool, text: str) -> None:
    if verbose:
        print(text)


def _as_number(value, what: str):
    """The answer as a finite float, or (None, reason)."""
    if callable(value):
        return None, f"{what} returned a function; return a number"
    if value is None:
        return None, f"{what} returned None; return a number (did you forget `return`?)"
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None, f"{what} returned {type(value).__name__}; return a number"
    if arr.size != 1:
        return None, f"{what} returned an array of shape {arr.shape}; return a single number"
    x = float(arr.reshape(()))
    if not np.isfinite(x):
        return None, f"{what} returned {x}; expected a finite number"
    return x, ""


def _test_cases():
    """Symmetric positive semi-definite H (some with exact null directions) and G with the same null space."""
    rng = np.random.default_rng(20240517)
    cases = []
    for P, null in [(3, 0), (6, 2), (10, 3)]:
        A = rng.standard_normal((P, P - null))
        H = A @ A.T                                   # rank P − null
        B = A @ rng.standard_normal((P - null, P - null))
        G = B @ B.T                                   # G u = 0 wherever H u = 0
        cases.append((H, G))
    return cases


def check_sandwich_coefficient(sandwich: Callable, verbose: bool = True) -> bool:
    """Exercise "The coefficient of the variance-limited law": does ``sandwich(H, G)`` return
    c = ½ tr(𝓗⁺𝓖) (eq-regnet-sandwich), the pseudo-inverse taken on the non-zero eigenvalues of H?

    Compared with :func:`course_utils.theory.regimes_networks.asymptotic_excess_coefficient` on three
    pairs, two of them with exact null directions (relative tolerance 1e-6).
    """
    if not callable(sandwich):
        _say(verbose, f"✗ expected a function sandwich(H, G), got {type(sandwich).__name__}")
        return False
    for H, G in _test_cases():
        try:
            raw = sandwich(H.copy(), G.copy())
        except Exception as err:  # noqa: BLE001 — the student's code may raise anything
            _say(verbose, f"✗ sandwich(H, G) raised {type(err).__name__}: {err}")
            return False
        answer, why = _as_number(raw, "sandwich(H, G)")
        if answer is None:
            _say(verbose, f"✗ {why}")
            return False
        reference = asymptotic_excess_coefficient(H, G)
        if not abs(answer - reference) <= 1e-6 * abs(reference):
            hint = ""
            if abs(answer - 2 * reference) <= 1e-6 * abs(reference):
                hint = " (twice the answer: the excess is ½ δθᵀ𝓗δθ)"
            elif np.linalg.matrix_rank(H) < H.shape[0]:
                hint = " (this H has null directions: drop them, do not invert them)"
            _say(verbose, f"✗ not yet: for a {H.shape[0]}×{H.shape[0]} pair you get {answer:.6g}, "
                          f"½ tr(H⁺G) = {reference:.6g}{hint}")
            return False
    _say(verbose, "✓ c = ½ tr(𝓗⁺𝓖): the coefficient of the variance-limited law L(D) − L(∞) ≈ c/D")
    return True


def check_learning_curve_exponent(exponent: Callable, verbose: bool = True) -> bool:
    """Exercise "Predict an exponent from a spectrum": does ``exponent(b, a)`` return the asymptotic
    exponent min(a, 2b) of ridgeless kernel regression with λ_k ∝ k^(−b) and p_k ∝ k^(−(1+a))?"""
    if not callable(exponent):
        _say(verbose, f"✗ expected a function exponent(b, a), got {type(exponent).__name__}")
        return False
    for b, a in [(1.5, 0.5), (1.2, 4.0), (2.0, 1.0), (1.1, 2.2), (4 / 3, 1 / 3)]:
        try:
            raw = exponent(b, a)
        except Exception as err:  # noqa: BLE001
            _say(verbose, f"✗ exponent({b}, {a}) raised {type(err).__name__}: {err}")
            return False
        answer, why = _as_number(raw, f"exponent({b}, {a})")
        if answer is None:
            _say(verbose, f"✗ {why}")
            return False
        reference = kernel_learning_curve_exponent(b, 1 + a)
        if not abs(answer - reference) <= 1e-9:
            hint = ""
            if abs(answer - a) < 1e-9:
                hint = " (the target's tail is not the only term: the learned modes are shrunk by κ ∝ D^(−b))"
            elif abs(answer - (b - 1)) < 1e-9:
                hint = " (b − 1 assumes a target as rough as the kernel's Gaussian process)"
            _say(verbose, f"✗ not yet: for b = {b:.3g}, a = {a:.3g} you get {answer:.4g}, the theory "
                          f"{reference:.4g}{hint}")
            return False
    _say(verbose, "✓ α_D = min(a, 2b): the tail of the target or the shrinkage of the learned modes, "
                  "whichever falls more slowly")
    return True
