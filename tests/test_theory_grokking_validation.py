"""course_utils.theory.grokking: bad arguments end in a clear ArgumentError naming the argument (and no
input makes the flow loop for ever); the formulas agree with brute-force computations of their definitions."""

import itertools
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from course_utils.theory import grokking as G
from course_utils.validate import ArgumentError

P = 6
PAIRS = G.unordered_pairs(P)
TRAIN = PAIRS[::2]
Q0 = G.training_parallelograms(TRAIN, P)
E = np.random.default_rng(0).standard_normal((P, 2))

BAD = {
    "p = 1": (lambda: G.unordered_pairs(1), "p must be an integer ≥ 2"),
    "p float": (lambda: G.parallelograms(4.5), "p must be an integer"),
    "p string": (lambda: G.parallelograms("6"), "p must be an integer"),
    "train_pairs shape": (lambda: G.training_parallelograms(np.zeros((3, 3)), P), "train_pairs must have shape"),
    "train_pairs 1-d": (lambda: G.training_parallelograms(np.zeros(4), P), "train_pairs must have 2 dim"),
    "train_pairs ≥ p": (lambda: G.training_parallelograms([[0, 6]], P), "train_pairs must hold integer symbols 0 … 5"),
    "train_pairs negative": (lambda: G.tied_symbol_pairs([[0, -1]], P), "train_pairs must hold integer symbols"),
    "train_pairs fractional": (lambda: G.unique_linear_structure([[0, 1.5]], P), "train_pairs must hold integer"),
    "train_pairs NaN": (lambda: G.unique_linear_structure([[0, np.nan]], P), "train_pairs must contain only finite"),
    "quads shape": (lambda: G.constraint_matrix(np.zeros((2, 3), dtype=int), P), "quads must have shape"),
    "quads 3-d": (lambda: G.constraint_matrix(np.zeros((1, 1, 4), dtype=int), P), "quads must have shape"),
    "quads ≥ p": (lambda: G.effective_hessian([[0, 6, 1, 5]], P), "quads must hold integer symbols 0 … 5"),
    "quads vs E": (lambda: G.parallelogram_defects(E[:3], Q0), "quads must hold integer symbols 0 … 2"),
    "tol NaN": (lambda: G.permissible_parallelograms(TRAIN, P, tol=np.nan), "tol"),
    "null tol negative": (lambda: G.null_space_dimension(Q0, P, tol=-1.0), "tol"),
    "E one symbol": (lambda: G.normalise_embeddings(np.ones(1)), "E must hold the embeddings of p ≥ 2"),
    "E 3-d": (lambda: G.normalise_embeddings(np.ones((2, 2, 2))), "E must have 1 or 2 dimensions"),
    "E NaN": (lambda: G.normalise_embeddings(np.array([0.0, np.nan])), "E must contain only finite"),
    "E constant": (lambda: G.normalise_embeddings(np.ones(4)), "E: all embeddings coincide"),
    "E None": (lambda: G.rqi(None), "E must be"),
    "rqi p too large": (lambda: G.rqi(E, 7), "p = 7 symbols, but E holds only 6"),
    "rqi delta NaN": (lambda: G.rqi(E, delta=np.nan), "delta"),
    "rqi delta negative": (lambda: G.rqi(E, delta=-0.1), "delta"),
    "accuracy no eval pairs": (lambda: G.predicted_accuracy(E, TRAIN, np.zeros((0, 2))), "eval_pairs is empty"),
    "accuracy eval shape": (lambda: G.predicted_accuracy(E, TRAIN, np.zeros((2, 3))), "eval_pairs must have shape"),
    "accuracy eval range": (lambda: G.predicted_accuracy(E, TRAIN, [[0, 9]]), "eval_pairs must hold integer symbols"),
    "accuracy train range": (lambda: G.predicted_accuracy(E, [[0, 9]], TRAIN), "train_pairs must hold integer"),
    "accuracy delta": (lambda: G.predicted_accuracy(E, TRAIN, TRAIN, delta=np.inf), "delta"),
    "loss constant E": (lambda: G.effective_loss(np.ones(P), Q0), "E: all embeddings coincide"),
    "gradient constant E": (lambda: G.effective_loss_gradient(np.ones(P), Q0), "E: all embeddings coincide"),
    "linear_flow Z0 zero": (lambda: G.linear_flow(E, Q0, [0.0], Z0=0.0), "Z0"),
    "linear_flow Z0 NaN": (lambda: G.linear_flow(E, Q0, [0.0], Z0=np.nan), "Z0"),
    "linear_flow constant": (lambda: G.linear_flow(np.ones(P), Q0, [0.0]), "E0: all embeddings coincide"),
    "linear_flow times NaN": (lambda: G.linear_flow(E, Q0, [np.nan]), "times must contain only finite"),
    "linear_flow times 2-d": (lambda: G.linear_flow(E, Q0, np.zeros((2, 2))), "times must have 1 dim"),
    "flow max_dt zero": (lambda: G.effective_gradient_flow(E, Q0, [1.0], max_dt=0), "max_dt"),
    "flow max_dt negative": (lambda: G.effective_gradient_flow(E, Q0, [1.0], max_dt=-0.1), "max_dt"),
    "flow max_dt NaN": (lambda: G.effective_gradient_flow(E, Q0, [1.0], max_dt=np.nan), "max_dt"),
    "flow max_dt inf": (lambda: G.effective_gradient_flow(E, Q0, [1.0], max_dt=np.inf), "max_dt"),
    "flow too many steps": (lambda: G.effective_gradient_flow(E, Q0, [1.0], max_dt=1e-300), "RK4 steps"),
    "flow times inf": (lambda: G.effective_gradient_flow(E, Q0, [np.inf]), "times must contain only finite"),
    "flow times decreasing": (lambda: G.effective_gradient_flow(E, Q0, [1.0, 0.5]), "times must be non-negative and"),
    "flow times negative": (lambda: G.effective_gradient_flow(E, Q0, [-1.0]), "times must be non-negative and"),
    "flow constant E0": (lambda: G.effective_gradient_flow(np.ones(P), Q0, [1.0]), "E0: all embeddings coincide"),
    "flow constant columns": (lambda: G.effective_gradient_flow(np.tile([1.0, 5.0], (P, 1)), Q0, [1.0]),
                              "^E0: all embeddings coincide"),
    "flow times 2-d": (lambda: G.effective_gradient_flow(E, Q0, np.zeros((2, 2))), "^times must have 1 dim"),
    "flow E0 string": (lambda: G.effective_gradient_flow("E", Q0, [1.0]), "^E0 must be"),
    "linear_flow E0 string": (lambda: G.linear_flow("E", Q0, [1.0]), "^E0 must be"),
    "normalise constant columns": (lambda: G.normalise_embeddings(np.tile([1.0, 5.0], (P, 1))), "^E: all embeddings"),
    "accuracy eval string": (lambda: G.predicted_accuracy(E, TRAIN, "x"), "^eval_pairs must be"),
    "defect one symbol": (lambda: G.linearity_defect(np.ones((3, 1))), "E must have shape"),
    "defect scalar": (lambda: G.linearity_defect(1.0), "E must have shape"),
    "defect constant row": (lambda: G.linearity_defect(np.ones((2, 4))), "E: some embeddings are all equal"),
    "defect one constant row": (lambda: G.linearity_defect([[0.0, 1, 2, 4], [1, 1, 1, 1]]), "E: some embeddings"),
    "defect NaN": (lambda: G.linearity_defect([0.0, np.nan]), "E must contain only finite"),
    "inversions one symbol": (lambda: G.order_inversions(np.array([1.0])), "p ≥ 2"),
    "inversions NaN": (lambda: G.order_inversions([1.0, np.nan]), "E must contain only finite"),
    "changes 1-d": (lambda: G.order_changes(np.arange(3.0), 0), "^E: need a trajectory"),
    "changes string": (lambda: G.order_changes("abc", 0), "^E must be"),
    "changes start too large": (lambda: G.order_changes(np.ones((3, 4)), 3), "start"),
    "changes start negative": (lambda: G.order_changes(np.ones((3, 4)), -1), "start"),
    "changes start float": (lambda: G.order_changes(np.ones((3, 4)), 0.5), "start"),
    "changes symbol_pairs range": (lambda: G.order_changes(np.ones((3, 4)), 0, [[0, 4]]), "symbol_pairs must hold"),
    "probability n_splits": (lambda: G.probability_unique(4, [3], n_splits=0), "n_splits"),
    "probability n_train range": (lambda: G.probability_unique(4, [11]), "n_train"),
    "probability n_train negative": (lambda: G.probability_unique(4, -1), "n_train"),
    "probability n_train fractional": (lambda: G.probability_unique(4, [2.5]), "n_train"),
    "probability seed": (lambda: G.probability_unique(4, [3], seed=-1), "^seed must"),
    "probability n_train NaN": (lambda: G.probability_unique(4, [np.nan]), "^n_train must contain only finite"),
    "probability n_train 2-d": (lambda: G.probability_unique(4, [[1, 2]]), "^n_train must have 0 or 1 dim"),
    "probability n_train shown": (lambda: G.probability_unique(4, [11]), "got \\[11\\]"),
    "critical lengths": (lambda: G.critical_fraction([0.1, 0.2], [0.5]), "probabilities has shape"),
    "critical NaN": (lambda: G.critical_fraction([0.1, np.nan], [0.1, 0.5]), "fractions must contain"),
    "critical level": (lambda: G.critical_fraction([0.1, 0.2], [0.1, 0.5], level=np.nan), "level"),
    "phase budget": (lambda: G.classify_phase([1.0], [2.0], budget=0), "budget"),
    "phase budget NaN": (lambda: G.classify_phase([1.0], [2.0], budget=np.nan), "budget"),
    "phase delay_ratio": (lambda: G.classify_phase([1.0], [2.0], budget=10, delay_ratio=-1), "delay_ratio"),
    "phase min_delay": (lambda: G.classify_phase([1.0], [2.0], budget=10, min_delay=np.nan), "min_delay"),
    "phase shapes": (lambda: G.classify_phase([1.0, 2.0], [2.0, 3.0, 4.0], budget=10), "train_step and val_step"),
    "phase string": (lambda: G.classify_phase("10", [2.0], budget=10), "^train_step must be"),
    "phase val string": (lambda: G.classify_phase([1.0], "x", budget=10), "^val_step must be"),
    "tied range": (lambda: G.tied_symbol_pairs([[0, 9]], 5), "^train_pairs must hold integer symbols 0 … 4"),
}


@pytest.mark.parametrize("call, message", BAD.values(), ids=BAD.keys())
def test_bad_arguments_name_the_argument(call, message):
    with pytest.raises(ArgumentError, match=message):
        call()


def test_bad_flow_arguments_return_at_once():
    """The issue: max_dt = 0 or negative made effective_gradient_flow loop for ever; now it refuses at once."""
    start = time.perf_counter()
    for max_dt in (0.0, -1.0, 1e-300, np.nan):
        with pytest.raises(ArgumentError):
            G.effective_gradient_flow(E, Q0, [0.0, 1.0], max_dt=max_dt)
    assert time.perf_counter() - start < 2.0


def test_valid_edge_cases_are_accepted():
    assert G.unordered_pairs(2).tolist() == [[0, 0], [0, 1], [1, 1]]
    assert G.parallelograms(2).shape == (0, 4)                                   # p = 2: no parallelogram
    assert G.parallelograms(np.int64(3)).tolist() == [[0, 2, 1, 1]]
    assert G.constraint_matrix(np.zeros((0, 4)), 3).shape == (0, 3)
    assert G.constraint_matrix([0, 2, 1, 1], 3).tolist() == [[1.0, -2.0, 1.0]]   # one flat quadruple
    assert G.training_parallelograms(np.zeros((0, 2)), 4).shape == (0, 4)        # no training pairs
    assert G.training_parallelograms(torch.tensor(PAIRS), P).shape == G.parallelograms(P).shape
    assert G.training_parallelograms(PAIRS[:, ::-1], P).shape == G.parallelograms(P).shape   # order in a pair
    assert G.permissible_parallelograms(PAIRS[:2], P).shape == (0, 4)
    assert G.effective_gradient_flow(E, Q0, []).shape == (0, P, 2)
    # embeddings whose deviations sum exactly to zero in floating point (odd moments vanish too) are fine
    assert np.all(np.isfinite(G.effective_gradient_flow(np.arange(6.0), Q0, [0.1])))                   # no times: nothing to return
    assert G.linear_flow(E, Q0, []).shape == (0, P, 2)
    assert G.order_changes(np.ones((3, 4)), 2) == 0
    assert G.order_changes(np.ones((3, 4)), np.int64(0), np.zeros((0, 2))) == 0
    assert G.classify_phase([], [], budget=10).shape == (0,)
    assert G.critical_fraction([0.1, 0.2], [0.1, 0.2], level=0.0) == 0.1
    assert G.rqi(torch.arange(5, dtype=torch.float32), 3) == 1.0
    # p < len(E): only the parallelograms of the first p symbols count (here the single one, which holds)
    bent = np.array([0.0, 1.0, 2.0, 10.0, -3.0])
    assert G.rqi(bent, 3) == 1.0 and G.rqi(bent) < 1.0
    assert G.probability_unique(3, 0, n_splits=3).tolist() == [0.0]
    assert G.probability_unique(2, [0, 3], n_splits=3).tolist() == [1.0, 1.0]       # p = 2: always pinned (no parallelogram)
    assert G.order_inversions(np.array([[2.0, 1.0, 0.0]])).dtype.kind == "i"          # integer counts
    assert G.tied_symbol_pairs([[0, 1]], 3).dtype.kind == "i"                           # also when empty


@settings(max_examples=10, deadline=None, database=None)
@given(p=st.integers(2, 9))
def test_parallelograms_are_all_quadruples_with_equal_sums(p):
    pairs = [(a, b) for a in range(p) for b in range(a, p)]
    assert G.unordered_pairs(p).tolist() == [list(x) for x in pairs]
    brute = sorted((*u, *v) for u, v in itertools.combinations(pairs, 2) if sum(u) == sum(v))
    assert sorted(map(tuple, G.parallelograms(p).tolist())) == brute


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), p=st.integers(3, 8), d=st.integers(1, 3), frac=st.floats(0.0, 1.0))
def test_defects_losses_and_hessian_from_their_definitions(seed, p, d, frac):
    rng = np.random.default_rng(seed)
    pairs = G.unordered_pairs(p)
    train = pairs[rng.random(len(pairs)) < frac]
    D = {tuple(x) for x in train.tolist()}
    Q = G.parallelograms(p)
    P0 = G.training_parallelograms(train, p)
    assert sorted(map(tuple, P0.tolist())) == [tuple(q) for q in Q.tolist()
                                               if (q[0], q[1]) in D and (q[2], q[3]) in D]
    E = rng.standard_normal((p, d))
    defects = np.array([np.linalg.norm(E[i] + E[j] - E[m] - E[n]) for i, j, m, n in Q.tolist()]).reshape(-1)
    assert np.allclose(G.parallelogram_defects(E, Q), defects)
    A = G.constraint_matrix(Q, p)
    assert np.allclose(np.linalg.norm(A @ E, axis=1) if len(Q) else [], defects)
    H = G.effective_hessian(Q, p)
    assert np.allclose(np.trace(E.T @ H @ E), (defects ** 2).sum())
    Z = ((E - E.mean(0)) ** 2).sum()
    assert G.effective_loss(E, Q) == pytest.approx((defects ** 2).sum() / Z)
    # the spectrum: p − rank A zero eigenvalues (at least 2: 1 and k), all ≥ 0, sorted
    ev = G.hessian_spectrum(Q, p)
    assert np.all(ev >= 0) and np.all(np.diff(ev) >= -1e-12)
    rank = np.linalg.matrix_rank(G.constraint_matrix(P0, p)) if len(P0) else 0
    assert G.null_space_dimension(P0, p) == p - rank
    assert G.unique_linear_structure(train, p) == (p - rank == 2)
    # numerical gradient of the effective loss
    g = G.effective_loss_gradient(E, Q)
    num = np.zeros_like(E)
    for idx in np.ndindex(E.shape):
        h = np.zeros_like(E)
        h[idx] = 1e-6
        num[idx] = (G.effective_loss(E + h, Q) - G.effective_loss(E - h, Q)) / 2e-6
    assert np.allclose(g, num, atol=1e-6 * (1 + np.abs(num).max()))


def test_grokking_rate_is_the_third_eigenvalue_and_zero_when_unpinned():
    p = 7
    Q = G.parallelograms(p)
    H = G.effective_hessian(Q, p)
    k = np.arange(p) - (p - 1) / 2
    basis = np.linalg.qr(np.c_[np.ones(p), k, np.eye(p)])[0][:, :2]
    comp = np.linalg.svd(np.eye(p) - basis @ basis.T)[0][:, : p - 2]   # the complement of {1, k}
    lam3 = np.linalg.eigvalsh(comp.T @ H @ comp).min()                 # min Rayleigh quotient there
    assert G.grokking_rate(Q, p) == pytest.approx(lam3, rel=1e-9)
    assert G.grokking_rate(Q[:1], p) == 0.0                             # one constraint pins nothing
    assert G.grokking_rate(np.zeros((0, 4)), p) == 0.0


@settings(max_examples=15, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), frac=st.floats(0.2, 1.0))
def test_permissible_parallelograms_are_the_rows_in_the_span(seed, frac):
    rng = np.random.default_rng(seed)
    p = 6
    pairs = G.unordered_pairs(p)
    train = pairs[rng.random(len(pairs)) < frac]
    A0 = G.constraint_matrix(G.training_parallelograms(train, p), p)
    Q = G.parallelograms(p)
    if len(A0) == 0:
        assert len(G.permissible_parallelograms(train, p)) == 0
        return
    inside = []
    for q in Q:
        a = G.constraint_matrix(q, p)[0]
        coef = np.linalg.lstsq(A0.T, a, rcond=None)[0]
        inside.append(np.linalg.norm(A0.T @ coef - a) < 1e-6)
    assert G.permissible_parallelograms(train, p).tolist() == Q[np.array(inside)].tolist()


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), delta=st.floats(0.0, 2.0))
def test_rqi_and_predicted_accuracy_from_their_definitions(seed, delta):
    rng = np.random.default_rng(seed)
    p = 6
    E = rng.standard_normal(p) + 0.5 * np.arange(p)
    En = (E - E.mean()) / np.sqrt(((E - E.mean()) ** 2).sum() / p)
    assert np.allclose(G.normalise_embeddings(E)[:, 0], En)
    Q = G.parallelograms(p)
    ok = [abs(En[i] + En[j] - En[m] - En[n]) <= delta for i, j, m, n in Q]
    assert G.rqi(E, delta=delta) == pytest.approx(np.mean(ok))
    pairs = G.unordered_pairs(p)
    train = pairs[rng.random(len(pairs)) < 0.5]
    D = {tuple(x) for x in train.tolist()}
    ev = pairs[rng.permutation(len(pairs))[:8]]
    hits = [(i, j) in D or any(a + b == i + j and abs(En[i] + En[j] - En[a] - En[b]) <= delta for a, b in D)
            for i, j in ev.tolist()]
    assert G.predicted_accuracy(E, train, ev, delta=delta) == pytest.approx(np.mean(hits))
    # a reversed eval pair is the same pair
    assert G.predicted_accuracy(E, train, ev[:, ::-1], delta=delta) == pytest.approx(np.mean(hits))


@settings(max_examples=10, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), Z0=st.one_of(st.none(), st.floats(0.5, 5.0)))
def test_linear_flow_solves_its_ode(seed, Z0):
    rng = np.random.default_rng(seed)
    p = 6
    Q = G.training_parallelograms(G.unordered_pairs(p)[rng.random(21) < 0.7], p)
    E0 = rng.standard_normal((p, 2))
    Zc = ((E0 - E0.mean(0)) ** 2).sum() if Z0 is None else Z0
    H = G.effective_hessian(Q, p)
    t = np.array([0.0, 0.3, 0.9])
    traj = G.linear_flow(E0, Q, t, Z0=Z0)
    assert np.allclose(traj[0], E0)
    sol = solve_ivp(lambda _, y: (-(2 / Zc) * H @ y.reshape(p, 2)).ravel(), (0, 0.9), E0.ravel(), t_eval=t,
                    rtol=1e-10, atol=1e-12)
    assert np.allclose(traj, sol.y.T.reshape(3, p, 2), atol=1e-7)


def test_effective_gradient_flow_against_an_ode_solver():
    rng = np.random.default_rng(5)
    p = 6
    Q = G.training_parallelograms(G.unordered_pairs(p)[rng.random(21) < 0.7], p)
    E0 = rng.standard_normal((p, 2))
    t = np.array([0.0, 0.4, 1.5])
    traj = G.effective_gradient_flow(E0, Q, t, max_dt=0.01)
    sol = solve_ivp(lambda _, y: -G.effective_loss_gradient(y.reshape(p, 2), Q).ravel(), (0, 1.5), E0.ravel(),
                    t_eval=t, rtol=1e-11, atol=1e-12)
    assert np.allclose(traj, sol.y.T.reshape(3, p, 2), atol=1e-7)
    coarse = G.effective_gradient_flow(E0, Q, t, max_dt=0.2)        # RK4 with big steps: close, not exact
    assert 1e-9 < np.abs(coarse - traj).max() < 0.1
    # a time listed twice gives the same state twice
    twice = G.effective_gradient_flow(E0, Q, [0.4, 0.4], max_dt=0.01)
    assert np.array_equal(twice[0], twice[1]) and np.allclose(twice[0], traj[1], atol=1e-12)


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 9))
def test_linearity_defect_is_one_minus_r_squared(seed, p):
    rng = np.random.default_rng(seed)
    E = rng.standard_normal((3, p))
    k = np.arange(p)
    r2 = []
    for row in E:
        fit = np.polyval(np.polyfit(k, row, 1), k)
        r2.append(((row - fit) ** 2).sum() / ((row - row.mean()) ** 2).sum())
    assert np.allclose(G.linearity_defect(E), r2, atol=1e-10)
    assert G.linearity_defect(2.0 - 0.5 * k) == pytest.approx(0.0, abs=1e-20)


@settings(max_examples=20, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), p=st.integers(2, 8))
def test_order_inversions_and_changes_by_brute_force(seed, p):
    rng = np.random.default_rng(seed)
    E = rng.integers(0, 4, (5, p)).astype(float)           # ties are likely
    n = np.array([sum(row[i] > row[j] for i in range(p) for j in range(i + 1, p)) for row in E])
    assert G.order_inversions(E).tolist() == np.minimum(n, p * (p - 1) // 2 - n).tolist()
    start = int(rng.integers(0, 5))
    orders = [tuple(np.argsort(row)) for row in E]
    assert G.order_changes(E, start) == sum(o != orders[start] for o in orders[start + 1:])
    sp = [(0, p - 1)]
    signs = np.sign(E[:, 0] - E[:, p - 1])
    assert G.order_changes(E, start, sp) == int((signs[start + 1:] != signs[start]).sum())


@settings(max_examples=15, deadline=None, database=None)
@given(seed=st.integers(0, 10_000), p=st.integers(3, 7))
def test_tied_symbol_pairs_by_brute_force(seed, p):
    rng = np.random.default_rng(seed)
    pairs = G.unordered_pairs(p)
    train = pairs[rng.random(len(pairs)) < 0.4]
    D = {tuple(x) for x in train.tolist()}
    brute = [(i, j) for i in range(p) for j in range(i + 1, p)
             if any(tuple(sorted((i, k))) in D and tuple(sorted((j, k))) in D for k in range(p))]
    assert [tuple(x) for x in G.tied_symbol_pairs(train, p).tolist()] == brute


def test_probability_unique_repeats_its_random_splits():
    p, sizes, n_splits = 5, [4, 8, 12], 6
    rng = np.random.default_rng(7)
    pairs = G.unordered_pairs(p)
    expected = []
    for n in sizes:
        hits = sum(G.unique_linear_structure(pairs[rng.permutation(len(pairs))[:n]], p) for _ in range(n_splits))
        expected.append(hits / n_splits)
    assert G.probability_unique(p, sizes, n_splits=n_splits, seed=7).tolist() == expected
    assert G.probability_unique(p, len(pairs), n_splits=2).tolist() == [1.0]


def test_critical_fraction_interpolates_linearly():
    f = [0.1, 0.3, 0.5]
    assert G.critical_fraction(f, [0.2, 0.4, 0.9]) == pytest.approx(0.3 + 0.1 / 0.5 * 0.2)
    assert G.critical_fraction(f, [0.6, 0.7, 0.9]) == 0.1                 # already above at the start
    assert G.critical_fraction(f, [0.0, 0.5, 0.9]) == 0.3                 # reached exactly
    assert G.critical_fraction(f, [0.0, 0.1, 0.9], level=0.8) == pytest.approx(0.3 + 0.7 / 0.8 * 0.2)


def test_classify_phase_boundaries():
    # validation exactly at the delay is comprehension, one step later grokking
    assert G.classify_phase(100, 100 + 500, budget=5000).tolist() == 0
    assert G.classify_phase(100, 601, budget=5000).tolist() == 1
    assert G.classify_phase(100, 2 * 100 + 7, budget=5000, delay_ratio=2, min_delay=7) == 0
    assert G.classify_phase(100, 2 * 100 + 8, budget=5000, delay_ratio=2, min_delay=7) == 1
    # at the budget still counts, beyond it does not
    assert G.classify_phase(5000, 5000, budget=5000) == 0
    assert G.classify_phase(5001, 5001, budget=5000) == 3
    assert G.classify_phase(10, 5001, budget=5000) == 2
    assert G.classify_phase(np.inf, 10, budget=5000) == 3
    assert G.classify_phase(10, np.nan, budget=5000) == 2
    assert G.classify_phase(np.nan, 600, budget=5000) == 3
    assert G.classify_phase([10, 10], 700, budget=5000).tolist() == [1, 1]   # broadcasting


def test_defaults_are_the_documented_ones():
    """delta = 0.05, tol = 1e-9 / 1e-8, max_dt = 0.01, n_splits = 200, seed = 0, level = ½, delay_ratio = 1,
    min_delay = budget/10: each default gives what the explicit value gives, and differs from a nearby value."""
    E = np.array([0.0, 1.0, 2.04, 3.0, 4.0, 5.1])                   # a nearly linear structure: small defects
    En = G.normalise_embeddings(E)[:, 0]
    Q = G.parallelograms(6)
    d = G.parallelogram_defects(En, Q)
    assert np.any((d > 0.05) & (d < 0.2)) and np.any(d <= 0.05)
    assert G.rqi(E) == G.rqi(E, delta=0.05) == np.mean(d <= 0.05)
    assert G.rqi(E) != G.rqi(E, delta=0.2)
    pairs = G.unordered_pairs(6)
    assert G.predicted_accuracy(E, pairs[:8], pairs) == G.predicted_accuracy(E, pairs[:8], pairs, delta=0.05)
    assert G.predicted_accuracy(E, pairs[:8], pairs) != G.predicted_accuracy(E, pairs[:8], pairs, delta=1.0)
    assert np.array_equal(G.permissible_parallelograms(pairs[::2], 6), G.permissible_parallelograms(pairs[::2], 6, tol=1e-9))
    assert G.null_space_dimension(Q[:3], 6) == G.null_space_dimension(Q[:3], 6, tol=1e-8)
    E0 = np.random.default_rng(1).standard_normal(6)
    P0 = G.training_parallelograms(pairs[::2], 6)
    assert np.array_equal(G.effective_gradient_flow(E0, P0, [0.05]), G.effective_gradient_flow(E0, P0, [0.05], max_dt=0.01))
    assert not np.array_equal(G.effective_gradient_flow(E0, P0, [0.05]),
                              G.effective_gradient_flow(E0, P0, [0.05], max_dt=0.02))
    assert np.array_equal(G.probability_unique(4, [5, 7], n_splits=20), G.probability_unique(4, [5, 7], n_splits=20, seed=0))
    assert len({tuple(G.probability_unique(5, [6, 8, 10], n_splits=20, seed=s)) for s in range(4)}) > 1
    full = G.probability_unique(4, [6])
    assert full.shape == (1,) and full[0] * 200 == round(full[0] * 200)        # 200 splits by default
    assert G.critical_fraction([0.1, 0.2], [0.2, 0.8]) == pytest.approx(0.1 + 0.3 / 0.6 * 0.1)   # level ½
    assert G.classify_phase(100, 600, budget=5000) == G.classify_phase(100, 600, budget=5000, delay_ratio=1.0,
                                                                       min_delay=500)
    assert G.classify_phase(100, 550, budget=5000, min_delay=400) == 1 and G.classify_phase(100, 550, budget=5000) == 0


def test_grokking_rate_is_zero_whenever_the_null_space_exceeds_two():
    rng = np.random.default_rng(0)
    p = 7
    pairs = G.unordered_pairs(p)
    found = {}
    for _ in range(400):
        Q = G.training_parallelograms(pairs[rng.random(len(pairs)) < rng.uniform(0.2, 0.9)], p)
        found.setdefault(G.null_space_dimension(Q, p), Q)
    assert {2, 3, 4} <= set(found)
    for dim, Q in found.items():
        rate = G.grokking_rate(Q, p)
        if dim > 2:
            assert rate == 0.0 and type(rate) is float
        else:
            assert rate == pytest.approx(G.hessian_spectrum(Q, p)[2]) and rate > 1e-6
