"""The theory-vs-experiment checks of the chapter "How deep can a network be and still train? Signal propagation
and trainable depth" (book/03_wide_networks/04_trainable_depth), at small sizes."""

import math

import numpy as np
import torch

from course_utils.data.classification import load_digits
from course_utils.ensemble import BatchedMLP, BatchedSGD, accuracy, cross_entropy_per_sample, train_ensemble
from course_utils.theory import signal_propagation as sp

SB2 = 0.05


def test_ordered_correlations_decay_at_the_rate_one_over_xi_c():
    sw2 = np.array([0.85, 1.2])
    d = sp.depth_scales(sw2, sigma_b2=SB2)
    C = sp.pair_correlation_decay([1 - 1e-3], q=d["q_star"], sigma_w2=sw2, sigma_b2=SB2, width=128, depth=25,
                                  n_networks=64, generator=torch.Generator().manual_seed(0))
    gap = 1 - C[..., 0, :].mean(1)                          # (σ_w², layers)
    rate = -np.polyfit(np.arange(1, 25), np.log(gap[:, 1:]).T, 1)[0]
    assert np.allclose(rate, 1 / d["xi_c"], rtol=0.1)      # width 128: O(1/n) shift up to ~4 %, sampling ~2.5 %


def test_gradient_growth_per_layer_is_chi1_on_both_sides():
    X, y = load_digits(dtype=torch.float32)
    X = (X - X.mean(0))
    X = X * math.sqrt(64) / X.norm(dim=1, keepdim=True)
    for sw2, seed in ((1.0, 1), (3.2, 2)):
        model = BatchedMLP(16, [64] + [128] * 20 + [10], "tanh", init=None)
        gen = torch.Generator().manual_seed(seed)
        sp.init_gaussian(model, sw2, SB2, gen)
        idx = torch.randint(len(X), (16, 4), generator=gen)
        g = sp.per_sample_weight_gradients(model, X[idx], y[idx], cross_entropy_per_sample).numpy()
        G = g.mean((0, 1))[:20]
        growth = math.exp(-np.polyfit(np.arange(6, 21), np.log(G[5:]), 1)[0])
        chi1 = float(sp.depth_scales(sw2, sigma_b2=SB2)["chi1"][0])
        assert abs(growth / chi1 - 1) < 0.03                # width 128: ~1 % shift, ~1 % sampling


def test_a_network_much_deeper_than_xi_c_does_not_train_and_a_shallow_one_does():
    X, y = load_digits(dtype=torch.float32)
    X = (X - X.mean(0))
    X = X * math.sqrt(64) / X.norm(dim=1, keepdim=True)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    tr, te = perm[:1000], perm[1000:]
    xi = sp.depth_scales(0.7, sigma_b2=SB2)["xi_c"][0]       # 1.84 layers
    acc = {}
    for L in (4, 24):                                        # 2 ξ_c and 13 ξ_c
        model = BatchedMLP(2, [64] + [48] * L + [10], "tanh", init=None)
        sp.init_gaussian(model, 0.7, SB2, torch.Generator().manual_seed(L))
        train_ensemble(model, cross_entropy_per_sample, X[tr], y[tr], steps=300, batch_size=32,
                       optimizer=BatchedSGD(model.parameters(), lr=0.01), record_steps=[300], progress=False)
        with torch.no_grad():
            acc[L] = accuracy(model(X[te]), y[te]).numpy()
    assert np.all(acc[4] > 0.5) and np.all(acc[24] < 0.2), (acc, xi)
