"""Data on a low-dimensional manifold in a high-dimensional space, and how to measure its dimension.

Used by the chapter "Variance-limited and resolution-limited scaling" (book/06_scaling/02_variance_and_resolution)
to test the claim of Sharma & Kaplan (2022): the exponent of a data-scaling law is set by the
*intrinsic* dimension d of the data, not by the dimension n of the space they live in.

* :class:`TorusManifold` — a d-dimensional torus smoothly embedded in R^n, with a smooth target on it;
* :func:`nearest_neighbour_distances` — distances to the k nearest other points (Euclidean, in R^n);
* :func:`intrinsic_dimension_mle` — the Levina–Bickel maximum-likelihood estimate of d from them.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.spatial import cKDTree

from .. import validate
from ..validate import ArgumentError

__all__ = ["TorusManifold", "nearest_neighbour_distances", "intrinsic_dimension_mle"]


class TorusManifold:
    """The d-torus [0, 1)^d, embedded smoothly in R^n, with a smooth target function on it.

    Coordinates φ ∈ [0, 1)^d (periodic). The embedding is

        x(φ) = Q [cos 2πφ_1, sin 2πφ_1, …, cos 2πφ_d, sin 2πφ_d,  ε cos 2πk·φ, ε sin 2πk·φ  (k ∈ K_bend)] / √d

    — a flat torus (one unit circle per coordinate, which makes it one-to-one) bent by a few
    second harmonics k ∈ {−1, 0, 1}^d with |k|₁ = 2 of size ε (``bend``), and turned into R^n by a
    random matrix Q with orthonormal columns. Every point has norm √(1 + ε² #K_bend / d).
    The target is a random smooth (C^∞) function,

        f(φ) = Σ_(k ∈ K_target) a_k cos(2πk·φ + ψ_k),   k ∈ {−K … K}^d \\ {0}, a_k ∝ 1/|k|²,

    with K = ``max_frequency`` (one of each pair ±k, at most ``n_target_modes`` of them), normalised
    to unit variance on the torus. Everything is fixed by ``seed``.
    """

    def __init__(self, d: int, n_ambient: int = 32, *, bend: float = 0.3, n_bend: int = 4, n_target_modes: int = 8,
                 max_frequency: int = 1, seed: int = 0):
        if isinstance(d, float):
            raise ArgumentError(f"the intrinsic dimension d must be a positive integer, got {d!r}")
        try:
            d = validate.positive_int("d", d)
        except ArgumentError:
            raise ArgumentError("the intrinsic dimension d must be a positive integer, "
                                f"got {validate.show(d)}") from None
        n_bend = validate.nonnegative_int("n_bend", n_bend)
        n_ambient = validate.positive_int("n_ambient", n_ambient)
        n_coords = 2 * d + 2 * n_bend
        if n_ambient < n_coords:
            raise ArgumentError(f"n_ambient must be at least 2d + 2·n_bend = {n_coords} to hold the embedding, "
                                f"got {n_ambient}")
        bend = validate.nonnegative("bend", bend)
        n_target_modes = validate.positive_int("n_target_modes", n_target_modes)
        max_frequency = validate.positive_int("max_frequency", max_frequency)
        seed = validate.nonnegative_int("seed", seed)
        rng = np.random.default_rng(seed)
        self.d, self.n_ambient, self.bend = int(d), int(n_ambient), float(bend)
        second = [k for k in itertools.product((-1, 0, 1), repeat=d)
                  if sum(map(abs, k)) == 2 and _first_nonzero_positive(k)]
        pick = rng.permutation(len(second))[:n_bend] if second else []
        self.bend_modes = np.array([second[i] for i in pick], dtype=float).reshape(-1, d)
        Q, _ = np.linalg.qr(rng.standard_normal((n_ambient, 2 * d + 2 * len(self.bend_modes))))
        self.Q = Q
        modes = [k for k in itertools.product(range(-max_frequency, max_frequency + 1), repeat=d)
                 if any(k) and _first_nonzero_positive(k)]
        pick = rng.permutation(len(modes))[:n_target_modes]
        self.target_modes = np.array([modes[i] for i in pick], dtype=float).reshape(-1, d)
        norms2 = np.sum(self.target_modes ** 2, axis=1)
        a = rng.standard_normal(len(pick)) / norms2
        self.amplitudes = a / np.sqrt(np.sum(a ** 2) / 2)  # E_φ[f²] = Σ a²/2 = 1
        self.phases = rng.uniform(0, 2 * np.pi, len(pick))

    def _phi(self, phi) -> np.ndarray:
        phi = validate.array("phi", phi, allow_empty=True)
        if phi.ndim != 2 or phi.shape[1] != self.d:
            raise ArgumentError(f"phi must have shape (N, {self.d}), got {phi.shape}")
        return phi

    def embed(self, phi) -> np.ndarray:
        """The points x(φ) ∈ R^n of the coordinates φ (shape (N, d)); shape (N, n)."""
        phi = self._phi(phi)
        angle = 2 * np.pi * phi
        parts = [np.cos(angle), np.sin(angle)]
        if len(self.bend_modes):
            bent = 2 * np.pi * phi @ self.bend_modes.T
            parts += [self.bend * np.cos(bent), self.bend * np.sin(bent)]
        return np.concatenate(parts, axis=1) @ self.Q.T / np.sqrt(self.d)

    def target(self, phi) -> np.ndarray:
        """The smooth target f(φ) = Σ_k a_k cos(2πk·φ + ψ_k); shape (N,)."""
        phi = self._phi(phi)
        return np.cos(2 * np.pi * phi @ self.target_modes.T + self.phases) @ self.amplitudes

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n points uniform on the torus: returns (φ (n, d), x (n, n_ambient), y (n,))."""
        n = validate.positive_int("n (the number of points)", n)
        phi = validate.generator("rng", rng).uniform(0.0, 1.0, (n, self.d))
        return phi, self.embed(phi), self.target(phi)


def _first_nonzero_positive(k) -> bool:
    """Keep one of each pair ±k (cos and sin of k·φ and of −k·φ span the same functions)."""
    for v in k:
        if v:
            return v > 0
    return False


def nearest_neighbour_distances(X, k: int = 1) -> np.ndarray:
    """Euclidean distances from every row of ``X`` to its k nearest *other* rows; shape (N, k), sorted.

    With N points on a d-dimensional manifold the distance to the j-th neighbour scales as
    (j/N)^(1/d): a ball of radius r holds N·(volume fraction ∝ r^d) points.
    """
    X = validate.array("X", X)
    if X.ndim != 2:
        raise ArgumentError(f"X must have shape (N, n), got {X.shape}")
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 1 <= k < X.shape[0]:
        raise ArgumentError(f"k must be an integer between 1 and N − 1 = {X.shape[0] - 1}, got {k!r}")
    dist, _ = cKDTree(X).query(X, k=k + 1)
    return dist[:, 1:]


def intrinsic_dimension_mle(X, k: int = 10) -> float:
    """The Levina–Bickel (2004) maximum-likelihood estimate of the intrinsic dimension of the rows of X.

    If the points near x are a Poisson process of constant density on a d-dimensional manifold,
    the distances T_1 ≤ … ≤ T_k to the k nearest neighbours satisfy log(T_k/T_j) ~ Exponential(d)
    for j < k, so 1/d̂(x) = (1/(k−1)) Σ_(j<k) log(T_k/T_j) is an unbiased estimate of 1/d. We average
    1/d̂(x) over all points and invert (the MacKay–Ghahramani form of the estimator):

        d̂ = [ (1/N) Σ_x (1/(k−1)) Σ_(j<k) log(T_k(x)/T_j(x)) ]^(−1).
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ArgumentError("k must be an integer ≥ 2 (the estimator compares the k-th distance with the others), "
                         f"got {k!r}")
    T = nearest_neighbour_distances(X, k)
    if np.any(T[:, 0] <= 0):
        raise ArgumentError("X has duplicate points (a zero nearest-neighbour distance): remove them first")
    inv_d = np.mean(np.log(T[:, -1:] / T[:, :-1]), axis=1)
    return float(1.0 / np.mean(inv_d))
