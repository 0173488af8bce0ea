"""The linter: ``ruff check`` finds nothing in the package, the tests, the tools, the book's Sphinx
extensions and the chapter sources (the rules and exceptions are in pyproject.toml, [tool.ruff]).

ruff is pinned in requirements.txt (a new release brings new rules); `ruff check --fix` repairs most findings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_ruff_finds_nothing():
    if _ruff("--version").returncode != 0:
        pytest.fail("ruff is not installed: pip install -r requirements.txt (it pins ruff)")
    result = _ruff("check", "--no-cache", "--output-format", "concise", ".")
    assert result.returncode == 0, f"ruff check . found problems (fix them, or `ruff check --fix .`):\n" \
                                   f"{result.stdout[-6000:]}{result.stderr[-2000:]}"


def test_ruff_checks_the_chapter_sources_and_not_the_generated_notebooks():
    """The configuration is the one in pyproject.toml: the chapters' .py sources are linted, the notebooks
    (generated from them by jupytext) and the built book are not."""
    files = _ruff("check", "--no-cache", "--show-files", ".").stdout.splitlines()
    names = {Path(f.strip()).relative_to(ROOT).as_posix() for f in files if f.strip().startswith(str(ROOT))}
    assert "src/course_utils/theory/kernels.py" in names
    assert any(n.startswith("book/") and n.endswith(".py") for n in names)
    assert not any(n.endswith(".ipynb") for n in names)
    assert not any(n.startswith(("_build/", "student/", ".venv/")) for n in names)


CHAPTERS = sorted(p for p in (ROOT / "book").glob("*/*.py"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapters_follow_the_naming_convention(chapter):
    """One convention for every chapter (README, "To write a new chapter"): the parameters are ``P =
    cu.scaled(...)``; the theory module written for the chapter is imported ``as theory``, any other theory
    module under its own name (no abbreviations such as ``lw`` or ``nc``)."""
    import re
    text = chapter.read_text(encoding="utf-8")
    assert re.search(r"(?m)^P = cu\.scaled\(", text), f"{chapter.name}: the parameters cell must assign P = cu.scaled(...)"
    assert not re.search(r"(?m)^params = cu\.scaled\(", text)
    aliases = re.findall(r"(?m)^from course_utils\.theory import (\w+) as (\w+)$", text)
    assert all(alias == "theory" for _, alias in aliases), f"{chapter.name}: theory modules imported as {aliases}"
    assert len(aliases) <= 1, f"{chapter.name}: only the chapter's own theory module is imported as theory"
