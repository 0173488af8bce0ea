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
# # Layerwise dynamics: why do networks learn in sigmoids, stages and saddles?
#
# In the [NTK chapter](../03_wide_networks/02_ntk.ipynb) a wide network trained like a linear
# model: every direction of function space relaxed exponentially, at a rate fixed by a kernel that
# never changed. Real networks often learn differently: the loss sits on a plateau, drops, sits on
# another plateau, drops again, as if the network learned one thing at a time. What in a network
# makes learning *stage-like*, and when does the lazy picture of the previous part stop
# describing it? The smallest models that answer this are products of weights: a two-layer
# "diagonal" network, where each input feature is learned through a product $a_ib_i$, and deep
# linear networks {cite:p}`saxe2014exact`. They are linear as functions of the input but not of
# the weights, and that is enough: a weight grows as fast as its partner already is large, the
# feedback turns exponentials into sigmoids, and a small initialisation turns sigmoids into stages.
# We derive every formula, solve the dynamics in closed form, and check each one against
# gradient-descent training and an ODE solve.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)
# (gradient flow mode by mode) and
# [Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb)
# (the linearised, lazy network).
# **Runs in:** under a minute on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# uses finer grids, more step sizes and smaller initialisations.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/04_feature_learning/01_layerwise_dynamics.ipynb)
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

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.integrate import solve_ivp

import course_utils as cu
from course_utils.exercises import layerwise_dynamics as exercises
from course_utils.models.deep_linear import DeepLinearNetwork, balanced_factors, end_to_end, whitened_loss
from course_utils.theory import layerwise as theory

cu.use_house_style()
# The models are tiny: one CPU core is the fastest device, and float64 keeps rounding far below
# the gradient-descent discretisation effects we measure.
device = cu.setup(device="cpu")
torch.set_default_dtype(torch.float64)
C = cu.plotting.PALETTE

# %% [markdown]
# ## Parameters
#
# Gradient descent with step $\eta$ follows gradient flow at the time $t = \eta\times$ steps, with an
# error of order $\eta$; the steps below keep that error at the percent level.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        n_samples=256, diag_lr=0.01, diag_T=80.0, drift_lrs=(0.04, 0.02, 0.01),   # §1–2
        stage_lr=0.01, grid_sigma=14, grid_ratio=14,                             # §3
        depth_a0=(0.05, 0.08, 0.12, 0.2, 0.3), depth_lr=0.02,                    # §4
        dln_width=256, dln_lr=0.005, dln_T=20.0,                                  # §5
    ),
    paper=dict(drift_lrs=(0.04, 0.02, 0.01, 0.005), grid_sigma=30, grid_ratio=30,
               depth_a0=(0.03, 0.05, 0.08, 0.12, 0.2, 0.3), depth_lr=0.01),
)
P

# %% [markdown]
# ## 1. A product of weights versus a single weight
#
# **The model.** Inputs $x\in\mathbb R^d$ with independent Gaussian components of variances
# $\lambda_i$, and a linear target $f^*(x) = \sum_i S_ix_i$. Two students: the **linear model**
# $f = x\cdot\theta$, and the **diagonal model** $f = \sum_i x_i\,a_ib_i$, a two-layer linear
# network with one hidden unit per feature (input weight $b_i$, output weight $a_i$). Both
# represent the same functions, with $\theta_i = w_i := a_ib_i$. With the squared loss
# $L = \frac12\mathbb E[(f - f^*)^2]$ the cross terms vanish ($\mathbb E x_ix_j = \lambda_i\delta_{ij}$), so
#
# $$
# L_{\rm lin} = \tfrac12\sum_i\lambda_i(\theta_i - S_i)^2,\qquad
# L_{\rm diag} = \tfrac12\sum_i\lambda_i(a_ib_i - S_i)^2 .
# $$
#
# Every mode is on its own; we drop the index $i$.
#
# **The linear model** relaxes exponentially: $\dot\theta = -\lambda(\theta - S)$ gives
# $\theta(t) = S + (\theta_0 - S)e^{-\lambda t}$, at a rate $\lambda$ that does not depend on the
# target ([Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)). From $\theta_0 = 0$ it reaches the fraction $f$ of $S$ at
# $t_f = -\ln(1 - f)/\lambda$.
#
# **The diagonal model.** Gradient flow is
#
# $$
# \dot a = -\lambda(ab - S)\,b,\qquad \dot b = -\lambda(ab - S)\,a .
# $$
#
# Two facts follow. First, $\frac{d}{dt}(a^2 - b^2) = 2a\dot a - 2b\dot b = -2\lambda(ab - S)(ab - ab) = 0$:
# the **imbalance** $c = a^2 - b^2$ is conserved. (It is the conservation law of the rescaling
# symmetry $a\to\gamma a$, $b\to b/\gamma$ of the loss.) Second, the product $w = ab$ obeys
#
# $$
# \dot w = \dot a\,b + a\,\dot b = \lambda(S - w)\,(a^2 + b^2) = \lambda(S - w)\sqrt{c^2 + 4w^2},
# $$ (eq-layerwise-feedback)
#
# using $(a^2 + b^2)^2 = (a^2 - b^2)^2 + 4a^2b^2$. Compare with the linear model: the rate at which
# the mode is learned is no longer $\lambda$ but $\lambda(a^2 + b^2)$, and it grows with $w$ itself.
# This is the **dynamical feedback**: $a$ is pulled at a speed proportional to $b$, and $b$ at a speed
# proportional to $a$, so the more of a mode has been learned, the faster it is learned (the *dynamical feedback principle* of
# {cite:t}`nam2025position`, who build their account of stage-like learning, emergence, neural collapse,
# lazy and rich learning and grokking on these layerwise models).
#
# **The sigmoid.** For a balanced start ($c = 0$), $\dot w = 2\lambda w(S - w)$ for $w > 0$: the
# logistic equation, with solution
#
# $$
# w(t) = \frac{S}{1 + (S/w_0 - 1)\,e^{-2\lambda S t}} .
# $$ (eq-layerwise-logistic)
#
# It reaches the fraction $f$ of $S$ at $t_f = \bigl[\ln(S/w_0 - 1) + \ln\frac{f}{1-f}\bigr]/(2\lambda S)$.
# Two time scales appear. The **delay** before anything visible happens,
# $t_{1/2}\approx \ln(S/w_0)/(2\lambda S)$, grows as the logarithm of one over the initial product $w_0\sim$
# (init scale)$^2$; the **width** of the sigmoid, from 10 % to 90 %, is $\ln 81/(2\lambda S)$ and does not
# depend on the initialisation at all. Both are set by $\lambda S$, the input–output correlation
# $\mathbb E[x_if^*] = \lambda_iS_i$ of the mode, not by the input variance alone: a strongly
# correlated direction is learned first.
#
# For $c\neq 0$ put $q = |c|/2$, $r = \sqrt{S^2 + q^2}$ and $y = w + \sqrt{w^2 + q^2}$ (so that
# $w = (y - q^2/y)/2$). Then
#
# $$
# \dot y = \frac{y}{\sqrt{w^2+q^2}}\,\dot w = 2\lambda y(S - w) = \lambda(2Sy + q^2 - y^2) = -\lambda(y - y_+)(y - y_-),
# \qquad y_\pm = S\pm r,
# $$
#
# a Riccati equation whose solution is
#
# $$
# \frac{y(t) - y_+}{y(t) - y_-} = \frac{y_0 - y_+}{y_0 - y_-}\,e^{-2\lambda r t} .
# $$ (eq-layerwise-riccati)
#
# For $q\to 0$ and $w_0 > 0$ it is the logistic {eq}`eq-layerwise-logistic` again ($y = 2w$, $y_- = 0$); for $S < 0$ flip the signs
# of $w$ and $S$ (the equation for $w$ is symmetric under it). Both are in
# `course_utils.theory.layerwise` (`diagonal_mode`, and its inverse `diagonal_time_to`). Before
# we trust them, an ODE solve of the $(a, b)$ equations for a few random starts:

# %%
rng = np.random.default_rng(cu.seed(0))
ode_err = []
for _ in range(5):
    lam_, S_ = rng.uniform(0.2, 2.0), rng.choice([-1, 1]) * rng.uniform(0.3, 3.0)
    a_, b_ = rng.normal(0, 0.1, size=2)
    t_ = np.linspace(0, 30 / (lam_ * abs(S_)), 60)
    sol = solve_ivp(lambda t, z: [-lam_ * (z[0] * z[1] - S_) * z[1], -lam_ * (z[0] * z[1] - S_) * z[0]],
                    (0, t_[-1]), [a_, b_], t_eval=t_, rtol=1e-11, atol=1e-14)
    ode_err.append(np.max(np.abs(sol.y[0] * sol.y[1] - theory.diagonal_mode(t_, lam_, S_, a_ * b_, a_**2 - b_**2)))
                   / abs(S_))
cu.check_less("closed form vs ODE solve, 5 random (λ, S, a₀, b₀): max |Δw|/|S|", max(ode_err), 1e-8)

# %% [markdown]
# **The experiment.** Four features with variances $\lambda = (1, 1, \frac14, \frac14)$ and target
# coefficients $S = (2, \frac12, 2, \frac12)$, so the correlations $\lambda S$ are $2, \frac12, \frac12, \frac18$.
# We draw $N = 256$ Gaussian inputs and transform them linearly so that their empirical covariance is exactly
# $\mathrm{diag}(\lambda)$: then the training loss *is* the population loss above, and training
# tests the dynamics, not sampling noise. Both models are trained by full-batch gradient
# descent on $\frac1{2N}\sum_\mu(f(x_\mu) - y_\mu)^2$ with autograd. The linear model starts at
# $\theta = 0$; the diagonal model at the small, deliberately unbalanced $a_i = 0.02$, $b_i = 0.005$
# ($w_0 = 10^{-4}$, $c = 3.75\times10^{-4}$), so that the conservation law has something to conserve.

# %%
lam = np.array([1.0, 1.0, 0.25, 0.25])
S = np.array([2.0, 0.5, 2.0, 0.5])
d = lam.size
Z = rng.standard_normal((P.n_samples, d))
evals, evecs = np.linalg.eigh(Z.T @ Z / P.n_samples)
X = Z @ evecs @ np.diag(evals ** -0.5) @ evecs.T * np.sqrt(lam)      # empirical covariance exactly diag(λ)
Xt, yt = torch.tensor(X), torch.tensor(X @ S)
a0, b0 = np.full(d, 0.02), np.full(d, 0.005)
w0, c0 = a0 * b0, a0**2 - b0**2
print(f"max |XᵀX/N − diag(λ)| = {np.abs(X.T @ X / P.n_samples - np.diag(lam)).max():.0e}")


def train_diagonal_and_linear(lr, T, record_every):
    """Full-batch GD on both models; returns times and the recorded w = ab, θ and c = a² − b²."""
    a, b = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    theta = torch.zeros(d, requires_grad=True)
    steps, rec = round(T / lr), []
    for k in range(steps + 1):
        if k % record_every == 0:
            rec.append(torch.cat([a * b, theta, a**2 - b**2]).detach().numpy())
        if k == steps:
            break
        loss = 0.5 * (((Xt * (a * b)).sum(1) - yt) ** 2).mean() + 0.5 * ((Xt @ theta - yt) ** 2).mean()
        grads = torch.autograd.grad(loss, (a, b, theta))
        with torch.no_grad():
            for p, g in zip((a, b, theta), grads):
                p -= lr * g
    rec = np.array(rec)
    return np.arange(len(rec)) * record_every * lr, rec[:, :d], rec[:, d:2 * d], rec[:, 2 * d:]


t1, w_gd, theta_gd, c_gd = train_diagonal_and_linear(P.diag_lr, P.diag_T, record_every=10)
w_th = theory.diagonal_mode(t1[:, None], lam, S, w0, c0)
theta_th = theory.linear_mode(t1[:, None], lam, S)

# %% [markdown]
# ## 2. The comparison: exponentials versus sigmoids

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4, sharey=True)
labels = [f"$\\lambda={l:g}$, $S={s:g}$" for l, s in zip(lam, S)]
shown = np.unique(np.round(np.geomspace(1, len(t1) - 1, 40)).astype(int))      # markers evenly in log t
for i in range(d):
    for ax, th, gd in ((axes[0], theta_th, theta_gd), (axes[1], w_th, w_gd)):
        ax.plot(t1[1:], th[1:, i] / S[i], "-", color=C[i], label=labels[i] + " (theory)")
        ax.plot(t1[shown], gd[shown, i] / S[i], "o", mfc="none", color=C[i], label=labels[i] + " (GD)")
axes[0].set_title("linear model $f = x\\cdot\\theta$")
axes[1].set_title("diagonal model $f = \\sum_i x_i a_i b_i$")
axes[0].set_ylabel("fraction of the mode learned, $w_i/S_i$")
for ax in axes:
    ax.set_xlabel("training time $t = \\eta\\times$steps")
    ax.set_xscale("log")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=7)
plt.show()

# %%
t_cross = {f: theory.crossing_time(f, lam, S, w0, c0) for f in (0.1, 0.5, 0.9)}
t_half_gd = np.array([np.interp(0.5, w_gd[:, i] / S[i], t1) for i in range(d)])
t_half_lin_gd = np.array([np.interp(0.5, theta_gd[:, i] / S[i], t1) for i in range(d)])
print("mode:                              " + "   ".join(f"{i + 1:>6d}" for i in range(d)))
print("λS:                                " + "   ".join(f"{v:6.3f}" for v in lam * S))
print("diagonal: t½ measured              " + "   ".join(f"{v:6.2f}" for v in t_half_gd))
print("diagonal: t½ closed form           " + "   ".join(f"{v:6.2f}" for v in t_cross[0.5]))
print("diagonal: ln(S/w₀)/(2λS)           " + "   ".join(f"{v:6.2f}" for v in np.log(S / w0) / (2 * lam * S)))
print("diagonal: width t₉₀ − t₁₀          " + "   ".join(f"{v:6.2f}" for v in t_cross[0.9] - t_cross[0.1]))
print("linear:   t½ measured (ln 2/λ)     " + "   ".join(f"{v:6.2f}" for v in t_half_lin_gd))
cu.check_close("linear model: GD trajectory vs exponential relaxation", theta_gd, theta_th, rtol=0.01)
cu.check_close("diagonal model: GD trajectory vs closed form", w_gd, w_th, rtol=0.02)
cu.check_close("diagonal model: half-learning times t½ (every mode)", t_half_gd, t_cross[0.5], rtol=0.02, mode="every")
cu.check_close("linear model: half-learning times (every mode)", t_half_lin_gd, np.log(2) / lam, rtol=0.02,
               mode="every")

# %% [markdown]
# The linear model learns modes 1 and 2 together and modes 3 and 4 together: its clock is the
# input variance $\lambda$, whatever the target. The diagonal model waits, then learns each mode
# along a sigmoid, in the order of $\lambda S$: mode 1 first; modes 2 and 3, with the same
# $\lambda S = \frac12$ but different $\lambda$, close together (their delays differ only by
# $\ln(S/w_0)$, through $S$); mode 4 last, after a delay more than ten times its linear-model
# time. The closed form (lines) lies on gradient descent (markers) to well below 1 %, the size
# of the $O(\eta)$ discretisation error. The small-initialisation estimate $\ln(S/w_0)/(2\lambda S)$
# of the delay is about 5 % long: it ignores the imbalance $c$, which adds to $a^2 + b^2$ and so
# speeds up the start.
#
# **The conservation law under gradient descent.** Gradient flow conserves $c = a^2 - b^2$
# exactly; a gradient step does not. With $g = \lambda(ab - S)$, one step
# $a\leftarrow a - \eta g b$, $b\leftarrow b - \eta g a$ gives
# $a^2 - b^2 \leftarrow (a^2 - b^2) - 2\eta g ab + 2\eta g ab + \eta^2g^2(b^2 - a^2)$, that is
#
# $$
# c_{k+1} = c_k\,(1 - \eta^2g_k^2)\quad\Longrightarrow\quad
# \ln\frac{c(T)}{c(0)} = \sum_k\ln(1 - \eta^2g_k^2) \approx -\eta\int_0^T g(t)^2\,dt ,
# $$ (eq-layerwise-drift)
#
# a drift of order $\eta$ over a fixed training time, whose prefactor the closed form gives
# (`theory.conservation_drift`, a quadrature along $w(t)$). (A balanced start, $c = 0$, stays exactly
# balanced.) We train at three step sizes for the same time $T$:

# %%
drift_measured, drift_predicted = [], []
for lr in P.drift_lrs:
    _, _, _, c_run = (train_diagonal_and_linear(lr, P.diag_T, record_every=round(P.diag_T / lr))
                      if lr != P.diag_lr else (None, None, None, c_gd))
    drift_measured.append(np.log(c_run[-1] / c_run[0]))
    drift_predicted.append(theory.conservation_drift(lr, P.diag_T, lam, S, w0, c0))
drift_measured, drift_predicted = np.array(drift_measured), np.array(drift_predicted)
lrs = np.array(P.drift_lrs)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.8))
for i in range(d):
    ax.plot(lrs, -drift_predicted[:, i], "-", color=C[i], label=labels[i] + ": $\\eta\\int g^2dt$ (theory)")
    ax.plot(lrs, -drift_measured[:, i], "o", mfc="none", color=C[i])
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("learning rate $\\eta$")
ax.set_ylabel("$-\\ln[c(T)/c(0)]$, relative drift of $a^2-b^2$")
ax.set_title(f"markers: gradient descent for the time T = {P.diag_T:g}")
fig.legend(loc="outside lower center", ncol=2, fontsize=7)
plt.show()

# %%
slope = -cu.fit_power_law(lrs, -drift_measured[:, 0]).alpha
cu.check_close("drift of a² − b² vs the first-order prediction −η∫g²dt (all modes, all η)", drift_measured,
               drift_predicted, rtol=0.05)
cu.check_close("exponent of the drift in η (mode 1)", slope, 1.0, atol=0.05)

# %% [markdown]
# The drift is proportional to $\eta$ (slope 1), and its size is the first-order prediction to
# within a few percent; the remainder is the next order in $\eta$. The conservation law is a
# property of the flow, and gradient descent respects it up to the same $O(\eta)$ error as
# everything else: the mode that moves fastest (mode 1) drifts most.
#
# ## 3. When is learning stage-like?
#
# **The condition.** Call a mode *emerged* when it has reached 10 % of its target and *saturated*
# at 90 %. Learning is **stage-like** when, ordered by emergence, each mode saturates before the
# next emerges, $t_{90}(k) < t_{10}(k+1)$: the loss then shows one drop per mode, separated by
# plateaus. For two balanced modes with equal $\lambda$ and targets $S_1 > S_2$, the crossing time
# $t_f$ of the logistic {eq}`eq-layerwise-logistic` turns this into
#
# $$
# \frac{\ln(S_1/w_0 - 1) + \ln 9}{S_1} < \frac{\ln(S_2/w_0 - 1) - \ln 9}{S_2}
# \quad\xrightarrow{w_0\to0}\quad
# \frac{S_1}{S_2} > \frac{\ell_1 + \ln 9}{\ell_2 - \ln 9},\qquad \ell_k = \ln\frac{S_k}{w_0}.
# $$ (eq-layerwise-stages)
#
# The delay grows like $\ln(1/w_0)$ while the width does not, so the smaller the initialisation,
# the closer two modes may be and still be learned one after the other: as $w_0\to0$ any ratio
# $S_1/S_2 > 1$ gives stages. The linear model has no such knob: its $t_{10} = \ln\frac{10}{9}/\lambda$
# and $t_{90} = \ln 10/\lambda$ give stages only if the *input variances* differ by
# $\lambda_1/\lambda_2 > \ln 10/\ln\frac{10}{9}\approx 22$, and never for modes of equal variance.
#
# Two runs of the diagonal model with $\lambda = 1$ and $S = (3, 1.5, 0.75)$ from a balanced start
# $a = b = \sigma$, one with a small and one with a moderate initialisation:

# %%
S3, lam3 = np.array([3.0, 1.5, 0.75]), np.ones(3)


def train_balanced(S_grid, sigma, lr, T, record_every=1):
    """GD on ½Σ(ab − S)² (λ = 1) for many balanced diagonal models at once (a = b = σ stays balanced)."""
    a = np.broadcast_to(sigma, S_grid.shape).astype(float).copy()
    steps, rec = round(T / lr), []
    for k in range(steps + 1):
        if k % record_every == 0:
            rec.append(a * a)
        a = a - lr * (a * a - S_grid) * a          # the same step for a and for b
    return np.arange(len(rec)) * record_every * lr, np.array(rec)


stage_runs = {}
for sigma, T in ((1e-3, 14.0), (0.2, 4.0)):
    t_s, w_s = train_balanced(S3, sigma, P.stage_lr, T)
    em, sat = theory.crossing_time(0.1, lam3, S3, sigma**2), theory.crossing_time(0.9, lam3, S3, sigma**2)
    stage_runs[sigma] = dict(t=t_s, w=w_s, em=em, sat=sat,
                             em_gd=np.array([np.interp(0.1, w_s[:, i] / S3[i], t_s) for i in range(3)]),
                             sat_gd=np.array([np.interp(0.9, w_s[:, i] / S3[i], t_s) for i in range(3)]))

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
for ax, (sigma, r) in zip(axes, stage_runs.items()):
    loss_th = 0.5 * np.sum((theory.diagonal_mode(r["t"][:, None], lam3, S3, sigma**2) - S3) ** 2, axis=1)
    ax.plot(r["t"], loss_th, "k-", label="loss, theory")
    ax.plot(r["t"][::40], 0.5 * np.sum((r["w"] - S3) ** 2, axis=1)[::40], "ko", mfc="none", label="loss, GD")
    for i in range(3):
        ax.axvspan(r["em"][i], r["sat"][i], color=C[i], alpha=0.25,
                   label=f"mode $S={S3[i]:g}$: $t_{{10}}$ to $t_{{90}}$ (theory)")
    ax.set_yscale("log")
    ax.set_xlabel("training time $t$")
    ax.set_ylabel("loss $\\frac{1}{2}\\sum_i(w_i - S_i)^2$")
    verdict = "stage-like" if theory.is_stage_like(r["em"], r["sat"]) else "not stage-like"
    ax.set_title(f"$a = b = \\sigma = {sigma:g}$: {verdict}", fontsize=11)
axes[0].legend(fontsize=7)
plt.show()

# %%
for sigma, r in stage_runs.items():
    cu.check_close(f"σ = {sigma:g}: emergence and saturation times, GD vs closed form (every time)",
                   np.concatenate([r["em_gd"], r["sat_gd"]]), np.concatenate([r["em"], r["sat"]]), rtol=0.02,
                   mode="every")
    print(f"σ = {sigma:g}: stage-like by theory: {theory.is_stage_like(r['em'], r['sat'])}, "
          f"by GD: {theory.is_stage_like(r['em_gd'], r['sat_gd'])}")
cu.check_true("σ = 0.001 is stage-like under GD", theory.is_stage_like(stage_runs[1e-3]["em_gd"], stage_runs[1e-3]["sat_gd"]))
cu.check_true("σ = 0.2 is not stage-like under GD",
              not theory.is_stage_like(stage_runs[0.2]["em_gd"], stage_runs[0.2]["sat_gd"]))

# %% [markdown]
# With $\sigma = 10^{-3}$ the loss has three drops separated by plateaus: the three shaded
# windows do not overlap. With $\sigma = 0.2$ the same three modes are learned in overlapping
# windows and the loss falls smoothly. The knob is the initialisation, and the boundary is the
# inequality above. We map it: two modes with $S_1 = 1$ and $S_2 = S_1/\rho$, on a grid of
# initialisations $\sigma$ and ratios $\rho$, all trained at once (one NumPy array of models),
# and classified from the training curves.

# %%
sigmas = np.geomspace(1e-4, 0.15, P.grid_sigma)
ratios = np.geomspace(1.05, 4.0, P.grid_ratio)
S_grid = np.stack([np.ones((P.grid_ratio, P.grid_sigma)), 1.0 / ratios[:, None] * np.ones(P.grid_sigma)], axis=-1)
sigma_grid = sigmas[None, :, None] * np.ones_like(S_grid)
T_grid = 1.1 * theory.crossing_time(0.9, 1.0, S_grid[..., 1], sigma_grid[..., 1] ** 2).max()
t_g, w_g = train_balanced(S_grid, sigma_grid, P.stage_lr, T_grid, record_every=2)


def first_crossing(frac):
    """First recorded time at which each model's w/S passes frac (linear interpolation between records)."""
    x = w_g / S_grid
    k = np.argmax(x >= frac, axis=0)
    x0, x1 = np.take_along_axis(x, (k - 1)[None], 0)[0], np.take_along_axis(x, k[None], 0)[0]
    return t_g[k - 1] + (frac - x0) / (x1 - x0) * (t_g[1] - t_g[0])


em_gd, sat_gd = first_crossing(0.1), first_crossing(0.9)
stage_gd = sat_gd[..., 0] < em_gd[..., 1]
margin_th = theory.crossing_time(0.1, 1.0, S_grid[..., 1], sigma_grid[..., 1] ** 2) \
    - theory.crossing_time(0.9, 1.0, S_grid[..., 0], sigma_grid[..., 0] ** 2)
stage_th = margin_th > 0
fine_s, fine_r = np.geomspace(sigmas[0], sigmas[-1], 200), np.geomspace(ratios[0], ratios[-1], 200)
fs, fr = np.meshgrid(fine_s, fine_r)
margin_fine = theory.crossing_time(0.1, 1.0, 1 / fr, fs**2) - theory.crossing_time(0.9, 1.0, 1.0, fs**2)
ell1, ell2 = np.log(1 / fs**2), np.log(1 / (fr * fs**2))
margin_small = fr - (ell1 + np.log(9)) / np.maximum(ell2 - np.log(9), 1e-9)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.5, 4.2))
cu.plotting.phase_diagram(ax, sigmas, ratios, stage_gd.astype(int), xlabel="initialisation $a = b = \\sigma$",
                          ylabel="ratio of targets $\\rho = S_1/S_2$", colorbar_label="",
                          categorical_labels=["overlapping (GD)", "stage-like (GD)"])
ax.contour(fs, fr, margin_fine, levels=[0], colors="k")
ax.contour(fs, fr, np.where(ell2 > np.log(9), margin_small, -1), levels=[0], colors="w", linestyles="--")
ax.plot([], [], "k-", label="boundary, exact closed form")
ax.plot([], [], "w--", label="boundary, small-init estimate")
ax.legend(fontsize=8, loc="upper left", facecolor="0.6")
plt.show()

# %%
agree = np.mean(stage_gd == stage_th)
print(f"grid of {stage_gd.size} two-mode models: GD and the closed form classify {agree:.1%} of them alike")
cu.check_count("grid models classified differently by GD and by the closed form",
               int(np.sum(stage_gd != stage_th)), at_most=int(0.05 * stage_gd.size), of=stage_gd.size)
cu.check_close("emergence and saturation times over the whole grid, GD vs closed form (every time)",
               np.stack([em_gd, sat_gd]), np.stack([theory.crossing_time(f, 1.0, S_grid, sigma_grid**2) for f in (0.1, 0.9)]),
               rtol=0.02, mode="every")

# %% [markdown]
# Stage-like learning (orange) fills the small-initialisation side, and the boundary moves to
# ratios close to 1 as $\sigma\to0$, slowly, as $(\ell_1 + \ln9)/(\ell_2 - \ln 9)$ does. The exact
# boundary (black) separates the cells as gradient descent classifies them, and the small-init
# estimate (white dashes) lies on it over the whole range shown.
#
# ## 4. Deep linear networks: saddles and plateaus
#
# **The model.** A deep linear network $f(x) = W_L\cdots W_2W_1x$ with hidden widths $n_l$
# (`course_utils.models.deep_linear.DeepLinearNetwork`), whitened inputs ($\mathbb E\,xx^\top = I$)
# and targets $y = Mx$ (plus noise, which only adds a constant). Then
# $\mathcal L = \frac12\mathbb E\|y - f(x)\|^2 = \frac12\|W - M\|_F^2 + \text{const}$ with the end-to-end map
# $W = W_L\cdots W_1$ (`whitened_loss`; the tests check that it equals the loss on data with
# $X^\top X/N = I$). Write $M = \sum_\alpha s_\alpha u_\alpha v_\alpha^\top$ (singular values
# $s_1 > s_2 > \dots$) and $G = W - M$. With $P_l = W_L\cdots W_{l+1}$ and $Q_l = W_{l-1}\cdots W_1$,
# gradient flow is $\dot W_l = -P_l^\top G\,Q_l^\top$.
#
# **Conservation law.** $W_{l+1}^\top\dot W_{l+1} = -W_{l+1}^\top P_{l+1}^\top GQ_{l+1}^\top = -P_l^\top GQ_{l+1}^\top$
# and $\dot W_lW_l^\top = -P_l^\top GQ_l^\top W_l^\top = -P_l^\top GQ_{l+1}^\top$ are equal, so
#
# $$
# \frac{d}{dt}\bigl(W_{l+1}^\top W_{l+1} - W_lW_l^\top\bigr) = 0 ,
# $$ (eq-layerwise-conservation)
#
# the matrix version of $a^2 - b^2$ {cite:p}`du2018algorithmic`. A network started **balanced**,
# $W_{l+1}^\top W_{l+1} = W_lW_l^\top$ {cite:p}`arora2018optimization`, stays balanced.
#
# **Decoupled modes.** Start balanced and aligned with $M$: $W_1 = R_1\,\mathrm{diag}(a)\,V^\top$,
# $W_l = R_l\,\mathrm{diag}(a)\,R_{l-1}^\top$, $W_L = U\mathrm{diag}(a)R_{L-1}^\top$ with orthonormal $R_l$
# (`balanced_factors` of $U\mathrm{diag}(a^L)V^\top$). Then $W = U\mathrm{diag}(a^L)V^\top$, the gradient of
# every layer is diagonal in the same bases, and each mode keeps the form: every layer carries the
# same $a_\alpha$, with $\dot a_\alpha = a_\alpha^{L-1}(s_\alpha - a_\alpha^L)$. The **mode strength**
# $u_\alpha = a_\alpha^L = u_\alpha^\top Wv_\alpha$ obeys
#
# $$
# \dot u = L\,a^{L-1}\dot a = L\,u^{2 - 2/L}\,(s - u) .
# $$ (eq-layerwise-saxe)
#
# $L = 1$ is the linear model (rate 1 for every mode), and $L = 2$ is the balanced diagonal model
# of §1 with $\lambda = 1$: the logistic {eq}`eq-layerwise-logistic`, $u = s/[1 + (s/u_0 - 1)e^{-2st}]$ of {cite:t}`saxe2014exact`.
# For $L\geq3$, with $p = 2 - 2/L$, separating variables gives
#
# $$
# t(u) = \frac{s^{-p}}{L}\bigl[\Phi(u/s) - \Phi(u_0/s)\bigr],\qquad
# \Phi(v) = \int\frac{v^{-p}\,dv}{1 - v} = \sum_{n\ge0}\frac{v^{n+1-p}}{n + 1 - p} = \frac{v^{1-p}}{1 - p}\,{}_2F_1(1, 1 - p; 2 - p; v),
# $$ (eq-layerwise-saxe-time)
#
# inverted numerically (`theory.saxe_mode`). For $u_0\ll s$ the time to reach $s/2$ is dominated by
# the first term of the series: $t_{1/2}\approx\ln(s/u_0)/(2s)$ for $L = 2$, but
#
# $$
# t_{1/2}\approx\frac{1}{(L-2)\,s\,u_0^{1 - 2/L}} = \frac{1}{(L-2)\,s\,a_0^{L-2}}\qquad(L\geq3),
# $$ (eq-layerwise-plateau)
#
# a power of the per-layer initial scale $a_0$, not a logarithm: deeper networks sit much longer
# near the saddle at $W = 0$, and each mode escapes it at a time $\propto 1/s_\alpha$. First the
# closed form against an ODE solve:

# %%
t_ode = np.linspace(0, 60, 121)
for L in (1, 2, 3, 4, 6):
    sol = solve_ivp(lambda t, u: theory.saxe_rhs(u, 1.5, L), (0, t_ode[-1]), [1e-3], t_eval=t_ode, rtol=1e-11,
                    atol=1e-15, method="LSODA")
    cu.check_close(f"depth {L}: mode strength u(t), closed form vs ODE solve", theory.saxe_mode(t_ode, 1.5, 1e-3, L),
                   sol.y[0], rtol=1e-6)

# %% [markdown]
# **The experiment: depth and plateaus.** A target map $M$ from $\mathbb R^8$ to $\mathbb R^6$ of rank 4,
# $s = (3, 2, 1, \frac12)$ with random singular vectors, hidden width 16, depths $L = 2, 3, 4$,
# decoupled balanced starts with per-layer scales $a_0$ from 0.05 to 0.3, one member per $a_0$,
# trained by gradient descent on $\frac12\|W - M\|_F^2$. We read off the mode strengths
# $u_\alpha(t) = u_\alpha^\top W(t)v_\alpha$.

# %%
d_in, d_out = 8, 6
s_modes = np.array([3.0, 2.0, 1.0, 0.5])
Um, _ = np.linalg.qr(rng.standard_normal((d_out, 4)))
Vm, _ = np.linalg.qr(rng.standard_normal((d_in, 4)))
M = Um @ np.diag(s_modes) @ Vm.T
Mt = torch.tensor(M)


def mode_strengths(W):
    """u_α = u_αᵀ W v_α for the singular modes of M (W of shape (..., d_out, d_in))."""
    return np.einsum("ia,...ij,ja->...a", Um, W, Vm)


def train_dln(weights, lr, T, n_records=300):
    """Full-batch GD on ½‖W − M‖² (all members at once; cu.train with the loss as a closure of the weights);
    returns the times, the end-to-end maps at those times, and the trained weights."""
    ws = torch.nn.ParameterList([torch.nn.Parameter(w.detach().clone()) for w in weights])
    steps = round(T / lr)
    record = np.unique(np.round(np.geomspace(1, steps + 1, n_records) - 1).astype(int))
    hist = cu.train(ws, lambda m: whitened_loss(list(m), Mt), steps=steps, lr=lr, record_steps=record,
                    metrics={"map": lambda m: end_to_end([w.detach() for w in m])}, progress=False)
    return hist["step"] * lr, hist["map"], list(ws)


a0s = np.array(P.depth_a0)
depth_runs = {}
for L in (2, 3, 4):
    T = 1.1 * theory.saxe_time_to(0.9 * s_modes[-1], s_modes[-1], a0s[0] ** L, L)
    A = np.stack([Um @ np.diag(np.full(4, a**L)) @ Vm.T for a in a0s])
    Ws = balanced_factors(torch.tensor(A), [16] * (L - 1), generator=torch.Generator().manual_seed(cu.seed(L)))
    t_L, W_L, ws_end = train_dln(Ws, P.depth_lr, T)
    u_L = mode_strengths(W_L)                                   # (time, member, mode)
    half_gd = np.array([[np.interp(0.5, u_L[:, m, k] / s_modes[k], t_L) for k in range(4)] for m in range(len(a0s))])
    half_th = np.array([theory.saxe_time_to(s_modes / 2, s_modes, a**L, L) for a in a0s])
    imbalance = max(float(torch.linalg.norm(ws_end[l + 1].detach().transpose(-1, -2) @ ws_end[l + 1].detach()
                                            - ws_end[l].detach() @ ws_end[l].detach().transpose(-1, -2)))
                    for l in range(L - 1))
    depth_runs[L] = dict(t=t_L, u=u_L, half_gd=half_gd, half_th=half_th, imbalance=imbalance)

# %%
fits = {L: cu.fit_power_law(a0s[:3], depth_runs[L]["half_gd"][:3, 2]) for L in (3, 4)}  # t½ ∝ a₀^(−alpha)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
m_show = list(a0s).index(0.2)
for L, ls in zip((2, 3, 4), ("-", "--", ":")):
    r = depth_runs[L]
    for k in range(4):
        ax.plot(r["t"], theory.saxe_mode(r["t"], s_modes[k], a0s[m_show] ** L, L) / s_modes[k], ls, color=C[k],
                label=f"$s = {s_modes[k]:g}$" if L == 2 else None)
        ax.plot(r["t"][::12], r["u"][::12, m_show, k] / s_modes[k], "o", ms=3, mfc="none", color=C[k])
for L, ls in zip((2, 3, 4), ("-", "--", ":")):
    ax.plot([], [], ls, color="k", label=f"depth {L} (theory)")
ax.set_xscale("log")
ax.set_xlabel("training time $t$")
ax.set_ylabel("mode strength $u_\\alpha / s_\\alpha$")
ax.set_title(f"balanced decoupled start, $a_0 = {a0s[m_show]:g}$;\nmarkers: GD", fontsize=10)
ax.legend(fontsize=7, loc="upper left")
ax = axes[1]
for L in (2, 3, 4):
    r = depth_runs[L]
    a_fine = np.geomspace(a0s[0], a0s[-1], 100)
    ax.plot(a_fine, theory.saxe_time_to(0.5, 1.0, a_fine**L, L), "-", color=C[L - 2], label=f"depth {L}: closed form")
    ax.plot(a_fine, theory.saxe_plateau_time(1.0, a_fine**L, L), ":", color=C[L - 2])
    ax.plot(a0s, r["half_gd"][:, 2], "o", mfc="none", color=C[L - 2], label=f"depth {L}: GD")
ax.plot([], [], "k:", label="small-$a_0$ asymptotics")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("per-layer initial scale $a_0$")
ax.set_ylabel("plateau: time $t_{1/2}$ to learn\nthe mode $s = 1$")
ax.set_xticks([0.05, 0.1, 0.2, 0.3], ["0.05", "0.1", "0.2", "0.3"])
ax.xaxis.set_minor_formatter(plt.NullFormatter())   # the minor-tick labels overlap at this width
ax.legend(fontsize=7)
plt.show()

# %%
for L in (2, 3, 4):
    # gradient descent lags the flow: one step multiplies u = a^L by (1 + x)^L ≈ exp(L(x − x²/2)), x = ηa^(L−2)(s − u),
    # a rate too slow by the fraction x/2, of order ηs/2 at the transition; tolerance: ηs for each t½
    lag = np.abs(depth_runs[L]["half_gd"] / depth_runs[L]["half_th"] - 1) / (P.depth_lr * s_modes)
    cu.check_less(f"depth {L}: half-learning times of all modes and all a₀, GD vs closed form: largest relative "
                  "error in units of ηs", lag.max(), 1.0)
    cu.check_less(f"depth {L}: imbalance ‖W_(l+1)ᵀW_(l+1) − W_l W_lᵀ‖ after training (balanced start)",
                  depth_runs[L]["imbalance"], 1e-10)
# The closed form's own exponent over the same three a₀ is what the theory predicts for this range (L − 2 is
# its a₀ → 0 limit). Tolerance: each GD time is within ηs of the flow's (the check above), and a least-squares
# slope on x = ln a₀ moves by at most ηs·Σ|x − x̄|/Σ(x − x̄)² when each point moves by at most ηs.
x_fit = np.log(a0s[:3])
slope_bound = P.depth_lr * s_modes[2] * np.abs(x_fit - x_fit.mean()).sum() / ((x_fit - x_fit.mean()) ** 2).sum()
for L, fit in fits.items():
    fit_th = cu.fit_power_law(a0s[:3], depth_runs[L]["half_th"][:3, 2])
    small = np.array([1e-3, 1.6e-3, 2.4e-3])                      # the same ratios, 50× smaller
    fit_small = cu.fit_power_law(small, theory.saxe_time_to(0.5, 1.0, small ** L, L))
    print(f"depth {L}: t½ ∝ a₀^(−{fit.alpha:.3f} ± {fit.alpha_stderr:.3f}) over the three smallest a₀ (GD);\n    "
          f"closed form over the same a₀: {fit_th.alpha:.3f}; at a₀ = 0.001–0.0024: {fit_small.alpha:.4f} "
          f"(limit L − 2 = {L - 2})")
    cu.check_close(f"depth {L}: exponent of the plateau length in 1/a₀, GD vs the closed form over the same a₀",
                   fit.alpha, fit_th.alpha, atol=slope_bound)

# %% [markdown]
# Each mode is learned along its own sigmoid, in the order of its singular value, and the
# transitions get sharper and the plateaus longer with depth at the same per-layer scale. The
# learning times agree with the closed form for every depth, mode and initialisation, to about
# 1 % overall and, for each time, within the lag of gradient descent behind the flow (a fraction of
# order $\eta s/2$, largest for the fastest mode). The fitted exponents of the plateau length are those of
# the closed form over the same three $a_0$ (printed, and checked within the bound that the lag of
# gradient descent puts on a fitted slope); at depth 3 both lie above the asymptotic $L - 2 = 1$, because
# at $a_0 = 0.05$–$0.12$ the higher terms of the series for $\Phi$ still count (the dotted lines are the
# leading term alone): over $a_0$ fifty times smaller the closed form's exponent is within a few
# thousandths of $L - 2$ (printed). Gradient descent, not
# only the flow, learns the modes one at a time {cite:p}`gidel2019implicit`, and a balanced,
# decoupled start stays balanced under it, to rounding error
# ({numref}`exercise %s <ex-layerwise-gd-balance>` shows why).
#
# ## 5. Random initialisation: from saddle-to-saddle to lazy
#
# A decoupled start is a choice; a random one is what training usually does. Take a two-layer
# network ($L = 2$) of hidden width $n$ with independent Gaussian weights of scale $\sigma$
# ($W_{1}\sim\mathcal N(0, \sigma^2/d_{\rm in})$, $W_2\sim\mathcal N(0, \sigma^2/n)$, the module's default).
#
# **Small $\sigma$: silent alignment {cite:p}`atanasov2022neural`, then Saxe.** While the weights are small, $G\approx -M$ and
# $\dot W_1 = W_2^\top M$, $\dot W_2 = MW_1^\top$. Project on mode $\alpha$: the hidden-layer vectors
# $x = W_1v_\alpha$ and $y = W_2^\top u_\alpha$ obey $\dot x = s_\alpha y$, $\dot y = s_\alpha x$ exactly, so
# $x + y$ grows as $e^{s_\alpha t}$ and $x - y$ decays. After a time of order $1/s_\alpha$ the two layers are
# aligned and balanced in this mode, and $u_\alpha = x\cdot y\approx\frac14|x_0 + y_0|^2e^{2s_\alpha t}$, which
# is the early growth of the logistic started from
#
# $$
# u_{\rm eff,\alpha} = \tfrac14\,|W_1(0)v_\alpha + W_2(0)^\top u_\alpha|^2\ \sim\ \sigma^2
# $$ (eq-layerwise-ueff)
#
# (`theory.silent_alignment_strength`). The prediction is Saxe's sigmoid {eq}`eq-layerwise-saxe` from $u_{\rm eff}$, so the
# plateau before mode $\alpha$ lasts $\ln(s_\alpha/u_{\rm eff,\alpha})/(2s_\alpha)\approx\ln(1/\sigma^2)/(2s_\alpha)$:
# the network visits the saddles one after another, learning one more singular mode at each,
# a greedy low-rank path {cite:p}`saxe2019mathematical,gidel2019implicit,jacot2021saddle`.
#
# **Large $\sigma$: lazy.** Linearise $W = W_2W_1$ around the initial weights, as in the NTK
# chapter: the residual $R = W - M$ then obeys $\dot R = -(W_2W_2^\top R + RW_1^\top W_1)$, a linear
# equation whose generator is the tangent kernel $\Theta = (W_2W_2^\top)\otimes I + I\otimes(W_1^\top W_1)$
# (`theory.lazy_residual`; for gradient descent on the linearised model, $R_k = (1 - \eta\Theta)^kR_0$ exactly).
# At large width $W_1^\top W_1\approx\sigma^2(n/d_{\rm in})I$ and $W_2W_2^\top\approx\sigma^2I$: every mode
# relaxes at the same rate $\approx\sigma^2(1 + n/d_{\rm in})$, whatever its singular value. No
# sigmoids, no plateaus, no stages {cite:p}`chizat2019lazy,woodworth2020kernel`. "The same rate" is
# true up to the finite-width spread of the kernel's eigenvalues, $\mathrm{eig}(W_2W_2^\top)_i + \mathrm{eig}(W_1^\top W_1)_j$:
# the eigenvalues of $W_1^\top W_1$ fill the Marchenko–Pastur interval $\sigma^2(n/d_{\rm in})(1\pm\sqrt{d_{\rm in}/n})^2$,
# about $\pm35\,\%$ around $\sigma^2 n/d_{\rm in}$ here, so the fastest and slowest directions differ by a
# factor of about 2, whatever the target.
#
# One ensemble of five networks of width 256, $\sigma$ from $10^{-4}$ to 1, trained together:

# %%
init_scales = [1e-4, 1e-3, 1e-2, 0.1, 1.0]
net = DeepLinearNetwork(d_in, P.dln_width, d_out, depth=2, init_scale=init_scales, n_members=len(init_scales),
                        generator=torch.Generator().manual_seed(cu.seed(4)))
W0 = [w.detach().numpy().copy() for w in net.weights]
t_r, W_r, _ = train_dln(list(net.weights), P.dln_lr, P.dln_T, n_records=400)
u_r = mode_strengths(W_r)                                           # (time, member, mode)
u_eff = np.array([theory.silent_alignment_strength(W0[0][m], W0[1][m], M)[:4] for m in range(len(init_scales))])
loss_r = 0.5 * np.sum((W_r - M) ** 2, axis=(2, 3))
R_lazy = {m: theory.lazy_residual([W0[0][m], W0[1][m]], M, t_r, lr=P.dln_lr) for m in (3, 4)}
rich = [m for m in range(len(init_scales)) if np.all(u_eff[m] < s_modes / 4)]   # Saxe needs u_eff ≪ s
half_r_gd = np.array([[np.interp(0.5, np.maximum.accumulate(u_r[:, m, k]) / s_modes[k], t_r) for k in range(4)]
                      for m in rich])
half_r_th = np.array([theory.saxe_time_to(s_modes / 2, s_modes, u_eff[m], 2) for m in rich])

# %% tags=["hide-input"]
fig, axes = cu.panels(3, panel_height=3.4)
ax = axes[0]
for m, sg in enumerate(init_scales):
    if m in rich:
        u_th = np.stack([theory.saxe_mode(t_r, s_modes[k], u_eff[m, k], 2) for k in range(4)], axis=1)
        loss_theory = 0.5 * np.sum((u_th - s_modes) ** 2, axis=1)
    else:
        loss_theory = 0.5 * np.sum(R_lazy[m] ** 2, axis=(1, 2))
    ax.plot(t_r[1:], loss_theory[1:], "-", color=C[m], label=f"$\\sigma = {sg:g}$ ({'Saxe' if m in rich else 'lazy'} theory)")
    ax.plot(t_r[1::10], loss_r[1::10, m], "o", ms=3, mfc="none", color=C[m])
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_ylim(1e-4, 30)
ax.set_xlabel("training time $t$")
ax.set_ylabel("loss $\\frac{1}{2}\\|W - M\\|_F^2$")
ax.set_title(f"markers: GD, width {P.dln_width}")
# the top-left panel's legend goes into the empty bottom-right corner of the figure
fig.legend(*ax.get_legend_handles_labels(), fontsize=8, title="top left: loss", title_fontsize=8, loc="center",
           bbox_to_anchor=(0.76, 0.27))
for ax, m in zip(axes[1:], (0, 4)):
    for k in range(4):
        th = (theory.saxe_mode(t_r, s_modes[k], u_eff[m, k], 2) if m in rich
              else mode_strengths(R_lazy[m] + M)[:, k])
        ax.plot(t_r[1:], th[1:] / s_modes[k], "-", color=C[k], label=f"$s = {s_modes[k]:g}$")
        ax.plot(t_r[1::10], u_r[1::10, m, k] / s_modes[k], "o", ms=3, mfc="none", color=C[k])
    ax.set_xscale("log")
    ax.set_xlabel("training time $t$")
    ax.set_ylabel("mode strength $u_\\alpha/s_\\alpha$")
    ax.set_title(f"$\\sigma = {init_scales[m]:g}$: " + ("saddle to saddle" if m in rich else "lazy, all at once"),
                 fontsize=11)
axes[1].legend(fontsize=7)
plt.show()

# %%
lazy_err = {m: np.linalg.norm(W_r[:, m] - M - R_lazy[m], axis=(1, 2)).max() / np.linalg.norm(R_lazy[m][0])
            for m in (3, 4)}
print("plateau lengths t½ (rows: σ = " + ", ".join(f"{init_scales[m]:g}" for m in rich) + "; columns: modes)")
print("  GD:         ", np.array2string(half_r_gd, precision=2, floatmode="fixed"))
print("  Saxe/u_eff: ", np.array2string(half_r_th, precision=2, floatmode="fixed"))
cu.check_close("small init: half-learning times vs Saxe's sigmoid from u_eff (silent alignment), every one",
               half_r_gd, half_r_th, rtol=0.03, mode="every")
cu.check_less("σ = 1: max distance to the linearised (lazy) network / initial residual", lazy_err[4], 0.01)
cu.check_less("σ = 0.1 is not lazy: max distance to the linearised network / initial residual exceeds 0.3",
              0.3, lazy_err[3])
# how fast each mode's error is removed: ‖u_αᵀ(W − M)‖, the error along output direction α (for a rich network
# this is |u_α − s_α|; for a lazy one it does not vanish when u_α(0) happens to be close to s_α)
row_error = np.linalg.norm(np.einsum("ia,tij->taj", Um, W_r[:, 4] - M), axis=2)
half_lazy = np.array([np.interp(0.5, np.maximum.accumulate(1 - row_error[:, k] / row_error[0, k]), t_r)
                      for k in range(4)])
# the rates of the lazy network are the eigenvalues of its tangent kernel, eig(W₂W₂ᵀ) + eig(W₁ᵀW₁)
kernel_left, kernel_right = np.linalg.eigvalsh(W0[1][4] @ W0[1][4].T), np.linalg.eigvalsh(W0[0][4].T @ W0[0][4])
rate_range = (kernel_left.min() + kernel_right.min(), kernel_left.max() + kernel_right.max())
spread = {"σ = 1 (lazy)": half_lazy.max() / half_lazy.min(),
          f"σ = {init_scales[0]:g} (rich)": half_r_gd[0].max() / half_r_gd[0].min()}
print(f"σ = 1: tangent-kernel rates from {rate_range[0]:.1f} to {rate_range[1]:.1f} "
      f"(theory ≈ σ²(1 + n/d_in) = {1 + P.dln_width / d_in:g}); their ratio {rate_range[1] / rate_range[0]:.2f}")
print("slowest / fastest mode's half-learning time: "
      + ", ".join(f"{name}: {value:.2f}" for name, value in spread.items()))
cu.check_less("σ = 1: slowest/fastest half-learning time within the spread of the tangent-kernel rates",
              spread["σ = 1 (lazy)"], rate_range[1] / rate_range[0])
cu.check_less(f"σ = {init_scales[0]:g}: the modes' half-learning times spread more than the lazy rates allow",
              rate_range[1] / rate_range[0], spread[f"σ = {init_scales[0]:g} (rich)"])

# %% [markdown]
# From small to large $\sigma$ the picture changes as predicted. At $\sigma\leq10^{-1}$ the loss has
# four plateaus, one per singular mode, each ended by a sigmoid at the time Saxe's solution gives from
# the silently aligned $u_{\rm eff}$ (every time within 3 %); the plateaus last about $\ln(1/\sigma^2)/(2s)$, so
# each factor of 10 in $\sigma$ shifts the end of plateau $\alpha$ by $\ln 100/(2s_\alpha)$, as the table
# shows. At $\sigma = 1$ the network is lazy: its trajectory is that of its linearisation to within
# 1 % of the initial residual (the check; the printed distance is smaller), and all four modes relax together, in a time
# $\sim 1/[\sigma^2(1 + n/d_{\rm in})]$, about a hundred times shorter. We read each mode's half-learning
# time off its error along its output direction, $\|u_\alpha^\top(W - M)\|$ (the mode strength alone
# will not do here: a random start can put $u_\alpha(0)$ close to $s_\alpha$, leaving that mode almost
# nothing to learn). The slowest and the fastest differ by less than the spread of the tangent
# kernel's rates (a factor of about 2, printed above), against more than 5 at $\sigma = 10^{-4}$, where the
# spread is that of the singular values. Between $\sigma = 0.1$ (Saxe's picture, and more than 0.3 of
# the initial residual away from the linearisation) and $\sigma = 1$ the two limits exchange places.
# Small initialisation and depth make learning stage-like; large initialisation makes it lazy.
#
# ## 6. What it means
#
# - A product of weights learns with feedback: the rate of a mode is $\lambda(a^2 + b^2)$, which
#   grows as the mode is learned. Exponential relaxation becomes a sigmoid.
# - The time scale is set by the input–output correlation $\lambda S$ (for deep linear networks the
#   singular value $s$), and a small initialisation adds a delay $\ln(S/w_0)/(2\lambda S)$ while the width
#   of the sigmoid stays $\ln 81/(2\lambda S)$; so small initialisation makes learning stage-like. The
#   linear model has no delay and no stages unless input variances differ twenty-fold.
# - Conservation laws ($a^2 - b^2$; $W_{l+1}^\top W_{l+1} - W_lW_l^\top$) organise the dynamics; gradient
#   descent keeps them to $O(\eta)$.
# - Deep linear networks learn one singular mode after another, saddle to saddle; with depth the
#   plateaus grow as a power of $1/a_0$ instead of its logarithm. Large initialisation removes the
#   plateaus altogether: the network is lazy and is described by the NTK of the previous part.
# - These are the simplest instances of **feature learning**: what the network represents (which
#   modes its hidden layer carries) changes during training, one feature at a time, something a fixed
#   kernel cannot do.
#
# ## Exercises
#
# :::{exercise} The plateau of a depth-3 network
# :label: ex-layerwise-depth3
#
# For a balanced, decoupled mode of a depth-3 linear network, $\dot u = 3u^{4/3}(s - u)$. Write a
# function `plateau_time(s, u0)` that returns the time to go from $u_0$ to $s/2$ (for arrays of
# $s$ and $u_0$ with $0 < u_0 < s/2$), without using `course_utils.theory.layerwise`, and check it with
# `exercises.check_depth3_plateau_time(plateau_time)`. How does the answer behave as $u_0\to0$?
# :::
#
# :::{solution-start} ex-layerwise-depth3
# :class: dropdown
# :::
#
# Separate variables: $t = \frac13\int_{u_0}^{s/2}\frac{du}{u^{4/3}(s-u)}$. The integral is elementary
# (substitute $u = z^3$ and use partial fractions: logarithms and an arctangent), but a quadrature
# is just as good. As $u_0\to0$ the integrand is $\approx u^{-4/3}/s$, so
# $t\approx u_0^{-1/3}/s$: the §4 formula {eq}`eq-layerwise-plateau`, $1/[(L-2)s\,u_0^{1-2/L}]$, at $L = 3$.

# %%
from scipy.integrate import quad


def plateau_time(s, u0):
    s, u0 = np.broadcast_arrays(np.asarray(s, dtype=float), np.asarray(u0, dtype=float))
    return np.array([quad(lambda u: 1 / (3 * u ** (4 / 3) * (si - u)), ui, si / 2, limit=200)[0]
                     for si, ui in zip(s.ravel(), u0.ravel())]).reshape(s.shape)


_ = exercises.check_depth3_plateau_time(plateau_time)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} The largest initialisation that still gives stages
# :label: ex-layerwise-threshold
#
# Two modes of the diagonal model with $\lambda = 1$ and $S = (1, \frac12)$ start balanced,
# $a_i = b_i = \sigma$. Find the largest $\sigma$ for which learning is stage-like in the sense of §3
# ($t_{90}$ of the first mode before $t_{10}$ of the second), from the closed form, and check it with
# `exercises.check_stage_threshold(sigma)`. Compare with the small-initialisation estimate.
# :::
#
# :::{solution-start} ex-layerwise-threshold
# :class: dropdown
# :::
#
# The margin $t_{10}(S_2) - t_{90}(S_1)$ is positive for small $\sigma$ and negative for large $\sigma$;
# its zero is the threshold. With $t_f = [\ln(S/\sigma^2 - 1) + \ln\frac f{1-f}]/(2S)$ this is one
# equation in $\sigma$, solved by bisection. The small-initialisation estimate of §3 with $\rho = 2$,
# $\ell_2 = \ell_1 - \ln 2$, gives $2(\ell_1 - \ln 2 - \ln 9) = \ell_1 + \ln 9$, i.e. $\ell_1 = \ln(4\cdot 9^3)$,
# $w_0 = 1/2916$ and $\sigma = 1/54\approx 0.0185$: the same to three digits, because
# $\ln(S/w_0 - 1)$ and $\ln(S/w_0)$ differ by less than $w_0/S$.

# %%
from scipy.optimize import brentq


def stage_margin(log_sigma):
    w_init = np.exp(log_sigma) ** 2
    return float(theory.crossing_time(0.1, 1.0, 0.5, w_init) - theory.crossing_time(0.9, 1.0, 1.0, w_init))


sigma_star = np.exp(brentq(stage_margin, np.log(1e-8), np.log(0.2)))   # σ² < S₂/10: t₁₀ exists
print(f"threshold σ* = {sigma_star:.4g}; small-initialisation estimate 1/54 = {1 / 54:.4g}")
_ = exercises.check_stage_threshold(sigma_star)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Gradient descent and balance in a matrix network
# :label: ex-layerwise-gd-balance
#
# For the diagonal model, one gradient step multiplies $a^2 - b^2$ by $1 - \eta^2g^2$ ({eq}`eq-layerwise-drift`), so a balanced
# start stays exactly balanced. For a two-layer matrix network $W_2W_1$ on $\frac12\|W_2W_1 - M\|_F^2$,
# compute the change of $D = W_2^\top W_2 - W_1W_1^\top$ in one gradient step. Does a balanced start stay
# balanced?
# :::
#
# :::{solution} ex-layerwise-gd-balance
# :class: dropdown
#
# With $G = W_2W_1 - M$: $W_1' = W_1 - \eta W_2^\top G$ and $W_2' = W_2 - \eta GW_1^\top$. Then
# $W_2'^\top W_2' = W_2^\top W_2 - \eta(W_2^\top GW_1^\top + W_1G^\top W_2) + \eta^2W_1G^\top GW_1^\top$ and
# $W_1'W_1'^\top = W_1W_1^\top - \eta(W_2^\top GW_1^\top + W_1G^\top W_2) + \eta^2W_2^\top GG^\top W_2$: the first-order
# terms cancel (the conservation law {eq}`eq-layerwise-conservation` of the flow), and
# $D' = D + \eta^2\bigl(W_1G^\top GW_1^\top - W_2^\top GG^\top W_2\bigr)$. For a balanced, decoupled
# network both $\eta^2$ terms are equal (they are diagonal in the same basis with the same entries),
# so it stays balanced; for a generic balanced start they are not, and the imbalance grows by $O(\eta^2)$ per
# step, $O(\eta)$ over a fixed training time, like $a^2 - b^2$ in §2.
# :::
#
# :::{exercise} Stages in the linear model
# :label: ex-layerwise-linear-stages
#
# Show that two modes of the linear model, started at $\theta = 0$, are learned in separate stages
# (in the sense of §3) if and only if $\lambda_1/\lambda_2 > \ln 10/\ln\frac{10}{9}$, whatever the targets and
# the initial scale. What does that say about plateaus in the loss of a linear model?
# :::
#
# :::{solution} ex-layerwise-linear-stages
# :class: dropdown
#
# $\theta(t)/S = 1 - e^{-\lambda t}$ reaches $f$ at $t_f = -\ln(1 - f)/\lambda$, independent of $S$. The
# condition $t_{90}(1) < t_{10}(2)$ reads $\ln 10/\lambda_1 < \ln\frac{10}{9}/\lambda_2$, i.e.
# $\lambda_1/\lambda_2 > \ln 10/\ln\frac{10}9\approx 21.9$. From $\theta_0\neq0$ the times shift by
# $\ln[(S - \theta_0)/S]/\lambda$, which cannot create a delay longer than the relaxation itself. A
# linear model's loss is a sum of decaying exponentials, convex in time: it can change slope when
# the spectrum has gaps, but it has no plateau followed by a sudden drop.
# :::
#
# ## Summary
#
# - Diagonal model vs linear model: the same functions, different dynamics. The linear model
#   relaxes at rate $\lambda_i$; the product $a_ib_i$ follows a sigmoid of width $\ln81/(2\lambda_iS_i)$
#   after a delay $\approx\ln(S_i/w_0)/(2\lambda_iS_i)$ (closed form for any $a^2 - b^2$, checked to $10^{-8}$
#   against an ODE solve and to 2 % against gradient descent).
# - $a^2 - b^2$ and $W_{l+1}^\top W_{l+1} - W_lW_l^\top$ are conserved by gradient flow; gradient descent
#   drifts by $\approx-\eta\int g^2dt$ (measured slope 1 in $\eta$).
# - Learning is stage-like when each sigmoid ends before the next begins; small initialisation makes it so
#   (phase diagram: GD and closed form agree on the boundary).
# - Deep linear networks learn singular modes one at a time, $\dot u = Lu^{2-2/L}(s - u)$ ({eq}`eq-layerwise-saxe`); plateaus last
#   $\ln(s/u_0)/(2s)$ at depth 2 and $\propto a_0^{-(L-2)}/s$ at depth $L\geq3$.
# - From random small initialisation: silent alignment, then Saxe's sigmoids from $u_{\rm eff}\sim\sigma^2$;
#   from large initialisation: the lazy, linearised network, all modes at once.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
