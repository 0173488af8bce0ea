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
# # Training in the infinite-width limit: the neural tangent kernel
#
# The previous chapter described a wide network before training: a Gaussian process. What does
# gradient descent do to it? Every weight moves, the network is non-linear in its weights, and
# the loss is not convex; yet for a wide network the answer is as simple as for the linear models of
# [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb). In the
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
# **Runs in:** about two and a half minutes on a laptop CPU (`COURSE_SCALE=default`);
# `COURSE_SCALE=paper` trains wider networks with more seeds.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/03_wide_networks/02_ntk.ipynb)
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
from course_utils.exercises import wide_networks as exercises
from course_utils.ensemble import BatchedMLP, BatchedSGD, mse_per_sample, train_ensemble
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
# about two and a half minutes, and `COURSE_SCALE=paper` (widths up to 32768, sixteen networks per width in
# the sweep of §2) in a good deal longer.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        init_widths=(64, 128, 256, 512, 1024, 2048), init_seeds=6,          # §1
        sweep_widths=(256, 512, 1024, 2048, 4096, 8192), sweep_seeds=8,      # §2
        train_steps=500, wide_width=4096,
        sb_points=32, sb_steps=3000,                                          # §3
        param_widths=(64, 256, 1024, 4096), catapult_width=2048, catapult_steps=300,  # §4
        catapult_networks=32, catapult_grid=(1.6, 1.9, 2.0, 2.1, 2.2, 2.4, 3.0), catapult_grid_steps=500,
    ),
    paper=dict(init_widths=(64, 128, 256, 512, 1024, 2048, 4096), init_seeds=8,
               sweep_widths=(256, 512, 1024, 2048, 4096, 8192, 16384, 32768), sweep_seeds=16,
               wide_width=16384, param_widths=(64, 256, 1024, 4096, 16384), catapult_width=8192),
)
P

# %% [markdown]
# ## 1. The tangent kernel
#
# **Training in function space.** Fit $N$ examples $(x_\mu, y_\mu)$ with the squared loss of
# [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb), $L(\theta) = \frac{1}{2N}\sum_\mu (f(x_\mu;\theta) - y_\mu)^2$, by gradient flow
# $\dot\theta = -\eta\nabla_\theta L$. By the chain rule the function moves as
#
# $$
# \begin{aligned}
# \partial_t f(x) &= \nabla_\theta f(x)\cdot\dot\theta
# = -\frac{\eta}{N}\sum_{\mu}\Theta(x, x_\mu)\,\bigl(f(x_\mu) - y_\mu\bigr),\\
# \Theta(x, x') &= \sum_{p}\frac{\partial f(x)}{\partial\theta_p}\frac{\partial f(x')}{\partial\theta_p}.
# \end{aligned}
# $$ (eq-ntk-function-space)
#
# This is exact for any model; $\Theta$ is its **tangent kernel**: the Gram matrix of the
# gradients, the features the model is linear in, to first order. For a linear model
# $f = \theta\cdot\phi(x)$ it is $\phi(x)\cdot\phi(x')$ and never changes
# ([Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)). For a network
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
# standard parameterisation the same sum grows like $n$: §4.)
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
# $$ (eq-ntk-recursion)
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
for n in P.init_widths:
    errs = []
    for s in range(P.init_seeds):
        T_emp = empirical_ntk(net(n, depth=2, seed=s), X_init).numpy()
        errs.append(np.linalg.norm(T_emp - Theta_init) / np.linalg.norm(Theta_init))
        if s == 0:
            init_rows[n] = T_emp[0]
    init_error.append(np.sqrt(np.mean(np.square(errs))))  # rms: its square is an average over networks
init_error = np.array(init_error)
fit_init = cu.fit_power_law(P.init_widths, init_error)  # init_error ∝ n^(−alpha)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
t_fine = np.linspace(0, np.pi, 200)
ax.plot(t_fine, kernels.ntk_kernel(X_init[:1].numpy(), circle(t_fine).numpy(), depth=2, sigma_w2=sw2,
                                   sigma_b2=sb2)[0], "k-", label="analytic NTK $\\Theta(x_0, x_\\vartheta)$")
for i, n in enumerate((P.init_widths[0], P.init_widths[-1])):
    ax.plot(angles_init, init_rows[n], "os"[i], mfc="none", color=cu.plotting.PALETTE[i],
            label=f"one network of width {n}")
ax.set_xlabel("angle $\\vartheta$ between the inputs (rad)")
ax.set_ylabel("tangent kernel")
ax.legend(fontsize=7, loc="upper right")
ax = axes[1]
cu.plotting.loglog_fit(ax, P.init_widths, init_error, label=f"rms over {P.init_seeds} networks",
                       exponent_name="slope")
ax.set_xlabel("width n (units)")
ax.set_ylabel("$\\|\\hat\\Theta - \\Theta\\|_F / \\|\\Theta\\|_F$ at initialisation")
ax.legend(fontsize=8)
plt.show()

# %%
print(f"empirical NTK → analytic NTK as n^(-{fit_init.alpha:.3f} ± {fit_init.alpha_stderr:.3f})")
# tolerance: 0.1, or four standard errors of the fitted exponent where the scatter of the few networks
# per width makes it larger (the error of the fit comes from the scatter of the points about the line)
cu.check_close("exponent of the convergence of the NTK at initialisation", fit_init.alpha, 0.5,
               atol=max(0.1, 4 * fit_init.alpha_stderr))
cu.check_less(f"relative distance at width {P.init_widths[-1]}", init_error[-1], 0.1)

# %% [markdown]
# The empirical kernel of a single network scatters around the analytic curve at width 64 and
# lies on it at width 2048; its distance falls as $n^{-1/2}$, the size of the fluctuations of an
# average over $n$ units. So at initialisation the tangent kernel of a wide network is the
# deterministic $\Theta$.
#
# ## 2. Lazy training: the kernel does not move
#
# **The claim.** If $\Theta$ stayed equal to its initial value during training, the function-space
# equation {eq}`eq-ntk-function-space` would be linear with constant coefficients, and its solution is that of
# [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb) with
# the kernel in place of the feature covariance. Writing $\hat\Theta = \Theta(X, X)/N$ for the
# kernel on the training set,
#
# $$
# f_t(X) = y + e^{-\eta\hat\Theta t}\,(f_0(X) - y), \qquad
# f_t(x) = f_0(x) - \tfrac1N\Theta(x, X)\,\hat\Theta^{-1}\bigl(1 - e^{-\eta\hat\Theta t}\bigr)(f_0(X) - y),
# $$ (eq-ntk-lazy-dynamics)
#
# and for gradient descent with step $\eta$, $e^{-\eta\hat\Theta t}$ becomes $(1 - \eta\hat\Theta)^t$
# (`kernels.kernel_regression_dynamics`). At $t\to\infty$ this is kernel regression with the NTK,
# plus the initial function's contribution. A model whose tangent kernel is exactly constant is
# the **linearised network**
#
# $$
# f_{\rm lin}(x;\theta) = f(x;\theta_0) + \nabla_\theta f(x;\theta_0)\cdot(\theta - \theta_0),
# $$ (eq-ntk-linearised)
#
# linear in $\theta$ with the random features $\nabla_\theta f(x;\theta_0)$ (`LinearizedModel`,
# one forward-mode product `torch.func.jvp` per call). Gradient descent on $f_{\rm lin}$ follows
# {eq}`eq-ntk-lazy-dynamics` *exactly*, with the network's empirical $\Theta_0$.
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
# compare three predictions: the trained network, its linearisation ({eq}`eq-ntk-lazy-dynamics` with its own
# $\Theta_0$), and kernel regression with the analytic NTK ({eq}`eq-ntk-lazy-dynamics` with the width-$\infty$ $\Theta$
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


def train_gd(model, lr, steps, record=(), X=None, y=None, X_eval=None):
    """Full-batch gradient descent on ½ mean (f(x) − y)² over the inputs X (default: the 16 training points);
    returns f at the recorded steps on X_eval (default: all inputs), shape (records, len(X_eval))."""
    X = X_train if X is None else X
    y = y_tensor if y is None else y
    X_eval = X_all if X_eval is None else X_eval
    hist = cu.train(model, half_mse, X, y, steps=steps, lr=lr, record_steps=record,
                    metrics={"f": lambda m: m(X_eval)[:, 0]}, progress=False)
    return hist["f"]


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
steps = P.train_steps
record = [0, 10, 40, steps]
model = net(P.wide_width, seed=1)
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

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.2, 3.8))
order = np.argsort(np.concatenate([t_train, t_test]))
t_all = np.concatenate([t_train, t_test])
for i, step in enumerate(record):
    ax.plot(t_all[order], f_ker[i][order], "-", color=cu.plotting.PALETTE[i], label=f"kernel theory, step {step}")
    ax.plot(t_all, f_net[i], "o", mfc="none", ms=4, color=cu.plotting.PALETTE[i], label=f"network, step {step}")
ax.plot(t_train, y_train, "k*", ms=9, label="training data")
ax.set_xlabel("angle t of the input on the circle (rad)")
ax.set_ylabel("f(x)")
handles = ax.get_legend_handles_labels()[0]   # (kernel theory, network) of each recorded step, then the data
fig.legend([tuple(handles[2 * i:2 * i + 2]) for i in range(len(record))]
           + [plt.Line2D([], [], color="k"), plt.Line2D([], [], color="k", marker="o", mfc="none", ls="none"),
              handles[-1]],
           [f"step {step}" for step in record] + ["kernel theory", "network", "training data"],
           ncol=4, fontsize=8, loc="outside lower center")
plt.show()

# %%
cu.check_close(f"width {P.wide_width}: network vs analytic-kernel prediction, all steps and inputs",
               f_net, f_ker, rtol=0.05)

# %% [markdown]
# The network's function at every recorded step lies on the kernel prediction, from the random
# initial function (blue) to the fit (pink). The linearised model trained as a model by gradient
# descent matches the closed-form kernel dynamics with its own $\Theta_0$ to rounding error, as it
# must. Now the width sweep: how fast do network, linearisation and kernel theory come together?
# At each width the `sweep_seeds` networks are trained as one ensemble (`ensemble.BatchedMLP` in the
# same NTK parameterisation, member $s$ the network drawn from seed $s$; each follows the trajectory it
# would follow alone, to rounding).

# %%
K_sw, widths = P.sweep_seeds, np.array(P.sweep_widths)
scale = np.sqrt(np.mean(y_train ** 2))
sweep = {}  # per activation: kernel change (widths, K) and the two parts of the gap (widths, K, steps, inputs) / rms y
for act in ("relu", "erf"):
    Theta_inf = analytic_ntk(act)
    lr_act = 1.0 / np.linalg.eigvalsh(Theta_inf[:n_train, :n_train] / n_train).max()
    change = np.zeros((len(widths), K_sw))
    net_lin, lin_ker = (np.zeros((len(widths), K_sw, len(record), len(X_all))) for _ in range(2))
    for i, n in enumerate(widths):
        # the K_sw networks of width n, trained as one ensemble (member s is net(n, seed=100 + s))
        nets = [net(int(n), seed=100 + s, activation=act) for s in range(K_sw)]
        ensemble = BatchedMLP.from_members(nets)
        T0 = [empirical_ntk(m, X_all).numpy() for m in nets]
        with torch.no_grad():
            f0 = ensemble(X_all)[..., 0].numpy()                                # (K_sw, inputs)
        hist = train_ensemble(ensemble, lambda out, target: 0.5 * mse_per_sample(out, target), X_train, y_tensor,
                              steps=steps, optimizer=BatchedSGD(ensemble.parameters(), lr=lr_act),
                              record_steps=record, metrics={"f": lambda m: m(X_all)[..., 0]}, progress=False)
        for s in range(K_sw):
            T_end = empirical_ntk(ensemble.member(s), X_all).numpy()
            change[i, s] = np.linalg.norm(T_end - T0[s]) / np.linalg.norm(T0[s])
            f_l = kernel_prediction(T0[s], f0[s], lr_act, np.array(record))          # its linearisation
            f_k = kernel_prediction(Theta_inf, f0[s], lr_act, np.array(record))      # the analytic NTK, same f0
            net_lin[i, s], lin_ker[i, s] = (hist["f"][:, s] - f_l) / scale, (f_l - f_k) / scale
    sweep[act] = dict(change=change, net_lin=net_lin, lin_ker=lin_ker, total=net_lin + lin_ker)


def rms_over_networks(D):
    """rms over networks, steps and inputs at each width, and its standard error (delta method on the mean
    of the K per-network mean squares)."""
    m2 = D.reshape(D.shape[0], D.shape[1], -1) ** 2
    m2 = m2.mean(-1)
    rms = np.sqrt(m2.mean(1))
    return rms, rms * m2.std(1, ddof=1) / np.sqrt(m2.shape[1]) / (2 * m2.mean(1))


rng_boot = np.random.default_rng(cu.seed(40))
boot = rng_boot.integers(0, K_sw, size=(200, len(widths), K_sw))  # networks resampled at each width


def exponent(D):
    """Power-law fit of the rms over networks against the width, with the larger of two standard errors of
    the exponent: the fit's (scatter of the points about the line) and the bootstrap's over the networks."""
    rms, _ = rms_over_networks(D)
    fit = cu.fit_power_law(widths, rms)
    alphas = [cu.fit_power_law(widths, rms_over_networks(D[np.arange(len(widths))[:, None], b])[0]).alpha
              for b in boot]
    return fit.alpha, max(fit.alpha_stderr, np.std(alphas, ddof=1))


def correlation(A, B):
    """ρ = Σ A·B / √(Σ A² Σ B²) over networks, steps and inputs, at each width."""
    ax = tuple(range(1, A.ndim))
    return (A * B).sum(ax) / np.sqrt((A ** 2).sum(ax) * (B ** 2).sum(ax))


def mean_part(D):
    """The part of D that is the same for every network: |E D|² estimated without the noise of a K-network
    mean, Σ_{k≠l} D_k·D_l / (K(K−1)), per entry, as a fraction of the rms of D; and its jackknife s.e."""
    K = D.shape[1]
    flat = D.reshape(D.shape[0], K, -1)

    def fraction(F):
        k = F.shape[1]
        tot = F.sum(1)
        b2 = ((tot ** 2).sum(-1) - (F ** 2).sum((1, 2))) / (k * (k - 1)) / F.shape[-1]
        return np.sign(b2) * np.sqrt(np.abs(b2) / (F ** 2).mean((1, 2)))

    est = fraction(flat)
    jack = np.array([fraction(np.delete(flat, k, axis=1)) for k in range(K)])
    return est, np.sqrt((K - 1) / K * ((jack - jack.mean(0)) ** 2).sum(0))


# %%
panels = [("change", "kernel change $\\|\\Theta_T - \\Theta_0\\|_F/\\|\\Theta_0\\|_F$"),
          ("net_lin", "network − linearised model"), ("lin_ker", "linearised model − analytic-NTK regression"),
          ("total", "network − analytic-NTK regression")]
fits = {(act, key): exponent(sweep[act][key]) for key, _ in panels for act in ("relu", "erf")}
rho = {act: correlation(sweep[act]["net_lin"], sweep[act]["lin_ker"]) for act in ("relu", "erf")}
frac = {act: mean_part(sweep[act]["total"]) for act in ("relu", "erf")}

# %% tags=["hide-input"]
fig, axes = cu.panels(6, panel_height=3.2)
for ax, (key, title) in zip(axes, panels):
    for i, act in enumerate(("relu", "erf")):
        rms, se = rms_over_networks(sweep[act][key])
        cu.plotting.loglog_fit(ax, widths, rms, label=f"{act} (rms over {K_sw} networks, ± 1 s.e.)",
                               color=cu.plotting.PALETTE[i], exponent_name="slope")
        ax.errorbar(widths, rms, yerr=se, fmt="none", color=cu.plotting.PALETTE[i], capsize=2)
    ref = rms_over_networks(sweep["relu"][key])[0][0]
    ax.plot(widths, ref * (widths / widths[0]) ** -0.5, "k:", lw=1, label="$n^{-1/2}$")
    ax.plot(widths, ref * (widths / widths[0]) ** -1.0, "k--", lw=1, label="$n^{-1}$")
    ax.set_title(title + ("" if key == "change" else "\n(rms / rms y)"), fontsize=9)
    h, lab = ax.get_legend_handles_labels()   # relu markers, relu fit, erf markers, erf fit, n^-1/2, n^-1
    ax.legend([(h[0], h[1]), (h[2], h[3]), h[4], h[5]],
              [lab[1].replace("fit: slope =", "relu: slope"), lab[3].replace("fit: slope =", "erf: slope"),
               lab[4], lab[5]], fontsize=7, loc="lower left")
for i, act in enumerate(("relu", "erf")):
    axes[4].plot(widths, rho[act], "o-", color=cu.plotting.PALETTE[i], label=act)
    axes[5].errorbar(widths, frac[act][0], yerr=frac[act][1], fmt="o-", capsize=2, color=cu.plotting.PALETTE[i],
                     label=act)
axes[4].axhline(0, color="k", lw=0.8)
axes[4].set_title("correlation ρ of the two parts of the gap", fontsize=9)
axes[4].set_ylabel("ρ(net − lin., lin. − analytic)")
axes[5].axhline(0, color="k", lw=0.8)
axes[5].set_title("network − analytic NTK:\nthe part common to all draws", fontsize=9)
axes[5].set_ylabel("rms of mean over draws / rms")
for ax in axes:
    ax.set_xscale("log")
    ax.set_xticks(widths, [str(w) for w in widths], rotation=45)
    ax.minorticks_off()
    ax.set_xlabel("width n (units)")
axes[4].legend(fontsize=7)
axes[5].legend(fontsize=7)
fig.suptitle(f"markers: rms over {K_sw} networks (± 1 s.e.); dashed: power-law fits", fontsize=10)
plt.show()

# %%
names = dict(change="kernel change", net_lin="network − linearised", lin_ker="linearised − analytic",
             total="network − analytic")
for act in ("relu", "erf"):
    print(act + ":\n" + "\n".join(f"    {names[k]} ∝ n^(-{fits[act, k][0]:.2f} ± {fits[act, k][1]:.2f})" for k, _ in panels))
print("width                      " + "".join(f"{n:>8d}" for n in widths))
for act in ("relu", "erf"):
    print(f"{act:4s} ρ(two parts)            " + "".join(f"{r:8.2f}" for r in rho[act]))
    print(f"{act:4s} mean part / rms total   " + "".join(f"{v:8.2f}" for v in frac[act][0])
          + "   (± " + ", ".join(f"{v:.2f}" for v in frac[act][1]) + ")")
rms_uncorr = np.sqrt(rms_over_networks(sweep["relu"]["net_lin"])[0] ** 2 + rms_over_networks(sweep["relu"]["lin_ker"])[0] ** 2)
fit_uncorr = cu.fit_power_law(widths, rms_uncorr)
rho_fit, rho_cov = np.polyfit(np.log(widths), rho["relu"], 1, cov=True)
print(f"ReLU, if the two parts were uncorrelated: total ∝ n^(-{fit_uncorr.alpha:.2f}); "
      f"ρ rises by {rho_fit[0]:.3f} ± {np.sqrt(rho_cov[0, 0]):.3f} per e-fold of width")

# Tolerances: four standard errors of the fitted exponent (the larger of the fit's and the bootstrap's over
# the networks), and not less than 0.05 where the law is the leading order of an expansion in 1/√n: the next
# order is smaller by about ‖Θ₀ − Θ‖/‖Θ‖ (≈ 0.1–0.2 at n = 256, §1), which bends a slope fitted over
# 256–8192 by up to (0.15 − 0.15/√32)/ln 32 ≈ 0.035.
def tolerance(act, key, floor=0.05):
    return max(floor, 4 * fits[act, key][1])


cu.check_close("erf: exponent of the kernel change (theory: smooth activation, 1)", fits["erf", "change"][0], 1.0,
               atol=tolerance("erf", "change"))
cu.check_close("ReLU: exponent of the kernel change (back-of-the-envelope estimate: 3/4)",
               fits["relu", "change"][0], 0.75, atol=max(0.15, 4 * fits["relu", "change"][1]))
cu.check_close("erf: exponent of network − linearised (theory 1)", fits["erf", "net_lin"][0], 1.0,
               atol=tolerance("erf", "net_lin"))
for act in ("erf", "relu"):
    cu.check_close(f"{act}: exponent of linearised − analytic (fluctuation of Θ₀, theory 1/2)",
                   fits[act, "lin_ker"][0], 0.5, atol=tolerance(act, "lin_ker"))
cu.check_close("erf: exponent of network − analytic NTK (the fluctuation dominates, 1/2)",
               fits["erf", "total"][0], 0.5, atol=tolerance("erf", "total"))
cu.check_close("ReLU: exponent of network − linearised (measured law: 1/2, not erf's 1)",
               fits["relu", "net_lin"][0], 0.5, atol=tolerance("relu", "net_lin"))
cu.check_count("ReLU: widths at which the two parts are anticorrelated (ρ < 0)", int((rho["relu"] < 0).sum()),
               at_least=len(widths), of=len(widths))
cu.check_less("ReLU: the anticorrelation weakens with width: 0 < slope of ρ vs ln n − 4 s.e.", 0.0,
              rho_fit[0] - 4 * np.sqrt(rho_cov[0, 0]))
cu.check_less("ReLU: network − analytic NTK falls more slowly than n^-1/2: exponent + 4 s.e. < 1/2",
              fits["relu", "total"][0] + 4 * fits["relu", "total"][1], 0.5)
cu.check_less("ReLU: both approximations within 2% of rms y at the largest width",
              max(rms_over_networks(sweep["relu"][k])[0][-1] for k in ("net_lin", "total")), 0.02)

# %% [markdown]
# The gap between a trained network and kernel regression with the analytic NTK has two parts, and we
# measured each on its own over `sweep_seeds` = 8 networks per width:
#
# $$
# f_{\rm net} - f_{\Theta} = \underbrace{(f_{\rm net} - f_{\rm lin})}_{\text{the network leaves its linearisation}}
# + \underbrace{(f_{\rm lin} - f_{\Theta})}_{\text{its kernel } \Theta_0 \text{ is not } \Theta}.
# $$ (eq-ntk-gap-parts)
#
# - **The kernel freezes.** Its relative change over the whole training run falls as a power of
#   the width, in every case at least as fast as the $n^{-1/2}$ bound: close to $n^{-1}$ for erf,
#   as the sign argument predicts for a smooth activation, and with an exponent near $3/4$ for
#   ReLU, whose kinks let units switch at the training inputs.
# - **The linearisation's error is the fluctuation of $\Theta_0$.** The second part is linear in
#   $\Theta_0 - \Theta$ to leading order, whose mean is zero and whose size is $n^{-1/2}$ (§1): it falls
#   as $n^{-1/2}$ for both activations (the checks above, with tolerances from the standard errors).
# - **erf: the network is its linearisation.** The first part falls like $n^{-1}$, so the whole gap is
#   the fluctuation and falls as $n^{-1/2}$. (The error bars are the standard errors of the rms over
#   eight networks; over two networks they would be twice as large, $\sqrt{8/2}$, enough to make two
#   neighbouring widths look level.)
# - **ReLU: two comparable parts that partly cancel.** The network leaves its linearisation by as
#   much as the linearisation misses the analytic kernel, and this part also falls as $n^{-1/2}$, not
#   like $n^{-1}$ (the linearisation of a ReLU network is valid only until units switch). The two
#   parts are *anticorrelated* (the table's $\rho$): where the network's own kernel $\Theta_0$ pulls
#   the linearised prediction away from the analytic one, the trained network goes less far.
#   The anticorrelation is strongest at small width and weakens steadily as the width grows, so the
#   cancellation is less complete at large width, and the sum falls more slowly than either part:
#   the fitted exponent of the total, printed above, is well below $1/2$. Were the parts
#   uncorrelated, the total would fall with the exponent printed for that case, close to $1/2$.
#   About half of ReLU's total gap is moreover common to all draws (the last panel; erf's is
#   indistinguishable from zero): a systematic difference between a finite ReLU network and its
#   infinite-width limit, not a fluctuation. We have not derived why the two parts anticorrelate, nor
#   how $\rho$ and the common part behave beyond $n = 8192$; what is measured is that the slow decay of
#   ReLU's gap is this partial cancellation, not a failure of the $n^{-1/2}$ law of $\Theta_0$.
#
# A wide network in the NTK parameterisation trains *lazily*: it learns, but its features, the
# gradients $\nabla_\theta f$, stay where they were at initialisation {cite:p}`chizat2019lazy`.
#
# ## 3. Spectral bias from the NTK spectrum
#
# In the lazy regime training is gradient descent on a linear model, with the NTK as its kernel: the residual $f_t(X) - y$ decomposes
# into the eigenvectors $v_k$ of $\hat\Theta$, and each component decays on its own,
# $v_k\cdot(f_t - y) = (1 - \eta\lambda_k)^t\,v_k\cdot(f_0 - y)$. Directions of large $\lambda_k$ are
# learned first: the **spectral bias** of
# [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb), now for a neural network
# {cite:p}`rahaman2019spectral,basri2020frequency`. Which directions are those? On $N$ equally
# spaced points of the circle the kernel depends only on the angle between its inputs, so
# $\hat\Theta$ is a circulant matrix: its eigenvectors are exactly the Fourier modes
# $\cos kt, \sin kt$, and its eigenvalues $\lambda_k$ are the Fourier coefficients of
# $\Theta(x_0, x_t)$: a smooth kernel has fast-decaying ones. We train a wide erf network on a
# target with equal weights on the modes $k = 1, 2, 3, 4$ and follow each mode of the residual.
# To make the residual start at $-y$ we train on $y + f_0(X)$, which is the same as training the
# centred network $f - f_0$ on $y$: then the weights move only as much as the target requires.

# %%
N_sb = P.sb_points
t_sb = 2 * np.pi * np.arange(N_sb) / N_sb
X_sb = circle(t_sb)
modes = (1, 2, 3, 4)
ks = np.arange(1, N_sb // 2 + 1)
sb_record = np.unique(np.geomspace(1, P.sb_steps, 40).astype(int))


def mode_eigenvalues(T):
    """v_k·T v_k / v_k·v_k for the cosine modes k = 1 … N/2: the eigenvalues of a circulant T."""
    return np.array([np.cos(k * t_sb) @ T @ np.cos(k * t_sb) / (np.cos(k * t_sb) @ np.cos(k * t_sb)) for k in ks])


def spectral_run(activation, centred, seed=7):
    """Train a network of width wide_width on ½ Σ_{k=1..4} cos kt (+ f₀ if centred) and follow each mode of the
    residual; returns the measured and frozen-kernel residuals, the analytic λ_k, and the kernel's eigenvalues
    in the cosine modes before and after training."""
    Theta = kernels.ntk_kernel(X_sb.numpy(), depth=1, activation=activation, sigma_w2=sw2, sigma_b2=sb2) / N_sb
    lam = np.real(np.fft.fft(Theta[0]))  # eigenvalue of the Fourier mode k (circulant matrix)
    lr_k = 0.5 / lam.max()
    model = net(P.wide_width, seed=seed, activation=activation)
    T_start = empirical_ntk(model, X_sb).numpy() / N_sb
    with torch.no_grad():
        f0 = model(X_sb)[:, 0].numpy()
    y = 0.5 * sum(np.cos(k * t_sb) for k in modes) + (f0 if centred else 0)
    f = train_gd(model, lr_k, P.sb_steps, record=sb_record, X=X_sb, y=torch.tensor(y)[:, None], X_eval=X_sb)
    measured = [[np.cos(k * t_sb) @ (f_t - y) for k in modes] for f_t in f]
    r0 = np.array([np.cos(k * t_sb) @ (f0 - y) for k in modes])
    theory = (1 - lr_k * lam[list(modes)])[None, :] ** sb_record[:, None] * r0[None, :]
    return dict(measured=np.array(measured), theory=theory, r0=r0, lam=lam,
                eig_start=mode_eigenvalues(T_start), eig_end=mode_eigenvalues(empirical_ntk(model, X_sb).numpy() / N_sb))


runs_sb = {"erf, centred": spectral_run("erf", True), "erf, not centred": spectral_run("erf", False),
           "ReLU, centred": spectral_run("relu", True)}
sb = runs_sb["erf, centred"]
lam_k, residual_modes, theory_modes, r0, emp_eig = sb["lam"], sb["measured"], sb["theory"], sb["r0"], sb["eig_start"]

# %% tags=["hide-input"]
fig, axes = cu.panels(3, panel_height=3.3)
ax = axes[0]
ax.plot(ks, lam_k[ks], "k-", label="analytic NTK (erf): Fourier coefficients")
ax.plot(ks, emp_eig, "o", mfc="none", color=cu.plotting.PALETTE[0],
        label=f"network of width {P.wide_width}: $v_k\\cdot\\hat\\Theta v_k$")
ax.set_yscale("log")
ax.set_xlabel("frequency k on the circle")
ax.set_ylabel("eigenvalue $\\lambda_k$ of $\\hat\\Theta$")
ax.legend(fontsize=7)
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
ax.set_title("erf, centred", fontsize=10)
# the top-right panel's legend goes into the empty bottom-right corner of the figure
fig.legend(*ax.get_legend_handles_labels(), fontsize=8, ncol=2, title="top right: residual per mode",
           title_fontsize=8, loc="center", bbox_to_anchor=(0.76, 0.27))
ax = axes[2]
for i, (name, run) in enumerate(runs_sb.items()):
    ax.plot(ks[:8], run["eig_end"][:8] / run["eig_start"][:8] - 1, "os^"[i] + "-", mfc="none",
            color=cu.plotting.PALETTE[i], label=name)
ax.axhline(0, color="k", lw=1, label="frozen kernel (theory)")
ax.axvspan(modes[0] - 0.5, modes[-1] + 0.5, color="0.9", zorder=0, label="modes of the target")
ax.set_xlabel("frequency k on the circle")
ax.set_ylabel("relative change of $\\lambda_k$\nduring training")
ax.legend(fontsize=7)
plt.show()

# %%
print("eigenvalues λ_k of the modes k = " + ", ".join(f"{k}: {lam_k[k]:.3g}" for k in modes)
      + f"; learning order: k = {', '.join(str(modes[i]) for i in np.argsort(-lam_k[list(modes)]))}")
print("relative change of λ_k during training, k = 1 … 8, and the rms distance of the residual modes to (1 − ηλ_k)^t:")
rel_sb = {}
for name, run in runs_sb.items():
    vis = np.abs(run["theory"] / run["r0"]) > 1e-3
    rel_sb[name] = np.linalg.norm(run["measured"][vis] - run["theory"][vis]) / np.linalg.norm(run["theory"][vis])
    print(f"  {name:17s}" + " ".join(f"{c:+7.3f}" for c in run["eig_end"][:8] / run["eig_start"][:8] - 1)
          + f"   residuals: {rel_sb[name]:.2%}")
cu.check_close(f"empirical NTK eigenvalues (width {P.wide_width}) vs analytic", emp_eig, lam_k[ks],
               rtol=0.05)
visible = np.abs(theory_modes / r0) > 1e-3
cu.check_close("residual per mode: network vs (1 − ηλ_k)^t", residual_modes[visible], theory_modes[visible],
               rtol=0.05)
for name in ("erf, not centred", "ReLU, centred"):
    run = runs_sb[name]
    vis = np.abs(run["theory"] / run["r0"]) > 1e-3
    cu.check_close(f"{name}: residual per mode vs (1 − ηλ_k)^t", run["measured"][vis], run["theory"][vis], rtol=0.05)
cu.check_less("eigenvalues of the target's modes k = 1–4: largest relative change in the three runs (< 20 %)",
              max(np.abs(run["eig_end"][:4] / run["eig_start"][:4] - 1).max() for run in runs_sb.values()), 0.2)

# %% [markdown]
# The NTK eigenvalues fall steeply with frequency (faster than a power law: the erf kernel is
# smooth), and the network learns the modes in the order of their eigenvalues, each on its own
# clock $1/\eta\lambda_k$, exactly as the modes of a linear model in
# [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb): the $k = 1$ mode
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
# with $\lambda_1$ can be large compared with $\lambda_4$. We measured it in three runs (bottom
# panel and table): the centred erf network, the same network trained on the target without
# centring (so that it must also undo its random initial function), and a centred ReLU network.
# At this width the eigenvalues of the target's modes move by a few percent for erf, centred or
# not, and by up to about a tenth for ReLU (printed; the check bounds the largest change in the three
# runs by 20 %), and the residual of every mode follows its frozen-kernel clock within the same 5 %
# in all three: neither centring nor the activation matters at this width. The largest relative
# changes are those of small eigenvalues: for erf, some modes above the target's (whose $\lambda_k$
# are orders of magnitude below $\lambda_1$) move by more than the target's own; for ReLU, whose kinks
# let units switch, the target's slow modes 3 and 4 move most. (The 5 % is a bound on the norm over
# all points above $10^{-3}$, which the early, large residuals dominate.)
#
# ## 4. Standard versus NTK parameterisation, and what breaks the lazy picture
#
# **Parameterisation.** With the same random function at initialisation, the standard
# parameterisation differentiates with respect to $W = \sigma_w V/\sqrt n$ instead of $V$: the
# readout layer's $n$ terms each contribute $\phi(f)^2 = O(1)$ instead of $O(1/n)$, so the tangent
# kernel grows like $n$. Gradient descent is stable only for $\eta < 2/\lambda_{\max}(\hat\Theta)$
# (the bound of [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)), so a standard-parameterised network needs a learning rate that shrinks
# like $1/n$, and a fixed learning rate that works at one width diverges at a larger one. We
# measure $\lambda_{\max}$ of both.

# %%
lam_param = {"ntk": [], "standard": []}
for n in P.param_widths:
    for p in lam_param:
        T = empirical_ntk(net(n, seed=3, parameterization=p), X_train).numpy() / n_train
        lam_param[p].append(np.linalg.eigvalsh(T).max())
pw = np.array(P.param_widths)
fit_std = cu.fit_power_law(pw, lam_param["standard"])  # λ_max ∝ n^(−alpha)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6, 3.8))
cu.plotting.loglog_fit(ax, pw, lam_param["standard"], label="standard parameterisation",
                       color=cu.plotting.PALETTE[1], exponent_name="slope")
ax.plot(pw, lam_param["ntk"], "o", color=cu.plotting.PALETTE[0], label="NTK parameterisation (measured)")
ax.axhline(lam_max, color=cu.plotting.PALETTE[0], label="NTK parameterisation, $n = \\infty$ (theory)")
ax.set_xlabel("width n (units)")
ax.set_ylabel("$\\lambda_{\\max}(\\hat\\Theta)$ = 2 / critical learning rate")
ax.legend(fontsize=8)
plt.show()

# %%
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
def train_until_blow_up(model, lr, steps, kernel_every=None):
    """Gradient descent on ½ mean (f(x) − y)² over the training points, the loss recorded at every step until it
    passes 10⁶ (then inf: diverged); with ``kernel_every``, also (step, λ_max(Θ̂/N)) every that many steps, by
    training in segments of that length (one optimiser throughout)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    segment = kernel_every or steps
    loss, lam = [], []
    for start in range(0, steps, segment):
        if kernel_every:
            lam.append((start, np.linalg.eigvalsh(empirical_ntk(model, X_train).numpy() / n_train).max()))
        n = min(segment, steps - start)
        hist = cu.train(model, half_mse, X_train, y_tensor, steps=n, optimizer=opt, record_steps=range(n),
                        stop_when=lambda h: not h["loss"][-1] < 1e6, on_divergence="record", progress=False)
        loss.extend(hist["loss"] if len(hist) else [])      # empty when the loss was not finite at the start
        if hist.diverged or not loss[-1] < 1e6:
            break
    return np.array(loss + [np.inf] * (steps - len(loss))), lam


cat_ratios = (0.5, 1.2, 1.6, 3.0)
catapult = {}
for ratio in cat_ratios:
    model = net(P.catapult_width, seed=11)
    lam0 = np.linalg.eigvalsh(empirical_ntk(model, X_train).numpy() / n_train).max()
    lr_c = ratio * 2 / lam0
    lin = LinearizedModel(model)
    loss, lam_t = train_until_blow_up(model, lr_c, P.catapult_steps, kernel_every=5)
    loss_lin, _ = train_until_blow_up(lin, lr_c, P.catapult_steps)
    catapult[ratio] = dict(loss=loss, loss_lin=loss_lin, lam=np.array(lam_t), lr=lr_c, lam0=lam0)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
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
axes[0].legend([plt.Line2D([], [], color=cu.plotting.PALETTE[i]) for i in range(len(cat_ratios))]
               + [plt.Line2D([], [], color="k"), plt.Line2D([], [], color="k", ls=":")],
               [f"$\\eta = {ratio}\\,\\eta_c$" for ratio in cat_ratios] + ["network", "linearised"],
               fontsize=7, ncol=2, loc="upper right")
axes[1].axhline(1.0, color="k", ls="--", lw=1, label="stability edge $\\eta\\lambda_{\\max} = 2$")
axes[1].set_yscale("log")
axes[1].set_ylim(0.1, 10)
axes[1].set_xlabel("gradient-descent step")
axes[1].set_ylabel("$\\eta\\,\\lambda_{\\max}(\\hat\\Theta_t)/2$")
axes[1].legend(fontsize=7)
plt.show()

# %%
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
# `catapult_networks` = 32 independent networks at each multiple of their own $\eta_c$, all of them
# as one batch of tensors (`course_utils.theory.ntk_empirical.catapult_ensemble`; its tangent kernel is the closed
# form for one hidden layer, $\Theta = \sigma_b^2 + \frac{\sigma_w^2}{n}\sum_j\phi(h_j)\phi(h_j') +
# \frac{\sigma_w^2}{n}\sum_j V_j^2\phi'(h_j)\phi'(h_j')K^0(x,x')$, tested against `empirical_ntk`),
# for 500 steps, and count the outcomes: **diverged** (the loss passed $10^6$) or **converged**
# (final loss below $10^{-2}$); `catapult_ensemble` records for each run whether and at which step
# its loss passed $10^6$, and the table reads that record. Each fraction $\hat p$ of $K$ networks
# has the binomial standard error $\sqrt{\hat p(1-\hat p)/K}$; the claims are tested with a margin
# of four of them.

# %%
K_cat, grid = P.catapult_networks, np.array(P.catapult_grid)
ens = catapult_ensemble([net(P.catapult_width, seed=200 + k) for k in range(K_cat)], list(grid),
                        P.catapult_grid_steps, X_train, y_train)
diverged = ens["diverged"]  # the run's record: its loss passed 10^6 (or stopped being finite) at some step
converged = ens["final"] < 1e-2
p_conv = converged.mean(0)
se_conv = np.sqrt(p_conv * (1 - p_conv) / K_cat)
rise = ens["peak"] / ens["initial"]
# each network's edge: the first rate of the grid at which it diverges (inf: it converges at every rate)
edge = np.array([grid[np.argmax(d)] if d.any() else np.inf for d in diverged])
back = sum(bool(d.any() and not d[np.argmax(d):].all()) for d in diverged)  # converge again above their edge
in_band = (edge > 1.9) & (edge <= 2.2)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
ax.errorbar(grid, p_conv, yerr=se_conv, fmt="o", capsize=3, label=f"experiment: {K_cat} networks (± 1 s.e.)")
ax.step([1.0, 2.0, 2.0, 3.2], [1, 1, 0, 0], "k--", where="post", lw=1,
        label="solvable model: converges up to $4/\\lambda_{\\max} = 2\\,\\eta_c$")
ax.set_xlabel("learning rate $\\eta / \\eta_c$")
ax.set_ylabel("fraction of networks that converge")
ax.set_ylim(-0.05, 1.45)  # room for the legend above the data
ax.set_yticks(np.linspace(0, 1, 6))
ax.legend(fontsize=7, loc="upper center")
ax = axes[1]
labels = [f"{g:.1f}" for g in grid[grid > 1.6]] + ["none"]
counts = [int((edge == g).sum()) for g in grid[grid > 1.6]] + [int(np.isinf(edge).sum())]
ax.bar(labels, counts, color=cu.plotting.PALETTE[0], label="experiment")
ax.axvline(labels.index("2.0"), color="k", ls="--", lw=1, label="solvable model: $2\\,\\eta_c$")
ax.set_xlabel("first rate $\\eta/\\eta_c$ that diverges")
ax.set_ylabel(f"networks (of {K_cat})")
ax.legend(fontsize=7)
plt.show()

# %%
print(" η/η_c   converged   diverged   neither   median peak/initial loss   max ηλ_max/2 of the converged")
for j, r in enumerate(grid):
    c = converged[:, j]
    print(f"{r:5.1f}   {c.sum():3d}/{K_cat}      {diverged[:, j].sum():3d}/{K_cat}     {(~c & ~diverged[:, j]).sum():3d}"
          f"        {np.median(rise[:, j][c]) if c.any() else np.nan:10.3g}                "
          f"{ens['edge'][:, j][c].max() if c.any() else np.nan:.3f}")
steps_div = ens["diverged_step"][diverged]
print(f"diverged runs: {diverged.sum()} of {diverged.size}; the step at which each passed 10^6: median "
      f"{np.median(steps_div):.0f}, range {steps_div.min()}–{steps_div.max()} (of {P.catapult_grid_steps})")
finite = np.sort(edge)
print(f"edge of each network: median {np.median(edge):.1f} η_c, quartiles {finite[K_cat // 4]:.1f} and "
      f"{finite[(3 * K_cat) // 4]:.1f} η_c;\n    in (1.9, 2.2] η_c: {in_band.sum()}/{K_cat} "
      f"({in_band.mean():.0%} ± {np.sqrt(in_band.mean() * (1 - in_band.mean()) / K_cat):.0%}); above 2.2 η_c: "
      f"{(edge > 2.2).sum()}/{K_cat};\n    networks that converge again at a rate above their edge: {back}")
col = {r: j for j, r in enumerate(grid)}
cu.check_count("η = 1.6 η_c: networks that converge (the linearised model diverges)", converged[:, col[1.6]].sum(),
               at_least=K_cat, of=K_cat)
cu.check_count("η = 1.6 η_c: networks whose loss first rises tenfold or more", (rise[:, col[1.6]] > 10).sum(),
               at_least=K_cat, of=K_cat)
cu.check_count("converged runs (all rates) that end with ηλ_max/2 < 1", (ens["edge"][converged] < 1).sum(),
               at_least=int(converged.sum()), of=int(converged.sum()))


def at_most(p0):
    """Largest count of K_cat compatible with a fraction p0: K p0 + 4 binomial standard errors."""
    return int(K_cat * p0 + 4 * np.sqrt(K_cat * p0 * (1 - p0)))


def at_least(p0):
    """Smallest count of K_cat compatible with a fraction p0: K p0 − 4 binomial standard errors."""
    return math.ceil(K_cat * p0 - 4 * np.sqrt(K_cat * p0 * (1 - p0)))


# claims about the distribution of the edge, each a fraction tested with a margin of 4 binomial s.e.
cu.check_count("edge at or below 1.9 η_c (below the solvable model's 2: at most 5 %)", (edge <= 1.9).sum(),
               at_most=at_most(0.05), of=K_cat)
cu.check_count("η = 2.0 η_c: the edge is here: networks that converge (some, not all)", converged[:, col[2.0]].sum(),
               at_least=1, at_most=K_cat - 1, of=K_cat)
cu.check_count("edge in (1.9, 2.2] η_c (most networks: at least 3/4)", in_band.sum(), at_least=at_least(0.75),
               of=K_cat)
cu.check_count("η = 2.4 η_c: networks that diverge (most: more than half)", diverged[:, col[2.4]].sum(),
               at_least=K_cat // 2 + 1, of=K_cat)
cu.check_count("η = 3.0 η_c: networks that still converge (≤ 5 %, + 4 s.e.)", converged[:, col[3.0]].sum(),
               at_most=at_most(0.05), of=K_cat)

# %% [markdown]
# Every network converges at $1.6\,\eta_c$, where its linearisation diverges, after its loss has
# first risen tenfold or more;
# every run that converges ends with $\eta\lambda_{\max}/2 < 1$, as it must: at a minimum of the
# squared loss the Hessian is $J^\top J/N$, whose top eigenvalue is that of $\hat\Theta$, so gradient
# descent can only settle where $\eta\lambda_{\max} < 2$. The second edge is not sharp, and it is a
# property of each network's draw, not of the width: the right panel is its distribution over the
# `catapult_networks` = 32 networks, each network's edge being the first rate of the grid at which it
# diverges. Its median, quartiles and the fraction in $(1.9, 2.2]\,\eta_c$ are printed above, with
# the binomial standard error. The claims, checked with a margin of four standard errors: at most a
# few percent of networks diverge at or below $1.9\,\eta_c$; at least three quarters have their edge
# in $(1.9, 2.2]\,\eta_c$, just above the solvable model's $4/\lambda_{\max} = 2\,\eta_c$; and a tail
# of a few networks survives larger rates (at $3\,\eta_c$ at most about 5 % converge; a few of them
# even converge again at a rate above one at which they diverged, which is why the edge is defined
# as the *first* divergence). So one network "converging at $2\,\eta_c$" or "diverging at
# $2.2\,\eta_c$" is a draw from this distribution. (We have not found what sets the tail; the
# solvable model has a single mode, while here the top eigenvalue of $\hat\Theta$ competes with the
# others.)
#
# **Small width.** The sweep of §2 showed the other way out: the narrower the network, the more its
# kernel moves during training and the further the network leaves its linearisation.
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
#   the distance to the analytic kernel regression like $n^{-1/2}$ for erf, the fluctuation of
#   $\Theta_0$. For ReLU it falls more slowly over the widths we ran: the network's departure from its
#   linearisation is as large as that fluctuation, anticorrelated with it, and less so as the width
#   grows, and part of the gap is common to all draws.
# - Everything [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb) said
#   about linear models then holds for wide networks: modes learned in
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
# the recursion {eq}`eq-ntk-recursion`, as a closed-form function of $K^0(x, x')$, $K^0(x, x)$ and $K^0(x', x')$.
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


solved = exercises.check_relu_ntk_one_layer(ntk_fn)

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
# - The empirical NTK of a random network converges to the analytic recursion {eq}`eq-ntk-recursion`,
#   $\Theta^\ell = K^\ell + \sigma_w^2\dot K^\ell\Theta^{\ell-1}$ as $n^{-1/2}$ (measured in §1).
# - During training at a small learning rate the kernel hardly moves (measured: $\propto n^{-1}$
#   for erf, about $n^{-3/4}$ for ReLU), the network follows its linearisation, and its
#   predictions approach kernel regression with the analytic NTK: the fluctuation part of the gap
#   falls as $n^{-1/2}$ for both activations, {eq}`eq-ntk-gap-parts`, but for ReLU the network's own
#   departure from its linearisation partly cancels it, so the whole gap falls more slowly there.
# - Spectral bias: the residual decays mode by mode at the rates $\eta\lambda_k$ of the NTK
#   spectrum, low frequencies first.
# - In the standard parameterisation $\lambda_{\max}$ grows like $n$ (measured slope near 1), so
#   the learning rate must shrink like $1/n$.
# - Above $\eta_c = 2/\lambda_{\max}$ the linearised model diverges but the network can catapult
#   to a flatter region; where it stops doing so is a distribution over networks: for most of them
#   between $1.9\,\eta_c$ and $2.2\,\eta_c$, just above the solvable model's $2\,\eta_c$, with a tail to larger rates; small width and large learning rates end the lazy regime.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
