"""Feature-learning diagnostics (course_utils.diagnostics)."""

import math

import pytest
import torch

from course_utils import diagnostics as D


def test_weight_norm_and_relative_change():
    a, b = torch.ones(2, 3), torch.full((4,), 2.0)
    assert D.weight_norm([a, b]).item() == pytest.approx(math.sqrt(6 + 16))
    init = D.snapshot([a, b])
    assert D.relative_weight_change([a, b], init).item() == 0.0
    assert D.relative_weight_change([2 * a, 2 * b], init).item() == pytest.approx(1.0)
    batched = [torch.stack([a, 3 * a])]
    assert D.weight_norm(batched, batched=True).tolist() == pytest.approx([math.sqrt(6), 3 * math.sqrt(6)])
    change = D.relative_weight_change([torch.stack([a, a])], batched, batched=True)
    assert change.tolist() == pytest.approx([0.0, 2 / 3])


def test_effective_dimension():
    assert D.effective_dimension(torch.eye(5)).item() == pytest.approx(5.0)
    v = torch.randn(6, 1)
    assert D.effective_dimension(v @ v.T).item() == pytest.approx(1.0, abs=1e-6)
    K = torch.diag(torch.tensor([1.0, 1.0, 0.0, 0.0]))
    assert D.effective_dimension(K).item() == pytest.approx(2.0)
    phi = torch.randn(3, 10, 4)                                  # batched features
    assert D.effective_dimension(D.feature_kernel(phi)).shape == (3,)


def test_kernel_alignment():
    y = torch.tensor([0, 0, 1, 1, 2, 2])
    Y = torch.nn.functional.one_hot(y).double()
    assert D.kernel_alignment(Y @ Y.T, y).item() == pytest.approx(1.0)
    torch.manual_seed(0)
    noise = torch.randn(6, 50).double()
    assert D.kernel_alignment(noise @ noise.T, y).item() < 0.6
    K = torch.stack([Y @ Y.T, noise @ noise.T])
    assert D.kernel_alignment(K, y).shape == (2,)
    assert D.kernel_alignment(D.feature_kernel(Y), y).item() == pytest.approx(1.0)


def test_tangent_kernel_of_an_mlp():
    from course_utils.models.mlp import MLP
    from course_utils.theory.ntk_empirical import empirical_ntk, jacobian

    X = torch.randn(6, 4, dtype=torch.float64)
    for param in ("ntk", "standard"):
        net = MLP(4, 16, 2, 1, sigma_b=0.3, parameterization=param, dtype=torch.float64,
                  generator=torch.Generator().manual_seed(0))
        assert torch.allclose(D.tangent_kernel(net, X), empirical_ntk(net, X), atol=1e-10)
    # several outputs: the sum over outputs of each output's kernel
    net = MLP(4, 8, 1, 3, sigma_b=0.5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = torch.zeros(6, 6, dtype=torch.float64)
    for c in range(3):
        class One(torch.nn.Module):
            def __init__(self, c):
                super().__init__()
                self.net, self.c = net, c

            def forward(self, x):
                return self.net(x)[:, self.c:self.c + 1]

        J = jacobian(One(c), X)
        expected += J @ J.T
    assert torch.allclose(D.tangent_kernel(net, X), expected, atol=1e-10)
    with pytest.raises(ValueError):
        D.tangent_kernel(net, X[0])
    with pytest.raises(ValueError):
        D.tangent_kernel(torch.nn.Linear(4, 1), X)


def test_relative_kernel_change():
    K0 = torch.eye(3, dtype=torch.float64)
    assert D.relative_kernel_change(K0, K0).item() == 0.0
    assert D.relative_kernel_change(3 * K0, K0).item() == pytest.approx(2.0)
    batched = D.relative_kernel_change(torch.stack([K0, 2 * K0]), torch.stack([K0, K0]))
    assert batched.tolist() == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError):
        D.relative_kernel_change(K0, torch.eye(4))
