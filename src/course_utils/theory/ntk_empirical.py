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
import math

import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vmap

from .action import _quiet_forward_ad

__all__ = ["jacobian", "empirical_ntk", "LinearizedModel", "one_hidden_layer_ntk", "catapult_ensemble"]


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


def _stacked_one_hidden_layer(models) -> list[torch.Tensor]:
    """The parameters (V₀, b₀, V₁, b₁) of B one-hidden-layer networks (``models.mlp.MLP`` with depth 1,
    NTK parameterisation, scalar output), stacked: shapes (B, n, d), (B, n), (B, n), (B,)."""
    if not models or any(len(m.layers) != 2 or m.layers[1].out_features != 1 for m in models):
        raise ValueError("models must be a non-empty list of one-hidden-layer networks with one output")
    return [torch.stack([m.layers[0].weight.detach() for m in models]),
            torch.stack([m.layers[0].bias.detach() for m in models]),
            torch.stack([m.layers[1].weight.detach()[0] for m in models]),
            torch.stack([m.layers[1].bias.detach()[0] for m in models])]


def _one_hidden_layer_forward(p, X, sigma_w: float, sigma_b: float):
    """Outputs (B, N) and pre-activations h (B, N, n) of the stacked ReLU networks ``p`` on inputs X (N, d):
    f(x) = σ_w/√n Σ_j V₁ⱼ relu(h_j) + σ_b b₁, h = σ_w/√d V₀x + σ_b b₀ (NTK parameterisation)."""
    V0, b0, V1, b1 = p
    d, n = X.shape[1], V0.shape[1]
    h = sigma_w / math.sqrt(d) * torch.einsum("bjd,id->bij", V0, X) + sigma_b * b0[:, None, :]
    return sigma_w / math.sqrt(n) * torch.einsum("bij,bj->bi", torch.relu(h), V1) + sigma_b * b1[:, None], h


def one_hidden_layer_ntk(p, X, sigma_w: float, sigma_b: float) -> torch.Tensor:
    """The tangent kernel of B stacked one-hidden-layer ReLU networks on X, shape (B, N, N), in closed form:

        Θ(x, x') = σ_b² + σ_w²/n Σ_j relu(h_j) relu(h_j') + σ_w²/n Σ_j V₁ⱼ² 1[h_j > 0] 1[h_j' > 0] K⁰(x, x'),

    with K⁰ = σ_w²/d x·x' + σ_b² the input layer's kernel (the same numbers as :func:`empirical_ntk`)."""
    _, h = _one_hidden_layer_forward(p, X, sigma_w, sigma_b)
    n = h.shape[-1]
    K0 = sigma_w ** 2 / X.shape[1] * X @ X.T + sigma_b ** 2
    a, on = torch.relu(h), (h > 0).to(h.dtype)
    return (sigma_b ** 2 + sigma_w ** 2 / n * torch.einsum("bij,bkj->bik", a, a)
            + sigma_w ** 2 / n * torch.einsum("bij,bkj,bj->bik", on, on, p[2] ** 2) * K0)


def catapult_ensemble(models, ratios, steps: int, X: torch.Tensor, y, blow_up: float = 1e6) -> dict:
    """Train every network of ``models`` (one hidden ReLU layer, NTK parameterisation) at each learning
    rate η = ratio · 2/λ_max(Θ̂₀/N) of its own kernel, all runs as one batch of tensors, by full-batch
    gradient descent on the half mean squared error L = ½ mean (f − y)². Runs whose loss passes ``blow_up``
    are dropped from then on. Returns arrays of shape (networks, ratios): ``initial``, ``peak`` and
    ``final`` loss (``final`` is inf for a run that blew up) and ``edge`` = ηλ_max/2 at the end (inf too)."""
    if steps < 1 or not len(ratios) or blow_up <= 0:
        raise ValueError(f"need steps ≥ 1, at least one ratio and blow_up > 0; got {steps}, {ratios}, {blow_up}")
    sw, sb = models[0].sigma_w, models[0].sigma_b
    N = X.shape[0]
    y = torch.as_tensor(y)

    def lam_max(p):  # top eigenvalue of the tangent kernel on the training set, / N, one per run
        return torch.linalg.eigvalsh(one_hidden_layer_ntk(p, X, sw, sb) / N)[:, -1]

    p0 = _stacked_one_hidden_layer(models)
    lam0, R = lam_max(p0), len(ratios)
    p = [t.repeat_interleave(R, 0) for t in p0]
    lr = torch.tensor(ratios, dtype=lam0.dtype).repeat(len(models)) * 2 / lam0.repeat_interleave(R)
    B = len(models) * R
    first, peak, final = torch.zeros(B), torch.zeros(B), torch.full((B,), math.inf)
    alive = torch.arange(B)
    for step in range(steps + 1):
        q = [t.detach().requires_grad_(True) for t in p]
        L = 0.5 * ((_one_hidden_layer_forward(q, X, sw, sb)[0] - y) ** 2).mean(1)
        Ld = L.detach()
        if step == 0:
            first[alive] = Ld
        ok = torch.isfinite(Ld) & (Ld < blow_up)
        peak[alive[ok]] = torch.maximum(peak[alive[ok]], Ld[ok])
        if step == steps:
            final[alive[ok]] = Ld[ok]
            break
        if not ok.all():  # drop the runs that blew up
            alive, q = alive[ok], [t.detach()[ok].requires_grad_(True) for t in q]
            L = 0.5 * ((_one_hidden_layer_forward(q, X, sw, sb)[0] - y) ** 2).mean(1)
        g = torch.autograd.grad(L.sum(), q)
        p = [t.detach() - lr[alive].view(-1, *[1] * (t.ndim - 1)) * gt for t, gt in zip(q, g)]
    edge = torch.full((B,), math.inf)
    with torch.no_grad():
        edge[alive[ok]] = lr[alive[ok]] * lam_max([t[ok] for t in p]) / 2
    shape = (len(models), R)
    return {k: v.numpy().reshape(shape) for k, v in dict(initial=first, peak=peak, final=final, edge=edge).items()}
