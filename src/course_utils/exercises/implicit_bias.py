"""Checkers for the exercises of the chapter "What does a small initialisation buy? Implicit bias in diagonal
linear networks" (book/04_feature_learning/04_implicit_bias).

Each checker prints a one-line verdict and returns True or False. A wrong type, a wrong shape, None, NaN,
or a function where a value is expected (or the reverse) gets a ✗ verdict that says what was expected,
never a traceback.
"""

from __future__ import annotations

import numpy as np

from ..theory.implicit_bias import q as _q_reference

__all__ = ["check_q", "check_limits"]


def _say(verbose: bool, line: str) -> None:
    if verbose:
        print(line)


def _as_array(value, shape, what: str, verbose: bool):
    """``value`` as a float array of ``shape``, or None after printing a ✗ verdict that says why."""
    if value is None:
        _say(verbose, f"✗ not yet: {what} returned None; return an array of shape {shape}")
        return None
    if callable(value):
        _say(verbose, f"✗ not yet: {what} returned a function; return its values, an array of shape {shape}")
        return None
    try:
        arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=float)
    except (TypeError, ValueError):
        _say(verbose, f"✗ not yet: {what} returned a {type(value).__name__}; expected numbers, shape {shape}")
        return None
    if arr.shape != shape:
        _say(verbose, f"✗ not yet: {what} has shape {arr.shape}; expected {shape} (one value per input)")
        return None
    if not np.all(np.isfinite(arr)):
        _say(verbose, f"✗ not yet: {what} has {int((~np.isfinite(arr)).sum())} entries that are NaN or infinite")
        return None
    return arr


def check_q(q, rtol: float = 1e-8, verbose: bool = True) -> bool:
    """Exercise "The potential of one coordinate": does ``q(z)`` (vectorised, NumPy) return
    q(z) = 2 − √(4 + z²) + z·arcsinh(z/2) for z from −10⁶ to 10⁶ (0 and small values included), to
    relative precision ``rtol`` at every z, also where q ≈ z²/4 is tiny (q(0) must be 0)?"""
    if not callable(q):
        _say(verbose, f"✗ not yet: pass your function q itself (got a {type(q).__name__}), e.g. check_q(q)")
        return False
    z = np.concatenate([-np.geomspace(1e-6, 1e6, 25)[::-1], [0.0], np.geomspace(1e-6, 1e6, 25)])
    try:
        raw = q(z.copy())
    except Exception as exc:  # the student's code failed: say how, never a traceback
        _say(verbose, f"✗ not yet: q(z) raised {type(exc).__name__}: {exc}")
        return False
    answer = _as_array(raw, z.shape, "q(z)", verbose)
    if answer is None:
        return False
    reference = _q_reference(z)
    bad = np.abs(answer - reference) > rtol * np.abs(reference) + 1e-300   # q(0) = 0 exactly
    if bad.any():
        i = int(np.argmax(np.abs(answer - reference) / (np.abs(reference) + 1e-300)))
        hint = ""
        if abs(z[i]) < 1e-2:
            hint = " (small |z|: 2 − √(4 + z²) loses its digits; write it as −z²/(2 + √(4 + z²)))"
        elif np.allclose(answer, reference * 2, rtol=1e-6):
            hint = " (twice the reference: check the factor ½ in arcsinh(z/2))"
        _say(verbose, f"✗ not yet: at z = {z[i]:.3g} your q is {answer[i]:.10g}, expected {reference[i]:.10g}{hint}")
        return False
    _say(verbose, "✓ your q(z) is the potential of one coordinate, from |z| = 1e-6 to 1e6")
    return True


def check_limits(lazy_limit, rich_limit, verbose: bool = True) -> bool:
    """Exercise "The two limits of Q_α": do ``lazy_limit(beta, alpha)`` (the α → ∞ form ‖β‖²/(4α²)) and
    ``rich_limit(beta, alpha)`` (the α → 0 form ln(1/α²)‖β‖₁ + Σ|β_i|(ln|β_i| − 1)) agree with
    Q_α(β) = α² Σ q(β_i/α²) where they should: to 1e-6 relative at α = 10³ and α = 10⁻⁶ for a β with
    entries of order one (no zeros)? Each returns one number."""
    for name, f in (("lazy_limit", lazy_limit), ("rich_limit", rich_limit)):
        if not callable(f):
            _say(verbose, f"✗ not yet: pass your function {name} itself (got a {type(f).__name__})")
            return False
    beta = np.array([1.0, -0.5, 2.0, 0.25, -1.5])
    for name, f, alpha in (("lazy_limit", lazy_limit, 1e3), ("rich_limit", rich_limit, 1e-6)):
        try:
            raw = f(beta.copy(), alpha)
        except Exception as exc:
            _say(verbose, f"✗ not yet: {name}(beta, alpha) raised {type(exc).__name__}: {exc}")
            return False
        value = _as_array(raw, (), f"{name}(beta, alpha)", verbose)
        if value is None:
            return False
        exact = alpha ** 2 * _q_reference(beta / alpha ** 2).sum()
        if abs(float(value) - exact) > 1e-6 * abs(exact):
            _say(verbose, f"✗ not yet: at α = {alpha:g} your {name} gives {float(value):.8g}, Q_α(β) = {exact:.8g}")
            return False
    _say(verbose, "✓ both limits agree with Q_α: ‖β‖²/4α² for large α, ln(1/α²)‖β‖₁ + Σ|β|(ln|β| − 1) for small α")
    return True
