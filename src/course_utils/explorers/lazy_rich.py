"""Explorer of part 4: lazy versus rich learning as the four knobs of the scalar model are turned.

Belongs to the chapter "When does a network learn features, and when does it stay a kernel machine?"
(book/04_feature_learning/02_lazy_vs_rich). The model is the two-layer linear network of that chapter,

    f(x) = (γ x / Z) Σ_{i≤p} a_i b_i,   target y = S x,   a_i, b_i ~ N(0, α²),

started with zero output (ω = 0, the chapter's antisymmetric initialisation) and with its squared weight norm
at its mean, ‖θ₀‖² = 2pα². Its four knobs, the initialisation scale α, the target scale S, the input scale γ
and the output scale 1/Z, act only through the weight-to-target ratio

    ρ = γ ‖θ₀‖² / (2 Z S) = p γ α² / (Z S),

and gradient flow has the closed form of :class:`course_utils.theory.lazy_rich.ScalarModel`. The figure shows

(a) the relative weight change at convergence Δ(ρ) = ‖θ_∞ − θ₀‖/‖θ₀‖ (≈ 1/2ρ lazy, ≈ ρ^{-1/2} rich) with the
    current ρ marked, and the chapter's gradient-descent runs (if given) as markers;
(b) the output over the target, γ w(t)/S, against time in units of 1/λ, λ = (2γS/Z)√(1 + ρ²) the late-time rate,
    next to the prediction of a frozen tangent kernel, 1 − exp(−Θ₀ t) with Θ₀ = γ²‖θ₀‖²/Z² = λ ρ/√(1 + ρ²);
(c) the relative weight change ‖θ(t) − θ₀‖/‖θ₀‖ along the way;
(d) the numbers: ρ from the four knobs, Δ, the growth of the norm (1 + ρ^{-2})^{1/4} and the plateau.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from ..explore import Explorer, Slider
from ..plotting import PALETTE, panels
from ..theory import lazy_rich as theory

__all__ = ["explorer", "scalar_model", "KNOB_RANGES"]

#: The range of each knob's slider. Together they span ρ from p·10⁻⁷ to p·10⁴ (6.4e-6 … 6.4e5 at p = 64),
#: where Δ(ρ) is still computed to better than 10⁻³ (2(cosh τ∞ − 1) ≈ 1/4ρ² loses digits as ρ → ∞).
KNOB_RANGES = {"alpha": (0.1, 10.0), "S": (0.1, 10.0), "gamma": (0.1, 10.0), "output_scale": (1e-3, 1.0)}


def scalar_model(alpha: float, S: float, gamma: float, output_scale: float, p: int = 64) -> theory.ScalarModel:
    """The chapter's scalar model at these knobs, with ‖θ₀‖² = 2pα² (its mean) and w₀ = 0 (ω = 0)."""
    return theory.ScalarModel(norm_sq=2 * p * alpha ** 2, w0=0.0, target=S, input_scale=gamma, Z=1 / output_scale)


def explorer(measured: Mapping[str, tuple] | None = None, *, p: int = 64) -> Explorer:
    """The lazy/rich explorer: sliders for α, S, γ and 1/Z of a model with ``p`` hidden units.

    ``measured`` (optional) maps a label to ``(rho, change, ...)`` arrays of gradient-descent runs at ω = 0,
    e.g. the chapter's ``collapse`` dict of §4; they are drawn as markers on the theory curve. The defaults
    are the chapter's base point α = S = γ = 1, Z = √p (ρ = √p = 8 at p = 64, lazy).
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 2:
        raise ValueError(f"p (the number of hidden units) must be an integer >= 2, got {p!r}")
    runs = []
    for label, values in (measured or {}).items():
        rho_m, change_m = (np.asarray(v, dtype=float) for v in values[:2])
        if rho_m.shape != change_m.shape:
            raise ValueError(f"measured[{label!r}]: rho and change must have the same shape, "
                             f"got {rho_m.shape} and {change_m.shape}")
        runs.append((label, rho_m, change_m))
    (a_lo, a_hi), (s_lo, s_hi), (g_lo, g_hi), (o_lo, o_hi) = KNOB_RANGES.values()
    rho_range = (p * g_lo * a_lo ** 2 * o_lo / s_hi / 3, p * g_hi * a_hi ** 2 * o_hi / s_lo * 3)   # the ρ axis
    rho_line = np.geomspace(*rho_range, 400)
    delta_line = theory.relative_change_at_convergence(rho_line)

    def draw(alpha: float, S: float, gamma: float, output_scale: float) -> Figure:
        model = scalar_model(alpha, S, gamma, output_scale, p)
        rho = model.rho
        delta = model.relative_change_at_convergence()
        lam = model.rate
        fig, axes = panels(4, panel_height=3.0)

        # (a) the one-knob curve and where the knobs put the model on it
        ax = axes[0]
        ax.axvspan(rho_range[0], 1, color="0.92", zorder=-2)
        ax.plot(rho_line, delta_line, "k-", label="theory Δ(ρ)")
        ax.plot(rho_line, 1 / (2 * rho_line), ":", color="0.4", lw=1, label="lazy limit 1/2ρ")
        ax.plot(rho_line, rho_line ** -0.5, "--", color="0.4", lw=1, label="rich limit $\\rho^{-1/2}$")
        for i, (label, rho_m, change_m) in enumerate(runs):
            ax.plot(rho_m, change_m, "os^D"[i % 4], mfc="none", ms=4, color=PALETTE[(i + 1) % len(PALETTE)],
                    label=label)
        ax.plot([rho], [delta], "*", ms=14, color=PALETTE[1], mec="k", label="these knobs", zorder=5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(*rho_range)
        ax.set_ylim(0.3 / rho_range[1], 3 * rho_range[0] ** -0.5)
        ax.set_xlabel("weight-to-target ratio ρ")
        ax.set_ylabel("$\\|\\theta_\\infty - \\theta_0\\| / \\|\\theta_0\\|$")
        ax.set_title("(a) change at convergence", fontsize=10)
        ax.text(0.30, 0.92, "rich", transform=ax.transAxes, fontsize=10)
        ax.text(0.85, 0.92, "lazy", transform=ax.transAxes, fontsize=10)
        ax.legend(fontsize=7, loc="lower left", markerscale=0.6)

        # (b), (c) the trajectory in units of 1/λ, long enough for the rich plateau ln(1/ρ)
        x_end = max(math.log(2 / rho), 0.0) + 8.0
        x = np.linspace(0.0, x_end, 400)
        t = x / lam
        ax = axes[1]
        ax.plot(x, gamma * model.output(t) / S, "-", color=PALETTE[0], label="closed form")
        theta0 = rho / math.sqrt(1 + rho ** 2)                     # Θ₀/λ
        ax.plot(x, 1 - np.exp(-theta0 * x), ":", color="0.3", label="frozen tangent kernel")
        ax.set_ylim(-0.05, 1.08)
        ax.set_xlabel("time $t$ in units of $1/\\lambda$")
        ax.set_ylabel("output / target, $\\gamma w/S$")
        ax.set_title("(b) the output", fontsize=10)
        ax.legend(fontsize=8, loc="center right")

        ax = axes[2]
        ax.plot(x[1:], model.relative_change(t[1:]), "-", color=PALETTE[2], label="closed form")
        ax.axhline(delta, color="k", ls="--", lw=1, label=f"at convergence, Δ = {delta:.3g}")
        ax.set_yscale("log")
        ax.set_ylim(max(delta * 1e-3, 1e-9), delta * 5)
        ax.set_xlabel("time $t$ in units of $1/\\lambda$")
        ax.set_ylabel("$\\|\\theta_t - \\theta_0\\| / \\|\\theta_0\\|$")
        ax.set_title("(c) the weights", fontsize=10)
        ax.legend(fontsize=8, loc="lower right")

        # (d) the numbers
        ax = axes[3]
        ax.axis("off")
        regime = "lazy" if rho >= 3 else "rich" if rho <= 1 / 3 else "crossover, ρ ≈ 1"
        plateau = math.log(1 / rho) if rho < 1 else 0.0
        lines = [f"p = {p} units, ‖θ₀‖² = 2pα² = {model.norm_sq:.3g}",
                 f"ρ = pγα²/(ZS) = {rho:.3g}   ({regime})",
                 f"weights move by Δ = {delta:.3g}",
                 f"  lazy limit 1/2ρ = {1 / (2 * rho):.3g}",
                 f"  rich limit ρ^(−½) = {rho ** -0.5:.3g}",
                 f"norm grows by (1 + ρ⁻²)^¼ = {(1 + rho ** -2) ** 0.25:.3g}",
                 f"Θ₀/λ = ρ/√(1 + ρ²) = {theta0:.3g}",
                 f"plateau ≈ ln(1/ρ)/λ: λt ≈ {plateau:.2g}",
                 "ω = 0 (zero initial output)"]
        ax.text(0.0, 1.0, "\n".join(lines), transform=ax.transAxes, va="top", fontsize=9.5, linespacing=1.5)
        ax.set_title("(d) these knobs", fontsize=10)
        return fig

    controls = {
        "alpha": Slider(a_lo, a_hi, default=1.0, log=True, label="init scale α"),
        "S": Slider(s_lo, s_hi, default=1.0, log=True, label="target scale S"),
        "gamma": Slider(g_lo, g_hi, default=1.0, log=True, label="input scale γ"),
        "output_scale": Slider(o_lo, o_hi, default=min(max(1 / math.sqrt(p), o_lo), o_hi), log=True,
                               label="output scale 1/Z"),
    }
    return Explorer(draw, controls, title="Lazy or rich: four knobs, one ratio ρ")
