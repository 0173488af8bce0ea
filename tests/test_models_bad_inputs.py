"""Bad arguments to course_utils.models end in a clear ArgumentError naming the argument; inputs that
only have the wrong container or dtype (NumPy, lists, float32 into a float64 model) are converted and
give exactly the result of the right input. Properties are checked against independent computations."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.data import arithmetic as A
from course_utils.models import deep_linear as DL
from course_utils.models import grokking as G
from course_utils.models import interpolation as I
from course_utils.models import linear as L
from course_utils.models import mlp as M
from course_utils.models import random_projection as RP
from course_utils.models import scaled_init as SI
from course_utils.models import silu_net as S
from course_utils.validate import ArgumentError

NAN, INF = float("nan"), float("inf")


def _net():
    return M.MLP(3, 8, 1, 2, generator=torch.Generator().manual_seed(0))


def _params():
    return S.init_params(4, 5, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


BAD_CALLS = [
    # (name expected in the message, call)
    ("n_features", lambda: L.LinearModel(0)),
    ("n_features", lambda: L.LinearModel("3")),
    ("theta0", lambda: L.LinearModel(2, theta0=[1.0, NAN])),
    ("dtype", lambda: L.LinearModel(2, dtype="float64")),
    ("weights", lambda: L.RandomFeatureModel(np.full((3, 2), NAN))),
    ("x", lambda: L.LinearModel(2)("not a tensor")),
    ("target", lambda: L.half_mse(torch.zeros(3), "abc")),
    ("noise", lambda: L.ridge_test_errors(np.ones(3), np.ones(3), NAN, 5, np.random.default_rng(0))),
    ("noise", lambda: L.ridge_test_errors(np.ones(3), np.ones(3), -1.0, 5, np.random.default_rng(0))),
    ("n", lambda: L.ridge_test_errors(np.ones(3), np.ones(3), 0.1, 0, np.random.default_rng(0))),
    ("w_star", lambda: L.ridge_test_errors(np.ones(3), np.ones(4), 0.1, 5, np.random.default_rng(0))),
    ("ridge", lambda: L.ridge_test_errors(np.ones(3), np.ones(3), 0.1, 5, np.random.default_rng(0), ridge=-1.0)),
    ("rng", lambda: L.ridge_test_errors(np.ones(3), np.ones(3), 0.1, 5, "rng")),
    ("sigma_w", lambda: M.MLP(3, 8, 1, sigma_w=NAN)),
    ("sigma_b", lambda: M.MLP(3, 8, 1, sigma_b=INF)),
    ("width", lambda: M.MLP(3, 0, 1)),
    ("width", lambda: M.MLP(3, 2.5, 1)),
    ("depth", lambda: M.MLP(3, 8, -1)),
    ("d_in", lambda: M.MLP(None, 8, 1)),
    ("generator", lambda: M.MLP(3, 8, 1, generator="seed")),
    ("dtype", lambda: M.MLP(3, 8, 1, dtype=torch.int64)),
    ("activation", lambda: M.MLP(3, 8, 1, activation=3.0)),
    ("inputs", lambda: _net()(torch.zeros(4, 5))),
    ("n_networks", lambda: M.random_mlp_outputs(torch.zeros(4, 3), 0, width=4, depth=1)),
    ("X", lambda: M.random_mlp_outputs(torch.full((4, 3), NAN), 2, width=4, depth=1)),
    ("chunk_size", lambda: M.random_mlp_outputs(torch.zeros(4, 3), 2, width=4, depth=1, chunk_size=0)),
    ("depth", lambda: DL.DeepLinearNetwork(3, 4, 2, depth=1.5)),
    ("d_out", lambda: DL.DeepLinearNetwork(3, 4, 0, depth=2)),
    ("init_scale", lambda: DL.DeepLinearNetwork(3, 4, 2, depth=2, init_scale=NAN)),
    ("n_members", lambda: DL.DeepLinearNetwork(3, 4, 2, depth=2, n_members=0)),
    ("widths", lambda: DL.DeepLinearNetwork(3, "4", 2, depth=2)),
    ("balanced", lambda: DL.DeepLinearNetwork(3, 4, 2, depth=2, balanced="yes")),
    ("weights", lambda: DL.end_to_end(torch.zeros(3, 3))),
    ("W_2", lambda: DL.end_to_end([torch.zeros(3, 2), torch.zeros(4)])),
    ("A", lambda: DL.balanced_factors(torch.full((2, 2), NAN), [2])),
    ("widths", lambda: DL.balanced_factors(torch.eye(2), [0])),
    ("p", lambda: A.addition_table(1)),
    ("p", lambda: A.addition_table(2.5)),
    ("out_dim", lambda: A.target_vectors(5, 0)),
    ("scale", lambda: A.target_vectors(5, 3, scale=NAN)),
    ("n_total", lambda: A.split_masks(0, n_train=1, seeds=[0])),
    ("n_train", lambda: A.split_masks(10, n_train=2.5, seeds=[0])),
    ("n_train", lambda: A.split_masks(10, n_train=[2, 3], seeds=[0, 1, 2])),
    ("training-set sizes", lambda: A.split_masks(10, n_train=-5, seeds=[0])),
    ("n_train", lambda: A.split_masks(10, 0.5, n_train=5, seeds=[0])),
    ("n_train", lambda: A.split_masks(10, seeds=[0])),
    ("seeds", lambda: A.split_masks(10, n_train=2, seeds=7)),
    ("seeds", lambda: A.split_masks(10, n_train=2, seeds=[0, -1])),
    ("labels", lambda: G.nearest_target_accuracy(torch.zeros(4, 3), torch.zeros(2, 3),
                                                 torch.zeros(5, dtype=torch.long))),
    ("weight", lambda: G.nearest_target_accuracy(torch.zeros(4, 3), torch.zeros(2, 3), torch.zeros(4, dtype=torch.long),
                                                 torch.ones(3))),
    ("width", lambda: G.ToyAdditionModel(width=0)),
    ("init_scale_embed", lambda: G.ToyAdditionModel(width=4, init_scale_embed=NAN)),
    ("pairs", lambda: G.ToyAdditionModel(width=4)(torch.zeros(3, 3, dtype=torch.long))),
    ("pairs", lambda: G.ToyAdditionModel(width=4)(torch.full((3, 2), 0.5))),
    ("n_members", lambda: G.BatchedToyAdditionModel(0, width=4)),
    ("k", lambda: G.BatchedToyAdditionModel(2, width=4).member(2)),
    ("models", lambda: G.BatchedToyAdditionModel.from_members([torch.zeros(2)])),
    ("train_mask", lambda: G.toy_metrics(A.addition_table(4)[0], torch.zeros(7, 3), A.addition_table(4)[1],
                                         torch.full((10,), 2), torch.ones(10, dtype=torch.bool))),
    ("sums", lambda: G.toy_metrics(A.addition_table(4)[0], torch.zeros(3, 3), A.addition_table(4)[1],
                                   torch.ones(10, dtype=torch.bool), torch.ones(10, dtype=torch.bool))),
    ("spectrum", lambda: RP.resolution_limited_losses([1.0, NAN, 0.5], [1], limit="data", draws=1, rng=0)),
    ("sizes", lambda: RP.resolution_limited_losses(np.ones(10), [1.5, 3], limit="data", draws=1, rng=0)),
    ("draws", lambda: RP.resolution_limited_losses(np.ones(10), [2], limit="data", draws=NAN, rng=0)),
    ("limit", lambda: RP.resolution_limited_losses(np.ones(10), [2], limit=None, draws=1, rng=0)),
    ("n_fixed", lambda: RP.variance_limited_losses(np.ones(10), 0, [4], vary="data", draws=1, rng=0)),
    ("X_train", lambda: I.nearest_neighbour_predict([[1.0, NAN]], [1.0], [[0.0, 0.0]])),
    ("y_train", lambda: I.nearest_neighbour_predict(np.zeros((3, 2)), "abc", np.zeros((1, 2)))),
    ("margin", lambda: I.torus_linear_interpolation(np.zeros((3, 2)), np.zeros(3), np.zeros((1, 2)), margin=NAN)),
    ("params", lambda: S.silu_net([1, 2, 3], torch.zeros(2, 4))),
    ("params", lambda: S.silu_net({**_params(), "U": np.zeros((3, 5))}, torch.zeros(2, 4))),
    ("z", lambda: S.silu_net(_params(), "z")),
    ("y", lambda: S.action(_params(), torch.zeros(2, 4), torch.tensor([0, 3]))),
    ("y", lambda: S.action(_params(), torch.zeros(2, 4), torch.tensor([0.5, 1.0]))),
    ("scale", lambda: S.init_params(4, 5, 3, scale=NAN)),
    ("scale", lambda: S.init_params(4, 5, 3, scale=-1.0)),
    ("H", lambda: S.init_params(4, -5, 3)),
    ("generator", lambda: S.init_params(4, 5, 3, generator=np.random.default_rng(0))),
    ("device", lambda: S.init_params(4, 5, 3, device="tpu")),
    ("K0", lambda: SI.lazy_step(torch.full((2, 2), NAN), 1)),
    ("n_outputs", lambda: SI.lazy_step(torch.eye(2), 0)),
    ("V", lambda: SI.one_hidden_layer_kernel(torch.zeros(4, 3), torch.zeros(2, 5), torch.zeros(6, 3))),
    ("X", lambda: SI.one_hidden_layer_kernel(torch.zeros(4, 3), torch.zeros(2, 4), torch.full((6, 3), NAN))),
    ("W", lambda: SI.kernel_change_parts(torch.zeros(4, 3), torch.zeros(2, 4), torch.zeros(5, 3), torch.zeros(2, 4),
                                         torch.zeros(6, 3))),
]


@pytest.mark.parametrize("name,call", BAD_CALLS, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD_CALLS)])
def test_bad_arguments_raise_an_argument_error_naming_them(name, call):
    with pytest.raises(ArgumentError) as info:
        call()
    assert name in str(info.value)


def test_init_params_on_a_missing_gpu_says_so():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ArgumentError, match="no CUDA GPU.*device='cpu'"):
        S.init_params(4, 5, 3, device="cuda")
    assert S.init_params(4, 5, 3, device="CPU")["U"].device.type == "cpu"
    assert S.init_params(4, 5, 3, device=torch.device("cpu"))["U"].device.type == "cpu"


def test_inputs_of_the_wrong_container_or_dtype_are_converted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 3))
    model = L.LinearModel(3, theta0=rng.standard_normal(3))
    want = model(torch.from_numpy(X))
    assert torch.equal(model(X), want)                                  # NumPy
    assert torch.equal(model(X.tolist()), want)                         # a list
    assert model(torch.from_numpy(X).float()).dtype == torch.float64    # float32 into a float64 model
    net = _net()
    x32 = torch.from_numpy(X).float()
    assert torch.equal(net(x32.numpy()), net(x32))
    assert net(torch.from_numpy(X)).dtype == torch.float32              # float64 into a float32 model
    target = rng.standard_normal(6)
    assert torch.equal(L.half_mse(want, target), L.half_mse(want, torch.from_numpy(target)))
    deep = DL.DeepLinearNetwork(3, 4, 2, depth=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(deep(X), deep(torch.from_numpy(X)))
    assert DL.end_to_end([torch.eye(3, dtype=torch.float64), torch.eye(3, dtype=torch.float32)]).dtype == torch.float64
    p = _params()
    assert torch.equal(S.silu_net(p, x32[:, :2].repeat(1, 2)), S.silu_net(p, x32[:, :2].repeat(1, 2).double()))
    toy = G.ToyAdditionModel(p=5, width=4, out_dim=3)
    pairs, _ = A.addition_table(5)
    assert torch.equal(toy(pairs.numpy()), toy(pairs))


def test_half_mse_converts_a_numpy_target_to_the_prediction_dtype():
    pred = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64, requires_grad=True)
    loss = L.half_mse(pred, np.array([1.0, 1.0, 1.0], dtype=np.float32))
    assert loss.item() == pytest.approx(0.5 * (0 + 1 + 9) / 3)
    loss.backward()
    assert pred.grad is not None


@settings(max_examples=25, deadline=None)
@given(n_total=st.integers(1, 40), data=st.data())
def test_split_masks_have_the_asked_sizes(n_total, data):
    sizes = data.draw(st.lists(st.integers(1, n_total), min_size=1, max_size=4))
    seeds = data.draw(st.lists(st.integers(0, 10**6), min_size=len(sizes), max_size=len(sizes)))
    masks = A.split_masks(n_total, n_train=sizes, seeds=seeds)
    assert masks.dtype == torch.bool and masks.shape == (len(sizes), n_total)
    assert masks.sum(1).tolist() == sizes


@settings(max_examples=20, deadline=None)
@given(shapes=st.lists(st.integers(1, 4), min_size=2, max_size=5), seed=st.integers(0, 1000))
def test_end_to_end_is_the_matrix_product(shapes, seed):
    """W_L ⋯ W_1 against a product taken the other way round (left to right, NumPy)."""
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((b, a)) for a, b in zip(shapes[:-1], shapes[1:])]
    expected = np.eye(shapes[-1])
    for W in reversed(Ws):
        expected = expected @ W
    np.testing.assert_allclose(DL.end_to_end([torch.from_numpy(W) for W in Ws]).numpy(), expected, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(E=st.integers(1, 5), H=st.integers(1, 5), Mc=st.integers(2, 4), N=st.integers(1, 6), seed=st.integers(0, 999))
def test_silu_net_and_action_match_a_numpy_computation(E, H, Mc, N, seed):
    p = S.init_params(E, H, Mc, scale=2.0, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((N, E)), rng.integers(0, Mc, N)
    U, W, b = (p[k].numpy() for k in ("U", "W", "b"))
    a = z @ W.T + b
    f = (a / (1 + np.exp(-a))) @ U.T
    np.testing.assert_allclose(S.silu_net(p, z).numpy(), f, rtol=1e-12, atol=1e-12)
    log_q = f - np.log(np.exp(f).sum(1, keepdims=True))
    assert S.action(p, z, y).item() == pytest.approx(-log_q[np.arange(N), y].mean(), rel=1e-12, abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(d=st.integers(1, 4), width=st.integers(1, 6), depth=st.integers(0, 2), seed=st.integers(0, 999))
def test_mlp_ntk_forward_matches_its_formula(d, width, depth, seed):
    """f⁰ = σ_b b⁰ + (σ_w/√fan_in) V⁰ x, ... written out with NumPy from the stored parameters."""
    net = M.MLP(d, width, depth, 2, activation="tanh", sigma_w=1.3, sigma_b=0.2, dtype=torch.float64,
                generator=torch.Generator().manual_seed(seed))
    x = np.random.default_rng(seed).standard_normal((3, d))
    h = x
    for i, layer in enumerate(net.layers):
        Wl, bl = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        h = 1.3 / math.sqrt(Wl.shape[1]) * h @ Wl.T + 0.2 * bl
        if i < len(net.layers) - 1:
            h = np.tanh(h)
    np.testing.assert_allclose(net(x).detach().numpy(), h, rtol=1e-12, atol=1e-12)


def test_parameter_groups_must_be_dicts_of_settings():
    toy = G.ToyAdditionModel(p=5, width=4, out_dim=3)
    with pytest.raises(ArgumentError, match="embedding must be a dict"):
        toy.parameter_groups(embedding=1e-3, decoder=dict(lr=1e-3))
    with pytest.raises(ArgumentError, match="decoder must not contain 'params'"):
        G.BatchedToyAdditionModel(2, p=5, width=4, out_dim=3).parameter_groups(dict(lr=1.0), dict(params=[]))
    groups = toy.parameter_groups(embedding=dict(lr=1e-3), decoder=dict(lr=1e-4, weight_decay=1.0))
    assert groups[1]["weight_decay"] == 1.0 and groups[0]["params"][0] is toy.embedding
