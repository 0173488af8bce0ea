"""Unit tests of course_utils.theory.regimes_networks and its exercise checkers, each against an
independent computation (automatic differentiation, a closed form, a simulation)."""

import math

import numpy as np
import pytest
import torch

from course_utils.exercises import regimes_networks as exercises
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as ens
from course_utils.theory import regimes_networks as rn


def test_kernel_momentum_dynamics_without_momentum_is_gradient_descent():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    Xt = rng.standard_normal((7, 3))
    y = rng.standard_normal(12)
    Th, Thc = kernels.ntk_kernel(X, depth=1), kernels.ntk_kernel(Xt, X, depth=1)
    lr = 1 / np.linalg.eigvalsh(Th)[-1]
    f_tr, f_te = rn.kernel_momentum_dynamics(Th, Thc, y, 37, lr=lr, momentum=0.0)
    g_tr, g_te = kernels.kernel_regression_dynamics(Th, Thc, y, 37, lr=lr, discrete=True)
    np.testing.assert_allclose(f_tr, g_tr, atol=1e-10)
    np.testing.assert_allclose(f_te, g_te, atol=1e-10)


def test_kernel_momentum_dynamics_matches_a_linear_model_trained_with_torch_sgd():
    """A linear model f = φ(x)·w with Θ = φφᵀ, trained by torch.optim.SGD with momentum on ½Σ(f − y)²."""
    rng = np.random.default_rng(1)
    Phi, Phi_t = rng.standard_normal((10, 25)), rng.standard_normal((4, 25))
    y = rng.standard_normal(10)
    w = torch.zeros(25, dtype=torch.float64, requires_grad=True)
    lr, beta, steps = 0.3 / np.linalg.eigvalsh(Phi @ Phi.T)[-1], 0.9, 60
    opt = torch.optim.SGD([w], lr=lr, momentum=beta)
    P, Yt = torch.tensor(Phi), torch.tensor(y)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * torch.sum((P @ w - Yt) ** 2)).backward()
        opt.step()
    f_tr, f_te = rn.kernel_momentum_dynamics(Phi @ Phi.T, Phi_t @ Phi.T, y, steps, lr=lr, momentum=beta)
    np.testing.assert_allclose(f_tr, (P @ w).detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(f_te, Phi_t @ w.detach().numpy(), atol=1e-10)


def test_kernel_momentum_dynamics_converges_to_kernel_regression_and_rejects_bad_steps():
    rng = np.random.default_rng(2)
    X, Xt, y = rng.standard_normal((8, 2)), rng.standard_normal((5, 2)), rng.standard_normal(8)
    Th, Thc = kernels.ntk_kernel(X, depth=1, sigma_b2=0.1), kernels.ntk_kernel(Xt, X, depth=1, sigma_b2=0.1)
    lr = 1 / np.linalg.eigvalsh(Th)[-1]
    _, f_te = rn.kernel_momentum_dynamics(Th, Thc, y, 20000, lr=lr, momentum=0.9)
    np.testing.assert_allclose(f_te, Thc @ np.linalg.solve(Th, y), rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="unstable"):
        rn.kernel_momentum_dynamics(Th, Thc, y, 10, lr=5 * lr, momentum=0.0)
    with pytest.raises(ValueError, match="momentum"):
        rn.kernel_momentum_dynamics(Th, Thc, y, 10, lr=lr, momentum=1.0)


def test_one_hidden_layer_is_the_batched_network_and_its_jacobian_and_hessian_are_exact():
    net = ens.BatchedNTKMLP(2, 5, 7, 1, activation="relu", sigma_w=1.3, sigma_b=0.6, seeds=[3, 4],
                            dtype=torch.float64)
    X = torch.randn(30, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    y = torch.randn(30, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    theta = rn.member_parameters(net, 1)
    f = rn.one_hidden_layer(theta, X, 7, sigma_w=1.3, sigma_b=0.6)
    torch.testing.assert_close(f, net(X)[1, :, 0].detach())
    _, J = rn.network_jacobian(theta, X, 7, sigma_w=1.3, sigma_b=0.6)
    J_ad = torch.func.jacrev(lambda t: rn.one_hidden_layer(t, X, 7, sigma_w=1.3, sigma_b=0.6))(theta)
    torch.testing.assert_close(J, J_ad)
    L, g, H, G = rn.loss_gradient_hessian(theta, X, y, 7, sigma_w=1.3, sigma_b=0.6, need_g=True)
    loss = lambda t: torch.mean((rn.one_hidden_layer(t, X, 7, sigma_w=1.3, sigma_b=0.6) - y) ** 2)  # noqa: E731
    torch.testing.assert_close(g, torch.func.grad(loss)(theta))
    torch.testing.assert_close(H, torch.func.hessian(loss)(theta))
    r = f - y
    G_direct = sum(4 * r[i] ** 2 * torch.outer(J_ad[i], J_ad[i]) for i in range(30)) / 30
    torch.testing.assert_close(G, G_direct)
    with pytest.raises(ValueError, match="entries"):
        rn.one_hidden_layer(theta[:-1], X, 7)


def test_newton_polish_reaches_a_minimum_and_respects_the_rescaling_symmetry():
    rng = np.random.default_rng(7)
    X = torch.tensor(rng.standard_normal((4000, 3)))
    teacher = torch.tensor(rng.standard_normal(5 * 4 + 1))
    y = rn.one_hidden_layer(teacher, X, 4, sigma_w=1.4, sigma_b=0.5) + 0.1 * torch.tensor(rng.standard_normal(4000))
    start = teacher + 0.05 * torch.tensor(rng.standard_normal(teacher.shape[0]))
    res = rn.newton_polish(start, X, y, 4, sigma_w=1.4, sigma_b=0.5)
    # a ReLU network's loss is piecewise smooth (O(1/N) kinks where a sample crosses a unit's boundary):
    # Newton gets within a tiny fraction of the loss, and every small perturbation then raises the loss
    assert res["decrement"] < 1e-5 and res["iterations"] >= 3
    loss = lambda t: float(torch.mean((rn.one_hidden_layer(t, X, 4, sigma_w=1.4, sigma_b=0.5) - y) ** 2))  # noqa: E731
    L0 = loss(res["theta"])
    for _ in range(30):
        v = torch.tensor(rng.standard_normal(res["theta"].shape[0]))
        assert loss(res["theta"] + 1e-2 * v / v.norm()) > L0
    # each unit's rescaling direction (V⁰_·j, β⁰_j, −V¹_j) is (nearly) a zero mode of H at the minimum
    _, _, H = rn.loss_gradient_hessian(res["theta"], X, y, 4, sigma_w=1.4, sigma_b=0.5)
    th = res["theta"]
    for j in range(4):
        v = torch.zeros_like(th)
        v[[j, 4 + j, 8 + j, 12 + j]] = th[[j, 4 + j, 8 + j, 12 + j]]      # V⁰_·j (3 inputs) and β⁰_j
        v[16 + j] = -th[16 + j]                                        # V¹_j
        assert float(v @ H @ v) < 1e-3 * float(torch.linalg.eigvalsh(H).max()) * float(v @ v)
    with pytest.raises(ValueError, match="dtol"):
        rn.newton_polish(start, X, y, 4, dtol=0.0)


def test_asymptotic_excess_coefficient_against_least_squares_simulation():
    """Linear regression with P Gaussian features and independent noise σ²: c = P σ², and a simulation
    of E[L(θ̂_D)] − σ² agrees with c/(D − P − 1) (exact) within its standard error."""
    rng = np.random.default_rng(8)
    P, sigma2, D, reps = 4, 0.5, 60, 4000
    A = rng.standard_normal((P, P))
    Sigma = A @ A.T / P + np.eye(P)
    H, G = 2 * Sigma, 4 * sigma2 * Sigma
    c = rn.asymptotic_excess_coefficient(H, G)
    assert c == pytest.approx(P * sigma2, rel=1e-10)
    Lc = np.linalg.cholesky(Sigma)
    excess = []
    for _ in range(reps):
        Xs = rng.standard_normal((D, P)) @ Lc.T
        noise = np.sqrt(sigma2) * rng.standard_normal(D)
        theta = np.linalg.lstsq(Xs, noise, rcond=None)[0]          # θ* = 0
        excess.append(theta @ Sigma @ theta)
    se = np.std(excess) / np.sqrt(reps)
    assert abs(np.mean(excess) - c / (D - P - 1)) < 4 * se
    # a null direction of H (and of G) is skipped, not inverted
    H0 = np.diag([2.0, 1.0, 0.0])
    G0 = np.diag([4.0, 3.0, 0.0])
    assert rn.asymptotic_excess_coefficient(H0, G0) == pytest.approx(0.5 * (2.0 + 3.0))
    with pytest.raises(ValueError, match="same shape"):
        rn.asymptotic_excess_coefficient(H0, G0[:2, :2])


def test_fit_inverse_width_recovers_limit_and_coefficient():
    w = np.array([16, 32, 64, 128, 256])
    se = 0.01 / np.sqrt(w)
    fit = rn.fit_inverse_width(w, 0.2 + 3.0 / w, se)
    assert fit["limit"] == pytest.approx(0.2, abs=1e-12)
    assert fit["coefficient"] == pytest.approx(3.0, abs=1e-9)
    rng = np.random.default_rng(9)
    limits = [rn.fit_inverse_width(w, 0.2 + 3.0 / w + se * rng.standard_normal(w.size), se)["limit"]
              for _ in range(400)]
    # the quoted standard error is the scatter of the fitted limit
    assert np.std(limits) == pytest.approx(fit["limit_stderr"], rel=0.15)
    with pytest.raises(ValueError):
        rn.fit_inverse_width(w[:2], w[:2], se[:2])


def test_train_centred_starts_at_zero_and_matches_the_kernel_at_large_width():
    rng = np.random.default_rng(10)
    X, Xt = rng.standard_normal((16, 4)), rng.standard_normal((20, 4))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Xt /= np.linalg.norm(Xt, axis=1, keepdims=True)
    y = np.sin(3 * X[:, 0])
    Th, Thc = (kernels.ntk_kernel(X, depth=1, sigma_w2=2.0, sigma_b2=0.1),
               kernels.ntk_kernel(Xt, X, depth=1, sigma_w2=2.0, sigma_b2=0.1))
    lr = 1 / np.linalg.eigvalsh(Th)[-1]
    _, f_kernel = rn.kernel_momentum_dynamics(Th, Thc, y, 200, lr=lr, momentum=0.9)
    net = ens.BatchedNTKMLP(4, 4, 4096, 1, activation="relu", sigma_w=math.sqrt(2), sigma_b=math.sqrt(0.1),
                            seeds=range(4), dtype=torch.float64)
    out0 = rn.train_centred(net, torch.tensor(X), torch.tensor(y), torch.tensor(Xt), steps=0, lr=1.0, scale=100.0,
                            progress=False)
    assert float(out0["test"].abs().max()) == 0.0
    out = rn.train_centred(net, torch.tensor(X), torch.tensor(y), torch.tensor(Xt), steps=200, lr=lr * 16 / 2,
                           momentum=0.9, scale=100.0, progress=False)
    rms = np.sqrt(np.mean((out["test"].numpy() - f_kernel) ** 2))
    assert rms < 0.1 * np.sqrt(np.mean(f_kernel ** 2))      # O(1/√width) fluctuations of the kernel
    with pytest.raises(ValueError, match="scale"):
        rn.train_centred(net, torch.tensor(X), torch.tensor(y), torch.tensor(Xt), steps=1, lr=1.0, scale=0.0)


def test_checkers_accept_right_answers_and_reject_wrong_ones(capsys):
    def sandwich(H, G):
        lam, U = np.linalg.eigh((H + H.T) / 2)
        keep = lam > 1e-9 * np.abs(lam).max()
        return 0.5 * np.sum(np.diag(U[:, keep].T @ G @ U[:, keep]) / lam[keep])

    assert exercises.check_sandwich_coefficient(sandwich)
    assert not exercises.check_sandwich_coefficient(lambda H, G: 2 * sandwich(H, G))
    assert not exercises.check_sandwich_coefficient(lambda H, G: float("nan"))
    assert not exercises.check_sandwich_coefficient(lambda H, G: np.ones(3))
    assert not exercises.check_sandwich_coefficient(lambda H, G: None)
    assert not exercises.check_sandwich_coefficient(lambda H, G: sandwich)
    assert not exercises.check_sandwich_coefficient(lambda H, G: 0.5 * np.trace(np.linalg.pinv(H) @ G) + 1)
    assert not exercises.check_sandwich_coefficient(3.0)
    assert not exercises.check_sandwich_coefficient(lambda H: 1.0)          # wrong signature: a verdict, no traceback
    assert exercises.check_learning_curve_exponent(lambda b, a: min(a, 2 * b))
    assert not exercises.check_learning_curve_exponent(lambda b, a: a)
    assert not exercises.check_learning_curve_exponent(lambda b, a: b - 1)
    assert not exercises.check_learning_curve_exponent(lambda b, a: float("nan"))
    assert not exercises.check_learning_curve_exponent(lambda b, a: [1.0, 2.0])
    assert not exercises.check_learning_curve_exponent("min(a, 2b)")
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("✓") == 2
