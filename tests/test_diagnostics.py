"""Feature-learning diagnostics (course_utils.diagnostics)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course_utils as cu
from course_utils import diagnostics
from course_utils import diagnostics as D
from course_utils.models.mlp import MLP
from course_utils.theory.ntk_empirical import empirical_ntk
from ntk_testing import OneOutput


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


def test_empirical_ntk_of_an_mlp_layer_by_layer_equals_the_jacobian_one():
    """The MLP path of empirical_ntk (no Jacobian) against J Jᵀ of the Jacobian path (a frozen parameter
    sends the same network down the generic path), with X2 too."""
    from course_utils.models.mlp import MLP
    from course_utils.theory.ntk_empirical import jacobian

    X = torch.randn(6, 4, dtype=torch.float64)
    X2 = torch.randn(3, 4, dtype=torch.float64)
    for param in ("ntk", "standard"):
        net = MLP(4, 16, 2, 1, sigma_b=0.3, parameterization=param, dtype=torch.float64,
                  generator=torch.Generator().manual_seed(0))
        J, J2 = jacobian(net, X), jacobian(net, X2)
        assert torch.allclose(empirical_ntk(net, X), J @ J.T, atol=1e-10)
        assert torch.allclose(empirical_ntk(net, X, X2), J @ J2.T, atol=1e-10)
        net.layers[0].bias.requires_grad_(False)        # the generic path, without the first bias
        J = jacobian(net, X)
        assert torch.allclose(empirical_ntk(net, X), J @ J.T, atol=1e-10)
    # several outputs: the sum over outputs of each output's kernel
    net = MLP(4, 8, 1, 3, sigma_b=0.5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    expected = torch.zeros(6, 6, dtype=torch.float64)
    for c in range(3):
        J = jacobian(OneOutput(net, c), X)
        expected += J @ J.T
    assert torch.allclose(empirical_ntk(net, X), expected, atol=1e-10)
    net.layers[-1].bias.requires_grad_(False)            # generic path: the sum over outputs there too
    expected -= 3 * torch.ones(6, 6, dtype=torch.float64) * net.scales(net.layers[-1].in_features)[1] ** 2
    assert torch.allclose(empirical_ntk(net, X), expected, atol=1e-10)
    with pytest.raises(ValueError):
        empirical_ntk(net, X[0])


def test_relative_kernel_change():
    K0 = torch.eye(3, dtype=torch.float64)
    assert D.relative_kernel_change(K0, K0).item() == 0.0
    assert D.relative_kernel_change(3 * K0, K0).item() == pytest.approx(2.0)
    batched = D.relative_kernel_change(torch.stack([K0, 2 * K0]), torch.stack([K0, K0]))
    assert batched.tolist() == pytest.approx([0.0, 1.0])
    with pytest.raises(ValueError):
        D.relative_kernel_change(K0, torch.eye(4))


NAN = float("nan")
_K = torch.eye(4, dtype=torch.float64) + 0.1


@pytest.mark.parametrize("name,call", [
    ("params", lambda: diagnostics.weight_norm("weights")),
    ("params", lambda: diagnostics.weight_norm([])),
    ("batched", lambda: diagnostics.weight_norm([torch.ones(2)], batched="yes")),
    ("params[0]", lambda: diagnostics.relative_weight_change([torch.ones(2, 3)], [torch.ones(3)])),
    ("initial", lambda: diagnostics.relative_weight_change([torch.ones(3)], [torch.zeros(3)])),
    ("features", lambda: diagnostics.feature_kernel(torch.tensor([[1.0, NAN]]))),
    ("features", lambda: diagnostics.feature_kernel(torch.ones(3))),
    ("features", lambda: diagnostics.feature_kernel("phi")),
    ("kernel", lambda: diagnostics.effective_dimension(torch.ones(3, 4))),
    ("kernel", lambda: diagnostics.effective_dimension(torch.full((3, 3), NAN))),
    ("targets", lambda: diagnostics.kernel_alignment(_K, torch.tensor([0, 1, -1, 0]))),
    ("targets", lambda: diagnostics.kernel_alignment(_K, torch.tensor([0, 1, 0]))),
    ("targets", lambda: diagnostics.kernel_alignment(_K, torch.zeros(4, dtype=torch.long))),
    ("targets", lambda: diagnostics.kernel_alignment(_K, torch.tensor([0.0, NAN, 1.0, 2.0]))),
    ("kernel", lambda: diagnostics.kernel_alignment(torch.ones(4, 4), torch.tensor([0, 1, 0, 1]))),
    ("X1", lambda: empirical_ntk(MLP(3, 4, 1), torch.zeros(2, 5))),
    ("Module", lambda: empirical_ntk("net", torch.zeros(2, 3))),
    ("initial kernel", lambda: diagnostics.relative_kernel_change(_K, torch.zeros(4, 4))),
    ("kernel", lambda: diagnostics.relative_kernel_change(torch.full((4, 4), NAN), _K)),
])
def test_bad_arguments_raise_an_argument_error_naming_them(name, call):
    with pytest.raises(cu.validate.ArgumentError) as info:
        call()
    assert name in str(info.value)


def test_numpy_and_lists_give_the_same_answers_as_tensors():
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((6, 3))
    K = diagnostics.feature_kernel(torch.from_numpy(phi), center=True)
    assert torch.equal(diagnostics.feature_kernel(phi, center=True), K)
    assert torch.equal(diagnostics.feature_kernel(phi.tolist(), center=True),
                       diagnostics.feature_kernel(torch.tensor(phi.tolist()), center=True))
    y = np.arange(6) % 2
    assert torch.equal(diagnostics.kernel_alignment(K, y), diagnostics.kernel_alignment(K, torch.from_numpy(y)))
    net = MLP(3, 5, 1, generator=torch.Generator().manual_seed(0))
    X = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    assert torch.equal(empirical_ntk(net, X.numpy()), empirical_ntk(net, X))


@settings(max_examples=20, deadline=None)
@given(N=st.integers(2, 8), H=st.integers(1, 6), seed=st.integers(0, 999))
def test_effective_dimension_and_alignment_against_numpy(N, H, seed):
    """exp(entropy) of the normalised spectrum and the centred alignment, from NumPy's eigvalsh."""
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((N, H))
    K = diagnostics.feature_kernel(phi)
    np.testing.assert_allclose(K.numpy(), phi @ phi.T, rtol=1e-12, atol=1e-12)
    lam = np.clip(np.linalg.eigvalsh(phi @ phi.T), 0, None)
    p = lam / lam.sum()
    p = p[p > 0]
    assert diagnostics.effective_dimension(K).item() == pytest.approx(np.exp(-(p * np.log(p)).sum()), rel=1e-8)
    assert 1 - 1e-9 <= diagnostics.effective_dimension(K).item() <= min(N, H) + 1e-9
    y = rng.standard_normal((N, 2))
    C = np.eye(N) - 1 / N
    Kc, Tc = C @ phi @ phi.T @ C, C @ y @ y.T @ C
    want = (Kc * Tc).sum() / np.sqrt((Kc ** 2).sum() * (Tc ** 2).sum())
    if np.sqrt((Kc ** 2).sum() * (Tc ** 2).sum()) > 1e-9:
        assert diagnostics.kernel_alignment(K, y).item() == pytest.approx(want, rel=1e-8, abs=1e-10)
