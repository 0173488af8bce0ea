"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.emergence.

The one-parameter fits (fit_data_threshold, fit_units_per_skill) search log D_c (log N_c) in a bounded
range to the tolerance xatol = 1e-6, i.e. a relative precision of about 1e-6 on the threshold; these tests
pin that precision on exact data, the ends of the search range (a skill never learned only bounds the
threshold from below), high skill ranks k, and the end tolerance of shifted_total.
"""

import numpy as np
import pytest

from course_utils.theory import emergence as em


@pytest.mark.parametrize("D_c", [33.3, 60.0, 150.0])
def test_fit_data_threshold_is_precise_on_exact_data(D_c):
    # exact data R = min(d/D_c, 1): the fitted threshold is D_c to the search tolerance (relative 1e-6)
    d = np.geomspace(1, 100, 15)
    assert em.fit_data_threshold(d, np.minimum(d / D_c, 1)) == pytest.approx(D_c, rel=1e-6)


def test_fit_data_threshold_of_a_skill_never_learned_is_the_top_of_the_search():
    # R = 0 everywhere: the cost Σ (d/D_c)² falls as D_c grows, so the fit runs to the top of its search
    # range, ten times the largest sample count (a lower bound on D_c, not an estimate)
    d = np.array([2.0, 5.0, 20.0])
    got = em.fit_data_threshold(d, np.zeros(3))
    assert got == pytest.approx(10 * d.max(), rel=1e-5)
    assert np.sum((np.minimum(d / got, 1)) ** 2) < np.sum((np.minimum(d / (9 * d.max()), 1)) ** 2)


def test_fit_units_per_skill_for_a_high_rank_skill_below_the_smallest_N():
    # skill k = 4 with N_c = 0.3: it starts at 3 N_c = 0.9 and is complete at 4 N_c = 1.2, so all points
    # N ≥ 1 lie past N/4 > N_c: the search must reach down to N.min/(10 k), below N.min/4
    N = np.linspace(1.0, 1.4, 15)
    R = np.clip(N / 0.3 - 3, 0, 1)
    assert em.fit_units_per_skill(N, R, 4) == pytest.approx(0.3, rel=1e-6)


def test_fit_units_per_skill_is_precise_on_exact_data():
    # skill 6 of N_c = 1 rises between N = 5 and 6; the points cover the rise and its end
    N = np.linspace(5.2, 6.2, 11)
    R = np.clip(N / 1.0 - 5, 0, 1)
    assert em.fit_units_per_skill(N, R, 6) == pytest.approx(1.0, rel=1e-6)


def test_fit_units_per_skill_of_a_skill_never_learned_is_the_top_of_the_search():
    # k = 1, R = 0 everywhere: Σ (N/N_c)² (N < N_c) falls as N_c grows; the fit stops at 10 N.max
    N = np.linspace(1.0, 40.0, 12)
    assert em.fit_units_per_skill(N, np.zeros_like(N), 1) == pytest.approx(400.0, rel=1e-5)


def test_fit_units_per_skill_finds_the_minimum_when_only_the_largest_N_shows_the_skill():
    """A bounded Brent search alone is local: with k ≥ 2 the cost is flat where every point is at 0 (or at 1),
    and it stopped there (71.7 instead of 37); the grid over ln N_c finds the minimum."""
    N = np.geomspace(1, 100, 15)
    R = np.clip(N / 37.0 - 2, 0, 1)                                 # skill 3: only N = 100 holds some of it
    cost = lambda c: np.sum((np.clip(N / c - 2, 0, 1) - R) ** 2)
    got = em.fit_units_per_skill(N, R, 3)
    assert cost(got) <= cost(37.0) + 1e-12                          # cost(37) = 0: exact data


def test_shifted_total_accepts_the_end_of_the_curve_within_its_rounding_tolerance():
    # the reference skill is the most frequent, so t p_ref/p_ref = t: t may exceed t_curve[-1] by the
    # relative tolerance 1e-12 (rounding in t p_k/p_ref), and the curve is then read at its last record
    t_curve = np.linspace(0.0, 10.0, 11)
    curve = np.exp(-t_curve)
    p = np.array([0.5, 0.3, 0.2])
    t_end = t_curve[-1] * (1 + 1e-12)
    want = sum(pk * np.interp(t_end * pk / 0.5, t_curve, curve) for pk in p)
    assert em.shifted_total(t_end, t_curve, curve, p, ref=0) == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="runs past the reference curve"):
        em.shifted_total(t_curve[-1] * (1 + 1e-9), t_curve, curve, p, ref=0)


@pytest.mark.parametrize("k, N_c", [(3, 37.0), (5, 0.22), (2, 3.0), (1, 50.0)])
def test_fit_units_per_skill_recovers_the_threshold_of_exact_data(k, N_c):
    N = np.geomspace(1, 100, 15)
    R = np.clip(N / N_c - (k - 1), 0, 1)
    assert em.fit_units_per_skill(N, R, k) == pytest.approx(N_c, rel=1e-6)


def test_fit_data_threshold_recovers_the_threshold_of_exact_data():
    d = np.geomspace(0.5, 500, 12)
    for D_c in (0.8, 20.0, 300.0):
        assert em.fit_data_threshold(d, np.minimum(d / D_c, 1.0)) == pytest.approx(D_c, rel=1e-6)
