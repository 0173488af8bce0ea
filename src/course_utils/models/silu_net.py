"""The one-hidden-layer SiLU network of the chapter "The loss as an action".

    f_α(z; θ) = Σ_β U_αβ σ(Σ_γ W_βγ z_γ + b_β),    σ(x) = SiLU(x) = x / (1 + e^(−x)),

with input z ∈ R^E, H hidden units and M outputs (one logit per class), parameters
θ = (U ∈ R^{M×H}, W ∈ R^{H×E}, b ∈ R^H). There is no output bias: at θ = 0 every logit is zero
and q = softmax(f) is uniform, the point the chapter expands the loss around.

Two faces of the same model:

- :func:`silu_net` is a pure function of a parameter dictionary ``{"U", "W", "b"}`` and the
  inputs, for ``torch.func`` (``grad``, ``hessian``, ``jvp``, ``jacfwd``) and for rays ``t·θ``;
- :class:`SiLUNet` is the same network as an ``nn.Module`` whose parameters have the same names,
  so ``dict(model.named_parameters())`` can be handed to :func:`silu_net` unchanged.

Used by book/02_action/01_loss_as_action.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import validate
from ..validate import ArgumentError
from ..validate import float_dtype, int_tensor, model_input, torch_generator

__all__ = ["PARAM_NAMES", "silu_net", "action", "init_params", "zeros_like_params",
           "flatten_params", "unflatten_params", "check_params", "SiLUNet"]

#: The parameter names, in the order used by :func:`flatten_params`.
PARAM_NAMES = ("U", "W", "b")


def check_params(params: dict, name: str = "params") -> None:
    """Raise a clear ``ValueError`` unless ``params`` is a dict of floating-point tensors U (M, H), W (H, E),
    b (H,) of one dtype, with the hidden width H the same in all three."""
    if not isinstance(params, dict):
        raise ArgumentError(f"{name} must be a dict with keys {PARAM_NAMES} (e.g. from init_params), "
                            f"got {validate.show(params)}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ArgumentError(f"{name} must be a dict with keys {PARAM_NAMES}; missing {missing}")
    for k in PARAM_NAMES:
        if not isinstance(params[k], torch.Tensor) or not params[k].is_floating_point():
            raise ArgumentError(f'{name}["{k}"] must be a floating-point tensor, got {validate.show(params[k])}')
    U, W, b = params["U"], params["W"], params["b"]
    if U.dim() != 2 or W.dim() != 2 or b.dim() != 1:
        raise ArgumentError(f"{name}: need U of shape (M, H), W of shape (H, E), b of shape (H,); got "
                         f"{tuple(U.shape)}, {tuple(W.shape)}, {tuple(b.shape)}")
    if U.shape[1] != W.shape[0] or W.shape[0] != b.shape[0]:
        raise ArgumentError(f"{name}: hidden widths disagree: U is {tuple(U.shape)}, W is {tuple(W.shape)}, "
                         f"b is {tuple(b.shape)} (need U: (M, H), W: (H, E), b: (H,))")
    if not U.dtype == W.dtype == b.dtype:
        raise ArgumentError(f"{name} must share one dtype, got U: {U.dtype}, W: {W.dtype}, b: {b.dtype}")


def silu_net(params: dict, z: torch.Tensor) -> torch.Tensor:
    """Logits f(z) = U σ(W z + b) for a batch z of shape (N, E); returns shape (N, M).

    ``params`` maps "U" (M, H), "W" (H, E) and "b" (H,) to tensors. Pure: usable inside
    ``torch.func`` transforms. ``z`` of another dtype (or a NumPy array) is converted to the
    parameters' dtype.
    """
    check_params(params)
    z = model_input("z", z, params["W"].dtype, params["W"].device)
    if z.dim() != 2 or z.shape[1] != params["W"].shape[1]:
        raise ArgumentError(f"z must have shape (N, E) with E = {params['W'].shape[1]}, got {tuple(z.shape)}")
    return F.silu(z @ params["W"].T + params["b"]) @ params["U"].T


def action(params: dict, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The action S(θ) = −(1/N) Σ_i ln q_{y_i}(z_i; θ): the cross-entropy on the samples (z_i, y_i).

    This is S = −Σ_{z,m} p(z, m) ln q_m(z) for the empirical distribution p of the samples.
    ``y`` holds integer class labels 0 … M−1 (M = the number of rows of U).
    """
    check_params(params)
    z = model_input("z", z, params["U"].dtype, params["U"].device)
    if not (isinstance(y, torch.Tensor) and y.dtype == torch.long):
        y = int_tensor("y", y).long()
    if y.dim() != 1 or z.dim() < 1 or y.shape[0] != z.shape[0]:
        raise ArgumentError(f"y must be a vector of {z.shape[0] if z.dim() else 0} class labels, got shape "
                            f"{tuple(y.shape)}")
    M = params["U"].shape[0]
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= M):
        raise ArgumentError(f"y must hold class labels 0 … {M - 1} (U has M = {M} rows), got labels from "
                            f"{int(y.min())} to {int(y.max())}")
    return F.cross_entropy(silu_net(params, z), y)


def init_params(E: int, H: int, M: int, *, scale: float = 1.0, generator: torch.Generator | None = None,
                dtype: torch.dtype | None = None, device=None) -> dict:
    """Random parameters in PyTorch's default (LeCun-uniform) ranges, times ``scale``.

    W and b ~ U(−1/√E, 1/√E), U ~ U(−1/√H, 1/√H): the same as ``nn.Linear``'s default.
    ``scale = 0`` gives the expansion point θ = 0. ``dtype`` defaults to torch's default dtype.
    """
    E, H, M = (validate.positive_int(name, n) for name, n in
               (("E (the input dimension)", E), ("H (the hidden width)", H), ("M (the number of classes)", M)))
    scale = validate.nonnegative("scale", scale)
    generator = torch_generator("generator", generator)
    dtype = float_dtype("dtype", dtype)
    if device is not None:
        device = validate.device("device", device)

    def uniform(shape, bound):
        u = torch.rand(shape, generator=generator, dtype=dtype)
        return ((2 * u - 1) * (bound * scale)).to(device)

    return {"U": uniform((M, H), 1 / math.sqrt(H)),
            "W": uniform((H, E), 1 / math.sqrt(E)),
            "b": uniform((H,), 1 / math.sqrt(E))}


def zeros_like_params(params: dict) -> dict:
    """θ = 0 with the shapes, dtype and device of ``params`` (a dict {"U", "W", "b"})."""
    check_params(params)
    return {k: torch.zeros_like(params[k]) for k in PARAM_NAMES}


def flatten_params(params: dict) -> torch.Tensor:
    """Concatenate U, W, b (in that order, each flattened row-major) into one vector."""
    check_params(params)
    return torch.cat([params[k].reshape(-1) for k in PARAM_NAMES])


def unflatten_params(vector: torch.Tensor, like: dict) -> dict:
    """Inverse of :func:`flatten_params`: cut ``vector`` into tensors shaped like ``like``."""
    check_params(like, "like")
    sizes = [like[k].numel() for k in PARAM_NAMES]
    if not isinstance(vector, torch.Tensor):
        vector = validate.tensor("vector", vector, dtype=like["W"].dtype, allow_empty=True)
    if vector.dim() != 1 or vector.numel() != sum(sizes):
        raise ArgumentError(f"vector must have {sum(sizes)} entries, got shape {tuple(vector.shape)}")
    parts = torch.split(vector, sizes)
    return {k: p.reshape(like[k].shape) for k, p in zip(PARAM_NAMES, parts)}


class SiLUNet(torch.nn.Module):
    """f(z) = U σ(W z + b) as a module, with parameters named U, W, b (see :func:`silu_net`).

    ``SiLUNet(E, H, M, scale=...)`` initialises as :func:`init_params` does; ``model.params()``
    returns the parameters as the dictionary :func:`silu_net` takes.
    """

    def __init__(self, E: int, H: int, M: int, *, scale: float = 1.0,
                 generator: torch.Generator | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        p = init_params(E, H, M, scale=scale, generator=generator, dtype=dtype)
        self.U = torch.nn.Parameter(p["U"])
        self.W = torch.nn.Parameter(p["W"])
        self.b = torch.nn.Parameter(p["b"])

    def params(self) -> dict:
        """The parameters as a dict {"U", "W", "b"} (the live tensors, not copies)."""
        return {"U": self.U, "W": self.W, "b": self.b}

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return silu_net(self.params(), z)

    def extra_repr(self) -> str:
        M, H = self.U.shape
        return f"E={self.W.shape[1]}, H={H}, M={M}"
