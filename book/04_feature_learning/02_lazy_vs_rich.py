# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # When does a network learn features, and when does it stay a kernel machine?
#
# [The NTK chapter](../03_wide_networks/02_ntk.ipynb) ended with a network that hardly moves:
# wide, in the NTK parameterisation, it trains as its linearisation, a kernel machine with
# frozen random features. That is the **lazy** regime {cite:p}`chizat2019lazy`. Real networks
# learn features: their weights move far from initialisation and their hidden representations
# reorganise around the task. That is the **rich** regime {cite:p}`woodworth2020kernel,geiger2020disentangling`.
# What decides between the two? We solve a two-layer linear model exactly and find that one
# number, the ratio of the initial weights to the weights the target needs, decides, and that
# four apparently different knobs (initialisation scale, target scale, input scale, output
# scale) all turn it. Then we measure the same transition in a real network on handwritten
# digits: how far its weights and its tangent kernel move, and whether its learned features are
# *minimal* (few, aligned with the classes) or *extended* (many, random).
#
# **Prerequisites:** [Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb)
# (tangent kernel, lazy training, the NTK parameterisation).
# **Runs in:** two to three minutes on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# adds seeds, widths and training samples (several minutes; the models stay small enough for a CPU).
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/04_feature_learning/02_lazy_vs_rich.ipynb)
# of this chapter, without the solutions (they are in the book).

# %% tags=["hide-input"]
# Set-up. On Colab this installs the course's shared package at the release this notebook was
# made with (and nothing else: Colab's torch, numpy and matplotlib are kept); elsewhere it does
# nothing. Another version on Colab: first run `%env COURSE_REF=main` (a branch, tag or commit).
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    ref = os.environ.get("COURSE_REF", "v0.2.0")  # the release pinned by tools/release.py
    url = f"git+https://github.com/physics-of-learning/physics-of-learning@{ref}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", url],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        raise RuntimeError(
            f"Could not install course_utils from {url}\n{pip.stderr.strip()[-2000:]}\n\n"
            f"Likely causes: no network, or no tag {ref} in the repository. To install the newest "
            "code instead (it may not match this notebook exactly), run `%env COURSE_REF=main` in a "
            "new cell, then run this cell again.") from None

import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import course_utils as cu
from course_utils import diagnostics
from course_utils.data.classification import load_digits, standardize, train_val_split
from course_utils.exercises import lazy_rich as exercises
from course_utils.models.mlp import MLP
from course_utils.models.scaled_init import train_scaled_relu_net, train_scaled_relu_nets
from course_utils.theory import lazy_rich as theory
from course_utils.theory.ntk_empirical import empirical_ntk

cu.use_house_style()
# Small models: one CPU thread is the fastest device; float64 keeps rounding far below the effects.
device = cu.setup(device="cpu")
torch.set_default_dtype(torch.float64)

# %% [markdown]
# ## Parameters
#
# The scalar model costs nothing; the networks are one- and two-hidden-layer MLPs on a few
# hundred digits. `COURSE_SCALE=paper` averages over more seeds and goes to wider networks.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        p=64, knob_points=7, ntk_widths=(4, 16, 64, 256, 1024, 4096), width_draws=64,  # §3–4 scalar model
        mlp_per_class=20, mlp_width=256, mlp_alphas=(0.0625, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),  # §5
        mlp_widths=(64, 128, 256, 512, 1024, 2048), lazy_steps=400, rich_steps=2500, seeds=1, lazy_seeds=3,
        mf_per_class=30, mf_val_per_class=50, mf_width=256, mf_steps=600,  # §6
    ),
    paper=dict(ntk_widths=(4, 16, 64, 256, 1024, 4096, 16384),
               mlp_widths=(64, 128, 256, 512, 1024, 2048, 4096, 8192), seeds=4, lazy_seeds=6,
               mf_per_class=50, mf_val_per_class=100, mf_width=512, mf_steps=1000),
)
P

# %% [markdown]
# ## 1. The model
#
# The smallest network that has to *learn* something about its own weights is a two-layer
# linear network with one input and one output: $p$ hidden units with input weights $a_i$ and
# output weights $b_i$,
#
# $$
# f(x) = \frac{\gamma x}{Z}\sum_{i=1}^p a_i b_i \equiv \gamma\, w\, x, \qquad
# w = \frac1Z\sum_{i=1}^p a_i b_i,
# $$ (eq-lazyrich-model)
#
# trained by gradient flow on the target $y = S x$. It has four scales: the initial weights
# $a_i, b_i\sim\mathcal N(0,\alpha^2)$ (**initialisation scale** $\alpha$), the **target scale**
# $S$, the **input scale** $\gamma$ (the network sees $\gamma x$ but must still output $Sx$) and the
# **output scale** $1/Z$. $Z = \sqrt p$ is the NTK parameterisation of the previous part, $Z = p$ the
# mean-field one. With inputs of unit variance, $\mathbb E[x^2] = 1$, the loss is
# $L = \frac12\mathbb E[(f(x) - Sx)^2] = \frac12(\gamma w - S)^2$: the network can only ever learn
# one number, $\gamma w = S$. What is interesting is *how* its $2p$ weights get there. (This scalar
# network, and the reading of lazy versus rich through its weight-to-target ratio and four knobs below,
# follow {cite:t}`nam2025position`; the closed-form solution is derived here in full.)
#
# ## 2. The exact solution
#
# **Equations of motion.** Gradient flow $\dot\theta = -\nabla_\theta L$ gives
#
# $$
# \dot a_i = g\, b_i,\qquad \dot b_i = g\, a_i,\qquad g(t) = \frac{\gamma}{Z}\bigl(S - \gamma w(t)\bigr),
# $$ (eq-lazyrich-eom)
#
# the same scalar $g$ for every unit. Two consequences. First, $\frac{d}{dt}(a_i^2 - b_i^2) =
# 2g(a_ib_i - b_ia_i) = 0$: each unit conserves $\delta_i = a_i^2 - b_i^2$ (the layers stay as
# unbalanced as they started; {cite:t}`saxe2014exact` solve the balanced case $\delta_i = 0$, {cite:t}`kunin2024get`
# follow general $\delta_i$). Second, with the **rapidity** $\tau(t) = \int_0^t g\,dt'$ the
# equations are linear, $da_i/d\tau = b_i$, $db_i/d\tau = a_i$, and solved by a Lorentz boost:
#
# $$
# \begin{pmatrix}a_i(\tau)\\ b_i(\tau)\end{pmatrix} =
# \begin{pmatrix}\cosh\tau & \sinh\tau\\ \sinh\tau & \cosh\tau\end{pmatrix}
# \begin{pmatrix}a_i(0)\\ b_i(0)\end{pmatrix}.
# $$ (eq-lazyrich-boost)
#
# (The conserved $a_i^2 - b_i^2$ is the boost's invariant "interval".) Multiplying out,
# $a_ib_i(\tau) = \frac12(a_i^2 + b_i^2)\sinh 2\tau + a_ib_i\cosh 2\tau$ with initial values on the right.
# Summing over units, only two numbers of the initialisation survive, the squared norm
# $Q = \|\theta_0\|^2 = \sum_i(a_i^2 + b_i^2)$ and the initial output $w_0$:
#
# $$
# w(\tau) = \frac{Q}{2Z}\sinh 2\tau + w_0\cosh 2\tau,\qquad
# \|\theta(\tau)\|^2 = Q\cosh 2\tau + 2Zw_0\sinh 2\tau,\qquad
# \|\theta(\tau) - \theta_0\|^2 = 2(\cosh\tau - 1)\bigl(Q\cosh\tau + 2Zw_0\sinh\tau\bigr).
# $$ (eq-lazyrich-weights)
#
# **The weight-to-target ratio.** Measure the output in units of the target and the weights in
# units of the smallest weights that fit the target. Those are $a_i = b_i$ with
# $\sum_i a_ib_i = ZS/\gamma$, of squared norm $2ZS/\gamma$ (by $a^2 + b^2\ge 2|ab|$). So define
#
# $$
# \boxed{\;\rho = \frac{\gamma\,\|\theta_0\|^2}{2ZS}\;\approx\;\frac{\gamma\,p\,\alpha^2}{ZS},
# \qquad \omega = \frac{\gamma w_0}{S}\quad(|\omega|\le\rho).\;}
# $$ (eq-lazyrich-rho)
#
# $\rho$ is the **weight-to-target ratio**; $\omega$ says how much of the target the network
# already outputs. Then $\gamma w/S = \rho\sinh 2\tau + \omega\cosh 2\tau$, and the rapidity obeys
# $\dot\tau = \frac{\gamma S}{Z}\bigl(1 - \rho\sinh 2\tau - \omega\cosh 2\tau\bigr)$. With
# $s = e^{2\tau}$ this becomes a Riccati equation with constant coefficients,
# $\dot s = \frac{\gamma S}{Z}\bigl(-(\rho + \omega)s^2 + 2s + (\rho - \omega)\bigr)$, whose right-hand side
# has the roots $s_\pm = \bigl(1\pm\sqrt{1 + \rho^2 - \omega^2}\bigr)/(\rho + \omega)$. Partial fractions give
#
# $$
# \frac{s(t) - s_+}{s(t) - s_-} = \frac{1 - s_+}{1 - s_-}\,e^{-\lambda t},\qquad
# \lambda = \frac{2\gamma S}{Z}\sqrt{1 + \rho^2 - \omega^2},
# $$ (eq-lazyrich-closed-form)
#
# so $s(t)$, hence $\tau(t)$, $w(t)$ and every weight, is an explicit function of time
# (`theory.ScalarModel`). At $t\to\infty$, $s\to s_+$: the rapidity at convergence solves
# $\rho\sinh 2\tau_\infty + \omega\cosh 2\tau_\infty = 1$, and the relative weight change is
#
# $$
# \frac{\|\theta_\infty - \theta_0\|}{\|\theta_0\|} = \sqrt{2(\cosh\tau_\infty - 1)\bigl(\cosh\tau_\infty + \tfrac{\omega}{\rho}\sinh\tau_\infty\bigr)}
# \;\xrightarrow{\ \omega = 0\ }\;
# \begin{cases}
# \dfrac{1}{2\rho} & \rho\gg 1 \text{ (lazy)},\\[2mm]
# \rho^{-1/2} & \rho\ll 1 \text{ (rich)},
# \end{cases}
# $$ (eq-lazyrich-change)
#
# using $\sinh 2\tau_\infty = 1/\rho$ at $\omega = 0$. The norm itself grows by the factor
# $\|\theta_\infty\|/\|\theta_0\| = \sqrt{\cosh 2\tau_\infty} = (1 + \rho^{-2})^{1/4}$ (at $\omega = 0$): barely for
# $\rho\gg1$, by $\rho^{-1/2}$ for $\rho\ll1$.
#
# **Lazy.** $\rho\gg1$: the weights are much larger than the target needs; a boost by
# $\tau_\infty\approx 1/2\rho$ suffices, every weight changes by a fraction $1/2\rho$, and
# $\lambda\approx 2\gamma S\rho/Z = \gamma^2 Q/Z^2$, which is exactly the tangent kernel of the model,
# $\Theta = \sum_i(\partial_{a_i}f)^2 + (\partial_{b_i}f)^2 = \gamma^2\sum_i(a_i^2 + b_i^2)/Z^2$: the output
# relaxes exponentially at the rate the frozen kernel predicts. **Rich.** $\rho\ll1$: the weights
# must grow by the factor $\rho^{-1/2}$; the output first stays near zero for a time
# $\approx\ln(1/\rho)/\lambda$ (a plateau), then rises along a sigmoid, and the rate no longer depends
# on the initialisation. **The four knobs** enter only through $\rho\propto\gamma\alpha^2/(ZS)$:
# a smaller initialisation, a larger target, a smaller input and a smaller output scale (larger
# $Z$) all make learning richer. And in the NTK parameterisation $Z = \sqrt p$,
# $\rho\approx\sqrt p\,\gamma\alpha^2/S\to\infty$: a wide network is lazy, with a relative weight change
# $\propto p^{-1/2}$, while in the mean-field parameterisation $Z = p$, $\rho\approx\gamma\alpha^2/S$ does
# not depend on the width.
#
# ## 3. Closed form, numerical integration and gradient descent
#
# First the formula against a numerical solution of the equations of motion (`scipy`'s
# `solve_ivp` at tolerance $10^{-10}$) and against gradient descent with a small step $\eta$
# (plotted at $t = \eta\times$ step). Five models with $p = 16$ and random Gaussian weights (so
# $\omega\ne0$): a lazy base point ($\alpha = 1$, $S = 1$, $\gamma = 1$, $Z = 4$) and one model per knob turned
# away from it.

# %%
p_small = 16
configs = {  # name: (alpha, S, gamma, Z)
    "base (lazy)": (1.0, 1.0, 1.0, 4.0),
    "small init α = 0.1": (0.1, 1.0, 1.0, 4.0),
    "large target S = 20": (1.0, 20.0, 1.0, 4.0),
    "small input γ = 0.05": (1.0, 1.0, 0.05, 4.0),
    "small output 1/Z = 1/64": (1.0, 1.0, 1.0, 64.0),
}
rng = np.random.default_rng(cu.seed(1))
trajectories = {}
for name, (alpha, S, gamma, Z) in configs.items():
    a0, b0 = alpha * rng.standard_normal(p_small), alpha * rng.standard_normal(p_small)
    model = theory.ScalarModel.from_weights(a0, b0, S, input_scale=gamma, Z=Z)
    t_unit = Z / (2 * gamma * S)                                        # 1/λ at ρ → 0
    t_end = t_unit * (np.log(1 + 1 / model.rho) + 8)
    t = np.linspace(0, t_end, 41)

    def rhs(_, y, S=S, gamma=gamma, Z=Z):
        return np.concatenate(theory.gradient_flow_rhs(y[:p_small], y[p_small:], S, input_scale=gamma, Z=Z))

    theta0 = np.concatenate([a0, b0])
    ode = solve_ivp(rhs, (0, t_end), theta0, t_eval=t, rtol=1e-10, atol=1e-12)
    theta_max2 = gamma ** 2 * max(model.norm_sq, 2 * Z * S / gamma * 2) / Z ** 2   # bound on Θ along the way
    lr = 0.01 / theta_max2
    steps = int(round(t_end / lr))
    rec = np.unique(np.round(t / lr).astype(int).clip(0, steps))
    *_, w_gd = theory.gradient_descent(a0, b0, S, input_scale=gamma, Z=Z, lr=lr, steps=steps, record=rec)
    trajectories[name] = dict(model=model, t=t, t_unit=t_unit, ode_w=(ode.y[:p_small] * ode.y[p_small:]).sum(0) / Z,
                              ode_change=np.linalg.norm(ode.y - theta0[:, None], axis=0) / np.linalg.norm(theta0),
                              gd_t=rec * lr, gd_w=w_gd, S=S, gamma=gamma)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
for i, (name, tr) in enumerate(trajectories.items()):
    m, c = tr["model"], cu.plotting.PALETTE[i]
    tt = np.linspace(0, tr["t"][-1], 300)
    axes[0].plot(tt / tr["t_unit"], tr["gamma"] * m.output(tt) / tr["S"], "-", color=c,
                 label=f"{name}: ρ = {m.rho:.2g}")
    axes[0].plot(tr["gd_t"][::3] / tr["t_unit"], tr["gamma"] * tr["gd_w"][::3] / tr["S"], "o", mfc="none", color=c)
    axes[1].plot(tt / tr["t_unit"], m.relative_change(tt), "-", color=c)
    axes[1].plot(tr["t"][::3] / tr["t_unit"], tr["ode_change"][::3], "s", mfc="none", color=c)
axes[0].set_xlabel("time $t$ in units of $Z/2\\gamma S$")
axes[0].set_ylabel("output / target, $\\gamma w/S$")
axes[0].legend(fontsize=7, title="lines: closed form, circles: GD", title_fontsize=7)
axes[1].set_xlabel("time $t$ in units of $Z/2\\gamma S$")
axes[1].set_ylabel("$\\|\\theta_t - \\theta_0\\| / \\|\\theta_0\\|$")
axes[1].set_yscale("log")
axes[1].set_ylim(1e-3, 30)
axes[1].set_title("lines: closed form,\nsquares: ODE solution", fontsize=10)
plt.show()

# %%
for name, tr in trajectories.items():
    m = tr["model"]
    cu.check_close(f"{name}: w(t), closed form vs ODE", tr["ode_w"], m.output(tr["t"]), rtol=1e-6)
    # every point of the curve (it spans decades): rtol 1e-6, plus 1e-9 for the integrator's atol 1e-12 on θ
    cu.check_close(f"{name}: ‖θ−θ₀‖/‖θ₀‖, closed form vs ODE", tr["ode_change"], m.relative_change(tr["t"]),
                   rtol=1e-6, atol=1e-9, mode="every")
    cu.check_close(f"{name}: w(t), closed form vs GD (η → 0)", tr["gd_w"], m.output(tr["gd_t"]), rtol=2e-2)

# %% [markdown]
# The closed form and the numerical solution agree to the integrator's tolerance, and gradient
# descent follows them within its discretisation error. The base model (lazy: $\rho = \|\theta_0\|^2/8$,
# about 4 on average over draws of its 32 weights, a few at any draw)
# relaxes exponentially from the first instant and its weights move by a few percent. Each knob,
# turned by a factor 10 to 20, brings $\rho$ down to roughly $0.03$–$0.3$, and the dynamics change
# character: a plateau, then a sigmoidal rise, and weights that grow by factors. (The input
# and output knobs are also slower in absolute time, hence the rescaled time axis.)
#
# ## 4. The four knobs are one knob
#
# Now the relative weight change at convergence {eq}`eq-lazyrich-change` against $\rho$, for each knob swept on its own
# over five decades around the base point $\alpha = 1$, $S = \gamma = 1$, $Z = \sqrt p$ ($p = 64$).
# To compare with the one-variable curve we start from $\omega = 0$ exactly: the units come in
# mirrored pairs $(a, b)$ and $(a, -b)$, so that $w_0 = 0$ ("antisymmetric" initialisation; the
# formula with $\omega\ne0$ was checked above). Each marker is one run of gradient descent to
# convergence (step $0.05/\Theta_{\max}$, 4000 steps, with $\Theta_{\max}$ the largest tangent kernel
# along the way); all runs of a sweep are one vectorised computation.

# %%
p = P.p
base = dict(alpha=1.0, S=1.0, gamma=1.0, Z=math.sqrt(p))
sweeps = {"init scale α": ("alpha", np.geomspace(0.03, 10, P.knob_points)),
          "target scale S": ("S", np.geomspace(0.01, 300, P.knob_points)),
          "input scale γ": ("gamma", np.geomspace(3e-3, 100, P.knob_points)),
          "output scale 1/Z": ("Z", math.sqrt(p) / np.geomspace(3e-3, 100, P.knob_points))}


def mirrored_weights(n_models, p, alpha, seed):
    """a_i, b_i ~ N(0, α²) with units in pairs (a, b), (a, −b): w₀ = 0 exactly. Shape (n_models, p)."""
    g = np.random.default_rng(seed)
    a = g.standard_normal((n_models, p // 2))
    b = g.standard_normal((n_models, p // 2))
    alpha = np.asarray(alpha, dtype=float).reshape(-1, 1)
    return alpha * np.concatenate([a, a], axis=1), alpha * np.concatenate([b, -b], axis=1)


def converged_change(alpha, S, gamma, Z, p, seed=0, steps=4000):
    """Gradient descent to convergence for a batch of models; returns (ρ, ‖θ_∞ − θ₀‖/‖θ₀‖, final γw/S)."""
    alpha, S, gamma, Z = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (alpha, S, gamma, Z)))
    a0, b0 = mirrored_weights(alpha.size, p, alpha, seed)
    Q = (a0 ** 2 + b0 ** 2).sum(1)
    rho = theory.weight_to_target_ratio(Q, S, input_scale=gamma, Z=Z)
    theta_max = gamma ** 2 * np.maximum(Q, 2 * Z * S / gamma * np.sqrt(1 + rho ** 2)) / Z ** 2
    col = lambda v: v[:, None]  # noqa: E731
    a, b = theory.gradient_descent(a0, b0, col(S), input_scale=col(gamma), Z=col(Z), lr=col(0.05 / theta_max),
                                   steps=steps)
    change = np.sqrt(((a - a0) ** 2 + (b - b0) ** 2).sum(1) / Q)
    return rho, change, gamma * (a * b).sum(1) / Z / S


collapse = {}
for knob, (key, values) in sweeps.items():
    kw = {**base, key: values}
    collapse[knob] = converged_change(kw["alpha"], kw["S"], kw["gamma"], kw["Z"], p, seed=cu.seed(2))
# width sweeps: NTK (Z = √p) and mean-field (Z = p) parameterisations, `width_draws` draws of the weights per width
ntk_p = np.array(P.ntk_widths)
width_runs = {name: [converged_change(np.full(P.width_draws, alpha), 1.0, 1.0, Zf(q), q, seed=cu.seed(3)) for q in ntk_p]
              for name, alpha, Zf in (("NTK, Z = √p", 1.0, np.sqrt), ("mean field, Z = p", 0.3, float))}

# %%
mean_change = {name: np.array([r[1].mean() for r in runs]) for name, runs in width_runs.items()}
fit_ntk_scalar = cu.fit_power_law(ntk_p[2:], mean_change["NTK, Z = √p"][2:])  # change ∝ p^(−alpha)

# %% tags=["hide-input"]
rho_line = np.geomspace(1e-4, 1e4, 300)
fig, axes = cu.panels(2, ncols=1, panel_height=4.0)
ax = axes[0]
ax.plot(rho_line, theory.relative_change_at_convergence(rho_line), "k-", lw=2,
        label="theory $\\|\\theta_\\infty - \\theta_0\\|/\\|\\theta_0\\|$ at $\\omega = 0$")
ax.plot(rho_line, 1 / (2 * rho_line), "k:", lw=1, label="lazy limit $1/2\\rho$")
ax.plot(rho_line, rho_line ** -0.5, "k--", lw=1, label="rich limit $\\rho^{-1/2}$")
markers = "osD^"
for i, (knob, (rho_k, change_k, _)) in enumerate(collapse.items()):
    ax.plot(rho_k, change_k, markers[i], mfc="none", ms=8, color=cu.plotting.PALETTE[i], label=f"GD, {knob} swept")
for j, (name, runs) in enumerate(width_runs.items()):
    ax.plot(np.concatenate([r[0] for r in runs]), np.concatenate([r[1] for r in runs]), "*x"[j], ms=6,
            color=cu.plotting.PALETTE[4 + j], label=f"GD, width p = {ntk_p[0]}…{ntk_p[-1]}, {name}")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_ylim(1e-4, 1e2)
ax.set_xlabel("weight-to-target ratio $\\rho = \\gamma\\|\\theta_0\\|^2 / 2ZS$")
ax.set_ylabel("relative weight change at convergence")
ax.axvspan(1e-4, 1, color="0.9", zorder=-1)
ax.text(2e-4, 2e-4, "rich", fontsize=12)
ax.text(3e1, 2e-4, "lazy", fontsize=12)
ax.legend(fontsize=7, ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))  # below the axes
ax = axes[1]
for j, (name, runs) in enumerate(width_runs.items()):
    c = cu.plotting.PALETTE[4 + j]
    ax.plot(ntk_p, [theory.relative_change_at_convergence(r[0]).mean() for r in runs], "-", color=c,
            label=f"{name}: theory")
    ax.plot(ntk_p, mean_change[name], "*x"[j], ms=9, color=c, label=f"{name}: GD (mean of {P.width_draws})")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("number of hidden units $p$")
ax.set_ylabel("relative weight change at convergence")
ax.set_title(f"NTK scaling: change ∝ $p^{{-{fit_ntk_scalar.alpha:.2f}}}$", fontsize=10)
ax.legend(fontsize=8)
plt.show()

# %%
all_rho = np.concatenate([v[0] for v in collapse.values()])
all_change = np.concatenate([v[1] for v in collapse.values()])
all_out = np.concatenate([v[2] for v in collapse.values()])
print(f"ρ spans {all_rho.min():.1e} … {all_rho.max():.1e}; relative change spans {all_change.min():.1e} … "
      f"{all_change.max():.1f}")
cu.check_close("every run converged: γw/S at the end", all_out, np.ones_like(all_out), rtol=1e-6)
# mode="log": the changes span five decades, so every run is compared on its own (|ln(measured/theory)| ≤
# ln 1.01). Gradient descent with step 0.05/Θ_max differs from the flow by O(ηΘ); the largest log-ratio
# measured at seeds 0–5 is 8.4e-4, a twelfth of the tolerance.
cu.check_close("all four knobs: measured change vs the one-variable theory Δ(ρ), every run", all_change,
               theory.relative_change_at_convergence(all_rho), rtol=1e-2, mode="log")
for name, runs in width_runs.items():
    cu.check_close(f"{name}: measured change vs Δ(ρ), every run at every width", np.concatenate([r[1] for r in runs]),
                   theory.relative_change_at_convergence(np.concatenate([r[0] for r in runs])), rtol=1e-2, mode="log")
# Where the tolerance comes from. Δ ≈ 1/2ρ ∝ 1/‖θ₀‖², and with mirrored units ‖θ₀‖²/α² is a χ² with p
# degrees of freedom, so the mean change over draws is biased up by p/(p − 2): +14 % at p = 16, +3 % at
# p = 64. Fitted over p ≥ 16 that bias steepens the exponent to 0.52 on average; over p ≥ 64 to 0.506.
# The draws scatter it too: over 40 sets of 64 draws (of the theory curve) the exponent over p ≥ 64 had a
# standard deviation of 0.0045. Bias + 4 standard deviations = 0.024 < 0.03.
cu.check_close(f"NTK scaling: exponent of the mean change vs p ≥ {ntk_p[2]} (theory 1/2 as ρ → ∞)",
               fit_ntk_scalar.alpha, 0.5, atol=0.03)
mf = mean_change["mean field, Z = p"]
cu.check_close("mean-field scaling: change at the largest width vs Δ(ρ = γα²/S), its p → ∞ limit", mf[-1],
               theory.relative_change_at_convergence(0.3 ** 2), rtol=0.05)

# %% [markdown]
# The 28 runs of the four sweeps fall on one curve: the knobs are one knob, $\rho$. The
# relative change falls like $1/2\rho$ on the lazy side and grows like $\rho^{-1/2}$ on the rich
# side, with the crossover at $\rho\approx1$, where the initial weights are as large as the
# smallest weights that fit the target. In the NTK parameterisation the width alone pushes the
# model along the curve towards the lazy end ($\rho\approx\sqrt p$; the fitted exponent of the mean change
# over $p\ge64$ is within 0.03 of $1/2$; at smaller $p$ the mean over draws of $1/\|\theta_0\|^2$ exceeds
# $1/\mathbb E\|\theta_0\|^2$ by $p/(p-2)$, which steepens it); in the mean-field parameterisation every
# width sits at the same $\rho$ (the residual spread is the sampling noise of $\|\theta_0\|^2$ at
# small $p$). This is the lazy/rich picture of {cite:t}`chizat2019lazy` and
# {cite:t}`woodworth2020kernel` in its simplest form: the scale of the model relative to the task,
# not any one hyperparameter, decides. What the rich end buys in a model with many weights, an
# implicit bias towards sparse solutions, is the subject of
# [Implicit bias in diagonal linear networks](04_implicit_bias.ipynb).
#
# **Explore: the four knobs.** Move the initialisation scale, the target, the input and the output
# scale of the scalar model ($p = 64$, $\|\theta_0\|^2 = 2p\alpha^2$, $\omega = 0$) and watch where the star
# lands on the curve of §4 (the markers are the runs above). The theory says that only $\rho = p\gamma\alpha^2/ZS$
# matters: settings with the same $\rho$ give the same point and, in time units of $1/\lambda$, the same
# trajectory; for $\rho\ll 1$ the output waits on a plateau of about $\ln(1/\rho)/\lambda$ before its
# sigmoidal rise, far from the frozen-kernel curve that a lazy model follows.

# %%
from IPython.display import display

from course_utils.explorers import lazy_rich as lazy_rich_explorer

ex = lazy_rich_explorer.explorer({"GD runs of the four sweeps": (all_rho, all_change)}, p=p)
ex.show()
display(ex.variants("alpha", [0.1, 0.3, 1.0]))   # ρ = 0.08 (rich), 0.72 (crossover), 8 (lazy)

# %% [markdown]
# ## 5. The same transition in a real network
#
# Does the scalar model describe a real network? A one-hidden-layer ReLU network without biases,
# $f_c(x) = \frac{\sigma_w}{\sqrt n}\sum_j V^{(2)}_{cj}\,\mathrm{relu}\bigl(\frac{\sigma_w}{\sqrt d}V^{(1)}_j\cdot x\bigr)$, is a sum of
# products of an input and an output weight, like $\sum_i a_ib_i$, and it is 2-homogeneous:
# multiplying all weights by $\alpha$ multiplies $f$ by $\alpha^2$. So $\rho\propto\alpha^2$, and in the
# NTK parameterisation $\rho$ grows with the width $n$. We train it (`MLP` in the NTK
# parameterisation, $\sigma_w^2 = 2$, $\sigma_b = 0$) on 200 standardised digits (20 per class) with
# the squared loss on one-hot targets, by full-batch gradient descent. We multiply the initial
# weights by $\alpha$ and subtract the initial output, $f - f_0$, as in the antisymmetric
# initialisation above (otherwise a large $\alpha$ starts with a large random output that must be
# unlearned first). The step is $\eta = 1/\lambda_{\max}(\Theta_0/NC)$ for $\alpha\ge1$ (time measured
# in units of the initial kernel, as in the lazy limit of {cite:t}`chizat2019lazy`) and that of $\alpha = 1$
# below; 400 steps in the lazy runs, 2500 in the rich ones (they have a plateau to cross). Each lazy
# point ($\alpha\ge1$) is the mean of three networks (`lazy_seeds`), because the kernel change of one
# lazy network is noisy.
# We record the relative change of the weights and of the tangent kernel on the training set,
# $\Theta(x, x') = \sum_c\nabla_\theta f_c(x)\cdot\nabla_\theta f_c(x')$ (`ntk_empirical.empirical_ntk`,
# `diagnostics.relative_kernel_change`).
#
# What to expect. On the lazy side the scalar model {eq}`eq-lazyrich-change` says $\Delta\theta/\theta\approx 1/2\rho\propto\alpha^{-2}$;
# on the rich side $\propto\rho^{-1/2}\propto\alpha^{-1}$. With width, the argument of §2 of
# [Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb)
# gives $\Delta\theta/\theta\propto n^{-1/2}$. The kernel of a ReLU network moves in two ways: smoothly,
# $\propto n^{-1}$ as for smooth activations, and through the units whose kink crosses a training
# input, which add up with random signs to a change $\propto n^{-3/4}$, between the bound $n^{-1/2}$ and
# $n^{-1}$. The same argument in $\alpha$: a fraction $\propto\alpha^{-2}$ of units switch, and their
# random-sign contributions add up to a relative kernel change $\propto\alpha^{-1}$. Below we measure the
# two separately.

# %%
z_all, y_all = load_digits()
(z_tr, y_tr), _ = train_val_split(z_all, y_all, P.mlp_per_class, 10, seed=cu.seed(0))
X_tr = standardize(z_tr)
Y_tr = torch.nn.functional.one_hot(y_tr, 10).double()


def train_relu_nets(width, alphas, steps, seeds, lr=None):
    """Networks (alphas[k], seeds[k]) trained as one ensemble; per network a row (relative weight change,
    relative tangent-kernel change, final loss, the kernel change's linear, quadratic and switching parts, the
    switched fraction f_s, the preactivation change q)."""
    runs = train_scaled_relu_nets(X_tr, Y_tr, width=width, alphas=list(alphas), steps=steps,
                                  seeds=[int(s) for s in seeds], lr=lr)
    return np.array([(r.weight_change, r.kernel_change, r.loss, r.kernel_linear, r.kernel_quadratic,
                      r.kernel_switching, r.switched_fraction, r.preactivation_change) for r in runs])


WEIGHTS, KERNEL, LOSS, LINEAR, QUADRATIC, SWITCHING, SWITCHED, Q = range(8)
alphas = np.array(P.mlp_alphas)
# α ≥ 1: the lazy step of each network's own kernel; α < 1: the step at α = 1 (a smaller kernel allows more)
lr_one = train_scaled_relu_net(X_tr, Y_tr, width=P.mlp_width, alpha=1.0, steps=0, seed=cu.seed(0)).lr
# The kernel change of one lazy network is noisy (the few units that switch have random signs): the lazy
# points average over `lazy_seeds` networks, the (more expensive) rich points over `seeds`. All lazy networks
# are one ensemble, all rich ones another (`train_scaled_relu_nets`: one BatchedMLP, per-member learning rates).
rows_of = {}                                                          # α → (seeds, quantities)
for is_lazy in cu.progress((True, False), desc="α sweep"):
    group = [a for a in alphas if (a >= 1) == is_lazy]
    seeds = list(cu.seed(range(P.lazy_seeds if is_lazy else P.seeds)))
    rows = train_relu_nets(P.mlp_width, np.repeat(group, len(seeds)), P.lazy_steps if is_lazy else P.rich_steps,
                           seeds * len(group), lr=None if is_lazy else lr_one)   # members (α₁, s₁), (α₁, s₂), …
    rows_of.update(zip(group, rows.reshape(len(group), len(seeds), -1)))
runs_alpha = [rows_of[a] for a in alphas]
by_alpha = np.array([r.mean(0) for r in runs_alpha])
widths = np.array(P.mlp_widths)
runs_width = np.stack([train_relu_nets(int(n), np.ones(P.seeds), P.lazy_steps, cu.seed(range(P.seeds)))
                       for n in widths], axis=1)                         # (seed, width, quantity)
by_width = runs_width.mean(0)
print("final training loss (α sweep):", np.array2string(by_alpha[:, LOSS], precision=3))
print("final training loss (width sweep):", np.array2string(by_width[:, LOSS], precision=3))

# %%
lazy, rich = alphas >= 1, alphas <= 0.25
# one constant maps the network onto the scalar model: ρ = c α², fitted to the lazy end
c_rho = brentq(lambda c: theory.relative_change_at_convergence(c * alphas[-1] ** 2) - by_alpha[-1, 0], 1e-3, 1e4)
fit_w_lazy = cu.fit_power_law(alphas[lazy], by_alpha[lazy, 0])   # each: change ∝ α^(−alpha) or n^(−alpha)
fit_w_rich = cu.fit_power_law(alphas[rich], by_alpha[rich, 0])
fit_k_lazy = cu.fit_power_law(alphas[lazy], by_alpha[lazy, 1])
fit_w_n = cu.fit_power_law(widths, by_width[:, 0])
fit_k_n = cu.fit_power_law(widths, by_width[:, 1])

# %% tags=["hide-input"]
fig, axes = cu.panels(2, ncols=1, panel_height=3.6)
ax = axes[0]
a_line = np.geomspace(alphas.min(), alphas.max(), 200)
ax.plot(a_line, theory.relative_change_at_convergence(c_rho * a_line ** 2), "-", color=cu.plotting.PALETTE[0],
        label=f"scalar model, $\\rho = {c_rho:.1f}\\,\\alpha^2$ (one fitted constant)")
ax.plot(alphas, by_alpha[:, 0], "o", color=cu.plotting.PALETTE[0],
        label=f"network: weights (slopes {-fit_w_lazy.alpha:.2f} lazy, {-fit_w_rich.alpha:.2f} rich)")
ax.plot(alphas, by_alpha[:, 1], "s", mfc="none", color=cu.plotting.PALETTE[1],
        label=f"network: tangent kernel, total (lazy slope {-fit_k_lazy.alpha:.2f})")
for col, mk, c, name in ((LINEAR, "^", 2, "linear part"), (SWITCHING, "D", 3, "switching part")):
    ax.plot(alphas[lazy], by_alpha[lazy, col], mk, mfc="none", ms=5, color=cu.plotting.PALETTE[c], label=f"kernel: {name}")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("initialisation scale $\\alpha$")
ax.set_ylabel("relative change at the end of training")
ax.legend(fontsize=7.5)
ax = axes[1]
cu.plotting.loglog_fit(ax, widths, by_width[:, 0], label="weights $\\|\\Delta\\theta\\|/\\|\\theta_0\\|$",
                       color=cu.plotting.PALETTE[0], exponent_name="slope −")
cu.plotting.loglog_fit(ax, widths, by_width[:, 1], label="tangent kernel, total",
                       color=cu.plotting.PALETTE[1], marker="s", exponent_name="slope −")
for col, mk, c, name, slope in ((LINEAR, "^", 2, "linear part", 1.0), (SWITCHING, "D", 3, "switching part", 0.75)):
    ax.plot(widths, by_width[:, col], mk, mfc="none", color=cu.plotting.PALETTE[c], label=f"kernel: {name}")
    ax.plot(widths, by_width[0, col] * (widths / widths[0]) ** -slope, ":", color=cu.plotting.PALETTE[c],
            label=f"$\\propto n^{{-{slope:g}}}$ (its large-$n$ law)")
ax.plot(widths, by_width[0, 0] * (widths / widths[0]) ** -0.5, ":", color="k", label="$\\propto n^{-1/2}$ (theory for the weights)")
ax.set_xlabel("width $n$ (hidden units)")
ax.set_ylabel("relative change at the end of training")
ax.legend(fontsize=7, ncol=2)
plt.show()

# %%
print(f"weights: α^-{fit_w_lazy.alpha:.2f}±{fit_w_lazy.alpha_stderr:.2f} (lazy), α^-{fit_w_rich.alpha:.2f}"
      f"±{fit_w_rich.alpha_stderr:.2f} (rich), n^-{fit_w_n.alpha:.3f}±{fit_w_n.alpha_stderr:.3f}")
print(f"tangent kernel, total: α^-{fit_k_lazy.alpha:.2f}±{fit_k_lazy.alpha_stderr:.2f} (lazy), "
      f"n^-{fit_k_n.alpha:.2f}±{fit_k_n.alpha_stderr:.2f}")
cu.check_close("weights vs α, lazy side: exponent (scalar model: 2)", fit_w_lazy.alpha, 2.0, atol=0.1)
cu.check_close("weights vs α, rich side: exponent (scalar model: 1)", fit_w_rich.alpha, 1.0, atol=0.25)
cu.check_close("weights vs width: exponent (theory 1/2)", fit_w_n.alpha, 0.5, atol=0.1)
cu.check_close("scalar model with ρ = cα² vs the network at α = 1, 2, 4 (weights)", by_alpha[lazy, 0][:-1],
               theory.relative_change_at_convergence(c_rho * alphas[lazy][:-1] ** 2), rtol=0.05)

# %% [markdown]
# On the lazy side the network *is* the scalar model: with one constant, $\rho\approx c\,\alpha^2$ fitted
# at $\alpha = 8$, the curve predicts the weight change at $\alpha = 1, 2, 4$ within a few percent, and
# the slope is $-2$. On the rich side the weights grow like $\alpha^{-1}$, the scalar model's $\rho^{-1/2}$,
# but with about half its prefactor: the network fits 10 outputs with a few directions of its
# weights, not with all of them growing together, so its rich end is not the same constant
# multiple of $\alpha^2$ as its lazy end. (The two smallest $\alpha$ end at a training loss two to four
# times that of the others, printed above: their weights would still grow a little, which would
# steepen the rich slope slightly.) The width sweep reproduces the NTK chapter: the weights move
# like $n^{-1/2}$.
#
# **The kernel, part by part.** The total kernel change mixes two laws, so its fitted slopes above
# (printed) are neither. For this network the tangent kernel is a quadratic polynomial in the weights
# once the on/off pattern of the ReLUs is held fixed (`scaled_init.one_hidden_layer_kernel`), so its
# change splits exactly into three parts (`scaled_init.kernel_change_parts`): the part **linear** in
# the weight change $\Delta\theta$ and the part **quadratic** in it, both with the initial ReLU pattern
# frozen, and the **switching** part, from the units that turned on or off at a training input. Each
# has its own law, in terms of one measured number, the mean relative change of the preactivations,
# $q = \langle|\Delta z_{j\mu}|/\sigma_\mu\rangle$ ($\sigma_\mu$ the spread of $z_{j\mu}$ over units at input $\mu$;
# lazy theory: $q\propto\alpha^{-2}n^{-1/2}$):
#
# - a unit switches at input $\mu$ when $\Delta z$ carries $z$ across zero; for $z\sim\mathcal N(0,\sigma_\mu^2)$
#   independent of $\Delta z$ that happens with probability $\langle|\Delta z|\rangle/(\sqrt{2\pi}\sigma_\mu)$: a switched fraction
#   $f_s\approx q/\sqrt{2\pi}$;
# - each switch changes a row of $\Theta$ by $\pm$ one unit's share, $\sim\|\Theta\|/n$, with a random sign (on and
#   off equally likely): $nf_s$ such terms add up to $\|\Delta\Theta_{\rm sw}\|/\|\Theta\|\propto\sqrt{f_s/n}\propto\sqrt{q/n}$,
#   i.e. $\alpha^{-1}n^{-3/4}$;
# - the linear part is a sum over $n$ units of changes $\propto q$ with random signs: $\propto q/\sqrt n$, i.e.
#   $\alpha^{-2}n^{-1}$ (the $n^{-1}$ of smooth activations);
# - the quadratic part adds $n$ positive terms $\propto q^2/n$: $\propto q^2$, i.e. $\alpha^{-4}n^{-1}$.
#
# With $q\propto\alpha^{-e_\alpha}n^{-e_n}$ measured, these predict the exponent of each part over the
# range we measure; in the lazy limit $e_\alpha = 2$, $e_n = 1/2$ they become $1, 3/4$ (switching),
# $2, 1$ (linear) and $4, 1$ (quadratic). The fitted exponents are checked against their predictions within
# the 99 % interval of the fits: Student's $t$ for the fit's degrees of freedom times the combined
# standard error (each seed's network is its own point).

# %%
from scipy import stats as sstats

a_pts = np.concatenate([np.full(len(r), a) for a, r in zip(alphas, runs_alpha) if a >= 1])
a_runs = np.concatenate([r for a, r in zip(alphas, runs_alpha) if a >= 1])
n_pts, n_runs = np.tile(widths, P.seeds), runs_width.reshape(-1, runs_width.shape[-1])
kernel_laws = {}
for sweep, x, R, asym in (("α", a_pts, a_runs, 2.0), ("n", n_pts, n_runs, 0.5)):
    fit_q = cu.fit_power_law(x, R[:, Q])
    shift = 0.5 if sweep == "n" else 0.0          # the extra 1/√n of a random-sign sum over n units
    for col, name, slope, se_factor in ((LINEAR, "linear", lambda e: e + shift, 1.0),
                                        (QUADRATIC, "quadratic", lambda e: 2 * e, 2.0),
                                        (SWITCHING, "switching", lambda e: (e + 2 * shift) / 2, 0.5)):
        fit = cu.fit_power_law(x, R[:, col])
        tol = sstats.t.ppf(0.995, len(x) - 2) * math.hypot(fit.alpha_stderr, se_factor * fit_q.alpha_stderr)
        kernel_laws[(sweep, name)] = dict(fit=fit, predicted=slope(fit_q.alpha), lazy_limit=slope(asym), tol=tol)
    kernel_laws[(sweep, "q")] = dict(fit=fit_q, predicted=asym, lazy_limit=asym, tol=np.nan)
    kernel_laws[(sweep, "f_s")] = dict(fit=cu.fit_power_law(x, R[:, SWITCHED]), predicted=fit_q.alpha,
                                       lazy_limit=asym, tol=np.nan)
print(f"{'':22s}{'measured':>16s}{'predicted from q':>19s}{'lazy limit':>12s}")
for (sweep, name), v in kernel_laws.items():
    print(f"{name + ' vs ' + sweep:22s}{v['fit'].alpha:9.3f} ± {v['fit'].alpha_stderr:.3f}{v['predicted']:15.3f}"
          f"{v['lazy_limit']:14.2f}")
ratio_fs = np.concatenate([a_runs[:, SWITCHED] / a_runs[:, Q], n_runs[:, SWITCHED] / n_runs[:, Q]])
print(f"f_s/q over all lazy runs: {ratio_fs.min():.3f} … {ratio_fs.max():.3f} (Gaussian estimate 1/√(2π) = "
      f"{1 / math.sqrt(2 * math.pi):.3f});\n    by α (mean over seeds): "
      + ", ".join(f"{a:g}: {np.mean(r[:, SWITCHED] / r[:, Q]):.3f}" for a, r in zip(alphas, runs_alpha) if a >= 1)
      + f";\n    switched (unit, input) pairs per network at α = {alphas[-1]:g}: "
      f"{runs_alpha[-1][:, SWITCHED].mean() * P.mlp_width * len(X_tr):.0f}")
cross = np.concatenate([a_runs[:, KERNEL] ** 2 / (a_runs[:, LINEAR] ** 2 + a_runs[:, QUADRATIC] ** 2 + a_runs[:, SWITCHING] ** 2),
                        n_runs[:, KERNEL] ** 2 / (n_runs[:, LINEAR] ** 2 + n_runs[:, QUADRATIC] ** 2 + n_runs[:, SWITCHING] ** 2)])
print(f"‖ΔΘ‖² / (sum of the parts' squares): {cross.min():.2f} … {cross.max():.2f}")
for (sweep, name), v in kernel_laws.items():
    # not checked: the switching part vs α (it falls faster than the estimate; see below)
    if name in ("linear", "quadratic", "switching") and (sweep, name) != ("α", "switching"):
        cu.check_close(f"tangent kernel, {name} part vs {sweep}: exponent (predicted from q's; lazy limit "
                       f"{v['lazy_limit']:g})", v["fit"].alpha, v["predicted"], atol=v["tol"])

# %% [markdown]
# The total kernel change is the sum of the three parts as matrices; the ratio of its squared norm to the
# sum of the parts' squared norms (printed) is close to one, so the parts are nearly orthogonal, as
# sums with independent random signs should be. With width, each part follows its own law with the
# exponent predicted from $q$, within the fits' 99 % intervals: the switching part falls as
# $\sqrt{q/n}$, which is $n^{-3/4}$ where $q\propto n^{-1/2}$. With $\alpha$, the linear and quadratic
# parts do too; the switching part falls somewhat faster than the estimate $\sqrt{q/n}\propto\alpha^{-1}$
# (table), and we do not claim its exponent: over $\alpha = 1$–8 the assumption that switches add with
# independent random signs is only approximate (at $\alpha = 1$, where many units switch, a partly
# coherent excess of units switching the same way would add a part $\propto f_s\propto\alpha^{-2}$; we have
# not isolated it). The switched fraction is close to the Gaussian estimate $q/\sqrt{2\pi}$ (range
# printed, with the number of pairs that switch in a network at $\alpha = 8$, which is small, so that
# ratio is the noisiest). So the slopes of the *total* change are
# crossovers: with width, from the linear part ($\approx n^{-1}$), which dominates at $n = 64$, to the
# switching part ($\approx n^{-3/4}$), which dominates at the widest networks; with $\alpha$, from the
# linear and quadratic parts ($\alpha^{-2}$, $\alpha^{-4}$) at $\alpha = 1$ to the switching part
# ($\alpha^{-1}$) at $\alpha = 8$. A fitted slope of the total therefore depends on the range fitted,
# which is why it is printed, not checked. Where the measured exponents differ from the lazy limits
# it is because $q$ itself does: with width $q$ falls more slowly than $n^{-1/2}$ over $n = 64$–2048
# (printed); the narrow networks also end at a higher training loss after the same 400 steps (printed
# above). The predictions from the measured $q$ absorb this, and where $q\propto n^{-1/2}$ they become
# $n^{-3/4}$ and $n^{-1}$. (The Gaussian estimate of the switched fraction ignores that $z$ and $\Delta z$
# are not independent: a unit's weights move only through the inputs at which it is on. We have not
# measured how much of the deviation from $q/\sqrt{2\pi}$ that explains.)
#
# ## 6. Minimal or extended features?
#
# A rich network has moved its weights, but what has it learned? Look at the features of its
# last hidden layer, $\Phi$ ($N\times n$ on the training set), through their centred kernel
# $K = C\Phi\Phi^\top C$ ($C = I - \mathbf 1\mathbf 1^\top/N$, `diagnostics.feature_kernel`). Two
# numbers summarise it:
#
# - the **effective dimension**, $d_{\rm eff} = \exp\bigl(-\sum_i p_i\ln p_i\bigr)$ with $p_i = \lambda_i/\sum_j\lambda_j$
#   the normalised eigenvalues of $K$: the number of directions that carry the variance, between 1
#   and $N$ (`diagnostics.effective_dimension`). Features that only separate the 10 classes have
#   $d_{\rm eff}\le 9$ after centring;
# - the **alignment** with the class-projection operator $P_Y = Y(Y^\top Y)^{-1}Y^\top$ (the projector
#   onto the class-indicator vectors; for balanced classes it is $YY^\top$ up to a factor):
#   $A = \langle K, P_Y\rangle_F/(\|K\|_F\|CP_YC\|_F)$, the centred kernel alignment (CKA) between the
#   features and the labels {cite:p}`kornblith2019similarity` (`diagnostics.kernel_alignment`); 1 when
#   the features encode the class and nothing else.
#
# **Minimal features** (MF): few directions, aligned with the classes. **Extended features** (EF):
# many directions, weakly aligned: random features, whose only use is to feed a linear readout.
# The two terms, and the diagnosis through the eigenvalues of the last layer's features, come from
# {cite:t}`nam2024visualising`; the doctoral work they belong to calls a network MF when
# $\kappa_{\rm CKA} = 1 - A < 0.1$ on held-out data, and the MF kernel is then close to a multiple of the class
# projector, with its top $C - 1$ eigenvalues nearly equal. We report $\kappa_{\rm CKA}$ on the training digits
# and on 500 held-out ones, with the spread $\lambda_1/\lambda_9$ of the top nine held-out eigenvalues.
# We train the same two-hidden-layer ReLU network (width 256, 300 digits) from the same initial
# weights in three ways: full backpropagation in the rich regime (two knobs turned: initial weights
# $\times\,0.25$, output $\times\,0.3$), training only the last layer from that same initialisation,
# and, as a control, full backpropagation in the lazy regime (initial weights and output $\times1$).
# Training only the last layer leaves the hidden features as they were drawn: it is a
# random-feature model, EF by construction. The question is what full backpropagation does.

# %%
(z_mf, y_mf), (z_val, y_val) = train_val_split(z_all, y_all, P.mf_per_class, P.mf_val_per_class, seed=cu.seed(1))
X_mf, X_val = standardize(z_mf), standardize(z_val, reference=z_mf)
Y_mf = torch.nn.functional.one_hot(y_mf, 10).double()
N_mf = X_mf.shape[0]


def last_hidden(net, X):
    """The last hidden layer's activations φ(z^{L−1}), shape (N, width)."""
    _, pre = net(X, return_preactivations=True)
    return net.phi(pre[-2]).detach()


def train_two_layer(alpha, kappa, lr, steps, only_last=False, seed=0):
    """Two-hidden-layer ReLU net (NTK param.), weights × α, output κ(f − f₀); GD on the squared loss.
    ``lr=None``: 1/λ_max of the initial tangent kernel (of the readout alone with ``only_last``)."""
    net = MLP(64, P.mf_width, 2, 10, sigma_w=math.sqrt(2), sigma_b=0.0, generator=torch.Generator().manual_seed(cu.seed(seed)))
    weights = [layer.weight for layer in net.layers]
    with torch.no_grad():
        for W in weights:
            W.mul_(alpha)
        f0_tr, f0_val = net(X_mf), net(X_val)
    phi0 = last_hidden(net, X_mf)
    if lr is None and only_last:   # from the readout's own kernel κ² s_w² ΦΦᵀ (per output): 1/λ_max(·/N)
        lr = 1 / (kappa ** 2 * 2 / P.mf_width * torch.linalg.eigvalsh(phi0 @ phi0.T / N_mf).max().item())
    elif lr is None:                # from the initial tangent kernel: 1/λ_max(κ²Θ₀/NC)
        lr = 1 / (kappa ** 2 * torch.linalg.eigvalsh(empirical_ntk(net, X_mf) / (N_mf * 10)).max().item())
    opt = torch.optim.SGD(weights[-1:] if only_last else weights, lr=lr)
    # the loss before the middle update and the last one, the validation features after half of the updates
    half = steps // 2
    hist = cu.train(net, lambda m: 0.5 * ((kappa * (m(X_mf) - f0_tr) - Y_mf) ** 2).sum(1).mean(), steps=steps,
                    optimizer=opt, record_steps=[half - 1, half, steps - 1],
                    metrics={"phi_val": lambda m: last_hidden(m, X_val)}, progress=False)
    with torch.no_grad():
        val_acc = ((net(X_val) - f0_val).argmax(1) == y_val).double().mean().item()
    return dict(phi0=phi0, phi=last_hidden(net, X_mf), phi_val=last_hidden(net, X_val), loss=hist["loss"][2],
                val_acc=val_acc, phi_val_half=torch.from_numpy(hist["phi_val"][1]), loss_half=hist["loss"][0])


runs = {"full backprop, rich (α = 0.25, κ = 0.3)": train_two_layer(0.25, 0.3, 60.0, P.mf_steps),
        "last layer only, same init": train_two_layer(0.25, 0.3, None, P.mf_steps, only_last=True),
        "full backprop, lazy (α = 1, κ = 1)": train_two_layer(1.0, 1.0, None, P.mf_steps)}
stats, names_mf = {}, list(runs)
for name, r in runs.items():
    K, K_v = (diagnostics.feature_kernel(r[key], center=True) for key in ("phi", "phi_val"))
    lam_v = torch.linalg.eigvalsh(K_v).flip(0)
    stats[name] = dict(d_eff=diagnostics.effective_dimension(K).item(), cka=diagnostics.kernel_alignment(K, y_mf).item(),
                       spectrum=torch.linalg.eigvalsh(K).flip(0).clamp_min(0).numpy(),
                       kappa_val=1 - diagnostics.kernel_alignment(K_v, y_val).item(), spread_val=(lam_v[0] / lam_v[8]).item())
K_init = diagnostics.feature_kernel(runs["last layer only, same init"]["phi0"], center=True)
d_eff_init, cka_init = diagnostics.effective_dimension(K_init).item(), diagnostics.kernel_alignment(K_init, y_mf).item()
print(f"{'':42s} d_eff   A      1 − A   held-out 1 − A   held-out λ₁/λ₉   training loss   validation accuracy")
print(f"{'initial features (rich init)':42s} {d_eff_init:5.1f}   {cka_init:.3f}  {1 - cka_init:.3f}")
for name, r in runs.items():
    st = stats[name]
    print(f"{name:42s} {st['d_eff']:5.1f}   {st['cka']:.3f}  {1 - st['cka']:.3f}   {st['kappa_val']:.3f}"
          f"            {st['spread_val']:6.1f}           {r['loss']:.4f}          {r['val_acc']:.3f}")
r_rich = runs[names_mf[0]]
kappa_half = 1 - diagnostics.kernel_alignment(diagnostics.feature_kernel(r_rich["phi_val_half"], center=True), y_val).item()
print(f"rich full backprop, half-way (step {P.mf_steps // 2}): held-out κ_CKA = {kappa_half:.3f} at training loss "
      f"{r_rich['loss_half']:.4f}; at the end (step {P.mf_steps}): {stats[names_mf[0]]['kappa_val']:.3f} at "
      f"{r_rich['loss']:.4f}")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=4.2)
for i, (name, s) in enumerate(stats.items()):
    lam = s["spectrum"] / s["spectrum"].sum()
    style = dict(ls="none", marker="x", ms=4) if i == 2 else dict(ls="-", marker="o", ms=3, lw=2.5 - i)
    axes[0].plot(np.arange(1, 61), lam[:60], color=cu.plotting.PALETTE[i], **style,
                 label=f"{name}: $d_{{\\rm eff}}$ = {s['d_eff']:.1f}, A = {s['cka']:.2f}")
axes[0].axvline(9.5, color="k", ls=":", lw=1, label="9 = number of classes − 1")
axes[0].set_yscale("log")
axes[0].set_ylim(1e-5, 1)
axes[0].set_xlabel("eigenvalue index $i$ of the\ncentred feature kernel")
axes[0].set_ylabel("normalised eigenvalue\n$\\lambda_i/\\sum_j\\lambda_j$")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", fontsize=7.5)  # long labels
names = list(stats)
order = torch.argsort(y_mf)
for i, (name, title) in enumerate(zip(names[:2], ("rich full backprop", "last layer only (EF)"))):
    K = diagnostics.feature_kernel(runs[name]["phi"], center=True)[order][:, order].numpy()
    d = np.sqrt(np.diag(K))
    ax_in = axes[1].inset_axes([0.02 + 0.5 * i, 0.1, 0.46, 0.8])
    ax_in.imshow(K / np.outer(d, d), cmap="RdBu_r", vmin=-1, vmax=1)
    ax_in.set_title(title, fontsize=9)
    ax_in.set_xticks([])
    ax_in.set_yticks([])
axes[1].axis("off")
axes[1].set_title("centred feature kernel as correlations\n$K_{\\mu\\nu}/\\sqrt{K_{\\mu\\mu}K_{\\nu\\nu}}$, "
                  "samples sorted by\nclass (red +1, blue −1)", fontsize=9)
plt.show()

# %%
rich_s, ef_s, lazy_s = (stats[n] for n in names)
cu.check_close("last layer only: the features are the initial ones (d_eff)", ef_s["d_eff"], d_eff_init, rtol=1e-12)
cu.check_less("rich full backprop: d_eff below half that of last-layer-only (EF)", rich_s["d_eff"],
              0.5 * ef_s["d_eff"])
cu.check_less("alignment: EF + 0.3 below rich full backprop", ef_s["cka"] + 0.3, rich_s["cka"])
cu.check_less("lazy full backprop: d_eff within 10% of the EF value (features barely move)",
              abs(lazy_s["d_eff"] / ef_s["d_eff"] - 1), 0.1)
# The minimal-feature criterion of the MF/EF work, κ_CKA = 1 − A < 0.1 on held-out data, is not met: say so, and check it
cu.check_less("rich full backprop on held-out digits: κ_CKA = 1 − A above the MF threshold 0.1 (not MF there)", 0.1,
              rich_s["kappa_val"])
# (No check on the validation accuracies: their differences are a few standard errors of one draw, see below.)

# %% [markdown]
# Full backpropagation in the rich regime concentrates the features: the spectrum of their
# kernel drops steeply after the first nine or so eigenvalues, the effective dimension falls to
# about a quarter of the initial one, and the alignment with the class projector more than doubles;
# the kernel, sorted by class, shows blocks. Training only the last layer leaves the random, extended
# features: a slowly decaying spectrum with dozens of relevant directions and an alignment of about
# 0.4, the level of random ReLU features on these digits. The lazy control shows that full
# backpropagation by itself is not enough: at the NTK scale the same network, trained on all layers,
# ends with features almost as extended as the random ones (its hidden weights moved by a few
# percent, §5). Whether a network concentrates its features is decided by the regime, $\rho$, not by
# which parameters are trained. The margins of these checks are wide: the effective dimensions
# differ by a factor of about four, the alignments by about 0.5.
#
# **But is it the minimal-feature regime?** Not by the criterion of the MF/EF work. On the training
# digits $\kappa_{\rm CKA}$ is near the threshold 0.1 (table); on held-out digits it is about twice the threshold
# (checked: above 0.1), and the top nine eigenvalues of the held-out kernel spread by a factor of
# several (printed), where MF features would have them nearly equal. Over the second half of training
# the held-out $\kappa_{\rm CKA}$ hardly moves while the training loss keeps falling (printed): with the squared
# loss the gradient vanishes as the training set is fitted, so nothing pulls the within-class spread
# of the features to zero or equalises the class directions; and the
# held-out $\kappa_{\rm CKA}$ is limited by the held-out errors too (a misclassified digit sits with the wrong
# class; [Minimal and extended features](05_minimal_features.ipynb) shows that for ten classes the
# threshold 0.1 on held-out data asks for a held-out error below about 5 % even for perfectly
# collapsed features). What the rich network learns here is a low-dimensional, class-aligned representation of
# its training set, of about the dimension of the task, that carries over to new digits only in part:
# a step from EF towards MF, not the MF regime itself. Continued training towards the class means,
# neural collapse, is what makes the features minimal; the next chapter,
# [Neural collapse](03_neural_collapse.ipynb), follows it. (Nor does validation accuracy tell the three
# networks apart on this easy task: in the table above all three score within a few points of each
# other, and the rich network scored 0.95–0.96 at COURSE_SEED 0–3. The last-layer-only model scored 2 to
# 4 points below the rich one at COURSE_SEED 0–3, but on 500 validation images that is two to four
# standard errors of a single draw, so we do not claim it.)
# [Grokking II](../05_grokking/02_grokking_phase_diagrams.ipynb) reads the same two diagnostics on a
# network that starts lazy and groks under weight decay: there they barely move through the delay,
# and the weight norm is what tracks it.
#
# ## 7. What it means
#
# - The lazy regime of the NTK chapter is one end of a single axis. For the two-layer linear
#   model the whole dynamics is a Lorentz boost of every unit by one rapidity, solved in closed
#   form, and depends on the initialisation only through the weight-to-target ratio
#   $\rho = \gamma\|\theta_0\|^2/2ZS$ {eq}`eq-lazyrich-rho` (and the initial output).
# - $\rho\gg1$: the weights move by $1/2\rho$ of their size and the output relaxes at the tangent
#   kernel's rate: lazy. $\rho\ll1$: the weights grow by $\rho^{-1/2}$, after a plateau of length
#   $\ln(1/\rho)$: rich. Smaller initialisation, larger targets, smaller inputs and smaller outputs
#   all lower $\rho$; the NTK parameterisation raises it like $\sqrt{\text{width}}$.
# - A real ReLU network follows the scalar model on its lazy side quantitatively and with the
#   right exponents on its rich side; its weights move like $n^{-1/2}$ with width, its tangent
#   kernel faster.
# - What rich learning buys is concentrated features: a last hidden layer whose kernel has about as
#   many directions as there are classes and is aligned with them on the training set, a step towards
#   minimal features (not yet the MF regime on held-out data). Lazy learning and last-layer training
#   keep extended random features.
#
# ## Exercises
#
# :::{exercise} The relative weight change as a function of ρ
# :label: ex-lazyrich-change
#
# For the scalar model started with $w_0 = 0$, derive $\|\theta_\infty - \theta_0\|/\|\theta_0\|$ as a
# function of $\rho$ alone, without the rapidity: express $\cosh\tau_\infty$ through $\rho$. Implement it
# as `relative_change(rho)` (NumPy, vectorised, without `course_utils.theory.lazy_rich`) and check
# it with `exercises.check_relative_change(relative_change)`. Then read off the lazy and rich limits.
# :::
#
# :::{solution-start} ex-lazyrich-change
# :class: dropdown
# :::
#
# At $\omega = 0$, $\sinh 2\tau_\infty = 1/\rho$, so $\cosh 2\tau_\infty = \sqrt{1 + \rho^{-2}}$ and
# $\cosh\tau_\infty = \sqrt{(1 + \cosh 2\tau_\infty)/2}$. Then
# $\Delta^2 = 2(\cosh\tau_\infty - 1)\cosh\tau_\infty = 1 + \cosh 2\tau_\infty - 2\cosh\tau_\infty$, i.e.
#
# $$
# \Delta(\rho) = \sqrt{1 + \sqrt{1 + \rho^{-2}} - \sqrt{2\bigl(1 + \sqrt{1 + \rho^{-2}}\bigr)}}.
# $$ (eq-lazyrich-delta)
#
# For $\rho\to\infty$, $\sqrt{1 + \rho^{-2}}\approx 1 + 1/2\rho^2$ and $\Delta^2\approx 1/4\rho^2$: $\Delta\approx 1/2\rho$.
# For $\rho\to0$ the middle term dominates, $\Delta^2\approx 1/\rho$: $\Delta\approx\rho^{-1/2}$.

# %%
def relative_change(rho):
    c2 = np.sqrt(1 + np.asarray(rho, dtype=float) ** -2)
    return np.sqrt(1 + c2 - np.sqrt(2 * (1 + c2)))


solved = exercises.check_relative_change(relative_change)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} The lazy rate is the tangent kernel
# :label: ex-lazyrich-rate
#
# Compute the tangent kernel $\Theta = \sum_i(\partial f/\partial a_i)^2 + (\partial f/\partial b_i)^2$ of the
# scalar model at $x = 1$ and show that for $\rho\gg1$ (and $\omega = 0$) the closed-form rate
# $\lambda$ equals $\Theta$ at initialisation, so that the loss decays like $e^{-2\Theta t}$, as kernel
# regression with a frozen kernel predicts. What is $\lambda$ for $\rho\ll1$, and why does it not
# depend on $\alpha$?
# :::
#
# :::{solution} ex-lazyrich-rate
# :class: dropdown
#
# $\partial f/\partial a_i = \gamma b_i/Z$, $\partial f/\partial b_i = \gamma a_i/Z$, so $\Theta = \gamma^2\|\theta\|^2/Z^2$. At
# $\omega = 0$, $\lambda = (2\gamma S/Z)\sqrt{1 + \rho^2}\to 2\gamma S\rho/Z = \gamma^2\|\theta_0\|^2/Z^2 = \Theta_0$ for
# $\rho\gg1$. The function-space equation $\dot f = -\Theta(f - y)$ then gives the residual
# $\propto e^{-\Theta t}$ and the loss $\propto e^{-2\Theta t}$. For $\rho\ll1$, $\lambda\to 2\gamma S/Z$: near
# convergence the weights are those of the target, $\|\theta_\infty\|^2\approx 2ZS/\gamma$, and the rate
# is the tangent kernel *at the end*, $\gamma^2\|\theta_\infty\|^2/Z^2 = 2\gamma S/Z$, which the
# initialisation no longer affects.
# :::
#
# :::{exercise} Mean-field scaling and the plateau
# :label: ex-lazyrich-meanfield
#
# In the mean-field parameterisation $Z = p$ with $a_i, b_i\sim\mathcal N(0,\alpha^2)$, show that
# $\rho\to\gamma\alpha^2/S$ as $p\to\infty$. Using the closed form {eq}`eq-lazyrich-closed-form`, compute the time at which the output
# of a rich model ($\omega = 0$) reaches half the target, and compare with $\ln(1/\rho)/\lambda$ for
# $\rho = 10^{-2}, 10^{-4}, 10^{-6}$.
# :::
#
# :::{solution-start} ex-lazyrich-meanfield
# :class: dropdown
# :::
#
# $\|\theta_0\|^2\approx 2p\alpha^2$, so $\rho\approx\gamma\,2p\alpha^2/(2pS) = \gamma\alpha^2/S$, independent of $p$. The
# half-way time solves $\rho\sinh 2\tau = 1/2$; in the code below the closed form is evaluated on
# a time grid and the crossing located. It is $\ln(1/\rho)/\lambda$ plus a constant, $\ln 2/\lambda$: for
# $\rho\to0$, $s_+\approx 2/\rho$, $s_-\approx-\rho/2$, half the target means $s = 1/\rho$, and the closed form gives
# $-1 = -(2/\rho)e^{-\lambda t}$, i.e. $\lambda t_{1/2} = \ln(2/\rho)$. The plateau grows logarithmically as the
# initialisation shrinks.

# %%
for rho_ex in (1e-2, 1e-4, 1e-6):
    m_ex = theory.ScalarModel(norm_sq=2 * rho_ex, w0=0.0)          # γ = S = Z = 1, so ρ = ‖θ₀‖²/2
    t_grid = np.linspace(0, 20, 200_001)
    t_half = t_grid[np.argmax(m_ex.output(t_grid) >= 0.5)]
    print(f"ρ = {rho_ex:.0e}: t_half·λ = {t_half * m_ex.rate:.2f}, ln(1/ρ) = {np.log(1 / rho_ex):.2f}")

# %% [markdown]
# :::{solution-end}
# :::
#
# ## Summary
#
# - Two-layer linear model: each unit is boosted by a common rapidity; with the conserved
#   $a_i^2 - b_i^2$ the output follows a closed form that matches the ODE solution to $10^{-6}$ and
#   gradient descent to its discretisation error.
# - One number decides lazy versus rich: $\rho = \gamma\|\theta_0\|^2/2ZS$ {eq}`eq-lazyrich-rho`. All four knobs collapse onto
#   the curve $\Delta(\rho)$, $\approx 1/2\rho$ lazy and $\approx\rho^{-1/2}$ rich (checked to 1 % over 28 runs);
#   $Z = \sqrt p$ drives the model lazy as $p^{-1/2}$.
# - A ReLU network on digits: weight change $\propto\alpha^{-2}$ (lazy), $\alpha^{-1}$ (rich), $n^{-1/2}$
#   (width); the tangent kernel's change splits into a smooth part, $\propto n^{-1}$ and $\alpha^{-2}$, and
#   a part from ReLU switching, $\propto n^{-3/4}$ (both through the measured preactivation change).
# - Rich full backpropagation concentrates the features (low effective dimension, high alignment
#   with the class projector on the training set; on held-out digits short of the MF criterion
#   $\kappa_{\rm CKA} < 0.1$); last-layer training and lazy backpropagation keep extended ones.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
