"""Unit tests of course_utils.theory.layerwise: every closed form against an ODE solve or
gradient descent, the inverses against the forward solutions, and the ValueErrors."""

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from course_utils.models.deep_linear import DeepLinearNetwork, whitened_loss
from course_utils.theory import layerwise as lw


def _ode_diagonal(lam, S, a0, b0, t):
    sol = solve_ivp(lambda _, z: [-lam * (z[0] * z[1] - S) * z[1], -lam * (z[0] * z[1] - S) * z[0]],
                    (0, t[-1]), [a0, b0], t_eval=t, rtol=1e-11, atol=1e-14)
    return sol.y[0] * sol.y[1]


@pytest.mark.parametrize("lam,S,a0,b0", [(1.0, 2.0, 0.01, 0.01), (0.5, 1.0, 0.05, -0.02), (2.0, -1.5, 0.1, 0.03),
                                         (0.3, 0.7, 0.001, 0.2), (1.0, 1.0, 1.5, 0.1)])
def test_diagonal_mode_solves_the_gradient_flow(lam, S, a0, b0):
    t = np.linspace(0, 25 / (lam * abs(S)), 80)
    w = lw.diagonal_mode(t, lam, S, a0 * b0, a0**2 - b0**2)
    np.testing.assert_allclose(w, _ode_diagonal(lam, S, a0, b0, t), atol=1e-8 * abs(S))


def test_balanced_diagonal_mode_is_the_logistic_and_the_times_invert_it():
    t = np.linspace(0, 10, 50)
    lam, S, w0 = 0.8, 1.5, 1e-4
    logistic = S / (1 + (S / w0 - 1) * np.exp(-2 * lam * S * t))
    np.testing.assert_allclose(lw.diagonal_mode(t, lam, S, w0), logistic, rtol=1e-10)
    np.testing.assert_allclose(lw.saxe_mode(t, S, w0, 2, lam=lam), logistic, rtol=1e-10)
    for c in (0.0, 3e-3, -0.2):
        tt = lw.diagonal_time_to(np.array([0.1, 0.5, 0.9]) * S, lam, S, w0, c)
        np.testing.assert_allclose(lw.diagonal_mode(tt, lam, S, w0, c), [0.1 * S, 0.5 * S, 0.9 * S], rtol=1e-9)
    em, sat = lw.crossing_time(0.1, lam, S, w0), lw.crossing_time(0.9, lam, S, w0)
    assert sat - em == pytest.approx(float(lw.rise_time(lam, S)), rel=1e-9)
    assert float(lw.rise_time(lam, S)) == pytest.approx(np.log(81) / (2 * lam * S))
    # small-initialisation estimate of the midpoint
    assert float(lw.small_init_midpoint(lam, S, 1e-8)) == pytest.approx(float(lw.crossing_time(0.5, lam, S, 1e-8)),
                                                                         rel=1e-6)


def test_linear_mode_and_times():
    t = np.array([0.0, 1.0, 3.0])
    np.testing.assert_allclose(lw.linear_mode(t, 2.0, 1.5), 1.5 * (1 - np.exp(-2 * t)))
    assert float(lw.linear_time_to(0.5, 2.0)) == pytest.approx(np.log(2) / 2)
    assert float(lw.linear_time_to(0.5, 1.0, theta0=0.2, S=1.0)) == pytest.approx(np.log(0.8 / 0.5))


def test_stage_like_logic():
    assert lw.is_stage_like([1.0, 5.0], [2.0, 6.0])
    assert lw.is_stage_like([5.0, 1.0], [6.0, 2.0])
    assert not lw.is_stage_like([1.0, 1.5], [2.0, 3.0])
    with pytest.raises(ValueError):
        lw.is_stage_like([1.0, 2.0], [0.5, 3.0])
    with pytest.raises(ValueError):
        lw.is_stage_like([1.0], [2.0, 3.0])


def test_conservation_drift_matches_gradient_descent():
    lam, S = np.array([1.0, 0.5]), np.array([2.0, 1.0])
    a, b = np.array([0.03, 0.02]), np.array([0.01, 0.005])
    w0, c0 = a * b, a**2 - b**2
    lr, T = 0.01, 40.0
    for _ in range(round(T / lr)):
        g = lam * (a * b - S)
        a, b = a - lr * g * b, b - lr * g * a
    measured = np.log((a**2 - b**2) / c0)
    np.testing.assert_allclose(measured, lw.conservation_drift(lr, T, lam, S, w0, c0), rtol=0.03)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
def test_saxe_mode_solves_its_ode_and_inverts(depth):
    s, u0 = 2.0, 1e-3
    t = np.linspace(0, 30, 61)
    sol = solve_ivp(lambda _, u: lw.saxe_rhs(u, s, depth), (0, t[-1]), [u0], t_eval=t, rtol=1e-11, atol=1e-15,
                    method="LSODA")
    np.testing.assert_allclose(lw.saxe_mode(t, s, u0, depth), sol.y[0], rtol=1e-6, atol=1e-12)
    u = np.array([0.01, 0.5, 1.0, 1.9])
    np.testing.assert_allclose(lw.saxe_mode(lw.saxe_time_to(u, s, u0, depth), s, u0, depth), u, rtol=1e-9)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_plateau_asymptotics(depth):
    for u0 in (1e-8, 1e-10):
        exact = float(lw.saxe_time_to(0.5, 1.0, u0, depth))
        assert float(lw.saxe_plateau_time(1.0, u0, depth)) == pytest.approx(exact, rel=0.01)


def test_deep_linear_network_follows_saxe_from_a_balanced_decoupled_start():
    """Depth 3, GD from the decoupled balanced start: each mode's strength follows lw.saxe_mode."""
    from course_utils.models.deep_linear import balanced_factors
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((4, 2)))
    V, _ = np.linalg.qr(rng.standard_normal((5, 2)))
    s, u0 = np.array([2.0, 1.0]), 0.2 ** 3
    M = torch.tensor(U @ np.diag(s) @ V.T)
    Ws = [w.requires_grad_() for w in balanced_factors(U @ np.diag([u0, u0]) @ V.T, [6, 6],
                                                        generator=torch.Generator().manual_seed(0))]
    lr, T = 0.005, 15.0
    opt = torch.optim.SGD(Ws, lr=lr)
    for _ in range(round(T / lr)):
        opt.zero_grad()
        whitened_loss(Ws, M).backward()
        opt.step()
    W = (Ws[2] @ Ws[1] @ Ws[0]).detach().numpy()
    u = np.einsum("ia,ij,ja->a", U, W, V)
    np.testing.assert_allclose(u, [lw.saxe_mode(np.array([T]), sk, u0, 3)[0] for sk in s], rtol=0.01)


def test_silent_alignment_predicts_the_plateaus_of_a_random_small_start():
    rng = np.random.default_rng(1)
    U, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((6, 3)))
    s = np.array([3.0, 1.5, 0.75])
    M = U @ np.diag(s) @ V.T
    net = DeepLinearNetwork(6, 64, 5, depth=2, init_scale=1e-3, generator=torch.Generator().manual_seed(2))
    u_eff = lw.silent_alignment_strength(net.weights[0].detach().numpy(), net.weights[1].detach().numpy(), M)[:3]
    lr, steps = 0.01, 1600
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    us = []
    for _ in range(steps):
        us.append(np.einsum("ia,ij,ja->a", U, net.end_to_end().numpy(), V))
        opt.zero_grad()
        whitened_loss(list(net.weights), torch.tensor(M)).backward()
        opt.step()
    us = np.array(us)
    t = np.arange(steps) * lr
    half = [np.interp(0.5, np.maximum.accumulate(us[:, k]) / s[k], t) for k in range(3)]
    np.testing.assert_allclose(half, lw.saxe_time_to(s / 2, s, u_eff, 2), rtol=0.03)


def test_lazy_residual_is_gradient_descent_on_the_linearised_network():
    rng = np.random.default_rng(3)
    W1, W2 = rng.standard_normal((7, 4)) / 2, rng.standard_normal((3, 7)) / 3
    M = rng.standard_normal((3, 4))
    lr, steps = 0.05, 40
    d1, d2 = np.zeros_like(W1), np.zeros_like(W2)
    for _ in range(steps):
        R = W2 @ W1 + d2 @ W1 + W2 @ d1 - M                  # the linearised network's residual
        d1, d2 = d1 - lr * W2.T @ R, d2 - lr * R @ W1.T
    R = W2 @ W1 + d2 @ W1 + W2 @ d1 - M
    np.testing.assert_allclose(lw.lazy_residual([W1, W2], M, [lr * steps], lr=lr)[0], R, rtol=1e-10, atol=1e-12)
    # gradient flow: the small-step limit
    flow = lw.lazy_residual([W1, W2], M, [2.0])[0]
    fine = lw.lazy_residual([W1, W2], M, [2.0], lr=1e-4)[0]
    np.testing.assert_allclose(fine, flow, atol=1e-3 * np.abs(flow).max())


def test_bad_arguments():
    with pytest.raises(ValueError, match="saddle"):
        lw.diagonal_mode(1.0, 1.0, 1.0, -0.1, 0.0)
    with pytest.raises(ValueError, match="non-zero"):
        lw.diagonal_mode(1.0, 1.0, 0.0, 0.1)
    with pytest.raises(ValueError, match="between"):
        lw.diagonal_time_to(2.0, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="fraction"):
        lw.crossing_time(1.0, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="lam"):
        lw.linear_mode(1.0, -1.0, 1.0)
    with pytest.raises(ValueError, match="times"):
        lw.linear_mode(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="depth"):
        lw.saxe_mode([1.0], 1.0, 0.1, 0)
    with pytest.raises(ValueError, match="u0"):
        lw.saxe_mode([1.0], 1.0, 2.0, 3)
    with pytest.raises(ValueError, match="u0"):
        lw.saxe_time_to(0.05, 1.0, 0.1, 3)
    with pytest.raises(ValueError, match="low"):
        lw.rise_time(1.0, 1.0, low=0.9, high=0.1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        lw.conservation_drift(0.0, 1.0, 1.0, 1.0, 0.1)
    with pytest.raises(ValueError, match="W2 has shape"):
        lw.silent_alignment_strength(np.zeros((3, 2)), np.zeros((2, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="target_map"):
        lw.lazy_residual([np.zeros((3, 2)), np.zeros((2, 3))], np.zeros((3, 3)), [1.0])
    with pytest.raises(ValueError, match="lr"):
        lw.lazy_residual([np.zeros((3, 2)), np.zeros((2, 3))], np.zeros((2, 2)), [1.0], lr=-1.0)


# ---- one home for the two-weight flow: diagonal_rapidity, the quanta skills and the lazy/rich layer ----

@pytest.mark.parametrize("a0, b0, lam, S", [(0.3, 0.1, 1.5, 2.0), (0.05, 0.05, 0.7, 1.0), (1.2, -0.4, 0.5, 0.8),
                                            (0.2, 0.5, 1.0, -1.5)])
def test_diagonal_rapidity_is_the_boost_of_the_ode_solution(a0, b0, lam, S):
    """Integrate ȧ = λ(S − ab)b, ḃ = λ(S − ab)a: a + b = (a₀ + b₀)e^τ, and a, b are the boost of (a₀, b₀) by τ."""
    t = np.linspace(0.0, 6.0, 13)
    sol = solve_ivp(lambda _, z: [lam * (S - z[0] * z[1]) * z[1], lam * (S - z[0] * z[1]) * z[0]], (0, t[-1]),
                    [a0, b0], t_eval=t, rtol=1e-12, atol=1e-14)
    a, b = sol.y
    tau = lw.diagonal_rapidity(t, lam, S, a0 * b0, a0 ** 2 - b0 ** 2)
    np.testing.assert_allclose(tau, np.log((a + b) / (a0 + b0)), atol=1e-9)
    np.testing.assert_allclose(a, a0 * np.cosh(tau) + b0 * np.sinh(tau), atol=1e-9)
    np.testing.assert_allclose(b, a0 * np.sinh(tau) + b0 * np.cosh(tau), atol=1e-9)
    assert tau[0] == pytest.approx(0.0, abs=1e-15)


def test_skills_are_balanced_two_weight_modes():
    """quanta.skill_strength is the logistic S/(1 + (S/s0 − 1)e^{−2Sp t}) (layerwise.diagonal_mode with λ = p), a skill
    with p = 0 stays at s0, and half_time is where it crosses S/2."""
    from course_utils.theory import quanta
    t, p, S, s0 = np.linspace(0, 50, 11)[:, None], np.array([0.0, 0.01, 0.1, 0.5]), 1.3, 1e-3
    logistic = S / (1 + (S / s0 - 1) * np.exp(-2 * S * p * t))
    np.testing.assert_allclose(quanta.skill_strength(t, p, S, s0), logistic, rtol=1e-12)
    assert np.all(quanta.skill_strength(t, p, S, s0)[:, 0] == s0)
    th = quanta.half_time(p[1:], S, s0)
    np.testing.assert_allclose(quanta.skill_strength(th, p[1:], S, s0), S / 2, rtol=1e-12)


def test_the_lazy_rich_layer_is_one_diagonal_mode():
    """ScalarModel's output of a layer of p units agrees with gradient flow of all the units (solve_ivp)."""
    from course_utils.theory.lazy_rich import ScalarModel
    rng = np.random.default_rng(3)
    a, b = 0.3 * rng.standard_normal(5), 0.3 * rng.standard_normal(5)
    gamma, Z, S = 1.7, 2.0, 0.9
    model = ScalarModel.from_weights(a, b, S, input_scale=gamma, Z=Z)
    t = np.linspace(0, 20, 9)

    def rhs(_, z):
        g = gamma / Z * (S - gamma * np.sum(z[:5] * z[5:]) / Z)
        return np.concatenate([g * z[5:], g * z[:5]])

    sol = solve_ivp(rhs, (0, t[-1]), np.concatenate([a, b]), t_eval=t, rtol=1e-12, atol=1e-14)
    w = np.sum(sol.y[:5] * sol.y[5:], axis=0) / Z
    np.testing.assert_allclose(model.output(t), w, atol=1e-9)
