"""Keep the Colab pin honest: every chapter installs the release of course_utils it was made with.

On Colab a chapter's set-up cell installs ``course_utils`` from the repository at the tag
``v<version>``, where ``<version>`` is the ``version`` of pyproject.toml (a release workflow creates
the tag on main when it is missing). A notebook executed with newer code than its tag would get the
old package on Colab, so:

- ``tools/release.json`` records, for the current version, a SHA-256 of the package
  (``src/course_utils``, without its ``__version__`` line, and the dependencies of pyproject.toml);
  ``check`` (and ``tests/test_release.py``) fails when the package changed since it was recorded;
- ``bump X.Y.Z`` sets the new version (pyproject.toml, ``course_utils.__version__``), re-pins every
  chapter's set-up cell (the ``.py`` text source and the ``.ipynb`` alike, and the template) to
  ``vX.Y.Z``, rewrites the student notebooks and records the hash. No chapter has to be re-executed:
  the fingerprint of stored outputs (tools/freshness.py) ignores the pinned ref and the version line;
- ``record`` re-records the hash for the current version, for a version that is not released (tagged)
  yet; ``pin`` re-pins every chapter to the current version (e.g. a chapter copied from an old fork);
- ``check --tag`` also compares the package with the one at the tag ``v<version>`` when the clone
  has it (the release workflow's check: a tagged release must not change under the same version).

Usage: python tools/release.py check [--tag] | bump X.Y.Z | record [--force] | pin
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from freshness import PINNED_REF, VERSION_LINE  # noqa: E402

PACKAGE = "src/course_utils"
INIT = ROOT / PACKAGE / "__init__.py"
PYPROJECT = ROOT / "pyproject.toml"
RECORD = ROOT / "tools" / "release.json"
TEMPLATE = ROOT / "book" / "_template.py"
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# The same pin inside a notebook's JSON, where the quotes are escaped.
PINNED_REF_JSON = re.compile(r'(os\.environ\.get\(\\"COURSE_REF\\", \\")([^"\\]*)(\\"\))')


def _project_field(pyproject: str, pattern: str) -> re.Match | None:
    """A field of pyproject.toml's [project] table (read with a regular expression: Python 3.10 has
    no TOML parser in its standard library)."""
    table = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", pyproject, re.M | re.S)
    return re.search(pattern, table.group(1), re.M | re.S) if table else None


def version() -> str:
    """The version of the package, from pyproject.toml."""
    found = _project_field(PYPROJECT.read_text(encoding="utf-8"), r'^version\s*=\s*"([^"]+)"')
    if not found:
        raise SystemExit("pyproject.toml has no version in its [project] table")
    return found.group(1)


def tag(v: str | None = None) -> str:
    """The git tag of a release: ``v`` + its version."""
    return f"v{v or version()}"


def package_hash(files: dict[str, bytes | str], pyproject: str) -> str:
    """SHA-256 of the package: its files (path → content; Python files without their ``__version__``
    line) and the dependencies and Python requirement of pyproject.toml (what pip installs with it)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        data = files[path]
        if path.endswith(".py"):
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            data = VERSION_LINE.sub("", text.replace("\r\n", "\n"))
        data = data.encode("utf-8") if isinstance(data, str) else data
        digest.update(f"{path}\n{hashlib.sha256(data).hexdigest()}\n".encode())
    dependencies = _project_field(pyproject, r"^dependencies\s*=\s*\[(.*?)^\]")
    python = _project_field(pyproject, r'^requires-python\s*=\s*"([^"]*)"')
    needs = {"dependencies": re.findall(r'"([^"]+)"', dependencies.group(1)) if dependencies else [],
             "requires-python": python.group(1) if python else None}
    digest.update(json.dumps(needs, sort_keys=True).encode())
    return digest.hexdigest()


def _working_tree_files() -> dict[str, str]:
    """The package's files that git tracks or would commit (every file outside a git clone)."""
    listed = _git("ls-files", "--cached", "--others", "--exclude-standard", "--", PACKAGE)
    if listed.returncode == 0:
        paths = [ROOT / name for name in listed.stdout.splitlines()]
    else:
        paths = [p for p in (ROOT / PACKAGE).rglob("*") if "__pycache__" not in p.parts]
    return {p.relative_to(ROOT).as_posix(): p.read_bytes()
            for p in sorted(paths) if p.is_file() and p.suffix not in (".pyc", ".pyo")}


def current_hash() -> str:
    return package_hash(_working_tree_files(), PYPROJECT.read_text(encoding="utf-8"))


def _git(*args: str, binary: bool = False) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=not binary)
    except FileNotFoundError:  # no git on this machine
        return subprocess.CompletedProcess(["git", *args], 127, b"" if binary else "", "")


def tagged_hash(ref: str) -> str | None:
    """The package hash at a git tag, or None when this clone does not have the tag."""
    if _git("rev-parse", "-q", "--verify", f"refs/tags/{ref}").returncode != 0:
        return None
    names = _git("ls-tree", "-r", "--name-only", ref, PACKAGE).stdout.split()
    files = {n: _git("show", f"{ref}:{n}", binary=True).stdout for n in names if not n.endswith((".pyc", ".pyo"))}
    return package_hash(files, _git("show", f"{ref}:pyproject.toml").stdout)


def chapter_sources() -> list[Path]:
    """The chapter text sources and notebooks, and the template: every file with a set-up cell."""
    book = ROOT / "book"
    files = sorted(p for p in book.glob("*/*.py")) + sorted(p for p in book.glob("*/*.ipynb"))
    return [p for p in files if ".ipynb_checkpoints" not in p.parts] + [TEMPLATE]


def pinned_refs(path: Path) -> list[str]:
    """The refs a file's Colab set-up cell pins (one expected)."""
    text = path.read_text(encoding="utf-8")
    pattern = PINNED_REF_JSON if path.suffix == ".ipynb" else PINNED_REF
    return [m.group(2) for m in pattern.finditer(text)]


def pin(ref: str, paths: list[Path] | None = None) -> list[Path]:
    """Make every set-up cell install ``ref``; returns the files changed (text edited in place,
    nothing else in them touched)."""
    changed = []
    for path in paths or chapter_sources():
        text = path.read_text(encoding="utf-8")
        pattern = PINNED_REF_JSON if path.suffix == ".ipynb" else PINNED_REF
        new = pattern.sub(lambda m: m.group(1) + ref + m.group(3), text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def problems(with_tag: bool = False) -> list[str]:
    """Everything that makes the pin dishonest; empty when all is well."""
    found = []
    v = version()
    init = re.search(r'^__version__\s*=\s*"([^"]+)"', INIT.read_text(encoding="utf-8"), re.M)
    if not init or init.group(1) != v:
        found.append(f"course_utils.__version__ ({init.group(1) if init else 'missing'}) differs from "
                     f"pyproject.toml's version {v}: run `python tools/release.py bump {v}`")
    for path in chapter_sources():
        refs = pinned_refs(path)
        if not refs:
            found.append(f"{path.relative_to(ROOT)} has no pinned Colab set-up cell "
                         f"(`os.environ.get(\"COURSE_REF\", \"{tag(v)}\")`): take the set-up cell of "
                         "book/_template.py (a notebook gets it from its .py: `make chapter CH=<the .py>`)")
        elif refs != [tag(v)]:
            found.append(f"{path.relative_to(ROOT)} pins {refs} instead of {tag(v)} in its Colab set-up cell: "
                         "run `python tools/release.py pin`")
    recorded = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.exists() else {}
    if recorded.get("version") != v:
        found.append(f"tools/release.json records version {recorded.get('version')}, not {v} (was the version "
                     f"changed by hand?): run `python tools/release.py bump {v}`")
    elif recorded.get("course_utils_sha256") != current_hash():
        found.append(f"src/course_utils (or its dependencies) changed since {tag(v)} was recorded: the chapters "
                     f"pin {tag(v)}, so Colab would install the old package with the new notebooks. If {tag(v)} "
                     "is released (tagged), bump the version: `python tools/release.py bump X.Y.Z` (no chapter "
                     "needs re-executing); if it is not released yet: `python tools/release.py record`")
    if with_tag:
        at_tag = tagged_hash(tag(v))
        if at_tag is not None and at_tag != current_hash():
            found.append(f"the package differs from the tagged release {tag(v)}: bump the version "
                         "(`python tools/release.py bump X.Y.Z`)")
    return found


def record() -> str:
    h = current_hash()
    RECORD.write_text(json.dumps({"version": version(), "course_utils_sha256": h,
                                  "about": "written by tools/release.py: the package hash of this version"},
                                 indent=1) + "\n", encoding="utf-8")
    return h


def bump(new: str) -> None:
    if not VERSION.match(new):
        raise SystemExit(f"a version is X.Y.Z (digits), got {new!r}")
    text = PYPROJECT.read_text(encoding="utf-8")
    text, n = re.subn(r'^(version\s*=\s*")[^"]*(")', lambda m: m.group(1) + new + m.group(2), text, count=1,
                      flags=re.M)
    if n != 1:
        raise SystemExit("pyproject.toml has no version line")
    PYPROJECT.write_text(text, encoding="utf-8")
    init = INIT.read_text(encoding="utf-8")
    init, n = re.subn(r'^__version__\s*=.*$', f'__version__ = "{new}"', init, count=1, flags=re.M)
    if n != 1:
        raise SystemExit(f"{INIT.relative_to(ROOT)} has no __version__ line")
    INIT.write_text(init, encoding="utf-8")
    changed = pin(tag(new))
    print(f"version {new}: pyproject.toml, {INIT.relative_to(ROOT)}; {len(changed)} set-up cells pinned to {tag(new)}")
    import make_student_notebooks

    make_student_notebooks.main([])
    print(f"recorded the package hash of {new} in tools/release.json")
    record()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="fail when a chapter's pin or the recorded package hash is stale")
    check.add_argument("--tag", action="store_true", help="also compare with the package at the tag v<version>")
    sub.add_parser("bump", help="set a new version, re-pin every chapter, record its hash").add_argument("version")
    rec = sub.add_parser("record", help="record the package hash of the current (unreleased) version")
    rec.add_argument("--force", action="store_true", help="even when the tag v<version> exists in this clone")
    sub.add_parser("pin", help="re-pin every chapter's set-up cell to v<version>")
    args = parser.parse_args(argv)
    if args.command == "check":
        found = problems(with_tag=args.tag)
        for problem in found:
            print(f"✗ {problem}")
        if not found:
            print(f"✓ every chapter pins {tag()}, and the package is the one recorded for {version()}")
        return 1 if found else 0
    if args.command == "bump":
        bump(args.version)
        return 0
    if args.command == "record":
        if tagged_hash(tag()) is not None and not args.force:
            print(f"✗ {tag()} is already tagged: a released version must not change; bump instead "
                  "(`python tools/release.py bump X.Y.Z`)")
            return 1
        print(f"recorded {record()[:12]}… for {version()} in tools/release.json")
        return 0
    changed = pin(tag())
    print(f"{len(changed)} files re-pinned to {tag()}" + "".join(f"\n  {p.relative_to(ROOT)}" for p in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
