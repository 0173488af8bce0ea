"""theory.action: bad arguments end in a clear error naming the argument; conversions (NumPy → torch,
float32 → float64) give the same numbers; the formulas against independent computations."""

import math
import re
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.models.silu_net import action, init_params
from course_utils.theory import action as A
from course_utils.validate import ArgumentError

NAN = float("nan")


def _problem(N=30, E=3, H=4, M=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, M, (N,), generator=g)
    z = torch.randn(N, E, generator=g, dtype=torch.float64) + 0.5 * y[:, None].double()
    p = init_params(E, H, M, generator=g, dtype=torch.float64)
    return p, z, y, M


P, Z, Y, M = _problem()
J = A.correlations(Z, Y, M)

BAD = [
    ("n_max", lambda: A.silu_taylor_coefficients(-1)),
    ("n_max", lambda: A.silu_taylor_coefficients(2.5)),
    ("n_max", lambda: A.silu_taylor_coefficients(10 ** 6)),   # would run for days: refused
    ("n", lambda: A.derived_coefficient(201)),
    ("n", lambda: A.source_coefficient(201)),
    ("n_max", lambda: A.silu_derivatives_at_zero("3")),
    ("n", lambda: A.derived_coefficient(-2)),
    ("n", lambda: A.source_coefficient(None)),
    ("M", lambda: A.class_weights(Y, 1)),
    ("labels", lambda: A.class_weights(Y, 2)),
    ("y", lambda: A.class_weights(torch.tensor([0.5, 1.0]), 3)),
    ("dtype", lambda: A.class_weights(Y, 3, dtype=torch.int64)),
    ("z", lambda: A.correlations(Z[:5], Y, M)),
    ("z", lambda: A.correlations(Z[:, 0], Y, M)),
    ("z", lambda: A.correlations(torch.full((30, 3), NAN), Y, M)),
    ("y", lambda: A.correlations(Z, Y[:, None], M)),
    ("y", lambda: A.correlations(Z, "labels", M)),
    ("z", lambda: A.correlations(Z[:0], Y[:0], M)),
    ("y", lambda: A.correlations(Z, Y[:0], M)),
    ("labels", lambda: A.correlations(Z, Y - 1, M)),
    ("max_order", lambda: A.correlations(Z, Y, M, max_order=-1)),
    ("M", lambda: A.correlations(Z, Y, 2.5)),
    ("order", lambda: A.uw_tensor(P, 0)),
    ("params", lambda: A.uw_tensor([P["U"], P["W"], P["b"]], 1)),
    ("missing", lambda: A.uw_tensor({"U": P["U"], "W": P["W"]}, 1)),
    ("params['W']", lambda: A.uw_tensor({**P, "W": P["W"][:2]}, 1)),
    ("params['b']", lambda: A.uw_tensor({**P, "b": P["b"][:2]}, 1)),
    ("params['W']", lambda: A.uw_tensor({**P, "W": P["W"][:2], "b": P["b"][:2]}, 1)),
    ("params['U']", lambda: A.uw_tensor({**P, "U": P["U"] * NAN}, 1)),
    ("M", lambda: A.s0(0)),
    ("J", lambda: A.s2_terms(P, {1: J[1]})),
    ("J", lambda: A.s2_terms(P, "J")),
    ("J[1]", lambda: A.s2_terms(P, {**J, 1: J[1][:, :2]})),
    ("J[0]", lambda: A.s2_terms(P, {**J, 0: J[0][:2]})),
    ("J[0]", lambda: A.s2_terms(P, {0: J[0][:2], 1: J[1][:2]})),
    ("J[0]", lambda: A.quadratic_action_descent(P, {0: J[0][:2], 1: J[1][:2]}, lr=0.1, steps=1)),
    ("J[2]", lambda: A.s3_terms(P, {**J, 2: J[2][:, :2]})),
    ("J⁽²⁾", lambda: A.s3(P, A.correlations(Z, Y, M, 1))),
    ("n", lambda: A.general_term(P, Z, Y, M, 0)),
    ("coefficient", lambda: A.general_term(P, Z, Y, M, 1, coefficient=None)),
    ("z", lambda: A.general_term(P, Z[:, :2], Y, M, 1)),
    ("z", lambda: A.s4(P, Z[:, :2], Y, M)),
    ("labels", lambda: A.s5(P, Z, Y + 3, M)),
    ("fn", lambda: A.taylor_coefficients_along_ray(3.0, P, 2)),
    ("order", lambda: A.taylor_coefficients_along_ray(lambda q: action(q, Z, Y), P, 9)),
    ("order", lambda: A.taylor_coefficients_along_ray(lambda q: action(q, Z, Y), P, -1)),
    ("params", lambda: A.taylor_coefficients_along_ray(lambda q: action(q, Z, Y), {**P, "U": P["U"][:2]}, 1)),
    ("params", lambda: A.taylor_coefficients_along_ray(lambda q: action(q, Z, Y), {}, 2)),
    ("params", lambda: A.taylor_coefficients_along_ray(lambda q: action(q, Z, Y), {"U": "x"}, 2)),
    ("fn", lambda: A.hessian_at_zero(None, P)),
    ("like", lambda: A.hessian_at_zero(lambda q: action(q, Z, Y), {"U": P["U"]})),
    ("H", lambda: A.hessian_closed_form(J, 0)),
    ("J", lambda: A.hessian_closed_form({0: J[0]}, 4)),
    ("J", lambda: A.hessian_closed_form({1: J[1]}, 4)),
    ("J", lambda: A.quadratic_action_descent(P, {1: J[1]}, lr=0.1, steps=2)),
    ("J1", lambda: A.top_singular_share(A.uw_tensor(P, 1), J[1][:2])),
    ("train", lambda: A.gradient_alignment(P, Z, (Z, Y))),
    ("val[0]", lambda: A.gradient_alignment(P, (Z, Y), (Z[:, :2], Y))),
    ("val[1]", lambda: A.gradient_alignment(P, (Z, Y), (Z, Y[:4]))),
    ("train[1]", lambda: A.gradient_alignment(P, (Z, Y + 5), (Z, Y))),
    ("train[1]", lambda: A.gradient_alignment(P, (Z, torch.full_like(Y, M)), (Z, Y))),   # M = 3 < H = 4
    ("train", lambda: A.gradient_alignment(P, (Z, Y, Y), (Z, Y))),
    ("values", lambda: A.first_sign_change([0, 1, 2], [1.0, -1.0])),
    ("values", lambda: A.first_sign_change([0, 1], [1.0, NAN])),
    ("steps", lambda: A.first_sign_change(np.zeros((2, 2)), np.zeros((2, 2)))),
    ("steps", lambda: A.quadratic_action_descent(P, J, lr=0.1, steps=-1)),
    ("lr", lambda: A.quadratic_action_descent(P, J, lr=NAN, steps=2)),
    ("lr", lambda: A.quadratic_action_descent(P, J, lr=0.0, steps=2)),
    ("J[1]", lambda: A.quadratic_action_descent(P, {**J, 1: J[1][:2]}, lr=0.1, steps=2)),
    ("J1", lambda: A.top_singular_share(A.uw_tensor(P, 1), J[1][:, :2])),
    ("uw", lambda: A.top_singular_share(A.uw_tensor(P, 1)[0], J[1])),
    ("zero", lambda: A.top_singular_share(torch.zeros(3, 3), J[1])),
]


@pytest.mark.parametrize("needle, call", BAD, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_a_clear_error(needle, call):
    with pytest.raises(ValueError) as info:
        call()
    # the argument's name as a word of the message (not inside another word: "n" is not found in "None")
    assert re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(info.value)), str(info.value)
    assert isinstance(info.value, ArgumentError) or needle == "zero"


def test_numpy_lists_and_float32_are_converted():
    """NumPy arrays, lists and float32 tensors give the numbers of the float64 tensors."""
    Pn = {k: v.numpy() for k, v in P.items()}
    Jn = A.correlations(Z.numpy(), Y.numpy().tolist(), M)
    for k in J:
        assert torch.equal(Jn[k], J[k])
    assert A.s2(Pn, J) == A.s2(P, J) and A.s3(P, {k: v.numpy() for k, v in J.items()}) == A.s3(P, J)
    assert A.general_term(Pn, Z.numpy(), Y.numpy(), M, 2) == A.general_term(P, Z, Y, M, 2)
    assert A.s4(P, Z.float(), Y, M) == pytest.approx(A.s4(P, Z.float().double(), Y, M), rel=0)
    # float32 parameters are computed in float64
    P32 = {k: v.float() for k, v in P.items()}
    assert A.s2(P32, J) == A.s2({k: v.double() for k, v in P32.items()}, J)
    assert A.s3(P32, J) == A.s3({k: v.double() for k, v in P32.items()}, J)
    # a float32 U with float64 W, b: promoted to float64
    mixed = {**P, "U": P["U"].float()}
    assert torch.equal(A.uw_tensor(mixed, 1), P["U"].float().double() @ P["W"])
    # float labels that are whole numbers are labels
    assert torch.equal(A.class_weights(Y.double(), M), A.class_weights(Y, M))
    assert A.top_singular_share(A.uw_tensor(P, 1).numpy(), J[1].numpy()) == A.top_singular_share(A.uw_tensor(P, 1), J[1])
    g = A.gradient_alignment(P, (Z.float(), Y.numpy()), (Z, Y))
    assert g == pytest.approx(A.gradient_alignment(P, (Z.float().double(), Y), (Z, Y)), rel=1e-12)


# ---- the formulas against independent computations ----


def test_silu_coefficients_against_the_series_of_x_sigmoid():
    """c_n from the known series x/2 + x²/4 − x⁴/48 + x⁶/480 − 17x⁸/80640 + …, and the derivatives n! c_n."""
    c = A.silu_taylor_coefficients(8)
    assert c == [0, Fraction(1, 2), Fraction(1, 4), 0, Fraction(-1, 48), 0, Fraction(1, 480), 0, Fraction(-17, 80640)]
    assert A.silu_taylor_coefficients(0) == [0]
    assert A.silu_derivatives_at_zero(6) == pytest.approx([0, 0.5, 0.5, 0, -0.5, 0, 1.5])
    assert [A.derived_coefficient(n) for n in range(5)] == pytest.approx([0, 0.5, 0.25, 0, -1 / 48])
    assert [A.source_coefficient(n) for n in range(5)] == pytest.approx([0, 0.25, 0.5 / 6, 0, -0.5 / 120])
    # the series evaluates SiLU near 0
    x = 0.3
    assert sum(float(cn) * x ** n for n, cn in enumerate(c)) == pytest.approx(x / (1 + math.exp(-x)), abs=1e-9)


def test_class_weights_are_the_defining_matrix():
    D = A.class_weights(Y, M)
    N = len(Y)
    for a in range(M):
        for i in (0, 7, 19):
            assert float(D[a, i]) == pytest.approx((1 - M * (int(Y[i]) == a)) / N)
    assert A.class_weights(Y, M, dtype=torch.float32).dtype == torch.float32


def test_uw_tensor_and_s0():
    U, W = P["U"], P["W"]
    T2 = A.uw_tensor(P, 2)
    a, g, d = 1, 2, 0
    assert float(T2[a, g, d]) == pytest.approx(sum(float(U[a, b] * W[b, g] * W[b, d]) for b in range(U.shape[1])))
    assert torch.allclose(A.uw_tensor(P, 1), U @ W)
    assert A.s0(M) == math.log(M) and A.s0(2) == math.log(2)


def test_s2_and_s3_are_the_taylor_terms_by_finite_differences():
    """S(tθ) = S0 + t² S2 + t³ S3 + O(t⁴): the closed forms against the action itself (no autograd), with an
    unbalanced data set so that the bias terms (J⁽⁰⁾ ≠ 0) count."""
    def S(t):
        return float(action({k: t * v for k, v in P.items()}, Z, Y))
    # S(t) + S(−t) = 2 S0 + 2t² S2 + 2t⁴ S4 + …;  S(t) − S(−t) = 2t³ S3 + 2t⁵ S5 + …
    t = 1e-2
    even = (S(t) + S(-t) - 2 * math.log(M)) / (2 * t ** 2)
    odd = (S(t) - S(-t)) / (2 * t ** 3)
    assert even == pytest.approx(A.s2(P, J), rel=1e-3)
    assert odd == pytest.approx(A.s3(P, J), rel=1e-3)
    assert abs(A.s2_terms(P, J)["Ub"]) > 0 and abs(A.s3_terms(P, J)["Ubb"]) > 0


def test_s4_s5_against_the_expansion_of_the_action():
    def S(t):
        return float(action({k: t * v for k, v in P.items()}, Z, Y))
    t = 3e-2
    # S4 = [S(t) + S(−t) − 2S0 − 2t²S2]/(2t⁴) + O(t²); S5 from the odd part
    s4 = (S(t) + S(-t) - 2 * math.log(M) - 2 * t ** 2 * A.s2(P, J)) / (2 * t ** 4)
    s5 = (S(t) - S(-t) - 2 * t ** 3 * A.s3(P, J)) / (2 * t ** 5)
    assert s4 == pytest.approx(A.s4(P, Z, Y, M), rel=2e-2)
    assert s5 == pytest.approx(A.s5(P, Z, Y, M), rel=2e-2)


def test_closed_form_taylor_terms_layout():
    terms = A.closed_form_taylor_terms(P, Z, Y, M)
    assert terms.shape == (6,) and terms[0] == math.log(M) and terms[1] == 0.0
    assert list(terms[2:]) == [A.s2(P, J), A.s3(P, J), A.s4(P, Z, Y, M), A.s5(P, Z, Y, M)]
    # float32 J⁽⁰⁾ is converted: the Hessian is the float64 one
    assert torch.equal(A.hessian_closed_form({0: J[0].float(), 1: J[1]}, 4),
                       A.hessian_closed_form({0: J[0].float().double(), 1: J[1]}, 4))


def test_general_term_by_hand():
    a = Z @ P["W"].T + P["b"]
    D = A.class_weights(Y, M)
    for n in (1, 2, 3):
        ref = float(A.silu_taylor_coefficients(n)[n]) / M * float(torch.einsum("ab,ai,ib->", P["U"], D, a ** n))
        assert A.general_term(P, Z, Y, M, n) == pytest.approx(ref, rel=1e-12, abs=1e-15)
        a0 = Z @ P["W"].T
        ref0 = float(A.silu_taylor_coefficients(n)[n]) / M * float(torch.einsum("ab,ai,ib->", P["U"], D, a0 ** n))
        assert A.general_term(P, Z, Y, M, n, include_bias=False) == pytest.approx(ref0, rel=1e-12, abs=1e-15)
        assert A.general_term(P, Z, Y, M, n, coefficient="source") * (n + 1) == pytest.approx(
            A.general_term(P, Z, Y, M, n), rel=1e-12, abs=1e-15)


def test_taylor_coefficients_along_ray_of_a_polynomial():
    """g(t) = fn(t θ) for a polynomial fn: the coefficients are known exactly."""
    theta = {"a": torch.tensor([2.0], dtype=torch.float64), "b": torch.tensor([[1.0, -1.0]], dtype=torch.float64)}

    def fn(q):   # 1 + 3 a + a² b₀ − a³ + b₁⁴  → along t θ: 1 + 6t + (4 − 8)t³ + t⁴
        a, b = q["a"][0], q["b"][0]
        return 1 + 3 * a + a ** 2 * b[0] - a ** 3 + b[1] ** 4
    assert A.taylor_coefficients_along_ray(fn, theta, 5) == pytest.approx([1, 6, 0, -4, 1, 0], abs=1e-12)
    # NumPy directions are taken in float64: g(t) = 1 + 0.3t + (0.003 − 0.001)t³ + 0.2401t⁴
    theta_np = {"a": np.array([0.1]), "b": np.array([[0.3, -0.7]])}
    assert A.taylor_coefficients_along_ray(fn, theta_np, 4) == pytest.approx([1, 0.3, 0, 0.002, 0.2401], rel=1e-13,
                                                                             abs=1e-15)
    assert A.taylor_coefficients_along_ray(fn, theta, 0) == pytest.approx([1.0])


def test_hessian_closed_form_against_autograd_unbalanced():
    H = A.hessian_at_zero(lambda q: action(q, Z, Y), P)
    assert torch.allclose(H, A.hessian_closed_form(J, P["W"].shape[0]), atol=1e-12)
    assert H.shape == (3 * 4 + 4 * 3 + 4,) * 2


def test_first_sign_change_edge_cases():
    assert math.isnan(A.first_sign_change([], []))
    assert math.isnan(A.first_sign_change([0, 1], [0.0, -1.0]))        # from zero is not from positive
    assert A.first_sign_change([0, 1, 2], [1.0, 0.0, -1.0]) == 1.0      # positive to zero: at the zero
    assert A.first_sign_change([0, 10], [1.0, -3.0]) == 2.5
    assert A.first_sign_change([5, 6, 7, 8], [1.0, -1.0, 1.0, -1.0]) == 5.5   # the first crossing


def test_parameters_keep_their_dtype():
    P32 = {k: v.float() for k, v in P.items()}
    assert A.uw_tensor(P32, 1).dtype == torch.float32 and A.uw_tensor(P32, 2).dtype == torch.float32


@settings(max_examples=20, deadline=None)
@given(steps=st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=8))
def test_first_sign_change_is_a_zero_of_the_linear_interpolation(steps):
    values = np.array(steps)
    x = np.arange(len(values), dtype=float) * 2.0 + 1.0
    out = A.first_sign_change(x, values)
    crossings = [i for i in range(1, len(values)) if values[i - 1] > 0 >= values[i]]
    if not crossings:
        assert math.isnan(out)
        return
    i = crossings[0]
    assert x[i - 1] <= out <= x[i]
    assert np.interp(out, x[i - 1:i + 1], values[i - 1:i + 1]) == pytest.approx(0.0, abs=1e-9)


def test_quadratic_action_descent_against_autograd_of_s2():
    """Each step is θ − lr ∇S2, with ∇S2 from autograd of the closed form S2(θ) (bias terms included)."""
    lr = 0.3
    out = A.quadratic_action_descent(P, J, lr=lr, steps=3)
    assert len(out) == 4 and all(torch.equal(out[0][k], P[k]) for k in P)
    for before, after in zip(out[:-1], out[1:]):
        q = {k: v.clone().requires_grad_(True) for k, v in before.items()}
        c1 = 0.5
        s2 = c1 / M * (torch.einsum("ab,bg,ag->", q["U"], q["W"], J[1]) + torch.einsum("ab,b,a->", q["U"], q["b"], J[0]))
        grads = torch.autograd.grad(s2, [q[k] for k in ("U", "W", "b")])
        for k, g in zip(("U", "W", "b"), grads):
            assert torch.allclose(after[k], before[k] - lr * g, atol=1e-13)


def test_top_singular_share_values():
    J1 = torch.tensor([[3.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert A.top_singular_share(torch.tensor([[2.0, 0.0], [0.0, 0.0]]), J1) == pytest.approx(1.0)
    assert A.top_singular_share(torch.tensor([[0.0, 0.0], [0.0, 5.0]]), J1) == pytest.approx(0.0)
    assert A.top_singular_share(torch.tensor([[1.0, 1.0], [1.0, 1.0]]), -J1) == pytest.approx(0.25)
