"""Synthetic data for exactly solvable models: Gaussian features with a chosen covariance
spectrum, a linear teacher with label noise, and random ReLU features.

Everything here returns NumPy float64 arrays drawn from the ``numpy.random.Generator`` you pass,
so an experiment is reproducible from its seed. Pass ``batch=(B,)`` to draw B independent data
sets at once (shape (B, N, D)) for averages over draws. Chapter 1 uses all of it; later chapters
reuse it for teacher–student and random-feature experiments.
"""

from __future__ import annotations

import numpy as np

from .. import validate
from ..validate import ArgumentError

__all__ = ["power_law_spectrum", "gaussian_features", "linear_teacher",
           "random_feature_weights", "random_relu_features"]


def _check_rng(rng) -> np.random.Generator:
    """``rng`` as a NumPy Generator: a Generator is kept, a non-negative integer seed makes one."""
    return validate.generator("rng", rng)


def power_law_spectrum(d: int, exponent: float, scale: float = 1.0) -> np.ndarray:
    """Eigenvalues λ_i = scale · i^(−exponent) for i = 1, …, d (largest first: exponent ≥ 0)."""
    d = validate.positive_int("d (the dimension)", d)
    exponent = validate.nonnegative("exponent", exponent)
    scale = validate.positive("scale", scale)
    lam = scale * np.arange(1, d + 1, dtype=float) ** (-float(exponent))
    if not np.all(lam > 0) or not np.all(np.isfinite(lam)):
        raise validate.ArgumentError(f"exponent = {exponent:g} and scale = {scale:g} make λ_d = scale·d^(−exponent) "
                                     f"underflow to 0 or overflow for d = {d}: use a smaller exponent or scale")
    return lam


def gaussian_features(n: int, spectrum, rng: np.random.Generator, batch: tuple[int, ...] = ()) -> np.ndarray:
    """n samples x ~ N(0, Σ) with Σ = diag(spectrum): x_i = √λ_i z_i, z_i standard normal.

    The axes are the eigenvectors of Σ, which costs no generality for a rotation-invariant
    learner (linear regression by gradient descent from zero is one). Shape ``batch + (n, D)``.
    """
    lam = validate.array("spectrum", spectrum, ndim=1)
    if np.any(lam < 0):
        raise ArgumentError("spectrum must be a 1-d array of non-negative variances")
    n = validate.positive_int("n (the number of samples)", n)
    if isinstance(batch, (int, np.integer)):
        batch = (batch,)
    if isinstance(batch, (str, bytes)) or not isinstance(batch, (tuple, list)):
        raise ArgumentError(f"batch must be a tuple of sizes such as (7,), got {validate.show(batch)}")
    batch = tuple(validate.positive_int(f"batch[{i}]", b) for i, b in enumerate(batch))
    return _check_rng(rng).standard_normal(batch + (n, lam.size)) * np.sqrt(lam)


def linear_teacher(X, w_star, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Labels y = X w* + σ ξ with ξ ~ N(0, 1) independent per sample (shape ``X.shape[:-1]``)."""
    X = validate.array("X", X, allow_empty=True)
    if X.ndim < 1:
        raise ArgumentError("X must have a features axis (shape (..., D)), got a single number")
    w = validate.array("w_star", w_star, ndim=1)
    if w.shape != X.shape[-1:]:
        raise ArgumentError(f"w_star must have shape ({X.shape[-1]},) to match the features, got {w.shape}")
    noise = validate.nonnegative("noise (the noise level σ)", noise)
    return X @ w + noise * _check_rng(rng).standard_normal(X.shape[:-1])


def random_feature_weights(d: int, n_features: int, rng: np.random.Generator) -> np.ndarray:
    """The frozen first layer of a random-feature model: P × d standard normal weights F."""
    d = validate.positive_int("d (the input dimension)", d)
    n_features = validate.positive_int("n_features", n_features)
    return _check_rng(rng).standard_normal((n_features, d))


def random_relu_features(X, weights) -> np.ndarray:
    """Random ReLU features φ_a(x) = max(0, f_a·x / √d), one per row f_a of ``weights`` (P × d).

    The 1/√d keeps each pre-activation of order one for x of unit variance per coordinate.
    Shape ``X.shape[:-1] + (P,)`` (Rahimi & Recht's random features, with a ReLU).
    """
    X = validate.array("X", X, allow_empty=True)
    if X.ndim < 1:
        raise ArgumentError("X must have a features axis (shape (..., D)), got a single number")
    F = validate.array("weights", weights)
    if F.ndim != 2 or F.shape[1] != X.shape[-1]:
        raise ArgumentError(f"weights must have shape (P, {X.shape[-1]}) to match x, got {F.shape}")
    return np.maximum(X @ F.T / np.sqrt(F.shape[1]), 0.0)
