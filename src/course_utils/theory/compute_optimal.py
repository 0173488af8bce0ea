"""Compute-optimal training: the joint scaling law L(N, D), its fit, and the allocation it implies.

Used by the chapter "How large a model for a given compute? A compute-optimal frontier in
miniature" (book/06_scaling/06_compute_optimal). Hoffmann et al. (2022) fit

    L(N, D) = E + A / N^α + B / D^β                                   (eq-compute-optimal-law)

to the final losses of many runs (their "method 3") and minimise it at fixed compute C ≈ 6 N D:

    N*(C) = G (C/6)^a,  D*(C) = G⁻¹ (C/6)^b,  a = β/(α+β),  b = α/(α+β),
    G = (α A / (β B))^(1/(α+β)).                                      (eq-compute-optimal-allocation)

This module holds

- the law and its gradient (:func:`joint_loss`, :func:`joint_loss_gradient`);
- the fit (:func:`fit_joint_scaling_law`): least squares on log L (weighted, or Hoffmann's Huber
  loss), several starts, standard errors from the Jacobian; a bootstrap over runs
  (:func:`bootstrap_joint_fit`);
- the allocation with propagated errors (:func:`compute_optimal_allocation`);
- the measured frontier of a grid of runs (:func:`iso_flop_profiles`, :func:`measured_frontier`);
- the experiment's teacher, a quadratic form with a power-law spectrum, whose best width-w student
  is known in closed form (:class:`QuadraticTeacher`), and the one-pass training of a batched
  ensemble on fresh samples (:func:`train_one_pass`, a thin wrapper of
  :func:`course_utils.ensemble.train_ensemble`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.optimize import least_squares

from .. import validate

__all__ = [
    "PARAMETER_NAMES", "joint_loss", "joint_loss_gradient", "JointFit", "fit_joint_scaling_law",
    "fit_offset_power_law", "bootstrap_joint_fit", "Allocation", "compute_optimal_allocation", "allocation_exponents",
    "iso_flop_profiles", "measured_frontier", "QuadraticTeacher", "train_one_pass",
]

#: The five parameters of the joint law, in the order used everywhere in this module.
PARAMETER_NAMES = ("E", "A", "alpha", "B", "beta")


def _positive_array(x, name: str) -> np.ndarray:
    x = validate.array(name, x, finite=False, allow_empty=True)
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError(f"{name} must be finite and positive, got {x if x.size < 8 else str(x.shape) + ' array'}")
    return x


def _params(params, name: str = "params") -> np.ndarray:
    if isinstance(params, JointFit):
        return params.params
    p = validate.array(name, params, finite=False, allow_empty=True).ravel()
    if p.shape != (5,) or not np.all(np.isfinite(p)):
        raise ValueError(f"{name} must be the 5 numbers (E, A, alpha, B, beta), got {params!r}")
    return p


def joint_loss(N, D, params) -> np.ndarray:
    """The joint scaling law L(N, D) = E + A N^(−α) + B D^(−β) (eq-compute-optimal-law).

    ``params`` is (E, A, alpha, B, beta) or a :class:`JointFit`; N and D broadcast.
    """
    E, A, alpha, B, beta = _params(params)
    N, D = _positive_array(N, "N"), _positive_array(D, "D")
    try:
        np.broadcast_shapes(N.shape, D.shape)
    except ValueError:
        raise validate.ArgumentError(f"N and D must have shapes that broadcast, got {N.shape} and {D.shape}") from None
    return E + A * N ** -alpha + B * D ** -beta


def joint_loss_gradient(N, D, params) -> np.ndarray:
    """∂L/∂(E, A, α, B, β) of the joint law, shape broadcast(N, D).shape + (5,):

    (1, N^−α, −A N^−α ln N, D^−β, −B D^−β ln D).
    """
    E, A, alpha, B, beta = _params(params)
    N, D = _positive_array(N, "N"), _positive_array(D, "D")
    try:
        N, D = np.broadcast_arrays(N, D)
    except ValueError:
        raise validate.ArgumentError(f"N and D must have shapes that broadcast, got {N.shape} and {D.shape}") from None
    n, d = N ** -alpha, D ** -beta
    return np.stack([np.ones_like(n), n, -A * n * np.log(N), d, -B * d * np.log(D)], axis=-1)


@dataclass
class JointFit:
    """A fitted joint law: parameters (E, A, α, B, β), their covariance, and the fit's quality.

    ``cov`` is the covariance of (E, A, α, B, β) (propagated from the fit's internal parameters
    (log E, log A, α, log B, β)); ``chi2`` is the weighted sum of squared residuals of log L and
    ``dof`` = points − 5; ``scaled`` says whether ``cov`` was multiplied by χ²/dof (Birge ratio,
    done when χ²/dof > 1 so that a misfit widens the errors). ``log_cov`` is the covariance of the
    internal parameters, used by :func:`compute_optimal_allocation`.
    """

    params: np.ndarray
    cov: np.ndarray
    log_cov: np.ndarray
    chi2: float
    dof: int
    loss: str
    scaled: bool
    residuals: np.ndarray = field(repr=False)
    theta: np.ndarray | None = field(default=None, repr=False)

    def __getattr__(self, name):
        if name in PARAMETER_NAMES:
            return float(self.params[PARAMETER_NAMES.index(name)])
        if name.endswith("_se") and name[:-3] in PARAMETER_NAMES:
            i = PARAMETER_NAMES.index(name[:-3])
            return float(np.sqrt(max(self.cov[i, i], 0.0)))
        raise AttributeError(name)

    @property
    def stderr(self) -> np.ndarray:
        """Standard errors of (E, A, α, B, β)."""
        return np.sqrt(np.maximum(np.diag(self.cov), 0.0))

    @property
    def internal(self) -> np.ndarray:
        """The fit's internal parameters (log E, log A, α, log B, β) (kept as fitted: E may underflow)."""
        if self.theta is not None:
            return self.theta.copy()
        E, A, alpha, B, beta = self.params
        return np.array([np.log(E), np.log(A), alpha, np.log(B), beta])

    def __call__(self, N, D) -> np.ndarray:
        return joint_loss(N, D, self.params)


def _from_internal(theta: np.ndarray) -> np.ndarray:
    return np.array([np.exp(theta[0]), np.exp(theta[1]), theta[2], np.exp(theta[3]), theta[4]])


def _huber_rho(z: np.ndarray) -> np.ndarray:
    """scipy's 'huber' ρ(z) for z = r²: z if z ≤ 1, else 2√z − 1."""
    return np.where(z <= 1, z, 2 * np.sqrt(z) - 1)


def fit_joint_scaling_law(N, D, L, sigma=None, *, loss: str = "linear", huber_delta: float = 1e-3,
                          starts: Sequence[Sequence[float]] | None = None,
                          x0: Sequence[float] | None = None) -> JointFit:
    """Fit L(N, D) = E + A N^(−α) + B D^(−β) to measured losses, on log L.

    Minimises Σ_i ρ(r_i) with r_i = (log L(N_i, D_i; θ) − log L_i)/s_i over θ = (log E, log A, α,
    log B, β), the parameterisation of Hoffmann et al. (2022) (positive E, A, B by construction).

    - ``loss="linear"``: ρ(r) = r², weighted least squares, with s_i = ``sigma`` (the standard
      error of log L_i; e.g. the seed-to-seed standard error of the mean divided by L_i). Without
      ``sigma`` every point has weight 1.
    - ``loss="huber"``: Hoffmann's choice, Huber's loss of the unweighted residual of log L with
      threshold ``huber_delta`` (10⁻³ in the paper): ρ = r² for |r| ≤ δ, 2δ|r| − δ² beyond, so that
      outliers pull linearly.

    Several starts (``starts``: rows of internal parameters; default a small grid over α, β and
    log B, or only ``x0``) are each refined with ``scipy.optimize.least_squares``; the best
    objective wins. Standard errors: cov(θ) = (JᵀWJ)⁻¹ at the optimum, J = ∂(log L)/∂θ, times χ²/dof
    when that exceeds 1; then propagated to (E, A, α, B, β) with the Jacobian of the change of
    variables. For the Huber loss the same Gauss–Newton formula is used with unit weights and the
    mean squared residual as the variance (an approximation: say so where it matters).
    """
    N, D, L = (validate.array(name, v, finite=False, allow_empty=True).ravel()
               for v, name in ((N, "N"), (D, "D"), (L, "L")))
    if not (N.shape == D.shape == L.shape):
        raise ValueError(f"N, D and L must have the same number of points, got {N.size}, {D.size}, {L.size}")
    if N.size < 6:
        raise ValueError(f"the joint law has 5 parameters: need at least 6 points, got {N.size}")
    for v, name in ((N, "N"), (D, "D"), (L, "L")):
        _positive_array(v, name)
    loss = validate.choice("loss", loss, ("linear", "huber"))
    if sigma is None:
        s = np.ones_like(L)
    else:
        s = validate.array("sigma", sigma, finite=False)
        s = _positive_array(np.full(L.shape, float(s)) if s.ndim == 0 else s.ravel(), "sigma")
        if s.shape != L.shape:
            raise ValueError(f"sigma must be one number or one per point ({L.size}), got {s.size}")
    if loss == "huber":
        validate.positive("huber_delta", huber_delta)
        s = np.full_like(L, huber_delta)       # scipy's huber has threshold 1 on r/s
    logN, logD, logL = np.log(N), np.log(D), np.log(L)

    def residuals(theta):
        e, a, alpha, b, beta = theta
        terms = np.stack([np.full_like(logN, e), a - alpha * logN, b - beta * logD])
        m = terms.max(axis=0)
        model = m + np.log(np.exp(terms - m).sum(axis=0))          # log-sum-exp, as Hoffmann
        return (model - logL) / s

    def jacobian(theta):
        e, a, alpha, b, beta = theta
        terms = np.stack([np.full_like(logN, e), a - alpha * logN, b - beta * logD])
        w = np.exp(terms - terms.max(axis=0))
        w /= w.sum(axis=0)                                          # shares of E, A/N^α, B/D^β in L
        J = np.stack([w[0], w[1], -w[1] * logN, w[2], -w[2] * logD], axis=1)
        return J / s[:, None]

    if x0 is not None:
        starts = [validate.array("x0", x0, shape=(5,))]
    if starts is None:
        e0 = np.log(0.5 * L.min())
        span = np.log(L.max() - 0.5 * L.min() + 1e-300)
        starts = [np.array([e0, span + al * np.log(N.min()), al, span + be * np.log(D.min()), be])
                  for al in (0.3, 0.7, 1.5) for be in (0.3, 0.7, 1.5)]
    best = None
    for start in starts:
        start = validate.array("each start", start)
        if start.shape != (5,):
            raise ValueError(f"each start must have 5 internal parameters (log E, log A, α, log B, β), got {start.shape}")
        with warnings.catch_warnings(), np.errstate(all="ignore"):   # far-off starts may overflow on the way
            warnings.simplefilter("ignore", RuntimeWarning)
            res = least_squares(residuals, start, jac=jacobian, loss="huber" if loss == "huber" else "linear",
                                method="trf", x_scale="jac", max_nfev=2000)
        if best is None or res.cost < best.cost:
            best = res
    theta = best.x
    r = residuals(theta)
    J = jacobian(theta)
    dof = N.size - 5
    if loss == "linear":
        chi2 = float(r @ r)
        birge = chi2 / dof
        JtJ = J.T @ J
    else:
        r_log = r * huber_delta
        chi2 = float(2 * np.sum(_huber_rho(r ** 2)) * huber_delta ** 2)
        birge = float(r_log @ r_log) / dof
        JtJ = (J * huber_delta).T @ (J * huber_delta)
    log_cov = np.linalg.pinv(JtJ)
    scaled = loss == "huber" or birge > 1
    if scaled:
        log_cov = log_cov * birge
    params = _from_internal(theta)
    T = np.diag([params[0], params[1], 1.0, params[3], 1.0])        # ∂(E, A, α, B, β)/∂θ
    return JointFit(params=params, cov=T @ log_cov @ T, log_cov=log_cov, chi2=chi2, dof=dof, loss=loss,
                    scaled=scaled, residuals=r if loss == "linear" else r * huber_delta, theta=theta.copy())


def fit_offset_power_law(x, y, sigma=None) -> tuple[np.ndarray, np.ndarray]:
    """Fit y = E + A x^(−α) (one variable, with an offset) by least squares on log y.

    The one-variable cousin of :func:`fit_joint_scaling_law` (``cu.fit_power_law`` has no
    offset): residuals (log(E + A x^−α) − log y)/σ over (log E, log A, α), several starts.
    Returns ((E, A, α), their standard errors from the Jacobian, scaled by χ²/dof when > 1 or
    when no ``sigma`` is given). Used to fit the same law to a theory's finite-size curve as to
    the measurement ("like with like").
    """
    x, y = _positive_array(x, "x").ravel(), _positive_array(y, "y").ravel()
    if x.shape != y.shape or x.size < 4:
        raise ValueError(f"x and y must have the same length, at least 4, got {x.size} and {y.size}")
    s = np.ones_like(y) if sigma is None else _positive_array(sigma, "sigma").ravel()
    if np.ptp(x) == 0:
        raise validate.ArgumentError("x must not be all equal: the exponent α is undefined on a single x")
    if s.shape != y.shape:
        raise ValueError(f"sigma must have one entry per point ({y.size}), got {s.size}")
    lx, ly = np.log(x), np.log(y)

    def parts(theta):
        t = np.stack([np.full_like(lx, theta[0]), theta[1] - theta[2] * lx])
        m = t.max(axis=0)
        w = np.exp(t - m)
        return m + np.log(w.sum(axis=0)), w / w.sum(axis=0)

    def residuals(theta):
        return (parts(theta)[0] - ly) / s

    def jacobian(theta):
        w = parts(theta)[1]
        return np.stack([w[0], w[1], -w[1] * lx], axis=1) / s[:, None]

    best = None
    for al in (0.3, 1.0, 2.0):
        start = np.array([np.log(0.5 * y.min()), np.log(y.max()) + al * lx.min(), al])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            res = least_squares(residuals, start, jac=jacobian, method="trf", x_scale="jac", max_nfev=2000)
        if best is None or res.cost < best.cost:
            best = res
    J = jacobian(best.x)
    dof = max(x.size - 3, 1)
    chi2 = float(best.fun @ best.fun)
    cov = np.linalg.pinv(J.T @ J) * (chi2 / dof if sigma is None or chi2 / dof > 1 else 1.0)
    E, A, alpha = np.exp(best.x[0]), np.exp(best.x[1]), best.x[2]
    T = np.diag([E, A, 1.0])
    return np.array([E, A, alpha]), np.sqrt(np.maximum(np.diag(T @ cov @ T), 0.0))


def bootstrap_joint_fit(N, D, L_runs, n_boot: int, rng: np.random.Generator, *, x0=None,
                        loss: str = "linear") -> np.ndarray:
    """Bootstrap over runs: refit the joint law to the seed-means of resampled seeds.

    ``L_runs`` has shape (S, P): S independent runs (seeds) of the same P points (N_i, D_i). Each
    replicate draws S seeds with replacement, averages them, and fits (weighted by the replicate's
    own standard errors of log L when ``loss="linear"``), starting from ``x0`` (internal
    parameters, e.g. ``fit.internal``). Returns the (n_boot, 5) array of (E, A, α, B, β).
    """
    L_runs = _positive_array(L_runs, "L_runs")
    if L_runs.ndim != 2 or L_runs.shape[0] < 2:
        raise ValueError(f"L_runs must have shape (seeds ≥ 2, points), got {L_runs.shape}")
    n_boot = validate.integer("n_boot", n_boot, low=2)
    rng = validate.generator("rng", rng)
    loss = validate.choice("loss", loss, ("linear", "huber"))
    for v, name in ((N, "N"), (D, "D")):
        if _positive_array(v, name).size != L_runs.shape[1]:
            raise validate.ArgumentError(f"{name} must have one entry per point of L_runs ({L_runs.shape[1]}), "
                                         f"got {validate.show(v)}")
    S = L_runs.shape[0]
    out = np.empty((n_boot, 5))
    for k in range(n_boot):
        pick = L_runs[rng.integers(0, S, S)]
        mean = pick.mean(axis=0)
        se = pick.std(axis=0, ddof=1) / np.sqrt(S) / mean
        sigma = np.maximum(se, 1e-3 * np.median(se[se > 0])) if np.any(se > 0) else None
        out[k] = fit_joint_scaling_law(N, D, mean, sigma if loss == "linear" else None, loss=loss, x0=x0).params
    return out


def allocation_exponents(alpha: float, beta: float) -> tuple[float, float]:
    """The exponents of N* ∝ C^a and D* ∝ C^b: a = β/(α+β), b = α/(α+β) (a + b = 1)."""
    validate.real("alpha", alpha)
    validate.real("beta", beta)
    if not (alpha > 0 and beta > 0):
        raise ValueError(f"alpha and beta must be positive, got {alpha}, {beta}")
    return beta / (alpha + beta), alpha / (alpha + beta)


@dataclass
class Allocation:
    """The compute-optimal allocation at compute C: N*, D*, L* and their standard errors.

    ``log_N_se`` and ``log_D_se`` are standard errors of ln N* and ln D* (D* = C/(6N*) so they are
    equal); ``a``, ``a_se`` the exponent of N* ∝ C^a and its standard error; ``band(k)`` the
    interval N* e^(±k·se).
    """

    C: np.ndarray
    N: np.ndarray
    D: np.ndarray
    L: np.ndarray
    log_N_se: np.ndarray
    L_se: np.ndarray
    a: float
    a_se: float
    G: float

    @property
    def log_D_se(self) -> np.ndarray:
        return self.log_N_se

    def band(self, k: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """N* e^(−k·se) and N* e^(+k·se): the ±k standard-error band of N*."""
        validate.nonnegative("k", k)
        return self.N * np.exp(-k * self.log_N_se), self.N * np.exp(k * self.log_N_se)


def _allocation_internal(theta: np.ndarray, C: np.ndarray, flops_per: float):
    """ln N*, ln D*, L* and a from internal parameters θ = (log E, log A, α, log B, β)."""
    e, logA, alpha, logB, beta = theta
    s = alpha + beta
    logG = (np.log(alpha) + logA - np.log(beta) - logB) / s
    logN = logG + beta / s * np.log(C / flops_per)
    logD = np.log(C / flops_per) - logN
    L = np.exp(e) + np.exp(logA - alpha * logN) + np.exp(logB - beta * logD)
    return logN, logD, L, beta / s, logG


def compute_optimal_allocation(C, fit: JointFit | Sequence[float], *, flops_per: float = 6.0,
                               cov: np.ndarray | None = None) -> Allocation:
    """Minimise the joint law at fixed compute C = flops_per · N · D (eq-compute-optimal-allocation).

    With D = C/(6N), dL/dN = −αA N^(−α−1) + βB (C/6)^(−β) N^(β−1) = 0 gives
    N*(C) = G (C/6)^(β/(α+β)), D*(C) = G⁻¹ (C/6)^(α/(α+β)), G = (αA/(βB))^(1/(α+β)).

    Errors (delta method): the gradient of ln N*, L* and a with respect to the internal
    parameters (log E, log A, α, log B, β), by central differences, contracted with the fit's
    ``log_cov`` (or ``cov``, the covariance of those internal parameters). A plain parameter
    vector (E, A, α, B, β) without ``cov`` gives zero errors.
    """
    C = _positive_array(C, "C")
    validate.positive("flops_per", flops_per)
    if isinstance(fit, JointFit):
        theta, Sigma = fit.internal, fit.log_cov if cov is None else validate.array("cov", cov, allow_empty=True)
    else:
        p = _params(fit, "fit")
        if np.any(p[[0, 1, 3]] <= 0) or p[2] <= 0 or p[4] <= 0:
            raise ValueError(f"E, A, alpha, B, beta must be positive, got {p}")
        theta = np.array([np.log(p[0]), np.log(p[1]), p[2], np.log(p[3]), p[4]])
        Sigma = np.zeros((5, 5)) if cov is None else validate.array("cov", cov, allow_empty=True)
    if not np.all(np.isfinite(theta)):
        raise validate.ArgumentError(f"the fit's parameters must be finite, got internal parameters {theta}")
    if Sigma.shape != (5, 5):
        raise ValueError(f"cov must be 5×5, got {Sigma.shape}")
    if theta[2] <= 0 or theta[4] <= 0:
        raise ValueError(f"the fitted exponents must be positive for an optimum to exist, got α = {theta[2]}, "
                         f"β = {theta[4]}")
    logN, logD, L, a, logG = _allocation_internal(theta, C, flops_per)
    grads = []
    for i in range(5):
        h = 1e-6 * max(1.0, abs(theta[i]))   # E may sit at log E ≈ −250: absolute steps there
        up, dn = theta.copy(), theta.copy()
        up[i] += h
        dn[i] -= h
        fu, fd = _allocation_internal(up, C, flops_per), _allocation_internal(dn, C, flops_per)
        grads.append([(u - v) / (2 * h) for u, v in zip(fu[:4], fd[:4])])
    gN = np.stack([g[0] for g in grads], axis=-1)
    gL = np.stack([g[2] for g in grads], axis=-1)
    ga = np.array([g[3] for g in grads])
    var_logN = np.einsum("...i,ij,...j->...", gN, Sigma, gN)
    var_L = np.einsum("...i,ij,...j->...", gL, Sigma, gL)
    return Allocation(C=C, N=np.exp(logN), D=np.exp(logD), L=L, log_N_se=np.sqrt(np.maximum(var_logN, 0)),
                      L_se=np.sqrt(np.maximum(var_L, 0)), a=float(a), a_se=float(np.sqrt(max(ga @ Sigma @ ga, 0))),
                      G=float(np.exp(logG)))


def iso_flop_profiles(N, D, L, C_levels, *, flops_per: float = 6.0) -> np.ndarray:
    """The loss of each model size at each compute level: L_i(D = C/(flops_per·N_i)), shape (levels, sizes).

    ``N`` (sizes,), ``D`` (records,) the data counts at which every run was recorded (increasing),
    ``L`` (records, sizes) the losses (one run, or a seed-mean, per size). Each run's curve is
    interpolated linearly in (ln D, ln L); NaN where C/(flops_per·N) lies outside the recorded D.
    """
    N, D, C_levels = _positive_array(N, "N").ravel(), _positive_array(D, "D").ravel(), _positive_array(C_levels, "C_levels").ravel()
    L = _positive_array(L, "L")
    validate.positive("flops_per", flops_per)
    if L.shape != (D.size, N.size):
        raise ValueError(f"L must have shape (len(D), len(N)) = ({D.size}, {N.size}), got {L.shape}")
    if np.any(np.diff(D) <= 0):
        raise ValueError("D must increase")
    out = np.full((C_levels.size, N.size), np.nan)
    for j in range(N.size):
        d = C_levels / (flops_per * N[j])
        inside = (d >= D[0]) & (d <= D[-1])
        out[inside, j] = np.exp(np.interp(np.log(d[inside]), np.log(D), np.log(L[:, j])))
    return out


def measured_frontier(N, profiles) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The measured compute-optimal size at each compute level, from iso-FLOP profiles.

    For each row of ``profiles`` (levels, sizes; NaN where a size was not measured at that
    compute): the size with the lowest loss (the envelope of the training curves, Hoffmann's
    "method 1", resolution = the grid of N) and the vertex of a parabola in ln N through that
    point and its two neighbours (their "method 2" in miniature). Returns (N_grid_min,
    N_parabola, L_min); N_parabola is NaN where the minimum is at an end of the measured sizes
    or the parabola opens downwards (no interior minimum).
    """
    N = _positive_array(N, "N").ravel()
    profiles = validate.array("profiles", profiles, finite=False, allow_empty=True)   # NaN: not measured
    if profiles.ndim != 2 or profiles.shape[1] != N.size:
        raise ValueError(f"profiles must have shape (levels, {N.size}), got {profiles.shape}")
    if np.any(np.isinf(profiles)) or np.any(profiles <= 0):
        raise validate.ArgumentError("profiles must hold positive losses (NaN where a size was not measured), "
                                     "got ±inf or a loss ≤ 0")
    n_grid = np.full(profiles.shape[0], np.nan)
    n_par = np.full(profiles.shape[0], np.nan)
    l_min = np.full(profiles.shape[0], np.nan)
    logN = np.log(N)
    for i, row in enumerate(profiles):
        ok = np.isfinite(row)
        if not ok.any():
            continue
        j = int(np.nanargmin(row))
        n_grid[i], l_min[i] = N[j], row[j]
        if 0 < j < N.size - 1 and ok[j - 1] and ok[j + 1]:
            x, y = logN[j - 1: j + 2], np.log(row[j - 1: j + 2])
            c2, c1, _ = np.polyfit(x, y, 2)
            if c2 > 0:
                n_par[i] = np.exp(np.clip(-c1 / (2 * c2), x[0], x[2]))
    return n_grid, n_par, l_min


def _torch_generator(name: str, value) -> torch.Generator:
    """``value``, checked to be a ``torch.Generator`` (the random source of the teacher's draws)."""
    if not isinstance(value, torch.Generator):
        raise validate.ArgumentError(f"{name} must be a torch.Generator (e.g. torch.Generator().manual_seed(0)), "
                                     f"got {validate.show(value)}")
    return value


class QuadraticTeacher:
    """The target of the experiment: a quadratic form with a power-law spectrum, plus label noise.

    f*(x) = Σ_{j=1}^{d} λ_j ((q_j·x)² − 1),   y = f*(x) + σ ξ,   x, ξ ~ N(0, 1),
    λ_j ∝ j^(−γ) normalised so that Var f* = 2 Σ_j λ_j² = 1; q_j orthonormal (a random rotation
    drawn from ``generator``).

    A two-layer network with quadratic activation and width w, f(x) = Σ_i c_i (w_i·x + b_i)² + c₀,
    is a quadratic form of rank ≤ w (plus lower-order terms); the best one keeps the w largest
    λ_j (Eckart–Young), so the loss of an infinitely trained width-w student is

        L_∞(w) = σ² + 2 Σ_{j>w} λ_j²                                   (eq-compute-optimal-floor)

    (:meth:`floor`), ≈ σ² + w^(1−2γ)/((2γ−1) Z) for 1 ≪ w ≪ d, Z = Σ_j j^(−2γ) (λ_j² = j^(−2γ)/(2Z)).
    """

    def __init__(self, d: int, gamma: float, sigma: float, generator: torch.Generator,
                 dtype: torch.dtype = torch.float32):
        validate.positive_int("d", d)
        validate.positive("gamma", gamma)
        validate.nonnegative("sigma", sigma)
        _torch_generator("generator", generator)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise validate.ArgumentError(f"dtype must be a floating torch dtype (torch.float32 or torch.float64), "
                                         f"got {validate.show(dtype)}")
        self.d, self.gamma, self.sigma, self.dtype = int(d), float(gamma), float(sigma), dtype
        lam = np.arange(1, self.d + 1, dtype=float) ** -self.gamma
        self.lam = lam / np.sqrt(2 * np.sum(lam ** 2))
        q, r = torch.linalg.qr(torch.randn(self.d, self.d, generator=generator, dtype=torch.float64))
        self.Q = (q * torch.sign(torch.diagonal(r))).to(dtype)
        self._lam_t = torch.as_tensor(self.lam, dtype=dtype)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """f*(x) = Σ_j λ_j ((q_j·x)² − 1) for x of shape (..., d): shape (...).

        NumPy arrays and lists are converted, and a tensor of another float dtype is converted to the
        teacher's ``dtype``.
        """
        x = validate.tensor("x", x, dtype=self.dtype, allow_empty=True)
        if x.ndim < 1 or x.shape[-1] != self.d:
            raise validate.ArgumentError(f"x must have shape (..., d) with d = {self.d}, got {tuple(x.shape)}")
        return self._target(x)

    def _target(self, x: torch.Tensor) -> torch.Tensor:
        z = x @ self.Q
        return ((z * z - 1) * self._lam_t).sum(-1)

    def sample(self, shape: tuple[int, ...], generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Fresh samples x (shape + (d,)) and noisy labels y = f*(x) + σ ξ (shape + (1,))."""
        if isinstance(shape, (int, np.integer)):
            shape = (shape,)
        if not isinstance(shape, (tuple, list, torch.Size)):
            raise validate.ArgumentError(f"shape must be a tuple of sizes, got {validate.show(shape)}")
        shape = tuple(validate.nonnegative_int(f"shape[{i}]", n) for i, n in enumerate(shape))
        _torch_generator("generator", generator)
        x = torch.randn(*shape, self.d, generator=generator, dtype=self.dtype)
        y = self._target(x) + self.sigma * torch.randn(*shape, generator=generator, dtype=self.dtype)
        return x, y[..., None]

    def excess_loss(self, model) -> torch.Tensor:
        """The exact test loss minus σ², E_x[(f(x) − f*(x))²], of every member of a two-layer
        quadratic-activation :class:`~course_utils.ensemble.BatchedMLP` [d, w, 1], shape (K,).

        The member is f(x) = Σ_i c_i (w_i·x + b_i)² + c₀ = xᵀMx + v·x + s with M = Σ_i c_i w_i w_iᵀ,
        v = 2 Σ_i c_i b_i w_i, s = Σ_i c_i b_i² + c₀; the teacher is xᵀAx − tr A with A = Q diag(λ) Qᵀ.
        For x ~ N(0, I), E[(xᵀΔx)²] = 2 tr Δ² + (tr Δ)² and odd moments vanish, so

            E(f − f*)² = 2 ‖M − A‖_F² + (tr M + s)² + |v|²           (eq-compute-optimal-exact-loss)

        (no test set, no sampling noise).
        """
        layers = getattr(model, "layers", None)
        if layers is None or len(layers) != 2:
            raise validate.ArgumentError(f"model must be a two-layer BatchedMLP [d, w, 1], got {validate.show(model)}")
        first, second = layers
        if first.weight.ndim != 3 or first.weight.shape[1] != self.d or second.weight.shape[-1] != 1:
            raise validate.ArgumentError(f"model must be a BatchedMLP of sizes [d = {self.d}, w, 1]; its layers' "
                                         f"weights have shapes {tuple(first.weight.shape)} and "
                                         f"{tuple(second.weight.shape)}")
        W, b = first.weight, first.bias[:, 0, :]                     # (K, d, w), (K, w)
        c, c0 = second.weight[:, :, 0], second.bias[:, 0, 0]         # (K, w), (K,)
        Q = self.Q.to(W.dtype)                                      # the teacher's dtype may differ from the model's
        A = (Q * self._lam_t.to(W.dtype)) @ Q.T
        M = torch.einsum("kiw,kw,kjw->kij", W, c, W)
        v = 2 * torch.einsum("kiw,kw->ki", W, c * b)
        s = (c * b * b).sum(1) + c0
        trM = torch.diagonal(M, dim1=1, dim2=2).sum(1)
        return 2 * ((M - A) ** 2).sum((1, 2)) + (trM + s) ** 2 + (v ** 2).sum(1)

    def floor(self, width) -> np.ndarray:
        """L_∞(w) = σ² + 2 Σ_{j>w} λ_j² (eq-compute-optimal-floor): the best loss of width w."""
        w = validate.array("width", width, dtype=None, allow_empty=True)
        if w.dtype.kind not in "iuf" or np.any(w < 0) or np.any(w != np.round(w)):
            raise ValueError(f"width must be whole numbers ≥ 0, got {width}")
        tail = np.concatenate([np.cumsum((self.lam ** 2)[::-1])[::-1], [0.0]])   # tail[k] = Σ_{j>k} λ_j²
        return self.sigma ** 2 + 2 * tail[np.minimum(w.astype(int), self.d)]


def train_one_pass(model, sample: Callable[[tuple[int, ...], torch.Generator], tuple[torch.Tensor, torch.Tensor]],
                   optimizer, *, batch: int, record_steps: Sequence[int], evaluate: Callable[[], np.ndarray],
                   generator: torch.Generator, lr_schedule: Callable[[int], float] | None = None,
                   loss_fn=None, chunk_steps: int = 128, desc: str = "one pass") -> np.ndarray:
    """Train every member of a batched model for one pass over fresh samples; evaluate at ``record_steps``.

    Between consecutive record steps t₀ < t₁ each member k gets its own (t₁ − t₀)·``batch`` new
    samples from ``sample((K, n), generator)`` and :func:`~course_utils.ensemble.train_ensemble`
    takes t₁ − t₀ minibatch steps of ``batch`` on them, an epoch of its own permutation: every
    sample is used exactly once, so after t steps a member has seen D = t·batch samples. The
    optimiser (and its state) carries over, so the run is one run. ``evaluate()`` returns one
    value per member (e.g. the test loss); the result has shape (len(record_steps), K).

    ``lr_schedule(t)``: the factor that multiplies the optimiser's initial learning rates during
    the segment that starts at step t (piecewise constant between record steps). A schedule that
    does not depend on the horizon (constant, or decaying as a power of t) makes the checkpoint at
    step t the run one would make for a budget of t steps; a schedule fitted to the last step
    (cosine) would not (Hoffmann et al. 2022). Samples are drawn ``chunk_steps`` steps at a time
    (memory: K · chunk_steps · batch inputs).
    """
    from ..ensemble import mse_per_sample, train_ensemble
    from ..progress import progress
    from ..train import TrainingDiverged

    loss_fn = mse_per_sample if loss_fn is None else validate.function("loss_fn", loss_fn)
    validate.function("sample", sample)
    validate.function("evaluate", evaluate)
    if lr_schedule is not None:
        validate.function("lr_schedule", lr_schedule)
    if not isinstance(generator, torch.Generator):
        raise validate.ArgumentError(f"generator must be a torch.Generator, got {validate.show(generator)}")
    steps = [validate.integer("record_steps", s, low=0) for s in validate.array("record_steps", record_steps,
                                                                                ndim=1, dtype=None)]
    if np.any(np.diff(steps) <= 0):
        raise validate.ArgumentError(f"record_steps must be increasing and ≥ 0, got {steps}")
    batch, chunk_steps = validate.positive_int("batch", batch), validate.positive_int("chunk_steps", chunk_steps)
    K = getattr(model, "n_members", None)
    if K is None:
        raise validate.ArgumentError(f"model must be a batched model with n_members, got {validate.show(model)}")
    if not isinstance(optimizer, torch.optim.Optimizer) or not all(
            isinstance(g.get("lr"), torch.Tensor) for g in optimizer.param_groups):
        raise validate.ArgumentError("optimizer must be a batched optimiser with one learning rate per member "
                                     f"(BatchedSGD, BatchedAdam, BatchedAdamW), got {validate.show(optimizer)}")
    lr0 = [g["lr"].clone() for g in optimizer.param_groups]
    diverged = np.zeros(K, dtype=bool)        # members whose loss became NaN or inf: frozen, NaN from then on
    out, done = [], 0
    bar = progress(total=steps[-1], desc=desc)
    for t in steps:
        if t > done and lr_schedule is not None:
            factor = validate.positive(f"lr_schedule({done})", lr_schedule(done))
            for g, l0 in zip(optimizer.param_groups, lr0):
                g["lr"] = l0 * factor
                if diverged.any():
                    g["lr"][torch.from_numpy(diverged)] = 0.0
        while t > done:                       # at most chunk_steps steps' samples in memory at once
            n = min(chunk_steps, t - done)
            x, y = sample((K, n * batch), generator)
            seeds = torch.randint(0, 2 ** 31 - 1, (K,), generator=generator).tolist()
            hist = train_ensemble(model, loss_fn, x, y, steps=n, optimizer=optimizer, batch_size=batch,
                                  per_member_data=True, data_seeds=seeds, record_steps=[], progress=False)
            diverged |= hist.diverged
            if diverged.all():
                bar.close()
                raise TrainingDiverged(f"train_one_pass: every member diverged by step {done + n} (learning rates "
                                       f"{[g.tolist() for g in lr0]} × the schedule); use smaller learning rates",
                                       step=done + n, members=list(range(K)))
            bar.update(n)
            done += n
        values = np.asarray(evaluate(), dtype=float)
        if diverged.any() and values.shape[:1] == (K,):
            values = values.copy()
            values[diverged] = np.nan
        out.append(values)
    bar.close()
    return np.array(out)
