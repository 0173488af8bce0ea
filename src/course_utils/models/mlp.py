"""Fully connected networks with a settable initialisation scale and parameterisation.

Used by the chapters "Networks at initialisation: the Gaussian-process limit" and "Training in
the infinite-width limit: the neural tangent kernel" (and the feature-learning chapters).

A network with ``depth`` = L hidden layers of ``width`` n maps x ∈ R^d to

    f⁰ = b⁰ + W⁰ x,   fˡ = bˡ + Wˡ φ(fˡ⁻¹)  (ℓ = 1 … L),   output fᴸ,

with, at initialisation, Wˡ_ij ~ N(0, σ_w²/fan_in) and bˡ_i ~ N(0, σ_b²). Three ways to write it
(``parameterization``; the multipliers are :func:`layer_multipliers`):

- **standard**: the parameters are W and b themselves (PyTorch's usual convention);
- **NTK** (Jacot et al. 2018): W = σ_w V/√fan_in and b = σ_b β with V, β ~ N(0, 1), and the
  trained parameters are V and β;
- **mean field**: as NTK in the hidden layers, but the output layer is W = σ_w V/fan_in, an average
  over the units (so the output starts at O(1/√n) and the features must move to fit).

The first two give the same random function at initialisation (the same NNGP), but different
gradients: in the NTK parameterisation the tangent kernel has a finite limit as n → ∞; in the
standard one it grows like n, so the learning rate must shrink like 1/n.

The batched version, K of these networks trained as one, is :class:`course_utils.ensemble.BatchedMLP`
with the same ``parameterization``, ``sigma_w``, ``sigma_b`` and ``init="gaussian"``: its member k is
the ``MLP`` drawn from seed k, and :meth:`~course_utils.ensemble.BatchedMLP.member` hands it back.

:func:`random_mlp_outputs` draws many random networks at once, as batched tensors, for the
experiments that need thousands of networks (output covariances, kurtosis, signal propagation).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .. import validate
from ..activations import ACTIVATIONS
from ..activations import torch_activation as _torch_activation
from ..validate import ArgumentError
from ..validate import flag, float_dtype, model_input, torch_generator

__all__ = ["TORCH_ACTIVATIONS", "torch_activation", "PARAMETERIZATIONS", "layer_multipliers", "initial_stds", "MLP",
           "random_mlp_outputs"]

#: name → torch function, a view of the one table :data:`course_utils.activations.ACTIVATIONS`.
TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    name: a.torch for name, a in ACTIVATIONS.items()}

PARAMETERIZATIONS = ("standard", "ntk", "mean_field")


def layer_multipliers(parameterization: str, fan_in: int, sigma_w: float, sigma_b: float, *,
                      last: bool = False) -> tuple[float, float]:
    """(s_w, s_b) in a layer's forward pass z = s_w W h + s_b b, for each parameterisation:

        standard    s_w = 1,               s_b = 1    (σ_w, σ_b are in the initial W, b instead)
        ntk         s_w = σ_w/√fan_in,     s_b = σ_b
        mean_field  as ntk, but the last layer has s_w = σ_w/fan_in (the output is an average over units)

    Used by :class:`MLP` and by every layer of :class:`course_utils.ensemble.BatchedMLP`."""
    parameterization = validate.choice("parameterization", parameterization, PARAMETERIZATIONS)
    fan_in = validate.positive_int("fan_in", fan_in)
    sigma_w, sigma_b = validate.positive("sigma_w", sigma_w), validate.nonnegative("sigma_b", sigma_b)
    if parameterization == "standard":
        return 1.0, 1.0
    if parameterization == "mean_field" and validate.flag("last", last):
        return float(sigma_w) / fan_in, float(sigma_b)
    return float(sigma_w) / math.sqrt(fan_in), float(sigma_b)


def initial_stds(parameterization: str, fan_in: int, sigma_w: float, sigma_b: float) -> tuple[float, float]:
    """The standard deviations (of W, of b) the trained parameters are drawn with: (σ_w/√fan_in, σ_b) in the
    standard parameterisation, (1, 1) in the NTK and mean-field ones (their σ's are multipliers instead)."""
    parameterization = validate.choice("parameterization", parameterization, PARAMETERIZATIONS)
    fan_in = validate.positive_int("fan_in", fan_in)
    sigma_w, sigma_b = validate.positive("sigma_w", sigma_w), validate.nonnegative("sigma_b", sigma_b)
    if parameterization == "standard":
        return float(sigma_w) / math.sqrt(fan_in), float(sigma_b)
    return 1.0, 1.0


def torch_activation(name: str | Callable) -> Callable:
    """Return the torch function for an activation name (any case; a callable passes through)."""
    return _torch_activation(name, "name")


def _check(d_in, width, depth, d_out, sigma_w, sigma_b) -> tuple[int, int, int, int]:
    """Sizes as ints (d_in, width, depth, d_out); σ_w > 0 and σ_b ≥ 0 finite."""
    d_in, width, d_out = (validate.positive_int(name, v) for name, v in
                          (("d_in", d_in), ("width", width), ("d_out", d_out)))
    depth = validate.nonnegative_int("depth (the number of hidden layers)", depth)
    validate.positive("sigma_w", sigma_w)
    validate.nonnegative("sigma_b", sigma_b)
    return d_in, width, depth, d_out


class MLP(nn.Module):
    """A fully connected network with ``depth`` hidden layers of ``width`` units.

    ``sigma_w``, ``sigma_b`` are the standard deviations σ_w, σ_b (weights have variance
    σ_w²/fan_in at initialisation, biases σ_b²). ``parameterization`` is "ntk", "standard" or "mean_field"
    (see the module docstring). ``layers[l].weight`` holds the trained parameter of layer l,
    of shape (fan_out, fan_in). ``generator`` makes the initialisation reproducible; ``dtype``
    defaults to torch's default dtype.
    """

    def __init__(self, d_in: int, width: int, depth: int, d_out: int = 1, *, activation: str | Callable = "relu",
                 sigma_w: float = math.sqrt(2.0), sigma_b: float = 0.0, parameterization: str = "ntk",
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        d_in, width, depth, d_out = _check(d_in, width, depth, d_out, sigma_w, sigma_b)
        parameterization = validate.choice("parameterization", parameterization, PARAMETERIZATIONS)
        generator = torch_generator("generator", generator)
        dtype = float_dtype("dtype", dtype)
        _torch_activation(activation, "activation")
        self.d_in, self.width, self.depth, self.d_out = d_in, width, depth, d_out
        self.sigma_w, self.sigma_b = float(sigma_w), float(sigma_b)
        self.parameterization = parameterization
        self.activation = activation
        self.phi = torch_activation(activation)
        sizes = [d_in] + [width] * depth + [d_out]
        self.layers = nn.ModuleList(nn.Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:]))
        self._multipliers = [self.scales(a, last=i == len(sizes) - 2) for i, a in enumerate(sizes[:-1])]
        self.reset_parameters(generator)

    def scales(self, fan_in: int, last: bool = False) -> tuple[float, float]:
        """(weight multiplier, bias multiplier) the forward pass applies to a layer with ``fan_in`` inputs
        (``last``: the output layer): z = s_w W h + s_b b, see :func:`layer_multipliers`."""
        return layer_multipliers(self.parameterization, fan_in, self.sigma_w, self.sigma_b, last=last)

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Draw fresh parameters, layer by layer, weight then bias: N(0, 1) in the NTK and mean-field
        parameterisations, N(0, σ_w²/fan_in) and N(0, σ_b²) in the standard one (:func:`initial_stds`)."""
        generator = torch_generator("generator", generator)
        for layer in self.layers:
            w_std, b_std = initial_stds(self.parameterization, layer.in_features, self.sigma_w, self.sigma_b)
            layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=layer.weight.dtype) * w_std)
            layer.bias.copy_(torch.randn(layer.bias.shape, generator=generator, dtype=layer.bias.dtype) * b_std)

    def forward(self, x: torch.Tensor, return_preactivations: bool = False):
        """The output fᴸ(x), shape (batch, d_out); with ``return_preactivations`` also [f⁰, …, fᴸ].

        NumPy inputs, lists and inputs of another dtype are converted to the network's dtype and device.
        """
        weight = self.layers[0].weight
        return_preactivations = validate.flag("return_preactivations", return_preactivations)
        x = model_input("x", x, weight.dtype, weight.device)
        if x.dim() == 0 or x.shape[-1] != self.d_in:
            raise ArgumentError(f"x (the inputs) must have {self.d_in} features in the last dimension, got shape "
                                f"{tuple(x.shape)}")
        pre = []
        h = x
        for i, layer in enumerate(self.layers):
            sw, sb = self._multipliers[i]
            z = sw * (h @ layer.weight.T) + sb * layer.bias
            pre.append(z)
            h = self.phi(z) if i < len(self.layers) - 1 else z
        return (h, pre) if return_preactivations else h

    def extra_repr(self) -> str:
        return (f"d_in={self.d_in}, width={self.width}, depth={self.depth}, d_out={self.d_out}, "
                f"activation={self.activation!r}, sigma_w={self.sigma_w:.4g}, sigma_b={self.sigma_b:.4g}, "
                f"parameterization={self.parameterization!r}")


@torch.no_grad()
def random_mlp_outputs(X: torch.Tensor, n_networks: int, *, width: int, depth: int, d_out: int = 1,
                       activation: str | Callable = "relu", sigma_w: float = math.sqrt(2.0), sigma_b: float = 0.0,
                       generator: torch.Generator | None = None, chunk_size: int | None = None,
                       return_preactivations: bool = False, progress: bool = False):
    """The outputs of ``n_networks`` independent random networks on the same inputs, drawn as one batch.

    Each network is an :class:`MLP` at initialisation (weights N(0, σ_w²/fan_in), biases
    N(0, σ_b²)); all of them are evaluated at the rows of ``X`` (shape (N, d)) with batched
    matrix products: the weights of a layer of all networks form one tensor of shape
    (networks, fan_out, fan_in). Networks are drawn ``chunk_size`` at a time to bound the memory
    (by default so that one chunk's weights take about 64 MB).

    Returns a tensor of shape (n_networks, N, d_out); with ``return_preactivations`` a list with
    one (n_networks, N, width) tensor per hidden layer is returned as well.
    """
    X = validate.tensor("X", X, ndim=2)
    if not X.is_floating_point():
        X = X.to(torch.get_default_dtype())
    n_networks = validate.positive_int("n_networks", n_networks)
    _, width, depth, d_out = _check(X.shape[1], width, depth, d_out, sigma_w, sigma_b)
    phi = _torch_activation(activation, "activation")
    generator = torch_generator("generator", generator)
    return_preactivations = flag("return_preactivations", return_preactivations)
    progress = flag("progress", progress)
    sizes = [X.shape[1]] + [width] * depth + [d_out]
    if chunk_size is not None:
        chunk_size = validate.positive_int("chunk_size", chunk_size)
    if chunk_size is None:
        per_net = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        chunk_size = max(1, min(n_networks, 16_000_000 // max(per_net, 1)))
    outs, pres = [], [[] for _ in range(depth)]
    starts = range(0, n_networks, chunk_size)
    if progress:
        from ..progress import progress as progress_bar
        starts = progress_bar(starts, desc="random networks")
    for start in starts:
        k = min(chunk_size, n_networks - start)
        h = X.T.unsqueeze(0).expand(k, -1, -1)  # (k, fan_in, N): columns are the inputs
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            W = torch.randn(k, b, a, generator=generator, dtype=X.dtype, device=X.device) * (sigma_w / math.sqrt(a))
            bias = torch.randn(k, b, 1, generator=generator, dtype=X.dtype, device=X.device) * sigma_b
            z = torch.baddbmm(bias, W, h)
            if i < depth:
                if return_preactivations:
                    pres[i].append(z.transpose(1, 2))
                h = phi(z)
        outs.append(z.transpose(1, 2))
    out = torch.cat(outs)
    if return_preactivations:
        return out, [torch.cat(p) for p in pres]
    return out
