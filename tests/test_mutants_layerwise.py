"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.layerwise.

The shape checks of every closed form (arguments that do not broadcast end in the ArgumentError that names
them, not in NumPy's own error later), the argument names of the value checks, the shapes of the results
(one value per mode, broadcast shapes), the edges of the validity checks (c = 0 with w₀ = 0, w = S, low =
high), and conservation_drift's quadrature against the closed form of ∫ g² dt for the balanced logistic
(including a sigmoid so sharp that a quadrature without the midpoint as break point misses it entirely).

Found and fixed: conservation_drift missed part of ∫ g² dt when T ≫ t½ (no break points after t½), and
diagonal_mode started from w₀/2 for |w₀| < 1e-154 with c = 0 (w₀² underflowed in √(w₀² + q²); now hypot).

Equivalent mutants left (each on a line with other, non-equivalent mutants, so no pragma):

- _diag_setup ``S * sign`` -> ``S / sign`` and ``w0 * sign`` -> ``w0 / sign`` (mutmut_46, _47), and
  diagonal_time_to ``w * sign`` -> ``w / sign``, ``... * sign`` -> ``... / sign`` (mutmut_29, _31): sign is ±1
  (S = 0 is refused before), and x/±1 = x·±1 exactly.
- diagonal_time_to ``np.asarray(w0, dtype=float)`` -> ``dtype=None`` / dropped (mutmut_33, _35): w0 has already
  passed the finite-number check, and multiplying by the float array ``sign`` makes it float either way.
- saxe_plateau_time ``... * np.ones(shape)`` -> ``... / np.ones(shape)`` (mutmut_31): x/1 = x·1.
- silent_alignment_strength ``full_matrices=False`` -> ``None`` (mutmut_49): NumPy only tests its truth.
- _diag_setup: ``lam`` dropped from / None in its V.broadcast (mutmut_28, _32): lam enters no computation there,
  and every caller (diagonal_mode, diagonal_time_to, conservation_drift) checks lam's shape again itself.
- conservation_drift ``limit=200`` -> ``201`` (mutmut_90): only differs for an integrand that needs more than
  200 subintervals (QUADPACK then warns in both). ``wi * si > 0`` -> ``>= 0`` (mutmut_107): only adds the
  midpoint as a break point for w₀ = 0 with c ≠ 0 (a better quadrature, never a worse one).

Not equivalent, left: conservation_drift without ``limit=200`` (QUADPACK's 50, mutmut_87; no integrand of the
course needs more than 50 subintervals), and crossing_time without ``ci`` as the break point (mutmut_103: the
balanced midpoint, later than the true one for c ≠ 0; with the quadrature bug above it is *more* accurate,
not less, in the cases tried).
"""

import warnings

import numpy as np
import pytest

from course_utils.theory import layerwise as lw
from course_utils.validate import ArgumentError

A2, A3 = np.array([0.5, 1.0]), np.array([0.2, 0.4, 0.6])        # shapes (2,) and (3,): they do not broadcast
SHAPES = "the shapes of"


# ----------------------------------------------------------------------------------------------
# shape checks name the arguments that do not fit
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, names", [
    (lambda: lw.linear_mode(A2, 1.0, A3 + 1), "S"),
    (lambda: lw.linear_mode(A2, 1.0, 1.0, theta0=A3), "theta0"),
    (lambda: lw.linear_time_to(A2, 1.0, theta0=0.0, S=A3 + 1), "S"),
    (lambda: lw.linear_time_to(A2, A3 + 1), "lam"),
    (lambda: lw.linear_time_to(A2, 1.0, theta0=A3 - 1), "theta0"),
    (lambda: lw.linear_time_to(0.5, A2, theta0=A3 - 1), "theta0"),
    (lambda: lw.linear_time_to(A3 / 2, A2), "fraction"),
    (lambda: lw.linear_time_to(0.5, A2, S=A3 + 1), "S"),
    (lambda: lw.diagonal_mode(1.0, A2, A3 + 1, 0.1), "lam"),
    (lambda: lw.diagonal_mode(1.0, 1.0, A2 + 1, A3 / 10), "w0"),
    (lambda: lw.diagonal_mode(1.0, 1.0, A2 + 1, 0.1, A3), "c"),
    (lambda: lw.diagonal_mode(A2, 1.0, 1.0, 0.1, A3), "c"),
    (lambda: lw.diagonal_mode(A2, A3, 1.0, 0.1), "lam"),
    (lambda: lw.diagonal_mode(A2, 1.0, 1.0, A3 / 10), "w0"),
    (lambda: lw.diagonal_time_to(0.5, A2, A3 + 1, 0.1), "lam"),
    (lambda: lw.diagonal_time_to(0.5, 1.0, A2 + 1, A3 / 10), "w0"),
    (lambda: lw.diagonal_time_to(0.5, 1.0, A2 + 1, 0.1, A3), "c"),
    (lambda: lw.diagonal_time_to(A2 / 2, A3, 1.0, 0.1), "lam"),
    (lambda: lw.diagonal_time_to(A2 / 2, 1.0, 1.0, A3 / 10), "w0"),
    (lambda: lw.diagonal_time_to(A2 / 2, 1.0, 1.0, 0.1, A3), "c"),
    (lambda: lw.diagonal_time_to(0.5, A2, 1.0, 0.1, A3), "c"),
    (lambda: lw.rise_time(A2, A3 + 1), "lam"),
    (lambda: lw.saxe_rhs(A2, 1.0, 2, lam=A3 + 1), "lam"),
    (lambda: lw.saxe_rhs(0.5, A2 + 1, 2, lam=A3 + 1), "lam"),
    (lambda: lw.saxe_plateau_time(A2 + 1, 0.01, 2, lam=A3 + 1), "lam"),
    (lambda: lw.saxe_plateau_time(2.0, A2 / 100, 3, lam=A3 + 1), "lam"),
])
def test_arguments_that_do_not_broadcast_are_named(call, names):
    """Shapes (2,) against (3,): the ArgumentError of the shape check, naming the argument (NumPy's own
    'operands could not be broadcast' later would be a plain ValueError without the names)."""
    with pytest.raises(ArgumentError, match=SHAPES) as err:
        call()
    assert names in str(err.value)


def test_conservation_drift_names_its_arrays_in_the_shape_error():
    """The arrays are named lam, S, w0, c in the message of the shape check (in this order)."""
    with pytest.raises(ArgumentError, match="the shapes of lam, S, w0, c must broadcast") as err:
        lw.conservation_drift(0.1, 1.0, A2, 1.0, A3 / 10, 0.0)
    assert "lam (2,)" in str(err.value) and "w0 (3,)" in str(err.value)
    with pytest.raises(ArgumentError, match="S \\(3,\\)"):
        lw.conservation_drift(0.1, 1.0, 1.0, A3 + 1, A2 / 10)
    with pytest.raises(ArgumentError, match="c \\(3,\\)"):
        lw.conservation_drift(0.1, 1.0, 1.0, 1.0, A2 / 10, A3)


@pytest.mark.parametrize("call, start", [
    (lambda: lw.diagonal_mode(1.0, 1.0, np.nan, 0.1), "S must"),
    (lambda: lw.diagonal_time_to(0.5, 1.0, np.nan, 0.1), "S must"),
    (lambda: lw.linear_time_to(0.5, 0.0), "lam must"),
    (lambda: lw.linear_time_to(0.5, np.nan), "lam must"),
    (lambda: lw.linear_time_to(0.5, 1.0, S=np.nan), "S must"),
    (lambda: lw.rise_time(np.nan, 1.0), "lam must"),
    (lambda: lw.rise_time(-1.0, 1.0), "lam must"),
    (lambda: lw.saxe_plateau_time(np.nan, 0.01, 2), "s must"),
    (lambda: lw.saxe_plateau_time(0.0, 0.01, 2), "s must"),
    (lambda: lw.saxe_plateau_time(1.0, 0.01, 2, lam=0.0), "lam must"),
    (lambda: lw.saxe_plateau_time(1.0, 0.01, 2, lam=np.inf), "lam must"),
    (lambda: lw.rise_time(1.0, 1.0, low=0.5, high=0.5), "need 0 < low < high < 1"),
    (lambda: lw.diagonal_mode(1.0, 1.0, 1.0, 0.0, 0.0), "w0 must have the sign of S"),
    (lambda: lw.diagonal_time_to(0.5, 1.0, -1.0, 0.0), "w0 must have the sign of S"),
    (lambda: lw.lazy_residual("abc", np.eye(2), 1.0), "weights must be a non-empty list"),
])
def test_value_checks_name_their_argument(call, start):
    """A bad value is refused by the check that names it; low = high is no interval (the 10-90 % width
    would be 0), and w₀ = 0 with c = 0 sits on the saddle w = 0 forever (the product never grows)."""
    with pytest.raises(ArgumentError, match="^" + start):
        call()


# ----------------------------------------------------------------------------------------------
# shapes of results
# ----------------------------------------------------------------------------------------------

def test_saxe_plateau_time_of_depth_one_has_the_broadcast_shape():
    """Depth 1: ln 2/λ for every mode, one value per entry of s or of u₀ (whichever is an array)."""
    np.testing.assert_allclose(lw.saxe_plateau_time(A3 + 1, 0.01, 1), np.full(3, np.log(2)), rtol=1e-15)
    np.testing.assert_allclose(lw.saxe_plateau_time(2.0, A3 / 10, 1, lam=2.0), np.full(3, np.log(2) / 2),
                               rtol=1e-15)
    assert lw.saxe_plateau_time(np.ones((2, 2)), 0.01, 1).shape == (2, 2)
    assert lw.saxe_plateau_time(1.0, np.full((2, 1), 0.01), 1).shape == (2, 1)


def test_conservation_drift_has_the_shape_of_its_broadcast_arguments():
    """One value per mode, shaped as the broadcast of lam, S, w0, c: (2, 2) in, (2, 2) out; a scalar in, a
    0-d array out; and each entry is the scalar call of its mode."""
    lam = np.array([[1.0, 2.0], [0.5, 1.5]])
    out = lw.conservation_drift(0.05, 3.0, lam, 1.0, 0.1)
    assert out.shape == (2, 2)
    for i in range(2):
        for j in range(2):
            assert out[i, j] == pytest.approx(float(lw.conservation_drift(0.05, 3.0, lam[i, j], 1.0, 0.1)), rel=1e-12)
    assert lw.conservation_drift(0.05, 3.0, 1.0, 1.0, 0.1).shape == ()


# ----------------------------------------------------------------------------------------------
# conservation_drift's quadrature
# ----------------------------------------------------------------------------------------------

def _balanced_drift(lr, T, lam, S, w0):
    """−η ∫₀ᵀ λ²(w − S)² dt for the balanced logistic w = S/(1 + e^{−u}), u = 2λS(t − t½):
    (w − S)² = S²/(1 + e^u)², and ∫ du/(1 + e^u)² = F(u) = −ln(1 + e^{−u}) + 1/(1 + e^u)."""
    th = np.log(S / w0 - 1) / (2 * lam * S)

    def F(u):
        return -np.logaddexp(0.0, -u) + 0.5 * (1 - np.tanh(u / 2))      # 1/(1 + e^u) without overflow
    return -lr * lam * S / 2 * (F(2 * lam * S * (T - th)) - F(-np.log(S / w0 - 1)))


def test_conservation_drift_is_the_integral_of_g_squared_for_the_balanced_sigmoid():
    """A mild sigmoid (w₀ = 0.05, T = 8) to 1e-10; a very sharp one (w₀ = 1e-300: midpoint t½ ≈ 345, width
    ~1, T = 1e7) to 1e-9: the quadrature must find the transition, which is 1e-4 of [0, T] (without
    the midpoint and the decay times after it as break points it returns 0, or misses part of the tail)."""
    assert float(lw.conservation_drift(0.1, 8.0, 1.0, 1.0, 0.05)) == pytest.approx(
        _balanced_drift(0.1, 8.0, 1.0, 1.0, 0.05), rel=1e-10)
    assert float(lw.conservation_drift(0.1, 1e7, 1.0, 1.0, 1e-300)) == pytest.approx(
        _balanced_drift(0.1, 1e7, 1.0, 1.0, 1e-300), rel=1e-9)
    # negative target and w₀ (the (w, S) → (−w, −S) symmetry): the same value
    assert float(lw.conservation_drift(0.1, 1e7, 1.0, -1.0, -1e-300)) == pytest.approx(
        _balanced_drift(0.1, 1e7, 1.0, 1.0, 1e-300), rel=1e-9)


def test_conservation_drift_is_accurate_long_after_the_transition():
    """∫₀ᵀ g² dt no longer changes once w has converged: T = 1e7 gives the value of T = 200 (to 1e-8;
    g² < e^{−2λr(T − t½)} beyond, far below rounding)."""
    for w0, c in ((1e-300, 0.0), (1e-300, 1.0)):
        long = float(lw.conservation_drift(0.1, 1e7, 1.0, 1.0, w0, c))
        short = float(lw.conservation_drift(0.1, 400.0, 1.0, 1.0, w0, c))
        assert long == pytest.approx(short, rel=1e-8)


def test_diagonal_mode_starts_at_a_tiny_w0():
    """w(0) = w₀ also where w₀² underflows (|w₀| < 1e-154), for c = 0 and c ≠ 0; the balanced logistic
    w(t) = S/[1 + (S/w₀ − 1)e^{−2λSt}] at its midpoint t½ = ln(S/w₀ − 1)/(2λS) is S/2."""
    for w0 in (1e-300, 1e-200, 1e-100):
        assert float(lw.diagonal_mode(0.0, 1.0, 1.0, w0)) == pytest.approx(w0, rel=1e-12)
        assert float(lw.diagonal_mode(0.0, 1.0, 1.0, w0, 1e-100)) == pytest.approx(w0, rel=1e-12)
        t_half = np.log(1 / w0 - 1) / 2
        assert float(lw.diagonal_mode(t_half, 1.0, 1.0, w0)) == pytest.approx(0.5, rel=1e-9)


def test_conservation_drift_is_zero_when_started_at_the_target():
    """w₀ = S: the gradient g = λ(w − S) is 0 at all times, so c does not drift (the midpoint does not exist:
    no crossing of S/2 is asked for)."""
    assert float(lw.conservation_drift(0.1, 5.0, 1.0, 1.0, 1.0)) == 0.0
    assert float(lw.conservation_drift(0.1, 5.0, 2.0, -0.5, -0.5, 0.3)) == 0.0


def test_conservation_drift_refuses_a_zero_target_without_numpy_warnings():
    """S = 0 is refused (by the closed form it integrates), with no division-by-zero warning on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ArgumentError, match="S must be non-zero"):
            lw.conservation_drift(0.1, 1.0, 1.0, 0.0, 0.1)
        with pytest.raises(ArgumentError, match="w must lie between"):
            lw.diagonal_time_to(1.0, 1.0, 1.0, 0.1)                     # w = S: reached only as t → ∞
