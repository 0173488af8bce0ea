"""A ReLU network with its initial weights multiplied by α, trained on f − f₀ ≈ Y: the init-scale knob
of lazy versus rich learning, measured on a real network.

Used by the chapter on lazy versus rich learning (book/04_feature_learning/02_lazy_vs_rich, §5) and
its tests. The network is :class:`course_utils.models.mlp.MLP` with one hidden layer in the NTK
parameterisation (σ_w² = 2, no bias). Multiplying every weight by α scales the output by α² and the
tangent kernel by α² per layer, so a large α is lazy and a small α is rich. Subtracting the initial
output, the network learns the one-hot targets Y from f − f₀ = 0, whatever α:

    L(θ) = (1/2N) Σ_μ ‖f(x_μ; θ) − f(x_μ; θ₀) − y_μ‖².

How the tangent kernel moves is split into three parts (:func:`kernel_change_parts`): the part
linear in the weight change Δθ and the part quadratic in it, both with the ReLU on/off pattern
frozen at initialisation (smooth in θ), and the part from units that switched on or off at a
training input (the kink of the ReLU).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from .. import diagnostics, validate
from ..theory.ntk_empirical import empirical_ntk
from ..ensemble.layers import BatchedMLP
from ..ensemble.optim import BatchedSGD
from ..ensemble.training import train_ensemble
from ..validate import ArgumentError
from .mlp import MLP

__all__ = ["ScaledInitRun", "lazy_step", "one_hidden_layer_kernel", "kernel_change_parts", "train_scaled_relu_net",
           "train_scaled_relu_nets"]


class ScaledInitRun(NamedTuple):
    """What :func:`train_scaled_relu_net` measures at the end of training."""

    weight_change: float   # ‖θ_T − θ₀‖/‖θ₀‖
    kernel_change: float   # ‖K_T − K₀‖_F/‖K₀‖_F of the tangent kernel
    loss: float            # the training loss at the last step taken (the initial loss if steps = 0)
    lr: float              # the learning rate used
    kernel_linear: float = 0.0     # ‖ΔΘ_lin‖_F/‖Θ₀‖_F: first order in Δθ, ReLU pattern frozen
    kernel_quadratic: float = 0.0  # ‖ΔΘ_quad‖_F/‖Θ₀‖_F: second order in Δθ, ReLU pattern frozen
    kernel_switching: float = 0.0  # ‖ΔΘ_sw‖_F/‖Θ₀‖_F: from the units that switched on or off
    switched_fraction: float = 0.0  # fraction of (unit, input) pairs whose ReLU switched
    preactivation_change: float = 0.0  # q = mean |Δz_jμ|/σ_μ, σ_μ = α s_w ‖x_μ‖ the initial std of z_jμ


def lazy_step(K0: torch.Tensor, n_outputs: int) -> float:
    """η = 1/λ_max(K₀/(N C)): the largest stable gradient-descent step of the linearised network,
    for N inputs and C outputs (the loss above has Hessian K₀/(N C) per output in the lazy limit)."""
    K0 = validate.tensor("K0", K0)
    if K0.ndim != 2 or K0.shape[0] != K0.shape[1]:
        raise ArgumentError(f"K0 must be a square (N, N) kernel, got {tuple(K0.shape)}")
    n_outputs = validate.positive_int("n_outputs", n_outputs)
    return 1 / torch.linalg.eigvalsh(K0 / (K0.shape[0] * n_outputs)).max().item()


def one_hidden_layer_kernel(W: torch.Tensor, V: torch.Tensor, X: torch.Tensor,
                            mask: torch.Tensor | None = None) -> torch.Tensor:
    """The tangent kernel of f = s₂ V relu(s₁ W x) (no biases; s₁ = √2/√d, s₂ = √2/√n, the NTK
    parameterisation of :class:`course_utils.models.mlp.MLP` with σ_w² = 2), summed over the C outputs:

        Θ(x_μ, x_ν) = s₂² [ C Σ_j h_jμ h_jν + s₁² x_μ·x_ν Σ_j (Σ_c V_cj²) m_jμ m_jν ],

    with z_jμ = s₁ W_j·x_μ, the ReLU pattern m_jμ = 1[z_jμ > 0] and h_jμ = m_jμ z_jμ. ``mask`` replaces
    the pattern m (shape (N, n)): with the pattern of another set of weights frozen in, Θ is a
    polynomial of degree two in the weights. ``mask=None`` gives the kernel of
    :func:`course_utils.theory.ntk_empirical.empirical_ntk` for this network. Shapes: W (n, d), V (C, n), X (N, d).
    """
    W, V, X = _weights_and_inputs(W=W, V=V, X=X)
    s1, s2 = math.sqrt(2 / W.shape[1]), math.sqrt(2 / W.shape[0])
    z = s1 * X.detach() @ W.detach().T
    m = (z > 0).to(z.dtype) if mask is None else validate.tensor("mask", mask, dtype=z.dtype, device_=z.device)
    if m.shape != z.shape:
        raise ArgumentError(f"mask must have shape {tuple(z.shape)} (N, n), got {tuple(m.shape)}")
    h = m * z
    D = V.detach().pow(2).sum(0)
    return s2 ** 2 * (V.shape[0] * h @ h.T + ((m * D) @ m.T) * (s1 ** 2 * X.detach() @ X.detach().T))


def kernel_change_parts(W0: torch.Tensor, V0: torch.Tensor, W: torch.Tensor, V: torch.Tensor,
                        X: torch.Tensor) -> dict[str, float]:
    """Split the change Θ_T − Θ₀ of :func:`one_hidden_layer_kernel` from weights (W0, V0) to (W, V) into

        ΔΘ_lin  = [Θ_m₀(θ₀ + Δθ) − Θ_m₀(θ₀ − Δθ)]/2       (first order in Δθ, pattern m₀ frozen),
        ΔΘ_quad = [Θ_m₀(θ₀ + Δθ) + Θ_m₀(θ₀ − Δθ)]/2 − Θ₀  (second order; exact, Θ_m₀ is quadratic),
        ΔΘ_sw   = Θ_T − Θ_m₀(θ₀ + Δθ)                     (the units whose pattern switched),

    which add up to Θ_T − Θ₀ exactly. Returns their Frobenius norms relative to ‖Θ₀‖_F ("linear",
    "quadratic", "switching", and "total"), the fraction of (unit, input) pairs that switched, and
    the mean relative change of the preactivations q = mean |z_T − z₀|/σ_μ, σ_μ² = E_W z_jμ² = s₁²‖x_μ‖² α²
    estimated as the mean of z₀² over units at each input.
    """
    W0, V0, W, V, X = _weights_and_inputs(W0=W0, V0=V0, W=W, V=V, X=X)
    s1 = math.sqrt(2 / W0.shape[1])
    z0, z = s1 * X @ W0.detach().T, s1 * X @ W.detach().T
    m0 = (z0 > 0).to(z0.dtype)
    dW, dV = W.detach() - W0.detach(), V.detach() - V0.detach()
    K0 = one_hidden_layer_kernel(W0, V0, X)
    plus = one_hidden_layer_kernel(W0 + dW, V0 + dV, X, mask=m0)
    minus = one_hidden_layer_kernel(W0 - dW, V0 - dV, X, mask=m0)
    KT = one_hidden_layer_kernel(W, V, X)
    norm = K0.norm()
    sigma = z0.pow(2).mean(1, keepdim=True).sqrt()
    return dict(linear=((plus - minus) / 2).norm().div(norm).item(),
                quadratic=((plus + minus) / 2 - K0).norm().div(norm).item(),
                switching=(KT - plus).norm().div(norm).item(), total=(KT - K0).norm().div(norm).item(),
                switched_fraction=((z > 0) != (z0 > 0)).to(z0.dtype).mean().item(),
                preactivation_change=((z - z0).abs() / sigma).mean().item())


def _weights_and_inputs(**arrays) -> tuple[torch.Tensor, ...]:
    """Check and convert weights W (n, d), V (C, n) (and W0, V0 alike) and inputs X (N, d).

    Everything becomes a tensor of the first weight's dtype (NumPy arrays and float32 inputs are
    converted); the named sizes n, d, C must agree between the arguments. X, W0 and V0 must be
    finite; W and V (weights after training) may hold NaN from a diverged run.
    """
    spec = {"W0": ("n", "d"), "W": ("n", "d"), "V0": ("C", "n"), "V": ("C", "n"), "X": ("N", "d")}
    dims = validate.Dims()
    first = next(iter(arrays.values()))
    dtype = first.dtype if isinstance(first, torch.Tensor) and first.is_floating_point() else None
    out = []
    for name, value in arrays.items():
        # trained weights may have diverged (NaN): measured, not refused; X and θ₀ must be finite
        t = validate.tensor(name, value, dtype=dtype, shape=spec[name], dims=dims, finite=name not in ("W", "V"))
        dtype = dtype or t.dtype
        out.append(t)
    return tuple(out)


def train_scaled_relu_net(X: torch.Tensor, Y: torch.Tensor, *, width: int, alpha: float, steps: int,
                          seed: int = 0, lr: float | None = None) -> ScaledInitRun:
    """Train the one-hidden-layer ReLU network with initial weights × ``alpha`` by full-batch gradient
    descent on L above for ``steps`` steps, and return how far its weights and tangent kernel moved
    (the kernel's change also in the three parts of :func:`kernel_change_parts`).

    ``lr=None`` takes the lazy step :func:`lazy_step` of the network's own initial tangent kernel.
    The one-member case of :func:`train_scaled_relu_nets`.
    """
    try:
        alpha = validate.positive("alpha", alpha)
    except ArgumentError as err:
        raise ArgumentError(f"need alpha > 0: {err}") from None
    seed = validate.integer("seed", seed)
    return train_scaled_relu_nets(X, Y, width=width, alphas=[alpha], steps=steps, seeds=[seed], lr=lr)[0]


def train_scaled_relu_nets(X: torch.Tensor, Y: torch.Tensor, *, width: int, alphas, steps: int, seeds,
                           lr: float | None = None) -> list[ScaledInitRun]:
    """:func:`train_scaled_relu_net` for K networks at once, trained as one ensemble: member k is the
    network drawn from ``seeds[k]`` with initial weights × ``alphas[k]``, with its own learning rate (its
    own lazy step when ``lr=None``). Returns one :class:`ScaledInitRun` per member, in order.

    The members are :class:`course_utils.models.mlp.MLP` in the NTK parameterisation stacked into a
    :class:`course_utils.ensemble.BatchedMLP` and trained with :func:`course_utils.ensemble.train_ensemble`
    (each follows the trajectory it would follow alone, to rounding).
    """
    X = validate.tensor("X", X, ndim=2)
    Y = validate.tensor("Y", Y, ndim=2)
    if X.shape[0] != Y.shape[0]:
        raise ArgumentError(f"X and Y must be (N, d) and (N, C) with the same N, got {tuple(X.shape)}, {tuple(Y.shape)}")
    width, steps = validate.positive_int("width", width), validate.nonnegative_int("steps", steps)
    if isinstance(alphas, (str, bytes)) or not hasattr(alphas, "__len__") or len(alphas) == 0:
        raise ArgumentError(f"alphas must be a list of init scales α > 0, one per network, got {validate.show(alphas)}")
    alphas = [validate.positive(f"alphas[{k}] (need alpha > 0)", a) for k, a in enumerate(alphas)]
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__") or len(seeds) != len(alphas):
        raise ArgumentError(f"seeds must be a list of integers, one per alpha ({len(alphas)}), got {validate.show(seeds)}")
    seeds = [validate.integer(f"seeds[{k}]", s) for k, s in enumerate(seeds)]
    if lr is not None:
        lr = validate.positive("lr (the learning rate)", lr)
    nets = [MLP(X.shape[1], width, 1, Y.shape[1], sigma_w=math.sqrt(2), sigma_b=0.0, dtype=X.dtype,
                generator=torch.Generator().manual_seed(s)) for s in seeds]
    with torch.no_grad():
        for net, alpha in zip(nets, alphas):
            for layer in net.layers:
                layer.weight.mul_(alpha)
    K0 = [empirical_ntk(net, X) for net in nets]
    lrs = [lazy_step(K, Y.shape[1]) if lr is None else lr for K in K0]
    ensemble = BatchedMLP.from_members(nets)
    weights = [layer.weight for layer in ensemble.layers]     # the biases have multiplier σ_b = 0
    theta0 = diagnostics.snapshot(weights)
    with torch.no_grad():
        f0 = ensemble(X)                                         # (K, N, C): learn f − f₀ = Y
    # the loss of the last step, before its update (steps = 0: the initial loss, ½ mean ‖Y‖²); a non-finite loss
    # at any step raises TrainingDiverged naming the step and the learning rate
    hist = train_ensemble(ensemble, lambda out, target: 0.5 * (out - f0 - target).pow(2).sum(-1), X, Y, steps=steps,
                          optimizer=BatchedSGD(weights, lr=lrs), record_steps=[max(steps - 1, 0)], progress=False,
                          on_divergence="raise")
    runs = []
    for k in range(len(nets)):
        W0, V0, W, V = theta0[0][k].T, theta0[1][k].T, weights[0][k].detach().T, weights[1][k].detach().T
        parts = kernel_change_parts(W0, V0, W, V, X)
        runs.append(ScaledInitRun(diagnostics.relative_weight_change([W, V], [W0, V0]).item(),
                                  diagnostics.relative_kernel_change(empirical_ntk(ensemble.member(k), X), K0[k]).item(),
                                  float(hist["loss"][-1][k]), lrs[k], parts["linear"], parts["quadratic"],
                                  parts["switching"], parts["switched_fraction"], parts["preactivation_change"]))
    return runs
