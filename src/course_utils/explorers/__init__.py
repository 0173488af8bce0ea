"""One interactive explorer per part of the course, each built on :mod:`course_utils.explore`.

Each module has one function ``explorer(...) -> Explorer`` whose figure is drawn from theory functions or
from results a chapter has already computed, so that it answers within a second. Import the one you need,
e.g. ``from course_utils.explorers import double_descent``; the chapters call ``.show()`` on it.
"""
