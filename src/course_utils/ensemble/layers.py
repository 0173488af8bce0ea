"""Layers whose parameters carry a leading *member* axis: K models evaluated as one batched matmul.

A :class:`BatchedLinear` holds K weight matrices stacked as a ``(K, in, out)`` tensor and computes
``y_k = x_k W_k + b_k`` for every member k with one call to ``torch.baddbmm``. A
:class:`BatchedMLP` is a stack of them with an elementwise activation in between; its member k is
exactly the single network :func:`mlp` builds with member k's seed and initialisation scale, and
:meth:`BatchedMLP.member` hands it back as a plain ``nn.Sequential``.

Used by the width / init-scale sweeps (wide networks, lazy vs rich) and, through
:mod:`course_utils.models.grokking`, by the grokking phase diagrams.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .. import validate
from ..activations import Square, activation_module
from ..models.mlp import MLP, PARAMETERIZATIONS, layer_multipliers

__all__ = ["per_member", "Square", "make_activation", "mlp", "BatchedLinear", "BatchedMLP"]


def per_member(value, n_members: int, name: str, *, dtype=torch.float64,
               device=None) -> torch.Tensor:
    """Turn a hyperparameter into a ``(n_members,)`` tensor: a scalar is repeated for every member.

    ``value`` may be a number, a sequence, a NumPy array or a tensor with one entry per member.
    Raises ``ValueError`` (naming ``name``) for a wrong length or a non-finite entry.
    """
    n_members = validate.positive_int("n_members", n_members)
    if device is not None:
        device = validate.device("device", device)
    if value is None or isinstance(value, (str, bytes)) or callable(value):
        raise validate.ArgumentError(f"{name} must be a number or one number per member, got {validate.show(value)}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise validate.ArgumentError(f"dtype must be a floating torch dtype such as torch.float64, "
                                     f"got {validate.show(dtype)}")
    try:
        arr = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value, dtype=float)
    except (TypeError, ValueError):
        raise validate.ArgumentError(f"{name} must be a number or one number per member, "
                                     f"got {validate.show(value)}") from None
    t = torch.tensor(arr, dtype=dtype)          # a copy: the optimiser changes it in place (a diverged member's lr → 0)
    if t.dim() == 0:
        t = t.repeat(n_members)
    if t.shape != (n_members,):
        raise ValueError(f"{name} must be a number or have one entry per member ({n_members}), "
                         f"got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite, got {t.tolist()}")
    return t.to(device)


def make_activation(activation) -> nn.Module:
    """An activation module from its name in :data:`course_utils.activations.ACTIVATIONS` (tanh, relu, gelu,
    quadratic, linear or identity, …) or a module (passed through)."""
    return activation_module(activation, "activation")


def _check_sizes(sizes) -> list[int]:
    if sizes is None or isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise validate.ArgumentError(f"sizes must be a list of layer widths such as [3, 5, 1], "
                                     f"got {validate.show(sizes)}")
    sizes = [validate.integer(f"sizes[{i}]", s) for i, s in enumerate(sizes)]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least an input and an output size, all ≥ 1, got {sizes}")
    return sizes


def mlp(sizes: Sequence[int], activation="tanh", *, bias: bool = True, init: str = "uniform",
        init_scale: float = 1.0, seed: int | None = 0,
        generator: torch.Generator | None = None) -> nn.Sequential:
    """A single multilayer perceptron ``Linear(sizes[0], sizes[1]) → σ → … → Linear(sizes[-2], sizes[-1])``.

    Initialisation, drawn layer by layer (weight, then bias) from ``generator`` (or a fresh one
    seeded with ``seed``), never from the global random state:

    - ``init="uniform"``: W, b ~ U(−1/√fan_in, 1/√fan_in), PyTorch's default for ``nn.Linear``;
    - ``init="normal"``:  W ~ N(0, 1/fan_in), b = 0 (the standard parameterisation).

    Every weight and bias is then multiplied by ``init_scale`` (the "α" of lazy vs rich learning
    and of the grokking papers). This is member k of :class:`BatchedMLP` with ``seeds[k]``.
    """
    sizes = _check_sizes(sizes)
    if init not in ("uniform", "normal"):
        raise ValueError(f"init must be 'uniform' or 'normal', got {init!r}")
    if generator is None:
        if seed is None:
            raise ValueError("give a seed or a generator")
        generator = torch.Generator().manual_seed(validate.integer("seed", seed))
    validate.real("init_scale", init_scale)
    layers: list[nn.Module] = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(fan_in, fan_out, bias=bias)
        with torch.no_grad():
            bound = fan_in ** -0.5
            if init == "uniform":
                lin.weight.copy_((torch.rand(fan_out, fan_in, generator=generator) * 2 - 1) * bound)
                if bias:
                    lin.bias.copy_((torch.rand(fan_out, generator=generator) * 2 - 1) * bound)
            else:
                lin.weight.copy_(torch.randn(fan_out, fan_in, generator=generator) * bound)
                if bias:
                    lin.bias.zero_()
            for p in lin.parameters():
                p.mul_(init_scale)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(make_activation(activation))
    return nn.Sequential(*layers)


def _is_index(k, n: int) -> bool:
    """Whether ``k`` is a whole number in [0, n) (an int, a NumPy or 0-d torch integer, or 2.0)."""
    try:
        return 0 <= validate.integer("k", k) < n
    except validate.ArgumentError:
        return False


def _check_modules(name: str, value, kind: type | tuple[type, ...]) -> None:
    """Refuse anything but a list/tuple of ``kind`` modules (a string, None, a number)."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(m, kind) for m in value):
        kinds = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise validate.ArgumentError(f"{name} must be a list of torch.nn.{kinds} modules, "
                                     f"got {validate.show(value)}")


class BatchedLinear(nn.Module):
    """K independent affine maps ``y_k = x_k W_k + b_k``, computed with one batched matmul.

    ``weight`` has shape ``(K, in, out)`` (note: transposed with respect to ``nn.Linear``, so
    that the forward pass is ``x @ W``), ``bias`` has shape ``(K, 1, out)``. The input is either
    ``(K, N, in)`` (one batch per member) or ``(N, in)`` (the same batch for every member).
    Parameters are NaN until filled with :meth:`load_linears`. ``weight_multiplier`` s_w and
    ``bias_multiplier`` s_b make the forward pass ``y_k = s_w x_k W_k + s_b b_k`` (the NTK and
    mean-field parameterisations, :func:`course_utils.models.mlp.layer_multipliers`); both are 1 by default.
    """

    def __init__(self, n_members: int, in_features: int, out_features: int, bias: bool = True, *,
                 weight_multiplier: float = 1.0, bias_multiplier: float = 1.0):
        super().__init__()
        self.weight_multiplier = validate.real("weight_multiplier", weight_multiplier)
        self.bias_multiplier = validate.real("bias_multiplier", bias_multiplier)
        n_members = validate.positive_int("n_members", n_members)
        in_features = validate.positive_int("in_features", in_features)
        out_features = validate.positive_int("out_features", out_features)
        self.n_members, self.in_features, self.out_features = n_members, in_features, out_features
        # NaN until loaded, so that a forgotten load_linears shows at once (and training stops with
        # TrainingDiverged) instead of computing with whatever memory torch.empty held
        self.weight = nn.Parameter(torch.full((n_members, in_features, out_features), math.nan))
        self.bias = nn.Parameter(torch.full((n_members, 1, out_features), math.nan)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """y_k = x_k W_k + b_k for every member k, shape (K, N, out)."""
        if not isinstance(x, torch.Tensor) or (x.dtype != self.weight.dtype and x.is_floating_point()):
            x = validate.tensor("x", x, dtype=self.weight.dtype, finite=False)
        if x.dim() == 2:                       # one batch shared by all members
            x = x.expand(self.n_members, *x.shape)
        if x.dim() != 3 or x.shape[0] != self.n_members or x.shape[2] != self.in_features:
            raise ValueError(f"input must have shape (N, {self.in_features}) or "
                             f"({self.n_members}, N, {self.in_features}), got x of shape {tuple(x.shape)}")
        if self.bias is None:
            return self.weight_multiplier * torch.bmm(x, self.weight)
        return torch.baddbmm(self.bias, x, self.weight, beta=self.bias_multiplier, alpha=self.weight_multiplier)

    @torch.no_grad()
    def load_linears(self, linears: Sequence[nn.Linear]) -> None:
        """Copy K single ``nn.Linear`` layers into the members (member k ← ``linears[k]``)."""
        _check_modules("linears", linears, nn.Linear)
        if len(linears) != self.n_members:
            raise ValueError(f"linears: need {self.n_members} layers, got {len(linears)}")
        self.weight.copy_(torch.stack([lin.weight.detach().T for lin in linears]))
        if self.bias is not None:
            self.bias.copy_(torch.stack([lin.bias.detach()[None] for lin in linears]))

    @torch.no_grad()
    def linear(self, k: int) -> nn.Linear:
        """Member k as a plain ``nn.Linear`` (a copy, on the same device)."""
        k = validate.integer("k", k, low=0, high=self.n_members - 1)
        lin = nn.Linear(self.in_features, self.out_features, bias=self.bias is not None,
                        device=self.weight.device, dtype=self.weight.dtype)
        lin.weight.copy_(self.weight[k].T)
        if self.bias is not None:
            lin.bias.copy_(self.bias[k, 0])
        return lin

    def extra_repr(self) -> str:
        multipliers = ("" if self.weight_multiplier == self.bias_multiplier == 1 else
                       f", weight_multiplier={self.weight_multiplier:.4g}, bias_multiplier={self.bias_multiplier:.4g}")
        return (f"n_members={self.n_members}, in_features={self.in_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}{multipliers}")


class BatchedMLP(nn.Module):
    """K multilayer perceptrons of the same shape, trained as one.

    The parameterisation is an argument, as for the single network
    :class:`course_utils.models.mlp.MLP`: ``parameterization`` is "standard", "ntk" or "mean_field"
    (the multipliers of :func:`course_utils.models.mlp.layer_multipliers`, with ``sigma_w``, ``sigma_b``;
    σ_w = √2, σ_b = 0 unless given). The initialisation ``init``:

    - "uniform" / "normal" (standard parameterisation only): member k is ``mlp(sizes, seed=seeds[k], …)``,
      PyTorch's default uniform init or N(0, 1/fan_in) weights with zero biases;
    - "gaussian": member k is ``MLP(…, parameterization, sigma_w, sigma_b, generator seeded seeds[k])``, the
      course's Gaussian init (every hidden layer must have the same width);
    - "auto" (the default): "uniform" in the standard parameterisation, "gaussian" in the others;
    - ``None`` leaves the parameters NaN, to be filled with :meth:`load_members`.

    Every weight and bias of member k is then multiplied by its ``init_scale`` (a number or one per
    member); ``seeds`` defaults to ``0, 1, …, K−1``. ``dtype`` (default: torch's default) is the
    parameters' dtype; the "gaussian" init draws in it, as ``MLP(…, dtype=dtype)`` does. ``forward(x)`` takes ``(N, sizes[0])`` (shared)
    or ``(K, N, sizes[0])`` and returns ``(K, N, sizes[-1])``. :meth:`member` returns member k as a
    single network (an ``MLP`` for the "gaussian" init, else an ``nn.Sequential``);
    :meth:`from_members` stacks single networks (``nn.Sequential`` or ``MLP``) into one ensemble.
    """

    def __init__(self, n_members: int, sizes: Sequence[int], activation="tanh", *,
                 bias: bool = True, init: str | None = "auto", init_scale=1.0,
                 seeds: Sequence[int] | None = None, parameterization: str = "standard",
                 sigma_w: float | None = None, sigma_b: float | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        dtype = validate.float_dtype("dtype", dtype) or torch.get_default_dtype()
        sizes = _check_sizes(sizes)
        n_members = validate.positive_int("n_members", n_members)
        if seeds is not None and (isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__")):
            raise validate.ArgumentError(f"seeds must be a list of integers, one per member, got {validate.show(seeds)}")
        seeds = list(range(n_members)) if seeds is None else [validate.integer(f"seeds[{i}]", s) for i, s in enumerate(seeds)]
        if len(seeds) != n_members:
            raise ValueError(f"seeds: need one seed per member ({n_members}), got {len(seeds)}")
        parameterization = validate.choice("parameterization", parameterization, PARAMETERIZATIONS)
        if init == "auto":
            init = "uniform" if parameterization == "standard" else "gaussian"
        if init not in ("uniform", "normal", "gaussian", None):
            raise ValueError(f"init must be 'auto', 'uniform', 'normal', 'gaussian' or None, got {init!r}")
        if init in ("uniform", "normal") and (parameterization != "standard" or sigma_w is not None
                                              or sigma_b is not None):
            raise validate.ArgumentError(
                f"init={init!r} is PyTorch-style and belongs to the standard parameterisation without sigma_w, "
                f"sigma_b; for parameterization={parameterization!r} or a given σ_w, σ_b use init='gaussian'")
        sigma_w = math.sqrt(2.0) if sigma_w is None else validate.positive("sigma_w", sigma_w)
        sigma_b = 0.0 if sigma_b is None else validate.nonnegative("sigma_b", sigma_b)
        if init == "gaussian" and (len(set(sizes[1:-1])) > 1 or not bias):
            raise validate.ArgumentError(f"init='gaussian' builds members as models.mlp.MLP, which has biases and "
                                         f"hidden layers of one width; got sizes {sizes}, bias={bias}")
        scales = per_member(init_scale, n_members, "init_scale")
        self.n_members, self.sizes, self.bias, self.init = n_members, sizes, bias, init
        self.activation = activation
        self.parameterization, self.sigma_w, self.sigma_b = parameterization, float(sigma_w), float(sigma_b)
        self.layers = nn.ModuleList(
            BatchedLinear(n_members, a, b, bias, **dict(zip(
                ("weight_multiplier", "bias_multiplier"),
                layer_multipliers(parameterization, a, sigma_w, sigma_b, last=i == len(sizes) - 2))))
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])))
        self.act = make_activation(activation)
        self.to(dtype)          # before loading the members, so that float64 draws are copied exactly
        if init == "gaussian":
            self.load_members([self._single_mlp(s, dtype) for s in seeds])
            with torch.no_grad():
                for p in self.parameters():
                    p.mul_(scales.to(p.dtype).view(-1, 1, 1))
        elif init is not None:
            self.load_members([mlp(sizes, activation, bias=bias, init=init, init_scale=float(c), seed=s)
                               for s, c in zip(seeds, scales)])

    def _single_mlp(self, seed: int, dtype: torch.dtype) -> MLP:
        """The single :class:`~course_utils.models.mlp.MLP` of this ensemble's shape and parameterisation, drawn
        from ``seed``: member k of the "gaussian" init is this network with ``seeds[k]``."""
        depth = len(self.sizes) - 2
        return MLP(self.sizes[0], self.sizes[1] if depth else 1, depth, self.sizes[-1], activation=self.activation,
                   sigma_w=self.sigma_w, sigma_b=self.sigma_b, parameterization=self.parameterization,
                   generator=torch.Generator().manual_seed(seed), dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers[-1](self.features(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The activations of the last hidden layer, h = φ(W_{L−1} ⋯ φ(W_1 x + b_1) ⋯ + b_{L−1}), shape
        (K, N, sizes[-2]); the output is ``self.layers[-1](h)``. With no hidden layer, the input itself."""
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return x

    def _linears(self, model: nn.Sequential | MLP) -> list[nn.Linear]:
        linears = list(model.layers) if isinstance(model, MLP) else [m for m in model if isinstance(m, nn.Linear)]
        shapes = [(lin.in_features, lin.out_features) for lin in linears]
        if shapes != list(zip(self.sizes[:-1], self.sizes[1:])):
            raise ValueError(f"a member has layers {shapes}, expected sizes {self.sizes}")
        return linears

    @torch.no_grad()
    def load_members(self, models: Sequence[nn.Sequential | MLP]) -> None:
        """Copy K single networks (as made by :func:`mlp`, or :class:`~course_utils.models.mlp.MLP`s of this
        ensemble's parameterisation, σ_w and σ_b) into the members."""
        _check_modules("models", models, (nn.Sequential, MLP))
        for m in models:
            if isinstance(m, MLP) and (m.parameterization != self.parameterization or (
                    self.parameterization != "standard" and (m.sigma_w, m.sigma_b) != (self.sigma_w, self.sigma_b))):
                raise validate.ArgumentError(
                    f"models: an MLP with parameterization={m.parameterization!r}, σ_w={m.sigma_w:.4g}, "
                    f"σ_b={m.sigma_b:.4g} cannot be a member of an ensemble with {self.parameterization!r}, "
                    f"σ_w={self.sigma_w:.4g}, σ_b={self.sigma_b:.4g}")
        if len(models) != self.n_members:
            raise ValueError(f"models: need {self.n_members} networks, got {len(models)}")
        linears = [self._linears(m) for m in models]
        for i, layer in enumerate(self.layers):
            layer.load_linears([lins[i] for lins in linears])

    @classmethod
    def from_members(cls, models: Sequence[nn.Sequential | MLP], activation="tanh") -> BatchedMLP:
        """Stack single networks of the same shape: ``nn.Sequential`` of ``nn.Linear`` and activations (with
        the given ``activation``), or :class:`~course_utils.models.mlp.MLP` networks of one parameterisation (their
        own activation, σ_w and σ_b); member k follows ``models[k]`` exactly. Always a plain ``BatchedMLP``."""
        _check_modules("models", models, (nn.Sequential, MLP))
        if not models:
            raise ValueError("models: need at least one network")
        first = models[0]
        if isinstance(first, MLP):
            if not all(isinstance(m, MLP) and (m.parameterization, m.activation, m.sigma_w, m.sigma_b)
                       == (first.parameterization, first.activation, first.sigma_w, first.sigma_b) for m in models):
                raise validate.ArgumentError("models: the MLPs must share parameterization, activation, sigma_w "
                                             "and sigma_b to be stacked")
            linears = list(first.layers)
            sizes = [linears[0].in_features] + [lin.out_features for lin in linears]
            batched = BatchedMLP(len(models), sizes, first.activation, init=None,
                                 parameterization=first.parameterization, sigma_w=first.sigma_w, sigma_b=first.sigma_b)
            batched.init = "gaussian"
        else:
            linears = [m for m in first if isinstance(m, nn.Linear)]
            sizes = [linears[0].in_features] + [lin.out_features for lin in linears]
            batched = BatchedMLP(len(models), sizes, activation, bias=linears[0].bias is not None, init=None)
        # the members' dtype and device before copying, so that float64 members stay exact
        batched.to(device=linears[0].weight.device, dtype=linears[0].weight.dtype)
        batched.load_members(models)
        return batched

    def member(self, k: int) -> nn.Sequential | MLP:
        """Member k as a single network (a copy): an :class:`~course_utils.models.mlp.MLP` for the "gaussian"
        init (or any but the standard parameterisation), else an ``nn.Sequential``."""
        if not _is_index(k, self.n_members):
            raise ValueError(f"member index must be in [0, {self.n_members}), got k = {validate.show(k)}")
        k = int(k)
        if self.init == "gaussian" or self.parameterization != "standard":
            first = self.layers[0].weight
            net = self._single_mlp(0, first.dtype).to(first.device)          # its draw is overwritten below
            with torch.no_grad():
                for single, layer in zip(net.layers, self.layers):
                    lin = layer.linear(k)
                    single.weight.copy_(lin.weight)
                    single.bias.copy_(lin.bias)
            return net
        layers: list[nn.Module] = []
        for i, layer in enumerate(self.layers):
            layers.append(layer.linear(k))
            if i < len(self.layers) - 1:
                layers.append(make_activation(self.activation))
        return nn.Sequential(*layers)
