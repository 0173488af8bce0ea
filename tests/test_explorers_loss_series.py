"""The loss-series explorer of part 2: every control is wired to the closed forms, corners draw, redraws are fast."""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_utils.data import classification as data  # noqa: E402
from course_utils.explorers import loss_series  # noqa: E402
from course_utils.models.silu_net import action, init_params  # noqa: E402
from course_utils.theory import action as theory  # noqa: E402
from explorer_testing import live_controls, redraw_cpu_seconds  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _problem(seed, E=4, H=8, M=3):
    z, y = data.gaussian_classes(240, E, M, separation=2.0, seed=seed)
    z = z.double()
    theta = {k: v.double() for k, v in init_params(E, H, M, generator=torch.Generator().manual_seed(seed)).items()}
    return theta, z, y, M


@pytest.fixture(scope="module")
def problems():
    return {"first": _problem(0), "second": _problem(1, E=6, H=5, M=4)}


@pytest.fixture(scope="module")
def ex(problems):
    rays = {name: loss_series.along_ray(*p, points=40) for name, p in problems.items()}
    return loss_series.explorer(rays)


def _line(fig, gid):
    for ax in fig.axes:
        for line in ax.get_lines():
            if line.get_gid() == gid:
                return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    raise AssertionError(f"no line {gid!r} in the figure")


def test_a_ray_holds_the_closed_forms_and_the_networks_action(problems):
    theta, z, y, M = problems["first"]
    ray = loss_series.along_ray(theta, z, y, M, points=12)
    np.testing.assert_allclose(ray.terms, theory.closed_form_taylor_terms(theta, z, y, M), rtol=1e-12)
    assert ray.t[0] == pytest.approx(loss_series.T_RANGE[0]) and ray.t[-1] == pytest.approx(loss_series.T_RANGE[1])
    for i in (0, 5, 11):
        expected = float(action({k: ray.t[i] * v for k, v in theta.items()}, z, y))
        assert ray.action[i] == pytest.approx(expected, rel=1e-13)
    # the six terms describe the network near θ = 0: the error of the series up to S5 falls like t^6
    assert abs(ray.action[0] - loss_series.partial_sum(ray.terms, 5, ray.t[0])) < 1e-12


CORNERS = [dict(), dict(order=1, t_max=0.03), dict(order=4, t_max=3.0), dict(order=1, t_max=3.0, direction="second"),
           dict(order=4, t_max=0.03, direction="second")]


@pytest.mark.parametrize("values", CORNERS)
def test_the_drawn_curves_are_the_theory_at_these_values(ex, problems, values):
    v = ex.values(**values)
    K, t_max = v["order"], v["t_max"]
    theta, z, y, M = problems[v["direction"]]
    terms = theory.closed_form_taylor_terms(theta, z, y, M)
    fig = ex.figure(**values)
    t, drawn = _line(fig, "partial_sum")
    assert t[0] == 0 and t[-1] == pytest.approx(t_max)
    np.testing.assert_allclose(drawn, sum(terms[k] * t**k for k in range(K + 1)) - terms[0], rtol=1e-12, atol=1e-300)
    t, err = _line(fig, "error")
    assert t.max() <= t_max * (1 + 1e-9) and t.size >= 2
    S = np.array([float(action({k: s * p for k, p in theta.items()}, z, y)) for s in t])
    np.testing.assert_allclose(err, np.abs(S - sum(terms[k] * t**k for k in range(K + 1))), rtol=1e-9, atol=1e-15)
    omitted = _line(fig, "omitted")[1]
    np.testing.assert_allclose(omitted, np.abs(sum(terms[k] * t**k for k in range(K + 1, 6))), rtol=1e-12)
    np.testing.assert_allclose(_line(fig, "leading")[1], np.abs(terms[K + 1]) * t ** (K + 1), rtol=1e-12)
    t_markers, markers = _line(fig, "action")
    np.testing.assert_allclose(markers + terms[0],
                               [float(action({k: s * p for k, p in theta.items()}, z, y)) for s in t_markers],
                               rtol=1e-12)


def test_where_t_is_small_the_omitted_terms_are_the_whole_error(ex):
    for K in (1, 2, 3):
        fig = ex.figure(order=K, t_max=0.1)
        t, err = _line(fig, "error")
        omitted = _line(fig, "omitted")[1]
        small = (t <= 0.05) & (omitted > 1e-11)               # above float64 rounding of S ≈ ln M
        assert small.sum() >= 3
        np.testing.assert_allclose(err[small], omitted[small], rtol=0.05)


def test_every_control_changes_what_is_drawn(ex):
    base = _line(ex.figure(), "partial_sum")[1]
    assert not np.allclose(_line(ex.figure(order=4), "partial_sum")[1], base)
    assert not np.allclose(_line(ex.figure(direction="second"), "partial_sum")[1], base)
    assert _line(ex.figure(t_max=0.3), "error")[0].max() < _line(ex.figure(), "error")[0].max()


@pytest.mark.parametrize("values, match", [({"order": 0}, "order"), ({"order": 5}, "order"), ({"t_max": 0.01}, "t_max"),
                                           ({"t_max": 10.0}, "t_max"), ({"direction": "third"}, "direction"),
                                           ({"width": 3}, "unknown")])
def test_bad_values_are_named(ex, values, match):
    with pytest.raises(ValueError, match=match):
        ex.figure(**values)


def test_bad_rays_are_refused(problems):
    with pytest.raises(ValueError, match="rays"):
        loss_series.explorer({})
    with pytest.raises(ValueError, match="terms"):
        loss_series.Ray(np.zeros(4), np.geomspace(0.01, 3, 5), np.zeros(5))
    with pytest.raises(ValueError, match="cover"):
        loss_series.Ray(np.zeros(6), np.geomspace(0.01, 1, 5), np.zeros(5))
    with pytest.raises(ValueError, match="points"):
        loss_series.along_ray(*problems["first"], points=3)


def test_each_redraw_takes_under_a_second_of_cpu(ex):
    for values in CORNERS:
        assert redraw_cpu_seconds(ex, values) < 1.0, values


def test_static_show_and_live_widgets(ex, monkeypatch, capsys):
    ex.show(live=False)
    assert "ray among first, second" in " ".join(capsys.readouterr().out.split())
    controls, shown = live_controls(ex, monkeypatch)
    assert [type(s).__name__ for s in controls] == ["IntSlider", "FloatLogSlider", "Dropdown"]
    controls[0].value = 4                                     # the observer redraws at the new value
    assert len([o for o in shown if isinstance(o, matplotlib.figure.Figure)]) >= 2


def test_variants_hold_one_image_per_order(ex):
    html = ex.variants("order", [1, 2, 3, 4]).data
    assert html.count("<img") == 4 and "order K of the partial sum = 3" in html
