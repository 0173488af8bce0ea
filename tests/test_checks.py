import json

import numpy as np
import pytest

import course_utils as cu


def test_check_close_passes_and_prints(capsys):
    err = cu.check_close("decay", 0.3680, np.exp(-1), rtol=0.01)
    assert err < 1e-3
    out = capsys.readouterr().out
    assert out.startswith("✓ decay: measured 0.368 vs theory 0.3679")
    assert "≤ 1.00%" in out


def test_check_close_fails_with_the_numbers():
    with pytest.raises(AssertionError, match="✗ decay.*rel. err 10.00% > 1.00%"):
        cu.check_close("decay", 1.1, 1.0, rtol=0.01)


def test_check_close_absolute_and_arrays():
    cu.check_close("zero", [1e-9, -1e-9], [0.0, 0.0], atol=1e-6, verbose=False)
    with pytest.raises(AssertionError):
        cu.check_close("zero", [1e-3, 0.0], [0.0, 0.0], atol=1e-6, verbose=False)


def test_check_close_needs_a_tolerance_and_matching_shapes():
    with pytest.raises(ValueError, match="tolerance"):
        cu.check_close("x", 1.0, 1.0)
    with pytest.raises(ValueError, match="shape"):
        cu.check_close("x", [1.0, 2.0], [1.0], rtol=0.1)
    with pytest.raises(AssertionError, match="not finite"):
        cu.check_close("x", np.nan, 1.0, rtol=0.1)


def test_check_less(capsys):
    assert cu.check_less("error", 0.001, 0.01) == 0.001
    assert capsys.readouterr().out.strip() == "✓ error: 0.001 < 0.01"
    with pytest.raises(AssertionError, match="✗"):
        cu.check_less("error", 0.1, 0.01)


def test_relative_error():
    assert cu.relative_error([1.0, 1.0], [1.0, 2.0]) == pytest.approx(1 / np.sqrt(5))
    with pytest.raises(ValueError, match="zero prediction"):
        cu.relative_error([1.0], [0.0])


def test_check_close_every_entry_catches_a_small_entry_the_norm_misses():
    predicted = np.array([1.0, 1e-3])
    measured = np.array([1.0, 2e-3])  # the small entry is off by a factor 2
    cu.check_close("curve", measured, predicted, rtol=0.05, verbose=False)  # the norm hides it
    with pytest.raises(AssertionError, match="1 of 2 within"):
        cu.check_close("curve", measured, predicted, rtol=0.05, mode="every")
    r = cu.check_close("curve", [1.0, 1.04e-3], predicted, rtol=0.05, mode="every", verbose=False)
    assert r == pytest.approx(0.04e-3 / 0.05e-3)


def test_check_close_log_mode_bounds_every_ratio():
    with pytest.raises(AssertionError, match="largest ratio 2×"):
        cu.check_close("curve", [1.0, 2e-3], [1.0, 1e-3], rtol=0.1, mode="log")
    r = cu.check_close("curve", [1.05, 0.95e-3], [1.0, 1e-3], rtol=0.1, mode="log", verbose=False)
    assert r == pytest.approx(-np.log(0.95))
    with pytest.raises(ValueError, match="positive prediction"):
        cu.check_close("curve", [1.0], [-1.0], rtol=0.1, mode="log")
    with pytest.raises(AssertionError, match="positive measurement"):
        cu.check_close("curve", [-1.0], [1.0], rtol=0.1, mode="log")
    with pytest.raises(ValueError, match="mode"):
        cu.check_close("curve", [1.0], [1.0], rtol=0.1, mode="max")


def test_check_close_tolerance_is_atol_plus_rtol_times_the_norm():
    # err 0.15 is allowed by 0.1 + 0.1·1 = 0.2, but not by max(0.1, 0.1·1)
    cu.check_close("x", 1.15, 1.0, rtol=0.1, atol=0.1, verbose=False)
    with pytest.raises(AssertionError):
        cu.check_close("x", 1.25, 1.0, rtol=0.1, atol=0.1, verbose=False)
    with pytest.raises(ValueError, match="rtol"):
        cu.check_close("x", 1.0, 1.0, rtol=float("nan"))
    with pytest.raises(ValueError, match="rtol"):
        cu.check_close("x", 1.0, 1.0, rtol=-0.1)


def test_check_less_is_strict_and_never_passes_nan():
    with pytest.raises(AssertionError):
        cu.check_less("x", 1.0, 1.0, verbose=False)
    with pytest.raises(AssertionError):
        cu.check_less("x", float("nan"), 1.0, verbose=False)


def test_check_true_and_check_count(capsys):
    assert cu.check_true("ordered", True, detail="120 < 240") == 1.0
    assert capsys.readouterr().out.strip() == "✓ ordered (120 < 240)"
    with pytest.raises(AssertionError, match="✗ ordered"):
        cu.check_true("ordered", np.array([False]))
    with pytest.raises(ValueError, match="True or False"):
        cu.check_true("ordered", 1.0)
    assert cu.check_count("runs that fit", 10, at_least=9, of=12) == 10
    assert capsys.readouterr().out.strip() == "✓ runs that fit: 10 of 12 (≥ 9)"
    with pytest.raises(AssertionError, match="8 of 12 \\(< 9\\)"):
        cu.check_count("runs that fit", 8, at_least=9, of=12)
    with pytest.raises(AssertionError, match="1 \\(> 0\\)"):
        cu.check_count("reorderings", 1, at_most=0)
    cu.check_count("reorderings", 0, at_least=0, at_most=0, verbose=False)
    with pytest.raises(AssertionError, match="≠ 3"):
        cu.check_count("exact", 2, at_least=3, at_most=3)
    with pytest.raises(ValueError, match="integer"):
        cu.check_count("runs", 70.7, at_least=70)
    with pytest.raises(ValueError, match="at_least"):
        cu.check_count("runs", 3)


def test_warn_mode_and_the_check_log(monkeypatch, tmp_path, capsys):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("COURSE_CHECKS", "warn")
    monkeypatch.setenv("COURSE_CHECK_LOG", str(log))
    with pytest.warns(cu.checks.CheckWarning, match="✗ decay"):
        r = cu.check_close("decay", 1.1, 1.0, rtol=0.01)
    assert not r.passed and "✗ decay" in capsys.readouterr().out
    cu.check_less("small", 0.1, 1.0)
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(x["name"], x["passed"]) for x in lines] == [("decay", False), ("small", True)]
    assert lines[1]["measured"] == pytest.approx(0.1) and lines[1]["bound"] == 1.0
    monkeypatch.setenv("COURSE_CHECKS", "loose")
    with pytest.raises(ValueError, match="COURSE_CHECKS"):
        cu.check_less("small", 0.1, 1.0)


def test_a_check_shows_nothing_under_a_notebook_cell():
    r = cu.check_less("x", 0.1, 1.0, verbose=False)
    assert isinstance(r, float) and r.passed and r._ipython_display_() is None


# ---------------------------------------------------------------------------------------------
# Bad tolerances, NaN, non-integer counts (issue 21), and the mutants a weaker test would miss
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("tolerance", ["rtol", "atol"])
@pytest.mark.parametrize("bad", [float("nan"), -0.1, float("inf"), "0.1", True])
def test_check_close_refuses_a_bad_tolerance_by_name(tolerance, bad):
    with pytest.raises(cu.validate.ArgumentError, match=f"{tolerance} must be a finite number") as info:
        cu.check_close("x", 1.0, 1.0, **{tolerance: bad})
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("measured, predicted, which", [
    (np.nan, 1.0, "measurement"), (1.0, np.nan, "prediction"), ([1.0, np.nan], [1.0, 1.0], "measurement"),
    ([1.0, 1.0], [np.nan, 1.0], "prediction"), (np.inf, 1.0, "measurement")])
@pytest.mark.parametrize("mode", ["norm", "every", "log"])
def test_check_close_never_passes_nan_and_says_so(measured, predicted, which, mode, monkeypatch, capsys):
    with pytest.raises(AssertionError, match=f"the {which} is not finite"):
        cu.check_close("x", measured, predicted, rtol=1e9 if mode != "log" else 0.1, mode=mode)
    monkeypatch.setenv("COURSE_CHECKS", "warn")
    with pytest.warns(cu.checks.CheckWarning):
        r = cu.check_close("x", measured, predicted, rtol=0.1, mode=mode)
    assert not r.passed
    out = capsys.readouterr().out
    assert ("NaN" in out) == bool(np.isnan(np.asarray([measured, predicted], dtype=object).astype(float)).any())


def test_check_close_tolerance_is_the_sum_not_the_max():
    """The mutant ``max(atol, rtol‖p‖)`` for ``atol + rtol‖p‖``: an error between the two must pass,
    in both the norm and the per-entry mode."""
    assert cu.check_close("x", 1.15, 1.0, rtol=0.1, atol=0.1, verbose=False).passed
    assert cu.check_close("x", [1.15, 2.25], [1.0, 2.0], rtol=0.1, atol=0.1, mode="every", verbose=False).passed
    with pytest.raises(AssertionError):      # above the sum fails
        cu.check_close("x", [1.25, 2.0], [1.0, 2.0], rtol=0.1, atol=0.1, mode="every", verbose=False)
    with pytest.raises(AssertionError):
        cu.check_close("x", 1.0 + 0.2 + 1e-9, 1.0, rtol=0.1, atol=0.1, verbose=False)
    assert cu.check_close("x", 1.2, 1.0, rtol=0.1, atol=0.1, verbose=False).passed   # the bound itself passes


def test_check_less_fails_at_equality_and_on_nan(capsys):
    """The mutant ``≤`` for ``<``: a value equal to its bound must fail; NaN never passes."""
    with pytest.raises(AssertionError, match="≮"):
        cu.check_less("x", 0.01, 0.01)
    with pytest.raises(AssertionError, match="the value is NaN"):
        cu.check_less("x", float("nan"), 1.0)
    with pytest.raises(AssertionError, match="the bound is NaN"):
        cu.check_less("x", 0.5, float("nan"))
    with pytest.raises(AssertionError):
        cu.check_less("x", float("inf"), 1e300)
    assert cu.check_less("x", np.nextafter(0.01, 0), 0.01, verbose=False).passed


@pytest.mark.parametrize("count", [70.7, float("nan"), float("inf"), -1, True, "3", None, [1, 2]])
def test_check_count_refuses_what_is_not_a_count(count):
    with pytest.raises(ValueError, match="count must be (an integer|one number)"):
        cu.check_count("runs", count, at_least=0)


@pytest.mark.parametrize("bound", [1.5, float("nan"), -1, True, "3"])
def test_check_count_refuses_bad_bounds(bound):
    for key in ("at_least", "at_most", "of"):
        kwargs = {"at_least": 0, key: bound}
        with pytest.raises(ValueError, match=key):
            cu.check_count("runs", 1, **kwargs)


def test_check_count_takes_counts_from_numpy_and_torch():
    import torch
    assert cu.check_count("runs", np.int64(3), at_least=3, verbose=False) == 3
    assert cu.check_count("runs", torch.tensor([True, True, False]).sum(), at_least=2, verbose=False) == 2
    assert cu.check_count("runs", 3.0, at_most=3, verbose=False) == 3
    with pytest.raises(AssertionError, match="≥ 4|< 4"):
        cu.check_count("runs", 3, at_least=4)
