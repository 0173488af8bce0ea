"""Unit tests of course_utils.models.interpolation: nearest-neighbour and piecewise-linear interpolation."""

import numpy as np
import pytest

from course_utils.models.interpolation import nearest_neighbour_predict, torus_linear_interpolation


def test_nearest_neighbour():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(nearest_neighbour_predict(X, y, np.array([[0.9, 0.1], [0.1, 1.5], [0.0, 0.0]])),
                               [2.0, 3.0, 1.0])


@pytest.mark.parametrize("d", [1, 2, 3])
def test_linear_interpolation_is_exact_on_linear_functions_and_periodic(d):
    rng = np.random.default_rng(d)
    phi = rng.uniform(size=(400 * d, d))
    test = rng.uniform(0.2, 0.8, size=(50, d))
    a = rng.standard_normal(d)
    np.testing.assert_allclose(torus_linear_interpolation(phi, phi @ a, test), test @ a, atol=1e-9)
    # a periodic function near the seam: the periodic images make it well defined everywhere
    f = lambda p: np.cos(2 * np.pi * p[:, 0])  # noqa: E731
    edge = rng.uniform(size=(50, d))
    edge[:, 0] = rng.choice([0.001, 0.999], size=50)
    assert np.max(np.abs(torus_linear_interpolation(phi, f(phi), edge) - f(edge))) < 0.2


def test_linear_error_is_second_order():
    """Halving the spacing of a 1-d grid divides the interpolation error by 4."""
    f = lambda p: np.sin(2 * np.pi * p[:, 0])  # noqa: E731
    test = np.linspace(0, 1, 1001)[:, None]
    errs = []
    for n in (50, 100):
        grid = (np.arange(n) / n)[:, None]
        errs.append(np.max(np.abs(torus_linear_interpolation(grid, f(grid), test) - f(test))))
    assert errs[0] / errs[1] == pytest.approx(4.0, rel=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"X_test has shape \(2, 3\).*n = 2 \(from X_train"):
        nearest_neighbour_predict(np.zeros((3, 2)), np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="y_train"):
        nearest_neighbour_predict(np.zeros((3, 2)), np.zeros(4), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"phi_test has shape \(2, 3\).*d = 2 \(from phi_train"):
        torus_linear_interpolation(np.zeros((3, 2)), np.zeros(3), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="y_train"):
        torus_linear_interpolation(np.zeros((3, 2)), np.zeros(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="margin"):
        torus_linear_interpolation(np.zeros((3, 2)), np.zeros(3), np.zeros((2, 2)), margin=0.0)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="outside the triangulation"):
        torus_linear_interpolation(rng.uniform(0.3, 0.7, (20, 2)), np.zeros(20), np.array([[0.01, 0.01]]),
                                   margin=0.05)
