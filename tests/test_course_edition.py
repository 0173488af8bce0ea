"""The book's Sphinx extension `_ext/course_edition.py`, on small Sphinx projects (a second each).

Links to a course chapter left out of the edition are rendered as text marked "(not in this
edition)", without a warning; every other broken link still warns; exercise numbers restart in
each document. (`tests/test_removal.py` removes each real chapter and builds the real book.)
"""

import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))

pytest.importorskip("myst_parser")
pytest.importorskip("sphinx_exercise")

from sphinx.cmd.build import build_main  # noqa: E402

import course_edition  # noqa: E402

CONF = f"""
import sys
sys.path.insert(0, {str(ROOT / '_ext')!r})
extensions = ["myst_parser", "sphinx_exercise", "course_edition"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
course_chapters = ["book/a/01_kept", "book/a/02_gone", "book/b/01_other"]
exclude_patterns = ["_build", "book/a/04_excluded.md"] + EXTRA_EXCLUDE
html_theme = "basic"
"""

EXERCISES = """
:::{{exercise}} First of {name}
:label: ex-{name}-1
Do this.
:::

:::{{exercise}} Second of {name}
:label: ex-{name}-2
Do that.
:::
"""


def make_project(tmp_path: Path, links: str, extra_exclude=()) -> Path:
    """A project: index, book/a/01_kept (links to others), book/a/03_present; 02_gone absent."""
    src = tmp_path / "src"
    (src / "book" / "a").mkdir(parents=True)
    (src / "conf.py").write_text(CONF.replace("EXTRA_EXCLUDE", repr(list(extra_exclude))))
    (src / "index.md").write_text(textwrap.dedent("""\
        # Index

        ```{toctree}
        book/a/01_kept
        book/a/03_present
        ```

        Landing page: [Gone chapter](book/a/02_gone.ipynb), [kept](book/a/01_kept.md).
        """))
    (src / "book" / "a" / "01_kept.md").write_text(
        "# Kept chapter\n\n## A section\n\n" + links + "\n" + EXERCISES.format(name="kept"))
    (src / "book" / "a" / "03_present.md").write_text(
        "# Present chapter\n\n" + EXERCISES.format(name="present")
        + "\nSee {numref}`exercise %s <ex-present-2>` and {numref}`ex-present-1`.\n")
    (src / "book" / "a" / "04_excluded.md").write_text("# Excluded\n")
    return src


def build(src: Path) -> tuple[int, str, Path]:
    out = src.parent / "html"
    warnings = src.parent / "warnings.txt"
    rc = build_main(["-b", "html", "-q", "-E", "-w", str(warnings), str(src), str(out)])
    return rc, warnings.read_text() if warnings.exists() else "", out


GOOD_LINKS = """
Prerequisites: [The gone chapter](02_gone.ipynb), [with a section](02_gone.ipynb#a-section),
{doc}`the gone chapter by doc <02_gone>`, {doc}`../a/02_gone`, [the other part](../b/01_other.ipynb),
[the present one](03_present.md).
"""


def test_links_to_absent_chapters_become_text_without_a_warning(tmp_path):
    rc, warnings, out = build(make_project(tmp_path, GOOD_LINKS))
    assert rc == 0 and warnings.strip() == "", warnings
    page = (out / "book" / "a" / "01_kept.html").read_text()
    assert page.count('class="course-absent-chapter"') == 5
    for text in ["The gone chapter", "with a section", "the gone chapter by doc", "the other part"]:
        assert re.search(rf"{text}\s*<em[^>]*>\(not in this edition\)</em>", page), text
    assert 'href="03_present.html"' in page  # a chapter of the edition is still a link
    assert "02_gone.html" not in page and "01_other.html" not in page
    index = (out / "index.html").read_text()
    assert "Gone chapter <em" in index and 'href="book/a/01_kept.html"' in index


@pytest.mark.parametrize("link, message", [
    ("[a typo](02_gonne.ipynb)", "02_gonne"),                     # not a chapter of the course
    ("[never a chapter](../c/01_new.ipynb)", "01_new"),           # not listed in course_chapters
    ("{doc}`02_gonne`", "02_gonne"),
    ("[missing section](03_present.md#no-such-section)", "no-such-section"),
])
def test_other_broken_links_still_warn(tmp_path, link, message):
    rc, warnings, _ = build(make_project(tmp_path, GOOD_LINKS + "\n" + link + "\n"))
    assert message in warnings, warnings


def test_a_chapter_out_of_the_toc_but_still_on_disk_is_absent_too(tmp_path):
    links = "[Excluded one](04_excluded.md) and [present](03_present.md)."
    src = make_project(tmp_path, links)
    conf = src / "conf.py"
    listed = '"book/b/01_other", "book/a/04_excluded"]'
    conf.write_text(conf.read_text().replace('"book/b/01_other"]', listed))
    rc, warnings, out = build(src)
    assert rc == 0 and warnings.strip() == "", warnings
    page = (out / "book" / "a" / "01_kept.html").read_text()
    assert re.search(r"Excluded one\s*<em[^>]*>\(not in this edition\)</em>", page)


def test_exercise_numbers_restart_in_each_document(tmp_path):
    rc, warnings, out = build(make_project(tmp_path, GOOD_LINKS))
    assert rc == 0, warnings
    for page in ["book/a/01_kept.html", "book/a/03_present.html"]:
        html = (out / page).read_text()
        assert re.findall(r"Exercise (\d+)", html)[:2] == ["1", "2"], page
        assert "Exercise 3" not in html and "Exercise 4" not in html, page
    present = (out / "book" / "a" / "03_present.html").read_text()
    assert "exercise 2" in present  # {numref} of the document's own exercise, per-document number


def test_link_docname_resolves_relative_paths():
    from sphinx import addnodes

    def xref(**kw):
        return addnodes.pending_xref("", **kw)

    assert course_edition.link_docname(xref(reftype="myst", refdomain=None, refdoc="book/a/01_x",
                                            reftarget="../b/02_y.ipynb#sec")) == "book/b/02_y"
    assert course_edition.link_docname(xref(reftype="myst", refdomain="doc", refdoc="book/a/01_x",
                                            reftarget="book/b/02_y")) == "book/b/02_y"
    assert course_edition.link_docname(xref(reftype="doc", refdomain="std", refdoc="book/intro",
                                            reftarget="a/01_x")) == "book/a/01_x"
    assert course_edition.link_docname(xref(reftype="myst", refdomain=None, refdoc="book/intro",
                                            reftarget="#local")) is None
    assert course_edition.link_docname(xref(reftype="ref", refdomain="std", refdoc="book/intro",
                                            reftarget="some-label")) is None
