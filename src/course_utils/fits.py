"""Fits that recur across the course: power laws on log–log axes.

Used by the scaling-law, NTK and NNGP chapters, and by :func:`course_utils.plotting.loglog_fit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import validate
from .validate import ArgumentError

__all__ = ["PowerLawFit", "fit_power_law"]


@dataclass(frozen=True)
class PowerLawFit:
    """The result of fitting y = A · x^(−alpha): exponent, prefactor and the exponent's standard error."""

    alpha: float
    prefactor: float
    alpha_stderr: float

    def __call__(self, x):
        """Evaluate the fitted law A · x^(−alpha) at x > 0 (a number or an array)."""
        x = validate.array("x", x, allow_empty=True)
        if np.any(x <= 0):
            raise ArgumentError(f"x must be positive (the power law A · x^(-alpha) is fitted on log–log axes), "
                                f"got a minimum of {x.min():g}")
        return self.prefactor * x ** (-self.alpha)


def fit_power_law(x, y) -> PowerLawFit:
    """Least-squares fit of log y = log A − alpha · log x, i.e. y = A · x^(−alpha).

    A falling quantity gives a positive ``alpha``. Needs at least three positive, finite points
    with at least two different x. The standard error is that of ordinary least squares with
    n − 2 degrees of freedom (two fitted numbers): σ² = Σ r_i²/(n − 2), se(alpha)² = σ²/Σ(ln x_i − mean)².
    """
    x = validate.array("x", x, allow_empty=True).ravel()
    y = validate.array("y", y, allow_empty=True).ravel()
    if x.shape != y.shape:
        raise ArgumentError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < 3:
        raise ArgumentError(f"a power-law fit needs at least 3 points, got {x.size}")
    for name, v in (("x", x), ("y", y)):
        if np.any(v <= 0):
            raise ArgumentError(f"a power-law fit needs strictly positive x and y (it is a fit on log–log "
                                f"axes), but {name} has {int(np.sum(v <= 0))} entries ≤ 0 (minimum {v.min():g})")
    if np.all(x == x[0]):   # pragma: no mutate (x[0] -> x[1] is equivalent: all equal to one entry = all equal)
        raise ArgumentError(f"a power-law fit needs at least two different x values, got x = {x[0]:g} every time")
    lx, ly = np.log(x), np.log(y)
    A = np.stack([np.ones_like(lx), -lx], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)   # pragma: no mutate (rcond=None is NumPy 2's default too)
    resid = ly - A @ coef
    dof = x.size - 2   # n − 2 degrees of freedom: two fitted numbers (log A and alpha); n ≥ 3 above
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.inv(A.T @ A)
    return PowerLawFit(alpha=float(coef[1]), prefactor=float(np.exp(coef[0])),
                       alpha_stderr=float(np.sqrt(cov[1, 1])))
