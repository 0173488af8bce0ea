"""Bad inputs to course_utils.theory.neural_collapse end in a clear error naming the argument, and its
measures agree with independent computations (explicit loops over samples and classes)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import neural_collapse as nc

RNG = np.random.default_rng(0)
H = RNG.standard_normal((12, 4))
Y = np.repeat(np.arange(3), 4)
W = RNG.standard_normal((3, 4))
S = RNG.standard_normal((12, 3))
WS = [RNG.standard_normal((4, 3)), RNG.standard_normal((2, 4))]
X = RNG.standard_normal((7, 3))
YY = RNG.standard_normal((7, 2))


@pytest.mark.parametrize("call, words", [
    (lambda: nc.nc1(np.where(H > 1, np.nan, H), Y), "H"),
    (lambda: nc.nc1("H", Y), "H"),
    (lambda: nc.nc1(H, Y.astype(float)), "labels"),
    (lambda: nc.nc1(H, Y[:, None]), "labels"),
    (lambda: nc.nc1(H, -Y), "labels"),
    (lambda: nc.nc1(H[:0], Y[:0]), "H must not be empty"),
    (lambda: nc.nc1(np.ones_like(H), Y), "class means"),
    (lambda: nc.nc1(H, Y, rcond=np.nan), "rcond"),
    (lambda: nc.within_class_ratio(np.ones_like(H), Y), "class means"),
    (lambda: nc.equinorm(np.ones_like(H), Y), "class means"),
    (lambda: nc.etf_gram(2.5), "C"),
    (lambda: nc.etf_gram("3"), "C"),
    (lambda: nc.nc3(np.zeros((3, 4)), H, Y), "zero"),
    (lambda: nc.nc3(np.ones((3, 4)), H, Y, center_classifier=True), "zero"),
    (lambda: nc.nc3(W, np.ones_like(H), Y), "class means"),
    (lambda: nc.nc3(W * np.nan, H, Y), "W"),
    (lambda: nc.nc4(S * np.nan, H, Y), "scores"),
    (lambda: nc.nc4(S[:, :2], H, Y), "scores"),
    (lambda: nc.dln_gradients(WS, X * np.nan, YY), "X"),
    (lambda: nc.dln_gradients(WS, X, YY[:3]), "Y"),
    (lambda: nc.dln_gradients(3.0, X, YY), "weights"),
    (lambda: nc.dln_gradients([WS[0], "a"], X, YY), "weights"),
    (lambda: nc.dln_gradients([WS[0], WS[1] * np.nan], X, YY), "weights"),
    (lambda: nc.imbalance_step(WS, float("nan")), "lr"),
    (lambda: nc.imbalance_step(WS, "0.1"), "lr"),
    (lambda: nc.readout_projector([[np.inf, 1.0]]), "W_L"),
    (lambda: nc.invisible_weight_norm2(WS[1], WS[0]), "chain"),
    (lambda: nc.least_squares_map(X, YY[:4]), "rows"),
    (lambda: nc.least_squares_map(X, YY, rcond=-1.0), "rcond"),
    (lambda: nc.psd_power(np.ones((2, 3)), 0.5), "square"),
    (lambda: nc.psd_power(-np.eye(2), 0.5), "positive semi-definite"),
    (lambda: nc.psd_power(np.eye(2), np.nan), "power"),
    (lambda: nc.psd_power(np.eye(2) * np.nan, 0.5), "S"),
    (lambda: nc.balanced_geometry(WS[1] @ WS[0], X, 2.5), "depth"),
    (lambda: nc.balanced_geometry(WS[1] @ WS[0], X * np.inf, 2), "X"),
    (lambda: nc.readout_split(H, Y, W[:2]), "readout"),
    (lambda: nc.readout_split(np.ones_like(H), Y, W), "coincide"),
    (lambda: nc.unit_imbalance(WS[0], np.ones(3), WS[1]), "b_in"),
    (lambda: nc.unit_imbalance(WS[0], None, WS[0]), "W_out"),
    (lambda: nc.unit_imbalance(WS[0] * np.nan, None, WS[1]), "W_in"),
    (lambda: nc.nc3_of_a_fitted_readout(W, 1.0), "invisible"),
    (lambda: nc.nc3_of_a_fitted_readout(W, np.nan), "invisible"),
    (lambda: nc.nc3_of_a_fitted_readout(np.zeros((3, 4)), 0.1), "zero"),
    (lambda: nc.nc3_of_a_fitted_readout(W[:1], 0.1), "C ≥ 2"),
    (lambda: nc.readout_geometry(W.T), "2 ≤ C ≤ p"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_tensors_and_lists_are_accepted():
    want = nc.collapse_measures(H, Y, W, S)
    got = nc.collapse_measures(torch.tensor(H), torch.tensor(Y), torch.tensor(W), S.tolist())
    assert got == want


def _by_loops(H, y):
    C = y.max() + 1
    means = np.array([H[y == c].mean(0) for c in range(C)])
    mu = means.mean(0)
    Sw = sum(np.outer(H[i] - means[y[i]], H[i] - means[y[i]]) for i in range(len(y))) / len(y)
    Sb = sum(np.outer(means[c] - mu, means[c] - mu) for c in range(C)) / C
    return means, mu, Sw, Sb


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), C=st.integers(2, 4), p=st.integers(2, 6), extra=st.integers(0, 3))
def test_measures_by_explicit_loops(seed, C, p, extra):
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.arange(C), rng.integers(0, C, 2 * C + extra)])      # unbalanced classes
    H = rng.standard_normal((y.size, p)) + 3 * rng.standard_normal((C, p))[y]
    Wc = rng.standard_normal((C, p))
    scores = rng.standard_normal((y.size, C))
    means, mu, Sw, Sb = _by_loops(H, y)
    got_means, got_mu = nc.class_means(H, y)
    np.testing.assert_allclose(got_means, means, atol=1e-12)
    np.testing.assert_allclose(got_mu, mu, atol=1e-12)
    got_Sw, got_Sb = nc.scatter_matrices(H, y)
    np.testing.assert_allclose(got_Sw, Sw, atol=1e-12)
    np.testing.assert_allclose(got_Sb, Sb, atol=1e-12)
    assert nc.nc1(H, y) == pytest.approx(np.trace(Sw @ np.linalg.pinv(Sb, rcond=1e-10)) / C, rel=1e-8)
    assert nc.within_class_ratio(H, y) == pytest.approx(np.trace(Sw) / np.trace(Sb), rel=1e-12)
    M = means - mu
    norms = np.linalg.norm(M, axis=1)
    G = (M / norms[:, None]) @ (M / norms[:, None]).T
    np.testing.assert_allclose(nc.centred_mean_gram(H, y), G, atol=1e-12)
    G_etf = np.array([[1.0 if a == b else -1 / (C - 1) for b in range(C)] for a in range(C)])
    np.testing.assert_allclose(nc.etf_gram(C), G_etf, atol=1e-15)
    assert nc.nc2(H, y) == pytest.approx(np.linalg.norm(G - G_etf) / np.linalg.norm(G_etf), rel=1e-10)
    assert nc.equinorm(H, y) == pytest.approx(np.std(norms) / np.mean(norms), rel=1e-10)
    assert nc.nc3(Wc, H, y) == pytest.approx(np.linalg.norm(Wc / np.linalg.norm(Wc) - M / np.linalg.norm(M)))
    Wcc = Wc - Wc.mean(0)
    assert nc.nc3(Wc, H, y, center_classifier=True) == pytest.approx(
        np.linalg.norm(Wcc / np.linalg.norm(Wcc) - M / np.linalg.norm(M)))
    nearest = [np.argmin([np.sum((h - m) ** 2) for m in means]) for h in H]
    assert nc.nc4(scores, H, y) == pytest.approx(np.mean(np.argmax(scores, 1) != nearest))


def test_nc4_is_zero_for_the_nearest_centre_classifier():
    means, _ = nc.class_means(H, Y)
    scores = -((H[:, None, :] - means[None]) ** 2).sum(-1)
    assert nc.nc4(scores, H, Y) == 0.0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 1000), lr=st.floats(0.01, 1))
def test_imbalance_step_is_the_exact_change_of_the_imbalance(seed, lr):
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((4, 3)), rng.standard_normal((3, 4)), rng.standard_normal((2, 3))]
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    grads, loss = nc.dln_gradients(Ws, X, Y)
    E = Ws[2] @ Ws[1] @ Ws[0]
    assert loss == pytest.approx(0.5 * np.sum((X @ E.T - Y) ** 2) / 6)
    imb = lambda ws: [ws[l + 1].T @ ws[l + 1] - ws[l] @ ws[l].T for l in range(len(ws) - 1)]   # noqa: E731
    after = [W - lr * G for W, G in zip(Ws, grads)]
    for d, want in zip(nc.imbalance_step(grads, lr), [a - b for a, b in zip(imb(after), imb(Ws))]):
        np.testing.assert_allclose(d, want, atol=1e-10)
    # the gradients by central differences of the loss
    h = 1e-6
    for l in range(3):
        for idx in [(0, 0), (1, 2)]:
            up = [W.copy() for W in Ws]
            dn = [W.copy() for W in Ws]
            up[l][idx] += h
            dn[l][idx] -= h
            fd = (nc.dln_gradients(up, X, Y)[1] - nc.dln_gradients(dn, X, Y)[1]) / (2 * h)
            assert grads[l][idx] == pytest.approx(fd, abs=1e-6)


def test_psd_power_least_squares_map_and_projector_by_hand():
    A = RNG.standard_normal((3, 3))
    Sm = A @ A.T + 0.1 * np.eye(3)
    half = nc.psd_power(Sm, 0.5)
    np.testing.assert_allclose(half @ half, Sm, atol=1e-12)
    np.testing.assert_allclose(nc.psd_power(Sm, -1.0), np.linalg.inv(Sm), atol=1e-10)
    E = nc.least_squares_map(X, YY)
    np.testing.assert_allclose(E, np.linalg.lstsq(X, YY, rcond=None)[0].T, atol=1e-12)
    P = nc.readout_projector(WS[1])
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    np.testing.assert_allclose(P @ WS[1].T, WS[1].T, atol=1e-12)
    assert np.trace(P) == pytest.approx(2.0)


def test_unit_imbalance_by_hand():
    A, B, b = WS[0], WS[1], np.array([0.1, -0.2, 0.3, 0.0])
    want = [np.sum(B[:, j] ** 2) - np.sum(A[j] ** 2) - b[j] ** 2 for j in range(4)]
    np.testing.assert_allclose(nc.unit_imbalance(A, b, B), want, atol=1e-14)
    np.testing.assert_allclose(nc.unit_imbalance(A, None, B), np.array(want) + b ** 2, atol=1e-14)


def test_readout_split_adds_up_and_nc3_of_a_fitted_readout_by_hand():
    split = nc.readout_split(H, Y, W)
    assert split["visible"] + split["invisible"] == pytest.approx(nc.within_class_ratio(H, Y))
    C = 3
    J = np.eye(C) - 1 / C
    kappa = (C - 1) / (np.linalg.norm(W) * np.linalg.norm(np.linalg.pinv(W) @ J))
    assert nc.nc3_of_a_fitted_readout(W, 0.3) == pytest.approx(np.sqrt(2 - 2 * kappa * np.sqrt(0.7)))
    assert nc.readout_geometry(W)["NC3"] == pytest.approx(nc.nc3_of_a_fitted_readout(W, 0.0))


@pytest.mark.parametrize("call, start", [
    (lambda: nc.nc1("H", Y), "features H must"),
    (lambda: nc.nc1(H, "y"), "labels y must"),
    (lambda: nc.nc1(H, Y.astype(float)), "labels y must be non-negative integers"),
    (lambda: nc.nc1(H, np.where(Y == 0, -1, Y)), "labels y must be non-negative integers"),
    (lambda: nc.nc1(H, Y, rcond=-1.0), "rcond must"),
    (lambda: nc.nc1(np.ones_like(H), Y), "all class means of H coincide"),
    (lambda: nc.within_class_ratio(np.ones_like(H), Y), "all class means of H coincide"),
    (lambda: nc.equinorm(np.ones_like(H), Y), "all class means of H coincide"),
    (lambda: nc.etf_gram(1), "C .the number"),
    (lambda: nc.nc3("W", H, Y), "the classifier W must"),
    (lambda: nc.nc3(np.zeros((3, 4)), H, Y), "the classifier W is zero"),
    (lambda: nc.nc3(np.ones((3, 4)), H, Y, center_classifier=True), "the classifier W is zero once"),
    (lambda: nc.nc3(W, np.ones_like(H), Y), "all class means of H coincide"),
    (lambda: nc.nc4("s", H, Y), "scores must"),
    (lambda: nc.dln_gradients(WS, "X", YY), "X must"),
    (lambda: nc.dln_gradients(WS, X, "Y"), "Y must"),
    (lambda: nc.dln_gradients(WS, X[:0], YY[:0]), "X must not be empty"),
    (lambda: nc.dln_gradients(3.0, X, YY), "weights must be a list"),
    (lambda: nc.dln_gradients("ab", X, YY), "weights must be a list"),
    (lambda: nc.dln_gradients([WS[0], "a"], X, YY), "weights\\[1\\] must"),
    (lambda: nc.imbalance_step(WS, 0.0), "lr .the learning rate. must"),
    (lambda: nc.readout_projector("W"), "the readout W_L must"),
    (lambda: nc.least_squares_map("X", YY), "X must"),
    (lambda: nc.least_squares_map(X, "Y"), "Y must"),
    (lambda: nc.least_squares_map(X, YY, rcond=np.nan), "rcond must"),
    (lambda: nc.psd_power("S", 0.5), "S must"),
    (lambda: nc.psd_power(np.zeros((0, 0)), 0.5), "S must not be empty"),
    (lambda: nc.psd_power(np.eye(2), None), "power must"),
    (lambda: nc.psd_power(np.eye(2), 0.5, rcond=-1.0), "rcond must"),
    (lambda: nc.balanced_geometry(WS[1] @ WS[0], X, 1), "depth L"),
    (lambda: nc.balanced_geometry("E", X, 2), "E must"),
    (lambda: nc.balanced_geometry(WS[1] @ WS[0], "X", 2), "X must"),
    (lambda: nc.readout_split(H, Y, "W"), "the readout W must"),
    (lambda: nc.unit_imbalance("A", None, WS[1]), "W_in must"),
    (lambda: nc.unit_imbalance(WS[0], None, "B"), "W_out must"),
    (lambda: nc.unit_imbalance(WS[0], "b", WS[1]), "b_in must"),
    (lambda: nc.nc3_of_a_fitted_readout("W", 0.1), "the readout W must"),
    (lambda: nc.nc3_of_a_fitted_readout(W, -0.1), "invisible_means"),
    (lambda: nc.nc3_of_a_fitted_readout(np.zeros((3, 4)), 0.1), "the readout W is zero"),
    (lambda: nc.readout_geometry("W"), "the readout W must"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_values_are_accepted():
    # the smallest legal values of the bounded arguments
    assert nc.etf_gram(2).tolist() == [[1.0, -1.0], [-1.0, 1.0]]
    assert nc.nc1(H, Y, rcond=1e-8) == pytest.approx(nc.nc1(H, Y), rel=1e-6)
    assert nc.nc3_of_a_fitted_readout(W, 0.0) == pytest.approx(nc.readout_geometry(W)["NC3"])
    np.testing.assert_allclose(nc.psd_power(np.eye(2), 0.0), np.eye(2))
    E = nc.least_squares_map(X, YY, rcond=0.0)
    np.testing.assert_allclose(E, nc.least_squares_map(X, YY), atol=1e-10)
    # a classifier that is zero only before centring is fine without centring
    assert nc.nc3(np.ones((3, 4)), H, Y) >= 0
    # labels as a tensor of integers, features as float32
    assert nc.nc2(torch.tensor(H, dtype=torch.float32), torch.tensor(Y)) == pytest.approx(nc.nc2(H, Y), rel=1e-5)


@pytest.mark.parametrize("call, start", [
    (lambda: nc.nc1(H[:, 0], Y), "features H must have shape"),
    (lambda: nc.nc1(H, np.where(Y == 2, 3, Y)), "every class 0 … C−1 needs at least one sample"),
    (lambda: nc.nc1(H, np.zeros_like(Y)), "every class 0 … C−1 needs at least one sample"),
    (lambda: nc.centred_mean_gram(np.where(Y[:, None] == 0, 1.0, np.where(Y[:, None] == 1, -1.0, 0.0)) * np.ones(4), Y),
     "a class mean coincides"),
    (lambda: nc.nc3(W[:, :2], H, Y), "the classifier W must have shape"),
    (lambda: nc.dln_gradients(WS[:1], X, YY), "weights must hold at least two matrices"),
    (lambda: nc.dln_gradients([np.ones(3), np.ones((2, 3))], X, YY), "weights must chain"),
    (lambda: nc.dln_gradients([WS[0], WS[1], np.ones((2, 3))], X, YY), "weights must chain"),
    (lambda: nc.dln_gradients(WS, X[:, 0], YY), "X must have shape \\(N,"),
    (lambda: nc.balanced_geometry(WS[1] @ WS[0], X[:, 0], 2), "E \\(C, d\\) and X \\(N, d\\) must agree"),
    (lambda: nc.balanced_geometry((WS[1] @ WS[0])[0], X, 2), "E \\(C, d\\) and X \\(N, d\\) must agree"),
    (lambda: nc.balanced_geometry(np.vstack([WS[1] @ WS[0]] * 2), X, 2), "E Eᵀ is singular"),
    (lambda: nc.least_squares_map(X[:, 0], YY), "X \\(N, d\\) and Y \\(N, C\\) must have the same number"),
    (lambda: nc.readout_projector(np.ones(3)), "the readout W_L must have 2 dimensions"),
    (lambda: nc.unit_imbalance(np.ones(4), None, WS[1]), "W_out \\(n_next, n\\) must read"),
    (lambda: nc.readout_geometry(np.ones(3)), "the readout W must be a \\(C, p\\) matrix with 2 ≤ C ≤ p"),
    (lambda: nc.readout_geometry(np.ones((1, 3))), "the readout W must be a \\(C, p\\) matrix with 2 ≤ C ≤ p"),
    (lambda: nc.psd_power(np.diag([1e-3, -1e-10]), 0.5), "S must be positive semi-definite"),
])
def test_more_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_more_edge_values():
    # collapse_measures does not centre the classifier unless asked
    m = nc.collapse_measures(H, Y, W, S)
    assert m["NC3"] == nc.nc3(W, H, Y) != nc.nc3(W, H, Y, center_classifier=True)
    # imbalance_step returns one change per pair of consecutive layers
    Gs = [RNG.standard_normal((4, 3)), RNG.standard_normal((3, 4)), RNG.standard_normal((2, 3))]
    assert len(nc.imbalance_step(Gs, 0.1)) == 2
    # rcond of the least-squares map and of NC1 is used
    Xs = np.array([[1.0, 0.0], [0.0, 1e-13], [0.0, 0.0]])
    Ys = np.array([[1.0], [1.0], [0.0]])
    np.testing.assert_allclose(nc.least_squares_map(Xs, Ys), [[1.0, 0.0]], atol=1e-12)
    assert nc.nc1(H, Y, rcond=0.99) < nc.nc1(H, Y)
    # psd_power: relative thresholds, and rcond = 0 still drops exact zeros
    assert np.isfinite(nc.psd_power(np.diag([100.0, -5e-10]), 0.5)).all()
    np.testing.assert_allclose(nc.psd_power(np.diag([1.0, 0.0]), -1.0, rcond=0.0), np.diag([1.0, 0.0]))
    np.testing.assert_allclose(nc.psd_power(np.diag([0.01, 1e-12]), -1.0), np.diag([100.0, 1e12]), rtol=1e-9)
    np.testing.assert_allclose(nc.psd_power(np.diag([4.0, 0.0]), 0.5), np.diag([2.0, 0.0]))
    # readouts with C = 2 and square readouts are allowed; an isotropic readout predicts an exact ETF
    W2 = RNG.standard_normal((2, 3))
    assert 0 <= nc.nc3_of_a_fitted_readout(W2, 0.1) <= 2 and set(nc.readout_geometry(W2)) == {"NC2", "equinorm", "NC3"}
    Q = np.linalg.qr(RNG.standard_normal((5, 5)))[0]
    for C in (3, 5):
        geo = nc.readout_geometry(2.0 * Q[:C])
        assert geo["NC2"] == pytest.approx(0, abs=1e-10) and geo["equinorm"] == pytest.approx(0, abs=1e-10)
        assert geo["NC3"] == pytest.approx(nc.nc3_of_a_fitted_readout(2.0 * Q[:C], 0.0), abs=1e-9)
    # b_in may be a column
    np.testing.assert_allclose(nc.unit_imbalance(WS[0], np.ones((4, 1)), WS[1]),
                               nc.unit_imbalance(WS[0], np.ones(4), WS[1]))


def test_arguments_are_named_in_the_deep_linear_helpers():
    with pytest.raises(ValueError, match="^grads must be a list"):
        nc.imbalance_step(None, 0.1)
    with pytest.raises(ValueError, match="^W_L must contain only finite"):
        nc.invisible_weight_norm2(WS[0], WS[1] * np.nan)
    with pytest.raises(ValueError, match="^power = .* overflows"):
        nc.psd_power(np.diag([1.0, 1e-6]), -1e6)
