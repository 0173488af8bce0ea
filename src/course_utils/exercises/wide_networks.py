"""Checkers for the exercises of the part "Wide networks": the chapters "Networks at initialisation:
the Gaussian-process limit" and "Training in the infinite-width limit: the neural tangent kernel".

Each checker prints a one-line verdict and returns True or False. An answer of the wrong type or
shape, NaN, or a function that raises gets a ✗ verdict that says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from .. import validate
from ..theory.kernels import ACTIVATIONS, chi1, gaussian_expectation, input_kernel, ntk_kernel, variance_map
from . import answers
from .answers import number, say, setting, tolerance, values

__all__ = ["check_critical_sigma_w2", "check_one_layer_kurtosis", "check_relu_ntk_one_layer"]


@answers.checker
def check_critical_sigma_w2(sigma_w2, sigma_b2: float = 0.1, rtol: float = 1e-3, verbose: bool = True) -> bool:
    """Exercise "The edge of chaos for tanh": is ``sigma_w2`` the σ_w² at which χ₁ = 1 for a tanh
    network with bias variance ``sigma_b2``? The reference solves χ₁(σ_w²) = 1 by bisection on
    σ_w² ∈ [1, 4]; the answer must agree to a relative ``rtol``."""
    sigma_b2 = setting(validate.nonnegative, "sigma_b2", sigma_b2)
    rtol = tolerance("rtol", rtol)
    answer = number(sigma_w2, "sigma_w2")
    try:
        reference = brentq(lambda s: float(chi1(activation="tanh", sigma_w2=s, sigma_b2=sigma_b2)) - 1, 1.0, 4.0,
                           xtol=1e-12)
    except ValueError:
        raise answers.NotAnAnswer(f"for sigma_b2 = {sigma_b2} the edge of chaos is not between σ_w² = 1 and 4; "
                                  "this checker covers sigma_b2 from 0 to about 1") from None
    ok = abs(answer - reference) <= rtol * reference
    if ok:
        return say(True, f"σ_w² = {answer:.4f} is the edge of chaos for tanh at σ_b² = {sigma_b2} (χ₁ = 1)", verbose)
    if answer > 0:
        chi = float(chi1(activation="tanh", sigma_w2=answer, sigma_b2=sigma_b2))
        side = "chaotic" if chi > 1 else "ordered"
        return say(False, f"at σ_w² = {answer:.4f}, χ₁ = {chi:.4f}, so this point is in the {side} phase", verbose)
    return say(False, "σ_w² is a variance and must be positive", verbose)


@answers.checker
def check_one_layer_kurtosis(coefficient, activation: str = "erf", sigma_w2: float = 1.0, sigma_b2: float = 0.0,
                             q0: float = 1.0, rtol: float = 1e-3, verbose: bool = True) -> bool:
    """Exercise "Non-Gaussianity of one hidden layer": is ``coefficient`` the C in κ = C/n?

    For f = b + Σⱼ Wⱼ φ(hⱼ) with hⱼ ~ N(0, q₀) i.i.d., Wⱼ ~ N(0, σ_w²/n), b ~ N(0, σ_b²), the
    excess kurtosis is C/n with C = 3 σ_w⁴ Var(φ(h)²) / (σ_b² + σ_w² E[φ(h)²])² (to a relative ``rtol``).
    """
    activation = setting(validate.choice, "activation", activation, ("erf", "tanh", "relu"))
    sigma_w2 = setting(validate.positive, "sigma_w2", sigma_w2)
    sigma_b2 = setting(validate.nonnegative, "sigma_b2", sigma_b2)
    q0 = setting(validate.positive, "q0", q0)
    rtol = tolerance("rtol", rtol)
    answer = number(coefficient, "coefficient")
    f = ACTIVATIONS[activation][0]
    m2 = float(gaussian_expectation(lambda u: f(u) ** 2, q0))
    m4 = float(gaussian_expectation(lambda u: f(u) ** 4, q0))
    k1 = float(variance_map(q0, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2))
    reference = 3 * sigma_w2 ** 2 * (m4 - m2 ** 2) / k1 ** 2
    ok = abs(answer - reference) <= rtol * abs(reference)
    if ok:
        return say(True, f"C = {answer:.4f}: the excess kurtosis of a one-hidden-layer {activation} network is C/n",
                   verbose)
    return say(False, f"your C = {answer:.4g} is off by {abs(answer / reference - 1):.1%}", verbose)


@answers.checker
def check_relu_ntk_one_layer(ntk_fn: Callable, verbose: bool = True) -> bool:
    """Exercise "The NTK of one hidden layer": does ``ntk_fn(X1, X2, sigma_w2, sigma_b2)`` return the
    analytic NTK Θ = K¹ + σ_w² K⁰ K̇¹ of a one-hidden-layer ReLU network in the NTK parameterisation?

    Compares with :func:`course_utils.theory.kernels.ntk_kernel` (depth 1) on random inputs, to a
    relative 10⁻⁸ in the Frobenius norm.
    """
    ntk_fn = answers.student_function(ntk_fn, "ntk_fn (a function ntk_fn(X1, X2, sigma_w2, sigma_b2))")
    rng = np.random.default_rng(2024)
    for d, sw2, sb2 in [(3, 2.0, 0.0), (5, 1.5, 0.3), (1, 2.0, 1.0)]:
        X1, X2 = rng.standard_normal((4, d)), rng.standard_normal((6, d))
        answer = values(answers.call(ntk_fn, X1.copy(), X2.copy(), sw2, sb2,
                                             what="ntk_fn(X1, X2, sigma_w2, sigma_b2)"),
                                f"ntk_fn(X1, X2, sigma_w2, sigma_b2) with X1 of shape (4, {d}) and X2 of shape (6, {d})",
                                shape=(4, 6))
        reference = ntk_kernel(X1, X2, depth=1, activation="relu", sigma_w2=sw2, sigma_b2=sb2)
        error = np.linalg.norm(answer - reference) / np.linalg.norm(reference)
        if not error <= 1e-8:
            k0 = input_kernel(X1, X2, sw2, sb2)
            hint = ("" if np.linalg.norm(answer - k0) > 1e-8 * np.linalg.norm(k0)
                    else " (you returned K⁰: the hidden layer is missing)")
            return say(False, f"at σ_w² = {sw2}, σ_b² = {sb2} (d = {d}) your kernel is off by "
                              f"{error:.2%} (relative){hint}", verbose)
    return say(True, "your NTK agrees with the analytic recursion for one hidden layer", verbose)
