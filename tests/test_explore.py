"""The explorer machinery: controls check their values, the callback draws, static pages get variants."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_utils.explore import Choice, Explorer, Slider, widgets_enabled  # noqa: E402


def _draw(amplitude, kind, n):
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 50)
    ax.plot(x, amplitude * (np.sin(n * x) if kind == "sin" else np.cos(n * x)))
    ax.set_xlabel("x (dimensionless)")
    return fig


def _explorer():
    return Explorer(_draw, {"amplitude": Slider(0.1, 10, default=1, log=True, label="A"),
                            "kind": Choice(["sin", "cos"], default="sin"),
                            "n": Slider(1, 5, default=2, integer=True)}, title="test")


def test_the_callback_draws_at_the_values_given():
    ex = _explorer()
    fig = ex.figure(amplitude=3.0, kind="cos", n=4)
    y = fig.axes[0].get_lines()[0].get_ydata()
    assert y[0] == pytest.approx(3.0)                     # 3 cos(0)
    assert fig._suptitle.get_text() == "test"
    plt.close(fig)
    assert ex.values(n=3.2) == {"amplitude": 1.0, "kind": "sin", "n": 3}   # integer slider rounds


@pytest.mark.parametrize("values, match", [
    ({"amplitude": 20.0}, "outside"), ({"amplitude": float("nan")}, "finite"), ({"amplitude": "2"}, "finite"),
    ({"kind": "tan"}, "one of"), ({"width": 1}, "unknown"), ({"n": True}, "finite")])
def test_bad_values_are_named(values, match):
    with pytest.raises(ValueError, match=match):
        _explorer().figure(**values)


def test_bad_definitions_are_refused():
    with pytest.raises(ValueError, match="low < high"):
        Slider(1, 1, default=1)
    with pytest.raises(ValueError, match="outside"):
        Slider(0, 1, default=2)
    with pytest.raises(ValueError, match="log"):
        Slider(0, 1, default=0.5, log=True)
    with pytest.raises(ValueError, match="not one of"):
        Choice(["a"], default="b")
    with pytest.raises(ValueError, match="draw must be a function"):
        Explorer(np.zeros(3), {"a": Slider(0, 1, default=0)})
    with pytest.raises(ValueError, match="Slider or a Choice"):
        Explorer(_draw, {"a": (0, 1)})
    with pytest.raises(ValueError, match="Figure"):
        Explorer(lambda a: None, {"a": Slider(0, 1, default=0)}).figure()


def test_static_show_draws_the_default_and_says_what_the_sliders_do(capsys):
    _explorer().show(live=False)
    out = capsys.readouterr().out
    assert "A from 0.1 to 10, log scale" in out and "sin, cos" in out
    plt.close("all")


def test_live_show_builds_widgets_and_redraws_on_change(monkeypatch):
    pytest.importorskip("ipywidgets")
    import ipywidgets as w
    from IPython import display as ipd
    shown = []
    monkeypatch.setattr(ipd, "display", lambda *a, **k: shown.extend(a))
    _explorer().show(live=True)
    box = next(o for o in shown if isinstance(o, w.VBox))
    sliders = box.children[0].children
    assert [type(s).__name__ for s in sliders] == ["FloatLogSlider", "Dropdown", "IntSlider"]
    assert sliders[0].value == pytest.approx(1.0)
    sliders[2].value = 5                              # the observer redraws at the new value
    plt.close("all")


def test_variants_hold_one_image_per_value():
    html = _explorer().variants("n", [1, 3, 5], kind="cos").data
    assert html.count("<img") == 3 and html.count('type="radio"') == 3
    assert "n = 3" in html and html.count("checked") >= 1
    with pytest.raises(ValueError, match="options"):
        _explorer().variants("n", [1])
    with pytest.raises(ValueError, match="name must be"):
        _explorer().variants("width", [1, 2])


def test_widgets_are_off_outside_a_kernel_and_when_asked(monkeypatch):
    assert widgets_enabled() is False                 # pytest is not a Jupyter kernel
    monkeypatch.setenv("COURSE_WIDGETS", "off")
    assert widgets_enabled() is False
