"""One house style for every figure of the course, and the plots that recur.

Conventions (so that every figure reads the same way):
theory is drawn as solid or dashed lines, experiment as markers, in the same colour for the
same quantity; every axis has a label with its unit ("steps", "dimensionless", ...).
"""

from __future__ import annotations

import atexit
import os
import sys
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from . import validate
from .fits import PowerLawFit, fit_power_law
from .validate import ArgumentError

__all__ = ["use_house_style", "PALETTE", "panels", "PAGE_WIDTH", "figure_directory", "save_open_figures",
           "theory_and_experiment", "loglog_fit", "phase_diagram"]

#: Width of a figure in the book, in inches. At 100 dpi it is 720 px wide, about the width of the book's
#: text column, so a figure is shown at (nearly) its own size and its 9-11 pt text stays readable.
#: Figures are stored at twice that resolution ("retina") for sharp lines.
PAGE_WIDTH = 7.2

#: Colour-blind-safe palette (Okabe & Ito), also distinguishable in greyscale print.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def use_house_style() -> None:
    """Set matplotlib's defaults to the course style: readable fonts, light grid, print-safe colours.

    In a notebook, figures are stored at twice their displayed resolution ("retina" PNGs), so they stay
    sharp in the book and on high-resolution screens. Run as a script (``python book/<part>/<chapter>.py``),
    the chapter saves every figure it shows under ``figures/<part>/<chapter>/`` and prints where
    (see :func:`figure_directory`; ``COURSE_FIGURES=off`` turns this off).
    """
    mpl.rcParams.update({
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "figure.constrained_layout.use": True,
        "font.size": 11,
        "axes.titlesize": 12,
        "axes.labelsize": 11,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.prop_cycle": mpl.cycler(color=PALETTE),
        "lines.linewidth": 1.8,
        "lines.markersize": 5,
        "image.cmap": "viridis",
    })
    if _in_notebook():
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("retina")
    else:
        _save_figures_when_shown()


def panels(n: int, *, ncols: int = 2, width: float = PAGE_WIDTH, panel_height: float = 3.1,
           **subplot_kw):
    """A figure of ``n`` panels at most ``ncols`` to a row, ``width`` inches wide: ``fig, axes = panels(4)``.

    Replaces wide strips such as ``plt.subplots(1, 4, figsize=(15, 3.6))``, whose text is shrunk to
    illegibility on a page: four panels become 2 x 2 at the page width. ``axes`` is a flat array of
    exactly ``n`` axes in reading order (left to right, top to bottom); the unused cell of an odd
    grid is removed. With ``n = 1`` it returns a single axes, like ``plt.subplots()``. Other keyword
    arguments (``sharex``, ``sharey``, ``subplot_kw``, ...) go to :func:`matplotlib.pyplot.subplots`.
    """
    n = validate.positive_int("n (the number of panels)", n)
    ncols = validate.positive_int("ncols", ncols)
    validate.positive("width (in inches)", width)
    validate.positive("panel_height (in inches)", panel_height)
    ncols = min(int(ncols), int(n))
    nrows = -(-int(n) // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(width, panel_height * nrows), squeeze=False, **subplot_kw)
    flat = grid.ravel()
    for ax in flat[n:]:
        fig.delaxes(ax)
    return (fig, flat[0]) if n == 1 else (fig, flat[:n])


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (notebook, Colab, nbval), False in a script or a plain interpreter."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def figure_directory() -> Path | None:
    """Where a chapter run as a script saves its figures, or ``None`` when it saves none.

    ``COURSE_FIGURES=off`` saves none; ``COURSE_FIGURES=<dir>`` saves into that directory. Otherwise a
    chapter run as a script, ``<root>/book/<part>/<chapter>.py``, saves into
    ``<root>/figures/<part>/<chapter>/``; any other program (an interactive interpreter, pytest, a
    script outside ``book/``) saves none.
    """
    setting = os.environ.get("COURSE_FIGURES", "").strip()
    if setting.lower() in {"off", "0", "no", "false"}:
        return None
    if setting:
        return Path(setting)
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    if not script:
        return None
    script = Path(script).resolve()
    parts = script.parts
    if "book" not in parts[:-1]:
        return None
    i = len(parts) - 1 - parts[::-1].index("book")
    return Path(*parts[:i]) / "figures" / Path(*parts[i + 1:-1]) / script.stem


_saved_count = 0
_original_show = plt.show


def save_open_figures(directory: Path | str | None = None) -> list[Path]:
    """Save every open figure not saved yet as ``fig-NN.png`` in ``directory`` (default: :func:`figure_directory`).

    Figures are numbered in the order they are saved, which is the order a chapter shows them.
    Prints one line per figure and returns the paths.
    """
    global _saved_count
    if directory is not None and not isinstance(directory, (str, os.PathLike)):
        raise ArgumentError(f"directory must be a folder (a str or pathlib.Path), got {validate.show(directory)}")
    directory = figure_directory() if directory is None else Path(directory)
    if directory is None:
        return []
    paths = []
    for number in plt.get_fignums():
        fig = plt.figure(number)
        if getattr(fig, "_course_saved_as", None) is not None:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        _saved_count += 1
        path = directory / f"fig-{_saved_count:02d}.png"
        fig.savefig(path)
        fig._course_saved_as = path
        paths.append(path)
        print(f"figure saved: {path}")
    return paths


def _show_and_save(*args, **kwargs):
    """``plt.show`` for a chapter run as a script: save the open figures, then show them (or close them)."""
    save_open_figures()
    if mpl.get_backend().lower() in {"agg", "pdf", "svg", "ps", "cairo", "template"}:
        plt.close("all")
    else:
        _original_show(*args, **kwargs)


def _save_figures_when_shown() -> None:
    directory = figure_directory()
    if directory is None or plt.show is _show_and_save:
        return
    plt.show = _show_and_save
    atexit.register(save_open_figures, directory)   # figures a script never showed are saved at its end


def _check_axes(ax) -> None:
    """``ax`` must be a matplotlib Axes (what ``plt.subplots`` or :func:`panels` returns)."""
    if not isinstance(ax, mpl.axes.Axes):
        raise ArgumentError(f"ax must be a matplotlib Axes (e.g. fig, ax = plt.subplots()), got {validate.show(ax)}")


def theory_and_experiment(ax, x, theory, experiment, *, label: str = "", color=None,
                          x_experiment=None, marker: str = "o", markevery=None):
    """Draw a theory curve (line) and the measured points (markers) of one quantity in one colour.

    ``x_experiment`` defaults to ``x``. The legend reads "<label> theory" / "<label> experiment".
    Returns the colour used.
    """
    _check_axes(ax)
    for name, value in (("x", x), ("theory", theory), ("experiment", experiment), ("x_experiment", x_experiment)):
        if value is not None:   # numbers (NaN allowed: matplotlib leaves a gap), one or two axes
            validate.array(name, value, ndim=(1, 2), finite=False, allow_empty=True)
    x = np.asarray(x)
    theory = np.asarray(theory)
    experiment = np.asarray(experiment)
    x_experiment = x if x_experiment is None else np.asarray(x_experiment)
    if theory.shape != x.shape:
        raise ArgumentError(f"theory has shape {theory.shape} but x has shape {x.shape}: give one theory value per x")
    if experiment.shape != x_experiment.shape:
        raise ArgumentError(f"experiment has shape {experiment.shape} but its x (x_experiment, or x) has shape "
                            f"{x_experiment.shape}: give one measured value per x")
    (line,) = ax.plot(x, theory, "-", color=color, label=f"{label} theory".strip())
    ax.plot(x_experiment, experiment, marker, color=line.get_color(), linestyle="none",
            markerfacecolor="none", markevery=markevery, label=f"{label} experiment".strip())
    return line.get_color()


def loglog_fit(ax, x, y, *, label: str = "", color=None, marker: str = "o",
               exponent_name: str = "alpha") -> PowerLawFit:
    """Plot y against x on log–log axes with the fitted power law y = A x^(−alpha) as a dashed line.

    The fitted exponent (± its standard error) is written in the legend. Returns the fit.
    """
    _check_axes(ax)
    validate.array("x", x, ndim=1)
    validate.array("y", y, ndim=1)
    fit = fit_power_law(x, y)
    x = np.asarray(x, dtype=float)
    (pts,) = ax.plot(x, y, marker, color=color, linestyle="none", label=label or None)
    xs = np.geomspace(x.min(), x.max(), 100)
    ax.plot(xs, fit(xs), "--", color=pts.get_color(),
            label=f"fit: {exponent_name} = {fit.alpha:.2f} ± {fit.alpha_stderr:.2f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    return fit


def phase_diagram(ax, x, y, values, *, xlabel: str, ylabel: str, colorbar_label: str,
                  log_x: bool = True, log_y: bool = True, cmap=None, categorical_labels=None):
    """Draw a phase diagram: ``values[i, j]`` at (x[j], y[i]) as coloured cells.

    With ``categorical_labels`` (a list of names) the values are integer phase indices and the
    colour bar shows the names. Returns the image object.
    """
    _check_axes(ax)
    validate.array("x", x, ndim=1)
    validate.array("y", y, ndim=1)
    validate.array("values", values, ndim=2, finite=False)   # NaN cells are left blank
    for name, v in (("x", x), ("y", y)):
        if (log_x if name == "x" else log_y) and np.any(np.asarray(v, dtype=float) <= 0):
            raise ArgumentError(f"{name} must be positive on a log axis (log_{name}=True), got a minimum of "
                                f"{np.min(np.asarray(v, dtype=float)):g}; pass log_{name}=False")
    values = np.asarray(values)
    if values.shape != (len(y), len(x)):
        raise ArgumentError(f"values must have shape (len(y), len(x)) = {(len(y), len(x))}, got {values.shape}")
    if categorical_labels is not None:
        if isinstance(categorical_labels, str) or not hasattr(categorical_labels, "__len__"):
            raise ArgumentError(f"categorical_labels must be a list of phase names, got "
                                f"{validate.show(categorical_labels)}")
        n = len(categorical_labels)
        if not 1 <= n <= len(PALETTE) and cmap is None:
            raise ArgumentError(f"categorical_labels must name 1 to {len(PALETTE)} phases (one colour each), got {n}")
        numeric = np.issubdtype(values.dtype, np.number)
        codes = values[np.isfinite(values)] if numeric else values
        if not numeric or np.any((codes < 0) | (codes > n - 1) | (codes != np.round(codes))):
            raise ArgumentError(f"with categorical_labels, values must be whole phase indices 0 … {n - 1}")
        cmap = mpl.colors.ListedColormap(PALETTE[:n]) if cmap is None else cmap
        norm = mpl.colors.BoundaryNorm(np.arange(-0.5, n), n)
        im = ax.pcolormesh(x, y, values, cmap=cmap, norm=norm, shading="nearest")
        cb = plt.colorbar(im, ax=ax, ticks=range(n))
        cb.ax.set_yticklabels(categorical_labels)
    else:
        im = ax.pcolormesh(x, y, values, cmap=cmap, shading="nearest")
        cb = plt.colorbar(im, ax=ax)
    cb.set_label(colorbar_label)
    if log_x:
        ax.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(False)
    return im
