import importlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course_utils as cu
import course_utils.validate  # noqa: F401  (cu.validate)

cu.train_module = importlib.import_module("course_utils.train")


def _problem(n=32, d=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    w = torch.randn(d, 1, generator=g)
    return X, X @ w


def test_full_batch_gd_matches_closed_form():
    """One GD step on L = mean (Xθ − y)² from θ = 0 is θ₁ = (2η/n) Xᵀy."""
    X, y = _problem()
    model = torch.nn.Linear(4, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    hist = cu.train(model, torch.nn.functional.mse_loss, X, y, steps=1, lr=0.1, progress=False)
    expected = (2 * 0.1 / len(X)) * (X.T @ y).T
    assert torch.allclose(model.weight.data, expected, atol=1e-6)
    assert hist.steps == [0, 1]
    assert hist["loss"][0] == pytest.approx(float((y ** 2).mean()), rel=1e-6)


def test_loss_falls_and_metrics_are_recorded():
    X, y = _problem()
    model = torch.nn.Linear(4, 1)
    hist = cu.train(model, torch.nn.functional.mse_loss, X, y, steps=200, lr=0.1,
                    record_steps=[0, 50, 200], metrics={"wnorm": lambda m: m.weight.norm()}, progress=False)
    assert hist.steps == [0, 50, 200]
    assert hist["loss"][-1] < 1e-3 * hist["loss"][0]
    assert hist["wnorm"].shape == (3,)
    assert np.array_equal(hist["step"], [0, 50, 200])
    with pytest.raises(KeyError, match="recorded"):
        hist["accuracy"]


def test_minibatch_is_reproducible_and_stop_when():
    X, y = _problem()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        cu.train(model, torch.nn.functional.mse_loss, X, y, steps=30, lr=0.05, batch_size=5, seed=7, progress=False)
        runs.append(model.weight.detach().clone())
    assert torch.equal(runs[0], runs[1])
    model = torch.nn.Linear(4, 1)
    hist = cu.train(model, torch.nn.functional.mse_loss, X, y, steps=1000, lr=0.1, record_steps=range(1001),
                    stop_when=lambda h: h["loss"][-1] < 1e-2, progress=False)
    assert hist["loss"][-1] < 1e-2 and hist.steps[-1] < 1000


@pytest.mark.parametrize("kwargs,msg", [(dict(steps=-1), "steps"), (dict(steps=5, batch_size=0), "batch_size"),
                                        (dict(steps=5, lr=0.0), "learning rate"), (dict(steps=5, lr=float("nan")), "lr"),
                                        (dict(steps=5, record_steps=[10]), "record_steps")])
def test_train_rejects_bad_arguments(kwargs, msg):
    X, y = _problem()
    with pytest.raises(ValueError, match=msg):
        cu.train(torch.nn.Linear(4, 1), torch.nn.functional.mse_loss, X, y, progress=False, **kwargs)


def test_history_and_log_spaced_steps():
    h = cu.History()
    h.record(0, loss=1.0)
    with pytest.raises(ValueError, match="increase"):
        h.record(0, loss=1.0)
    with pytest.raises(ValueError, match="same names"):
        h.record(1, acc=1.0)
    s = cu.log_spaced_steps(1000, 30)
    assert s[0] == 0 and s[-1] == 1000 and np.all(np.diff(s) > 0)
    with pytest.raises(ValueError):
        cu.log_spaced_steps(0)


# --- bad arguments end in one clear message naming the argument --------------------------------

def _net():
    torch.manual_seed(0)
    return torch.nn.Linear(4, 1)


_mse = torch.nn.functional.mse_loss


@pytest.mark.parametrize("change,name", [
    (dict(model="a network"), "model"),
    (dict(loss_fn=None), "loss_fn"),
    (dict(loss_fn=3.0), "loss_fn"),
    (dict(X=None), "X"),
    (dict(X="data"), "X"),
    (dict(X=[["a", "b", "c", "d"]] * 32), "X"),
    (dict(X=torch.empty(0, 4), y=torch.empty(0, 1)), "X"),
    (dict(y=torch.zeros(31, 1)), "samples"),
    (dict(y=torch.zeros(32)), "y"),                                 # (32,) against outputs (32, 1)
    (dict(X=torch.full((32, 4), float("nan"))), "X"),
    (dict(y=torch.full((32, 1), float("inf"))), "y"),
    (dict(steps=2.5), "steps"),
    (dict(steps="10"), "steps"),
    (dict(steps=None), "steps"),
    (dict(batch_size=1.5), "batch_size"),
    (dict(batch_size=33), "batch_size"),
    (dict(lr=float("nan")), "lr"),
    (dict(lr=float("inf")), "lr"),
    (dict(lr=-0.1), "lr"),
    (dict(lr="0.1"), "lr"),
    (dict(lr=None), "lr"),
    (dict(optimizer="sgd"), "optimizer"),
    (dict(optimizer=torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)), "optimizer"),
    (dict(record_steps=[1.5]), "record_steps"),
    (dict(record_steps=5), "record_steps"),
    (dict(record_steps=[-1]), "record_steps"),
    (dict(metrics=lambda m: 0.0), "metrics"),
    (dict(metrics={"w": 3.0}), "metrics\\['w'\\]"),
    (dict(stop_when=True), "stop_when"),
    (dict(seed="zero"), "seed"),
    (dict(on_divergence="explode"), "on_divergence"),
])
def test_every_bad_argument_is_named(change, name):
    X, y = _problem()
    kwargs = dict(model=_net(), loss_fn=_mse, X=X, y=y, steps=10, lr=0.1, progress=False)
    kwargs.update(change)
    with pytest.raises(cu.validate.ArgumentError, match=name):
        cu.train(kwargs.pop("model"), kwargs.pop("loss_fn"), kwargs.pop("X"), kwargs.pop("y"), **kwargs)


def test_a_loss_that_is_not_a_number_and_a_model_with_nan_are_refused():
    X, y = _problem()
    with pytest.raises(cu.validate.ArgumentError, match="loss_fn must return a single number"):
        cu.train(_net(), lambda o, t: (o - t) ** 2, X, y, steps=3, progress=False)
    net = _net()
    with torch.no_grad():
        net.weight[0, 0] = float("nan")
    with pytest.raises(cu.validate.ArgumentError, match="model has NaN"):
        cu.train(net, _mse, X, y, steps=3, progress=False)


def test_numpy_lists_and_other_float_dtypes_are_converted_to_the_model():
    X, y = _problem()
    runs = []
    for Xi, yi in [(X, y), (X.numpy(), y.numpy()), (X.double(), y.double()), (X.tolist(), y.tolist())]:
        net = _net()
        hist = cu.train(net, _mse, Xi, yi, steps=5, lr=0.1, progress=False)
        runs.append((net.weight.detach().clone(), hist["loss"]))
    for i, (w, loss) in enumerate(runs[1:], 1):
        assert torch.equal(w, runs[0][0])
        if i != 2:  # a float64 y is kept (torch promotes the loss to float64, as it did before): only close
            assert np.array_equal(loss, runs[0][1])
        np.testing.assert_allclose(loss, runs[0][1], rtol=1e-6)
    # float32 data and a float64 model: the data are converted to float64, exactly as by hand
    from course_utils.models.linear import LinearModel, half_mse
    a, b = LinearModel(4), LinearModel(4)
    ha = cu.train(a, half_mse, X, y[:, 0], steps=5, lr=0.1, progress=False)
    hb = cu.train(b, half_mse, X.double(), y[:, 0].double(), steps=5, lr=0.1, progress=False)
    assert torch.equal(a.theta, b.theta) and np.array_equal(ha["loss"], hb["loss"])


# --- divergence -------------------------------------------------------------------------------

def _quadratic_divergence_step(lr: float) -> int:
    """The first step at which L = ½(θ − 1)² overflows under θ ← θ − lr (θ − 1) from θ = 0 (float64)."""
    theta = np.float64(0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(10_000):
            e = theta - 1.0
            if not np.isfinite(0.5 * np.mean(np.array([e]) ** 2)):
                return t
            theta = theta - lr * e
    raise AssertionError("no divergence")


@pytest.mark.parametrize("kw", [dict(), dict(record_steps=[0, 100]), dict(batch_size=1)])
def test_divergence_is_caught_at_the_right_step(kw):
    from course_utils.models.linear import LinearModel, half_mse
    expected = _quadratic_divergence_step(1e3)
    assert 40 < expected < 100
    with pytest.raises(cu.train_module.TrainingDiverged, match=f"step {expected}:") as err:
        cu.train(LinearModel(1), half_mse, [[1.0]], [1.0], steps=100, lr=1e3, progress=False, **kw)
    assert err.value.step == expected and err.value.lr == 1e3
    assert "smaller learning rate" in str(err.value) and isinstance(err.value, FloatingPointError)
    hist = cu.train(LinearModel(1), half_mse, [[1.0]], [1.0], steps=100, lr=1e3, progress=False,
                    on_divergence="record", **kw)
    assert hist.diverged and hist.diverged_step == expected
    assert np.isfinite(hist["loss"]).all() and hist.steps[-1] < expected
    calm = cu.train(LinearModel(1), half_mse, [[1.0]], [1.0], steps=100, lr=0.5, progress=False, **kw)
    assert not calm.diverged and calm.diverged_step == -1


def test_the_device_side_check_of_a_gpu_finds_the_same_step(monkeypatch):
    """The GPU path (no synchronisation per step), run on the CPU: same step, same outcome."""
    from course_utils.models.linear import LinearModel, half_mse
    monkeypatch.setattr(cu.train_module, "_READ_LOSS_ON_CPU", False)
    expected = _quadratic_divergence_step(1e3)
    for kw in (dict(), dict(record_steps=[0, 100]), dict(batch_size=1, record_steps=[0])):
        with pytest.raises(cu.train_module.TrainingDiverged) as err:
            cu.train(LinearModel(1), half_mse, [[1.0]], [1.0], steps=100, lr=1e3, progress=False, **kw)
        assert err.value.step == expected
    a, b = LinearModel(1), LinearModel(1)
    ha = cu.train(a, half_mse, [[1.0]], [1.0], steps=50, lr=0.5, progress=False)
    monkeypatch.setattr(cu.train_module, "_READ_LOSS_ON_CPU", True)
    hb = cu.train(b, half_mse, [[1.0]], [1.0], steps=50, lr=0.5, progress=False)
    assert np.array_equal(ha["loss"], hb["loss"]) and torch.equal(a.theta, b.theta)


def test_a_parameter_that_becomes_infinite_after_the_last_record_is_caught():
    from course_utils.models.linear import LinearModel
    net = LinearModel(1)                  # θ = 0: the loss 10³⁰⁰ θ is 0, its gradient 10³⁰⁰
    with pytest.raises(cu.train_module.TrainingDiverged, match="parameter"):
        cu.train(net, lambda o, t: (o * 0).sum() + net.theta.sum() * 1e300, [[1.0]], [0.0],
                 steps=1, lr=1e300, record_steps=[0], progress=False)


@settings(max_examples=25, deadline=None)
@given(log_lr=st.floats(-3, 4), n_nan=st.integers(0, 2), seed=st.integers(0, 10 ** 6))
def test_no_nan_is_ever_returned_silently(log_lr, n_nan, seed):
    gen = np.random.default_rng(seed)
    X, y = gen.standard_normal((16, 3)), gen.standard_normal((16, 1)) * 10
    X[gen.integers(0, 16, n_nan), gen.integers(0, 3, n_nan)] = np.nan
    torch.manual_seed(seed % 1000)
    try:
        hist = cu.train(torch.nn.Linear(3, 1), _mse, X, y, steps=30, lr=10.0 ** log_lr, progress=False)
    except (cu.train_module.TrainingDiverged, cu.validate.ArgumentError):
        return
    assert n_nan == 0 and np.isfinite(hist["loss"]).all() and not hist.diverged


# ---- the one loop: closure losses, array metrics, a scheduler ----

def test_closure_loss_trains_what_the_closure_computes():
    """train(model, loss_fn) without data minimises loss_fn(model): gradient descent on ½‖w − a‖² from 0 is
    w_t = a(1 − (1 − lr)^t), recorded exactly (the full loss is the closure's value)."""
    model = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))])
    a = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    hist = cu.train(model, lambda m: 0.5 * ((m[0] - a) ** 2).sum(), steps=10, lr=0.3, record_steps=[0, 5, 10],
                 metrics={"w": lambda m: m[0]}, progress=False)
    expected = np.outer(1 - 0.7 ** np.array([0, 5, 10]), a.numpy())
    np.testing.assert_allclose(hist["w"], expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hist["loss"], 0.5 * ((expected - a.numpy()) ** 2).sum(1), rtol=1e-12)
    with pytest.raises(ValueError, match="batch_size"):
        cu.train(model, lambda m: m[0].sum(), steps=1, batch_size=2, progress=False)
    with pytest.raises(ValueError, match="X and y"):
        cu.train(model, lambda m: m[0].sum(), np.zeros((2, 3)), steps=1, progress=False)


def test_metrics_may_be_arrays_and_numbers_stay_numbers():
    model = torch.nn.Linear(2, 3, dtype=torch.float64)
    X, y = np.random.default_rng(0).standard_normal((5, 2)), np.zeros((5, 3))
    grid = torch.linspace(-1, 1, 4, dtype=torch.float64)[:, None].repeat(1, 2)
    hist = cu.train(model, torch.nn.functional.mse_loss, X, y, steps=4, lr=0.1, record_steps=[0, 2, 4],
                 metrics={"f": lambda m: m(grid), "norm": lambda m: m.weight.norm(), "one": lambda m: m.bias[:1]},
                 progress=False)
    assert hist["f"].shape == (3, 4, 3) and hist["norm"].shape == (3,) and hist["one"].shape == (3,)
    np.testing.assert_allclose(hist["f"][-1], model(grid).detach().numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="metrics"):
        cu.train(model, torch.nn.functional.mse_loss, X, y, steps=1, metrics={"bad": lambda m: "text"}, progress=False)


def test_scheduler_is_stepped_after_every_update():
    """A LambdaLR warm-up lr_t = lr·min(1, (t + 1)/3) on ½‖w − 1‖²: w follows the scheduled steps exactly."""
    model = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    warm = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: min(1.0, (t + 1) / 3))
    hist = cu.train(model, lambda m: 0.5 * ((m[0] - 1) ** 2).sum(), steps=5, optimizer=opt, scheduler=warm,
                 record_steps=range(6), metrics={"w": lambda m: m[0]}, progress=False)
    w, expected = 0.0, [0.0]
    for t in range(5):
        w -= 0.5 * min(1.0, (t + 1) / 3) * (w - 1)
        expected.append(w)
    np.testing.assert_allclose(hist["w"], expected, rtol=1e-14)
    other = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler"):
        cu.train(model, lambda m: m[0].sum(), steps=1, optimizer=opt,
              scheduler=torch.optim.lr_scheduler.LambdaLR(other, lambda t: 1.0), progress=False)


def test_on_record_is_called_at_every_record_step_with_the_model():
    """on_record(step, model) sees the model after `step` updates (gradient descent on ½(w − 1)²: w = 1 − (1 − lr)^t)."""
    model = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))])
    seen = []
    cu.train(model, lambda m: 0.5 * ((m[0] - 1) ** 2).sum(), steps=6, lr=0.5, record_steps=[0, 2, 6],
             on_record=lambda step, m: seen.append((step, float(m[0]), torch.is_grad_enabled())), progress=False)
    assert [s for s, _, _ in seen] == [0, 2, 6]
    np.testing.assert_allclose([w for _, w, _ in seen], [1 - 0.5 ** t for t in (0, 2, 6)], rtol=1e-15)
    assert not any(g for _, _, g in seen)
    with pytest.raises(ValueError, match="on_record"):
        cu.train(model, lambda m: m[0].sum(), steps=1, on_record="print", progress=False)
