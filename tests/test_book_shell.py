"""The book's shell: MathJax served from the book, the bibliography, the landing page, tools/check_build.py.

Unit tests of `_ext/offline_mathjax.py`, `_ext/book_bibliography.py` and the checks of
`tools/check_build.py`, a small Sphinx project built with both extensions (a few seconds), and,
where Chromium is installed, that project opened in headless Chromium with the network cut off:
the formulas must render from the book's own MathJax (skipped, and says so, without Chromium).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
sys.path.insert(0, str(ROOT / "tools"))

import check_build  # noqa: E402

pybtex = pytest.importorskip("pybtex")
from pybtex.database import parse_string  # noqa: E402

book_bibliography = pytest.importorskip("book_bibliography")
offline_mathjax = pytest.importorskip("offline_mathjax")

try:
    offline_mathjax.mathjax_source()
    HAVE_MATHJAX = True
except Exception:  # noqa: BLE001 - ExtensionError when django-static-mathjax is missing
    HAVE_MATHJAX = False
needs_mathjax = pytest.mark.skipif(not HAVE_MATHJAX, reason="django-static-mathjax is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")

BIB = r"""
@article{one2021, title = {Alone}, author = {Hutter, Marcus}, journal = {J}, year = {2021},
  eprint = {2102.04074}, archiveprefix = {arXiv}}
@article{two2022, title = {Pair}, author = {Mei, Song and Montanari, Andrea}, journal = {J},
  year = {2022}, doi = {10.1002/cpa.22008}}
@inproceedings{three2014, title = {Trio}, author = {Saxe, Andrew M. and McClelland, James L. and
  Ganguli, Surya}, booktitle = {ICLR}, year = {2014a}, url = {https://example.org/trio}}
@misc{vonname2022, title = {Particle}, author = {de Las Casas, Diego and Hoffmann, Jordan and
  Borgeaud, Sebastian}, year = {2022}}
"""


# ---------------------------------------------------------------------------------------------
# the bibliography style


def test_author_year_labels_match_the_citations():
    entries = parse_string(BIB, "bibtex").entries
    labels = {key: book_bibliography.author_year_label(e) for key, e in entries.items()}
    assert labels == {"one2021": "Hutter, 2021", "two2022": "Mei and Montanari, 2022",
                      "three2014": "Saxe et al., 2014a", "vonname2022": "de Las Casas et al., 2022"}


def test_authoryear_style_sorts_by_author_and_renders_links():
    from pybtex.plugin import find_plugin

    style = find_plugin("pybtex.style.formatting", "authoryear")()
    data = parse_string(BIB, "bibtex")
    formatted = list(style.format_entries(data.entries.values()))
    assert [f.label for f in formatted] == ["de Las Casas et al., 2022", "Hutter, 2021",
                                           "Mei and Montanari, 2022", "Saxe et al., 2014a"]
    html = {f.key: f.text.render_as("html") for f in formatted}
    assert 'href="https://arxiv.org/abs/2102.04074"' in html["one2021"]
    assert 'href="https://doi.org/10.1002/cpa.22008"' in html["two2022"]
    assert 'href="https://example.org/trio"' in html["three2014"]


def _book_bib():
    return parse_string((ROOT / "book" / "references.bib").read_text(), "bibtex").entries


def test_every_reference_has_a_well_formed_link():
    bad = []
    for key, e in _book_bib().items():
        f = {k.lower(): v for k, v in e.fields.items()}
        if not ({"doi", "eprint", "url"} & set(f)):
            bad.append(f"{key}: no doi, eprint or url")
        if "doi" in f and not re.fullmatch(r"10\.\d{4,9}/\S+", f["doi"]):
            bad.append(f"{key}: doi {f['doi']!r} is not of the form 10.NNNN/...")
        if "eprint" in f:
            if not re.fullmatch(r"\d{4}\.\d{4,5}", f["eprint"]):
                bad.append(f"{key}: eprint {f['eprint']!r} is not a new-style arXiv id")
            if f.get("archiveprefix", "").lower() != "arxiv":
                bad.append(f"{key}: eprint without archiveprefix = {{arXiv}}")
        if "url" in f and not f["url"].startswith(("https://", "http://")):
            bad.append(f"{key}: url {f['url']!r}")
        if "arxiv preprint" in f.get("journal", "").lower():
            bad.append(f"{key}: an arXiv preprint belongs in @misc with eprint, not in journal")
    assert not bad, "\n".join(bad)


def test_reference_labels_are_unique():
    seen: dict[str, str] = {}
    clashes = []
    for key, e in _book_bib().items():
        label = book_bibliography.author_year_label(e)
        if label in seen:
            clashes.append(f"{key} and {seen[label]} are both '{label}': give their years a and b")
        seen[label] = key
    assert not clashes, "\n".join(clashes)


def test_config_uses_the_style_and_the_extensions():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = config["sphinx"]
    assert sphinx["config"]["bibtex_default_style"] == "authoryear"
    assert sphinx["config"]["bibtex_reference_style"] == "author_year"
    assert {"offline_mathjax", "book_bibliography"} <= set(sphinx["local_extensions"])
    assert "mathjax_path" not in sphinx["config"], "offline_mathjax sets mathjax_path"
    assert "django-static-mathjax" in (ROOT / "requirements.txt").read_text()
    ignored = (ROOT / ".gitignore").read_text()
    assert not (ROOT / "_static" / "mathjax").exists() or "_static/mathjax" in ignored


# ---------------------------------------------------------------------------------------------
# MathJax


@needs_mathjax
def test_copy_mathjax_copies_what_the_component_loads(tmp_path):
    target = offline_mathjax.copy_mathjax(offline_mathjax.mathjax_source(), tmp_path)
    for f in check_build.MATHJAX_FILES:
        assert (target / f).is_file(), f
    assert not (target / "tex-svg.js").exists(), "only the CommonHTML component is copied"
    size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
    assert size < 12e6, f"{size / 1e6:.1f} MB copied: more than the component needs"
    before = {p: p.stat().st_mtime_ns for p in target.rglob("*") if p.is_file()}
    offline_mathjax.copy_mathjax(offline_mathjax.mathjax_source(), tmp_path)  # unchanged: no copy
    assert before == {p: p.stat().st_mtime_ns for p in target.rglob("*") if p.is_file()}


def _page(path: Path, body: str = "", head: str = ""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<html><head>{head}</head><body><main>{body}</main></body></html>")


@pytest.mark.parametrize("src", [
    "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js",
    "//cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-mml-chtml.js",
])
def test_check_mathjax_fails_when_a_page_loads_it_from_elsewhere(tmp_path, src):
    for f in check_build.MATHJAX_FILES:
        (tmp_path / check_build.MATHJAX_DIR / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / check_build.MATHJAX_DIR / f).write_text("")
    _page(tmp_path / "book" / "a" / "good.html", head='<script src="../../_static/mathjax/tex-mml-chtml.js"></script>')
    assert check_build.check_mathjax(tmp_path) == []
    _page(tmp_path / "book" / "a" / "bad.html", head=f'<script defer src="{src}"></script>')
    problems = check_build.check_mathjax(tmp_path)
    assert len(problems) == 1 and "another host" in problems[0] and "bad.html" in problems[0]


def test_check_mathjax_fails_when_the_copy_is_incomplete(tmp_path):
    _page(tmp_path / "index.html", head='<script src="_static/mathjax/tex-mml-chtml.js"></script>')
    problems = check_build.check_mathjax(tmp_path)
    assert any("not a file of" in p for p in problems)
    assert any("incomplete" in p for p in problems)


# ---------------------------------------------------------------------------------------------
# landing page and bibliography checks on hand-made pages


def test_check_landing_page(tmp_path):
    body = ('<h3>1. Foundations: linear models</h3><a href="01_a/01_x.html">x</a>'
            '<h3>2. Two</h3><a href="02_b/01_y.html#sec">y</a>')
    _page(tmp_path / "book" / "intro.html", body)
    assert check_build.check_landing_page(tmp_path, ["book/01_a/01_x", "book/02_b/01_y"],
                                          ["Foundations", "Two"]) == []
    problems = check_build.check_landing_page(tmp_path, ["book/01_a/01_x", "book/02_b/02_z"],
                                              ["Foundations", "Three"])
    assert len(problems) == 2 and "02_z" in problems[0] and "Three" in problems[1]


def test_landing_page_source_links_every_chapter_of_the_toc():
    chapters, captions = check_build.toc()
    text = (ROOT / "book" / "intro.md").read_text()
    linked = {"book/" + m for m in re.findall(r"\]\(([^)#\s]+)\.ipynb", text)}
    assert not [c for c in chapters if c not in linked], "book/intro.md: add the chapter to the map"
    headings = re.findall(r"^#+ (.*)$", text, flags=re.M)
    assert all(any(c.lower() in h.lower() for h in headings) for c in captions)


def test_check_bibliography(tmp_path):
    entry = ('<div class="citation" id="c1"><span class="label">[A, 2020]</span><p>A. '
             '<a class="reference external" href="https://arxiv.org/abs/2001.00001">arXiv</a></p>'
             '<p class="bib-cited-in">Cited in: <a href="a/ch.html#id3">Ch</a></p></div>')
    bare = '<div class="citation" id="c2"><span class="label">[B, 2021]</span><p>B.</p></div>'
    _page(tmp_path / "book" / "bibliography.html", entry + bare)
    _page(tmp_path / "book" / "a" / "ch.html", '<span id="id3">cite</span>')
    problems = check_build.check_bibliography(tmp_path)
    assert len(problems) == 2 and all("[B, 2021]" in p for p in problems)
    _page(tmp_path / "book" / "a" / "ch.html", '<span id="id4">cite</span>')
    assert any("no anchor #id3" in p for p in check_build.check_bibliography(tmp_path))


# ---------------------------------------------------------------------------------------------
# a small Sphinx project with both extensions


@pytest.fixture(scope="module")
def mini_book(tmp_path_factory):
    if not HAVE_MATHJAX:
        pytest.skip("django-static-mathjax is not installed")
    src = tmp_path_factory.mktemp("mini")
    (src / "refs.bib").write_text(BIB)
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / '_ext')!r})
        extensions = ["myst_parser", "sphinx.ext.mathjax", "sphinxcontrib.bibtex",
                      "offline_mathjax", "book_bibliography"]
        myst_enable_extensions = ["dollarmath", "amsmath"]
        bibtex_bibfiles = ["refs.bib"]
        bibtex_default_style = "authoryear"
        bibtex_reference_style = "author_year"
        root_doc = "index"
    """))
    (src / "index.md").write_text("# Mini\n\n```{toctree}\nch_a\nch_b\nbib\n```\n")
    (src / "ch_a.md").write_text("# Chapter A\n\nEuler: $e^{i\\pi} + 1 = 0$, after {cite:t}`two2022`.\n\n"
                                 "$$\\int_0^1 x^2\\,\\mathrm{d}x = \\tfrac13$$\n\nAgain {cite:p}`two2022`.\n")
    (src / "ch_b.md").write_text("# Chapter B\n\nBoth {cite:p}`one2021,two2022` and $\\alpha$.\n")
    (src / "bib.md").write_text("# References\n\n```{bibliography}\n```\n")
    out = src / "_build"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-W", "-q", str(src), str(out)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_mini_book_serves_mathjax_from_its_static_folder(mini_book):
    page = (mini_book / "ch_a.html").read_text()
    assert 'src="_static/mathjax/tex-mml-chtml.js"' in page
    assert "cdn.jsdelivr" not in page
    assert "window.MathJax" in page, "MyST's mathjax3_config is kept"
    assert check_build.check_mathjax(mini_book) == []


def test_mini_book_bibliography_labels_links_and_backlinks(mini_book):
    assert check_build.check_bibliography(mini_book, page="bib") == []
    html = (mini_book / "bib.html").read_text()
    assert "Mei and Montanari, 2022" in html and "Hutter, 2021" in html
    assert "Saxe" not in html, "only cited works are listed"
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    cited_in = {e.select_one("span.label").get_text("", strip=True):
                [a["href"] for a in e.select("p.bib-cited-in a")] for e in soup.select("div.citation")}
    mei = cited_in["[Mei and Montanari, 2022]"]
    assert [h.split("#")[0] for h in mei] == ["ch_a.html", "ch_b.html"], "each chapter once, in order"
    first_a = BeautifulSoup((mini_book / "ch_a.html").read_text(), "html.parser").select("span.bibtex-citation")
    assert mei[0].split("#")[1] == first_a[0]["id"], "links to the first citation in the chapter"
    assert [h.split("#")[0] for h in cited_in["[Hutter, 2021]"]] == ["ch_b.html"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium): "
                    "the offline rendering of the formulas is not checked")
def test_formulas_render_offline_in_headless_chromium(mini_book, tmp_path):
    """The network is cut off (every host name unresolvable, a dead proxy): a CDN would fail."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", "--proxy-server=127.0.0.1:9",
           "--virtual-time-budget=10000", "--dump-dom", (mini_book / "ch_a.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<mjx-container") >= 2, "MathJax did not typeset the page"
    text = re.sub(r"<script.*?</script>", "", dom, flags=re.S)
    assert "\\(" not in text and "\\[" not in text, "raw TeX is left on the page"
