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
(:func:`predicted_times`, :func:`shifted_total`), and what the chapter needs to measure them on networks:
:func:`train_online` (online training of a batched ensemble with per-step records of every skill, the one
thing :func:`course_utils.ensemble.train_ensemble` cannot do: a fresh batch every step),
:func:`skill_scores` (accuracy, log-loss and probability of the right answer per skill),
:func:`crossing_time` (a threshold crossing, interpolated between records) and :func:`fit_logit_line`
(the logistic fitted to the early part of a rise, for extrapolation; a fit :mod:`course_utils.fits` does
not do).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..ensemble.layers import BatchedMLP, mlp
from ..ensemble.training import cross_entropy_per_sample
from ..progress import progress as progress_bar

__all__ = ["padded_widths", "task_sampler", "train_online", "skill_scores", "crossing_time", "predicted_times", "shifted_total",
           "data_law", "fit_data_threshold", "unit_law", "fit_units_per_skill", "skills_held",
           "fit_logit_line", "logit_line_time", "exact_match"]


# ---------------------------------------------------------------------------------------------------------
# measuring skills on a batched ensemble


def skill_scores(model: torch.nn.Module, x_test: torch.Tensor, y_test: torch.Tensor,
                 n_skills: int) -> dict[str, torch.Tensor]:
    """Three scores of every member on every skill, each a (K, n_skills) float64 tensor:

    - ``acc``: the accuracy, the fraction of test queries whose arg-max class is the label (discontinuous);
    - ``logloss``: the mean cross-entropy −ln q_y (nats; ln 2 at chance);
    - ``p_right``: the mean probability q_y given to the right answer (continuous; ½ at chance).

    The test set must be grouped by skill, ``n_per_skill`` rows each, as
    :meth:`MultitaskSparseParity.test_set` makes it.
    """
    if x_test.shape[0] != y_test.shape[0] or x_test.shape[0] % n_skills:
        raise ValueError(f"x_test and y_test need the same number of rows, a multiple of n_skills={n_skills} "
                         f"(grouped by skill), got {x_test.shape[0]} and {y_test.shape[0]}")
    with torch.no_grad():
        logits = model(x_test)
        K = logits.shape[0]
        ce = cross_entropy_per_sample(logits, y_test).double()
        acc = (logits.argmax(-1) == y_test).double()
        p_right = torch.exp(-ce)
    return {name: v.view(K, n_skills, -1).mean(-1) for name, v in
            (("acc", acc), ("logloss", ce), ("p_right", p_right))}


def task_sampler(tasks: Sequence) -> Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]:
    """The online data of an ensemble whose member k learns ``tasks[k]`` (a :class:`MultitaskSparseParity`).

    Returns ``sample(batch, generator) -> (x, y)`` with x of shape (K, batch, input_dim) and y (K, batch):
    a fresh batch for every member, drawn once per distinct task for all its members together (members
    sharing a task get different samples). All tasks must have the same input size.
    """
    tasks = list(tasks)
    if not tasks or len({t.input_dim for t in tasks}) != 1:
        raise ValueError("need at least one task, all with the same input_dim")
    groups: dict[int, list[int]] = {}
    for k, t in enumerate(tasks):
        groups.setdefault(id(t), []).append(k)
    order = [(tasks[ks[0]], torch.tensor(ks)) for ks in groups.values()]
    K, d = len(tasks), tasks[0].input_dim

    def sample(batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.empty(K, batch, d)
        y = torch.empty(K, batch, dtype=torch.long)
        for task, members in order:
            xs, ys, _ = task.sample(len(members) * batch, generator=generator)
            x[members] = xs.view(len(members), batch, d).to(x.dtype)
            y[members] = ys.view(len(members), batch)
        return x, y

    return sample


def padded_widths(input_dim: int, widths: Sequence[int], n_out: int, seeds: Sequence[int],
                  activation: str = "relu") -> BatchedMLP:
    """Two-layer networks of different widths as one batched ensemble, each padded to the widest.

    Member k is ``mlp([input_dim, widths[k], n_out], seed=seeds[k])`` (initialised as a network of its
    own width) in the first widths[k] hidden units of a network of width max(widths); its other units
    have every weight zero. A zero unit outputs φ(0) = 0 for ReLU and gets zero gradient, and Adam or SGD
    leave a parameter whose gradient has always been zero where it is: the member stays a width-w network.
    """
    widths, seeds = [int(w) for w in widths], [int(s) for s in seeds]
    if not widths or len(widths) != len(seeds) or min(widths) < 1:
        raise ValueError("need one seed per width and positive widths")
    if activation != "relu":
        raise ValueError("padding with zero units needs φ(0) = 0 and φ'(0) = 0 in use: activation='relu'")
    w_max = max(widths)
    members = []
    for w, s in zip(widths, seeds):
        small = mlp([input_dim, w, n_out], activation, seed=s)
        big = mlp([input_dim, w_max, n_out], activation, seed=s)
        with torch.no_grad():
            for p in big.parameters():
                p.zero_()
            big[0].weight[:w] = small[0].weight
            big[0].bias[:w] = small[0].bias
            big[2].weight[:, :w] = small[2].weight
            big[2].bias.copy_(small[2].bias)
        members.append(big)
    return BatchedMLP.from_members(members, activation)


def train_online(model: torch.nn.Module, sample: Callable[[int, torch.Generator], tuple],
                 optimizer: torch.optim.Optimizer, *, steps: int, batch: int, record_steps,
                 measure: Callable[[torch.nn.Module], dict[str, torch.Tensor]], seed: int,
                 desc: str = "online training") -> dict[str, np.ndarray]:
    """Online training of a batched ensemble: every member gets a fresh batch each step (an endless data set).

    ``sample(batch, generator)`` returns (x, y) of shapes (K, batch, d) and (K, batch), one batch per
    member (:func:`task_sampler` makes it for sparse-parity tasks); the generator is seeded with ``seed``.
    Member k minimises the mean cross-entropy L_k of its batch; one step is one update of every member
    (the gradient of Σ_j L_j gives member k the gradient of its own L_k). At each of ``record_steps``
    (in [0, steps]) ``measure(model)`` returns tensors with a leading member axis. Returns a dict of NumPy
    arrays, each (records, K, ...), and ``"step"``: the loop of ``train_ensemble`` with fresh data.
    """
    record = np.asarray(sorted(set(int(s) for s in record_steps)))
    K = getattr(model, "n_members", None)
    if K is None:
        raise ValueError("need a batched model (with n_members), e.g. a BatchedMLP")
    if not (isinstance(steps, (int, np.integer)) and steps >= 0) or not (isinstance(batch, int) and batch > 0):
        raise ValueError(f"steps must be a non-negative integer and batch a positive integer, got {steps}, {batch}")
    if record.size == 0 or record[0] < 0 or record[-1] > steps:
        raise ValueError(f"record_steps must be non-empty and lie in [0, {steps}]")
    gen = torch.Generator().manual_seed(int(seed))
    dtype = next(model.parameters()).dtype
    out: dict[str, list] = {}
    j = 0
    for step in progress_bar(range(steps + 1), desc=desc):
        if j < record.size and record[j] == step:
            for name, value in measure(model).items():
                out.setdefault(name, []).append(torch.as_tensor(value).detach().cpu().numpy())
            j += 1
        if step == steps:
            continue                              # the last record: no update after it (the bar completes)
        x, y = sample(batch, gen)
        if x.shape[:2] != (K, batch) or y.shape != (K, batch):
            raise ValueError(f"sample must return x of shape ({K}, {batch}, d) and y of shape ({K}, {batch}), "
                             f"got {tuple(x.shape)} and {tuple(y.shape)}")
        loss = cross_entropy_per_sample(model(x.to(dtype)), y).mean(1).sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    result = {name: np.stack(v) for name, v in out.items()}
    result["step"] = record
    return result


def crossing_time(t, values, level: float) -> np.ndarray:
    """The first time a curve reaches ``level``, interpolated linearly between the two records around it.

    ``values`` has shape (len(t), ...); the result has shape values.shape[1:]. With records t_{i−1} < t_i
    and v_{i−1} < level ≤ v_i (i the first record at or above the level) it is
    t_{i−1} + (t_i − t_{i−1}) (level − v_{i−1}) / (v_i − v_{i−1}); a curve already at the level at the first
    record gives t_0, one that never gets there NaN.
    """
    t = np.asarray(t, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.ndim != 1 or v.shape[:1] != t.shape:
        raise ValueError(f"values must have one row per time: t {t.shape}, values {v.shape}")
    hit = v >= level
    i = hit.argmax(axis=0)
    reached = hit.any(axis=0)
    prev = np.maximum(i - 1, 0)
    v_i = np.take_along_axis(v, i[None], 0)[0]
    v_p = np.take_along_axis(v, prev[None], 0)[0]
    frac = np.where(i > 0, (level - v_p) / np.where(v_i > v_p, v_i - v_p, 1.0), 0.0)
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
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or np.any(p <= 0):
        raise ValueError("p must be a 1-d array of positive skill frequencies")
    if not 0 <= ref < p.size:
        raise ValueError(f"ref must index a skill, 0 ≤ ref < {p.size}, got {ref}")
    t_ref = np.asarray(t_ref, dtype=float)
    return t_ref[..., None] * (p[ref] / p) ** exponent


def shifted_total(t, t_curve, curve_ref, p, ref: int = 0) -> np.ndarray:
    """L̂(t) = Σ_k p_k c_ref(t p_k / p_ref): the total loss predicted from one skill's measured curve.

    If every skill follows the same curve in p_k t (the multilinear model), skill k's curve is the
    reference skill's curve c_ref at the earlier time t p_k/p_ref. ``curve_ref`` is measured at the times
    ``t_curve`` (increasing, starting at 0) and is interpolated linearly; t may be any array.
    """
    p = np.asarray(p, dtype=float)
    t_curve, curve_ref = np.asarray(t_curve, dtype=float), np.asarray(curve_ref, dtype=float)
    if t_curve.ndim != 1 or t_curve.shape != curve_ref.shape or np.any(np.diff(t_curve) <= 0):
        raise ValueError("t_curve must increase strictly and curve_ref must have its shape")
    if np.any(p <= 0) or not 0 <= ref < p.size:
        raise ValueError("p must be positive skill frequencies and ref a skill index")
    t = np.asarray(t, dtype=float)
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
    if not D_c > 0:
        raise ValueError(f"D_c must be positive, got {D_c}")
    p = np.asarray(p, dtype=float)
    D = np.asarray(D, dtype=float)
    if np.any(D < 0) or np.any(p < 0):
        raise ValueError("D and p must be non-negative")
    return np.minimum(D[..., None] * p / D_c, 1.0)


def fit_data_threshold(d, R) -> float:
    """The D_c minimising Σ (min(d/D_c, 1) − R)² over the points (d, R) of one skill (bounded 1-d search).

    ``d`` are the skill's expected sample counts p_k D, ``R`` its measured learned fraction.
    """
    from scipy.optimize import minimize_scalar

    d, R = np.asarray(d, dtype=float), np.asarray(R, dtype=float)
    if d.shape != R.shape or d.size < 2 or np.any(d <= 0) or not np.all(np.isfinite(R)):
        raise ValueError("d and R must have the same shape, at least 2 points, d > 0 and R finite")
    lo, hi = np.log(d.min()) - np.log(10.0), np.log(d.max()) + np.log(10.0)
    res = minimize_scalar(lambda x: np.sum((np.minimum(d / np.exp(x), 1.0) - R) ** 2), bounds=(lo, hi),
                          method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


# ---------------------------------------------------------------------------------------------------------
# parameters: a skill needs N_c units


def unit_law(N, n_skills: int, N_c: float) -> np.ndarray:
    """R_k/S = clip(N/N_c − (k − 1), 0, 1): N units, N_c per skill, given to the skills in order of frequency.

    Skills 1 … ⌊N/N_c⌋ are complete, the next one holds the fraction of N_c left over, the rest nothing.
    Shape N.shape + (n_skills,). (Eq. eq-emergence-unit-law of the chapter.)
    """
    if not N_c > 0:
        raise ValueError(f"N_c must be positive, got {N_c}")
    if not (isinstance(n_skills, (int, np.integer)) and n_skills >= 1):
        raise ValueError(f"n_skills must be a positive integer, got {n_skills!r}")
    N = np.asarray(N, dtype=float)
    if np.any(N < 0):
        raise ValueError("the number of units N must be non-negative")
    k = np.arange(1, n_skills + 1)
    return np.clip(N[..., None] / N_c - (k - 1), 0.0, 1.0)


def skills_held(N, n_skills: int, N_c: float) -> np.ndarray:
    """Σ_k R_k/S = min(N/N_c, n_s): the number of skills (counting fractions) that N units hold."""
    return unit_law(N, n_skills, N_c).sum(-1)


def fit_units_per_skill(N, R, k: int) -> float:
    """The N_c minimising Σ (clip(N/N_c − (k−1), 0, 1) − R)² over the points (N, R) of skill ``k`` (1-based)."""
    from scipy.optimize import minimize_scalar

    N, R = np.asarray(N, dtype=float), np.asarray(R, dtype=float)
    if N.shape != R.shape or N.size < 2 or np.any(N <= 0) or not np.all(np.isfinite(R)):
        raise ValueError("N and R must have the same shape, at least 2 points, N > 0 and R finite")
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"k is the skill's rank, a positive integer, got {k!r}")
    lo, hi = np.log(N.min() / (10.0 * k)), np.log(N.max() * 10.0)
    res = minimize_scalar(lambda x: np.sum((np.clip(N / np.exp(x) - (k - 1), 0, 1) - R) ** 2),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(res.x))


# ---------------------------------------------------------------------------------------------------------
# metrics: a smooth rise and a steep metric of it


def exact_match(acc, n_queries: int) -> np.ndarray:
    """The probability acc^ℓ that all ℓ = ``n_queries`` independent queries are answered right."""
    if not (isinstance(n_queries, (int, np.integer)) and n_queries >= 1):
        raise ValueError(f"n_queries must be a positive integer, got {n_queries!r}")
    acc = np.asarray(acc, dtype=float)
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
    t, a = np.asarray(t, dtype=float), np.asarray(a, dtype=float)
    if t.shape != a.shape or t.ndim != 1:
        raise ValueError("t and a must be 1-d arrays of the same length")
    if t.size < 3 or np.any((a <= 0) | (a >= 1)):
        raise ValueError("need at least 3 points with 0 < a < 1 (the logit must be finite)")
    z = np.log(a / (1 - a))
    A = np.stack([np.ones_like(t), t], axis=1)
    coef, *_ = np.linalg.lstsq(A, z, rcond=None)
    resid = z - A @ coef
    s = float(np.sqrt(resid @ resid / max(t.size - 2, 1)))
    return float(-coef[0] / coef[1]), float(coef[1]), s


def logit_line_time(t_h: float, rate: float, a_target: float) -> float:
    """The time at which the fitted logistic reaches ``a_target``: t = t_h + logit(a_target)/r."""
    if not 0 < a_target < 1 or not rate > 0:
        raise ValueError("a_target must lie in (0, 1) and the rate must be positive")
    return float(t_h + np.log(a_target / (1 - a_target)) / rate)
