"""Unit tests of course_utils.theory.features (the chapter "Minimal and extended features",
book/04_feature_learning/05_minimal_features): each compared with an independent computation."""

import numpy as np
import pytest
import torch

from course_utils import diagnostics
from course_utils.theory import features as F
from course_utils.theory import neural_collapse as nc


def _features(N=60, p=12, seed=0):
    rng = np.random.default_rng(seed)
    return np.maximum(rng.standard_normal((N, 5)) @ rng.standard_normal((5, p)) + 0.3 * rng.standard_normal((N, p)), 0)


def test_nystrom_extension_is_exact_on_the_training_points_and_equals_the_primal_form():
    phi = _features()
    ef = F.eigenfeatures(phi)
    assert np.allclose(ef.evaluate(phi), ef.train_values, atol=1e-9)
    # orthonormal on the sample, eigenvalues those of the feature covariance
    assert np.allclose(ef.train_values.T @ ef.train_values / len(phi), np.eye(len(ef.eigenvalues)), atol=1e-9)
    cov = np.cov(phi.T, bias=True)
    lam = np.sort(np.linalg.eigvalsh(cov))[::-1][: len(ef.eigenvalues)]
    assert np.allclose(ef.eigenvalues, lam, rtol=1e-8)
    # new inputs: e_k(x) = v_k·(φ(x) − φ̄)/√λ_k with v_k the covariance eigenvectors (independent route)
    new = _features(N=7, seed=1)
    w, V = np.linalg.eigh(cov)
    V = V[:, ::-1][:, : len(ef.eigenvalues)]
    primal = (new - phi.mean(0)) @ V / np.sqrt(lam)
    ext = ef.evaluate(new)
    signs = np.sign((ext * primal).sum(0))
    assert np.allclose(ext, primal * signs, atol=1e-8)
    assert np.allclose(np.abs(ef.directions()), np.abs(V), atol=1e-8)


def test_intensity_and_utilisation_are_shares_of_the_variances():
    phi = _features()
    ef = F.eigenfeatures(phi)
    assert F.intensity(ef).sum() == pytest.approx(1.0)
    assert np.all(np.diff(F.intensity(ef)) <= 1e-15)
    W = np.random.default_rng(2).standard_normal((3, phi.shape[1]))
    u = F.utilisation(ef, W)
    assert u.sum() == pytest.approx(1.0)
    # brute force: project the centred output on each eigenfunction
    out = (phi - phi.mean(0)) @ W.T
    coef = ef.train_values.T @ out / len(phi)                    # a_k (r, C)
    assert np.allclose(out, ef.train_values @ coef, atol=1e-9)  # the expansion is complete
    assert np.allclose(u, (coef ** 2).sum(1) / (coef ** 2).sum(), atol=1e-10)
    # a readout along one eigen-direction uses only that eigenfunction
    W1 = ef.directions()[:, 1][None, :]
    assert F.utilisation(ef, W1)[1] == pytest.approx(1.0)


def test_quality_of_class_indicators_and_of_noise():
    y = np.repeat(np.arange(4), 50)
    ind = np.eye(4)[y]
    assert np.allclose(F.quality(ind[:, :3], y), 1.0)
    rng = np.random.default_rng(3)
    q = F.quality(rng.standard_normal((200, 400)), y)
    assert q.mean() == pytest.approx(3 / 199, rel=0.1)               # (C−1)/(M−1) for noise
    P = F.label_projector(y)
    assert np.allclose(P @ P, P) and np.trace(P) == pytest.approx(3)


def _balanced(C=4, n=30, p=10, noise=0.3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(C), n)
    H = rng.standard_normal((C, p))[y] + noise * rng.standard_normal((C * n, p))
    return H, y


def test_alignment_from_scatter_equals_the_kernel_alignment():
    for seed, noise in ((0, 0.1), (1, 1.0), (2, 3.0)):
        H, y = _balanced(seed=seed, noise=noise)
        A = diagnostics.kernel_alignment(diagnostics.feature_kernel(torch.tensor(H)), torch.tensor(y)).item()
        assert F.alignment_from_scatter(H, y) == pytest.approx(A, rel=1e-10)


def test_nc1_bound_holds_and_is_tight_for_a_simplex_etf():
    for seed, noise in ((0, 0.05), (1, 0.5), (2, 2.0)):
        H, y = _balanced(seed=seed, noise=noise)
        value, bound = F.nc1_bound(H, y)
        assert value == pytest.approx(nc.nc1(H, y), rel=1e-10)
        assert value <= bound * (1 + 1e-12)
    # ETF means, small scatter only inside their span: the bound is nearly reached (the sample means tilt
    # the ETF a little, so not exactly)
    C, n = 5, 40
    rng = np.random.default_rng(4)
    etf = np.eye(C) - 1 / C
    y = np.repeat(np.arange(C), n)
    H = etf[y] + 1e-3 * rng.standard_normal((C * n, C)) @ etf
    value, bound = F.nc1_bound(H, y)
    assert value == pytest.approx(bound, rel=0.1)
    # and a collapsed ETF has A = 1
    assert F.alignment_from_scatter(etf[y], y) == pytest.approx(1.0)


def test_collapsed_alignment_matches_brute_force_and_the_uniform_formula():
    rng = np.random.default_rng(5)
    C, n = 6, 40
    y = np.repeat(np.arange(C), n)
    yp = np.where(rng.random(C * n) < 0.2, rng.integers(0, C, C * n), y)
    verts = np.eye(C) - 1 / C                                       # simplex ETF vertices (Gram ∝ ETF)
    brute = diagnostics.kernel_alignment(diagnostics.feature_kernel(torch.tensor(verts[yp])), torch.tensor(y)).item()
    assert F.collapsed_alignment(y, yp, C) == pytest.approx(brute, rel=1e-10)
    # uniform errors: class a sends ε n/(C−1) of its members to each other class
    eps, m = 0.25, 5                                                  # n = 4(C−1)·m so that counts are integers
    n = 4 * (C - 1) * m
    y = np.repeat(np.arange(C), n)
    yp = y.copy()
    for a in range(C):
        idx = np.flatnonzero(y == a)[: int(eps * n)]
        yp[idx] = [(a + 1 + j % (C - 1)) % C for j in range(len(idx))]
    assert 1 - F.collapsed_alignment(y, yp, C) == pytest.approx(F.uniform_error_kappa(eps, C), rel=1e-10)
    assert F.uniform_error_kappa(F.threshold_error(0.1, 10), 10) == pytest.approx(0.1)
    assert F.uniform_error_kappa(0.0, 3) == 0.0


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="features"):
        F.eigenfeatures(np.ones(5))
    with pytest.raises(ValueError, match="constant"):
        F.eigenfeatures(np.ones((5, 3)))
    ef = F.eigenfeatures(_features())
    with pytest.raises(ValueError, match="shape"):
        ef.evaluate(np.ones((3, 2)))
    with pytest.raises(ValueError, match="readout"):
        F.utilisation(ef, np.ones((3, 2)))
    with pytest.raises(ValueError, match="balanced"):
        F.alignment_from_scatter(np.ones((5, 2)) + np.arange(5)[:, None], np.array([0, 0, 0, 1, 1]))
    with pytest.raises(ValueError, match="n_classes"):
        F.collapsed_alignment([0, 1], [0, 1], 1)
    with pytest.raises(ValueError, match="kappa"):
        F.threshold_error(1.5, 10)
    with pytest.raises(ValueError, match="error"):
        F.uniform_error_kappa(-0.1, 10)
