import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import course_utils as cu  # noqa: E402
from course_utils import plotting  # noqa: E402


def test_house_style_sets_palette():
    cu.use_house_style()
    assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == plotting.PALETTE[0]


def test_theory_and_experiment_uses_one_colour_and_labels():
    fig, ax = plt.subplots()
    x = np.linspace(0, 1, 5)
    c = plotting.theory_and_experiment(ax, x, x ** 2, x ** 2 + 0.01, label="mode 1")
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["mode 1 theory", "mode 1 experiment"]
    assert lines[0].get_color() == lines[1].get_color() == c
    with pytest.raises(ValueError, match="shape"):
        plotting.theory_and_experiment(ax, x, x[:3], x)
    plt.close(fig)


def test_loglog_fit_puts_exponent_in_legend():
    fig, ax = plt.subplots()
    x = np.geomspace(1, 100, 10)
    fit = plotting.loglog_fit(ax, x, 2 * x ** -1.5, label="data")
    assert fit.alpha == pytest.approx(1.5)
    assert "alpha = 1.50" in ax.get_lines()[1].get_label()
    assert ax.get_xscale() == "log"
    plt.close(fig)


def test_phase_diagram_shapes_and_categories():
    fig, ax = plt.subplots()
    x, y = np.geomspace(1e-3, 1, 4), np.geomspace(1e-4, 1e-1, 3)
    plotting.phase_diagram(ax, x, y, np.zeros((3, 4), int), xlabel="lr", ylabel="wd",
                           colorbar_label="phase", categorical_labels=["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        plotting.phase_diagram(ax, x, y, np.zeros((4, 3)), xlabel="lr", ylabel="wd", colorbar_label="z")
    plt.close(fig)
