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
# # How deep can a network be and still train? Signal propagation and trainable depth
#
# A deep network is a dynamical system run for $L$ steps: each layer maps the representation of
# the layer below to a new one, and backpropagation runs the same steps in reverse. In
# [Networks at initialisation: the Gaussian-process limit](01_nngp.ipynb) iterating the kernel map
# sorted the initialisations of a tanh network into an ordered and a chaotic phase, separated by
# the edge of chaos $\chi_1 = 1$. A physicist's next question is *how far*: over how many layers
# does a network remember the difference between two inputs, and over how many do its gradients
# vanish or explode? The answers are two **depth scales**, $\xi_c$ and $\xi_\nabla$, which play the
# role of correlation lengths and diverge at the transition. We derive them, measure both in random
# networks across the phase diagram, and then train 240 networks of 8 depths on handwritten digits
# to test the claim of {cite:t}`schoenholz2017deep`: a network trains only if its depth is below a
# fixed multiple (they found about 6) of $\xi_c$.
#
# **Prerequisites:** [Networks at initialisation: the Gaussian-process limit](01_nngp.ipynb)
# (§5: the length and correlation maps, $q^*$, $c^*$, $\chi_1$, and the backward pass).
# **Runs in:** about two minutes on one CPU core (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# trains networks of width 300 (the width of {cite:t}`schoenholz2017deep`) up to 256 layers for 3000
# steps, with wider random networks in §2–§3: a GPU job.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/03_wide_networks/04_trainable_depth.ipynb)
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
from matplotlib.ticker import NullFormatter, ScalarFormatter
from scipy.optimize import brentq

import course_utils as cu
from course_utils.data.classification import load_digits
from course_utils.ensemble import BatchedMLP, BatchedSGD, accuracy, cross_entropy_per_sample, train_ensemble
from course_utils.exercises import signal_propagation as exercises
from course_utils.theory import kernels
from course_utils.theory import signal_propagation as theory

cu.use_house_style()
device = cu.setup()


def plain_log_ticks(axis, ticks):
    """Ticks at the given values of a logarithmic axis, written as plain numbers."""
    axis.set_ticks(ticks)
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())

# %% [markdown]
# ## Parameters
#
# One σ_b² for the whole chapter; the sizes of the random networks of §2 and §3 (two widths each,
# to extrapolate to infinite width) and of the training sweep of §4.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        sigma_b2=0.05,
        corr_widths=(256, 128), corr_depth=40, corr_networks=(32, 128), corr_pairs=32,         # §2
        grad_widths=(256, 128), grad_depth=30, grad_networks=32, grad_inputs=8,                 # §3
        train_width=48, train_depths=(6, 9, 12, 18, 24, 36, 48, 64), train_seeds=3,             # §4
        train_steps=300, train_lr=0.01, train_batch=32, n_train=1000, threshold=0.25,
    ),
    paper=dict(
        corr_widths=(1024, 512), corr_networks=(64, 256), grad_widths=(1024, 512), grad_depth=60,
        grad_networks=64, train_width=300, train_depths=(6, 9, 12, 18, 24, 36, 48, 64, 96, 128, 192, 256),
        train_seeds=8, train_steps=3000,
    ),
)
P

# %% [markdown]
# ## 1. The theory: two depth scales
#
# We use the notation of the NNGP chapter: tanh networks, weights $W^\ell_{ij}\sim\mathcal N(0,\sigma_w^2/n)$,
# biases $b^\ell_i \sim \mathcal N(0, \sigma_b^2)$, preactivations $h^\ell$ with variance $q^\ell \to q^*$,
# and the correlation $c^\ell$ of the preactivations of two inputs, which obeys $c^{\ell+1} = M(c^\ell)$,
# the correlation map, with a stable fixed point $c^*$ ($c^* = 1$ in the ordered phase, $c^* < 1$ in the
# chaotic one) {cite:p}`poole2016exponential`.
#
# **Correlations.** Near the fixed point write $c^\ell = c^* + \varepsilon^\ell$. To first order,
# $\varepsilon^{\ell+1} = M'(c^*)\,\varepsilon^\ell$, so the distance to the fixed point decays
# geometrically, and Price's theorem gives the slope as a Gaussian average of $\phi'$
# {cite:p}`schoenholz2017deep`:
#
# $$
# |c^\ell - c^*| \propto \chi_c^{\,\ell} = e^{-\ell/\xi_c},\qquad
# \chi_c = M'(c^*) = \sigma_w^2\,\mathbb E\bigl[\phi'(u)\,\phi'(v)\bigr],\quad
# (u, v)\sim\mathcal N\!\Bigl(0,\ q^*\begin{pmatrix}1 & c^*\\ c^* & 1\end{pmatrix}\Bigr),\qquad
# \xi_c = -\frac{1}{\ln\chi_c}.
# $$ (eq-depth-xi-c)
#
# In the ordered phase $c^* = 1$ and $\chi_c = \chi_1$. In the chaotic phase $c^* < 1$ is stable, so
# $\chi_c < 1$ although $\chi_1 > 1$. At the edge of chaos $\chi_c \to 1$ from both sides and
# $\xi_c$ diverges: correlations then approach their fixed point as a power of $\ell$, not
# exponentially.
#
# **Gradients.** For one sample with loss $\ell$, write $\delta^l = \partial\ell/\partial h^l$ and
# $a^l = \phi(h^l)$ ($a^0 = x$). The gradient of the weights of layer $l$ is the outer product
# $\delta^l (a^{l-1})^\top$, so $\|\partial\ell/\partial W^l\|^2 = \|\delta^l\|^2\,\|a^{l-1}\|^2$. The NNGP
# chapter derived the backward recursion $\mathbb E\|\delta^l\|^2 = \chi(q^l)\,\mathbb E\|\delta^{l+1}\|^2$
# with $\chi(q) = \sigma_w^2\,\mathbb E[\phi'(\sqrt q z)^2]$, and $\mathbb E\|a^{l-1}\|^2 = n\,(q^l - \sigma_b^2)/\sigma_w^2$
# is constant once $q^l = q^*$. Hence, for a network of $L$ hidden layers,
#
# $$
# \frac{\mathbb E\,\|\partial\ell/\partial W^l\|^2}{\mathbb E\,\|\partial\ell/\partial W^L\|^2}
# = \prod_{k=l}^{L-1}\chi(q^k)\,\frac{\mathbb E\|a^{l-1}\|^2}{\mathbb E\|a^{L-1}\|^2}
# \;\longrightarrow\; \chi_1^{\,L-l} = e^{-(L-l)/\xi_\nabla},\qquad \xi_\nabla = -\frac{1}{\ln\chi_1}.
# $$ (eq-depth-gradient)
#
# $\xi_\nabla > 0$ in the ordered phase (gradients vanish towards the input), $\xi_\nabla < 0$ in the
# chaotic phase (they explode), and $|\xi_\nabla| \to \infty$ at the edge of chaos. The two scales
# coincide in the ordered phase and part in the chaotic one, where $|\xi_\nabla|$ is the scale of
# the explosion and $\xi_c$ that of forgetting. `course_utils.theory.signal_propagation` computes
# both (`depth_scales`), and the whole profile of {eq}`eq-depth-gradient` including the first layers,
# where $q^l$ has not yet reached $q^*$ (`gradient_profile`). For tanh with $\sigma_b^2 = 0.05$:

# %%
sb2 = P.sigma_b2
sw2_crit = brentq(lambda s: float(kernels.chi1(activation="tanh", sigma_w2=s, sigma_b2=sb2)) - 1, 1.0, 3.0)
sw2_axis = np.concatenate([np.linspace(0.5, sw2_crit - 0.01, 40), np.linspace(sw2_crit + 0.01, 8.0, 60)])
scales = theory.depth_scales(sw2_axis, sigma_b2=sb2)
print(f"tanh, σ_b² = {sb2}: edge of chaos at σ_w² = {sw2_crit:.4f}")
for s in (1.0, 1.45, 2.3, 4.5):
    d = theory.depth_scales(s, sigma_b2=sb2)
    print(f"  σ_w² = {s:4.2f}: c* = {d['c_star'][0]:.3f}, χ₁ = {d['chi1'][0]:.3f}, χ_c = {d['chi_c'][0]:.3f}, "
          f"ξ_∇ = {d['xi_grad'][0]:+7.2f}, ξ_c = {d['xi_c'][0]:6.2f} layers")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 3.6))
ordered = sw2_axis < sw2_crit
ax.plot(sw2_axis, scales["xi_c"], color=cu.plotting.PALETTE[0], label="correlations, $\\xi_c = -1/\\ln\\chi_c$")
ax.plot(sw2_axis, np.abs(scales["xi_grad"]), "--", color=cu.plotting.PALETTE[1],
        label="gradients, $|\\xi_\\nabla| = 1/|\\ln\\chi_1|$")
ax.axvline(sw2_crit, color="k", ls=":", lw=1, label="edge of chaos, $\\chi_1 = 1$")
ax.set_yscale("log")
ax.set_ylim(1, 300)
ax.set_xlabel("weight variance $\\sigma_w^2$")
ax.set_ylabel("depth scale (layers)")
ax.legend()
plt.show()

# %% [markdown]
# The correlation depth is short far from the transition (two to six layers), grows without bound
# at the edge of chaos, and is asymmetric: on the chaotic side it falls slowly with $\sigma_w^2$, and it
# stays longer than $|\xi_\nabla|$ there, the scale over which gradients grow by a factor $e$.
#
# ## 2. Correlations approach their fixed point over ξ_c layers
#
# **The experiment.** We send inputs through random tanh networks and measure $|c^\ell - c^*|$ layer
# by layer, at eleven values of $\sigma_w^2$ on both sides of the transition. The first layer's
# preactivations are drawn from their exact Gaussian law with variance $q^*$ (the first layer of a
# network whose inputs have $|x|^2/d = (q^* - \sigma_b^2)/\sigma_w^2$), so that only the correlation
# moves; the code is `signal_propagation.pair_correlation_decay`. Three things stand between a finite
# network and {eq}`eq-depth-xi-c`:
#
# - **Noise.** In one network of width $n$ the correlation of a pair fluctuates by $O(n^{-1/2})$
#   around $c^*$, which hides $|c^\ell - c^*|$ below a few hundredths. In the ordered phase this does
#   not arise: we start two inputs with $1 - c^0 = 10^{-3}$, and $1 - c^\ell$ stays positive and
#   shrinks multiplicatively, so we follow it in double precision down to $10^{-10}$. In the chaotic
#   phase we start 16 inputs at $c^* + 0.2$ and 16 at $c^* - 0.2$ (correlations with one common
#   input $x_0$), and follow $\Delta^\ell$ = (mean correlation of the upper half) − (of the lower half),
#   averaged over 128 networks. (Following two *nearby* inputs through the same network, which works
#   in the ordered phase, fails here for an instructive reason: chaos drives nearby inputs apart by
#   $\chi_1 > 1$ per layer, so they do not stay nearby.)
# - **A shifted fixed point.** A finite network's fixed point differs from $c^*$ by $O(1/n)$; both
#   halves converge to the same one, so it cancels in $\Delta^\ell$.
# - **Non-linearity.** A start $0.2$ from $c^*$ is not infinitesimal. We fit the decay rate over the
#   layers where the predicted $\Delta^\ell$ stays five standard errors above zero, and compare with
#   the rate of the iterated correlation map over the same window (printed beside $1/\xi_c$; on the
#   ordered side the two agree to $10^{-3}$, on the chaotic side near the transition they differ).
#
# The decay rate per layer is the slope of $\ln\overline{\Delta^\ell}$ against $\ell$, with a
# jackknife standard error over the networks. As in the NNGP chapter, the rate at finite width is
# shifted by $O(1/n)$; we measure at $n$ and $n/2$ and extrapolate, $2r(n) - r(n/2)$.

# %%
sw2_corr = np.array([0.7, 0.85, 1.0, 1.2, 1.45, 1.6, 2.0, 2.3, 3.2, 4.5, 6.5])
corr_theory = theory.depth_scales(sw2_corr, sigma_b2=sb2)
chaotic = corr_theory["c_star"] < 1
half = P.corr_pairs // 2
start_ordered, start_offset = 1e-3, 0.2
c_start = np.where(chaotic[:, None],
                   corr_theory["c_star"][:, None] + start_offset * np.r_[np.ones(half), -np.ones(half)][None, :],
                   1 - start_ordered)


def correlation_gap(C, is_chaotic):
    """Δˡ per network: (mean c over the pairs started above c*) − (over those started below); 1 − c if ordered."""
    if is_chaotic:
        return C[:, :half].mean(1) - C[:, half:].mean(1)
    return 1 - C.mean(1)


def theory_gap(i):
    """The same Δˡ from the iterated correlation map (the n → ∞ prediction)."""
    c = [c_start[i].copy()]
    for _ in range(P.corr_depth - 1):
        c.append(kernels.correlation_map(c[-1], q=corr_theory["q_star"][i], activation="tanh",
                                         sigma_w2=sw2_corr[i], sigma_b2=sb2))
    return correlation_gap(np.array(c).T[None], chaotic[i])[0]


def decay_rate(gaps, window):
    """1/ξ from the least-squares slope of ln(mean Δˡ) against ℓ over ``window``, and its jackknife s.e."""
    layers = np.arange(gaps.shape[-1])[window]
    rate = -np.polyfit(layers, np.log(gaps.mean(0)[window]), 1)[0]
    M = len(gaps)
    loo = [-np.polyfit(layers, np.log(((gaps.sum(0) - gaps[m]) / (M - 1))[window]), 1)[0] for m in range(M)]
    return rate, math.sqrt((M - 1) * np.var(loo))


corr_runs = {}
for k, width in enumerate(P.corr_widths):
    for phase, select, dtype in (("ordered", ~chaotic, torch.float64), ("chaotic", chaotic, torch.float32)):
        n_networks = P.corr_networks[0] if phase == "ordered" else P.corr_networks[1]
        pairs = 1 if phase == "ordered" else P.corr_pairs
        C = theory.pair_correlation_decay(c_start[select][:, :pairs], q=corr_theory["q_star"][select],
                                      sigma_w2=sw2_corr[select], sigma_b2=sb2, width=width, depth=P.corr_depth,
                                      n_networks=n_networks, dtype=dtype,
                                      generator=torch.Generator(device=device).manual_seed(
                                          cu.seed(10 + 2 * k + (phase == "chaotic"))))
        for C_s, i in zip(C, np.nonzero(select)[0]):
            corr_runs[i, width] = correlation_gap(C_s, chaotic[i])

# %%
n_big, n_small = P.corr_widths
corr_fit = []
for i, sw2 in enumerate(sw2_corr):
    gap_th = theory_gap(i)
    big, small = corr_runs[i, n_big], corr_runs[i, n_small]
    # fit window: from layer 1, while the predicted Δ stays 5 standard errors (of the narrower networks' mean)
    # above zero, and above 1e-10 (float64 rounding of 1 − c)
    noise = np.std(small, axis=0).mean() / math.sqrt(len(small)) if chaotic[i] else 1e-10
    window = np.nonzero(gap_th > 5 * noise)[0]
    window = window[window >= 1]
    window = slice(window[0], window[-1] + 1)
    (r_big, se_big), (r_small, se_small) = decay_rate(big, window), decay_rate(small, window)
    layers = np.arange(P.corr_depth)[window]
    r_window = -np.polyfit(layers, np.log(gap_th[window]), 1)[0]
    corr_fit.append(dict(sw2=sw2, big=r_big, big_se=se_big, small=r_small, inf=2 * r_big - r_small,
                         inf_se=math.sqrt(4 * se_big ** 2 + se_small ** 2), window_theory=r_window,
                         asymptotic=1 / corr_theory["xi_c"][i], layers=(layers[0], layers[-1]), window=window))
r = {key: np.array([f[key] for f in corr_fit]) for key in corr_fit[0] if key not in ("layers", "window")}

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
for j, i in enumerate([1, 3, 5, 7, 9]):
    gap_th = theory_gap(i)
    ax.plot(np.arange(P.corr_depth), gap_th / gap_th[0], color=cu.plotting.PALETTE[j])
    measured = corr_runs[i, n_big].mean(0)                          # shown over the fit window
    w = corr_fit[i]["window"]
    ax.plot(np.arange(P.corr_depth)[w], measured[w] / gap_th[0], "o", ms=3.5, color=cu.plotting.PALETTE[j],
            label=f"$\\sigma_w^2$ = {sw2_corr[i]}" + (" (chaotic)" if chaotic[i] else ""))
ax.set_yscale("log")
ax.set_ylim(1e-10, 2)
ax.set_xlabel("layer $\\ell$")
ax.set_ylabel("$|c^\\ell - c^*|$ relative to layer 0")
ax.set_title(f"width {n_big}: lines = correlation map,\no = networks", fontsize=10)
ax.legend(fontsize=7)
ax = axes[1]
ax.plot(sw2_axis, 1 / scales["xi_c"], color=cu.plotting.PALETTE[0], label="theory $1/\\xi_c = -\\ln\\chi_c$")
ax.errorbar(sw2_corr, r["inf"], yerr=r["inf_se"], fmt="o", color=cu.plotting.PALETTE[0], ms=5,
            label="networks, extrapolated to $n=\\infty$ (±1 s.e.)")
ax.plot(sw2_corr, r["big"], "x", color=cu.plotting.PALETTE[1], label=f"networks, width {n_big}")
ax.axvline(sw2_crit, color="k", ls=":", lw=1)
ax.set_xscale("log")
plain_log_ticks(ax.xaxis, [0.5, 0.7, 1, 2, 3, 5, 8])
ax.set_xlabel("weight variance $\\sigma_w^2$")
ax.set_ylabel("decay rate $1/\\xi_c$ (per layer)")
ax.legend(fontsize=7)
plt.show()

# %%
for f in corr_fit:
    print(f"σ_w² {f['sw2']:4.2f}: 1/ξ_c {f['asymptotic']:.4f} (layers {f['layers'][0]}–{f['layers'][1]}: "
          f"{f['window_theory']:.4f}); n={n_big}: {f['big']:.4f} ± {f['big_se']:.4f}; "
          f"n=∞: {f['inf']:.4f} ± {f['inf_se']:.4f}")
z_corr = (r["inf"] - r["window_theory"]) / r["inf_se"]
for phase, sel in (("ordered", ~chaotic), ("chaotic", chaotic)):  # tolerance: 4 s.e. of the extrapolation
    cu.check_less(f"{phase} side: largest |1/ξ_c measured (n = ∞) − correlation map| over {sel.sum()} values of σ_w², "
                  "in standard errors", np.max(np.abs(z_corr[sel])), 4.0)
cu.check_less("the window's nonlinearity: largest |1/ξ_c of the window − asymptotic 1/ξ_c| / s.e. (ordered side)",
              np.max(np.abs(r["window_theory"] - r["asymptotic"])[~chaotic] / r["inf_se"][~chaotic]), 1.0)

# %% [markdown]
# Left: on a logarithmic axis the distance to the fixed point is a straight line whose slope is
# $-1/\xi_c$, in the ordered phase over up to ten decades; in the chaotic phase the measurement stops at the
# noise floor after 15–40 layers. Right: the measured rates follow $-\ln\chi_c$ on both sides of the
# transition and go to zero at the edge of chaos. At width 256 the ordered rates lie within about 4 %
# (at most 0.005 per layer) of the theory, and the extrapolated rates agree with the correlation map within four standard
# errors at every $\sigma_w^2$ (printed above); the chaotic side is noisier by an order of magnitude,
# because its signal has to be averaged out of $O(n^{-1/2})$ fluctuations. (The values of $\sigma_w^2$
# share their random draws, scaled by $\sigma_w$, so their errors are correlated.)
#
# ## 3. Gradients: a profile per layer, a depth scale ξ_∇
#
# **The experiment.** For ten values of $\sigma_w^2$ (five ordered, the edge of chaos, four chaotic)
# we draw 32 networks of 30 hidden layers at widths 256 and 128, initialised as the theory assumes
# (`signal_propagation.init_gaussian` on a `BatchedMLP`), and give each network 8 random digits
# (scikit-learn's 8×8 digits, centred and scaled to $|x|^2 = d = 64$) with the cross-entropy loss on
# their labels. One backward pass gives $\delta^l$ for every sample, hence the per-sample
# $\|\partial\ell/\partial W^l\|^2 = \|\delta^l\|^2\|a^{l-1}\|^2$ (`per_sample_weight_gradients`; per
# sample, because the gradient of a batch mixes samples whose correlations change with depth). The
# profile is the mean over networks and samples; the growth per layer is fitted over
# $l = 6 \dots 30$, with a jackknife error over networks, extrapolated in width as before, and
# compared with the theory of {eq}`eq-depth-gradient` over the same window.

# %%
X_all, y_all = load_digits(dtype=torch.float32)
X_all = X_all - X_all.mean(0)
X_all = X_all * math.sqrt(X_all.shape[1]) / X_all.norm(dim=1, keepdim=True)       # |x|² = d for every digit
X_all, y_all = X_all.to(device), y_all.to(device)
d_in = X_all.shape[1]
sw2_grid = np.array([0.7, 0.85, 1.0, 1.2, 1.45, sw2_crit, 2.3, 3.2, 4.5, 6.5])
grid_theory = theory.depth_scales(sw2_grid, sigma_b2=sb2)


def square_gradients(sw2, width, depth, n_networks, n_inputs, seed):
    """‖∂ℓ_i/∂Wˡ‖² (networks, inputs, layers) of fresh networks, each given its own random digits."""
    gen = torch.Generator(device=device).manual_seed(seed)
    model = BatchedMLP(n_networks, [d_in] + [width] * depth + [10], "tanh", init=None).to(device)
    theory.init_gaussian(model, sw2, sb2, gen)
    idx = torch.randint(len(X_all), (n_networks, n_inputs), generator=gen, device=device)
    g = theory.per_sample_weight_gradients(model, X_all[idx], y_all[idx], cross_entropy_per_sample)
    return g.cpu().numpy()


def growth_per_layer(G, window):
    """g with G_l ∝ g^(L−l): exp(−slope) of ln G_l against l over ``window``."""
    return math.exp(-np.polyfit(np.arange(1, len(G) + 1)[window], np.log(G[window]), 1)[0])


L_g = P.grad_depth
first_fitted = 6                             # from l = 6 on, q^l is within a few % of q* (theory: same window)
window_g = slice(first_fitted - 1, L_g)      # hidden layers l = 6 … L
grad_runs, grad_fit = {}, []
for i, sw2 in enumerate(cu.progress(sw2_grid, desc="gradients")):
    fits = []
    for k, width in enumerate(P.grad_widths):
        g = square_gradients(sw2, width, L_g, P.grad_networks, P.grad_inputs, cu.seed(30 + 2 * i + k))
        per_net = g.mean(1)[:, :L_g]                                    # (networks, hidden layers)
        grad_runs[i, width] = per_net
        G = per_net.mean(0) / per_net.mean(0)[-1]
        M = len(per_net)
        loo = [growth_per_layer((per_net.sum(0) - per_net[m]) / (M - 1), window_g) for m in range(M)]
        fits.append((growth_per_layer(per_net.mean(0), window_g), math.sqrt((M - 1) * np.var(loo))))
    (g_big, se_big), (g_small, se_small) = fits
    G_th = theory.gradient_profile(L_g, sb2 + sw2, sigma_w2=sw2, sigma_b2=sb2, input_norm2=d_in, width=P.grad_widths[0])
    grad_fit.append(dict(sw2=sw2, big=g_big, big_se=se_big, small=g_small, inf=2 * g_big - g_small,
                         inf_se=math.sqrt(4 * se_big ** 2 + se_small ** 2), chi1=grid_theory["chi1"][i],
                         window_theory=growth_per_layer(G_th, window_g), profile=G_th))

# %%
gn_big, gn_small = P.grad_widths
gr = {key: np.array([f[key] for f in grad_fit]) for key in ("sw2", "big", "big_se", "inf", "inf_se", "chi1",
                                                              "window_theory", "small")}

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
for j, i in enumerate([1, 3, 5, 7, 9]):
    f = grad_fit[i]
    per_net = grad_runs[i, gn_big]
    layers = np.arange(1, L_g + 1)
    ax.plot(layers, f["profile"], color=cu.plotting.PALETTE[j])
    ax.plot(layers, per_net.mean(0) / per_net.mean(0)[-1], "o", ms=3.5, color=cu.plotting.PALETTE[j],
            label=f"$\\sigma_w^2$ = {f['sw2']:.2f}")
ax.set_yscale("log")
ax.set_xlabel("layer $l$ (1 = first)")
ax.set_ylabel("$\\mathbb{E}\\|\\partial\\ell/\\partial W^l\\|^2$ / same at $l = L$")
ax.set_title(f"width {gn_big}, depth {L_g}:\nlines = mean-field theory", fontsize=10)
ax.legend(fontsize=7)
ax = axes[1]
ax.plot(sw2_axis, np.log(scales["chi1"]), color=cu.plotting.PALETTE[1], label="theory $\\ln\\chi_1 = -1/\\xi_\\nabla$")
ax.errorbar(gr["sw2"], np.log(gr["inf"]), yerr=gr["inf_se"] / gr["inf"], fmt="o", color=cu.plotting.PALETTE[1], ms=5,
            label="networks, extrapolated to $n = \\infty$ (±1 s.e.)")
ax.plot(gr["sw2"], np.log(gr["big"]), "x", color=cu.plotting.PALETTE[0], label=f"networks, width {gn_big}")
ax.axhline(0, color="k", lw=0.8)
ax.axvline(sw2_crit, color="k", ls=":", lw=1)
ax.set_xscale("log")
plain_log_ticks(ax.xaxis, [0.5, 0.7, 1, 2, 3, 5, 8])
ax.set_xlabel("weight variance $\\sigma_w^2$")
ax.set_ylabel("ln(growth of $\\|\\partial\\ell/\\partial W^l\\|^2$ per layer)")
ax.legend(fontsize=7)
plt.show()

# %%
for f in grad_fit:
    print(f"σ_w² {f['sw2']:4.2f}: theory {f['window_theory']:.4f} (χ₁ {f['chi1']:.4f}); n={gn_big}: "
          f"{f['big']:.4f} ± {f['big_se']:.4f}, n={gn_small}: {f['small']:.4f}; n=∞: {f['inf']:.4f} ± {f['inf_se']:.4f}")
z_grad = (gr["inf"] - gr["window_theory"]) / gr["inf_se"]
cu.check_less(f"gradient growth per layer, extrapolated to n = ∞, vs mean-field theory: largest |Δ| over "
              f"{len(sw2_grid)} values of σ_w², in standard errors", np.max(np.abs(z_grad)), 4.0)
shift = (gr["big"] - gr["window_theory"]) / gr["window_theory"]
print(f"finite-width shift of the growth per layer at width {gn_big}: {np.min(shift):+.2%} … {np.max(shift):+.2%}")

# %% [markdown]
# Left: the squared gradient of each weight matrix, relative to the last hidden layer, falls towards
# the input by $\chi_1 < 1$ per layer in the ordered phase and grows by $\chi_1 > 1$ in the chaotic
# phase; over 30 layers that is up to five decades either way, and the mean-field profile, first
# layers included, runs through the markers. Right: the fitted growth per layer on a logarithmic
# scale, $\ln g = -1/\xi_\nabla$, against $\ln\chi_1$: the gradient depth scale changes sign at the
# edge of chaos. At width 256 the measured growth lies within 1 % of $\chi_1$ (the shift is printed);
# extrapolated to infinite width it agrees with the theory within four standard errors at all ten
# values.
#
# ## 4. Trainable depth
#
# Both depth scales say something about training. If $L \gg \xi_c$, the last layer sees all inputs
# at the same correlation $c^*$: in the ordered phase all inputs look alike, in the chaotic phase all
# pairs look equally unlike, and either way the geometry of the data is lost. If $L \gg |\xi_\nabla|$,
# the gradients of the first layers are exponentially smaller or larger than those of the last. The
# first is the sharper statement: {cite:t}`schoenholz2017deep` trained tanh networks on MNIST and
# CIFAR-10 over a grid of depths and $\sigma_w^2$ and found the trainable region bounded by
# $L \approx 6\,\xi_c$ on both sides of the transition. (Their training set-up, SGD on networks of
# width 300 and the accuracy after a fixed number of steps, is recalled from the paper and not
# re-checked here.)
#
# **The experiment.** The same ten values of $\sigma_w^2$, three seeds each, at eight depths from 6
# to 64 hidden layers of width 48: 240 tanh networks. All 30 networks of one depth are one
# `BatchedMLP`, trained by `train_ensemble` with plain SGD (learning rate 0.01, minibatches of 32,
# 300 steps, about ten epochs) on 1000 digits, with the cross-entropy loss; the other 797 digits
# are the test set. The criterion is stated before looking: a network **trained** if its test
# accuracy after the budget is at least 0.25. Chance is 0.10, untrained networks score 0.09–0.11, and
# 0.25 is more than ten binomial standard errors above chance on 797 images: the network has learned
# something about the digits. The trainable depth $L^*(\sigma_w^2)$ is where the accuracy, averaged
# over the seeds, first falls below 0.25, interpolated linearly in $\ln L$ between the two depths
# around the crossing (`signal_propagation.crossing_depth`); its error bar is the spread of the
# per-seed crossings. Before training, the same networks give the ratio of the first layer's
# gradient to the last hidden layer's, the profile of §3 read across total depth.

# %%
order = torch.randperm(len(y_all), generator=torch.Generator().manual_seed(cu.seed(50))).to(device)
train_idx, test_idx = order[:P.n_train], order[P.n_train:]
X_tr, y_tr, X_te, y_te = X_all[train_idx], y_all[train_idx], X_all[test_idx], y_all[test_idx]
S = P.train_seeds
members_sw2 = np.repeat(sw2_grid, S)                      # member k: σ_w² = sw2_grid[k // S], seed k % S
test_acc = np.zeros((len(P.train_depths), len(sw2_grid), S))
init_ratio = np.zeros((len(P.train_depths), len(sw2_grid), S))
for j, L in enumerate(P.train_depths):
    model = BatchedMLP(len(members_sw2), [d_in] + [P.train_width] * L + [10], "tanh", init=None).to(device)
    theory.init_gaussian(model, members_sw2, sb2, torch.Generator(device=device).manual_seed(cu.seed(100 + j)))
    g0 = theory.per_sample_weight_gradients(model, X_tr[:64], y_tr[:64], cross_entropy_per_sample).cpu().numpy().mean(1)
    init_ratio[j] = (g0[:, 0] / g0[:, L - 1]).reshape(len(sw2_grid), S)   # first layer / last hidden layer
    train_ensemble(model, cross_entropy_per_sample, X_tr, y_tr, steps=P.train_steps,
                   optimizer=BatchedSGD(model.parameters(), lr=P.train_lr), batch_size=P.train_batch,
                   data_seeds=[cu.seed(200 + 31 * j + k) for k in range(len(members_sw2))],
                   record_steps=[P.train_steps], desc=f"depth {L}")
    with torch.no_grad():
        test_acc[j] = accuracy(model(X_te), y_te).cpu().numpy().reshape(len(sw2_grid), S)

# %%
depths = np.array(P.train_depths)
xi_grid = grid_theory["xi_c"]
L_star_seed = theory.crossing_depth(depths, np.moveaxis(test_acc, 0, -1), P.threshold)    # (σ_w², seeds)
L_star = theory.crossing_depth(depths, test_acc.mean(2).T, P.threshold)                   # from the mean over seeds
# the boundary lies within the sampled depths, away from the edge of chaos (where ξ_c = ∞ and only the
# training budget can limit the depth)
inside = np.isfinite(L_star) & (xi_grid < 1e3)
L_star_se = np.zeros(len(sw2_grid))                              # s.e. of ln L* over the seeds that cross
for i in np.nonzero(inside)[0]:
    crossing = np.log(L_star_seed[i][np.isfinite(L_star_seed[i])])
    L_star_se[i] = np.std(crossing, ddof=1) / math.sqrt(len(crossing)) if len(crossing) > 1 else 0.0
c_each = L_star[inside] / xi_grid[inside]
ln_c, ln_c_se = np.mean(np.log(c_each)), np.std(np.log(c_each), ddof=1) / math.sqrt(inside.sum())
fit_L = cu.fit_power_law(xi_grid[inside], L_star[inside])        # L* = A ξ_c^(−alpha): proportional if alpha = −1
c_strict = theory.crossing_depth(depths, test_acc.mean(2).T, 0.5)
inside_strict = np.isfinite(c_strict) & (xi_grid < 1e3)
c_strict = np.exp(np.mean(np.log(c_strict[inside_strict] / xi_grid[inside_strict])))

# %% tags=["hide-input"]
fig, axes = cu.panels(2, ncols=1, panel_height=3.4)
ax = axes[0]
edges_x = np.arange(len(sw2_grid) + 1) - 0.5
edges_y = np.concatenate([[depths[0] / 1.2], np.sqrt(depths[1:] * depths[:-1]), [depths[-1] * 1.2]])
im = ax.pcolormesh(edges_x, edges_y, test_acc.mean(2), cmap="viridis", vmin=0.1, vmax=0.9)
plt.colorbar(im, ax=ax, label="test accuracy after training\n(mean of seeds)")
x_fine = np.linspace(-0.5, len(sw2_grid) - 0.5, 400)
sw2_fine = np.exp(np.interp(x_fine, np.arange(len(sw2_grid)), np.log(sw2_grid)))
xi_fine = np.array([theory.depth_scales(s, sigma_b2=sb2)["xi_c"][0] if abs(s - sw2_crit) > 1e-3 else np.inf
                    for s in sw2_fine])
ax.plot(x_fine, math.exp(ln_c) * xi_fine, color="w", lw=2, label=f"fitted $c\\,\\xi_c$, c = {math.exp(ln_c):.2f}")
ax.plot(x_fine, 6 * xi_fine, color="w", ls="--", lw=1.2, label="$6\\,\\xi_c$")
ax.errorbar(np.arange(len(sw2_grid))[inside], L_star[inside], yerr=L_star[inside] * L_star_se[inside], fmt="o",
            color="w", mec="k", ms=6, capsize=3, label=f"measured $L^*$ (accuracy = {P.threshold})")
ax.set_yscale("log")
ax.set_ylim(edges_y[0], edges_y[-1])
plain_log_ticks(ax.yaxis, depths)
ax.set_xticks(np.arange(len(sw2_grid)), [f"{s:.2g}" for s in sw2_grid])
ax.set_xlabel("weight variance $\\sigma_w^2$ (edge of chaos at the middle column)")
ax.set_ylabel("depth L (hidden layers)")
ax.legend(loc="lower left", fontsize=7, framealpha=0.6)
ax = axes[1]
L_axis = np.arange(depths[0], depths[-1] + 1)
for j, i in enumerate([1, 3, 5, 7, 9]):
    th = [theory.gradient_profile(int(L), sb2 + sw2_grid[i], sigma_w2=sw2_grid[i], sigma_b2=sb2, input_norm2=d_in,
                              width=P.train_width)[0] for L in L_axis]
    ax.plot(L_axis, th, color=cu.plotting.PALETTE[j])
    ax.plot(depths, np.exp(np.log(init_ratio[:, i]).mean(1)), "o", ms=5, color=cu.plotting.PALETTE[j],
            label=f"$\\sigma_w^2$ = {sw2_grid[i]:.2f}")
ax.set_yscale("log")
ax.set_xlabel("depth L (hidden layers)")
ax.set_ylabel("$\\|\\partial\\ell/\\partial W^1\\|^2 / \\|\\partial\\ell/\\partial W^L\\|^2$\nat initialisation")
ax.set_title(f"the trained networks at step 0 (width {P.train_width})")
ax.legend(fontsize=8)
plt.show()

# %%
for i, sw2 in enumerate(sw2_grid):
    where = (f"L* = {L_star[i]:5.1f} (seeds: " + ", ".join(f"{v:.1f}" for v in L_star_seed[i]) + ")"
             if inside[i] else "L* beyond the deepest depth" if np.isinf(L_star[i]) else "L* not located")
    scale = (f"ξ_c = {xi_grid[i]:5.2f}, 6ξ_c = {6 * xi_grid[i]:5.1f}" if xi_grid[i] < 1e3
             else "ξ_c = ∞ (edge of chaos)      ")
    print(f"σ_w² = {sw2:4.2f}: {scale}; {where}")
print(f"L* ∝ ξ_c^{-fit_L.alpha:.3f} ± {fit_L.alpha_stderr:.3f} over {inside.sum()} values of σ_w²")
print("c = L*/ξ_c: " + ", ".join(f"{c:.2f}" for c in c_each)
      + f"; geometric mean {math.exp(ln_c):.2f} (ln c = {ln_c:.3f} ± {ln_c_se:.3f})")
print(f"with the stricter criterion (accuracy 0.5 instead of {P.threshold}): c = {c_strict:.2f}")
cu.check_close("trainable depth ∝ ξ_c: exponent of L* against ξ_c (tolerance: 4 standard errors of the fit)",
               -fit_L.alpha, 1.0, atol=4 * fit_L.alpha_stderr)
cu.check_close("the constant c of L* = c ξ_c against Schoenholz et al.'s 6 (tolerance: 4 standard errors of ln c)",
               ln_c, math.log(6), atol=4 * ln_c_se)
trained = test_acc >= P.threshold                                                    # (depths, σ_w², seeds)
predicted = depths[:, None, None] < math.exp(ln_c) * xi_grid[None, :, None]
cu.check_count("runs (depth × σ_w² × seed) on the wrong side of L = c ξ_c", int(np.sum(trained != predicted)),
               at_most=int(0.1 * trained.size), of=trained.size)
ordered_grid = sw2_grid < sw2_crit - 1e-9
cu.check_true("every σ_w² trains at the shallowest depth", bool(np.all(trained[0].mean(1) >= 0.5)),
              detail=f"a majority of seeds above {P.threshold} at L = {depths[0]}")
well_inside = math.exp(ln_c) * xi_grid >= 1.5 * depths[-1]      # the fitted rule says: trainable with margin
for i in np.nonzero(well_inside)[0]:
    cu.check_true(f"σ_w² = {sw2_grid[i]:.2f} (c ξ_c ≥ 1.5 × {depths[-1]}): networks train at every depth up to "
                  f"{depths[-1]}", bool(np.all(trained[:, i].mean(1) >= 0.5)),
                  detail="a majority of seeds above the threshold at each depth")
for i in np.nonzero(np.isinf(L_star) & ~well_inside)[0]:
    print(f"σ_w² {sw2_grid[i]:.2f} (c ξ_c = {math.exp(ln_c) * xi_grid[i]:.0f}): trained seeds at each depth "
          + " ".join(str(int(t)) for t in trained[:, i].sum(1)) + f" (of {S})")
# the same growth, read across networks of different depths: the slope of ln(ratio) against L per σ_w²
jensen = theory.log_gradient_shift(sw2_grid, sigma_b2=sb2, width=P.train_width)     # v/(2n) per layer
depth_slopes = []
for i, sw2 in enumerate(sw2_grid):
    th = np.array([theory.gradient_profile(int(L), sb2 + sw2, sigma_w2=sw2, sigma_b2=sb2, input_norm2=d_in,
                                       width=P.train_width)[0] for L in depths])
    deep = depths >= 12                        # past the first layers' transient, where ln(ratio) is linear in L
    (slope, _), cov = np.polyfit(np.repeat(depths[deep], S), np.log(init_ratio[deep, i]).ravel(), 1, cov=True)
    depth_slopes.append((slope, math.sqrt(cov[0, 0]), np.polyfit(depths[deep], np.log(th[deep]), 1)[0]))
    print(f"σ_w² {sw2:4.2f}: ln(ratio) per added layer {slope:+.3f} ± {math.sqrt(cov[0, 0]):.3f}; "
          f"mean field {depth_slopes[-1][2]:+.3f}, with the 1/n shift {depth_slopes[-1][2] - jensen[i]:+.3f}")
slope_m, slope_se, slope_th = np.array(depth_slopes).T
j24 = int(np.argmin(np.abs(depths - 24)))
for s_show in (0.85, 4.5):
    i = int(np.argmin(np.abs(sw2_grid - s_show)))
    print(f"L = {depths[j24]}, σ_w² {sw2_grid[i]:.2f}: first/last squared gradient at step 0 "
          f"{np.exp(np.log(init_ratio[j24, i]).mean()):.2g}; test accuracy after training "
          + ", ".join(f"{a:.2f}" for a in test_acc[j24, i]))
cu.check_less("ordered side, width 48: largest |slope − (mean field − v/2n)| in standard errors of the fit",
              np.max(np.abs(slope_m - (slope_th - jensen))[ordered_grid] / slope_se[ordered_grid]), 4.0)
cu.check_count("values of σ_w² whose slope lies between mean field − v/2n and mean field (± 4 s.e.)",
               int(np.sum((slope_m > slope_th - jensen - 4 * slope_se) & (slope_m < slope_th + 4 * slope_se))),
               at_least=len(sw2_grid), of=len(sw2_grid))

# %% [markdown]
# **The comparison.** Top: the test accuracy of the seed-averaged networks over the plane of depth
# and $\sigma_w^2$, with the measured trainable depths $L^*$ (white markers), the fitted boundary
# $c\,\xi_c$ (solid) and Schoenholz et al.'s $6\,\xi_c$ (dashed). The trainable region is a wedge
# around the edge of chaos, and its edge follows $\xi_c$ on both sides: $L^*$ grows from about 11
# layers at $\sigma_w^2 = 0.7$ to about 45 at $\sigma_w^2 = 1.2$, and falls back to about 33 deep in the
# chaotic phase. At the edge of chaos the networks train at every depth up to 64, at every seed
# (checked); at $\sigma_w^2 = 1.45$ and $2.3$, where $c\,\xi_c \approx 80$–$95$ lies just beyond the deepest
# depth, the boundary is not located (printed: how many seeds trained at each depth; at some seeds one
# of the three fails at 64 layers). The checks above test three claims:
#
# - **$L^* \propto \xi_c$.** A power-law fit of $L^*$ against $\xi_c$ over the seven values of
#   $\sigma_w^2$ whose boundary lies inside the sampled depths gives an exponent close to one (printed;
#   0.90 ± 0.13 at seed 0, within 0.16 of 1 at every seed from 0 to 5), checked against 1 within four
#   standard errors of the fit. The
#   proportionality holds on *both* sides of the transition with one constant, although there the
#   gradients do opposite things.
# - **The constant.** The ratios $L^*/\xi_c$ lie between about 5 and 8; their geometric mean (6.4 at
#   seed 0, with a standard error of 6 % from their spread; within 12 % of 6 at every seed from 0 to 5)
#   is consistent with Schoenholz et al.'s 6 within four standard errors. The constant depends on the
#   criterion: demanding an accuracy of 0.5 instead of 0.25 gives a smaller one (4.1 at seed 0, printed). What the data fix is the proportionality to $\xi_c$;
#   the factor is a property of the task, the budget and what one calls "trained".
# - **The rule predicts individual runs.** With the fitted constant, "trains if $L < c\,\xi_c$"
#   gets at most one run in ten wrong (9 to 13 of 240 at seeds 0–5).
#
# Bottom: before training, the ratio of the first layer's squared gradient to the last hidden layer's
# changes by a factor $\chi_1$ per added layer, as {eq}`eq-depth-gradient` says: at 64 layers it is
# about $10^{-11}$ at $\sigma_w^2 = 0.85$ and $10^{13}$ at $\sigma_w^2 = 6.5$. These networks are narrow (48
# units for up to 64 layers), and the finite width shows: we average the *logarithm* of the ratio
# over networks, and a product of $L$ random factors, each with relative variance $v/n$,
# $v = 3\,\mathbb E[\phi'^4]/\mathbb E[\phi'^2]^2 - 1$, has $\mathbb E\ln = L\,(\ln\chi_1 - v/2n) + O(L/n^2)$
# (`signal_propagation.log_gradient_shift`; $v/2n$ is 0.02–0.08 here). In the ordered phase the
# measured slopes follow $\ln\chi_1 - v/2n$ within four standard errors of the fit (printed); in the
# chaotic phase they lie between that and the mean field, closer to the mean field, because the
# 64 inputs of a network decorrelate there, and averaging the gradient over nearly independent
# inputs within each network removes most of the log-normal shift. Both are checked.
#
# The gradients do not decide trainability on their own (last printed lines): at $\sigma_w^2 = 4.5$ and
# 24 layers the first layer's squared gradient is some $10^3$ times the last one's, and these networks
# train ($24 \approx 3.7\,\xi_c$); at $\sigma_w^2 = 0.85$ and 24 layers it is some $10^{-3}$ times, and they
# fail ($24 \approx 9\,\xi_c$).
# What separates success from failure across both phases is the depth in units of $\xi_c$.
#
# ## 5. What it means
#
# - A deep random network has correlation lengths, like a spin system near a critical point: the
#   distance of a correlation from its fixed point decays as $e^{-\ell/\xi_c}$ and the squared
#   gradient as $e^{-(L-l)/\xi_\nabla}$, with $\xi_c = -1/\ln\chi_c$ and $\xi_\nabla = -1/\ln\chi_1$.
#   Both diverge at the edge of chaos, where information and gradients cross any depth.
# - Measured in networks of width 128–256, both rates agree with the mean-field theory over
#   the whole phase diagram once the $O(1/n)$ shift is extrapolated away; in a narrow network
#   (width 48) the typical gradient falls faster than the mean one by $v/2n$ per layer.
# - Whether a network trains at all is decided, to a good approximation, by $L/\xi_c$: with SGD on
#   digits the boundary is $L^* \approx 6\,\xi_c$, the constant Schoenholz et al. found on MNIST and
#   CIFAR-10. The practical rule: initialise near $\chi_1 = 1$ if the network is deep, or keep
#   $L$ below a few $\xi_c$.
# - What this chapter does not show: whether networks at the edge of chaos train at *any* depth within
#   a fixed budget (the default scale stops at 64 layers; `COURSE_SCALE=paper` goes to 256), and how
#   fast or how well a network trains once it can; that is the dynamics of training, the subject of
#   [Training in the infinite-width limit: the neural tangent kernel](02_ntk.ipynb) and of part 4.
#
# ## Exercises
#
# :::{exercise} The correlation depth on the chaotic side
# :label: ex-depth-xi-c
#
# For a tanh network with $\sigma_w^2 = 3$ and $\sigma_b^2 = 0.05$, compute $\xi_c$ from
# {eq}`eq-depth-xi-c` with the tools of `course_utils.theory.kernels` only: $q^*$
# (`variance_fixed_point`), the fixed point $c^* < 1$ of `correlation_map` (a root finder), and
# $\mathbb E[\phi'(u)\phi'(v)]$ (`gaussian_pair_expectation` with `derivative=True`). Check with
# `exercises.check_correlation_depth(xi_c)`. Why would $-1/\ln\chi_1$ be wrong here?
# :::
#
# :::{solution-start} ex-depth-xi-c
# :class: dropdown
# :::

# %%
sw2_ex, sb2_ex = 3.0, 0.05
q_ex = float(kernels.variance_fixed_point(activation="tanh", sigma_w2=sw2_ex, sigma_b2=sb2_ex))
c_star_ex = brentq(lambda c: float(kernels.correlation_map(c, q=q_ex, activation="tanh", sigma_w2=sw2_ex,
                                                           sigma_b2=sb2_ex)) - c, -0.5, 0.99)
chi_c_ex = sw2_ex * float(kernels.gaussian_pair_expectation(q_ex, q_ex * c_star_ex, q_ex, "tanh", derivative=True))
xi_c_ex = -1 / math.log(chi_c_ex)
print(f"q* = {q_ex:.4f}, c* = {c_star_ex:.4f}, χ_c = {chi_c_ex:.4f}, ξ_c = {xi_c_ex:.3f} layers")
_ = exercises.check_correlation_depth(xi_c_ex)

# %% [markdown]
# On the chaotic side $c = 1$ is an unstable fixed point: $\chi_1 > 1$ is the rate at which nearby
# inputs separate, and $-1/\ln\chi_1$ is negative. Correlations settle at the stable fixed point
# $c^* \approx 0.30$, and the approach is governed by the slope there, $\chi_c \approx 0.90$. Note that
# $c^*$ must be found below 1: `brentq` on $[-0.5, 0.99]$ brackets the stable root, since $M(c) - c$ is
# positive at $-0.5$ and negative just below 1.
#
# :::{solution-end}
# :::
#
# :::{exercise} Exploding gradients
# :label: ex-depth-explode
#
# In a tanh network at $\sigma_w^2 = 4.5$, $\sigma_b^2 = 0.05$, by what factor is the mean squared
# gradient of a weight matrix 30 layers below the last hidden layer larger than that of the last
# hidden layer, once $q^\ell = q^*$? Check with `exercises.check_depth_ratio(ratio)`. These networks
# still train at 30 layers in §4; what does SGD with one learning rate do to their first layers?
# :::
#
# :::{solution-start} ex-depth-explode
# :class: dropdown
# :::

# %%
chi1_ex = float(kernels.chi1(activation="tanh", sigma_w2=4.5, sigma_b2=0.05))
_ = exercises.check_depth_ratio(chi1_ex ** 30)

# %% [markdown]
# By {eq}`eq-depth-gradient` the factor is $\chi_1^{30} = 1.40^{30} \approx 2.6\cdot 10^4$. With one
# learning rate, the first layers take steps some $10^4$ times larger, relative to their gradient
# scale, than the last ones: they move far from their initialisation while the top layers barely
# move. The networks still learn within the budget because what reaches the readout still carries
# the geometry of the inputs ($30 < 6\,\xi_c \approx 39$); an optimiser that rescales each layer
# (Adam, layer-wise learning rates) would change the budget, not the information the forward pass carries.
#
# :::{solution-end}
# :::
#
# :::{exercise} A rule of thumb for initialisation
# :label: ex-depth-design
#
# You must train a tanh network of 100 hidden layers with $\sigma_b^2 = 0.05$. Using the
# boundary $L^* \approx 6\,\xi_c$ and `signal_propagation.depth_scales`, find the interval of
# $\sigma_w^2$ in which it should train. Is the interval symmetric about the edge of chaos?
# :::
#
# :::{solution} ex-depth-design
# :class: dropdown
#
# One needs $\xi_c > 100/6 \approx 17$. Scanning $\sigma_w^2$ with `depth_scales` gives $\xi_c > 17$ for
# about $1.52 \lesssim \sigma_w^2 \lesssim 2.18$: a window from about 14 % below the critical 1.76 to about 24 %
# above it. It is not symmetric: $\xi_c$ falls more slowly on the chaotic side, as the first figure
# shows, so a network errs more safely on the chaotic side of the transition.
# :::
#
# ## Summary
#
# - Near the fixed point of the correlation map, $|c^\ell - c^*| \propto e^{-\ell/\xi_c}$ with
#   $\xi_c = -1/\ln\chi_c$ and $\chi_c$ the map's slope at $c^*$ ({eq}`eq-depth-xi-c`); squared
#   gradients change by $\chi_1$ per layer, $\xi_\nabla = -1/\ln\chi_1$ ({eq}`eq-depth-gradient`). The
#   two coincide in the ordered phase, part in the chaotic one, and diverge at $\chi_1 = 1$.
# - Both were measured in random tanh networks at eleven and ten values of $\sigma_w^2$: the
#   decay rates of correlations and the growth of gradients per layer agree with the theory within
#   four standard errors after a $1/n$ extrapolation in width; in a narrow network the typical
#   gradient falls faster than the mean by $v/2n$ per layer.
# - 240 networks trained on digits: the deepest trainable network is proportional to $\xi_c$ on both
#   sides of the transition, $L^* \approx 6\,\xi_c$ for "trained" meaning clearly above chance, as
#   {cite:t}`schoenholz2017deep` found; the constant depends on the criterion, the proportionality
#   does not.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
