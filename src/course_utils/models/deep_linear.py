"""Deep linear networks f(x) = W_L ⋯ W_2 W_1 x: linear as functions, non-linear in their weights.

* :class:`DeepLinearNetwork`  L weight matrices (no biases, no activations), a settable
  initialisation scale, an optional *balanced* initialisation, and optionally K independent
  members trained as one (a leading member axis on every weight, e.g. one member per init scale);
* :func:`end_to_end`          the product W_L ⋯ W_1 (batched over members);
* :func:`balanced_factors`    split a matrix A into L balanced factors, W_{l+1}ᵀW_{l+1} = W_l W_lᵀ;
* :func:`whitened_loss`       L = ½‖W_L⋯W_1 − M‖_F², the population loss on whitened inputs.

Conventions: ``depth`` is the number of weight matrices L (depth 1 is the linear model f = Wx);
``widths`` are the L − 1 hidden widths; W_l has shape (n_l, n_{l−1}) with n_0 = d_in, n_L = d_out.
Default initialisation: independent entries W_l,ij ~ N(0, init_scale² / n_{l−1}), so that
init_scale = 1 preserves the norm of a signal on average and init_scale → 0 is the small-
initialisation ("rich") limit. Used by the chapter "Layerwise dynamics: sigmoids, stages and
saddles" (book/04_feature_learning/01_layerwise_dynamics) and the neural-collapse chapter.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .. import validate
from ..validate import ArgumentError
from ..validate import flag, float_dtype, model_input, torch_generator

__all__ = ["DeepLinearNetwork", "end_to_end", "balanced_factors", "whitened_loss"]


def end_to_end(weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """The end-to-end map W = W_L ⋯ W_2 W_1 of a list ``[W_1, …, W_L]``.

    Each W_l has shape (n_l, n_{l−1}), or (K, n_l, n_{l−1}) for K members; the result is
    (d_out, d_in) or (K, d_out, d_in). Works on tensors and on NumPy arrays; if any weight is a
    tensor, the others are converted to the first tensor's dtype and device.
    """
    weights = _weight_list(weights)
    W = weights[0]
    for i, Wl in enumerate(weights[1:], start=2):
        if Wl.shape[-1] != W.shape[-2]:
            raise ArgumentError(f"weights: W_{i} has {Wl.shape[-1]} columns but W_{i - 1} has {W.shape[-2]} rows")
        W = Wl @ W
    return W


def _weight_list(weights) -> list:
    """The weight matrices [W_1, …, W_L] as a list of 2-d or 3-d arrays (all NumPy or all tensors of one dtype)."""
    if isinstance(weights, (torch.Tensor, np.ndarray, str, bytes, dict)) or not isinstance(weights, Sequence) \
            and not isinstance(weights, nn.ParameterList):
        raise ArgumentError(f"weights must be a list [W_1, …, W_L] of matrices, got {validate.show(weights)}")
    weights = list(weights)
    if len(weights) == 0:
        raise ArgumentError("weights is empty: end_to_end needs at least one weight matrix")
    first = next((W for W in weights if isinstance(W, torch.Tensor)), None)
    out = []
    for i, W in enumerate(weights, start=1):
        if first is None:
            W = validate.array(f"W_{i}", W, ndim=(2, 3), dtype=None, finite=False)
            if not np.issubdtype(W.dtype, np.number) or np.issubdtype(W.dtype, np.bool_):
                raise ArgumentError(f"W_{i} must hold numbers, got {validate.show(W)}")
        elif not (isinstance(W, torch.Tensor) and W.dtype == first.dtype and W.device == first.device):
            W = validate.tensor(f"W_{i}", W, dtype=first.dtype if first.is_floating_point() else None,
                                device_=first.device, finite=False)
        if W.ndim not in (2, 3):
            raise ArgumentError(f"W_{i} must be a matrix (n_l, n_(l-1)) or a stack (K, n_l, n_(l-1)), "
                                f"got shape {tuple(W.shape)}")
        out.append(W)
    return out


def whitened_loss(weights: Sequence[torch.Tensor], target_map: torch.Tensor) -> torch.Tensor:
    """L = ½‖W_L⋯W_1 − M‖_F²: the squared loss ½E‖y − f(x)‖² on whitened inputs (E xxᵀ = I)
    with targets y = Mx (up to a constant from label noise). With K members, the sum of the K
    members' losses (so that each member's gradient is its own)."""
    W = end_to_end(weights)
    if isinstance(W, torch.Tensor):
        if not (isinstance(target_map, torch.Tensor) and target_map.dtype == W.dtype and target_map.device == W.device):
            target_map = validate.tensor("target_map", target_map, dtype=W.dtype if W.is_floating_point() else None,
                                         device_=W.device, ndim=(2, 3))
    else:
        target_map = validate.array("target_map", target_map, ndim=(2, 3))
    if target_map.ndim not in (2, 3) or W.shape[-2:] != target_map.shape[-2:]:
        raise ArgumentError(f"the network (weights) maps R^{W.shape[-1]} → R^{W.shape[-2]} but target_map has "
                            f"shape {tuple(target_map.shape)}")
    return 0.5 * ((W - target_map) ** 2).sum()


def _random_orthonormal(n: int, r: int, generator, dtype) -> torch.Tensor:
    """An n × r matrix with orthonormal columns, Haar-distributed (QR of a Gaussian matrix)."""
    Q, R = torch.linalg.qr(torch.randn(n, r, generator=generator, dtype=dtype))
    return Q * torch.sign(torch.diagonal(R))


def balanced_factors(A, widths: Sequence[int] = (), generator: torch.Generator | None = None,
                     dtype: torch.dtype = torch.float64) -> list[torch.Tensor]:
    """Factors [W_1, …, W_L] with W_L⋯W_1 = A that are *balanced*: W_{l+1}ᵀW_{l+1} = W_l W_lᵀ.

    With the SVD A = U Σ Vᵀ of rank r: W_1 = Q_1 Σ^{1/L} Vᵀ, W_l = Q_l Σ^{1/L} Q_{l−1}ᵀ,
    W_L = U Σ^{1/L} Q_{L−1}ᵀ, where Q_l (n_l × r) has random orthonormal columns (the balanced
    initialisation of Arora, Cohen, Golowich & Hu 2019). Every hidden width must be at least r;
    L = len(widths) + 1. With A = U diag(u₀) Vᵀ this is the decoupled start of Saxe et al. (2014).
    A of shape (K, d_out, d_in) gives K members (factors of shape (K, n_l, n_{l−1})).
    """
    dtype = float_dtype("dtype", dtype, allow_none=False)
    generator = torch_generator("generator", generator)
    if isinstance(widths, (str, bytes, dict)) or not isinstance(widths, (Sequence, np.ndarray)):
        raise ArgumentError(f"widths must be a list of the L − 1 hidden widths, got {validate.show(widths)}")
    widths = [validate.positive_int(f"widths[{i}]", n) for i, n in enumerate(widths)]
    A = validate.tensor("A", A, dtype=dtype)
    if A.dim() == 3:
        per = [balanced_factors(a, widths, generator, dtype) for a in A]
        return [torch.stack([p[layer] for p in per]) for layer in range(len(widths) + 1)]
    if A.dim() != 2:
        raise ArgumentError(f"A must be a (d_out, d_in) matrix or a (K, d_out, d_in) stack, got shape {tuple(A.shape)}")
    U, S, Vh = torch.linalg.svd(A, full_matrices=False)
    r = S.shape[0]
    if any(int(n) < r for n in widths):
        raise ArgumentError(f"every hidden width must be ≥ min(d_out, d_in) = {r} for a balanced "
                         f"factorisation, got widths {list(widths)}")
    L = len(widths) + 1
    root = torch.diag(S ** (1.0 / L))
    Qs = [_random_orthonormal(int(n), r, generator, dtype) for n in widths]
    left = Qs + [U]
    right = [Vh.T] + Qs
    return [left[l] @ root @ right[l].T for l in range(L)]


class DeepLinearNetwork(nn.Module):
    """f(x) = W_L ⋯ W_1 x with trainable weights ``self.weights = [W_1, …, W_L]`` (an nn.ParameterList).

    Arguments:
        d_in, d_out: input and output dimensions.
        widths: the hidden width (an int, used for all L − 1 hidden layers) or a list of L − 1 widths.
        depth: the number L ≥ 1 of weight matrices.
        init_scale: W_l,ij ~ N(0, init_scale²/n_{l−1}); a number, or one value per member.
        balanced: if True, the weights are instead the balanced factors (:func:`balanced_factors`)
            of an end-to-end map drawn as init_scale^L · G/√d_in, G with N(0, 1) entries; then
            W_{l+1}ᵀW_{l+1} = W_l W_lᵀ holds exactly at initialisation.
        n_members: None for one network (W_l of shape (n_l, n_{l−1})); K for K independent networks
            stored with a leading member axis (W_l of shape (K, n_l, n_{l−1})), e.g. one per init scale.
        generator: a ``torch.Generator`` for reproducible initialisation.

    ``forward(x)`` takes x of shape (N, d_in) (or (K, N, d_in)) and returns (N, d_out) (or
    (K, N, d_out)). :meth:`end_to_end` returns the product map, detached.
    """

    def __init__(self, d_in: int, widths: int | Sequence[int], d_out: int, depth: int, init_scale=1.0,
                 balanced: bool = False, n_members: int | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64):
        super().__init__()
        depth = validate.positive_int("depth (the number of weight matrices)", depth)
        d_in, d_out = validate.positive_int("d_in", d_in), validate.positive_int("d_out", d_out)
        if isinstance(widths, (str, bytes, dict)) or widths is None or not (
                np.isscalar(widths) or isinstance(widths, (Sequence, np.ndarray))):
            raise ArgumentError(f"widths must be a hidden width (an int) or a list of {depth - 1} of them, "
                                f"got {validate.show(widths)}")
        widths = ([validate.positive_int("widths (the hidden width)", widths)] * (depth - 1) if np.isscalar(widths)
                  else [validate.integer(f"hidden widths[{i}]", n, low=1) for i, n in enumerate(widths)])
        if len(widths) != depth - 1:
            raise ArgumentError(f"a network of depth {depth} has {depth - 1} hidden widths, got {len(widths)}")
        if n_members is not None:
            n_members = validate.positive_int("n_members", n_members)
        balanced = flag("balanced", balanced)
        generator = torch_generator("generator", generator)
        dtype = float_dtype("dtype", dtype, allow_none=False)
        K = 1 if n_members is None else int(n_members)
        scales = validate.array("init_scale", init_scale, ndim=(0, 1)).reshape(-1)
        if scales.size == 1:
            scales = np.repeat(scales, K)
        if scales.size != K:
            raise ArgumentError(f"init_scale must be a number or have one value per member ({K}), got {scales.size}")
        if np.any(scales < 0):
            raise ArgumentError(f"init_scale must be finite and ≥ 0, got {scales.tolist()}")
        self.d_in, self.d_out, self.depth, self.widths = d_in, d_out, int(depth), widths
        self.n_members, self.balanced = n_members, balanced
        sizes = [d_in] + widths + [d_out]
        if balanced:
            A = torch.stack([float(c) ** depth * torch.randn(d_out, d_in, generator=generator, dtype=dtype)
                             / np.sqrt(d_in) for c in scales])
            Ws = balanced_factors(A, widths, generator, dtype)
        else:
            Ws = [torch.stack([float(c) * torch.randn(n_out, n_in, generator=generator, dtype=dtype) / np.sqrt(n_in)
                               for c in scales])
                  for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        if n_members is None:
            Ws = [W[0] for W in Ws]
        self.weights = nn.ParameterList(nn.Parameter(W.contiguous()) for W in Ws)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) = x W_1ᵀ ⋯ W_Lᵀ for x of shape (N, d_in) (or (K, N, d_in)).

        NumPy inputs and inputs of another dtype are converted to the weights' dtype and device.
        """
        W1 = self.weights[0]
        x = model_input("x", x, W1.dtype, W1.device)
        if x.dim() == 0 or x.shape[-1] != self.d_in:
            raise ArgumentError(f"x has {x.shape[-1] if x.dim() else 0} features but the network expects "
                                f"d_in = {self.d_in}")
        for W in self.weights:
            x = x @ W.transpose(-1, -2)
        return x

    @torch.no_grad()
    def end_to_end(self) -> torch.Tensor:
        """The product W_L ⋯ W_1 (detached): shape (d_out, d_in), or (K, d_out, d_in) for K members."""
        return end_to_end(list(self.weights)).clone()

    @torch.no_grad()
    def imbalance(self) -> list[torch.Tensor]:
        """The L − 1 matrices D_l = W_{l+1}ᵀW_{l+1} − W_l W_lᵀ, conserved by gradient flow on any
        loss of the end-to-end map (zero for a balanced network)."""
        W = list(self.weights)
        return [W[l + 1].transpose(-1, -2) @ W[l + 1] - W[l] @ W[l].transpose(-1, -2) for l in range(len(W) - 1)]

    def extra_repr(self) -> str:
        members = "" if self.n_members is None else f", n_members={self.n_members}"
        return (f"d_in={self.d_in}, widths={self.widths}, d_out={self.d_out}, depth={self.depth}, "
                f"balanced={self.balanced}{members}")
