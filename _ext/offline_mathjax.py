"""Sphinx extension: serve MathJax 3 from the built book, so formulas render without a network.

Sphinx loads MathJax from a CDN by default (``mathjax_path``), so a book read offline shows raw
TeX. This extension points ``mathjax_path`` at ``_static/mathjax/tex-mml-chtml.js`` and, when an
HTML build finishes, copies the files that component loads from the MathJax 3 distribution that
the PyPI package ``django-static-mathjax`` installs (``requirements.txt``; the package is a plain
copy of MathJax's ``es5/`` build and does not depend on Django). Nothing is committed: every
``jupyter-book build`` copies the installed version, so no manual step can be forgotten.

What is copied (about 8 MB of the distribution's 24 MB):

- ``tex-mml-chtml.js``: the component (TeX and MathML input, CommonHTML output, menu);
- ``input/``: the TeX extensions it autoloads (``\\require``, ``ams``, ``boldsymbol`` ...) and MathML;
- ``output/chtml/``: the CommonHTML fonts (woff-v2) the output needs to draw anything;
- ``ui/``, ``a11y/``, ``sre/``: what the right-click menu loads (accessibility, speech), so the
  menu works offline too.

The ``mathjax3_config`` that MyST sets (which classes MathJax processes) is left as it is. A
missing package stops the build with a message that says what to install, rather than falling
back to a CDN without saying so. ``tools/check_build.py`` fails when a built page loads MathJax
from anywhere but the book.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

#: The component every page loads, relative to the build's ``_static`` folder.
COMPONENT = "tex-mml-chtml.js"
#: Where the copy lives in the built book: ``_static/<TARGET>/``.
TARGET = "mathjax"
#: The parts of MathJax's ``es5/`` folder the component can load at run time.
PARTS = (COMPONENT, "input", "output/chtml", "ui", "a11y", "sre")


def mathjax_source() -> Path:
    """The ``es5/`` folder of the installed MathJax 3 distribution (package ``django-static-mathjax``).

    Raises ``ExtensionError`` naming the package to install when it is missing or incomplete.
    """
    try:
        import mathjax  # the import name of django-static-mathjax
    except ImportError as err:
        raise ExtensionError(
            "offline_mathjax: MathJax 3 is not installed. Install the book's requirements "
            "(`pip install -r requirements.txt`, which includes django-static-mathjax)."
        ) from err
    es5 = Path(mathjax.__file__).resolve().parent / "static" / "mathjax" / "es5"
    missing = [part for part in PARTS if not (es5 / part).exists()]
    if missing:
        raise ExtensionError(
            f"offline_mathjax: the MathJax copy at {es5} lacks {', '.join(missing)}; "
            "reinstall django-static-mathjax (`pip install --force-reinstall django-static-mathjax`)."
        )
    return es5


def copy_mathjax(source: Path, static_dir: Path) -> Path:
    """Copy the parts of MathJax in ``PARTS`` from ``source`` (an ``es5/`` folder) to ``static_dir/mathjax``.

    Files that are already there with the same size and modification time are not copied again.
    Returns the folder written.
    """
    target = Path(static_dir) / TARGET
    for part in PARTS:
        src = source / part
        dst = target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True, copy_function=_copy_if_changed)
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            _copy_if_changed(src, dst)
    return target


def _copy_if_changed(src, dst) -> str:
    s, d = Path(src), Path(dst)
    if d.exists():
        a, b = s.stat(), d.stat()
        if a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime):
            return str(d)
    return shutil.copy2(s, d)


def _use_local_mathjax(app: Sphinx, config) -> None:
    # A relative mathjax_path is served from the build's _static folder.
    config.mathjax_path = f"{TARGET}/{COMPONENT}"


def _check_installed(app: Sphinx) -> None:
    if app.builder.format == "html":
        mathjax_source()  # fail early, before any page is written


def _copy_at_end(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        copy_mathjax(mathjax_source(), Path(app.outdir) / "_static")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _use_local_mathjax)
    app.connect("builder-inited", _check_installed)
    app.connect("build-finished", _copy_at_end)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
