"""Batched ensembles: each member follows its own trajectory, exactly as if trained alone.

The reference for every member is plain PyTorch: a single network with the member's seed and
init scale, trained on the member's own samples by ``torch.optim.SGD/Adam/AdamW`` with the
member's hyperparameters. Exact-arithmetic agreement is checked in float64 (where rounding
differences stay at ~1e-12), and float32 agreement to a float32 tolerance.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils.ensemble import (BatchedAdam, BatchedAdamW, BatchedLinear, BatchedMLP,
                                   BatchedSGD, EnsembleHistory, Grid, LabelledArray, accuracy,
                                   cross_entropy_per_sample, first_step_crossing, first_step_reaching, mlp,
                                   mse_per_sample, per_member, train_ensemble)
from course_utils.data.arithmetic import addition_table, split_masks, target_vectors
from course_utils.models.grokking import BatchedToyAdditionModel, ToyAdditionModel, toy_optimizer
from course_utils.plotting import phase_diagram
from course_utils.train import train

K = 4
SIZES = [3, 8, 8, 2]
LRS = [0.02, 0.05, 0.01, 0.03]
WDS = [0.0, 0.1, 0.5, 0.02]
SCALES = [1.0, 0.5, 2.0, 1.5]
SEEDS = [11, 12, 13, 14]


def regression_data(n=24, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, SIZES[0], generator=gen)
    y = torch.stack([torch.sin(X[:, 0]) + X[:, 1] * X[:, 2], torch.cos(X[:, 1])], dim=1)
    masks = torch.zeros(K, n, dtype=torch.bool)
    for k, size in enumerate([n, 20, 16, 12]):   # different training sets of different sizes
        masks[k, torch.randperm(n, generator=gen)[:size]] = True
    return X.to(torch.get_default_dtype()), y.to(torch.get_default_dtype()), masks


OPTIMIZERS = {
    "sgd": (BatchedSGD, torch.optim.SGD, dict()),
    "sgd-momentum": (BatchedSGD, torch.optim.SGD, dict(momentum=0.9)),
    "sgd-nesterov": (BatchedSGD, torch.optim.SGD, dict(momentum=0.8, nesterov=True)),
    "adam": (BatchedAdam, torch.optim.Adam, dict(betas=(0.8, 0.99))),
    "adamw": (BatchedAdamW, torch.optim.AdamW, dict()),
}


def scaled_lr(name, lr):
    return lr * (0.2 if name.startswith("adam") else 1.0)


def train_members_alone(name, X, y, masks, steps):
    """The reference: each member trained on its own, with plain torch.optim."""
    _, torch_opt, extra = OPTIMIZERS[name]
    nets = []
    for k in range(K):
        net = mlp(SIZES, "tanh", init_scale=SCALES[k], seed=SEEDS[k])
        opt = torch_opt(net.parameters(), lr=scaled_lr(name, LRS[k]), weight_decay=WDS[k], **extra)
        Xk, yk = X[masks[k]], y[masks[k]]
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(Xk), yk).backward()
            opt.step()
        nets.append(net)
    return nets


def train_as_ensemble(name, X, y, masks, steps, **kw):
    batched_opt, _, extra = OPTIMIZERS[name]
    model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
    opt = batched_opt(model.parameters(), lr=[scaled_lr(name, lr) for lr in LRS], weight_decay=WDS,
                      **extra, **kw)
    train_ensemble(model, mse_per_sample, X, y, steps=steps, optimizer=opt, sample_weight=masks,
                   progress=False)
    return model, opt


def max_param_difference(net_a, net_b) -> float:
    return max(float((a - b).detach().abs().max()) for a, b in zip(net_a.parameters(), net_b.parameters()))


# --- members equal single models -------------------------------------------------------------

def test_per_member_repeats_scalars_and_checks_lengths():
    assert per_member(0.5, 3, "lr").tolist() == [0.5, 0.5, 0.5]
    assert per_member(np.array([1, 2]), 2, "lr").dtype == torch.float64
    with pytest.raises(ValueError, match="lr"):
        per_member([1.0, 2.0], 3, "lr")
    with pytest.raises(ValueError, match="finite"):
        per_member([1.0, float("nan")], 2, "lr")


def test_batched_mlp_features_are_the_last_hidden_layer():
    model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
    X = torch.randn(5, SIZES[0])
    h = model.features(X)
    assert h.shape == (K, 5, SIZES[-2])
    for k in range(K):
        single = model.member(k)
        torch.testing.assert_close(h[k], single[:-1](X), rtol=1e-6, atol=1e-6)   # all but the readout
    torch.testing.assert_close(model.layers[-1](h), model(X), rtol=0, atol=0)


def test_batched_mlp_members_are_the_single_networks():
    model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
    X = torch.randn(5, SIZES[0])
    out = model(X)
    assert out.shape == (K, 5, SIZES[-1])
    for k in range(K):
        single = mlp(SIZES, "tanh", init_scale=SCALES[k], seed=SEEDS[k])
        assert max_param_difference(model.member(k), single) == 0
        torch.testing.assert_close(out[k], single(X), rtol=1e-6, atol=1e-6)
    # one batch per member gives each member its own batch
    Xk = torch.randn(K, 5, SIZES[0])
    out = model(Xk)
    for k in range(K):
        torch.testing.assert_close(out[k], model.member(k)(Xk[k]), rtol=1e-6, atol=1e-6)
    # stacking single networks back gives the same ensemble
    again = BatchedMLP.from_members([model.member(k) for k in range(K)])
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))


def test_mlp_initialisation():
    net = mlp([100, 50], init="uniform", init_scale=3.0, seed=0)
    assert net[0].weight.abs().max() <= 3.0 / 10 + 1e-7
    assert 0.8 * 3.0 / 10 < net[0].weight.abs().max()
    net = mlp([400, 300], init="normal", seed=0)
    assert abs(float(net[0].weight.detach().std()) - 400 ** -0.5) < 0.01 * 400 ** -0.5 * 5
    assert torch.equal(net[0].bias, torch.zeros(300))
    assert torch.equal(mlp([3, 4, 1], seed=5)[0].weight, mlp([3, 4, 1], seed=5)[0].weight)
    with pytest.raises(ValueError, match="init"):
        mlp([3, 1], init="xavier")
    with pytest.raises(ValueError, match="activation"):
        mlp([3, 4, 1], "swish")
    with pytest.raises(ValueError, match="sizes"):
        BatchedMLP(2, [3])


def test_batched_linear_checks_its_input():
    layer = BatchedLinear(3, 4, 2)
    with pytest.raises(ValueError, match="input must have shape"):
        layer(torch.randn(2, 5, 4))


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_ensemble_follows_each_member_trained_alone_float64(name, float64):
    """Per-member lrs, weight decays, init scales, seeds and training sets; 60 full-batch steps."""
    X, y, masks = regression_data()
    model, _ = train_as_ensemble(name, X, y, masks, steps=60)
    for k, single in enumerate(train_members_alone(name, X, y, masks, steps=60)):
        assert max_param_difference(model.member(k), single) < 1e-10, f"member {k}"


@pytest.mark.parametrize("name", ["sgd-momentum", "adamw"])
def test_ensemble_follows_each_member_trained_alone_float32(name):
    X, y, masks = regression_data()
    model, _ = train_as_ensemble(name, X, y, masks, steps=30)
    for k, single in enumerate(train_members_alone(name, X, y, masks, steps=30)):
        assert max_param_difference(model.member(k), single) < 2e-5, f"member {k}"


def test_cache_blocked_update_changes_nothing(float64):
    """Updating big tensors a few members at a time gives bit-identical results."""
    X, y, masks = regression_data()
    whole, _ = train_as_ensemble("adamw", X, y, masks, steps=10, chunk_elements=None)
    blocked, _ = train_as_ensemble("adamw", X, y, masks, steps=10, chunk_elements=10)
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), blocked.parameters()))


def test_toy_model_with_embedding_and_decoder_learning_rates(float64):
    """The grokking set-up: AdamW with separate per-member lrs/wds for embeddings and decoder."""
    pairs, sums = addition_table(6)
    Y = target_vectors(6, out_dim=5)
    masks = split_masks(len(pairs), n_train=15, seeds=range(K))
    lr_e, lr_d, wd_d = [1e-2, 3e-3, 1e-2, 2e-2], [1e-3, 3e-3, 1e-2, 2e-3], [0.0, 1.0, 0.3, 3.0]
    s_e, s_d = [1.0, 2.0, 0.5, 1.0], [1.0, 0.5, 2.0, 1.0]
    model = BatchedToyAdditionModel(K, p=6, width=12, out_dim=5, init_scale_embed=s_e,
                                    init_scale_decoder=s_d, seeds=SEEDS)
    opt = toy_optimizer(model, embed_lr=lr_e, decoder_lr=lr_d, decoder_wd=wd_d)
    train_ensemble(model, mse_per_sample, pairs, Y[sums], steps=80, optimizer=opt,
                   sample_weight=masks, progress=False)
    for k in range(K):
        single = ToyAdditionModel(p=6, width=12, out_dim=5, init_scale_embed=s_e[k],
                                  init_scale_decoder=s_d[k], seed=SEEDS[k])
        o = torch.optim.AdamW(single.parameter_groups(embedding=dict(lr=lr_e[k], weight_decay=0.0),
                                                      decoder=dict(lr=lr_d[k], weight_decay=wd_d[k])))
        for _ in range(80):
            o.zero_grad()
            torch.nn.functional.mse_loss(single(pairs[masks[k]]), Y[sums[masks[k]]]).backward()
            o.step()
        assert max_param_difference(model.member(k), single) < 1e-10, f"member {k}"


@pytest.mark.parametrize("per_member_data", [False, True])
def test_minibatches_are_drawn_as_the_single_model_loop_draws_them(per_member_data, float64):
    """Member k with data seed s_k sees the batches course_utils.train.train(seed=s_k) would."""
    X, y, masks = regression_data()
    if per_member_data:   # each member its own data set of the same size
        X = torch.stack([X + 0.1 * k for k in range(K)])
        y = torch.stack([y * (1 + 0.1 * k) for k in range(K)])
    model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
    opt = BatchedSGD(model.parameters(), lr=LRS, momentum=0.5)
    train_ensemble(model, mse_per_sample, X, y, steps=25, optimizer=opt, sample_weight=masks,
                   batch_size=5, data_seeds=[7, 8, 9, 10], per_member_data=per_member_data,
                   progress=False)
    for k in range(K):
        single = mlp(SIZES, "tanh", init_scale=SCALES[k], seed=SEEDS[k])
        Xk, yk = (X[k], y[k]) if per_member_data else (X, y)
        train(single, torch.nn.functional.mse_loss, Xk[masks[k]], yk[masks[k]], steps=25,
              optimizer=torch.optim.SGD(single.parameters(), lr=LRS[k], momentum=0.5),
              batch_size=5, seed=7 + k, progress=False)
        assert max_param_difference(model.member(k), single) < 1e-10, f"member {k}"


def test_classification_loss_and_accuracy(float64):
    gen = torch.Generator().manual_seed(1)
    X = torch.randn(30, 3, generator=gen)
    labels = (X[:, 0] > 0).long() + (X[:, 1] > 0).long()
    model = BatchedMLP(K, [3, 16, 3], "relu", seeds=SEEDS)
    opt = BatchedAdam(model.parameters(), lr=LRS)
    hist = train_ensemble(model, cross_entropy_per_sample, X, labels, steps=40, optimizer=opt,
                          metrics={"acc": lambda m: accuracy(m(X), labels)}, progress=False)
    for k in range(K):
        single = mlp([3, 16, 3], "relu", seed=SEEDS[k])
        o = torch.optim.Adam(single.parameters(), lr=LRS[k])
        for _ in range(40):
            o.zero_grad()
            torch.nn.functional.cross_entropy(single(X), labels).backward()
            o.step()
        assert max_param_difference(model.member(k), single) < 1e-10
        assert hist["acc"][-1, k] == accuracy(single(X), labels).item()
    assert hist["acc"].shape == (len(hist), K)
    assert accuracy(torch.eye(3)[None], torch.tensor([0, 1, 2]), torch.tensor([1, 1, 0])).item() == 1.0


# --- members are independent ----------------------------------------------------------------

def test_perturbing_one_members_data_leaves_the_others_bit_identical():
    X, y, masks = regression_data()
    Xs, ys = X.expand(K, *X.shape).clone(), y.expand(K, *y.shape).clone()
    runs = []
    for perturb in (False, True):
        Xp, yp, mp = Xs.clone(), ys.clone(), masks.clone()
        if perturb:   # member 0: other inputs, other targets, another training set
            Xp[0] += 0.3
            yp[0] *= -2
            mp[0] = ~mp[1]
        model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
        opt = BatchedAdamW(model.parameters(), lr=[0.01] * K, weight_decay=WDS)
        hist = train_ensemble(model, mse_per_sample, Xp, yp, steps=30, optimizer=opt,
                              sample_weight=mp, per_member_data=True, progress=False)
        runs.append((model, opt, hist))
    (a, opt_a, hist_a), (b, opt_b, hist_b) = runs
    assert not torch.equal(a.layers[0].weight[0], b.layers[0].weight[0])
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa[1:], pb[1:])
        for key in ("exp_avg", "exp_avg_sq"):   # optimiser state: one slice per member, untouched
            assert torch.equal(opt_a.state[pa][key][1:], opt_b.state[pb][key][1:])
    assert np.array_equal(hist_a["loss"][:, 1:], hist_b["loss"][:, 1:])


def test_a_diverging_member_does_not_disturb_the_others():
    X, y, masks = regression_data()
    results = []
    for lr0 in (0.05, 1e6):   # member 0 blows up to inf/nan with the second learning rate
        model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
        opt = BatchedSGD(model.parameters(), lr=[lr0] + LRS[1:], momentum=0.9)
        hist = train_ensemble(model, mse_per_sample, X, y, steps=30, optimizer=opt, progress=False)
        results.append((model, hist))
    (calm, calm_hist), (wild, wild_hist) = results
    assert not calm_hist.diverged.any() and (calm_hist.diverged_step == -1).all()
    assert wild_hist.diverged.tolist() == [True, False, False, False] and 0 < wild_hist.diverged_step[0] <= 30
    assert all(torch.equal(p[0], torch.zeros_like(p[0])) for p in wild.parameters())   # frozen at zero
    assert np.isnan(wild_hist["loss"][-1, 0]) and np.isfinite(wild_hist["loss"][:, 1:]).all()
    for pa, pb in zip(calm.parameters(), wild.parameters()):
        assert torch.equal(pa[1:], pb[1:])
    assert np.array_equal(calm_hist["loss"][:, 1:], wild_hist["loss"][:, 1:])


def test_optimiser_state_is_per_member_and_not_shared():
    model = BatchedMLP(K, SIZES, seeds=SEEDS)
    opt = BatchedAdamW(model.parameters(), lr=LRS)
    train_ensemble(model, mse_per_sample, torch.randn(6, 3), torch.randn(6, 2), steps=2,
                   optimizer=opt, progress=False)
    pointers = set()
    for p in model.parameters():
        for key in ("exp_avg", "exp_avg_sq"):
            state = opt.state[p][key]
            assert state.shape == p.shape
            pointers.add(state.data_ptr())
    assert len(pointers) == 2 * len(list(model.parameters()))


def test_optimiser_checks_its_arguments():
    model = BatchedMLP(K, SIZES)
    with pytest.raises(ValueError, match="one entry per member"):
        BatchedSGD(model.parameters(), lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="lr must be ≥ 0"):
        BatchedAdam(model.parameters(), lr=-1.0)
    with pytest.raises(ValueError, match="leading member axis"):
        BatchedAdamW([torch.nn.Parameter(torch.zeros(3, 2)), torch.nn.Parameter(torch.zeros(4, 2))])
    with pytest.raises(ValueError, match="nesterov"):
        BatchedSGD(model.parameters(), nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        BatchedAdam(model.parameters(), betas=(1.0, 0.9))


def test_changing_a_learning_rate_between_steps_takes_effect():
    model = BatchedMLP(K, SIZES, seeds=SEEDS)
    opt = BatchedSGD(model.parameters(), lr=0.1)
    X, y = torch.randn(6, 3), torch.randn(6, 2)
    train_ensemble(model, mse_per_sample, X, y, steps=1, optimizer=opt, progress=False)
    before = [p.detach().clone() for p in model.parameters()]
    opt.param_groups[0]["lr"][1] = 0.0   # freeze member 1 from now on
    train_ensemble(model, mse_per_sample, X, y, steps=3, optimizer=opt, progress=False)
    after = list(model.parameters())
    assert all(torch.equal(a[1], b[1]) for a, b in zip(after, before))
    assert not torch.equal(after[0][0], before[0][0])


# --- history, early exit, thresholds ---------------------------------------------------------

def test_history_is_recorded_at_the_chosen_steps():
    X, y, masks = regression_data()
    model = BatchedMLP(K, SIZES, seeds=SEEDS)
    opt = BatchedSGD(model.parameters(), lr=LRS)
    hist = train_ensemble(model, mse_per_sample, X, y, steps=20, optimizer=opt, sample_weight=masks,
                          record_steps=[0, 5, 20], progress=False,
                          metrics={"w0": lambda m: m.layers[0].weight[:, 0, 0]})
    assert isinstance(hist, EnsembleHistory)
    assert hist.steps == [0, 5, 20]
    assert hist["loss"].shape == (3, K) and hist["w0"].shape == (3, K)
    # the recorded value is a copy, not a view that later updates would change
    assert np.array_equal(hist["w0"][-1], model.layers[0].weight[:, 0, 0].detach().numpy())
    assert not np.array_equal(hist["w0"][0], hist["w0"][-1])
    # the recorded loss is the member's full-batch loss on its own training set
    for k in range(K):
        loss = torch.nn.functional.mse_loss(model.member(k)(X[masks[k]]), y[masks[k]])
        assert hist["loss"][-1, k] == pytest.approx(loss.item(), rel=1e-5)
    single = hist.member(2)
    assert np.array_equal(single["loss"], hist["loss"][:, 2])
    with pytest.raises(KeyError):
        hist["accuracy"]


def test_early_exit_when_every_member_reached_the_criterion():
    X, y, _ = regression_data()
    model = BatchedMLP(K, SIZES, seeds=SEEDS)
    opt = BatchedAdam(model.parameters(), lr=[0.01, 0.02, 0.04, 0.08])
    hist = train_ensemble(model, mse_per_sample, X, y, steps=2000, optimizer=opt,
                          record_steps=range(0, 2001, 10), progress=False,
                          stop_when=lambda v: v["loss"] < 0.2)
    assert hist.stopped_early and hist.steps[-1] < 2000
    assert (hist.stop_step >= 0).all() and hist.stop_step.max() == hist.steps[-1]
    # stop_step is the first record step below the threshold, as computed from the history
    below = first_step_reaching(hist, "loss", np.nextafter(np.float32(0.2), np.float32(0)), above=False)
    assert np.array_equal(hist.stop_step, below)


def test_first_step_reaching():
    hist = EnsembleHistory(3)
    for step, acc in [(0, [0.0, 0.5, 0.0]), (10, [0.5, 0.95, 0.0]), (20, [0.92, 1.0, 0.1])]:
        hist.record(step, acc=torch.tensor(acc))
    np.testing.assert_array_equal(first_step_reaching(hist, "acc", 0.9), [20, 10, np.nan])
    np.testing.assert_array_equal(first_step_reaching(hist, "acc", 0.9, never=-1), [20, 10, -1])
    np.testing.assert_array_equal(first_step_reaching(hist, "acc", 0.0, above=False), [0, np.nan, 0])
    np.testing.assert_array_equal(first_step_reaching(hist, "acc", 0.6, above=False), [0, 0, 0])
    np.testing.assert_array_equal(first_step_reaching(hist, "acc", 0.92), [20, 10, np.nan])



def test_first_step_crossing_on_plain_arrays():
    steps = [0, 10, 20]
    values = np.array([[0.0, 0.5, 0.0], [0.5, 0.95, 0.0], [0.92, 1.0, 0.1]])
    np.testing.assert_array_equal(first_step_crossing(steps, values, 0.9), [20, 10, np.nan])
    one = first_step_crossing(steps, values[:, 0], 0.9)          # one series: a 0-d result
    assert one.shape == () and float(one) == 20
    assert float(first_step_crossing(steps, [3.0, 1.0, 0.5], 1.0, above=False)) == 10
    with pytest.raises(ValueError, match="one row per step"):
        first_step_crossing(steps, values[:2], 0.5)


def test_training_arguments_are_checked():
    model = BatchedMLP(K, SIZES)
    opt = BatchedSGD(model.parameters())
    X, y = torch.randn(6, 3), torch.randn(6, 2)
    with pytest.raises(ValueError, match="sample_weight"):
        train_ensemble(model, mse_per_sample, X, y, steps=1, optimizer=opt, sample_weight=torch.ones(3, 6))
    with pytest.raises(ValueError, match="positive"):
        train_ensemble(model, mse_per_sample, X, y, steps=1, optimizer=opt, sample_weight=torch.zeros(K, 6))
    with pytest.raises(ValueError, match="batch_size"):
        train_ensemble(model, mse_per_sample, X, y, steps=1, optimizer=opt, batch_size=7)
    with pytest.raises(ValueError, match="per-sample losses"):
        train_ensemble(model, lambda o, t: ((o - t) ** 2).mean(), X, y, steps=1, optimizer=opt,
                       progress=False)
    with pytest.raises(ValueError, match="record_steps"):
        train_ensemble(model, mse_per_sample, X, y, steps=3, optimizer=opt, record_steps=[5])
    with pytest.raises(ValueError, match="samples"):
        train_ensemble(model, mse_per_sample, X, y[:5], steps=3, optimizer=opt)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_same_code_on_cuda():
    X, y, masks = regression_data()
    cpu_model, _ = train_as_ensemble("adamw", X, y, masks, steps=20)
    model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS).cuda()
    opt = BatchedAdamW(model.parameters(), lr=[scaled_lr("adamw", lr) for lr in LRS], weight_decay=WDS)
    train_ensemble(model, mse_per_sample, X, y, steps=20, optimizer=opt, sample_weight=masks,
                   progress=False, stop_when=lambda v: v["loss"] < 0)
    for a, b in zip(cpu_model.parameters(), model.parameters()):
        torch.testing.assert_close(a, b.cpu(), rtol=1e-4, atol=1e-5)


# --- grids ------------------------------------------------------------------------------------

def test_grid_round_trip():
    grid = Grid(lr=[1e-3, 1e-2, 1e-1], wd=[0.0, 1.0], seed=range(4))
    assert grid.shape == (3, 2, 4) and grid.size == len(grid) == 24
    assert grid["seed"].tolist() == [0, 1, 2, 3] * 6          # last axis fastest
    assert grid["lr"].tolist() == [1e-3] * 8 + [1e-2] * 8 + [1e-1] * 8
    m = grid.member(lr=1e-2, wd=1.0, seed=3)
    assert (grid["lr"][m], grid["wd"][m], grid["seed"][m]) == (1e-2, 1.0, 3)
    assert grid.points()[m] == dict(lr=1e-2, wd=1.0, seed=3)
    values = np.arange(24.0)
    arr = grid.to_array(values, name="steps")
    assert arr.dims == ("lr", "wd", "seed") and arr.values.shape == (3, 2, 4)
    assert arr.values[1, 1, 3] == values[m]
    np.testing.assert_array_equal(grid.from_array(arr), values)
    np.testing.assert_array_equal(grid.from_array(arr.transpose("seed", "lr", "wd")), values)
    # each axis column comes back constant along the other axes
    lr = grid.to_array(grid["lr"])
    assert (lr.values == np.array([1e-3, 1e-2, 1e-1])[:, None, None]).all()
    # a trailing axis (a time series per member) is carried along
    series = grid.to_array(np.arange(48.0).reshape(24, 2))
    assert series.values.shape == (3, 2, 4, 2)
    np.testing.assert_array_equal(grid.from_array(series), np.arange(48.0).reshape(24, 2))


def test_labelled_array_reductions_and_phase_diagram():
    grid = Grid(lr=[1e-3, 1e-2, 1e-1], wd=[0.1, 1.0], seed=range(3))
    arr = grid.to_array(grid["lr"] * 10 + grid["wd"] + grid["seed"], name="x")
    mean = arr.mean("seed")
    assert mean.dims == ("lr", "wd")
    np.testing.assert_allclose(mean.values, np.array([1e-2, 1e-1, 1.0])[:, None] + [0.1, 1.0] + 1.0)
    np.testing.assert_allclose(arr.median("seed").values, mean.values)
    assert arr.sel(seed=0, wd=1.0).values.tolist() == pytest.approx([1.01, 1.1, 2.0])
    args = mean.for_phase_diagram(x="lr", y="wd")
    assert args["values"].shape == (2, 3)     # (len y, len x)
    assert args["values"][1, 2] == pytest.approx(1.0 + 1.0 + 1.0)
    fig, ax = plt.subplots()
    phase_diagram(ax, **args, xlabel="lr", ylabel="weight decay", colorbar_label="x")
    plt.close(fig)
    with pytest.raises(ValueError, match="exactly the axes"):
        arr.for_phase_diagram(x="lr", y="wd")
    with pytest.raises(ValueError, match="not one of"):
        arr.sel(seed=7)
    with pytest.raises(ValueError, match="one value per member"):
        grid.to_array(np.zeros(5))
    with pytest.raises(ValueError, match="repeated"):
        Grid(lr=[1, 1])
    assert isinstance(arr, LabelledArray) and "lr: 3" in repr(arr)


def test_grid_sweep_end_to_end():
    """A 3 × 2 × 2 sweep as one ensemble, back on the grid: larger learning rates learn faster."""
    X, y, _ = regression_data()
    grid = Grid(lr=[0.003, 0.03, 0.3], init_scale=[0.5, 1.0], seed=range(2))
    model = BatchedMLP(grid.size, SIZES, init_scale=grid["init_scale"], seeds=grid["seed"])
    opt = BatchedSGD(model.parameters(), lr=grid["lr"])
    hist = train_ensemble(model, mse_per_sample, X, y, steps=50, optimizer=opt, progress=False)
    final = grid.to_array(hist["loss"][-1]).mean("seed").mean("init_scale")
    assert final.values[0] > final.values[1] > final.values[2]


def test_compiled_update_gives_the_same_trajectories():
    """``compile=True`` fuses the update with torch.compile; where compiling is impossible it falls
    back (with a warning) to the plain update. Either way the members' trajectories are the same."""
    import warnings

    X, y, masks = regression_data()
    eager, _ = train_as_ensemble("adamw", X, y, masks, steps=10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled, opt = train_as_ensemble("adamw", X, y, masks, steps=10, compile=True)
    if any("torch.compile failed" in str(w.message) for w in caught):
        pytest.skip("torch.compile is not available here (no C++ compiler?)")
    assert opt._compiled is not None
    for a, b in zip(eager.parameters(), compiled.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_progress_bar_and_stop_counter_run():
    X, y, _ = regression_data()
    model = BatchedMLP(K, SIZES, seeds=SEEDS)
    hist = train_ensemble(model, mse_per_sample, X, y, steps=5, optimizer=BatchedSGD(model.parameters()),
                          progress=True, stop_when=lambda v: v["loss"] < 0)
    assert not hist.stopped_early and (hist.stop_step == -1).all() and hist.steps[-1] == 5


# --- bad arguments and divergence ---------------------------------------------------------------

from course_utils.train import TrainingDiverged  # noqa: E402
from course_utils.validate import ArgumentError  # noqa: E402


def test_a_target_that_would_broadcast_is_refused_with_both_shapes():
    model = BatchedMLP(K, [3, 8, 1], seeds=SEEDS)
    X, y = torch.randn(6, 3), torch.randn(6)
    with pytest.raises(ArgumentError, match=r"y has shape \(6,\).*\(4, 6, 1\).*\(4, 6, 6\)"):
        train_ensemble(model, mse_per_sample, X, y, steps=1, optimizer=BatchedSGD(model.parameters()), progress=False)
    with pytest.raises(ArgumentError, match="target has shape"):
        mse_per_sample(torch.zeros(K, 6, 1), torch.zeros(6))
    with pytest.raises(ArgumentError, match="labels"):
        cross_entropy_per_sample(torch.zeros(K, 6, 3), torch.zeros(5, dtype=torch.long))


@pytest.mark.parametrize("change,name", [
    (dict(model="net"), "model"), (dict(loss_fn="mse"), "loss_fn"), (dict(X=None), "X"), (dict(X="x"), "X"),
    (dict(X=torch.empty(0, 3), y=torch.empty(0, 2)), "X"), (dict(y=torch.randn(5, 2)), "samples"),
    (dict(X=torch.full((6, 3), float("nan"))), "X"), (dict(steps=1.5), "steps"), (dict(steps=-1), "steps"),
    (dict(optimizer=None), "optimizer"), (dict(optimizer="adam"), "optimizer"),
    (dict(optimizer=BatchedSGD(BatchedMLP(K, SIZES).parameters())), "optimizer"),
    (dict(batch_size=2.5), "batch_size"), (dict(batch_size=2, data_seeds=[0, 1]), "data seed"),
    (dict(sample_weight=torch.full((6,), float("nan"))), "sample_weight"), (dict(record_steps=[0.5]), "record_steps"),
    (dict(metrics=[len]), "metrics"), (dict(stop_when="loss < 0.1"), "stop_when"),
    (dict(on_divergence="ignore"), "on_divergence"), (dict(per_member_data=True), "per_member_data"),
])
def test_every_bad_ensemble_argument_is_named(change, name):
    model = BatchedMLP(K, SIZES, seeds=SEEDS)
    kw = dict(model=model, loss_fn=mse_per_sample, X=torch.randn(6, 3), y=torch.randn(6, 2), steps=2,
              optimizer=BatchedSGD(model.parameters()), progress=False)
    kw.update(change)
    with pytest.raises(ArgumentError, match=name):
        train_ensemble(kw.pop("model"), kw.pop("loss_fn"), kw.pop("X"), kw.pop("y"), **kw)


def test_numpy_and_float64_data_are_converted_to_the_model():
    X, y, _ = regression_data()
    runs = []
    for Xi, yi in [(X, y), (X.numpy(), y.numpy()), (X.double(), y)]:
        model = BatchedMLP(K, SIZES, seeds=SEEDS)
        train_ensemble(model, mse_per_sample, Xi, yi, steps=3, optimizer=BatchedSGD(model.parameters(), lr=0.1),
                       progress=False)
        runs.append(model)
    for other in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(runs[0].parameters(), other.parameters()))


def test_diverged_member_is_recorded_and_the_others_train_as_alone(float64):
    """Member 0 at lr 10⁶ diverges; members 1..3 end exactly where plain torch.optim.SGD takes them alone."""
    X, y, masks = regression_data()
    model = BatchedMLP(K, SIZES, "tanh", init_scale=SCALES, seeds=SEEDS)
    opt = BatchedSGD(model.parameters(), lr=[1e6] + LRS[1:], weight_decay=WDS)
    hist = train_ensemble(model, mse_per_sample, X, y, steps=40, optimizer=opt, sample_weight=masks,
                          record_steps=[0, 20, 40], metrics={"w": lambda m: m.layers[0].weight[:, 0, 0]},
                          progress=False)
    assert hist.diverged.tolist() == [True, False, False, False]
    assert hist.diverged_step[0] > 0 and (hist.diverged_step[1:] == -1).all()
    assert np.isnan(hist["w"][-1, 0]) and np.isnan(hist["loss"][-1, 0]) and np.isfinite(hist["w"][:, 1:]).all()
    assert hist.member(0).diverged and hist.member(0).diverged_step == hist.diverged_step[0]
    alone = train_members_alone("sgd", X, y, masks, steps=40)
    for k in range(1, K):
        assert max_param_difference(model.member(k), alone[k]) < 1e-10
    assert opt.param_groups[0]["lr"][0] == 0.0


@pytest.mark.parametrize("fold", [256, 7])
def test_divergence_step_is_exact_and_raise_mode_names_member_and_rate(fold, monkeypatch):
    from course_utils.ensemble import training
    monkeypatch.setattr(training._DivergenceWatch, "FOLD", fold)   # the losses kept on the device are folded
    X, y = torch.ones(1, 3), torch.ones(1, 2)
    model = BatchedMLP(2, [3, 2], "identity", seeds=[0, 1])

    def fresh():
        m = BatchedMLP(2, [3, 2], "identity", seeds=[0, 1])
        return m, BatchedSGD(m.parameters(), lr=[1e3, 0.01])

    m, opt = fresh()
    hist = train_ensemble(m, mse_per_sample, X, y, steps=200, optimizer=opt, record_steps=[0, 200], progress=False)
    first = hist.diverged_step[0]
    m, opt = fresh()
    dense = train_ensemble(m, mse_per_sample, X, y, steps=200, optimizer=opt, record_steps=range(201),
                           progress=False)
    assert first == dense.diverged_step[0] > 0 and np.isfinite(dense["loss"][first - 1, 0])
    assert np.isnan(dense["loss"][first, 0])
    m, opt = fresh()
    with pytest.raises(TrainingDiverged, match=r"member \[0\].*1000") as err:
        train_ensemble(m, mse_per_sample, X, y, steps=200, optimizer=opt, on_divergence="raise", progress=False)
    assert err.value.members == [0] and err.value.step == first
    del model


def test_all_members_diverging_raises_and_stop_when_ignores_diverged_members():
    X, y = torch.ones(4, 3), torch.ones(4, 2)
    m = BatchedMLP(2, [3, 2], "identity", seeds=[0, 1])
    with pytest.raises(TrainingDiverged, match="every member"):
        train_ensemble(m, mse_per_sample, X, y, steps=300, optimizer=BatchedSGD(m.parameters(), lr=1e3),
                       progress=False)
    m = BatchedMLP(2, [3, 2], "identity", seeds=[0, 1])
    hist = train_ensemble(m, mse_per_sample, X, y, steps=3000, optimizer=BatchedSGD(m.parameters(), lr=[1e3, 0.05]),
                          record_steps=range(0, 3001, 10), stop_when=lambda v: v["loss"] < 1e-6, progress=False)
    assert hist.diverged.tolist() == [True, False]
    assert hist.stopped_early and hist.stop_step[1] == hist.steps[-1] and hist.stop_step[0] == -1
