"""Explorer of part 3: the order/chaos phase of a deep random network against σ_w² and σ_b².

Belongs to the chapter "Wide networks as Gaussian processes" (book/03_wide_networks/01_nngp), §5, and
generalises its figure of the correlation map, the layer-by-layer correlations and the phase diagram to
any point of the (σ_w², σ_b²) plane. Everything drawn is the mean-field theory of
:mod:`course_utils.theory.kernels` and :mod:`course_utils.theory.signal_propagation` (Poole et al. 2016,
Schoenholz et al. 2017), for a network hˡ = Wˡ φ(hˡ⁻¹) + bˡ with W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²):

* the length map q ↦ σ_b² + σ_w² E_z[φ(√q z)²] and its fixed point q*;
* the correlation map at q*, M(c) = (σ_b² + σ_w² E[φ(u)φ(v)]) / q* with (u, v) ~ N(0, q*[[1, c], [c, 1]]),
  its stable fixed point c* and the correlations cˡ = M(cˡ⁻¹) of two inputs, layer by layer;
* χ₁ = σ_w² E_z[φ'(√q* z)²] = M'(1): ordered phase for χ₁ < 1 (c* = 1), chaotic for χ₁ > 1 (c* < 1),
  the edge of chaos at χ₁ = 1, drawn as the line χ₁ = 1 in the (σ_w², σ_b²) plane;
* the depth scales: |cˡ − c*| ∝ χ_cˡ = e^(−ℓ/ξ_c) near c*, with χ_c = M'(c*), and the squared gradient
  E‖δˡ‖² / E‖δᴸ‖² = χ₁^(L−ℓ) = e^(−(L−ℓ)/ξ_∇) (inputs at the fixed length q*).

Activations: tanh (the chapter's) and erf, both bounded, with the same phase diagram in shape. ReLU is
not offered: its length map has no fixed point for σ_w² > 2 (q grows without bound), and its edge of
chaos is the single point (σ_w², σ_b²) = (2, 0), which the chapter treats on its own.

No training happens in the callback. For tanh the expectations are nested quadratures, about 0.3 s of
CPU for one redraw; the phase map (χ₁ on a 36 × 31 grid) is computed once per activation, on its first
use (a few seconds), and kept, unless the chapter hands over the grid it computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..explore import Choice, Explorer, Slider
from ..plotting import PALETTE, panels
from ..theory import kernels
from ..theory import signal_propagation as sp

__all__ = ["explorer", "SIGMA_W2_RANGE", "SIGMA_B2_RANGE", "ACTIVATIONS", "phase_map", "layer_correlations"]

#: The ranges of the sliders (those of the chapter's phase diagram; σ_b² > 0, where q* > 0 for tanh and erf).
SIGMA_W2_RANGE = (0.5, 4.0)
SIGMA_B2_RANGE = (0.001, 0.3)
ACTIVATIONS = ("tanh", "erf")

_phase_maps: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def phase_map(activation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(σ_w² axis, σ_b² axis, χ₁ on the grid, shape (σ_b², σ_w²)), computed once per activation and kept."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {activation!r}")
    if activation not in _phase_maps:
        sw2 = np.linspace(*SIGMA_W2_RANGE, 36)
        sb2 = np.linspace(*SIGMA_B2_RANGE, 31)
        chi = kernels.chi1(activation=activation, sigma_w2=sw2[None, :], sigma_b2=sb2[:, None])
        _phase_maps[activation] = (sw2, sb2, np.asarray(chi))
    return _phase_maps[activation]


def layer_correlations(c0: Sequence[float], depth: int, *, q: float, activation: str, sigma_w2: float,
                       sigma_b2: float) -> np.ndarray:
    """cˡ = M(cˡ⁻¹) for ℓ = 0 … ``depth``, from each start in ``c0``: an array (depth + 1, len(c0))."""
    c = np.asarray(c0, dtype=float)
    out = [c]
    for _ in range(depth):
        c = np.clip(kernels.correlation_map(c, q=q, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2),
                    -1.0, 1.0)                                 # rounding can step past 1 by 1e-16
        out.append(c)
    return np.array(out)


def _layers(xi: float) -> str:
    """A depth scale for a title: ∞, a whole number of layers from 100 on, else three digits."""
    if not np.isfinite(xi):
        return "∞"
    return f"{xi:.0f}" if abs(xi) >= 100 else f"{xi:.3g}"


def explorer(depth: int = 30, starts: Sequence[float] = (0.6, 0.99), default_sigma_w2: float = 1.76,
             default_sigma_b2: float = 0.05,
             phase_maps: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None) -> Explorer:
    """The order/chaos explorer of the chapter's §5: ``depth`` layers, two inputs with correlations ``starts``.

    Sliders: σ_w² and σ_b² over the chapter's phase diagram, and the activation. The defaults are the
    chapter's: tanh, σ_b² = 0.05, and σ_w² = 1.76, next to its edge of chaos at this σ_b² (1.761).
    ``phase_maps`` may hand over χ₁ grids already computed, {activation: (σ_w² axis, σ_b² axis, χ₁ of shape
    (σ_b², σ_w²))} (the chapter's own grid for tanh); the others are computed by :func:`phase_map` on first use.
    """
    given = {}
    for name, grid in (phase_maps or {}).items():
        if name not in ACTIVATIONS:
            raise ValueError(f"phase_maps: activation must be one of {list(ACTIVATIONS)}, got {name!r}")
        sw2, sb2, chi = (np.asarray(a, dtype=float) for a in grid)
        if sw2.ndim != 1 or sb2.ndim != 1 or chi.shape != (sb2.size, sw2.size) or not np.all(chi > 0):
            raise ValueError(f"phase_maps[{name!r}] must be (σ_w² axis, σ_b² axis, positive χ₁ of shape "
                             f"(len(σ_b²), len(σ_w²))), got shapes {sw2.shape}, {sb2.shape}, {chi.shape}")
        given[name] = (sw2, sb2, chi)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or not 2 <= depth <= 200:
        raise ValueError(f"depth must be an integer from 2 to 200, got {depth!r}")
    starts = [float(c) for c in starts]
    if not starts or not all(-1.0 <= c < 1.0 for c in starts):
        raise ValueError(f"starts must be correlations in [-1, 1), got {starts!r}")
    L = int(depth)

    def draw(sigma_w2: float, sigma_b2: float, activation: str) -> Figure:
        theory = dict(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
        q = float(kernels.variance_fixed_point(**theory))
        chi = float(kernels.chi1(q=q, **theory))
        c_star = kernels.correlation_fixed_point(**theory)
        chi_c = sp.chi_c(**theory)
        phase = "ordered" if chi < 1 - 1e-3 else ("chaotic" if chi > 1 + 1e-3 else "edge of chaos")

        fig, axes = panels(4, panel_height=3.0)
        ax = axes[0]
        sw2_axis, sb2_axis, chi_grid = given[activation] if activation in given else phase_map(activation)
        im = ax.pcolormesh(sw2_axis, sb2_axis, np.log(chi_grid), cmap="RdBu_r", vmin=-1.2, vmax=1.2,
                           shading="nearest")
        fig.colorbar(im, ax=ax, label="$\\ln \\chi_1$")
        ax.contour(sw2_axis, sb2_axis, chi_grid, levels=[1.0], colors="k")
        ax.plot([sigma_w2], [sigma_b2], "*", color="k", mfc="yellow", ms=13, gid="point")
        ax.set_xlabel("weight variance $\\sigma_w^2$")
        ax.set_ylabel("bias variance $\\sigma_b^2$")
        ax.set_title(f"{activation}: {phase}, $\\chi_1$ = {chi:.3f}", fontsize=10)
        ax.grid(False)

        ax = axes[1]
        c_axis = np.linspace(-1.0, 1.0, 41)
        ax.plot(c_axis, kernels.correlation_map(c_axis, q=q, **theory), "-", color=PALETTE[0], gid="map",
                label="$M(c)$")
        ax.plot(c_axis, c_axis, ":", color="k", lw=1, label="$M(c) = c$")
        ax.plot([c_star], [c_star], "o", color=PALETTE[1], gid="c_star",
                label=f"stable fixed point $c^*$ = {c_star:.3f}")
        ax.set_xlabel("correlation $c^{\\ell-1}$")
        ax.set_ylabel("$c^{\\ell} = M(c^{\\ell-1})$")
        ax.set_title(f"correlation map at $q^*$ = {q:.3g}", fontsize=10)
        ax.legend(fontsize=8, loc="upper left")

        layers = np.arange(L + 1)
        c = layer_correlations(starts, L, q=q, **theory)
        ax = axes[2]
        for j, start in enumerate(starts):
            ax.plot(layers, c[:, j], "-", color=PALETTE[2 + j], gid=f"layers_{j}", label=f"$c^0$ = {start:g}")
        ax.axhline(c_star, color=PALETTE[1], ls="--", lw=1, label="$c^*$")
        ax.set_ylim(min(-0.05, c.min() - 0.05), 1.05)
        ax.set_xlabel("layer $\\ell$")
        ax.set_ylabel("correlation $c^\\ell$ of two inputs")
        ax.set_title("two inputs through the layers", fontsize=10)
        ax.legend(fontsize=8, loc="lower left")

        ax = axes[3]
        xi_c = np.inf if chi_c >= 1 else -1.0 / np.log(chi_c)
        xi_grad = np.inf if chi == 1 else -1.0 / np.log(chi)
        for j, start in enumerate(starts):
            ax.semilogy(layers, np.abs(c[:, j] - c_star), "-", color=PALETTE[2 + j], gid=f"distance_{j}",
                        label=f"$|c^\\ell - c^*|$, $c^0$ = {start:g}")
        ax.semilogy(layers, chi ** (L - layers), "-", color=PALETTE[4], gid="gradient",
                    label="$\\mathbb{E}\\|\\delta^\\ell\\|^2 / \\mathbb{E}\\|\\delta^L\\|^2 = \\chi_1^{L-\\ell}$")
        # e^(−ℓ/ξ_c) through the last layer still resolved (> 1e-9) of the start closest to c* there
        distances = np.abs(c - c_star)
        j = int(np.argmin(distances[-1]))
        resolved = np.flatnonzero(distances[:, j] > 1e-9)
        if resolved.size and chi_c < 1:
            k = resolved[-1]
            ax.semilogy(layers, distances[k, j] * chi_c ** (layers - k), "--", color="0.4", lw=1, gid="xi_c",
                        label="$\\propto e^{-\\ell/\\xi_c}$")
        drawn = np.concatenate([distances.ravel(), chi ** (L - layers)])
        drawn = drawn[drawn > 0]
        ax.set_ylim(max(1e-12, drawn.min() / 3), max(10.0, drawn.max() * 3))
        ax.set_xlabel("layer $\\ell$")
        ax.set_ylabel("distance, gradient (dimensionless)")
        ax.set_title(f"$\\xi_c$ = {_layers(xi_c)}, $\\xi_\\nabla$ = {_layers(xi_grad)} layers", fontsize=10)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower right", ncol=2, fontsize=8)  # no curve hidden
        return fig

    return Explorer(draw, {
        "sigma_w2": Slider(*SIGMA_W2_RANGE, default=default_sigma_w2, label="weight variance σ_w²"),
        "sigma_b2": Slider(*SIGMA_B2_RANGE, default=default_sigma_b2, label="bias variance σ_b²"),
        "activation": Choice(list(ACTIVATIONS), default="tanh", label="activation"),
    }, title=f"Order and chaos in a deep random network ({L} layers, mean-field theory)")
