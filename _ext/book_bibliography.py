"""Sphinx extension: the book's bibliography, author–year, linked, with links back to its chapters.

The chapters cite with ``{cite:t}`` ("Saxe et al. (2014)") and ``{cite:p}`` ("(Saxe et al., 2014)"),
sphinxcontrib-bibtex's ``author_year`` reference style. This extension makes the list on the
bibliography page match them and lead somewhere:

- the pybtex formatting style ``authoryear`` (set ``bibtex_default_style: authoryear``): pybtex's
  ``unsrt`` entry templates, sorted by author, year and title, each entry labelled with the same
  author–year text a parenthetical citation shows ("Saxe et al., 2014"). The entry's ``url``,
  ``eprint`` (arXiv) and ``doi`` fields are rendered as links by those templates;
- "Cited in: <chapter>, <chapter>" under each entry, each link going to the first place the
  chapter cites it. sphinxcontrib-bibtex keeps back-references only within one page, and the
  bibliography is a page of its own.

``tools/check_build.py`` checks the built page: every entry has an outside link and a back-link.
"""

from __future__ import annotations

from types import SimpleNamespace

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.template import join, year

#: Class of the "Cited in" paragraph under each entry (tools/check_build.py looks for it).
BACKLINK_CLASS = "bib-cited-in"


def author_year_label(entry) -> str:
    """The author–year label of a pybtex entry: "Saxe et al., 2014", "Mei and Montanari, 2022".

    Built from the same templates as sphinxcontrib-bibtex's ``author_year`` citations (one or two
    last names, else the first one and "et al.", then the year), so the list and the citations
    agree. Two works with the same label are told apart by the year in the .bib ("2020a").
    """
    person = PersonStyle()
    template = join(sep=", ")[person.author_or_editor_or_title(full=False), year]
    text = template.format_data({"entry": entry, "style": SimpleNamespace(person=person)})
    return text.render_as("text")


class AuthorYearLabelStyle(BaseLabelStyle):
    """pybtex label style: the author–year text of each entry (see ``author_year_label``)."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year_label(entry)


class AuthorYearStyle(UnsrtStyle):
    """pybtex formatting style: ``unsrt`` entries, sorted by author–year–title, author–year labels."""

    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def citing_documents(env) -> dict[str, list[tuple[str, str]]]:
    """For each cited key: the documents that cite it, in reading order, with the id of the first citation.

    Returns ``{key: [(docname, citation_ref_id), ...]}``, each document once.
    """
    domain = env.get_domain("cite")
    order = {doc: i for i, doc in enumerate(_reading_order(env))}
    # The first citation in each document: the lowest line number (notebook cells have none: the
    # order in which the citations were read, which is the order of the cells).
    first: dict[str, dict[str, tuple[tuple[int, int], str]]] = {}
    for i, ref in enumerate(domain.citation_refs):
        where = (ref.line if ref.line is not None else 0, i)
        for target in ref.targets:
            seen = first.setdefault(target.key, {})
            if ref.docname not in seen or where < seen[ref.docname][0]:
                seen[ref.docname] = (where, ref.citation_ref_id)
    # Documents outside the table of contents (pages Sphinx read but the book does not show) are
    # listed only for a work that no page of the book cites.
    result = {}
    for key, docs in first.items():
        cited = sorted(((doc, rid) for doc, (_, rid) in docs.items()),
                       key=lambda d: (order.get(d[0], len(order)), d[0]))
        in_book = [d for d in cited if d[0] in order]
        result[key] = in_book or cited
    return result


def _reading_order(env) -> list[str]:
    """The documents of the table of contents, in reading order (the "next" links from the root)."""
    relations = env.collect_relations()  # {doc: [parent, previous, next]}
    order, doc = [], env.config.root_doc
    while doc is not None and doc not in order and doc in relations:
        order.append(doc)
        doc = relations[doc][2]
    return order


def add_backlinks(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Under each entry of a bibliography on ``docname``: "Cited in: " and links to the citing chapters."""
    if app.builder.format != "html":
        return
    env = app.env
    domain = env.get_domain("cite")
    by_id = {c.citation_id: c for c in domain.citations if c.bibliography_key.docname == docname}
    if not by_id:
        return
    citing = citing_documents(env)
    for node in list(doctree.findall(nodes.citation)):
        ids = node.get("ids") or []
        citation = by_id.get(ids[0]) if ids else None
        if citation is None:
            continue
        docs = [(doc, rid) for doc, rid in citing.get(citation.key, []) if doc != docname]
        if not docs:
            continue
        para = nodes.paragraph(classes=[BACKLINK_CLASS])
        para += nodes.Text("Cited in: ")
        for i, (doc, rid) in enumerate(docs):
            if i:
                para += nodes.Text(", ")
            title = env.titles[doc].astext() if doc in env.titles else doc
            uri = app.builder.get_relative_uri(docname, doc) + "#" + rid
            para += nodes.reference("", title, internal=True, refuri=uri)
        node += para


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinxcontrib.bibtex")
    app.connect("doctree-resolved", add_backlinks)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
