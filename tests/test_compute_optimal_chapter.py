"""Chapter "How large a model for a given compute?" (book/06_scaling/06_compute_optimal): its exercise checkers.

The chapter's theory-vs-experiment checks run inside the notebook (nbval, tests/test_notebooks.py);
the library it uses is tested in tests/test_theory_compute_optimal.py.
"""

import math

import numpy as np

from course_utils.exercises import compute_optimal as ex
from course_utils.theory import compute_optimal as co

CHAPTER = "book/06_scaling/06_compute_optimal"


def optimal_size(C, E, A, alpha, B, beta):
    G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
    return G * (C / 6) ** (beta / (alpha + beta))


def test_right_answer_passes_and_agrees_with_the_library(capsys):
    assert ex.check_optimal_size(optimal_size)
    assert "✓" in capsys.readouterr().out
    alloc = co.compute_optimal_allocation(1e9, [0.01, 10.0, 0.8, 40.0, 0.5])
    assert math.isclose(optimal_size(1e9, 0.01, 10.0, 0.8, 40.0, 0.5), float(alloc.N), rel_tol=1e-10)


def test_wrong_answers_fail_with_a_verdict_not_a_traceback(capsys):
    wrong = [
        lambda C, E, A, alpha, B, beta: C / (6 * optimal_size(C, E, A, alpha, B, beta)),   # D* instead of N*
        lambda C, E, A, alpha, B, beta: optimal_size(6 * C, E, A, alpha, B, beta),          # forgot the 6
        lambda C, E, A, alpha, B, beta: float("nan"),
        lambda C, E, A, alpha, B, beta: np.ones(3),
        lambda C, E, A, alpha, B, beta: None,
        lambda C, E, A, alpha, B, beta: 1 / 0,
        lambda C: C,                                                                         # wrong signature
        lambda C, E, A, alpha, B, beta: optimal_size,                                       # a function, not a value
        3.0,                                                                                 # a value, not a function
        None,
    ]
    for fn in wrong:
        assert ex.check_optimal_size(fn) is False
        assert "✗" in capsys.readouterr().out


def test_frontier_loss_exponent_checker(capsys):
    assert ex.check_frontier_loss_exponent(0.8 * 0.5 / 1.3, 0.8, 0.5)
    for bad in (0.5 / 1.3, float("nan"), None, "0.3", [0.3, 0.3], optimal_size):
        assert ex.check_frontier_loss_exponent(bad, 0.8, 0.5) is False
    assert ex.check_frontier_loss_exponent(0.3, -1, 0.5) is False
    out = capsys.readouterr().out
    assert out.count("✗") == 7 and out.count("✓") == 1
