"""theory.signal_propagation: bad arguments end in a clear error naming the argument; the depth scales, the
gradient profile and the crossing depth against independent computations."""

import math
import re

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedMLP, cross_entropy_per_sample
from course_utils.theory import kernels
from course_utils.theory import signal_propagation as sp
from course_utils.validate import ArgumentError

NAN = float("nan")
SB2 = 0.05
GEN = torch.Generator().manual_seed(0)


def _model(K=2):
    return BatchedMLP(K, [3, 5, 4], "tanh", init=None)


def _pcd(**over):
    kw = dict(c_start=[0.2, 0.5], q=0.5, sigma_w2=[1.0, 2.0], sigma_b2=SB2, width=8, depth=3, n_networks=2,
              generator=torch.Generator().manual_seed(0))
    kw.update(over)
    return lambda: sp.pair_correlation_decay(**kw)


X = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
Y = torch.tensor([0, 1, 2, 3])

BAD = [
    ("activation", lambda: sp.chi_c(activation="softsign")),
    ("sigma_w2", lambda: sp.chi_c(sigma_w2=NAN)),
    ("sigma_w2", lambda: sp.chi_c(sigma_w2="1")),
    ("sigma_b2", lambda: sp.chi_c(sigma_b2=-1.0)),
    ("sigma_w2", lambda: sp.depth_scales([1.0, NAN])),
    ("sigma_w2", lambda: sp.depth_scales([])),
    ("sigma_w2", lambda: sp.depth_scales(np.ones((2, 2)))),
    ("sigma_w2", lambda: sp.depth_scales([1.0, 0.0])),
    ("sigma_b2", lambda: sp.depth_scales(1.0, sigma_b2=NAN)),
    ("activation", lambda: sp.depth_scales(1.0, activation=None)),
    ("depth", lambda: sp.gradient_profile(0, 1.0)),
    ("depth", lambda: sp.gradient_profile(2.5, 1.0)),
    ("q1", lambda: sp.gradient_profile(3, NAN)),
    ("q1", lambda: sp.gradient_profile(3, -1.0)),
    ("sigma_w2", lambda: sp.gradient_profile(3, 1.0, sigma_w2=0)),
    ("sigma_b2", lambda: sp.gradient_profile(3, 1.0, sigma_b2=NAN)),
    ("input_norm2", lambda: sp.gradient_profile(3, 1.0, input_norm2=NAN, width=4)),
    ("width", lambda: sp.gradient_profile(3, 1.0, input_norm2=2.0, width=0)),
    ("activation", lambda: sp.gradient_profile(3, 1.0, activation="softsign")),
    ("sigma_w2", lambda: sp.log_gradient_shift([1.0, -1.0], width=10)),
    ("width", lambda: sp.log_gradient_shift(1.0, width=NAN)),
    ("width", lambda: sp.log_gradient_shift(1.0, width=None)),
    ("sigma_b2", lambda: sp.log_gradient_shift(1.0, width=10, sigma_b2=-0.1)),
    ("generator", lambda: sp.init_gaussian(_model(), 1.0, SB2, 0)),
    ("sigma_b2", lambda: sp.init_gaussian(_model(), 1.0, NAN, GEN)),
    ("model", lambda: sp.init_gaussian("model", 1.0, SB2, GEN)),
    ("sigma_w2", lambda: sp.init_gaussian(_model(), [1.0, 2.0, 3.0], SB2, GEN)),
    ("sigma_w2", lambda: sp.init_gaussian(_model(), [1.0, NAN], SB2, GEN)),
    ("sigma_w2", lambda: sp.init_gaussian(_model(), [1.0, -2.0], SB2, GEN)),
    ("sigma_w2", lambda: sp.init_gaussian(_model(), "1", SB2, GEN)),
    ("model", lambda: sp.per_sample_weight_gradients(None, X, Y, cross_entropy_per_sample)),
    ("X", lambda: sp.per_sample_weight_gradients(_model(), X[0], Y, cross_entropy_per_sample)),
    ("X", lambda: sp.per_sample_weight_gradients(_model(), X[:, :2], Y, cross_entropy_per_sample)),
    ("X", lambda: sp.per_sample_weight_gradients(_model(), X.expand(3, 4, 3), Y, cross_entropy_per_sample)),
    ("X", lambda: sp.per_sample_weight_gradients(_model(), X * NAN, Y, cross_entropy_per_sample)),
    ("loss_fn", lambda: sp.per_sample_weight_gradients(_model(), X, Y, "cross_entropy")),
    ("per-sample", lambda: sp.per_sample_weight_gradients(_model(), X, Y % 4, lambda out, y: out.sum())),
    ("sigma_w2", _pcd(sigma_w2=[1.0, NAN])),
    ("width", _pcd(width=0)),
    ("depth", _pcd(depth=1.5)),
    ("n_networks", _pcd(n_networks=None)),
    ("c_start", _pcd(c_start=[0.2, 1.5])),
    ("c_start", _pcd(c_start=[0.2, NAN])),
    ("c_start", _pcd(c_start=np.zeros((3, 2)))),
    ("c_start", _pcd(c_start=[])),
    ("q", _pcd(q=[0.5, 0.5, 0.5])),
    ("q", _pcd(q=NAN)),
    ("q", _pcd(q=0.0)),
    ("sigma_b2", _pcd(sigma_b2=-1.0)),
    ("activation", _pcd(activation="erf")),
    ("generator", _pcd(generator=3)),
    ("dtype", _pcd(dtype=torch.int32)),
    ("depths", lambda: sp.crossing_depth([1, 2, 2], np.ones(3), 0.5)),
    ("depths", lambda: sp.crossing_depth([1, NAN], np.ones(2), 0.5)),
    ("depths", lambda: sp.crossing_depth([0, 1], np.ones(2), 0.5)),
    ("depths", lambda: sp.crossing_depth([4], np.ones(1), 0.5)),
    ("score", lambda: sp.crossing_depth([1, 2], np.ones(3), 0.5)),
    ("score", lambda: sp.crossing_depth([1, 2], [1.0, NAN], 0.5)),
    ("threshold", lambda: sp.crossing_depth([1, 2], [1.0, 0.0], NAN)),
]


@pytest.mark.parametrize("needle, call", BAD, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_a_clear_error(needle, call):
    with pytest.raises(ValueError) as info:
        call()
    # the argument's name as a word of the message (not inside another word: "n" is not found in "None")
    assert re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(info.value)), str(info.value)
    assert isinstance(info.value, ArgumentError) or needle in ("per-sample", "sigma_w2")


def test_chi_c_and_depth_scales_against_kernels():
    kw = dict(activation="tanh", sigma_b2=SB2)
    for sw2 in (0.8, 2.5):
        q = float(kernels.variance_fixed_point(sigma_w2=sw2, **kw))
        c = kernels.correlation_fixed_point(sigma_w2=sw2, **kw)
        # χ_c is the slope of the correlation map at c* (a numerical derivative, from below)
        h = 1e-5
        slope = (float(kernels.correlation_map(c, q=q, sigma_w2=sw2, **kw))
                 - float(kernels.correlation_map(c - h, q=q, sigma_w2=sw2, **kw))) / h
        assert sp.chi_c(sigma_w2=sw2, **kw) == pytest.approx(slope, rel=1e-3)
    d = sp.depth_scales([0.8, 2.5], **kw)
    chi1 = kernels.chi1(sigma_w2=np.array([0.8, 2.5]), **kw)
    assert d["chi1"] == pytest.approx(chi1) and d["xi_grad"] == pytest.approx(-1 / np.log(chi1))
    assert d["xi_grad"][0] > 0 > d["xi_grad"][1]                       # vanishing, then exploding gradients
    assert d["xi_c"] == pytest.approx(-1 / np.log(d["chi_c"])) and np.all(d["xi_c"] > 0)
    assert d["xi_c"][0] == pytest.approx(d["xi_grad"][0])              # ordered side: the same scale
    assert d["c_star"][0] == 1.0 and d["c_star"][1] < 1
    assert d["q_star"] == pytest.approx(kernels.variance_fixed_point(sigma_w2=np.array([0.8, 2.5]), **kw))
    # ReLU at the critical point σ_w² = 2, σ_b = 0: χ₁ = 1, ξ = ∞
    r = sp.depth_scales(2.0, activation="relu", sigma_b2=0.0)
    assert r["chi1"][0] == pytest.approx(1.0) and np.isinf(r["xi_c"][0])


def test_gradient_profile_by_the_recursion_written_out():
    depth, q1, sw2, sb2, width, x2 = 5, 0.7, 1.8, SB2, 10, 3.0
    dphi2 = lambda u: (1 - np.tanh(u) ** 2) ** 2                   # noqa: E731
    q = [q1]
    for _ in range(depth - 1):
        q.append(sb2 + sw2 * float(kernels.gaussian_expectation(lambda u: np.tanh(u) ** 2, q[-1])))
    chi = [sw2 * float(kernels.gaussian_expectation(dphi2, qq)) for qq in q]
    delta = [math.prod(chi[l:]) for l in range(depth)]
    act = [x2 / width] + [(q[l] - sb2) / sw2 for l in range(1, depth)]
    g = np.array(delta) * np.array(act)
    got = sp.gradient_profile(depth, q1, sigma_w2=sw2, sigma_b2=sb2, input_norm2=x2, width=width)
    assert got == pytest.approx(g / g[-1], rel=1e-10)
    assert got[-1] == 1.0
    nan_first = sp.gradient_profile(depth, q1, sigma_w2=sw2, sigma_b2=sb2)
    assert np.isnan(nan_first[0]) and nan_first[1:] == pytest.approx(got[1:])
    # ReLU without bias: χ = σ_w²/2 at every q, q grows by σ_w²/2 per layer, so G is flat at σ_w² = 2
    assert sp.gradient_profile(4, 1.0, activation="relu", sigma_w2=2.0, sigma_b2=0.0, input_norm2=4.0,
                               width=4)[1:] == pytest.approx(np.ones(3))


def test_log_gradient_shift_formula():
    sw2, n = np.array([1.0, 2.0]), 50
    got = sp.log_gradient_shift(sw2, width=n, sigma_b2=SB2)
    for i, s in enumerate(sw2):
        q = float(kernels.variance_fixed_point(sigma_w2=s, sigma_b2=SB2))
        m2 = float(kernels.gaussian_expectation(lambda u: (1 - np.tanh(u) ** 2) ** 2, q))
        m4 = float(kernels.gaussian_expectation(lambda u: (1 - np.tanh(u) ** 2) ** 4, q))
        assert got[i] == pytest.approx((3 * m4 / m2 ** 2 - 1) / (2 * n), rel=1e-12)
    # linear activation: φ' = 1, v = 3 − 1 = 2, shift 1/n
    assert sp.log_gradient_shift(0.5, activation="linear", width=n) == pytest.approx([1 / n])


def test_per_sample_weight_gradients_converts_numpy_inputs():
    model = _model()
    sp.init_gaussian(model, [1.0, 2.0], SB2, torch.Generator().manual_seed(2))
    a = sp.per_sample_weight_gradients(model, X, Y % 4, cross_entropy_per_sample)
    b = sp.per_sample_weight_gradients(model, X.numpy(), (Y % 4).numpy(), cross_entropy_per_sample)
    assert torch.equal(a, b) and a.shape == (2, 4, 2) and a.dtype == torch.float64


def test_init_gaussian_bias_variance_and_per_member_weights():
    model = BatchedMLP(2, [400, 400, 3], "tanh", init=None)
    sp.init_gaussian(model, [0.5, 3.0], 0.2, torch.Generator().manual_seed(3))
    w = model.layers[0].weight.detach().double()
    assert (w.pow(2).mean(dim=(1, 2)) * 400).numpy() == pytest.approx([0.5, 3.0], rel=0.02)
    b = model.layers[0].bias.detach().double()
    assert float(b.pow(2).mean()) == pytest.approx(0.2, rel=0.1)


def test_pair_correlation_decay_first_layer_and_map():
    """Layer 1 has the requested correlations (up to sampling noise at this width); the mean over networks
    of the next layer follows the correlation map M(c)."""
    c0 = np.array([0.1, 0.6, -0.4])
    C = sp.pair_correlation_decay(c0, q=0.8, sigma_w2=[2.5], sigma_b2=SB2, width=2000, depth=2, n_networks=4,
                                  generator=torch.Generator().manual_seed(4))
    assert C.shape == (1, 4, 3, 2)
    assert C[0, :, :, 0].mean(0) == pytest.approx(c0, abs=0.05)
    # layer 2: the correlation (σ_b² + σ_w² E[φ(u)φ(v)]) / (σ_b² + σ_w² E[φ(u)²]) at the layer-1 variance q = 0.8
    c1 = C[0, :, :, 0].mean(0)
    E12 = kernels.gaussian_pair_expectation(0.8, 0.8 * c1, 0.8, "tanh")
    E11 = kernels.gaussian_pair_expectation(0.8, 0.8, 0.8, "tanh")
    assert C[0, :, :, 1].mean(0) == pytest.approx((SB2 + 2.5 * E12) / (SB2 + 2.5 * E11), abs=0.03)


def test_crossing_depth_by_hand():
    depths = [2, 4, 8, 16]
    score = np.array([[0.9, 0.7, 0.3, 0.1], [0.9, 0.9, 0.9, 0.9], [0.1, 0.1, 0.1, 0.1], [0.9, 0.5, 0.4, 0.1]])
    got = sp.crossing_depth(depths, score, 0.5)
    # 0.7 → 0.3 between 4 and 8: halfway in ln L → √32
    assert got[0] == pytest.approx(math.sqrt(32))
    assert np.isinf(got[1]) and np.isnan(got[2])
    # exactly at the threshold does not count as below: the first score below is 0.4 at depth 8, and the
    # interpolation from 0.5 at depth 4 puts the crossing at depth 4 itself
    assert got[3] == pytest.approx(4.0)
    assert sp.crossing_depth(depths, score[0], 0.5) == pytest.approx(math.sqrt(32))
