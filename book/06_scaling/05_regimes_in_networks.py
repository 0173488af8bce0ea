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
# # Variance- or resolution-limited? The four scaling regimes of a trained network
#
# [Why does the loss fall as a power of the data and the model size?](02_variance_and_resolution.ipynb)
# sorted scaling laws into four regimes {cite:p}`bahri2024explaining` and derived them in a
# random-feature model whose features were Gaussian by construction: the loss approaches its limit
# as $1/D$ or $1/P$ when the *larger* resource is finite (variance-limited), and falls with an
# exponent set by the data when the *smaller* one is (resolution-limited), with the data and
# feature exponents equal by a duality. Here we train networks and measure all four regimes on
# them: one-hidden-layer ReLU networks, trained to convergence on a smooth function on a
# three-dimensional manifold in $\mathbb R^{10}$. Every limit is computed exactly (kernel
# regression with the analytic neural tangent kernel, or a network trained on 65 536 samples),
# every exponent is predicted before it is fitted, and we find where the trained network follows
# the random-feature story and where it does not.
#
# **Prerequisites:** [Why does the loss fall as a power of the data and the model size?](02_variance_and_resolution.ipynb)
# (the four regimes, the spectral learning curve, the data manifold),
# [Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb),
# [Lazy and rich training](../04_feature_learning/02_lazy_vs_rich.ipynb) (the output scale α).
# **Runs in:** about a minute and a half on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# reaches four to eight times larger widths and data sets on a GPU.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/06_scaling/05_regimes_in_networks.ipynb)
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
from course_utils.data.manifold import TorusManifold, intrinsic_dimension_mle
from course_utils.exercises import regimes_networks as exercises
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble
from course_utils.theory import regimes_networks as theory
from course_utils.theory import scaling_regimes
from course_utils.theory.linear import effective_ridge

cu.use_house_style()
device = cu.setup()
C = cu.plotting.PALETTE
DTYPE = torch.float64   # the lazy networks move by O(1/α): double precision keeps f − f₀ exact

# %% [markdown]
# ## Parameters
#
# The default sizes run in about a minute and a half on one CPU core. `COURSE_SCALE=paper` (a GPU, some
# minutes) doubles to octuples every size: widths to 4096 in §2 and 1024 in §4, data sets to
# 1024 in §4, widths to 128 on 65 536 samples in §5, and more networks per point.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        d=3, n_ambient=10, sigma_w2=2.0, sigma_b2=0.1, output_scale=1000.0, momentum=0.95,      # §1
        n_test=2000, n_spectrum=2000,
        width_D=64, widths=(16, 32, 64, 128, 256, 512), width_members=(16, 16, 16, 16, 8, 8),    # §2
        width_steps=600,
        narrow_width=4, narrow_sizes=(512, 1024, 2048, 4096), narrow_members=12,                 # §3
        n_population=65536,
        data_width=256, data_sizes=(32, 64, 128, 256), data_members=4, data_steps=1000,          # §4
        kernel_draws=8,
        res_widths=(2, 4, 8, 16, 32), res_members=4, res_D=8192,                                 # §5
    ),
    paper=dict(n_test=4000, n_spectrum=6000,
               widths=(16, 32, 64, 128, 256, 512, 1024, 2048, 4096), width_members=(64,) * 9,
               narrow_sizes=(512, 1024, 2048, 4096, 8192, 16384), narrow_members=48, n_population=262144,
               data_width=2048, data_sizes=(32, 64, 128, 256, 512, 1024), data_members=16, data_steps=3000,
               kernel_draws=32, res_widths=(2, 4, 8, 16, 32, 64, 128), res_members=16, res_D=65536),
)
P

# %% [markdown]
# ## 1. The networks, the data and their infinite-width limit
#
# **Data.** `TorusManifold(3, 10)` is the three-torus $\varphi\in[0,1)^3$, smoothly embedded in
# $\mathbb R^{10}$ (one circle per coordinate, bent by two second harmonics, rotated at random);
# the target is a fixed random combination of the lowest Fourier modes
# $\cos(2\pi k\cdot\varphi + \psi_k)$, $k\in\{-1,0,1\}^3$, of unit variance: smooth, with no label
# noise ([the data manifold](02_variance_and_resolution.ipynb)). Every loss is the mean squared
# error on 2000 fresh test points (65 536 in §3 and §5).
#
# **Networks.** One hidden layer of width $n$, ReLU, in the NTK parameterisation of
# [the neural tangent kernel](../03_wide_networks/02_ntk.ipynb) ($\sigma_w^2 = 2$, $\sigma_b^2 = 0.1$,
# all weights and biases trained; `ntk_ensemble.BatchedNTKMLP`). We train the *centred and scaled*
# network
#
# $$
# g(x;\theta) = \alpha\,\bigl[f(x;\theta) - f(x;\theta_0)\bigr],\qquad \alpha = 1000,
# $$ (eq-regnet-lazy)
#
# on the mean squared error, with a step that keeps the dynamics of $g$ independent of $\alpha$
# (`theory.train_centred`). Centring removes the random initial function:
# without it, the trained network is $f_0 + {}$(kernel regression of $y - f_0$), and its loss keeps
# the variance of $f_0$ at any width ([the ensemble of trained wide networks](../03_wide_networks/03_trained_ensembles.ipynb)).
# The large output scale makes the training *lazy* at every width {cite:p}`chizat2019lazy`: the
# parameters move by $O(1/\alpha)$, so the network trained to convergence is the minimum-norm
# least-squares fit on its own tangent features $\partial f/\partial\theta$ at initialisation,
# a random-feature model with $P = (d_{\rm in}+2)\,n + 1$ features whose kernel,
# $\sum_\theta \partial_\theta f(x)\,\partial_\theta f(x')$, tends to the analytic NTK $\Theta$ as
# $n\to\infty$. That is the regime in which Bahri et al.'s variance-limited regimes have a limit we can
# compute exactly, and reach it at widths a CPU can train. Without the output scale ($\alpha = 1$) the
# infinite-width limit is the same kernel, but at the widths a CPU can train the networks still learn
# features, and nothing guarantees that they approach the kernel as $1/n$ (the last exercise asks you
# to find out; this chapter does not run it). In the mean-field parameterisation the limit itself is
# different, a feature-learning limit that is not a kernel.
#
# **The infinite-width limit.** A lazy network trained by full-batch gradient descent with
# heavy-ball momentum $\beta$ follows, at infinite width, the linear dynamics of the dual coefficients
# $a$ of $g = \Theta(\cdot, X)\,a$:
#
# $$
# B_t = \beta B_{t-1} + \bigl(\Theta a_t - y\bigr),\qquad a_{t+1} = a_t - \eta B_t ,
# $$ (eq-regnet-momentum)
#
# one scalar recursion per eigenmode of $\Theta(X,X)$ (`theory.kernel_momentum_dynamics`). Momentum changes
# how fast, not where: as $t\to\infty$ it converges to ridgeless kernel regression
# $\Theta(x,X)\Theta(X,X)^{-1}y$. We train with $\beta = 0.95$ and $\eta = 1/\lambda_{\max}(\Theta(X,X))$ (for
# the loss $\frac12\sum_\mu(g-y)^2$), and compare the networks with the limit at the *same* step.

# %%
sw, sb, a = math.sqrt(P.sigma_w2), math.sqrt(P.sigma_b2), P.output_scale
torus = TorusManifold(P.d, P.n_ambient, n_bend=2, max_frequency=1, seed=cu.seed(0))
rng = np.random.default_rng(cu.seed(1))
_, X_test, y_test = torus.sample(P.n_test, rng)


def ntk(A, B=None):
    """The analytic NTK of the one-hidden-layer ReLU network."""
    return kernels.ntk_kernel(A, B, depth=1, sigma_w2=P.sigma_w2, sigma_b2=P.sigma_b2)


def kernel_limit(X, y, steps=None):
    """The infinite-width network: converged (ridgeless kernel regression) and after `steps` steps."""
    Th, Th_cross = ntk(X), ntk(X_test, X)
    lr = 1.0 / np.linalg.eigvalsh(Th)[-1]
    f_conv = Th_cross @ np.linalg.solve(Th + 1e-12 * np.mean(np.diag(Th)) * np.eye(len(X)), y)
    out = dict(lr=lr, L_conv=np.mean((f_conv - y_test) ** 2))
    if steps is not None:
        _, f_t = theory.kernel_momentum_dynamics(Th, Th_cross, y, steps, lr=lr, momentum=P.momentum)
        out.update(f=f_t, L=np.mean((f_t - y_test) ** 2))
    return out


def train_networks(X, y, width, members, steps, lr, first_seed, desc):
    """`members` lazy networks of one width, trained as one batched ensemble; their test predictions."""
    net = ntk_ensemble.BatchedNTKMLP(members, P.n_ambient, width, 1, activation="relu", sigma_w=sw, sigma_b=sb,
                            seeds=cu.seed(range(first_seed, first_seed + members)), dtype=DTYPE)
    # mean squared error (1/N) Σ (g − y)²: its step is η N / 2 for the kernel step η of ½ Σ (g − y)²
    out = theory.train_centred(net, torch.tensor(X), torch.tensor(y), torch.tensor(X_test), steps=steps,
                           lr=lr * len(X) / 2, momentum=P.momentum, scale=a, desc=desc)
    f = out["test"].numpy()
    return dict(f=f, L=np.mean((f - y_test) ** 2, axis=1), train=out["train_loss"])


# %% [markdown]
# ## 2. Variance-limited in width: $L(n) - L_\infty \propto 1/n$
#
# **Prediction.** Fix the data set ($D = 64$) and let the width grow. The tangent kernel of a width-$n$
# network is an average over $n$ independent hidden units, so it scatters around $\Theta$ by
# $O(n^{-1/2})$, and so does the trained function: $g_n(x) = g_\infty(x) + \delta g(x)$. Averaged over
# the initialisation, the test loss splits exactly into the loss of the mean network and the
# variance of the networks around it,
#
# $$
# \mathbb E_{\theta_0} L(n) = \bigl\langle(\mathbb E g_n - y)^2\bigr\rangle_x + \bigl\langle \mathrm{Var}\,g_n\bigr\rangle_x
# = L_\infty + O(1/n),
# $$ (eq-regnet-width)
#
# because the variance is the square of an $O(n^{-1/2})$ fluctuation and the mean moves only at second
# order, $O(1/n)$ {cite:p}`geiger2020scaling,bahri2024explaining`. The exponent is 1; the limit
# $L_\infty$ is kernel regression with the analytic NTK, which we compute exactly; the coefficient is
# not predicted here. We train 8–16 networks per width for 600 steps and
# check convergence on the limit itself: after 600 steps the infinite-width network's test loss is
# within a fraction of a percent of its converged value.

# %%
_, X1, y1 = torus.sample(P.width_D, rng)
lim1 = kernel_limit(X1, y1, P.width_steps)
print(f"infinite width, D = {P.width_D}: L after {P.width_steps} steps = {lim1['L']:.5f}, "
      f"converged = {lim1['L_conv']:.5f}")
cu.check_less("convergence: |L_∞(T) / L_∞(converged) − 1|", abs(lim1["L"] / lim1["L_conv"] - 1), 0.01)

widths = np.array(P.widths)
sweep = {k: [] for k in ("L", "L_se", "var", "bias", "train")}
for i, (w, M) in enumerate(zip(P.widths, P.width_members)):
    r = train_networks(X1, y1, w, M, P.width_steps, lim1["lr"], 1000 + 100 * i, f"width {w}")
    var = np.mean(r["f"].var(axis=0, ddof=1))           # ⟨Var g⟩ over the test points, unbiased
    sweep["L"].append(r["L"].mean())
    sweep["L_se"].append(r["L"].std(ddof=1) / np.sqrt(M))
    sweep["var"].append(var)
    # loss of the mean network: ⟨(ḡ − y)²⟩ − ⟨Var⟩/M is unbiased for ⟨(E g − y)²⟩
    sweep["bias"].append(np.mean((r["f"].mean(axis=0) - y_test) ** 2) - var / M)
    sweep["train"].append(r["train"].max())
sweep = {k: np.array(v) for k, v in sweep.items()}
excess = sweep["L"] - lim1["L"]

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
extrap = theory.fit_inverse_width(widths, sweep["L"], sweep["L_se"])
ws = np.geomspace(widths[0], widths[-1] * 4, 100)
ax.errorbar(widths, sweep["L"], yerr=sweep["L_se"], fmt="o", color=C[0], capsize=3, label="trained networks $L(n)$")
ax.plot(widths, sweep["bias"], "s", color=C[2], mfc="none", label="the mean network $\\langle(\\mathbb{E}g - y)^2\\rangle$")
ax.plot(ws, extrap["limit"] + extrap["coefficient"] / ws, "--", color=C[0], lw=1,
        label=f"fit $L_\\infty + c/n$: $L_\\infty$ = {extrap['limit']:.4f} ± {extrap['limit_stderr']:.4f}")
ax.axhline(lim1["L"], color="k", lw=1.2, label=f"NTK limit (exact) = {lim1['L']:.4f}")
ax.set_xscale("log")
ax.set_xlabel("width n")
ax.set_ylabel("test loss (MSE)")
ax.set_title(f"fixed data set, D = {P.width_D}")
ax.legend(fontsize=7)
ax = axes[1]
positive = excess > 0
ax.errorbar(widths[positive], excess[positive], yerr=sweep["L_se"][positive], fmt="o", color=C[0], capsize=3,
            label="$L(n) - L_\\infty$ (where positive)")
fit_var = cu.plotting.loglog_fit(ax, widths, sweep["var"], color=C[1], marker="^",
                                 label="$\\langle\\mathrm{Var}\\,g_n\\rangle$ over initialisations", exponent_name="slope")
ax.plot(widths, sweep["var"][-1] * widths[-1] / widths, ":", color="k", lw=1.5, label="theory: slope −1")
ax.set_xticks(widths, [str(w) for w in widths])
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("width n")
ax.set_ylabel("excess loss (MSE)")
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# The loss approaches the NTK limit from above, and most of the excess is the variance of the
# networks around their mean: the mean network (open squares) stays within about 10 % of the limit
# at every width (its $O(1/n)$ shift is small here), while the variance is as large as the limit
# itself at width 16 (printed below, both as fractions of $L_\infty$). The variance falls as $1/n$ across a
# factor 32 in width, and the excess with it, until it drowns in the scatter of the losses at the
# largest widths (printed in standard errors; it can come out negative there). Extrapolating the measured losses with $L_\infty + c/n$
# lands on the exactly computed limit.

# %%
print(f"variance over initialisations: slope {fit_var.alpha:.3f} ± {fit_var.alpha_stderr:.3f}; predicted 1")
print(f"excess L − L_∞ in standard errors: {np.round(excess / sweep['L_se'], 1)}")
print(f"extrapolated L_∞ = {extrap['limit']:.5f} ± {extrap['limit_stderr']:.5f}, exact {lim1['L']:.5f}; "
      f"coefficient c = {extrap['coefficient']:.2f} ± {extrap['coefficient_stderr']:.2f}")
print(f"loss of the mean network / L_∞: {np.round(sweep['bias'] / lim1['L'], 2)}; variance / L_∞: "
      f"{np.round(sweep['var'] / lim1['L'], 2)}")
print(f"largest final training loss (width {widths[0]} … {widths[-1]}): {np.round(sweep['train'], 6)}")
cu.check_close("variance-limited in width: slope of ⟨Var g⟩", fit_var.alpha, 1.0, atol=0.1)
cu.check_close("extrapolated L_∞ vs the exact NTK limit", extrap["limit"], lim1["L"],
               atol=3 * extrap["limit_stderr"])

# %% [markdown]
# Where the tolerances come from: the slope of the variance has a standard error of about 0.02 from
# the scatter of the points, and a systematic part from the $1/n^2$ corrections at the smallest widths
# (fitting from $n = 32$ moves it by a few hundredths); 0.1 covers both. The extrapolated limit is
# checked at three of its standard errors, which come from the scatter of the losses over the 8–16
# networks per width. That scatter is why we fit the variance and not the excess on log axes: the
# losses of single networks scatter by $O(n^{-1/2})$, through a *linear* term
# $2\langle(g_\infty - y)\delta g\rangle$ that averages to zero but dominates the scatter at large width,
# so the mean excess ($\propto 1/n$) is resolved only at the smaller widths. The training losses show the networks themselves converged too, the
# wide ones to below $10^{-8}$ (the narrowest, whose tangent kernels are the most distorted, are not
# fully converged after 600 steps: their training loss is a few percent of their excess).
#
# ## 3. Variance-limited in data: $L(D) - L(\infty) \propto 1/D$
#
# **Prediction.** Now fix a narrow network, width 4 ($P = 49$ parameters), and let $D\gg P$ grow. The
# trained parameters $\hat\theta_D$ minimise the loss on $D$ samples; the best the network can do is
# $\theta^*$, the minimiser of the population loss $L(\theta) = \mathbb E(g - y)^2$. Expanding the
# empirical gradient around $\theta^*$: $\hat\theta_D - \theta^* \approx -\mathcal H^{-1}\nabla L_D(\theta^*)$, a mean
# of $D$ independent per-sample gradients with covariance $\mathcal G/D$; and the excess loss is the
# quadratic form $\tfrac12(\hat\theta_D - \theta^*)^\top\mathcal H(\hat\theta_D - \theta^*)$. Hence
#
# $$
# \mathbb E\,L(\hat\theta_D) - L(\theta^*) \approx \frac{c}{D},\qquad
# c = \tfrac12\,\mathrm{tr}\bigl(\mathcal H^{+}\mathcal G\bigr),\quad
# \mathcal H = \nabla^2 L(\theta^*),\quad \mathcal G = \mathrm{Cov}\,\nabla(g - y)^2
# $$ (eq-regnet-sandwich)
#
# (the "sandwich" of misspecified maximum likelihood {cite:p}`white1982maximum`;
# `theory.asymptotic_excess_coefficient`). No label noise is needed: what the network cannot express
# acts as noise. For Gaussian features with a residual independent of them, $\mathcal H = 2\Sigma$,
# $\mathcal G = 4L_\infty\Sigma$ and $c = P L_\infty$, the law of the random-feature model; here the features
# are a network's, and $c$ is computed from them. The pseudo-inverse skips the flat directions:
# scaling a ReLU unit's input weights and bias by $s$ and its output weight by $1/s$ changes nothing,
# so only $P_{\rm eff} = P - n = 45$ directions are curved.
#
# **Experiment.** Twelve networks (twelve initialisations), each trained on data sets of
# $D = 512\dots4096$ samples; then each trained network is trained further on 65 536 samples that
# stand in for the population, and on which every loss is measured: that gives its own $\theta^*$, the
# best network in the same basin. (Even lazy, a width-4 network has several minima: its tangent
# features are ill-conditioned, so the fit moves the kinks of its units. Training $\theta^*$ from each
# run's own end, rather than once from the initialisation, compares every run with the minimum it
# fluctuates around.) Gradient descent converges slowly on the flattest of 45 directions, so
# every network is trained to convergence by Newton's method (`theory.newton_polish`, damped Newton
# steps with the exact Hessian) until the Newton decrement, the loss still to be gained, is below
# $10^{-10}$ of the loss, or 100 steps. Two corrections to {eq}`eq-regnet-sandwich` enter the curve we
# compare with. One is exact to this order: $\theta^*$ is itself estimated from $N = 65\,536$ samples, and
# the loss is measured on those, so the expected measured excess is $c\,(1/D + 1/N)$. The other is
# the next order in $P/D$: for Gaussian features the exact excess is $P L_\infty/(D - P - 1)$, and we
# borrow that finite-size factor, $c\,[1/(D - P_{\rm eff} - 1) + 1/N]$ (a heuristic for a network's
# features, within a few percent of the asymptote at $D\ge2048$).

# %%
w2, M2, N_pop = P.narrow_width, P.narrow_members, P.n_population
_, X_pop, y_pop = torus.sample(N_pop, rng)
Xp, yp = torch.tensor(X_pop), torch.tensor(y_pop)
net2 = ntk_ensemble.BatchedNTKMLP(M2, P.n_ambient, w2, 1, activation="relu", sigma_w=sw, sigma_b=sb,
                         seeds=cu.seed(range(2000, 2000 + M2)), dtype=DTYPE)
theta0 = [theory.member_parameters(net2, k) for k in range(M2)]


def f_at(theta, X, width):
    with torch.no_grad():
        return theory.one_hidden_layer(theta, X, width, sigma_w=sw, sigma_b=sb)


def lazy_fit(theta_init, X, y, width):
    """Train the centred, scaled network g = α(f − f₀) on (X, y): f on the targets f₀ + y/α (eq-regnet-lazy)."""
    return theory.newton_polish(theta_init, X, f_at(theta_init, X, width) + torch.as_tensor(y) / a, width,
                            sigma_w=sw, sigma_b=sb, max_iter=100)


def population_loss(theta, theta_init, width):
    g = a * (f_at(theta, Xp, width) - f_at(theta_init, Xp, width))
    return float(torch.mean((g - yp) ** 2))


def best_network(theta_D, theta_init):
    """θ*: the network trained on the population, from the end of a run on D samples (the same basin);
    its loss L(∞), the sandwich coefficient c there (in units of g's loss) and the Hessian's rank."""
    target = f_at(theta_init, Xp, w2) + yp / a
    r = theory.newton_polish(theta_D, Xp, target, w2, sigma_w=sw, sigma_b=sb, max_iter=100)
    _, _, H, G = theory.loss_gradient_hessian(r["theta"], Xp, target, w2, sigma_w=sw, sigma_b=sb, need_g=True)
    lam_H = np.linalg.eigvalsh(H.numpy())
    return dict(L=population_loss(r["theta"], theta_init, w2), decrement=r["decrement"],
                c=a ** 2 * theory.asymptotic_excess_coefficient(H.numpy(), G.numpy()),
                rank=int(np.sum(lam_H > 1e-9 * lam_H.max())))


sizes2 = np.array(P.narrow_sizes)
excess2, c2, L_inf2, ranks, converged = (np.zeros((len(sizes2), M2)), np.zeros((len(sizes2), M2)),
                                         np.zeros((len(sizes2), M2)), set(), [])
for i, D in enumerate(sizes2):
    _, XD, yD = torus.sample(int(D), rng)
    for k in cu.progress(range(M2), desc=f"D = {D}"):
        r = lazy_fit(theta0[k], torch.tensor(XD), yD, w2)
        best = best_network(r["theta"], theta0[k])
        excess2[i, k] = population_loss(r["theta"], theta0[k], w2) - best["L"]
        c2[i, k], L_inf2[i, k] = best["c"], best["L"]
        ranks.add(best["rank"])
        converged += [r["decrement"], best["decrement"]]
ex2, ex2_se = excess2.mean(axis=1), excess2.std(axis=1, ddof=1) / np.sqrt(M2)
P_eff = (P.n_ambient + 1) * w2 + 1
c_k = c2.mean(axis=1)
theory2 = c_k * (1 / (sizes2 - P_eff - 1) + 1 / N_pop)
gauss2 = L_inf2.mean(axis=1) * P_eff / (sizes2 - P_eff - 1)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
ax.errorbar(sizes2, ex2, yerr=ex2_se, fmt="o", color=C[0], capsize=3, label="trained networks (mean of 12)")
fit2 = cu.fit_power_law(sizes2, ex2)
Ds_line = np.geomspace(sizes2[0], sizes2[-1], 100)
ax.plot(Ds_line, c2.mean() * (1 / (Ds_line - P_eff - 1) + 1 / N_pop), "-", color=C[0], lw=1.2,
        label="theory $c\\,[1/(D - P_{\\rm eff} - 1) + 1/N]$")
ax.plot(sizes2, gauss2, ":", color="k", lw=1.5, label="Gaussian features: $L_\\infty P_{\\rm eff}/(D - P_{\\rm eff} - 1)$")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xticks(sizes2, [str(D) for D in sizes2])
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("training samples D")
ax.set_ylabel("$L(D) - L(\\infty)$ (MSE)")
ax.set_title(f"width {w2}, P = {(P.n_ambient + 2) * w2 + 1} parameters")
ax.legend(fontsize=7, loc="lower left")
ax = axes[1]
ax.errorbar(sizes2, sizes2 * ex2, yerr=sizes2 * ex2_se, fmt="o", color=C[0], capsize=3, label="$D\\,(L(D) - L(\\infty))$")
ax.plot(sizes2, sizes2 * theory2, "-", color=C[0], lw=1.2, label="theory")
ax.plot(sizes2, sizes2 * gauss2, ":", color="k", lw=1.5, label="Gaussian features")
ax.set_xscale("log")
ax.set_xticks(sizes2, [str(D) for D in sizes2])
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("training samples D")
ax.set_ylabel("D × excess loss")
ax.set_ylim(0, None)
ax.legend(fontsize=7)
plt.show()

# %%
fit2_theory = cu.fit_power_law(sizes2, theory2)
z2 = (ex2 - theory2) / ex2_se
print(f"L(∞) over the networks: {L_inf2.min():.3f} … {L_inf2.max():.3f}; curved directions of the Hessian:\n    "
      f"{sorted(ranks)} (P_eff = {P_eff}); c = {c2.mean():.2f} ± {c2.std(ddof=1) / np.sqrt(c2.size):.2f}, "
      f"P_eff L_∞ = {P_eff * L_inf2.mean():.2f}")
print(f"measured / theory at D = {sizes2.tolist()}: {np.round(ex2 / theory2, 2)} "
      f"(standard errors {np.round(ex2_se / theory2, 2)})")
print(f"slope {fit2.alpha:.3f} ± {fit2.alpha_stderr:.3f}; the same fit to the theory curve: {fit2_theory.alpha:.3f}")
converged = np.array(converged)
print(f"Newton decrement / loss at the end: {np.sum(converged < 1e-10)} of {converged.size} below 1e-10, "
      f"largest {converged.max():.1e}")
cu.check_less("§3 converged: largest Newton decrement / loss", converged.max(), 1e-3)
cu.check_less("excess vs the theory at the two largest D: largest |difference| in standard errors",
              np.max(np.abs(z2[-2:])), 3.0)
cu.check_close("variance-limited in data: slope vs the theory curve's", fit2.alpha, fit2_theory.alpha,
               atol=3 * fit2.alpha_stderr)

# %% [markdown]
# The excess falls as $1/D$, and at $D\ge 2048$ (forty or more samples per curved direction) it sits on
# the sandwich prediction, a number computed from the network's Hessian and gradient noise at
# $\theta^*$ with no free parameter; $D\times$excess flattens onto $c$. At $D = 512$ the measured excess can lie
# above even the corrected curve (printed ratios): there the next orders in $P/D$ matter, and for a
# network's non-Gaussian features we do not know them exactly. The Gaussian random-feature law with the network's $P_{\rm eff}$ and
# $L_\infty$ (dotted) is of the right size but not the right number: the tangent features of a ReLU
# network are not Gaussian, and $c$ and $P_{\rm eff}L_\infty$ differ (printed above). The Hessian has
# $P_{\rm eff} = 45$ curved directions, as the symmetry count says (44 for a network with a unit that
# is active nowhere or everywhere on the data).
#
# The checks: the excess is a mean over twelve networks with its standard error, and the theory is
# asymptotic, so it is checked at the two largest $D$ (three standard errors); the slope is compared
# like with like, with the slope of the theory curve fitted over the same sizes (the $1/N$ term
# pulls it below 1, the finite-size factor above), at three standard errors of the fit. A few of the
# 96 trainings stop short of the $10^{-10}$ criterion, because a ReLU network's loss is only
# piecewise smooth (its gradient jumps by $O(1/N)$ where a sample crosses a unit's kink, and a minimum
# can sit on a kink); the check asks that every one is within $10^{-3}$ of its loss of the minimum,
# a tenth of the smallest excess we measure (about 1 % of the loss at $D = 4096$), for the worst
# of the 96.
#
# ## 4. Resolution-limited in data: the exponent from the kernel's spectrum
#
# **Prediction.** Now the network is wide ($n = 256$, $P = 3073$) and $D$ grows from 32 to 256. At
# infinite width the trained network is kernel regression with $\Theta$, and its learning curve follows
# from the eigenvalues $\lambda_k$ of the kernel on the data distribution and the target's power $p_k$ on
# its eigenfunctions, through the deterministic equivalent of
# [the spectral learning curve](02_variance_and_resolution.ipynb) (`scaling_regimes.spectral_learning_curve`). We
# measure both on 2000 samples of the same distribution, *before* training anything, and turn
# them into predictions of three kinds:
#
# - the finite-size spectral curve over the very range of $D$ we train on, and the exponent of a
#   power law fitted to it over that range (like with like);
# - the asymptotic exponent $\min(a, 2b)$ of $\lambda_k\propto k^{-b}$ and the target's tail
#   $\sum_{i>k}p_i\propto k^{-a}$, fitted over the modes the learning curve crosses (`scaling_regimes.kernel_learning_curve_exponent`);
# - the manifold estimate $4/d$ {cite:p}`sharma2022scaling`, with $d$ measured from the same data by
#   the Levina–Bickel estimator.

# %%
_, X_spec, y_spec = torus.sample(P.n_spectrum, rng)
lam_k, U_k = np.linalg.eigh(ntk(X_spec) / P.n_spectrum)
lam_k, U_k = np.clip(lam_k[::-1], 0, None), U_k[:, ::-1]
p_k = (U_k.T @ y_spec) ** 2 / P.n_spectrum
sizes3 = np.array(P.data_sizes)
L_spectral = scaling_regimes.spectral_learning_curve(lam_k, p_k, sizes3)
k = np.arange(1, P.n_spectrum + 1)
k_star = np.array([np.sum(lam_k > effective_ridge(lam_k, int(D), 0.0)) for D in sizes3])
window = slice(int(k_star[0]) - 1, int(k_star[-1]))
fit_b = cu.fit_power_law(k[window], lam_k[window])
fit_a = cu.fit_power_law(k[window], scaling_regimes.tail_power(p_k)[window])
d_hat = intrinsic_dimension_mle(X_spec, 10)
alpha_spectral = cu.fit_power_law(sizes3, L_spectral)
alpha_asymptotic = scaling_regimes.kernel_learning_curve_exponent(fit_b.alpha, 1 + fit_a.alpha)
print(f"modes crossed by D = {sizes3[0]} … {sizes3[-1]}: k = {k_star[0]} … {k_star[-1]}; "
      f"b = {fit_b.alpha:.2f} ± {fit_b.alpha_stderr:.2f}, a = {fit_a.alpha:.2f} ± {fit_a.alpha_stderr:.2f}")
print(f"predicted exponents: spectral curve over D = {sizes3[0]}…{sizes3[-1]}: {alpha_spectral.alpha:.2f};\n    "
      f"asymptotic min(a, 2b) = {alpha_asymptotic:.2f}; 4/d̂ = 4/{d_hat:.2f} = {4 / d_hat:.2f}")
cu.check_close("Levina–Bickel dimension of the data", d_hat, P.d, rtol=0.1)

# %% [markdown]
# **Experiment.** At each $D$, four networks of width 256 trained for 1000 steps on one data set
# (the infinite-width network is within 1 % of converged by then at every $D$: checked below), and
# kernel regression on eight data sets per size, which averages the learning curve over draws of
# the data. A single network at finite width carries the variance of §2, a floor of about $c/n$
# (the coefficient $c\approx2$ of §2) that does not fall with $D$; the loss of the *mean* network
# (estimated, as in §2, as the loss of the average of the four minus the variance over four)
# removes it.

# %%
rows = {k: [] for k in ("net", "mean_net", "kernel_same", "kernel", "kernel_se", "conv")}
for i, D in enumerate(sizes3):
    draws = []
    for j in range(P.kernel_draws):
        _, XD, yD = torus.sample(int(D), rng)
        lim = kernel_limit(XD, yD, P.data_steps if j == 0 else None)
        draws.append(lim["L_conv"])
        if j == 0:   # the networks train on the first data set of each size
            r = train_networks(XD, yD, P.data_width, P.data_members, P.data_steps, lim["lr"],
                               3000 + 100 * i, f"D = {D}")
            var = np.mean(r["f"].var(axis=0, ddof=1))
            rows["net"].append(r["L"].mean())
            rows["mean_net"].append(np.mean((r["f"].mean(axis=0) - y_test) ** 2) - var / P.data_members)
            rows["kernel_same"].append(lim["L"])
            rows["conv"].append(abs(lim["L"] / lim["L_conv"] - 1))
    rows["kernel"].append(np.mean(draws))
    rows["kernel_se"].append(np.std(draws, ddof=1) / np.sqrt(P.kernel_draws))
rows = {k: np.array(v) for k, v in rows.items()}

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=4.2)
ax = axes[0]
ax.loglog(k, lam_k, ".", color=C[0], ms=3, label="NTK eigenvalues $\\lambda_k$")
ax.loglog(k[window], fit_b(k[window]), "--", color="k", lw=1.2, label=f"fit: b = {fit_b.alpha:.2f} ± {fit_b.alpha_stderr:.2f}")
ax.loglog(k, scaling_regimes.tail_power(p_k), ".", color=C[1], ms=3, label="target tail $\\sum_{i>k} p_i$")
ax.loglog(k[window], fit_a(k[window]), "-.", color="k", lw=1.2, label=f"fit: a = {fit_a.alpha:.2f} ± {fit_a.alpha_stderr:.2f}")
ax.axvspan(k_star[0], k_star[-1], color="0.9", label="modes crossed by the learning curve")
ax.set_ylim(1e-9, 10)
ax.set_xlabel("mode index k")
ax.set_ylabel("$\\lambda_k$, or $\\sum_{i>k} p_i$")
ax.legend(fontsize=7, loc="lower left")
ax = axes[1]
ax.errorbar(sizes3, rows["kernel"], yerr=rows["kernel_se"], fmt="s", color=C[2], mfc="none", capsize=3,
            label=f"infinite width (kernel regression, {P.kernel_draws} data sets)")
fit_net = cu.plotting.loglog_fit(ax, sizes3, rows["mean_net"], color=C[0], marker="o",
                                 label=f"mean network, width {P.data_width}", exponent_name="$\\alpha_D$")
ax.plot(sizes3, rows["net"], "v", color=C[1], label=f"single networks, width {P.data_width}")
ax.plot(sizes3, L_spectral, "-", color=C[0], lw=1.2, label=f"spectral theory: slope {alpha_spectral.alpha:.2f} over this range")
for expo, name, ls in [(alpha_asymptotic, f"asymptotic min(a, 2b) = {alpha_asymptotic:.2f}", ":"),
                       (4 / d_hat, f"$4/\\hat d$ = {4 / d_hat:.2f}", "-.")]:
    ax.plot(sizes3, L_spectral[0] * (sizes3 / sizes3[0]) ** (-expo), ls, color="0.4", lw=1.3, label=name)
ax.set_xticks(sizes3, [str(D) for D in sizes3])
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("training samples D")
ax.set_ylabel("test loss (MSE)")
fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=7, title="right panel",
           title_fontsize=7)
plt.show()

# %%
fit_kernel = cu.fit_power_law(sizes3, rows["kernel"])
fit_single = cu.fit_power_law(sizes3, rows["net"])
print(f"exponent α_D: mean network {fit_net.alpha:.2f} ± {fit_net.alpha_stderr:.2f}, kernel regression "
      f"{fit_kernel.alpha:.2f} ± {fit_kernel.alpha_stderr:.2f}, single networks {fit_single.alpha:.2f} ± "
      f"{fit_single.alpha_stderr:.2f}")
print(f"predicted: spectral curve {alpha_spectral.alpha:.2f}, asymptotic {alpha_asymptotic:.2f}, 4/d̂ {4 / d_hat:.2f}")
print(f"mean network / kernel on the same data: {np.round(rows['mean_net'] / rows['kernel_same'], 2)}; "
      f"single network / kernel: {np.round(rows['net'] / rows['kernel_same'], 2)}")
cu.check_less("convergence: largest |L_∞(T)/L_∞(converged) − 1| over D", rows["conv"].max(), 0.01)
cu.check_close("α_D of kernel regression vs the spectral prediction (same range)", fit_kernel.alpha,
               alpha_spectral.alpha, atol=3 * fit_kernel.alpha_stderr)
cu.check_close("α_D of the mean network vs the spectral prediction (same range)", fit_net.alpha,
               alpha_spectral.alpha, atol=3 * fit_net.alpha_stderr + 0.1)
cu.check_less("4/d underestimates α_D of the mean network by more than 0.3", 0.3, fit_net.alpha - 4 / d_hat)
cu.check_less("single networks fall more slowly than the mean network (variance floor)", fit_single.alpha,
              fit_net.alpha)

# %% [markdown]
# The prediction made from the spectrum alone, the spectral curve over the same range of $D$,
# gives the exponent of kernel regression and of the mean trained network within the tolerances
# (their own scatter). The spectrum tells more: the target's power sits in the first few modes
# ($a \gg 2b$), so the learning curve is limited by how fast the kernel's eigenvalues fall,
# $\alpha_D \to 2b$, an asymptote the range we can afford ($D\le256$) does not reach; the local slope
# steepens along the range. The manifold estimate $4/d\approx1.3$ is a poor guess here: it is the rate of
# piecewise-linear interpolation, a bound that a kernel with a smooth target beats.
#
# Single networks tell a different story: at the largest $D$ their loss is a multiple of the
# kernel's (printed ratios). The variance of §2 does not fall with $D$, so at fixed width the learning curve of a
# single network bends over from resolution-limited in $D$ to variance-limited in width, the
# crossover of {cite:t}`bahri2024explaining`. With four networks per point the mean network is
# still noisy at the largest $D$, where the variance correction is comparable to the loss: hence
# the extra 0.1 in the tolerance of its exponent, on top of three standard errors of the fit. (The
# spectral curve lies below the measured kernel losses by 20–50 %: the spectrum is measured on 2000
# points, and the deterministic equivalent has $O(1/D)$ corrections; its slope is what we use.)
#
# ## 5. Resolution-limited in width, and the duality
#
# **Prediction.** Last, the data are plentiful ($D = 8192$) and the width is the bottleneck:
# $n = 2\dots32$. A lazy network of width $n$ is a random-feature model with $P_{\rm eff} = (d_{\rm in}+1)n + 1$
# effective features, and in the random-feature model of
# [the previous chapter](02_variance_and_resolution.ipynb) data and features are exactly dual:
# $L(P)$ at $D = \infty$ has the same law as $L(D)$ at $P = \infty$, so $\alpha_P = \alpha_D$. That model's
# features were Gaussian projections; a network's tangent features are not (each hidden unit gives
# a block of $d_{\rm in} + 2$ features that are all switched by the same half-space), so the duality is
# a prediction to test, not a theorem. We train each network by Newton's method, as in §3.

# %%
_, X5, y5 = torus.sample(P.res_D, rng)
X5t = torch.tensor(X5)
res5 = {k: [] for k in ("L", "L_se", "P")}
conv5 = []
for i, w in enumerate(P.res_widths):
    net = ntk_ensemble.BatchedNTKMLP(P.res_members, P.n_ambient, w, 1, activation="relu", sigma_w=sw, sigma_b=sb,
                            seeds=cu.seed(range(4000 + 100 * i, 4000 + 100 * i + P.res_members)), dtype=DTYPE)
    losses = []
    for m in cu.progress(range(P.res_members), desc=f"width {w}"):
        th0 = theory.member_parameters(net, m)
        r = lazy_fit(th0, X5t, y5, w)
        losses.append(population_loss(r["theta"], th0, w))
        conv5.append(r["decrement"])
    res5["L"].append(np.mean(losses))
    res5["L_se"].append(np.std(losses, ddof=1) / np.sqrt(P.res_members))
    res5["P"].append((P.n_ambient + 1) * w + 1)
res5 = {k: np.array(v) for k, v in res5.items()}
widths5 = np.array(P.res_widths)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
fit_w = cu.plotting.loglog_fit(ax, widths5, res5["L"], color=C[3], marker="D",
                               label=f"trained networks, D = {P.res_D}", exponent_name="$\\alpha_n$")
ax.errorbar(widths5, res5["L"], yerr=res5["L_se"], fmt="none", color=C[3], capsize=3)
ax.plot(widths5, res5["L"][-1] * (widths5 / widths5[-1]) ** (-fit_net.alpha), ":", color=C[0], lw=1.5,
        label=f"duality: slope $\\alpha_D$ = {fit_net.alpha:.2f} (§4)")
ax.set_xticks(widths5, [str(w) for w in widths5])
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("width n")
ax.set_ylabel("test loss (MSE)")
ax.legend(fontsize=7)
ax = axes[1]
ax.plot(res5["P"], res5["L"], "D", color=C[3], label="width n at D = 8192: N = $P_{\\rm eff}$")
ax.plot(sizes3, rows["mean_net"], "o", color=C[0], label="width 256 (mean) at D: N = D")
ax.plot(sizes3, L_spectral, "-", color=C[0], lw=1.2, label="spectral theory of the kernel, N = D")
ax.set_xscale("log")
ax.set_yscale("log")
ax.xaxis.set_minor_formatter(plt.NullFormatter())
ax.set_xlabel("N: features $P_{\\rm eff}$ or samples D")
ax.set_ylabel("test loss (MSE)")
ax.set_title("two regimes on one axis")
ax.legend(fontsize=7)
plt.show()

# %%
fit_w4 = cu.fit_power_law(widths5[1:], res5["L"][1:])
print(f"α_n = {fit_w.alpha:.2f} ± {fit_w.alpha_stderr:.2f} (widths {widths5[0]}…{widths5[-1]}), "
      f"{fit_w4.alpha:.2f} ± {fit_w4.alpha_stderr:.2f} (from width {widths5[1]}); α_D = {fit_net.alpha:.2f} ± "
      f"{fit_net.alpha_stderr:.2f}; ratio α_n/α_D = {fit_w.alpha / fit_net.alpha:.2f}")
print(f"Newton decrement / loss at the end: largest {max(conv5):.1e}")
cu.check_less("§5 converged: largest Newton decrement / loss", max(conv5), 1e-3)
cu.check_less("α_n is smaller than α_D by more than 0.3 (the duality is approximate)", 0.3,
              fit_net.alpha - fit_w.alpha)

# %% [markdown]
# The width exponent is smaller than the data exponent: the duality holds only roughly for a
# trained network. (The narrowest network, width 2, lies above the power law of the others; fitted
# from width 4 the exponent is a little larger, printed, and still well below $\alpha_D$. The check
# asks for a gap of more than 0.3, several standard errors of both exponents.) On one axis (right panel) the picture is plain: a sample and
# an effective feature are not worth the same. Why they differ: the network's features come in
# blocks of $d_{\rm in}+2$ that a single half-space switches on and off, so $n$ units resolve the
# manifold only with $n$ hinges; the random-feature duality needs features that are independent
# Gaussian projections of the kernel's eigenfunctions, and a ReLU unit is neither Gaussian nor
# a projection onto a few eigenfunctions. {cite:t}`bahri2024explaining` saw the same in their
# teacher–student experiments: $\alpha_P$ and $\alpha_D$ close for some architectures and apart for
# others. The variance-limited contamination of these losses is small: about $P_{\rm eff}/D\approx4\,\%$ at
# width 32, by §3.
#
# ## 6. What it means
#
# - **Variance-limited regimes have exponent 1 in trained networks too, with a computable
#   limit and, for $D$, a computable coefficient.** At fixed data the excess over the NTK limit is
#   the variance over initialisations and falls as $1/n$; at fixed width the excess over the
#   best network falls as $c/D$ with $c = \frac12\mathrm{tr}(\mathcal H^+\mathcal G)$ from the network's own
#   curvature and gradient noise.
# - **The resolution-limited data exponent is predicted by the kernel's spectrum**, measured before
#   training, provided one compares like with like over the same range; the asymptotic $2b$ and
#   the manifold's $4/d$ are not what a finite experiment sees.
# - **At fixed width, a single network crosses over** from resolution-limited in $D$ to
#   variance-limited in width; averaging networks (or widening them) moves the crossover.
# - **Data and width are not exactly dual** for a trained network: $\alpha_n < \alpha_D$ here.
#
# The chapters that follow measure the exponents of skills ([quanta in networks](04_quanta_in_networks.ipynb))
# and ask how to spend a compute budget between width and data ([compute-optimal training](06_compute_optimal.ipynb)).
#
# ## Exercises
#
# :::{exercise} The coefficient of the variance-limited law
# :label: ex-regnet-sandwich
#
# Write `sandwich(H, G)` that returns $c = \frac12\mathrm{tr}(\mathcal H^+\mathcal G)$ of
# {eq}`eq-regnet-sandwich`, using only the eigen-directions of the symmetric $\mathcal H$ whose
# eigenvalues are above $10^{-9}$ of the largest. Check it with
# `exercises.check_sandwich_coefficient(sandwich)`. Then compute $c$ for linear least squares with
# $P$ Gaussian features of covariance $\Sigma$ and a residual of variance $\sigma^2$ independent of
# them: what is $\mathcal H$, what is $\mathcal G$, and which law of the previous chapter do you recover?
# :::
#
# :::{solution-start} ex-regnet-sandwich
# :class: dropdown
# :::
#
# With $L(\theta) = \mathbb E(\theta\cdot x - y)^2$: $\mathcal H = 2\Sigma$, and the per-sample gradient
# $2(\theta^*\cdot x - y)x = -2rx$ has covariance $\mathcal G = 4\,\mathbb E[r^2xx^\top] = 4\sigma^2\Sigma$ when
# $r$ is independent of $x$. So $c = \frac12\mathrm{tr}(\Sigma^{-1}\Sigma)\,2\sigma^2 = P\sigma^2$: the
# excess $P L_\infty/D$ of the random-feature model, with the unexplained part $L_\infty$ as the noise.
# The flat directions must be dropped: a direction with $\mathcal H u = 0$ also has $\mathcal G u = 0$
# (a change of parameters that does not change the function carries no gradient noise), and
# including it would divide zero by zero.

# %%
def sandwich(H, G):
    lam, U = np.linalg.eigh((H + H.T) / 2)
    keep = lam > 1e-9 * np.abs(lam).max()
    return 0.5 * np.sum(np.diag(U[:, keep].T @ G @ U[:, keep]) / lam[keep])


_ = exercises.check_sandwich_coefficient(sandwich)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Predict an exponent from a spectrum
# :label: ex-regnet-exponent
#
# A kernel's eigenvalues fall as $\lambda_k\propto k^{-b}$ and a target's power on them as
# $p_k\propto k^{-(1+a)}$. Write `exponent(b, a)`, the asymptotic exponent of the ridgeless
# learning curve, and check it with `exercises.check_learning_curve_exponent(exponent)`. For the
# ReLU NTK on a $d$-dimensional manifold $b\to1+1/d$: what is the asymptotic $\alpha_D$ for the smooth
# target of §4 ($d = 3$), and for a target as rough as a sample of the kernel's own Gaussian process?
# :::
#
# :::{solution-start} ex-regnet-exponent
# :class: dropdown
# :::
#
# The loss is the unlearned tail $\sum_{k>D}p_k\propto D^{-a}$ plus the shrinkage of the learned
# modes, $\kappa^2\sum_{k<D}p_k/\lambda_k^2\propto D^{-2b}$ (when $a > 2b$), so $\alpha_D = \min(a, 2b)$. For a
# smooth target ($a$ large) and $b = 4/3$: $\alpha_D = 8/3$, larger than the $\approx2$ we measured over
# $D\le256$ (the local slope is still rising) and far above $4/d = 4/3$. A typical sample of the
# kernel's Gaussian process has $p_k\propto\lambda_k$, i.e. $a = b - 1 = 1/d$: $\alpha_D = 1/3$.

# %%
def exponent(b, a):
    return min(a, 2 * b)


exercises.check_learning_curve_exponent(exponent)
print(f"smooth target, d = 3: α_D → {exponent(4 / 3, 1e9):.3f}; GP-typical target: {exponent(4 / 3, 1 / 3):.3f}")

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Rich instead of lazy
# :label: ex-regnet-rich
#
# Repeat the width sweep of §2 with `output_scale` $\alpha = 1$ (the plain NTK parameterisation, no
# longer lazy at these widths). Does the loss still approach the NTK limit from above as $1/n$?
# :::
#
# :::{solution} ex-regnet-rich
# :class: dropdown
#
# What to look for. At $\alpha = 1$ the tangent features change during training by a relative amount
# of order $1/\sqrt n$ instead of $1/(\alpha\sqrt n)$: small at infinite width, not negligible at these
# widths. The network is then not the minimum-norm fit on its initial tangent features, and the $1/n$ law of
# §2, a statement about fluctuations around a fixed kernel, need not hold. Two things can change: the
# finite-width loss can lie on either side of the NTK limit (below it when the learned features suit
# the target better than the kernel's), and it can approach the limit more slowly than $1/n$, because
# the learned part of the features shrinks with width only as fast as the network becomes lazy.
# Which of these happens on this torus is for the experiment to decide: run §2 with
# `output_scale=1.0`, compare the mean loss with the exact limit at each width, and fit the variance
# over initialisations with `cu.fit_power_law` as §2 does. (This chapter does not run it and makes no
# claim about the outcome.) Bahri et al.'s variance-limited law describes the approach to *a* limit,
# and which limit depends on the parameterisation (the NTK for lazy training; a different,
# feature-learning limit in the mean-field parameterisation).
# :::
#
# ## Summary
#
# - Lazy, centred one-hidden-layer ReLU networks on a smooth target on a 3-torus in $\mathbb R^{10}$.
# - Width at fixed $D$: $L - L_\infty\propto n^{-1}$, the excess is the variance over
#   initialisations, and $L_\infty + c/n$ extrapolates to the exact NTK limit.
# - Data at fixed width: $L(D) - L(\infty) = c/D$ with $c = \frac12\mathrm{tr}(\mathcal H^+\mathcal G)$
#   from the network's curvature and gradient noise; Gaussian random-feature theory gets the size
#   right but not the number.
# - Data at large width: the exponent predicted from the NTK spectrum over the same range matches
#   kernel regression and the mean network; single networks hit the variance floor.
# - Width at large $D$: a power law with a smaller exponent than in $D$: the duality is approximate.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
