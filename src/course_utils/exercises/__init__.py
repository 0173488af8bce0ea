"""Checker functions for the chapters' exercises.

Each checker takes the student's answer, compares it with the reference computed here, and
prints a short verdict; it returns True or False and never raises on a wrong answer (only
``ValueError`` on an answer of the wrong shape or type, with a message that says what was expected).
"""



# One module per chapter, e.g. course_utils.exercises.linear_models.
