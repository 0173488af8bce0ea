"""Bad inputs to course_utils.theory.regimes_networks end in a clear error naming the argument, and its
formulas agree with independent computations (the recursion in the original basis, explicit loops,
a weighted polynomial fit)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import ntk_ensemble as ens
from course_utils.theory import regimes_networks as rn

RNG = np.random.default_rng(0)
K = (lambda A: A @ A.T / 6)(RNG.standard_normal((6, 6)))
KX = RNG.standard_normal((3, 6))
Y = RNG.standard_normal(6)
D, W = 3, 4
THETA = torch.randn((D + 2) * W + 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
X = torch.randn(9, D, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
YT = torch.randn(9, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
NET = ens.BatchedNTKMLP(2, D, W, 1, activation="relu", seeds=[0, 1], dtype=torch.float64)


@pytest.mark.parametrize("call, words", [
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 5, lr=np.nan), "lr"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 5, lr=-0.1), "lr"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 5, lr=0.1, momentum=np.nan), "momentum"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, -1, lr=0.1), "steps"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 2.5, lr=0.1), "steps"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, "5", lr=0.1), "steps"),
    (lambda: rn.kernel_momentum_dynamics(K[:5, :5], KX, Y, 5, lr=0.1), "shapes do not fit"),
    (lambda: rn.kernel_momentum_dynamics(K, KX[:, :5], Y, 5, lr=0.1), "shapes do not fit"),
    (lambda: rn.kernel_momentum_dynamics(np.where(K > 0.5, np.nan, K), KX, Y, 5, lr=0.1), "Theta_train"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, np.full(6, np.inf), 5, lr=0.1), "y_train"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, [], 5, lr=0.1), "y_train"),
    (lambda: rn.one_hidden_layer(THETA, X, 0), "width"),
    (lambda: rn.one_hidden_layer(THETA, X, 4.5), "width"),
    (lambda: rn.one_hidden_layer(THETA, X[0], W), "X"),
    (lambda: rn.one_hidden_layer(THETA, X, W, sigma_w=np.nan), "sigma_w"),
    (lambda: rn.one_hidden_layer(THETA, X, W, sigma_b="a"), "sigma_b"),
    (lambda: rn.one_hidden_layer(THETA[None], X, W), "theta"),
    (lambda: rn.one_hidden_layer(THETA * np.nan, X, W), "theta"),
    (lambda: rn.network_jacobian(THETA[:-1], X, W), "entries"),
    (lambda: rn.loss_gradient_hessian(THETA, X, YT[:-1], W), "y"),
    (lambda: rn.loss_gradient_hessian(THETA, X, YT[:, None], W), "y"),
    (lambda: rn.loss_gradient_hessian(THETA, X, YT * np.nan, W), "y"),
    (lambda: rn.loss_gradient_hessian(THETA, X, YT, 2.5), "width"),
    (lambda: rn.newton_polish(THETA, X, YT, W, dtol=np.nan), "dtol"),
    (lambda: rn.newton_polish(THETA, X, YT, W, max_iter=0), "max_iter"),
    (lambda: rn.newton_polish(THETA, X, YT, W, max_iter=2.5), "max_iter"),
    (lambda: rn.newton_polish(THETA[:-1], X, YT, W), "entries"),
    (lambda: rn.newton_polish(THETA, X, YT[:-2], W), "y"),
    (lambda: rn.member_parameters(NET, 2), "k"),
    (lambda: rn.member_parameters(NET, -1), "k"),
    (lambda: rn.member_parameters(NET, 0.5), "k"),
    (lambda: rn.member_parameters(torch.nn.Linear(2, 1), 0), "net"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(3), np.eye(2)), "same shape"),
    (lambda: rn.asymptotic_excess_coefficient(np.ones((2, 3)), np.ones((2, 3))), "square"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(2) * np.nan, np.eye(2)), "finite"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(2), np.eye(2), rcond=np.nan), "rcond"),
    (lambda: rn.asymptotic_excess_coefficient(np.zeros((0, 0)), np.zeros((0, 0))), "square"),
    (lambda: rn.fit_inverse_width([1, 2], [1, 2], [1, 1]), "length"),
    (lambda: rn.fit_inverse_width([1, 2, 3], [1, 2, np.nan], [1, 1, 1]), "finite"),
    (lambda: rn.fit_inverse_width([1, 2, 3], [1, 2, 3], [1, np.nan, 1]), "positive"),
    (lambda: rn.fit_inverse_width([1, 2, np.inf], [1, 2, 3], [1, 1, 1]), "positive"),
    (lambda: rn.fit_inverse_width([2, 2, 2], [1, 2, 3], [1, 1, 1]), "two different widths"),
    (lambda: rn.fit_inverse_width("abc", [1, 2, 3], [1, 1, 1]), "width"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_numpy_and_float32_inputs_are_converted():
    f = rn.one_hidden_layer(THETA, X, W)
    assert torch.equal(rn.one_hidden_layer(THETA, X.numpy(), W), f)
    assert rn.one_hidden_layer(THETA, X.float(), W).dtype == torch.float64       # X follows θ's dtype
    L, g, H = rn.loss_gradient_hessian(THETA.numpy(), X.float(), YT.tolist(), W)
    assert g.dtype == torch.float64 and H.shape == (THETA.numel(),) * 2


@settings(max_examples=20, deadline=None)
@given(steps=st.integers(0, 30), momentum=st.floats(0, 0.95), frac=st.floats(0.05, 0.9), seed=st.integers(0, 50))
def test_kernel_momentum_dynamics_is_the_recursion_in_the_original_basis(steps, momentum, frac, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((5, 5))
    Th = A @ A.T / 5
    Thc = rng.standard_normal((2, 5))
    y = rng.standard_normal(5)
    lr = frac * 2 * (1 + momentum) / np.linalg.eigvalsh(Th)[-1]
    a, B = np.zeros(5), np.zeros(5)
    for t in range(steps):                                  # eq-regnet-momentum, written out
        g = Th @ a - y
        B = g if t == 0 else momentum * B + g
        a = a - lr * B
    f_tr, f_te = rn.kernel_momentum_dynamics(Th, Thc, y, steps, lr=lr, momentum=momentum)
    np.testing.assert_allclose(f_tr, Th @ a, atol=1e-8 * (1 + np.abs(Th @ a).max()))
    np.testing.assert_allclose(f_te, Thc @ a, atol=1e-8 * (1 + np.abs(Thc @ a).max()))


def test_kernel_momentum_dynamics_stability_edge():
    lam_max = np.linalg.eigvalsh(K)[-1]
    rn.kernel_momentum_dynamics(K, KX, Y, 3, lr=0.999 * 2 * 1.5 / lam_max, momentum=0.5)   # just stable
    with pytest.raises(ValueError, match="unstable"):
        rn.kernel_momentum_dynamics(K, KX, Y, 3, lr=1.001 * 2 * 1.5 / lam_max, momentum=0.5)
    f_tr, f_te = rn.kernel_momentum_dynamics(K, KX, Y, 0, lr=0.1)
    assert np.all(f_tr == 0) and np.all(f_te == 0)


def test_one_hidden_layer_by_explicit_loops():
    sw, sb = 1.3, 0.4
    th = THETA.numpy()
    V0 = th[:D * W].reshape(D, W)
    b0, V1, b1 = th[D * W:(D + 1) * W], th[(D + 1) * W:(D + 2) * W], th[-1]
    x = X.numpy()
    want = [sb * b1 + sw / math.sqrt(W) * sum(
        V1[j] * max(0.0, sb * b0[j] + sw / math.sqrt(D) * sum(x[m, i] * V0[i, j] for i in range(D)))
        for j in range(W)) for m in range(x.shape[0])]
    got = rn.one_hidden_layer(THETA, X, W, sigma_w=sw, sigma_b=sb)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    f, J = rn.network_jacobian(THETA, X, W, sigma_w=sw, sigma_b=sb)
    np.testing.assert_allclose(f.numpy(), want, rtol=1e-12, atol=1e-12)
    # the Jacobian by central differences (the ReLU kinks are almost surely not hit)
    h = 1e-6
    for k in range(THETA.numel()):
        e = torch.zeros_like(THETA)
        e[k] = h
        fd = (rn.one_hidden_layer(THETA + e, X, W, sigma_w=sw, sigma_b=sb)
              - rn.one_hidden_layer(THETA - e, X, W, sigma_w=sw, sigma_b=sb)) / (2 * h)
        np.testing.assert_allclose(J[:, k].numpy(), fd.numpy(), atol=1e-7)


def test_loss_gradient_hessian_by_finite_differences():
    sw, sb = 1.1, 0.5
    L, g, H, G = rn.loss_gradient_hessian(THETA, X, YT, W, sigma_w=sw, sigma_b=sb, need_g=True)
    loss = lambda t: float(torch.mean((rn.one_hidden_layer(t, X, W, sigma_w=sw, sigma_b=sb) - YT) ** 2))
    assert float(L) == pytest.approx(loss(THETA), rel=1e-12)
    h = 1e-5
    for k in range(THETA.numel()):
        e = torch.zeros_like(THETA)
        e[k] = h
        assert float(g[k]) == pytest.approx((loss(THETA + e) - loss(THETA - e)) / (2 * h), abs=1e-7)
        gp = rn.loss_gradient_hessian(THETA + e, X, YT, W, sigma_w=sw, sigma_b=sb)[1]
        gm = rn.loss_gradient_hessian(THETA - e, X, YT, W, sigma_w=sw, sigma_b=sb)[1]
        np.testing.assert_allclose(H[:, k].numpy(), ((gp - gm) / (2 * h)).numpy(), atol=1e-6)
    f, J = rn.network_jacobian(THETA, X, W, sigma_w=sw, sigma_b=sb)
    r = (f - YT).numpy()
    Jn = J.numpy()
    G_direct = 4 * sum(r[m] ** 2 * np.outer(Jn[m], Jn[m]) for m in range(9)) / 9
    np.testing.assert_allclose(G.numpy(), G_direct, rtol=1e-10, atol=1e-12)


def test_newton_polish_lowers_the_loss_and_reports_its_state():
    out = rn.newton_polish(THETA, X, YT, W, sigma_w=1.2, sigma_b=0.3, max_iter=40)
    L0 = float(torch.mean((rn.one_hidden_layer(THETA, X, W, sigma_w=1.2, sigma_b=0.3) - YT) ** 2))
    L1 = float(torch.mean((rn.one_hidden_layer(out["theta"], X, W, sigma_w=1.2, sigma_b=0.3) - YT) ** 2))
    assert out["loss"] == pytest.approx(L1, rel=1e-12) and L1 < L0
    _, g, _ = rn.loss_gradient_hessian(out["theta"], X, YT, W, sigma_w=1.2, sigma_b=0.3)
    assert out["grad_norm"] == pytest.approx(float(g.norm()), rel=1e-12)
    assert 1 <= out["iterations"] <= 40
    assert out["converged"] == (out["decrement"] <= 1e-10)
    one = rn.newton_polish(THETA, X, YT, W, sigma_w=1.2, sigma_b=0.3, max_iter=1)
    assert one["iterations"] == 1 and one["loss"] <= L0
    # the input θ is not modified
    assert torch.equal(THETA, torch.randn((D + 2) * W + 1, dtype=torch.float64,
                                          generator=torch.Generator().manual_seed(0)))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 100), rank=st.integers(1, 4))
def test_asymptotic_excess_coefficient_is_half_the_trace_on_the_range_of_H(seed, rank):
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((4, 4)))[0]
    lam = np.concatenate([rng.uniform(0.5, 3, rank), np.zeros(4 - rank)])
    H = U @ np.diag(lam) @ U.T
    A = rng.standard_normal((4, 4))
    G = A @ A.T
    want = 0.5 * np.trace(np.linalg.pinv(H, rcond=1e-9, hermitian=True) @ G)
    assert rn.asymptotic_excess_coefficient(H, G) == pytest.approx(want, rel=1e-8)
    # linear least squares: H = 2Σ, G = 4σ²Σ gives c = P σ²
    S = A @ A.T + np.eye(4)
    assert rn.asymptotic_excess_coefficient(2 * S, 4 * 0.3 * S) == pytest.approx(4 * 0.3)


def test_fit_inverse_width_is_the_weighted_least_squares_line():
    w = np.array([8.0, 16, 32, 64, 128])
    L = 1.0 + 3.0 / w + np.array([0.01, -0.02, 0.015, -0.005, 0.002])
    se = np.array([0.01, 0.02, 0.01, 0.005, 0.004])
    out = rn.fit_inverse_width(w, L, se)
    c1, c0 = np.polyfit(1 / w, L, 1, w=1 / se)              # numpy weights are 1/σ
    assert out["limit"] == pytest.approx(c0) and out["coefficient"] == pytest.approx(c1)
    A = np.stack([np.ones_like(w), 1 / w], 1)
    cov = np.linalg.inv(A.T @ np.diag(se ** -2) @ A)
    assert out["limit_stderr"] == pytest.approx(np.sqrt(cov[0, 0]))
    assert out["coefficient_stderr"] == pytest.approx(np.sqrt(cov[1, 1]))


@pytest.mark.parametrize("call, start", [
    (lambda: rn.kernel_momentum_dynamics("K", KX, Y, 5, lr=0.1), "Theta_train must"),
    (lambda: rn.kernel_momentum_dynamics(K, "KX", Y, 5, lr=0.1), "Theta_cross must"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, "Y", 5, lr=0.1), "y_train must"),
    (lambda: rn.kernel_momentum_dynamics(K, KX[None], Y, 5, lr=0.1), "shapes do not fit"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 5, lr=None), "lr must"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 5, lr=0.1, momentum=1.0), "momentum must"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, 5, lr=0.1, momentum=-0.1), "momentum must"),
    (lambda: rn.kernel_momentum_dynamics(K, KX, Y, None, lr=0.1), "steps must"),
    (lambda: rn.one_hidden_layer("t", X, W), "theta must"),
    (lambda: rn.one_hidden_layer(THETA, "X", W), "X must"),
    (lambda: rn.one_hidden_layer(THETA, X, None), "width must"),
    (lambda: rn.one_hidden_layer(THETA, X, W, sigma_w=None), "sigma_w must"),
    (lambda: rn.one_hidden_layer(THETA, X, W, sigma_b=np.inf), "sigma_b must"),
    (lambda: rn.network_jacobian(THETA, X, None), "width must"),
    (lambda: rn.loss_gradient_hessian("t", X, YT, W), "theta must"),
    (lambda: rn.loss_gradient_hessian(THETA, "X", YT, W), "X must"),
    (lambda: rn.loss_gradient_hessian(THETA, X, "y", W), "y must"),
    (lambda: rn.loss_gradient_hessian(THETA, X, YT[:-1], W), "y has shape"),
    (lambda: rn.newton_polish(THETA, X, YT, W, dtol=0.0), "dtol must"),
    (lambda: rn.newton_polish(THETA, X, YT, W, max_iter=None), "max_iter must"),
    (lambda: rn.newton_polish(THETA, X, YT, None), "width must"),
    (lambda: rn.member_parameters(NET, None), "k .the member index"),
    (lambda: rn.member_parameters("net", 0), "net must be a BatchedNTKMLP"),
    (lambda: rn.asymptotic_excess_coefficient("H", np.eye(2)), "H must"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(2), "G"), "G must"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(2) * np.nan, np.eye(2)), "H and G must be finite"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(2), np.diag([1.0, np.inf])), "H and G must be finite"),
    (lambda: rn.asymptotic_excess_coefficient(np.zeros((0, 0)), np.zeros((0, 0))), "H and G must be square"),
    (lambda: rn.asymptotic_excess_coefficient(np.eye(2), np.eye(2), rcond=-1.0), "rcond must"),
    (lambda: rn.fit_inverse_width("w", [1, 2, 3], [1, 1, 1]), "width must"),
    (lambda: rn.fit_inverse_width([1, 2, 3], "L", [1, 1, 1]), "loss must"),
    (lambda: rn.fit_inverse_width([1, 2, 3], [1, 2, 3], "s"), "stderr must"),
    (lambda: rn.fit_inverse_width([], [], []), "width, loss and stderr must have the same length"),
    (lambda: rn.fit_inverse_width([1, 2, 3], [1, 2, 3], [1, 0, 1]), "widths and standard errors must be positive"),
    (lambda: rn.fit_inverse_width([1, 0, 3], [1, 2, 3], [1, 1, 1]), "widths and standard errors must be positive"),
    (lambda: rn.fit_inverse_width([1, 2, 3], [1, np.inf, 3], [1, 1, 1]), "widths and standard errors must be"),
    (lambda: rn.fit_inverse_width([1, 2, 3], [1, 2, 3], [1, np.inf, 1]), "widths and standard errors must be"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_values_are_accepted():
    f_tr, f_te = rn.kernel_momentum_dynamics(K, np.zeros((0, 6)), Y, 3, lr=0.1)
    assert f_tr.shape == (6,) and f_te.shape == (0,)
    rn.kernel_momentum_dynamics(K, KX, Y, 3, lr=0.1, momentum=0.0)
    # an integer θ becomes the default float dtype, and X follows it
    th = torch.ones((D + 2) * W + 1, dtype=torch.int64)
    assert rn.one_hidden_layer(th, X, W).dtype == torch.get_default_dtype()
    assert rn.one_hidden_layer(THETA, X, W).dtype == torch.float64
    # two distinct widths are enough for the line L_∞ + c/w
    out = rn.fit_inverse_width([1, 1, 2], [3.0, 3.0, 2.0], [1, 1, 1])
    assert out["limit"] == pytest.approx(1.0) and out["coefficient"] == pytest.approx(2.0)
    assert rn.asymptotic_excess_coefficient(np.eye(2), np.eye(2), rcond=0.0) == pytest.approx(1.0)
    assert rn.member_parameters(NET, 0).shape == ((D + 2) * W + 1,)


def test_newton_polish_reports_the_newton_decrement_of_its_result():
    out = rn.newton_polish(THETA, X, YT, W, sigma_w=1.2, sigma_b=0.3, max_iter=3)
    L, g, H = rn.loss_gradient_hessian(out["theta"], X, YT, W, sigma_w=1.2, sigma_b=0.3)
    lam, U = np.linalg.eigh(H.numpy())
    lam = np.abs(lam)
    keep = lam > 1e-12 * lam.max()
    gk = U.T @ g.numpy()
    dec = 0.5 * np.sum(gk[keep] ** 2 / lam[keep])                  # ½ ∇Lᵀ|𝓗|⁻¹∇L
    assert out["decrement"] == pytest.approx(dec / float(L), rel=1e-6)
    assert out["iterations"] == 3 or out["converged"]
    assert out["converged"] == (dec <= 1e-10 * float(L))
    # already converged (a huge tolerance): no step is taken
    still = rn.newton_polish(THETA, X, YT, W, sigma_w=1.2, sigma_b=0.3, dtol=1e12)
    assert still["iterations"] == 0 and still["converged"] and torch.equal(still["theta"], THETA)
