"""The claims of Grokking III (book/05_grokking/03_grokking_transformers), checked at small sizes: one
transformer of the chapter's setting trained for 700 steps, and the quadratic MLP for 1 500."""

import numpy as np
import pytest
import torch

from course_utils.data import arithmetic
from course_utils.ensemble import (BatchedAdamW, BatchedMLP, accuracy, cross_entropy_per_sample, mse_per_sample,
                                   train_ensemble)
from course_utils.models.transformer import ModularTransformer
from course_utils.theory import modular_fourier as fourier


@pytest.fixture(scope="module")
def grokked():
    torch.manual_seed(0)
    p = 47
    pairs, labels = arithmetic.modular_addition(p)
    mask = arithmetic.split_masks(len(labels), 0.5, seeds=[4])
    train, val = torch.nonzero(mask[0]).flatten(), torch.nonzero(~mask[0]).flatten()
    model = ModularTransformer(p, d_model=64, n_heads=4, d_mlp=256, seeds=[4])
    opt = BatchedAdamW(model.parameters(), lr=1e-2, weight_decay=1.0, betas=(0.9, 0.98))
    E = []

    def embedding(net):
        E.append(net.W_E[0, :p].detach().numpy().copy())
        return torch.zeros(1)

    hist = train_ensemble(model, cross_entropy_per_sample, pairs[train][None], labels[train][None],
                          per_member_data=True, steps=700, optimizer=opt, record_steps=[0, 100, 700], progress=False,
                          metrics={"train_acc": lambda m: accuracy(m(pairs[train]), labels[train]),
                                   "val_acc": lambda m: accuracy(m(pairs[val]), labels[val]), "E": embedding})
    with torch.no_grad():
        logits = model(pairs)[0].numpy().reshape(p, p, p)
        neurons = model.residual_streams(pairs)["neurons"][0].numpy().reshape(p, p, -1)
    return dict(p=p, hist=hist, E=np.stack(E), W_U=model.W_U[0].detach().numpy(), logits=logits, neurons=neurons,
                train=mask[0].numpy().reshape(p, p))


def test_transformer_fits_early_and_generalises_late(grokked):
    hist = grokked["hist"]
    assert hist["train_acc"][1, 0] >= 0.99                  # fit by step 100
    assert hist["val_acc"][1, 0] < 0.8                      # not yet generalised at step 100
    assert hist["val_acc"][-1, 0] >= 0.9


def test_embedding_spectrum_sparsifies_after_the_fit(grokked):
    p, E = grokked["p"], grokked["E"]
    n_eff = fourier.effective_frequencies(fourier.frequency_shares(E))
    assert n_eff[0] == pytest.approx(fourier.random_effective_frequencies(p, 64), abs=0.5)
    assert n_eff[-1] < 8
    assert n_eff[-1] < 0.5 * n_eff[1]


def test_trained_weights_follow_the_clock(grokked):
    p = grokked["p"]
    key = fourier.key_frequencies(fourier.frequency_shares(grokked["E"][-1]))
    shares_U = fourier.frequency_shares(grokked["W_U"].T)                 # W_U as functions of the answer c
    assert 1 <= len(key) <= 6
    assert shares_U[key - 1].sum() > 0.7                                  # the same frequencies go out
    assert fourier.clock_fraction(grokked["logits"], key) > 0.7
    alpha, beta = fourier.clock_amplitudes(grokked["logits"], key)
    assert np.all(alpha > 0) and np.all(np.abs(beta) < 0.1 * alpha)
    assert np.nanmedian(fourier.neuron_fraction(grokked["neurons"], key)) > 0.8
    # progress measures at the end: the clock alone is nearly perfect, the rest is worse than a guess
    assert fourier.answer_loss(fourier.restricted_logits(grokked["logits"], key)) < 0.1
    assert fourier.answer_loss(fourier.excluded_logits(grokked["logits"], key), grokked["train"]) > np.log(p)


def test_quadratic_mlp_units_become_single_frequency_as_it_generalises():
    p, K = 31, 3
    pairs, labels = arithmetic.modular_addition(p)
    X = arithmetic.one_hot_pairs(pairs, p)
    Y = torch.nn.functional.one_hot(labels, p).float()
    train = arithmetic.split_masks(len(X), 0.5, seeds=range(K))
    net = BatchedMLP(K, [2 * p, 128, p], "quadratic", bias=False, seeds=range(K))
    hist = train_ensemble(net, mse_per_sample, X, Y, steps=1500, optimizer=BatchedAdamW(net.parameters(), lr=1e-3,
                                                                                       weight_decay=0.3),
                          sample_weight=train.float(), record_steps=[0, 1500], progress=False,
                          metrics={"val_acc": lambda m: accuracy(m(X), labels, ~train)})
    W_a = next(net.parameters())[:, :p].detach().numpy()                   # (K, p, N)
    unit = fourier.unit_frequency_shares(W_a).max(-1)
    random_top = np.sum(1 / np.arange(1, 16)) / 15
    assert np.all(hist["val_acc"][-1] >= 0.9)
    assert np.all(np.median(unit, axis=-1) > random_top + 0.15)
    assert np.all(fourier.effective_frequencies(fourier.frequency_shares(W_a)) > 0.6 * 15)
