"""The teacher–student random-feature model of the chapter "Variance-limited and resolution-limited
scaling" (book/06_scaling/02_variance_and_resolution), after Bahri et al. (2024) and Maloney, Roberts & Sully (2022).

* features x ∈ R^M, x ~ N(0, Λ), Λ = diag(λ) (a power law λ_i = i^(−(1+α)) in the chapter);
* teacher y = w·x, w ~ N(0, I_M) redrawn for every draw (the isotropic prior), no label noise;
* student f(x) = θ·(Vx) on P random projections, V ∈ R^(P×M) standard normal, θ the least-squares
  fit of minimum norm to D samples (ridgeless; gradient descent from θ = 0 converges to it);
* test loss L = E_x (f(x) − y)² = ‖Λ^(1/2)(Vᵀθ − w)‖², computed exactly (no test set).

Each function returns the loss for a list of sizes from *nested* data (the first D rows of one
sample, the first P rows of one V), as a learning curve does, for ``draws`` independent draws
(a Python loop over draws, vectorised inside: one QR or one Gram matrix per draw).
"""

from __future__ import annotations

import numpy as np

from .. import validate
from ..validate import ArgumentError

__all__ = ["resolution_limited_losses", "variance_limited_losses"]


def _check(spectrum, sizes, draws, rng, below_m=True):
    """(λ, sizes as ints, draws, rng): λ_i > 0 finite, sizes increasing whole numbers ≥ 1, draws ≥ 1."""
    lam = validate.array("spectrum", spectrum, ndim=1)
    if np.any(lam <= 0):
        raise ArgumentError("spectrum must be a 1-d array of positive variances")
    raw = validate.array("sizes", sizes, ndim=1)
    if np.any(raw != np.round(raw)) or np.any(raw < 1) or np.any(np.diff(raw) <= 0):
        raise ArgumentError(f"sizes must be increasing positive integers, got {raw.tolist()}")
    sizes = np.asarray(sizes, dtype=int)
    if below_m and sizes[-1] >= lam.size:
        raise ArgumentError(f"the largest of sizes ({sizes[-1]}) must stay below the number of features M = {lam.size} "
                            f"(the length of spectrum)")
    draws = validate.positive_int("draws", draws)
    rng = validate.generator("rng", rng)
    return lam, sizes, draws, rng


def resolution_limited_losses(spectrum, sizes, *, limit: str, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Losses when only one of D and P is finite; shape (draws, len(sizes)).

    ``limit="data"``: P = ∞, D = size. The student is then min-norm regression on x itself
    (the projected kernel xᵀVᵀVx'/P → x·x'): ŵ = Π w, the projection of w onto the span of the
    D sample vectors, and L = ‖Λ^(1/2)(I − Π)w‖².
    ``limit="features"``: D = ∞, P = size. The student is the best linear fit on Vx:
    L = ‖(I − Π')Λ^(1/2)w‖², with Π' the projection onto the span of the columns of Λ^(1/2)Vᵀ.
    In both cases the spanning vectors are columns of Λ^(1/2)Gᵀ with G Gaussian (rows of the data
    GΛ^(1/2), or rows of V), so averaged over w the two limits have the same distribution: the
    D ↔ P duality.
    """
    lam, sizes, draws, rng = _check(spectrum, sizes, draws, rng)
    limit = validate.choice("limit ('data': P = ∞, or 'features': D = ∞)", limit, ("data", "features"))
    sqrt_lam = np.sqrt(lam)
    out = np.empty((draws, sizes.size))
    for b in range(draws):
        w = rng.standard_normal(lam.size)
        G = rng.standard_normal((sizes[-1], lam.size))
        Q, _ = np.linalg.qr((G * sqrt_lam).T)  # (M, N_max): nested orthonormal bases of the spans
        s = sqrt_lam * w
        if limit == "features":
            # ‖(I − Π_N) s‖² = ‖s‖² − Σ_(k≤N) (q_k·s)²
            explained = np.cumsum((Q.T @ s) ** 2)
            out[b] = s @ s - explained[sizes - 1]
        else:
            c = Q.T @ w
            U = sqrt_lam[:, None] * Q
            for j, n in enumerate(sizes):
                r = s - U[:, :n] @ c[:n]
                out[b, j] = r @ r
    return out


def variance_limited_losses(spectrum, n_fixed: int, sizes, *, vary: str, draws: int,
                            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-averaged losses at a fixed smaller size and a growing larger one.

    Returns (losses (draws, len(sizes)), limits (draws,)). ``vary="data"``: P = ``n_fixed``
    projections (one V per draw), D = sizes > P samples, θ the ordinary least-squares fit; the limit
    D = ∞ is the best fit on Vx. ``vary="features"``: D = ``n_fixed`` samples (one data set per draw),
    P = sizes > D projections, θ = Zᵀ(ZZᵀ)⁻¹y the min-norm interpolator; the limit P = ∞ is min-norm
    regression on x. The learned weights are linear in the teacher, ŵ = Vᵀθ = Rw, so the loss
    averaged over w ~ N(0, I) is a trace, computed exactly instead of drawing w:

        E_w L = ‖Λ^(1/2)(R − I)‖²_F = tr Λ − 2 tr(ΛR) + tr(RᵀΛR),

    and the limits are tr Λ − tr(QᵀΛQ), Q an orthonormal basis of the span of Λ^(1/2)Vᵀ (resp. of Xᵀ).
    The loss minus its limit falls as 1/size: the variance-limited regime.
    """
    lam, sizes, draws, rng = _check(spectrum, sizes, draws, rng, below_m=False)
    vary = validate.choice("vary ('data': D grows at fixed P, or 'features': P grows at fixed D)", vary,
                           ("data", "features"))
    n_fixed = validate.positive_int("n_fixed", n_fixed)
    if sizes[0] < n_fixed + 2:
        raise ArgumentError(f"n_fixed must be a positive integer with every size ≥ n_fixed + 2, "
                            f"got n_fixed={n_fixed!r} "
                         f"and sizes from {sizes[0]}")
    if n_fixed >= lam.size:
        raise ArgumentError(f"n_fixed must stay below the number of features M = {lam.size} (the length of spectrum)")
    sqrt_lam, trace = np.sqrt(lam), lam.sum()
    losses, limits = np.empty((draws, sizes.size)), np.empty(draws)
    for b in range(draws):
        if vary == "data":
            V = rng.standard_normal((n_fixed, lam.size))
            X = rng.standard_normal((sizes[-1], lam.size)) * sqrt_lam
            Q, _ = np.linalg.qr((V * sqrt_lam).T)
        else:
            X = rng.standard_normal((n_fixed, lam.size)) * sqrt_lam
            V = rng.standard_normal((sizes[-1], lam.size))
            Q, _ = np.linalg.qr(X.T)
        limits[b] = trace - np.sum(lam[:, None] * Q ** 2)
        Z = X @ V.T
        for j, n in enumerate(sizes):
            if vary == "data":
                # R = Vᵀ S with S = (ZᵀZ)⁻¹ZᵀX (P × M)
                Zn = Z[:n]
                S = np.linalg.solve(Zn.T @ Zn, Zn.T @ X[:n])
                tr_lam_r = np.sum(S * (V * lam))
                tr_rlr = np.sum(((V * lam) @ V.T) * (S @ S.T))
            else:
                # R = B X with B = Vᵀ Zᵀ (ZZᵀ)⁻¹ (M × D)
                Zn = Z[:, :n]
                B = V[:n].T @ np.linalg.solve(Zn @ Zn.T, Zn).T
                tr_lam_r = np.sum(X.T * (lam[:, None] * B))
                tr_rlr = np.sum((B.T @ (lam[:, None] * B)) * (X @ X.T))
            losses[b, j] = trace - 2 * tr_lam_r + tr_rlr
    return losses, limits
