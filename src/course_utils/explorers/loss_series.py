"""Explorer of part 2: how far along a ray the truncated expansion of the action tracks the loss.

Belongs to the chapter "The loss as an action" (book/02_action/01_loss_as_action), §3.2, and generalises
its figure of the partial sums along a ray. Along the ray tθ through a direction θ of the SiLU network's
parameters, the action (the cross-entropy) has the Taylor series

    S(tθ) = S₀ + S₂(θ) t² + S₃(θ) t³ + S₄(θ) t⁴ + S₅(θ) t⁵ + …      (S₀ = ln M, S₁ = 0),

whose terms the chapter derives in closed form (:func:`course_utils.theory.action.closed_form_taylor_terms`).
The partial sum up to S_K misses S(tθ) by the omitted terms, to leading order |S_(K+1)| t^(K+1), and the
terms known in closed form (up to S₅) predict the whole error where t is small; further out the terms
beyond S₅ take over and the expansion stops describing the loss.

Why this quantity: of everything in the chapter, the distance t from θ = 0 is what decides whether the
expansion describes the network (the small initialisation of §3.3 lies at t = 10⁻³ on such a ray, PyTorch's
default draw at t = 1), and the order K is what a reader would change to see whether more terms help.

What is drawn: markers are the network's action S(tθ), evaluated once per point when the ray is prepared
(:func:`along_ray`; the "experiment"); lines are the partial sums and the omitted terms, from the closed
forms (theory). The callback only sums the six stored coefficients, so a redraw takes a few hundredths of
a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib.figure import Figure

from ..explore import Choice, Explorer, Slider
from ..models.silu_net import action
from ..plotting import PALETTE, panels
from ..theory import action as theory

__all__ = ["Ray", "along_ray", "partial_sum", "omitted_terms", "explorer", "T_RANGE"]

#: The stretch of the ray the explorer can show: from 10⁻² to 3 (PyTorch's default draw is t = 1).
T_RANGE = (1e-2, 3.0)


@dataclass(frozen=True)
class Ray:
    """The action along a ray tθ: its Taylor terms ``terms`` = [S₀, …, S₅] and its values ``action`` at ``t``."""

    terms: np.ndarray
    t: np.ndarray
    action: np.ndarray

    def __post_init__(self) -> None:
        terms, t, s = (np.asarray(a, dtype=float) for a in (self.terms, self.t, self.action))
        if terms.shape != (6,) or not np.all(np.isfinite(terms)):
            raise ValueError(f"terms must be the six finite numbers [S0, …, S5], got shape {terms.shape}")
        if t.ndim != 1 or t.size < 2 or t.shape != s.shape:
            raise ValueError(f"t and action must be 1-d arrays of the same length ≥ 2, got {t.shape} and {s.shape}")
        if not (np.all(np.diff(t) > 0) and t[0] > 0):
            raise ValueError("t must be positive and increasing")
        if not np.all(np.isfinite(s)):
            raise ValueError("the action along the ray must be finite")
        if t[0] > T_RANGE[0] * (1 + 1e-9) or t[-1] < T_RANGE[1] * (1 - 1e-9):
            raise ValueError(f"t must cover the explorer's range {T_RANGE}, got [{t[0]:g}, {t[-1]:g}]")


def along_ray(params: dict, z: torch.Tensor, y: torch.Tensor, M: int, *, terms=None, points: int = 60) -> Ray:
    """Prepare a ray for the explorer: the closed-form terms (or ``terms`` if already computed) and the
    network's action S(tθ) at ``points`` values of t spaced logarithmically over :data:`T_RANGE`.

    ``params`` is the direction θ (a dict U, W, b of float64 tensors), ``z``, ``y`` the data and ``M`` the
    number of classes, as for :func:`course_utils.theory.action.closed_form_taylor_terms`.
    """
    if isinstance(points, bool) or not isinstance(points, int) or points < 10:
        raise ValueError(f"points must be an integer ≥ 10, got {points!r}")
    if terms is None:
        terms = theory.closed_form_taylor_terms(params, z, y, M)
    t = np.geomspace(*T_RANGE, points)
    with torch.no_grad():
        values = np.array([float(action({k: s * v for k, v in params.items()}, z, y)) for s in t])
    return Ray(np.asarray(terms, dtype=float), t, values)


def partial_sum(terms: np.ndarray, K: int, t: np.ndarray) -> np.ndarray:
    """S₀ + S₁t + … + S_K t^K."""
    return sum(terms[k] * t**k for k in range(K + 1))


def omitted_terms(terms: np.ndarray, K: int, t: np.ndarray) -> np.ndarray:
    """The terms known in closed form that the partial sum up to S_K leaves out: S_(K+1) t^(K+1) + … + S₅ t⁵."""
    return sum(terms[k] * t**k for k in range(K + 1, len(terms)))


def _spread(t: np.ndarray, gap: float) -> np.ndarray:
    """Indices of points of the increasing array t at least ``gap`` apart (so markers do not pile up)."""
    keep, last = [], -np.inf
    for i, value in enumerate(t):
        if value - last >= gap:
            keep.append(i)
            last = value
    return np.array(keep, dtype=int)


def explorer(rays: Mapping[str, Ray]) -> Explorer:
    """The explorer of the chapter's §3.2: one ray per name in ``rays`` (e.g. the synthetic data and the digits).

    Controls: the order K of the partial sum (1 to 4: the error of K = 4 is predicted by S₅, the last term
    known in closed form), how far along the ray to look (t up to 3, log scale) and the ray.
    """
    if not isinstance(rays, Mapping) or not rays or not all(isinstance(r, Ray) for r in rays.values()):
        raise ValueError("rays must be a non-empty dict {name: Ray} (see along_ray)")
    rays = dict(rays)

    def draw(order: int, t_max: float, direction: str) -> Figure:
        ray = rays[direction]
        K, terms = order, ray.terms
        shown = ray.t <= t_max * (1 + 1e-9)
        t, S = ray.t[shown], ray.action[shown]
        t_fine = np.linspace(0.0, t_max, 300)
        fig, (ax1, ax2) = panels(2, panel_height=3.4)

        # drawn relative to S₀ = ln M, so that a change of 10⁻⁶ nats reads as such
        spaced = _spread(t, t_max / 25)
        ax1.plot(t[spaced], S[spaced] - terms[0], "o", color="k", mfc="none", gid="action",
                 label="$S(t\\theta)$, the network")
        ax1.plot(t_fine, partial_sum(terms, K, t_fine) - terms[0], "-", color=PALETTE[0], gid="partial_sum",
                 label=f"theory: $S_0 + \\dots + S_{K}t^{K}$")
        if K != 2:
            ax1.plot(t_fine, partial_sum(terms, 2, t_fine) - terms[0], ":", color="0.4", gid="quadratic",
                     label="the quadratic action $S_0 + S_2t^2$")
        ax1.set_xlim(0, t_max)
        low, high = min(S.min() - terms[0], 0.0), max(S.max() - terms[0], 0.0)
        span = high - low if high > low else 1e-3
        ax1.set_ylim(low - 0.6 * span, high + 0.6 * span)
        ax1.set_xlabel("position on the ray $t$ (dimensionless)")
        ax1.set_ylabel("action minus $S_0 = \\ln M$ (nats)")
        ax1.set_title(f"{direction}: the series up to $S_{K}$", fontsize=10)
        ax1.legend(fontsize=8, loc="best")

        error = np.abs(S - partial_sum(terms, K, t))
        ax2.loglog(t, error, "o", color="k", mfc="none", ms=4, gid="error",
                   label="$|S(t\\theta) - \\sum_{k\\leq K} S_k t^k|$")
        ax2.loglog(t, np.abs(omitted_terms(terms, K, t)), "-", color=PALETTE[1], gid="omitted",
                   label=f"theory: $|S_{{{K + 1}}}t^{{{K + 1}}}" + (" + \\dots + S_5t^5|$" if K < 4 else "|$"))
        ax2.loglog(t, np.abs(terms[K + 1]) * t ** (K + 1), "--", color=PALETTE[2], lw=1, gid="leading",
                   label=f"leading: $|S_{{{K + 1}}}|\\,t^{{{K + 1}}}$")
        floor = 1e-15 * max(1.0, abs(terms[0]))                 # rounding of S ≈ ln M in float64
        ax2.axhspan(1e-18, floor, color="0.9", lw=0, label="float64 rounding")
        ax2.set_ylim(1e-17, max(1.0, 3 * np.max(error)))
        ax2.set_xlim(T_RANGE[0], t_max)
        ax2.set_xlabel("position on the ray $t$ (dimensionless)")
        ax2.set_ylabel("error of the partial sum (nats)")
        ax2.set_title(f"error $\\propto t^{{{K + 1}}}$ while $t$ is small", fontsize=10)
        ax2.legend(fontsize=7, loc="lower right")
        for ax in (ax1, ax2):
            if t_max > 1.05:
                ax.axvline(1.0, color="0.6", lw=0.8, ls="--")
                ax.text(1.0, 0.5, "PyTorch's default scale ", transform=ax.get_xaxis_transform(), rotation=90,
                        ha="right", va="center", fontsize=8, color="0.4")
        return fig

    names = list(rays)
    return Explorer(draw, {
        "order": Slider(1, 4, default=2, integer=True, label="order K of the partial sum"),
        "t_max": Slider(0.03, T_RANGE[1], default=2.0, log=True, label="largest t shown"),
        "direction": Choice(names, default=names[0], label="ray"),
    }, title="The truncated expansion of the action along a ray $t\\theta$")
