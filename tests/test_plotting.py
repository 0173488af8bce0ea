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


def test_panels_lays_out_at_most_two_a_row_at_the_page_width():
    fig, axes = cu.panels(4)
    assert len(axes) == 4 and len(fig.axes) == 4
    assert fig.get_size_inches()[0] == pytest.approx(plotting.PAGE_WIDTH)
    rows = sorted({round(ax.get_position().y0, 3) for ax in axes})
    cols = sorted({round(ax.get_position().x0, 3) for ax in axes})
    assert len(rows) == 2 and len(cols) == 2                      # 2 x 2, not 1 x 4
    assert axes[0].get_position().y0 > axes[2].get_position().y0  # reading order: top row first
    plt.close(fig)
    fig, axes = cu.panels(3)
    assert len(axes) == 3 and len(fig.axes) == 3                  # the fourth cell is removed
    plt.close(fig)
    fig, ax = cu.panels(1)
    assert isinstance(ax, matplotlib.axes.Axes)
    plt.close(fig)
    fig, axes = cu.panels(2, sharey=True)
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])
    plt.close(fig)


@pytest.mark.parametrize("bad", [0, -1, 2.5, "4", None, True])
def test_panels_rejects_a_bad_count(bad):
    with pytest.raises(ValueError, match="n"):
        cu.panels(bad)


def test_panels_rejects_bad_sizes():
    with pytest.raises(ValueError, match="width"):
        cu.panels(2, width=float("nan"))
    with pytest.raises(ValueError, match="panel_height"):
        cu.panels(2, panel_height=0)


def test_a_chapter_run_as_a_script_saves_its_figures(tmp_path):
    import subprocess
    import sys
    chapter = tmp_path / "root" / "book" / "01_part" / "01_topic.py"
    chapter.parent.mkdir(parents=True)
    chapter.write_text(
        "import matplotlib.pyplot as plt\n"
        "import course_utils as cu\n"
        "cu.use_house_style()\n"
        "fig, ax = plt.subplots(); ax.plot([0, 1]); plt.show()\n"
        "fig, ax = plt.subplots(); ax.plot([1, 0]); plt.show()\n"
        "fig, ax = plt.subplots(); ax.plot([1, 1])\n")          # never shown: saved at exit
    env = {k: v for k, v in __import__("os").environ.items() if k != "COURSE_FIGURES"}
    env["MPLBACKEND"] = "Agg"
    out = subprocess.run([sys.executable, str(chapter)], capture_output=True, text=True, env=env, check=True)
    saved = tmp_path / "root" / "figures" / "01_part" / "01_topic"
    assert sorted(p.name for p in saved.iterdir()) == ["fig-01.png", "fig-02.png", "fig-03.png"]
    assert out.stdout.count("figure saved:") == 3
    env["COURSE_FIGURES"] = "off"
    other = tmp_path / "root2" / "book" / "01_part" / "01_topic.py"
    other.parent.mkdir(parents=True)
    other.write_text(chapter.read_text())
    subprocess.run([sys.executable, str(other)], capture_output=True, text=True, env=env, check=True)
    assert not (tmp_path / "root2" / "figures").exists()


def test_only_chapters_save_figures(monkeypatch):
    monkeypatch.delenv("COURSE_FIGURES", raising=False)
    assert plotting.figure_directory() is None      # pytest is not a chapter
    monkeypatch.setenv("COURSE_FIGURES", "/tmp/somewhere")
    assert str(plotting.figure_directory()) == "/tmp/somewhere"


_X = np.geomspace(1, 10, 4)


@pytest.mark.parametrize("name,call", [
    ("ax", lambda ax: plotting.theory_and_experiment("ax", _X, _X, _X)),
    ("theory", lambda ax: plotting.theory_and_experiment(ax, _X, _X[:3], _X)),
    ("experiment", lambda ax: plotting.theory_and_experiment(ax, _X, _X, _X[:2])),
    ("experiment", lambda ax: plotting.theory_and_experiment(ax, _X, _X, _X, x_experiment=_X[:3])),
    ("theory", lambda ax: plotting.theory_and_experiment(ax, _X, "abc", _X)),
    ("x", lambda ax: plotting.theory_and_experiment(ax, None, _X, _X)),
    ("x", lambda ax: plotting.loglog_fit(ax, _X[:3], _X)),
    ("y", lambda ax: plotting.loglog_fit(ax, _X, np.ones((2, 2)))),
    ("y", lambda ax: plotting.loglog_fit(ax, _X, -_X)),
    ("values", lambda ax: plotting.phase_diagram(ax, _X, _X[:3], np.zeros((4, 3)), xlabel="", ylabel="",
                                                 colorbar_label="")),
    ("values", lambda ax: plotting.phase_diagram(ax, _X, _X[:3], np.zeros(12), xlabel="", ylabel="",
                                                 colorbar_label="")),
    ("x", lambda ax: plotting.phase_diagram(ax, np.linspace(0, 1, 4), _X[:3], np.zeros((3, 4)), xlabel="",
                                            ylabel="", colorbar_label="")),
    ("values", lambda ax: plotting.phase_diagram(ax, _X, _X[:3], np.full((3, 4), 2), xlabel="", ylabel="",
                                                 colorbar_label="", categorical_labels=["a", "b"])),
    ("categorical_labels", lambda ax: plotting.phase_diagram(ax, _X, _X[:3], np.zeros((3, 4)), xlabel="",
                                                             ylabel="", colorbar_label="", categorical_labels="ab")),
    ("ncols", lambda ax: cu.panels(2, ncols=0)),
    ("width", lambda ax: cu.panels(2, width="7")),
])
def test_bad_plot_arguments_raise_an_argument_error_naming_them(name, call):
    fig, ax = plt.subplots()
    try:
        with pytest.raises(cu.validate.ArgumentError) as info:
            call(ax)
        assert name in str(info.value)
    finally:
        plt.close("all")


def test_phase_diagram_on_linear_axes_accepts_zero():
    fig, ax = plt.subplots()
    plotting.phase_diagram(ax, np.linspace(0, 1, 4), np.linspace(0, 1, 3), np.zeros((3, 4)), xlabel="", ylabel="",
                           colorbar_label="", log_x=False, log_y=False)
    plt.close(fig)
