"""Sphinx extension of the course: editions with fewer chapters, and numbers that restart per chapter.

Registered in ``_config.yml`` (``sphinx: local_extensions: {course_edition: _ext}``). It does two things.

**Links to chapters that are not in this edition.** A lecturer may build the book with only some of
the chapters (``make remove-chapter CH=book/<part>/<chapter>``, or by deleting a chapter's files and
its ``_toc.yml`` entry). The other chapters still link to it, by a Markdown link
``[title](../<part>/<chapter>.ipynb)`` (with or without ``#section``) or by ``{doc}`` — and every
such link would be a warning, so a ``-W`` build would fail. Here such a link is rendered as its text
followed by "(not in this edition)", without a link and without a warning, when its target is

- one of the course's chapters, listed once in ``_config.yml`` (``sphinx: config: course_chapters``),
- and not a document of this build (its files are gone, or it is no longer in ``_toc.yml``).

Every other broken link still warns: a typo in a chapter's path, a chapter that was never part of
the course, a missing section of a chapter that is in the edition. The transform runs before
MyST's own reference resolver (which reports a Markdown link to a missing file itself and does not
emit Sphinx's ``missing-reference`` event) and before Sphinx's (which handles ``{doc}``).

**Numbers per chapter.** Without section numbers (the course's ``_toc.yml`` is not ``numbered``),
Sphinx counts every numbered kind of node — the exercises of sphinx-exercise, numbered figures,
tables — across the whole book: the first exercise of the fifth chapter was "Exercise 37", and
removing a chapter renumbered every later one. After Sphinx has assigned its numbers, this
extension renumbers them within each document, so that every chapter has Exercise 1, 2, ... and
a text's ``{numref}`` of its own exercises stays right in any edition. Numbers that carry a
section prefix (a ``numbered`` table of contents) are already per section and are left alone.
"""

from __future__ import annotations

import posixpath
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util import docname_join

logger = logging.getLogger(__name__)

#: the text that follows a link to a chapter left out of this edition
ABSENT_NOTE = "(not in this edition)"
#: suffixes a link to a chapter may carry (the chapters are notebooks; the landing page is Markdown)
DOC_SUFFIXES = (".ipynb", ".md")


def link_docname(node: addnodes.pending_xref) -> str | None:
    """The document that a pending cross-reference points to, or None when it is not a document link.

    Handles MyST's Markdown links (``reftype == "myst"``: a document it found, ``refdomain == "doc"``,
    or a path it could not find, ``refdomain`` empty) and Sphinx's ``{doc}`` role.
    """
    refdoc = node.get("refdoc", "")
    target = node.get("reftarget", "")
    if node.get("reftype") == "myst":
        if node.get("refdomain") == "doc":
            return target
        if node.get("refdomain"):
            return None
        path = target.split("#", 1)[0]
        if not path or ":" in path:  # an anchor in the same page, or a URL-like target
            return None
        for suffix in DOC_SUFFIXES:
            if path.endswith(suffix):
                path = path[: -len(suffix)]
                break
        else:
            return None
        if path.startswith("/"):
            return posixpath.normpath(path.lstrip("/"))
        return docname_join(refdoc, path)
    if node.get("refdomain") == "std" and node.get("reftype") == "doc":
        return docname_join(refdoc, target) if not target.startswith("/") else target.lstrip("/")
    return None


def absent_chapter_node(node: addnodes.pending_xref, docname: str) -> nodes.inline:
    """The link's own text (or the chapter's path, when the link has none) and the note."""
    children = list(node.children)
    if len(children) == 1 and isinstance(children[0], nodes.inline) and "xref" in children[0]["classes"]:
        children = list(children[0].children)  # the text, without the classes that style a link
    content: list[nodes.Node] = [child.deepcopy() for child in children]
    if not node.astext().strip():
        content = [nodes.literal(docname, docname)]
    note = nodes.emphasis(ABSENT_NOTE, ABSENT_NOTE, classes=["course-absent-note"])
    return nodes.inline("", "", *content, nodes.Text(" "), note, classes=["course-absent-chapter"])


class AbsentChapterLinks(SphinxPostTransform):
    """Render links to course chapters that are not in this build as text + "(not in this edition)"."""

    # before MyST's resolver (9) and Sphinx's ReferencesResolver (10)
    default_priority = 5

    def run(self, **kwargs: Any) -> None:
        env = self.env
        chapters = set(env.config.course_chapters)
        if not chapters:
            return
        for node in list(self.document.findall(addnodes.pending_xref)):
            docname = link_docname(node)
            if docname is None or docname in env.all_docs or docname not in chapters:
                continue
            logger.info("%s: link to %s, which is not in this edition: rendered as text",
                        env.docname, docname)
            node.replace_self(absent_chapter_node(node, docname))


def number_per_document(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """Renumber each document's numbered nodes (exercises, figures, ...) from 1 within the document.

    Runs after Sphinx's own numbering (``env-get-updated``, priority 900 > its 500) and changes only
    numbers without a section prefix. Returns the documents whose numbers changed (to be rewritten).
    """
    changed = []
    for docname, by_type in env.toc_fignumbers.items():
        for figtype, numbers in by_type.items():
            if not numbers or any(len(number) != 1 for number in numbers.values()):
                continue
            ordered = sorted(numbers, key=lambda node_id: numbers[node_id])
            renumbered = {node_id: (i,) for i, node_id in enumerate(ordered, start=1)}
            if renumbered != numbers:
                by_type[figtype] = renumbered
                changed.append(docname)
    return sorted(set(changed))


def check_chapter_list(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn about entries of ``course_chapters`` that are not docnames (a path with a suffix, say)."""
    for entry in app.config.course_chapters:
        if (not isinstance(entry, str) or entry.endswith(DOC_SUFFIXES + (".py",))
                or entry.startswith(("/", "."))):
            logger.warning("course_chapters: %r is not a chapter's name like book/<part>/<chapter> "
                           "(no suffix, relative to the book's root)", entry)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("course_chapters", [], "env", types=[list])
    app.add_post_transform(AbsentChapterLinks)
    app.connect("env-get-updated", number_per_document, priority=900)
    app.connect("env-check-consistency", check_chapter_list)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
