"""Infinite-width kernels of fully connected networks: the NNGP kernel and the neural tangent kernel.

Used by the chapters "Networks at initialisation: the Gaussian-process limit" (NNGP recursion,
correlation map, order and chaos, GP regression) and "Training in the infinite-width limit: the
neural tangent kernel" (NTK recursion, kernel gradient flow).

Conventions (the same as :class:`course_utils.models.mlp.MLP`). A network with ``depth`` = L
hidden layers maps x ∈ R^d to

    f⁰(x) = b⁰ + W⁰ x,              W⁰_ij ~ N(0, σ_w²/d),
    fˡ(x) = bˡ + Wˡ φ(fˡ⁻¹(x)),     Wˡ_ij ~ N(0, σ_w²/n),  bˡ_i ~ N(0, σ_b²),   ℓ = 1 … L,

and fᴸ is the output. As the width n → ∞ each fˡ is a Gaussian process with kernel

    K⁰(x, x') = σ_b² + σ_w² x·x'/d,
    Kˡ(x, x') = σ_b² + σ_w² E_{(u,v) ~ N(0, Kˡ⁻¹)}[φ(u) φ(v)],

and the neural tangent kernel (NTK parameterisation) obeys

    Θ⁰ = K⁰,    Θˡ = Kˡ + σ_w² K̇ˡ Θˡ⁻¹,    K̇ˡ(x, x') = E_{(u,v) ~ N(0, Kˡ⁻¹)}[φ'(u) φ'(v)].

Everything here is NumPy in float64. The Gaussian expectations have closed forms for ReLU (the
arc-cosine kernel of Cho & Saul), erf (Williams) and the identity; for any activation, a quadrature
(composite Gauss–Legendre on panels adapted to the Gaussian's width and to where the activation
bends, accurate at any variance) or Monte Carlo.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import brentq

from .. import validate
from ..activations import ACTIVATIONS as _TABLE
from ..validate import ArgumentError, Dims

__all__ = [
    "ACTIVATIONS", "activation", "activation_derivative",
    "input_kernel", "gaussian_expectation", "gaussian_pair_expectation",
    "nngp_kernel", "ntk_kernel",
    "variance_map", "variance_fixed_point", "correlation_map", "correlation_fixed_point", "chi1",
    "correlation_length", "relu_excess_kurtosis",
    "gp_posterior", "kernel_regression_dynamics",
]

# ----------------------------------------------------------------------------------------------
# Activations: the NumPy (φ, φ') of the one table course_utils.activations.ACTIVATIONS
# ----------------------------------------------------------------------------------------------

#: name → (φ, φ'), NumPy functions. "relu", "erf" and "linear" have closed-form kernels; the others use quadrature.
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    name: (a.numpy, a.numpy_derivative) for name, a in _TABLE.items()}
_CLOSED_FORMS = ("relu", "erf", "linear")
#: φ'(0)² of the odd, saturating activations, for which |φ(x)| < φ'(0)|x| when x ≠ 0 (so E φ(√q z)² < φ'(0)² q).
_SATURATING_SLOPE2 = {"tanh": 1.0, "erf": 4 / np.pi}


def _activation_name(value, name: str = "activation", allow_function: bool = True) -> str | Callable:
    """``value`` as a name of :data:`ACTIVATIONS` (any case) or, with ``allow_function``, a callable φ."""
    if allow_function and callable(value) and not isinstance(value, (np.ndarray, str)):
        return value
    if not isinstance(value, str):
        raise ArgumentError(f"{name} must be one of {sorted(ACTIVATIONS)}"
                            + (" or a function" if allow_function else "") + f", got {validate.show(value)}")
    if value.strip().lower() not in ACTIVATIONS:
        raise ArgumentError(f"unknown {name} {value!r}; choose one of {sorted(ACTIVATIONS)}"
                            + (" or pass a function" if allow_function else ""))
    return value.strip().lower()


def activation(name: str | Callable) -> Callable:
    """Return the NumPy function φ for an activation name in :data:`ACTIVATIONS` (a callable passes through)."""
    name = _activation_name(name, "name (the activation)")
    if callable(name):
        return name
    return ACTIVATIONS[name][0]


def activation_derivative(name: str | Callable) -> Callable:
    """Return φ' for an activation name (for a user function φ, pass its derivative yourself)."""
    if callable(name) and not isinstance(name, str):
        raise ArgumentError("for a user-supplied activation, pass its derivative as `dphi=`")
    return ACTIVATIONS[_activation_name(name, "name (the activation)", allow_function=False)][1]


_activation_function = activation  # for the functions whose argument ``activation`` hides the name


def _sigma(name: str, value, *, positive: bool, arrays: bool):
    """σ_w² (``positive``) or σ_b² (non-negative): a float, or with ``arrays`` a float array of them."""
    what = "the weight variance σ_w²" if positive else "the bias variance σ_b²"
    if not arrays or np.ndim(value) == 0 and not isinstance(value, (list, tuple)):
        if positive:
            return validate.positive(f"{name} ({what})", value)
        return validate.nonnegative(f"{name} ({what})", value)
    arr = validate.array(f"{name} ({what})", value)
    if np.any(arr <= 0) if positive else np.any(arr < 0):
        raise ArgumentError(f"{name} ({what}) must be {'positive' if positive else 'non-negative'}, "
                            f"got {validate.show(value)} with entries down to {arr.min():g}")
    return arr


def _check_sigmas(sigma_w2, sigma_b2, arrays: bool = False):
    """σ_w² > 0 and σ_b² ≥ 0, finite (numbers, or with ``arrays`` arrays of them); returns them as floats/arrays."""
    return (_sigma("sigma_w2", sigma_w2, positive=True, arrays=arrays),
            _sigma("sigma_b2", sigma_b2, positive=False, arrays=arrays))


# ----------------------------------------------------------------------------------------------
# Gaussian expectations E[φ(u)φ(v)] and E[φ'(u)φ'(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]])
# ----------------------------------------------------------------------------------------------


def _angle(k11, k12, k22):
    norm = np.sqrt(k11 * k22)
    cos = np.clip(np.divide(k12, norm, out=np.ones_like(norm), where=norm > 0), -1.0, 1.0)
    return norm, np.arccos(cos)


def _closed_form(name, k11, k12, k22, derivative):
    if name == "linear":
        return np.ones_like(k12) if derivative else k12.copy()
    if name == "relu":  # arc-cosine kernel of degree 1 (and 0 for the step function φ')
        norm, theta = _angle(k11, k12, k22)
        if derivative:
            return (np.pi - theta) / (2 * np.pi)
        return norm / (2 * np.pi) * (np.sin(theta) + (np.pi - theta) * np.cos(theta))
    if name == "erf":
        a = (1 + 2 * k11) * (1 + 2 * k22)
        if derivative:   # a − 4k12² = 1 + 2k11 + 2k22 + 4(k11k22 − k12²), with |k12| ≤ √(k11k22) (rounding slack)
            c12 = np.clip(k12, -np.sqrt(k11 * k22), np.sqrt(k11 * k22))
            return 4 / np.pi / np.sqrt(1 + 2 * (k11 + k22) + 4 * (k11 * k22 - c12 ** 2))
        return 2 / np.pi * np.arcsin(np.clip(2 * k12 / np.sqrt(a), -1.0, 1.0))
    raise ValueError(f"no closed form for {name!r}; use method='quadrature'")


#: the Gaussian is integrated over z ∈ [−10, 10] standard deviations (the mass outside is 1.5·10⁻²³)
_TAIL = 10.0
#: panel edges on the Gaussian's own scale: every 1.25 standard deviations
_GAUSS_EDGES = np.linspace(-_TAIL, _TAIL, 17)
#: panel edges where activations bend, in the preactivation u itself: 0 and ±0.5·2ᵏ (k = 0 … 7).
#: Edges that fall outside the Gaussian's ±10 sd are clipped there (their panels have zero width).
_BENDS = np.concatenate([-0.5 * 2.0 ** np.arange(7, -1, -1), [0.0], 0.5 * 2.0 ** np.arange(8)])
#: ±0.5·2ᵏ (k = 0 … 7) in units of the conditional standard deviation s of v given u: E[φ(v) | u] is φ smoothed
#: over s, a function of the conditional mean m with features of width s around m = 0 (the edges of the outer
#: integral are the union of these and of :data:`_BENDS`, both in m)
_SMOOTHED_BENDS = np.concatenate([-0.5 * 2.0 ** np.arange(7, -1, -1), 0.5 * 2.0 ** np.arange(8)])


@lru_cache(maxsize=16)
def _legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [−1, 1] (cached)."""
    x, w = leggauss(order)
    x.setflags(write=False)  # pragma: no mutate (a read-only guard of the cached nodes, no value changes)
    w.setflags(write=False)  # pragma: no mutate (a read-only guard of the cached weights, no value changes)
    return x, w


def _bend_edges(center, scale, bends=_BENDS):
    """The z at which center + scale·z crosses each of ``bends``, clipped to ±_TAIL (shape (..., n_bends))."""
    center, scale = np.asarray(center)[..., None], np.asarray(scale)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (bends - center) / scale
    z = np.where(scale > 0, z, _TAIL)  # a Gaussian of width 0 has no bends to resolve: its panels collapse
    return np.clip(z, -_TAIL, _TAIL)


def _normal_rule(edge_sets, order):
    """Nodes z and weights (of the standard normal measure) of the composite Gauss–Legendre rule whose panel
    edges are the union of ``edge_sets`` (arrays (..., k) broadcast against each other), clipped to ±_TAIL."""
    shape = np.broadcast_shapes(*(e.shape[:-1] for e in edge_sets))
    edges = np.concatenate([np.broadcast_to(e, shape + e.shape[-1:]) for e in edge_sets], axis=-1)
    edges = np.sort(np.clip(edges, -_TAIL, _TAIL), axis=-1)
    x, w = _legendre(order)
    a, b = edges[..., :-1, None], edges[..., 1:, None]
    half = (b - a) / 2
    z = (a + b) / 2 + half * x
    weight = half * w * np.exp(-z ** 2 / 2) / np.sqrt(2 * np.pi)
    return z.reshape(shape + (-1,)), weight.reshape(shape + (-1,))


def _composite_pair(f, g, k11, k12, k22, order):
    """E[f(u) g(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]]), as a nested 1-D integral.

    u = √k11 z₁ and, given z₁, v ~ N(m, s²) with m = √k22 ρ z₁, s = √k22 √(1 − ρ²). Inner: E[g(v) | z₁] on
    panels with edges every 1.25 s and where v crosses a bend of the activation; outer: the same in z₁, with the
    edges where u or m crosses a bend and where m crosses ±0.5·2ᵏ s. |ρ| = 1 (e.g. a diagonal entry, k12² = k11 k22) is a 1-D integral.
    """
    s1, s2, norm = np.sqrt(k11), np.sqrt(k22), np.sqrt(k11 * k22)  # ρ as in the closed forms (near |ρ| = 1,
    with np.errstate(divide="ignore", invalid="ignore"):            # E[φ'φ'] moves like √(1 − |ρ|))
        rho = np.clip(np.where(norm > 0, k12 / norm, 0.0), -1.0, 1.0)
    out = np.empty(k12.shape)
    flat_out = out.reshape(-1)
    s1, s2, rho = (np.ascontiguousarray(a).reshape(-1) for a in (s1, s2, rho))
    sc = s2 * np.sqrt(1 - rho ** 2)
    degenerate = (sc == 0)
    # |ρ| = 1 (or k22 = 0): v = √k22 ρ z₁ is fixed by z₁, one 1-D integral
    if np.any(degenerate):
        a, m = s1[degenerate], (s2 * rho)[degenerate]
        z, w = _normal_rule([_GAUSS_EDGES, _bend_edges(np.zeros_like(a), a), _bend_edges(np.zeros_like(m), np.abs(m))],
                            order)
        # axis=1 is axis=-1 on these 2-D arrays: no mutation testing on the next line
        flat_out[degenerate] = np.sum(w * f(a[:, None] * z) * g(m[:, None] * z), axis=-1)  # pragma: no mutate
    idx = np.flatnonzero(~degenerate)
    # the batch size (about 2·10⁶ integrand values at a time): any positive size gives the same result, so no
    # mutation testing on these three lines
    n_outer = (len(_GAUSS_EDGES) + 2 * len(_BENDS) + len(_SMOOTHED_BENDS) - 1) * order  # pragma: no mutate
    n_inner = (len(_GAUSS_EDGES) + len(_BENDS) - 1) * order  # pragma: no mutate
    chunk = max(1, 2_000_000 // (n_outer * n_inner))  # pragma: no mutate
    for start in range(0, idx.size, chunk):
        j = idx[start:start + chunk]
        a, b, r, c = s1[j], s2[j], rho[j], sc[j]
        zero = np.zeros_like(a)
        m_scale = b * np.abs(r)  # m = ±m_scale·z₁
        z1, w1 = _normal_rule([_GAUSS_EDGES, _bend_edges(zero, a), _bend_edges(zero, m_scale),
                               _bend_edges(zero, m_scale / c, _SMOOTHED_BENDS)], order)
        m = (b * r)[:, None] * z1                                   # the mean of v given z₁, (chunk, n_outer)
        s = np.broadcast_to(c[:, None], m.shape)
        z2, w2 = _normal_rule([_GAUSS_EDGES, _bend_edges(m, s)], order)  # (chunk, n_outer, n_inner)
        inner = np.sum(w2 * g(m[..., None] + s[..., None] * z2), axis=-1)
        flat_out[j] = np.sum(w1 * f(a[:, None] * z1) * inner, axis=-1)  # pragma: no mutate (2-D: axis 1 ≡ −1)
    return out


def _monte_carlo_pair(f, g, k11, k12, k22, n_samples, seed):
    rng = np.random.default_rng(seed)
    z1, z2 = rng.standard_normal((2, n_samples))
    s1, s2 = np.sqrt(k11), np.sqrt(k22)
    rho = np.clip(np.divide(k12, s1 * s2, out=np.zeros_like(k12), where=s1 * s2 > 0), -1.0, 1.0)
    out = np.empty_like(k12).reshape(-1)
    for i, (a, b, r) in enumerate(zip(s1.reshape(-1), s2.reshape(-1), rho.reshape(-1))):
        # r z1 − √(1 − r²) z2 has the same law (z2 is symmetric): no mutation testing on the next line
        out[i] = np.mean(f(a * z1) * g(b * (r * z1 + np.sqrt(1 - r ** 2) * z2)))  # pragma: no mutate
    return out.reshape(k12.shape)


def _check_order(order) -> int:
    return validate.integer("order (Gauss–Legendre nodes per panel)", order, low=2, high=64)


def _variances(names: tuple[str, ...], *values) -> list[np.ndarray]:
    """Arrays of numbers (finite), broadcast against each other; a clear error when they cannot be."""
    arrays = [validate.array(n, v, allow_empty=True) for n, v in zip(names, values)]
    try:
        return [np.array(a) for a in np.broadcast_arrays(*arrays)]
    except ValueError:
        raise ArgumentError(f"{', '.join(names)} must have shapes that broadcast against each other, got "
                            + ", ".join(str(a.shape) for a in arrays)) from None


def _finite(result, what: str) -> np.ndarray:
    if not np.all(np.isfinite(result)):
        raise ArgumentError(f"{what} is not finite (NaN or inf): the integrand overflowed or returned NaN at some "
                         "node; check the activation at large |u|")
    return result


def gaussian_pair_expectation(k11, k12, k22, phi: str | Callable = "relu", *, derivative: bool = False,
                              method: str = "auto", dphi: Callable | None = None, order: int = 8,
                              n_samples: int = 200_000, seed: int = 0) -> np.ndarray:
    """E[φ(u) φ(v)] (or, with ``derivative=True``, E[φ'(u) φ'(v)]) for (u, v) ~ N(0, [[k11, k12], [k12, k22]]).

    Arrays broadcast against each other. ``method``:

    - ``"closed"``: closed forms. ReLU (Cho & Saul's arc-cosine kernel), with cos θ = k12/√(k11 k22):
      E[φφ] = √(k11 k22)/(2π) · (sin θ + (π − θ) cos θ),  E[φ'φ'] = (π − θ)/(2π).
      erf (Williams): E[φφ] = (2/π) arcsin(2 k12 / √((1 + 2k11)(1 + 2k22))),
      E[φ'φ'] = (4/π) / √((1 + 2k11)(1 + 2k22) − 4 k12²). Identity: k12 and 1.
    - ``"quadrature"``: for any φ, the nested integral E[φ(u) E[φ(v) | u]] with u = √k11 z₁ and
      v | u ~ N(m, s²), m = √k22 ρ z₁, s = √(k22 (1 − ρ²)), each 1-D integral by composite
      Gauss–Legendre (``order`` nodes per panel) over ±10 standard deviations. The panels follow
      both scales of the integrand: edges every 1.25 standard deviations of the Gaussian, where u,
      v and m cross 0 and ±0.5·2ᵏ (k = 0…7), where activations bend, and where m crosses
      ±0.5·2ᵏ s (E[φ(v) | u] is φ smoothed over s). So the error does not grow with the
      variances (a fixed Gauss–Hermite grid in z, which this function used before, misses φ's
      features, of width ~1 in u, once √k11 is large) and a kink at 0 (ReLU) lies on a panel edge.
      For tanh, SiLU, erf and ReLU (φ and φ') the relative error is below 10⁻⁹ for variances from
      10⁻⁴ to 10⁶ and any ρ (tests/test_theory_kernels.py compares with scipy.integrate.quad and
      the closed forms). A φ with features much narrower than 0.5, or away from 0 and the bends,
      needs a larger ``order``. Raises ``ValueError`` if the integrand returns NaN or inf.
    - ``"monte_carlo"``: the average over ``n_samples`` Gaussian pairs (error ∝ n_samples^(-1/2)).
    - ``"auto"``: closed form where there is one, quadrature otherwise.
    """
    return _pair_expectation(k11, k12, k22, phi, derivative=derivative, method=method, dphi=dphi, order=order,
                             n_samples=n_samples, seed=seed, check_covariance=True)


def _pair_expectation(k11, k12, k22, phi, *, derivative: bool = False, method: str = "auto",
                      dphi: Callable | None = None, order: int = 8, n_samples: int = 200_000,
                      seed: int = 0, check_covariance: bool = False) -> np.ndarray:
    """:func:`gaussian_pair_expectation`; the recursions call it with ``check_covariance=False``,
    without the test of k12² ≤ k11·k22: their off-diagonal entries may pass the bound by rounding or
    by Monte Carlo noise (a Monte Carlo layer's estimate of E[φ(u)²] on a diagonal entry); the
    correlation is clipped to [−1, 1] inside, as it always was."""
    derivative = validate.flag("derivative", derivative)
    k11, k12, k22 = _variances(("k11", "k12", "k22"), k11, k12, k22)
    if np.any(k11 < 0) or np.any(k22 < 0):
        raise ArgumentError(f"variances k11 and k22 must be non-negative, got entries down to "
                            f"{min(k11.min(initial=0.0), k22.min(initial=0.0)):g}")
    if check_covariance and np.any(np.abs(k12) > np.sqrt(k11 * k22) * (1 + 1e-8) + 1e-300):
        raise ArgumentError("k12 must satisfy k12² ≤ k11·k22 (a covariance matrix [[k11, k12], [k12, k22]] is "
                            "positive semi-definite): some entries of k12 are too large for their variances")
    phi = _activation_name(phi, "phi")
    method = validate.choice("method", method, ("auto", "closed", "quadrature", "monte_carlo"))
    if dphi is not None:
        dphi = validate.function("dphi", dphi)
    name = phi if isinstance(phi, str) else None
    if method == "auto":
        method = "closed" if name in _CLOSED_FORMS else "quadrature"
    if method == "closed":
        if name not in _CLOSED_FORMS:
            raise ArgumentError(f"closed forms exist for {_CLOSED_FORMS}, not for {phi!r}; use method='quadrature'")
        return _closed_form(name, k11, k12, k22, derivative)
    if derivative:
        f = dphi if dphi is not None else activation_derivative(phi)
    else:
        f = activation(phi)
    if method == "quadrature":
        order = _check_order(order)
        # a symmetric kernel matrix repeats every entry: integrate each distinct (k11, k12, k22) once
        triples = np.stack([k11.reshape(-1), k12.reshape(-1), k22.reshape(-1)], axis=1)
        unique, inverse = np.unique(triples, axis=0, return_inverse=True)
        with np.errstate(over="ignore", invalid="ignore"):  # a NaN or inf raises just below
            values = _composite_pair(f, f, unique[:, 0], unique[:, 1], unique[:, 2], order)
        return _finite(values[inverse.reshape(-1)].reshape(k12.shape), "the quadrature of E[φ(u)φ(v)]")
    n_samples = validate.integer("n_samples", n_samples, low=2)
    seed = validate.nonnegative_int("seed", seed)
    with np.errstate(over="ignore", invalid="ignore"):  # a NaN or inf raises just below
        values = _monte_carlo_pair(f, f, k11, k12, k22, n_samples, seed)
    return _finite(values, "the Monte Carlo average of E[φ(u)φ(v)]")


def gaussian_expectation(g: Callable, q, order: int = 8) -> np.ndarray:
    """E[g(√q z)] for z ~ N(0, 1) (``q`` may be an array), by the composite Gauss–Legendre rule of
    :func:`gaussian_pair_expectation`: panels every 1.25 standard deviations over ±10, and panel edges where
    u = √q z crosses 0 and ±0.5·2ᵏ (k = 0…7). Accurate to 10⁻¹⁰ relative or better for tanh, SiLU, erf, ReLU
    and their derivatives at any q from 10⁻⁴ to 10⁶ (checked against scipy.integrate.quad in the tests).
    Raises ``ValueError`` if g returns NaN or inf on the nodes.
    """
    g = validate.function("g", g)
    q = validate.array("q (the variance)", q)
    if np.any(q < 0):
        raise ArgumentError(f"the variance q must be non-negative, got entries down to {q.min():g}")
    order = _check_order(order)
    s = np.sqrt(q)
    z, w = _normal_rule([_GAUSS_EDGES, _bend_edges(np.zeros_like(s), s)], order)
    with np.errstate(over="ignore", invalid="ignore"):  # a NaN or inf raises in _finite
        return _finite(np.sum(w * g(s[..., None] * z), axis=-1), "the quadrature of E[g(√q z)]")


# ----------------------------------------------------------------------------------------------
# The NNGP and NTK recursions
# ----------------------------------------------------------------------------------------------


def input_kernel(X1, X2=None, sigma_w2: float = 1.0, sigma_b2: float = 0.0) -> np.ndarray:
    """The first-layer kernel K⁰(x, x') = σ_b² + σ_w² x·x'/d for the rows of ``X1`` and ``X2``."""
    X1, X2 = _inputs(X1, X2)
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    return sigma_b2 + sigma_w2 * (X1 @ X2.T) / X1.shape[1]


def _inputs(X1, X2) -> tuple[np.ndarray, np.ndarray]:
    """The inputs as float arrays of shape (N1, d) and (N2, d) (one input x may be a 1-D array)."""
    dims = Dims()
    X1 = validate.array("X1", X1, ndim=(1, 2))
    X1 = np.atleast_2d(X1)
    dims.bind("X1", X1.shape, ("N1", "d"))
    if X2 is None:
        return X1, X1
    X2 = np.atleast_2d(validate.array("X2", X2, ndim=(1, 2)))
    dims.bind("X2 (inputs must have the same dimension d as X1)", X2.shape, ("N2", "d"))
    return X1, X2


# every caller passes return_layers (its default is never used): no mutation testing on the def line
def _recursion(X1, X2, depth, phi, sigma_w2, sigma_b2, method, ntk, return_layers=False, **kw):  # pragma: no mutate
    depth = validate.nonnegative_int("depth (the number of hidden layers)", depth)
    phi = _activation_name(phi)
    method = validate.choice("method", method, ("auto", "closed", "quadrature", "monte_carlo"))
    X1, X2 = _inputs(X1, X2)
    K = input_kernel(X1, X2, sigma_w2, sigma_b2)
    k1 = sigma_b2 + sigma_w2 * np.sum(X1 ** 2, axis=1) / X1.shape[1]
    k2 = sigma_b2 + sigma_w2 * np.sum(X2 ** 2, axis=1) / X2.shape[1]
    Theta = K.copy()
    Ks, Thetas = [K], [Theta]
    for _ in range(depth):
        k11, k22 = np.broadcast_to(k1[:, None], K.shape), np.broadcast_to(k2[None, :], K.shape)
        E = _pair_expectation(k11, K, k22, phi, method=method, **kw)
        if ntk:
            Edot = _pair_expectation(k11, K, k22, phi, derivative=True, method=method, **kw)
        # the diagonals follow their own (one-dimensional) recursion
        e1 = gaussian_pair_expectation(k1, k1, k1, phi, method=method, **kw)
        e2 = gaussian_pair_expectation(k2, k2, k2, phi, method=method, **kw)
        K_new = sigma_b2 + sigma_w2 * E
        if ntk:
            Theta = K_new + sigma_w2 * Edot * Theta
        K, k1, k2 = K_new, sigma_b2 + sigma_w2 * e1, sigma_b2 + sigma_w2 * e2
        Ks.append(K)
        Thetas.append(Theta)  # pragma: no mutate (Thetas is returned only with ntk and return_layers: no caller)
    if return_layers:
        return (Ks, Thetas) if ntk else Ks  # pragma: no mutate (no caller asks for both ntk and return_layers)
    return (K, Theta) if ntk else K


def nngp_kernel(X1, X2=None, *, depth: int = 1, activation: str | Callable = "relu",
                sigma_w2: float = 2.0, sigma_b2: float = 0.0, method: str = "auto", return_layers: bool = False,
                **kw):
    """The NNGP kernel Kᴸ(x, x') of the output of a network with ``depth`` = L hidden layers.

    Kᴸ = σ_b² + σ_w² E_{(u,v)~N(0,Kᴸ⁻¹)}[φ(u)φ(v)], from K⁰ = σ_b² + σ_w² x·x'/d (``depth=0`` is
    the linear model). Returns the (len(X1), len(X2)) matrix, or with ``return_layers`` the list
    [K⁰, …, Kᴸ] (the kernels of every layer's preactivations). ``method`` and the keyword
    arguments (``order``, ``dphi``, ...) are passed to :func:`gaussian_pair_expectation`.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    return_layers = validate.flag("return_layers", return_layers)
    # ntk=None would be as falsy as False: no mutation testing on the next line
    return _recursion(X1, X2, depth, activation, sigma_w2, sigma_b2, method, ntk=False,  # pragma: no mutate
                      return_layers=return_layers, **kw)


def ntk_kernel(X1, X2=None, *, depth: int = 1, activation: str | Callable = "relu",
               sigma_w2: float = 2.0, sigma_b2: float = 0.0, method: str = "auto",
               return_nngp: bool = False, **kw):
    """The analytic neural tangent kernel Θᴸ(x, x') in the NTK parameterisation (Jacot et al. 2018).

    Θ⁰ = K⁰ and Θˡ = Kˡ + σ_w² K̇ˡ Θˡ⁻¹ with K̇ˡ = E_{(u,v)~N(0,Kˡ⁻¹)}[φ'(u)φ'(v)]. This is the
    limit of Σ_μ ∂f(x)/∂θ_μ ∂f(x')/∂θ_μ for the network of :class:`course_utils.models.mlp.MLP`
    with ``parameterization="ntk"`` (all weights and biases trained). With ``return_nngp`` the
    NNGP kernel Kᴸ is returned too, as ``(Theta, K)``.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    return_nngp = validate.flag("return_nngp", return_nngp)
    K, Theta = _recursion(X1, X2, depth, activation, sigma_w2, sigma_b2, method, ntk=True, return_layers=False,
                          **kw)
    return (Theta, K) if return_nngp else Theta


# ----------------------------------------------------------------------------------------------
# Signal propagation: the variance map, the correlation map, order and chaos (Poole et al. 2016)
# ----------------------------------------------------------------------------------------------


def variance_map(q, *, activation: str | Callable = "tanh", sigma_w2: float = 1.0, sigma_b2: float = 0.0,
                 order: int = 8) -> np.ndarray:
    """One layer of the length map q ↦ σ_b² + σ_w² E_z[φ(√q z)²] (broadcasts over arrays;
    the expectation by :func:`gaussian_expectation`)."""
    phi = _activation_function(activation)
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2, arrays=True)
    q = validate.array("q (the variance)", q)
    return sigma_b2 + sigma_w2 * gaussian_expectation(lambda u: phi(u) ** 2, q, order)


def variance_fixed_point(*, activation: str | Callable = "tanh", sigma_w2=1.0, sigma_b2=0.0, q0: float = 1.0,
                         tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """The fixed point q* = σ_b² + σ_w² E_z[φ(√q* z)²] of the variance map, by iteration from ``q0``.

    ``sigma_w2`` and ``sigma_b2`` may be arrays (one fixed point per pair). Raises ``ValueError``
    when the iteration does not converge (e.g. ReLU with σ_w² ≥ 2, where q grows without bound).

    For tanh and erf without bias (σ_b² = 0) and σ_w² φ'(0)² ≤ 1, q* = 0 exactly, without iterating:
    there E φ(√q z)² < φ'(0)² q, so q_{l+1} < q_l for every q > 0 and 0 is the only fixed point. At
    σ_w² φ'(0)² = 1 (tanh's defaults σ_w² = 1, σ_b² = 0) q_l reaches it only as q_l ≈ 3/(2l), far too
    slowly for the iteration.
    """
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2, arrays=True)
    activation = _activation_name(activation)
    q0 = validate.nonnegative("q0 (the starting variance)", q0)
    tol = validate.positive("tol", tol)
    max_iter = validate.positive_int("max_iter", max_iter)
    sw, sb = _variances(("sigma_w2", "sigma_b2"), sigma_w2, sigma_b2)
    slope2 = _SATURATING_SLOPE2.get(activation, np.inf) if isinstance(activation, str) else np.inf
    q = np.where((sb == 0) & (sw * slope2 <= 1), 0.0, float(q0))    # the variance map keeps q = 0 there
    for _ in range(max_iter):
        q_new = variance_map(q, activation=activation, sigma_w2=sw, sigma_b2=sb)
        if np.all(np.abs(q_new - q) <= tol * (1 + np.abs(q))):
            return q_new
        if np.any(~np.isfinite(q_new)) or np.any(q_new > 1e12):  # pragma: no mutate (divergence guard; q_new is finite)
            break
        q = q_new
    raise ArgumentError("the variance map did not converge to a fixed point "
                     f"(activation={activation!r}, sigma_w2={sigma_w2}, sigma_b2={sigma_b2})")


def correlation_map(c, *, q: float | None = None, activation: str | Callable = "tanh", sigma_w2: float = 1.0,
                    sigma_b2: float = 0.0, method: str = "auto") -> np.ndarray:
    """One layer of the correlation map at the variance fixed point q*:

    c ↦ (σ_b² + σ_w² E[φ(u)φ(v)]) / q*,   (u, v) ~ N(0, q* [[1, c], [c, 1]]).

    ``q`` defaults to q* (:func:`variance_fixed_point`). c = 1 is always a fixed point. Where q* = 0
    (tanh or erf, σ_b² = 0, σ_w² φ'(0)² ≤ 1) the map is its small-q limit c ↦ σ_w² φ'(0)² c, since
    E[φ(u)φ(v)] = φ'(0)² q c + O(q²).
    """
    activation = _activation_name(activation)
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2, arrays=q is not None)  # q* needs numbers
    if q is None:
        q = float(variance_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2))
    else:
        q = validate.nonnegative("q (the variance q*)", q)
    c = validate.array("c (the correlation)", c, allow_empty=True)
    if np.any(np.abs(c) > 1 + 1e-12):
        raise ArgumentError(f"correlations c must lie in [-1, 1], got entries up to {np.abs(c).max():g} in size")
    if q == 0:
        if not (isinstance(activation, str) and activation in _SATURATING_SLOPE2 and np.all(sigma_b2 == 0)):
            raise ArgumentError("q = 0 (no signal) is a fixed point only for tanh or erf without bias "
                                f"(sigma_b2 = 0); got activation={activation!r}, sigma_b2={sigma_b2}")
        return sigma_w2 * _SATURATING_SLOPE2[activation] * c
    E = gaussian_pair_expectation(q, q * c, q, activation, method=method)
    return (sigma_b2 + sigma_w2 * E) / q


def correlation_fixed_point(*, activation: str = "tanh", sigma_w2: float = 1.0, sigma_b2: float = 0.0) -> float:
    """The stable fixed point c* of :func:`correlation_map`.

    In the ordered phase (χ₁ ≤ 1) c* = 1: all inputs end up perfectly correlated. In the chaotic
    phase (χ₁ > 1) c = 1 is unstable and c* < 1 is the root of M(c) = c below 1, found by bisection
    (M(c) − c is ≥ 0 at c = −1 and < 0 just below c = 1): nearby inputs decorrelate.
    """
    activation = _activation_name(activation, allow_function=False)
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    q = float(variance_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2))
    if float(chi1(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2, q=q)) <= 1:
        return 1.0

    def gap(c):
        return float(correlation_map(c, q=q, activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)) - c

    hi = 1 - 1e-6
    if gap(hi) >= 0:  # χ₁ is so close to 1 that c* cannot be told apart from 1
        return 1.0
    return float(brentq(gap, -1.0, hi, xtol=1e-13))  # pragma: no mutate (xtol: c* is only as exact as q*, ~1e-12)


def chi1(*, activation: str = "tanh", sigma_w2=1.0, sigma_b2=0.0, q=None) -> np.ndarray:
    """χ₁ = σ_w² E_z[φ'(√q* z)²], the slope of the correlation map at c = 1.

    χ₁ < 1: ordered phase (c* = 1 is stable); χ₁ > 1: chaotic phase; χ₁ = 1: the edge of chaos,
    where signals and gradients propagate deepest. Broadcasts over arrays of σ_w², σ_b².
    For ReLU with σ_b = 0, χ₁ = σ_w²/2: criticality is He initialisation σ_w² = 2.
    """
    dphi = activation_derivative(activation)
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2, arrays=True)
    if q is None:
        q = variance_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    return sigma_w2 * gaussian_expectation(lambda u: dphi(u) ** 2, q)


def correlation_length(*, activation: str = "tanh", sigma_w2: float = 1.0, sigma_b2: float = 0.0) -> float:
    """The depth scale ξ_c = −1/ln χ_c over which correlations approach their fixed point c*.

    χ_c = σ_w² E[φ'(u)φ'(v)] with (u, v) ~ N(0, q*[[1, c*], [c*, 1]]) is the slope of the
    correlation map at c* (Schoenholz et al. 2017): |cˡ − c*| ∝ exp(−ℓ/ξ_c). It diverges at the
    edge of chaos. Returns ``inf`` when χ_c = 1.
    """
    activation = _activation_name(activation, allow_function=False)
    sigma_w2, sigma_b2 = _check_sigmas(sigma_w2, sigma_b2)
    q = float(variance_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2))
    c_star = correlation_fixed_point(activation=activation, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
    chi_c = sigma_w2 * float(gaussian_pair_expectation(q, q * c_star, q, activation, derivative=True))
    if chi_c >= 1:
        return np.inf
    return -1.0 / np.log(chi_c)


def relu_excess_kurtosis(width, depth: int) -> np.ndarray:
    """Excess kurtosis of the output of a random ReLU network without biases, at any finite width:

        κ = E[f⁴]/E[f²]² − 3 = 3 [(1 + 5/n)ᴸ − 1]  ≈ 15 L/n  for n ≫ L.

    Derivation: given layer ℓ−1, fˡ is Gaussian with the random variance Qˡ = σ_w²/n Σⱼ φ(fˡ⁻¹ⱼ)²,
    so the output is a Gaussian scale mixture with κ = 3 (E[Q²]/E[Q]² − 1). For ReLU,
    E[φ²] = Q/2 and E[φ⁴] = 3Q²/2 give E[Qˡ⁺¹² | Qˡ] = (σ_w⁴/4)(1 + 5/n) Qˡ², so the ratio
    E[Q²]/E[Q]² grows by (1 + 5/n) per hidden layer, from 1 at the (Gaussian) first layer.
    Independent of σ_w and of the input. ``width`` may be an array.
    """
    n = validate.array("width", width, allow_empty=True)
    if np.any(n < 1):
        raise ArgumentError(f"width must be at least 1, got {validate.show(width)} with entries down to {n.min():g}")
    depth = validate.nonnegative_int("depth", depth)
    return 3 * ((1 + 5 / n) ** depth - 1)


# ----------------------------------------------------------------------------------------------
# Inference and training with a kernel
# ----------------------------------------------------------------------------------------------


def gp_posterior(K_train, K_cross, K_test_diag, y_train, *, noise_var: float = 0.0, jitter: float = 1e-10):
    """Posterior mean and variance of a zero-mean Gaussian process with observation noise.

    With K = K(X, X) (``K_train``), k* = K(x*, X) (rows of ``K_cross``), k** = K(x*, x*)
    (``K_test_diag``) and noise variance σ² (``noise_var``):

        mean(x*) = k*ᵀ (K + σ² I)⁻¹ y,     var(x*) = k** − k*ᵀ (K + σ² I)⁻¹ k*.

    ``y_train`` may have several columns (one GP per column, same kernel). Returns ``(mean, var)``;
    var is the variance of the latent function (add σ² for a new noisy observation).
    """
    dims = Dims()
    K_train = validate.array("K_train", K_train, shape=("N", "N"), dims=dims)
    K_cross = np.atleast_2d(validate.array("K_cross", K_cross, ndim=(1, 2)))
    dims.bind("K_cross", K_cross.shape, ("P", "N"))
    K_test_diag = validate.array("K_test_diag", K_test_diag, shape=("P",), dims=dims)
    y = validate.array("y_train", y_train, ndim=(1, 2))
    dims.bind("y_train", y.shape, ("N",) + (None,) * (y.ndim - 1))
    noise_var = validate.nonnegative("noise_var", noise_var)
    jitter = validate.nonnegative("jitter", jitter)
    n = K_train.shape[0]  # pragma: no mutate (K_train is square, checked above)
    A = K_train + (noise_var + jitter * np.mean(np.diag(K_train))) * np.eye(n)
    try:
        factor = cho_factor(A, lower=True)  # pragma: no mutate (cho_solve reads the triangle from factor)
    except np.linalg.LinAlgError:
        raise ArgumentError("K_train + noise_var·I is not positive definite (is K_train a kernel matrix, symmetric "
                            "with non-negative eigenvalues? duplicate inputs need noise_var > 0 or a larger "
                            "jitter)") from None
    mean = K_cross @ cho_solve(factor, y)
    var = K_test_diag - np.sum(K_cross * cho_solve(factor, K_cross.T).T, axis=1)
    return mean, np.maximum(var, 0.0)


def kernel_regression_dynamics(Theta_train, Theta_cross, y_train, t, *, lr: float = 1.0, f0_train=None,
                               f0_test=None, discrete: bool = False):
    """Predictions of a model trained on the squared loss whose tangent kernel Θ stays fixed.

    Gradient flow in function space, df/dt = −η Θ(·, X) (f(X) − y), i.e. the loss
    L = ½ Σᵢ (f(xᵢ) − yᵢ)² with learning rate η (``lr``; for the mean loss 1/(2N) Σ pass η/N),
    solves to

        f_t(X)  = y + e^{−ηΘt} (f₀(X) − y),
        f_t(x*) = f₀(x*) − Θ(x*, X) Θ⁻¹ (I − e^{−ηΘt}) (f₀(X) − y).

    With ``discrete=True``, t counts gradient-descent steps and e^{−ηΘt} becomes (I − ηΘ)^t:
    the exact trajectory of the linearised model under gradient descent. ``t`` may be a number or
    an array (a leading time axis is added). ``f0_*`` default to 0. Returns ``(f_train, f_test)``.
    """
    dims = Dims()
    discrete = validate.flag("discrete", discrete)
    y = validate.array("y_train", y_train).reshape(-1)
    dims.bind("y_train", y.shape, ("N",))
    n = y.size
    Theta_train = validate.array("Theta_train", Theta_train, shape=("N", "N"), dims=dims)
    Theta_cross = np.atleast_2d(validate.array("Theta_cross", Theta_cross, ndim=(1, 2)))
    dims.bind("Theta_cross", Theta_cross.shape, ("P", "N"))
    lr = validate.positive("lr (the learning rate)", lr)
    if f0_train is None:
        f0_train = np.zeros(n)
    else:
        f0_train = validate.array("f0_train", f0_train).reshape(-1)
        dims.bind("f0_train", f0_train.shape, ("N",))
    if f0_test is None:
        f0_test = np.zeros(Theta_cross.shape[0])
    else:
        f0_test = validate.array("f0_test", f0_test).reshape(-1)
        dims.bind("f0_test", f0_test.shape, ("P",))
    t_arr = np.atleast_1d(validate.array("t (the times)", t, ndim=(0, 1)))
    if np.any(t_arr < 0):
        raise ArgumentError(f"times t must be non-negative, got entries down to {t_arr.min():g}")
    lam, V = np.linalg.eigh(Theta_train)
    lam = np.clip(lam, 0.0, None)
    if discrete and np.any(t_arr != np.round(t_arr)) and np.any(lr * lam > 1):
        raise ArgumentError("with discrete=True, t counts gradient-descent steps and must hold whole numbers when "
                            f"lr·λ > 1 for some eigenvalue λ of Theta_train ((1 − lr·λ)^t is then not real), got "
                            f"{validate.show(t)}")
    r0 = V.T @ (f0_train - y)  # the initial residual in the kernel's eigenbasis
    if discrete:
        decay = (1 - lr * lam[None, :]) ** t_arr[:, None]
    else:
        decay = np.exp(-lr * lam[None, :] * t_arr[:, None])
    # (1 − decay)/λ, with its λ → 0 limit (ηt for the flow, ηt for GD as well to first order)
    with np.errstate(divide="ignore", invalid="ignore"):  # pragma: no mutate (denominators are masked: no 0/0)
        gain = np.where(lam[None, :] > 1e-12 * max(lam.max(), 1e-300),
                        (1 - decay) / np.where(lam > 0, lam, 1.0)[None, :], lr * t_arr[:, None])
    f_train = y[None, :] + (decay * r0[None, :]) @ V.T
    f_test = f0_test[None, :] - ((gain * r0[None, :]) @ V.T) @ Theta_cross.T
    if np.ndim(t) == 0:
        return f_train[0], f_test[0]
    return f_train, f_test
