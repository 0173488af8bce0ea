"""course_utils.ensemble.online: the online loop against the same loop written out, the sampler's
draws, the padded ensemble's members, and the argument checks (messages naming the argument)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.data.sparse_parity import MultitaskSparseParity
from course_utils.ensemble import BatchedMLP, BatchedSGD, cross_entropy_per_sample, mlp
from course_utils.ensemble import online
from course_utils.train import TrainingDiverged
from course_utils.validate import ArgumentError


def task(seed=0, n_bits=6):
    return MultitaskSparseParity(n_skills=2, n_bits=n_bits, m=2, alpha=1.0, seed=seed)


def test_train_online_is_the_loop_written_out():
    """A fresh batch from the seeded generator at every step; measured at the record steps, before the update."""
    t = task()
    sample = online.task_sampler([t, t])
    nets = [BatchedMLP(2, [t.input_dim, 8, 2], "relu", seeds=[0, 1]) for _ in range(2)]
    measure = lambda m: {"w": m.layers[0].weight[:, 0, 0], "b": m.layers[1].bias[:, 0, :]}   # noqa: E731
    run = online.train_online(nets[0], sample, BatchedSGD(nets[0].parameters(), lr=[0.1, 0.3]), steps=5, batch=4,
                              record_steps=[5, 0, 2], measure=measure, seed=3, desc="t")
    assert list(run["step"]) == [0, 2, 5] and run["step"].dtype.kind == "i"
    assert run["w"].shape == (3, 2) and run["b"].shape == (3, 2, 2)
    assert run["diverged"].tolist() == [False, False] and run["diverged_step"].tolist() == [-1, -1]
    ref, opt, gen, seen = nets[1], BatchedSGD(nets[1].parameters(), lr=[0.1, 0.3]), torch.Generator().manual_seed(3), []
    for step in range(6):
        if step in (0, 2, 5):
            seen.append(ref.layers[0].weight[:, 0, 0].detach().clone())
        if step == 5:
            break
        x, y = sample(4, gen)
        opt.zero_grad()
        cross_entropy_per_sample(ref(x), y).mean(1).sum().backward()
        opt.step()
    assert np.array_equal(run["w"], torch.stack(seen).numpy())
    assert all(torch.equal(a, b) for a, b in zip(nets[0].parameters(), ref.parameters()))


def test_train_online_argument_checks():
    t = task()
    net = BatchedMLP(2, [t.input_dim, 4, 2], "relu", seeds=[0, 1])
    opt = BatchedSGD(net.parameters())
    good = dict(steps=3, batch=2, record_steps=[0, 3], measure=lambda m: {"w": m.layers[0].weight[:, 0, 0]}, seed=0)
    sample = online.task_sampler([t, t])
    with pytest.raises(ArgumentError, match="need a batched model"):
        online.train_online(mlp([t.input_dim, 2]), sample, opt, **good)
    with pytest.raises(ArgumentError, match="sample"):
        online.train_online(net, "data", opt, **good)
    with pytest.raises(ArgumentError, match="optimizer"):
        online.train_online(net, sample, None, **good)
    with pytest.raises(ArgumentError, match=r"record_steps must be non-empty and lie in \[0, 3\]"):
        online.train_online(net, sample, opt, **(good | dict(record_steps=[])))
    with pytest.raises(ArgumentError, match="on_divergence"):
        online.train_online(net, sample, opt, **good, on_divergence="ignore")
    bad_sample = lambda b, g: (torch.zeros(2, b + 1, t.input_dim), torch.zeros(2, b, dtype=torch.long))  # noqa: E731
    with pytest.raises(ArgumentError, match=r"sample must return x of shape \(2, 2, d\) and y of shape \(2, 2\), "
                                            r"got \(2, 3, 8\) and \(2, 2\)"):
        online.train_online(net, bad_sample, opt, **good)
    bad_y = lambda b, g: (torch.zeros(2, b, t.input_dim), torch.zeros(2, b + 1, dtype=torch.long))  # noqa: E731
    with pytest.raises(ArgumentError, match="sample must return"):
        online.train_online(net, bad_y, opt, **good)
    run = online.train_online(net, sample, opt, **(good | dict(steps=0, record_steps=[0])))
    assert list(run["step"]) == [0] and run["w"].shape == (1, 2)


def test_train_online_raise_mode_and_freezing_at_the_next_record():
    t = task()
    measure = lambda m: {"w": m.layers[0].weight[:, 0, 0], "n": torch.arange(2)}   # noqa: E731

    def fresh():
        net = BatchedMLP(2, [t.input_dim, 4, 2], "relu", seeds=[0, 1])
        with torch.no_grad():
            net.layers[0].weight[0] = 3e38                     # member 0's hidden units and logits overflow at once
            net.layers[1].weight[0] = 3e38
        return net

    net = fresh()
    with pytest.raises(TrainingDiverged, match=r"member \[0\]") as err:
        online.train_online(net, online.task_sampler([t, t]), BatchedSGD(net.parameters(), lr=0.1), steps=4,
                            batch=4, record_steps=[0, 4], measure=measure, seed=0, on_divergence="raise")
    assert err.value.members == [0] and err.value.step == 0
    net = fresh()
    opt = BatchedSGD(net.parameters(), lr=0.1, momentum=0.9)
    run = online.train_online(net, online.task_sampler([t, t]), opt, steps=4, batch=4, record_steps=[0, 2, 4],
                              measure=measure, seed=0)
    assert run["diverged_step"].tolist() == [0, -1]
    assert np.isfinite(run["w"][0]).all() and np.isnan(run["w"][1:, 0]).all() and np.isfinite(run["w"][:, 1]).all()
    assert run["n"].tolist() == [[0, 1]] * 3                  # integer values are not masked
    assert run["w"][1, 1] != run["w"][0, 1]                   # member 1 trains on
    assert all(float(p[0].detach().abs().max()) == 0 for p in net.parameters())
    assert float(opt.state[net.layers[0].weight]["momentum_buffer"][0].abs().max()) == 0
    assert opt.param_groups[0]["lr"].tolist() == [0.0, 0.1]


def test_task_sampler_draws_once_per_task_for_its_members():
    a, b = task(0), task(3)
    sample = online.task_sampler([a, b, a])
    x, y = sample(5, torch.Generator().manual_seed(2))
    assert x.dtype == torch.get_default_dtype() and y.dtype == torch.long
    gen = torch.Generator().manual_seed(2)
    xa, ya, _ = a.sample(10, generator=gen)                  # task a first (its members 0 and 2 together), then b
    xb, yb, _ = b.sample(5, generator=gen)
    assert torch.equal(x[[0, 2]], xa.view(2, 5, -1).to(x.dtype)) and torch.equal(y[[0, 2]], ya.view(2, 5))
    assert torch.equal(x[1], xb.to(x.dtype)) and torch.equal(y[1], yb)
    with pytest.raises(ValueError, match="need at least one task, all with the same input_dim"):
        online.task_sampler([])
    with pytest.raises(ValueError, match="same input_dim"):
        online.task_sampler([a, task(n_bits=7)])


def test_skill_scores_checks_the_grouping():
    t = task()
    x, y, _ = t.test_set(4, seed=0)
    net = BatchedMLP(2, [t.input_dim, 4, 2], "relu", seeds=[0, 1])
    scores = online.skill_scores(net, x, y, 2)
    assert set(scores) == {"acc", "logloss", "p_right"} and all(v.shape == (2, 2) for v in scores.values())
    assert all(v.dtype == torch.float64 for v in scores.values())
    with pytest.raises(ValueError, match=r"n_skills=3 \(grouped by skill\), got 8 and 8"):
        online.skill_scores(net, x, y, 3)
    with pytest.raises(ValueError, match="got 8 and 7"):
        online.skill_scores(net, x, y[:7], 2)
    online.skill_scores(net, x, y, 1)                        # one skill: all rows


def test_padded_widths_checks_and_members():
    with pytest.raises(ValueError, match=r"need one seed per width and positive widths, got widths=\[2, 0\]"):
        online.padded_widths(3, [2, 0], 1, [0, 1])
    with pytest.raises(ValueError, match="need one seed per width"):
        online.padded_widths(3, [], 1, [])
    model = online.padded_widths(3, [1, 3], 2, [5, 6], "tanh")
    assert model.n_members == 2 and model.sizes == [3, 3, 2] and model.activation == "tanh"
    x = torch.randn(4, 3, dtype=model.layers[0].weight.dtype)
    with torch.no_grad():
        for k, (w, s) in enumerate(zip([1, 3], [5, 6])):
            torch.testing.assert_close(model(x)[k], mlp([3, w, 2], "tanh", seed=s)(x), rtol=0, atol=0)
    neg = online.padded_widths(3, [3], 2, [5], "tanh")
    pos = online.padded_widths(3, [3], 2, [5], "tanh", positive_readout=True)
    assert torch.equal(pos.layers[1].weight, neg.layers[1].weight.abs()) and (neg.layers[1].weight < 0).any()
    assert torch.equal(pos.layers[0].weight, neg.layers[0].weight) and torch.equal(pos.layers[1].bias, neg.layers[1].bias)


def test_padding_leak_checks_its_widths():
    model = online.padded_widths(3, [2, 4], 1, [0, 1])
    for widths in ([0, 4], [2, 5], [2, 4, 4]):
        with pytest.raises(ValueError, match=r"widths must give one width in \[1, 4\] per member \(2\)"):
            online.padding_leak(model, widths)
    with torch.no_grad():
        model.layers[1].weight[1, 3, 0] = 0.5                  # member 1 has no padded unit: no leak
        model.layers[0].weight[0, 1, 1] = -0.25                # member 0's first padded unit (index 2 is padded)
    assert online.padding_leak(model, [2, 4]) == 0.0
    with torch.no_grad():
        model.layers[0].weight[0, 1, 2] = -0.25
    assert online.padding_leak(model, [2, 4]) == 0.25
