"""Every exercise checker answers with a verdict: the reference answer passes, nothing else does.

The checkers are found by introspection (every public ``check_*`` of every module of
``course_utils.exercises``), so a new checker must be added to :data:`TABLE` below, with the
reference answer taken from its chapter's solution cell. Each checker is then called

- with the reference answer: ``True`` and a ``✓`` line;
- with malformed answers (None, strings, NaN, ±inf, wrong shapes, a function where a value goes
  and a value where a function goes, a student function that raises or returns garbage): ``False``,
  a printed ``✗`` line, no exception escaping;
- with wrong answers drawn by hypothesis: the reference perturbed by a relative 10⁻² … 10 (more
  than the checker's own tolerance), its sign flipped, a whole-number answer ± 0.3 or ± 1;
- with bad values of its own settings (rtol=NaN, p=2.5, seed=-1, ...): ``False`` and a ``✗`` line.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq
from scipy.special import gamma, zeta
from scipy.stats import binom

import course_utils.exercises as exercises_package
from course_utils.theory import kernels, layerwise as lw
from course_utils.theory import signal_propagation as sp
from course_utils.theory.linear import gd_limit as reference_gd_limit


# ---------------------------------------------------------------------------------------------
# Reference answers, as in the chapters' solution cells
# ---------------------------------------------------------------------------------------------

def s3_two_layers(params, J):
    M = J[1].shape[0]
    return float(torch.einsum("ab,bk,kg,ag->", params["U"], params["V"], params["W"], J[1])) / (4 * M)


def optimal_size(C, E, A, alpha, B, beta):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta))


def law(D, p, D_c):
    return np.minimum(np.outer(D, p) / D_c, 1.0)


def fourier_shares(W):
    power = (np.abs(np.fft.rfft(np.asarray(W, dtype=float), axis=0)) ** 2).sum(axis=1)[1:]
    return power / power.sum()


def is_unique(train_pairs, p):
    from course_utils.theory import grokking
    return bool(grokking.unique_linear_structure(train_pairs, p))


def phase(train_step, val_step, budget):
    if math.isnan(train_step) or train_step > budget:
        return "confusion"
    if math.isnan(val_step) or val_step > budget:
        return "memorisation"
    return "grokking" if val_step > train_step + budget / 10 else "comprehension"


def q(z):
    z = np.asarray(z, dtype=float)
    return z * np.arcsinh(z / 2) - z ** 2 / (2 + np.sqrt(4 + z ** 2))


def lazy_limit(beta, alpha):
    return np.sum(np.asarray(beta) ** 2) / (4 * alpha ** 2)


def rich_limit(beta, alpha):
    b = np.abs(np.asarray(beta, dtype=float))
    return np.log(1 / alpha ** 2) * b.sum() + np.sum(b * (np.log(b) - 1))


def plateau_time(s, u0):
    return lw.saxe_time_to(np.asarray(s) / 2, np.asarray(s), np.asarray(u0), 3)


def relative_change(rho):
    c2 = np.sqrt(1 + np.asarray(rho, dtype=float) ** -2)
    return np.sqrt(1 + c2 - np.sqrt(2 * (1 + c2)))


def kappa(error, C):
    return 1 - (1 - np.asarray(error, dtype=float) * C / (C - 1)) ** 2


def simplex_etf(C):
    centred = np.eye(C) - np.ones((C, C)) / C
    lam, U = np.linalg.eigh(centred)
    return np.sqrt(C / (C - 1)) * centred @ U[:, lam > 0.5]


def readout_gram(E, L):
    lam, U = np.linalg.eigh(E @ E.T)
    return (U * np.clip(lam, 0, None) ** (1 / L)) @ U.T


def cov_fn(Theta_train, Theta_cross, K_train, K_cross, K_test):
    A = np.linalg.solve(Theta_train, Theta_cross.T).T
    return K_test - A @ K_cross.T - K_cross @ A.T + A @ K_train @ A.T


def tail(n, p):
    return np.append(np.cumsum(p[::-1])[::-1], 0.0)[np.asarray(n)]


def sandwich(H, G):
    lam, U = np.linalg.eigh((H + H.T) / 2)
    keep = lam > 1e-9 * np.abs(lam).max()
    return 0.5 * np.sum(np.diag(U[:, keep].T @ G @ U[:, keep]) / lam[keep])


def exponent(b, a):
    return min(a, 2 * b)


def coin_kl(p, N, beta):
    n = np.arange(N + 1)
    qn = (n + beta) / (N + 2 * beta)
    kl = p * np.log(p / qn) + (1 - p) * np.log((1 - p) / (1 - qn))
    return float(binom.pmf(n, N, p) @ kl)


def mle(X, k):
    from scipy.spatial import cKDTree
    T = cKDTree(X).query(X, k=k + 1)[0][:, 1:]
    return 1.0 / np.mean(np.log(T[:, -1:] / T[:, :-1]))


def resolution_C(alpha):
    b = 1 + alpha
    return ((np.pi / b) / np.sin(np.pi / b)) ** (1 + alpha)


def loss_fn(D, p, n_c):
    return np.sum(p * binom.cdf(n_c - 1, np.asarray(D, dtype=float)[:, None], p), axis=1)


def ntk_fn(X1, X2, sigma_w2, sigma_b2):
    d = X1.shape[1]
    K0 = sigma_b2 + sigma_w2 * X1 @ X2.T / d
    n1 = np.sqrt(sigma_b2 + sigma_w2 * np.sum(X1 ** 2, axis=1) / d)
    n2 = np.sqrt(sigma_b2 + sigma_w2 * np.sum(X2 ** 2, axis=1) / d)
    cos = np.clip(K0 / np.outer(n1, n2), -1, 1)
    theta = np.arccos(cos)
    K1 = sigma_b2 + sigma_w2 / (2 * np.pi) * np.outer(n1, n2) * (np.sin(theta) + (np.pi - theta) * cos)
    return K1 + sigma_w2 * (np.pi - theta) / (2 * np.pi) * K0


def _stage_threshold() -> float:
    def margin(log_sigma):
        w = np.exp(log_sigma) ** 2
        return float(lw.crossing_time(0.1, 1.0, 0.5, w) - lw.crossing_time(0.9, 1.0, 1.0, w))
    return float(np.exp(brentq(margin, np.log(1e-8), np.log(0.2))))


def _kurtosis_erf() -> float:
    erf = kernels.activation("erf")
    m2 = float(kernels.gaussian_expectation(lambda u: erf(u) ** 2, 1.0))
    m4 = float(kernels.gaussian_expectation(lambda u: erf(u) ** 4, 1.0))
    return 3 * (m4 - m2 ** 2) / m2 ** 2


def _optimal_ridge() -> float:
    from scipy.optimize import minimize_scalar

    from course_utils.theory.linear import ridge_risk
    err = lambda r: ridge_risk(np.ones(100), np.full(100, 0.1), 0.5, 100, r).test_error   # noqa: E731
    return float(np.exp(minimize_scalar(lambda lr: err(np.exp(lr)), bounds=(-10, 3), method="bounded").x))


# ---------------------------------------------------------------------------------------------
# The table: one entry per checker
# ---------------------------------------------------------------------------------------------

@dataclass
class Case:
    """How to call one checker: the reference ``args``, which of them are answers and of what kind.

    ``kinds[i]`` is the kind of positional argument i that is an answer: "number", "whole", "array"
    (a fixed array), "function" (returns numbers), "bool_function", "str_function". ``min_rel``: the
    smallest relative perturbation that the checker must refuse (above its tolerance). ``settings``:
    keyword (or positional index) → kind of a checker setting ("tol", "positive", "nonnegative",
    "int", "seed", "choice"). ``optional``: answers that may be None (left out).
    """

    module: str
    args: tuple
    kinds: dict[int, str]
    kwargs: dict = field(default_factory=dict)
    min_rel: float = 1e-2
    settings: dict[Any, str] = field(default_factory=dict)
    optional: frozenset[int] = frozenset()      # answers that may be left out (None)
    flip_is_right: bool = False                  # −answer is a right answer too (e.g. −V of an ETF V)


TABLE: dict[str, Case] = {
    "check_toy_correlations": Case(
        "action", ([[-0.25, 0.25], [0.25, -0.25]], [[[-0.25, 0.0], [0.0, 0.25]], [[0.25, 0.0], [0.0, -0.25]]]),
        {0: "array", 1: "array"}, settings={"atol": "tol"}, optional=frozenset({1})),
    "check_two_hidden_layer_s3": Case("action", (s3_two_layers,), {0: "function"}, settings={"rtol": "tol"}),
    "check_optimal_size": Case("compute_optimal", (optimal_size,), {0: "function"}),
    "check_frontier_loss_exponent": Case("compute_optimal", (0.34 * 0.28 / 0.62, 0.34, 0.28), {0: "number"},
                                         settings={1: "positive", 2: "positive"}),
    "check_data_law": Case("emergence", (law,), {0: "function"}),
    "check_complete_skills": Case("emergence", (10, 1e5, 600, 100, 1.0), {0: "whole"},
                                  settings={1: "positive", 2: "positive", 3: "int", 4: "positive"}),
    "check_parallelogram_count": Case("grokking", (10, 70), {1: "whole"}, settings={0: "int"}),
    "check_unique_structure": Case("grokking", (is_unique,), {0: "bool_function"}, kwargs={"n_sets": 12},
                                   settings={"p": "int", "n_sets": "int", "seed": "seed"}),
    "check_phase_classifier": Case("grokking", (phase,), {0: "str_function"}),
    "check_frequency_shares": Case("grokking_transformers", (fourier_shares,), {0: "function"},
                                   settings={"rtol": "tol"}),
    "check_q": Case("implicit_bias", (q,), {0: "function"}, settings={"rtol": "tol"}),
    "check_limits": Case("implicit_bias", (lazy_limit, rich_limit), {0: "function", 1: "function"}),
    "check_depth3_plateau_time": Case("layerwise_dynamics", (plateau_time,), {0: "function"},
                                      settings={"rtol": "tol"}),
    "check_stage_threshold": Case("layerwise_dynamics", (_stage_threshold(),), {0: "number"}, min_rel=0.02,
                                  settings={"rtol": "tol"}),
    "check_relative_change": Case("lazy_rich", (relative_change,), {0: "function"}, settings={"rtol": "tol"}),
    "check_gd_limit": Case("linear_models", (reference_gd_limit,), {0: "function"}),
    "check_optimal_ridge": Case("linear_models", (_optimal_ridge(),), {0: "number"}, min_rel=0.05,
                                settings={"P": "int", "N": "int", "r2": "positive", "sigma2": "positive",
                                          "rtol": "tol"}),
    "check_uniform_error_kappa": Case("minimal_features", (kappa,), {0: "function"}, settings={"rtol": "tol"}),
    "check_simplex_etf": Case("neural_collapse", (simplex_etf,), {0: "function"}, flip_is_right=True),
    "check_balanced_readout_gram": Case("neural_collapse", (readout_gram,), {0: "function"}),
    "check_converged_ensemble_covariance": Case("ntk_ensemble", (cov_fn,), {0: "function"},
                                                settings={"rtol": "tol"}),
    "check_tail_loss": Case("quanta_networks", (tail,), {0: "function"}, settings={"rtol": "tol"}),
    "check_sandwich_coefficient": Case("regimes_networks", (sandwich,), {0: "function"}),
    "check_learning_curve_exponent": Case("regimes_networks", (exponent,), {0: "function"}),
    "check_bernoulli_expected_kl": Case("scaling_counting", (coin_kl,), {0: "function"}),
    "check_missing_mass_prefactor": Case(
        "scaling_counting", (zeta(2.0) ** -0.5 * gamma(0.5) / 2,), {0: "number"}, kwargs={"alpha": 1.0},
        settings={"alpha": "positive", "rtol": "tol"}),
    "check_intrinsic_dimension_estimator": Case("scaling_regimes", (mle,), {0: "function"}),
    "check_resolution_limited_coefficient": Case("scaling_regimes", (resolution_C,), {0: "function"}),
    "check_correlation_depth": Case("signal_propagation", (float(sp.depth_scales(3.0, sigma_b2=0.05)["xi_c"][0]),),
                                    {0: "number"}, settings={"sigma_w2": "positive", "sigma_b2": "nonnegative",
                                                             "rtol": "tol"}),
    "check_depth_ratio": Case("signal_propagation",
                              (float(kernels.chi1(activation="tanh", sigma_w2=4.5, sigma_b2=0.05)) ** 30,),
                              {0: "number"}, settings={"sigma_w2": "positive", "sigma_b2": "nonnegative",
                                                       "depth": "int", "rtol": "tol"}),
    "check_threshold_data_loss": Case("skills_quanta", (loss_fn,), {0: "function"}),
    "check_compute_allocation": Case("skills_quanta", (1 / 3, 2 / 3), {0: "number", 1: "number"},
                                     kwargs={"alpha": 1.0}, settings={"alpha": "positive"}),
    "check_critical_sigma_w2": Case(
        "wide_networks",
        (brentq(lambda s: float(kernels.chi1(activation="tanh", sigma_w2=s, sigma_b2=0.1)) - 1, 1.0, 4.0),),
        {0: "number"}, settings={"sigma_b2": "nonnegative", "rtol": "tol"}),
    "check_one_layer_kurtosis": Case("wide_networks", (_kurtosis_erf(),), {0: "number"},
                                     settings={"activation": "choice", "sigma_w2": "positive",
                                               "sigma_b2": "nonnegative", "q0": "positive", "rtol": "tol"}),
    "check_relu_ntk_one_layer": Case("wide_networks", (ntk_fn,), {0: "function"}),
}


def _all_checkers() -> dict[str, Callable]:
    found = {}
    for info in pkgutil.iter_modules(exercises_package.__path__):
        if info.name.startswith("_") or info.name == "answers":
            continue
        module = importlib.import_module(f"course_utils.exercises.{info.name}")
        for name, obj in vars(module).items():
            if name.startswith("check_") and inspect.isfunction(obj) and obj.__module__ == module.__name__:
                assert name not in found, f"two checkers named {name}"
                found[name] = obj
    return found


CHECKERS = _all_checkers()
NAMES = sorted(TABLE)


def _call(name: str, args: tuple, kwargs: dict | None = None, capsys=None) -> tuple[Any, str]:
    case = TABLE[name]
    result = CHECKERS[name](*args, **{**case.kwargs, **(kwargs or {})})
    out = capsys.readouterr().out if capsys is not None else ""
    return result, out


def _assert_refused(name: str, args: tuple, kwargs: dict | None, capsys, what: str) -> None:
    result, out = _call(name, args, kwargs, capsys)
    assert result is False, f"{name} returned {result!r} for {what}; output {out!r}"
    assert "✗" in out, f"{name} printed no ✗ line for {what}: {out!r}"
    assert "Traceback" not in out


# ---------------------------------------------------------------------------------------------
# Wrong answers
# ---------------------------------------------------------------------------------------------

JUNK = [None, "0.5", "", b"1", [], {}, object(), float("nan"), float("inf"), -float("inf"), True,
        1 + 2j, [1.0, "a"], np.array(["x"])]


def _scaled(x, factor: float):
    if isinstance(x, torch.Tensor):
        return x * factor
    with np.errstate(invalid="ignore"):
        return np.asarray(x, dtype=float) * factor


def _raise(*args, **kwargs):
    raise RuntimeError("the student's code is broken")


def _value_answers(ref) -> list[tuple[str, Any]]:
    """Malformed answers in place of a value (a number, a count or an array)."""
    arr = np.asarray(ref, dtype=float)
    out = [(f"junk {j!r}", j) for j in JUNK]
    out += [("NaN of the right shape", np.full(arr.shape, np.nan)),
            ("inf of the right shape", np.full(arr.shape, np.inf)),
            ("a function returning the answer", lambda *a, **k: ref),
            ("the answer as complex numbers", arr + 1j),
            ("the answer as complex with zero imaginary part", arr.astype(complex)),
            ("the answer as text", arr.astype(str)),
            ("the answer as a complex tensor", torch.as_tensor(arr) + 1j),
            ("a wrong shape", np.append(arr.ravel(), [1.0, 2.0])),
            ("a 2-d wrong shape", np.ones((3, 3, 3)))]
    if arr.size > 1:
        one_nan = arr.copy().ravel()
        one_nan[-1] = np.nan
        out.append(("one NaN entry", one_nan.reshape(arr.shape)))
    return out


def _function_answers(ref: Callable, kind: str) -> list[tuple[str, Any]]:
    """Malformed answers in place of a function."""
    out = [(f"junk {j!r}", j) for j in JUNK if j is not None] + [("None", None)]
    out += [("a number where a function goes", 3.0),
            ("an array where a function goes", np.ones((4, 6))),
            ("a tensor where a function goes", torch.ones(3)),
            ("a function that raises", _raise),
            ("a function with the wrong signature", lambda: 1.0),
            ("a function returning None", lambda *a, **k: None),
            ("a function returning a string", lambda *a, **k: "answer"),
            ("a function returning a function", lambda *a, **k: ref),
            ("a function returning a dict", lambda *a, **k: {"a": 1})]
    if kind == "function":
        out += [("a function returning NaN", lambda *a, **k: _scaled(ref(*a, **k), np.nan)),
                ("a function returning inf", lambda *a, **k: _scaled(ref(*a, **k), np.inf)),
                ("a function returning a wrong shape", lambda *a, **k: np.append(np.ravel(ref(*a, **k)), 1.0)),
                ("a function returning a tensor of NaN", lambda *a, **k: torch.full((2,), float("nan"))),
                ("a function returning zeros", lambda *a, **k: _scaled(ref(*a, **k), 0.0)),
                ("a function returning complex numbers", lambda *a, **k: np.asarray(ref(*a, **k)) + 1j),
                ("a function returning text", lambda *a, **k: np.asarray(ref(*a, **k)).astype(str))]
    elif kind == "bool_function":
        out += [("the negation", lambda *a, **k: not ref(*a, **k)),
                ("an int instead of a bool", lambda *a, **k: int(ref(*a, **k))),
                ("always True", lambda *a, **k: True)]
    else:
        out += [("always grokking", lambda *a, **k: "grokking"),
                ("an unknown phase", lambda *a, **k: "other"),
                ("a wrong case", lambda *a, **k: ref(*a, **k).upper())]
    return out


def _malformed(case: Case, index: int) -> list[tuple[str, Any]]:
    kind = case.kinds[index]
    ref = case.args[index]
    out = _function_answers(ref, kind) if kind.endswith("function") else _value_answers(ref)
    return [(what, bad) for what, bad in out if not (bad is None and index in case.optional)]


def _replace(args: tuple, index: int, value) -> tuple:
    return args[:index] + (value,) + args[index + 1:]


BAD_SETTINGS = {
    "tol": [float("nan"), -1e-3, 0.0, float("inf"), 5.0, "1e-3", None, [1e-3]],
    "positive": [float("nan"), -1.0, 0.0, float("inf"), "1", None, lambda: 1.0],
    "nonnegative": [float("nan"), -1.0, float("inf"), "0", None],
    "int": [2.5, -1, 0, float("nan"), "10", None, 10 ** 9],
    "seed": [-1, 2.5, "0", None, float("nan")],
    "choice": ["sigmoid", None, 3],
}


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------

def test_every_checker_is_in_the_table():
    assert set(CHECKERS) == set(TABLE), (
        f"checkers without an entry in TABLE: {sorted(set(CHECKERS) - set(TABLE))}; "
        f"entries without a checker: {sorted(set(TABLE) - set(CHECKERS))}")
    for name, case in TABLE.items():
        assert CHECKERS[name].__module__ == f"course_utils.exercises.{case.module}"


@pytest.mark.parametrize("name", NAMES)
def test_reference_answer_passes(name, capsys):
    result, out = _call(name, TABLE[name].args, capsys=capsys)
    assert result is True, out
    assert "✓" in out and "✗" not in out


@pytest.mark.parametrize("name", NAMES)
def test_malformed_answers_are_refused_with_a_verdict(name, capsys):
    case = TABLE[name]
    for index in case.kinds:
        for what, bad in _malformed(case, index):
            _assert_refused(name, _replace(case.args, index, bad), None, capsys, f"argument {index}: {what}")


@pytest.mark.parametrize("name", [n for n in NAMES if TABLE[n].settings])
def test_bad_settings_are_refused_with_a_verdict(name, capsys):
    case = TABLE[name]
    for key, kind in case.settings.items():
        for bad in BAD_SETTINGS[kind]:
            if isinstance(key, int):
                _assert_refused(name, _replace(case.args, key, bad), None, capsys, f"argument {key} = {bad!r}")
            else:
                _assert_refused(name, case.args, {key: bad}, capsys, f"{key} = {bad!r}")


def _perturbed(case: Case, index: int, factor: float):
    kind, ref = case.kinds[index], case.args[index]
    if kind == "function":
        return lambda *a, **k: _scaled(ref(*a, **k), factor)
    if kind == "bool_function":
        return lambda *a, **k: not ref(*a, **k)
    if kind == "str_function":
        return lambda *a, **k: {"grokking": "comprehension"}.get(ref(*a, **k), "grokking")
    if kind == "whole":
        return ref * factor if factor < 0 else ref + (1 if factor > 2 else -1)
    return _scaled(ref, factor).tolist() if kind == "array" else float(ref) * factor


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_wrong_answers_never_pass(data, capsys):
    """Perturbed (by a relative 1e-2 … 10 in either direction, above the checker's tolerance),
    sign-flipped and off-by-a-fraction answers: never True, always a ✗ line."""
    name = data.draw(st.sampled_from(NAMES), label="checker")
    case = TABLE[name]
    index = data.draw(st.sampled_from(sorted(case.kinds)), label="answer")
    kind = case.kinds[index]
    hows = ["scale"] + ([] if case.flip_is_right else ["flip"]) + (["fraction"] if kind == "whole" else [])
    how = data.draw(st.sampled_from(hows), label="how")
    if how == "fraction":
        shift = data.draw(st.sampled_from([-0.3, 0.3, -0.5, 0.7]), label="shift")
        wrong = case.args[index] + shift
    elif how == "flip":
        wrong = _perturbed(case, index, -1.0)
    else:
        rel = data.draw(st.floats(case.min_rel, 10.0), label="relative change")
        down = data.draw(st.booleans(), label="down") and rel < 0.99
        wrong = _perturbed(case, index, 1 - rel if down else 1 + rel)
    _assert_refused(name, _replace(case.args, index, wrong), None, capsys, f"{how} of argument {index}")


def test_the_quoted_bugs_are_gone(capsys):
    """The cases the issue quotes: an all-NaN answer passed five checkers, 70.7 passed as 70."""
    from course_utils.exercises import grokking, linear_models, neural_collapse, skills_quanta, wide_networks
    for check, answer in [(linear_models.check_gd_limit, lambda X, y, t: np.full(X.shape[1], np.nan)),
                          (wide_networks.check_relu_ntk_one_layer, lambda X1, X2, a, b: np.full((4, 6), np.nan)),
                          (neural_collapse.check_simplex_etf, lambda C: np.full((C, C - 1), np.nan)),
                          (neural_collapse.check_balanced_readout_gram, lambda E, L: np.full((len(E),) * 2, np.nan)),
                          (skills_quanta.check_threshold_data_loss, lambda D, p, n: np.full(np.shape(D), np.nan))]:
        assert check(answer) is False
        assert "NaN" in capsys.readouterr().out
    assert grokking.check_parallelogram_count(10, 70.7) is False
    assert "whole number" in capsys.readouterr().out
    assert grokking.check_parallelogram_count(10, 70.0) is True
    assert linear_models.check_optimal_ridge(float("nan")) is False
    out = capsys.readouterr().out
    assert "NaN" in out and "ridges" not in out


def test_parallelogram_count_formula_matches_the_list():
    from course_utils.exercises.grokking import _parallelogram_count
    from course_utils.theory.grokking import parallelograms
    for p in range(2, 15):
        assert _parallelogram_count(p) == len(parallelograms(p))


def test_the_helpers_of_the_exercise_modules_refuse_bad_arguments():
    """The public non-checker functions of the exercise modules: clear errors that name the argument."""
    from course_utils.exercises import action, layerwise_dynamics, skills_quanta
    from course_utils.validate import ArgumentError
    params, z, y, _ = action._random_problem(0)
    good = action.two_hidden_layer_action(params, z, y)
    assert torch.equal(action.two_hidden_layer_action(params, z.numpy(), y.numpy()), good)   # NumPy converted
    for args, match in [((params, z[:, :3], y), "z has shape"), (({"U": params["U"]}, z, y), "keys"),
                        ((params, z, y.double()), "class indices"), ((params, z, y[:5]), "class indices"),
                        ((params, None, y), "z must be"), ((3.0, z, y), "params must be a dict"),
                        ((dict(params, b=params["b"][:2]), z, y), "params\\['b'\\]")]:
        with pytest.raises(ArgumentError, match=match):
            action.two_hidden_layer_action(*args)
    assert layerwise_dynamics.stage_threshold((1.0, 0.5)) == layerwise_dynamics.stage_threshold([0.5, 1.0])
    for S, lam in [((1.0, float("nan")), 1.0), ((1.0, 1.0), 1.0), ((1.0, 0.5, 0.2), 1.0), ((1.0, 0.5), -1.0),
                   ("ab", 1.0), ((1.0, 0.5), float("nan"))]:
        with pytest.raises(ArgumentError):
            layerwise_dynamics.stage_threshold(S, lam)
    p = np.array([0.5, 0.3, 0.2])
    assert skills_quanta.reference_threshold_data_loss([10.0, 100.0], p, 2).shape == (2,)
    for D, pp, n_c, match in [([-1.0], p, 2, "D"), ([np.nan], p, 2, "D"), ([10.0], p * 4, 2, "p"),
                              ([10.0], p, 2.5, "n_c"), ([10.0], p, 0, "n_c"), ("ten", p, 2, "D")]:
        with pytest.raises(ArgumentError, match=match):
            skills_quanta.reference_threshold_data_loss(D, pp, n_c)
