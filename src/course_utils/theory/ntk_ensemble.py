"""The ensemble of trained wide networks: Gaussian, with the NTK-predicted mean and covariance.

Used by the chapter "The ensemble of trained wide networks" (book/03_wide_networks/03_trained_ensembles).

A network in the NTK parameterisation, trained on the loss L = ½ Σ_μ (f(x_μ) − y_μ)² by gradient
descent with step η, follows at infinite width its linearisation with the deterministic kernel Θ
(Lee et al. 2019). Its initial function f₀ is a draw from the Gaussian process with the NNGP kernel
K, and the trained function is linear in f₀:

    f_t(x) = f₀(x) − A_t(x) (f₀(X) − y),      A_t(x) = Θ(x, X) Θ⁻¹ (I − (I − ηΘ)^t),       (1)

with Θ = Θ(X, X) on the training inputs X ((I − ηΘ)^t becomes e^{−ηΘt} for gradient flow). So
over the draws of the initialisation f_t is Gaussian with

    μ_t(x)      = A_t(x) y,                                                                   (2)
    Σ_t(x, x')  = K(x, x') − A_t(x) K(X, x') − K(x, X) A_t(x')ᵀ + A_t(x) K(X, X) A_t(x')ᵀ,    (3)

which is *not* the NNGP posterior mean K(x, X) K⁻¹ y and covariance K(x, x') − K(x, X) K⁻¹ K(X, x')
(:func:`nngp_posterior`) unless Θ ∝ K.

Also here: :class:`BatchedNTKMLP`, K networks in the NTK parameterisation as one batched module
(:class:`course_utils.ensemble.BatchedMLP` with ``parameterization="ntk"``, built from the sizes of
:class:`course_utils.models.mlp.MLP`), trainable with :func:`course_utils.ensemble.train_ensemble`; and :func:`ensemble_discrepancy`, the
finite-width error of an ensemble's mean and covariance, measured against its sampling noise with
the control variate (1) evaluated on each member's own f₀.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .. import validate
from ..activations import ACTIVATIONS
from ..ensemble.layers import BatchedMLP
from ..validate import flag
from ..validate import ArgumentError, Dims

__all__ = ["response_matrix", "ntk_ensemble_moments", "nngp_posterior", "BatchedNTKMLP", "ensemble_discrepancy",
           "excess_kurtosis"]


def _square(M, name: str, dims: Dims | None = None, size: str | None = None) -> np.ndarray:
    """A finite square float matrix; with ``size``, its side is the named dimension ``size`` of ``dims``."""
    M = validate.array(name, M, ndim=2)
    if M.shape[0] != M.shape[1]:
        raise ArgumentError(f"{name} must be a square matrix, got shape {M.shape}")
    if size is not None:
        dims.bind(name, M.shape, (size, size))
    return M


def _rows(name: str, M, dims: Dims, spec: tuple[str, str]) -> np.ndarray:
    """A finite float matrix of shape ``spec`` (one row, a 1-d array, is allowed)."""
    M = np.atleast_2d(validate.array(name, M, ndim=(1, 2)))
    dims.bind(name, M.shape, spec)
    return M


def _time(t, lr: float, lam: np.ndarray, discrete: bool) -> float:
    t = validate.nonnegative("t (the time or number of steps)", t)
    if discrete and not float(t).is_integer() and np.any(lr * lam > 1):
        raise ArgumentError(f"with discrete=True, t counts gradient-descent steps and must be a whole number when "
                            f"lr·λ > 1 for some eigenvalue λ of Theta_train ((1 − lr·λ)^t is then not real), got {t!r}")
    return t


def response_matrix(Theta_train, Theta_cross, t, *, lr: float, discrete: bool = True) -> np.ndarray:
    """A_t = Θ(x, X) Θ⁻¹ (I − (I − ηΘ)^t) of eq. (1): how the trained function at x responds to the
    training residual.

    ``Theta_train`` is Θ(X, X) (N × N), ``Theta_cross`` is Θ(x, X) (P × N), ``lr`` is η for the loss
    ½ Σ_μ (f(x_μ) − y_μ)² (for the mean squared error (1/N) Σ_μ (f − y)² pass η·2/N). ``discrete``:
    t gradient-descent steps, (I − ηΘ)^t; otherwise gradient flow for a time t, e^{−ηΘt}. Computed
    in the eigenbasis of Θ, with (1 − (1 − ηλ)^t)/λ → ηt for λ → 0 (computed as −expm1(t log1p(−ηλ))/λ,
    accurate down to λ ≈ 10⁻¹² λ_max, below which it is ηt). Returns the P × N matrix.
    """
    dims = Dims()
    Theta_train = _square(Theta_train, "Theta_train", dims, "N")
    Theta_cross = _rows("Theta_cross (one column per training input)", Theta_cross, dims, ("P", "N"))
    lr = validate.positive("lr", lr)
    discrete = flag("discrete", discrete)
    lam, V = np.linalg.eigh((Theta_train + Theta_train.T) / 2)
    lam = np.clip(lam, 0.0, None)  # pragma: no mutate (λ < 0 is below the threshold: gain lr·t either way)
    t = _time(t, lr, lam, discrete)
    x = lr * lam
    if discrete:   # 1 − (1 − x)^t = −expm1(t log1p(−x)): accurate for small x, where 1 − x rounds
        below = x < 1
        growth = np.where(below, -np.expm1(t * np.log1p(-np.where(below, x, 0.0))), 1 - (1 - x) ** t)
    else:          # 1 − e^{−xt}
        growth = -np.expm1(-x * t)
    small = lam <= 1e-12 * max(lam.max(), 1e-300)
    # masked arm: the division's value where small is never used
    gain = np.where(small, lr * t, growth / np.where(small, 1.0, lam))
    return Theta_cross @ (V * gain) @ V.T


def ntk_ensemble_moments(Theta_train, Theta_cross, K_train, K_cross, K_test, y, t, *, lr: float,
                         discrete: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the trained infinite-width networks at the test inputs, eqs. (2)–(3).

    μ = A y and Σ = K(x, x') − A K(X, x') − K(x, X) Aᵀ + A K(X, X) Aᵀ with A = :func:`response_matrix`.
    ``K_train`` = K(X, X) (N × N), ``K_cross`` = K(x, X) (P × N), ``K_test`` = K(x, x') (P × P), ``y``
    the N targets. Returns ``(mean (P,), cov (P, P))``.
    """
    A = response_matrix(Theta_train, Theta_cross, t, lr=lr, discrete=discrete)
    P, N = A.shape
    dims = Dims(P=P, N=N)
    dims.source.update(P="Theta_cross, axis 0", N="Theta_train, axis 0")
    K_train = _square(K_train, "K_train", dims, "N")
    K_test = _square(K_test, "K_test", dims, "P")
    K_cross = _rows("K_cross", K_cross, dims, ("P", "N"))
    y = validate.array("y", y).reshape(-1)
    dims.bind("y", y.shape, ("N",))
    cross = A @ K_cross.T
    cov = K_test - cross - cross.T + A @ K_train @ A.T
    return A @ y, (cov + cov.T) / 2


def nngp_posterior(K_train, K_cross, K_test, y, *, noise_var: float = 0.0,
                   jitter: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """The NNGP (Bayesian) posterior mean and full covariance at the test inputs.

    mean = K(x, X) (K + σ²I)⁻¹ y,   cov = K(x, x') − K(x, X) (K + σ²I)⁻¹ K(X, x')
    (``noise_var`` = σ²; a relative ``jitter`` keeps the solve stable). Returns ``(mean, cov)``;
    :func:`course_utils.theory.kernels.gp_posterior` gives the same mean and the diagonal of cov.
    """
    dims = Dims()
    K_train = _square(K_train, "K_train", dims, "N")
    K_test = _square(K_test, "K_test", dims, "P")
    K_cross = _rows("K_cross", K_cross, dims, ("P", "N"))
    y = validate.array("y", y).reshape(-1)
    dims.bind("y", y.shape, ("N",))
    noise_var = validate.nonnegative("noise_var", noise_var)
    jitter = validate.nonnegative("jitter", jitter)
    N = K_train.shape[0]
    A = K_train + (noise_var + jitter * np.mean(np.diag(K_train))) * np.eye(N)
    try:
        W = np.linalg.solve(A, K_cross.T).T
    except np.linalg.LinAlgError:
        raise ArgumentError("K_train + noise_var·I is singular (duplicate training inputs?): pass noise_var > 0 or a "
                            "larger jitter") from None
    cov = K_test - W @ K_cross.T
    return W @ y, (cov + cov.T) / 2


class BatchedNTKMLP(BatchedMLP):
    """K fully connected networks in the NTK parameterisation, trained as one: the course's
    :class:`course_utils.ensemble.BatchedMLP` with ``parameterization="ntk"`` and ``init="gaussian"``,
    built from the sizes of :class:`course_utils.models.mlp.MLP`.

    Member k is ``MLP(d_in, width, depth, d_out, parameterization="ntk", …)`` drawn with a
    ``torch.Generator`` seeded with ``seeds[k]``: with ``depth`` = L hidden layers of ``width`` n,

        f⁰ = σ_b β⁰ + (σ_w/√d) V⁰ x,   fˡ = σ_b βˡ + (σ_w/√n) Vˡ φ(fˡ⁻¹),   output fᴸ,

    with trained parameters V, β ~ N(0, 1). ``V[l]`` (shape (K, fan_in, fan_out)) and ``beta[l]``
    (shape (K, 1, fan_out)) are the weight and bias of ``layers[l]``, so that
    :class:`course_utils.ensemble.BatchedSGD` and :func:`course_utils.ensemble.train_ensemble` train
    every member on its own loss. ``forward`` takes (N, d) (shared inputs) or (K, N, d) and returns
    (K, N, d_out). Activations: any name of :data:`course_utils.activations.ACTIVATIONS`.
    """

    def __init__(self, n_members: int, d_in: int, width: int, depth: int, d_out: int = 1, *,
                 activation: str = "erf", sigma_w: float = math.sqrt(2.0), sigma_b: float = 0.0,
                 seeds: Sequence[int] | None = None, dtype: torch.dtype | None = None):
        n_members, d_in, width, d_out = (validate.positive_int(name, v) for name, v in (
            ("n_members", n_members), ("d_in", d_in), ("width", width), ("d_out", d_out)))
        depth = validate.nonnegative_int("depth (hidden layers)", depth)
        activation = validate.choice("activation", activation, sorted(ACTIVATIONS))
        sigma_w = validate.positive("sigma_w", sigma_w)
        sigma_b = validate.nonnegative("sigma_b", sigma_b)
        super().__init__(n_members, [d_in] + [width] * depth + [d_out], activation, init="gaussian",
                         parameterization="ntk", sigma_w=sigma_w, sigma_b=sigma_b, seeds=seeds, dtype=dtype)

    @property
    def V(self) -> list[nn.Parameter]:
        """The trained weights V⁰ … Vᴸ, one (K, fan_in, fan_out) tensor per layer."""
        return [layer.weight for layer in self.layers]

    @property
    def beta(self) -> list[nn.Parameter]:
        """The trained biases β⁰ … βᴸ, one (K, 1, fan_out) tensor per layer."""
        return [layer.bias for layer in self.layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The K members' outputs (K, N, d_out) on shared inputs x (N, d) or per-member inputs (K, N, d)."""
        p = self.layers[0].weight
        x = validate.tensor("x", x, dtype=p.dtype, device_=p.device)
        if x.dim() not in (2, 3) or x.dim() == 3 and x.shape[0] != self.n_members or x.shape[-1] != self.sizes[0]:
            raise ArgumentError(f"x (the input) must have shape (N, {self.sizes[0]}) or ({self.n_members}, N, "
                                f"{self.sizes[0]}), got {tuple(x.shape)}")
        return super().forward(x)


def excess_kurtosis(samples, axis: int = 0) -> np.ndarray:
    """The excess kurtosis m₄/m₂² − 3 of ``samples`` along ``axis`` (central moments; 0 for a Gaussian,
    with a standard error ≈ √(24/M) for M Gaussian samples)."""
    s = validate.array("samples", samples, ndim=None if np.ndim(samples) else 1)
    axis = validate.integer("axis", axis, low=-s.ndim, high=s.ndim - 1)
    if s.shape[axis] < 4:
        raise ArgumentError(f"need at least 4 samples along axis {axis}, got {s.shape[axis]}")
    c = s - s.mean(axis=axis, keepdims=True)
    m2 = (c ** 2).mean(axis=axis)
    if np.any(m2 == 0):
        raise ArgumentError("samples are constant along the axis (zero variance): their kurtosis is undefined")
    return (c ** 4).mean(axis=axis) / m2 ** 2 - 3


def ensemble_discrepancy(f, g, cov_inf, *, n_boot: int = 200, seed: int = 0) -> dict:
    """Finite-width error of an ensemble's mean and covariance, separated from its sampling noise.

    ``f`` (M, P): the trained networks' outputs at P test inputs; ``g`` (M, P): the infinite-width
    prediction (1) for each member's own initial function, f₀(x) − A(x)(f₀(X) − y), whose mean is
    exactly μ_∞ (E f₀ = 0 at any width) and, for one hidden layer, whose covariance is exactly Σ_∞
    (the output covariance of a one-hidden-layer network is K at any width). Then, with d = f − g,

        bias of the mean       b = E[f] − μ_∞  ≈  mean_k d_k,
        bias of the covariance B = Cov f − Σ_∞ ≈  Ĉov f − Ĉov g,

    each with a sampling noise far below that of the plain estimates when f and g are close (the
    error is that of d, O(n^{-1/2}) per member, not that of f). The returned sizes are relative:
    rms_p(b)/s and rms_pq(B)/rms_pq(Σ_∞) with s = √(mean_p Σ_∞,pp), each as a noise-subtracted
    estimate of the *squared* size (the expected square of a noisy estimate is size² + noise²;
    the noise² is estimated by resampling members, ``n_boot`` times) with its standard error from
    the same resampling. Also ``spread``: rms over members and points of d/s, each member's own
    distance to its prediction. Returns a dict with keys ``mean2``, ``mean2_se``, ``cov2``,
    ``cov2_se``, ``mean_noise2``, ``cov_noise2``, ``spread``.
    """
    dims = Dims()
    f = validate.array("f (did a network diverge?)", f, shape=("M", "P"), dims=dims)
    g = validate.array("g", g, shape=("M", "P"), dims=dims)
    cov_inf = _square(cov_inf, "cov_inf", dims, "P")
    if f.shape[0] < 4:
        raise ArgumentError(f"f and g must have shape (M, P) with M ≥ 4 members, got shape {f.shape}")
    n_boot = validate.integer("n_boot", n_boot, low=10)
    seed = validate.nonnegative_int("seed", seed)
    M = f.shape[0]
    s2 = float(np.mean(np.diag(cov_inf)))
    c2 = float(np.mean(cov_inf ** 2))
    if not s2 > 0:
        raise ArgumentError(f"cov_inf must have a positive mean variance (diagonal), got {s2:g}")

    def stats(idx):
        fi, gi = f[idx], g[idx]
        d = fi - gi
        b = d.mean(axis=0)
        B = np.cov(fi, rowvar=False) - np.cov(gi, rowvar=False)
        return b, B

    b, B = stats(np.arange(M))
    rng = np.random.default_rng(seed)
    boots = [stats(rng.integers(0, M, M)) for _ in range(n_boot)]
    bb = np.array([x[0] for x in boots])
    BB = np.array([x[1] for x in boots])
    mean_noise2 = float(np.mean(bb.var(axis=0)))        # mean_p Var(b̂_p)
    cov_noise2 = float(np.mean(BB.var(axis=0)))         # mean_pq Var(B̂_pq)
    mean2 = (float(np.mean(b ** 2)) - mean_noise2) / s2
    cov2 = (float(np.mean(B ** 2)) - cov_noise2) / c2
    mean2_boot = np.mean(bb ** 2, axis=1) / s2
    cov2_boot = np.mean(BB ** 2, axis=(1, 2)) / c2
    return dict(mean2=mean2, mean2_se=float(mean2_boot.std()), cov2=cov2, cov2_se=float(cov2_boot.std()),
                mean_noise2=mean_noise2 / s2, cov_noise2=cov_noise2 / c2,
                spread=float(np.sqrt(np.mean((f - g) ** 2) / s2)))
