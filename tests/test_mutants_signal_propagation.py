"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.signal_propagation.

Closed forms (tanh at q* = 0, ReLU with bias, erf's arcsine kernel, the linear network), an independent
quadrature of the variance recursion, the arcsine law of a width-1 layer, boundary cases of validation,
defaults, dtypes and the reproducibility of the random draws.
"""

import math
import types
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate, optimize

from course_utils.ensemble import BatchedMLP
from course_utils.theory import signal_propagation as sp
from course_utils.validate import ArgumentError


def _erf_q_star(sw2, sb2):
    """q* of erf: q = σ_b² + σ_w² (2/π) arcsin(2q/(1 + 2q)) (the arcsine kernel), by root finding."""
    return optimize.brentq(lambda q: sb2 + sw2 * 2 / math.pi * math.asin(2 * q / (1 + 2 * q)) - q, 1e-9, 100.0,
                           xtol=1e-14)


def _gauss(f):
    """E f(z), z ~ N(0, 1), by adaptive quadrature."""
    return integrate.quad(lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -np.inf, np.inf,
                          epsabs=1e-13)[0]


# ------------------------------------------------------------------------------------ chi_c, depth_scales


def test_chi_c_defaults_are_tanh_at_unit_weight_variance_without_bias():
    # tanh, σ_b² = 0, σ_w² < 1: q* = 0 and χ_c = χ₁ = σ_w² φ'(0)² = σ_w² (default σ_b² = 0)
    assert sp.chi_c(sigma_w2=0.5) == pytest.approx(0.5, abs=1e-9)
    # default σ_w² = 1 with a bias: ordered phase, χ_c = χ₁ = E[φ'(√q* z)²] with q* = σ_b² + E tanh(√q* z)²
    sb2 = 0.3
    q = optimize.brentq(lambda q: sb2 + _gauss(lambda z: math.tanh(math.sqrt(q) * z) ** 2) - q, 0.01, 5.0,
                        xtol=1e-13)
    chi = _gauss(lambda z: (1 - math.tanh(math.sqrt(q) * z) ** 2) ** 2)
    assert sp.chi_c(sigma_b2=sb2) == pytest.approx(chi, rel=1e-6)


def test_chi_c_and_depth_scales_of_erf_by_the_arcsine_kernel():
    # erf: E φ'(√q z)² = (4/π)/√(1 + 4q); ordered phase here, so χ_c = χ₁
    sw2, sb2 = 1.0, 0.5
    q = _erf_q_star(sw2, sb2)
    chi1 = sw2 * 4 / math.pi / math.sqrt(1 + 4 * q)
    assert chi1 < 1
    assert sp.chi_c(activation="erf", sigma_w2=sw2, sigma_b2=sb2) == pytest.approx(chi1, rel=1e-6)
    out = sp.depth_scales([sw2], activation="erf", sigma_b2=sb2)
    assert out["q_star"][0] == pytest.approx(q, rel=1e-7)
    assert out["chi1"][0] == pytest.approx(chi1, rel=1e-6)
    assert out["xi_grad"][0] == pytest.approx(-1 / math.log(chi1), rel=1e-5)


def test_depth_scales_default_bias_and_relu_closed_forms():
    # default σ_b² = 0 with tanh and σ_w² < 1: q* = 0, χ₁ = χ_c = σ_w², ξ = −1/ln σ_w²
    out = sp.depth_scales(0.5)
    assert out["chi1"][0] == pytest.approx(0.5, abs=1e-9) and out["chi_c"][0] == pytest.approx(0.5, abs=1e-9)
    assert out["xi_grad"][0] == pytest.approx(1 / math.log(2), rel=1e-8)
    # ReLU: q* = σ_b²/(1 − σ_w²/2), χ₁ = σ_w²/2 < 1, so c* = 1 and χ_c = χ₁ (tanh at these σ's is chaotic)
    out = sp.depth_scales(1.9, activation="relu", sigma_b2=0.01)
    assert out["q_star"][0] == pytest.approx(0.01 / 0.05, rel=1e-8)
    assert out["chi1"][0] == pytest.approx(0.95, rel=1e-10)
    assert out["c_star"][0] == 1.0
    assert out["chi_c"][0] == pytest.approx(0.95, rel=1e-6)


def test_depth_scales_at_chi1_equal_to_one_give_infinite_scales_without_a_warning():
    # the linear network at σ_w² = 1, σ_b² = 0: q* = q0, χ₁ = χ_c = 1 exactly; ξ_∇ = ±inf, ξ_c = inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sp.depth_scales(1.0, activation="linear")
    assert out["chi1"][0] == 1.0
    assert np.isinf(out["xi_grad"][0]) and out["xi_c"][0] == np.inf


def test_chi_c_at_its_defaults_is_one():
    """tanh, σ_w² = 1, σ_b² = 0: q* = 0 (reached only as q_l ≈ 3/(2l)) and χ_c = σ_w² φ'(0)² = 1."""
    assert sp.chi_c() == pytest.approx(1.0, abs=1e-12)
    scales = sp.depth_scales([0.5, 1.0])
    assert scales["q_star"] == pytest.approx([0.0, 0.0], abs=0)
    assert scales["chi_c"] == pytest.approx([0.5, 1.0], abs=1e-12)
    assert scales["xi_c"][0] == pytest.approx(1 / np.log(2), rel=1e-12) and scales["xi_c"][1] == np.inf


# ------------------------------------------------------------------------------------ sigma_w2 grids


@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_sigma_w2_grid_refuses_zero_and_negative_values(bad):
    with pytest.raises(ArgumentError, match="sigma_w2"):
        sp.pair_correlation_decay([0.5], q=1.0, sigma_w2=[1.0, bad], sigma_b2=0.0, width=4, depth=2, n_networks=1,
                                  generator=torch.Generator().manual_seed(0))


def test_sigma_w2_grid_refuses_a_2d_array():
    with pytest.raises(ArgumentError, match="sigma_w2"):
        sp.log_gradient_shift(np.full((2, 1), 0.5), width=10)


# ------------------------------------------------------------------------------------ gradient_profile


def test_gradient_profile_defaults_against_a_quadrature_of_the_recursion():
    # tanh, σ_w² = 1, σ_b² = 0 (the defaults): q_{l+1} = E tanh(√q_l z)², χ(q) = E (1 − tanh²)², and
    # G[1] = χ(q₂) q₂ / q₃ for depth 3 (E‖a^{l−1}‖² ∝ q_l − σ_b² = q_l)
    q1 = 1.3
    q2 = _gauss(lambda z: math.tanh(math.sqrt(q1) * z) ** 2)
    q3 = _gauss(lambda z: math.tanh(math.sqrt(q2) * z) ** 2)
    chi2 = _gauss(lambda z: (1 - math.tanh(math.sqrt(q2) * z) ** 2) ** 2)
    G = sp.gradient_profile(3, q1)
    assert G[1] == pytest.approx(chi2 * q2 / q3, rel=1e-6) and G[2] == 1.0


def test_gradient_profile_of_the_linear_network_is_flat_without_bias():
    # linear, σ_w² = 1, σ_b² = 0: q_l = q1, χ = 1 in every layer, so G = 1 (with a bias q would grow)
    assert sp.gradient_profile(5, 0.7, activation="linear")[1:] == pytest.approx(np.ones(4), abs=1e-12)


@pytest.mark.parametrize("kw", [dict(input_norm2=2.0), dict(width=8)])
def test_gradient_profile_first_entry_is_nan_unless_both_norm_and_width_are_given(kw):
    G = sp.gradient_profile(3, 1.0, **kw)
    assert np.isnan(G[0]) and np.all(np.isfinite(G[1:]))


# ------------------------------------------------------------------------------------ log_gradient_shift


def test_log_gradient_shift_closed_forms():
    # tanh, σ_b² = 0 (default), σ_w² < 1: q* = 0, φ'(0) = 1, v = 3 − 1 = 2, shift = v/(2n) = 1/n
    assert sp.log_gradient_shift(0.5, width=10) == pytest.approx([0.1], rel=1e-9)
    # erf: E φ'² = (4/π)/√(1 + 4q), E φ'⁴ = (16/π²)/√(1 + 8q) ⇒ v = 3(1 + 4q)/√(1 + 8q) − 1
    q = _erf_q_star(1.0, 0.5)
    v = 3 * (1 + 4 * q) / math.sqrt(1 + 8 * q) - 1
    assert sp.log_gradient_shift(1.0, activation="erf", sigma_b2=0.5, width=20) == pytest.approx([v / 40], rel=1e-6)


# ------------------------------------------------------------------------------------ init_gaussian


def test_init_gaussian_refuses_a_model_without_members():
    with pytest.raises(ArgumentError, match="model"):
        sp.init_gaussian(types.SimpleNamespace(layers=[]), 1.0, 0.0, torch.Generator())


def test_init_gaussian_refuses_a_2d_sigma_w2_and_a_zero_variance():
    model = BatchedMLP(2, [3, 4, 2], "tanh", init=None)
    with pytest.raises(ArgumentError, match="sigma_w2"):
        sp.init_gaussian(model, [[1.0, 2.0]], 0.1, torch.Generator())
    with pytest.raises(ArgumentError, match="sigma_w2"):
        sp.init_gaussian(model, [1.0, 0.0], 0.1, torch.Generator())


def test_init_gaussian_draws_only_from_the_generator_and_in_the_model_precision():
    def params(seed):
        # fan_in 4 and σ_w² = 1, 4, σ_b² = 1/4: the scales 1/2, 1, 1/2 are exact, so the draws show their precision
        model = BatchedMLP(2, [4, 4, 4], "tanh", init=None).double()
        sp.init_gaussian(model, [1.0, 4.0], 0.25, torch.Generator().manual_seed(seed))
        return [p.detach().clone() for p in model.parameters()]

    torch.manual_seed(0)
    a = params(7)
    torch.manual_seed(1)                      # the global generator must not matter
    b = params(7)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    # float64 draws: not all the weights, nor all the biases, are float32 numbers
    for p in a:
        assert p.dtype == torch.float64 and not torch.equal(p.float().double(), p)


# ------------------------------------------------------------------------------------ per_sample_weight_gradients


def test_per_sample_weight_gradients_refuses_a_model_without_members():
    with pytest.raises(ArgumentError, match="model"):
        sp.per_sample_weight_gradients(types.SimpleNamespace(layers=[]), torch.zeros(2, 3), torch.zeros(2),
                                       lambda out, y: out.sum(-1))


def test_per_sample_weight_gradients_of_a_linear_model_with_squared_loss():
    # one layer f = xW + b, ℓ = (f − y)²: ∂ℓ/∂W = 2(f − y) x, so ‖∂ℓ/∂W‖² = 4 (f − y)² ‖x‖².
    # Integer inputs (one-hot-like) and labels given as a list are accepted.
    model = BatchedMLP(2, [3, 1], "tanh", init=None).double()
    sp.init_gaussian(model, [1.0, 2.0], 0.5, torch.Generator().manual_seed(1))
    X = torch.tensor([[1, 0, 2], [0, 3, 1], [1, 1, 1], [2, 0, 0]])
    y = [0.5, -1.0, 2.0, 0.0]
    got = sp.per_sample_weight_gradients(model, X, y, lambda out, t: (out[..., 0] - t) ** 2)
    with torch.no_grad():
        f = model(X.double())[..., 0]
    want = 4 * (f - torch.tensor(y, dtype=torch.float64)) ** 2 * (X.double() ** 2).sum(-1)
    assert got.shape == (2, 4, 1)
    assert torch.allclose(got[..., 0], want, rtol=1e-12)


def test_per_sample_weight_gradients_names_loss_fn_when_it_fails():
    model = BatchedMLP(1, [3, 2], "tanh")

    def bad(out, y):
        raise ValueError("no")

    with pytest.raises(ArgumentError, match="loss_fn"):
        sp.per_sample_weight_gradients(model, torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), bad)


def test_per_sample_weight_gradients_names_y_when_it_is_not_numbers():
    model = BatchedMLP(1, [3, 2], "tanh")
    with pytest.raises(ArgumentError, match=r"(?<!\w)y(?!\w)"):
        sp.per_sample_weight_gradients(model, torch.zeros(2, 3), "ab", lambda out, y: out.sum(-1))


# ------------------------------------------------------------------------------------ pair_correlation_decay


def _pcd(seed=0, **over):
    kw = dict(c_start=[0.3], q=0.8, sigma_w2=[1.5, 2.5], sigma_b2=0.2, width=6, depth=3, n_networks=2,
              generator=torch.Generator().manual_seed(seed))
    kw.update(over)
    return sp.pair_correlation_decay(**kw)


@pytest.mark.parametrize("c_start", [np.full((2, 1, 1), 0.3), 0.3])
def test_pair_correlation_decay_refuses_c_start_of_other_dimensions(c_start):
    with pytest.raises(ArgumentError, match="c_start"):
        _pcd(c_start=c_start)


def test_pair_correlation_decay_accepts_identical_and_opposite_inputs():
    # c = ±1 are valid correlations: x_k = ±x₀, so layer 1 has c = ±1 exactly
    C = _pcd(c_start=[1.0, -1.0], depth=1)
    assert C.shape == (2, 2, 2, 1)
    assert np.allclose(C[..., 0, 0], 1.0, atol=1e-12) and np.allclose(C[..., 1, 0], -1.0, atol=1e-12)


def test_pair_correlation_decay_q_per_sigma_w2_and_a_2d_q_refused():
    both = _pcd(q=[0.3, 0.9])
    assert np.allclose(both[0], _pcd(q=0.3)[0], atol=1e-12)      # common random numbers: the same draws
    assert np.allclose(both[1], _pcd(q=0.9)[1], atol=1e-12)
    assert not np.allclose(both[0, ..., -1], _pcd(q=0.9)[0, ..., -1])
    with pytest.raises(ArgumentError, match="q"):
        _pcd(q=[[0.3, 0.9]])


def test_pair_correlation_decay_is_reproducible_from_its_generator_alone():
    torch.manual_seed(0)
    a = _pcd(seed=5)
    torch.manual_seed(1)
    b = _pcd(seed=5)
    assert np.array_equal(a, b)


def test_pair_correlation_decay_computes_in_the_requested_dtype():
    old = torch.get_default_dtype()
    try:
        for default in (torch.float32, torch.float64):
            torch.set_default_dtype(default)
            assert _pcd(dtype=torch.float32).dtype == np.float32
            assert _pcd(dtype=torch.float64).dtype == np.float64
    finally:
        torch.set_default_dtype(old)


def test_pair_correlation_decay_networks_are_independent_arcsine_law_at_width_one():
    # width 1: c = sign(h(x₀) h(x₁)). Given layer 1 (u₀, u₁), layer 2 is Gaussian over (W, ζ) with
    # covariance σ_w² φ(u_i) φ(u_j) + σ_b², so E c = E (2/π) arcsin ρ(u₀, u₁). Each call averages M independent
    # networks: its mean is within a few 1/√M of that value (a bias shared by the networks would not be).
    sw2, sb2, q, c = 1.0, 1.0, 1.0, 0.0
    rng = np.random.default_rng(0)
    u0 = math.sqrt(q) * rng.standard_normal(400_000)
    u1 = math.sqrt(q) * (c * u0 / math.sqrt(q) + math.sqrt(1 - c * c) * rng.standard_normal(u0.size))
    p0, p1 = np.tanh(u0), np.tanh(u1)
    rho = (sw2 * p0 * p1 + sb2) / np.sqrt((sw2 * p0 ** 2 + sb2) * (sw2 * p1 ** 2 + sb2))
    expected = float(np.mean(2 / np.pi * np.arcsin(rho)))
    M = 4000
    for seed in range(6):
        C = sp.pair_correlation_decay([c], q=q, sigma_w2=[sw2], sigma_b2=sb2, width=1, depth=2, n_networks=M,
                                      generator=torch.Generator().manual_seed(seed))
        assert abs(C[0, :, 0, 1].mean() - expected) < 4.5 / math.sqrt(M)


# ------------------------------------------------------------------------------------ crossing_depth


def test_crossing_depth_a_score_equal_to_the_threshold_is_not_below_it():
    # "falls below": strictly. Equal at the first depth and rising: never below, +inf
    assert sp.crossing_depth([1, 2, 4], [0.5, 0.6, 0.7], 0.5) == np.inf
    # equal at the first depth, below at the second: the crossing is the first depth itself
    assert sp.crossing_depth([1, 2], [0.5, 0.4], 0.5) == pytest.approx(1.0)


def test_crossing_depth_refuses_2d_depths_and_keeps_the_leading_shape_of_score():
    with pytest.raises(ArgumentError, match="depths"):
        sp.crossing_depth([[1, 2]], [1.0, 0.0], 0.5)
    score = np.zeros((2, 3, 2)) + [1.0, 0.0]
    got = sp.crossing_depth([1, 4], score, 0.5)
    assert got.shape == (2, 3) and np.allclose(got, 2.0)          # halfway in ln L between 1 and 4
