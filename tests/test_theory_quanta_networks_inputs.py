"""Bad inputs to course_utils.theory.quanta_networks end in a clear error, and its formulas agree with
independent computations (brute-force sums, exact binomial sums, an explicit least-squares solve)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import quanta
from course_utils.theory import quanta_networks as qn
from course_utils.validate import ArgumentError

P = quanta.skill_probabilities(6, 1.0)
OK = np.array([[1, 1, 0], [1, 0, 1]], dtype=bool)


@pytest.mark.parametrize("call, words", [
    (lambda: qn.tail_loss(1, P, float("nan")), "unlearned_loss"),
    (lambda: qn.tail_loss(1, P, "1"), "unlearned_loss"),
    (lambda: qn.tail_loss(float("nan"), P), "n must"),
    (lambda: qn.tail_loss(-1, P), "n must lie"),
    (lambda: qn.tail_loss("a", P), "n"),
    (lambda: qn.tail_loss(1, [0.5, 0.6]), "p must"),
    (lambda: qn.tail_loss(1, [[0.5, 0.5]]), "p must"),
    (lambda: qn.tail_loss(1, [np.nan, 1.0]), "p must"),
    (lambda: qn.tail_loss(1, []), "p must"),
    (lambda: qn.tail_loss(1, None), "p must"),
    (lambda: qn.expected_tail_loss_data([10], P, float("nan")), "D_c"),
    (lambda: qn.expected_tail_loss_data([10], P, 2, -1.0), "unlearned_loss"),
    (lambda: qn.expected_tail_loss_data([10.5], P, 2), "D must"),
    (lambda: qn.expected_tail_loss_data([np.nan], P, 2), "D must"),
    (lambda: qn.expected_tail_loss_data([-1], P, 2), "D must"),
    (lambda: qn.units_per_skill([1, 2], [1]), "same number"),
    (lambda: qn.units_per_skill([1, np.nan], [1, 1]), "widths"),
    (lambda: qn.units_per_skill([0, 2], [1, 1]), "widths"),
    (lambda: qn.units_per_skill([1, 2], [0, 0]), "no network learned"),
    (lambda: qn.units_per_skill([], []), "widths"),
    (lambda: qn.count_threshold([1, 2], [True]), "same number"),
    (lambda: qn.count_threshold([1, np.inf], [True, False]), "counts"),
    (lambda: qn.count_threshold([1, 2], [0.5, 1]), "learned"),
    (lambda: qn.count_threshold([1, 2], ["yes", "no"]), "learned"),
    (lambda: qn.count_threshold([1, 2], [True, True]), "both learned and unlearned"),
    (lambda: qn.learned_prefix_fraction([True, False]), "learned"),
    (lambda: qn.learned_prefix_fraction(np.zeros((0, 3), bool)), "learned"),
    (lambda: qn.out_of_order_fraction(np.ones((2, 2, 2), bool)), "learned"),
    (lambda: qn.out_of_order_fraction("abc"), "learned"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_validation_errors_are_argument_errors():
    with pytest.raises(ArgumentError):
        qn.tail_loss(1, P, float("inf"))
    with pytest.raises(ArgumentError):
        qn.learned_prefix_fraction(np.zeros(3, bool))


@settings(max_examples=40, deadline=None)
@given(n_s=st.integers(1, 12), alpha=st.floats(0.2, 2.5), n=st.floats(0, 1), scale=st.floats(0.1, 3))
def test_tail_loss_interpolates_the_tail_sums_linearly(n_s, alpha, n, scale):
    p = quanta.skill_probabilities(n_s, alpha)
    x = n * n_s
    k = math.floor(x)
    by_hand = [scale * sum(p[j] for j in range(m, n_s)) for m in range(n_s + 1)]   # Σ_{k>m} p_k, 1-based k
    upper = by_hand[min(k + 1, n_s)]
    want = by_hand[k] + (x - k) * (upper - by_hand[k])
    assert qn.tail_loss(x, p, scale) == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert qn.tail_loss(0, p, scale) == pytest.approx(scale)
    assert qn.tail_loss(n_s, p, scale) == pytest.approx(0.0, abs=1e-15)


@settings(max_examples=25, deadline=None)
@given(n_s=st.integers(1, 6), D=st.integers(0, 30), D_c=st.floats(1.0, 6.0), ell=st.floats(0.1, 2))
def test_expected_tail_loss_data_is_the_exact_binomial_sum(n_s, D, D_c, ell):
    p = quanta.skill_probabilities(n_s, 1.0)
    # P[n_k < D_c] = Σ_{m < D_c} C(D, m) p^m (1 − p)^(D − m), written out
    want = ell * sum(pk * sum(math.comb(D, m) * pk ** m * (1 - pk) ** (D - m) for m in range(D + 1) if m < D_c)
                     for pk in p)
    got = qn.expected_tail_loss_data(np.array([D]), p, D_c, ell)
    assert got.shape == (1,)
    assert got[0] == pytest.approx(want, rel=1e-9, abs=1e-14)


def test_expected_tail_loss_data_limits():
    p = quanta.skill_probabilities(5, 1.0)
    assert qn.expected_tail_loss_data([0], p, 1, 0.7)[0] == pytest.approx(0.7)        # nothing seen: all unlearned
    assert qn.expected_tail_loss_data([10 ** 7], p, 3)[0] == pytest.approx(0.0, abs=1e-12)
    # a skill seen exactly D_c times counts as learned (n_k < D_c is strict): one skill, p = 1
    assert qn.expected_tail_loss_data([3, 2], [1.0], 3).tolist() == [0.0, 1.0]


@settings(max_examples=30, deadline=None)
@given(w=st.lists(st.floats(1, 100), min_size=1, max_size=8), seed=st.integers(0, 99))
def test_units_per_skill_is_the_least_squares_slope(w, seed):
    w = np.array(w)
    n = np.random.default_rng(seed).uniform(0.1, 10, w.size)
    slope = np.linalg.lstsq(w[:, None], n, rcond=None)[0][0]          # n ≈ slope · w, slope = 1/u
    assert qn.units_per_skill(w, n) == pytest.approx(1 / slope, rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(c=st.lists(st.integers(1, 60), min_size=2, max_size=12), bits=st.lists(st.booleans(), min_size=12, max_size=12))
def test_count_threshold_misclassifies_as_few_as_any_threshold(c, bits):
    c = np.array(c, dtype=float)
    ok = np.array(bits[:c.size])
    if ok.all() or not ok.any():
        with pytest.raises(ValueError):
            qn.count_threshold(c, ok)
        return
    D_c = qn.count_threshold(c, ok)
    errors = lambda t: int(np.sum(ok & (c < t)) + np.sum(~ok & (c >= t)))
    best = min(errors(t) for t in np.arange(0, 63) + 0.5)
    assert D_c >= 1.0
    assert errors(D_c) == best


def test_count_threshold_geometric_middle():
    # learned iff count ≥ 16: the best interval is (4, 16], the geometric middle 8
    assert qn.count_threshold([1, 4, 16, 64], [False, False, True, True]) == pytest.approx(8.0)
    # everything learned above the lowest count: lo = max(hi/2, 1)
    assert qn.count_threshold([10, 20], [False, True]) == pytest.approx(np.sqrt(10 * 20))
    assert qn.count_threshold([0, 3], [False, True]) == pytest.approx(np.sqrt(1 * 3))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=1, max_size=6))
def test_order_statistics_by_brute_force(rows):
    ok = np.array(rows)
    prefix = [all(r[j] == (j < sum(r)) for j in range(4)) for r in rows]
    assert qn.learned_prefix_fraction(ok) == pytest.approx(np.mean(prefix))
    got = qn.out_of_order_fraction(ok)
    for r, g in zip(rows, got):
        pairs = [(i, j) for i in range(4) for j in range(i + 1, 4) if r[i] != r[j]]
        wrong = sum(1 for i, j in pairs if r[j] and not r[i])
        if pairs:
            assert g == pytest.approx(wrong / len(pairs))
        else:
            assert np.isnan(g)


@pytest.mark.parametrize("call, start", [
    (lambda: qn.tail_loss("a", P), "n must"),
    (lambda: qn.tail_loss([0.5, np.nan], P), "n must contain only finite"),
    (lambda: qn.tail_loss(1, P, np.nan), "unlearned_loss must"),
    (lambda: qn.tail_loss(1, [1.2, -0.2]), "p must"),
    (lambda: qn.expected_tail_loss_data([10], P, 0.5), "D_c"),
    (lambda: qn.expected_tail_loss_data([10], P, 2, np.inf), "unlearned_loss must"),
    (lambda: qn.units_per_skill([1, 2], [1, np.nan]), "n_learned must"),
    (lambda: qn.units_per_skill([np.nan, 2], [1, 1]), "widths must"),
    (lambda: qn.units_per_skill([1, 2], [1, -1]), "widths .> 0. and n_learned"),
    (lambda: qn.count_threshold([-1, 2], [True, False]), "counts .≥ 0."),
    (lambda: qn.count_threshold([np.nan, 2], [True, False]), "counts must"),
    (lambda: qn.count_threshold([1, 2], [0, 2]), "learned must hold booleans"),
    (lambda: qn.learned_prefix_fraction([[0, 2]]), "learned must hold booleans"),
    (lambda: qn.learned_prefix_fraction([True, False]), "learned must have shape"),
    (lambda: qn.out_of_order_fraction([True, False]), "learned must have shape"),
    (lambda: qn.out_of_order_fraction([[0.5, 1]]), "learned must hold booleans"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_cases_of_the_calibrations_and_the_data_loss():
    # a skill of zero frequency is allowed (only negative ones are not)
    assert qn.tail_loss(1, [0.5, 0.5, 0.0]) == pytest.approx(0.5)
    assert qn.tail_loss([], P).shape == (0,)
    assert qn.expected_tail_loss_data([], P, 2).shape == (0,)
    # D of any shape: one loss per entry
    D = np.array([[0, 10, 100], [1000, 5, 1]])
    got = qn.expected_tail_loss_data(D, P, 2)
    assert got.shape == (2, 3)
    assert got[1, 2] == pytest.approx(qn.expected_tail_loss_data([1], P, 2)[0])
    assert got[0, 1] == pytest.approx(qn.expected_tail_loss_data([10], P, 2)[0])
    # networks that learned fewer than one skill each still define u
    assert qn.units_per_skill([2, 4], [0.5, 1.0]) == pytest.approx((4 + 16) / (1 + 4))
    # the best cut above all counts (nothing learned at the top): D_c = √(n_max (n_max + 1))
    assert qn.count_threshold([1, 2, 3], [True, False, False]) == pytest.approx(np.sqrt(3 * 4))
    # the best cut at the lowest count: D_c = √(max(n/2, 1) n)
    assert qn.count_threshold([10, 20, 30], [True, False, True]) == pytest.approx(np.sqrt(5 * 10))
    # 0/1 numbers are booleans
    ok = np.array([[1, 0, 1], [0, 1, 1]])
    assert qn.learned_prefix_fraction(ok) == qn.learned_prefix_fraction(ok == 1)
    assert np.array_equal(qn.out_of_order_fraction(ok.astype(float)), qn.out_of_order_fraction(ok == 1),
                          equal_nan=True)
    # exactly one informative pair: 0 when in order, 1 when reversed
    assert qn.out_of_order_fraction([[True, False], [False, True]]).tolist() == [0.0, 1.0]


def test_count_threshold_at_the_lowest_count_is_at_least_one():
    # best cut at the lowest count 2: lo = max(2/2, 1) = 1, D_c = √(1·2)
    assert qn.count_threshold([2, 2, 8], [True, True, False]) == pytest.approx(np.sqrt(2.0))
