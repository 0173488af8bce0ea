"""Forward-mode automatic differentiation without torch's internal warnings.

The Taylor coefficients of the loss along a ray (:mod:`course_utils.theory.action`) and the linearised
network f(θ₀) + J(θ₀)(θ − θ₀) (:mod:`course_utils.theory.ntk_empirical`) both use ``torch.func.jvp``.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

__all__ = ["quiet_forward_ad"]


@contextlib.contextmanager
def quiet_forward_ad() -> Iterator[None]:
    """A context in which forward-mode AD runs without the DeprecationWarning about ``torch.jit.script``
    that torch's own jvp decompositions raise on first use (only that warning is silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script", category=DeprecationWarning)
        yield
