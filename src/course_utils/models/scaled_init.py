"""A ReLU network with its initial weights multiplied by α, trained on f − f₀ ≈ Y: the init-scale knob
of lazy versus rich learning, measured on a real network.

Used by the chapter on lazy versus rich learning (book/04_feature_learning/02_lazy_vs_rich, §5) and
its tests. The network is :class:`course_utils.models.mlp.MLP` with one hidden layer in the NTK
parameterisation (σ_w² = 2, no bias). Multiplying every weight by α scales the output by α² and the
tangent kernel by α² per layer, so a large α is lazy and a small α is rich. Subtracting the initial
output, the network learns the one-hot targets Y from f − f₀ = 0, whatever α:

    L(θ) = (1/2N) Σ_μ ‖f(x_μ; θ) − f(x_μ; θ₀) − y_μ‖².
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import diagnostics
from .mlp import MLP

__all__ = ["ScaledInitRun", "lazy_step", "train_scaled_relu_net"]


class ScaledInitRun(NamedTuple):
    """What :func:`train_scaled_relu_net` measures at the end of training."""

    weight_change: float   # ‖θ_T − θ₀‖/‖θ₀‖
    kernel_change: float   # ‖K_T − K₀‖_F/‖K₀‖_F of the tangent kernel
    loss: float            # the training loss at the last step taken (NaN if steps = 0)
    lr: float              # the learning rate used


def lazy_step(K0: torch.Tensor, n_outputs: int) -> float:
    """η = 1/λ_max(K₀/(N C)): the largest stable gradient-descent step of the linearised network,
    for N inputs and C outputs (the loss above has Hessian K₀/(N C) per output in the lazy limit)."""
    if K0.ndim != 2 or K0.shape[0] != K0.shape[1]:
        raise ValueError(f"K0 must be a square (N, N) kernel, got {tuple(K0.shape)}")
    if n_outputs < 1:
        raise ValueError(f"n_outputs must be positive, got {n_outputs}")
    return 1 / torch.linalg.eigvalsh(K0 / (K0.shape[0] * n_outputs)).max().item()


def train_scaled_relu_net(X: torch.Tensor, Y: torch.Tensor, *, width: int, alpha: float, steps: int,
                          seed: int = 0, lr: float | None = None) -> ScaledInitRun:
    """Train the one-hidden-layer ReLU network with initial weights × ``alpha`` by full-batch gradient
    descent on L above for ``steps`` steps, and return how far its weights and tangent kernel moved.

    ``lr=None`` takes the lazy step :func:`lazy_step` of the network's own initial tangent kernel.
    """
    if X.ndim != 2 or Y.ndim != 2 or X.shape[0] != Y.shape[0]:
        raise ValueError(f"X and Y must be (N, d) and (N, C) with the same N, got {tuple(X.shape)}, {tuple(Y.shape)}")
    if width < 1 or steps < 0 or not alpha > 0:
        raise ValueError(f"need width ≥ 1, steps ≥ 0 and alpha > 0, got {width}, {steps}, {alpha}")
    net = MLP(X.shape[1], width, 1, Y.shape[1], sigma_w=math.sqrt(2), sigma_b=0.0,
              generator=torch.Generator().manual_seed(seed))
    weights = [layer.weight for layer in net.layers]          # the biases have multiplier σ_b = 0
    with torch.no_grad():
        for W in weights:
            W.mul_(alpha)
        target = Y + net(X)
    theta0 = diagnostics.snapshot(weights)
    K0 = diagnostics.tangent_kernel(net, X)
    if lr is None:
        lr = lazy_step(K0, Y.shape[1])
    opt = torch.optim.SGD(weights, lr=lr)
    loss = torch.tensor(float("nan"))
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * ((net(X) - target) ** 2).sum(1).mean()
        loss.backward()
        opt.step()
    return ScaledInitRun(diagnostics.relative_weight_change(weights, theta0).item(),
                         diagnostics.relative_kernel_change(diagnostics.tangent_kernel(net, X), K0).item(),
                         loss.item(), lr)
