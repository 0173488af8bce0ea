"""Explorer of part 5: a grokking phase map where choosing a cell shows that run's learning curves.

Belongs to the chapter "Grokking II: when does a network grok, and how can we avoid it?"
(book/05_grokking/02_grokking_phase_diagrams, §2). Nothing is trained here: the explorer reads the runs the
chapter has already trained as one batched ensemble over a :class:`~course_utils.ensemble.Grid` of two knobs
(e.g. decoder learning rate × decoder weight decay) and seeds, with their recorded histories.

The figure has two panels:

(a) the phase map, the majority phase over seeds of each cell, with the chosen cell marked; a cell whose seeds
    tie (with two seeds: disagree) is drawn as "split", as in the chapter's maps, never given to one phase;
(b) the chosen run's recorded curves against the training step: training and validation accuracy (the
    nearest-target accuracy of the toy model), and the representation quality index RQI of its embeddings,
    the fraction of all parallelograms i + j = m + n whose defect |Ẽ_i + Ẽ_j − Ẽ_m − Ẽ_n| on the normalised
    embeddings Ẽ is at most δ (0.1 in the chapters; :func:`course_utils.theory.grokking.rqi`); the times t_train and t_val at
    which the accuracies first reach the threshold, which the phase rule
    (:func:`course_utils.theory.grokking.classify_phase`) reads: grokking when t_val > t_train + T/10.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..ensemble import Grid, first_step_crossing
from ..explore import Choice, Explorer
from ..plotting import PALETTE, panels, phase_diagram
from ..theory import grokking as theory

__all__ = ["explorer", "rqi_history", "majority_phase", "label", "SPLIT"]

#: The map code of a cell whose seeds tie between phases (drawn as "split"): one past the phase codes.
SPLIT = len(theory.PHASES)


def label(value: float) -> str:
    """How a grid value is written in the explorer's menus: three significant digits."""
    return f"{value:.3g}"


def rqi_history(embeddings, p: int | None = None, *, delta: float = 0.05) -> np.ndarray:
    """RQI of many embeddings at once: ``embeddings`` of shape (..., p, d) give RQI of shape (...).

    The same as :func:`course_utils.theory.grokking.rqi` applied to each (p, d) embedding, vectorised over the
    leading axes (records × members); NaN where all embeddings of a model coincide (RQI undefined).
    """
    E = np.asarray(embeddings.detach().cpu() if hasattr(embeddings, "detach") else embeddings, dtype=float)
    if E.ndim < 2:
        raise ValueError(f"embeddings must have shape (..., p, d), got {E.shape}")
    p = E.shape[-2] if p is None else p
    centred = E - E.mean(axis=-2, keepdims=True)
    scale = np.sqrt((centred ** 2).sum(axis=(-2, -1)) / E.shape[-2])                  # (...)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalised = centred / scale[..., None, None]
    q = theory.parallelograms(p)
    defect = np.linalg.norm(normalised[..., q[:, 0], :] + normalised[..., q[:, 1], :]
                            - normalised[..., q[:, 2], :] - normalised[..., q[:, 3], :], axis=-1)
    return np.where(scale > 0, (defect <= delta).mean(axis=-1), np.nan)


def majority_phase(codes, axis: int = -1) -> np.ndarray:
    """The most frequent phase code along ``axis``; :data:`SPLIT` where two or more phases tie for the most runs
    (with two seeds: where they disagree), so that no tie is silently given to one phase."""
    codes = np.asarray(codes)
    counts = np.stack([(codes == c).sum(axis=axis) for c in range(len(theory.PHASES))], axis=-1)
    tied = (counts == counts.max(axis=-1, keepdims=True)).sum(axis=-1) > 1
    return np.where(tied, SPLIT, counts.argmax(axis=-1))


def explorer(grid: Grid, *, x: str, y: str, steps, train_acc, val_acc, embeddings, threshold: float,
             budget: float, x_label: str = "", y_label: str = "", phase=None, delta: float = 0.05) -> Explorer:
    """The phase-map explorer of the runs of ``grid`` (two knobs ``x`` and ``y`` and one axis of seeds).

    ``steps`` (R,) are the recorded steps; ``train_acc`` and ``val_acc`` (R, K) the recorded accuracies of the
    K = ``grid.size`` members in member order; ``embeddings`` (R, K, p, d) their recorded embeddings. The phase
    of each run is classified from its curves with the chapter's rule at ``threshold`` and ``budget`` (give
    the chapter's ``phase`` (K,) to check that it is the same); ``delta`` is the RQI tolerance δ. The default
    cell is the grokking run with the longest delay t_val − t_train (or the first run if none groks).
    """
    if len(grid.dims) != 3 or x not in grid.dims or y not in grid.dims or x == y:
        raise ValueError(f"grid must have three axes, the two knobs x and y and one of seeds; got axes {grid.dims} "
                         f"with x={x!r}, y={y!r}")
    seed_axis = next(d for d in grid.dims if d not in (x, y))
    steps = np.asarray(steps, dtype=float)
    curves = {"train": np.asarray(train_acc, dtype=float), "val": np.asarray(val_acc, dtype=float)}
    for name, values in curves.items():
        if values.shape != (steps.size, grid.size):
            raise ValueError(f"{name}_acc must have shape (records, members) = {(steps.size, grid.size)}, "
                             f"got {values.shape}")
    curves["rqi"] = rqi_history(embeddings, delta=delta)
    if curves["rqi"].shape != (steps.size, grid.size):
        raise ValueError(f"embeddings must have shape (records, members, p, d) with records, members = "
                         f"{(steps.size, grid.size)}, got {np.shape(embeddings)}")

    t_train, t_val = (first_step_crossing(steps, curves[name], threshold) for name in ("train", "val"))
    codes = theory.classify_phase(t_train, t_val, budget=budget)
    if phase is not None and not np.array_equal(np.asarray(phase), codes):
        raise ValueError("the phases classified from these curves differ from the phase given: "
                         "are the curves, threshold and budget those of the phase map?")

    def cell_array(values):                                   # (K, ...) → (ny, nx, seeds, ...)
        return grid.to_array(values).transpose(y, x, seed_axis).values

    runs = {name: cell_array(values.T) for name, values in curves.items()}   # (ny, nx, seeds, R)
    times = {"train": cell_array(t_train), "val": cell_array(t_val)}
    run_phase = cell_array(codes)
    phase_map = majority_phase(run_phase)
    xs, ys, seeds = grid.coords[x], grid.coords[y], grid.coords[seed_axis]
    x_opts, y_opts = [label(v) for v in xs], [label(v) for v in ys]
    for name, opts in ((x, x_opts), (y, y_opts)):
        if len(set(opts)) != len(opts):
            raise ValueError(f"the values of {name} are not distinct at three significant digits: {opts}")
    seed_opts = [int(s) for s in seeds] if np.issubdtype(seeds.dtype, np.integer) else list(seeds)

    grok = np.argwhere(run_phase == 1)
    if len(grok):
        delays = [times["val"][tuple(i)] - times["train"][tuple(i)] for i in grok]
        iy, ix, isd = grok[int(np.argmax(delays))]
    else:
        iy, ix, isd = 0, 0, 0

    def draw(**values) -> Figure:
        i, j, s = y_opts.index(values[y]), x_opts.index(values[x]), seed_opts.index(values[seed_axis])
        fig, (ax_map, ax) = panels(2, ncols=1, width=6.4, panel_height=3.0)
        phase_diagram(ax_map, xs, ys, phase_map, xlabel=x_label or x, ylabel=y_label or y,
                      colorbar_label="phase", categorical_labels=[*theory.PHASES, "split"])
        ax_map.plot([xs[j]], [ys[i]], "s", ms=13, mfc="none", mec="white", mew=3.5)
        ax_map.plot([xs[j]], [ys[i]], "s", ms=13, mfc="none", mec="black", mew=1.5)
        ax_map.set_title(f"(a) majority phase of {len(seeds)} seed(s) (split: a tie); square: the chosen cell",
                         fontsize=10)

        ax_map.xaxis.set_minor_formatter(NullFormatter())           # log axes over less than a decade
        ax_map.yaxis.set_minor_formatter(NullFormatter())

        recorded = dict(marker="o", ms=2.5)                           # measured at the recorded steps
        ax.plot(steps, runs["train"][i, j, s], "--", color=PALETTE[0], label="training accuracy", **recorded)
        ax.plot(steps, runs["val"][i, j, s], "-", color=PALETTE[1], label="validation accuracy", **recorded)
        ax.plot(steps, runs["rqi"][i, j, s], ":", color=PALETTE[2], lw=2.2, label="RQI of the embeddings", **recorded)
        ax.axhline(threshold, color="0.5", lw=0.8)
        for key, colour, name in (("train", PALETTE[0], "$t_{\\rm train}$"), ("val", PALETTE[1], "$t_{\\rm val}$")):
            t = times[key][i, j, s]
            if np.isfinite(t):
                ax.axvline(t, color=colour, ls=(0, (1, 3)), lw=1.2)
                ax.text(t, 0.5, f" {name}", color=colour, ha="left", va="center", fontsize=9,
                        transform=ax.get_xaxis_transform())
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(0, steps[-1])
        ax.set_xlabel("training step")
        ax.set_ylabel("accuracy, RQI")
        ax.set_title(f"(b) {x_label or x} {values[x]}, {y_label or y} {values[y]}, {seed_axis} {values[seed_axis]}\n"
                     f"this run: {theory.PHASES[run_phase[i, j, s]]}", fontsize=9)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3)   # below, never on the curves
        return fig

    controls = {x: Choice(x_opts, default=x_opts[ix], label=x_label or x),
                y: Choice(y_opts, default=y_opts[iy], label=y_label or y),
                seed_axis: Choice(seed_opts, default=seed_opts[isd], label=seed_axis)}
    return Explorer(draw, controls, title="Grokking phase map: choose a cell")

