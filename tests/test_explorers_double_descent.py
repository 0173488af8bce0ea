"""The double-descent explorer of part 1: every control is wired to the theory, corners draw, redraws are fast."""


import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.explorers import double_descent  # noqa: E402
from course_utils.theory import linear as theory  # noqa: E402
from explorer_testing import live_controls, redraw_cpu_seconds  # noqa: E402

D = 400


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _line(fig, gid, panel=None):
    axes = fig.axes if panel is None else [fig.axes[panel]]
    for ax in axes:
        for line in ax.get_lines():
            if line.get_gid() == gid:
                return np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    raise AssertionError(f"no line {gid!r} in the figure")


def _theory(P, noise, ridge, decay, N):
    w = np.arange(1, D + 1) ** (-decay / 2)
    w /= np.linalg.norm(w)
    unseen = np.sum(w[P:] ** 2)
    return theory.ridge_risk(np.ones(P), w[:P], np.sqrt(noise**2 + unseen), N, ridge), w, unseen


CORNERS = [dict(), dict(noise=0.0, ridge=1e-4, decay=0.0, samples=20),
           dict(noise=1.0, ridge=10.0, decay=2.0, samples=300),
           dict(noise=0.0, ridge=1e-4, decay=2.0, samples=300), dict(noise=1.0, ridge=1e-4, decay=0.0, samples=20)]


@pytest.mark.parametrize("values", CORNERS)
def test_the_drawn_curves_are_the_theory_at_these_values(values):
    ex = double_descent.explorer(D)
    v = ex.values(**values)
    fig = ex.figure(**values)
    P, E = _line(fig, "test_error")
    assert np.array_equal(P, np.arange(1, D + 1))
    assert np.all(np.isfinite(E)) and np.all(E > 0)          # a ridge ≥ 1e-4 keeps the peak finite
    for p in (1, v["samples"] - 1, v["samples"], v["samples"] + 3, 250, D):
        risk, w, unseen = _theory(p, v["noise"], v["ridge"], v["decay"], v["samples"])
        assert E[p - 1] == pytest.approx(risk.test_error, rel=1e-12)
        assert _line(fig, "bias")[1][p - 1] == pytest.approx(risk.bias, rel=1e-12, abs=1e-300)
        assert _line(fig, "variance")[1][p - 1] == pytest.approx(risk.variance, rel=1e-12, abs=1e-300)
        assert _line(fig, "unseen")[1][p - 1] == pytest.approx(unseen, rel=1e-12, abs=1e-300)
        # the parts add up to the test error
        assert risk.bias + risk.variance + unseen + v["noise"] ** 2 == pytest.approx(E[p - 1], rel=1e-10)
        exact = theory.min_norm_risk_isotropic(v["samples"], p, 1 - unseen, unseen, v["noise"])
        drawn = _line(fig, "exact_ridgeless")[1][p - 1]
        assert (np.isnan(drawn) and not np.isfinite(exact)) or drawn == pytest.approx(exact, rel=1e-12)


def test_every_slider_changes_what_is_drawn():
    ex = double_descent.explorer(D)
    base = _line(ex.figure(), "test_error")[1]
    for name, value in (("noise", 0.7), ("ridge", 1.0), ("decay", 0.3), ("samples", 150)):
        assert not np.allclose(_line(ex.figure(**{name: value}), "test_error")[1], base), name


def test_the_peak_sits_at_P_equal_N_and_a_large_ridge_removes_it():
    ex = double_descent.explorer(D)
    for N in (60, 150):
        P, E = _line(ex.figure(samples=N, ridge=1e-4), "test_error")
        assert abs(P[np.argmax(E)] - N) <= 2
        exact = _line(ex.figure(samples=N), "exact_ridgeless")[1]
        assert np.all(np.isnan(exact[N - 2:N + 1]))              # infinite at N − 1 ≤ P ≤ N + 1: not drawn
    E = _line(ex.figure(ridge=10.0), "test_error")[1]
    assert not (E[99] > E[89] and E[99] > E[109])             # no local peak at P = N


def test_the_tuned_ridge_is_optimal_and_has_no_peak():
    ex = double_descent.explorer(D)
    for noise, decay in ((0.2, 1.0), (0.8, 0.0), (0.0, 2.0)):
        fig = ex.figure(noise=noise, decay=decay)
        tuned = _line(fig, "tuned")[1]
        assert np.all(tuned <= _line(fig, "test_error")[1] * (1 + 1e-9))
        for p in (20, 100, 300):
            risk, w, unseen = _theory(p, noise, 0.0, decay, 100)
            rho = double_descent.optimal_ridge(w, p, noise, 100)
            for factor in (0.7, 1.4):                          # ρ* is a minimum of the theory's test error
                other = _theory(p, noise, rho * factor, decay, 100)[0].test_error
                assert tuned[p - 1] <= other * (1 + 1e-9)
        assert np.max(tuned[80:121]) < 1.05 * max(tuned[79], tuned[120])   # no peak around P = N


@pytest.mark.parametrize("values, match", [({"noise": -0.1}, "noise"), ({"ridge": 0.0}, "ridge"),
                                           ({"ridge": 100.0}, "ridge"), ({"decay": float("nan")}, "decay"),
                                           ({"samples": 5}, "samples"), ({"width": 3}, "unknown")])
def test_bad_values_are_named(values, match):
    with pytest.raises(ValueError, match=match):
        double_descent.explorer(D).figure(**values)
    with pytest.raises(ValueError, match="n_features"):
        double_descent.explorer(10)
    with pytest.raises(ValueError, match="n_samples"):
        double_descent.explorer(D, n_samples=390)


def test_each_redraw_takes_under_a_second_of_cpu():
    ex = double_descent.explorer(D)
    for values in CORNERS:
        assert redraw_cpu_seconds(ex, values) < 1.0, values


def test_static_show_and_live_widgets(monkeypatch, capsys):
    ex = double_descent.explorer(D)
    ex.show(live=False)
    assert "ridge ρ from 0.0001 to 10, log scale" in " ".join(capsys.readouterr().out.split())
    sliders, shown = live_controls(ex, monkeypatch)
    assert [type(s).__name__ for s in sliders] == ["FloatSlider", "FloatLogSlider", "FloatSlider", "IntSlider"]
    sliders[3].value = 150                                   # the observer redraws at the new value
    assert len([o for o in shown if isinstance(o, matplotlib.figure.Figure)]) >= 2


def test_variants_hold_one_image_per_noise_level():
    html = double_descent.explorer(D).variants("noise", [0.0, 0.2, 0.5]).data
    assert html.count("<img") == 3 and "label noise σ = 0.5" in html
