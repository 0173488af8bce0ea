"""Make the student notebooks: every chapter without its exercises' solutions.

``book/<part>/<chapter>.ipynb`` (the book's chapter, solutions included, executed) becomes
``student/<part>/<chapter>.ipynb``, the notebook a student opens on Colab from the chapter's
"Exercises on Colab" link:

- every solution is removed: a ``:::{solution}`` directive, everything between
  ``:::{solution-start}`` and ``:::{solution-end}`` (markdown and code cells alike), and the code
  cells right after a ``:::{solution}`` that call the exercise's checker (its reference answer);
- each exercise gets one answer cell right after it (metadata ``course.answer`` = its label):
  where the question names a checker (`` `exercises.check_…(…)` ``), a code cell that sets each
  answer to ``...`` and calls the checker once the student has replaced the ``...`` (until then it
  prints a ✗ verdict instead of raising); where the solution was code without a checker, a code
  cell with a comment; otherwise a markdown cell for the written answer;
- exercise directives become plain headings ("Exercise 1: …", numbered per chapter), since Jupyter
  and Colab do not render MyST directives;
- the chapter's "Exercises on Colab" line becomes a note that this is the student version, with a
  link to the full chapter;
- outputs and execution counts are cleared: the student runs every cell (Runtime → Run all), the
  repository stays small, and the student notebooks change only when a chapter's text or code
  does, not each time a chapter is re-executed;
- everything else (text, code, cell tags) is kept, and the notebook is no longer paired with a
  jupytext text source.

A later code cell that reads a name only a removed solution (or an answer placeholder) defines
would fail in the student notebook: the tool refuses to write it and names the cell.

The output depends only on the input notebooks' cells and metadata: running the tool twice gives
identical files (``tests/test_student_notebooks.py`` regenerates them and compares).

Usage: python tools/make_student_notebooks.py [book/<part>/<chapter>.ipynb ...] [--out student]
(no notebook given: every chapter listed in _toc.yml). Run after ``make chapter`` (``make student``).
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import json
import re
import symtable
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
STUDENT = ROOT / "student"

# A MyST directive opened by a colon or backtick fence: ":::{exercise} Title", "```{solution} label".
OPEN_DIRECTIVE = re.compile(r"^ {0,3}(?P<fence>:{3,}|`{3,}|~{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>.*?)\s*$")
# A plain code fence ("```python") inside which no directive is recognised.
OPEN_CODE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?!.*`)")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*?)\s*$")
# A checker named in an exercise: `exercises.check_something(args)`.
CHECKER_CALL = re.compile(r"`(?P<call>exercises\.check_\w+\(.*?\))`")
# The chapter's paragraph pointing to its student notebook (written by hand in book/*/*.py).
STUDENT_LINK = re.compile(r"^\*\*Exercises on Colab:\*\*.*?(?=\n[ \t]*\n|\Z)", re.M | re.S)
# Cell metadata that only jupytext's pairing uses.
PAIRING_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker")


class StudentNotebookError(ValueError):
    """A chapter whose exercises cannot be turned into a student notebook as written."""


@dataclass
class Directive:
    name: str
    arg: str
    options: dict
    body: str
    raw: str


@dataclass
class Exercise:
    label: str
    title: str
    body: str
    number: int | None
    calls: list[str] = field(default_factory=list)
    solution_has_code: bool = False


def _is_closing(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and len(stripped) >= len(fence)
            and set(stripped) == {fence[0]})


def split_markdown(text: str) -> list[str | Directive]:
    """A markdown cell as a list of top-level pieces: plain text (str) and directives (Directive).

    Directives may nest (their bodies are kept whole) and contain code fences; a directive that is
    never closed runs to the end of the cell, as in MyST.
    """
    lines = text.splitlines(keepends=True)
    pieces: list[str | Directive] = []
    plain: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        opened = OPEN_DIRECTIVE.match(line.rstrip("\n"))
        code = None if opened else OPEN_CODE.match(line)
        if code:  # a plain code fence: copied as text up to its closing fence
            plain.append(line)
            i += 1
            while i < len(lines):
                plain.append(lines[i])
                i += 1
                if _is_closing(lines[i - 1].rstrip("\n"), code["fence"]):
                    break
            continue
        if not opened:
            plain.append(line)
            i += 1
            continue
        if plain:
            pieces.append("".join(plain))
            plain = []
        stack = [(opened["fence"], False)]          # open fences: (fence, is it a plain code block?)
        j = i + 1
        while j < len(lines) and stack:
            inner = lines[j].rstrip("\n")
            fence, in_code = stack[-1]
            if _is_closing(inner, fence):
                stack.pop()
            elif not in_code and OPEN_DIRECTIVE.match(inner):
                stack.append((OPEN_DIRECTIVE.match(inner)["fence"], False))
            elif not in_code and OPEN_CODE.match(inner):
                stack.append((OPEN_CODE.match(inner)["fence"], True))
            j += 1
        block = lines[i:j]
        inner = block[1:-1] if not stack else block[1:]
        options: dict[str, str] = {}
        k = 0
        while k < len(inner) and OPTION.match(inner[k].rstrip("\n")):
            option = OPTION.match(inner[k].rstrip("\n"))
            options[option["key"]] = option["value"]
            k += 1
        pieces.append(Directive(opened["name"], opened["arg"], options, "".join(inner[k:]).strip("\n"),
                                "".join(block)))
        i = j
    if plain:
        pieces.append("".join(plain))
    return pieces


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _strip_magics(code: str) -> str:
    return "\n".join(ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!")))


def _names(code: str) -> tuple[set[str], set[str]]:
    """(global names a piece of code binds, global names it reads), from Python's symbol tables.

    A name read inside a function counts when the function reads it as a global; local variables,
    parameters and comprehension variables do not count.
    """
    try:
        table = symtable.symtable(_strip_magics(code), "<cell>", "exec")
    except SyntaxError:
        return set(), set()
    bound = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    read = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    todo = list(table.get_children())
    while todo:
        scope = todo.pop()
        read |= {s.get_name() for s in scope.get_symbols()
                 if s.is_referenced() and (s.is_global() or s.is_declared_global())}
        todo += scope.get_children()
    return bound, read


def _calls_checker(code: str, calls: list[str]) -> bool:
    names = {call.split("(", 1)[0] for call in calls}
    return any(re.search(re.escape(name) + r"\s*\(", code) for name in names)


def _placeholders(call: str) -> list[str]:
    """The answers a checker call takes: its arguments that are bare names, in order."""
    try:
        node = ast.parse(call, mode="eval").body
    except SyntaxError:
        raise StudentNotebookError(f"the checker call `{call}` in an exercise is not valid Python") from None
    if not isinstance(node, ast.Call):
        raise StudentNotebookError(f"`{call}` is not a call")
    names = []
    for arg in [*node.args, *(k.value for k in node.keywords)]:
        if isinstance(arg, ast.Name) and arg.id not in names and not hasattr(builtins, arg.id):
            names.append(arg.id)
    return names


def _described(name: str, body: str) -> str:
    """What the placeholder ``name`` is, from the question: a function with its signature, or a value."""
    signature = re.search(r"`(" + re.escape(name) + r"\([^`]*\))`", body)
    if signature:
        return f"the function {signature.group(1)}: replace this line by its `def`"
    return "your answer"


def _plain(text: str) -> str:
    """A title fit for a one-line comment or print: no line breaks, no $…$ delimiters."""
    return " ".join(text.replace("$", "").split())


def _exercise_heading(ex: Exercise) -> str:
    number = f" {ex.number}" if ex.number is not None else ""
    title = f": {ex.title}" if ex.title else ""
    return f"### Exercise{number}{title}"


def _exercise_name(ex: Exercise) -> str:
    number = f" {ex.number}" if ex.number is not None else ""
    return f"exercise{number}" + (f", \"{_plain(ex.title)}\"" if ex.title else f" {ex.label}")


def answer_cell(ex: Exercise) -> dict:
    """The empty answer cell of an exercise (code with the checker call, or markdown)."""
    metadata = {"course": {"answer": ex.label}}
    if ex.calls:
        names: list[str] = []
        for call in ex.calls:
            names += [n for n in _placeholders(call) if n not in names]
        lines = [f"# ✎ Your answer to {_exercise_name(ex)}.",
                 "# Replace each `...` by your answer and run the cell: the checker says whether it is right."]
        lines += [f"{name} = ...  # {_described(name, ex.body)}" for name in names]
        for call in ex.calls:
            needed = [n for n in _placeholders(call) if n in names]
            lines.append("")
            if needed:
                missing = " or ".join(f"{n} is ..." for n in needed)
                lines += [f"if {missing}:",
                          f"    print(\"✗ not answered yet: replace the ... of {', '.join(needed)} above by your answer\")",
                          "else:",
                          f"    {call}"]
            else:
                lines.append(call)
        return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [],
                "source": "\n".join(lines)}
    if ex.solution_has_code:
        source = (f"# ✎ Your answer to {_exercise_name(ex)}: write the code the question asks for here\n"
                  "# (add cells as you need).")
        return {"cell_type": "code", "execution_count": None, "metadata": metadata, "outputs": [],
                "source": source}
    return {"cell_type": "markdown", "metadata": metadata,
            "source": f"✎ *Your answer to {_exercise_name(ex)}: double-click this cell and write it here.*"}


def _full_chapter_note(rel: str, repository: str, branch: str) -> str:
    """What replaces the chapter's "Exercises on Colab" line in the student notebook."""
    slug = repository.removeprefix("https://github.com/").strip("/")
    url = f"https://colab.research.google.com/github/{slug}/blob/{branch}/{rel}"
    return (f"**Student version:** the solutions of the exercises are removed and no cell has been run yet. "
            f"Run the cells from the top (Colab: Runtime → Run all), then answer each exercise in the ✎ cell "
            f"below it. The full chapter, with the solutions: [{rel}]({url}).")


def _config() -> tuple[str, str]:
    import yaml  # only needed to read the repository of _config.yml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def transform(nb: dict, rel: str = "book/chapter.ipynb", repository: str = "https://github.com/owner/repo",
              branch: str = "main") -> tuple[dict, dict]:
    """The student version of a chapter notebook, and what was removed.

    Returns ``(student, removed)``: ``removed`` maps each exercise label to the solution text and
    code taken out (the tests check none of it is left). ``rel`` is the chapter's path in the
    repository, for the link back to the full chapter.
    """
    # Pass 1: a flat stream of markdown pieces and code cells, and what each exercise is.
    stream: list[tuple[str, int, object]] = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            stream += [("md", index, piece) for piece in split_markdown(_source(cell))]
        else:
            stream.append((cell["cell_type"], index, cell))

    exercises: dict[str, Exercise] = {}
    number = 0
    for kind, _, item in stream:
        if kind == "md" and isinstance(item, Directive) and item.name in ("exercise", "exercise-start"):
            label = item.options.get("label")
            if not label:
                raise StudentNotebookError(f"{rel}: the exercise \"{item.arg}\" has no :label:")
            if label in exercises:
                raise StudentNotebookError(f"{rel}: two exercises are labelled {label}")
            if "exercises.check_" in item.body and not CHECKER_CALL.search(item.body):
                raise StudentNotebookError(f"{rel}: the exercise {label} names a checker, but not as one call in "
                                           "backticks on one line, e.g. `exercises.check_thing(answer)`")
            numbered = "nonumber" not in item.options
            number += numbered
            exercises[label] = Exercise(label, item.arg.strip(), item.body, number if numbered else None,
                                        [m["call"] for m in CHECKER_CALL.finditer(item.body)])

    # Pass 2: drop the solutions, put an answer cell after each exercise.
    out: list[tuple[str, int, object]] = []   # ("md", source cell, text) | ("code", _, cell) | ("answer", _, label)
    removed: dict[str, list[str]] = {}
    removed_code: list[str] = []              # the code of the removed solutions, for the name check
    region: str | None = None                 # inside solution-start … solution-end of this label
    exercise_region: str | None = None        # inside exercise-start … exercise-end of this label
    after_solution: str | None = None         # right after a {solution}: code calling its checker is its answer
    for kind, index, item in stream:
        if region is not None:
            if kind == "md" and isinstance(item, Directive) and item.name == "solution-end":
                region = None
                continue
            if kind == "code":
                if region in exercises:
                    exercises[region].solution_has_code = True
                removed[region].append(_source(item))
                removed_code.append(_source(item))
            else:
                removed[region].append(item.raw if isinstance(item, Directive) else item)
            continue
        if kind != "md":
            if (kind == "code" and after_solution is not None and after_solution in exercises
                    and _calls_checker(_source(item), exercises[after_solution].calls)):
                removed[after_solution].append(_source(item))
                removed_code.append(_source(item))
                exercises[after_solution].solution_has_code = True
                continue
            after_solution = None
            out.append((kind, index, item))
            continue
        if isinstance(item, str):
            if item.strip():
                after_solution = None
            out.append(("md", index, item))
            continue
        after_solution = None
        label = item.arg.split()[0] if item.arg.split() else item.options.get("label", "")
        if item.name == "exercise":
            ex = exercises[item.options["label"]]
            out.append(("md", index, _exercise_heading(ex) + "\n\n" + item.body + "\n"))
            out.append(("answer", index, ex.label))
        elif item.name == "exercise-start":
            ex = exercises[item.options["label"]]
            out.append(("md", index, _exercise_heading(ex) + "\n\n" + item.body + "\n"))
            exercise_region = ex.label
        elif item.name == "exercise-end":
            if exercise_region is None:
                raise StudentNotebookError(f"{rel}: an exercise-end without its exercise-start")
            out.append(("answer", index, exercise_region))
            exercise_region = None
        elif item.name == "solution":
            removed.setdefault(label, []).append(item.raw)
            after_solution = label
        elif item.name == "solution-start":
            region = label
            removed.setdefault(label, []).append(item.raw)
        elif item.name == "solution-end":
            raise StudentNotebookError(f"{rel}: a solution-end without its solution-start")
        else:
            out.append(("md", index, item.raw))
    if region is not None:
        raise StudentNotebookError(f"{rel}: the solution of {region} has no solution-end")
    if exercise_region is not None:
        raise StudentNotebookError(f"{rel}: the exercise {exercise_region} has no exercise-end")

    # Pass 3: cells again. Markdown pieces of one source cell stay together between answer cells.
    cells: list[dict] = []
    pending: list[str] = []
    pending_from: int | None = None

    def flush() -> None:
        nonlocal pending, pending_from
        text = "".join(pending).strip("\n")
        if text.strip():
            metadata = {k: copy.deepcopy(v) for k, v in nb["cells"][pending_from].get("metadata", {}).items()
                        if k not in PAIRING_KEYS}
            cells.append({"cell_type": "markdown", "metadata": metadata, "source": text})
        pending, pending_from = [], None

    for kind, index, item in out:
        if kind == "md":
            if pending_from is not None and pending_from != index:
                flush()
            pending.append(item)
            pending_from = index
            continue
        flush()
        if kind == "answer":
            cells.append(answer_cell(exercises[item]))
        else:
            cell = copy.deepcopy(item)
            for key in PAIRING_KEYS:
                cell.get("metadata", {}).pop(key, None)
            if cell["cell_type"] == "code":
                cell["outputs"] = []
                cell["execution_count"] = None
            cell["source"] = _source(cell)
            cells.append(cell)
    flush()

    # The chapter's link to this notebook becomes the link back to the full chapter.
    note = _full_chapter_note(rel, repository, branch)
    for cell in cells:
        if cell["cell_type"] == "markdown" and STUDENT_LINK.search(cell["source"]):
            cell["source"] = STUDENT_LINK.sub(lambda _: note, cell["source"], count=1)
            break

    _check_no_dangling_names(cells, removed_code, rel)

    for i, cell in enumerate(cells):
        cell.pop("id", None)
        cell["id"] = f"cell-{i}"
        cell["source"] = _lines(cell["source"])
    metadata = {k: copy.deepcopy(v) for k, v in nb.get("metadata", {}).items() if k in ("kernelspec", "language_info")}
    metadata["course"] = {"student_version_of": rel}
    student = {"cells": cells, "metadata": metadata, "nbformat": nb.get("nbformat", 4),
               "nbformat_minor": max(nb.get("nbformat_minor", 5), 5)}
    return student, {label: parts for label, parts in removed.items()}


def _check_no_dangling_names(cells: list[dict], removed_code: list[str], rel: str) -> None:
    """Refuse a student notebook in which a kept code cell reads a name that only a removed solution
    binds, or, after an answer cell, a name that the answer cell sets to its placeholder ``...``."""
    solution_names: set[str] = set()
    for code in removed_code:
        solution_names |= _names(code)[0]
    kept = [(i, cell) for i, cell in enumerate(cells) if cell["cell_type"] == "code"]
    kept_bound: set[str] = set()
    for _, cell in kept:
        if "answer" not in cell.get("metadata", {}).get("course", {}):
            kept_bound |= _names(cell["source"])[0]
    only_in_solutions = solution_names - kept_bound
    clobbered: set[str] = set()
    for i, cell in kept:
        bound, read = _names(cell["source"])
        if "answer" in cell.get("metadata", {}).get("course", {}):
            clobbered |= bound
            continue
        dangling = sorted((read - bound) & (only_in_solutions | clobbered))
        if dangling:
            raise StudentNotebookError(
                f"{rel}: code cell {i} of the student notebook reads {', '.join(dangling)}, which only a "
                "removed solution (or an answer cell's placeholder) defines; define it outside the solution, "
                "or move the cell into the solution")
        clobbered -= bound


def dumps(nb: dict) -> str:
    """A notebook as JSON text, the way Jupyter writes it (one fixed layout: deterministic)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def chapters() -> list[Path]:
    """The chapter notebooks of the book, in the order of _toc.yml."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(toc)
    found = []
    for name in files:
        path = ROOT / name
        path = path if path.suffix == ".ipynb" else path.with_suffix(".ipynb")
        if path.is_file() and path.relative_to(ROOT).parts[0] == "book":
            found.append(path)
    return found


def student_path(chapter: Path, out: Path = STUDENT) -> Path:
    """Where the student version of ``book/<part>/<chapter>.ipynb`` goes: ``student/<part>/<chapter>.ipynb``."""
    return out / chapter.resolve().relative_to(BOOK)


def make(chapter: Path, out: Path = STUDENT) -> Path:
    """Write the student version of one chapter notebook; returns its path."""
    repository, branch = _config()
    rel = chapter.resolve().relative_to(ROOT).as_posix()
    nb = json.loads(chapter.read_text(encoding="utf-8"))
    student, _ = transform(nb, rel, repository, branch)
    target = student_path(chapter, out)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(student), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter notebooks (default: every chapter of _toc.yml)")
    parser.add_argument("--out", type=Path, default=STUDENT, help="where the student tree goes (default: student/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or chapters()
    failed = 0
    for chapter in notebooks:
        try:
            target = make(chapter, args.out)
        except StudentNotebookError as error:
            print(f"✗ {error}", file=sys.stderr)
            failed += 1
            continue
        shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
        print(f"{chapter.resolve().relative_to(ROOT)} → {shown}")
    if not args.notebooks:  # the whole tree: drop student notebooks whose chapter is gone
        wanted = {student_path(c, args.out) for c in notebooks}
        for stale in sorted(args.out.rglob("*.ipynb")) if args.out.exists() else []:
            if stale not in wanted and ".ipynb_checkpoints" not in stale.parts:
                stale.unlink()
                print(f"removed {stale} (its chapter is no longer in _toc.yml)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
