# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Training in the infinite-width limit: the neural tangent kernel
#
# The previous chapter described a wide network before training: a Gaussian process. What does
# gradient descent do to it? Every weight moves, the network is non-linear in its weights, and
# the loss is not convex; yet for a wide network the answer is as simple as in Chapter 1. In the
# right parameterisation, the wider the network, the less each weight moves, the function it
# computes evolves as a *linear* model in its parameters, and training is kernel regression with a
# deterministic kernel, the **neural tangent kernel** (NTK) {cite:p}`jacot2018neural,lee2019wide`.
# We compute that kernel, check each step of the argument against trained networks, measure how
# fast the approximation improves with width, and then break it: with a large learning rate and
# with a small width.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)
# (gradient descent mode by mode, spectral bias) and
# [Networks at initialisation: the Gaussian-process limit](01_nngp.ipynb) (the kernel recursion).
# **Runs in:** about a minute and a half on a laptop CPU (`COURSE_SCALE=default`);
# `COURSE_SCALE=paper` trains wider networks with more seeds.

# %% tags=["hide-input"]
# Set-up. On Colab this installs the course's shared package (and nothing else: Colab's torch,
# numpy and matplotlib are kept); everywhere else it does nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "git+https://github.com/physics-of-learning/physics-of-learning"], check=True)

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

import course_utils as cu
from course_utils.exercises import wide_networks as exercises
from course_utils.models.linear import half_mse
from course_utils.models.mlp import MLP
from course_utils.theory import kernels
from course_utils.theory.ntk_empirical import LinearizedModel, catapult_ensemble, empirical_ntk

cu.use_house_style()
# One-hidden-layer networks on 16 inputs are small: the CPU is the fastest device for them, and
# float64 keeps rounding far below the finite-width effects we measure.
device = cu.setup(device="cpu")
torch.set_default_dtype(torch.float64)

# %% [markdown]
# ## Parameters
#
# Every model here is small enough that one CPU core is the fastest device: the default runs in
# about a minute, and `COURSE_SCALE=paper` (widths up to 32768, eight seeds) in a few minutes.

# %% tags=["nbval-check-output"]
params = cu.scaled(
    default=dict(
        init_widths=(64, 128, 256, 512, 1024, 2048), init_seeds=6,          # §2
        sweep_widths=(256, 512, 1024, 2048, 4096, 8192), sweep_seeds=2,      # §3
        train_steps=500, wide_width=4096,
        sb_points=32, sb_steps=3000,                                          # §4
        param_widths=(64, 256, 1024, 4096), catapult_width=2048, catapult_steps=300,  # §5
        catapult_networks=24, catapult_grid=(1.2, 1.6, 2.0, 2.4, 3.0), catapult_grid_steps=500,
    ),
    paper=dict(init_widths=(64, 128, 256, 512, 1024, 2048, 4096), init_seeds=8,
               sweep_widths=(256, 512, 1024, 2048, 4096, 8192, 16384, 32768), sweep_seeds=8,
               wide_width=16384, param_widths=(64, 256, 1024, 4096, 16384), catapult_width=8192),
)
params

# %% [markdown]
# ## 1. The tangent kernel
#
# **Training in function space.** Fit $N$ examples $(x_\mu, y_\mu)$ with the squared loss of
# Chapter 1, $L(\theta) = \frac{1}{2N}\sum_\mu (f(x_\mu;\theta) - y_\mu)^2$, by gradient flow
# $\dot\theta = -\eta\nabla_\theta L$. By the chain rule the function moves as
#
# $$
# \partial_t f(x) = \nabla_\theta f(x)\cdot\dot\theta
# = -\frac{\eta}{N}\sum_{\mu}\Theta(x, x_\mu)\,\bigl(f(x_\mu) - y_\mu\bigr),
# \qquad
# \Theta(x, x') = \sum_{p}\frac{\partial f(x)}{\partial\theta_p}\frac{\partial f(x')}{\partial\theta_p}.
# $$
#
# This is exact for any model; $\Theta$ is its **tangent kernel**: the Gram matrix of the
# gradients, the features the model is linear in, to first order. For a linear model
# $f = \theta\cdot\phi(x)$ it is $\phi(x)\cdot\phi(x')$ and never changes: Chapter 1. For a network
# $\Theta$ depends on $\theta$ and changes as it trains. `course_utils.theory.ntk_empirical.empirical_ntk`
# computes it for any PyTorch module with `torch.func` (a Jacobian per parameter tensor,
# `vmap(jacrev(f))`, contracted over the parameters).
#
# **The NTK parameterisation.** We write the network of the previous chapter as
# $f^\ell = \sigma_b\,\beta^\ell + \frac{\sigma_w}{\sqrt{n_{\ell-1}}}V^\ell\phi(f^{\ell-1})$ with trained
# parameters $V, \beta\sim\mathcal N(0, 1)$ {cite:p}`jacot2018neural`. At initialisation this is
# the same random function as the "standard" parameterisation $W = \sigma_w V/\sqrt{n}$; but
# derivatives with respect to $V$ carry a factor $1/\sqrt n$, so each parameter's share of the
# kernel is $O(1/n)$ and the sum over the $O(n)$ parameters of a layer is an average. (In the
# standard parameterisation the same sum grows like $n$: §5.)
#
# **The infinite-width kernel.** Split $\Theta^\ell$ (the kernel of the preactivations $f^\ell$)
# into the parameters of layer $\ell$ and those below. Layer $\ell$'s own parameters give
# $\frac{\sigma_w^2}{n}\sum_j \phi(f^{\ell-1}_j(x))\phi(f^{\ell-1}_j(x')) + \sigma_b^2 \to K^\ell$, the NNGP kernel.
# The layers below act through $\partial f^\ell_i/\partial f^{\ell-1}_j = \frac{\sigma_w}{\sqrt n}V^\ell_{ij}\,\phi'(f^{\ell-1}_j)$,
# so they contribute $\frac{\sigma_w^2}{n}\sum_{j}(V^\ell_{ij})^2\phi'(f^{\ell-1}_j(x))\phi'(f^{\ell-1}_j(x'))\,\Theta^{\ell-1}(x,x')$
# (cross terms $j \neq k$ average out), which the law of large numbers turns into
#
# $$
# \boxed{\;\Theta^0 = K^0,\qquad \Theta^\ell = K^\ell + \sigma_w^2\,\dot K^\ell\,\Theta^{\ell-1},
# \qquad \dot K^\ell(x,x') = \mathbb E_{(u,v)\sim\mathcal N(0,\Sigma^{\ell-1})}\bigl[\phi'(u)\phi'(v)\bigr].\;}
# $$
#
# Like $K^\ell$, it is deterministic: it depends on the architecture, not on the draw of the
# weights. For ReLU, $\dot K = (\pi - \theta)/2\pi$, the arc-cosine kernel of degree 0; for erf,
# $\frac{4}{\pi}[(1+2\Sigma_{11})(1+2\Sigma_{22}) - 4\Sigma_{12}^2]^{-1/2}$. It is
# `kernels.ntk_kernel`. First, the empirical kernel of random networks against it, on inputs on
# the unit circle, for ReLU networks with two hidden layers ($\sigma_w^2 = 2$, $\sigma_b^2 = 0.1$):

# %%
sw2, sb2 = 2.0, 0.1
arch = dict(sigma_w=math.sqrt(sw2), sigma_b=math.sqrt(sb2), parameterization="ntk")


def circle(angles):
    """Points (cos t, sin t) on the unit circle, as a float64 tensor."""
    return torch.tensor(np.stack([np.cos(angles), np.sin(angles)], axis=1))


def net(width, depth=1, seed=0, activation="relu", **kw):
    """A network in the NTK parameterisation, drawn from the run's seed number `seed` (cu.seed)."""
    return MLP(2, width, depth, activation=activation, generator=torch.Generator().manual_seed(cu.seed(seed)),
               **{**arch, **kw})


angles_init = np.linspace(0, np.pi, 9)
X_init = circle(angles_init)
Theta_init = kernels.ntk_kernel(X_init.numpy(), depth=2, sigma_w2=sw2, sigma_b2=sb2)
init_error, init_rows = [], {}
for n in params.init_widths:
    errs = []
    for s in range(params.init_seeds):
        T_emp = empirical_ntk(net(n, depth=2, seed=s), X_init).numpy()
        errs.append(np.linalg.norm(T_emp - Theta_init) / np.linalg.norm(Theta_init))
        if s == 0:
            init_rows[n] = T_emp[0]
    init_error.append(np.sqrt(np.mean(np.square(errs))))  # rms: its square is an average over networks
init_error = np.array(init_error)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
t_fine = np.linspace(0, np.pi, 200)
ax.plot(t_fine, kernels.ntk_kernel(X_init[:1].numpy(), circle(t_fine).numpy(), depth=2, sigma_w2=sw2,
                                   sigma_b2=sb2)[0], "k-", label="analytic NTK $\\Theta(x_0, x_\\vartheta)$")
for i, n in enumerate((params.init_widths[0], params.init_widths[-1])):
    ax.plot(angles_init, init_rows[n], "os"[i], mfc="none", color=cu.plotting.PALETTE[i],
            label=f"empirical NTK, one network of width {n}")
ax.set_xlabel("angle $\\vartheta$ between the inputs (rad)")
ax.set_ylabel("tangent kernel")
ax.legend()
ax = axes[1]
fit_init = cu.plotting.loglog_fit(ax, params.init_widths, init_error, label=f"rms over {params.init_seeds} networks",
                                  exponent_name="slope")
ax.set_xlabel("width n (units)")
ax.set_ylabel("$\\|\\hat\\Theta - \\Theta\\|_F / \\|\\Theta\\|_F$ at initialisation")
ax.legend()
plt.show()
print(f"empirical NTK → analytic NTK as n^(-{fit_init.alpha:.3f} ± {fit_init.alpha_stderr:.3f})")
# tolerance: 0.1, or four standard errors of the fitted exponent where the scatter of the few networks
# per width makes it larger (the error of the fit comes from the scatter of the points about the line)
cu.check_close("exponent of the convergence of the NTK at initialisation", fit_init.alpha, 0.5,
               atol=max(0.1, 4 * fit_init.alpha_stderr))
cu.check_less(f"relative distance at width {params.init_widths[-1]}", init_error[-1], 0.1)

# %% [markdown]
# The empirical kernel of a single network scatters around the analytic curve at width 64 and
# lies on it at width 2048; its distance falls as $n^{-1/2}$, the size of the fluctuations of an
# average over $n$ units. So at initialisation the tangent kernel of a wide network is the
# deterministic $\Theta$.
#
# ## 2. Lazy training: the kernel does not move
#
# **The claim.** If $\Theta$ stayed equal to its initial value during training, the function-space
# equation would be linear with constant coefficients, and its solution is that of Chapter 1 with
# the kernel in place of the feature covariance. Writing $\hat\Theta = \Theta(X, X)/N$ for the
# kernel on the training set,
#
# $$
# f_t(X) = y + e^{-\eta\hat\Theta t}\,(f_0(X) - y), \qquad
# f_t(x) = f_0(x) - \tfrac1N\Theta(x, X)\,\hat\Theta^{-1}\bigl(1 - e^{-\eta\hat\Theta t}\bigr)(f_0(X) - y),
# $$
#
# and for gradient descent with step $\eta$, $e^{-\eta\hat\Theta t}$ becomes $(1 - \eta\hat\Theta)^t$
# (`kernels.kernel_regression_dynamics`). At $t\to\infty$ this is kernel regression with the NTK,
# plus the initial function's contribution. A model whose tangent kernel is exactly constant is
# the **linearised network**
#
# $$
# f_{\rm lin}(x;\theta) = f(x;\theta_0) + \nabla_\theta f(x;\theta_0)\cdot(\theta - \theta_0),
# $$
#
# linear in $\theta$ with the random features $\nabla_\theta f(x;\theta_0)$ (`LinearizedModel`,
# one forward-mode product `torch.func.jvp` per call). Gradient descent on $f_{\rm lin}$ follows the
# formula above *exactly*, with the network's empirical $\Theta_0$.
#
# **Why the kernel hardly moves.** Each parameter's gradient is $O(n^{-1/2})$, so in a training
# time of order one each parameter moves by $O(n^{-1/2})$ while the function moves by $O(1)$.
# A change $\delta\theta$ of every parameter by $n^{-1/2}$ changes an average like $\Theta$ by at most
# $O(n^{-1/2})$: that is the bound of {cite:t}`jacot2018neural` and {cite:t}`lee2019wide`. The
# leading term is in fact smaller. The change of a hidden unit's weights is proportional to its
# readout weight, whose sign is random, so the first-order changes of the $n$ terms of $\Theta$ are
# of random sign and add up to $O(n^{-1})$ {cite:p}`dyer2020asymptotics`: for a smooth
# activation, $\Delta\Theta/\Theta \propto 1/n$. ReLU is not smooth: a unit whose kink lies within
# $n^{-1/2}$ of a training input can switch on or off at that input, which happens to a fraction
# $n^{-1/2}$ of the units and changes each one's term by $O(1)$, with random signs, giving a
# change of order $\sqrt{n\cdot n^{-1/2}}/n = n^{-3/4}$ (a back-of-the-envelope argument, which we test).
#
# **The experiment.** Networks with one hidden layer (ReLU and erf, $\sigma_w^2 = 2$,
# $\sigma_b^2 = 0.1$) learn $y = \sin t + \frac12\sin 3t$ from 16 equally spaced points on the
# unit circle, by full-batch gradient descent with $\eta = 1/\lambda_{\max}(\hat\Theta)$ for 500
# steps (the training loss ends below $10^{-4}$). On the 16 training and 48 test inputs we
# compare three predictions: the trained network, its linearisation (the formula with its own
# $\Theta_0$), and kernel regression with the analytic NTK (the formula with the width-$\infty$ $\Theta$
# and the network's own $f_0$). First one wide ReLU network against the theory, and its
# linearisation trained as a model, to check the formula:

# %%
n_train = 16
t_train = 2 * np.pi * np.arange(n_train) / n_train
t_test = 2 * np.pi * (np.arange(48) + 0.5) / 48
X_all = circle(np.concatenate([t_train, t_test]))
X_train = X_all[:n_train]


def target(t):
    return np.sin(t) + 0.5 * np.sin(3 * t)


y_train = target(t_train)
y_tensor = torch.tensor(y_train)[:, None]


def train_gd(model, lr, steps, record=()):
    """Full-batch gradient descent on the 16 training points; returns f at the recorded steps (all inputs)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    out = []
    for step in range(steps + 1):
        if step in record:
            with torch.no_grad():
                out.append(model(X_all)[:, 0].numpy().copy())
        if step == steps:
            break
        opt.zero_grad()
        half_mse(model(X_train), y_tensor).backward()
        opt.step()
    return np.array(out)


def analytic_ntk(activation, X=X_all):
    return kernels.ntk_kernel(X.numpy(), depth=1, activation=activation, sigma_w2=sw2, sigma_b2=sb2)


def kernel_prediction(Theta, f0, lr, steps):
    """The lazy-training formula on all inputs, for gradient descent with step lr on the mean loss."""
    _, f = kernels.kernel_regression_dynamics(Theta[:n_train, :n_train], Theta[:, :n_train], y_train, steps,
                                              lr=lr / n_train, f0_train=f0[:n_train], f0_test=f0, discrete=True)
    return f


Theta_relu = analytic_ntk("relu")
lam_max = np.linalg.eigvalsh(Theta_relu[:n_train, :n_train] / n_train).max()
lr = 1.0 / lam_max
steps = params.train_steps
record = [0, 10, 40, steps]
model = net(params.wide_width, seed=1)
lin = LinearizedModel(model)
with torch.no_grad():
    f0 = model(X_all)[:, 0].numpy()
Theta0 = empirical_ntk(model, X_all).numpy()
f_net = train_gd(model, lr, steps, record)
f_lin_trained = train_gd(lin, lr, steps, record)
f_lin_formula = kernel_prediction(Theta0, f0, lr, np.array(record))
f_ker = kernel_prediction(Theta_relu, f0, lr, np.array(record))
print(f"λ_max(Θ/N) = {lam_max:.4f}, learning rate η = {lr:.4f}, final training loss of the network "
      f"{half_mse(model(X_train), y_tensor).item():.2e}")
cu.check_close("linearised model trained by GD vs the kernel formula with its Θ₀", f_lin_trained, f_lin_formula,
               rtol=1e-8)

fig, ax = plt.subplots(figsize=(8, 3.8))
order = np.argsort(np.concatenate([t_train, t_test]))
t_all = np.concatenate([t_train, t_test])
for i, step in enumerate(record):
    ax.plot(t_all[order], f_ker[i][order], "-", color=cu.plotting.PALETTE[i], label=f"kernel theory, step {step}")
    ax.plot(t_all, f_net[i], "o", mfc="none", ms=4, color=cu.plotting.PALETTE[i], label=f"network, step {step}")
ax.plot(t_train, y_train, "k*", ms=9, label="training data")
ax.set_xlabel("angle t of the input on the circle (rad)")
ax.set_ylabel("f(x)")
ax.legend(ncol=3, fontsize=8, loc="lower left")
plt.show()
cu.check_close(f"width {params.wide_width}: network vs analytic-kernel prediction, all steps and inputs",
               f_net, f_ker, rtol=0.05)

# %% [markdown]
# The network's function at every recorded step lies on the kernel prediction, from the random
# initial function (blue) to the fit (pink). The linearised model trained as a model by gradient
# descent matches the closed-form kernel dynamics with its own $\Theta_0$ to rounding error, as it
# must. Now the width sweep: how fast do network, linearisation and kernel theory come together?

# %%
sweep = {}
for act in ("relu", "erf"):
    Theta_inf = analytic_ntk(act)
    lr_act = 1.0 / np.linalg.eigvalsh(Theta_inf[:n_train, :n_train] / n_train).max()
    rows = []
    for n in params.sweep_widths:
        r = []
        for s in range(params.sweep_seeds):
            model = net(n, seed=100 + s, activation=act)
            with torch.no_grad():
                f0 = model(X_all)[:, 0].numpy()
            T0 = empirical_ntk(model, X_all).numpy()
            f_t = train_gd(model, lr_act, steps, record)
            T_end = empirical_ntk(model, X_all).numpy()
            f_l = kernel_prediction(T0, f0, lr_act, np.array(record))
            f_k = kernel_prediction(Theta_inf, f0, lr_act, np.array(record))
            scale = np.sqrt(np.mean(y_train ** 2))
            r.append([np.linalg.norm(T_end - T0) / np.linalg.norm(T0),           # the kernel moved
                      np.sqrt(np.mean((f_t - f_l) ** 2)) / scale,                # network vs its linearisation
                      np.sqrt(np.mean((f_t - f_k) ** 2)) / scale])               # network vs analytic NTK
        rows.append(np.mean(r, axis=0))
    sweep[act] = np.array(rows)

# %%
widths = np.array(params.sweep_widths)
titles = ["kernel change $\\|\\Theta_T - \\Theta_0\\|_F/\\|\\Theta_0\\|_F$",
          "network vs linearised model (rms / rms y)", "network vs analytic-NTK regression (rms / rms y)"]
fits = {}
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for j, ax in enumerate(axes):
    for i, act in enumerate(("relu", "erf")):
        fits[act, j] = cu.plotting.loglog_fit(ax, widths, sweep[act][:, j], label=act, color=cu.plotting.PALETTE[i],
                                              exponent_name="slope")
    ref = sweep["relu"][0, j]
    ax.plot(widths, ref * (widths / widths[0]) ** -0.5, "k:", lw=1, label="$n^{-1/2}$")
    ax.plot(widths, ref * (widths / widths[0]) ** -1.0, "k--", lw=1, label="$n^{-1}$")
    ax.set_xticks(widths, [str(w) for w in widths])
    ax.minorticks_off()
    ax.set_xlabel("width n (units)")
    ax.set_title(titles[j], fontsize=10)
    ax.legend(fontsize=8)
plt.show()
names = ["kernel change", "network − linearised", "network − analytic NTK"]
for act in ("relu", "erf"):
    print(act + ": " + "; ".join(f"{names[j]} ∝ n^(-{fits[act, j].alpha:.2f} ± {fits[act, j].alpha_stderr:.2f})"
                                 for j in range(3)))
# Tolerances: the stated one (finite-width corrections to the power law), or four standard errors
# of the fitted exponent when the two networks per width scatter more than that.
def exponent_tolerance(fit, atol):
    return max(atol, 4 * fit.alpha_stderr)


cu.check_close("erf: exponent of the kernel change (theory: smooth activation, 1)", fits["erf", 0].alpha, 1.0,
               atol=exponent_tolerance(fits["erf", 0], 0.15))
cu.check_close("ReLU: exponent of the kernel change (estimate: 3/4)", fits["relu", 0].alpha, 0.75,
               atol=exponent_tolerance(fits["relu", 0], 0.15))
cu.check_close("erf: exponent of network − linearised (theory 1)", fits["erf", 1].alpha, 1.0,
               atol=exponent_tolerance(fits["erf", 1], 0.15))
cu.check_close("erf: exponent of network − analytic NTK (fluctuations of Θ₀, theory 1/2)",
               fits["erf", 2].alpha, 0.5, atol=exponent_tolerance(fits["erf", 2], 0.2))
# ReLU: the measured exponent lies below 1/2 at every seed we ran (see the text); the claim kept is
# that the distance falls, by more than four standard errors of the fitted exponent
cu.check_less("ReLU: network − analytic NTK falls with width: 0 < exponent − 4 s.e.", 0.0,
              fits["relu", 2].alpha - 4 * fits["relu", 2].alpha_stderr)
cu.check_less("ReLU: both approximations within 2% of rms y at the largest width",
              max(sweep["relu"][-1, 1], sweep["relu"][-1, 2]), 0.02)

# %% [markdown]
# Three lessons, each measured.
#
# - **The kernel freezes.** Its relative change over the whole training run falls as a power of
#   the width, in every case at least as fast as the $n^{-1/2}$ bound: close to $n^{-1}$ for erf,
#   as the sign argument predicts for a smooth activation, and with an exponent near $3/4$ for
#   ReLU, whose kinks let units switch at the training inputs.
# - **The network is its linearisation.** The distance between the trained network and its
#   linearised model, over the whole trajectory and at test inputs, falls like $n^{-1}$ for erf
#   and more slowly for ReLU (whose linearisation is only piecewise valid).
# - **The linearisation is the infinite-width kernel regression.** For erf, what remains between
#   a wide network and kernel regression with the analytic NTK falls like the $n^{-1/2}$
#   fluctuation of $\Theta_0$ around $\Theta$ at initialisation (§1), not faster. For ReLU it falls
#   more slowly than that: the fitted exponent was 0.29–0.42 at seeds 0–5 (each ± 0.02–0.04), never
#   1/2. The $n^{-1/2}$ argument does not account for this, and we have not found what does
#   (ReLU's network−linearised gap, a second part of this distance, falls only about as fast as
#   $n^{-1/2}$ here, not like $n^{-1}$ as for erf); we leave it open.
#
# A wide network in the NTK parameterisation trains *lazily*: it learns, but its features, the
# gradients $\nabla_\theta f$, stay where they were at initialisation {cite:p}`chizat2019lazy`.
#
# ## 3. Spectral bias from the NTK spectrum
#
# In the lazy regime training is Chapter 1 with the NTK: the residual $f_t(X) - y$ decomposes
# into the eigenvectors $v_k$ of $\hat\Theta$, and each component decays on its own,
# $v_k\cdot(f_t - y) = (1 - \eta\lambda_k)^t\,v_k\cdot(f_0 - y)$. Directions of large $\lambda_k$ are
# learned first: the **spectral bias** of
# [Chapter 1](../01_foundations/01_linear_models.ipynb), now for a neural network
# {cite:p}`rahaman2019spectral,basri2020frequency`. Which directions are those? On $N$ equally
# spaced points of the circle the kernel depends only on the angle between its inputs, so
# $\hat\Theta$ is a circulant matrix: its eigenvectors are exactly the Fourier modes
# $\cos kt, \sin kt$, and its eigenvalues $\lambda_k$ are the Fourier coefficients of
# $\Theta(x_0, x_t)$: a smooth kernel has fast-decaying ones. We train a wide erf network on a
# target with equal weights on the modes $k = 1, 2, 3, 4$ and follow each mode of the residual.
# To make the residual start at $-y$ we train on $y + f_0(X)$, which is the same as training the
# centred network $f - f_0$ on $y$: then the weights move only as much as the target requires.

# %%
N_sb = params.sb_points
t_sb = 2 * np.pi * np.arange(N_sb) / N_sb
X_sb = circle(t_sb)
modes = (1, 2, 3, 4)
Theta_sb = kernels.ntk_kernel(X_sb.numpy(), depth=1, activation="erf", sigma_w2=sw2, sigma_b2=sb2) / N_sb
lam_k = np.real(np.fft.fft(Theta_sb[0]))  # eigenvalue of the Fourier mode k (circulant matrix)
lr_sb = 0.5 / lam_k.max()

model = net(params.wide_width, seed=7, activation="erf")
T_emp_sb = empirical_ntk(model, X_sb).numpy() / N_sb
with torch.no_grad():
    f0_sb = model(X_sb)[:, 0].numpy()
y_sb = 0.5 * sum(np.cos(k * t_sb) for k in modes) + f0_sb  # the centred target
sb_record = np.unique(np.geomspace(1, params.sb_steps, 40).astype(int))
opt = torch.optim.SGD(model.parameters(), lr=lr_sb)
y_sb_t = torch.tensor(y_sb)[:, None]
residual_modes = []
for step in range(params.sb_steps + 1):
    if step in sb_record:
        with torch.no_grad():
            r = model(X_sb)[:, 0].numpy() - y_sb
        residual_modes.append([np.cos(k * t_sb) @ r for k in modes])
    if step == params.sb_steps:
        break
    opt.zero_grad()
    half_mse(model(X_sb), y_sb_t).backward()
    opt.step()
residual_modes = np.array(residual_modes)
r0 = np.array([np.cos(k * t_sb) @ (f0_sb - y_sb) for k in modes])
theory_modes = (1 - lr_sb * lam_k[list(modes)])[None, :] ** sb_record[:, None] * r0[None, :]

fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
ax = axes[0]
ks = np.arange(1, N_sb // 2 + 1)
ax.plot(ks, lam_k[ks], "k-", label="analytic NTK: Fourier coefficients")
emp_eig = np.array([np.cos(k * t_sb) @ T_emp_sb @ np.cos(k * t_sb) / (np.cos(k * t_sb) @ np.cos(k * t_sb)) for k in ks])
ax.plot(ks, emp_eig, "o", mfc="none", color=cu.plotting.PALETTE[0],
        label=f"network of width {params.wide_width}: $v_k\\cdot\\hat\\Theta v_k$")
ax.set_yscale("log")
ax.set_xlabel("frequency k on the circle")
ax.set_ylabel("eigenvalue $\\lambda_k$ of $\\hat\\Theta$")
ax.legend()
ax = axes[1]
for i, k in enumerate(modes):
    cu.plotting.theory_and_experiment(ax, sb_record, np.abs(theory_modes[:, i] / r0[i]),
                                      np.abs(residual_modes[:, i] / r0[i]), label=f"k = {k}",
                                      color=cu.plotting.PALETTE[i])
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_ylim(1e-4, 2)
ax.set_xlabel("gradient-descent step t")
ax.set_ylabel("residual in mode k, relative to t = 0")
ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
plt.show()
print("eigenvalues λ_k of the modes k = " + ", ".join(f"{k}: {lam_k[k]:.3g}" for k in modes)
      + f"; learning order: k = {', '.join(str(modes[i]) for i in np.argsort(-lam_k[list(modes)]))}")
cu.check_close("empirical NTK eigenvalues (width {}) vs analytic".format(params.wide_width), emp_eig, lam_k[ks],
               rtol=0.05)
visible = np.abs(theory_modes / r0) > 1e-3
cu.check_close("residual per mode: network vs (1 − ηλ_k)^t", residual_modes[visible], theory_modes[visible],
               rtol=0.05)

# %% [markdown]
# The NTK eigenvalues fall steeply with frequency (faster than a power law: the erf kernel is
# smooth), and the network learns the modes in the order of their eigenvalues, each on its own
# clock $1/\eta\lambda_k$, exactly as the modes of a linear model in Chapter 1: the $k = 1$ mode
# is gone within a few steps, the $k = 4$ mode needs hundreds. The order is that of the
# eigenvalues, not strictly of the frequencies: here $\lambda_3 > \lambda_2$, and mode 3 is learned
# before mode 2. Broadly, a wide network fits the smooth, low-frequency part of a target first,
# and fine detail, or noise, only if trained long enough: early stopping is a low-pass filter.
# Below about 1 % of its initial size the residual of a mode stops following its own clock
# (the $k = 1$ markers level off): the kernel of a finite network is not exactly circulant, so
# the modes leak into each other at the level of its $n^{-1/2}$ fluctuations. The check above
# uses the points where the theory is above $10^{-3}$.
#
# The agreement needs the network to stay lazy *in the slow directions*, which is more demanding
# than a small $\|\Theta_T - \Theta_0\|/\|\Theta_0\|$: a change of the kernel that is tiny compared
# with $\lambda_1$ can be large compared with $\lambda_4$. Without centring, or with a ReLU network
# of this width, the small eigenvalues grow or shrink by tens of percent during training and
# the slow modes part from the frozen-kernel prediction: the kernel aligns itself with the
# target, a first sign of feature learning.
#
# ## 4. Standard versus NTK parameterisation, and what breaks the lazy picture
#
# **Parameterisation.** With the same random function at initialisation, the standard
# parameterisation differentiates with respect to $W = \sigma_w V/\sqrt n$ instead of $V$: the
# readout layer's $n$ terms each contribute $\phi(f)^2 = O(1)$ instead of $O(1/n)$, so the tangent
# kernel grows like $n$. Gradient descent is stable only for $\eta < 2/\lambda_{\max}(\hat\Theta)$
# (Chapter 1's bound), so a standard-parameterised network needs a learning rate that shrinks
# like $1/n$, and a fixed learning rate that works at one width diverges at a larger one. We
# measure $\lambda_{\max}$ of both.

# %%
lam_param = {"ntk": [], "standard": []}
for n in params.param_widths:
    for p in lam_param:
        T = empirical_ntk(net(n, seed=3, parameterization=p), X_train).numpy() / n_train
        lam_param[p].append(np.linalg.eigvalsh(T).max())
pw = np.array(params.param_widths)
fig, ax = plt.subplots(figsize=(6, 3.8))
fit_std = cu.plotting.loglog_fit(ax, pw, lam_param["standard"], label="standard parameterisation",
                                 color=cu.plotting.PALETTE[1], exponent_name="slope")
ax.plot(pw, lam_param["ntk"], "o", color=cu.plotting.PALETTE[0], label="NTK parameterisation (measured)")
ax.axhline(lam_max, color=cu.plotting.PALETTE[0], label="NTK parameterisation, $n = \\infty$ (theory)")
ax.set_xlabel("width n (units)")
ax.set_ylabel("$\\lambda_{\\max}(\\hat\\Theta)$ = 2 / critical learning rate")
ax.legend(fontsize=8)
plt.show()
print(f"standard parameterisation: λ_max ∝ n^{-fit_std.alpha:.3f}")
cu.check_close("standard parameterisation: exponent of λ_max vs width", -fit_std.alpha, 1.0, atol=0.1)
cu.check_close("NTK parameterisation: λ_max at every width vs the analytic kernel", np.array(lam_param["ntk"]),
               np.full(len(pw), lam_max), rtol=0.1)

# %% [markdown]
# **Large learning rates: the catapult.** For a linear model, $\eta > 2/\lambda_{\max}$ means
# divergence: the top mode is multiplied by $|1 - \eta\lambda_{\max}| > 1$ every step. A network is
# not linear, and {cite:t}`lewkowycz2020large` found a window above the critical learning rate in
# which the loss first grows, the kernel's top eigenvalue then *falls* until it is below
# $2/\eta$, and training converges, in a flatter region than it started: the **catapult**. Above
# a second threshold the network diverges too; for their solvable model it is $4/\lambda_{\max}$,
# twice the critical rate. First one ReLU network of width 2048, trained at several multiples of
# its critical learning rate $\eta_c = 2/\lambda_{\max}(\hat\Theta_0)$, with its linearisation at
# the same rates.

# %%
cat_ratios = (0.5, 1.2, 1.6, 3.0)
catapult = {}
for ratio in cat_ratios:
    model = net(params.catapult_width, seed=11)
    lam0 = np.linalg.eigvalsh(empirical_ntk(model, X_train).numpy() / n_train).max()
    lr_c = ratio * 2 / lam0
    lin = LinearizedModel(model)
    opt, opt_lin = torch.optim.SGD(model.parameters(), lr=lr_c), torch.optim.SGD(lin.parameters(), lr=lr_c)
    loss, loss_lin, lam_t = [], [], []
    for step in range(params.catapult_steps):
        if step % 5 == 0 and (not loss or loss[-1] < 1e6):
            lam_t.append((step, np.linalg.eigvalsh(empirical_ntk(model, X_train).numpy() / n_train).max()))
        for m, o, record_to in ((model, opt, loss), (lin, opt_lin, loss_lin)):
            if record_to and not record_to[-1] < 1e6:   # diverged: stop updating, keep recording
                record_to.append(np.inf)
                continue
            o.zero_grad()
            L = half_mse(m(X_train), y_tensor)
            record_to.append(L.item())
            L.backward()
            o.step()
    catapult[ratio] = dict(loss=np.array(loss), loss_lin=np.array(loss_lin), lam=np.array(lam_t), lr=lr_c, lam0=lam0)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.9))
for i, ratio in enumerate(cat_ratios):
    c = catapult[ratio]
    axes[0].plot(c["loss"], "-", color=cu.plotting.PALETTE[i], label=f"network, $\\eta = {ratio}\\,\\eta_c$")
    axes[0].plot(c["loss_lin"], ":", color=cu.plotting.PALETTE[i], label=f"linearised, $\\eta = {ratio}\\,\\eta_c$")
    axes[1].plot(c["lam"][:, 0], c["lam"][:, 1] * c["lr"] / 2, "o-", ms=3, color=cu.plotting.PALETTE[i],
                 label=f"$\\eta = {ratio}\\,\\eta_c$")
axes[0].set_yscale("log")
axes[0].set_ylim(1e-5, 1e6)
axes[0].set_xlabel("gradient-descent step")
axes[0].set_ylabel("training loss")
axes[0].legend(fontsize=7, ncol=2)
axes[1].axhline(1.0, color="k", ls="--", lw=1, label="stability edge $\\eta\\lambda_{\\max} = 2$")
axes[1].set_yscale("log")
axes[1].set_ylim(0.1, 10)
axes[1].set_xlabel("gradient-descent step")
axes[1].set_ylabel("$\\eta\\,\\lambda_{\\max}(\\hat\\Theta_t)/2$")
axes[1].legend(fontsize=8)
plt.show()
for ratio in cat_ratios:
    c = catapult[ratio]
    lin_end = "diverged" if not np.isfinite(c["loss_lin"][-1]) else f"final loss {c['loss_lin'][-1]:.3g}"
    if np.isfinite(c["loss"][-1]):
        print(f"η = {ratio} η_c: network loss {c['loss'][0]:.3g} → peak {np.max(c['loss']):.3g} → end "
              f"{c['loss'][-1]:.3g}; ηλ_max/2 from {c['lr'] * c['lam0'] / 2:.2f} to {c['lr'] * c['lam'][-1, 1] / 2:.2f}; "
              f"linearised model: {lin_end}")
    else:
        print(f"η = {ratio} η_c: network diverged; linearised model: {lin_end}")
lazy = catapult[cat_ratios[0]]
cu.check_less(f"η = {cat_ratios[0]} η_c: relative change of λ_max (lazy)", abs(lazy["lam"][-1, 1] / lazy["lam0"] - 1),
              0.05)
for ratio in cat_ratios[1:]:
    cu.check_true(f"η = {ratio} η_c: the linearised model diverges (loss > 10⁶)",
                  not catapult[ratio]["loss_lin"][-1] < 1e6, detail=f"final loss {catapult[ratio]['loss_lin'][-1]:.3g}")

# %% [markdown]
# Below $\eta_c$ the network and its linearisation train alike and $\lambda_{\max}$ stays put (the
# lazy regime). Above $\eta_c$ the linearised model diverges, as any linear model must (a
# theorem: exercise below), while the network's loss shoots up by orders of magnitude and then
# comes back down: in the meantime its top tangent-kernel eigenvalue has dropped below the
# stability edge $2/\eta$. The kernel moved by a large factor at a width where §2 found it frozen:
# a large learning rate takes the network out of the lazy regime.
#
# **Where is the second edge? A question about the distribution.** Whether one network
# survives a given $\eta$ is a chaotic outcome of its draw: near the edge, two networks of the
# same width, or the same network on another CPU, can end differently. So we train
# `catapult_networks` = 24 independent networks at each multiple of their own $\eta_c$, all of them
# as one batch of tensors (`course_utils.theory.ntk_empirical.catapult_ensemble`; its tangent kernel is the closed
# form for one hidden layer, $\Theta = \sigma_b^2 + \frac{\sigma_w^2}{n}\sum_j\phi(h_j)\phi(h_j') +
# \frac{\sigma_w^2}{n}\sum_j V_j^2\phi'(h_j)\phi'(h_j')K^0(x,x')$, tested against `empirical_ntk`),
# for 500 steps, and count the outcomes: **diverged** (the loss passed $10^6$) or **converged**
# (final loss below $10^{-2}$). Each fraction $\hat p$ of $K$ networks has the binomial standard error
# $\sqrt{\hat p(1-\hat p)/K}$; the claims are tested with a margin of four of them.

# %%
K_cat, grid = params.catapult_networks, np.array(params.catapult_grid)
ens = catapult_ensemble([net(params.catapult_width, seed=200 + k) for k in range(K_cat)], list(grid),
                        params.catapult_grid_steps, X_train, y_train)
diverged = ~np.isfinite(ens["final"])
converged = ens["final"] < 1e-2
p_conv = converged.mean(0)
se_conv = np.sqrt(p_conv * (1 - p_conv) / K_cat)
rise = ens["peak"] / ens["initial"]

fig, ax = plt.subplots(figsize=(6.5, 3.8))
ax.errorbar(grid, p_conv, yerr=se_conv, fmt="o", capsize=3, label=f"experiment: {K_cat} networks (± 1 s.e.)")
ax.step([1.0, 2.0, 2.0, 3.2], [1, 1, 0, 0], "k--", where="post", lw=1,
        label="solvable model: converges up to $4/\\lambda_{\\max} = 2\\,\\eta_c$")
ax.set_xlabel("learning rate $\\eta / \\eta_c$")
ax.set_ylabel("fraction of networks that converge")
ax.set_ylim(-0.05, 1.05)
ax.legend(fontsize=8)
plt.show()
print(" η/η_c   converged   diverged   neither   median peak/initial loss   max ηλ_max/2 of the converged")
for j, r in enumerate(grid):
    c = converged[:, j]
    print(f"{r:5.1f}   {c.sum():3d}/{K_cat}      {diverged[:, j].sum():3d}/{K_cat}     {(~c & ~diverged[:, j]).sum():3d}"
          f"        {np.median(rise[:, j][c]) if c.any() else np.nan:10.3g}                "
          f"{ens['edge'][:, j][c].max() if c.any() else np.nan:.3f}")
col = {r: j for j, r in enumerate(grid)}
for r in (1.2, 1.6):
    cu.check_count(f"η = {r} η_c: networks that converge (the linearised model diverges)", converged[:, col[r]].sum(),
                   at_least=K_cat, of=K_cat)
cu.check_count("η = 1.6 η_c: networks whose loss first rises tenfold or more", (rise[:, col[1.6]] > 10).sum(),
               at_least=K_cat, of=K_cat)
cu.check_count("converged runs (all rates) that end with ηλ_max/2 < 1", (ens["edge"][converged] < 1).sum(),
               at_least=int(converged.sum()), of=int(converged.sum()))
cu.check_count("η = 2.0 η_c: the edge is here: networks that converge (some, not all)", converged[:, col[2.0]].sum(),
               at_least=1, at_most=K_cat - 1, of=K_cat)
cu.check_count("η = 2.4 η_c: networks that diverge (most: more than half)", diverged[:, col[2.4]].sum(),
               at_least=K_cat // 2 + 1, of=K_cat)
# claim: at 3 η_c at most p0 = 5 % of networks converge; tested with a margin of 4 binomial s.e.
p0 = 0.05
cu.check_count("η = 3.0 η_c: networks that still converge (≤ 5 %, + 4 s.e.)", converged[:, col[3.0]].sum(),
               at_most=int(K_cat * p0 + 4 * np.sqrt(K_cat * p0 * (1 - p0))), of=K_cat)

# %% [markdown]
# Every network converges at $1.2\,\eta_c$ and $1.6\,\eta_c$, where its linearisation diverges;
# every run that converges ends with $\eta\lambda_{\max}/2 < 1$, as it must: at a minimum of the
# squared loss the Hessian is $J^\top J/N$, whose top eigenvalue is that of $\hat\Theta$, so gradient
# descent can only settle where $\eta\lambda_{\max} < 2$. The second edge is not sharp. At
# $2\,\eta_c$, the solvable model's edge, some networks converge and others diverge; at
# $2.4\,\eta_c$ most diverge, and at $3\,\eta_c$ nearly all, but not all. (At each of the seeds 1–5
# of `benchmarks/robustness.md`, one of the 24 networks still converges at $3\,\eta_c$: that is why
# the claim there is "at most about 5 %", not "all".) So one network "converging at $2\,\eta_c$" or "diverging at
# $2.4\,\eta_c$" is a draw from this distribution, not a property of the width: the edge of
# most networks sits close to the solvable model's $4/\lambda_{\max}$, with a tail of networks
# whose catapult survives larger rates. (We have not found what sets that tail; the solvable
# model has a single mode, while here the top eigenvalue of $\hat\Theta$ competes with the
# others.) The fraction at each rate, with its error bar, is the claim.
#
# **Small width.** The sweep of §2 showed the other way out: at width 256 the kernel moves by
# several percent during training and the network and its linearisation part by about as much.
# The kernel picture is a statement about a limit, and both small width and large learning
# rates let the features move. A third way is a different parameterisation: the
# "mean-field" or maximal-update scaling {cite:p}`yang2021tensor`, in which the readout is
# multiplied by $1/n$ instead of $1/\sqrt n$ and features move by $O(1)$ at any width. That is
# **feature learning**, the subject of the next part.
#
# ## 5. What it means
#
# - The tangent kernel $\Theta = \nabla_\theta f\cdot\nabla_\theta f$ turns any training run into a
#   linear equation in function space; for a wide network in the NTK parameterisation it is
#   deterministic at initialisation and frozen during training.
# - A wide network then trains as its linearisation, and its prediction is kernel regression with
#   the analytic NTK plus the initial function. We measured the approach: the kernel's change
#   falls like $n^{-1}$ (erf) or about $n^{-3/4}$ (ReLU), both inside the $n^{-1/2}$ bound, and
#   the distance to the analytic kernel regression like $n^{-1/2}$ for erf, more slowly for ReLU.
# - Everything Chapter 1 said about linear models then holds for wide networks: modes learned in
#   order of their NTK eigenvalue (spectral bias), a critical learning rate $2/\lambda_{\max}$, and
#   an implicit bias set by the kernel.
# - The lazy picture breaks at small width, above the critical learning rate (the catapult), and
#   in parameterisations where features must move. The chapters on feature learning start there.
#
# ## Exercises
#
# :::{exercise} The NTK of one hidden layer
# :label: ex-ntk-one-layer
#
# Derive the analytic NTK of a one-hidden-layer ReLU network in the NTK parameterisation from
# the recursion of §1, as a closed-form function of $K^0(x, x')$, $K^0(x, x)$ and $K^0(x', x')$.
# Implement it as `ntk_fn(X1, X2, sigma_w2, sigma_b2)` (NumPy, without `kernels.ntk_kernel`) and
# check it with `exercises.check_relu_ntk_one_layer(ntk_fn)`.
# :::
#
# :::{solution-start} ex-ntk-one-layer
# :class: dropdown
# :::
#
# With $\cos\theta = K^0(x,x')/\sqrt{K^0(x,x)K^0(x',x')}$: $K^1 = \sigma_b^2 + \frac{\sigma_w^2}{2\pi}\sqrt{K^0(x,x)K^0(x',x')}\,(\sin\theta + (\pi-\theta)\cos\theta)$,
# $\dot K^1 = (\pi - \theta)/2\pi$, and $\Theta^1 = K^1 + \sigma_w^2\dot K^1 K^0$. The first term is the
# readout layer's share, the second the hidden layer's.

# %%
def ntk_fn(X1, X2, sigma_w2, sigma_b2):
    d = X1.shape[1]
    K0 = sigma_b2 + sigma_w2 * X1 @ X2.T / d
    n1 = np.sqrt(sigma_b2 + sigma_w2 * np.sum(X1 ** 2, axis=1) / d)
    n2 = np.sqrt(sigma_b2 + sigma_w2 * np.sum(X2 ** 2, axis=1) / d)
    cos = np.clip(K0 / np.outer(n1, n2), -1, 1)
    theta = np.arccos(cos)
    K1 = sigma_b2 + sigma_w2 / (2 * np.pi) * np.outer(n1, n2) * (np.sin(theta) + (np.pi - theta) * cos)
    return K1 + sigma_w2 * (np.pi - theta) / (2 * np.pi) * K0


exercises.check_relu_ntk_one_layer(ntk_fn)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Why the standard parameterisation's kernel grows
# :label: ex-ntk-standard
#
# For one hidden layer, $f = b^1 + \sum_j W^1_j\phi(h_j)$ with $h = b^0 + W^0x$, in the standard
# parameterisation ($W^1_j\sim\mathcal N(0, \sigma_w^2/n)$ trained directly), compute each layer's
# contribution to $\Theta(x, x)$ at large $n$. Which one grows with $n$, and how must the learning
# rate scale for gradient descent to stay stable? What happens to the other layers' share of the
# learning in that case?
# :::
#
# :::{solution} ex-ntk-standard
# :class: dropdown
#
# Readout weights: $\sum_j\phi(h_j)^2 = n\,\mathbb E\phi^2$, which grows like $n$. Readout bias: 1.
# Hidden weights: $\sum_j (W^1_j)^2\phi'(h_j)^2\,|x|^2 = \sigma_w^2\,\mathbb E\phi'^2\,|x|^2 = O(1)$; hidden
# biases likewise $O(1)$. So $\lambda_{\max} \propto n$ (the fitted slope in §4 is close to 1) and
# stability needs $\eta \lesssim 2/(n\,\mathbb E\phi^2)$. With such a learning rate the hidden
# layer's contribution to $\partial_t f$ is $O(1/n)$ of the readout's: in the limit only the readout
# learns, a random-features model, whose kernel is the NNGP kernel of the previous chapter rather
# than the NTK. The NTK parameterisation instead gives each layer an $O(1)$ share.
# :::
#
# :::{exercise} The critical learning rate of a quadratic
# :label: ex-ntk-critical-lr
#
# The linearised model's loss is a quadratic in $\theta$. Show that gradient descent on it
# converges for every initial condition if and only if $\eta < 2/\lambda_{\max}(\hat\Theta)$
# (where $\hat\Theta$ is the tangent kernel on the training set divided by $N$), and that the
# function on the training set obeys $f_{t+1} - y = (1 - \eta\hat\Theta)(f_t - y)$. What does this
# predict for the linearised curves of the catapult figure?
# :::
#
# :::{solution} ex-ntk-critical-lr
# :class: dropdown
#
# $f_{\rm lin}(X;\theta) = f_0(X) + J(\theta - \theta_0)$ with $J$ the $N\times P$ Jacobian, and
# $\nabla_\theta L = J^\top(f - y)/N$. One step changes $f$ by $-\eta JJ^\top(f - y)/N = -\eta\hat\Theta(f - y)$,
# so $f_{t+1} - y = (1 - \eta\hat\Theta)(f_t - y)$, and in the eigenbasis of $\hat\Theta$ each component
# is multiplied by $1 - \eta\lambda_k$. All converge iff $|1 - \eta\lambda_k| < 1$ for all $k$, i.e.
# $\eta < 2/\lambda_{\max}$. Above it, the top component grows like $|1 - \eta\lambda_{\max}|^t$: at
# $\eta = 1.6\,\eta_c$ the factor is $|1 - 3.2| = 2.2$ per step, and the linearised loss grows about
# fivefold per step, as the dotted curves do until they leave the plot.
# :::
#
# ## Summary
#
# - The empirical NTK of a random network converges to the analytic recursion
#   $\Theta^\ell = K^\ell + \sigma_w^2\dot K^\ell\Theta^{\ell-1}$ as $n^{-1/2}$ (measured in §1).
# - During training at a small learning rate the kernel hardly moves (measured: $\propto n^{-1}$
#   for erf, about $n^{-3/4}$ for ReLU), the network follows its linearisation, and its
#   predictions approach kernel regression with the analytic NTK.
# - Spectral bias: the residual decays mode by mode at the rates $\eta\lambda_k$ of the NTK
#   spectrum, low frequencies first.
# - In the standard parameterisation $\lambda_{\max}$ grows like $n$ (measured slope near 1), so
#   the learning rate must shrink like $1/n$.
# - Above $\eta_c = 2/\lambda_{\max}$ the linearised model diverges but the network can catapult
#   to a flatter region; where it stops doing so is a distribution over networks, centred near the
#   solvable model's $2\,\eta_c$ with a tail to larger rates; small width and large learning rates end the lazy regime.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
