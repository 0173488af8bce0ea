"""Checkers for the exercises of the chapter "The loss as an action" (book/02_action/01_loss_as_action).

- :func:`check_toy_correlations`: the class–input correlations J_αγ (and J_αγδ) of the toy
  distribution of :func:`toy_distribution`, computed by hand;
- :func:`check_two_hidden_layer_s3`: a function that returns the leading data-dependent term S3
  of a two-hidden-layer SiLU network, checked against automatic differentiation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .. import validate
from ..theory.action import correlations, taylor_coefficients_along_ray
from . import answers
from .answers import number, tolerance, values

__all__ = ["toy_distribution", "check_toy_correlations", "two_hidden_layer_net",
           "two_hidden_layer_action", "check_two_hidden_layer_s3"]


def toy_distribution() -> tuple[torch.Tensor, torch.Tensor]:
    """The toy p(z, m) of the exercise, as four equally likely samples (z, m):

    z = (1, 0) with m = 0,  z = (1, 1) with m = 0,  z = (0, 1) with m = 1,  z = (1, 1) with m = 1,

    i.e. p(z, m) = 1/4 for each of these pairs (E = 2 inputs, M = 2 balanced classes).
    """
    z = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([0, 0, 1, 1])
    return z, y


@answers.checker
def check_toy_correlations(J1, J2=None, *, atol: float = 1e-9) -> bool:
    """Check J_αγ (shape (2, 2)) and, if given, J_αγδ (shape (2, 2, 2)) of :func:`toy_distribution`.

    J_αγ = E_z[z_γ] − E_{z|α}[z_γ] and J_αγδ = E_z[z_γ z_δ] − E_{z|α}[z_γ z_δ]. Prints a verdict
    and returns True or False; an answer of the wrong shape, NaN or not an array of numbers gets a
    ✗ verdict that says what was expected.
    """
    atol = tolerance("atol", atol)
    z, y = toy_distribution()
    ref = correlations(z, y, 2, max_order=2)
    answers_ = [("J_αγ", values(J1, "J_αγ (class index first)", shape=tuple(ref[1].shape)), ref[1])]
    if J2 is not None:
        answers_.append(("J_αγδ", values(J2, "J_αγδ (class index first)", shape=tuple(ref[2].shape)), ref[2]))
    ok_all = True
    for name, a, r in answers_:
        ok = bool(np.allclose(a, r.numpy(), atol=atol))
        ok_all &= ok
        if ok:
            answers.verdict(True, name, "Notice that Σ_α J vanishes: the classes' deviations cancel.")
        elif np.allclose(a, -r.numpy(), atol=atol):
            answers.verdict(False, name, "The sign is flipped: J is the data average MINUS the class average.")
        else:
            answers.verdict(False, name, "Average over all four samples, then over the two samples of class α.")
    return ok_all


_SHAPES = {"W": ("H", "E"), "b": ("H",), "V": ("K", "H"), "c": ("K",), "U": ("M", "K")}


def _net_inputs(params: dict, z) -> tuple[dict, torch.Tensor]:
    """``params`` (tensors; NumPy arrays are converted) and ``z`` (N, E), their shapes checked.

    Only shapes and types are checked, never values: the network is differentiated with
    ``torch.func.jvp``, inside which a tensor's values cannot be inspected.
    """
    if not isinstance(params, dict) or any(k not in params for k in _SHAPES):
        got = sorted(map(str, params)) if isinstance(params, dict) else validate.show(params)
        raise validate.ArgumentError(f"params must be a dict with the keys {tuple(_SHAPES)}, got {got}")
    dtype = next((params[k].dtype for k in _SHAPES if isinstance(params[k], torch.Tensor)
                  and params[k].is_floating_point()), torch.get_default_dtype())
    params = {k: (v if isinstance(v, torch.Tensor) else validate.tensor(f"params[{k!r}]", v, dtype=dtype))
              for k, v in params.items()}
    dims = validate.Dims()
    for key, spec in _SHAPES.items():
        dims.bind(f"params[{key!r}]", tuple(params[key].shape), spec)
    if not isinstance(z, torch.Tensor):
        z = validate.tensor("z", z, dtype=params["W"].dtype)
    dims.bind("z", tuple(z.shape), ("N", "E"))
    return params, z


def two_hidden_layer_net(params: dict, z: torch.Tensor) -> torch.Tensor:
    """f(z) = U σ(V σ(W z + b) + c), σ = SiLU; params "U" (M, K), "V" (K, H), "c" (K,), "W" (H, E), "b" (H,);
    ``z`` of shape (N, E). Returns the logits, shape (N, M)."""
    params, z = _net_inputs(params, z)
    h = F.silu(z @ params["W"].T + params["b"])
    return F.silu(h @ params["V"].T + params["c"]) @ params["U"].T


def two_hidden_layer_action(params: dict, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The cross-entropy S(θ) = −(1/N) Σ_μ log softmax(f(z_μ))_{y_μ} of :func:`two_hidden_layer_net`
    on the samples (z, y); ``y`` holds N class indices in 0 … M − 1."""
    logits = two_hidden_layer_net(params, z)
    if not isinstance(y, torch.Tensor):
        y = validate.tensor("y", y)                      # integer labels stay integers
    if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool or tuple(y.shape) != (logits.shape[0],):
        raise validate.ArgumentError(f"y must hold {logits.shape[0]} integer class indices (one per row of z), "
                                     f"got {validate.show(y)}")
    return F.cross_entropy(logits, y)


def _random_problem(seed: int, E: int = 5, H: int = 4, K: int = 3, M: int = 3, per_class: int = 20):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(M * per_class) % M
    z = torch.randn(M * per_class, E, generator=g, dtype=torch.float64) + 0.5 * y[:, None].double()
    params = {"U": torch.randn(M, K, generator=g, dtype=torch.float64),
              "V": torch.randn(K, H, generator=g, dtype=torch.float64),
              "c": torch.randn(K, generator=g, dtype=torch.float64),
              "W": torch.randn(H, E, generator=g, dtype=torch.float64),
              "b": torch.randn(H, generator=g, dtype=torch.float64)}
    return params, z, y, M


@answers.checker
def check_two_hidden_layer_s3(student_s3: Callable[[dict, dict], float], *, rtol: float = 1e-6) -> bool:
    """Check ``student_s3(params, J) -> float``: S3 of the two-hidden-layer network, balanced classes.

    ``params`` holds U, V, c, W, b (see :func:`two_hidden_layer_net`) as float64 tensors;
    ``J = correlations(z, y, M, max_order=2)`` holds J⁽⁰⁾, J⁽¹⁾ = J_αγ, J⁽²⁾ = J_αγδ. The reference is
    the third Taylor coefficient of S(t·θ) at t = 0, by automatic differentiation, on three
    random problems: |S3 − S3_ref| ≤ 10⁻¹² + rtol·|S3_ref|. Prints a verdict and returns True or False.
    """
    student_s3 = answers.student_function(student_s3, "student_s3 (a function student_s3(params, J))")
    rtol = tolerance("rtol", rtol)
    for seed in range(3):
        params, z, y, M = _random_problem(seed)
        ref = taylor_coefficients_along_ray(lambda p: two_hidden_layer_action(p, z, y), params, 3)
        J = correlations(z, y, M, max_order=2)
        got = number(answers.call(student_s3, {k: v.clone() for k, v in params.items()}, J,
                                          what="student_s3(params, J)"),
                             "what student_s3(params, J) returns")
        if not np.isclose(got, ref[3], rtol=rtol, atol=1e-12):
            ratio = got / ref[3] if ref[3] != 0 else float("nan")
            hint = (" (off by a constant factor: check the powers of σ'(0) and any factorials)"
                    if np.isfinite(ratio) and abs(ratio) > 0 else "")
            return answers.verdict(False, "S3 of the two-hidden-layer network",
                                   f"On test problem {seed}: you give {got:.6g}, autograd gives {ref[3]:.6g}"
                                   f" (ratio {ratio:.4g}){hint}.")
    return answers.verdict(True, "S3 of the two-hidden-layer network",
                           "It agrees with autograd on three random problems.")
