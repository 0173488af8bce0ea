"""Two models that do nothing but interpolate their training data, for the chapter "Variance-limited
and resolution-limited scaling" (book/06_scaling/02_variance_and_resolution):

* :func:`nearest_neighbour_predict` — piecewise constant: f(x) = y of the nearest training point
  (Euclidean distance in the ambient space R^n);
* :func:`torus_linear_interpolation` — piecewise linear on a Delaunay triangulation of the
  manifold's coordinates φ ∈ [0, 1)^d (periodic), the kind of function a ReLU network represents.

Their losses fall as D^(−2/d) and D^(−4/d) (:func:`course_utils.theory.scaling_regimes.manifold_exponent`).
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.interpolate import LinearNDInterpolator
from scipy.spatial import cKDTree

__all__ = ["nearest_neighbour_predict", "torus_linear_interpolation"]


def nearest_neighbour_predict(X_train, y_train, X_test) -> np.ndarray:
    """1-nearest-neighbour regression: f(x) = y_μ with μ = argmin ‖x − x_μ‖."""
    X_train, X_test = np.asarray(X_train, dtype=float), np.asarray(X_test, dtype=float)
    y_train = np.asarray(y_train, dtype=float)
    if X_train.ndim != 2 or X_test.ndim != 2 or X_train.shape[1] != X_test.shape[1]:
        raise ValueError(f"X_train {X_train.shape} and X_test {X_test.shape} must be (N, n) with the same n")
    if y_train.shape != (X_train.shape[0],):
        raise ValueError(f"y_train must have shape ({X_train.shape[0]},), got {y_train.shape}")
    _, idx = cKDTree(X_train).query(X_test, k=1)
    return y_train[idx]


def torus_linear_interpolation(phi_train, y_train, phi_test, *, margin: float = 0.2) -> np.ndarray:
    """Piecewise-linear interpolation of y on the periodic cube [0, 1)^d (the torus's coordinates).

    d = 1: linear interpolation between neighbours on the circle. d ≥ 2: the training points and
    their periodic images within ``margin`` of the cube are triangulated (Delaunay, scipy's
    ``LinearNDInterpolator``) and f is linear on each simplex. Raises if a test point falls
    outside the triangulation (too few points for the margin).
    """
    phi_train, phi_test = np.asarray(phi_train, dtype=float), np.asarray(phi_test, dtype=float)
    y_train = np.asarray(y_train, dtype=float)
    if phi_train.ndim != 2 or phi_test.ndim != 2 or phi_train.shape[1] != phi_test.shape[1]:
        raise ValueError(f"phi_train {phi_train.shape} and phi_test {phi_test.shape} must be (N, d) with the same d")
    if y_train.shape != (phi_train.shape[0],):
        raise ValueError(f"y_train must have shape ({phi_train.shape[0]},), got {y_train.shape}")
    if not 0 < margin <= 0.5:
        raise ValueError(f"margin must be in (0, 0.5], got {margin}")
    d = phi_train.shape[1]
    if d == 1:
        return np.interp(phi_test[:, 0], phi_train[:, 0], y_train, period=1.0)
    pts, vals = [], []
    for shift in itertools.product((-1.0, 0.0, 1.0), repeat=d):
        moved = phi_train + np.array(shift)
        keep = np.all((moved > -margin) & (moved < 1 + margin), axis=1)
        pts.append(moved[keep])
        vals.append(y_train[keep])
    f = LinearNDInterpolator(np.concatenate(pts), np.concatenate(vals))(phi_test)
    if np.any(np.isnan(f)):
        raise ValueError("some test points fall outside the triangulation: use more training points or a larger margin")
    return f
