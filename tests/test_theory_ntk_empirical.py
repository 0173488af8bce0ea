"""theory.ntk_empirical: bad arguments end in a clear error naming the argument; NumPy inputs and float32/float64
mixes are converted to the model's dtype; the kernels against finite differences and the linearisation's
defining properties."""

import re

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.models.mlp import MLP
from course_utils.theory import ntk_empirical as ne
from course_utils.validate import ArgumentError
from ntk_testing import SB, SW, loss_after_one_step, mlp

NAN = float("nan")


def _net(seed=0, width=8, dtype=torch.float64, d=3):
    return mlp("tanh", seed, width, dtype, d)


def _relu_nets(seeds=(0, 1), width=16, dtype=torch.float64):
    return [mlp("relu", s, width, dtype) for s in seeds]


NET = _net()
X = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
NETS = _relu_nets()
PS = ne._stacked_one_hidden_layer(NETS)


class _Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(3, 1), requires_grad=False)

    def forward(self, x):
        return x @ self.w


BAD = [
    ("model", lambda: ne.jacobian("net", X)),
    ("model", lambda: ne.empirical_ntk(_Frozen(), X)),
    ("X", lambda: ne.jacobian(NET, X[0])),
    ("X", lambda: ne.jacobian(NET, "x")),
    ("X", lambda: ne.jacobian(NET, X * NAN)),
    ("chunk_size", lambda: ne.jacobian(NET, X, chunk_size=0)),
    ("X1", lambda: ne.empirical_ntk(NET, None)),
    ("X2", lambda: ne.empirical_ntk(NET, X, X[:, :2])),
    ("X2", lambda: ne.empirical_ntk(NET, X, X[0])),
    ("chunk_size", lambda: ne.empirical_ntk(NET, X, chunk_size=1.5)),
    ("one output", lambda: ne.jacobian(MLP(3, 4, 1, d_out=2), X)),
    ("model", lambda: ne.LinearizedModel(None)),
    ("x", lambda: ne.LinearizedModel(NET)("x")),
    ("x", lambda: ne.LinearizedModel(NET)(X * NAN)),
    ("p", lambda: ne.one_hidden_layer_ntk(PS[:3], X, SW, SB)),
    ("p[1]", lambda: ne.one_hidden_layer_ntk([PS[0], PS[1][:, :3], PS[2], PS[3]], X, SW, SB)),
    ("p[3]", lambda: ne.one_hidden_layer_ntk([PS[0], PS[1], PS[2], PS[3][:1]], X, SW, SB)),
    ("X", lambda: ne.one_hidden_layer_ntk(PS, X[:, :2], SW, SB)),
    ("sigma_w", lambda: ne.one_hidden_layer_ntk(PS, X, NAN, SB)),
    ("sigma_b", lambda: ne.one_hidden_layer_ntk(PS, X, SW, -1.0)),
    ("models", lambda: ne.catapult_ensemble([], [0.5], 10, X, X[:, 0])),
    ("models", lambda: ne.catapult_ensemble(NET, [0.5], 10, X, X[:, 0])),
    ("ReLU", lambda: ne.catapult_ensemble([_net()], [0.5], 10, X, X[:, 0])),
    ("models[1]", lambda: ne.catapult_ensemble([NETS[0], _relu_nets(width=8)[0]], [0.5], 10, X, X[:, 0])),
    ("ratios", lambda: ne.catapult_ensemble(NETS, [], 10, X, X[:, 0])),
    ("ratios", lambda: ne.catapult_ensemble(NETS, [0.5, NAN], 10, X, X[:, 0])),
    ("ratios", lambda: ne.catapult_ensemble(NETS, [-0.5], 10, X, X[:, 0])),
    ("steps", lambda: ne.catapult_ensemble(NETS, [0.5], 0, X, X[:, 0])),
    ("steps", lambda: ne.catapult_ensemble(NETS, [0.5], 2.5, X, X[:, 0])),
    ("blow_up", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X, X[:, 0], blow_up=NAN)),
    ("blow_up", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X, X[:, 0], blow_up=0)),
    ("X", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X[:, :2], X[:, 0])),
    ("y", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X, X[:4, 0])),
    ("y", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X, X[:, :1])),
    ("y", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X, "y")),
    ("y", lambda: ne.catapult_ensemble(NETS, [0.5], 10, X, X[:, 0] * NAN)),
]


@pytest.mark.parametrize("needle, call", BAD, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_a_clear_error(needle, call):
    with pytest.raises(ValueError) as info:
        call()
    # the argument's name as a word of the message (not inside another word: "n" is not found in "None")
    assert re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(info.value)), str(info.value)
    assert isinstance(info.value, ArgumentError) or needle == "one output"


def test_numpy_and_float32_inputs_are_converted_to_the_model_dtype():
    ref = ne.empirical_ntk(NET, X)
    assert torch.equal(ne.empirical_ntk(NET, X.numpy()), ref)
    assert torch.equal(ne.empirical_ntk(NET, X.tolist()), ref)
    got = ne.empirical_ntk(NET, X.float())
    assert got.dtype == torch.float64 and torch.equal(got, ne.empirical_ntk(NET, X.float().double()))
    assert torch.equal(ne.jacobian(NET, X.numpy()), ne.jacobian(NET, X))
    lin = ne.LinearizedModel(NET)
    assert torch.equal(lin(X.numpy()), lin(X))
    # a float32 model on float64 data
    net32 = _net(dtype=torch.float32)
    assert ne.empirical_ntk(net32, X).dtype == torch.float32
    # catapult with NumPy labels of another dtype, and a float64 ensemble
    nets = _relu_nets(width=32)
    a = ne.catapult_ensemble(nets, [0.5], 5, X, torch.sin(X[:, 0]))
    b = ne.catapult_ensemble(nets, [0.5], 5, X.float(), np.sin(X[:, 0].numpy()).astype(np.float32).tolist())
    assert a["initial"].dtype == np.float64 and a["initial"] == pytest.approx(b["initial"], rel=1e-6)


def test_jacobian_against_finite_differences():
    J = ne.jacobian(NET, X)
    params = [p for p in NET.parameters()]
    assert J.shape == (5, sum(p.numel() for p in params))
    h, col = 1e-6, 0
    with torch.no_grad():
        for p in params:
            for k in (0, p.numel() - 1):
                flat = p.view(-1)
                old = float(flat[k])
                flat[k] = old + h
                up = NET(X)[:, 0].clone()
                flat[k] = old - h
                down = NET(X)[:, 0].clone()
                flat[k] = old
                assert torch.allclose(J[:, col + k], (up - down) / (2 * h), rtol=1e-6, atol=1e-8)
            col += p.numel()
    assert torch.equal(ne.jacobian(NET, X, chunk_size=2), J)


def test_empirical_ntk_is_the_jacobian_gram_matrix():
    J = ne.jacobian(NET, X)
    T = ne.empirical_ntk(NET, X)
    assert torch.allclose(T, J @ J.T, rtol=1e-12, atol=1e-12)
    T12 = ne.empirical_ntk(NET, X[:2], X[2:], chunk_size=1)
    assert T12.shape == (2, 3) and torch.allclose(T12, J[:2] @ J[2:].T, rtol=1e-12, atol=1e-12)
    assert torch.linalg.eigvalsh(T).min() > -1e-10


def test_linearized_model_is_the_first_order_expansion():
    lin = ne.LinearizedModel(NET)
    assert torch.allclose(lin(X), NET(X)) and lin.displacement() == 0.0
    J = ne.jacobian(NET, X)
    delta = [1e-3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(i), dtype=p.dtype)
             for i, p in enumerate(lin.params)]
    with torch.no_grad():
        for p, d in zip(lin.params, delta):
            p.add_(d)
    flat = torch.cat([d.reshape(-1) for d in delta])
    assert torch.allclose(lin(X)[:, 0], NET(X)[:, 0] + J @ flat, rtol=1e-12, atol=1e-12)
    assert lin.displacement() == pytest.approx(float(flat.norm()), rel=1e-12)
    # exactly linear in θ − θ₀: doubling the displacement doubles the change
    with torch.no_grad():
        for p, d in zip(lin.params, delta):
            p.add_(d)
    assert torch.allclose(lin(X)[:, 0] - NET(X)[:, 0], 2 * J @ flat, rtol=1e-10, atol=1e-12)


def test_one_hidden_layer_ntk_matches_the_empirical_ntk_per_member():
    T = ne.one_hidden_layer_ntk(PS, X, SW, SB)
    for k, net in enumerate(NETS):
        assert torch.allclose(T[k], ne.empirical_ntk(net, X), rtol=1e-12, atol=1e-12)
    # σ_b = 0: the constant term and the bias contributions vanish
    nets0 = [MLP(3, 16, 1, activation="relu", sigma_w=SW, sigma_b=0.0, generator=torch.Generator().manual_seed(5),
                 dtype=torch.float64)]
    T0 = ne.one_hidden_layer_ntk(ne._stacked_one_hidden_layer(nets0), X, SW, 0.0)
    assert torch.allclose(T0[0], ne.empirical_ntk(nets0[0], X), rtol=1e-12, atol=1e-12)


def test_catapult_ensemble_first_step_and_records():
    """The initial loss is ½ mean (f₀ − y)², η = ratio·2/λ_max(Θ/N); at a tiny ratio the loss falls monotonically and
    ``edge`` is ratio · λ_max(end)/λ_max(start) ≈ ratio; one step matches gradient descent done by hand."""
    nets = _relu_nets(seeds=(3,), width=64)
    y = torch.sin(X[:, 0])
    out = ne.catapult_ensemble(nets, [0.01, 0.5], 1, X, y)
    f0 = nets[0](X)[:, 0].detach()
    L0 = 0.5 * float(((f0 - y) ** 2).mean())
    assert out["initial"][0] == pytest.approx([L0, L0], rel=1e-12)
    lam = float(torch.linalg.eigvalsh(ne.empirical_ntk(nets[0], X) / 5)[-1])
    lr = 0.5 * 2 / lam
    net = nets[0]
    L1 = loss_after_one_step(net, X, y, lr)
    assert out["final"][0, 1] == pytest.approx(L1, rel=1e-9)
    assert out["peak"][0, 1] == pytest.approx(max(L0, L1), rel=1e-9)
    small = ne.catapult_ensemble(nets, [0.01], 30, X, y)
    assert small["final"][0, 0] < small["initial"][0, 0] and small["peak"][0, 0] == small["initial"][0, 0]
    assert small["edge"][0, 0] == pytest.approx(0.01, rel=0.05)
