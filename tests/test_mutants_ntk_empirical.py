"""Tests written against the surviving mutants of benchmarks/mutation.md: theory.ntk_empirical.

Input checks that the model's input size, dtype and device drive (d_in, a model on the "meta" device, float32
inputs to float64 parameters), ``chunk_size`` (how many inputs one vmapped call differentiates), the
linearised model's frozen θ₀ and its input checks, the closed-form one-hidden-layer kernel at a unit with h = 0,
which networks the catapult ensemble accepts, and the catapult records (the default and the boundary of
``blow_up``, the runs that continue after another run blew up, ``edge`` at a kernel far from 1, the learning
rate's precision).
"""

import math
import re

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.models.mlp import MLP
from course_utils.theory import ntk_empirical as ne
from course_utils.validate import ArgumentError
from ntk_testing import SB, SW, loss_after_one_step, mlp

F64 = torch.float64


def _tanh_net(seed=0, width=8, dtype=F64):
    return mlp("tanh", seed, width, dtype)


def _relu_nets(seeds=(0,), width=16, dtype=F64, **kw):
    return [mlp("relu", s, width, dtype, **kw) for s in seeds]


NET = _tanh_net()
X = torch.randn(5, 3, generator=torch.Generator().manual_seed(1), dtype=F64)


def _names(needle, message):
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", message) is not None


# ---------------------------------------------------------------------------------------------
# inputs: the model's input size, device; chunk_size
# ---------------------------------------------------------------------------------------------

def test_inputs_of_the_wrong_width_are_refused_with_the_models_input_size():
    """An MLP knows its input size d_in: X with another number of columns is an ArgumentError naming X and d_in,
    not an error from inside torch."""
    for call, name in [(lambda: ne.jacobian(NET, X[:, :2]), "X"), (lambda: ne.empirical_ntk(NET, X[:, :2]), "X1"),
                       (lambda: ne.empirical_ntk(NET, X[:, :2], X[:, :2]), "X1")]:
        with pytest.raises(ArgumentError) as info:
            call()
        assert _names(name, str(info.value)) and "d_in" in str(info.value), str(info.value)


def test_shape_errors_name_the_sizes_n1_and_n2_of_the_kernel():
    """Θ has shape (N1, N2): a 1-D X1 or X2 is refused with the spec (N1, d) or (N2, d)."""
    with pytest.raises(ArgumentError, match=r"X1 .*\(N1, d\)"):
        ne.empirical_ntk(NET, X[0])
    with pytest.raises(ArgumentError, match=r"X2 .*\(N2, d\)"):
        ne.empirical_ntk(NET, X, X[0])


def _meta_linear():
    return nn.Linear(3, 1, dtype=F64).to("meta")


@pytest.mark.parametrize("call, name", [
    (lambda m: ne.jacobian(m, X), "X"),
    (lambda m: ne.empirical_ntk(m, X), "X1"),
    (lambda m: ne.LinearizedModel(m)(X), "x"),
])
def test_inputs_are_moved_to_the_models_device_and_a_meta_model_is_refused(call, name):
    """The inputs go to the device of the model's parameters; "meta" is not a device to compute on, so a plain
    torch module on it is refused with an ArgumentError naming the input (not a device mismatch inside torch)."""
    with pytest.raises(ArgumentError) as info:
        call(_meta_linear())
    assert "device" in str(info.value) and _names(name, str(info.value)), str(info.value)


def test_the_kernel_lives_on_the_inputs_device_whatever_the_default_device():
    """Under ``with torch.device("meta")`` (another default device) the kernel of a CPU model on CPU inputs is
    still a CPU tensor with the same numbers."""
    ref = ne.empirical_ntk(NET, X)
    ref12 = ne.empirical_ntk(NET, X[:2], X[2:])
    with torch.device("meta"):
        got = ne.empirical_ntk(NET, X)
        got12 = ne.empirical_ntk(NET, X[:2], X[2:])
    assert got.device.type == "cpu" and got12.device.type == "cpu"
    assert torch.equal(got, ref) and torch.equal(got12, ref12)


class _Counting(nn.Module):
    """``net``, counting its forward calls (inside vmap one call handles a whole chunk of inputs)."""

    def __init__(self, net):
        super().__init__()
        self.net, self.calls = net, 0

    def forward(self, x):
        self.calls += 1
        return self.net(x)


def _calls(fn, chunk_size):
    model = _Counting(NET)
    out = fn(model, chunk_size)
    return model.calls, out


@pytest.mark.parametrize("fn", [lambda m, c: ne.jacobian(m, X, chunk_size=c),
                                lambda m, c: ne.empirical_ntk(m, X, chunk_size=c),
                                lambda m, c: ne.empirical_ntk(m, X[:2], X[2:], chunk_size=c)],
                         ids=["jacobian", "ntk", "ntk-X2"])
def test_chunk_size_bounds_how_many_inputs_one_call_differentiates(fn):
    """chunk_size = 1 differentiates one input per vmapped call: N times the calls of the unchunked run, the same
    numbers; chunk_size = 2 on 5 inputs: ⌈5/2⌉ = 3 times."""
    n_all, ref = _calls(fn, None)
    n_one, one = _calls(fn, 1)
    n_two, two = _calls(fn, 2)
    assert n_one > n_two > n_all >= 1
    assert torch.allclose(one, ref, rtol=1e-12, atol=1e-14) and torch.allclose(two, ref, rtol=1e-12, atol=1e-14)


def test_chunk_size_one_call_per_input_for_the_jacobian():
    n_all, _ = _calls(lambda m, c: ne.jacobian(m, X, chunk_size=c), None)
    n_one, _ = _calls(lambda m, c: ne.jacobian(m, X, chunk_size=c), 1)
    n_two, _ = _calls(lambda m, c: ne.jacobian(m, X, chunk_size=c), 2)
    assert (n_all, n_one, n_two) == (1, 5, 3)


# ---------------------------------------------------------------------------------------------
# LinearizedModel
# ---------------------------------------------------------------------------------------------

class _Frozen(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([[1.0], [-2.0], [0.5]], dtype=F64), requires_grad=False)

    def forward(self, x):
        return x @ self.w


def test_linearized_model_of_a_frozen_model_is_allowed_and_trains_its_copies():
    """The linearisation copies the parameters as trained ones, so a model whose parameters are all frozen is
    fine (its own kernel would be 0, but f_lin's is not)."""
    lin = ne.LinearizedModel(_Frozen())
    assert torch.equal(lin(X), X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=F64))
    assert all(p.requires_grad for p in lin.params)
    with torch.no_grad():
        lin.params[0].add_(torch.tensor([[1.0], [0.0], [0.0]], dtype=F64))
    assert torch.allclose(lin(X)[:, 0], X @ torch.tensor([2.0, -2.0, 0.5], dtype=F64), rtol=1e-14, atol=1e-14)


def test_linearized_model_trains_only_theta_theta0_is_frozen():
    """θ₀ is frozen: the only parameters with requires_grad are the copies θ, as many numbers as the model has."""
    lin = ne.LinearizedModel(NET)
    trained = [p for p in lin.parameters() if p.requires_grad]
    assert sum(p.numel() for p in trained) == sum(p.numel() for p in NET.parameters())
    assert all(any(p is q for q in lin.params) for p in trained)


def test_linearized_model_of_a_model_with_one_parameter_tensor():
    model = nn.Linear(3, 1, bias=False, dtype=F64)
    lin = ne.LinearizedModel(model)
    assert torch.allclose(lin(X), model(X), rtol=1e-14, atol=1e-15)
    assert lin(X.float()).dtype == F64


def test_linearized_model_input_checks():
    """One input (1-D, d_in features) is accepted like the MLP accepts it; a wrong width or a scalar is an
    ArgumentError naming x and the input size; a module without ``d_in`` is not checked."""
    lin = ne.LinearizedModel(NET)
    assert torch.allclose(lin(X[0]), NET(X[0]), rtol=1e-13, atol=1e-14)
    for bad in (X[:, :2], X[0, :2], torch.tensor(1.0, dtype=F64)):
        with pytest.raises(ArgumentError) as info:
            lin(bad)
        assert _names("x", str(info.value)) and "3 features" in str(info.value), str(info.value)
    plain = ne.LinearizedModel(nn.Linear(3, 1, dtype=F64))
    assert plain(X).shape == (5, 1)


class _WithInputSize(nn.Module):
    """Not an MLP, no input checks of its own, but it declares its input size ``d_in``."""

    d_in = 3

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor([[1.0], [-2.0], [0.5]], dtype=F64))

    def forward(self, x):
        return x @ self.w[: x.shape[-1]]


def test_linearized_model_checks_a_declared_input_size():
    """The width check uses the model's ``d_in``, not the model's own forward: a model that would silently take
    2 features is refused them."""
    lin = ne.LinearizedModel(_WithInputSize())
    assert torch.equal(lin(X), X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=F64))
    with pytest.raises(ArgumentError, match="3 features"):
        lin(X[:, :2])


# ---------------------------------------------------------------------------------------------
# one_hidden_layer_ntk and its inputs
# ---------------------------------------------------------------------------------------------

def test_closed_form_kernel_at_a_unit_with_zero_preactivation():
    """A hidden unit with zero incoming weights and bias has h = 0 for every input: relu'(0) = 0 (torch's
    convention, and 1[h > 0] in the closed form), so the unit adds nothing to Θ; the closed form agrees with
    the empirical NTK computed by autograd."""
    net = _relu_nets(seeds=(4,), width=6)[0]
    with torch.no_grad():
        net.layers[0].weight[0] = 0.0
        net.layers[0].bias[0] = 0.0
        net.layers[1].weight[0, 0] = 3.0  # a large V₁ⱼ would make the 1[h ≥ 0] term large
    T = ne.one_hidden_layer_ntk(ne._stacked_one_hidden_layer([net]), X, SW, SB)[0]
    assert torch.allclose(T, ne.empirical_ntk(net, X), rtol=1e-12, atol=1e-12)


def test_stacked_parameters_are_converted_to_v0s_dtype():
    """b₀, V₁, b₁ and X given as lists, NumPy arrays or float32 tensors are converted to V₀'s dtype (float64)."""
    nets = _relu_nets(seeds=(0, 1))
    ps = ne._stacked_one_hidden_layer(nets)
    ref = ne.one_hidden_layer_ntk(ps, X, SW, SB)
    got = ne.one_hidden_layer_ntk([ps[0], ps[1].tolist(), ps[2].numpy(), ps[3].tolist()], X, SW, SB)
    assert got.dtype == F64 and torch.allclose(got, ref, rtol=1e-13, atol=1e-13)
    x32 = X.float()
    got = ne.one_hidden_layer_ntk(ps, x32, SW, SB)
    assert got.dtype == F64 and torch.equal(got, ne.one_hidden_layer_ntk(ps, x32.double(), SW, SB))


def test_a_badly_shaped_v0_is_named():
    with pytest.raises(ArgumentError, match=r"^p\[0\] \(V0\)"):
        ne.one_hidden_layer_ntk([torch.zeros(2, 3)] + [torch.zeros(2, 3)] * 2 + [torch.zeros(2)], X, 1.0, 0.0)


class _OneHidden(nn.Module):
    """A one-hidden-layer network that is not an MLP: only ``layers``, and the attributes given."""

    def __init__(self, width=16, seed=0, **attributes):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList([nn.Linear(3, width, dtype=F64), nn.Linear(width, 1, dtype=F64)])
        with torch.no_grad():
            for layer in self.layers:
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=g, dtype=F64))
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=g, dtype=F64))
        for k, v in attributes.items():
            setattr(self, k, v)


def test_networks_without_activation_or_parameterization_attributes_are_taken_as_relu_ntk():
    m = _OneHidden(sigma_w=SW, sigma_b=SB)
    V0, b0, V1, b1 = ne._stacked_one_hidden_layer([m])
    assert torch.equal(V0[0], m.layers[0].weight) and torch.equal(b0[0], m.layers[0].bias)
    assert torch.equal(V1[0], m.layers[1].weight[0]) and torch.equal(b1[0], m.layers[1].bias[0])
    out = ne.catapult_ensemble([m], [0.1], 2, X, torch.zeros(5, dtype=F64))
    assert np.isfinite(out["final"]).all()


@pytest.mark.parametrize("missing", ["sigma_w", "sigma_b"])
def test_a_member_without_sigma_w_or_sigma_b_is_refused(missing):
    other = {"sigma_w": SW, "sigma_b": SB}
    del other[missing]
    models = [_OneHidden(sigma_w=SW, sigma_b=SB), _OneHidden(seed=1, **other)]
    with pytest.raises(ArgumentError, match=r"models\[1\]"):
        ne._stacked_one_hidden_layer(models)


@pytest.mark.parametrize("model", [
    MLP(3, 8, 0, activation="relu", sigma_b=SB, dtype=F64),  # no hidden layer
    MLP(3, 8, 2, activation="relu", sigma_b=SB, dtype=F64),  # two hidden layers
    MLP(3, 8, 1, d_out=2, activation="relu", sigma_b=SB, dtype=F64),  # two outputs
    MLP(3, 8, 1, activation="relu", sigma_b=SB, parameterization="standard", dtype=F64),
], ids=["depth0", "depth2", "two-outputs", "standard"])
def test_networks_the_closed_forms_do_not_cover_are_refused(model):
    with pytest.raises(ArgumentError, match="models"):
        ne._stacked_one_hidden_layer([model])


def test_networks_with_float32_biases_train_in_the_weights_dtype():
    """The inputs are converted to the dtype of the first layer's weights V₀ (float64 here), whatever the
    biases' dtype: the same run as with float64 biases holding the same (float32-representable) numbers, up to
    float32 rounding in the bias terms."""
    nets = _relu_nets(seeds=(0,))
    mixed = _relu_nets(seeds=(0,))
    with torch.no_grad():
        for net in (nets[0], mixed[0]):
            net.layers[0].bias.copy_(net.layers[0].bias.float().double())
    mixed[0].layers[0].bias.data = mixed[0].layers[0].bias.data.float()
    y = torch.sin(X[:, 0])
    a = ne.catapult_ensemble(nets, [0.3], 3, X.float(), y)
    b = ne.catapult_ensemble(mixed, [0.3], 3, X.float(), y)
    assert b["final"].dtype == np.float64
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-6)


def test_a_member_whose_first_layer_has_another_dtype_is_refused():
    a, b = _relu_nets(seeds=(0, 1))
    b.layers[0].float()  # first layer float32, output layer still float64
    with pytest.raises(ArgumentError, match=r"models\[1\].*dtype"):
        ne._stacked_one_hidden_layer([a, b])


# ---------------------------------------------------------------------------------------------
# catapult_ensemble
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ratios", [0.5, [[0.5, 1.0]], [0.0], [0.5, 0.0]])
def test_ratios_must_be_a_list_of_positive_numbers(ratios):
    with pytest.raises(ArgumentError, match="ratios"):
        ne.catapult_ensemble(_relu_nets(), ratios, 2, X, X[:, 0])


def _shifted_labels(net, shift):
    """Labels y = f₀(x) − shift: the initial loss is ½ shift² exactly (up to rounding)."""
    with torch.no_grad():
        return net(X)[:, 0] - shift


def test_default_blow_up_is_one_million():
    """A run whose initial loss is just above 10⁶ is recorded as diverged at step 0 with the default blow_up;
    one just below is not (a small learning rate then lowers the loss)."""
    nets = _relu_nets()
    above = ne.catapult_ensemble(nets, [0.01], 2, X, _shifted_labels(nets[0], math.sqrt(2 * (1e6 + 0.5))))
    assert above["initial"][0, 0] == pytest.approx(1e6 + 0.5, rel=1e-12)
    assert above["diverged"].tolist() == [[True]] and above["diverged_step"].tolist() == [[0]]
    assert np.isinf(above["final"]).all() and np.isinf(above["edge"]).all()
    below = ne.catapult_ensemble(nets, [0.01], 2, X, _shifted_labels(nets[0], math.sqrt(2 * (1e6 - 0.5))))
    assert below["diverged"].tolist() == [[False]] and below["diverged_step"].tolist() == [[-1]]


def test_a_loss_equal_to_blow_up_counts_as_blown_up():
    nets = _relu_nets()
    y = _shifted_labels(nets[0], 2.0)
    L0 = float(ne.catapult_ensemble(nets, [0.01], 1, X, y)["initial"][0, 0])
    out = ne.catapult_ensemble(nets, [0.01], 1, X, y, blow_up=L0)
    assert out["diverged_step"].tolist() == [[0]] and out["diverged"].all()
    assert ne.catapult_ensemble(nets, [0.01], 1, X, y, blow_up=np.nextafter(L0, np.inf))["diverged_step"][0, 0] == -1


def test_blow_up_may_be_infinite_or_below_one():
    """blow_up only has to be > 0: inf (only a non-finite loss counts) and 0.5 both work, and for a run whose
    loss stays small they give the default's record."""
    nets = _relu_nets()
    y = _shifted_labels(nets[0], 0.1)  # initial loss 0.005
    ref = ne.catapult_ensemble(nets, [0.2], 3, X, y)
    for blow_up in (math.inf, 0.5, 1e-2):
        out = ne.catapult_ensemble(nets, [0.2], 3, X, y, blow_up=blow_up)
        for k in ref:
            np.testing.assert_array_equal(out[k], ref[k])


def test_x_of_the_wrong_width_names_the_models_input_dimension():
    with pytest.raises(ArgumentError, match="input dimension"):
        ne.catapult_ensemble(_relu_nets(), [0.5], 2, X[:, :2], X[:, 0])


def test_bad_labels_are_named():
    with pytest.raises(ArgumentError, match=r"^y "):
        ne.catapult_ensemble(_relu_nets(), [0.5], 2, X, None)


def test_labels_that_require_grad_are_accepted():
    """Labels straight out of another network (a tensor with requires_grad) are data, as a detached copy is."""
    nets = _relu_nets()
    teacher = _relu_nets(seeds=(7,))[0]
    y = teacher(X)[:, 0]
    assert y.requires_grad
    out = ne.catapult_ensemble(nets, [0.3], 3, X, y)
    ref = ne.catapult_ensemble(nets, [0.3], 3, X, y.detach())
    for k in ref:
        np.testing.assert_array_equal(out[k], ref[k])


def test_list_labels_give_the_run_of_the_same_numpy_labels():
    """A list y once went through torch.as_tensor, which rounded it to float32 before the models' float64."""
    nets = _relu_nets()
    y = np.sin(X[:, 0].numpy())
    a = ne.catapult_ensemble(nets, [0.3], 3, X, y)
    b = ne.catapult_ensemble(nets, [0.3], 3, X, y.tolist())
    for k in a:
        np.testing.assert_allclose(b[k], a[k], rtol=1e-12)


def test_labels_are_converted_to_the_models_dtype():
    """float32 networks: float64 labels are first rounded to float32, so they give exactly the run with the
    float32 labels."""
    nets = _relu_nets(seeds=(0, 1), dtype=torch.float32)
    y64 = torch.sin(3 * X[:, 0]) / 3
    a = ne.catapult_ensemble(nets, [0.3, 0.9], 4, X.float(), y64)
    b = ne.catapult_ensemble(nets, [0.3, 0.9], 4, X.float(), y64.float())
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["final"].dtype == np.float32


def test_one_step_at_a_ratio_not_exact_in_float32_matches_gradient_descent_by_hand():
    """η = ratio·2/λ_max(Θ/N) in float64 for float64 networks (ratio 0.3 is not a float32 number)."""
    net = _relu_nets(seeds=(2,), width=12)[0]
    y = torch.sin(X[:, 0])
    out = ne.catapult_ensemble([net], [0.3], 1, X, y)
    lam = float(torch.linalg.eigvalsh(ne.empirical_ntk(net, X) / 5)[-1])
    lr = 0.3 * 2 / lam
    L1 = loss_after_one_step(net, X, y, lr)
    assert out["final"][0, 0] == pytest.approx(L1, rel=1e-12)


def test_runs_left_after_another_blew_up_continue_as_if_alone():
    """The runs are independent: dropping a run that blew up does not change the others' steps."""
    nets = _relu_nets(seeds=(0, 1), width=16)
    y = torch.sin(X[:, 0])
    steps = 8
    mixed = ne.catapult_ensemble(nets, [0.4, 6.0], steps, X, y, blow_up=50.0)
    alone = ne.catapult_ensemble(nets, [0.4], steps, X, y, blow_up=50.0)
    assert mixed["diverged"][:, 1].all() and (mixed["diverged_step"][:, 1] < steps).all()
    assert (mixed["diverged_step"][:, 1] >= 1).all() and not mixed["diverged"][:, 0].any()
    for k in ("initial", "peak", "final", "edge"):
        np.testing.assert_allclose(mixed[k][:, 0], alone[k][:, 0], rtol=1e-10)


def test_edge_is_ratio_times_the_kernel_change_for_a_kernel_far_from_one():
    """ηλ_max/2 at the end: at a tiny ratio the kernel barely moves, so edge ≈ ratio even where λ_max ≫ 1."""
    nets = _relu_nets(seeds=(3,), width=16)
    X10 = 10 * X
    lam = float(torch.linalg.eigvalsh(ne.empirical_ntk(nets[0], X10) / 5)[-1])
    assert lam > 50
    out = ne.catapult_ensemble(nets, [1e-3], 1, X10, torch.sin(X10[:, 0]))
    assert out["edge"][0, 0] == pytest.approx(1e-3, rel=1e-3)
