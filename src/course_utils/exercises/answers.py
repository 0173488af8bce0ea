"""What every exercise checker shares: reading a student's answer, and answering with a verdict.

A checker is a conversation with a student, so it never ends in a traceback and never passes a
wrong answer:

- :func:`checker` wraps a checker function. Whatever goes wrong inside (an answer of the wrong
  type or shape, NaN, a value where a function goes, a student's function that raises), the
  student reads one ``✗`` line saying what was expected, and the checker returns ``False``;
- :func:`number`, :func:`whole_number` and :func:`values` read an answer: NaN and ±inf are never
  accepted, a count must be a whole number (70.7 is not 70), an array must have the expected
  shape. A malformed answer raises :class:`NotAnAnswer`, which :func:`checker` turns into the
  verdict;
- :func:`call` calls a function the student wrote, and reports what it raised as a verdict;
- :func:`verdict` prints the ``✓ correct: name. detail`` / ``✗ not yet`` line and returns the
  boolean; :func:`say` prints the shorter ``✓ text`` / ``✗ not yet: text`` that most chapters use;
- :func:`setting` reads a checker's own argument (a tolerance, a seed, a physical parameter) with a
  :mod:`course_utils.validate` function, and :func:`tolerance` a tolerance in (0, 0.1]: a bad one
  is a ✗ verdict too, and neither NaN nor a huge tolerance lets a wrong answer pass.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..validate import ArgumentError, real, show

__all__ = ["NotAnAnswer", "checker", "verdict", "say", "setting", "tolerance", "number", "whole_number", "values",
           "call", "student_function"]


class NotAnAnswer(Exception):
    """The answer cannot be compared with the reference (wrong type, shape, NaN, ...)."""


def verdict(ok: bool, name: str, detail: str = "", *, verbose: bool = True) -> bool:
    """Print ``✓ correct: name. detail`` or ``✗ not yet: name. detail`` and return ``ok``."""
    if verbose:
        print(f"{'✓ correct' if ok else '✗ not yet'}: {name}." + (f" {detail}" if detail else ""))
    return bool(ok)


def say(ok: bool, text: str, verbose: bool = True) -> bool:
    """Print ``✓ text`` when ``ok``, else ``✗ not yet: text`` (nothing when not ``verbose``); return ``ok``."""
    if verbose:
        print(("✓ " if ok else "✗ not yet: ") + text)
    return bool(ok)


def setting(check: Callable[..., Any], name: str, value: Any, *args: Any, **kwargs: Any) -> Any:
    """``check(name, value, *args, **kwargs)`` (a :mod:`course_utils.validate` function); an
    :class:`~course_utils.validate.ArgumentError` becomes :class:`NotAnAnswer`, so the checker
    answers with a ✗ verdict that names the argument."""
    try:
        return check(name, value, *args, **kwargs)
    except ArgumentError as err:
        raise NotAnAnswer(str(err)) from None


def tolerance(name: str, value: Any, high: float = 0.1) -> float:
    """A tolerance of a checker: a finite number with 0 < value ≤ ``high`` (else a ✗ verdict)."""
    return setting(real, name, value, low=0.0, high=high, low_open=True)


def checker(fn: Callable[..., bool]) -> Callable[..., bool]:
    """Make ``fn`` a checker that always answers with a verdict and returns ``True`` or ``False``.

    :class:`NotAnAnswer` becomes ``✗ not yet: <what was expected>``; any other exception (a bug
    the student's input exposed) becomes ``✗ could not check this answer: <the error>``. ``True``
    is returned only when ``fn`` itself returned ``True``.
    """

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs) -> bool:
        try:
            verbose = bool(signature.bind_partial(*args, **kwargs).arguments.get("verbose", True))
        except TypeError:
            verbose = True
        try:
            result = fn(*args, **kwargs)
        except NotAnAnswer as err:
            message = str(err)
            return verdict(False, fn.__name__.removeprefix("check_").replace("_", " "),
                           message[:1].upper() + message[1:], verbose=verbose)
        except Exception as err:  # noqa: BLE001 - a checker answers with a verdict, never a traceback
            if verbose:
                print(f"✗ could not check this answer ({fn.__name__}): {type(err).__name__}: {err}")
            return False
        return result is True or (isinstance(result, (bool, np.bool_)) and bool(result))

    return wrapped


def _real_numbers_only(answer: Any, what: str) -> None:
    """Refuse complex numbers and text, which NumPy would silently turn into real numbers."""
    if isinstance(answer, torch.Tensor):
        if answer.is_complex():
            raise NotAnAnswer(f"{what} should be real numbers, got {show(answer)} (complex)")
        return
    if answer is None or isinstance(answer, (str, bytes)) or (callable(answer) and not isinstance(answer, np.ndarray)):
        return                                   # number() / values() say what is wrong with these
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kind = np.asarray(answer).dtype.kind
    except Exception:  # noqa: BLE001 - a ragged list or an odd object: values() refuses it
        return
    if kind == "c":
        raise NotAnAnswer(f"{what} should be real numbers, got complex numbers: {show(answer)}")
    if kind in "USa":
        raise NotAnAnswer(f"{what} should be numbers, got text: {show(answer)}")


def number(answer: Any, what: str = "the answer") -> float:
    """``answer`` as a finite float; :class:`NotAnAnswer` for a string, None, an array, a complex
    number, NaN or inf."""
    _real_numbers_only(answer, what)
    if isinstance(answer, (bool, np.bool_)) or answer is None or isinstance(answer, (str, bytes)):
        raise NotAnAnswer(f"{what} should be a number, got {show(answer)}")
    if callable(answer) and not isinstance(answer, (np.ndarray, torch.Tensor)):
        raise NotAnAnswer(f"{what} should be a number, got {show(answer)}: call the function and pass its result")
    if isinstance(answer, (np.ndarray, torch.Tensor)):
        if answer.ndim != 0 and int(np.prod(answer.shape)) != 1:
            raise NotAnAnswer(f"{what} should be a single number, got {show(answer)}")
        answer = answer.reshape(()).item() if isinstance(answer, torch.Tensor) else answer.reshape(()).item()
    try:
        value = float(answer)
    except (TypeError, ValueError, OverflowError):
        raise NotAnAnswer(f"{what} should be a number, got {show(answer)}") from None
    if math.isnan(value):
        raise NotAnAnswer(f"{what} is NaN: look for a 0/0, a log of a negative number or a division by zero")
    if math.isinf(value):
        raise NotAnAnswer(f"{what} is infinite ({value}): look for a division by zero or an overflow")
    return value


def whole_number(answer: Any, what: str = "the answer") -> int:
    """``answer`` as an ``int``; a float that is not a whole number (70.7) is :class:`NotAnAnswer`."""
    value = number(answer, what)
    if not value.is_integer():
        raise NotAnAnswer(f"{what} should be a whole number (a count), got {value:g}")
    return int(value)


def values(answer: Any, what: str = "the answer", shape: Sequence[int | None] | None = None) -> np.ndarray:
    """``answer`` (list, NumPy array or tensor) as a float array of ``shape`` (None: any size), all
    finite and real (text and complex numbers are refused)."""
    _real_numbers_only(answer, what)
    if answer is None or isinstance(answer, (str, bytes, dict)):
        raise NotAnAnswer(f"{what} should be an array of numbers, got {show(answer)}")
    if callable(answer) and not isinstance(answer, (np.ndarray, torch.Tensor)):
        raise NotAnAnswer(f"{what} should be an array of numbers, got {show(answer)}: "
                          "call the function and pass its result")
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().cpu().numpy()
    try:
        arr = np.asarray(answer, dtype=float)
    except (TypeError, ValueError):
        raise NotAnAnswer(f"{what} should be an array of numbers, got {show(answer)}") from None
    if shape is not None:
        shape = tuple(shape)
        if arr.ndim != len(shape) or any(w is not None and s != w for s, w in zip(arr.shape, shape)):
            want = "(" + ", ".join("any" if w is None else str(w) for w in shape) + ("," if len(shape) == 1 else "") + ")"
            raise NotAnAnswer(f"{what} should have shape {want}, got shape {arr.shape}")
    bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise NotAnAnswer(f"{what} has {bad} NaN or infinite entr{'y' if bad == 1 else 'ies'} of {arr.size}")
    return arr


def student_function(answer: Any, what: str = "your answer") -> Callable:
    """``answer``, checked to be a function (a value where a function goes is :class:`NotAnAnswer`)."""
    if not callable(answer) or isinstance(answer, (np.ndarray, torch.Tensor)):
        raise NotAnAnswer(f"{what} should be a function, got {show(answer)}: pass the function itself, "
                          "without calling it (f, not f(...))")
    return answer


def call(fn: Any, *args, what: str = "your function", **kwargs) -> Any:
    """Call the student's ``fn``; what it raises becomes :class:`NotAnAnswer` naming the error."""
    fn = student_function(fn, what)
    try:
        return fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 - the student's code may raise anything
        raise NotAnAnswer(f"{what} raised {type(err).__name__}: {err}") from None
