"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.lazy_rich.

The rounding tolerances of the two |ω| ≤ ρ checks (their closed ends are accepted), gradient descent that
overflows in one layer only, and the argument names in gradient_descent's own checks of a and b.
"""

import numpy as np
import pytest

from course_utils.theory import lazy_rich as T
from course_utils.train import TrainingDiverged
from course_utils.validate import ArgumentError

A, B = np.array([0.3, -0.2, 0.5]), np.array([0.1, 0.4, -0.3])


def test_omega_at_rho_times_one_plus_the_rounding_tolerance_is_accepted():
    """|ω| ≤ ρ(1 + 1e-12) is allowed (ω = ρ up to rounding: the output already equals ‖θ₀‖²γ/(2Z))."""
    rho = 2.0
    omega = rho * (1 + 1e-12)                     # the closed end of the tolerance
    tau = T.rapidity_at_convergence(rho, omega)   # s₊ = (1 + √(1 + ρ² − ω²))/(ρ + ω) ≈ (1 + 1)/4 → τ ≈ ½ ln ½
    assert tau == pytest.approx(0.5 * np.log(0.5), abs=1e-9)
    assert T.norm_ratio_from_rapidity(0.3, rho, omega) == pytest.approx(np.sqrt(np.cosh(0.6) + np.sinh(0.6)))
    assert T.relative_change_from_rapidity(0.3, rho, -omega) == pytest.approx(
        np.sqrt(2 * (np.cosh(0.3) - 1) * (np.cosh(0.3) - np.sinh(0.3))))
    with pytest.raises(ArgumentError, match="omega must satisfy"):
        T.rapidity_at_convergence(rho, rho * (1 + 1e-10))


def test_w0_at_the_largest_output_times_the_rounding_tolerance_is_accepted():
    """|w₀| Z ≤ ½‖θ₀‖² (1 + 1e-12): the closed end is a valid model (a_i = b_i), just beyond it is refused."""
    m = T.ScalarModel(norm_sq=2.0, w0=1 + 1e-12)             # ½ Q (1 + 1e-12) with Q = 2, Z = 1
    assert m.omega == pytest.approx(1.0) and m.rho == pytest.approx(1.0)
    assert float(m.rapidity(0.0)) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ArgumentError, match="exceeds"):
        T.ScalarModel(norm_sq=2.0, w0=1 + 1e-10)


def test_gradient_descent_reports_an_overflow_of_one_layer_alone():
    """b overflows in the last step while a stays finite: still a divergence (g = S = 1 at b = 0)."""
    with pytest.raises(TrainingDiverged, match="diverged"), np.errstate(over="ignore", invalid="ignore"):
        T.gradient_descent(np.array([1e200]), np.array([0.0]), lr=1e200, steps=1)
    # one step below the overflow the same run returns the step by hand: a' = a + η g b, b' = b + η g a
    a1, b1 = T.gradient_descent(np.array([1e100]), np.array([0.0]), lr=1e100, steps=1)
    assert a1[0] == 1e100 and b1[0] == pytest.approx(1e200)


@pytest.mark.parametrize("a, b, name", [("a", B, "a"), (A, "b", "b"), (None, B, "a"), (A, {"b": 1}, "b")])
def test_gradient_descent_names_the_bad_weight_array(a, b, name):
    with pytest.raises(ArgumentError, match=f"^{name} must be"):
        T.gradient_descent(a, b, steps=1)
