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
# # Why does the loss fall as a power of the data? Scaling laws from counting
#
# The test loss of a language model falls as a power of the number of training tokens, of
# parameters and of compute {cite:p}`kaplan2020scaling,hoffmann2022training`. Before asking why a
# transformer does this, ask the simplest learner there is: one that *counts*. It sees $N$ samples
# of a categorical variable, estimates the probabilities, and is scored with the log loss. We
# compute its learning curve exactly, derive the $1/N$ law with its coefficient $(K-1)/2$, find
# where the law starts (a crossover set by the rarest category), and see a *different* power of
# $N$ appear when the categories follow Zipf's law: the exponent of a learning curve is a
# property of the data's tail. A model with a limited budget of bits or parameters adds a loss
# floor, which splits the $(N,\text{model size})$ plane into a data-limited and a model-limited
# region. Finally a softmax model trained by gradient descent, or by one pass of stochastic
# gradient descent, learns at the same rate as the counter.
#
# **Prerequisites:** [Linear models and gradient flow](../01_foundations/01_linear_models.ipynb)
# (learning curves, the bias of a regulariser) and
# [Training in the infinite-width limit: the neural tangent kernel](../03_wide_networks/02_ntk.ipynb)
# (a model as a set of modes, each learned on its own). We train thousands of small models at once as one batched tensor, the idea behind
# `course_utils.ensemble`.
# **Runs in:** about a minute on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# averages over ten times more data sets.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/06_scaling/01_scaling_from_counting.ipynb)
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

import course_utils as cu
from course_utils.data.counting import sample_counts, sample_labels, zipf_probabilities
from course_utils.exercises import scaling_counting as exercises
from course_utils.theory import counting as theory

cu.use_house_style()
# Counting is NumPy work, and the softmax models are K numbers each: the CPU is the right device.
device = cu.setup(device="cpu")
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(cu.seed(0))   # every draw of the chapter comes from this one generator
C = cu.plotting.PALETTE

# %% [markdown]
# ## Parameters
#
# Every experiment averages the excess loss over many independent data sets ("draws"); the
# exact expectations need no sampling at all. `COURSE_SCALE=paper` only increases the number
# of draws, which shrinks the error bars.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(coin_draws=100_000, cat_draws=2_000, zipf_draws=1_000, quant_draws=300,
                 softmax_draws=1_600, softmax_steps=6_000),
    paper=dict(coin_draws=1_000_000, cat_draws=20_000, zipf_draws=10_000, quant_draws=3_000,
               softmax_draws=10_000),
)
P

# %% [markdown]
# ## 1. The model: estimating a distribution by counting
#
# A variable takes one of $K$ values with probabilities $p = (p_1,\dots,p_K)$ (a coin is $K = 2$).
# We see $N$ independent samples; their counts $n_k$ (with $\sum_k n_k = N$) are all an estimator
# needs, $n \sim \mathrm{Multinomial}(N, p)$. The model predicts a distribution $q$ and is scored,
# like a language model, by the **log loss** on a fresh sample,
#
# $$
# \mathcal L(q) = \mathbb E_{x\sim p}[-\log q_x] = H(p) + \mathrm{KL}(p\,\|\,q),
# \qquad \mathrm{KL}(p\,\|\,q) = \sum_k p_k\log\frac{p_k}{q_k}.
# $$
#
# The entropy $H(p)$ is the irreducible loss; the **excess loss** is the Kullback–Leibler divergence
# {cite:p}`cover2006elements`, and it is what falls with $N$. The maximum-likelihood estimate
# $\hat p_k = n_k/N$ gives $q_k = 0$ to every category it has not seen, and an infinite loss the
# first time one turns up. So we smooth: the **add-β estimator**
#
# $$
# q_k = \frac{n_k + \beta}{N + K\beta}
# $$
#
# adds $\beta$ pseudo-counts to every category. It is the posterior mean under a Dirichlet$(\beta)$
# prior; $\beta = 1$ is Laplace's rule of succession, $\beta = \tfrac12$ the Krichevsky–Trofimov (KT)
# estimator of universal coding {cite:p}`krichevsky1981performance`.
#
# ## 2. The theory: $(K-1)/(2N)$, and when it starts
#
# **Leading order.** Write $q_k = p_k + \varepsilon_k$ with $\sum_k\varepsilon_k = 0$. Then
# $\mathrm{KL} = -\sum_k p_k\log(1 + \varepsilon_k/p_k) = \sum_k \frac{\varepsilon_k^2}{2p_k} + O(\varepsilon^3)$:
# the divergence is a quadratic form, the $\chi^2$ distance, weighted by the Fisher information $1/p_k$.
# For add-β, $\varepsilon_k = (n_k - Np_k)/N + O(1/N)$ and $\mathbb E(n_k - Np_k)^2 = Np_k(1-p_k)$, so
#
# $$
# \boxed{\;\mathbb E\,\mathrm{KL}(p\,\|\,q) = \frac{K-1}{2N} + O(N^{-2}).\;}
# $$ (eq-counting-leading)
#
# Every free parameter of the distribution (there are $K - 1$) costs $1/(2N)$ nats, whatever $p$
# and whatever $\beta$: the smoothing moves $q$ by $O(1/N)$ and the loss only by $O(1/N^2)$. (This
# is Wilks' theorem in disguise: $2N\,\mathrm{KL}$ is asymptotically a $\chi^2$ variable with $K-1$
# degrees of freedom.) The exponent $-1$ is the statement that the estimate's *variance* falls as
# $1/N$ and the loss is quadratic in the error.
#
# **Exact.** Each count is marginally binomial, $n_k\sim\mathrm{Binomial}(N, p_k)$, and the
# expectation of the KL needs only the marginals:
#
# $$
# \mathbb E\,\mathrm{KL} = \sum_k p_k\log p_k + \log(N + K\beta) - \sum_k p_k\,\mathbb E\log(n_k + \beta),
# $$ (eq-counting-exact)
#
# a sum over $K$ binomial distributions that `theory.expected_kl` evaluates exactly (to rounding) for
# any $K$ and $N$ up to $10^8$.
#
# **Next order.** Expanding $\log(n + \beta)$ around $Np$ to fourth order in $\delta = n - Np$, with
# the binomial moments $\mathbb E\delta^2 = Np(1-p)$, $\mathbb E\delta^3 = Np(1-p)(1-2p)$ and
# $\mathbb E\delta^4 = 3N^2p^2(1-p)^2 + O(N)$, gives
#
# $$
# \mathbb E\log\frac{n+\beta}{Np} = \frac{\beta - \frac{1-p}{2}}{Np}
# + \frac{-\frac{\beta^2}{2} + \beta(1-p) + \frac{(1-p)(1-2p)}{3} - \frac{3(1-p)^2}{4}}{N^2p^2} + O(N^{-3}),
# $$
#
# and with $\log(N + K\beta) = \log N + K\beta/N - K^2\beta^2/2N^2 + \dots$ the $\beta$'s cancel at
# order $1/N$ (the boxed result {eq}`eq-counting-leading`) and leave
#
# $$
# \mathbb E\,\mathrm{KL} = \frac{K-1}{2N} + \frac{c_2}{N^2} + O(N^{-3}), \qquad
# c_2 = \Bigl(\frac{\beta^2}{2} - \beta + \frac{5}{12}\Bigr)\sum_k\frac{1}{p_k} + K\beta - \frac{K^2\beta^2}{2} - \frac K2 + \frac1{12}.
# $$ (eq-counting-c2)
#
# For a coin with Laplace smoothing ($\beta = 1$), $c_2 = -\frac{1}{12p(1-p)} - \frac{11}{12}$; for KT,
# $c_2 = \frac{1}{24p(1-p)} - \frac{5}{12}$. The correction is small compared with the leading
# term only when $N p(1-p) \gg 1$: **the $1/(2N)$ regime starts once the rarer outcome has been
# seen several times.** Before that, for $Np \ll 1$, the estimator has (almost always) seen no
# rare outcome and predicts $q = \beta/(N + 2\beta)$ for it, which costs
# $\mathrm{KL} \approx \beta/N + p[\log(pN/\beta) - 1] \approx \beta/N$. Still a $1/N$ law, but with the
# coefficient $\beta$ of the prior instead of the universal $\tfrac12$: $2N\,\mathbb E\,\mathrm{KL}$ is a
# function of $Np(1-p)$ alone that goes from $2\beta$ to $1$. (For KT the two coefficients agree,
# one way to see why $\beta = \tfrac12$ is the good choice in coding.)
#
# ## 3. The experiment: a coin
#
# Four coins, from fair to very biased ($p = 10^{-3}$), Laplace smoothing, $N$ from 1 to $10^5$,
# and for every $(p, N)$ the KL averaged over $10^5$ independent data sets (one binomial draw
# each, vectorised).

# %%
beta_coin = 1.0
coin_p = (0.5, 0.1, 0.01, 0.001)
N_coin = np.unique(np.geomspace(1, 1e5, 21).astype(int))
coin_sim, coin_err, coin_exact = {}, {}, {}
for p in coin_p:
    pv = np.array([p, 1 - p])
    means, errs = [], []
    for N in N_coin:
        kl = theory.kl_divergence(pv, theory.add_beta_estimate(sample_counts(pv, int(N), P.coin_draws, rng), beta_coin))
        means.append(kl.mean())
        errs.append(kl.std() / np.sqrt(kl.size))
    coin_sim[p], coin_err[p] = np.array(means), np.array(errs)
    coin_exact[p] = theory.expected_kl(pv, N_coin, beta_coin)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
N_fine = np.unique(np.geomspace(1, 1e5, 200).astype(int))
for i, p in enumerate(coin_p):
    pv = np.array([p, 1 - p])
    exact_fine = theory.expected_kl(pv, N_fine, beta_coin)
    axes[0].plot(N_fine, exact_fine, "-", color=C[i], label=f"exact sum, p = {p}")
    axes[0].errorbar(N_coin, coin_sim[p], coin_err[p], fmt="o", mfc="none", color=C[i], ms=4)
    x = N_fine * p * (1 - p)
    axes[1].plot(x, 2 * N_fine * exact_fine, "-", color=C[i], label=f"p = {p}")
    axes[1].plot(N_coin * p * (1 - p), 2 * N_coin * coin_sim[p], "o", mfc="none", color=C[i], ms=4)
axes[0].plot(N_fine, 1 / (2 * N_fine), "k--", label="asymptote 1/(2N)")
axes[0].set_xscale("log")
axes[0].set_yscale("log")
axes[0].set_xlabel("number of samples N")
axes[0].set_ylabel("excess log loss E KL (nats)")
axes[0].legend(fontsize=8, title="markers: simulation", title_fontsize=8)
axes[1].axhline(1.0, color="k", ls="--", lw=1, label="$2N\\,$E KL = 1 (large N)")
axes[1].axhline(2 * beta_coin, color="k", ls=":", lw=1, label="$2N\\,$E KL = 2β (no rare outcome seen)")
axes[1].set_xscale("log")
axes[1].set_xlabel("expected rare outcomes N p(1−p)")
axes[1].set_ylabel("2N · E KL (dimensionless)")
h, l = axes[1].get_legend_handles_labels()
axes[1].legend(h[-2:], l[-2:], fontsize=8, loc="lower right")   # the colours are named in the left panel
plt.show()

# %% [markdown]
# The left panel: every coin ends on the same line $1/(2N)$, the biased ones later. The right
# panel multiplies by $2N$ and plots against $Np(1-p)$, the expected number of rare outcomes.
# For $Np(1-p) \gtrsim 0.3$ the biased coins **collapse** on one crossover function, which
# settles on 1 once a few rare outcomes have been seen (after a dip near $Np \approx 1$, where
# the first rare outcome has just been seen and is over-weighted). Before that, while nothing
# rare has been seen, $2N\,\mathbb E\,\mathrm{KL}$ climbs towards $2\beta = 2$: the loss is the cost of the
# pseudo-count, $\approx\beta/(N + \beta)$, which reaches $\beta/N$ only for $N \gg \beta$ (the exact curve of the $p = 0.001$
# coin gets to 1.7). The fair coin has nothing rare; its prior is the truth, so it starts *below* the
# asymptote and rises to it. Now the numbers: the simulation against the exact sum,
# the exponent fitted in the asymptotic window $Np(1-p) \ge 10$ for every coin, the coefficient
# at $N = 10^5$, and the next-order coefficient $c_2$ against the exact sum at large $N$.
# Simulation and exact sum are compared point by point in standard errors. With 80 points (4 coins,
# 20 distinct $N$) the largest $|z|$ of a correct sum exceeds 4.5 with probability at most $80\times2\Phi(-4.5) \approx 5\times10^{-4}$
# (Bonferroni), so that is the bound; the same rule, with the number of points compared, sets the
# bounds of the later simulation-versus-exact checks of this chapter.

# %%
# 80 (p, N) points: for a correct exact sum, P(max |z| > 4.5) ≤ 80 × 2Φ(−4.5) ≈ 5e-4 (Bonferroni). The fair
# coin at N = 1 has one KL value for both outcomes (standard error 0): the floor 1e-15 stands in for rounding.
z = max(np.max(np.abs(coin_sim[p] - coin_exact[p]) / np.maximum(coin_err[p], 1e-15)) for p in coin_p)
_ = cu.check_less("simulation vs exact sum, largest deviation over all (p, N) in standard errors", z, 4.5)
coin_fits = {}
for p in coin_p:
    window = N_coin * p * (1 - p) >= 10
    coin_fits[p] = cu.fit_power_law(N_coin[window], coin_sim[p][window])
    print(f"p = {p}: fitted exponent {coin_fits[p].alpha:.3f} ± {coin_fits[p].alpha_stderr:.3f} "
          f"over {window.sum()} values of N ≥ {N_coin[window][0]}")
_ = cu.check_close("fitted exponents of the four coins (theory: 1)", [coin_fits[p].alpha for p in coin_p],
                   np.ones(len(coin_p)), atol=0.05)
_ = cu.check_close("coefficient N·E KL at N = 10⁵, four coins (theory: 1/2)", N_coin[-1] * np.array(
        [coin_sim[p][-1] for p in coin_p]), np.full(len(coin_p), 0.5), rtol=0.02)
N_big = 10 ** 6
c2_exact = [(theory.expected_kl([p, 1 - p], N_big, beta_coin)[()] - 1 / (2 * N_big)) * N_big ** 2 for p in (0.5, 0.1)]
_ = cu.check_close("c₂ from the exact sum at N = 10⁶ vs the expansion (p = 0.5, 0.1)", c2_exact,
                   [theory.second_order_coefficient([p, 1 - p], beta_coin) for p in (0.5, 0.1)], rtol=0.01)
small = N_coin * coin_p[-1] <= 0.02   # the rare outcome is (almost) never seen
p_rare = np.array([coin_p[-1], 1 - coin_p[-1]])
kl_none_seen = theory.kl_divergence(p_rare, theory.add_beta_estimate(np.stack([0 * N_coin, N_coin], axis=1), beta_coin))
_ = cu.check_close("p = 0.001, Np ≤ 0.02: E KL vs the KL of the estimate with no rare outcome",
                   coin_sim[coin_p[-1]][small], kl_none_seen[small], rtol=0.05)

# %% [markdown]
# ## 4. Many categories: uniform and Zipfian truth
#
# **Uniform truth.** With $p_k = 1/K$, the boxed law {eq}`eq-counting-leading` predicts $N\,\mathbb E\,\mathrm{KL} \to (K-1)/2$.
# What happens for $N < K$, when most categories have not been seen? The add-β estimator starts
# from the uniform prior, which *is* the truth here, so the excess loss starts at zero and
# first grows. For $N \ll K$ almost every sample is a new category, each seen category gets
# $(1+\beta)/(N + K\beta)$ and each unseen one $\beta/(N + K\beta)$, so that
#
# $$
# \mathbb E\,\mathrm{KL} \approx \log\Bigl(1 + \frac{N}{K\beta}\Bigr) - \frac{\mathbb E[m]}{K}\log\Bigl(1 + \frac1\beta\Bigr),
# \qquad \mathbb E[m] = \sum_k\bigl[1 - (1-p_k)^N\bigr],
# $$ (eq-counting-few-seen)
#
# where $m$ is the number of categories seen (`theory.expected_seen`): in this regime the loss
# depends on how many categories were seen, not on how well they are estimated. We take KT
# smoothing and $K = 10, 100, 1000$.

# %%
beta_kt = 0.5
uni_K = (10, 100, 1000)
uni = {}
for K in uni_K:
    pv = np.full(K, 1 / K)
    N_sim = np.unique(np.geomspace(1, 1000 * K, 13).astype(int))
    kl = np.array([theory.kl_divergence(pv, theory.add_beta_estimate(sample_counts(pv, int(N), P.cat_draws, rng), beta_kt))
                   for N in N_sim])                                    # (N, draws)
    sim, sim_se = kl.mean(axis=1), kl.std(axis=1) / np.sqrt(P.cat_draws)
    N_line = np.unique(np.geomspace(1, 1000 * K, 120).astype(int))
    uni[K] = dict(N_sim=N_sim, sim=sim, sim_se=sim_se, N_line=N_line, exact=theory.expected_kl(pv, N_line, beta_kt),
                  small=np.log1p(N_line / (K * beta_kt)) - theory.expected_seen(pv, N_line) / K * np.log1p(1 / beta_kt))

# %% tags=["hide-input"]
fig, (ax0, ax) = cu.panels(2, panel_height=3.4)
for i, K in enumerate(uni_K):
    u = uni[K]
    ax0.plot(u["N_line"] / K, u["exact"], "-", color=C[i], label=f"exact sum, K = {K}")
    ax0.plot(u["N_sim"] / K, u["sim"], "o", mfc="none", color=C[i])
ax0.set_xscale("log")
ax0.set_yscale("log")
ax0.set_xlabel("samples per category N/K")
ax0.set_ylabel("excess log loss E KL (nats)")
ax0.legend(fontsize=8, title="markers: simulation", title_fontsize=8)
for i, K in enumerate(uni_K):
    u = uni[K]
    ax.plot(u["N_line"] / K, u["N_line"] * u["exact"] / ((K - 1) / 2), "-", color=C[i], label=f"exact sum, K = {K}")
    ax.plot(u["N_sim"] / K, u["N_sim"] * u["sim"] / ((K - 1) / 2), "o", mfc="none", color=C[i])
    few = u["N_line"] <= K / 3
    ax.plot(u["N_line"][few] / K, u["N_line"][few] * u["small"][few] / ((K - 1) / 2), ":", color=C[i], lw=2.5)
ax.axhline(1.0, color="k", ls="--", lw=1, label="asymptote (K−1)/(2N)")
ax.plot([], [], "k:", lw=2.5, label="few categories seen (formula above)")
ax.plot([], [], "ko", mfc="none", label="simulation")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("samples per category N/K")
ax.set_ylabel("N·E KL/((K−1)/2) (dimensionless)")
ax.legend(fontsize=7, loc="lower right")
plt.show()

# %%
uni_fits = {}
for K in uni_K:
    u = uni[K]
    w = u["N_sim"] >= 10 * K
    uni_fits[K] = cu.fit_power_law(u["N_sim"][w], u["sim"][w])
    print(f"K = {K}: fitted exponent for N ≥ 10K: {uni_fits[K].alpha:.3f} ± {uni_fits[K].alpha_stderr:.3f}")
_ = cu.check_close("uniform truth: fitted exponents for N ≥ 10K (theory: 1)", [uni_fits[K].alpha for K in uni_K],
                   np.ones(3), atol=0.03)
# the coefficient at N = 1000K: 1 up to c₂/N ≈ −K/(6N) < 2e-4 (§2), far below the statistical error of
# the simulation, so the check is in standard errors (3 values: P(max |z| > 4) ≤ 3 × 6.3e-5)
z_uni = [abs(uni[K]["sim"][-1] * uni[K]["N_sim"][-1] / ((K - 1) / 2) - 1)
         / (uni[K]["sim_se"][-1] * uni[K]["N_sim"][-1] / ((K - 1) / 2)) for K in uni_K]
print("uniform truth, N·E KL/((K−1)/2) at N = 1000K:\n    " + ", ".join(
    f"K = {K}: {uni[K]['N_sim'][-1] * uni[K]['sim'][-1] / ((K - 1) / 2):.4f} "
    f"± {uni[K]['N_sim'][-1] * uni[K]['sim_se'][-1] / ((K - 1) / 2):.4f}" for K in uni_K))
_ = cu.check_less("uniform truth: N·E KL/((K−1)/2) at N = 1000K vs 1, largest deviation in standard errors",
                  max(z_uni), 4.0)
i10 = [np.argmin(np.abs(uni[K]["N_line"] - K // 10)) for K in uni_K]
_ = cu.check_close("uniform truth: few-seen formula vs exact sum at N = K/10", [uni[K]["small"][i] for K, i in
                   zip(uni_K, i10)], [uni[K]["exact"][i] for K, i in zip(uni_K, i10)], rtol=0.05)

# %% [markdown]
# The curves for the three $K$ collapse when $N$ is measured in samples per category, and end
# on $(K-1)/(2N)$ once every category has been seen ten times or so. Below $N \approx K$ the
# loss *rises* with the data (left; on the right, $N\,\mathbb E\,\mathrm{KL}$ grows as $N^2$), as the
# few-seen formula {eq}`eq-counting-few-seen` (dotted, under the exact curves) says: each new category moves the
# estimate away from the (correct) uniform prior, by a factor $1 + 1/\beta$. A learning curve
# that rises before it falls is not a paradox here; it measures how far the prior was right.
#
# **Zipfian truth.** Real data are not uniform. Word frequencies, and the "skills" a language
# model must learn, follow something like **Zipf's law**, $p_k \propto k^{-(1+\alpha)}$, with a
# heavy tail of rare categories. Take $\alpha = 1$ and $K = 1000$: the rarest category has
# $p_K \approx 6\times10^{-7}$, so the $1/N$ regime of §2 starts only near $N \sim 10^7$. What
# happens before?
#
# In the intermediate regime $1 \ll N \ll 1/p_K$ the categories split in two. Those with
# $Np_k \gtrsim 1$ have been seen and are well estimated, at a cost of about $1/(2N)$ each. Those
# with $Np_k \lesssim 1$ have (mostly) not been seen; each costs its probability $p_k$ times a
# logarithm that depends on the smoothing. Counting with $p_k = A k^{-(1+\alpha)}$ (turning sums
# into integrals with $u = Np_k$):
#
# $$
# \mathbb E[m] \simeq \Gamma\Bigl(\frac{\alpha}{1+\alpha}\Bigr)(AN)^{\frac{1}{1+\alpha}},\qquad
# M(N) = \sum_k p_k(1-p_k)^N \simeq \frac{\Gamma\bigl(\frac{\alpha}{1+\alpha}\bigr)}{1+\alpha}\,A^{\frac{1}{1+\alpha}}\;N^{-\frac{\alpha}{1+\alpha}} ,
# $$ (eq-counting-missing-mass)
#
# where $M(N)$ is the **missing mass**, the probability that the next sample is a category never
# seen (Good–Turing's quantity {cite:p}`good1953population`). Both costs, $\mathbb E[m]/(2N)$ and
# (log)$\times M(N)$, scale as $N^{-\alpha/(1+\alpha)}$: in the intermediate regime the excess loss
# is a power law in $N$ **with exponent $\alpha/(1+\alpha) < 1$, set by the tail of the data**, as
# {cite:t}`hutter2021learning` found for a counting learner and {cite:t}`michaud2023quantization`
# for their "quanta". There is one condition: the smoothing must not itself cost more. With
# $\beta = 1/K$ (one pseudo-count in total) it does not. With $\beta = \tfrac12$ the estimator
# spreads $K/2$ pseudo-counts over categories it has never seen and pays about $\beta/N$ for each,
# the rare-outcome cost of §2, so its loss is $\approx cK/N$ and hides the tail.

# %%
K_z, alpha_z = 1000, 1.0
p_z = zipf_probabilities(K_z, 1 + alpha_z)
beta_z = 1 / K_z
N_z = np.unique(np.geomspace(10, 1e7, 13).astype(int))
zipf_counts = {int(N): sample_counts(p_z, int(N), P.zipf_draws, rng) for N in N_z}
zipf_kl = np.array([theory.kl_divergence(p_z, theory.add_beta_estimate(zipf_counts[int(N)], beta_z)) for N in N_z])
zipf_kl_kt = np.array([theory.kl_divergence(p_z, theory.add_beta_estimate(zipf_counts[int(N)], beta_kt)) for N in N_z])
zipf_sim, zipf_sim_kt = zipf_kl.mean(axis=1), zipf_kl_kt.mean(axis=1)
zipf_se = np.concatenate([zipf_kl.std(axis=1), zipf_kl_kt.std(axis=1)]) / np.sqrt(P.zipf_draws)
N_zl = np.unique(np.geomspace(10, 1e8, 60).astype(int))
zipf_exact = theory.expected_kl(p_z, N_zl, beta_z)
zipf_exact_kt = theory.expected_kl(p_z, N_zl, beta_kt)
M_z = theory.missing_mass(p_z, N_zl)

window_z = N_z <= 3000

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.2, 4.5))
fit_z = cu.plotting.loglog_fit(ax, N_z[window_z], zipf_sim[window_z], color=C[0], exponent_name="exponent",
                               label=f"simulation, β = 1/K (fitted for N ≤ {N_z[window_z][-1]})")
ax.plot(N_z[~window_z], zipf_sim[~window_z], "o", color=C[0], mfc="none")
ax.plot(N_zl, zipf_exact, "-", color=C[0], lw=1, label="exact sum, β = 1/K")
ax.plot(N_z, zipf_sim_kt, "s", color=C[1], mfc="none", label="simulation, β = 1/2")
ax.plot(N_zl, zipf_exact_kt, "-", color=C[1], lw=1, label="exact sum, β = 1/2")
ax.plot(N_zl[N_zl <= 2e6], M_z[N_zl <= 2e6], ":", color=C[2], lw=2, label="missing mass M(N)")
ref = zipf_exact[np.searchsorted(N_zl, 100)] * (N_zl / 100.0) ** (-alpha_z / (1 + alpha_z))
ax.plot(N_zl[N_zl <= 1e5], ref[N_zl <= 1e5], "-.", color="grey", label="theory: slope −α/(1+α) = −1/2")
ax.plot(N_zl[N_zl >= 1e4], (K_z - 1) / (2 * N_zl[N_zl >= 1e4]), "k--", label="asymptote (K−1)/(2N)")
ax.set_xlabel("number of samples N")
ax.set_ylabel("excess log loss E KL (nats)")
ax.set_ylim(2e-6, 10)
ax.set_title(f"Zipf's law p_k ∝ k^−(1+α), α = {alpha_z:g}, K = {K_z}")
ax.legend(fontsize=7)
plt.show()

# %%
# fit_z: the power law fitted in the figure's cell (cu.plotting.loglog_fit draws and returns it)
fit_M = cu.fit_power_law(N_zl[N_zl <= N_z[window_z][-1]], M_z[N_zl <= N_z[window_z][-1]])
print(f"Zipf, β = 1/K: fitted exponent {fit_z.alpha:.3f} ± {fit_z.alpha_stderr:.3f} "
      f"for 10 ≤ N ≤ {N_z[window_z][-1]}\n    "
      f"(missing mass: {fit_M.alpha:.3f}); theory α/(1+α) = {alpha_z / (1 + alpha_z):.3f}")
_ = cu.check_close("Zipf, β = 1/K: fitted exponent of the intermediate regime vs α/(1+α)", fit_z.alpha,
                   alpha_z / (1 + alpha_z), atol=0.03)
# simulation vs exact sum over six decades of E KL: every point in its own standard errors
# (26 points: P(max |z| > 4.5) ≤ 26 × 6.8e-6 for a correct exact sum)
z_zipf = np.abs(np.concatenate([zipf_sim, zipf_sim_kt])
                - np.concatenate([theory.expected_kl(p_z, N_z, beta_z), theory.expected_kl(p_z, N_z, beta_kt)])) / zipf_se
_ = cu.check_less("Zipf: simulation vs exact sum, β = 1/K and β = 1/2, largest deviation in standard errors",
                  z_zipf.max(), 4.5)
_ = cu.check_close("Zipf, β = 1/K: N·E KL/((K−1)/2) at N = 10⁸ (exact)",
                   N_zl[-1] * zipf_exact[-1] / ((K_z - 1) / 2),
                   1.0, rtol=0.05)

# %% [markdown]
# With one pseudo-count in total, the loss follows $N^{-1/2}$, the exponent $\alpha/(1+\alpha)$ of the
# missing mass, over three decades, then bends down (more steeply than $1/N$ for a while, as the
# last rare categories are found) onto $(K-1)/(2N)$ near $N\sim10^7$. The KT estimator on the same
# data has a quite different curve: its $K/2$ pseudo-counts cost $\approx \beta/N$ per unseen
# category, so it looks like a $1/N$ law with a smaller coefficient long before it is one. So
# the exponent one measures in the pre-asymptotic regime is a property of the data's tail *and*
# of the learner's prior; the asymptotic $1/N$ is universal but may lie beyond any affordable $N$.
# The missing mass, a learner that has not yet met a category (a "skill") and pays for it, is the
# seed of [the chapter on skills and quanta](03_skills_and_quanta.ipynb).
#
# **A power law, or a logarithm?** A tempting argument for a learning curve goes through the
# increment: each new sample improves the loss by an amount $\propto 1/N$ (a category first met at
# the $N$-th sample has $p \sim 1/N$, and learning it is worth about $p$ times a logarithm). But
# increments $\propto 1/N$ add up to $\sum 1/N \approx \ln N$: a loss that falls like
# $a - b\ln N$, not a power law. The argument leaves out how often a sample brings something new.
# The increment is the product of that chance, the missing mass $M(N)$ of {eq}`eq-counting-missing-mass`,
# and the worth of a discovery, $\propto 1/N$:
#
# $$
# \mathcal L(N) - \mathcal L(N+1) \approx c\,\frac{M(N)}{N} \propto N^{-1-\alpha/(1+\alpha)},
# $$ (eq-counting-increment)
#
# which sums to the power law $N^{-\alpha/(1+\alpha)}$. A $1/N$ increment needs a constant rate of
# discoveries, a tail that never thins out: that is the limit $\alpha \to 0$, where
# $N^{-\alpha/(1+\alpha)} \approx 1 - \frac{\alpha}{1+\alpha}\ln N$ and the power law does become the
# logarithm. With the chapter's numbers ($\alpha = 1$, $\beta = 1/K$, the exact sum at $N$ and $N + 1$):
# if increments were $\propto 1/N$, $N\,[\mathcal L(N) - \mathcal L(N+1)]$ would be constant.

# %%
N_inc = N_z[(N_z >= 30) & (N_z <= 3000)]
increment = theory.expected_kl(p_z, N_inc, beta_z) - theory.expected_kl(p_z, N_inc + 1, beta_z)   # exact, per sample
M_inc = theory.missing_mass(p_z, N_inc)
fit_inc = cu.fit_power_law(N_inc, N_inc * increment)
ratio_inc = N_inc * increment / M_inc
print(f"{'N':26s}" + "".join(f"{N:>9d}" for N in N_inc))
print(f"{'N·[L(N) − L(N+1)]':26s}" + "".join(f"{v:9.4f}" for v in N_inc * increment))
print(f"{'N·[L(N) − L(N+1)] / M(N)':26s}" + "".join(f"{v:9.3f}" for v in ratio_inc))
print(f"N·[L(N) − L(N+1)] ∝ N^-{fit_inc.alpha:.3f} ± {fit_inc.alpha_stderr:.3f} "
      f"(1/N increments: N^0; missing mass: N^-α/(1+α) = N^-{alpha_z / (1 + alpha_z):.2f})")
_ = cu.check_close("Zipf, β = 1/K: exponent of N × increment per sample vs α/(1+α) (not 0)", fit_inc.alpha,
                   alpha_z / (1 + alpha_z), atol=0.03)
# with 1/N increments the ratio would grow like 1/M(N), by (N_max/N_min)^(α/(1+α)) ≈ 5.7 over this window
_ = cu.check_less("Zipf, β = 1/K: N × increment / M(N), largest over smallest in the window", ratio_inc.max()
                  / ratio_inc.min(), 1.1)

# %% [markdown]
# $N$ times the increment is not constant: it falls with the exponent of the missing mass, and
# the ratio to $M(N)$ (the last row) stays within 10 % over the window (checked; with $1/N$ increments
# it would grow by a factor of about 6), as {eq}`eq-counting-increment` says. (The
# tolerance, 0.03, is the one used for the intermediate regime's exponent above: the window is
# only two decades into a pre-asymptotic regime.) Each discovery is worth $\propto 1/N$, but the
# discoveries themselves become rarer as a power of $N$; the power law of the learning curve is
# the power law of the discovery rate.
#
# ## 5. How big must the model be? Bits, parameters and a loss floor
#
# So far the learner stored every count exactly. A real model has a finite budget. Two ways
# to spend it:
#
# **Bits.** Store each $\log q_k$ with $b$ bits: round it to a grid of $2^b$ levels with spacing
# $\Delta = |\log q_{\min}|/(2^b - 1)$ (`theory.quantize_log_probabilities`). If the rounding errors
# $\delta_k$ are roughly uniform on $[-\Delta/2, \Delta/2]$ and unrelated to $p$, then after
# renormalisation $\mathrm{KL} = \log\mathbb E_p e^{\delta} - \mathbb E_p\delta \approx \tfrac12\mathrm{Var}_p\delta =
# \Delta^2/24$: a floor that falls like $4^{-b}$, *exponentially* in the bits. Adding it to the data
# term gives $\mathcal L(N, b) \approx \frac{K-1}{2N} + \frac{\Delta_b^2}{24}$, and the two are equal at
# $b^\star = \tfrac12\log_2 N + \text{const}$. This is the model-size argument: **a model of
# $|\theta|$ bits can count to $e^{O(|\theta|)}$**, while the data needed grow only polynomially, so
# precision is never the bottleneck for long: doubling the bits per category squares the
# number of samples the model can use.
#
# **Parameters.** Store only the $n$ most frequent categories (plus one "other" bucket whose
# probability is spread evenly over the remaining $K - n$). By the chain rule of the KL divergence
# the expected loss splits *exactly* into a data term (the add-β estimator on $n + 1$ categories)
# and a model term that does not depend on $N$,
#
# $$
# \mathbb E\,\mathcal L(N, n) = \underbrace{\mathbb E\,\mathrm{KL}_{n+1}(N)}_{\approx\, n/(2N)}
# + \underbrace{F(n)}_{\text{floor}}, \qquad
# F(n) = \sum_{k>n} p_k\log\frac{p_k(K-n)}{R_n},\quad R_n = \sum_{k > n}p_k
# $$ (eq-counting-top-n)
#
# (`theory.top_n_expected_kl`, `theory.top_n_floor`; {eq}`eq-counting-top-n`). For Zipf's law the tail mass is
# $R_n \propto n^{-\alpha}$ and $F(n) \approx R_n[\log(K/n) - 2]$ for $n \ll K$ and $\alpha = 1$: a power law in the
# number of parameters, up to a logarithm. The loss is **data-limited** where $n/(2N) > F(n)$ and
# **model-limited** where $F(n) > n/(2N)$; at fixed $N$ the best $n$ balances the two,
# $n^\star \propto N^{1/(1+\alpha)}$ (up to logarithms), which gives back $\mathcal L^\star \propto N^{-\alpha/(1+\alpha)}$:
# the same exponent as the missing mass of §4, now as a trade-off between model size and data,
# the shape of the compute-optimal frontier of {cite:t}`hoffmann2022training`
# ([How large a model for a given compute?](06_compute_optimal.ipynb) measures such a frontier on
# trained networks).
#
# **How big is "up to logarithms"?** Over a finite range of $N$ the logarithm changes the
# exponent one measures, and we can say by how much. Let $\alpha_F(n) = -d\ln F/d\ln n$ be the
# local exponent of the floor. At the best model size the loss is stationary in $n$:
# $1/(2N) = -F'(n^\star) = \alpha_F F/n^\star$, so the data term is $n^\star/(2N) = \alpha_F F$ and
# $\mathcal L^\star = (1 + \alpha_F)F$. Because the loss is stationary in $n$, moving along the valley
# changes it only through the explicit $N$ (the envelope theorem):
# $d\mathcal L^\star/d\ln N = -n^\star/(2N)$. Dividing,
#
# $$
# -\frac{d\ln\mathcal L^\star}{d\ln N} = \frac{\alpha_F(n^\star)}{1 + \alpha_F(n^\star)}, \qquad
# \alpha_F(n) = \alpha + \frac{1}{\ell(n)}, \quad \ell(n) = \ln\frac{\alpha K}{n} - 1 - \frac1\alpha \quad (n \ll K).
# $$ (eq-counting-local-exponent)
#
# (For $p_k = Ak^{-(1+\alpha)}$: $R_n \approx (A/\alpha)n^{-\alpha}$, and the mean of $\ln(k/n)$ over the tail is
# $1/\alpha$, which gives $F(n) \approx R_n\,\ell(n)$, hence $\alpha_F = \alpha - d\ln\ell/d\ln n = \alpha + 1/\ell$.)
# Without the logarithm $\alpha_F = \alpha$ and the exponent is $\alpha/(1+\alpha)$. With it the floor
# falls faster than $R_n$, and the more so the closer $n^\star$ comes to $K$: the optimal loss
# falls faster than $N^{-\alpha/(1+\alpha)}$, and its exponent drifts upward with $N$. A pure power
# law is reached only for $\ell \to \infty$, that is $K/n^\star \to \infty$.
#
# First the bits, with Zipf's law $p_k \propto 1/k$ on $K = 1000$ categories, $\log q_{\min} = -10$:

# %%
K_q = 1000
p_q = zipf_probabilities(K_q, 1.0)
log_min = -10.0
bits_all = np.arange(3, 13)
floor_exact = np.array([theory.kl_divergence(p_q, theory.quantize_log_probabilities(p_q, int(b), log_min)) for b in bits_all])
floor_theory = theory.quantization_floor(bits_all, log_min)
bits_sim = (4, 6, 8)
N_q = np.unique(np.geomspace(100, 1e6, 9).astype(int))
quant_sim = np.zeros((len(bits_sim), len(N_q)))
for j, N in enumerate(N_q):
    q_hat = theory.add_beta_estimate(sample_counts(p_q, int(N), P.quant_draws, rng), beta_kt)
    for i, b in enumerate(bits_sim):
        quant_sim[i, j] = theory.kl_divergence(p_q, theory.quantize_log_probabilities(q_hat, b, log_min)).mean()
data_term = theory.expected_kl(p_q, N_q, beta_kt)
slope_bits = np.polyfit(bits_all, np.log(floor_exact), 1)[0]             # fitted decay rate of the floor per bit

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
ax.plot(bits_all, floor_theory, "-", color=C[0], label="heuristic Δ²/24")
ax.plot(bits_all, floor_exact, "o", mfc="none", color=C[0], label="quantised truth (exact)")
ax.plot(bits_all, np.exp(np.polyval(np.polyfit(bits_all, np.log(floor_exact), 1), bits_all)), "--", color=C[0],
        label=f"fit: floor ∝ e^({slope_bits:.2f} b)")
ax.set_yscale("log")
ax.set_xlabel("bits per log-probability b")
ax.set_ylabel("loss floor KL (nats)")
ax.legend(fontsize=8)
ax = axes[1]
N_ql = np.unique(np.geomspace(100, 1e6, 40).astype(int))
data_line = theory.expected_kl(p_q, N_ql, beta_kt)
for i, b in enumerate(bits_sim):
    cu.plotting.theory_and_experiment(ax, N_ql, data_line + theory.quantization_floor(b, log_min), quant_sim[i],
                                      x_experiment=N_q, label=f"b = {b}:", color=C[i + 1])
ax.plot(N_ql, data_line, "k--", lw=1, label="unlimited precision")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlabel("number of samples N")
ax.set_ylabel("excess log loss E KL (nats)")
ax.legend(fontsize=7, loc="upper right")
plt.show()

# %%
print(f"quantisation floor: fitted e^({slope_bits:.3f} b), theory 4^(-b) = e^({-np.log(4):.3f} b)")
_ = cu.check_close("quantisation floor: decay rate per bit vs ln 4", -slope_bits, np.log(4), rtol=0.08)
_ = cu.check_less("quantised truth vs Δ²/24: largest factor between them (b = 3…12)",
                  np.max(np.maximum(floor_exact / floor_theory, floor_theory / floor_exact)), 1.5)
rel = np.abs(quant_sim / (data_term[None, :] + theory.quantization_floor(np.array(bits_sim), log_min)[:, None]) - 1)
_ = cu.check_less("L(N, b) vs data term + Δ²/24, largest relative deviation", rel.max(), 0.25)

# %% [markdown]
# The floor falls by a factor close to 4 per bit, and Δ²/24 describes it to within a factor of
# order one (how the $\log p_k$ happen to fall on the grid). At fixed $b$ the loss follows the
# data law until it hits the floor: with 8 bits per number this model is data-limited up to
# $N \approx 10^6$; each two extra bits buy a factor 16 in usable data. Now the parameters:
# the top-$n$ model on the Zipfian task of §4 ($\alpha = 1$, $K = 1000$, KT smoothing), the whole
# surface $\mathbb E\,\mathcal L(N, n)$ exactly, and simulations of three model sizes on the data
# drawn for §4.

# %%
ns_sim = (10, 100, K_z)
ns = np.unique(np.concatenate([np.geomspace(1, K_z, 24).astype(int), ns_sim]))
N_s = np.unique(np.geomspace(10, 1e7, 25).astype(int))
surface = np.array([theory.top_n_expected_kl(p_z, N_s, int(n), beta_kt) for n in ns])   # (n, N)
floors = np.array([theory.top_n_floor(p_z, int(n)) for n in ns])
best = surface.argmin(axis=0)
L_star, n_star = surface.min(axis=0), ns[best]
additive = (ns[:, None] / (2 * N_s[None, :]) + floors[:, None]).min(axis=0)   # heuristic n/(2N) + F(n)
topn_sim, topn_se = {}, {}
for n in ns_sim:
    vals = []
    for N in N_z:
        c = zipf_counts[int(N)]
        coarse = c if n >= K_z - 1 else np.concatenate([c[:, :n], c[:, n:].sum(1, keepdims=True)], axis=1)
        pc = p_z if n >= K_z - 1 else np.concatenate([p_z[:n], [p_z[n:].sum()]])
        kl = theory.kl_divergence(pc, theory.add_beta_estimate(coarse, beta_kt))
        vals.append((kl.mean() + theory.top_n_floor(p_z, n), kl.std() / np.sqrt(kl.size)))
    topn_sim[n], topn_se[n] = np.array(vals).T

# %% tags=["hide-input"]
fig, axes = cu.panels(2, ncols=1, width=6.6, panel_height=3.3)
ax = axes[0]
im = ax.pcolormesh(N_s, ns, np.log10(surface), shading="nearest", cmap="viridis")
plt.colorbar(im, ax=ax, label="log₁₀ E L(N, n)  (nats)")
ax.contour(N_s, ns, np.log10(surface), levels=np.arange(-4, 1, 0.5), colors="w", linewidths=0.6)
ax.plot(N_s, n_star, "o-", color=C[1], ms=3, label="best model size n*(N)")
boundary = ns / (2 * floors[:len(ns)].clip(1e-300))
ax.plot(boundary[:-1], ns[:-1], "--", color="w", label="n/(2N) = F(n): data- ↔ model-limited")
ax.set_xscale("log")
ax.set_yscale("log")
ax.set_xlim(N_s[0], N_s[-1])
ax.set_xlabel("number of samples N")
ax.set_ylabel("stored categories n (parameters)")
ax.text(2e1, 300, "data-limited", color="w")
ax.text(1e5, 2, "model-limited", color="w")
ax.legend(fontsize=7, loc="lower right")
ax.grid(False)
ax = axes[1]
for i, n in enumerate(ns_sim):
    cu.plotting.theory_and_experiment(ax, N_s, surface[list(ns).index(n)], topn_sim[n], x_experiment=N_z,
                                      label=f"n = {n}:", color=C[i])
fit_star = cu.plotting.loglog_fit(ax, N_s[(N_s >= 100) & (N_s <= 1e5)], L_star[(N_s >= 100) & (N_s <= 1e5)],
                                  color=C[3], marker="x", exponent_name="exponent", label="best n at each N (exact)")
ax.plot(N_s, additive, ":", color=C[3], lw=2, label="min over n of n/(2N) + F(n)")
ax.set_xlabel("number of samples N")
ax.set_ylabel("excess log loss E L (nats)")
ax.legend(fontsize=7)
plt.show()

# %%
few_n = (ns >= 5) & (ns <= 100)
R_n = np.array([p_z[n:].sum() for n in ns[few_n]])
fit_R = cu.fit_power_law(ns[few_n], R_n)
print(f"tail mass R_n ∝ n^-{fit_R.alpha:.3f} (theory α = {alpha_z})")
# every point in its own standard errors (39 points over six decades: P(max |z| > 4.5) ≤ 39 × 6.8e-6)
z_topn = np.abs(np.concatenate([topn_sim[n] for n in ns_sim])
                - np.concatenate([theory.top_n_expected_kl(p_z, N_z, n, beta_kt) for n in ns_sim])) / np.concatenate(
                    [topn_se[n] for n in ns_sim])
_ = cu.check_less("top-n model: simulation vs exact chain-rule formula (n = 10, 100, K), largest deviation in "
                  "standard errors", z_topn.max(), 4.5)
_ = cu.check_close("tail mass exponent (5 ≤ n ≤ 100) vs α", fit_R.alpha, alpha_z, atol=0.05)

# %% [markdown]
# Now the exponent of the valley against {eq}`eq-counting-local-exponent`. The floor's local
# exponent $\alpha_F(n)$ is taken from the exact floor $F(n)$ at every integer $n$ (finite
# differences of $\ln F$ against $\ln n$; the $n \ll K$ formula $\alpha + 1/\ell$ is printed beside it),
# $n^\star(N)$ minimises $n/(2N) + F(n)$ over every integer $n$, and the predicted local exponent
# $\alpha_F/(1+\alpha_F)$ is turned into a predicted fitted exponent by fitting, over the same
# window and the same $N$, the curve $n^\star/(2N) + F(n^\star)$ whose local exponents these are (the
# envelope theorem). Neither curve is a straight line on log–log axes, so each fit has a
# standard error, which measures its curvature over the window; the check allows four of them
# (combined).

# %%
# fit_star: the power law fitted to L*(N) in the figure's cell above (cu.plotting.loglog_fit)
n_all = np.arange(1, K_z - 1)                                      # F(K − 1) = 0 (nothing left to spread)
F_all = np.array([theory.top_n_floor(p_z, int(n)) for n in n_all])
alpha_F = -np.gradient(np.log(F_all), np.log(n_all))               # local exponent of the exact floor
window_s = (N_s >= 100) & (N_s <= 1e5)
N_w = N_s[window_s]
heuristic = n_all[:, None] / (2 * N_w[None, :]) + F_all[:, None]   # n/(2N) + F(n), every integer n
n_opt = n_all[heuristic.argmin(axis=0)]
fit_lc = cu.fit_power_law(N_w, heuristic.min(axis=0))
ell = np.log(alpha_z * K_z / n_opt) - 1 - 1 / alpha_z               # the n ≪ K logarithm ℓ(n*)
data_exact = np.array([theory.expected_kl(np.r_[p_z[:n], p_z[n:].sum()], int(N), beta_kt)[()]
                       for n, N in zip(n_opt, N_w)])                # exact data term at n*
print("     N |  n* | α_F(n*) | α + 1/ℓ | predicted −dlnL*/dlnN | N p_n* | 2N E KL_(n*+1) / n*")
for N, n, aF, l, dt in zip(N_w, n_opt, alpha_F[n_opt - 1], ell, data_exact):
    print(f"{N:6d} | {n:3d} | {aF:7.3f} | {f'{alpha_z + 1 / l:7.3f}' if l > 0.5 else '   —   '} | "
          f"{aF / (1 + aF):21.3f} | {N * p_z[n - 1]:6.3f} | {2 * N * dt / n:.3f}")
print(f"fitted exponent of L*(N), 10² ≤ N ≤ 10⁵: exact {fit_star.alpha:.3f} ± {fit_star.alpha_stderr:.3f};\n    "
      f"log-corrected prediction {fit_lc.alpha:.3f} ± {fit_lc.alpha_stderr:.3f}; log-free α/(1+α) = "
      f"{alpha_z / (1 + alpha_z):.3f}")
tol_lc = 4 * np.hypot(fit_star.alpha_stderr, fit_lc.alpha_stderr)
_ = cu.check_close("exponent of L*(N): exact vs the log-corrected prediction α_F/(1+α_F) (4 fit standard errors)",
                   fit_star.alpha, fit_lc.alpha, atol=tol_lc)
_ = cu.check_less("exponent of L*(N) above the log-free α/(1+α), in fit standard errors (> 4)", 4.0,
                  (fit_star.alpha - alpha_z / (1 + alpha_z)) / fit_star.alpha_stderr)

# %% [markdown]
# The surface has the two regions of the argument: at small $N$ (left) the loss depends only on
# $N$ and a bigger model does not help; at large $N$ (bottom right) it depends only on $n$ and more
# data does not help. Along the valley $n^\star(N)$ the optimal loss falls faster than the
# log-free $N^{-\alpha/(1+\alpha)} = N^{-1/2}$ (the check above puts the fitted exponent many standard
# errors above 1/2), and the log-corrected exponent {eq}`eq-counting-local-exponent` accounts for
# most of the difference: the floor's local exponent $\alpha_F$ grows from about 1.4 to about 2.8
# across the window as $n^\star$ approaches $K$ and the logarithm $\ell(n^\star)$ shrinks, so the
# local exponent of $\mathcal L^\star$ grows from below 0.6 to above 0.7. The $n \ll K$ formula
# $\alpha + 1/\ell$ has the right size only at the start of the window (the table; "—" where
# $\ell < 1/2$); beyond, $n^\star$ is no longer small compared with $K = 1000$, and only the exact
# floor will do.
#
# What is left, the exact exponent a little below the prediction, is a finite-$N$ effect of the
# data term. At the optimum the rarest stored categories have been seen *less than once*:
# stationarity, $1/(2N) = -F'(n^\star) \approx p_{n^\star}(\ell + 1/\alpha)$, gives
# $N p_{n^\star} \approx 1/(2\ell + 2/\alpha)$, below one (the column $N p_{n^\star}$). There add-½ pays less than $1/(2N)$ per category (the dip of the
# crossover function of §3), so the exact data term is below $n/(2N)$ (last column) and falls
# more slowly than $1/N$, which flattens the exact valley a little.
#
# **Which steps are heuristic.** Exact here: the learning curves of the counting estimators
# (the binomial sums), the chain-rule split of the top-$n$ loss, the missing mass. Heuristic:
# (i) treating a network's parameters as stored counts or probabilities, a budget of $n$
# categories or $b$ bits (a network shares parameters between categories and stores nothing in
# this form); (ii) the uniform rounding errors behind $\Delta^2/24$ (off by a factor up to 1.4
# here) and adding the floor to the data term; (iii) Zipf's law itself, an assumption about data,
# which is where the exponent comes from; (iv) the step from "the model *can* store $n$
# categories" to "training *finds* the $n$ most frequent ones": that is where optimisation enters,
# and the next section checks it for the one model where it is exact.
#
# ## 6. A softmax model trained by gradient descent
#
# Replace counting by learning. The model is a vector of logits $\theta\in\mathbb R^K$,
# $q = \mathrm{softmax}(\theta)$: the maximum-entropy family for one categorical variable, and the
# last layer of every language model. Its training loss on the $N$ samples is the cross-entropy
# $-\frac1N\sum_{\mu}\log q_{x_\mu} = -\sum_k \hat p_k\log q_k$ with $\hat p_k = n_k/N$, with gradient
# $\partial_\theta = q - \hat p$. Without regularisation the minimum is $q = \hat p$, which is infinite
# loss for any unseen category. Two regularisers:
#
# - **Label smoothing / a uniform-target term.** Adding $-\frac{\beta}{N}\sum_k\log q_k$ (the
#   cross-entropy with $K\beta$ extra samples spread evenly) turns the loss into
#   $-\frac1N\sum_k(n_k + \beta)\log q_k$, whose minimum over the simplex is *exactly* the add-β
#   estimate: label smoothing with weight $\epsilon = K\beta/(N + K\beta)$ is the Dirichlet prior.
# - **Weight decay** $\frac\lambda2\|\theta\|^2$, a Gaussian prior on the logits. At the minimum
#   $q_k = \hat p_k - \lambda\theta_k$: a seen category moves by $O(\lambda/p_k)$ in log-probability
#   (an $O(\lambda^2)$ change of the loss), and an unseen one keeps $q_k = \lambda|\theta_k| \approx \lambda\log(1/\lambda)$.
#   With $\lambda \propto 1/N$ this is add-β up to a logarithm, and the $1/N$ law should survive.
#
# We train $10\times1600$ such models at once, one row of a tensor per data set (Zipf's law
# $p_k\propto 1/k$ on $K = 10$ categories, $N$ from 30 to 30 000), by full-batch gradient descent
# from $\theta = 0$ (the uniform prediction) with learning rate 1.9 for 6000 steps, once with
# label smoothing ($\beta = \tfrac12$) and once with weight decay $\lambda = 1/N$. The Hessian of the
# loss in $\theta$ is $\mathrm{diag}(q) - qq^\top$, whose eigenvalues lie below $\max_k q_k < 1$, so any
# rate below 2 is stable; but a category of probability $q_k$ is learned on a time of order
# $1/(\eta q_k)$, so the rarest (unseen) categories take longest, which is why we need thousands
# of steps. The slowest data sets are the rare ones in which the least frequent category
# ($p_{10} \approx 0.034$) was never seen at $N = 300$ (chance $0.966^{300} \approx 3\times10^{-5}$ each, so
# about one run in twenty of our 1600 data sets per $N$ contains one): their target is
# $q_{10} = \beta/(N + K\beta) \approx 0.0016$, and 3000 steps leave it a relative error of a few $10^{-5}$
# (seen at one of the seeds 1–5), 6000 steps below $10^{-7}$. (Time to learn a rare category:
# another road to the skills chapter.)

# %%
K_s = 10
p_s = zipf_probabilities(K_s, 1.0)
N_sm = np.unique(np.geomspace(30, 30_000, 10).astype(int))
counts_s = np.concatenate([sample_counts(p_s, int(N), P.softmax_draws, rng) for N in N_sm])
N_row = torch.tensor(np.repeat(N_sm, P.softmax_draws), dtype=torch.float64)[:, None]
p_hat = torch.tensor(counts_s) / N_row


def train_softmax(target, weight_decay, lr=1.9, steps=P.softmax_steps):
    """Full-batch gradient descent on −Σ_k target_k log softmax(θ)_k + (weight_decay/2)|θ|², one row per model."""
    theta = torch.zeros_like(target)
    for _ in range(steps):
        theta -= lr * (torch.softmax(theta, dim=1) - target + weight_decay * theta)
    return torch.softmax(theta, dim=1).numpy()


q_smooth = train_softmax((torch.tensor(counts_s) + beta_kt) / (N_row + K_s * beta_kt), 0.0)
q_decay = train_softmax(p_hat, 1.0 / N_row)
kl_smooth = theory.kl_divergence(p_s, q_smooth).reshape(len(N_sm), -1)
kl_decay = theory.kl_divergence(p_s, q_decay).reshape(len(N_sm), -1)
gap = np.max(np.abs(q_smooth / theory.add_beta_estimate(counts_s, beta_kt) - 1))
late = N_sm >= 300   # every category expected ≥ 10 times

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4.2))
N_sl = np.geomspace(30, 30_000, 80)
ax.plot(N_sl, theory.expected_kl(p_s, N_sl.astype(int), beta_kt), "-", color=C[0], label="exact add-½ learning curve")
ax.plot(N_sl, (K_s - 1) / (2 * N_sl), "k--", lw=1, label="asymptote (K−1)/(2N)")
ax.errorbar(N_sm, kl_smooth.mean(1), kl_smooth.std(1) / np.sqrt(P.softmax_draws), fmt="s", mfc="none", color=C[0],
            label="softmax + label smoothing β = ½")
fit_sm = cu.plotting.loglog_fit(ax, N_sm[late], kl_decay.mean(1)[late], color=C[1], exponent_name="exponent",
                                label="softmax + weight decay λ = 1/N (fit for N ≥ 300)")
ax.plot(N_sm[~late], kl_decay.mean(1)[~late], "o", color=C[1], mfc="none")
ax.set_xlabel("number of samples N")
ax.set_ylabel("excess log loss E KL (nats)")
ax.legend(fontsize=8)
plt.show()

# %%
# fit_sm: the power law fitted in the figure's cell (cu.plotting.loglog_fit draws and returns it)
print(f"weight decay: fitted exponent {fit_sm.alpha:.3f} ± {fit_sm.alpha_stderr:.3f} for N ≥ 300; "
      f"N·E KL/((K−1)/2) at N = {N_sm[-1]}: {N_sm[-1] * kl_decay[-1].mean() / ((K_s - 1) / 2):.3f}")
_ = cu.check_less("trained softmax with label smoothing = add-β estimate (largest relative difference)", gap, 1e-6,
                  verbose=False)
print("✓ trained softmax with label smoothing = add-β estimate: largest relative difference < 1e-6")
z_sm = np.abs(kl_smooth.mean(1) - theory.expected_kl(p_s, N_sm, beta_kt)) / (kl_smooth.std(1) / np.sqrt(P.softmax_draws))
_ = cu.check_less("softmax with label smoothing vs the exact add-½ curve, largest deviation in standard errors",
                  z_sm.max(), 4.0)
_ = cu.check_close("softmax with weight decay: fitted exponent (N ≥ 300) vs 1", fit_sm.alpha, 1.0, atol=0.05)
# rtol 0.05: 2N·KL is about χ² with K − 1 degrees of freedom, relative spread √(2/(K−1)) ≈ 0.47 per data set,
# so the mean over 1600 data sets has a relative standard error ≈ 1.2 % (printed): 0.05 is 4 standard errors
print(f"weight decay, N·E KL/((K−1)/2) at N = {N_sm[-1]}: relative standard error "
      f"{kl_decay[-1].std() / np.sqrt(kl_decay.shape[1]) / kl_decay[-1].mean():.3f}")
_ = cu.check_close("softmax with weight decay: N·E KL at the largest N vs (K−1)/2", N_sm[-1] * kl_decay[-1].mean(),
                   (K_s - 1) / 2, rtol=0.05)

# %% [markdown]
# With label smoothing, gradient descent lands on the add-½ estimate to rounding, so its
# learning curve *is* the exact curve of §2. With weight decay $\lambda = 1/N$ it is a slightly
# different estimator: it shrinks every logit towards the uniform prediction, not only the
# unseen ones, and gives an unseen category $\approx\lambda\log(1/\lambda)$ instead of $\beta/N$. At small
# $N$ that changes the loss (here it is a little lower than add-½); at large $N$ it changes
# nothing: the same $1/N$ law, with the same coefficient $(K-1)/2$. Regularisation sets the
# prefactor of the pre-asymptotic regime; the exponent and the asymptotic coefficient belong to
# the statistics of counting.
# (Early stopping acts the same way: gradient descent from $\theta = 0$ moves from the uniform
# prediction towards $\hat p$, and stopping early keeps the rare categories near the prior.)
#
# **Stochastic gradient descent, one sample at a time.** Full-batch descent uses all $N$ samples
# at every step. A language model instead sees each token about once. So train the same softmax
# model *online*: one pass over the samples, one sample per step, no regulariser,
#
# $$
# \theta_{t} = \theta_{t-1} - \eta_t\bigl(q(\theta_{t-1}) - e_{x_t}\bigr),\qquad \eta_t = 2\,t^{-1/2},
# \qquad \bar\theta_N = \frac1N\sum_{t=1}^N\theta_t ,
# $$
#
# and predict with the running average $\bar\theta_N$ of the iterates (Polyak–Ruppert averaging).
# After $N$ steps the model has seen exactly $N$ samples, so one run gives the whole learning
# curve. The theory: averaged SGD is asymptotically *efficient* {cite:p}`polyak1992acceleration`:
# $\sqrt N(\bar\theta_N - \theta^\star)$ becomes Gaussian with covariance $H^{-1}\Sigma H^{-1}$, where $H$ is the
# Hessian of the loss and $\Sigma$ the covariance of one sample's gradient. For the log loss of a
# correct model both are the Fisher information, $H = \Sigma = \mathrm{diag}(p) - pp^\top$, so the
# covariance is $H^{-1}/N$ (on the $K-1$ directions that change $q$) and
# $\mathbb E\,\mathrm{KL} \approx \tfrac12\mathrm{tr}(H\cdot H^{-1})/N = (K-1)/(2N)$: the same law as counting, with the
# same coefficient. (The finite number of steps is the regulariser: no logit can run off to
# $-\infty$ in finite time.)

# %%
sgd_draws = P.softmax_draws
theta = torch.zeros(sgd_draws, K_s)
theta_avg = torch.zeros(sgd_draws, K_s)
rows = torch.arange(sgd_draws)
kl_sgd, chunk = [], 1000
for start in range(0, N_sm[-1], chunk):
    x = torch.tensor(sample_labels(p_s, chunk, sgd_draws, rng))   # the next 1000 samples of every data set
    for i in range(chunk):
        t = start + i + 1
        grad = torch.softmax(theta, dim=1)
        grad[rows, x[:, i]] -= 1.0                                 # ∇_θ of −log q_x for one sample
        theta -= 2.0 * t ** -0.5 * grad
        theta_avg += (theta - theta_avg) / t
        if t in N_sm:
            kl_sgd.append(theory.kl_divergence(p_s, torch.softmax(theta_avg, dim=1).numpy()))
kl_sgd = np.array(kl_sgd)                                          # (len(N_sm), draws)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(N_sl, N_sl * theory.expected_kl(p_s, N_sl.astype(int), beta_kt) / ((K_s - 1) / 2), "-", color=C[0],
        label="exact add-½ (= full-batch GD + label smoothing)")
for kl, name, color, marker in ((kl_smooth, "full-batch GD + label smoothing", C[0], "s"),
                                (kl_decay, "full-batch GD + weight decay 1/N", C[1], "o"),
                                (kl_sgd, "online SGD, one pass, averaged", C[2], "^")):
    ax.errorbar(N_sm, N_sm * kl.mean(1) / ((K_s - 1) / 2), N_sm * kl.std(1) / np.sqrt(kl.shape[1]) / ((K_s - 1) / 2),
                fmt=marker, mfc="none", color=color, label=name)
ax.axhline(1.0, color="k", ls="--", lw=1, label="asymptote (K−1)/(2N)")
ax.set_xscale("log")
ax.set_xlabel("number of samples N")
ax.set_ylabel("N · E KL / ((K−1)/2)  (dimensionless)")
ax.legend(fontsize=8)
plt.show()

# %%
fit_sgd = cu.fit_power_law(N_sm[late], kl_sgd.mean(1)[late])
print(f"online SGD: fitted exponent {fit_sgd.alpha:.3f} ± {fit_sgd.alpha_stderr:.3f} for N ≥ 300; "
      f"N·E KL/((K−1)/2) at N = {N_sm[-1]}: {N_sm[-1] * kl_sgd[-1].mean() / ((K_s - 1) / 2):.3f}")
_ = cu.check_close("online SGD with averaging: fitted exponent (N ≥ 300) vs 1", fit_sgd.alpha, 1.0, atol=0.05)
_ = cu.check_close("online SGD with averaging: N·E KL at the largest N vs (K−1)/2", N_sm[-1] * kl_sgd[-1].mean(),
                   (K_s - 1) / 2, rtol=0.1)

# %% [markdown]
# One pass of plain SGD, each sample used once, learns at the rate of counting: its excess loss
# is within about 10 % of $(K-1)/(2N)$ from $N \approx 300$ on, approaching it from above as the
# memory of the early, large steps fades. Below $N\approx300$ it does better than $(K-1)/(2N)$, like
# the other learners, because the start $\theta = 0$ (uniform) acts as a prior.
#
# ## 7. What it means
#
# - A learner that estimates $K - 1$ probabilities from $N$ samples has excess log loss
#   $(K-1)/(2N)$: a power law with exponent 1 and a coefficient that counts parameters. It is
#   universal (independent of $p$ and of the smoothing) but asymptotic: it starts only once the
#   *rarest* category has been seen a few times, $Np_{\min}(1-p_{\min}) \gg 1$.
# - Before that, the learning curve depends on the tail of the data and on the prior. For a
#   Zipfian tail $p_k\propto k^{-(1+\alpha)}$ it is a power law with the smaller exponent
#   $\alpha/(1+\alpha)$, set by the missing mass: the exponents seen in practice, well below 1,
#   are those of a learner that has not yet met most of what there is to learn.
# - A finite model adds a floor: exponentially small in the bits of precision, but only
#   power-law small in the number of things it can store when the data are Zipfian. The loss
#   surface splits into a data-limited and a model-limited region, and balancing them gives
#   $n^\star\propto N^{1/(1+\alpha)}$ and the same exponent $\alpha/(1+\alpha)$ again, up to a logarithm
#   that, over any finite range of $N$, steepens the measured exponent to $\alpha_F/(1+\alpha_F)$
#   with $\alpha_F = \alpha + 1/\ell > \alpha$ ({eq}`eq-counting-local-exponent`).
# - A power law, not a logarithm: each discovery is worth $\propto 1/N$, but discoveries come at
#   the rate $M(N) \propto N^{-\alpha/(1+\alpha)}$; $1/N$ increments alone would sum to $\ln N$.
# - A softmax model trained by gradient descent with label smoothing *is* the counting
#   estimator; with weight decay, and with one pass of averaged SGD, it follows the same law with
#   the same coefficient. The next chapters ask when a network
#   behaves like a counter of this kind: [variance- and resolution-limited scaling](02_variance_and_resolution.ipynb)
#   {cite:p}`bahri2024explaining`, and [skills and quanta](03_skills_and_quanta.ipynb).
#
# ## Exercises
#
# :::{exercise} The exact learning curve of a coin
# :label: ex-counting-coin
#
# Write `coin_kl(p, N, beta)`, the exact expected $\mathrm{KL}(p\,\|\,q)$ of the add-β estimate of a
# Bernoulli($p$) variable from $N$ samples, by summing over $n = 0,\dots,N$ with the binomial
# probabilities (use `scipy.stats.binom.pmf`), without `theory.expected_kl`. Check it with
# `exercises.check_bernoulli_expected_kl(coin_kl)`, then verify numerically that
# $N^2\bigl(\mathbb E\,\mathrm{KL} - \frac1{2N}\bigr) \to \frac1{24p(1-p)} - \frac5{12}$ for $\beta = \frac12$.
# :::
#
# :::{solution-start} ex-counting-coin
# :class: dropdown
# :::
#
# With $q_1 = (n + \beta)/(N + 2\beta)$ for an outcome seen $n$ times, sum the KL of each possible
# data set weighted by its binomial probability:

# %%
from scipy.stats import binom


def coin_kl(p, N, beta):
    n = np.arange(N + 1)
    q = (n + beta) / (N + 2 * beta)
    kl = p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))
    return float(binom.pmf(n, N, p) @ kl)


exercises.check_bernoulli_expected_kl(coin_kl)
for p in (0.5, 0.2):
    N = 20_000
    print(f"p = {p}: N²(E KL − 1/2N) = {N ** 2 * (coin_kl(p, N, 0.5) - 1 / (2 * N)):.3f}, "
          f"theory {1 / (24 * p * (1 - p)) - 5 / 12:.3f}")

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} The missing mass of Zipf's law
# :label: ex-counting-missing-mass
#
# For $p_k = k^{-(1+\alpha)}/\zeta(1+\alpha)$ on infinitely many categories, show that the missing
# mass $M(N) = \sum_k p_k(1-p_k)^N$ behaves as $A_M N^{-\alpha/(1+\alpha)}$ at large $N$, and find
# $A_M$. Check your prefactor for $\alpha = 1$ with `exercises.check_missing_mass_prefactor(A_M, alpha=1.0)`
# and compare with `theory.missing_mass` on a long truncated Zipf law.
# :::
#
# :::{solution-start} ex-counting-missing-mass
# :class: dropdown
# :::
#
# Replace $(1-p)^N$ by $e^{-Np}$ and the sum by an integral over $k$, substituting $u = NAk^{-(1+\alpha)}$
# with $A = 1/\zeta(1+\alpha)$: $dk = -\frac{1}{1+\alpha}(NA)^{1/(1+\alpha)}u^{-1/(1+\alpha)-1}du$ and $p_k = u/N$, so
# $M = \frac{(NA)^{1/(1+\alpha)}}{(1+\alpha)N}\int_0^\infty u^{-1/(1+\alpha)}e^{-u}du = \frac{A^{1/(1+\alpha)}}{1+\alpha}\Gamma\bigl(\frac{\alpha}{1+\alpha}\bigr)N^{-\alpha/(1+\alpha)}$.

# %%
from scipy.special import gamma, zeta

alpha = 1.0
A_M = zeta(1 + alpha) ** (-1 / (1 + alpha)) * gamma(alpha / (1 + alpha)) / (1 + alpha)
exercises.check_missing_mass_prefactor(A_M, alpha=alpha)
p_long = zipf_probabilities(1_000_000, 1 + alpha)
for N in (100, 10_000):
    print(f"N = {N}: M(N) = {theory.missing_mass(p_long, N)[()]:.5f}, A_M N^(-1/2) = {A_M * N ** -0.5:.5f}")

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Which label smoothing is add-β?
# :label: ex-counting-smoothing
#
# Label smoothing trains on the targets $(1-\epsilon)\hat p_k + \epsilon/K$. Show that the minimiser of
# the smoothed cross-entropy over softmax models is the add-β estimate when
# $\epsilon = K\beta/(N + K\beta)$. If $\epsilon$ is kept fixed while $N$ grows, what happens to the
# learning curve at large $N$?
# :::
#
# :::{solution} ex-counting-smoothing
# :class: dropdown
#
# The cross-entropy $-\sum_k t_k\log q_k$ is minimised by $q = t$. With $\epsilon = K\beta/(N+K\beta)$,
# $t_k = \frac{N}{N+K\beta}\frac{n_k}{N} + \frac{K\beta}{N+K\beta}\frac1K = \frac{n_k+\beta}{N+K\beta}$. A fixed $\epsilon$
# corresponds to $\beta = \epsilon N/(K(1-\epsilon))$ growing with $N$: the estimate tends to
# $(1-\epsilon)p + \epsilon/K \ne p$, and the excess loss tends to the floor
# $\mathrm{KL}\bigl(p\,\|\,(1-\epsilon)p + \epsilon/K\bigr) > 0$ instead of falling as $1/N$. A regulariser
# that does not shrink with $N$ is a model-size limit in disguise.
# :::
#
# ## Summary
#
# - The excess log loss of counting is $\mathbb E\,\mathrm{KL} = (K-1)/(2N) + c_2/N^2 + \dots$; the exact
#   binomial sum, the expansion (with $c_2$ derived here) and simulations agree (§3: fitted
#   exponents $\approx 1$, coefficient $\tfrac12$ per parameter).
# - The $1/N$ law starts when the rarest category has been seen a few times
#   ($Np(1-p)\gg 1$); before, the coefficient is the prior's $\beta$ (a data collapse in $Np(1-p)$).
# - Zipfian data give an intermediate regime with exponent $\alpha/(1+\alpha)$, the exponent of the
#   missing mass, provided the smoothing does not cost more than the tail.
# - A budget of $b$ bits gives a floor $\approx\Delta^2/24 \propto 4^{-b}$; a budget of $n$ stored
#   categories a floor $\approx R_n\log(K/n)$ with $R_n\propto n^{-\alpha}$; the loss surface has a
#   data-limited and a model-limited region, with $n^\star \propto N^{1/(1+\alpha)}$ up to logarithms,
#   which make the optimal loss fall measurably faster than $N^{-\alpha/(1+\alpha)}$ (§5).
# - A softmax model trained by gradient descent with label smoothing is the add-β estimator; with
#   weight decay $\propto 1/N$, or by one pass of SGD with iterate averaging, it follows the same
#   $(K-1)/(2N)$ law (fitted exponents within 0.03 of 1).
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
