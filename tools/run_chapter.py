"""Execute one chapter in memory (nothing is written to the notebook) and report its checks.

    python tools/run_chapter.py book/<part>/<chapter>.py [--seed S] [--emulate-cpu] [--json OUT]

Runs the chapter's text source in a fresh kernel, with ``COURSE_SEED=S`` and
``COURSE_CHECKS=warn`` (a failed check is recorded and the chapter goes on, so one run shows every
check), and ``--emulate-cpu`` sets the variables that make this CPU compute like another one
(PyTorch's AVX2 kernels, MKL's AVX2 path, OpenBLAS's Haswell kernels). Prints one line per check
and a summary; ``--json`` writes the record that ``tools/robustness.py`` collects. Exit status 1
when a check failed or a cell raised.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

#: Environment that makes this CPU compute like another x86-64 CPU (the issue's "foreign CPU").
EMULATED_CPU = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"}


def run(chapter: Path, seed: int, emulate_cpu: bool, timeout: int = 1800) -> dict:
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = jupytext.read(chapter)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "checks.jsonl"
        env = {"COURSE_SEED": str(seed), "COURSE_CHECKS": "warn", "COURSE_CHECK_LOG": str(log),
               "COURSE_PROGRESS": "text", "COURSE_WIDGETS": "off", "COURSE_DEVICE": os.environ.get("COURSE_DEVICE", "cpu")}
        if emulate_cpu:
            env.update(EMULATED_CPU)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        error = None
        start = time.perf_counter()
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(chapter.parent)}}).execute()
        except CellExecutionError as exc:
            error = str(exc).strip().splitlines()[-1][:500]
        except Exception as exc:  # a kernel that died, a timeout
            error = f"{type(exc).__name__}: {exc}"[:500]
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        wall = time.perf_counter() - start
        checks = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    return {"chapter": chapter.as_posix(), "seed": seed, "emulated_cpu": emulate_cpu, "wall_s": round(wall, 1),
            "error": error, "checks": checks}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapter", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--emulate-cpu", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if args.chapter.suffix != ".py" or not args.chapter.exists():
        ap.error(f"{args.chapter} is not a chapter's text source (book/<part>/<chapter>.py)")
    record = run(args.chapter, args.seed, args.emulate_cpu)
    failed = [c for c in record["checks"] if not c["passed"]]
    for c in record["checks"]:
        print(f"{'✓' if c['passed'] else '✗'} {c['name']}: {c['measured']} (bound {c['bound']})")
    print(f"{args.chapter} seed {args.seed}{' emulated CPU' if args.emulate_cpu else ''}: "
          f"{len(record['checks']) - len(failed)} of {len(record['checks'])} checks pass, "
          f"{record['wall_s']:.0f} s" + (f"; ERROR {record['error']}" if record["error"] else ""))
    if args.json:
        args.json.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 1 if failed or record["error"] else 0


if __name__ == "__main__":
    sys.exit(main())
