"""Tests of course_utils.exercises.answers: reading a student's answer, and the verdicts."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.exercises import answers as A


def test_number_refuses_nan_inf_and_non_numbers():
    assert A.number(2) == 2.0 and A.number(np.float32(0.5)) == 0.5 and A.number(torch.tensor([3.0])) == 3.0
    for bad, words in [(float("nan"), "NaN"), (float("inf"), "infinite"), ("1", "number"), (None, "number"),
                       (np.ones(2), "single number"), (len, "call the function"), (True, "number")]:
        with pytest.raises(A.NotAnAnswer, match=words):
            A.number(bad)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6))
@settings(max_examples=100, deadline=None)
def test_whole_number_accepts_only_whole_numbers(x):
    if float(x).is_integer():
        assert A.whole_number(x) == int(x)
    else:
        with pytest.raises(A.NotAnAnswer, match="whole number"):
            A.whole_number(x)


def test_values_shape_and_finiteness():
    assert A.values([1, 2], shape=(2,)).tolist() == [1.0, 2.0]
    assert A.values(torch.ones(2, 3), shape=(None, 3)).shape == (2, 3)
    with pytest.raises(A.NotAnAnswer, match=r"shape \(3,\)"):
        A.values([1, 2], shape=(3,))
    with pytest.raises(A.NotAnAnswer, match="1 NaN or infinite entry of 2"):
        A.values([1, np.nan])
    for bad in [None, "abc", len, [[1], [1, 2]]]:
        with pytest.raises(A.NotAnAnswer):
            A.values(bad)


def test_call_reports_what_the_student_function_raised():
    with pytest.raises(A.NotAnAnswer, match="ZeroDivisionError"):
        A.call(lambda: 1 / 0)
    with pytest.raises(A.NotAnAnswer, match="should be a function"):
        A.call(np.ones(3))
    assert A.call(lambda x: x + 1, 1) == 2


def test_checker_turns_everything_into_a_false_verdict(capsys):
    @A.checker
    def check_thing(answer):
        value = A.number(answer)
        return A.verdict(value == 3, "thing", "three")

    assert check_thing(3) is True
    assert "✓ correct: thing. three" in capsys.readouterr().out
    assert check_thing(float("nan")) is False
    assert "✗ not yet: thing. The answer is NaN" in capsys.readouterr().out

    @A.checker
    def check_buggy(answer):
        return answer[5]

    assert check_buggy([1]) is False
    assert "✗ could not check this answer (check_buggy): IndexError" in capsys.readouterr().out

    @A.checker
    def check_truthy(answer):
        return answer  # a non-bool truthy value is not a pass

    assert check_truthy("yes") is False and check_truthy(np.bool_(True)) is True


def test_verdict_quiet():
    assert A.verdict(True, "x", verbose=False) is True


def test_complex_numbers_and_text_are_not_answers():
    for bad in [1 + 2j, np.array([1j]), torch.tensor([1j]), ["1", "2"], np.array(["3.5"])]:
        with pytest.raises(A.NotAnAnswer, match="real numbers|text"):
            A.values(bad)
    with pytest.raises(A.NotAnAnswer, match="real numbers"):
        A.number(2 + 0j)


def test_checker_reads_a_positional_verbose_and_capitalises(capsys):
    @A.checker
    def check_quiet(answer, verbose=True):
        return A.say(A.number(answer) == 1, "one", verbose)

    assert check_quiet(float("nan"), False) is False
    assert capsys.readouterr().out == ""
    assert check_quiet(float("nan")) is False
    assert "✗ not yet: quiet. The answer is NaN" in capsys.readouterr().out
    assert check_quiet(1) is True and capsys.readouterr().out == "✓ one\n"


def test_settings_and_tolerances_become_verdicts():
    from course_utils.validate import positive_int
    assert A.setting(positive_int, "p", 5) == 5
    with pytest.raises(A.NotAnAnswer, match="p must be an integer ≥ 1"):
        A.setting(positive_int, "p", 0)
    assert A.tolerance("rtol", 0.05) == 0.05
    for bad in [0, 0.5, float("nan"), "0.1"]:
        with pytest.raises(A.NotAnAnswer, match="rtol"):
            A.tolerance("rtol", bad)
