"""Are a notebook's stored outputs the outputs of the current code? A fingerprint says.

When a chapter is executed (``make chapter``), ``tools/clean_notebook.py`` stores in the
notebook's metadata, under ``course.fingerprint``, a SHA-256 of

- the chapter's code cells (markdown is not hashed: prose cannot change an output), and
- every ``course_utils`` module the chapter imports, directly or through other modules
  (found by reading the ``import`` statements, so the answer is the same on every machine).

``tests/test_notebooks.py`` recomputes the fingerprint and fails, naming the chapter, the files
that changed and the command that refreshes it, when the two differ. No execution is needed.

Comments are left out of a module's hash (see :func:`without_comments`), and so are two more
things that cannot change an output, so that a release (``tools/release.py bump``)
does not make every chapter stale: the ref of ``course_utils`` that the Colab set-up cell installs
(``os.environ.get("COURSE_REF", "v…")``) and the ``__version__ = …`` line of a module.

Usage: ``python tools/freshness.py book/<part>/<chapter>.ipynb ...`` prints what is stale.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
PACKAGE = "course_utils"
# The release the Colab set-up cell installs (rewritten by tools/release.py): not hashed.
PINNED_REF = re.compile(r'(os\.environ\.get\("COURSE_REF", ")([^"]*)("\))')
VERSION_LINE = re.compile(r"^__version__\s*=.*$", re.M)


def _sha(text: str) -> str:
    return hashlib.sha256(text.replace("\r\n", "\n").encode("utf-8")).hexdigest()


def without_comments(source: str) -> str:
    """Python source with its comments, trailing spaces and blank lines removed.

    A comment cannot change an output, so a module's hash is taken over this text: a comment
    added to a module (``# pragma: no mutate`` for the mutation tests, a clarification) does not
    make every chapter stale. (Comment tokens are the same in every Python version, unlike the
    full token stream or ``ast.dump``, so the hash is the same on every machine.)
    """
    lines = source.replace("\r\n", "\n").split("\n")
    try:
        comments = [tok.start for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                    if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        comments = []
    for row, col in comments:
        lines[row - 1] = lines[row - 1][:col]
    return "\n".join(ln.rstrip() for ln in lines if ln.strip())


def _module_file(dotted: str) -> Path | None:
    """The file of a course_utils module (``course_utils.theory.kernels`` → .../theory/kernels.py)."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = SRC.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _parse(source: str) -> ast.Module:
    """Parse Python source; lines that are IPython magics or shell escapes are dropped."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return ast.Module(body=[], type_ignores=[])


def _imported_modules(tree: ast.Module, current: str | None, is_package: bool) -> set[str]:
    """Dotted names of the course_utils modules an AST imports (with their parent packages)."""
    found: set[str] = set()

    def add(name: str) -> None:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            found.add(".".join(parts[:i]))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                package = current.split(".") if is_package else current.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            add(base)
            for alias in node.names:  # ``from course_utils import theory`` imports a module
                if _module_file(f"{base}.{alias.name}") is not None:
                    add(f"{base}.{alias.name}")
    return {m for m in found if _module_file(m) is not None}


def modules_used(code: str) -> list[Path]:
    """Every course_utils file that running ``code`` loads, transitively, sorted."""
    todo = list(_imported_modules(_parse(code), None, False))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(name)
        tree = _parse(path.read_text(encoding="utf-8"))
        todo.extend(_imported_modules(tree, name, path.name == "__init__.py") - seen)
    return sorted(_module_file(m) for m in seen)


def _code_cells(nb: dict) -> list[str]:
    return [PINNED_REF.sub(r"\1<pinned>\3", "".join(c["source"]).strip())
            for c in nb["cells"] if c["cell_type"] == "code"]


def fingerprint(nb: dict) -> dict:
    """The fingerprint of a notebook (as a dict of JSON): code hash and one hash per module used."""
    code = _code_cells(nb)
    modules = modules_used("\n\n".join(code))
    return {"code": _sha("\n\n# ---- cell ----\n\n".join(code)),
            "modules": {p.relative_to(ROOT).as_posix(): _sha(without_comments(VERSION_LINE.sub("", p.read_text(encoding="utf-8"))))
                        for p in modules}}


def stamp(nb: dict) -> None:
    """Store the fingerprint of the notebook's current code in its metadata (in place)."""
    nb.setdefault("metadata", {}).setdefault("course", {})["fingerprint"] = fingerprint(nb)


def stale_reasons(nb: dict) -> list[str]:
    """Why the stored outputs may not be those of the current code (empty when they are)."""
    stored = nb.get("metadata", {}).get("course", {}).get("fingerprint")
    if stored is None:
        return ["it has no fingerprint (it was not executed with `make chapter`)"]
    now = fingerprint(nb)
    reasons = []
    if stored.get("code") != now["code"]:
        reasons.append("its code cells changed")
    old = stored.get("modules", {})
    for path in sorted(set(old) | set(now["modules"])):
        if path not in now["modules"]:
            reasons.append(f"it no longer imports {path}")
        elif path not in old:
            reasons.append(f"it now imports {path}")
        elif old[path] != now["modules"][path]:
            reasons.append(f"{path} changed")
    return reasons


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/freshness.py NOTEBOOK.ipynb [...]")
    status = 0
    for arg in sys.argv[1:]:
        reasons = stale_reasons(json.loads(Path(arg).read_text(encoding="utf-8")))
        if reasons:
            status = 1
            print(f"{arg}: stale: " + "; ".join(reasons))
        else:
            print(f"{arg}: fresh")
    sys.exit(status)
