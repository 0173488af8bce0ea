"""The order/chaos explorer of part 3: controls wired to the mean-field theory, corners draw, redraws are fast."""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.explorers import order_chaos  # noqa: E402
from course_utils.theory import kernels  # noqa: E402
from course_utils.theory import signal_propagation as sp  # noqa: E402
from explorer_testing import live_controls, redraw_cpu_seconds  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def ex():
    return order_chaos.explorer()


def _line(fig, gid):
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_gid() == gid:
                return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    raise AssertionError(f"no line {gid!r} in the figure")


CORNERS = [dict(), dict(sigma_w2=0.5, sigma_b2=0.001), dict(sigma_w2=4.0, sigma_b2=0.001),
           dict(sigma_w2=0.5, sigma_b2=0.3),
           dict(sigma_w2=4.0, sigma_b2=0.3), dict(sigma_w2=3.0, activation="erf"),
           dict(sigma_w2=0.5, sigma_b2=0.001, activation="erf"), dict(sigma_w2=4.0, sigma_b2=0.3, activation="erf")]


@pytest.mark.parametrize("values", CORNERS)
def test_the_drawn_curves_are_the_theory_at_these_values(ex, values):
    v = ex.values(**values)
    fig = ex.figure(**values)
    theory = dict(activation=v["activation"], sigma_w2=v["sigma_w2"], sigma_b2=v["sigma_b2"])
    q = float(kernels.variance_fixed_point(**theory))
    chi = float(kernels.chi1(**theory))
    c_star = kernels.correlation_fixed_point(**theory)

    x, y = _line(fig, "point")
    assert (x[0], y[0]) == (v["sigma_w2"], v["sigma_b2"])
    c, M = _line(fig, "map")
    np.testing.assert_allclose(M, kernels.correlation_map(c, **theory), rtol=1e-10)
    assert _line(fig, "c_star")[1][0] == pytest.approx(c_star, abs=1e-12)
    layers, c_layers = _line(fig, "layers_0")
    assert c_layers[0] == 0.6 and np.all(np.isfinite(c_layers))
    expected = 0.6
    for ell in range(1, 6):                                  # c^ℓ = M(c^(ℓ−1)), iterated at q*
        expected = float(kernels.correlation_map(expected, q=q, **theory))
        assert c_layers[ell] == pytest.approx(expected, abs=1e-12)
    gradient = _line(fig, "gradient")[1]
    np.testing.assert_allclose(gradient, chi ** (30 - layers), rtol=1e-10)
    # the phase reported in the title follows χ₁
    title = fig.axes[0].get_title()
    assert f"{chi:.3f}" in title
    assert ("ordered" in title) == (chi < 1 - 1e-3) and ("chaotic" in title) == (chi > 1 + 1e-3)


def test_the_layer_correlations_reach_the_fixed_point_and_the_depth_scale_is_chi_c(ex):
    for values in (dict(sigma_w2=3.0), dict(sigma_w2=1.0), dict(sigma_w2=4.0, sigma_b2=0.3, activation="erf")):
        v = ex.values(**values)
        theory = dict(activation=v["activation"], sigma_w2=v["sigma_w2"], sigma_b2=v["sigma_b2"])
        fig = ex.figure(**values)
        c_star = kernels.correlation_fixed_point(**theory)
        c_end = _line(fig, "layers_0")[1][-1]
        assert abs(c_end - c_star) < 0.05                    # 30 layers is several ξ_c away from the critical line
        layers, reference = _line(fig, "xi_c")
        slope = np.exp(np.diff(np.log(reference)))
        np.testing.assert_allclose(slope, sp.chi_c(**theory), rtol=1e-10)


def test_every_control_changes_what_is_drawn(ex):
    base = _line(ex.figure(), "map")[1]
    for name, value in (("sigma_w2", 3.0), ("sigma_b2", 0.2), ("activation", "erf")):
        assert not np.allclose(_line(ex.figure(**{name: value}), "map")[1], base), name


def test_the_phase_map_line_is_the_edge_of_chaos():
    sw2, sb2, chi = order_chaos.phase_map("tanh")
    assert chi.shape == (sb2.size, sw2.size) and np.all(np.isfinite(chi))
    i = int(np.argmin(np.abs(sb2 - 0.05)))
    crossing = np.flatnonzero(np.diff(np.sign(chi[i] - 1)))  # χ₁ crosses 1 once along σ_w² at fixed σ_b²
    assert crossing.size == 1
    assert sw2[crossing[0]] <= 1.761 <= sw2[crossing[0] + 1] + 0.1     # the chapter's edge at σ_b² = 0.05


@pytest.mark.parametrize("values, match", [({"sigma_w2": 0.1}, "sigma_w2"), ({"sigma_w2": 5.0}, "sigma_w2"),
                                           ({"sigma_b2": 0.0}, "sigma_b2"), ({"sigma_b2": float("inf")}, "sigma_b2"),
                                           ({"activation": "relu"}, "activation"), ({"depth": 3}, "unknown")])
def test_bad_values_are_named(ex, values, match):
    with pytest.raises(ValueError, match=match):
        ex.figure(**values)


def test_a_phase_map_handed_over_is_the_one_drawn():
    sw2, sb2, chi = order_chaos.phase_map("erf")              # any positive grid will do: here erf's, as tanh's
    ex = order_chaos.explorer(phase_maps={"tanh": (sw2, sb2, chi)})
    mesh = ex.figure().axes[0].collections[0]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).ravel(), np.log(chi).ravel())
    with pytest.raises(ValueError, match="phase_maps"):
        order_chaos.explorer(phase_maps={"tanh": (sw2, sb2, chi[:, :-1])})
    with pytest.raises(ValueError, match="phase_maps"):
        order_chaos.explorer(phase_maps={"relu": (sw2, sb2, chi)})


def test_bad_definitions_are_refused():
    with pytest.raises(ValueError, match="depth"):
        order_chaos.explorer(depth=1)
    with pytest.raises(ValueError, match="starts"):
        order_chaos.explorer(starts=(1.0,))
    with pytest.raises(ValueError, match="activation"):
        order_chaos.phase_map("relu")


def test_each_redraw_takes_under_a_second_of_cpu(ex):
    for values in CORNERS:
        ex.figure(**values)                                   # the phase map of each activation, once
        plt.close("all")
        assert redraw_cpu_seconds(ex, values) < 1.0, values


def test_static_show_and_live_widgets(ex, monkeypatch, capsys):
    ex.show(live=False)
    assert "activation among tanh, erf" in " ".join(capsys.readouterr().out.split())
    controls, shown = live_controls(ex, monkeypatch)
    assert [type(s).__name__ for s in controls] == ["FloatSlider", "FloatSlider", "Dropdown"]
    controls[2].value = "erf"                                 # the observer redraws at the new value
    assert len([o for o in shown if isinstance(o, matplotlib.figure.Figure)]) >= 2


def test_variants_hold_one_image_per_weight_variance(ex):
    html = ex.variants("sigma_w2", [1.0, 1.76, 3.0]).data
    assert html.count("<img") == 3 and "weight variance σ_w² = 1.76" in html
