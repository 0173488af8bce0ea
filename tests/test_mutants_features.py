"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.features.

eigenfeatures keeps the eigenvalues strictly above rtol × the largest (an eigenvalue exactly at the cut, and the
exact zeros of a rank-deficient kernel at rtol = 0, are dropped); nc1_bound returns an infinite bound, cleanly,
when the alignment underflows to 0 (κ = 1) while NC1 itself stays finite.
"""

import warnings

import numpy as np
import pytest

from course_utils.theory import features as F

# centred rows ±(2, 0), ±(0, 1): the feature covariance Φ̃ᵀΦ̃/N = diag(2, 0.5), so K/N has λ = 2, 0.5, 0, 0 exactly
PHI = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])


def test_eigenvalues_are_the_covariance_spectrum_and_the_cut_at_rtol_is_strict():
    ef = F.eigenfeatures(PHI)
    assert np.allclose(ef.eigenvalues, [2.0, 0.5])                  # the non-zero eigenvalues of diag(2, 0.5)
    # rtol = 0.25: the cut is 0.25 × 2 = 0.5, and 0.5 is not *above* it
    cut = F.eigenfeatures(PHI, rtol=0.25)
    assert np.allclose(cut.eigenvalues, [2.0]) and cut.train_values.shape == (4, 1)
    assert np.allclose(np.abs(cut.train_values[:, 0]), [np.sqrt(2), np.sqrt(2), 0, 0])   # e₁ ∝ the first feature
    # just below the cut both are kept
    assert np.allclose(F.eigenfeatures(PHI, rtol=0.2499).eigenvalues, [2.0, 0.5])


def test_rtol_zero_keeps_the_positive_eigenvalues_and_drops_the_exact_zeros():
    """Rank ≤ min(N − 1, p) = 2 for N = 4 points in p = 2: the two zero eigenvalues are not eigenfunctions."""
    ef = F.eigenfeatures(PHI, rtol=0.0)
    assert np.allclose(ef.eigenvalues, [2.0, 0.5])
    # the eigenfunctions are orthonormal on the training sample: (1/N) Σ_i e_k(x_i) e_l(x_i) = δ_kl
    assert np.allclose(ef.train_values.T @ ef.train_values / 4, np.eye(2))
    # two points on a line: one eigenfunction, λ = ‖φ₁ − φ₂‖²/4, values ±1
    two = F.eigenfeatures(np.array([[0.0, 0.0], [2.0, 0.0]]), rtol=0.0)
    assert np.allclose(two.eigenvalues, [1.0]) and np.allclose(np.abs(two.train_values), 1.0)


def test_nc1_bound_is_infinite_without_a_division_by_zero_when_the_alignment_underflows():
    """Class means ±1e-9 against a within-class spread 1: A ≈ 1e-18 rounds κ = 1 − A to exactly 1, the bound
    c_B κ/(1 − κ) is then infinite (returned as inf, no divide-by-zero warning), while NC1 = Σ_W/(C Σ_B) is
    finite: 1/(2 · 1e-18)."""
    d = 1e-9
    H = np.array([[1 + d], [-1 + d], [1 - d], [-1 - d]])
    y = [0, 0, 1, 1]
    assert 1 - F.alignment_from_scatter(H, y) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, bound = F.nc1_bound(H, y)
    assert bound == float("inf") and isinstance(bound, float)
    assert value == pytest.approx(1 / (2 * d ** 2), rel=1e-6)
