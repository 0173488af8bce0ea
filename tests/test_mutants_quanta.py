"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.quanta.

compute_frontier against a brute-force minimum over every N; fit_logistic from a wide time grid and from
noisy data with a spurious early point; fit_count_threshold with two points, at its bounds and to its
tolerance; time_law_prefactor against the same integral taken over [0, ∞) at once (and a bug for
s0 > S/2); gradient_descent's zero rates, its early stop and its record_steps checks; the clipping of
tails and logistic arguments; the argument names and edge cases of the checks.

Equivalent mutants left (not killable by any valid input; their lines also carry killable mutants):

- x_time_law_prefactor__mutmut_43, _45, _55, _58 (quad's limit 200 -> 50 or 201): quad needs fewer than
  50 subintervals on both pieces (checked for α down to 1e-3 and s0 down to 1e-12: bit-identical);
  x_time_law_prefactor__mutmut_57 (tail to v0 + 81): the integrand there is below e^{−160}.
- x_gradient_descent__mutmut_125, _173 (range(steps + 2)): the loop always breaks at step == steps.
- x_compute_frontier__mutmut_85 (np.where(ok, steps, 2.0)): the placeholder only feeds entries replaced
  by inf. x_compute_frontier__mutmut_98 (take_along_axis without axis): NumPy's default axis is −1.
- x_fit_count_threshold__mutmut_37, _41 (method dropped): with bounds, scipy's default is "bounded".
  x_fit_count_threshold__mutmut_29 (lower bound n_min/11): below n_min every prediction is 1 and the
  objective is flat, so both bounds lie on the same plateau of minimisers.
- x_fit_logistic__mutmut_46 (a > 0.5 for the starting point) and _58 (starting rate 5/t0): only the start
  of the least-squares iteration moves, not the minimum it converges to.
- x_logistic__mutmut_33, _34 (clip at ±701): σ(701) = 1 exactly in floating point, σ(−701) ≈ 6e-305 vs
  1e-304 at −700 — both "zero" at any tolerance a probability can carry.
- x_lower_envelope__mutmut_28, _30 (argsort not stable): ties in x are all ≤ the same budgets, so the
  running minimum read at searchsorted(side="right") does not depend on their order.
- x_normaliser__mutmut_15, _18 (arange without dtype=float): integer k are exact in float64 and
  int ** negative float is computed in float64: the same numbers.
"""

import math
import time

import numpy as np
import pytest
from scipy import integrate

from course_utils.theory import quanta as Q
from course_utils.validate import ArgumentError


# ------------------------------------------------------------------------------------------------
# compute_frontier
# ------------------------------------------------------------------------------------------------

def _brute_frontier(C, p, lr, S, s0):
    """min over every integer N in [1, n_s] with C/N ≥ 1 of L(N, t = lr·C/N), one C at a time."""
    Ls, Ns = [], []
    for c in np.ravel(C):
        cand = [(Q.loss_time_parameters(lr * c / N, N, p, S, s0), N) for N in range(1, p.size + 1) if c / N >= 1]
        L, N = min(cand, key=lambda x: x[0])
        Ls.append(float(L))
        Ns.append(N)
    return np.array(Ls).reshape(np.shape(C)), np.array(Ns).reshape(np.shape(C))


def test_compute_frontier_is_the_minimum_over_every_unit_count():
    """With 30 skills the default 200-point grid contains every N in [1, 30], so the frontier must equal the
    brute-force minimum over all N (the optimum N* runs through 1 … 30 here, e.g. 25 and 29). s0 = 1e-2
    and lr = 0.7 are not the defaults. Same sums in another order: atol 1e-14."""
    p = Q.skill_probabilities(30, 0.5)
    C = np.geomspace(2, 1e6, 30)
    L, N = Q.compute_frontier(C, p, lr=0.7, s0=1e-2)
    Lb, Nb = _brute_frontier(C, p, 0.7, 1.0, 1e-2)
    np.testing.assert_allclose(L, Lb, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(N, Nb)
    assert L.dtype == np.float64 and np.issubdtype(N.dtype, np.integer)


def test_compute_frontier_keeps_the_shape_of_c():
    """A scalar C gives scalars, a (2, 3) array of C gives (2, 3) arrays, each entry its own minimum."""
    p = Q.skill_probabilities(12, 1.0)
    C = np.array([[3.0, 40.0, 500.0], [7.0, 90.0, 2000.0]])
    L, N = Q.compute_frontier(C, p)
    Lb, Nb = _brute_frontier(C, p, 1.0, 1.0, 1e-4)
    assert L.shape == (2, 3) and N.shape == (2, 3)
    np.testing.assert_allclose(L, Lb, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(N, Nb)
    L0, N0 = Q.compute_frontier(500.0, p)
    assert np.shape(L0) == () and float(L0) == pytest.approx(Lb[0, 2], abs=1e-14) and int(N0) == Nb[0, 2]


def test_compute_frontier_default_grid_has_200_points():
    """n_grid defaults to 200: with 3000 skills the grid is sparse enough for 200 and 201 points to differ,
    and the default must reproduce n_grid=200 exactly (the same computation)."""
    p = Q.skill_probabilities(3000, 0.5)
    C = np.geomspace(1e3, 1e8, 12)
    L, N = Q.compute_frontier(C, p)
    L200, N200 = Q.compute_frontier(C, p, n_grid=200)
    np.testing.assert_array_equal(L, L200)
    np.testing.assert_array_equal(N, N200)


# ------------------------------------------------------------------------------------------------
# fit_logistic, fit_count_threshold, count_threshold_law, logistic
# ------------------------------------------------------------------------------------------------

def test_fit_logistic_on_a_wide_log_grid():
    """Exact logistic data on times spanning six decades: the fit must start near the half-time (the first
    point with a ≥ ½), not at the smallest time where the steep start rate 4/t0 saturates and stalls.
    Noise-free data: the parameters come back to 1e-6."""
    t = np.geomspace(1e-4, 1e2, 60)
    t_half, rate = Q.fit_logistic(t, Q.logistic(t, 0.5, 8.0))
    assert t_half == pytest.approx(0.5, rel=1e-6) and rate == pytest.approx(8.0, rel=1e-6)


def test_fit_logistic_with_times_below_one_and_a_spurious_first_point():
    """Times in [0, 0.95] (no time above 1 is needed) and a first point at t = 0 that is above ½ by noise:
    the start falls back to the smallest positive time. One outlier of 0.6 among 20 points moves the
    fit by about 1e-5 in t½ and 0.1 % in the rate; tolerances 1e-3 and 2 %."""
    t = np.linspace(0.0, 0.95, 20)
    a = Q.logistic(t, 0.5, 20.0)
    a[0] = 0.6
    t_half, rate = Q.fit_logistic(t, a)
    assert t_half == pytest.approx(0.5, abs=1e-3) and rate == pytest.approx(20.0, rel=0.02)


def test_fit_logistic_needs_a_strict_crossing_of_one_half():
    """A curve that only touches ½ (from above or from below) does not locate a half-time."""
    t = np.array([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(ArgumentError, match="cross one half"):
        Q.fit_logistic(t, [0.5, 0.6, 0.8, 0.9])
    with pytest.raises(ArgumentError, match="cross one half"):
        Q.fit_logistic(t, [0.1, 0.2, 0.4, 0.5])


def test_fit_count_threshold_with_two_points_and_small_counts():
    """Two points fix D_c when one is below the threshold and one at it: n = (10, 40), a = (½, 1) → D_c = 20;
    counts below 1 are valid: n = (0.5, 2), a = (¼, 1) → D_c = 2. Bounded search with xatol 1e-6 in log:
    rel 1e-5."""
    assert Q.fit_count_threshold([10.0, 40.0], [0.5, 1.0]) == pytest.approx(20.0, rel=1e-5)
    assert Q.fit_count_threshold([0.5, 2.0], [0.25, 1.0]) == pytest.approx(2.0, rel=1e-5)
    with pytest.raises(ArgumentError, match="^n must"):
        Q.fit_count_threshold("n", [0.5, 1.0])


@pytest.mark.parametrize("D_c", [5.5, 13.7, 37.3, 81.0, 222.0])
def test_fit_count_threshold_recovers_an_exact_threshold(D_c):
    """Exact data a = min(n/D_c, 1) has its minimum (zero) at D_c: the search runs to xatol = 1e-6 in log D_c,
    so D_c comes back to 1e-6 relative."""
    n = np.array([3.0, 7, 12, 20, 35, 60, 100])
    assert Q.fit_count_threshold(n, np.minimum(n / D_c, 1.0)) == pytest.approx(D_c, rel=1e-6)


def test_fit_count_threshold_is_capped_at_ten_times_the_largest_count():
    """A skill far from learned (a = n/10⁵ for n ≤ 100) wants D_c = 10⁵; the bounded search stops at its
    upper end 10·max(n) = 1000 (to its xatol 1e-6 in log)."""
    n = np.array([10.0, 30.0, 100.0])
    assert Q.fit_count_threshold(n, n / 1e5) == pytest.approx(1000.0, rel=1e-5)


def test_count_threshold_law_accepts_zero_and_fractional_counts():
    """A skill never seen (n = 0) has learned nothing; half a sample, half of 1/D_c."""
    np.testing.assert_allclose(Q.count_threshold_law([0.0, 0.5, 10.0], 2.0), [0.0, 0.25, 1.0])


def test_logistic_far_from_its_half_time_neither_overflows_nor_underflows():
    """σ is clipped to |r(t − t½)| ≤ 700: far below it is ~1e-304 (not an overflowing e^{10⁴}), far above it
    is exactly 1 (e^{−700} does not underflow)."""
    with np.errstate(over="raise", under="raise"):
        out = Q.logistic([-1e4, 1e4], 1.0, 1.0)
    assert 0.0 < out[0] < 1e-300 and out[1] == 1.0


def test_calibrated_sigmoids_checks_its_arguments_by_name():
    with pytest.raises(ArgumentError, match="^p must have 1 dimension"):
        Q.calibrated_sigmoids([1.0, 2.0], [[0.5, 0.5]], 0.5, 1.0, 1.0)
    with pytest.raises(ArgumentError, match="^p must"):
        Q.calibrated_sigmoids([1.0, 2.0], "p", 0.5, 1.0, 1.0)
    with pytest.raises(ArgumentError, match="^rate_ref"):
        Q.calibrated_sigmoids([1.0, 2.0], [0.5, 0.5], 0.5, 1.0, -1.0)


# ------------------------------------------------------------------------------------------------
# time_law_prefactor
# ------------------------------------------------------------------------------------------------

def _time_prefactor_direct(alpha, S, s0):
    """Z^(−q) q ∫_0^∞ v^(−q) (1 − σ(v − ln R))² dv, R = S/s0 − 1, as one integral over [0, ∞)."""
    R, q = S / s0 - 1.0, 1.0 / (alpha + 1.0)

    def f(v):
        return v ** (-q) * (1.0 - 1.0 / (1.0 + R * math.exp(-v))) ** 2 if v < 700 else 0.0

    return Q.normaliser(math.inf, alpha) ** (-q) * q * integrate.quad(f, 0, np.inf, limit=200)[0]


@pytest.mark.parametrize("alpha, S, s0", [(1.0, 1.0, 0.25), (0.5, 2.0, 0.1), (0.3, 1.0, 1e-4)])
def test_time_law_prefactor_matches_one_integral_over_the_half_line(alpha, S, s0):
    """A_T from the definition, with s0 large enough (R = 3, 19) that R = S/s0 − 1 and S/s0 ± 1 differ at
    order one. Two quadratures of a smooth integrand with an integrable v^(−q) end: rel 1e-7."""
    assert Q.time_law_prefactor(alpha, S=S, s0=s0) == pytest.approx(_time_prefactor_direct(alpha, S, s0), rel=1e-7)


def test_time_law_prefactor_with_s0_above_half_of_s():
    """s0 ∈ (S/2, S) is a valid start (_check_init allows 0 < s0 < S): A_T is still the integral over [0, ∞)."""
    assert Q.time_law_prefactor(1.0, s0=0.6) == pytest.approx(_time_prefactor_direct(1.0, 1.0, 0.6), rel=1e-7)


# ------------------------------------------------------------------------------------------------
# gradient_descent
# ------------------------------------------------------------------------------------------------

def test_gradient_descent_with_a_skill_of_zero_frequency():
    """p_k = 0 is a skill that never appears: its strength stays a0² while the others grow."""
    s = Q.gradient_descent([1.0, 0.0], steps=50, lr=0.5)
    assert np.all(s[:, 1] == 1e-4) and s[-1, 0] > 0.5


@pytest.mark.parametrize("b0", [None, 2e-2])
def test_gradient_descent_stops_at_the_last_recorded_step(b0):
    """Records only at steps 0 … 3 of 10⁶: the loop ends after step 3 (both the a = b and the a ≠ b code).
    Four steps cost microseconds; running on through 10⁶ steps would cost seconds of CPU: limit 0.3 s.
    The records equal those of a 3-step run."""
    start = time.process_time()
    s = Q.gradient_descent([0.5, 0.2], steps=10**6, lr=0.5, b0=b0, record_steps=[0, 1, 2, 3])
    assert time.process_time() - start < 0.3
    np.testing.assert_array_equal(s, Q.gradient_descent([0.5, 0.2], steps=3, lr=0.5, b0=b0))


def test_gradient_descent_checks_record_steps_by_name():
    with pytest.raises(ArgumentError, match="^record_steps must have 1 dimension"):
        Q.gradient_descent([1.0], steps=3, lr=0.1, record_steps=[[0, 1]])
    with pytest.raises(ArgumentError, match="^record_steps must"):
        Q.gradient_descent([1.0], steps=3, lr=0.1, record_steps="abc")
    with pytest.raises(ArgumentError, match="^record_steps must hold whole numbers ≥ 0"):
        Q.gradient_descent([1.0], steps=3, lr=0.1, record_steps=[0.5])


# ------------------------------------------------------------------------------------------------
# losses
# ------------------------------------------------------------------------------------------------

def test_all_units_leave_no_loss_when_p_sums_to_one_up_to_rounding():
    """p = (0.6, 0.4 + 5e-10) passes the sum check (|Σp − 1| ≤ 1e-9); with N = n_s units every skill is available
    and the parameter loss is 0, not the −5e-10 left by 1 − Σp."""
    p = np.array([0.6, 0.4 + 5e-10])
    assert Q.loss_parameters(2, p) == 0.0
    s = np.ones((1, 2))                      # every skill learned: the loss with N units is Σ_{k>N} p_k
    assert Q.loss_with_units(s, p, [2])[0, 0] == 0.0


def test_loss_with_units_edge_cases():
    """An empty batch of strengths gives an empty result; N must be whole and in [0, n_s]; names."""
    p = np.array([0.5, 0.3, 0.2])
    assert Q.loss_with_units(np.zeros((0, 3)), p, [0, 2]).shape == (0, 2)
    with pytest.raises(ArgumentError, match="^N must hold whole numbers"):
        Q.loss_with_units(np.zeros(3), p, [-1])
    with pytest.raises(ArgumentError, match="^N must"):
        Q.loss_with_units(np.zeros(3), p, [np.nan])
    with pytest.raises(ArgumentError, match="^s must"):
        Q.loss_with_units("s", p, [1])


def test_probabilities_may_contain_a_zero():
    """A skill of probability 0 is allowed: it contributes nothing to the loss."""
    assert Q.loss_from_strengths([0.0, 0.0, 1.0], [0.5, 0.5, 0.0]) == pytest.approx(1.0)


def test_parameter_law_asymptote_at_zero_units():
    """N = 0 is allowed: L(0) = [(½)^(−α) − (n_s + ½)^(−α)]/(αZ) (the midpoint rule for Σ_{k≥1} p_k = 1)."""
    alpha, n_s = 1.0, 10
    want = (0.5 ** -alpha - (n_s + 0.5) ** -alpha) / (alpha * Q.normaliser(n_s, alpha))
    assert Q.parameter_law_asymptote(0, alpha, n_s) == pytest.approx(want)


def test_loss_time_parameters_unit_counts():
    """N may be given as float32 (a whole number); booleans are not unit counts; the argument is named."""
    p = np.array([0.5, 0.3, 0.2])
    got = Q.loss_time_parameters(0.0, np.array([2], dtype=np.float32), p)
    assert got[0] == pytest.approx(0.8 * (1 - 1e-4) ** 2 + 0.2)   # at t = 0 every s_k = s0
    with pytest.raises(ArgumentError, match="^N "):
        Q.loss_time_parameters(0.0, np.array([True]), p)
    with pytest.raises(ArgumentError, match="^N must"):
        Q.loss_time_parameters(0.0, "N", p)
