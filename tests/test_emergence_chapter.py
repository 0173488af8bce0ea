"""The theory-vs-experiment checks of the chapter "Can emergence be predicted?"
(book/06_scaling/07_predicting_emergence), at small sizes, and its exercise checkers."""

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedAdam, BatchedMLP, online
from course_utils.exercises import emergence as ex
from course_utils.theory import emergence as em
from course_utils.theory import quanta


def _worlds(n_skills=4, n_bits=12, m=3):
    """World A (disjoint subsets) and world B (skill 4 reuses two bits of skill 1), as in §1 of the chapter."""
    a = MultitaskSparseParity(n_skills=n_skills, n_bits=n_bits, m=m, alpha=1.0, seed=0)
    a.subsets = torch.arange(n_skills * m).view(n_skills, m)
    b = MultitaskSparseParity(n_skills=n_skills, n_bits=n_bits, m=m, alpha=1.0, seed=0)
    b.subsets = a.subsets.clone()
    b.subsets[3, :2] = a.subsets[0, :2]
    b.subsets = b.subsets.sort(1).values
    return a, b


@pytest.fixture(scope="module")
def time_run():
    """Four networks per world, online, as in §2 (4 skills of 3 among 12 bits: a few seconds)."""
    a, b = _worlds()
    K = 8
    tests = [w.test_set(256, seed=100) for w in (a, b)]

    def measure(model):
        sa, sb = (online.skill_scores(model, *tt[:2], 4) for tt in tests)
        return {"acc": torch.cat([sa["acc"][:4], sb["acc"][4:]])}

    net = BatchedMLP(K, [a.input_dim, 128, 2], "relu", seeds=range(K))
    record = np.unique(np.concatenate([[0], np.geomspace(10, 2500, 120).round()]).astype(int))
    run = online.train_online(net, online.task_sampler([a] * 4 + [b] * 4), BatchedAdam(net.parameters(), lr=3e-3),
                          steps=2500, batch=256, record_steps=record, measure=measure, seed=2)
    return run, a.probabilities.numpy()


def test_calibrated_on_skill_one_the_disjoint_world_is_on_time_and_the_shared_world_is_early(time_run):
    run, p = time_run
    t, acc = run["step"].astype(float), run["acc"]
    t_meas = em.crossing_time(t, 2 * acc - 1, 0.5)                       # (8 networks, 4 skills)
    assert np.isfinite(t_meas).all()
    log_ratio = np.log(t_meas / em.predicted_times(t_meas[:, 0], p))
    disjoint, shared = log_ratio[:4, 1:], log_ratio[4:, 3]
    assert abs(disjoint.mean()) < 0.1 + 3 * disjoint.std(ddof=1) / np.sqrt(disjoint.size)
    assert shared.mean() < -np.log(1.5)                                   # skill 4 reuses two of skill 1's bits
    gamma = [-cu.fit_power_law(1 / p, t_meas[n]).alpha for n in range(4)]
    assert abs(np.mean(gamma) - 1) < 0.1 + 3 * np.std(gamma, ddof=1) / 2
    # the total error from skill 1's curve alone follows the measured one (world A, mean over networks)
    E = np.sum(p * (1 - acc), -1)[:, :4]                                  # (records, 4 networks of world A)
    E_hat = np.stack([em.shifted_total(t, t, 1 - acc[:, n, 0], p) for n in range(4)], 1)
    for level in (0.1, 0.03):                                             # the times it falls to 10 % and 3 %
        lr = np.log(em.crossing_time(t, -E, -level) / em.crossing_time(t, -E_hat, -level))
        assert abs(lr.mean()) < 0.1 + 3 * lr.std(ddof=1) / 2


def test_data_law_sorts_skills_far_from_the_knee():
    """§3 at small size: with d_k ≥ 2 D_c a skill is learned, with d_k ≤ D_c/8 it is not."""
    a, _ = _worlds()
    from course_utils.ensemble import cross_entropy_per_sample, train_ensemble
    sizes = np.array([300, 1200, 4800])
    x, y, _ = a.sample(int(sizes.max()), seed=7)
    mask = torch.tensor(np.arange(sizes.max())[None, :] < sizes[:, None], dtype=torch.float64)
    xt, yt, _ = a.test_set(256, seed=100)
    net = BatchedMLP(3, [a.input_dim, 128, 2], "relu", seeds=[10, 11, 12])
    hist = train_ensemble(net, cross_entropy_per_sample, x, y, steps=2000, optimizer=BatchedAdam(net.parameters(), lr=3e-3),
                          sample_weight=mask, batch_size=256, record_steps=[2000], progress=False,
                          metrics={"acc": lambda m: online.skill_scores(m, xt, yt, 4)["acc"]})
    a_D = np.clip(2 * hist["acc"][-1] - 1, 0, 1)
    d = sizes[:, None] * a.probabilities.numpy()
    D_c = em.fit_data_threshold(d[:, 1], a_D[:, 1])
    assert 50 < D_c < 1500
    assert a_D[d >= 2 * D_c].min() > 0.8
    assert a_D[d <= D_c / 8].max() < 0.25 if (d <= D_c / 8).any() else True


def test_exercise_checkers():
    assert ex.check_data_law(em.data_law)
    assert ex.check_data_law(lambda D, p, D_c: np.minimum(np.outer(D, p) / D_c, 1))
    assert not ex.check_data_law(lambda D, p, D_c: np.outer(D, p) / D_c)                       # no cap
    assert not ex.check_data_law(lambda D, p, D_c: np.minimum(np.outer(D, np.ones_like(p)) / D_c, 1))
    assert not ex.check_data_law(lambda D, p, D_c: (np.outer(D, p) >= D_c).astype(float))    # a threshold
    assert not ex.check_data_law(lambda D, p, D_c: np.full((len(D), len(p)), np.nan))
    assert not ex.check_data_law(lambda D, p, D_c: np.minimum(np.outer(D, p) / D_c, 1)[0])   # wrong shape
    assert not ex.check_data_law(lambda D, p, D_c: "min(pD/Dc, 1)")
    assert not ex.check_data_law(lambda D, p, D_c: em.data_law)                               # a function
    assert not ex.check_data_law(lambda D, p: 0)                                              # raises
    assert not ex.check_data_law(np.zeros(3))                                                 # not a function
    p = quanta.skill_probabilities(100, 1.0)
    right = int(np.sum(p * 1e5 >= 600))
    assert ex.check_complete_skills(right, 1e5, 600, 100, 1.0)
    assert ex.check_complete_skills(float(right), 1e5, 600, 100, 1.0)
    assert not ex.check_complete_skills(right + 1, 1e5, 600, 100, 1.0)
    assert not ex.check_complete_skills(np.nan, 1e5, 600, 100, 1.0)
    assert not ex.check_complete_skills("ten", 1e5, 600, 100, 1.0)
    assert not ex.check_complete_skills(len, 1e5, 600, 100, 1.0)
    assert not ex.check_complete_skills(2.5, 1e5, 600, 100, 1.0)
