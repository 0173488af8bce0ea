"""Benchmark: K toy grokking models trained one after another vs as one batched ensemble.

Run by hand (not a test):

    .venv/bin/python benchmarks/ensemble_benchmark.py            # the numbers in benchmarks/README.md
    .venv/bin/python benchmarks/ensemble_benchmark.py --quick    # a one-minute smoke run

The model is the toy model of Liu et al. (2022): embeddings of dimension 1 for p = 10 symbols,
decoder 1-H-H-30 with tanh, a full batch of 45 of the 55 pairs (a different random split per
member), MSE on random target vectors, AdamW with one learning rate for the embeddings and one
learning rate and weight decay per member for the decoder. Both sides do the same work: the same
members (seeds, hyperparameters, training sets) for the same number of steps, without recording;
the sequential side is plain PyTorch (``ToyAdditionModel`` + ``torch.optim.AdamW``), the ensemble
side ``BatchedToyAdditionModel`` + ``BatchedAdamW`` + ``train_ensemble``. Model construction is
outside the timings on both sides. Afterwards the final training losses of the two sides are
compared, member by member, to show that they computed the same trajectories.

Measured, for each intra-op thread count in ``--threads``:

1. paper size (H = 200): the batched-matmul rate for exactly the matmuls of one training step
   (forward and backward, same shapes), the ensemble's effective rate (those FLOPs / its step
   time), and sequential vs ensemble;
2. course size (``--course-widths``): sequential vs ensemble;

then, with ``course_utils``' default thread count, the wall time of a 10 × 10 decoder-lr ×
weight-decay grid with ``--grid-seeds`` seeds per cell at the course width, recording train and
validation accuracy as a phase diagram needs them. ``uptime`` load averages are printed at the
start and the end: other processes on the machine slow everything down.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from course_utils.device import DEFAULT_NUM_THREADS
from course_utils.ensemble import (BatchedAdamW, Grid, first_step_reaching, mse_per_sample,
                                   train_ensemble)
from course_utils.models.grokking import (BatchedToyAdditionModel, ToyAdditionModel,
                                          addition_table, nearest_target_accuracy,
                                          random_train_masks, target_vectors)

P, EMBED_DIM, OUT_DIM, N_TRAIN = 10, 1, 30, 45
LR_EMBED = 1e-3          # the paper's embedding learning rate


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def matmul_flops_per_step(K: int, H: int, N: int = N_TRAIN) -> float:
    """FLOPs of the matmuls of one step: forward x·W, backward grad·Wᵀ and xᵀ·grad, per layer."""
    per_member = EMBED_DIM * H + H * H + H * OUT_DIM
    return 3 * 2 * N * K * per_member


def bmm_rate(K: int, H: int, device, repeats: int) -> float:
    """GFLOP/s of torch.bmm on exactly the matmul shapes of one training step (same FLOP count)."""
    N, d, O = N_TRAIN, EMBED_DIM, OUT_DIM
    g = torch.Generator(device=device).manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g, device=device)  # noqa: E731
    x0, h1, h2 = r(K, N, d), r(K, N, H), r(K, N, H)
    W1, W2, W3 = r(K, d, H), r(K, H, H), r(K, H, O)
    g3, g2, g1 = r(K, N, O), r(K, N, H), r(K, N, H)

    def step():
        torch.bmm(x0, W1), torch.bmm(h1, W2), torch.bmm(h2, W3)                       # forward
        torch.bmm(g3, W3.transpose(1, 2)), torch.bmm(h2.transpose(1, 2), g3)          # layer 3
        torch.bmm(g2, W2.transpose(1, 2)), torch.bmm(h1.transpose(1, 2), g2)          # layer 2
        torch.bmm(g1, W1.transpose(1, 2)), torch.bmm(x0.transpose(1, 2), g1)          # layer 1

    for _ in range(3):
        step()
    sync(device)
    best = float("inf")
    for _ in range(3):           # best of three blocks: the machine's rate, not its noise
        t = time.perf_counter()
        for _ in range(repeats):
            step()
        sync(device)
        best = min(best, (time.perf_counter() - t) / repeats)
    return matmul_flops_per_step(K, H) / best / 1e9


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def members(K: int):
    """The members' hyperparameters: a row of a phase diagram (decoder weight decay varies)."""
    seeds = list(range(K))
    lr_dec = np.full(K, 1e-4)                        # the paper's decoder learning rate
    wd_dec = np.logspace(-2, 1, K)
    masks = random_train_masks(P * (P + 1) // 2, N_TRAIN, seeds)
    return seeds, lr_dec, wd_dec, masks


def run_sequential(K: int, H: int, steps: int, device) -> tuple[float, np.ndarray]:
    pairs, sums = addition_table(P)
    targets = target_vectors(P, OUT_DIM)[sums]
    seeds, lr_dec, wd_dec, masks = members(K)
    models, opts, data = [], [], []
    for k in range(K):
        model = ToyAdditionModel(P, EMBED_DIM, H, OUT_DIM, seed=seeds[k]).to(device)
        models.append(model)
        opts.append(torch.optim.AdamW(model.parameter_groups(
            embedding=dict(lr=LR_EMBED, weight_decay=0.0),
            decoder=dict(lr=float(lr_dec[k]), weight_decay=float(wd_dec[k])))))
        data.append((pairs[masks[k]].to(device), targets[masks[k]].to(device)))
    sync(device)
    t = time.perf_counter()
    for model, opt, (X, Y) in zip(models, opts, data):
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            F.mse_loss(model(X), Y).backward()
            opt.step()
    sync(device)
    elapsed = time.perf_counter() - t
    with torch.no_grad():
        final = np.array([F.mse_loss(m(X), Y).item() for m, (X, Y) in zip(models, data)])
    return elapsed, final


def run_ensemble(K: int, H: int, steps: int, device, compile: bool = False) -> tuple[float, np.ndarray, float]:
    pairs, sums = addition_table(P)
    targets = target_vectors(P, OUT_DIM)[sums]
    seeds, lr_dec, wd_dec, masks = members(K)
    # Member k's own 45 training pairs, as the sequential loop uses them: (K, 45, 2) and (K, 45, 30).
    X = torch.stack([pairs[masks[k]] for k in range(K)]).to(device)
    Y = torch.stack([targets[masks[k]] for k in range(K)]).to(device)
    model = BatchedToyAdditionModel(K, P, EMBED_DIM, H, OUT_DIM, seeds=seeds).to(device)
    opt = BatchedAdamW(model.parameter_groups(embedding=dict(lr=LR_EMBED, weight_decay=0.0),
                                              decoder=dict(lr=lr_dec, weight_decay=wd_dec)),
                       compile=compile)
    run = dict(optimizer=opt, per_member_data=True, record_steps=(), progress=False)
    warmup = 0.0
    if compile:   # the first steps compile the update: warm up outside the timed steps
        t = time.perf_counter()
        train_ensemble(model, mse_per_sample, X, Y, steps=3, **run)
        warmup = time.perf_counter() - t
    sync(device)
    t = time.perf_counter()
    train_ensemble(model, mse_per_sample, X, Y, steps=steps, **run)
    sync(device)
    elapsed = time.perf_counter() - t
    with torch.no_grad():
        final = mse_per_sample(model(X), Y).mean(dim=1).cpu().numpy()
    return elapsed, final, warmup


def compare(label: str, K: int, H: int, steps: int, device, rows: list, threads: int,
            bmm: float | None = None, compile: bool = False, repeats: int = 2) -> None:
    # Best of ``repeats`` runs on each side (fresh models each time): a busy machine only slows down.
    t_seq, loss_seq = min((run_sequential(K, H, steps, device) for _ in range(repeats)), key=lambda r: r[0])
    t_ens, loss_ens, _ = min((run_ensemble(K, H, steps, device) for _ in range(repeats)), key=lambda r: r[0])
    agree = float(np.max(np.abs(loss_ens - loss_seq) / np.abs(loss_seq)))
    flops = matmul_flops_per_step(K, H) * steps
    line = (f"  {label:<13} H={H:<4} K={K} steps={steps}: sequential {t_seq:7.2f} s "
            f"({t_seq / (K * steps) * 1e3:.3f} ms per member-step), ensemble {t_ens:6.2f} s "
            f"({t_ens / steps * 1e3:.2f} ms per step), speed-up {t_seq / t_ens:5.1f}x; "
            f"ensemble {flops / t_ens / 1e9:.1f} GFLOP/s")
    row = dict(case=label, H=H, threads=threads, seq=t_seq, ens=t_ens, speedup=t_seq / t_ens,
               gflops=flops / t_ens / 1e9, agree=agree, steps=steps)
    if bmm is not None:
        line += f" = {100 * flops / t_ens / 1e9 / bmm:.0f}% of bmm"
        row["bmm"] = bmm
    print(line)
    print(f"  {'':<13} final losses agree: max relative difference {agree:.1e} over {K} members")
    if compile:
        t_c, _, warmup = run_ensemble(K, H, steps, device, compile=True)
        c_rate = flops / t_c / 1e9
        print(f"  {'':<13} ensemble with BatchedAdamW(compile=True), after 3 warm-up steps "
              f"({warmup:.1f} s, compiling): {t_c:6.2f} s "
              f"({t_c / steps * 1e3:.2f} ms per step), speed-up {t_seq / t_c:5.1f}x; {c_rate:.1f} GFLOP/s"
              + (f" = {100 * c_rate / bmm:.0f}% of bmm" if bmm is not None else ""))
        row.update(compiled=t_c, compiled_gflops=c_rate)
    rows.append(row)
    sys.stdout.flush()


def breakdown(K: int, H: int, device, repeats: int) -> None:
    """Where an ensemble step's time goes: forward, backward, optimiser update (eager and compiled)."""
    pairs, sums = addition_table(P)
    targets = target_vectors(P, OUT_DIM)[sums]
    seeds, lr_dec, wd_dec, masks = members(K)
    X = torch.stack([pairs[masks[k]] for k in range(K)]).to(device)
    Y = torch.stack([targets[masks[k]] for k in range(K)]).to(device)
    model = BatchedToyAdditionModel(K, P, EMBED_DIM, H, OUT_DIM, seeds=seeds).to(device)
    groups = lambda: model.parameter_groups(embedding=dict(lr=LR_EMBED, weight_decay=0.0),  # noqa: E731
                                            decoder=dict(lr=lr_dec, weight_decay=wd_dec))
    opt = BatchedAdamW(groups())

    def timed(f) -> float:
        for _ in range(2):
            f()
        sync(device)
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(repeats):
                f()
            sync(device)
            best = min(best, (time.perf_counter() - t) / repeats)
        return best * 1e3

    def forward():
        return mse_per_sample(model(X), Y).mean(dim=1).sum()

    def forward_backward():
        opt.zero_grad(set_to_none=True)
        forward().backward()

    t_fwd = timed(forward)
    t_fb = timed(forward_backward)
    t_opt = timed(opt.step)
    h = torch.randn(K, N_TRAIN, H, device=device)
    t_tanh = timed(lambda: torch.tanh(h)) * 2          # two tanh layers per forward pass
    line = (f"  H={H:<4} K={K}: forward {t_fwd:.2f} ms (of which tanh {t_tanh:.2f} ms), "
            f"backward {t_fb - t_fwd:.2f} ms, AdamW update {t_opt:.2f} ms")
    try:
        compiled = BatchedAdamW(groups(), compile=True)
        forward_backward()
        compiled.step()
        if compiled._compiled is not None:
            line += f" (compiled: {timed(compiled.step):.2f} ms)"
    except Exception as err:  # pragma: no cover - depends on the machine
        line += f" (compiled: unavailable, {type(err).__name__})"
    print(line)
    sys.stdout.flush()


def phase_grid(H: int, steps: int, seeds: int, device, record_every: int) -> None:
    """The wall time of a 10 × 10 decoder lr × weight decay grid with a few seeds per cell."""
    grid = Grid(weight_decay=np.logspace(-2, 1, 10), lr=np.logspace(-4, -2, 10), seed=range(seeds))
    t = time.perf_counter()
    pairs, sums = addition_table(P)
    Y = target_vectors(P, OUT_DIM)
    masks = random_train_masks(len(pairs), N_TRAIN, grid["seed"])
    pairs, sums, Y, m = pairs.to(device), sums.to(device), Y.to(device), masks.to(device)
    model = BatchedToyAdditionModel(grid.size, P, EMBED_DIM, H, OUT_DIM, seeds=grid["seed"]).to(device)
    opt = BatchedAdamW(model.parameter_groups(
        embedding=dict(lr=LR_EMBED, weight_decay=0.0),
        decoder=dict(lr=grid["lr"], weight_decay=grid["weight_decay"])))

    def accuracies(model):
        out = model(pairs)
        return nearest_target_accuracy(out, Y, sums, m), nearest_target_accuracy(out, Y, sums, ~m)

    hist = train_ensemble(model, mse_per_sample, pairs, Y[sums], steps=steps, optimizer=opt,
                          sample_weight=m, record_steps=range(0, steps + 1, record_every),
                          metrics={"train_acc": lambda mod: accuracies(mod)[0],
                                   "val_acc": lambda mod: accuracies(mod)[1]},
                          progress=False)
    train_steps = grid.to_array(first_step_reaching(hist, "train_acc", 0.9), name="steps to 90% train acc.")
    val_steps = grid.to_array(first_step_reaching(hist, "val_acc", 0.9), name="steps to 90% val. acc.")
    sync(device)
    elapsed = time.perf_counter() - t
    fit = np.isfinite(train_steps.values).mean()
    gen = np.isfinite(val_steps.values).mean()
    print(f"  10 x 10 x {seeds} grid ({grid.size} members), H={H}, {steps} steps, accuracies recorded "
          f"every {record_every} steps: {elapsed:.1f} s wall time including set-up "
          f"({elapsed / steps * 1e3:.2f} ms per step); {100 * fit:.0f}% of runs reach 90% train acc., "
          f"{100 * gen:.0f}% reach 90% val. acc.")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100, help="ensemble size K (default 100)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="intra-op thread counts")
    parser.add_argument("--paper-steps", type=int, default=100)
    parser.add_argument("--course-widths", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--course-steps", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=2, help="best of this many runs per side")
    parser.add_argument("--grid-width", type=int, default=32)
    parser.add_argument("--grid-steps", type=int, default=5000)
    parser.add_argument("--grid-seeds", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true",
                        help="skip the BatchedAdamW(compile=True) variant (it needs a C++ compiler on a CPU)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.paper_steps, args.course_steps = 20, 10, 50
        args.grid_steps, args.grid_seeds, args.repeats = 200, 1, 1
    device = torch.device(args.device)
    K = args.members

    print(f"torch {torch.__version__}, {cpu_name()}, {os.cpu_count()} CPUs, device {device}")
    print(f"start: {load()}")
    rows: list = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f"\n{threads} intra-op thread{'s' if threads > 1 else ''}:")
        bmm = bmm_rate(K, 200, device, repeats=5 if args.quick else 20)
        print(f"  batched matmul, the shapes of one paper-size step (K={K}, H=200): {bmm:.1f} GFLOP/s")
        compare("paper size", K, 200, args.paper_steps, device, rows, threads, bmm=bmm,
                compile=not args.no_compile, repeats=args.repeats)
        for H in args.course_widths:
            compare("course size", K, H, args.course_steps, device, rows, threads, repeats=args.repeats)
        print("  where an ensemble step's time goes (best of 3 blocks):")
        for H in [200] + args.course_widths:
            breakdown(K, H, device, repeats=3 if args.quick else (10 if H == 200 else 50))
    torch.set_num_threads(DEFAULT_NUM_THREADS)
    print(f"\nphase-diagram grid, course_utils default of {DEFAULT_NUM_THREADS} thread(s):")
    phase_grid(args.grid_width, args.grid_steps, args.grid_seeds, device,
               record_every=max(args.grid_steps // 100, 1))
    print(f"\nend: {load()}")

    print("\nsummary (markdown):\n")
    print("| case | H | threads | sequential (s) | ensemble (s) | speed-up | ensemble GFLOP/s | of bmm rate |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        of_bmm = f"{100 * r['gflops'] / r['bmm']:.0f}% of {r['bmm']:.1f}" if "bmm" in r else "–"
        print(f"| {r['case']} | {r['H']} | {r['threads']} | {r['seq']:.2f} | {r['ens']:.2f} | "
              f"{r['speedup']:.1f}× | {r['gflops']:.1f} | {of_bmm} |")
        if "compiled" in r:
            print(f"| {r['case']}, compiled optimiser | {r['H']} | {r['threads']} | {r['seq']:.2f} | "
                  f"{r['compiled']:.2f} | {r['seq'] / r['compiled']:.1f}× | {r['compiled_gflops']:.1f} | "
                  f"{100 * r['compiled_gflops'] / r['bmm']:.0f}% of {r['bmm']:.1f} |")


if __name__ == "__main__":
    main()
