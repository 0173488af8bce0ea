"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.action.

The bookkeeping of train_tracking_alignment (which steps are recorded, how many updates are made, the
progress bar, the divergence it reports), the float64 conversion of list directions in
taylor_coefficients_along_ray and the dtype of the ray, the argument names and shape sources in the
error messages, the hint of _as_J, and the invariance of S4, S5 under a common shift of all logits.

The error messages that show the value given (validate.show) are covered too.

Equivalent mutants (left unmarked: other mutants of the same lines do change results):

- ``s2_terms``/``hessian_closed_form``/``quadratic_action_descent``: ``silu_taylor_coefficients(1)[1]
  -> silu_taylor_coefficients(2)[1]``; ``s4``: ``silu_taylor_coefficients(3) -> (4)``; ``s5``:
  ``silu_taylor_coefficients(4) -> (5)``: a longer exact series has the same c₁, c₂.
- ``s5``: ``.mean(1).mean() -> .mean(None).mean()``: the mean over all N·M entries of an (N, M) array
  is the mean of its row means (a reordering of the sum: rounding only).
- ``silu_taylor_coefficients``: ``range(1, n_max + 1) -> range(1, n_max + 2)`` for d (one more entry
  that is never read: k ≤ n < n_max); ``sum(..., Fraction(0)) -> sum(...)`` (int 0 + Fraction is a
  Fraction, and 0 / Fraction(2) is Fraction(0)).
- ``closed_form_taylor_terms``: ``correlations(..., max_order=2)`` -> default (the default is 2) or
  ``max_order=3`` (J⁽³⁾ is computed and never read).
- ``_as_params``: ``len(dtypes) > 1 -> >= 1`` (promoting tensors of one dtype to that dtype is a no-op).
- ``_params_and_J``: ``J[0].shape[0] -> J[1].shape[0]`` (both are M, checked against params['U']).
- ``general_term``: ``_hidden(params, z, bias=False) -> bias=None`` (None is falsy: the same branch).
- ``hessian_closed_form``: ``torch.eye(H, dtype=torch.float64) -> dtype=None`` or dropped (the entries
  0 and 1 are exact in every float dtype, and einsum promotes to J's float64).
- ``taylor_coefficients_along_ray``: ``device=first.device -> None`` or dropped for t0 and one: the same
  on a CPU-only test machine (they matter only for parameters on a GPU, so no pragma).
- ``silu_derivatives_at_zero``: ``low=0``/``high=_N_MAX`` -> None or dropped (mutants 4, 5, 8, 9): the call
  it makes, silu_taylor_coefficients(n_max), checks the same bounds under the name "n_max (exact
  fractions: ...)", so the same ArgumentError naming n_max is raised; only the wording differs.
"""

import math
import re

import pytest
import torch

from course_utils.models.silu_net import action, init_params
from course_utils.theory import action as A
from course_utils.train import TrainingDiverged
from course_utils.validate import ArgumentError

N, E, H, M = 6, 2, 3, 3


def _problem(seed=0, N=N):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(N) % M
    z = torch.randn(N, E, generator=g, dtype=torch.float64) + 0.5 * y[:, None].double()
    p = init_params(E, H, M, generator=g, dtype=torch.float64)
    return p, z, y


P, Z, Y = _problem(0)
ZV, YV = _problem(1)[1:]


def _names(needle, err):
    """The argument's name as a word of the message (as in test_theory_action_inputs)."""
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(err)) is not None


def _descent(p, lr, steps):
    """Plain gradient descent on the training action, by hand: the parameters after 0 … steps updates."""
    out = [p]
    for _ in range(steps):
        g = torch.func.grad(action)(out[-1], Z, Y)
        out.append({k: out[-1][k] - lr * g[k] for k in out[-1]})
    return out


# ---- train_tracking_alignment: records, updates, progress bar, divergence ----


def test_train_tracking_alignment_records_every_step_by_default_and_makes_steps_updates():
    """Default record_every = 1: the history holds steps 0 … steps with S_T, S_V and ∇S_T·∇S_V of the
    parameters *before* each update, and ``steps`` updates are made (the returned θ is θ_steps of plain
    gradient descent by hand). Tolerance: the same float64 operations in another order (1e-12)."""
    lr, steps = 0.4, 3
    path = _descent(P, lr, steps)
    p, h = A.train_tracking_alignment(P, (Z, Y), (ZV, YV), steps=steps, lr=lr, progress=False)
    assert list(h.steps) == [0, 1, 2, 3]
    assert set(h.keys()) >= {"S_T", "S_V", "alignment"}
    for i, q in enumerate(path):
        assert h["S_T"][i] == pytest.approx(float(action(q, Z, Y)), rel=1e-12)
        assert h["S_V"][i] == pytest.approx(float(action(q, ZV, YV)), rel=1e-12)
        assert h["alignment"][i] == pytest.approx(A.gradient_alignment(q, (Z, Y), (ZV, YV)), rel=1e-10)
    for k in ("U", "W", "b"):
        torch.testing.assert_close(p[k], path[-1][k], rtol=1e-12, atol=1e-14)
    # the training loss falls under small steps (a sanity check on the direction of the update)
    assert h["S_T"][-1] < h["S_T"][0]


@pytest.mark.parametrize("steps, every, expected", [(3, 2, [0, 2, 3]), (4, 2, [0, 2, 4]), (5, 3, [0, 3, 5])])
def test_train_tracking_alignment_records_every_k_steps_and_the_last(steps, every, expected):
    """record_every = k: the multiples of k and the last step (once), and still ``steps`` updates."""
    lr = 0.4
    p, h = A.train_tracking_alignment(P, (Z, Y), (ZV, YV), steps=steps, lr=lr, record_every=every,
                                      progress=False)
    assert list(h.steps) == expected
    path = _descent(P, lr, steps)
    assert h["S_T"][-1] == pytest.approx(float(action(path[-1], Z, Y)), rel=1e-12)
    torch.testing.assert_close(p["U"], path[-1]["U"], rtol=1e-12, atol=1e-14)


def test_train_tracking_alignment_shows_a_complete_progress_bar_by_default(monkeypatch, capsys):
    """progress=True is the default: the text bar (COURSE_PROGRESS=text) carries ``desc`` and ends complete
    at steps + 1 of steps + 1 iterations (the last record ends the loop with continue, not break);
    progress=False shows nothing."""
    monkeypatch.setenv("COURSE_PROGRESS", "text")
    A.train_tracking_alignment(P, (Z, Y), (ZV, YV), steps=3, lr=0.1, desc="alignment-run")
    err = capsys.readouterr().err
    assert "alignment-run" in err
    assert "4/4" in err and "3/4" not in err.rsplit("\r", 1)[-1]
    A.train_tracking_alignment(P, (Z, Y), (ZV, YV), steps=3, lr=0.1, progress=False, desc="quiet-run")
    assert capsys.readouterr().err == ""


def test_train_tracking_alignment_reports_divergence_with_step_and_lr():
    """At lr = 1e30 the logits overflow within a few updates: TrainingDiverged names the first step whose
    training action is not finite (found by hand with the same updates) and carries that step and lr."""
    lr = 1e30
    q, first = P, None
    for step in range(20):
        g, s = torch.func.grad_and_value(action)(q, Z, Y)
        if not math.isfinite(float(s)):
            first = step
            break
        q = {k: q[k] - lr * g[k] for k in q}
    assert first is not None and first > 0
    with pytest.raises(TrainingDiverged, match="diverged") as info:
        A.train_tracking_alignment(P, (Z, Y), (ZV, YV), steps=50, lr=lr, progress=False)
    assert info.value.step == first and info.value.lr == lr
    assert "learning rate" in str(info.value) and f"step {first}" in str(info.value)


@pytest.mark.parametrize("needle, kwargs", [("lr", dict(lr=0.0)), ("lr", dict(lr=-1.0)),
                                            ("record_every", dict(record_every=0)),
                                            ("steps", dict(steps=0))])
def test_train_tracking_alignment_names_the_bad_argument(needle, kwargs):
    """A bad lr, record_every or steps is refused with an ArgumentError naming that argument."""
    args = dict(steps=2, lr=0.1, progress=False) | kwargs
    with pytest.raises(ArgumentError) as info:
        A.train_tracking_alignment(P, (Z, Y), (ZV, YV), **args)
    assert _names(needle, info.value), str(info.value)


def test_pair_refuses_a_triple_and_checks_labels_against_M():
    """train/val must be pairs (a triple is refused, naming it); labels are checked against M (rows of U),
    not H: with H = 4 > M = 3 the label 3 is out of range; the input dimension names its source."""
    p4 = init_params(E, 4, M, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    with pytest.raises(ArgumentError) as info:
        A.gradient_alignment(p4, (Z, Y, Y), (ZV, YV))
    assert _names("train", info.value)
    with pytest.raises(ArgumentError) as info:
        A.gradient_alignment(p4, (Z, torch.full_like(Y, M)), (ZV, YV))
    assert _names("train[1]", info.value)
    with pytest.raises(ArgumentError) as info:
        A.gradient_alignment(P, (Z, Y), (ZV[:, :1], YV))
    assert "params['W'], axis 1" in str(info.value)


def test_gradient_alignment_takes_float32_inputs_in_the_parameters_dtype():
    """float32 inputs are converted to the float64 parameters' dtype (no dtype clash in the network)."""
    g32 = A.gradient_alignment(P, (Z.float(), Y), (ZV.float(), YV))
    g64 = A.gradient_alignment(P, (Z.float().double(), Y), (ZV.float().double(), YV))
    assert g32 == pytest.approx(g64, rel=1e-12)


def test_gradient_alignment_takes_numpy_and_list_inputs_in_float64():
    """NumPy float64 arrays and lists of floats are taken in the parameters' float64 directly (a detour
    through torch's default float32 would round z to ~6e-8 relative); tolerance 1e-12: the same float64
    operations."""
    ref = A.gradient_alignment(P, (Z, Y), (ZV, YV))
    assert A.gradient_alignment(P, (Z.numpy(), Y.numpy()), (ZV.tolist(), YV.tolist())) == pytest.approx(ref, rel=1e-12)


# ---- taylor_coefficients_along_ray ----


def _poly(q):   # 1 + 3a + a² b₀ − a³ + b₁⁴ (test_theory_action_inputs' polynomial)
    a, b = q["a"][0], q["b"][0]
    return 1 + 3 * a + a ** 2 * b[0] - a ** 3 + b[1] ** 4


def test_taylor_coefficients_of_list_directions_are_float64():
    """Lists are taken in float64: along t θ with a = 0.1, b = (0.3, −0.7) the polynomial is
    1 + 0.3t + (0.003 − 0.001)t³ + 0.2401t⁴ exactly; float32 rounding would leave errors ~1e-8."""
    out = A.taylor_coefficients_along_ray(_poly, {"a": [0.1], "b": [[0.3, -0.7]]}, 4)
    assert out == pytest.approx([1, 0.3, 0, 0.002, 0.2401], rel=1e-13, abs=1e-15)


def test_taylor_coefficients_order_bounds():
    """order = 0 gives [g(0)] alone; order = −1 is refused naming ``order``."""
    theta = {"a": torch.tensor([2.0], dtype=torch.float64), "b": torch.tensor([[1.0, -1.0]], dtype=torch.float64)}
    assert A.taylor_coefficients_along_ray(_poly, theta, 0) == pytest.approx([1.0])
    with pytest.raises(ArgumentError) as info:
        A.taylor_coefficients_along_ray(_poly, theta, -1)
    assert _names("order", info.value)


def test_taylor_coefficients_keep_a_float32_direction_in_float32():
    """A float32 direction stays float32: a model with float32 data (a matmul, which does not promote)
    runs along it; g(t) = Σ (t w)·x is linear, g'(0) = w·x = 0.5 − 2 + 0.75 = −0.75 (exact in float32)."""
    x = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)
    w = torch.tensor([0.5, -1.0, 0.25], dtype=torch.float32)
    out = A.taylor_coefficients_along_ray(lambda q: q["w"] @ x, {"w": w}, 2)
    assert out == pytest.approx([0.0, -0.75, 0.0], abs=1e-7)


def test_taylor_coefficients_of_a_half_precision_scalar_are_computed_in_half_precision():
    """The scalar t of the ray and its tangent take the direction's dtype: for a 0-d float16 θ = a the
    coefficients of g(t) = 3ta are those of float16 arithmetic, 3·a rounded to float16 (0.2998), not the
    float32 product (0.29993); rel 1e-5 separates them (float16's spacing near 0.3 is 2.4e-4)."""
    a = torch.tensor(0.1, dtype=torch.float16)
    seen = []

    def fn(q):
        seen.append(q["a"].dtype)
        return q["a"] * 3
    out = A.taylor_coefficients_along_ray(fn, {"a": a}, 1)
    assert seen and set(seen) == {torch.float16}
    assert out[1] == pytest.approx(float(a * 3), rel=1e-5)
    assert float(a * 3) != pytest.approx(float(a.float() * 3), rel=1e-5)   # the two roundings do differ


# ---- error messages: argument names and the sources of shapes ----


def test_shape_errors_name_where_the_expected_size_came_from():
    """A J or z that disagrees with the parameters names the parameter axis that fixed M or E."""
    J = A.correlations(Z, Y, M, max_order=1)
    with pytest.raises(ArgumentError) as info:
        A.s2_terms(P, {**J, 1: J[1][:, :1]})
    assert "params['W'], axis 1" in str(info.value)
    with pytest.raises(ArgumentError) as info:
        A.s2_terms(P, {0: J[0][:2], 1: J[1][:2]})
    assert "params['U'], axis 0" in str(info.value) and _names("J[0]", info.value)
    with pytest.raises(ArgumentError) as info:
        A.general_term(P, Z[:, :1], Y, M, 1)
    assert "params['W'], axis 1" in str(info.value) and _names("z", info.value)


def test_general_term_names_n():
    """n = 0 (no term S1 beyond the constant) is refused naming n."""
    with pytest.raises(ArgumentError) as info:
        A.general_term(P, Z, Y, M, 0)
    assert _names("n", info.value)


def test_hessian_closed_form_checks_J0_against_J1():
    """J⁽⁰⁾ and J⁽¹⁾ must agree on M: a mismatch is an ArgumentError (not a reshape failure), and a
    missing J⁽⁰⁾ is named as such."""
    J = A.correlations(Z, Y, M, max_order=1)
    with pytest.raises(ArgumentError):
        A.hessian_closed_form({0: J[0][:2], 1: J[1]}, H)
    with pytest.raises(ArgumentError):
        A.hessian_closed_form({0: J[0], 1: J[1][:2]}, H)
    with pytest.raises(ArgumentError, match="J⁽0⁾"):
        A.hessian_closed_form({1: J[1]}, H)


def test_missing_J_names_the_order_and_hints_max_order_only_for_J2():
    """A missing J⁽⁰⁾ or J⁽¹⁾ is named without the max_order=2 hint (correlations(..., 1) has them);
    a missing J⁽²⁾ gets the hint to call correlations(..., max_order=2)."""
    J = A.correlations(Z, Y, M, max_order=1)
    for k in (0, 1):
        with pytest.raises(ArgumentError) as info:
            A.s2_terms(P, {j: v for j, v in J.items() if j != k})
        assert f"J⁽{k}⁾ is missing" in str(info.value) and "max_order=2" not in str(info.value)
    with pytest.raises(ArgumentError) as info:
        A._as_J(dict(J), (0, 1, 2))
    assert "J⁽2⁾ is missing" in str(info.value) and "max_order=2" in str(info.value)


# ---- S4, S5: invariance under a common shift of the logits ----


def test_s4_s5_are_invariant_under_a_common_logit_shift():
    """softmax (and so S) is unchanged when every class gets the same logit: U → U + 1uᵀ adds u·σ(a) to all
    f_α. Term by term, Σ_α D_αi = 0 kills the shift in the J part, and Var_α, Cov_α ignore it. With
    |u| ~ 1e7 the centred products must be formed before averaging; the rounding of the shifted logits
    (~1e7 · 1e-16 per entry, relative to S5 ~ 1e-2) is ≲ 1e-7, so rel 1e-6 (observed ~2e-10)."""
    p, z, y = _problem(1, N=8)
    u = torch.randn(H, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    shifted = {**p, "U": p["U"] + 1e7 * u[None, :]}
    assert A.s5(shifted, z, y, M) == pytest.approx(A.s5(p, z, y, M), rel=1e-6)
    assert A.s4(shifted, z, y, M) == pytest.approx(A.s4(p, z, y, M), rel=1e-6)
    # the shift is not trivial: the logits themselves move by ~1e7
    assert float((A._hidden(shifted, z) @ shifted["U"].T).abs().max()) > 1e5


def test_silu_series_of_order_zero():
    """n_max = 0 is allowed everywhere: σ(0) = 0 is the whole series, and c₀ = 0 for both coefficients."""
    assert list(A.silu_derivatives_at_zero(0)) == [0.0]
    assert A.silu_taylor_coefficients(0) == [0]
    assert A.derived_coefficient(0) == 0.0 and A.source_coefficient(0) == 0.0


def test_source_coefficient_refuses_negative_n_naming_n():
    """n = −1 has no coefficient: refused by source_coefficient's own check, naming n (not n_max)."""
    for bad in (-1, -5):
        with pytest.raises(ArgumentError) as info:
            A.source_coefficient(bad)
        assert _names("n", info.value), str(info.value)


@pytest.mark.parametrize("call, shown", [
    (lambda: A.s2_terms(P, [1, 2]), "[1, 2] (list)"),
    (lambda: A.gradient_alignment(P, "data", (ZV, YV)), "'data' (str)"),
    (lambda: A.gradient_alignment(P, Z, (ZV, YV)), f"shape {tuple(Z.shape)}"),
    (lambda: A.taylor_coefficients_along_ray(lambda q: 0.0, [1.5], 1), "[1.5] (list)"),
    (lambda: A.uw_tensor((1, 2), 1), "(1, 2) (tuple)"),
])
def test_type_errors_show_the_value_that_was_given(call, shown):
    """A J, train pair or ray direction of the wrong type is shown in the message (validate.show)."""
    with pytest.raises(ArgumentError) as info:
        call()
    assert shown in str(info.value), str(info.value)


def test_a_failing_fn_is_reported_with_the_direction_and_the_error_type():
    """When fn fails on the ray, the message shows each direction's shape and the original error's type."""
    def fn(q):
        raise KeyError("V")
    with pytest.raises(ArgumentError) as info:
        A.taylor_coefficients_along_ray(fn, {"U": torch.ones(2, 3, dtype=torch.float64)}, 1)
    assert "shape (2, 3)" in str(info.value) and "KeyError" in str(info.value), str(info.value)
    assert isinstance(info.value.__cause__, KeyError)
