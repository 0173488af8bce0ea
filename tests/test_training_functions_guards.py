"""The training functions of the theory modules: bad arguments are named, divergence is never silent.

train_deep_linear (neural collapse), train_tracking_alignment (action), train_scaled_relu_net (scaled
init), train_centred (regimes), train_one_pass (compute-optimal), train_diagonal_networks (implicit bias).
"""

import math

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedAdam, BatchedSGD, online
from course_utils.models.deep_linear import DeepLinearNetwork
from course_utils.models.scaled_init import train_scaled_relu_net
from course_utils.models.silu_net import init_params
from course_utils.theory import action as A
from course_utils.theory import compute_optimal as co
from course_utils.theory import implicit_bias as ib
from course_utils.theory import neural_collapse as nc
from course_utils.theory import regimes_networks as rn
from course_utils.train import TrainingDiverged
from course_utils.validate import ArgumentError


def _deep_linear():
    rng = np.random.default_rng(7)
    X = torch.tensor(rng.standard_normal((12, 6)))
    Y = torch.nn.functional.one_hot(torch.tensor(np.arange(12) % 3), 3).double()
    net = DeepLinearNetwork(6, 5, 3, 2, init_scale=[0.1, 0.2], n_members=2, generator=torch.Generator().manual_seed(0))
    return net, X, Y


@pytest.mark.parametrize("change,name", [
    (dict(Y=torch.ones(12, 1, dtype=torch.float64)), "Y"),              # one column for 3 classes
    (dict(Y=torch.ones(11, 3, dtype=torch.float64)), "Y"), (dict(X=torch.ones(12, 5)), "X"),
    (dict(lr=float("nan")), "lr"), (dict(lr=[0.1, 0.1, 0.1]), "lr"), (dict(lr="fast"), "lr"),
    (dict(steps=2.5), "steps"), (dict(record=[0, 99]), "record"),
])
def test_train_deep_linear_names_bad_arguments(change, name):
    net, X, Y = _deep_linear()
    kw = dict(X=X, Y=Y, lr=0.1, steps=3) | change
    with pytest.raises(ArgumentError, match=name):
        nc.train_deep_linear(net, kw.pop("X"), kw.pop("Y"), **kw)


def test_train_deep_linear_raises_on_divergence_and_accepts_numpy():
    net, X, Y = _deep_linear()
    with pytest.raises(TrainingDiverged, match="members"):
        nc.train_deep_linear(net, X, Y, lr=[1e3, 0.1], steps=200, record=(0,))
    a, b = _deep_linear()[0], _deep_linear()[0]
    ha = nc.train_deep_linear(a, X, Y, lr=0.1, steps=5, record=(5,))
    hb = nc.train_deep_linear(b, X.numpy(), Y.numpy(), lr=0.1, steps=5, record=(5,))
    assert np.array_equal(ha["loss"], hb["loss"])


def test_train_tracking_alignment_and_scaled_relu_net():
    g = torch.Generator().manual_seed(0)
    z, y = torch.randn(20, 4, generator=g, dtype=torch.float64), torch.arange(20) % 3
    p = init_params(4, 8, 3, generator=g, dtype=torch.float64)
    for kw, name in [(dict(lr=float("nan")), "lr"), (dict(steps=0), "steps"), (dict(record_every=0), "record_every"),
                     (dict(steps=2.5), "steps")]:
        with pytest.raises(ArgumentError, match=name):
            A.train_tracking_alignment(p, (z, y), (z, y), **(dict(steps=3, lr=0.1) | kw), progress=False)
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        A.train_tracking_alignment(p, (z, y), (z, y), steps=20, lr=1e12, progress=False)
    X, Y = torch.randn(10, 3, generator=g), torch.randn(10, 2, generator=g)
    for kw, name in [(dict(lr=float("nan")), "lr"), (dict(width=0), "width"), (dict(alpha=float("nan")), "alpha"),
                     (dict(steps=-1), "steps")]:
        with pytest.raises(ArgumentError, match=name):
            train_scaled_relu_net(X, Y, **(dict(width=8, alpha=1.0, steps=2) | kw))
    with pytest.raises(TrainingDiverged, match="diverged"):
        train_scaled_relu_net(X, Y, width=8, alpha=1.0, steps=200, lr=1e3)


def test_train_centred_refuses_bad_shapes_and_hyperparameters():
    from course_utils.theory.ntk_ensemble import BatchedNTKMLP
    net = BatchedNTKMLP(2, 3, 16, 1, activation="relu", seeds=range(2), dtype=torch.float64)
    X, y, Xt = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, dtype=torch.float64), torch.randn(4, 3)
    for kw, name in [(dict(y=torch.randn(8, 1)), "y"), (dict(X_test=torch.randn(4, 2)), "X_test"),
                     (dict(scale=float("nan")), "scale"), (dict(lr=float("nan")), "lr"), (dict(steps=1.5), "steps")]:
        args = dict(X=X, y=y, X_test=Xt, steps=2, lr=0.1) | kw
        with pytest.raises(ArgumentError, match=name):
            rn.train_centred(net, args.pop("X"), args.pop("y"), args.pop("X_test"), progress=False, **args)


def test_train_one_pass_names_bad_arguments_and_keeps_diverged_members_nan():
    g = torch.Generator().manual_seed(0)
    teacher = co.QuadraticTeacher(4, 1.0, 0.0, g)
    model = online.padded_widths(4, [2, 2, 2], 1, [0, 1, 2], "quadratic")
    opt = BatchedAdam(model.parameters(), lr=1e-2)
    ok = dict(batch=8, record_steps=[0, 5], generator=g, evaluate=lambda: [0.0, 0.0, 0.0])
    for kw, name in [(dict(batch=0), "batch"), (dict(generator=0), "generator"), (dict(record_steps=[5, 1]), "record_steps"),
                     (dict(evaluate=3), "evaluate"), (dict(lr_schedule=lambda t: float("nan")), "lr_schedule"),
                     (dict(chunk_steps=1.5), "chunk_steps")]:
        with pytest.raises(ArgumentError, match=name):
            co.train_one_pass(model, teacher.sample, opt, **(ok | kw))
    with pytest.raises(ArgumentError, match="optimizer"):
        co.train_one_pass(model, teacher.sample, torch.optim.SGD(model.parameters(), lr=0.1), **ok)
    model = online.padded_widths(4, [2, 2, 2], 1, [0, 1, 2], "quadratic")
    opt = BatchedSGD(model.parameters(), lr=[1e6, 1e-3, 1e-3])
    out = co.train_one_pass(model, teacher.sample, opt, batch=8, record_steps=[0, 10, 20], generator=g,
                            evaluate=lambda: teacher.excess_loss(model).detach().numpy(), lr_schedule=lambda t: 1.0,
                            chunk_steps=4)
    assert np.isnan(out[-1, 0]) and np.isfinite(out[:, 1:]).all()


def test_train_diagonal_networks_names_bad_arguments():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5))
    ok = dict(escape_steps=2, converge_steps=2, beta_max=2.0, progress=False)
    for kw, name in [(dict(escape_steps=1.5), "escape_steps"), (dict(beta_max=float("nan")), "beta_max"),
                     (dict(curvature_fraction=-1.0), "curvature_fraction"), (dict(device="gpu"), "device")]:
        with pytest.raises(ArgumentError, match=name):
            ib.train_diagonal_networks(X, y, [0.1, 0.1], **(ok | kw))
    with pytest.raises(ArgumentError, match="alpha"):
        ib.train_diagonal_networks(X, y, [0.1, -0.1], **ok)
    Xn = X.copy()
    Xn[0, 0, 0] = np.nan
    with pytest.raises(ArgumentError, match="X"):
        ib.train_diagonal_networks(Xn, y, [0.1, 0.1], **ok)
    assert math.isfinite(ib.train_diagonal_networks(X, y, [0.1, 0.1], **ok)["loss"][0])
