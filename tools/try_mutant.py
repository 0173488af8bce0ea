"""Rerun recorded surviving mutants of benchmarks/mutation.json against chosen tests, without mutmut.

    python tools/try_mutant.py course_utils.theory.kernels --list          # the non-string survivors
    python tools/try_mutant.py course_utils.theory.kernels x_nngp_kernel__mutmut_12 -- tests/test_theory_kernels.py
    python tools/try_mutant.py course_utils.theory.kernels --all -- tests/test_theory_kernels.py

Use it while writing a test for a survivor: the test should pass on the real code and fail under the
mutant ("killed"). The mutant is put into a scratch copy of src/ (``tools/mutation.py``'s
``run_survivor``: the diff's removed lines replaced by its added lines) and pytest runs the given tests
against it. "gone": the mutated lines are no longer in the file; "pragma": the line is now marked
``# pragma: no mutate``. The scores themselves come from ``make mutation`` (every mutant, with mutmut)
or ``tools/mutation.py --recheck`` (the recorded survivors against the tests written since).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutation import load_results, run_survivor  # noqa: E402


def survivors(module: str, run: str = "current") -> list[dict]:
    """The recorded non-string survivors of ``module`` in ``run``."""
    record = load_results()["runs"][run]["modules"][module]
    return [s for s in record["survivors"] if not s["string"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("module")
    parser.add_argument("mutants", nargs="*", help="mutant names (the part after the module is enough)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--all", action="store_true", help="every non-string survivor")
    parser.add_argument("--run", default="current")
    argv = sys.argv[1:]
    cut = argv.index("--") if "--" in argv else len(argv)
    args, tests = parser.parse_args(argv[:cut]), argv[cut + 1:]
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
        outcome = run_survivor(args.module, s, tests, quiet=len(chosen) > 1)
        print(f"{s['name'].split('.')[-1]}: {outcome}", flush=True)


if __name__ == "__main__":
    main()
