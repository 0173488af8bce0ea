"""After `jupyter-book build`: check every chapter page of the built HTML.

Each chapter listed in _toc.yml must have a page, and its Colab launch link must open the
chapter's notebook in the repository named in _config.yml, as book/<part>/<chapter>.ipynb
(no "./" in the path). Exits non-zero and names the page when a check fails.
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo = config["repository"]["url"].removeprefix("https://github.com/").strip("/")
    branch = config["repository"].get("branch", "main")
    chapters = [f for f in re.findall(r"file:\s*([^\s#]+)", (ROOT / "_toc.yml").read_text())
                if (ROOT / (f + ".ipynb")).exists()]
    problems = []
    for chapter in chapters:
        page = ROOT / "_build" / "html" / (chapter + ".html")
        if not page.exists():
            problems.append(f"{chapter}: no built page {page.relative_to(ROOT)}")
            continue
        links = re.findall(r'https://colab\.research\.google\.com/[^"\s]+', page.read_text())
        expected = f"https://colab.research.google.com/github/{repo}/blob/{branch}/{chapter}.ipynb"
        if expected not in links:
            problems.append(f"{chapter}: Colab link {links[:1] or 'missing'} is not {expected}")
    for p in problems:
        print("✗", p)
    print(f"checked the built pages of {len(chapters)} chapters: {len(problems)} problems")
    return 1 if problems or not chapters else 0


if __name__ == "__main__":
    sys.exit(main())
