"""The theory-vs-experiment checks of the chapter "Variance-limited and resolution-limited scaling"
(book/06_scaling/02_variance_and_resolution), at small sizes."""

import numpy as np
import pytest
import torch
from scipy.spatial import cKDTree

import course_utils as cu
from course_utils.data.classification import load_digits
from course_utils.data.manifold import TorusManifold, intrinsic_dimension_mle, nearest_neighbour_distances
from course_utils.data.synthetic import power_law_spectrum
from course_utils.exercises import scaling_regimes as exercises
from course_utils.models.interpolation import nearest_neighbour_predict, torus_linear_interpolation
from course_utils.models.random_projection import resolution_limited_losses, variance_limited_losses
from course_utils.theory import kernels
from course_utils.theory import scaling_regimes as theory
from course_utils.theory.linear import effective_ridge


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_resolution_limited_exponents_and_duality(alpha):
    lam = power_law_spectrum(4096, 1 + alpha)
    sizes = np.array([8, 16, 32, 64, 128])
    rng = np.random.default_rng(10)
    L_D = resolution_limited_losses(lam, sizes, limit="data", draws=32, rng=rng).mean(0)
    L_P = resolution_limited_losses(lam, sizes, limit="features", draws=32, rng=rng).mean(0)
    a_D, a_P = cu.fit_power_law(sizes, L_D).alpha, cu.fit_power_law(sizes, L_P).alpha
    cu.check_close("α_D", a_D, alpha, atol=0.1)
    cu.check_close("α_P", a_P, alpha, atol=0.1)
    cu.check_close("α_D = α_P", a_D, a_P, atol=0.1)
    finite = theory.resolution_limited_loss_finite(lam, sizes)
    # measured/theory at every size: root-mean-square deviation from 1 (equal weight per size)
    cu.check_close("L(D) at P = ∞ / theory", L_D / finite, np.ones(sizes.size), rtol=0.15)
    cu.check_close("L(P) at D = ∞ / theory", L_P / finite, np.ones(sizes.size), rtol=0.15)


def test_variance_limited_exponent_one_both_ways():
    lam = power_law_spectrum(512, 2.0)
    sizes = np.array([48, 96, 192, 384])
    rng = np.random.default_rng(11)
    excess = {}
    for vary in ("data", "features"):
        L, L_inf = variance_limited_losses(lam, 4, sizes, vary=vary, draws=64, rng=rng)
        excess[vary] = (L - L_inf[:, None]).mean(0)
        formula = theory.variance_limited_loss(L_inf.mean(), 4, sizes) - L_inf.mean()
        # the formula's own slope over these sizes is 1.05 (4/(N − 5) is steeper than 4/N), tending to 1
        slope = cu.fit_power_law(sizes, excess[vary]).alpha
        cu.check_close(f"slope ({vary})", slope, cu.fit_power_law(sizes, formula).alpha, atol=0.12)
        cu.check_close(f"slope ({vary}) vs 1", slope, 1.0, atol=0.2)
        cu.check_close(f"excess vs formula ({vary})", excess[vary], formula, rtol=0.12)
    cu.check_close("duality of the excess", excess["data"], excess["features"], rtol=0.15)


def test_manifold_exponents_follow_the_intrinsic_dimension():
    d = 2
    torus = TorusManifold(d, 32, seed=d)
    rng = np.random.default_rng(12)
    phi_test, x_test, y_test = torus.sample(2000, rng)
    sizes = np.array([128, 256, 512, 1024, 2048])
    rows = []
    for D in sizes:
        acc = []
        for _ in range(3):
            phi, x, y = torus.sample(int(D), rng)
            acc.append([nearest_neighbour_distances(x, 1).mean(),
                        np.mean((nearest_neighbour_predict(x, y, x_test) - y_test) ** 2),
                        np.mean((torus_linear_interpolation(phi, y, phi_test) - y_test) ** 2)])
        rows.append(np.mean(acc, axis=0))
    h, nn, lin = np.array(rows).T
    cu.check_close("NN distance exponent", cu.fit_power_law(sizes, h).alpha, theory.manifold_exponent(d, "distance"),
                   rtol=0.05)
    cu.check_close("NN regression exponent", cu.fit_power_law(sizes, nn).alpha, theory.manifold_exponent(d, "nearest"),
                   rtol=0.12)
    cu.check_close("piecewise-linear exponent", cu.fit_power_law(sizes, lin).alpha,
                   theory.manifold_exponent(d, "linear"), rtol=0.15)
    cu.check_close("Levina–Bickel", intrinsic_dimension_mle(torus.sample(2000, rng)[1], 10), d, rtol=0.1)


def test_digits_learning_curve_follows_the_source_condition():
    z, labels = load_digits(dtype=torch.float64)
    X = z.numpy() - z.numpy().mean(0)
    X = 8.0 * X / np.linalg.norm(X, axis=1, keepdims=True)
    N = len(X)
    K = kernels.nngp_kernel(X, depth=3, sigma_w2=2.0, sigma_b2=0.0)
    lam, U = np.linalg.eigh(K / N)
    lam, U = np.clip(lam[::-1], 0, None), U[:, ::-1]
    Y = np.eye(10)[labels.numpy()]
    Y = Y - Y.mean(0)
    p = np.sum((U.T @ Y) ** 2, axis=1) / N
    Ds = np.array([16, 32, 64, 128])
    k_star = [np.sum(lam > effective_ridge(lam, int(D), 0.0)) for D in Ds]
    k = np.arange(1, N + 1)
    rng_k = slice(k_star[0] - 1, k_star[-1])
    b = cu.fit_power_law(k[rng_k], lam[rng_k]).alpha
    a = cu.fit_power_law(k[rng_k], theory.tail_power(p)[rng_k]).alpha
    rng = np.random.default_rng(13)
    L = []
    for D in Ds:
        losses = []
        for _ in range(6):
            idx = rng.choice(N, size=int(D), replace=False)
            mean, _ = kernels.gp_posterior(K[np.ix_(idx, idx)], K[:, idx], np.diag(K), Y[idx], jitter=1e-8)
            losses.append(np.mean(np.sum((mean - Y) ** 2, axis=1)))
        L.append(np.mean(losses))
    L = np.array(L)
    cu.check_close("learning curve vs spectral theory", L, theory.spectral_learning_curve(lam, p, Ds), rtol=0.12)
    measured = cu.fit_power_law(Ds, L).alpha
    cu.check_close("exponent vs the target's tail", measured, a, atol=0.1)
    cu.check_less("isotropic-target prediction b − 1 misses", 0.15, abs(measured - (b - 1)))


def test_exercise_checkers_accept_the_solutions_and_reject_wrong_answers(capsys):
    def mle(X, k):
        T = cKDTree(X).query(X, k=k + 1)[0][:, 1:]
        return 1.0 / np.mean(np.log(T[:, -1:] / T[:, :-1]))

    def mle_wrong(X, k):  # averages d̂(x) instead of 1/d̂(x)
        T = cKDTree(X).query(X, k=k + 1)[0][:, 1:]
        return np.mean(1.0 / np.mean(np.log(T[:, -1:] / T[:, :-1]), axis=1))

    assert exercises.check_intrinsic_dimension_estimator(mle)
    assert not exercises.check_intrinsic_dimension_estimator(mle_wrong)
    assert "not yet" in capsys.readouterr().out

    def C(alpha):
        b = 1 + alpha
        return ((np.pi / b) / np.sin(np.pi / b)) ** (1 + alpha)

    assert exercises.check_resolution_limited_coefficient(C)
    assert not exercises.check_resolution_limited_coefficient(lambda a: 1 / a)
    assert "naive tail sum" in capsys.readouterr().out
    assert exercises.check_resolution_limited_coefficient(lambda a: "one") is False   # a verdict, not a traceback
    assert "number" in capsys.readouterr().out
