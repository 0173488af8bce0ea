"""Check that every chapter can be removed and the book still builds with warnings as errors.

    python tools/check_removal.py [--only SCENARIO ...] [--workers N] [--list]

Each scenario works on a scratch copy of the repository (the files git tracks or would commit:
``git ls-files --cached --others --exclude-standard``, nothing else: no ``.venv``, no ``_build``), never
on the repository itself. It removes chapters there with ``tools/remove_chapter.py`` (the files,
the ``_toc.yml`` entry, the landing page's line), then builds the book from the stored outputs
(``jupyter-book build . -W --keep-going``, nothing executed, ~15 s) and runs the scratch copy's
``tools/check_build.py`` (whose checks follow the scratch copy's ``_toc.yml``). The scenarios:

- ``without:<chapter>``: every chapter of ``_toc.yml`` removed in turn;
- ``keep-two``: only two chapters kept (``--keep``, default the NTK and lazy-vs-rich chapters, which
  link to the most others), every other one removed;
- ``toc-only:<chapter>``: the most-linked chapter taken out of ``_toc.yml`` only, its files left in
  place (a lecturer who edits the table of contents by hand).

A scenario passes when the build and check_build succeed, every link to a removed chapter is
rendered "(not in this edition)" (at least one such mark is found in the built pages when some kept
page linked to a removed chapter), and every kept chapter numbers its exercises 1, 2, ..., n.
Prints one line per scenario and exits non-zero if any fails.
``tests/test_removal.py`` runs the same scenarios, one test each.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from remove_chapter import remove_chapters, remove_from_toc, toc_chapters  # noqa: E402

KEEP_TWO = ("book/03_wide_networks/02_ntk", "book/04_feature_learning/02_lazy_vs_rich")
TOC_ONLY = "book/01_foundations/01_linear_models"
ABSENT_MARK = "course-absent-chapter"
#: seconds a scratch build may take (one takes ~15 s alone; much longer on a machine shared by many)
BUILD_TIMEOUT = 900


@dataclass
class Result:
    name: str
    ok: bool
    seconds: float
    removed: list[str] = field(default_factory=list)
    marks: int = 0
    log: str = ""

    def line(self) -> str:
        status = "✓" if self.ok else "✗"
        return (f"{status} {self.name}: {len(self.removed)} removed, {self.marks} link(s) marked "
                f"'not in this edition', {self.seconds:.0f} s")


def chapters(root: Path = ROOT) -> list[str]:
    """The book's chapters (``_toc.yml`` entries under ``book/<part>/``), in order."""
    return [c for c in toc_chapters((root / "_toc.yml").read_text()) if c.count("/") == 2]


def scenarios(root: Path = ROOT, keep: tuple[str, ...] = KEEP_TWO) -> dict[str, list[str]]:
    """Scenario name -> chapters to remove (``toc-only:`` scenarios remove the toc entry only)."""
    all_chapters = chapters(root)
    out = {f"without:{c}": [c] for c in all_chapters}
    missing = [k for k in keep if k not in all_chapters]
    if not missing:
        out["keep-two"] = [c for c in all_chapters if c not in keep]
    if TOC_ONLY in all_chapters:
        out[f"toc-only:{TOC_ONLY}"] = [TOC_ONLY]
    return out


def scratch_copy(dest: Path, root: Path = ROOT) -> None:
    """Copy into ``dest`` the files git tracks or would commit (not ignored), nothing else."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root, capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listing):
        src = root / rel
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def links_to(removed: set[str], pages: list[Path]) -> bool:
    """Whether a kept page's source has a Markdown link or ``{doc}`` to a removed chapter's name."""
    names = "|".join(re.escape(Path(chapter).name) for chapter in removed)
    link = re.compile(rf"\]\([^)\s]*\b({names})\.ipynb|{{doc}}`[^`]*\b({names})>?`")
    return any(link.search(page.read_text(errors="replace")) for page in pages)


def exercise_numbering_problems(html: Path, pages: list[str]) -> list[str]:
    """Each chapter page numbers its exercises 1, 2, ..., n (per chapter, not across the book)."""
    problems = []
    for page in pages:
        path = html / (page + ".html")
        if not path.exists():
            continue
        numbers = sorted({int(n) for n in re.findall(r"Exercise (\d+)", path.read_text(errors="replace"))})
        if numbers != list(range(1, len(numbers) + 1)):
            problems.append(f"{page}: exercises numbered {numbers}, not 1..{len(numbers)} within the chapter")
    return problems


def run_scenario(name: str, remove: list[str], root: Path = ROOT, keep_dir: Path | None = None,
                 jupyter_book: str | None = None) -> Result:
    """Run one scenario in a fresh scratch copy; the copy is deleted unless ``keep_dir`` is given."""
    start = time.monotonic()
    jupyter_book = jupyter_book or str(Path(sys.executable).parent / "jupyter-book")
    tmp = Path(tempfile.mkdtemp(prefix="removal-", dir=keep_dir))
    try:
        book = tmp / "book-copy"
        scratch_copy(book, root)
        log = []
        if name.startswith("toc-only:"):
            toc = book / "_toc.yml"
            text = toc.read_text()
            for chapter in remove:
                text = remove_from_toc(text, chapter)
            toc.write_text(text)
        else:
            log += remove_chapters(book, remove, verbose=False)
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        try:
            build = subprocess.run([jupyter_book, "build", ".", "-W", "--keep-going"],
                                   cwd=book, capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT)
        except subprocess.TimeoutExpired:
            return Result(name, False, time.monotonic() - start, list(remove), 0,
                          "\n".join(log + [f"the build took more than {BUILD_TIMEOUT} s"]))
        log.append(build.stdout[-6000:] + build.stderr[-6000:])
        ok = build.returncode == 0
        if ok:
            check = subprocess.run([sys.executable, "tools/check_build.py"], cwd=book,
                                   capture_output=True, text=True, env=env)
            log.append(check.stdout + check.stderr)
            ok = check.returncode == 0
        html = book / "_build" / "html"
        pages = sorted(html.rglob("*.html")) if html.exists() else []
        marks = sum(p.read_text(errors="replace").count(ABSENT_MARK) for p in pages)
        kept_sources = [p for p in (book / "book").rglob("*") if p.suffix in (".ipynb", ".md")
                        and str(p.relative_to(book).with_suffix("")) not in remove]
        if ok and links_to(set(remove), kept_sources) and marks == 0:
            ok = False
            log.append("a kept page links to a removed chapter, but no link is marked "
                       f"'{ABSENT_MARK}' in the built pages")
        if ok:
            kept = [c for c in chapters(book) if (book / (c + ".ipynb")).exists()]
            wrong = exercise_numbering_problems(html, kept)
            if wrong:
                ok = False
                log += wrong
        return Result(name, ok, time.monotonic() - start, list(remove), marks, "\n".join(log))
    finally:
        if keep_dir is None:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", default=None,
                    help="scenario names (see --list), or chapter names for their 'without:' scenario")
    ap.add_argument("--keep", nargs=2, default=list(KEEP_TWO), metavar="CHAPTER",
                    help="the two chapters the keep-two scenario keeps")
    ap.add_argument("--workers", type=int, default=1, help="scenarios built at the same time")
    ap.add_argument("--keep-copies", type=Path, default=None,
                    help="leave the scratch copies in this folder (to look at the built pages)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    args = ap.parse_args(argv)
    todo = scenarios(ROOT, tuple(args.keep))
    if args.list:
        for name, remove in todo.items():
            print(f"{name}: removes {len(remove)}")
        return 0
    if args.only:
        wanted = {n if ":" in n or n == "keep-two" else f"without:{n}" for n in args.only}
        unknown = wanted - set(todo)
        if unknown:
            ap.error(f"unknown scenario(s): {', '.join(sorted(unknown))} (see --list)")
        todo = {n: r for n, r in todo.items() if n in wanted}
    if args.keep_copies:
        args.keep_copies.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    failed = 0
    with cf.ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        futures = [pool.submit(run_scenario, n, r, ROOT, args.keep_copies) for n, r in todo.items()]
        for future in cf.as_completed(futures):
            result = future.result()
            print(result.line(), flush=True)
            if not result.ok:
                failed += 1
                print(result.log[-4000:])
    print(f"{len(todo) - failed}/{len(todo)} scenarios build with -W "
          f"({time.monotonic() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
