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
# # The loss as an action: what does a network learn first?
#
# A physicist who meets a new system expands its action around a symmetric point: the quadratic
# term says which directions are unstable, the cubic and quartic terms say what happens next.
# A neural network has such a point. At $\theta = 0$ every logit vanishes, the prediction is
# uniform over the classes, and the cross-entropy takes the value $\ln M$ whatever the data. In this
# chapter we treat the training loss as an action $S(\theta)$, expand it around $\theta = 0$ for a
# one-hidden-layer network, and read off which statistics of the data drive the first steps of
# learning: not the inputs themselves but the **class–input correlations**, how much the mean
# (and the second moment) of the inputs of one class differ from those of all the data. Every
# coefficient is derived in the text and then checked, to machine precision, against automatic
# differentiation. We end with a condition for when training stops being useful: the gradients of
# the training and the validation loss become orthogonal.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)
# (gradient flow, the conventions of the course); Taylor series, cumulants, the softmax.
# **Runs in:** about a minute on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# trains a wider network, averages the sweep over more seeds and, with a network, repeats the
# checks on Fashion-MNIST.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/02_action/01_loss_as_action.ipynb)
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
import torch.nn.functional as F

import course_utils as cu
from course_utils.data import classification as data
from course_utils.exercises import action as exercises
from course_utils.models.silu_net import action, init_params, silu_net
from course_utils.theory import action as theory

cu.use_house_style()
# The expansion is checked to machine precision, so everything runs in float64; the networks are
# small, and the CPU is the fastest device for them.
device = cu.setup(device="cpu")
torch.set_default_dtype(torch.float64)

# %% [markdown]
# ## Parameters
#
# Sizes chosen so that the chapter runs in about a minute on a laptop CPU. `COURSE_SCALE=paper`
# trains a wider network for longer, averages the embedding-dimension sweep over more seeds and
# tries to download Fashion-MNIST for one more check of the expansion (it falls back to the
# digits when offline).

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        synth_n=600, synth_E=8, synth_H=16, synth_M=4,            # §3: synthetic check
        digits_H=32, ray_t=(0.01, 1.0), ray_points=25,           # §3: digits, and the ray tθ
        per_class_train=20, per_class_val=60,                      # §3.3–§5: the training run
        H=64, lr=0.5, steps=1000,
        small_init=1e-3, early_steps=60, quadratic_eps=0.02,        # §3.3: the first steps
        ray_check_t=0.05,                                          # §5: the ray through trained θ
        sweep_E=(1, 2, 4, 8, 16, 32, 64, 128), sweep_seeds=8, sweep_steps=400, sweep_H=32,
        fashion_mnist=False,
    ),
    paper=dict(H=256, steps=2000, sweep_seeds=20, fashion_mnist=True),
)
P

# %% [markdown]
# ## 1. The model and its action
#
# **The model.** An input embedding $z \in \mathbb{R}^E$ belongs to one of $M$ classes. A network
# with one hidden layer of $H$ SiLU units gives one logit per class,
#
# $$
# f_\alpha(z;\theta) = \sum_{\beta=1}^{H} U_{\alpha\beta}\,\sigma\Big(\sum_{\gamma=1}^{E} W_{\beta\gamma} z_\gamma + b_\beta\Big),
# \qquad \sigma(x) = \frac{x}{1+e^{-x}}\ \ (\text{SiLU}),
# $$ (eq-action-model)
#
# with parameters $\theta = (U, W, b)$, $U\in\mathbb{R}^{M\times H}$, $W \in \mathbb{R}^{H\times E}$,
# $b \in \mathbb{R}^H$, and turns the logits into probabilities with the softmax,
# $q_\alpha(z) = e^{f_\alpha(z)}/\sum_{\alpha'} e^{f_{\alpha'}(z)}$. For a physicist this is a
# Boltzmann distribution over the $M$ classes with energies $-f_\alpha$; the normaliser
# $Z(z) = \sum_\alpha e^{f_\alpha(z)}$ is a partition function. SiLU
# {cite:p}`hendrycks2016gaussian,elfwing2018sigmoid,ramachandran2017searching` is smooth,
# with $\sigma(0) = 0$: at $\theta = 0$ every logit vanishes.
# (`course_utils.models.silu_net` implements $f$ as a pure function of a parameter dictionary,
# so `torch.func` can differentiate it in any direction.)
#
# **The action.** The data are samples from a joint distribution $p(z, m)$. The cross-entropy
#
# $$
# S(\theta) = -\sum_{z,m} p(z,m)\,\ln q_m(z;\theta) = \mathbb{E}_z\big[\ln Z(z)\big] - \mathbb{E}_{z,m}\big[f_m(z)\big]
# $$ (eq-action-cross-entropy)
#
# plays the role of an action: training is the search for its minimum. Add and subtract the
# entropy of the labels given the inputs, $H[m|z] = -\sum p(z,m)\ln p(m|z)$:
#
# $$
# S(\theta) = H[m|z] + \mathbb{E}_z\, D_{\mathrm{KL}}\big(p(\cdot|z)\,\big\|\,q(\cdot|z;\theta)\big) .
# $$ (eq-action-kl)
#
# The relative entropy $D_{\mathrm{KL}}$ {cite:p}`cover2006elements` is non-negative and
# vanishes only when $q = p(\cdot|z)$, so the minimum of the action is $H[m|z]$, the entropy of
# the labels given the inputs, and the relative entropy differs from $S$ by a
# $\theta$-independent constant. (The source this chapter follows writes the minimum as $H[p]$,
# the entropy of the data distribution. Read literally, that is the joint entropy
# $H[z, m] = H[z] + H[m|z]$, larger by the entropy of the inputs, which no network can remove:
# the cross-entropy only scores the labels. We use $H[m|z]$, and the check below tells the two
# apart.) For the digits below every image has one label, $H[m|z] = 0$, and the training loss
# can go to zero. We check {eq}`eq-action-kl` on a toy distribution where $H[m|z] > 0$: four
# inputs (one-hot, $E = 4$), three classes, and a table $p(m|z)$; at random parameters
# $S - \mathbb{E}_z D_{\mathrm{KL}}$ must be the same number, $H[m|z]$.

# %%
z_toy = torch.eye(4)
p_z = torch.tensor([0.1, 0.2, 0.3, 0.4])
p_m_given_z = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.05, 0.15, 0.8]])
p_zm = p_z[:, None] * p_m_given_z
entropy = float(-(p_zm * p_m_given_z.log()).sum())
joint_entropy = float(-(p_zm * p_zm.log()).sum())
print(f"H[m|z] = {entropy:.4f} nats; H[z, m] (the source's H[p], read literally) = {joint_entropy:.4f} nats")
gen = torch.Generator().manual_seed(cu.seed(1))
for trial in range(3):
    th = init_params(4, 5, 3, scale=3.0, generator=gen)
    log_q = F.log_softmax(silu_net(th, z_toy), dim=1)
    S = float(-(p_zm * log_q).sum())
    KL = float((p_zm * (p_m_given_z.log() - log_q)).sum())
    cu.check_close(f"S − E_z KL at random θ no. {trial + 1}", S - KL, entropy, rtol=1e-12)

# %% [markdown]
# ## 2. An identity, and why θ = 0 is a stationary point
#
# Differentiating $\ln q_m = f_m - \ln \sum_\alpha e^{f_\alpha}$ gives
#
# $$
# \frac{\partial \ln q_m}{\partial\theta} = \frac{\partial f_m}{\partial\theta} - \sum_\alpha q_\alpha \frac{\partial f_\alpha}{\partial\theta},
# \qquad\text{so}\qquad
# \frac{\partial S}{\partial\theta} = -\,\mathbb{E}_{z,m}\Big[\frac{\partial f_m}{\partial\theta} - \sum_\alpha q_\alpha\frac{\partial f_\alpha}{\partial\theta}\Big].
# $$ (eq-action-force)
#
# The gradient of the action is the gap between the logit gradient of the true class and its
# average under the model's own distribution: a "force" that vanishes when the model's $q$ agrees
# with the data. At $\theta = 0$ it vanishes for a second reason: every $\partial f/\partial\theta$
# carries a factor $U$ or $\sigma(0) = 0$. So $\theta = 0$ is a stationary point of the action,
# and the expansion below has no linear term. We check the identity on every parameter at random
# $\theta$, by automatic differentiation.

# %%
th = init_params(5, 4, 3, generator=gen)
z1 = torch.randn(1, 5, generator=gen)
jac_lnq = torch.func.jacrev(lambda p: F.log_softmax(silu_net(p, z1), -1)[0])(th)
jac_f = torch.func.jacrev(lambda p: silu_net(p, z1)[0])(th)
q1 = F.softmax(silu_net(th, z1), -1)[0]
for k in ("U", "W", "b"):
    rhs = jac_f[k] - torch.einsum("a,a...->...", q1, jac_f[k])[None]
    cu.check_close(f"∂ln q/∂{k} = ∂f/∂{k} − Σ q ∂f/∂{k}", jac_lnq[k], rhs, rtol=1e-12)

# %% [markdown]
# ## 3. Expanding the action around θ = 0
#
# **Step 1: the activation.** Write $\sigma(x) = \sum_{n\ge1} c_n x^n$ with
# $c_n = \sigma^{(n)}(0)/n!$. Since $\sigma(x) = x\,s(x)$ with $s$ the logistic function,
# $s(x) = \tfrac12 + \tfrac{x}{4} - \tfrac{x^3}{48} + \dots$,
#
# $$
# \sigma(x) = \tfrac12 x + \tfrac14 x^2 + 0\cdot x^3 - \tfrac1{48}x^4 + \dots,\qquad
# \sigma'(0) = \tfrac12,\ \ \sigma''(0) = \tfrac12,\ \ \sigma'''(0) = 0,\ \ \sigma''''(0) = -\tfrac12 .
# $$ (eq-action-silu-series)
#
# **Step 2: the logits, degree by degree.** With $a_\beta = \sum_\gamma W_{\beta\gamma}z_\gamma + b_\beta$
# (first order in $\theta$), $f_\alpha = \sum_n c_n \sum_\beta U_{\alpha\beta}\, a_\beta^{\,n}$; the
# $n$-th term is of degree $n+1$ in $\theta$. Every logit is at least **quadratic** in the
# parameters: one factor $U$ and one factor $a$.
#
# **Step 3: the partition function.** Expand $\ln Z = \ln\sum_\alpha e^{f_\alpha}$ in the
# cumulants of $f_\alpha$ over a *uniformly* drawn class $\alpha$,
# $\ln Z = \ln M + \langle f\rangle + \tfrac12 \operatorname{Var}_\alpha f + \tfrac16\kappa_3 + \dots$,
# with $\langle f \rangle = \frac1M\sum_\alpha f_\alpha$. Then
#
# $$
# S = \ln M + \frac1M\sum_\alpha \Big(\mathbb{E}_z - M p(\alpha)\,\mathbb{E}_{z|\alpha}\Big) f_\alpha(z)
#       + \tfrac12\,\mathbb{E}_z \operatorname{Var}_\alpha f(z) + \dots
# $$ (eq-action-cumulants)
#
# The second term is linear in $f$, the third is quadratic in $f$ and so of degree $\ge 4$ in
# $\theta$. Everything the data contribute to the linear term sits in the **class–input
# correlation tensors**
#
# $$
# J_{\alpha\gamma_1\cdots\gamma_k} = \mathbb{E}_{z}\big[z_{\gamma_1}\cdots z_{\gamma_k}\big] - M p(\alpha)\, \mathbb{E}_{z|\alpha}\big[z_{\gamma_1}\cdots z_{\gamma_k}\big],
# $$ (eq-action-J)
#
# which for **balanced classes**, $p(\alpha) = 1/M$, are the differences between the moments of
# all the data and those of class $\alpha$: $J_{\alpha\gamma} = \mathbb{E}_z[z_\gamma] - \mathbb{E}_{z|\alpha}[z_\gamma]$,
# $J_{\alpha\gamma\delta} = \mathbb{E}_z[z_\gamma z_\delta] - \mathbb{E}_{z|\alpha}[z_\gamma z_\delta]$,
# and $J_\alpha = 1 - Mp(\alpha) = 0$. Summed over the classes every $J$ vanishes,
# $\sum_\alpha J_{\alpha\gamma\cdots} = 0$: they are contrasts between classes.
#
# **Step 4: collect by degree.** $S = S_0 + S_1 + S_2 + S_3 + \dots$ with $S_k$ of degree $k$:
#
# $$
# S_0 = \ln M, \qquad S_1 = 0,
# $$
#
# $$
# S_2 = \frac{\sigma'(0)}{M}\sum_{\alpha,\gamma} J_{\alpha\gamma}\sum_\beta U_{\alpha\beta}W_{\beta\gamma}
#       \;+\; \frac{\sigma'(0)}{M}\sum_{\alpha,\beta}U_{\alpha\beta}b_\beta J_\alpha
#     \;=\; \sum_{\alpha,\gamma}\frac{J_{\alpha\gamma}}{2M}\sum_\beta U_{\alpha\beta}W_{\beta\gamma}
#     \quad(\text{balanced}),
# $$ (eq-action-s2)
#
# $$
# S_3 = \frac{\sigma''(0)}{2M}\Big[\sum U_{\alpha\beta}W_{\beta\gamma}W_{\beta\delta}J_{\alpha\gamma\delta}
#        + 2\sum U_{\alpha\beta}\,b_\beta\,W_{\beta\gamma}J_{\alpha\gamma} + \sum U_{\alpha\beta}b_\beta^2 J_\alpha\Big]
#     = \frac{1}{4M}\sum U_{\alpha\beta}W_{\beta\gamma}W_{\beta\delta}J_{\alpha\gamma\delta}
#       + \frac{1}{2M}\sum U_{\alpha\beta}\,b_\beta\,W_{\beta\gamma}J_{\alpha\gamma}\quad(\text{balanced}).
# $$ (eq-action-s3)
#
# For balanced classes the $U$–$b$ cross term of $S_2$ vanishes: a bias alone cannot tell the
# classes apart. $S_2$ is a bilinear form in $U$ and $W$, the same form as the loss of a deep
# linear network whose input–output correlation is $-J/2M$ {cite:p}`saxe2014exact`: near the
# origin, $UW$ grows along the top singular directions of $-J$ first.
#
# **The general term.** The linear-in-$f$ part of $S$ is, to all orders,
#
# $$
# S^{(J)}_{n+1} = \frac{\sigma^{(n)}(0)}{n!}\,\frac1M\sum_{\alpha,\beta} U_{\alpha\beta}\Big(\mathbb{E}_z - Mp(\alpha)\mathbb{E}_{z|\alpha}\Big)\big[a_\beta^{\,n}\big]
#   \;\xrightarrow{\;b=0\;}\; \frac{\sigma^{(n)}(0)}{n!}\,\frac1M\sum U_{\alpha\beta}W_{\beta\gamma_1}\cdots W_{\beta\gamma_n}\,J_{\alpha\gamma_1\cdots\gamma_n},
# $$ (eq-action-general-term)
#
# the $n$-th order class–input correlation contracted with $n$ copies of $W$. It is *all* of
# $S_{n+1}$ only up to $n + 1 = 3$. From degree 4 on the cumulants of $\ln Z$ add terms that are
# not of this form (the conjecture that the $J$ series is the whole expansion fails there):
#
# $$
# S_4 = \underbrace{\tfrac{\sigma'''(0)}{3!}(\dots)}_{=\,0\ \text{for SiLU}} + \frac{\sigma'(0)^2}{2}\,\mathbb{E}_z\operatorname{Var}_\alpha\Big[\sum_\beta U_{\alpha\beta}a_\beta\Big] \;\ge 0,
# \qquad
# S_5 = S_5^{(J)} + \frac{\sigma'(0)\sigma''(0)}{2}\,\mathbb{E}_z\operatorname{Cov}_\alpha\Big[\sum_\beta U_{\alpha\beta}a_\beta,\ \sum_\beta U_{\alpha\beta}a_\beta^2\Big].
# $$ (eq-action-s4-s5)
#
# For SiLU the quartic term is a pure variance, a quartic wall around the origin: the action near
# $\theta = 0$ looks like a $\phi^4$ theory with an indefinite quadratic "mass" term $S_2$.
#
# **Where these coefficients differ from the source.** The derivation this chapter follows wrote
# $S_2$ with $J_{\alpha\gamma}/4M$ and the general term with $\sigma^{(n)}(0)/(n+1)!$. Along a ray
# $\theta \to t\theta$ the degree-$(n+1)$ term is $\frac{1}{(n+1)!}\frac{d^{n+1}}{dt^{n+1}}$ of
# $t\,U\sigma(t a)$ at $t = 0$, which is $\frac{(n+1)\,\sigma^{(n)}(0)}{(n+1)!} = \frac{\sigma^{(n)}(0)}{n!}$:
# the factor $n+1$ from the product rule ($U$ scales with $t$ too) is missing in the source's form.
# So $S_2$ carries $\sigma'(0) = \tfrac12$ (that is $1/2M$, not $1/4M$), $S_3$ carries
# $\sigma''(0)/2! = \tfrac14$ (not $\sigma''(0)/3! = \tfrac1{12}$), and the degree-$(n+1)$ term
# carries the $n$-th derivative of $\sigma$ ($S_2$ the first, $S_3$ the second), with
# $\sigma'''(0) = 0$ removing the $UW^3J$ term from $S_4$. And the general term misses the
# variance terms from degree 4 on. One term of the source's $S_3$ is off by more than $n + 1$: it
# gives the $UbWJ$ term the coefficient of its $UWWJ$ term, $\sigma''(0)/3!\,M = 1/12M$, where
# {eq}`eq-action-s3` has $1/2M$, six times larger: the factor $n + 1 = 3$ of the product rule times
# the factor 2 of the cross term $2\,b_\beta (Wz)_\beta$ in $a_\beta^2$. The numbers decide: below,
# the derived coefficients agree with automatic differentiation to machine precision, the
# source's general term is off by exactly $n+1$, and its $UbWJ$ coefficient by exactly 6.
# (`course_utils.theory.action` implements every closed form; its docstrings give the equations.)

# %%
c = theory.silu_taylor_coefficients(6)
print("Taylor coefficients c_n = σ⁽ⁿ⁾(0)/n! of SiLU:", ", ".join(str(x) for x in c))
sig = F.silu
x0 = torch.zeros(())
for n in range(1, 5):
    sig = (lambda h: (lambda t: torch.func.grad(h)(t)))(sig)
    cu.check_close(f"σ^({n})(0) by autograd", float(sig(x0)), theory.silu_derivatives_at_zero(4)[n], atol=1e-12)

# %% [markdown]
# ### 3.1 The check: autograd along a random direction
#
# Pick a random direction $\theta$ (PyTorch's default initialisation) and look at the action along
# the ray, $g(t) = S(t\theta)$. Its Taylor coefficients $g^{(k)}(0)/k!$ are exactly the terms
# $S_k(\theta)$. `theory.taylor_coefficients_along_ray` computes them by forward-mode automatic
# differentiation (`torch.func.jvp` nested $k$ times): no finite differences, no closed forms.
# First on synthetic data: $M = 4$ balanced Gaussian classes in $E = 8$ dimensions.

# %%
z_syn, y_syn = data.gaussian_classes(P.synth_n, P.synth_E, P.synth_M, separation=2.0, seed=cu.seed(0))
theta_syn = init_params(P.synth_E, P.synth_H, P.synth_M, generator=torch.Generator().manual_seed(cu.seed(0)))
autograd_syn = theory.taylor_coefficients_along_ray(lambda p: action(p, z_syn, y_syn), theta_syn, 5)
closed_syn = theory.closed_form_taylor_terms(theta_syn, z_syn, y_syn, P.synth_M)


def compare_terms(autograd, closed, label):
    """Print the table of S_k by autograd and by the closed forms, and check every term."""
    def fmt(x):  # exact zeros may come out as ±1e-17 on another CPU: print them as 0
        return f"{x:13.6e}" if abs(x) > 1e-14 else f"{'0':>13}"

    print(f"{'term':>4} {'autograd':>13} {'closed form':>13}")
    for k in range(len(autograd)):
        print(f"{'S' + str(k):>4} {fmt(autograd[k])} {fmt(closed[k])}")
    cu.check_close(f"{label}: S0 = ln M", autograd[0], closed[0], rtol=1e-12)
    cu.check_close(f"{label}: S1 = 0", autograd[1], 0.0, atol=1e-12)
    for k in range(2, len(autograd)):
        cu.check_close(f"{label}: S{k}", autograd[k], closed[k], rtol=1e-9)


compare_terms(autograd_syn, closed_syn, "synthetic")

# %% [markdown]
# The source's coefficients fail the same test, by exactly the factor $n+1$ ($2$ for $S_2$,
# $3$ for $S_3$). To test the $UbWJ$ term on its own, autograd gives it as the difference of
# $S_3$ along the ray with and without the bias (the other two terms of {eq}`eq-action-s3` do not
# contain $b$, or vanish for balanced classes):

# %%
for n in (1, 2):
    source = theory.general_term(theta_syn, z_syn, y_syn, P.synth_M, n, coefficient="source")
    print(f"S{n + 1}: autograd {autograd_syn[n + 1]:.6e}, source form {source:.6e}, "
          f"relative error of the source form {abs(source - autograd_syn[n + 1]) / abs(autograd_syn[n + 1]):.1%}")
    cu.check_close(f"S{n + 1} autograd / source form", autograd_syn[n + 1] / source, n + 1, rtol=1e-9)
no_bias = dict(theta_syn, b=torch.zeros_like(theta_syn["b"]))
ubwj_autograd = autograd_syn[3] - theory.taylor_coefficients_along_ray(lambda p: action(p, z_syn, y_syn), no_bias, 3)[3]
J_syn = theory.correlations(z_syn, y_syn, P.synth_M, max_order=1)
ubwj_sum = float(torch.einsum("ab,b,bg,ag->", theta_syn["U"], theta_syn["b"], theta_syn["W"], J_syn[1]))
ubwj_source = ubwj_sum / (12 * P.synth_M)  # the source's coefficient, σ''(0)/3! per class
print(f"UbWJ term of S3: autograd {ubwj_autograd:.6e}, derived (1/2M) {ubwj_sum / (2 * P.synth_M):.6e}, "
      f"source (1/12M) {ubwj_source:.6e}")
cu.check_close("UbWJ term of S3: autograd vs derived 1/2M", ubwj_autograd, ubwj_sum / (2 * P.synth_M), rtol=1e-9)
cu.check_close("UbWJ term of S3: autograd / source form (1/12M)", ubwj_autograd / ubwj_source, 6.0, rtol=1e-9)

# %% [markdown]
# The whole Hessian at the origin, $S_2 = \tfrac12\theta^\top\mathbf{H}\theta$ ({eq}`eq-action-s2`), has only $U$–$W$
# (and, for unbalanced classes, $U$–$b$) blocks,
# $\partial^2 S/\partial U_{\alpha\beta}\partial W_{\beta'\gamma} = \delta_{\beta\beta'}J_{\alpha\gamma}/2M$.
# `torch.func.hessian` agrees, entry by entry:

# %%
hess_autograd = theory.hessian_at_zero(lambda p: action(p, z_syn, y_syn), theta_syn)
hess_closed = theory.hessian_closed_form(theory.correlations(z_syn, y_syn, P.synth_M, 1), P.synth_H)
print(f"Hessian: {hess_closed.shape[0]} × {hess_closed.shape[1]}, "
      f"{int((hess_closed != 0).sum())} non-zero entries in the closed form")
cu.check_close("Hessian at θ = 0, all entries", hess_autograd, hess_closed, rtol=1e-10)

# %% [markdown]
# Now real data that ships offline: scikit-learn's 8×8 digits, 174 images of each of the ten
# digits (balanced), each pixel standardised to zero mean and unit variance, $E = 64$.

# %%
z_all, y_all = data.load_digits()
idx = data.balanced_indices(y_all, 174)
z_dig, y_dig = data.standardize(z_all[idx]), y_all[idx]
theta_dig = init_params(64, P.digits_H, 10, generator=torch.Generator().manual_seed(cu.seed(1)))
autograd_dig = theory.taylor_coefficients_along_ray(lambda p: action(p, z_dig, y_dig), theta_dig, 5)
closed_dig = theory.closed_form_taylor_terms(theta_dig, z_dig, y_dig, 10)
compare_terms(autograd_dig, closed_dig, "digits")

# %% [markdown]
# Fashion-MNIST ($E = 784$) is an optional download: at `COURSE_SCALE=paper` the same check runs
# on 2 000 of its images if the files can be fetched (and are then cached); offline the loader
# says so and names the fallback, the digits above.

# %%
if P.fashion_mnist:
    try:
        z_fm, y_fm = data.load_fashion_mnist("test")
        i_fm = data.balanced_indices(y_fm, 200)
        z_fm, y_fm = data.standardize(z_fm[i_fm].double()), y_fm[i_fm]
        th_fm = init_params(784, 16, 10, generator=torch.Generator().manual_seed(cu.seed(2)))
        compare_terms(theory.taylor_coefficients_along_ray(lambda p: action(p, z_fm, y_fm), th_fm, 3),
                      theory.closed_form_taylor_terms(th_fm, z_fm, y_fm, 10)[:4], "Fashion-MNIST")
    except RuntimeError as err:
        print(err)
else:
    print("Fashion-MNIST check skipped at the default scale (COURSE_SCALE=paper runs it).")

# %% [markdown]
# ### 3.2 The series converges to S along the ray
#
# The partial sums $S_0 + S_1 + \dots + S_K$, evaluated at $t\theta$, must approach $S(t\theta)$
# as $t \to 0$, with an error led by the first omitted term, $|S_{K+1}(\theta)|\,t^{K+1}$: a
# prediction for the error itself, which the closed forms give without any fit. Over a finite
# range of $t$ the next omitted terms still bend the curve: for a random direction where
# $|S_{K+2}/S_{K+1}|$ happens to be large, the slope fitted over $t \le 0.03$ differs from $K+1$ by
# about $0.03\,|S_{K+2}/S_{K+1}|$ (a few hundredths at some draws). So we compare the measured error with
# all the omitted terms we know in closed form, $|S_{K+1}t^{K+1} + \dots + S_5 t^5|$: what is left
# is $O(t^6)$, and the slopes must agree to a few hundredths. (We use the synthetic data and
# direction of §3.1; along a random direction on the digits the higher terms can be larger than
# $S_2$ and $S_3$, and the leading error then changes hands at smaller $t$.) The partial sum built
# with the source's coefficients has an error that falls only as $t^2$, however many terms it
# keeps: it misses half of $S_2$.

# %%
t_grid = np.geomspace(*P.ray_t, P.ray_points)
S_ray = np.array([float(action({k: t * v for k, v in theta_syn.items()}, z_syn, y_syn)) for t in t_grid])
terms = closed_syn  # [S0, S1, S2, S3, S4, S5]
source_terms = [terms[0], 0.0,
                theory.general_term(theta_syn, z_syn, y_syn, P.synth_M, 1, coefficient="source"),
                theory.general_term(theta_syn, z_syn, y_syn, P.synth_M, 2, coefficient="source")]


def partial_sum(coeffs, K, t):
    return sum(coeffs[k] * t ** k for k in range(K + 1))


slopes, omitted_slopes = {}, {}
small = t_grid <= 0.03


def fitted_exponent(err):
    return np.polyfit(np.log(t_grid[small]), np.log(err[small]), 1)[0]


def omitted(K, t):
    """The known omitted terms S_(K+1) t^(K+1) + … + S_5 t^5 (signed)."""
    return sum(terms[k] * t ** k for k in range(K + 1, len(terms)))


for K in (1, 2, 3, 4):
    err = np.abs(S_ray - partial_sum(terms, K, t_grid))
    slopes[K], omitted_slopes[K] = fitted_exponent(err), fitted_exponent(np.abs(omitted(K, t_grid)))
err_src = np.abs(S_ray - partial_sum(source_terms, 3, t_grid))
slopes["source"] = fitted_exponent(err_src)
# what the source's partial sum leaves out, by the closed forms: its errors in S2, S3, plus S4 t^4 + S5 t^5
omitted_slopes["source"] = fitted_exponent(np.abs(partial_sum(terms, 3, t_grid) - partial_sum(source_terms, 3, t_grid)
                                                  + omitted(3, t_grid)))

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
ax.plot(t_grid, S_ray, "o", color="k", markerfacecolor="none", label="$S(t\\theta)$ experiment")
for j, K in enumerate((1, 2, 3, 4)):
    ax.plot(t_grid, partial_sum(terms, K, t_grid), "-", color=cu.plotting.PALETTE[j],
            label=f"theory: terms up to $S_{K}$")
ax.set_xlabel("distance along the ray $t$")
ax.set_ylabel("action $S$ (nats)")
ax.set_xscale("log")
ax.legend(fontsize=8)
ax = axes[1]
for j, K in enumerate((1, 2, 3, 4)):
    cu.plotting.theory_and_experiment(ax, t_grid, np.abs(terms[K + 1]) * t_grid ** (K + 1),
                                      np.abs(S_ray - partial_sum(terms, K, t_grid)),
                                      label=f"$K={K}$:", color=cu.plotting.PALETTE[j])
ax.plot(t_grid, err_src, "s", color="0.5", markerfacecolor="none", label="source coefficients, $K=3$")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("distance along the ray $t$")
ax.set_ylabel("$|S(t\\theta) - \\sum_{k\\leq K} S_k t^k|$ (nats)")
ax.set_ylim(1e-21, None)  # room for the legend below the curves
handles = ax.get_legend_handles_labels()[0]   # (theory line, experiment markers) of each K, then the source's
ax.legend([tuple(handles[2 * j:2 * j + 2]) for j in range(4)] + [handles[-1], plt.Line2D([], [], color="k"),
                                                                plt.Line2D([], [], color="k", marker="o", mfc="none",
                                                                           ls="none")],
          [f"$K={K}$" for K in (1, 2, 3, 4)] + ["source coefficients, $K=3$", "theory: $|S_{K+1}|\\,t^{K+1}$",
                                                  "experiment"], ncol=2, fontsize=7, loc="lower right")
plt.show()

# %%
print("fitted exponents of the error (t ≤ 0.03):\n" + "\n".join(
    f"   K = {K}: {slopes[K]:.3f} (omitted terms: {omitted_slopes[K]:.3f}; leading order K + 1 = {K + 1})"
    for K in (1, 2, 3, 4))
    + f"\n   source coefficients: {slopes['source']:.3f} (omitted: {omitted_slopes['source']:.3f})")
for K in (1, 2, 3, 4):
    cu.check_close(f"error of the partial sum up to S{K}: fitted exponent (t ≤ 0.03) vs that of the omitted terms",
                   slopes[K], omitted_slopes[K], atol=0.05)
    i = 0  # at the smallest t the omitted terms we know (up to S5) are the whole error
    cu.check_close(f"error at t = {t_grid[i]:.2g} vs |S{K + 1} t^{K + 1}" + (" + … + S5 t^5|" if K < 4 else "|"),
                   abs(S_ray[i] - partial_sum(terms, K, t_grid[i])), abs(omitted(K, t_grid[i])), rtol=0.05)
cu.check_close("error of the source's partial sum: fitted exponent vs that of what it omits", slopes["source"],
               omitted_slopes["source"], atol=0.05)

# %% [markdown]
# The terms are not small at $t = 1$ (PyTorch's default scale): there the partial sums have
# drifted away from $S$. The expansion describes a neighbourhood of $\theta = 0$; training from
# PyTorch's default scale starts outside it, training from a small initialisation inside.

# %% [markdown]
# **Explore: how far along the ray the series holds.** Choose the order $K$ of the partial sum, how
# far along the ray to look and the ray (the synthetic data or the digits of §3.1). Markers are the
# network's action, lines the closed forms. The theory says: while $t$ is small the error of the
# partial sum falls as $t^{K+1}$, and the omitted terms we know in closed form (up to $S_5$) are the
# whole of it; where the markers leave the line, the terms beyond $S_5$ matter and the expansion
# stops describing the loss. The left panel also shows the quadratic action $S_0 + S_2t^2$ of §3.3.

# %%
from IPython.display import display

from course_utils.explorers import loss_series

ex = loss_series.explorer({
    "synthetic data": loss_series.along_ray(theta_syn, z_syn, y_syn, P.synth_M, terms=closed_syn),
    "digits": loss_series.along_ray(theta_dig, z_dig, y_dig, 10, terms=closed_dig),
})
ex.show()
display(ex.variants("order", [1, 2, 3, 4]))

# %% [markdown]
# ### 3.3 The first steps of training: where the series holds
#
# **The theory.** Near $\theta = 0$ the action is $S_0 + S_2$, {eq}`eq-action-s2`, bilinear in $U$
# and $W$. Gradient descent with step $\eta$ on it is a *linear* map: with balanced classes and
# $A = -J_{\alpha\gamma}/2M$ (an $M\times E$ matrix),
#
# $$
# U \leftarrow U + \eta\,A\,W^\top, \qquad W \leftarrow W + \eta\,U^\top A, \qquad b \leftarrow b .
# $$ (eq-action-quadratic-descent)
#
# Write $A = \sum_i s_i\, l_i r_i^\top$ (singular values $s_1 \ge s_2 \ge \dots$). For each hidden
# unit $\beta$ the combination $l_i\cdot U_{:\beta} + r_i\cdot W_{\beta:}$ is multiplied by
# $1 + \eta s_i$ at every step and $l_i\cdot U_{:\beta} - r_i\cdot W_{\beta:}$ by $1 - \eta s_i$. So
# $UW = \sum_\beta U_{:\beta}W_{\beta:}$ grows fastest along $l_1 r_1^\top$, by $(1+\eta s_1)^2$ per
# step, and its share along that direction,
# $\;\text{share} = (l_1^\top\, UW\, r_1)^2/\lVert UW\rVert^2$, goes to 1 (for a random $UW$ it is
# about $1/ME$). The network first learns the one pattern of class–input correlations with
# the largest singular value of $-J$: the early phase of a deep linear network trained from small
# weights {cite:p}`saxe2014exact`, with $-J/2M$ in the role of its input–output correlation. The
# bias does not move at this order ($\partial S_2/\partial b = 0$ for balanced classes).
#
# **How long it holds.** We measure at each step how much everything beyond $S_2$ changes the
# gradient, $r_t = \lVert\nabla S - \nabla S_2\rVert / \lVert\nabla S_2\rVert$, and call the steps
# with $r_t \le 2\,\%$ the *quadratic regime*. An estimate of what that allows: a step moves
# $\theta$ off the linear path by at most $\eta s_1 r_t\lVert\theta\rVert$ (since
# $\lVert\nabla S_2\rVert \le s_1\lVert\theta\rVert$). Once the top mode carries $\theta$, these
# deviations grow like it, by $1 + \eta s_1$ per step, and so does $r_t$ (it is proportional to
# $\lVert\theta\rVert$); summed over the steps they come to about
# $\eta s_1 r_t\sum_{j\ge0}(1+\eta s_1)^{-j} = (1+\eta s_1)\,r_t$ relative to $\theta$, and twice that for
# the product $UW$. In the quadratic regime the network's $UW$ should therefore follow
# {eq}`eq-action-quadratic-descent` to within $2(1+\eta s_1)\times 2\,\%$, and its share (a ratio
# of squares) to within twice that; and there the partial sum up to $S_5$ should give the fall of
# the loss, $S_0 - S(\theta_t)$, to within 1 % (the same test as along the rays of §5).
#
# **The experiment.** The training set of §4 (20 digits per class, standardised pixels, $E = 64$),
# $H = 64$, $\eta = 0.5$, and two starts: PyTorch's default draw scaled by $10^{-3}$, and the same
# draw unscaled (the start of §4, $t = 1$ on the ray, where the series had drifted).

# %%
(zT, yT), (zV, yV) = data.train_val_split(z_all, y_all, P.per_class_train, P.per_class_val, seed=cu.seed(0))
zT, zV = data.standardize(zT, reference=zT), data.standardize(zV, reference=zT)
J = theory.correlations(zT, yT, 10, max_order=2)
s1 = float(torch.linalg.svdvals(J[1])[0]) / (2 * 10)  # top singular value of A = −J/2M
theta0 = init_params(64, P.H, 10, generator=torch.Generator().manual_seed(cu.seed(0)))
value_and_grad = torch.func.grad_and_value(action)


def grad_s2(p):
    """∇S2 for balanced classes: ∂/∂U = (J/2M) Wᵀ, ∂/∂W = Uᵀ (J/2M), ∂/∂b = 0."""
    return {"U": J[1] @ p["W"].T / 20, "W": p["U"].T @ J[1] / 20, "b": torch.zeros_like(p["b"])}


early = {}
for name, scale in (("small", P.small_init), ("default", 1.0)):
    p = {k: scale * v for k, v in theta0.items()}
    linear = theory.quadratic_action_descent(p, J, lr=P.lr, steps=P.early_steps)
    rec = {key: [] for key in ("S", "r", "share", "share_lin", "rel", "terms")}
    for step in cu.progress(range(P.early_steps + 1), desc=f"first steps, {name} start"):
        g, S = value_and_grad(p, zT, yT)
        g2 = grad_s2(p)
        uw, uw_lin = p["U"] @ p["W"], linear[step]["U"] @ linear[step]["W"]
        for key, value in (("S", float(S)),
                           ("r", float(sum(((g[k] - g2[k]) ** 2).sum() for k in g) ** 0.5
                                       / sum((g2[k] ** 2).sum() for k in g) ** 0.5)),
                           ("share", theory.top_singular_share(uw, J[1])),
                           ("share_lin", theory.top_singular_share(uw_lin, J[1])),
                           ("rel", float((uw - uw_lin).norm() / uw_lin.norm())),
                           ("terms", theory.closed_form_taylor_terms(p, zT, yT, 10) if name == "small" else np.zeros(6))):
            rec[key].append(value)
        if step == P.early_steps:
            continue                      # the last record: no step after it (the bar completes)
        p = {k: p[k] - P.lr * g[k] for k in p}
    early[name] = {key: np.array(v) for key, v in rec.items()}

sm, df = early["small"], early["default"]
t_q = int(np.argmax(sm["r"] > P.quadratic_eps)) - 1  # last step before r_t first exceeds 2 %
partial5 = sm["terms"].sum(1)
fall = sm["terms"][:, 0] - sm["S"]  # S0 − S(θ_t) = ln M − S(θ_t), the fall of the loss
print(f"top singular value of A = −J/2M: s1 = {s1:.4f}; the top mode grows by (1 + η s1)² = {(1 + P.lr * s1) ** 2:.3f} per step")
print(f"quadratic regime (r_t ≤ {P.quadratic_eps:.0%}): steps 0 … {t_q}; there the loss fell by {sm['S'][0] - sm['S'][t_q]:.2e} nats")
print(f"at step {t_q}: share of ‖UW‖² along −J's top direction {sm['share'][t_q]:.3f} (linear theory "
      f"{sm['share_lin'][t_q]:.3f});\n   from the default start {df['share'][t_q]:.3f} (linear theory {df['share_lin'][t_q]:.3f})")
print(f"largest |UW − UW_linear|/|UW_linear| in the quadratic regime: {sm['rel'][:t_q + 1].max():.2e} (small start);\n"
      f"   default start at step {t_q}: {df['rel'][t_q]:.2f}")
print(f"|S − (S0 + … + S5)|: largest in the quadratic regime {np.abs(sm['S'] - partial5)[:t_q + 1].max():.1e} nats; "
      f"at step {P.early_steps} {abs(sm['S'][-1] - partial5[-1]):.2f} nats (S = {sm['S'][-1]:.2f})")

# %% tags=["hide-input"]
steps_e = np.arange(P.early_steps + 1)
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
ax.axvspan(0, t_q, color="0.92", label="quadratic regime ($r_t \\leq 2\\,\\%$)")
ax.plot(steps_e, sm["share"], "o", color=cu.plotting.PALETTE[0], markerfacecolor="none",
        label=f"experiment, start $\\times 10^{{{int(np.log10(P.small_init))}}}$")
ax.plot(steps_e, sm["share_lin"], "-", color=cu.plotting.PALETTE[0], label="theory: descent on $S_0 + S_2$")
ax.plot(steps_e, df["share"], "s", color=cu.plotting.PALETTE[1], markerfacecolor="none",
        label="experiment, default start")
ax.plot(steps_e, df["share_lin"], "--", color=cu.plotting.PALETTE[1], label="theory from the default start")
ax.set_xlabel("gradient-descent step $t$")
ax.set_ylabel("share of $\\Vert UW\\Vert^2$ along $l_1 r_1^\\top$")
ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 0.24))
ax = axes[1]
ax.axvspan(0, t_q, color="0.92")
ax.plot(steps_e, fall, "o", color="k", markerfacecolor="none",
        label="experiment: $S_0 - S(\\theta_t)$")
ax.plot(steps_e, -sm["terms"][:, 2], "--", color=cu.plotting.PALETTE[2], label="theory: $-S_2(\\theta_t)$")
ax.plot(steps_e, sm["terms"][:, 0] - partial5, "-", color=cu.plotting.PALETTE[3],
        label="theory: $-(S_2 + \\dots + S_5)(\\theta_t)$")
ax.set_yscale("symlog", linthresh=1e-8)
ax.set_xlabel(f"gradient-descent step $t$ (start $\\times 10^{{{int(np.log10(P.small_init))}}}$)")
ax.set_ylabel("fall of the loss (nats)")
ax.legend(fontsize=8)
plt.show()

# %%
bound = 2 * (1 + P.lr * s1) * P.quadratic_eps  # the estimate of the text: errors add up to (1 + η s1) r_t, ×2 for UW
cu.check_less(f"quadratic regime: |UW − descent on S0+S2|/|UW| (largest, steps ≤ t_q) < 2(1 + η s1)·{P.quadratic_eps:.0%}",
              sm["rel"][:t_q + 1].max(), bound)
cu.check_close("quadratic regime: share along −J's top direction, network vs descent on S0+S2 (every step)",
               sm["share"][:t_q + 1], sm["share_lin"][:t_q + 1], atol=2 * bound, mode="every")
cu.check_less("UW grows along −J's top singular direction first: 0.5 < share at the end of the quadratic regime",
              0.5, sm["share"][t_q])
cu.check_less("from the default start UW does not concentrate: share at the same step < 0.5", df["share"][t_q], 0.5)
cu.check_less("quadratic regime: |S − (S0 + … + S5)| − 1 % of |S0 − S| < 1e-13 (the series gives the fall of the loss)",
              np.max(np.abs(sm["S"] - partial5)[:t_q + 1] - 0.01 * np.abs(fall[:t_q + 1])), 1e-13)  # 1e-13: rounding of S ≈ 2.3
cu.check_less(f"beyond the quadratic regime other directions are learned: share at step {P.early_steps} < share at t_q",
              sm["share"][-1], sm["share"][t_q])

# %% [markdown]
# From the small start the network does, step for step, what {eq}`eq-action-quadratic-descent`
# says: $UW$ turns into the top singular direction of $-J$ while the loss has hardly moved (the
# printed fall), and the partial sums of the series follow the loss. Once $\lVert\theta\rVert$ is of
# order one the higher terms take over: the share falls again as other directions are learned, and
# by the end of the window the partial sum up to $S_5$ misses the loss by the printed amount: the
# series no longer describes the network. From PyTorch's default start the network is never in the
# quadratic regime: the same linear theory predicts the same concentration, and $UW$ does not
# follow it. What a network "learns first" in the sense of the expansion is what it learns from a
# small initialisation.
#
# ## 4. Training, and early stopping as a condition on gradients
#
# **The theory.** Train by gradient flow on the training action $S_T$, $\dot\theta = -\eta\nabla S_T$.
# The validation action then changes as
#
# $$
# \frac{dS_V}{dt} = \nabla S_V\cdot\dot\theta = -\eta\,\nabla S_T\cdot\nabla S_V .
# $$ (eq-action-early-stopping)
#
# While the two gradients point the same way, a step on the training data also helps on unseen
# data; once $\nabla S_T\cdot\nabla S_V < 0$ every step *hurts* it. The validation loss is
# minimal where the gradients become orthogonal, $\nabla S_T\cdot\nabla S_V = 0$: early stopping
# {cite:p}`prechelt1998early` as a condition, which needs no look at the future of the
# validation curve (and which is the idea of gradient alignment between examples
# {cite:p}`fort2019stiffness`). For gradient descent with a step $\eta$ the one-step change is
# $S_V(t+1) - S_V(t) = -\eta\,\nabla S_T\cdot\nabla S_V + O(\eta^2)$.
#
# **The experiment.** A network with $H = 64$ hidden units on 20 digits per class (standardised
# pixels, $E = 64$), validated on 60 other digits per class, trained by full-batch gradient
# descent from PyTorch's default initialisation; at every step we record $S_T$, $S_V$ and
# $\nabla S_T\cdot\nabla S_V$.

# %%
theta_trained, hist = theory.train_tracking_alignment(theta0, (zT, yT), (zV, yV), steps=P.steps, lr=P.lr)
steps, S_T, S_V, align = hist["step"], hist["S_T"], hist["S_V"], hist["alignment"]
step_min = int(steps[np.argmin(S_V)])
step_zero = theory.first_sign_change(steps, align)
dSV = np.diff(S_V)  # the change of the validation loss in one step
print(f"training loss {S_T[0]:.4f} → {S_T[-1]:.4f} nats; validation loss minimal at step {step_min}"
      f" ({S_V.min():.4f} nats), {S_V[-1]:.4f} at the end")
print(f"∇S_T·∇S_V crosses zero at step {step_zero:.1f}: {abs(step_zero - step_min):.1f} steps from the minimum")

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 1, figsize=(7, 6), sharex=True)
ax = axes[0]
ax.plot(steps, S_T, "-", label="training loss $S_T$")
ax.plot(steps, S_V, "-", label="validation loss $S_V$")
ax.plot([step_min], [S_V.min()], "o", color="k", markerfacecolor="none", label="minimum of $S_V$ (experiment)")
ax.axvline(step_zero, color="k", ls="--", lw=1, label="$\\nabla S_T\\cdot\\nabla S_V = 0$ (theory)")
ax.set_yscale("log")
ax.set_ylabel("loss (nats)")
ax.legend()
ax = axes[1]
ax.plot(steps[:-1], -P.lr * align[:-1], "-", color=cu.plotting.PALETTE[2],
        label="theory: $-\\eta\\,\\nabla S_T\\cdot\\nabla S_V$")
ax.plot(steps[:-1], dSV, "o", color=cu.plotting.PALETTE[2], markerfacecolor="none",
        markevery=list(cu.log_spaced_steps(len(dSV) - 1, 40)), label="experiment: $S_V(t+1) - S_V(t)$")
ax.axhline(0, color="0.5", lw=0.8)
ax.axvline(step_zero, color="k", ls="--", lw=1)
ax.set_yscale("symlog", linthresh=1e-5)
ax.set_xscale("symlog", linthresh=10)
ax.set_xlim(0, P.steps)
ax.set_xlabel("gradient-descent steps $t$ (linear up to 10, then logarithmic)")
ax.set_ylabel("change of $S_V$ per step (nats)")
ax.legend()
plt.show()

# %%
cu.check_less("|zero of ∇S_T·∇S_V − minimum of S_V| in steps", abs(step_zero - step_min), 2.0)
# the remainder is the O(η²) term of the exercise "Early stopping with a finite step"
cu.check_close("one-step change of S_V vs −η ∇S_T·∇S_V (all steps)", dSV, -P.lr * align[:-1], rtol=0.1)

# %% [markdown]
# ## 5. What training does to the terms of the expansion
#
# $J_{\alpha\gamma}$ is fixed by the data; $\sum_\beta U_{\alpha\beta}W_{\beta\gamma}$ by the
# parameters. Each is centred at zero: $\sum_\alpha J_{\alpha\gamma} = 0$ exactly, and the weights
# start random. Their *product* is what enters $S_2$, and lowering $S_2$ means making it negative
# entry by entry: training should bias the product to one sign while each factor stays centred.
# The same holds one order up for $J_{\alpha\gamma\delta}$ and $\sum_\beta U_{\alpha\beta}W_{\beta\gamma}W_{\beta\delta}$.
# The trained parameters of §4 lie far outside the quadratic regime of §3.3: there the products
# are not terms of a series that sums to $S$, but they still say how the weights line up with the
# data's class contrasts ($S_2$ and the $UWW$ part of $S_3$ are their sums, {eq}`eq-action-s2` and
# {eq}`eq-action-s3`). Here are the distributions at the trained parameters and, for contrast, the product at
# the initialisation (the spike of $J$ at zero comes from the blank border pixels, which never
# vary). We measure the bias by $\sum x/\sum|x|$ over the entries $x$ of the
# product: $-1$ if all are negative, near $0$ for random signs.

# %%
stats, entries = {}, {}
for order in (1, 2):
    Jk = J[order].numpy().ravel()
    uw = theory.uw_tensor(theta_trained, order).numpy().ravel()
    uw0 = theory.uw_tensor(theta0, order).numpy().ravel()
    prod, prod0 = Jk * uw, Jk * uw0
    entries[order] = (Jk, uw, prod, prod0)
    nz = prod != 0  # inputs that never vary (blank corner pixels) give J = 0 exactly
    stats[order] = dict(J_mean=abs(round(Jk.mean() / Jk.std(), 12)), uw_mean=uw.mean() / uw.std(),
                        neg=(prod[nz] < 0).mean(), bias=prod.sum() / np.abs(prod).sum(),
                        bias0=prod0.sum() / np.abs(prod0).sum())
    print(f"order {order}: mean/std of the weights {stats[order]['uw_mean']:+.3f}; product negative in "
          f"{stats[order]['neg']:.1%} of the non-zero entries;\n   sign bias Σx/Σ|x| of the product "
          f"{stats[order]['bias']:+.3f} (at initialisation {stats[order]['bias0']:+.3f})")

# %% tags=["hide-input"]
fig, axes = cu.panels(6, panel_height=2.4)  # left column: order 1; right column: order 2
for row, order in enumerate((1, 2)):
    Jk, uw, prod, prod0 = entries[order]
    idx_names = r"\alpha\gamma" if order == 1 else r"\alpha\gamma\delta"
    w_name = r"\sum_\beta UW" if order == 1 else r"\sum_\beta UWW"
    for col, (values, name) in enumerate([(Jk, f"$J_{{{idx_names}}}$"), (uw, f"$({w_name})_{{{idx_names}}}$"),
                                          (prod, f"product $J\\,{w_name}$")]):
        ax = axes[2 * col + row]
        lim = np.quantile(np.abs(values), 0.995)
        ax.hist(values, bins=60, range=(-lim, lim), color=cu.plotting.PALETTE[col], alpha=0.8)
        if col == 2:
            ax.hist(prod0, bins=60, range=(-lim, lim), histtype="step", color="k", label="at initialisation")
            ax.set_yscale("log")
            ax.legend(fontsize=8)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_xlabel(f"{name} (dimensionless)")
        ax.set_ylabel("count")
plt.show()

# %%
for order in (1, 2):
    cu.check_close(f"J centred (order {order}): |mean|/std", stats[order]["J_mean"], 0.0, atol=1e-10)
    cu.check_less(f"weights roughly centred (order {order}): |mean|/std", abs(stats[order]["uw_mean"]), 0.1)
    cu.check_less(f"product unbiased at initialisation (order {order}): |Σx/Σ|x||",
                  abs(stats[order]["bias0"]), 0.2)
    cu.check_less(f"trained product biased to negative values (order {order}): Σx/Σ|x|",
                  stats[order]["bias"], -0.5)
cu.check_less("most trained first-order products negative: 0.65 < fraction", 0.65, stats[1]["neg"])
cu.check_less("most trained second-order products negative (the source: mostly positive): 0.5 < fraction",
              0.5, stats[2]["neg"])

# %% [markdown]
# **A sign the source has the other way.** The source states that the products
# $J_{\alpha\gamma\delta}\,(\sum_\beta UWW)_{\alpha\gamma\delta}$ are mostly positive after training. Here
# they are negative in most of the non-zero entries (the fraction printed above) and their sum is
# negative. It is the sign that lowers the action near $\theta = 0$: the coefficient
# $\sigma''(0)/2$ of the $UWWJ$ term in {eq}`eq-action-s3` is positive, so $S_3$ falls as
# $\sum UWWJ$ becomes negative, as $S_2$ falls with $\sum UWJ$. With
# $J$ defined the other way round (class moment minus data moment) every product would change
# sign; with the $J$ of {eq}`eq-action-J`, the one that enters $S_2$ and $S_3$ as written, the
# source's statement does not hold for this network.

# %% [markdown]
# **Which term dominates?** In $S_2$, for balanced classes, there is nothing to compare: the
# $U$–$b$ term is zero identically, and $\sum UWJ$ is all of $S_2$ at every $E$. In $S_3$ two terms
# compete, $\sum U W W J_{\alpha\gamma\delta}$ and $\sum U b W J_{\alpha\gamma}$. **Count the
# terms:** for each class $\alpha$ and hidden unit $\beta$ the first is a sum over $E^2$ pairs
# $(\gamma,\delta)$, the second over $E$ inputs $\gamma$ times a single bias $b_\beta$. If the
# terms added coherently the ratio would grow as $E$; if they added like random signs, as
# $\sqrt{E}$. Either way the $UWW$ term wins at large $E$, and the more so the more input
# dimensions carry class information. The same counting gives the degree-$(n+1)$ term $E^n$
# entries: the source suggests that this growth of the number of exploitable correlations with
# the embedding dimension is one root of the power laws of loss against model size
# {cite:p}`kaplan2020scaling`. That suggestion is not tested here, nor in any other chapter of
# this course: no loss-against-$E$ power law is measured, and the scaling chapters
# (e.g. [Scaling laws from counting](../06_scaling/01_scaling_from_counting.ipynb)) study other
# mechanisms.
#
# **What the comparison means.** We compare the two terms at trained parameters, where the series
# has diverged: the table below prints $S_2$ and $S_3$ there beside the loss $S(\theta)$ itself,
# and at large $E$ they are several nats below zero while the loss is a fraction of a nat. They are
# not terms of a sum that approaches $S$. But the two $S_3$ terms are both of degree 3, so their
# ratio is the same at every point $t\theta$ of the ray through the trained parameters, and along
# that ray the series does converge for small $t$: in every run we check that at $t = 0.05$ the
# partial sum up to $S_5$ gives the fall of the loss, $S_0 - S(t\theta)$, to within 1 %. So the
# ratio says which $S_3$ term dominates near $\theta = 0$ in the direction that training has taken;
# it says nothing about the loss at the trained parameters.
#
# **The experiment.** To vary $E$ at fixed data we embed the standardised digits with a random
# linear map, $z = R^\top x$ with $R_{i\gamma} \sim \mathcal{N}(0, 1/64)$, $E$ from 1 to 128, train
# the network ($H = 32$) for 400 steps (about the early-stopping time of §4) with several seeds,
# and compare the two $S_3$ terms, and the off-diagonal part ($\gamma\ne\delta$, $E^2 - E$ terms) of
# the $UWW$ term with its diagonal ($E$ terms).

# %%
zs_all = data.standardize(z_all)
sweep = {"ratio": np.zeros((len(P.sweep_E), P.sweep_seeds)), "offdiag": np.zeros((len(P.sweep_E), P.sweep_seeds)),
         "Ub": np.zeros((len(P.sweep_E), P.sweep_seeds)), "S2": np.zeros((len(P.sweep_E), P.sweep_seeds)),
         "S3": np.zeros((len(P.sweep_E), P.sweep_seeds)), "S": np.zeros((len(P.sweep_E), P.sweep_seeds)),
         "ray_err": np.zeros((len(P.sweep_E), P.sweep_seeds))}
for i, E in enumerate(cu.progress(P.sweep_E, desc="embedding dimensions")):
    for s in range(P.sweep_seeds):
        R = torch.randn(64, E, generator=torch.Generator().manual_seed(cu.seed(100 + s))) / 8
        (zt, yt), (zv, yv) = data.train_val_split(zs_all @ R, y_all, P.per_class_train, P.per_class_val, seed=cu.seed(s))
        th0 = init_params(E, P.sweep_H, 10, generator=torch.Generator().manual_seed(cu.seed(s)))
        th, _ = theory.train_tracking_alignment(th0, (zt, yt), (zv, yv), steps=P.sweep_steps, lr=P.lr,
                                                record_every=P.sweep_steps, progress=False)
        Je = theory.correlations(zt, yt, 10, max_order=2)
        t2, t3 = theory.s2_terms(th, Je), theory.s3_terms(th, Je)
        prod = theory.uw_tensor(th, 2) * Je[2]
        sweep["ratio"][i, s] = abs(t3["UWWJ"] / t3["UbWJ"])
        sweep["offdiag"][i, s] = 1 - float(torch.diagonal(prod, dim1=1, dim2=2).sum() / prod.sum())
        sweep["Ub"][i, s], sweep["S2"][i, s], sweep["S3"][i, s] = abs(t2["Ub"]), sum(t2.values()), sum(t3.values())
        sweep["S"][i, s] = float(action(th, zt, yt))
        # along the ray tθ: partial sum up to S5 against the fall of the loss S0 − S(tθ)
        terms_th, t = theory.closed_form_taylor_terms(th, zt, yt, 10), P.ray_check_t
        S_t = float(action({k: t * v for k, v in th.items()}, zt, yt))
        sweep["ray_err"][i, s] = abs(S_t - sum(terms_th[k] * t ** k for k in range(6))) / (terms_th[0] - S_t)
log_ratio = np.log(sweep["ratio"])
ratio_gm = np.exp(log_ratio.mean(1))
log_ratio_se = log_ratio.std(1, ddof=1) / np.sqrt(P.sweep_seeds)  # standard error of ln(geometric mean)
print(" E   |UWWJ|/|UbWJ| (geo. mean)   seeds with UbWJ larger   off-diagonal share of UWWJ"
      "   at trained θ: S2     S3      S(θ)")
for i, E in enumerate(P.sweep_E):
    print(f"{E:3d}   {ratio_gm[i]:10.2f}               {int((sweep['ratio'][i] < 1).sum())}/{P.sweep_seeds}"
          f"                    {sweep['offdiag'][i].mean():6.1%}                     {sweep['S2'][i].mean():6.2f}"
          f"  {sweep['S3'][i].mean():6.2f}  {sweep['S'][i].mean():6.3f}")
print(f"along the rays tθ at t = {P.ray_check_t}: |S − (S0 + … + S5)| / (S0 − S), largest over all "
      f"{sweep['ray_err'].size} runs: {sweep['ray_err'].max():.1e}")

# %%
Es = np.array(P.sweep_E, dtype=float)
large = Es >= 16
fit = cu.fit_power_law(Es[large], ratio_gm[large])  # ratio = A · E^(−alpha): growth exponent −alpha
growth = -fit.alpha

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
ax = axes[0]
for s in range(P.sweep_seeds):
    ax.plot(Es, sweep["ratio"][:, s], ".", color="0.6", label="single seeds" if s == 0 else None)
ax.plot(Es, ratio_gm, "o", color=cu.plotting.PALETTE[0], markerfacecolor="none",
        label="experiment: geometric mean over seeds")
ax.plot(Es[large], fit(Es[large]), "-", color=cu.plotting.PALETTE[0],
        label=f"fit for $E \\geq 16$: $\\propto E^{{{growth:.2f} \\pm {fit.alpha_stderr:.2f}}}$")
ax.plot(Es, ratio_gm[-1] * Es / Es[-1], ":", color="k", label="$\\propto E$ (coherent count)")
ax.plot(Es, ratio_gm[-1] * np.sqrt(Es / Es[-1]), "--", color="0.4", label="$\\propto \\sqrt{E}$ (random signs)")
ax.axhline(1, color="0.5", lw=0.8)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("embedding dimension $E$")
ax.set_ylabel("$|\\sum UWWJ| \\,/\\, |\\sum UbWJ|$ (dimensionless)")
ax.set_ylim(bottom=5e-3)  # room for the legend below the points
ax.legend(fontsize=7, loc="lower right")
ax = axes[1]
ax.plot(Es, sweep["offdiag"].mean(1), "o-", markerfacecolor="none", label="experiment")
ax.plot(Es, 1 - 1 / Es, ":", color="k", label="share of off-diagonal entries, $1 - 1/E$")
ax.set_xscale("log")
ax.set_xlabel("embedding dimension $E$")
ax.set_ylabel("off-diagonal share of $\\sum UWWJ$")
ax.legend(fontsize=8)
plt.show()

# %%
print(f"fitted growth for E ≥ 16: ratio ∝ E^{growth:.2f} ± {fit.alpha_stderr:.2f}")
cu.check_less("S2: the U–b term is zero for balanced classes (max |term|, rounded to 1e-14)",
              round(sweep["Ub"].max(), 14), 1e-12)
print(f"ln of the geometric-mean ratio: E = 1: {log_ratio[0].mean():+.2f} ± {log_ratio_se[0]:.2f}; "
      f"E = {P.sweep_E[-1]}: {log_ratio[-1].mean():+.2f} ± {log_ratio_se[-1]:.2f} (± 1 s.e. over {P.sweep_seeds} seeds)")
cu.check_less("small E = 1: the two S3 terms are comparable: |ln(geo. mean ratio)| < 4 s.e.",
              abs(log_ratio[0].mean()), 4 * log_ratio_se[0])
cu.check_less("large E: the UWW term dominates S3 (geo. mean ratio at the largest E > 5)", 5.0, ratio_gm[-1])
cu.check_less("the ratio grows with E between √E and E: 0.5 − 0.15 < exponent", 0.35, growth)
cu.check_less("... and exponent < 1 + 0.15", growth, 1.15)
cu.check_less("off-diagonal share of UWWJ at the largest E > 0.9", 0.9, sweep["offdiag"][-1].mean())
cu.check_count(f"runs whose series converges along the ray: at t = {P.ray_check_t} the partial sum up to S5 "
               "gives S0 − S(tθ) within 1 %", int((sweep["ray_err"] < 0.01).sum()),
               at_least=sweep["ray_err"].size, of=sweep["ray_err"].size)

# %% [markdown]
# ## 6. What it means
#
# - Near $\theta = 0$ the network sees the data only through the class–input correlations $J$:
#   $S_2$ couples the first moments of the classes to $UW$, $S_3$ the second moments to $UWW$
#   (and the first to $UbW$). From a small initialisation gradient descent is then a linear map,
#   {eq}`eq-action-quadratic-descent`, and $UW$ turns into the top singular direction of $-J$
#   before the loss has moved appreciably, as in a deep linear network; the network follows the linear theory
#   step for step while the higher terms change the gradient by less than 2 %. From PyTorch's
#   default scale it starts outside that regime, and $UW$ does not concentrate.
# - The coefficients follow from the Taylor coefficients of the activation,
#   $\sigma^{(n)}(0)/n!$, not $\sigma^{(n)}(0)/(n+1)!$: automatic differentiation agrees with the
#   derived forms to about $10^{-15}$ and rejects the source's by exactly $n+1$. From degree 4 on
#   the log-partition function adds terms outside the $J$ series; for SiLU the quartic one is a
#   positive variance.
# - At the trained parameters the products $J\cdot UW$ and $J\cdot UWW$ are biased to negative
#   values while each factor stays centred: training aligns the weights with the data's class
#   contrasts (the source's "mostly positive" for $J\cdot UWW$ does not hold here). There the
#   series has diverged; along the ray through the trained parameters, where it converges, the
#   $UWW$ term dominates $S_3$ at large $E$, because it has $E$ times as many entries, most of them
#   off-diagonal.
# - Training stops helping when the training and validation gradients become orthogonal; the
#   zero of $\nabla S_T\cdot\nabla S_V$ marked the minimum of the validation loss to within a
#   step.
#
# Next, [Networks at initialisation: the Gaussian-process limit](../03_wide_networks/01_nngp.ipynb)
# and [Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb)
# expand in another small parameter, one over the width, instead of in $\theta$.

# %% [markdown]
# ## Exercises
#
# :::{exercise} The class–input correlations of a toy distribution
# :label: ex-action-toy-J
#
# Two inputs and two balanced classes: $p(z, m) = \tfrac14$ for each of the pairs
# $\big((1,0), 0\big)$, $\big((1,1), 0\big)$, $\big((0,1), 1\big)$, $\big((1,1), 1\big)$.
# Compute $J_{\alpha\gamma}$ (a $2\times2$ array, class index first) and $J_{\alpha\gamma\delta}$
# ($2\times2\times2$) by hand, then check them with
# `exercises.check_toy_correlations(J1, J2)`. Which sums over $\alpha$ vanish, and why?
# :::
#
# :::{solution-start} ex-action-toy-J
# :class: dropdown
# :::
#
# $\mathbb{E}_z[z] = (\tfrac34, \tfrac34)$, $\mathbb{E}_{z|0}[z] = (1, \tfrac12)$,
# $\mathbb{E}_{z|1}[z] = (\tfrac12, 1)$, so $J_{0\gamma} = (-\tfrac14, \tfrac14)$ and
# $J_{1\gamma} = (\tfrac14, -\tfrac14)$. For the second moments,
# $\mathbb{E}_z[zz^\top] = \begin{pmatrix}3/4&1/2\\1/2&3/4\end{pmatrix}$,
# $\mathbb{E}_{z|0}[zz^\top] = \begin{pmatrix}1&1/2\\1/2&1/2\end{pmatrix}$, so
# $J_{0\gamma\delta} = \operatorname{diag}(-\tfrac14, \tfrac14)$ and $J_{1\gamma\delta} = \operatorname{diag}(\tfrac14, -\tfrac14)$.
# Every $\sum_\alpha J_{\alpha\cdots}$ vanishes because $\sum_\alpha p(\alpha)\mathbb{E}_{z|\alpha} = \mathbb{E}_z$.

# %%
solved = exercises.check_toy_correlations([[-0.25, 0.25], [0.25, -0.25]],
                                          [[[-0.25, 0.0], [0.0, 0.25]], [[0.25, 0.0], [0.0, -0.25]]])

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Two hidden layers
# :label: ex-action-two-layers
#
# For $f_\alpha = \sum_\beta U_{\alpha\beta}\,\sigma\big(\sum_\kappa V_{\beta\kappa}\,\sigma(a_\kappa) + c_\beta\big)$,
# $a = Wz + b$, with balanced classes: (a) show that $S_1 = 0$ and $S_2 = 0$; (b) derive $S_3$.
# (c) Write a function `s3(params, J)` that returns it (`params` has keys U, V, c, W, b;
# `J = theory.correlations(z, y, M, 2)`), and check it with
# `exercises.check_two_hidden_layer_s3(s3)`, which compares with automatic differentiation.
# :::
#
# :::{solution-start} ex-action-two-layers
# :class: dropdown
# :::
#
# The inner pre-activation $h_\beta = \sum_\kappa V_{\beta\kappa}\sigma(a_\kappa) + c_\beta$ starts
# at first order ($c$) and its $z$-dependence at third ($V\,c_1 W z$). So
# $f = c_1 U c + [c_1^2\, U V a + c_2\, U c^2] + O(\theta^4)$ with $c_1 = \sigma'(0)$,
# $c_2 = \sigma''(0)/2$. The linear-in-$f$ part of $S$ gives
# $S_2 = \frac{c_1}{M}\sum U_{\alpha\beta}c_\beta J_\alpha = 0$ (balanced), and
#
# $$
# S_3 = \frac{\sigma'(0)^2}{M}\sum U_{\alpha\beta}V_{\beta\kappa}W_{\kappa\gamma}J_{\alpha\gamma}
#     = \frac{1}{4M}\sum_{\alpha\beta\kappa\gamma} U_{\alpha\beta}V_{\beta\kappa}W_{\kappa\gamma}J_{\alpha\gamma},
# $$
#
# the terms with $b$ and $c^2$ multiplying $J_\alpha = 0$; the variance of $\ln Z$ starts at
# degree 4. A deeper network sees the class means one order later, through the product of all
# its weight matrices.

# %%
def s3_two_layers(params, J):
    """The reference answer (hidden in the book's solution): S3 = (1/4M) Σ U V W J."""
    M = J[1].shape[0]
    return float(torch.einsum("ab,bk,kg,ag->", params["U"], params["V"], params["W"], J[1])) / (4 * M)


solved = exercises.check_two_hidden_layer_s3(s3_two_layers)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Unbalanced classes learn the prior first
# :label: ex-action-prior
#
# Let $p(\alpha) \neq 1/M$. Show that $S_2$ gains the term $\frac{1}{2M}\sum_{\alpha\beta}U_{\alpha\beta}b_\beta\,(1 - Mp(\alpha))$,
# and find the direction in which gradient flow first grows $\sum_\beta U_{\alpha\beta}b_\beta$,
# the part of the logits that does not depend on $z$. What does the network learn first?
# :::
#
# :::{solution} ex-action-prior
# :class: dropdown
#
# The constant part of $a_\beta$ is $b_\beta$, and $(\mathbb{E}_z - Mp(\alpha)\mathbb{E}_{z|\alpha})[1] = 1 - Mp(\alpha)$.
# Near the origin $\dot U_{\alpha\beta} \propto -\partial S_2/\partial U_{\alpha\beta} \ni -\frac{1}{2M}b_\beta(1 - Mp(\alpha))$
# and $\dot b_\beta \propto -\frac{1}{2M}\sum_\alpha U_{\alpha\beta}(1 - Mp(\alpha))$: the
# constant logit $\sum_\beta U_{\alpha\beta}b_\beta$ grows along $Mp(\alpha) - 1$, larger for the
# frequent classes. The network first learns the class prior, then the class–input correlations.
# :::
#
# :::{exercise} Early stopping with a finite step
# :label: ex-action-finite-step
#
# For gradient descent with step $\eta$, expand $S_V(\theta - \eta\nabla S_T)$ to second order in
# $\eta$. Where does the discrete minimum of $S_V$ sit relative to the zero of
# $\nabla S_T\cdot\nabla S_V$, if the validation Hessian $\mathbf{H}_V$ is positive along $\nabla S_T$?
# :::
#
# :::{solution} ex-action-finite-step
# :class: dropdown
#
# $S_V(t+1) - S_V(t) = -\eta\,\nabla S_T\cdot\nabla S_V + \tfrac{\eta^2}{2}\nabla S_T^\top\mathbf{H}_V\nabla S_T + O(\eta^3)$.
# $S_V$ stops falling when $\nabla S_T\cdot\nabla S_V = \tfrac{\eta}{2}\nabla S_T^\top\mathbf{H}_V\nabla S_T > 0$,
# i.e. slightly *before* the gradients become orthogonal; the shift vanishes with $\eta$. In §4 it
# is below one step.
# :::
#
# ## Summary
#
# - The cross-entropy is an action whose minimum is the entropy of the labels given the inputs,
#   $H[m|z]$ (not the source's $H[p]$); $\theta = 0$ is a stationary point with $S_0 = \ln M$
#   and $S_1 = 0$.
# - $S_2 = \frac{1}{2M}\sum J_{\alpha\gamma}(UW)_{\alpha\gamma}$ ({eq}`eq-action-s2`) and
#   $S_3 = \frac{1}{4M}\sum UWWJ_{\alpha\gamma\delta} + \frac{1}{2M}\sum UbWJ_{\alpha\gamma}$ for
#   balanced classes ({eq}`eq-action-s3`); the degree-$(n+1)$ term of the $J$ series carries
#   $\sigma^{(n)}(0)/n!$ ({eq}`eq-action-general-term`);
#   from degree 4 on the cumulants of $\ln Z$ add terms of another form.
# - Automatic differentiation along a ray confirms every coefficient to machine precision; the
#   source's are off by $n + 1$, its $UbWJ$ coefficient by 6.
# - From a small initialisation the first steps are gradient descent on $S_0 + S_2$: $UW$ grows
#   along the top singular direction of $-J$, as in a deep linear network, and the series
#   describes the loss. From the default scale $UW$ does not follow this linear theory, and at the
#   trained parameters the series has diverged.
# - Training biases $J\cdot UW$ and $J\cdot UWW$ to negative values; along the ray through the
#   trained parameters the $UWW$ term dominates $S_3$ at large $E$.
# - Early stopping is the condition $\nabla S_T\cdot\nabla S_V = 0$ ({eq}`eq-action-early-stopping`).
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
