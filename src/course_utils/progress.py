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
from typing import Iterable

__all__ = ["progress", "progress_style"]


def progress_style() -> str:
    """Return "auto" (widgets in Jupyter, text in a terminal; the default) or "text" (``COURSE_PROGRESS``)."""
    style = os.environ.get("COURSE_PROGRESS", "auto").strip().lower() or "auto"
    if style not in ("auto", "text"):
        raise ValueError(f"COURSE_PROGRESS must be 'auto' or 'text', got {style!r}")
    return style


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str | None = None,
             disable: bool = False):
    """Return a tqdm progress bar over ``iterable`` (or a manual one of ``total`` steps).

    Used as ``for x in cu.progress(xs, desc="widths"): ...`` or, for a manual bar,
    ``bar = cu.progress(total=steps); bar.update(1); bar.close()``.
    """
    if iterable is None and total is None:
        raise ValueError("progress needs an iterable or total=<number of steps>")
    if progress_style() == "text":
        from tqdm.std import tqdm
        return tqdm(iterable, total=total, desc=desc, disable=disable, leave=True, file=sys.stderr,
                    mininterval=5.0, ascii=False)
    from tqdm.auto import tqdm
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False)
