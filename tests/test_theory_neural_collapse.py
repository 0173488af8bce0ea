"""Unit tests of course_utils.theory.neural_collapse: the measures NC1–NC4 on configurations whose
values are known, and the deep-linear-network identities against autograd and explicit networks."""

import numpy as np
import pytest
import torch

from course_utils.models.deep_linear import DeepLinearNetwork, balanced_factors
from course_utils.theory import neural_collapse as nc


def _etf_features(C=4, per_class=5, noise=0.0, seed=0, extra_dims=0):
    """Features at the vertices of a simplex ETF in R^(C-1) (+ extra zero dims), with optional noise."""
    rng = np.random.default_rng(seed)
    centred = np.eye(C) - 1 / C
    lam, U = np.linalg.eigh(centred)
    V = np.sqrt(C / (C - 1)) * centred @ U[:, lam > 0.5]
    V = np.hstack([V, np.zeros((C, extra_dims))])
    y = np.repeat(np.arange(C), per_class)
    return V[y] + noise * rng.standard_normal((len(y), V.shape[1])), y, V


def test_etf_gram():
    for C in (2, 3, 10):
        G = nc.etf_gram(C)
        assert np.allclose(np.diag(G), 1) and np.allclose(G.sum(1), 0)
        assert np.allclose(G[~np.eye(C, dtype=bool)], -1 / (C - 1))
    with pytest.raises(ValueError):
        nc.etf_gram(1)


def test_measures_vanish_at_exact_collapse():
    H, y, V = _etf_features()
    m = nc.collapse_measures(H, y, V, H @ V.T)
    assert np.allclose(nc.centred_mean_gram(H, y), nc.etf_gram(4))
    for key in ("NC1", "within/between", "NC2", "equinorm", "NC3", "NC4"):
        assert m[key] == pytest.approx(0.0, abs=1e-12), key


def test_measures_of_noisy_features():
    H, y, V = _etf_features(noise=0.3, per_class=200)
    # isotropic noise of variance s² in C-1 dims against Σ_B = I/(C-1) (unit-norm centred means):
    # NC1 = s² tr(Σ_B⁺)/C = s² (C-1)²/C, and tr Σ_W/tr Σ_B = s²(C-1)/1
    C = 4
    assert nc.nc1(H, y) == pytest.approx(0.09 * (C - 1) ** 2 / C, rel=0.15)
    assert nc.within_class_ratio(H, y) == pytest.approx(0.09 * (C - 1), rel=0.15)
    assert 0 < nc.nc2(H, y) < 0.1


def test_nc1_is_invariant_under_invertible_maps_of_the_mean_span():
    H, y, _ = _etf_features(C=5, noise=0.5, per_class=7, seed=3)
    A = np.random.default_rng(1).standard_normal((4, 4)) + 3 * np.eye(4)
    assert nc.nc1(H @ A, y) == pytest.approx(nc.nc1(H, y), rel=1e-8)


def test_nc1_does_not_see_scatter_orthogonal_to_the_means():
    H, y, _ = _etf_features(extra_dims=3)
    H = H.copy()
    noise = np.random.default_rng(0).standard_normal((len(y), 3))
    for c in np.unique(y):                      # zero mean in every class: the class means stay put
        noise[y == c] -= noise[y == c].mean(0)
    H[:, -3:] = noise
    assert nc.nc1(H, y) == pytest.approx(0.0, abs=1e-10)
    assert nc.within_class_ratio(H, y) > 0.5


def test_nc3_and_classifier_centring():
    H, y, V = _etf_features()
    W = 2.5 * V + np.array([1.0, -2.0, 0.5])   # a common row added to every row
    assert nc.nc3(W, H, y) > 0.3
    assert nc.nc3(W, H, y, center_classifier=True) == pytest.approx(0.0, abs=1e-12)
    assert nc.nc3(-V, H, y) == pytest.approx(2.0)


def test_nc4_counts_disagreements():
    H, y, V = _etf_features(per_class=4)
    scores = H @ V.T
    scores[:3] = scores[:3, ::-1]          # three samples now predicted differently
    assert nc.nc4(scores, H, y) == pytest.approx(3 / len(y))


def test_equinorm_and_nc2_of_unequal_means():
    H, y, V = _etf_features()
    H = H * np.array([1.0, 1.0, 1.0, 3.0])[y][:, None]
    assert nc.equinorm(H, y) > 0.2
    assert nc.nc2(H, y) > 0.05


def test_measure_errors():
    H, y, V = _etf_features()
    with pytest.raises(ValueError):
        nc.nc1(H[:, 0], y)                       # features not a matrix
    with pytest.raises(ValueError):
        nc.nc1(H, y[:-1])                        # wrong number of labels
    with pytest.raises(ValueError):
        nc.nc1(H, y.astype(float))               # labels not integers
    with pytest.raises(ValueError):
        nc.nc1(H, np.where(y == 2, 3, y))        # class 2 has no sample
    with pytest.raises(ValueError):
        nc.nc3(V[:, :2], H, y)                   # classifier of the wrong shape
    with pytest.raises(ValueError):
        nc.nc4(np.zeros((len(y), 3)), H, y)      # scores of the wrong shape
    with pytest.raises(ValueError):
        nc.nc2(np.zeros_like(H), y)              # means coincide with the global mean


def _random_weights(sizes, scale=0.7, seed=0):
    rng = np.random.default_rng(seed)
    return [scale * rng.standard_normal((b, a)) / np.sqrt(a) for a, b in zip(sizes[:-1], sizes[1:])]


def test_dln_gradients_agree_with_autograd():
    rng = np.random.default_rng(1)
    Ws = _random_weights([5, 6, 4, 3])
    X, Y = rng.standard_normal((9, 5)), rng.standard_normal((9, 3))
    grads, loss = nc.dln_gradients(Ws, X, Y)
    Wt = [torch.tensor(W, requires_grad=True) for W in Ws]
    E = Wt[2] @ Wt[1] @ Wt[0]
    L = 0.5 * ((torch.tensor(X) @ E.T - torch.tensor(Y)) ** 2).sum() / 9
    L.backward()
    assert loss == pytest.approx(L.item(), rel=1e-12)
    for g, W in zip(grads, Wt):
        assert np.allclose(g, W.grad.numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError):
        nc.dln_gradients(Ws, X[:, :4], Y)
    with pytest.raises(ValueError):
        nc.dln_gradients(Ws, X, Y[:, :2])
    with pytest.raises(ValueError):
        nc.dln_gradients(Ws[:1], X, Y)           # one matrix is not a deep network
    with pytest.raises(ValueError):
        nc.dln_gradients([Ws[0], Ws[2]], X, Y)   # shapes do not chain


def test_one_gradient_step_changes_the_imbalance_by_eta_squared_terms():
    rng = np.random.default_rng(2)
    Ws = _random_weights([5, 6, 4, 3], seed=2)
    X, Y = rng.standard_normal((9, 5)), rng.standard_normal((9, 3))
    grads, _ = nc.dln_gradients(Ws, X, Y)
    lr = 0.3
    net = DeepLinearNetwork(5, [6, 4], 3, 3)
    before = [D.numpy() for D in _set(net, Ws).imbalance()]
    after = [D.numpy() for D in _set(net, [W - lr * g for W, g in zip(Ws, grads)]).imbalance()]
    for b, a, step in zip(before, after, nc.imbalance_step(grads, lr)):
        assert np.allclose(a - b, step, rtol=1e-9, atol=1e-13)
        assert np.abs(step).max() > 1e-6          # the step change is not trivially zero
    with pytest.raises(ValueError):
        nc.imbalance_step(grads, 0.0)


def _set(net, Ws):
    with torch.no_grad():
        for p, W in zip(net.weights, Ws):
            p.copy_(torch.tensor(W))
    return net


def test_invisible_weight_identity_holds_for_any_weights():
    W1, W2 = _random_weights([7, 9, 3], seed=4)
    a, b = nc.invisible_weight_norm2(W1, W2)
    assert a == pytest.approx(b, rel=1e-10)
    assert a > 0.1
    P = nc.readout_projector(W2)
    assert np.allclose(P @ P, P) and np.allclose(P, P.T) and np.trace(P) == pytest.approx(3)
    with pytest.raises(ValueError):
        nc.readout_projector(np.zeros(3))


def test_balanced_geometry_matches_an_explicit_balanced_network():
    rng = np.random.default_rng(5)
    C, d, L = 3, 6, 3
    E = rng.standard_normal((C, d))
    X = rng.standard_normal((11, d))
    Ws = [W.numpy() for W in balanced_factors(torch.tensor(E), [8, 8], generator=torch.Generator().manual_seed(0))]
    h = X @ Ws[0].T @ Ws[1].T
    h_t, W_t = nc.balanced_geometry(E, X, L)
    assert np.allclose(h @ h.T, h_t @ h_t.T, atol=1e-10)                 # feature Gram matrix
    assert np.allclose(Ws[2] @ Ws[2].T, W_t @ W_t.T, atol=1e-10)         # readout Gram = (EEᵀ)^(1/L)
    assert np.allclose(h @ Ws[2].T, h_t @ W_t.T, atol=1e-10)             # outputs
    assert np.allclose(W_t @ W_t.T, nc.psd_power(E @ E.T, 1 / L))
    with pytest.raises(ValueError):
        nc.balanced_geometry(E, X, 1)
    with pytest.raises(ValueError):
        nc.balanced_geometry(E, X[:, :4], L)
    with pytest.raises(ValueError):
        nc.balanced_geometry(np.vstack([E, E[:1]]), X, L)                 # EEᵀ singular


def test_psd_power_and_least_squares_map():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((4, 4))
    S = A @ A.T
    assert np.allclose(nc.psd_power(S, 0.5) @ nc.psd_power(S, 0.5), S)
    assert np.allclose(nc.psd_power(S, -1.0), np.linalg.inv(S))
    with pytest.raises(ValueError):
        nc.psd_power(-S - np.eye(4), 0.5)
    with pytest.raises(ValueError):
        nc.psd_power(A[:3], 0.5)
    X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 3))
    assert np.allclose(nc.least_squares_map(X, Y), Y.T @ X @ np.linalg.inv(X.T @ X))
    with pytest.raises(ValueError):
        nc.least_squares_map(X, Y[:5])


def test_train_deep_linear_records_and_validates():
    rng = np.random.default_rng(7)
    X = torch.tensor(rng.standard_normal((12, 6)))
    y = np.arange(12) % 3
    Y = torch.nn.functional.one_hot(torch.tensor(y), 3).double()
    net = DeepLinearNetwork(6, 5, 3, 2, init_scale=[0.1, 0.2], n_members=2, generator=torch.Generator().manual_seed(0))
    hist = nc.train_deep_linear(net, X, Y, lr=[0.1, 0.05], steps=20, labels=y, record=(0, 20))
    assert hist["loss"].shape == (2, 2) and hist["NC1"].shape == (2, 2)
    assert np.all(hist["loss"][1] < hist["loss"][0])
    with pytest.raises(ValueError):
        nc.train_deep_linear(DeepLinearNetwork(6, 5, 3, 2), X, Y, lr=0.1, steps=1)
    with pytest.raises(ValueError):
        nc.train_deep_linear(net, X, Y, lr=-0.1, steps=1)
    with pytest.raises(ValueError):
        nc.train_deep_linear(net, X, Y, lr=0.1, steps=-1)


def test_readout_split_sees_only_the_readout_row_space():
    """Features = readout-visible class structure + within-class noise in the readout's null space, then
    add visible noise: the split sends each to its side, the parts add up to the scatter ratio."""
    rng = np.random.default_rng(0)
    C, p, per = 3, 6, 40
    W = np.hstack([np.eye(C), np.zeros((C, p - C))])              # reads the first C coordinates
    y = np.repeat(np.arange(C), per)
    means = np.hstack([np.eye(C), 0.5 * rng.standard_normal((C, p - C))])
    H = means[y] + np.hstack([np.zeros((len(y), C)), 0.1 * rng.standard_normal((len(y), p - C))])
    s = nc.readout_split(H, y, W)
    assert s["visible"] == pytest.approx(0.0, abs=1e-14)
    assert s["invisible"] == pytest.approx(nc.within_class_ratio(H, y), rel=1e-12)
    mu, mu_G = nc.class_means(H, y)
    M = mu - mu_G
    assert s["invisible means"] == pytest.approx(np.sum(M[:, C:] ** 2) / np.sum(M ** 2), rel=1e-12)
    H2 = H + np.hstack([0.2 * rng.standard_normal((len(y), C)), np.zeros((len(y), p - C))])
    s2 = nc.readout_split(H2, y, W)
    assert s2["visible"] > 0.01
    assert s2["visible"] + s2["invisible"] == pytest.approx(nc.within_class_ratio(H2, y), rel=1e-12)
    # a fitted readout (W h + b = one-hot targets) leaves no visible within-class scatter
    Wr = rng.standard_normal((C, p))
    targets = np.eye(C)[y]
    H3 = (np.linalg.pinv(Wr) @ (targets - 0.1).T).T + H @ (np.eye(p) - np.linalg.pinv(Wr) @ Wr)
    assert nc.readout_split(H3, y, Wr)["visible"] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        nc.readout_split(H, y, W.T)


def test_unit_imbalance_is_conserved_by_small_steps_of_a_relu_layer():
    """δ_j of a two-layer ReLU network with biases drifts by O(η²) per step: conserved by the flow."""
    torch.manual_seed(0)
    X, Y = torch.randn(30, 5, dtype=torch.float64), torch.randn(30, 3, dtype=torch.float64)
    W1 = torch.randn(8, 5, dtype=torch.float64, requires_grad=True)
    b1 = torch.randn(8, dtype=torch.float64, requires_grad=True)
    W2 = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
    d0 = nc.unit_imbalance(W1.detach(), b1.detach(), W2.detach())
    assert d0 == pytest.approx((W2.detach() ** 2).sum(0).numpy() - (W1.detach() ** 2).sum(1).numpy()
                               - b1.detach().numpy() ** 2)
    drift = {}
    for lr in (1e-3, 2e-3):
        params = [t.detach().clone().requires_grad_() for t in (W1, b1, W2)]
        for _ in range(int(round(0.2 / lr))):                       # the same time η t = 0.2
            loss = 0.5 * ((torch.relu(X @ params[0].T + params[1]) @ params[2].T - Y) ** 2).sum(1).mean()
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for t, g in zip(params, grads):
                    t -= lr * g
        d = nc.unit_imbalance(*(t.detach() for t in params))
        drift[lr] = np.abs(d - d0).max()
    assert drift[2e-3] / drift[1e-3] == pytest.approx(2.0, rel=0.1)        # drift ∝ η: zero for the flow
    assert drift[1e-3] < 1e-2 * np.abs(d0).max()
    with pytest.raises(ValueError):
        nc.unit_imbalance(W1.detach(), b1.detach(), W2.detach().T)


def test_nc3_of_a_fitted_readout():
    """A readout that fits one-hot targets exactly: NC3 follows from κ_W and the unseen share of the means;
    an isometric readout that sees all of the means gives NC3 = 0."""
    rng = np.random.default_rng(2)
    C, p = 4, 9
    y = np.repeat(np.arange(C), 15)
    T = np.eye(C)[y]
    for _ in range(3):
        W, b = rng.standard_normal((C, p)), rng.standard_normal(C)
        Pi = np.linalg.pinv(W) @ W
        hidden = (rng.standard_normal((C, p))[y] + 0.3 * rng.standard_normal((len(y), p))) @ (np.eye(p) - Pi)
        H = (np.linalg.pinv(W) @ (T - b).T).T + hidden
        u = nc.readout_split(H, y, W)["invisible means"]
        assert 0.05 < u < 0.99
        assert nc.nc3_of_a_fitted_readout(W, u) == pytest.approx(nc.nc3(W, H, y), rel=1e-10)
    Q, _ = np.linalg.qr(rng.standard_normal((p, C)))
    W = 2.0 * (np.eye(C) - 1 / C) @ Q.T                      # an isometry (× 2) on the centred class directions
    H = (np.linalg.pinv(W) @ (T - 1 / C).T).T
    assert nc.nc3(W, H, y) == pytest.approx(0.0, abs=1e-7)
    assert nc.nc3_of_a_fitted_readout(W, 0.0) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError):
        nc.nc3_of_a_fitted_readout(W, 1.0)
