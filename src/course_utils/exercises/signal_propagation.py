"""Checkers for the exercises of the chapter "Signal propagation and trainable depth"
(book/03_wide_networks/04_trainable_depth).

Each checker prints a one-line verdict (✓ or ✗) and returns True or False. A wrong type, a NaN, an
array where a number is expected or a function where a value is expected gets a ✗ verdict that says
what was expected, never a traceback.
"""

from __future__ import annotations

import math

import numpy as np

from ..theory.signal_propagation import depth_scales

__all__ = ["check_correlation_depth", "check_depth_ratio"]


def _number(x, what: str) -> tuple[float | None, str]:
    """(value, "") for a finite real number, else (None, the reason)."""
    if callable(x):
        return None, f"{what} must be a number, not a function (call it and pass its value)"
    if isinstance(x, (bool, np.bool_)) or x is None or isinstance(x, str):
        return None, f"{what} must be a number, got {type(x).__name__}"
    arr = np.asarray(x)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        return None, f"{what} must be a real number, got {type(x).__name__}"
    if arr.ndim != 0:
        return None, f"{what} must be one number, got a {type(x).__name__} of shape {arr.shape}"
    value = float(arr)
    if not math.isfinite(value):
        return None, f"{what} must be finite, got {value}"
    return value, ""


def check_correlation_depth(xi_c, sigma_w2: float = 3.0, sigma_b2: float = 0.05, rtol: float = 1e-3,
                            verbose: bool = True) -> bool:
    """Exercise "The correlation depth on the chaotic side": is ``xi_c`` = −1/ln χ_c for a tanh network?

    χ_c = σ_w² E[φ'(u)φ'(v)] with (u, v) ~ N(0, q*[[1, c*], [c*, 1]]) at the stable fixed point c* < 1
    of the correlation map (:func:`course_utils.theory.signal_propagation.depth_scales`).
    """
    value, why = _number(xi_c, "xi_c")
    ref = depth_scales(sigma_w2, sigma_b2=sigma_b2)
    reference, chi1 = float(ref["xi_c"][0]), float(ref["chi1"][0])
    if value is None:
        ok, line = False, f"✗ {why}"
    elif abs(value - reference) <= rtol * reference:
        ok, line = True, (f"✓ ξ_c = {value:.4f} layers at σ_w² = {sigma_w2}, σ_b² = {sigma_b2} "
                          f"(c* = {ref['c_star'][0]:.4f}, χ_c = {ref['chi_c'][0]:.4f})")
    elif abs(value - (-1 / math.log(chi1))) <= rtol * abs(1 / math.log(chi1)) or \
            abs(value - 1 / math.log(chi1)) <= rtol / math.log(chi1):
        ok, line = False, ("✗ not yet: that is 1/|ln χ₁|, the slope at c = 1; on the chaotic side c = 1 is "
                           "unstable, use the slope at the fixed point c* < 1")
    else:
        ok, line = False, f"✗ not yet: ξ_c = {value:.4g} is off by {abs(value / reference - 1):.1%}"
    if verbose:
        print(line)
    return ok


def check_depth_ratio(ratio, sigma_w2: float = 4.5, sigma_b2: float = 0.05, depth: int = 30,
                      rtol: float = 1e-3, verbose: bool = True) -> bool:
    """Exercise "Exploding gradients": is ``ratio`` = E‖∂ℓ/∂W^l‖² at l = L − ``depth`` over its value at
    l = L, i.e. χ₁^depth, for a tanh network whose variance has reached q*?"""
    value, why = _number(ratio, "ratio")
    chi1 = float(depth_scales(sigma_w2, sigma_b2=sigma_b2)["chi1"][0])
    reference = chi1 ** depth
    if value is None:
        ok, line = False, f"✗ {why}"
    elif value <= 0:
        ok, line = False, "✗ not yet: a ratio of squared norms is positive"
    elif abs(math.log(value / reference)) <= rtol:
        ok, line = True, f"✓ the gradient {depth} layers below the top is χ₁^{depth} = {value:.4g} times larger"
    else:
        ok, line = False, f"✗ not yet: {value:.4g} vs the expected order of magnitude 1e{math.log10(reference):.0f}"
    if verbose:
        print(line)
    return ok
