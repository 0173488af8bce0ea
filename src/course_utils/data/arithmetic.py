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

from .. import validate
from ..validate import bool_mask, float_dtype, int_tensor, seed_list
from ..validate import ArgumentError

__all__ = ["addition_table", "target_vectors", "AdditionTask", "addition_task", "modular_addition", "one_hot_pairs",
           "n_train_from_fraction", "split_mask", "split_masks", "answerable"]


def addition_table(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All unordered pairs (a, b) with 0 ≤ a ≤ b < p, shape (p(p+1)/2, 2), and their sums a + b."""
    p = validate.integer("p (the number of symbols)", p, low=2)
    pairs = torch.tensor([(a, b) for a in range(p) for b in range(a, p)], dtype=torch.long)
    return pairs, pairs.sum(dim=1)


def target_vectors(p: int, out_dim: int = 30, *, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    """The regression targets: one random vector Y_s ~ N(0, scale²·I) per sum s, shape (2p−1, out_dim)."""
    p = validate.positive_int("p (the number of symbols)", p)
    out_dim = validate.positive_int("out_dim", out_dim)
    validate.nonnegative("scale", scale)
    seed = validate.nonnegative_int("seed", seed)
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(2 * p - 1, out_dim, generator=gen) * scale


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
    out_dim = validate.positive_int("out_dim", out_dim)
    target_scale = validate.nonnegative("target_scale", target_scale)
    target_seed = validate.nonnegative_int("target_seed", target_seed)
    pairs, sums = addition_table(p)
    return AdditionTask(p, pairs, sums, target_vectors(p, out_dim, scale=target_scale, seed=target_seed))


def modular_addition(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All ordered pairs (a, b) ∈ {0, …, p−1}², shape (p², 2) (a slowest), and labels (a + b) mod p."""
    p = validate.integer("p (the modulus)", p, low=2)
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    pairs = torch.stack([a.flatten(), b.flatten()], dim=1)
    return pairs, pairs.sum(dim=1) % p


def one_hot_pairs(pairs: torch.Tensor, p: int, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Inputs [onehot(a), onehot(b)] ∈ ℝ^{2p} of integer pairs (N, 2) → (N, 2p)."""
    p = validate.positive_int("p (the number of symbols)", p)
    dtype = float_dtype("dtype", dtype)
    pairs = int_tensor("pairs", pairs, shape=(None, 2), low=0, high=p)
    x = torch.zeros(len(pairs), 2 * p, dtype=dtype or torch.get_default_dtype())
    rows = torch.arange(len(pairs))
    x[rows, pairs[:, 0]] = 1.0
    x[rows, p + pairs[:, 1]] = 1.0
    return x


def n_train_from_fraction(n_total: int, fraction: float) -> int:
    """round(fraction · n_total), at least 1 and at most n_total."""
    n_total = validate.positive_int("n_total", n_total)
    fraction = validate.real("fraction (the training fraction)", fraction, low=0.0, high=1.0, low_open=True)
    return int(min(n_total, max(1, round(fraction * n_total))))


def split_mask(n_total: int, fraction: float, seed: int = 0) -> torch.Tensor:
    """A random training set of round(fraction·n_total) samples, as a boolean mask of shape (n_total,):
    member ``seed`` of :func:`split_masks`; ``~mask`` is the validation set."""
    n = n_train_from_fraction(n_total, fraction)
    seed = validate.nonnegative_int("seed", seed)
    return split_masks(n_total, n_train=n, seeds=[seed])[0]


def split_masks(n_total: int, fractions: float | Sequence[float] | None = None, *, seeds: Sequence[int],
                n_train: int | Sequence[int] | None = None) -> torch.Tensor:
    """One random training set per member, a (K, n_total) boolean mask; ``~mask`` is the validation set.

    Member k holds round(``fractions[k]``·n_total) samples (:func:`n_train_from_fraction`), or ``n_train[k]``
    when the sizes are given instead (give one of the two; one value for all members or one per member).
    Its set is the first n of ``torch.randperm(n_total)`` drawn with a generator seeded by ``seeds[k]``, so a
    member's set depends on its seed and size only (a larger set contains the smaller one of the same seed).
    Pass it as ``sample_weight`` to :func:`course_utils.ensemble.train_ensemble`.
    """
    n_total = validate.positive_int("n_total", n_total)
    seeds = seed_list("seeds", seeds)
    if (fractions is None) == (n_train is None):
        raise ArgumentError("give either fractions (training fractions) or n_train (training-set sizes), not "
                            f"{'both' if fractions is not None else 'neither'}")
    if fractions is not None:
        fr = validate.array("fractions", fractions, ndim=(0, 1), allow_empty=True)
        if fr.ndim == 1 and fr.size != len(seeds):
            raise ArgumentError(f"fractions must be one number or one per seed ({len(seeds)}), got {fr.size}")
        for k, f in enumerate(fr.reshape(-1)):
            validate.real(f"fractions[{k}]" if fr.ndim else "fractions", f, low=0.0, high=1.0, low_open=True)
        sizes = np.array([n_train_from_fraction(n_total, f) for f in np.broadcast_to(fr, (len(seeds),))], dtype=int)
    else:
        n = validate.array("n_train", n_train, ndim=(0, 1))
        if n.ndim == 1 and n.size != len(seeds):
            raise ArgumentError(f"n_train must be one size or one per member ({len(seeds)} seeds), got {n.size} sizes")
        if np.any(n != np.round(n)):
            raise ArgumentError(f"n_train must hold whole numbers (training-set sizes), got {n.tolist()}")
        sizes = np.broadcast_to(n.astype(int), (len(seeds),))
        if (sizes < 1).any() or (sizes > n_total).any():
            raise ArgumentError(f"n_train (the training-set sizes) must be between 1 and n_total = {n_total}, "
                                f"got {sizes}")
    masks = torch.zeros(len(seeds), n_total, dtype=torch.bool)
    for k, (seed, size) in enumerate(zip(seeds, sizes)):
        masks[k, torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:size]] = True
    return masks


def answerable(labels: torch.Tensor, train_mask: torch.Tensor) -> torch.Tensor:
    """Validation samples whose label occurs among the training labels: mask of the shape of ``train_mask``.

    ``train_mask`` is (N,) or (K, N). For the addition table, a sum seen only in validation (e.g.
    0 = 0 + 0 when (0, 0) is held out) has a target vector the network has never been fit to, so
    no representation can predict it; validation accuracy is measured on the answerable pairs.
    A 0/1 integer mask is read as a boolean one (so that 1 means "in the training set").
    """
    dims = validate.Dims()
    labels = int_tensor("labels", labels, shape=("N",), dims=dims)
    train_mask = bool_mask("train_mask", train_mask, ndim=(1, 2))
    dims.bind("train_mask", tuple(train_mask.shape[-1:]), ("N",))
    single = train_mask.dim() == 1
    masks = train_mask[None] if single else train_mask
    out = torch.stack([(~m) & torch.isin(labels, labels[m]) for m in masks])
    return out[0] if single else out
