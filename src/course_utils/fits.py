"""Fits that recur across the course: power laws on log–log axes.

Used by the scaling-law, NTK and NNGP chapters, and by :func:`course_utils.plotting.loglog_fit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PowerLawFit", "fit_power_law"]


@dataclass(frozen=True)
class PowerLawFit:
    """The result of fitting y = A · x^(−alpha): exponent, prefactor and the exponent's standard error."""

    alpha: float
    prefactor: float
    alpha_stderr: float

    def __call__(self, x):
        """Evaluate the fitted law A · x^(−alpha)."""
        return self.prefactor * np.asarray(x, dtype=float) ** (-self.alpha)


def fit_power_law(x, y) -> PowerLawFit:
    """Least-squares fit of log y = log A − alpha · log x, i.e. y = A · x^(−alpha).

    A falling quantity gives a positive ``alpha``. Needs at least three positive points.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size < 3:
        raise ValueError(f"a power-law fit needs at least 3 points, got {x.size}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("a power-law fit needs strictly positive x and y (it is a fit on log–log axes)")
    lx, ly = np.log(x), np.log(y)
    A = np.stack([np.ones_like(lx), -lx], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    resid = ly - A @ coef
    dof = max(x.size - 2, 1)
    sigma2 = float(resid @ resid) / dof
    cov = sigma2 * np.linalg.inv(A.T @ A)
    return PowerLawFit(alpha=float(coef[1]), prefactor=float(np.exp(coef[0])),
                       alpha_stderr=float(np.sqrt(cov[1, 1])))
