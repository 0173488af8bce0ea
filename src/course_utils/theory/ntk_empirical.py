"""The empirical neural tangent kernel of a finite network, and its linearisation, with torch.func.

Used by the chapter "Training in the infinite-width limit: the neural tangent kernel".

For a network f(x; θ) with scalar output, the empirical NTK is

    Θ(x, x') = Σ_μ ∂f(x)/∂θ_μ · ∂f(x')/∂θ_μ = J(x) J(x')ᵀ,

with J the Jacobian of the outputs with respect to all trained parameters (several outputs: the sum of
their kernels). This is the course's one empirical NTK: the lazy-versus-rich chapter measures how far it
moves in training with the same function. The linearised model
around θ₀ is

    f_lin(x; θ) = f(x; θ₀) + J₀(x) (θ − θ₀),

computed here with one forward-mode product (``torch.func.jvp``), never forming J. Trained by
gradient descent, f_lin follows exactly the kernel dynamics of
:func:`course_utils.theory.kernels.kernel_regression_dynamics` with the kernel Θ₀.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, jacrev, jvp, vmap

from .. import validate
from ..autodiff import quiet_forward_ad
from ..models.mlp import MLP
from ..validate import ArgumentError, Dims

__all__ = ["jacobian", "empirical_ntk", "LinearizedModel", "one_hidden_layer_ntk", "catapult_ensemble"]


def _check_model(model, name: str = "model", trained: bool = True) -> nn.Module:
    """``model``, checked to be a torch module with at least one (``trained``: with requires_grad) parameter."""
    if not isinstance(model, nn.Module):
        raise ArgumentError(f"{name} must be a torch.nn.Module (a network), got {validate.show(model)}")
    if not any(p.requires_grad or not trained for p in model.parameters()):
        raise ArgumentError(f"{name} has no trained parameters (none with requires_grad=True): its tangent kernel is 0")
    return model


def _model_input(name: str, X, model: nn.Module, dims: Dims, spec=("N", "d")) -> torch.Tensor:
    """Inputs for ``model``: a tensor of the model's dtype and device (NumPy arrays and lists converted)."""
    p = next(iter(model.parameters()))
    d_in = getattr(model, "d_in", None)  # the input size of a models.mlp.MLP
    if isinstance(d_in, int) and spec[-1] not in dims.values:
        # spec always has 2 entries here, so spec[+1] is spec[-1]
        dims.values[spec[-1]], dims.source[spec[-1]] = d_in, "the model's input size d_in"  # pragma: no mutate
    return validate.tensor(name, X, shape=spec, dims=dims, dtype=p.dtype, device_=p.device)


def _chunk_size(chunk_size) -> int | None:
    return None if chunk_size is None else validate.positive_int("chunk_size", chunk_size)


def _output_fn(model: nn.Module, scalar: bool):
    """The trained parameters' names and f(params, x) for one input x: the scalar output (``scalar``), else all
    outputs as a vector."""
    names = [n for n, p in model.named_parameters() if p.requires_grad]

    def f(params: dict, x: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, params, (x.unsqueeze(0),))
        if scalar and out.numel() != 1:
            raise ArgumentError("the Jacobian here is for networks with one output; "
                                f"this model returns {out.numel()} numbers per input")
        return out.reshape(()) if scalar else out.reshape(-1)

    return names, f


def jacobian(model: nn.Module, X: torch.Tensor, chunk_size: int | None = None) -> torch.Tensor:
    """J[i, μ] = ∂f(xᵢ)/∂θ_μ for the rows of ``X``: shape (N, number of trained parameters).

    Computed with ``torch.func.vmap(jacrev(f))``; ``chunk_size`` bounds how many inputs are
    differentiated at once (memory). The parameters are flattened in ``model.named_parameters()`` order.
    """
    model = _check_model(model)
    X = _model_input("X", X, model, Dims())
    chunk_size = _chunk_size(chunk_size)
    names, f = _output_fn(model, scalar=True)
    params = {n: p.detach() for n, p in model.named_parameters() if n in names}
    jac = vmap(jacrev(f), in_dims=(None, 0), chunk_size=chunk_size)(params, X)
    return torch.cat([jac[n].reshape(X.shape[0], -1) for n in names], dim=1)


def empirical_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor | None = None,
                  chunk_size: int | None = None) -> torch.Tensor:
    """The empirical NTK, summed over the C outputs of the network (one output: the usual J(X1) J(X2)ᵀ):

        Θ(x, x') = Σ_c Σ_μ ∂f_c(x)/∂θ_μ · ∂f_c(x')/∂θ_μ,   shape (N1, N2), in the model's dtype (summed in float64).

    Sums over every parameter with ``requires_grad``. For a :class:`course_utils.models.mlp.MLP` whose
    parameters all train, it is computed layer by layer without any Jacobian: layer ℓ computes
    z_ℓ = s_w h_{ℓ−1} W_ℓᵀ + s_b b_ℓ (s_w, s_b from :meth:`~course_utils.models.mlp.MLP.scales`), so its weights
    and biases add Σ_c (δ_c^ℓ(x)·δ_c^ℓ(x')) (s_w² h_{ℓ−1}(x)·h_{ℓ−1}(x') + s_b²), δ_c^ℓ = ∂f_c/∂z_ℓ (one backward
    pass per output). For any other module the Jacobian is formed one parameter tensor at a time (memory
    N·C·size of that tensor; ``chunk_size`` bounds how many inputs are differentiated at once).
    """
    model = _check_model(model)
    dims = Dims()
    X1 = _model_input("X1", X1, model, dims, ("N1", "d"))
    X2 = None if X2 is None else _model_input("X2", X2, model, dims, ("N2", "d"))
    chunk_size = _chunk_size(chunk_size)
    if isinstance(model, MLP) and all(p.requires_grad for p in model.parameters()):
        return _mlp_ntk(model, X1, X2).to(X1.dtype)
    names, f = _output_fn(model, scalar=False)
    params = {n: p.detach() for n, p in model.named_parameters() if n in names}
    n1 = X1.shape[0]
    n2 = n1 if X2 is None else X2.shape[0]
    theta = torch.zeros(n1, n2, dtype=torch.float64, device=X1.device)
    for name in names:  # one parameter tensor at a time: Θ = Σ_tensors Σ_c J_c,tensor(X1) J_c,tensor(X2)ᵀ

        def f_one(p, x, name=name):
            return f({**params, name: p}, x)

        jac = vmap(jacrev(f_one), in_dims=(None, 0), chunk_size=chunk_size)
        a = jac(params[name], X1).reshape(n1, -1, params[name].numel()).to(torch.float64)     # (N1, C, size)
        b = a if X2 is None else jac(params[name], X2).reshape(n2, -1, params[name].numel()).to(torch.float64)
        theta += torch.einsum("icp,jcp->ij", a, b)
    return theta.to(X1.dtype)


def _mlp_ntk(model: MLP, X1: torch.Tensor, X2: torch.Tensor | None) -> torch.Tensor:
    """Θ of an MLP, layer by layer (see :func:`empirical_ntk`), accumulated in float64."""
    def parts(X):
        out, pre = model(X.detach(), return_preactivations=True)
        hidden = [X.detach()] + [model.phi(z).detach() for z in pre[:-1]]
        deltas = [torch.autograd.grad(out[:, c].sum(), pre, retain_graph=c < out.shape[1] - 1)
                  for c in range(out.shape[1])]
        return hidden, deltas

    h1, d1 = parts(X1)
    h2, d2 = (h1, d1) if X2 is None else parts(X2)
    theta = torch.zeros(h1[0].shape[0], h2[0].shape[0], dtype=torch.float64, device=X1.device)
    for i, layer in enumerate(model.layers):
        s_w, s_b = model.scales(layer.in_features, last=i == len(model.layers) - 1)
        dd = sum(a[i] @ b[i].T for a, b in zip(d1, d2)).to(torch.float64)
        hh = h1[i].to(torch.float64) @ h2[i].to(torch.float64).T
        theta += dd * (s_w ** 2 * hh + s_b ** 2)
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
        _check_model(model, trained=False)
        self._model = copy.deepcopy(model)
        for p in self._model.parameters():
            p.requires_grad_(False)
        self._names = [n for n, _ in model.named_parameters()]
        self.theta0 = {n: p.detach().clone() for n, p in model.named_parameters()}
        self.params = nn.ParameterList(nn.Parameter(p.detach().clone()) for _, p in model.named_parameters())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f_lin(x; θ) = f(x; θ₀) + J₀(x)(θ − θ₀), one ``torch.func.jvp`` (x converted to the model's dtype)."""
        p = self.params[0]
        x = validate.tensor("x", x, dtype=p.dtype, device_=p.device)
        d_in = getattr(self._model, "d_in", None)
        if isinstance(d_in, int) and (x.dim() == 0 or x.shape[-1] != d_in):
            raise ArgumentError(f"x must have {d_in} features (the model's input size) in its last axis, got shape "
                                f"{tuple(x.shape)}")
        theta0 = tuple(self.theta0[n] for n in self._names)
        delta = tuple(p - p0 for p, p0 in zip(self.params, theta0))

        def f(*ps):
            return functional_call(self._model, dict(zip(self._names, ps)), (x,))

        with quiet_forward_ad():
            f0, df = jvp(f, theta0, delta)
        return f0 + df

    def displacement(self) -> float:
        """‖θ − θ₀‖, the distance the parameters have moved from initialisation."""
        return float(torch.sqrt(sum(((p.detach() - self.theta0[n]) ** 2).sum()
                                  for n, p in zip(self._names, self.params))))


def _stacked_one_hidden_layer(models) -> list[torch.Tensor]:
    """The parameters (V₀, b₀, V₁, b₁) of B one-hidden-layer networks (``models.mlp.MLP`` with depth 1,
    NTK parameterisation, scalar output), stacked: shapes (B, n, d), (B, n), (B, n), (B,)."""
    if (not isinstance(models, (list, tuple)) or not models
            or any(not isinstance(getattr(m, "layers", None), nn.ModuleList) or len(m.layers) != 2
                   or m.layers[1].out_features != 1 for m in models)):
        raise ArgumentError("models must be a non-empty list of one-hidden-layer networks with one output "
                            f"(models.mlp.MLP with depth=1), got {validate.show(models)}")
    first = models[0]
    for k, m in enumerate(models):
        if getattr(m, "activation", "relu") != "relu" or getattr(m, "parameterization", "ntk") != "ntk":
            raise ArgumentError(f"models[{k}] must be a ReLU network in the NTK parameterisation (the closed forms "
                                f"here assume both), got activation={getattr(m, 'activation', None)!r}, "
                                f"parameterization={getattr(m, 'parameterization', None)!r}")
        if (getattr(m, "sigma_w", None), getattr(m, "sigma_b", None)) != (first.sigma_w, first.sigma_b) \
                or m.layers[0].weight.shape != first.layers[0].weight.shape \
                or m.layers[0].weight.dtype != first.layers[0].weight.dtype:
            raise ArgumentError(f"models[{k}] must have the sigma_w, sigma_b, width, input size and dtype of models[0]")
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


def _stacked_parameters(p, X) -> tuple[list[torch.Tensor], torch.Tensor]:
    """(V₀, b₀, V₁, b₁) of shapes (B, n, d), (B, n), (B, n), (B,) and X of shape (N, d), in V₀'s dtype."""
    if not isinstance(p, (list, tuple)) or len(p) != 4:
        raise ArgumentError(f"p must be the list (V0, b0, V1, b1) of stacked parameters, got {validate.show(p)}")
    dims = Dims()
    V0 = validate.tensor("p[0] (V0)", p[0], shape=("B", "n", "d"), dims=dims)
    out = [V0] + [validate.tensor(f"p[{i}] ({name})", t, shape=spec, dims=dims, dtype=V0.dtype)
                  for i, (name, t, spec) in enumerate(zip(("b0", "V1", "b1"), p[1:], (("B", "n"), ("B", "n"), ("B",))),
                                                      start=1)]
    return out, validate.tensor("X", X, shape=("N", "d"), dims=dims, dtype=V0.dtype)


def one_hidden_layer_ntk(p, X, sigma_w: float, sigma_b: float) -> torch.Tensor:
    """The tangent kernel of B stacked one-hidden-layer ReLU networks on X, shape (B, N, N), in closed form:

        Θ(x, x') = σ_b² + σ_w²/n Σ_j relu(h_j) relu(h_j') + σ_w²/n Σ_j V₁ⱼ² 1[h_j > 0] 1[h_j' > 0] K⁰(x, x'),

    with K⁰ = σ_w²/d x·x' + σ_b² the input layer's kernel (the same numbers as :func:`empirical_ntk`)."""
    p, X = _stacked_parameters(p, X)
    sigma_w = validate.positive("sigma_w", sigma_w)
    sigma_b = validate.nonnegative("sigma_b", sigma_b)
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
    are dropped from then on: that is the record of a divergence, kept in ``diverged`` (bool) and
    ``diverged_step`` (the step at which the loss first passed ``blow_up`` or became non-finite, −1
    for a run that never did). Returns arrays of shape (networks, ratios): ``initial``, ``peak`` and
    ``final`` loss (``final`` is inf for a run that blew up), ``edge`` = ηλ_max/2 at the end (inf
    too), ``diverged`` and ``diverged_step``."""
    steps = validate.positive_int("steps", steps)
    r = validate.array("ratios", ratios, ndim=1)
    if np.any(r <= 0):
        raise ArgumentError(f"ratios (learning rates in units of 2/λ_max) must be positive, got {validate.show(ratios)}")
    blow_up = validate.real("blow_up", blow_up, low=0.0, low_open=True, finite=False)
    p0 = _stacked_one_hidden_layer(models)
    sw, sb = models[0].sigma_w, models[0].sigma_b
    dims = Dims(d=p0[0].shape[2])
    dims.source["d"] = "the models' input dimension"
    X = validate.tensor("X", X, shape=("N", "d"), dims=dims, dtype=p0[0].dtype)
    N = X.shape[0]
    if not isinstance(y, torch.Tensor):
        validate.array("y", y)  # a clear message for a string, None or NaN
    # lists and arrays straight to the models' dtype (a list through torch.as_tensor would be rounded to
    # float32 first); float32 → float64 is exact
    y = validate.tensor("y", y, shape=("N",), dims=dims, dtype=X.dtype)

    def lam_max(p):  # top eigenvalue of the tangent kernel on the training set, / N, one per run
        return torch.linalg.eigvalsh(one_hidden_layer_ntk(p, X, sw, sb) / N)[:, -1]

    lam0, R = lam_max(p0), len(ratios)
    p = [t.repeat_interleave(R, 0) for t in p0]
    lr = torch.tensor(ratios, dtype=lam0.dtype).repeat(len(models)) * 2 / lam0.repeat_interleave(R)
    B = len(models) * R
    dt = X.dtype  # the models' dtype (torch's default dtype when the models were built with it)
    first, peak, final = torch.zeros(B, dtype=dt), torch.zeros(B, dtype=dt), torch.full((B,), math.inf, dtype=dt)
    alive = torch.arange(B)
    diverged_step = torch.full((B,), -1, dtype=torch.int64)  # pragma: no mutate (an int fill is int64 anyway)
    for step in range(steps + 1):  # pragma: no mutate (steps + 2: the loop breaks at step == steps)
        q = [t.detach().requires_grad_(True) for t in p]
        L = 0.5 * ((_one_hidden_layer_forward(q, X, sw, sb)[0] - y) ** 2).mean(1)
        Ld = L.detach()
        if step == 0:
            first[alive] = Ld
        ok = torch.isfinite(Ld) & (Ld < blow_up)
        diverged_step[alive[~ok]] = step
        peak[alive[ok]] = torch.maximum(peak[alive[ok]], Ld[ok])
        if step == steps:
            final[alive[ok]] = Ld[ok]
            break
        if not ok.all():  # drop the runs that blew up
            alive, q = alive[ok], [t.detach()[ok].requires_grad_(True) for t in q]
            L = 0.5 * ((_one_hidden_layer_forward(q, X, sw, sb)[0] - y) ** 2).mean(1)
        g = torch.autograd.grad(L.sum(), q)
        p = [t.detach() - lr[alive].view(-1, *[1] * (t.ndim - 1)) * gt for t, gt in zip(q, g)]
    edge = torch.full((B,), math.inf, dtype=dt)
    if ok.any():  # the kernel of the runs still alive (none: every run blew up)
        with torch.no_grad():
            edge[alive[ok]] = lr[alive[ok]] * lam_max([t[ok] for t in p]) / 2
    shape = (len(models), R)
    record = dict(initial=first, peak=peak, final=final, edge=edge, diverged=diverged_step >= 0,
                  diverged_step=diverged_step)
    return {k: v.numpy().reshape(shape) for k, v in record.items()}
