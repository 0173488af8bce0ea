"""Datasets of the course. All of them are available offline: synthetic generators, and real
data that a dependency ships (scikit-learn's 8×8 digits)."""
