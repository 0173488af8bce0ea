"""What every explorer's tests ask of it: a redraw within a second of CPU, and live controls that build."""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import pytest


def redraw_cpu_seconds(explorer, values: dict, repeats: int = 3) -> float:
    """The least CPU time (s) of ``repeats`` redraws at ``values``: CPU time, so a loaded machine does not inflate it."""
    times = []
    for _ in range(repeats):
        start = time.process_time()
        explorer.figure(**values)
        times.append(time.process_time() - start)
        plt.close("all")
    return min(times)


def live_controls(explorer, monkeypatch) -> tuple[tuple, list]:
    """Show ``explorer`` live with ``IPython.display.display`` captured.

    Returns its controls (widgets, in order) and the list of what it displayed, which grows by a
    figure each time a control's value changes.
    """
    pytest.importorskip("ipywidgets")
    import ipywidgets as w
    from IPython import display as ipd
    shown = []
    monkeypatch.setattr(ipd, "display", lambda *a, **k: shown.extend(a))
    explorer.show(live=True)
    box = next(o for o in shown if isinstance(o, w.VBox))
    return box.children[0].children, shown
