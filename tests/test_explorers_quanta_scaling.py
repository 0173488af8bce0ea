"""The scaling-law explorer of part 6: each panel draws the quanta model's finite sum and its power law."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.explorers import quanta_scaling  # noqa: E402
from course_utils.theory import quanta  # noqa: E402
from explorer_testing import live_controls, redraw_cpu_seconds  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return quanta_scaling.explorer()


def _lines(fig, panel):
    ax = fig.axes[panel]
    finite = next(ln for ln in ax.get_lines() if ln.get_label().startswith("finite sum"))
    law = next(ln for ln in ax.get_lines() if ln.get_label().startswith("$n_s = \\infty$"))
    return finite, law


def _same(drawn, expected):
    """The drawn values equal the theory's, where they are drawn (losses below the floor are left out)."""
    expected = np.asarray(expected, dtype=float)
    shown = expected > quanta_scaling.LOSS_FLOOR
    np.testing.assert_array_equal(np.isfinite(drawn), shown)
    np.testing.assert_allclose(drawn[shown], expected[shown], rtol=1e-9)


CORNERS = [dict(alpha=a, n_skills=n) for a in (0.2, 3.0) for n in (10, 100_000)]


@pytest.mark.parametrize("values", [{}] + CORNERS + [dict(alpha=0.6, n_skills=100)])
def test_every_panel_draws_the_theory_at_these_values(ex, values):
    full = ex.values(**values)
    alpha, n_s = full["alpha"], full["n_skills"]
    p = quanta.skill_probabilities(n_s, alpha)
    exps = quanta.exponents(alpha)
    fig = ex.figure(**values)

    finite, law = _lines(fig, 0)                                          # time, T steps at η = 1
    T = finite.get_xdata()
    _same(finite.get_ydata(), quanta.loss_time(T, p, 1.0, quanta_scaling.S0))
    _same(law.get_ydata(), quanta.time_law_prefactor(alpha, math.inf, 1.0, quanta_scaling.S0) * (2 * T) ** -exps["time"])

    finite, law = _lines(fig, 1)                                          # data
    D = finite.get_xdata()
    _same(finite.get_ydata(), quanta.expected_loss_data(D, p))
    _same(law.get_ydata(), quanta.data_law_prefactor(alpha, math.inf) * D ** -exps["data"])

    finite, law = _lines(fig, 2)                                          # parameters
    N = finite.get_xdata()
    assert N.max() <= n_s
    _same(finite.get_ydata(), quanta.loss_parameters(N.astype(int), p))
    _same(law.get_ydata(), quanta.parameter_law_asymptote(N, alpha, math.inf))

    finite, law = _lines(fig, 3)                                          # compute: the library's frontier
    C = finite.get_xdata()
    _same(finite.get_ydata(), quanta.compute_frontier(C, p, lr=1.0, S=1.0, s0=quanta_scaling.S0, n_grid=40)[0])
    slope = np.diff(np.log(law.get_ydata())) / np.diff(np.log(C))
    np.testing.assert_allclose(slope, -exps["compute"], rtol=1e-9)
    for ax, key in zip(fig.axes[:4], ("time", "data", "parameters", "compute")):
        assert f"{exps[key]:.2f}" in "".join(t.get_text() for t in ax.get_legend().get_texts())
    plt.close(fig)


def test_the_fast_frontier_is_the_librarys():
    for alpha, n_s in ((0.2, 3000), (1.0, 10_000), (3.0, 50)):
        p = quanta.skill_probabilities(n_s, alpha)
        C = np.geomspace(10, 1e11, 17)
        L, N = quanta_scaling.compute_frontier(C, p)
        L_lib, N_lib = quanta.compute_frontier(C, p, lr=1.0, S=1.0, s0=quanta_scaling.S0, n_grid=40)
        np.testing.assert_allclose(L, L_lib, rtol=1e-9, atol=1e-300)
        np.testing.assert_array_equal(N, N_lib)


def test_the_bend_marks_where_the_skills_run_out(ex):
    curves = quanta_scaling.laws(1.0, 100)
    p = quanta.skill_probabilities(100, 1.0)
    assert curves["data"]["bend"] == pytest.approx(1 / p[-1])
    assert curves["time"]["bend"] == pytest.approx(quanta.half_time(p[-1], 1.0, quanta_scaling.S0))
    assert curves["compute"]["bend"] == pytest.approx(100 * curves["time"]["bend"])
    fig = ex.figure(n_skills=100)
    bends = [ln.get_xdata()[0] for ln in fig.axes[1].get_lines() if ln.get_label() == "$k_* = n_s$"]
    assert bends == [pytest.approx(1 / p[-1])]
    plt.close(fig)


def test_alpha_and_the_world_size_change_the_curves(ex):
    """A slider that does nothing fails here: α changes every exponent, n_s the finite sums."""
    base, other_alpha, other_world = ex.figure(), ex.figure(alpha=2.0), ex.figure(n_skills=100)
    for panel in range(4):
        y0 = np.nan_to_num(_lines(base, panel)[0].get_ydata())
        assert not np.allclose(y0, np.nan_to_num(_lines(other_alpha, panel)[0].get_ydata()))
        if panel != 2:      # the parameter law differs too, but on a different set of N
            assert not np.allclose(y0, np.nan_to_num(_lines(other_world, panel)[0].get_ydata()))
    plt.close("all")


@pytest.mark.parametrize("values, match", [({"alpha": 0.1}, "alpha = 0.1"), ({"alpha": float("inf")}, "alpha"),
                                           ({"n_skills": 500}, "n_skills must be one of"),
                                           ({"s0": 0.1}, "unknown")])
def test_bad_values_are_named(ex, values, match):
    with pytest.raises(ValueError, match=match):
        ex.figure(**values)


def test_each_redraw_takes_under_a_second_of_cpu(ex):
    for values in [{}] + CORNERS:
        assert redraw_cpu_seconds(ex, values) < 1.0, values


def test_live_show_builds_the_controls(monkeypatch, ex):
    controls, shown = live_controls(ex, monkeypatch)
    assert [type(c).__name__ for c in controls] == ["FloatSlider", "Dropdown"]
    assert controls[1].value == 10_000
    controls[1].value = 100                               # redraws in a small world
    assert sum(isinstance(o, matplotlib.figure.Figure) for o in shown) >= 2
    plt.close("all")


def test_variants_for_the_static_page(ex):
    html = ex.variants("alpha", [0.5, 1.0, 2.0]).data
    assert html.count("<img") == 3 and "Zipf exponent α = 2" in html
    plt.close("all")
