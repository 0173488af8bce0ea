"""Bad inputs to course_utils.theory.compute_optimal end in a clear error naming the argument, and its
formulas agree with independent computations (the law by hand, brute-force minima, explicit parabolas)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.ensemble import BatchedMLP, mlp
from course_utils.theory import compute_optimal as co

TRUE = np.array([0.02, 8.0, 0.8, 40.0, 0.55])
N6 = np.array([10.0, 20, 40, 80, 160, 320])
D6 = np.array([1e3, 3e3, 1e3, 3e3, 1e4, 1e4])
L6 = co.joint_loss(N6, D6, TRUE)
GEN = torch.Generator().manual_seed(0)
TEACHER = co.QuadraticTeacher(4, 1.0, 0.1, GEN)


@pytest.mark.parametrize("call, words", [
    (lambda: co.joint_loss(10, 10, [1, 2, 3, 4, np.nan]), "params"),
    (lambda: co.joint_loss(10, 10, "abcde"), "params"),
    (lambda: co.joint_loss(np.nan, 10, TRUE), "N"),
    (lambda: co.joint_loss(10, "a", TRUE), "D"),
    (lambda: co.joint_loss_gradient(10, 0, TRUE), "D"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6[:5]), "same number"),
    (lambda: co.fit_joint_scaling_law(N6, D6, np.where(L6 > 1, np.nan, L6)), "L"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, sigma=np.nan), "sigma"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, sigma=[0.1, 0.1]), "sigma"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, sigma="a"), "sigma"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, loss="huber", huber_delta=np.nan), "huber_delta"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, loss=None), "loss"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, x0=[1, 2, 3]), "x0"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, x0=[1, 2, 3, 4, np.nan]), "x0"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, starts=[[1, 2, 3]]), "start"),
    (lambda: co.fit_offset_power_law([1, 2, 3], [1, 2, 3]), "at least 4"),
    (lambda: co.fit_offset_power_law([1, 2, 3, np.nan], [1, 2, 3, 4]), "x"),
    (lambda: co.fit_offset_power_law([2, 2, 2, 2], [1, 2, 3, 4]), "all equal"),
    (lambda: co.fit_offset_power_law([1, 2, 3, 4], [1, 2, 3, 4], sigma=[1, 1]), "sigma"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((3, 6)), 1, np.random.default_rng(0)), "n_boot"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((3, 6)), 2.5, np.random.default_rng(0)), "n_boot"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((3, 6)), 2, "rng"), "rng"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((1, 6)), 2, np.random.default_rng(0)), "seeds"),
    (lambda: co.bootstrap_joint_fit(N6[:5], D6[:5], np.ones((3, 6)), 2, np.random.default_rng(0)), "N"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((3, 6)), 2, np.random.default_rng(0), loss="l1"), "loss"),
    (lambda: co.allocation_exponents(np.nan, 1), "alpha"),
    (lambda: co.allocation_exponents(1, np.nan), "beta"),
    (lambda: co.allocation_exponents(1, "1"), "beta"),
    (lambda: co.compute_optimal_allocation(1e10, TRUE, flops_per=np.nan), "flops_per"),
    (lambda: co.compute_optimal_allocation(1e10, TRUE, flops_per=0), "flops_per"),
    (lambda: co.compute_optimal_allocation(np.nan, TRUE), "C"),
    (lambda: co.compute_optimal_allocation(1e10, [1, 1, -1, 1, 1]), "positive"),
    (lambda: co.compute_optimal_allocation(1e10, TRUE, cov=np.eye(4)), "cov"),
    (lambda: co.compute_optimal_allocation(1e10, TRUE, cov=np.full((5, 5), np.nan)), "cov"),
    (lambda: co.iso_flop_profiles([1, 2], [1, 2], np.ones((2, 2)), [10], flops_per=-6), "flops_per"),
    (lambda: co.iso_flop_profiles([1, 2], [2, 1], np.ones((2, 2)), [10]), "increase"),
    (lambda: co.iso_flop_profiles([1, 2], [1, 2], np.full((2, 2), np.nan), [10]), "L"),
    (lambda: co.measured_frontier([1, 2], np.ones((2, 3))), "profiles"),
    (lambda: co.measured_frontier([1, 2], [[1.0, np.inf]]), "profiles"),
    (lambda: co.measured_frontier([1, 2], [[1.0, -1.0]]), "profiles"),
    (lambda: co.QuadraticTeacher(0, 1.0, 0.1, GEN), "d"),
    (lambda: co.QuadraticTeacher(2.5, 1.0, 0.1, GEN), "d"),
    (lambda: co.QuadraticTeacher(4, np.nan, 0.1, GEN), "gamma"),
    (lambda: co.QuadraticTeacher(4, 1.0, np.nan, GEN), "sigma"),
    (lambda: co.QuadraticTeacher(4, 1.0, -0.1, GEN), "sigma"),
    (lambda: co.QuadraticTeacher(4, 1.0, 0.1, 0), "generator"),
    (lambda: co.QuadraticTeacher(4, 1.0, 0.1, GEN, dtype=torch.int64), "dtype"),
    (lambda: TEACHER.target(torch.ones(3, 5)), "x"),
    (lambda: TEACHER.target(torch.full((3, 4), float("nan"))), "x"),
    (lambda: TEACHER.target("x"), "x"),
    (lambda: TEACHER.sample((3, -1), GEN), "shape"),
    (lambda: TEACHER.sample("3", GEN), "shape"),
    (lambda: TEACHER.sample((3,), None), "generator"),
    (lambda: TEACHER.excess_loss(torch.nn.Linear(4, 1)), "model"),
    (lambda: TEACHER.excess_loss(BatchedMLP.from_members([mlp([5, 2, 1], "quadratic", seed=0)], "quadratic")), "model"),
    (lambda: TEACHER.floor(2.5), "width"),
    (lambda: TEACHER.floor([np.nan]), "width"),
    (lambda: TEACHER.floor(-1), "width"),
])
def test_bad_inputs_raise_a_clear_error(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_teacher_converts_numpy_and_float64_inputs():
    x = torch.randn(5, 4, generator=torch.Generator().manual_seed(1))
    want = TEACHER.target(x)
    assert torch.equal(TEACHER.target(x.numpy()), want)
    assert torch.allclose(TEACHER.target(x.double()), want)
    assert TEACHER.target(x.double()).dtype == torch.float32
    assert TEACHER.sample(3, torch.Generator())[0].shape == (3, 4)


@settings(max_examples=30, deadline=None)
@given(N=st.floats(1, 1e6), D=st.floats(1, 1e9), E=st.floats(0, 3), A=st.floats(0.1, 500), alpha=st.floats(0.05, 2),
       B=st.floats(0.1, 500), beta=st.floats(0.05, 2))
def test_joint_loss_by_hand(N, D, E, A, alpha, B, beta):
    params = [E, A, alpha, B, beta]
    assert co.joint_loss(N, D, params) == pytest.approx(E + A / N ** alpha + B / D ** beta, rel=1e-12)
    g = co.joint_loss_gradient(N, D, params)
    h = 1e-6
    for i in range(5):
        up, dn = list(params), list(params)
        up[i] += h
        dn[i] -= h
        fd = (co.joint_loss(N, D, up) - co.joint_loss(N, D, dn)) / (2 * h)
        assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(alpha=st.floats(0.05, 3), beta=st.floats(0.05, 3))
def test_allocation_exponents_by_hand(alpha, beta):
    a, b = co.allocation_exponents(alpha, beta)
    assert a == pytest.approx(beta / (alpha + beta)) and b == pytest.approx(alpha / (alpha + beta))
    assert a + b == pytest.approx(1.0)


@pytest.mark.parametrize("flops_per", [6.0, 2.0])
def test_allocation_minimises_the_law_on_the_iso_flop_line(flops_per):
    params = [1.5, 300.0, 0.4, 900.0, 0.3]
    C = np.array([1e12, 1e16])
    alloc = co.compute_optimal_allocation(C, params, flops_per=flops_per)
    for c, n_star, l_star in zip(C, alloc.N, alloc.L):
        N = n_star * np.exp(np.linspace(-3, 3, 60001))
        L = co.joint_loss(N, c / (flops_per * N), params)
        assert N[np.argmin(L)] == pytest.approx(n_star, rel=2e-4)
        assert l_star == pytest.approx(L.min(), rel=1e-9)
    assert alloc.D == pytest.approx(C / (flops_per * alloc.N))
    assert alloc.a == pytest.approx(0.3 / 0.7)
    E, A, alpha, B, beta = params
    assert alloc.G == pytest.approx((alpha * A / (beta * B)) ** (1 / (alpha + beta)))
    assert np.all(alloc.log_N_se == 0) and alloc.a_se == 0
    lo, hi = alloc.band(2.0)
    assert np.allclose(lo, alloc.N) and np.allclose(hi, alloc.N)


def test_allocation_errors_by_the_delta_method():
    params = np.array([1.5, 300.0, 0.4, 900.0, 0.3])
    theta = np.array([np.log(1.5), np.log(300.0), 0.4, np.log(900.0), 0.3])
    cov = np.diag([1e-4, 4e-4, 1e-4, 9e-4, 2e-4])
    C = 1e14
    alloc = co.compute_optimal_allocation(C, params, cov=cov)

    def log_n(t):
        e, la, al, lb, be = t
        return (np.log(al) + la - np.log(be) - lb) / (al + be) + be / (al + be) * np.log(C / 6)

    grad = np.array([(log_n(theta + h) - log_n(theta - h)) / 2e-6 for h in np.eye(5) * 1e-6])
    assert float(alloc.log_N_se) == pytest.approx(np.sqrt(grad @ cov @ grad), rel=1e-5)
    ga = np.array([0, 0, -0.3 / 0.7 ** 2, 0, 0.4 / 0.7 ** 2])          # a = β/(α+β)
    assert alloc.a_se == pytest.approx(np.sqrt(ga @ cov @ ga), rel=1e-5)
    lo, hi = alloc.band(1.5)
    assert hi / alloc.N == pytest.approx(np.exp(1.5 * alloc.log_N_se))
    assert alloc.N / lo == pytest.approx(np.exp(1.5 * alloc.log_N_se))
    assert np.array_equal(alloc.log_D_se, alloc.log_N_se)


def test_iso_flop_profiles_interpolate_in_log_log():
    N = np.array([10.0, 100.0])
    D = np.array([1e2, 1e3, 1e4])
    L = np.array([[4.0, 8.0], [2.0, 3.0], [1.0, 1.5]])
    C = np.array([6 * 10 * 3000.0, 6 * 10 * 50.0])                   # D = 3000, 300; then 50 and 5: outside
    prof = co.iso_flop_profiles(N, D, L, C)
    x = (np.log(3000) - np.log(1000)) / np.log(10)
    assert prof[0, 0] == pytest.approx(np.exp((1 - x) * np.log(2.0) + x * np.log(1.0)))
    x = (np.log(300) - np.log(100)) / np.log(10)
    assert prof[0, 1] == pytest.approx(np.exp((1 - x) * np.log(8.0) + x * np.log(3.0)))
    assert np.isnan(prof[1, 0]) and np.isnan(prof[1, 1])
    prof2 = co.iso_flop_profiles(N, D, L, [1e5], flops_per=1.0)         # D = 1e4 and 1e3, the recorded ends
    assert prof2[0, 0] == pytest.approx(1.0) and prof2[0, 1] == pytest.approx(3.0)


def test_measured_frontier_by_hand():
    N = np.array([1.0, 10.0, 100.0, 1000.0])
    logN = np.log(N)
    row = np.exp(0.5 * (logN - 3.0) ** 2 + 1)                        # vertex at ln N = 3
    flat_end = np.array([4.0, 3.0, 2.0, 1.0])                         # minimum at the end: no vertex
    with_nan = np.array([np.nan, 2.0, 1.0, np.nan])                   # neighbours missing
    n_grid, n_par, l_min = co.measured_frontier(N, np.stack([row, flat_end, with_nan, np.full(4, np.nan)]))
    assert n_grid[0] == 10.0 and l_min[0] == pytest.approx(row[1])
    assert n_par[0] == pytest.approx(np.exp(3.0), rel=1e-9)
    assert n_grid[1] == 1000.0 and np.isnan(n_par[1])
    assert n_grid[2] == 100.0 and l_min[2] == 1.0 and np.isnan(n_par[2])
    assert np.isnan(n_grid[3]) and np.isnan(l_min[3])
    # a parabola that opens downwards has no interior minimum
    cap = np.exp(-0.5 * (logN - 3.0) ** 2)
    cap[1] = 0.01
    assert np.isnan(co.measured_frontier(N, cap[None])[1][0])


def test_fit_offset_power_law_recovers_its_parameters():
    x = np.geomspace(10, 1e5, 12)
    y = 0.5 + 20 * x ** -0.6
    (E, A, alpha), se = co.fit_offset_power_law(x, y)
    assert (E, A, alpha) == (pytest.approx(0.5, rel=1e-6), pytest.approx(20, rel=1e-5), pytest.approx(0.6, rel=1e-6))
    assert se.shape == (3,) and np.all(se < 1e-5)


def test_fit_huber_and_weights():
    rng = np.random.default_rng(0)
    N = np.geomspace(50, 5000, 6)
    D = np.geomspace(1e3, 1e6, 7)
    NN, DD = [a.ravel() for a in np.meshgrid(N, D)]
    L = co.joint_loss(NN, DD, TRUE) * np.exp(0.003 * rng.standard_normal(NN.size))
    L[3] *= 1.5                                                     # one outlier
    huber = co.fit_joint_scaling_law(NN, DD, L, loss="huber")
    assert huber.loss == "huber" and huber.scaled and huber.dof == NN.size - 5
    assert huber.alpha == pytest.approx(0.8, abs=0.05)
    fit = co.fit_joint_scaling_law(NN, DD, L, sigma=0.003)
    # χ² is the weighted sum of squared residuals of log L
    r = (np.log(fit(NN, DD)) - np.log(L)) / 0.003
    assert fit.chi2 == pytest.approx(float(r @ r), rel=1e-6)
    assert fit.stderr == pytest.approx(np.sqrt(np.diag(fit.cov)))
    assert fit.alpha_se == pytest.approx(fit.stderr[2])
    assert fit.internal == pytest.approx([np.log(fit.E), np.log(fit.A), fit.alpha, np.log(fit.B), fit.beta])


def test_teacher_target_and_floor_by_hand():
    t = co.QuadraticTeacher(5, 1.3, 0.2, torch.Generator().manual_seed(2), dtype=torch.float64)
    lam = np.arange(1, 6) ** -1.3
    lam = lam / np.sqrt(2 * np.sum(lam ** 2))
    assert t.lam == pytest.approx(lam)
    Q = t.Q.numpy()
    assert Q.T @ Q == pytest.approx(np.eye(5), abs=1e-12)
    x = np.random.default_rng(0).standard_normal((7, 5))
    want = [sum(lam[j] * ((Q[:, j] @ xi) ** 2 - 1) for j in range(5)) for xi in x]
    assert t.target(x).numpy() == pytest.approx(want, rel=1e-10)
    for w in range(7):
        assert t.floor(w) == pytest.approx(0.04 + 2 * np.sum(lam[w:] ** 2), rel=1e-12)


@pytest.mark.parametrize("call, start", [
    (lambda: co.joint_loss(np.nan, 10, TRUE), "N must be finite and positive"),
    (lambda: co.joint_loss(10, [1.0, np.inf], TRUE), "D must be finite and positive"),
    (lambda: co.joint_loss(10, 10, [1, 2, 3, 4, np.nan]), "params must be the 5 numbers"),
    (lambda: co.joint_loss(10, 10, []), "params must be the 5 numbers"),
    (lambda: co.joint_loss(10, 10, None), "params must"),
    (lambda: co.fit_joint_scaling_law(N6, D6, np.where(L6 > 1, np.nan, L6)), "L must be finite and positive"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, sigma=np.nan), "sigma must be finite and positive"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, loss="huber", huber_delta=0), "huber_delta must"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, x0=[1, 2, 3, 4, np.nan]), "x0 must"),
    (lambda: co.fit_joint_scaling_law(N6, D6, L6, starts=[[1, 2, 3, 4, np.nan]]), "each start must"),
    (lambda: co.fit_joint_scaling_law(None, D6, L6), "N must"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((3, 6)), 1, np.random.default_rng(0)), "n_boot must"),
    (lambda: co.bootstrap_joint_fit(N6, D6, np.ones((3, 6)), 2, None), "rng must"),
    (lambda: co.bootstrap_joint_fit(N6, D6[:5], np.ones((3, 6)), 2, np.random.default_rng(0)), "D must have one entry"),
    (lambda: co.allocation_exponents(np.nan, 1), "alpha must"),
    (lambda: co.allocation_exponents(1, np.nan), "beta must"),
    (lambda: co.compute_optimal_allocation(1e10, TRUE, flops_per=np.nan), "flops_per must"),
    (lambda: co.compute_optimal_allocation(1e10, TRUE, cov="a"), "cov must"),
    (lambda: co.iso_flop_profiles([1, 2], [1, 2], np.ones((2, 2)), [10], flops_per=None), "flops_per must"),
    (lambda: co.measured_frontier([1, 2], "a"), "profiles must"),
    (lambda: co.measured_frontier([1, 2], [[1.0, 0.0]]), "profiles must hold positive losses"),
    (lambda: co.measured_frontier([1, 2], [[1.0, -np.inf]]), "profiles must hold positive losses"),
    (lambda: co.QuadraticTeacher(4, 1.0, 0.1, GEN, dtype="float32"), "dtype must"),
    (lambda: TEACHER.target(torch.tensor(1.0)), "x must have shape"),
    (lambda: TEACHER.target(None), "x must"),
    (lambda: TEACHER.sample((2.5,), GEN), "shape\\[0\\] must"),
    (lambda: TEACHER.excess_loss(BatchedMLP.from_members([mlp([4, 3, 3, 1], "quadratic", seed=0)], "quadratic")),
     "model must be a two-layer"),
    (lambda: TEACHER.excess_loss(BatchedMLP.from_members([mlp([4, 2, 2], "quadratic", seed=0)], "quadratic")),
     "model must be a BatchedMLP of sizes"),
    (lambda: TEACHER.floor(True), "width must"),
])
def test_messages_start_with_the_argument(call, start):
    with pytest.raises(ValueError, match="^" + start):
        call()


def test_edge_values_are_accepted():
    assert co.joint_loss([], 10.0, TRUE).shape == (0,)
    assert co.joint_loss_gradient([], 10.0, TRUE).shape == (0, 5)
    assert TEACHER.target(torch.zeros(0, 4)).shape == (0,)
    x, y = TEACHER.sample((0,), torch.Generator())
    assert x.shape == (0, 4) and y.shape == (0, 1)
    x, y = TEACHER.sample([2, 3], torch.Generator())
    assert x.shape == (2, 3, 4) and y.shape == (2, 3, 1)
    assert TEACHER.floor([]).shape == (0,)
    assert TEACHER.floor(0) == pytest.approx(0.01 + 1.0)
    boot = co.bootstrap_joint_fit(N6, D6, L6[None] * np.array([[1.0], [1.01], [0.99]]), 2, 0,
                                  x0=[np.log(0.02), np.log(8.0), 0.8, np.log(40.0), 0.55])
    assert boot.shape == (2, 5)
    alloc = co.compute_optimal_allocation(1e12, TRUE, cov=np.eye(5) * 1e-4)
    lo, hi = alloc.band(0)
    assert lo == alloc.N and hi == alloc.N
    with pytest.raises(ValueError, match="^k must"):
        alloc.band(-1.0)


def test_a_fit_with_non_finite_parameters_is_refused():
    fit = co.JointFit(params=np.array([1.0, 1.0, np.nan, 1.0, 0.5]), cov=np.eye(5), log_cov=np.eye(5), chi2=0.0,
                      dof=1, loss="linear", scaled=False, residuals=np.zeros(6))
    with pytest.raises(ValueError, match="finite"):
        co.compute_optimal_allocation(1e10, fit)


def _grid(noise, seed=0):
    rng = np.random.default_rng(seed)
    N = np.geomspace(50, 5000, 5)
    D = np.geomspace(1e3, 1e6, 6)
    NN, DD = [a.ravel() for a in np.meshgrid(N, D)]
    return NN, DD, co.joint_loss(NN, DD, TRUE) * np.exp(noise * rng.standard_normal(NN.size))


def _residual_jacobian(NN, DD, L, s, theta, h=1e-6):
    """∂r/∂θ by central differences, r = (log L(θ) − log L)/s, θ = (log E, log A, α, log B, β)."""
    def r(t):
        params = [np.exp(t[0]), np.exp(t[1]), t[2], np.exp(t[3]), t[4]]
        return (np.log(co.joint_loss(NN, DD, params)) - np.log(L)) / s
    return np.stack([(r(theta + e) - r(theta - e)) / (2 * h) for e in np.eye(5) * h], axis=1), r(theta)


@pytest.mark.parametrize("sigma, scaled", [(0.003, True), (0.05, False)])
def test_fit_covariance_is_the_gauss_newton_formula(sigma, scaled):
    NN, DD, L = _grid(0.01)
    fit = co.fit_joint_scaling_law(NN, DD, L, sigma=sigma)
    J, r = _residual_jacobian(NN, DD, L, sigma, fit.internal)
    chi2 = float(r @ r)
    assert fit.chi2 == pytest.approx(chi2, rel=1e-6)
    assert fit.dof == NN.size - 5 and fit.loss == "linear"
    assert fit.scaled is scaled and (chi2 / fit.dof > 1) is scaled
    want = np.linalg.inv(J.T @ J) * (chi2 / fit.dof if scaled else 1.0)
    np.testing.assert_allclose(fit.log_cov, want, rtol=1e-4, atol=1e-12)
    T = np.diag([fit.E, fit.A, 1.0, fit.B, 1.0])
    np.testing.assert_allclose(fit.cov, T @ want @ T, rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(fit.residuals, r, rtol=1e-6, atol=1e-9)


def test_huber_fit_objective_and_covariance():
    NN, DD, L = _grid(0.003, seed=1)
    L[4] *= 1.3
    delta = 2e-3
    fit = co.fit_joint_scaling_law(NN, DD, L, loss="huber", huber_delta=delta)
    J, r = _residual_jacobian(NN, DD, L, 1.0, fit.internal)       # r: residuals of log L
    np.testing.assert_allclose(fit.residuals, r, rtol=1e-6, atol=1e-12)
    z = (r / delta) ** 2
    rho = np.where(z <= 1, z, 2 * np.sqrt(z) - 1)
    assert fit.chi2 == pytest.approx(2 * np.sum(rho) * delta ** 2, rel=1e-6)
    birge = float(r @ r) / fit.dof
    np.testing.assert_allclose(fit.log_cov, np.linalg.inv(J.T @ J) * birge, rtol=1e-4, atol=1e-14)
    assert fit.scaled
    # the Huber fit is the minimum of its objective: a nudge of any parameter does not lower it
    def objective(t):
        params = [np.exp(t[0]), np.exp(t[1]), t[2], np.exp(t[3]), t[4]]
        zz = ((np.log(co.joint_loss(NN, DD, params)) - np.log(L)) / delta) ** 2
        return np.sum(np.where(zz <= 1, zz, 2 * np.sqrt(zz) - 1))
    best = objective(fit.internal)
    for e in np.eye(5) * 1e-3:
        assert objective(fit.internal + e) >= best - 1e-9 and objective(fit.internal - e) >= best - 1e-9


def test_fit_offset_power_law_errors_are_the_gauss_newton_formula():
    x = np.geomspace(10, 1e4, 10)
    rng = np.random.default_rng(3)
    y = (0.5 + 20 * x ** -0.6) * np.exp(0.01 * rng.standard_normal(x.size))
    for sigma in (None, np.full(x.size, 0.05), np.full(x.size, 0.002)):
        (E, A, alpha), se = co.fit_offset_power_law(x, y, sigma)
        s = np.ones_like(y) if sigma is None else sigma
        theta = np.array([np.log(E), np.log(A), alpha])
        r = lambda t: (np.log(np.exp(t[0]) + np.exp(t[1]) * x ** -t[2]) - np.log(y)) / s   # noqa: E731
        J = np.stack([(r(theta + e) - r(theta - e)) / 2e-6 for e in np.eye(3) * 1e-6], axis=1)
        chi2 = float(r(theta) @ r(theta))
        factor = chi2 / (x.size - 3) if sigma is None or chi2 / (x.size - 3) > 1 else 1.0
        cov = np.linalg.inv(J.T @ J) * factor
        T = np.diag([E, A, 1.0])
        np.testing.assert_allclose(se, np.sqrt(np.diag(T @ cov @ T)), rtol=1e-4)
        # the fit is a least-squares minimum: the gradient Jᵀr vanishes
        assert np.linalg.norm(J.T @ r(theta)) < 1e-5 * np.linalg.norm(J) * max(np.linalg.norm(r(theta)), 1e-3)


def test_bootstrap_is_refitting_resampled_seed_means():
    NN, DD, L = _grid(0.0)
    rng = np.random.default_rng(5)
    runs = L[None] * np.exp(0.01 * rng.standard_normal((4, L.size)))
    x0 = [np.log(0.02), np.log(8.0), 0.8, np.log(40.0), 0.55]
    got = co.bootstrap_joint_fit(NN, DD, runs, 2, np.random.default_rng(7), x0=x0)
    draw = np.random.default_rng(7)
    for k in range(2):
        pick = runs[draw.integers(0, 4, 4)]
        mean = pick.mean(0)
        se = pick.std(0, ddof=1) / 2 / mean
        sigma = np.maximum(se, 1e-3 * np.median(se[se > 0]))
        np.testing.assert_allclose(got[k], co.fit_joint_scaling_law(NN, DD, mean, sigma, x0=x0).params, rtol=1e-10)
    huber = co.bootstrap_joint_fit(NN, DD, runs, 2, np.random.default_rng(7), x0=x0, loss="huber")
    draw = np.random.default_rng(7)
    pick = runs[draw.integers(0, 4, 4)]
    np.testing.assert_allclose(huber[0], co.fit_joint_scaling_law(NN, DD, pick.mean(0), loss="huber", x0=x0).params,
                               rtol=1e-10)
    # identical seeds: no spread, no weights
    same = co.bootstrap_joint_fit(NN, DD, np.stack([L, L]), 2, np.random.default_rng(0), x0=x0)
    np.testing.assert_allclose(same[0], co.fit_joint_scaling_law(NN, DD, L, x0=x0).params, rtol=1e-10)


def test_allocation_loss_error_and_fit_input():
    params = np.array([1.5, 300.0, 0.4, 900.0, 0.3])
    theta = np.array([np.log(1.5), np.log(300.0), 0.4, np.log(900.0), 0.3])
    cov = np.diag([1e-4, 4e-4, 1e-4, 9e-4, 2e-4]) + 1e-5
    C = np.array([1e12, 1e14])

    def L_star(t):
        e, la, al, lb, be = t
        G = np.exp((np.log(al) + la - np.log(be) - lb) / (al + be))
        N = G * (C / 6) ** (be / (al + be))
        return np.exp(e) + np.exp(la) * N ** -al + np.exp(lb) * (C / (6 * N)) ** -be

    g = np.stack([(L_star(theta + h) - L_star(theta - h)) / 2e-6 for h in np.eye(5) * 1e-6], axis=-1)
    alloc = co.compute_optimal_allocation(C, params, cov=cov)
    np.testing.assert_allclose(alloc.L, L_star(theta), rtol=1e-12)
    np.testing.assert_allclose(alloc.L_se, np.sqrt(np.einsum("ci,ij,cj->c", g, cov, g)), rtol=1e-5)
    # a JointFit brings its own covariance of the internal parameters; cov= overrides it
    fit = co.JointFit(params=params, cov=np.eye(5), log_cov=cov, chi2=0.0, dof=1, loss="linear", scaled=False,
                      residuals=np.zeros(6))
    assert fit.internal == pytest.approx(theta)
    from_fit = co.compute_optimal_allocation(C, fit)
    np.testing.assert_allclose(from_fit.log_N_se, alloc.log_N_se, rtol=1e-12)
    zero = co.compute_optimal_allocation(C, fit, cov=np.zeros((5, 5)))
    assert np.all(zero.log_N_se == 0) and np.all(zero.L_se == 0)
    assert fit(10.0, 100.0) == pytest.approx(co.joint_loss(10.0, 100.0, params))
    assert fit.alpha == 0.4 and fit.B_se == pytest.approx(1.0)
    with pytest.raises(AttributeError):
        fit.gamma


def test_shapes_that_do_not_broadcast_are_named():
    with pytest.raises(ValueError, match="^N and D must have shapes that broadcast"):
        co.joint_loss_gradient(np.ones(3) * 10, np.ones(2) * 10, TRUE)
    with pytest.raises(ValueError, match="^fit must be the 5 numbers"):
        co.compute_optimal_allocation(1e10, TRUE[:3])
