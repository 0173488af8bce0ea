"""The theory-vs-experiment checks of the chapter "What does a small initialisation buy? Implicit bias in diagonal
linear networks" (book/04_feature_learning/04_implicit_bias), at small sizes: gradient descent reaches the
Q_α-interpolator from the ℓ1 end to the ℓ2 end, the finite-step picture (Q at the effective scales √(u v)),
the lazy/rich weight change, the test errors, and the sparse-recovery threshold of basis pursuit."""

import numpy as np
import pytest

from course_utils.theory import implicit_bias as ib

pytestmark = pytest.mark.usefixtures("float64")

D, N, K, DRAWS = 40, 16, 2, 3
ALPHAS = np.array([1e-3, 0.1, 10.0])


@pytest.fixture(scope="module")
def sweep():
    X, beta_star, y = ib.sparse_regression(N, D, K, draws=DRAWS, seed=11)
    member_alpha = np.repeat(ALPHAS, DRAWS)
    member_draw = np.tile(np.arange(DRAWS), len(ALPHAS))
    run = ib.train_diagonal_networks(X[member_draw], y[member_draw], member_alpha, escape_steps=2000,
                                     converge_steps=8000, beta_max=3.0, progress=False)
    theory = np.array([ib.interpolator(X[j], y[j], a) for a, j in zip(member_alpha, member_draw)])
    return dict(X=X, y=y, beta_star=beta_star, alpha=member_alpha, draw=member_draw, run=run, theory=theory)


def _rel(a, b):
    return np.linalg.norm(a - b, axis=-1) / np.linalg.norm(b, axis=-1)


def test_gradient_descent_reaches_the_q_interpolator(sweep):
    assert _rel(sweep["run"]["beta"], sweep["theory"]).max() < 0.01


def test_finite_step_is_q_at_the_effective_scales(sweep):
    run, X = sweep["run"], sweep["X"][sweep["draw"]]
    for m in range(len(sweep["alpha"])):
        y_hat = X[m] @ run["beta"][m]
        effective = ib.interpolator(X[m], y_hat, np.sqrt(run["u"][m] * run["v"][m]))
        assert _rel(run["beta"][m], effective) < 1e-3
    # and a finite step shrinks u v below α² (never above)
    assert np.all(run["u"] * run["v"] <= sweep["alpha"][:, None] ** 2 * (1 + 1e-12))


def test_l1_at_small_scale_l2_at_large_scale(sweep):
    X, y, run = sweep["X"], sweep["y"], sweep["run"]
    small, large = sweep["alpha"] == ALPHAS[0], sweep["alpha"] == ALPHAS[-1]
    l1 = np.array([ib.min_l1_interpolator(X[j], y[j]) for j in range(DRAWS)])
    l2 = np.array([ib.min_l2_interpolator(X[j], y[j]) for j in range(DRAWS)])
    assert _rel(run["beta"][large], l2).max() < 1e-6
    assert _rel(run["beta"][small], l1).max() < 0.05
    assert _rel(run["beta"][small], l2).min() > 0.2
    # test errors: the rich end recovers the teacher, the lazy end does not
    err = ((run["beta"] - sweep["beta_star"][sweep["draw"]]) ** 2).sum(1) / K
    assert err[small].max() < 1e-2 and err[large].min() > 0.3


def test_weight_change_is_the_scalar_model_per_coordinate(sweep):
    run, a = sweep["run"], sweep["alpha"][:, None]
    measured = np.sqrt(((run["u"] - a) ** 2 + (run["v"] - a) ** 2).sum(1) / (2 * D * a[:, 0] ** 2))
    predicted = np.array([ib.relative_weight_change(b, al) for b, al in zip(sweep["theory"], sweep["alpha"])])
    assert np.allclose(measured, predicted, rtol=0.02)
    assert measured[0] > 10 and measured[-1] < 1e-2      # rich moves far, lazy hardly


def test_basis_pursuit_threshold_near_the_statistical_dimension():
    d, k = 100, 5
    delta = ib.statistical_dimension_l1(d, k)
    assert 18 < delta < 23
    fractions = []
    for n in (12, 36):
        X, b, y = ib.sparse_regression(n, d, k, draws=30, seed=n)
        fractions.append(np.mean([_rel(ib.min_l1_interpolator(X[j], y[j]), b[j]) < 0.1 for j in range(30)]))
    assert fractions[0] <= 0.2 and fractions[1] >= 0.9
