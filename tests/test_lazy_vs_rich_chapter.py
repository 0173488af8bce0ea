"""The theory-vs-experiment checks of the chapter "When does a network learn features, and when does it
stay a kernel machine?" (book/04_feature_learning/02_lazy_vs_rich), at small sizes."""

import math

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import diagnostics
from course_utils.data.classification import load_digits, standardize, train_val_split
from course_utils.models.mlp import MLP
from course_utils.models.scaled_init import train_scaled_relu_net
from course_utils.theory import lazy_rich as T


# As in the chapter: float64 (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("float64")


def _converged_change(alpha, S, gamma, Z, p, seed=0, steps=3000):
    """GD to convergence from mirrored weights (w₀ = 0): (ρ, relative change, final γw/S) per model."""
    alpha, S, gamma, Z = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (alpha, S, gamma, Z)))
    g = np.random.default_rng(seed)
    a, b = g.standard_normal((alpha.size, p // 2)), g.standard_normal((alpha.size, p // 2))
    a0 = alpha[:, None] * np.concatenate([a, a], 1)
    b0 = alpha[:, None] * np.concatenate([b, -b], 1)
    Q = (a0 ** 2 + b0 ** 2).sum(1)
    rho = T.weight_to_target_ratio(Q, S, input_scale=gamma, Z=Z)
    theta_max = gamma ** 2 * np.maximum(Q, 2 * Z * S / gamma * np.sqrt(1 + rho ** 2)) / Z ** 2
    a1, b1 = T.gradient_descent(a0, b0, S[:, None], input_scale=gamma[:, None], Z=Z[:, None],
                                lr=(0.05 / theta_max)[:, None], steps=steps)
    return rho, np.sqrt(((a1 - a0) ** 2 + (b1 - b0) ** 2).sum(1) / Q), gamma * (a1 * b1).sum(1) / Z / S


def test_the_four_knobs_collapse_onto_one_curve():
    p = 32
    values = np.geomspace(0.03, 30, 4)
    runs = [_converged_change(values, 1.0, 1.0, math.sqrt(p), p),           # init scale α
            _converged_change(1.0, 1 / values ** 2, 1.0, math.sqrt(p), p),  # target scale S
            _converged_change(1.0, 1.0, values ** 2, math.sqrt(p), p),      # input scale γ
            _converged_change(1.0, 1.0, 1.0, math.sqrt(p) / values ** 2, p)]  # output scale 1/Z
    rho = np.concatenate([r[0] for r in runs])
    change = np.concatenate([r[1] for r in runs])
    assert np.allclose(np.concatenate([r[2] for r in runs]), 1.0, rtol=1e-6)
    assert rho.min() < 1e-2 and rho.max() > 1e2
    cu.check_close("collapse", change, T.relative_change_at_convergence(rho), rtol=1e-2)
    # and it is not a tautology: the relative change spans orders of magnitude
    assert change.max() / change.min() > 1e3


def test_ntk_scaling_is_lazy_and_mean_field_is_not():
    widths = np.array([64, 256, 1024, 4096])
    ntk = np.array([_converged_change(np.ones(8), 1.0, 1.0, math.sqrt(q), int(q), seed=1)[1].mean() for q in widths])
    mf = np.array([_converged_change(np.full(8, 0.3), 1.0, 1.0, float(q), int(q), seed=1)[1].mean() for q in widths])
    assert cu.fit_power_law(widths, ntk).alpha == pytest.approx(0.5, abs=0.05)
    assert mf[-1] == pytest.approx(float(T.relative_change_at_convergence(0.09)), rel=0.05)
    assert abs(cu.fit_power_law(widths, mf).alpha) < 0.05


def _digits(per_class, seed=0):
    z, y = load_digits()
    (z_tr, y_tr), (z_val, y_val) = train_val_split(z, y, per_class, 20, seed=seed)
    return (standardize(z_tr), torch.nn.functional.one_hot(y_tr, 10).double(), y_tr,
            standardize(z_val, reference=z_tr), y_val)


def _relu_net(width, alpha, steps, X, Y):
    run = train_scaled_relu_net(X, Y, width=width, alpha=alpha, steps=steps)
    return (run.weight_change, run.kernel_change, run.kernel_linear, run.kernel_quadratic, run.kernel_switching,
            run.preactivation_change)


def test_relu_network_weight_and_kernel_change_with_width_and_init_scale():
    X, Y, *_ = _digits(10)
    widths = [64, 256, 1024]
    by_width = np.array([_relu_net(n, 1.0, 150, X=X, Y=Y) for n in widths])
    assert cu.fit_power_law(widths, by_width[:, 0]).alpha == pytest.approx(0.5, abs=0.12)
    e_q = cu.fit_power_law(widths, by_width[:, 5]).alpha              # q ∝ n^(−e_q), e_q → 1/2 when lazy
    assert e_q == pytest.approx(0.5, abs=0.12)
    # the kernel's parts: linear ∝ q/√n, quadratic ∝ q², switching ∝ √(q/n) (the chapter's §5)
    assert cu.fit_power_law(widths, by_width[:, 2]).alpha == pytest.approx(e_q + 0.5, abs=0.15)
    assert cu.fit_power_law(widths, by_width[:, 3]).alpha == pytest.approx(2 * e_q, abs=0.15)
    assert cu.fit_power_law(widths, by_width[:, 4]).alpha == pytest.approx((e_q + 1) / 2, abs=0.1)
    alphas = [1.0, 2.0, 4.0]
    by_alpha = np.array([_relu_net(128, a, 150, X=X, Y=Y) for a in alphas])
    assert cu.fit_power_law(alphas, by_alpha[:, 0]).alpha == pytest.approx(2.0, abs=0.15)
    e_qa = cu.fit_power_law(alphas, by_alpha[:, 5]).alpha
    assert e_qa == pytest.approx(2.0, abs=0.1)
    assert cu.fit_power_law(alphas, by_alpha[:, 2]).alpha == pytest.approx(e_qa, abs=0.15)
    assert cu.fit_power_law(alphas, by_alpha[:, 3]).alpha == pytest.approx(2 * e_qa, abs=0.15)
    # the total mixes the parts: its slope lies between the switching (≈ 1) and smooth (≈ 2) values
    assert 0.9 < cu.fit_power_law(alphas, by_alpha[:, 1]).alpha < 2.0


def test_rich_full_backprop_learns_minimal_features():
    X, Y, y, X_val, y_val = _digits(20, seed=1)
    N = X.shape[0]

    def run(only_last):
        net = MLP(64, 128, 2, 10, sigma_w=math.sqrt(2), sigma_b=0.0, generator=torch.Generator().manual_seed(0))
        W = [layer.weight for layer in net.layers]
        with torch.no_grad():
            for w in W:
                w.mul_(0.25)
            f0 = net(X)
        _, pre = net(X, return_preactivations=True)
        phi0 = net.phi(pre[-2]).detach()
        lr = (1 / (0.09 * 2 / 128 * torch.linalg.eigvalsh(phi0 @ phi0.T / N).max().item())) if only_last else 60.0
        opt = torch.optim.SGD(W[-1:] if only_last else W, lr=lr)
        for _ in range(400):
            opt.zero_grad()
            (0.5 * ((0.3 * (net(X) - f0) - Y) ** 2).sum(1).mean()).backward()
            opt.step()
        _, pre = net(X, return_preactivations=True)
        K = diagnostics.feature_kernel(net.phi(pre[-2]).detach(), center=True)
        return diagnostics.effective_dimension(K).item(), diagnostics.kernel_alignment(K, y).item()

    (d_mf, a_mf), (d_ef, a_ef) = run(False), run(True)
    assert d_mf < 0.5 * d_ef
    assert a_mf > a_ef + 0.25


def test_exercise_checker():
    from course_utils.exercises import lazy_rich as ex

    def good(rho):
        c2 = np.sqrt(1 + np.asarray(rho) ** -2)
        return np.sqrt(1 + c2 - np.sqrt(2 * (1 + c2)))

    def lazy_only(rho):
        return 1 / (2 * np.asarray(rho))

    assert ex.check_relative_change(good)
    assert not ex.check_relative_change(lazy_only)
    assert not ex.check_relative_change(lambda rho: np.asarray(rho) ** -0.5)
    assert ex.check_relative_change(lambda rho: 1.0) is False                 # a verdict, not a traceback
