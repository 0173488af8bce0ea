"""The user-facing contract of ``course_utils.checks``, pinned down exactly.

A chapter stores the verdict line a check prints, ``tools/robustness.py`` reads the JSON line it
writes to ``COURSE_CHECK_LOG``, and a student reads the ``AssertionError`` (or, under
``COURSE_CHECKS=warn``, the warning). Each case below runs one check and asserts all of them:

- the exact printed line (a pass prints it; a failure raises ``AssertionError`` with it);
- the returned :class:`CheckResult` (its value, ``name``, ``passed``, ``line``);
- the JSON log record (name, verdict, kind, measured value, bound);
- warn mode: the line is printed, the warning carries it and points at the caller's line.

The cases sit at the boundaries where a wrong comparison would change the verdict: a measured
error equal to its bound passes (``≤``), a value equal to its bound fails (``<``), an error between
``max(atol, rtol‖p‖)`` and ``atol + rtol‖p‖`` passes, and the formatting branches (``< 1e-9``
below 1e-8, percentages down to 0.01 %) each appear once.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import warnings

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils import checks

NAN, INF = "nan", "inf"   # how the JSON log writes a measurement that is not finite


def _close(*args, **kwargs):
    return lambda **extra: cu.check_close(*args, **kwargs, **extra)


def _less(*args, **kwargs):
    return lambda **extra: cu.check_less(*args, **kwargs, **extra)


def _true(*args, **kwargs):
    return lambda **extra: cu.check_true(*args, **kwargs, **extra)


def _count(*args, **kwargs):
    return lambda **extra: cu.check_count(*args, **kwargs, **extra)


# (the check, the exact line, kind, measured value (also the CheckResult), bound in the log)
CASES = [
    # --- check_close, mode="norm": ‖m − p‖ ≤ atol + rtol·‖p‖ --------------------------------
    (_close("decay", 0.3680, np.exp(-1), rtol=0.01),
     "✓ decay: measured 0.368 vs theory 0.3679 (rel. err 0.03% ≤ 1.00%)",
     "norm", 0.3680 - np.exp(-1), 0.01 * np.exp(-1)),
    (_close("decay", 1.1, 1.0, rtol=0.01),
     "✗ decay: measured 1.1 vs theory 1 (rel. err 10.00% > 1.00%)", "norm", 1.1 - 1.0, 0.01),
    # between max(atol, rtol‖p‖) = 0.1 and atol + rtol‖p‖ = 0.2: passes; atol is shown
    (_close("sum", 1.15, 1.0, rtol=0.1, atol=0.1),
     "✓ sum: measured 1.15 vs theory 1 (rel. err 15.00% ≤ 10.00% (+ atol 0.1))", "norm", 1.15 - 1.0, 0.2),
    # the error equals its bound exactly: passes
    (_close("edge", 1.5, 1.0, rtol=0.5),
     "✓ edge: measured 1.5 vs theory 1 (rel. err 50.00% ≤ 50.00%)", "norm", 0.5, 0.5),
    (_close("edge", 0.5, 0.0, atol=0.5),
     "✓ edge: measured 0.5 vs theory 0 (abs. err 0.5 ≤ 0.5)", "norm", 0.5, 0.5),
    # an absolute tolerance only, with a nonzero prediction: an absolute error is shown
    (_close("abs", 2.0, 1.0, atol=0.5), "✗ abs: measured 2 vs theory 1 (abs. err 1 > 0.5)", "norm", 1.0, 0.5),
    (_close("abs", 1.25, 1.0, atol=0.5), "✓ abs: measured 1.25 vs theory 1 (abs. err 0.25 ≤ 0.5)",
     "norm", 0.25, 0.5),
    # a zero prediction with rtol and atol: there is no relative error, an absolute one is shown
    (_close("zero", 1e-9, 0.0, rtol=0.1, atol=1e-6),
     "✓ zero: measured 1e-09 vs theory 0 (abs. err < 1e-9 ≤ 1e-06)", "norm", 1e-9, 1e-6),
    # absolute errors: below 1e-8 only the decade, from 1e-8 on two digits, 0 as 0
    (_close("tiny", 3e-10, 0.0, atol=1e-6),
     "✓ tiny: measured 3e-10 vs theory 0 (abs. err < 1e-9 ≤ 1e-06)", "norm", 3e-10, 1e-6),
    (_close("tiny", 1e-8, 0.0, atol=1e-6),
     "✓ tiny: measured 1e-08 vs theory 0 (abs. err 1e-08 ≤ 1e-06)", "norm", 1e-8, 1e-6),
    (_close("tiny", 0.0, 0.0, atol=1e-6),
     "✓ tiny: measured 0 vs theory 0 (abs. err 0 ≤ 1e-06)", "norm", 0.0, 1e-6),
    (_close("abs", [0.5, 0.0], [0.0, 0.0], atol=1.0),
     "✓ abs: measured array(2,) vs theory array(2,) (abs. err 0.5 ≤ 1)", "norm", 0.5, 1.0),
    # relative errors: exactly 0, exactly 0.01 % (shown as a percentage), below it only the decade
    (_close("rel", 1.0, 1.0, rtol=1e-4), "✓ rel: measured 1 vs theory 1 (rel. err 0.00% ≤ 0.01%)",
     "norm", 0.0, 1e-4),
    (_close("rel", 10001.0, 10000.0, rtol=1e-3),
     "✓ rel: measured 1e+04 vs theory 1e+04 (rel. err 0.01% ≤ 0.10%)", "norm", 1.0, 10.0),
    (_close("rel", 1.00001, 1.0, rtol=1e-5),
     "✗ rel: measured 1 vs theory 1 (rel. err < 1e-4 > 1e-05)", "norm", 1.00001 - 1.0, 1e-5),
    (_close("rel", 1.0 + 2e-7, 1.0, rtol=1e-5),
     "✓ rel: measured 1 vs theory 1 (rel. err < 1e-6 ≤ 1e-05)", "norm", (1.0 + 2e-7) - 1.0, 1e-5),
    # --- mode="every": |mᵢ − pᵢ| ≤ atol + rtol·|pᵢ| ---------------------------------------------
    (_close("curve", [1.01, 0.0], [1.0, 0.0], rtol=0.05, mode="every"),
     "✓ curve: measured array(2,) vs theory array(2,) (every entry: largest rel. err 1.00%, all 2 within "
     "5.00% of each entry)", "every", 0.2, 1.0),
    # an entry with no tolerance at all (rtol only, pᵢ = 0) that is off: infinitely far out
    (_close("curve", [1.0, 1e-9], [1.0, 0.0], rtol=0.05, mode="every"),
     "✗ curve: measured array(2,) vs theory array(2,) (every entry: largest rel. err 0.00%, off by < 1e-9 where "
     "theory is 0, 1 of 2 within 5.00% of each entry)", "every", INF, 1.0),
    (_close("curve", [0.0, 0.0], [0.0, 0.0], rtol=0.05, mode="every"),
     "✓ curve: measured array(2,) vs theory array(2,) (every entry: largest abs. err 0, all 2 within "
     "5.00% of each entry)", "every", 0.0, 1.0),
    (_close("curve", [1.5], [1.0], rtol=0.5, mode="every"),          # on the boundary: passes
     "✓ curve: measured 1.5 vs theory 1 (every entry: largest rel. err 50.00%, all 1 within "
     "50.00% of each entry)", "every", 1.0, 1.0),
    (_close("curve", [1.5, 3.0], [1.0, 1.0], rtol=0.5, mode="every"),  # one on the boundary, one out
     "✗ curve: measured array(2,) vs theory array(2,) (every entry: largest rel. err 200.00%, 1 of 2 within "
     "50.00% of each entry)", "every", 4.0, 1.0),
    (_close("curve", [1.0, 1e-3], [1.0, 0.0], rtol=0.1, atol=0.01, mode="every"),
     "✓ curve: measured array(2,) vs theory array(2,) (every entry: largest error 10.00% of its entry's "
     "tolerance, all 2 within 10.00% of each entry + 0.01)", "every", 0.1, 1.0),
    (_close("curve", [1.05, 0.52], [1.0, 0.5], atol=0.1, mode="every"),
     "✓ curve: measured array(2,) vs theory array(2,) (every entry: largest abs. err 0.05, all 2 within 0.1)",
     "every", 0.5, 1.0),
    (_close("curve", [1.15, 2.25], [1.0, 2.0], rtol=0.1, atol=0.1, mode="every"),   # sum, not max
     "✓ curve: measured array(2,) vs theory array(2,) (every entry: largest error 83.33% of its entry's "
     "tolerance, all 2 within 10.00% of each entry + 0.1)", "every", 0.25 / 0.3, 1.0),
    # --- mode="log": max |ln(mᵢ/pᵢ)| ≤ ln(1 + rtol) -------------------------------------------
    (_close("ratio", [2.0, 1.0], [1.0, 1.0], rtol=1.0, mode="log"),    # on the boundary: passes
     "✓ ratio: measured array(2,) vs theory array(2,) (largest ratio 2× ≤ 2× over 2 entries)",
     "log", math.log(2.0), math.log(2.0)),
    (_close("ratio", [1.0, 2e-3], [1.0, 1e-3], rtol=0.1, mode="log"),
     "✗ ratio: measured array(2,) vs theory array(2,) (largest ratio 2× > 1.1× over 2 entries)",
     "log", math.log(2.0), math.log1p(0.1)),
    (_close("ratio", [0.0, 1.0], [1.0, 1.0], rtol=0.5, mode="log"),
     "✗ ratio: mode='log' needs a positive measurement (1 of 2 entries ≤ 0)", "log", INF, math.log1p(0.5)),
    (_close("ratio", [-1.0, 0.5, 2.0], [1.0, 1.0, 1.0], rtol=0.5, mode="log"),
     "✗ ratio: mode='log' needs a positive measurement (1 of 3 entries ≤ 0)", "log", INF, math.log1p(0.5)),
    # --- not finite: never passes, says what and how many ---------------------------------------
    (_close("nan", [np.nan, np.inf, 1.0], [1.0, 1.0, 1.0], rtol=0.5),
     "✗ nan: the measurement is not finite (NaN in 1 and ±inf in 1 of 3 entries)", "norm", NAN, 0.5),
    (_close("nan", [1.0, 2.0], [np.nan, 1.0], atol=0.25, mode="every"),
     "✗ nan: the prediction is not finite (NaN in 1 of 2 entries)", "every", NAN, 0.25),
    (_close("nan", 1.0, -np.inf, rtol=0.5, mode="log"),
     "✗ nan: the prediction is not finite (±inf in 1 of 1 entry)", "log", NAN, 0.5),
    # --- check_less: value < bound, strictly ---------------------------------------------------
    (_less("error", 0.001, 0.01), "✓ error: 0.001 < 0.01", "less", 0.001, 0.01),
    (_less("error", 0.01, 0.01), "✗ error: 0.01 ≮ 0.01", "less", 0.01, 0.01),
    (_less("error", float("nan"), 0.01), "✗ error: nan ≮ 0.01 (the value is NaN)", "less", NAN, 0.01),
    (_less("error", 0.5, float("nan")), "✗ error: 0.5 ≮ nan (the bound is NaN)", "less", 0.5, NAN),
    (_less("error", -np.inf, 0.01), "✗ error: -inf ≮ 0.01 (the value is infinite)", "less", "-inf", 0.01),
    # --- check_true ---------------------------------------------------------------------------
    (_true("ordered", True), "✓ ordered", "true", 1.0, 1.0),
    (_true("ordered", np.array([True]), detail="120 < 240"), "✓ ordered (120 < 240)", "true", 1.0, 1.0),
    (_true("ordered", np.bool_(False), detail="240 > 120"), "✗ ordered (240 > 120)", "true", 0.0, 1.0),
    (_true("ordered", torch.tensor(False)), "✗ ordered", "true", 0.0, 1.0),
    # --- check_count: at_least ≤ count ≤ at_most --------------------------------------------------
    (_count("runs", 3, at_least=3, at_most=3), "✓ runs: 3 (= 3)", "count", 3.0, 3.0),
    (_count("runs", 2, at_least=3, at_most=3), "✗ runs: 2 (≠ 3)", "count", 2.0, 3.0),
    (_count("runs", 4, at_least=3, at_most=5, of=5), "✓ runs: 4 of 5 (in 3 … 5)", "count", 4.0, 3.0),
    (_count("runs", 6, at_least=3, at_most=5), "✗ runs: 6 (not in 3 … 5)", "count", 6.0, 3.0),
    (_count("runs", 5, at_least=5, of=5), "✓ runs: 5 of 5 (≥ 5)", "count", 5.0, 5.0),
    (_count("runs", 4, at_least=5, of=5), "✗ runs: 4 of 5 (< 5)", "count", 4.0, 5.0),
    (_count("runs", 0, at_most=0, of=5), "✓ runs: 0 of 5 (≤ 0)", "count", 0.0, 0.0),
    (_count("runs", 1, at_most=0), "✗ runs: 1 (> 0)", "count", 1.0, 0.0),
]


def _same(actual, expected, *, logged: bool = False) -> bool:
    if isinstance(expected, str):   # NaN or inf: the log writes the string "nan" / "inf" (JSON has no NaN)
        return actual == expected if logged else str(actual) == expected
    return actual == pytest.approx(expected, rel=1e-12, abs=1e-300)


@pytest.fixture
def check_log(monkeypatch, tmp_path):
    """Strict mode, logging to a fresh file; returns a function that reads the records back."""
    path = tmp_path / "checks.jsonl"
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    monkeypatch.setenv("COURSE_CHECK_LOG", str(path))

    def records() -> list[dict]:
        return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    return records


def _ids(cases) -> list[str]:
    """Plain ASCII test ids ("07-edge-pass"): mutmut passes the ids back to pytest on its command line."""
    return [f"{i:02d}-{re.sub('[^a-z]+', '', c[1][2:].split(':')[0].split(' (')[0])}-{'pass' if c[1][0] == '✓' else 'fail'}"
            for i, c in enumerate(cases)]


FAILURES = [c for c in CASES if c[1].startswith("✗")]


@pytest.mark.parametrize("check, line, kind, value, bound", CASES, ids=_ids(CASES))
def test_a_check_prints_returns_and_logs_its_verdict(check, line, kind, value, bound, check_log, capsys):
    name, passed = line[2:].split(":")[0].split(" (")[0], line.startswith("✓")
    if passed:
        r = check()
        assert capsys.readouterr().out == line + "\n"
        assert isinstance(r, checks.CheckResult) and isinstance(r, float)
        assert (r.name, r.passed, r.line) == (name, True, line)
        assert _same(float(r), value)
        assert check(verbose=False).passed and capsys.readouterr().out == ""   # verbose=False: silent
    else:
        with pytest.raises(AssertionError) as info:
            check()
        assert str(info.value) == line
        assert capsys.readouterr().out == ""         # strict mode: the line is in the error, not printed
    (record,) = check_log()[:1]
    assert set(record) == {"name", "passed", "kind", "measured", "bound"}
    assert (record["name"], record["passed"], record["kind"]) == (name, passed, kind)
    assert _same(record["measured"], value, logged=True) and _same(record["bound"], bound, logged=True)


@pytest.mark.parametrize("check, line, kind, value, bound", FAILURES, ids=_ids(FAILURES))
def test_warn_mode_prints_the_failure_warns_and_goes_on(check, line, kind, value, bound, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_CHECKS", " Warn ")      # spaces and case do not matter
    monkeypatch.delenv("COURSE_CHECK_LOG", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = check(verbose=False)                        # a failure is shown even when not verbose
    assert capsys.readouterr().out == line + "\n"
    (w,) = caught
    assert w.category is checks.CheckWarning
    assert str(w.message) == f"{line}  [COURSE_CHECKS=warn: continuing]"
    assert not w.filename.endswith(os.path.join("course_utils", "checks.py"))
    if "mutmut" not in sys.modules:   # mutmut's trampolines add stack frames between a check and its caller
        assert w.filename == __file__                   # the warning points at the check's caller
    assert (r.passed, r.line) == (False, line) and _same(float(r), value)


def test_the_mode_is_strict_unless_set_to_warn(monkeypatch):
    monkeypatch.delenv("COURSE_CHECKS", raising=False)
    assert checks.checks_mode() == "strict"
    for setting, mode in (("", "strict"), ("  ", "strict"), ("STRICT", "strict"), (" warn\n", "warn"), ("WARN", "warn")):
        monkeypatch.setenv("COURSE_CHECKS", setting)
        assert checks.checks_mode() == mode
    monkeypatch.setenv("COURSE_CHECKS", "loose")
    with pytest.raises(ValueError, match="^COURSE_CHECKS must be 'strict' or 'warn', got 'loose'$"):
        checks.checks_mode()


def test_no_log_is_written_without_course_check_log(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_CHECK_LOG", "")
    cu.check_less("x", 0.1, 1.0, verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_the_log_is_plain_utf8_text_a_person_can_read(check_log, tmp_path):
    """Names are written as they are (not as \\u escapes), one JSON object a line, appended."""
    cu.check_less("décroissance ≈ e^{-t}", 0.1, 1.0, verbose=False)
    cu.check_true("ordre", True, verbose=False)
    text = (tmp_path / "checks.jsonl").read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith('{"name": "décroissance ≈ e^{-t}", "passed": true')
    assert [r["name"] for r in check_log()] == ["décroissance ≈ e^{-t}", "ordre"]


# ---------------------------------------------------------------------------------------------
# What a check accepts: tensors (also on a GPU or needing grad), integer arrays, numpy scalars
# ---------------------------------------------------------------------------------------------

class _GPUTensor:
    """Stands in for a tensor on a GPU: numpy cannot read it; ``.detach().cpu()`` brings it back."""

    def __init__(self, value):
        self.value = torch.as_tensor(value)

    def detach(self):
        return self

    def cpu(self):
        return self.value

    def __array__(self, *args, **kwargs):
        raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() first.")


def test_checks_read_tensors_on_a_gpu_and_tensors_that_need_grad():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w ** 2).sum() / 10                      # 0.5, part of a graph
    assert cu.check_less("loss", loss, 1.0, verbose=False) == pytest.approx(0.5)
    assert cu.check_less("loss", 0.25, loss, verbose=False).passed
    assert cu.check_close("w", w, [1.0, 2.0], atol=1e-12, verbose=False) == 0.0
    assert cu.check_close("w", [1.0, 2.0], w * 1, atol=1e-12, verbose=False) == 0.0
    assert cu.check_less("loss", _GPUTensor(0.5), 1.0, verbose=False) == 0.5
    assert cu.check_close("w", _GPUTensor([1.0, 2.0]), _GPUTensor([1.0, 2.0]), atol=0.1, verbose=False) == 0.0
    assert cu.check_true("on the GPU", _GPUTensor(True), verbose=False).passed
    assert cu.check_count("runs", _GPUTensor(3), at_least=3, verbose=False) == 3


def test_integer_arrays_are_compared_as_numbers_not_modulo_256():
    """uint8 3 − 5 would wrap around to 254: the error must be 2."""
    m, p = np.array([3], dtype=np.uint8), np.array([5], dtype=np.uint8)
    assert cu.relative_error(m, p) == pytest.approx(0.4)
    assert cu.relative_error([1.5], [1.0]) == 0.5 and cu.relative_error([[0.0, 4.0]], [[3.0, 4.0]]) == 0.6
    assert cu.check_close("pixels", m, p, atol=2.0, verbose=False) == 2.0
    assert cu.check_close("pixels", m, p, rtol=0.4, mode="every", verbose=False) == pytest.approx(1.0)
    with pytest.raises(AssertionError, match="abs. err 2 > 1"):
        cu.check_close("pixels", m, p, atol=1.0)


@pytest.mark.parametrize("call, message", [
    (lambda: cu.check_close("z", 1 + 2j, 1.0, rtol=0.1), "z: measured must be a number or an array of numbers, got complex"),
    (lambda: cu.check_close("z", 1.0, "one", rtol=0.1), "z: predicted must be a number or an array of numbers, got str"),
    (lambda: cu.check_less("z", 1j, 1.0), "z: value must be a number, got complex"),
    (lambda: cu.check_less("z", 0.5, "one"), "z: bound must be a number, got str"),
    (lambda: cu.check_less("z", [0.1, 0.2], 1.0), r"z: value must be one number, got an array of shape \(2,\)"),
    (lambda: cu.check_less("z", 0.1, np.ones((1, 2))), r"z: bound must be one number, got an array of shape \(1, 2\)"),
    (lambda: cu.check_count("z", "3", at_least=1), "z: count must be an integer ≥ 0, got '3' \\(str\\)"),
    (lambda: cu.check_count("z", [1, 2], at_least=1), r"z: count must be one number, got an array of shape \(2,\)"),
], ids=lambda v: "case" if callable(v) else "")
def test_what_is_not_a_number_is_refused_by_name(call, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        call()


@pytest.mark.parametrize("name", [None, 3, "", "   ", b"name"], ids=["None", "int", "empty", "blank", "bytes"])
@pytest.mark.parametrize("check", [
    lambda n: cu.check_close(n, 1.0, 1.0, rtol=0.1), lambda n: cu.check_less(n, 0.1, 1.0),
    lambda n: cu.check_true(n, True), lambda n: cu.check_count(n, 1, at_least=0)],
    ids=["close", "less", "true", "count"])
def test_a_check_needs_a_name(check, name):
    with pytest.raises(ValueError, match="^name must be a non-empty string that says what is checked, got "):
        check(name)


@pytest.mark.parametrize("call, message", [
    (lambda: cu.check_close("c", 1.0, 1.0, rtol=0.1, mode="max"),
     r"c: mode must be one of \('norm', 'every', 'log'\), got 'max'"),
    (lambda: cu.check_close("c", 1.0, 1.0), r"c: give a tolerance: rtol=\.\.\. \(relative\) and/or atol=\.\.\. \(absolute\)"),
    (lambda: cu.check_close("c", [1.0, 2.0], [1.0], rtol=0.1), r"c: measured has shape \(2,\) but predicted has shape \(1,\)"),
    (lambda: cu.check_close("c", [], [], rtol=0.1), r"c: nothing to compare \(measured and predicted are empty\)"),
    (lambda: cu.check_close("c", [1.0], [1.0], rtol=0.1, atol=0.5, mode="log"),
     "c: mode='log' bounds log-ratios; give rtol only"),
    (lambda: cu.check_close("c", [1.0], [1.0], rtol=0.0, mode="log"), "c: mode='log' needs rtol > 0"),
    (lambda: cu.check_close("c", [1.0], [1.0], atol=0.1, mode="log"), "c: mode='log' bounds log-ratios; give rtol only"),
    (lambda: cu.check_close("c", [1.0, 1.0], [1.0, 0.0], rtol=0.1, mode="log"), "c: mode='log' needs a positive prediction"),
    (lambda: cu.check_close("c", 1.0, 1.0, rtol=-0.1), "c: rtol must be a finite number ≥ 0"),
    (lambda: cu.check_close("c", 1.0, 1.0, rtol=0.1, atol=float("nan")), "c: atol must be a finite number ≥ 0"),
    (lambda: cu.check_true("c", 1.0), r"c: condition must be True or False, got 1\.0"),
    (lambda: cu.check_true("c", np.array([True, False])), r"c: condition must be True or False, got array"),
    (lambda: cu.check_count("c", 3), r"c: give at_least=\.\.\. and/or at_most=\.\.\."),
    (lambda: cu.check_count("c", 3, at_least=4, at_most=2), "c: at_least=4 > at_most=2"),
    (lambda: cu.check_count("c", 6, at_least=4, of=5), "c: a count of 6 out of 5 trials"),
    (lambda: cu.check_count("c", 3, at_least=-1), "c: at_least must be a non-negative integer, got -1"),
    (lambda: cu.check_count("c", 3, at_least=1, at_most=True), "c: at_most must be a non-negative integer, got True"),
    (lambda: cu.check_count("c", 3, at_least=1, of=5.0), r"c: of must be a non-negative integer, got 5\.0"),
    (lambda: cu.relative_error([1.0, 2.0], [1.0]), r"measured has shape \(2,\) but predicted has shape \(1,\)"),
    (lambda: cu.relative_error([1.0, 2.0], [0.0, 0.0]),
     r"relative error is undefined for a zero prediction; use check_close\(atol=\.\.\.\)"),
], ids=lambda v: "case" if callable(v) else "")
def test_a_misused_check_says_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        call()


def test_relative_error_reads_tensors_and_refuses_what_would_give_nan():
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    assert cu.relative_error(w, [3.0, 8.0]) == pytest.approx(4 / np.sqrt(73))
    assert cu.relative_error([6.0, 8.0], w * 2) == 0.0
    for measured, predicted, message in (([np.nan], [1.0], "measured must contain only finite numbers"),
                                         ([1.0], [np.inf], "predicted must contain only finite numbers"),
                                         ("1.0", [1.0], "measured must be an array of numbers"),
                                         ([1.0], None, "predicted must be an array of numbers")):
        with pytest.raises(cu.validate.ArgumentError, match=f"^{message}"):
            cu.relative_error(measured, predicted)


def test_check_count_accepts_the_ends_of_its_range():
    """0 of 5 and 5 of 5 are counts; at_least = at_most is a range of one."""
    assert cu.check_count("c", 0, at_most=0, of=5, verbose=False) == 0
    assert cu.check_count("c", 5, at_least=5, of=5, verbose=False) == 5
    assert cu.check_count("c", np.int64(2), at_least=np.int64(2), at_most=np.int64(2), of=np.int64(2),
                          verbose=False) == 2
    assert cu.check_count("c", 0, at_least=0, of=0, verbose=False) == 0


def test_the_every_mode_result_is_the_largest_error_in_units_of_its_tolerance():
    """Entries with a zero tolerance count as 0 when exact and ∞ when not; the others as |m−p|/(atol+rtol|p|)."""
    p = np.array([1.0, 0.0, 4.0])
    assert float(cu.check_close("c", [1.02, 0.0, 4.1], p, rtol=0.05, mode="every", verbose=False)) == \
        pytest.approx(max(0.02 / 0.05, 0.1 / 0.2))
    assert float(cu.check_close("c", [1.0, 0.0, 4.0], p, rtol=0.05, mode="every", verbose=False)) == 0.0
    with pytest.raises(AssertionError, match="1 of 3 within"):
        cu.check_close("c", [1.0, 1e-300, 4.0], p, rtol=0.05, mode="every")


def test_a_check_result_is_a_float_that_displays_nothing():
    r = checks.CheckResult(0.25, "x", 1, "✓ x")
    assert r == 0.25 and r + 1 == 1.25 and r.passed is True and (r.name, r.line) == ("x", "✓ x")
    assert checks.CheckResult(1.0, "x", 0, "✗ x").passed is False
    assert r._ipython_display_() is None
