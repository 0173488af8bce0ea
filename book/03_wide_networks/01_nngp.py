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
# # Networks at initialisation: the Gaussian-process limit
#
# What function does a neural network compute before it has seen any data? Its weights are random,
# so the answer is a *random function*, and its statistics are fixed by the architecture and the
# initialisation scale. In the limit of infinitely wide hidden layers the central limit theorem
# takes over: the network becomes a Gaussian process, described by a single kernel that is computed
# layer by layer by a simple recursion. That kernel tells us which initialisations let a signal
# pass through many layers (the edge of chaos), it gives Bayesian inference with an infinitely
# wide network in closed form, and it is the first half of the theory of training in the next
# chapter. We derive the limit, measure how a finite network departs from it, and use it.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)
# (least squares, ridge as a posterior mean); Gaussian integrals and the central limit theorem.
# **Runs in:** about a minute on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# draws ten times more networks, at larger widths.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/03_wide_networks/01_nngp.ipynb)
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
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from scipy.optimize import brentq
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

import course_utils as cu
from course_utils.exercises import wide_networks as exercises
from course_utils.models.mlp import MLP, random_mlp_outputs
from course_utils.theory import kernels

cu.use_house_style()
device = cu.setup()


def draw_networks(X, n_networks, seed, **arch):
    """Outputs (networks, inputs) of many random networks at the rows of X (a NumPy array), in float64."""
    gen = torch.Generator(device=device).manual_seed(seed)
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    out = random_mlp_outputs(Xt, n_networks, generator=gen, **arch)
    return out[..., 0].double().cpu().numpy()


# %% [markdown]
# ## Parameters
#
# The default sizes run in about a minute on one CPU core; `COURSE_SCALE=paper` draws more
# networks at larger widths, which shrinks every statistical error bar by about three.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        kurtosis_networks=100_000, kurtosis_widths=(1, 2, 4, 8, 16, 32, 64),          # §3
        cov_networks=16_384, cov_widths=(2, 8, 32, 128),                              # §4
        prop_width=128, prop_depth=30, prop_networks=256,                            # §5
        gp_teachers=200, teacher_width=500, readout_widths=(16, 64, 256, 1024, 4096),  # §6
        readout_seeds=16, digits_train=1000, digits_splits=10, digits_mlp_width=512, digits_mlp_epochs=200,
    ),
    paper=dict(kurtosis_networks=1_000_000, kurtosis_widths=(1, 2, 4, 8, 16, 32, 64, 128, 256),
               cov_networks=131_072, cov_widths=(2, 8, 32, 128, 512), prop_width=512, prop_networks=1024,
               gp_teachers=2000, teacher_width=2000, readout_widths=(16, 64, 256, 1024, 4096, 16384),
               readout_seeds=64, digits_train=1500, digits_splits=20),
)
P

# %% [markdown]
# ## 1. The model: a random network
#
# A fully connected network with $L$ hidden layers of width $n$ and activation $\phi$ maps an
# input $x\in\mathbb R^d$ to an output through the **preactivations**
#
# $$
# f^0_i(x) = b^0_i + \sum_{k=1}^{d} W^0_{ik}\,x_k, \qquad
# f^\ell_i(x) = b^\ell_i + \sum_{j=1}^{n} W^\ell_{ij}\,\phi\bigl(f^{\ell-1}_j(x)\bigr)\quad(\ell = 1,\dots,L),
# $$
#
# and $f^L$ is the output. At initialisation every weight and bias is an independent Gaussian,
#
# $$
# W^\ell_{ij} \sim \mathcal N\!\left(0, \frac{\sigma_w^2}{n_{\ell-1}}\right), \qquad b^\ell_i \sim \mathcal N(0, \sigma_b^2),
# $$
#
# with $n_{\ell-1}$ the number of inputs of the layer ($d$ for the first). The division by the
# fan-in keeps every preactivation of order one however wide the layer is: this is the usual
# "LeCun/He" initialisation, with $\sigma_w^2 = 2$ for ReLU being He's choice. The network is
# `course_utils.models.mlp.MLP`; `random_mlp_outputs` draws thousands of such networks at once,
# with the weights of one layer of all networks stacked into one tensor and multiplied in a batch.
#
# Here are random functions of a scalar input, drawn from ReLU networks with two hidden layers
# ($\sigma_w^2 = 2$, $\sigma_b^2 = 0.5$), narrow and wide:

# %%
relu_arch = dict(activation="relu", sigma_w=math.sqrt(2.0))
x_line = np.linspace(-3, 3, 241)[:, None]
fig, axes = cu.panels(2, panel_height=3.0, sharey=True)
for ax, n in zip(axes, (2, 2000)):
    f = draw_networks(x_line, 6, seed=cu.seed(1), width=n, depth=2, sigma_b=math.sqrt(0.5), **relu_arch)
    ax.plot(x_line[:, 0], f.T, lw=1.3)
    ax.set_title(f"width n = {n}")
    ax.set_xlabel("input x (dimensionless)")
axes[0].set_ylabel("output f(x) of a random network")
plt.show()

# %% [markdown]
# The narrow networks draw piecewise-linear functions with a handful of kinks, some of them flat
# over half the axis (their two units are both off); the wide ones draw rough but statistically
# homogeneous curves. The claim of this chapter is that the wide curves are samples of a
# Gaussian process, and that we can compute its covariance exactly.
#
# ## 2. The theory: a central limit theorem, layer by layer
#
# Fix a finite set of inputs $x_1, \dots, x_N$ and follow the preactivations up the network
# {cite:p}`neal1996bayesian,lee2018deep,matthews2018gaussian`.
#
# **Layer 0.** $f^0_i(x)$ is a linear combination of independent Gaussians, hence exactly
# Gaussian. Different units $i$ use different weights, so they are independent, and each has
# covariance
#
# $$
# K^0(x, x') = \mathbb E\bigl[f^0_i(x)\, f^0_i(x')\bigr] = \sigma_b^2 + \sigma_w^2\,\frac{x\cdot x'}{d}.
# $$
#
# **Layer $\ell$, given layer $\ell - 1$.** Hold the preactivations $f^{\ell-1}$ fixed. Then
# $f^\ell_i$ is again linear in Gaussian weights, hence again exactly Gaussian and independent
# across $i$, with the covariance
#
# $$
# \hat K^\ell(x, x') = \sigma_b^2 + \frac{\sigma_w^2}{n}\sum_{j=1}^{n} \phi\bigl(f^{\ell-1}_j(x)\bigr)\,\phi\bigl(f^{\ell-1}_j(x')\bigr).
# $$
#
# This *empirical kernel* is an average over the $n$ units of the layer below. If those units are
# independent Gaussian processes with kernel $K^{\ell-1}$ (true for $\ell - 1 = 0$), the law of
# large numbers gives $\hat K^\ell \to K^\ell$ as $n\to\infty$, with fluctuations of order
# $n^{-1/2}$, where
#
# $$
# \boxed{\;K^\ell(x, x') = \sigma_b^2 + \sigma_w^2\; \mathbb E_{(u, v)\sim\mathcal N(0,\,\Sigma^{\ell-1})}\bigl[\phi(u)\,\phi(v)\bigr],
# \qquad \Sigma^{\ell-1} = \begin{pmatrix} K^{\ell-1}(x,x) & K^{\ell-1}(x,x') \\ K^{\ell-1}(x,x') & K^{\ell-1}(x',x')\end{pmatrix}.\;}
# $$ (eq-nngp-recursion)
#
# So at finite width, $f^\ell$ is a Gaussian whose covariance is itself random, a *mixture* of
# Gaussians; as $n\to\infty$ the mixture narrows onto one Gaussian process with kernel $K^\ell$,
# and the induction proceeds to the next layer. The output $f^L$ is a Gaussian process with
# kernel $K^L$, the **neural-network Gaussian process** (NNGP) kernel. For one hidden layer this
# is Neal's observation {cite:p}`neal1996bayesian`; for deep networks it was shown taking the
# widths to infinity one after another {cite:p}`lee2018deep` and all at once
# {cite:p}`matthews2018gaussian`.
#
# **Closed forms.** The expectation is a two-dimensional Gaussian integral. For ReLU it is the
# arc-cosine kernel of {cite:t}`cho2009kernel`: with $\cos\theta = K^{\ell-1}(x,x')/\sqrt{K^{\ell-1}(x,x)K^{\ell-1}(x',x')}$,
#
# $$
# \mathbb E[\phi(u)\phi(v)] = \frac{\sqrt{K^{\ell-1}(x,x)\,K^{\ell-1}(x',x')}}{2\pi}\,\bigl(\sin\theta + (\pi - \theta)\cos\theta\bigr),
# $$
#
# and for $\phi = \operatorname{erf}$ it is {cite:t}`williams1997computing`'s
# $\frac{2}{\pi}\arcsin\bigl(2\Sigma_{12}/\sqrt{(1+2\Sigma_{11})(1+2\Sigma_{22})}\bigr)$. For any
# other activation (tanh, SiLU, ...) we integrate numerically, writing $u = \sqrt{\Sigma_{11}}\,z_1$,
# $v = \sqrt{\Sigma_{22}}\,(\rho z_1 + \sqrt{1-\rho^2}\,z_2)$ with independent standard normal
# $z_1, z_2$: given $z_1$, $v$ is Gaussian, so the expectation is a nested pair of one-dimensional
# integrals, each done by Gauss–Legendre quadrature on panels that follow both scales of the
# integrand: the width of the Gaussian and the places where $\phi$ bends (near $u = 0$, over a
# width of order one in $u$). A fixed grid in $z$ (Gauss–Hermite, which this course used at
# first) cannot do both: tanh's bend has width $1/\sqrt q$ in $z$, and at large variance it falls
# between the nodes. All of it is in `course_utils.theory.kernels` (`nngp_kernel`,
# `gaussian_pair_expectation`; its tests compare the quadrature with SciPy's adaptive
# `integrate.quad` for variances up to $10^4$). First, the closed forms against the generic
# quadrature, and the quadrature against Monte Carlo, for a three-layer kernel on random inputs:

# %%
rng = np.random.default_rng(cu.seed(0))
X_check = rng.standard_normal((6, 3))
for act in ("relu", "erf"):
    closed = kernels.nngp_kernel(X_check, depth=3, activation=act, sigma_w2=2.0, sigma_b2=0.1, method="closed")
    quad = {order: kernels.nngp_kernel(X_check, depth=3, activation=act, sigma_w2=2.0, sigma_b2=0.1,
                                       method="quadrature", order=order) for order in (8, 12)}
    # truncation error of 8 nodes per panel: at most |Q₈ − Q₁₂| (the error falls geometrically with the order,
    # ReLU's kink included, since it lies on a panel edge), ×2 for safety, + a rounding floor
    truncation = np.linalg.norm(quad[8] - quad[12]) / np.linalg.norm(closed)
    cu.check_close(f"{act}: closed form vs quadrature (8 Gauss–Legendre nodes per panel)", quad[8], closed,
                   rtol=2 * truncation + 1e-12)
for act in ("tanh", "silu"):
    quad = kernels.nngp_kernel(X_check, depth=3, activation=act, sigma_w2=1.5, sigma_b2=0.1)
    # ten independent Monte Carlo estimates of 10⁵ samples each: their mean, and its standard error from their spread
    mc_runs = np.stack([kernels.nngp_kernel(X_check, depth=3, activation=act, sigma_w2=1.5, sigma_b2=0.1,
                                            method="monte_carlo", n_samples=100_000, seed=cu.seed(11 + r))
                        for r in range(10)])
    mc, mc_se = mc_runs.mean(0), mc_runs.std(0, ddof=1) / math.sqrt(len(mc_runs))
    # tolerance: 4 × the expected size ‖se‖ of the error of the mean (√ of the sum of its variances)
    cu.check_close(f"{act}: quadrature vs Monte Carlo (10⁶ samples, tolerance: 4 standard errors)", mc, quad,
                   atol=4 * np.linalg.norm(mc_se))

# %% [markdown]
# **How a finite network departs from the limit.** At finite width the covariance
# $\hat K^\ell$ fluctuates, so the output is a Gaussian *scale mixture*. For one input, write
# $Q = \hat K^L(x, x)$; given $Q$ the output is $\mathcal N(0, Q)$, so $\mathbb E f^4 = 3\,\mathbb E Q^2$
# and the **excess kurtosis** is
#
# $$
# \kappa = \frac{\mathbb E f^4}{(\mathbb E f^2)^2} - 3 = 3\,\frac{\operatorname{Var} Q}{(\mathbb E Q)^2} .
# $$
#
# For ReLU without biases this can be followed exactly through the layers. Given layer $\ell$,
# $Q^{\ell+1} = \frac{\sigma_w^2}{n}\sum_j \phi(f^\ell_j)^2$ is a sum of $n$ i.i.d. terms with
# $\mathbb E[\phi^2] = Q^\ell/2$ and $\mathbb E[\phi^4] = 3(Q^\ell)^2/2$, which gives
# $\mathbb E[(Q^{\ell+1})^2 \mid Q^\ell] = \frac{\sigma_w^4}{4}(1 + \frac5n)(Q^\ell)^2$. The ratio
# $\mathbb E Q^2/(\mathbb E Q)^2$ is multiplied by $1 + 5/n$ at every hidden layer, starting
# from 1 (the first layer is exactly Gaussian), so
#
# $$
# \kappa_L(n) = 3\left[\left(1 + \frac5n\right)^{L} - 1\right] \;\approx\; \frac{15\,L}{n}\qquad (n \gg L).
# $$ (eq-nngp-kurtosis)
#
# The non-Gaussianity falls like $1/n$, and it grows with depth: what controls it is the ratio
# $L/n$ {cite:p}`roberts2022principles`. Deep, narrow networks are far from the Gaussian limit.
#
# ## 3. Experiment: how Gaussian is a finite network?
#
# We draw $10^5$ independent ReLU networks ($\sigma_w^2 = 2$, $\sigma_b = 0$) of each width, with
# one and two hidden layers, evaluate them at one input, and measure the excess kurtosis of the
# output over the ensemble.

# %%
x_one = np.array([[1.0, 0.5]])
widths = np.array(P.kurtosis_widths)


def excess_kurtosis(f, axis=-1):
    return np.mean(f ** 4, axis=axis) / np.mean(f ** 2, axis=axis) ** 2 - 3  # the mean is 0 by symmetry


samples, kurtosis, kurtosis_se = {}, {}, {}
for L in (1, 2):
    kurtosis[L], kurtosis_se[L] = [], []
    for n in widths:
        f = draw_networks(x_one, P.kurtosis_networks, seed=cu.seed(100 * L + int(n)), width=int(n), depth=L,
                          sigma_b=0.0, **relu_arch)[:, 0]
        samples[L, n] = f
        kurtosis[L].append(excess_kurtosis(f))
        # standard error from 20 independent blocks of networks
        kurtosis_se[L].append(np.std(excess_kurtosis(f.reshape(20, -1)), ddof=1) / math.sqrt(20))
    kurtosis[L], kurtosis_se[L] = np.array(kurtosis[L]), np.array(kurtosis_se[L])

# %%
K_one = float(kernels.nngp_kernel(x_one, depth=2, sigma_w2=2.0, sigma_b2=0.0)[0, 0])
slopes = {}
for L in (1, 2):
    tail = widths >= 8
    x = np.log(widths[tail]) - np.log(widths[tail]).mean()
    slope_se = math.sqrt(np.sum(x ** 2 * (kurtosis_se[L][tail] / kurtosis[L][tail]) ** 2)) / np.sum(x ** 2)
    slopes[L] = (cu.fit_power_law(widths[tail], kurtosis[L][tail]),
                 cu.fit_power_law(widths[tail], kernels.relu_excess_kurtosis(widths[tail], L)), slope_se)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
grid = np.linspace(-4, 4, 161) * math.sqrt(K_one)
for i, n in enumerate((1, 4, 64)):
    hist, edges = np.histogram(samples[2, n], bins=np.linspace(grid[0], grid[-1], 41), density=True)
    ax.plot(0.5 * (edges[1:] + edges[:-1]), hist, "o", mfc="none", color=cu.plotting.PALETTE[i],
            label=f"n = {n}, {P.kurtosis_networks:,} networks")
ax.plot(grid, norm.pdf(grid, scale=math.sqrt(K_one)), "k-", label="NNGP: $\\mathcal{N}(0, K^L(x,x))$")
ax.set_yscale("log")
ax.set_ylim(1e-4, 3)
ax.set_xlabel("output f(x) (dimensionless)")
ax.set_ylabel("probability density")
ax.set_title("two hidden layers")
ax.legend(fontsize=7, loc="lower center")

ax = axes[1]
n_fine = np.geomspace(widths[0], widths[-1], 100)
for i, L in enumerate((1, 2)):
    ax.plot(n_fine, kernels.relu_excess_kurtosis(n_fine, L), "-", color=cu.plotting.PALETTE[i],
            label=f"L = {L}: theory $3[(1+5/n)^L - 1]$")
    ax.plot(widths, kurtosis[L], "o", mfc="none", color=cu.plotting.PALETTE[i], label=f"L = {L}: measured")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("width n (units)")
ax.set_ylabel("excess kurtosis of the output")
ax.legend(fontsize=8)
plt.show()

# %%
for L in (1, 2):
    fit, fit_theory, slope_se = slopes[L]
    print(f"L = {L}: fitted κ ∝ n^(-{fit.alpha:.3f} ± {slope_se:.3f}) for n ≥ 8; "
          f"the theory curve over the same widths has slope -{fit_theory.alpha:.3f} (asymptotically -1)")
    z = (kurtosis[L] - kernels.relu_excess_kurtosis(widths, L)) / kurtosis_se[L]
    print("  (measured − theory)/standard error at n = " + ", ".join(f"{n}: {v:+.2f}" for n, v in zip(widths, z)))
    cu.check_less(f"L = {L}: largest |measured − theory| of the kurtosis, in standard errors", np.max(np.abs(z)), 4.0)
    # tolerance: 4 standard errors of the exponent, propagated from the block errors of the kurtosis
    cu.check_close(f"L = {L}: fitted kurtosis exponent (tolerance: 4 standard errors)", fit.alpha, fit_theory.alpha,
                   atol=4 * slope_se)

# %% [markdown]
# The histograms show what the numbers say. At width 1 the output of a two-layer network is far
# from Gaussian: a large spike at zero (the single unit is off half the time) and heavy tails.
# By width 64 the histogram lies on the Gaussian of the NNGP over four decades of density. The
# excess kurtosis falls like $1/n$, with the exact prefactor $15L$: the fitted exponents agree
# with those of the exact formula over the same widths (which for $L = 2$ is still a little
# steeper than the asymptotic $-1$, because of its $75/n^2$ term), and the measured kurtosis
# agrees with the formula at every width, within its statistical error (estimated from 20
# independent blocks of networks). That error is about $\sqrt{24/M}$ over $M$ samples of a nearly
# Gaussian variable, which is why the widest points scatter most in relative terms; at small
# widths it is much larger, because a kurtosis estimate is at the mercy of rare, huge outputs
# (its variance involves the eighth moment).
#
# ## 4. Experiment: the covariance of many networks is the kernel
#
# Now many inputs at once. We take nine inputs on a half circle, $x_\vartheta = \sqrt2(\cos\vartheta, \sin\vartheta)$,
# draw networks with two hidden layers ($\sigma_w^2 = 2$, $\sigma_b^2 = 0.1$), and estimate the
# covariance $\hat C = \frac1M\sum_m f_m f_m^\top$ of their outputs over $M$ networks (the mean
# is zero). Two things separate $\hat C$ from $K^L$:
#
# - **sampling noise.** For a Gaussian vector, $\mathbb E\,(\hat C_{ij} - K_{ij})^2 = (K_{ii}K_{jj} + K_{ij}^2)/M$,
#   so the expected relative error is $\sqrt{\sum_{ij}(K_{ii}K_{jj} + K_{ij}^2)/M}\,/\,\|K\|_F$,
#   which falls like $M^{-1/2}$;
# - **finite width.** The expectation $\mathbb E\,\hat C$ differs from $K^L$ by a correction
#   of order $1/n$ (for two or more hidden layers: with one hidden layer the covariance is exact
#   at every width, only the higher moments are not). No number of networks removes it.

# %%
angles = np.linspace(0, np.pi, 9)
X_circle = math.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
arch2 = dict(depth=2, sigma_b=math.sqrt(0.1), **relu_arch)
K_circle = kernels.nngp_kernel(X_circle, depth=2, sigma_w2=2.0, sigma_b2=0.1)
M_max = P.cov_networks
Ms = 2 ** np.arange(6, int(np.log2(M_max)) + 1)
cov_error, cov_error_se, cov_first_row, bias, bias_se, diag_bias, diag_bias_se = {}, {}, {}, {}, {}, {}, {}
for i, n in enumerate(P.cov_widths):
    gen = torch.Generator(device=device).manual_seed(cu.seed(7 + i))
    out, pre = random_mlp_outputs(torch.as_tensor(X_circle, dtype=torch.float32, device=device), M_max, width=n,
                                  generator=gen, return_preactivations=True, **arch2)
    f = out[..., 0].double().cpu().numpy()
    # each network's readout kernel K̂ᴸ = σ_b² + σ_w² φ(f^{L-1})·φ(f^{L-1})/n: the exact covariance of its output
    # given its hidden layers; averaged over networks it estimates E Ĉ without the readout's sampling noise
    features = torch.relu(pre[-1]).double()
    K_hat = (0.1 + 2.0 * torch.einsum("mia,mja->mij", features, features) / n).cpu().numpy()
    del out, pre, features
    far = K_hat[:, 0, -1] - K_circle[0, -1]            # the two inputs farthest apart (ϑ = π)
    diag_dev = np.mean(np.diagonal(K_hat, axis1=1, axis2=2) - np.diag(K_circle), axis=1)
    bias[n], bias_se[n] = far.mean(), far.std(ddof=1) / math.sqrt(M_max)
    diag_bias[n], diag_bias_se[n] = diag_dev.mean(), diag_dev.std(ddof=1) / math.sqrt(M_max)
    del K_hat
    errors, errors_se = [], []
    for M in Ms:  # split the draws into M_max/M independent ensembles of M networks each
        blocks = f.reshape(M_max // M, M, -1)
        C = np.einsum("bmi,bmj->bij", blocks, blocks) / M
        sq = np.sum((C - K_circle) ** 2, axis=(1, 2)) / np.linalg.norm(K_circle) ** 2  # one per ensemble
        errors.append(np.sqrt(sq.mean()))
        # standard error of the mean square over the ensembles (none when there is only one)
        errors_se.append(np.std(sq, ddof=1) / math.sqrt(len(sq)) if len(sq) > 1 else np.nan)
    cov_error[n], cov_error_se[n] = np.array(errors), np.array(errors_se)
    cov_first_row[n] = f.T @ f[:, 0] / M_max
diag = np.diag(K_circle)
sampling_theory = np.sqrt(np.sum(np.outer(diag, diag) + K_circle ** 2) / Ms) / np.linalg.norm(K_circle)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
th_fine = np.linspace(0, np.pi, 200)
X_fine = math.sqrt(2) * np.stack([np.cos(th_fine), np.sin(th_fine)], axis=1)
ax.plot(th_fine, kernels.nngp_kernel(X_fine[:1], X_fine, depth=2, sigma_w2=2.0, sigma_b2=0.1)[0], "k-",
        label="NNGP kernel $K^L(x_0, x_\\vartheta)$")
for i, n in enumerate((P.cov_widths[0], P.cov_widths[-1])):
    ax.plot(angles, cov_first_row[n], "os"[i], mfc="none", color=cu.plotting.PALETTE[i],
            label=f"covariance of {M_max:,} networks, n = {n}")
ax.set_xlabel("angle $\\vartheta$ between the inputs (rad)")
ax.set_ylabel("covariance of the outputs")
ax.legend(fontsize=7)
ax = axes[1]
ax.plot(Ms, sampling_theory, "k-", label="Gaussian sampling noise (theory)")
for i, n in enumerate(P.cov_widths):
    ax.plot(Ms, cov_error[n], "o-", mfc="none", lw=0.8, color=cu.plotting.PALETTE[i], label=f"n = {n}")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("number of networks M")
ax.set_ylabel("relative error $\\|\\hat C - K^L\\|_F / \\|K^L\\|_F$")
ax.legend(fontsize=8)
plt.show()

# %%
widest = P.cov_widths[-1]
# at least 64 independent ensembles in each mean square: one ensemble's squared error has a relative spread of
# about 1 and a skewed distribution, so with fewer ensembles a low mean comes with a low estimated spread, and
# the standard error estimated from them is not to be trusted
well_averaged = Ms <= M_max // 64
# measured / Gaussian-theory mean square error, and its standard error from the spread between ensembles
ratio = (cov_error[widest] ** 2 / sampling_theory ** 2)[well_averaged]
ratio_se = (cov_error_se[widest] / sampling_theory ** 2)[well_averaged]
# a finite network is not exactly Gaussian: its fourth moments exceed Gaussian ones by up to about the excess
# kurtosis κ of §3 (for σ_b = 0, an upper bound here), which raises the sampling error by up to a factor 1 + κ
kappa_widest = float(kernels.relu_excess_kurtosis(widest, 2))
fit = cu.fit_power_law(Ms[well_averaged], cov_error[widest][well_averaged])
# standard error of the fitted exponent, propagated from the standard error of each ln(error)
x = np.log(Ms[well_averaged]) - np.log(Ms[well_averaged]).mean()
sd_log = cov_error_se[widest][well_averaged] / (2 * cov_error[widest][well_averaged] ** 2)
alpha_se = math.sqrt(np.sum(x ** 2 * sd_log ** 2)) / np.sum(x ** 2)
print(f"n = {widest}: relative error ∝ M^(-{fit.alpha:.3f} ± {alpha_se:.3f}) (theory: M^(-1/2))")
print("  mean square error / Gaussian sampling theory at M =\n    "
      + ", ".join(f"{M}: {v:.3f} ± {e:.3f}" for M, v, e in zip(Ms[well_averaged], ratio, ratio_se))
      + f"\n    (non-Gaussian allowance 1 + κ = {1 + kappa_widest:.3f})")
cu.check_less(f"n = {widest}: mean square error not below the Gaussian sampling theory (largest shortfall, in "
              "standard errors)", np.max((1 - ratio) / ratio_se), 4.0)
cu.check_less(f"n = {widest}: mean square error not above (1 + κ) × the Gaussian sampling theory (largest excess, in "
              "standard errors)", np.max((ratio - 1 - kappa_widest) / ratio_se), 4.0)
floor = {n: np.linalg.norm(cov_first_row[n] - K_circle[0]) / np.linalg.norm(K_circle[0]) for n in P.cov_widths}
print("first row of the covariance, relative deviation from the kernel with all "
      f"{M_max:,} networks:\n    " + ", ".join(f"n = {n}: {v:.3f}" for n, v in floor.items()))
cu.check_less(f"n = {P.cov_widths[0]}: finite-width bias above the noise (2 × sampling error < measured error)",
              2 * sampling_theory[-1], cov_error[P.cov_widths[0]][-1])

# %% [markdown]
# The wide networks' covariance lies on the arc-cosine recursion (left), and its error falls as
# $M^{-1/2}$ on top of the sampling-noise prediction (right): at width 128 the networks are,
# as far as second moments over $1.6\cdot10^4$ draws can tell, the Gaussian process. The checks
# compare, at every $M$ with at least 64 independent ensembles, the mean square error with the
# sampling theory, in units of its standard error (the spread of the squared error between
# ensembles divided by the square root of their number). The Gaussian formula is a lower bound:
# a network of finite width has heavier tails (§3), which raise the variance of $\hat C$ by up to
# about the factor $1 + \kappa$, with $\kappa$ from {eq}`eq-nngp-kurtosis`, $3[(1+5/n)^2 - 1] \approx 0.24$ at $n = 128$, so the
# checks bound the measured mean square error between the Gaussian value and $1 + \kappa$ times
# it, each within four standard errors. The spread between ensembles is large, because one
# ensemble's error is dominated by a few directions of the $9\times9$ matrix, so the last points,
# averaged over fewer ensembles, scatter visibly, and the fitted exponent is only known to about
# $\pm0.05$ (the standard error printed with it, propagated from those of the points). The width-2
# networks level off: their covariance is a different kernel, off by a finite-width bias of order
# $1/n$ that more networks cannot average away; at width 8 the floor is a few times lower.
#
# **The finite-width bias, measured.** Where does the $1/n$ come from? With two hidden layers,
# the first layer's preactivations are exactly Gaussian; given the hidden layers, the output of
# one network is exactly Gaussian with the random covariance $\hat K^L$ (§2), and averaging over
# the weights of the last hidden layer gives $\mathbb E[\hat K^L \mid \hat K^{L-1}] = \sigma_b^2 + \sigma_w^2\,F(\hat K^{L-1})$, with
# $F$ the map of {eq}`eq-nngp-recursion`. $\hat K^{L-1}$ fluctuates around $K^{L-1}$ by
# $O(n^{-1/2})$; the first-order term of a Taylor expansion of $F$ averages out, the second-order
# one does not, so $\mathbb E\,\hat C - K^L = O(1/n)$ wherever $F$ is curved. On the diagonal it is
# not: $\mathbb E[\mathrm{relu}(u)^2] = q/2$ is linear in the variance, so for ReLU the diagonal
# of the covariance is unbiased at every width. To measure the bias without the sampling noise
# of the readout, we average, over the same networks, each one's $\hat K^L$ (computed from its
# last hidden layer: the exact covariance of its output given its hidden layers) instead of
# $f f^\top$, and follow the entry with the largest bias, the two inputs farthest apart
# ($\vartheta = \pi$). Its standard error is the spread of $\hat K^L$ over the networks divided by
# $\sqrt M$. The exponent is fitted at widths $n \ge 8$ (at $n = 2$ the $1/n^2$ term is not small).

# %%
bias_widths = np.array([n for n in P.cov_widths if n >= 8])
minus_bias = np.array([-bias[n] for n in bias_widths])
minus_bias_se = np.array([bias_se[n] for n in bias_widths])
fit_bias = cu.fit_power_law(bias_widths, minus_bias)
# standard error of the fitted exponent, propagated from the standard error of each ln|bias|
x = np.log(bias_widths) - np.log(bias_widths).mean()
bias_alpha_se = math.sqrt(np.sum(x ** 2 * (minus_bias_se / minus_bias) ** 2)) / np.sum(x ** 2)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(5.5, 3.6))
all_widths = np.array(P.cov_widths)
ax.errorbar(all_widths, [-bias[n] for n in all_widths], yerr=[bias_se[n] for n in all_widths], fmt="o", mfc="none",
            color=cu.plotting.PALETTE[0], label="networks: $K^L - \\mathbb{E}\\,\\hat K^L$ at $\\vartheta = \\pi$")
n_fine = np.geomspace(bias_widths[0], bias_widths[-1], 50)
ax.plot(n_fine, fit_bias(n_fine), "--", color=cu.plotting.PALETTE[0],
        label=f"fit ($n \\geq 8$): $n^{{-{fit_bias.alpha:.2f}}}$")
ax.plot(n_fine, minus_bias[0] * bias_widths[0] / n_fine, "k:", label="$1/n$")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("width n (units)")
ax.set_ylabel("finite-width bias of the covariance")
ax.legend(fontsize=8)
plt.show()

# %%
for n in P.cov_widths:
    print(f"n = {n:4d}: bias at ϑ = π {bias[n]:+.5f} ± {bias_se[n]:.5f} (n × bias = {n * bias[n]:+.3f}); "
          f"mean bias of the diagonal {diag_bias[n]:+.5f} ± {diag_bias_se[n]:.5f}")
print(f"bias ∝ n^(-{fit_bias.alpha:.3f} ± {bias_alpha_se:.3f}) over n = {', '.join(map(str, bias_widths))}")
cu.check_close("exponent of the finite-width bias of the covariance, n ≥ 8 (tolerance: 4 standard errors)",
               fit_bias.alpha, 1.0, atol=4 * bias_alpha_se)
cu.check_less("ReLU: the diagonal of the covariance is unbiased (largest |mean bias| over the widths, in standard "
              "errors)", max(abs(diag_bias[n]) / diag_bias_se[n] for n in P.cov_widths), 4.0)

# %% [markdown]
# The bias of the far entry falls as $1/n$: the fitted exponent agrees with one within four of its
# standard errors (printed with $n$ times the bias at each width; at width 2 the $1/n^2$ term is
# not small, which is why the fit starts at 8). Finite width lowers the covariance of distant
# inputs, and the diagonal shows no bias at any width, within four standard errors, as the
# linearity of $\mathbb E[\mathrm{relu}^2]$ requires. With $1.6\cdot10^4$ networks the bias at width
# 128 is measurable at all only because the readout's noise was averaged analytically; in $\hat C$
# itself it is buried under the sampling noise (the right panel above).
#
# ## 5. Depth: fixed points, order and chaos
#
# The recursion {eq}`eq-nngp-recursion`, $K^{\ell-1}\mapsto K^\ell$, is a map, and deep networks iterate it. What it does to
# a pair of inputs decides whether a deep network can be trained at all
# {cite:p}`poole2016exponential,schoenholz2017deep`.
#
# **The length map.** For one input, $q^\ell = K^\ell(x, x)$ obeys
# $q^\ell = \sigma_b^2 + \sigma_w^2\int\! Dz\,\phi(\sqrt{q^{\ell-1}}\,z)^2$ with $Dz$ the standard
# normal measure. For bounded $\phi$ such as tanh it converges to a fixed point $q^*$ within a
# few layers. For ReLU with $\sigma_b = 0$ it is linear, $q^\ell = (\sigma_w^2/2)\,q^{\ell-1}$: the
# signal explodes or dies exponentially with depth unless $\sigma_w^2 = 2$.
#
# **The correlation map.** For two inputs at the fixed length, the correlation
# $c^\ell = K^\ell(x,x')/q^*$ obeys $c^\ell = M(c^{\ell-1})$ with
#
# $$
# M(c) = \frac{1}{q^*}\Bigl(\sigma_b^2 + \sigma_w^2\,\mathbb E\bigl[\phi(u)\phi(v)\bigr]\Bigr),\qquad (u, v)\sim\mathcal N\!\Bigl(0,\ q^*\begin{pmatrix}1 & c\\ c & 1\end{pmatrix}\Bigr).
# $$ (eq-nngp-correlation-map)
#
# $c = 1$ (identical inputs) is always a fixed point. Its stability is the slope there; by
# Price's theorem $\partial_c\,\mathbb E[\phi(u)\phi(v)] = q^*\,\mathbb E[\phi'(u)\phi'(v)]$, so
#
# $$
# \chi_1 = M'(1) = \sigma_w^2\int\! Dz\,\bigl[\phi'(\sqrt{q^*}\,z)\bigr]^2 .
# $$ (eq-nngp-chi1)
#
# - $\chi_1 < 1$, the **ordered phase**: every pair of inputs converges to $c = 1$; a deep
#   network maps all inputs to the same output and forgets where it started.
# - $\chi_1 > 1$, the **chaotic phase**: $c = 1$ is unstable and correlations flow to a fixed
#   point $c^* < 1$; arbitrarily close inputs end up decorrelated.
# - $\chi_1 = 1$, the **edge of chaos**. Near a fixed point $|c^\ell - c^*| \propto e^{-\ell/\xi_c}$
#   with $\xi_c = -1/\ln M'(c^*)$, and $\xi_c$ diverges here: information about the input
#   survives through many layers. $\chi_1$ is also the factor by which the squared gradient grows
#   per layer in backpropagation (derived and measured at the end of this section), so away from
#   $\chi_1 = 1$ gradients vanish or explode exponentially with depth {cite:p}`schoenholz2017deep`.
#   For ReLU with $\sigma_b = 0$, $\chi_1 = \sigma_w^2/2$: He's
#   $\sigma_w^2 = 2$ is exactly critical.
#
# The library has it all (`variance_fixed_point`, `correlation_map`, `chi1`,
# `correlation_fixed_point`, `correlation_length`). For tanh with $\sigma_b^2 = 0.05$:

# %%
act, sb2 = "tanh", 0.05
sw2_crit = brentq(lambda s: float(kernels.chi1(activation=act, sigma_w2=s, sigma_b2=sb2)) - 1, 1.0, 3.0)
print(f"tanh, σ_b² = {sb2}: the edge of chaos is at σ_w² = {sw2_crit:.4f}")
phases = {"ordered": 1.0, "critical": sw2_crit, "chaotic": 3.0}
for name, sw2 in phases.items():
    print(f"  {name:8s} σ_w² = {sw2:.3f}: q* = {float(kernels.variance_fixed_point(activation=act, sigma_w2=sw2, sigma_b2=sb2)):.4f}, "
          f"χ₁ = {float(kernels.chi1(activation=act, sigma_w2=sw2, sigma_b2=sb2)):.4f}, "
          f"c* = {kernels.correlation_fixed_point(activation=act, sigma_w2=sw2, sigma_b2=sb2):.4f}")

# %% [markdown]
# **The experiment.** Two inputs with correlation $0.6$ are sent through random tanh networks
# of width 128 and depth 30 at the three values of $\sigma_w^2$; at every layer we measure the
# correlation of the two preactivation vectors across the units and across 256 networks, and
# compare with the iterated recursion. Then, on a grid of $(\sigma_w^2, \sigma_b^2)$, we measure
# where the correlation has got to after 30 layers, starting from inputs with correlation $0.8$,
# and place the measurements on the theoretical phase diagram.
#
# Two errors separate a measured correlation from the recursion. The **sampling error** we
# estimate from the networks themselves (jackknife: recompute the correlation leaving out one
# network at a time). The **finite-width shift** is of order $1/n$, like the kurtosis of §3, and
# it accumulates with depth; we measure it by repeating every experiment at half the width: if
# $c(n) = c(\infty) + b/n$, then $2c(n) - c(n/2) = c(\infty)$, up to $O(1/n^2)$. The checks compare
# this extrapolation with the recursion, in units of its standard error.

# %%
X_pair = np.array([[1.0, 0.0], [0.6, 0.8]])  # unit vectors with x·x' = 0.6


def layer_correlations(X, sw2, sb2, seed, n_networks, width, depth):
    """Correlation of the preactivations of two inputs at every layer, measured across units and networks,
    and its standard error (jackknife: leave one network out)."""
    gen = torch.Generator(device=device).manual_seed(seed)
    _, pre = random_mlp_outputs(torch.as_tensor(X, dtype=torch.float32, device=device), n_networks, width=width,
                                depth=depth, activation=act, sigma_w=math.sqrt(sw2), sigma_b=math.sqrt(sb2),
                                generator=gen, return_preactivations=True)
    h = torch.stack(pre).double()  # (layers, networks, 2, width)
    sums = [s.cpu().numpy() for s in ((h[:, :, 0] * h[:, :, 1]).sum(-1), (h[:, :, 0] ** 2).sum(-1),
                                      (h[:, :, 1] ** 2).sum(-1))]          # each (layers, networks)
    (A, B, C), (A_all, B_all, C_all) = sums, [x.sum(1, keepdims=True) for x in sums]
    corr = (A_all / np.sqrt(B_all * C_all))[:, 0]
    loo = (A_all - A) / np.sqrt((B_all - B) * (C_all - C))               # one network left out
    se = np.sqrt((n_networks - 1) * np.mean((loo - loo.mean(1, keepdims=True)) ** 2, axis=1))
    return corr, se


def extrapolated_correlations(X, sw2, sb2, seed, n_networks, width, depth):
    """Correlations at widths n and n/2, and their 1/n extrapolation to infinite width, 2c(n) − c(n/2)."""
    c_n, se_n = layer_correlations(X, sw2, sb2, seed, n_networks, width, depth)
    c_half, se_half = layer_correlations(X, sw2, sb2, seed + 1, n_networks, width // 2, depth)
    return dict(c=c_n, se=se_n, c_half=c_half, c_inf=2 * c_n - c_half, se_inf=np.sqrt(4 * se_n ** 2 + se_half ** 2))


def theory_correlations(X, sw2, sb2, depth):
    Ks = kernels.nngp_kernel(X, depth=depth, activation=act, sigma_w2=sw2, sigma_b2=sb2, return_layers=True)
    return np.array([K[0, 1] / math.sqrt(K[0, 0] * K[1, 1]) for K in Ks])


L_prop = P.prop_depth
corr_runs, corr_theory = {}, {}
for i, (name, sw2) in enumerate(phases.items()):
    corr_runs[name] = extrapolated_correlations(X_pair, sw2, sb2, cu.seed(10 + 2 * i), P.prop_networks,
                                                P.prop_width, L_prop)
    corr_theory[name] = theory_correlations(X_pair, sw2, sb2, L_prop - 1)
corr_measured = {name: r["c"] for name, r in corr_runs.items()}

# the phase diagram: χ₁ on a grid (theory), and 1 − c after L layers in networks (experiment)
sw2_axis, sb2_axis = np.linspace(0.5, 4.0, 36), np.linspace(0.0, 0.3, 31)
chi_grid = kernels.chi1(activation=act, sigma_w2=sw2_axis[None, :], sigma_b2=np.maximum(sb2_axis[:, None], 1e-3))
X_pair8 = np.array([[1.0, 0.0], [0.8, 0.6]])
probe = [(sw2, sb2_) for sb2_ in (0.05, 0.2) for sw2 in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5)]
probe_runs = [extrapolated_correlations(X_pair8, sw2, sb2_, cu.seed(50 + 2 * j), P.prop_networks,
                                        P.prop_width, L_prop) for j, (sw2, sb2_) in enumerate(probe)]
decorrelation = np.array([1 - r["c"][-1] for r in probe_runs])
decorrelation_inf = np.array([1 - r["c_inf"][-1] for r in probe_runs])
decorrelation_inf_se = np.array([r["se_inf"][-1] for r in probe_runs])
decorrelation_theory = np.array([1 - theory_correlations(X_pair8, sw2, sb2_, L_prop - 1)[-1] for sw2, sb2_ in probe])

# %% tags=["hide-input"]
fig, axes = cu.panels(3, panel_height=3.4)
ax = axes[0]
c_axis = np.linspace(-1, 1, 201)
for i, (name, sw2) in enumerate(phases.items()):
    ax.plot(c_axis, kernels.correlation_map(c_axis, activation=act, sigma_w2=sw2, sigma_b2=sb2),
            color=cu.plotting.PALETTE[i], label=f"{name}, $\\sigma_w^2$ = {sw2:.2f}")
ax.plot(c_axis, c_axis, "k:", lw=1, label="$M(c) = c$")
ax.set_xlabel("correlation $c^{\\ell-1}$")
ax.set_ylabel("correlation $c^{\\ell} = M(c^{\\ell-1})$")
ax.set_title("the correlation map")
ax.legend(fontsize=8)
ax = axes[1]
layers = np.arange(L_prop)
for i, name in enumerate(phases):
    cu.plotting.theory_and_experiment(ax, layers, corr_theory[name], corr_measured[name], label=name,
                                      color=cu.plotting.PALETTE[i])
ax.set_xlabel("layer $\\ell$")
ax.set_ylabel("correlation of the two inputs")
ax.set_title(f"width {P.prop_width}")
ax.set_ylim(0, 1.05)  # room for the legend below the curves
handles = ax.get_legend_handles_labels()[0]   # (theory line, experiment markers) of each phase
ax.legend([tuple(handles[2 * j:2 * j + 2]) for j in range(len(phases))]
          + [plt.Line2D([], [], color="k"), plt.Line2D([], [], color="k", marker="o", mfc="none", ls="none")],
          list(phases) + ["theory", "experiment"], loc="lower right", fontsize=7, ncol=3)
ax = axes[2]
im = ax.pcolormesh(sw2_axis, sb2_axis, np.log(chi_grid), cmap="RdBu_r", vmin=-1.2, vmax=1.2, shading="nearest")
plt.colorbar(im, ax=ax, label="$\\ln \\chi_1$ (theory)")
ax.contour(sw2_axis, sb2_axis, chi_grid, levels=[1.0], colors="k")
for (sw2, sb2_), d in zip(probe, decorrelation):
    ordered = d < 0.02
    ax.plot(sw2, sb2_, "o" if ordered else "x", color="k", mfc="white" if ordered else "none", ms=7, mew=1.5)
ax.set_xlabel("weight variance $\\sigma_w^2$")
ax.set_ylabel("bias variance $\\sigma_b^2$")
ax.set_title("o: networks ordered, x: chaotic")
ax.grid(False)
plt.show()

# %%
for name, r in corr_runs.items():
    deep = slice(-10, None)  # the last ten layers
    z = (r["c_inf"] - corr_theory[name]) / r["se_inf"]
    print(f"{name:8s}: measured − theory, mean over the last ten layers: "
          f"width {P.prop_width}: {np.mean((r['c'] - corr_theory[name])[deep]):+.4f}, "
          f"width {P.prop_width // 2}: {np.mean((r['c_half'] - corr_theory[name])[deep]):+.4f};\n          "
          f"extrapolated to n = ∞: largest |Δ| over the layers = {np.max(np.abs(z)):.2f} standard errors")
    cu.check_less(f"{name}: largest |extrapolated (n = ∞) − theory| of the correlation over {L_prop} layers, "
                  "in standard errors", np.max(np.abs(z)), 4.0)
z_probe = (decorrelation_inf - decorrelation_theory) / decorrelation_inf_se
cu.check_less(f"phase-diagram probes: largest |extrapolated (n = ∞) − theory| of 1 − c after {L_prop} layers, "
              "in standard errors", np.max(np.abs(z_probe)), 4.0)
cu.check_count("probes on the wrong side of χ₁ = 1 (measured ordered: 1 − c < 0.02 at width "
               f"{P.prop_width})", np.sum((decorrelation < 0.02) != (decorrelation_theory < 0.02)),
               at_most=0, of=len(probe))

# %% [markdown]
# Top left: the correlation map crosses the diagonal only at $c = 1$ in the ordered phase, is tangent
# to it there at the critical point, and has a second, stable crossing $c^* < 1$ in the chaotic
# phase. Top right: the measured correlations follow the iterated map through 30 layers: in the
# ordered phase they converge to one within about ten layers ($\xi_c \approx 3.6$), in the chaotic
# phase they drop to $c^* \approx 0.30$, and at criticality they drift slowly, as a power law
# rather than exponentially. At width 128 the critical and chaotic correlations sit above the
# recursion by a hundredth or two in the deepest layers (printed above): the finite-width shift,
# of order $1/n$ and here of the same size as the sampling error, so the shifts printed for the
# two widths scatter from seed to seed. The extrapolation to infinite width, which removes the
# shift, agrees with the recursion within four standard errors at every layer. Bottom: the line $\chi_1 = 1$ separates the phases, and the networks agree with it at
# every probed point: the decorrelation $1 - c$ after 30 layers, extrapolated in width, matches
# the iterated map. Larger bias variance pushes the edge of chaos to larger $\sigma_w^2$.

# %% [markdown]
# **Explore: the phase diagram, point by point.** Move $\sigma_w^2$ and $\sigma_b^2$ (or switch tanh
# for erf) and watch the star cross the line $\chi_1 = 1$; every panel is the mean-field recursion
# that the networks above followed. The theory says: on the ordered side the correlation map meets
# the diagonal only at $c = 1$, every pair of inputs ends up identical and the squared gradient
# falls by $\chi_1$ per layer towards the input; on the chaotic side a second fixed point $c^* < 1$
# appears and the gradients grow; at the line the correlation length $\xi_c$ diverges.

# %%
from IPython.display import display

from course_utils.explorers import order_chaos

ex = order_chaos.explorer(depth=L_prop, starts=(0.6, 0.99), default_sigma_w2=round(sw2_crit, 2),
                          default_sigma_b2=sb2, phase_maps={act: (sw2_axis, np.maximum(sb2_axis, 1e-3), chi_grid)})
ex.show()
display(ex.variants("sigma_w2", [1.0, 3.0]))   # the chapter's ordered and chaotic points

# %% [markdown]
# The correlation length makes "trainable depth" quantitative: it diverges at the edge of chaos.
# {cite:t}`schoenholz2017deep` trained tanh networks on MNIST and CIFAR-10 over a grid of depths
# and $\sigma_w^2$ and found that the deepest trainable networks have about $6\,\xi_c$ layers. This
# chapter trains no networks, so that statement is theirs, not a result shown here; what we show
# are its two ingredients, the correlation length (left, below) and the growth of gradients with
# depth (at the end of this section). For ReLU, the length map itself is critical: the measured variance of the preactivations
# (averaged over the units of 256 networks of width 128), against $q^\ell = (\sigma_w^2/2)^\ell\,q^0$:

# %%
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
sw2_axis_xi = np.concatenate([np.linspace(0.6, sw2_crit - 0.02, 25), np.linspace(sw2_crit + 0.02, 4.0, 25)])
xi = [kernels.correlation_length(activation=act, sigma_w2=s, sigma_b2=sb2) for s in sw2_axis_xi]
ax.plot(sw2_axis_xi, xi, "-", color=cu.plotting.PALETTE[0], label=f"$\\xi_c$, tanh, $\\sigma_b^2$ = {sb2}")
ax.axvline(sw2_crit, color="k", ls=":", lw=1, label="edge of chaos")
ax.set_yscale("log")
ax.set_xlabel("weight variance $\\sigma_w^2$")
ax.set_ylabel("correlation length $\\xi_c$ (layers)")
ax.legend(fontsize=8)
ax = axes[1]
x_relu = np.array([[1.0, 0.0]])
relu_depth = 30
relu_var = {}
for i, sw2 in enumerate((1.8, 2.0, 2.2)):
    gen = torch.Generator(device=device).manual_seed(cu.seed(80 + i))
    _, pre = random_mlp_outputs(torch.as_tensor(x_relu, dtype=torch.float32, device=device), P.prop_networks,
                                width=P.prop_width, depth=relu_depth, activation="relu",
                                sigma_w=math.sqrt(sw2), sigma_b=0.0, generator=gen, return_preactivations=True)
    per_network = torch.stack([(h.double() ** 2).mean((-2, -1)) for h in pre]).cpu().numpy()  # (layers, networks)
    measured = per_network.mean(1)
    theory_q = (sw2 / 2) ** np.arange(relu_depth) * float(kernels.input_kernel(x_relu, sigma_w2=sw2)[0, 0])
    relu_var[sw2] = per_network
    cu.plotting.theory_and_experiment(ax, np.arange(relu_depth), theory_q, measured,
                                      label=f"$\\sigma_w^2$ = {sw2}", color=cu.plotting.PALETTE[i])
ax.set_yscale("log")
ax.set_xlabel("layer $\\ell$")
ax.set_ylabel("preactivation variance $q^\\ell$")
ax.set_title("ReLU, $\\sigma_b = 0$")
handles = ax.get_legend_handles_labels()[0]   # (theory line, experiment markers) of each σ_w²
ax.legend([tuple(handles[2 * j:2 * j + 2]) for j in range(3)]
          + [plt.Line2D([], [], color="k"), plt.Line2D([], [], color="k", marker="o", mfc="none", ls="none")],
          [f"$\\sigma_w^2$ = {sw2}" for sw2 in (1.8, 2.0, 2.2)] + ["theory", "experiment"], loc="lower left", fontsize=7)
plt.show()

def growth_per_layer(q):
    """q^ℓ ∝ growth^ℓ: the exponential of the least-squares slope of ln q^ℓ against ℓ."""
    return math.exp(np.polyfit(np.arange(len(q)), np.log(q), 1)[0])


for sw2, per_network in relu_var.items():
    growth = growth_per_layer(per_network.mean(1))
    # standard error: jackknife over the networks (each network's variance is a random walk in ln q)
    M = per_network.shape[1]
    loo = [growth_per_layer((per_network.sum(1) - per_network[:, m]) / (M - 1)) for m in range(M)]
    growth_se = math.sqrt((M - 1) * np.var(loo))
    print(f"ReLU σ_w² = {sw2}: growth per layer {growth:.4f} ± {growth_se:.4f} (theory σ_w²/2 = {sw2 / 2:g})")
    cu.check_close(f"ReLU σ_w² = {sw2}: variance growth per layer (tolerance: 4 standard errors)", growth, sw2 / 2,
                   atol=4 * growth_se)

# %% [markdown]
# Off criticality by 10 % in $\sigma_w^2$, a ReLU network's signal grows or shrinks by a factor
# $1.1^{30} \approx 17$ over 30 layers; at $\sigma_w^2 = 2$ it stays put. The check compares the
# measured growth factor per layer (a fit of $\ln q^\ell$ against $\ell$) with $\sigma_w^2/2$, within
# four standard errors (jackknife over the networks). The
# measured variances scatter more with depth: each layer multiplies the variance of a network
# by a random factor with relative spread $\sqrt{5/n}$, so the spread after $L$ layers grows like
# $\sqrt{5L/n}$, the same ratio of depth to width that controlled the kurtosis.
#
# **Gradients.** Backpropagation runs through the same layers in the opposite direction. Write
# $\delta^\ell_j = \partial f^L/\partial f^\ell_j$ for the gradient of the (scalar) output with
# respect to the preactivations of hidden layer $\ell$. The chain rule gives
# $\delta^{\ell-1}_j = \phi'(f^{\ell-1}_j)\sum_i W^\ell_{ij}\,\delta^\ell_i$. Averaging over the weights
# as if those of the backward pass were independent of the preactivations of the forward pass (the
# "gradient independence" of mean-field theory, exact for these averages as $n\to\infty$),
# $\mathbb E\|\delta^{\ell-1}\|^2 = \sigma_w^2\,\mathbb E[\phi'(f^{\ell-1})^2]\,\mathbb E\|\delta^\ell\|^2$, so
#
# $$
# \mathbb E\,\|\delta^\ell\|^2 = \prod_{k=\ell}^{L-1}\chi(q^k) \;\approx\; \chi_1^{\,L-\ell},
# \qquad \chi(q) = \sigma_w^2\int\! Dz\,\bigl[\phi'(\sqrt q\,z)\bigr]^2 ,
# $$ (eq-nngp-gradient)
#
# with $\chi(q^*) = \chi_1$ of {eq}`eq-nngp-chi1` once the variance has reached its fixed point.
# The gradient of the weights of layer $\ell$, $\delta^\ell\,\phi(f^{\ell-1})^\top$, carries the same
# factor, since $\|\phi(f^{\ell-1})\|^2$ is fixed by $q^*$. We backpropagate by hand through the
# tanh networks of the three phases (width 128, 30 layers, 256 networks, the two inputs of the
# correlation experiment), and fit the growth of $\mathbb E\|\delta^\ell\|^2$ per layer, from the
# output down, over the layers $\ell \ge 5$ where $q^\ell$ has reached $q^*$; its standard error is a
# jackknife over the networks. Like the correlations, the growth is shifted at finite width by
# $O(1/n)$ (the per-network variance fluctuates, and $\chi(q)$ is curved), so we repeat at half the
# width and compare the extrapolation $2g(n) - g(n/2)$ with $\chi_1$.

# %%
def backprop_square_gradients(X, sw2, sb2, seed, n_networks, width, depth):
    """‖∂f/∂f^ℓ‖² at every hidden layer ℓ of random tanh networks (output width 1), averaged over the inputs:
    an array (layers, networks). The backward pass is written out: δ^{ℓ-1} = φ'(f^{ℓ-1}) ⊙ (W^ℓ)ᵀ δ^ℓ."""
    gen = torch.Generator(device=device).manual_seed(seed)
    h = torch.as_tensor(X, dtype=torch.float32, device=device).T.unsqueeze(0).expand(n_networks, -1, -1)
    sizes = [X.shape[1]] + [width] * depth + [1]
    weights, pre = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = torch.randn(n_networks, b, a, generator=gen, device=device) * math.sqrt(sw2 / a)
        bias = torch.randn(n_networks, b, 1, generator=gen, device=device) * math.sqrt(sb2)
        z = torch.baddbmm(bias, W, h)
        weights.append(W)
        if i < depth:
            pre.append(z)
            h = torch.tanh(z)
    delta = weights[-1].transpose(1, 2).expand(-1, -1, X.shape[0])     # ∂f/∂φ(f^{L-1}) = (W^L)ᵀ
    squares = [None] * depth
    for layer in range(depth - 1, -1, -1):
        delta = delta * (1 - torch.tanh(pre[layer]) ** 2)                # δ^ℓ = φ'(f^ℓ) ⊙ ∂f/∂φ(f^ℓ)
        squares[layer] = (delta.double() ** 2).sum(1).mean(-1)           # ‖δ^ℓ‖², mean over the inputs
        if layer > 0:
            delta = torch.bmm(weights[layer].transpose(1, 2), delta)
    return torch.stack(squares).cpu().numpy()


def backward_growth(g):
    """E‖δ^ℓ‖² ∝ growth^(L−ℓ): the exponential of minus the least-squares slope of ln E‖δ^ℓ‖² against ℓ."""
    return math.exp(-np.polyfit(np.arange(len(g)), np.log(g), 1)[0])


q0_pair = float(kernels.input_kernel(X_pair[:1], sigma_w2=1.0, sigma_b2=0.0)[0, 0])  # |x|²/d of both inputs
first_fitted = 5
fig, ax = plt.subplots(figsize=(6, 3.8))
gradient_growth = {}
for i, (name, sw2) in enumerate(phases.items()):
    g = backprop_square_gradients(X_pair, sw2, sb2, cu.seed(90 + i), P.prop_networks, P.prop_width, L_prop)
    q_layers = [sb2 + sw2 * q0_pair]
    for _ in range(L_prop - 1):
        q_layers.append(float(kernels.variance_map(q_layers[-1], activation=act, sigma_w2=sw2, sigma_b2=sb2)))
    dphi = kernels.activation_derivative(act)
    chi_layers = sw2 * kernels.gaussian_expectation(lambda u: dphi(u) ** 2, np.array(q_layers))
    theory_g = np.cumprod(chi_layers[::-1])[::-1]            # E‖δ^ℓ‖² = Π_{k ≥ ℓ} χ(q^k)
    cu.plotting.theory_and_experiment(ax, np.arange(L_prop), theory_g, g.mean(1), label=name,
                                      color=cu.plotting.PALETTE[i])
    g_half = backprop_square_gradients(X_pair, sw2, sb2, cu.seed(95 + i), P.prop_networks,
                                       P.prop_width // 2, L_prop)
    fits = []
    for squares in (g, g_half):
        M = squares.shape[1]
        tail = slice(first_fitted, None)
        loo = [backward_growth(((squares.sum(1) - squares[:, m]) / (M - 1))[tail]) for m in range(M)]
        fits.append((backward_growth(squares.mean(1)[tail]), math.sqrt((M - 1) * np.var(loo))))
    (growth, growth_se), (growth_half, growth_half_se) = fits
    gradient_growth[name] = dict(n=growth, n_se=growth_se, half=growth_half,
                                 inf=2 * growth - growth_half, inf_se=math.sqrt(4 * growth_se ** 2 + growth_half_se ** 2),
                                 chi=float(kernels.chi1(activation=act, sigma_w2=sw2, sigma_b2=sb2)))
ax.set_yscale("log")
ax.set_xlabel("layer $\\ell$")
ax.set_ylabel("squared gradient $\\mathbb{E}\\,\\|\\partial f/\\partial f^\\ell\\|^2$")
ax.set_title(f"tanh, width {P.prop_width}")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
plt.show()
for name, r in gradient_growth.items():
    print(f"{name:8s}: squared gradient grows by {r['n']:.4f} ± {r['n_se']:.4f} per layer towards the input at "
          f"width {P.prop_width},\n          {r['half']:.4f} at width {P.prop_width // 2}, extrapolated to n = ∞ "
          f"{r['inf']:.4f} ± {r['inf_se']:.4f} (theory χ₁ = {r['chi']:.4f});\n          over {L_prop} layers "
          f"χ₁^{L_prop} = {r['chi'] ** L_prop:.3g}")
    cu.check_close(f"{name}: growth of the squared gradient per layer, extrapolated to n = ∞, = χ₁ (tolerance: "
                   "4 standard errors)", r["inf"], r["chi"], atol=4 * r["inf_se"])

# %% [markdown]
# The squared gradient follows {eq}`eq-nngp-gradient` through all 30 layers: it falls by
# $\chi_1 \approx 0.76$ per layer from the output to the input in the ordered phase, grows by
# $\chi_1 \approx 1.21$ in the chaotic phase, and stays level at the edge of chaos; the growth per
# layer, extrapolated to infinite width, agrees with $\chi_1$ within four standard errors in each
# phase (printed above, with the values at the two widths). Over 30
# layers that is a factor $\chi_1^{30}$ (printed) between the gradients of the first and the last
# layer: in the ordered phase the first layers get gradients smaller by that factor than the
# last, in the chaotic phase larger. Whether, and up to which depth, such networks then train is
# the question Schoenholz et al. answered with training runs; here we have shown the mechanism
# they invoked. Their result, the trainable depth proportional to the correlation length, is
# measured in [Signal propagation and trainable depth](04_trainable_depth.ipynb).
#
# ## 6. Bayesian inference with an infinitely wide network
#
# Put the random network to use. Treat the initialisation as a **prior** over functions and
# condition it on data $\mathcal D = \{(x_\mu, y_\mu)\}_{\mu=1}^{N}$ with Gaussian observation noise
# of variance $\sigma_\varepsilon^2$. For a finite network the posterior over weights is
# intractable. In the infinite-width limit the prior is the Gaussian process with kernel $K = K^L$,
# and conditioning a Gaussian on a linear observation is linear algebra: the posterior at a new
# input $x_*$ is Gaussian with
#
# $$
# \bar f(x_*) = k_*^\top (K + \sigma_\varepsilon^2 I)^{-1} y, \qquad
# \operatorname{Var} f(x_*) = K(x_*, x_*) - k_*^\top (K + \sigma_\varepsilon^2 I)^{-1} k_*,
# $$ (eq-nngp-gp-posterior)
#
# with $K_{\mu\nu} = K(x_\mu, x_\nu)$ and $(k_*)_\mu = K(x_*, x_\mu)$ {cite:p}`williams1997computing,lee2018deep`.
# Exact Bayesian inference with an infinitely wide network of any depth costs one $N\times N$
# linear solve; nothing is trained. (The posterior mean is kernel ridge regression with ridge
# $\sigma_\varepsilon^2$: "ridge is a posterior mean" from [Linear models and gradient
# flow](../01_foundations/01_linear_models.ipynb) again, with a kernel in place of the features.) `course_utils.theory.kernels.gp_posterior` implements it.
#
# **A well-specified test.** If the data really come from the prior, the posterior is
# *calibrated*: the truth lies within two posterior standard deviations of the mean 95.4 % of the
# time. We draw teacher functions from random ReLU networks of width 500 (two hidden layers,
# $\sigma_w^2 = 2$, $\sigma_b^2 = 0.5$; §3 showed they are very nearly Gaussian), observe each at
# 8 random inputs with noise $\sigma_\varepsilon = 0.1$, and measure how often the teacher lies in
# the NNGP's $2\sigma$ band on the rest of the line.

# %%
arch_1d = dict(depth=2, sigma_b=math.sqrt(0.5), **relu_arch)
K_line = kernels.nngp_kernel(x_line, depth=2, sigma_w2=2.0, sigma_b2=0.5)
teachers = draw_networks(x_line, P.gp_teachers, seed=cu.seed(2024), width=P.teacher_width, **arch_1d)
noise_sd, n_obs = 0.1, 8
rng = np.random.default_rng(cu.seed(3))
inside, posteriors = [], []
for f_true in teachers:
    idx = np.sort(rng.choice(len(x_line), n_obs, replace=False))
    rest = np.setdiff1d(np.arange(len(x_line)), idx)
    y_obs = f_true[idx] + noise_sd * rng.standard_normal(n_obs)
    mean, var = kernels.gp_posterior(K_line[np.ix_(idx, idx)], K_line[:, idx], np.diag(K_line), y_obs,
                                     noise_var=noise_sd ** 2)
    inside.append(np.abs(f_true[rest] - mean[rest]) <= 2 * np.sqrt(var[rest]))
    posteriors.append((idx, y_obs, mean, var))
coverage = float(np.mean(inside))
# the points of one teacher are correlated: the standard error comes from the spread between teachers
coverage_se = float(np.std(np.mean(inside, axis=1), ddof=1) / math.sqrt(len(inside)))

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 3.8))
idx, y_obs, mean, var = posteriors[0]
ax.fill_between(x_line[:, 0], mean - 2 * np.sqrt(var), mean + 2 * np.sqrt(var), color=cu.plotting.PALETTE[0],
                alpha=0.2, label="NNGP posterior: mean ± 2 sd")
ax.plot(x_line[:, 0], mean, "-", color=cu.plotting.PALETTE[0])
ax.plot(x_line[:, 0], teachers[0], "k--", lw=1.2, label="teacher: a random network of width 500")
ax.plot(x_line[idx, 0], y_obs, "o", color=cu.plotting.PALETTE[1], label="observations")
ax.set_xlabel("input x (dimensionless)")
ax.set_ylabel("f(x)")
ax.legend(fontsize=8)
plt.show()

# %%
print(f"coverage of the 2σ band: {coverage:.4f} ± {coverage_se:.4f} (standard error over the teachers)")
cu.check_close(f"coverage of the 2σ band over {P.gp_teachers} teachers (tolerance: 4 standard errors)",
               coverage, 2 * norm.cdf(2) - 1, atol=4 * coverage_se)

# %% [markdown]
# The posterior mean passes near the observations, and the band pinches there and widens
# between and beyond them; the truth lies inside it as often as it should: the measured coverage
# agrees with 95.4 % within four standard errors (the points of one teacher are correlated, so the
# standard error comes from the spread of the coverage between teachers, about half a percent).
#
# **A finite network that is Bayesian in its last layer.** Freeze the hidden layers of one random
# network of width $n$ and keep only the readout weights random, with their prior
# $\mathcal N(0, \sigma_w^2/n)$ and the bias $\mathcal N(0, \sigma_b^2)$. The output is then
# *exactly* a Gaussian process, with the empirical kernel $\hat K^L$ of §2, and its posterior is
# {eq}`eq-nngp-gp-posterior` with $\hat K^L$ in place of $K^L$ (Bayesian linear regression on the random
# features $\phi(f^{L-1})$). As $n$ grows, $\hat K^L \to K^L$ with fluctuations $\propto n^{-1/2}$,
# so the finite network's posterior mean should approach the NNGP's at that rate. One network's
# distance to the NNGP scatters by about half its value from draw to draw, so we average 16 networks
# per width, and the exponent's tolerance is four of its standard errors, propagated from that scatter.

# %%
idx, y_obs, mean_nngp, _ = posteriors[0]
readout_gap, readout_gap_se = [], []
for n in P.readout_widths:
    gaps = []
    for s in range(P.readout_seeds):
        net = MLP(1, n, 2, activation="relu", sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.5),
                  generator=torch.Generator().manual_seed(cu.seed(1000 * s + n)), dtype=torch.float64)
        with torch.no_grad():
            _, pre = net(torch.as_tensor(x_line), return_preactivations=True)
        features = torch.relu(pre[-2]).numpy()  # φ(f^{L-1}) at every input
        K_hat = 0.5 + 2.0 * features @ features.T / n
        mean_n, _ = kernels.gp_posterior(K_hat[np.ix_(idx, idx)], K_hat[:, idx], np.diag(K_hat), y_obs,
                                         noise_var=noise_sd ** 2)
        gaps.append(np.linalg.norm(mean_n - mean_nngp) / np.linalg.norm(mean_nngp))
    readout_gap.append(np.mean(gaps))
    readout_gap_se.append(np.std(gaps, ddof=1) / math.sqrt(len(gaps)))
readout_gap, readout_gap_se = np.array(readout_gap), np.array(readout_gap_se)
fit = cu.fit_power_law(P.readout_widths, readout_gap)  # readout_gap ∝ n^(−alpha)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.8))
cu.plotting.loglog_fit(ax, P.readout_widths, readout_gap, label="finite network, Bayesian readout",
                       exponent_name="slope")
ax.plot(P.readout_widths, readout_gap[0] * (np.array(P.readout_widths) / P.readout_widths[0]) ** -0.5,
        "k:", label="$n^{-1/2}$")
ax.set_xlabel("width n (units)")
ax.set_ylabel("relative distance to the\nNNGP posterior mean")
ax.legend(fontsize=8)
plt.show()

# %%
# standard error of the fitted exponent, propagated from the spread of the networks at each width
x = np.log(P.readout_widths) - np.mean(np.log(P.readout_widths))
alpha_se = math.sqrt(np.sum(x ** 2 * (readout_gap_se / readout_gap) ** 2)) / np.sum(x ** 2)
print(f"posterior mean of a width-n network → NNGP posterior mean as n^(-{fit.alpha:.3f} ± {alpha_se:.3f}) "
      f"({P.readout_seeds} networks per width)")
cu.check_close("exponent of the approach to the NNGP posterior (tolerance: 4 standard errors)", fit.alpha, 0.5,
               atol=4 * alpha_se)

# %% [markdown]
# **A small real problem.** The same formula classifies handwritten digits (scikit-learn's 8×8
# digits, 64 pixels): regress the one-hot labels (shifted to $-0.1/0.9$) with the NNGP of a
# two-hidden-layer ReLU network on 1000 training images (ten random splits of the 1797 images),
# and predict the class with the largest posterior mean, as {cite:t}`lee2018deep` did for MNIST
# and CIFAR-10. The inputs are centred and scaled to norm $\sqrt d$, so that
# $K^0(x,x) = \sigma_b^2 + \sigma_w^2$ for all of them.

# %%
digits = load_digits()
X_dig, y_dig = digits.data.astype(float), digits.target
X_dig -= X_dig.mean(axis=0)
X_dig *= math.sqrt(X_dig.shape[1]) / np.linalg.norm(X_dig, axis=1, keepdims=True)
n_tr = P.digits_train
K_dig = kernels.nngp_kernel(X_dig, depth=2, sigma_w2=2.0, sigma_b2=0.1)  # all pairs of digits, computed once
test_error, var_wrong, var_right = [], [], []
for k in range(P.digits_splits):  # random train/test splits
    order = np.random.default_rng(cu.seed(k)).permutation(len(y_dig))
    tr, te = order[:n_tr], order[n_tr:]
    Y_onehot = np.eye(10)[y_dig[tr]] - 0.1
    mean_dig, var_dig = kernels.gp_posterior(K_dig[np.ix_(tr, tr)], K_dig[np.ix_(te, tr)], np.diag(K_dig)[te],
                                             Y_onehot, noise_var=0.01 * np.mean(np.diag(K_dig)))
    wrong = mean_dig.argmax(axis=1) != y_dig[te]
    test_error.append(wrong.mean())
    var_wrong.extend(var_dig[wrong])
    var_right.extend(var_dig[~wrong])
test_error = np.array(test_error)
error_mean, error_se = test_error.mean(), np.std(test_error, ddof=1) / math.sqrt(len(test_error))
variance_ratio = np.mean(var_wrong) / np.mean(var_right)
print(f"NNGP test error on {len(te)} held-out digits, {len(test_error)} random splits:\n    "
      + ", ".join(f"{e:.2%}" for e in test_error) + f";\n    mean {error_mean:.2%} ± {error_se:.2%}")
print(f"posterior variance on the misclassified digits / on the correct ones (all splits): {variance_ratio:.2f}")
cu.check_less("test error of the NNGP classifier, mean over the splits + 4 standard errors",
              error_mean + 4 * error_se, 0.03)
cu.check_less("the NNGP is less sure where it is wrong (1 < variance ratio)", 1.0, variance_ratio)

# %% [markdown]
# About 99 % of the held-out digits are classified correctly by an infinitely wide network that
# was never trained (the error of one split depends on which digits land in the test set: between
# about 0.4 % and 2 % here, so the check bounds the mean over ten random splits, plus four standard
# errors), and the posterior variance is larger, on average, on the digits it gets wrong:
# the Bayesian posterior knows, to some degree, where it does not know.
#
# **Is 99 % good?** A number means little without a baseline, so the same splits are classified by
# three other models: the same posterior mean with the depth-0 kernel
# $K^0(x, x') = \sigma_b^2 + \sigma_w^2\,x\cdot x'/d$ (ridge regression on the pixels: a linear
# model), a logistic regression on the pixels (scikit-learn, $C = 1$), and a *trained* finite network
# of the same shape, two hidden ReLU layers of width 512 (scikit-learn's `MLPClassifier`: Adam,
# learning rate $10^{-3}$, minibatches of 200, its default weight decay $10^{-4}$, 200 epochs). The
# comparison is paired: the same train/test split for all four models, so the split-to-split
# scatter, which is common to them, drops out of the differences.

# %%
baselines = {"linear (depth-0 kernel)": [], "logistic regression": [], "trained MLP, 2 x 512": []}
K_lin = kernels.nngp_kernel(X_dig, depth=0, sigma_w2=2.0, sigma_b2=0.1)
for k in cu.progress(range(P.digits_splits), desc="baselines"):
    order = np.random.default_rng(cu.seed(k)).permutation(len(y_dig))  # the NNGP's splits
    tr, te = order[:n_tr], order[n_tr:]
    mean_lin, _ = kernels.gp_posterior(K_lin[np.ix_(tr, tr)], K_lin[np.ix_(te, tr)], np.diag(K_lin)[te],
                                       np.eye(10)[y_dig[tr]] - 0.1, noise_var=0.01 * np.mean(np.diag(K_lin)))
    baselines["linear (depth-0 kernel)"].append(np.mean(mean_lin.argmax(axis=1) != y_dig[te]))
    logistic = LogisticRegression(C=1.0, max_iter=2000).fit(X_dig[tr], y_dig[tr])
    baselines["logistic regression"].append(np.mean(logistic.predict(X_dig[te]) != y_dig[te]))
    with warnings.catch_warnings():  # 200 epochs stop before scikit-learn's own convergence criterion
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier((P.digits_mlp_width,) * 2, max_iter=P.digits_mlp_epochs,
                            random_state=cu.seed(50 + k)).fit(X_dig[tr], y_dig[tr])
    baselines["trained MLP, 2 x 512"].append(np.mean(mlp.predict(X_dig[te]) != y_dig[te]))
for name, errors in baselines.items():
    diff = np.array(errors) - test_error  # paired over the splits
    diff_se = np.std(diff, ddof=1) / math.sqrt(len(diff))
    print(f"{name:>24}: test error {np.mean(errors):.2%} ± {np.std(errors, ddof=1) / math.sqrt(len(errors)):.2%};"
          f" minus the NNGP's {np.mean(diff):+.2%} ± {diff_se:.2%}")
    cu.check_less(f"the NNGP classifies better than the {name} (paired difference > 4 standard errors)",
                  4 * diff_se, np.mean(diff))

# %% [markdown]
# The linear model misclassifies several times more digits than the NNGP posterior and the
# logistic regression about three times more; the trained finite network comes closest, and is still
# behind, by more than four standard errors of the paired difference at every seed we ran. The
# kernel of a deep network, not the Bayesian formula, makes the difference: with the linear kernel
# the same formula is a poor classifier. On larger problems {cite:t}`lee2018deep` found the NNGP
# competitive with, and often better than, trained finite networks of the same depth; what a trained
# network can gain over its infinite-width kernel is the subject of part 4 (feature learning).
# The MLP's settings are scikit-learn's defaults, not tuned: a tuned network could do better, and
# this comparison says nothing about that.
#
# ## 7. What it means
#
# - A randomly initialised wide network is a draw from a Gaussian process. Its kernel is
#   computed layer by layer from the activation and $(\sigma_w^2, \sigma_b^2)$ alone; the
#   measured covariance of thousands of networks agrees with it within the sampling noise.
# - Finite width shows up as non-Gaussianity, of order $L/n$ (exactly $3[(1+5/n)^L - 1]$ for
#   ReLU), and as a $1/n$ bias in the covariance of networks with two or more hidden layers. Depth makes a network *less*
#   Gaussian at fixed width.
# - Iterating the kernel map explains initialisation: the edge of chaos $\chi_1 = 1$ is where a
#   signal survives many layers and gradients neither vanish nor explode; He initialisation is
#   the critical point of ReLU networks.
# - Conditioning the Gaussian process on data is exact Bayesian inference with an infinitely wide
#   network, and it works on real data.
#
# What this chapter did not touch is *training*. Gradient descent moves the weights; in the next
# chapter we show that for wide networks the weights hardly move, the kernel that governs the
# dynamics (the neural tangent kernel) is as deterministic as the NNGP kernel, and a trained wide
# network is a kernel regression: [Training in the infinite-width limit: the neural tangent
# kernel](02_ntk.ipynb).
#
# ## Exercises
#
# :::{exercise} The edge of chaos for tanh
# :label: ex-nngp-critical
#
# Find the weight variance $\sigma_w^2$ at which a tanh network with bias variance
# $\sigma_b^2 = 0.1$ is critical ($\chi_1 = 1$), using `kernels.chi1` and a root finder, and check
# it with `exercises.check_critical_sigma_w2(sigma_w2)`. Is the critical $\sigma_w^2$ larger or
# smaller than at $\sigma_b^2 = 0.05$, and why does a bias push it that way?
# :::
#
# :::{solution-start} ex-nngp-critical
# :class: dropdown
# :::

# %%
sigma_w2_answer = brentq(lambda s: float(kernels.chi1(activation="tanh", sigma_w2=s, sigma_b2=0.1)) - 1, 1.0, 4.0)
_ = exercises.check_critical_sigma_w2(sigma_w2_answer)

# %% [markdown]
# It is larger than at $\sigma_b^2 = 0.05$ (where we found about 1.76). A bias adds a common
# random offset to every preactivation, which raises the fixed-point variance $q^*$; a larger
# $q^*$ pushes the preactivations into tanh's flat tails, where $\phi'$ is small, so
# $\chi_1 = \sigma_w^2\int Dz\,\phi'(\sqrt{q^*}z)^2$ falls, and a larger $\sigma_w^2$ is needed to bring
# it back to one. Biases are a source of order.
#
# :::{solution-end}
# :::
#
# :::{exercise} Non-Gaussianity of one hidden layer
# :label: ex-nngp-kurtosis
#
# For one hidden layer, $f = b + \sum_{j=1}^n W_j\,\phi(h_j)$ with $h_j \sim \mathcal N(0, q_0)$
# independent, $W_j\sim\mathcal N(0, \sigma_w^2/n)$, $b\sim\mathcal N(0, \sigma_b^2)$.
# 1. Show that the excess kurtosis is exactly $\kappa = C/n$ and find $C$ in terms of moments of
#    $\phi(h)$. Check that it gives 15 for ReLU without bias.
# 2. Compute $C$ for $\phi = \operatorname{erf}$ with $q_0 = 1$, $\sigma_w^2 = 1$, $\sigma_b = 0$
#    (e.g. with `kernels.gaussian_expectation`), and check it with
#    `exercises.check_one_layer_kurtosis(C)`.
# :::
#
# :::{solution-start} ex-nngp-kurtosis
# :class: dropdown
# :::
#
# The terms $t_j = W_j\phi(h_j)$ are i.i.d. with zero mean; cumulants of independent sums add.
# $\operatorname{Var} t = \frac{\sigma_w^2}{n}\mathbb E\phi^2$ and the fourth cumulant is
# $\mathbb E t^4 - 3(\mathbb E t^2)^2 = \frac{\sigma_w^4}{n^2}(3\mathbb E\phi^4 - 3(\mathbb E\phi^2)^2)$,
# using $\mathbb E W^4 = 3(\mathbb E W^2)^2$. The Gaussian bias adds variance but no fourth cumulant. So
# $$
# \kappa = \frac{n\,\kappa_4(t)}{(\sigma_b^2 + \sigma_w^2\mathbb E\phi^2)^2} = \frac1n\cdot
# \frac{3\sigma_w^4\,\operatorname{Var}(\phi^2)}{(\sigma_b^2 + \sigma_w^2\,\mathbb E\phi^2)^2}.
# $$
# For ReLU, $\mathbb E\phi^2 = q_0/2$, $\mathbb E\phi^4 = 3q_0^2/2$, so $\operatorname{Var}\phi^2 = 5q_0^2/4$
# and $C = 3\cdot\frac{5}{4}\cdot 4 = 15$, the $L = 1$ case of §2.

# %%
erf = kernels.activation("erf")
m2 = float(kernels.gaussian_expectation(lambda u: erf(u) ** 2, 1.0))
m4 = float(kernels.gaussian_expectation(lambda u: erf(u) ** 4, 1.0))
C_erf = 3 * (m4 - m2 ** 2) / m2 ** 2
print(f"C for erf (q0 = 1): {C_erf:.4f}")
_ = exercises.check_one_layer_kurtosis(C_erf)

# %% [markdown]
# Bounded activations are more Gaussian than ReLU: erf's $C \approx 1.7$ against ReLU's 15, because
# $\phi^2$ fluctuates less when $\phi$ saturates.
#
# :::{solution-end}
# :::
#
# :::{exercise} ReLU, He initialisation and biases
# :label: ex-nngp-relu-bias
#
# For ReLU with $\sigma_b^2 > 0$, show that the length map has a finite fixed point only for
# $\sigma_w^2 < 2$, find $q^*$, and show that $\chi_1 = \sigma_w^2/2$ whatever $\sigma_b^2$.
# What is then the fate of two different inputs in a very deep ReLU network with
# $\sigma_w^2 < 2$, and what does it say about trainability?
# :::
#
# :::{solution} ex-nngp-relu-bias
# :class: dropdown
#
# $\int Dz\,\mathrm{relu}(\sqrt q z)^2 = q/2$, so $q^\ell = \sigma_b^2 + \frac{\sigma_w^2}{2}q^{\ell-1}$, a linear
# map with slope $\sigma_w^2/2$. It converges iff $\sigma_w^2 < 2$, to $q^* = \sigma_b^2/(1 - \sigma_w^2/2)$.
# Since $\phi'(u) = \Theta(u)$, $\int Dz\,\phi'^2 = 1/2$ for any $q$, so $\chi_1 = \sigma_w^2/2 < 1$: with a
# bias the ReLU network is always in the ordered phase (the map converges to $c^* = 1$), and
# at $\sigma_w^2 = 2$ the variance diverges linearly in depth instead. All inputs then become
# perfectly correlated after about $\xi_c = -1/\ln(\sigma_w^2/2)$ layers, a very deep ReLU
# network with biases has the same output for every input, and gradients carry no information
# about the input; the squared gradients shrink by $\chi_1 = \sigma_w^2/2$ per layer on their way
# to the input ({eq}`eq-nngp-gradient`). Networks much deeper than $\xi_c$ are therefore expected
# to be hard to train unless $\sigma_w^2$ is close enough to 2 that $\xi_c$ exceeds the depth, which
# is what {cite:t}`schoenholz2017deep` found for tanh networks (this chapter does not train any).
# :::
#
# ## Summary
#
# - At initialisation, each layer of a network is Gaussian given the layer below, with an
#   empirical kernel that concentrates as the width grows: the output of an infinitely wide
#   network is a Gaussian process with the NNGP kernel
#   $K^\ell = \sigma_b^2 + \sigma_w^2\,\mathbb E[\phi(u)\phi(v)]$.
# - ReLU (arc-cosine) and erf have closed forms; any activation can be integrated numerically,
#   on panels that follow both the Gaussian's width and the activation's bend, so that the
#   kernel stays accurate at any variance. Measured covariances of $1.6\cdot 10^4$ networks agree with the kernel to
#   the sampling noise, which falls as $M^{-1/2}$ (§4: the mean square error lies on the sampling
#   theory at every $M$ within four standard errors; the fitted exponent is printed, not checked).
# - The non-Gaussianity of a finite network is of order depth/width; for ReLU the excess kurtosis
#   is $3[(1+5/n)^L - 1]$, confirmed at every width, with fitted exponents close to $-1$. The
#   covariance itself is biased by $O(1/n)$ (fitted exponent within four standard errors of 1),
#   except on the diagonal, which for ReLU is unbiased at every width.
# - Iterating the kernel map gives the order-to-chaos transition at $\chi_1 = 1$; He
#   initialisation is critical for ReLU. Measured correlations through 30 layers follow the map,
#   and squared gradients grow by $\chi_1$ per layer towards the input, as measured in all three
#   phases. That networks much deeper than the correlation length do not train is
#   {cite:t}`schoenholz2017deep`'s finding, measured in
#   [Signal propagation and trainable depth](04_trainable_depth.ipynb).
# - Bayesian inference with an infinitely wide network is Gaussian-process regression with the
#   NNGP kernel: calibrated on data from the prior, and about 99 % accurate on the digits, ahead of a
#   linear model, a logistic regression and a trained two-layer MLP on the same splits.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
