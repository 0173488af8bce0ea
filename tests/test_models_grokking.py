"""The toy grokking model (Liu et al. 2022), alone and as a batched ensemble."""

from __future__ import annotations

import pytest
import torch

from course_utils.ensemble import BatchedAdamW, mse_per_sample, train_ensemble
from course_utils.data.arithmetic import addition_table, split_masks, target_vectors
from course_utils.models.grokking import (BatchedToyAdditionModel, ToyAdditionModel, nearest_target_accuracy,
                                          toy_metrics, toy_optimizer)


def test_addition_table():
    pairs, sums = addition_table(10)
    assert pairs.shape == (55, 2) and sums.shape == (55,)
    assert (pairs[:, 0] <= pairs[:, 1]).all()
    assert len({tuple(p) for p in pairs.tolist()}) == 55
    assert sums.min() == 0 and sums.max() == 18 and (sums == pairs.sum(1)).all()
    with pytest.raises(ValueError):
        addition_table(1)


def test_target_vectors_and_masks():
    Y = target_vectors(10, 30, seed=3)
    assert Y.shape == (19, 30)
    assert torch.equal(Y, target_vectors(10, 30, seed=3))
    assert not torch.equal(Y, target_vectors(10, 30, seed=4))
    masks = split_masks(55, n_train=[45, 10, 45], seeds=[0, 1, 0])
    assert masks.shape == (3, 55) and masks.sum(1).tolist() == [45, 10, 45]
    assert torch.equal(masks[0], masks[2]) and not torch.equal(masks[0], split_masks(55, n_train=45, seeds=[5])[0])
    with pytest.raises(ValueError):
        split_masks(55, n_train=56, seeds=[0])


def test_single_model_shapes_and_initialisation():
    model = ToyAdditionModel(init_scale_embed=2.0, init_scale_decoder=3.0, seed=1)
    pairs, _ = addition_table(10)
    assert model(pairs).shape == (55, 30)
    assert model.embedding.shape == (10, 1) and model.embedding.abs().max() <= 1.0
    linears = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    assert [(lin.in_features, lin.out_features) for lin in linears] == [(1, 200), (200, 200), (200, 30)]
    assert all(isinstance(m, torch.nn.Tanh) for m in model.decoder if not isinstance(m, torch.nn.Linear))
    assert linears[1].weight.abs().max() <= 3.0 / 200 ** 0.5
    assert linears[1].weight.abs().max() > 0.9 * 3.0 / 200 ** 0.5
    again = ToyAdditionModel(init_scale_embed=2.0, init_scale_decoder=3.0, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    groups = model.parameter_groups(embedding=dict(lr=1e-3), decoder=dict(lr=1e-4, weight_decay=1.0))
    assert groups[0]["params"] == [model.embedding] and len(groups[1]["params"]) == 6
    with pytest.raises(ValueError):
        ToyAdditionModel(width=0)


def test_batched_members_are_single_models():
    scales = [0.5, 1.0, 2.0]
    model = BatchedToyAdditionModel(3, width=16, init_scale_embed=scales, init_scale_decoder=[1, 2, 3],
                                    seeds=[7, 8, 9])
    pairs, _ = addition_table(10)
    out = model(pairs)
    assert out.shape == (3, 55, 30)
    for k in range(3):
        single = ToyAdditionModel(width=16, init_scale_embed=scales[k], init_scale_decoder=k + 1,
                                  seed=7 + k)
        member = model.member(k)
        assert all(torch.equal(a, b) for a, b in zip(single.parameters(), member.parameters()))
        torch.testing.assert_close(out[k], single(pairs), rtol=1e-6, atol=1e-6)
    # per-member pairs
    per_member = torch.stack([pairs.flip(0), pairs, pairs[:, [1, 0]]])
    out = model(per_member)
    for k in range(3):
        torch.testing.assert_close(out[k], model.member(k)(per_member[k]), rtol=1e-6, atol=1e-6)
    again = BatchedToyAdditionModel.from_members([model.member(k) for k in range(3)])
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    with pytest.raises(ValueError, match="seed"):
        BatchedToyAdditionModel(3, seeds=[1, 2])


def test_nearest_target_accuracy():
    pairs, sums = addition_table(5)
    Y = target_vectors(5, 8)
    perfect = Y[sums]
    assert nearest_target_accuracy(perfect, Y, sums).item() == 1.0
    wrong = Y[(sums + 1) % 9]
    outputs = torch.stack([perfect, wrong])
    assert nearest_target_accuracy(outputs, Y, sums).tolist() == [1.0, 0.0]
    half = torch.where((torch.arange(len(sums)) % 2 == 0)[:, None], perfect, wrong)
    mask = torch.arange(len(sums)) % 2 == 0
    assert nearest_target_accuracy(half, Y, sums, mask).item() == 1.0
    assert nearest_target_accuracy(half, Y, sums, ~mask).item() == 0.0


def test_nearest_target_accuracy_with_targets_per_member():
    """Member k is scored against its own targets: right with its own, wrong with the other's."""
    pairs, sums = addition_table(5)
    Y0, Y1 = target_vectors(5, 8, seed=0), target_vectors(5, 8, seed=1)
    outputs = torch.stack([Y0[sums], Y1[sums]])                       # each member fits its own targets
    assert nearest_target_accuracy(outputs, torch.stack([Y0, Y1]), sums).tolist() == [1.0, 1.0]
    assert nearest_target_accuracy(outputs, torch.stack([Y1, Y0]), sums).tolist()[0] < 0.5
    with pytest.raises(ValueError, match="targets must have shape"):
        nearest_target_accuracy(outputs, Y0[:, :4], sums)


def test_ensemble_fits_its_training_sets():
    """Trained as in the paper (AdamW, embedding and decoder learning rates), every member fits."""
    torch.manual_seed(0)
    pairs, sums = addition_table(10)
    Y = target_vectors(10)
    masks = split_masks(55, n_train=45, seeds=range(4))
    model = BatchedToyAdditionModel(4, width=32)
    opt = BatchedAdamW(model.parameter_groups(embedding=dict(lr=1e-2, weight_decay=0.0),
                                              decoder=dict(lr=[1e-3, 2e-3, 3e-3, 5e-3], weight_decay=0.0)))
    hist = train_ensemble(model, mse_per_sample, pairs, Y[sums], steps=1500, optimizer=opt,
                          sample_weight=masks, record_steps=[0, 1500], progress=False,
                          metrics={"train_acc": lambda m: nearest_target_accuracy(m(pairs), Y, sums, masks)})
    assert (hist["loss"][-1] < 0.3 * hist["loss"][0]).all()
    assert (hist["train_acc"][-1] >= 0.9).all()


def test_toy_metrics_records_accuracies_and_embeddings():
    pairs, sums = addition_table(6)
    Y = target_vectors(6, 8)
    masks = split_masks(len(pairs), n_train=12, seeds=[0, 1, 2])
    model = BatchedToyAdditionModel(3, p=6, width=16, out_dim=8)
    metrics = toy_metrics(pairs, Y, sums, masks, ~masks)
    assert set(metrics) == {"train_acc", "val_acc", "E"}
    out = model(pairs)
    assert torch.equal(metrics["train_acc"](model), nearest_target_accuracy(out, Y, sums, masks))
    assert torch.equal(metrics["val_acc"](model), nearest_target_accuracy(out, Y, sums, ~masks))
    E = metrics["E"](model)
    assert E.shape == (3, 6) and torch.equal(E, model.embedding[..., 0])
    assert E.data_ptr() != model.embedding.data_ptr()          # a copy, not a view of the parameter
    assert set(toy_metrics(pairs, Y, sums, masks, ~masks, embeddings=False)) == {"train_acc", "val_acc"}


def test_toy_optimizer_is_the_papers_adamw_for_one_model_and_for_an_ensemble():
    """toy_optimizer gives AdamW with the embedding and decoder settings; a batched member takes the same steps as
    the single model with its settings (ensemble member 1 ↔ ToyAdditionModel(seed=1), decoder lr 2e-3, decay 0.5)."""
    pairs, sums = addition_table(5)
    Y = target_vectors(5, 8)
    single = ToyAdditionModel(p=5, width=8, out_dim=8, seed=1)
    opt = toy_optimizer(single, embed_lr=1e-2, decoder_lr=2e-3, decoder_wd=0.5)
    assert isinstance(opt, torch.optim.AdamW)
    emb, dec = opt.param_groups
    assert (emb["lr"], emb["weight_decay"], dec["lr"], dec["weight_decay"]) == (1e-2, 0.0, 2e-3, 0.5)
    assert emb["params"] == [single.embedding] and len(dec["params"]) == len(list(single.decoder.parameters()))
    batched = BatchedToyAdditionModel(2, p=5, width=8, out_dim=8, seeds=[0, 1])
    bopt = toy_optimizer(batched, embed_lr=1e-2, decoder_lr=[1e-3, 2e-3], decoder_wd=[0.0, 0.5], embed_wd=0.0)
    for _ in range(20):
        for model, o in ((single, opt), (batched, bopt)):
            o.zero_grad()
            out = model(pairs)
            loss = ((out - Y[sums]) ** 2).sum(-1).mean(-1)
            loss.sum().backward()
            o.step()
    torch.testing.assert_close(batched.member(1).embedding, single.embedding, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="embed_lr"):
        toy_optimizer(single, embed_lr=-1.0, decoder_lr=1e-3, decoder_wd=0.0)
    with pytest.raises(ValueError, match="decoder_wd"):
        toy_optimizer(single, embed_lr=1e-3, decoder_lr=1e-3, decoder_wd=float("nan"))
    with pytest.raises(ValueError, match="ToyAdditionModel"):
        toy_optimizer(torch.nn.Linear(2, 2), embed_lr=1e-3, decoder_lr=1e-3, decoder_wd=0.0)
