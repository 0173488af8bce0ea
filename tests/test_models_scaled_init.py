"""Unit tests of course_utils.models.scaled_init (the init-scale knob on a real network)."""

import math

import pytest
import torch

from course_utils import diagnostics
from course_utils.models.mlp import MLP
from course_utils.models.scaled_init import lazy_step, train_scaled_relu_net

pytestmark = pytest.mark.usefixtures("float64")


def _data(n=12, d=5, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen)
    Y = torch.nn.functional.one_hot(torch.arange(n) % c, c).double()
    return X, Y


def test_no_steps_no_change_and_the_lazy_step():
    X, Y = _data()
    run = train_scaled_relu_net(X, Y, width=32, alpha=2.0, steps=0, seed=3)
    assert run.weight_change == 0.0 and run.kernel_change == 0.0 and math.isnan(run.loss)
    net = MLP(5, 32, 1, 3, sigma_w=math.sqrt(2), sigma_b=0.0, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        for layer in net.layers:
            layer.weight.mul_(2.0)
    assert run.lr == pytest.approx(lazy_step(diagnostics.tangent_kernel(net, X), 3), rel=1e-12)


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
