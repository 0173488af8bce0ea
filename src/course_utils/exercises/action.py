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

from ..theory.action import correlations, taylor_coefficients_along_ray

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


def _verdict(ok: bool, name: str, detail: str) -> bool:
    print(f"{'✓ correct' if ok else '✗ not yet'}: {name}. {detail}")
    return ok


def check_toy_correlations(J1, J2=None, *, atol: float = 1e-9) -> bool:
    """Check J_αγ (shape (2, 2)) and, if given, J_αγδ (shape (2, 2, 2)) of :func:`toy_distribution`.

    J_αγ = E_z[z_γ] − E_{z|α}[z_γ] and J_αγδ = E_z[z_γ z_δ] − E_{z|α}[z_γ z_δ]. Prints a verdict
    and returns True or False; raises ``ValueError`` only for an answer of the wrong shape.
    """
    z, y = toy_distribution()
    ref = correlations(z, y, 2, max_order=2)
    answers = [("J_αγ", J1, ref[1])] + ([("J_αγδ", J2, ref[2])] if J2 is not None else [])
    ok_all = True
    for name, ans, r in answers:
        a = np.asarray(ans, dtype=float)
        if a.shape != tuple(r.shape):
            raise ValueError(f"{name} must have shape {tuple(r.shape)} (class index first), got {a.shape}")
        ok = bool(np.allclose(a, r.numpy(), atol=atol))
        ok_all &= ok
        if ok:
            _verdict(True, name, "Notice that Σ_α J vanishes: the classes' deviations cancel.")
        elif np.allclose(a, -r.numpy(), atol=atol):
            _verdict(False, name, "The sign is flipped: J is the data average MINUS the class average.")
        else:
            _verdict(False, name, "Average over all four samples, then over the two samples of class α.")
    return ok_all


def two_hidden_layer_net(params: dict, z: torch.Tensor) -> torch.Tensor:
    """f(z) = U σ(V σ(W z + b) + c), σ = SiLU; params "U" (M, K), "V" (K, H), "c" (K,), "W" (H, E), "b" (H,)."""
    needed = ("U", "V", "c", "W", "b")
    if any(k not in params for k in needed):
        raise ValueError(f"params needs the keys {needed}, got {sorted(params)}")
    h = F.silu(z @ params["W"].T + params["b"])
    return F.silu(h @ params["V"].T + params["c"]) @ params["U"].T


def two_hidden_layer_action(params: dict, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The cross-entropy S(θ) of :func:`two_hidden_layer_net` on the samples (z, y)."""
    return F.cross_entropy(two_hidden_layer_net(params, z), y)


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


def check_two_hidden_layer_s3(student_s3: Callable[[dict, dict], float], *, rtol: float = 1e-6) -> bool:
    """Check ``student_s3(params, J) -> float``: S3 of the two-hidden-layer network, balanced classes.

    ``params`` holds U, V, c, W, b (see :func:`two_hidden_layer_net`) as float64 tensors;
    ``J = correlations(z, y, M, max_order=2)`` holds J⁽⁰⁾, J⁽¹⁾ = J_αγ, J⁽²⁾ = J_αγδ. The reference is
    the third Taylor coefficient of S(t·θ) at t = 0, by automatic differentiation, on three
    random problems. Prints a verdict and returns True or False.
    """
    if not callable(student_s3):
        raise ValueError("pass a function student_s3(params, J) that returns a number")
    for seed in range(3):
        params, z, y, M = _random_problem(seed)
        ref = taylor_coefficients_along_ray(lambda p: two_hidden_layer_action(p, z, y), params, 3)
        J = correlations(z, y, M, max_order=2)
        got = student_s3({k: v.clone() for k, v in params.items()}, J)
        try:
            got = float(got)
        except (TypeError, ValueError) as err:
            raise ValueError(f"student_s3 must return a number, got {type(got).__name__}") from err
        if not np.isclose(got, ref[3], rtol=rtol, atol=1e-12):
            ratio = got / ref[3] if ref[3] != 0 else float("nan")
            hint = (" (off by a constant factor: check the powers of σ'(0) and any factorials)"
                    if np.isfinite(ratio) and abs(ratio) > 0 else "")
            return _verdict(False, "S3 of the two-hidden-layer network",
                            f"On test problem {seed}: you give {got:.6g}, autograd gives {ref[3]:.6g}"
                            f" (ratio {ratio:.4g}){hint}.")
    return _verdict(True, "S3 of the two-hidden-layer network",
                    "It agrees with autograd on three random problems.")
