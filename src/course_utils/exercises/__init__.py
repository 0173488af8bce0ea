"""Checker functions for the chapters' exercises.

Each checker takes the student's answer, compares it with the reference computed here, and
prints a short verdict; it returns True or False and never raises: an answer of the wrong type or
shape, None, NaN, a value where a function goes (or the reverse), or a student's function that
raises gets a ✗ verdict that says what was expected (see :mod:`course_utils.exercises.answers`).
"""


# One module per chapter, e.g. course_utils.exercises.linear_models.
