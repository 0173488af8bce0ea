"""Private argument checks shared by :mod:`course_utils.models` and :mod:`course_utils.data`.

Small additions to :mod:`course_utils.validate` for arguments it does not cover: a torch dtype, a
``torch.Generator``, a model's input in the forward pass (a fast path, since it runs at every
training step), integer tensors (labels, pairs, indices) and boolean masks. Every error is a
:class:`course_utils.validate.ArgumentError` that names the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .. import validate
from ..validate import ArgumentError, show

__all__ = ["float_dtype", "torch_generator", "model_input", "int_tensor", "bool_mask", "seed_list", "flag"]


def float_dtype(name: str, value: Any, *, allow_none: bool = True) -> torch.dtype | None:
    """``value`` checked to be a floating torch dtype (``torch.float32``, ``torch.float64``, ...), or None."""
    if value is None and allow_none:
        return None
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise ArgumentError(f"{name} must be a floating torch dtype such as torch.float64"
                            f"{' (or None)' if allow_none else ''}, got {show(value)}")
    return value


def torch_generator(name: str, value: Any) -> torch.Generator | None:
    """``value`` checked to be a ``torch.Generator`` (or None); a non-negative integer seeds a fresh one."""
    if value is None or isinstance(value, torch.Generator):
        return value
    try:
        seed = validate.nonnegative_int(name, value)
    except ArgumentError:
        raise ArgumentError(f"{name} must be a torch.Generator (or None, or a non-negative integer seed), "
                            f"got {show(value)}") from None
    return torch.Generator().manual_seed(seed)


def flag(name: str, value: Any) -> bool:
    """``value`` checked to be True or False (NumPy booleans too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ArgumentError(f"{name} must be True or False, got {show(value)}")
    return bool(value)


def model_input(name: str, x: Any, dtype: torch.dtype, device: torch.device, last: int | None = None,
                ndim: Sequence[int] | None = None) -> torch.Tensor:
    """The input of a model's forward pass, as a tensor of the model's ``dtype`` on its ``device``.

    A tensor of the right dtype and device passes through unchanged (the fast path of every
    training step: only its shape is read). NumPy arrays and lists are converted, float32 inputs
    of a float64 model (and the reverse) are cast, integer inputs are made floating. ``last`` is
    the number of features the last axis must have; ``ndim`` the allowed numbers of dimensions.
    Entries are not checked for NaN here (that would cost a pass over the data at every step).
    """
    if not (isinstance(x, torch.Tensor) and x.dtype == dtype and x.device == device):
        x = validate.tensor(name, x, dtype=dtype, device_=device, finite=False, allow_empty=True)
    if ndim is not None and x.dim() not in ndim:
        want = " or ".join(str(n) for n in ndim)
        raise ArgumentError(f"{name} must have {want} dimensions, got shape {tuple(x.shape)}")
    if last is not None and (x.dim() == 0 or x.shape[-1] != last):
        raise ArgumentError(f"{name} has {x.shape[-1] if x.dim() else 0} features in its last axis "
                            f"(shape {tuple(x.shape)}), but the model expects {last}")
    return x


def int_tensor(name: str, value: Any, *, ndim: int | Sequence[int] | None = None,
               shape: validate.ShapeSpec | None = None, dims: validate.Dims | None = None,
               low: int | None = None, high: int | None = None, allow_empty: bool = True) -> torch.Tensor:
    """``value`` as an integer tensor (labels, indices, symbols), entries in [low, high) when given.

    Integer NumPy arrays and lists are converted; floats that are whole numbers (1.0) become int64;
    fractions, booleans and NaN are refused. An integer tensor is returned unchanged (same dtype).
    """
    t = validate.tensor(name, value, ndim=ndim, shape=shape, dims=dims, finite=False, allow_empty=allow_empty)
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
              shape: validate.ShapeSpec | None = None, dims: validate.Dims | None = None) -> torch.Tensor:
    """``value`` as a boolean mask: a bool tensor passes; 0/1 integer (or 0./1. float) masks are
    converted to bool (so that ``~mask`` is the complement, not a bitwise inversion ``-1 - m``);
    any other value is refused."""
    t = validate.tensor(name, value, ndim=ndim, shape=shape, dims=dims, finite=False, allow_empty=True)
    if t.dtype == torch.bool:
        return t
    if t.is_complex() or not bool(((t == 0) | (t == 1)).all()):
        raise ArgumentError(f"{name} must be a boolean mask (True/False, or 0/1), got {show(t)} "
                            "with entries other than 0 and 1")
    return t != 0


def seed_list(name: str, value: Any) -> list[int]:
    """``value`` (a list, range or integer array of seeds) as a list of non-negative Python ints."""
    ok = isinstance(value, (range, list, tuple)) or (
        isinstance(value, (np.ndarray, torch.Tensor)) and value.ndim == 1)
    if not ok:
        raise ArgumentError(f"{name} must be a sequence of non-negative integer seeds (one per member), "
                            f"got {show(value)}")
    return [validate.nonnegative_int(f"{name}[{i}]", s) for i, s in enumerate(value)]
