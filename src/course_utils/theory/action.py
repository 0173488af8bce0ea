"""The loss as an action: the Taylor expansion of the cross-entropy around θ = 0.

For the one-hidden-layer SiLU network f_α(z) = Σ_β U_αβ σ(a_β), a = W z + b
(:mod:`course_utils.models.silu_net`), M classes and q = softmax(f), the action is

    S(θ) = −Σ_{z,m} p(z, m) ln q_m(z; θ) = E_z[ln Σ_α e^{f_α(z)}] − E_{z,m}[f_m(z)].

Write σ(x) = Σ_n c_n xⁿ with c_n = σ⁽ⁿ⁾(0)/n! (SiLU: c₁ = 1/2, c₂ = 1/4, c₃ = 0, c₄ = −1/48, ...).
Every logit is at least quadratic in θ (U times a), so S has no linear term, and its expansion
S = S0 + S2 + S3 + S4 + ... (S_k homogeneous of degree k in θ) is, term by term:

    S0 = ln M,   S1 = 0,
    S2 = (c₁/M) Σ U_αβ W_βγ J_αγ          + (c₁/M) Σ U_αβ b_β J_α,
    S3 = (c₂/M) Σ U_αβ W_βγ W_βδ J_αγδ     + (2c₂/M) Σ U_αβ b_β W_βγ J_αγ + (c₂/M) Σ U_αβ b_β² J_α,

with the class–input correlation tensors (:func:`correlations`)

    J⁽ᵏ⁾_{αγ₁…γₖ} = E_z[z_γ₁ ⋯ z_γₖ] − M p(α) E_{z|α}[z_γ₁ ⋯ z_γₖ]      (J_α, J_αγ, J_αγδ for k = 0, 1, 2).

For balanced classes p(α) = 1/M, so J_α = 0 and the terms with b alone drop out; J_αγ and J_αγδ are
then the differences between the data mean (second moment) and the class mean (second moment).

The general term: the part of S linear in f, (1/M) Σ_α (E_z − M p(α) E_{z|α}) f_α, is exactly

    S⁽ᴶ⁾_{n+1} = (c_n/M) Σ_{α,β} U_αβ (E_z − M p(α) E_{z|α})[(W z + b)_β ⁿ]     (:func:`general_term`),

which for b = 0 is (σ⁽ⁿ⁾(0)/n!) (1/M) Σ U_αβ W_βγ₁⋯W_βγₙ J⁽ⁿ⁾_{αγ₁…γₙ}. It is all of S_{n+1} for
n + 1 ≤ 3. From degree 4 on the cumulants of the log-partition function add terms that are not
of this form: S4 = S⁽ᴶ⁾₄ + (c₁²/2) E_z Var_α[(U a)_α] and S5 = S⁽ᴶ⁾₅ + c₁c₂ E_z Cov_α[(U a)_α, (U a²)_α]
(:func:`s4`, :func:`s5`; Var and Cov over a uniformly drawn class α).

The numerical side (:func:`taylor_coefficients_along_ray`, :func:`hessian_at_zero`) computes the
same coefficients by automatic differentiation, and :func:`train_tracking_alignment` follows
∇S_T · ∇S_V, the early-stopping condition, during gradient descent.

Near θ = 0 the action is S0 + S2, bilinear in U and W: gradient descent on it
(:func:`quadratic_action_descent`) is a linear map that grows U W along the top singular
direction of −J⁽¹⁾ first, as in a deep linear network; :func:`top_singular_share` measures how
much of U W lies there.

Used by book/02_action/01_loss_as_action (equation labels there: eq-action-s2, eq-action-s3,
eq-action-general-term, eq-action-s4-s5, eq-action-early-stopping, eq-action-quadratic-descent).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import torch
from ..progress import progress as progress_bar

from .. import validate
from ..autodiff import quiet_forward_ad
from ..validate import ArgumentError, Dims
from ..validate import flag
from ..models.silu_net import PARAM_NAMES, action, check_params, flatten_params, unflatten_params
from ..train import History

__all__ = [
    "silu_taylor_coefficients", "silu_derivatives_at_zero", "class_weights", "correlations",
    "uw_tensor", "s0", "s2_terms", "s3_terms", "s2", "s3", "general_term", "s4", "s5",
    "closed_form_taylor_terms", "source_coefficient", "derived_coefficient",
    "taylor_coefficients_along_ray", "hessian_at_zero", "hessian_closed_form",
    "gradient_alignment", "first_sign_change", "train_tracking_alignment",
    "quadratic_action_descent", "top_singular_share",
]


# ----------------------------------------------------------------------------------------------
# The activation: σ(x) = x · sigmoid(x) as a power series
# ----------------------------------------------------------------------------------------------

#: the largest order of the exact SiLU series (beyond, the fractions' cost, O(n_max²) big-integer divisions, explodes)
_N_MAX = 200


def silu_taylor_coefficients(n_max: int) -> list[Fraction]:
    """Exact Taylor coefficients c_n = σ⁽ⁿ⁾(0)/n! of SiLU, n = 0 … n_max, as fractions.

    σ(x) = x · s(x) with s = 1/(1 + e^(−x)), so c_n is the coefficient of x^(n−1) in s(x), found by
    dividing the power series 1 by 1 + e^(−x): c = [0, 1/2, 1/4, 0, −1/48, 0, 1/480, ...].
    """
    n_max = validate.integer("n_max (exact fractions: the cost grows as n_max²)", n_max, low=0, high=_N_MAX)
    d = [Fraction(2)] + [Fraction((-1) ** k, math.factorial(k)) for k in range(1, n_max + 1)]
    s: list[Fraction] = []
    for n in range(n_max):
        s.append((Fraction(1) if n == 0 else Fraction(0)) / d[0]
                 - sum((d[k] * s[n - k] for k in range(1, n + 1)), Fraction(0)) / d[0])
    return [Fraction(0)] + s[:n_max]


def silu_derivatives_at_zero(n_max: int) -> np.ndarray:
    """σ⁽ⁿ⁾(0) for n = 0 … n_max: [0, 1/2, 1/2, 0, −1/2, 0, 3/2, ...] (n! c_n)."""
    n_max = validate.integer("n_max", n_max, low=0, high=_N_MAX)
    return np.array([float(c * math.factorial(n)) for n, c in enumerate(silu_taylor_coefficients(n_max))])


def derived_coefficient(n: int) -> float:
    """The coefficient of the general term derived in the chapter: σ⁽ⁿ⁾(0)/n! (= c_n)."""
    n = validate.integer("n", n, low=0, high=_N_MAX)
    return float(silu_taylor_coefficients(n)[n])


def source_coefficient(n: int) -> float:
    """The coefficient of the general term as the source derivation wrote it: σ⁽ⁿ⁾(0)/(n+1)!.

    It is smaller than :func:`derived_coefficient` by the factor n + 1 that the product rule
    gives when U and W are scaled together (kept only to show the difference).
    """
    n = validate.integer("n", n, low=0, high=_N_MAX)
    return float(silu_derivatives_at_zero(n)[n]) / math.factorial(n + 1)


# ----------------------------------------------------------------------------------------------
# The data side: class–input correlation tensors
# ----------------------------------------------------------------------------------------------

def _classes(M) -> int:
    return validate.integer("M (the number of classes)", M, low=2)


def _labels(y, M: int, dims: Dims | None = None, name: str = "y") -> torch.Tensor:
    """Class labels: a 1-d tensor (lists and NumPy arrays are converted) of whole numbers in 0 … M−1, as int64."""
    y = validate.tensor(name, y, shape=("N",), dims=dims)
    if y.is_complex() or y.dtype == torch.bool or (y.is_floating_point() and not bool((y == y.round()).all())):
        raise ArgumentError(f"{name} must hold class labels (whole numbers 0 … M−1), got {validate.show(y)}")
    if int(y.min()) < 0 or int(y.max()) >= M:
        raise ArgumentError(f"labels {name} must lie in 0 … M−1 = {M - 1}, got {int(y.min())} … {int(y.max())}")
    return y if y.dtype == torch.int64 else y.long()


def _check_data(z, y, M) -> tuple[torch.Tensor, torch.Tensor, int]:
    """The data (z of shape (N, E), float64; labels y of shape (N,), int64) and M ≥ 2, checked."""
    M = _classes(M)
    dims = Dims()
    z = validate.tensor("z", z, shape=("N", "E"), dims=dims, dtype=torch.float64)
    return z, _labels(y, M, dims), M


def _as_params(params, name: str = "params") -> dict:
    """The SiLU network's parameters {"U": (M, H), "W": (H, E), "b": (H,)} as tensors of one floating dtype.

    NumPy arrays and lists are converted (in float64); tensors of different float dtypes are promoted to the
    wider one. Shapes must agree (named dimensions M, H, E).
    """
    if not isinstance(params, dict):
        raise ArgumentError(f"{name} must be a dict with keys {PARAM_NAMES}, got {validate.show(params)}")
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ArgumentError(f"{name} must be a dict with keys {PARAM_NAMES}; missing {missing}")
    dims, out = Dims(), {}
    for key, spec in zip(PARAM_NAMES, (("M", "H"), ("H", "E"), ("H",))):
        value = params[key]
        dtype = None if isinstance(value, torch.Tensor) else torch.float64
        out[key] = validate.tensor(f"{name}['{key}']", value, shape=spec, dims=dims, dtype=dtype)
    dtypes = {t.dtype for t in out.values()}
    if len(dtypes) > 1:
        common = out["U"].dtype
        for t in out.values():
            common = torch.promote_types(common, t.dtype)
        out = {k: t.to(common) for k, t in out.items()}
    return out


def _as_J(J, orders: tuple[int, ...], dims: Dims | None = None) -> dict:
    """The correlation tensors {k: J⁽ᵏ⁾} of :func:`correlations`, checked: J⁽ᵏ⁾ of shape (M, E, …, E), float64."""
    if not isinstance(J, dict):
        raise ArgumentError(f"J must be the dict returned by correlations(...), got {validate.show(J)}")
    out = dict(J)
    for k in orders:
        if k not in J:
            raise ArgumentError(f"J must be the dict returned by correlations(...), with orders {orders}: "
                                f"J⁽{k}⁾ is missing" + (" (call correlations(..., max_order=2))" if k == 2 else ""))
        out[k] = validate.tensor(f"J[{k}]", J[k], shape=("M",) + ("E",) * k, dims=dims, dtype=torch.float64)
    return out


def class_weights(y: torch.Tensor, M: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """The (M, N) matrix D_αi = (1 − M δ_{y_i α}) / N, so that Σ_i D_αi g(z_i) = E_z[g] − M p(α) E_{z|α}[g].

    Every J tensor and every "J part" of the action is a contraction with D.
    """
    M = _classes(M)
    y = _labels(y, M)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ArgumentError(f"dtype must be a floating torch dtype (torch.float64, torch.float32), got "
                            f"{validate.show(dtype)}")
    onehot = torch.nn.functional.one_hot(y.long(), M).to(dtype).T  # (M, N)
    return (1 - M * onehot) / y.shape[0]


def correlations(z: torch.Tensor, y: torch.Tensor, M: int, max_order: int = 2) -> dict[int, torch.Tensor]:
    """The class–input correlation tensors J⁽ᵏ⁾ for k = 0 … max_order, as {k: tensor}.

    J⁽ᵏ⁾_{αγ₁…γₖ} = E_z[z_γ₁⋯z_γₖ] − M p(α) E_{z|α}[z_γ₁⋯z_γₖ], shape (M, E, …, E) with k
    copies of E; J⁽⁰⁾_α = 1 − M p(α) vanishes for balanced classes. Expectations are over the
    samples (z_i, y_i), i.e. the empirical p(z, m). Computed in float64.
    """
    z, y, M = _check_data(z, y, M)
    max_order = validate.integer("max_order (J⁽ᵏ⁾ has M·E^k entries)", max_order, low=0, high=4)
    D = class_weights(y, M)
    out = {0: D.sum(1)}
    power = torch.ones(z.shape[0], 1, dtype=torch.float64)  # z^{⊗k}, flattened, per sample
    for k in range(1, max_order + 1):
        power = (power[:, :, None] * z[:, None, :]).reshape(z.shape[0], -1)
        out[k] = (D @ power).reshape((M,) + (z.shape[1],) * k)
    return out


def uw_tensor(params: dict, order: int) -> torch.Tensor:
    """The weight-side tensor that meets J⁽ᵏ⁾: (U W^{⊗k})_{αγ₁…γₖ} = Σ_β U_αβ W_βγ₁ ⋯ W_βγₖ.

    order 1: U W, shape (M, E); order 2: Σ_β U_αβ W_βγ W_βδ, shape (M, E, E).
    """
    order = validate.integer("order", order, low=1, high=2)
    params = _as_params(params)
    U, W = params["U"], params["W"]
    if order == 1:
        return U @ W
    return torch.einsum("ab,bg,bd->agd", U, W, W)


# ----------------------------------------------------------------------------------------------
# The closed forms
# ----------------------------------------------------------------------------------------------

def s0(M: int) -> float:
    """S0 = ln M: at θ = 0 every logit vanishes and q is uniform over the M classes."""
    M = validate.integer("M", M, low=2)
    return math.log(M)


def _p64(params: dict) -> dict:
    params = _as_params(params)
    return {k: params[k].to(torch.float64) for k in PARAM_NAMES}


def _params_and_J(params: dict, J: dict, orders: tuple[int, ...]) -> tuple[dict, dict, int]:
    """params in float64 and J, with the shapes of both checked against each other (M classes, E inputs)."""
    p = _p64(params)
    dims = Dims(M=p["U"].shape[0], E=p["W"].shape[1])
    dims.source.update(M="params['U'], axis 0", E="params['W'], axis 1")
    J = _as_J(J, orders, dims)
    return p, J, J[0].shape[0]


def s2_terms(params: dict, J: dict) -> dict[str, float]:
    """The two terms of S2 (degree 2 in θ), with c₁ = σ'(0) = 1/2:

    "UWJ": (c₁/M) Σ U_αβ W_βγ J_αγ,   "Ub": (c₁/M) Σ U_αβ b_β J_α   (zero for balanced classes).
    """
    p, J, M = _params_and_J(params, J, (0, 1))
    c1 = float(silu_taylor_coefficients(1)[1])
    return {"UWJ": float(c1 / M * torch.einsum("ab,bg,ag->", p["U"], p["W"], J[1])),
            "Ub": float(c1 / M * torch.einsum("ab,b,a->", p["U"], p["b"], J[0]))}


def s3_terms(params: dict, J: dict) -> dict[str, float]:
    """The three terms of S3 (degree 3 in θ), with c₂ = σ''(0)/2 = 1/4:

    "UWWJ": (c₂/M) Σ U_αβ W_βγ W_βδ J_αγδ,   "UbWJ": (2c₂/M) Σ U_αβ b_β W_βγ J_αγ,
    "Ubb":  (c₂/M) Σ U_αβ b_β² J_α   (zero for balanced classes). Needs J up to order 2.
    """
    if isinstance(J, dict) and 2 not in J:
        raise ArgumentError("S3 needs J⁽²⁾: call correlations(..., max_order=2)")
    p, J, M = _params_and_J(params, J, (0, 1, 2))
    c2 = float(silu_taylor_coefficients(2)[2])
    U, W, b = p["U"], p["W"], p["b"]
    return {"UWWJ": float(c2 / M * torch.einsum("ab,bg,bd,agd->", U, W, W, J[2])),
            "UbWJ": float(2 * c2 / M * torch.einsum("ab,b,bg,ag->", U, b, W, J[1])),
            "Ubb": float(c2 / M * torch.einsum("ab,b,a->", U, b * b, J[0]))}


def s2(params: dict, J: dict) -> float:
    """S2 = (1/2) θᵀ H θ, the sum of :func:`s2_terms`."""
    return sum(s2_terms(params, J).values())


def s3(params: dict, J: dict) -> float:
    """S3, the sum of :func:`s3_terms`."""
    return sum(s3_terms(params, J).values())


def _hidden(params: dict, z: torch.Tensor, bias: bool = True) -> torch.Tensor:
    p = _p64(params)
    dims = Dims(E=p["W"].shape[1])
    dims.source["E"] = "params['W'], axis 1"
    z = validate.tensor("z", z, dtype=torch.float64, shape=("N", "E"), dims=dims)
    return z @ p["W"].T + p["b"] if bias else z @ p["W"].T  # a = W z + b, shape (N, H)


def general_term(params: dict, z: torch.Tensor, y: torch.Tensor, M: int, n: int,
                 include_bias: bool = True, coefficient: str = "derived") -> float:
    """The part of S_{n+1} that is linear in f: (c_n/M) Σ_{α,β} U_αβ (E_z − M p(α) E_{z|α})[a_βⁿ].

    a = W z + b (or W z with ``include_bias=False``, which leaves the pure U Wⁿ J⁽ⁿ⁾ term).
    ``coefficient="derived"`` uses c_n = σ⁽ⁿ⁾(0)/n!; ``"source"`` uses σ⁽ⁿ⁾(0)/(n+1)! (the
    source's form, off by the factor n + 1). For n = 1, 2 this is all of S2, S3; from n = 3
    on, :func:`s4` and :func:`s5` add the cumulant terms.
    """
    z, y, M = _check_data(z, y, M)
    n = validate.positive_int("n", n)
    coefficient = validate.choice("coefficient", coefficient, ("derived", "source"))
    include_bias = flag("include_bias", include_bias)
    p = _p64(params)
    a = _hidden(params, z) if include_bias else _hidden(params, z, bias=False)
    c = derived_coefficient(n) if coefficient == "derived" else source_coefficient(n)
    D = class_weights(y, M)
    return float(c / M * torch.einsum("ab,ai,ib->", p["U"], D, a ** n))


def s4(params: dict, z: torch.Tensor, y: torch.Tensor, M: int) -> float:
    """S4 = general_term(n=3) + (c₁²/2) E_z Var_α[(U a)_α]  (the first term is 0 for SiLU: c₃ = 0).

    The variance is over a uniformly drawn class α at fixed z: the second cumulant of the logits
    in ln Σ_α e^{f_α} = ln M + mean_α f + Var_α f / 2 + …, at its lowest order f ≈ c₁ U a.
    S4 ≥ 0 whenever c₃ = 0: a quartic wall around the origin.
    """
    c = silu_taylor_coefficients(3)
    Ua = _hidden(params, z) @ _p64(params)["U"].T  # (N, M)
    var = Ua.var(dim=1, unbiased=False).mean()
    return general_term(params, z, y, M, 3) + float(c[1]) ** 2 / 2 * float(var)


def s5(params: dict, z: torch.Tensor, y: torch.Tensor, M: int) -> float:
    """S5 = general_term(n=4) + c₁c₂ E_z Cov_α[(U a)_α, (U a²)_α]  (covariance over uniform α)."""
    c = silu_taylor_coefficients(4)
    a = _hidden(params, z)
    U = _p64(params)["U"]
    f2, f3 = a @ U.T, (a * a) @ U.T
    cov = ((f2 - f2.mean(1, keepdim=True)) * (f3 - f3.mean(1, keepdim=True))).mean(1).mean()
    return general_term(params, z, y, M, 4) + float(c[1] * c[2]) * float(cov)


def closed_form_taylor_terms(params: dict, z: torch.Tensor, y: torch.Tensor, M: int) -> np.ndarray:
    """[S0, S1, S2, S3, S4, S5] from the closed forms (S1 = 0 identically)."""
    J = correlations(z, y, M, max_order=2)
    return np.array([s0(M), 0.0, s2(params, J), s3(params, J), s4(params, z, y, M), s5(params, z, y, M)])


# ----------------------------------------------------------------------------------------------
# The numerical side: automatic differentiation at θ = 0
# ----------------------------------------------------------------------------------------------

def taylor_coefficients_along_ray(fn: Callable[[dict], torch.Tensor], params: dict, order: int) -> np.ndarray:
    """[g(0), g'(0), g''(0)/2!, …, g⁽ᵏ⁾(0)/k!] for g(t) = fn(t · params), k = ``order``.

    ``params`` is any dict of tensors that ``fn`` takes (the SiLU network's, or another model's).

    The k-th entry is S_k(θ), the degree-k term of fn's expansion around 0 evaluated at θ =
    ``params``. Computed by forward-mode automatic differentiation (``torch.func.jvp`` nested k
    times in the scalar t): exact up to rounding, no finite differences. Use float64 params.
    The cost grows as 2^k forward passes: keep ``order`` ≤ 5 on large data.
    """
    fn = validate.function("fn", fn)
    order = validate.integer("order", order, low=0, high=8)
    if not isinstance(params, dict) or not params:
        raise ArgumentError("params must be a non-empty dict of tensors (the direction θ of the ray), got "
                            f"{validate.show(params)}")
    params = {k: validate.tensor(f"params[{k!r}]", v, dtype=None if isinstance(v, torch.Tensor) else torch.float64)
              for k, v in params.items()}
    first = next(iter(params.values()))

    def g(t):
        return fn({k: t * v for k, v in params.items()})

    t0 = torch.zeros((), dtype=first.dtype, device=first.device)
    one = torch.ones((), dtype=first.dtype, device=first.device)

    def derivative(f):
        return lambda t: torch.func.jvp(f, (t,), (one,))[1]

    try:
        g0 = g(t0)
    except (ValueError, TypeError, IndexError, RuntimeError, KeyError) as err:
        raise ArgumentError(f"fn(params) failed for params = {{{', '.join(f'{k!r}: {validate.show(v)}' for k, v in params.items())}}}: "
                            f"{type(err).__name__}: {err}") from err
    out, d = [float(g0)], g
    with quiet_forward_ad():
        for k in range(1, order + 1):
            d = derivative(d)
            out.append(float(d(t0)) / math.factorial(k))
    return np.array(out)


def hessian_at_zero(fn: Callable[[dict], torch.Tensor], like: dict) -> torch.Tensor:
    """The Hessian ∂²fn/∂θ∂θ at θ = 0, over the flattened parameters (U, W, b) (autograd)."""
    fn = validate.function("fn", fn)
    like = _as_params(like, "like")
    zero = torch.zeros_like(flatten_params(like))
    with quiet_forward_ad():
        return torch.func.hessian(lambda v: fn(unflatten_params(v, like)))(zero)


def hessian_closed_form(J: dict, H: int) -> torch.Tensor:
    """The Hessian of S at θ = 0 from S2 = ½ θᵀ𝐇θ, in the order of ``flatten_params``.

    Only the U–W and U–b blocks are non-zero: ∂²S/∂U_αβ∂W_β'γ = δ_ββ' c₁ J_αγ / M and
    ∂²S/∂U_αβ∂b_β' = δ_ββ' c₁ J_α / M (zero for balanced classes).
    """
    H = validate.positive_int("H (the number of hidden units)", H)
    J = _as_J(J, (0, 1), Dims())
    M, E = J[1].shape
    c1 = float(silu_taylor_coefficients(1)[1])
    nU, nW = M * H, H * E
    Hm = torch.zeros(nU + nW + H, nU + nW + H, dtype=torch.float64)
    eye = torch.eye(H, dtype=torch.float64)
    UW = c1 / M * torch.einsum("ag,bc->abcg", J[1], eye).reshape(nU, nW)  # rows (α,β), cols (β',γ)
    Ub = c1 / M * torch.einsum("a,bc->abc", J[0], eye).reshape(nU, H)
    Hm[:nU, nU:nU + nW] = UW
    Hm[nU:nU + nW, :nU] = UW.T
    Hm[:nU, nU + nW:] = Ub
    Hm[nU + nW:, :nU] = Ub.T
    return Hm


# ----------------------------------------------------------------------------------------------
# Early stopping as a condition on gradients
# ----------------------------------------------------------------------------------------------

def gradient_alignment(params: dict, train: tuple, val: tuple) -> float:
    """∇S_T · ∇S_V: the inner product of the training- and validation-loss gradients at ``params``.

    Under gradient flow θ̇ = −η ∇S_T, dS_V/dt = −η ∇S_V · ∇S_T: the validation loss falls while
    this is positive and rises once it turns negative, so its zero is the early-stopping point.
    ``train`` and ``val`` are (z, y) pairs.
    """
    params = _as_params(params)
    train, val = _pair("train", train, params), _pair("val", val, params)
    gT = torch.func.grad(action)(params, *train)
    gV = torch.func.grad(action)(params, *val)
    return float(sum((gT[k] * gV[k]).sum() for k in PARAM_NAMES))


def _pair(name: str, data, params: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """A data set (z, y) for the network ``params``: z (N, E) in the parameters' dtype, labels y (N,) in 0 … M−1."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ArgumentError(f"{name} must be a pair (z, y) of inputs and labels, got {validate.show(data)}")
    dims = Dims(E=params["W"].shape[1])
    dims.source["E"] = "params['W'], axis 1"
    z = validate.tensor(f"{name}[0] (the inputs z)", data[0], shape=("N", "E"), dims=dims, dtype=params["W"].dtype)
    return z, _labels(data[1], params["U"].shape[0], dims, f"{name}[1] (the labels y)")


def first_sign_change(steps, values) -> float:
    """The first step at which ``values`` crosses from positive to non-positive (linear interpolation).

    Returns ``nan`` if it never does. Used for the zero of ∇S_T · ∇S_V.
    """
    dims = Dims()
    steps = validate.array("steps", steps, shape=("T",), dims=dims, allow_empty=True)
    values = validate.array("values", values, shape=("T",), dims=dims, allow_empty=True)
    for i in range(1, len(values)):
        if values[i - 1] > 0 >= values[i]:
            v0, v1 = values[i - 1], values[i]
            return float(steps[i - 1] + (steps[i] - steps[i - 1]) * v0 / (v0 - v1))
    return float("nan")


def train_tracking_alignment(params: dict, train: tuple, val: tuple, *, steps: int, lr: float,
                             record_every: int = 1, progress: bool = True,
                             desc: str = "training") -> tuple[dict, History]:
    """Plain full-batch gradient descent θ ← θ − lr ∇S_T, recording S_T, S_V and ∇S_T·∇S_V.

    Returns the trained parameters (new tensors) and a :class:`~course_utils.train.History` with
    "S_T", "S_V" and "alignment" every ``record_every`` steps (and at the last step).
    """
    steps = validate.positive_int("steps", steps)
    lr = validate.positive("lr (the learning rate)", lr)
    record_every = validate.positive_int("record_every", record_every)
    progress = flag("progress", progress)
    params = _as_params(params)                 # shapes (M, H), (H, E), (H,) and finite entries, named
    check_params(params)
    train, val = _pair("train", train, params), _pair("val", val, params)   # (z, y): z finite, labels 0 … M−1
    p = {k: params[k].detach().clone() for k in PARAM_NAMES}
    value_and_grad = torch.func.grad_and_value(action)
    history = History()
    for step in progress_bar(range(steps + 1), desc=desc, disable=not progress):
        gT, sT = value_and_grad(p, *train)
        if step % record_every == 0 or step == steps:
            gV, sV = value_and_grad(p, *val)
            align = sum((gT[k] * gV[k]).sum() for k in PARAM_NAMES)
            history.record(step, S_T=float(sT), S_V=float(sV), alignment=float(align))
            if not math.isfinite(float(sT)):
                from ..train import TrainingDiverged
                raise TrainingDiverged(f"train_tracking_alignment diverged by step {step}: S_T = {float(sT)} "
                                       f"(learning rate {lr:.3g}); try a smaller learning rate", step=step, lr=lr)
        if step == steps:
            continue                      # the last record: no step after it (the bar completes)
        p = {k: p[k] - lr * gT[k] for k in PARAM_NAMES}
    return p, history


# ----------------------------------------------------------------------------------------------
# The first steps: gradient descent on the quadratic action S0 + S2
# ----------------------------------------------------------------------------------------------

def quadratic_action_descent(params: dict, J: dict, *, lr: float, steps: int) -> list[dict]:
    """Gradient descent θ ← θ − lr ∇S2 on the quadratic action S0 + S2 alone, from ``params``.

    With A = −c₁ J⁽¹⁾/M and a = −c₁ J⁽⁰⁾/M (c₁ = σ'(0) = 1/2; a = 0 for balanced classes) the
    step is linear in θ (eq-action-quadratic-descent of the chapter):

        U ← U + lr (A Wᵀ + a bᵀ),   W ← W + lr Uᵀ A,   b ← b + lr Uᵀ a.

    For each hidden unit β the combination l_i·U_{:β} + r_i·W_{β:} along a singular pair
    (l_i, s_i, r_i) of A grows by the factor 1 + lr·s_i per step, and l_i·U_{:β} − r_i·W_{β:} shrinks
    by 1 − lr·s_i: U W grows fastest along the top singular direction l₁r₁ᵀ of −J⁽¹⁾.
    Returns the parameters after 0, 1, …, ``steps`` steps (``steps + 1`` dicts, float64).
    """
    steps = validate.nonnegative_int("steps", steps)
    lr = validate.positive("lr", lr)
    p, J, M = _params_and_J(params, J, (0, 1))
    c1 = float(silu_taylor_coefficients(1)[1])
    A, a = -c1 / M * J[1], -c1 / M * J[0]  # float64 (from _as_J)
    out = [p]
    for _ in range(steps):
        U, W, b = p["U"], p["W"], p["b"]
        p = {"U": U + lr * (A @ W.T + a[:, None] * b[None, :]), "W": W + lr * U.T @ A, "b": b + lr * U.T @ a}
        out.append(p)
    return out


def top_singular_share(uw: torch.Tensor, J1: torch.Tensor) -> float:
    """The share of ‖U W‖² that lies along the top singular direction of J⁽¹⁾ (or of −J⁽¹⁾):

        share = (l₁ᵀ (U W) r₁)² / ‖U W‖²_F,

    with l₁, r₁ the left and right singular vectors of the largest singular value of J⁽¹⁾ (the sign
    of J does not matter). 1 when U W ∝ l₁r₁ᵀ; 1/min(M, E) on average for a random U W.
    """
    dims = Dims()
    uw = validate.tensor("uw", uw, shape=("M", "E"), dims=dims, dtype=torch.float64)
    J1 = validate.tensor("J1", J1, shape=("M", "E"), dims=dims, dtype=torch.float64)
    norm2 = float((uw ** 2).sum())  # uw and J1 are float64 here
    if norm2 == 0:
        raise ValueError("uw is zero: its share along any direction is undefined")
    L, _, Vh = torch.linalg.svd(J1)
    return float(L[:, 0] @ uw @ Vh[0]) ** 2 / norm2
