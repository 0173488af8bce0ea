"""One house style for every figure of the course, and the plots that recur.

Conventions (so that every figure reads the same way):
theory is drawn as solid or dashed lines, experiment as markers, in the same colour for the
same quantity; every axis has a label with its unit ("steps", "dimensionless", ...).
"""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from .fits import PowerLawFit, fit_power_law

__all__ = ["use_house_style", "PALETTE", "theory_and_experiment", "loglog_fit", "phase_diagram"]

#: Colour-blind-safe palette (Okabe & Ito), also distinguishable in greyscale print.
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]


def use_house_style() -> None:
    """Set matplotlib's defaults to the course style: readable fonts, light grid, print-safe colours."""
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


def theory_and_experiment(ax, x, theory, experiment, *, label: str = "", color=None,
                          x_experiment=None, marker: str = "o", markevery=None):
    """Draw a theory curve (line) and the measured points (markers) of one quantity in one colour.

    ``x_experiment`` defaults to ``x``. The legend reads "<label> theory" / "<label> experiment".
    Returns the colour used.
    """
    x = np.asarray(x)
    theory = np.asarray(theory)
    experiment = np.asarray(experiment)
    x_experiment = x if x_experiment is None else np.asarray(x_experiment)
    if theory.shape != x.shape:
        raise ValueError(f"theory has shape {theory.shape} but x has shape {x.shape}")
    if experiment.shape != x_experiment.shape:
        raise ValueError(f"experiment has shape {experiment.shape} but its x has shape {x_experiment.shape}")
    (line,) = ax.plot(x, theory, "-", color=color, label=f"{label} theory".strip())
    ax.plot(x_experiment, experiment, marker, color=line.get_color(), linestyle="none",
            markerfacecolor="none", markevery=markevery, label=f"{label} experiment".strip())
    return line.get_color()


def loglog_fit(ax, x, y, *, label: str = "", color=None, marker: str = "o",
               exponent_name: str = "alpha") -> PowerLawFit:
    """Plot y against x on log–log axes with the fitted power law y = A x^(−alpha) as a dashed line.

    The fitted exponent (± its standard error) is written in the legend. Returns the fit.
    """
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
    values = np.asarray(values)
    if values.shape != (len(y), len(x)):
        raise ValueError(f"values must have shape (len(y), len(x)) = {(len(y), len(x))}, got {values.shape}")
    if categorical_labels is not None:
        n = len(categorical_labels)
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
