"""theory.ntk_empirical: the closed-form tangent kernel of one hidden layer and the batched catapult runs."""

import math

import numpy as np
import pytest
import torch

from course_utils.models.mlp import MLP
from course_utils.theory.ntk_empirical import _stacked_one_hidden_layer, catapult_ensemble, empirical_ntk, \
    one_hidden_layer_ntk

SW, SB = math.sqrt(2.0), 0.3


def _nets(width=64, seeds=(0, 1)):
    return [MLP(3, width, 1, activation="relu", sigma_w=SW, sigma_b=SB, parameterization="ntk",
                generator=torch.Generator().manual_seed(s)) for s in seeds]


def test_closed_form_kernel_is_the_empirical_ntk():
    X = torch.randn(7, 3, generator=torch.Generator().manual_seed(5))
    nets = _nets()
    theta = one_hidden_layer_ntk(_stacked_one_hidden_layer(nets), X, SW, SB)
    assert theta.shape == (2, 7, 7)
    for k, model in enumerate(nets):
        torch.testing.assert_close(theta[k], empirical_ntk(model, X).to(theta.dtype), rtol=1e-4, atol=1e-5)


def test_catapult_ensemble_small_rate_converges_large_rate_blows_up():
    """Below η_c = 2/λ_max gradient descent on the (nearly linear) wide network converges; at 5 η_c it diverges."""
    X = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    y = torch.sin(X[:, 0])
    out = catapult_ensemble(_nets(width=512), [0.5, 5.0], 300, X, y)
    assert set(out) == {"initial", "peak", "final", "edge", "diverged", "diverged_step"}
    assert out["final"].shape == (2, 2)
    assert (out["final"][:, 0] < 1e-3 * out["initial"][:, 0]).all() and (out["edge"][:, 0] < 1).all()
    assert np.isinf(out["final"][:, 1]).all() and np.isinf(out["edge"][:, 1]).all()
    assert out["diverged"].tolist() == [[False, True], [False, True]]
    assert (out["diverged_step"][:, 0] == -1).all() and (out["diverged_step"][:, 1] > 0).all()


def test_catapult_ensemble_records_the_first_step_past_blow_up():
    """A run stopped one step before its recorded divergence step is still finite; stopped at it, diverged."""
    X = torch.randn(8, 3, generator=torch.Generator().manual_seed(1))
    y = torch.sin(X[:, 0])
    s = int(catapult_ensemble(_nets(width=512), [5.0], 300, X, y)["diverged_step"][0, 0])
    before = catapult_ensemble(_nets(width=512), [5.0], s - 1, X, y)
    at = catapult_ensemble(_nets(width=512), [5.0], s, X, y)
    assert not before["diverged"].any() and np.isfinite(before["final"]).all()
    assert before["final"][0, 0] < 1e6 <= 1e6 * 81  # still below blow_up one step before
    assert at["diverged"].all() and (at["diverged_step"] == s).all()


def test_catapult_ensemble_rejects_bad_arguments():
    X, y = torch.randn(4, 3), torch.zeros(4)
    with pytest.raises(ValueError, match="steps"):
        catapult_ensemble(_nets(), [1.0], 0, X, y)
    with pytest.raises(ValueError, match="one-hidden-layer"):
        catapult_ensemble([MLP(3, 8, 2, parameterization="ntk")], [1.0], 10, X, y)
