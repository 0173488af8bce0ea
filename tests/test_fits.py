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
