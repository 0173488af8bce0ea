"""Checkers for the exercises of Grokking III (book/05_grokking/03_grokking_transformers).

- :func:`check_frequency_shares`: a function ``shares(W)`` that takes embeddings W of shape (p, n), p odd,
  and returns the share of their Fourier power at each frequency k = 1 … (p−1)/2 (the constant left out),
  compared with :func:`course_utils.theory.modular_fourier.frequency_shares` on random and structured W.

Each checker prints a verdict and returns True or False; an answer of the wrong kind gets a ✗ verdict that
says what was expected, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..theory.modular_fourier import frequency_power, frequency_shares
from . import answers
from .answers import say, tolerance, values

__all__ = ["check_frequency_shares"]


def _test_matrices(seed: int = 0) -> list[np.ndarray]:
    """Embeddings to test on: random Gaussian ones, a sum of two pure frequencies with an offset, and a
    spectrum dominated by the top frequency (p − 1)/2 (where an off-by-one in the frequency index shows)."""
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal((13, 5)), rng.standard_normal((7, 1))]
    a = np.arange(11)[:, None]
    out.append(np.hstack([3 * np.cos(2 * np.pi * 2 * a / 11 + 0.4), np.sin(2 * np.pi * 5 * a / 11)]) + 2.0)
    out.append(np.cos(2 * np.pi * 7 * np.arange(15)[:, None] / 15) + 0.1 * rng.standard_normal((15, 3)))
    return out


def _hint(answer: np.ndarray, W: np.ndarray) -> str:
    """What a wrong answer most likely did."""
    F = (len(W) - 1) // 2
    if answer.size == F + 1:
        return " (you kept the constant k = 0: it only shifts every embedding, so leave it out)"
    if answer.size == len(W):
        return " (one value per symbol: sum the power of cos and sin of each frequency k = 1 … (p−1)/2)"
    if answer.size != F:
        return ""
    power = frequency_power(W)
    full = (np.abs(np.fft.fft(W, axis=0)) ** 2).sum(1)
    if np.allclose(answer, power, rtol=1e-6):
        return " (that is the power itself: divide by the total over k ≥ 1 so that the shares sum to 1)"
    if np.allclose(answer, power / full.sum() * len(W) / 2, rtol=1e-6) or np.allclose(
            answer, power / (W ** 2).sum(), rtol=1e-6):
        return " (normalise by the power at k ≥ 1 only, not by a total that includes the constant)"
    amplitude = np.sqrt(power)
    if np.allclose(answer, amplitude / amplitude.sum(), rtol=1e-6):
        return " (shares of power: square the Fourier coefficients before summing)"
    return ""


@answers.checker
def check_frequency_shares(shares: Callable, rtol: float = 1e-6, verbose: bool = True) -> bool:
    """Exercise "The Fourier spectrum of an embedding": does ``shares(W)`` return s_k = P_k / Σ_k' P_k',
    P_k = Σ_j (φ_{c,k}·W_j)² + (φ_{s,k}·W_j)², k = 1 … (p−1)/2, for embeddings W of shape (p, n), p odd?

    Tested on four matrices (p = 7 to 15); every entry must be within rtol·|reference| + 10⁻¹².
    """
    shares = answers.student_function(shares, "shares (a function shares(W))")
    rtol = tolerance("rtol", rtol)
    for W in _test_matrices():
        p = len(W)
        F = (p - 1) // 2
        raw = answers.call(shares, W.copy(), what=f"shares(W) with W of shape {W.shape}")
        flat = np.ravel(np.asarray(raw)) if not callable(raw) and raw is not None and not isinstance(
            raw, (str, bytes, dict)) else None
        if flat is not None and flat.dtype.kind in "fiu" and flat.size != F:
            return say(False, f"for W of shape {W.shape} (p = {p}) shares(W) should hold {F} values, one per "
                              f"frequency k = 1 … {F}, got {flat.size}{_hint(flat, W)}", verbose)
        answer = values(raw, f"shares(W) for W of shape {W.shape}", shape=(F,))
        reference = frequency_shares(W)
        good = np.abs(answer - reference) <= rtol * np.abs(reference) + 1e-12
        if not np.all(good):
            k = int(np.argmin(good)) + 1
            return say(False, f"for W of shape {W.shape} the share of frequency k = {k} is {reference[k - 1]:.6g}, "
                              f"you give {answer[k - 1]:.6g}{_hint(answer, W)}", verbose)
    return say(True, "your shares(W) is right: power per frequency, constant left out, normalised to sum 1",
               verbose)
