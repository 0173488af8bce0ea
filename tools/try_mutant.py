"""Rerun one surviving mutant of benchmarks/mutation.json against chosen tests, without mutmut.

    python tools/try_mutant.py course_utils.theory.kernels x_nngp_kernel__mutmut_12 -- tests/test_theory_kernels.py
    python tools/try_mutant.py course_utils.theory.kernels --list          # the non-string survivors
    python tools/try_mutant.py course_utils.theory.kernels --all -- tests/test_theory_kernels.py

A survivor is recorded with its diff (the changed lines of its function, with context). This
script copies src/ into a scratch folder, finds the removed lines in the module's file (the
occurrence nearest the recorded line), puts the added lines in their place, and runs pytest on the
given tests with the scratch copy first on the path. The mutant is *killed* when pytest fails.
Use it while writing a test for a survivor: the test should pass here on the real code and fail
under the mutant. (The score itself comes from ``make mutation``, which reruns every mutant.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def survivors(module: str, run: str = "current", strings: bool = False) -> list[dict]:
    data = json.loads((ROOT / "benchmarks" / "mutation.json").read_text())
    record = data["runs"][run]["modules"][module]
    return [s for s in record["survivors"] if strings or not s["string"]]


def apply(source: str, diff: str, line: int) -> str:
    """``source`` with the mutant's removed lines replaced by its added lines."""
    old, new = [], []
    for row in diff.splitlines():
        if row.startswith("@@"):
            continue
        if row.startswith("-"):
            old.append(row[1:])
        elif row.startswith("+"):
            new.append(row[1:])
    lines = source.splitlines(keepends=True)
    starts = [i for i in range(len(lines) - len(old) + 1)
              if [x.rstrip("\n") for x in lines[i:i + len(old)]] == old]
    if not starts:
        raise LookupError("the mutated lines are not in the current file (the code changed since the run)")
    i = min(starts, key=lambda k: abs(k + 1 - line))
    return "".join(lines[:i]) + "".join(x + "\n" for x in new) + "".join(lines[i + len(old):])


def run_one(module: str, mutant: dict, tests: list[str], quiet: bool = True) -> str:
    path = Path(*module.split(".")).with_suffix(".py")
    with tempfile.TemporaryDirectory(prefix="try-mutant-") as tmp:
        shutil.copytree(ROOT / "src", Path(tmp) / "src", ignore=shutil.ignore_patterns("__pycache__"))
        target = Path(tmp) / "src" / path
        try:
            target.write_text(apply(target.read_text(), mutant["diff"], mutant["line"]))
        except LookupError as e:
            return f"gone ({e})"
        env = dict(os.environ, PYTHONPATH=str(Path(tmp) / "src"))
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *tests]
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=quiet, text=True)
        return "killed" if out.returncode != 0 else "survived"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module")
    parser.add_argument("mutants", nargs="*", help="mutant names (the part after the module is enough)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--all", action="store_true", help="every non-string survivor")
    parser.add_argument("--run", default="current")
    args, rest = parser.parse_known_args()
    tests = rest[1:] if rest[:1] == ["--"] else rest
    found = survivors(args.module, args.run)
    if args.list:
        for s in found:
            print(f"{s['name'].split('.')[-1]}  line {s['line']}\n{s['diff']}\n")
        return
    chosen = found if args.all else [s for s in found if any(s["name"].endswith(m) for m in args.mutants)]
    if not chosen:
        sys.exit("no such survivor: see --list")
    if not tests:
        sys.exit("give the tests to run after --")
    for s in chosen:
        print(f"{s['name'].split('.')[-1]}: {run_one(args.module, s, tests, quiet=not (len(chosen) == 1))}",
              flush=True)


if __name__ == "__main__":
    main()
