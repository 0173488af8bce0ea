"""The theory-vs-experiment checks of the chapter "Minimal and extended features"
(book/04_feature_learning/05_minimal_features), at small sizes, and its exercise checker."""

import numpy as np
import pytest
import torch

from course_utils import diagnostics
from course_utils.data.classification import balanced_indices, load_digits, standardize
from course_utils.ensemble import BatchedAdamW, BatchedMLP, mse_per_sample, train_ensemble
from course_utils.exercises import minimal_features as ex
from course_utils.theory import features as mf
from course_utils.theory import neural_collapse as nc


def _task(C, per_class, val_per_class=40, seed=0):
    z, y = load_digits(dtype=torch.float32)
    keep = y < C
    z, y = z[keep], y[keep]
    idx = balanced_indices(y, per_class + val_per_class, seed=seed)
    ys = y[idx]
    tr = torch.cat([idx[ys == c][:per_class] for c in range(C)])
    va = torch.cat([idx[ys == c][per_class:] for c in range(C)])
    return standardize(z[tr]), y[tr], standardize(z[va], z[tr]), y[va]


def _train(X, y, C, weight_decays, steps=2000, width=128):
    model = BatchedMLP(len(weight_decays), [64, width, width, C], "relu", init="normal",
                       seeds=list(range(len(weight_decays))))
    opt = BatchedAdamW(model.parameters(), lr=5e-3, weight_decay=list(weight_decays))
    train_ensemble(model, mse_per_sample, X, torch.nn.functional.one_hot(y, C).float(), steps=steps,
                   optimizer=opt, progress=False, record_steps=[steps])
    return model


@pytest.fixture(scope="module")
def ten_classes():
    X, y, Xv, yv = _task(10, 30)
    return _train(X, y, 10, [1.0, 1.0, 0.01]), X, y, Xv, yv


def test_strong_decay_gives_minimal_features_and_weak_decay_extended(ten_classes):
    model, X, y, Xv, yv = ten_classes
    with torch.no_grad():
        H, Hv = model.features(X), model.features(Xv)
    d = diagnostics.effective_dimension(diagnostics.feature_kernel(H, center=True)).numpy()
    kappa = 1 - diagnostics.kernel_alignment(diagnostics.feature_kernel(H, center=True), y).numpy()
    assert np.all(np.abs(d[:2] - 9) < 0.2 * 9) and d[2] > 12
    assert kappa[:2].mean() < 0.1 and np.all(kappa[:2] < 0.15) and kappa[2] > kappa[:2].max()
    for k in range(2):
        assert nc.nc1(H[k], y) < 0.05
        ef = mf.eigenfeatures(H[k])
        assert mf.intensity(ef)[:9].sum() > 0.9
        assert mf.quality(ef.evaluate(Hv[k]), yv)[:9].mean() > 0.6


def test_utilisation_equals_quality_for_an_interpolating_network(ten_classes):
    model, X, y, _, _ = ten_classes
    with torch.no_grad():
        H = model.features(X)
    W = model.layers[-1].weight.detach().transpose(1, 2)
    for k in range(3):
        ef = mf.eigenfeatures(H[k])
        u, q = mf.utilisation(ef, W[k]), mf.quality(ef.train_values, y)
        assert np.allclose(u[:20], q[:20] / 9, atol=0.02)


def test_random_labels_reach_minimal_features_on_the_training_set():
    X, y, Xv, yv = _task(10, 10)
    y_rand = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(1))]
    model = _train(X, y_rand, 10, [1.0], steps=2500)
    with torch.no_grad():
        H, out_v = model.features(X), model(Xv)
    K = diagnostics.feature_kernel(H[0], center=True)
    assert 1 - diagnostics.kernel_alignment(K, y_rand).item() < 0.15
    assert (out_v[0].argmax(-1) != yv).double().mean().item() > 0.6


def test_held_out_kappa_is_above_the_collapsed_value_of_the_same_predictions(ten_classes):
    model, _, _, Xv, yv = ten_classes
    with torch.no_grad():
        Hv, out_v = model.features(Xv), model(Xv)
    for k in range(2):
        kv = 1 - diagnostics.kernel_alignment(diagnostics.feature_kernel(Hv[k], center=True), yv).item()
        assert kv > 1 - mf.collapsed_alignment(yv, out_v[k].argmax(-1), 10)


def test_exercise_checker_accepts_the_answer_and_rejects_wrong_ones(capsys):
    assert ex.check_uniform_error_kappa(lambda e, C: 1 - (1 - np.asarray(e) * C / (C - 1)) ** 2)
    assert "✓" in capsys.readouterr().out
    wrong = [lambda e, C: 2 * np.asarray(e),                                   # the small-ε slope, wrong
             lambda e, C: np.full(np.shape(e), np.nan),                        # NaN
             lambda e, C: np.zeros(3),                                         # wrong shape
             lambda e, C: None,                                                # None
             lambda e, C: (lambda: 0),                                         # a function instead of a value
             lambda e: e,                                                      # wrong signature: raises
             0.5]                                                              # a value instead of a function
    for answer in wrong:
        assert ex.check_uniform_error_kappa(answer) is False
        assert "✗" in capsys.readouterr().out
