"""The ``COURSE_SCALE`` switch: one set of sizes for a laptop CPU, one for a GPU at paper scale.

Used by every chapter's parameters cell.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

from . import validate
from .validate import ArgumentError

__all__ = ["SCALES", "current_scale", "scaled"]

SCALES = ("default", "paper")


def current_scale() -> str:
    """Return the scale chosen by the environment variable ``COURSE_SCALE`` ("default" if unset)."""
    scale = os.environ.get("COURSE_SCALE", "default").strip().lower() or "default"
    if scale not in SCALES:
        raise ArgumentError(f"COURSE_SCALE must be one of {SCALES}, got {scale!r}")
    return scale


def _check_parameters(name: str, params: Any) -> None:
    """A dict of parameters whose names can be attributes (``P.n_train``) and are not "scale"."""
    if not isinstance(params, dict):
        raise ArgumentError(f"{name} must be a dict of parameters, e.g. dict(n_train=200), got {validate.show(params)}")
    for key in params:
        if not isinstance(key, str) or not key.isidentifier():
            raise ArgumentError(f"{name} has the parameter name {key!r}, which is not a valid Python name "
                                "(it must be usable as an attribute, P.<name>)")
        if key == "scale":
            raise ArgumentError(f"{name} may not have a parameter called 'scale': P.scale is the scale's name")


def scaled(default: dict[str, Any], paper: dict[str, Any] | None = None,
           scale: str | None = None) -> SimpleNamespace:
    """Return the chapter's parameters for the current scale as attributes (``P.n_train``).

    ``paper`` overrides some or all of the ``default`` entries; it may not add new names.
    Example: ``P = scaled(default=dict(n_train=200), paper=dict(n_train=5000))``.
    """
    scale = current_scale() if scale is None or scale == "" else validate.choice("scale", scale, SCALES)
    _check_parameters("default", default)
    paper = {} if paper is None else paper
    _check_parameters("paper", paper)
    unknown = set(paper) - set(default)
    if unknown:
        raise ArgumentError(f"paper-scale parameters {sorted(unknown)} have no default-scale value")
    values = dict(default)
    if scale == "paper":
        values.update(paper)
    return SimpleNamespace(scale=scale, **values)
