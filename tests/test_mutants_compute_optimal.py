"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.compute_optimal.

train_one_pass: every minibatch has ``batch`` fresh samples, each used once per segment, in a permutation
of its own drawn from ``generator`` (reproducible, independent of the global seed); it is one
train_ensemble per chunk, done by hand; the default chunk of 128 steps; the argument checks name their
argument; a member that diverged stays frozen (learning rate 0, NaN values, also for (K, m) evaluations)
and a run where all diverge raises TrainingDiverged with its step and members; the progress bar carries
``desc`` and the total.
The fits: the log-sum-exp is taken per point (laws spanning 10^±250 are fitted), the fit is invariant
under L -> cL (also with its default starts, for c = 10⁻³⁰¹ and 10²⁵⁰), the default starts reach the global
minimum on data sets where other starts do not, Huber's default threshold is 10⁻³, the Birge ratio is
applied for any χ²/dof > 1, a linear fit is a least-squares stationary point, an underflowing E keeps
its internal log E. The allocation: each parameter check, the 5×5 cov, the delta-method error at large
internal parameters. The teacher: draws only from its generators; excess_loss against exact
Gauss–Hermite quadrature.

Equivalent mutants left (not marked with a pragma: other mutants on their lines matter):
- ``finite=False -> finite=None`` (x__positive_array__mutmut_4, x__params__mutmut_6,
  x_fit_joint_scaling_law__mutmut_7 and _57, x_measured_frontier__mutmut_11): ``validate.array`` only
  tests ``if finite``, and each caller checks finiteness itself where it matters.
- x__huber_rho__mutmut_7 (``z <= 1 -> z < 1``): at z = 1 both branches give 1.
- x_train_one_pass__mutmut_150 (``torch.randint(0, 2**31-1, ...) -> torch.randint(2**31-1, ...)``): the
  one-bound form means low = 0: the same seeds from the same generator.
- x_train_one_pass__mutmut_171 (``progress=False -> progress=None``): train_ensemble uses
  ``disable=not progress``, the same for None and False.
- x_train_one_pass__mutmut_209 (``values[diverged] = np.nan -> None``): ``values`` is a float array and
  NumPy stores None in a float array as NaN.
- x_fit_joint_scaling_law__mutmut_228, x_fit_offset_power_law__mutmut_114 (``method="trf"`` dropped): "trf"
  is scipy's default method.
- x_fit_joint_scaling_law__mutmut_207/211/213, x_fit_offset_power_law__mutmut_95/99/101: the warnings of
  far-off starts are silenced twice (np.errstate and the RuntimeWarning filter); each mutant removes one.
- x_fit_offset_power_law__mutmut_147 (``chi2/dof > 1 -> >= 1``): at χ²/dof = 1 the factor is 1 either way.
- x_compute_optimal_allocation__mutmut_140/141 (``fu[:4] -> fu[:5]`` in a zip with ``fd[:4]``): zip stops
  at the shorter. x_compute_optimal_allocation__mutmut_147 (gradient of ln D* instead of ln N*): ln D* =
  ln(C/6) − ln N*, the gradient changes sign only, the quadratic form var(ln N*) does not.
- x_measured_frontier__mutmut_97 (``c2 > 0 -> c2 >= 0``): the left neighbour is strictly above the
  minimum (np.nanargmin takes the first), so three points with the middle lowest are never collinear.
  x_measured_frontier__mutmut_102/103 (a bound of the clip dropped): a convex parabola through three
  points whose middle one is lowest has its vertex between the outer two. x_measured_frontier__mutmut_75
  and _77 (one neighbour's check doubled): with that neighbour NaN, np.polyfit returns NaN coefficients,
  ``c2 > 0`` is False and the result is the same NaN.
- x_bootstrap_joint_fit__mutmut_80/84 (se × √S instead of / √S; ddof 0): every weight, and the floor,
  scale by the same factor, which leaves the weighted least-squares minimum unchanged.
  x_bootstrap_joint_fit__mutmut_117 (σ also passed to a Huber fit): the Huber fit ignores sigma.
- xǁQuadraticTeacherǁ__init____mutmut_38/41 (``dtype=float`` dropped from np.arange): integers to a
  negative float power give the same floats. xǁQuadraticTeacherǁ__init____mutmut_66 (``q * sign ->
  q / sign``): the signs are ±1 (the diagonal of R of a Gaussian matrix is non-zero).

Not killed and not equivalent, but differing only where the fit's minimum is flat or the result is the
same to rounding: the starting grids of both fits (α, β values, ± and ×/÷ in the starts of log A, log B,
E₀ = 1.5 y_min in fit_offset_power_law), ``x_scale="jac"``/``max_nfev``/``jac`` of least_squares
(the minimum reached is the same, the cost equal to 10⁻¹⁰), ``max_nfev=2001``, ``<=`` between starts of
equal cost, the Birge flag at χ²/dof exactly 1, the finite-difference step ``max(2, |θ|)`` (truncation
error ~10⁻¹² either way).
"""

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedMLP, BatchedSGD, mse_per_sample
from course_utils.theory import compute_optimal as co
from course_utils.train import TrainingDiverged
from course_utils.validate import ArgumentError

TRUE = np.array([0.02, 8.0, 0.8, 40.0, 0.55])          # E, A, alpha, B, beta


# --------------------------------------------------------------------------------------------------
# train_one_pass
# --------------------------------------------------------------------------------------------------

D_IN = 3


def _model(K=2, seed=0):
    return BatchedMLP(K, [D_IN, 4, 1], "quadratic", seeds=list(range(seed, seed + K)))


def _index_sampler(log=None):
    """Inputs x ~ N(0, 1); label of sample i of member k = 1000 k + i (so a minibatch shows which samples it holds)."""
    def sample(shape, gen):
        K, n = shape
        if log is not None:
            log.append(shape)
        x = torch.randn(K, n, D_IN, generator=gen)
        y = (1000 * torch.arange(K)[:, None] + torch.arange(n)[None, :]).float()[..., None]
        return x, y
    return sample


def _recording_loss(calls):
    def loss(out, target):
        calls.append(target.detach()[..., 0].clone())
        return mse_per_sample(out, target)
    return loss


def _run_index(batch, record_steps, chunk_steps, seed=0, K=2):
    """Orders of the samples seen, with a learning rate of 0 (training does not change the model)."""
    model = _model(K)
    opt = BatchedSGD(model.parameters(), lr=0.0)
    calls = []
    co.train_one_pass(model, _index_sampler(), opt, batch=batch, record_steps=record_steps,
                      evaluate=lambda: np.zeros(K), generator=torch.Generator().manual_seed(seed),
                      loss_fn=_recording_loss(calls), chunk_steps=chunk_steps)
    return calls


def test_each_step_takes_batch_fresh_samples_each_used_once_per_segment():
    """One pass: step t of a segment of n steps uses ``batch`` of the segment's n·batch samples, and the n
    minibatches of a member are a permutation of them (an epoch); the custom loss_fn is the one called,
    once per step (no extra full-data evaluations)."""
    batch, chunk = 4, 3
    calls = _run_index(batch, [0, 6], chunk)
    assert len(calls) == 6                                    # 6 steps, one loss call each
    assert all(c.shape == (2, batch) for c in calls)
    for seg in (calls[:3], calls[3:]):
        got = torch.cat(seg, dim=1)
        for k in range(2):
            assert sorted(got[k].tolist()) == [1000.0 * k + i for i in range(chunk * batch)]


def test_segments_and_members_get_their_own_random_permutations():
    """The order within each chunk is a fresh random permutation per member and per chunk: 64 permutations
    of 16 samples (16! ≈ 2·10¹³ of them) are all different (a repeat has probability < 10⁻¹⁰)."""
    batch, chunk, K = 4, 4, 4
    calls = _run_index(batch, [0, 64], chunk, K=K)
    perms = set()
    for s in range(16):
        got = torch.cat(calls[4 * s: 4 * s + 4], dim=1)
        for k in range(K):
            perms.add(tuple((got[k] - 1000 * k).long().tolist()))
    assert len(perms) == 16 * K


def test_the_run_is_a_function_of_the_generator_alone():
    """Same generator seed -> the same orders, whatever the global torch seed; another seed -> others."""
    torch.manual_seed(1)
    a = _run_index(2, [0, 4], 2, seed=3)
    torch.manual_seed(2)
    b = _run_index(2, [0, 4], 2, seed=3)
    c = _run_index(2, [0, 4], 2, seed=4)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not all(torch.equal(u, v) for u, v in zip(a, c))


def test_samples_are_drawn_at_most_128_steps_at_a_time_by_default():
    """Default chunk_steps = 128: 130 steps of batch 1 are drawn as 128 + 2 samples."""
    log = []
    model = _model()
    co.train_one_pass(model, _index_sampler(log), BatchedSGD(model.parameters(), lr=0.0), batch=1,
                      record_steps=[0, 130], evaluate=lambda: np.zeros(2), generator=torch.Generator().manual_seed(0))
    assert log == [(2, 128), (2, 2)]


def test_one_pass_is_one_train_ensemble_per_segment():
    """The documented protocol by hand: per chunk, samples from sample((K, n·batch), generator), then K data
    seeds, the next draws of torch.randint(0, 2³¹ − 1) from the same generator (so the run is reproducible
    from the generator alone), and train_ensemble(n steps, minibatches of batch, per-member data). Same
    parameters afterwards (float32, the same operations in the same order: to 1e-6)."""
    from course_utils.ensemble import train_ensemble
    teacher = co.QuadraticTeacher(D_IN, 1.0, 0.1, torch.Generator().manual_seed(0))
    a, b = _model(), _model()
    opt_a = BatchedSGD(a.parameters(), lr=[1e-2, 2e-2])
    opt_b = BatchedSGD(b.parameters(), lr=[1e-2, 2e-2])
    co.train_one_pass(a, teacher.sample, opt_a, batch=3, record_steps=[0, 4, 6], evaluate=lambda: np.zeros(2),
                      generator=torch.Generator().manual_seed(9), chunk_steps=3)
    g = torch.Generator().manual_seed(9)
    for n in (3, 1, 2):
        x, y = teacher.sample((2, n * 3), g)
        seeds = torch.randint(0, 2 ** 31 - 1, (2,), generator=g).tolist()
        train_ensemble(b, mse_per_sample, x, y, steps=n, optimizer=opt_b, batch_size=3, per_member_data=True,
                       data_seeds=seeds, record_steps=[], progress=False)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb, rtol=1e-6, atol=1e-7)


def _call(**kw):
    model = kw.pop("model", None) or _model()
    args = dict(sample=_index_sampler(), optimizer=BatchedSGD(model.parameters(), lr=0.0), batch=2,
                record_steps=[0, 2], evaluate=lambda: np.zeros(2), generator=torch.Generator().manual_seed(0))
    args.update(kw)
    return co.train_one_pass(model, args.pop("sample"), args.pop("optimizer"), **args)


@pytest.mark.parametrize("kw, match", [
    (dict(loss_fn=3), "^loss_fn"),
    (dict(sample=3), "^sample"),
    (dict(lr_schedule=3), "^lr_schedule"),
    (dict(record_steps=[-1, 2]), "^record_steps"),
    (dict(record_steps=[[0, 2]]), "^record_steps must have 1 dimension"),
    (dict(record_steps=5), "^record_steps"),
    (dict(record_steps=["0", "2"]), "^record_steps"),
    (dict(record_steps=[0, 2, 2]), "^record_steps must be increasing"),
    (dict(model=torch.nn.Linear(3, 1)), "^model must be a batched model"),
])
def test_bad_arguments_name_themselves(kw, match):
    """Each check raises an ArgumentError whose message starts with the argument's name (a negative step,
    a 2-D or 0-D list of steps, steps given as strings, a repeated step, a model without n_members)."""
    with pytest.raises(ArgumentError, match=match):
        _call(**kw)


def test_steps_one_apart_are_accepted():
    """record_steps 0, 1, 2 are increasing: accepted, one value per record step."""
    out = _call(record_steps=[0, 1, 2])
    assert out.shape == (3, 2)


def test_values_are_floats():
    """evaluate() returning integers or a float32 tensor gives a float64 array (room for NaN)."""
    out = _call(evaluate=lambda: [1, 2])
    assert out.dtype == np.float64
    out = _call(evaluate=lambda: torch.tensor([0.1, 0.2]))
    assert out.dtype == np.float64


def _diverging(lrs, record_steps, evaluate, schedule=None, seed=0):
    model = _model(len(lrs), seed)
    opt = BatchedSGD(model.parameters(), lr=lrs)

    def sample(shape, gen):
        x = torch.randn(*shape, D_IN, generator=gen)
        return x, (x ** 2).sum(-1, keepdim=True)

    out = co.train_one_pass(model, sample, opt, batch=4, record_steps=record_steps,
                            evaluate=(lambda: evaluate(model)), generator=torch.Generator().manual_seed(seed),
                            lr_schedule=schedule)
    return out, opt


def test_a_diverged_member_stays_frozen_and_nan():
    """Member 1 (learning rate 10⁶) diverges in the first segment: its values are NaN from then on (a
    (K, 2) evaluation gets a NaN row), and the schedule of the next segment leaves its learning rate at 0
    while member 0 keeps lr·factor."""
    ev = lambda m: np.stack([np.arange(2.0), np.arange(2.0)], axis=1) + 1   # noqa: E731  (K, 2)
    out, opt = _diverging([1e-4, 1e6], [0, 3, 6], ev, schedule=lambda t: 0.5)
    assert out.shape == (3, 2, 2)
    assert np.all(np.isfinite(out[0])) and np.all(np.isfinite(out[:, 0]))
    assert np.all(np.isnan(out[1:, 1]))
    for g in opt.param_groups:
        assert g["lr"][1].item() == 0.0 and g["lr"][0].item() == pytest.approx(0.5e-4)


def test_a_summary_value_is_kept_when_a_member_diverged():
    """An evaluate() that returns one number (not one per member) is returned unchanged."""
    out, _ = _diverging([1e-4, 1e6], [0, 3], lambda m: 7.0)
    assert out.tolist() == [7.0, 7.0]


def test_integer_values_of_a_diverged_member_become_nan():
    """Integers from evaluate() are converted to floats, so the diverged member's entry can be NaN."""
    out, _ = _diverging([1e-4, 1e6], [0, 3], lambda m: [1, 2])
    assert out[1, 0] == 1.0 and np.isnan(out[1, 1])


def test_all_members_diverging_raises_with_the_step_and_members():
    """Member 0 diverges in the first segment, member 1 (lr 10⁻⁴, then × 10¹²) in the second (steps 2..5):
    together every member has diverged; the error says so, with step = 5 (the end of the segment in
    which the last one went) and members [0, 1]."""
    with pytest.raises(TrainingDiverged, match="every member diverged by step 5") as info:
        _diverging([1e6, 1e-4], [0, 2, 5], lambda m: np.zeros(2), schedule=lambda t: 1.0 if t == 0 else 1e12)
    assert info.value.step == 5 and info.value.members == [0, 1]


def test_progress_bar_has_the_description_and_the_total(capsys):
    """The one bar shown is labelled with ``desc`` and counts to the last record step (not train_ensemble's
    own bar, which is switched off)."""
    _call(record_steps=[0, 3, 7], desc="my one pass")
    err = capsys.readouterr().err
    assert "my one pass" in err and "/7" in err
    assert "ensemble" not in err


# --------------------------------------------------------------------------------------------------
# compute_optimal_allocation, allocation_exponents, Allocation.band
# --------------------------------------------------------------------------------------------------

def _fit_object(params, log_cov=None, theta=None):
    return co.JointFit(params=np.asarray(params, float), cov=np.eye(5),
                       log_cov=np.eye(5) * 1e-4 if log_cov is None else log_cov, chi2=0.0, dof=1,
                       loss="linear", scaled=False, residuals=np.zeros(6), theta=theta)


@pytest.mark.parametrize("bad", [
    [-0.02, 8.0, 0.8, 40.0, 0.55], [0.0, 8.0, 0.8, 40.0, 0.55], [0.02, -8.0, 0.8, 40.0, 0.55],
    [0.02, 8.0, 0.8, -40.0, 0.55], [0.02, 8.0, -0.8, 40.0, 0.55], [0.02, 8.0, 0.0, 40.0, 0.55],
    [0.02, 8.0, 0.8, 40.0, 0.0], [0.02, 8.0, 0.8, 40.0, -0.55],
])
def test_allocation_refuses_each_non_positive_parameter(bad):
    """Every one of E, A, α, B, β must be > 0 (zero included): the parameter check itself says so."""
    with pytest.raises(ValueError, match="^E, A, alpha, B, beta must be positive"):
        co.compute_optimal_allocation(1e10, bad)


@pytest.mark.parametrize("i, value", [(2, -0.8), (2, 0.0), (4, 0.0), (4, -0.3)])
def test_allocation_refuses_a_fit_with_a_non_positive_exponent(i, value):
    """A JointFit with α ≤ 0 or β ≤ 0 has no compute-optimal point: refused, naming the exponents."""
    params = TRUE.copy()
    params[i] = value
    with pytest.raises(ValueError, match="^the fitted exponents must be positive"):
        co.compute_optimal_allocation(1e10, _fit_object(params))


@pytest.mark.parametrize("use_fit", [True, False])
def test_allocation_cov_must_be_5_by_5(use_fit):
    """An empty or wrongly shaped cov is refused by the 5×5 check; a string by the check naming cov."""
    fit = _fit_object(TRUE) if use_fit else TRUE
    with pytest.raises(ValueError, match="^cov must be 5×5"):
        co.compute_optimal_allocation(1e10, fit, cov=np.zeros((0, 5)))
    with pytest.raises(ValueError, match="^cov"):
        co.compute_optimal_allocation(1e10, fit, cov="abc")


def test_allocation_keeps_C_and_band_is_one_standard_error():
    """alloc.C is the compute asked for; band() is N* e^(∓1·se) (k = 1 by default)."""
    C = np.array([1e10, 1e12])
    alloc = co.compute_optimal_allocation(C, _fit_object(TRUE))
    np.testing.assert_array_equal(alloc.C, C)
    lo, hi = alloc.band()
    np.testing.assert_allclose(lo, alloc.N * np.exp(-alloc.log_N_se), rtol=1e-14)
    np.testing.assert_allclose(hi, alloc.N * np.exp(alloc.log_N_se), rtol=1e-14)
    assert np.all(alloc.log_N_se > 0)


def test_allocation_error_at_large_internal_parameters():
    """ln N* = [ln α + ln A − ln β − ln B]/(α+β) + β/(α+β) ln(C/6) is linear in ln A, with slope 1/(α+β):
    with var(ln A) = 1 alone, se(ln N*) = 1/(α+β) = 1 for α = β = ½, also at ln A = ln B = 300, where a
    step relative to |θ| is needed (an absolute step of 3·10⁻⁹ on 300 keeps only ~5 digits; the central
    difference of a linear function is otherwise exact to ~10⁻¹⁰)."""
    theta = np.array([-300.0, 300.0, 0.5, 300.0, 0.5])
    Sigma = np.zeros((5, 5))
    Sigma[1, 1] = 1.0
    fit = _fit_object([np.exp(-300.0), np.exp(300.0), 0.5, np.exp(300.0), 0.5], log_cov=Sigma, theta=theta)
    alloc = co.compute_optimal_allocation(np.array([6e12]), fit)
    np.testing.assert_allclose(alloc.N, np.sqrt(1e12), rtol=1e-12)          # G = 1, N* = (C/6)^½
    np.testing.assert_allclose(alloc.log_N_se, 1.0, rtol=1e-8)


def test_allocation_exponents_refuse_zero():
    """α = 0 or β = 0: no optimum (a = β/(α+β) would be 1 or 0): refused."""
    for a, b in [(0.0, 0.5), (0.5, 0.0)]:
        with pytest.raises(ValueError, match="must be positive"):
            co.allocation_exponents(a, b)


# --------------------------------------------------------------------------------------------------
# JointFit attributes
# --------------------------------------------------------------------------------------------------

def test_jointfit_unknown_attributes_raise_attribute_error_naming_them():
    """Only E, A, alpha, B, beta and their *_se exist: 'alphaxyz' (alpha + three letters) is not alpha_se."""
    fit = _fit_object(TRUE)
    assert fit.alpha_se == pytest.approx(1.0)
    with pytest.raises(AttributeError, match="alphaxyz"):
        fit.alphaxyz
    with pytest.raises(AttributeError, match="gamma"):
        fit.gamma


# --------------------------------------------------------------------------------------------------
# iso_flop_profiles, measured_frontier, the argument names of the small checks
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: co.iso_flop_profiles([-1.0, 2.0], [1.0, 2.0], np.ones((2, 2)), [10.0]), "^N must"),
    (lambda: co.iso_flop_profiles([1.0, 2.0], [-1.0, 2.0], np.ones((2, 2)), [10.0]), "^D must"),
    (lambda: co.iso_flop_profiles([1.0, 2.0], [1.0, 2.0], np.ones((2, 2)), [-10.0]), "^C_levels must"),
    (lambda: co.iso_flop_profiles([1.0, 2.0], [1.0, 1.0], np.ones((2, 2)), [10.0]), "^D must increase"),
    (lambda: co.joint_loss_gradient(-1.0, 10.0, TRUE), "^N must"),
    (lambda: co.measured_frontier([-1.0, 2.0, 3.0], np.ones((1, 3))), "^N must"),
    (lambda: co.fit_offset_power_law([1.0, 2, 3, 4], [1.0, 2, -3, 4]), "^y must"),
    (lambda: co.fit_offset_power_law([1.0, 2, 3, 4], [1.0, 2, 3, 4], [1.0, 1, -1, 1]), "^sigma must"),
    (lambda: co.bootstrap_joint_fit(np.ones(6), np.ones(6), -np.ones((2, 6)), 2, 0), "^L_runs must"),
    (lambda: co.bootstrap_joint_fit(-np.ones(6), np.ones(6), np.ones((2, 6)), 2, 0), "^N must"),
    (lambda: co.fit_joint_scaling_law([], [], []), "need at least 6 points"),
])
def test_checks_name_the_argument(call, match):
    """Negative sizes, data, compute levels, losses or weights, and a D that does not increase, are
    refused by the check that names the argument; empty data get the 'at least 6 points' message."""
    with pytest.raises(ValueError, match=match):
        call()


def test_iso_flop_profiles_closed_ends_and_small_steps():
    """A compute level that lands exactly on the first recorded D (C = 6·N·D[0]) is inside: L(D[0]);
    D may increase by steps smaller than 1."""
    N, D = np.array([10.0]), np.array([100.0, 1000.0])
    L = np.array([[2.0], [1.0]])
    out = co.iso_flop_profiles(N, D, L, [6000.0, 60000.0])
    np.testing.assert_allclose(out[:, 0], [2.0, 1.0], rtol=1e-14)
    out = co.iso_flop_profiles(N, [1.0, 1.5, 3.0], np.ones((3, 1)), [6 * 10 * 1.2])
    assert out[0, 0] == pytest.approx(1.0)


def test_measured_frontier_rows_edges_and_empty():
    """A row with no measurement gives NaN and the next row is still read; a minimum at the last-but-one
    size gets its parabola (vertex of y = (ln N − ln 4)² + 0 through three points is N = 4); a minimum at
    the first size gets none; no levels gives empty results; a left neighbour two steps away that is NaN
    does not matter."""
    N = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    par = lambda c: np.exp((np.log(N) - np.log(c)) ** 2)      # noqa: E731  parabola in ln N, vertex at c
    rows = np.array([np.full(5, np.nan), par(8.0), par(0.5), par(4.0)])
    rows[3, 0] = np.nan
    n_grid, n_par, l_min = co.measured_frontier(N, rows)
    assert np.isnan(n_grid[0]) and np.isnan(n_par[0]) and np.isnan(l_min[0])
    assert n_grid[1] == 8.0 and n_par[1] == pytest.approx(8.0, rel=1e-10) and l_min[1] == pytest.approx(1.0)
    assert n_grid[2] == 1.0 and np.isnan(n_par[2])
    assert n_grid[3] == 4.0 and n_par[3] == pytest.approx(4.0, rel=1e-10)
    empty = co.measured_frontier(N, np.empty((0, 5)))
    assert all(a.shape == (0,) for a in empty)


# --------------------------------------------------------------------------------------------------
# QuadraticTeacher
# --------------------------------------------------------------------------------------------------

def test_teacher_draws_only_from_its_generators():
    """Q, x and the noise come from the generators given: the same seeds give the same teacher and
    samples whatever the global torch seed; y − f*(x) is σ times the next normal draw of the generator."""
    torch.manual_seed(11)
    t1 = co.QuadraticTeacher(3, 1.0, 0.5, torch.Generator().manual_seed(4), dtype=torch.float64)
    x1, y1 = t1.sample((5,), torch.Generator().manual_seed(6))
    torch.manual_seed(12)
    t2 = co.QuadraticTeacher(3, 1.0, 0.5, torch.Generator().manual_seed(4), dtype=torch.float64)
    x2, y2 = t2.sample((5,), torch.Generator().manual_seed(6))
    assert torch.equal(t1.Q, t2.Q) and torch.equal(x1, x2) and torch.equal(y1, y2)
    g = torch.Generator().manual_seed(6)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    xi = torch.randn(5, generator=g, dtype=torch.float64)
    assert torch.equal(x, x1)
    torch.testing.assert_close(y1[:, 0], t1.target(x) + 0.5 * xi, rtol=1e-14, atol=1e-14)


def test_teacher_target_keeps_its_dtype_and_takes_one_sample():
    """A float32 teacher returns float32 targets; a single x of shape (d,) gives a 0-d target."""
    t = co.QuadraticTeacher(3, 1.0, 0.1, torch.Generator().manual_seed(0))
    x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
    assert t.target(x).dtype == torch.float32
    one = t.target(x[0])
    assert one.shape == () and one.item() == pytest.approx(t.target(x)[0].item(), rel=1e-6)


def test_excess_loss_by_exact_gaussian_quadrature():
    """E_x[(f(x) − f*(x))²] for x ~ N(0, I₂): f − f* is a polynomial of degree 2, its square of degree 4,
    so the 3-point Gauss–Hermite product rule (exact to degree 5 per variable) gives it exactly; a student
    with non-zero biases (so v = 2Σ c_i b_i w_i ≠ 0) and float64 throughout: agreement to 1e-12."""
    d, w = 2, 3
    teacher = co.QuadraticTeacher(d, 1.0, 0.0, torch.Generator().manual_seed(2), dtype=torch.float64)
    model = BatchedMLP(2, [d, w, 1], "quadratic", seeds=[3, 4]).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5 * torch.randn(p.shape, generator=torch.Generator().manual_seed(5), dtype=p.dtype))
    exact = teacher.excess_loss(model).detach().numpy()
    z, wt = np.polynomial.hermite_e.hermegauss(3)
    wt = wt / wt.sum()
    X = np.array([[a, b] for a in z for b in z])
    W = np.array([p * q for p in wt for q in wt])
    xt = torch.as_tensor(X, dtype=torch.float64)
    f = model(xt)[..., 0].detach().numpy()                          # (K, 9)
    fstar = teacher.target(xt).numpy()
    np.testing.assert_allclose(exact, ((f - fstar) ** 2) @ W, rtol=1e-12)
    assert np.all(exact > 0.05)


def test_excess_loss_of_a_float64_model_with_a_float32_teacher():
    """The teacher converts inputs of another float dtype (target()); excess_loss should too: a float64
    student of a float32 teacher gets the loss of the same student of the float64 copy of the teacher
    (same Q and λ up to float32 rounding: rtol 1e-5)."""
    d = 4
    t32 = co.QuadraticTeacher(d, 1.0, 0.1, torch.Generator().manual_seed(0))
    t64 = co.QuadraticTeacher(d, 1.0, 0.1, torch.Generator().manual_seed(0), dtype=torch.float64)
    model = BatchedMLP(2, [d, 3, 1], "quadratic", seeds=[0, 1]).double()
    want = t64.excess_loss(model).detach().numpy()
    np.testing.assert_allclose(t32.excess_loss(model).detach().numpy(), want, rtol=1e-5)


# --------------------------------------------------------------------------------------------------
# the fits: fit_joint_scaling_law, fit_offset_power_law, bootstrap_joint_fit
# --------------------------------------------------------------------------------------------------

def _grid(noise, seed=0, params=TRUE):
    rng = np.random.default_rng(seed)
    N = np.geomspace(50, 5000, 4)
    D = np.geomspace(1e3, 1e6, 4)
    NN, DD = [a.ravel() for a in np.meshgrid(N, D)]
    return NN, DD, co.joint_loss(NN, DD, params) * np.exp(noise * rng.standard_normal(NN.size))


def _internal(p):
    return np.array([np.log(p[0]), np.log(p[1]), p[2], np.log(p[3]), p[4]])


def _jac(NN, DD, L, s, theta, h=1e-6):
    def r(t):
        params = [np.exp(t[0]), np.exp(t[1]), t[2], np.exp(t[3]), t[4]]
        return (np.log(co.joint_loss(NN, DD, params)) - np.log(L)) / s
    return np.stack([(r(theta + e) - r(theta - e)) / (2 * h) for e in np.eye(5) * h], axis=1), r(theta)


def test_huber_threshold_defaults_to_1e_minus_3():
    """Hoffmann et al.'s δ = 10⁻³ is the default: the same fit as huber_delta=1e-3 given explicitly."""
    NN, DD, L = _grid(0.01, seed=2)
    a = co.fit_joint_scaling_law(NN, DD, L, loss="huber")
    b = co.fit_joint_scaling_law(NN, DD, L, loss="huber", huber_delta=1e-3)
    np.testing.assert_array_equal(a.params, b.params)
    assert a.chi2 == b.chi2


def test_fit_is_invariant_under_a_scale_of_the_losses():
    """L -> cL multiplies E, A, B by c and leaves α, β, the residuals of log L and the covariance of
    (α, β) unchanged, also for c = 10²⁰⁰ (the shares of the terms are normalised per point); same start."""
    NN, DD, L = _grid(0.02, seed=3)
    x0 = _internal(TRUE)
    c = 1e200
    a = co.fit_joint_scaling_law(NN, DD, L, x0=x0)
    with np.errstate(over="ignore"):                    # cov of E, A, B ∝ c² = 10⁴⁰⁰: beyond the float range
        b = co.fit_joint_scaling_law(NN, DD, c * L, x0=x0 + np.log(c) * np.array([1, 1, 0, 1, 0]))
    np.testing.assert_allclose(b.params[[2, 4]], a.params[[2, 4]], rtol=1e-6)
    np.testing.assert_allclose(b.params[[0, 1, 3]] / c, a.params[[0, 1, 3]], rtol=1e-5)
    np.testing.assert_allclose(b.log_cov, a.log_cov, rtol=1e-4, atol=1e-12)


WIDE = np.array([1e-280, 1e250, 10.0, 1e250, 10.0])


def test_fit_of_a_law_spanning_five_hundred_decades():
    """Points from L ≈ 10²⁵⁰ to L ≈ 10⁻²⁵⁰: the log-sum-exp of each point is taken about that point's own
    largest term, so exact data started at the truth stay there (residuals < 1e-9) with finite errors."""
    N = np.array([1.0, 1e10, 1e25, 1e40, 1e50, 1e50, 1.0, 1e30])
    D = np.array([1.0, 1e20, 1e25, 1e5, 1e50, 1.0, 1e50, 1e30])
    t = np.log(WIDE)
    logL = np.logaddexp.reduce([np.full(N.size, t[0]), t[1] - 10 * np.log(N), t[3] - 10 * np.log(D)])
    L = np.exp(logL)                                   # N^-10 itself would underflow at N = 1e50
    assert np.log(L.max()) - np.log(L.min()) > 1100
    with np.errstate(over="ignore"):                    # cov of A, B ∝ A² = 10⁵⁰⁰: beyond the float range
        fit = co.fit_joint_scaling_law(N, D, L, x0=_internal(WIDE))
    assert np.max(np.abs(fit.residuals)) < 1e-9
    np.testing.assert_allclose(fit.params[[2, 4]], [10.0, 10.0], rtol=1e-9)
    assert np.all(np.isfinite(fit.log_cov))


def test_offset_power_law_over_three_hundred_decades():
    """y = E + A x^(−α) from 10¹⁷⁰ down to 10⁻¹⁶⁸ (α = 2; 778 e-folds, more than exp can span): the
    log-sum-exp is taken per point, and the default starts recover α and A (to 1e-6: exact data) and E
    (to 2 %: it only shows in the last point)."""
    x = np.geomspace(1.0, 1e170, 9)
    y = 1e-168 + 1e170 * x ** -2.0
    assert np.log(y.max()) - np.log(y.min()) > 750
    with np.errstate(over="ignore"):                    # var(A) ≈ A² var(ln A) exceeds the float range
        (E, A, alpha), se = co.fit_offset_power_law(x, y)
    assert alpha == pytest.approx(2.0, rel=1e-6)
    assert A == pytest.approx(1e170, rel=1e-4)
    assert E == pytest.approx(1e-168, rel=0.02)
    assert np.isfinite(se[2])


def test_birge_ratio_between_one_and_two_scales_the_covariance():
    """χ²/dof = 1.5 (σ chosen from the unweighted fit): the covariance is (JᵀJ)⁻¹ × 1.5 and flagged scaled."""
    NN, DD, L = _grid(0.02, seed=4)
    dof = NN.size - 5
    chi2_1 = co.fit_joint_scaling_law(NN, DD, L).chi2
    sigma = np.sqrt(chi2_1 / (1.5 * dof))
    fit = co.fit_joint_scaling_law(NN, DD, L, sigma=sigma)
    assert fit.chi2 / dof == pytest.approx(1.5, rel=1e-4)
    J, r = _jac(NN, DD, L, sigma, fit.internal)
    assert fit.scaled
    np.testing.assert_allclose(fit.log_cov, np.linalg.inv(J.T @ J) * fit.chi2 / dof, rtol=1e-4, atol=1e-12)


def test_offset_birge_ratio_between_one_and_two_and_four_points():
    """fit_offset_power_law: χ²/dof = 1.5 scales the covariance by 1.5; with 4 points dof = 1."""
    for n, target in ((8, 1.5), (4, None)):
        x = np.geomspace(10, 1e4, n)
        rng = np.random.default_rng(5)
        y = (0.5 + 20 * x ** -0.6) * np.exp(0.02 * rng.standard_normal(x.size))
        (E, A, alpha), se = co.fit_offset_power_law(x, y)
        theta = np.array([np.log(E), np.log(A), alpha])
        r0 = np.log(np.exp(theta[0]) + np.exp(theta[1]) * x ** -theta[2]) - np.log(y)
        if target is None:
            sigma, s = None, np.ones(n)
        else:
            s = np.full(n, np.sqrt(float(r0 @ r0) / (target * (n - 3))))
            sigma = s
            (E, A, alpha), se = co.fit_offset_power_law(x, y, sigma)
            theta = np.array([np.log(E), np.log(A), alpha])
        r = lambda t: (np.log(np.exp(t[0]) + np.exp(t[1]) * x ** -t[2]) - np.log(y)) / s   # noqa: E731
        J = np.stack([(r(theta + e) - r(theta - e)) / 2e-6 for e in np.eye(3) * 1e-6], axis=1)
        chi2 = float(r(theta) @ r(theta))
        if target is not None:
            assert chi2 / (n - 3) == pytest.approx(target, rel=1e-4)
        T = np.diag([E, A, 1.0])
        want = np.sqrt(np.diag(T @ np.linalg.inv(J.T @ J) @ T) * chi2 / (n - 3))
        np.testing.assert_allclose(se, want, rtol=1e-4)


def test_linear_fit_is_a_least_squares_stationary_point_despite_an_outlier():
    """loss='linear' minimises Σ r² even when residuals exceed 1 (σ small, one point off by 30 %): Jᵀr = 0."""
    NN, DD, L = _grid(0.01, seed=6)
    L[5] *= 1.3
    sigma = 0.003
    fit = co.fit_joint_scaling_law(NN, DD, L, sigma=sigma)
    J, r = _jac(NN, DD, L, sigma, fit.internal)
    assert np.max(np.abs(r)) > 5
    assert np.linalg.norm(J.T @ r) < 1e-4 * np.linalg.norm(J) * np.linalg.norm(r)


def test_an_underflowing_offset_keeps_its_internal_parameter():
    """Data with no offset, started at log E = −800 (E = e⁻⁸⁰⁰ underflows to 0): the fit keeps θ as fitted,
    so fit.internal is finite and the allocation still works."""
    p = np.array([1e-300, 8.0, 0.8, 40.0, 0.55])
    NN, DD, _ = _grid(0.0)
    L = 8.0 * NN ** -0.8 + 40.0 * DD ** -0.55
    x0 = _internal(p)
    x0[0] = -800.0
    fit = co.fit_joint_scaling_law(NN, DD, L, x0=x0)
    assert fit.params[0] == 0.0
    assert fit.internal[0] == pytest.approx(-800.0)
    alloc = co.compute_optimal_allocation(1e12, fit)
    assert np.isfinite(alloc.N).all()


def _best_of_many_starts(N, D, L):
    """The global least-squares minimum, from 4 × 4 × 3 starts spread over α, β ∈ [0.2, 2] and the E share."""
    Lmin, Lmax = L.min(), L.max()
    starts = [np.array([np.log(f * Lmin), np.log(Lmax) + al * np.log(N.min()), al,
                        np.log(Lmax) + be * np.log(D.min()), be])
              for al in (0.2, 0.5, 1.0, 2.0) for be in (0.2, 0.5, 1.0, 2.0) for f in (0.1, 0.5, 0.9)]
    return co.fit_joint_scaling_law(N, D, L, starts=starts)


def _cost(fit):
    return 0.5 * float(fit.residuals @ fit.residuals)


# exact data of a law with small losses (L ≈ 10⁻⁴: an additive 1 in the scale of the starts would matter)
N34 = np.array([698.12424781, 70.77194148, 1351.07182596, 286.17423311, 7.83047169, 542.79400091,
                158.92625188, 120.42849893])
D34 = np.array([8.77992449e+02, 7.83230560e+03, 3.55026767e+01, 1.87151223e+03, 9.10860979e+04,
                1.26951387e+02, 6.89320023e+01, 8.08097808e+02])
# seven noisy points (30 % noise) with two local minima of the fit
N48 = np.array([6.72455753, 1185.98247724, 46.29411549, 1065.14043216, 7.84143224, 3.80565328, 57.4423544])
D48 = np.array([1.39892873e+02, 1.48664125e+03, 3.22659674e+04, 5.80383352e+04, 4.38745066e+01,
                2.03122405e+02, 3.12232411e+02])
L48 = np.array([0.26948931, 0.11485955, 0.17845978, 0.08321821, 0.19860593, 0.67158425, 0.2775441])
# eight noisy points (20 % noise) of a law with small exponents (α ≈ 0.31, β ≈ 0.27)
N6 = np.array([16.499, 2580.326, 5.325, 26.429, 126.949, 3.323, 8.04, 731.32])
D6 = np.array([23256.3, 6202.4, 67251.7, 18028.5, 295.6, 6659.5, 428.7, 17130.2])
L6 = np.array([0.38183, 0.42079, 0.39971, 0.40306, 1.18887, 0.58304, 0.89443, 0.32783])


def test_default_starts_find_the_global_minimum():
    """With no x0, the fit's own starts reach the global minimum of Σ r² (the best of 48 spread starts, to
    1e-6 relative): exact small losses (L ≈ 10⁻⁴, residuals → 0), two noisy sets with several local
    minima, and losses within 20 % of each other (near the floor E)."""
    p34 = np.array([0.056, 4.509, 0.778, 29.176, 1.21]) * np.array([5.9e-4, 5.9e-4, 1, 5.9e-4, 1])
    L34 = co.joint_loss(N34, D34, p34)
    fit = co.fit_joint_scaling_law(N34, D34, L34)
    assert np.max(np.abs(fit.residuals)) < 1e-6
    for N, D, L in ((N48, D48, L48), (N6, D6, L6)):
        fit = co.fit_joint_scaling_law(N, D, L)
        assert _cost(fit) <= _cost(_best_of_many_starts(N, D, L)) * (1 + 1e-6)
    N, D = np.geomspace(50, 5000, 4), np.geomspace(1e3, 1e6, 4)
    NN, DD = [a.ravel() for a in np.meshgrid(N, D)]
    L = co.joint_loss(NN, DD, [1.0, 0.5, 0.5, 0.5, 0.4])
    assert L.max() < 1.2 * L.min()
    fit = co.fit_joint_scaling_law(NN, DD, L)
    assert np.max(np.abs(fit.residuals)) < 1e-6


def test_bootstrap_with_two_seeds_and_with_mostly_identical_seeds():
    """Two seeds: the standard error uses ddof = 1 (finite); seeds that agree exactly on most points (their
    se = 0) get the floor 10⁻³ × the median of the non-zero se, not zero weight errors."""
    N, D = np.geomspace(50, 5000, 4), np.geomspace(1e3, 1e6, 4)
    NN, DD = [a.ravel() for a in np.meshgrid(N, D)]
    L = co.joint_loss(NN, DD, TRUE)
    rng = np.random.default_rng(8)
    x0 = _internal(TRUE)
    runs = L[None] * np.exp(0.01 * rng.standard_normal((2, L.size)))
    out = co.bootstrap_joint_fit(NN, DD, runs, 3, np.random.default_rng(1), x0=x0)
    assert np.all(np.isfinite(out))
    runs = np.repeat(L[None], 4, axis=0)
    runs[:, :5] *= np.exp(0.01 * rng.standard_normal((4, 5)))        # 11 of 16 points identical in all seeds
    out = co.bootstrap_joint_fit(NN, DD, runs, 3, np.random.default_rng(2), x0=x0)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out[:, [2, 4]], [TRUE[[2, 4]]] * 3, rtol=0.05)


X28 = np.array([1.14726240e+00, 4.17878629e+00, 6.25613405e+00, 1.92838599e+01, 7.66241456e+01, 1.49811760e+02,
                3.12344794e+02, 2.28829501e+03])
Y28 = np.array([0.02674053, 0.00836751, 0.00585986, 0.00291132, 0.00183536, 0.00163935, 0.00154425, 0.00147624])
X23 = np.array([1.11381250e+00, 4.56787936e+00, 9.00031288e+00, 1.65646951e+01, 1.95965373e+01, 9.73346462e+01,
                1.59808965e+03])
Y23 = np.array([0.15694396, 0.06505957, 0.02710363, 0.0287793, 0.01840457, 0.01255047, 0.00491634])


@pytest.mark.parametrize("x, y", [(X28, Y28), (X23, Y23)])
def test_offset_power_law_default_starts_find_the_global_minimum(x, y):
    """Small values (y ≈ 10⁻³ with E ≈ 1.4·10⁻³; or seven noisy points of y ≈ 10⁻²): the fit's own starts
    reach the least-squares minimum of log y, checked against scipy (Levenberg–Marquardt) from 20 spread
    starts (to 1e-6 relative)."""
    from scipy.optimize import least_squares
    (E, A, alpha), _ = co.fit_offset_power_law(x, y)

    def r(t):
        return np.log(np.exp(t[0]) + np.exp(t[1]) * x ** -t[2]) - np.log(y)

    with np.errstate(all="ignore"):                      # far-off trial steps of LM may overflow
        best = min(least_squares(r, [np.log(f * y.min()), np.log(y.max()) + al * np.log(x.min()), al],
                                 method="lm").cost
                   for al in (0.1, 0.3, 1.0, 2.0, 3.0) for f in (0.05, 0.3, 0.6, 0.95))
    got = 0.5 * float(r([np.log(E), np.log(A), alpha]) @ r([np.log(E), np.log(A), alpha]))
    assert got <= best * (1 + 1e-6) + 1e-15


@pytest.mark.parametrize("c", [1e-301, 1e250])
def test_default_starts_are_scale_free(c):
    """Exact data of the law times c (losses of 10⁻³⁰¹ or 10²⁵⁰; also losses within 20 % of each other):
    the default starts scale with the data, and the fit recovers α, β and E/c, A/c, B/c (to 1e-6)."""
    N, D = np.geomspace(50, 5000, 4), np.geomspace(1e3, 1e6, 4)
    NN, DD = [a.ravel() for a in np.meshgrid(N, D)]
    for p in (np.array([1.0, 0.5, 0.5, 0.5, 0.4]), TRUE):
        with np.errstate(all="ignore"):                  # cov of E, A, B ∝ c²: may leave the float range
            fit = co.fit_joint_scaling_law(NN, DD, c * co.joint_loss(NN, DD, p))
        np.testing.assert_allclose(fit.params / np.array([c, c, 1, c, 1]), p, rtol=1e-6)
