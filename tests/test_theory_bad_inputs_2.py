"""Bad inputs of the theory modules that the 09:23 survey (benchmarks/bad_inputs.md) still answered with a
cryptic error or a value that was silently ignored: each now ends in an ArgumentError/ValueError that names
the argument. The valid calls come from the registry tests/api_calls.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import api_calls as A
from course_utils.theory import action as act
from course_utils.theory import compute_optimal as co
from course_utils.theory import kernels
from course_utils.theory import neural_collapse as nc
from course_utils.theory import ntk_ensemble as ne
from course_utils.theory import regimes_networks as rn
from course_utils.theory import scaling_regimes as sr
from course_utils.validate import ArgumentError


def _tracking(**change):
    kw = dict(params=A._silu_params(), train=A._action_data(), val=A._action_data(seed=1), steps=3, lr=0.1,
              record_every=1, progress=False)
    kw.update(change)
    return act.train_tracking_alignment(**kw)


def _nan_first(data):
    z = data[0].clone()
    z[0, 0] = float("nan")
    return z, data[1]


@pytest.mark.parametrize("change, match", [
    (dict(train=None), "^train must be a pair"),
    (dict(val=None), "^val must be a pair"),
    (dict(train=()), "^train must be a pair"),
    (dict(val="abc"), "^val must be a pair"),
    (dict(train=(A._action_data()[0],)), "^train must be a pair"),
    (dict(val=(A._action_data()[0].T, A._action_data()[1])), r"^val\[0\]"),
    (dict(train=_nan_first(A._action_data())), r"^train\[0\].*finite"),
    (dict(val=_nan_first(A._action_data(seed=1))), r"^val\[0\].*finite"),
    (dict(progress="no"), "^progress must be True or False"),
])
def test_train_tracking_alignment_names_the_data(change, match):
    with pytest.raises(ArgumentError, match=match):
        _tracking(**change)


def test_train_tracking_alignment_names_bad_params():
    p = A._silu_params()
    with pytest.raises(ArgumentError, match=r"^params\['W'\].*params\['U'\]"):
        _tracking(params={**p, "U": p["U"][:, :2]})
    p["U"] = p["U"].clone()
    p["U"][0, 0] = float("nan")
    with pytest.raises(ArgumentError, match=r"^params\['U'\].*finite"):
        _tracking(params=p)


def test_train_tracking_alignment_valid_call_unchanged():
    """The checks convert nothing on valid float64 input: the run equals the plain loop."""
    params, train, val = A._silu_params(), A._action_data(), A._action_data(seed=1)
    p, hist = act.train_tracking_alignment(params, train, val, steps=2, lr=0.1, progress=False)
    q = {k: params[k].clone() for k in act.PARAM_NAMES}
    for _ in range(2):
        g = torch.func.grad(act.action)(q, *train)
        q = {k: q[k] - 0.1 * g[k] for k in act.PARAM_NAMES}
    for k in act.PARAM_NAMES:
        assert torch.equal(p[k], q[k])


def test_general_term_include_bias_must_be_a_flag():
    z, y = A._action_data()
    with pytest.raises(ArgumentError, match="^include_bias must be True or False"):
        act.general_term(A._silu_params(), z, y, 3, 1, include_bias="no")


@pytest.mark.parametrize("W_L", [np.ones(15), np.ones((3, 5, 1))])
def test_readout_projector_names_W_L(W_L):
    with pytest.raises(ArgumentError, match="^the readout W_L must have 2 dimensions"):
        nc.readout_projector(W_L)


@pytest.mark.parametrize("model", [None, 1.5, "net", np.ones(3)])
def test_train_deep_linear_model_must_be_a_network(model):
    kw = A._train_deep_linear_call().kwargs
    with pytest.raises(ArgumentError, match="^model must be a DeepLinearNetwork"):
        nc.train_deep_linear(**{**kw, "model": model})


def test_train_deep_linear_record_names_steps_and_record():
    kw = A._train_deep_linear_call().kwargs
    with pytest.raises(ArgumentError, match=r"^record \(steps to record, 0 … steps = 0\)"):
        nc.train_deep_linear(**{**kw, "steps": 0})
    with pytest.raises(ArgumentError, match="^record must be a collection"):
        nc.train_deep_linear(**{**kw, "record": None})


@pytest.mark.parametrize("fn", [lambda v: nc.nc3(*_nc3_args(), center_classifier=v),
                                lambda v: nc.collapse_measures(*_cm_args(), center_classifier=v)])
def test_center_classifier_must_be_a_flag(fn):
    with pytest.raises(ArgumentError, match="^center_classifier must be True or False"):
        fn("yes")


def _nc3_args():
    rng = np.random.default_rng(0)
    H, y = rng.normal(size=(12, 4)), np.arange(12) % 3
    return rng.normal(size=(3, 4)), H, y


def _cm_args():
    W, H, y = _nc3_args()
    return H, y, W, H @ W.T


@pytest.mark.parametrize("momentum", ["abc", None, [0.5], len, float("nan"), 1.0, -0.1])
def test_train_centred_momentum_named(momentum):
    kw = A._train_centred_call().kwargs
    with pytest.raises(ArgumentError, match="^momentum"):
        rn.train_centred(**{**kw, "momentum": momentum})


def test_regimes_flags():
    kw = A._train_centred_call().kwargs
    with pytest.raises(ArgumentError, match="^progress must be True or False"):
        rn.train_centred(**{**kw, "progress": "no"})
    theta, X, y = A._rn_problem()[:3]
    with pytest.raises(ArgumentError, match="^need_g must be True or False"):
        rn.loss_gradient_hessian(theta, X, y, 5, need_g="yes")


def test_scaling_regimes_sample_counts_named():
    lam = A.spectrum(20)
    with pytest.raises(ArgumentError, match="^n must have 0 or 1"):
        sr.resolution_limited_loss_finite(lam, np.array([[2, 5]]))
    with pytest.raises(ArgumentError, match="^n must have 0 or 1"):
        sr.spectral_learning_curve(lam, A.spectrum(20, 2.0), np.array([[2, 5]]))


@settings(max_examples=25, deadline=None)
@given(n=st.floats(-10, 5.99))
def test_variance_limited_loss_names_n(n):
    with pytest.raises(ValueError, match=r"^n \(the larger size N\) must be ≥ N_s \+ 2"):
        sr.variance_limited_loss(0.1, 4, np.array([10.0, n]))


def test_joint_loss_shapes_must_broadcast():
    with pytest.raises(ArgumentError, match="^N and D must have shapes that broadcast"):
        co.joint_loss(np.ones(0), np.ones(2) * 100, (0.1, 1.0, 0.3, 1.0, 0.3))
    assert co.joint_loss(np.array([100.0]), np.array([1e3, 1e4]), (0.1, 1.0, 0.3, 1.0, 0.3)).shape == (2,)


def test_kernel_flags():
    k = np.array([1.0])
    with pytest.raises(ArgumentError, match="^derivative must be True or False"):
        kernels.gaussian_pair_expectation(k, 0.5 * k, k, derivative="yes")
    X = np.eye(3)
    with pytest.raises(ArgumentError, match="^return_layers must be True or False"):
        kernels.nngp_kernel(X, return_layers="yes")
    with pytest.raises(ArgumentError, match="^return_nngp must be True or False"):
        kernels.ntk_kernel(X, return_nngp="yes")
    with pytest.raises(ArgumentError, match="^discrete must be True or False"):
        kernels.kernel_regression_dynamics(np.eye(3), np.eye(3), np.ones(3), 1.0, lr=0.1,
                                           discrete="yes")
    with pytest.raises(ArgumentError, match="^discrete must be True or False"):
        ne.response_matrix(np.eye(3), np.eye(3), 1.0, lr=0.1, discrete="yes")
