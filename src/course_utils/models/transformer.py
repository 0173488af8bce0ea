"""A one-layer transformer for a + b mod p, K of them trained as one (the model of Nanda et al. 2023,
"Progress measures for grokking via mechanistic interpretability", with a member axis).

The input is the three tokens ``a, b, =`` (token p is "="); the answer is read at the last position.
With residual width d, H heads of width d_h = d/H and an MLP of width m, no layer norm and no biases
in the attention (as in the paper), member k computes

    x_i   = W_E[t_i] + W_pos[i]                                    (i = 0, 1, 2: embeddings)
    A_h   = softmax_j( (x_2 W_Q^h)·(x_j W_K^h) / √d_h )            (attention of the "=" position)
    r     = x_2 + Σ_h Σ_j A_hj x_j W_V^h W_O^h                      (residual after attention)
    r'    = r + ReLU(r W_in + b_in) W_out + b_out                  (residual after the MLP)
    logits = r' W_U                                                 (p logits, one per answer c)

Only the query at the last position is computed: in a one-layer model the logits there depend on the
other positions only through their keys and values, so this is the full model's output, exactly.

Every parameter has a leading member axis K (``n_members``); member k is drawn from a generator seeded
with ``seeds[k]``, weights ~ N(0, 1/fan_in) (the embeddings ~ N(0, 1/d)), biases 0. Train it with
:func:`course_utils.ensemble.train_ensemble`, :func:`course_utils.ensemble.cross_entropy_per_sample`
and :class:`course_utils.ensemble.BatchedAdamW` (per-member learning rates and weight decays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .. import validate
from ..validate import ArgumentError

__all__ = ["ModularTransformer"]


class ModularTransformer(nn.Module):
    """K one-layer transformers on the sequences (a, b, =) of a + b mod ``p``: logits of shape (K, N, p).

    ``d_model`` (d), ``n_heads`` (H, must divide d), ``d_mlp`` (m); ``seeds`` (default 0 … K−1) one per
    member; ``dtype`` the parameters' dtype (default torch's). Attributes: ``W_E`` (K, p+1, d),
    ``W_pos`` (K, 3, d), ``W_Q``/``W_K``/``W_V`` (K, H, d, d_h), ``W_O`` (K, H, d_h, d), ``W_in`` (K, d, m),
    ``b_in`` (K, m), ``W_out`` (K, m, d), ``b_out`` (K, d), ``W_U`` (K, d, p).
    """

    def __init__(self, p: int, *, d_model: int = 128, n_heads: int = 4, d_mlp: int = 512, n_members: int = 1,
                 seeds: Sequence[int] | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        p = validate.integer("p (the modulus)", p, low=2)
        d_model, n_heads, d_mlp, n_members = (validate.positive_int(name, v) for name, v in (
            ("d_model", d_model), ("n_heads", n_heads), ("d_mlp", d_mlp), ("n_members", n_members)))
        if d_model % n_heads:
            raise ArgumentError(f"n_heads must divide d_model, got d_model = {d_model}, n_heads = {n_heads}")
        seeds = validate.seed_list("seeds", range(n_members) if seeds is None else seeds)
        if len(seeds) != n_members:
            raise ArgumentError(f"seeds must have one entry per member ({n_members}), got {len(seeds)}")
        dtype = validate.float_dtype("dtype", dtype) or torch.get_default_dtype()
        self.p, self.d_model, self.n_heads, self.d_mlp, self.n_members = p, d_model, n_heads, d_mlp, n_members
        self.d_head = d_model // n_heads
        d, H, dh, m = d_model, n_heads, self.d_head, d_mlp
        shapes = {"W_E": ((p + 1, d), d), "W_pos": ((3, d), d), "W_Q": ((H, d, dh), d), "W_K": ((H, d, dh), d),
                  "W_V": ((H, d, dh), d), "W_O": ((H, dh, d), d), "W_in": ((d, m), d), "W_out": ((m, d), m),
                  "W_U": ((d, p), d)}
        draws: dict[str, list[torch.Tensor]] = {name: [] for name in shapes}
        for s in seeds:
            gen = torch.Generator().manual_seed(s)
            for name, (shape, fan_in) in shapes.items():
                draws[name].append(torch.randn(shape, generator=gen, dtype=dtype) / math.sqrt(fan_in))
        for name, tensors in draws.items():
            setattr(self, name, nn.Parameter(torch.stack(tensors)))
        self.b_in = nn.Parameter(torch.zeros(n_members, m, dtype=dtype))
        self.b_out = nn.Parameter(torch.zeros(n_members, d, dtype=dtype))

    def tokens(self, pairs) -> torch.Tensor:
        """The token sequences (a, b, =) of ``pairs`` (N, 2) or (K, N, 2), shape (…, N, 3), "=" being token p."""
        pairs = validate.int_tensor("pairs", pairs)
        if pairs.dim() not in (2, 3) or pairs.shape[-1] != 2 or pairs.dim() == 3 and pairs.shape[0] != self.n_members:
            raise ArgumentError(f"pairs must have shape (N, 2) (shared by the members) or ({self.n_members}, N, 2) "
                                f"(one set per member), got {tuple(pairs.shape)}")
        if pairs.numel() and (pairs.min() < 0 or pairs.max() >= self.p):
            raise ArgumentError(f"pairs must hold numbers 0 … p−1 = {self.p - 1}, got values from "
                                f"{int(pairs.min())} to {int(pairs.max())}")
        equals = torch.full((*pairs.shape[:-1], 1), self.p, dtype=pairs.dtype, device=pairs.device)
        return torch.cat([pairs, equals], dim=-1).to(self.W_E.device)

    def residual_streams(self, pairs) -> dict[str, torch.Tensor]:
        """The intermediate quantities of every member on ``pairs`` (N, 2), or on its own pairs (K, N, 2) (pass
        ``per_member_data=True`` to :func:`~course_utils.ensemble.train_ensemble`: each member then computes only
        its training pairs): the embeddings ``x`` (K, N, 3, d),
        the attention pattern ``attention`` (K, N, H, 3) of the last position, the residual ``r`` after
        attention and the MLP activations ``neurons`` (K, N, m), the final residual ``r_final`` (K, N, d)."""
        t = self.tokens(pairs)
        if t.dim() == 2:                                                             # shared pairs
            x = self.W_E[:, t] + self.W_pos[:, None]                                 # (K, N, 3, d)
        else:                                                                        # member k's own pairs
            members = torch.arange(self.n_members, device=t.device)[:, None, None]
            x = self.W_E[members, t] + self.W_pos[:, None]
        q = torch.einsum("knd,khde->knhe", x[:, :, 2], self.W_Q)                     # the "=" query only
        k = torch.einsum("knjd,khde->knhje", x, self.W_K)
        v = torch.einsum("knjd,khde->knhje", x, self.W_V)
        attention = torch.softmax(torch.einsum("knhe,knhje->knhj", q, k) / math.sqrt(self.d_head), dim=-1)
        heads = torch.einsum("knhj,knhje->knhe", attention, v)
        r = x[:, :, 2] + torch.einsum("knhe,khed->knd", heads, self.W_O)
        neurons = torch.relu(torch.einsum("knd,kdm->knm", r, self.W_in) + self.b_in[:, None])
        r_final = r + torch.einsum("knm,kmd->knd", neurons, self.W_out) + self.b_out[:, None]
        return dict(x=x, attention=attention, r=r, neurons=neurons, r_final=r_final)

    def forward(self, pairs) -> torch.Tensor:
        """Logits (K, N, p) for the answers c = 0 … p−1 of the pairs (N, 2) or (K, N, 2)."""
        return torch.einsum("knd,kdp->knp", self.residual_streams(pairs)["r_final"], self.W_U)

    def extra_repr(self) -> str:
        return (f"p={self.p}, d_model={self.d_model}, n_heads={self.n_heads}, d_mlp={self.d_mlp}, "
                f"n_members={self.n_members}")
