"""Checkers for the exercises of the chapter "Layerwise dynamics: sigmoids, stages and saddles"
(book/04_feature_learning/01_layerwise_dynamics).

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from .. import validate
from ..theory.layerwise import crossing_time, saxe_plateau_time, saxe_time_to
from . import answers
from .answers import number, say, tolerance, values

__all__ = ["check_depth3_plateau_time", "check_stage_threshold", "stage_threshold"]


@answers.checker
def check_depth3_plateau_time(plateau_time: Callable, rtol: float = 1e-5, verbose: bool = True) -> bool:
    """Exercise "The plateau of a depth-3 network": does ``plateau_time(s, u0)`` return the time a
    balanced, decoupled mode with du/dt = 3u^{4/3}(s − u) takes from u₀ to s/2,
    t = ∫_{u₀}^{s/2} du / (3u^{4/3}(s − u))?

    The reference is :func:`course_utils.theory.layerwise.saxe_time_to` at depth 3, on arrays of
    (s, u₀) spanning u₀/s from 10⁻⁶ to 0.3; every time must agree to a relative ``rtol``.
    """
    plateau_time = answers.student_function(plateau_time, "plateau_time (a function plateau_time(s, u0))")
    rtol = tolerance("rtol", rtol)
    s = np.array([0.5, 1.0, 2.0, 3.0, 1.0, 0.7])
    u0 = np.array([1e-3, 1e-6, 0.1, 0.9, 0.3, 1e-4])
    answer = values(answers.call(plateau_time, s.copy(), u0.copy(), what="plateau_time(s, u0)"),
                            "plateau_time(s, u0) with arrays s and u0 of shape (6,)", shape=s.shape)
    reference = saxe_time_to(s / 2, s, u0, 3)
    error = np.abs(answer - reference) / reference
    ok = bool(np.all(error <= rtol))
    if ok:
        return say(True, "your plateau times agree with the depth-3 solution for every (s, u₀) tried", verbose)
    k = int(np.argmax(error))
    asym = float(saxe_plateau_time(s[k], u0[k], 3))
    hint = (" (that is the small-u₀ asymptotic formula: the exercise asks for the exact time)"
            if abs(answer[k] - asym) <= 1e-6 * asym else "")
    return say(False, f"at s = {s[k]:g}, u₀ = {u0[k]:g} you give {answer[k]:.6g}, the solution is "
                      f"{reference[k]:.6g}{hint}", verbose)


def stage_threshold(S=(1.0, 0.5), lam: float = 1.0) -> float:
    """The largest balanced initialisation a = b = σ at which two modes of the diagonal model are
    learned in stages, t₉₀(S₁) = t₁₀(S₂) (bisection in log σ on the closed-form crossing times)."""
    S = validate.array("S", S, shape=(2,))
    lam = validate.positive("lam", lam)
    S1, S2 = float(S.max()), float(S.min())
    if not S1 > S2 > 0:
        raise validate.ArgumentError(f"S must be two different positive targets, got S = {tuple(S.tolist())}")

    def margin(log_sigma):
        w0 = np.exp(2 * log_sigma)
        return float(crossing_time(0.1, lam, S2, w0) - crossing_time(0.9, lam, S1, w0))

    hi = 0.5 * np.log(0.1 * S2) - 1e-9            # w₀ must stay below 10 % of S₂
    if margin(hi) > 0:
        return float(np.exp(hi))
    return float(np.exp(brentq(margin, np.log(1e-12), hi, xtol=1e-12)))


@answers.checker
def check_stage_threshold(sigma, rtol: float = 0.01, verbose: bool = True) -> bool:
    """Exercise "The largest initialisation that still gives stages": is ``sigma`` the threshold
    for S = (1, ½), λ = 1 (see :func:`stage_threshold`), to within ``rtol`` (|σ − σ*| ≤ rtol·σ*)?"""
    rtol = tolerance("rtol", rtol)
    answer = number(sigma, "sigma")
    reference = stage_threshold((1.0, 0.5), 1.0)
    ok = abs(answer - reference) <= rtol * reference
    if ok:
        return say(True, f"σ* = {answer:.4g}: below it the two modes are learned in separate stages", verbose)
    if answer <= 0:
        return say(False, "σ is an initial weight scale and must be positive", verbose)
    side = "still stage-like: the threshold is larger" if answer < reference else \
        "the windows already overlap there: the threshold is smaller"
    return say(False, f"at σ = {answer:.4g} learning is {side}", verbose)
