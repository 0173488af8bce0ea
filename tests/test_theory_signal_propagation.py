"""Unit tests of course_utils.theory.signal_propagation (chapter "Signal propagation and trainable depth")
and of its exercise checkers, each against an independent computation."""

import math

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedMLP, cross_entropy_per_sample
from course_utils.exercises import signal_propagation as ex
from course_utils.theory import kernels
from course_utils.theory import signal_propagation as sp

SB2 = 0.05


def test_chi_c_is_chi1_in_the_ordered_phase_and_the_slope_at_c_star_in_the_chaotic_phase():
    assert sp.chi_c(sigma_w2=1.2, sigma_b2=SB2) == pytest.approx(float(kernels.chi1(sigma_w2=1.2, sigma_b2=SB2)),
                                                                 rel=1e-6)
    for sw2 in (2.3, 4.5):
        q = float(kernels.variance_fixed_point(sigma_w2=sw2, sigma_b2=SB2))
        c_star = kernels.correlation_fixed_point(sigma_w2=sw2, sigma_b2=SB2)
        h = 1e-4   # central finite difference of the correlation map at c*
        slope = (float(kernels.correlation_map(c_star + h, q=q, sigma_w2=sw2, sigma_b2=SB2))
                 - float(kernels.correlation_map(c_star - h, q=q, sigma_w2=sw2, sigma_b2=SB2))) / (2 * h)
        assert sp.chi_c(sigma_w2=sw2, sigma_b2=SB2) == pytest.approx(slope, rel=1e-5)
        assert sp.chi_c(sigma_w2=sw2, sigma_b2=SB2) < 1 < float(kernels.chi1(sigma_w2=sw2, sigma_b2=SB2))


def test_depth_scales_signs_and_the_divergence_at_the_edge_of_chaos():
    d = sp.depth_scales(np.array([1.0, 1.7, 1.8, 3.0]), sigma_b2=SB2)
    assert np.allclose(d["xi_c"], -1 / np.log(d["chi_c"]))
    assert d["xi_grad"][0] > 0 and d["xi_grad"][-1] < 0          # vanishing, then exploding gradients
    assert d["xi_c"][0] == pytest.approx(d["xi_grad"][0])       # ordered: the two scales coincide
    assert d["xi_c"][-1] != pytest.approx(abs(d["xi_grad"][-1]), rel=0.1)
    assert d["xi_c"][1] > 10 * d["xi_c"][0] and d["xi_c"][2] > 10 * d["xi_c"][3]
    # the schoenholz et al. value quoted by the NNGP chapter: xi_c ~ 3.6 at sigma_w^2 = 1
    assert sp.depth_scales(1.0, sigma_b2=SB2)["xi_c"][0] == pytest.approx(3.63, abs=0.01)
    with pytest.raises(ValueError, match="sigma_w2"):
        sp.depth_scales(-1.0)


def test_gradient_profile_falls_by_chi1_per_layer_once_q_is_converged():
    G = sp.gradient_profile(20, 1.0 + SB2, sigma_w2=1.0, sigma_b2=SB2)
    chi = float(kernels.chi1(sigma_w2=1.0, sigma_b2=SB2))
    assert G[-1] == 1.0 and math.isnan(G[0])
    assert np.allclose(G[20:-1] / G[21:], chi, rtol=1e-5)   # q has converged to 1e-7 by l = 20
    with pytest.raises(ValueError, match="depth"):
        sp.gradient_profile(0, 1.0)


def test_log_gradient_shift_limits_and_a_single_layer_simulation():
    # small q*: φ' → 1, so v → 3 − 1 = 2 and the shift → 1/n
    assert sp.log_gradient_shift(0.3, sigma_b2=1e-4, width=100)[0] == pytest.approx(1 / 100, rel=0.02)
    # one layer, simulated: R = (σ_w²/n) Σ φ'(h)² z², E ln R = ln χ₁ − v/(2n) + O(1/n²)
    sw2, n = 3.2, 40
    q = float(kernels.variance_fixed_point(sigma_w2=sw2, sigma_b2=SB2))
    rng = np.random.default_rng(0)
    h, z = rng.standard_normal((2, 200_000, n))
    R = sw2 / n * np.sum((1 - np.tanh(math.sqrt(q) * h) ** 2) ** 2 * z ** 2, axis=1)
    shift = math.log(float(kernels.chi1(sigma_w2=sw2, sigma_b2=SB2))) - np.mean(np.log(R))
    assert shift == pytest.approx(sp.log_gradient_shift(sw2, sigma_b2=SB2, width=n)[0], rel=0.15)


def _gaussian_model(K, sizes, sw2, seed):
    model = BatchedMLP(K, sizes, "tanh", init=None)
    sp.init_gaussian(model, sw2, SB2, torch.Generator().manual_seed(seed))
    return model


def test_init_gaussian_draws_the_variances_of_the_theory():
    sw2 = np.array([0.5, 2.0, 4.0])
    model = _gaussian_model(3, [50, 200, 200, 10], sw2, 0)
    for layer in model.layers:
        var = layer.weight.detach().double().pow(2).mean(dim=(1, 2)).numpy() * layer.in_features
        assert np.allclose(var, sw2, rtol=0.05)
    biases = torch.cat([layer.bias.detach().double().flatten() for layer in model.layers])   # 1230 draws
    assert biases.pow(2).mean().item() == pytest.approx(SB2, rel=0.15)
    with pytest.raises(ValueError, match="sigma_w2"):
        sp.init_gaussian(model, [1.0, 2.0], SB2, torch.Generator())


def test_per_sample_weight_gradients_agree_with_one_backward_pass_per_sample():
    torch.manual_seed(0)
    model = _gaussian_model(2, [5, 7, 6, 3], [1.0, 2.5], 1)
    X, y = torch.randn(2, 4, 5), torch.randint(0, 3, (2, 4))
    fast = sp.per_sample_weight_gradients(model, X, y, cross_entropy_per_sample)
    assert fast.shape == (2, 4, 3)
    for k in range(2):
        net = model.member(k)
        for i in range(4):
            net.zero_grad()
            torch.nn.functional.cross_entropy(net(X[k, i:i + 1]), y[k, i:i + 1]).backward()
            grads = [m.weight.grad for m in net if isinstance(m, torch.nn.Linear)]
            assert np.allclose(fast[k, i].numpy(), [g.double().pow(2).sum().item() for g in grads], rtol=1e-4)


def test_wide_networks_follow_the_gradient_profile():
    sw2, depth, width = 2.3, 12, 256
    model = _gaussian_model(24, [16] + [width] * depth + [4], sw2, 2)
    X = torch.randn(24, 4, 16)
    X = X * math.sqrt(16) / X.norm(dim=-1, keepdim=True)
    g = sp.per_sample_weight_gradients(model, X, torch.randint(0, 4, (24, 4)), cross_entropy_per_sample).numpy()
    measured = g.mean((0, 1))[:depth]
    G = sp.gradient_profile(depth, SB2 + sw2, sigma_w2=sw2, sigma_b2=SB2, input_norm2=16, width=width)
    assert np.allclose(measured / measured[-1], G, rtol=0.15)      # 24 networks: ~5 % scatter per layer


def test_pair_correlations_start_at_c_start_and_follow_the_correlation_map():
    sw2 = 3.2
    q = float(kernels.variance_fixed_point(sigma_w2=sw2, sigma_b2=SB2))
    C = sp.pair_correlation_decay([0.9, 0.2], q=q, sigma_w2=[sw2], sigma_b2=SB2, width=512, depth=4,
                                  n_networks=64, generator=torch.Generator().manual_seed(3))
    assert C.shape == (1, 64, 2, 4)
    mean = C[0].mean(0)                                   # (pairs, layers)
    assert np.allclose(mean[:, 0], [0.9, 0.2], atol=0.01)
    predicted = [0.9, 0.2]
    for layer in range(1, 4):
        predicted = kernels.correlation_map(np.array(predicted), q=q, sigma_w2=sw2, sigma_b2=SB2)
        assert np.allclose(mean[:, layer], predicted, atol=0.01)   # sampling ~ 0.003, finite width ~ 1/n
    with pytest.raises(ValueError, match="c_start"):
        sp.pair_correlation_decay([1.5], q=q, sigma_w2=[sw2], sigma_b2=SB2, width=8, depth=2, n_networks=2,
                                  generator=torch.Generator())


def test_crossing_depth_interpolates_in_log_depth():
    depths = [4, 8, 16, 32]
    score = np.array([[0.9, 0.8, 0.4, 0.1],     # crosses 0.6 halfway between 8 and 16 → √128
                      [0.9, 0.9, 0.9, 0.9],     # never
                      [0.1, 0.1, 0.1, 0.1]])    # already below
    L = sp.crossing_depth(depths, score, 0.6)
    assert L[0] == pytest.approx(math.sqrt(8 * 16)) and np.isinf(L[1]) and np.isnan(L[2])
    with pytest.raises(ValueError, match="depths"):
        sp.crossing_depth([8, 4], score[:, :2], 0.5)


def test_exercise_checkers_accept_the_answer_and_reject_everything_else(capsys):
    xi = float(sp.depth_scales(3.0, sigma_b2=SB2)["xi_c"][0])
    assert ex.check_correlation_depth(xi)
    chi1 = float(kernels.chi1(sigma_w2=3.0, sigma_b2=SB2))
    for wrong in (xi * 1.01, 1 / math.log(chi1), float("nan"), np.array([xi, xi]), "9", None, lambda: xi):
        assert not ex.check_correlation_depth(wrong)
    ratio = float(kernels.chi1(sigma_w2=4.5, sigma_b2=SB2)) ** 30
    assert ex.check_depth_ratio(ratio)
    for wrong in (ratio * 1.01, -ratio, float("inf"), [ratio], lambda: ratio):
        assert not ex.check_depth_ratio(wrong)
    out = capsys.readouterr().out
    assert "Traceback" not in out and out.count("✗") == 12
