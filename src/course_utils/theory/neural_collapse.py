"""Neural collapse: the four measures NC1–NC4, and the deep-linear-network theory of why features collapse.

Used by the chapter "Neural collapse" (book/04_feature_learning/03_neural_collapse).

Conventions. Features ``H`` of shape (N, p) (one row per sample, e.g. the penultimate layer of a
network), integer labels ``y`` in 0 … C−1, a linear classifier ``W`` of shape (C, p) (rows w_c, as in
``nn.Linear``). With μ_G the global mean and μ_c the class means of the features,

    Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ,       Σ_B = (1/C) Σ_c (μ_c − μ_G)(μ_c − μ_G)ᵀ.

The measures of Papyan, Han & Donoho (2020):

- NC1 (variability collapse): tr(Σ_W Σ_B⁺)/C  (:func:`nc1`), and the plain ratio tr Σ_W / tr Σ_B
  (:func:`within_class_ratio`), which, unlike NC1, also sees scatter orthogonal to the class means;
- NC2 (simplex ETF): ‖G − G_ETF‖_F/‖G_ETF‖_F for the Gram matrix G of the normalised centred means
  m_c = (μ_c − μ_G)/‖μ_c − μ_G‖ and G_ETF = C/(C−1) (I − 11ᵀ/C) (:func:`nc2`); and the equinorm
  spread std_c ‖μ_c − μ_G‖ / mean_c ‖μ_c − μ_G‖ (:func:`equinorm`);
- NC3 (self-duality): ‖W/‖W‖_F − M/‖M‖_F‖_F with M the (C, p) matrix of centred means (:func:`nc3`);
- NC4 (nearest class centre): the fraction of samples on which argmax_c (W h + b)_c differs from
  argmin_c ‖h − μ_c‖ (:func:`nc4`).

Deep linear networks f(x) = W_L ⋯ W_1 x (weights W_l of shape (n_l, n_{l−1}), data X of shape (N, d),
targets Y of shape (N, C)) trained on L = (1/2N) ‖X Eᵀ − Y‖_F², E = W_L ⋯ W_1:

- :func:`dln_gradients`: ∂L/∂W_l = (W_L⋯W_{l+1})ᵀ G_E (W_{l−1}⋯W_1)ᵀ with G_E = (X Eᵀ − Y)ᵀ X / N;
- :func:`imbalance_step`: the imbalances D_l = W_{l+1}ᵀW_{l+1} − W_l W_lᵀ
  (:meth:`course_utils.models.deep_linear.DeepLinearNetwork.imbalance`) are conserved by gradient
  flow; one step of gradient descent changes them by exactly η² (G_{l+1}ᵀG_{l+1} − G_l G_lᵀ);
- :func:`invisible_weight_norm2`: ‖(I − Π) W_{L−1}‖_F², the part of the penultimate weights that the
  readout cannot see (Π the projector on the row space of W_L); it equals −tr((I − Π) D_{L−1});
- :func:`balanced_geometry`: for balanced weights (all D_l = 0) the penultimate features are
  h = W_L⁺ f(x), W_L W_Lᵀ = (EEᵀ)^{1/L}, and the features, class means and readout are, up to a
  rotation, h̃ = (EEᵀ)^{−1/2L} E x and W̃ = (EEᵀ)^{1/2L};
- :func:`least_squares_map`: the end-to-end map E* = Y X⁺ a deep linear network converges to;
- :func:`train_deep_linear`: the experiment, gradient descent on many networks at once, recording the measures.

Any network with a linear readout f = W h + b (the ReLU networks of the chapter's §5):

- :func:`readout_split`: the within-class scatter and the centred class means split into the part the
  readout sees, Π = W⁺W, and the part it cannot see, I − Π. Since Π h = W⁺(f(x) − b), a network that
  fits its targets has no visible within-class scatter: all of it is invisible;
- :func:`unit_imbalance`: the per-unit imbalance δ_j = ‖W_out[:, j]‖² − ‖W_in[j, :]‖² − b_j² of a hidden
  ReLU layer, which gradient flow conserves (the only conservation law a ReLU network keeps of D_l).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .. import validate
from ..ensemble import BatchedSGD, train_ensemble
from ..models.deep_linear import DeepLinearNetwork

__all__ = ["class_means", "scatter_matrices", "nc1", "within_class_ratio", "etf_gram", "centred_mean_gram", "nc2",
           "equinorm",
           "nc3", "nc4", "collapse_measures",
           "dln_gradients", "imbalance_step", "readout_projector",
           "train_deep_linear",
           "invisible_weight_norm2", "least_squares_map", "psd_power", "balanced_geometry",
           "readout_split", "unit_imbalance", "nc3_of_a_fitted_readout", "readout_geometry"]


# ----------------------------------------------------------------------------------------------
# The four measures
# ----------------------------------------------------------------------------------------------

def _features_labels(H, y) -> tuple[np.ndarray, np.ndarray, int]:
    H = validate.array("features H", H)
    y = validate.array("labels y", y, dtype=None)
    if H.ndim != 2:
        raise ValueError(f"features H must have shape (N, p), got {H.shape}")
    if y.ndim != 1 or y.shape[0] != H.shape[0]:
        raise ValueError(f"labels y must have shape (N,) = ({H.shape[0]},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise ValueError("labels y must be non-negative integers 0 … C−1")
    C = int(y.max()) + 1
    counts = np.bincount(y, minlength=C)
    if C < 2 or np.any(counts == 0):
        raise ValueError(f"every class 0 … C−1 needs at least one sample and C ≥ 2; counts per class: {counts.tolist()}")
    return H, y.astype(int), C


def class_means(H, y) -> tuple[np.ndarray, np.ndarray]:
    """(μ_c for c = 0 … C−1 as a (C, p) array, the global mean μ_G of shape (p,)).

    μ_G is the mean of the class means (the plain mean of all samples when classes are balanced).
    """
    H, y, C = _features_labels(H, y)
    means = np.stack([H[y == c].mean(0) for c in range(C)])
    return means, means.mean(0)


def scatter_matrices(H, y) -> tuple[np.ndarray, np.ndarray]:
    """(Σ_W, Σ_B): Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ, Σ_B = (1/C) Σ_c (μ_c − μ_G)(μ_c − μ_G)ᵀ."""
    H, y, C = _features_labels(H, y)
    means, mu_G = class_means(H, y)
    R = H - means[y]
    Mc = means - mu_G
    return R.T @ R / H.shape[0], Mc.T @ Mc / C


def nc1(H, y, *, rcond: float = 1e-10) -> float:
    """NC1 = tr(Σ_W Σ_B⁺)/C (Papyan, Han & Donoho 2020): within-class scatter in units of the
    between-class scatter, measured in the (C−1)-dimensional span of the centred class means."""
    Sw, Sb = scatter_matrices(H, y)
    _nonzero_between(Sb)
    validate.nonnegative("rcond", rcond)
    C = int(validate.array("labels y", y, dtype=None).max()) + 1
    return float(np.trace(Sw @ np.linalg.pinv(Sb, rcond=rcond, hermitian=True)) / C)


def _nonzero_between(Sb: np.ndarray) -> None:
    if np.trace(Sb) == 0:
        raise validate.ArgumentError("all class means of H coincide: the between-class scatter Σ_B is zero, "
                                     "so the measure (a ratio to Σ_B) is undefined")


def within_class_ratio(H, y) -> float:
    """tr Σ_W / tr Σ_B: the total within-class variance over the total between-class variance
    (all directions, including those orthogonal to the class means, which NC1 does not see)."""
    Sw, Sb = scatter_matrices(H, y)
    _nonzero_between(Sb)
    return float(np.trace(Sw) / np.trace(Sb))


def etf_gram(C: int) -> np.ndarray:
    """The Gram matrix of a simplex equiangular tight frame of C unit vectors: C/(C−1) (I − 11ᵀ/C)
    (ones on the diagonal, −1/(C−1) off it)."""
    C = validate.integer("C (the number of vectors of a simplex ETF)", C, low=2)
    return C / (C - 1) * (np.eye(C) - np.ones((C, C)) / C)


def centred_mean_gram(H, y) -> np.ndarray:
    """G_cc' = m_c·m_c', the cosines between the centred class means m_c = (μ_c − μ_G)/‖μ_c − μ_G‖ (C × C)."""
    means, mu_G = class_means(H, y)
    Mc = means - mu_G
    norms = np.linalg.norm(Mc, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a class mean coincides with the global mean: its direction is undefined")
    M = Mc / norms
    return M @ M.T


def nc2(H, y) -> float:
    """NC2 = ‖G − G_ETF‖_F / ‖G_ETF‖_F with G = :func:`centred_mean_gram` (H, y) and
    G_ETF = :func:`etf_gram` (C). Zero exactly when the centred means point along a simplex ETF."""
    G = centred_mean_gram(H, y)
    G_etf = etf_gram(G.shape[0])  # pragma: no mutate (G is C × C: shape[0] = shape[1])
    return float(np.linalg.norm(G - G_etf) / np.linalg.norm(G_etf))


def equinorm(H, y) -> float:
    """std_c ‖μ_c − μ_G‖ / mean_c ‖μ_c − μ_G‖: zero when the centred class means have equal lengths."""
    means, mu_G = class_means(H, y)
    n = np.linalg.norm(means - mu_G, axis=1)
    if n.mean() == 0:
        raise validate.ArgumentError("all class means of H coincide: their spread of lengths is undefined")
    return float(n.std() / n.mean())


def nc3(W, H, y, *, center_classifier: bool = False) -> float:
    """NC3 = ‖W/‖W‖_F − M/‖M‖_F‖_F, M the (C, p) centred class means, W the (C, p) classifier.

    Between 0 (the classifier rows are the centred means, up to one overall scale) and 2. With
    ``center_classifier`` the mean row is first subtracted from W (adding the same vector to every
    row shifts all scores of a sample equally, so argmax predictions do not see it).
    """
    W = validate.array("the classifier W", W)
    center_classifier = validate.flag("center_classifier", center_classifier)
    means, mu_G = class_means(H, y)
    if W.shape != means.shape:
        raise ValueError(f"the classifier W must have shape (C, p) = {means.shape}, got {W.shape}")
    if center_classifier:
        W = W - W.mean(0)
    M = means - mu_G
    if not np.any(W):
        raise validate.ArgumentError("the classifier W is zero" + (" once its mean row is removed" if center_classifier
                                                                   else "") + ": its direction is undefined")
    if not np.any(M):
        raise validate.ArgumentError("all class means of H coincide: the direction of the centred means is undefined")
    return float(np.linalg.norm(W / np.linalg.norm(W) - M / np.linalg.norm(M)))


def nc4(scores, H, y) -> float:
    """NC4: the fraction of samples on which the network's prediction argmax_c scores_c differs from
    the nearest-class-centre prediction argmin_c ‖h − μ_c‖ (class means μ_c of the same H, y)."""
    S = validate.array("scores", scores)
    H, y, C = _features_labels(H, y)
    if S.shape != (H.shape[0], C):
        raise ValueError(f"scores must have shape (N, C) = {(H.shape[0], C)}, got {S.shape}")
    means, _ = class_means(H, y)
    d2 = (H ** 2).sum(1)[:, None] - 2 * H @ means.T + (means ** 2).sum(1)[None, :]
    return float(np.mean(S.argmax(1) != d2.argmin(1)))


def collapse_measures(H, y, W, scores, *, center_classifier: bool = False) -> dict[str, float]:
    """All measures at once: dict with keys NC1, within/between, NC2, equinorm, NC3, NC4."""
    center_classifier = validate.flag("center_classifier", center_classifier)
    return {"NC1": nc1(H, y), "within/between": within_class_ratio(H, y), "NC2": nc2(H, y),
            "equinorm": equinorm(H, y), "NC3": nc3(W, H, y, center_classifier=center_classifier),
            "NC4": nc4(scores, H, y)}


# ----------------------------------------------------------------------------------------------
# Deep linear networks: conservation laws and the balanced geometry
# ----------------------------------------------------------------------------------------------

def _weights(weights: Sequence, name: str = "weights", names: Sequence[str] | None = None) -> list[np.ndarray]:
    if isinstance(weights, (str, bytes)) or not hasattr(weights, "__iter__"):
        raise validate.ArgumentError(f"{name} must be a list of matrices, got {validate.show(weights)}")
    Ws = [validate.array(names[l] if names else f"{name}[{l}]", W) for l, W in enumerate(weights)]
    if len(Ws) < 2:
        raise ValueError(f"{name} must hold at least two matrices (a deep linear network has two or more), "
                         f"got {len(Ws)}")
    for l, (A, B) in enumerate(zip(Ws[:-1], Ws[1:])):
        if A.ndim != 2 or B.ndim != 2 or B.shape[1] != A.shape[0]:
            which = f"{names[l + 1]} after {names[l]}" if names else f"{name}[{l + 1}] after {name}[{l}]"
            raise ValueError(f"{name} must chain ({which}): W_{l + 2} of shape {B.shape} cannot follow W_{l + 1} "
                             f"of shape {A.shape} (need W_(l+1) of shape (n_(l+1), n_l))")
    return Ws


def dln_gradients(weights: Sequence, X, Y) -> tuple[list[np.ndarray], float]:
    """([∂L/∂W_1, …, ∂L/∂W_L], L) for L = (1/2N) ‖X Eᵀ − Y‖_F², E = W_L ⋯ W_1:

        ∂L/∂W_l = (W_L ⋯ W_{l+1})ᵀ G_E (W_{l−1} ⋯ W_1)ᵀ,   G_E = (X Eᵀ − Y)ᵀ X / N.
    """
    Ws = _weights(weights)
    X, Y = validate.array("X", X), validate.array("Y", Y)
    if X.ndim != 2 or X.shape[1] != Ws[0].shape[1]:
        raise ValueError(f"X must have shape (N, {Ws[0].shape[1]}), got {X.shape}")
    if Y.shape != (X.shape[0], Ws[-1].shape[0]):
        raise ValueError(f"Y must have shape (N, C) = {(X.shape[0], Ws[-1].shape[0])}, got {Y.shape}")
    below = [np.eye(Ws[0].shape[1])]                  # below[l] = W_l ⋯ W_1 (l = 0: identity)
    for W in Ws:
        below.append(W @ below[-1])
    E = below[-1]
    R = X @ E.T - Y
    G_E = R.T @ X / X.shape[0]
    grads = [None] * len(Ws)
    above = np.eye(Ws[-1].shape[0])                    # W_L ⋯ W_{l+1}
    for l in range(len(Ws) - 1, -1, -1):
        grads[l] = above.T @ G_E @ below[l].T
        above = above @ Ws[l]
    return grads, float(0.5 * np.sum(R ** 2) / X.shape[0])


def imbalance_step(grads: Sequence, lr: float) -> list[np.ndarray]:
    """The change of every D_l in one gradient-descent step W_l → W_l − η G_l:

        ΔD_l = η² (G_{l+1}ᵀ G_{l+1} − G_l G_lᵀ)   (exact; the O(η) terms cancel).

    Gradient flow conserves D_l because W_{l+1}ᵀ G_{l+1} = G_l W_lᵀ (both equal
    (W_L⋯W_{l+1})ᵀ G_E (W_l⋯W_1)ᵀ); the step's O(η²) remainder is what it leaves.
    """
    validate.positive("lr (the learning rate)", lr)
    Gs = _weights(grads, "grads")
    return [lr ** 2 * (B.T @ B - A @ A.T) for A, B in zip(Gs[:-1], Gs[1:])]


def readout_projector(W_L) -> np.ndarray:
    """Π = W_L⁺ W_L: the orthogonal projector on the row space of the readout, the feature directions it sees."""
    W = validate.array("the readout W_L", W_L, shape=("C", "n"))
    return np.linalg.pinv(W) @ W


def invisible_weight_norm2(W_below, W_L) -> tuple[float, float]:
    """(‖(I − Π) W_{L−1}‖_F², −tr((I − Π) D_{L−1})) with Π = :func:`readout_projector` (W_L).

    The two are equal for any weights: for v with W_L v = 0, vᵀ D_{L−1} v = −‖W_{L−1}ᵀ v‖². So the part of
    the penultimate layer that the readout cannot see is fixed by the imbalance D_{L−1}, which
    gradient flow conserves from initialisation.
    """
    A, B = _weights([W_below, W_L], names=("W_below", "W_L"))
    P_perp = np.eye(B.shape[1]) - readout_projector(B)
    D = B.T @ B - A @ A.T
    return float(np.sum((P_perp @ A) ** 2)), float(-np.trace(P_perp @ D))


def least_squares_map(X, Y, *, rcond: float = 1e-12) -> np.ndarray:
    """E* = Yᵀ (Xᵀ)⁺, the minimum-norm minimiser of ‖X Eᵀ − Y‖_F (shape (C, d)); for full-rank X with
    N ≥ d, the unique least-squares solution Yᵀ X (XᵀX)⁻¹."""
    X, Y = validate.array("X", X), validate.array("Y", Y)
    validate.nonnegative("rcond", rcond)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"X (N, d) and Y (N, C) must have the same number of rows, got {X.shape} and {Y.shape}")
    return (np.linalg.pinv(X, rcond=rcond) @ Y).T


def psd_power(S, power: float, *, rcond: float = 1e-12) -> np.ndarray:
    """S^power for a symmetric positive semi-definite S, through its eigendecomposition (negative
    powers act on the eigenvalues above rcond·max only: a pseudo-inverse power)."""
    S = validate.array("S", S)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be a square matrix, got shape {S.shape}")
    validate.real("power", power)
    validate.nonnegative("rcond", rcond)
    lam, U = np.linalg.eigh(0.5 * (S + S.T))
    if lam.min() < -1e-8 * max(abs(lam).max(), 1e-300):
        raise ValueError(f"S must be positive semi-definite; its smallest eigenvalue is {lam.min():.3g}")
    keep = lam > rcond * lam.max()
    p = np.zeros_like(lam)
    p[keep] = lam[keep] ** power
    if not np.all(np.isfinite(p)):
        raise validate.ArgumentError(f"power = {power:g} overflows: S's eigenvalues to that power are not finite "
                                     f"numbers (smallest kept eigenvalue {lam[keep].min():.3g})")
    return (U * p) @ U.T


def balanced_geometry(E, X, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(h̃, W̃): the penultimate features and the readout of a *balanced* depth-L network with end-to-end map E.

    Balance (D_l = 0 for every l) gives (W_L W_Lᵀ)^L = E Eᵀ, hence W_L W_Lᵀ = (EEᵀ)^{1/L}, and puts the
    features h = W_{L−1} ⋯ W_1 x in the row space of W_L, so h = W_L⁺ f(x) = W_Lᵀ (EEᵀ)^{−1/L} E x. All
    inner products (h·h', w_c·w_c', w_c·h) are then those of

        h̃ = (EEᵀ)^{−1/(2L)} E x ∈ R^C,     W̃ = (EEᵀ)^{1/(2L)} (C × C),

    which are returned as an (N, C) array of features and a (C, C) readout; the network's features
    are these up to a rotation (which no collapse measure sees). Needs E of full row rank C.
    """
    validate.integer("depth L (the number of weight matrices)", depth, low=2)
    E, X = validate.array("E", E), validate.array("X", X)
    if E.ndim != 2 or X.ndim != 2 or X.shape[1] != E.shape[1]:
        raise ValueError(f"E (C, d) and X (N, d) must agree on d, got {E.shape} and {X.shape}")
    S = E @ E.T
    if np.linalg.matrix_rank(S) < S.shape[0]:  # pragma: no mutate (S = E Eᵀ is square)
        raise ValueError("E Eᵀ is singular: the balanced geometry needs E of full row rank")
    return X @ E.T @ psd_power(S, -1 / (2 * depth)), psd_power(S, 1 / (2 * depth))


def train_deep_linear(model, X, Y, *, lr, steps: int, labels=None, record=(), accumulate_imbalance_change: bool = False):
    """Full-batch gradient descent on L_k = (1/2N) ‖X E_kᵀ − Y‖_F² for every member k of a
    :class:`~course_utils.models.deep_linear.DeepLinearNetwork` with ``n_members`` set (trained in place,
    by the course's one ensemble loop :func:`course_utils.ensemble.train_ensemble` with
    :class:`course_utils.ensemble.BatchedSGD`).

    ``lr`` is a number or one learning rate per member. Returns an
    :class:`~course_utils.ensemble.EnsembleHistory`: at the steps in ``record``, the loss of every member
    and, if ``labels`` are given, the measures of :func:`collapse_measures` of the penultimate features
    h = W_{L−1}⋯W_1 x (NC3 with the mean readout row removed, see :func:`nc3`), as arrays of shape
    (records, members). With ``accumulate_imbalance_change``, ``history.imbalance_change`` holds the sum over
    all steps of :func:`imbalance_step` per member (gradients from autograd, taken by the optimiser just
    before it applies them): the exact change of the imbalances D_l predicted by the step rule. A
    non-finite loss raises :class:`~course_utils.train.TrainingDiverged`. Used by the chapter "Neural
    collapse" §4 and its tests.
    """
    if not isinstance(model, DeepLinearNetwork):
        raise validate.ArgumentError(f"model must be a DeepLinearNetwork (with n_members set), got {validate.show(model)}")
    if model.n_members is None:
        raise ValueError("train_deep_linear needs a DeepLinearNetwork with n_members set (one per run)")
    steps = validate.nonnegative_int("steps", steps)
    K = model.n_members
    dtype = model.weights[0].dtype
    dims = validate.Dims(d=model.weights[0].shape[-1], C=model.weights[-1].shape[-2])
    X = validate.tensor("X", X, shape=("N", "d"), dims=dims, dtype=dtype)
    Y = validate.tensor("Y", Y, shape=("N", "C"), dims=dims, dtype=None if isinstance(Y, torch.Tensor) else dtype)   # Y (N, 1) for C = 3 classes: refused
    lrs = validate.array("lr", lr, ndim=(0, 1))
    if lrs.ndim == 1 and lrs.shape != (K,):
        raise validate.ArgumentError(f"lr must be a number or one learning rate per member ({K}), got shape {lrs.shape}")
    lrs = np.broadcast_to(lrs, (K,)).copy()
    if np.any(lrs <= 0):
        raise validate.ArgumentError(f"lr (the learning rates) must be positive, got {lrs.tolist()}")
    if record is None or isinstance(record, (str, bytes)) or not hasattr(record, "__iter__"):
        raise validate.ArgumentError(f"record must be a collection of steps 0 … steps, got {validate.show(record)}")
    record = {validate.integer(f"record (steps to record, 0 … steps = {steps})", s, low=0, high=steps) for s in record}

    cache: dict = {}

    def current_measures(m) -> dict:
        """collapse_measures of every member at the model's current weights, as (K,) tensors (computed once
        per record step: the cache is keyed on the weights' in-place version counters)."""
        version = tuple(W._version for W in m.weights)
        if cache.get("version") != version:
            with torch.no_grad():
                h = X
                for W in list(m.weights)[:-1]:
                    h = h @ W.transpose(-1, -2)
                out = m(X)
                ms = [collapse_measures(h[k], labels, m.weights[-1][k], out[k], center_classifier=True)
                      for k in range(K)]
            cache.update(version=version, values={name: torch.tensor([mk[name] for mk in ms]) for name in ms[0]})
        return cache["values"]

    metrics = None if labels is None else {
        name: (lambda m, name=name: current_measures(m)[name]) for name in current_measures(model)}
    weights = list(model.weights)
    opt = (_ImbalanceTrackingSGD(weights, lrs) if accumulate_imbalance_change else BatchedSGD(weights, lr=lrs.tolist()))
    # the targets as given (a float64 tensor stays float64 against a float32 network), not the converted y
    hist = train_ensemble(model, lambda out, _: 0.5 * ((out - Y) ** 2).sum(-1), X, Y, steps=steps, optimizer=opt,
                          record_steps=record, metrics=metrics, progress=False, on_divergence="raise")
    hist.imbalance_change = opt.change if accumulate_imbalance_change else None
    return hist


class _ImbalanceTrackingSGD(BatchedSGD):
    """Gradient descent on the weights of a batched DeepLinearNetwork that, before each update, adds the
    change of the imbalances the update will make, :func:`imbalance_step` of this step's gradients, to
    ``change`` (per member: one matrix per D_l)."""

    def __init__(self, weights: list, lrs: np.ndarray):
        super().__init__(weights, lr=lrs.tolist())
        self.weights, self.lrs, self.change = weights, lrs, None

    def step(self, closure=None):
        with torch.no_grad():
            grads = [W.grad for W in self.weights]
            now = [imbalance_step([g[k] for g in grads], self.lrs[k]) for k in range(len(self.lrs))]
        self.change = now if self.change is None else [[a + b for a, b in zip(c, n)] for c, n in zip(self.change, now)]
        return super().step(closure)


# ----------------------------------------------------------------------------------------------
# Non-linear networks with a linear readout
# ----------------------------------------------------------------------------------------------

def readout_split(H, y, W) -> dict[str, float]:
    """Split the within-class scatter and the centred class means by what the readout W (C, p) sees.

    With Π = W⁺W the projector on the row space of W, Σ_W, Σ_B from :func:`scatter_matrices` and M the
    (C, p) matrix of centred class means, returns

    - "visible":   tr(Π Σ_W Π) / tr Σ_B,
    - "invisible": tr((I − Π) Σ_W (I − Π)) / tr Σ_B   (the two add up to :func:`within_class_ratio`),
    - "invisible means": ‖M (I − Π)‖_F² / ‖M‖_F², the fraction of the class means' spread that the readout
      cannot see.

    For a readout f = W h + b, Π h = W⁺(f − b): once the outputs fit the targets, every example of a class
    has the same visible part, and the within-class scatter is all invisible (chapter "Neural collapse", §3).
    """
    H, y, C = _features_labels(H, y)
    W = validate.array("the readout W", W)
    if W.ndim != 2 or W.shape != (C, H.shape[1]):
        raise ValueError(f"the readout W must have shape (C, p) = {(C, H.shape[1])}, got {W.shape}")
    Pi = readout_projector(W)
    means, mu_G = class_means(H, y)
    R, M = H - means[y], means - mu_G
    Sb = np.sum(M ** 2) / C
    if Sb == 0:
        raise ValueError("all class means coincide: the between-class scatter is zero")
    R_vis, M_vis = R @ Pi, M @ Pi
    N = H.shape[0]
    return {"visible": float(np.sum(R_vis ** 2) / N / Sb), "invisible": float(np.sum((R - R_vis) ** 2) / N / Sb),
            "invisible means": float(np.sum((M - M_vis) ** 2) / np.sum(M ** 2))}


def unit_imbalance(W_in, b_in, W_out) -> np.ndarray:
    """δ_j = ‖W_out[:, j]‖² − ‖W_in[j, :]‖² − b_in[j]² for every unit j of a hidden layer h = φ(W_in x + b_in)
    read by W_out (shapes as in ``nn.Linear``: W_in (n, n_prev), b_in (n,) or None, W_out (n_next, n)).

    For a positively homogeneous φ (ReLU: φ(cz) = cφ(z) for c > 0) gradient flow conserves every δ_j
    (Du, Hu & Lee 2018): scaling a unit's incoming weights by c and its outgoing ones by 1/c leaves the
    function unchanged, and the gradient is orthogonal to that symmetry. It is the diagonal of the deep
    linear network's D_l = W_{l+1}ᵀW_{l+1} − W_lW_lᵀ (with the bias as one more input); a ReLU network
    conserves no more of D_l than that. Used by the chapter "Neural collapse" §5.
    """
    A, B = validate.array("W_in", W_in), validate.array("W_out", W_out)
    if A.ndim != 2 or B.ndim != 2 or B.shape[1] != A.shape[0]:
        raise ValueError(f"W_out (n_next, n) must read the n units of W_in (n, n_prev), got {B.shape} and {A.shape}")
    b = np.zeros(A.shape[0]) if b_in is None else validate.array("b_in", b_in).reshape(-1)
    if b.shape != (A.shape[0],):
        raise ValueError(f"b_in must have shape ({A.shape[0]},), got {b.shape}")
    return (B ** 2).sum(0) - (A ** 2).sum(1) - b ** 2


def nc3_of_a_fitted_readout(W, invisible_means: float) -> float:
    """NC3 of a network whose affine readout f = W h + b fits one-hot targets exactly, from two numbers:

        NC3 = √(2 − 2 κ_W √(1 − u)),     κ_W = (C − 1) / (‖W‖_F ‖W⁺J‖_F),   J = I − 11ᵀ/C,

    u = ``invisible_means`` the share of the centred means' spread that the readout cannot see
    (:func:`readout_split`). Derivation: a fit gives W(μ_c − μ_G) = e_c − 1/C, i.e. W Mᵀ = J, so
    ⟨W, M⟩_F = tr J = C − 1; the visible part of M is J W⁺ᵀ, of norm ‖W⁺J‖_F, and ‖M‖_F² = ‖W⁺J‖_F²/(1 − u).
    κ_W ≤ 1 (Cauchy–Schwarz), with equality when W is a multiple of an isometry on the centred class
    directions. So NC3 = 0 needs both an isotropic readout (κ_W = 1) and means it fully sees (u = 0);
    the measured NC3 differs from this value by terms of the order of the class-mean residuals.
    """
    W = validate.array("the readout W", W)
    if W.ndim != 2 or W.shape[0] < 2:
        raise ValueError(f"the readout W must be a (C, p) matrix with C ≥ 2, got shape {W.shape}")
    validate.real("invisible_means (the invisible share of the means)", invisible_means, low=0.0, high=1.0,
                  high_open=True)
    if not np.any(W):
        raise validate.ArgumentError("the readout W is zero: κ_W is undefined")
    C = W.shape[0]
    J = np.eye(C) - np.ones((C, C)) / C
    kappa = (C - 1) / (np.linalg.norm(W) * np.linalg.norm(np.linalg.pinv(W) @ J))
    return float(np.sqrt(max(0.0, 2 - 2 * kappa * np.sqrt(1 - invisible_means))))


def readout_geometry(W) -> dict[str, float]:
    """NC2, equinorm and NC3 predicted from the readout W (C, p) alone, for a network whose affine readout
    fits one-hot targets exactly and sees all of its class means (``readout_split(...)["invisible means"]`` = 0).

    A fit gives W(μ_c − μ_G) = e_c − 1/C, i.e. W Mᵀ = J (J = I − 11ᵀ/C); if M lies in the row space of W,
    M = J W⁺ᵀ, whose Gram matrix is J (W Wᵀ)⁻¹ J. The measures are those of these means (:func:`nc2`,
    :func:`equinorm`, :func:`nc3`); NC3 equals :func:`nc3_of_a_fitted_readout` (W, 0). An ETF needs
    J (W Wᵀ)⁻¹ J ∝ J: a readout whose singular values are equal on the centred class directions.
    """
    W = validate.array("the readout W", W)
    if W.ndim != 2 or W.shape[0] < 2 or W.shape[1] < W.shape[0]:
        raise ValueError(f"the readout W must be a (C, p) matrix with 2 ≤ C ≤ p, got shape {W.shape}")
    C = W.shape[0]
    # the class means, one per class (nc2, equinorm and nc3 centre them again)
    M = (np.eye(C) - np.ones((C, C)) / C) @ np.linalg.pinv(W).T
    y = np.arange(C)
    return {"NC2": nc2(M, y), "equinorm": equinorm(M, y), "NC3": nc3(W, M, y)}
