"""The closed forms of the action's expansion against automatic differentiation (float64)."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.models.silu_net import action, init_params
from course_utils.theory import action as A


def _problem(balanced=True, N=120, E=5, H=4, M=3, seed=0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(N) % M if balanced else torch.randint(0, M, (N,), generator=g)
    z = torch.randn(N, E, generator=g, dtype=torch.float64) + 0.4 * y[:, None].double() + 0.3
    p = init_params(E, H, M, generator=g, dtype=torch.float64, scale=scale)
    return p, z, y, M


def test_silu_taylor_coefficients_match_autograd():
    c = A.silu_taylor_coefficients(7)
    assert c[:5] == [0, Fraction(1, 2), Fraction(1, 4), 0, Fraction(-1, 48)]
    f = F.silu
    x = torch.zeros((), dtype=torch.float64)
    for n in range(1, 7):
        f = (lambda h: (lambda t: torch.func.grad(h)(t)))(f)
        assert float(f(x)) == pytest.approx(float(c[n]) * math.factorial(n), abs=1e-12)
    assert np.allclose(A.silu_derivatives_at_zero(4), [0, 0.5, 0.5, 0, -0.5])


def test_source_coefficient_is_off_by_n_plus_one():
    for n in (1, 2, 4):
        assert A.source_coefficient(n) * (n + 1) == pytest.approx(A.derived_coefficient(n))


def test_class_weights_and_correlations():
    p, z, y, M = _problem(balanced=False)
    J = A.correlations(z, y, M, max_order=3)
    for a in range(M):
        pa = float((y == a).double().mean())
        Ez, Ea = z.mean(0), z[y == a].mean(0)
        assert torch.allclose(J[1][a], Ez - M * pa * Ea)
        assert torch.allclose(J[2][a], z.T @ z / len(z) - M * pa * (z[y == a].T @ z[y == a]) / int((y == a).sum()))
        assert float(J[0][a]) == pytest.approx(1 - M * pa)
    for k in range(4):  # Σ_α J⁽ᵏ⁾ = 0 identically
        assert torch.allclose(J[k].sum(0), torch.zeros_like(J[k][0]), atol=1e-12)
    assert J[3].shape == (M, 5, 5, 5)
    _, _, yb, _ = _problem(balanced=True)
    assert torch.allclose(A.correlations(z, yb, M, 1)[0], torch.zeros(M, dtype=torch.float64))


@pytest.mark.parametrize("balanced", [True, False])
def test_closed_forms_agree_with_autograd_to_fifth_order(balanced):
    p, z, y, M = _problem(balanced=balanced)
    ad = A.taylor_coefficients_along_ray(lambda q: action(q, z, y), p, 5)
    cf = A.closed_form_taylor_terms(p, z, y, M)
    assert ad[0] == pytest.approx(math.log(M), rel=1e-14)
    assert abs(ad[1]) < 1e-14
    assert np.allclose(ad[2:], cf[2:], rtol=1e-9, atol=1e-14)


def test_s2_s3_terms_and_bias_free_general_term():
    p, z, y, M = _problem()
    J = A.correlations(z, y, M, 2)
    t2, t3 = A.s2_terms(p, J), A.s3_terms(p, J)
    assert abs(t2["Ub"]) < 1e-15 and abs(t3["Ubb"]) < 1e-15  # balanced classes
    assert A.s2(p, J) == pytest.approx(A.general_term(p, z, y, M, 1))
    assert A.s3(p, J) == pytest.approx(A.general_term(p, z, y, M, 2))
    # b = 0 leaves the pure U W^n J^(n) term
    assert A.general_term(p, z, y, M, 1, include_bias=False) == pytest.approx(t2["UWJ"])
    assert A.general_term(p, z, y, M, 2, include_bias=False) == pytest.approx(t3["UWWJ"])
    uw = A.uw_tensor(p, 2)
    assert float((uw * J[2]).sum()) * 0.25 / M == pytest.approx(t3["UWWJ"])
    assert A.general_term(p, z, y, M, 2, coefficient="source") == pytest.approx(A.s3(p, J) / 3)
    assert A.general_term(p, z, y, M, 3) == 0.0  # σ'''(0) = 0 for SiLU
    assert A.s4(p, z, y, M) > 0  # then S4 is a variance


def test_hessian_at_zero_matches_closed_form():
    for balanced in (True, False):
        p, z, y, M = _problem(balanced=balanced)
        Hd = A.hessian_at_zero(lambda q: action(q, z, y), p)
        Hc = A.hessian_closed_form(A.correlations(z, y, M, 1), H=4)
        assert torch.allclose(Hd, Hc, atol=1e-14)
        v = torch.cat([p[k].reshape(-1) for k in ("U", "W", "b")])
        J = A.correlations(z, y, M, 1)
        assert float(v @ Hc @ v) / 2 == pytest.approx(A.s2(p, {**J, 2: torch.zeros(1)}))


def test_identity_for_the_gradient_of_ln_q():
    """∂ ln q_m/∂θ = ∂f_m/∂θ − Σ_α q_α ∂f_α/∂θ, on every parameter."""
    from course_utils.models.silu_net import silu_net
    p, z, y, M = _problem()
    z1 = z[:1]
    jac_lnq = torch.func.jacrev(lambda q: F.log_softmax(silu_net(q, z1), -1)[0])(p)
    jac_f = torch.func.jacrev(lambda q: silu_net(q, z1)[0])(p)
    qv = F.softmax(silu_net(p, z1), -1)[0]
    for k in p:
        expected = jac_f[k] - torch.einsum("a,a...->...", qv, jac_f[k])[None]
        assert torch.allclose(jac_lnq[k], expected, atol=1e-12)


def test_first_sign_change():
    assert A.first_sign_change([0, 1, 2, 3], [3.0, 1.0, -1.0, -2.0]) == pytest.approx(1.5)
    assert math.isnan(A.first_sign_change([0, 1], [1.0, 2.0]))
    assert A.first_sign_change([0, 10, 20], [-1.0, 2.0, -2.0]) == pytest.approx(15.0)
    with pytest.raises(ValueError):
        A.first_sign_change([0, 1], [1.0])


def test_alignment_zero_crossing_is_the_validation_minimum():
    g = torch.Generator().manual_seed(3)
    E, M = 10, 3
    means = 1.2 * torch.randn(M, E, generator=g, dtype=torch.float64)
    yT, yV = torch.arange(30) % M, torch.arange(300) % M
    zT = means[yT] + 1.5 * torch.randn(30, E, generator=g, dtype=torch.float64)
    zV = means[yV] + 1.5 * torch.randn(300, E, generator=g, dtype=torch.float64)
    p = init_params(E, 32, M, generator=g, dtype=torch.float64)
    _, h = A.train_tracking_alignment(p, (zT, yT), (zV, yV), steps=600, lr=0.3, progress=False)
    steps, sv = h["step"], h["S_V"]
    i = int(np.argmin(sv))
    assert 0 < i < len(sv) - 1, "the validation loss must have an interior minimum"
    assert abs(A.first_sign_change(steps, h["alignment"]) - steps[i]) <= 2
    assert h["alignment"][0] == pytest.approx(A.gradient_alignment(p, (zT, yT), (zV, yV)))


def test_bad_arguments():
    p, z, y, M = _problem()
    with pytest.raises(ValueError, match="M"):
        A.correlations(z, y, 1)
    with pytest.raises(ValueError, match="labels"):
        A.correlations(z, y + 5, M)
    with pytest.raises(ValueError, match="max_order"):
        A.correlations(z, y, M, max_order=7)
    with pytest.raises(ValueError, match="J⁽²⁾"):
        A.s3_terms(p, A.correlations(z, y, M, 1))
    with pytest.raises(ValueError, match="order"):
        A.uw_tensor(p, 3)
    with pytest.raises(ValueError, match="coefficient"):
        A.general_term(p, z, y, M, 1, coefficient="paper")
    with pytest.raises(ValueError, match="steps"):
        A.train_tracking_alignment(p, (z, y), (z, y), steps=0, lr=0.1)
    with pytest.raises(ValueError, match="M must be"):
        A.s0(1)


def test_quadratic_action_descent_is_gradient_descent_on_s2():
    for balanced in (True, False):
        p, z, y, M = _problem(balanced=balanced, scale=0.3)
        J = A.correlations(z, y, M, max_order=1)
        path = A.quadratic_action_descent(p, J, lr=0.2, steps=3)
        assert len(path) == 4

        def s2(r):  # S2 = (c₁/M)(Σ U W J⁽¹⁾ + Σ U b J⁽⁰⁾), c₁ = 1/2, differentiable
            return (torch.einsum("ab,bg,ag->", r["U"], r["W"], J[1])
                    + torch.einsum("ab,b,a->", r["U"], r["b"], J[0])) / (2 * M)

        q = {k: v.clone() for k, v in p.items()}
        for step in range(1, 4):
            g = torch.func.grad(s2)(q)
            q = {k: q[k] - 0.2 * g[k] for k in q}
            for k in ("U", "W", "b"):
                torch.testing.assert_close(path[step][k], q[k], rtol=1e-12, atol=1e-14)


def test_quadratic_action_descent_grows_the_top_singular_direction():
    p, z, y, M = _problem(scale=1e-3, E=6, M=4, H=5)
    J = A.correlations(z, y, M, max_order=1)
    s1 = float(torch.linalg.svdvals(J[1])[0]) / (2 * M)
    path = A.quadratic_action_descent(p, J, lr=0.5, steps=400)
    shares = [A.top_singular_share(r["U"] @ r["W"], J[1]) for r in path]
    assert shares[-1] > 0.999 and shares[-1] > shares[0]
    # the top mode's amplitude grows by (1 + lr s1)^2 per step once it dominates
    amp = [abs(float(torch.linalg.svdvals(r["U"] @ r["W"])[0])) for r in path[-3:]]
    assert amp[2] / amp[1] == pytest.approx((1 + 0.5 * s1) ** 2, rel=1e-3)


def test_top_singular_share():
    J1 = torch.tensor([[3.0, 0.0, 0.0], [0.0, -1.0, 0.0]], dtype=torch.float64)
    assert A.top_singular_share(torch.tensor([[2.0, 0, 0], [0, 0, 0]]), J1) == pytest.approx(1.0)
    assert A.top_singular_share(-J1, J1) == pytest.approx(0.9)
    assert A.top_singular_share(torch.tensor([[0.0, 1, 0], [0, 0, 1]]), J1) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="shape"):
        A.top_singular_share(torch.ones(3, 2), J1)
    with pytest.raises(ValueError, match="zero"):
        A.top_singular_share(torch.zeros(2, 3), J1)
    p, z, y, M = _problem()
    J = A.correlations(z, y, M, max_order=1)
    with pytest.raises(ValueError, match="steps"):
        A.quadratic_action_descent(p, J, lr=0.1, steps=-1)
    with pytest.raises(ValueError, match="lr"):
        A.quadratic_action_descent(p, J, lr=0.0, steps=1)
