"""Checking what a caller passes in: one small module that the whole package uses.

Students make every mistake: a NumPy array where a tensor goes, a list of lists, shapes that do
not agree, NaN in the data or in a learning rate, a string where a number goes, ``"CUDA"`` on a
laptop without a GPU. Every public function of ``course_utils`` checks its arguments with the
functions below, so that a mistake ends in one clear message that names the argument, shows the
value and says what was expected, instead of a traceback from deep inside torch or NumPy, or a
silent result full of NaN.

Numbers
    :func:`integer` (bounds optional), :func:`positive_int`, :func:`nonnegative_int`,
    :func:`real` (finite unless asked otherwise, bounds optional), :func:`positive`,
    :func:`nonnegative`, :func:`fraction` (a number in [0, 1]).
Arrays and tensors
    :func:`array` (anything array-like → a float NumPy array), :func:`tensor` (NumPy arrays and
    lists → a tensor of the wanted dtype and device). Both check the number of dimensions, the
    shape, and that every entry is finite. Shapes are written with names, ``("N", "d")``; a
    :class:`Dims` object shared between the arguments of one call makes the names agree, so
    ``X`` of shape (N, d) and ``y`` of shape (N,) must have the same N, and the message says where
    each N came from.
    :func:`broadcast` (arrays whose shapes must broadcast against each other).
Integer and boolean tensors
    :func:`int_tensor` (labels, indices, symbols: whole numbers, in a range when given),
    :func:`bool_mask` (a 0/1 mask becomes a boolean one, so that ``~mask`` is its complement),
    :func:`model_input` (the input of a network's forward pass: the fast path of every step).
Other arguments
    :func:`flag` (True or False), :func:`choice` (one of a few strings, any case),
    :func:`function` (a callable), :func:`generator` (a seed or a NumPy ``Generator``),
    :func:`torch_generator` (a seed or a ``torch.Generator``), :func:`seed_list` (one seed per
    member), :func:`float_dtype` (a floating torch dtype), :func:`device` (``torch.device`` or a
    name in any case; a clear message when CUDA or MPS is asked for and absent).

Every error is an :class:`ArgumentError`, which is both a ``ValueError`` and a ``TypeError``, so
code that catches either keeps working.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

__all__ = ["ArgumentError", "Dims", "integer", "positive_int", "nonnegative_int", "real",
           "positive", "nonnegative", "fraction", "array", "tensor", "broadcast", "int_tensor",
           "bool_mask", "model_input", "flag", "choice", "function", "generator", "torch_generator",
           "seed_list", "float_dtype", "device", "show", "probabilities"]


class ArgumentError(ValueError, TypeError):
    """A bad argument: the message names it, shows its value and says what was expected."""


def show(value: Any, limit: int = 60) -> str:
    """A short description of ``value`` for an error message (type and, when short, the value)."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array of shape {value.shape} and dtype {value.dtype}"
    if callable(value) and not isinstance(value, type):
        return f"the function {getattr(value, '__name__', repr(value))}"
    text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + "..."
    return f"{text} ({type(value).__name__})" if not isinstance(value, (int, float)) or isinstance(value, bool) \
        else text


def _fail(name: str, value: Any, expected: str) -> ArgumentError:
    return ArgumentError(f"{name} must be {expected}, got {show(value)}")


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------

def _bounds_text(low, high, low_open: bool, high_open: bool) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '≥'} {low:g}")
    if high is not None:
        parts.append(f"{'<' if high_open else '≤'} {high:g}")
    return " and ".join(parts)


def integer(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as a Python ``int``, checked to lie in [low, high] (either bound optional).

    Accepts ``int``, NumPy integers, 0-d integer arrays/tensors and floats that are whole numbers
    (``1e3``); refuses booleans, strings, NaN and fractions such as 2.5.
    """
    what = "an integer" + (f" {_bounds_text(low, high, False, False)}" if low is not None or high is not None
                           else "")
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise _fail(name, value, what)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim != 0:
            raise _fail(name, value, what)
        value = value.item()
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value).is_integer():
        out = int(value)
    else:
        raise _fail(name, value, what)
    if (low is not None and out < low) or (high is not None and out > high):
        raise _fail(name, value, what)
    return out


def positive_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` ≥ 1 (a size, a number of steps, a width)."""
    return integer(name, value, low=1)


def nonnegative_int(name: str, value: Any) -> int:
    """``value`` as an ``int`` ≥ 0 (a number of steps that may be zero, a seed)."""
    return integer(name, value, low=0)


def real(name: str, value: Any, *, low: float | None = None, high: float | None = None,
         low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """``value`` as a Python ``float``, finite (unless ``finite=False``), inside the given bounds.

    ``low_open=True`` makes the lower bound strict (value > low), likewise ``high_open``. NaN is
    always refused: it passes every ``if x <= 0`` test and poisons everything after it.
    """
    what = ("a finite number" if finite else "a number") + (
        f" {_bounds_text(low, high, low_open, high_open)}" if low is not None or high is not None else "")
    if isinstance(value, (bool, np.bool_)) or value is None:
        raise _fail(name, value, what)
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim != 0:
            raise _fail(name, value, "a single " + what[2:])
        value = value.item()
    if not isinstance(value, numbers.Real):
        raise _fail(name, value, what)
    out = float(value)
    if math.isnan(out) or (finite and math.isinf(out)):
        raise _fail(name, value, what)
    if low is not None and (out < low or (low_open and out == low)):
        raise _fail(name, value, what)
    if high is not None and (out > high or (high_open and out == high)):
        raise _fail(name, value, what)
    return out


def positive(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` > 0 (a learning rate, a variance, a scale)."""
    return real(name, value, low=0.0, low_open=True)


def nonnegative(name: str, value: Any) -> float:
    """``value`` as a finite ``float`` ≥ 0 (a weight decay, a noise level, a ridge)."""
    return real(name, value, low=0.0)


def fraction(name: str, value: Any) -> float:
    """``value`` as a ``float`` in [0, 1] (a probability, a training fraction)."""
    return real(name, value, low=0.0, high=1.0)


# ---------------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------------

ShapeSpec = Sequence["int | str | None"]


class Dims:
    """Named dimensions shared by the arguments of one call, so that their shapes must agree.

    >>> dims = Dims()
    >>> X = tensor("X", X, shape=("N", "d"), dims=dims)
    >>> y = tensor("y", y, shape=("N",), dims=dims)   # y must have as many rows as X

    The first argument that mentions a name fixes its value; a later disagreement raises an
    :class:`ArgumentError` that names both arguments.
    """

    def __init__(self, **known: int) -> None:
        self.values: dict[str, int] = dict(known)
        self.source: dict[str, str] = {k: f"{k} = {v}" for k, v in known.items()}

    def bind(self, name: str, shape: tuple[int, ...], spec: ShapeSpec) -> None:
        """Check ``shape`` (of argument ``name``) against ``spec`` and remember the named sizes."""
        spec = tuple(spec)
        if len(shape) != len(spec):
            raise ArgumentError(f"{name} must have {len(spec)} dimension{'s' * (len(spec) != 1)} "
                                f"{_spec_text(spec)}, got shape {tuple(shape)}")
        for axis, (size, want) in enumerate(zip(shape, spec)):
            if want is None:
                continue
            if isinstance(want, int):
                if size != want:
                    raise ArgumentError(f"{name} must have shape {_spec_text(spec)}, got {tuple(shape)} "
                                        f"(axis {axis} should be {want})")
                continue
            if want in self.values and self.values[want] != size:
                raise ArgumentError(f"{name} has shape {tuple(shape)}, expected {_spec_text(spec)} with "
                                    f"{want} = {self.values[want]} (from {self.source[want]})")
            if want not in self.values:
                self.values[want] = int(size)
                self.source[want] = f"{name}, axis {axis}"


def _spec_text(spec: ShapeSpec) -> str:
    inner = ", ".join("·" if s is None else str(s) for s in spec)
    return f"({inner}{',' if len(spec) == 1 else ''})"


def _check_layout(name: str, shape: tuple[int, ...], ndim: int | Sequence[int] | None,
                  spec: ShapeSpec | None, dims: Dims | None, allow_empty: bool) -> None:
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(shape) not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ArgumentError(f"{name} must have {want} dimension{'s' * (allowed != (1,))}, "
                                f"got shape {tuple(shape)}")
    if spec is not None:
        (dims if dims is not None else Dims()).bind(name, tuple(shape), spec)
    if not allow_empty and any(s == 0 for s in shape):
        raise ArgumentError(f"{name} must not be empty, got shape {tuple(shape)}")


# ---------------------------------------------------------------------------------------------
# Arrays and tensors
# ---------------------------------------------------------------------------------------------

def probabilities(name: str, value: Any, *, what: str = "probabilities", min_size: int = 1,
                  atol: float = 1e-9) -> np.ndarray:
    """``value`` as a 1-d float array of ``what`` (probabilities, skill frequencies, …): p_k ≥ 0 and
    |Σ_k p_k − 1| ≤ ``atol``, with at least ``min_size`` entries. Returned as given (not renormalised)."""
    p = array(name, value, ndim=1)
    if p.size < min_size:
        raise ArgumentError(f"{name} must be a 1-d array of at least {min_size} {what}, got shape {p.shape}")
    if np.any(p < 0) or not abs(p.sum() - 1.0) <= atol:
        raise ArgumentError(f"{name} must be a 1-d array of {what} (non-negative, summing to 1), got "
                            f"{show(value)} summing to {p.sum():.6g}")
    return p


def array(name: str, value: Any, *, ndim: int | Sequence[int] | None = None, shape: ShapeSpec | None = None,
          dims: Dims | None = None, dtype: Any = np.float64, finite: bool = True,
          allow_empty: bool = False) -> np.ndarray:
    """``value`` (a list, a number, a NumPy array or a tensor) as a NumPy array of ``dtype``.

    Checks the number of dimensions (``ndim``), the shape against a named ``shape`` spec (see
    :class:`Dims`), emptiness, and, with ``finite=True``, that no entry is NaN or ±inf.
    """
    if value is None or isinstance(value, (str, bytes, dict)) or callable(value) and not hasattr(value, "__array__"):
        raise _fail(name, value, "an array of numbers")
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        out = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        raise _fail(name, value, "an array of numbers (a list, NumPy array or tensor)") from None
    _check_layout(name, out.shape, ndim, shape, dims, allow_empty)
    if finite and np.issubdtype(out.dtype, np.inexact) and not np.all(np.isfinite(out)):
        bad = int(np.size(out) - np.count_nonzero(np.isfinite(out)))
        raise ArgumentError(f"{name} must contain only finite numbers, but {bad} of its {out.size} "
                            f"entries are NaN or infinite")
    return out


def tensor(name: str, value: Any, *, ndim: int | Sequence[int] | None = None, shape: ShapeSpec | None = None,
           dims: Dims | None = None, dtype: torch.dtype | None = None,
           device_: torch.device | str | None = None, finite: bool = True,
           allow_empty: bool = False) -> torch.Tensor:
    """``value`` as a ``torch.Tensor``: NumPy arrays, lists and numbers are converted.

    ``dtype``: the floating dtype wanted (the model's); a tensor of another float dtype is
    converted to it, so float32 data meet a float64 model without torch's "expected m1 and m2 to
    have the same dtype". ``dtype=None`` keeps a tensor's dtype and makes floats of the rest
    ``torch.get_default_dtype()``. ``device_``: where the result should live. Shapes and
    finiteness are checked as in :func:`array`.
    """
    if value is None or isinstance(value, (str, bytes, dict)) or callable(value) and not hasattr(value, "__array__"):
        raise _fail(name, value, "a tensor (or an array of numbers)")
    if not isinstance(value, torch.Tensor):
        try:
            arr = np.asarray(value)
            if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
                raise TypeError
            value = torch.as_tensor(arr)
        except (TypeError, ValueError, RuntimeError):
            raise _fail(name, value, "a tensor (or an array of numbers)") from None
        if value.is_floating_point() and dtype is None:
            value = value.to(torch.get_default_dtype())
    if dtype is not None and value.dtype != dtype:
        if value.is_complex() and not dtype.is_complex:
            raise _fail(name, value, f"a real tensor of dtype {dtype}")
        value = value.to(dtype)
    if device_ is not None:
        value = value.to(device(f"the device for {name}", device_))
    _check_layout(name, tuple(value.shape), ndim, shape, dims, allow_empty)
    if finite and value.is_floating_point() and not bool(torch.isfinite(value).all()):
        bad = int(value.numel() - torch.isfinite(value).sum())
        raise ArgumentError(f"{name} must contain only finite numbers, but {bad} of its {value.numel()} "
                            f"entries are NaN or infinite")
    return value


def broadcast(**arrays: Any) -> tuple[int, ...]:
    """The common shape of ``arrays`` under NumPy's broadcasting rules (trailing axes agree or one of
    them is 1); arrays that do not broadcast are refused with their names and shapes."""
    try:
        return tuple(np.broadcast_shapes(*(np.shape(a) for a in arrays.values())))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(a)}" for k, a in arrays.items())
        raise ArgumentError(f"the shapes of {', '.join(arrays)} must broadcast against each other, "
                            f"got {shapes}") from None


# ---------------------------------------------------------------------------------------------
# Integer and boolean tensors, a network's input
# ---------------------------------------------------------------------------------------------

def int_tensor(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
               shape: ShapeSpec | None = None, dims: Dims | None = None,
               low: int | None = None, high: int | None = None, allow_empty: bool = True) -> torch.Tensor:
    """``value`` as an integer tensor (labels, indices, symbols), entries in [low, high) when given.

    Integer NumPy arrays and lists are converted; floats that are whole numbers (1.0) become int64;
    fractions, booleans and NaN are refused. An integer tensor is returned unchanged (same dtype).
    """
    t = tensor(name, value, ndim=ndim, shape=shape, dims=dims, finite=False, allow_empty=allow_empty)
    if t.dtype == torch.bool or t.is_complex():
        raise ArgumentError(f"{name} must hold integers, got {show(t)}")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not bool((t == t.round()).all()):
            raise ArgumentError(f"{name} must hold integers, got {show(t)} with fractional or NaN entries")
        t = t.long()
    if t.numel():
        if low is not None and int(t.min()) < low:
            raise ArgumentError(f"{name} must have entries ≥ {low}, got a minimum of {int(t.min())}")
        if high is not None and int(t.max()) >= high:
            raise ArgumentError(f"{name} must have entries < {high}, got a maximum of {int(t.max())}")
    return t


def bool_mask(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
              shape: ShapeSpec | None = None, dims: Dims | None = None) -> torch.Tensor:
    """``value`` as a boolean mask: a bool tensor passes; 0/1 integer (or 0./1. float) masks are
    converted to bool (so that ``~mask`` is the complement, not a bitwise inversion ``-1 - m``);
    any other value is refused."""
    t = tensor(name, value, ndim=ndim, shape=shape, dims=dims, finite=False, allow_empty=True)
    if t.dtype == torch.bool:
        return t
    if t.is_complex() or not bool(((t == 0) | (t == 1)).all()):
        raise ArgumentError(f"{name} must be a boolean mask (True/False, or 0/1), got {show(t)} "
                            "with entries other than 0 and 1")
    return t != 0


def model_input(name: str, x: Any, dtype: torch.dtype, device_: torch.device, last: int | None = None,
                ndim: Sequence[int] | None = None) -> torch.Tensor:
    """The input of a network's forward pass, as a tensor of the network's ``dtype`` on its ``device_``.

    A tensor of the right dtype and device passes through unchanged (the fast path of every
    training step: only its shape is read). NumPy arrays and lists are converted, float32 inputs
    of a float64 network (and the reverse) are cast, integer inputs are made floating. ``last`` is
    the number of features the last axis must have; ``ndim`` the allowed numbers of dimensions.
    Entries are not checked for NaN here (that would cost a pass over the data at every step).
    """
    if not (isinstance(x, torch.Tensor) and x.dtype == dtype and x.device == device_):
        x = tensor(name, x, dtype=dtype, device_=device_, finite=False, allow_empty=True)
    if ndim is not None and x.dim() not in ndim:
        want = " or ".join(str(n) for n in ndim)
        raise ArgumentError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if last is not None and (x.dim() == 0 or x.shape[-1] != last):
        raise ArgumentError(f"{name} has {x.shape[-1] if x.dim() else 0} features in its last axis "
                            f"(shape {tuple(x.shape)}), but the model expects {last}")
    return x


# ---------------------------------------------------------------------------------------------
# Other arguments
# ---------------------------------------------------------------------------------------------

def flag(name: str, value: Any) -> bool:
    """``value`` checked to be True or False (NumPy booleans too): a string such as "no", or 0/1,
    is not a switch."""
    if not isinstance(value, (bool, np.bool_)):
        raise _fail(name, value, "True or False")
    return bool(value)


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """``value`` as one of ``options`` (strings, compared without case); returns the option."""
    if isinstance(value, str):
        for option in options:
            if value.strip().lower() == option.lower():
                return option
    raise _fail(name, value, "one of " + ", ".join(repr(o) for o in options))


def function(name: str, value: Any) -> Callable:
    """``value``, checked to be a function (or any callable), not a value."""
    if not callable(value) or isinstance(value, (np.ndarray, torch.Tensor)):
        raise _fail(name, value, "a function (something that can be called)")
    return value


def generator(name: str, value: Any) -> np.random.Generator:
    """A NumPy ``Generator`` from ``value``: a Generator is kept, a non-negative integer seeds one."""
    if isinstance(value, np.random.Generator):
        return value
    try:
        seed = nonnegative_int(name, value)
    except ArgumentError:
        raise _fail(name, value, "a numpy.random.Generator or a non-negative integer seed") from None
    return np.random.default_rng(seed)


def torch_generator(name: str, value: Any) -> torch.Generator | None:
    """``value`` checked to be a ``torch.Generator`` (or None); a non-negative integer seeds a fresh one."""
    if value is None or isinstance(value, torch.Generator):
        return value
    try:
        seed = nonnegative_int(name, value)
    except ArgumentError:
        raise _fail(name, value, "a torch.Generator (or None, or a non-negative integer seed)") from None
    return torch.Generator().manual_seed(seed)


def seed_list(name: str, value: Any) -> list[int]:
    """``value`` (a list, range or integer array of seeds) as a list of non-negative Python ints."""
    ok = isinstance(value, (range, list, tuple)) or (
        isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 1)
    if not ok:
        raise _fail(name, value, "a sequence of non-negative integer seeds (one per member)")
    return [nonnegative_int(f"{name}[{i}]", s) for i, s in enumerate(value)]


def float_dtype(name: str, value: Any, *, allow_none: bool = True) -> torch.dtype | None:
    """``value`` checked to be a floating torch dtype (``torch.float32``, ``torch.float64``, ...), or None."""
    if value is None and allow_none:
        return None
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise _fail(name, value, "a floating torch dtype such as torch.float64" + (" (or None)" if allow_none else ""))
    return value


def device(name: str, value: Any) -> torch.device:
    """``value`` (``torch.device`` or "cpu", "CUDA", "cuda:0", "mps", any case) as a ``torch.device``.

    Asking for CUDA or MPS where there is none raises an :class:`ArgumentError` that says so and
    how to run on the CPU instead (``device="cpu"``).
    """
    if isinstance(value, torch.device):
        dev = value
    elif isinstance(value, str):
        try:
            dev = torch.device(value.strip().lower())
        except RuntimeError:
            raise _fail(name, value, "'cpu', 'cuda' (or 'cuda:0', ...) or 'mps'") from None
    else:
        raise _fail(name, value, "a torch.device or one of 'cpu', 'cuda', 'mps'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ArgumentError(f"{name} is {value!r}, but this machine has no CUDA GPU that PyTorch can use "
                                "(torch.cuda.is_available() is False); use device='cpu', or on Colab choose "
                                "Runtime → Change runtime type → GPU")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ArgumentError(f"{name} is {value!r}, but this machine has {torch.cuda.device_count()} CUDA "
                                "device(s); use 'cuda:0' or 'cpu'")
    elif dev.type == "mps":
        if not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ArgumentError(f"{name} is {value!r}, but Apple's MPS is not available on this machine; "
                                "use device='cpu'")
    elif dev.type != "cpu":
        raise _fail(name, value, "'cpu', 'cuda' or 'mps'")
    return dev
