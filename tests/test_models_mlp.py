"""Unit tests of course_utils.models.mlp and course_utils.theory.ntk_empirical."""

import math

import numpy as np
import pytest
import torch

from course_utils.models.mlp import MLP, random_mlp_outputs
from course_utils.theory import kernels
from course_utils.theory.ntk_empirical import LinearizedModel, empirical_ntk, jacobian
from ntk_testing import OneOutput



def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_parameterizations_give_the_same_function_at_init():
    X = torch.randn(7, 4, generator=_gen(1), dtype=torch.float64)
    a = MLP(4, 32, 3, sigma_w=1.3, sigma_b=0.4, parameterization="ntk", generator=_gen(5), dtype=torch.float64)
    b = MLP(4, 32, 3, sigma_w=1.3, sigma_b=0.4, parameterization="standard", dtype=torch.float64)
    with torch.no_grad():  # standard weights = σ_w/√fan_in × NTK weights, standard biases = σ_b × NTK biases
        for la, lb in zip(a.layers, b.layers):
            lb.weight.copy_(la.weight * 1.3 / math.sqrt(la.in_features))
            lb.bias.copy_(la.bias * 0.4)
    assert torch.allclose(a(X), b(X))
    out, pre = a(X, return_preactivations=True)
    assert len(pre) == 4 and pre[0].shape == (7, 32) and pre[-1].shape == (7, 1)
    assert torch.equal(out, pre[-1])


def test_init_statistics():
    m = MLP(10, 2000, 1, sigma_w=2.0, sigma_b=0.5, parameterization="standard", generator=_gen(0))
    w = m.layers[1].weight
    assert float(w.detach().var()) == pytest.approx(4.0 / 2000, rel=0.1)
    assert float(m.layers[0].bias.detach().std()) == pytest.approx(0.5, rel=0.05)
    n = MLP(10, 2000, 1, parameterization="ntk", generator=_gen(0))
    assert float(n.layers[1].weight.detach().std()) == pytest.approx(1.0, rel=0.1)


def test_mlp_validates_arguments():
    with pytest.raises(ValueError, match="parameterization"):
        MLP(2, 4, 1, parameterization="mup")
    with pytest.raises(ValueError, match="width"):
        MLP(2, 0, 1)
    with pytest.raises(ValueError, match="sigma_w"):
        MLP(2, 4, 1, sigma_w=0.0)
    with pytest.raises(ValueError, match="activation"):
        MLP(2, 4, 1, activation="swish")
    with pytest.raises(ValueError, match="features"):
        MLP(2, 4, 1)(torch.ones(3, 5))


def test_random_outputs_match_single_networks_and_are_chunk_independent():
    X = torch.randn(5, 3, generator=_gen(2))
    a = random_mlp_outputs(X, 10, width=16, depth=2, sigma_b=0.3, generator=_gen(9), chunk_size=10)
    b = random_mlp_outputs(X, 10, width=16, depth=2, sigma_b=0.3, generator=_gen(9), chunk_size=10)
    assert a.shape == (10, 5, 1) and torch.equal(a, b)
    out, pre = random_mlp_outputs(X, 4, width=16, depth=2, generator=_gen(9), return_preactivations=True)
    assert len(pre) == 2 and pre[0].shape == (4, 5, 16)


def test_random_outputs_covariance_matches_nngp():
    """A theory-vs-experiment check at small size: the covariance of 20 000 random networks is the NNGP kernel."""
    X = np.random.default_rng(0).standard_normal((4, 3))
    f = random_mlp_outputs(torch.tensor(X, dtype=torch.float32), 20_000, width=64, depth=2, activation="erf",
                           sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.1), generator=_gen(3))[..., 0].double().numpy()
    K = kernels.nngp_kernel(X, depth=2, activation="erf", sigma_w2=2.0, sigma_b2=0.1)
    C = f.T @ f / len(f)
    # sampling noise ~ √(2/M) ≈ 1 %, finite-width bias ~ 1/n ≈ 1.5 %
    assert np.linalg.norm(C - K) / np.linalg.norm(K) < 0.05


def test_empirical_ntk_equals_jacobian_product_and_matches_theory():
    X = torch.randn(6, 3, generator=_gen(4), dtype=torch.float64)
    m = MLP(3, 1024, 2, sigma_b=0.3, generator=_gen(0), dtype=torch.float64)
    J = jacobian(m, X)
    assert J.shape == (6, sum(p.numel() for p in m.parameters()))
    T = empirical_ntk(m, X)
    assert torch.allclose(T, J @ J.T)
    assert torch.allclose(empirical_ntk(m, X[:2], X[2:]), T[:2, 2:])
    Ta = kernels.ntk_kernel(X.numpy(), depth=2, sigma_w2=2.0, sigma_b2=0.09)
    assert np.linalg.norm(T.numpy() - Ta) / np.linalg.norm(Ta) < 0.15  # fluctuations ~ n^(-1/2)


def test_empirical_ntk_sums_several_outputs_and_the_jacobian_needs_one():
    """Θ of a two-output network is the sum of its outputs' kernels; jacobian is for one output only."""
    m = MLP(3, 8, 1, d_out=2, generator=_gen(3), dtype=torch.float64)
    X = torch.randn(4, 3, generator=_gen(4), dtype=torch.float64)
    with pytest.raises(ValueError, match="one output"):
        jacobian(m, X)
    expected = sum(jacobian(OneOutput(m, c), X) @ jacobian(OneOutput(m, c), X).T for c in range(2))
    torch.testing.assert_close(empirical_ntk(m, X), expected, rtol=1e-10, atol=1e-12)


def test_linearized_model():
    X = torch.randn(5, 2, generator=_gen(6), dtype=torch.float64)
    m = MLP(2, 32, 2, sigma_b=0.2, generator=_gen(1), dtype=torch.float64)
    lin = LinearizedModel(m)
    assert torch.allclose(lin(X), m(X))
    assert lin.displacement() == 0.0
    J = jacobian(m, X)
    with torch.no_grad():
        for p in lin.params:
            p.add_(0.05 * torch.randn(p.shape, generator=_gen(2), dtype=p.dtype))
    delta = torch.cat([(p - p0).detach().reshape(-1) for p, p0 in zip(lin.params, m.parameters())])
    assert torch.allclose(lin(X)[:, 0], m(X)[:, 0] + J @ delta)
    assert lin.displacement() == pytest.approx(float(delta.norm()))
    # trainable by autograd; the original model is untouched
    lin(X).sum().backward()
    assert all(p.grad is not None for p in lin.params)
    assert all(p.grad is None for p in m.parameters())


def test_linearized_gd_is_kernel_gd():
    """Gradient descent on f_lin follows the discrete kernel dynamics with the NTK at initialisation."""
    X = torch.randn(8, 2, generator=_gen(7), dtype=torch.float64)
    y = torch.sin(X[:, :1] * 2)
    m = MLP(2, 64, 1, sigma_b=0.1, generator=_gen(3), dtype=torch.float64)
    Theta = empirical_ntk(m, X).numpy()
    lin = LinearizedModel(m)
    lr, steps = 0.5, 30
    opt = torch.optim.SGD(lin.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((lin(X) - y) ** 2).mean()).backward()
        opt.step()
    with torch.no_grad():
        f0 = m(X)[:, 0].numpy()
        f_lin = lin(X)[:, 0].numpy()
    f_theory, _ = kernels.kernel_regression_dynamics(Theta, Theta, y[:, 0].numpy(), steps, lr=lr / len(X),
                                                     f0_train=f0, f0_test=f0, discrete=True)
    assert np.allclose(f_lin, f_theory, atol=1e-10)
