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
