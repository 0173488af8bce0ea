"""Interactive explorers: a figure with sliders, live in Jupyter and on Colab, static in the book.

An explorer is a function that draws one figure from a few named values, plus the range of each value::

    explorer = Explorer(draw_double_descent, {
        "noise": Slider(0.0, 1.0, default=0.3, label="label noise σ"),
        "ridge": Slider(1e-4, 10.0, default=1e-3, log=True, label="ridge λ"),
    }, title="Double descent")
    explorer.show()

``draw(**values)`` must return a :class:`matplotlib.figure.Figure` and should answer within a second
(theory functions or precomputed ensembles, never training). :meth:`Explorer.show` draws live sliders in a
Jupyter kernel (notebook, Colab) and only the default figure where there is no one to move them: in the
stored book and the test runs (``COURSE_WIDGETS=off``) and in a script. :meth:`Explorer.variants` stores a
few precomputed settings of one value that the static page switches between without a kernel.
:meth:`Explorer.figure` is the callback itself, for tests.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import numbers
import os
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .plotting import PAGE_WIDTH, _in_notebook

__all__ = ["Slider", "Choice", "Explorer", "widgets_enabled"]


@dataclass(frozen=True)
class Slider:
    """A number between ``low`` and ``high``; ``log=True`` spaces it logarithmically, ``integer=True`` rounds it."""

    low: float
    high: float
    default: float
    log: bool = False
    integer: bool = False
    label: str = ""
    steps: int = 100

    def __post_init__(self) -> None:
        for name in ("low", "high", "default"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ValueError(f"Slider {name} must be a finite number, got {value!r}")
        if not self.low < self.high:
            raise ValueError(f"Slider needs low < high, got low={self.low!r}, high={self.high!r}")
        if not self.low <= self.default <= self.high:
            raise ValueError(f"Slider default {self.default!r} is outside [{self.low!r}, {self.high!r}]")
        if self.log and self.low <= 0:
            raise ValueError(f"a log Slider needs low > 0, got low={self.low!r}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 2:
            raise ValueError(f"Slider steps must be an integer >= 2, got {self.steps!r}")

    def validate(self, name: str, value: Any) -> float | int:
        """Return ``value`` as a number inside the range, or raise a ``ValueError`` naming ``name``."""
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number in [{self.low}, {self.high}], got {value!r}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{name} = {value!r} is outside the explorer's range [{self.low}, {self.high}]")
        return int(round(value)) if self.integer else float(value)

    def describe(self) -> str:
        scale = ", log scale" if self.log else ""
        return f"{self.label or 'value'} from {self.low:g} to {self.high:g}{scale}"

    def widget(self, name: str):
        import ipywidgets as w
        common = dict(description=self.label or name, continuous_update=False,
                      style={"description_width": "initial"}, layout=w.Layout(width="95%"))
        if self.integer:
            return w.IntSlider(value=int(self.default), min=int(self.low), max=int(self.high), **common)
        if self.log:
            lo, hi = math.log10(self.low), math.log10(self.high)
            return w.FloatLogSlider(value=self.default, base=10, min=lo, max=hi, step=(hi - lo) / self.steps,
                                    readout_format=".3g", **common)
        return w.FloatSlider(value=self.default, min=self.low, max=self.high,
                             step=(self.high - self.low) / self.steps, readout_format=".3g", **common)


@dataclass(frozen=True)
class Choice:
    """One of a few ``options`` (numbers or names)."""

    options: Sequence[Any]
    default: Any
    label: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.options, (str, bytes)) or not isinstance(self.options, Sequence) or not self.options:
            raise ValueError(f"Choice options must be a non-empty list, got {self.options!r}")
        if self.default not in self.options:
            raise ValueError(f"Choice default {self.default!r} is not one of {list(self.options)!r}")

    def validate(self, name: str, value: Any) -> Any:
        if value not in self.options:
            raise ValueError(f"{name} must be one of {list(self.options)!r}, got {value!r}")
        return value

    def describe(self) -> str:
        return f"{self.label or 'choice'} among {', '.join(str(o) for o in self.options)}"

    def widget(self, name: str):
        import ipywidgets as w
        return w.Dropdown(options=list(self.options), value=self.default, description=self.label or name,
                          style={"description_width": "initial"}, layout=w.Layout(width="95%"))


def widgets_enabled() -> bool:
    """Live sliders: in a Jupyter kernel with ipywidgets, unless ``COURSE_WIDGETS=off`` (stored and test runs)."""
    if os.environ.get("COURSE_WIDGETS", "").strip().lower() in {"off", "0", "no", "false"}:
        return False
    if not _in_notebook():
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Explorer:
    """A figure drawn by ``draw(**values)`` with one control per value (see the module docstring)."""

    draw: Callable[..., Figure]
    controls: Mapping[str, Slider | Choice]
    title: str = ""
    defaults: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        if not callable(self.draw):
            raise ValueError(f"draw must be a function returning a matplotlib Figure, got {self.draw!r}")
        if not isinstance(self.controls, Mapping) or not self.controls:
            raise ValueError("controls must be a non-empty dict {name: Slider(...) or Choice(...)}")
        for name, control in self.controls.items():
            if not isinstance(control, (Slider, Choice)):
                raise ValueError(f"control {name!r} must be a Slider or a Choice, got {control!r}")
        self.defaults = {name: c.validate(name, c.default) for name, c in self.controls.items()}

    def values(self, **values: Any) -> dict[str, Any]:
        """The defaults, updated with ``values`` (each checked against its control)."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"unknown value(s) {unknown}: this explorer has {sorted(self.controls)}")
        full = dict(self.defaults)
        full.update({name: self.controls[name].validate(name, v) for name, v in values.items()})
        return full

    def figure(self, **values: Any) -> Figure:
        """The callback: draw the figure at these values (the defaults for the others) and return it."""
        fig = self.draw(**self.values(**values))
        if not isinstance(fig, Figure):
            raise ValueError(f"draw must return a matplotlib Figure, got {type(fig).__name__}")
        if self.title and not fig._suptitle:
            fig.suptitle(self.title)
        return fig

    def describe(self) -> str:
        return "; ".join(c.describe() for c in self.controls.values())

    def show(self, live: bool | None = None) -> None:
        """Sliders and the live figure in a Jupyter kernel; elsewhere the default figure and what it can do."""
        from IPython.display import display
        if live is None:
            live = widgets_enabled()
        if not live:
            fig = self.figure()
            if _in_notebook():
                display(fig)
                plt.close(fig)
            else:
                plt.show()
            print(textwrap.fill(f"Explorer: run this notebook (Jupyter or Colab) to move the sliders: "
                                f"{self.describe()}.", width=100))
            return
        import ipywidgets as w
        from IPython.display import clear_output
        controls = {name: c.widget(name) for name, c in self.controls.items()}
        out = w.Output()

        def redraw(_change=None) -> None:
            with out:
                clear_output(wait=True)
                try:
                    fig = self.figure(**{n: c.value for n, c in controls.items()})
                except ValueError as err:    # a value the theory cannot take: say so instead of a traceback
                    print(f"cannot draw at these values: {err}")
                    return
                display(fig)
                plt.close(fig)

        for c in controls.values():
            c.observe(redraw, names="value")
        grid = w.GridBox(list(controls.values()), layout=w.Layout(grid_template_columns="repeat(2, 50%)"))
        display(w.VBox([grid, out]))
        redraw()

    def variants(self, name: str, options: Sequence[Any], **fixed: Any):
        """Precomputed figures at a few values of ``name`` that a static page switches between, no kernel needed.

        Returns an HTML object (buttons and images, switched by CSS alone) to display; the other values
        are the defaults, updated with ``fixed``.
        """
        if name not in self.controls:
            raise ValueError(f"name must be one of {sorted(self.controls)}, got {name!r}")
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence) or not 2 <= len(options) <= 8:
            raise ValueError(f"options must be a list of 2 to 8 values of {name}, got {options!r}")
        if name in fixed:
            raise ValueError(f"{name} is the value that varies: don't fix it")
        key = hashlib.sha1(repr((self.title, name, list(options), sorted(fixed.items()))).encode()).hexdigest()[:10]
        box = f"course-variants-{key}"
        label = self.controls[name].label or name
        buttons, images, rules = [], [], []
        for i, value in enumerate(options):
            fig = self.figure(**{**fixed, name: value})
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=150)
            plt.close(fig)
            png = base64.b64encode(buf.getvalue()).decode("ascii")
            checked = " checked" if i == 0 else ""
            buttons.append(f'<input type="radio" name="{box}" id="{box}-{i}"{checked}>'
                           f'<label for="{box}-{i}">{html.escape(f"{label} = {value:g}" if isinstance(value, numbers.Real) else f"{label} = {value}")}</label>')
            images.append(f'<img class="v{i}" alt="{html.escape(label)} = {html.escape(str(value))}" '
                          f'src="data:image/png;base64,{png}">')
            rules.append(f"#{box} #{box}-{i}:checked ~ img.v{i} {{display: block;}}")
        style = (f"#{box} input {{position: absolute; opacity: 0;}}"
                 f"#{box} label {{display: inline-block; margin: 0 .4em .4em 0; padding: .15em .6em;"
                 f" border: 1px solid #888; border-radius: 4px; cursor: pointer; font-size: 90%;}}"
                 f"#{box} input:checked + label {{background: #0072B2; color: white; border-color: #0072B2;}}"
                 f"#{box} img {{display: none; width: 100%; max-width: {int(PAGE_WIDTH * 100)}px;}}"
                 + "".join(rules))
        return _Variants(f'<div id="{box}" class="course-variants"><style>{style}</style>'
                         + "".join(buttons) + "".join(images) + "</div>", n=len(options), name=label)


def _variants_class():
    from IPython.display import HTML

    class Variants(HTML):
        """Precomputed figures as HTML; as text (a script, a terminal) it says what it holds instead of a repr."""

        def __init__(self, data: str, *, n: int, name: str) -> None:
            super().__init__(data)
            self.summary = f"({n} precomputed figures at other values of {name}: shown in a notebook or the book)"

        def __repr__(self) -> str:
            return self.summary

    return Variants


def _Variants(data: str, *, n: int, name: str):
    return _variants_class()(data, n=n, name=name)
