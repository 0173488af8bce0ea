"""Explorer of part 1: double descent against label noise, ridge, the teacher's decay and the sample size.

Belongs to the chapter "Linear models and gradient flow" (book/01_foundations/01_linear_models), §3.4,
and generalises its double-descent figure. The set-up is the chapter's exactly solvable case: D isotropic
Gaussian features x ~ N(0, I_D), a teacher y = x·w* + σξ with w*_j² ∝ j^(−a) (‖w*‖ = 1; the chapter
has a = 1), and a model that sees the first P features and is fitted to N samples by ridge regression.
The unseen features act on the model as extra label noise of variance ‖w*_unseen‖². Everything drawn is
theory, from :mod:`course_utils.theory.linear`:

* the self-consistent (deterministic-equivalent) test error of ridge ρ, :func:`~course_utils.theory.linear.ridge_risk`
  with Σ = I_P and effective noise σ_eff² = σ² + ‖w*_unseen‖²:

      κ = ρ + (κ/N) Σ_i λ_i/(λ_i + κ),   γ = (1/N) Σ_i λ_i²/(λ_i + κ)²,
      E = σ_eff² + bias + variance,
      bias = κ² Σ_i λ_i w*_i²/(λ_i + κ)² / (1 − γ),   variance = σ_eff² γ/(1 − γ);

* the exact finite-N test error of the ridgeless (minimum-norm) fit, Belkin, Hsu and Xu's formula,
  :func:`~course_utils.theory.linear.min_norm_risk_isotropic` (infinite for N − 1 ≤ P ≤ N + 1);
* the same theory at the ridge tuned separately at every P, ρ*(P) = σ_eff² P / (N ‖w*_seen‖²)
  (the answer to the chapter's exercise on the optimal ridge), which has no peak.

The right panel splits the error at the chosen ridge into its parts: the peak at P = N is the variance,
the noise amplified by the error feedback 1/(1 − γ). No training happens in the callback: each redraw
evaluates the closed forms at every P from 1 to D (a few hundredths of a second).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..explore import Explorer, Slider
from ..plotting import PALETTE, panels
from ..theory import linear as theory

__all__ = ["explorer", "teacher", "optimal_ridge", "curves"]


def teacher(n_features: int, decay: float) -> np.ndarray:
    """The teacher's weights w*_j ∝ j^(−decay/2), j = 1 … D, with ‖w*‖ = 1 (so w*_j² ∝ j^(−decay))."""
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 2:
        raise ValueError(f"n_features must be an integer ≥ 2, got {n_features!r}")
    if not np.isfinite(decay) or decay < 0:
        raise ValueError(f"decay must be a number ≥ 0, got {decay!r}")
    w = np.arange(1, n_features + 1, dtype=float) ** (-decay / 2)
    return w / np.linalg.norm(w)


def optimal_ridge(w_star: np.ndarray, P: int, noise: float, n_samples: int) -> float:
    """ρ*(P) = σ_eff² P / (N ‖w*_seen‖²), σ_eff² = σ² + ‖w*_unseen‖²: the best ridge on P isotropic features."""
    seen, unseen = np.sum(w_star[:P] ** 2), np.sum(w_star[P:] ** 2)
    return float((noise**2 + unseen) * P / (n_samples * seen))


def curves(noise: float, ridge: float, decay: float, n_samples: int, n_features: int) -> dict[str, np.ndarray]:
    """Every curve the explorer draws, as arrays over P = 1 … D (inf where the theory says infinite)."""
    if not n_samples >= 2:
        raise ValueError(f"n_samples must be at least 2, got {n_samples!r}")
    w_star = teacher(n_features, decay)
    P = np.arange(1, n_features + 1)
    out = {name: np.empty(P.size) for name in
           ("test_error", "bias", "variance", "unseen", "exact_ridgeless", "tuned")}
    out["P"] = P
    for i, p in enumerate(P):
        unseen = float(np.sum(w_star[p:] ** 2))
        noise_eff = np.sqrt(noise**2 + unseen)
        risk = theory.ridge_risk(np.ones(p), w_star[:p], noise_eff, n_samples, ridge)
        out["test_error"][i], out["bias"][i], out["variance"][i] = risk.test_error, risk.bias, risk.variance
        out["unseen"][i] = unseen
        out["exact_ridgeless"][i] = theory.min_norm_risk_isotropic(n_samples, p, 1.0 - unseen, unseen, noise)
        rho_star = optimal_ridge(w_star, p, noise, n_samples)
        out["tuned"][i] = theory.ridge_risk(np.ones(p), w_star[:p], noise_eff, n_samples, rho_star).test_error
    return out


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


def explorer(n_features: int = 400, n_samples: int = 100, noise: float = 0.2) -> Explorer:
    """The double-descent explorer of the chapter's §3.4 (D = ``n_features`` isotropic features, as there).

    Sliders: label noise σ (from 0 to 1), ridge ρ (log scale, 10⁻⁴ to 10), the teacher's decay a
    (w*_j² ∝ j^(−a), from 0 to 2) and the number of samples N (from 20 to min(300, D − 20)). The defaults
    are the chapter's: N = ``n_samples``, σ = ``noise``, ρ = 0.01 and a = 1.
    """
    if isinstance(n_features, bool) or not isinstance(n_features, (int, np.integer)) or n_features < 60:
        raise ValueError(f"n_features must be an integer ≥ 60, got {n_features!r}")
    D = int(n_features)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) \
            or not 20 <= n_samples <= min(300, D - 20):
        raise ValueError(f"n_samples must be an integer from 20 to {min(300, D - 20)}, got {n_samples!r}")
    if not (isinstance(noise, (int, float, np.floating)) and 0 <= noise <= 1):
        raise ValueError(f"noise must be a number from 0 to 1, got {noise!r}")

    def draw(noise: float, ridge: float, decay: float, samples: int) -> Figure:
        c = curves(noise, ridge, decay, samples, D)
        P = c["P"]
        fig, (ax1, ax2) = panels(2, panel_height=3.4)
        ax1.plot(P, _finite_or_nan(c["exact_ridgeless"]), ":", color="k", gid="exact_ridgeless",
                 label="no ridge: exact (Belkin–Hsu–Xu)")
        ax1.plot(P, c["test_error"], "-", color=PALETTE[0], gid="test_error",
                 label=f"ridge $\\rho$ = {ridge:.3g}: theory")
        ax1.plot(P, c["tuned"], "--", color=PALETTE[2], gid="tuned", label="ridge tuned at every $P$")
        ax2.plot(P, c["bias"], "-", color=PALETTE[1], gid="bias", label="bias (seen part of $w^*$)")
        ax2.plot(P, c["variance"], "-", color=PALETTE[0], gid="variance", label="variance (noise amplified)")
        ax2.plot(P, c["unseen"], "-.", color=PALETTE[3], gid="unseen",
                 label="unseen part of $w^*$, $\\sum_{j>P} w_j^{*2}$")
        if noise > 0:                                    # σ² = 0 has no place on a log axis
            ax2.axhline(noise**2, color="0.5", lw=1, gid="label_noise", label="label noise $\\sigma^2$")
        everything = np.concatenate([c[k][np.isfinite(c[k]) & (c[k] > 0)]
                                     for k in ("test_error", "tuned", "exact_ridgeless")])
        top = 30.0 * (1.0 + noise**2)
        bottom = max(0.5 * everything.min(), 1e-3)
        for ax, low in ((ax1, bottom), (ax2, 1e-3)):
            ax.axvline(samples, color="0.5", lw=0.8)
            ax.text(samples + D / 100, low * 1.3, "$P = N$", color="0.4", fontsize=9)
            ax.set_yscale("log")
            ax.set_ylim(low, top)
            ax.set_xlim(0, D)
            ax.set_xlabel(f"features seen $P$ (of $D$ = {D})")
        ax1.set_ylabel("test error $E$ (units of $\\|w^*\\|^2$)")
        ax1.set_title(f"$N$ = {samples} samples, $\\sigma$ = {noise:.2g}")
        ax2.set_title(f"$E$ = bias + variance + unseen + $\\sigma^2$ ($\\rho$ = {ridge:.3g})", fontsize=10)
        ax1.legend(fontsize=8, loc="upper right")
        ax2.legend(fontsize=8, loc="upper right")
        return fig

    return Explorer(draw, {
        "noise": Slider(0.0, 1.0, default=float(noise), label="label noise σ"),
        "ridge": Slider(1e-4, 10.0, default=0.01, log=True, label="ridge ρ"),
        "decay": Slider(0.0, 2.0, default=1.0, label="teacher decay a (w*ⱼ² ∝ j^−a)"),
        "samples": Slider(20, min(300, D - 20), default=int(n_samples), integer=True, label="samples N"),
    }, title="Double descent: test error of ridge regression on the first P features")
