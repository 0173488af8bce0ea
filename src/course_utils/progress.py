"""Progress bars: live widgets where someone is watching, plain text in stored notebooks.

Every long loop of the course (the training loops, chapter sweeps) shows its progress through
:func:`progress`. In Jupyter and on Colab it is tqdm's widget bar, which disappears when the
loop ends. A widget stored in a notebook renders in the built book as a stale bar ("0 %"), so
``make chapter`` sets ``COURSE_PROGRESS=text``: the bar is then tqdm's text bar, left in place
at 100 %, and ``tools/clean_notebook.py`` keeps only its final state.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable

from . import validate
from .validate import ArgumentError

__all__ = ["progress", "progress_style"]


def progress_style() -> str:
    """Return "auto" (widgets in Jupyter, text in a terminal; the default) or "text" (``COURSE_PROGRESS``)."""
    style = os.environ.get("COURSE_PROGRESS", "auto").strip().lower() or "auto"
    if style not in ("auto", "text"):
        raise ArgumentError(f"COURSE_PROGRESS must be 'auto' or 'text', got {style!r}")
    return style


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None,
             disable: bool = False):
    """Return a tqdm progress bar over ``iterable`` (or a manual one of ``total`` steps).

    Used as ``for x in cu.progress(xs, desc="widths"): ...`` or, for a manual bar,
    ``bar = cu.progress(total=steps); bar.update(1); bar.close()``.
    """
    if iterable is None and total is None:
        raise ArgumentError("progress needs an iterable or total=<number of steps>")
    if iterable is not None and not hasattr(iterable, "__iter__"):
        raise ArgumentError(f"iterable must be something to loop over (a list, range, array ...), "
                            f"got {validate.show(iterable)}")
    if total is not None:
        validate.nonnegative_int("total (the number of steps)", total)
    if desc is not None and not isinstance(desc, str):
        raise ArgumentError(f"desc must be a string (the bar's label), got {validate.show(desc)}")
    if disable is not None and not isinstance(disable, bool):
        raise ArgumentError(f"disable must be True, False or None, got {validate.show(disable)}")
    if progress_style() == "text":
        from tqdm.std import tqdm
        return tqdm(iterable, total=total, desc=desc, disable=disable, leave=True, file=sys.stderr,
                    mininterval=5.0, ascii=False)
    from tqdm.auto import tqdm
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)
