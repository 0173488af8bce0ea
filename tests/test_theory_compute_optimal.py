"""Tests of course_utils.theory.compute_optimal: the joint law, its fit, the allocation and the teacher."""

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedAdam, BatchedMLP, mlp, mse_per_sample, online
from course_utils.theory import compute_optimal as co

TRUE = np.array([0.02, 8.0, 0.8, 40.0, 0.55])          # E, A, alpha, B, beta


def synthetic_grid(rng, noise=0.01, params=TRUE):
    N = np.geomspace(50, 5000, 7)
    D = np.geomspace(1e3, 1e6, 9)
    NN, DD = np.meshgrid(N, D)
    L = co.joint_loss(NN, DD, params) * np.exp(noise * rng.standard_normal(NN.shape))
    return NN, DD, L


def test_joint_loss_and_gradient_against_finite_differences():
    N, D = np.array([100.0, 3000.0]), np.array([1e4, 2e5])
    grad = co.joint_loss_gradient(N, D, TRUE)
    for i in range(5):
        h = 1e-6 * max(1, abs(TRUE[i]))
        up, dn = TRUE.copy(), TRUE.copy()
        up[i] += h
        dn[i] -= h
        fd = (co.joint_loss(N, D, up) - co.joint_loss(N, D, dn)) / (2 * h)
        np.testing.assert_allclose(grad[:, i], fd, rtol=1e-6)
    np.testing.assert_allclose(co.joint_loss(100.0, 1e4, TRUE), 0.02 + 8 * 100 ** -0.8 + 40 * 1e4 ** -0.55)


def test_fit_recovers_known_parameters_within_its_standard_errors():
    rng = np.random.default_rng(0)
    NN, DD, L = synthetic_grid(rng)
    fit = co.fit_joint_scaling_law(NN, DD, L, np.full(L.size, 0.01))
    z = (fit.params - TRUE) / fit.stderr
    assert np.all(np.abs(z) < 4), z
    assert abs(fit.alpha - 0.8) < 0.05 and abs(fit.beta - 0.55) < 0.05
    assert 0.5 < fit.chi2 / fit.dof < 1.6          # the noise given is the noise present
    assert not fit.scaled or fit.chi2 / fit.dof > 1
    huber = co.fit_joint_scaling_law(NN, DD, L, loss="huber")
    assert abs(huber.alpha - 0.8) < 0.08 and abs(huber.beta - 0.55) < 0.08


def test_fit_standard_errors_are_calibrated_by_repeated_experiments():
    """The spread of the fitted α over independent noisy grids matches the Jacobian standard error."""
    rng = np.random.default_rng(1)
    alphas, ses = [], []
    for _ in range(40):
        NN, DD, L = synthetic_grid(rng, noise=0.02)
        fit = co.fit_joint_scaling_law(NN, DD, L, np.full(L.size, 0.02), x0=co.JointFit.internal.fget(
            co.fit_joint_scaling_law(NN, DD, co.joint_loss(NN, DD, TRUE), np.full(L.size, 0.02))))
        alphas.append(fit.alpha)
        ses.append(fit.alpha_se)
    ratio = np.std(alphas) / np.mean(ses)
    assert 0.7 < ratio < 1.4, ratio


def test_allocation_against_brute_force_minimisation():
    C = np.array([1e7, 1e9, 1e11])
    alloc = co.compute_optimal_allocation(C, TRUE)
    for c, n_star, l_star in zip(C, alloc.N, alloc.L):
        N = np.geomspace(1, 1e8, 400_001)
        L = co.joint_loss(N, c / (6 * N), TRUE)
        assert abs(np.log(N[np.argmin(L)] / n_star)) < 1e-3
        assert abs(L.min() - l_star) < 1e-9
    np.testing.assert_allclose(alloc.N * alloc.D * 6, C, rtol=1e-12)
    a, b = co.allocation_exponents(0.8, 0.55)
    assert a == pytest.approx(0.55 / 1.35) and a + b == pytest.approx(1.0)
    assert alloc.a == pytest.approx(a)
    G = (0.8 * 8 / (0.55 * 40)) ** (1 / 1.35)
    np.testing.assert_allclose(alloc.N, G * (C / 6) ** a, rtol=1e-10)


def test_error_propagation_against_bootstrap_over_noisy_grids():
    """The delta-method standard error of ln N*(C) matches the spread over refits of noisy grids."""
    rng = np.random.default_rng(2)
    C = np.array([1e8, 1e10])
    NN, DD, L0 = synthetic_grid(rng, noise=0.0)
    x0 = co.fit_joint_scaling_law(NN, DD, L0, np.full(L0.size, 0.02)).internal
    logN, ses = [], []
    for _ in range(60):
        L = L0 * np.exp(0.02 * rng.standard_normal(L0.shape))
        fit = co.fit_joint_scaling_law(NN, DD, L, np.full(L.size, 0.02), x0=x0)
        alloc = co.compute_optimal_allocation(C, fit)
        logN.append(np.log(alloc.N))
        ses.append(alloc.log_N_se)
    ratio = np.std(logN, axis=0) / np.mean(ses, axis=0)
    assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio


def test_bootstrap_over_runs_has_the_right_shape_and_centre():
    rng = np.random.default_rng(3)
    NN, DD, L0 = synthetic_grid(rng, noise=0.0)
    runs = L0.ravel()[None] * np.exp(0.03 * rng.standard_normal((6, L0.size)))
    fit = co.fit_joint_scaling_law(NN, DD, runs.mean(0), runs.std(0, ddof=1) / np.sqrt(6) / runs.mean(0))
    boot = co.bootstrap_joint_fit(NN, DD, runs, 20, rng, x0=fit.internal)
    assert boot.shape == (20, 5)
    assert abs(np.median(boot[:, 2]) - 0.8) < 0.1


def test_iso_flop_frontier_of_an_exact_surface_follows_the_allocation():
    N = np.geomspace(30, 30_000, 25)
    D = np.geomspace(1e2, 1e8, 200)
    L = co.joint_loss(N[None, :], D[:, None], TRUE)
    C = np.geomspace(1e7, 1e10, 7)
    prof = co.iso_flop_profiles(N, D, L, C)
    n_grid, n_par, l_min = co.measured_frontier(N, prof)
    alloc = co.compute_optimal_allocation(C, TRUE)
    step = np.log(N[1] / N[0])
    assert np.all(np.abs(np.log(n_grid / alloc.N)) <= step / 2 + 1e-9)
    assert np.all(np.abs(np.log(n_par / alloc.N)) < 0.1 * step)
    assert np.all(l_min >= alloc.L - 1e-12)
    # outside the recorded D: NaN
    assert np.isnan(co.iso_flop_profiles(N, D, L, [1e3])[0, -1])


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="params"):
        co.joint_loss(10, 10, [1, 2, 3])
    with pytest.raises(ValueError, match="N"):
        co.joint_loss(-1, 10, TRUE)
    with pytest.raises(ValueError, match="at least 6"):
        co.fit_joint_scaling_law([1, 2], [1, 2], [1, 2])
    with pytest.raises(ValueError, match="loss"):
        co.fit_joint_scaling_law(*synthetic_grid(np.random.default_rng(0)), loss="l1")
    with pytest.raises(ValueError, match="C"):
        co.compute_optimal_allocation(-5, TRUE)
    with pytest.raises(ValueError, match="alpha and beta"):
        co.allocation_exponents(-1, 1)
    with pytest.raises(ValueError, match="shape"):
        co.iso_flop_profiles([1, 2], [1, 2, 3], np.ones((2, 2)), [10])
    with pytest.raises(ValueError, match="gamma"):
        co.QuadraticTeacher(4, -1, 0.1, torch.Generator())


def test_teacher_floor_and_exact_loss():
    g = torch.Generator().manual_seed(0)
    d = 8
    teacher = co.QuadraticTeacher(d, 1.0, 0.1, g, dtype=torch.float64)
    assert teacher.floor(0) == pytest.approx(0.01 + 1.0)          # Var f* = 1
    assert teacher.floor(d) == pytest.approx(0.01)
    assert np.all(np.diff(teacher.floor(np.arange(d + 1))) < 0)
    # the best width-w student, built by hand: units along the top w eigenvectors
    w = 3
    net = mlp([d, w, 1], "quadratic", seed=0)
    with torch.no_grad():
        net[0].weight.copy_(teacher.Q[:, :w].T)
        net[0].bias.zero_()
        net[2].weight.copy_(torch.as_tensor(teacher.lam[:w])[None])
        net[2].bias.fill_(-float(teacher.lam[:w].sum()))
    model = BatchedMLP.from_members([net, mlp([d, w, 1], "quadratic", seed=1)], "quadratic").double()
    exact = teacher.excess_loss(model).detach().numpy()
    assert exact[0] + 0.01 == pytest.approx(teacher.floor(w), rel=1e-10)
    x = torch.randn(400_000, d, generator=g, dtype=torch.float64)
    mc = mse_per_sample(model(x), teacher.target(x)[:, None]).mean(1).detach().numpy()
    np.testing.assert_allclose(exact, mc, rtol=0.03)
    # the noisy labels have variance sigma^2 around the target
    x, y = teacher.sample((200_000,), g)
    assert (y[:, 0] - teacher.target(x)).var().item() == pytest.approx(0.01, rel=0.03)


def test_train_one_pass_uses_every_sample_once_and_applies_the_schedule():
    g = torch.Generator().manual_seed(0)
    teacher = co.QuadraticTeacher(4, 1.0, 0.0, g)
    model = online.padded_widths(4, [2, 2, 2], 1, [0, 1, 2], "quadratic")
    opt = BatchedAdam(model.parameters(), lr=1e-2)
    seen, lrs = [], []

    def sample(shape, gen):
        seen.append(shape)
        return teacher.sample(shape, gen)

    def schedule(t):
        lrs.append(t)
        return 1.0 / (1 + t)

    out = co.train_one_pass(model, sample, opt, batch=8, record_steps=[0, 5, 20], generator=g,
                            evaluate=lambda: teacher.excess_loss(model).detach().numpy(), lr_schedule=schedule)
    assert out.shape == (3, 3)
    assert sum(n for _, n in seen) == 20 * 8 and all(k == 3 for k, _ in seen)
    assert max(n for _, n in seen) <= 128 * 8
    assert lrs == [0, 5]
    assert opt.param_groups[0]["lr"][0].item() == pytest.approx(1e-2 / 6)
    seen.clear()
    co.train_one_pass(model, sample, opt, batch=8, record_steps=[0, 10], generator=g, chunk_steps=4,
                      evaluate=lambda: [0.0, 0.0, 0.0])
    assert [n for _, n in seen] == [32, 32, 16]
    with pytest.raises(ValueError, match="record_steps"):
        co.train_one_pass(model, sample, opt, batch=8, record_steps=[5, 3], generator=g, evaluate=lambda: [0])
