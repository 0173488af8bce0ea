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

from .. import validate

__all__ = ["nearest_neighbour_predict", "torus_linear_interpolation"]


def nearest_neighbour_predict(X_train, y_train, X_test) -> np.ndarray:
    """1-nearest-neighbour regression: f(x) = y_μ with μ = argmin ‖x − x_μ‖.

    Shapes: X_train (N, n), y_train (N,), X_test (M, n) → (M,). Every entry must be finite.
    """
    dims = validate.Dims()
    X_train = validate.array("X_train", X_train, shape=("N", "n"), dims=dims)
    y_train = validate.array("y_train", y_train, shape=("N",), dims=dims)
    X_test = validate.array("X_test", X_test, shape=("M", "n"), dims=dims, allow_empty=True)
    _, idx = cKDTree(X_train).query(X_test, k=1)
    return y_train[idx]


def torus_linear_interpolation(phi_train, y_train, phi_test, *, margin: float = 0.2) -> np.ndarray:
    """Piecewise-linear interpolation of y on the periodic cube [0, 1)^d (the torus's coordinates).

    d = 1: linear interpolation between neighbours on the circle. d ≥ 2: the training points and
    their periodic images within ``margin`` of the cube are triangulated (Delaunay, scipy's
    ``LinearNDInterpolator``) and f is linear on each simplex. Raises if a test point falls
    outside the triangulation (too few points for the margin).
    """
    dims = validate.Dims()
    phi_train = validate.array("phi_train", phi_train, shape=("N", "d"), dims=dims)
    y_train = validate.array("y_train", y_train, shape=("N",), dims=dims)
    phi_test = validate.array("phi_test", phi_test, shape=("M", "d"), dims=dims, allow_empty=True)
    margin = validate.real("margin", margin, low=0.0, high=0.5, low_open=True)
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
