"""Mutation testing of course_utils with mutmut 3: do the tests notice when the code is wrong?

    python tools/mutation.py                                   # the whole scope (see SCOPE), module by module
    python tools/mutation.py --modules course_utils.theory.kernels course_utils.checks
    python tools/mutation.py --modules course_utils.fits --max-children 1 --keep
    python tools/mutation.py --list                            # the modules and the tests each one runs
    git archive 90052e1 | tar -x -C /tmp/mutation-before    # an older version of the code, measured as "before":
    python tools/mutation.py --source /tmp/mutation-before --source-name "commit 90052e1" \
        --run before --label "before (commit 90052e1)" --modules course_utils.checks
    make mutation [MODULES="course_utils.theory.kernels ..."]
    python tools/mutation.py --recheck --modules course_utils.theory.kernels --max-children 2   # see below

What it does
------------
mutmut makes many small changes ("mutants") to the code, one at a time -- ``a + b`` becomes
``a - b``, ``x <= 0`` becomes ``x < 0``, a call loses an argument, a number becomes number + 1 --
and runs the tests on each. A mutant is *killed* when a test fails, and *survives* when all
tests pass: a surviving mutant is a change to the physics that no test would notice.

Each module is measured on its own, in a scratch copy of the repository
(``$TMPDIR/mutation-<module>-<pid>``: src/, tests/, pyproject.toml, setup.cfg), so that several
people can run this at once without sharing mutmut's ``./mutants`` folder. In the copy,
pyproject.toml gets a ``[tool.mutmut]`` section that mutates only that module's file and runs only
the unit tests that import the module (found by reading the tests' imports, ``tests_for``). The
chapter tests (``*_chapter.py``, ``*_chapters.py``, ``test_explorers_*.py``: small trainings of
seconds each) are left out unless ``--chapter-tests`` is given, or no other test imports the module:
every surviving mutant reruns all the tests that call its function, and with them a theory module
takes hours instead of minutes. The notebook, student-notebook, book-shell, freshness, release,
removal, workflow and edition tests are never run: they execute notebooks or check files, not the
physics. Give ``--tests tests/test_x.py ...`` to choose the tests yourself. mutmut then

1. copies src/ into ``mutants/src`` with every function rewritten into a trampoline that calls the
   original or one mutant (chosen by the environment variable ``MUTANT_UNDER_TEST``), and puts
   ``mutants/src`` first on ``sys.path``. The editable install of course_utils (a .pth file adding
   the checkout's src/) stays behind it on the path, so the mutated copy is what the tests import.
   mutmut checks this itself before it starts ("forced fail test": every trampoline raises, and the
   run stops with "Unable to force test failures" if the tests still pass);
2. runs the selected tests once, recording which test calls which function ("stats") and how long
   each test takes, then once more unmutated ("clean tests": they must pass);
3. runs, for each mutant, only the tests that called its function, with pytest ``-x``, in a forked
   process (``--max-children`` at a time, default 1: the reference machine has 2 cores shared by
   many people). A mutant whose tests use more than ``15 * 2 * (their normal time + 1 s)`` seconds of
   CPU is stopped and counted as a *timeout*.

The results (mutants/**/*.meta in the copy) are read back, the copy is deleted (unless ``--keep``),
and the module's record replaces the old one in ``benchmarks/mutation.json`` (records of other
modules are kept); ``benchmarks/mutation.md`` is rewritten from the JSON.

How long it takes
-----------------
Twice the time of the selected tests, plus, for each mutant, the time of the tests that call its
function (all of them for a survivor; up to the first failure for a killed one, with ``-x``). On the
2-core reference machine with ``--max-children 1``, while shared with 7 other people (load 8-10):
fits.py (80 mutants) 1.2 min, checks.py (687) 6 min, theory/lazy_rich.py (407) 7 min; a module of
theory/ has 200-1,400 mutants, all of theory/ about 14,000: several hours. The measured runtime of
every module is in benchmarks/mutation.md.

The mutation operators of mutmut 3.8
------------------------------------
numbers ``n -> n + 1``; string literals ``"s" -> "XXsXX"``, lower-case and upper-case (not
docstrings or other triple-quoted strings, not f-strings); ``True <-> False``; ``deepcopy -> copy``;
assignments ``a = b -> a = None`` (and ``a = None -> a = ""``); ``a += b -> a = b``; operators
``+ <-> -``, ``* <-> /``, ``// -> /``, ``% -> /``, ``** -> *``, ``<< <-> >>``, ``& <-> |``,
``^ -> &``, the same for ``+=`` etc.; comparisons ``< <-> <=``, ``> <-> >=``, ``== <-> !=``,
``is <-> is not``, ``in <-> not in``; ``and <-> or``; ``not x -> x``, ``~x -> x``;
``break -> return``, ``continue -> break``; in a call each argument replaced by None, and each
argument dropped (when there are several); ``dict(a=...) -> dict(aXX=...)``; ``lambda: x ->
lambda: None``; string methods swapped (``lower <-> upper``, ``lstrip <-> rstrip``, ``find <-> rfind``,
``split <-> rsplit`` ...); a ``match`` loses one ``case``; ``x if c else y`` forced down each arm
(``(c) and False``, ``(c) or True``). Only code inside functions and methods is mutated (module
constants and class bodies are not).

How the score counts
--------------------
``score = killed / (killed + survived)``. Not in the score, each reported in its own column:
*timeout* (the tests ran far longer than normal: usually an infinite loop the mutant made -- in
practice noticed, but not by a failing test), *no tests* (no selected test calls the function: its
mutants cannot be killed; the functions are listed), *suspicious*/*segfault* (the test process
died oddly) and *not checked* (an interrupted run).

String-literal mutants ("XX" added, case changed) mostly change error messages, titles and
labels -- not physics. A mutant counts as a string mutant when the mutated function's tokens differ
from the original's only in string literals (a string *argument* replaced by None or dropped is
not one). Two scores are reported:

- ``score`` -- all mutants;
- ``score without strings`` -- string mutants left out. **The issue's target is on this number.**

Strings that choose behaviour (``activation="relu"``, ``reduction="mean"``, a dict key) still
matter: a surviving string mutant that is not a message is worth a test; look at the list.

Reading a survivor
------------------
benchmarks/mutation.md lists every surviving mutant of a module as a diff of the function
(``-`` the original line, ``+`` the mutant), with its name and source line. Ask: which input would
give a different answer under the mutant? Then write the test that checks that answer (a closed
form, a limit, a symmetry, an independent computation). To try a new test on recorded survivors:
``python tools/try_mutant.py <module> <mutant name> ... -- tests/<new test file>`` (the mutant is put
into a scratch copy of src/ from its recorded diff; "killed" when the test fails). To rerun one mutant
with mutmut itself: run with ``--keep``, then ``cd <scratch> && mutmut run "<mutant name>"``.

Rechecking survivors
--------------------
``python tools/mutation.py --recheck --modules <module> [--tests tests/<new file> ...]`` does not run
mutmut: it reruns the module's recorded non-string survivors against the tests written or changed since
its run (``--max-children`` at a time) and updates the record (killed, survived, score; the recheck is
noted in the table). This is sound only for the code that was measured, so it is refused when the
module's code (comments aside: the record's ``code_hash``) changed since the run. A survivor on a line
now marked ``# pragma: no mutate`` leaves the count, as it would in a new run. String survivors are left
as survived (the score without strings does not count them; the full score is then a lower bound).
Minutes instead of the module's full run; the full run (``make mutation``) remains the reference.

Equivalent mutants
------------------
Some mutants cannot be killed because they do not change what the function computes (``x ** 2 ->
x * 2`` is not one; ``range(0, n) -> range(1, n)`` where the 0-th term is zero is; a tolerance
``1e-12 -> 1.000000000001e-12``). Mark such a line with ``# pragma: no mutate`` and a comment
saying why it is equivalent, e.g.::

    total = 0.0  # pragma: no mutate (the first term added below is the exact value; 0.0 vs None never reaches it)

Use it sparingly: a pragma hides the line from every future mutant. ``# pragma: no mutate block``
on a statement hides the whole statement; ``start``/``end`` pragmas a region.
"""

from __future__ import annotations

import argparse
import ast
import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from difflib import unified_diff
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "mutation.json"
TABLE = ROOT / "benchmarks" / "mutation.md"

# The scope of the issue: the modules whose numbers the chapters' physics rests on.
SCOPE = ("course_utils.theory", "course_utils.checks", "course_utils.fits", "course_utils.ensemble",
         "course_utils.train")

# Tests that execute notebooks, build the book or check files: never run under mutmut.
EXCLUDED_TESTS = ("test_notebooks.py", "test_student_notebooks.py", "test_book_shell.py", "test_freshness.py",
                  "test_release.py", "test_removal.py", "test_workflows.py", "test_course_edition.py")

# Copied into the scratch copy (when they exist in the source tree).
COPIED = ("src", "tests", "pyproject.toml", "setup.cfg")

# The status mutmut 3.8 gives each exit code of a mutant's test run (mutmut.stats.status_by_exit_code).
STATUS_BY_EXIT_CODE: dict[Any, str] = {
    1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 2: "not checked", None: "not checked",
    34: "skipped", 35: "suspicious", 36: "timeout", 37: "killed", -24: "timeout", 24: "timeout", 152: "timeout",
    255: "timeout", -11: "segfault", -9: "segfault",
}
COUNTED = ("killed", "survived", "timeout", "no tests", "suspicious", "segfault", "skipped", "not checked")


# --------------------------------------------------------------------------------------------------------------
# Which modules, which tests


def module_path(module: str, source: Path) -> Path:
    """The file of a dotted module name (``course_utils.fits -> src/course_utils/fits.py``), relative to source."""
    rel = Path("src", *module.split("."))
    if (source / rel.with_suffix(".py")).is_file():
        return rel.with_suffix(".py")
    raise SystemExit(f"--modules: no file src/{'/'.join(module.split('.'))}.py in {source} for module {module!r} "
                     f"(expected a module of course_utils, e.g. course_utils.theory.kernels)")


def expand_modules(names: list[str], source: Path) -> list[str]:
    """Dotted names of the module files: a package (``course_utils.theory``) stands for its modules,
    except ``__init__.py`` files that only import."""
    out: list[str] = []
    for name in names:
        package = source / "src" / Path(*name.split("."))
        if package.is_dir():
            for file in sorted(package.glob("*.py")):
                if file.name == "__init__.py" and not _has_functions(file):
                    continue
                dotted = name if file.name == "__init__.py" else f"{name}.{file.stem}"
                out.append(dotted)
        else:
            module_path(name, source)
            out.append(name)
    return list(dict.fromkeys(out))


def _has_functions(file: Path) -> bool:
    tree = ast.parse(file.read_text(encoding="utf-8"))
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in ast.walk(tree))


@cache
def _reexports(source: Path) -> dict[str, str]:
    """``course_utils.<name>`` -> the module that defines it, for the names a package's __init__ imports
    from its modules (``course_utils.check_close -> course_utils.checks``)."""
    out: dict[str, str] = {}
    for init in (source / "src").rglob("__init__.py"):
        package = ".".join(init.parent.relative_to(source / "src").parts)
        for node in ast.walk(ast.parse(init.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                for alias in node.names:
                    out[f"{package}.{alias.asname or alias.name}"] = f"{package}.{node.module}"
    return out


@cache
def imported_names(test_file: Path) -> set[str]:
    """Every dotted course_utils name a test file reaches: its imports, and attribute chains on the
    names it imported (``cu.theory.kernels.nngp`` after ``import course_utils as cu``)."""
    tree = ast.parse(test_file.read_text(encoding="utf-8"))
    alias: dict[str, str] = {}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("course_utils"):
                    names.add(a.name)
                    alias[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("course_utils"):
            for a in node.names:
                full = f"{node.module}.{a.name}"
                names.update((node.module, full))
                alias[a.asname or a.name] = full
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            chain: list[str] = []
            inner: ast.AST = node
            while isinstance(inner, ast.Attribute):
                chain.append(inner.attr)
                inner = inner.value
            if isinstance(inner, ast.Name) and inner.id in alias:
                parts = [alias[inner.id], *reversed(chain)]
                for i in range(1, len(parts) + 1):
                    names.add(".".join(parts[:i]))
    return names


def is_chapter_test(name: str) -> bool:
    """The theory-vs-experiment tests of the chapters (and of their explorers): small trainings, seconds each."""
    return name.endswith(("_chapter.py", "_chapters.py")) or name.startswith("test_explorers_")


def tests_for(module: str, source: Path, chapter_tests: bool = False) -> list[str]:
    """The test files (relative paths) that import ``module``, directly, through its package or through a
    name its package re-exports; the EXCLUDED_TESTS never; the chapter tests only with ``chapter_tests``
    (or when no other test file imports the module)."""
    reexports = _reexports(source)
    selected = []
    for test_file in sorted((source / "tests").glob("test_*.py")):
        if test_file.name in EXCLUDED_TESTS:
            continue
        reached = set(imported_names(test_file))
        reached |= {reexports[n] for n in reached if n in reexports}
        if any(n == module or n.startswith(module + ".") for n in reached):
            selected.append(test_file.relative_to(source).as_posix())
    unit = [t for t in selected if not is_chapter_test(Path(t).name)]
    return selected if chapter_tests or not unit else unit


# --------------------------------------------------------------------------------------------------------------
# Running mutmut in a scratch copy


def _mutmut_settings() -> dict[str, Any]:
    """The [tool.mutmut] settings of this repository's pyproject.toml (for the keys not set per module)."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: the defaults below
        return {}
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(data.get("tool", {}).get("mutmut", {}))


def _toml_value(value: Any) -> str:
    return json.dumps(value)  # strings, numbers, booleans and lists of strings read the same in TOML


def make_scratch(module: str, tests: list[str], source: Path) -> Path:
    """A copy of source's src/, tests/ and project files, its pyproject.toml set up to mutate ``module`` only."""
    scratch = Path(tempfile.gettempdir()) / f"mutation-{module.replace('course_utils.', '')}-{os.getpid()}"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", ".pytest_cache", "mutants")
    for name in COPIED:
        if (source / name).is_dir():
            shutil.copytree(source / name, scratch / name, ignore=ignore)
        elif (source / name).is_file():
            shutil.copy2(source / name, scratch / name)
    settings = _mutmut_settings()
    settings.update(source_paths=["src"], only_mutate=[module_path(module, source).as_posix()],
                    pytest_add_cli_args_test_selection=tests)
    settings.setdefault("pytest_add_cli_args", ["-p", "no:cacheprovider"])
    pyproject = (scratch / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"(?ms)^\[tool\.mutmut\].*?(?=^\[|\Z)", "", pyproject)
    pyproject = pyproject.rstrip() + "\n\n[tool.mutmut]\n" + "".join(
        f"{key} = {_toml_value(value)}\n" for key, value in settings.items())
    (scratch / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return scratch


def mutmut_executable() -> str:
    exe = Path(sys.executable).parent / "mutmut"
    if not exe.exists():
        raise SystemExit(f"mutmut is not installed next to {sys.executable}: "
                         f"{sys.executable} -m pip install \"mutmut>=3.8,<4\" (or: make mutation)")
    return str(exe)


def run_mutmut(scratch: Path, max_children: int) -> tuple[int, float]:
    """``mutmut run`` in scratch; its output goes to scratch/mutmut.log. Returns (exit status, seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "MUTANT_UNDER_TEST"))}
    env.setdefault("PYTHONHASHSEED", "0")
    start = time.monotonic()
    with open(scratch / "mutmut.log", "w", encoding="utf-8") as log:
        proc = subprocess.run([mutmut_executable(), "run", "--max-children", str(max_children)], cwd=scratch,
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    return proc.returncode, time.monotonic() - start


# --------------------------------------------------------------------------------------------------------------
# Reading the results back


def _tokens(code: str) -> list[tuple[int, str]]:
    return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(code).readline)
            if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)]


def is_string_mutant(original: str, mutant: str) -> bool:
    """True when the two codes differ only inside string literals (same tokens otherwise)."""
    a, b = _tokens(original), _tokens(mutant)
    if len(a) != len(b):
        return False
    differing = [(x, y) for x, y in zip(a, b) if x != y]
    return bool(differing) and all(x[0] == y[0] == tokenize.STRING for x, y in differing)


def _function_lines(path: Path) -> dict[tuple[str | None, str], int]:
    """(class or None, function name) -> the line of its ``def`` in the original source."""
    out: dict[tuple[str | None, str], int] = {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[(None, node.name)] = node.lineno
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out[(node.name, item.name)] = item.lineno
    return out


def code_hash(module: str, source: Path) -> str:
    """sha256 of the module's code without comments (tools/freshness.py's ``without_comments``): a record
    whose hash matches the file measured this code; a ``# pragma: no mutate`` comment does not change it."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from freshness import without_comments
    finally:
        sys.path.remove(str(ROOT / "tools"))
    text = (source / module_path(module, source)).read_text(encoding="utf-8")
    return hashlib.sha256(without_comments(text).encode()).hexdigest()


def apply_diff(text: str, diff: str, line: int | None) -> tuple[str, int]:
    """``text`` (a module's source) with a recorded mutant put in: the diff's removed lines replaced by its
    added lines, at the occurrence nearest the recorded line. Returns the new text and the index of the first
    changed line. Raises LookupError when the removed lines are no longer in the file."""
    old = [row[1:] for row in diff.splitlines() if row.startswith("-")]
    new = [row[1:] for row in diff.splitlines() if row.startswith("+")]
    lines = text.splitlines(keepends=True)
    bare = [re.sub(r"\s*# pragma: no mutate.*$", "", x.rstrip("\n")).rstrip() for x in lines]
    for indent in ("", "    ", "        "):   # a method's diff is recorded without its class's indentation
        want = [(indent + x).rstrip() for x in old]
        starts = [i for i in range(len(lines) - len(old) + 1) if bare[i:i + len(old)] == want]
        if old and starts:
            i = min(starts, key=lambda k: abs(k + 1 - (line or 0)))
            return "".join(lines[:i]) + "".join(indent + x + "\n" for x in new) + "".join(lines[i + len(old):]), i
    raise LookupError("the mutated lines are not in the current file (the code changed since the run)")


def run_survivor(module: str, survivor: dict[str, Any], tests: list[str], source: Path = ROOT,
                 quiet: bool = True) -> str:
    """Put one recorded survivor into a scratch copy of src/ and run ``tests`` (pytest -x) against it:
    "killed" (a test failed), "survived", "pragma" (its line now carries ``# pragma: no mutate``: a new run
    would not make this mutant) or "gone" (its lines changed)."""
    rel = module_path(module, source)
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        shutil.copytree(source / "src", Path(tmp) / "src", ignore=shutil.ignore_patterns("__pycache__"))
        target = Path(tmp) / rel       # rel is src/course_utils/...
        text = target.read_text(encoding="utf-8")
        try:
            mutated, i = apply_diff(text, survivor["diff"], survivor["line"])
        except LookupError:
            return "gone"
        if "pragma: no mutate" in text.splitlines()[i]:
            return "pragma"
        target.write_text(mutated, encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(Path(tmp) / "src"), MUTANT_UNDER_TEST="")
        out = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests],
                             cwd=source, env=env, capture_output=quiet, text=True)
        return "killed" if out.returncode != 0 else "survived"


def recheck(record: dict[str, Any], module: str, tests: list[str], source: Path, workers: int) -> dict[str, int]:
    """Rerun a record's non-string survivors against ``tests`` (the tests written since the run) and update
    the record in place. Sound because the module's code is the one measured (same ``code_hash``) and the
    old tests only gained tests: a mutant they killed stays killed, and a survivor of the old tests is
    killed now only if a new test fails under it. String survivors are left as they were (counted as
    survived: the score without strings does not use them, the full score is then a lower bound)."""
    physics = [s for s in record["survivors"] if not s["string"]]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(lambda s: run_survivor(module, s, tests, source), physics))
    tally = {k: outcomes.count(k) for k in ("killed", "survived", "pragma", "gone")}
    gone = {s["name"] for s, o in zip(physics, outcomes) if o in ("killed", "pragma")}
    record["survivors"] = [s for s in record["survivors"] if s["name"] not in gone]
    record["killed"] += tally["killed"]
    record["survived"] -= tally["killed"] + tally["pragma"]
    record["mutants"] -= tally["pragma"]
    record["score"] = _score(record["killed"], record["survived"])
    record["score_without_strings"] = _score(record["killed"] - record["string"]["killed"],
                                             record["survived"] - record["string"]["survived"])
    record.setdefault("rechecks", []).append(dict(
        at=datetime.now(timezone.utc).isoformat(timespec="seconds"), tests=tests, **tally))
    return tally


def collect(scratch: Path, module: str, source: Path) -> dict[str, Any]:
    """The record of one module: counts, scores, survivors with their diffs, functions without tests."""
    import libcst as cst
    from mutmut import configuration
    from mutmut.mutation import diff_apply
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.utils.format_utils import orig_function_and_class_names_from_key

    rel = module_path(module, source)
    here = os.getcwd()
    os.chdir(scratch)
    try:
        configuration.reset_config()
        data = SourceFileMutationData(path=rel)
        data.load()
        def_lines = _function_lines(rel)
        parsed: list[Any] = []
        counts = {s: 0 for s in COUNTED}
        string_counts = {s: 0 for s in COUNTED}
        survivors, timeouts, no_tests = [], [], set()
        for name, exit_code in sorted(data.exit_code_by_key.items(), key=lambda kv: _natural(kv[0])):
            status = STATUS_BY_EXIT_CODE.get(exit_code, "suspicious")
            functions = diff_apply.read_functions_from_index(name, rel)
            if functions is None:
                if not parsed:
                    parsed.append(diff_apply.read_mutants_module(rel))
                functions = (diff_apply.read_original_function(parsed[0], name),
                             diff_apply.read_mutant_function(parsed[0], name))
            original, mutant = (cst.Module([f]).code.strip() for f in functions)
            string = is_string_mutant(original, mutant)
            counts[status] += 1
            if string:
                string_counts[status] += 1
            function, klass = orig_function_and_class_names_from_key(name)
            qualified = f"{klass}.{function}" if klass else function
            if status == "no tests":
                no_tests.add(qualified)
            if status in ("survived", "timeout", "suspicious", "segfault"):
                diff = list(unified_diff(original.split("\n"), mutant.split("\n"), lineterm="", n=1))[2:]
                first = next((i for i, line in enumerate(original.split("\n"))
                              if i >= len(mutant.split("\n")) or line != mutant.split("\n")[i]), 0)
                line = def_lines.get((klass, function))
                entry = {"name": name, "function": qualified, "line": None if line is None else line + first,
                         "string": string, "status": status, "diff": "\n".join(diff)}
                (survivors if status == "survived" else timeouts).append(entry)
    finally:
        os.chdir(here)
    return {
        "module": module, "path": rel.as_posix(), "mutants": sum(counts.values()), **counts,
        "string_mutants": sum(string_counts.values()), "string": string_counts,
        "score": _score(counts["killed"], counts["survived"]),
        "score_without_strings": _score(counts["killed"] - string_counts["killed"],
                                        counts["survived"] - string_counts["survived"]),
        "no_tests_functions": sorted(no_tests), "survivors": survivors, "timeouts_and_crashes": timeouts,
    }


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def _score(killed: int, survived: int) -> float | None:
    return None if killed + survived == 0 else round(killed / (killed + survived), 4)


def describe_source(source: Path) -> str:
    """``commit abc1234`` for a clean git checkout, ``commit abc1234 + uncommitted changes`` otherwise,
    the folder's path when it is not a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=source, capture_output=True,
                              text=True, check=True).stdout.strip()
        if Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=source, capture_output=True,
                               text=True, check=True).stdout.strip()).resolve() != source.resolve():
            raise subprocess.CalledProcessError(1, "git")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return str(source)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "tests"], cwd=source, capture_output=True,
                           text=True).stdout.strip()
    return f"commit {head}" + (" + uncommitted changes" if dirty else "")


# --------------------------------------------------------------------------------------------------------------
# The JSON and the table


def load_results() -> dict[str, Any]:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text(encoding="utf-8"))
    return {"runs": {}}


def save_results(results: dict[str, Any]) -> None:
    RESULTS.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    TABLE.write_text(render(results), encoding="utf-8")


def _pct(score: float | None) -> str:
    return "–" if score is None else f"{100 * score:.1f} %"


def _total(records: list[dict[str, Any]]) -> dict[str, Any]:
    total = {s: sum(r[s] for r in records) for s in COUNTED}
    string = {s: sum(r["string"][s] for r in records) for s in COUNTED}
    return {"mutants": sum(r["mutants"] for r in records), **total, "string_mutants": sum(string.values()),
            "score": _score(total["killed"], total["survived"]),
            "score_without_strings": _score(total["killed"] - string["killed"],
                                            total["survived"] - string["survived"]),
            "runtime_s": sum(r.get("runtime_s", 0) for r in records)}


def render(results: dict[str, Any]) -> str:
    """benchmarks/mutation.md from the JSON."""
    lines = [
        "# Mutation testing (mutmut)", "",
        "Written by `tools/mutation.py` (see its docstring for how to run it, what the operators are and how to "
        "read a survivor). A mutant is a small change to the code; it is *killed* when a test fails. ",
        "", "- **score without strings** = killed / (killed + survived), mutants that only change a string "
        "literal (mostly error messages) left out. **The issue's target is on this number.**",
        "- **score** = killed / (killed + survived) over all mutants.",
        "- *timeout*, *no tests* (no selected test calls the function), *suspicious*/*segfault* are not in "
        "either score; they are counted in their own columns. *strings* = how many of the mutants are "
        "string-literal mutants.",
        "- Each module is mutated on its own, running only the unit tests that import it (the chapter tests "
        "only where a record says `chapter tests`); runtime on the 2-core reference machine, shared, one "
        "mutant at a time (`--max-children 1`).",
        "- Operators (mutmut 3.8): numbers n → n + 1; strings → \"XX…XX\", lower/upper case; True ↔ False; "
        "`a = b` → `a = None`; `+=` → `=`; `+ ↔ -`, `* ↔ /`, `** → *`, `// → /`, `% → /`, bit operators; "
        "`< ↔ <=`, `> ↔ >=`, `== ↔ !=`, `is ↔ is not`, `in ↔ not in`; `and ↔ or`; `not x → x`; "
        "each call argument → None, or dropped; `x if c else y` forced down each arm; `break → return`, "
        "`continue → break`; string-method swaps; lambda body → None. Inside functions only.",
        "- A surviving mutant that cannot change any result (an equivalent mutant) may be marked "
        "`# pragma: no mutate` on its line, with a comment saying why.", "",
    ]
    for run_name, run in results.get("runs", {}).items():
        records = [run["modules"][m] for m in sorted(run["modules"])]
        lines += [f"## {run.get('label', run_name)}", ""]
        if run.get("note"):
            lines += [run["note"], ""]
        lines += ["| module | mutants | killed | survived | timeout | no tests | other | strings | score | "
                  "**score without strings** | runtime | measured |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for r in records + ([dict(_total(records), module="**all**")] if len(records) > 1 else []):
            other = r["suspicious"] + r["segfault"] + r["skipped"] + r["not checked"]
            name = r["module"].replace("course_utils.", "") + (" (chapter tests)" if r.get("chapter_tests") else "")
            if r.get("not checked"):
                name += f" (partial: {r['mutants'] - r['not checked']} of {r['mutants']} tested)"
            lines.append(
                f"| {name} | {r['mutants']} | {r['killed']} | {r['survived']} | "
                f"{r['timeout']} | {r['no tests']} | {other} | {r['string_mutants']} | {_pct(r['score'])} | "
                f"**{_pct(r['score_without_strings'])}** | {r.get('runtime_s', 0) / 60:.1f} min | "
                f"{r.get('source', '')} {r.get('measured_at', '')[:16].replace('T', ' ')}"
                + "".join(f"; survivors rechecked {c['at'][:16].replace('T', ' ')} ({c['killed']} killed, "
                          f"{c['pragma']} marked equivalent)" for c in r.get("rechecks", [])) + " |")
        lines.append("")
        if run_name != "current":  # the table stays readable: an old run's survivors are in the JSON only
            lines += [f"The surviving mutants of this run, with their diffs: benchmarks/mutation.json, "
                      f"`runs.{run_name}.modules.<module>.survivors`.", ""]
            continue
        for r in records:
            if not (r["survivors"] or r["timeouts_and_crashes"] or r["no_tests_functions"]):
                continue
            physics = [s for s in r["survivors"] if not s["string"]]
            strings = [s for s in r["survivors"] if s["string"]]
            lines += [f"<details><summary><b>{r['module']}</b> ({r['path']}): {len(physics)} surviving "
                      f"non-string mutants, {len(strings)} string ones, {len(r['timeouts_and_crashes'])} "
                      f"timeouts/crashes</summary>", ""]
            lines.append(f"Tests run: {', '.join('`' + t + '`' for t in r.get('tests', []))}")
            lines.append("")
            if r["no_tests_functions"]:
                lines += ["No selected test calls: " + ", ".join(f"`{f}`" for f in r["no_tests_functions"]), ""]
            for title, group in (("Surviving mutants", physics), ("Surviving string mutants", strings),
                                 ("Timeouts and crashes", r["timeouts_and_crashes"])):
                if not group:
                    continue
                lines += [f"{title}:", ""]
                for s in group:
                    lines += [f"`{s['name']}` ({s['status']}, line {s['line']})", "", "```diff", s["diff"], "```", ""]
            lines += ["</details>", ""]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modules", nargs="+", default=list(SCOPE), metavar="MODULE",
                        help="dotted modules or packages (default: the whole scope: %(default)s)")
    parser.add_argument("--max-children", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--tests", nargs="+", metavar="TEST_FILE",
                        help="test files to run (default: those that import the module)")
    parser.add_argument("--chapter-tests", action="store_true",
                        help="also run the chapter and explorer tests that import the module (slow: hours)")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the tree to measure (default: this checkout, with its uncommitted changes)")
    parser.add_argument("--run", default="current", help="the name of the run in benchmarks/mutation.json "
                        "(default 'current'; 'before' holds the scores before the issue's work)")
    parser.add_argument("--source-name", help="what --source is, for the table (default: its git commit, "
                        "or its path when it is not a git checkout; e.g. 'commit 90052e1' for a git archive)")
    parser.add_argument("--label", help="its title in benchmarks/mutation.md (default: the run's name)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy (to rerun or show one mutant)")
    parser.add_argument("--list", action="store_true", help="only list the modules and the tests of each")
    parser.add_argument("--recheck", action="store_true",
                        help="do not run mutmut: rerun each module's recorded non-string survivors against the "
                        "tests written or changed since its run (or --tests), in parallel (--max-children); "
                        "refused when the module's code (comments aside) changed since the run")
    args = parser.parse_args(argv)
    if args.max_children < 1:
        parser.error(f"--max-children must be a positive number of processes, got {args.max_children}")
    source = args.source.resolve()
    if not (source / "src" / "course_utils").is_dir():
        parser.error(f"--source {source} has no src/course_utils")
    modules = expand_modules(args.modules, source)
    plan = {m: (args.tests or tests_for(m, source, args.chapter_tests)) for m in modules}
    if args.list:
        for module, tests in plan.items():
            print(f"{module}: {' '.join(tests) or '(no test imports it)'}")
        return 0

    status = 0
    if args.recheck:
        return recheck_modules(modules, args, source)
    for module, tests in plan.items():
        print(f"{module}: {len(tests)} test files", flush=True)
        if not tests:
            print("    no test file imports it: skipped (give --tests)")
            continue
        what = args.source_name or describe_source(source)    # when this module's copy is made
        scratch = make_scratch(module, tests, source)
        code, seconds = run_mutmut(scratch, args.max_children)
        log = (scratch / "mutmut.log").read_text(encoding="utf-8", errors="replace")
        if code != 0 or not (scratch / "mutants" / (module_path(module, source).as_posix() + ".meta")).exists():
            print(f"    mutmut failed (exit {code}); the end of {scratch}/mutmut.log:")
            print("    " + log[-3000:].replace("\n", "\n    "))
            status = 1
            continue
        record = collect(scratch, module, source)
        record.update(tests=tests, chapter_tests=args.chapter_tests, runtime_s=round(seconds, 1), source=what,
                      max_children=args.max_children, code_hash=code_hash(module, source),
                      measured_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if record["killed"] == 0 and record["survived"] > 0:
            print("    warning: no mutant was killed -- are the tests importing the mutated copy?")
        print(f"    {record['mutants']} mutants in {seconds / 60:.1f} min: score {_pct(record['score'])}, "
              f"without strings {_pct(record['score_without_strings'])} ({record['survived']} survived, "
              f"{record['timeout']} timeouts, {record['no tests']} without tests)", flush=True)
        with open(RESULTS.with_suffix(".lock"), "w") as lock:  # another run may be merging its modules now
            fcntl.flock(lock, fcntl.LOCK_EX)
            results = load_results()
            run = results.setdefault("runs", {}).setdefault(args.run, {"modules": {}})
            run["label"] = args.label or run.get("label") or args.run
            run["modules"][module] = record
            results["mutmut"] = _mutmut_version()
            save_results(results)
        if args.keep:
            print(f"    kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"results: {RESULTS.relative_to(ROOT)}, {TABLE.relative_to(ROOT)}")
    return status


def recheck_modules(modules: list[str], args: argparse.Namespace, source: Path) -> int:
    """``--recheck``: each module's record in the run, its survivors rerun against the newer tests."""
    status = 0
    for module in modules:
        with open(RESULTS.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            record = load_results().get("runs", {}).get(args.run, {}).get("modules", {}).get(module)
        if record is None or record.get("code_hash") != code_hash(module, source):
            print(f"{module}: {'no record' if record is None else 'the code changed since its run'}: "
                  "run it in full (without --recheck)")
            status = 1
            continue
        measured = datetime.fromisoformat(record["measured_at"]).timestamp()
        tests = args.tests or [t for t in tests_for(module, source)
                               if t not in record["tests"] or (source / t).stat().st_mtime > measured]
        if not tests:
            print(f"{module}: no test written or changed since its run")
            continue
        start = time.time()
        tally = recheck(record, module, tests, source, args.max_children)
        print(f"{module}: rechecked against {' '.join(tests)} in {(time.time() - start) / 60:.1f} min: {tally}; "
              f"without strings now {_pct(record['score_without_strings'])}", flush=True)
        with open(RESULTS.with_suffix(".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            results = load_results()
            results["runs"][args.run]["modules"][module] = record
            save_results(results)
    return status


def _mutmut_version() -> str:
    from importlib.metadata import version
    return version("mutmut")


if __name__ == "__main__":
    sys.exit(main())
