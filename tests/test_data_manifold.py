"""Unit tests of course_utils.data.manifold: the embedded torus, nearest-neighbour distances, the dimension estimate."""

import numpy as np
import pytest

from course_utils.data.manifold import TorusManifold, intrinsic_dimension_mle, nearest_neighbour_distances


@pytest.mark.parametrize("d", [1, 2, 3])
def test_torus_shapes_norms_and_periodicity(d):
    torus = TorusManifold(d, 20, seed=1)
    rng = np.random.default_rng(0)
    phi, x, y = torus.sample(50, rng)
    assert phi.shape == (50, d) and x.shape == (50, 20) and y.shape == (50,)
    expected_norm = np.sqrt(1 + torus.bend ** 2 * len(torus.bend_modes) / d)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), expected_norm, rtol=1e-12)
    shift = np.zeros(d)
    shift[0] = 1.0
    np.testing.assert_allclose(torus.embed(phi + shift), x, atol=1e-12)
    np.testing.assert_allclose(torus.target(phi + shift), y, atol=1e-12)


def test_embedding_is_one_to_one_and_smooth():
    torus = TorusManifold(2, 16, seed=0)
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 1, (200, 2)), rng.uniform(0, 1, (200, 2))
    # distinct points on the torus map to distinct points (the flat-torus part is injective)
    gap = np.abs((a - b + 0.5) % 1.0 - 0.5).max(axis=1)
    dist = np.linalg.norm(torus.embed(a) - torus.embed(b), axis=1)
    assert np.all(dist[gap > 0.05] > 0.05)
    # Lipschitz: nearby coordinates, nearby points
    eps = 1e-6
    assert np.max(np.linalg.norm(torus.embed(a + eps) - torus.embed(a), axis=1)) < 20 * eps


def test_target_has_unit_variance():
    torus = TorusManifold(2, 16, seed=3)
    _, _, y = torus.sample(200_000, np.random.default_rng(0))
    assert np.var(y) == pytest.approx(1.0, rel=0.02)
    assert abs(np.mean(y)) < 0.02


@pytest.mark.parametrize("d", [1, 2, 3])
def test_nearest_neighbour_distance_scaling_and_mle(d):
    torus = TorusManifold(d, 24, seed=d)
    rng = np.random.default_rng(d)
    sizes = np.array([500, 1000, 2000, 4000])
    h = [nearest_neighbour_distances(torus.sample(int(n), rng)[1], 1).mean() for n in sizes]
    slope = -np.polyfit(np.log(sizes), np.log(h), 1)[0]
    assert slope == pytest.approx(1 / d, rel=0.08)
    assert intrinsic_dimension_mle(torus.sample(3000, rng)[1], 10) == pytest.approx(d, rel=0.08)


def test_nearest_neighbour_distances_exclude_the_point_itself():
    X = np.array([[0.0], [1.0], [3.0]])
    np.testing.assert_allclose(nearest_neighbour_distances(X, 2), [[1, 3], [1, 2], [2, 3]])


def test_mle_of_a_flat_cube():
    X = np.random.default_rng(0).uniform(size=(4000, 3)) @ np.random.default_rng(1).standard_normal((3, 10))
    assert intrinsic_dimension_mle(X, 10) == pytest.approx(3.0, rel=0.08)


def test_bad_arguments():
    with pytest.raises(ValueError, match="positive integer"):
        TorusManifold(0)
    with pytest.raises(ValueError, match="n_ambient"):
        TorusManifold(3, 8)
    with pytest.raises(ValueError, match="max_frequency"):
        TorusManifold(2, max_frequency=0)
    torus = TorusManifold(2, 16)
    with pytest.raises(ValueError, match="shape"):
        torus.embed(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="Generator"):
        torus.sample(10, "0")
    with pytest.raises(ValueError, match=r"n \(the number of points\) must be an integer ≥ 1"):
        torus.sample(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbour_distances(np.zeros((3, 2)), 3)
    with pytest.raises(ValueError, match="shape"):
        nearest_neighbour_distances(np.zeros(3), 1)
    with pytest.raises(ValueError, match="k must be"):
        intrinsic_dimension_mle(np.random.default_rng(0).standard_normal((10, 2)), 1)
    with pytest.raises(ValueError, match="duplicate"):
        intrinsic_dimension_mle(np.zeros((10, 2)), 3)
