"""course_utils.train against a hand-written reference loop: the recorded steps, the history
format, the minibatch order, stop_when, dtype conversions and the divergence reports.

Each test compares with plain PyTorch (the loop a student would write) or with a number worked
out by hand, so that a change to the training loop that changes what is trained or recorded fails.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.validate import ArgumentError

tm = importlib.import_module("course_utils.train")
mse = torch.nn.functional.mse_loss


def problem(n=10, d=3, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=dtype)
    y = X @ torch.randn(d, 1, generator=g, dtype=dtype) + 0.1 * torch.randn(n, 1, generator=g, dtype=dtype)
    return X, y


def net(d=3, seed=0, dtype=torch.float32):
    torch.manual_seed(seed)
    return torch.nn.Linear(d, 1).to(dtype)


def reference(model, X, y, steps, lr, batch_size=None, seed=0, record=None, optimizer=None):
    """The training loop of cu.train written out: SGD, minibatches from a seeded permutation per epoch."""
    opt = optimizer or torch.optim.SGD(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    n = len(X)
    order, pos = torch.randperm(n, generator=gen), 0
    losses, batches = {}, []
    for step in range(steps + 1):
        if record is None or step in record:
            with torch.no_grad():
                losses[step] = float(mse(model(X), y))
        if step == steps:
            break
        if batch_size is None:
            idx = torch.arange(n)
        else:
            if pos + batch_size > n:
                order, pos = torch.randperm(n, generator=gen), 0
            idx = order[pos:pos + batch_size]
            pos += batch_size
        batches.append(idx.tolist())
        opt.zero_grad()
        mse(model(X[idx]), y[idx]).backward()
        opt.step()
    return losses, batches


# --- History -----------------------------------------------------------------------------------

def test_history_stores_numbers_and_tensors_as_numpy_in_order():
    h = cu.History()
    assert len(h) == 0 and h.keys() == [] and not h.diverged and h.diverged_step == -1
    h.record(0, loss=torch.tensor(2.0), acc=0.5)
    h.record(np.int64(3), loss=torch.tensor(1.0, requires_grad=True) * 1, acc=0.75)
    assert h.steps == [0, 3] and all(type(s) is int for s in h.steps)
    assert len(h) == 2 and h.keys() == ["loss", "acc"]
    assert isinstance(h["loss"], np.ndarray) and h["loss"].tolist() == [2.0, 1.0]
    assert h["acc"].tolist() == [0.5, 0.75] and h["step"].tolist() == [0, 3]
    assert repr(h) == "History(2 records of ['loss', 'acc'])"
    h.record(4, loss=0.5, acc=1.0)          # a larger step is fine right after
    with pytest.raises(ValueError, match="steps must increase: got 4 after 4"):
        h.record(4, loss=0.5, acc=1.0)
    with pytest.raises(ValueError, match="steps must increase"):
        h.record(2, loss=0.5, acc=1.0)
    with pytest.raises(ValueError, match="same names"):
        h.record(5, loss=0.5)
    with pytest.raises(KeyError, match="'nope'.*recorded: \\['acc', 'loss'\\]"):
        h["nope"]


def test_log_spaced_steps_are_the_rounded_geometric_grid():
    for steps, n in [(1000, 30), (10, 2), (7, 50), (10 ** 5, 50)]:
        expected = np.unique(np.round(np.geomspace(1, steps + 1, n) - 1).astype(int))
        assert np.array_equal(cu.log_spaced_steps(steps, n), expected)
    assert np.array_equal(cu.log_spaced_steps(10 ** 5), cu.log_spaced_steps(10 ** 5, 50))
    assert cu.log_spaced_steps(10, 2).tolist() == [0, 10] and cu.log_spaced_steps(1).tolist() == [0, 1]
    for bad, why in ((dict(steps=0), "steps must be an integer ≥ 1, got 0"),
                     (dict(steps=10, n=1), "n must be an integer ≥ 2, got 1"),
                     (dict(steps=2.5), "steps must be an integer ≥ 1, got 2.5")):
        with pytest.raises(ArgumentError) as err:
            cu.log_spaced_steps(**bad)
        assert str(err.value) == f"need steps ≥ 1 and n ≥ 2: {why}"


def test_defaults_are_lr_0_01_seed_0_and_a_progress_bar_named_training(monkeypatch):
    X, y = problem()
    a, b = net(), net()
    cu.train(a, mse, X, y, steps=3, batch_size=4, progress=False)
    cu.train(b, mse, X, y, steps=3, batch_size=4, lr=0.01, seed=0, progress=False)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    bars = []

    def fake_bar(total, desc, disable):
        bars.append((total, desc, disable))
        from tqdm.std import tqdm
        return tqdm(total=total, disable=True)

    monkeypatch.setattr(tm, "progress_bar", fake_bar)
    cu.train(net(), mse, X, y, steps=3)
    cu.train(net(), mse, X, y, steps=2, desc="mine", progress=False)
    assert bars == [(3, "training", False), (2, "mine", True)]


# --- what is trained and recorded -------------------------------------------------------------

@pytest.mark.parametrize("steps", [0, 7, 500])
def test_default_record_steps_and_full_batch_losses_equal_the_reference_loop(steps):
    X, y = problem()
    a, b = net(), net()
    hist = cu.train(a, mse, X, y, steps=steps, lr=0.05, progress=False)
    expected_steps = list(range(0, steps + 1, max(steps // 100, 1)))
    assert hist.steps == expected_steps and hist.keys() == ["loss"]
    losses, _ = reference(b, X, y, steps, 0.05, record=set(expected_steps))
    assert hist["loss"].tolist() == [losses[s] for s in expected_steps]
    assert hist["loss"].dtype == np.float64
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


@pytest.mark.parametrize("record", [[0, 3, 9], np.array([9, 0, 3]), torch.tensor([[3], [0], [9]]), (3, 9, 0, 3)])
def test_record_steps_may_be_any_collection_of_steps(record):
    X, y = problem()
    hist = cu.train(net(), mse, X, y, steps=9, lr=0.05, record_steps=record, progress=False,
                    metrics={"w": lambda m: m.weight.sum(), "two": lambda m: 2})
    assert hist.steps == [0, 3, 9] and hist.keys() == ["loss", "w", "two"]
    assert hist["two"].tolist() == [2.0, 2.0, 2.0]
    for bad in ("0, 3", {0: 1}, b"\x00", 3, [10], [-1]):
        with pytest.raises(ArgumentError, match="record_steps"):
            cu.train(net(), mse, X, y, steps=9, lr=0.05, record_steps=bad, progress=False)


def test_record_steps_out_of_order_still_record_at_the_right_steps_and_last_step_is_recorded():
    X, y = problem()
    a, b = net(), net()
    hist = cu.train(a, mse, X, y, steps=5, lr=0.05, record_steps=[5, 2], progress=False)
    losses, _ = reference(b, X, y, 5, 0.05)
    assert hist.steps == [2, 5] and hist["loss"].tolist() == [losses[2], losses[5]]
    none = cu.train(net(), mse, X, y, steps=5, lr=0.05, record_steps=[], progress=False)
    assert len(none) == 0


@pytest.mark.parametrize("n,batch_size,seed", [(10, 3, 0), (10, 5, 7), (9, 9, 1), (10, 1, 3)])
def test_minibatches_are_seeded_permutations_reshuffled_every_epoch(n, batch_size, seed):
    X, y = problem(n=n)
    a, b = net(), net()
    seen = []

    def loss(out, target):
        seen.append(out.shape[0])
        return mse(out, target)

    hist = cu.train(a, mse, X, y, steps=13, lr=0.05, batch_size=batch_size, seed=seed, record_steps=[0, 6, 13],
                    progress=False)
    losses, batches = reference(b, X, y, 13, 0.05, batch_size=batch_size, seed=seed, record={0, 6, 13})
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert hist["loss"].tolist() == [losses[0], losses[6], losses[13]]
    # every epoch is a permutation: no sample twice within one epoch, the incomplete rest dropped
    per_epoch = n // batch_size
    for e in range(len(batches) // per_epoch):
        flat = sum(batches[e * per_epoch:(e + 1) * per_epoch], [])
        assert len(set(flat)) == len(flat) == per_epoch * batch_size
    c = net()
    cu.train(c, loss, X, y, steps=4, lr=0.05, batch_size=batch_size, seed=seed, record_steps=[], progress=False)
    assert seen == [batch_size] * 4


def test_a_different_seed_gives_other_minibatches_and_batch_size_none_is_full_batch():
    X, y = problem()
    runs = [net() for _ in range(3)]
    cu.train(runs[0], mse, X, y, steps=5, lr=0.05, batch_size=4, seed=0, progress=False)
    cu.train(runs[1], mse, X, y, steps=5, lr=0.05, batch_size=4, seed=1, progress=False)
    cu.train(runs[2], mse, X, y, steps=5, lr=0.05, batch_size=10, seed=1, progress=False)
    full = net()
    reference(full, X, y, 5, 0.05)
    assert not torch.equal(runs[0].weight, runs[1].weight)
    assert torch.equal(runs[2].weight, full.weight) or torch.allclose(runs[2].weight, full.weight, atol=1e-6)
    with pytest.raises(ArgumentError, match="batch_size"):
        cu.train(net(), mse, X, y, steps=1, batch_size=11, progress=False)
    cu.train(net(), mse, X, y, steps=1, batch_size=10, progress=False)   # N itself is allowed


def test_a_given_optimizer_is_used_and_lr_is_then_ignored():
    X, y = problem()
    a, b = net(), net()
    cu.train(a, mse, X, y, steps=6, lr=float("nan"), optimizer=torch.optim.Adam(a.parameters(), lr=0.01),
             progress=False)
    reference(b, X, y, 6, None, optimizer=torch.optim.Adam(b.parameters(), lr=0.01))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    # an optimiser over only part of the model is fine
    c = net()
    cu.train(c, mse, X, y, steps=2, optimizer=torch.optim.SGD([c.bias], lr=0.1), progress=False)
    assert torch.equal(c.weight, net().weight) and not torch.equal(c.bias, net().bias)


def test_stop_when_is_asked_after_each_record_and_stops_there():
    X, y = problem()
    asked = []

    def stop(h):
        asked.append(h.steps[-1])
        return h.steps[-1] >= 4

    a, b = net(), net()
    hist = cu.train(a, mse, X, y, steps=20, lr=0.05, record_steps=[0, 2, 4, 6, 20], stop_when=stop, progress=False)
    assert asked == [0, 2, 4] and hist.steps == [0, 2, 4]
    reference(b, X, y, 4, 0.05)                         # exactly 4 updates were made
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    never = cu.train(net(), mse, X, y, steps=6, lr=0.05, record_steps=[0, 6], stop_when=lambda h: False,
                     progress=False)
    assert never.steps == [0, 6]
    c = net()
    cu.train(c, mse, X, y, steps=6, lr=0.05, record_steps=[0], stop_when=lambda h: True, progress=False)
    assert torch.equal(c.weight, net().weight)          # stopped before the first update


# --- data and dtypes ---------------------------------------------------------------------------

def test_data_conversions_keep_valid_dtypes_and_convert_only_what_is_exact():
    X, y = problem()
    seen = {}

    def loss(out, target):
        seen["x_dtype"], seen["t"] = out.dtype, target.dtype
        return ((out - target) ** 2).mean()

    cu.train(net(), loss, X.double(), y.double(), steps=1, progress=False)       # float64 tensor target: kept
    assert seen["t"] == torch.float64
    cu.train(net(), loss, X.numpy().astype(np.float64), y.numpy().astype(np.float64), steps=1, progress=False)
    assert seen["t"] == torch.float32                                           # NumPy data: the model's dtype
    cu.train(net(), loss, X, y.half(), steps=1, progress=False)                 # float16 → float32 is exact
    assert seen["t"] == torch.float32
    cu.train(net(dtype=torch.float64), loss, X, y, steps=1, progress=False)     # float32 → float64: exact
    assert seen["t"] == torch.float64 and seen["x_dtype"] == torch.float64
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 1, 0, 2, 1])
    clf = torch.nn.Linear(3, 3)
    cu.train(clf, lambda o, t: (seen.__setitem__("t", t.dtype), torch.nn.functional.cross_entropy(o, t))[1],
             X, labels, steps=1, progress=False)
    assert seen["t"] == torch.int64                                             # labels stay integers
    with pytest.raises(ArgumentError, match="single number"):
        cu.train(net(), mse, torch.tensor(1.0), torch.tensor(1.0), steps=1, progress=False)
    with pytest.raises(ArgumentError, match="leading sample axis"):
        cu.train(net(), mse, X, torch.tensor(1.0), steps=1, progress=False)
    with pytest.raises(ArgumentError) as err:
        cu.train(net(), mse, X, torch.zeros(9, 1), steps=1, progress=False)
    assert str(err.value) == "X has 10 samples but y has 9 (shapes (10, 3) and (9, 1))"


def test_targets_that_would_broadcast_are_refused_for_torch_losses_and_modules():
    X, y = problem()
    for loss in (mse, torch.nn.functional.l1_loss, torch.nn.MSELoss(), torch.nn.HuberLoss()):
        with pytest.raises(ArgumentError, match=r"y has shape \(10,\) but the model's outputs have shape "
                                                r"\(10, 1\): the loss would broadcast them to \(10, 10\)"):
            cu.train(net(), loss, X, y[:, 0], steps=1, progress=False)
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ArgumentError) as err:
        cu.train(model, mse, X, torch.zeros(10, 3), steps=1, progress=False)
    assert str(err.value) == "y has shape (10, 3) but the model's outputs have shape (10, 2)"
    # a loss of the student's own is not second-guessed
    cu.train(net(), lambda o, t: ((o[:, 0] - t) ** 2).mean(), X, y[:, 0], steps=2, progress=False)


def test_model_and_optimizer_checks():
    X, y = problem()
    with pytest.raises(ArgumentError) as err:
        cu.train(net(), lambda o, t: (o - t) ** 2, X, y, steps=1, progress=False)
    assert str(err.value).endswith("got a tensor of shape (10, 1) and dtype torch.float32")
    with pytest.raises(ArgumentError, match="model has no parameters"):
        cu.train(torch.nn.ReLU(), mse, X, y, steps=1, progress=False)
    m = net()
    m.register_parameter("count", torch.nn.Parameter(torch.tensor([3]), requires_grad=False))
    cu.train(m, mse, X, y, steps=1, progress=False)          # an integer parameter is not checked for NaN
    with pytest.raises(ArgumentError, match="model has NaN or infinite parameters"):
        bad = net()
        with torch.no_grad():
            bad.bias.fill_(float("inf"))
        cu.train(bad, mse, X, y, steps=1, progress=False)
    with pytest.raises(ArgumentError, match="does not update any parameter"):
        cu.train(net(), mse, X, y, steps=1, optimizer=torch.optim.SGD(net().parameters(), lr=0.1), progress=False)
    assert tm.model_dtype([torch.zeros(2, dtype=torch.long), torch.zeros(2, dtype=torch.float64)]) == torch.float64
    assert tm.model_dtype([torch.zeros(2, dtype=torch.long)]) == torch.get_default_dtype()


# --- divergence --------------------------------------------------------------------------------

def test_divergence_message_and_learning_rate_read_from_the_optimizer():
    msg = tm._diverged_message("the loss is nan", 12, 3.0)
    assert msg.startswith("training diverged at step 12: the loss is nan (learning rate 3). Try a smaller "
                          "learning rate (say 0.3);")
    assert "(learning rate unknown)" in tm._diverged_message("x", 1, None) and "(say" not in \
        tm._diverged_message("x", 1, None)
    assert "(learning rate [0.1, 0.2])" in tm._diverged_message("x", 1, [0.1, 0.2])
    assert "(say" not in tm._diverged_message("x", 1, float("inf"))
    p = torch.nn.Parameter(torch.zeros(2))
    assert tm.learning_rate_of(torch.optim.SGD([p], lr=0.5)) == 0.5
    assert tm.learning_rate_of(torch.optim.SGD([p], lr=torch.tensor(0.25))) == 0.25
    from course_utils.ensemble import BatchedSGD
    q = torch.nn.Parameter(torch.zeros(3, 2))
    assert tm.learning_rate_of(BatchedSGD([q], lr=[0.1, 0.2, 0.3])) == [0.1, 0.2, 0.3]


@pytest.mark.parametrize("on_cpu", [True, False])
def test_a_nan_minibatch_loss_stops_at_its_step_and_records_the_history_so_far(on_cpu, monkeypatch):
    """A sample with a NaN target only poisons the minibatches that contain it."""
    monkeypatch.setattr(tm, "_READ_LOSS_ON_CPU", on_cpu)
    X, y = problem(n=10)
    bad_y = y.clone()

    def poisoned(out, target):     # NaN in the minibatch losses of batches holding sample 4 (not the full loss)
        bad = (target == 1234.0) & (out.shape[0] == 2)
        return mse(out, torch.where(bad, torch.full_like(target, float("nan")), target))

    bad_y[4] = 1234.0
    _, batches = reference(net(), X, y, 12, 0.05, batch_size=2, seed=5)
    first = next(i for i, b in enumerate(batches) if 4 in b)
    hist = cu.train(net(), poisoned, X, bad_y, steps=12, lr=0.05, batch_size=2, seed=5, record_steps=[0, 12],
                    on_divergence="record", progress=False)
    assert hist.diverged and hist.diverged_step == first and hist.steps == [0]
    with pytest.raises(tm.TrainingDiverged) as err:
        cu.train(net(), poisoned, X, bad_y, steps=12, lr=0.05, batch_size=2, seed=5, record_steps=[0, 12],
                 progress=False)
    assert err.value.step == first and err.value.lr == 0.05 and err.value.members is None
    assert f"at step {first}: " in str(err.value) and "(learning rate 0.05)" in str(err.value)
    assert ("minibatch loss is not finite" if not on_cpu else "the loss is nan") in str(err.value)


def test_gpu_path_finds_a_nan_at_step_0(monkeypatch):
    """On the device path a non-finite minibatch loss at step 0 is reported as step 0 at the next record."""
    monkeypatch.setattr(tm, "_READ_LOSS_ON_CPU", False)
    X, y = problem(n=10)

    def loss(out, target):                  # every minibatch loss is NaN; the full loss is finite until then
        return mse(out, target) * (float("nan") if out.shape[0] == 2 else 1.0)

    hist = cu.train(net(), loss, X, y, steps=6, lr=0.05, batch_size=2, record_steps=[0, 5], on_divergence="record",
                    progress=False)
    assert hist.diverged and hist.diverged_step == 0 and hist.steps == [0]
    for record in ([0, 5], [0]):
        with pytest.raises(tm.TrainingDiverged, match="at step 0: the minibatch loss is not finite"):
            cu.train(net(), loss, X, y, steps=6, lr=0.05, batch_size=2, record_steps=record, progress=False)
    hist = cu.train(net(), loss, X, y, steps=6, lr=0.05, batch_size=2, record_steps=[0], on_divergence="record",
                    progress=False)                           # found at the end
    assert hist.diverged and hist.diverged_step == 0 and hist.steps == [0]


def test_a_diverging_recorded_loss_names_its_step_and_a_clean_run_is_not_diverged():
    X, y = problem()
    hist = cu.train(net(), mse, X, y, steps=3, lr=0.05, progress=False)
    assert hist.diverged is False and hist.diverged_step == -1
    m = net()
    # the full-batch loss at record step 2 is infinite although the minibatch losses were finite
    calls = {"n": 0}

    def loss(out, target):
        calls["n"] += 1
        value = mse(out, target)
        return value * float("inf") if out.shape[0] == 10 and calls["n"] > 3 else value

    hist = cu.train(m, loss, X, y, steps=5, lr=0.05, batch_size=5, record_steps=[0, 2, 4], on_divergence="record",
                    progress=False)
    assert hist.diverged and hist.diverged_step == 2 and hist.steps == [0]
    with pytest.raises(tm.TrainingDiverged, match="at step 2: the loss is inf"):
        calls["n"] = 0
        cu.train(net(), loss, X, y, steps=5, lr=0.05, batch_size=5, record_steps=[0, 2, 4], progress=False)


def test_a_parameter_that_becomes_nan_is_reported_at_the_last_step_in_record_mode():
    from course_utils.models.linear import LinearModel
    m = LinearModel(1)
    hist = cu.train(m, lambda o, t: (o * 0).sum() + m.theta.sum() * 1e300, [[1.0]], [0.0], steps=1, lr=1e300,
                    record_steps=[0], on_divergence="record", progress=False)
    assert hist.diverged and hist.diverged_step == 1 and hist.steps == [0]
