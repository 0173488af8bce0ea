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
# # How large a model for a given compute? A compute-optimal frontier in miniature
#
# A training run has a compute budget $C$. Spend it on a larger model $N$ trained on fewer
# samples $D$, or a smaller one trained on more? {cite:t}`hoffmann2022training` answered this for
# language models by training hundreds of them and fitting one law to all final losses,
# $L(N, D) = E + A/N^\alpha + B/D^\beta$; minimising it at fixed $C \approx 6ND$ gives the
# compute-optimal size $N^\star(C) \propto C^{\beta/(\alpha+\beta)}$. Here we do the whole
# procedure in miniature, on a CPU: a family of two-layer networks of ten widths, each trained by
# one pass over fresh data, the joint fit with its uncertainties, the allocation it implies, and
# the frontier measured directly from the runs. The student can reach its best possible loss only
# with enough width *and* enough data, and that best loss is known exactly here, so we can see
# which parts of the fitted law are physics of the task and which are artefacts of the fit.
#
# **Prerequisites:** [Why does the loss fall as a power of the data? Scaling laws from counting](01_scaling_from_counting.ipynb)
# (data-limited and model-limited losses), [Variance-limited and resolution-limited scaling](02_variance_and_resolution.ipynb),
# and [Skills and quanta](03_skills_and_quanta.ipynb), whose multilinear model has a compute
# frontier of its own (`quanta.compute_frontier`).
# **Runs in:** about two minutes on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# trains more seeds for eight times longer, meant for a GPU.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/06_scaling/06_compute_optimal.ipynb)
# of this chapter, without the solutions (they are in the book).

# %% tags=["hide-input"]
# Set-up. On Colab this installs the course's shared package at the release this notebook was
# made with (and nothing else: Colab's torch, numpy and matplotlib are kept); elsewhere it does
# nothing. Another version on Colab: first run `%env COURSE_REF=main` (a branch, tag or commit).
import os
import subprocess
import sys
import warnings

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
from matplotlib.ticker import NullFormatter

import course_utils as cu
from course_utils.ensemble import BatchedAdam, online
from course_utils.exercises import compute_optimal as exercises
from course_utils.theory import compute_optimal as theory

cu.use_house_style()
device = cu.setup()
C_ = cu.plotting.PALETTE

# %% [markdown]
# ## Parameters
#
# The teacher is a quadratic form in $d = 64$ dimensions; the students are two-layer networks of
# widths 1 to 32 (1.5 decades), four seeds each, all trained as one batched ensemble. One run
# records the exact test loss at 30 log-spaced sample counts up to $D = 7.7\times10^5$.
# `COURSE_SCALE=paper` (for a GPU; not run for the stored notebook) doubles $d$ and the widest
# width (1.8 decades of widths, with the widest still at half of $d$), trains 12 seeds for eight
# times more samples, so that the wide networks get closer to their floors and the measured
# frontier has interior minima over more compute levels, and bootstraps 200 times.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(d=64, gamma=1.0, sigma=0.1, widths=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32), seeds=4,
                 batch=64, steps=12_000, lr=1e-2, decay_after=200, n_records=30, fit_D_min=3e4,
                 n_boot=40),
    paper=dict(d=128, widths=(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64), seeds=12, steps=96_000, n_records=45,
               n_boot=200),
)
P

# %% [markdown]
# ## 1. The model: a quadratic teacher and students of every width
#
# **The task.** Inputs $x \sim \mathcal N(0, I_d)$, labels
#
# $$
# y = f^\star(x) + \sigma\xi,\qquad f^\star(x) = \sum_{j=1}^{d}\lambda_j\bigl((q_j\cdot x)^2 - 1\bigr),
# \qquad \lambda_j \propto j^{-\gamma},
# $$ (eq-compute-optimal-teacher)
#
# with orthonormal directions $q_j$, $\gamma = 1$, the $\lambda_j$ normalised so that
# $\operatorname{Var} f^\star = 2\sum_j\lambda_j^2 = 1$, and label noise $\sigma = 0.1$. The target is a
# quadratic form whose eigenvalues fall as a power law: a few directions matter a lot, many matter
# a little, the structure behind most scaling laws of this course.
#
# **The students.** Two-layer networks with quadratic activation,
# $f(x) = \sum_{i=1}^{w}c_i(w_i\cdot x + b_i)^2 + c_0$, of width $w$: $N = w(d+2) + 1$ parameters.
# They are trained with Adam on the squared error, batch 64, **one pass** over fresh samples: every
# sample is used once, so the number of samples seen, $D$, and the number of steps are the same
# resource, as for a language model trained for less than an epoch. The learning rate is
# $10^{-2}$ for the first 200 steps and then decays as $t^{-1/2}$: a schedule that does not
# know the horizon, so the checkpoint after $D$ samples *is* the run one would make with a budget of
# $D$ samples. ({cite:t}`hoffmann2022training` point out that a checkpoint of a run whose cosine
# schedule was set for a longer horizon is not; with such a schedule every $D$ needs its own run.)
# The output weights start positive: a unit with $c_i < 0$ can only shrink on this
# positive-definite teacher, and narrow networks got trapped there.
#
# **Compute.** A forward pass costs about $2N$ operations per sample and the backward pass $4N$,
# so training costs $C \approx 6ND$ floating-point operations, the convention of
# {cite:t}`kaplan2020scaling` and {cite:t}`hoffmann2022training`. (The exact count of this network
# differs by a constant factor; that moves the prefactor of $N^\star(C)$, not its exponent.)
#
# ## 2. The theory
#
# **The loss of an infinitely trained student.** A width-$w$ student is a quadratic form
# $x^\top Mx + v\cdot x + s$ with $M = \sum_i c_iw_iw_i^\top$ of rank at most $w$. For Gaussian $x$,
# $\mathbb E[(x^\top\Delta x)^2] = 2\operatorname{tr}\Delta^2 + (\operatorname{tr}\Delta)^2$ and the odd moments vanish, so the
# excess test loss is, exactly,
#
# $$
# \mathbb E(f - f^\star)^2 = 2\,\lVert M - A\rVert_F^2 + (\operatorname{tr}M + s)^2 + \lvert v\rvert^2,
# \qquad A = \sum_j \lambda_jq_jq_j^\top,
# $$ (eq-compute-optimal-exact-loss)
#
# which the chapter evaluates for every network instead of a test set (no sampling noise). The best
# rank-$w$ approximation of $A$ in Frobenius norm keeps its $w$ largest eigenvalues
# {cite:p}`eckart1936approximation`, so the lowest loss a width-$w$ network can reach is
#
# $$
# L_\infty(w) = \sigma^2 + 2\sum_{j>w}\lambda_j^2 \;\approx\; \sigma^2 + \frac{w^{-(2\gamma-1)}}{(2\gamma-1)Z}
# \quad(1 \ll w \ll d),\qquad Z = \sum_j j^{-2\gamma}.
# $$ (eq-compute-optimal-floor)
#
# A model-limited term $\propto N^{-\alpha}$ with $\alpha = 2\gamma - 1 = 1$ asymptotically: the
# exponent is set by the spectrum of the task. Over the widths we can afford, 1 to 32 in $d = 64$,
# the sum is not yet a power law (it is flatter at small $w$, where $\sum_{j>w}j^{-2}$ is far from
# $1/w$, and steeper near $w = d$, where the sum stops), so we will compare a fitted exponent with
# the same law fitted to this finite-size curve over the same widths, never with the asymptotic 1.
# The data-limited part has no closed form here: the loss first sits on a plateau while the
# units escape from their small initialisation, then falls as the network finds eigendirections
# of smaller and smaller $\lambda_j$, and finally meets the noise of stochastic gradients, which the
# decaying learning rate shrinks.
#
# **The joint law and the allocation.** Hoffmann et al. model the loss as
#
# $$
# L(N, D) = E + \frac{A}{N^\alpha} + \frac{B}{D^\beta}.
# $$ (eq-compute-optimal-law)
#
# At fixed compute, $D = C/(6N)$ and $L = E + AN^{-\alpha} + B(C/6)^{-\beta}N^{\beta}$. Setting
# $\partial L/\partial N = -\alpha AN^{-\alpha-1} + \beta B(C/6)^{-\beta}N^{\beta-1} = 0$ gives
# $N^{\alpha+\beta} = \frac{\alpha A}{\beta B}(C/6)^\beta$, that is
#
# $$
# N^\star(C) = G\Bigl(\frac C6\Bigr)^{a},\qquad D^\star(C) = G^{-1}\Bigl(\frac C6\Bigr)^{b},\qquad
# a = \frac{\beta}{\alpha+\beta},\quad b = \frac{\alpha}{\alpha+\beta},\quad
# G = \Bigl(\frac{\alpha A}{\beta B}\Bigr)^{1/(\alpha+\beta)}.
# $$ (eq-compute-optimal-allocation)
#
# The two exponents add to one (compute is shared), the faster-falling term gets the smaller share
# of growth, and at the optimum the two reducible terms stand in the ratio
# $AN^{\star-\alpha} : BD^{\star-\beta} = \beta : \alpha$. Along the frontier both fall as
# $C^{-\alpha\beta/(\alpha+\beta)}$. Everything rests on the exponents: $a$ depends on the task's
# spectrum (through $\alpha$ here), on the architecture, the optimiser and its schedule (through
# $\beta$), on the range of $N$ and $D$ the fit sees, on the loss used to fit (Hoffmann et al. fit
# $\log L$ with a Huber loss), and on $E$, which trades off against the power-law terms over any
# finite range. Two of these dependences are measured in §5.
#
# ## 3. The experiment
#
# Forty networks (ten widths, four seeds) are one `BatchedMLP` as wide as the widest: a width-$w$
# member lives in the first $w$ hidden units, the others start at zero and, with $\sigma(0) = 0$ and
# zero gradient, stay there (`online.padded_widths`, checked below). `theory.train_one_pass` hands every
# member its own fresh samples between record points and lets `train_ensemble` take one minibatch
# step per 64 of them.

# %%
gen = torch.Generator().manual_seed(cu.seed(1))
teacher = theory.QuadraticTeacher(P.d, P.gamma, P.sigma, gen)
widths = np.array(P.widths)
N_params = widths * (P.d + 2) + 1
model = online.padded_widths(P.d, np.repeat(widths, P.seeds), 1,        # width-major: (w, seed)
                             [cu.seed(100 + P.seeds * i + s) for i in range(widths.size) for s in range(P.seeds)],
                             "quadratic", positive_readout=True)
optimizer = BatchedAdam(model.parameters(), lr=P.lr)
record = np.unique(np.geomspace(1, P.steps, P.n_records).astype(int))
D_rec = record * P.batch


def test_loss():
    with torch.no_grad():
        return teacher.excess_loss(model).numpy() + P.sigma ** 2    # exact, eq-compute-optimal-exact-loss


L_runs = theory.train_one_pass(model, teacher.sample, optimizer, batch=P.batch, record_steps=record,
                           evaluate=test_loss, generator=gen,
                           lr_schedule=lambda t: min(1.0, (P.decay_after / max(t, 1)) ** 0.5))
L_runs = L_runs.reshape(len(record), widths.size, P.seeds)        # (records, widths, seeds)
L_mean = L_runs.mean(-1)
L_se = L_runs.std(-1, ddof=1) / np.sqrt(P.seeds)
floor = teacher.floor(widths)
leak = online.padding_leak(model, np.repeat(widths, P.seeds))            # padded units: still exactly zero?

# %%
_ = cu.check_less("padding: largest weight of an unused hidden unit after training", leak, 1e-30)
_ = cu.check_true("no network beats its Eckart–Young floor (eq-compute-optimal-floor), any seed, any D",
                  bool(np.all(L_runs >= floor[None, :, None] * (1 - 1e-5))),
                  detail=f"smallest L/L_∞ = {np.min(L_runs / floor[None, :, None]):.4f}")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4.6))
cmap = plt.get_cmap("viridis")
for i, w in enumerate(widths):
    col = cmap(i / (widths.size - 1))
    ax.errorbar(D_rec, L_mean[:, i], L_se[:, i], fmt="o", ms=3, mfc="none", color=col, lw=0.8,
                label=f"w = {w}" if i % 3 == 0 or i == widths.size - 1 else None)
    ax.axhline(floor[i], color=col, lw=0.8, ls=":")
ax.axhline(P.sigma ** 2, color="k", lw=1, ls="--", label="label noise σ² (= E of the theory)")
ax.axvline(P.fit_D_min, color="0.6", lw=1, ls="-.", label="start of the fit range")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("samples seen D (one pass: D = steps × 64)")
ax.set_ylabel("test loss L (mean squared error)")
ax.set_title("markers: trained networks (mean ± SE of seeds); dotted: floor $L_\\infty(w)$", fontsize=9)
ax.legend(fontsize=8, ncol=2, loc="lower left", bbox_to_anchor=(0, 0.07))   # above the σ² line
plt.show()

# %% [markdown]
# Every width follows the same story: a plateau until $D\approx10^4$ (the units escaping from their
# small initialisation), a fall, and an approach to its own floor $L_\infty(w)$ (dotted), which the
# narrow networks reach within a few per cent while the wide ones are still data-limited at the
# end of the pass. The narrow networks are model-limited, the wide ones data-limited: the loss
# surface has both regions, as the counting model of
# [Scaling laws from counting](01_scaling_from_counting.ipynb) §5 has. (The two checks above: the
# unused units must be exactly zero; "no network beats its floor" allows a relative $10^{-5}$ for the
# single-precision rounding of {eq}`eq-compute-optimal-exact-loss`, far below the smallest margin
# printed.)

# %%
final_excess = L_mean[-1] / floor - 1
print("width w            ", " ".join(f"{w:>6d}" for w in widths))
print("L/L_∞ − 1 at D_max ", " ".join(f"{e:>6.3f}" for e in final_excess))
# The gap left at D_max is the gradient noise at the final learning rate, about 0.003–0.004 in absolute
# terms: at most 3 % of L_∞ for w ≤ 4. The claim "the narrow networks reach their floor" is checked at 5 %.
_ = cu.check_less("narrow networks (w ≤ 4) at D_max: largest L/L_∞ − 1 (seed mean)", final_excess[widths <= 4].max(),
                  0.05)
_ = cu.check_true("the widest network is further from its floor than the narrowest (data-limited)",
                  bool(final_excess[-1] > 3 * final_excess[0]),
                  detail=f"w = {widths[-1]}: {final_excess[-1]:.3f}, w = {widths[0]}: {final_excess[0]:.3f}")

# %% [markdown]
# ## 4. The joint fit and the allocation it predicts
#
# We fit {eq}`eq-compute-optimal-law` to the seed-mean losses at every width and every recorded
# $D \ge 3\times10^4$ (past the plateau, which no power law describes), by weighted least squares on
# $\log L$ with the seed-to-seed standard error of each point as its error (`theory.fit_joint_scaling_law`,
# five starts per exponent pair). The standard errors come from the Jacobian at the optimum; when
# the residuals exceed the noise ($\chi^2/\text{dof} > 1$) the covariance is multiplied by
# $\chi^2/\text{dof}$, so that a misfit widens the errors instead of being ignored. A bootstrap
# over seeds (refitting resampled seed-means) gives a second estimate.

# %%
fit_rows = D_rec >= P.fit_D_min
NN, DD = np.meshgrid(N_params, D_rec[fit_rows])
Lf, sf = L_mean[fit_rows], (L_se / L_mean)[fit_rows]
fit = theory.fit_joint_scaling_law(NN, DD, Lf, sf)
runs = np.moveaxis(L_runs[fit_rows], -1, 0).reshape(P.seeds, -1)          # (seeds, points)
boot = theory.bootstrap_joint_fit(NN, DD, runs, P.n_boot, np.random.default_rng(cu.seed(2)), x0=fit.internal)
boot_se = boot.std(0, ddof=1)
floor_fit, floor_fit_se = theory.fit_offset_power_law(N_params, floor)        # the same law on the theory curve
print(f"{'':>6} {'fit':>10} {'Jacobian SE':>12} {'bootstrap SE':>13}")
for k, name in enumerate(theory.PARAMETER_NAMES):
    print(f"{name:>6} {fit.params[k]:>10.4g} {fit.stderr[k]:>12.3g} {boot_se[k]:>13.3g}")
print(f"χ²/dof = {fit.chi2:.0f}/{fit.dof} = {fit.chi2 / fit.dof:.1f} (errors scaled by √(χ²/dof): {fit.scaled})")
print(f"same law fitted to the floor L_∞(w) over the same widths: E = {floor_fit[0]:.3g}, "
      f"α = {floor_fit[2]:.3f} ± {floor_fit_se[2]:.3f}")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.5)
D_line = np.geomspace(D_rec[fit_rows][0], D_rec[-1], 100)
for i, w in enumerate(widths):
    col = cmap(i / (widths.size - 1))
    axes[0].plot(D_rec[fit_rows], L_mean[fit_rows, i], "o", ms=3, mfc="none", color=col,
                 label=f"w = {w}" if i % 3 == 0 or i == widths.size - 1 else None)
    axes[0].plot(D_line, fit(N_params[i], D_line), "-", color=col, lw=1)
axes[0].set_xscale("log")
axes[0].set_yscale("log")
axes[0].set_xlabel("samples seen D")
axes[0].set_ylabel("test loss L")
axes[0].set_title("markers: measured; lines: joint fit", fontsize=9)

resid = (np.log(Lf) - np.log(fit(NN, DD)))
for i in range(widths.size):
    axes[1].plot(D_rec[fit_rows], resid[:, i], "o-", ms=3, lw=0.7, color=cmap(i / (widths.size - 1)))
axes[1].fill_between(D_rec[fit_rows], -2 * np.median(sf, axis=1), 2 * np.median(sf, axis=1), color="0.85",
                     label="±2 seed-to-seed SE (median over widths)")
axes[1].axhline(0, color="k", lw=0.8)
axes[1].set_xscale("log")
axes[1].set_xlabel("samples seen D")
axes[1].set_ylabel("residual ln L − ln L_fit")
fig.legend(handles=axes[0].get_legend_handles_labels()[0] + axes[1].get_legend_handles_labels()[0],
           loc="outside lower center", ncol=5, fontsize=8)
for ax in axes:                                       # a short log axis: a few labelled ticks, no crowding
    ax.set_xticks([3e4, 1e5, 3e5])
    ax.set_xticklabels(["3·10⁴", "10⁵", "3·10⁵"])
    ax.xaxis.set_minor_formatter(NullFormatter())
plt.show()

# %% [markdown]
# The law follows every width's learning curve to within about 10 % (left), but not to the
# seed-to-seed noise (right): the residuals are smooth in $D$ and reach many standard errors. Early in the fit range
# the measured losses still carry the end of the plateau, which $B/D^\beta$ can describe only with a
# steep $\beta$; late in the pass the wide networks keep improving slowly while the fitted data term has
# already died away. Two features are not of the additive form: the plateau, and a gradient-noise
# floor that grows with the number of parameters (the wide networks end further above their floor).
# The fitted $E$ runs to zero instead of $\sigma^2 = 0.01$, and $\alpha$ comes out below the value that
# the same law gives on the exact floor curve.
#
# The checks: the description is claimed at the 20 % level (RMS residual of $\ln L$ below 0.2). The misfit
# is claimed to be real: with the errors estimated from four seeds each squared residual of a correct
# law would average $(S-1)/(S-3) = 3$ (Student's $t$ with 3 degrees of freedom), so $\chi^2/\text{dof} > 10$
# is far outside what noise gives. The model-limited exponent is claimed below the floor curve's by
# more than 3 combined standard errors.

# %%
rms_resid = float(np.sqrt(np.mean(resid ** 2)))
print(f"RMS residual of ln L: {rms_resid:.3f}; median seed-to-seed SE of ln L: {np.median(sf):.3f}")
_ = cu.check_less("joint law vs all runs in the fit range: RMS residual of ln L", rms_resid, 0.2)
_ = cu.check_true("the misfit exceeds the seed-to-seed noise: χ²/dof > 10", fit.chi2 / fit.dof > 10,
                  detail=f"χ²/dof = {fit.chi2 / fit.dof:.0f}")
gap = floor_fit[2] - fit.alpha
gap_se = float(np.hypot(fit.alpha_se, floor_fit_se[2]))
_ = cu.check_true("fitted α below the α of the same law on the exact floor curve (> 3 SE)", gap > 3 * gap_se,
                  detail=f"α_fit = {fit.alpha:.3f}, α_floor = {floor_fit[2]:.3f}, gap = {gap:.3f} ± {gap_se:.3f}")

# %% [markdown]
# ## 5. The frontier: predicted and measured
#
# **Measured.** For a compute level $C$, each width $N$ has been trained on $D = C/(6N)$ samples at
# some point of its run: reading every seed-mean curve there (interpolating in $\log D$) gives the
# **iso-FLOP profile** $L(N \mid C)$. Its lowest point is the envelope of the training curves
# (Hoffmann et al.'s "method 1"), resolved to our grid of widths; a parabola in $\ln N$ through the
# lowest point and its two neighbours ("method 2" in miniature) places the minimum between grid
# points. Its uncertainty comes from a bootstrap over seeds.
#
# **Predicted.** The fitted law's $N^\star(C)$ from {eq}`eq-compute-optimal-allocation`, with the
# delta-method band $\pm2$ standard errors (`theory.compute_optimal_allocation`).

# %%
D_fit, L_fit_range = D_rec[fit_rows], L_runs[fit_rows]          # the frontier is read where the law was fitted
C_levels = np.geomspace(6 * N_params[0] * 4 * D_fit[0], 6 * N_params[-1] * D_fit[-1] / 2, 20)
profiles = theory.iso_flop_profiles(N_params, D_fit, L_mean[fit_rows], C_levels)
n_grid, n_par, l_min = theory.measured_frontier(N_params, profiles)
rng_b = np.random.default_rng(cu.seed(3))
n_par_boot, slope_boot = [], []
for _ in range(P.n_boot):
    pick = L_fit_range[:, :, rng_b.integers(0, P.seeds, P.seeds)].mean(-1)
    n_b = theory.measured_frontier(N_params, theory.iso_flop_profiles(N_params, D_fit, pick, C_levels))[1]
    n_par_boot.append(n_b)
    if np.isfinite(n_b).sum() >= 3:
        slope_boot.append(cu.fit_power_law(C_levels[np.isfinite(n_b)], 1 / n_b[np.isfinite(n_b)]).alpha)
n_par_boot = np.array(n_par_boot)
with np.errstate(invalid="ignore"), warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)    # levels with no interior minimum in any replicate: NaN
    meas_log_se = np.nanstd(np.log(n_par_boot), axis=0, ddof=1)
alloc = theory.compute_optimal_allocation(C_levels, fit)
interior = np.isfinite(n_par)
print(f"compute levels with an interior minimum: {interior.sum()} of {C_levels.size}")
print(f"{'C (FLOPs)':>10} {'N* fit':>8} {'± (ln)':>7} {'N grid':>7} {'N parab.':>9} {'± (ln)':>7}")
for c, n, s, g, p_, sp in zip(C_levels, alloc.N, alloc.log_N_se, n_grid, n_par, meas_log_se):
    print(f"{c:>10.2e} {n:>8.0f} {s:>7.2f} {g:>7.0f} {p_:>9.0f} {sp:>7.2f}")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.7)
show = np.unique(np.r_[0, np.flatnonzero(interior)[::2], C_levels.size - 1])   # the measured minima, and both ends
for k, j in enumerate(show):
    col = C_[k % len(C_)]
    ok = np.isfinite(profiles[j])
    axes[0].plot(N_params[ok], profiles[j, ok], "o", color=col, ms=4, mfc="none")
    N_line = np.geomspace(N_params[ok][0], N_params[ok][-1], 100)
    axes[0].plot(N_line, fit(N_line, C_levels[j] / (6 * N_line)), "-", color=col, lw=1,
                 label=f"C = {C_levels[j]:.1e}")
    axes[0].axvline(alloc.N[j], color=col, ls=":", lw=1)
    if np.isfinite(n_par[j]):
        axes[0].plot(n_par[j], np.interp(np.log(n_par[j]), np.log(N_params[ok]), profiles[j, ok]), "*",
                     color=col, ms=11)
axes[0].set_xscale("log")
axes[0].set_yscale("log")
axes[0].set_xlabel("parameters N")
axes[0].set_ylabel("test loss at D = C/(6N)")
axes[0].set_title("iso-FLOP profiles: markers measured,\nlines fit, ★ measured minimum,\ndotted: fitted N*(C)",
                  fontsize=9)
axes[0].legend(fontsize=8)
lo, hi = alloc.band(2.0)
axes[1].fill_between(C_levels, lo, hi, color=C_[0], alpha=0.2)
axes[1].plot(C_levels, alloc.N, "-", color=C_[0], label=f"N*(C) from the fit, a = {alloc.a:.2f} ± {alloc.a_se:.2f}")
axes[1].fill_between(C_levels, C_levels / (6 * hi), C_levels / (6 * lo), color=C_[1], alpha=0.2)
axes[1].plot(C_levels, alloc.D, "-", color=C_[1], label="D*(C) from the fit")
axes[1].errorbar(C_levels[interior], n_par[interior], yerr=2 * meas_log_se[interior] * n_par[interior],
                 fmt="o", color=C_[0], mfc="none", label="measured N (parabola, ±2 SE)")
axes[1].plot(C_levels, n_grid, "s", color=C_[0], ms=3, label="measured N (grid minimum)")
axes[1].plot(C_levels[interior], C_levels[interior] / (6 * n_par[interior]), "o", color=C_[1], mfc="none",
             label="measured D = C/(6N)")
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].set_xlabel("compute C = 6ND (FLOPs)")
axes[1].set_ylabel("N (parameters) or D (samples)")
fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=7, title="right panel",
           title_fontsize=7)
plt.show()

# %% [markdown]
# Left: at each compute level the measured losses (markers) trace a valley in $N$; the fitted law
# (lines) has its minimum (dotted) near, and mostly a little above, the measured one (★). Right: the
# fitted allocation with its $\pm2$ standard-error band, and the measured optima. A measured optimum
# exists only where the valley lies inside our grid of widths with a measured neighbour on each
# side: at low compute the smallest widths would need more samples than one pass provides, at high
# compute the optimum is wider than 32 (the grid minima, squares, stop at the widest network).
#
# The checks: there are at least three compute levels with an interior minimum, the fitted $N^\star$ is
# within a factor of 2 of the measured optimum at every one of them (the claim of "roughly right";
# the grid of widths is spaced by factors 1.3 to 2), and the exponent $a$ of the fit and the slope of
# the measured frontier agree within 3 combined standard errors. The slope's error is from the
# bootstrap over seeds: the compute levels are read from the same curves, so the least-squares error
# of `cu.fit_power_law`, which treats them as independent, would be too small.

# %%
frontier_fit = cu.fit_power_law(C_levels[interior], 1 / n_par[interior])   # N ∝ C^slope: fit 1/N ∝ C^(−slope)
slope = frontier_fit.alpha
slope_se = float(np.std(slope_boot, ddof=1))   # the compute levels share their curves: bootstrap over seeds
print(f"allocation exponent a: fit {alloc.a:.3f} ± {alloc.a_se:.3f}; measured slope {slope:.3f} ± {slope_se:.3f}\n    "
      f"(bootstrap over seeds; least-squares SE {frontier_fit.alpha_stderr:.3f}) over {interior.sum()} compute levels")
_ = cu.check_count("compute levels with an interior measured minimum", interior.sum(), at_least=3, of=C_levels.size)
ratio = np.abs(np.log(alloc.N[interior] / n_par[interior]))
_ = cu.check_count("levels where the fitted N* is within a factor 2 of the measured optimum",
                   int(np.sum(ratio < np.log(2))), at_least=int(interior.sum()), of=int(interior.sum()))
_ = cu.check_less("|a_fit − measured slope| in combined standard errors", abs(alloc.a - slope) /
                  np.hypot(alloc.a_se, slope_se), 3.0)

# %% [markdown]
# ### What the exponents depend on: the fit range and the fit loss
#
# The same runs, refitted: with the fit range starting at larger $D$ (the late, noise-limited part
# only), and with Hoffmann et al.'s Huber loss on $\log L$ ($\delta = 10^{-3}$, unweighted) instead of
# weighted least squares.

# %%
variants = {"least squares, D ≥ 3e4 (above)": fit}
for D_min in (6e4, 1.5e5):
    rows = D_rec >= D_min
    N2, D2 = np.meshgrid(N_params, D_rec[rows])
    variants[f"least squares, D ≥ {D_min:.2g}"] = theory.fit_joint_scaling_law(N2, D2, L_mean[rows],
                                                                            (L_se / L_mean)[rows])
variants["Huber (δ = 1e-3), D ≥ 3e4"] = theory.fit_joint_scaling_law(NN, DD, Lf, loss="huber")
print(f"{'fit':<32} {'α':>13} {'β':>13} {'a = β/(α+β)':>14} {'E':>9}")
for name, f in variants.items():
    al = theory.compute_optimal_allocation(C_levels[:1], f)
    print(f"{name:<32} {f.alpha:>6.3f} ± {f.alpha_se:<5.3f} {f.beta:>6.3f} ± {f.beta_se:<5.3f} "
          f"{al.a:>6.3f} ± {al.a_se:<5.3f} {f.E:>9.2g}")

# %% [markdown]
# In the stored run the model-limited exponent hardly moves with the fit range (it is set by the
# spread between widths, which all ranges see); the data-limited exponent $\beta$ and with it
# $a = \beta/(\alpha+\beta)$ move by more than their quoted errors, or become undetermined once the range holds only the
# slow, noise-limited end of the runs. The Huber fit, which lets the worst residuals pull less,
# gives a larger $\alpha$ and a smaller $\beta$. None of these fits is wrong by its own standard; the
# spread between them is the uncertainty that the Jacobian does not see.
#
# ## 6. What it means
#
# - **The procedure works end to end in miniature.** Train a grid of sizes, one pass each, with a
#   schedule that does not know the horizon; fit $L(N,D) = E + A/N^\alpha + B/D^\beta$; minimise at
#   fixed $C = 6ND$ ({eq}`eq-compute-optimal-allocation`); compare with the frontier read off the runs.
#   Here the fitted $N^\star(C)$ falls within a factor of two of the measured optimum wherever the
#   measurement has one (and its exponent within the errors of the measured slope), so the
#   *allocation* is roughly right even from a law that does not fit.
# - **The fit is a model, and its exponents inherit its errors.** The residuals are many times the
#   seed-to-seed noise (RMS against median standard error, printed in §4): the early escape from the initial plateau, and the gradient noise that
#   grows with the model's size, are not of the additive form. The Jacobian standard errors (even
#   scaled by $\chi^2/\text{dof}$) describe the noise, not this misfit; the spread of the exponents over
#   reasonable fit choices (range, loss) is the honest uncertainty, and it is larger.
#   {cite:t}`besiroglu2024chinchilla` found the same kind of problem in the published Chinchilla
#   fit, whose confidence intervals were too narrow for the data it was fitted to.
# - **$E$ is not identified over a finite range.** The true irreducible loss is $\sigma^2 = 0.01$, but
#   the fitted $E$ runs to zero in every fit of the stored run: over widths 1 to 32 the model-limited curve itself,
#   {eq}`eq-compute-optimal-floor`, is better described by a shallower power law without an offset. The
#   same law fitted to the exact finite-size curve does the same, so this is the fit, not the
#   training.
# - **$\alpha$ measures the networks trained, not the architecture.** The exact floor says
#   $\alpha \to 2\gamma - 1 = 1$ for large widths and about 0.9 for the same law over our widths; the
#   joint fit gives less, because the wide networks are still data-limited at the end of the pass.
# - **What sets the exponents.** $\alpha$ follows the spectrum of the task ($\gamma$); $\beta$ follows
#   the optimiser and its schedule (the plateau, the noise floor); both depend on the range fitted.
#   The allocation exponent $a = \beta/(\alpha+\beta)$ inherits all of it. Compare the multilinear model of
#   [Skills and quanta](03_skills_and_quanta.ipynb), where the frontier follows from the
#   spectrum alone, the [regimes of trained networks](05_regimes_in_networks.ipynb), and the next
#   chapter, on [predicting emergence](07_predicting_emergence.ipynb).
#
# ## Exercises
#
# :::{exercise} The optimal size from a fitted law
# :label: ex-compute-optimal-1
#
# Write `optimal_size(C, E, A, alpha, B, beta)`, the $N$ that minimises
# $E + A/N^\alpha + B/D^\beta$ at $C = 6ND$, from {eq}`eq-compute-optimal-allocation` (not by a numerical
# search). Check it with `exercises.check_optimal_size(optimal_size)`, which also tries the fit of
# {cite:t}`hoffmann2022training` ($E = 1.69$, $A = 406.4$, $B = 410.7$, $\alpha = 0.34$, $\beta = 0.28$, as
# quoted from their paper, not re-derived here) at $C = 5.76\times10^{23}$ FLOPs. Then: by what factor
# should $N$ and $D$ grow when the compute grows tenfold, for that fit and for ours?
# :::
#
# :::{solution-start} ex-compute-optimal-1
# :class: dropdown
# :::
#
# Set $\partial L/\partial N = 0$ at $D = C/(6N)$ as in §2. Tenfold compute multiplies $N^\star$ by
# $10^{a}$ and $D^\star$ by $10^{1-a}$.

# %%
def optimal_size(C, E, A, alpha, B, beta):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta))


exercises.check_optimal_size(optimal_size)
for name, (al_, be_) in (("Hoffmann et al.", (0.34, 0.28)), ("this chapter", (fit.alpha, fit.beta))):
    a_, b_ = theory.allocation_exponents(al_, be_)
    print(f"{name}: tenfold compute → N × {10 ** a_:.2f}, D × {10 ** b_:.2f}")

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} How fast does the optimal loss fall?
# :label: ex-compute-optimal-2
#
# Insert $N^\star(C)$ and $D^\star(C)$ into the law and show that $L^\star(C) - E \propto C^{-c}$. Find $c$ in
# terms of $\alpha$ and $\beta$, check it with `exercises.check_frontier_loss_exponent(c, alpha, beta)`,
# and show that at the optimum the two reducible terms stand in the ratio $\beta : \alpha$.
# :::
#
# :::{solution-start} ex-compute-optimal-2
# :class: dropdown
# :::
#
# $AN^{\star-\alpha} \propto C^{-\alpha a} = C^{-\alpha\beta/(\alpha+\beta)}$ and
# $BD^{\star-\beta} \propto C^{-\beta b} = C^{-\alpha\beta/(\alpha+\beta)}$: the same power, $c = \alpha\beta/(\alpha+\beta)$
# (half the harmonic mean of the two exponents). The stationarity condition
# $\alpha AN^{-\alpha} = \beta B(C/6)^{-\beta}N^{\beta} = \beta BD^{-\beta}$ gives the ratio
# $AN^{\star-\alpha} : BD^{\star-\beta} = \beta : \alpha$.

# %%
alpha_ex, beta_ex = 0.34, 0.28
exercises.check_frontier_loss_exponent(alpha_ex * beta_ex / (alpha_ex + beta_ex), alpha_ex, beta_ex)
alloc_ex = theory.compute_optimal_allocation(np.array([1e21, 1e23]), [1.69, 406.4, alpha_ex, 410.7, beta_ex])
model_term = 406.4 * alloc_ex.N ** -alpha_ex
data_term = 410.7 * alloc_ex.D ** -beta_ex
print(f"ratio of the two terms at the optimum: {model_term / data_term}, β/α = {beta_ex / alpha_ex:.4f}")

# %% [markdown]
# :::{solution-end}
# :::
#
# ## Summary
#
# - A family of two-layer networks (widths 1–32, four seeds), each trained by one pass over fresh
#   samples of a quadratic teacher with a power-law spectrum, shows both a model-limited region
#   (each width approaches its exact Eckart–Young floor $L_\infty(w)$, {eq}`eq-compute-optimal-floor`)
#   and a data-limited one.
# - The joint law $E + A/N^\alpha + B/D^\beta$ fitted to all runs gives the allocation
#   $N^\star \propto C^{\beta/(\alpha+\beta)}$, $D^\star \propto C^{\alpha/(\alpha+\beta)}$
#   ({eq}`eq-compute-optimal-allocation`), with delta-method bands.
# - The measured iso-FLOP frontier agrees with the fitted $N^\star(C)$ to within a factor of two, but
#   the fit does not describe the runs to within their noise, and its allocation exponent moves
#   with the fit range and the fit loss by more than its quoted error; $E$ and $\alpha$ are biased in
#   ways the exact floor explains.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
