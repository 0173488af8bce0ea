"""The toy grokking model of Liu et al. (2022), "Towards understanding grokking: an effective theory
of representation learning": one model alone, and K of them as a batched ensemble.

Symbols 0, …, p−1 have trainable embeddings E_i ∈ ℝ^d. The pair (a, b) is represented by
E_a + E_b (the addition is hard-wired), and an MLP decoder maps it to an output:

    f(a, b) = Dec(E_a + E_b),   Dec = Linear(d, H) → tanh → Linear(H, H) → tanh → Linear(H, D_out).

The task is the table of a + b over unordered pairs a ≤ b (p(p+1)/2 of them). In the regression
version each sum s ∈ {0, …, 2p−2} has a fixed random target vector Y_s ∈ ℝ^30 (MSE loss; a
prediction is correct when its nearest target vector is Y_{a+b}); in the classification version
the decoder outputs 2p−1 logits. The paper's setting: p = 10, d = 1, H = 200, D_out = 30, 45 of
the 55 pairs for training (full batch), AdamW with separate learning rates and weight decays for
the embeddings and the decoder. Initialisation as in the paper's code: E ~ U(−½, ½)·s_E, decoder
layers PyTorch's default U(±1/√fan_in), all decoder weights and biases times s_D.

:class:`ToyAdditionModel` is one model (a plain ``nn.Module``); :class:`BatchedToyAdditionModel`
is K of them trained as one, whose member k is exactly ``ToyAdditionModel(..., seed=seeds[k])``
(:meth:`~BatchedToyAdditionModel.member` returns it). Used by the grokking chapters and by
``benchmarks/ensemble_benchmark.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..ensemble.layers import BatchedMLP, mlp, per_member

__all__ = ["addition_table", "target_vectors", "random_train_masks", "nearest_target_accuracy",
           "toy_metrics", "ToyAdditionModel", "BatchedToyAdditionModel"]


def addition_table(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All unordered pairs (a, b) with 0 ≤ a ≤ b < p, shape (p(p+1)/2, 2), and their sums a + b."""
    if p < 2:
        raise ValueError(f"need at least 2 symbols, got p={p}")
    pairs = torch.tensor([(a, b) for a in range(p) for b in range(a, p)], dtype=torch.long)
    return pairs, pairs.sum(dim=1)


def target_vectors(p: int, out_dim: int = 30, *, scale: float = 1.0, seed: int = 0) -> torch.Tensor:
    """The regression targets: one random vector Y_s ~ N(0, scale²·I) per sum s, shape (2p−1, out_dim)."""
    if out_dim < 1:
        raise ValueError(f"out_dim must be ≥ 1, got {out_dim}")
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randn(2 * p - 1, out_dim, generator=gen) * scale


def random_train_masks(n_total: int, n_train: int | Sequence[int], seeds: Sequence[int]) -> torch.Tensor:
    """One random training set per member: a (K, n_total) boolean mask with n_train[k] entries set.

    Member k's set is drawn with a generator seeded by ``seeds[k]``; ``n_train`` is one size for
    all or one per member (training-fraction sweeps). Pass it as ``sample_weight`` to
    :func:`course_utils.ensemble.train_ensemble`; ``~mask`` is the validation set.
    """
    seeds = [int(s) for s in seeds]
    sizes = np.broadcast_to(np.asarray(n_train, dtype=int), (len(seeds),))
    if (sizes < 1).any() or (sizes > n_total).any():
        raise ValueError(f"training-set sizes must be between 1 and {n_total}, got {sizes}")
    masks = torch.zeros(len(seeds), n_total, dtype=torch.bool)
    for k, (seed, n) in enumerate(zip(seeds, sizes)):
        masks[k, torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n]] = True
    return masks


def nearest_target_accuracy(outputs: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor,
                            weight: torch.Tensor | None = None) -> torch.Tensor:
    """Fraction of samples whose output is nearest (Euclidean) to the target vector of their label.

    ``outputs`` (…, N, D), ``targets`` (C, D) shared by all, or (…, C, D) one set per member (e.g.
    (K, C, D) for an ensemble whose members each have their own random targets), ``labels`` (N,)
    → accuracies of shape (…); with ``weight`` ((N,) or (…, N), e.g. a 0/1 mask) the weighted fraction.
    """
    if targets.dim() < 2 or targets.shape[-1] != outputs.shape[-1]:
        raise ValueError(f"targets must have shape (C, D) or (…, C, D) with D = {outputs.shape[-1]} (the "
                         f"outputs' last axis), got {tuple(targets.shape)}")
    targets = targets.to(outputs.dtype).expand(*outputs.shape[:-2], *targets.shape[-2:])
    predicted = torch.cdist(outputs, targets, compute_mode="donot_use_mm_for_euclid_dist").argmin(dim=-1)
    correct = (predicted == labels).to(outputs.dtype)
    if weight is None:
        return correct.mean(dim=-1)
    weight = weight.to(correct.dtype)
    return (correct * weight).sum(dim=-1) / weight.sum(dim=-1)


def toy_metrics(pairs: torch.Tensor, targets: torch.Tensor, sums: torch.Tensor, train_mask: torch.Tensor,
                val_mask: torch.Tensor, *, embeddings: bool = True) -> dict:
    """What the grokking chapters record of a :class:`BatchedToyAdditionModel` while it trains, as
    ``metrics`` for :func:`course_utils.ensemble.train_ensemble`: ``"train_acc"`` and ``"val_acc"``
    (:func:`nearest_target_accuracy` on the (K, N) masks) and, with ``embeddings``, ``"E"``, the
    one-dimensional embeddings E_k of every member, shape (K, p)."""
    metrics = {"train_acc": lambda m: nearest_target_accuracy(m(pairs), targets, sums, train_mask),
               "val_acc": lambda m: nearest_target_accuracy(m(pairs), targets, sums, val_mask)}
    if embeddings:
        metrics["E"] = lambda m: m.embedding[..., 0].clone()
    return metrics


def _check(p, embed_dim, width, out_dim, depth):
    if p < 2 or embed_dim < 1 or width < 1 or out_dim < 1 or depth < 0:
        raise ValueError(f"need p ≥ 2, embed_dim, width, out_dim ≥ 1 and depth ≥ 0; got p={p}, "
                         f"embed_dim={embed_dim}, width={width}, out_dim={out_dim}, depth={depth}")
    return [embed_dim] + [width] * depth + [out_dim]


class ToyAdditionModel(nn.Module):
    """One toy model: f(a, b) = Dec(E_a + E_b), with ``depth`` hidden layers of ``width`` units.

    ``forward(pairs)`` takes integer pairs (N, 2) and returns (N, out_dim). All randomness comes
    from a generator seeded with ``seed`` (embeddings first, then the decoder layer by layer).
    """

    def __init__(self, p: int = 10, embed_dim: int = 1, width: int = 200, out_dim: int = 30,
                 depth: int = 2, activation="tanh", *, init_scale_embed: float = 1.0,
                 init_scale_decoder: float = 1.0, seed: int = 0):
        super().__init__()
        sizes = _check(p, embed_dim, width, out_dim, depth)
        gen = torch.Generator().manual_seed(int(seed))
        self.p = p
        self.embedding = nn.Parameter((torch.rand(p, embed_dim, generator=gen) - 0.5) * init_scale_embed)
        self.decoder = mlp(sizes, activation, init_scale=init_scale_decoder, generator=gen)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.embedding[pairs[..., 0]] + self.embedding[pairs[..., 1]])

    def parameter_groups(self, embedding: dict, decoder: dict) -> list[dict]:
        """Optimiser parameter groups, e.g. ``torch.optim.AdamW(model.parameter_groups(
        embedding=dict(lr=1e-3), decoder=dict(lr=1e-4, weight_decay=1.0)))``."""
        return [dict(params=[self.embedding], **embedding),
                dict(params=list(self.decoder.parameters()), **decoder)]


class BatchedToyAdditionModel(nn.Module):
    """K toy models trained as one; member k is ``ToyAdditionModel(..., seed=seeds[k])``.

    ``init_scale_embed`` and ``init_scale_decoder`` are numbers or one value per member; ``seeds``
    defaults to 0, …, K−1. ``embedding`` has shape (K, p, embed_dim), ``decoder`` is a
    :class:`~course_utils.ensemble.BatchedMLP`. ``forward(pairs)`` takes (N, 2) pairs shared by
    all members (or (K, N, 2)) and returns (K, N, out_dim).
    """

    def __init__(self, n_members: int, p: int = 10, embed_dim: int = 1, width: int = 200,
                 out_dim: int = 30, depth: int = 2, activation="tanh", *, init_scale_embed=1.0,
                 init_scale_decoder=1.0, seeds: Sequence[int] | None = None):
        super().__init__()
        sizes = _check(p, embed_dim, width, out_dim, depth)
        if n_members < 1:
            raise ValueError(f"n_members must be ≥ 1, got {n_members}")
        seeds = list(range(n_members)) if seeds is None else [int(s) for s in seeds]
        if len(seeds) != n_members:
            raise ValueError(f"need one seed per member ({n_members}), got {len(seeds)}")
        s_embed = per_member(init_scale_embed, n_members, "init_scale_embed")
        s_dec = per_member(init_scale_decoder, n_members, "init_scale_decoder")
        self.n_members, self.p, self.config = n_members, p, dict(
            p=p, embed_dim=embed_dim, width=width, out_dim=out_dim, depth=depth, activation=activation)
        self.embedding = nn.Parameter(torch.empty(n_members, p, embed_dim))
        self.decoder = BatchedMLP(n_members, sizes, activation, init=None)
        self.load_members([ToyAdditionModel(**self.config, init_scale_embed=float(a),
                                            init_scale_decoder=float(b), seed=s)
                           for a, b, s in zip(s_embed, s_dec, seeds)])

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        E = self.embedding                                 # (K, p, d)
        if pairs.dim() == 2:                               # the same pairs for every member
            h = E.index_select(1, pairs[:, 0]) + E.index_select(1, pairs[:, 1])
        else:                                              # (K, N, 2): each member its own pairs
            index = pairs.unsqueeze(-1).expand(*pairs.shape, E.shape[2])   # (K, N, 2, d)
            h = E.gather(1, index[:, :, 0]) + E.gather(1, index[:, :, 1])
        return self.decoder(h)                             # (K, N, out_dim)

    def parameter_groups(self, embedding: dict, decoder: dict) -> list[dict]:
        """Optimiser parameter groups (values may be per member), e.g. ``BatchedAdamW(model.parameter_groups(
        embedding=dict(lr=1e-3, weight_decay=0.0), decoder=dict(lr=grid["lr"], weight_decay=grid["wd"])))``."""
        return [dict(params=[self.embedding], **embedding),
                dict(params=list(self.decoder.parameters()), **decoder)]

    @torch.no_grad()
    def load_members(self, models: Sequence[ToyAdditionModel]) -> None:
        """Copy K single models into the members."""
        if len(models) != self.n_members:
            raise ValueError(f"need {self.n_members} models, got {len(models)}")
        self.embedding.copy_(torch.stack([m.embedding.detach() for m in models]))
        self.decoder.load_members([m.decoder for m in models])

    @classmethod
    def from_members(cls, models: Sequence[ToyAdditionModel]) -> "BatchedToyAdditionModel":
        """Stack single models of the same shape into an ensemble."""
        if not models:
            raise ValueError("need at least one model")
        m0 = models[0]
        lins = [m for m in m0.decoder if isinstance(m, nn.Linear)]
        act = next((m for m in m0.decoder if not isinstance(m, nn.Linear)), nn.Identity())
        batched = cls(len(models), p=m0.p, embed_dim=m0.embedding.shape[1],
                      width=lins[0].out_features, out_dim=lins[-1].out_features,
                      depth=len(lins) - 1, activation=act)
        batched.load_members(models)
        return batched.to(m0.embedding.device)

    @torch.no_grad()
    def member(self, k: int) -> ToyAdditionModel:
        """Member k as a single :class:`ToyAdditionModel` (a copy, on the same device)."""
        if not 0 <= k < self.n_members:
            raise ValueError(f"member index must be in [0, {self.n_members}), got {k}")
        single = ToyAdditionModel(**self.config).to(self.embedding.device)
        single.embedding.copy_(self.embedding[k])
        single.decoder = self.decoder.member(k)
        return single
