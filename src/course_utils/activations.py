"""The activation functions φ of the course, in one table: torch for the networks, NumPy for the theory.

Every entry of :data:`ACTIVATIONS` carries the same φ three ways:

- ``torch``: the function the networks apply (:class:`course_utils.models.mlp.MLP`,
  :class:`course_utils.ensemble.BatchedMLP`, :func:`course_utils.models.mlp.random_mlp_outputs`);
- ``module``: the ``nn.Module`` class that applies it inside an ``nn.Sequential`` (``nn.ReLU``, …);
- ``numpy`` and ``numpy_derivative``: φ and φ' on float64 arrays, for the Gaussian integrals of the
  infinite-width kernels (:mod:`course_utils.theory.kernels`).

So a network and its kernel theory cannot disagree about what "erf" or "silu" means. The table:

    relu       φ(z) = max(z, 0)                φ'(z) = 1[z > 0]
    erf        φ(z) = erf(z)                    φ'(z) = (2/√π) e^{−z²}
    tanh       φ(z) = tanh z                    φ'(z) = 1 − tanh² z
    silu       φ(z) = z σ(z)                    φ'(z) = σ(z) (1 + z (1 − σ(z))),  σ the logistic function
    gelu       φ(z) = z Φ(z)                    φ'(z) = Φ(z) + z e^{−z²/2}/√(2π),  Φ the normal CDF
    quadratic  φ(z) = z²                        φ'(z) = 2z   (modular addition, the grokking chapters)
    linear     φ(z) = z                         φ'(z) = 1    ("identity" is another name for it)

Names are looked up in any case, with surrounding spaces ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from scipy.special import erf, expit, ndtr
from torch import nn

from . import validate
from .validate import ArgumentError

__all__ = ["Activation", "ACTIVATIONS", "Erf", "Square", "activation_name", "torch_activation", "activation_module"]


class Square(nn.Module):
    """The quadratic activation σ(z) = z² (used for modular addition)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor):
            z = validate.tensor("z", z, finite=False)
        return z * z


class Erf(nn.Module):
    """The activation σ(z) = erf(z) as a module (torch has none)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor):
            z = validate.tensor("z", z, finite=False)
        return torch.erf(z)


class Activation(NamedTuple):
    """One activation φ: torch function, ``nn.Module`` class, NumPy φ and NumPy φ'."""

    torch: Callable[[torch.Tensor], torch.Tensor]
    module: type[nn.Module]
    numpy: Callable[[np.ndarray], np.ndarray]
    numpy_derivative: Callable[[np.ndarray], np.ndarray]


def _identity(x):
    return x


def _silu(x):
    return x * expit(x)


def _dsilu(x):
    s = expit(x)
    return s * (1 + x * (1 - s))


def _gelu(x):
    return x * ndtr(x)


def _dgelu(x):
    return ndtr(x) + x * np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi)


#: name → :class:`Activation`. "relu", "erf" and "linear" have closed-form kernels; the others use quadrature.
ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(torch.relu, nn.ReLU, lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "erf": Activation(torch.erf, Erf, erf, lambda x: 2 / np.sqrt(np.pi) * np.exp(-x ** 2)),
    "tanh": Activation(torch.tanh, nn.Tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "silu": Activation(nn.functional.silu, nn.SiLU, _silu, _dsilu),
    "gelu": Activation(nn.functional.gelu, nn.GELU, _gelu, _dgelu),
    "quadratic": Activation(lambda x: x * x, Square, lambda x: x * x, lambda x: 2 * x),
    "linear": Activation(_identity, nn.Identity, _identity, np.ones_like),
}
_ALIASES = {"identity": "linear"}


def activation_name(name: str, argument: str = "name") -> str:
    """The key of :data:`ACTIVATIONS` for ``name`` (any case; "identity" → "linear").

    Raises ``ValueError`` naming ``argument`` (the caller's argument name) and listing the known names for
    anything else."""
    if isinstance(name, str):
        key = name.strip().lower()
        key = _ALIASES.get(key, key)
        if key in ACTIVATIONS:
            return key
    raise ArgumentError(f"{argument}: unknown activation {validate.show(name)}; choose one of "
                        f"{sorted(ACTIVATIONS) + sorted(_ALIASES)}")


def torch_activation(name: str | Callable, argument: str = "name") -> Callable:
    """The torch function φ for an activation name (a callable, e.g. your own φ, passes through)."""
    if callable(name) and not isinstance(name, (torch.Tensor, type)):
        return name
    if not isinstance(name, str):
        raise ArgumentError(f"{argument}: unknown activation {validate.show(name)}; choose one of "
                            f"{sorted(ACTIVATIONS)} or pass a function")
    return ACTIVATIONS[activation_name(name, argument)].torch


def activation_module(name: str | nn.Module, argument: str = "name") -> nn.Module:
    """A fresh ``nn.Module`` applying the activation ``name`` (an ``nn.Module`` passes through)."""
    if isinstance(name, nn.Module):
        return name
    return ACTIVATIONS[activation_name(name, argument)].module()
