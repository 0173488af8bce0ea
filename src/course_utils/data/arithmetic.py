"""Arithmetic tables for the grokking chapters: addition of symbols, and addition modulo p.

- :func:`addition_task`: the toy task of Liu et al. (2022): all unordered pairs (a, b), a ≤ b < p,
  labelled by their sum s = a + b ∈ {0, …, 2p−2}, with one fixed random target vector Y_s per sum
  for the regression version (the classification version uses s itself as the label);
- :func:`modular_addition`: all ordered pairs (a, b) ∈ {0, …, p−1}², labelled (a + b) mod p, and
  :func:`one_hot_pairs`, their inputs as the concatenation [onehot(a), onehot(b)] ∈ ℝ^{2p};
- :func:`split_mask` / :func:`split_masks`: a random training set holding a given fraction of
  the table (seeded), as a boolean mask; its complement is the validation set;
- :func:`answerable`: the validation samples whose label occurs in the training set (a sum that
  never appears in training has a target the decoder has never seen: no representation helps).

Everything is deterministic given the seeds and needs no download.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..models.grokking import addition_table, target_vectors

__all__ = ["AdditionTask", "addition_task", "modular_addition", "one_hot_pairs", "n_train_from_fraction",
           "split_mask", "split_masks", "answerable"]


@dataclass
class AdditionTask:
    """The table of a + b over unordered pairs: ``pairs`` (N, 2), ``sums`` (N,), ``targets`` (2p−1, D).

    ``targets[s]`` is the regression target of every pair with sum s, so ``targets[sums]`` are the
    per-sample targets; N = p(p+1)/2.
    """

    p: int
    pairs: torch.Tensor
    sums: torch.Tensor
    targets: torch.Tensor

    @property
    def n(self) -> int:
        return len(self.pairs)


def addition_task(p: int = 10, out_dim: int = 30, *, target_scale: float = 1.0,
                  target_seed: int = 0) -> AdditionTask:
    """The addition table of Liu et al. (2022) with fixed random targets Y_s ~ N(0, target_scale²·I)."""
    pairs, sums = addition_table(p)
    return AdditionTask(p, pairs, sums, target_vectors(p, out_dim, scale=target_scale, seed=target_seed))


def modular_addition(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All ordered pairs (a, b) ∈ {0, …, p−1}², shape (p², 2) (a slowest), and labels (a + b) mod p."""
    if p < 2:
        raise ValueError(f"need p ≥ 2, got {p}")
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    pairs = torch.stack([a.flatten(), b.flatten()], dim=1)
    return pairs, pairs.sum(dim=1) % p


def one_hot_pairs(pairs: torch.Tensor, p: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Inputs [onehot(a), onehot(b)] ∈ ℝ^{2p} of integer pairs (N, 2) → (N, 2p)."""
    if pairs.dim() != 2 or pairs.shape[1] != 2:
        raise ValueError(f"pairs must have shape (N, 2), got {tuple(pairs.shape)}")
    if pairs.min() < 0 or pairs.max() >= p:
        raise ValueError(f"symbols must lie in 0 … {p - 1}")
    x = torch.zeros(len(pairs), 2 * p, dtype=dtype or torch.get_default_dtype())
    rows = torch.arange(len(pairs))
    x[rows, pairs[:, 0]] = 1.0
    x[rows, p + pairs[:, 1]] = 1.0
    return x


def n_train_from_fraction(n_total: int, fraction: float) -> int:
    """round(fraction · n_total), at least 1 and at most n_total."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"the training fraction must lie in (0, 1], got {fraction}")
    return int(min(n_total, max(1, round(fraction * n_total))))


def split_mask(n_total: int, fraction: float, seed: int = 0) -> torch.Tensor:
    """A random training set of round(fraction·n_total) samples, as a boolean mask of shape (n_total,).

    Drawn with a generator seeded by ``seed`` (the same as member ``seed`` of
    :func:`course_utils.models.grokking.random_train_masks`); ``~mask`` is the validation set.
    """
    n = n_train_from_fraction(n_total, fraction)
    mask = torch.zeros(n_total, dtype=torch.bool)
    mask[torch.randperm(n_total, generator=torch.Generator().manual_seed(int(seed)))[:n]] = True
    return mask


def split_masks(n_total: int, fractions: float | Sequence[float], seeds: Sequence[int]) -> torch.Tensor:
    """One training mask per member, (K, n_total): fraction ``fractions[k]`` (or one for all), seed ``seeds[k]``."""
    seeds = [int(s) for s in seeds]
    fr = np.broadcast_to(np.asarray(fractions, dtype=float), (len(seeds),))
    return torch.stack([split_mask(n_total, f, s) for f, s in zip(fr, seeds)]) if seeds else \
        torch.zeros(0, n_total, dtype=torch.bool)


def answerable(labels: torch.Tensor, train_mask: torch.Tensor) -> torch.Tensor:
    """Validation samples whose label occurs among the training labels: mask of the shape of ``train_mask``.

    ``train_mask`` is (N,) or (K, N). For the addition table, a sum seen only in validation (e.g.
    0 = 0 + 0 when (0, 0) is held out) has a target vector the network has never been fit to, so
    no representation can predict it; validation accuracy is measured on the answerable pairs.
    """
    single = train_mask.dim() == 1
    masks = train_mask[None] if single else train_mask
    out = torch.stack([(~m) & torch.isin(labels, labels[m]) for m in masks])
    return out[0] if single else out
