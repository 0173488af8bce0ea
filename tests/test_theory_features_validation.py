"""course_utils.theory.features: bad arguments end in a clear ArgumentError naming the argument, and the
formulas agree with independent computations (hypothesis properties, brute force, special cases)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import features as F
from course_utils.validate import ArgumentError

RNG = np.random.default_rng(0)
PHI = np.maximum(RNG.standard_normal((30, 6)), 0)
EF = F.eigenfeatures(PHI)
Y = np.repeat(np.arange(3), 10)
H = RNG.standard_normal((3, 4))[Y] + 0.3 * RNG.standard_normal((30, 4))

BAD = {
    "features not 2-d": (lambda: F.eigenfeatures(np.ones(5)), "features"),
    "features one row": (lambda: F.eigenfeatures(np.ones((1, 3))), "N ≥ 2"),
    "features NaN": (lambda: F.eigenfeatures(np.full((4, 3), np.nan)), "features must contain only finite"),
    "features string": (lambda: F.eigenfeatures("abc"), "features must be"),
    "features constant": (lambda: F.eigenfeatures(np.ones((5, 3))), "^features are constant"),
    "rtol NaN": (lambda: F.eigenfeatures(PHI, rtol=float("nan")), "^rtol must"),
    "rtol negative": (lambda: F.eigenfeatures(PHI, rtol=-1.0), "^rtol must"),
    "evaluate wrong p": (lambda: EF.evaluate(np.ones((3, 2))), "features has shape \\(3, 2\\), expected \\(M, p\\) with p = 6"),
    "evaluate NaN": (lambda: EF.evaluate(np.full((3, 6), np.nan)), "features must contain only finite"),
    "evaluate 1-d": (lambda: EF.evaluate(np.ones(6)), "features must have 2 dimensions"),
    "intensity not ef": (lambda: F.intensity(PHI), "ef must be an EigenFeatures .*got a NumPy array"),
    "utilisation not ef": (lambda: F.utilisation(PHI, np.ones((2, 6))), "ef must be an EigenFeatures"),
    "readout wrong p": (lambda: F.utilisation(EF, np.ones((3, 2))), "readout has shape \\(3, 2\\), expected \\(C, p\\)"),
    "readout None": (lambda: F.utilisation(EF, None), "readout must be"),
    "readout zero": (lambda: F.utilisation(EF, np.zeros((2, 6))), "readout is zero"),
    "labels float": (lambda: F.label_projector(np.array([0.0, 1.0])), "y must hold non-negative integer"),
    "labels negative": (lambda: F.label_projector(np.array([0, -1])), "y must hold non-negative integer"),
    "labels 2-d": (lambda: F.label_projector(np.zeros((2, 2), dtype=int)), "y must have 1 dimension"),
    "n_classes too small": (lambda: F.label_projector(np.array([0, 1, 2]), 2), "n_classes = 2 is too small for labels up to 2"),
    "n_classes zero": (lambda: F.label_projector(np.array([0, 1]), 0), "n_classes must be"),
    "values 1-d": (lambda: F.quality(np.ones(5), np.zeros(5, dtype=int)), "values must have 2 dimensions"),
    "values/y length": (lambda: F.quality(np.ones((5, 2)), np.zeros(4, dtype=int)), "y must be a vector of 5"),
    "values constant": (lambda: F.quality(np.ones((4, 2)), np.array([0, 0, 1, 1])), "values: an eigenfunction is constant"),
    "values NaN": (lambda: F.quality(np.full((4, 2), np.nan), np.array([0, 0, 1, 1])), "values must contain"),
    "H/y length": (lambda: F.alignment_from_scatter(H, Y[:-1]), "y must be a vector of 30"),
    "H NaN": (lambda: F.alignment_from_scatter(np.full((4, 2), np.nan), [0, 0, 1, 1]), "H must contain"),
    "H 1-d": (lambda: F.alignment_from_scatter(np.arange(4.0), [0, 0, 1, 1]), "H must have 2 dimensions"),
    "H equal means": (lambda: F.nc1_bound(np.array([[1.0], [-1.0], [1.0], [-1.0]]), [0, 0, 1, 1]), "H: the class means"),
    "one class": (lambda: F.alignment_from_scatter(H, np.zeros(30, dtype=int)), "C ≥ 2"),
    "missing class": (lambda: F.alignment_from_scatter(H[:20], np.repeat([0, 2], 10)), "every class"),
    "unbalanced": (lambda: F.alignment_from_scatter(H[:5], np.array([0, 0, 0, 1, 1])), "balanced"),
    "nc1 rtol": (lambda: F.nc1_bound(H, Y, rtol=float("nan")), "^rtol must"),
    "n_classes 1": (lambda: F.collapsed_alignment([0, 1], [0, 1], 1), "^n_classes must"),
    "n_classes str": (lambda: F.collapsed_alignment([0, 1], [0, 1], "2"), "n_classes"),
    "y_pred length": (lambda: F.collapsed_alignment([0, 1, 1], [0, 1], 2), "y_pred must be a vector of 3"),
    "y_true float": (lambda: F.collapsed_alignment([0.5, 1], [0, 1], 2), "y_true must hold"),
    "label ≥ C": (lambda: F.collapsed_alignment([0, 2], [0, 1], 2), "labels must lie in 0 … 1"),
    "pred ≥ C": (lambda: F.collapsed_alignment([0, 1], [0, 3], 2), "labels must lie in 0 … 1"),
    "gram shape": (lambda: F.collapsed_alignment([0, 1], [0, 1], 2, gram=np.eye(3)), "gram must have shape"),
    "gram NaN": (lambda: F.collapsed_alignment([0, 1], [0, 1], 2, gram=np.full((2, 2), np.nan)), "gram must contain"),
    "all one prediction": (lambda: F.collapsed_alignment([0, 1], [1, 1], 2), "one class"),
    "error negative": (lambda: F.uniform_error_kappa(-0.1, 10), "^error must lie"),
    "error above 1": (lambda: F.uniform_error_kappa(1.1, 10), "error"),
    "error NaN": (lambda: F.uniform_error_kappa(float("nan"), 10), "^error must contain only finite"),
    "error n_classes": (lambda: F.uniform_error_kappa(0.1, 1), "^n_classes must be an integer ≥ 2"),
    "kappa 1": (lambda: F.threshold_error(1.0, 10), "^kappa must"),
    "kappa negative": (lambda: F.threshold_error(-0.1, 10), "kappa"),
    "kappa NaN": (lambda: F.threshold_error(float("nan"), 10), "kappa"),
    "threshold n_classes": (lambda: F.threshold_error(0.1, 1.5), "^n_classes must"),
    "threshold n_classes 1": (lambda: F.threshold_error(0.1, 1), "^n_classes must be an integer ≥ 2"),
}


@pytest.mark.parametrize("call, message", BAD.values(), ids=BAD.keys())
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_valid_edge_cases_are_accepted():
    assert F.threshold_error(0.0, 2) == 0.0                          # κ = 0 is allowed (the closed end)
    assert F.uniform_error_kappa(1.0, 2) == pytest.approx(0.0)        # ε = 1 (closed end), C = 2: (1 − 2)² = 1
    assert F.eigenfeatures(PHI, rtol=0.0).eigenvalues.size >= EF.eigenvalues.size
    assert EF.evaluate(np.zeros((0, 6))).shape == (0, EF.eigenvalues.size)   # no new inputs: empty result
    assert F.label_projector([0, 1, 1]).shape == (3, 3)              # lists of labels are accepted
    assert np.allclose(F.label_projector([0, 1, 2, 2], 3), F.label_projector([0, 1, 2, 2]))   # n_classes = C
    assert F.uniform_error_kappa([], 3).shape == (0,)
    two = F.eigenfeatures(np.array([[0.0, 1.0], [1.0, 0.0]]))        # N = 2 is enough: one eigenfunction
    assert two.eigenvalues.tolist() == pytest.approx([0.5]) and np.allclose(np.abs(two.train_values), 1.0)
    # a readout with a small output variance (Σ‖a_k‖² < 1) is still fine
    assert F.utilisation(EF, 1e-3 * np.ones((1, 6))).sum() == pytest.approx(1.0)
    assert np.allclose(F.label_projector(torch.tensor([0, 1, 1, 0])), F.label_projector([0, 1, 1, 0]))
    # numpy and torch features give the same eigenfunctions; float32 tensors are converted
    assert np.allclose(F.eigenfeatures(torch.tensor(PHI, dtype=torch.float32)).eigenvalues, EF.eigenvalues, rtol=1e-5)
    assert F.collapsed_alignment(np.array([0, 1]), torch.tensor([0, 1]), np.int64(2)) == pytest.approx(1.0)


def test_label_projector_with_n_classes_and_its_rank():
    y = np.array([0, 0, 1, 1, 2, 2])
    P = F.label_projector(y, n_classes=5)          # absent classes add nothing: still rank C − 1 = 2
    assert np.allclose(P, F.label_projector(y)) and np.trace(P) == pytest.approx(2)
    assert np.allclose(P @ np.ones(6), 0)          # orthogonal to the constant
    # each centred indicator lies in the span
    ind = np.eye(3)[y] - 1 / 3
    assert np.allclose(P @ ind, ind)


def test_eigenfeatures_rtol_drops_the_small_eigenvalues():
    rng = np.random.default_rng(1)
    phi = rng.standard_normal((20, 3)) @ np.diag([10.0, 1.0, 0.1]) @ rng.standard_normal((3, 5))
    lam = F.eigenfeatures(phi, rtol=0.0).eigenvalues
    assert len(lam) >= 3
    ratio = lam[2] / lam[0]                          # keep λ_k > rtol · λ_1
    assert len(F.eigenfeatures(phi, rtol=0.5 * ratio).eigenvalues) == 3
    assert len(F.eigenfeatures(phi, rtol=2.0 * ratio).eigenvalues) == 2
    assert len(F.eigenfeatures(phi, rtol=0.999).eigenvalues) == 1
    with pytest.raises(ArgumentError, match="rtol"):
        F.eigenfeatures(phi, rtol=1.0)                 # would keep no eigenvalue at all
    assert F.eigenfeatures(phi).n_train == 20


@settings(max_examples=25, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), N=st.integers(3, 25), p=st.integers(1, 8))
def test_eigenfeatures_are_the_covariance_spectrum_and_orthonormal(seed, N, p):
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((N, p)) * rng.uniform(0.1, 3, p)
    ef = F.eigenfeatures(phi)
    r = len(ef.eigenvalues)
    cov = np.atleast_2d(np.cov(phi.T, bias=True))   # independent: the primal p × p covariance
    lam = np.sort(np.linalg.eigvalsh(cov))[::-1][:r]
    assert np.allclose(ef.eigenvalues, lam, rtol=1e-7, atol=1e-12)
    assert np.all(np.diff(ef.eigenvalues) <= 1e-12)                        # decreasing
    assert np.allclose(ef.train_values.T @ ef.train_values / N, np.eye(r), atol=1e-8)
    assert np.allclose(ef.train_values.mean(0), 0, atol=1e-8)               # centred kernel: zero mean
    # the Nyström extension reproduces the sample and the directions are unit vectors
    assert np.allclose(ef.evaluate(phi), ef.train_values, atol=1e-7)
    assert np.allclose(np.linalg.norm(ef.directions(), axis=0), 1.0, atol=1e-7)
    assert np.allclose(F.intensity(ef), lam / lam.sum())


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), C=st.integers(2, 4))
def test_utilisation_is_the_share_of_the_output_variance(seed, C):
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((15, 5))
    ef = F.eigenfeatures(phi)
    W = rng.standard_normal((C, 5))
    out = (phi - phi.mean(0)) @ W.T                                      # centred outputs (N, C)
    proj = ef.train_values.T @ out / len(phi)                            # ⟨e_k, f⟩ on the sample
    share = (proj ** 2).sum(1)
    assert np.allclose(F.utilisation(ef, W), share / share.sum(), atol=1e-10)
    assert np.allclose(F.utilisation(ef, torch.tensor(W, dtype=torch.float32)), share / share.sum(), atol=1e-5)


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), C=st.integers(2, 4), r=st.integers(1, 3))
def test_quality_is_the_projection_on_the_centred_indicators(seed, C, r):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(4 * C) % C)
    E = rng.standard_normal((4 * C, r))
    Ec = E - E.mean(0)
    Y = np.eye(C)[y]
    coef, *_ = np.linalg.lstsq(np.c_[np.ones(len(y)), Y], Ec, rcond=None)   # regression on the class indicators
    fit = np.c_[np.ones(len(y)), Y] @ coef
    q = F.quality(E, y)
    assert np.allclose(q, (fit ** 2).sum(0) / (Ec ** 2).sum(0), atol=1e-9)
    assert np.all((q >= -1e-12) & (q <= 1 + 1e-12))
    # a function of the label alone has quality 1, one shifted by a constant too
    assert np.allclose(F.quality(rng.standard_normal(C)[y][:, None] + 3.0, y), 1.0)


def _kta(H, y):
    """The centred kernel-target alignment, computed from its definition."""
    N = len(y)
    Hc = np.eye(N) - 1 / N
    K = Hc @ H @ H.T @ Hc
    Y = np.eye(y.max() + 1)[y]
    T = Hc @ Y @ Y.T @ Hc
    return (K * T).sum() / (np.linalg.norm(K) * np.linalg.norm(T))


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), C=st.integers(2, 4), n=st.integers(2, 6), noise=st.floats(0.01, 3.0))
def test_alignment_from_scatter_and_the_nc1_bound(seed, C, n, noise):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(C), n)
    H = rng.standard_normal((C, 5))[y] + noise * rng.standard_normal((C * n, 5))
    A = F.alignment_from_scatter(H, y)
    assert A == pytest.approx(_kta(H, y), rel=1e-9)
    value, bound = F.nc1_bound(H, y)
    means = np.stack([H[y == c].mean(0) for c in range(C)])
    Sw = sum(np.outer(h - means[c], h - means[c]) for h, c in zip(H, y)) / len(y)
    Mc = means - means.mean(0)
    Sb = Mc.T @ Mc / C
    assert value == pytest.approx(np.trace(Sw @ np.linalg.pinv(Sb)) / C, rel=1e-6)
    assert value <= bound * (1 + 1e-9)


def test_nc1_bound_is_infinite_when_the_alignment_vanishes_and_finite_otherwise():
    # class means differ, but the within-class scatter lies along the same direction: A > 0, finite bound
    y = np.repeat([0, 1], 2)
    H = np.array([[1.0, 0], [1.0, 0], [-1.0, 0], [-1.0, 0]]) + np.array([[0, 1.0], [0, -1.0], [0, 1.0], [0, -1.0]])
    value, bound = F.nc1_bound(H, y)
    assert np.isfinite(bound) and value == pytest.approx(0.0, abs=1e-12)
    kappa = 1 - F.alignment_from_scatter(H, y)
    c_B = 1 / 2                                           # tr Σ_B/(C λ_min⁺) with one non-zero eigenvalue
    assert bound == pytest.approx(c_B * kappa / (1 - kappa))


def test_collapsed_alignment_special_cases():
    y = np.repeat(np.arange(3), 4)
    assert F.collapsed_alignment(y, y, 3) == pytest.approx(1.0)           # perfect predictions
    # a permutation of the classes has the same confusion structure up to relabelling: |A| = alignment of ETF
    rng = np.random.default_rng(2)
    yp = rng.integers(0, 3, len(y))
    verts = np.eye(3) - 1 / 3
    assert F.collapsed_alignment(y, yp, 3) == pytest.approx(_kta(verts[yp], y), rel=1e-9)
    G = np.diag([1.0, 2.0, 3.0])                                            # a custom Gram of the vertices
    L = np.linalg.cholesky(G)
    assert F.collapsed_alignment(y, yp, 3, gram=G) == pytest.approx(_kta(L[yp], y), rel=1e-9)


@settings(max_examples=30, deadline=None, database=None)
@given(kappa=st.floats(0.0, 0.99), C=st.integers(2, 50))
def test_threshold_error_inverts_uniform_error_kappa(kappa, C):
    eps = F.threshold_error(kappa, C)
    assert 0 <= eps <= (C - 1) / C
    assert F.uniform_error_kappa(eps, C) == pytest.approx(kappa, abs=1e-12)
    # κ grows with the error below the threshold (1 − εC/(C−1) > 0)
    assert F.uniform_error_kappa(eps * 0.5, C) <= kappa + 1e-12


def test_uniform_error_kappa_values():
    assert F.uniform_error_kappa(0.25, 5) == pytest.approx(1 - (1 - 0.25 * 5 / 4) ** 2)
    assert np.allclose(F.uniform_error_kappa([0.0, 0.5], 2), [0.0, 1.0])
    assert F.threshold_error(0.75, 4) == pytest.approx(0.5 * 3 / 4)


def test_nc1_bound_uses_the_smallest_positive_between_class_eigenvalue():
    # three classes with unequal spreads of their means: λ_min⁺(Σ_B) < λ_max(Σ_B)
    rng = np.random.default_rng(9)
    C, n = 3, 8
    y = np.repeat(np.arange(C), n)
    means = np.array([[3.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0.2, 0]])
    H = means[y] + 0.3 * rng.standard_normal((C * n, 4))
    value, bound = F.nc1_bound(H, y)
    mu = np.stack([H[y == c].mean(0) for c in range(C)])
    Sw = sum(np.outer(h - mu[c], h - mu[c]) for h, c in zip(H, y)) / len(y)
    Mc = mu - mu.mean(0)
    Sb = Mc.T @ Mc / C
    lam = np.linalg.eigvalsh(Sb)
    lam_min = lam[lam > 1e-10 * lam.max()].min()
    assert lam_min < 0.5 * lam.max()
    kappa = 1 - np.trace(Sb) / (np.sqrt(C - 1) * np.linalg.norm(Sw + Sb))
    assert bound == pytest.approx(np.trace(Sb) / (C * lam_min) * kappa / (1 - kappa), rel=1e-9)
    assert value == pytest.approx(np.trace(Sw @ np.linalg.pinv(Sb, rcond=1e-10, hermitian=True)) / C, rel=1e-9)
    # both are invariant under a rescaling of the features (the rtol cut is relative to λ_max)
    for scale in (1e-4, 1e4):
        v2, b2 = F.nc1_bound(scale * H, y)
        assert v2 == pytest.approx(value, rel=1e-6) and b2 == pytest.approx(bound, rel=1e-6)


def test_nc1_bound_cuts_the_nearly_zero_between_class_directions_at_rtol():
    # three class means, one of them off the line by 1e-6: Σ_B has an eigenvalue ~1e-13 λ_max, below rtol = 1e-10,
    # which must be treated as zero (else the pseudo-inverse divides by it and NC1 explodes)
    rng = np.random.default_rng(11)
    y = np.repeat(np.arange(3), 6)
    means = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 1e-6, 0.0]])
    noise = 0.1 * rng.standard_normal((18, 3))
    noise -= np.stack([noise[y == c].mean(0) for c in range(3)])[y]      # the class means stay exactly `means`
    H = means[y] + noise
    value, bound = F.nc1_bound(H, y)
    mu = np.stack([H[y == c].mean(0) for c in range(3)])
    Sw = sum(np.outer(h - mu[c], h - mu[c]) for h, c in zip(H, y)) / len(y)
    Mc = mu - mu.mean(0)
    Sb = Mc.T @ Mc / 3
    w, U = np.linalg.eigh(Sb)
    keep = w > 1e-10 * w.max()
    assert keep.sum() == 1 and np.sort(w)[-2] > 0       # the tiny direction exists, and is cut
    pinv = (U[:, keep] / w[keep]) @ U[:, keep].T
    assert value == pytest.approx(np.trace(Sw @ pinv) / 3, rel=1e-6)
    assert value < 10                                  # the tiny direction is not inverted
    assert value <= bound
