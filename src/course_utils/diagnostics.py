"""Feature-learning diagnostics: how far a network has moved, and what its features have become.

Reusable by every chapter that asks "lazy or rich?" (grokking, lazy versus rich learning):

- :func:`weight_norm`: ‖θ‖ = √(Σ_ℓ ‖W_ℓ‖_F²) over a list of parameters;
- :func:`relative_weight_change`: ‖θ_t − θ_0‖/‖θ_0‖. Small (→ 0 as width → ∞ or init scale → ∞)
  in the lazy regime, where the network stays close to its linearisation; order one in the
  rich regime;
- :func:`feature_kernel`: the Gram matrix K = Φ Φᵀ of features Φ (N × H), optionally centred
  (K_c = C K C, C = I − 11ᵀ/N);
- :func:`effective_dimension`: exp(entropy) of the normalised kernel spectrum, exp(−Σ_i p_i ln p_i)
  with p_i = λ_i/Σλ: how many feature directions carry the variance (between 1 and N). Rich,
  "minimal" features have a small effective dimension; lazy, "extended" features a large one;
- :func:`kernel_alignment`: the centred kernel alignment (CKA-style) between a kernel and the
  labels, A(K, YYᵀ) = ⟨K_c, (YYᵀ)_c⟩_F / (‖K_c‖_F ‖(YYᵀ)_c‖_F) ∈ [0, 1] for one-hot Y (or any
  targets); it rises as the features align with the task. For balanced classes YYᵀ is proportional
  to the projector onto the class indicators, so this is the alignment with the class projector;
- :func:`relative_kernel_change` ‖K_t − K_0‖_F/‖K_0‖_F: how far a kernel moved (lazy: → 0), e.g. the
  tangent kernel of :func:`course_utils.theory.ntk_empirical.empirical_ntk`.

Every function accepts a leading batch axis (an ensemble's members): parameters of shape
(K, …) with ``batched=True``, features of shape (K, N, H). Inputs are torch tensors or NumPy
arrays; outputs are torch tensors (float64 for the spectral quantities).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from . import validate
from .validate import ArgumentError

__all__ = ["weight_norm", "relative_weight_change", "snapshot", "feature_kernel",
           "effective_dimension", "kernel_alignment", "relative_kernel_change"]


def _t(x, name: str = "the input") -> torch.Tensor:
    """A detached tensor of ``x``: tensors are detached, NumPy arrays shared, lists converted (checked)."""
    if isinstance(x, torch.Tensor):
        return x.detach()
    if isinstance(x, np.ndarray) and x.dtype != object:
        return torch.as_tensor(x)
    return validate.tensor(name, x, finite=False, allow_empty=True)


def _input(name: str, x, *, finite: bool = True, min_dim: int = 0) -> torch.Tensor:
    """``x`` as a detached float64 tensor with at least ``min_dim`` axes, checked to be finite."""
    t = _t(x, name)
    if t.dtype == torch.bool or t.is_complex():
        raise ArgumentError(f"{name} must hold real numbers, got {validate.show(t)}")
    t = validate.tensor(name, t, dtype=torch.float64, finite=finite, allow_empty=False)
    if t.dim() < min_dim:
        raise ArgumentError(f"{name} must have at least {min_dim} dimensions, got shape {tuple(t.shape)}")
    return t


def _param_list(name: str, params) -> list[torch.Tensor]:
    """A list of detached parameter tensors from ``params`` (a list, generator, ``model.parameters()``
    or a single tensor, which counts as one parameter)."""
    if isinstance(params, (torch.Tensor, np.ndarray)):
        params = [params]
    if isinstance(params, (str, bytes, dict)) or not isinstance(params, Iterable):
        raise ArgumentError(f"{name} must be a list of parameter tensors (e.g. list(model.parameters())), "
                            f"got {validate.show(params)}")
    out = [_t(p, f"{name}[{i}]") for i, p in enumerate(params)]
    if not out:
        raise ArgumentError(f"{name} is empty: no parameters given")
    for i, p in enumerate(out):
        if p.dtype == torch.bool or p.is_complex():
            raise ArgumentError(f"{name}[{i}] must hold real numbers, got {validate.show(p)}")
    return out


def _sq_norms(params: Iterable, batched: bool, name: str = "params") -> torch.Tensor:
    total = None
    for i, p in enumerate(params):
        p = _t(p)
        if batched and p.dim() < 1:
            raise ArgumentError(f"{name}[{i}] must have a leading member axis with batched=True, got a scalar")
        s = p.pow(2).flatten(1).sum(1) if batched else p.pow(2).sum()
        if total is not None and batched and s.shape != total.shape:
            raise ArgumentError(f"with batched=True every parameter needs the same number of members, "
                                f"but {name}[{i}] has {s.shape[0]} and the ones before {total.shape[0]}")
        total = s if total is None else total + s
    if total is None:
        raise ArgumentError("no parameters given")
    return total


def snapshot(params: Iterable) -> list[torch.Tensor]:
    """A detached copy of the parameters (e.g. θ_0, to pass to :func:`relative_weight_change`)."""
    return [p.clone() for p in _param_list("params", params)]


def weight_norm(params: Iterable, *, batched: bool = False) -> torch.Tensor:
    """‖θ‖ = √(Σ over the parameters of their squared Frobenius norms).

    With ``batched=True`` each parameter has a leading member axis and the result has shape (K,).
    NaN weights (a diverged run) give NaN: this measures, it does not judge.
    """
    batched = validate.flag("batched", batched)
    return _sq_norms(_param_list("params", params), batched).sqrt()


def relative_weight_change(params: Iterable, initial: Iterable, *, batched: bool = False) -> torch.Tensor:
    """‖θ_t − θ_0‖/‖θ_0‖ over all parameters (per member with ``batched=True``).

    ``params`` and ``initial`` are lists of tensors of the same shapes (θ_0 from :func:`snapshot`);
    θ_0 must not be zero (the change is relative to it).
    """
    batched = validate.flag("batched", batched)
    params, initial = _param_list("params", params), _param_list("initial", initial)
    if len(params) != len(initial):
        raise ArgumentError(f"got {len(params)} parameters but {len(initial)} initial values")
    for i, (a, b) in enumerate(zip(params, initial)):
        if a.shape != b.shape:
            raise ArgumentError(f"params[{i}] has shape {tuple(a.shape)} but initial[{i}] has shape "
                                f"{tuple(b.shape)}: they must match")
    if bool((_sq_norms(initial, batched, "initial") == 0).any()):
        raise ArgumentError("the initial parameters are all zero (‖θ_0‖ = 0): a change relative to them is "
                            "undefined; use weight_norm of the difference instead")
    diff = [(_t(a) - _t(b).to(_t(a).device)) for a, b in zip(params, initial)]
    return _sq_norms(diff, batched).sqrt() / _sq_norms(initial, batched).sqrt().to(diff[0].device)


def feature_kernel(features, *, center: bool = False) -> torch.Tensor:
    """K = Φ Φᵀ for features Φ of shape (…, N, H) → (…, N, N); with ``center=True``, C K C."""
    center = validate.flag("center", center)
    phi = _input("features", features)
    if phi.dim() < 2:
        raise ArgumentError(f"features must have shape (..., N, H), got {tuple(phi.shape)}")
    K = phi @ phi.transpose(-1, -2)
    return _center(K) if center else K


def _center(K: torch.Tensor) -> torch.Tensor:
    return K - K.mean(-1, keepdim=True) - K.mean(-2, keepdim=True) + K.mean((-1, -2), keepdim=True)


def effective_dimension(kernel) -> torch.Tensor:
    """exp(−Σ_i p_i ln p_i), p_i = λ_i/Σ_j λ_j, from a positive semi-definite kernel (…, N, N).

    1 for a rank-one kernel, N for a multiple of the identity. Pass ``feature_kernel(Φ)`` (or its
    centred version) to measure features.
    """
    K = _input("kernel", kernel)
    if K.dim() < 2 or K.shape[-1] != K.shape[-2]:
        raise ArgumentError(f"kernel must be square, got shape {tuple(K.shape)}")
    lam = torch.linalg.eigvalsh(0.5 * (K + K.transpose(-1, -2))).clamp_min(0.0)
    total = lam.sum(-1, keepdim=True)
    if (total <= 0).any():
        raise ArgumentError("the kernel is zero: its spectrum cannot be normalised")
    prob = lam / total
    entropy = -(torch.where(prob > 0, prob * prob.log(), torch.zeros_like(prob))).sum(-1)
    return entropy.exp()


def kernel_alignment(kernel, targets, *, center: bool = True) -> torch.Tensor:
    """⟨K_c, T_c⟩_F/(‖K_c‖_F ‖T_c‖_F), T = Y Yᵀ, for a kernel (…, N, N) and targets Y (N,) of integer
    labels (one-hot encoded here) or (N, C) real targets. CKA when both are centred (default)."""
    center = validate.flag("center", center)
    K = _input("kernel", kernel)
    if K.dim() < 2 or K.shape[-1] != K.shape[-2]:
        raise ArgumentError(f"kernel must be square, of shape (…, N, N), got {tuple(K.shape)}")
    Y = _t(targets, "targets")
    if Y.dim() not in (1, 2) or Y.dtype == torch.bool or Y.is_complex():
        raise ArgumentError(f"targets must be integer labels of shape (N,) or real targets of shape (N, C), "
                            f"got {validate.show(Y)}")
    if Y.dim() == 1 and not Y.dtype.is_floating_point and Y.numel() and int(Y.min()) < 0:
        raise ArgumentError(f"targets (integer class labels) must be ≥ 0, got a minimum of {int(Y.min())}")
    validate.tensor("targets", Y, finite=True)
    if Y.dim() == 1:
        if Y.dtype.is_floating_point:
            Y = Y[:, None]
        else:
            Y = torch.nn.functional.one_hot(Y.long()).to(torch.float64)
    Y = Y.to(torch.float64).to(K.device)
    if Y.shape[0] != K.shape[-1]:
        raise ArgumentError(f"targets have {Y.shape[0]} samples but the kernel {K.shape[-1]}")
    T = Y @ Y.T
    if center:
        K, T = _center(K), _center(T)
    if not bool(T.pow(2).sum() > 0):
        raise ArgumentError("the targets are all the same (after centring their kernel is zero): "
                            "an alignment with them is undefined")
    if not bool((K.pow(2).sum((-1, -2)) > 0).all()):
        raise ArgumentError("the kernel is zero (after centring): its alignment is undefined")
    num = (K * T).sum((-1, -2))
    return num / (K.pow(2).sum((-1, -2)).sqrt() * T.pow(2).sum().sqrt())


def relative_kernel_change(kernel, initial) -> torch.Tensor:
    """‖K_t − K_0‖_F/‖K_0‖_F: how far a kernel (e.g. the tangent kernel) has moved (…, N, N) → (…)."""
    K, K0 = _input("kernel", kernel), _input("initial", initial)
    if K.shape != K0.shape or K.dim() < 2:
        raise ArgumentError("kernel and initial must have the same shape (…, N, N), got "
                            f"kernel {tuple(K.shape)} and initial {tuple(K0.shape)}")
    norm0 = K0.pow(2).sum((-1, -2)).sqrt()
    if not bool((norm0 > 0).all()):
        raise ArgumentError("the initial kernel is zero: a change relative to it is undefined")
    return (K - K0).pow(2).sum((-1, -2)).sqrt() / norm0
