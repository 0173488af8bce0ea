"""Bad inputs to course_utils.theory.emergence end in a clear error naming the argument, and its laws
agree with independent computations (explicit interpolation, brute-force minimisation, special values)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import emergence as em

T = np.linspace(0.0, 10.0, 11)
P = np.array([0.5, 0.3, 0.2])


@pytest.mark.parametrize("call, words", [
    (lambda: em.crossing_time(T, T[:5], 0.5), "one row per time"),
    (lambda: em.crossing_time(T, np.where(T > 3, np.nan, T), 0.5), "values"),
    (lambda: em.crossing_time(T, T, float("nan")), "level"),
    (lambda: em.crossing_time(T[::-1], T, 0.5), "increase"),
    (lambda: em.crossing_time(T[:, None], T, 0.5), "t"),
    (lambda: em.crossing_time("abc", T, 0.5), "t"),
    (lambda: em.predicted_times(1.0, P, ref=3), "ref"),
    (lambda: em.predicted_times(1.0, P, ref=-1), "ref"),
    (lambda: em.predicted_times(1.0, P, ref=0.5), "ref"),
    (lambda: em.predicted_times(1.0, P, exponent=float("nan")), "exponent"),
    (lambda: em.predicted_times(np.inf, P), "t_ref"),
    (lambda: em.predicted_times(1.0, [[0.5, 0.5]]), "p must"),
    (lambda: em.predicted_times(1.0, []), "p must"),
    (lambda: em.shifted_total([1.0], T, T[:4], P), "curve_ref"),
    (lambda: em.shifted_total([np.nan], T, T, P), "t"),
    (lambda: em.shifted_total([-1.0], T, T, P), "t"),
    (lambda: em.shifted_total([1.0], T, T, [0.5, -0.5]), "p must"),
    (lambda: em.shifted_total([1.0], T, T, P, ref=5), "ref"),
    (lambda: em.data_law([10], P, 0), "D_c"),
    (lambda: em.data_law([10], P, float("nan")), "D_c"),
    (lambda: em.data_law([-1], P, 2), "non-negative"),
    (lambda: em.data_law([np.nan], P, 2), "D"),
    (lambda: em.data_law([10], [0.5, np.nan], 2), "p"),
    (lambda: em.fit_data_threshold([1, 2], [0.5]), "same shape"),
    (lambda: em.fit_data_threshold([1, 0], [0.5, 1]), "d > 0"),
    (lambda: em.fit_data_threshold([1, np.nan], [0.5, 1]), "d"),
    (lambda: em.unit_law([3], 0, 1.0), "n_skills"),
    (lambda: em.unit_law([3], 2.5, 1.0), "n_skills"),
    (lambda: em.unit_law([3], 2, float("nan")), "N_c"),
    (lambda: em.unit_law([3], 2, -1.0), "N_c"),
    (lambda: em.unit_law([-3], 2, 1.0), "N"),
    (lambda: em.skills_held([np.nan], 2, 1.0), "N"),
    (lambda: em.fit_units_per_skill([1, 2], [0.5, 1], 0), "k"),
    (lambda: em.fit_units_per_skill([1, 2], [0.5, np.nan], 1), "R"),
    (lambda: em.fit_units_per_skill([1], [0.5], 1), "at least 2"),
    (lambda: em.exact_match([0.5], 0), "n_queries"),
    (lambda: em.exact_match([0.5], 1.5), "n_queries"),
    (lambda: em.exact_match([1.5], 2), "accuracies"),
    (lambda: em.exact_match([np.nan], 2), "acc"),
    (lambda: em.fit_logit_line([1, 2], [0.2, 0.3]), "at least 3"),
    (lambda: em.fit_logit_line([1, 2, 3], [0.2, 0.3, 1.0]), "0 < a < 1"),
    (lambda: em.fit_logit_line([1, 1, 1], [0.2, 0.3, 0.4]), "not all be equal"),
    (lambda: em.fit_logit_line([1, 2, np.nan], [0.2, 0.3, 0.4]), "t"),
    (lambda: em.logit_line_time(1.0, 1.0, 1.0), "a_target"),
    (lambda: em.logit_line_time(1.0, 0.0, 0.5), "rate"),
    (lambda: em.logit_line_time(1.0, float("nan"), 0.5), "rate"),
    (lambda: em.logit_line_time(float("nan"), 1.0, 0.5), "t_h"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


@settings(max_examples=40, deadline=None)
@given(v=st.lists(st.floats(-5, 5), min_size=2, max_size=10), level=st.floats(-6, 6))
def test_crossing_time_by_hand(v, level):
    t = np.arange(len(v)) * 1.5 + 2.0
    got = em.crossing_time(t, np.array(v), level)
    hits = [i for i, x in enumerate(v) if x >= level]
    if not hits:
        assert np.isnan(got)
    elif hits[0] == 0:
        assert got == t[0]
    else:
        i = hits[0]
        want = t[i - 1] + (t[i] - t[i - 1]) * (level - v[i - 1]) / (v[i] - v[i - 1])
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)
        assert t[i - 1] <= got <= t[i]


def test_crossing_time_keeps_the_trailing_shape():
    v = np.stack([T, 2 * T, -T], axis=1)[:, :, None] * np.ones((1, 1, 2))
    got = em.crossing_time(T, v, 5.0)
    assert got.shape == (3, 2)
    assert np.allclose(got[0], 5.0) and np.allclose(got[1], 2.5) and np.all(np.isnan(got[2]))


@settings(max_examples=30, deadline=None)
@given(t_ref=st.floats(0.1, 100), ref=st.integers(0, 2), exponent=st.floats(0.2, 3))
def test_predicted_times_by_hand(t_ref, ref, exponent):
    got = em.predicted_times(t_ref, P, ref=ref, exponent=exponent)
    assert got == pytest.approx([t_ref * (P[ref] / pk) ** exponent for pk in P], rel=1e-12)
    assert got[ref] == pytest.approx(t_ref)
    assert em.predicted_times(np.array([t_ref, 2 * t_ref]), P, ref).shape == (2, 3)


def test_shifted_total_by_hand():
    t_curve = np.linspace(0, 20, 201)
    curve = np.exp(-t_curve / 3)                              # the reference skill's loss curve
    p = np.array([0.2, 0.5, 0.3])
    t = np.array([0.0, 2.0, 7.5])
    want = [sum(pk * np.interp(s * pk / p[1], t_curve, curve) for pk in p) for s in t]
    assert em.shifted_total(t, t_curve, curve, p, ref=1) == pytest.approx(want, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(D=st.floats(0, 1000), D_c=st.floats(0.5, 50))
def test_data_law_by_hand(D, D_c):
    got = em.data_law(D, P, D_c)
    assert got == pytest.approx([min(pk * D / D_c, 1.0) for pk in P], rel=1e-12, abs=1e-15)


@settings(max_examples=30, deadline=None)
@given(N=st.floats(0, 20), n_skills=st.integers(1, 6), N_c=st.floats(0.5, 4))
def test_unit_law_by_hand(N, n_skills, N_c):
    got = em.unit_law(N, n_skills, N_c)
    assert got == pytest.approx([min(max(N / N_c - (k - 1), 0.0), 1.0) for k in range(1, n_skills + 1)], abs=1e-12)
    assert em.skills_held(N, n_skills, N_c) == pytest.approx(min(N / N_c, n_skills), abs=1e-12)


@pytest.mark.parametrize("D_c", [3.0, 40.0])
def test_fit_data_threshold_recovers_the_threshold_and_minimises(D_c):
    d = np.geomspace(1, 200, 12)
    R = np.minimum(d / D_c, 1) + 0.02 * np.sin(d)             # near the law, not on it
    got = em.fit_data_threshold(d, R)
    cost = lambda c: np.sum((np.minimum(d / c, 1) - R) ** 2)
    grid = np.geomspace(d.min() / 10, d.max() * 10, 20001)
    assert cost(got) <= min(cost(c) for c in grid) + 1e-9
    assert got == pytest.approx(D_c, rel=0.1)


@pytest.mark.parametrize("k", [1, 3])
def test_fit_units_per_skill_recovers_the_constant(k):
    N_c = 5.0
    N = np.linspace(1, 40, 25)
    R = np.clip(N / N_c - (k - 1), 0, 1)
    assert em.fit_units_per_skill(N, R, k) == pytest.approx(N_c, rel=1e-4)


@settings(max_examples=30, deadline=None)
@given(acc=st.floats(0, 1), ell=st.integers(1, 8))
def test_exact_match_is_a_power(acc, ell):
    assert em.exact_match(acc, ell) == pytest.approx(acc ** ell, rel=1e-12, abs=1e-300)


@settings(max_examples=30, deadline=None)
@given(t_h=st.floats(-5, 5), r=st.floats(0.2, 3), a=st.floats(0.01, 0.99))
def test_logit_line_time_inverts_the_logistic(t_h, r, a):
    t = em.logit_line_time(t_h, r, a)
    assert 1 / (1 + np.exp(-r * (t - t_h))) == pytest.approx(a, rel=1e-9)


def test_fit_logit_line_recovers_the_parameters_and_the_scatter():
    t = np.linspace(0, 4, 9)
    a = 1 / (1 + np.exp(-1.7 * (t - 6.0)))
    t_h, r, s = em.fit_logit_line(t, a)
    assert (t_h, r) == (pytest.approx(6.0), pytest.approx(1.7))
    assert s == pytest.approx(0.0, abs=1e-9)
    z = np.log(a / (1 - a)) + np.array([0.1, -0.1] * 4 + [0.0])   # known residuals about a new line
    coef = np.polyfit(t, z, 1)
    resid = z - np.polyval(coef, t)
    t_h, r, s = em.fit_logit_line(t, 1 / (1 + np.exp(-z)))
    assert r == pytest.approx(coef[0]) and t_h == pytest.approx(-coef[1] / coef[0])
    assert s == pytest.approx(np.sqrt(np.sum(resid ** 2) / (t.size - 2)))


@pytest.mark.parametrize("call, start", [
    (lambda: em.crossing_time("abc", T, 0.5), "t must"),
    (lambda: em.crossing_time(T, "abc", 0.5), "values must"),
    (lambda: em.crossing_time([0.0, 1.0, 1.0, 2.0], [0, 1, 2, 3], 0.5), "the record times t must increase"),
    (lambda: em.crossing_time(T, T, None), "level must"),
    (lambda: em.predicted_times(1.0, [0.5, np.nan]), "p must"),
    (lambda: em.predicted_times(1.0, P, ref=3), "ref"),
    (lambda: em.predicted_times(1.0, P, exponent="1"), "exponent must"),
    (lambda: em.predicted_times("a", P), "t_ref must"),
    (lambda: em.shifted_total([1.0], T, T, [0.5, np.nan]), "p must"),
    (lambda: em.shifted_total([1.0], T * np.nan, T, P), "t_curve must"),
    (lambda: em.shifted_total([1.0], T, T * np.nan, P), "curve_ref must"),
    (lambda: em.shifted_total([np.nan], T, T, P), "t must"),
    (lambda: em.shifted_total([1.0], T, T, P, ref=0.5), "ref must"),
    (lambda: em.data_law([10], P, None), "D_c must"),
    (lambda: em.data_law([10], [[0.5]], 1), "p must"),
    (lambda: em.data_law([np.nan], P, 1), "D must"),
    (lambda: em.data_law([10], [0.5, -0.5], 1), "D and p must be non-negative"),
    (lambda: em.fit_data_threshold([1, np.nan], [0.5, 1]), "d must"),
    (lambda: em.fit_data_threshold([1, 2], [0.5, np.inf]), "R must"),
    (lambda: em.unit_law([3], 2, None), "N_c must"),
    (lambda: em.unit_law([3], None, 1.0), "n_skills must"),
    (lambda: em.unit_law([np.nan], 2, 1.0), "N must"),
    (lambda: em.fit_units_per_skill([1, np.nan], [0.5, 1], 1), "N must"),
    (lambda: em.fit_units_per_skill([1, 2], [0.5, 1], None), "k .the skill's rank. must"),
    (lambda: em.exact_match([0.5], None), "n_queries must"),
    (lambda: em.exact_match([np.nan], 2), "acc must"),
    (lambda: em.exact_match([-0.1], 2), "accuracies"),
    (lambda: em.fit_logit_line([1, 2, np.nan], [0.2, 0.3, 0.4]), "t must"),
    (lambda: em.fit_logit_line([1, 2, 3], [0.2, 0.3, np.nan]), "a must"),
    (lambda: em.fit_logit_line([], []), "t must"),
    (lambda: em.logit_line_time(1.0, 1.0, 0.0), "a_target must"),
    (lambda: em.logit_line_time(1.0, -1.0, 0.5), "rate must"),
    (lambda: em.logit_line_time(None, 1.0, 0.5), "t_h must"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_values_are_accepted():
    # NaN reference times (a skill that never emerged) and empty arrays pass through
    assert np.isnan(em.predicted_times(np.nan, P)).all()
    assert em.predicted_times([], P).shape == (0, 3)
    assert em.predicted_times(2.0, P, ref=0).tolist() == pytest.approx([2.0, 2.0 * 0.5 / 0.3, 2.0 * 0.5 / 0.2])
    # D = 0, a skill of frequency 0, accuracies exactly 0 and 1
    assert em.data_law(0.0, [0.5, 0.0, 0.5], 2.0).tolist() == [0.0, 0.0, 0.0]
    assert em.data_law(10.0, [0.5, 0.0, 0.5], 2.0).tolist() == [1.0, 0.0, 1.0]
    assert em.data_law([], P, 2.0).shape == (0, 3)
    assert em.exact_match([0.0, 1.0], 3).tolist() == [0.0, 1.0]
    assert em.exact_match([], 3).shape == (0,)
    assert em.unit_law([], 2, 1.0).shape == (0, 2)
    assert em.unit_law(0.0, 2, 1.0).tolist() == [0.0, 0.0]
    assert em.shifted_total(np.zeros(0), T, T, P).shape == (0,)
    assert em.shifted_total(0.0, T, np.exp(-T), P) == pytest.approx(1.0)


def test_fit_logit_line_scatter_with_three_points():
    t = np.array([0.0, 1.0, 2.0])
    z = np.array([-1.0, 0.5, 1.0])                                   # not on a line
    coef = np.polyfit(t, z, 1)
    resid = z - np.polyval(coef, t)
    _, _, s = em.fit_logit_line(t, 1 / (1 + np.exp(-z)))
    assert s == pytest.approx(np.sqrt(np.sum(resid ** 2) / 1))       # dof = 3 − 2 = 1


@pytest.mark.parametrize("call, start", [
    (lambda: em.crossing_time(T[:, None], T, 0.5), "t must have 1 dimension"),
    (lambda: em.shifted_total([1.0], T, T, [[0.5, 0.5]]), "p must have 1 dimension"),
    (lambda: em.shifted_total([1.0], [0.0, 1.0, 1.0, 2.0], [1, 1, 1, 1], P), "t_curve must increase strictly"),
    (lambda: em.shifted_total([1.0], T, T, [0.5, 0.5, 0.0]), "p must be positive"),
    (lambda: em.shifted_total([1.0], T, T, P, ref=3), "p must be positive skill frequencies and ref"),
    (lambda: em.shifted_total([T[-1] * 0.5], T, T, [0.2, 0.5, 0.3], ref=0), "t p_k/p_ref runs past"),
    (lambda: em.unit_law([-3], 2, 1.0), "the number of units N must be non-negative"),
    (lambda: em.fit_units_per_skill([0, 1], [0.5, 1], 1), "N and R must have the same shape"),
    (lambda: em.fit_logit_line([1, 2, 3, 4], [0.2, 0.3]), "t and a must be 1-d"),
    (lambda: em.fit_logit_line(np.ones((3, 3)), np.full((3, 3), 0.5)), "t and a must be 1-d"),
    (lambda: em.fit_logit_line([1, 2, 3], [0.0, 0.3, 0.5]), "need at least 3 points with 0 < a < 1"),
])
def test_more_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_fits_with_two_points_and_exact_data():
    # two points are enough for the one-parameter fits; exact data give the threshold to the tolerance
    assert em.fit_data_threshold([2.0, 20.0], [0.2, 1.0]) == pytest.approx(10.0, rel=1e-4)
    d = np.geomspace(1, 100, 15)
    assert em.fit_data_threshold(d, np.minimum(d / 7.3, 1)) == pytest.approx(7.3, rel=3e-6)
    assert em.fit_units_per_skill([1.0, 10.0], [0.2, 1.0], 1) == pytest.approx(5.0, rel=1e-4)
    # the reference curve may be used up to its end, t p_k/p_ref = t_curve[-1]
    p = np.array([0.2, 0.5, 0.3])
    assert np.isfinite(em.shifted_total(T[-1] * 0.2 / 0.5, T, np.exp(-T), p, ref=0))
    # skills_held: one count per N
    assert em.skills_held(np.array([1.0, 5.0, 50.0]), 4, 2.0).tolist() == [0.5, 2.5, 4.0]
