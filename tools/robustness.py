"""Every check of every chapter at several seeds, on an emulated other CPU: a table of the results.

    python tools/robustness.py [--seeds 1-5] [--workers 2] [--chapters book/02_action/01_loss_as_action.py ...]

Each (chapter, seed) is executed in a fresh kernel by ``tools/run_chapter.py`` with
``COURSE_SEED=seed``, ``COURSE_CHECKS=warn`` and the emulated CPU, ``--workers`` at a time. The
records are merged into ``benchmarks/robustness.json`` (a run of some chapters replaces their
records and keeps the others) and the table ``benchmarks/robustness.md`` is written from it.
``make robustness`` runs all chapters at seeds 1–5. Exit status 1 when any check failed.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "robustness.json"
TABLE = ROOT / "benchmarks" / "robustness.md"


def chapters() -> list[Path]:
    return sorted(p.relative_to(ROOT) for p in (ROOT / "book").glob("[0-9]*/[0-9]*.py"))


def seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def run_one(chapter: Path, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "record.json"
        proc = subprocess.run([sys.executable, str(ROOT / "tools" / "run_chapter.py"), str(chapter),
                               "--seed", str(seed), "--emulate-cpu", "--json", str(out)],
                              cwd=ROOT, capture_output=True, text=True)
        if out.exists():
            return json.loads(out.read_text(encoding="utf-8"))
        return {"chapter": chapter.as_posix(), "seed": seed, "emulated_cpu": True, "wall_s": None,
                "error": (proc.stderr.strip().splitlines() or ["no output"])[-1][:500], "checks": []}


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, (int, float)) else str(x)


def write_table(records: list[dict], meta: dict) -> None:
    by_chapter: dict[str, dict[int, dict]] = {}
    for r in records:
        by_chapter.setdefault(r["chapter"], {})[r["seed"]] = r
    all_seeds = sorted({r["seed"] for r in records})
    n_checks = sum(len(r["checks"]) for r in records)
    n_failed = sum(not c["passed"] for r in records for c in r["checks"])
    n_errors = sum(bool(r["error"]) for r in records)
    lines = [
        "# Robustness: every check of every chapter, at several seeds, on an emulated other CPU",
        "",
        "Written by `make robustness` (`tools/robustness.py`); do not edit by hand. Each chapter is executed",
        "in a fresh kernel with `COURSE_SEED=<seed>`, `COURSE_CHECKS=warn` (a failed check is recorded and the",
        "chapter goes on) and the emulated CPU (`ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2",
        "OPENBLAS_CORETYPE=Haswell`). The stored notebooks are the run at seed 0 on the native CPU.",
        "",
        f"- last run: {meta['date']}, {meta['workers']} workers, wall time of that run {meta['wall_min']:.1f} min"
        f" ({meta['what']})",
        f"- seeds: {', '.join(map(str, all_seeds))}; chapters: {len(by_chapter)}; chapter runs: {len(records)}",
        f"- checks evaluated: {n_checks}; **failed: {n_failed}**; chapter runs that raised an error: {n_errors}",
        "",
        "## Summary: checks passed per chapter and seed (CPU time of the run in seconds)",
        "",
        "| chapter | " + " | ".join(f"seed {s}" for s in all_seeds) + " |",
        "| --- | " + " | ".join("---" for _ in all_seeds) + " |",
    ]
    for ch in sorted(by_chapter):
        cells = []
        for s in all_seeds:
            r = by_chapter[ch].get(s)
            if r is None:
                cells.append("–")
                continue
            ok = sum(c["passed"] for c in r["checks"])
            mark = "✓" if ok == len(r["checks"]) and not r["error"] else "✗"
            wall = f" ({r['wall_s']:.0f} s)" if r["wall_s"] is not None else ""
            cells.append(f"{mark} {ok}/{len(r['checks'])}{wall}" + (" error" if r["error"] else ""))
        lines.append(f"| `{ch}` | " + " | ".join(cells) + " |")
    failures = [(r["chapter"], r["seed"], c) for r in records for c in r["checks"] if not c["passed"]]
    errors = [(r["chapter"], r["seed"], r["error"]) for r in records if r["error"]]
    if failures or errors:
        lines += ["", "## Failures", ""]
        lines += [f"- `{ch}` seed {s}: {c['name']}: measured {_fmt(c['measured'])}, bound {_fmt(c['bound'])}"
                  for ch, s, c in failures]
        lines += [f"- `{ch}` seed {s}: error: {e}" for ch, s, e in errors]
    lines += ["", "## Every check: the measured value at each seed",
              "", "The value is the error (`check_close`: ‖m − p‖; `mode='every'`: the largest error in units of its",
              "tolerance; `mode='log'`: the largest |log-ratio|), the value (`check_less`), the count",
              "(`check_count`) or 1/0 (`check_true`); the bound is what it is compared with (at seed "
              f"{all_seeds[0]}). ✗ marks a failure.", ""]
    for ch in sorted(by_chapter):
        runs = by_chapter[ch]
        n = max(len(r["checks"]) for r in runs.values())
        lines += [f"### `{ch}`", "", "| # | check | bound | " + " | ".join(f"seed {s}" for s in all_seeds) + " |",
                  "| --- | --- | --- | " + " | ".join("---" for _ in all_seeds) + " |"]
        for i in range(n):
            first = next(r["checks"][i] for r in runs.values() if len(r["checks"]) > i)
            cells = []
            for s in all_seeds:
                r = runs.get(s)
                if r is None or len(r["checks"]) <= i:
                    cells.append("–")
                else:
                    c = r["checks"][i]
                    cells.append(("" if c["passed"] else "✗ ") + _fmt(c["measured"]))
            name = first["name"].replace("|", "\\|")
            lines.append(f"| {i + 1} | {name} | {_fmt(first['bound'])} | " + " | ".join(cells) + " |")
        lines.append("")
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-5")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chapters", nargs="*", type=Path)
    args = ap.parse_args()
    todo_chapters = args.chapters or chapters()
    jobs = [(ch, s) for s in seeds(args.seeds) for ch in todo_chapters]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(run_one, ch, s) for ch, s in jobs]
        new = []
        for f in futures:
            r = f.result()
            bad = sum(not c["passed"] for c in r["checks"])
            print(f"{r['chapter']} seed {r['seed']}: {len(r['checks']) - bad}/{len(r['checks'])} checks pass"
                  + (f", ERROR {r['error']}" if r["error"] else ""), flush=True)
            new.append(r)
    wall = (time.perf_counter() - start) / 60
    what = "all chapters" if not args.chapters else f"{len(todo_chapters)} chapter(s)"
    meta = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "workers": args.workers,
            "wall_min": wall, "what": f"{what}, seeds {args.seeds}"}
    with open(RESULTS.with_suffix(".lock"), "w") as lock:  # runs of other chapters may merge at the same time
        fcntl.flock(lock, fcntl.LOCK_EX)
        old = json.loads(RESULTS.read_text(encoding="utf-8"))["records"] if RESULTS.exists() else []
        keys = {(r["chapter"], r["seed"]) for r in new}
        records = [r for r in old if (r["chapter"], r["seed"]) not in keys] + new
        records.sort(key=lambda r: (r["chapter"], r["seed"]))
        RESULTS.write_text(json.dumps({"meta": meta, "records": records}, ensure_ascii=False, indent=1) + "\n",
                           encoding="utf-8")
        write_table(records, meta)
    failed = any(not c["passed"] for r in new for c in r["checks"]) or any(r["error"] for r in new)
    print(f"wall time {wall:.1f} min; table written to {TABLE.relative_to(ROOT)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
