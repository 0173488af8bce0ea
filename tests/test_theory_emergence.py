"""Unit tests of course_utils.theory.emergence: each law against an independent computation."""

import numpy as np
import pytest

from course_utils.theory import emergence as em
from course_utils.theory import quanta


def test_crossing_time_interpolates_and_marks_curves_that_never_arrive():
    t = np.array([0.0, 10.0, 20.0, 30.0])
    v = np.array([[0.0, 0.6, 0.0], [0.2, 0.7, 0.1], [0.6, 0.8, 0.2], [1.0, 0.9, 0.3]])
    out = em.crossing_time(t, v, 0.5)
    assert out[0] == pytest.approx(10 + 10 * (0.5 - 0.2) / 0.4)       # between the records at 10 and 20
    assert out[1] == 0.0                                                # already there at the first record
    assert np.isnan(out[2])                                             # never
    with pytest.raises(ValueError):
        em.crossing_time(t, v[:3], 0.5)


def test_predicted_times_are_the_multilinear_half_times():
    """Calibrated on skill 1's half-time, t_1 p_1/p_k is ln(S/s0 − 1)/(2 S p_k) for every skill."""
    p = quanta.skill_probabilities(20, 1.0)
    half = quanta.half_time(p, s0=1e-4)
    np.testing.assert_allclose(em.predicted_times(half[0], p), half, rtol=1e-12)
    np.testing.assert_allclose(em.predicted_times(np.array([half[0], 2 * half[0]]), p)[1], 2 * half, rtol=1e-12)
    with pytest.raises(ValueError):
        em.predicted_times(1.0, np.array([0.5, 0.0]))


def test_shifted_total_from_skill_one_equals_the_sum_over_skills_in_the_multilinear_model():
    """Gradient descent on all skills: the total loss equals skill 1's curve moved along p_k t (Eq. eq-emergence-total)."""
    p = quanta.skill_probabilities(30, 1.0)
    steps, lr = 40_000, 0.05
    s = quanta.gradient_descent(p, steps, lr, a0=0.01)                   # every step, (steps + 1, n_s)
    t = lr * np.arange(steps + 1)
    total = quanta.loss_from_strengths(s, p)
    moved = em.shifted_total(t, t, (1 - s[:, 0]) ** 2, p)
    late = t >= 20                                                       # GD ≈ flow: 2 η S p_1 = 0.06 per step
    np.testing.assert_allclose(moved[late], total[late], rtol=0.02)
    exact = quanta.loss_time(t[late], p, s0=1e-4)                        # the closed form, for good measure
    np.testing.assert_allclose(em.shifted_total(t[late], t, (1 - quanta.skill_strength(t, p[0], s0=1e-4)) ** 2, p),
                               exact, rtol=1e-3)
    with pytest.raises(ValueError):                                      # past the end of skill 1's curve
        em.shifted_total(t[-1] * 10, t, (1 - s[:, 0]) ** 2, p[::-1].copy())


def test_data_law_is_the_projection_fraction_of_the_Dc_shot_model():
    """A skill of D_c unknown coefficients, n_k samples in general position, minimum-norm fit: on average the
    fraction min(n_k/D_c, 1) of the target is learned (brute force over random draws)."""
    rng = np.random.default_rng(0)
    D_c = 30
    for n in (3, 12, 30, 60):
        fractions = []
        for _ in range(300):
            w = rng.standard_normal(D_c)
            w /= np.linalg.norm(w)
            X = rng.standard_normal((n, D_c))
            w_hat = np.linalg.lstsq(X, X @ w, rcond=None)[0]              # minimum-norm interpolant
            fractions.append(w_hat @ w)                                  # R_k/S: overlap with the target
        law = em.data_law(np.array([float(n)]), np.array([1.0]), float(D_c))[0, 0]
        assert np.mean(fractions) == pytest.approx(law, abs=0.03)


def test_gradient_descent_from_zero_finds_the_minimum_norm_fit():
    """The step the data law relies on: GD from zero on n < D_c equations converges to the projection."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((8, 20))
    y = X @ rng.standard_normal(20)
    w = np.zeros(20)
    for _ in range(20000):
        w -= 0.01 * X.T @ (X @ w - y) / 8
    np.testing.assert_allclose(w, np.linalg.pinv(X) @ y, atol=1e-6)


def test_data_law_shape_cap_and_calibration():
    p = quanta.skill_probabilities(6, 1.0)
    D = np.array([100.0, 1000.0, 1e5])
    R = em.data_law(D, p, 500.0)
    assert R.shape == (3, 6) and R.max() == 1.0
    np.testing.assert_allclose(R[0], np.minimum(100 * p / 500, 1))
    d = np.geomspace(10, 5000, 12)
    assert em.fit_data_threshold(d, np.minimum(d / 640.0, 1)) == pytest.approx(640.0, rel=1e-4)
    with pytest.raises(ValueError):
        em.data_law(D, p, 0.0)


def test_unit_law_fills_skills_in_order_of_frequency():
    """Brute force: hand N units one at a time to the most frequent skill that is not yet complete."""
    n_s, N_c = 5, 3.0
    for N in range(0, 20):
        held = np.zeros(n_s)
        for _ in range(N):
            k = np.argmax(held < N_c) if (held < N_c).any() else None
            if k is not None:
                held[k] += 1
        np.testing.assert_allclose(em.unit_law(float(N), n_s, N_c), held / N_c)
        assert em.skills_held(float(N), n_s, N_c) == pytest.approx(min(N / N_c, n_s))
    N = np.array([2.0, 4, 6, 8, 12, 16, 24])
    for k in (1, 2, 3):
        R = em.unit_law(N, 6, 5.0)[:, k - 1]
        if 0 < R.mean() < 1:
            assert em.fit_units_per_skill(N, R, k) == pytest.approx(5.0, rel=1e-3)


def test_logit_line_recovers_a_logistic_and_extrapolates():
    t = np.linspace(100, 160, 9)
    a = quanta.logistic(t, 180.0, 0.05)
    t_h, r, s = em.fit_logit_line(t, a)
    assert t_h == pytest.approx(180.0) and r == pytest.approx(0.05) and s < 1e-8
    assert em.logit_line_time(t_h, r, 0.9) == pytest.approx(180 + np.log(9) / 0.05)
    assert em.fit_logit_line(t, a[::-1])[1] == pytest.approx(-0.05)     # a falling window: negative rate
    with pytest.raises(ValueError):
        em.logit_line_time(t_h, -0.05, 0.9)
    assert em.exact_match(np.array([0.5, 1.0]), 3) == pytest.approx([0.125, 1.0])
