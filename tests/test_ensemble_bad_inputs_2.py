"""Bad inputs to course_utils.ensemble (layers, grid, optim, training, online): a clear error naming the
argument, or a sensible conversion; valid inputs unchanged (second round of issue 21)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.ensemble import grid as G
from course_utils.ensemble import layers as L
from course_utils.ensemble import online as O
from course_utils.ensemble import optim as Opt
from course_utils.ensemble import training as T
from course_utils.validate import ArgumentError

BAD_INTS = [None, "3", 2.5, math.nan, math.inf, [2, 2], lambda: 1]


# --- layers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("arg", ["n_members", "in_features", "out_features"])
@pytest.mark.parametrize("bad", BAD_INTS + [0, -1])
def test_batched_linear_sizes_name_the_argument(arg, bad):
    kw = dict(n_members=2, in_features=3, out_features=4)
    kw[arg] = bad
    with pytest.raises(ValueError, match=arg):
        L.BatchedLinear(**kw)


@pytest.mark.parametrize("bad", BAD_INTS + [0])
def test_per_member_checks_n_members(bad):
    with pytest.raises(ArgumentError, match="n_members"):
        L.per_member([0.1, 0.2], bad, "lr")


@pytest.mark.parametrize("bad", ["abc", ["a", "b"], None, lambda: 1])
def test_per_member_refuses_non_numbers(bad):
    with pytest.raises(ArgumentError, match="lr"):
        L.per_member(bad, 2, "lr")


def test_per_member_refuses_bad_dtype_and_device():
    with pytest.raises(ArgumentError, match="dtype"):
        L.per_member(0.1, 2, "lr", dtype="float64")
    with pytest.raises(ArgumentError, match="device"):
        L.per_member(0.1, 2, "lr", device="gpu")


def test_per_member_valid_unchanged():
    t = L.per_member(np.array([0.1, 0.2]), 2, "lr")
    assert t.dtype == torch.float64 and t.tolist() == [0.1, 0.2]
    assert L.per_member(3, 2, "x", dtype=torch.float32).tolist() == [3.0, 3.0]


def _blinear():
    lin = L.BatchedLinear(2, 3, 4)
    lin.load_linears([torch.nn.Linear(3, 4), torch.nn.Linear(3, 4)])
    return lin


def test_batched_linear_forward_converts_numpy_and_float64():
    lin = _blinear()
    x = torch.randn(5, 3)
    expected = lin(x)
    assert torch.equal(lin(x.numpy()), expected)
    out64 = lin(x.double())
    assert out64.dtype == torch.float32 and torch.equal(out64, expected)


@pytest.mark.parametrize("bad", ["abc", None, lambda: 1])
def test_batched_linear_forward_refuses_non_tensors(bad):
    with pytest.raises(ArgumentError, match=r"\bx\b"):
        _blinear()(bad)


def test_batched_linear_forward_shape_names_x():
    with pytest.raises(ValueError, match=r"input must have shape.*got x of shape \(2, 5, 2\)"):
        _blinear()(torch.randn(5, 2))


@pytest.mark.parametrize("bad", BAD_INTS + [-1, 2])
def test_linear_and_member_index(bad):
    with pytest.raises(ValueError, match=r"\bk\b"):
        _blinear().linear(bad)
    with pytest.raises(ValueError, match=r"\bk\b"):
        L.BatchedMLP(2, [3, 5, 1]).member(bad)


@pytest.mark.parametrize("bad", [None, "ab", [1, 2], [torch.nn.Linear(3, 4), "x"]])
def test_load_linears_refuses_non_layers(bad):
    with pytest.raises(ArgumentError, match="linears"):
        L.BatchedLinear(2, 3, 4).load_linears(bad)


@pytest.mark.parametrize("bad", [None, "ab", []])
def test_members_refuse_non_networks(bad):
    with pytest.raises(ValueError, match="models"):
        L.BatchedMLP.from_members(bad)
    with pytest.raises(ValueError, match="models"):
        L.BatchedMLP(2, [3, 5, 1]).load_members(bad)


@pytest.mark.parametrize("bad", [None, "abc", [3, "a", 1], [3, math.nan, 1], [3, 2.5, 1]])
def test_sizes_checked(bad):
    with pytest.raises(ArgumentError, match="sizes"):
        L.mlp(bad)
    with pytest.raises(ArgumentError, match="sizes"):
        L.BatchedMLP(2, bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, "abc", None, [1.0]])
def test_mlp_init_scale_checked(bad):
    with pytest.raises(ArgumentError, match="init_scale"):
        L.mlp([3, 5, 1], init_scale=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, [1], lambda: 1])
def test_mlp_seed_checked(bad):
    with pytest.raises(ArgumentError, match="seed"):
        L.mlp([3, 5, 1], seed=bad)


@pytest.mark.parametrize("bad", ["abc", [0, "a"], [0, math.nan], [0]])
def test_batched_mlp_seeds_checked(bad):
    with pytest.raises(ValueError, match="seeds"):
        L.BatchedMLP(2, [3, 5, 1], seeds=bad)


def test_square_converts_numpy():
    assert torch.equal(L.Square()(np.array([2.0, -3.0])), torch.tensor([4.0, 9.0]))
    with pytest.raises(ArgumentError, match=r"\bz\b"):
        L.Square()("abc")


# --- grid -----------------------------------------------------------------------------------

def _labelled():
    g = G.Grid(lr=[0.01, 0.1], wd=[0.0, 1.0], seed=range(2))
    return g.to_array(g["lr"] * 10 + g["wd"] + g["seed"], name="x")


@pytest.mark.parametrize("bad", [None, 3, [0.1, math.nan], [0.1, math.inf]])
def test_grid_axis_checked(bad):
    with pytest.raises(ValueError, match="'lr'"):
        G.Grid(lr=bad)


@pytest.mark.parametrize("bad", [None, "abc", lambda: 1, np.arange(3.0)])
def test_to_array_names_values(bad):
    with pytest.raises(ValueError, match="values"):
        G.Grid(lr=[0.1, 0.2], seed=range(2)).to_array(bad)


@pytest.mark.parametrize("bad", [None, 1.0, "abc"])
def test_from_array_needs_a_labelled_array(bad):
    with pytest.raises(ArgumentError, match="array"):
        G.Grid(lr=[0.1, 0.2]).from_array(bad)


def test_labelled_array_constructor_checked():
    with pytest.raises(ArgumentError, match="dims"):
        G.LabelledArray(np.zeros((2, 2)), "ab", dict(a=[1, 2], b=[1, 2]))
    with pytest.raises(ArgumentError, match="dims"):
        G.LabelledArray(np.zeros((2, 2)), None, dict(a=[1, 2], b=[1, 2]))
    for coords in (None, {}, "ab"):
        with pytest.raises(ArgumentError, match="coords"):
            G.LabelledArray(np.zeros((2, 2)), ("a", "b"), coords)
    with pytest.raises(ArgumentError, match="values"):
        G.LabelledArray(None, ("a",), dict(a=[1]))


@pytest.mark.parametrize("bad", ["no-such", "", None, 3])
def test_reductions_name_dim(bad):
    arr = _labelled()
    for method in (arr.mean, arr.median, arr.reduce):
        with pytest.raises(ValueError, match=r"\bdim\b"):
            method(bad)


def test_reduce_fn_and_sel_and_phase_diagram():
    arr = _labelled()
    with pytest.raises(ArgumentError, match="fn"):
        arr.reduce("seed", fn="mean")
    for bad in ("abc", None, lambda: 1):
        with pytest.raises(ValueError, match=r"\bseed="):
            arr.sel(seed=bad)
    mean = arr.mean("seed")
    for bad in ("no-such", "", None, 3):
        with pytest.raises(ValueError, match=r"\bx\b"):
            mean.for_phase_diagram(x=bad, y="wd")
        with pytest.raises(ValueError, match=r"\by\b"):
            mean.for_phase_diagram(x="lr", y=bad)
    assert mean.for_phase_diagram(x="lr", y="wd")["values"].shape == (2, 2)


# --- optim ----------------------------------------------------------------------------------

def _params():
    return [torch.nn.Parameter(torch.randn(2, 3, 4)), torch.nn.Parameter(torch.randn(2, 1, 4))]


@pytest.mark.parametrize("cls", [Opt.BatchedSGD, Opt.BatchedAdam, Opt.BatchedAdamW])
def test_optimisers_check_params_and_lr(cls):
    for bad in (None, [], torch.zeros(2, 3), "abc"):
        with pytest.raises(ArgumentError, match="params"):
            cls(bad, lr=0.1)
    p = _params()
    with torch.no_grad():
        p[0][0, 0, 0] = math.nan
    with pytest.raises(ArgumentError, match="params"):
        cls(p, lr=0.1)
    for bad in ("abc", ["a", "b"], lambda: 1):
        with pytest.raises(ArgumentError, match="lr"):
            cls(_params(), lr=bad)
    with pytest.raises(ArgumentError, match="weight_decay"):
        cls(_params(), lr=0.1, weight_decay=lambda: 1)


@pytest.mark.parametrize("bad", ["abc", None, [0.9], math.nan, 1.0, -0.1])
def test_sgd_momentum_checked(bad):
    with pytest.raises(ValueError, match="momentum"):
        Opt.BatchedSGD(_params(), lr=0.1, momentum=bad)


@pytest.mark.parametrize("cls", [Opt.BatchedAdam, Opt.BatchedAdamW])
def test_adam_betas_and_eps_checked(cls):
    for bad in (None, (), "ab", (0.9, "a"), (0.9,), (0.9, math.nan), (0.9, 1.0)):
        with pytest.raises(ValueError, match="betas"):
            cls(_params(), betas=bad)
    for bad in (math.nan, math.inf, "abc", None, [1e-8], -1.0):
        with pytest.raises(ValueError, match="eps"):
            cls(_params(), eps=bad)


def test_optimiser_valid_step_unchanged():
    torch.manual_seed(0)
    p1, p2 = _params(), None
    p2 = [torch.nn.Parameter(p.detach().clone()) for p in p1]
    for p, q in zip(p1, p2):
        p.grad = torch.ones_like(p)
        q.grad = torch.ones_like(q)
    Opt.BatchedAdam(p1, lr=[0.01, 0.02]).step()
    Opt.BatchedAdam((q for q in p2), lr=np.array([0.01, 0.02])).step()   # a generator works as before
    for p, q in zip(p1, p2):
        assert torch.equal(p, q)


# --- training -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", BAD_INTS + [0, -1])
def test_history_n_members(bad):
    with pytest.raises(ArgumentError, match="n_members"):
        T.EnsembleHistory(bad)


def _hist():
    h = T.EnsembleHistory(2)
    h.record(0, loss=torch.tensor([1.0, 2.0]))
    h.record(10, loss=torch.tensor([0.5, 1.5]))
    return h


@pytest.mark.parametrize("bad", [None, "20", 2.5, math.nan, math.inf, [20], 0, -1])
def test_history_record_step(bad):
    with pytest.raises(ValueError, match=r"\bstep\b"):
        _hist().record(bad, loss=torch.tensor([0.1, 0.2]))


@pytest.mark.parametrize("bad", [None, "abc", lambda: 1])
def test_history_record_values(bad):
    with pytest.raises(ArgumentError, match="loss"):
        _hist().record(20, loss=bad)


@pytest.mark.parametrize("bad", BAD_INTS + [-1, 2])
def test_history_member_names_k(bad):
    with pytest.raises(ValueError, match=r"member index must be in \[0, 2\).*\bk\b"):
        _hist().member(bad)


def test_losses_convert_numpy_and_name_arguments():
    out, target = torch.randn(2, 5, 3), torch.randn(5, 3)
    assert torch.equal(T.mse_per_sample(out.numpy(), target.numpy()), T.mse_per_sample(out, target))
    for bad in ("abc", None, lambda: 1):
        with pytest.raises(ArgumentError, match="output"):
            T.mse_per_sample(bad, target)
        with pytest.raises(ArgumentError, match="target"):
            T.mse_per_sample(out, bad)
    logits, labels = torch.randn(2, 6, 3), torch.tensor([0, 1, 2] * 2)
    assert torch.equal(T.cross_entropy_per_sample(logits.numpy(), labels.numpy()),
                       T.cross_entropy_per_sample(logits, labels))
    with pytest.raises(ArgumentError, match="labels"):
        T.cross_entropy_per_sample(logits, torch.tensor([0, 1, 2, 0, 1, -1]))
    with pytest.raises(ArgumentError, match="labels"):
        T.cross_entropy_per_sample(logits[..., :2], labels)
    for bad in ("abc", None):
        with pytest.raises(ArgumentError, match="logits"):
            T.cross_entropy_per_sample(bad, labels)
        with pytest.raises(ArgumentError, match="labels"):
            T.cross_entropy_per_sample(logits, bad)


def test_accuracy_checks_shapes_and_types():
    logits, labels = torch.randn(2, 6, 3), torch.tensor([0, 1, 2] * 2)
    weight = torch.tensor([1.0, 1, 1, 0, 0, 1])
    expected = T.accuracy(logits, labels, weight)
    assert torch.equal(T.accuracy(logits.numpy(), labels.numpy(), weight.numpy()), expected)
    for bad_labels in (labels[:5], labels[:, None], torch.tensor([])):
        with pytest.raises(ArgumentError, match="labels"):
            T.accuracy(logits, bad_labels)
    for bad_weight in (weight[:5], weight[:, None], "abc"):
        with pytest.raises(ArgumentError, match="weight"):
            T.accuracy(logits, labels, bad_weight)
    with pytest.raises(ArgumentError, match="logits"):
        T.accuracy("abc", labels)


def test_first_step_functions_checked():
    h = _hist()
    for bad in (None, 1.0, "abc"):
        with pytest.raises(ArgumentError, match="history"):
            T.first_step_reaching(bad, "loss", 1.0)
    for bad in ("no-such", "", None, 3):
        with pytest.raises(ArgumentError, match="name"):
            T.first_step_reaching(h, bad, 1.0)
    for bad in ("abc", None, lambda: 1, math.nan):
        with pytest.raises(ArgumentError, match="threshold"):
            T.first_step_reaching(h, "loss", bad)
    with pytest.raises(ArgumentError, match="steps"):
        T.first_step_crossing("abc", [1.0], 0.5)
    with pytest.raises(ArgumentError, match="values"):
        T.first_step_crossing([0], "abc", 0.5)
    np.testing.assert_array_equal(T.first_step_reaching(h, "loss", 1.0, above=False), [0.0, np.nan])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=1, max_size=6), st.floats(-5, 5))
def test_first_step_crossing_matches_a_loop(values, threshold):
    steps = list(range(0, 10 * len(values), 10))
    expected = next((s for s, v in zip(steps, values) if v >= threshold), math.nan)
    got = float(T.first_step_crossing(steps, values, threshold))
    assert got == expected or (math.isnan(got) and math.isnan(expected))


def test_train_ensemble_checks_x_against_the_model_and_per_member_data():
    model = L.BatchedMLP(2, [3, 5, 1], seeds=[0, 1])
    X, y = torch.randn(8, 3), torch.randn(8, 1)
    kw = dict(loss_fn=T.mse_per_sample, y=y, steps=2, progress=False)
    for bad_x in (X[:, :2], X[..., None]):
        with pytest.raises(ArgumentError, match=r"^X must have shape \(N, 3\)"):
            T.train_ensemble(model, X=bad_x, optimizer=Opt.BatchedSGD(model.parameters(), lr=0.1), **kw)
    with pytest.raises(ArgumentError, match="per_member_data"):
        T.train_ensemble(model, X=X, optimizer=Opt.BatchedSGD(model.parameters(), lr=0.1),
                         per_member_data="yes", **kw)


# --- online ---------------------------------------------------------------------------------

@pytest.mark.parametrize("arg", ["input_dim", "n_out"])
@pytest.mark.parametrize("bad", BAD_INTS + [0, -1])
def test_padded_widths_sizes(arg, bad):
    kw = dict(input_dim=8, widths=[4, 6], n_out=2, seeds=[0, 1])
    kw[arg] = bad
    with pytest.raises(ArgumentError, match=arg):
        O.padded_widths(**kw)


@pytest.mark.parametrize("arg", ["widths", "seeds"])
@pytest.mark.parametrize("bad", [None, "ab", [4, math.nan], [4, "a"]])
def test_padded_widths_lists(arg, bad):
    kw = dict(input_dim=8, widths=[4, 6], n_out=2, seeds=[0, 1])
    kw[arg] = bad
    with pytest.raises(ArgumentError, match=arg):
        O.padded_widths(**kw)


def test_padding_leak_and_task_sampler_checked():
    net = O.padded_widths(8, [4, 6], 2, [0, 1])
    assert O.padding_leak(net, [4, 6]) == 0.0
    for bad in (None, 1.0, "abc", np.zeros(3)):
        with pytest.raises(ArgumentError, match="model"):
            O.padding_leak(bad, [4, 6])
    for bad in (None, "ab", [4, math.nan]):
        with pytest.raises(ArgumentError, match="widths"):
            O.padding_leak(net, bad)
    for bad in (None, "abc", [1, 2]):
        with pytest.raises(ArgumentError, match="tasks"):
            O.task_sampler(bad)
    with pytest.raises(ValueError, match="tasks"):
        O.task_sampler([])


def test_skill_scores_checked():
    net = O.padded_widths(8, [4, 6], 2, [0, 1])
    x, y = torch.randn(4, 8), torch.tensor([0, 1, 1, 0])
    good = O.skill_scores(net, x, y, 2)
    np.testing.assert_array_equal(O.skill_scores(net, x.numpy(), y.numpy(), 2)["acc"], good["acc"])
    for bad in (None, 1.0, "abc"):
        with pytest.raises(ArgumentError, match="model"):
            O.skill_scores(bad, x, y, 2)
    for bad in (None, "abc", lambda: 1, x[:, :7], x[..., None]):
        with pytest.raises(ArgumentError, match="x_test"):
            O.skill_scores(net, bad, y, 2)
    for bad in (None, "abc", y.double(), y[:, None], torch.tensor([0, 1, 1, -1])):
        with pytest.raises(ArgumentError, match="y_test"):
            O.skill_scores(net, x, bad, 2)
    for bad in BAD_INTS + [0, -1]:
        with pytest.raises(ArgumentError, match="n_skills"):
            O.skill_scores(net, x, y, bad)


def test_unloaded_batched_parameters_are_nan_not_leftover_memory():
    """BatchedLinear / BatchedMLP(init=None) hold NaN until loaded: a forgotten load is seen at once."""
    lin = L.BatchedLinear(2, 3, 4)
    assert torch.isnan(lin.weight).all() and torch.isnan(lin.bias).all()
    assert torch.isnan(lin(torch.zeros(5, 3))).all()
    net = L.BatchedMLP(2, [3, 5, 1], init=None)
    assert all(torch.isnan(p).all() for p in net.parameters())
    assert torch.isfinite(_blinear().weight).all()
