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
# # Why does the loss fall smoothly while skills appear suddenly?
#
# Averaged over everything a model is asked, its test loss falls as a power of the training
# time, of the data and of the number of parameters {cite:p}`kaplan2020scaling`; yet an individual
# ability often seems to switch on abruptly at some scale {cite:p}`wei2022emergent`. Both can be
# true at once if what a network learns comes in discrete chunks, **quanta** or skills, each learned
# suddenly, and if the skills are needed with power-law frequencies: the loss is then a sum of
# many step functions at power-law spaced positions, which is a smooth power law
# {cite:p}`michaud2023quantization`. We make this precise with a model that can be solved exactly,
# the multilinear model of {cite:t}`nam2024exactly`, derive its four scaling laws (time, data,
# parameters, compute) and check each against a simulation; then we train real two-layer
# networks on the task the model describes, multitask sparse parity, and see how far the
# picture carries over.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)
# (decoupled modes, each on its own clock), [the NTK chapter](../03_wide_networks/02_ntk.ipynb)
# (when a network is *not* a fixed-feature model) and the batched ensembles of `course_utils.ensemble`
# (used in [Grokking II](../05_grokking/02_grokking_phase_diagrams.ipynb)). The two chapters before
# this one, [scaling from counting](01_scaling_from_counting.ipynb) and
# [variance- and resolution-limited scaling](02_variance_and_resolution.ipynb), give the other
# two pictures of scaling laws we connect to at the end.
# **Runs in:** about two minutes on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# simulates three times more skills for three times longer, averages over more training sets and
# network seeds, and adds data-set sizes and widths (meant for a GPU).
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/06_scaling/03_skills_and_quanta.ipynb)
# of this chapter, without the solutions (they are in the book).

# %% tags=["hide-input"]
# Set-up. On Colab this installs the course's shared package at the release this notebook was
# made with (and nothing else: Colab's torch, numpy and matplotlib are kept); elsewhere it does
# nothing. Another version on Colab: first run `%env COURSE_REF=main` (a branch, tag or commit).
import math
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

import course_utils as cu
from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedAdam, BatchedMLP, BatchedSGD, cross_entropy_per_sample, online, train_ensemble
from course_utils.exercises import skills_quanta as exercises
from course_utils.theory import quanta as theory

cu.use_house_style()
device = cu.setup()
C = cu.plotting.PALETTE

# %% [markdown]
# ## Parameters
#
# The multilinear model is simulated with NumPy for $10^4$ skills (a few seconds); the networks
# are small two-layer MLPs trained as batched ensembles (most of the time).

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        alpha=1.0, n_skills=10_000, lr=1.0, a0=0.01, steps=100_000, n_records=60,   # §2–3, the model
        small_n_skills=100, data_sizes=(10, 30, 100, 300, 1000, 3000, 10_000), data_seeds=20, data_lr=0.5,
        mlp_skills=8, mlp_bits=20, mlp_m=3, mlp_alpha=1.0, width=128, batch=256, mlp_lr=3e-3,   # §4, networks
        mlp_steps=8000, mlp_seeds=4, record_every=25, n_test=256,
        emergence_sizes=(1000, 2000, 4000, 8000, 16_000, 32_000), emergence_steps=4000,       # §5
        widths=(4, 8, 16, 32, 64), width_seeds=3, width_steps=12_000,                         # §6
        alpha_small=0.6, worlds=(10_000, 100_000),                                            # §3, α < 1
        sgd_lr=1.0, sgd_steps=12_000,                                                         # §4, plain SGD
        em_queries=100,                                                                       # §7, exact match
    ),
    paper=dict(n_skills=30_000, steps=300_000, data_sizes=(10, 30, 100, 300, 1000, 3000, 10_000, 30_000),
               data_seeds=50, mlp_seeds=16, mlp_steps=10_000, emergence_sizes=(500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000),
               widths=(2, 4, 8, 12, 16, 24, 32, 48, 64, 96), width_seeds=8, width_steps=40_000,
               worlds=(30_000, 300_000), sgd_steps=20_000),
)
P

# %% [markdown]
# ## 1. The task: multitask sparse parity
#
# {cite:t}`michaud2023quantization` designed a task whose skills are discrete by construction. An
# input $x = (c, z)$ is a one-hot **control code** $c\in\{0,1\}^{n_s}$ naming one of $n_s$ skills,
# followed by $n_b$ random **task bits** $z\in\{0,1\}^{n_b}$. Skill $k$ is the parity of its own
# fixed subset $S_k$ of $m$ task bits, $y = \sum_{i\in S_k} z_i \bmod 2$, and the skills are asked
# with Zipf frequencies
#
# $$
# p_k = \frac{k^{-(\alpha+1)}}{Z}, \qquad Z = \sum_{j=1}^{n_s} j^{-(\alpha+1)},
# $$ (eq-quanta-zipf)
#
# so that the frequency of the $k$-th skill falls as a power of its rank. Each skill is a sparse
# parity, a problem known to be hard for gradient descent: no subset of fewer than $m$ bits carries
# any information about the label, and a network has to *find* the $m$ relevant bits
# {cite:p}`barak2022hidden`. The generator is `course_utils.data.sparse_parity`:

# %%
task = MultitaskSparseParity(n_skills=P.mlp_skills, n_bits=P.mlp_bits, m=P.mlp_m, alpha=P.mlp_alpha, seed=cu.seed(0))
x, y, skill = task.sample(4, seed=cu.seed(0))
print("p_k =", np.round(task.probabilities.numpy(), 3))
print("subsets S_k (task-bit indices):\n   ", task.subsets.tolist())
for xi, yi, ki in zip(x.int().tolist(), y.tolist(), skill.tolist()):
    print(f"control {xi[:P.mlp_skills]}  bits {''.join(map(str, xi[P.mlp_skills:]))}  skill {ki + 1}  label {yi}")

# %% [markdown]
# ## 2. The multilinear model: one sigmoid per skill
#
# **The model.** Write the $\pm1$ version of the task as a sum over skills: with
# $g_k(x) = [c = e_k]\,\prod_{i\in S_k}(1 - 2z_i)$ (the parity of skill $k$ as $\pm1$ when skill $k$ is
# asked, 0 otherwise), the target is $f^*(x) = S\sum_k g_k(x)$ with a scale $S$. The skill functions
# are orthogonal under the data distribution, $\mathbb E[g_k g_l] = p_k\,\delta_{kl}$, because only
# one control bit is on at a time. {cite:t}`nam2024exactly` study the model
#
# $$
# f(x) = \sum_{k=1}^{N} a_k b_k\, g_k(x),
# $$ (eq-quanta-model)
#
# which knows the skill functions but has to learn their strengths $s_k = a_k b_k$; the product
# $a_k b_k$ is the simplest non-linearity with the property of a two-layer network that a small
# initialisation learns slowly at first (compare a deep linear network).
#
# **The theory.** The loss $\tfrac12\mathbb E[(f^* - f)^2] = \tfrac12\sum_k p_k (S - s_k)^2$ is a
# sum of independent terms, so gradient flow $\dot a_k = p_k b_k(S - s_k)$, $\dot b_k = p_k a_k(S - s_k)$
# decouples skill by skill. From $a_k = b_k$ (which gradient flow preserves),
#
# $$
# \dot s_k = a_k\dot b_k + b_k\dot a_k = p_k(a_k^2 + b_k^2)(S - s_k) = 2p_k\, s_k(S - s_k)
# \quad\Longrightarrow\quad
# \boxed{\;s_k(t) = \frac{S}{1 + (S/s_0 - 1)\,e^{-2Sp_k t}}\;}
# $$ (eq-quanta-sigmoid)
#
# a logistic sigmoid: nothing visible for a long time, then a rise to $S$. Every skill follows the
# same curve in the variable $p_k t$; skill $k$ is half learned at
# $t_k = \ln(S/s_0 - 1)/(2Sp_k) \propto k^{\alpha+1}$ (`theory.half_time`). We normalise the test
# loss by $\mathbb E[f^{*2}] = S^2$:
#
# $$
# L(t) = \sum_k p_k\Bigl(1 - \frac{s_k(t)}{S}\Bigr)^2 .
# $$ (eq-quanta-loss)
#
# **The experiment.** Plain gradient descent on $a_k, b_k$ for $n_s = 10^4$ skills at once
# (`theory.gradient_descent`, one vectorised update per step), with $\alpha = 1$, $S = 1$,
# $a_k = b_k = 0.01$ ($s_0 = 10^{-4}$) and learning rate $\eta = 1$, so $t = \eta\times$step:

# %%
p = theory.skill_probabilities(P.n_skills, P.alpha)
s0 = P.a0 ** 2
record = np.concatenate([[0], np.unique(np.round(np.geomspace(1, P.steps, P.n_records + 1)).astype(int))])
strength = theory.gradient_descent(p, P.steps, P.lr, a0=P.a0, record_steps=record)   # (records, n_s)
loss_gd = theory.loss_from_strengths(strength, p)
loss_flow = theory.loss_time(P.lr * record, p, s0=s0)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.3)
shown = (1, 3, 10, 30, 100)
steps_fine = np.geomspace(1, P.steps, 300)
for i, k in enumerate(shown):
    axes[0].plot(steps_fine, theory.skill_strength(P.lr * steps_fine, p[k - 1], s0=s0), "-", color=C[i],
                 label=f"skill {k}")
    axes[0].plot(record[1:], strength[1:, k - 1], "o", mfc="none", ms=4, color=C[i])
    axes[1].plot(P.lr * record[1:] * p[k - 1], strength[1:, k - 1], "o", mfc="none", ms=4, color=C[i])
u = np.geomspace(1e-3, 1e3, 200)
axes[1].plot(u, theory.skill_strength(u, 1.0, s0=s0), "k-", label="one sigmoid: $1/(1 + (S/s_0 - 1)e^{-2u})$")
axes[0].set_xscale("log")
axes[0].set_xlabel("gradient-descent step")
axes[0].set_ylabel("skill strength $s_k / S$")
axes[0].plot([], [], "o", mfc="none", color="0.4", label="markers: GD")
axes[0].plot([], [], "-", color="0.4", label="lines: theory")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8)
axes[1].set_xscale("log")
axes[1].set_xlabel("$u = p_k\\,\\eta\\,$step (dimensionless)")
axes[1].set_ylabel("skill strength $s_k / S$")
axes[1].set_ylim(-0.05, 1.25)                                   # room for the legend above the curve
axes[1].legend(fontsize=8, loc="upper left")
plt.show()

# %%
late = record >= 30
cu.check_close("GD loss vs the sum of sigmoids (steps ≥ 30)", loss_gd[late], loss_flow[late], rtol=0.05)
# half-times: the first 20 skills again, now recording every step (skills are independent)
first20 = theory.gradient_descent(p[:20], 4000, P.lr, a0=P.a0)
cu.check_close("half-times of skills 3–20 in GD steps vs ln(S/s0 − 1)/(2 S p_k η)", np.argmax(first20 >= 0.5, axis=0)[2:],
               theory.half_time(p[2:20], s0=s0) / P.lr, rtol=0.03)

# %% [markdown]
# Each skill sits at $s_0$, then rises to $S$ within a factor of a few in time, skill by skill in
# order of frequency; in the rescaled time $p_k t$ they are one curve. Gradient descent is gradient
# flow here to a few percent (the first skill, with $2\eta S p_1 = 1.2$, is where the discrete steps
# show: its half-time is 10 steps instead of 8; from skill 3 on, the GD half-times agree with
# the formula to a few percent).
#
# ## 3. Four scaling laws from one rule
#
# **The rule.** Skill $k$ is learned if its own clock has run: $2Sp_k t \gtrsim \ln(S/s_0)$. With
# $p_k\propto k^{-(\alpha+1)}$ {eq}`eq-quanta-zipf` the learned skills are $k \lesssim k_*(t) \propto t^{1/(\alpha+1)}$, and
# the loss is what is left: $L \approx \sum_{k>k_*} p_k \approx k_*^{-\alpha}/(\alpha Z)$. Each
# resource sets $k_*$ its own way.
#
# - **Time.** $k_* \propto t^{1/(\alpha+1)}$ gives $L \propto t^{-\alpha/(\alpha+1)}$. Exactly, the
#   continuum limit of the sum (substitute $v = 2St\,p_k$) is $L \approx A_T\,\tau^{-\alpha/(\alpha+1)}$ with
#   $\tau = 2St$ and $A_T = \frac{Z^{-1/(\alpha+1)}}{\alpha+1}\int_0^\infty v^{-1/(\alpha+1)}(1-\sigma(v))^2\,dv$,
#   $\sigma$ the sigmoid {eq}`eq-quanta-sigmoid` (`theory.time_law_prefactor`). The continuum counts skills up to
#   $k = \infty$; with $n_s$ skills we subtract their weight $(n_s + \tfrac12)^{-\alpha}/(\alpha Z)$
#   (`theory.zipf_tail`), a finite-$n_s$ correction that matters once $L$ is no longer large
#   compared with it.
# - **Data.** On a training set of $D$ samples, $n_k$ of them of skill $k$, the training loss is
#   $\frac{1}{2D}\sum_k n_k (S - s_k)^2$ exactly (the cross terms vanish sample by sample): the same
#   dynamics with $p_k \to n_k/D$. Trained to convergence, every skill seen at least once is learned
#   perfectly and a skill never seen keeps $s_k = s_0$ (its gradient is zero). Hence
#   $\mathbb E L(D) = \sum_k p_k(1-p_k)^D \approx \sum_k p_k e^{-p_k D}$: skill $k$ is learned iff
#   $p_k D \gtrsim 1$, $k_* \propto D^{1/(\alpha+1)}$ and $L \approx A_D D^{-\alpha/(\alpha+1)}$ with
#   $A_D = Z^{-1/(\alpha+1)}\,\Gamma\bigl(\tfrac{\alpha}{\alpha+1}\bigr)/(\alpha+1)$.
# - **Parameters.** A model with $N$ units $a_kb_k$ can hold at most $N$ skills; the best it can do
#   is the $N$ most frequent, $L(N) = \sum_{k>N} p_k$. By the midpoint rule
#   $L(N) \approx \bigl[(N+\tfrac12)^{-\alpha} - (n_s+\tfrac12)^{-\alpha}\bigr]/(\alpha Z)$: the naive law
#   $N^{-\alpha}$, a shift by $\tfrac12$ that matters at small $N$, and a **finite-$n_s$ correction**
#   that bends the curve down as $N\to n_s$ (there is nothing left to learn).
# - **Compute.** Training $N$ units for $T$ steps costs $C \propto NT$. The loss is limited by
#   whichever of $N$ and $k_*(T)$ is smaller, so the optimum balances them, $N_* \propto T^{1/(\alpha+1)}$,
#   and $C = N_*T$ gives $N_* \propto C^{1/(\alpha+2)}$, $T_* \propto C^{(\alpha+1)/(\alpha+2)}$ and
#   $L_* \propto C^{-\alpha/(\alpha+2)}$: the model's version of the compute-optimal frontier of
#   {cite:t}`hoffmann2022training`.
#
# For $\alpha = 1$ the exponents are $1/2$, $1/2$, $1$ and $1/3$ (`theory.exponents`). One
# simulation gives three of the laws: the run above is the time law; since the units are
# independent, the model with $N$ units is the run with the units $k > N$ removed
# (`theory.loss_with_units`), which gives the parameter law and, over all $(N, T)$, the
# compute frontier. The data law needs training sets: we draw the skills of $D$ samples from
# the sparse-parity generator (`sample_skills`; the task bits do not matter to this model, since
# $g_k(x)^2 = 1$ whenever skill $k$ is asked), count the samples of each skill and train by
# gradient descent on the training loss until the rarest seen skill has converged
# ($16\,D_{\max}$ steps at $\eta = 0.5$, 20 training sets per size). Skills with the same count follow the same trajectory,
# so we simulate each distinct count once.

# %%
theory_exp = theory.exponents(P.alpha)
Z = theory.normaliser(P.n_skills, P.alpha)

# time: the run above, where 1 ≪ k*(t) ≪ n_s
window = record >= 300
A_T = theory.time_law_prefactor(P.alpha, P.n_skills, s0=s0)

# data: training sets from the generator, trained to convergence
big_task = MultitaskSparseParity(n_skills=P.n_skills, n_bits=64, m=3, alpha=P.alpha, seed=cu.seed(0))
D = np.array(P.data_sizes)
counts = np.array([np.bincount(big_task.sample_skills(int(d), seed=cu.seed(1000 * r + int(d))).numpy(), minlength=P.n_skills)
                   for d in D for r in range(P.data_seeds)])
rates = counts / np.repeat(D, P.data_seeds)[:, None]                       # n_k / D
distinct, where = np.unique(rates, return_inverse=True)
data_steps = 16 * int(D.max())
s_distinct = theory.gradient_descent(distinct, data_steps, P.data_lr, a0=P.a0, record_steps=[data_steps])[0]
loss_data = theory.loss_from_strengths(s_distinct[where.reshape(rates.shape)], p).reshape(D.size, P.data_seeds)
print(f"data law: {distinct.size} distinct values of n_k/D among the {rates.shape[0]} training sets")

# parameters: the units k ≤ N of the same run, at the last step; and a small model world, n_s = 100
n_learned = int(np.argmax(strength[-1] < 0.99))                          # the first skill not yet learned
N = np.unique(np.round(np.geomspace(1, n_learned, 12)).astype(int))
loss_N = theory.loss_with_units(strength[-1], p, N)
p_small = theory.skill_probabilities(P.small_n_skills, P.alpha)
s_small = theory.gradient_descent(p_small, P.steps, P.lr, a0=P.a0, record_steps=[P.steps])[0]
N_small = np.unique(np.round(np.geomspace(1, 0.6 * P.small_n_skills, 12)).astype(int))
loss_N_small = theory.loss_with_units(s_small, p_small, N_small)

# compute: every (N, T) pair of the run, C = N · T, and its lower envelope
N_grid = np.unique(np.round(np.geomspace(1, P.n_skills, 80)).astype(int))
loss_NT = theory.loss_with_units(strength[1:], p, N_grid)                 # (records, len(N_grid))
C_pts = record[1:, None] * N_grid[None, :]
C_eval = np.geomspace(1e3, 3e6, 12)
frontier = theory.lower_envelope(C_pts, loss_NT, C_eval)
N_opt = np.array([N_grid[np.argwhere((C_pts <= c) & (loss_NT == f))[0, 1]] for c, f in zip(C_eval, frontier)])
frontier_theory, _ = theory.compute_frontier(C_eval, p, lr=P.lr, s0=s0, n_grid=100)

# %% tags=["hide-input"]
fig, axes = cu.panels(4, panel_height=3.3)
ax = axes[0]
ax.plot(record[1:], loss_gd[1:], "o", color=C[0], mfc="none", ms=3, alpha=0.4)
fit_T = cu.plotting.loglog_fit(ax, record[window], loss_gd[window], color=C[0], label="GD, fitted window")
ax.plot(record[1:], loss_flow[1:], "-", color=C[0], lw=1, label="sum of sigmoids (theory)")
tail = theory.zipf_tail(P.n_skills, P.alpha)                               # finite-n_s correction
ax.plot(record[window], A_T * (2 * P.lr * record[window]) ** (-theory_exp["time"]) - tail, "k:",
        label=f"$A_T\\,\\tau^{{-{theory_exp['time']:.2f}}}$ (theory)")
ax.set_xlabel("gradient-descent step $T$")
ax.set_ylabel("test loss $L$ (normalised MSE)")
ax.set_title("time")
ax.legend(fontsize=7)

ax = axes[1]
ax.errorbar(D, loss_data.mean(1), loss_data.std(1), fmt="none", color=C[1])
fit_D = cu.plotting.loglog_fit(ax, D, loss_data.mean(1), color=C[1], label=f"GD to convergence, mean of {P.data_seeds} sets")
D_fine = np.geomspace(D.min(), D.max(), 100)
ax.plot(D_fine, theory.expected_loss_data(D_fine, p), "-", color=C[1], lw=1, label="$\\sum_k p_k(1-p_k)^D$ (theory)")
ax.plot(D_fine, theory.data_law_prefactor(P.alpha, P.n_skills) * D_fine ** (-theory_exp["data"]) - tail, "k:",
        label=f"$A_D\\,D^{{-{theory_exp['data']:.2f}}}$ (theory)")
ax.set_xlabel("training-set size $D$ (samples)")
ax.set_ylabel("test loss $L$ (normalised MSE)")
ax.set_title("data")
ax.legend(fontsize=7)

ax = axes[2]
fit_N = cu.plotting.loglog_fit(ax, N, loss_N, color=C[2], label=f"GD, $n_s = {P.n_skills}$")
fit_N_small = cu.plotting.loglog_fit(ax, N_small, loss_N_small, color=C[3], marker="s",
                                     label=f"GD, $n_s = {P.small_n_skills}$")
N_fine = np.arange(1, n_learned + 1)
ax.plot(N_fine, theory.loss_parameters(N_fine, p), "-", color=C[2], lw=1, label="$\\sum_{k>N}p_k$ (theory)")
ax.plot(N_fine[N_fine < P.small_n_skills], theory.loss_parameters(N_fine[N_fine < P.small_n_skills], p_small),
        "-", color=C[3], lw=1)
ax.plot(N_fine, theory.parameter_law_asymptote(N_fine, P.alpha), "k:", label="$N^{-\\alpha}$ law, $n_s = \\infty$")
ax.set_xlabel("number of skill units $N$")
ax.set_ylabel("converged test loss $L$")
ax.set_title("parameters")
ax.legend(fontsize=7)

ax = axes[3]
for j in range(0, N_grid.size, 8):
    ax.plot(C_pts[:, j], loss_NT[:, j], "-", color="0.8", lw=0.8)
fit_C = cu.plotting.loglog_fit(ax, C_eval, frontier, color=C[4], label="frontier of the GD runs")
ax.plot(C_eval, frontier_theory, "-", color=C[4], lw=1, label="min$_N L(N, C/N)$ (theory)")
ax.plot(C_eval, frontier_theory[0] * (C_eval / C_eval[0]) ** (-theory_exp["compute"]), "k:",
        label=f"slope $-{theory_exp['compute']:.2f}$ (theory)")
ax.set_xlim(30, 1e8)
ax.set_ylim(3e-3, 1.5)
ax.set_xlabel("compute $C = N \\times T$ (unit-steps)")
ax.set_ylabel("test loss $L$")
ax.set_title("compute (grey: fixed $N$)")
ax.legend(fontsize=7, loc="lower left")
plt.show()

# %%
# fit_T, fit_D, fit_N, fit_N_small, fit_C: the power laws fitted in the figure's cell (cu.plotting.loglog_fit)
fit_N_corrected = cu.fit_power_law(N + 0.5, loss_N + (P.n_skills + 0.5) ** (-P.alpha) / (P.alpha * Z))
Z_small = theory.normaliser(P.small_n_skills, P.alpha)
fit_N_small_corrected = cu.fit_power_law(N_small + 0.5, loss_N_small
                                         + (P.small_n_skills + 0.5) ** (-P.alpha) / (P.alpha * Z_small))
fit_N_opt = cu.fit_power_law(C_eval, N_opt)
print("exponent        fitted            theory")
for name, f in [("time", fit_T), ("data", fit_D), ("compute", fit_C)]:
    print(f"{name:<14}  {f.alpha:.3f} ± {f.alpha_stderr:.3f}    {theory_exp[name]:.3f}")
print(f"parameters      {fit_N.alpha:.3f} ± {fit_N.alpha_stderr:.3f}    {P.alpha:.3f}   naive fit, n_s = {P.n_skills}")
print(f"                {fit_N_corrected.alpha:.3f} ± {fit_N_corrected.alpha_stderr:.3f}    {P.alpha:.3f}   "
      "with N + 1/2 and the finite-n_s term")
print(f"                {fit_N_small.alpha:.3f} ± {fit_N_small.alpha_stderr:.3f}    {P.alpha:.3f}   "
      f"naive fit, n_s = {P.small_n_skills}")
print(f"                {fit_N_small_corrected.alpha:.3f} ± {fit_N_small_corrected.alpha_stderr:.3f}    "
      f"{P.alpha:.3f}   corrected, n_s = {P.small_n_skills}")
print(f"N* vs C         {-fit_N_opt.alpha:.3f} ± {fit_N_opt.alpha_stderr:.3f}    {1 / (P.alpha + 2):.3f}")

# %%
cu.check_close("time exponent α/(α+1)", fit_T.alpha, theory_exp["time"], atol=0.02)
cu.check_close("time law prefactor: GD loss vs A_T τ^(-α/(α+1)) in the window", loss_gd[window],
               A_T * (2 * P.lr * record[window]) ** (-theory_exp["time"]) - tail, rtol=0.05)
cu.check_close("data exponent α/(α+1)", fit_D.alpha, theory_exp["data"], atol=0.05)
# the mean over P.data_seeds training sets scatters by its standard error, which spans decades with D
data_z = (loss_data.mean(1) - theory.expected_loss_data(D, p)) / (loss_data.std(1, ddof=1) / np.sqrt(P.data_seeds))
cu.check_less(f"data law: largest |mean GD loss − Σ p_k (1 − p_k)^D| over D, in standard errors of the mean "
              f"({P.data_seeds} sets)", np.abs(data_z).max(), 4)
cu.check_close(f"parameter law: GD loss of N units vs Σ_(k>N) p_k (N ≤ {n_learned})", loss_N,
               theory.loss_parameters(N, p), rtol=0.01)
cu.check_close("parameter exponent α, with the N + 1/2 and finite-n_s corrections", fit_N_corrected.alpha,
               P.alpha, atol=0.02)
cu.check_close(f"the same at n_s = {P.small_n_skills}", fit_N_small_corrected.alpha, P.alpha, atol=0.02)
cu.check_less(f"...where the naive fit misses α by (n_s = {P.small_n_skills})", 0.05,
              abs(fit_N_small.alpha - P.alpha))
cu.check_close("compute exponent α/(α+2)", fit_C.alpha, theory_exp["compute"], atol=0.02)
cu.check_close("compute frontier of the GD runs vs the theory frontier", frontier, frontier_theory, rtol=0.1)
cu.check_close("compute-optimal size N* ∝ C^(1/(α+2))", -fit_N_opt.alpha, 1 / (P.alpha + 2), atol=0.05)

# %% [markdown]
# All four laws hold, with the exponents the counting rule predicts. Three remarks on the
# comparison:
#
# - **Time**: the fit over $300 \le T \le 10^5$ gives $\alpha/(\alpha+1)$ within a few thousandths,
#   and the prefactor $A_T$ from the continuum integral (with the finite-$n_s$ tail subtracted, a 1 %
#   effect at the end of the run) matches without any free parameter. Before
#   $T\approx 300$ only a handful of skills are learned and the sum is not yet a power law; on a
#   longer run the loss would bend down once $k_*(T)$ approached $n_s$.
# - **Data**: the scatter between data sets is the luck of the draw of which rare skills happen to
#   be sampled (error bars: one standard deviation over 20 sets); their mean lies on
#   $\sum_k p_k(1-p_k)^D$ to a few percent, and already from $D = 10$ on on its asymptote.
#   Gradient descent adds nothing to the count here: trained long enough, the model learns
#   exactly the skills it has seen.
# - **Parameters**: here the naive fit is visibly off, in two ways. At small $N$ the sum
#   $\sum_{k>N}k^{-2}$ is closer to $1/(N + \tfrac12)$ than to $1/N$, which flattens the fit; and with
#   $n_s = 100$ skills in the world the curve bends down as $N\to n_s$ (all skills learned, nothing
#   left), which steepens it. The midpoint formula with the finite-$n_s$ term removes both: fitted on
#   $N + \tfrac12$ and $L + (n_s + \tfrac12)^{-\alpha}/(\alpha Z)$, the exponent is $\alpha$ to 1 %.
# - **Compute**: each grey curve is a model of fixed size trained longer and longer: it falls as
#   the time law, then saturates at its parameter limit. The frontier touches each curve near its
#   knee, and the compute-optimal size grows as $C^{1/3}$.
#
# ### α < 1: the size of the world shows
#
# With $\alpha = 1$ the tail of unlearned skills beyond $n_s$ is small: $(n_s+\tfrac12)^{-\alpha}/(\alpha Z)$,
# the `zipf_tail` subtracted above, is 1 % of the loss at the end of the run. A smaller $\alpha$
# (a heavier tail of rare skills) makes it larger: at $\alpha = 0.6$ and $n_s = 10^4$ it is about
# $3\times10^{-3}$ (printed), no longer small against the loss at $T = 10^5$. The sum over a finite
# world then bends down before $k_*$ reaches $n_s$, and a power law fitted to it is steeper than
# $\alpha/(\alpha+1)$: a **finite-size effect**, the same one that bent the parameter law at
# $n_s = 100$. We run both laws at $\alpha = 0.6$ in two worlds, $n_s = 10^4$ and $10^5$ skills:
#
# - **Time.** Gradient descent as in §2 on all skills up to $10^4$. In the bigger world the skills
#   $k > 10^4$ are never learned within $10^5$ steps: gradient descent moves a skill the slower the
#   rarer it is, so each of them has $s_k$ between $s_0$ and the strength of skill $10^4$ at the same
#   step, and their loss share lies between $\sum_{k>10^4}p_k(1 - s_{10^4})^2$ and $\sum_{k>10^4}p_k$. We use
#   the upper bound and check that the two bounds differ by less than $10^{-3}$ of the loss.
# - **Data.** Training sets from the generator, as above, 20 per size, trained to convergence. The
#   two worlds draw their sets with the same seeds (the same uniform numbers, mapped to skills by
#   each world's own $p_k$), so that the difference between their slopes is measured with less
#   scatter than either slope alone: the standard errors below come from resampling the 20 sets.

# %%
gamma_small = theory.exponents(P.alpha_small)["time"]                     # α/(α+1) = 0.375
M = P.worlds[0]                                                           # skills simulated in each world
p_world = {n: theory.skill_probabilities(n, P.alpha_small) for n in P.worlds}
s_world = theory.gradient_descent(np.concatenate([p_world[n][:M] for n in P.worlds]), P.steps, P.lr, a0=P.a0,
                                  record_steps=record)
loss_world, bound_gap = {}, []
for i, n in enumerate(P.worlds):
    head = np.sum(p_world[n][:M] * (1 - s_world[:, i * M:(i + 1) * M]) ** 2, axis=1)
    rest = p_world[n][M:].sum()                                           # skills k > M: never learned
    loss_world[n] = head + rest
    bound_gap.append(np.max(rest * (1 - (1 - s_world[:, (i + 1) * M - 1]) ** 2) / loss_world[n]))

# data: the same seeds in both worlds; only the skills seen in a set are trained (the others keep s0)
seen = {}
for n in P.worlds:
    task_n = MultitaskSparseParity(n_skills=n, n_bits=64, m=3, alpha=P.alpha_small, seed=cu.seed(0))
    for d in D:
        for r in range(P.data_seeds):
            k_seen, c_seen = np.unique(task_n.sample_skills(int(d), seed=cu.seed(500_000 + 1000 * r + int(d))).numpy(),
                                       return_counts=True)
            seen[n, d, r] = k_seen, c_seen / d
rates_small = np.unique(np.concatenate([v[1] for v in seen.values()]))
s_rates = theory.gradient_descent(rates_small, data_steps, P.data_lr, a0=P.a0, record_steps=[data_steps])[0]
loss_data_world = {}
for n in P.worlds:
    L_n = np.empty((D.size, P.data_seeds))
    for i, d in enumerate(D):
        for r in range(P.data_seeds):
            k_seen, rate = seen[n, d, r]
            p_seen = p_world[n][k_seen]
            L_n[i, r] = np.sum(p_seen * (1 - s_rates[np.searchsorted(rates_small, rate)]) ** 2) + (1 - p_seen.sum()) * (1 - s0) ** 2
    loss_data_world[n] = L_n

# fitted slopes, their predictions for each world (the finite sums), and resampling errors
fit_time_w = {n: cu.fit_power_law(record[window], loss_world[n][window]) for n in P.worlds}
fit_time_corr = {n: cu.fit_power_law(record[window], loss_world[n][window] + theory.zipf_tail(n, P.alpha_small))
                 for n in P.worlds}
pred_time_w = {n: cu.fit_power_law(record[window], theory.loss_time(P.lr * record[window], p_world[n], s0=s0)).alpha
               for n in P.worlds}
fit_data_w = {n: cu.fit_power_law(D, loss_data_world[n].mean(1)).alpha for n in P.worlds}
pred_data_w = {n: cu.fit_power_law(D, theory.expected_loss_data(D, p_world[n])).alpha for n in P.worlds}
resample = np.random.default_rng(cu.seed(31)).integers(0, P.data_seeds, (200, P.data_seeds))
boot = {n: np.array([cu.fit_power_law(D, loss_data_world[n][:, idx].mean(1)).alpha for idx in resample])
        for n in P.worlds}
small, big = P.worlds
se_data = {n: boot[n].std(ddof=1) for n in P.worlds}
se_data_diff = (boot[small] - boot[big]).std(ddof=1)
print(f"α = {P.alpha_small}: α/(α+1) = {gamma_small:.4f};  Zipf tail beyond n_s: "
      + ",  ".join(f"{theory.zipf_tail(n, P.alpha_small):.1e} (n_s = {n})" for n in P.worlds))
print("slope of L                  n_s = " + "        n_s = ".join(f"{n:<8d}" for n in P.worlds))
print("time, GD (fit ± SE)          " + "   ".join(f"{fit_time_w[n].alpha:.4f} ± {fit_time_w[n].alpha_stderr:.4f}" for n in P.worlds))
print("time, sum of sigmoids        " + "   ".join(f"{pred_time_w[n]:.4f}         " for n in P.worlds))
print("time, GD with the tail added " + "   ".join(f"{fit_time_corr[n].alpha:.4f} ± {fit_time_corr[n].alpha_stderr:.4f}" for n in P.worlds))
print("data, GD (± resampling SE)   " + "   ".join(f"{fit_data_w[n]:.4f} ± {se_data[n]:.4f}" for n in P.worlds))
print("data, Σ p_k (1 − p_k)^D      " + "   ".join(f"{pred_data_w[n]:.4f}         " for n in P.worlds))
print(f"data slope, n_s = {small} minus n_s = {big}: {fit_data_w[small] - fit_data_w[big]:.4f} ± {se_data_diff:.4f} "
      f"(the finite sums: {pred_data_w[small] - pred_data_w[big]:.4f})")
print(f"largest relative gap between the bounds on the loss of the skills k > {M}: {max(bound_gap):.1e}")

# %%
A_T_inf = theory.time_law_prefactor(P.alpha_small, math.inf, s0=s0)      # the laws of a world without end
law_T = lambda T: A_T_inf * (2 * P.lr * T) ** (-gamma_small)                # noqa: E731
law_D = lambda d: theory.data_law_prefactor(P.alpha_small) * d ** (-gamma_small)   # noqa: E731

# %% tags=["hide-input"]
fig, axes = cu.panels(2, ncols=1, width=6.4, panel_height=3.0)
shown_T = record >= 30
for j, n in enumerate(P.worlds):
    world = f"$n_s = 10^{{{np.log10(n):.0f}}}$"
    axes[0].plot(record[shown_T], loss_world[n][shown_T] / law_T(record[shown_T]), "o", color=C[j], mfc="none", ms=3,
                 label=f"GD, {world}: slope {fit_time_w[n].alpha:.3f} for $T \\geq 300$")
    axes[0].plot(record[shown_T], theory.loss_time(P.lr * record[shown_T], p_world[n], s0=s0) / law_T(record[shown_T]),
                 "-", color=C[j], lw=1)
    axes[1].errorbar(D, loss_data_world[n].mean(1) / law_D(D), loss_data_world[n].std(1) / law_D(D) / np.sqrt(P.data_seeds),
                     fmt="o", color=C[j], mfc="none", ms=4, capsize=2, label=f"GD, {world}: slope {fit_data_w[n]:.3f}")
    axes[1].plot(D_fine, theory.expected_loss_data(D_fine, p_world[n]) / law_D(D_fine), "-", color=C[j], lw=1)
for ax in axes:
    ax.axhline(1, color="k", ls=":", lw=1, label=f"slope {gamma_small:.3f} ($n_s = \\infty$)")
    ax.set_xscale("log")
    ax.legend(fontsize=7, loc="lower left")
axes[0].set_xlabel("gradient-descent step $T$")
axes[0].set_ylabel("$L \\,/\\, A_T\\tau^{-\\alpha/(\\alpha+1)}$")
axes[0].set_title(f"time, $\\alpha = {P.alpha_small}$ (lines: sum of sigmoids)")
axes[1].set_xlabel("training-set size $D$")
axes[1].legend(fontsize=7, loc="lower center")
axes[1].set_ylabel("$L \\,/\\, A_D D^{-\\alpha/(\\alpha+1)}$")
axes[1].set_title(f"data, $\\alpha = {P.alpha_small}$ (lines: $\\sum_k p_k(1-p_k)^D$; bars: SE of the mean)")
plt.show()

# %%

# Tolerances. GD is deterministic here (no seed enters the time law) and differs from gradient flow
# only in the first steps of the most frequent skills (§2), so on the window its slope equals the
# finite sum's to a few 10⁻⁴: 0.003 is ten times that. The data slopes scatter with the draw of the
# training sets: 4 resampling standard errors. The finite sum at n_s = 10⁵ keeps a bias of about
# 0.005 (printed): hence 0.01 for its distance to α/(α+1).
cu.check_less(f"skills k > {M} of the bigger world: relative gap between the bounds on their loss", max(bound_gap), 1e-3)
for n in P.worlds:
    cu.check_close(f"α = {P.alpha_small}, n_s = {n}: GD time slope vs the slope of the finite sum of sigmoids",
                   fit_time_w[n].alpha, pred_time_w[n], atol=0.003)
    cu.check_close(f"α = {P.alpha_small}, n_s = {n}: time slope with the Zipf tail added back vs α/(α+1)",
                   fit_time_corr[n].alpha, gamma_small, atol=0.003)
    cu.check_less(f"α = {P.alpha_small}, n_s = {n}: |data slope − slope of Σ p_k (1 − p_k)^D| in resampling SEs",
                  abs(fit_data_w[n] - pred_data_w[n]) / se_data[n], 4)
cu.check_less(f"finite-size bias of the time slope at n_s = {small} (more than half the α = 1 check's tolerance)",
              0.01, fit_time_w[small].alpha - gamma_small)
cu.check_close(f"time slope at n_s = {big} vs α/(α+1)", fit_time_w[big].alpha, gamma_small, atol=0.01)
cu.check_less(f"|data slope difference n_s = {small} − {big} − that of the finite sums|, in resampling SEs",
              abs(fit_data_w[small] - fit_data_w[big] - (pred_data_w[small] - pred_data_w[big])) / se_data_diff, 4)

# %% [markdown]
# The figure divides each loss by the power law of a world without end, so a finite-size effect
# shows as a bend down. At $\alpha = 0.6$ the fitted time slope of the world of $10^4$ skills is about
# 0.02 above $\alpha/(\alpha+1) = 0.375$ (printed), as much as the whole tolerance of the $\alpha = 1$ check,
# and it is not noise: the finite sum of sigmoids predicts the same slope to three decimals
# (checked), and adding the Zipf tail back to the measured loss gives $\alpha/(\alpha+1)$ again
# (checked). With $10^5$ skills the bias falls to about 0.005 (checked below 0.01): the world is then
# large enough for the window $T\le10^5$. The data law shows the same effect, a steeper slope in
# the smaller world by about 0.01, as the finite sums predict (checked, in resampling standard
# errors); at small $D$ the data law has not yet reached its asymptote, which makes the fitted
# slope slightly flatter, the other way, so the measured data slopes are close to 0.375 in both worlds and
# only their difference shows the size of the world cleanly. So a measured exponent tells $\alpha$
# only once the tail beyond the world's last skill is small compared with the loss, which for a
# heavy tail (small $\alpha$) takes many more skills than for $\alpha = 1$.
#
# **Explore: the Zipf exponent and the size of the world.** Move $\alpha$ and choose the number of
# skills $n_s$. Each panel draws the exact finite sum of the model (solid) and the power law of a world
# without end (dotted, its exponent in the legend; the compute line, which has no closed-form prefactor,
# is drawn through the frontier at one point). The theory says that $\alpha$ alone sets the four
# exponents, $\alpha/(\alpha+1)$, $\alpha/(\alpha+1)$, $\alpha$ and $\alpha/(\alpha+2)$, and that a finite world bends
# the curves down before $k_*$ reaches $n_s$ (dashed line), once the Zipf tail beyond $n_s$ (in the title)
# is no longer small against the loss: the smaller $\alpha$, the earlier.

# %%
from IPython.display import display

from course_utils.explorers import quanta_scaling

ex = quanta_scaling.explorer()
ex.show()
display(ex.variants("alpha", [0.5, 1.0, 2.0]))

# %% [markdown]
# ## 4. A real network: skills emerge one at a time
#
# The multilinear model is handed the skill functions $g_k$; a network has to discover them. We
# train two-layer ReLU networks (width 128, the input of §1: 8 control bits and 20 task bits,
# skills of $m = 3$ bits, $\alpha = 1$) with Adam on the cross-entropy of the two classes, online: a
# fresh batch of 256 samples every step, so that time and data are the same resource here. Four
# networks with different seeds and data streams are one batched ensemble (`BatchedMLP`,
# `BatchedAdam`); every 25 steps we measure each skill's accuracy and loss on 256 test samples of
# that skill.

# %%
def per_skill(model, x, y, n_skills):
    """Accuracy and mean cross-entropy of every member on every skill: two (K, n_skills) tensors."""
    scores = online.skill_scores(model, x, y, n_skills)
    return scores["acc"], scores["logloss"]


def train_online(task, model, *, steps, batch, lr, record_every, n_test, desc="online training", optimizer=BatchedAdam):
    """Train the K members of a batched network (Adam, or ``optimizer``), each on its own fresh batches
    (`online.train_online`); return the record steps and the per-skill accuracy and loss, (R, K, n_s) each."""
    x_test, y_test, _ = task.test_set(n_test, seed=cu.seed(100))
    run = online.train_online(model, online.task_sampler([task] * model.n_members), optimizer(model.parameters(), lr=lr),
                              steps=steps, batch=batch, record_steps=range(0, steps + 1, record_every),
                              measure=lambda m: online.skill_scores(m, x_test, y_test, task.n_skills),
                              seed=cu.seed(12345), desc=desc)
    return run["step"], run["acc"], run["logloss"]


networks = BatchedMLP(P.mlp_seeds, [task.input_dim, P.width, 2], "relu", seeds=cu.seed(range(P.mlp_seeds)))
t_rec, acc, ce = train_online(task, networks, steps=P.mlp_steps, batch=P.batch, lr=P.mlp_lr,
                              record_every=P.record_every, n_test=P.n_test)
p_mlp = task.probabilities.numpy()
total_ce = (ce * p_mlp).sum(-1)                                             # the loss on the task's distribution

# the multilinear sigmoid, calibrated on skill 1 of each network: a logistic in t, fitted to the
# accuracy above chance, (acc − ½)/½; skill k is predicted to be the same curve in p_k t
above_chance = np.clip((acc - 0.5) / 0.5, 0, 1)                             # (R, K, n_s)
calibration = [theory.fit_logistic(t_rec, above_chance[:, s, 0]) for s in range(P.mlp_seeds)]
predicted_acc = 0.5 + 0.5 * theory.calibrated_sigmoids(t_rec, p_mlp, p_mlp[0], *calibration[0])   # seed 0, (R, n_s)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.3)
for k in range(P.mlp_skills):
    axes[0].plot(t_rec, acc[:, 0, k], "-", color=C[k % len(C)], lw=1.4, label=f"skill {k + 1}")
    axes[0].plot(t_rec, predicted_acc[:, k], "--", color=C[k % len(C)], lw=0.9)
axes[0].plot([], [], "k--", lw=0.9, label="multilinear sigmoid,\ncalibrated on skill 1")
axes[0].set_xlabel("training step (batches of 256)")
axes[0].set_ylabel("test accuracy (seed 0)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=8)
for k in range(P.mlp_skills):
    axes[1].plot(t_rec[1:], p_mlp[k] * ce[1:, 0, k], "-", color=C[k % len(C)], lw=1)
axes[1].plot(t_rec[1:], total_ce[1:, 0], "k-", lw=2.2, label="total loss $\\sum_k p_k L_k$ (seed 0)")
axes[1].set_xscale("log")
axes[1].set_yscale("log")
axes[1].set_ylim(1e-4, 1)
axes[1].set_xlabel("training step")
axes[1].set_ylabel("loss share $p_k L_k$ (nats)")
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# Every skill sits at chance, 50 %, for a while and then climbs to 100 %, and they do so one
# after the other, broadly in order of frequency. The total loss (black, right), a weighted sum of
# these steps, comes down in a staircase that would be smooth with more skills. The flat
# stretches are the **search phase** of sparse parity: until the network has found a skill's
# three bits, no lower-order statistic of the data tells it anything, and the loss on that skill
# hardly moves {cite:p}`barak2022hidden`; then it falls. How abrupt is it? Measured below, the
# climb from 60 % to 90 % accuracy spans about a factor of two in time, a step on the
# logarithmic time axis on which the power laws live, but not an instantaneous jump; and at most
# moments one or two skills are climbing. In the experiments of {cite:t}`barak2022hidden` the
# plateau grows as a power of the number of bits while the drop at its end stays short, so with
# more task bits than our 20 the steps would be sharper.
#
# **Half-times.** The multilinear model predicts $t_k \propto 1/p_k \propto k^{\alpha+1}$. So does a
# simple count for online SGD: if finding skill $k$'s bits takes some fixed number of *its own*
# samples, that number arrives at a rate $p_k\times$batch. We measure $t_k$, the first step at which
# skill $k$'s accuracy reaches 75 % (halfway from chance), in every network:

# %%
reached = acc >= 0.75
t_half = np.where(reached.any(0), t_rec[reached.argmax(0)], np.nan)        # (K, n_s)
k = np.arange(1, P.mlp_skills + 1)
fit_k = cu.fit_power_law(k, t_half.mean(0))
fit_p = cu.fit_power_law(1 / p_mlp, t_half.mean(0))
print("skill k              ", "  ".join(f"{i:>5d}" for i in k))
print("mean half-time t_k   ", "  ".join(f"{t:>5.0f}" for t in t_half.mean(0)))
print("t_1 p_1 / p_k        ", "  ".join(f"{t:>5.0f}" for t in t_half.mean(0)[0] * p_mlp[0] / p_mlp))
print(f"t_k ∝ k^{-fit_k.alpha:.2f} ± {fit_k.alpha_stderr:.2f} (multilinear: k^{P.mlp_alpha + 1:.0f});  "
      f"t_k ∝ p_k^-{-fit_p.alpha:.2f} ± {fit_p.alpha_stderr:.2f} (multilinear: p_k^-1)")
pairs = [(i, j) for i in range(P.mlp_skills) for j in range(i + 1, P.mlp_skills)]
inverted = np.mean([[t_half[s, i] > t_half[s, j] for i, j in pairs] for s in range(P.mlp_seeds)])
shared = [len(set(task.subsets[j].tolist()) & set(task.subsets[:j].flatten().tolist())) for j in range(P.mlp_skills)]
print("task bits shared with more frequent skills:", shared)
t60, t90 = (np.where((acc >= a).any(0), t_rec[(acc >= a).argmax(0)], np.nan) for a in (0.6, 0.9))
climbing = ((t_rec[:, None, None] >= t60) & (t_rec[:, None, None] < t90)).sum(-1)    # (records, seeds)
print(f"climb from 60 % to 90 % accuracy: t_90 / t_60 = {np.exp(np.nanmean(np.log(t90 / t60))):.1f} "
      f"(geometric mean over skills and seeds)")
print(f"skills mid-climb at the same time: {climbing[climbing > 0].mean():.1f} on average, "
      f"three or more {np.mean(climbing >= 3):.0%} of the time")
# the calibrated sigmoid: 60 % → 90 % accuracy is a = 0.2 → 0.8, t_90/t_60 = (r t_h + ln 4)/(r t_h − ln 4), every skill
climb_pred = np.array([np.log((th * r + np.log(4)) / (th * r - np.log(4))) for th, r in calibration])   # per network
climb_meas = np.log(t90 / t60)[:, 1:]                                                                     # skills 2–8
climb_se = np.hypot(np.nanstd(climb_meas, ddof=1) / np.sqrt(np.isfinite(climb_meas).sum()),
                    climb_pred.std(ddof=1) / np.sqrt(climb_pred.size))
t_half_cal = np.array([th * p_mlp[0] / p_mlp for th, r in calibration])                                 # (K, n_s)
print(f"calibrated on skill 1: t_90 / t_60 = {np.exp(climb_pred.mean()):.2f} for every skill;\n    measured on skills 2–"
      f"{P.mlp_skills}: {np.exp(np.nanmean(climb_meas)):.2f} (combined SE of the log: {climb_se:.3f})")
print("t_k / calibrated t_k  ", "  ".join(f"{r:>5.2f}" for r in np.exp(np.log(t_half / t_half_cal).mean(0))),
      " (geometric mean over networks)")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.4, 4))
ax.errorbar(k, t_half.mean(0), t_half.std(0), fmt="none", color=C[0])
cu.plotting.loglog_fit(ax, k, t_half.mean(0), color=C[0], label=f"networks, mean of {P.mlp_seeds} seeds",
                       exponent_name="$-$slope")
ax.plot(k, t_half.mean(0)[0] * p_mlp[0] / p_mlp, "-", color="k", lw=1,
        label="$t_1\\,p_1/p_k \\propto k^{\\alpha+1}$ (multilinear, calibrated on skill 1)")
ax.set_xticks(k, [str(i) for i in k])
ax.minorticks_off()
ax.set_xlabel("skill rank $k$")
ax.set_ylabel("half-time $t_k$ (training steps)")
ax.legend(fontsize=8)
plt.show()

# %%
cu.check_count("final per-skill accuracies at or below 0.8 (every network past every skill's jump)",
               int((acc[-1] <= 0.8).sum()), at_most=0, of=acc[-1].size)
cu.check_close("half-time exponent of the networks vs 1/p_k (multilinear: 1)", -fit_p.alpha, 1.0, atol=0.25)
cu.check_less("fraction of skill pairs whose half-times are in the reverse order of frequency", inverted, 0.15)
cu.check_less("climb 60 % → 90 % of skills 2–8 vs the sigmoid calibrated on skill 1: |difference of log t_90/t_60| "
              "in standard errors", abs(np.nanmean(climb_meas) - climb_pred.mean()) / climb_se, 3)

# %% [markdown]
# The networks learn in order of frequency with a few exceptions, and the half-times grow roughly
# as $1/p_k$: the fitted exponent of $t_k$ against $1/p_k$ is within 0.2 of the multilinear model's
# 1 at every seed we ran (0–5; our tolerance is 0.25). The dashed curves of the staircase are the
# multilinear sigmoid {eq}`eq-quanta-sigmoid` calibrated on skill 1 of each network (a logistic in
# $t$, fitted to its accuracy above chance) and moved to skill $k$ by $p_1t \to p_kt$; nothing else
# is fitted. The *shape* carries over: each later skill climbs from 60 % to 90 % in the same factor
# of time as the calibrated curve (printed; checked within three standard errors). The *timing*
# carries over for most skills, but not for all: a few come up to about twice as early as their
# frequency says (printed: $t_k$ over the calibrated $t_k$). Two things a network has and the
# model has not could do that:
#
# - **Shared features.** The skills are not orthogonal *for the network*: they share task bits
#   (printed above: how many of each skill's bits are also used by a more frequent skill). A skill
#   whose bits already have hidden units tuned to them can be found faster than its frequency
#   says. Which bits are shared depends on the draw of the subsets (it changes with the seed),
#   and with eight skills and four networks we do not test this skill by skill; it is the
#   simplest reason why the order of frequency has exceptions and why reuse would make late
#   skills cheaper: an exponent below 1.
# - **The optimiser.** Adam divides each parameter's step by its own gradient scale. The weights
#   from skill $k$'s control bit receive gradient only from skill-$k$ samples; normalised, they
#   move at a speed nearly independent of $p_k$, which could weaken the $1/p_k$ dependence (see
#   the exercise on sign descent). Plain SGD has no such normalisation: in gradient flow every
#   gradient that only skill $k$ produces carries the factor $p_k$.
#
# **Plain SGD.** To separate the two we train the same four networks again, from the same
# initial weights and on the same stream of batches, with plain SGD (no momentum) at learning
# rate $\eta = 1$ for 12 000 steps. The rate is chosen by hand: SGD's step is the raw gradient, not
# a normalised one, so it needs a far larger rate than Adam's $3\times10^{-3}$, and a large rate can
# make a network lose its skills for a while and find them again (a dip in the staircase). The
# half-times are the first crossings of 75 %, so such a dip would not change them. We fit the
# exponent on the skills that every network reached under both optimisers:

# %%
sgd_networks = BatchedMLP(P.mlp_seeds, [task.input_dim, P.width, 2], "relu", seeds=cu.seed(range(P.mlp_seeds)))
t_sgd, acc_sgd, _ = train_online(task, sgd_networks, steps=P.sgd_steps, batch=P.batch, lr=P.sgd_lr,
                                 record_every=P.record_every, n_test=P.n_test, desc="plain SGD", optimizer=BatchedSGD)
reached_sgd = acc_sgd >= 0.75
t_half_sgd = np.where(reached_sgd.any(0), t_sgd[reached_sgd.argmax(0)], np.nan)    # (K, n_s)
both = ~np.isnan(t_half_sgd).any(0) & ~np.isnan(t_half).any(0)                   # reached by every network, both
fit_sgd = cu.fit_power_law(1 / p_mlp[both], t_half_sgd.mean(0)[both])
fit_adam = cu.fit_power_law(1 / p_mlp[both], t_half.mean(0)[both])
fit_ratio = cu.fit_power_law(1 / p_mlp[both], t_half_sgd.mean(0)[both] / t_half.mean(0)[both])
cal_sgd = theory.fit_logistic(t_sgd, np.clip((acc_sgd[:, 0, 0] - 0.5) / 0.5, 0, 1))
print("skill k                ", "  ".join(f"{i:>5d}" for i in k))
print("mean t_k, Adam         ", "  ".join(f"{t:>5.0f}" for t in t_half.mean(0)))
print("mean t_k, SGD          ", "  ".join(f"{t:>5.0f}" if np.isfinite(t) else "    –" for t in t_half_sgd.mean(0)))
print("t_k(SGD) / t_k(Adam)   ", "  ".join(f"{t:>5.2f}" if np.isfinite(t) else "    –"
                                        for t in t_half_sgd.mean(0) / t_half.mean(0)))
print(f"skills reached by every network under both optimisers: {both.sum()} of {P.mlp_skills}")
print(f"exponent of t_k vs 1/p_k on these skills:  Adam {-fit_adam.alpha:.2f} ± {fit_adam.alpha_stderr:.2f},  "
      f"SGD {-fit_sgd.alpha:.2f} ± {fit_sgd.alpha_stderr:.2f},\n    ratio SGD/Adam {-fit_ratio.alpha:+.3f} ± "
      f"{fit_ratio.alpha_stderr:.3f}  (multilinear: 1, 1, 0)")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.3)
pred_sgd = 0.5 + 0.5 * theory.calibrated_sigmoids(t_sgd, p_mlp, p_mlp[0], *cal_sgd)
for j in range(P.mlp_skills):
    axes[0].plot(t_sgd, acc_sgd[:, 0, j], "-", color=C[j % len(C)], lw=1.4, label=f"skill {j + 1}")
    axes[0].plot(t_sgd, pred_sgd[:, j], "--", color=C[j % len(C)], lw=0.9)
axes[0].plot([], [], "k--", lw=0.9, label="calibrated on skill 1")
axes[0].set_xlabel("training step (batches of 256)")
axes[0].set_ylabel("test accuracy (seed 0)")
axes[0].set_title(f"plain SGD, $\\eta = {P.sgd_lr:g}$")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=8)
ax = axes[1]
for j, (name, th, fit) in enumerate([("Adam", t_half, fit_adam), ("SGD", t_half_sgd, fit_sgd)]):
    ax.errorbar(1 / p_mlp, th.mean(0), th.std(0), fmt="o", color=C[j], ms=5, mfc="none", capsize=2,
                label=f"{name}: exponent {-fit.alpha:.2f} ± {fit.alpha_stderr:.2f}")
    ax.plot(1 / p_mlp, th.mean(0)[0] * p_mlp[0] / p_mlp, "-", color=C[j], lw=0.8)
ax.plot([], [], "-", color="0.4", lw=0.8, label="$t_1 p_1/p_k$ (multilinear)")
for j in range(P.mlp_skills):
    ax.annotate(str(j + 1), (1 / p_mlp[j], t_half.mean(0)[j]), textcoords="offset points", xytext=(4, -10), fontsize=7)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("$1/p_k$ (skill rank annotated)")
ax.set_ylabel("half-time $t_k$ (training steps)")
ax.legend(fontsize=8)
plt.show()

# %%
cu.check_count("skills reached (75 %) by every network under both optimisers", int(both.sum()), at_least=5,
               of=P.mlp_skills)
cu.check_close("half-time exponent with plain SGD vs 1/p_k (multilinear: 1)", -fit_sgd.alpha, 1.0, atol=0.25)
# no optimiser effect: ratio exponent 0; Adam as sign descent (the exercise: every clock the same): 1.
# The claim is that Adam is nearer the first: below 1/2, halfway (over seeds 0-5 it lies between 0.01 and 0.19)
cu.check_less("|exponent of t_k(SGD)/t_k(Adam) vs 1/p_k| (0: no optimiser effect, 1: Adam as sign descent)",
              abs(fit_ratio.alpha), 0.5)

# %% [markdown]
# Plain SGD is slower throughout, by a similar factor for every skill (printed: the ratio of
# half-times), and its half-times scale with $1/p_k$ as Adam's do: its exponent is within 0.25 of 1
# (checked, the tolerance used for Adam). The difference between the two exponents, the exponent of the ratio $t_k^{\rm SGD}/t_k^{\rm Adam}$, is
# small compared with what a fully normalised step would do: sign descent, the limit of Adam with
# no gradient noise, would make it 1, and it stays below one half (checked; over seeds 0–5 it lies
# between about 0.01 and 0.2). Whether it is zero we cannot say: in the stored run it is zero within
# its standard error (printed), while at other seeds SGD's exponent is closer to 1 than Adam's by
# up to about 0.2, several standard errors. So Adam's normalisation may well contribute to the
# exponent below 1, but it does not set the timing, and four networks and eight skills do not
# measure its share. The shared bits, the first reason,
# remain the likely cause of the skills that come early (we have not tested it skill by skill), and
# they act under both optimisers. In the multilinear model every clock is set by its own $p_k$; in
# a network, what one skill has taught the shared hidden units is a head start for the next.
#
# ## 5. Emergence with data
#
# The same rule with a finite training set: skill $k$ has $n_k \approx p_k D$ training samples, and
# it is learned if that is enough. For the multilinear model "enough" is one sample; a network
# must find $m$ bits among $n_b$ and fit rather than memorise, which takes many more. We train six
# networks on nested training sets of $D = 1000$ to $32\,000$ samples (one batched ensemble; each
# member sees only its own set, `train_ensemble` with 0/1 sample weights) for 4000 minibatch steps,
# and measure each skill's test accuracy. If only the count matters, the accuracy of skill $k$ in
# the network trained on $D$ samples depends on $n_k$ alone, for every $k$ and $D$.

# %%
sizes = np.array(P.emergence_sizes)
x_train, y_train, k_train = task.sample(int(sizes.max()), seed=cu.seed(7))
mask = torch.tensor(np.arange(sizes.max())[None, :] < sizes[:, None], dtype=torch.float64)
n_k = np.array([np.bincount(k_train[:d].numpy(), minlength=P.mlp_skills) for d in sizes])     # (len(D), n_s)
x_test, y_test, _ = task.test_set(P.n_test, seed=cu.seed(100))
model = BatchedMLP(sizes.size, [task.input_dim, P.width, 2], "relu", seeds=cu.seed(range(100, 100 + sizes.size)))
history = train_ensemble(model, cross_entropy_per_sample, x_train, y_train, steps=P.emergence_steps,
                         optimizer=BatchedAdam(model.parameters(), lr=P.mlp_lr), sample_weight=mask,
                         data_seeds=cu.seed(range(sizes.size)), batch_size=P.batch, record_steps=[P.emergence_steps],
                         metrics={"acc": lambda m: per_skill(m, x_test, y_test, P.mlp_skills)[0]},
                         desc="data emergence")
acc_D = history["acc"][-1]                                                  # (len(D), n_s)

# the count law R_k/S = min(n_k/D_c, 1), read as the accuracy above chance, calibrated on skill 2
# (the skill whose count crosses the threshold in the middle of our range of D)
above_D = np.clip((acc_D - 0.5) / 0.5, 0, 1)
D_c = theory.fit_count_threshold(n_k[:, 1], above_D[:, 1])
D_c_each = np.array([theory.fit_count_threshold(n_k[:, j], above_D[:, j]) for j in range(P.mlp_skills)])

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.3)
D_grid = np.geomspace(sizes.min(), sizes.max(), 200)
for j in range(P.mlp_skills):
    axes[0].plot(sizes, acc_D[:, j], "o-", color=C[j % len(C)], ms=4, label=f"skill {j + 1}")
    axes[0].plot(D_grid, 0.5 + 0.5 * theory.count_threshold_law(p_mlp[j] * D_grid, D_c), "--", color=C[j % len(C)], lw=0.9)
axes[0].plot([], [], "k--", lw=0.9, label="$\\min(p_kD/D_c, 1)$, $D_c$ from skill 2")
axes[0].set_xscale("log")
axes[0].set_xlabel("training-set size $D$ (samples)")
axes[0].set_ylabel("test accuracy on the skill")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=5, fontsize=8)
for j in range(P.mlp_skills):
    axes[1].plot(n_k[:, j], acc_D[:, j], "o", color=C[j % len(C)], ms=5, mfc="none")
n_grid = np.geomspace(n_k.min(), n_k.max(), 200)
axes[1].plot(n_grid, 0.5 + 0.5 * theory.count_threshold_law(n_grid, D_c), "k--", lw=1,
             label=f"$\\frac{{1}}{{2}} + \\frac{{1}}{{2}}\\min(n_k/D_c, 1)$, $D_c = {D_c:.0f}$ (skill 2)")
axes[1].set_ylim(top=1.1)                                      # room for the legend above the points
axes[1].legend(fontsize=8, loc="upper left")
axes[1].set_xscale("log")
axes[1].set_xlabel("training samples of the skill, $n_k$")
axes[1].set_ylabel("test accuracy on the skill")
axes[1].set_title("all skills, all $D$: one curve")
plt.show()

# %%
learned = acc_D >= 0.9
n_c_low = n_k[~learned].max()        # the most samples any unlearned skill had
n_c_high = n_k[learned].min()        # the fewest samples any learned skill had
print(f"learned skills per D: {dict(zip(sizes.tolist(), learned.sum(1).tolist()))}")
print(f"unlearned skills had at most {n_c_low} samples; learned skills had at least {n_c_high}")
print(f"D_c calibrated on skill 2: {D_c:.0f} samples;  D_c fitted to each skill alone:\n   ",
      "  ".join(f"{j + 1}: {d:.0f}" for j, d in enumerate(D_c_each)))
print("online half-times of §4 (Adam, mean):\n   ", "  ".join(f"{j + 1}: {t:.0f}" for j, t in enumerate(t_half.mean(0))),
      f" — against {P.emergence_steps} steps here")
cu.check_less("every skill with ≥ 1500 training samples is learned (lowest accuracy above 0.9)",
              0.9 - acc_D[n_k >= 1500].min(), 0)
cu.check_less("no skill with ≤ 300 training samples is learned (highest accuracy below 0.9)", acc_D[n_k <= 300].max(), 0.9)
cu.check_count("sizes D at which fewer skills are learned than at the next smaller D", int((np.diff(learned.sum(1)) < 0).sum()),
               at_most=0, of=sizes.size - 1)
# the calibrated law, away from its knee by more than the factor 2 that separates the sizes D
cu.check_less(f"lowest accuracy of the skills with n_k ≥ 2 D_c (D_c = {D_c:.0f} from skill 2), below 0.9 by",
              0.9 - acc_D[n_k >= 2 * D_c].min(), 0)
cu.check_less("highest accuracy of the skills with n_k ≤ D_c / 2 (D_c from skill 2)", acc_D[n_k <= D_c / 2].max(), 0.9)

# %% [markdown]
# Each skill switches from chance to perfect as $D$ grows, the frequent ones first; plotted against
# its own sample count $n_k$ all skills fall close to one curve, with a threshold of several
# hundred samples. The threshold is not sharp in the count alone: the least-sampled learned skill and
# the most-sampled unlearned one (printed) overlap, and a skill just below the threshold is sometimes
# partly learned (over seeds 0–5 the highest accuracy of a skill with at most 300 samples ranges from
# about 0.55 to 0.7, never the 0.9 we call learned).
#
# **A calibrated count law.** The multilinear model learns a skill from one sample. A skill that,
# like a linear fit with $D_c$ unknowns, needs $D_c$ samples to be pinned down is learned in
# proportion to its count until it has them,
#
# $$
# R_k/S = \min(n_k/D_c,\, 1),
# $$ (eq-quanta-count-law)
#
# and we read $R_k/S$ as the accuracy above chance, $(\text{acc} - \tfrac12)/\tfrac12$. One number,
# $D_c$, is fitted to skill 2 (the skill whose count crosses the threshold in the middle of our
# range of $D$), and the law then predicts every skill at every $D$ (dashed, left: with
# $n_k = p_kD$; right: one curve). It sorts the skills correctly away from its knee: every skill
# with at least $2D_c$ samples is learned and none with at most $D_c/2$ is (checked; the sizes $D$
# are a factor 2 apart, so the calibration locates $D_c$ only to that factor). Near the knee it
# is rough, in two ways. Below $D_c$ the accuracy rises more like a threshold than linearly in the
# count: a skill with a few hundred samples is often still near chance. And fitted to each skill
# alone, $D_c$ tends to grow with the rank (printed): the rare skills 5–8, which at the largest $D$
# have several hundred samples, are limited by training time as well as by their count, since in
# §4 the networks needed about as many steps as the 4000 here, or more, to find them online
# (their half-times, printed). So the count law is a one-parameter
# description of the frequent skills; "skill $k$ is learned iff $p_k D \gtrsim D_c$" gives
# $k_* \propto (D/D_c)^{1/(\alpha+1)}$ and the same exponent $\alpha/(\alpha+1)$ as the multilinear data law,
# with a prefactor that grows with $D_c$ (the first exercise, where $D_c$ is called $n_c$). Around
# the threshold the count is not everything: which random bits a skill uses, what the network has
# already learned and how long it trains shift it.

# %% [markdown]
# ## 6. Emergence with parameters
#
# **The model's prediction.** In the multilinear model one unit $a_kb_k$ holds one skill, so a model
# with $N$ units learns the $N$ most frequent skills and no others (§3). What is a unit in a
# network? A two-layer ReLU network can compute one skill with $m$ hidden units. Let
# $s_k = \sum_{i\in S_k} z_i$ count skill $k$'s active bits and switch the units off unless $c_k = 1$:
# $h_{kj} = \mathrm{ReLU}\bigl(s_k - j - B(1 - c_k)\bigr)$ for $j = 0,\dots,m-1$, with $B = m+1$. The logit
# of class 1 (class 0's is zero) is, when skill $k$ is asked,
#
# $$
# f = -1 + 2h_{k0} + \sum_{j=1}^{m-1} (-1)^j\, 4\, h_{kj}
# $$ (eq-quanta-relu-skill)
#
# interpolates $-1, +1, -1, \dots$ at $s_k = 0, 1, 2, \dots$ linearly, so its sign is the parity
# (`MultitaskSparseParity.relu_network` builds it). Call these $m$ units a **skill unit**. By this
# count a network of width $w$ has room for $\lfloor w/m\rfloor$ skills, and the multilinear rule
# predicts that it learns skills $1, \dots, \min(\lfloor w/m\rfloor, n_s)$: the most frequent ones, in
# order of frequency, $n_s = 8$ skills from width $24$ on. The construction works:

# %%
x_test, y_test, _ = task.test_set(P.n_test, seed=cu.seed(100))
hand_made = BatchedMLP.from_members([task.relu_network()], "relu")
acc_hand = per_skill(hand_made, x_test, y_test, P.mlp_skills)[0][0].numpy()
print(f"hand-made network: {task.m * P.mlp_skills} hidden units, accuracy per skill {acc_hand}")
cu.check_close(f"hand-made network with m = {task.m} units per skill: accuracy on every skill", acc_hand,
               np.ones(P.mlp_skills),
               atol=1e-12)

# %% [markdown]
# **The experiment.** We train networks of widths $w = 4$ to $64$, three seeds each, as the
# networks of §4 were trained (online, Adam, the same batch size and learning rate) but for
# 12 000 steps instead of 8000, so that the narrow ones have time to find what they can; the
# width-128 networks of §4 are the widest point. All of them are one batched ensemble: member
# $(w, \text{seed})$ is a width-$w$ network in the first $w$ hidden units of a network as wide as
# the widest, whose other units start with all weights zero. Such a unit outputs
# $\mathrm{ReLU}(0) = 0$ and receives zero gradient, and Adam leaves a parameter that has only
# ever had zero gradient where it is, so the extra units stay zero (checked below) and the member
# *is* a width-$w$ network, initialised as one. Accuracies are recorded every 1000 steps, to see
# whether each width has stopped adding skills.

# %%
widths = np.array(P.widths)
by_width = online.padded_widths(task.input_dim, np.repeat(widths, P.width_seeds), 2,      # width-major: (w, seed)
                                np.tile(cu.seed(range(200, 200 + P.width_seeds)), widths.size))
t_w, acc_w, _ = train_online(task, by_width, steps=P.width_steps, batch=P.batch, lr=P.mlp_lr,
                             record_every=P.width_steps // 12, n_test=P.n_test, desc="width sweep")
leak = online.padding_leak(by_width, np.repeat(widths, P.width_seeds))       # padded units: still exactly zero?
acc_w = acc_w.reshape(len(t_w), widths.size, P.width_seeds, P.mlp_skills)                 # (R, widths, seeds, n_s)
all_widths = np.append(widths, P.width)
final = [acc_w[-1, i] for i in range(widths.size)] + [acc[-1]]                             # §4's networks last
learned = [a >= 0.9 for a in final]                                                        # (seeds, n_s) per width
n_learned_w = [l.sum(1) for l in learned]
halfway = (acc_w[len(t_w) // 2] >= 0.9).sum(-1)                                            # (widths, seeds)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.3)
for j in range(P.mlp_skills):
    axes[0].plot(all_widths, [a[:, j].mean() for a in final], "o-", color=C[j % len(C)], ms=4, label=f"skill {j + 1}")
axes[0].set_xscale("log", base=2)
axes[0].set_xlabel("width $w$ (hidden units)")
axes[0].set_ylabel("final test accuracy on the skill\n(mean over seeds)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=8, fontsize=8)
ax = axes[1]
for i, (w, n) in enumerate(zip(all_widths, n_learned_w)):
    ax.plot(np.full(n.size, w) * np.exp(0.06 * (np.arange(n.size) - (n.size - 1) / 2)), n, "o", color=C[0],
            mfc="none", ms=5, label="trained networks (one marker each)" if i == 0 else None)
ax.plot(all_widths, [n.mean() for n in n_learned_w], "-", color=C[0], lw=1.5, label="mean")
w_fine = np.arange(2, all_widths.max() + 1)
ax.plot(w_fine, np.minimum(w_fine // task.m, P.mlp_skills), "k-", lw=1,
        label=f"one skill per {task.m} units (multilinear rule)")
ax.set_xscale("log", base=2)
ax.set_xlabel("width $w$ (hidden units)")
ax.set_ylabel("skills learned (accuracy ≥ 0.9)")
ax.legend(fontsize=7, loc="lower right")
plt.show()

# %%
pairs_w = [(i, j) for i in range(P.mlp_skills) for j in range(i + 1, P.mlp_skills)]
inversions = np.mean([[l[s, j] and not l[s, i] for i, j in pairs_w] for l in learned for s in range(l.shape[0])])
prefix = np.mean([np.array_equal(l[s], np.arange(P.mlp_skills) < l[s].sum()) for l in learned for s in range(l.shape[0])])
in_between = np.mean(np.concatenate([((a > 0.65) & (a < 0.9)).ravel() for a in final]))
n_final = sum(a.size for a in final)
gained = [n - h for n, h in zip(n_learned_w, halfway)]                                     # second half, per network
mid = (widths >= 8) & (widths <= 32)            # above ⌊w/m⌋ = 1 and, unlike w = 64, not yet out of time
units_pooled = (np.repeat(widths[mid], P.width_seeds).sum()
                / np.concatenate([n for n, keep in zip(n_learned_w, mid) if keep]).sum())
print("width w                   ", "  ".join(f"{w:>5d}" for w in all_widths))
print("skills learned, mean      ", "  ".join(f"{n.mean():>5.1f}" for n in n_learned_w))
print("  per network             ", "  ".join(f"{''.join(map(str, n)):>5}" for n in n_learned_w))
print("  halfway through training", "  ".join(f"{''.join(map(str, n)):>5}" for n in halfway))
print("gained in the second half ", "  ".join(f"{g.mean():>5.1f}" for g in gained))
print("hidden units per skill    ", "  ".join(f"{w / n.mean():>5.1f}" if n.sum() else "    –"
                                            for w, n in zip(all_widths, n_learned_w)))
print(f"hidden units per learned skill, widths {widths[mid].min()}–{widths[mid].max()} pooled: {units_pooled:.1f} "
      f"(the construction: {task.m})")
print(f"networks whose learned skills are exactly the most frequent ones: {prefix:.0%};\n    "
      f"skill pairs learned against the order of frequency: {inversions:.1%}")
print(f"final accuracies between chance and learned (0.65–0.9): {in_between:.0%} "
      f"± {np.sqrt(in_between * (1 - in_between) / n_final):.0%}\n    (binomial standard error, {n_final} accuracies)")

# %%
cu.check_less("largest weight of the unused hidden units after training (they stay zero)", leak, 1e-12)
cu.check_less("largest fall of the mean number of learned skills from one width to the next",
              max(0, -np.diff([n.mean() for n in n_learned_w]).min()), 0.5)
cu.check_true(f"the narrowest networks (w = {all_widths[0]}) learn fewer skills than the widest (w = {P.width})",
              n_learned_w[0].max() < n_learned_w[-1].min(),
              detail=f"at most {n_learned_w[0].max()} against at least {n_learned_w[-1].min()}")
cu.check_less("fraction of skill pairs learned against the order of frequency", inversions, 0.05)
cu.check_count(f"trained networks that hold more skills than ⌊w/{task.m}⌋ (the construction's count)",
               sum(int((n > w // task.m).sum()) for w, n in zip(all_widths, n_learned_w)), at_most=0,
               of=sum(n.size for n in n_learned_w))
cu.check_less("fraction of final per-skill accuracies between chance and learned (0.65–0.9)", in_between, 0.25)
cu.check_less(f"the construction's m = {task.m} / hidden units per learned skill (widths "
              f"{widths[mid].min()}–{widths[mid].max()}, pooled)", task.m / units_pooled, 2 / 3)
cu.check_count("skills gained in the second half of training by the networks of width ≥ 16",
               int(sum(g.sum() for w, g in zip(widths, gained) if w >= 16)), at_least=1)

# %% [markdown]
# Width adds skills the way the multilinear rule says it should, in order of frequency: nearly
# every network has learned exactly the most frequent skills $1, \dots, n$ and no others (printed;
# fewer than 5 % of the skill pairs are learned against the order, checked), and each skill goes
# from chance to learned within one or two doublings of the width (left), as abrupt in width as it
# is in time and in data: at the end only about one final accuracy in ten lies between chance and
# learned (0.65–0.9). That fraction is a proportion of some 150 accuracies, with a binomial
# standard error of about 2–3 % (printed); over seeds 0–5 it lies between 6 % and 11 %. The
# check's bound of 25 % is more than four standard errors above the largest of these, and half of
# what a gradual rise, spread evenly between 0.5 and 1, would give. The number of learned skills grows from at most one at $w = 4$ to all eight at
# $w = 128$. What the rule does not get right is the price of a skill:
#
# - **A skill unit is several neurons.** No trained network holds more than the construction's
#   $\lfloor w/m\rfloor$ skills, and most hold far fewer: gradient descent from a random start
#   spends about twice the $m = 3$ hidden units of the hand-made network per learned skill, or more
#   (printed: $w$ divided by the mean number learned; pooled over the widths 8 to 32, which are
#   neither capped at one skill by $\lfloor w/m\rfloor$ nor as short of training time as $w = 64$ (they
#   still gain skills late in the run, so these are upper bounds), about 6 to 8
#   units per skill over seeds 0–5, and checked to be more than $1.5\,m$). Trained networks do not
#   find the sparing solution; where the extra units go (units that never latched onto a skill's
#   bits, redundant copies, units shared by skills with common bits) we have not taken apart
#   here. So the "unit" of the multilinear rule is, for trained networks, a group of neurons
#   whose size we measure rather than derive, and "$N$ units hold the $N$ most frequent skills"
#   holds with $N = w/u$, $u$ the hidden units per skill. At $w = 128$ the ratio means nothing:
#   the network has run out of skills, not of units.
# - **Converged, or still learning?** Not converged. Between the middle and the end of training
#   the networks of width 16 and more were still adding skills (printed: the learned counts
#   halfway and the mean gain per network; checked: they gain some at every seed), while those
#   of width 4 and 8 had mostly stopped at one skill. Whether the widths 16 and 32 have stopped
#   depends on the draw: in the stored run they gain almost nothing more, at other seeds several
#   of them gain a skill in the second half; the width-64 networks gain the most. So the counts are
#   what each width learns in
#   12 000 steps, lower bounds on what it could learn eventually, and the units per skill above
#   are upper bounds; the training time limits the count more, the wider the network. The
#   width-128 networks of §4 had all eight skills after fewer steps than the
#   width-64 ones had been trained here: wider networks also find their skills sooner, the
#   trade-off between size and time behind the compute frontier of §3.
# - **From counts to a law.** If every skill costs $u$ hidden units, the loss of a width-$w$
#   network is the parameter law of §3 with $N = w/u$, $L \approx \sum_{k > w/u} p_k \propto w^{-\alpha}$
#   (the number of parameters, $w(n_s + n_b + 3) + 2$, is proportional to $w$ at a fixed input,
#   so the exponent is the same in parameters). If the cost grows with the skill's rank, the
#   exponent changes: the last exercise works it out. With eight skills we can count, not fit;
#   [Do trained networks follow the quantization model?](04_quanta_in_networks.ipynb) fits the
#   exponents with 32 skills.
#
# **At paper scale.** {cite:t}`michaud2023quantization` ran this task with hundreds of skills, a
# hundred task bits and networks of many widths, on GPUs. With hundreds of skills the staircases
# of §4–6 become smooth power laws of the loss in steps, in $D$ and in the width, whose exponents
# can be fitted and compared with $\alpha$: the parameter version of §6 would then tell whether
# a skill costs the same number of units whatever its rank (exponent $\alpha$ in the width) or more
# for rarer skills (a smaller exponent, last exercise), a question eight skills cannot settle.
# `COURSE_SCALE=paper` keeps our eight skills (so that the discussion above still applies) and
# sharpens the statistics: sixteen networks per half-time, eight data-set sizes, ten widths from
# 2 to 96 with eight networks each, trained for 40 000 steps, to see whether the count of the
# width-64 networks is still limited by the training time.
#
# ## 7. Emergence or a choice of metric?
#
# {cite:t}`schaeffer2023emergent` argued that many "emergent abilities" of large language models are
# produced by the metric: a quantity that improves smoothly with scale, such as the probability of
# each token, looks sudden when it is scored by a discontinuous metric, such as the exact match of an
# answer several tokens long, which is right only if every token is. Both sides of that argument
# can be seen in this chapter's own runs.
#
# **A smooth curve made to look sudden.** Take the multilinear run of §2–3 ($\alpha = 1$, $10^4$
# skills) and score it per query: a query of skill $k$ is answered right when the output $s_kg_k$ is
# nearer the target $Sg_k$ than zero, $s_k > S/2$. The per-query error
# $\varepsilon(T) = \sum_k p_k\,[s_k(T) < S/2]$ is the weight of the skills not yet half learned, which
# falls as a power law, $T^{-\alpha/(\alpha+1)}$ (the rule of §3). Now score a *string* of
# $\ell = 100$ independent queries, right only if all are: the exact match is
# $(1-\varepsilon)^{\ell}$. The question Schaeffer et al. ask is whether the sudden-looking
# metric could have been predicted from the smooth one. We fit the power law to $\varepsilon(T)$ only
# where the exact match is still below 1 % (it "reads zero"), extrapolate it, and predict when the
# exact match reaches one half, $\varepsilon = 1 - 2^{-1/\ell}$.
#
# **A skill that is sudden in every metric.** For the networks of §4 we ask the same of one
# skill's own continuous metric, its test cross-entropy: does it fall steadily before the accuracy
# jumps (progress the accuracy hides), or is it flat too? We compare how fast it falls per doubling
# of time in the two doublings before the accuracy starts to climb ($t_{60}$, the first record at
# 60 %) and in the doubling after.

# %%
# the multilinear run of §2–3: per-query error and the exact match of a string of queries
err_query = np.sum(p * (strength < 0.5), axis=1)                            # ε(T) at the records
exact = (1 - err_query) ** P.em_queries
early = (record >= 10) & (exact < 0.01)                                      # exact match still "zero"
fit_err = cu.fit_power_law(record[window], err_query[window])
coef, cov = np.polyfit(np.log(record[early]), np.log(err_query[early]), 1, cov=True)   # log ε = c0 log T + c1
err_half = 1 - 0.5 ** (1 / P.em_queries)                                    # exact match = 1/2
log_T50_pred = (np.log(err_half) - coef[1]) / coef[0]
grad = np.array([-log_T50_pred / coef[0], -1 / coef[0]])                     # ∂ log T50 / ∂(c0, c1)
se_T50 = float(np.sqrt(grad @ cov @ grad))
i50 = int(np.argmax(exact >= 0.5))
T50, spacing = record[i50], record[i50] / record[i50 - 1]                    # first record at or past one half
print(f"per-query error: ε ∝ T^-{fit_err.alpha:.3f} ± {fit_err.alpha_stderr:.3f} (T ≥ 300; theory {theory_exp['time']:.3f})")
print(f"fitted where the exact match of {P.em_queries} queries is below 1 % (T ≤ {record[early].max()}): "
      f"ε ∝ T^{coef[0]:.3f}")
print(f"exact match reaches 1/2 at T = {T50} (previous record {record[i50 - 1]});\n    predicted from the early fit: "
      f"{np.exp(log_T50_pred):.0f} (× e^±{se_T50:.2f}, one SE)")

# the networks of §4: per-skill cross-entropy around the start of the accuracy climb
i60 = (acc >= 0.6).argmax(0)                                                 # (K, n_s) record index of t_60
i_before = np.searchsorted(t_rec, t_rec[i60] / 4)                            # two doublings earlier
i_after = np.minimum(np.searchsorted(t_rec, 2 * t_rec[i60]), len(t_rec) - 1)  # one doubling later
ce_at = lambda i: np.take_along_axis(ce, i[None], 0)[0]                      # noqa: E731
drop_before = np.log(ce_at(i_before) / ce_at(i60)) / 2                       # log-loss fall per doubling
drop_after = np.log(ce_at(i60) / ce_at(i_after))
print(f"per-skill cross-entropy, fall of log L per doubling of time (median over {drop_before.size} skills × "
      f"networks):\n    before the climb {np.median(drop_before):.3f}, during it {np.median(drop_after):.3f}; "
      f"loss at t_60 / ln 2: {np.median(ce_at(i60)) / np.log(2):.2f} (median)")

# %% tags=["hide-input"]
fig, axes = cu.panels(3, panel_height=3.4)
ax = axes[0]
ax.plot(record[1:], 1 - err_query[1:], "-", color=C[0], label="per-query accuracy $1-\\varepsilon$")
ax.plot(record[1:], exact[1:], "-", color=C[1], lw=2, label=f"exact match of {P.em_queries} queries")
T_line = np.geomspace(10, record[-1], 200)
ax.plot(T_line, (1 - np.minimum(np.exp(coef[1]) * T_line ** coef[0], 1)) ** P.em_queries, "--", color=C[1], lw=1,
        label="predicted from the early fit")
ax.axvline(record[early].max(), color="0.6", lw=0.8, ls=":")
ax.set_xscale("log")
ax.set_xlabel("gradient-descent step $T$")
ax.set_ylabel("score")
ax.set_title("multilinear run: two metrics")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(0, 0.38))
ax = axes[1]
ax.plot(record[1:], err_query[1:], "o", color=C[0], mfc="none", ms=3, label="per-query error $\\varepsilon$")
ax.plot(T_line, np.exp(coef[1]) * T_line ** coef[0], "--", color=C[1], lw=1,
        label=f"fit where exact match < 1 %: slope {coef[0]:.2f}")
ax.axhline(err_half, color=C[1], lw=0.8, ls=":", label="$\\varepsilon$ at which exact match = 1/2")
ax.axvline(record[early].max(), color="0.6", lw=0.8, ls=":")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("gradient-descent step $T$")
ax.set_ylabel("per-query error")
ax.set_title("the same run, continuous metric")
ax.legend(fontsize=7)
ax = axes[2]
for j in range(P.mlp_skills):
    ax.plot(t_rec[1:], ce[1:, 0, j] / np.log(2), "-", color=C[j % len(C)], lw=1, label=f"skill {j + 1}")
    ax.plot(t_rec[i60[0, j]], ce[i60[0, j], 0, j] / np.log(2), "o", color=C[j % len(C)], ms=4)
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_ylim(1e-3, 2)
ax.set_xlabel("training step")
ax.set_ylabel("cross-entropy / ln 2")
ax.set_title("network (§4, seed 0)")
fig.legend(*ax.get_legend_handles_labels(), loc="center", bbox_to_anchor=(0.75, 0.25), ncol=2, fontsize=8,
           title="bottom panel: skills\n(dots: accuracy reaches 60 %)", title_fontsize=8)
plt.show()

# %%
cu.check_close("per-query error exponent vs α/(α+1)", fit_err.alpha, theory_exp["time"], atol=0.02)
cu.check_close("log T at which the exact match reaches 1/2 vs the extrapolated early power law (tolerance: the "
               "record spacing + 3 SE)", np.log(T50), log_T50_pred, atol=np.log(spacing) + 3 * se_T50)
cu.check_less("networks: 3 × median fall of the skill's log-loss per doubling before its accuracy climb vs during it",
              3 * np.median(drop_before), np.median(drop_after))

# %% [markdown]
# In the multilinear run the exact match looks like an emergent ability: nothing for three decades
# of training, then a rise to above one half in the last two (top left). Nothing sudden
# happens underneath: the per-query error falls as the power law $T^{-\alpha/(\alpha+1)}$ throughout
# (top right; exponent checked), and a fit to the stretch where the exact match still reads zero predicts
# when it will reach one half, to within the spacing of the records and the fit's standard error
# (checked). This is the mirage of {cite:t}`schaeffer2023emergent`: the exact match is a steep
# function of a smooth curve, $(1-\varepsilon)^\ell\approx e^{-\ell\varepsilon}$, which switches from
# 0 to 1 as $\varepsilon$ crosses $1/\ell$; a longer string only moves the switch to later times. The
# same holds for the staircase of the total loss in §4: a sum over many skills is smooth.
#
# A single sparse-parity skill is different. Its own cross-entropy (bottom) sits near $\ln 2$ and
# barely moves until the accuracy starts to climb, then falls by orders of magnitude: per doubling of
# time it falls many times faster during the climb than in the two doublings before it (printed;
# checked to be at least three times faster, where a power law in time would give the same fall
# in every doubling). The continuous metric shows the same jump as the discontinuous one, so here
# the emergence is not produced by the metric; it is the search phase of sparse parity
# {cite:p}`barak2022hidden`, during which the progress is hidden in the weights, not in the loss.
# Both views are right about different things: a scaling law summed over many skills is smooth
# whatever one measures, and a metric can make it look sudden; an individual skill can be
# genuinely sudden, and then a continuous metric shows it too.
#
# ## 8. What it means
#
# - **Smooth from sudden.** A loss that falls as a power law does not mean that anything inside
#   changes smoothly: a sum of sigmoids at power-law spaced positions is a power law. Conversely, a
#   single skill's sudden appearance is not a break in the scaling law; it is one of its terms. How
#   sudden it *looks* depends on the metric {cite:p}`wei2022emergent,schaeffer2023emergent`: the
#   exact match of §7 jumps although the per-query error underneath falls smoothly. But a skill
#   that has to be searched for, like a sparse parity, is sudden in its own loss as well (§7).
# - **The exponents are set by the task, not the network.** In the quanta picture every exponent
#   is a function of the one number $\alpha$ that describes how often skills are needed:
#   $\alpha/(\alpha+1)$ for time and data, $\alpha$ for parameters, $\alpha/(\alpha+2)$ for compute, and the
#   compute-optimal model grows as $C^{1/(\alpha+2)}$. The network enters through constants: the
#   count $n_c$, the time to find a skill.
# - **Connection to counting.** The data law here *is* a counting argument: each skill is a
#   category of a Zipf-distributed variable, learned once it has been counted (once, or $n_c$
#   times), and the loss is the probability mass of the categories not yet seen. The chapter
#   [scaling from counting](01_scaling_from_counting.ipynb) studies the learner that does nothing
#   but count, and finds the same lesson: with Zipf-distributed categories the exponent of the
#   learning curve is a property of the data's tail.
# - **Connection to resolution.** In [variance- and resolution-limited scaling](02_variance_and_resolution.ipynb)
#   a model resolves its input space more finely as it grows, and the loss is set by the size of
#   the unresolved cells. The quanta picture is the discrete version of a resolution limit: the
#   model "resolves" the first $N$ skills and the unresolved tail sets the loss; the finite-$n_s$
#   correction is what happens when the resolution reaches the size of the system.
# - **Where it fails.** Real skills are not orthogonal: they share features, as our networks'
#   shared bits showed, and the optimiser changes how time is spent on each. The frequencies
#   and the exponent $\alpha$ of a real data set are not known in advance.
#   [Can emergence be predicted?](07_predicting_emergence.ipynb) tests the predictions calibrated on
#   one skill, skill by skill, on tasks whose skills share no bits and on tasks whose skills do.
#
# ## Exercises
#
# :::{exercise} A skill needs $n_c$ examples
# :label: ex-quanta-threshold
#
# Suppose a skill is learned iff the training set holds at least $n_c$ of its samples (the network
# of §5 rather than the multilinear model). Write `loss_fn(D, p, n_c)` that returns the expected
# test loss $\mathbb E L(D) = \sum_k p_k\,\Pr[n_k < n_c]$ for an array of data-set sizes $D$, with
# $n_k\sim\mathrm{Binomial}(D, p_k)$, and check it with `exercises.check_threshold_data_loss(loss_fn)`.
# Then show, by the substitution of §3, that for large $D$ the exponent is still $\alpha/(\alpha+1)$
# and the prefactor grows as $n_c^{\alpha/(\alpha+1)}$.
# :::
#
# :::{solution-start} ex-quanta-threshold
# :class: dropdown
# :::
#
# $\Pr[n_k < n_c]$ is the binomial distribution function at $n_c - 1$. For large $D$ and small
# $p_k$, $n_k$ is Poisson with mean $v = p_kD$, and the continuum sum becomes
# $\frac{Z^{-1/(\alpha+1)}}{\alpha+1}D^{-\alpha/(\alpha+1)}\int_0^\infty v^{-1/(\alpha+1)}\Pr[\mathrm{Poisson}(v) < n_c]\,dv$.
# The integrand falls off at $v\approx n_c$, so the integral grows as $n_c^{\alpha/(\alpha+1)}$: the
# exponent in $D$ does not change, only the prefactor, exactly like $D \to D/n_c$.

# %%
from scipy.stats import binom


def loss_fn(D, p, n_c):
    return np.sum(p * binom.cdf(n_c - 1, np.asarray(D, dtype=float)[:, None], p), axis=1)


exercises.check_threshold_data_loss(loss_fn)
p_many = theory.skill_probabilities(100_000, P.alpha)       # enough skills that n_s plays no role
D_big = np.round(np.geomspace(1e4, 1e7, 7))
for n_c in (1, 10, 100):
    loss_nc = loss_fn(D_big, p_many, n_c)
    print(f"n_c = {n_c:>3}: fitted exponent {cu.fit_power_law(D_big, loss_nc).alpha:.3f} "
          f"(theory {theory_exp['data']:.3f}), loss at D = 10⁷: {loss_nc[-1]:.2e}")

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Spending compute
# :label: ex-quanta-compute
#
# Take $L(N, T) \approx \max\bigl(c_1 N^{-\alpha}, c_2 T^{-\alpha/(\alpha+1)}\bigr)$ for the multilinear
# model. For a budget $C = NT$, find the exponents of the optimal $N_*\propto C^{a}$ and
# $T_*\propto C^{b}$, and check them with `exercises.check_compute_allocation(a, b, alpha)`. Which
# grows faster with the budget, the model or the training time? Compare with the fit of $N_*$ in §3.
# :::
#
# :::{solution-start} ex-quanta-compute
# :class: dropdown
# :::
#
# At the optimum the two limits are equal (if one were smaller, moving compute to the other
# resource would lower the maximum): $N^{-\alpha}\sim T^{-\alpha/(\alpha+1)}$, so $T \sim N^{\alpha+1}$ and
# $C = NT \sim N^{\alpha+2}$. Hence $a = 1/(\alpha+2)$ and $b = (\alpha+1)/(\alpha+2)$: the training time
# grows faster than the model, $T_*\propto N_*^{\alpha+1}$. The frontier of §3 gave $N_*\propto C^{0.33}$
# for $\alpha = 1$.

# %%
_ = exercises.check_compute_allocation(1 / (P.alpha + 2), (P.alpha + 1) / (P.alpha + 2), alpha=P.alpha)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Sign descent equalises the clocks
# :label: ex-quanta-sign
#
# Replace gradient descent in the multilinear model by sign descent, $a_k \leftarrow a_k + \eta\,
# \mathrm{sign}(\partial_{a_k}(-L))$ (the limit of Adam with a small $\beta_2$ window and no noise). How
# does the time at which skill $k$ is learned depend on $p_k$ now? What does that do to the time
# law, and how does it relate to the exponent we measured for the networks trained with Adam?
# :::
#
# :::{solution} ex-quanta-sign
# :class: dropdown
#
# The sign of $\partial_{a_k}L = -p_k b_k(S - s_k)$ does not depend on $p_k$, so every unit moves by
# $\eta$ per step whatever its frequency: all skills are learned at the same time,
# $t_k \approx \sqrt S/\eta$, and the loss drops at once instead of as a power law. Adam sits
# between the two: with gradient noise, $\sqrt{v}$ of a rarely used parameter is dominated by the
# rare large gradients, and the normalised step still grows with $p_k$, but more slowly than
# $p_k$. In the multilinear model that weakens the dependence of $t_k$ on $p_k$ and makes the
# time-law exponent larger than $\alpha/(\alpha+1)$. (Frequency-dependent effective learning rates are
# one reason why optimisers can change scaling exponents.) For the networks of §4 the effect is
# small: plain SGD, which has no normalisation, gives an exponent that differs from Adam's by at
# most about 0.2 over seeds 0–5 (usually towards 1), nowhere near the 0 of sign descent.
# :::
#
# :::{exercise} Skills that cost more units
# :label: ex-quanta-params
#
# Suppose skill $k$ costs $u_k = u\,k^{\gamma}$ hidden units ($\gamma = 0$: every skill costs the
# same) and a network of width $w$ learns the most frequent skills that fit,
# $\sum_{k\le n} u_k \le w$. Show that, with many skills, $n(w) \propto w^{1/(1+\gamma)}$ and
# $L(w) = \sum_{k>n(w)}p_k \propto w^{-\alpha/(1+\gamma)}$, and check the exponent numerically for
# $\gamma = 0, \tfrac12, 1$. Then compute, from the counts of §6, the *marginal* cost of a skill:
# hidden units per added skill, $\Delta w/\Delta n$, between successive widths. Can eight skills
# and three seeds tell $\gamma = 0$ from $\gamma > 0$?
# :::
#
# :::{solution-start} ex-quanta-params
# :class: dropdown
# :::
#
# $\sum_{k\le n} u\,k^{\gamma} \approx u\,n^{1+\gamma}/(1+\gamma) = w$ gives
# $n \approx \bigl((1+\gamma)w/u\bigr)^{1/(1+\gamma)}$, and the unlearned tail
# $\sum_{k>n}p_k \approx n^{-\alpha}/(\alpha Z)$ becomes $L \propto w^{-\alpha/(1+\gamma)}$: skills that
# grow more expensive slow the parameter law down, and $\gamma = 0$ gives back the exponent
# $\alpha$ of §3. The fits below (a million skills, widths $10^2$ to $10^4$ in units of $u$)
# agree. From §6, the marginal cost (printed) is a ratio of differences of counts averaged over
# three networks, and it moves a lot from seed to seed; between widths 32 and 64 it tends to be
# larger than at the small widths, which is what $\gamma > 0$ would give. But the width-64
# networks were still learning (their count is too low, the marginal cost too high), and at the
# smallest widths the counts are fractions of a skill. Eight skills do not decide between the
# two; hundreds of skills and wider networks would.

# %%
def skills_that_fit(w, gamma, n_max=1_000_000):
    """The number n of most frequent skills whose costs k^γ (in units of u) add up to at most w."""
    return np.searchsorted(np.cumsum(np.arange(1, n_max + 1) ** gamma), w, side="right")


p_million = theory.skill_probabilities(1_000_000, P.alpha)
w_grid = np.geomspace(1e2, 1e4, 9)
for gamma in (0.0, 0.5, 1.0):
    fit_w = cu.fit_power_law(w_grid, theory.loss_parameters(skills_that_fit(w_grid, gamma), p_million))
    cu.check_close(f"γ = {gamma}: exponent of L(w) vs α/(1+γ)", fit_w.alpha, P.alpha / (1 + gamma), atol=0.03)
n_mean = np.array([n.mean() for n in n_learned_w])
print("widths                  ", "  ".join(f"{a:>3d}→{b:<3d}" for a, b in zip(all_widths[:-2], all_widths[1:-1])))
print("units per added skill   ", "  ".join(f"{dw / dn:>7.1f}" if dn > 0 else "      –"
                                         for dw, dn in zip(np.diff(all_widths[:-1]), np.diff(n_mean[:-1]))))

# %% [markdown]
# :::{solution-end}
# :::
#
# ## Summary
#
# - In the multilinear model $f = \sum_k a_kb_kg_k$ every skill is learned on its own sigmoidal clock,
#   $s_k(t) = S/(1 + (S/s_0 - 1)e^{-2Sp_kt})$ {eq}`eq-quanta-sigmoid`, checked against gradient descent to a few percent.
# - With Zipf frequencies $p_k\propto k^{-(\alpha+1)}$ the rule "skill $k$ is learned iff its clock,
#   its sample count or the parameter budget allows" gives four laws; measured for $\alpha = 1$:
#   time $L\propto T^{-\alpha/(\alpha+1)}$, data $L\propto D^{-\alpha/(\alpha+1)}$, parameters $L\propto N^{-\alpha}$
#   (after the $N+\tfrac12$ and finite-$n_s$ corrections; the naive fit is off by more than 0.05) and
#   compute $L\propto C^{-\alpha/(\alpha+2)}$ with $N_*\propto C^{1/(\alpha+2)}$.
# - For $\alpha < 1$ the world's size shows: at $\alpha = 0.6$ the time slope fitted with $10^4$ skills
#   is about 0.02 too steep, as the finite sum predicts; with $10^5$ skills, or with the Zipf tail
#   beyond $n_s$ added back, it is $\alpha/(\alpha+1)$.
# - Two-layer networks on multitask sparse parity learn skills after a search phase, in steps that
#   span about a factor of two in time, one or two at a time and nearly in order of frequency. The
#   multilinear sigmoid calibrated on skill 1 predicts the shape of every later skill's rise and,
#   for most skills, its time; some skills come early, and their half-times grow roughly like
#   $1/p_k$, a little more slowly. Plain SGD scales the same way, its exponent within 0.25 of 1 and
#   at most about 0.2 from Adam's: the optimiser changes the timing a little; skills that share task
#   bits with more frequent ones are the likely cause of the early ones.
# - With data, a network learns skill $k$ once it has seen several hundred of its samples:
#   emergence as a counting threshold, described for the frequent skills by
#   $\min(n_k/D_c, 1)$ {eq}`eq-quanta-count-law` with one $D_c$ calibrated on one skill.
# - Whether emergence is a property of the skill or of the metric depends on the skill: a smooth
#   sum over many skills looks emergent under an exact-match metric (and is predictable from the
#   smooth one), while a single sparse parity is sudden in its loss as well.
# - With width, a network learns the most frequent skills and no others, from at most one skill at 4
#   hidden units to all eight at 128, each appearing within a doubling or two of the width. A
#   hand-made network needs $m = 3$ units per skill; trained networks spend about twice as many, so the
#   "skill unit" of the parameter law is a group of neurons whose size is measured, not derived.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
