"""The student notebooks (student/<part>/<chapter>.ipynb): the chapters without their solutions,
made by tools/make_student_notebooks.py from the stored chapter notebooks."""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import sys
from collections import Counter
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_student_notebooks as msn  # noqa: E402

CHAPTERS = msn.chapters()
IDS = [str(p.relative_to(ROOT)) for p in CHAPTERS]
EXERCISE = re.compile(r"^ {0,3}(?::{3,}|`{3,})\{exercise(?:-start)?\}", re.M)


def _text(cell: dict) -> str:
    return msn._source(cell)


def _student(chapter: Path) -> dict:
    path = msn.student_path(chapter)
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make student`"
    return json.loads(path.read_text(encoding="utf-8"))


def _answer_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if "answer" in c.get("metadata", {}).get("course", {})]


def test_there_are_chapters():
    assert CHAPTERS, "_toc.yml lists no chapter notebook"


def test_committed_student_notebooks_are_what_the_tool_makes(tmp_path):
    """Regenerate every student notebook from the stored chapters and compare, byte for byte."""
    assert msn.main(["--out", str(tmp_path)]) == 0
    made = {p.relative_to(tmp_path) for p in tmp_path.rglob("*.ipynb")}
    committed = {p.relative_to(msn.STUDENT) for p in msn.STUDENT.rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in p.parts} if msn.STUDENT.exists() else set()
    assert made == committed, (f"student/ differs from the chapters: missing {sorted(map(str, made - committed))}, "
                               f"extra {sorted(map(str, committed - made))}; run `make student`")
    stale = [str(p) for p in sorted(made) if (tmp_path / p).read_bytes() != (msn.STUDENT / p).read_bytes()]
    assert not stale, f"student notebooks out of date with their chapters: {stale}; run `make student`"


def test_the_tool_is_deterministic():
    chapter = CHAPTERS[0]
    nb = json.loads(chapter.read_text(encoding="utf-8"))
    first = msn.dumps(msn.transform(json.loads(json.dumps(nb)))[0])
    assert first == msn.dumps(msn.transform(nb)[0])


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_student_notebook_has_no_solution(chapter):
    """No solution directive, and no line of a solution that the chapter does not also have elsewhere."""
    book = json.loads(chapter.read_text(encoding="utf-8"))
    student = _student(chapter)
    text = "\n".join(_text(c) for c in student["cells"])
    assert not re.search(r"\{solution(-start|-end)?\}", text), f"{chapter.name}: a solution directive is left"
    _, removed = msn.transform(book)
    assert removed, f"{chapter.name}: no solution was found to remove"

    def lines(texts):
        return Counter(ln.strip() for t in texts for ln in t.splitlines() if len(ln.strip()) >= 30)

    in_book = lines(_text(c) for c in book["cells"])
    in_solutions = lines(part for parts in removed.values() for part in parts)
    in_student = lines(_text(c) for c in student["cells"] if c not in _answer_cells(student))  # checked below
    leaked = [ln for ln, n in in_solutions.items() if in_student[ln] > in_book[ln] - n]
    assert not leaked, f"{chapter.name}: solution text left in the student notebook: {leaked[:3]}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_one_answer_cell_per_exercise(chapter):
    book = json.loads(chapter.read_text(encoding="utf-8"))
    labels = []
    for cell in book["cells"]:
        if cell["cell_type"] == "markdown":
            labels += [p.options["label"] for p in msn.split_markdown(_text(cell))
                       if isinstance(p, msn.Directive) and p.name in ("exercise", "exercise-start")]
    assert len(labels) == len(EXERCISE.findall("\n".join(_text(c) for c in book["cells"]))), (
        f"{chapter.name}: an exercise directive the tool does not see")
    answers = [c["metadata"]["course"]["answer"] for c in _answer_cells(_student(chapter))]
    assert answers == labels, f"{chapter.name}: answer cells {answers}, exercises {labels}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_student_notebook_is_clean_and_unpaired(chapter):
    student = _student(chapter)
    for i, cell in enumerate(student["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{chapter.name}: cell {i} has outputs"
    assert "jupytext" not in student["metadata"], f"{chapter.name}: a student notebook must not be paired"
    assert student["metadata"]["course"]["student_version_of"] == chapter.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_answer_cells_run_empty_and_give_a_not_yet_verdict(chapter):
    """Each code answer cell, run as it is (nothing answered), prints ✗ and raises nothing; every
    checker it calls exists in the chapter's exercises module."""
    student = _student(chapter)
    setup = _text(next(c for c in student["cells"] if c["cell_type"] == "code"))
    module = re.search(r"from course_utils\.exercises import (\w+) as exercises", setup)
    cells = [c for c in _answer_cells(student) if c["cell_type"] == "code"]
    if not cells:
        return
    assert module, f"{chapter.name}: answer cells call `exercises`, which the set-up cell does not import"
    exercises = importlib.import_module(f"course_utils.exercises.{module.group(1)}")
    questions = "\n".join(_text(c) for c in student["cells"] if c["cell_type"] == "markdown")
    for cell in cells:
        source = _text(cell)
        for name in re.findall(r"exercises\.(check_\w+)\(", source):
            assert hasattr(exercises, name), f"{chapter.name}: {exercises.__name__} has no {name}"
        for line in source.splitlines():   # nothing but placeholders, guards and the questions' checker calls
            code = line.split("#")[0].strip()
            assert (not code or re.fullmatch(r"\w+ = \.\.\.|if .+ is \.\.\.:|else:|print\(\"✗ [^\"]*\"\)", code)
                    or f"`{code}`" in questions), f"{chapter.name}: unexpected answer-cell line {line!r}"
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(source, f"<answer cell {cell['metadata']['course']['answer']}>", "exec"),
                 {"exercises": exercises})
        if "exercises.check_" in source:
            assert "✗" in out.getvalue() and "✓" not in out.getvalue(), (
                f"{chapter.name}: an empty answer cell printed {out.getvalue()!r}")


def _slug_branch() -> tuple[str, str]:
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return repository["url"].removeprefix("https://github.com/").strip("/"), repository.get("branch", "main")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_chapter_links_to_its_student_notebook(chapter):
    """The chapter's opening text (its .py source) links to its own student notebook on Colab."""
    slug, branch = _slug_branch()
    url = (f"https://colab.research.google.com/github/{slug}/blob/{branch}/"
           f"student/{chapter.relative_to(msn.BOOK).as_posix()}")
    opening = next(c for c in jupytext.read(chapter.with_suffix(".py")).cells if c.cell_type == "markdown")
    assert url in opening.source, f"{chapter.with_suffix('.py').name}: its opening text must link to {url}"
    assert msn.STUDENT_LINK.search(opening.source), (
        f"{chapter.with_suffix('.py').name}: start the line with **Exercises on Colab:**")


# A small hand-made chapter: every way the chapters write exercises and solutions.
def _md(text):
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code(text, outputs=()):
    return {"cell_type": "code", "metadata": {"tags": ["t"]}, "execution_count": 3, "outputs": list(outputs),
            "source": text}


HAND_MADE = {
    "metadata": {"kernelspec": {"name": "python3"}, "jupytext": {"formats": "ipynb,py:percent"},
                 "course": {"fingerprint": {}}},
    "nbformat": 4, "nbformat_minor": 5,
    "cells": [
        _md("# Title\n\nIntro.\n\n**Exercises on Colab:** the [student version](https://x/student/a.ipynb)\n"
            "of this chapter.\n\n**Next** paragraph."),
        _code("import numpy as np\nx = np.ones(3)", [{"output_type": "stream", "name": "stdout", "text": "hi"}]),
        _md(":::{exercise} Pen and paper\n:label: ex-a\n\nDerive it.\n:::\n\n"
            ":::{solution} ex-a\n:class: dropdown\n\nThe derivation of the first answer is long.\n"
            "```python\n:::\n```\n:::\n\n"
            ":::{exercise} Write a function\n:label: ex-b\n\nWrite `f(x, y)` and check it with "
            "`exercises.check_f(f)`.\n:::\n\n:::{solution-start} ex-b\n:class: dropdown\n:::\n\n"
            "Solution text of exercise b, hidden from students."),
        _code("def f(x, y):\n    return x + y\n\n\nhelper_from_solution = 1\nexercises.check_f(f)"),
        _md("More solution prose for exercise b, hidden too.\n\n:::{solution-end}\n:::\n\n"
            ":::{exercise} Hand-computed values\n:label: ex-c\n\nCompute `a` and check with "
            "`exercises.check_ab(a, 1.0)`.\n:::\n\n:::{solution} ex-c\n:class: dropdown\n\nBy hand, a is two.\n:::"),
        _code("exercises.check_ab(2.0, 1.0)"),
        _md(":::{exercise} Code without a checker\n:label: ex-d\n:nonumber:\n\nPlot it.\n:::\n\n"
            ":::{solution-start} ex-d\n:::"),
        _code("plotted = x * 2"),
        _md(":::{solution-end}\n:::\n\n## Summary\n\nDone."),
        _code("print(x)"),
    ],
}


def test_transform_of_a_hand_made_notebook():
    student, removed = msn.transform(json.loads(json.dumps(HAND_MADE)), "book/p/a.ipynb",
                                     "https://github.com/o/r", "main")
    cells = [(c["cell_type"], "".join(c["source"])) for c in student["cells"]]
    kinds = [k for k, _ in cells]
    assert kinds == ["markdown", "code", "markdown", "markdown", "markdown", "code", "markdown", "code",
                     "markdown", "code", "markdown", "code"], cells
    text = "\n".join(s for _, s in cells)
    for hidden in ("derivation of the first", "Solution text of exercise b", "More solution prose",
                   "return x + y", "helper_from_solution", "check_ab(2.0", "a is two", "plotted = x"):
        assert hidden not in text, hidden
    assert "solution" not in text.replace("the solutions", "")
    # the link line becomes the note about the student version, the rest of the intro is kept
    assert cells[0][1].startswith("# Title\n\nIntro.\n\n**Student version:**")
    assert "https://colab.research.google.com/github/o/r/blob/main/book/p/a.ipynb" in cells[0][1]
    assert cells[0][1].endswith("**Next** paragraph.")
    # exercise headings numbered within the chapter; :nonumber: respected
    assert cells[2][1] == "### Exercise 1: Pen and paper\n\nDerive it."
    assert "✎" in cells[3][1] and student["cells"][3]["metadata"] == {"course": {"answer": "ex-a"}}
    assert cells[4][1].startswith("### Exercise 2: Write a function")
    assert "f = ...  # the function f(x, y)" in cells[5][1]
    assert cells[6][1].startswith("### Exercise 3: Hand-computed values")
    assert "a = ...  # your answer" in cells[7][1] and "exercises.check_ab(a, 1.0)" in cells[7][1]
    assert cells[8][1].startswith("### Exercise: Code without a checker")
    assert cells[9][1].startswith("# ✎") and "\n" in cells[9][1]        # comment only: runs as it is
    assert cells[10][1] == "## Summary\n\nDone." and cells[11][1] == "print(x)"
    assert set(removed) == {"ex-a", "ex-b", "ex-c", "ex-d"}
    # outputs cleared, tags kept, jupytext metadata gone, ids renumbered
    assert student["cells"][1]["outputs"] == [] and student["cells"][1]["execution_count"] is None
    assert student["cells"][1]["metadata"] == {"tags": ["t"]}
    assert "jupytext" not in student["metadata"] and "fingerprint" not in student["metadata"]["course"]
    assert [c["id"] for c in student["cells"]] == [f"cell-{i}" for i in range(len(cells))]

    # the empty answer cells run: ✗, no traceback; a real answer reaches the checker
    calls = []

    class Exercises:
        @staticmethod
        def check_f(fn):
            calls.append(fn(1, 2))

        @staticmethod
        def check_ab(a, b):
            calls.append((a, b))

    for i in (5, 7):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(cells[i][1], {"exercises": Exercises})
        assert out.getvalue().startswith("✗ not answered yet")
    exec(cells[7][1].replace("a = ...", "a = 2.0"), {"exercises": Exercises})
    assert calls == [(2.0, 1.0)]


def test_a_cell_that_needs_a_solution_is_refused():
    nb = json.loads(json.dumps(HAND_MADE))
    nb["cells"][-1]["source"] = "print(helper_from_solution)"
    with pytest.raises(msn.StudentNotebookError, match="helper_from_solution"):
        msn.transform(nb)
    nb["cells"][-1]["source"] = "print(a)"          # a placeholder of an answer cell above
    with pytest.raises(msn.StudentNotebookError, match="reads a"):
        msn.transform(nb)
    nb["cells"][-1]["source"] = "a = 3\nprint(a)"   # bound again before it is read: fine
    msn.transform(nb)


def test_split_markdown_keeps_nested_fences_inside_a_directive():
    pieces = msn.split_markdown("text\n::::{exercise} T\n:label: l\n\n:::{hint}\nh\n:::\n```\n:::\n```\n::::\nafter\n")
    assert pieces[0] == "text\n" and pieces[2] == "after\n"
    assert pieces[1].name == "exercise" and pieces[1].options == {"label": "l"}
    assert pieces[1].body == ":::{hint}\nh\n:::\n```\n:::\n```"


def test_a_checker_named_but_not_as_a_call_is_refused():
    nb = json.loads(json.dumps(HAND_MADE))
    nb["cells"][2]["source"] = nb["cells"][2]["source"].replace("`exercises.check_f(f)`", "`exercises.check_f(\nf)`")
    with pytest.raises(msn.StudentNotebookError, match="ex-b names a checker"):
        msn.transform(nb)
