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
# # Grokking II: phase diagrams, and grokking on real data
#
# [Grokking I](01_grokking_effective_theory.ipynb) found a competition in the toy model of
# {cite:t}`liu2022towards`: the representation (the line of embeddings) must form before the
# decoder memorises the training pairs, and in our runs, when it forms, it forms at or before the
# fit. Physicists draw competitions as **phase diagrams**. Here we draw the paper's phase diagrams
# of the toy model — its four phases, defined by accuracies alone — and add to every cell a second
# measurement, **when the representation formed** relative to the fit. The cells that the accuracy
# rule calls "grokking" turn out to be slow readouts of a representation that was already there.
# Then we move to real data, where a delay of a different origin appears: a deep MLP on a small
# set of handwritten digits groks when its weights start large {cite:p}`liu2023omnigrok`, and stops
# grokking when we turn any of the knobs that make training "rich" instead of "lazy"
# {cite:p}`kumar2024grokking`.
#
# **Prerequisites:** [Grokking I](01_grokking_effective_theory.ipynb) and
# [Lazy versus rich learning](../04_feature_learning/02_lazy_vs_rich.ipynb) (the four knobs and the
# diagnostics of §3). **Runs in:** about two minutes on a laptop CPU (`COURSE_SCALE=default`);
# `COURSE_SCALE=paper` uses finer grids, more seeds, the paper's decoder width and longer budgets
# (a GPU helps).
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/05_grokking/02_grokking_phase_diagrams.ipynb)
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

import time

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

import course_utils as cu
from course_utils import diagnostics
from course_utils.data import arithmetic
from course_utils.data import classification as digits_data
from course_utils.ensemble import (BatchedAdamW, BatchedMLP, Grid, accuracy, first_step_crossing,
                                   first_step_reaching, mse_per_sample, train_ensemble)
from course_utils.exercises import grokking as exercises
from course_utils.explorers.grokking_phase_map import rqi_history
from course_utils.models.grokking import BatchedToyAdditionModel, toy_metrics, toy_optimizer
from course_utils.theory import grokking as theory

cu.use_house_style()
device = cu.setup()

# %% [markdown]
# ## Parameters
#
# The default runs in about two minutes on a laptop CPU: two 8 × 8 phase maps of the toy model
# (192 toy models in one ensemble) and 32 digit classifiers (a second ensemble).
# `COURSE_SCALE=paper` refines the grids, adds seeds and uses the paper's decoder width.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(
        p=10, fraction=0.8, width=32, threshold=0.9,
        steps=5000, record_every=50,
        embed_lr=2e-3, decoder_lrs=np.logspace(-3.4, -2.0, 8), decoder_wds=np.logspace(-2, 1, 8), seeds=2,
        embed_lrs=np.logspace(-3.6, -1.6, 8), decoder_wd_2=0.1, seeds_2=1,
        n_train=200, n_test=500, mlp_width=128, alpha=8.0, lr=3e-3, wd=0.15,
        mlp_steps=4000, mlp_record_every=80, test_threshold=0.8, onset_threshold=0.7, repeats=5,
        real_wds=[0.05, 0.1, 0.2, 0.4], last_lrs=[1e-3, 3e-3, 1e-2, 3e-2],
    ),
    paper=dict(  # only what changes at paper scale
        width=200, steps=20000,
        decoder_lrs=np.logspace(-3.6, -1.8, 16), decoder_wds=np.logspace(-2, 1, 16), seeds=4,
        embed_lrs=np.logspace(-3.8, -1.4, 16), seeds_2=2,
        n_test=1000, mlp_width=256, mlp_steps=8000,
        real_wds=[0.03, 0.05, 0.1, 0.2, 0.4, 0.8], last_lrs=[3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    ),
)
P

# %% [markdown]
# ## 1. Four phases, read from accuracies
#
# Train a model for a budget of $T$ steps and record when the training accuracy and the
# validation accuracy first pass a threshold (90 %), $t_{\rm train}$ and $t_{\rm val}$.
# {cite:t}`liu2022towards` define four phases by these accuracies alone:
#
# | phase | training accuracy | validation accuracy |
# |---|---|---|
# | **comprehension** | reaches the threshold | follows soon: $t_{\rm val} \le t_{\rm train} + T/10$ |
# | **grokking** | reaches the threshold | much later: $t_{\rm val} > t_{\rm train} + T/10$ |
# | **memorisation** | reaches the threshold | never (within $T$) |
# | **confusion** | never | — |
#
# The rule is `theory.classify_phase`; the delay $T/10$ is our convention (the paper compares both
# times with fixed step windows), and an exercise asks you to implement it. The rule says *that*
# validation comes late, not *why*. The paper offers two different reasons: for its toy model it
# relates the phases to how fast and how capable the decoder is — its grokking region lies next to
# memorisation, and it attributes the lateness in the corner of slow decoders to inefficient decoder
# training — while "memorise first, form the representation later" is the picture it draws for its
# transformer experiments. We can tell the two apart in the toy model, because the representation
# is measurable: the step $t_{\rm RQI}$ at which the RQI of the embeddings (Grokking I, §2) first
# reaches 0.9. A run that generalises with $t_{\rm RQI} \le t_{\rm train}$ had its representation
# at or before the fit, and any delay of its validation accuracy is the decoder's (a slow
# **readout**); $t_{\rm RQI} > t_{\rm train}$ is a **late representation**, grokking in the sense of
# "fit first, structure later".
#
# ## 2. The phase diagrams of the toy model
#
# The toy model of Grokking I (decoder of width 32, training fraction 0.8). A fast decoder (large
# learning rate) can memorise before the representation has formed; a decoder whose weights are
# pulled to zero by a strong weight decay fits nothing (confusion); in between lies the
# "Goldilocks zone" where runs generalise. Two maps, both in one batched ensemble: decoder learning
# rate × decoder weight decay at a fixed embedding learning rate (2 seeds per cell), and embedding
# learning rate × decoder learning rate at a fixed weight decay (1 seed per cell). Each run has its
# own initialisation, its own training split and its own draw of the target vectors $Y_s$, so that
# runs are independent draws.
#
# With two seeds a cell can hold two phases. We do not break such ties: a cell whose two runs
# disagree is drawn as **split** (hatched), and every count below is over runs, not cells.

# %%
task = arithmetic.addition_task(P.p)
pairs, sums = task.pairs, task.sums
grid1 = Grid(decoder_wd=P.decoder_wds, decoder_lr=P.decoder_lrs, seed=range(P.seeds))
grid2 = Grid(embed_lr=P.embed_lrs, decoder_lr=P.decoder_lrs, seed=range(P.seeds_2))
K1, K2 = grid1.size, grid2.size
embed_lr = np.concatenate([np.full(K1, P.embed_lr), grid2["embed_lr"]])
decoder_lr = np.concatenate([grid1["decoder_lr"], grid2["decoder_lr"]])
decoder_wd = np.concatenate([grid1["decoder_wd"], np.full(K2, P.decoder_wd_2)])
seeds = cu.seed(np.arange(K1 + K2) + 20_000)              # every member its own initialisation,
split_seeds = cu.seed(np.arange(K1 + K2))                 # its own random training set
train_mask = arithmetic.split_masks(task.n, P.fraction, seeds=split_seeds)
val_mask = arithmetic.answerable(sums, train_mask)
target_seeds = cu.seed(np.arange(K1 + K2) + 10_000)      # and its own random targets Y_s, (K, 2p − 1, D)
Y = torch.stack([arithmetic.target_vectors(P.p, task.targets.shape[1], seed=s) for s in target_seeds])

toy = BatchedToyAdditionModel(K1 + K2, p=P.p, width=P.width, seeds=seeds).to(device)
opt = toy_optimizer(toy, embed_lr=embed_lr, decoder_lr=decoder_lr, decoder_wd=decoder_wd)
pairs_d, sums_d, Y_d = pairs.to(device), sums.to(device), Y.to(device)
tm, vm = train_mask.to(device), val_mask.to(device)
start = time.perf_counter()
hist = train_ensemble(toy, mse_per_sample, pairs.expand(K1 + K2, -1, -1), Y[:, sums], steps=P.steps,
                      optimizer=opt, per_member_data=True, sample_weight=train_mask.float(), progress=False,
                      record_steps=range(0, P.steps + 1, P.record_every),
                      metrics=toy_metrics(pairs_d, Y_d, sums_d, tm, vm))   # accuracies and embeddings E
toy_seconds = time.perf_counter() - start
steps = np.asarray(hist.steps)
print(f"{K1 + K2} toy models, {P.steps} steps each, trained as one ensemble")

t_train = first_step_reaching(hist, "train_acc", P.threshold)
t_val = first_step_reaching(hist, "val_acc", P.threshold)
phase = theory.classify_phase(t_train, t_val, budget=P.steps)
rqi = rqi_history(hist["E"][..., None], delta=0.1)              # (records, K), as in Grokking I
t_rqi = first_step_crossing(steps, rqi, P.threshold)
generalises = np.isin(phase, [0, 1])
# the representation's timing, per run: 0 at or before the fit, 1 after the fit, 2 no generalisation
timing = np.where(~generalises, 2, np.where(t_rqi <= t_train, 0, 1))
TIMING = ("representation at/before the fit", "representation after the fit", "does not generalise")


def cell_codes(grid, codes, x, y):
    """(ny, nx) code of each cell: the runs' common code, or -1 where the seeds disagree (split)."""
    runs = grid.to_array(codes, name="code").transpose(y, x, "seed").values
    return np.where((runs == runs[..., :1]).all(-1), runs[..., 0], -1)


def log_edges(v):
    """Cell edges of log-spaced centres v: geometric midpoints, and half a step beyond each end."""
    lv = np.log10(np.asarray(v, dtype=float))
    mid = (lv[1:] + lv[:-1]) / 2
    return 10 ** np.r_[lv[0] - (mid[0] - lv[0]), mid, lv[-1] + (lv[-1] - mid[-1])]


def draw_map(ax, xs, ys, cells, names, colours, *, xlabel, ylabel, title):
    """Categorical map on log axes, cell edges in log space; code −1 (split seeds) hatched grey."""
    cmap = mpl.colors.ListedColormap(["0.85"] + list(colours))
    norm = mpl.colors.BoundaryNorm(np.arange(-1.5, len(names)), len(names) + 1)
    ax.pcolormesh(log_edges(xs), log_edges(ys), cells, cmap=cmap, norm=norm)
    iy, ix = np.nonzero(cells == -1)
    ex, ey = log_edges(xs), log_edges(ys)
    for i, j in zip(iy, ix):
        ax.fill_between([ex[j], ex[j + 1]], ey[i], ey[i + 1], facecolor="none", edgecolor="0.4", hatch="///", lw=0)
    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel, title=title)
    ax.set_xticks(xs[::2], [f"{v:.2g}" for v in xs[::2]])
    ax.set_yticks(ys[::2], [f"{v:.2g}" for v in ys[::2]])
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.yaxis.set_minor_locator(mpl.ticker.NullLocator())
    ax.grid(False)
    handles = [mpl.patches.Patch(color=c, label=n) for n, c in zip(names, colours)]
    if (cells == -1).any():
        handles.append(mpl.patches.Patch(facecolor="0.85", edgecolor="0.4", hatch="///", label="split (seeds differ)"))
    return handles


PHASE_COLOURS = ["C2", "C1", "C3", "C7"]
TIMING_COLOURS = ["C0", "k", "0.6"]
map1 = dict(x="decoder_lr", y="decoder_wd")
map2 = dict(x="decoder_lr", y="embed_lr")

# %% tags=["hide-input"]
fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")
for row, (grid, sl, m, ylab, what) in enumerate(
        ((grid1, slice(0, K1), map1, "decoder weight decay", f"embedding lr {P.embed_lr:g}, {P.seeds} seeds"),
         (grid2, slice(K1, K1 + K2), map2, "embedding learning rate", f"decoder weight decay {P.decoder_wd_2:g}, "
                                                                       f"{P.seeds_2} seed"))):
    xs, ys = grid.coords[m["x"]], grid.coords[m["y"]]
    h1 = draw_map(axes[row, 0], xs, ys, cell_codes(grid, phase[sl], **m), theory.PHASES, PHASE_COLOURS,
                  xlabel="decoder learning rate", ylabel=ylab, title=f"phase from accuracies; {what}")
    h2 = draw_map(axes[row, 1], xs, ys, cell_codes(grid, timing[sl], **m), TIMING, TIMING_COLOURS,
                  xlabel="decoder learning rate", ylabel=ylab, title="when the representation formed (RQI ≥ 0.9)")
fig.legend(handles=h1 + [h for h in h2 if h.get_label() not in [g.get_label() for g in h1]],
           loc="outside lower center", ncol=4, fontsize=8)
plt.show()

# %%
split1 = int((cell_codes(grid1, phase[:K1], **map1) == -1).sum())
print(f"runs per phase (both maps): {dict(zip(theory.PHASES, np.bincount(phase, minlength=4).tolist()))}")
print(f"map 1: {split1} of {len(P.decoder_lrs) * len(P.decoder_wds)} cells are split (the two seeds differ in phase)")
grok = phase == 1
print(f"runs that generalise: {generalises.sum()}; of them with RQI ≥ 0.9 no later than 90 % training accuracy: "
      f"{np.sum(timing[generalises] == 0)}")
print(f"'grokking' runs: {grok.sum()}; RQI ≥ 0.9 no later than the fit: {np.sum(timing[grok] == 0)}; "
      f"median t_val − t_train {np.median((t_val - t_train)[grok]):.0f} steps, "
      f"t_rqi − t_train from {np.min((t_rqi - t_train)[grok]):.0f} to {np.max((t_rqi - t_train)[grok]):.0f} steps")

# %% [markdown]
# The checks below state what the maps show. They count runs: every run is an independent draw
# (initialisation, split, targets), so a count over $n$ runs has a binomial error
# $\sqrt{n\,p(1-p)}$. At the four smallest weight decays, most runs with the two fastest decoder
# learning rates memorise (over COURSE_SEED 0–5: 13 to 16 of 16, so "at least 10 of 16" lies four
# binomial standard deviations below the mean); the Goldilocks zone is at the slow end: the share
# that generalises in the two slowest columns exceeds that in the two fastest by more than two
# standard errors of the difference; at the largest weight decay the decoder cannot fit
# (confusion). And the new measurement: among the runs that generalise — comprehension and
# grokking alike — the representation reaches RQI 0.9 no later than the training accuracy reaches
# 90 %.

# %%
runs = grid1.to_array(phase[:K1], name="phase").transpose("decoder_wd", "decoder_lr", "seed").values
n_lr, n_wd = len(P.decoder_lrs), len(P.decoder_wds)
small_wd = runs[: n_wd // 2]                                   # the smaller half of the weight decays
slow, fast = small_wd[:, : n_lr // 4].ravel(), small_wd[:, -(n_lr // 4):].ravel()   # quarters of the lr axis
cu.check_count("phases present among the runs of the lr × weight decay map", len(np.unique(runs)), at_least=4, of=4)
cu.check_count("small weight decay, two fastest decoder learning rates: runs that memorise", int(np.sum(fast == 2)),
               at_least=int(np.ceil(0.6 * fast.size)), of=fast.size)
gen_slow, gen_fast = np.isin(slow, [0, 1]).mean(), np.isin(fast, [0, 1]).mean()
gen_pooled = (gen_slow + gen_fast) / 2
se_diff = np.sqrt(gen_pooled * (1 - gen_pooled) * (1 / slow.size + 1 / fast.size))
print(f"small weight decay: generalising runs {gen_slow:.2f} of the slowest quarter vs {gen_fast:.2f} of the fastest\n    "
      f"(difference {(gen_slow - gen_fast) / se_diff:.1f} standard errors)")
cu.check_less("small weight decay: generalising share, slowest minus fastest quarter, in standard errors (> 2)",
              2.0, (gen_slow - gen_fast) / se_diff)
cu.check_count("largest weight decay: runs that are not confused", int(np.sum(runs[-1] != 3)), at_most=1,
               of=runs[-1].size)
# Over COURSE_SEED 0-2, every generalising run (75 to 78 of them, 20 to 25 'grokking') had RQI ≥ 0.9 no
# later than 90 % training accuracy. If the true share were 0.97, a run of n = 75 would show about 2
# exceptions (s.d. 1.5): 90 % of n allows 7.5, more than three s.d. above that.
cu.check_count("runs that generalise: RQI ≥ 0.9 no later than 90 % training accuracy",
               int(np.sum(timing[generalises] == 0)), at_least=int(np.ceil(0.9 * generalises.sum())),
               of=int(generalises.sum()))
cu.check_count("'grokking' runs: RQI ≥ 0.9 no later than 90 % training accuracy", int(np.sum(timing[grok] == 0)),
               at_least=int(np.ceil(0.8 * grok.sum())), of=int(grok.sum()))

# %% [markdown]
# The accuracy maps (left) show the paper's phases where the paper puts them: memorisation for fast
# decoders at small weight decay, confusion at strong weight decay, comprehension and grokking in a
# Goldilocks zone between, and in the second map the boundary of memorisation moving to faster
# decoders as the embeddings learn faster — the representation has to be learned before the
# decoder has memorised. The maps are noisy: many cells of the first map are split, the two seeds
# landing in different phases, and we draw them so rather than pick a winner.
#
# The maps on the right answer the question the accuracies cannot. In every cell where runs
# generalise, the representation formed **at or before** the fit — in the "grokking" cells too (at
# COURSE_SEED 0–3, all of the 75 to 78 runs that generalise, 20 to 25 of them "grokking").
# Their late validation accuracy is not a late representation: the embeddings were already on
# their line when the training set was fit, and the decoder, slowed by a small learning rate or
# held small by its weight decay, needed longer to read the line out for the validation pairs.
# This agrees with the paper's own account of its slow-decoder corner (inefficient decoder
# training), and with Grokking I: in the toy model we find no run that memorises first and forms
# its representation later. The grokking phase of the toy model is, in our runs, a slow readout.
#
# **Explore: one run behind each cell.** Choose a cell of the first map (decoder learning rate and
# weight decay) and a seed to see that run's training and validation accuracy and the RQI of its
# embeddings (δ = 0.1, as above). The map shows the majority phase of the seeds, and "split" where they
# disagree. The default is the "grokking" run with the longest delay: watch the RQI reach 0.9 before
# the training accuracy does, and the validation accuracy follow much later — the slow readout.

# %%
from IPython.display import display

from course_utils.explorers import grokking_phase_map

ex = grokking_phase_map.explorer(grid1, x="decoder_lr", y="decoder_wd", steps=hist["step"],
                                 train_acc=hist["train_acc"][:, :K1], val_acc=hist["val_acc"][:, :K1],
                                 embeddings=hist["E"][:, :K1, :, None], threshold=P.threshold, budget=P.steps,
                                 x_label="decoder learning rate", y_label="decoder weight decay", phase=phase[:K1],
                                 delta=0.1)
ex.show()
weight_decays = ex.controls["decoder_wd"].options
display(ex.variants("decoder_wd", weight_decays[:: len(weight_decays) // 4]))   # four weight decays, this lr and seed

# %% [markdown]
# ## 3. Grokking on real data
#
# Grokking is not special to algorithmic tasks {cite:p}`liu2023omnigrok`. Take a deep MLP
# ($64 \to 128 \to 128 \to 10$, ReLU) on 200 images of scikit-learn's 8×8 digits (they ship with
# scikit-learn: no download), mean squared error on one-hot targets, AdamW with a small weight
# decay, and **initialise the weights large**, every layer's weights and biases times
# $\alpha = 8$. The network fits the training set quickly, with the test accuracy near chance;
# much later the test accuracy rises.
#
# This is the recipe of the digits and MNIST experiments of {cite:t}`liu2023omnigrok` (a ReLU MLP,
# mean squared error, AdamW, a large initialisation), scaled down. It differs from the setting in
# which {cite:t}`kumar2024grokking` develop their lazy-to-rich account (tanh units, Adam), for
# two reasons: with ReLU, which is positively homogeneous, multiplying every
# weight and bias by $\alpha$ multiplies the pre-activations layer by layer and the initial
# features stay ReLU features, whereas $\tanh$ saturates at large $\alpha$ and would change the
# features themselves; and decoupled weight decay (AdamW) is what shrinks the norm here — the
# mechanism we test by doubling it.
#
# Why? With large weights the network is in the **lazy** regime: it fits the data by tiny
# relative changes of its weights, as a linear model in its (random, initial) features would,
# and such a kernel model generalises poorly here. Weight decay slowly shrinks the weights; once
# the norm has come down far enough the features themselves start to change — the network enters
# the **rich** regime, learns features adapted to the digits, and generalises. Grokking is this
# transition from lazy to rich training {cite:p}`kumar2024grokking`. It predicts that every
# knob that makes training rich from the start removes the delay. The four knobs of
# [Lazy versus rich learning](../04_feature_learning/02_lazy_vs_rich.ipynb), where they are shown
# to be one knob, each with its one-line reason here:
#
# - **smaller initialisation** ($\alpha = 1$): small weights must change by a lot, relative to
#   themselves, to fit the targets, so the features move;
# - **larger target scale** (one-hot targets × $\alpha^2$): a larger function must be built, and
#   the initial features, of scale set by $\alpha$, cannot provide it by a small change;
# - **smaller input scale** (inputs × $1/\alpha^2$): the first layer's pre-activations are
#   shrunk, so the weights must grow, i.e. change substantially, to carry the signal;
# - **smaller output scale** (the network's output × $1/\alpha^2$): the same as a larger target,
#   seen from the network's side — fitting requires a large relative change of the weights. For
#   the mean squared error the two are *exactly* the same loss up to a constant factor,
#   $|f/\alpha^2 - y|^2 = \alpha^{-4}|f - \alpha^2 y|^2$, and Adam's update $m/\sqrt{v}$ does not
#   see a constant factor of the loss (apart from its small $\epsilon$): their curves coincide
#   for that reason, and with plain gradient descent they would not;
#
# and **weight decay** (a larger one, × 2), which shrinks the weights faster to where learning is
# rich. One ensemble holds the baseline and each knob (the input scale, target scale and output
# scale are per-member data and a per-member output factor), five more initialisations of the
# baseline and of the stronger weight decay (to compare the two as distributions, not as one draw
# each), and, below, a small phase diagram.

# %%
z, labels = digits_data.load_digits()
z = digits_data.standardize(z)
perm = torch.randperm(len(z), generator=torch.Generator().manual_seed(cu.seed(0)))
tr_idx, te_idx = perm[:P.n_train], perm[P.n_train:P.n_train + P.n_test]
a = P.alpha
#            name,               init,  input,    target, output,    weight decay, last-layer lr
variants = [("baseline (α = 8)", a,     1.0,      1.0,    1.0,       P.wd,         P.lr),
            ("smaller init",     1.0,   1.0,      1.0,    1.0,       P.wd,         P.lr),
            ("larger targets",   a,     1.0,      a ** 2, 1.0,       P.wd,         P.lr),
            ("smaller inputs",   a,     a ** -2,  1.0,    1.0,       P.wd,         P.lr),
            ("smaller outputs",  a,     1.0,      1.0,    a ** -2,   P.wd,         P.lr),
            ("weight decay × 2", a,     1.0,      1.0,    1.0,       2 * P.wd,     P.lr)]
grid3 = Grid(weight_decay=P.real_wds, last_lr=P.last_lrs)
members = variants + [(f"wd {w:g}, last lr {l:g}", a, 1.0, 1.0, 1.0, w, l)
                      for w, l in zip(grid3["weight_decay"], grid3["last_lr"])]
KV, K3 = len(variants), grid3.size
members += [variants[0]] * P.repeats + [variants[5]] * P.repeats       # more initialisations of the two
init_seeds = [0] * (KV + K3) + list(range(1, P.repeats + 1)) * 2
base_runs = np.r_[0, KV + K3 + np.arange(P.repeats)]                 # members: baseline, 1 + repeats inits
wd2_runs = np.r_[5, KV + K3 + P.repeats + np.arange(P.repeats)]      # weight decay × 2, the same inits
col = lambda j: torch.tensor([m[j] for m in members], dtype=torch.float32)  # noqa: E731
init_s, in_s, tgt_s, out_s, wd_s, last_lr = (col(j) for j in range(1, 7))


class ScaledOutput(torch.nn.Module):
    """A batched MLP whose member k's output is multiplied by scale[k]."""

    def __init__(self, net, scale):
        super().__init__()
        self.net, self.n_members = net, net.n_members
        self.register_buffer("scale", scale.view(-1, 1, 1))

    def forward(self, x):
        return self.net(x) * self.scale

    def features(self, x):
        """The last hidden layer's activations, (K, N, width)."""
        return self.net.features(x)


K = len(members)
net = BatchedMLP(K, [64, P.mlp_width, P.mlp_width, 10], "relu", init_scale=init_s.numpy(),
                 seeds=cu.seed(init_seeds))
mlp_model = ScaledOutput(net, out_s).to(device)
Xtr = (z[tr_idx][None] * in_s.view(-1, 1, 1)).to(device)        # per-member inputs (K, N, 64)
Xte = (z[te_idx][None] * in_s.view(-1, 1, 1)).to(device)
Ytr = (torch.nn.functional.one_hot(labels[tr_idx], 10).float()[None] * tgt_s.view(-1, 1, 1)).to(device)
ytr, yte = labels[tr_idx].to(device), labels[te_idx].to(device)
hidden = [p for p in net.parameters()][:-2]                     # all but the last layer
last = list(net.layers[-1].parameters())
mopt = BatchedAdamW([dict(params=hidden, lr=P.lr, weight_decay=wd_s.numpy()),
                     dict(params=last, lr=last_lr.numpy(), weight_decay=wd_s.numpy())])
theta0 = diagnostics.snapshot(mlp_model.parameters())


def feature_stats(m):
    """Effective dimension and CKA of the last hidden layer's features: (K, 2), computed for the
    knob variants only (the phase-map members get NaN; their spectra would cost most of the time)."""
    K_feat = diagnostics.feature_kernel(m.features(Xtr)[:KV], center=True)
    out = torch.full((K, 2), float("nan"), dtype=torch.float64, device=K_feat.device)
    out[:KV] = torch.stack([diagnostics.effective_dimension(K_feat + 1e-12 * torch.eye(P.n_train, device=K_feat.device)),
                            diagnostics.kernel_alignment(K_feat, ytr)], dim=1)
    return out


start = time.perf_counter()
mhist = train_ensemble(mlp_model, mse_per_sample, Xtr, Ytr, steps=P.mlp_steps, optimizer=mopt,
                       per_member_data=True, progress=False,
                       record_steps=range(0, P.mlp_steps + 1, P.mlp_record_every),
                       metrics={"train_acc": lambda m: accuracy(m(Xtr), ytr),
                                "test_acc": lambda m: accuracy(m(Xte), yte),
                                "weight_norm": lambda m: diagnostics.weight_norm(m.parameters(), batched=True),
                                "rel_change": lambda m: diagnostics.relative_weight_change(
                                    m.parameters(), theta0, batched=True),
                                "features": feature_stats})
mlp_seconds = time.perf_counter() - start
msteps = mhist["step"]
mt_train = first_step_reaching(mhist, "train_acc", 0.99)
mt_test = first_step_reaching(mhist, "test_acc", P.test_threshold)
print(f"{'variant':<18} steps to 99% train | steps to {P.test_threshold:.0%} test | final test acc")
for k, m in enumerate(variants):
    print(f"{m[0]:<18} {mt_train[k]:>12.0f}      | {mt_test[k]:>12.0f}   | {mhist['test_acc'][-1, k]:.3f}")

# %% tags=["hide-input"]
fig, axes = cu.panels(6, panel_height=2.7, sharex=True)
for k, m in enumerate(variants):
    style = dict(color=f"C{k}", lw=2.5 if k == 0 else 1.5)
    axes[0].plot(msteps, mhist["train_acc"][:, k], ls="--", **style)
    axes[0].plot(msteps, mhist["test_acc"][:, k], label=m[0], **style)
    axes[1].plot(msteps, mhist["weight_norm"][:, k] / mhist["weight_norm"][0, k], **style)
    axes[2].plot(msteps, mhist["rel_change"][:, k], **style)
    axes[3].plot(msteps, mhist["features"][:, k, 0], **style)
    axes[4].plot(msteps, mhist["features"][:, k, 1], **style)
for k in np.r_[base_runs[1:], wd2_runs[1:]]:                       # the other initialisations, test accuracy
    axes[0].plot(msteps, mhist["test_acc"][:, k], color="C0" if k in base_runs else "C5", lw=0.6, alpha=0.7)
axes[0].plot([], [], color="0.4", lw=0.6, label="test, other initialisations")
axes[0].axhline(P.onset_threshold, color="k", ls=":", lw=1, label=f"onset of generalisation ({P.onset_threshold:.0%})")
axes[0].set_ylabel("accuracy (dashed: training)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
axes[1].set_ylabel(r"weight norm $\|\theta_t\| / \|\theta_0\|$")
axes[2].set_ylabel(r"rel. change $\|\theta_t - \theta_0\| / \|\theta_0\|$")
axes[3].set_ylabel("effective dimension")
axes[4].set_ylabel("kernel–label alignment (CKA)")
k0 = 0
axes[5].plot(msteps, mhist["test_acc"][:, k0], color="C0", label="test accuracy")
axes[5].plot(msteps, mhist["features"][:, k0, 1], color="C3", label="CKA")
axes[5].plot(msteps, mhist["weight_norm"][:, k0] / mhist["weight_norm"][0, k0], color="C7",
             label="weight norm (relative)")
axes[5].set_title("the baseline run")
axes[5].set_ylim(0, 1.35)                                          # room for the legend above the curves
axes[5].legend(fontsize=7, loc="upper right")
for ax in axes[4:]:
    ax.set_xlabel("step")
plt.show()

# %%
base_delay = mt_test[0] - mt_train[0]
knob_delay = mt_test[1:KV] - mt_train[1:KV]
knob_delay = np.where(np.isfinite(knob_delay), knob_delay, np.inf)   # a knob that never generalises: no pass
print(f"baseline: fits at step {mt_train[0]:.0f}, generalises at step {mt_test[0]:.0f} (delay {base_delay:.0f})")
print("delay t_test − t_train of the four rich knobs and of weight decay × 2:",
      dict(zip([v[0] for v in variants[1:]], knob_delay.tolist())))
cu.check_less("baseline: test accuracy when the training set is fit (lazy fit, near chance)",
              float(np.interp(mt_train[0], msteps, mhist["test_acc"][:, 0])), 0.5)
cu.check_less("baseline: steps to fit / steps to generalise (grokking)", mt_train[0] / mt_test[0], 0.7)
# Records are 80 steps apart, a few per cent of the baseline's delay; over COURSE_SEED 1-5 each of the four
# knobs reached 80 % test accuracy no later than 99 % training accuracy (delay ≤ 0).
cu.check_less("largest delay with one of the four rich knobs turned, in units of the baseline's delay",
              knob_delay[:4].max() / base_delay, 0.1)
# weight decay × 2, over 1 + repeats initialisations: when does generalisation begin (test accuracy
# above 70 %; the lazy fit sits near 15 %)?
onset = first_step_reaching(mhist, "test_acc", P.onset_threshold)
onset = np.where(np.isfinite(onset), onset, np.inf)
print(f"onset of generalisation ({P.onset_threshold:.0%} test), {len(base_runs)} initialisations each:\n    baseline "
      f"{onset[base_runs].min():.0f}–{onset[base_runs].max():.0f}, weight decay × 2 "
      f"{onset[wd2_runs].min():.0f}–{onset[wd2_runs].max():.0f} steps; ratio of the medians "
      f"{np.median(onset[wd2_runs]) / np.median(onset[base_runs]):.2f}")
print(f"runs that reach {P.test_threshold:.0%} test accuracy within the budget: baseline "
      f"{np.isfinite(mt_test[base_runs]).sum()} of {len(base_runs)}, weight decay × 2 "
      f"{np.isfinite(mt_test[wd2_runs]).sum()} of {len(wd2_runs)}")
cu.check_less("weight decay × 2: latest onset of generalisation / earliest onset of the baseline (all initialisations)",
              onset[wd2_runs].max() / onset[base_runs].min(), 0.75)

# %% [markdown]
# The baseline groks: the training set is fit early with test accuracy near chance, and the test
# accuracy rises much later. Each of the four knobs that make training rich **removes** the delay:
# the test accuracy reaches 80 % no later than a tenth of the baseline's delay after the fit (the
# check; the printout gives each knob's delay, in steps, read on records 80 steps apart). A
# stronger weight decay does not remove the delay but **shortens** it: with weight decay × 2 every one
# of six initialisations passes 70 % test accuracy before the first of six baseline runs does (last
# check). That the onset does not come at exactly half the baseline's time is expected: the first
# few hundred steps, spent fitting, do not scale with the weight decay. With the stronger decay some
# runs level off near 80 % test accuracy (the figure), so the count of runs that pass that
# threshold within the budget (printed above) can change with the draw.
#
# **What tracks the onset?** If generalisation came with a change of the features, the diagnostics
# of feature learning would move with the test accuracy. We read them at three moments of every
# baseline and weight-decay-× 2 run: at the fit, at the onset (70 % test accuracy) and at the end.

# %%
i_fit0, i_on0 = (int(np.searchsorted(msteps, t)) for t in (mt_train[0], onset[0]))
cka, deff = mhist["features"][:, 0, 1], mhist["features"][:, 0, 0]
norm_rel = mhist["weight_norm"] / mhist["weight_norm"][0]          # (records, K)
print("baseline run    |  at the fit | at the onset | at the end")
print(f"step            | {msteps[i_fit0]:>10.0f}  | {msteps[i_on0]:>10.0f}   | {msteps[-1]:>8.0f}")
for name, v in (("test accuracy", mhist["test_acc"][:, 0]), ("CKA", cka), ("effective dim.", deff),
                ("weight norm", norm_rel[:, 0])):
    print(f"{name:<15} | {v[i_fit0]:>10.3g}  | {v[i_on0]:>10.3g}   | {v[-1]:>8.3g}")
both = np.r_[base_runs, wd2_runs]
i_on = np.searchsorted(msteps, np.where(np.isfinite(onset[both]), onset[both], msteps[-1]))
norm_at_onset = norm_rel[i_on, both]
print(f"relative weight norm at the onset, {both.size} runs (baseline, then weight decay × 2):\n    "
      f"{[round(float(v), 3) for v in norm_at_onset]}; onset steps {[int(v) for v in onset[both]]}")
# Between the fit and the onset: the change of log CKA against the change of log weight norm. In the
# stored run CKA moves by about a tenth of what the norm does; the bound, one half, leaves room for the
# draw (the weight norm falls by a factor of about 2.6 over the delay in the stored run).
d_cka = abs(np.log(cka[i_on0] / cka[i_fit0]))
d_norm = abs(np.log(norm_rel[i_on0, 0] / norm_rel[i_fit0, 0]))
cu.check_less("baseline, from the fit to the onset: |Δ log CKA| / |Δ log weight norm|", d_cka / d_norm, 0.5)
cu.check_less("baseline: weight norm at the end relative to the start (weight decay shrinks it)",
              norm_rel[-1, 0], 0.6)

# %% [markdown]
# The printout answers it. Between the fit and the onset the test accuracy rises from near chance
# to 70 %, while the kernel–label alignment (CKA) of the last hidden layer and its effective
# dimension barely move (the check: the change of log CKA is a small fraction of the change of log
# weight norm). The quantity that moves steadily through the delay is the weight norm, which weight
# decay shrinks. In the baseline the alignment rises only after the onset, towards the end of
# training; with weight decay × 2 (light blue in the figure) it rises while the test accuracy does.
# The feature diagnostics do not lead the test accuracy in either. The weight norm at the onset (printed for
# twelve runs) is similar within each group but lower with the stronger decay, so it is not a sharp
# threshold either. What we can say: grokking here is the slow escape from a large-norm, lazy fit
# under weight decay, in the spirit of the "LU" picture of {cite:t}`liu2023omnigrok`, and every knob
# that makes training rich from the start removes it, as {cite:t}`kumar2024grokking` predict.
#
# ## 4. A phase diagram on real data
#
# The same phases on the digits: weight decay × learning rate of the last layer, at the large
# initialisation $\alpha = 8$ (one seed per cell, the members after the knob variants in the
# same ensemble). The threshold for generalisation is 80 % test accuracy; the cells are drawn
# with edges half-way between the grid values in log space.

# %%
ph_real = theory.classify_phase(mt_train[KV:KV + K3], mt_test[KV:KV + K3], budget=P.mlp_steps)
ph3 = grid3.to_array(ph_real, name="phase").transpose("weight_decay", "last_lr").values

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(6.5, 4.6), layout="constrained")
handles = draw_map(ax, np.asarray(P.last_lrs), np.asarray(P.real_wds), ph3, theory.PHASES, PHASE_COLOURS,
                   xlabel="last-layer learning rate", ylabel="weight decay", title=r"digits, $\alpha = 8$, one seed per cell")
ax.set_xticks(P.last_lrs, [f"{v:g}" for v in P.last_lrs])
ax.set_yticks(P.real_wds, [f"{v:g}" for v in P.real_wds])
ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
plt.show()

# %%
print("cells per phase:", {theory.PHASES[c]: int((ph3 == c).sum()) for c in range(4)})
print(f"wall time: toy ensemble {toy_seconds:.0f} s, digits ensemble {mlp_seconds:.0f} s")
weakest = ph3[0]
cu.check_count("weakest weight decay: cells that generalise within the budget", int(np.sum(np.isin(weakest, [0, 1]))),
               at_most=len(weakest) // 2 - 1, of=len(weakest))

# %% [markdown]
# At the weakest weight decay the large-initialisation network fits but does not generalise within
# the budget in at least three of the four cells (the check): memorisation, the lazy fit of §3
# that weight decay has not yet undone. With stronger weight decay runs generalise, mostly after a
# delay (grokking); in the stored run the strongest decay with fast last layers does not fit at all
# (confusion). The last layer's learning rate moves the boundaries, with one seed per cell a noisy
# map.
#
# ## 5. What it means
#
# The same four words describe two different things. In the toy model, a phase read from
# accuracies called "grokking" is, in our runs, a slow readout: the representation is there at
# the fit, and the decoder takes longer to use it; a decoder that memorises first stays memorised.
# On the digits, grokking is a delay between a lazy fit and the moment weight decay has shrunk the
# weights enough for the network to generalise; every knob that makes training rich from the start
# removes it, and more weight decay shortens it. To tell which delay a phase diagram shows, measure
# the slow variable — the representation (RQI) in the toy model, the weight norm on the digits — and
# not only the accuracies. [Grokking III](../05_grokking/03_grokking_transformers.ipynb) does this for
# a transformer on modular addition.
#
# ## Exercises
#
# :::{exercise} The phase rule
# :label: ex-grokking-phases
#
# Write `phase(train_step, val_step, budget)` that returns "comprehension", "grokking",
# "memorisation" or "confusion" by the rule of §1 (a step is `nan` when the threshold is never
# reached). Check it with `exercises.check_phase_classifier(phase)`.
# :::
#
# :::{solution-start} ex-grokking-phases
# :class: dropdown
# :::

# %%
import math


def phase(train_step, val_step, budget):
    if math.isnan(train_step) or train_step > budget:
        return "confusion"
    if math.isnan(val_step) or val_step > budget:
        return "memorisation"
    return "grokking" if val_step > train_step + budget / 10 else "comprehension"


phase_ok = exercises.check_phase_classifier(phase)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Where is the Goldilocks zone?
# :label: ex-grokking-goldilocks
#
# Using the second toy map (`grid2`, `phase[K1:]`), find for each embedding learning rate the
# largest decoder learning rate whose run generalises. How does it move with the embedding
# learning rate? What does that say about the competition?
# :::
#
# :::{solution} ex-grokking-goldilocks
# :class: dropdown
#
# ```python
# v2 = grid2.to_array(phase[K1:], name="phase").transpose("embed_lr", "decoder_lr", "seed").values[..., 0]
# for e, row in zip(P.embed_lrs, v2):
#     ok = np.flatnonzero(np.isin(row, [0, 1]))
#     print(f"{e:.2e}", P.decoder_lrs[ok.max()] if len(ok) else None)
# ```
# The boundary of memorisation moves to faster decoders as the embedding learning rate grows:
# what matters is the ratio of the two speeds, not either alone. The representation has to form
# before the decoder has memorised the training pairs (one seed per cell: expect noise).
# :::
#
# :::{exercise} A late representation?
# :label: ex-grokking-late
#
# Find the runs of both toy maps whose RQI reached 0.9 *after* their training accuracy reached
# 90 % (`t_rqi`, `t_train`, `phase`). How many are there, in which phases, and by how many steps
# (records are 50 steps apart)? What would the maps on the right look like if the toy model's
# grokking were "fit first, representation later"?
# :::
#
# :::{solution} ex-grokking-late
# :class: dropdown
#
# ```python
# late = np.flatnonzero(t_rqi > t_train)
# print(len(late), [theory.PHASES[c] for c in phase[late]], (t_rqi - t_train)[late])
# ```
# Runs that never reach RQI 0.9 have `t_rqi = nan` and are not counted by `>`. Any late run
# that is found is, by the right-hand maps, one that does not generalise within the budget (the
# maps show no generalising run with a late representation). If grokking were a late
# representation, the grokking cells of the left maps would be "representation after the fit" on
# the right: they are not.
# :::
#
# ## Summary
#
# - Four phases from two times, as {cite:t}`liu2022towards` define them: comprehension, grokking,
#   memorisation, confusion. Cells whose seeds disagree are split; we count runs, not cells.
# - In the toy model the representation (RQI ≥ 0.9) forms at or before the fit in the runs that
#   generalise, in the "grokking" cells too: their delay is a slow readout by the decoder, not a
#   late representation.
# - On real digits, a large initialisation makes a deep MLP grok under weight decay; each knob that
#   makes training rich (smaller init, larger targets, smaller inputs, smaller outputs) removes the
#   delay, and twice the weight decay shortens it. Through the delay the weight norm falls steadily
#   while the feature alignment and dimension barely move: the norm, not the alignment, tracks it.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
