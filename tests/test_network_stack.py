"""One network stack: the parameterisation is an argument of both the single MLP and the BatchedMLP ensemble,
and member k of an ensemble is exactly the single network drawn from seed k."""

import math

import pytest
import torch

from course_utils.ensemble import BatchedMLP, BatchedSGD, mse_per_sample, train_ensemble
from course_utils.models.mlp import MLP, initial_stds, layer_multipliers
from course_utils.train import train
from course_utils.validate import ArgumentError


def test_layer_multipliers_known_values():
    assert layer_multipliers("standard", 16, 1.5, 0.2) == (1.0, 1.0)
    assert layer_multipliers("ntk", 16, 1.5, 0.2) == pytest.approx((1.5 / 4, 0.2))
    assert layer_multipliers("ntk", 16, 1.5, 0.2, last=True) == pytest.approx((1.5 / 4, 0.2))
    assert layer_multipliers("mean_field", 16, 1.5, 0.2) == pytest.approx((1.5 / 4, 0.2))
    assert layer_multipliers("mean_field", 16, 1.5, 0.2, last=True) == pytest.approx((1.5 / 16, 0.2))
    assert initial_stds("standard", 16, 1.5, 0.2) == pytest.approx((1.5 / 4, 0.2))
    assert initial_stds("ntk", 16, 1.5, 0.2) == (1.0, 1.0)
    with pytest.raises(ArgumentError, match="parameterization"):
        layer_multipliers("muP", 16, 1.5, 0.2)


def test_mean_field_output_is_the_ntk_output_over_root_width():
    """Same draws; only the output layer's weight multiplier differs, σ_w/n instead of σ_w/√n (without output
    bias, σ_b = 0, the whole output is divided by √n)."""
    X = torch.randn(9, 3, dtype=torch.float64)
    for width in (8, 50):
        f_ntk, f_mf = (MLP(3, width, 2, 1, activation="tanh", sigma_b=0.0, parameterization=p, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(4))(X) for p in ("ntk", "mean_field"))
        torch.testing.assert_close(f_mf, f_ntk / math.sqrt(width))


def test_ntk_and_standard_draw_the_same_function():
    X = torch.randn(5, 3, dtype=torch.float64)
    f = [MLP(3, 12, 2, 2, activation="erf", sigma_b=0.3, parameterization=p, dtype=torch.float64,
             generator=torch.Generator().manual_seed(1))(X) for p in ("ntk", "standard")]
    torch.testing.assert_close(f[0], f[1])


@pytest.mark.parametrize("parameterization", ["standard", "ntk", "mean_field"])
def test_members_are_the_single_networks(parameterization):
    X = torch.randn(7, 3, dtype=torch.float64)
    seeds, scales = [5, 6, 9], [1.0, 2.0, 0.5]
    ens = BatchedMLP(3, [3, 16, 16, 2], "erf", parameterization=parameterization, init="gaussian", seeds=seeds,
                     init_scale=scales, sigma_b=0.3).double()
    out = ens(X)
    for k, (s, c) in enumerate(zip(seeds, scales)):
        single = MLP(3, 16, 2, 2, activation="erf", parameterization=parameterization, sigma_b=0.3,
                     generator=torch.Generator().manual_seed(s)).double()   # drawn in the default dtype, as members are
        with torch.no_grad():
            for p in single.parameters():
                p.mul_(c)
        torch.testing.assert_close(out[k], single(X))
        member = ens.member(k)
        assert isinstance(member, MLP) and member.parameterization == parameterization
        torch.testing.assert_close(member(X), single(X))
    torch.testing.assert_close(BatchedMLP.from_members([ens.member(k) for k in range(3)])(X), out)


def test_ntk_ensemble_trains_as_each_member_alone():
    """Gradient descent on the ensemble = gradient descent on each MLP alone (the multipliers are in the
    gradients too)."""
    X = torch.randn(12, 2, dtype=torch.float64)
    y = torch.sin(X[:, :1] * 2)
    nets = [MLP(2, 32, 1, 1, activation="relu", parameterization="ntk", dtype=torch.float64,
                generator=torch.Generator().manual_seed(s)) for s in range(3)]
    ens = BatchedMLP.from_members(nets)
    train_ensemble(ens, mse_per_sample, X, y, steps=30, optimizer=BatchedSGD(ens.parameters(), lr=0.3),
                   progress=False)
    for k, net in enumerate(nets):
        train(net, torch.nn.MSELoss(), X, y, steps=30, lr=0.3, progress=False)
        torch.testing.assert_close(ens.member(k)(X), net(X), rtol=1e-10, atol=1e-12)


def test_bad_combinations_are_refused():
    with pytest.raises(ArgumentError, match="init='gaussian'"):
        BatchedMLP(2, [3, 8, 1], parameterization="ntk", init="uniform")
    with pytest.raises(ArgumentError, match="init='gaussian'"):
        BatchedMLP(2, [3, 8, 1], init="normal", sigma_w=2.0)
    with pytest.raises(ArgumentError, match="one width"):
        BatchedMLP(2, [3, 8, 4, 1], parameterization="ntk")
    ens = BatchedMLP(2, [3, 8, 1], "relu", parameterization="ntk")
    wrong = [MLP(3, 8, 1, 1, parameterization="mean_field", generator=torch.Generator().manual_seed(0))] * 2
    with pytest.raises(ArgumentError, match="cannot be a member"):
        ens.load_members(wrong)
    mixed = [MLP(3, 8, 1, 1, parameterization=p, generator=torch.Generator().manual_seed(0)) for p in ("ntk", "standard")]
    with pytest.raises(ArgumentError, match="share parameterization"):
        BatchedMLP.from_members(mixed)


def test_from_members_of_a_subclass_is_a_plain_ensemble():
    """BatchedNTKMLP has MLP-style sizes in its constructor; stacking members through it still works."""
    from course_utils.theory.ntk_ensemble import BatchedNTKMLP

    nets = [MLP(2, 8, 1, 1, parameterization="ntk", generator=torch.Generator().manual_seed(s)) for s in range(2)]
    ens = BatchedNTKMLP.from_members(nets)
    assert type(ens) is BatchedMLP
    X = torch.randn(4, 2)
    torch.testing.assert_close(ens(X)[1], nets[1](X))
