"""Checkers for the exercises of the chapter "Signal propagation and trainable depth"
(book/03_wide_networks/04_trainable_depth).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong type, a NaN, an
array where a number is expected or a function where a value is expected gets a ✗ verdict that says
what was expected, never a traceback.
"""

from __future__ import annotations

import math

from .. import validate
from ..theory.signal_propagation import depth_scales
from . import answers
from .answers import number, say, setting, tolerance

__all__ = ["check_correlation_depth", "check_depth_ratio"]


def _depth_settings(sigma_w2, sigma_b2, rtol) -> tuple[float, float, float]:
    """The network's σ_w² > 0 and σ_b² ≥ 0 and the checker's tolerance, read as checker settings."""
    return (setting(validate.real, "sigma_w2", sigma_w2, low=0.0, high=1e4, low_open=True),
            setting(validate.real, "sigma_b2", sigma_b2, low=0.0, high=1e4),
            tolerance("rtol", rtol))


@answers.checker
def check_correlation_depth(xi_c, sigma_w2: float = 3.0, sigma_b2: float = 0.05, rtol: float = 1e-3,
                            verbose: bool = True) -> bool:
    """Exercise "The correlation depth on the chaotic side": is ``xi_c`` = −1/ln χ_c for a tanh network?

    χ_c = σ_w² E[φ'(u)φ'(v)] with (u, v) ~ N(0, q*[[1, c*], [c*, 1]]) at the stable fixed point c* < 1
    of the correlation map (:func:`course_utils.theory.signal_propagation.depth_scales`); the answer
    must agree to a relative ``rtol``.
    """
    sigma_w2, sigma_b2, rtol = _depth_settings(sigma_w2, sigma_b2, rtol)
    value = number(xi_c, "xi_c")
    ref = depth_scales(sigma_w2, sigma_b2=sigma_b2)
    reference, chi1 = float(ref["xi_c"][0]), float(ref["chi1"][0])
    if not (math.isfinite(reference) and reference > 0 and math.isfinite(chi1) and chi1 > 0):
        raise answers.NotAnAnswer(f"at sigma_w2 = {sigma_w2}, sigma_b2 = {sigma_b2} the correlation depth is not "
                                  f"finite (χ₁ = {chi1:.4g}, ξ_c = {reference:.4g}): choose a network off the edge of chaos")
    if abs(value - reference) <= rtol * reference:
        return say(True, f"ξ_c = {value:.4f} layers at σ_w² = {sigma_w2}, σ_b² = {sigma_b2} "
                         f"(c* = {ref['c_star'][0]:.4f}, χ_c = {ref['chi_c'][0]:.4f})", verbose)
    if chi1 != 1 and (abs(value - (-1 / math.log(chi1))) <= rtol * abs(1 / math.log(chi1)) or
                      abs(value - 1 / math.log(chi1)) <= rtol / math.log(chi1)):
        return say(False, "that is 1/|ln χ₁|, the slope at c = 1; on the chaotic side c = 1 is "
                          "unstable, use the slope at the fixed point c* < 1", verbose)
    return say(False, f"ξ_c = {value:.4g} is off by {abs(value / reference - 1):.1%}", verbose)


@answers.checker
def check_depth_ratio(ratio, sigma_w2: float = 4.5, sigma_b2: float = 0.05, depth: int = 30,
                      rtol: float = 1e-3, verbose: bool = True) -> bool:
    """Exercise "Exploding gradients": is ``ratio`` = E‖∂ℓ/∂W^l‖² at l = L − ``depth`` over its value at
    l = L, i.e. χ₁^depth, for a tanh network whose variance has reached q*? (|ln(ratio/χ₁^depth)| ≤ rtol)"""
    sigma_w2, sigma_b2, rtol = _depth_settings(sigma_w2, sigma_b2, rtol)
    depth = setting(validate.integer, "depth", depth, low=1, high=10_000)
    value = number(ratio, "ratio")
    chi1 = float(depth_scales(sigma_w2, sigma_b2=sigma_b2)["chi1"][0])
    try:
        reference = chi1 ** depth
    except OverflowError:
        reference = math.inf
    if not (math.isfinite(reference) and reference > 0):
        raise answers.NotAnAnswer(f"χ₁^depth = {chi1:.4g}^{depth} is not a finite positive number: "
                                  "choose a smaller depth")
    if value <= 0:
        return say(False, "a ratio of squared norms is positive", verbose)
    if abs(math.log(value) - math.log(reference)) <= rtol:
        return say(True, f"the gradient {depth} layers below the top is χ₁^{depth} = {value:.4g} times larger", verbose)
    return say(False, f"{value:.4g} vs the expected order of magnitude 1e{math.log10(reference):.0f}", verbose)
