"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.grokking.

Edge cases of the effective theory: two symbols, embeddings of several dimensions, exact parallelograms at
δ = 0, the relative tolerances of the null space and of the permissible parallelograms (checked against the
null space of the training constraints), a null space of dimension 3, probabilities that reach the level
exactly and stay there, and the step control of the RK4 flow (targets between steps, the step limit).
"""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.linalg import null_space

from course_utils.theory import grokking as G
from course_utils.validate import ArgumentError


def test_two_symbols_are_enough():
    # p = 2 is the smallest alphabet: the embeddings are accepted and normalised (mean 4, rms deviation 1)
    assert G.normalise_embeddings([3.0, 5.0]).tolist() == [[-1.0], [1.0]]
    assert G.effective_loss([[0.0, 1.0], [2.0, 0.0]], np.zeros((0, 4))) == 0.0      # no parallelogram
    assert G.linear_flow([0.0, 1.0], np.zeros((0, 4)), [1.0]).shape == (1, 2, 1)


def test_normalise_embeddings_centres_every_dimension():
    # d = 2 with very different column means: each column has zero mean, Σ_k |Ẽ_k|²/p = 1
    E = np.array([[0.0, 10.0], [2.0, 10.0], [4.0, 13.0], [1.0, 11.0]])
    En = G.normalise_embeddings(E)
    assert np.allclose(En.mean(axis=0), 0.0, atol=1e-12)
    assert (En ** 2).sum() / len(E) == pytest.approx(1.0)
    C = E - E.mean(axis=0)
    assert np.allclose(En, C / np.sqrt((C ** 2).sum() / 4))


def test_no_parallelogram_is_an_empty_integer_array():
    Q = G.parallelograms(2)                       # p = 2: the pairs (0,0), (0,1), (1,1) have different sums
    assert Q.shape == (0, 4) and Q.dtype.kind == "i"


def test_grokking_rate_is_exactly_zero_for_a_null_space_of_dimension_three():
    # two parallelograms of 5 symbols: rank A = 2, dim ker H = 3; λ₃ is a rounding error (~1e-16), and the
    # documented answer is 0 (the structure is not pinned: no grokking)
    quads = [[0, 2, 1, 1], [0, 3, 1, 2]]
    assert G.null_space_dimension(quads, 5) == 3
    rate = G.grokking_rate(quads, 5)
    assert rate == 0.0 and type(rate) is float


def test_null_space_without_constraints_is_everything_also_at_zero_tolerance():
    # no parallelogram: H = 0 and every representation has zero defects, dim ker H = p for any tol ≥ 0
    for tol in (0.0, 1e-8):
        assert G.null_space_dimension(np.zeros((0, 4)), 5, tol=tol) == 5


def test_null_space_tolerance_is_relative_to_the_largest_eigenvalue():
    # three parallelograms of 5 symbols: eigenvalues 0, 0, λ₃, λ₄, λ_max; λ₃ counts as zero exactly when
    # λ₃ ≤ tol·λ_max
    quads = G.parallelograms(5)[:3]
    ev = np.linalg.eigvalsh(G.effective_hessian(quads, 5))
    assert ev[2] > 1 and ev[-1] > 1.5 * ev[-2]
    ratio = ev[2] / ev[-1]
    assert G.null_space_dimension(quads, 5) == 2
    assert G.null_space_dimension(quads, 5, tol=ratio * (1 + 1e-6)) == 3
    assert G.null_space_dimension(quads, 5, tol=ratio * (1 - 1e-6)) == 2


def test_permissible_parallelograms_are_those_every_training_fit_satisfies():
    # an independent route: a parallelogram is implied by P₀(D) iff its defect vanishes on the whole null
    # space of P₀(D)'s constraint matrix (every representation with zero training defects)
    p = 6
    train = [[0, 1], [0, 2], [0, 5], [1, 1], [1, 2], [2, 3], [2, 4], [2, 5], [3, 3], [4, 4], [5, 5]]
    A0 = G.constraint_matrix(G.training_parallelograms(train, p), p)
    K = null_space(A0)                                                 # (p, dim ker)
    Q = G.parallelograms(p)
    implied = [np.abs(G.constraint_matrix(q, p)[0] @ K).max() < 1e-9 for q in Q]
    got = G.permissible_parallelograms(train, p)
    assert got.tolist() == Q[np.array(implied)].tolist()
    assert 0 < len(got) < len(Q)
    assert [0, 3, 1, 2] not in got.tolist()                          # near the span (residual 0.89), not in it


def test_permissible_tolerance_is_relative_to_the_largest_singular_value():
    # tol ≥ 1 keeps no direction of P₀(D) (no singular value exceeds s_max): nothing is implied
    train = G.unordered_pairs(6)[::2]
    assert len(G.permissible_parallelograms(train, 6)) > 0
    assert G.permissible_parallelograms(train, 6, tol=1.0).shape == (0, 4)


def test_delta_zero_counts_the_exact_parallelograms():
    # E = (−1, 0, 1) is exactly linear: its one parallelogram (0, 2, 1, 1) has defect 0.0 in floating point
    E = np.array([-1.0, 0.0, 1.0])
    assert G.rqi(E, delta=0.0) == 1.0
    assert G.rqi([-1.0, 0.5, 1.0], delta=0.0) == 0.0
    assert G.predicted_accuracy(E, [[1, 1]], [[0, 2]], delta=0.0) == 1.0
    assert G.predicted_accuracy([-1.0, 0.5, 1.0], [[1, 1]], [[0, 2]], delta=0.0) == 0.0


def test_predicted_accuracy_refuses_a_flat_list_of_eval_pairs():
    with pytest.raises(ArgumentError, match="^eval_pairs must have 2 dimensions"):
        G.predicted_accuracy(np.arange(4.0), [[0, 1]], [0, 1])


def test_critical_fraction_is_the_first_fraction_at_the_level_on_a_plateau():
    f = [0.1, 0.2, 0.3]
    assert G.critical_fraction(f, [0.2, 0.5, 0.5]) == 0.2             # reaches ½ at 0.2 and stays there
    assert G.critical_fraction(f, [0.5, 0.5, 0.9]) == 0.1             # at ½ from the start


def test_flow_reaches_targets_between_steps():
    # a target that is not a multiple of max_dt: the last step is shortened to land on it
    rng = np.random.default_rng(3)
    p = 5
    Q = G.training_parallelograms(G.unordered_pairs(p)[rng.random(15) < 0.7], p)
    E0 = rng.standard_normal((p, 2))
    t = np.array([0.015, 0.037])
    traj = G.effective_gradient_flow(E0, Q, t, max_dt=0.01)
    sol = solve_ivp(lambda _, y: -G.effective_loss_gradient(y.reshape(p, 2), Q).ravel(), (0, 0.037), E0.ravel(),
                    t_eval=t, rtol=1e-11, atol=1e-12)
    assert np.allclose(traj, sol.y.T.reshape(2, p, 2), atol=1e-8)


def test_flow_takes_no_step_for_times_within_its_rounding_tolerance():
    # records 1e-12 apart are the same time: the state is returned unchanged
    E0 = np.random.default_rng(4).standard_normal((5, 1))
    Q = G.parallelograms(5)[:4]
    traj = G.effective_gradient_flow(E0, Q, [0.0, 1e-12])
    assert np.array_equal(traj[0], E0) and np.array_equal(traj[1], E0)


def test_flow_takes_up_to_max_flow_steps(monkeypatch):
    # at most MAX_FLOW_STEPS RK4 steps: exactly that many are allowed, one more is refused
    monkeypatch.setattr(G, "MAX_FLOW_STEPS", 8)
    E0 = np.array([0.0, 1.0, 3.0, 2.0])
    Q = G.parallelograms(4)
    assert G.effective_gradient_flow(E0, Q, [1.0], max_dt=0.125).shape == (1, 4, 1)      # 8 steps
    with pytest.raises(ArgumentError, match="RK4 steps"):
        G.effective_gradient_flow(E0, Q, [1.0], max_dt=0.12)                           # 9 steps
