"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.linear.

flat_tail_min_norm_errors draw by draw (the head-plus-tail interpolator recomputed in the full feature
space from the same random numbers), its batching and the Bartlett distribution of the tail Gram matrix;
effective_ridge's bracket at its limits (a half-isotropic spectrum, a strong ridge, a subnormal
eigenvalue); the unseen modes of gd_solution; relu_features_as_linear_problem with duplicated features;
the interpolation threshold of ridge_risk; the argument names and edge cases of the checks.

Equivalent mutants left (not killable by any valid input; their lines also carry killable mutants):

- x_effective_ridge__mutmut_54, _55 (upper end Σλ·N or +1 instead of Σλ/N, +1e-12): a wider bracket
  that still contains the root (N ≥ 1); same root to brentq's tolerance.
- x_effective_ridge__mutmut_67, _68, _69, _72 (brentq's xtol/rtol/maxiter): brentq converges in far fewer
  than 100 iterations, and its final superlinear step lands well inside both tolerances.
- x_flat_tail_min_norm_errors__mutmut_61, _67, _68, _76 (the batch size of the finite-tail path for
  N > 1000, N² dividing 2 000 001, over 2·10⁶ draws, or computed from N·s instead of N²): a different batch size changes the order in which the random
  numbers are drawn, not their distribution — each draw is still exact.
- x_flat_tail_min_norm_errors__mutmut_82, _88 (the batch size of the tail_dim = inf path): that path only
  draws X_h, batch after batch, so any batch size gives the same numbers.
- x_gd_solution__mutmut_65 (np.where(seen, lam, 2.0) as the denominator): the quotient is only used
  where a mode is seen; 1.0 or 2.0 merely avoid a division by zero in the discarded entries.
- x_min_norm_solution / x_ridge_solution ``D >= N`` (square X): both forms are the same matrix identity;
  for min_norm_solution only the name of the singular matrix in the message changes (tested below).
- x_relu_features_as_linear_problem__mutmut_46 (the "relu" argument dropped): "relu" is the default.
- x_relu_features_as_linear_problem__mutmut_65 (keep = lam >= 1e-12·max): differs only for an eigenvalue
  exactly at the cut; x_relu_features_as_linear_problem__mutmut_82 (2.0 in the discarded denominator).
- x_ridge_risk__mutmut_42 (γ > 1 − 1e-12): differs only for γ exactly at the rounding tolerance.
"""

import numpy as np
import pytest

from course_utils.theory import linear as th
from course_utils.validate import ArgumentError


# ------------------------------------------------------------------------------------------------
# flat_tail_min_norm_errors
# ------------------------------------------------------------------------------------------------

def _full_space_errors(lam, w, T, v, sigma, n, seed, draws):
    """The same draws as flat_tail_min_norm_errors (one batch: X_h, then the χ² diagonal, then the normals
    below it, as its docstring describes), but the test error computed in the full feature space:
    X = [X_h, √(v/T) L] (the tail features in the n-dimensional span of the tail data, where Σ_tail is
    (v/T)·I), θ = X⁺y by the pseudo-inverse, and the label noise averaged in closed form."""
    rng = np.random.default_rng(seed)
    s = len(lam)
    Xh = rng.standard_normal((draws, n, s)) * np.sqrt(lam)
    chi = rng.chisquare(float(T) - np.arange(n), size=(draws, n))
    rows, cols = np.tril_indices(n, -1)
    z = rng.standard_normal((draws, rows.size))
    sig = np.concatenate([lam, np.full(n, v / T)])
    w_full = np.concatenate([w, np.zeros(n)])
    out = []
    for i in range(draws):
        L = np.diag(np.sqrt(chi[i]))
        L[rows, cols] = z[i]
        X = np.hstack([Xh[i], np.sqrt(v / T) * L])
        P = np.linalg.pinv(X)                         # (s + n, n)
        theta = P @ (Xh[i] @ w)                       # the noiseless part of θ
        bias = np.sum(sig * (theta - w_full) ** 2)
        variance = sigma**2 * np.sum(sig * np.sum(P**2, axis=1))   # σ² tr(Σ P Pᵀ)
        out.append(bias + variance + sigma**2)
    return np.array(out)


@pytest.mark.parametrize("T", [4, 9])
def test_flat_tail_errors_draw_by_draw_in_the_full_feature_space(T):
    """Each draw's test error equals the min-norm interpolator's error computed directly in the head + tail
    feature space from the same random numbers (T = N: the smallest tail allowed, where the tail term
    matters most). The two routes differ only by rounding of well-conditioned 4×4 solves: rtol 1e-8."""
    lam, w = np.array([1.0, 0.3]), np.array([0.8, -1.5])
    n, v, sigma, seed, draws = 4, 0.7, 0.5, 11, 40
    got = th.flat_tail_min_norm_errors(lam, w, T, v, sigma, n, np.random.default_rng(seed), draws=draws)
    want = _full_space_errors(lam, w, T, v, sigma, n, seed, draws)
    np.testing.assert_allclose(got, want, rtol=1e-8)


def test_flat_tail_noise_only_error_is_the_isotropic_min_norm_risk():
    """With no head signal (a zero-variance head) the error is σ²(1 + tr W⁻¹) with W ~ Wishart_N(T, I), whose
    mean σ²(1 + N/(T − N − 1)) is Belkin–Hsu–Xu's isotropic min-norm risk. 20 000 draws: the standard error
    of the mean is ≈ 0.0007 (sd of tr W⁻¹ ≈ 0.09 at N = 3, T = 12); tolerance 0.004 (≈ 6 se)."""
    n, T, sigma = 3, 12, 1.0
    errs = th.flat_tail_min_norm_errors([0.0], [0.0], T, 0.9, sigma, n, np.random.default_rng(3), draws=20_000)
    assert errs.mean() == pytest.approx(th.min_norm_risk_isotropic(n, T, 0.0, 0.0, sigma), abs=4e-3)


def test_flat_tail_draws_are_independent_inverse_chi_square():
    """N = 1, no head: each draw is σ²(1 + 1/χ²_T), independent across draws: mean 1 + 1/(T − 2), variance
    2/((T − 2)²(T − 4)). 4000 draws: the sample variance is within ~5 % (the fourth moment is finite for
    T = 20); tolerance 25 %. A shared χ² across the batch would give variance 0."""
    T = 20
    errs = th.flat_tail_min_norm_errors([0.0], [0.0], T, 1.0, 1.0, 1, np.random.default_rng(5), draws=4000)
    assert errs.mean() == pytest.approx(1 + 1 / (T - 2), abs=2e-3)
    assert errs.var() == pytest.approx(2 / ((T - 2) ** 2 * (T - 4)), rel=0.25)


def test_flat_tail_infinite_limit_over_several_batches_draw_by_draw():
    """tail_dim = inf is ridge on the head with ridge v/N; for one head direction each draw is in closed form:
    W = Σ x², θ = Ww/(W + v), error = λ(θ − w)² + σ²λW/(W + v)² + σ². N·s = 2000 makes the code split the
    1001 draws in batches; the same generator gives the same X_h in order. Rounding only: rtol 1e-10."""
    n, lam, w, v, sigma, draws = 2000, 0.5, 1.3, 40.0, 0.7, 1001
    got = th.flat_tail_min_norm_errors([lam], [w], np.inf, v, sigma, n, np.random.default_rng(2), draws=draws)
    x = np.random.default_rng(2).standard_normal((draws, n)) * np.sqrt(lam)
    W = np.sum(x**2, axis=1)
    theta = W * w / (W + v)
    want = lam * (theta - w) ** 2 + sigma**2 * lam * W / (W + v) ** 2 + sigma**2
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_flat_tail_finite_path_over_several_batches():
    """N = 60 and 600 draws: the finite-tail path runs in more than one batch. Every draw is a test error, at
    least σ² (plus a non-negative excess), and the mean agrees with the deterministic equivalent only
    loosely at this small size, so the check is on validity and independence of the draws."""
    errs = th.flat_tail_min_norm_errors([1.0], [1.0], 60, 1.0, 0.3, 60, np.random.default_rng(8), draws=600)
    assert errs.shape == (600,) and np.all(np.isfinite(errs)) and np.all(errs >= 0.3**2 - 1e-12)
    assert np.unique(errs).size == 600


def test_flat_tail_default_draws_and_tail_equal_to_n():
    """draws defaults to 100; tail_dim = N is allowed (the Wishart_N(N) Gram matrix is invertible a.s.)."""
    out = th.flat_tail_min_norm_errors([1.0], [1.0], 5, 1.0, 0.1, 5, np.random.default_rng(0))
    assert out.shape == (100,) and np.all(np.isfinite(out))


# ------------------------------------------------------------------------------------------------
# effective_ridge
# ------------------------------------------------------------------------------------------------

def test_effective_ridge_isotropic_ridgeless_closed_form():
    """Isotropic λ, D > N, ρ = 0: D/(1 + κ/λ) = N gives κ = λ(D/N − 1) exactly (here κ = λ/2, D/N = 1.5, so
    the root lies below λ — the lower end of the bracket must reach below the smallest eigenvalue)."""
    assert th.effective_ridge(np.full(30, 2.0), 20, 0.0) == pytest.approx(1.0, rel=1e-10)


def test_effective_ridge_strong_ridge_limit():
    """ρ ≫ λ: κ = ρ + κλ/(λ + κ)/N → ρ + Σλ/N − O(λ²/ρ); here κ = 10⁷ + 1 − 10⁻⁷ to 1e-15 relative, a root
    within 1e-14 of the upper end of the bracket log(ρ + Σλ/N). Tolerance: brentq's in log κ,
    1e-14 + 1e-13·|log κ| ≈ 1.6e-12, so rel 5e-12."""
    kappa = th.effective_ridge([1.0], 1, 1e7)
    assert kappa == pytest.approx(1e7 + 1 - 1e-7, rel=5e-12)
    assert kappa < 1e7 + 1


@pytest.mark.parametrize("ridge", [0.5, 2.0])
def test_effective_ridge_with_a_subnormal_eigenvalue(ridge):
    """A spectrum over 300 decades (an eigenvalue 1e-315, subnormal): with ρ > 0 the answer is the root of
    κ = ρ + (κ/N)(1/(1 + κ) + ~0), i.e. κ² + κ(1 − ρ − 1/N) − ρ = 0 with N = 4 (the tiny eigenvalue adds
    1e-315/κ). Closed form, rel 1e-10."""
    n = 4
    b = 1 - ridge - 1 / n
    want = (-b + np.sqrt(b * b + 4 * ridge)) / 2
    assert th.effective_ridge([1.0, 1e-315], n, ridge) == pytest.approx(want, rel=1e-10)


# ------------------------------------------------------------------------------------------------
# ridge_risk, ridge_solution, min_norm_solution, gd_limit, population_test_error
# ------------------------------------------------------------------------------------------------

def test_ridge_risk_at_the_interpolation_threshold():
    """Ridgeless with D = N: κ = 0, γ = D/N = 1 and bias, variance and test error are all infinite."""
    r = th.ridge_risk(np.array([1.0, 0.5, 0.2]), np.array([1.0, 1.0, 1.0]), 0.3, 3, 0.0)
    assert r.test_error == np.inf and r.bias == np.inf and r.variance == np.inf
    assert r.kappa == 0.0 and r.gamma == pytest.approx(1.0, abs=1e-12)


def test_ridge_solution_with_ridge_one_is_ridge():
    """ρ = 1 is an ordinary ridge, (XᵀX + N I)⁻¹Xᵀy — not the min-norm solution."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal(6)
    want = np.linalg.solve(X.T @ X + 6 * np.eye(3), X.T @ y)
    np.testing.assert_allclose(th.ridge_solution(X, y, 1.0), want, rtol=1e-10)


def test_min_norm_solution_names_the_singular_matrix():
    """A singular system is refused with the matrix that is singular: XXᵀ for wide X, XᵀX for tall or square."""
    y2 = np.array([1.0, 2.0])
    with pytest.raises(ArgumentError, match="^X Xᵀ is singular"):
        th.min_norm_solution(np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0]]), y2)
    with pytest.raises(ArgumentError, match="^Xᵀ X is singular"):
        th.min_norm_solution(np.array([[1.0, 2.0], [2.0, 4.0]]), y2)
    with pytest.raises(ArgumentError, match="^Xᵀ X is singular"):
        th.min_norm_solution(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), np.ones(3))


def test_check_data_names_x_and_the_rank_of_y():
    with pytest.raises(ArgumentError, match="^X must"):
        th.min_norm_solution(np.array([[np.nan, 1.0]]), [1.0])
    with pytest.raises(ArgumentError, match="^y must have 1 dimension"):
        th.min_norm_solution(np.ones((3, 2)), np.ones((3, 1)))


def test_gd_limit_batched_over_data_sets():
    """Batched X (B, N, D) with θ0 (B, D): each data set's limit X⁺y + (I − X⁺X)θ0, computed one by one."""
    rng = np.random.default_rng(1)
    X, y, th0 = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    got = th.gd_limit(X, y, th0)
    for b in range(3):
        P = np.linalg.pinv(X[b])
        np.testing.assert_allclose(got[b], P @ y[b] + th0[b] - P @ X[b] @ th0[b], rtol=1e-10, atol=1e-12)
    with pytest.raises(ArgumentError, match="^theta0 must"):
        th.gd_limit(X[0], y[0], "abc")


def test_population_test_error_default_is_noiseless():
    """Without noise the error is (θ − w*)ᵀΣ(θ − w*) alone: 2·1² + 1·2² = 6."""
    assert th.population_test_error([1.0, 0.0], [0.0, 2.0], [2.0, 1.0]) == pytest.approx(6.0)


# ------------------------------------------------------------------------------------------------
# gradient descent
# ------------------------------------------------------------------------------------------------

def test_mode_factors_name_their_eigenvalues_and_accept_scalar_and_empty_steps():
    with pytest.raises(ArgumentError, match="^eigenvalues"):
        th.gd_mode_factor([-1.0], 0.1, [1])
    with pytest.raises(ArgumentError, match="^eigenvalues"):
        th.gradient_flow_mode_factor([-1.0], [1.0])
    np.testing.assert_allclose(th.gd_mode_factor([0.5, 0.1], 0.2, 3), [[0.9**3, 0.98**3]])
    assert th.gd_mode_factor([0.5, 0.1], 0.2, []).shape == (0, 2)
    assert th.gradient_flow_mode_factor([0.5], np.array([])).shape == (0, 1)


def test_fractional_steps_need_a_stable_sign_only():
    """(1 − ηλ)^t is real for fractional t whenever ηλ ≤ 1 (η/λ does not matter): ηλ = 0.05 and ηλ = 1
    are fine (0.95^2.5 and 0^2.5 = 0); ηλ = 6 > 1 (with η/λ < 1) is refused."""
    np.testing.assert_allclose(th.gd_mode_factor([0.1], 0.5, [2.5]), [[0.95**2.5]])
    np.testing.assert_allclose(th.gd_mode_factor([1.0], 1.0, [0.5]), [[0.0]])
    with pytest.raises(ArgumentError, match="whole numbers"):
        th.gd_mode_factor([3.0], 2.0, [0.5])


def test_gd_test_error_modes_with_one_sample():
    """N = 1 is allowed: E_i = λw²q^2t + σ²(1 − q^t)² with q = 1 − ηλ."""
    got = th.gd_test_error_modes([0.5], [2.0], 0.3, 1, 0.2, [3])
    q = 0.9**3
    assert got[0, 0] == pytest.approx(0.5 * 4 * q**2 + 0.09 * (1 - q) ** 2)


def test_gd_solution_default_start_and_unseen_modes():
    """θ0 defaults to 0. Modes with λ̂ = 0 (a zero column) or λ̂ below rcond·λ̂_max stay exactly where they
    started; with λ̂_max < 1 a step η > 1 is stable (ηλ̂ ≤ 1), so fractional steps are fine."""
    X = np.array([[0.6, 0.0], [0.8, 0.0]])          # λ̂ = (0.5, 0), a zero column
    y = np.array([1.0, 2.0])
    lr, steps = 1.5, [0, 2.5, 40]
    got = th.gd_solution(X, y, lr, steps)
    q = (1 - lr * 0.5) ** np.array(steps)
    target = (X[:, 0] @ y / 2) / 0.5
    np.testing.assert_allclose(got[:, 0], target * (1 - q), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(got[:, 1], 0.0)
    np.testing.assert_allclose(th.gd_solution(X, y, lr, steps, theta0=[0.0, 0.0]), got, rtol=1e-12)
    # rcond = 0: the zero mode still counts as unseen
    got0 = th.gd_solution(X, y, lr, steps, theta0=[0.0, 3.0], rcond=0.0)
    assert np.all(np.isfinite(got0)) and np.all(got0[:, 1] == 3.0)
    # a mode with λ̂ = 1e-8 below rcond·λ̂_max = 1e-10·1e4: not moved at all, for any number of steps
    a, b = np.sqrt(2e4), np.sqrt(2e-8)
    X2, y2 = np.array([[a, 0.0], [0.0, b]]), np.array([1.0, 1.0])
    got2 = th.gd_solution(X2, y2, 1e-4, [10_000], theta0=[0.0, 0.5])
    assert got2[0, 1] == pytest.approx(0.5, abs=1e-12)


def test_empirical_eigenbasis_eigenvalues_are_never_negative():
    """Σ̂ = XᵀX/N is positive semi-definite: with D > N the D − N zero eigenvalues come out of eigh as ±1e-17
    and are clipped to 0 (over 20 random wide matrices some would be negative otherwise)."""
    rng = np.random.default_rng(0)
    for _ in range(20):
        lam, _ = th.empirical_eigenbasis(rng.standard_normal((3, 25)))
        assert np.all(lam >= 0.0)


# ------------------------------------------------------------------------------------------------
# relu_features_as_linear_problem
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_relu_features_duplicated_rows_change_nothing(scale):
    """Duplicating a feature adds a null direction of Σ but no new function: the best predictor and thus
    σ_eff are unchanged, θ* is 0 on the null direction, and the spectrum is non-negative (the null
    eigenvalue is clipped). A weight scale of 1e3 (Σ ~ 1e6) separates a relative cut from an absolute one.
    Rounding of a 4×4 eigen-problem: rtol 1e-6 on σ_eff."""
    rng = np.random.default_rng(4)
    F = scale * rng.standard_normal((3, 5))
    beta = rng.standard_normal(5)
    lam, theta, s_eff = th.relu_features_as_linear_problem(F, beta, 0.2)
    lam2, theta2, s_eff2 = th.relu_features_as_linear_problem(np.vstack([F, F[:1]]), beta, 0.2)
    assert s_eff2 == pytest.approx(s_eff, rel=1e-6)
    assert np.all(lam2 >= 0.0) and lam2[-1] <= 1e-9 * lam2[0]
    assert theta2.dtype == np.float64 and theta2[-1] == 0.0
    want = np.sort(np.linalg.eigvalsh(_relu_cov(np.vstack([F, F[:1]]))))[::-1]
    np.testing.assert_allclose(lam2[:3], want[:3], rtol=1e-8)


def test_relu_features_spectrum_is_never_negative():
    """Σ is a covariance (positive semi-definite): with 3 of 9 features duplicated, eigh returns the 3 null
    eigenvalues as ±1e-17, which must come back clipped to 0 (over 10 draws some are negative otherwise)."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        F = rng.standard_normal((6, 5))
        lam, theta, _ = th.relu_features_as_linear_problem(np.vstack([F, F[:3]]), rng.standard_normal(5), 0.1)
        assert np.all(lam >= 0.0) and np.all(theta[-3:] == 0.0)


def _relu_cov(F):
    """The arc-cosine kernel by hand: (s_a s_b/2π)(sin ϑ + (π − ϑ) cos ϑ), s_a = |f_a|/√d."""
    d = F.shape[1]
    s = np.linalg.norm(F, axis=1) / np.sqrt(d)
    c = np.clip((F @ F.T) / np.outer(np.linalg.norm(F, axis=1), np.linalg.norm(F, axis=1)), -1, 1)
    t = np.arccos(c)
    return np.outer(s, s) / (2 * np.pi) * (np.sin(t) + (np.pi - t) * np.cos(t))
