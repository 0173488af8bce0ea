"""A lecturer can remove any chapter (or keep only two) and the book still builds with -W.

Each test is one scenario of `tools/check_removal.py`: in a scratch copy of the repository (never
the repository itself) it removes chapters with `tools/remove_chapter.py`, builds the book from the
stored outputs with warnings as errors and runs `tools/check_build.py` there (~15 s a build, nothing
executed). Also unit tests of the table-of-contents and landing-page edits.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_removal  # noqa: E402
from remove_chapter import (chapter_name, remove_from_landing_page, remove_from_toc,  # noqa: E402
                            toc_chapters)

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"
SCENARIOS = check_removal.scenarios()
IN_GIT = shutil.which("git") is not None and subprocess.run(
    ["git", "rev-parse"], cwd=ROOT, capture_output=True).returncode == 0
needs_git = pytest.mark.skipif(not IN_GIT, reason="the scratch copy is made from a git checkout")


def test_every_chapter_has_a_scenario_and_is_a_course_chapter():
    chapters = check_removal.chapters()
    assert chapters, "no chapter in _toc.yml"
    assert {f"without:{c}" for c in chapters} <= set(SCENARIOS)
    assert ("keep-two" in SCENARIOS) == all(c in chapters for c in check_removal.KEEP_TWO)
    listed = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]["course_chapters"]
    missing = [c for c in chapters if c not in listed]
    assert not missing, (f"chapters of _toc.yml missing from _config.yml's sphinx.config.course_chapters "
                         f"(links to them would fail the build once they are removed): {missing}")


@needs_git
@pytest.mark.skipif(not JUPYTER_BOOK.exists(), reason="needs jupyter-book in this environment")
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_book_builds_without(name):
    result = check_removal.run_scenario(name, SCENARIOS[name], jupyter_book=str(JUPYTER_BOOK))
    assert result.ok, f"{result.line()}\n{result.log[-5000:]}"


TOC = """\
# a comment
format: jb-book
root: book/intro
parts:
  - caption: One
    chapters:
      - file: book/01_a/01_x
  - caption: Two
    numbered: false
    chapters:
      - file: book/02_b/01_y   # kept comment
      - file: book/02_b/02_z
        title: Zed
  - caption: Back matter
    chapters:
      - file: book/bibliography
"""


def test_remove_from_toc_keeps_the_rest_and_drops_empty_parts():
    one = remove_from_toc(TOC, "book/01_a/01_x")
    assert "caption: One" not in one and "# a comment" in one
    assert toc_chapters(one) == ["book/02_b/01_y", "book/02_b/02_z", "book/bibliography"]
    two = remove_from_toc(TOC, "book/02_b/02_z")
    assert "title: Zed" not in two and "# kept comment" in two and "caption: Two" in two
    assert toc_chapters(two) == ["book/01_a/01_x", "book/02_b/01_y", "book/bibliography"]
    both = remove_from_toc(remove_from_toc(two, "book/02_b/01_y"), "book/01_a/01_x")
    assert yaml.safe_load(both)["parts"] == [{"caption": "Back matter",
                                              "chapters": [{"file": "book/bibliography"}]}]
    with pytest.raises(ValueError, match="not"):
        remove_from_toc(TOC, "book/01_a/01_xx")


def test_remove_from_landing_page_drops_only_lines_of_removed_chapters():
    page = """\
# Course

- [Chapter X](01_a/01_x.ipynb): about x,
  continued on a second line.
- [Chapter Y](02_b/01_y.ipynb) and {doc}`Z <02_b/02_z>`.
1. **Part one** — see [X](01_a/01_x.ipynb#sec) and [Y](02_b/01_y.ipynb).
- [The bibliography](bibliography.md)

Text with [X](01_a/01_x.ipynb) stays.
"""
    out = remove_from_landing_page(page, "book/intro", {"book/01_a/01_x"})
    assert "Chapter X" not in out and "continued on" not in out
    assert "Chapter Y" in out and "**Part one**" in out and "The bibliography" in out
    assert "Text with [X]" in out
    out2 = remove_from_landing_page(page, "book/intro", {"book/02_b/01_y", "book/02_b/02_z"})
    assert "Chapter Y" not in out2 and "Chapter X" in out2 and "**Part one**" in out2


def test_remove_from_landing_page_drops_a_part_left_without_chapters():
    page = """\
## Map of the course

Two parts.

### 1. Foundations

What part one is about.

- [Chapter X](01_a/01_x.ipynb)

### 2. More

- [Chapter Y](02_b/01_y.ipynb)
- [Chapter Z](02_b/02_z.ipynb)

### Back matter

The [bibliography](bibliography.md).

## Conventions
"""
    out = remove_from_landing_page(page, "book/intro", {"book/01_a/01_x"})
    assert "Foundations" not in out and "What part one" not in out
    assert "## Map of the course" in out and "Two parts." in out
    assert "### 1. More" in out and "### 2." not in out  # numbered again, no gap
    assert "### Back matter" in out and "## Conventions" in out
    out2 = remove_from_landing_page(page, "book/intro", {"book/02_b/01_y"})
    assert "### 2. More" in out2 and "Chapter Z" in out2 and "Chapter Y" not in out2


def test_chapter_name_accepts_paths_with_suffixes():
    assert chapter_name("./book/01_a/01_x.py") == "book/01_a/01_x"
    assert chapter_name("book/01_a/01_x.ipynb") == "book/01_a/01_x"
    with pytest.raises(ValueError):
        chapter_name("01_x")


@needs_git
def test_remove_chapter_tool_in_a_scratch_copy(tmp_path):
    copy = tmp_path / "copy"
    check_removal.scratch_copy(copy)
    assert not (copy / ".venv").exists() and not (copy / "_build").exists()
    chapter = check_removal.chapters()[0]
    run = subprocess.run([sys.executable, "tools/remove_chapter.py", chapter + ".py"], cwd=copy,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not (copy / (chapter + ".py")).exists() and not (copy / (chapter + ".ipynb")).exists()
    student = copy / "student" / Path(chapter).relative_to("book").with_suffix(".ipynb")
    assert not student.exists()
    assert chapter not in toc_chapters((copy / "_toc.yml").read_text())
    assert (ROOT / (chapter + ".py")).exists()  # the repository is untouched
    again = subprocess.run([sys.executable, "tools/remove_chapter.py", chapter], cwd=copy,
                           capture_output=True, text=True)
    assert again.returncode == 2 and "not in _toc.yml" in again.stderr
