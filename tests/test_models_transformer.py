"""The one-layer modular-addition transformer: its last-position shortcut is the full causal model, members
are independent single models, and it learns."""

import math

import pytest
import torch

from course_utils.data.arithmetic import modular_addition
from course_utils.ensemble import BatchedAdamW, cross_entropy_per_sample, train_ensemble
from course_utils.models.transformer import ModularTransformer
from course_utils.validate import ArgumentError


def full_causal_logits(m: ModularTransformer, pairs: torch.Tensor, k: int) -> torch.Tensor:
    """Member k written as a textbook transformer: every position attends causally, then read position 2."""
    t = m.tokens(pairs)
    x = m.W_E[k][t] + m.W_pos[k]                                           # (N, 3, d)
    Q, K, V = (torch.einsum("njd,hde->nhje", x, W[k]) for W in (m.W_Q, m.W_K, m.W_V))
    scores = torch.einsum("nhie,nhje->nhij", Q, K) / math.sqrt(m.d_head)
    scores = scores.masked_fill(torch.triu(torch.ones(3, 3, dtype=torch.bool), 1), -math.inf)
    z = torch.einsum("nhij,nhje->nhie", scores.softmax(-1), V)
    r = x + torch.einsum("nhie,hed->nid", z, m.W_O[k])
    r = r + torch.relu(r @ m.W_in[k] + m.b_in[k]) @ m.W_out[k] + m.b_out[k]
    return r[:, 2] @ m.W_U[k]


def test_the_last_position_shortcut_is_the_full_model():
    pairs, _ = modular_addition(7)
    m = ModularTransformer(7, d_model=8, n_heads=2, d_mlp=16, n_members=2, dtype=torch.float64)
    with torch.no_grad():
        m.b_in.normal_()
        m.b_out.normal_()
    out = m(pairs)
    assert out.shape == (2, 49, 7)
    for k in range(2):
        torch.testing.assert_close(out[k], full_causal_logits(m, pairs, k), rtol=1e-12, atol=1e-12)


def test_members_are_single_models_and_initialisation_has_the_stated_scale():
    pairs, _ = modular_addition(5)
    ens = ModularTransformer(5, d_model=8, n_heads=2, d_mlp=16, n_members=3, seeds=[4, 5, 6], dtype=torch.float64)
    for k, s in enumerate([4, 5, 6]):
        alone = ModularTransformer(5, d_model=8, n_heads=2, d_mlp=16, seeds=[s], dtype=torch.float64)
        torch.testing.assert_close(ens(pairs)[k], alone(pairs)[0])
    big = ModularTransformer(11, d_model=64, n_heads=4, d_mlp=256, seeds=[0], dtype=torch.float64)
    assert big.W_in.var().item() == pytest.approx(1 / 64, rel=0.05)        # N(0, 1/fan_in)
    assert big.W_out.var().item() == pytest.approx(1 / 256, rel=0.05)
    assert big.b_in.detach().abs().max().item() == 0.0


def test_per_member_pairs_give_each_member_its_own_inputs():
    pairs, _ = modular_addition(5)
    m = ModularTransformer(5, d_model=8, n_heads=2, d_mlp=8, n_members=2, dtype=torch.float64)
    own = torch.stack([pairs[:7], pairs[10:17]])                         # (K, N, 2)
    out = m(own)
    torch.testing.assert_close(out[0], m(pairs[:7])[0])
    torch.testing.assert_close(out[1], m(pairs[10:17])[1])


def test_it_fits_its_training_set():
    """A few hundred AdamW steps on all pairs of p = 7 fit them (a wrong sign anywhere would not)."""
    torch.manual_seed(0)
    pairs, labels = modular_addition(7)
    m = ModularTransformer(7, d_model=32, n_heads=4, d_mlp=64, n_members=2, dtype=torch.float64)
    opt = BatchedAdamW(m.parameters(), lr=3e-3, weight_decay=0.0)
    hist = train_ensemble(m, cross_entropy_per_sample, pairs, labels, steps=300, optimizer=opt, record_steps=[0, 300],
                          progress=False)
    assert (hist["loss"][0] > 1.5).all() and (hist["loss"][-1] < 0.05).all()


def test_bad_arguments():
    with pytest.raises(ArgumentError, match="n_heads must divide d_model"):
        ModularTransformer(7, d_model=10, n_heads=4)
    with pytest.raises(ArgumentError, match="seeds"):
        ModularTransformer(7, d_model=8, n_heads=2, n_members=2, seeds=[1])
    m = ModularTransformer(7, d_model=8, n_heads=2, d_mlp=8)
    with pytest.raises(ArgumentError, match="0 … p−1 = 6"):
        m(torch.tensor([[3, 7]]))
    with pytest.raises(ArgumentError, match=r"shape \(N, 2\)"):
        m(torch.tensor([1, 2, 3]))
    with pytest.raises(ArgumentError, match=r"\(1, N, 2\)"):
        m(torch.zeros(2, 4, 2, dtype=torch.long))
