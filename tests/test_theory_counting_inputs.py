"""Bad inputs to course_utils.theory.counting end in a clear error naming the argument, and its closed
forms agree with independent computations (explicit sums, known special values)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import counting as th

P = np.array([0.5, 0.3, 0.2])


@pytest.mark.parametrize("call, words", [
    (lambda: th.expected_kl(P, 10, float("nan")), "beta"),
    (lambda: th.expected_kl(P, 10, float("inf")), "beta"),
    (lambda: th.expected_kl(P, 10, "1"), "beta"),
    (lambda: th.expected_kl(P, float("inf"), 0.5), "N"),
    (lambda: th.expected_kl(P, np.nan, 0.5), "N"),
    (lambda: th.expected_kl(P, "10", 0.5), "N"),
    (lambda: th.expected_kl(P, 2.5, 0.5), "N"),
    (lambda: th.expected_kl(P, -1, 0.5), "N"),
    (lambda: th.expected_kl([0.5, np.nan], 10, 0.5), "p"),
    (lambda: th.expected_kl([1.0], 10, 0.5), "p"),
    (lambda: th.expected_kl("abc", 10, 0.5), "p"),
    (lambda: th.add_beta_estimate([[1, np.nan]], 0.5), "counts"),
    (lambda: th.add_beta_estimate(3, 0.5), "counts"),
    (lambda: th.add_beta_estimate([1, -1], 0.5), "counts"),
    (lambda: th.kl_divergence(P, [0.5, 0.5]), "q"),
    (lambda: th.kl_divergence(P, 0.5), "q"),
    (lambda: th.kl_divergence(P, [0.5, np.nan, 0.1]), "q"),
    (lambda: th.kl_divergence(P, [1.5, -0.5, 0.0]), "q"),
    (lambda: th.expected_kl_asymptotic(P, [10, np.nan], 0.5), "N"),
    (lambda: th.expected_kl_asymptotic(P, 0, 0.5), "N"),
    (lambda: th.expected_kl_asymptotic(P, 10, 0.5, order=1.5), "order"),
    (lambda: th.expected_kl_asymptotic(P, 10, float("nan"), order=1), "beta"),
    (lambda: th.second_order_coefficient([0.5, 0.5, 0.0], 0.5), "p_k > 0"),
    (lambda: th.missing_mass(P, [1, np.inf]), "N"),
    (lambda: th.expected_seen(P, 1.5), "N"),
    (lambda: th.top_n_floor(P, 0), "n"),
    (lambda: th.top_n_floor(P, 4), "n"),
    (lambda: th.top_n_floor(P, 1.5), "n"),
    (lambda: th.top_n_floor(P, "1"), "n"),
    (lambda: th.top_n_floor(P[::-1], 1), "sorted"),
    (lambda: th.top_n_expected_kl(P, 10, 0, 0.5), "n"),
    (lambda: th.quantize_log_probabilities(P, 0, -3.0), "bits"),
    (lambda: th.quantize_log_probabilities(P, 2000, -3.0), "bits"),
    (lambda: th.quantize_log_probabilities(P, 2.5, -3.0), "bits"),
    (lambda: th.quantize_log_probabilities(P, 4, float("nan")), "log_min"),
    (lambda: th.quantize_log_probabilities(P, 4, 0.0), "log_min"),
    (lambda: th.quantize_log_probabilities([0.5, -0.5], 4, -3.0), "q"),
    (lambda: th.quantize_log_probabilities([0.0, 0.0], 4, -3.0), "q"),
    (lambda: th.quantize_log_probabilities([0.5, np.nan], 4, -3.0), "q"),
    (lambda: th.quantization_floor([1, np.nan], -3.0), "bits"),
    (lambda: th.quantization_floor(0.5, -3.0), "bits"),
    (lambda: th.quantization_floor(4, float("nan")), "log_min"),
    (lambda: th.quantization_floor(4, 1.0), "log_min"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_whole_floats_and_numpy_integers_are_accepted():
    assert th.top_n_floor(P, 2.0) == th.top_n_floor(P, 2) == th.top_n_floor(P, np.int64(2))
    assert np.array_equal(th.expected_kl(P, 10.0, 0.5), th.expected_kl(P, 10, 0.5))
    assert np.array_equal(th.quantize_log_probabilities(P, 3.0, -4.0), th.quantize_log_probabilities(P, 3, -4.0))


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(0, 20), min_size=2, max_size=6), beta=st.floats(0.05, 3))
def test_add_beta_estimate_by_hand(counts, beta):
    q = th.add_beta_estimate(counts, beta)
    N, K = sum(counts), len(counts)
    assert q == pytest.approx([(n + beta) / (N + K * beta) for n in counts], rel=1e-12)
    assert q.sum() == pytest.approx(1.0)


@settings(max_examples=30, deadline=None)
@given(w=st.lists(st.floats(0.01, 1), min_size=2, max_size=5), v=st.lists(st.floats(0.01, 1), min_size=5, max_size=5))
def test_kl_divergence_by_hand(w, v):
    p = np.array(w) / sum(w)
    q = np.array(v[:p.size]) / sum(v[:p.size])
    want = sum(pk * math.log(pk / qk) for pk, qk in zip(p, q))
    assert th.kl_divergence(p, q) == pytest.approx(want, rel=1e-10, abs=1e-14)
    assert th.kl_divergence(p, p) == pytest.approx(0.0, abs=1e-15)
    p0 = np.append(p, 0.0)                       # 0 log 0 = 0: a category of zero probability adds nothing
    assert th.kl_divergence(p0, np.append(q, 0.3) / 1.3) == pytest.approx(want + math.log(1.3), rel=1e-10)


@settings(max_examples=25, deadline=None)
@given(w=st.lists(st.floats(0.05, 1), min_size=2, max_size=4), N=st.integers(0, 12))
def test_missing_mass_and_expected_seen_by_hand(w, N):
    p = np.array(w) / sum(w)
    assert th.missing_mass(p, N) == pytest.approx(sum(pk * (1 - pk) ** N for pk in p), rel=1e-12)
    assert th.expected_seen(p, N) == pytest.approx(sum(1 - (1 - pk) ** N for pk in p), rel=1e-12, abs=1e-15)


@settings(max_examples=20, deadline=None)
@given(w=st.lists(st.floats(0.05, 1), min_size=2, max_size=5), n=st.integers(1, 5))
def test_top_n_floor_by_hand(w, n):
    p = np.sort(np.array(w) / sum(w))[::-1]
    K = p.size
    n = min(n, K)
    R = p[n:].sum()
    want = 0.0 if n == K else sum(pk * math.log(pk * (K - n) / R) for pk in p[n:])
    assert th.top_n_floor(p, n) == pytest.approx(want, abs=1e-14)
    # the floor is the KL divergence from the model that spreads R over the K − n others
    q = np.concatenate([p[:n], np.full(K - n, R / max(K - n, 1))])
    assert th.top_n_floor(p, n) == pytest.approx(float(th.kl_divergence(p, q)), abs=1e-14)


def test_top_n_expected_kl_is_the_coarse_kl_plus_the_floor():
    p = np.array([0.4, 0.3, 0.2, 0.1])
    coarse = np.array([0.4, 0.3, 0.3])
    N = np.array([3, 30])
    assert np.allclose(th.top_n_expected_kl(p, N, 2, 0.5), th.expected_kl(coarse, N, 0.5) + th.top_n_floor(p, 2))
    # n = K − 1: the "other" bucket holds one category, no floor, the fine model itself
    assert np.allclose(th.top_n_expected_kl(p, N, 3, 0.5), th.expected_kl(p, N, 0.5))
    assert np.allclose(th.top_n_expected_kl(p, N, 4, 0.5), th.expected_kl(p, N, 0.5))


def test_quantize_log_probabilities_by_hand():
    q = np.array([0.6, 0.3, 0.1])
    bits, log_min = 2, -3.0                                  # levels −3, −2, −1, 0
    levels = np.array([-3.0, -2.0, -1.0, 0.0])
    nearest = np.array([levels[np.argmin(abs(levels - np.log(x)))] for x in q])
    w = np.exp(nearest)
    assert np.allclose(th.quantize_log_probabilities(q, bits, log_min), w / w.sum(), rtol=1e-14)
    tiny = np.array([1 - 1e-9, 1e-9])                        # log 1e-9 < −3 is clipped to −3
    w = np.exp([0.0, -3.0])
    assert np.allclose(th.quantize_log_probabilities(tiny, bits, log_min), w / w.sum())


@settings(max_examples=20, deadline=None)
@given(bits=st.integers(1, 12), log_min=st.floats(-30, -0.1))
def test_quantization_floor_formula(bits, log_min):
    step = -log_min / (2 ** bits - 1)
    assert th.quantization_floor(bits, log_min) == pytest.approx(step ** 2 / 24, rel=1e-12)
    # one more bit: the step shrinks by (2^b − 1)/(2^(b+1) − 1) ≈ 1/2, the floor by ≈ 4
    ratio = th.quantization_floor(bits, log_min) / th.quantization_floor(bits + 1, log_min)
    assert ratio == pytest.approx(((2 ** (bits + 1) - 1) / (2 ** bits - 1)) ** 2, rel=1e-12)


def test_quantization_floor_against_uniform_rounding_errors():
    # the heuristic Δ²/24 = Var(δ)/2 for δ uniform on [−Δ/2, Δ/2], checked by Monte Carlo with a fine grid
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4000))
    bits, log_min = 6, -20.0
    kl = float(th.kl_divergence(p, th.quantize_log_probabilities(p, bits, log_min)))
    assert kl == pytest.approx(float(th.quantization_floor(bits, log_min)), rel=0.15)


def test_huge_sample_sizes_are_refused_not_overflowed():
    with pytest.raises(ValueError, match="10\\^12"):
        th.expected_kl(P, 10 ** 13, 0.5)
    with pytest.raises(ValueError, match="2\\^62"):
        th.missing_mass(P, 1e20)
    assert th.missing_mass(P, 10 ** 15) == 0.0                      # fine where the formula is cheap


@pytest.mark.parametrize("call, start", [
    (lambda: th.expected_kl("p", 10, 0.5), "p must"),
    (lambda: th.expected_kl([], 10, 0.5), "p must"),
    (lambda: th.expected_kl([0.5, 0.6], 10, 0.5), "p must be a 1-d array of probabilities"),
    (lambda: th.expected_kl([1.5, -0.5], 10, 0.5), "p must be a 1-d array of probabilities"),
    (lambda: th.expected_kl(P, 10, 0.0), "beta .the pseudo-count β. must"),
    (lambda: th.expected_kl(P, "a", 0.5), "N .the number of samples. must"),
    (lambda: th.expected_kl(P, [True, False], 0.5), "the number of samples N must be an integer"),
    (lambda: th.expected_kl([1.0, 0.0], 10 ** 12 + 1, 0.5), "expected_kl sums over"),
    (lambda: th.missing_mass(P, 2 ** 62), "the number of samples N must be below"),
    (lambda: th.add_beta_estimate("c", 0.5), "counts must"),
    (lambda: th.kl_divergence(P, "q"), "q must"),
    (lambda: th.kl_divergence(P, [1.5, -0.25, -0.25]), "q must hold probabilities"),
    (lambda: th.expected_kl_asymptotic(P, "N", 0.5), "N must"),
    (lambda: th.expected_kl_asymptotic(P, 10, 0.5, order=0), "order must"),
    (lambda: th.top_n_floor(P, 4), "n .the number of stored categories"),
    (lambda: th.top_n_expected_kl(P, 10, 4, 0.5), "n .the number of stored categories"),
    (lambda: th.top_n_expected_kl(P, 10, "a", 0.5), "n .the number of stored categories"),
    (lambda: th.quantize_log_probabilities(P, 53, -3.0), "bits must"),
    (lambda: th.quantize_log_probabilities(P, 4, 0.0), "log_min .the smallest"),
    (lambda: th.quantize_log_probabilities("q", 4, -3.0), "q must"),
    (lambda: th.quantize_log_probabilities(0.5, 4, -3.0), "q must hold rows of probabilities"),
    (lambda: th.quantize_log_probabilities([[0.5, 0.5], [0.0, 0.0]], 4, -3.0), "q must hold rows"),
    (lambda: th.quantization_floor("b", -3.0), "bits must"),
    (lambda: th.quantization_floor(53, -3.0), "bits must be ≥ 1"),
    (lambda: th.quantization_floor(4, 0.0), "log_min must"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_values_are_accepted():
    assert th.expected_kl(P, [], 0.5).shape == (0,)
    assert th.expected_kl(P, np.array([3, 4], dtype=np.uint8), 0.5).shape == (2,)
    assert th.expected_kl([1.0, 0.0], 10 ** 12, 0.5) > 0                  # the largest N, cheap for a sure outcome
    assert np.isfinite(th.missing_mass(P, 2 ** 61))
    assert th.kl_divergence([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0        # q = 0 where p = 0 is fine
    assert np.all(np.isfinite(th.quantize_log_probabilities(P, 52, -3.0)))
    assert np.isfinite(th.quantization_floor(52, -3.0))
    assert th.quantization_floor(1, -3.0) == pytest.approx(9 / 24)
    with np.errstate(divide="ignore"):
        q = th.quantize_log_probabilities([1.0, 0.0], 2, -3.0)            # log 0 is clipped to log_min
    assert q == pytest.approx(np.exp([0.0, -3.0]) / (1 + np.exp(-3.0)))
    assert th.top_n_expected_kl(P, 5, 1, 0.5) > th.top_n_floor(P, 1)


@pytest.mark.parametrize("call, start", [
    (lambda: th.expected_kl(P, 2.5, 0.5), "the number of samples N must be an integer"),
    (lambda: th.expected_kl(P, -3, 0.5), "the number of samples N must be non-negative"),
    (lambda: th.expected_kl([0.5, 0.5 + 1e-7], 10, 0.5), "p must be a 1-d array of probabilities"),
    (lambda: th.expected_kl_asymptotic(P, 0, 0.5), "the expansion is in 1/N"),
    (lambda: th.expected_kl_asymptotic([1.0, 0.0], 10, 0.5, order=1), "the asymptotic expansion needs every"),
    (lambda: th.quantize_log_probabilities([1.5, -0.5], 2, -3.0), "q must hold rows of probabilities"),
    (lambda: th.quantization_floor(4, 0.5), "log_min must"),
])
def test_more_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_more_edge_values():
    assert th.expected_kl([0.5, 0.5 + 5e-10], 3, 0.5).shape == ()              # sums to 1 within 1e-9
    with pytest.raises(ValueError, match="summing to 1"):
        th.expected_kl([0.5, 0.5 + 5e-9], 3, 0.5)
    assert th.add_beta_estimate(np.zeros((0, 3)), 0.5).shape == (0, 3)
    assert th.expected_kl_asymptotic(P, [], 0.5).shape == (0,)
    assert th.expected_kl_asymptotic(P, 1, 0.5, order=1) == pytest.approx(1.0)   # (K − 1)/(2N) at N = 1
    # order 2 adds c₂/N², with c₂ of the closed form
    N = np.array([10.0, 40.0])
    c2 = th.second_order_coefficient(P, 0.7)
    assert th.expected_kl_asymptotic(P, N, 0.7) == pytest.approx(2 / (2 * N) + c2 / N ** 2, rel=1e-12)
    # several N at once: one value per N
    assert th.missing_mass(P, [1, 10]) == pytest.approx([sum(P * (1 - P)), sum(P * (1 - P) ** 10)])
    assert th.expected_seen(P, [0, 2]) == pytest.approx([0.0, sum(1 - (1 - P) ** 2)])
    # a sure category: nothing is missing once one sample is drawn, everything before (no 0·∞ = NaN)
    assert th.missing_mass([1.0, 0.0], [0, 1, 5]).tolist() == [1.0, 0.0, 0.0]
    assert th.expected_seen([1.0, 0.0], [0, 1, 5]).tolist() == [0.0, 1.0, 1.0]
    # bits = 1 is allowed; unnormalised q is clipped at log q = 0
    assert th.quantize_log_probabilities(P, 1, -3.0).sum() == pytest.approx(1.0)
    assert th.quantize_log_probabilities([2.0, 1.0], 2, -3.0) == pytest.approx([0.5, 0.5])
    # rows are quantised and renormalised one by one
    Q = np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6]])
    got = th.quantize_log_probabilities(Q, 3, -5.0)
    assert got.shape == (2, 3)
    for row, want in zip(Q, got):
        assert th.quantize_log_probabilities(row, 3, -5.0) == pytest.approx(want)
    # a zero in the tail adds nothing to the floor (0 log 0 = 0)
    assert th.top_n_floor([0.5, 0.3, 0.2, 0.0], 1) == pytest.approx(
        0.3 * np.log(0.3 * 3 / 0.5) + 0.2 * np.log(0.2 * 3 / 0.5))
