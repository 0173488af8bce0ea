"""The effective theory of grokking (course_utils.theory.grokking)."""

import numpy as np
import pytest

from course_utils.theory import grokking as G


def test_parallelograms_count_and_sums():
    Q = G.parallelograms(10)
    assert Q.shape == (70, 4)
    assert (Q[:, 0] + Q[:, 1] == Q[:, 2] + Q[:, 3]).all()
    assert (Q[:, 0] <= Q[:, 1]).all() and (Q[:, 2] <= Q[:, 3]).all()
    assert len({tuple(q) for q in Q}) == 70
    # the count: Σ_s C(c_s, 2) with c_s the number of unordered pairs of sum s
    pairs = G.unordered_pairs(10)
    counts = np.bincount(pairs.sum(1))
    assert len(Q) == sum(c * (c - 1) // 2 for c in counts)


def test_constraint_matrix_annihilates_linear_structures():
    Q = G.parallelograms(7)
    A = G.constraint_matrix(Q, 7)
    k = np.arange(7.0)
    np.testing.assert_allclose(A @ np.ones(7), 0)
    np.testing.assert_allclose(A @ k, 0)
    assert np.linalg.matrix_rank(A) == 5          # everything else is constrained: dim ker = 2


def test_full_training_set_pins_the_structure_and_empty_does_not():
    pairs = G.unordered_pairs(8)
    assert G.unique_linear_structure(pairs, 8)
    assert G.null_space_dimension(G.training_parallelograms(pairs, 8), 8) == 2
    assert not G.unique_linear_structure(pairs[:5], 8)
    perm = G.permissible_parallelograms(pairs, 8)
    assert len(perm) == len(G.parallelograms(8))
    few = pairs[[0, 1, 8]]          # (0,0), (0,1), (1,1): one parallelogram (0,1)+(0,1)? none valid
    assert len(G.permissible_parallelograms(few, 8)) == len(G.training_parallelograms(few, 8))


def test_permissible_contains_training_and_is_closed():
    rng = np.random.default_rng(0)
    pairs = G.unordered_pairs(10)
    train = pairs[rng.permutation(55)[:25]]
    P0 = {tuple(q) for q in G.training_parallelograms(train, 10)}
    perm = {tuple(q) for q in G.permissible_parallelograms(train, 10)}
    assert P0 <= perm
    # a representation that satisfies P0 exactly (a random null vector of H) satisfies every permissible one
    H = G.effective_hessian(np.array(sorted(P0)), 10)
    lam, V = np.linalg.eigh(H)
    null = V[:, lam < 1e-8]
    E = null @ rng.standard_normal(null.shape[1])
    d = G.parallelogram_defects(E, np.array(sorted(perm)))
    assert d.max() < 1e-9


def test_rqi_and_predicted_accuracy():
    p = 10
    k = np.arange(p, dtype=float)
    assert G.rqi(3.0 * k - 2.0) == 1.0
    rng = np.random.default_rng(1)
    assert G.rqi(rng.standard_normal(p)) < 0.3
    pairs = G.unordered_pairs(p)
    train = pairs[:45]
    assert G.predicted_accuracy(k, train, pairs[45:]) == pytest.approx(
        np.mean([(pairs[45:, :].sum(1) == s).any() and (train.sum(1) == s).any()
                 for s in pairs[45:].sum(1)]))
    assert G.predicted_accuracy(k, train, train) == 1.0


def test_effective_loss_invariances_and_gradient():
    rng = np.random.default_rng(2)
    Q = G.parallelograms(6)
    E = rng.standard_normal((6, 2))
    l0 = G.effective_loss(E, Q)
    assert G.effective_loss(3 * E + 1.5, Q) == pytest.approx(l0, rel=1e-12)
    g = G.effective_loss_gradient(E, Q)
    eps = 1e-6
    num = np.zeros_like(E)
    for idx in np.ndindex(E.shape):
        d = np.zeros_like(E)
        d[idx] = eps
        num[idx] = (G.effective_loss(E + d, Q) - G.effective_loss(E - d, Q)) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g.sum(0), 0, atol=1e-12)                   # Σ_k E_k conserved
    assert abs(np.sum(g * (E - E.mean(0)))) < 1e-10                          # Z₀ conserved


def test_flows_conserve_and_converge_to_linear_structure():
    rng = np.random.default_rng(3)
    p = 10
    Q = G.training_parallelograms(G.unordered_pairs(p)[rng.permutation(55)[:40]], p)
    assert G.null_space_dimension(Q, p) == 2
    E0 = rng.standard_normal(p)
    Z0 = ((E0 - E0.mean()) ** 2).sum()
    lam = G.hessian_spectrum(Q, p)
    t = np.linspace(0, 12 * Z0 / (2 * lam[2]), 6)
    traj = G.effective_gradient_flow(E0, Q, t, max_dt=0.05 * Z0 / lam[-1])[..., 0]
    np.testing.assert_allclose(traj.sum(1), E0.sum(), atol=1e-9)
    Z = ((traj - traj.mean(1, keepdims=True)) ** 2).sum(1)
    np.testing.assert_allclose(Z, Z[0], rtol=1e-5)
    assert G.linearity_defect(traj[-1]) < 1e-6 < G.linearity_defect(traj[0])
    lin = G.linear_flow(E0, Q, t)[..., 0]
    np.testing.assert_allclose(lin[0], E0, atol=1e-12)
    # at late times the linear flow decays at the grokking rate: defect ∝ exp(−4 λ₃ t / Z₀)
    lam3 = G.grokking_rate(Q, p)
    tt = np.array([20.0, 30.0]) * Z0 / lam3 / 10
    lt = G.linear_flow(E0, Q, tt)[..., 0]
    k = np.arange(p) - (p - 1) / 2
    res = [np.linalg.norm(x - x.mean() - (x @ k) / (k @ k) * k) for x in lt]
    assert np.log(res[0] / res[1]) / (tt[1] - tt[0]) == pytest.approx(2 * lam3 / Z0, rel=0.05)


def test_probability_unique_and_critical_fraction():
    pr = G.probability_unique(10, [5, 55], n_splits=20)
    assert pr.tolist() == [0.0, 1.0]
    f = np.array([0.1, 0.2, 0.3])
    assert G.critical_fraction(f, [0.0, 0.4, 0.8]) == pytest.approx(0.225)
    assert np.isnan(G.critical_fraction(f, [0, 0, 0]))


def test_classify_phase():
    codes = G.classify_phase([100, 100, 100, np.nan], [200, 1000, np.nan, np.nan], budget=5000)
    assert G.classify_phase(100, 600, budget=5000) == 0 and G.classify_phase(100, 601, budget=5000) == 1
    assert G.classify_phase(100, 400, budget=5000, delay_ratio=3.0, min_delay=0) == 1
    assert [G.PHASES[c] for c in codes] == ["comprehension", "grokking", "memorisation", "confusion"]
    assert G.classify_phase(100, 6000, budget=5000) == 2


def test_order_inversions_counts_pairs_out_of_line_order():
    k = np.arange(10.0)
    assert G.order_inversions(3 + 2 * k) == 0
    assert G.order_inversions(3 - 2 * k) == 0                  # a line running the other way
    E = k.copy()
    E[[0, 1]] = E[[1, 0]]                                      # one adjacent swap
    assert G.order_inversions(E) == 1
    E = np.r_[k[1:5], 0.0, k[5:]]                              # symbol 4 moved to the front, past four others
    assert G.order_inversions(E) == 4
    rng = np.random.default_rng(0)
    batch = rng.standard_normal((6, 3, 10))
    out = G.order_inversions(batch)
    assert out.shape == (6, 3) and (out >= 0).all() and (out <= 22).all()
    perm = rng.permutation(10)                                  # brute force on one random order
    n = sum(perm[i] > perm[j] for i in range(10) for j in range(i + 1, 10))
    assert G.order_inversions(perm.astype(float)) == min(n, 45 - n)
    # invariant under any increasing map of the values, e.g. normalisation
    assert G.order_inversions(np.exp(batch)).tolist() == out.tolist()


def test_order_inversions_rejects_a_single_symbol():
    with pytest.raises(ValueError, match="p ≥ 2"):
        G.order_inversions(np.array([1.0]))


def test_order_changes_counts_records_with_another_order():
    k = np.arange(5.0)
    traj = np.stack([k[::-1], k, 2 * k, k, k[[1, 0, 2, 3, 4]], 3 * k + 1])   # (6, 5)
    assert G.order_changes(traj, 1) == 1        # only record 4 (a swap) differs from record 1's order
    assert G.order_changes(traj, 0) == 5        # every later record differs from the reversed start
    assert G.order_changes(traj, 5) == 0
    with pytest.raises(ValueError, match="trajectory"):
        G.order_changes(k, 0)
    with pytest.raises(ValueError, match="start"):
        G.order_changes(traj, 6)


def test_order_changes_restricted_to_symbol_pairs():
    k = np.arange(5.0)
    traj = np.stack([k, k[[1, 0, 2, 3, 4]], k[[0, 1, 2, 4, 3]]])   # record 1 swaps 0, 1; record 2 swaps 3, 4
    assert G.order_changes(traj, 0) == 2
    assert G.order_changes(traj, 0, symbol_pairs=[(0, 1)]) == 1
    assert G.order_changes(traj, 0, symbol_pairs=[(3, 4), (0, 2)]) == 1
    assert G.order_changes(traj, 0, symbol_pairs=[(0, 2), (1, 3)]) == 0
    assert G.order_changes(traj, 0, symbol_pairs=np.zeros((0, 2), dtype=int)) == 0


def test_tied_symbol_pairs():
    # {0,2} and {1,2} tie 0 and 1 through k = 2; {3,3} and {3,4} tie 3 and 4 through k = 3
    tied = G.tied_symbol_pairs(np.array([[0, 2], [1, 2], [3, 3], [3, 4]]), 5)
    assert {tuple(t) for t in tied.tolist()} == {(0, 1), (3, 4)}
    assert G.tied_symbol_pairs(np.array([[0, 1]]), 3).shape == (0, 2)
    everything = G.tied_symbol_pairs(G.unordered_pairs(4), 4)
    assert len(everything) == 6                                  # the full table ties every pair


def test_spacing_deviation_is_zero_on_a_line_and_large_when_shuffled():
    k = np.arange(10.0)
    np.testing.assert_allclose(G.spacing_deviation(3 - 2 * k), 0.0, atol=1e-12)
    bumped = 2 * k.copy()
    bumped[4] += 0.2                                                    # one symbol off by a tenth of the spacing
    assert 0.01 < G.spacing_deviation(bumped) < 0.1
    shuffled = np.array([3.0, 7, 0, 9, 1, 5, 8, 2, 6, 4])
    assert G.spacing_deviation(shuffled) > 1
    batch = np.stack([2 * k, bumped, shuffled])
    np.testing.assert_allclose(G.spacing_deviation(batch), [G.spacing_deviation(e) for e in batch])
    assert G.spacing_deviation(5 * bumped + 1) == pytest.approx(G.spacing_deviation(bumped))   # in units of spacing
    assert np.isnan(G.spacing_deviation(np.ones(4)))
    with pytest.raises(ValueError, match="E"):
        G.spacing_deviation([1.0])


def test_classify_outcome_follows_the_rule():
    codes = G.classify_outcome([True, False, False, False, True], [1.0, 0.5, 0.95, 0.95, 0.2],
                               [1.0, 0.2, 0.3, 0.95, 0.1])
    np.testing.assert_array_equal(codes, [0, 2, 1, 3, 0])
    assert [G.OUTCOMES[c] for c in codes[:4]] == ["generalised", "did not fit", "memorised", "other"]
    np.testing.assert_array_equal(G.classify_outcome([False, False], [0.9, 0.9], [0.9, 0.89]), [3, 1])  # at the edge
    np.testing.assert_array_equal(G.classify_outcome([False], [0.85], [0.5], threshold=0.8), [1])
    with pytest.raises(ValueError, match="same shape"):
        G.classify_outcome([True], [1.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="threshold"):
        G.classify_outcome([True], [1.0], [1.0], threshold=2)
