"""The course's own invariants for chapters: each notebook is paired with its text source, stored
executed by the current code (its fingerprint is fresh), portable in what nbval compares, and installs
course_utils from the repository named in _config.yml."""

from __future__ import annotations

import json
import pathlib
import re
import sys

import jupytext
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from freshness import stale_reasons  # noqa: E402
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
BAR = re.compile(r"\|\s*(\d+)/(\d+) \[")   # a tqdm text bar: "…| 8000/8001 [00:46<00:00, …]"


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebook found under book/"


def _cells(nb) -> list[tuple[str, str]]:
    return [(c["cell_type"], "".join(c["source"]).strip()) for c in nb["cells"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_agrees_with_text_source(path):
    source = path.with_suffix(".py")
    assert source.exists(), f"{path.name} has no paired text source {source.name}"
    from_text = jupytext.read(source)
    stored = json.loads(path.read_text())
    assert _cells(stored) == [(c.cell_type, c.source.strip()) for c in from_text.cells], (
        f"{path.name} and {source.name} differ: edit one, then run `jupytext --sync {source}`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_stored_executed(path):
    stored = json.loads(path.read_text())
    code = [c for c in stored["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    assert code, f"{path.name} has no code"
    never_run = [i for i, c in enumerate(code) if c.get("execution_count") is None]
    assert not never_run, f"{path.name}: code cells {never_run} were never executed; run `make chapter CH=...`"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name} was not executed top to bottom in one fresh kernel (execution counts {counts})")
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{path.name} stores an error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_colab_cell_installs_from_the_configured_repository(path):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    stored = json.loads(path.read_text())
    first_code = next(c for c in stored["cells"] if c["cell_type"] == "code")
    src = "".join(first_code["source"])
    assert "google.colab" in src, f"{path.name}: the first code cell must be the Colab set-up cell"
    assert f"git+{url}" in src, f"{path.name}: the Colab cell must install from {url} (see _config.yml)"
    version = re.search(r'^version\s*=\s*"([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    pins = re.findall(r'os\.environ\.get\("COURSE_REF", "([^"]*)"\)', src)
    assert pins == [f"v{version}"], (
        f"{path.name}: the Colab cell must install the release v{version} (pyproject.toml's version), "
        f"`os.environ.get(\"COURSE_REF\", \"v{version}\")`, not {pins or 'the newest code'}: "
        "`python tools/release.py pin`, or re-execute the chapter after editing its .py")
    assert "hide-input" in first_code.get("metadata", {}).get("tags", []), (
        f"{path.name}: tag the set-up cell 'hide-input'")
    assert not re.search(r"pip[^\n]*\b(torch|numpy|matplotlib)\b", src), (
        f"{path.name}: the Colab cell must not reinstall torch, numpy or matplotlib")


def test_toc_lists_every_chapter_and_only_existing_files():
    toc = (ROOT / "_toc.yml").read_text()
    listed = set(re.findall(r"file:\s*([^\s#]+)", toc))
    for ref in listed:
        assert any((ROOT / (ref + ext)).exists() for ext in (".md", ".ipynb")), f"_toc.yml names missing {ref}"
    for nb in NOTEBOOKS:
        ref = str(nb.relative_to(ROOT).with_suffix(""))
        assert ref in listed, f"{ref} is not in _toc.yml"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_are_fresh(path):
    """The stored outputs were made by the current code: the chapter's and the course_utils modules'."""
    reasons = stale_reasons(json.loads(path.read_text()))
    source = path.relative_to(ROOT).with_suffix(".py")
    assert not reasons, (f"{path.relative_to(ROOT)} stores outputs of older code: " + "; ".join(reasons)
                         + f". Re-execute it: make chapter CH={source}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_outputs_show_no_widgets_or_overwritten_text(path):
    """Progress bars are stored as text in their final state (make chapter sets COURSE_PROGRESS=text)."""
    stored = json.loads(path.read_text())
    for i, cell in enumerate(stored["cells"]):
        for out in cell.get("outputs", []):
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), (
                f"{path.name}: cell {i} stores a widget (a stale progress bar in the book); run `make chapter`")
            if out.get("output_type") == "stream":
                text = "".join(out["text"])
                assert "\r" not in text, f"{path.name}: cell {i} stores a carriage return"
                for n, total in BAR.findall(text):
                    assert n == total, (f"{path.name}: cell {i} stores a progress bar stopped at {n}/{total} "
                                        "(a loop that breaks before its bar completes, or a bar stored mid-run)")
        outs = cell.get("outputs", [])
        for a, b in zip(outs, outs[1:]):
            assert not (a.get("output_type") == b.get("output_type") == "stream" and a["name"] == b["name"]), (
                f"{path.name}: cell {i} stores consecutive outputs of one stream (clean it: tools/clean_notebook.py)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_compared_cells_are_marked_and_portable(path):
    """nbval runs in lax mode: only cells tagged `nbval-check-output` are compared with their stored
    outputs. Those must print nothing that depends on the seed or the CPU: the parameters cell is
    compared in every chapter; a check line (✓ …) or a progress bar is never compared."""
    stored = json.loads(path.read_text())
    compared = [c for c in stored["cells"] if c["cell_type"] == "code"
                and "nbval-check-output" in c.get("metadata", {}).get("tags", [])]
    assert any("cu.scaled(" in "".join(c["source"]) for c in compared), (
        f"{path.name}: tag the parameters cell `nbval-check-output` (its output is the same everywhere)")
    for c in compared:
        for out in c.get("outputs", []):
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            assert "✓" not in text and "it/s" not in text, (
                f"{path.name}: a compared cell prints a check or a progress bar, which vary with the seed and CPU")
