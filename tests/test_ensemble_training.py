"""train_ensemble and its parts against direct computations: per-sample losses, weights and masks
(normalised per member), minibatch order (as course_utils.train draws it), the history format,
stop_when semantics and the divergence record.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.ensemble import (BatchedMLP, BatchedSGD, EnsembleHistory, accuracy, cross_entropy_per_sample,
                                   first_step_crossing, first_step_reaching, mse_per_sample, train_ensemble)
from course_utils.ensemble import training as tr
from course_utils.train import History, TrainingDiverged
from course_utils.validate import ArgumentError

K = 3


def data(n=8, d=2, out=2, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=dtype), torch.randn(n, out, generator=g, dtype=dtype)


def model(sizes=(2, 4, 2), seeds=(0, 1, 2), dtype=torch.float64):
    return BatchedMLP(len(seeds), list(sizes), "tanh", seeds=list(seeds)).to(dtype)


# --- per-sample losses and accuracy ------------------------------------------------------------

def test_mse_per_sample_averages_over_every_output_axis():
    out = torch.randn(K, 5, 2, 3, dtype=torch.float64)
    t = torch.randn(5, 2, 3, dtype=torch.float64)
    expected = torch.stack([((out[k] - t) ** 2).reshape(5, -1).mean(1) for k in range(K)])
    assert torch.equal(mse_per_sample(out, t), expected)
    tk = torch.randn(K, 5, 2, 3, dtype=torch.float64)
    assert torch.equal(mse_per_sample(out, tk), ((out - tk) ** 2).reshape(K, 5, -1).mean(2))
    for k in range(K):
        assert torch.allclose(mse_per_sample(out, t)[k].mean(), F.mse_loss(out[k], t), rtol=1e-15, atol=0)
    with pytest.raises(ArgumentError, match=r"target has shape \(4, 2, 3\).*must have shape \(5, 2, 3\) or "
                                            r"\(3, 5, 2, 3\)$"):
        mse_per_sample(out, torch.zeros(4, 2, 3))


def test_cross_entropy_per_sample_is_torchs_per_member():
    logits = torch.randn(K, 6, 4, dtype=torch.float64)
    labels = torch.tensor([0, 3, 1, 2, 2, 0])
    ce = cross_entropy_per_sample(logits, labels)
    assert ce.shape == (K, 6)
    for k in range(K):
        assert torch.equal(ce[k], F.cross_entropy(logits[k], labels, reduction="none"))
    per_member = torch.stack([labels, labels.flip(0), labels.roll(1)])
    ce = cross_entropy_per_sample(logits, per_member)
    for k in range(K):
        assert torch.equal(ce[k], F.cross_entropy(logits[k], per_member[k], reduction="none"))
    for bad_logits, bad_labels in [(logits[0], labels), (logits, labels.double()), (logits, labels[:5]),
                                   (logits, per_member[:2]), (logits[..., None], labels)]:
        with pytest.raises(ArgumentError, match="needs logits of shape"):
            cross_entropy_per_sample(bad_logits, bad_labels)


def test_accuracy_plain_and_weighted():
    logits = torch.tensor([[[2.0, 1.0], [0.0, 1.0], [3.0, 0.0], [0.0, 5.0]],
                           [[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]]])
    labels = torch.tensor([0, 1, 1, 1])
    assert accuracy(logits, labels).tolist() == [0.75, 0.75]
    assert accuracy(logits, labels, torch.tensor([0, 0, 1, 1])).tolist() == [0.5, 1.0]
    w = torch.tensor([[1.0, 1.0, 2.0, 0.0], [0.0, 0.0, 0.0, 3.0]])
    assert accuracy(logits, labels, w).tolist() == [0.5, 1.0]
    assert accuracy(logits.double(), labels).dtype == torch.float64
    assert accuracy(logits, labels, w.double()).dtype == torch.float32      # the logits' dtype
    grid = torch.stack([logits, logits.flip(0)])                            # (2, K, N, C): any leading axes
    assert accuracy(grid, labels, w).tolist() == [[0.5, 1.0], [0.75, 1.0]]


# --- history -----------------------------------------------------------------------------------

def test_ensemble_history_format():
    h = EnsembleHistory(K)
    assert h.stop_step.tolist() == [-1] * K and h.diverged.tolist() == [False] * K
    assert h.diverged_step.tolist() == [-1] * K and h.stopped_early is False and len(h) == 0
    v = torch.tensor([1.0, 2.0, 3.0])
    h.record(0, loss=v, w=torch.zeros(K, 2))
    v += 10                                                  # recorded values are copies
    assert h["loss"].tolist() == [[1.0, 2.0, 3.0]] and h["w"].shape == (1, K, 2)
    h.record(5, loss=[4.0, 5.0, 6.0], w=torch.ones(K, 2))   # the cache is refreshed by a new record
    assert h["loss"].tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] and h["step"].tolist() == [0, 5]
    assert h.steps == [0, 5] and h.keys() == ["loss", "w"]
    with pytest.raises(ValueError, match="steps must increase: got 5 after 5"):
        h.record(5, loss=v, w=torch.ones(K, 2))
    with pytest.raises(ValueError, match="same names"):
        h.record(6, loss=v)
    with pytest.raises(ValueError, match=r"'loss' must have one entry per member \(leading axis 3\), got shape \(2,\)"):
        h.record(6, loss=torch.ones(2), w=torch.ones(K, 2))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        h.record(6, loss=torch.tensor(1.0), w=torch.ones(K, 2))
    assert h.steps == [0, 5]                                 # a refused record leaves no trace
    with pytest.raises(KeyError, match="'acc'"):
        h["acc"]
    h.diverged[1], h.diverged_step[1] = True, 5
    one = h.member(1)
    assert isinstance(one, History) and one.steps == [0, 5] and one["loss"].tolist() == [2.0, 5.0]
    assert one["w"].shape == (2, 2) and one.diverged is True and one.diverged_step == 5
    assert h.member(0).diverged is False and h.member(2).diverged_step == -1
    for k in (-1, K):
        with pytest.raises(ValueError, match=r"member index must be in \[0, 3\)"):
            h.member(k)


def test_first_step_crossing_and_reaching_include_the_threshold():
    steps = [0, 5, 10]
    v = np.array([[0.1, 0.9], [0.5, 0.5], [0.9, 0.1]])
    assert first_step_crossing(steps, v, 0.5).tolist() == [5, 0]
    assert first_step_crossing(steps, v, 0.5, above=False).tolist() == [0, 5]
    assert np.isnan(first_step_crossing(steps, v, 2.0)).all()
    assert first_step_crossing(steps, v, 2.0, never=-7).tolist() == [-7, -7]
    assert first_step_crossing(steps, v, 0.5, never=-1).dtype == np.float64   # steps come back as floats
    with pytest.raises(ValueError, match="one row per step"):
        first_step_crossing([[0, 5, 10]], v, 0.5)
    h = EnsembleHistory(2)
    for s, row in zip(steps, v):
        h.record(s, acc=torch.tensor(row))
    assert first_step_reaching(h, "acc", 0.5).tolist() == [5, 0]
    assert first_step_reaching(h, "acc", 0.5, above=False, never=-1).tolist() == [0, 5]
    single = History()
    for s, x in zip(steps, [0.1, 0.6, 0.9]):
        single.record(s, acc=x)
    assert first_step_reaching(single, "acc", 0.5).tolist() == [5.0]


# --- what is trained ---------------------------------------------------------------------------

def member_loss(net, X, y, w):
    """Σ_i w_i ℓ_i / Σ_i w_i for one member."""
    per = ((net(X) - y) ** 2).mean(1)
    return (per * w).sum() / w.sum()


@pytest.mark.parametrize("kind", ["none", "shared", "per member", "mask"])
def test_weights_are_normalised_per_member_and_losses_are_the_weighted_means(kind):
    X, y = data()
    g = torch.Generator().manual_seed(3)
    weight = {"none": None, "shared": torch.rand(8, generator=g, dtype=torch.float64) * 5,
              "per member": torch.rand(K, 8, generator=g, dtype=torch.float64) * 5,
              "mask": torch.rand(K, 8, generator=g) > 0.4}[kind]
    m = model()
    singles = [m.member(k) for k in range(K)]
    lrs = [0.1, 0.2, 0.05]
    hist = train_ensemble(m, mse_per_sample, X, y, steps=4, optimizer=BatchedSGD(m.parameters(), lr=lrs),
                          sample_weight=weight, record_steps=[0, 2, 4], progress=False)
    for k, net in enumerate(singles):
        w = torch.ones(8, dtype=torch.float64) if weight is None else (weight if weight.dim() == 1 else weight[k])
        w = w.double()
        opt = torch.optim.SGD(net.parameters(), lr=lrs[k])
        losses = []
        for step in range(5):
            loss = member_loss(net, X, y, w)
            losses.append(loss.item())
            if step == 4:
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
        np.testing.assert_allclose(hist["loss"][:, k], [losses[0], losses[2], losses[4]], rtol=1e-12)
        for a, b in zip(m.member(k).parameters(), net.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    if weight is not None:                                   # only the proportions count
        m2 = model()
        hist2 = train_ensemble(m2, mse_per_sample, X, y, steps=4, optimizer=BatchedSGD(m2.parameters(), lr=lrs),
                               sample_weight=weight.double() * 7, record_steps=[0, 2, 4], progress=False)
        np.testing.assert_allclose(hist2["loss"], hist["loss"], rtol=1e-13)


def test_member_batches_follow_the_single_model_loop_and_may_be_taken_in_pieces():
    support = torch.tensor([1, 4, 5, 7, 8, 11, 12])
    whole = tr._MemberBatches(support, 3, seed=5).take(9)
    gen = torch.Generator().manual_seed(5)
    expected, order, pos = [], torch.randperm(7, generator=gen), 0
    for _ in range(9):                                       # course_utils.train's draw
        if pos + 3 > 7:
            order, pos = torch.randperm(7, generator=gen), 0
        expected.append(support[order[pos:pos + 3]].tolist())
        pos += 3
    assert whole.tolist() == expected and whole.dtype == torch.long
    pieces = tr._MemberBatches(support, 3, seed=5)
    parts = [pieces.take(n) for n in (1, 4, 0, 4)]
    assert torch.cat(parts).tolist() == expected
    assert tr._MemberBatches(support, 7, seed=0).take(2).shape == (2, 7)


def test_minibatch_training_over_several_chunks_equals_members_trained_alone():
    """More than 256 steps: the batches are drawn 256 steps at a time; weights inside a batch are
    renormalised; data_seeds may be an array."""
    X, y = data(n=9)
    weight = torch.ones(K, 9, dtype=torch.float64)
    weight[1, 4:] = 0
    weight[2, 0] = 3.0
    m = model()
    singles = [m.member(k) for k in range(K)]
    steps, bs, seeds = 260, 2, np.array([4, 9, 1])
    train_ensemble(m, mse_per_sample, X, y, steps=steps, optimizer=BatchedSGD(m.parameters(), lr=0.05),
                   sample_weight=weight, batch_size=bs, data_seeds=seeds, record_steps=[0, steps], progress=False)
    for k, net in enumerate(singles):
        support = torch.nonzero(weight[k] > 0).flatten()
        batches = tr._MemberBatches(support, bs, int(seeds[k])).take(steps)
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for idx in batches:
            opt.zero_grad()
            member_loss(net, X[idx], y[idx], weight[k, idx]).backward()
            opt.step()
        for a, b in zip(m.member(k).parameters(), net.parameters()):
            torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-11)


def test_default_data_seeds_are_the_member_indices():
    X, y = data()
    runs = []
    for seeds in (None, [0, 1, 2]):
        m = model()
        train_ensemble(m, mse_per_sample, X, y, steps=5, optimizer=BatchedSGD(m.parameters(), lr=0.1), batch_size=3,
                       data_seeds=seeds, progress=False)
        runs.append(m)
    assert all(torch.equal(a, b) for a, b in zip(runs[0].parameters(), runs[1].parameters()))


def test_batch_size_bounds_use_the_smallest_training_set():
    X, y = data()
    mask = torch.ones(K, 8, dtype=torch.bool)
    mask[2, 5:] = False                                      # member 2 has 5 samples
    m = model()
    opt = BatchedSGD(m.parameters())
    train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, sample_weight=mask, batch_size=5, progress=False)
    with pytest.raises(ArgumentError, match=r"between 1 and the smallest training set \(5\), got 6"):
        train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, sample_weight=mask, batch_size=6)
    with pytest.raises(ArgumentError, match="batch_size"):
        train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, batch_size=0)
    with pytest.raises(ArgumentError, match=r"one data seed per member \(3\), got 4"):
        train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, batch_size=2, data_seeds=[0, 1, 2, 3])


def test_sample_weight_checks():
    X, y = data()
    m = model()
    opt = BatchedSGD(m.parameters())
    for bad, match in [(torch.ones(7), r"sample_weight must have shape \(8,\) or \(3, 8\), got \(7,\)"),
                       (torch.ones(2, 8), r"got \(2, 8\)"),
                       (-torch.ones(8), "finite and ≥ 0"),
                       (torch.cat([torch.ones(K - 1, 8), torch.zeros(1, 8)]), "at least one positive weight"),
                       (torch.full((8,), float("inf")), "sample_weight")]:
        with pytest.raises(ArgumentError, match=match):
            train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, sample_weight=bad, progress=False)
    one = torch.zeros(K, 8)
    one[:, 3] = 1                                            # one sample each is enough
    train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, sample_weight=one, progress=False)


def test_per_member_data_shapes_are_checked():
    X, y = data()
    m = model()
    opt = BatchedSGD(m.parameters())
    Xk, yk = X.expand(K, -1, -1), y.expand(K, -1, -1)
    train_ensemble(m, mse_per_sample, Xk, yk, steps=1, optimizer=opt, per_member_data=True, progress=False)
    for bx, by in [(X, yk), (Xk, y), (Xk[:2], yk[:2]), (Xk, yk[:2]), (Xk[0, 0], yk)]:
        with pytest.raises(ArgumentError, match=r"per_member_data=True needs X and y of shape \(3, N, \.\.\.\)"):
            train_ensemble(m, mse_per_sample, bx, by, steps=1, optimizer=opt, per_member_data=True)
    with pytest.raises(ArgumentError, match=r"X has 8 samples but y has 7 \(per_member_data=True"):
        train_ensemble(m, mse_per_sample, Xk, yk[:, :7], steps=1, optimizer=opt, per_member_data=True)


def test_a_model_without_n_members_takes_K_from_its_parameters():
    class Raw(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(K, 2, 1, dtype=torch.float64))

        def forward(self, x):
            return x @ self.w

    X, y = data(out=1)
    net = Raw()
    hist = train_ensemble(net, mse_per_sample, X, y, steps=2, optimizer=BatchedSGD(net.parameters(), lr=0.1),
                          progress=False)
    assert hist.n_members == K and hist["loss"].shape == (3, K)


# --- recording and stopping --------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [None, 4])
def test_recorded_losses_are_full_training_losses_at_the_recorded_steps(batch_size):
    X, y = data()
    m = model()
    hist = train_ensemble(m, mse_per_sample, X, y, steps=6, optimizer=BatchedSGD(m.parameters(), lr=0.1),
                          batch_size=batch_size, record_steps=[6, 0, 3], progress=False,
                          metrics={"w": lambda mm: mm.layers[0].weight[:, 0, 0],
                                   "n": lambda mm: torch.arange(K)})
    assert hist.steps == [0, 3, 6] and hist["n"].tolist() == [[0, 1, 2]] * 3
    with torch.no_grad():
        assert hist["loss"][-1].tolist() == mse_per_sample(m(X), y).mean(1).tolist()
    assert hist["w"][-1].tolist() == m.layers[0].weight[:, 0, 0].tolist()
    assert len(set(map(tuple, hist["w"].tolist()))) == 3        # copies, not views of the final weights
    if batch_size is None:                                       # the loop written out
        ref, seen = model(), []
        opt = BatchedSGD(ref.parameters(), lr=0.1)
        for step in range(7):
            loss = mse_per_sample(ref(X), y).mean(1)
            if step in (0, 3, 6):
                seen.append(loss.detach())
            if step == 6:
                break
            opt.zero_grad()
            loss.sum().backward()
            opt.step()
        assert np.array_equal(hist["loss"], torch.stack(seen).numpy())
    m = model()
    empty = train_ensemble(m, mse_per_sample, X, y, steps=2, optimizer=BatchedSGD(m.parameters()),
                           record_steps=[], progress=False)
    assert len(empty) == 0


def test_default_record_steps():
    X, y = data()
    for steps in (0, 5, 230):
        m = model()
        hist = train_ensemble(m, mse_per_sample, X, y, steps=steps, optimizer=BatchedSGD(m.parameters(), lr=0.01),
                              progress=False)
        assert hist.steps == list(range(0, steps + 1, max(steps // 100, 1)))


def test_stop_when_semantics():
    """A member counts as done from the first record at which the criterion held (even if it stops
    holding); training ends at the first record at which every member is done."""
    X, y = data()
    pattern = {0: [True, False, False], 2: [False, False, False], 4: [False, True, False],
               6: [False, False, True], 8: [True, True, True]}
    asked = []

    def stop(values):
        assert set(values) == {"loss"} and values["loss"].shape == (K,)
        step = [0, 2, 4, 6, 8][len(asked)]
        asked.append(step)
        return torch.tensor(pattern[step])

    m = model()
    hist = train_ensemble(m, mse_per_sample, X, y, steps=10, optimizer=BatchedSGD(m.parameters(), lr=0.1),
                          record_steps=[0, 2, 4, 6, 8, 10], stop_when=stop, progress=False)
    assert asked == [0, 2, 4, 6] and hist.steps == [0, 2, 4, 6]
    assert hist.stop_step.tolist() == [0, 4, 6] and hist.stopped_early is True
    ref = model()
    train_ensemble(ref, mse_per_sample, X, y, steps=6, optimizer=BatchedSGD(ref.parameters(), lr=0.1),
                   record_steps=[], progress=False)
    assert all(torch.equal(a, b) for a, b in zip(m.parameters(), ref.parameters()))   # 6 updates, not 7
    # never every member: no early stop; a list answer is accepted
    m = model()
    hist = train_ensemble(m, mse_per_sample, X, y, steps=4, optimizer=BatchedSGD(m.parameters(), lr=0.1),
                          record_steps=[0, 4], stop_when=lambda v: [False, True, True], progress=False)
    assert hist.stop_step.tolist() == [-1, 0, 0] and not hist.stopped_early and hist.steps == [0, 4]
    # every member done only at the last step: stopped, but not early
    calls = []
    m = model()
    hist = train_ensemble(m, mse_per_sample, X, y, steps=4, optimizer=BatchedSGD(m.parameters(), lr=0.1),
                          record_steps=[0, 4], stop_when=lambda v: calls.append(1) or torch.tensor([len(calls) > 1] * K),
                          progress=False)
    assert hist.stop_step.tolist() == [4] * K and not hist.stopped_early and hist.steps == [0, 4]
    for bs in (None, 2):                                        # done at once: no update at all
        m = model()
        hist = train_ensemble(m, mse_per_sample, X, y, steps=4, optimizer=BatchedSGD(m.parameters(), lr=0.1),
                              record_steps=[0, 4], stop_when=lambda v: torch.tensor([True] * K), batch_size=bs,
                              progress=False)
        assert hist.steps == [0] and hist.stopped_early and hist.stop_step.tolist() == [0] * K
        assert all(torch.equal(a, b) for a, b in zip(m.parameters(), model().parameters()))
    with pytest.raises(ArgumentError, match=r"stop_when must return one boolean per member, shape \(3,\), got \(2,\)"):
        train_ensemble(m, mse_per_sample, X, y, steps=2, optimizer=BatchedSGD(m.parameters()),
                       stop_when=lambda v: torch.ones(2), progress=False)


def test_progress_bar_counts_the_updates(monkeypatch):
    bars = []

    class Bar:
        def __init__(self, total, desc, disable):
            self.total, self.desc, self.disable, self.n, self.closed, self.post = total, desc, disable, 0, False, ""
            bars.append(self)

        def update(self, n):
            self.n += n

        def close(self):
            self.closed = True

        def set_postfix_str(self, s, refresh=True):
            self.post = s

    monkeypatch.setattr(tr, "progress_bar", Bar)
    X, y = data()
    m = model()
    train_ensemble(m, mse_per_sample, X, y, steps=5, optimizer=BatchedSGD(m.parameters()),
                   stop_when=lambda v: torch.tensor([True, False, True]))
    train_ensemble(m, mse_per_sample, X, y, steps=3, optimizer=BatchedSGD(m.parameters()), progress=False, desc="x")
    assert [(b.total, b.desc, b.disable, b.n, b.closed) for b in bars] == [(5, "ensemble", False, 5, True),
                                                                          (3, "x", True, 3, True)]
    assert bars[0].post == "2/3 done"


# --- divergence --------------------------------------------------------------------------------

@pytest.mark.parametrize("fold", [256, 3])
@pytest.mark.parametrize("batch_size", [None, 1])
def test_divergence_steps_masks_and_freezing(fold, batch_size, monkeypatch):
    monkeypatch.setattr(tr._DivergenceWatch, "FOLD", fold)
    X, y = torch.ones(2, 2, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
    lrs = [1e3, 0.01, 5e2]

    def run(record, mode="record", steps=120):
        m = model(sizes=(2, 2), seeds=(0, 1, 2))
        opt = BatchedSGD(m.parameters(), lr=lrs)
        h = train_ensemble(m, mse_per_sample, X, y, steps=steps, optimizer=opt, record_steps=record,
                           batch_size=batch_size, on_divergence=mode, progress=False,
                           metrics={"b": lambda mm: mm.layers[0].bias[:, 0, 0].clone(),
                                    "i": lambda mm: torch.arange(K), "s": lambda mm: torch.ones(K, 2)})
        return m, opt, h

    m, opt, dense = run(range(121))
    first = dense.diverged_step
    assert dense.diverged.tolist() == [True, False, True] and first[1] == -1 and 0 < first[0] and 0 < first[2]
    for k in (0, 2):
        assert np.isfinite(dense["loss"][first[k] - 1, k]) and np.isnan(dense["loss"][first[k]:, k]).all()
        assert np.isnan(dense["b"][first[k]:, k]).all()
    assert np.isfinite(dense["loss"][:, 1]).all() and dense["i"][-1].tolist() == [0, 1, 2]
    assert np.isnan(dense["s"][-1, 0]).all() and (dense["s"][:, 1] == 1).all()
    assert opt.param_groups[0]["lr"].tolist() == [0.0, 0.01, 0.0]
    assert all(torch.equal(p[[0, 2]], torch.zeros_like(p[[0, 2]])) for p in m.parameters())
    m, _, sparse = run([0, 120])
    assert sparse.diverged_step.tolist() == first.tolist()
    _, _, none = run([])
    assert none.diverged_step.tolist() == first.tolist()
    with pytest.raises(TrainingDiverged) as err:
        run([0, 120], mode="raise")
    assert err.value.step == min(first[0], first[2]) and err.value.lr in ([1000.0], [500.0], [1000.0, 500.0])


def test_divergence_message_names_members_steps_and_rates():
    X, y = torch.ones(2, 2, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
    m = model(sizes=(2, 2), seeds=(0, 1, 2))
    with pytest.raises(TrainingDiverged) as err:
        train_ensemble(m, mse_per_sample, X, y, steps=200, optimizer=BatchedSGD(m.parameters(), lr=[1e3, 1e3, 0.01]),
                       record_steps=[0, 200], on_divergence="raise", progress=False)
    text = str(err.value)
    assert text.startswith("training diverged: the loss of members [0, 1] became NaN or infinite (first at step ")
    assert "learning rates [1000.0, 1000.0])" in text and "With on_divergence='record'" in text
    assert err.value.members == [0, 1]
    m = model(sizes=(2, 2), seeds=(0, 1, 2))
    with pytest.raises(TrainingDiverged) as err:
        train_ensemble(m, mse_per_sample, X, y, steps=200, optimizer=BatchedSGD(m.parameters(), lr=1e3),
                       record_steps=[0, 200], progress=False)
    assert str(err.value).startswith("training diverged: the loss of every member became NaN")
    assert "With on_divergence" not in str(err.value) and err.value.members == [0, 1, 2]
    m = model(sizes=(2, 2), seeds=(0, 1, 2))
    with pytest.raises(TrainingDiverged, match=r"the loss of member \[2\] became.*learning rate 1000"):
        opt = torch.optim.SGD(m.parameters(), lr=1e3)                      # a plain optimiser: one rate
        with torch.no_grad():
            m.layers[0].weight[2] = 1e200
        train_ensemble(m, mse_per_sample, X, y, steps=3, optimizer=opt, on_divergence="raise", progress=False)


def test_parameters_that_become_infinite_at_the_end_count_as_diverged():
    X, y = torch.ones(2, 2, dtype=torch.float64), torch.ones(2, 2, dtype=torch.float64)
    m = model(sizes=(2, 2), seeds=(0, 1, 2))
    with torch.no_grad():
        m.layers[0].bias[0] = 10.0                               # a finite loss, a gradient of about 10
    opt = BatchedSGD(m.parameters(), lr=[1e308, 0.01, 0.01])
    hist = train_ensemble(m, mse_per_sample, X, y, steps=1, optimizer=opt, record_steps=[0], progress=False)
    assert hist.diverged.tolist() == [True, False, False] and hist.diverged_step.tolist() == [1, -1, -1]
    assert all(torch.equal(p[0], torch.zeros_like(p[0])) for p in m.parameters())
    assert torch.isfinite(opt.param_groups[0]["lr"]).all() and opt.param_groups[0]["lr"][0] == 0
