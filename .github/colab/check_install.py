"""Install the course the way a chapter's Colab set-up cell does, and prove it kept Colab's packages.

    python .github/colab/check_install.py PIP_TARGET     # e.g. git+https://github.com/OWNER/REPO@v0.2.0

Used by .github/workflows/colab.yml after it has installed Colab's versions of the packages listed
in .github/colab/preinstalled.txt. In order, each step failing with a message that says what broke:

1. every package of preinstalled.txt is installed at its version (else the simulated runtime is
   not Colab's and the rest would prove nothing);
2. ``pip install --dry-run --report``: pip's plan for PIP_TARGET must not install any of them
   (a lower bound of pyproject.toml above Colab's version would replace, e.g., Colab's CUDA torch);
3. ``pip install -q PIP_TARGET``, exactly as the set-up cell runs it;
4. every package of preinstalled.txt still at its version, and ``pip check`` finds no broken
   requirement.

A version's local part is ignored (Colab's ``2.8.0+cu126`` and the runner's ``2.8.0+cpu`` are both
``2.8.0``). Exit status 0 when all four hold, 1 otherwise.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

PREINSTALLED = Path(__file__).resolve().parent / "preinstalled.txt"


def normalize(name: str) -> str:
    """A distribution name as pip compares it (PEP 503): lower case, runs of -_. as one '-'."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = PREINSTALLED) -> dict[str, str]:
    """The ``name==version`` lines of ``path`` as {normalized name: version}; comments skipped.

    Raises ValueError on any other kind of line, so the file stays a plain list of exact pins.
    """
    pins = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.]*)", line)
        if not m:
            raise ValueError(f"{path}:{number}: {raw!r} is not an exact pin 'name==version'")
        pins[normalize(m.group(1))] = m.group(2)
    return pins


def public(version: str) -> str:
    """The version without its local part: '2.8.0+cu126' -> '2.8.0'."""
    return version.split("+", 1)[0]


def mismatches(pins: dict[str, str]) -> list[str]:
    """One line per pinned package that is missing or at another version in this environment."""
    out = []
    for name, want in pins.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            out.append(f"{name}: not installed (Colab has {want})")
            continue
        if public(have) != want:
            out.append(f"{name}: {have} installed, Colab has {want}")
    return out


def planned_replacements(report: dict, pins: dict[str, str]) -> list[str]:
    """Packages of ``pins`` that a ``pip install --report`` plan would install (i.e. replace)."""
    out = []
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name = normalize(meta.get("name", ""))
        if name in pins:
            out.append(f"{name}: pip would install {meta.get('version')} over Colab's {pins[name]}")
    return out


def fail(title: str, lines: list[str]) -> int:
    print(f"::error::{title}")
    for line in lines:
        print(f"  ✗ {line}")
    return 1


def pip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pip", *args], text=True)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    target = argv[0]
    pins = read_pins()

    bad = mismatches(pins)
    if bad:
        return fail("the simulated Colab runtime does not have Colab's versions (preinstalled.txt)", bad)
    print(f"✓ Colab's versions are installed: {', '.join(f'{n} {v}' for n, v in pins.items())}")

    with tempfile.TemporaryDirectory() as tmp:
        report_path = Path(tmp) / "report.json"
        if pip("install", "--dry-run", "--quiet", "--report", str(report_path), target).returncode:
            return fail(f"pip cannot plan the install of {target}",
                        ["see pip's message above; a missing tag v<version> is created by release.yml "
                         "on a push to main"])
        report = json.loads(report_path.read_text(encoding="utf-8"))
    planned = [f"{i['metadata']['name']} {i['metadata']['version']}" for i in report.get("install", [])]
    print(f"pip's plan for the set-up cell's install: {', '.join(planned) or 'nothing'}")
    bad = planned_replacements(report, pins)
    if bad:
        return fail("installing the course would replace Colab's packages: lower the bounds in pyproject.toml", bad)
    print("✓ the plan replaces none of Colab's packages")

    if pip("install", "-q", target).returncode:
        return fail(f"`pip install -q {target}` (the Colab set-up cell's command) failed", ["see pip's message above"])
    bad = mismatches(pins)
    if bad:
        return fail("installing the course changed Colab's packages", bad)
    if pip("check").returncode:
        return fail("`pip check` finds broken requirements after installing the course", ["see pip's list above"])
    print("✓ after the install: Colab's versions unchanged, `pip check` clean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
