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
- :func:`tangent_kernel`: the empirical tangent kernel of an MLP summed over outputs, and
  :func:`relative_kernel_change` ‖K_t − K_0‖_F/‖K_0‖_F: how far the kernel moved (lazy: → 0).

Every function accepts a leading batch axis (an ensemble's members): parameters of shape
(K, …) with ``batched=True``, features of shape (K, N, H). Inputs are torch tensors or NumPy
arrays; outputs are torch tensors (float64 for the spectral quantities).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

__all__ = ["weight_norm", "relative_weight_change", "snapshot", "feature_kernel",
           "effective_dimension", "kernel_alignment", "tangent_kernel", "relative_kernel_change"]


def _t(x) -> torch.Tensor:
    return x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(x)


def _sq_norms(params: Iterable, batched: bool) -> torch.Tensor:
    total = None
    for p in params:
        p = _t(p)
        s = p.pow(2).flatten(1).sum(1) if batched else p.pow(2).sum()
        total = s if total is None else total + s
    if total is None:
        raise ValueError("no parameters given")
    return total


def snapshot(params: Iterable) -> list[torch.Tensor]:
    """A detached copy of the parameters (e.g. θ_0, to pass to :func:`relative_weight_change`)."""
    return [_t(p).clone() for p in params]


def weight_norm(params: Iterable, *, batched: bool = False) -> torch.Tensor:
    """‖θ‖ = √(Σ over the parameters of their squared Frobenius norms).

    With ``batched=True`` each parameter has a leading member axis and the result has shape (K,).
    """
    return _sq_norms(params, batched).sqrt()


def relative_weight_change(params: Iterable, initial: Iterable, *, batched: bool = False) -> torch.Tensor:
    """‖θ_t − θ_0‖/‖θ_0‖ over all parameters (per member with ``batched=True``)."""
    params, initial = list(params), list(initial)
    if len(params) != len(initial):
        raise ValueError(f"got {len(params)} parameters but {len(initial)} initial values")
    diff = [(_t(a) - _t(b).to(_t(a).device)) for a, b in zip(params, initial)]
    return _sq_norms(diff, batched).sqrt() / _sq_norms(initial, batched).sqrt().to(diff[0].device)


def feature_kernel(features, *, center: bool = False) -> torch.Tensor:
    """K = Φ Φᵀ for features Φ of shape (…, N, H) → (…, N, N); with ``center=True``, C K C."""
    phi = _t(features).to(torch.float64)
    if phi.dim() < 2:
        raise ValueError(f"features must have shape (..., N, H), got {tuple(phi.shape)}")
    K = phi @ phi.transpose(-1, -2)
    return _center(K) if center else K


def _center(K: torch.Tensor) -> torch.Tensor:
    return K - K.mean(-1, keepdim=True) - K.mean(-2, keepdim=True) + K.mean((-1, -2), keepdim=True)


def effective_dimension(kernel) -> torch.Tensor:
    """exp(−Σ_i p_i ln p_i), p_i = λ_i/Σ_j λ_j, from a positive semi-definite kernel (…, N, N).

    1 for a rank-one kernel, N for a multiple of the identity. Pass ``feature_kernel(Φ)`` (or its
    centred version) to measure features.
    """
    K = _t(kernel).to(torch.float64)
    if K.dim() < 2 or K.shape[-1] != K.shape[-2]:
        raise ValueError(f"kernel must be square, got shape {tuple(K.shape)}")
    lam = torch.linalg.eigvalsh(0.5 * (K + K.transpose(-1, -2))).clamp_min(0.0)
    total = lam.sum(-1, keepdim=True)
    if (total <= 0).any():
        raise ValueError("the kernel is zero: its spectrum cannot be normalised")
    prob = lam / total
    entropy = -(torch.where(prob > 0, prob * prob.log(), torch.zeros_like(prob))).sum(-1)
    return entropy.exp()


def kernel_alignment(kernel, targets, *, center: bool = True) -> torch.Tensor:
    """⟨K_c, T_c⟩_F/(‖K_c‖_F ‖T_c‖_F), T = Y Yᵀ, for a kernel (…, N, N) and targets Y (N,) of integer
    labels (one-hot encoded here) or (N, C) real targets. CKA when both are centred (default)."""
    K = _t(kernel).to(torch.float64)
    Y = _t(targets)
    if Y.dim() == 1:
        if Y.dtype.is_floating_point:
            Y = Y[:, None]
        else:
            Y = torch.nn.functional.one_hot(Y.long()).to(torch.float64)
    Y = Y.to(torch.float64).to(K.device)
    if Y.shape[0] != K.shape[-1]:
        raise ValueError(f"targets have {Y.shape[0]} samples but the kernel {K.shape[-1]}")
    T = Y @ Y.T
    if center:
        K, T = _center(K), _center(T)
    num = (K * T).sum((-1, -2))
    return num / (K.pow(2).sum((-1, -2)).sqrt() * T.pow(2).sum().sqrt())


def tangent_kernel(model, X: torch.Tensor) -> torch.Tensor:
    """The empirical tangent kernel of a :class:`course_utils.models.mlp.MLP`, summed over its outputs:

        Θ(x, x') = Σ_c ∇_θ f_c(x) · ∇_θ f_c(x'),   shape (N, N) for inputs X of shape (N, d).

    Computed layer by layer without forming the Jacobian: for layer ℓ, z_ℓ = s_w h_{ℓ−1} W_ℓᵀ + s_b b_ℓ
    (s_w, s_b the parameterisation's multipliers), so its weights and biases contribute
    Σ_c (δ_c^ℓ(x)·δ_c^ℓ(x')) (s_w² h_{ℓ−1}(x)·h_{ℓ−1}(x') + s_b²), with δ_c^ℓ = ∂f_c/∂z_ℓ
    (one backward pass per output). For one output it equals
    :func:`course_utils.theory.ntk_empirical.empirical_ntk`. Used by the chapter on lazy versus rich
    learning (book/04_feature_learning/02_lazy_vs_rich): how far the kernel moves during training.
    """
    if X.ndim != 2:
        raise ValueError(f"X must have shape (N, d), got {tuple(X.shape)}")
    if not hasattr(model, "layers") or not hasattr(model, "_scales"):
        raise ValueError("tangent_kernel needs a course_utils.models.mlp.MLP (layers with known multipliers)")
    X = X.detach()
    out, pre = model(X, return_preactivations=True)
    hidden = [X] + [model.phi(z).detach() for z in pre[:-1]]
    deltas = [torch.autograd.grad(out[:, c].sum(), pre, retain_graph=c < out.shape[1] - 1)
              for c in range(out.shape[1])]
    K = torch.zeros(X.shape[0], X.shape[0], dtype=torch.float64, device=X.device)
    for i, layer in enumerate(model.layers):
        s_w, s_b = model._scales(layer.in_features)
        dd = sum(d[i] @ d[i].T for d in deltas).to(torch.float64)
        hh = hidden[i].to(torch.float64)
        K += dd * (s_w ** 2 * hh @ hh.T + s_b ** 2)
    return K


def relative_kernel_change(kernel, initial) -> torch.Tensor:
    """‖K_t − K_0‖_F/‖K_0‖_F: how far a kernel (e.g. the tangent kernel) has moved (…, N, N) → (…)."""
    K, K0 = _t(kernel).to(torch.float64), _t(initial).to(torch.float64)
    if K.shape != K0.shape or K.dim() < 2:
        raise ValueError("the kernels must have the same shape (…, N, N), got "
                         f"{tuple(K.shape)} and {tuple(K0.shape)}")
    return (K - K0).pow(2).sum((-1, -2)).sqrt() / K0.pow(2).sum((-1, -2)).sqrt()
