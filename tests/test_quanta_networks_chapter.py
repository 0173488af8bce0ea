"""The theory-vs-experiment checks of the chapter "Do trained networks follow the quantization model?"
(book/06_scaling/04_quanta_in_networks), at small sizes, and its exercise checker."""

import numpy as np

import course_utils as cu
from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedAdam, online
from course_utils.exercises import quanta_networks as ex
from course_utils.theory import quanta
from course_utils.theory import quanta_networks as qn


def test_width_sweep_learns_frequent_skills_first_and_more_with_width():
    task = MultitaskSparseParity(n_skills=8, n_bits=10, m=2, alpha=1.0, seed=0)
    p = task.probabilities.numpy()
    x_test, y_test, _ = task.test_set(128, seed=100)
    widths, seeds = [4, 32], [0, 1]
    model = online.padded_widths(task.input_dim, np.repeat(widths, 2), 2, np.tile(seeds, 2))   # width-major
    run = online.train_online(model, online.task_sampler([task] * 4), BatchedAdam(model.parameters(), lr=1e-2),
                              steps=1500, batch=256, record_steps=[1500], seed=1, desc="test",
                              measure=lambda m: online.skill_scores(m, x_test, y_test, 8))
    acc = run["acc"][-1].reshape(2, 2, 8)
    learned = acc >= 0.9
    n = learned.sum(-1)
    assert n[0].max() < n[1].min()                                       # wider learns more
    assert np.nanmean(qn.out_of_order_fraction(learned.reshape(-1, 8))) < 0.1
    err = ((1 - acc) * p).sum(-1)
    assert np.all(err[1] < err[0])
    # the error is close to the Zipf tail of the learned count (partly learned skills lower it)
    ratio = err.mean(-1) / qn.tail_loss(n.mean(-1), p, 0.5)
    assert np.all((ratio > 0.4) & (ratio < 1.3))
    # online, an unlearned skill costs about ln 2: a little more, since its answers borrow from other skills' units
    ce = run["logloss"][-1].reshape(2, 2, 8)
    assert 0.95 < ce[acc < 0.6].mean() / np.log(2) < 1.3


def test_finite_set_prediction_is_steeper_than_the_asymptote():
    p = quanta.skill_probabilities(32, 1.0)
    n = np.arange(2, 13)
    finite = cu.fit_power_law(n, qn.tail_loss(n, p)).alpha
    infinite = cu.fit_power_law(n, qn.tail_loss(n, quanta.skill_probabilities(100_000, 1.0))).alpha
    assert finite > infinite + 0.1 and abs(infinite - 1) < 0.15


def test_exercise_checker():
    right = lambda n, p: np.append(np.cumsum(p[::-1])[::-1], 0.0)[np.asarray(n)]            # noqa: E731
    assert ex.check_tail_loss(right, verbose=False)
    inclusive = lambda n, p: np.append(np.cumsum(p[::-1])[::-1], 0.0)[np.maximum(np.asarray(n) - 1, 0)]   # noqa: E731
    assert not ex.check_tail_loss(inclusive, verbose=False)
    assert not ex.check_tail_loss(lambda n, p: np.full(np.shape(n), np.nan), verbose=False)
    assert not ex.check_tail_loss(lambda n, p: 0.5, verbose=False)                # wrong shape
    assert not ex.check_tail_loss(0.5, verbose=False)                             # not a function
    assert not ex.check_tail_loss(lambda n, p: None, verbose=False)
    assert not ex.check_tail_loss(lambda n, p: lambda: 0, verbose=False)          # a function where a value goes
    assert not ex.check_tail_loss(lambda n, p: 1 / 0, verbose=False)
