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

from .. import validate
from ..ensemble.layers import BatchedMLP, mlp, per_member
from ..ensemble.optim import BatchedAdamW
from ..validate import ArgumentError
from ..validate import bool_mask, int_tensor, seed_list

__all__ = ["nearest_target_accuracy", "toy_metrics", "ToyAdditionModel", "BatchedToyAdditionModel", "toy_optimizer"]


def nearest_target_accuracy(outputs: torch.Tensor, targets: torch.Tensor, labels: torch.Tensor,
                            weight: torch.Tensor | None = None) -> torch.Tensor:
    """Fraction of samples whose output is nearest (Euclidean) to the target vector of their label.

    ``outputs`` (…, N, D), ``targets`` (C, D) shared by all, or (…, C, D) one set per member (e.g.
    (K, C, D) for an ensemble whose members each have their own random targets), ``labels`` (N,)
    → accuracies of shape (…); with ``weight`` ((N,) or (…, N), e.g. a 0/1 mask) the weighted fraction.
    An all-zero weight (an empty validation set) gives NaN for that member.
    """
    if not isinstance(outputs, torch.Tensor) or not outputs.is_floating_point():
        outputs = validate.tensor("outputs", outputs, finite=False)
        if not outputs.is_floating_point():
            outputs = outputs.to(torch.get_default_dtype())
    if outputs.dim() < 2:
        raise ArgumentError(f"outputs must have shape (…, N, D), got {tuple(outputs.shape)}")
    if not isinstance(targets, torch.Tensor):
        targets = validate.tensor("targets", targets, dtype=outputs.dtype, device_=outputs.device)
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.dtype == torch.bool:
        labels = int_tensor("labels", labels)
    if labels.dim() != 1 or labels.shape[0] != outputs.shape[-2]:
        raise ArgumentError(f"labels must have shape (N,) with N = {outputs.shape[-2]} (the outputs' second-to-last "
                            f"axis), got {tuple(labels.shape)}")
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            weight = validate.tensor("weight", weight, finite=False)
        if weight.dim() < 1 or weight.shape[-1] != outputs.shape[-2]:
            raise ArgumentError(f"weight must have shape (N,) or (…, N) with N = {outputs.shape[-2]}, "
                                f"got {tuple(weight.shape)}")
    if targets.dim() < 2 or targets.shape[-1] != outputs.shape[-1] or targets.shape[-2] == 0:
        raise ArgumentError(f"targets must have shape (C, D) or (…, C, D) with C ≥ 1 and D = {outputs.shape[-1]} (the "
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
    dims = validate.Dims()
    pairs = int_tensor("pairs", pairs, shape=("N", 2), dims=dims, low=0, allow_empty=False)
    sums = int_tensor("sums", sums, shape=("N",), dims=dims, low=0, allow_empty=False)
    targets = validate.tensor("targets", targets, ndim=(2, 3))
    if int(sums.max()) >= targets.shape[-2]:
        raise ArgumentError(f"sums go up to {int(sums.max())} but targets has only {targets.shape[-2]} target vectors")
    train_mask = bool_mask("train_mask", train_mask, ndim=(1, 2))
    val_mask = bool_mask("val_mask", val_mask, ndim=(1, 2))
    for name, m in (("train_mask", train_mask), ("val_mask", val_mask)):
        if m.shape[-1] != pairs.shape[0]:
            raise ArgumentError(f"{name} must have shape (N,) or (K, N) with N = {pairs.shape[0]} pairs, "
                                f"got {tuple(m.shape)}")
    metrics = {"train_acc": lambda m: nearest_target_accuracy(m(pairs), targets, sums, train_mask),
               "val_acc": lambda m: nearest_target_accuracy(m(pairs), targets, sums, val_mask)}
    if embeddings:
        metrics["E"] = lambda m: m.embedding[..., 0].clone()
    return metrics


def _check(p, embed_dim, width, out_dim, depth):
    """The decoder's layer sizes [embed_dim, width × depth, out_dim]; p ≥ 2, sizes ≥ 1, depth ≥ 0."""
    validate.integer("p (the number of symbols)", p, low=2)
    embed_dim, width, out_dim = (validate.positive_int(name, v) for name, v in
                                 (("embed_dim", embed_dim), ("width", width), ("out_dim", out_dim)))
    depth = validate.nonnegative_int("depth", depth)
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
        validate.real("init_scale_embed", init_scale_embed)
        validate.real("init_scale_decoder", init_scale_decoder)
        gen = torch.Generator().manual_seed(validate.nonnegative_int("seed", seed))
        self.p = p
        self.embedding = nn.Parameter((torch.rand(p, embed_dim, generator=gen) - 0.5) * init_scale_embed)
        self.decoder = mlp(sizes, activation, init_scale=init_scale_decoder, generator=gen)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """f(a, b) = Dec(E_a + E_b) for integer pairs of shape (…, 2) → (…, out_dim)."""
        pairs = _pairs(pairs, self.embedding.device)
        return self.decoder(self.embedding[pairs[..., 0]] + self.embedding[pairs[..., 1]])

    def parameter_groups(self, embedding: dict, decoder: dict) -> list[dict]:
        """Optimiser parameter groups, e.g. ``torch.optim.AdamW(model.parameter_groups(
        embedding=dict(lr=1e-3), decoder=dict(lr=1e-4, weight_decay=1.0)))``."""
        _check_groups(embedding, decoder)
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
        n_members = validate.positive_int("n_members", n_members)
        seeds = list(range(n_members)) if seeds is None else seed_list("seeds", seeds)
        if len(seeds) != n_members:
            raise ArgumentError(f"seeds must hold one seed per member ({n_members}), got {len(seeds)}")
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
        """Outputs (K, N, out_dim) for integer pairs (N, 2) shared by all members, or (K, N, 2)."""
        E = self.embedding                                 # (K, p, d)
        pairs = _pairs(pairs, E.device)
        if pairs.dim() not in (2, 3) or (pairs.dim() == 3 and pairs.shape[0] != self.n_members):
            raise ArgumentError(f"pairs must have shape (N, 2) or ({self.n_members}, N, 2), got {tuple(pairs.shape)}")
        try:    # an index outside 0 … p−1 is caught by torch; no extra check (this runs at every step)
            if pairs.dim() == 2:                               # the same pairs for every member
                h = E.index_select(1, pairs[:, 0]) + E.index_select(1, pairs[:, 1])
            else:                                              # (K, N, 2): each member its own pairs
                index = pairs.unsqueeze(-1).expand(*pairs.shape, E.shape[2])   # (K, N, 2, d)
                h = E.gather(1, index[:, :, 0]) + E.gather(1, index[:, :, 1])
        except (RuntimeError, IndexError):
            raise ArgumentError(f"pairs must hold symbols between 0 and p − 1 = {self.p - 1}, "
                                f"got entries from {int(pairs.min())} to {int(pairs.max())}") from None
        return self.decoder(h)                             # (K, N, out_dim)

    def parameter_groups(self, embedding: dict, decoder: dict) -> list[dict]:
        """Optimiser parameter groups (values may be per member), e.g. ``BatchedAdamW(model.parameter_groups(
        embedding=dict(lr=1e-3, weight_decay=0.0), decoder=dict(lr=grid["lr"], weight_decay=grid["wd"])))``."""
        _check_groups(embedding, decoder)
        return [dict(params=[self.embedding], **embedding),
                dict(params=list(self.decoder.parameters()), **decoder)]

    @torch.no_grad()
    def load_members(self, models: Sequence[ToyAdditionModel]) -> None:
        """Copy K single models into the members."""
        _check_models(models)
        if len(models) != self.n_members:
            raise ArgumentError(f"need {self.n_members} models, got {len(models)}")
        self.embedding.copy_(torch.stack([m.embedding.detach() for m in models]))
        self.decoder.load_members([m.decoder for m in models])

    @classmethod
    def from_members(cls, models: Sequence[ToyAdditionModel]) -> BatchedToyAdditionModel:
        """Stack single models of the same shape into an ensemble."""
        _check_models(models)
        if not models:
            raise ArgumentError("models is empty: need at least one model")
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
        k = validate.integer("k (the member index)", k, low=0, high=self.n_members - 1)
        single = ToyAdditionModel(**self.config).to(self.embedding.device)
        single.embedding.copy_(self.embedding[k])
        single.decoder = self.decoder.member(k)
        return single


def _pairs(pairs, device: torch.device) -> torch.Tensor:
    """Integer pairs (…, 2) as a tensor on ``device``: a cheap check, run at every training step."""
    if not (isinstance(pairs, torch.Tensor) and not pairs.is_floating_point() and pairs.dtype != torch.bool):
        pairs = int_tensor("pairs", pairs, allow_empty=True).to(device)
    if pairs.dim() == 0 or pairs.shape[-1] != 2:
        raise ArgumentError(f"pairs must have shape (…, 2) (symbol pairs (a, b)), got {tuple(pairs.shape)}")
    return pairs


def toy_optimizer(model: ToyAdditionModel | BatchedToyAdditionModel, *, embed_lr, decoder_lr, decoder_wd,
                  embed_wd=0.0) -> torch.optim.Optimizer:
    """The optimiser of Liu et al. (2022) for the toy model: AdamW with its own learning rate and weight decay
    for the embeddings (by default without decay) and for the decoder,

        θ ← θ − η_g (m̂/(√v̂ + ε) + λ_g θ),   g ∈ {embedding, decoder}.

    A :class:`ToyAdditionModel` gets ``torch.optim.AdamW``; a :class:`BatchedToyAdditionModel` gets
    :class:`~course_utils.ensemble.BatchedAdamW`, where each setting may be one value per member (a sweep).
    """
    batched = isinstance(model, BatchedToyAdditionModel)
    if not (batched or isinstance(model, ToyAdditionModel)):
        raise ArgumentError(f"model must be a ToyAdditionModel or a BatchedToyAdditionModel, got {validate.show(model)}")
    ndim = (0, 1) if batched else 0          # an ensemble takes one value per member, a single model a number
    for name, value in (("embed_lr", embed_lr), ("decoder_lr", decoder_lr)):
        if np.any(validate.array(name, value, ndim=ndim) <= 0):
            raise ArgumentError(f"{name} (a learning rate) must be positive, got {validate.show(value)}")
    for name, value in (("embed_wd", embed_wd), ("decoder_wd", decoder_wd)):
        if np.any(validate.array(name, value, ndim=ndim) < 0):
            raise ArgumentError(f"{name} (a weight decay) must be non-negative, got {validate.show(value)}")
    groups = dict(embedding=dict(lr=embed_lr, weight_decay=embed_wd), decoder=dict(lr=decoder_lr, weight_decay=decoder_wd))
    if batched:
        return BatchedAdamW(model.parameter_groups(**groups))
    return torch.optim.AdamW(model.parameter_groups(**groups))


def _check_groups(embedding, decoder) -> None:
    """The optimiser settings of the two parameter groups: dicts such as dict(lr=1e-3), without "params"."""
    for name, group in (("embedding", embedding), ("decoder", decoder)):
        if not isinstance(group, dict):
            raise ArgumentError(f"{name} must be a dict of optimiser settings such as dict(lr=1e-3), "
                                f"got {validate.show(group)}")
        if "params" in group:
            raise ArgumentError(f"{name} must not contain 'params': the model fills them in")


def _check_models(models) -> None:
    if isinstance(models, (nn.Module, str)) or not isinstance(models, Sequence):
        raise ArgumentError(f"models must be a list of ToyAdditionModel, got {validate.show(models)}")
    for i, m in enumerate(models):
        if not isinstance(m, ToyAdditionModel):
            raise ArgumentError(f"models[{i}] must be a ToyAdditionModel, got {validate.show(m)}")
