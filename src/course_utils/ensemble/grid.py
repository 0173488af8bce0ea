"""From a grid sweep to an ensemble and back: one member per grid point, results as a labelled array.

A phase diagram is a grid of hyperparameters (say decoder learning rate × weight decay) with a
few seeds per cell. :class:`Grid` lays the grid points out as ensemble members (C order: the last
axis varies fastest), hands out each hyperparameter as a per-member column to pass to a batched
model or optimiser, and turns per-member results back into a :class:`LabelledArray` with named,
labelled axes, ready to average over seeds and to draw with
:func:`course_utils.plotting.phase_diagram`::

    grid = Grid(lr=np.logspace(-4, -2, 10), weight_decay=np.logspace(-2, 1, 10), seed=range(3))
    model = BatchedToyAdditionModel(grid.size, seeds=grid["seed"])
    opt = BatchedAdamW(model.parameters(), lr=grid["lr"], weight_decay=grid["weight_decay"])
    hist = train_ensemble(...)
    steps = grid.to_array(first_step_reaching(hist, "val_acc", 0.9), name="steps to 90% val. acc.")
    cu.plotting.phase_diagram(ax, **steps.median("seed").for_phase_diagram(x="lr", y="weight_decay"), ...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .. import validate

__all__ = ["Grid", "LabelledArray"]


@dataclass
class LabelledArray:
    """An array whose axes have names (``dims``) and coordinate values (``coords``), like a tiny xarray.

    ``values.shape[:len(dims)]`` matches the coordinates; trailing axes (e.g. a recorded time
    series per grid point) are unnamed.
    """

    values: np.ndarray
    dims: tuple[str, ...]
    coords: dict[str, np.ndarray]
    name: str = ""
    attrs: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.values is None or isinstance(self.values, (str, bytes)) or callable(self.values):
            raise validate.ArgumentError(f"values must be an array, got {validate.show(self.values)}")
        self.values = np.asarray(self.values)
        if isinstance(self.dims, str) or not isinstance(self.dims, (list, tuple)) or not all(
                isinstance(d, str) for d in self.dims):
            raise validate.ArgumentError(f"dims must be a tuple of axis names such as ('lr', 'seed'), "
                                         f"got {validate.show(self.dims)}")
        self.dims = tuple(self.dims)
        if not isinstance(self.coords, dict) or any(d not in self.coords for d in self.dims):
            raise validate.ArgumentError(f"coords must be a dict with the coordinates of every axis in dims "
                                         f"{self.dims}, got {validate.show(self.coords)}")
        self.coords = {d: np.asarray(self.coords[d]) for d in self.dims}
        shape = tuple(len(self.coords[d]) for d in self.dims)
        if self.values.shape[:len(self.dims)] != shape:
            raise ValueError(f"values of shape {self.values.shape} do not match dims {self.dims} "
                             f"with coordinate lengths {shape}")

    def _axis(self, dim: str, argument: str = "dim") -> int:
        if not isinstance(dim, str) or dim not in self.dims:
            raise ValueError(f"no axis named {dim!r}; the axes are {self.dims} (argument {argument})")
        return self.dims.index(dim)

    def reduce(self, dim: str, fn: Callable = np.mean) -> LabelledArray:
        """Apply ``fn(values, axis=...)`` along ``dim`` (e.g. over seeds) and drop that axis."""
        axis = self._axis(dim)
        fn = validate.function("fn", fn)
        dims = tuple(d for d in self.dims if d != dim)
        return LabelledArray(fn(self.values, axis=axis), dims, {d: self.coords[d] for d in dims},
                             self.name, dict(self.attrs))

    def mean(self, dim: str) -> LabelledArray:
        """Mean over ``dim`` (NaN where any entry is NaN; use ``reduce(dim, np.nanmean)`` to skip them)."""
        return self.reduce(dim, np.mean)

    def median(self, dim: str) -> LabelledArray:
        """Median over ``dim``."""
        return self.reduce(dim, np.median)

    def transpose(self, *dims: str) -> LabelledArray:
        """The same data with the named axes in the order ``dims``."""
        if sorted(dims) != sorted(self.dims):
            raise ValueError(f"transpose needs all of {self.dims}, got {dims}")
        order = [self._axis(d) for d in dims] + list(range(len(self.dims), self.values.ndim))
        return LabelledArray(self.values.transpose(order), dims, self.coords, self.name, dict(self.attrs))

    def sel(self, **point) -> LabelledArray:
        """The sub-array at the given coordinate values, e.g. ``sel(seed=0)`` (exact match)."""
        values, dims = self.values, list(self.dims)
        for dim, value in point.items():
            if dim not in dims:
                raise ValueError(f"no axis named {dim!r}; the axes are {tuple(dims)}")
            axis = dims.index(dim)
            if np.issubdtype(self.coords[dim].dtype, np.number):
                try:
                    validate.real(dim, value)
                except validate.ArgumentError:
                    raise ValueError(f"{dim}={validate.show(value)} is not one of the coordinates "
                                     f"{self.coords[dim]}") from None
            where = np.flatnonzero(np.isclose(self.coords[dim], value) if np.issubdtype(
                self.coords[dim].dtype, np.number) else self.coords[dim] == value)
            if len(where) != 1:
                raise ValueError(f"{dim}={value!r} is not one of the coordinates {self.coords[dim]}")
            values = np.take(values, where[0], axis=axis)
            dims.pop(axis)
        return LabelledArray(values, tuple(dims), {d: self.coords[d] for d in dims}, self.name,
                             dict(self.attrs))

    def for_phase_diagram(self, x: str, y: str) -> dict:
        """``dict(x=…, y=…, values=…)`` for :func:`course_utils.plotting.phase_diagram`.

        The array must have exactly the two axes ``x`` and ``y`` (reduce the others first);
        ``values[i, j]`` is the value at (x[j], y[i]).
        """
        for argument, dim in (("x", x), ("y", y)):
            if not isinstance(dim, str):
                raise validate.ArgumentError(f"{argument} must be the name of an axis of this array, one of "
                                             f"{self.dims}, got {validate.show(dim)}")
        if sorted(self.dims) != sorted((x, y)):
            missing = [f"{a}={d!r}" for a, d in (("x", x), ("y", y)) if d not in self.dims]
            raise ValueError(f"a phase diagram needs exactly the axes ({x!r}, {y!r}); this array has "
                             f"{self.dims}: reduce or sel the others first"
                             + (f" ({', '.join(missing)} is not one of its axes)" if missing else ""))
        t = self.transpose(y, x)
        return dict(x=self.coords[x], y=self.coords[y], values=t.values)

    def __repr__(self) -> str:
        axes = ", ".join(f"{d}: {len(self.coords[d])}" for d in self.dims)
        return f"LabelledArray({self.name!r}, {axes}, shape {self.values.shape})"


class Grid:
    """The points of a hyperparameter grid as ensemble members: ``Grid(lr=[...], seed=range(3))``.

    Axes keep the order in which they are given; member m is the grid point with multi-index
    ``np.unravel_index(m, grid.shape)`` (last axis fastest). ``grid["lr"]`` is the learning rate
    of every member, shape (size,); :meth:`to_array` and :meth:`from_array` convert per-member
    results to and from a :class:`LabelledArray`.
    """

    def __init__(self, **axes: Iterable):
        if not axes:
            raise ValueError("a grid needs at least one axis, e.g. Grid(lr=[1e-3, 1e-2])")
        self.coords: dict[str, np.ndarray] = {}
        for name, values in axes.items():
            if values is None or isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise validate.ArgumentError(f"axis {name!r} must be a non-empty 1-D list of values, "
                                             f"got {validate.show(values)}")
            values = np.asarray(list(values))
            if np.issubdtype(values.dtype, np.inexact) and not np.all(np.isfinite(values)):
                raise validate.ArgumentError(f"axis {name!r} must contain only finite numbers, got {values}")
            if values.ndim != 1 or len(values) == 0:
                raise ValueError(f"axis {name!r} must be a non-empty 1-D list of values, got {values!r}")
            if len(np.unique(values)) != len(values):
                raise ValueError(f"axis {name!r} has repeated values {values}")
            self.coords[name] = values
        self.dims = tuple(self.coords)
        self.shape = tuple(len(v) for v in self.coords.values())
        self.size = int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, name: str) -> np.ndarray:
        """The value of axis ``name`` for every member, shape (size,)."""
        if name not in self.coords:
            raise KeyError(f"no axis named {name!r}; the axes are {self.dims}")
        axis = self.dims.index(name)
        index = np.unravel_index(np.arange(self.size), self.shape)[axis]
        return self.coords[name][index]

    def member(self, **point) -> int:
        """The member index of a grid point given by its coordinate values (all axes)."""
        if set(point) != set(self.dims):
            raise ValueError(f"give a value for every axis {self.dims}, got {sorted(point)}")
        idx = []
        for name in self.dims:
            where = np.flatnonzero(self.coords[name] == point[name])
            if len(where) != 1:
                raise ValueError(f"{name}={point[name]!r} is not on the grid {self.coords[name]}")
            idx.append(int(where[0]))
        return int(np.ravel_multi_index(idx, self.shape))

    def points(self) -> list[dict]:
        """Every member's hyperparameters as a dict, in member order."""
        columns = {name: self[name] for name in self.dims}
        return [{name: columns[name][m].item() for name in self.dims} for m in range(self.size)]

    def to_array(self, values, name: str = "") -> LabelledArray:
        """Per-member results (size, …) → a :class:`LabelledArray` of shape grid.shape + (…)."""
        if values is None or isinstance(values, (str, bytes)) or callable(values):
            raise validate.ArgumentError(f"values must be an array with one value per member ({self.size}), "
                                         f"got {validate.show(values)}")
        values = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values)
        if values.shape[:1] != (self.size,):
            raise ValueError(f"need one value per member: leading axis {self.size}, got shape {values.shape} "
                             f"for values")
        return LabelledArray(values.reshape(self.shape + values.shape[1:]), self.dims, self.coords, name)

    def from_array(self, array: LabelledArray) -> np.ndarray:
        """A :class:`LabelledArray` over this grid (axes in any order) → per-member values (size, …)."""
        if not isinstance(array, LabelledArray):
            raise validate.ArgumentError(f"array must be a LabelledArray (as made by Grid.to_array), "
                                         f"got {validate.show(array)}")
        if sorted(array.dims) != sorted(self.dims):
            raise ValueError(f"the array has axes {array.dims}, the grid {self.dims}")
        for d in self.dims:
            if not np.array_equal(array.coords[d], self.coords[d]):
                raise ValueError(f"axis {d!r} has coordinates {array.coords[d]}, the grid {self.coords[d]}")
        values = array.transpose(*self.dims).values
        return values.reshape((self.size,) + values.shape[len(self.dims):])

    def __repr__(self) -> str:
        axes = ", ".join(f"{d}: {n}" for d, n in zip(self.dims, self.shape))
        return f"Grid({axes}; {self.size} members)"
