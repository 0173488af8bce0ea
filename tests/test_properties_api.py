"""Property-based tests over the whole public API of course_utils (issue 21).

The registry ``tests/api_calls.py`` holds one valid call of every public function, class and
method. Here:

1. every public name has an entry (or a stated reason to have none), so a new function gets one;
2. every valid call runs and returns a finite result;
3. hypothesis replaces one argument of each call by a bad value (NaN/inf in data or in a
   hyperparameter, zero and negative sizes, wrong and mismatched shapes, strings and lists where
   numbers or tensors go, NumPy where torch goes, float32 against float64, None, a function where
   a value goes and a value where a function goes, unknown devices) and asks for either a
   ValueError/TypeError whose message names the argument, or a result without NaN/inf (a sensible
   conversion). A cryptic error, a NaN result or a call that does not answer within 5 s fails.

``tools/bad_inputs.py`` runs the same bad values exhaustively and writes ``benchmarks/bad_inputs.md``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import api_calls as A

#: Registry entries whose bad calls are known not to be clear yet: key → reason. Each is an
#: expected failure (xfail, not strict: a fixed one shows as XPASS). Meant to be emptied.
KNOWN_FAILURES: dict[str, str] = {}

#: Seconds before a call counts as a hang.
TIME_LIMIT = 5.0


@pytest.fixture(autouse=True)
def _scratch():
    """Every call runs in a scratch folder (a bad path must not litter the repository)."""
    with A.scratch_directory():
        yield


def _params(keys):
    return [pytest.param(k, marks=pytest.mark.xfail(reason=KNOWN_FAILURES[k], strict=False))
            if k in KNOWN_FAILURES else k for k in keys]


# ---------------------------------------------------------------------------------------------
# The registry covers the package
# ---------------------------------------------------------------------------------------------

def test_every_public_function_has_a_valid_call():
    public = set(A.public_api())
    missing = sorted(public - set(A.REGISTRY) - set(A.SKIPPED))
    assert not missing, ("public functions without an entry in tests/api_calls.py (add one valid call, "
                         f"or a reason in SKIPPED): {missing}")
    stale = sorted((set(A.REGISTRY) | set(A.SKIPPED)) - public)
    assert not stale, f"entries in tests/api_calls.py for names that are not public (renamed?): {stale}"
    assert not set(A.REGISTRY) & set(A.SKIPPED)
    assert all(reason.strip() for reason in A.SKIPPED.values())
    assert set(KNOWN_FAILURES) <= set(A.REGISTRY)


@pytest.mark.parametrize("key", sorted(A.REGISTRY))
def test_valid_call_runs_and_is_finite(key):
    call = A.REGISTRY[key]()
    outcome = A.run_call(call, seconds=TIME_LIMIT)
    assert outcome.kind == A.CONVERSION, f"the valid call of {key} fails: {outcome.kind}: {outcome.detail}"


# ---------------------------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------------------------

def _nan_at(value, index: int, what: float):
    if isinstance(value, torch.Tensor):
        out = value.detach().clone()
        out.view(-1)[index] = what
        return out
    out = np.array(value, dtype=float, copy=True)
    out.flat[index] = what
    return out


def bad_value_strategy(call: A.Call, name: str) -> st.SearchStrategy:
    """The fixed bad values of :func:`api_calls.candidates`, plus generated ones: NaN or inf at a
    random entry of an array, a random number of rows cut off, a random non-positive number."""
    value, fixed = call.kwargs[name], A.candidates(call, name)
    options = [st.sampled_from(fixed)] if fixed else [st.just(("the valid value", value))]
    floating = isinstance(value, torch.Tensor) and value.is_floating_point() or \
        isinstance(value, np.ndarray) and value.dtype.kind == "f"
    if floating and value.ndim:
        size = int(np.prod(value.shape))
        options.append(st.tuples(st.integers(0, size - 1), st.sampled_from([math.nan, math.inf, -math.inf])).map(
            lambda iw: (f"{iw[1]} at entry {iw[0]}", _nan_at(value, *iw))))
        if value.shape[0] > 2:
            options.append(st.integers(0, value.shape[0] - 1).map(lambda k: (f"first {k} rows", value[:k])))
    elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        options.append(st.integers(-1000, 0).map(lambda n: (f"the integer {n}", n)))
    elif isinstance(value, (float, np.floating)):
        options.append(st.floats(-1e6, 0.0).map(lambda x: (f"the number {x}", x)))
    return st.one_of(options)


def _examples(call: A.Call, seconds: float) -> int:
    """About three bad values per argument (two for the slower calls), at most 15 per function."""
    n = len(call.kwargs)
    return max(2, min(15, (3 if seconds < 0.1 else 2) * n))


@pytest.mark.parametrize("key", _params(sorted(A.REGISTRY)))
def test_bad_argument_gives_a_clear_error_or_a_finite_result(key):
    factory = A.REGISTRY[key]
    call = factory()
    if not call.kwargs:
        pytest.skip("no arguments")
    start = time.perf_counter()
    valid = A.run_call(call, seconds=TIME_LIMIT)
    if valid.kind != A.CONVERSION:
        pytest.fail(f"the valid call of {key} fails: {valid.detail}")
    arguments = sorted(call.kwargs)

    @settings(max_examples=_examples(call, time.perf_counter() - start), deadline=None, database=None,
              phases=(Phase.explicit, Phase.generate), report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def check(data):
        argument = data.draw(st.sampled_from(arguments), label="argument")
        fresh = factory()
        label, bad = data.draw(bad_value_strategy(fresh, argument), label="bad value")
        outcome = A.run_call(A.with_argument(fresh, argument, bad), argument=argument, seconds=TIME_LIMIT,
                             shape_change=A.is_shape_change(label))
        assert outcome.ok, f"{key}({argument}=<{label}>): {outcome.kind}: {outcome.detail}"

    check()


# ---------------------------------------------------------------------------------------------
# The judge itself: each kind of outcome is recognised (so the tests above can fail)
# ---------------------------------------------------------------------------------------------

def _clear(x):
    from course_utils import validate
    return validate.positive("x", x)


def _cryptic(x):
    return [1, 2][x]


def _silent_nan(x):
    return np.log(np.asarray(x, dtype=float) - 10.0)


def _unnamed(x):
    raise ValueError("something went wrong")


def _spins(x):
    while True:
        x = x + 1


@pytest.mark.parametrize("fn, value, kind", [
    (_clear, -1.0, A.CLEAR), (_clear, 2.0, A.CONVERSION), (_cryptic, 5, A.CRYPTIC),
    (_silent_nan, 1.0, A.GARBAGE), (_unnamed, 0, A.CRYPTIC), (_spins, 0, A.HANG),
])
def test_outcomes_are_classified(fn, value, kind):
    outcome = A.run_call(A.Call(fn, dict(x=value)), argument="x", seconds=0.3)
    assert outcome.kind == kind, outcome


def _mismatch(X, y):
    if len(y) != len(X):
        raise ValueError(f"y must have one entry per row, {len(X)}, got {len(y)}")
    return 1.0


def test_a_shape_mismatch_may_name_the_other_argument_but_nan_may_not():
    call = A.Call(_mismatch, dict(X=np.ones((4, 2)), y=np.ones(4)))
    assert A.run_call(call, seconds=2).kind == A.CONVERSION
    short = A.with_argument(call, "X", np.ones((3, 2)))
    assert A.run_call(short, argument="X", seconds=2, shape_change=True).kind == A.CLEAR
    assert A.run_call(short, argument="X", seconds=2, shape_change=False).kind == A.CRYPTIC
    assert A.is_shape_change("one row fewer") and A.is_shape_change("first 2 rows") and not A.is_shape_change("NaN")


def test_the_default_of_a_parameter_is_not_a_bad_value():
    call = A.Call(_defaulted, dict(x=1.0, device="cpu"))
    assert None not in [v for _, v in A.candidates(call, "device")]
    assert any(v is None for _, v in A.candidates(call, "x"))


def _defaulted(x, device=None):
    return x


def test_names_argument_matches_whole_words_only():
    assert A.names_argument("X must have 2 dimensions", "X")
    assert A.names_argument("the device for X is ...", "X")
    assert not A.names_argument("X_test must be finite", "X")
    assert not A.names_argument("max_iter must be positive", "iter")


def test_nonfinite_finds_nan_in_results_and_in_models():
    assert A.nonfinite({"a": [1.0, (np.array([1.0, np.nan]),)]})
    assert A.nonfinite(torch.tensor([1.0, float("inf")]))
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    assert A.nonfinite(model)
    assert A.nonfinite(A.Outcome("x", "y")) is None and A.nonfinite([1, "a", None, np.arange(3)]) is None


def test_bad_values_cover_the_kinds_of_the_issue():
    labels = {label for label, _ in A.bad_values("X", torch.zeros(4, 3, dtype=torch.float64))}
    assert {"NaN entry", "inf entry", "empty", "one row fewer", "one column fewer", "extra axis", "string", "None",
            "NumPy array", "float32", "function", "list"} <= labels
    assert {"zero", "negative", "NaN", "inf", "string", "None", "function"} <= {
        label for label, _ in A.bad_values("n", 3)}
    assert {"cuda (none here)", "gpu", "CPU"} <= {label for label, _ in A.bad_values("device", "cpu")} or \
        torch.cuda.is_available()
    assert {"number", "None"} <= {label for label, _ in A.bad_values("loss_fn", np.tanh)}


def test_nan_passes_lists_real_entries_and_arguments():
    """Every exemption in NAN_PASSES names a registered function and one of its arguments."""
    for key, arguments in A.NAN_PASSES.items():
        assert key in A.REGISTRY, key
        call = A.REGISTRY[key]()
        assert set(arguments) <= set(call.kwargs), (key, arguments, sorted(call.kwargs))


def test_nan_passes_exempts_only_the_listed_argument():
    def forward(x, w):
        return np.asarray(x) * w

    listed = A.Call(forward, dict(x=np.ones(3), w=1.0), nan_passes=("x",))
    assert A.run_call(A.with_argument(listed, "x", np.array([np.nan, 1, 1])), argument="x",
                      seconds=2).kind == A.NAN_PASSED
    assert A.run_call(A.with_argument(listed, "w", float("nan")), argument="w", seconds=2).kind == A.GARBAGE
    unlisted = A.Call(forward, dict(x=np.ones(3), w=1.0))
    assert A.run_call(A.with_argument(unlisted, "x", np.array([np.nan, 1, 1])), argument="x",
                      seconds=2).kind == A.GARBAGE


def test_training_that_diverges_is_a_clear_answer():
    from course_utils.train import TrainingDiverged

    def fit(lr):
        raise TrainingDiverged(f"diverged at step 3 with lr {lr}", step=3, lr=lr)

    assert A.run_call(A.Call(fit, dict(lr=1e9)), argument="lr", seconds=2).kind == A.CLEAR
