"""Remove chapters from this edition of the book, in one step (``make remove-chapter CH=...``).

    python tools/remove_chapter.py book/<part>/<chapter> [book/<part>/<chapter> ...] [--root DIR]

For each chapter (given as ``book/<part>/<chapter>``, with or without ``.py``/``.ipynb``) it

- deletes the chapter's files ``book/<part>/<chapter>.py`` and ``.ipynb`` (and any other file
  ``book/<part>/<chapter>.*`` or ``<chapter>_*`` derived from them);
- removes its entry from ``_toc.yml``, and the part's caption when no chapter is left in the part;
- removes its line from the landing page's map of the course (``book/intro.md``: a list item whose
  chapter links all point to removed chapters), and the part's section there when no chapter of
  the part is left (the numbered part headings that remain are numbered 1, 2, ... again);
- deletes its student version, ``student/<part>/<chapter>.ipynb``.

It keeps the chapter in ``_config.yml``'s ``course_chapters``: that list names every chapter of the
course, so that the links other chapters make to a removed one are rendered as text marked
"(not in this edition)" instead of failing the build (``_ext/course_edition.py``). The tests of
``course_utils`` stay: they test the package, which every chapter shares. Nothing is committed: look
at ``git status``, then build with ``make book``. Exits non-zero, changing nothing, when a chapter is
not in ``_toc.yml``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = re.compile(r"^book/[^/]+/[^/]+$")
#: where tools/make_student_notebooks.py puts the student version of book/<part>/<chapter>.ipynb
STUDENT = "student"


def chapter_name(arg: str) -> str:
    """``book/<part>/<chapter>`` from a path given with or without a suffix or a leading ``./``."""
    name = arg.strip().removeprefix("./")
    for suffix in (".py", ".ipynb", ".md"):
        name = name.removesuffix(suffix)
    if not CHAPTER.match(name):
        raise ValueError(f"{arg!r} is not a chapter: give book/<part>/<chapter> "
                         "(e.g. book/01_foundations/01_linear_models)")
    return name


def toc_chapters(toc_text: str) -> list[str]:
    """Every ``file:`` entry of a table of contents, in order."""
    found: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(str(node["file"]).removesuffix(".ipynb").removesuffix(".md"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(yaml.safe_load(toc_text))
    return found


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], start: int) -> int:
    """The index after the list item that starts at ``lines[start]`` (``  - key: ...``) ends.

    The item goes on while lines are blank, comments or indented deeper than its dash.
    """
    dash = _indent(lines[start])
    end = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip() and not line.lstrip().startswith("#") and _indent(line) <= dash:
            break
        end += 1
    # leave trailing blank or comment lines to what follows
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
        end -= 1
    return end


def remove_from_toc(toc_text: str, chapter: str) -> str:
    """The table of contents without ``chapter``'s entry, and without a part left with no chapter.

    Edits lines (comments and layout are kept) and checks the result with a YAML parser.
    """
    lines = toc_text.splitlines(keepends=True)
    entry = re.compile(rf"^\s*-\s+file:\s*{re.escape(chapter)}(\.ipynb|\.md)?\s*(#.*)?$")
    starts = [i for i, line in enumerate(lines) if entry.match(line.rstrip("\n"))]
    if len(starts) != 1:
        raise ValueError(f"{chapter} is {'not' if not starts else 'more than once'} in _toc.yml "
                         f"as '- file: {chapter}'")
    start = starts[0]
    del lines[start:_block_end(lines, start)]
    # a part whose "chapters:" list is now empty goes too
    for i, line in enumerate(lines):
        if re.match(r"^\s*-\s+caption:", line):
            end = _block_end(lines, i)
            if not any(re.match(r"^\s*-\s+file:", item) for item in lines[i:end]):
                del lines[i:end]
                break
    text = "".join(lines)
    parsed = yaml.safe_load(text)
    if chapter in toc_chapters(text) or not isinstance(parsed, dict):
        raise RuntimeError(f"could not remove {chapter} from _toc.yml cleanly: edit it by hand")
    return text


def remove_from_landing_page(text: str, page: str, removed: set[str]) -> str:
    """The landing page without the list items whose chapter links all point to removed chapters.

    ``page`` is the landing page's docname (``book/intro``); links are Markdown links
    ``[...](<path>.ipynb)`` or ``{doc}`` roles. A list item that also links to a chapter that stays
    is kept (the extension marks its link to the removed one).
    """
    lines = text.splitlines(keepends=True)
    base = page.rsplit("/", 1)[0]

    def targets(chunk: str) -> set[str]:
        paths = re.findall(r"\]\(([^)#\s]+?)(?:\.ipynb|\.md)(?:#[^)]*)?\)", chunk)
        paths += re.findall(r"\{doc\}`(?:[^`<]*<)?([^`>]+)>?`", chunk)
        resolved = set()
        for p in paths:
            parts = (p.lstrip("/").split("/") if p.startswith("/") else base.split("/") + p.split("/"))
            out: list[str] = []
            for part in parts:
                if part == "..":
                    out = out[:-1]
                elif part not in ("", "."):
                    out.append(part)
            resolved.add("/".join(out))
        return resolved

    item = re.compile(r"^(\s*)([-*+]|\d+[.)])\s")
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = item.match(lines[i])
        if not m:
            out.append(lines[i])
            i += 1
            continue
        # the item: its first line and the lines indented deeper than its marker (its continuation)
        j = i + 1
        while j < len(lines) and lines[j].strip() and not item.match(lines[j]) \
                and _indent(lines[j]) > len(m.group(1)):
            j += 1
        chunk = "".join(lines[i:j])
        linked = {t for t in targets(chunk) if CHAPTER.match(t)}
        if not (linked and linked <= removed):
            out.extend(lines[i:j])
        i = j
    return drop_empty_sections(text, "".join(out), targets)


def drop_empty_sections(before: str, after: str, targets) -> str:
    """Drop the sections of ``after`` (a heading and what follows it, up to the next heading of the
    same or a higher level) that linked to chapters in ``before`` and link to none now (a part whose
    every chapter was removed)."""
    heading = re.compile(r"^(#{2,6})\s+(.*\S)\s*$")

    def sections(text: str) -> list[tuple[str, int, str]]:
        """(heading line, level, the section's own text up to its next heading)."""
        out, current, level, body = [], "", 0, []
        for line in text.splitlines(keepends=True):
            m = heading.match(line.rstrip("\n"))
            if m:
                out.append((current, level, "".join(body)))
                current, level, body = line, len(m.group(1)), []
            else:
                body.append(line)
        out.append((current, level, "".join(body)))
        return out

    def chapters_in(body: str) -> set[str]:
        return {t for t in targets(body) if CHAPTER.match(t)}

    linked_before = {h: chapters_in(b) for h, _, b in sections(before) if h}
    kept, skip_level = [], 0
    for head, level, body in sections(after):
        if skip_level and level > skip_level:
            continue  # a subsection of a dropped section
        skip_level = 0
        if head and linked_before.get(head) and not chapters_in(body):
            skip_level = level
            continue
        kept.append(head + body)
    result = "".join(kept)
    return renumber_headings(before, result) if result != after else result


def renumber_headings(before: str, after: str) -> str:
    """Number the headings ``### 1. ...``, ``### 2. ...`` of ``after`` again from 1, at each level
    where ``before`` numbered them 1, 2, ..., n (a part's section was dropped: no gap is left)."""
    numbered = re.compile(r"^(#{2,6})(\s+)(\d+)\.(\s)", re.M)
    levels: dict[str, list[int]] = {}
    for m in numbered.finditer(before):
        levels.setdefault(m.group(1), []).append(int(m.group(3)))
    consecutive = {level for level, numbers in levels.items()
                   if numbers == list(range(1, len(numbers) + 1))}
    counters: dict[str, int] = {}

    def number(m: re.Match) -> str:
        level = m.group(1)
        if level not in consecutive:
            return m.group(0)
        counters[level] = counters.get(level, 0) + 1
        return f"{level}{m.group(2)}{counters[level]}.{m.group(4)}"

    return numbered.sub(number, after)


def chapter_files(root: Path, chapter: str) -> list[Path]:
    """The files of a chapter: ``<chapter>.py``, ``.ipynb``, files derived from them next to them
    (``<chapter>.*``, ``<chapter>_*``) and its student version ``student/<part>/<chapter>.ipynb``."""
    folder = root / Path(chapter).parent
    stem = Path(chapter).name
    files = []
    if folder.is_dir():
        files = [p for p in folder.iterdir()
                 if p.is_file() and (p.name.startswith(stem + ".") or p.name.startswith(stem + "_"))]
    student = root / STUDENT / Path(chapter).relative_to("book").with_suffix(".ipynb")
    if student.is_file():
        files.append(student)
    return sorted(files)


def remove_chapters(root: Path, chapters: list[str], landing_page: str = "book/intro",
                    verbose: bool = True) -> list[str]:
    """Remove ``chapters`` from the book at ``root``; returns what was done, one line each."""
    toc_path = root / "_toc.yml"
    toc = toc_path.read_text()
    listed = toc_chapters(toc)
    missing = [c for c in chapters if c not in listed]
    if missing:
        raise ValueError(f"not in _toc.yml: {', '.join(missing)} (chapters listed: {', '.join(listed)})")
    done = []
    for chapter in chapters:
        toc = remove_from_toc(toc, chapter)
        done.append(f"_toc.yml: removed {chapter}")
    toc_path.write_text(toc)
    for chapter in chapters:
        for path in chapter_files(root, chapter):
            path.unlink()
            done.append(f"deleted {path.relative_to(root)}")
            if path.parent != root and not any(path.parent.iterdir()):
                path.parent.rmdir()  # a part left without files
    page = root / (landing_page + ".md")
    if page.exists():
        text = page.read_text()
        new = remove_from_landing_page(text, landing_page, set(chapters))
        if new != text:
            page.write_text(new)
            done.append(f"{page.relative_to(root)}: removed the line(s) of {', '.join(chapters)}")
    if verbose:
        for line in done:
            print(line)
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("chapters", nargs="+", help="book/<part>/<chapter> (suffix optional)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the book's root (default: this repository)")
    args = ap.parse_args(argv)
    try:
        chapters = [chapter_name(c) for c in args.chapters]
        remove_chapters(args.root.resolve(), chapters)
    except (ValueError, RuntimeError) as err:
        print(f"remove_chapter: {err}", file=sys.stderr)
        return 2
    print("Links to the removed chapters now read '(not in this edition)'. Build: make book")
    return 0


if __name__ == "__main__":
    sys.exit(main())
