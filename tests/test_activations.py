"""The one activation table: torch function, module, NumPy φ and φ' must be the same function."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import activations
from course_utils.activations import ACTIVATIONS, activation_module, activation_name, torch_activation
from course_utils.validate import ArgumentError

Z = np.linspace(-4.0, 4.0, 161)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numpy_and_torch_are_the_same_function(name):
    a = ACTIVATIONS[name]
    t = torch.tensor(Z, dtype=torch.float64)
    np.testing.assert_allclose(a.torch(t).numpy(), a.numpy(Z), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.module()(t).numpy(), a.numpy(Z), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_numpy_derivative_is_the_derivative(name):
    """φ' against torch's autograd of the torch φ (away from ReLU's kink at 0)."""
    a = ACTIVATIONS[name]
    z = Z[np.abs(Z) > 1e-9]
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    a.torch(t).sum().backward()
    np.testing.assert_allclose(a.numpy_derivative(z), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(st.floats(-6, 6), st.floats(1e-4, 1e-3))
@settings(max_examples=60, deadline=None)
def test_derivatives_match_finite_differences(z, h):
    for name, a in ACTIVATIONS.items():
        if name == "relu" and abs(z) < 2 * h:
            continue
        fd = (a.numpy(np.array(z + h)) - a.numpy(np.array(z - h))) / (2 * h)
        assert abs(fd - a.numpy_derivative(np.array(z))) < 1e-5 * (1 + abs(fd)), name


def test_known_values():
    """A wrong sign or factor in any entry changes one of these."""
    assert ACTIVATIONS["gelu"].numpy(np.array(1.0)) == pytest.approx(0.8413447460685429)
    assert ACTIVATIONS["silu"].numpy(np.array(1.0)) == pytest.approx(0.7310585786300049)
    assert ACTIVATIONS["erf"].numpy_derivative(np.array(0.0)) == pytest.approx(2 / np.sqrt(np.pi))
    assert ACTIVATIONS["quadratic"].numpy_derivative(np.array(-1.5)) == pytest.approx(-3.0)
    assert ACTIVATIONS["relu"].numpy(np.array(-2.0)) == 0.0


def test_names_aliases_and_errors():
    assert activation_name(" ReLU ") == "relu"
    assert activation_name("identity") == "linear"
    assert isinstance(activation_module("identity"), torch.nn.Identity)
    assert isinstance(activation_module("quadratic"), activations.Square)
    m = torch.nn.Tanh()
    assert activation_module(m) is m
    assert torch_activation(np.sin) is np.sin
    for bad in ("softplus", None, 3, torch.tensor(1.0)):
        with pytest.raises(ArgumentError, match="activation"):
            torch_activation(bad)
        with pytest.raises(ArgumentError, match="activation"):
            activation_module(bad)


def test_the_three_views_are_the_table():
    """models.mlp, ensemble.layers and theory.kernels read the same table (no second list to drift)."""
    from course_utils.ensemble.layers import make_activation
    from course_utils.models.mlp import TORCH_ACTIVATIONS
    from course_utils.theory.kernels import ACTIVATIONS as NUMPY_ACTIVATIONS
    assert set(TORCH_ACTIVATIONS) == set(NUMPY_ACTIVATIONS) == set(ACTIVATIONS)
    for name, a in ACTIVATIONS.items():
        assert TORCH_ACTIVATIONS[name] is a.torch
        assert NUMPY_ACTIVATIONS[name] == (a.numpy, a.numpy_derivative)
        assert type(make_activation(name)) is a.module
