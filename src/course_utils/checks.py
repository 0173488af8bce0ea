"""Theory-versus-experiment checks with explicit tolerances.

Every comparison in a chapter ends in a call to one of these functions, which prints the
measured value, the prediction and the tolerance, and raises ``AssertionError`` when they
disagree, so a broken claim fails the notebook and CI:

- :func:`check_close`  ‖m − p‖ ≤ atol + rtol·‖p‖ (a vector or a value close to its prediction);
- :func:`check_close` with ``mode="every"``: every entry within its own tolerance,
  |mᵢ − pᵢ| ≤ atol + rtol·|pᵢ| (curves whose entries span decades);
- :func:`check_close` with ``mode="log"``: max |ln(mᵢ/pᵢ)| ≤ ln(1 + rtol) (positive curves);
- :func:`check_less`   value < bound (an inequality claim);
- :func:`check_true`   a yes/no claim, with what was measured;
- :func:`check_count`  an integer count inside a range (how many of K runs did something).

Two environment variables change what a failed check does (the default is strict):

- ``COURSE_CHECKS=warn``: a failed check prints ``✗ …`` and issues a warning instead of raising,
  so a student who changes a parameter can still run the whole chapter;
- ``COURSE_CHECK_LOG=path``: every check appends one JSON line (name, verdict, measured value,
  bound) to ``path``; ``tools/robustness.py`` reads these to build its table.

Each function returns a :class:`CheckResult`: a float (the error, the value or the count, as
before) that shows nothing under a notebook cell, since the verdict line was printed already.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import numpy as np

from . import validate
from .validate import ArgumentError

__all__ = ["CheckResult", "CheckWarning", "relative_error", "check_close", "check_less",
           "check_true", "check_count", "checks_mode"]

_MODES = ("norm", "every", "log")


class CheckWarning(UserWarning):
    """Issued for a failed check when ``COURSE_CHECKS=warn``."""


class CheckResult(float):
    """The number a check measured (an error, a value or a count), with its verdict.

    A ``float``, so ``err = cu.check_close(...)`` can be used in arithmetic as before; it also
    carries ``name``, ``passed`` and ``line`` (the printed verdict). In a notebook, a check as
    the last line of a cell displays nothing more: its verdict was printed already.
    """

    name: str
    passed: bool
    line: str

    def __new__(cls, value: float, name: str, passed: bool, line: str) -> CheckResult:
        obj = super().__new__(cls, value)
        obj.name, obj.passed, obj.line = name, bool(passed), line
        return obj

    def _ipython_display_(self) -> None:  # IPython: the verdict line is the display
        return None


def checks_mode() -> str:
    """Return what a failed check does: "strict" (raise, the default) or "warn" (``COURSE_CHECKS``)."""
    mode = os.environ.get("COURSE_CHECKS", "strict").strip().lower() or "strict"
    if mode not in ("strict", "warn"):
        raise ValueError(f"COURSE_CHECKS must be 'strict' or 'warn', got {mode!r}")
    return mode


def _log(name: str, passed: bool, measured, bound, kind: str) -> None:
    path = os.environ.get("COURSE_CHECK_LOG")
    if not path:
        return
    def num(x):
        x = float(x)
        return x if math.isfinite(x) else str(x)
    record = {"name": name, "passed": bool(passed), "kind": kind, "measured": num(measured), "bound": num(bound)}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


def _verdict(name: str, passed: bool, line: str, value: float, bound: float, kind: str,
             verbose: bool) -> CheckResult:
    mode = checks_mode()
    _log(name, passed, value, bound, kind)
    if not passed:
        if mode == "warn":
            print(line)
            warnings.warn(f"{line}  [COURSE_CHECKS=warn: continuing]", CheckWarning, stacklevel=3)
        else:
            raise AssertionError(line)
    elif verbose:
        print(line)
    return CheckResult(value, name, passed, line)


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string that says what is checked, got {name!r}")
    return name


def _tolerance(value, what: str, name: str) -> float:
    """A tolerance (``rtol`` or ``atol``): None means 0; else a finite number ≥ 0 (NaN would pass
    every ``< 0`` test and make every comparison fail, inf would pass anything)."""
    if value is None:
        return 0.0
    try:
        return validate.nonnegative(what, value)
    except ArgumentError as err:
        raise ArgumentError(f"{name}: {err}") from None


def _not_finite(x: np.ndarray) -> str:
    """How many entries of ``x`` are NaN and how many ±inf, e.g. "NaN in 1 of 3 entries"."""
    n_nan = int(np.isnan(x).sum())
    n_inf = int(np.isinf(x).sum())
    parts = ([f"NaN in {n_nan}"] if n_nan else []) + ([f"±inf in {n_inf}"] if n_inf else [])
    return f"{' and '.join(parts)} of {x.size} entr{'y' if x.size == 1 else 'ies'}"


def _array(x, what: str, name: str) -> np.ndarray:
    try:
        return np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {what} must be a number or an array of numbers, got {type(x).__name__}") from None


def relative_error(measured, predicted) -> float:
    """Return ‖measured − predicted‖ / ‖predicted‖ (Euclidean norms over all entries)."""
    m = validate.array("measured", measured)    # NaN/inf would give a NaN error that no check can judge
    p = validate.array("predicted", predicted)
    if m.shape != p.shape:
        raise ValueError(f"measured has shape {m.shape} but predicted has shape {p.shape}")
    denom = np.linalg.norm(p)
    if denom == 0:
        raise ValueError("relative error is undefined for a zero prediction; use check_close(atol=...)")
    return float(np.linalg.norm(m - p) / denom)


def _fmt(x: np.ndarray) -> str:
    """A float array (``m`` or ``p``, already converted by :func:`_array`) as one number or its shape."""
    return f"{x.item():.4g}" if x.size == 1 else f"array{tuple(x.shape)}"


def _pct(x: float) -> str:
    """A relative size as a percentage; below 0.01 % only its order of magnitude ("< 1e-12").

    Errors at the level of floating-point rounding change in their last digits from machine to
    machine; their decade is what matters, and it is stable enough to store in a notebook.
    """
    if x >= 1e-4 or x == 0:
        return f"{x:.2%}"
    return f"< 1e{int(np.ceil(np.log10(x)))}"    # 0 < x < 1e-4 here (x is a finite error ≥ 0)


def _tol(x: float) -> str:
    return f"{x:.2%}" if x >= 1e-4 else f"{x:.0e}"


def _abs(x: float) -> str:
    return f"< 1e{int(np.ceil(np.log10(x)))}" if 0 < x < 1e-8 else f"{x:.2g}"


def check_close(name: str, measured, predicted, *, rtol: float | None = None,
                atol: float | None = None, mode: str = "norm", verbose: bool = True) -> CheckResult:
    """Check ``measured`` against ``predicted`` within an explicit tolerance.

    ``mode`` says which error is bounded:

    - ``"norm"`` (default): ‖m − p‖ ≤ atol + rtol·‖p‖, Euclidean norms over all entries; returns
      the error ‖m − p‖. Right for one number, or a vector whose entries are of one size.
    - ``"every"``: |mᵢ − pᵢ| ≤ atol + rtol·|pᵢ| for every entry i; returns the largest
      |mᵢ − pᵢ| / (atol + rtol·|pᵢ|) (≤ 1 passes). Use it for curves that span decades, where the
      norm would leave the small entries unchecked.
    - ``"log"``: maxᵢ |ln(mᵢ / pᵢ)| ≤ ln(1 + rtol), for positive m and p (atol not allowed);
      returns the largest log-ratio. The same tolerance for every decade of a log–log plot.

    Prints one line such as ``✓ slow mode at t=10: measured 0.3679 vs theory 0.3679 (rel. err
    0.01% ≤ 2%)``; raises ``AssertionError`` with the same line if the check fails (a warning
    instead under ``COURSE_CHECKS=warn``). A measurement that is not finite always fails.
    """
    name = _check_name(name)
    if mode not in _MODES:
        raise ValueError(f"{name}: mode must be one of {_MODES}, got {mode!r}")
    if rtol is None and atol is None:
        raise ValueError(f"{name}: give a tolerance: rtol=... (relative) and/or atol=... (absolute)")
    rtol = _tolerance(rtol, "rtol", name)
    atol = _tolerance(atol, "atol", name)
    m = _array(measured, "measured", name)
    p = _array(predicted, "predicted", name)
    if m.shape != p.shape:
        raise ValueError(f"{name}: measured has shape {m.shape} but predicted has shape {p.shape}")
    if m.size == 0:
        raise ValueError(f"{name}: nothing to compare (measured and predicted are empty)")
    if not np.all(np.isfinite(m)):        # never passes: NaN fails every comparison silently
        line = f"✗ {name}: the measurement is not finite ({_not_finite(m)})"
        return _verdict(name, False, line, float("nan"), rtol or atol, mode, verbose)
    if not np.all(np.isfinite(p)):
        line = f"✗ {name}: the prediction is not finite ({_not_finite(p)})"
        return _verdict(name, False, line, float("nan"), rtol or atol, mode, verbose)

    if mode == "norm":
        err = float(np.linalg.norm(m - p))
        scale = float(np.linalg.norm(p))
        bound = atol + rtol * scale
        ok = err <= bound
        if rtol > 0 and scale > 0:
            detail = f"rel. err {_pct(err / scale)} {'≤' if ok else '>'} {_tol(rtol)}"
            if atol > 0:
                detail += f" (+ atol {atol:.2g})"
        else:
            detail = f"abs. err {_abs(err)} {'≤' if ok else '>'} {atol:.2g}"
        value = err
    elif mode == "every":
        allowed = atol + rtol * np.abs(p)
        excess = np.abs(m - p)
        if np.any(allowed == 0):
            worst = float(np.inf) if np.any(excess[allowed == 0] > 0) else 0.0
            nz = allowed > 0
            if nz.any():
                worst = max(worst, float(np.max(excess[nz] / allowed[nz])))
        else:
            worst = float(np.max(excess / allowed))
        ok = worst <= 1.0
        n_bad = int(np.sum(excess > allowed))
        tol = f"{_tol(rtol)} of each entry" if rtol > 0 else ""
        if atol > 0:
            tol = f"{tol} + {atol:.2g}" if tol else f"{atol:.2g}"
        if rtol > 0 and atol > 0:         # each entry has its own tolerance: how much of it the worst one uses
            largest = f"largest error {_pct(worst)} of its entry's tolerance"
        elif rtol > 0 and np.any(p != 0):   # as in mode="norm": a relative error where the tolerance is one
            nonzero = p != 0
            largest = f"largest rel. err {_pct(float(np.max(excess[nonzero] / np.abs(p[nonzero]))))}"
            off_zero = float(excess[~nonzero].max(initial=0.0))   # entries whose theory is 0 have no rel. err
            if off_zero > 0:
                largest += f", off by {_abs(off_zero)} where theory is 0"
        else:                             # an absolute tolerance (or a prediction of zeros): the absolute error
            largest = f"largest abs. err {_abs(float(excess.max()))}"
        detail = f"every entry: {largest}, {'all' if ok else f'{n_bad} of'} {m.size} within {tol}"
        value, bound = worst, 1.0
    else:  # log
        if atol > 0:
            raise ValueError(f"{name}: mode='log' bounds log-ratios; give rtol only")
        if rtol <= 0:
            raise ValueError(f"{name}: mode='log' needs rtol > 0")
        if np.any(p <= 0):
            raise ValueError(f"{name}: mode='log' needs a positive prediction")
        if np.any(m <= 0):
            line = f"✗ {name}: mode='log' needs a positive measurement ({int((m <= 0).sum())} of {m.size} entries ≤ 0)"
            return _verdict(name, False, line, float("inf"), math.log1p(rtol), mode, verbose)
        logratio = np.abs(np.log(m / p))
        value = float(logratio.max())
        bound = math.log1p(rtol)
        ok = value <= bound
        detail = (f"largest ratio {math.exp(value):.4g}× "
                  f"{'≤' if ok else '>'} {1 + rtol:.4g}× over {m.size} entries")
    line = f"{'✓' if ok else '✗'} {name}: measured {_fmt(m)} vs theory {_fmt(p)} ({detail})"
    return _verdict(name, ok, line, value, bound, mode, verbose)


def _number(x, what: str, name: str) -> float:
    try:
        if hasattr(x, "detach"):
            x = x.detach().cpu()
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {what} must be a number, got {type(x).__name__}") from None
    if arr.size != 1:
        raise ValueError(f"{name}: {what} must be one number, got an array of shape {arr.shape}")
    return float(arr.item())


def check_less(name: str, value: float, bound: float, *, verbose: bool = True) -> CheckResult:
    """Check an inequality claim ``value < bound`` (strictly; e.g. "the error falls below 1%").

    Prints ``✓ name: 0.0031 < 0.01`` and returns ``value``; raises ``AssertionError`` otherwise.
    A value or a bound that is NaN never passes (the line says which is NaN), nor a value of -inf.
    """
    name = _check_name(name)
    value = _number(value, "value", name)
    bound = _number(bound, "bound", name)
    if math.isnan(value) or math.isnan(bound):
        which = "the value" if math.isnan(value) else "the bound"
        line = f"✗ {name}: {value:.4g} ≮ {bound:.4g} ({which} is NaN)"
        return _verdict(name, False, line, value, bound, "less", verbose)
    if value == -math.inf:    # -inf < bound for every bound, but no measurement is -inf: never pass it
        line = f"✗ {name}: {value:.4g} ≮ {bound:.4g} (the value is infinite)"
        return _verdict(name, False, line, value, bound, "less", verbose)
    ok = value < bound
    line = f"{'✓' if ok else '✗'} {name}: {value:.4g} {'<' if ok else '≮'} {bound:.4g}"
    return _verdict(name, ok, line, value, bound, "less", verbose)


def check_true(name: str, condition, *, detail: str = "", verbose: bool = True) -> CheckResult:
    """Check a yes/no claim (``condition`` must be a bool, or a one-element boolean array).

    ``detail`` says what was measured, e.g. ``"half-times 120, 240, 480 steps"``; it is printed
    after the verdict: ``✓ skills are learned in order of frequency (half-times 120, 240, 480)``.
    Returns 1.0 for a pass.
    """
    name = _check_name(name)
    if isinstance(condition, (bool, np.bool_)):
        ok = bool(condition)
    else:
        arr = np.asarray(condition.detach().cpu() if hasattr(condition, "detach") else condition)
        if arr.dtype != bool or arr.size != 1:
            raise ValueError(f"{name}: condition must be True or False, got {condition!r}")
        ok = bool(arr.item())
    line = f"{'✓' if ok else '✗'} {name}" + (f" ({detail})" if detail else "")
    return _verdict(name, ok, line, float(ok), 1.0, "true", verbose)


def check_count(name: str, count, *, at_least: int | None = None, at_most: int | None = None,
                of: int | None = None, verbose: bool = True) -> CheckResult:
    """Check that an integer count lies in [at_least, at_most] (both ends included).

    For claims such as "every run fits" (``at_least=K, of=K``), "no symbol reorders"
    (``at_most=0``) or "at least 20 of 24 runs grok" (``at_least=20, of=24``). ``of`` is the
    number of trials, printed with the count. Returns the count.
    """
    name = _check_name(name)
    if count is None or isinstance(count, (str, bytes, bool, np.bool_)):
        raise ArgumentError(f"{name}: count must be an integer ≥ 0, got {validate.show(count)}")
    c = validate.nonnegative_int(f"{name}: count", _number(count, "count", name))   # 70.7 and NaN are not counts
    if at_least is None and at_most is None:
        raise ValueError(f"{name}: give at_least=... and/or at_most=...")
    for what, v in (("at_least", at_least), ("at_most", at_most), ("of", of)):
        if v is not None and (not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0):
            raise ArgumentError(f"{name}: {what} must be a non-negative integer, got {v!r}")
    if at_least is not None and at_most is not None and at_least > at_most:
        raise ValueError(f"{name}: at_least={at_least} > at_most={at_most}")
    if of is not None and not 0 <= c <= of:
        raise ValueError(f"{name}: a count of {c} out of {of} trials")
    ok = (at_least is None or c >= at_least) and (at_most is None or c <= at_most)
    shown = f"{c} of {of}" if of is not None else f"{c}"
    if at_least is not None and at_most is not None:
        if at_least == at_most:
            want = f"{'=' if ok else '≠'} {at_least}"
        else:
            want = f"{'in' if ok else 'not in'} {at_least} … {at_most}"
    elif at_least is not None:
        want = f"{'≥' if ok else '<'} {at_least}"
    else:
        want = f"{'≤' if ok else '>'} {at_most}"
    line = f"{'✓' if ok else '✗'} {name}: {shown} ({want})"
    bound = at_least if at_least is not None else at_most
    return _verdict(name, ok, line, float(c), float(bound), "count", verbose)
