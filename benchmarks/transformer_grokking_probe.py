"""Probe: where does the one-layer transformer (course_utils.models.transformer) grok on this CPU?

For issue 14 (Grokking III): trains K networks on a + b mod p as one ensemble (each member computes only its
training pairs), one weight decay per member, and prints training and validation accuracy every steps/25
steps. Member k's split and initialisation are drawn from SEEDS[k] (default 0 for every member: the members
then differ only in weight decay). One thread, as the chapter budget assumes.

    python benchmarks/transformer_grokking_probe.py P FRACTION D_MODEL D_MLP STEPS LR WD1,WD2,... [SEED1,SEED2,...]
    python benchmarks/transformer_grokking_probe.py 47 0.5 64 256 2000 3e-3 0.3,1,3
    python benchmarks/transformer_grokking_probe.py 47 0.5 64 256 2000 3e-3 1,1,1,1 1,2,3,4

Grokking III's default (p = 47, fraction 0.5, d_model 64, d_mlp 256, learning rate 1e-2, weight decay 1) and
the two settings its parameters section compares it with:

    python benchmarks/transformer_grokking_probe.py 47 0.5 64 256 1200 1e-2 1,1,1,1,0.1,0.1 1,2,3,4,1,2
    python benchmarks/transformer_grokking_probe.py 47 0.3 64 256 1500 1e-2 1,1,1,1,1,1 1,2,3,4,5,6
"""

import sys
import time

import numpy as np
import torch

from course_utils.data.arithmetic import modular_addition, split_masks
from course_utils.ensemble import BatchedAdamW, cross_entropy_per_sample, train_ensemble
from course_utils.models.transformer import ModularTransformer


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    p, frac, d, m, steps, lr = int(argv[0]), float(argv[1]), int(argv[2]), int(argv[3]), int(argv[4]), float(argv[5])
    wds = [float(w) for w in argv[6].split(",")]
    K = len(wds)
    seeds = [int(s) for s in argv[7].split(",")] if len(argv) > 7 else [0] * K
    if len(seeds) != K:
        raise SystemExit(f"give one seed per weight decay ({K}), got {len(seeds)}")
    pairs, labels = modular_addition(p)
    masks = split_masks(len(labels), frac, seeds=seeds)
    train_idx = torch.stack([torch.nonzero(mk).flatten() for mk in masks])
    val_idx = torch.stack([torch.nonzero(~mk).flatten() for mk in masks])
    X_train, y_train, X_val, y_val = pairs[train_idx], labels[train_idx], pairs[val_idx], labels[val_idx]
    model = ModularTransformer(p, d_model=d, n_heads=4, d_mlp=m, n_members=K, seeds=seeds)
    opt = BatchedAdamW(model.parameters(), lr=lr, weight_decay=wds, betas=(0.9, 0.98))

    def acc(X, y):
        return (model(X).argmax(-1) == y).double().mean(-1)

    start = time.time()
    hist = train_ensemble(model, cross_entropy_per_sample, X_train, y_train, per_member_data=True, steps=steps,
                          optimizer=opt, record_steps=range(0, steps + 1, max(steps // 25, 1)),
                          metrics={"train": lambda _: acc(X_train, y_train), "val": lambda _: acc(X_val, y_val)},
                          progress=False)
    print(f"p={p} fraction={frac} d_model={d} d_mlp={m} lr={lr} weight decays={wds} seeds={seeds}: "
          f"{time.time() - start:.1f} s "
          f"for {steps} steps, {X_train.shape[1]} training pairs")
    print("step   train accuracy   validation accuracy")
    for s, tr, va in zip(hist["step"], hist["train"], hist["val"]):
        print(f"{s:5d}  {np.round(tr, 2)}  {np.round(va, 2)}")


if __name__ == "__main__":
    main(sys.argv[1:])
