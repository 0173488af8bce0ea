"""The lazy/rich explorer of part 4: every knob is wired to the closed form, at the defaults and the corners."""

import itertools
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.explorers import lazy_rich  # noqa: E402
from course_utils.theory import lazy_rich as theory  # noqa: E402
from explorer_testing import live_controls, redraw_cpu_seconds  # noqa: E402

P = 64


@pytest.fixture(scope="module")
def ex():
    rho = np.geomspace(1e-3, 1e3, 5)
    return lazy_rich.explorer({"GD": (rho, theory.relative_change_at_convergence(rho))}, p=P)


def _star(fig):
    """(ρ, Δ) of the marked point of panel (a)."""
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "these knobs"]
    return line.get_xdata()[0], line.get_ydata()[0]


def _rho(alpha, S, gamma, output_scale):
    return P * gamma * alpha ** 2 * output_scale / S


CORNERS = [dict(zip(("alpha", "S", "gamma", "output_scale"), v))
           for v in itertools.product(*lazy_rich.KNOB_RANGES.values())]


@pytest.mark.parametrize("values", [{}] + CORNERS[::3] + [CORNERS[-1]])
def test_figure_at_defaults_and_corners_follows_the_closed_form(ex, values):
    full = ex.values(**values)
    fig = ex.figure(**values)
    rho, delta = _star(fig)
    assert rho == pytest.approx(_rho(**full), rel=1e-12)
    assert delta == pytest.approx(float(theory.relative_change_at_convergence(rho)), rel=1e-12)
    model = theory.ScalarModel(2 * P * full["alpha"] ** 2, 0.0, full["S"], full["gamma"], 1 / full["output_scale"])
    out = fig.axes[1].get_lines()[0]
    t = out.get_xdata() / model.rate
    assert np.all(np.isfinite(out.get_ydata()))
    np.testing.assert_allclose(out.get_ydata(), full["gamma"] * model.output(t) / full["S"], rtol=1e-12, atol=1e-15)
    assert out.get_ydata()[-1] == pytest.approx(1.0, abs=1e-3)          # converged by the end of the window
    change = fig.axes[2].get_lines()[0]
    np.testing.assert_allclose(change.get_ydata(), model.relative_change(change.get_xdata() / model.rate), rtol=1e-12)
    assert np.all(np.isfinite(change.get_ydata()))
    plt.close(fig)


def test_the_knobs_act_through_rho_alone(ex):
    """Four settings with the same ρ = pγα²/(ZS) = 8 draw the same Δ and the same output in units of 1/λ."""
    settings = [{}, dict(alpha=2.0, S=4.0), dict(gamma=4.0, output_scale=1 / 32), dict(alpha=0.5, gamma=4.0)]
    curves = []
    for s in settings:
        fig = ex.figure(**s)
        assert _star(fig)[0] == pytest.approx(8.0)
        curves.append(fig.axes[1].get_lines()[0].get_ydata())
        plt.close(fig)
    for c in curves[1:]:
        np.testing.assert_allclose(c, curves[0], rtol=1e-9, atol=1e-12)


def test_each_knob_moves_rho_the_right_way(ex):
    base = _star(ex.figure())[0]
    plt.close("all")
    for name, factor, power in (("alpha", 2.0, 2), ("S", 2.0, -1), ("gamma", 2.0, 1), ("output_scale", 0.5, 1)):
        value = ex.defaults[name] * factor
        rho = _star(ex.figure(**{name: value}))[0]
        plt.close("all")
        assert rho == pytest.approx(base * factor ** power, rel=1e-12), name


def test_the_limits_hold_at_the_extreme_corners(ex):
    """Lazy corner: Δ ≈ 1/2ρ (the float evaluation keeps its digits up to ρ = 6.4e5); rich corner: Δ ≈ ρ^(-1/2)."""
    lazy = dict(alpha=10.0, S=0.1, gamma=10.0, output_scale=1.0)
    rich = dict(alpha=0.1, S=10.0, gamma=0.1, output_scale=1e-3)
    rho, delta = _star(ex.figure(**lazy))
    assert delta == pytest.approx(1 / (2 * rho), rel=1e-3)
    rho, delta = _star(ex.figure(**rich))
    assert delta == pytest.approx(rho ** -0.5, rel=5e-3)        # next order: relative −√(ρ/2) = −1.8e-3 here
    plt.close("all")


def test_measured_runs_are_drawn_as_markers(ex):
    fig = ex.figure()
    (gd,) = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "GD"]
    assert gd.get_linestyle() == "None"
    np.testing.assert_allclose(gd.get_xdata(), np.geomspace(1e-3, 1e3, 5))
    plt.close(fig)


@pytest.mark.parametrize("values, match", [({"alpha": 0.0}, "alpha"), ({"S": 100.0}, "S = 100"),
                                           ({"gamma": float("nan")}, "gamma"), ({"output_scale": 2.0}, "output_scale"),
                                           ({"Z": 8.0}, "unknown")])
def test_bad_values_are_named(ex, values, match):
    with pytest.raises(ValueError, match=match):
        ex.figure(**values)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="p"):
        lazy_rich.explorer(p=1)
    with pytest.raises(ValueError, match="same shape"):
        lazy_rich.explorer({"GD": (np.ones(3), np.ones(4))})


def test_each_redraw_takes_under_a_second_of_cpu(ex):
    for values in ({}, CORNERS[0], CORNERS[-1]):
        assert redraw_cpu_seconds(ex, values) < 1.0, values


def test_live_show_builds_the_sliders(monkeypatch, ex):
    sliders, shown = live_controls(ex, monkeypatch)
    assert [s.description for s in sliders] == ["init scale α", "target scale S", "input scale γ", "output scale 1/Z"]
    assert sliders[3].value == pytest.approx(1 / math.sqrt(P))
    sliders[0].value = 0.2                                # redraws at a rich setting
    assert sum(isinstance(o, matplotlib.figure.Figure) for o in shown) >= 2
    plt.close("all")


def test_static_show_says_what_the_sliders_do(capsys, ex):
    ex.show(live=False)
    assert "init scale α from 0.1 to 10, log scale" in " ".join(capsys.readouterr().out.split())
    plt.close("all")
