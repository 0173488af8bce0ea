import numpy as np
import pytest
import torch

import course_utils as cu


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
                                        (dict(steps=5, lr=0.0), "learning rate"),
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
