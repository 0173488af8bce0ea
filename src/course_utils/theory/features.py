"""Minimal and extended features: the eigenfunctions of a network's forward feature map, and what they say.

Used by the chapter "Minimal and extended features" (book/04_feature_learning/05_minimal_features).

A classifier f(x) = W φ(x) + b is split into its forward feature map φ: x ↦ R^p (the last hidden layer)
and a linear readout W (C × p). On a training sample x_1 … x_N with centred features
φ̃(x) = φ(x) − φ̄ (φ̄ the training mean), the feature kernel k(x, x') = φ̃(x)·φ̃(x') defines the integral
operator (T g)(x) = (1/N) Σ_i k(x, x_i) g(x_i), whose eigenfunctions are the network's learned features:

    (1/N) Σ_i k(x, x_i) e_k(x_i) = λ_k e_k(x),       (1/N) Σ_i e_k(x_i) e_l(x_i) = δ_kl.

- :class:`EigenFeatures` (from :func:`eigenfeatures`): λ_k and e_k on the training sample from the
  eigendecomposition of K/N (K_ij = k(x_i, x_j)), e_k(x_i) = √N u_ik, and on any new input through the
  **Nyström extension** e_k(x) = (1/(N λ_k)) Σ_i k(x, x_i) e_k(x_i) (exact on the training points);
- :func:`intensity`: λ_k / Σ_j λ_j, the share of the feature variance carried by e_k;
- :func:`quality`: q_k = ‖P_Y e_k‖² / ‖e_k‖² on a labelled set (e_k centred there), the fraction of the
  eigenfunction that lies in the span of the centred class indicators;
- :func:`utilisation`: with v_k = Φ̃ᵀ u_k/√(Nλ_k) the feature-space direction of e_k, the readout writes
  f(x) − f̄ = Σ_k √λ_k (W v_k) e_k(x), so a_k = √λ_k W v_k and u_k = ‖a_k‖² / Σ_j ‖a_j‖², the share of the
  output variance on the training sample that flows through e_k;
- :func:`alignment_from_scatter`: the centred kernel alignment with the labels through the scatter matrices,
  A = tr Σ_B / (√(C−1) ‖Σ_W + Σ_B‖_F) for balanced classes, and :func:`nc1_bound`, the bound it implies,
  NC1 ≤ c_B κ/(1 − κ), c_B = tr Σ_B /(C λ_min⁺(Σ_B)) (κ = 1 − A);
- :func:`collapsed_alignment`: A for features collapsed onto the vertices of a simplex ETF by *predicted*
  class, from the confusion matrix alone, and :func:`uniform_error_kappa`, its value 1 − (1 − εC/(C−1))²
  when the errors ε are spread evenly; :func:`threshold_error`, the error at which it reaches a given κ.

These definitions are reconstructed from Nam et al. (2024, arXiv:2410.04264 v1) and the chapter says where
they may differ from the source's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate as V

__all__ = ["EigenFeatures", "eigenfeatures", "intensity", "quality", "utilisation", "label_projector",
           "alignment_from_scatter", "nc1_bound", "collapsed_alignment", "uniform_error_kappa",
           "threshold_error"]


def _labels(y, n: int | None, name: str = "y") -> tuple[np.ndarray, int]:
    """Integer class labels 0 … C−1 as a NumPy vector (of length ``n`` when given) and C = max + 1."""
    y = V.array(name, y, ndim=1, dtype=None)
    if n is not None and y.shape[0] != n:
        raise V.ArgumentError(f"{name} must be a vector of {n} integer labels (one per row), got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise V.ArgumentError(f"{name} must hold non-negative integer labels 0 … C−1, got {V.show(y)}")
    return y.astype(int), int(y.max()) + 1


def _eigenfeatures(ef) -> EigenFeatures:
    if not isinstance(ef, EigenFeatures):
        raise V.ArgumentError(f"ef must be an EigenFeatures (the result of eigenfeatures(features)), got {V.show(ef)}")
    return ef


@dataclass
class EigenFeatures:
    """The eigenfunctions of the feature kernel on a training sample (see :func:`eigenfeatures`).

    ``mean`` (p,): the training mean φ̄; ``phi`` (N, p): the centred training features Φ̃;
    ``eigenvalues`` (r,): λ_k of K/N, decreasing; ``train_values`` (N, r): e_k(x_i) = √N u_ik.
    """

    mean: np.ndarray
    phi: np.ndarray
    eigenvalues: np.ndarray
    train_values: np.ndarray

    def __post_init__(self) -> None:
        dims = V.Dims()
        self.mean = V.array("mean", self.mean, shape=("p",), dims=dims)
        self.phi = V.array("phi", self.phi, shape=("N", "p"), dims=dims)
        self.eigenvalues = V.array("eigenvalues", self.eigenvalues, shape=("r",), dims=dims, allow_empty=True)
        self.train_values = V.array("train_values", self.train_values, shape=("N", "r"), dims=dims,
                                    allow_empty=True)
        if np.any(self.eigenvalues <= 0):
            raise V.ArgumentError("eigenvalues must be positive (the kept eigenvalues of K/N)")

    @property
    def n_train(self) -> int:
        return self.phi.shape[0]

    def directions(self) -> np.ndarray:
        """v_k = Φ̃ᵀ e_k(x_·)/(N λ_k) (p, r): the unit feature-space directions with e_k(x) = v_k·φ̃(x)/√λ_k."""
        N = self.n_train
        return self.phi.T @ self.train_values / (N * np.sqrt(self.eigenvalues))

    def evaluate(self, features) -> np.ndarray:
        """The Nyström extension e_k(x) = (1/(Nλ_k)) Σ_i k(x, x_i) e_k(x_i) at features φ(x) of shape (M, p) → (M, r).

        On the training features themselves it returns ``train_values`` (to rounding).
        """
        phi = V.array("features", features, shape=("M", "p"), dims=V.Dims(p=self.phi.shape[1]), allow_empty=True)
        k = (phi - self.mean) @ self.phi.T                      # k(x, x_i), shape (M, N)
        return k @ self.train_values / (self.n_train * self.eigenvalues)


def eigenfeatures(features, *, rtol: float = 1e-9) -> EigenFeatures:
    """Diagonalise the feature kernel of training features φ(x_i) (N, p): (1/N) K u_k = λ_k u_k, K = Φ̃Φ̃ᵀ.

    Keeps the eigenvalues above ``rtol`` × the largest (0 ≤ rtol < 1) (the others are rounding noise; a centred kernel has
    rank ≤ min(N − 1, p)). Returns an :class:`EigenFeatures`.
    """
    phi = V.array("features", features, ndim=2)
    if phi.shape[0] < 2:
        raise V.ArgumentError(f"features must have shape (N, p) with N ≥ 2, got {phi.shape}")
    rtol = V.real("rtol", rtol, low=0.0, high=1.0, high_open=True)   # rtol ≥ 1 would keep no eigenvalue
    N = phi.shape[0]
    mean = phi.mean(0)
    centred = phi - mean
    lam, U = np.linalg.eigh(centred @ centred.T / N)
    lam, U = lam[::-1], U[:, ::-1]
    if lam[0] <= 0:
        raise V.ArgumentError("features are constant on the training sample: no eigenfunction")
    keep = lam > rtol * lam[0]
    return EigenFeatures(mean=mean, phi=centred, eigenvalues=lam[keep], train_values=np.sqrt(N) * U[:, keep])


def intensity(ef: EigenFeatures) -> np.ndarray:
    """λ_k / Σ_j λ_j: the share of the (centred) feature variance carried by eigenfunction k."""
    ef = _eigenfeatures(ef)
    return ef.eigenvalues / ef.eigenvalues.sum()


def label_projector(y, n_classes: int | None = None) -> np.ndarray:
    """P_Y (M, M): the orthogonal projector onto the span of the centred class indicators of labels y (rank C−1
    when every class occurs)."""
    y, C = _labels(y, None)
    if n_classes is not None:
        n_classes = V.positive_int("n_classes", n_classes)
        if n_classes < C:
            raise V.ArgumentError(f"n_classes = {n_classes} is too small for labels up to {C - 1}")
        C = n_classes
    Y = np.eye(C)[y]
    Y = Y - Y.mean(0)
    Q, R = np.linalg.qr(Y)
    rank = np.abs(np.diag(R)) > 1e-10 * max(np.abs(np.diag(R)).max(), 1e-300)
    Q = Q[:, rank]
    return Q @ Q.T


def quality(values, y) -> np.ndarray:
    """q_k = ‖P_Y ê_k‖²/‖ê_k‖² for eigenfunction values (M, r) on a labelled set, ê_k = e_k − its mean there.

    Between 0 (orthogonal to every class direction) and 1 (a combination of class indicators). A function
    that is random with respect to the labels has q ≈ (C−1)/(M−1) on average.
    """
    E = V.array("values", values, ndim=2)
    y, _ = _labels(y, E.shape[0])
    E = E - E.mean(0)
    P = label_projector(y)
    norm2 = (E ** 2).sum(0)
    if np.any(norm2 <= 0):
        raise V.ArgumentError("values: an eigenfunction is constant on this set, its quality is undefined")
    return ((P @ E) ** 2).sum(0) / norm2


def utilisation(ef: EigenFeatures, readout) -> np.ndarray:
    """u_k = ‖a_k‖² / Σ_j ‖a_j‖², a_k = √λ_k W v_k, for a readout W of shape (C, p) (rows w_c, as in ``nn.Linear``).

    Since f(x) − f̄ = Σ_k a_k e_k(x) with e_k orthonormal on the training sample, Σ_k ‖a_k‖² is the output
    variance there (summed over outputs) and u_k the share that flows through e_k.
    """
    ef = _eigenfeatures(ef)
    W = V.array("readout", readout, shape=("C", "p"), dims=V.Dims(p=ef.phi.shape[1]))
    a = (W @ ef.directions()) * np.sqrt(ef.eigenvalues)       # (C, r)
    a2 = (a ** 2).sum(0)
    if a2.sum() <= 0:
        raise V.ArgumentError("readout is zero on the features: utilisation is undefined")
    return a2 / a2.sum()


def _scatter(H, y):
    H = V.array("H", H, ndim=2)
    y, C = _labels(y, H.shape[0])
    counts = np.bincount(y, minlength=C)  # pragma: no mutate (C = max(y) + 1 is bincount's length anyway)
    if C < 2 or np.any(counts == 0):
        raise V.ArgumentError(f"y: need every class 0 … C−1 present and C ≥ 2; counts {counts.tolist()}")
    if np.any(counts != counts[0]):  # pragma: no mutate (all equal counts[0] ⟺ all equal counts[1], C ≥ 2)
        raise V.ArgumentError(f"y: the classes must be balanced (equal counts); counts {counts.tolist()}")
    means = np.stack([H[y == c].mean(0) for c in range(C)])
    R = H - means[y]
    Mc = means - means.mean(0)
    return R.T @ R / H.shape[0], Mc.T @ Mc / C, C


def alignment_from_scatter(H, y) -> float:
    """A = ⟨K_c, (YYᵀ)_c⟩_F/(‖K_c‖_F ‖(YYᵀ)_c‖_F) for K = HHᵀ and balanced labels, from the scatter matrices:

        A = tr Σ_B / (√(C−1) ‖Σ_W + Σ_B‖_F).

    Equal to :func:`course_utils.diagnostics.kernel_alignment` (feature_kernel(H), y) for balanced classes.
    """
    Sw, Sb, C = _scatter(H, y)
    return float(np.trace(Sb) / (np.sqrt(C - 1) * np.linalg.norm(Sw + Sb)))


def nc1_bound(H, y, *, rtol: float = 1e-10) -> tuple[float, float]:
    """(NC1, its bound c_B κ/(1 − κ)) with κ = 1 − A (:func:`alignment_from_scatter`), c_B = tr Σ_B/(C λ_min⁺(Σ_B)).

    From ‖Σ_W + Σ_B‖_F ≥ tr(P_B(Σ_W + Σ_B))/√(C−1) (P_B the projector on the span of the class means):
    r = tr(P_B Σ_W)/tr Σ_B ≤ κ/(1 − κ), and NC1 = tr(Σ_W Σ_B⁺)/C ≤ tr(P_B Σ_W)/(C λ_min⁺) = c_B r.
    For a simplex ETF c_B = (C−1)/C. Returns (inf bound) when κ = 1.
    """
    Sw, Sb, C = _scatter(H, y)
    rtol = V.nonnegative("rtol", rtol)
    lam = np.linalg.eigvalsh(Sb)
    pos = lam[lam > rtol * lam.max()]
    if len(pos) == 0:
        raise V.ArgumentError("H: the class means coincide (Σ_B = 0), so NC1 and its bound are undefined")
    nc1_value = float(np.trace(Sw @ np.linalg.pinv(Sb, rcond=rtol, hermitian=True)) / C)
    kappa = 1 - np.trace(Sb) / (np.sqrt(C - 1) * np.linalg.norm(Sw + Sb))
    c_B = np.trace(Sb) / (C * pos.min())
    return nc1_value, float(c_B * kappa / (1 - kappa)) if kappa < 1 else float("inf")


def collapsed_alignment(y_true, y_pred, n_classes: int, gram=None) -> float:
    """A between labels y_true and features collapsed by predicted class, h_i = m_{ŷ_i}, from the confusion matrix.

    With the class vertices' Gram matrix G (default: a simplex ETF, C/(C−1)(I − 11ᵀ/C)), Y, Ŷ the one-hot
    matrices, H = I − 11ᵀ/N, Ñ = YᵀHŶ (the centred confusion matrix), D = YᵀHY, D̂ = ŶᵀHŶ:

        A = tr(G ÑᵀÑ) / (√tr(G D̂ G D̂) · √tr(D²)).
    """
    C = V.integer("n_classes", n_classes, low=2)
    yt, _ = _labels(y_true, None, "y_true")
    yp, _ = _labels(y_pred, len(yt), "y_pred")
    if max(yt.max(), yp.max()) >= C:
        raise V.ArgumentError(f"labels must lie in 0 … {C - 1} (n_classes = {C}), got up to {max(yt.max(), yp.max())}")
    G = np.eye(C) * C / (C - 1) - np.ones((C, C)) / (C - 1) if gram is None else \
        V.array("gram", gram, shape=(C, C))
    Y, Yh = np.eye(C)[yt], np.eye(C)[yp]
    Yc, Yhc = Y - Y.mean(0), Yh - Yh.mean(0)
    Nt, D, Dh = Yc.T @ Yhc, Yc.T @ Yc, Yhc.T @ Yhc
    den = np.sqrt(np.trace(G @ Dh @ G @ Dh)) * np.sqrt(np.trace(D @ D))
    if den <= 0:
        raise V.ArgumentError("y_pred or y_true: all predictions (or all labels) are one class, the alignment is undefined")
    return float(np.trace(G @ Nt.T @ Nt) / den)


def uniform_error_kappa(error, n_classes: int):
    """κ = 1 − A = 1 − (1 − εC/(C−1))² for balanced classes, features collapsed onto a simplex ETF by predicted
    class, and a fraction ε of each class predicted as each other class equally often (ε/(C−1) each)."""
    C = V.integer("n_classes", n_classes, low=2)
    e = V.array("error", error, allow_empty=True)
    if np.any((e < 0) | (e > 1)):
        raise V.ArgumentError(f"error must lie in [0, 1], got {error!r}")
    return 1 - (1 - e * C / (C - 1)) ** 2


def threshold_error(kappa: float, n_classes: int) -> float:
    """The error ε* at which :func:`uniform_error_kappa` reaches κ: ε* = (1 − √(1 − κ))(C − 1)/C."""
    kappa = V.real("kappa", kappa, low=0.0, high=1.0, high_open=True)
    n_classes = V.integer("n_classes", n_classes, low=2)
    return float((1 - np.sqrt(1 - kappa)) * (n_classes - 1) / n_classes)
