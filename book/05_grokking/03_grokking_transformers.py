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
# # Grokking III: transformers and the clock
#
# Grokking was discovered in small transformers trained on modular arithmetic
# {cite:p}`power2022grokking`: the training accuracy reaches 100 % within a few dozen steps, the
# validation accuracy follows hundreds of steps later. {cite:t}`nanda2023progress` opened such a
# transformer and found an algorithm written in Fourier modes — it adds numbers by rotating a clock
# — and **progress measures** that move smoothly during the long plateau in which the accuracies
# seem to do nothing. This chapter trains a batch of one-layer transformers on $a + b \bmod p$ on a
# CPU and asks, as physicists: what is the slow variable? We measure the Fourier spectrum of the
# embeddings as it sparsifies, derive the clock algorithm and check it against the trained weights,
# follow the restricted and excluded losses through the three phases of training, and end with
# the same analysis over time for the quadratic MLP of {cite:t}`gromov2023grokking`.
#
# **Prerequisites:** [Grokking I](01_grokking_effective_theory.ipynb) (the representation view of
# grokking); softmax and cross-entropy. **Runs in:** about two and a half minutes on a laptop CPU
# (`COURSE_SCALE=default`); `COURSE_SCALE=paper` uses the published setting of
# {cite:t}`nanda2023progress` — $p = 113$, $d_{\text{model}} = 128$, training fraction 0.3 — and
# needs a GPU.
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/05_grokking/03_grokking_transformers.ipynb)
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
from scipy.stats import spearmanr

import course_utils as cu
from course_utils import diagnostics
from course_utils.data import arithmetic
from course_utils.ensemble import (BatchedAdamW, BatchedMLP, accuracy, cross_entropy_per_sample,
                                   first_step_crossing, mse_per_sample, train_ensemble)
from course_utils.exercises import grokking_transformers as exercises
from course_utils.models.transformer import ModularTransformer
from course_utils.theory import modular_fourier as theory

cu.use_house_style()
device = cu.setup()  # the seed comes from COURSE_SEED (0 for the stored run); a GPU when there is one

# %% [markdown]
# ## Parameters
#
# The default was found by a search on this course's CPU with `benchmarks/transformer_grokking_probe.py`:
# $p = 47$, half of the $p^2$ pairs for training, $d_{\text{model}} = 64$, AdamW with learning rate
# $10^{-2}$ and weight decay 1. At training fraction 0.3 the same model stays below 40 % validation
# accuracy for 1 500 steps (`python benchmarks/transformer_grokking_probe.py 47 0.3 64 256 1500 1e-2
# 1,1,1,1,1,1 1,2,3,4,5,6`), and at learning rate $3\cdot10^{-3}$ it needs two to five times more
# steps (`... 47 0.5 64 256 2000 3e-3 1,1,1,1 1,2,3,4`); the paper's $p = 113$ with
# $d_{\text{model}} = 128$ needs thousands of steps at a larger width, which is GPU work. Four networks
# (seeds) get weight decay 1 and two get 0.1, as a control, all trained as one batched model.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        p=47, fraction=0.5, d_model=64, n_heads=4, d_mlp=256,           # the transformer
        lr=1e-2, betas=(0.9, 0.98), weight_decay=1.0, control_weight_decay=0.1,
        seeds=4, control_seeds=2, steps=1200, n_records=60,
        mlp_p=31, mlp_width=128, mlp_fraction=0.5, mlp_lr=1e-3, mlp_wd=0.3, mlp_steps=2500, mlp_seeds=3,
    ),
    paper=dict(
        p=113, fraction=0.3, d_model=128, n_heads=4, d_mlp=512,
        lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0, control_weight_decay=0.1,
        seeds=4, control_seeds=2, steps=25000, n_records=40,
        mlp_p=97, mlp_width=512, mlp_fraction=0.5, mlp_lr=1e-3, mlp_wd=0.3, mlp_steps=10000, mlp_seeds=4,
    ),
)
P

# %% [markdown]
# ## 1. The task and the transformer
#
# Every pair $(a, b) \in \mathbb{Z}_p^2$ is a sequence of three tokens $a, b, =$ and the answer is
# $c = a + b \bmod p$. The model (`course_utils.models.transformer`, one file, readable in one
# sitting) is the one-layer, layer-norm-free transformer of {cite:t}`nanda2023progress`: token and
# position embeddings $x_i = W_E[t_i] + W_{\text{pos}}[i]$, $H$ attention heads, one ReLU MLP of
# width $m$, and an unembedding $W_U$ that reads $p$ logits from the last position,
#
# $$
# r = x_2 + \sum_h \sum_j A_{hj}\, x_j W_V^h W_O^h, \qquad
# r' = r + \mathrm{ReLU}(r W_{\text{in}} + b_{\text{in}})\, W_{\text{out}} + b_{\text{out}}, \qquad
# \ell(a, b, c) = (r' W_U)_c .
# $$
#
# All members of the batch are independent networks with their own initialisation and their own
# random training set; each computes only its own training pairs. Loss: cross-entropy; optimiser:
# full-batch AdamW.

# %%
pairs, labels = arithmetic.modular_addition(P.p)                     # all p² pairs, a slowest
K = P.seeds + P.control_seeds
member_seeds = cu.seed(range(K))
weight_decays = [P.weight_decay] * P.seeds + [P.control_weight_decay] * P.control_seeds
grokkers, controls = np.arange(P.seeds), np.arange(P.seeds, K)
masks = arithmetic.split_masks(len(labels), P.fraction, seeds=member_seeds)     # (K, p²) training sets
train_idx = torch.stack([torch.nonzero(m).flatten() for m in masks])
val_idx = torch.stack([torch.nonzero(~m).flatten() for m in masks])
X_train, y_train, X_val, y_val = pairs[train_idx], labels[train_idx], pairs[val_idx], labels[val_idx]

model = ModularTransformer(P.p, d_model=P.d_model, n_heads=P.n_heads, d_mlp=P.d_mlp, n_members=K,
                           seeds=member_seeds).to(device)
optimizer = BatchedAdamW(model.parameters(), lr=P.lr, weight_decay=weight_decays, betas=P.betas)
n_params = sum(t[0].numel() for t in model.parameters())
print(f"{K} transformers of {n_params} parameters each; {X_train.shape[1]} training pairs, "
      f"{X_val.shape[1]} validation pairs per network")

# %% [markdown]
# We record, at about sixty steps spaced evenly in $\log t$, the accuracies and losses on each
# network's training and validation pairs, the squared weight norm, and — for the analysis of the
# next sections — the logits on all $p^2$ pairs and the embedding and unembedding matrices.

# %%
snapshots = {"logits": [], "W_E": [], "W_U": []}


def snapshot(net):
    """Store the full-grid logits (K, p, p, p) and W_E, W_U; return the accuracy on all p² pairs."""
    logits = net(pairs)
    snapshots["logits"].append(logits.float().cpu().numpy().reshape(K, P.p, P.p, P.p))
    snapshots["W_E"].append(net.W_E[:, :P.p].detach().float().cpu().numpy().copy())   # number tokens, not "="
    snapshots["W_U"].append(net.W_U.detach().float().cpu().numpy().copy())
    return accuracy(logits, labels.to(logits.device))


record = np.unique(np.r_[0, np.geomspace(1, P.steps, P.n_records).round()]).astype(int)
history = train_ensemble(
    model, cross_entropy_per_sample, X_train, y_train, per_member_data=True, steps=P.steps,
    optimizer=optimizer, record_steps=record, desc="transformers",
    metrics={"train_acc": lambda net: accuracy(net(X_train), y_train.to(device)),
             "val_acc": lambda net: accuracy(net(X_val), y_val.to(device)),
             "val_loss": lambda net: cross_entropy_per_sample(net(X_val), y_val.to(device)).mean(-1),
             "weight_norm": lambda net: diagnostics.weight_norm(net.parameters(), batched=True),
             "all_acc": snapshot})
steps = np.asarray(history["step"])
snap = {name: np.stack(v, axis=1) for name, v in snapshots.items()}     # (K, T, ...)
t_fit = first_step_crossing(steps, history["train_acc"], 0.99)
t_val = first_step_crossing(steps, history["val_acc"], 0.9)
print("step of 99 % training accuracy:  ", t_fit)
print("step of 90 % validation accuracy:", t_val, "(NaN: not within", P.steps, "steps)")
print("validation accuracy at the fit:  ",
      np.round(history["val_acc"][[np.searchsorted(steps, t) for t in t_fit], np.arange(K)], 2))
print("weight decays:                   ", weight_decays)

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
for k in range(K):
    ls, alpha = ("-", 0.9) if k in grokkers else (":", 0.9)
    axes[0].plot(steps[1:], history["train_acc"][1:, k], ls, color="C0", alpha=alpha,
                 label="training" if k == 0 else None)
    axes[0].plot(steps[1:], history["val_acc"][1:, k], ls, color="C1", alpha=alpha,
                 label="validation" if k == 0 else None)
    axes[1].plot(steps[1:], history["loss"][1:, k], ls, color="C0", alpha=alpha,
                 label="training" if k == 0 else None)
    axes[1].plot(steps[1:], history["val_loss"][1:, k], ls, color="C1", alpha=alpha,
                 label="validation" if k == 0 else None)
axes[0].plot([], [], ":", color="gray", label=f"weight decay {P.control_weight_decay} (control)")
axes[0].set_ylabel("accuracy")
axes[1].set_ylabel("cross-entropy loss (nats)")
axes[1].set_yscale("log")
for ax in axes:
    ax.set_xscale("log")
    ax.set_xlabel("training step")
axes[0].legend(fontsize=8, loc="lower right")
axes[0].set_title(f"a + b mod {P.p}: solid weight decay {P.weight_decay}", fontsize=9)
plt.show()

# %% [markdown]
# The networks fit their training pairs within a few dozen steps and generalise hundreds of steps
# later: that is grokking. (At training fraction 0.5 the validation accuracy at the fit is already
# well above the $1/p$ of a guess, as printed above — the fitted function is partly right off the
# training set — and then sits on a plateau.) The controls with ten times less weight decay fit just as fast and stay on the plateau.
# The checks: every network fits; each of the four with weight decay 1 generalises, at least twice as
# late as it fits and, for the median network, at least four times as late (the delay); and the
# controls do not reach 90 % validation accuracy before the slowest of them. The tolerances of this
# chapter's checks were set from the spread of the measured values over seeds 0–5 on two CPUs (the
# robustness runs recorded in `benchmarks/robustness.md`), not from one draw.

# %%
cu.check_count("networks that fit (99 % training accuracy)", int(np.isfinite(t_fit).sum()), at_least=K, of=K)
cu.check_count("weight decay 1: networks that generalise (90 % validation accuracy)",
               int(np.isfinite(t_val[grokkers]).sum()), at_least=P.seeds, of=P.seeds)
ratio = t_fit[grokkers] / t_val[grokkers]
cu.check_less("weight decay 1: median fit time / generalisation time (grokking: well below 1)", float(np.median(ratio)),
              0.25)
cu.check_less("weight decay 1: largest fit time / generalisation time", float(np.max(ratio)), 0.5)
cu.check_true("weight decay 0.1: no control generalises before the slowest weight-decay-1 network",
              bool(np.all(~(t_val[controls] <= np.max(t_val[grokkers])))),
              detail=f"controls {t_val[controls]}, slowest {np.max(t_val[grokkers])}")

# %% [markdown]
# ## 2. The embeddings become sparse in frequency
#
# What changes during the plateau? Take the embedding matrix $W_E$ ($p$ number tokens $\times$ $d$)
# and expand each of its $d$ columns, a function of the symbol $a$, in the real Fourier basis of
# $\mathbb{Z}_p$: $\cos\omega_k a$, $\sin \omega_k a$ with $\omega_k = 2\pi k/p$,
# $k = 1, \dots, F = (p-1)/2$ (the constant is left out: it shifts every embedding by the same
# vector). The power at frequency $k$, summed over the columns, is $P_k$, and its share
# $s_k = P_k/\sum_{k'} P_{k'}$ (`theory.frequency_shares`; `theory` is `course_utils.theory.modular_fourier`,
# the Fourier tools of this chapter). How many frequencies does the network
# use? The participation ratio
#
# $$ N_{\text{eff}} = \Big(\sum_k s_k^2\Big)^{-1} $$
#
# is $F$ for a flat spectrum and 1 for a single frequency. For the random initialisation it can be
# computed: each $P_k$ is $\sigma^2$ times a $\chi^2$ variable with $2d$ degrees of freedom, so
# $\mathbb{E}[P_k^2]/\mathbb{E}[P_k]^2 = 1 + 1/d$ and $N_{\text{eff}} \approx F/(1 + 1/d)$
# (`theory.random_effective_frequencies`, to leading order in $1/F$).

# %%
shares = theory.frequency_shares(snap["W_E"])                        # (K, T, F)
n_eff = theory.effective_frequencies(shares)                         # (K, T)
F = (P.p - 1) // 2
n_eff_random = theory.random_effective_frequencies(P.p, P.d_model)
# the spread of N_eff over random initialisations, for the tolerance of the check below
rng = np.random.default_rng(cu.seed(100))
n_eff_draws = theory.effective_frequencies(theory.frequency_shares(rng.standard_normal((500, P.p, P.d_model))))
fit_index = np.array([np.searchsorted(steps, t) for t in t_fit])       # the record step of the fit
end = -1
print(f"N_eff at initialisation: {np.round(n_eff[:, 0], 2)}; theory F/(1 + 1/d) = {n_eff_random:.2f} "
      f"(random draws: {n_eff_draws.mean():.2f} ± {n_eff_draws.std():.2f})")
print(f"N_eff at the fit:        {np.round(n_eff[np.arange(K), fit_index], 2)}")
print(f"N_eff at step {P.steps}:     {np.round(n_eff[:, end], 2)}  (first {P.seeds}: weight decay "
      f"{P.weight_decay}, last {P.control_seeds}: {P.control_weight_decay})")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
im = ax.pcolormesh(np.arange(len(steps) + 1), np.arange(1, F + 2) - 0.5, shares[0].T, cmap="viridis",
                   shading="flat")
ticks = [int(np.argmin(np.abs(steps - t))) for t in (1, 10, 100, 1000, 10000) if t <= steps[-1]]
ax.set_xticks(np.array(ticks) + 0.5, [str(steps[i]) for i in ticks])
ax.set_xlabel("training step (log spaced)")
ax.set_ylabel("frequency $k$")
ax.set_title("network 0: share $s_k$ of the embedding's power", fontsize=9)
fig.colorbar(im, ax=ax, label="share $s_k$")
ax = axes[1]
for k in range(K):
    ax.plot(steps[1:], n_eff[k, 1:], "-" if k in grokkers else ":", color=f"C{k}", label=f"network {k}")
    if np.isfinite(t_val[k]):
        ax.plot(t_val[k], n_eff[k, np.searchsorted(steps, t_val[k])], "o", color=f"C{k}", ms=5)
ax.axhline(n_eff_random, color="k", lw=1, ls="--", label="theory: random embeddings")
ax.set_xscale("log")
ax.set_xlabel("training step")
ax.set_ylabel("effective number of frequencies $N_{\\mathrm{eff}}$")
ax.set_title("dots: 90 % validation accuracy; dotted: controls", fontsize=9)
ax.legend(fontsize=7, ncol=2, loc="lower left")
plt.show()

# %% [markdown]
# At the start every frequency carries about the same power, as the $\chi^2$ argument predicts.
# At the fit the spectrum is still broad: the networks memorised their training pairs with
# embeddings that are not sparse. During the plateau the power drains into a handful of **key
# frequencies**, and validation accuracy arrives when $N_{\text{eff}}$ has fallen to a few. In the
# transformer the structure comes *after* the fit — the picture that {cite:t}`nanda2023progress`
# drew, and the opposite of the toy model of Grokking I, whose representation formed before or at
# the fit. The controls' spectra stay broad. Checks: the initial $N_{\text{eff}}$ agrees with the
# random theory within four standard deviations of its draw-to-draw spread; each grokking network's
# $N_{\text{eff}}$ falls by more than half between the fit and the end, and ends below 8 — below
# every control's.

# %%
for k in range(K):
    cu.check_close(f"network {k}: N_eff at initialisation vs F/(1 + 1/d)", n_eff[k, 0], n_eff_random,
                   atol=4 * n_eff_draws.std(), rtol=0)
cu.check_less("weight decay 1: largest N_eff(end) / N_eff(fit) (the spectrum sparsifies after the fit)",
              float(np.max(n_eff[grokkers, end] / n_eff[grokkers, fit_index[grokkers]])), 0.5)
cu.check_less("weight decay 1: largest final N_eff (a handful of frequencies)", float(n_eff[grokkers, end].max()), 8)
cu.check_less("largest final N_eff of a grokking network / smallest of a control",
              float(n_eff[grokkers, end].max() / n_eff[controls, end].min()), 1.0)

# %% [markdown]
# ## 3. The clock
#
# How can a few frequencies add numbers? Write $\omega = \omega_k$ for one key frequency. If the
# embeddings carry $\cos\omega a$ and $\sin \omega a$ (and likewise for $b$), then products — which a
# ReLU MLP can form — give, by the addition theorems,
#
# $$
# \cos\omega(a+b) = \cos\omega a\cos\omega b - \sin\omega a \sin\omega b, \qquad
# \sin\omega(a+b) = \sin\omega a\cos\omega b + \cos\omega a \sin\omega b ,
# $$
#
# and a linear read-out with $\cos \omega c$, $\sin\omega c$ for each answer $c$ gives
#
# $$
# \cos\omega(a+b-c) = \cos\omega(a+b)\cos\omega c + \sin\omega(a+b)\sin\omega c .
# $$
#
# The **clock** hypothesis of {cite:t}`nanda2023progress` is that the logits are
#
# $$ \ell(a, b, c) \approx \sum_{k\in\mathcal K} \alpha_k \cos \omega_k (a + b - c), \qquad \alpha_k > 0 . $$
#
# Each term equals $\alpha_k$ at $c \equiv a + b$ and is smaller everywhere else; summed over
# several key frequencies, the terms add up at the right answer only (constructive interference),
# and the wrong answers get partial sums of cosines that nearly cancel. The hypothesis makes
# predictions that the weights can refute:
#
# 1. the unembedding $W_U$, read as a function of the answer $c$, has its power at the key
#    frequencies of the embedding $W_E$ (read on the inputs): the same frequencies come in and go out;
# 2. most of the logits' variance over $c$ lies in the $2|\mathcal K|$ functions
#    $\cos\omega_k s$, $\sin\omega_k s$ of $s = a + b - c$ (for logits without this structure, a
#    fraction $2|\mathcal K|/(p^2(p-1))$ would);
# 3. the amplitudes $\alpha_k = \frac{2}{p^3}\sum_{a,b,c}\ell\cos\omega_k s$ are all positive and the
#    sine amplitudes $\beta_k$ (the same with $\sin$) are small: every term peaks at $s = 0$;
# 4. the MLP neurons are functions of $(a, b)$ built from the key frequencies (constants,
#    $\cos\omega_k a$, $\sin\omega_k b$, and their products).
#
# The key frequencies of a network are those whose share of the embedding's power exceeds twice the
# flat share, $s_k > 2/F$ (`theory.key_frequencies`; for random embeddings the shares scatter by
# about $1/\sqrt{d}$, an eighth, around $1/F$).

# %%
with torch.no_grad():
    neurons = model.residual_streams(pairs)["neurons"].float().cpu().numpy()   # (K, p², m)
neurons = neurons.reshape(K, P.p, P.p, P.d_mlp)
logits_end = snap["logits"][:, end]                                    # (K, p, p, p)
key = [theory.key_frequencies(shares[k, end]) for k in range(K)]
shares_U = theory.frequency_shares(np.swapaxes(snap["W_U"][:, end], 1, 2))     # W_U as functions of c
U_on_key = np.array([shares_U[k, key[k] - 1].sum() for k in range(K)])   # W_U's power at W_E's key frequencies
has_key = [len(f) > 0 for f in key]                                   # (a network without any fails below)
clock = np.array([theory.clock_fraction(logits_end[k], key[k]) if has_key[k] else np.nan for k in range(K)])
amplitudes = [theory.clock_amplitudes(logits_end[k], key[k]) if has_key[k] else (np.full(1, np.nan),) * 2
              for k in range(K)]
neuron_share = [theory.neuron_fraction(neurons[k], key[k]) if has_key[k] else np.full(1, np.nan) for k in range(K)]
for k in grokkers:
    alpha, beta = amplitudes[k]
    noise = 2 * len(key[k]) / (P.p ** 2 * (P.p - 1))
    print(f"network {k}: key frequencies of W_E {key[k].tolist()}, share of W_U's power there {U_on_key[k]:.3f} "
          f"(flat: {len(key[k]) / F:.3f});\n    clock share of the logits {clock[k]:.3f} (unstructured: {noise:.1e});\n    α = {np.round(alpha, 2).tolist()}, "
          f"β = {np.round(beta, 2).tolist()}; median neuron share in key-frequency terms "
          f"{np.nanmedian(neuron_share[k]):.3f} (noise: {((1 + 2 * len(key[k])) ** 2 - 1) / (P.p ** 2 - 1):.3f})")

# %% tags=["hide-input"]
k0 = int(grokkers[0])
f0 = int(np.argmax(shares[k0, end])) + 1                              # network 0's strongest frequency
key0 = key[k0] if has_key[k0] else np.array([f0])
E = snap["W_E"][k0, end] - snap["W_E"][k0, end].mean(0)
a = np.arange(P.p)
u, v = np.cos(2 * np.pi * f0 * a / P.p) @ E, np.sin(2 * np.pi * f0 * a / P.p) @ E    # the frequency-f0 plane
xy = np.stack([E @ u / np.linalg.norm(u), E @ v / np.linalg.norm(v)], axis=1)
fig, axes = cu.panels(2, panel_height=3.4)
ax = axes[0]
ax.scatter(xy[:, 0], xy[:, 1], c=(a * f0) % P.p, cmap="twilight", s=25)
for i in range(P.p):
    ax.annotate(str(i), xy[i], fontsize=6)
ax.set_aspect("equal")
ax.set_xlabel(f"embedding along its cos({f0}·2πa/p) direction")
ax.set_ylabel(f"along its sin({f0}·2πa/p) direction")
ax.set_title(f"network {k0}: the clock face of frequency {f0}", fontsize=9)
ax = axes[1]
a0, b0 = 3, 10
c = np.arange(P.p)
ax.plot(c, logits_end[k0, a0, b0], "o", ms=4, label="logits of the network")
ax.plot(c, theory.clock_component(logits_end[k0], key0)[a0, b0] + logits_end[k0, a0, b0].mean(), "-",
        label=f"clock: Σ α_k cos ω_k(a+b−c), k ∈ {key0.tolist()}")
ax.axvline((a0 + b0) % P.p, color="gray", ls=":", lw=1)
ax.set_xlabel(f"answer c (a = {a0}, b = {b0}; dotted: a + b mod p)")
ax.set_ylabel("logit")
ax.legend(fontsize=7, loc="lower right")
plt.show()

# %% [markdown]
# The embedding, projected on the plane of one key frequency, is a clock face: the $p$ numbers sit
# on an ellipse in the order $f a \bmod p$. The logits of one input against $c$ are the sum of a few
# cosines, peaked at $c = a + b$, and the clock reconstruction (line) follows the network (dots).
# Checks on every grokking network, predictions 1–4:

# %%
cu.check_true("weight decay 1: W_U has more than 70 % of its power at W_E's key frequencies, in every network",
              bool(U_on_key[grokkers].min() > 0.7), detail=f"smallest {U_on_key[grokkers].min():.3f}")
cu.check_true("weight decay 1: most of the logits' variance in the clock terms (every network above 0.6, mean "
              "above 0.8)", bool(clock[grokkers].min() > 0.6 and clock[grokkers].mean() > 0.8),
              detail=f"smallest {clock[grokkers].min():.3f}, mean {clock[grokkers].mean():.3f}")
cu.check_true("weight decay 1: every clock amplitude α_k is positive",
              all(np.all(amplitudes[k][0] > 0) for k in grokkers))
cu.check_less("weight decay 1: largest |β_k| / α_k (the clock peaks at c = a + b)",
              float(max(np.max(np.abs(amplitudes[k][1]) / amplitudes[k][0]) for k in grokkers)), 0.1)
cu.check_less("weight decay 1: largest median share of a neuron's variance outside the key-frequency terms",
              float(max(1 - np.nanmedian(neuron_share[k]) for k in grokkers)), 0.2)

# %% [markdown]
# ## 4. Progress measures: memorisation, circuit formation, clean-up
#
# The accuracies say nothing during the plateau; the Fourier picture suggests two losses that do
# {cite:p}`nanda2023progress`. Split the logits into the clock component and the rest
# (`theory.clock_component`), with the key frequencies found at the end of training:
#
# - the **restricted loss**: the cross-entropy of the clock component alone. It depends on
#   $(a, b, c)$ only through $s = a + b - c$, so it is *the same on every pair*, training or
#   validation: it measures the algorithm, not the data;
# - the **excluded loss**: the cross-entropy, on the training pairs, of the logits with the clock
#   component removed. Large when the training fit relies on the clock, close to the training loss
#   when it does not.
#
# Both are `theory.answer_loss`, the cross-entropy of the right answers $c = a + b$, applied to
# `theory.restricted_logits` and `theory.excluded_logits`.
#
# Read over time, they split training into three phases {cite:p}`nanda2023progress`:
# **memorisation** (the training loss falls to the fit while the validation loss rises), **circuit
# formation** (the restricted loss falls to near zero while the validation accuracy still sits on its
# plateau, and the excluded loss rises above the loss of a uniform guess, $\ln p$), and **clean-up**
# (weight decay removes the memorising remainder; the validation loss falls).

# %%
restricted = np.zeros((K, len(steps)))
excluded = np.zeros((K, len(steps)))
for k in range(K):
    if len(key[k]) == 0:
        restricted[k] = excluded[k] = np.nan
        continue
    train_pairs = masks[k].numpy().reshape(P.p, P.p)
    restricted[k] = theory.answer_loss(theory.restricted_logits(snap["logits"][k], key[k]))
    excluded[k] = theory.answer_loss(theory.excluded_logits(snap["logits"][k], key[k]), which=train_pairs)
t_circuit = first_step_crossing(steps, restricted.T, 0.1, above=False)   # restricted loss below 0.1 nats
val_index = np.array([np.searchsorted(steps, t) if np.isfinite(t) else len(steps) - 1 for t in t_val])
print("step at which the restricted loss falls below 0.1:", t_circuit)
print("step of 90 % validation accuracy:                 ", t_val)
print("excluded loss (training pairs) at that step:      ",
      np.round(excluded[np.arange(K), val_index], 2), f"(ln p = {np.log(P.p):.2f})")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
for ax, k in zip(axes, [int(grokkers[0]), int(grokkers[-1])]):
    ax.plot(steps[1:], history["loss"][1:, k], color="C0", label="training loss")
    ax.plot(steps[1:], history["val_loss"][1:, k], color="C1", label="validation loss")
    ax.plot(steps[1:], restricted[k, 1:], color="C2", ls="--", label="restricted loss (clock only)")
    ax.plot(steps[1:], excluded[k, 1:], color="C3", ls="--", label="excluded loss (clock removed)")
    ax.axhline(np.log(P.p), color="gray", lw=1, ls=":", label="ln p (uniform guess)")
    norm = history["weight_norm"][1:, k]
    ax.plot(steps[1:], norm / norm.max() * 10, color="k", lw=1, alpha=0.6, label="weight norm (scaled to 10)")
    for t, name in [(t_fit[k], "fit"), (t_circuit[k], "circuit"), (t_val[k], "90 % val.")]:
        if np.isfinite(t):
            ax.axvline(t, color="gray", lw=0.8)
            ax.text(t, 15, f" {name}", rotation=90, fontsize=7, va="bottom")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1e-4, 500)
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats)")
    ax.set_title(f"network {k}, key frequencies {key[k].tolist()}", fontsize=9)
axes[0].legend(fontsize=6.5, loc="lower left")
plt.show()

# %% [markdown]
# The phases overlap more than the names suggest. In the networks shown, the restricted loss — the
# clock alone — already falls to a few tenths of a nat during the fit: the clock starts to grow as
# soon as training does.
# It reaches near zero during the plateau, before the validation accuracy moves: the circuit is
# completed there. Meanwhile the excluded loss on the training pairs climbs above $\ln p$: without the
# clock the network would be worse than a uniform guess on its *own training data*, so the fit has
# moved from a lookup table onto the clock. The validation loss falls last: clean-up. The weight
# norm peaks at the fit and decays from then on. (Late in training, when the losses are around
# $10^{-6}$, they can jump by orders of magnitude within a few steps, as in the first figure: once the
# gradients are tiny, Adam's normalised steps are not; the accuracies barely move.) Checks: in every grokking network the
# restricted loss falls below 0.1 nats before the validation accuracy reaches 90 %, and at that step
# the excluded training loss exceeds $\ln p$.

# %%
cu.check_count("weight decay 1: networks whose clock forms before they generalise (t_circuit < t_val)",
               int(np.sum(t_circuit[grokkers] < t_val[grokkers])), at_least=P.seeds, of=P.seeds)
cu.check_count("weight decay 1: networks whose excluded training loss exceeds ln p when they generalise",
               int(np.sum(excluded[grokkers, val_index[grokkers]] > np.log(P.p))), at_least=P.seeds, of=P.seeds)

# %% [markdown]
# ## 5. The same analysis for the quadratic MLP of Grokking I
#
# {cite:t}`gromov2023grokking` solved a simpler network exactly: one-hot inputs
# $[\mathrm{onehot}(a), \mathrm{onehot}(b)] \in \mathbb{R}^{2p}$, one hidden layer of $N$ units with
# activation $\sigma(z) = z^2$, $p$ outputs, mean squared error. In his solution every hidden unit
# uses a single frequency — its weights on $a$ are $\cos(\omega_k a + \phi)$ — and the square
# makes the products of the addition theorem. Unlike the transformer, the network as a whole
# spreads its units over all frequencies. We train the Grokking I setting and follow, over time,
# each unit's share of its weights' power in its own top frequency (the median over units):
# for random weights of one column, the shares are a flat Dirichlet draw and the expected top share
# is $H_F/F$ ($H_F$ the harmonic number).

# %%
mpairs, mlabels = arithmetic.modular_addition(P.mlp_p)
X = arithmetic.one_hot_pairs(mpairs, P.mlp_p)
Y = torch.nn.functional.one_hot(mlabels, P.mlp_p).float()
mtrain = arithmetic.split_masks(len(X), P.mlp_fraction, seeds=cu.seed(range(100, 100 + P.mlp_seeds)))
X, Y, mlabels, mtrain = X.to(device), Y.to(device), mlabels.to(device), mtrain.to(device)
mlp = BatchedMLP(P.mlp_seeds, [2 * P.mlp_p, P.mlp_width, P.mlp_p], "quadratic", bias=False,
                 seeds=cu.seed(range(100, 100 + P.mlp_seeds))).to(device)
first_layer = []


def unit_top_share(net):
    """Store the first-layer weights on a, (K, p, N); return the median over units of the top-frequency share."""
    W_a = next(net.parameters())[:, :P.mlp_p].detach().cpu().numpy().copy()  # (K, p, N): weights on onehot(a)
    first_layer.append(W_a)
    unit = theory.unit_frequency_shares(W_a)                               # (K, N, F): each unit on its own
    return torch.as_tensor(np.median(unit.max(-1), axis=-1))


mlp_history = train_ensemble(
    mlp, mse_per_sample, X, Y, steps=P.mlp_steps, optimizer=BatchedAdamW(mlp.parameters(), lr=P.mlp_lr,
                                                                       weight_decay=P.mlp_wd),
    sample_weight=mtrain.float(), record_steps=range(0, P.mlp_steps + 1, 25), desc="quadratic MLPs",
    metrics={"train_acc": lambda m: accuracy(m(X), mlabels, mtrain),
             "val_acc": lambda m: accuracy(m(X), mlabels, ~mtrain),
             "unit_share": unit_top_share})
msteps = np.asarray(mlp_history["step"])
Fm = (P.mlp_p - 1) // 2
random_top = np.sum(1 / np.arange(1, Fm + 1)) / Fm                      # E[max of a flat Dirichlet] = H_F/F
m_fit = first_step_crossing(msteps, mlp_history["train_acc"], 0.99)
m_val = first_step_crossing(msteps, mlp_history["val_acc"], 0.9)


def share_at(t):
    """Each network's median unit share at its own recorded step t[k]."""
    return np.array([mlp_history["unit_share"][np.searchsorted(msteps, t[k]), k] for k in range(P.mlp_seeds)])


whole = theory.effective_frequencies(theory.frequency_shares(first_layer[-1]))
print(f"fit (99 % training accuracy) at steps {m_fit}, 90 % validation accuracy at {m_val}")
print(f"median top-frequency share of a unit: at the fit {np.round(share_at(m_fit), 3)}, at 90 % validation "
      f"{np.round(share_at(m_val), 3)}, at the end {np.round(mlp_history['unit_share'][-1], 3)}; "
      f"random H_F/F = {random_top:.3f}")
print(f"N_eff of the whole first layer at the end: {np.round(whole, 1)} of F = {Fm}")

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.4, 3.8))
for k in range(P.mlp_seeds):
    ax.plot(msteps[1:], mlp_history["val_acc"][1:, k], color="C1", alpha=0.8,
            label="validation accuracy" if k == 0 else None)
    ax.plot(msteps[1:], mlp_history["train_acc"][1:, k], color="C0", alpha=0.8,
            label="training accuracy" if k == 0 else None)
    ax.plot(msteps[1:], mlp_history["unit_share"][1:, k], color="C2", ls="--",
            label="median top-frequency share of a unit" if k == 0 else None)
ax.axhline(random_top, color="C2", lw=1, ls=":", label="theory: random weights, $H_F/F$")
ax.set_xlabel("training step")
ax.set_ylabel("accuracy; share of power")
ax.set_xscale("log")
ax.set_title(f"quadratic MLP, a + b mod {P.mlp_p}, {P.mlp_seeds} seeds", fontsize=9)
ax.legend(fontsize=7)
plt.show()

# %% [markdown]
# The units' Fourier purity starts at the random value, has only begun to rise when the training set
# is fitted, and rises after the fit together with the validation accuracy — then keeps rising after
# the accuracy is perfect, as weight decay continues to clean the units up. The network as a whole
# still uses nearly all frequencies ($N_{\text{eff}}$ of the whole layer near $F$): each unit picks
# one, the units between them cover the spectrum. Checks: at the fit the median unit's share has
# risen above random by less than half of what it has risen by 90 % validation accuracy; that later
# rise exceeds 0.15; over the window from the fit to 99 % validation accuracy the share and the
# validation accuracy rise together (Spearman rank correlation above 0.9); and the whole layer's
# $N_{\text{eff}}$ stays above $0.6F$.

# %%
m_val99 = first_step_crossing(msteps, mlp_history["val_acc"], 0.99)
rho = []
for k in range(P.mlp_seeds):
    window = (msteps >= m_fit[k]) & (msteps <= (m_val99[k] if np.isfinite(m_val99[k]) else msteps[-1]))
    rho.append(spearmanr(mlp_history["unit_share"][window, k], mlp_history["val_acc"][window, k]).statistic)
print("Spearman correlation of unit share and validation accuracy, fit → 99 % validation:", np.round(rho, 3))
cu.check_count("quadratic MLPs that generalise", int(np.isfinite(m_val).sum()), at_least=P.mlp_seeds, of=P.mlp_seeds)
cu.check_less("largest (share at the fit − random) / (share at 90 % validation − random)",
              float(np.max((share_at(m_fit) - random_top) / (share_at(m_val) - random_top))), 0.5)
rise = share_at(m_val) - random_top
cu.check_true("the median unit share has risen by more than 0.15 above random by 90 % validation accuracy",
              bool(rise.min() > 0.15), detail=f"smallest rise {rise.min():.3f}")
cu.check_true("unit share and validation accuracy rise together (every rank correlation above 0.9)",
              bool(min(rho) > 0.9), detail=f"smallest {min(rho):.3f}")
cu.check_true("the whole first layer uses most frequencies (every N_eff above 0.6 F)",
              bool(whole.min() > 0.6 * Fm), detail=f"smallest N_eff {whole.min():.1f}, 0.6 F = {0.6 * Fm:.1f}")

# %% [markdown]
# ## 6. What it means
#
# In the transformer, grokking has a slow variable that can be seen in the weights: the Fourier
# spectrum of the embeddings, which is broad when the training set is memorised and concentrates
# on a handful of key frequencies during the plateau. The algorithm those frequencies implement —
# a clock that adds angles, read out by constructive interference at $c = a + b$ — is not a
# metaphor: its predictions (shared key frequencies of embedding and unembedding, logits that are
# sums of $\cos\omega_k(a+b-c)$ with positive amplitudes, neurons made of key-frequency terms) hold
# in the trained weights. The progress measures show that the circuit forms *during* the plateau and
# that the validation accuracy waits for clean-up, the weight decay's removal of the memorising
# remainder; with ten times less weight decay the networks stay on the plateau.
#
# This is a different story from the toy model of [Grokking I](01_grokking_effective_theory.ipynb),
# where the representation (a line) forms before or at the fit and the delay, when there is one,
# is a slow read-out. Here the representation itself arrives late. Both are "grokking" by the
# accuracies alone; what is slow differs, and only measurements on the representation tell them
# apart. The quadratic MLP sits in between: its units become Fourier modes after the fit, in step
# with the validation accuracy.
#
# ## Exercises
#
# :::{exercise} The Fourier spectrum of an embedding
# :label: ex-grokking3-shares
#
# Write a function `shares_of(W)` that takes an embedding matrix `W` of shape $(p, n)$, $p$ odd, and
# returns the shares $s_k = P_k/\sum_{k'} P_{k'}$, $k = 1, \dots, (p-1)/2$, where $P_k$ is the power of
# the columns of `W` at frequency $k$ (cosine and sine together; leave the constant out). You may use
# `np.fft`. Check it with `exercises.check_frequency_shares(shares_of)`.
# :::
#
# :::{solution-start} ex-grokking3-shares
# :class: dropdown
# :::
#
# With the real FFT over the symbol axis, $|\hat W_k|^2$ is $p/2$ times the power in the orthonormal
# pair $\sqrt{2/p}\cos\omega_k a$, $\sqrt{2/p}\sin\omega_k a$ for $k \ge 1$; the common factor cancels in
# the shares.

# %%
def shares_of(W):
    W = np.asarray(W, dtype=float)
    power = (np.abs(np.fft.rfft(W, axis=0)) ** 2).sum(axis=1)[1:]     # k = 1 … (p−1)/2, constant dropped
    return power / power.sum()


shares_ok = exercises.check_frequency_shares(shares_of)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Why several frequencies?
# :label: ex-grokking3-margin
#
# A clock with one frequency, $\ell(a, b, c) = \alpha\cos\omega_k(a+b-c)$, already peaks at the right
# answer when $p$ is prime. (a) Show that its **margin**, the gap between the right logit and the
# largest wrong one, is $\alpha\,(1 - \cos(2\pi/p))$ for every $k$. (b) For $p = 47$ and a fixed budget
# $\sum_k \alpha_k = A$ (weight decay limits the norm), compare numerically the margin of one
# frequency with that of $n$ frequencies of equal amplitude $A/n$, $n = 2, 4$, chosen at random.
# (c) Why does the softmax loss care about the margin?
# :::
#
# :::{solution-start} ex-grokking3-margin
# :class: dropdown
# :::
#
# (a) $\cos\omega_k s = 1$ only at $s \equiv 0$ ($k s \equiv 0 \bmod p$ needs $s \equiv 0$ when $p$ is
# prime); the wrong answers $s \ne 0$ see the values $\cos(2\pi j/p)$, $j = ks \bmod p \ne 0$, which
# run over all nonzero $j$ as $s$ does; the largest is $\cos(2\pi/p)$. So the margin is
# $\alpha(1 - \cos 2\pi/p) \approx 2\pi^2\alpha/p^2$: under 1 % of $\alpha$ for $p = 47$.
# (b) With $n$ frequencies the wrong answers see $\frac{A}{n}\sum_k \cos\omega_k s$, and a sum of
# cosines of unrelated frequencies is rarely close to $n$:

# %%
s_wrong = np.arange(1, 47)                                             # the wrong answers, s = a + b − c ≠ 0
rng_margin = np.random.default_rng(cu.seed(200))
for n in (1, 2, 4):
    margins = [1 - (np.cos(2 * np.pi * np.outer(rng_margin.choice(np.arange(1, 24), n, replace=False), s_wrong) / 47)
                    .sum(0) / n).max() for _ in range(200)]
    print(f"{n} frequencies of amplitude A/{n}: mean margin {np.mean(margins):.3f} A "
          f"(range {np.min(margins):.3f} to {np.max(margins):.3f} A over 200 random choices)")

# %% [markdown]
# Several frequencies buy a margin tens of times larger for the same amplitude budget. (c) The
# cross-entropy of the right answer is $\log(1 + \sum_{c \ne a+b} e^{-(\ell_{a+b} - \ell_c)})$: it falls
# exponentially with the margins, so with a bounded weight norm the loss prefers a few frequencies to
# one — and, with weight decay pressing on every unused direction, a few rather than many.
#
# :::{solution-end}
# :::
#
# :::{exercise} The restricted loss is the same on every pair
# :label: ex-grokking3-restricted
#
# Show that the restricted loss of §4 takes the same value on every pair $(a, b)$ — training or
# validation — and compute it for a clock with amplitudes $\alpha_k$: it is
# $\log\sum_{s=0}^{p-1}\exp\big(\sum_k \alpha_k(\cos\omega_k s - 1)\big)$ (with $\beta_k = 0$). What
# does this say about reading the restricted loss as a "validation" measure?
# :::
#
# :::{solution-start} ex-grokking3-restricted
# :class: dropdown
# :::
#
# The clock component is a function $h(s)$ of $s = a + b - c \bmod p$ alone. For the pair $(a, b)$ the
# right answer has $s = 0$ and the $p$ answers $c$ run over all $s$ once, so the loss
# $-\log\big(e^{h(0)}/\sum_c e^{h(a+b-c)}\big) = \log\sum_s e^{h(s) - h(0)}$ does not depend on $(a, b)$.
# With $h(s) = \sum_k\alpha_k\cos\omega_k s$ this is the formula above. The restricted loss therefore
# measures the *algorithm* the network carries, not its fit to any set of pairs: it can be near zero
# while the validation loss is large, which is exactly what §4 shows during circuit formation — the
# rest of the logits (the memorised part) still spoils the validation pairs.
#
# :::{solution-end}
# :::
#
# ## Summary
#
# - A one-layer transformer on $a + b \bmod 47$ fits its training half within about 50 steps and
#   generalises hundreds of steps later with weight decay 1; with weight decay 0.1 it stays on the
#   plateau.
# - The slow variable is the embedding's Fourier spectrum: $N_{\text{eff}}$ starts at the random value
#   $F/(1 + 1/d)$, is still broad at the fit, and falls to a handful of key frequencies as the network
#   generalises.
# - The clock algorithm — $\ell \approx \sum_k \alpha_k\cos\omega_k(a+b-c)$, $\alpha_k > 0$ — is checked on
#   the weights: shared key frequencies of $W_E$ and $W_U$, most of the logit variance in the clock
#   terms, neurons made of key-frequency terms.
# - Progress measures split training into memorisation, circuit formation (the restricted loss falls,
#   the excluded loss rises above $\ln p$) and clean-up (the validation loss and the weight norm fall).
# - The quadratic MLP of Grokking I becomes a bank of single-frequency units after the fit, in step
#   with its validation accuracy.
#
# ## References
#
# {cite:t}`power2022grokking` discovered grokking in this setting; {cite:t}`nanda2023progress` found the
# clock algorithm and the progress measures; {cite:t}`gromov2023grokking` solved the quadratic MLP. The
# works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
