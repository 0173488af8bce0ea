"""tools/mutation.py, the mutation-testing runner: which tests it picks, how it tells string mutants
apart, how it sets up its scratch copy and writes the table (mutmut itself is not run here: minutes)."""

import json
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import mutation  # noqa: E402


@pytest.mark.parametrize("original, mutant, expected", [
    ('def f(x):\n    raise ValueError("x must be positive")', 'def f(x):\n    raise ValueError("XXx must be positiveXX")', True),
    ('def f(x):\n    return g(x, kind="relu")', 'def f(x):\n    return g(x, kind="RELU")', True),
    ('def f(x):\n    return g(x, kind="relu")', 'def f(x):\n    return g(x, kind=None)', False),
    ('def f(x):\n    return g(x, "relu")', 'def f(x):\n    return g(x)', False),
    ('def f(x):\n    return x ** 2', 'def f(x):\n    return x * 2', False),
    ('def f(x):\n    return x + 1', 'def f(x):\n    return x + 2', False),
    ('def f(x):\n    return x', 'def f(x):\n    return x', False),
])
def test_string_mutants_are_those_that_change_only_string_literals(original, mutant, expected):
    assert mutation.is_string_mutant(original, mutant) is expected


def test_imported_names_follow_imports_and_attribute_chains(tmp_path):
    test_file = tmp_path / "test_x.py"
    test_file.write_text("import course_utils as cu\nfrom course_utils.theory import linear as lin\n"
                         "def test():\n    cu.theory.kernels.nngp(1)\n    lin.ridge()\n    cu.check_close(1, 1)\n")
    names = mutation.imported_names(test_file)
    assert "course_utils.theory.kernels" in names
    assert "course_utils.theory.linear" in names
    assert "course_utils.check_close" in names
    assert "course_utils.theory.signal_propagation" not in names


def test_tests_for_a_module_are_its_unit_tests_and_chapter_tests_only_on_request():
    unit = mutation.tests_for("course_utils.fits", ROOT)
    assert "tests/test_fits.py" in unit
    assert not any(mutation.is_chapter_test(Path(t).name) for t in unit)
    assert not any(Path(t).name in mutation.EXCLUDED_TESTS for t in unit)
    # cu.fit_power_law reaches course_utils.fits through the package's re-export
    assert "tests/test_nngp_chapter.py" in mutation.tests_for("course_utils.fits", ROOT, chapter_tests=True)


def test_packages_expand_to_their_modules_and_unknown_modules_are_refused():
    modules = mutation.expand_modules(["course_utils.ensemble", "course_utils.fits"], ROOT)
    assert "course_utils.ensemble.grid" in modules and "course_utils.fits" in modules
    assert "course_utils.ensemble" not in modules  # its __init__ only imports
    with pytest.raises(SystemExit, match="course_utils.theory.no_such_module"):
        mutation.expand_modules(["course_utils.theory.no_such_module"], ROOT)


def test_the_scratch_copy_mutates_one_module_with_the_chosen_tests(tmp_path, monkeypatch):
    monkeypatch.setattr(mutation.tempfile, "gettempdir", lambda: str(tmp_path))
    scratch = mutation.make_scratch("course_utils.fits", ["tests/test_fits.py"], ROOT)
    assert scratch.parent == tmp_path and (scratch / "src" / "course_utils" / "fits.py").is_file()
    text = (scratch / "pyproject.toml").read_text(encoding="utf-8")
    assert text.count("[tool.mutmut]") == 1
    settings = tomllib.loads(text)["tool"]["mutmut"]
    assert settings["only_mutate"] == ["src/course_utils/fits.py"]
    assert settings["pytest_add_cli_args_test_selection"] == ["tests/test_fits.py"]
    assert "no:cacheprovider" in settings["pytest_add_cli_args"]


def _record(module, killed, survived, string_killed, string_survived):
    counts = {s: 0 for s in mutation.COUNTED}
    counts.update(killed=killed, survived=survived)
    string = {s: 0 for s in mutation.COUNTED}
    string.update(killed=string_killed, survived=string_survived)
    return {"module": module, "path": "src/x.py", "mutants": killed + survived, **counts,
            "string_mutants": string_killed + string_survived, "string": string,
            "score": mutation._score(killed, survived),
            "score_without_strings": mutation._score(killed - string_killed, survived - string_survived),
            "no_tests_functions": [], "timeouts_and_crashes": [], "tests": ["tests/test_x.py"], "runtime_s": 60,
            "survivors": [{"name": "m__mutmut_1", "function": "f", "line": 3, "string": False,
                           "status": "survived", "diff": "-    return a + b\n+    return a - b"}]}


def test_scores_count_killed_over_killed_and_survived_with_and_without_strings():
    record = _record("course_utils.a", killed=8, survived=2, string_killed=0, string_survived=2)
    assert record["score"] == 0.8 and record["score_without_strings"] == 1.0
    assert mutation._score(0, 0) is None
    total = mutation._total([record, _record("course_utils.b", 1, 1, 1, 0)])
    assert total["killed"] == 9 and total["survived"] == 3
    assert total["score_without_strings"] == pytest.approx(8 / 9, abs=1e-4)


def test_the_table_shows_each_module_and_its_survivors(tmp_path, monkeypatch):
    monkeypatch.setattr(mutation, "RESULTS", tmp_path / "mutation.json")
    monkeypatch.setattr(mutation, "TABLE", tmp_path / "mutation.md")
    results = {"runs": {"current": {"label": "after",
                                   "modules": {"course_utils.a": _record("course_utils.a", 8, 2, 0, 2)}}}}
    mutation.save_results(results)
    table = (tmp_path / "mutation.md").read_text(encoding="utf-8")
    assert "## after" in table
    assert "| a | 10 | 8 | 2 |" in table and "**100.0 %**" in table
    assert "return a - b" in table
    assert json.loads((tmp_path / "mutation.json").read_text(encoding="utf-8")) == results


SOURCE = "def f(x):\n    y = x + 1\n    return y\n\n\ndef g(x):\n    y = x + 1\n    return y  # pragma: no mutate\n"


def test_a_recorded_mutant_goes_back_in_at_the_occurrence_nearest_its_line():
    diff = "@@ -1,2 +1,2 @@\n def f(x):\n-    y = x + 1\n+    y = x - 1\n     return y"
    text, i = mutation.apply_diff(SOURCE, diff, 7)          # the second `y = x + 1` is on line 7
    assert i == 6 and text.splitlines()[6] == "    y = x - 1" and text.splitlines()[1] == "    y = x + 1"
    text, i = mutation.apply_diff(SOURCE, diff, 2)
    assert i == 1 and text.splitlines()[1] == "    y = x - 1"
    with pytest.raises(LookupError):
        mutation.apply_diff(SOURCE, "-    z = 0\n+    z = 1", 2)


def test_recheck_counts_killed_survivors_and_pragma_lines(tmp_path, monkeypatch):
    """--recheck: a survivor the new tests kill moves to killed, one on a line now marked as equivalent leaves
    the count, the rest stay; the scores follow (string survivors untouched)."""
    def survivor(name, line, string=False):
        return dict(name=name, function="f", line=line, string=string, status="survived", diff="")
    record = dict(mutants=20, killed=10, survived=10, string=dict(killed=2, survived=4),
                  survivors=[survivor("a", 1), survivor("b", 2), survivor("c", 3), survivor("s", 4, string=True)])
    outcome = {"a": "killed", "b": "pragma", "c": "survived"}
    monkeypatch.setattr(mutation, "run_survivor", lambda module, s, tests, source: outcome[s["name"]])
    tally = mutation.recheck(record, "m", ["tests/test_new.py"], ROOT, workers=2)
    assert tally == dict(killed=1, survived=1, pragma=1, gone=0)
    assert [s["name"] for s in record["survivors"]] == ["c", "s"]
    assert (record["mutants"], record["killed"], record["survived"]) == (19, 11, 8)
    assert record["score"] == round(11 / 19, 4) and record["score_without_strings"] == round(9 / 13, 4)
    assert record["rechecks"][0]["tests"] == ["tests/test_new.py"]


def test_a_mutant_is_found_on_a_method_and_on_a_line_marked_since():
    """A method's diff is recorded without its class's indentation; a line may carry a pragma added later."""
    source = "class A:\n    def f(self, x):\n        return x + 1  # pragma: no mutate (why)\n"
    text, i = mutation.apply_diff(source, "@@ -1,2 +1,2 @@\n def f(self, x):\n-    return x + 1\n+    return x - 1", 3)
    assert i == 2 and text.splitlines()[2] == "        return x - 1"
