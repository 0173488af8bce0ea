"""The Colab pin: every chapter installs the release v<version> of course_utils, and the package has
not changed since that version was recorded (tools/release.py)."""

from __future__ import annotations

import copy
import json
import re
import sys
import types
from pathlib import Path

import pytest

import course_utils

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import freshness  # noqa: E402
import release  # noqa: E402

SOURCES = sorted((ROOT / "book").glob("*/*.py")) + [release.TEMPLATE]


def test_the_package_version_is_pyprojects():
    assert course_utils.__version__ == release.version(), (
        f"course_utils.__version__ is {course_utils.__version__}, pyproject.toml says {release.version()}: "
        f"`python tools/release.py bump {release.version()}` (or reinstall: `make install`)")


@pytest.mark.parametrize("source", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_every_set_up_cell_pins_the_release(source):
    assert release.pinned_refs(source) == [release.tag()], (
        f"{source.relative_to(ROOT)}: the Colab set-up cell must install {release.tag()} "
        f"(`os.environ.get(\"COURSE_REF\", \"{release.tag()}\")`, as in book/_template.py); "
        "`python tools/release.py pin`")


def test_the_package_is_the_one_recorded_for_this_version():
    recorded = json.loads(release.RECORD.read_text(encoding="utf-8"))
    assert recorded["version"] == release.version(), (
        f"tools/release.json is for {recorded['version']}, pyproject.toml says {release.version()}: change the "
        "version with `python tools/release.py bump X.Y.Z`, not by hand")
    assert recorded["course_utils_sha256"] == release.current_hash(), (
        f"src/course_utils changed since {release.tag()} was recorded; the chapters pin {release.tag()}, so "
        f"Colab would install the old package. Released (tagged) already: `python tools/release.py bump X.Y.Z` "
        "(no chapter needs re-executing). Not released yet: `python tools/release.py record`.")


def test_package_hash_ignores_the_version_line_only():
    pyproject = '[project]\nname = "x"\nversion = "1.0.0"\ndependencies = [\n    "numpy>=1",\n]\n[tool.x]\na = 1\n'
    files = {"src/course_utils/__init__.py": '"""Doc."""\n__version__ = "1.0.0"\nX = 1\n'}
    base = release.package_hash(files, pyproject)
    bumped = {"src/course_utils/__init__.py": files["src/course_utils/__init__.py"].replace("1.0.0", "1.1.0")}
    assert release.package_hash(bumped, pyproject.replace('"1.0.0"', '"1.1.0"')) == base
    assert release.package_hash(bumped, pyproject.replace("a = 1", "a = 2")) == base   # other tables: no
    changed = {"src/course_utils/__init__.py": files["src/course_utils/__init__.py"].replace("X = 1", "X = 2")}
    assert release.package_hash(changed, pyproject) != base
    assert release.package_hash(files, pyproject.replace("numpy>=1", "numpy>=2")) != base
    assert release.package_hash({**files, "src/course_utils/new.py": ""}, pyproject) != base


SET_UP = '''import os
import subprocess
import sys

if "google.colab" in sys.modules:
    ref = os.environ.get("COURSE_REF", "v0.1.0")  # the release pinned by tools/release.py
    url = f"git+https://github.com/o/r@{ref}"
'''


def test_pin_rewrites_text_sources_and_notebooks_alike(tmp_path):
    py = tmp_path / "a.py"
    py.write_text("# %%\n" + SET_UP)
    nb = tmp_path / "a.ipynb"
    cell = {"cell_type": "code", "source": SET_UP.splitlines(keepends=True), "metadata": {}, "outputs": [],
            "execution_count": 1}
    nb.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1))
    before = nb.read_text()
    assert release.pinned_refs(py) == ["v0.1.0"] and release.pinned_refs(nb) == ["v0.1.0"]
    assert release.pin("v0.3.0", [py, nb]) == [py, nb]
    assert release.pinned_refs(py) == ["v0.3.0"] and release.pinned_refs(nb) == ["v0.3.0"]
    assert nb.read_text() == before.replace("v0.1.0", "v0.3.0")   # nothing else in the file moved
    assert json.loads(nb.read_text())["cells"][0]["source"][5].endswith('"v0.3.0")  # the release pinned by '
                                                                        "tools/release.py\n")
    assert release.pin("v0.3.0", [py, nb]) == []


def test_fingerprint_ignores_the_pin_and_the_version_line():
    nb = {"cells": [{"cell_type": "code", "source": SET_UP + "import course_utils as cu\n", "metadata": {}}],
          "metadata": {}}
    other = copy.deepcopy(nb)
    other["cells"][0]["source"] = other["cells"][0]["source"].replace("v0.1.0", "v9.9.9")
    assert freshness.fingerprint(nb) == freshness.fingerprint(other)
    changed = copy.deepcopy(nb)
    changed["cells"][0]["source"] = changed["cells"][0]["source"].replace("o/r", "o/s")
    assert freshness.fingerprint(nb)["code"] != freshness.fingerprint(changed)["code"]
    assert freshness.VERSION_LINE.sub("", '__version__ = "0.2.0"\nX = 1\n') == "\nX = 1\n"


def _colab_install_block() -> str:
    """The Colab branch of the template's set-up cell (what every chapter runs on Colab)."""
    text = release.TEMPLATE.read_text(encoding="utf-8")
    block = re.search(r'^if "google\.colab" in sys\.modules:\n(?:(?:    .*)?\n)+', text, re.M)
    assert block, "book/_template.py has no Colab block in its set-up cell"
    return block.group(0)


@pytest.mark.parametrize("stderr", ["fatal: unable to access 'https://github.com/o/r/': Could not resolve host",
                                    "error: pathspec 'v0.2.0' did not match any file(s) known to git"])
def test_a_failed_colab_install_says_why_and_what_to_do(stderr, monkeypatch):
    runs = []

    def run(cmd, **kwargs):
        runs.append(cmd)
        return types.SimpleNamespace(returncode=1, stderr=stderr, stdout="")

    fake_sys = types.SimpleNamespace(modules={"google.colab": object()}, executable="python")
    monkeypatch.delenv("COURSE_REF", raising=False)
    import os

    with pytest.raises(RuntimeError) as failure:
        exec(_colab_install_block(), {"sys": fake_sys, "os": os, "subprocess": types.SimpleNamespace(run=run)})
    message = str(failure.value)
    assert runs and runs[0][-1].endswith(f"@{release.tag()}")
    assert stderr in message and "no network" in message and f"no tag {release.tag()}" in message
    assert "%env COURSE_REF=main" in message


def test_the_colab_install_takes_another_ref_from_the_environment(monkeypatch):
    runs = []
    fake_sys = types.SimpleNamespace(modules={"google.colab": object()}, executable="python")
    monkeypatch.setenv("COURSE_REF", "main")
    import os

    exec(_colab_install_block(), {"sys": fake_sys, "os": os, "subprocess": types.SimpleNamespace(
        run=lambda cmd, **kw: runs.append(cmd) or types.SimpleNamespace(returncode=0, stderr="", stdout=""))})
    assert runs[0][-1].endswith("@main") and runs[0][:4] == ["python", "-m", "pip", "install"]
