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
# # Linear models and gradient flow
#
# What does gradient descent learn, in what order, and how can a model that fits noisy data
# *exactly* still predict well? For a model that is linear in its parameters all three questions
# have exact answers. Linear regression on fixed features is to learning theory what the harmonic
# oscillator is to physics: every later chapter (wide networks and their kernels, lazy versus rich
# training, scaling laws) reduces to it somewhere. We solve it three times over, each time
# checking the solution against an experiment: the dynamics of gradient descent mode by mode, the
# order in which a spectrum of modes is learned, and what happens when there are more parameters
# than data.
#
# **Prerequisites:** eigenvalues and eigenvectors of a symmetric matrix, Gaussian averages, least
# squares. No machine learning beyond that.
# **Runs in:** under a minute on a laptop CPU (`COURSE_SCALE=default`). `COURSE_SCALE=paper` uses
# larger systems and more random draws (several minutes; everything here runs on the CPU, in
# float64, so a GPU does not help).
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/01_foundations/01_linear_models.ipynb)
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
import scipy.stats
import torch

import course_utils as cu
from course_utils.data.synthetic import (gaussian_features, linear_teacher, power_law_spectrum,
                                         random_feature_weights, random_relu_features)
from course_utils.exercises import linear_models as exercises
from course_utils.models.linear import LinearModel, RandomFeatureModel, half_mse, ridge_test_errors
from course_utils.theory import linear as theory

cu.use_house_style()
# The models of this chapter are tiny: the CPU is the fastest device for them, and float64 lets
# theory and experiment agree to many digits (the models here are float64). Chapters with bigger
# models call cu.setup(), which picks a GPU when there is one.
device = cu.setup(device="cpu")

# %% [markdown]
# ## Parameters
#
# Sizes chosen so that the chapter runs in under a minute on a laptop CPU. `COURSE_SCALE=paper`
# averages over more random draws and uses larger systems, where the statistical errors and the
# finite-size corrections discussed below are smaller. The numbers quoted in the text are those of
# the default scale.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        gd_features=10, gd_samples=50, gd_lr_times_top=1.5, gd_steps=1500,  # §1
        sb_features=64, sb_samples=32768, sb_noise=0.3, sb_steps=3000,      # §2
        mn_input_dim=20, mn_samples=50, mn_features=400, mn_steps=5000,     # §3.1
        bo_spikes=5, bo_tail=4000, bo_noise=0.5, bo_samples_x_draws=24_000, # §3.3
        bo_sample_sizes=(20, 40, 80, 160), bo_exact_draws=48_000,
        dd_samples=100, dd_features=400, dd_noise=0.2, dd_draws=150,        # §3.4
        rf_input_dim=40, rf_noise=0.3, rf_draws=100, rf_test=4000,
    ),
    paper=dict(sb_samples=65536, bo_tail=20_000, bo_samples_x_draws=40_000, bo_exact_draws=96_000,
               bo_sample_sizes=(20, 40, 80, 160, 320), dd_draws=1000, rf_draws=500, rf_test=10_000),
)
P

# %% [markdown]
# ## 1. Gradient descent is a set of independent relaxations
#
# **The model.** A linear model on fixed features, $f(x;\theta) = \theta\cdot x$ with
# $x \in \mathbb{R}^D$: the features can be anything computed from the raw input (pixels, random
# projections, the last layer of a frozen network); here they are Gaussian vectors. We fit $N$
# samples $(x_\mu, y_\mu)$ by minimising the squared loss
#
# $$
# L(\theta) = \frac{1}{2N}\sum_{\mu=1}^{N} (\theta\cdot x_\mu - y_\mu)^2
#           = \tfrac12\, \theta^\top \hat\Sigma\, \theta - b\cdot\theta + \text{const},
# \qquad \hat\Sigma = \frac{1}{N}\sum_\mu x_\mu x_\mu^\top,\quad b = \frac1N \sum_\mu y_\mu x_\mu ,
# $$
#
# with full-batch gradient descent, $\theta_{t+1} = \theta_t - \eta\,\nabla L = \theta_t - \eta(\hat\Sigma\theta_t - b)$.
# The loss is a quadratic bowl whose curvatures are the eigenvalues of the empirical feature
# covariance $\hat\Sigma$.
#
# **The theory.** Write $\hat\Sigma = \sum_k \hat\lambda_k u_k u_k^\top$ and expand
# $\theta = \sum_k c_k u_k$. In this basis the update decouples into $D$ scalar recursions,
# $c_k \leftarrow (1 - \eta\hat\lambda_k)\,c_k + \eta\, b_k$, each with fixed point
# $c_k^* = b_k/\hat\lambda_k$ (the least-squares solution $\hat\theta$). The distance to it
# shrinks by the same factor at every step:
#
# $$
# c_k(t) - c_k^* = (1-\eta\hat\lambda_k)^t\,\bigl(c_k(0) - c_k^*\bigr).
# $$ (eq-linear-gd-modes)
#
# Every eigen-mode relaxes independently, at its own rate. Mode $k$ converges only if
# $|1-\eta\hat\lambda_k| < 1$, so the largest curvature sets the largest stable learning rate,
# $\eta < 2/\hat\lambda_{\max}$; for $1 < \eta\hat\lambda_k < 2$ the mode overshoots and
# approaches its target with alternating sign. Taking $\eta \to 0$ at fixed *time*
# $\tau = \eta t$ gives **gradient flow**, $\dot\theta = -\nabla L$, whose modes relax as
# $e^{-\hat\lambda_k \tau}$. Since
# $(1-\eta\lambda)^t = \exp[t\ln(1-\eta\lambda)] = e^{-\eta\lambda t}\,(1 - \tfrac12\eta^2\lambda^2 t + \dots)$,
# the two differ by at most about $\eta\lambda/2e$ (at $t \approx 1/\eta\lambda$): gradient flow
# is the small-$\eta\lambda$ limit of gradient descent, mode by mode.
#
# **The experiment.** $D=10$ Gaussian features with population variances $\lambda_i = 2^{-(i-1)}$,
# labels from a noisy linear teacher, $N = 50$ samples, and a learning rate
# $\eta = 1.5/\hat\lambda_{\max}$, large enough that the stiffest mode oscillates. We train with
# the course's training loop and record, at every step, the distance of each mode from its target.

# %%
rng = np.random.default_rng(cu.seed(1))
spectrum = 2.0 ** -np.arange(P.gd_features)
w_star = rng.standard_normal(P.gd_features)
X = gaussian_features(P.gd_samples, spectrum, rng)
y = linear_teacher(X, w_star, noise=0.1, rng=rng)

lam_hat, U = theory.empirical_eigenbasis(X)   # eigenvalues (largest first) and eigenvectors of Σ̂
theta_hat = theory.min_norm_solution(X, y)    # the least-squares fit every mode relaxes to
lr = P.gd_lr_times_top / lam_hat[0]
print(f"empirical eigenvalues: {np.array2string(lam_hat, precision=3)}")
print(f"learning rate η = {lr:.3f}, so ηλ̂ runs from {lr * lam_hat[0]:.2f} down to {lr * lam_hat[-1]:.4f}")

# %%
model = LinearModel(P.gd_features)  # θ = 0


def mode_distance(k):
    """u_k·(θ − θ̂): how far mode k still is from its fixed point."""
    return lambda m: U[:, k] @ (m.weights() - theta_hat)


history = cu.train(model, half_mse, torch.from_numpy(X), torch.from_numpy(y),
                   steps=P.gd_steps, lr=lr, record_steps=range(P.gd_steps + 1),
                   metrics={f"mode {k}": mode_distance(k) for k in range(P.gd_features)},
                   progress=False)  # a second or two: no progress bar needed
t = history["step"]
# the fraction of each mode's initial distance that is left, measured and predicted
initial_distance = U.T @ (np.zeros(P.gd_features) - theta_hat)  # c_k(0) − c_k*, from θ = 0
measured = np.stack([history[f"mode {k}"] for k in range(P.gd_features)], axis=1) / initial_distance
predicted_gd = theory.gd_mode_factor(lam_hat, lr, t)
predicted_gf = theory.gradient_flow_mode_factor(lam_hat, lr * t)

# %% [markdown]
# **The comparison.** Left: the distance of four modes from their targets (absolute value, log
# scale): markers are the training run, solid lines the exact discrete-time solution
# $(1-\eta\hat\lambda_k)^t$, dashed lines gradient flow $e^{-\eta\hat\lambda_k t}$. Right: the
# largest gap between gradient descent and gradient flow over the whole run, for all ten modes,
# against $\eta\hat\lambda_k$.

# %%
x_grid = np.geomspace(1e-3, 1.6, 200)
steps_long = np.arange(20_000)
largest_gap_theory = np.abs(theory.gd_mode_factor(x_grid, 1.0, steps_long)
                            - theory.gradient_flow_mode_factor(x_grid, steps_long)).max(axis=0)
largest_gap_measured = np.abs(measured - predicted_gf).max(axis=0)

# %% tags=["hide-input"]
fig, (ax1, ax2) = cu.panels(2, panel_height=3.6)
for j, k in enumerate([0, 2, 5, 9]):
    color = cu.plotting.PALETTE[j]
    ax1.semilogy(t, np.abs(predicted_gd[:, k]), "-", color=color,
                 label=f"$\\eta\\hat\\lambda_{{{k + 1}}} = {lr * lam_hat[k]:.2g}$")
    ax1.semilogy(t, predicted_gf[:, k], "--", color=color)
    ax1.semilogy(t[:300:6], np.abs(measured[:300:6, k]), "o", color=color, markerfacecolor="none")
ax1.plot([], [], "k-", label="gradient descent, theory")
ax1.plot([], [], "k--", label="gradient flow, theory")
ax1.plot([], [], "ko", markerfacecolor="none", label="training run")
ax1.set_ylim(1e-12, 2)
ax1.set_xlim(0, 300)
ax1.set_xlabel("gradient steps $t$")
ax1.set_ylabel(r"$|c_k(t) - c_k^*|\, /\, |c_k(0) - c_k^*|$")
ax1.set_title("each mode relaxes at its own rate")
ax1.legend(fontsize=7, loc="lower right")

ax2.loglog(x_grid, largest_gap_theory, "-", label=r"theory: $\max_t |(1-x)^t - e^{-xt}|$")
ax2.loglog(x_grid, x_grid / (2 * np.e), ":", color="gray", label=r"small-$x$ limit $x/2e$")
ax2.loglog(lr * lam_hat, largest_gap_measured, "o", markerfacecolor="none", label="training run, 10 modes")
ax2.set_xlabel(r"$x = \eta\hat\lambda_k$ (dimensionless)")
ax2.set_ylabel("largest gap, GD vs gradient flow")
ax2.set_title("gradient flow: the small-$\\eta\\lambda$ limit")
ax2.legend(fontsize=8, loc="upper left")
plt.show()

# %% [markdown]
# The check: the training run and the closed form agree to floating-point precision, mode by mode
# and step by step, and the gap to gradient flow is the predicted one.

# %%
cu.check_close("every mode at every step", measured, predicted_gd, atol=1e-9, mode="every", verbose=False)
print(f"✓ every mode at every step: training = (1 − ηλ̂)^t to within 1e-9 ({measured.size} numbers)")
cu.check_close("final weights vs closed form θ_t", model.weights(),
               theory.gd_solution(X, y, lr, [P.gd_steps])[0], rtol=1e-9, verbose=False)
print("✓ final weights: training = closed form to a relative 1e-9")
slow = lr * lam_hat < 0.05
gap_error = cu.check_close(f"largest GD–flow gap / (ηλ/2e), the {slow.sum()} modes with ηλ < 0.05",
                           largest_gap_measured[slow] / (lr * lam_hat[slow] / (2 * np.e)), np.ones(slow.sum()),
                           rtol=0.05, mode="every")

# %% [markdown]
# **What it means.** Gradient descent on a quadratic loss is not one process but $D$
# independent exponential relaxations, one per eigen-direction of the feature covariance, with
# relaxation times $1/(\eta\hat\lambda_k)$. The stiffest direction limits the step size; the
# softest direction limits how long training takes. Their ratio, the condition number
# $\hat\lambda_{\max}/\hat\lambda_{\min}$, is (up to a logarithm) the number of steps that training
# needs. Discrete
# steps matter only for modes with $\eta\hat\lambda_k$ of order one; for all others gradient flow is
# an excellent description, which is why the rest of the course can use continuous time. (In a
# deep *linear* network the same modes are still learned one by one, but each along a sigmoid in
# time rather than an exponential {cite:p}`saxe2014exact`:
# [Layerwise dynamics](../04_feature_learning/01_layerwise_dynamics.ipynb) derives it.)
#
# ## 2. Spectral bias: the large directions are learned first
#
# **The theory.** Now let the features be drawn from a population with covariance
# $\Sigma = \mathrm{diag}(\lambda_1, \dots, \lambda_D)$ and the labels from a teacher,
# $y = w^*\cdot x + \sigma\xi$ with Gaussian noise $\xi$. The test error of any weight vector is
# a *sum over modes*:
#
# $$
# E(\theta) = \mathbb{E}_{x,y}\,(y - \theta\cdot x)^2
#           = \sigma^2 + \sum_{i=1}^{D} \lambda_i\,(\theta_i - w_i^*)^2 .
# $$ (eq-linear-test-error)
#
# With many more samples than features ($N \gg D$) the empirical covariance is close to the
# population one, $\hat\Sigma \approx \Sigma$, so mode $i$ relaxes at rate $\eta\lambda_i$ towards
# $w^*_i$ plus the noise it picks up from the labels (of variance $\sigma^2/(N\lambda_i)$, as for any
# least-squares coefficient). Starting from $\theta = 0$,
#
# $$
# E(t) = \sigma^2 + \sum_i \Bigl[\underbrace{\lambda_i w_i^{*2}\,(1-\eta\lambda_i)^{2t}}_{\text{not yet learned}}
#        + \underbrace{\tfrac{\sigma^2}{N}\bigl(1-(1-\eta\lambda_i)^t\bigr)^2}_{\text{noise already learned}}\Bigr].
# $$ (eq-linear-spectral-bias)
#
# Mode $i$ is half learned after $t_i \approx \ln 2/(\eta\lambda_i)$ steps. With a spread-out
# spectrum the modes are therefore learned one after another, in order of decreasing
# eigenvalue, each at a time proportional to $1/\lambda_i$: this is **spectral bias**. It is the
# linear-model version of the observation that neural networks learn smooth, large-scale
# structure first {cite:p}`rahaman2019spectral`, and we will meet it again through the
# eigenvalues of the neural tangent kernel. It also explains why stopping early regularises:
# at time $t$ the modes with $\lambda_i \lesssim 1/(\eta t)$ (and the noise in them) have not been
# learned yet, much as with a ridge penalty of strength $1/(\eta t)$
# {cite:p}`advani2020high`.
#
# **The experiment.** $D = 64$ features with a power-law spectrum $\lambda_i = 1/i$, a teacher
# with $w^*_i$ all equal (normalised so that $\sum_i \lambda_i w_i^{*2} = 1$), noise $\sigma = 0.3$,
# $N = 32\,768$ samples, $\eta = 1$. We record the exact test error and the learned fraction
# $\theta_i/w^*_i$ of four modes on a logarithmic grid of times.

# %%
rng = np.random.default_rng(cu.seed(2))
spectrum = power_law_spectrum(P.sb_features, exponent=1.0)
w_star = np.ones(P.sb_features) / np.sqrt(spectrum.sum())
X = gaussian_features(P.sb_samples, spectrum, rng)
y = linear_teacher(X, w_star, P.sb_noise, rng)
shown_modes = [0, 3, 15, 63]

model = LinearModel(P.sb_features)
metrics = {"test error": lambda m: theory.population_test_error(m.weights(), w_star, spectrum, P.sb_noise)}
metrics.update({f"learned {i}": (lambda m, i=i: m.weights()[i] / w_star[i]) for i in shown_modes})
history = cu.train(model, half_mse, torch.from_numpy(X), torch.from_numpy(y), steps=P.sb_steps,
                   lr=1.0, record_steps=cu.log_spaced_steps(P.sb_steps, 40), metrics=metrics,
                   progress=False)  # a second or two: no progress bar needed
t = history["step"]
modes_theory = theory.gd_test_error_modes(spectrum, w_star, P.sb_noise, P.sb_samples, 1.0, t)
error_theory = P.sb_noise**2 + modes_theory.sum(axis=1)
learned_theory = 1 - theory.gd_mode_factor(spectrum[shown_modes], 1.0, t)
learned_measured = np.stack([history[f"learned {i}"] for i in shown_modes], axis=1)

# %% tags=["hide-input"]
t_fine = np.unique(np.geomspace(1, P.sb_steps, 300).astype(int))
shown = t > 0  # t = 0 has no place on a logarithmic axis
fig, (ax1, ax2) = cu.panels(2, panel_height=3.6)
for j, i in enumerate(shown_modes):
    learned = 1 - theory.gd_mode_factor(spectrum[[i]], 1.0, t_fine)[:, 0]
    cu.plotting.theory_and_experiment(ax1, t_fine, learned, learned_measured[shown, j], x_experiment=t[shown],
                                      label=f"mode {i + 1}, $\\lambda = 1/{i + 1}$:", color=cu.plotting.PALETTE[j])
ax1.set_xscale("log")
ax1.set_xlabel("gradient steps $t$")
ax1.set_ylabel(r"fraction learned $\theta_i / w^*_i$")
ax1.set_title("large eigenvalues are learned first")
handles = ax1.get_legend_handles_labels()[0]   # (theory line, experiment markers) of each mode
fig.legend([tuple(handles[2 * j:2 * j + 2]) for j in range(len(shown_modes))]
           + [plt.Line2D([], [], color="k"), plt.Line2D([], [], color="k", marker="o", mfc="none", ls="none")],
           [f"mode {i + 1}, $\\lambda = 1/{i + 1}$" for i in shown_modes] + ["theory", "experiment"],
           loc="outside lower center", ncol=3, fontsize=8)

full_theory = P.sb_noise**2 + theory.gd_test_error_modes(
    spectrum, w_star, P.sb_noise, P.sb_samples, 1.0, t_fine).sum(axis=1)
cu.plotting.theory_and_experiment(ax2, t_fine, full_theory, history["test error"][shown],
                                  x_experiment=t[shown], label="test error")
ax2.axhline(P.sb_noise**2 * (1 + P.sb_features / P.sb_samples), color="gray", ls="--",
            label=r"all modes learned: $\sigma^2(1 + D/N)$")
ax2.set_xscale("log")
ax2.set_yscale("log")
ax2.set_xlabel("gradient steps $t$")
ax2.set_ylabel("test error $E(t)$")
ax2.set_title("the test error is a sum over modes")
ax2.legend(fontsize=8)
plt.show()

# %%
learned_error = cu.check_close("learned fraction of 4 modes over time", learned_measured, learned_theory, rtol=0.04)
test_error_error = cu.check_close("test error over time", history["test error"], error_theory, rtol=0.01)

# %% [markdown]
# The theory lines are the $N \to \infty$ prediction, made before seeing the data; the markers
# are one training run on one sample. The test error agrees to better than a percent, the
# learned fractions to a few percent. What is left is finite-$N$, and the mean-field picture of
# §3.2 below says how large it should be: from the point of view of mode $i$, everything it
# cannot explain acts as noise, and early in training that is mostly the *other modes' unlearned
# signal*, of variance $E(t)$, not just the label noise $\sigma^2$. The learned fraction of mode $i$
# therefore fluctuates by about $\sqrt{E(t)/(N\lambda_i w_i^{*2})}$, a few percent for the weakest mode
# shown here, and more at smaller $N$ (try `sb_samples=4096`). At late times the error settles
# not at $\sigma^2$ but at $\sigma^2(1 + D/N)$: every mode has also learned its share of the label
# noise. (At finite $N$ the exact late-time error is $\sigma^2\bigl(1 + D/(N-D-1)\bigr)$; §3.2 explains
# the $D/N$ and §3.4 the $-1$.)
#
# ## 3. More parameters than data
#
# So far $N > D$: the loss has a unique minimum. Modern models usually have more parameters than
# training points, and then the loss has a whole affine subspace of minima, all with zero
# training error. Which one does gradient descent pick, and how well does it predict?
#
# ### 3.1 Gradient descent finds the minimum-norm interpolator
#
# Take $P > N$ features $\phi(x) \in \mathbb{R}^P$ and stack them into the $N\times P$ matrix
# $\Phi$. (Notation: from here on $P$ is the number of features a model uses, its number of
# parameters; in §1–2 the model used all $D$ coordinates of the data, $P = D$. In §3.4 the two
# part: the model sees $P$ of the $D$ features.) The gradient, $\nabla L = \Phi^\top(\Phi\theta - y)/N$, always lies in the row space of
# $\Phi$ (the span of the $N$ training feature vectors). Starting from $\theta_0 = 0$, gradient
# descent therefore never leaves that $N$-dimensional subspace, and the modes of the
# $P - N$ directions with $\hat\lambda_k = 0$ stay at zero forever. Among all interpolators, exactly one
# lies in the row space: the one of smallest norm,
#
# $$
# \theta_{\rm mn} = \Phi^\top(\Phi\Phi^\top)^{-1} y = \arg\min\{\|\theta\| : \Phi\theta = y\}.
# $$ (eq-linear-min-norm)
#
# So gradient descent from zero converges to $\theta_{\rm mn}$, with the mode-by-mode dynamics of
# §1 restricted to the $N$ non-zero eigenvalues. Nobody asked for a small norm: the algorithm
# chose it. This **implicit bias** is the simplest example of a theme that runs through the
# course.
#
# **The experiment.** A random-feature model {cite:p}`rahimi2007random`: inputs
# $x \in \mathbb{R}^{20}$, a frozen random first layer, $P = 400$ ReLU features
# $\phi_a(x) = \max(0, f_a\cdot x/\sqrt{d})$ and a trained readout $\theta$ (a two-layer network whose
# first layer never learns), fitted to $N = 50$ noisy samples of a linear teacher.

# %%
rng = np.random.default_rng(cu.seed(3))
d, N = P.mn_input_dim, P.mn_samples
beta = rng.standard_normal(d) / np.sqrt(d)
X = gaussian_features(N, np.ones(d), rng)
y = linear_teacher(X, beta, noise=0.2, rng=rng)
model = RandomFeatureModel(random_feature_weights(d, P.mn_features, rng))  # readout θ = 0
Phi = random_relu_features(X, model.F.numpy())

theta_mn = theory.min_norm_solution(Phi, y)
lam_hat, _ = theory.empirical_eigenbasis(Phi)
lr = 1.0 / lam_hat[0]
print(f"{P.mn_features} features, {N} samples: {np.sum(lam_hat > 1e-10 * lam_hat[0])} non-zero eigenvalues; "
      f"condition number of the non-zero part {lam_hat[0] / lam_hat[N - 1]:.0f}")

history = cu.train(model, half_mse, torch.from_numpy(X), torch.from_numpy(y), steps=P.mn_steps, lr=lr,
                   record_steps=cu.log_spaced_steps(P.mn_steps, 30),
                   metrics={"distance": lambda m: np.linalg.norm(m.weights() - theta_mn) / np.linalg.norm(theta_mn)},
                   progress=False)  # a second or two: no progress bar needed
t = history["step"]
theta_t = theory.gd_solution(Phi, y, lr, t)                       # the closed form of §1
loss_theory = 0.5 * np.mean((theta_t @ Phi.T - y) ** 2, axis=1)
distance_theory = np.linalg.norm(theta_t - theta_mn, axis=1) / np.linalg.norm(theta_mn)

# %% tags=["hide-input"]
fig, ax = plt.subplots()
shown = t > 0
cu.plotting.theory_and_experiment(ax, t[shown], loss_theory[shown], history["loss"][shown], label="training loss")
cu.plotting.theory_and_experiment(ax, t[shown], distance_theory[shown], history["distance"][shown],
                                  label=r"$\|\theta_t - \theta_{\rm mn}\| / \|\theta_{\rm mn}\|$")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("gradient steps $t$")
ax.set_ylabel("dimensionless")
ax.set_title(r"gradient descent from $\theta = 0$ finds $\theta_{\rm mn}$")
ax.legend()
plt.show()

# %%
# every recorded step to a relative 1e-6, down to a floating-point floor: residuals and weights carry an
# absolute rounding error of order 1e-14, so a loss of 1e-17 (reached at some seeds) is known only to
# about √(2·1e-17)·1e-14 ≈ 5e-23 and a relative distance of 1e-8 only to about 1e-14 (atol: 20× that)
cu.check_close("training loss over time", history["loss"], loss_theory, rtol=1e-6, atol=1e-21, mode="every",
               verbose=False)
cu.check_close("distance to θ_mn over time", history["distance"], distance_theory, rtol=1e-6, atol=2e-13,
               mode="every", verbose=False)
print("✓ training loss and distance to θ_mn: training = closed form to a relative 1e-6 at every recorded step "
      "(above the rounding floor)")
cu.check_less("final distance to the minimum-norm interpolator", history["distance"][-1], 1e-4)
loss_ratio = cu.check_less("final training loss / initial", history["loss"][-1] / history["loss"][0], 1e-8)

# %% [markdown]
# The model interpolates (its training loss goes to zero) and lands on $\theta_{\rm mn}$; the slowest
# of the $N$ non-zero modes sets how long that takes. Fitting noisy labels exactly sounds like the
# textbook definition of overfitting. Whether it hurts depends on where the fitted noise goes,
# which is what the rest of this chapter computes.
#
# ### 3.2 The theory: a self-consistent ridge
#
# We want the test error of ridge regression,
# $\hat\theta = \arg\min_\theta\, \frac{1}{2N}\|X\theta - y\|^2 + \frac{\rho}{2}\|\theta\|^2
#  = (\hat\Sigma + \rho)^{-1} b$, for Gaussian features $x \sim \mathcal N(0,\Sigma)$ and the noisy
# teacher of §2, with $N$ and the number of features $P$ both large; letting $\rho \to 0$ gives the
# minimum-norm interpolator ({eq}`eq-linear-min-norm`) when $P > N$ and least squares when $P < N$. Everything hinges on the random
# matrix $\rho(\hat\Sigma + \rho)^{-1}$: the bias is $\hat\theta - w^* = -\rho(\hat\Sigma+\rho)^{-1}w^*$
# plus noise. Here is a derivation in two steps that a physicist will recognise as a mean-field
# (cavity) argument; the same results follow rigorously from random-matrix theory
# {cite:p}`hastie2022surprises,bach2024high` and from the replica method
# {cite:p}`canatar2021spectral`.
#
# **Step 1: a finite sample acts as an extra ridge.** Let $G = (\hat\Sigma + \rho)^{-1}$, so
# $\rho G = 1 - G\hat\Sigma = 1 - \frac1N\sum_\mu G x_\mu x_\mu^\top$. Remove sample $\mu$ from
# $\hat\Sigma$ to get $G_{-\mu}$, which is independent of $x_\mu$; the Sherman–Morrison formula gives
# $G x_\mu = G_{-\mu}x_\mu / (1 + x_\mu^\top G_{-\mu} x_\mu/N)$. The scalar in the denominator is a sum
# of many independent terms, so it concentrates on its mean, $\delta = \mathrm{tr}(\Sigma G)/N$,
# the same for every $\mu$. Averaging $x_\mu x_\mu^\top$ to $\Sigma$ then gives
# $\rho G \approx 1 - G\Sigma/(1+\delta)$, that is
#
# $$
# \rho\,(\hat\Sigma + \rho)^{-1} \approx \kappa\,(\Sigma + \kappa)^{-1}, \qquad
# \kappa = \rho + \frac{\kappa}{N}\sum_{i}\frac{\lambda_i}{\lambda_i + \kappa},
# $$ (eq-linear-kappa)
#
# where the equation for $\kappa = \rho(1+\delta)$ is the self-consistency condition for $\delta$.
# The sample covariance is thus replaced by the population one, at the price of a
# *renormalised* ridge $\kappa \ge \rho$. Mode $i$ is learned to the fraction
# $\lambda_i/(\lambda_i + \kappa)$: modes far above $\kappa$ are learned, modes far below are not.
# Their count, $n_{\rm eff}(\kappa) = \sum_i \lambda_i/(\lambda_i+\kappa)$, is the number of
# effective parameters, and the equation says $\kappa = \rho/(1 - n_{\rm eff}/N)$. Without ridge and
# with $P > N$ it says $n_{\rm eff}(\kappa) = N$: *$N$ samples pin down $N$ modes*, and the minimum-norm
# rule sets the rest to (nearly) zero.
#
# **Step 2: every mode sees the others' errors as noise.** Mode $i$ of the estimate is its shrunk
# target plus noise, $\hat\theta_i \approx \frac{\lambda_i}{\lambda_i+\kappa}\,(w^*_i + \xi_i)$. From
# the point of view of mode $i$, everything it cannot explain is noise: the label noise *and* the
# errors of all the other modes, whose total variance on a fresh point is the test error $E$
# itself. A least-squares coefficient of a feature of variance $\lambda_i$ fitted on $N$ samples
# with noise variance $E$ has variance $E/(N\lambda_i)$, so $\langle\xi_i^2\rangle = E/(N\lambda_i)$.
# Adding up the modes, $E = \sigma^2 + \sum_i\lambda_i\langle(\hat\theta_i - w_i^*)^2\rangle$,
# closes the loop:
#
# $$
# E = \sigma^2 + \underbrace{\sum_i \frac{\kappa^2\lambda_i w_i^{*2}}{(\lambda_i+\kappa)^2}}_{B_0}
#   + \gamma E
# \quad\Longrightarrow\quad
# E = \frac{\sigma^2 + B_0}{1-\gamma}, \qquad
# \gamma = \frac1N\sum_i \frac{\lambda_i^2}{(\lambda_i+\kappa)^2}.
# $$ (eq-linear-error-feedback)
#
# The factor $1/(1-\gamma)$ is an **error feedback**: the errors of the fit act as noise that
# causes more error. It is what makes overfitting dangerous. Two limits check the formula.
# With $N \gg P$, $\kappa \to \rho$ and $\gamma \to 0$: the population answer. Without ridge and with
# $P < N$, $\kappa = 0$ and $\gamma = P/N$, so $E = \sigma^2 N/(N-P) \approx \sigma^2(1+P/N)$, the
# late-time floor of §2 (where $P = D$). The formulas ({eq}`eq-linear-kappa` and
# {eq}`eq-linear-error-feedback`) are implemented in `course_utils.theory.linear.ridge_risk`;
# they are exact as $N, P \to \infty$ at fixed ratio and carry $O(1/N)$ corrections at finite size
# (§3.3 computes one).
#
# ### 3.3 Benign, tempered and malignant overfitting
#
# Where does an interpolator put the noise? It must fit $N$ noise values exactly, and it does so
# with the directions the signal does not need: the *tail* of the spectrum. Say the tail has
# total variance $T = \sum_{\rm tail}\lambda_i$ spread over many comparable directions. Then the tail
# part of each training point is a long random vector of squared length $\approx T$, nearly
# orthogonal to the others, and the minimum-norm way to fit noise $\varepsilon_\mu$ with it is
# $\theta_{\rm tail} = \sum_\mu x_{\mu,\rm tail}\,\varepsilon_\mu/T$. Its cost at test time is
#
# $$
# \theta_{\rm tail}^\top\Sigma\,\theta_{\rm tail} \approx \frac{\|\varepsilon\|^2}{T^2}\sum_{\rm tail}\lambda_i^2
# \approx \sigma^2\,\frac{N}{R}, \qquad R = \frac{\bigl(\sum_{\rm tail}\lambda_i\bigr)^2}{\sum_{\rm tail}\lambda_i^2},
# $$ (eq-linear-tail-cost)
#
# where $R$ counts the effective number of tail directions. If $R \gg N$ the noise is spread so
# thinly that it costs almost nothing: overfitting is **benign** {cite:p}`bartlett2020benign`.
# If the tail's variance sits in a few directions, the noise concentrates there and the test
# error stays well above the noise floor, however many samples we collect: **tempered**
# overfitting, in the taxonomy of {cite:t}`mallinar2022benign` (and **catastrophic**, with an
# unbounded error, at the peak of §3.4).
#
# Bartlett et al. made "many small, nearly equal" precise with two effective ranks of the tail
# beyond the first $k$ eigenvalues, $r_k = \sum_{i>k}\lambda_i/\lambda_{k+1}$ and
# $R_k = (\sum_{i>k}\lambda_i)^2/\sum_{i>k}\lambda_i^2$: with $k^*$ the first $k$ for which $r_k \ge N$,
# the variance of the interpolator is of order $\sigma^2\,(k^*/N + N/R_{k^*})$, and overfitting is benign
# when both ratios are small.
#
# Both failures so far are about the *noise*. Interpolation can also fail because of where the
# *target* is. Mode $i$ is learned only to the fraction $\lambda_i/(\lambda_i + \kappa)$ (§3.2), and an
# interpolator with a wide tail has a sizeable $\kappa$ (about $1/(N - k^*)$ here, the tail acting as a
# ridge). A target that lives in the weak directions, $\lambda_i \ll \kappa$, is then never learned,
# although the training labels are fitted exactly: the test error stays at the target's whole
# variance. We call this **malignant** overfitting: the same flat tail that makes fitting the
# noise harmless makes the interpolator blind to a signal that sits in the tail.
#
# **The experiment.** Three problems. Two spectra with the same head, 5 directions of variance 1
# that carry the whole signal ($\|w^*\|^2 = 1$), and tails of the same total variance 1 spread
# over 4000 directions (at the default scale): a *flat* tail, $\lambda = 1/4000$ each, and a
# *power-law* tail, $\lambda_{5+j} \propto j^{-2}$. The third problem has the flat spectrum again,
# but the target is in the tail: $w^*_i = 1$ on every tail direction, the same signal variance
# $\sum_i\lambda_i w_i^{*2} = 1$, and nothing in the head. Noise $\sigma = 0.5$. For sample sizes $N$ from
# 20 to 160 we fit the minimum-norm interpolator to many random training sets and average its
# exact test error.

# %%
s, tail = P.bo_spikes, P.bo_tail
flat_spectrum = np.r_[np.ones(s), np.full(tail, 1.0 / tail)]
power_tail = power_law_spectrum(tail, 2.0)
head_target = np.r_[np.ones(s) / np.sqrt(s), np.zeros(tail)]
tail_target = np.r_[np.zeros(s), np.ones(tail)]          # Σ_i λ_i w_i² = 1 too, all of it in the tail
problems = {
    "flat tail (benign)": (flat_spectrum, head_target),
    "power-law tail (tempered)": (np.r_[np.ones(s), power_tail / power_tail.sum()], head_target),
    "target in the tail (malignant)": (flat_spectrum, tail_target),
}
# the malignant error is of order 1 and fluctuates little from draw to draw: a quarter of the draws suffice
draws_per_N = {name: P.bo_samples_x_draws // (4 if "malignant" in name else 1) for name in problems}
noise = P.bo_noise
sample_sizes = np.array(P.bo_sample_sizes)
n_grid = np.unique(np.geomspace(10, 4 * sample_sizes[-1], 60).astype(int))

rng = np.random.default_rng(cu.seed(4))
benign = {}
for name, (lam, w_star) in problems.items():
    # fewer draws at larger N, where one draw already averages over more samples
    errors = [ridge_test_errors(lam, w_star, noise, n, rng, draws=draws_per_N[name] // n) - noise**2
              for n in sample_sizes]
    benign[name] = dict(
        measured=np.array([e.mean() for e in errors]),
        sem=np.array([e.std(ddof=1) / np.sqrt(e.size) for e in errors]),
        theory=np.array([theory.ridge_risk(lam, w_star, noise, n).excess for n in sample_sizes]),
        theory_fine=np.array([theory.ridge_risk(lam, w_star, noise, n).excess for n in n_grid]),
    )
for name in list(problems)[:2]:
    lam = problems[name][0]
    n = sample_sizes[-1]
    k_star = next(k for k in range(lam.size) if theory.effective_ranks(lam, k)[0] >= n)
    R = theory.effective_ranks(lam, k_star)[1]
    print(f"{name:26s} at N = {n}: k* = {k_star:3d}, k*/N = {k_star / n:.2f}, N/R_k* = {n / R:.3f}")
kappa_tail = theory.effective_ridge(flat_spectrum, int(sample_sizes[-1]), 0.0)
print(f"flat spectrum at N = {sample_sizes[-1]}: κ = {kappa_tail:.4f}, so a tail direction (λ = {1 / tail:.5f})\n"
      f"   is learned to the fraction λ/(λ + κ) = {1 / tail / (1 / tail + kappa_tail):.3f}")

# %% tags=["hide-input"]
fig, ax = plt.subplots()
for j, (name, res) in enumerate(benign.items()):
    color = cu.plotting.PALETTE[j]
    ax.plot(n_grid, res["theory_fine"], "-", color=color, label=f"{name}, theory")
    ax.errorbar(sample_sizes, res["measured"], yerr=res["sem"], fmt="o", color=color, mfc="none",
                label=f"{name}, experiment")
ax.axhline(noise**2, color="gray", ls=":", label=r"$\sigma^2$, the label noise itself")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("number of training samples $N$")
ax.set_ylabel(r"excess test error $E - \sigma^2$")
ax.set_title("interpolating noisy labels: where the noise and the target sit")
fig.legend(loc="outside lower center", ncol=2, fontsize=8)
plt.show()

# %% [markdown]
# **The comparison, and a finite-size effect.** The self-consistent theory is exact only as $N$
# and the number of directions in every part of the spectrum go to infinity together. Here the
# head has only 5 directions, and at $N = 20$ the measured error of the flat tail lies above the
# line (the ratios measured / theory, with their standard errors, are printed below). Is that a bug, a statistical fluke, or physics? For the flat tail we can compute the
# exact expectation at finite $N$ and answer it. Because $\Sigma_{\rm tail} \propto I$, the interpolator
# depends on the tail only through the $N\times N$ Gram matrix $K = X_{\rm tail}X_{\rm tail}^\top$, a
# Wishart matrix, and as the tail widens ($T \to \infty$ directions at fixed $N$), $K \to (\sum_{\rm tail}\lambda_i)\,I$:
# **a flat tail is exactly a ridge** on the head, of strength $\sum_{\rm tail}\lambda_i = 1$ (in the
# normalisation of §3.2, $\rho = 1/N$). `theory.flat_tail_min_norm_errors` draws $K$ exactly (Bartlett's
# decomposition: $N^2/2$ numbers instead of $N\times T$) and averages the label noise in closed form,
# so it gives the exact expectation at finite $N$ and $T$ with a small error, and the $T \to \infty$
# limit (the head under a ridge) as well.
#
# Where does the excess come from? From the head. With only $s = 5$ head directions, the
# inverse of their sample covariance is biased: for least squares on $s$ Gaussian features,
# $\mathbb E[(X^\top X)^{-1}] = I/(N - s - 1)$ exactly, while the self-consistent theory, a theory of
# many directions, gives $I/(N - s)$. It is the same $-1$ as in the exact double-descent formula
# of §3.4 ({eq}`eq-linear-bhx`), a relative correction of about $1/N$ to the noise that the head
# fits. The second table isolates it: the head alone under its ridge (the $T \to \infty$ limit,
# which also drops the tail's own cost of the noise, $\sigma^2 N/R$ of {eq}`eq-linear-tail-cost`, so
# its numbers are smaller), exact against the self-consistent theory of the same problem. Their
# relative difference times $N$ stays close to one, as for $N/(N - s - 1)$ (the $-1$ argument
# leaves out the bias and the ridge, which is why the two columns part at small $N$). In the full
# problem the head's part of the error is nearly all of it at $N = 20$ and about half of it at
# $N = 160$ (the rest is the tail's cost of the noise, which the theory gets right), so the full
# problem's relative excess over the theory is about the head's at $N = 20$ and about half of it
# at $N = 160$.

# %%
flat_name = "flat tail (benign)"
rng_exact = np.random.default_rng(cu.seed(7))
w_head = head_target[:s]


def exact_flat_excess(tail_dim, n, draws):
    """Exact E[test error] − σ² of the flat-tail problem at N = n by Monte Carlo over draws of the Gram
    matrices (label noise averaged exactly), with its standard error."""
    e = theory.flat_tail_min_norm_errors(np.ones(s), w_head, tail_dim, 1.0, noise, int(n), rng_exact,
                                         draws=draws) - noise**2
    return e.mean(), e.std(ddof=1) / np.sqrt(e.size)


exact_T = np.array([exact_flat_excess(tail, n, P.bo_exact_draws // n) for n in sample_sizes])  # (N, [mean, se])
# T → ∞, the head under a ridge: s × s matrices only, so 100 times the draws (its correction is small at large N)
exact_inf = np.array([exact_flat_excess(np.inf, n, 100 * P.bo_exact_draws // n) for n in sample_sizes])
theory_head = np.array([theory.ridge_risk(np.ones(s), w_head, noise, n, ridge=1.0 / n).excess for n in sample_sizes])
res = benign[flat_name]
head_correction = exact_inf[:, 0] / theory_head - 1
print(f"flat tail, excess test error:     theory | exact (T = {tail}) | experiment")
for i, n in enumerate(sample_sizes):
    print(f"   N = {n:3d}:                    {res['theory'][i]:.5f} | {exact_T[i, 0]:.5f} ± {exact_T[i, 1]:.5f} "
          f"| {res['measured'][i]:.5f} ± {res['sem'][i]:.5f}")
print("the head under a ridge (T → ∞):  theory | exact          | N·(exact/theory − 1) | N/(N − s − 1)")
for i, n in enumerate(sample_sizes):
    print(f"   N = {n:3d}:                    {theory_head[i]:.5f} | {exact_inf[i, 0]:.5f} ± {exact_inf[i, 1]:.5f} "
          f"| {n * head_correction[i]:.2f} ± {n * exact_inf[i, 1] / theory_head[i]:.2f}          "
          f"| {n / (n - s - 1):.2f}")
for name, r in benign.items():
    ratio, ratio_se = r["measured"] / r["theory"], r["sem"] / r["theory"]
    print(f"{name}: measured / theory at N = {sample_sizes.tolist()}:\n   "
          + ", ".join(f"{a:.3f} ± {e:.3f}" for a, e in zip(ratio, ratio_se)))

# %% [markdown]
# The checks. (i) The flat-tail experiment against the exact finite-$N$ expectation, point by
# point in standard errors (both Monte Carlo errors combined): with 4 points, a correct
# expectation exceeds $|z| = 4$ somewhere with probability at most $4\times2\Phi(-4) \approx 2.5\times10^{-4}$
# (Bonferroni). (ii) The finite-size excess is real: at $N = 20$ the exact expectation lies above
# the self-consistent theory by many of its standard errors. (iii) The head's correction falls
# like $1/N$: the fitted exponent of exact / theory $- 1$ (the head under its ridge) against $N$
# must lie between 1 and the fitted exponent of $1/(N - s - 1)$ over the same $N$ (the variance
# term carries the $-1$; the bias and the ridge, which it leaves out, are part of the excess at
# small $N$), give or take four standard errors of the fit, propagated from the Monte Carlo
# errors of the four points. (iv) The power-law
# tail and the malignant problem have no exact finite-$N$ formula here, so they are compared with
# the self-consistent theory at a relative tolerance made of four standard errors of the
# least precise point (computed below) plus the largest finite-size correction measured for the
# flat tail's head, which they share (the head's $-1$; for the malignant problem the head fits
# the whole unlearned signal as noise). (v) The three claims, in numbers.

# %%
z_flat = (res["measured"] - exact_T[:, 0]) / np.hypot(res["sem"], exact_T[:, 1])
cu.check_less("flat tail: experiment vs exact finite-N expectation, largest |z| (of 4)", np.abs(z_flat).max(), 4.0)
excess_20 = (exact_T[0, 0] - res["theory"][0]) / exact_T[0, 1]
cu.check_less(f"flat tail at N = {sample_sizes[0]}: (exact − self-consistent theory) in standard errors > 4",
              4.0, excess_20)
fit_head = cu.fit_power_law(sample_sizes, head_correction)
exponent_minus_one = cu.fit_power_law(sample_sizes, 1.0 / (sample_sizes - s - 1)).alpha
# standard error of the fitted exponent from the Monte Carlo errors of the 4 points (least-squares weights in ln N)
x = np.log(sample_sizes)
weights = (x - x.mean()) / np.sum((x - x.mean()) ** 2)
se_exponent = np.sqrt(np.sum((weights * exact_inf[:, 1] / theory_head / head_correction) ** 2))
print(f"head's correction ∝ N^-{fit_head.alpha:.3f} ± {se_exponent:.3f}; 1/N: N^-1, "
      f"1/(N − s − 1) over the same N: N^-{exponent_minus_one:.3f}")
cu.check_close("head's finite-size correction: exponent in N, between 1 (1/N) and that of 1/(N − s − 1)",
               fit_head.alpha, (1 + exponent_minus_one) / 2, atol=(exponent_minus_one - 1) / 2 + 4 * se_exponent)
finite_size = np.abs(exact_T[:, 0] / res["theory"] - 1).max()
for name in list(problems)[1:]:
    r = benign[name]
    tolerance = 4 * np.max(r["sem"] / r["theory"]) + finite_size
    print(f"{name}: tolerance = 4 × {np.max(r['sem'] / r['theory']):.3f} + {finite_size:.3f} = {tolerance:.3f}")
    cu.check_close(f"{name}: excess test error vs N, every N", r["measured"], r["theory"], rtol=tolerance,
                   mode="every")
n_max = sample_sizes[-1]
flat, power, malignant = (benign[name]["measured"][-1] for name in problems)
claims = [(f"flat tail: excess error at N = {n_max} < σ²/10", flat, noise**2 / 10),
          (f"power-law tail: σ²/2 < excess error at N = {n_max}", noise**2 / 2, power),
          (f"target in the tail: 0.9 × its variance (1) < excess error at N = {n_max}", 0.9, malignant)]
for claim, smaller, larger in claims:
    cu.check_less(claim, smaller, larger)
bartlett = np.array([noise**2 * (s / n + n / tail) for n in sample_sizes])   # σ²(k*/N + N/R_k*), k* = s, R_k* = T
print("flat tail, measured / σ²(k*/N + N/R_k*): " + ", ".join(f"{v:.2f}" for v in res["measured"] / bartlett))
cu.check_close("flat tail: excess error vs Bartlett et al.'s σ²(k*/N + N/R_k*), within a factor 1.5",
               res["measured"], bartlett, rtol=0.5, mode="log")

# %% [markdown]
# All three problems interpolate noisy labels. With the flat tail the excess test error falls like
# $\sigma^2(k^*/N + N/R_{k^*})$ with $k^* = 5$ and $R_{k^*} = 4000$ (within the factor 1.5 checked above; the
# bias, which the formula leaves out, is the rest): the noise the interpolator must absorb is
# spread over thousands of directions. With the power-law tail it levels off at about $\sigma^2$,
# whatever $N$: the noise lands in the few large tail directions, $k^*/N$ stays of order one,
# and more data does not help. The effective ranks printed above say the same in numbers. Note
# that the flat tail is benign only while $N/R$ is small too: the two terms $k^*/N$ and $N/R$
# balance at $N \approx \sqrt{k^* R} \approx 140$ here, beyond which the theory line turns up again.
# That is why Bartlett et al.'s condition is about how the tail must grow with $N$ ($R \gg N$,
# for a sequence of ever wider tails).
#
# The malignant problem has the same spectrum as the benign one and the same signal variance,
# and its error does not fall at all: it stays above the whole variance of the target (the
# dotted line is the noise $\sigma^2$; the target's variance is 1). The printed learned fraction
# $\lambda/(\lambda + \kappa)$ of a tail direction says why: a few per cent at most, even at the
# largest $N$. The interpolator fits the labels by using the tail for their *noise*, which is
# what made the benign case benign, and cannot tell the signal in the tail from noise: to learn
# a target spread over $T$ weak directions takes $N \gtrsim T$ samples. Which of the three one
# gets depends on the spectrum *and* on where the target lies in it, the alignment that
# kernel theories of wide networks call the task–model alignment {cite:p}`canatar2021spectral`.
#
# ### 3.4 Double descent
#
# Now fix the data and vary the model: a least-squares fit with $P$ features on $N$ samples,
# from $P \ll N$ to $P \gg N$. Classical statistics predicts a U-shaped test error (too few
# features: bias; too many: variance). What actually happens is the **double-descent** curve
# {cite:p}`belkin2019reconciling,advani2020high`: the error rises to a peak at the interpolation
# threshold $P = N$, then falls again.
#
# **An exactly solvable case.** Let the data have $D = 400$ isotropic Gaussian features,
# $x \sim \mathcal N(0, I_D)$, and a teacher whose weights decay, $w^{*2}_j \propto 1/j$, and let the
# model see only the first $P$ of them. The features it does not see are independent of the
# ones it sees, so they act on it as extra label noise of variance $\|w^*_{\rm unseen}\|^2$.
# {cite:t}`belkin2020two` computed the expected test error of the minimum-norm least-squares fit
# exactly, at every finite $N$ and $P$:
#
# $$
# E = \begin{cases}
# \bigl(\|w^*_{\rm unseen}\|^2 + \sigma^2\bigr)\Bigl(1 + \dfrac{P}{N-P-1}\Bigr), & P \le N-2,\\[2ex]
# \|w^*_{\rm seen}\|^2\Bigl(1-\dfrac{N}{P}\Bigr) + \bigl(\|w^*_{\rm unseen}\|^2 + \sigma^2\bigr)\Bigl(1 + \dfrac{N}{P-N-1}\Bigr), & P \ge N+2,
# \end{cases}
# $$ (eq-linear-bhx)
#
# and infinite in between. The self-consistent theory of §3.2 ({eq}`eq-linear-error-feedback`) with $\Sigma = I_P$ gives the same
# formulas with $N - P - 1 \to N - P$ and $P - N - 1 \to P - N$ (work it out: without ridge,
# $\kappa = P/N - 1$ and $\gamma = N/P$ for $P > N$): it is the large-$N$ limit of the exact result and
# misses only the $-1$, a finite-size correction that matters near the peak. With a ridge the
# self-consistent theory still applies; the exact formula does not.

# %%
N, D = P.dd_samples, P.dd_features
w_star = 1 / np.sqrt(np.arange(1, D + 1))
w_star /= np.linalg.norm(w_star)
noise = P.dd_noise
ridges = {"no ridge": 0.0, r"$\rho = 0.01$": 0.01, r"$\rho = 0.1$": 0.1}
P_exp = np.array([5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 110, 120, 130, 150, 175, 200, 250, 300, 350, 400])
P_grid = np.unique(np.r_[np.arange(2, D + 1, 2), np.arange(N - 20, N + 21), P_exp])  # denser near the peak


def isotropic_theory(n_feat, ridge):
    """Self-consistent theory for the P seen features; the unseen ones add to the noise."""
    unseen = np.sum(w_star[n_feat:] ** 2)
    return theory.ridge_risk(np.ones(n_feat), w_star[:n_feat], np.sqrt(noise**2 + unseen), N, ridge).test_error


def exact_min_norm(n_feat):
    """Belkin, Hsu and Xu's exact expected test error of the min-norm fit on the first P features."""
    return theory.min_norm_risk_isotropic(N, n_feat, np.sum(w_star[:n_feat] ** 2), np.sum(w_star[n_feat:] ** 2), noise)


rng = np.random.default_rng(cu.seed(5))
# one set of random training sets per P; all three ridges are fitted to the same draws
iso_errors = [ridge_test_errors(np.ones(D), w_star, noise, N, rng, ridge=list(ridges.values()),
                                draws=P.dd_draws, seen=n_feat) for n_feat in P_exp]
iso_measured = np.array([e.mean(axis=1) for e in iso_errors])                        # (P, ridge)
iso_sem = np.array([e.std(axis=1, ddof=1) / np.sqrt(e.shape[1]) for e in iso_errors])
iso_theory = np.array([[isotropic_theory(n_feat, rho) for rho in ridges.values()] for n_feat in P_grid])
iso_exact = np.array([exact_min_norm(n_feat) for n_feat in P_grid])

# %% [markdown]
# **Random ReLU features.** The same experiment with the random-feature model of §3.1: inputs
# $x \in \mathbb{R}^{40}$, a linear teacher, $N = 100$ samples and the first $P$ of 400 frozen ReLU
# features. There is no exact formula here, but the self-consistent theory still applies once
# we know the population covariance of the features, which for ReLU features of Gaussian inputs is
# known in closed form (the arc-cosine kernel); the part of the teacher that the features cannot
# express acts as extra noise (`theory.relu_features_as_linear_problem`). Treating the features as
# Gaussian is an approximation here, which the experiment tests; the exact asymptotic theory of
# random-feature regression {cite:p}`mei2022generalization` is more involved. The test error is
# measured on 4000 fresh test points.

# %%
d = P.rf_input_dim
rng = np.random.default_rng(cu.seed(6))
beta = rng.standard_normal(d)
beta /= np.linalg.norm(beta)
F = random_feature_weights(d, D, rng)
X_train = gaussian_features(N, np.ones(d), rng, batch=(P.rf_draws,))
y_train = linear_teacher(X_train, beta, P.rf_noise, rng)
X_test = gaussian_features(P.rf_test, np.ones(d), rng)
y_test = linear_teacher(X_test, beta, P.rf_noise, rng)
Phi_train, Phi_test = random_relu_features(X_train, F), random_relu_features(X_test, F)

rf_measured = np.zeros((len(P_exp), len(ridges)))
for i, n_feat in enumerate(P_exp):
    for j, rho in enumerate(ridges.values()):
        theta = theory.ridge_solution(Phi_train[..., :n_feat], y_train, rho)  # one fit per draw, batched
        rf_measured[i, j] = np.mean((theta @ Phi_test[:, :n_feat].T - y_test) ** 2)

P_grid_rf = np.unique(np.r_[np.arange(5, D + 1, 10), np.arange(N - 10, N + 11, 2), P_exp])
rf_problem = {n_feat: theory.relu_features_as_linear_problem(F[:n_feat], beta, P.rf_noise) for n_feat in P_grid_rf}
rf_theory = np.array([[theory.ridge_risk(*rf_problem[n_feat], N, rho).test_error for rho in ridges.values()]
                      for n_feat in P_grid_rf])

# %% tags=["hide-input"]
fig, (ax1, ax2) = cu.panels(2, panel_height=3.6, sharey=True)
for j, name in enumerate(ridges):
    color = cu.plotting.PALETTE[j]
    ax1.plot(P_grid, iso_theory[:, j], "-", color=color, label=f"{name}: self-consistent theory")
    ax1.plot(P_exp, iso_measured[:, j], "o", color=color, mfc="none", label=f"{name}: experiment")
    ax2.plot(P_grid_rf, rf_theory[:, j], "-", color=color)
    ax2.plot(P_exp, rf_measured[:, j], "o", color=color, mfc="none")
ax1.plot(P_grid, iso_exact, "k:", label="no ridge: exact (Belkin–Hsu–Xu)")
for ax, title in [(ax1, f"$P$ of {D} isotropic features"), (ax2, "$P$ random ReLU features")]:
    ax.axvline(N, color="gray", lw=0.8)
    ax.set_yscale("log")
    ax.set_ylim(0.2, 30)
    ax.set_xlabel("number of features $P$")
    ax.set_title(title)
    ax.text(N + 4, 0.22, "$P = N$", color="gray")
ax1.set_ylabel("test error $E$")
ax2.legend(*ax1.get_legend_handles_labels(), fontsize=7, loc="upper right")  # where the right panel has room
plt.show()

# %% [markdown]
# The checks. The exact result must match the averages over draws within their statistical
# error. There are 20 averages (one per $P$), so the check bounds the *largest* of 20 $|z|$-scores,
# $z = (\text{experiment} - \text{exact})/\text{standard error}$, and the bound must account for the
# number of points compared: if each $z$ is a standard normal, the chance that at least one of 20
# exceeds 4 is at most $20 \times 2\Phi(-4) \approx 1.3\times10^{-3}$ (Bonferroni; printed below), whereas a
# bound of 3 would fail about one run in 20 with a correct theory. Next to the peak one draw's
# error is heavy-tailed, which can make $z$ wider than a standard normal; across the seeds 0–5 the
# largest $|z|$ lies between about 1.8 and 3.1, still inside the bound.
# The self-consistent theory must match within 5% (6% for
# ReLU features, which it treats as Gaussian), except next to the peak without ridge, where its
# finite-size error grows like $1/|N - P|$ (discussed below): there we compare only for
# $|P - N| \ge 30$.

# %%
def at(grid):
    """Indices of the experiment's P values on a theory grid (which contains them all)."""
    index = np.searchsorted(grid, P_exp)
    assert np.array_equal(grid[index], P_exp)
    return index


z = (iso_measured[:, 0] - iso_exact[at(P_grid)]) / iso_sem[:, 0]
z_bound = 4.0
false_alarm = len(P_exp) * 2 * scipy.stats.norm.sf(z_bound)   # Bonferroni: P(max of 20 |z| > 4) ≤ 20 P(|z| > 4)
print(f"{len(P_exp)} z-scores: chance that a correct theory fails the bound {z_bound:g} ≤ {false_alarm:.1e}")
cu.check_less("isotropic, no ridge: largest |experiment − exact| in standard errors (of 20)", np.abs(z).max(),
              z_bound)
away = np.abs(P_exp - N) >= 30
for j, (name, rho) in enumerate(ridges.items()):
    use = away if rho == 0 else np.ones_like(away)
    cu.check_close(f"isotropic, {name}: experiment vs self-consistent theory", iso_measured[use, j],
                   iso_theory[at(P_grid), j][use], rtol=0.05)
    cu.check_close(f"ReLU features, {name}: experiment vs self-consistent theory", rf_measured[use, j],
                   rf_theory[at(P_grid_rf), j][use], rtol=0.06)
i_peak = np.argmin(np.abs(P_exp - N))
peak_height = cu.check_less(f"2 × test error at P = 5 < test error at P = {P_exp[i_peak]}, next to the peak",
                            2 * iso_measured[0, 0], iso_measured[i_peak, 0])

# %% [markdown]
# **Explore: noise, ridge, teacher and sample size.** The left panel of the figure above, as theory
# (the self-consistent ridge of §3.2 and the exact ridgeless formula {eq}`eq-linear-bhx`), for any
# label noise $\sigma$, ridge $\rho$, teacher decay $w^{*2}_j \propto j^{-a}$ and number of samples $N$;
# the right panel splits the error at your $\rho$ into its parts. The theory says: the ridgeless peak
# sits at $P = N$ and is made of variance; it does not go away at $\sigma = 0$, because the unseen
# part of the teacher acts as label noise; a ridge caps it, and the ridge tuned at every $P$
# ({numref}`exercise %s <ex-linear-optimal-ridge>` derives it) has no peak at all.

# %%
from IPython.display import display

from course_utils.explorers import double_descent

ex = double_descent.explorer(D, n_samples=N, noise=noise)
ex.show()
display(ex.variants("noise", [0.0, 0.5, 1.0]))

# %% [markdown]
# **What it means.** The peak at $P = N$ is the error feedback of §3.2 at full strength. With
# exactly as many parameters as equations the interpolator is unique, and it must fit the noise
# with whatever directions it has, however badly conditioned. The smallest singular value of an
# $N\times P$ random feature matrix is smallest when the matrix is square, where it nearly
# vanishes, and the noise is amplified by its inverse ($\gamma \to 1$).
# Adding features beyond $N$ gives the interpolator room to spread the noise thinly, the
# mechanism of §3.3, and the error falls again. A ridge removes the divergence (it bounds the
# amplification by $1/\rho$), and a well-tuned ridge removes the peak altogether
# {cite:p}`nakkiran2021optimal`; {numref}`exercise %s <ex-linear-optimal-ridge>` finds the optimal value. With random ReLU features
# the second descent even ends below the best underparameterised model: more features average
# out the randomness of each one.
#
# Where theory and experiment part, finite size is the reason. Next to the peak the
# self-consistent theory underestimates the exact isotropic error (the solid blue line runs
# below the dotted black one): the exact denominators $N - P - 1$ and $P - N - 1$ carry an extra
# $-1$, a relative correction of about $1/|N - P|$:

# %%
for n_feat in (N - 20, N - 10, N + 10, N + 20):
    exact, mean_field = exact_min_norm(n_feat), isotropic_theory(n_feat, 0.0)
    print(f"P = {n_feat}: exact {exact:.3f}, self-consistent {mean_field:.3f} ({mean_field / exact - 1:+.1%}), "
          f"1/|N - P| = {1 / abs(N - n_feat):.1%}")

# %% [markdown]
# At the peak itself the expected error is infinite, and averages over draws converge slowly
# near it, because the error of one draw is a heavy-tailed random variable (it is set by the
# smallest singular value of the feature matrix): an average over a hundred draws there usually
# comes out *too small*, because the rare, very bad draws are missing from it. For ReLU features
# the self-consistent theory's finite-size error next to the peak is about twice the isotropic
# one (in one run with `COURSE_SCALE=paper`, 500 draws, the measured error at $P = 90$ came out some
# 15% above the line; the 100 draws of the default scale are too few to resolve it, and where
# their average lands changes with the seed). Away from the peak,
# treating non-Gaussian features as Gaussian costs a few percent.
#
# ## Exercises
#
# :::{exercise} Stability and the best constant step
# :label: ex-linear-stability
#
# Gradient descent on $L(\theta) = \frac12\theta^\top\hat\Sigma\theta - b\cdot\theta$ with
# eigenvalues $\hat\lambda_{\min} \le \dots \le \hat\lambda_{\max}$ (all positive).
#
# 1. For which learning rates does it converge from every initial condition? What happens to a
#    mode with $\eta\hat\lambda_k = 2$ exactly, and with $\eta\hat\lambda_k > 2$?
# 2. The slowest mode decides when training is done. Which constant $\eta$ makes the worst mode
#    (slowest or fastest) converge fastest, and what is then the convergence factor per step?
#    Express it with the condition number $\hat\lambda_{\max}/\hat\lambda_{\min}$.
# :::
#
# :::{solution} ex-linear-stability
# :class: dropdown
#
# 1. Mode $k$ is multiplied by $q_k = 1 - \eta\hat\lambda_k$ every step; it converges iff $|q_k| < 1$,
#    i.e. $0 < \eta < 2/\hat\lambda_k$. All modes converge iff $\eta < 2/\hat\lambda_{\max}$. At
#    $\eta\hat\lambda_k = 2$, $q_k = -1$: the mode flips sign every step forever, neither growing nor
#    shrinking. Beyond, $|q_k| > 1$ and it grows geometrically with alternating sign: the loss
#    diverges.
# 2. The worst factor is $\max_k |1 - \eta\hat\lambda_k| = \max(|1-\eta\hat\lambda_{\min}|, |1-\eta\hat\lambda_{\max}|)$.
#    It is smallest when the two extremes balance, $1 - \eta\hat\lambda_{\min} = \eta\hat\lambda_{\max} - 1$,
#    so $\eta^* = 2/(\hat\lambda_{\min} + \hat\lambda_{\max})$ and the factor is
#    $(\hat\lambda_{\max} - \hat\lambda_{\min})/(\hat\lambda_{\max} + \hat\lambda_{\min}) = (\varkappa - 1)/(\varkappa + 1)$
#    with $\varkappa = \hat\lambda_{\max}/\hat\lambda_{\min}$. The number of steps to gain a factor
#    $e$ is about $\varkappa/2$ for large $\varkappa$: ill-conditioned features make training slow, which is
#    what preconditioning, normalisation layers and adaptive optimisers try to fix.
# :::
#
# :::{exercise} Where does gradient descent go from a non-zero start?
# :label: ex-linear-gd-limit
#
# In the overparameterised regime ($P > N$), gradient descent started from $\theta_0 \ne 0$
# still interpolates, but it no longer ends at $\theta_{\rm mn}$. Using the argument of §3.1,
# write a function `gd_limit(X, y, theta0)` that returns the point where gradient descent (with
# a stable step) converges, for $X$ of shape $(N, P)$, in either regime $P > N$ or $P < N$.
# Then check it with `exercises.check_gd_limit(gd_limit)`, which compares your answer with
# long gradient-descent runs on random problems. Finally: is the test error of this limit larger
# or smaller than that of $\theta_{\rm mn}$ for a random $\theta_0$, and by how much?
# :::
#
# :::{solution-start} ex-linear-gd-limit
# :class: dropdown
# :::
#
# Gradient descent changes $\theta$ only within the row space of $X$; the component of
# $\theta_0$ in the null space ($X\theta = 0$) is never touched. Within the row space the dynamics
# converge to the unique interpolator there, $\theta_{\rm mn} = X^+y$. Hence
# $\theta_\infty = X^+ y + (1 - X^+X)\,\theta_0$, where $X^+$ is the pseudo-inverse and $1 - X^+X$
# projects on the null space (for $P < N$ it is zero: the start is forgotten).

# %%
def gd_limit(X, y, theta0):
    X_pinv = np.linalg.pinv(X)
    return X_pinv @ y + theta0 - X_pinv @ (X @ theta0)


solved = exercises.check_gd_limit(gd_limit)

# %% [markdown]
# The null-space part $(1 - X^+X)\theta_0$ is orthogonal to $\theta_{\rm mn}$ and, for a random
# $\theta_0$ drawn independently of the teacher, is pure error on average: on isotropic features
# it adds $\|(1 - X^+X)\theta_0\|^2 \approx (1 - N/P)\|\theta_0\|^2$ to the test error. A large random
# initialisation is remembered forever in the directions the data do not constrain; wide
# neural networks, later in the course, inherit the same memory of their initial function.
#
# :::{solution-end}
# :::
#
# :::{exercise} The optimal ridge
# :label: ex-linear-optimal-ridge
#
# For isotropic features ($\Sigma = I_P$), a teacher with $\|w^*\|^2 = r^2$ and noise $\sigma^2$:
#
# 1. Use `theory.ridge_risk` to find numerically the ridge $\rho^*$ that minimises the test error
#    at the interpolation threshold $P = N = 100$, with $r^2 = 1$ and $\sigma^2 = 0.25$, and
#    check your value with `exercises.check_optimal_ridge(rho_star)`.
# 2. Guess a formula for $\rho^*(P, N, r^2, \sigma^2)$, test it at other values, and explain it.
#    (Hint: ridge regression is the posterior mean of a Bayesian model.)
# :::
#
# :::{solution-start} ex-linear-optimal-ridge
# :class: dropdown
# :::

# %%
from scipy.optimize import minimize_scalar


def isotropic_error(rho, n_feat=100, N=100, r2=1.0, sigma2=0.25):
    return theory.ridge_risk(np.ones(n_feat), np.full(n_feat, np.sqrt(r2 / n_feat)), np.sqrt(sigma2), N, rho).test_error


result = minimize_scalar(lambda log_rho: isotropic_error(np.exp(log_rho)), bounds=(-10, 3), method="bounded")
rho_star = float(np.exp(result.x))
solved = exercises.check_optimal_ridge(rho_star)
print(f"formula σ²P/(N r²) = {0.25 * 100 / (100 * 1.0):.4f}")

# %% [markdown]
# The optimum is $\rho^* = \sigma^2 P/(N r^2)$, the noise-to-signal ratio per feature. Reason: if
# the teacher is drawn from the prior $w^* \sim \mathcal N(0, (r^2/P)\,I)$, the Bayes-optimal predictor is
# the posterior mean, $(X^\top X + \frac{\sigma^2 P}{r^2})^{-1}X^\top y$, which is ridge regression
# with exactly this $\rho$ in our normalisation; for isotropic features the test error depends on
# $w^*$ only through $\|w^*\|^2$, so the Bayes-optimal ridge is optimal for every teacher of that norm.
# With $\rho^*$ re-tuned at every $P$ the test error has no peak at $P = N$: optimal ridge removes
# the double descent, here and for a broad class of problems {cite:p}`nakkiran2021optimal`.
#
# :::{solution-end}
# :::
#
# ## Summary
#
# - Gradient descent on a quadratic loss is a set of independent relaxations, one per eigen-mode
#   of the feature covariance: $(1-\eta\lambda_k)^t$ exactly, $e^{-\lambda_k\tau}$ in the gradient-flow
#   limit $\eta\lambda_k \ll 1$. The largest eigenvalue limits the step, the smallest the training time.
# - The test error is a sum over modes, and the modes are learned in order of decreasing
#   eigenvalue: spectral bias. Stopping early leaves the small-eigenvalue modes, and the noise in
#   them, unlearned.
# - With more parameters than data, gradient descent from zero converges to the minimum-norm
#   interpolator: an implicit bias that nobody programmed.
# - A finite sample acts as a renormalised ridge $\kappa$, and the errors feed back through
#   $1/(1-\gamma)$. This one self-consistent theory predicts benign overfitting (a wide, flat tail
#   absorbs the noise), tempered overfitting (a concentrated tail does not), malignant
#   overfitting (a target in the weak directions is never learned), and the double-descent peak
#   at $P = N$, which a ridge tames.
# - Every one of these predictions was checked here against an experiment, within a stated
#   tolerance; where they differ (near the peak, at small $N$) the difference is a finite-size
#   correction of relative order $1/|N - P|$ or $1/N$, computed exactly for the flat tail (§3.3).
#
# Next: wide neural networks trained by gradient descent behave, in a precise limit, like the
# linear models of this chapter, with features given by the neural tangent kernel
# ([Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb)).
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
