"""Predicting emergence: the extended multilinear model, calibrated on one skill, applied to the others.

Used by the chapter "Can emergence be predicted?" (book/06_scaling/07_predicting_emergence), which builds
on "Skills, quanta and emergence" (book/06_scaling/03_skills_and_quanta, module :mod:`.quanta`).

The multilinear model of Nam et al. (2024) learns skill k on its own clock: every skill follows one curve
in the variable p_k t (p_k the skill's frequency). Its extensions to data and to parameters give the
learned fraction R_k/S of skill k:

    time        R_k(t)/S = σ(r_1 (p_k/p_1) (t − t_1 p_1/p_k))      one logistic, calibrated on skill 1
    data        R_k/S = min(d_k / D_c, 1),   d_k = p_k D             (a skill needs D_c samples)
    parameters  R_k/S = clip(N/N_c − (k − 1), 0, 1)                  (a skill needs N_c units, filled in
                                                                      order of frequency)

Here are those laws, their one-parameter calibrations, the predictions they make for every other skill
(:func:`predicted_times`, :func:`shifted_total`), and what the chapter needs to read them off the
networks' records: :func:`crossing_time` (a threshold crossing, interpolated between records) and
:func:`fit_logit_line`
(the logistic fitted to the early part of a rise, for extrapolation; a fit :mod:`course_utils.fits` does
not do). The networks are trained online by :mod:`course_utils.ensemble.online`.
"""

from __future__ import annotations

import numpy as np

from .. import validate

__all__ = ["crossing_time", "predicted_times", "shifted_total",
           "data_law", "fit_data_threshold", "unit_law", "fit_units_per_skill", "skills_held",
           "fit_logit_line", "logit_line_time", "exact_match"]


def crossing_time(t, values, level: float) -> np.ndarray:
    """The first time a curve reaches ``level``, interpolated linearly between the two records around it.

    ``values`` has shape (len(t), ...); the result has shape values.shape[1:]. With records t_{i−1} < t_i
    and v_{i−1} < level ≤ v_i (i the first record at or above the level) it is
    t_{i−1} + (t_i − t_{i−1}) (level − v_{i−1}) / (v_i − v_{i−1}); a curve already at the level at the first
    record gives t_0, one that never gets there NaN.
    """
    t = validate.array("t", t, ndim=1)
    v = validate.array("values", values)
    if v.shape[:1] != t.shape:
        raise ValueError(f"values must have one row per time: t {t.shape}, values {v.shape}")
    if np.any(np.diff(t) <= 0):
        raise validate.ArgumentError("the record times t must increase strictly")
    level = validate.real("level", level)
    hit = v >= level
    i = hit.argmax(axis=0)
    reached = hit.any(axis=0)
    prev = np.maximum(i - 1, 0)
    v_i = np.take_along_axis(v, i[None], 0)[0]
    v_p = np.take_along_axis(v, prev[None], 0)[0]
    # At i = 0 (prev = i) the step t[i] − t[prev] is 0, so what frac is there does not matter; for i > 0,
    # v_p < level ≤ v_i puts frac in (0, 1] already. Mutants of the guards (i > 0, v_i > v_p, the 1.0 and
    # 0.0 fill values, the clip bounds) are therefore equivalent; the formula itself is tested by hand.
    frac = np.where(i > 0, (level - v_p) / np.where(v_i > v_p, v_i - v_p, 1.0), 0.0)  # pragma: no mutate
    out = t[prev] + (t[i] - t[prev]) * np.clip(frac, 0.0, 1.0)
    return np.where(reached, out, np.nan)


# ---------------------------------------------------------------------------------------------------------
# time: one curve in p_k t


def predicted_times(t_ref, p, ref: int = 0, exponent: float = 1.0) -> np.ndarray:
    """t̂_k = t_ref (p_ref / p_k)^exponent: every skill's emergence time from one reference skill's.

    With ``exponent = 1`` this is the multilinear model's prediction (one curve in p_k t, Eq.
    eq-emergence-time of the chapter). ``t_ref`` of any shape (e.g. one per network) gives
    shape t_ref.shape + (n_s,).
    """
    p = validate.array("p", p)
    if p.ndim != 1 or np.any(p <= 0):
        raise ValueError("p must be a 1-d array of positive skill frequencies")
    ref = validate.integer(f"ref (a skill index, 0 ≤ ref < {p.size})", ref, low=0, high=p.size - 1)
    exponent = validate.real("exponent", exponent)
    # NaN is allowed in t_ref: a reference skill that never emerged (crossing_time) gives NaN times
    t_ref = validate.array("t_ref", t_ref, finite=False, allow_empty=True)  # pragma: no mutate (None is falsy too)
    if np.any(np.isinf(t_ref)):
        raise validate.ArgumentError("t_ref must not contain ±inf (NaN marks a skill that never emerged)")
    return t_ref[..., None] * (p[ref] / p) ** exponent


def shifted_total(t, t_curve, curve_ref, p, ref: int = 0) -> np.ndarray:
    """L̂(t) = Σ_k p_k c_ref(t p_k / p_ref): the total loss predicted from one skill's measured curve.

    If every skill follows the same curve in p_k t (the multilinear model), skill k's curve is the
    reference skill's curve c_ref at the earlier time t p_k/p_ref. ``curve_ref`` is measured at the times
    ``t_curve`` (increasing, starting at 0) and is interpolated linearly; t may be any array.
    """
    p = validate.array("p", p, ndim=1)
    t_curve, curve_ref = validate.array("t_curve", t_curve), validate.array("curve_ref", curve_ref)
    if t_curve.ndim != 1 or t_curve.shape != curve_ref.shape or np.any(np.diff(t_curve) <= 0):
        raise ValueError("t_curve must increase strictly and curve_ref must have its shape")
    ref = validate.integer("ref", ref)
    if np.any(p <= 0) or not 0 <= ref < p.size:
        raise ValueError("p must be positive skill frequencies and ref a skill index")
    t = validate.array("t", t, allow_empty=True)
    if np.any(t < 0):
        raise validate.ArgumentError(f"the times t must be ≥ 0, got {validate.show(t)} with minimum {t.min():g}")
    moved = t[..., None] * p / p[ref]
    if np.any(moved > t_curve[-1] * (1 + 1e-12)):
        raise ValueError("t p_k/p_ref runs past the reference curve: give t ≤ t_curve[-1] p_ref / max(p)")
    return np.sum(p * np.interp(moved, t_curve, curve_ref), axis=-1)


# ---------------------------------------------------------------------------------------------------------
# data: a skill needs D_c samples


def data_law(D, p, D_c: float) -> np.ndarray:
    """R_k/S = min(d_k/D_c, 1) with d_k = p_k D: the learned fraction of every skill at data-set size D.

    Shape D.shape + (n_s,). (Eq. eq-emergence-data-law of the chapter: the D_c-shot multilinear model.)
    """
    D_c = validate.positive("D_c", D_c)
    p = validate.array("p", p, ndim=1)
    D = validate.array("D", D, allow_empty=True)
    if np.any(D < 0) or np.any(p < 0):
        raise ValueError("D and p must be non-negative")
    return np.minimum(D[..., None] * p / D_c, 1.0)


def fit_data_threshold(d, R) -> float:
    """The D_c minimising Σ (min(d/D_c, 1) − R)² over the points (d, R) of one skill, D_c within a factor
    10 of the data (a grid over ln D_c, then a bounded 1-d search).

    ``d`` are the skill's expected sample counts p_k D, ``R`` its measured learned fraction.
    """
    d, R = validate.array("d", d), validate.array("R", R)        # finite: NaN and inf are refused here
    if d.shape != R.shape or d.size < 2 or np.any(d <= 0):
        raise ValueError("d and R must have the same shape, at least 2 points, d > 0 and R finite")
    lo, hi = np.log(d.min()) - np.log(10.0), np.log(d.max()) + np.log(10.0)
    return float(np.exp(_global_log_minimum(lambda x: np.sum((np.minimum(d / np.exp(x), 1.0) - R) ** 2), lo, hi)))


def _global_log_minimum(cost, lo: float, hi: float, n_grid: int = 401) -> float:
    """The x in [lo, hi] that minimises ``cost``: a grid of ``n_grid`` points first, then a bounded Brent
    search between the best grid point's neighbours (xatol 1e-9). The grid is needed because a threshold
    fit's cost is flat where every point is at 0 or at 1 (clip), and a local search started there stops
    there, far from the minimum. Of equal costs, the smallest x wins."""
    from scipy.optimize import minimize_scalar

    grid = np.linspace(lo, hi, n_grid)
    costs = np.array([cost(x) for x in grid])
    j = int(np.argmin(costs))
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, n_grid - 1)]
    res = minimize_scalar(cost, bounds=(a, b), method="bounded", options={"xatol": 1e-9})
    return float(res.x) if res.fun < costs[j] else float(grid[j])


# ---------------------------------------------------------------------------------------------------------
# parameters: a skill needs N_c units


def unit_law(N, n_skills: int, N_c: float) -> np.ndarray:
    """R_k/S = clip(N/N_c − (k − 1), 0, 1): N units, N_c per skill, given to the skills in order of frequency.

    Skills 1 … ⌊N/N_c⌋ are complete, the next one holds the fraction of N_c left over, the rest nothing.
    Shape N.shape + (n_skills,). (Eq. eq-emergence-unit-law of the chapter.)
    """
    N_c = validate.positive("N_c", N_c)
    n_skills = validate.positive_int("n_skills", n_skills)
    N = validate.array("N", N, allow_empty=True)
    if np.any(N < 0):
        raise ValueError("the number of units N must be non-negative")
    k = np.arange(1, n_skills + 1)
    return np.clip(N[..., None] / N_c - (k - 1), 0.0, 1.0)


def skills_held(N, n_skills: int, N_c: float) -> np.ndarray:
    """Σ_k R_k/S = min(N/N_c, n_s): the number of skills (counting fractions) that N units hold."""
    return unit_law(N, n_skills, N_c).sum(-1)


def fit_units_per_skill(N, R, k: int) -> float:
    """The N_c minimising Σ (clip(N/N_c − (k−1), 0, 1) − R)² over the points (N, R) of skill ``k`` (1-based),
    N_c from N.min()/(10k) to 10 N.max() (a grid over ln N_c, then a bounded 1-d search)."""
    N, R = validate.array("N", N), validate.array("R", R)        # finite: NaN and inf are refused here
    if N.shape != R.shape or N.size < 2 or np.any(N <= 0):
        raise ValueError("N and R must have the same shape, at least 2 points, N > 0 and R finite")
    k = validate.positive_int("k (the skill's rank)", k)
    lo, hi = np.log(N.min() / (10.0 * k)), np.log(N.max() * 10.0)
    return float(np.exp(_global_log_minimum(
        lambda x: np.sum((np.clip(N / np.exp(x) - (k - 1), 0, 1) - R) ** 2), lo, hi)))


# ---------------------------------------------------------------------------------------------------------
# metrics: a smooth rise and a steep metric of it


def exact_match(acc, n_queries: int) -> np.ndarray:
    """The probability acc^ℓ that all ℓ = ``n_queries`` independent queries are answered right."""
    n_queries = validate.positive_int("n_queries", n_queries)
    acc = validate.array("acc", acc, allow_empty=True)
    if np.any((acc < 0) | (acc > 1)):
        raise ValueError("accuracies must lie in [0, 1]")
    return acc ** n_queries


def fit_logit_line(t, a) -> tuple[float, float, float]:
    """Fit the logistic a(t) = 1/(1 + e^{−r (t − t_h)}) to the early part of a rise, as a line in logit a.

    logit a = ln(a/(1 − a)) = r t − r t_h is linear in t, so least squares on (t, logit a) gives r and t_h.
    Returns (t_h, r, s), s the residual scatter of logit a about the line (how straight it is). A window
    that does not rise gives r ≤ 0 (and a meaningless t_h): check r before extrapolating. Needs at least
    3 points with 0 < a < 1.
    """
    t, a = validate.array("t", t), validate.array("a", a)
    if t.shape != a.shape or t.ndim != 1:
        raise ValueError("t and a must be 1-d arrays of the same length")
    if t.size < 3 or np.any((a <= 0) | (a >= 1)):
        raise ValueError("need at least 3 points with 0 < a < 1 (the logit must be finite)")
    if np.ptp(t) == 0:
        raise validate.ArgumentError("the times t must not all be equal: a line through them has no slope")
    z = np.log(a / (1 - a))
    A = np.stack([np.ones_like(t), t], axis=1)
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)  # pragma: no mutate (None is the default in numpy ≥ 2)
    resid = z - A @ coef
    s = float(np.sqrt(resid @ resid / max(t.size - 2, 1)))
    return float(-coef[0] / coef[1]), float(coef[1]), s


def logit_line_time(t_h: float, rate: float, a_target: float) -> float:
    """The time at which the fitted logistic reaches ``a_target``: t = t_h + logit(a_target)/r."""
    a_target = validate.real("a_target", a_target, low=0.0, high=1.0, low_open=True, high_open=True)
    rate = validate.positive("rate", rate)
    t_h = validate.real("t_h", t_h)
    return float(t_h + np.log(a_target / (1 - a_target)) / rate)
