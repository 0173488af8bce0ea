"""The ``COURSE_SCALE`` switch: one set of sizes for a laptop CPU, one for a GPU at paper scale.

Used by every chapter's parameters cell.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

__all__ = ["SCALES", "current_scale", "scaled"]

SCALES = ("default", "paper")


def current_scale() -> str:
    """Return the scale chosen by the environment variable ``COURSE_SCALE`` ("default" if unset)."""
    scale = os.environ.get("COURSE_SCALE", "default").strip().lower() or "default"
    if scale not in SCALES:
        raise ValueError(f"COURSE_SCALE must be one of {SCALES}, got {scale!r}")
    return scale


def scaled(default: dict[str, Any], paper: dict[str, Any] | None = None,
           scale: str | None = None) -> SimpleNamespace:
    """Return the chapter's parameters for the current scale as attributes (``P.n_train``).

    ``paper`` overrides some or all of the ``default`` entries; it may not add new names.
    Example: ``P = scaled(default=dict(n_train=200), paper=dict(n_train=5000))``.
    """
    scale = scale or current_scale()
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    paper = paper or {}
    unknown = set(paper) - set(default)
    if unknown:
        raise ValueError(f"paper-scale parameters {sorted(unknown)} have no default-scale value")
    values = dict(default)
    if scale == "paper":
        values.update(paper)
    return SimpleNamespace(scale=scale, **values)
