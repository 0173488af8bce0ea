"""tools/freshness.py and tools/clean_notebook.py: the fingerprint that tells stale stored outputs."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import clean_notebook  # noqa: E402
import freshness  # noqa: E402


def _nb(*code: str) -> dict:
    return {"cells": [{"cell_type": "markdown", "source": "# title", "metadata": {}}]
            + [{"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None}
               for c in code], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _rel(paths):
    return {p.relative_to(ROOT).as_posix() for p in paths}


def test_modules_used_follows_imports_transitively():
    used = _rel(freshness.modules_used("import course_utils as cu\nfrom course_utils.theory import quanta"))
    # the package imports checks, device, ...; quanta is reached only through the explicit import
    assert {"src/course_utils/__init__.py", "src/course_utils/checks.py", "src/course_utils/device.py",
            "src/course_utils/progress.py", "src/course_utils/theory/__init__.py",
            "src/course_utils/theory/quanta.py"} <= used
    assert "src/course_utils/theory/grokking.py" not in _rel(freshness.modules_used("import course_utils as cu"))
    # ``from course_utils.data import arithmetic`` names a module, and relative imports inside it count
    used = _rel(freshness.modules_used("from course_utils.data import arithmetic"))
    assert "src/course_utils/data/arithmetic.py" in used
    assert freshness.modules_used("import numpy as np\n%matplotlib inline") == []


def test_modules_used_agrees_with_what_python_loads():
    import subprocess
    code = "import course_utils as cu\nfrom course_utils.theory import layerwise\nfrom course_utils.ensemble import Grid"
    probe = code + ("\nimport sys, json\nprint(json.dumps(sorted(m.__file__ for n, m in sys.modules.items()"
                    " if n.startswith('course_utils') and getattr(m, '__file__', None))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                       check=True).stdout)
    assert {Path(p).resolve() for p in loaded} == {p.resolve() for p in freshness.modules_used(code)}


def test_a_stamped_notebook_is_fresh_until_code_or_a_module_changes(monkeypatch):
    nb = _nb("import course_utils as cu\nx = 1")
    assert freshness.stale_reasons(nb) == ["it has no fingerprint (it was not executed with `make chapter`)"]
    freshness.stamp(nb)
    assert freshness.stale_reasons(nb) == []
    prose = copy.deepcopy(nb)
    prose["cells"][0]["source"] = "# another title"  # prose cannot change an output
    assert freshness.stale_reasons(prose) == []
    edited = copy.deepcopy(nb)
    edited["cells"][1]["source"] = "import course_utils as cu\nx = 2"
    assert freshness.stale_reasons(edited) == ["its code cells changed"]
    real_sha = freshness._sha
    checks = freshness.without_comments((ROOT / "src/course_utils/checks.py").read_text(encoding="utf-8"))
    monkeypatch.setattr(freshness, "_sha", lambda text: real_sha(text + "# edited" if text == checks else text))
    assert freshness.stale_reasons(nb) == ["src/course_utils/checks.py changed"]


def test_importing_another_module_makes_it_stale():
    nb = _nb("import course_utils as cu")
    freshness.stamp(nb)
    nb["cells"][1]["source"] = "import course_utils as cu\nfrom course_utils.theory import quanta"
    reasons = freshness.stale_reasons(nb)
    assert "its code cells changed" in reasons
    assert "it now imports src/course_utils/theory/quanta.py" in reasons


def test_clean_notebook_keeps_the_final_state_of_text_bars_and_stamps(tmp_path):
    nb = _nb("import course_utils as cu")
    nb["cells"][1]["id"] = "abc123"
    nb["cells"][1]["metadata"]["execution"] = {"iopub.execute_input": "2026-12-05T10:00:00"}
    nb["cells"][1]["outputs"] = [
        {"output_type": "stream", "name": "stderr",
         "text": ["train:   0%|          | 0/10 [00:00<?, ?it/s]\rtrain: 100%|██████████| 10/10 [00:01<00:00]\n"]},
        {"output_type": "display_data", "metadata": {},
         "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}}},
        {"output_type": "stream", "name": "stdout", "text": ["✓ fine\n"]},
    ]
    nb["metadata"]["widgets"] = {"state": {}}
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps(nb))
    clean_notebook.clean(path)
    out = json.loads(path.read_text())
    cell = out["cells"][1]
    assert cell["id"] == "cell-1" and "execution" not in cell["metadata"] and "widgets" not in out["metadata"]
    assert [o["output_type"] for o in cell["outputs"]] == ["stream", "stream"]
    assert "".join(cell["outputs"][0]["text"]) == "train: 100%|██████████| 10/10 [00:01<00:00]\n"
    assert freshness.stale_reasons(out) == []


def test_clean_notebook_joins_a_bar_sent_in_pieces():
    """The kernel sends each update of a text bar as its own output; stored: one output, final state."""
    outputs = [{"output_type": "stream", "name": "stderr", "text": "\rfit:   0%| 0/8 [00:00<?, ?it/s]"},
               {"output_type": "stream", "name": "stderr", "text": "\rfit: 100%| 8/8 [00:01<00:00]"},
               {"output_type": "stream", "name": "stdout", "text": "done\n"},
               {"output_type": "stream", "name": "stderr", "text": "\n"},
               {"output_type": "stream", "name": "stdout", "text": "next\n"}]
    tidy = clean_notebook.tidy_outputs(outputs)
    assert [(o["name"], "".join(o["text"])) for o in tidy] == [("stderr", "fit: 100%| 8/8 [00:01<00:00]"),
                                                               ("stdout", "done\nnext\n")]


@pytest.mark.parametrize("text, shown", [("a\rb\n", "b\n"), ("x\n", "x\n"), ("1\r2\r3", "3"), ("a\nb\rc\n", "a\nc\n")])
def test_final_text_is_what_a_terminal_shows(text, shown):
    assert clean_notebook.final_text(text) == shown


def test_comments_do_not_change_a_module_hash_but_code_does():
    base = 'x = 1\n\ndef f(a):\n    """Doc."""\n    return a * 2\n'
    same = '# a header\nx = 1  # pragma: no mutate\n\n\ndef f(a):   \n    """Doc."""\n    return a * 2  # why\n'
    assert freshness.without_comments(base) == freshness.without_comments(same)
    for changed in [base.replace("a * 2", "a * 3"), base.replace("x = 1", "x = 2"),
                    base.replace('"""Doc."""', 's = "# not a comment"')]:
        assert freshness.without_comments(changed) != freshness.without_comments(base)
    assert "# not a comment" in freshness.without_comments('s = "# not a comment"  # but this is\n')
