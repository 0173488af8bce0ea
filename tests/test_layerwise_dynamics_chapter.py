"""The theory-vs-experiment checks of the chapter "Layerwise dynamics: sigmoids, stages and saddles"
(book/04_feature_learning/01_layerwise_dynamics), at small sizes."""

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.exercises import layerwise_dynamics as ex
from course_utils.models.deep_linear import DeepLinearNetwork, balanced_factors, end_to_end, whitened_loss
from course_utils.theory import layerwise as lw


# As in the chapter: float64 (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("float64")


def _exact_covariance_data(lam, n, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, lam.size))
    ev, E = np.linalg.eigh(Z.T @ Z / n)
    return Z @ E @ np.diag(ev ** -0.5) @ E.T * np.sqrt(lam)


def test_diagonal_and_linear_models_follow_their_closed_forms():
    lam, S = np.array([1.0, 0.25]), np.array([2.0, 0.5])
    X = _exact_covariance_data(lam, 64)
    Xt, yt = torch.tensor(X), torch.tensor(X @ S)
    a0, b0 = np.full(2, 0.02), np.full(2, 0.005)
    a, b = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    theta = torch.zeros(2, requires_grad=True)
    lr, T = 0.01, 60.0
    w_rec, th_rec = [], []
    for _ in range(round(T / lr) + 1):
        w_rec.append((a * b).detach().numpy().copy())
        th_rec.append(theta.detach().numpy().copy())
        loss = 0.5 * (((Xt * (a * b)).sum(1) - yt) ** 2).mean() + 0.5 * ((Xt @ theta - yt) ** 2).mean()
        grads = torch.autograd.grad(loss, (a, b, theta))
        with torch.no_grad():
            for p, g in zip((a, b, theta), grads):
                p -= lr * g
    t = np.arange(len(w_rec)) * lr
    w_rec, th_rec = np.array(w_rec), np.array(th_rec)
    cu.check_close("diagonal model", w_rec, lw.diagonal_mode(t[:, None], lam, S, a0 * b0, a0**2 - b0**2), rtol=0.02)
    cu.check_close("linear model", th_rec, lw.linear_mode(t[:, None], lam, S), rtol=0.01)
    half = [np.interp(0.5, w_rec[:, i] / S[i], t) for i in range(2)]
    cu.check_close("midpoints", half, lw.crossing_time(0.5, lam, S, a0 * b0, a0**2 - b0**2), rtol=0.02)
    # the diagonal model's slow mode waits much longer than the linear model's
    assert half[1] > 5 * np.log(2) / lam[1]


def test_drift_of_the_imbalance_is_first_order_in_lr():
    lam, S = np.array([1.0]), np.array([2.0])
    drift = []
    for lr in (0.02, 0.01):
        a, b = 0.02, 0.005
        for _ in range(round(20 / lr)):
            g = lam[0] * (a * b - S[0])
            a, b = a - lr * g * b, b - lr * g * a
        drift.append(np.log((a**2 - b**2) / (0.02**2 - 0.005**2)))
        cu.check_close(f"drift at lr={lr}", drift[-1], lw.conservation_drift(lr, 20.0, lam, S, 1e-4, 3.75e-4)[0],
                       rtol=0.05)
    assert drift[0] / drift[1] == pytest.approx(2.0, rel=0.05)


def test_small_init_gives_stages_and_larger_init_does_not():
    S = np.array([3.0, 1.5, 0.75])
    verdict = {}
    for sigma, T in ((1e-3, 14.0), (0.2, 4.0)):
        a = np.full(3, sigma)
        lr = 0.01
        rec = []
        for _ in range(round(T / lr) + 1):
            rec.append(a * a)
            a = a - lr * (a * a - S) * a
        rec, t = np.array(rec) / S, np.arange(len(rec)) * lr
        em = np.array([np.interp(0.1, rec[:, i], t) for i in range(3)])
        sat = np.array([np.interp(0.9, rec[:, i], t) for i in range(3)])
        cu.check_close(f"σ={sigma}: emergence", em, lw.crossing_time(0.1, 1.0, S, sigma**2), rtol=0.02)
        cu.check_close(f"σ={sigma}: saturation", sat, lw.crossing_time(0.9, 1.0, S, sigma**2), rtol=0.02)
        verdict[sigma] = lw.is_stage_like(em, sat)
    assert verdict[1e-3] and not verdict[0.2]


def test_deep_linear_plateaus_at_depth_2_3_4():
    rng = np.random.default_rng(1)
    U, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    s = np.array([2.0, 1.0, 0.5])
    M = torch.tensor(U @ np.diag(s) @ V.T)
    a0 = np.array([0.12, 0.2])
    halves = {}
    for L in (2, 3, 4):
        A = np.stack([U @ np.diag(np.full(3, a**L)) @ V.T for a in a0])
        Ws = [w.requires_grad_() for w in balanced_factors(torch.tensor(A), [6] * (L - 1),
                                                             generator=torch.Generator().manual_seed(L))]
        lr = 0.02
        T = 1.1 * float(lw.saxe_time_to(0.9 * s[-1], s[-1], a0[0] ** L, L))
        opt = torch.optim.SGD(Ws, lr=lr)
        us = []
        for _ in range(round(T / lr) + 1):
            us.append(np.einsum("ia,kij,ja->ka", U, end_to_end([w.detach() for w in Ws]).numpy(), V))
            opt.zero_grad()
            whitened_loss(Ws, M).backward()
            opt.step()
        us, t = np.array(us), np.arange(len(us)) * lr
        half = np.array([[np.interp(0.5, us[:, m, k] / s[k], t) for k in range(3)] for m in range(2)])
        theory = np.array([lw.saxe_time_to(s / 2, s, a**L, L) for a in a0])
        cu.check_close(f"depth {L}: half-learning times", half, theory, rtol=0.02)
        halves[L] = half
    # deeper → longer plateaus at the same per-layer scale, and modes in the order of s
    assert np.all(halves[2] < halves[3]) and np.all(halves[3] < halves[4])
    assert np.all(np.diff(halves[4], axis=1) > 0)


def test_random_init_rich_to_lazy():
    rng = np.random.default_rng(2)
    U, _ = np.linalg.qr(rng.standard_normal((4, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    s = np.array([3.0, 1.5, 0.75])
    M = U @ np.diag(s) @ V.T
    scales = [1e-3, 1.0]
    net = DeepLinearNetwork(5, 128, 4, depth=2, init_scale=scales, n_members=2, generator=torch.Generator().manual_seed(3))
    W0 = [w.detach().numpy().copy() for w in net.weights]
    lr, steps = 0.005, 1800
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    maps = []
    for _ in range(steps + 1):
        maps.append(net.end_to_end().numpy())
        opt.zero_grad()
        whitened_loss(list(net.weights), torch.tensor(M)).backward()
        opt.step()
    maps, t = np.array(maps), np.arange(steps + 1) * lr
    u = np.einsum("ia,tkij,ja->tka", U, maps, V)
    u_eff = lw.silent_alignment_strength(W0[0][0], W0[1][0], M)[:3]
    half = [np.interp(0.5, np.maximum.accumulate(u[:, 0, k]) / s[k], t) for k in range(3)]
    cu.check_close("σ=1e-3: Saxe from u_eff", half, lw.saxe_time_to(s / 2, s, u_eff, 2), rtol=0.03)
    R_lazy = lw.lazy_residual([W0[0][1], W0[1][1]], M, t[:200], lr=lr)
    err = np.linalg.norm(maps[:200, 1] - M - R_lazy, axis=(1, 2)).max() / np.linalg.norm(R_lazy[0])
    cu.check_less("σ=1: lazy", err, 0.02)


def test_exercise_checkers():
    from scipy.integrate import quad

    def good(s, u0):
        return np.array([quad(lambda u: 1 / (3 * u ** (4 / 3) * (si - u)), ui, si / 2, limit=200)[0]
                         for si, ui in zip(s, u0)])

    assert ex.check_depth3_plateau_time(good)
    assert not ex.check_depth3_plateau_time(lambda s, u0: lw.saxe_plateau_time(s, u0, 3))
    assert ex.check_depth3_plateau_time(lambda s, u0: 1.0) is False          # a verdict, not a traceback
    sigma_star = ex.stage_threshold((1.0, 0.5))
    w0 = sigma_star**2
    assert float(lw.crossing_time(0.9, 1.0, 1.0, w0)) == pytest.approx(float(lw.crossing_time(0.1, 1.0, 0.5, w0)),
                                                                       rel=1e-6)
    assert ex.check_stage_threshold(sigma_star)
    assert not ex.check_stage_threshold(2 * sigma_star)
    assert not ex.check_stage_threshold(-1.0)
    assert ex.check_stage_threshold("small") is False
