"""Explorer of part 6: the four scaling laws of the quanta model as the Zipf exponent and the world's size change.

Belongs to the chapter "Why does the loss fall smoothly while skills appear suddenly?"
(book/06_scaling/03_skills_and_quanta, §3). The multilinear model learns skill k, asked with frequency

    p_k = k^−(α+1) / Z,   Z = Σ_{j≤n_s} j^−(α+1),

along its own sigmoid s_k(t) = S / (1 + (S/s₀ − 1) e^{−2 S p_k t}), and the normalised loss is the weight of what
is not yet learned. Each panel draws the exact finite sum over the n_s skills of :mod:`course_utils.theory.quanta`
(lines) and the power law of a world without end (dotted), with its exponent:

(a) time        L(T) = Σ_k p_k (1 − s_k(T)/S)²               vs  A_T τ^(−α/(α+1)),  τ = 2ST   (T steps at η = 1)
(b) data        E L(D) = Σ_k p_k (1 − p_k)^D                  vs  A_D D^(−α/(α+1))
(c) parameters  L(N) = Σ_{k>N} p_k                            vs  [(N + ½)^(−α)]/(α Z_∞)
(d) compute     L*(C) = min_N L(N, T = C/N)                   vs  slope −α/(α+2) (its prefactor has no closed form:
                                                                   the line goes through the frontier at one C)

The dashed vertical line in each panel is where the counting rule runs out of skills, k*(X) = n_s: the time at
which skill n_s is half learned, D = 1/p_{n_s}, N = n_s, and C = n_s times that time. The finite sums bend
down from the power laws on the way there, once the Zipf tail beyond n_s, (n_s + ½)^(−α)/(α Z), is no longer
small against the loss; a heavier tail (smaller α) makes the bend start earlier.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from ..explore import Choice, Explorer, Slider
from ..plotting import PALETTE, panels
from ..theory import quanta

__all__ = ["explorer", "laws", "compute_frontier", "RANGES", "S0", "LOSS_FLOOR"]

#: The x range of each panel: steps T, samples D, skill units N, compute C = N · T.
RANGES = {"time": (1.0, 1e9), "data": (1.0, 1e9), "parameters": (1.0, 1e5), "compute": (10.0, 1e11)}
#: The initial strength s₀ = a₀² of every skill (the chapter's a₀ = 0.01); the target scale is S = 1.
S0 = 1e-4
#: Losses below this are left out of the log–log panels (a finite world reaches L = 0 exactly).
LOSS_FLOOR = 1e-7
_POINTS = 80


def compute_frontier(C, p, n_grid: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """:func:`course_utils.theory.quanta.compute_frontier` at η = S = 1, s₀ = :data:`S0`, computed faster.

    The same minimum over the same sizes N of L(N, T = C/N) = Σ_{k≤N} p_k (1 − s_k(T))² + Σ_{k>N} p_k, but each
    size sums its own N skills only (the library sums all n_s with a mask): a redraw at n_s = 10⁵ takes a
    fraction of a second instead of seconds. The tests check that both give the same frontier.
    """
    Ns = np.unique(np.round(np.geomspace(1, p.size, n_grid)).astype(int))
    tail = np.concatenate([np.cumsum(p[::-1])[::-1][1:], [0.0]])          # tail[N − 1] = Σ_{k>N} p_k
    L = np.full((C.size, Ns.size), np.inf)
    for j, N in enumerate(Ns):
        steps = C / N
        ok = steps >= 1                                                   # at least one step of training
        s = quanta.skill_strength(np.where(ok, steps, 1.0)[:, None], p[:N], 1.0, S0)
        L[:, j] = np.where(ok, np.sum(p[:N] * (1 - s) ** 2, axis=-1) + tail[N - 1], np.inf)
    best = np.argmin(L, axis=-1)
    return L[np.arange(C.size), best], Ns[best]


def laws(alpha: float, n_skills: int) -> dict[str, dict[str, np.ndarray]]:
    """Every curve of the figure: for each law, ``x``, the finite sum ``loss`` and the ``power_law`` of n_s = ∞.

    ``compute`` also has the optimal size ``N_opt``; each law has ``bend``, the x at which k*(x) = n_s.
    Gradient-flow time t = T (learning rate 1), S = 1, s₀ = :data:`S0`.
    """
    p = quanta.skill_probabilities(n_skills, alpha)
    exps = quanta.exponents(alpha)
    t_last = float(quanta.half_time(p[-1], 1.0, S0))               # skill n_s half learned
    out = {}

    T = np.geomspace(*RANGES["time"], _POINTS)
    A_T = quanta.time_law_prefactor(alpha, math.inf, 1.0, S0)
    out["time"] = dict(x=T, loss=quanta.loss_time(T, p, 1.0, S0), power_law=A_T * (2 * T) ** -exps["time"],
                       bend=t_last)

    D = np.geomspace(*RANGES["data"], _POINTS)
    out["data"] = dict(x=D, loss=quanta.expected_loss_data(D, p),
                       power_law=quanta.data_law_prefactor(alpha, math.inf) * D ** -exps["data"], bend=1 / p[-1])

    N = np.unique(np.round(np.geomspace(*RANGES["parameters"], _POINTS)).astype(int))
    N = N[N <= n_skills]
    out["parameters"] = dict(x=N.astype(float), loss=quanta.loss_parameters(N, p),
                             power_law=quanta.parameter_law_asymptote(N, alpha, math.inf), bend=float(n_skills))

    C = np.geomspace(*RANGES["compute"], 31)
    L_star, N_opt = compute_frontier(C, p)
    bend = n_skills * t_last
    anchor = min(int(np.searchsorted(C, math.sqrt(C[0] * min(bend, C[-1])))), C.size - 1)   # mid-way to the bend
    out["compute"] = dict(x=C, loss=L_star, N_opt=N_opt, anchor=C[anchor],
                          power_law=L_star[anchor] * (C / C[anchor]) ** -exps["compute"], bend=bend)
    return out


def _shown(values: np.ndarray) -> np.ndarray:
    """The values as drawn on a log axis: those below :data:`LOSS_FLOOR` (or exactly 0) become NaN."""
    values = np.asarray(values, dtype=float)
    return np.where(values > LOSS_FLOOR, values, np.nan)


def explorer() -> Explorer:
    """The scaling-law explorer: a slider for the Zipf exponent α and a choice of the number of skills n_s."""
    titles = {"time": ("(a) time", "gradient-descent steps $T$ ($\\eta = 1$)", "time"),
              "data": ("(b) data", "training-set size $D$ (samples)", "data"),
              "parameters": ("(c) parameters", "skill units $N$", "parameters"),
              "compute": ("(d) compute", "compute $C = N \\times T$ (unit-steps)", "compute")}
    exponent_text = {"time": "\\alpha/(\\alpha+1)", "data": "\\alpha/(\\alpha+1)", "parameters": "\\alpha",
                     "compute": "\\alpha/(\\alpha+2)"}

    def draw(alpha: float, n_skills: int) -> Figure:
        curves = laws(alpha, n_skills)
        exps = quanta.exponents(alpha)
        fig, axes = panels(4, panel_height=3.0)
        for i, (ax, (name, c)) in enumerate(zip(axes, curves.items())):
            title, xlabel, key = titles[name]
            colour = PALETTE[i]
            ax.plot(c["x"], _shown(c["loss"]), "-", color=colour, label=f"finite sum, $n_s = {n_skills:g}$")
            ax.plot(c["x"], _shown(c["power_law"]), ":", color="k", lw=1.5,
                    label=f"$n_s = \\infty$: slope $-{exponent_text[key]}$ = $-{exps[key]:.2f}$")
            lo, hi = RANGES[name]
            if lo < c["bend"] <= hi:
                ax.axvline(c["bend"], color="0.5", ls="--", lw=1, label="$k_* = n_s$")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlim(lo, hi)
            ax.set_ylim(LOSS_FLOOR, 2.0)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("test loss $L$ (normalised)" if i % 2 == 0 else "")
            ax.set_title(title, fontsize=10)
            ax.legend(fontsize=7.5, loc="lower left")
        tail = quanta.zipf_tail(n_skills, alpha)
        fig.suptitle(f"Quanta model, $\\alpha = {alpha:.2f}$: Zipf tail beyond $n_s$ = {tail:.1e}", fontsize=11)
        return fig

    controls = {"alpha": Slider(0.2, 3.0, default=1.0, label="Zipf exponent α"),
                "n_skills": Choice([10, 100, 1000, 10_000, 100_000], default=10_000, label="number of skills n_s")}
    return Explorer(draw, controls, title="Scaling laws of the quanta model")
