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
(the course's :class:`course_utils.ensemble.BatchedMLP` uses PyTorch's default initialisation),
trainable with :func:`course_utils.ensemble.train_ensemble`; and :func:`ensemble_discrepancy`, the
finite-width error of an ensemble's mean and covariance, measured against its sampling noise with
the control variate (1) evaluated on each member's own f₀.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

__all__ = ["response_matrix", "ntk_ensemble_moments", "nngp_posterior", "BatchedNTKMLP", "ensemble_discrepancy",
           "excess_kurtosis"]


def _square(M, name: str) -> np.ndarray:
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be a square matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise ValueError(f"{name} must be finite")
    return M


def response_matrix(Theta_train, Theta_cross, t, *, lr: float, discrete: bool = True) -> np.ndarray:
    """A_t = Θ(x, X) Θ⁻¹ (I − (I − ηΘ)^t) of eq. (1): how the trained function at x responds to the
    training residual.

    ``Theta_train`` is Θ(X, X) (N × N), ``Theta_cross`` is Θ(x, X) (P × N), ``lr`` is η for the loss
    ½ Σ_μ (f(x_μ) − y_μ)² (for the mean squared error (1/N) Σ_μ (f − y)² pass η·2/N). ``discrete``:
    t gradient-descent steps, (I − ηΘ)^t; otherwise gradient flow for a time t, e^{−ηΘt}. Computed
    in the eigenbasis of Θ, with (1 − (1 − ηλ)^t)/λ → ηt for λ → 0. Returns the P × N matrix.
    """
    Theta_train = _square(Theta_train, "Theta_train")
    Theta_cross = np.atleast_2d(np.asarray(Theta_cross, dtype=float))
    if Theta_cross.shape[1] != Theta_train.shape[0]:
        raise ValueError(f"Theta_cross must have {Theta_train.shape[0]} columns (one per training input), "
                         f"got shape {Theta_cross.shape}")
    if not (isinstance(lr, (int, float, np.floating)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not np.isfinite(t) or t < 0:
        raise ValueError(f"t must be a non-negative time or number of steps, got {t!r}")
    lam, V = np.linalg.eigh((Theta_train + Theta_train.T) / 2)
    lam = np.clip(lam, 0.0, None)
    decay = (1 - lr * lam) ** t if discrete else np.exp(-lr * lam * t)
    small = lam <= 1e-12 * max(lam.max(), 1e-300)
    gain = np.where(small, lr * t, (1 - decay) / np.where(small, 1.0, lam))
    return Theta_cross @ (V * gain) @ V.T


def ntk_ensemble_moments(Theta_train, Theta_cross, K_train, K_cross, K_test, y, t, *, lr: float,
                         discrete: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the trained infinite-width networks at the test inputs, eqs. (2)–(3).

    μ = A y and Σ = K(x, x') − A K(X, x') − K(x, X) Aᵀ + A K(X, X) Aᵀ with A = :func:`response_matrix`.
    ``K_train`` = K(X, X) (N × N), ``K_cross`` = K(x, X) (P × N), ``K_test`` = K(x, x') (P × P), ``y``
    the N targets. Returns ``(mean (P,), cov (P, P))``.
    """
    A = response_matrix(Theta_train, Theta_cross, t, lr=lr, discrete=discrete)
    K_train = _square(K_train, "K_train")
    K_test = _square(K_test, "K_test")
    K_cross = np.atleast_2d(np.asarray(K_cross, dtype=float))
    y = np.asarray(y, dtype=float).reshape(-1)
    P, N = A.shape
    if K_train.shape != (N, N) or K_cross.shape != (P, N) or K_test.shape != (P, P) or y.shape != (N,):
        raise ValueError(f"shapes do not fit: Theta_cross {A.shape} needs K_train ({N}, {N}), K_cross ({P}, {N}), "
                         f"K_test ({P}, {P}), y ({N},); got {K_train.shape}, {K_cross.shape}, {K_test.shape}, "
                         f"{y.shape}")
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
    K_train = _square(K_train, "K_train")
    K_test = _square(K_test, "K_test")
    K_cross = np.atleast_2d(np.asarray(K_cross, dtype=float))
    y = np.asarray(y, dtype=float).reshape(-1)
    N, P = K_train.shape[0], K_test.shape[0]
    if K_cross.shape != (P, N) or y.shape != (N,):
        raise ValueError(f"shapes do not fit: K_cross must be ({P}, {N}) and y ({N},), got {K_cross.shape}, {y.shape}")
    if noise_var < 0:
        raise ValueError(f"noise_var must be non-negative, got {noise_var}")
    A = K_train + (noise_var + jitter * np.mean(np.diag(K_train))) * np.eye(N)
    W = np.linalg.solve(A, K_cross.T).T
    cov = K_test - W @ K_cross.T
    return W @ y, (cov + cov.T) / 2


class BatchedNTKMLP(nn.Module):
    """K fully connected networks in the NTK parameterisation, evaluated as one batched computation.

    Member k is :class:`course_utils.models.mlp.MLP` (``parameterization="ntk"``) drawn with a
    ``torch.Generator`` seeded with ``seeds[k]``: with ``depth`` = L hidden layers of ``width`` n,

        f⁰ = σ_b β⁰ + (σ_w/√d) V⁰ x,   fˡ = σ_b βˡ + (σ_w/√n) Vˡ φ(fˡ⁻¹),   output fᴸ,

    with trained parameters V, β ~ N(0, 1). Parameters are stored with a leading member axis,
    ``V[l]`` of shape (K, fan_in, fan_out) and ``beta[l]`` of shape (K, 1, fan_out), so that
    :class:`course_utils.ensemble.BatchedSGD` and :func:`course_utils.ensemble.train_ensemble` train
    every member on its own loss. ``forward`` takes (N, d) (shared inputs) or (K, N, d) and returns
    (K, N, d_out). Activations: "relu", "erf", "tanh", "linear".
    """

    _PHI = {"relu": torch.relu, "erf": torch.erf, "tanh": torch.tanh, "linear": lambda z: z}

    def __init__(self, n_members: int, d_in: int, width: int, depth: int, d_out: int = 1, *,
                 activation: str = "erf", sigma_w: float = math.sqrt(2.0), sigma_b: float = 0.0,
                 seeds: Sequence[int] | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        for name, v in (("n_members", n_members), ("d_in", d_in), ("width", width), ("d_out", d_out)):
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not isinstance(depth, (int, np.integer)) or depth < 0:
            raise ValueError(f"depth (hidden layers) must be a non-negative integer, got {depth!r}")
        if activation not in self._PHI:
            raise ValueError(f"activation must be one of {sorted(self._PHI)}, got {activation!r}")
        if sigma_w <= 0 or sigma_b < 0:
            raise ValueError(f"sigma_w must be positive and sigma_b non-negative, got {sigma_w}, {sigma_b}")
        seeds = list(range(n_members)) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != n_members:
            raise ValueError(f"seeds must have one entry per member ({n_members}), got {len(seeds)}")
        dtype = dtype or torch.get_default_dtype()
        self.n_members, self.activation = int(n_members), activation
        self.sigma_w, self.sigma_b = float(sigma_w), float(sigma_b)
        self.sizes = [int(d_in)] + [int(width)] * int(depth) + [int(d_out)]
        pairs = list(zip(self.sizes[:-1], self.sizes[1:]))
        V = [torch.empty(n_members, a, b, dtype=dtype) for a, b in pairs]
        beta = [torch.empty(n_members, 1, b, dtype=dtype) for _, b in pairs]
        for k, s in enumerate(seeds):   # the draws of MLP.reset_parameters: per layer weight (out, in), then bias
            gen = torch.Generator().manual_seed(s)
            for l, (a, b) in enumerate(pairs):
                V[l][k] = torch.randn(b, a, generator=gen, dtype=dtype).T
                beta[l][k, 0] = torch.randn(b, generator=gen, dtype=dtype)
        self.V = nn.ParameterList(nn.Parameter(v) for v in V)
        self.beta = nn.ParameterList(nn.Parameter(b) for b in beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(self.n_members, *x.shape)
        if x.dim() != 3 or x.shape[0] != self.n_members or x.shape[2] != self.sizes[0]:
            raise ValueError(f"input must have shape (N, {self.sizes[0]}) or ({self.n_members}, N, {self.sizes[0]}), "
                             f"got {tuple(x.shape)}")
        phi = self._PHI[self.activation]
        h = x
        for l, (V, beta) in enumerate(zip(self.V, self.beta)):
            z = torch.baddbmm(beta, h, V, beta=self.sigma_b, alpha=self.sigma_w / math.sqrt(V.shape[1]))
            h = phi(z) if l < len(self.V) - 1 else z
        return h


def excess_kurtosis(samples, axis: int = 0) -> np.ndarray:
    """The excess kurtosis m₄/m₂² − 3 of ``samples`` along ``axis`` (central moments; 0 for a Gaussian,
    with a standard error ≈ √(24/M) for M Gaussian samples)."""
    s = np.asarray(samples, dtype=float)
    if s.shape[axis] < 4:
        raise ValueError(f"need at least 4 samples along axis {axis}, got {s.shape[axis]}")
    c = s - s.mean(axis=axis, keepdims=True)
    return (c ** 4).mean(axis=axis) / (c ** 2).mean(axis=axis) ** 2 - 3


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
    f = np.asarray(f, dtype=float)
    g = np.asarray(g, dtype=float)
    cov_inf = _square(cov_inf, "cov_inf")
    if f.ndim != 2 or f.shape != g.shape or f.shape[1] != cov_inf.shape[0] or f.shape[0] < 4:
        raise ValueError(f"f and g must both have shape (M ≥ 4, P) with P = {cov_inf.shape[0]}; got {f.shape}, "
                         f"{g.shape}")
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
        raise ValueError("f and g must be finite (did a network diverge?)")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 10:
        raise ValueError(f"n_boot must be an integer ≥ 10, got {n_boot!r}")
    M = f.shape[0]
    s2 = float(np.mean(np.diag(cov_inf)))
    c2 = float(np.mean(cov_inf ** 2))

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
