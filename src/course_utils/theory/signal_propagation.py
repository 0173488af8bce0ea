"""Signal propagation beyond χ₁: the depth scales of a random network, gradient profiles, trainable depth.

Used by the chapter "Signal propagation and trainable depth" (book/03_wide_networks/04_trainable_depth).
The mean-field maps themselves (variance map, correlation map, q*, c*, χ₁) are in
:mod:`course_utils.theory.kernels`; this module adds what the chapter needs on top of them
(Schoenholz et al. 2017, "Deep information propagation"):

- :func:`depth_scales`: χ₁, χ_c and the depth scales ξ_∇ = −1/ln χ₁ (gradients) and ξ_c = −1/ln χ_c
  (correlations) over a grid of σ_w²;
- :func:`gradient_profile`: the mean-field E‖∂ℓ/∂Wˡ‖² layer by layer, including the first layers,
  where the variance has not yet reached q*;
- :func:`log_gradient_shift`: the O(1/width) amount by which the log-average gradient falls faster;
- :func:`init_gaussian`: a :class:`~course_utils.ensemble.BatchedMLP` initialised as the theory
  assumes (W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²), one σ_w² per member);
- :func:`per_sample_weight_gradients`: ‖∂ℓ_i/∂Wˡ‖² for every sample i, layer l and member;
- :func:`pair_correlation_decay`: the decay of a correlation towards c* in random networks, measured
  as the difference of two pairs of inputs followed through the same networks;
- :func:`crossing_depth`: the depth at which a score measured after a fixed training budget falls
  below a threshold (the trainable depth L*, to be compared with c·ξ_c).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .. import validate
from ..validate import ArgumentError
from . import kernels

__all__ = ["chi_c", "depth_scales", "gradient_profile", "log_gradient_shift", "init_gaussian", "per_sample_weight_gradients",
           "pair_correlation_decay", "crossing_depth"]


def _sigma_w2_grid(sigma_w2) -> np.ndarray:
    """σ_w² values: a positive number or a non-empty 1-D array of them, as a 1-D float array."""
    s = np.atleast_1d(validate.array("sigma_w2", sigma_w2, ndim=(0, 1)))
    if np.any(s <= 0):
        raise ArgumentError(f"sigma_w2 must be a positive number or a 1-D array of them, got {validate.show(sigma_w2)}")
    return s


def _activation(activation, options=None) -> str:
    """The name of an activation with a derivative in :data:`course_utils.theory.kernels.ACTIVATIONS`."""
    return validate.choice("activation", activation, options or sorted(kernels.ACTIVATIONS))


def chi_c(*, activation: str = "tanh", sigma_w2: float = 1.0, sigma_b2: float = 0.0) -> float:
    """The slope of the correlation map at its stable fixed point c*,

        χ_c = M'(c*) = σ_w² E[φ'(u) φ'(v)],  (u, v) ~ N(0, q* [[1, c*], [c*, 1]]),

    (Price's theorem, as for χ₁). In the ordered phase c* = 1 and χ_c = χ₁ < 1; in the chaotic phase
    c* < 1, χ₁ > 1 and χ_c < 1. Correlations approach c* as |cˡ − c*| ∝ χ_cˡ = exp(−ℓ/ξ_c).
    """
    activation = _activation(activation)
    sigma_w2 = validate.positive("sigma_w2", sigma_w2)
    sigma_b2 = validate.nonnegative("sigma_b2", sigma_b2)
    q = float(kernels.variance_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2))
    c_star = kernels.correlation_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    return sigma_w2 * float(kernels.gaussian_pair_expectation(q, q * c_star, q, activation, derivative=True))


def depth_scales(sigma_w2, *, activation: str = "tanh", sigma_b2: float = 0.0) -> dict[str, np.ndarray]:
    """The depth scales of a deep random network for each σ_w² in ``sigma_w2`` (a number or a 1-D array).

    Returns arrays ``q_star``, ``c_star``, ``chi1``, ``chi_c`` and

        ξ_∇ = −1/ln χ₁   (``xi_grad``; > 0: gradients vanish towards the input, < 0: they explode,
                           ±inf at χ₁ = 1),
        ξ_c = −1/ln χ_c  (``xi_c``; > 0, diverging at the edge of chaos χ₁ = 1),

    so that E‖∂ℓ/∂Wˡ‖² ∝ χ₁^(L−l) = exp(−(L−l)/ξ_∇) and |cˡ − c*| ∝ exp(−ℓ/ξ_c) (Schoenholz et al. 2017).
    On the ordered side ξ_c = ξ_∇; on the chaotic side they differ.
    """
    s = _sigma_w2_grid(sigma_w2)
    activation = _activation(activation)
    sigma_b2 = validate.nonnegative("sigma_b2", sigma_b2)
    out = {name: np.empty(s.size) for name in ("q_star", "c_star", "chi1", "chi_c")}
    for i, sw2 in enumerate(s):
        out["q_star"][i] = float(kernels.variance_fixed_point(activation=activation, sigma_w2=sw2, sigma_b2=sigma_b2))
        out["chi1"][i] = float(kernels.chi1(activation=activation, sigma_w2=sw2, sigma_b2=sigma_b2))
        out["c_star"][i] = kernels.correlation_fixed_point(activation=activation, sigma_w2=sw2, sigma_b2=sigma_b2)
        out["chi_c"][i] = chi_c(activation=activation, sigma_w2=sw2, sigma_b2=sigma_b2)
    with np.errstate(divide="ignore"):
        out["xi_grad"] = -1.0 / np.log(out["chi1"])
        log_chi_c = np.log(np.minimum(out["chi_c"], 1.0))
        out["xi_c"] = np.where(log_chi_c < 0, -1.0 / np.where(log_chi_c < 0, log_chi_c, -1.0), np.inf)
    return out


def gradient_profile(depth: int, q1: float, *, activation: str = "tanh", sigma_w2: float = 1.0,
                     sigma_b2: float = 0.0, input_norm2: float | None = None, width: int | None = None
                     ) -> np.ndarray:
    """Mean-field squared weight gradients of one sample, layer by layer, relative to the last hidden layer.

    Network: h¹ = W¹x + b¹, hˡ = Wˡ φ(hˡ⁻¹) + bˡ (l = 2 … L = ``depth``), f = W^{L+1} φ(h^L) + b^{L+1};
    q¹ = ``q1`` is the variance of h¹ and qˡ⁺¹ = σ_b² + σ_w² E φ(√qˡ z)². With δˡ = ∂ℓ/∂hˡ,
    ∂ℓ/∂Wˡ = δˡ (aˡ⁻¹)ᵀ (aˡ = φ(hˡ), a⁰ = x), and backpropagation averaged over the weights gives

        E‖δˡ‖² = Π_{k=l}^{L} χ(qᵏ) · E‖δ^{L+1}‖²,   χ(q) = σ_w² E[φ'(√q z)²],
        E‖∂ℓ/∂Wˡ‖² = E‖δˡ‖² · E‖aˡ⁻¹‖²,  E‖aˡ⁻¹‖² = width · (qˡ − σ_b²)/σ_w²  (l ≥ 2),  ‖x‖²  (l = 1).

    Returns the array G[l−1] = E‖∂ℓ/∂Wˡ‖² / E‖∂ℓ/∂W^L‖² for l = 1 … L (so G[L−1] = 1). Once qˡ = q*,
    G falls (χ₁ < 1) or grows (χ₁ > 1) by χ₁ per layer towards the input. ``input_norm2`` (‖x‖²) and
    ``width`` are needed only for the first entry (l = 1); without them it is NaN.
    """
    depth = validate.positive_int("depth", depth)
    q1 = validate.positive("q1", q1)
    sigma_w2 = validate.positive("sigma_w2", sigma_w2)
    sigma_b2 = validate.nonnegative("sigma_b2", sigma_b2)
    activation = _activation(activation)
    q = [q1]
    for _ in range(depth - 1):
        q.append(float(kernels.variance_map(q[-1], activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)))
    q = np.array(q)
    dphi = kernels.activation_derivative(activation)
    chi = sigma_w2 * kernels.gaussian_expectation(lambda u: dphi(u) ** 2, q)
    delta2 = np.cumprod(chi[::-1])[::-1]                      # E‖δˡ‖² / E‖δ^{L+1}‖², l = 1 … L
    act2 = np.empty(depth)                                    # E‖aˡ⁻¹‖² / width, l = 1 … L
    act2[1:] = (q[1:] - sigma_b2) / sigma_w2                 # E φ(hˡ⁻¹)² = (qˡ − σ_b²)/σ_w²
    if input_norm2 is not None and width is not None:
        act2[0] = validate.positive("input_norm2", input_norm2) / validate.positive("width", width)
    else:
        act2[0] = np.nan  # pragma: no mutate (None stored in a float array is NaN too)
    g = delta2 * act2
    return g / g[-1]


def log_gradient_shift(sigma_w2, *, activation: str = "tanh", sigma_b2: float = 0.0, width: int) -> np.ndarray:
    """The finite-width shift of the *log-average* gradient growth per layer, to first order in 1/width.

    One layer multiplies ‖δ‖² by R = (σ_w²/n) Σ_i φ'(h_i)² z_i² with z_i ~ N(0, 1) independent of h_i ~ N(0, q*)
    (gradient independence), so E R = χ₁ and Var R / (E R)² = v/n with

        v = 3 E[φ'(h)⁴] / E[φ'(h)²]² − 1,   and   E ln R ≈ ln χ₁ − v/(2n).

    Returns v/(2n) for each σ_w² (a number or a 1-D array): the amount by which the typical (geometric-mean)
    squared gradient falls faster per layer than the mean one, in a single network fed a single input.
    """
    s = _sigma_w2_grid(sigma_w2)
    n = validate.positive("width", width)
    activation = _activation(activation)
    sigma_b2 = validate.nonnegative("sigma_b2", sigma_b2)
    dphi = kernels.activation_derivative(activation)
    out = np.empty(s.size)
    for i, sw2 in enumerate(s):
        q = float(kernels.variance_fixed_point(activation=activation, sigma_w2=sw2, sigma_b2=sigma_b2))
        m2 = float(kernels.gaussian_expectation(lambda u: dphi(u) ** 2, q))
        m4 = float(kernels.gaussian_expectation(lambda u: dphi(u) ** 4, q))
        out[i] = (3 * m4 / m2 ** 2 - 1) / (2 * n)
    return out


def init_gaussian(model, sigma_w2, sigma_b2: float, generator: torch.Generator) -> None:
    """Fill a :class:`~course_utils.ensemble.BatchedMLP` in place with the initialisation of the mean-field theory:
    every weight of member k ~ N(0, σ_w²[k]/fan_in), every bias ~ N(0, σ_b²), readout included.

    ``sigma_w2`` is a number or one value per member; the draws come from ``generator`` (one normal
    draw per layer for all members at once, weights then bias), on the generator's device, and are
    copied to the model's.
    """
    from ..ensemble.layers import per_member

    if not isinstance(generator, torch.Generator):
        raise ArgumentError(f"generator must be a torch.Generator, got {validate.show(generator)}")
    sb2 = validate.nonnegative("sigma_b2", sigma_b2)
    layers = getattr(model, "layers", None)
    if layers is None or not hasattr(model, "n_members"):
        raise ArgumentError(f"model must be a BatchedMLP (it has no .layers), got {validate.show(model)}")
    validate.array("sigma_w2", sigma_w2, ndim=(0, 1))  # a clear message for a string, None or NaN
    sw2 = per_member(sigma_w2, model.n_members, "sigma_w2")
    if torch.any(sw2 <= 0):
        raise ArgumentError(f"sigma_w2 must be positive, got {sw2.tolist()}")
    with torch.no_grad():
        for layer in layers:
            w = layer.weight
            scale = torch.sqrt(sw2 / layer.in_features).to(w.device, w.dtype)[:, None, None]
            w.copy_(torch.randn(w.shape, generator=generator, device=generator.device, dtype=w.dtype).to(w.device)
                    * scale)
            if layer.bias is not None:
                b = layer.bias
                b.copy_(torch.randn(b.shape, generator=generator, device=generator.device, dtype=b.dtype).to(b.device)
                        * math.sqrt(sb2))


def per_sample_weight_gradients(model, X: torch.Tensor, y: torch.Tensor,
                                loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """‖∂ℓ_i/∂Wˡ‖² for every member k, sample i and layer l of a batched MLP: shape (K, N, number of layers).

    ℓ_i is the loss of sample i alone (``loss_fn(output, y)`` returns per-sample losses (K, N), e.g.
    :func:`~course_utils.ensemble.cross_entropy_per_sample`). Since ∂ℓ_i/∂Wˡ = δˡ_i (aˡ⁻¹_i)ᵀ is an outer
    product, its squared norm is ‖δˡ_i‖² ‖aˡ⁻¹_i‖², with δˡ_i = ∂ℓ_i/∂hˡ_i read off one backward pass of
    Σ_i ℓ_i (sample i's preactivations enter no other sample's loss). No parameter gradient is touched.
    """
    layers = getattr(model, "layers", None)
    if layers is None or not hasattr(model, "n_members"):
        raise ArgumentError(f"model must be a BatchedMLP (it has no .layers), got {validate.show(model)}")
    loss_fn = validate.function("loss_fn", loss_fn)
    w = layers[0].weight
    X = validate.tensor("X", X, ndim=(2, 3), dtype=w.dtype, device_=w.device)
    if X.dim() == 3 and X.shape[0] != model.n_members:
        raise ArgumentError(f"X of shape (K, N, d) must have K = n_members = {model.n_members}, got {tuple(X.shape)}")
    if X.shape[-1] != layers[0].in_features:
        raise ArgumentError(f"X must have d = {layers[0].in_features} features (the model's input size) in its last "
                            f"axis, got shape {tuple(X.shape)}")
    if not isinstance(y, torch.Tensor):
        validate.array("y", y)  # a clear message for a string, None or NaN
        y = torch.as_tensor(y, device=w.device)  # pragma: no mutate (device=None: the same CPU here)
    inputs, pre = [], []
    # pragma reason: the batched layers expand a shared (N, d) batch themselves
    a = X if X.dim() == 3 else X.expand(model.n_members, *X.shape)  # pragma: no mutate
    for i, layer in enumerate(layers):
        inputs.append(a.detach())
        h = layer(a.detach() if i == 0 else a)
        h.retain_grad()
        pre.append(h)
        a = model.act(h) if i < len(layers) - 1 else h
    try:
        losses = loss_fn(a, y)
    except (ValueError, TypeError, IndexError, RuntimeError) as err:
        raise ArgumentError(f"loss_fn(outputs, y) failed for y = {validate.show(y)} and outputs of shape "
                            f"{tuple(a.shape)}: {type(err).__name__}: {err}") from err
    if losses.shape != a.shape[:2]:
        raise ValueError(f"loss_fn must return per-sample losses of shape {tuple(a.shape[:2])}, got {tuple(losses.shape)}")
    grads = torch.autograd.grad(losses.sum(), pre)
    norms = [(g.double() ** 2).sum(-1) * (x.double() ** 2).sum(-1) for g, x in zip(grads, inputs)]
    return torch.stack(norms, dim=-1).detach()


def pair_correlation_decay(c_start, *, q, activation: str = "tanh", sigma_w2, sigma_b2: float, width: int,
                           depth: int, n_networks: int, generator: torch.Generator,
                           dtype=torch.float64) -> np.ndarray:
    """Correlations of the pairs (x₀, x_k), k = 1 … P, layer by layer, in random networks: shape (S, M, P, depth).

    For each of the S values of ``sigma_w2`` (a 1-D array) and each of M = ``n_networks`` networks, the
    first-layer preactivations of P + 1 inputs are drawn from their exact law, i.i.d. over the ``width``
    units: Gaussian with variance q[s] and correlations c(x₀, x_k) = ``c_start[s, k]`` (inputs
    x_k = c x₀ + √(1 − c²) e_k with orthonormal e_k ⟂ x₀; ``c_start`` may also be one row for all s; ``q``
    a number or one per s). Then hˡ⁺¹ = σ_w Zˡ⁺¹ φ(hˡ)/√width + σ_b ζˡ⁺¹ with standard normal Z, ζ, for
    ``depth`` − 1 more layers; the same Z, ζ serve every σ_w² (common random numbers). Entry [s, m, k, ℓ]
    is cˡ = hˡ(x₀)·hˡ(x_k)/(|hˡ(x₀)| |hˡ(x_k)|) across the units of network m. Averaged over networks it
    follows the correlation map cˡ⁺¹ = M(cˡ) up to O(1/width), and approaches c* as χ_cˡ.
    Everything runs on the device of ``generator`` (e.g. ``torch.Generator(device="cuda")``).
    """
    s = _sigma_w2_grid(sigma_w2)
    width, depth, n_networks = (validate.positive_int(name, v) for name, v in (
        ("width", width), ("depth", depth), ("n_networks", n_networks)))
    c0 = validate.array("c_start", c_start, ndim=(1, 2))
    if c0.ndim == 1:
        c0 = np.broadcast_to(c0, (s.size, c0.size))
    if c0.shape[0] != s.size or np.any(np.abs(c0) > 1):
        raise ArgumentError(f"c_start must be correlations in [-1, 1] of shape (P,) or ({s.size}, P), got "
                            f"{validate.show(c_start)}")
    qv = validate.array("q", q, ndim=(0, 1))
    if qv.ndim == 1 and qv.shape != (s.size,) or np.any(qv <= 0):
        raise ArgumentError(f"q must be positive (a number or one per sigma_w2, {s.size}), got {validate.show(q)}")
    qs = np.broadcast_to(qv, (s.size,))
    sb2 = validate.nonnegative("sigma_b2", sigma_b2)
    phi = {"tanh": torch.tanh, "relu": torch.relu}[_activation(activation, ("tanh", "relu"))]
    if not isinstance(generator, torch.Generator):
        raise ArgumentError(f"generator must be a torch.Generator, got {validate.show(generator)}")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ArgumentError(f"dtype must be a floating torch dtype, got {validate.show(dtype)}")
    dev = generator.device  # pragma: no mutate (None: the same CPU device on a CPU-only machine)
    S, M, P = s.size, n_networks, c0.shape[1]
    # input k ↦ coefficients on the basis (x₀, e_1 … e_P): column 0 is x₀ itself
    coef = np.zeros((S, P + 1, P + 1))
    coef[:, 0, 0] = 1.0
    coef[:, 0, 1:] = c0
    coef[:, np.arange(1, P + 1), np.arange(1, P + 1)] = np.sqrt(1 - c0 ** 2)
    # the basis, per network (pragma: device=None is the same CPU device on a CPU-only machine)
    z = torch.randn(M, width, P + 1, generator=generator, device=dev, dtype=dtype)  # pragma: no mutate
    h = torch.einsum("mua,sab->smub", z, torch.tensor(coef, dtype=dtype, device=dev))
    h = h * torch.tensor(np.sqrt(qs), dtype=dtype, device=dev)[:, None, None, None]   # (S, M, width, P + 1)
    sw = torch.tensor(np.sqrt(s), dtype=dtype, device=dev)[:, None, None, None]

    def corr(h):
        n = h.norm(dim=2)                                                             # (S, M, P + 1)
        return (h[..., :1] * h[..., 1:]).sum(2) / (n[..., :1] * n[..., 1:])

    out = [corr(h)]
    for _ in range(depth - 1):
        W = torch.randn(M, width, width, generator=generator, device=dev, dtype=dtype) / math.sqrt(width)
        b = torch.randn(M, width, 1, generator=generator, device=dev, dtype=dtype) * math.sqrt(sb2)
        h = sw * torch.matmul(W, phi(h)) + b
        out.append(corr(h))
    return torch.stack(out, -1).cpu().numpy()


def crossing_depth(depths, score, threshold: float) -> np.ndarray:
    """The depth at which a score (e.g. test accuracy after a fixed training budget) first falls below ``threshold``.

    ``score`` has shape (..., len(depths)), with ``depths`` increasing. For each curve, with L_j the first
    depth at which score < threshold and L_{j−1} the one before, the crossing is interpolated linearly in
    ln L:  ln L* = ln L_{j−1} + (s_{j−1} − threshold)/(s_{j−1} − s_j) · (ln L_j − ln L_{j−1}).
    Curves that never fall below give +inf (the boundary lies beyond the deepest depth), curves already
    below at the first depth give NaN (it lies before the shallowest one).
    """
    L = validate.array("depths", depths, ndim=1)
    if L.size < 2 or np.any(L <= 0) or np.any(np.diff(L) <= 0):
        raise ArgumentError(f"depths must be an increasing 1-D array of at least two positive depths, got "
                            f"{validate.show(depths)}")
    s = validate.array("score", score)
    if s.shape[-1:] != L.shape:
        raise ArgumentError(f"score must have shape (..., {L.size}) (one entry per depth), got {s.shape}")
    threshold = validate.real("threshold", threshold)
    flat = s.reshape(-1, L.size)  # pragma: no mutate (numpy infers any negative size, -2 as -1)
    out = np.empty(len(flat))
    lnL = np.log(L)
    for i, row in enumerate(flat):
        below = np.nonzero(row < threshold)[0]
        if below.size == 0:
            out[i] = np.inf
        elif below[0] == 0:
            out[i] = np.nan  # pragma: no mutate (None stored in a float array is NaN too)
        else:
            j = below[0]
            frac = (row[j - 1] - threshold) / (row[j - 1] - row[j])
            out[i] = math.exp(lnL[j - 1] + frac * (lnL[j] - lnL[j - 1]))
    return out.reshape(s.shape[:-1])
