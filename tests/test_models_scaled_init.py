"""Unit tests of course_utils.models.scaled_init (the init-scale knob on a real network)."""

import math

import pytest
import torch

from course_utils.models.mlp import MLP
from course_utils.models.scaled_init import lazy_step, train_scaled_relu_net
from course_utils.theory.ntk_empirical import empirical_ntk

pytestmark = pytest.mark.usefixtures("float64")


def _data(n=12, d=5, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen)
    Y = torch.nn.functional.one_hot(torch.arange(n) % c, c).double()
    return X, Y


def test_no_steps_no_change_and_the_lazy_step():
    X, Y = _data()
    run = train_scaled_relu_net(X, Y, width=32, alpha=2.0, steps=0, seed=3)
    assert run.weight_change == 0.0 and run.kernel_change == 0.0
    assert run.loss == pytest.approx(0.5 * float((Y ** 2).sum(1).mean()), rel=1e-12)
    net = MLP(5, 32, 1, 3, sigma_w=math.sqrt(2), sigma_b=0.0, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.mul_(2.0)
    assert run.lr == pytest.approx(lazy_step(empirical_ntk(net, X), 3), rel=1e-12)


def test_the_kernel_grows_as_alpha_squared_so_the_lazy_step_shrinks_as_alpha_minus_two():
    X, Y = _data()
    lr1 = train_scaled_relu_net(X, Y, width=64, alpha=1.0, steps=0).lr
    lr2 = train_scaled_relu_net(X, Y, width=64, alpha=2.0, steps=0).lr
    # ReLU without biases is homogeneous: each layer's share of the kernel scales as α², so K → α² K
    assert lr1 / lr2 == pytest.approx(4.0, rel=1e-9)


def test_training_fits_and_larger_alpha_moves_less():
    X, Y = _data()
    small = train_scaled_relu_net(X, Y, width=256, alpha=1.0, steps=300)
    large = train_scaled_relu_net(X, Y, width=256, alpha=4.0, steps=300)
    assert small.loss < 0.05 and large.loss < 0.05
    assert large.weight_change < small.weight_change / 4


def test_bad_arguments():
    X, Y = _data()
    with pytest.raises(ValueError, match="same N"):
        train_scaled_relu_net(X, Y[:5], width=8, alpha=1.0, steps=1)
    with pytest.raises(ValueError, match="alpha > 0"):
        train_scaled_relu_net(X, Y, width=8, alpha=0.0, steps=1)
    with pytest.raises(ValueError, match="square"):
        lazy_step(torch.ones(3, 4), 2)


def test_one_hidden_layer_kernel_is_the_tangent_kernel_and_the_parts_add_up():
    from course_utils.models.scaled_init import kernel_change_parts, one_hidden_layer_kernel

    X, Y = _data(n=10, d=6, c=3)
    net = MLP(6, 40, 1, 3, sigma_w=math.sqrt(2), sigma_b=0.0, generator=torch.Generator().manual_seed(1))
    W0, V0 = (layer.weight.detach().clone() for layer in net.layers)
    K = one_hidden_layer_kernel(W0, V0, X)
    assert torch.allclose(K, empirical_ntk(net, X), rtol=1e-10, atol=1e-12)
    gen = torch.Generator().manual_seed(2)
    W, V = W0 + 0.05 * torch.randn(W0.shape, generator=gen), V0 + 0.05 * torch.randn(V0.shape, generator=gen)
    p = kernel_change_parts(W0, V0, W, V, X)
    assert 0 < p["switched_fraction"] < 0.5 and p["preactivation_change"] > 0
    # the three parts add up to the total (as matrices; their norms obey the triangle inequality)
    assert p["total"] <= p["linear"] + p["quadratic"] + p["switching"] + 1e-12
    # no switch: the switching part vanishes; halving Δθ halves the linear part and quarters the quadratic one
    p_small = kernel_change_parts(W0, V0, W0 + 1e-9 * (W - W0), V0 + 1e-9 * (V - V0), X)
    assert p_small["switching"] == 0.0 and p_small["switched_fraction"] == 0.0
    p_half = kernel_change_parts(W0, V0, W0 + 1e-4 * (W - W0), V0 + 1e-4 * (V - V0), X)
    p_quarter = kernel_change_parts(W0, V0, W0 + 0.5e-4 * (W - W0), V0 + 0.5e-4 * (V - V0), X)
    if p_half["switched_fraction"] == 0.0 and p_quarter["switched_fraction"] == 0.0:
        assert p_half["linear"] / p_quarter["linear"] == pytest.approx(2.0, rel=1e-6)
        assert p_half["quadratic"] / p_quarter["quadratic"] == pytest.approx(4.0, rel=1e-3)  # rounding: Θ₀ − Θ₀
    with pytest.raises(ValueError, match="mask"):
        one_hidden_layer_kernel(W0, V0, X, mask=torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"X has shape \(10, 4\).*d = 6 \(from W, axis 1\)"):
        one_hidden_layer_kernel(W0, V0, X[:, :4])


def test_the_ensemble_is_the_networks_trained_one_by_one():
    """train_scaled_relu_nets trains K networks as one BatchedMLP: each member's run equals its run alone,
    in the lazy regime (own lazy step) and in the rich one (a shared step)."""
    from course_utils.models.scaled_init import train_scaled_relu_nets

    X, Y = _data(n=16, d=5, c=3)
    lr_one = train_scaled_relu_net(X, Y, width=48, alpha=1.0, steps=0, seed=3).lr   # the step of α = 1, as the chapter
    for alphas, seeds, lr, steps in (([4.0, 1.0, 2.0], [3, 4, 3], None, 60), ([0.5, 0.25, 0.25], [3, 4, 5], lr_one, 200)):
        runs = train_scaled_relu_nets(X, Y, width=48, alphas=alphas, steps=steps, seeds=seeds, lr=lr)
        for run, a, s in zip(runs, alphas, seeds):
            alone = train_scaled_relu_net(X, Y, width=48, alpha=a, steps=steps, seed=s, lr=lr)
            assert run == pytest.approx(alone, rel=1e-7, abs=1e-12)
    with pytest.raises(ValueError, match="one per alpha"):
        train_scaled_relu_nets(X, Y, width=8, alphas=[1.0, 2.0], steps=1, seeds=[0])
    with pytest.raises(ValueError, match="alpha > 0"):
        train_scaled_relu_nets(X, Y, width=8, alphas=[1.0, -2.0], steps=1, seeds=[0, 1])
