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
# # Minimal and extended features: how many features does a trained network use?
#
# A classifier is a feature map followed by a linear readout. After training, how many features does it
# actually carry, how good is each one for the task, and how much does the readout lean on it? If we
# diagonalise the kernel of the last hidden layer, each eigenfunction is one learned feature, with an
# eigenvalue (its intensity), an overlap with the labels (its quality) and a weight in the output (its
# utilisation). {cite:t}`nam2024visualising` found two regimes: **minimal features** (MF), where about as many
# eigenfunctions as there are classes carry everything, and **extended features** (EF), where many more do.
# We define these quantities exactly, measure them on held-out digits through the Nyström extension, and
# test what the MF picture predicts: an effective dimension of $C - 1$ for $C$ classes, a kernel aligned
# with the labels, neural collapse, minimal features even for random labels, and what happens to all of
# this on held-out data as the training set grows.
#
# **Prerequisites:** [When does a network learn features?](02_lazy_vs_rich.ipynb) (effective dimension,
# kernel alignment, the first look at MF and EF) and [Neural collapse](03_neural_collapse.ipynb) (NC1, simplex ETF).
# **Runs in:** about two and a half minutes on a laptop CPU (`COURSE_SCALE=default`); `COURSE_SCALE=paper`
# trains wider networks, longer, over more seeds (a GPU helps).
#
# **Exercises on Colab:** the [student version](https://colab.research.google.com/github/physics-of-learning/physics-of-learning/blob/main/student/04_feature_learning/05_minimal_features.ipynb)
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
from course_utils import diagnostics
from course_utils.data.classification import balanced_indices, load_digits, standardize
from course_utils.ensemble import BatchedAdamW, BatchedMLP, mse_per_sample, train_ensemble
from course_utils.exercises import minimal_features as exercises
from course_utils.theory import features as theory
from course_utils.theory import neural_collapse

cu.use_house_style()
# Small networks: one CPU thread is the fastest device for them.
device = cu.setup(device="cpu")

# %% [markdown]
# ## Parameters
#
# Every network is the same small MLP on scikit-learn's 8×8 digits: two hidden ReLU layers of 128 units,
# standard initialisation, trained full-batch with AdamW on the squared loss to one-hot targets. Several
# networks are trained at once as one batched ensemble (`course_utils.ensemble`): the seeds of §2–4, the
# true- and random-label networks of §5, the draws of each training-set size in §6. `COURSE_SCALE=paper`
# trains wider networks, longer, over more seeds.

# %% tags=["nbval-check-output"]
P = cu.scaled(
    default=dict(width=128, depth=2, lr=5e-3, weight_decay=1.0, steps=2000,                   # every network
                 classes=(2, 5, 10), per_class=50, val_per_class=60, seeds=6,                  # §2–4
                 ef_weight_decay=0.01, ef_seeds=3,                                             # §2 (EF contrast)
                 rl_per_class=10, rl_steps=3000, rl_seeds=6,                                   # §5
                 sizes=(2, 4, 8, 16, 32, 64, 110), size_seeds=3),                              # §6
    paper=dict(width=512, steps=4000, seeds=12, ef_seeds=6, rl_steps=6000, rl_seeds=12, size_seeds=8),
)
P

# %% [markdown]
# ## 1. Learned features as eigenfunctions
#
# Split a trained classifier into its **forward feature map** $\phi:\mathbb R^{64}\to\mathbb R^p$ (the last
# hidden layer, $p = 128$ here) and a linear readout, $f(x) = W\phi(x) + b$ with $W$ of shape $C\times p$. On the
# $N$ training inputs centre the features, $\tilde\phi(x) = \phi(x) - \bar\phi$ ($\bar\phi$ the training mean,
# which the bias $b$ absorbs), and take their kernel $k(x, x') = \tilde\phi(x)\cdot\tilde\phi(x')$. Its
# eigenfunctions with respect to the training sample,
#
# $$
# \frac1N\sum_{i=1}^N k(x, x_i)\,e_k(x_i) = \lambda_k\,e_k(x),\qquad \frac1N\sum_{i=1}^N e_k(x_i)\,e_l(x_i) = \delta_{kl},
# $$ (eq-mf-eigen)
#
# are the network's learned features. On the sample this is the eigenproblem of the $N\times N$ matrix $K/N$,
# $K_{ij} = k(x_i, x_j)$: eigenvectors $u_k$, $e_k(x_i) = \sqrt N u_{ik}$; the $\lambda_k$ are also the
# eigenvalues of the feature covariance $\Sigma = \frac1N\sum_i\tilde\phi(x_i)\tilde\phi(x_i)^\top$, whose
# eigenvectors $v_k$ give $e_k(x) = v_k\cdot\tilde\phi(x)/\sqrt{\lambda_k}$. Why this basis: gradient descent on
# the squared loss moves the readout's output as $\partial_t f(x) = -\frac{\eta}{N}\sum_i k(x, x_i)\bigl(f(x_i) - y_i\bigr)$
# (the kernel of the readout alone, the bias taking care of the mean), so each $e_k$ is learned on its own,
# at the rate $\eta\lambda_k$: the eigenfunctions diagonalise the gradient-descent operator of the last layer.
#
# **Held-out data: the Nyström extension.** The left-hand side of {eq}`eq-mf-eigen` needs $e_k$ only at the
# training points, so it *defines* $e_k$ everywhere:
#
# $$
# e_k(x) = \frac{1}{N\lambda_k}\sum_{i=1}^N k(x, x_i)\,e_k(x_i).
# $$ (eq-mf-nystrom)
#
# On a training point it returns $e_k(x_i)$ (that is {eq}`eq-mf-eigen` again), and it equals
# $v_k\cdot\tilde\phi(x)/\sqrt{\lambda_k}$; both facts are unit tests of `course_utils.theory.features`. We
# diagonalise on the training digits and evaluate every eigenfunction on held-out digits with {eq}`eq-mf-nystrom`.
#
# **Three numbers per feature.** For eigenfunction $k$:
#
# - its **intensity**, the share of the feature variance it carries, $\iota_k = \lambda_k/\sum_j\lambda_j$;
# - its **quality** on a labelled set of $M$ inputs (training or held-out), the fraction of the function that lies
#   in the span of the class indicators,
#
#   $$
#   q_k = \frac{\|P_Y\hat e_k\|^2}{\|\hat e_k\|^2}\in[0, 1],
#   $$ (eq-mf-quality)
#
#   with $\hat e_k$ the vector of its values on the set, centred there, and $P_Y$ the projector onto the
#   centred one-hot label vectors (rank $C-1$). A function that ignores the labels has $q\approx(C-1)/(M-1)$;
# - its **utilisation**: writing the readout in the eigenbasis, $f(x) - \bar f = \sum_k a_k\,e_k(x)$ with
#   $a_k = \sqrt{\lambda_k}\,Wv_k\in\mathbb R^C$, the share of the output variance on the training set that flows
#   through $e_k$,
#
#   $$
#   u_k = \frac{\|a_k\|^2}{\sum_j\|a_j\|^2}.
#   $$ (eq-mf-utilisation)
#
# And two numbers for the whole layer: the **effective dimension** $D_{\rm eff} = \exp(-\sum_k\iota_k\ln\iota_k)$,
# the number of features that carry the variance (`diagnostics.effective_dimension`), and
# $\kappa_{\rm CKA} = 1 - A$, with $A$ the centred kernel alignment between $K$ and the label kernel $YY^\top$
# {cite:p}`kornblith2019similarity` (`diagnostics.kernel_alignment`), on the training set or on held-out data.
#
# **Where these definitions come from.** The decomposition into a forward feature map and a readout, its
# diagonalisation, the words intensity, quality and utilisation, the MF/EF regimes, and the threshold
# $\kappa_{\rm CKA} < 0.1$ on held-out data for "minimal features" are those of {cite:t}`nam2024visualising` and of
# Y. Nam's doctoral thesis, as quoted in [When does a network learn features?](02_lazy_vs_rich.ipynb). We could
# not consult either text while writing this chapter: the exact normalisations above are our reconstruction
# (each is a share between 0 and 1, chosen so that the MF predictions below are exact), and the threshold 0.1
# is a convention of the source, not derived from anything; §6 works out what it means in terms of the held-out error.
#
# **What minimal features predict.** Suppose the training features have collapsed onto $C$ class means that
# form a simplex ETF (neural collapse, NC1 and NC2 of [Neural collapse](03_neural_collapse.ipynb)). Then the
# centred kernel is a multiple of the label projector, $K\propto P_Y$, and
#
# $$
# \iota_k = \frac{1}{C-1}\ (k < C),\qquad D_{\rm eff} = C - 1,\qquad q_k^{\rm train} = 1\ (k < C),\qquad \kappa_{\rm CKA} = 0:
# $$ (eq-mf-predictions)
#
# $C-1$ equally intense features that are exactly the class directions, and no other. (The centred kernel has
# $C - 1$ directions; the mean feature, which the bias absorbs, would be the $C$-th. Counting it, "as many
# features as classes" is the source's phrasing.) **Utilisation of a network that fits its targets.** If the
# centred outputs equal the centred one-hot targets $\tilde y_i$ on the training set, then
# $a_k = \frac1N\sum_i e_k(x_i)\tilde y_i$, and for balanced classes $\sum_c\bigl(\sum_i e_k(x_i)\tilde y_{ic}\bigr)^2 = \frac NC\,\hat e_k^\top P_Y\hat e_k$,
# so $\|a_k\|^2 = q_k^{\rm train}/C$. Summed over all eigenfunctions the qualities add up to $C-1$ (when the
# eigenfunctions span the targets), and
#
# $$
# u_k = \frac{q_k^{\rm train}}{C-1}\qquad\text{(any network that fits its training targets)},
# $$ (eq-mf-utilisation-fit)
#
# which is $1/(C-1)$ for each of the $C-1$ minimal features. Whatever the features, a network that interpolates uses
# each one in proportion to its quality on the training set; what distinguishes MF from EF is how many features
# have any quality, and how much of the variance sits in features of none.

# %%
z_all, y_all = load_digits()


def digit_task(n_classes, per_class, k):
    """The digits 0 … C−1: ``per_class`` training and ``P.val_per_class`` held-out images of each, drawn with
    cu.seed(k), standardised with the training statistics. Returns (X_train, y_train, X_val, y_val)."""
    keep = y_all < n_classes
    z, y = z_all[keep], y_all[keep]
    idx = balanced_indices(y, per_class + P.val_per_class, seed=cu.seed(k))
    y_sel = y[idx]
    tr = torch.cat([idx[y_sel == c][:per_class] for c in range(n_classes)])
    va = torch.cat([idx[y_sel == c][per_class:] for c in range(n_classes)])
    return standardize(z[tr]), y[tr], standardize(z[va], z[tr]), y[va]


def train_networks(X, Y, seeds, weight_decays, steps, desc, record_steps=None, metrics=None):
    """One BatchedMLP (ReLU, P.depth hidden layers of P.width, standard initialisation), member i drawn with
    cu.seed(seeds[i]), trained full-batch with AdamW (learning rate P.lr, weight decay weight_decays[i]) on the
    squared loss. Shared data: X (N, 64), targets Y (N, C); one data set per member: X (K, N, 64), Y (K, N, C)."""
    model = BatchedMLP(len(seeds), [X.shape[-1]] + [P.width] * P.depth + [Y.shape[-1]], "relu", init="normal",
                       seeds=[cu.seed(s) for s in seeds])
    opt = BatchedAdamW(model.parameters(), lr=P.lr, weight_decay=list(weight_decays))
    per_member = Y.dim() == 3
    if per_member and X.dim() == 2:
        X = X.expand(len(seeds), *X.shape)                                    # the same inputs for every member
    hist = train_ensemble(model, mse_per_sample, X, Y, steps=steps, optimizer=opt, per_member_data=per_member,
                          record_steps=record_steps if record_steps is not None else [0, steps],
                          metrics=metrics, desc=desc)
    return model, hist


def member_labels(y, k):
    """Member k's labels: y[k] when every member has its own labels (shape (K, N)), else the shared y (N,)."""
    return y[k] if y.dim() == 2 else y


def measure(model, X, y, Xv, yv):
    """For every member: κ_CKA, D_eff, NC1 and errors on the training and held-out sets, κ of the same predictions
    with collapsed features (§6), and the intensity, quality (training; held-out through the Nyström extension)
    and utilisation of every eigenfunction. Inputs and labels are shared or have a leading member axis."""
    with torch.no_grad():
        H, Hv = model.features(X), model.features(Xv)
        out_v = model.layers[-1](Hv)
        out = model.layers[-1](H)
    W = model.layers[-1].weight.detach().transpose(1, 2)                       # (K, C, p): rows w_c
    rows = []
    for k in range(model.n_members):
        yk, yvk = member_labels(y, k), member_labels(yv, k)
        C = int(yk.max()) + 1
        K_t = diagnostics.feature_kernel(H[k], center=True)
        K_v = diagnostics.feature_kernel(Hv[k], center=True)
        ef = theory.eigenfeatures(H[k])
        e_val = ef.evaluate(Hv[k])
        pred_v = out_v[k].argmax(-1)
        Yc = torch.nn.functional.one_hot(yk, C).double()
        resid = ((out[k] - out[k].mean(0)) - (Yc - Yc.mean(0))).norm() / (Yc - Yc.mean(0)).norm()
        rows.append(dict(
            kappa_train=1 - diagnostics.kernel_alignment(K_t, yk).item(),
            kappa_val=1 - diagnostics.kernel_alignment(K_v, yvk).item(),
            kappa_conf=1 - theory.collapsed_alignment(yvk, pred_v, C),
            d_train=diagnostics.effective_dimension(K_t).item(), d_val=diagnostics.effective_dimension(K_v).item(),
            kappa_means=1 - theory.alignment_from_scatter(neural_collapse.class_means(H[k], yk)[0][yk.numpy()], yk),
            nc1=neural_collapse.nc1(H[k], yk), nc1_bound=theory.nc1_bound(H[k], yk)[1], fit_residual=resid.item(),
            err_train=(out[k].argmax(-1) != yk).double().mean().item(), err_val=(pred_v != yvk).double().mean().item(),
            intensity=theory.intensity(ef), quality_train=theory.quality(ef.train_values, yk),
            quality_val=theory.quality(e_val, yvk), utilisation=theory.utilisation(ef, W[k]), e_val=e_val[:, :2], y_val=yvk))
    return rows


def stack(rows, key):
    """One number per network: the entry ``key`` of every row, as an array."""
    return np.array([r[key] for r in rows])


def kappa_nc1_metrics(X, y):
    """Metrics for train_ensemble: κ_CKA and NC1 of every member's training features (the trajectories of §4)."""
    def kappa(model):
        return 1 - diagnostics.kernel_alignment(diagnostics.feature_kernel(model.features(X), center=True), y)

    def nc1(model):
        H = model.features(X)
        return torch.tensor([neural_collapse.nc1(H[k], y) for k in range(model.n_members)])
    return dict(kappa=kappa, nc1=nc1)


# %% [markdown]
# ## 2. A minimal-feature network and an extended one
#
# **The experiment.** Ten digit classes, 50 training and 60 held-out images of each. Six networks are trained
# with strong weight decay (AdamW, decay 1 at learning rate $5\cdot10^{-3}$, 2000 steps), which removes every
# weight the fit does not need and drives the features to collapse; three more, from their own
# initialisations, with weak weight decay (0.01), which fit the training set just as well. The same recipe
# trains the networks with $C = 2$ and $C = 5$ classes used in §3 (the digits 0–1 and 0–4), six each. Each
# $C$ is one batched ensemble; $\kappa_{\rm CKA}$ and NC1 are recorded along the way for §4.

# %%
record = cu.log_spaced_steps(P.steps, 16)
runs = {}
for C in P.classes:
    X, y, Xv, yv = digit_task(C, P.per_class, k=C)
    seeds = list(range(100, 100 + P.seeds)) + (list(range(200, 200 + P.ef_seeds)) if C == max(P.classes) else [])
    wds = [P.weight_decay] * P.seeds + [P.ef_weight_decay] * (len(seeds) - P.seeds)
    model, hist = train_networks(X, torch.nn.functional.one_hot(y, C).float(), seeds, wds, P.steps,
                                 desc=f"C = {C}", record_steps=record, metrics=kappa_nc1_metrics(X, y))
    runs[C] = dict(rows=measure(model, X, y, Xv, yv), hist=hist, weak=np.array(wds) < P.weight_decay)

C10 = max(P.classes)
mf_rows = [r for r, w in zip(runs[C10]["rows"], runs[C10]["weak"]) if not w]
ef_rows = [r for r, w in zip(runs[C10]["rows"], runs[C10]["weak"]) if w]


def top_share(rows, key, n):
    """Per network: the sum of ``key`` over its n first eigenfunctions."""
    return np.array([r[key][:n].sum() for r in rows])


print(f"C = {C10}: per network (range over the networks)       MF (decay {P.weight_decay:g})   EF (decay {P.ef_weight_decay:g})")
for label, fn in [("training error", lambda rr: stack(rr, "err_train")),
                  ("held-out error", lambda rr: stack(rr, "err_val")),
                  ("D_eff (training)", lambda rr: stack(rr, "d_train")),
                  (f"intensity in the first {C10 - 1} features", lambda rr: top_share(rr, "intensity", C10 - 1)),
                  (f"utilisation of the first {C10 - 1}", lambda rr: top_share(rr, "utilisation", C10 - 1)),
                  (f"mean held-out quality of the first {C10 - 1}", lambda rr: top_share(rr, "quality_val", C10 - 1) / (C10 - 1)),
                  ("mean held-out quality of features 10–30", lambda rr: np.array([r["quality_val"][9:30].mean() for r in rr]))]:
    a, b = fn(mf_rows), fn(ef_rows)
    print(f"  {label:46s} {a.min():6.3f} – {a.max():<6.3f}       {b.min():6.3f} – {b.max():.3f}")

# %% tags=["hide-input"]
ex_mf, ex_ef = mf_rows[0], ef_rows[0]
kk = np.arange(1, 41)
fig, axes = cu.panels(4, panel_height=3.4)
for r, name, c in ((ex_mf, "MF (strong decay)", cu.plotting.PALETTE[0]), (ex_ef, "EF (weak decay)", cu.plotting.PALETTE[1])):
    n = min(40, len(r["intensity"]))
    axes[0].semilogy(kk[:n], r["intensity"][:n], "o", color=c, ms=4, label=f"{name}: $D_{{\\rm eff}}$ = {r['d_train']:.1f}")
    axes[1].plot(kk[:n], r["quality_train"][:n], "o", color=c, ms=4, mfc="none", label=f"{name}, training")
    axes[1].plot(kk[:n], r["quality_val"][:n], "s", color=c, ms=4, label=f"{name}, held-out (Nyström)")
    axes[2].semilogy(kk[:n], np.maximum(r["utilisation"][:n], 1e-7), "o", color=c, ms=4, label=f"{name}: measured")
    axes[2].semilogy(kk[:n], np.maximum(r["quality_train"][:n] / (C10 - 1), 1e-7), "-", color=c, lw=1.2,
                        label=f"{name}: $q_k^{{\\rm train}}/(C-1)$ (eq-mf-utilisation-fit)")
axes[0].axhline(1 / (C10 - 1), color="k", ls="--", lw=1, label="MF prediction $1/(C-1)$")
axes[0].axvline(C10 - 0.5, color="k", ls=":", lw=1)
axes[0].set_ylim(1e-6, 10)  # room for the legend above the data
axes[0].set(xlabel="eigenfunction $k$", ylabel="intensity $\\lambda_k/\\sum_j\\lambda_j$")
axes[1].axhline((C10 - 1) / (len(ex_mf["y_val"]) - 1), color="k", ls="--", lw=1, label="labels ignored: $(C-1)/(M-1)$")
axes[1].axvline(C10 - 0.5, color="k", ls=":", lw=1)
axes[1].set(xlabel="eigenfunction $k$", ylabel="quality $q_k$")
axes[2].axvline(C10 - 0.5, color="k", ls=":", lw=1)
axes[2].set_ylim(1e-6, 1)
axes[2].set(xlabel="eigenfunction $k$", ylabel="utilisation $u_k$")
for ax in (axes[0], axes[1]):
    ax.legend(fontsize=6.5, loc="upper right")
fig.legend(*axes[2].get_legend_handles_labels(), fontsize=7, ncol=2, title="bottom left", title_fontsize=7,
           loc="outside lower center")
# the first two learned features evaluated on the held-out digits (Nyström), MF network
for c in range(C10):
    sel = ex_mf["y_val"] == c
    axes[3].scatter(ex_mf["e_val"][sel, 0], ex_mf["e_val"][sel, 1], s=9, color=plt.cm.tab10(c), label=str(c))
axes[3].set(xlabel="$e_1(x)$ on held-out digits", ylabel="$e_2(x)$ on held-out digits")
axes[3].legend(fontsize=6.5, ncol=2, title="digit", title_fontsize=6.5, loc="best")
plt.show()

# %%
n_mf, n_ef = len(mf_rows), len(ef_rows)
cu.check_count(f"MF networks whose first {C10 - 1} features carry > 90 % of the feature variance",
               int((top_share(mf_rows, "intensity", C10 - 1) > 0.9).sum()), at_least=n_mf, of=n_mf)
# eq-mf-utilisation-fit holds for a network that fits its targets; a relative misfit r of the centred outputs
# changes u_k by at most 2r/√(C−1) + r² (first and second order in the residual)
r_fit = max(stack(runs[C10]["rows"], "fit_residual"))
u_meas = np.concatenate([r["utilisation"][:30] for r in runs[C10]["rows"]])
u_pred = np.concatenate([r["quality_train"][:30] / (C10 - 1) for r in runs[C10]["rows"]])
cu.check_close("utilisation = training quality/(C−1), eq-mf-utilisation-fit, first 30 features of every network",
               u_meas, u_pred, atol=2 * r_fit / np.sqrt(C10 - 1) + r_fit ** 2, mode="every")
cu.check_count(f"MF networks whose first {C10 - 1} features have mean held-out (Nyström) quality > 0.8",
               int((top_share(mf_rows, "quality_val", C10 - 1) / (C10 - 1) > 0.8).sum()), at_least=n_mf, of=n_mf)
cu.check_count(f"EF networks with D_eff > 2(C − 1) = {2 * (C10 - 1)}", int((stack(ef_rows, "d_train") > 2 * (C10 - 1)).sum()),
               at_least=n_ef, of=n_ef)
_ = cu.check_count(f"EF networks with > 15 % of the feature variance outside the first {C10 - 1} features",
                   int((top_share(ef_rows, "intensity", C10 - 1) < 0.85).sum()), at_least=n_ef, of=n_ef)

# %% [markdown]
# Both kinds of network fit the training set and classify held-out digits about equally well (printed), but
# their features differ. The minimal-feature network carries all but a few percent of its feature variance in
# nine eigenfunctions ($C - 1$) of nearly equal intensity (dashed line: $1/(C-1)$), each of training quality 1
# and held-out quality about 0.9, and its readout uses exactly those nine, $u_kpprox1/9$ each; the
# remaining eigenfunctions are faint and carry no label information (held-out quality at the noise level). The
# weak-decay network has the same nine class directions on top, but a quarter or more of its feature variance
# sits in a long tail of extended features of low quality: $D_{
# m eff}$ above 20. The readout still uses each
# feature in proportion to its training quality, as {eq}`eq-mf-utilisation-fit` says for any interpolating
# network (lines against markers in the lower-left panel; checked on the first 30 features of all nine
# networks, with a tolerance from each network's measured misfit $r$ of about 1 %). The lower-right panel is
# the "visualisation" of the title of {cite:t}`nam2024visualising`: the first two learned features, extended
# to held-out digits by {eq}`eq-mf-nystrom`, separate the classes into clusters, a few digits sitting with the
# wrong cluster.

# %% [markdown]
# ## 3. As many features as classes: $C = 2, 5, 10$
#
# Prediction {eq}`eq-mf-predictions`: $D_{\rm eff} = C - 1$ and $\kappa_{\rm CKA} = 0$. The ETF is an
# idealisation: class means of unequal lengths or angles have unequal eigenvalues, which lowers $D_{\rm eff}$,
# and leftover scatter raises it. The class-mean intensities of §2 spread by a factor of up to about 3, which
# moves $D_{\rm eff}$ by up to about 10 %; the checks allow that plus three standard errors of the mean
# over the seeds.

# %%
summary = {}
for C in P.classes:
    rows = [r for r, w in zip(runs[C]["rows"], runs[C]["weak"]) if not w]
    summary[C] = {key: stack(rows, key) for key in ("d_train", "d_val", "kappa_train", "kappa_val", "kappa_conf",
                                                     "err_val", "nc1", "nc1_bound", "kappa_means")}
print(f"{'C':>3s} {'D_eff train':>14s} {'D_eff held-out':>15s} {'κ_CKA train':>13s} {'κ_CKA held-out':>15s}"
      f" {'held-out error':>15s}   (mean ± standard error over {P.seeds} networks)")
for C, s in summary.items():
    f = lambda v, d=2: f"{v.mean():.{d}f} ± {v.std(ddof=1) / np.sqrt(len(v)):.{d}f}"
    print(f"{C:3d} {f(s['d_train']):>14s} {f(s['d_val']):>15s} {f(s['kappa_train'], 3):>13s} {f(s['kappa_val'], 3):>15s}"
          f" {f(s['err_val'], 3):>15s}")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.4)
Cs = np.array(P.classes)
for j, C in enumerate(Cs):
    s = summary[C]
    jit = np.linspace(-0.12, 0.12, len(s["d_train"])) * C ** 0.5
    axes[0].plot(C + jit, s["d_train"], "o", color=cu.plotting.PALETTE[0], ms=5, label="training" if j == 0 else None)
    axes[0].plot(C + jit, s["d_val"], "s", mfc="none", color=cu.plotting.PALETTE[1], ms=6, label="held-out" if j == 0 else None)
    axes[1].plot(C + jit, s["kappa_train"], "o", color=cu.plotting.PALETTE[0], ms=5, label="training" if j == 0 else None)
    axes[1].plot(C + jit, s["kappa_val"], "s", mfc="none", color=cu.plotting.PALETTE[1], ms=6, label="held-out" if j == 0 else None)
cc = np.linspace(1.8, 11, 50)
axes[0].plot(cc, cc - 1, "k-", lw=1.2, label="MF: $D_{\\rm eff} = C - 1$ (eq-mf-predictions)")
axes[0].set(xscale="log", yscale="log", xlabel="number of classes $C$", ylabel="effective dimension $D_{\\rm eff}$")
axes[0].set_xticks(Cs, [str(c) for c in Cs])
axes[1].axhline(0.1, color="k", ls="--", lw=1, label="MF threshold 0.1 (source's convention)")
axes[1].set(xscale="log", yscale="log", xlabel="number of classes $C$", ylabel="$\\kappa_{\\rm CKA} = 1 - A$")
axes[1].set_xticks(Cs, [str(c) for c in Cs])
for ax, loc in zip(axes, ("upper left", "lower right")):
    ax.xaxis.set_minor_formatter(plt.NullFormatter())   # the ticks are the class counts only
    ax.legend(fontsize=7, loc=loc)
plt.show()

# %%
for C, s_ in summary.items():
    se = lambda v: v.std(ddof=1) / np.sqrt(len(v))
    cu.check_close(f"C = {C}: mean D_eff (training) = C − 1", s_["d_train"].mean(), C - 1,
                   atol=0.1 * (C - 1) + 3 * se(s_["d_train"]))
    cu.check_less(f"C = {C}: mean κ_CKA (training) + 3 SE below the MF threshold 0.1",
                  s_["kappa_train"].mean() + 3 * se(s_["kappa_train"]), 0.1)
c_lo, c_hi = min(P.classes), max(P.classes)
cu.check_count(f"C = {c_lo}: networks with held-out κ_CKA < 0.05", int((summary[c_lo]["kappa_val"] < 0.05).sum()),
               at_least=P.seeds, of=P.seeds)
_ = cu.check_less(f"C = {c_hi}: the MF threshold 0.1 lies below the mean held-out κ_CKA", 0.1,
                  summary[c_hi]["kappa_val"].mean())

# %% [markdown]
# The effective dimension follows $C - 1$ from 2 to 10 classes, on the training digits and, through the
# same network, on held-out ones: these networks learn as many features as the task has class directions.
# On the training set $\kappa_{\rm CKA}$ is well below the threshold 0.1 for every $C$. Held out, it is not
# the same story: for two classes the held-out features are as minimal as the training ones, for five
# they sit near the threshold, and for ten classes the mean stays above it (checked; over COURSE_SEED 0–5
# the mean lay between 0.12 and 0.14, two to five standard errors above 0.1, and an occasional
# network dipped just below), although the features have $D_{\rm eff}\approx 9$ there too. **So
# by the held-out criterion of the source, the ten-class networks are not MF, while by every other
# measure they are.** §6 shows where the difference comes from: held-out errors.
#
# ## 4. Minimal features are neural collapse
#
# For balanced classes the alignment can be written with the within- and between-class scatter
# matrices $\Sigma_W$, $\Sigma_B$ of [Neural collapse](03_neural_collapse.ipynb): with $\tilde\Phi$ the
# centred features, $\langle K, P_Y\rangle_F = \|P_Y\tilde\Phi\|_F^2 = N\operatorname{tr}\Sigma_B$,
# $\|K\|_F = \|\tilde\Phi^\top\tilde\Phi\|_F = N\|\Sigma_W + \Sigma_B\|_F$ and $\|P_Y\|_F = \sqrt{C-1}$, so
#
# $$
# A = \frac{\operatorname{tr}\Sigma_B}{\sqrt{C-1}\,\|\Sigma_W + \Sigma_B\|_F}
# $$ (eq-mf-cka-scatter)
#
# (`features.alignment_from_scatter`, equal to `diagnostics.kernel_alignment` in a unit test). By
# Cauchy–Schwarz $A = 1$ exactly when $\Sigma_W = 0$ (NC1) and the $C - 1$ nonzero eigenvalues of $\Sigma_B$
# are equal, that is when the centred class means have a Gram matrix proportional to $I - \mathbf 1\mathbf 1^\top/C$:
# a simplex ETF (NC2). **$\kappa_{\rm CKA} = 0$ is neural collapse NC1 + NC2, and nothing else.** Quantitatively,
# restricting the norm to the span of the class means, $\|\Sigma_W + \Sigma_B\|_F\ge\operatorname{tr}(P_B(\Sigma_W + \Sigma_B))/\sqrt{C-1}$,
# gives $\operatorname{tr}(P_B\Sigma_W)/\operatorname{tr}\Sigma_B\le\kappa/(1-\kappa)$ and hence
#
# $$
# \mathrm{NC1}\le c_B\,\frac{\kappa}{1-\kappa},\qquad c_B = \frac{\operatorname{tr}\Sigma_B}{C\,\lambda_{\min}^+(\Sigma_B)}\quad\Bigl(= \frac{C-1}{C}\text{ for an ETF}\Bigr)
# $$ (eq-mf-nc1-bound)
#
# (`features.nc1_bound`; a unit test checks it and its near-equality for an ETF with small scatter). Small
# $\kappa_{\rm CKA}$ forces small NC1. The converse needs the means to be an ETF as well: the part of $\kappa$
# left when every feature is replaced by its class mean, $\kappa_{\rm means}$, measures that geometry alone.
# Below: the trajectories of the §2–3 networks in the $(\kappa_{\rm CKA}, {\rm NC1})$ plane, recorded during training.

# %%
ratio = {C: summary[C]["nc1"] / summary[C]["nc1_bound"] for C in P.classes}
ef_end = dict(nc1=stack(ef_rows, "nc1"), kappa=stack(ef_rows, "kappa_train"))
for C in P.classes:
    s = summary[C]
    print(f"C = {C:2d}: κ_CKA {s['kappa_train'].min():.3f}–{s['kappa_train'].max():.3f}, NC1 {s['nc1'].min():.1e}–"
          f"{s['nc1'].max():.1e}, NC1 / bound (eq-mf-nc1-bound) {ratio[C].min():.2f}–{ratio[C].max():.2f}")
print(f"EF (C = {C10}, weak decay): κ_CKA {ef_end['kappa'].min():.3f}–{ef_end['kappa'].max():.3f}, "
      f"NC1 {ef_end['nc1'].min():.1e}–{ef_end['nc1'].max():.1e}")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
kap = np.geomspace(1e-4, 0.9, 100)
for ax, C in zip(axes, P.classes[1:]):
    h, weak = runs[C]["hist"], runs[C]["weak"]
    for k in range(len(weak)):
        c = cu.plotting.PALETTE[1] if weak[k] else cu.plotting.PALETTE[0]
        first = k == int(np.argmax(weak == weak[k]))                           # label each kind once
        lbl = ("EF (weak decay)" if weak[k] else "MF (strong decay)") if first else None
        ax.plot(h["kappa"][:, k], h["nc1"][:, k], "o-", color=c, ms=3, lw=0.8, alpha=0.8, label=lbl)
        ax.plot(h["kappa"][-1, k], h["nc1"][-1, k], "*", color=c, ms=10)
    ax.plot(kap, (C - 1) / C * kap / (1 - kap), "k-", lw=1.2,
            label="bound for an ETF: $\\frac{C-1}{C}\\frac{\\kappa}{1-\\kappa}$")
    ax.axvline(0.1, color="k", ls="--", lw=1)
    ax.set(xscale="log", yscale="log", xlabel="$\\kappa_{\\rm CKA}$ on the training set",
           ylabel="NC1 on the training set")
    ax.set_title(f"C = {C}: training trajectories\n(star: end)", fontsize=10)
    ax.set_ylim(1e-6, 10)
    ax.legend(fontsize=7, loc="upper left")
plt.show()

# %%
km = np.concatenate([stack([r for r, w in zip(runs[C]["rows"], runs[C]["weak"]) if not w], "kappa_means")
                     / summary[C]["kappa_train"] for C in P.classes if C > 2])
print(f"κ_means/κ_CKA (training), MF networks with C > 2: median {np.median(km):.2f}, range {km.min():.2f}–{km.max():.2f}")
cu.check_less("MF networks: the class means' geometry is most of κ_CKA, median κ_means/κ_CKA above 0.7", 0.7,
              np.median(km))
cu.check_count("EF networks: κ_CKA above the MF threshold 0.1", int((ef_end["kappa"] > 0.1).sum()), at_least=n_ef, of=n_ef)
_ = cu.check_count("EF networks: NC1 > 0.02 (no collapse)", int((ef_end["nc1"] > 0.02).sum()), at_least=n_ef, of=n_ef)

# %% [markdown]
# Every trajectory runs down and to the left: $\kappa_{\rm CKA}$ and NC1 fall together while the network
# learns, and the bound {eq}`eq-mf-nc1-bound` (line, for an ETF) is never crossed. At the end of training
# the MF networks sit far below it: their within-class scatter has collapsed (NC1 between $10^{-6}$ and
# $10^{-2}$), and what remains of $\kappa_{\rm CKA}$, a few hundredths, is mostly the geometry of the class means
# (printed: $\kappa_{\rm means}$ is most of $\kappa_{\rm CKA}$), class directions of unequal strength, not scatter.
# The EF networks stop at $\kappa_{\rm CKA}\approx 0.14$ with NC1 a few hundredths: no collapse. In these runs,
# minimal features on the training set and neural collapse are the same state, as {eq}`eq-mf-cka-scatter`
# says they must be, and it is reached after a couple of thousand steps, not only in a long terminal phase.
#
# ## 5. Random labels
#
# If minimal features were about the digits, random labels should not produce them. Nothing in
# {eq}`eq-mf-predictions`, though, refers to the inputs: a network that collapses its training features
# onto the classes it is given has $D_{\rm eff} = C - 1$ whatever the classes mean. We train, as one
# ensemble, six networks on 100 training digits with their true labels and six on the same digits with
# the labels randomly permuted (each its own permutation; the classes stay balanced), 3000 steps, and
# measure the training features against the labels each network learned, and the held-out features
# against the true held-out labels.

# %%
X_rl, y_rl, Xv_rl, yv_rl = digit_task(10, P.rl_per_class, k=20)
y_perm = [y_rl[torch.randperm(len(y_rl), generator=torch.Generator().manual_seed(cu.seed(300 + i)))]
          for i in range(P.rl_seeds)]
labels_rl = torch.stack([y_rl] * P.rl_seeds + y_perm)                          # (K, N): member k's labels
model_rl, _ = train_networks(X_rl, torch.nn.functional.one_hot(labels_rl, 10).float(),
                             list(range(400, 400 + 2 * P.rl_seeds)), [P.weight_decay] * (2 * P.rl_seeds),
                             P.rl_steps, desc="true and random labels")
rows_rl = measure(model_rl, X_rl, labels_rl, Xv_rl, yv_rl)
true_rl, rand_rl = rows_rl[:P.rl_seeds], rows_rl[P.rl_seeds:]
print(f"{P.rl_per_class * 10} training digits; range over {P.rl_seeds} networks each")
print(f"{'':14s}{'training error':>16s}{'κ_CKA train':>15s}{'D_eff train':>14s}{'NC1':>16s}"
      f"{'held-out error':>17s}{'κ_CKA held-out':>17s}{'D_eff held-out':>16s}")
for name, rows in (("true labels", true_rl), ("random labels", rand_rl)):
    rng_ = lambda key, f: f"{stack(rows, key).min():{f}}–{stack(rows, key).max():{f}}"
    print(f"{name:14s}{rng_('err_train', '.2f'):>16s}{rng_('kappa_train', '.3f'):>15s}{rng_('d_train', '.1f'):>14s}"
          f"{rng_('nc1', '.0e'):>16s}{rng_('err_val', '.2f'):>17s}{rng_('kappa_val', '.2f'):>17s}{rng_('d_val', '.1f'):>16s}")

# %%
n_rl = len(rand_rl)
cu.check_count("random labels: training κ_CKA below the MF threshold 0.1", int((stack(rand_rl, "kappa_train") < 0.1).sum()),
               at_least=n_rl, of=n_rl)
cu.check_close("random labels: mean D_eff (training) = C − 1 = 9 (10 % anisotropy + 3 SE, as in §3)",
               stack(rand_rl, "d_train").mean(), 9, atol=0.9 + 3 * stack(rand_rl, "d_train").std(ddof=1) / np.sqrt(n_rl))
err_rand = stack(rand_rl, "err_val")
cu.check_close("random labels: held-out error = chance 0.9 (4 binomial SE of the mean)", err_rand.mean(), 0.9,
               atol=4 * np.sqrt(0.9 * 0.1 / (len(yv_rl) * n_rl)) + 4 * err_rand.std(ddof=1) / np.sqrt(n_rl))
_ = cu.check_count("random labels: held-out κ_CKA above 0.7", int((stack(rand_rl, "kappa_val") > 0.7).sum()),
                   at_least=n_rl, of=n_rl)

# %% [markdown]
# With random labels the networks reach minimal features on their training set just as the true-label
# networks do: $\kappa_{\rm CKA}$ of a few hundredths, $D_{\rm eff}$ close to 9 (a little above it), collapsed
# within-class scatter. On held-out digits the same features are still low-dimensional ($D_{\rm eff}$ about
# 10–11) but aligned with nothing: the held-out error is at chance and $\kappa_{\rm CKA}\approx 0.8$. Minimal
# features on the training set are a property of the fit, not of generalisation; only the held-out
# diagnostics tell the two networks apart, which is why the source's criterion is a held-out one.
#
# ## 6. More data: from the training set to held-out digits
#
# **What a perfect MF network scores held out.** Suppose that on held-out digits every feature lands exactly
# on the ETF vertex of the class the network *predicts*. Its held-out $\kappa_{\rm CKA}$ is then fixed by the
# confusion matrix alone (`features.collapsed_alignment`: with $\tilde N = Y^\top HY'$ the centred confusion
# matrix, $A = \operatorname{tr}(G\tilde N^\top\tilde N)/\sqrt{\operatorname{tr}(GD'GD')\operatorname{tr}D^2}$). For balanced
# classes and a fraction $\varepsilon$ of errors spread evenly over the other classes, $\tilde N = n(1 - \varepsilon C/(C-1))J$
# and
#
# $$
# \kappa_{\rm CKA} = 1 - \Bigl(1 - \frac{\varepsilon C}{C-1}\Bigr)^2\approx\frac{2C}{C-1}\,\varepsilon .
# $$ (eq-mf-kappa-error)
#
# So the MF threshold $\kappa_{\rm CKA} < 0.1$ on held-out data is a threshold on the held-out error,
# $\varepsilon < \varepsilon^* = (1 - \sqrt{0.9})(C-1)/C$: 4.6 % for ten classes, 2.6 % for two, *even for perfectly collapsed
# features*. The experiment: ten classes, training sets from 2 to 110 digits per class, three networks per
# size, each on its own draw of the digits (one ensemble per size), 60 held-out digits per class. Two
# predictions: held-out $\kappa_{\rm CKA}$ should follow {eq}`eq-mf-kappa-error` with the measured error as far
# as the held-out features are collapsed, and the crossing of the threshold should happen where the learning
# curve crosses $\varepsilon^*$.

# %%
size_rows = {}
for n in P.sizes:
    draws = [digit_task(10, n, k=1000 + 10 * n + s) for s in range(P.size_seeds)]   # one draw of the data per member
    X, y, Xv, yv = (torch.stack([d[i] for d in draws]) for i in range(4))
    model, _ = train_networks(X, torch.nn.functional.one_hot(y, 10).float(), list(range(500, 500 + P.size_seeds)),
                              [P.weight_decay] * P.size_seeds, P.steps, desc=f"{n} per class")
    size_rows[n] = measure(model, X, y, Xv, yv)
sizes = np.array(P.sizes) * 10
S = {key: np.array([stack(size_rows[n], key) for n in P.sizes]) for key in
     ("err_val", "kappa_train", "kappa_val", "kappa_conf", "d_train", "d_val")}      # (sizes, draws)
err_mean = S["err_val"].mean(1)
lc_fit = cu.fit_power_law(sizes, err_mean)
eps_star = theory.threshold_error(0.1, 10)
print(f"learning curve: held-out error ≈ {lc_fit.prefactor:.2f} N^(−{lc_fit.alpha:.2f} ± {lc_fit.alpha_stderr:.2f}); "
      f"κ = 0.1 for collapsed features at ε* = {eps_star:.3f}")
print(f"{'N':>5s} {'held-out error':>15s} {'κ train':>8s} {'κ held-out':>11s} {'κ collapsed (conf.)':>20s}"
      f" {'κ uniform (eq)':>15s} {'D_eff train':>12s} {'D_eff held-out':>15s}")
for i, N in enumerate(sizes):
    print(f"{N:5d} {err_mean[i]:15.3f} {S['kappa_train'][i].mean():8.3f} {S['kappa_val'][i].mean():11.3f} "
          f"{S['kappa_conf'][i].mean():20.3f} {theory.uniform_error_kappa(err_mean[i], 10):15.3f} "
          f"{S['d_train'][i].mean():12.1f} {S['d_val'][i].mean():15.1f}")

# %% tags=["hide-input"]
fig, axes = cu.panels(2, panel_height=3.6)
NN = np.geomspace(sizes[0], sizes[-1], 100)
axes[0].plot(np.repeat(sizes, P.size_seeds), S["err_val"].ravel(), "o", color=cu.plotting.PALETTE[0], ms=4, alpha=0.6,
             label="held-out error, each network")
axes[0].plot(NN, lc_fit(NN), "-", color=cu.plotting.PALETTE[0],
             label=f"fit $\\propto N^{{-{lc_fit.alpha:.2f}\\pm{lc_fit.alpha_stderr:.2f}}}$")
axes[0].axhline(eps_star, color="k", ls="--", lw=1, label=f"$\\varepsilon^*$ = {eps_star:.3f}: κ = 0.1 if collapsed")
axes[0].set(xscale="log", yscale="log", xlabel="training digits $N$ (10 classes)", ylabel="held-out error")
axes[0].legend(fontsize=7)
for key, mk, c, lbl in (("kappa_train", "o", 0, "training"), ("kappa_val", "s", 1, "held-out"),
                        ("kappa_conf", "^", 2, "held-out, features collapsed by prediction")):
    axes[1].plot(np.repeat(sizes, P.size_seeds), S[key].ravel(), mk, color=cu.plotting.PALETTE[c], ms=4,
                 mfc="none" if key != "kappa_train" else None, label=lbl)
axes[1].plot(NN, theory.uniform_error_kappa(np.clip(lc_fit(NN), 0, 0.9), 10), "-", color=cu.plotting.PALETTE[2],
             label="$1 - (1 - \\varepsilon C/(C-1))^2$ with the fitted $\\varepsilon(N)$")
axes[1].axhline(0.1, color="k", ls="--", lw=1, label="MF threshold 0.1")
axes[1].set(xscale="log", yscale="log", xlabel="training digits $N$ (10 classes)", ylabel="$\\kappa_{\\rm CKA}$")
fig.legend(*axes[1].get_legend_handles_labels(), fontsize=7, ncol=2, title="right panel", title_fontsize=7,
           loc="outside lower center")
plt.show()

# %%
few_errors = err_mean < 0.1                                                    # sizes with < 10 % held-out error
gap = (S["kappa_val"] - S["kappa_conf"])[few_errors].ravel()
print(f"N ≥ {sizes[few_errors].min()}: held-out κ_CKA − κ of collapsed features = {gap.mean():.3f} ± "
      f"{gap.std(ddof=1) / np.sqrt(gap.size):.3f} (mean ± SE over {gap.size} networks), range {gap.min():.3f}–{gap.max():.3f}")
cu.check_less("held-out κ_CKA above the collapsed-feature value where errors are few: mean excess > 3 SE",
              3 * gap.std(ddof=1) / np.sqrt(gap.size), gap.mean())
_ = cu.check_less("training-set κ_CKA below 0.1 at every size (largest mean over the draws)",
                  S["kappa_train"].mean(1).max(), 0.1)

# %% [markdown]
# On the training set nothing changes with the data size: at every size, from 20 to 1100 digits, the
# features are minimal ($D_{\rm eff}\approx 9$, $\kappa_{\rm CKA}$ a few hundredths). On held-out digits
# $\kappa_{\rm CKA}$ falls steadily with $N$, from about 0.5 to about 0.1, and $D_{\rm eff}$ there rises from
# about 7 (some class directions missing) to 9. The collapsed-feature value from each network's confusion
# matrix is close to {eq}`eq-mf-kappa-error` at the measured error (table; within about 10 % at COURSE_SEED 0,
# but not a claim: at COURSE_SEED 4 one size deviated by about twice three standard errors, where the errors
# are not spread evenly over the classes). Where errors are few (below 10 %) the measured held-out
# $\kappa_{\rm CKA}$ lies above the collapsed value by a roughly constant amount, about 0.06 (printed,
# checked: positive by more than three standard errors): the held-out features are not fully collapsed onto
# their predicted vertices. At the smallest training sets some networks lie *below* it: a misclassified digit
# whose features sit between vertices, partly with its true class, aligns better than a hard prediction says
# (the random-label networks of §5 show the same, $\kappa_{\rm CKA}$ held out below the collapsed value).
# Together the two parts bring held-out $\kappa_{\rm CKA}$ down to about 0.1 only at the largest training sets
# we have (a few networks just below it), well after the error crosses $\varepsilon^*$ (near 300 digits).
#
# **What we do not see.** The learning curve is a single power law over this range, held-out error
# $\propto N^{-0.74}$ (exponent ± standard error printed; a fit with no theory behind it, so not checked), and
# the training features are minimal at every size, so there is no change of regime from extended to minimal
# features with the training-set size and no two-phase learning curve here. The transition that Y. Nam's
# thesis describes (its chapter 7) may need networks that start closer to the lazy regime, larger data sets
# than the 1797 digits, or weaker regularisation than the strong weight decay we use to reach MF; we have not
# found its conditions within this chapter's budget, and we do not claim it. What the sweep does show is that
# on held-out data "minimal features" by the $\kappa_{\rm CKA} < 0.1$ criterion is reached gradually, and
# that most of the way there is set by the held-out error, through {eq}`eq-mf-kappa-error`.
#
# ## 7. What it means
#
# - Diagonalising the kernel of the last hidden layer splits a network into learned features, each with an
#   intensity, a quality and a utilisation; the Nyström extension {eq}`eq-mf-nystrom` evaluates them on new
#   inputs. A network that fits its targets uses each feature in proportion to its training quality
#   ({eq}`eq-mf-utilisation-fit`), so what distinguishes regimes is how the feature variance is spread.
# - With strong weight decay these MLPs reach minimal features: $C - 1$ features of nearly equal intensity,
#   $D_{\rm eff}\approx C - 1$ for $C = 2, 5, 10$. Weak weight decay fits as well with extended features
#   ($D_{\rm eff} > 20$ for ten classes).
# - $\kappa_{\rm CKA} = 0$ is exactly neural collapse NC1 + NC2 ({eq}`eq-mf-cka-scatter`), and small
#   $\kappa_{\rm CKA}$ bounds NC1 ({eq}`eq-mf-nc1-bound`); the minimal-feature networks are collapsed.
# - Minimal features on the training set say nothing about generalisation: random labels reach them too. On
#   held-out data the criterion $\kappa_{\rm CKA} < 0.1$ is, for collapsed features, a criterion on the error
#   ({eq}`eq-mf-kappa-error`: below 4.6 % for ten classes), which ten-class networks on 500 digits do not meet.
#
# ## Exercises
#
# :::{exercise} The held-out κ of a perfect minimal-feature network
# :label: ex-mf-kappa-error
#
# Balanced classes, $n$ held-out inputs each; a network places every held-out feature on the vertex of a
# simplex ETF belonging to the class it predicts, and it errs on a fraction $\varepsilon$ of each class, sending
# $\varepsilon n/(C-1)$ of them to each other class. Derive $\kappa_{\rm CKA}(\varepsilon, C)$, implement it as
# `kappa(error, C)` (NumPy, vectorised in `error`, without `course_utils.theory.features`) and check it with
# `exercises.check_uniform_error_kappa(kappa)`. At which error is $\kappa_{\rm CKA} = 1$, and why there?
# :::
#
# :::{solution-start} ex-mf-kappa-error
# :class: dropdown
# :::
#
# The confusion matrix is $N_{\rm conf} = n[(1 - \varepsilon - \frac{\varepsilon}{C-1})I + \frac{\varepsilon}{C-1}\mathbf 1\mathbf 1^\top]$; every
# class is predicted $n$ times, so centring subtracts $\frac nC\mathbf 1\mathbf 1^\top$ and
# $\tilde N = n\beta J$ with $\beta = 1 - \varepsilon C/(C-1)$ and $J = I - \mathbf 1\mathbf 1^\top/C$. With $G = \frac{C}{C-1}J$ and
# $D = D' = nJ$: numerator $\frac{C}{C-1}n^2\beta^2\operatorname{tr}J = Cn^2\beta^2$, denominator
# $\frac{C}{C-1}n\sqrt{C-1}\cdot n\sqrt{C-1} = Cn^2$. So $A = \beta^2$ and $\kappa = 1 - (1 - \varepsilon C/(C-1))^2$. It
# reaches 1 at $\varepsilon = (C-1)/C$: predictions independent of the labels (chance), where the
# predicted-class kernel is uncorrelated with the true-class kernel.

# %%
def kappa(error, C):
    return 1 - (1 - np.asarray(error, dtype=float) * C / (C - 1)) ** 2


_ = exercises.check_uniform_error_kappa(kappa)

# %% [markdown]
# :::{solution-end}
# :::
#
# :::{exercise} Utilisation is quality
# :label: ex-mf-utilisation
#
# Show that {eq}`eq-mf-utilisation-fit` needs the network to fit the *centred* one-hot targets only, and that
# $\sum_k q_k^{\rm train} = C - 1$ when the eigenfunctions span the centred targets. What does
# {eq}`eq-mf-utilisation-fit` become when the targets are one-hot vectors scaled by a class-dependent factor
# $s_c$ (unbalanced targets)?
# :::
#
# :::{solution} ex-mf-utilisation
# :class: dropdown
#
# The readout expansion $f - \bar f = \sum_k a_ke_k$ is of the centred outputs, so only those enter; the bias
# takes the mean. $\sum_k q_k = \sum_k\hat e_k^\top P_Y\hat e_k/N = \operatorname{tr}(P_Y\Pi_e)$ with $\Pi_e$ the projector onto
# the span of the eigenfunctions on the sample; if it contains the range of $P_Y$, this is
# $\operatorname{tr}P_Y = C - 1$. With scaled targets $\tilde Y S$, $\|a_k\|^2 = \frac1{N^2}\hat e_k^\top\tilde YS^2\tilde Y^\top\hat e_k$: a quality
# weighted by $s_c^2$, so utilisation then measures the overlap with the weighted label kernel, not with $P_Y$.
# :::
#
# ## Summary
#
# - The learned features are the eigenfunctions of the last layer's kernel {eq}`eq-mf-eigen`; the Nyström
#   extension {eq}`eq-mf-nystrom` carries them to held-out data. Intensity, quality and utilisation are
#   shares of the feature variance, of the label space and of the output variance; for an interpolating
#   network utilisation = training quality/(C − 1) (checked to the fit residual).
# - Strong weight decay gives minimal features: $D_{\rm eff} = C - 1$ for 2, 5 and 10 digit classes, nine
#   features of held-out quality about 0.9 for ten classes; weak decay fits with $D_{\rm eff}$ above 20.
# - $\kappa_{\rm CKA} = 1 - \operatorname{tr}\Sigma_B/(\sqrt{C-1}\|\Sigma_W + \Sigma_B\|_F)$: zero exactly at neural collapse (NC1 and
#   NC2); its remainder in the MF networks is mostly the class means' geometry.
# - Random labels: minimal features on the training set, chance on held-out digits.
# - Held out, a collapsed network has $\kappa_{\rm CKA} = 1 - (1 - \varepsilon C/(C-1))^2$: the MF threshold 0.1 means an error
#   below 4.6 % for ten classes. Over 20–1100 training digits held-out $\kappa_{\rm CKA}$ falls from 0.5 to 0.1
#   along the learning curve; we see no extended-to-minimal transition and no two-phase learning curve.
#
# ## References
#
# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`.
