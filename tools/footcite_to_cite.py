"""Convert a chapter's footnote citations ({footcite:t}, {footcite:p}, {footbibliography}) to the
course convention: {cite:t}/{cite:p} and a pointer to the one bibliography page.

myst-nb notebooks cannot use footnote citations without a warning (myst-parser 3 looks for
footnote definitions before sphinxcontrib-bibtex creates them), and the book builds with
warnings as errors. Usage: python tools/footcite_to_cite.py book/<part>/<chapter>.py ...
(then `jupytext --sync` the chapter: only markdown changes, outputs are kept).
"""

import re
import sys
from pathlib import Path

POINTER = "# The works cited in this chapter are listed in the course {doc}`bibliography <../bibliography>`."


def convert(text: str) -> str:
    text = text.replace("{footcite:t}", "{cite:t}").replace("{footcite:p}", "{cite:p}")
    text = text.replace("{footcite}", "{cite:p}")
    return re.sub(r"# ```\{footbibliography\}\n# ```", POINTER, text)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        path = Path(arg)
        path.write_text(convert(path.read_text()))
