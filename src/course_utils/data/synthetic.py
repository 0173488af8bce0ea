"""Synthetic data for exactly solvable models: Gaussian features with a chosen covariance
spectrum, a linear teacher with label noise, and random ReLU features.

Everything here returns NumPy float64 arrays drawn from the ``numpy.random.Generator`` you pass,
so an experiment is reproducible from its seed. Pass ``batch=(B,)`` to draw B independent data
sets at once (shape (B, N, D)) for averages over draws. Chapter 1 uses all of it; later chapters
reuse it for teacher–student and random-feature experiments.
"""

from __future__ import annotations

import numpy as np

__all__ = ["power_law_spectrum", "gaussian_features", "linear_teacher",
           "random_feature_weights", "random_relu_features"]


def _check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator, e.g. numpy.random.default_rng(0) "
                         f"(got {type(rng).__name__})")
    return rng


def power_law_spectrum(d: int, exponent: float, scale: float = 1.0) -> np.ndarray:
    """Eigenvalues λ_i = scale · i^(−exponent) for i = 1, …, d (largest first)."""
    if not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"the dimension d must be a positive integer, got {d!r}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    return scale * np.arange(1, d + 1, dtype=float) ** (-float(exponent))


def gaussian_features(n: int, spectrum, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> np.ndarray:
    """n samples x ~ N(0, Σ) with Σ = diag(spectrum): x_i = √λ_i z_i, z_i standard normal.

    The axes are the eigenvectors of Σ, which costs no generality for a rotation-invariant
    learner (linear regression by gradient descent from zero is one). Shape ``batch + (n, D)``.
    """
    lam = np.asarray(spectrum, dtype=float)
    if lam.ndim != 1 or np.any(lam < 0):
        raise ValueError("spectrum must be a 1-d array of non-negative variances")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the number of samples n must be a positive integer, got {n!r}")
    batch = tuple(int(b) for b in batch)
    return _check_rng(rng).standard_normal(batch + (n, lam.size)) * np.sqrt(lam)


def linear_teacher(X, w_star, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Labels y = X w* + σ ξ with ξ ~ N(0, 1) independent per sample (shape ``X.shape[:-1]``)."""
    X = np.asarray(X, dtype=float)
    w = np.asarray(w_star, dtype=float)
    if w.shape != X.shape[-1:]:
        raise ValueError(f"w_star must have shape ({X.shape[-1]},) to match the features, got {w.shape}")
    if noise < 0:
        raise ValueError(f"the noise level σ must be non-negative, got {noise}")
    return X @ w + noise * _check_rng(rng).standard_normal(X.shape[:-1])


def random_feature_weights(d: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """The frozen first layer of a random-feature model: P × d standard normal weights F."""
    if d < 1 or n_features < 1:
        raise ValueError(f"need d ≥ 1 and n_features ≥ 1, got d={d}, n_features={n_features}")
    return _check_rng(rng).standard_normal((n_features, d))


def random_relu_features(X, weights) -> np.ndarray:
    """Random ReLU features φ_a(x) = max(0, f_a·x / √d), one per row f_a of ``weights`` (P × d).

    The 1/√d keeps each pre-activation of order one for x of unit variance per coordinate.
    Shape ``X.shape[:-1] + (P,)`` (Rahimi & Recht's random features, with a ReLU).
    """
    X = np.asarray(X, dtype=float)
    F = np.asarray(weights, dtype=float)
    if F.ndim != 2 or F.shape[1] != X.shape[-1]:
        raise ValueError(f"weights must have shape (P, {X.shape[-1]}) to match x, got {F.shape}")
    return np.maximum(X @ F.T / np.sqrt(F.shape[1]), 0.0)
