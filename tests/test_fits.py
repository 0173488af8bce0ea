import numpy as np
import pytest

import course_utils as cu


def test_fit_power_law_recovers_exponent_and_prefactor():
    x = np.geomspace(1, 1000, 20)
    fit = cu.fit_power_law(x, 3.0 * x ** -0.75)
    assert fit.alpha == pytest.approx(0.75, abs=1e-10)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-10)
    assert fit.alpha_stderr < 1e-8
    assert fit(10.0) == pytest.approx(3.0 * 10 ** -0.75)


def test_fit_power_law_stderr_reflects_noise():
    rng = np.random.default_rng(0)
    x = np.geomspace(1, 1000, 30)
    y = x ** -0.5 * np.exp(0.1 * rng.standard_normal(x.size))
    fit = cu.fit_power_law(x, y)
    assert abs(fit.alpha - 0.5) < 4 * fit.alpha_stderr
    assert 0.001 < fit.alpha_stderr < 0.05


@pytest.mark.parametrize("x,y,msg", [([1, 2], [1, 2], "at least 3"), ([1, 2, 3], [1, -2, 3], "positive"),
                                     ([1, 2, 3], [1, 2], "same length")])
def test_fit_power_law_rejects_bad_input(x, y, msg):
    with pytest.raises(ValueError, match=msg):
        cu.fit_power_law(x, y)


@pytest.mark.parametrize("x,y,msg", [
    ([1, 2, 3], [1, np.nan, 3], "y must contain only finite"),
    ([1, 2, np.inf], [1, 2, 3], "x must contain only finite"),
    ([1, 0, 3], [1, 2, 3], "x has 1 entries ≤ 0"),
    ([1, 2, 3], [0, 0, 3], "y has 2 entries ≤ 0"),
    ([2, 2, 2], [1, 2, 3], "two different x"),
    ("abc", [1, 2, 3], "x must be an array"),
    ([1, 2, 3], None, "y must be an array"),
    ([], [], "at least 3 points"),
])
def test_fit_power_law_names_what_is_wrong(x, y, msg):
    with pytest.raises(cu.validate.ArgumentError, match=msg):
        cu.fit_power_law(x, y)


def _ols_stderr(x, y, dof):
    """The slope's standard error of ordinary least squares on log–log axes, written out."""
    lx, ly = np.log(x), np.log(y)
    slope = np.sum((lx - lx.mean()) * (ly - ly.mean())) / np.sum((lx - lx.mean()) ** 2)
    resid = ly - ly.mean() - slope * (lx - lx.mean())
    return np.sqrt(resid @ resid / dof / np.sum((lx - lx.mean()) ** 2)), -slope


@pytest.mark.parametrize("n", [3, 4, 6])
def test_fit_power_law_stderr_uses_n_minus_2_degrees_of_freedom(n):
    """With n − 1 or n degrees of freedom the error would be smaller by √((n−2)/(n−1)) or √((n−2)/n):
    at n = 3 a factor 0.71 or 0.58, far outside the tolerance."""
    rng = np.random.default_rng(n)
    x = np.geomspace(1, 50, n)
    y = 2.0 * x ** -0.6 * np.exp(0.2 * rng.standard_normal(n))
    fit = cu.fit_power_law(x, y)
    se, alpha = _ols_stderr(x, y, n - 2)
    assert fit.alpha == pytest.approx(alpha, rel=1e-10)
    assert fit.alpha_stderr == pytest.approx(se, rel=1e-10)
    assert fit.alpha_stderr != pytest.approx(_ols_stderr(x, y, n - 1)[0], rel=1e-3)


def test_fit_power_law_accepts_tensors_and_evaluates_only_positive_x():
    import torch
    x = np.geomspace(1, 10, 5)
    fit = cu.fit_power_law(torch.from_numpy(x), torch.from_numpy(3 * x ** -1.0))
    assert fit.alpha == pytest.approx(1.0)
    np.testing.assert_allclose(fit([1.0, 2.0]), [3.0, 1.5])
    with pytest.raises(cu.validate.ArgumentError, match="x must be positive"):
        fit([0.0, 1.0])
    with pytest.raises(cu.validate.ArgumentError, match="x must contain only finite"):
        fit(np.nan)


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    given = None

if given is not None:
    @settings(max_examples=30, deadline=None)
    @given(alpha=st.floats(-3, 3), A=st.floats(1e-3, 1e3), n=st.integers(3, 12))
    def test_fit_power_law_is_exact_on_an_exact_power_law(alpha, A, n):
        x = np.geomspace(0.5, 200, n)
        fit = cu.fit_power_law(x, A * x ** (-alpha))
        assert fit.alpha == pytest.approx(alpha, abs=1e-8)
        assert fit.prefactor == pytest.approx(A, rel=1e-8)
        assert fit.alpha_stderr < 1e-6


def test_a_fitted_law_evaluates_on_any_grid_even_an_empty_one():
    """fit(x) keeps the shape of x: a number, a 2-D grid, or an empty selection (no error)."""
    fit = cu.fit_power_law([1.0, 2.0, 4.0], [8.0, 4.0, 2.0])      # y = 8 / x
    assert fit(2.0) == pytest.approx(4.0)
    np.testing.assert_allclose(fit([[1.0, 2.0], [4.0, 8.0]]), [[8.0, 4.0], [2.0, 1.0]])
    empty = fit(np.array([]))
    assert isinstance(empty, np.ndarray) and empty.shape == (0,)
    x = np.geomspace(1, 10, 5)
    assert fit(x[x > 100]).shape == (0,)                          # a mask that selects nothing
