"""After `jupyter-book build`: check the built HTML of the book.

- Every chapter listed in _toc.yml has a page, and its Colab launch link opens the chapter's
  notebook in the repository named in _config.yml, as book/<part>/<chapter>.ipynb (no "./").
- Math works offline: every page that loads MathJax loads the copy served from the book
  (_static/mathjax/, put there by _ext/offline_mathjax.py), never a script from another host, and
  that copy is complete (the component, the TeX extensions it loads, the CommonHTML fonts).
- The bibliography: every entry has a link to the work (arXiv, DOI or a proceedings page) and a
  "Cited in" back-link to a chapter that cites it, whose anchor exists on that chapter's page.
- The landing page links to every chapter of _toc.yml and names every part.

Usage: `python tools/check_build.py [HTML_DIR]` (default _build/html; with `jupyter-book build
--path-output DIR` the pages are in DIR/_build/html). Exits non-zero and names the page when a
check fails.
"""

from __future__ import annotations

import posixpath
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
#: where _ext/offline_mathjax.py puts MathJax, relative to the built book
MATHJAX_DIR = "_static/mathjax"
#: files the offline MathJax cannot work without (relative to MATHJAX_DIR)
MATHJAX_FILES = ("tex-mml-chtml.js", "input/tex/extensions/ams.js",
                 "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff")
#: class of the "Cited in" paragraph (see _ext/book_bibliography.py)
BACKLINK_CLASS = "bib-cited-in"
LANDING = "book/intro"
BIBLIOGRAPHY = "book/bibliography"


def toc(root: Path = ROOT) -> tuple[list[str], list[str]]:
    """(the chapters of _toc.yml that exist as notebooks, the captions of its parts)."""
    data = yaml.safe_load((root / "_toc.yml").read_text())
    chapters, captions = [], []
    for part in data.get("parts", []):
        captions.append(part.get("caption", ""))
        for entry in part.get("chapters", []):
            f = entry.get("file", "")
            if (root / (f + ".ipynb")).exists():
                chapters.append(f)
    return chapters, captions


def _page(html: Path, docname: str) -> BeautifulSoup | None:
    path = html / (docname + ".html")
    return BeautifulSoup(path.read_text(errors="replace"), "html.parser") if path.exists() else None


def _resolve(docname: str, href: str) -> tuple[str, str] | None:
    """The (docname, fragment) an internal link on page `docname` points to; None for outside links."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.endswith(".html"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(docname), parts.path))
    return target[: -len(".html")], parts.fragment


def check_colab(html: Path, chapters: list[str], root: Path = ROOT) -> list[str]:
    config = yaml.safe_load((root / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/").strip("/")
    branch = config["repository"].get("branch", "main")
    problems = []
    for chapter in chapters:
        page = html / (chapter + ".html")
        if not page.exists():
            problems.append(f"{chapter}: no built page {page}")
            continue
        links = re.findall(r'https://colab\.research\.google\.com/[^"\s]+', page.read_text())
        expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{chapter}.ipynb"
        if expected not in links:
            problems.append(f"{chapter}: Colab link {links[:1] or 'missing'} is not {expected}")
    return problems


def check_mathjax(html: Path) -> list[str]:
    """Every page's MathJax script is the book's own copy; the copy is complete."""
    problems, pages_with_math = [], 0
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html).as_posix()
        if rel.startswith("_static/"):
            continue
        soup = BeautifulSoup(page.read_text(errors="replace"), "html.parser")
        for script in soup.find_all("script", src=True):
            src = script["src"]
            if "mathjax" not in src.lower():
                continue
            pages_with_math += 1
            parts = urlsplit(src)
            local = posixpath.normpath(posixpath.join(posixpath.dirname(rel), parts.path))
            if parts.scheme or parts.netloc or src.startswith("//"):
                problems.append(f"{rel}: loads MathJax from another host ({src}); "
                                f"it must come from the book ({MATHJAX_DIR}/)")
            elif not local.startswith(MATHJAX_DIR + "/") or not (html / local).exists():
                problems.append(f"{rel}: MathJax script {src} is not a file of {MATHJAX_DIR}/")
    if pages_with_math:
        for f in MATHJAX_FILES:
            if not (html / MATHJAX_DIR / f).exists():
                problems.append(f"{MATHJAX_DIR}/{f} is missing: the offline MathJax is incomplete")
    else:
        problems.append("no page loads MathJax: is the math extension off?")
    return problems


def check_bibliography(html: Path, page: str = BIBLIOGRAPHY) -> list[str]:
    """Every entry of the bibliography `page`: an outside link, and a back-link to an existing
    anchor of a citing page."""
    soup = _page(html, page)
    if soup is None:
        return [f"{page}: no built page"]
    entries = soup.select("div.citation")
    if not entries:
        return [f"{page}: no entries"]
    problems, pages = [], {}
    for entry in entries:
        label = entry.select_one("span.label")
        name = label.get_text("", strip=True) if label else entry.get("id", "?")
        outside = [a["href"] for a in entry.select("a.reference.external[href]")
                   if urlsplit(a["href"]).scheme in ("http", "https")]
        if not outside:
            problems.append(f"bibliography entry {name}: no link to the work (doi, eprint or url)")
        back = entry.select(f"p.{BACKLINK_CLASS} a[href]")
        if not back:
            problems.append(f"bibliography entry {name}: no 'Cited in' back-link to a chapter")
        for a in back:
            target = _resolve(page, a["href"])
            if target is None:
                problems.append(f"bibliography entry {name}: back-link {a['href']} is not a page of the book")
                continue
            doc, fragment = target
            if doc not in pages:
                pages[doc] = _page(html, doc)
            if pages[doc] is None:
                problems.append(f"bibliography entry {name}: back-link to {doc}, which was not built")
            elif fragment and pages[doc].find(id=fragment) is None:
                problems.append(f"bibliography entry {name}: back-link {a['href']} has no anchor #{fragment}")
    return problems


def check_landing_page(html: Path, chapters: list[str], captions: list[str],
                       page: str = LANDING) -> list[str]:
    """The landing `page` links to every chapter and has a heading for every part."""
    soup = _page(html, page)
    if soup is None:
        return [f"{page}: no built page"]
    main = soup.select_one("main") or soup
    linked = {t[0] for a in main.select("a[href]") if (t := _resolve(page, a["href"]))}
    problems = [f"{page}: no link to the chapter {c} (add it to the map of the course in book/intro.md)"
                for c in chapters if c not in linked]
    headings = [h.get_text(" ", strip=True) for h in main.find_all(["h2", "h3", "h4"])]
    for caption in captions:
        if not any(caption.lower() in h.lower() for h in headings):
            problems.append(f"{page}: no heading names the part '{caption}' (add it to the map of the course)")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    html = Path(argv[0]) if argv else ROOT / "_build" / "html"
    chapters, captions = toc()
    checks = {
        "chapter pages and Colab links": check_colab(html, chapters),
        "MathJax served from the book": check_mathjax(html),
        "bibliography links and back-links": check_bibliography(html),
        "landing page links": check_landing_page(html, chapters, captions),
    }
    total = 0
    for name, problems in checks.items():
        for p in problems:
            print("✗", p)
        print(f"{'✓' if not problems else '✗'} {name}: {len(problems)} problems")
        total += len(problems)
    print(f"checked the built book at {html} ({len(chapters)} chapters): {total} problems")
    return 1 if total or not chapters else 0


if __name__ == "__main__":
    sys.exit(main())
