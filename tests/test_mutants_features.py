"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.features.

eigenfeatures keeps the eigenvalues strictly above rtol × the largest (an eigenvalue exactly at the cut, and the
exact zeros of a rank-deficient kernel at rtol = 0, are dropped); nc1_bound returns an infinite bound, cleanly,
when the alignment underflows to 0 (κ = 1) while NC1 itself stays finite; EigenFeatures built directly checks
its four arrays by name, their numbers of dimensions and shared sizes (N, p, r), allows r = 0 and refuses
non-positive eigenvalues. Equivalent mutants left: see the comment above those tests.
"""

import warnings

import numpy as np
import pytest

from course_utils.theory import features as F
from course_utils.validate import ArgumentError

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


# ------------------------------------------------------------------------------------------------
# EigenFeatures built directly: its own checks of the four arrays and of their shared dimensions.
# Equivalent mutants left: x_label_projector__mutmut_29, _30, _38 (the rank cut of the QR diagonal:
# >= instead of >, 1e-10/max or a floor 1.0 instead of 1e-300): the diagonal of R for centred class
# indicators is either of order one (a class that occurs) or rounding noise ~1e-16·√N (the dependent
# last column, or every column of a single class), far from every one of these cuts; x_nc1_bound__mutmut_31, _34,
# _35 (pinv with hermitian=None/False): Σ_B is symmetric positive semi-definite, so its SVD and its
# eigen-decomposition give the same pseudo-inverse (and the same rcond cut) up to rounding.
# ------------------------------------------------------------------------------------------------

def _parts():
    """The four arrays of eigenfeatures(PHI): mean (2,), phi (4, 2), eigenvalues (2,), train_values (4, 2)."""
    ef = F.eigenfeatures(PHI)
    return dict(mean=ef.mean, phi=ef.phi, eigenvalues=ef.eigenvalues, train_values=ef.train_values)


def test_eigenfeatures_rebuilt_from_its_parts_is_the_same_object():
    """EigenFeatures(**parts) accepts consistent arrays and gives the same Nyström extension."""
    ef = F.EigenFeatures(**_parts())
    np.testing.assert_allclose(ef.evaluate(PHI), ef.train_values, atol=1e-12)


@pytest.mark.parametrize("field", ["mean", "phi", "eigenvalues", "train_values"])
def test_eigenfeatures_names_a_bad_array(field):
    parts = _parts()
    parts[field] = "abc"
    with pytest.raises(ArgumentError, match=f"^{field} must"):
        F.EigenFeatures(**parts)


@pytest.mark.parametrize("field, value", [
    ("mean", np.zeros((1, 2))),            # (p,) given as a row
    ("phi", np.zeros(4)),                  # (N, p) given as a vector
    ("eigenvalues", np.ones((1, 2))),      # (r,) given as a row
    ("train_values", np.zeros(4)),         # (N, r) given as a vector
])
def test_eigenfeatures_checks_the_number_of_dimensions(field, value):
    parts = _parts()
    parts[field] = value
    with pytest.raises(ArgumentError, match=f"^{field} must have"):
        F.EigenFeatures(**parts)


@pytest.mark.parametrize("field, value, blamed", [
    ("mean", np.zeros(3), "phi"),                      # p = 3 from mean, phi has p = 2
    ("phi", np.zeros((4, 3)), "phi"),                  # p = 2 from mean, phi has p = 3
    ("eigenvalues", np.ones(3), "train_values"),       # r = 3 from eigenvalues, train_values has r = 2
    ("train_values", np.zeros((3, 2)), "train_values"),  # N = 4 from phi, train_values has N = 3
    ("train_values", np.zeros((4, 1)), "train_values"),  # r = 2 from eigenvalues, train_values has r = 1
])
def test_eigenfeatures_checks_the_shared_dimensions(field, value, blamed):
    """mean, phi, eigenvalues and train_values share p, N and r: a disagreement is refused, naming the array
    that first disagrees with what the earlier ones fixed."""
    parts = _parts()
    parts[field] = value
    with pytest.raises(ArgumentError, match=f"^{blamed} "):
        F.EigenFeatures(**parts)


def test_eigenfeatures_with_no_kept_eigenvalue_is_allowed():
    """r = 0 (nothing kept) is a valid, empty set of eigenfunctions: the extension has 0 columns."""
    parts = _parts()
    parts.update(eigenvalues=np.zeros(0), train_values=np.zeros((4, 0)))
    ef = F.EigenFeatures(**parts)
    assert ef.evaluate(PHI).shape == (4, 0)


@pytest.mark.parametrize("bad", [0.0, -0.5])
def test_eigenfeatures_refuses_a_non_positive_eigenvalue(bad):
    """The kept eigenvalues are positive: 0 would divide the Nyström extension by zero."""
    parts = _parts()
    parts["eigenvalues"] = np.array([2.0, bad])
    with pytest.raises(ArgumentError, match="^eigenvalues must be positive"):
        F.EigenFeatures(**parts)
