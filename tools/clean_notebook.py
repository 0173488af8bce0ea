"""Tidy an executed chapter notebook in place and stamp its fingerprint.

Run by `make chapter` after a chapter is executed:

- removes volatile metadata (per-cell execution timestamps, the widget state) and numbers the
  cell ids (``cell-0``, ``cell-1``, …), so that a re-run that changes nothing leaves nothing to diff;
- keeps only what a terminal would show of text that rewrites itself: consecutive outputs of one
  stream are joined (the kernel may send each update of a progress bar as its own output), then
  each line keeps its text after its last carriage return (a text progress bar keeps its final state);
- drops widget outputs (a stored widget renders as a stale bar in the book);
- stores the fingerprint of the code and of the course_utils modules it used (tools/freshness.py),
  which the tests compare with the current code.

Usage: python tools/clean_notebook.py book/<part>/<chapter>.ipynb ...
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from freshness import stamp  # noqa: E402

WIDGET = "application/vnd.jupyter.widget-view+json"


def final_text(text: str) -> str:
    """What a terminal shows of ``text``: for each line, what follows its last carriage return."""
    return "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))


def join_streams(outputs: list[dict]) -> list[dict]:
    """Join consecutive outputs of one stream (stdout or stderr) into one output."""
    joined: list[dict] = []
    for out in outputs:
        previous = joined[-1] if joined else {}
        if out.get("output_type") == previous.get("output_type") == "stream" and out["name"] == previous["name"]:
            previous["text"] = "".join(previous["text"]) + "".join(out["text"])
        else:
            joined.append(out)
    return joined


def tidy_outputs(outputs: list[dict]) -> list[dict]:
    """A cell's outputs as they should be stored: no widgets, each stream once and in its final state."""
    kept = []
    for out in outputs:
        if WIDGET in out.get("data", {}):
            out["data"].pop(WIDGET)
            if not out["data"]:
                continue
        kept.append(out)
    kept = join_streams(kept)
    for out in kept:
        if out.get("output_type") == "stream":
            out["text"] = final_text("".join(out["text"]))
    kept = [out for out in kept if out.get("output_type") != "stream" or out["text"].strip()]
    kept = join_streams(kept)               # dropping a blank output can make two of one stream neighbours
    for out in kept:
        if out.get("output_type") == "stream":
            out["text"] = out["text"].splitlines(keepends=True)
    return kept


def clean(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    for i, cell in enumerate(nb["cells"]):
        cell.get("metadata", {}).pop("execution", None)
        if "id" in cell:
            cell["id"] = f"cell-{i}"
        if cell["cell_type"] == "code":
            cell["outputs"] = tidy_outputs(cell.get("outputs", []))
    stamp(nb)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/clean_notebook.py NOTEBOOK.ipynb [...]")
    for arg in sys.argv[1:]:
        clean(Path(arg))
