"""The chapter "Linear models and gradient flow" (book/01_foundations/01_linear_models): its theory-vs-experiment checks, at small sizes.

Each test repeats one check of the chapter (same tolerance or a looser one where the sizes here
are smaller), so a change in course_utils that breaks a claim of the chapter fails here too.
"""

import numpy as np
import torch

import course_utils as cu
from course_utils.data.synthetic import (gaussian_features, linear_teacher, power_law_spectrum,
                                         random_feature_weights, random_relu_features)
from course_utils.exercises import linear_models as exercises
from course_utils.models.linear import LinearModel, RandomFeatureModel, half_mse, ridge_test_errors
from course_utils.theory import linear as theory


def _train(model, X, y, **kw):
    return cu.train(model, half_mse, torch.from_numpy(X), torch.from_numpy(y), progress=False, **kw)


def test_section1_every_mode_relaxes_as_one_minus_eta_lambda_to_the_t():
    rng = np.random.default_rng(1)
    spectrum = 2.0 ** -np.arange(8)
    X = gaussian_features(30, spectrum, rng)
    y = linear_teacher(X, rng.standard_normal(8), 0.1, rng)
    lam, U = theory.empirical_eigenbasis(X)
    theta_hat = theory.min_norm_solution(X, y)
    lr = 1.5 / lam[0]
    hist = _train(LinearModel(8), X, y, steps=300, lr=lr, record_steps=range(301),
                  metrics={f"m{k}": (lambda m, k=k: U[:, k] @ (m.weights() - theta_hat)) for k in range(8)})
    measured = np.stack([hist[f"m{k}"] for k in range(8)], 1) / (U.T @ -theta_hat)
    cu.check_close("modes", measured, theory.gd_mode_factor(lam, lr, hist["step"]), atol=1e-9, verbose=False)
    # the gap to gradient flow of the slow modes is ηλ/2e
    gap = np.abs(measured - theory.gradient_flow_mode_factor(lam, lr * hist["step"])).max(0)
    slow = (lr * lam < 0.05) & (lr * lam * 300 > 2)
    assert slow.sum() >= 2
    cu.check_close("gap", gap[slow] / (lr * lam[slow] / (2 * np.e)), np.ones(slow.sum()), rtol=0.05, verbose=False)


def test_section2_test_error_is_a_sum_over_modes():
    rng = np.random.default_rng(2)
    D, N, sigma = 16, 16384, 0.3
    spectrum = power_law_spectrum(D, 1.0)
    w_star = np.ones(D) / np.sqrt(spectrum.sum())
    X = gaussian_features(N, spectrum, rng)
    y = linear_teacher(X, w_star, sigma, rng)
    steps = cu.log_spaced_steps(300, 20)
    hist = _train(LinearModel(D), X, y, steps=300, lr=1.0, record_steps=steps,
                  metrics={"E": lambda m: theory.population_test_error(m.weights(), w_star, spectrum, sigma),
                           "learned": lambda m: m.weights()[D - 1] / w_star[D - 1]})
    theory_E = sigma**2 + theory.gd_test_error_modes(spectrum, w_star, sigma, N, 1.0, hist["step"]).sum(1)
    cu.check_close("test error over time", hist["E"], theory_E, rtol=0.01, verbose=False)
    learned = 1 - theory.gd_mode_factor(spectrum[[D - 1]], 1.0, hist["step"])[:, 0]
    cu.check_close("slowest mode learned", hist["learned"], learned, rtol=0.04, verbose=False)


def test_section3_1_gradient_descent_finds_the_min_norm_interpolator():
    rng = np.random.default_rng(3)
    d, N, P = 10, 20, 120
    X = gaussian_features(N, np.ones(d), rng)
    y = linear_teacher(X, rng.standard_normal(d) / np.sqrt(d), 0.2, rng)
    model = RandomFeatureModel(random_feature_weights(d, P, rng))
    Phi = random_relu_features(X, model.F.numpy())
    lam, _ = theory.empirical_eigenbasis(Phi)
    steps = int(30 * lam[0] / lam[N - 1])
    hist = _train(model, X, y, steps=steps, lr=1 / lam[0], record_steps=[0, steps // 10, steps])
    theta_t = theory.gd_solution(Phi, y, 1 / lam[0], hist["step"])
    cu.check_close("loss", hist["loss"], 0.5 * np.mean((theta_t @ Phi.T - y) ** 2, 1), rtol=1e-6, verbose=False)
    theta_mn = theory.min_norm_solution(Phi, y)
    cu.check_less("distance", np.linalg.norm(model.weights() - theta_mn) / np.linalg.norm(theta_mn), 1e-4,
                  verbose=False)


def test_section3_3_benign_tempered_and_malignant_overfitting():
    s, tail, sigma = 5, 1500, 0.5
    flat = np.r_[np.ones(s), np.full(tail, 1 / tail)]
    power = np.r_[np.ones(s), power_law_spectrum(tail, 2.0) / power_law_spectrum(tail, 2.0).sum()]
    w = np.r_[np.ones(s) / np.sqrt(s), np.zeros(tail)]
    w_tail = np.r_[np.zeros(s), np.ones(tail)]
    rng = np.random.default_rng(4)
    excess = {}
    for name, lam, target in [("flat", flat, w), ("power", power, w), ("malignant", flat, w_tail)]:
        measured = np.array([ridge_test_errors(lam, target, sigma, n, rng, draws=3000 // n).mean() - sigma**2
                             for n in (20, 40)])
        predicted = np.array([theory.ridge_risk(lam, target, sigma, n).excess for n in (20, 40)])
        cu.check_close(name, measured, predicted, rtol=0.15, verbose=False)
        excess[name] = measured
    assert excess["flat"][-1] < sigma**2 / 5 < sigma**2 / 2 < excess["power"][-1]
    assert excess["malignant"][-1] > 0.9   # the target's whole variance (1) is missed
    k_star = next(k for k in range(flat.size) if theory.effective_ranks(flat, k)[0] >= 40)
    assert k_star == s


def test_section3_3_flat_tail_finite_size_excess_is_exact():
    """The experiment agrees with the exact finite-N expectation, which lies above the self-consistent theory."""
    s, tail, sigma, n = 5, 1000, 0.5, 20
    flat = np.r_[np.ones(s), np.full(tail, 1 / tail)]
    w = np.r_[np.ones(s) / np.sqrt(s), np.zeros(tail)]
    rng = np.random.default_rng(7)
    measured = ridge_test_errors(flat, w, sigma, n, rng, draws=1500) - sigma**2
    exact = theory.flat_tail_min_norm_errors(np.ones(s), w[:s], tail, 1.0, sigma, n, rng, draws=4000) - sigma**2
    z = (measured.mean() - exact.mean()) / np.hypot(measured.std() / np.sqrt(measured.size),
                                                    exact.std() / np.sqrt(exact.size))
    assert abs(z) < 4
    de = theory.ridge_risk(flat, w, sigma, n).excess
    assert (exact.mean() - de) / (exact.std() / np.sqrt(exact.size)) > 4


def test_section3_4_double_descent_exact_and_self_consistent():
    N, D, sigma = 40, 120, 0.2
    w = 1 / np.sqrt(np.arange(1, D + 1))
    w /= np.linalg.norm(w)
    rng = np.random.default_rng(5)
    for P in (10, 25, 60, 120):
        errors = ridge_test_errors(np.ones(D), w, sigma, N, rng, ridge=[0.0, 0.05], draws=400, seen=P)
        exact = theory.min_norm_risk_isotropic(N, P, np.sum(w[:P] ** 2), np.sum(w[P:] ** 2), sigma)
        sem = errors[0].std(ddof=1) / np.sqrt(errors.shape[1])
        cu.check_less(f"P={P}: |experiment − exact| in standard errors", abs(errors[0].mean() - exact) / sem, 4.0,
                      verbose=False)
        mean_field = theory.ridge_risk(np.ones(P), w[:P], np.sqrt(sigma**2 + np.sum(w[P:] ** 2)), N, 0.05)
        cu.check_close(f"P={P}, ridge", errors[1].mean(), mean_field.test_error, rtol=0.05, verbose=False)
    # the peak
    near_peak, far = (theory.min_norm_risk_isotropic(N, P, 0.5, 0.5, sigma) for P in (N + 3, 5))
    assert near_peak > 5 * far


def test_section3_4_random_relu_features_follow_the_self_consistent_theory():
    N, d, sigma = 60, 30, 0.3
    rng = np.random.default_rng(6)
    beta = rng.standard_normal(d)
    beta /= np.linalg.norm(beta)
    F = random_feature_weights(d, 200, rng)
    X = gaussian_features(N, np.ones(d), rng, batch=(60,))
    y = linear_teacher(X, beta, sigma, rng)
    X_test = gaussian_features(4000, np.ones(d), rng)
    y_test = linear_teacher(X_test, beta, sigma, rng)
    Phi, Phi_test = random_relu_features(X, F), random_relu_features(X_test, F)
    for P, rho in [(20, 0.0), (200, 0.0), (60, 0.05), (150, 0.05)]:
        theta = theory.ridge_solution(Phi[..., :P], y, rho)
        measured = np.mean((theta @ Phi_test[:, :P].T - y_test) ** 2)
        lam, theta_star, noise_eff = theory.relu_features_as_linear_problem(F[:P], beta, sigma)
        cu.check_close(f"P={P}, ρ={rho}", measured, theory.ridge_risk(lam, theta_star, noise_eff, N, rho).test_error,
                       rtol=0.07, verbose=False)


def test_exercise_checkers(capsys):
    assert exercises.check_gd_limit(theory.gd_limit)
    assert "✓" in capsys.readouterr().out
    assert not exercises.check_gd_limit(lambda X, y, theta0: theory.min_norm_solution(X, y))
    assert "not yet" in capsys.readouterr().out
    assert exercises.check_gd_limit(lambda X, y, theta0: np.zeros(3)) is False      # a verdict, not a traceback
    assert "shape" in capsys.readouterr().out
    assert exercises.check_gd_limit(lambda X, y, theta0: None) is False
    assert "array" in capsys.readouterr().out
    assert exercises.check_gd_limit(lambda X, y, theta0: np.full(X.shape[1], np.nan)) is False   # NaN passed once
    assert exercises.check_optimal_ridge(0.25)  # σ² P/(N r²)
    assert not exercises.check_optimal_ridge(0.5)
    assert exercises.check_optimal_ridge(0.1 * 60 / (50 * 2.0), P=60, N=50, r2=2.0, sigma2=0.1)
    assert exercises.check_optimal_ridge("a lot") is False
    assert "number" in capsys.readouterr().out
    assert exercises.check_optimal_ridge(float("nan")) is False
    assert "NaN" in capsys.readouterr().out
