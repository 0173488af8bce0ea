"""The theory-vs-experiment checks of the chapter "Skills, quanta and emergence"
(book/06_scaling/03_skills_and_quanta), at small sizes."""

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedAdam, BatchedMLP, cross_entropy_per_sample, train_ensemble
from course_utils.exercises import skills_quanta as ex
from course_utils.theory import quanta

ALPHA, N_SKILLS, A0 = 1.0, 3000, 0.01


@pytest.fixture(scope="module")
def run():
    """One gradient-descent run of the multilinear model: strengths at log-spaced steps."""
    p = quanta.skill_probabilities(N_SKILLS, ALPHA)
    record = np.concatenate([[0], np.unique(np.round(np.geomspace(1, 30_000, 40)).astype(int))])
    return p, record, quanta.gradient_descent(p, 30_000, 1.0, a0=A0, record_steps=record)


def test_gd_follows_the_sigmoids_and_the_time_law(run):
    p, record, s = run
    loss = quanta.loss_from_strengths(s, p)
    late = record >= 30
    cu.check_close("GD vs sum of sigmoids", loss[late], quanta.loss_time(record[late], p, s0=A0 ** 2), rtol=0.05)
    window = record >= 300
    fit = cu.fit_power_law(record[window], loss[window])
    cu.check_close("time exponent", fit.alpha, ALPHA / (ALPHA + 1), atol=0.02)
    A_T = quanta.time_law_prefactor(ALPHA, N_SKILLS, s0=A0 ** 2)
    cu.check_close("time-law prefactor", loss[window], A_T * (2 * record[window]) ** -0.5
                   - quanta.zipf_tail(N_SKILLS, ALPHA), rtol=0.05)


def test_parameter_law_with_finite_size_correction(run):
    p, record, s = run
    n_learned = int(np.argmax(s[-1] < 0.99))
    assert n_learned >= 40
    N = np.unique(np.round(np.geomspace(1, n_learned, 10)).astype(int))
    loss_N = quanta.loss_with_units(s[-1], p, N)
    cu.check_close("N units vs Σ_(k>N) p_k", loss_N, quanta.loss_parameters(N, p), rtol=0.01)
    corrected = cu.fit_power_law(N + 0.5, loss_N + quanta.zipf_tail(N_SKILLS, ALPHA))
    cu.check_close("corrected parameter exponent", corrected.alpha, ALPHA, atol=0.02)
    naive = cu.fit_power_law(N, loss_N)
    assert abs(naive.alpha - ALPHA) > 0.03          # the correction is needed


def test_compute_frontier(run):
    p, record, s = run
    N_grid = np.unique(np.round(np.geomspace(1, N_SKILLS, 60)).astype(int))
    loss_NT = quanta.loss_with_units(s[1:], p, N_grid)
    C = np.geomspace(1e3, 3e5, 8)
    frontier = quanta.lower_envelope(record[1:, None] * N_grid[None, :], loss_NT, C)
    cu.check_close("compute exponent", cu.fit_power_law(C, frontier).alpha, ALPHA / (ALPHA + 2), atol=0.03)
    theory, _ = quanta.compute_frontier(C, p, s0=A0 ** 2, n_grid=80)
    cu.check_close("frontier vs theory", frontier, theory, rtol=0.1)


def test_data_law_from_sampled_training_sets():
    task = MultitaskSparseParity(n_skills=N_SKILLS, n_bits=32, m=3, alpha=ALPHA, seed=0)
    p = task.probabilities.numpy()
    D = np.array([10, 100, 1000, 3000])
    counts = np.array([np.bincount(task.sample_skills(int(d), seed=r).numpy(), minlength=N_SKILLS)
                       for d in D for r in range(10)])
    rates = counts / np.repeat(D, 10)[:, None]
    distinct, where = np.unique(rates, return_inverse=True)
    s = quanta.gradient_descent(distinct, 16 * int(D.max()), 0.5, a0=A0, record_steps=[16 * int(D.max())])[0]
    loss = quanta.loss_from_strengths(s[where.reshape(rates.shape)], p).reshape(D.size, 10).mean(1)
    cu.check_close("data law vs Σ p(1-p)^D", loss, quanta.expected_loss_data(D, p), rtol=0.1)
    cu.check_close("data exponent", cu.fit_power_law(D, loss).alpha, 0.5, atol=0.06)


def _per_skill_accuracy(model, x, y, n_skills):
    with torch.no_grad():
        out = model(x)
        return (out.argmax(-1) == y).double().view(out.shape[0], n_skills, -1).mean(-1)


def test_network_learns_skills_in_order_of_frequency():
    torch.manual_seed(0)
    task = MultitaskSparseParity(n_skills=4, n_bits=12, m=3, alpha=0.5, seed=0)
    K, B, steps = 2, 128, 2500
    model = BatchedMLP(K, [task.input_dim, 64, 2], "relu", seeds=range(K))
    opt = BatchedAdam(model.parameters(), lr=3e-3)
    stream = torch.Generator().manual_seed(1)
    x_test, y_test, _ = task.test_set(128)
    acc = []
    for step in range(steps + 1):
        if step % 25 == 0:
            acc.append(_per_skill_accuracy(model, x_test, y_test, 4).numpy())
        if step == steps:
            break
        x, y, _ = task.sample(K * B, generator=stream)
        loss = cross_entropy_per_sample(model(x.view(K, B, -1)), y.view(K, B)).mean(1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    acc = np.array(acc)                                                       # (records, K, skills)
    assert acc[0].max() < 0.7 and acc[-1].min() > 0.9                         # from chance to learned
    t_half = 25 * (acc >= 0.75).argmax(0)                                     # (K, skills)
    assert np.all(t_half[:, 0] < t_half[:, -1])                               # frequent before rare
    assert np.all(t_half.mean(0)[0] < t_half.mean(0)[1:])


def test_data_emergence_is_a_count_threshold():
    task = MultitaskSparseParity(n_skills=4, n_bits=12, m=3, alpha=1.0, seed=0)
    sizes = np.array([300, 4000])
    x, y, k = task.sample(int(sizes.max()), seed=7)
    mask = torch.tensor(np.arange(sizes.max())[None, :] < sizes[:, None], dtype=torch.float64)
    n_k = np.array([np.bincount(k[:d].numpy(), minlength=4) for d in sizes])
    x_test, y_test, _ = task.test_set(128)
    model = BatchedMLP(2, [task.input_dim, 64, 2], "relu", seeds=[100, 101])
    hist = train_ensemble(model, cross_entropy_per_sample, x, y, steps=1500,
                          optimizer=BatchedAdam(model.parameters(), lr=3e-3), sample_weight=mask,
                          batch_size=128, record_steps=[1500], progress=False,
                          metrics={"acc": lambda m: _per_skill_accuracy(m, x_test, y_test, 4)})
    acc = hist["acc"][-1]
    assert acc[n_k >= 1000].min() > 0.9
    assert acc[n_k <= 60].max() < 0.75


def test_exercise_checkers():
    assert ex.check_threshold_data_loss(ex.reference_threshold_data_loss)
    assert not ex.check_threshold_data_loss(lambda D, p, n_c: ex.reference_threshold_data_loss(D, p, n_c + 1))
    assert not ex.check_threshold_data_loss(lambda D, p, n_c: quanta.expected_loss_data(D, p))
    assert ex.check_threshold_data_loss(lambda D, p, n_c: 0.0) is False           # a verdict, not a traceback
    assert ex.check_threshold_data_loss(lambda D, p, n_c: np.full(np.shape(D), np.nan)) is False
    assert ex.check_compute_allocation(1 / 3, 2 / 3, alpha=1.0)
    assert ex.check_compute_allocation(0.2, 0.8, alpha=3.0)
    assert not ex.check_compute_allocation(0.5, 0.5, alpha=1.0)
    assert ex.check_compute_allocation("a third", 2 / 3) is False


def test_parameter_emergence_narrow_networks_learn_only_the_most_frequent_skills():
    """§6: at the same training, width 4 (room for ⌊4/m⌋ = 1 skill unit) learns at most skill 1,
    width 64 learns the three most frequent skills."""
    task = MultitaskSparseParity(n_skills=4, n_bits=12, m=3, alpha=1.0, seed=0)
    x_test, y_test, _ = task.test_set(128)
    K, B, steps = 2, 128, 2500
    learned = {}
    for width in (4, 64):
        model = BatchedMLP(K, [task.input_dim, width, 2], "relu", seeds=range(10, 10 + K))
        opt = BatchedAdam(model.parameters(), lr=3e-3)
        stream = torch.Generator().manual_seed(2)
        for _ in range(steps):
            x, y, _ = task.sample(K * B, generator=stream)
            loss = cross_entropy_per_sample(model(x.view(K, B, -1)), y.view(K, B)).mean(1).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = _per_skill_accuracy(model, x_test, y_test, 4).numpy()            # (K, skills)
        learned[width] = acc >= 0.9
        if width == 4:
            assert acc[:, 1:].max() < 0.65                                    # skills 2–4 stay at chance
        else:
            assert acc[:, :3].min() > 0.9                                     # skills 1–3 are learned
    assert learned[4].sum(1).max() <= 4 // task.m
    assert learned[64].sum(1).min() > learned[4].sum(1).max()
    for n in learned.values():                                                # the most frequent ones
        assert all(np.array_equal(row, np.arange(4) < row.sum()) for row in n)
    net = task.relu_network()                                                 # m units per skill suffice
    assert net[0].out_features == 12
    with torch.no_grad():
        assert ((net(x_test).argmax(-1) == y_test).double().mean() == 1.0)


def test_finite_size_bias_of_the_time_slope_at_small_alpha():
    """§3, α < 1: a world of few skills fits too steep a time slope, as its finite sum of sigmoids predicts;
    adding the Zipf tail back (or a world ten times larger) gives α/(α+1)."""
    alpha, M, steps = 0.6, 2000, 20_000
    rec = np.unique(np.round(np.geomspace(100, steps, 25)).astype(int))
    p = {n: quanta.skill_probabilities(n, alpha) for n in (M, 10 * M)}
    s = quanta.gradient_descent(np.concatenate([p[M], p[10 * M][:M]]), steps, 1.0, a0=A0, record_steps=rec)
    small = quanta.loss_from_strengths(s[:, :M], p[M])
    big = np.sum(p[10 * M][:M] * (1 - s[:, M:]) ** 2, axis=1) + p[10 * M][M:].sum()   # k > M never learned
    gamma = alpha / (alpha + 1)
    fit_small, fit_big = cu.fit_power_law(rec, small).alpha, cu.fit_power_law(rec, big).alpha
    assert fit_small - gamma > 0.01                                                      # the bias
    assert fit_small == pytest.approx(cu.fit_power_law(rec, quanta.loss_time(rec, p[M], s0=A0 ** 2)).alpha, abs=0.003)
    assert cu.fit_power_law(rec, small + quanta.zipf_tail(M, alpha)).alpha == pytest.approx(gamma, abs=0.005)
    assert abs(fit_big - gamma) < fit_small - gamma
