"""The empirical neural tangent kernel of a finite network, and its linearisation, with torch.func.

Used by the chapter "Training in the infinite-width limit: the neural tangent kernel".

For a network f(x; θ) with scalar output, the empirical NTK is

    Θ(x, x') = Σ_μ ∂f(x)/∂θ_μ · ∂f(x')/∂θ_μ = J(x) J(x')ᵀ,

with J the Jacobian of the outputs with respect to all trained parameters. The linearised model
around θ₀ is

    f_lin(x; θ) = f(x; θ₀) + J₀(x) (θ − θ₀),

computed here with one forward-mode product (``torch.func.jvp``), never forming J. Trained by
gradient descent, f_lin follows exactly the kernel dynamics of
:func:`course_utils.theory.kernels.kernel_regression_dynamics` with the kernel Θ₀.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vmap

from .action import _quiet_forward_ad

__all__ = ["jacobian", "empirical_ntk", "LinearizedModel"]


def _scalar_fn(model: nn.Module):
    names = [n for n, p in model.named_parameters() if p.requires_grad]

    def f(params: dict, x: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, params, (x.unsqueeze(0),))
        if out.numel() != 1:
            raise ValueError("the empirical NTK here is for networks with one output; "
                             f"this model returns {out.numel()} numbers per input")
        return out.reshape(())

    return names, f


def jacobian(model: nn.Module, X: torch.Tensor, chunk_size: int | None = None) -> torch.Tensor:
    """J[i, μ] = ∂f(xᵢ)/∂θ_μ for the rows of ``X``: shape (N, number of trained parameters).

    Computed with ``torch.func.vmap(jacrev(f))``; ``chunk_size`` bounds how many inputs are
    differentiated at once (memory). The parameters are flattened in ``model.named_parameters()`` order.
    """
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, d), got {tuple(X.shape)}")
    names, f = _scalar_fn(model)
    params = {n: p.detach() for n, p in model.named_parameters() if n in names}
    jac = vmap(jacrev(f), in_dims=(None, 0), chunk_size=chunk_size)(params, X)
    return torch.cat([jac[n].reshape(X.shape[0], -1) for n in names], dim=1)


def empirical_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None,
                  chunk_size: int | None = None) -> torch.Tensor:
    """The empirical NTK Θ(x, x') = Σ_μ ∂f(x)/∂θ_μ ∂f(x')/∂θ_μ = J(X1) J(X2)ᵀ, shape (N1, N2).

    Sums over every parameter with ``requires_grad`` (all weights and biases of an MLP).
    The Jacobian is formed layer by layer to keep the memory at one layer's (N, fan_out·fan_in).
    """
    if X1.ndim != 2 or (X2 is not None and X2.ndim != 2):
        raise ValueError("X1 and X2 must have shape (N, d)")
    names, f = _scalar_fn(model)
    params = {n: p.detach() for n, p in model.named_parameters() if n in names}
    n1 = X1.shape[0]
    n2 = n1 if X2 is None else X2.shape[0]
    theta = torch.zeros(n1, n2, dtype=X1.dtype, device=X1.device)
    for name in names:  # one parameter tensor at a time: Θ = Σ_tensors J_tensor(X1) J_tensor(X2)ᵀ

        def f_one(p, x, name=name):
            return f({**params, name: p}, x)

        jac = vmap(jacrev(f_one), in_dims=(None, 0), chunk_size=chunk_size)
        a = jac(params[name], X1).reshape(n1, -1)
        b = a if X2 is None else jac(params[name], X2).reshape(n2, -1)
        theta += a @ b.T
    return theta


class LinearizedModel(nn.Module):
    """The first-order Taylor expansion of ``model`` around its current parameters θ₀:

        f_lin(x; θ) = f(x; θ₀) + J₀(x)(θ − θ₀)   (Lee et al. 2019).

    Its trained parameters are copies of the model's (so θ = θ₀ at the start and
    ``f_lin == model`` there); θ₀ is frozen. The forward pass is one ``torch.func.jvp``:
    the directional derivative of f at θ₀ along θ − θ₀. Train it like any module.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self._model = copy.deepcopy(model)
        for p in self._model.parameters():
            p.requires_grad_(False)
        self._names = [n for n, _ in model.named_parameters()]
        self.theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.params = nn.ParameterList(nn.Parameter(p.detach().clone()) for _, p in model.named_parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        theta0 = tuple(self.theta0[n] for n in self._names)
        delta = tuple(p - p0 for p, p0 in zip(self.params, theta0))

        def f(*ps):
            return functional_call(self._model, dict(zip(self._names, ps)), (x,))

        with _quiet_forward_ad():
            f0, df = jvp(f, theta0, delta)
        return f0 + df

    def displacement(self) -> float:
        """‖θ − θ₀‖, the distance the parameters have moved from initialisation."""
        return float(torch.sqrt(sum(((p.detach() - self.theta0[n]) ** 2).sum()
                                  for n, p in zip(self._names, self.params))))
