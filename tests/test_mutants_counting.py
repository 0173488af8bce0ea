"""Tests written against the surviving mutants of ``course_utils.theory.counting`` (tools/mutation.py).

Equivalent survivors, left alive (their behaviour cannot differ):
- ``_sample_sizes(N).astype(float)`` → ``astype(None)`` in missing_mass / expected_seen, and
  ``np.empty(shape, dtype=float)`` → ``dtype=None`` or no dtype in expected_kl: NumPy's default dtype is float64;
- ``N_arr.astype(np.int64)`` → ``astype(None)`` in _sample_sizes: the sizes are whole numbers below 2^62, exact
  in float64 where they are used (binomial weights and logs);
- ``step = -log_min/…`` → ``+log_min/…`` in quantization_floor (the step is squared) and in
  quantize_log_probabilities (level and step both change sign; round is odd, so level·step is unchanged);
- the n range of top_n_expected_kl's own validation: top_n_floor, called next, validates n with the same message;
- ``n >= K − 1`` → ``n > K − 1`` in top_n_expected_kl: for n = K − 1 the coarse distribution (p_1 … p_{K−1}, p_K)
  is p itself;
- ``n == K or R == 0`` → ``and`` / ``R == 1`` in top_n_floor: with R = 0 every tail entry is 0, and the sum over
  the positive ones that follows is the same 0.0.
"""

import numpy as np
import pytest

from course_utils.theory import counting as th
from course_utils.validate import ArgumentError


def test_unseen_probability_names_its_arguments():
    with pytest.raises(ArgumentError, match=r"\bp\b"):
        th.unseen_probability(np.full((2, 2), 0.5), 3)             # one distribution, not a table
    with pytest.raises(ArgumentError, match=r"probabilities in \[0, 1\]"):
        th.unseen_probability([-0.5, 0.5], 3)                        # a negative entry below 1
    with pytest.raises(ArgumentError, match=r"probabilities in \[0, 1\]"):
        th.unseen_probability([0.5, 1.5], 3)
    with pytest.raises(ArgumentError, match=r"N \(the number of samples\)"):
        th.unseen_probability([0.5, 0.5], [np.nan])
    with pytest.raises(ArgumentError, match="non-negative"):
        th.unseen_probability([0.5, 0.5], -1)


def test_unseen_probability_of_no_sample_sizes_is_empty():
    out = th.unseen_probability([0.2, 0.8], np.array([]))
    assert out.shape == (0, 2)


def test_probabilities_are_renormalised():
    """p summing to 1 + 5e-10 (inside the tolerance) is divided by its sum: the missing mass at N = 0 is 1."""
    p = np.array([0.6, 0.4]) * (1 + 5e-10)
    assert float(th.missing_mass(p, 0)) == pytest.approx(1.0, rel=1e-13)


def test_kl_divergence_and_quantization_floor_of_empty_batches():
    assert th.kl_divergence([0.5, 0.5], np.empty((0, 2))).shape == (0,)
    assert th.quantization_floor(np.array([], dtype=int), -3.0).shape == (0,)


def test_quantized_probabilities_survive_a_deep_log_min():
    """log_min = −400 with 52 bits: levels 2^52 − 1 apart span [−400, 0]; the stored q are the true ones to about
    the step (400/(2^52 − 1) in log) and finite (a level offset by a multiple of the range would underflow)."""
    q = np.array([0.7, 0.2, 0.1])
    out = th.quantize_log_probabilities(q, 52, -400.0)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, q, rtol=1e-12)
