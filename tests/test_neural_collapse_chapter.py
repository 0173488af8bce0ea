"""The theory-vs-experiment checks of the chapter "Neural collapse" (book/04_feature_learning/03_neural_collapse),
at small sizes: collapse in an MLP on digits, the conservation law of deep linear networks, collapse from
small and none from large initialisation, the scaling of the remaining scatter with the init scale, and (§5)
the MLP without weight decay from small and standard initialisation."""

import numpy as np
import pytest
import torch

import course_utils as cu
from course_utils.data.classification import gaussian_classes, load_digits, standardize, train_val_split
from course_utils.models.deep_linear import DeepLinearNetwork
from course_utils.models.mlp import MLP
from course_utils.theory import neural_collapse as nc

C, D, N, NOISE, WIDTH = 4, 64, 40, 0.15, 32


@pytest.fixture(scope="module")
def mlp_run():
    """The chapter's MLP (3 × 64 ReLU, MSE, SGD + momentum, weight decay), trained for 2500 steps on 50 images per class."""
    torch.manual_seed(0)
    z, y = load_digits(dtype=torch.float32)
    (zt, yt), _ = train_val_split(z, y, 50, 50, seed=0)
    X = standardize(zt)
    Y = torch.nn.functional.one_hot(yt, 10).float()
    model = MLP(64, 64, 3, 10, activation="relu", parameterization="standard", dtype=torch.float32,
                generator=torch.Generator().manual_seed(0))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-3)

    def measures():
        with torch.no_grad():
            out, pre = model(X, return_preactivations=True)
            return nc.collapse_measures(torch.relu(pre[-2]), yt, model.layers[-1].weight, out), out

    start, _ = measures()
    for _ in range(2500):
        opt.zero_grad()
        (0.5 * ((model(X) - Y) ** 2).sum(1).mean()).backward()
        opt.step()
    end, out = measures()
    return start, end, (out.argmax(1) != yt).float().mean().item()


def test_mlp_features_collapse(mlp_run):
    start, end, train_error = mlp_run
    assert train_error < 0.01
    assert end["NC1"] < start["NC1"] / 30
    assert end["NC2"] < 0.35 and end["NC2"] < 0.5 * start["NC2"]
    assert end["NC3"] < 0.45
    assert end["NC4"] < 0.01


def _data():
    z, y = gaussian_classes(N, D, C, separation=1 / NOISE, seed=0, dtype=torch.float64)
    return NOISE * z, torch.nn.functional.one_hot(y, C).double(), y.numpy()


def _train(depth, sigmas, steps, lr=0.5, seed=1, **kw):
    X, Y, labels = _data()
    model = DeepLinearNetwork(D, WIDTH, C, depth, init_scale=np.asarray(sigmas), n_members=len(sigmas),
                              generator=torch.Generator().manual_seed(seed))
    return model, nc.train_deep_linear(model, X, Y, lr=lr, steps=steps, labels=labels, **kw)


def test_imbalance_changes_exactly_by_the_eta_squared_terms():
    model0 = DeepLinearNetwork(D, WIDTH, C, 3, init_scale=[0.05], n_members=1, generator=torch.Generator().manual_seed(2))
    model, hist = _train(3, [0.05], 300, seed=2, accumulate_imbalance_change=True)
    for l, (a, b) in enumerate(zip(model.imbalance(), model0.imbalance())):
        measured = (a - b)[0].numpy()
        cu.check_close(f"ΔD_{l + 1}", measured, hist.imbalance_change[0][l], rtol=1e-8)


def test_imbalance_drift_is_proportional_to_the_learning_rate():
    model0 = DeepLinearNetwork(D, WIDTH, C, 3, init_scale=[0.05], n_members=1, generator=torch.Generator().manual_seed(2))
    drift = []
    for lr in (0.125, 0.5):
        model, _ = _train(3, [0.05], int(250 / lr), lr=lr, seed=2)
        drift.append(np.sqrt(sum(float(((a - b) ** 2).sum()) for a, b in zip(model.imbalance(), model0.imbalance()))))
    assert drift[1] / drift[0] == pytest.approx(4.0, rel=0.1)


def test_small_init_collapses_to_the_balanced_geometry_and_large_init_does_not():
    X, Y, labels = _data()
    model, hist = _train(3, [0.02, 1.0], 3000, record=(3000,))
    h, W = nc.balanced_geometry(nc.least_squares_map(X, Y), X, 3)
    pred = nc.collapse_measures(h, labels, W, h @ W.T, center_classifier=True)
    for key in ("NC2", "NC3"):
        cu.check_close(key, hist[key][-1, 0], pred[key], rtol=0.02)
    assert hist["within/between"][-1, 0] < 1e-4 and hist["NC1"][-1, 0] < 1e-5
    assert hist["loss"][-1, 1] < 1e-6                       # the large-init network fits as well ...
    assert hist["within/between"][-1, 1] > 0.1              # ... but its features do not collapse
    assert hist["NC3"][-1, 1] > 0.5
    for k in range(2):
        a, b = nc.invisible_weight_norm2(model.weights[-2][k].detach(), model.weights[-1][k].detach())
        assert a == pytest.approx(b, rel=1e-8)


@pytest.mark.parametrize("depth,exponent", [(2, 2.0), (3, 4.0)])
def test_remaining_scatter_scales_with_the_init_scale(depth, exponent):
    sigmas = np.array([0.02, 0.05, 0.1])
    _, hist = _train(depth, sigmas, 3000, record=(3000,))
    fit = cu.fit_power_law(sigmas, hist["within/between"][-1])
    assert -fit.alpha == pytest.approx(exponent, abs=0.15 * exponent)


def test_exercise_checkers():
    from course_utils.exercises import neural_collapse as ex

    def etf(C):
        centred = np.eye(C) - 1 / C
        lam, U = np.linalg.eigh(centred)
        return np.sqrt(C / (C - 1)) * centred @ U[:, lam > 0.5]

    assert ex.check_simplex_etf(etf)
    assert not ex.check_simplex_etf(lambda C: np.eye(C)[:, :C - 1])
    assert not ex.check_simplex_etf(lambda C: 2 * etf(C))
    assert ex.check_simplex_etf(lambda C: np.eye(C)) is False                 # a verdict, not a traceback
    assert ex.check_simplex_etf(lambda C: np.full((C, C - 1), np.nan)) is False

    def gram(E, L):
        return nc.psd_power(E @ E.T, 1 / L)

    assert ex.check_balanced_readout_gram(gram)
    assert not ex.check_balanced_readout_gram(lambda E, L: E @ E.T)
    assert ex.check_balanced_readout_gram(lambda E, L: np.zeros(3)) is False
    assert ex.check_balanced_readout_gram(lambda E, L: np.full((len(E), len(E)), np.nan)) is False


def test_relu_without_weight_decay_small_init_collapses_more_but_the_means_stay_partly_unseen():
    """§5 at small size: the chapter's MLP without weight decay, all weights × s for s = 0.1 and 1 (one
    batched model, the same draw), 2000 steps on 50 images per class."""
    from course_utils.ensemble import BatchedMLP

    z, y = load_digits(dtype=torch.float32)
    (zt, yt), _ = train_val_split(z, y, 50, 50, seed=0)
    X, labels = standardize(zt), yt.numpy()
    Y = torch.nn.functional.one_hot(yt, 10).float()
    scales = torch.tensor([0.1, 1.0])
    net = MLP(64, 64, 3, 10, activation="relu", parameterization="standard", dtype=torch.float32,
              generator=torch.Generator().manual_seed(0))
    model = BatchedMLP(2, [64, 64, 64, 64, 10], "relu", init=None)
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            layer.load_linears([net.layers[i], net.layers[i]])
            layer.weight.mul_(scales[:, None, None])
            layer.bias.mul_(scales[:, None, None])
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    ramp = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 500))
    for _ in range(2000):
        opt.zero_grad()
        (0.5 * ((model(X) - Y) ** 2).sum(-1).mean(-1)).sum().backward()
        opt.step()
        ramp.step()
    with torch.no_grad():
        H = model.features(X)
        out = model.layers[-1](H)
        W = model.layers[-1].weight.transpose(1, 2)
    assert (out.argmax(-1) != yt).sum().item() <= 2                        # both fit the training set
    ratio = [nc.within_class_ratio(H[k], labels) for k in range(2)]
    split = [nc.readout_split(H[k], labels, W[k]) for k in range(2)]
    assert ratio[0] < ratio[1] / 5                                         # small init: far less scatter
    for k in range(2):
        assert split[k]["visible"] < 0.25 * ratio[k]                       # fitted: the scatter is unseen
        assert split[k]["invisible means"] > 0.15                          # ... and so is part of the means
        assert nc.nc3(W[k], H[k], labels) > 0.5
        assert nc.nc3_of_a_fitted_readout(W[k], split[k]["invisible means"]) == pytest.approx(
            nc.nc3(W[k], H[k], labels), abs=0.05)
    W_in, b_in, W_out = (t.detach() for t in (model.layers[-2].weight[0].T, model.layers[-2].bias[0, 0],
                                                model.layers[-1].weight[0].T))
    delta = nc.unit_imbalance(W_in, b_in, W_out)
    norms = ((W_out ** 2).sum(0) + (W_in ** 2).sum(1) + b_in ** 2).numpy()
    assert np.linalg.norm(delta) < 0.2 * np.linalg.norm(norms)             # s = 0.1: balanced units
