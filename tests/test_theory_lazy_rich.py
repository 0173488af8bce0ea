"""The closed form of the scalar lazy/rich model (course_utils.theory.lazy_rich)."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from course_utils.theory import lazy_rich as T


def _ode(a0, b0, S, gamma, Z, t):
    p = a0.size

    def rhs(_, y):
        return np.concatenate(T.gradient_flow_rhs(y[:p], y[p:], S, input_scale=gamma, Z=Z))

    sol = solve_ivp(rhs, (0, t[-1]), np.concatenate([a0, b0]), t_eval=t, rtol=1e-11, atol=1e-13)
    return sol.y[:p], sol.y[p:]


@pytest.mark.parametrize("alpha,S,gamma,Z", [(1.0, 1.0, 1.0, 3.0), (0.05, 2.0, 1.0, 1.0), (1.0, 1.0, 0.1, 8.0),
                                             (0.5, 5.0, 2.0, 0.5)])
def test_closed_form_matches_numerical_integration(alpha, S, gamma, Z):
    rng = np.random.default_rng(7)
    a0, b0 = alpha * rng.standard_normal(6), alpha * rng.standard_normal(6)
    m = T.ScalarModel.from_weights(a0, b0, S, input_scale=gamma, Z=Z)
    t = np.linspace(0, 12 / m.rate + np.log(1 + 1 / m.rho) / m.rate, 30)
    a, b = _ode(a0, b0, S, gamma, Z, t)
    theta0 = np.concatenate([a0, b0])
    theta = np.concatenate([a, b])
    assert np.allclose((a * b).sum(0) / Z, m.output(t), rtol=1e-7, atol=1e-10)
    assert np.allclose(np.linalg.norm(theta, axis=0) / np.linalg.norm(theta0), m.norm_ratio(t), rtol=1e-7)
    assert np.allclose(np.linalg.norm(theta - theta0[:, None], axis=0) / np.linalg.norm(theta0),
                       m.relative_change(t), rtol=1e-6, atol=1e-10)
    # conserved quantities a_i² − b_i²
    assert np.allclose(a ** 2 - b ** 2, (a0 ** 2 - b0 ** 2)[:, None], atol=1e-8)
    # the loss goes to zero and the relative change to its limit
    assert m.loss(t[-1]) < 1e-8 * max(S ** 2, 1)
    assert m.relative_change(1e6 / m.rate) == pytest.approx(m.relative_change_at_convergence(), rel=1e-9)


def test_gradient_descent_approaches_gradient_flow():
    rng = np.random.default_rng(3)
    a0, b0 = 0.3 * rng.standard_normal(8), 0.3 * rng.standard_normal(8)
    m = T.ScalarModel.from_weights(a0, b0, 1.5, Z=2.0)
    errors = []
    for lr in (0.02, 0.01, 0.005):
        steps = int(round(4.0 / lr))
        *_, w = T.gradient_descent(a0, b0, 1.5, Z=2.0, lr=lr, steps=steps, record=[steps // 2])
        errors.append(abs(w[0] - m.output(2.0)))
    assert errors[2] < errors[1] < errors[0]
    assert errors[0] / errors[2] == pytest.approx(4.0, rel=0.2)     # first-order method: error ∝ η


def test_batched_gradient_descent_matches_single_runs():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    S, Z = np.array([[1.0], [2.0], [0.5]]), np.array([[1.0], [3.0], [2.0]])
    a, b = T.gradient_descent(a0, b0, S, Z=Z, lr=0.01, steps=50)
    for k in range(3):
        ak, bk = T.gradient_descent(a0[k], b0[k], S[k, 0], Z=Z[k, 0], lr=0.01, steps=50)
        assert np.allclose(a[k], ak) and np.allclose(b[k], bk)


def test_lazy_and_rich_limits():
    assert T.relative_change_at_convergence(1e4) == pytest.approx(1 / 2e4, rel=1e-3)
    assert T.relative_change_at_convergence(1e-6) == pytest.approx(1e3, rel=2e-3)
    rho = np.geomspace(1e-3, 1e3, 50)
    change = T.relative_change_at_convergence(rho)
    assert np.all(np.diff(change) < 0)
    # ω = 0: sinh 2τ_∞ = 1/ρ
    assert np.allclose(np.sinh(2 * T.rapidity_at_convergence(rho)), 1 / rho)
    # general ω: ρ sinh 2τ + ω cosh 2τ = 1
    tau = T.rapidity_at_convergence(2.0, -1.5)
    assert 2.0 * np.sinh(2 * tau) - 1.5 * np.cosh(2 * tau) == pytest.approx(1.0)


def test_rates_lazy_is_the_tangent_kernel():
    a0 = np.full(100, 1.0)
    b0 = np.concatenate([np.full(50, 0.2), np.full(50, -0.2)])       # w₀ = 0
    m = T.ScalarModel.from_weights(a0, b0, 0.01, Z=10.0)
    assert m.omega == pytest.approx(0.0, abs=1e-12)
    kernel = (a0 @ a0 + b0 @ b0) / 10.0 ** 2
    assert m.rho > 100 and m.rate == pytest.approx(kernel, rel=1e-3)


def test_weight_to_target_ratio_and_knobs():
    assert T.weight_to_target_ratio(8.0, 2.0, input_scale=0.5, Z=4.0) == pytest.approx(0.5 * 8 / (2 * 4 * 2))
    base = T.weight_to_target_ratio(10.0, 1.0)
    assert T.weight_to_target_ratio(40.0, 1.0) == pytest.approx(4 * base)                     # α × 2
    assert T.weight_to_target_ratio(10.0, 4.0) == pytest.approx(base / 4)                     # S × 4
    assert T.weight_to_target_ratio(10.0, 1.0, input_scale=0.25) == pytest.approx(base / 4)   # γ / 4
    assert T.weight_to_target_ratio(10.0, 1.0, Z=4.0) == pytest.approx(base / 4)              # 1/Z / 4


def test_bad_arguments():
    with pytest.raises(ValueError):
        T.weight_to_target_ratio(-1.0, 1.0)
    with pytest.raises(ValueError):
        T.weight_to_target_ratio(1.0, 0.0)
    with pytest.raises(ValueError):
        T.weight_to_target_ratio(1.0, 1.0, Z=0.0)
    with pytest.raises(ValueError):
        T.weight_to_target_ratio(1.0, 1.0, input_scale=-1.0)
    with pytest.raises(ValueError):
        T.rapidity_at_convergence(1.0, 2.0)                       # |ω| > ρ
    with pytest.raises(ValueError):
        T.rapidity_at_convergence(1.0, -1.0)                      # ρ + ω = 0: the output cannot grow
    with pytest.raises(ValueError):
        T.ScalarModel(norm_sq=1.0, w0=1.0)                        # |w₀| > ‖θ₀‖²/2Z
    with pytest.raises(ValueError):
        T.ScalarModel.from_weights(np.ones(3), np.ones(4))
    with pytest.raises(ValueError):
        T.ScalarModel(norm_sq=1.0, w0=0.0).output(-1.0)
    with pytest.raises(ValueError):
        T.gradient_descent(np.ones(2), np.ones(2), lr=0.0)
    with pytest.raises(ValueError):
        T.gradient_descent(np.ones(2), np.ones(2), steps=-1)


def test_relative_change_keeps_its_digits_in_the_lazy_limit():
    """For τ → 0, ‖Δθ‖/‖θ₀‖ = √(2(cosh τ − 1)(cosh τ + (ω/ρ) sinh τ)) → |τ| (cosh τ − 1 ≈ τ²/2): computed as
    2 sinh²(τ/2), not as cosh τ − 1, which rounds to 0 below τ ≈ 1e-8."""
    from course_utils.theory import lazy_rich as lr
    for tau in (1e-12, 1e-9, 1e-6):
        assert lr.relative_change_from_rapidity(tau, 1.0, 0.0) == pytest.approx(tau, rel=1e-6)
        assert lr.relative_change_from_rapidity(-tau, 2.0, 0.5) == pytest.approx(tau, rel=1e-5)
    tau = 0.7   # away from 0 the two forms agree
    direct = np.sqrt(2 * (np.cosh(tau) - 1) * (np.cosh(tau) + 0.3 / 1.5 * np.sinh(tau)))
    assert lr.relative_change_from_rapidity(tau, 1.5, 0.3) == pytest.approx(direct, rel=1e-12)
