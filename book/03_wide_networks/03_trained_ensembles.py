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
# # The ensemble of trained wide networks
#
# Train the same wide network many times from different random initialisations: what is the
# distribution of the functions you get? At initialisation it is the Gaussian process of
# [Networks at initialisation: the Gaussian-process limit](01_nngp.ipynb). Training is linear in
# the initial function when the network is wide ([Training in the infinite-width limit: the neural
# tangent kernel](02_ntk.ipynb)), and a linear map of a Gaussian is Gaussian: so the trained networks
# form a Gaussian ensemble with a mean and a covariance we can compute {cite:p}`lee2019wide`. It is
# tempting to call it "the Bayesian posterior of the NNGP", and it is not. We derive the ensemble's
# mean and covariance, train thousands of networks to test them, and measure how fast a finite
# width approaches them: any single network as $1/\sqrt n$, the ensemble's mean much faster (by
# symmetry the perturbative expectation is $1/n$; we measure a slope of about 0.7 over the widths we
# can resolve), and how depth and data size change the agreement.
#
# **Prerequisites:** [Networks at initialisation: the Gaussian-process limit](01_nngp.ipynb)
# (the NNGP kernel $K$, GP regression) and
# [Training in the infinite-width limit: the neural tangent kernel](02_ntk.ipynb) (the NTK $\Theta$,
# lazy training, the linearised network).
# **Runs in:** about three minutes on a laptop CPU (`COURSE_SCALE=default`);
# `COURSE_SCALE=paper` trains wider networks and more members on a GPU.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/03_wide_networks/03_trained_ensembles.ipynb)
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

import course_utils as cu
from course_utils.ensemble import BatchedSGD, mse_per_sample, train_ensemble
from course_utils.exercises import ntk_ensemble as exercises
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as theory

cu.use_house_style()
device = cu.setup()  # the seed comes from COURSE_SEED (0 for the stored run)
# The networks train in float32 (on a CPU about four times faster than float64 here); the finite-width
# effects we measure are 10⁻³ and larger, rounding is 10⁻⁷. The theory is float64 NumPy.
DTYPE = torch.float32

# %% [markdown]
# ## Parameters
#
# One-hidden-layer erf networks for the width sweep (§3–§4), thousands of members per width; a
# small sweep of depth and data size at fixed width (§5). `COURSE_SCALE=paper` doubles the members
# and the widths (on a GPU).

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        n_train=8, n_test=48, steps=300,                                  # the task and its training
        wide_width=2048, wide_members=256,                                 # §2
        sweep_widths=(8, 16, 32, 64, 128), sweep_members=(4096, 4096, 4096, 8192, 4096),  # §3-§4
        fit_widths=(16, 32, 64, 128), kurtosis_fit_widths=(16, 32, 64, 128),
        fixed_width=64, depths=(1, 2, 3, 4), data_sizes=(4, 8, 16), fixed_members=512,  # §5
    ),
    paper=dict(wide_width=8192, wide_members=1024,
               sweep_widths=(8, 16, 32, 64, 128, 256, 512), sweep_members=(32768,) * 4 + (65536,) * 3,
               fit_widths=(16, 32, 64, 128, 256, 512), kurtosis_fit_widths=(16, 32, 64, 128, 256),
               fixed_width=128, depths=(1, 2, 3, 4, 6, 8), data_sizes=(4, 8, 16, 32), fixed_members=2048),
)
P

# %% [markdown]
# ## 1. The trained ensemble is Gaussian, and not the NNGP posterior
#
# **The model.** A network $f(x;\theta)$ in the NTK parameterisation of
# [Training in the infinite-width limit: the neural tangent kernel](02_ntk.ipynb) (trained
# parameters $V, \beta \sim \mathcal N(0,1)$, weights $\sigma_w V/\sqrt{n}$, biases $\sigma_b\beta$)
# is trained by full-batch gradient descent on $N$ examples $(X, y)$ with the squared loss
# $L = \frac12\sum_\mu (f(x_\mu) - y_\mu)^2$ and step $\eta$. Two facts from the previous chapters:
# at initialisation $f_0$ is a draw from the Gaussian process with the NNGP kernel $K$; and at large
# width the network trains as its linearisation, whose tangent kernel is the deterministic NTK
# $\Theta$ and does not move.
#
# **The derivation.** For the linearised model the training residual obeys
# $f_{t+1}(X) - y = (I - \eta\Theta)(f_t(X) - y)$, so $f_t(X) - y = (I - \eta\Theta)^t (f_0(X) - y)$
# with $\Theta = \Theta(X, X)$. A test input $x$ moves with the training inputs through the kernel,
# $f_{t+1}(x) - f_t(x) = -\eta\,\Theta(x, X)(f_t(X) - y)$; summing the geometric series,
#
# $$
# f_t(x) = f_0(x) - A_t(x)\,\bigl(f_0(X) - y\bigr),\qquad
# A_t(x) = \Theta(x, X)\,\Theta^{-1}\bigl(I - (I - \eta\Theta)^t\bigr),
# $$ (eq-trained-ensembles-linear)
#
# (for gradient flow, $(I - \eta\Theta)^t \to e^{-\eta\Theta t}$). The only randomness is the initial
# function $f_0$, and $f_t$ is *linear* in it. So over initialisations $f_t$ is Gaussian, with mean
# (using $\mathbb E f_0 = 0$) and covariance (using $\mathbb E f_0(x) f_0(x') = K(x, x')$)
#
# $$
# \mu_t(x) = A_t(x)\,y,\qquad
# \Sigma_t(x, x') = K(x, x') - A_t(x)K(X, x') - K(x, X)A_t(x')^\top + A_t(x)\,K(X, X)\,A_t(x')^\top .
# $$ (eq-trained-ensembles-moments)
#
# This is `theory.ntk_ensemble_moments`; its test (`tests/test_theory_ntk_ensemble.py`) trains 200 000
# linear models whose tangent kernel differs from their prior kernel, step by step, and finds their
# mean and covariance within five standard errors of {eq}`eq-trained-ensembles-moments`.
#
# **Not the posterior.** As $t\to\infty$, $A_\infty(x) = \Theta(x, X)\Theta^{-1}$, and the Bayesian
# posterior of the NNGP would instead need $K(x, X)K^{-1}$:
#
# $$
# \mu^{\rm GP}(x) = K(x, X) K^{-1} y,\qquad \Sigma^{\rm GP}(x, x') = K(x, x') - K(x, X) K^{-1} K(X, x').
# $$ (eq-trained-ensembles-posterior)
#
# The two coincide when $\Theta \propto K$, i.e. when only the readout layer is trained (then the
# tangent kernel *is* the NNGP kernel: exercise below). When every layer trains, gradient descent
# corrects the initial function with the "wrong" kernel: the ensemble interpolates the data (its
# variance vanishes on $X$ as $t\to\infty$) but it is not a posterior, and away from the data its
# mean and spread differ from the GP's.
#
# **The task.** Inputs on the unit circle, $x = (\cos\vartheta, \sin\vartheta)$; $N = 8$ training
# inputs equally spaced on the upper half ($\vartheta_\mu = \pi(\mu + \frac12)/8$), the target
# $y = \sin\vartheta + \frac12\sin 3\vartheta$, and 48 test inputs around the whole circle, so that the
# lower half is an extrapolation where the prior matters. The networks have one hidden layer of erf
# units, $\sigma_w^2 = 2$, $\sigma_b^2 = 0.1$, and train for 300 steps of gradient descent on the mean
# squared error, with the step at which the top NTK mode is learned in one step, $\eta\lambda_{\max}(\Theta) = 1$.

# %%
sw2, sb2, activation = 2.0, 0.1, "erf"


def circle(angles):
    """Points (cos t, sin t) on the unit circle, shape (len(angles), 2)."""
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def task(n_train):
    """Training angles on the upper half circle, the test angles around it, the target on the training inputs."""
    t_train = np.pi * (np.arange(n_train) + 0.5) / n_train
    t_test = 2 * np.pi * (np.arange(P.n_test) + 0.5) / P.n_test
    return t_train, t_test, np.sin(t_train) + 0.5 * np.sin(3 * t_train)


def ensemble_theory(n_train, depth):
    """Kernels on [train, test], the kernel step η (for ½Σ(f−y)²), the response matrix A and the moments."""
    t_train, t_test, y = task(n_train)
    X = circle(np.concatenate([t_train, t_test]))
    Theta, K = kernels.ntk_kernel(X, depth=depth, activation=activation, sigma_w2=sw2, sigma_b2=sb2,
                                  return_nngp=True)
    N = n_train
    lr = 1.0 / np.linalg.eigvalsh(Theta[:N, :N])[-1]
    A = theory.response_matrix(Theta[:N, :N], Theta[N:, :N], P.steps, lr=lr)
    mu, cov = theory.ntk_ensemble_moments(Theta[:N, :N], Theta[N:, :N], K[:N, :N], K[N:, :N], K[N:, N:], y,
                                       P.steps, lr=lr)
    gp_mu, gp_cov = theory.nngp_posterior(K[:N, :N], K[N:, :N], K[N:, N:], y)
    return dict(X=X, y=y, t_test=t_test, lr=lr, A=A, mu=mu, cov=cov, gp_mu=gp_mu, gp_cov=gp_cov)


def train_members(width, depth, n_members, first_seed, n_train=P.n_train):
    """Train n_members networks (member k drawn from cu.seed(first_seed + k)) as one batched ensemble.
    Returns the initial and the trained outputs on the test inputs, and the control variate g of
    eq-trained-ensembles-linear (the infinite-width prediction for each member's own f₀), each (members, tests)."""
    th = ensemble_theory(n_train, depth)
    net = theory.BatchedNTKMLP(n_members, 2, width, depth, activation=activation, sigma_w=math.sqrt(sw2),
                            sigma_b=math.sqrt(sb2), seeds=cu.seed(range(first_seed, first_seed + n_members)),
                            dtype=DTYPE).to(device)
    X = torch.tensor(th["X"], dtype=DTYPE, device=device)
    y = torch.tensor(th["y"], dtype=DTYPE, device=device)[:, None]
    with torch.no_grad():
        f0 = net(X)[:, :, 0].double().cpu().numpy()
    # mse_per_sample is (f − y)² averaged over the N samples: its step lr_mse equals the kernel step η = 2 lr_mse/N
    opt = BatchedSGD(net.parameters(), lr=th["lr"] * n_train / 2)
    hist = train_ensemble(net, mse_per_sample, X[:n_train], y, steps=P.steps, optimizer=opt, record_steps=[P.steps],
                          desc=f"width {width}, depth {depth}, {n_members} networks")
    with torch.no_grad():
        f = net(X)[:, :, 0].double().cpu().numpy()
    g = f0[:, n_train:] - (f0[:, :n_train] - th["y"]) @ th["A"].T
    return dict(f0=f0[:, n_train:], f=f[:, n_train:], g=g, loss=hist["loss"][-1], theory=th)


# %% [markdown]
# ## 2. Thousands of trained networks against the two predictions
#
# First `wide_members` = 256 networks of width 2048, trained as one batched ensemble
# (`theory.BatchedNTKMLP`: the course's network in the NTK parameterisation with a leading member axis,
# trained by `train_ensemble`). At every test input we compare their sample mean and variance with
# the NTK ensemble {eq}`eq-trained-ensembles-moments` and with the NNGP posterior
# {eq}`eq-trained-ensembles-posterior`. The statistical yardsticks: the sample mean of $M$ members has
# the standard error $\sqrt{\Sigma(x,x)/M}$, the sample variance $\Sigma(x,x)\sqrt{2/(M-1)}$ (for a
# Gaussian).

# %%
wide = train_members(P.wide_width, 1, P.wide_members, first_seed=0)
th = wide["theory"]
M = P.wide_members
m_hat, v_hat = wide["f"].mean(0), wide["f"].var(0, ddof=1)
var_ntk, var_gp = np.diag(th["cov"]), np.diag(th["gp_cov"])
se_mean = np.sqrt(var_ntk / M)
z_mean_ntk = (m_hat - th["mu"]) / se_mean
z_mean_gp = (m_hat - th["gp_mu"]) / se_mean
z_var_ntk = (v_hat - var_ntk) / (var_ntk * np.sqrt(2 / (M - 1)))

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
t, deg = th["t_test"], np.degrees(th["t_test"])
ax = axes[0]
for mu, sd, label, ls, c in [(th["mu"], np.sqrt(var_ntk), "NTK ensemble (theory)", "-", cu.plotting.PALETTE[0]),
                             (th["gp_mu"], np.sqrt(var_gp), "NNGP posterior (theory)", "--", cu.plotting.PALETTE[1])]:
    ax.plot(deg, mu, ls, color=c, label=label)
    ax.fill_between(deg, mu - 2 * sd, mu + 2 * sd, color=c, alpha=0.15)
ax.errorbar(deg, m_hat, yerr=2 * np.sqrt(v_hat), fmt="o", ms=3, color="k", capsize=0, lw=0.6,
            label=f"{M} trained networks: mean ± 2 s.d.")
ax.plot(np.degrees(task(P.n_train)[0]), th["y"], "x", color=cu.plotting.PALETTE[2], ms=9, mew=2,
        label="training data")
ax.set_xlabel("angle $\\vartheta$ of the input (degrees)")
ax.set_ylabel("output $f(x)$")
ax.legend(fontsize=7, loc="lower left")
ax = axes[1]
ax.semilogy(deg, var_ntk, "-", color=cu.plotting.PALETTE[0], label="NTK ensemble $\\Sigma(x,x)$")
ax.semilogy(deg, var_gp, "--", color=cu.plotting.PALETTE[1], label="NNGP posterior variance")
ax.semilogy(deg, v_hat, "o", ms=3, color="k", label=f"variance over {M} networks")
ax.set_xlabel("angle $\\vartheta$ of the input (degrees)")
ax.set_ylabel("variance of the output")
ax.set_ylim(bottom=1e-5)
ax.legend(fontsize=7, loc="upper left")
plt.show()

# %%
print(f"width {P.wide_width}, {M} networks, final training loss {np.median(wide['loss']):.1e} (median)")
print(f"networks vs NTK ensemble: mean within {np.abs(z_mean_ntk).max():.1f} s.e., "
      f"variance within {np.abs(z_var_ntk).max():.1f} s.e. (worst of {P.n_test} test inputs)")
print(f"networks vs NNGP posterior: rms distance of the means {np.sqrt(np.mean(z_mean_gp ** 2)):.1f} s.e., "
      f"largest {np.abs(z_mean_gp).max():.1f} s.e.; variance ratio NTK/NNGP: median "
      f"{np.median(var_ntk / np.maximum(var_gp, 1e-12)):.2f}")
# 48 correlated test inputs: if the theory is right, |z| > 4 somewhere has probability < 48 × 6e-5 = 0.3 %
cu.check_less("networks vs NTK ensemble: largest |mean − μ| / s.e.", np.abs(z_mean_ntk).max(), 4.0)
cu.check_less("networks vs NTK ensemble: largest |variance − Σ| / s.e.", np.abs(z_var_ntk).max(), 4.0)
# distinguishable: the rms over test inputs of (mean − μ_GP)/s.e. is ≈ 1 if the networks were the posterior
cu.check_less("networks are not the NNGP posterior: 5 < rms (mean − μ_GP)/s.e.", 5.0,
              np.sqrt(np.mean(z_mean_gp ** 2)))

# %% [markdown]
# The networks' mean and variance lie on the NTK-ensemble curves at every test input, within four
# standard errors; the NNGP posterior misses their mean by many standard errors on the lower half of
# the circle, where there are no data. The variances differ more strikingly still: the NNGP posterior
# is a *conditioned* Gaussian and is certain wherever the kernel says the data determine the function,
# while the trained ensemble keeps the prior's spread in every direction gradient descent did not
# (or could not yet) change. On the training inputs both are nearly certain.
#
# ## 3. How fast a finite width gets there: $1/\sqrt n$ for one network, faster for the ensemble
#
# **Two different questions.** How far is *one* trained network of width $n$ from the
# infinite-width prediction for its own initial function (the control variate $g_t(x) = f_0(x) -
# A_t(x)(f_0(X) - y)$ of {eq}`eq-trained-ensembles-linear`)? And how far is the *ensemble*'s mean
# and covariance from $\mu_t$ and $\Sigma_t$?
#
# **What to expect.** A network differs from its infinite-width linearisation through the
# fluctuation of its tangent kernel at initialisation, $\delta\Theta = O(n^{-1/2})$ (measured in
# [Training in the infinite-width limit: the neural tangent kernel](02_ntk.ipynb)), and through the
# kernel's motion during training, $O(n^{-1})$ for a smooth activation. So $d = f_t - g_t =
# O(n^{-1/2})$ per network. In the ensemble mean the first-order term averages out: the
# fluctuation $\delta\Theta$ has mean zero over initialisations and is even in the readout weights
# while $f_0$ is odd in them, so $\mathbb E[\delta\Theta\,(f_0(X) - y)] = 0$. What survives is second
# order in $\delta\Theta$ and the mean kernel motion: $\mathbb E f_t - \mu_t = O(n^{-1})$
# {cite:p}`dyer2020asymptotics,roberts2022principles`. The covariance likewise: its leading
# corrections are products of two $O(n^{-1/2})$ fluctuations, $O(n^{-1})$.
#
# **Measuring a small bias under sampling noise.** The plain sample mean of $M$ networks has a noise
# $\sqrt{\Sigma/M}$ that does not fall with width, and would hide a $1/n$ bias at any width we can
# afford. But $\mathbb E g_t = \mu_t$ exactly at any width ($\mathbb E f_0 = 0$), and for one hidden
# layer $\operatorname{Cov} g_t = \Sigma_t$ exactly (the output covariance of a one-hidden-layer network is $K$ at any width). So
# the bias of the mean is estimated by the mean of $d = f_t - g_t$, whose noise is
# $O(n^{-1/2}/\sqrt M)$, and the bias of the covariance by $\widehat{\rm Cov} f - \widehat{\rm Cov} g$
# (`theory.ensemble_discrepancy`). We report the *squared* sizes relative to the ensemble's spread,
# $b^2 = \overline{(\mathbb E f - \mu)^2}/\overline{\Sigma(x,x)}$ and $B^2 = \overline{(\operatorname{Cov} f - \Sigma)^2}/\overline{\Sigma^2}$
# (averages over test inputs and pairs), each minus its noise (the expected square of a noisy
# estimate is its true square plus the noise variance, estimated by resampling members), with a
# standard error from the same resampling. `sweep_members`: 4096 networks per width, and 8192 at
# width 64 (in the middle of the fitted range; at width 128 that many would double the run time).

# %%
sweep = {}
for i, n in enumerate(P.sweep_widths):
    sweep[n] = train_members(n, 1, P.sweep_members[i], first_seed=10_000 * (i + 1))
rows = {n: theory.ensemble_discrepancy(r["f"], r["g"], r["theory"]["cov"], n_boot=200, seed=cu.seed(1 + i))
        for i, (n, r) in enumerate(sweep.items())}
widths = np.array(P.sweep_widths)
mean2 = np.array([rows[n]["mean2"] for n in widths])
mean2_se = np.array([rows[n]["mean2_se"] for n in widths])
cov2 = np.array([rows[n]["cov2"] for n in widths])
cov2_se = np.array([rows[n]["cov2_se"] for n in widths])
spread = np.array([rows[n]["spread"] for n in widths])
fit_sel = np.isin(widths, P.fit_widths)
print(" width   one network: rms d/s   ensemble mean: b² (± s.e.)    covariance: B² (± s.e.)    loss")
for n, r in rows.items():
    print(f"{n:6d}   {r['spread']:.3f}                  {r['mean2']:9.2e} ± {r['mean2_se']:.1e}"
          f"        {r['cov2']:9.2e} ± {r['cov2_se']:.1e}      {np.median(sweep[n]['loss']):.1e}")

# %%
b = np.sqrt(np.clip(mean2, 1e-12, None))
b_err = mean2_se / (2 * b)
fit_spread = cu.fit_power_law(widths[fit_sel], spread[fit_sel])  # rms d ∝ n^(−alpha)
fit_mean = cu.fit_power_law(widths[fit_sel], b[fit_sel])         # b ∝ n^(−alpha)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
cu.plotting.loglog_fit(ax, widths[fit_sel], spread[fit_sel], label="one network: rms $d/s$",
                       exponent_name="slope", color=cu.plotting.PALETTE[0])
cu.plotting.loglog_fit(ax, widths[fit_sel], b[fit_sel], label="ensemble mean: $b$",
                       exponent_name="slope", color=cu.plotting.PALETTE[1], marker="s")
ax.errorbar(widths, b, yerr=b_err, fmt="none", color=cu.plotting.PALETTE[1])
ax.plot(widths[~fit_sel], spread[~fit_sel], "o", mfc="none", color=cu.plotting.PALETTE[0])
ax.plot(widths[~fit_sel], b[~fit_sel], "s", mfc="none", color=cu.plotting.PALETTE[1])
ref = widths.astype(float)
ax.plot(ref, spread[fit_sel][0] * (ref / widths[fit_sel][0]) ** -0.5, ":", color="grey", label="$n^{-1/2}$")
ax.plot(ref, b[fit_sel][0] * (ref / widths[fit_sel][0]) ** -1.0, "-.", color="grey", label="$n^{-1}$")
ax.set_xlabel("width n (units)")
ax.set_ylabel("distance to the NTK prediction\n(units of the ensemble's s.d.)")
ax.set_ylim(bottom=3e-3)  # room for the legend below the data
ax.legend(fontsize=7, ncol=2, loc="lower left")
ax = axes[1]
pos = cov2 > 2 * cov2_se
ax.errorbar(widths[pos], np.sqrt(cov2[pos]), yerr=cov2_se[pos] / (2 * np.sqrt(cov2[pos])), fmt="D",
            color=cu.plotting.PALETTE[2], label="covariance $B$ (resolved: $B^2 > 2$ s.e.)")
ax.plot(widths[~pos], np.sqrt(np.clip(cov2[~pos], 0, None) + 2 * cov2_se[~pos]), "v", mfc="none",
        color=cu.plotting.PALETTE[2], label="covariance: upper bound $\\sqrt{B^2 + 2\\,\\rm s.e.}$")
ax.plot(widths, np.sqrt([rows[n]["cov_noise2"] for n in widths]), ":", color="grey",
        label="noise of the estimate")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("width n (units)")
ax.set_ylabel("relative rms error of the covariance")
ax.legend(fontsize=7)
plt.show()

# %%
print(f"one network:   rms d ∝ n^(-{fit_spread.alpha:.3f} ± {fit_spread.alpha_stderr:.3f})")
print(f"ensemble mean: b ∝ n^(-{fit_mean.alpha:.3f} ± {fit_mean.alpha_stderr:.3f})  (widths {P.fit_widths[0]}"
      f"–{P.fit_widths[-1]})")
wide_spread = theory.ensemble_discrepancy(wide["f"], wide["g"], th["cov"], n_boot=20, seed=cu.seed(9))["spread"]
slope_far = math.log(spread[-1] / wide_spread) / math.log(P.wide_width / widths[-1])
local = -np.diff(np.log(spread)) / np.diff(np.log(widths))
print("local slopes of rms d: " + ", ".join(f"{a:.2f}" for a in local)
      + f"; from width {widths[-1]} to {P.wide_width}: {slope_far:.3f}")
sig = mean2[fit_sel] / mean2_se[fit_sel]
# the power-law fit needs b² > 0 at every fitted width: it must stand out of its noise (2 s.e.; the widest, 128,
# is expected at about 4 s.e. with 4096 networks)
cu.check_count("fitted widths at which the ensemble mean's bias is resolved (b² > 2 s.e.)", int((sig > 2).sum()),
               at_least=int(fit_sel.sum()), of=int(fit_sel.sum()))
# one network: the slope creeps up towards 1/2 (local slopes printed); between the widest sweep width and the wide
# run it must be within 0.05 of 1/2 (each rms d has a sampling error below 1 %, so 0.05 is the pre-asymptotic drift)
cu.check_close(f"one network: slope of rms d from width {widths[-1]} to {P.wide_width} (1/√n)", slope_far, 0.5,
               atol=0.05)
cu.check_less("one network: the local slope rises towards 1/2 (fit over the sweep < slope at large width)",
              fit_spread.alpha, slope_far)
# the claim is the sign of the difference of the two fitted slopes (each s.e. from the scatter about its line),
# beyond 2 standard errors: it stood at 3-4 s.e. with 4096 networks at every width (seeds 0, 1)
cu.check_less("the ensemble mean converges faster than one network: slope(b) − slope(d) > 2 s.e.",
              2 * math.hypot(fit_mean.alpha_stderr, fit_spread.alpha_stderr), fit_mean.alpha - fit_spread.alpha)
cu.check_less("and not faster than 1/n: slope(b) < 1 + 4 s.e.", fit_mean.alpha, 1 + 4 * fit_mean.alpha_stderr)
# at width 8 the covariance error stands at about 4 s.e. with 4096 networks; the claim is that it is resolved
# (positive beyond 2 s.e.), not its size
cu.check_less(f"covariance error resolved at width {widths[0]}: 2 s.e. < B²", 2 * cov2_se[0], cov2[0])
big = widths >= 64
cu.check_less("covariance error at widths ≥ 64 below 5 % rms (B² + 3 s.e. < 0.05²)",
              float(np.max(cov2[big] + 3 * cov2_se[big])), 0.05 ** 2)

# %% [markdown]
# One network's distance to its own infinite-width prediction falls as about $n^{-1/2}$ (left,
# circles), the size of the fluctuation of its tangent kernel. The ensemble's mean (squares) is far
# closer and falls faster: at width 128 it is within about 3 % of a standard deviation of $\mu_t$,
# while each network is ten times further away, in random directions that cancel in the average.
# The fitted slope of the mean's bias (printed) lies clearly above the $1/2$ of a single network and
# below the $1$ of the perturbative argument. We read this as pre-asymptotic, as for the single network,
# whose local slope creeps up from 0.38 towards $1/2$ over the same widths (0.47 between widths 128
# and 2048), but we have not computed the $1/n$ coefficient (given by the effective theory of
# {cite:t}`roberts2022principles`) nor resolved the mean's bias beyond width 128: with 4096 networks
# its noise reaches its size there. This is a measured disagreement with the simple $1/n$ law over the
# widths we can afford, not a confirmation of it. The covariance (right) is closer still: its
# error is resolved at width 8 (about 20 %, and about 10 % at width 16), and from width 64 on it is
# below a few percent, under the noise floor of the estimate (the dotted line).
#
# ## 4. Is the trained ensemble Gaussian?
#
# At initialisation a one-hidden-layer network's output is a Gaussian scale mixture with excess
# kurtosis $\kappa_0 = C/n$, $C = 3\sigma_w^4\operatorname{Var}\phi(h)^2/(\sigma_b^2 + \sigma_w^2\mathbb E\phi(h)^2)^2$
# ([Networks at initialisation: the Gaussian-process limit](01_nngp.ipynb); $h\sim\mathcal N(0, K^0)$, $K^0 = 1.1$ on the circle), about $1.3/n$ for erf. The
# linearised dynamics {eq}`eq-trained-ensembles-linear` is linear in $f_0$, so at infinite width the
# trained ensemble is as Gaussian as the initial one; at finite width the departure $d$ from the
# linear dynamics adds non-Gaussianity, also at order $1/n$ ($d^2 \sim 1/n$). We measure the excess
# kurtosis of each test input's output over the members, averaged over the test inputs, with a
# standard error from resampling members.

# %%
q0 = sb2 + sw2 * 0.5  # K⁰(x, x) on the unit circle in d = 2
phi = kernels.ACTIVATIONS[activation][0]
m2, m4 = (float(kernels.gaussian_expectation(lambda u, p=p: phi(u) ** p, q0)) for p in (2, 4))
C = 3 * sw2 ** 2 * (m4 - m2 ** 2) / (sb2 + sw2 * m2) ** 2
rng = np.random.default_rng(cu.seed(20))


def kurtosis_with_se(samples, n_boot=200):
    """Excess kurtosis averaged over the test inputs, and its standard error by resampling members."""
    k = theory.excess_kurtosis(samples).mean()
    boots = [theory.excess_kurtosis(samples[rng.integers(0, len(samples), len(samples))]).mean() for _ in range(n_boot)]
    return k, np.std(boots)


kurt = np.array([kurtosis_with_se(sweep[n]["f"]) for n in widths])
kurt0 = np.array([kurtosis_with_se(sweep[n]["f0"]) for n in widths])
kurt_wide = kurtosis_with_se(wide["f"])
ksel = np.isin(widths, P.kurtosis_fit_widths)
fit_k = cu.fit_power_law(widths[ksel], kurt[ksel, 0])  # trained κ ∝ n^(−alpha)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.errorbar(widths, kurt[:, 0], yerr=kurt[:, 1], fmt="o", color=cu.plotting.PALETTE[1], label="trained networks")
ax.errorbar(widths, kurt0[:, 0], yerr=kurt0[:, 1], fmt="s", mfc="none", color=cu.plotting.PALETTE[0],
            label="the same networks at initialisation")
ax.plot(widths, C / widths, "-", color=cu.plotting.PALETTE[0], label=f"initialisation, theory: {C:.2f}/n")
ax.plot(widths, fit_k(widths), "--", color=cu.plotting.PALETTE[1],
        label=f"fit (n = {P.kurtosis_fit_widths[0]}–{P.kurtosis_fit_widths[-1]}): slope "
              f"{fit_k.alpha:.2f} ± {fit_k.alpha_stderr:.2f}")
ax.axhline(0, color="k", lw=0.8)
ax.set_xscale("log")
ax.set_xlabel("width n (units)")
ax.set_ylabel("excess kurtosis of the output\n(mean over test inputs)")
ax.legend(fontsize=8)
plt.show()

# %%
print(" width   trained κ (± s.e.)     initial κ₀ (± s.e.)   theory C/n")
for n, (k, s), (k0, s0) in zip(widths, kurt, kurt0):
    print(f"{n:6d}   {k:6.3f} ± {s:.3f}        {k0:6.3f} ± {s0:.3f}         {C / n:.3f}")
print(f"width {P.wide_width} ({P.wide_members} networks): κ = {kurt_wide[0]:.3f} ± {kurt_wide[1]:.3f}")
cu.check_less("initialisation: largest |κ₀ − C/n| / s.e. over the widths", np.max(np.abs(kurt0[:, 0] - C / widths)
                                                                                    / kurt0[:, 1]), 4.0)
cu.check_less(f"trained, width {widths[1]}: non-Gaussian, 4 s.e. < κ", 4 * kurt[1, 1], kurt[1, 0])
# measured 0.84 ± 0.14 (seed 0) and 0.68 ± 0.04 (seed 1) over widths 16-128: not the 1/n law within its errors;
# the claims are that it falls faster than 1/√n and not faster than 1/n (+ 4 s.e.)
cu.check_less("trained: κ(n) falls faster than n^(-1/2): 0.5 < slope", 0.5, fit_k.alpha)
cu.check_less("and not faster than 1/n: slope < 1 + 4 s.e.", fit_k.alpha, 1 + 4 * fit_k.alpha_stderr)
cu.check_less(f"trained, width {P.wide_width}: Gaussian within 4 s.e. (|κ|/s.e.)", abs(kurt_wide[0]) / kurt_wide[1],
              4.0)

# %% [markdown]
# The initial outputs follow $C/n$ within their error bars. The trained outputs are far less
# Gaussian than the initial ones (about ten times the excess kurtosis at widths 8 to 32), and their
# excess kurtosis falls with width, with a slope (in the legend) between $1/2$ and $1$: 0.85 ± 0.14 in
# the stored run, 0.68 ± 0.04 at seed 1. Training adds its own non-Gaussianity (the departure from the
# linear dynamics, whose square is $O(1/n)$), and it vanishes in the limit; over widths 16–128 it does
# not yet follow the asymptotic $1/n$ within its errors. At width 2048 the kurtosis is zero within its error.
#
# ## 5. Depth and data size at fixed width
#
# The finite-width corrections of a deep network accumulate layer by layer: each hidden layer adds
# an $O(1/n)$ fluctuation to the kernels of the next, so for ReLU networks the relative fluctuation
# of the tangent kernel grows with $L/n$, the expansion parameter of deep finite-width networks
# {cite:p}`hanin2020finite,roberts2022principles`. At fixed width `fixed_width` = 64 we train
# `fixed_members` = 512 erf networks of each depth from 1 to 4 (each against its own NTK and NNGP
# kernels, with its own step $\eta = 1/\lambda_{\max}$), and networks of depth 1 on $N$ = 4, 8 and 16
# training inputs on the same half circle. We measure one network's mean square distance to its
# prediction, $\overline{d^2}$, in units of the targets' mean square (in units of the ensemble's
# variance, as in §3, the growth of the prior's variance with depth would mix in). The ensemble
# mean's bias is printed too; 512 networks barely resolve it.

# %%
def mean_square_d(r):
    """Mean over members and test inputs of (f − g)², in units of the target's mean square, and its standard error
    (from the scatter of the members' own means)."""
    per_member = ((r["f"] - r["g"]) ** 2).mean(axis=1) / np.mean(r["theory"]["y"] ** 2)
    return per_member.mean(), per_member.std(ddof=1) / math.sqrt(len(per_member))


depth_rows, depth_bias = {}, {}
for i, L in enumerate(P.depths):
    r = train_members(P.fixed_width, L, P.fixed_members, first_seed=200_000 + 10_000 * i)
    depth_rows[L] = mean_square_d(r)
    depth_bias[L] = theory.ensemble_discrepancy(r["f"], r["g"], r["theory"]["cov"], n_boot=200, seed=cu.seed(30 + i))
data_rows = {}
for i, N in enumerate(P.data_sizes):
    r = train_members(P.fixed_width, 1, P.fixed_members, first_seed=400_000 + 10_000 * i, n_train=N)
    data_rows[N] = mean_square_d(r)

depths, sizes = np.array(P.depths), np.array(P.data_sizes)
dd = np.array([depth_rows[L] for L in depths])
nd = np.array([data_rows[N] for N in sizes])

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
x = depths / P.fixed_width
ax.errorbar(x, dd[:, 0], yerr=dd[:, 1], fmt="o", color=cu.plotting.PALETTE[0], label="one network: mean of $d^2$")
ax.plot(x, dd[0, 0] * depths, "--", color="grey", label="$\\propto L/n$ (drawn from depth 1)")
ax.set_xlabel(f"depth / width  L/n  (n = {P.fixed_width})")
ax.set_ylabel("mean square distance to the NTK\nprediction (targets' mean square)")
ax.set_ylim(0, None)
ax.legend(fontsize=8)
ax = axes[1]
ax.errorbar(sizes, nd[:, 0], yerr=nd[:, 1], fmt="o", color=cu.plotting.PALETTE[0], label="one network: mean of $d^2$")
ax.set_xscale("log", base=2)
ax.set_xlabel(f"training inputs N\n(depth 1, n = {P.fixed_width})")
ax.set_ylabel("mean square distance to the NTK\nprediction (targets' mean square)")
ax.set_ylim(0, None)
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %%
print(" depth   L/n      mean d² (± s.e.)      ensemble mean: b² (± s.e.)")
for L, (v, e) in zip(depths, dd):
    r = depth_bias[L]
    print(f"{L:4d}    {L / P.fixed_width:.4f}   {v:.4f} ± {e:.4f}      {r['mean2']:9.2e} ± {r['mean2_se']:.1e}")
print("  N    mean d² (± s.e.)")
for N, (v, e) in zip(sizes, nd):
    print(f"{N:4d}   {v:.4f} ± {e:.4f}")
# the difference is about 6 standard errors in the stored run; the claim is its sign, beyond 3 s.e.
cu.check_less(f"deeper is further: mean d² at depth {depths[-1]} − depth 1 > 3 s.e.",
              3 * math.hypot(dd[0, 1], dd[-1, 1]), dd[-1, 0] - dd[0, 0])
cu.check_less(f"but slower than L/n: mean d² at depth {depths[-1]} < {depths[-1]} × depth 1 (− 4 s.e.)",
              dd[-1, 0] + 4 * dd[-1, 1], depths[-1] * dd[0, 0])
ratio = nd[-1, 0] / nd[0, 0]
ratio_se = ratio * math.hypot(nd[0, 1] / nd[0, 0], nd[-1, 1] / nd[-1, 0])
# a null result, tested at its own resolution: the ratio's standard error from the members' scatter
cu.check_close(f"data size: mean d² at N = {sizes[-1]} / at N = {sizes[0]} (no change, ± 4 s.e.)", ratio, 1.0,
               atol=4 * ratio_se)

# %% [markdown]
# Adding layers at fixed width moves each network further from its infinite-width prediction:
# $\overline{d^2}$ grows with every layer, but much more slowly than in proportion to $L/n$ (the
# dashed line): each added layer adds only a fraction of the depth-1 distance (about a fifth in the
# stored run), where a law $\propto L/n$ would add all of it. The $L/n$ growth is derived for ReLU networks at criticality; for erf at
# $\sigma_w^2 = 2$ we measured the growth and claim only its direction and that it is slower than
# linear. Over $N$ = 4 to 16 training inputs the distance does not change measurably: at this width
# the amount of data is not what limits the kernel description. (The ensemble mean's bias is within
# a few standard errors of zero at every depth with 512 networks: we make no claim about it.)
#
# ## 6. What it means
#
# - Trained wide networks are a Gaussian ensemble, but the ensemble is set by *two* kernels: the
#   prior $K$ supplies the randomness, the tangent kernel $\Theta$ the way gradient descent removes it,
#   {eq}`eq-trained-ensembles-moments`. It is the NNGP posterior only when $\Theta \propto K$, e.g. when only
#   the readout layer trains {cite:p}`matthews2017sample`. On our task the difference is many standard
#   errors of the mean of a few hundred networks, and the trained ensemble is less certain than the
#   posterior (twice its variance at the median test input).
# - "The ensemble of networks" and "one network" converge to the infinite-width theory at different
#   rates: a single network's deviation is an $n^{-1/2}$ fluctuation of its tangent kernel, which
#   averages out in the ensemble; what remains is a bias that falls faster (measured: a slope
#   between $1/2$ and the perturbative $1$). Deep ensembles of wide networks are therefore closer
#   to kernel theory than any of their members.
# - Depth at fixed width, like decreasing width, takes the networks away from their kernel
#   description (for critical ReLU networks the expansion parameter is $L/n$; our erf networks drift
#   away more slowly than that); at width 64, the amount of data (4 to 16 inputs) did not. Leaving the
#   kernel description is where the chapters on feature learning begin.
#
# ## Exercises
#
# :::{exercise} The spread of the converged ensemble
# :label: ex-trained-ensembles-1
#
# Write `cov_fn(Theta_train, Theta_cross, K_train, K_cross, K_test)` that returns the covariance
# $\Sigma_\infty(x, x')$ of the trained infinite-width ensemble after training to convergence
# ($t\to\infty$ in {eq}`eq-trained-ensembles-moments`) at the test inputs, and check it with
# `exercises.check_converged_ensemble_covariance(cov_fn)`. Then show that $\Sigma_\infty(x_\mu, x_\mu) = 0$
# on every training input: the trained networks all interpolate the data.
# :::
#
# :::{solution-start} ex-trained-ensembles-1
# :class: dropdown
# :::
#
# With $A = \Theta(x, X)\Theta(X, X)^{-1}$, $\Sigma_\infty = K(x,x') - AK(X,x') - K(x,X)A^\top + AK(X,X)A^\top$.
# At a training input $x = x_\mu$, $A$ is the $\mu$-th unit row vector, and the four terms cancel:
# $K_{\mu\mu} - K_{\mu\mu} - K_{\mu\mu} + K_{\mu\mu} = 0$.

# %%
def cov_fn(Theta_train, Theta_cross, K_train, K_cross, K_test):
    A = np.linalg.solve(Theta_train, Theta_cross.T).T
    return K_test - A @ K_cross.T - K_cross @ A.T + A @ K_train @ A.T


exercises.check_converged_ensemble_covariance(cov_fn)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} When is the trained ensemble the Bayesian posterior?
# :label: ex-trained-ensembles-2
#
# Train only the readout layer (weights and bias) of a one-hidden-layer network in the NTK
# parameterisation, from a random initialisation, to convergence. Compute its tangent kernel and
# show that the trained ensemble is exactly the NNGP posterior {eq}`eq-trained-ensembles-posterior`,
# at any width. Why does this fail when the hidden layer trains too?
# :::
#
# :::{solution} ex-trained-ensembles-2
# :class: dropdown
#
# With only the readout trained, $f(x) = \sigma_b\beta + \frac{\sigma_w}{\sqrt n}\sum_j V_j\phi(h_j(x))$ is
# linear in $(\beta, V)$ and its tangent kernel is $\hat K(x, x') = \sigma_b^2 + \frac{\sigma_w^2}{n}\sum_j
# \phi(h_j(x))\phi(h_j(x'))$, the NNGP kernel of the output given the hidden layer (at infinite width,
# $K$). Conditioned on the hidden layer, $f_0$ is Gaussian with covariance $\hat K$ and $\Theta = \hat K$,
# so $A_\infty = \hat K(x, X)\hat K^{-1}$ and {eq}`eq-trained-ensembles-moments` becomes $\mu = \hat K(x,X)\hat K^{-1}y$,
# $\Sigma = \hat K - \hat K(x,X)\hat K^{-1}\hat K(X,x')$: the exact posterior of the Gaussian process $\hat K$
# ("sample, then optimise"). Training the hidden layer adds $\sigma_w^2\dot K\,K^0$ to the tangent kernel
# but not to the prior, so $\Theta \neq K$, and gradient descent removes the prior's randomness along
# the wrong directions for a posterior.
# :::
#
# ## Summary
#
# - Over random initialisations, wide networks trained by gradient descent on the squared loss are
#   Gaussian with mean $\Theta(x,X)\Theta^{-1}(I - (I - \eta\Theta)^t)y$ and the covariance
#   {eq}`eq-trained-ensembles-moments`, built from the NTK $\Theta$ and the NNGP kernel $K$; it is not
#   the NNGP posterior (measured: thousands of trained networks agree with the first within their
#   standard errors and differ from the second by many).
# - A single network approaches its infinite-width prediction as $n^{-1/2}$; the ensemble's mean
#   faster (the first-order fluctuations cancel; measured slope about 0.7 over widths 16–128, between the
#   $1/2$ of one network and the perturbative $1$), and its covariance is within a few percent from width 64.
# - Finite width makes the trained ensemble non-Gaussian, about ten times more than at
#   initialisation (where the excess kurtosis is $C/n$); it falls with width faster than $1/\sqrt n$ but,
#   over widths 16–128, not yet as the asymptotic $1/n$ (measured slope between 1/2 and 1).
# - Depth at fixed width moves the networks away from their kernel description (for these erf
#   networks more slowly than $L/n$); the data size, over 4 to 16 inputs, did not measurably.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
