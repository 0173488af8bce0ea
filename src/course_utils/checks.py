"""Theory-versus-experiment checks with explicit tolerances, and exercise checkers.

Every comparison in a chapter ends in a call to :func:`check_close` (or :func:`check_less`),
which prints the measured value, the prediction and the tolerance, and raises
``AssertionError`` when they disagree, so a broken claim fails the notebook and CI.
"""

from __future__ import annotations

import numpy as np

__all__ = ["relative_error", "check_close", "check_less"]


def relative_error(measured, predicted) -> float:
    """Return ‖measured − predicted‖ / ‖predicted‖ (Euclidean norms over all entries)."""
    m = np.asarray(measured, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if m.shape != p.shape:
        raise ValueError(f"measured has shape {m.shape} but predicted has shape {p.shape}")
    denom = np.linalg.norm(p)
    if denom == 0:
        raise ValueError("relative error is undefined for a zero prediction; use check_close(atol=...)")
    return float(np.linalg.norm(m - p) / denom)


def _fmt(x) -> str:
    x = np.asarray(x, dtype=float)
    return f"{x.item():.4g}" if x.size == 1 else f"array{tuple(x.shape)}"


def _pct(x: float) -> str:
    """A relative size as a percentage; below 0.01 % only its order of magnitude ("< 1e-12").

    Errors at the level of floating-point rounding change in their last digits from machine to
    machine; their decade is what matters, and it is stable enough to store in a notebook.
    """
    if x >= 1e-4 or x == 0:
        return f"{x:.2%}"
    return f"< 1e{int(np.ceil(np.log10(x)))}" if x < 1 else f"{x:.1e}"


def _tol(x: float) -> str:
    return f"{x:.2%}" if x >= 1e-4 else f"{x:.0e}"


def check_close(name: str, measured, predicted, *, rtol: float | None = None,
                atol: float | None = None, verbose: bool = True) -> float:
    """Check ``measured`` against ``predicted``: ‖m − p‖ ≤ atol + rtol·‖p‖ (norms over all entries).

    Give ``rtol`` (relative) or ``atol`` (absolute), or both. Prints one line such as
    ``✓ slow mode at t=10: measured 0.3679 vs theory 0.3679 (rel. err 0.01% ≤ 2%)`` and returns
    the error; raises ``AssertionError`` with the same line if the check fails.
    """
    if rtol is None and atol is None:
        raise ValueError("give a tolerance: rtol=... (relative) and/or atol=... (absolute)")
    rtol = 0.0 if rtol is None else float(rtol)
    atol = 0.0 if atol is None else float(atol)
    if rtol < 0 or atol < 0:
        raise ValueError(f"tolerances must be non-negative, got rtol={rtol}, atol={atol}")
    m = np.asarray(measured, dtype=float)
    p = np.asarray(predicted, dtype=float)
    if m.shape != p.shape:
        raise ValueError(f"{name}: measured has shape {m.shape} but predicted has shape {p.shape}")
    if not np.all(np.isfinite(m)):
        raise AssertionError(f"✗ {name}: the measurement is not finite")
    err = float(np.linalg.norm(m - p))
    scale = float(np.linalg.norm(p))
    ok = err <= atol + rtol * scale
    if rtol > 0 and scale > 0:
        detail = f"rel. err {_pct(err / scale)} {'≤' if ok else '>'} {_tol(rtol)}"
        if atol > 0:
            detail += f" (+ atol {atol:.2g})"
    else:
        shown = f"< 1e{int(np.ceil(np.log10(err)))}" if 0 < err < 1e-8 else f"{err:.2g}"
        detail = f"abs. err {shown} {'≤' if ok else '>'} {atol:.2g}"
    line = f"{'✓' if ok else '✗'} {name}: measured {_fmt(m)} vs theory {_fmt(p)} ({detail})"
    if not ok:
        raise AssertionError(line)
    if verbose:
        print(line)
    return err


def check_less(name: str, value: float, bound: float, *, verbose: bool = True) -> float:
    """Check an inequality claim ``value < bound`` (e.g. "the error falls below 1%").

    Prints ``✓ name: 0.0031 < 0.01`` and returns ``value``; raises ``AssertionError`` otherwise.
    """
    value, bound = float(value), float(bound)
    ok = value < bound
    line = f"{'✓' if ok else '✗'} {name}: {value:.4g} {'<' if ok else '≮'} {bound:.4g}"
    if not ok:
        raise AssertionError(line)
    if verbose:
        print(line)
    return value
