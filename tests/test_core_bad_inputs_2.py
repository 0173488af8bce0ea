"""Bad inputs of train, checks, device, diagnostics, data.classification and models (second round, issue 21).

Each bad call must end in an error that names the argument (or, for the checkers, in a failed check);
the valid calls beside them must keep their results.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import checks, device, diagnostics
from course_utils.data import arithmetic, classification
from course_utils.models import deep_linear, grokking, mlp, silu_net
from course_utils.train import History, train
from course_utils.validate import ArgumentError


# --- train.History.record -------------------------------------------------------------------------

@pytest.mark.parametrize("step", [-1, 2.5, math.nan, math.inf, "1", None, [1], print])
def test_record_names_a_bad_step(step):
    with pytest.raises(ArgumentError, match=r"\bstep\b"):
        History().record(step, loss=0.1)


@pytest.mark.parametrize("step", [0, 1])
def test_record_names_a_step_that_does_not_increase(step):
    h = History()
    h.record(1, loss=0.1)
    with pytest.raises(ArgumentError, match=r"\bstep\b.*steps must increase"):
        h.record(step, loss=0.2)


@pytest.mark.parametrize("value", ["abc", None, print, {"a": 1}, ["a"]])
def test_record_names_a_value_that_is_not_a_number(value):
    with pytest.raises(ArgumentError, match=r"\bloss\b"):
        History().record(0, loss=value)


def test_record_keeps_valid_values_and_nan_measurements():
    h = History()
    h.record(np.int64(0), loss=torch.tensor(0.5), acc=1)
    h.record(3, loss=math.nan, acc=0.5)
    assert h.steps == [0, 3] and isinstance(h.steps[0], int)
    assert h["acc"].tolist() == [1.0, 0.5] and math.isnan(h["loss"][1])


# --- train.train: inputs the model cannot take ------------------------------------------------------

@pytest.mark.parametrize("shape", [(16, 2), (16, 3, 1), (16, 4)])
def test_train_names_X_when_the_model_cannot_take_it(shape):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    with pytest.raises(ArgumentError, match=r"\bX\b"):
        train(model, torch.nn.functional.mse_loss, torch.randn(*shape), torch.randn(16, 1), steps=2, lr=0.1,
              progress=False)


def test_train_with_valid_X_is_unchanged_by_the_check():
    def run():
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 1)
        X, y = torch.randn(16, 3), torch.randn(16, 1)
        return train(model, torch.nn.functional.mse_loss, X, y, steps=5, lr=0.1, batch_size=4, progress=False)
    a, b = run(), run()
    assert a["loss"].tolist() == b["loss"].tolist() and len(a["loss"]) >= 1


# --- checks ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["measured", "predicted"])
@pytest.mark.parametrize("bad", [[1.0, math.nan], [1.0, math.inf], "abc", print, None])
def test_relative_error_names_the_bad_argument(which, bad):
    args = {"measured": [1.0, 2.0], "predicted": [1.0, 2.5]}
    args[which] = bad
    with pytest.raises(ArgumentError, match=rf"\b{which}\b"):
        checks.relative_error(**args)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=5), st.data())
def test_relative_error_of_finite_input_is_the_formula(p, data):
    p = np.array(p)
    if np.linalg.norm(p) == 0:
        p = p + 1.0
    m = np.array(data.draw(st.lists(st.floats(-1e6, 1e6), min_size=p.size, max_size=p.size)))
    assert checks.relative_error(m, p) == float(np.linalg.norm(m - p) / np.linalg.norm(p))


def test_check_less_never_passes_minus_infinity():
    with pytest.raises(AssertionError, match="the value is infinite"):
        checks.check_less("error", -math.inf, 0.01)


def test_check_less_verdicts_of_finite_values_are_unchanged(capsys):
    checks.check_less("error", 0.0031, 0.01)
    assert capsys.readouterr().out.strip() == "✓ error: 0.0031 < 0.01"
    with pytest.raises(AssertionError, match="✗ error: 0.02 ≮ 0.01"):
        checks.check_less("error", 0.02, 0.01)


# --- device --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, -1, 2.5, math.nan, "1", [1, 1], print])
def test_setup_names_num_threads(bad):
    with pytest.raises(ArgumentError, match=r"\bnum_threads\b"):
        device.setup(num_threads=bad, verbose=False)


@pytest.mark.parametrize("bad", ["gpu", "tpu"])
def test_setup_names_device_and_pick_device_names_prefer(bad):
    with pytest.raises(ArgumentError, match=r"\bdevice\b"):
        device.setup(device=bad, verbose=False)
    with pytest.raises(ArgumentError, match=r"\bprefer\b"):
        device.pick_device(bad)


# --- diagnostics ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 6), (6, 6, 1), (6, 5), (36,)])
def test_relative_kernel_change_names_both_kernels(shape):
    K = torch.eye(6)
    with pytest.raises(ArgumentError, match=r"\bkernel\b.*\binitial\b"):
        diagnostics.relative_kernel_change(torch.ones(shape), K)
    with pytest.raises(ArgumentError, match=r"\binitial\b"):
        diagnostics.relative_kernel_change(K, torch.ones(shape))


def test_empirical_ntk_names_model_and_non_finite_X():
    from course_utils.theory.ntk_empirical import empirical_ntk
    for bad in (None, 3.0, np.ones(3)):
        with pytest.raises(ArgumentError, match=r"\bmodel\b"):
            empirical_ntk(bad, torch.randn(5, 3))
    net = mlp.MLP(3, 8, 1, 1, generator=torch.Generator().manual_seed(0))
    X = torch.randn(5, 3)
    K = empirical_ntk(net, X)
    assert K.shape == (5, 5) and bool(torch.isfinite(K).all())
    for v in (math.nan, math.inf):
        Xb = X.clone()
        Xb[0, 0] = v
        with pytest.raises(ArgumentError, match=r"\bX1\b"):
            empirical_ntk(net, Xb)


# --- data.classification ---------------------------------------------------------------------------

def test_balanced_indices_names_y():
    with pytest.raises(ArgumentError, match=r"\by\b"):
        classification.balanced_indices(torch.tensor([], dtype=torch.long), 1)
    with pytest.raises(ArgumentError, match=r"\by\b"):
        classification.balanced_indices(torch.tensor([-1, 0, 0, 1, 1]), 2)


def test_load_fashion_mnist_refuses_an_empty_url(tmp_path):
    with pytest.raises(ArgumentError, match=r"\burl\b"):
        classification.load_fashion_mnist(cache=tmp_path, url="")


# --- models ----------------------------------------------------------------------------------------

def test_torch_activation_and_mlp_forward_name_their_arguments():
    for bad in ("no-such", "", None, 3):
        with pytest.raises(ArgumentError, match=r"\bname\b.*unknown activation"):
            mlp.torch_activation(bad)
    net = mlp.MLP(3, 8, 1, 1, generator=torch.Generator().manual_seed(0))
    for shape in ((5, 2), (5, 3, 1), (15,)):
        with pytest.raises(ArgumentError, match=r"\bx\b"):
            net(torch.randn(shape))
    with pytest.raises(ArgumentError, match=r"\breturn_preactivations\b"):
        net(torch.randn(5, 3), return_preactivations="yes")


def test_deep_linear_names_weights_and_target_map():
    W1, W2 = torch.randn(5, 4), torch.randn(3, 5)
    with pytest.raises(ArgumentError, match=r"\bweights\b"):
        deep_linear.end_to_end([])
    with pytest.raises(ArgumentError, match=r"\bweights\b"):
        deep_linear.end_to_end([W1.T, W2])
    for M in (torch.randn(2, 4), torch.randn(3, 3), torch.randn(12), torch.randn(0, 4)):
        with pytest.raises(ArgumentError, match=r"\btarget_map\b"):
            deep_linear.whitened_loss([W1, W2], M)


def test_grokking_names_seeds_pairs_models_targets_n_train():
    with pytest.raises(ArgumentError, match=r"\bseeds\b"):
        grokking.BatchedToyAdditionModel(2, p=5, width=8, out_dim=4, seeds=[0])
    model = grokking.BatchedToyAdditionModel(2, p=5, width=8, out_dim=4)
    pairs = arithmetic.addition_table(5)[0]
    out = model(pairs)
    assert out.shape[:2] == (2, pairs.shape[0])
    bad = pairs.clone()
    bad[0, 0] = -1
    with pytest.raises(ArgumentError, match=r"\bpairs\b"):
        model(bad)
    with pytest.raises(ArgumentError, match=r"\bmodels\b"):
        grokking.BatchedToyAdditionModel.from_members([])
    for n_train in ([0, 10], [-1, 10]):
        with pytest.raises(ArgumentError, match=r"\bn_train\b"):
            arithmetic.split_masks(15, n_train=n_train, seeds=[0, 1])
    with pytest.raises(ArgumentError, match=r"\btargets\b"):
        grokking.nearest_target_accuracy(torch.randn(6, 4), torch.zeros(0, 4), torch.zeros(6, dtype=torch.long))


def test_silu_net_unflatten_names_like():
    params = silu_net.init_params(3, 4, 2, generator=torch.Generator().manual_seed(0)) \
        if "generator" in silu_net.init_params.__code__.co_varnames else silu_net.init_params(3, 4, 2)
    vec = silu_net.flatten_params(params)
    for bad in (None, {}, "params", dict(params, U=torch.zeros(2, 3))):
        with pytest.raises(ArgumentError, match=r"\blike\b"):
            silu_net.unflatten_params(vec, bad)
    back = silu_net.unflatten_params(vec, params)
    assert all(torch.equal(back[k], params[k]) for k in params)


def test_random_projection_names_spectrum_when_it_is_too_short():
    from course_utils.models import random_projection
    with pytest.raises(ArgumentError, match=r"\bsizes\b.*\bspectrum\b"):
        random_projection.resolution_limited_losses(np.ones(3), [2, 4], limit="data", draws=1,
                                                    rng=np.random.default_rng(0))
