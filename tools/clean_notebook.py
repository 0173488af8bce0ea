"""Remove volatile metadata (per-cell execution timestamps) from executed notebooks, in place.

Run by `make chapter` after a chapter is executed, so that a re-run that changes nothing
leaves nothing to diff. Usage: python tools/clean_notebook.py book/<part>/<chapter>.ipynb ...
"""

import json
import sys
from pathlib import Path


def clean(path: Path) -> None:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python tools/clean_notebook.py NOTEBOOK.ipynb [...]")
    for arg in sys.argv[1:]:
        clean(Path(arg))
