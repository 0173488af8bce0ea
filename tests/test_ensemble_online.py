"""Unit tests of course_utils.ensemble.online: padded widths, per-skill scores, the task sampler and
the online training loop, each against a direct computation or a network trained alone."""

import numpy as np
import pytest
import torch

from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedAdam, BatchedMLP, mlp, mse_per_sample
from course_utils.ensemble import online


def test_skill_scores_match_a_direct_computation():
    task = MultitaskSparseParity(n_skills=3, n_bits=8, m=2, alpha=1.0, seed=0)
    x, y, _ = task.test_set(16, seed=0)
    net = online.padded_widths(task.input_dim, [5, 7], 2, [0, 1])
    scores = online.skill_scores(net, x, y, 3)
    with torch.no_grad():
        q = torch.softmax(net(x).double(), -1)                           # (2, 48, 2)
    q_y = q.gather(-1, y.expand(2, -1)[..., None])[..., 0]
    np.testing.assert_allclose(scores["p_right"].numpy(), q_y.view(2, 3, 16).mean(-1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(scores["logloss"].numpy(), (-q_y.log()).view(2, 3, 16).mean(-1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(scores["acc"].numpy(), (q.argmax(-1) == y).double().view(2, 3, 16).mean(-1).numpy())


def test_padded_members_are_their_own_width_and_stay_so_under_training():
    task = MultitaskSparseParity(n_skills=2, n_bits=6, m=2, alpha=1.0, seed=0)
    widths = [3, 6]
    net = online.padded_widths(task.input_dim, widths, 2, [4, 5])
    x, y, _ = task.sample(32, seed=1)
    with torch.no_grad():
        for k, w in enumerate(widths):
            torch.testing.assert_close(net(x)[k], mlp([task.input_dim, w, 2], "relu", seed=4 + k)(x))
    x_test, y_test, _ = task.test_set(8)
    online.train_online(net, online.task_sampler([task, task]), BatchedAdam(net.parameters(), lr=1e-2), steps=30, batch=16,
                    record_steps=[30], measure=lambda m: online.skill_scores(m, x_test, y_test, 2), seed=0)
    assert float(net.layers[0].weight[0, :, 3:].detach().abs().max()) == 0.0
    assert float(net.layers[1].weight[0, 3:, :].detach().abs().max()) == 0.0


def test_train_online_learns_each_members_own_task_and_members_do_not_interact():
    a = MultitaskSparseParity(n_skills=2, n_bits=6, m=2, alpha=1.0, seed=0)
    b = MultitaskSparseParity(n_skills=2, n_bits=6, m=2, alpha=1.0, seed=3)
    assert not torch.equal(a.subsets, b.subsets)
    sample = online.task_sampler([a, b, a])
    x, y = sample(64, torch.Generator().manual_seed(0))
    assert x.shape == (3, 64, 8) and y.shape == (3, 64)
    assert not torch.equal(x[0], x[2])                                   # same task, different samples
    skill = x[1, :, :2].argmax(1)
    assert torch.equal(y[1], b.labels(skill, x[1, :, 2:].long()))          # member 1 gets task b's labels
    net = online.padded_widths(a.input_dim, [32, 32, 32], 2, [0, 1, 2])
    frozen = net.layers[0].weight[2].detach().clone()
    opt = BatchedAdam(net.parameters(), lr=[1e-2, 1e-2, 0.0])              # member 2 does not move
    tests = [t.test_set(64, seed=9) for t in (a, b)]

    def measure(m):
        sa, sb = (online.skill_scores(m, *tt[:2], 2) for tt in tests)
        return {"acc": torch.stack([sa["acc"][0], sb["acc"][1], sa["acc"][2]])}

    run = online.train_online(net, sample, opt, steps=600, batch=64, record_steps=[0, 600], measure=measure, seed=1)
    assert run["acc"].shape == (2, 3, 2) and list(run["step"]) == [0, 600]
    assert run["acc"][-1, :2].min() > 0.95                                # both worlds learned by their members
    torch.testing.assert_close(net.layers[0].weight[2], frozen)           # no gradient leaks between members
    with pytest.raises(ValueError):
        online.train_online(net, sample, opt, steps=10, batch=4, record_steps=[20], measure=measure, seed=0)


def test_train_online_learns_the_most_frequent_skill_and_checks_its_record_steps():
    task = MultitaskSparseParity(n_skills=3, n_bits=6, m=2, alpha=1.0, seed=0)
    x_test, y_test, _ = task.test_set(128, seed=5)
    model = BatchedMLP(2, [task.input_dim, 32, 2], "relu", seeds=[0, 1])
    run = online.train_online(model, online.task_sampler([task, task]), BatchedAdam(model.parameters(), lr=1e-2),
                              steps=600, batch=64, record_steps=[0, 600], seed=7, desc="test",
                              measure=lambda m: online.skill_scores(m, x_test, y_test, task.n_skills))
    assert run["acc"][0, :, 0].max() < 0.8 and run["acc"][-1, :, 0].min() > 0.95
    assert np.all(run["logloss"][-1, :, 0] < run["logloss"][0, :, 0])
    with pytest.raises(ValueError, match="record_steps"):
        online.train_online(model, online.task_sampler([task, task]), BatchedAdam(model.parameters(), lr=1e-2),
                            steps=5, batch=4, record_steps=[6], seed=0,
                            measure=lambda m: online.skill_scores(m, x_test, y_test, task.n_skills))


def test_padding_needs_only_phi_of_zero_to_vanish_and_keeps_quadratic_members_narrow():
    """Any φ with φ(0) = 0 pads (here the quadratic network of "Compute-optimal training"), with an optional
    positive readout; widths and seeds must pair up."""
    torch.manual_seed(0)
    d, w, W = 5, 3, 8
    model = online.padded_widths(d, [w, W], 1, [4, 5], "quadratic", positive_readout=True)
    small = mlp([d, w, 1], "quadratic", seed=4)
    x = torch.randn(50, d, dtype=small[0].weight.dtype)
    with torch.no_grad():
        small[2].weight.abs_()
        torch.testing.assert_close(model(x)[0], small(x))
    assert (model.layers[1].weight[0, :w] >= 0).all()
    opt = BatchedAdam(model.parameters(), lr=1e-2)
    for _ in range(20):
        opt.zero_grad()
        mse_per_sample(model(x), (x[:, :1] ** 2).expand(2, -1, -1)).mean(1).sum().backward()
        opt.step()
    assert model.layers[0].weight[0, :, w:].abs().max() == 0
    assert model.layers[1].weight[0, w:].abs().max() == 0
    with pytest.raises(ValueError, match="seed"):
        online.padded_widths(d, [w, W], 1, [4], "quadratic")


def test_padding_refuses_an_activation_that_is_not_zero_at_zero():
    with pytest.raises(ValueError, match="φ\\(0\\)"):
        online.padded_widths(3, [1, 2], 1, [0, 1], torch.nn.Sigmoid())


def test_padding_leak_is_zero_for_padded_members_and_sees_any_weight_of_a_padded_unit():
    model = online.padded_widths(5, [2, 4, 4], 1, [0, 1, 2])
    assert online.padding_leak(model, [2, 4, 4]) == 0.0
    for layer, index in ((0, (0, 1, 3)), (1, (0, 3, 0))):              # an input weight, an output weight
        with torch.no_grad():
            model.layers[layer].weight[index] = 0.5
        assert online.padding_leak(model, [2, 4, 4]) == pytest.approx(0.5 * (layer + 1))
    with torch.no_grad():
        model.layers[0].bias[0, 0, 3] = 0.25                               # the same unit's bias
    assert online.padding_leak(model, [2, 4, 4]) == pytest.approx(1.25)
    assert online.padding_leak(model, [4, 4, 4]) == 0.0                   # no unit padded: nothing to leak
    with pytest.raises(ValueError, match="widths"):
        online.padding_leak(model, [2, 4])


def test_train_online_records_a_diverged_member_and_checks_its_arguments():
    task = MultitaskSparseParity(n_skills=2, n_bits=6, m=2, alpha=1.0, seed=0)
    net = online.padded_widths(task.input_dim, [8, 8], 2, [0, 1])
    x_test, y_test, _ = task.test_set(16, seed=1)
    measure = lambda m: online.skill_scores(m, x_test, y_test, 2)                      # noqa: E731
    opt = BatchedAdam(net.parameters(), lr=[1e-2, 1e-2])
    with torch.no_grad():
        net.layers[0].weight[0] = 3e38          # member 0: its hidden units and logits overflow at once
        net.layers[1].weight[0] = 3e38
    run = online.train_online(net, online.task_sampler([task, task]), opt, steps=5, batch=8, record_steps=[0, 5],
                              measure=measure, seed=0)
    assert run["diverged"].tolist() == [True, False] and run["diverged_step"].tolist() == [0, -1]
    assert np.isnan(run["acc"][-1, 0]).all() and np.isfinite(run["acc"][:, 1]).all()   # step 0: not yet seen
    assert float(net.layers[0].weight[0].detach().abs().max()) == 0.0                     # frozen at zero
    for bad in (dict(steps=2.5), dict(batch=0), dict(record_steps=[]), dict(measure=None), dict(seed="a")):
        kw = dict(steps=5, batch=8, record_steps=[0, 5], measure=measure, seed=0) | bad
        with pytest.raises(ValueError, match=next(iter(bad))):
            online.train_online(net, online.task_sampler([task, task]), opt, **kw)
