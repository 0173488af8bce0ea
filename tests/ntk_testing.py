"""Shared by the tests of theory.ntk_empirical: the small networks they use, one output of a network, and gradient
descent done by hand."""

import math

import torch

from course_utils.models.mlp import MLP

SW, SB = math.sqrt(2.0), 0.3


def mlp(activation: str, seed: int, width: int, dtype: torch.dtype = torch.float64, d: int = 3, **kw) -> MLP:
    """A one-hidden-layer MLP d → width → 1 at σ_w = √2, σ_b = 0.3, drawn from ``seed``."""
    return MLP(d, width, 1, activation=activation, sigma_w=SW, sigma_b=SB,
               generator=torch.Generator().manual_seed(seed), dtype=dtype, **kw)


def loss_after_one_step(net: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, lr: float) -> float:
    """½ mean (f_θ₁(x) − y)² after one step θ₁ = θ₀ − η ∇L(θ₀) of L = ½ mean (f_θ(x) − y)², done by hand
    (autograd, then the network called with the stepped parameters; ``net`` itself is left unchanged)."""
    loss = 0.5 * ((net(X)[:, 0] - y) ** 2).mean()
    grads = torch.autograd.grad(loss, list(net.parameters()))
    with torch.no_grad():
        stepped = {n: p - lr * g for (n, p), g in zip(net.named_parameters(), grads)}
        f1 = torch.func.functional_call(net, stepped, (X,))[:, 0]
    return 0.5 * float(((f1 - y) ** 2).mean())


class OneOutput(torch.nn.Module):
    """Output ``c`` of ``net`` alone, shape (N, 1): the network whose Jacobian is the c-th output's."""

    def __init__(self, net: torch.nn.Module, c: int):
        super().__init__()
        self.net, self.c = net, c

    def forward(self, x):
        return self.net(x)[:, self.c:self.c + 1]
