"""Unit tests of course_utils.theory.quanta_networks: the finite-task-set predictions of the quantization
model and their calibrations (the networks are tested in tests/test_ensemble_online.py)."""

import numpy as np
import pytest

from course_utils.theory import quanta
from course_utils.theory import quanta_networks as qn


def test_tail_loss_is_the_weight_of_the_unlearned_skills():
    p = quanta.skill_probabilities(20, 1.0)
    for n in range(21):
        assert qn.tail_loss(n, p) == pytest.approx(p[n:].sum(), abs=1e-15)
    # fractional n interpolates linearly, and ℓ_u scales
    assert qn.tail_loss(2.25, p, np.log(2)) == pytest.approx(np.log(2) * (p[2:].sum() - 0.25 * p[2]))
    # asymptote: Σ_{k>n} k^-2 / Z ≈ 1/((n + ½) Z) for 1 ≪ n ≪ n_s
    p_big = quanta.skill_probabilities(1_000_000, 1.0)
    assert qn.tail_loss(100, p_big) == pytest.approx(1 / (100.5 * quanta.normaliser(1_000_000, 1.0)), rel=1e-3)
    with pytest.raises(ValueError, match="n must lie"):
        qn.tail_loss(21, p)
    with pytest.raises(ValueError, match="unlearned_loss"):
        qn.tail_loss(1, p, 0.0)


def test_expected_tail_loss_data_matches_a_simulation_and_the_multilinear_law():
    p = quanta.skill_probabilities(30, 1.0)
    rng = np.random.default_rng(0)
    D, D_c = 400, 5
    counts = rng.multinomial(D, p, size=20_000)                        # (sets, skills)
    simulated = ((counts < D_c) * p).sum(1).mean()
    assert qn.expected_tail_loss_data([D], p, D_c)[0] == pytest.approx(simulated, rel=0.01)
    # D_c = 1: the multilinear model's Σ p_k (1 − p_k)^D
    D = np.array([10, 100, 1000])
    assert np.allclose(qn.expected_tail_loss_data(D, p, 1), quanta.expected_loss_data(D, p))
    with pytest.raises(ValueError, match="D_c"):
        qn.expected_tail_loss_data(D, p, 0.5)


def test_calibrations_recover_their_constants():
    w = np.array([4, 8, 16, 32, 64])
    assert qn.units_per_skill(w, w / 3.0) == pytest.approx(3.0)
    counts = np.array([1, 5, 10, 50, 100, 200, 400])
    learned = counts >= 80
    D_c = qn.count_threshold(counts, learned)
    assert 50 < D_c <= 100 and D_c == pytest.approx(np.sqrt(50 * 100))
    with pytest.raises(ValueError, match="both learned and unlearned"):
        qn.count_threshold(counts, np.ones_like(learned))


def test_order_statistics():
    ok = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]], dtype=bool)
    f = qn.out_of_order_fraction(ok)
    assert f[0] == 0.0
    assert f[1] == pytest.approx(1 / 4)   # informative pairs (1,2),(1,4)... exactly one learned: 4 pairs, 1 reversed
    assert np.isnan(f[2])
    assert qn.learned_prefix_fraction(ok) == pytest.approx(2 / 3)


def test_count_threshold_is_never_zero():
    """A skill seen 0 times is not learned, so D_c ≥ 1 even when unseen skills 'pass' as often as seen ones:
    here the cut below 0 and the cut at 5 misclassify one pair each; the positive one is returned."""
    assert qn.count_threshold([0, 0, 5], [True, False, True]) == pytest.approx(np.sqrt(5.0))
    # the interval (n_lo, n_hi] = (2, 8] of the best cut gives its geometric middle √(2·8) = 4
    assert qn.count_threshold([1, 2, 8, 9], [False, False, True, True]) == pytest.approx(4.0)
