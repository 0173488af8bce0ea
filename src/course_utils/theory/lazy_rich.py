"""The exactly solvable model of lazy versus rich learning: f(x) = (γx/Z) Σ_{i≤p} a_i b_i, target y = S x.

Used by the chapter on lazy versus rich learning (book/04_feature_learning/02_lazy_vs_rich).

The network sees the input at scale γ (``input_scale``), multiplies its output by 1/Z (``Z``; the
output scale is 1/Z) and must learn y = S x (``target``). With E[x²] = 1 the loss is
L = ½(γw − S)², w = (1/Z) Σ_i a_i b_i, and gradient flow reads

    ȧ_i = g b_i,   ḃ_i = g a_i,   g(t) = (γ/Z)(S − γw).

Every unit (a_i, b_i) is therefore *boosted* by one common rapidity τ(t) = ∫₀ᵗ g dt':

    a_i(τ) = a_i cosh τ + b_i sinh τ,   b_i(τ) = a_i sinh τ + b_i cosh τ,

which conserves a_i² − b_i² (the conserved quantities). Summing, with Q = ‖θ₀‖² = Σ(a_i² + b_i²)
and U = Σ a_i b_i = Z w₀,

    w(τ) = (Q/2Z) sinh 2τ + w₀ cosh 2τ,   ‖θ(τ)‖² = Q cosh 2τ + 2U sinh 2τ,
    ‖θ(τ) − θ₀‖² = 2(cosh τ − 1)(Q cosh τ + 2U sinh τ).

Only two numbers of the initialisation matter:

    ρ = γQ/(2ZS)   the weight-to-target ratio: ‖θ₀‖² over 2ZS/γ, the smallest ‖θ‖² that fits the target;
    ω = γw₀/S      the initial output relative to the target (|ω| ≤ ρ).

The rapidity obeys dτ/dt = (γS/Z)(1 − [ρ sinh 2τ + ω cosh 2τ]); with s = e^{2τ} this is a Riccati
equation with the closed-form solution (s − s₊)/(s − s₋) = (1 − s₊)/(1 − s₋)·e^{−λt},

    s_± = (1 ± √(1 + ρ² − ω²))/(ρ + ω),   λ = (2γS/Z) √(1 + ρ² − ω²).

At convergence s = s₊. For ρ ≫ 1 (lazy) the weights move by ≈ (1 − ω)/(2ρ) of their size and the
output relaxes exponentially at the tangent-kernel rate λ ≈ γ²Q/Z²; for ρ ≪ 1 (rich) they grow by
the factor ≈ ρ^{-1/2} and the output follows a sigmoid delayed by ≈ ln(1/ρ)/λ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import validate as V
from . import layerwise

__all__ = ["weight_to_target_ratio", "rapidity_at_convergence", "relative_change_from_rapidity",
           "norm_ratio_from_rapidity", "relative_change_at_convergence", "ScalarModel",
           "gradient_flow_rhs", "gradient_descent"]


def _finite(name: str, value) -> np.ndarray:
    """A number or an array of numbers as a float array, every entry finite (NaN and ±inf refused)."""
    return V.array(name, value, allow_empty=True)


def _positive(name: str, value) -> np.ndarray:
    v = _finite(name, value)
    if np.any(v <= 0):
        raise V.ArgumentError(f"{name} must be positive (and finite), got {value!r}")
    return v


def _check_ratios(rho, omega) -> tuple[np.ndarray, np.ndarray]:
    rho = _positive("the weight-to-target ratio rho", rho)
    omega = _finite("omega", omega)
    V.broadcast(rho=rho, omega=omega)
    if np.any(np.abs(omega) > rho * (1 + 1e-12)):
        raise V.ArgumentError("the initial output ratio omega must satisfy |omega| ≤ rho "
                         f"(|Σ a_i b_i| ≤ ½ Σ(a_i² + b_i²)), got rho={rho}, omega={omega}")
    return rho, omega


def weight_to_target_ratio(norm_sq, target, *, input_scale=1.0, Z=1.0):
    """ρ = γ‖θ₀‖²/(2ZS): the initial squared weight norm over 2ZS/γ, the smallest squared norm of
    weights that represent y = S x. Small ρ: rich learning; large ρ: lazy learning.

    ``norm_sq`` = ‖θ₀‖² = Σ_i (a_i² + b_i²) (for a_i, b_i ~ N(0, α²): about 2pα²), ``target`` = S,
    ``input_scale`` = γ, ``Z`` the output divisor. Works elementwise on arrays.
    """
    norm_sq = _positive("norm_sq (the squared weight norm)", norm_sq)
    target = _positive("target (the target scale S; flip the sign of the b_i for S < 0)", target)
    gamma, Z = _positive("input_scale", input_scale), _positive("Z", Z)
    V.broadcast(norm_sq=norm_sq, target=target, input_scale=gamma, Z=Z)
    return gamma * norm_sq / (2 * Z * target)


def rapidity_at_convergence(rho, omega=0.0):
    """τ_∞ = ½ ln s₊, the root of ρ sinh 2τ + ω cosh 2τ = 1 (the output equals the target):
    s₊ = (1 + √(1 + ρ² − ω²))/(ρ + ω). For ω = 0, τ_∞ = ½ asinh(1/ρ)."""
    rho, omega = _check_ratios(rho, omega)
    if np.any(rho + omega <= 0):
        raise V.ArgumentError("rho + omega must be positive: with Σ(a_i + b_i)² = 0 the output can never grow")
    return 0.5 * np.log((1 + np.sqrt(1 + rho ** 2 - omega ** 2)) / (rho + omega))


def relative_change_from_rapidity(tau, rho=1.0, omega=0.0):
    """‖θ(τ) − θ₀‖/‖θ₀‖ = √(2(cosh τ − 1)(cosh τ + (ω/ρ) sinh τ)) (ω/ρ = 2U/Q).

    cosh τ − 1 is computed as 2 sinh²(τ/2), which keeps its digits in the lazy limit τ → 0 (where
    cosh τ − 1 ≈ τ²/2 would round to 0 for τ below 10⁻⁸ and the change would read exactly 0).
    """
    rho, omega = _check_ratios(rho, omega)
    tau = _finite("tau", tau)
    V.broadcast(tau=tau, rho=rho, omega=omega)
    cosh_minus_one = 2 * np.sinh(tau / 2) ** 2
    return np.sqrt(np.maximum(2 * cosh_minus_one * (np.cosh(tau) + omega / rho * np.sinh(tau)), 0.0))


def norm_ratio_from_rapidity(tau, rho=1.0, omega=0.0):
    """‖θ(τ)‖/‖θ₀‖ = √(cosh 2τ + (ω/ρ) sinh 2τ)."""
    rho, omega = _check_ratios(rho, omega)
    tau = _finite("tau", tau)
    V.broadcast(tau=tau, rho=rho, omega=omega)
    return np.sqrt(np.cosh(2 * tau) + omega / rho * np.sinh(2 * tau))


def relative_change_at_convergence(rho, omega=0.0):
    """‖θ_∞ − θ₀‖/‖θ₀‖ as a function of the weight-to-target ratio ρ (and ω): ≈ (1 − ω)/(2ρ) for
    ρ ≫ 1 (lazy), ≈ ρ^{-1/2} for ρ ≪ 1 (rich). The four knobs act only through ρ."""
    return relative_change_from_rapidity(rapidity_at_convergence(rho, omega), rho, omega)


@dataclass(frozen=True)
class ScalarModel:
    """Gradient flow of f = (γx/Z) Σ a_i b_i on y = S x, summarised by ‖θ₀‖², w₀ and the knobs.

    Build it from the weights with :meth:`from_weights`. ``rho`` and ``omega`` are the two ratios
    of the module docstring; the methods give the closed-form trajectory at gradient-flow time t
    (for gradient descent with step η, t ≈ η × steps).
    """

    norm_sq: float
    w0: float
    target: float = 1.0
    input_scale: float = 1.0
    Z: float = 1.0

    def __post_init__(self):
        for name in ("norm_sq", "target", "input_scale", "Z"):
            V.positive(name, getattr(self, name))
        V.real("w0", self.w0)
        if abs(self.w0) * self.Z > 0.5 * self.norm_sq * (1 + 1e-12):
            raise V.ArgumentError(f"|w0| = {abs(self.w0)} exceeds ‖θ₀‖²/(2Z) = {self.norm_sq / (2 * self.Z)}: "
                             "no weights have that norm and that output")

    @classmethod
    def from_weights(cls, a, b, target=1.0, *, input_scale=1.0, Z=1.0) -> ScalarModel:
        """The model with initial weights ``a``, ``b`` (arrays of length p)."""
        dims = V.Dims()
        a, b = V.array("a", a, shape=("p",), dims=dims), V.array("b", b, shape=("p",), dims=dims)
        Z = V.positive("Z", Z)
        return cls(float(a @ a + b @ b), float(a @ b) / Z, target, input_scale, Z)

    @property
    def rho(self) -> float:
        """The weight-to-target ratio ρ = γ‖θ₀‖²/(2ZS)."""
        return float(weight_to_target_ratio(self.norm_sq, self.target, input_scale=self.input_scale, Z=self.Z))

    @property
    def omega(self) -> float:
        """The initial output over the target, ω = γw₀/S."""
        return self.input_scale * self.w0 / self.target

    @property
    def rate(self) -> float:
        """λ = (2γS/Z)√(1 + ρ² − ω²), the rate at which the output reaches the target at late times."""
        return 2 * self.input_scale * self.target / self.Z * np.sqrt(1 + self.rho ** 2 - self.omega ** 2)

    def rapidity(self, t):
        """τ(t) = ½ ln s(t), s = (s₊ − s₋ R)/(1 − R), R = (1 − s₊)/(1 − s₋) e^{−λt}.

        The layer is one diagonal mode of :mod:`course_utils.theory.layerwise`: U = Σ a_i b_i obeys
        U̇ = (γ²/Z²)(ZS/γ − U)√(c² + 4U²) with the invariant c² = Q² − 4U² (Q = Σ(a_i² + b_i²)), so τ is
        :func:`~course_utils.theory.layerwise.diagonal_rapidity` with λ = γ²/Z², target ZS/γ, w₀ = Zw₀, c.
        """
        t = _finite("t (the times)", t)
        if np.any(t < 0):
            raise V.ArgumentError(f"times t must be non-negative, got {t!r}")
        if self.rho + self.omega <= 0:
            raise V.ArgumentError("rho + omega = 0 (w0 = −‖θ₀‖²/(2Z)): the output can never grow, no trajectory")
        U0 = self.Z * self.w0
        c = np.sqrt(max(self.norm_sq ** 2 - 4 * U0 ** 2, 0.0))
        gamma = self.input_scale
        return layerwise.diagonal_rapidity(t, gamma ** 2 / self.Z ** 2, self.Z * self.target / gamma, U0, c)

    def output(self, t):
        """w(t) = (Q/2Z) sinh 2τ + w₀ cosh 2τ; the network computes f = γ w x."""
        tau = self.rapidity(t)
        return self.norm_sq / (2 * self.Z) * np.sinh(2 * tau) + self.w0 * np.cosh(2 * tau)

    def loss(self, t):
        """L(t) = ½(γw(t) − S)² (for inputs with E[x²] = 1)."""
        return 0.5 * (self.input_scale * self.output(t) - self.target) ** 2

    def norm_ratio(self, t):
        """‖θ(t)‖/‖θ₀‖."""
        return norm_ratio_from_rapidity(self.rapidity(t), self.rho, self.omega)

    def relative_change(self, t):
        """‖θ(t) − θ₀‖/‖θ₀‖."""
        return relative_change_from_rapidity(self.rapidity(t), self.rho, self.omega)

    def relative_change_at_convergence(self) -> float:
        """‖θ_∞ − θ₀‖/‖θ₀‖ (depends on ρ and ω only)."""
        return float(relative_change_at_convergence(self.rho, self.omega))


def gradient_flow_rhs(a, b, target=1.0, *, input_scale=1.0, Z=1.0):
    """(ȧ, ḃ) = −∇L for L = ½(γw − S)², w = Σ a_i b_i / Z: the right-hand side to integrate numerically.

    ȧ_i = g b_i, ḃ_i = g a_i with g = (γ/Z)(S − γ Σ_j a_j b_j / Z) (sum over the last axis)."""
    V.array("a", a), V.array("b", b)  # the right-hand side at a point: NaN or inf there is a mistake
    a, b, target, input_scale, Z = _check_model(a, b, target, input_scale, Z)
    return _rhs(a, b, target, input_scale, Z)


def _check_model(a, b, target, input_scale, Z):
    a, b = V.array("a", a, finite=False), V.array("b", b, finite=False)
    if a.shape != b.shape or a.ndim == 0:
        raise V.ArgumentError(f"a and b must be arrays of the same shape (…, p), got shapes {a.shape} and {b.shape}")
    target = _finite("target", target)
    input_scale, Z = _positive("input_scale", input_scale), _positive("Z", Z)
    V.broadcast(a=a[..., :1], target=target, input_scale=input_scale, Z=Z)
    return a, b, target, input_scale, Z


def _rhs(a, b, target, input_scale, Z):
    g = input_scale / Z * (target - input_scale * np.sum(a * b, axis=-1, keepdims=True) / Z)
    return g * b, g * a


def gradient_descent(a, b, target=1.0, *, input_scale=1.0, Z=1.0, lr=0.01, steps=1000, record=None):
    """Plain gradient descent θ ← θ − η∇L on the scalar model, for a batch of models at once.

    ``a``, ``b`` have shape (…, p); ``target``, ``input_scale``, ``Z``, ``lr`` broadcast against the
    leading axes (give them shape (…, 1) for one value per model). Returns the final (a, b), and,
    if ``record`` lists steps, also w = Σ a b / Z at those steps (shape (len(record), …)).
    """
    steps = V.nonnegative_int("steps", steps)
    lr = _positive("lr", lr)
    a, b, target, input_scale, Z = _check_model(a, b, target, input_scale, Z)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise V.ArgumentError("a and b must contain only finite numbers")
    V.broadcast(a=a[..., :1], lr=lr)
    a, b = np.array(a, dtype=float), np.array(b, dtype=float)  # pragma: no mutate (a, b are float64 already)
    if record is not None:
        rec = V.array("record", record, ndim=(0, 1), allow_empty=True)
        if np.any(rec != np.round(rec)) or np.any(rec < 0) or np.any(rec > steps):
            raise V.ArgumentError(f"record must list whole steps in 0 … steps = {steps}, got {V.show(record)}")
    record = set() if record is None else {int(s) for s in np.atleast_1d(rec)}
    ws = {}
    for step in range(steps + 1):  # pragma: no mutate (a longer range: the loop breaks at step == steps)
        if step in record:
            ws[step] = (np.sum(a * b, axis=-1, keepdims=True) / Z)[..., 0]
        if step == steps:
            break
        da, db = _rhs(a, b, target, input_scale, Z)
        a, b = a + lr * da, b + lr * db
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        from ..train import TrainingDiverged
        raise TrainingDiverged(f"gradient descent diverged (the weights overflowed to inf/NaN) within {steps} steps: "
                               f"lr = {np.asarray(lr).tolist()} is too large for this target and these scales; "
                               "lr < 1/λ, λ ≈ γ²‖θ‖²/Z² the curvature, is stable", step=steps,
                               lr=np.asarray(lr).tolist())
    if record:
        return a, b, np.array([ws[s] for s in sorted(ws)])
    return a, b
