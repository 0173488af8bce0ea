"""The bad-call survey: every public function of course_utils, every argument, a fixed list of bad values.

For each entry of the registry in ``tests/api_calls.py`` (one valid call per public function, class
and method), each argument in turn is replaced by every bad value of its kind
(:func:`api_calls.bad_values`: NaN/inf, zero and negative sizes, wrong and mismatched shapes,
strings, lists, None, NumPy where torch goes, float32 against float64, a function where a value
goes and a value where a function goes, unknown devices), and the outcome is classified:

- clear error: a ValueError/TypeError whose message names the argument (for a value that only
  changes a shape, naming the other argument of the mismatch also counts);
- sensible conversion: a result without NaN/inf;
- cryptic error: any other exception (AttributeError, IndexError, RuntimeError from torch, ...)
  or a message that does not name the argument;
- silent garbage: a result (or a model trained in place) holding NaN/inf;
- hang: no answer within the time limit.

Writes ``benchmarks/bad_inputs.md`` (counts per class and per module, and every outcome that is
not clear or a sensible conversion) and prints the summary. Deterministic: the same code gives the
same table. Usage::

    .venv/bin/python tools/bad_inputs.py                    # everything (a few minutes, one core)
    .venv/bin/python tools/bad_inputs.py --only course_utils.theory.linear --no-write
"""

from __future__ import annotations

import argparse
import collections
import datetime as _dt
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

import api_calls as A  # noqa: E402

Record = collections.namedtuple("Record", "key module argument label kind detail")

#: bad values that no caller can mean: a finite result for them is listed apart (see the report)
SUSPICIOUS = {"NaN", "inf", "-inf", "string", "function", "NaN entry", "inf entry", "NaN in first entry",
              "string entry", "NaN entry (float)"}


def survey(only: str = "", seconds: float = 5.0, verbose: bool = False) -> tuple[list[Record], list[Record]]:
    """Run every bad call; return (records of the bad calls, records of broken valid calls)."""
    records: list[Record] = []
    broken: list[Record] = []
    for key in sorted(A.REGISTRY):
        if only and not key.startswith(only):
            continue
        module = A.module_of(key)
        factory = A.REGISTRY[key]
        try:
            call = factory()
            valid = A.run_call(call, seconds=seconds)
            if valid.kind == A.HANG:   # a first call may spend its time warming up (torch.func, lazy imports)
                call = factory()
                valid = A.run_call(call, seconds=seconds)
        except Exception as exc:  # noqa: BLE001 - a factory that fails is reported, not fatal
            valid = A.Outcome(A.CRYPTIC, f"building the valid call failed: {type(exc).__name__}: {exc}")
        if valid.kind != A.CONVERSION:
            broken.append(Record(key, module, "", "the valid call", valid.kind, valid.detail))
            continue
        for argument, label, _ in A.perturbations(call):
            try:
                fresh = factory()
                bad = next(v for l, v in A.candidates(fresh, argument) if l == label)
                outcome = A.run_call(A.with_argument(fresh, argument, bad), argument=argument, seconds=seconds,
                                     shape_change=A.is_shape_change(label))
            except Exception as exc:  # noqa: BLE001
                outcome = A.Outcome(A.CRYPTIC, f"building the call failed: {type(exc).__name__}: {exc}")
            records.append(Record(key, module, argument, label, outcome.kind, outcome.detail))
            if verbose and not outcome.ok:
                print(f"  {key}({argument}={label}): {outcome.kind}: {outcome.detail[:120]}", flush=True)
    return records, broken


def _short(key: str) -> str:
    return key.removeprefix("course_utils.")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report(records: list[Record], broken: list[Record], seconds: float, wall: float, only: str) -> str:
    """The Markdown report."""
    by_kind = collections.Counter(r.kind for r in records)
    functions = sorted({r.key for r in records} | {r.key for r in broken})
    modules = sorted({r.module for r in records} | {r.module for r in broken})
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Bad inputs: every public function, every argument, a fixed list of bad values",
        "",
        "Written by `tools/bad_inputs.py` (the registry of valid calls: `tests/api_calls.py`); do not edit",
        "by hand. Each argument of each valid call is replaced in turn by every bad value of its kind, and",
        "the outcome is classified: **clear error** (ValueError/TypeError naming the argument; for a bad",
        "value that only changes a shape, naming the other argument of the mismatch counts too; a missing",
        "file's FileNotFoundError; a failed check's AssertionError), **sensible conversion** (a result",
        "without NaN/inf), **cryptic error** (another exception, or a message that does not name the",
        "argument: `(names y, not X)` says which argument it named instead), **silent garbage** (NaN/inf",
        f"in the result, or in a model trained in place), **hang** (no answer within {seconds:g} s). The",
        "value of a parameter's own default is never used as a bad value. **NaN passed on by design**:",
        "NaN/inf in a data argument of a function called at every training step (a forward pass, a",
        "per-sample loss) or of a measurement of possibly diverged weights, listed with the reason in",
        "`NAN_PASSES` of `tests/api_calls.py`: a scan of the data at every step would cost a pass over",
        "it, and the training loops stop with `TrainingDiverged` when the loss is not finite.",
        "`tests/test_properties_api.py` draws from the same bad values with hypothesis.",
        "",
        f"- last run: {now}, wall time {wall / 60:.1f} min" + (f" (only `{only}`)" if only else ""),
        f"- functions, classes and methods: {len(functions)}; bad calls: {len(records)}",
        f"- valid calls that fail: {len(broken)}",
        "",
        "## Outcomes",
        "",
        "| outcome | calls | share |",
        "| --- | --- | --- |",
    ]
    for kind in A.CLASSES:
        n = by_kind.get(kind, 0)
        lines.append(f"| {kind} | {n} | {100 * n / max(len(records), 1):.1f} % |")
    lines += ["", "## Per module", "", "| module | functions | bad calls | " +
              " | ".join(A.CLASSES) + " |", "| --- " * (3 + len(A.CLASSES)) + "|"]
    for module in modules:
        rs = [r for r in records if r.module == module]
        counts = collections.Counter(r.kind for r in rs)
        nfun = len({r.key for r in rs} | {r.key for r in broken if r.module == module})
        lines.append(f"| `{_short(module)}` | {nfun} | {len(rs)} | " +
                     " | ".join(str(counts.get(k, 0)) for k in A.CLASSES) + " |")
    if broken:
        lines += ["", "## Valid calls that fail (fix the registry entry or the function)", ""]
        lines += [f"- `{_short(r.key)}`: {r.kind}: {_cell(r.detail)}" for r in broken]
    suspicious = [r for r in records if r.kind == A.CONVERSION and r.label in SUSPICIOUS]
    if suspicious:
        lines += ["", "## Accepted without a word: a finite result for a value that cannot be meant", "",
                  "Not counted as failures (the issue asks for a clear error *or* a finite result), but worth a",
                  "look: NaN, ±inf, a string or a function went in and a finite answer came out, so the value",
                  "was ignored, coerced or compared as if it meant something.", "",
                  "| module | calls | examples |", "| --- | --- | --- |"]
        for module in modules:
            rs = [r for r in suspicious if r.module == module]
            if rs:
                shown = ", ".join(f"`{_short(r.key).split('.')[-1]}({r.argument}={r.label})`" for r in rs[:4])
                lines.append(f"| `{_short(module)}` | {len(rs)} | {_cell(shown)}{' …' if len(rs) > 4 else ''} |")
    lines += ["", "## Every outcome that is not clear or a sensible conversion", ""]
    bad = [r for r in records if r.kind not in A.OK_KINDS]
    if not bad:
        lines.append("None.")
    for module in modules:
        rs = [r for r in bad if r.module == module]
        if not rs:
            continue
        lines += [f"### `{_short(module)}` ({len(rs)})", "", "| call | bad value | outcome | detail |",
                  "| --- | --- | --- | --- |"]
        for r in rs:
            detail = r.detail if len(r.detail) <= 160 else r.detail[:157] + "..."
            lines.append(f"| `{_short(r.key)}({r.argument}=…)` | {_cell(r.label)} | {r.kind} | {_cell(detail)} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="only registry keys starting with this prefix")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a call counts as a hang")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "bad_inputs.md"))
    parser.add_argument("--no-write", action="store_true", help="print the summary only")
    parser.add_argument("--verbose", action="store_true", help="print every bad outcome as it happens")
    args = parser.parse_args(argv)

    import torch
    torch.set_num_threads(1)
    start = time.time()
    with A.scratch_directory():
        records, broken = survey(args.only, args.timeout, args.verbose)
    wall = time.time() - start
    text = report(records, broken, args.timeout, wall, args.only)
    if not args.no_write:
        pathlib.Path(args.output).write_text(text, encoding="utf-8")
    counts = collections.Counter(r.kind for r in records)
    print(f"{len({r.key for r in records})} functions, {len(records)} bad calls in {wall:.0f} s: " +
          ", ".join(f"{k} {counts.get(k, 0)}" for k in A.CLASSES) + f"; valid calls failing: {len(broken)}")
    per_module = collections.Counter(r.module for r in records if r.kind not in A.OK_KINDS)
    for module, n in sorted(per_module.items(), key=lambda kv: -kv[1]):
        print(f"  {module}: {n} not clear")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
