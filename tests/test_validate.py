"""Tests of course_utils.validate: every bad argument ends in a message naming it."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import validate as v
from course_utils.validate import ArgumentError


def test_argument_error_is_value_and_type_error():
    assert issubclass(ArgumentError, ValueError) and issubclass(ArgumentError, TypeError)


@pytest.mark.parametrize("value, expected", [(3, 3), (np.int64(4), 4), (1e3, 1000), (torch.tensor(5), 5),
                                             (np.array(6), 6), (7.0, 7)])
def test_integer_accepts_whole_numbers(value, expected):
    out = v.integer("n", value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [2.5, True, np.bool_(False), None, "3", float("nan"), float("inf"), [3],
                                   np.array([3]), torch.tensor([1, 2]), 1 + 2j])
def test_integer_refuses_with_the_name(value):
    with pytest.raises(ArgumentError, match="^width must be an integer"):
        v.integer("width", value)


def test_integer_bounds_are_inclusive():
    assert v.integer("n", 2, low=2, high=2) == 2
    with pytest.raises(ArgumentError, match="≥ 2"):
        v.integer("n", 1, low=2)
    with pytest.raises(ArgumentError, match="≤ 2"):
        v.integer("n", 3, high=2)
    assert v.positive_int("n", 1) == 1 and v.nonnegative_int("n", 0) == 0
    with pytest.raises(ArgumentError):
        v.positive_int("n", 0)
    with pytest.raises(ArgumentError):
        v.nonnegative_int("n", -1)


@given(st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=200, deadline=None)
def test_positive_accepts_exactly_the_finite_positive_floats(x):
    if math.isfinite(x) and x > 0:
        assert v.positive("lr", x) == x
    else:
        with pytest.raises(ArgumentError, match="^lr must be a finite number > 0"):
            v.positive("lr", x)


@given(st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=200, deadline=None)
def test_fraction_and_nonnegative(x):
    assert (0 <= x <= 1) == _accepts(v.fraction, x)
    assert (math.isfinite(x) and x >= 0) == _accepts(v.nonnegative, x)


def _accepts(f, x) -> bool:
    try:
        f("x", x)
    except ArgumentError:
        return False
    return True


def test_real_bounds_open_and_closed():
    assert v.real("x", 1.0, low=1.0) == 1.0
    with pytest.raises(ArgumentError, match="> 1"):
        v.real("x", 1.0, low=1.0, low_open=True)
    assert v.real("x", 2.0, high=2.0) == 2.0
    with pytest.raises(ArgumentError, match="< 2"):
        v.real("x", 2.0, high=2.0, high_open=True)
    assert v.real("x", float("inf"), finite=False) == float("inf")
    with pytest.raises(ArgumentError):
        v.real("x", float("nan"), finite=False)
    assert v.real("x", torch.tensor(0.5)) == 0.5 and v.real("x", np.float32(0.25)) == 0.25
    for bad in ["0.1", None, True, [0.1], np.ones(2), 1j]:
        with pytest.raises(ArgumentError, match="^x must be"):
            v.real("x", bad)


def test_array_converts_and_checks():
    a = v.array("X", [[1, 2], [3, 4]], ndim=2)
    assert a.dtype == np.float64 and a.shape == (2, 2)
    assert np.array_equal(v.array("X", torch.ones(3)), np.ones(3))
    with pytest.raises(ArgumentError, match="^X must have 1 dimension"):
        v.array("X", np.ones((2, 2)), ndim=1)
    with pytest.raises(ArgumentError, match="1 of its 3 entries are NaN"):
        v.array("X", [1.0, np.nan, 2.0])
    assert np.isnan(v.array("X", [np.nan], finite=False)[0])
    with pytest.raises(ArgumentError, match="must not be empty"):
        v.array("X", [])
    for bad in ["abc", None, {"a": 1}, [[1, 2], [3]], print]:
        with pytest.raises(ArgumentError, match="^X must be an array"):
            v.array("X", bad)


def test_named_shapes_must_agree_and_say_where_from():
    dims = v.Dims()
    v.array("X", np.ones((5, 3)), shape=("N", "d"), dims=dims)
    v.array("w", np.ones(3), shape=("d",), dims=dims)
    with pytest.raises(ArgumentError, match=r"y has shape \(4,\), expected \(N,\) with N = 5 \(from X, axis 0\)"):
        v.array("y", np.ones(4), shape=("N",), dims=dims)
    with pytest.raises(ArgumentError, match="axis 1 should be 2"):
        v.array("Z", np.ones((5, 3)), shape=("N", 2), dims=dims)
    with pytest.raises(ArgumentError, match="must have 2 dimensions"):
        v.array("Z", np.ones(5), shape=("N", None), dims=dims)
    known = v.Dims(K=4)
    with pytest.raises(ArgumentError, match="K = 4"):
        v.tensor("out", torch.ones(3, 2), shape=("K", "N"), dims=known)


def test_tensor_converts_numpy_lists_and_dtypes():
    t = v.tensor("X", np.ones((2, 3), dtype=np.float32))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.get_default_dtype()
    t = v.tensor("X", torch.ones(2, dtype=torch.float32), dtype=torch.float64)
    assert t.dtype == torch.float64
    t = v.tensor("X", torch.ones(2, dtype=torch.float32))
    assert t.dtype == torch.float32  # a tensor keeps its dtype unless one is asked for
    assert v.tensor("i", [1, 2]).dtype == torch.int64
    x = torch.ones(3)
    assert v.tensor("x", x) is x  # a valid tensor is passed through untouched
    with pytest.raises(ArgumentError, match="2 of its 3 entries"):
        v.tensor("X", [np.nan, 1.0, np.inf])
    for bad in ["abc", None, [[1], [2, 3]], np.array(["a"]), len]:
        with pytest.raises(ArgumentError, match="^X must be a tensor"):
            v.tensor("X", bad)


def test_choice_function_generator():
    assert v.choice("activation", " ReLU ", ["relu", "tanh"]) == "relu"
    with pytest.raises(ArgumentError, match="activation must be one of 'relu', 'tanh'"):
        v.choice("activation", "sigmoid", ["relu", "tanh"])
    with pytest.raises(ArgumentError):
        v.choice("activation", 3, ["relu"])
    assert v.function("f", len) is len
    for bad in [3, np.ones(2), torch.ones(2), None]:
        with pytest.raises(ArgumentError, match="f must be a function"):
            v.function("f", bad)
    g = np.random.default_rng(1)
    assert v.generator("rng", g) is g
    assert v.generator("rng", 3).integers(1 << 30) == np.random.default_rng(3).integers(1 << 30)
    for bad in [-1, 1.5, "seed", None]:
        with pytest.raises(ArgumentError, match="rng must be a numpy.random.Generator"):
            v.generator("rng", bad)


def test_device_any_case_and_missing_gpus():
    assert v.device("device", "CPU") == torch.device("cpu")
    assert v.device("device", torch.device("cpu")) == torch.device("cpu")
    for bad in ["gpu", 3, None, "tpu"]:
        with pytest.raises(ArgumentError, match="device"):
            v.device("device", bad)
    if not torch.cuda.is_available():
        with pytest.raises(ArgumentError, match="no CUDA GPU.*device='cpu'"):
            v.device("device", "CUDA")


def test_show_is_short():
    assert "shape (2, 3)" in v.show(torch.ones(2, 3)) and "NumPy" in v.show(np.ones(2))
    assert len(v.show("x" * 1000)) < 80
    assert v.show(3) == "3" and "(str)" in v.show("a")


# --- the helpers that models/_inputs.py and four theory modules held before ------------------

def test_broadcast_returns_the_common_shape_and_names_the_arrays():
    assert v.broadcast(t=np.zeros((5, 1)), lam=np.zeros(3), S=2.0) == (5, 3)
    with pytest.raises(ArgumentError, match=r"^the shapes of t, lam must broadcast.*t \(5,\), lam \(3,\)"):
        v.broadcast(t=np.zeros(5), lam=np.zeros(3))


@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_flag_accepts_booleans(value):
    out = v.flag("center", value)
    assert out is bool(value)


@pytest.mark.parametrize("value", ["no", 0, 1, None, 1.0, np.array([True])])
def test_flag_refuses_everything_else(value):
    with pytest.raises(ArgumentError, match="^center must be True or False"):
        v.flag("center", value)


def test_int_tensor_converts_whole_floats_and_checks_the_range():
    t = v.int_tensor("labels", [0.0, 2.0, 1.0], low=0, high=3)
    assert t.dtype == torch.int64 and t.tolist() == [0, 2, 1]
    same = torch.tensor([1, 2], dtype=torch.int32)
    assert v.int_tensor("labels", same).dtype == torch.int32
    assert v.int_tensor("labels", [0, 2], low=0, high=3).tolist() == [0, 2]   # both bounds reached: 0 and high − 1
    for bad, match in [([0.5, 1.0], "must hold integers"), ([float("nan")], "must hold integers"),
                       ([True, False], "must hold integers"), ([-1, 0], "entries ≥ 0, got a minimum of -1"),
                       ([0, 3], "entries < 3, got a maximum of 3")]:
        with pytest.raises(ArgumentError, match=match):
            v.int_tensor("labels", bad, low=0, high=3)


def test_bool_mask_makes_a_complementable_mask():
    m = v.bool_mask("mask", [1, 0, 1])
    assert m.dtype == torch.bool and (~m).tolist() == [False, True, False]
    assert v.bool_mask("mask", [1.0, 0.0]).tolist() == [True, False]
    b = torch.tensor([True, False])
    assert v.bool_mask("mask", b) is b
    with pytest.raises(ArgumentError, match="^mask must be a boolean mask"):
        v.bool_mask("mask", [0, 2])


def test_model_input_fast_path_conversion_and_shape():
    x = torch.zeros(4, 3, dtype=torch.float64)
    assert v.model_input("x", x, torch.float64, torch.device("cpu"), last=3) is x
    y = v.model_input("x", np.zeros((4, 3), dtype=np.float32), torch.float64, torch.device("cpu"), last=3)
    assert y.dtype == torch.float64 and y.shape == (4, 3)
    with pytest.raises(ArgumentError, match="has 2 features in its last axis .* expects 3"):
        v.model_input("x", torch.zeros(4, 2, dtype=torch.float64), torch.float64, torch.device("cpu"), last=3)
    with pytest.raises(ArgumentError, match="must have 2 or 3 dimensions, got shape \\(4,\\)"):
        v.model_input("x", torch.zeros(4, dtype=torch.float64), torch.float64, torch.device("cpu"), ndim=(2, 3))


def test_torch_generator_seed_list_and_float_dtype():
    g = v.torch_generator("generator", 3)
    assert torch.equal(torch.rand(2, generator=g), torch.rand(2, generator=torch.Generator().manual_seed(3)))
    assert v.torch_generator("generator", None) is None
    with pytest.raises(ArgumentError, match="^generator must be a torch.Generator"):
        v.torch_generator("generator", -1)
    assert v.seed_list("seeds", range(3)) == [0, 1, 2]
    assert v.seed_list("seeds", np.array([4, 5])) == [4, 5]
    with pytest.raises(ArgumentError, match=r"seeds\[1\]"):
        v.seed_list("seeds", [0, -1])
    with pytest.raises(ArgumentError, match="^seeds must be a sequence"):
        v.seed_list("seeds", 3)
    assert v.float_dtype("dtype", torch.float32) is torch.float32 and v.float_dtype("dtype", None) is None
    with pytest.raises(ArgumentError, match=r"^dtype must be a floating torch dtype such as torch.float64 \(or None\)"):
        v.float_dtype("dtype", torch.int64)
    with pytest.raises(ArgumentError, match="torch.float64, got None"):
        v.float_dtype("dtype", None, allow_none=False)


def test_probabilities_accepts_a_distribution_and_names_what_is_wrong():
    from course_utils import validate as V
    np.testing.assert_array_equal(V.probabilities("p", [0.25, 0.75]), [0.25, 0.75])
    assert V.probabilities("p", [1.0]).shape == (1,)
    V.probabilities("p", [0.5, 0.5 + 5e-10])                              # rounding-level sums pass
    for bad, match in [([0.5, 0.6], "summing to 1.1"), ([1.2, -0.2], "non-negative"), ([[0.5, 0.5]], "p"),
                       ([0.5, np.nan], "p"), ("abc", "p"), ([0.5, 0.5 + 2e-9], "summing to")]:
        with pytest.raises(ArgumentError, match=match):
            V.probabilities("p", bad)
    with pytest.raises(ArgumentError, match="at least 2 skill frequencies"):
        V.probabilities("p", [1.0], what="skill frequencies", min_size=2)
