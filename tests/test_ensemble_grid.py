"""Grid and LabelledArray: member order, round trips, selections and the checks, against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.ensemble import Grid, LabelledArray


def test_member_order_is_c_order_and_points_are_python_numbers():
    grid = Grid(a=[1, 2], b=["x", "y", "z"])
    assert grid.dims == ("a", "b") and grid.shape == (2, 3) and grid.size == len(grid) == 6
    assert grid["a"].tolist() == [1, 1, 1, 2, 2, 2] and grid["b"].tolist() == ["x", "y", "z"] * 2
    assert grid.points()[4] == {"a": 2, "b": "y"} and type(grid.points()[4]["a"]) is int
    assert [grid.member(a=p["a"], b=p["b"]) for p in grid.points()] == list(range(6))
    assert repr(grid) == "Grid(a: 2, b: 3; 6 members)"
    with pytest.raises(KeyError, match="no axis named 'c'"):
        grid["c"]
    with pytest.raises(ValueError, match=r"give a value for every axis \('a', 'b'\), got \['a'\]"):
        grid.member(a=1)
    with pytest.raises(ValueError, match="b='w' is not on the grid"):
        grid.member(a=1, b="w")
    single = Grid(seed=range(3))
    assert single["seed"].tolist() == [0, 1, 2] and single.shape == (3,)


def test_grid_axis_checks():
    with pytest.raises(ValueError, match="at least one axis"):
        Grid()
    with pytest.raises(ValueError, match="axis 'lr' must be a non-empty 1-D list"):
        Grid(lr=[])
    with pytest.raises(ValueError, match="axis 'lr' must be a non-empty 1-D list"):
        Grid(lr=[[1, 2]])
    with pytest.raises(ValueError, match="axis 'lr' has repeated values"):
        Grid(lr=[1, 2, 1])


def test_to_array_and_back_with_tensors_and_trailing_axes():
    grid = Grid(a=[0.1, 0.2], b=[1, 2, 3])
    t = torch.arange(12.0).reshape(6, 2)
    arr = grid.to_array(t, name="t")
    assert arr.values.shape == (2, 3, 2) and arr.name == "t" and arr.dims == ("a", "b")
    assert np.array_equal(arr.values, t.numpy().reshape(2, 3, 2))
    assert np.array_equal(grid.from_array(arr), t.numpy())
    back = grid.from_array(arr.transpose("b", "a"))
    assert np.array_equal(back, t.numpy())
    with pytest.raises(ValueError, match=r"need one value per member: leading axis 6, got shape \(5,\)"):
        grid.to_array(np.zeros(5))
    with pytest.raises(ValueError, match=r"the array has axes \('a',\), the grid \('a', 'b'\)"):
        grid.from_array(arr.mean("b"))
    other = Grid(a=[0.1, 0.3], b=[1, 2, 3]).to_array(np.zeros(6))
    with pytest.raises(ValueError, match="axis 'a' has coordinates"):
        grid.from_array(other)


def test_labelled_array_reduce_sel_transpose_and_checks():
    values = np.arange(24.0).reshape(2, 3, 4)
    arr = LabelledArray(values, ["a", "b", "c"], {"a": [0, 1], "b": ["u", "v", "w"], "c": [0.5, 1.0, 1.5, 2.0],
                                                  "unused": [9]}, "x", {"unit": "s"})
    assert arr.dims == ("a", "b", "c") and set(arr.coords) == {"a", "b", "c"}
    m = arr.reduce("b", np.max)
    assert m.dims == ("a", "c") and np.array_equal(m.values, values.max(axis=1)) and m.attrs == {"unit": "s"}
    assert m.name == "x" and list(m.coords) == ["a", "c"]
    assert np.array_equal(arr.mean("c").values, values.mean(axis=2))
    assert np.array_equal(arr.median("a").values, np.median(values, axis=0))
    t = arr.transpose("c", "a", "b")
    assert t.dims == ("c", "a", "b") and np.array_equal(t.values, values.transpose(2, 0, 1))
    s = arr.sel(b="v", c=1.5)
    assert s.dims == ("a",) and s.values.tolist() == [values[0, 1, 2], values[1, 1, 2]]
    assert arr.sel(c=1.0 + 1e-12).values.shape == (2, 3)      # numbers match to rounding
    with pytest.raises(ValueError, match="no axis named 'd'"):
        arr.sel(d=0)
    with pytest.raises(ValueError, match="no axis named 'd'"):
        arr.mean("d")
    with pytest.raises(ValueError, match="b='q' is not one of the coordinates"):
        arr.sel(b="q")
    with pytest.raises(ValueError, match="transpose needs all of"):
        arr.transpose("a", "b")
    with pytest.raises(ValueError, match=r"do not match dims \('a',\) with coordinate lengths \(3,\)"):
        LabelledArray(np.zeros(2), ["a"], {"a": [1, 2, 3]})
    assert repr(arr) == "LabelledArray('x', a: 2, b: 3, c: 4, shape (2, 3, 4))"
    pd = arr.mean("c").for_phase_diagram(x="a", y="b")
    assert pd["values"].shape == (3, 2) and pd["x"].tolist() == [0, 1] and pd["y"].tolist() == ["u", "v", "w"]
    assert np.array_equal(pd["values"], values.mean(axis=2).T)
    with pytest.raises(ValueError, match=r"exactly the axes \('a', 'c'\)"):
        arr.mean("b").mean("c").for_phase_diagram(x="a", y="c")
