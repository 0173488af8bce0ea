"""Benchmark: K toy grokking models trained one after another vs as one batched ensemble.

Run by hand (not a test), from the repository root:

    .venv/bin/python benchmarks/ensemble_benchmark.py            # the numbers in benchmarks/README.md
    .venv/bin/python benchmarks/ensemble_benchmark.py --quick    # a small smoke run (about a minute)
    .venv/bin/python benchmarks/ensemble_benchmark.py --device cuda --threads 1   # on a GPU

The model is the toy model of Liu et al. (2022): embeddings of dimension 1 for p = 10 symbols,
decoder 1-H-H-30 with tanh, a full batch of 45 of the 55 pairs (a different random split per
member), MSE on random target vectors, AdamW with one learning rate for the embeddings and one
learning rate and weight decay per member for the decoder.

Both sides do the same work: the same members (seeds, hyperparameters, training pairs) for the
same number of steps, nothing recorded. The sequential side is plain PyTorch (``ToyAdditionModel``
+ ``torch.optim.AdamW``, one member after another), the ensemble side ``BatchedToyAdditionModel``
+ ``BatchedAdamW`` + ``train_ensemble`` with each member's 45 pairs as per-member data. Model
construction is outside the timings. The two sides run interleaved, in rounds (each round: a tenth
of the members trained sequentially, then a tenth of the steps of the ensemble), so that other
processes on the machine slow both sides alike. Afterwards the final training losses of the two
sides are compared member by member: they computed the same trajectories.

Measured, for each intra-op thread count in ``--threads``:

1. paper size (H = 200): sequential vs ensemble, and the ensemble's effective rate (the FLOPs of
   the matmuls of a step / its step time) against a probe that runs ``torch.bmm`` on exactly those
   matmul shapes, interleaved with it;
2. course size (``--course-widths``): sequential vs ensemble;
   for both, also the ensemble with ``torch.compile(model)`` and ``BatchedAdamW(compile=True)``
   (the one-off compilation is left out of the timing and printed);
3. where an ensemble step's time goes: forward (and the two tanh in it), backward, optimiser update;

then, with ``course_utils``' default thread count, the wall time of a 10 × 10 decoder-lr ×
weight-decay grid with ``--grid-seeds`` seeds per cell at the course width, recording train and
validation accuracy as a phase diagram needs them. ``uptime`` load averages are printed at the
start and the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from course_utils.device import DEFAULT_NUM_THREADS
from course_utils.ensemble import (BatchedAdamW, Grid, first_step_reaching, mse_per_sample,
                                   train_ensemble)
from course_utils.data.arithmetic import addition_table, split_masks, target_vectors
from course_utils.models.grokking import BatchedToyAdditionModel, ToyAdditionModel, nearest_target_accuracy, toy_optimizer

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


def sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


class BmmProbe:
    """torch.bmm on exactly the matmul shapes of one paper-size training step (same FLOP count)."""

    def __init__(self, K: int, H: int, device):
        N, d, O = N_TRAIN, EMBED_DIM, OUT_DIM
        g = torch.Generator(device=device).manual_seed(0)
        r = lambda *s: torch.randn(*s, generator=g, device=device)  # noqa: E731
        self.x0, self.h1, self.h2 = r(K, N, d), r(K, N, H), r(K, N, H)
        self.W1, self.W2, self.W3 = r(K, d, H), r(K, H, H), r(K, H, O)
        self.g3, self.g2, self.g1 = r(K, N, O), r(K, N, H), r(K, N, H)
        self.flops, self.device = matmul_flops_per_step(K, H), device
        self.step()

    def step(self) -> None:
        bmm, T = torch.bmm, lambda t: t.transpose(1, 2)  # noqa: E731
        bmm(self.x0, self.W1), bmm(self.h1, self.W2), bmm(self.h2, self.W3)      # forward
        bmm(self.g3, T(self.W3)), bmm(T(self.h2), self.g3)                        # layer 3 backward
        bmm(self.g2, T(self.W2)), bmm(T(self.h1), self.g2)                        # layer 2 backward
        bmm(self.g1, T(self.W1)), bmm(T(self.x0), self.g1)                        # layer 1 backward

    def time_per_step(self, repeats: int) -> float:
        sync(self.device)
        t = time.perf_counter()
        for _ in range(repeats):
            self.step()
        sync(self.device)
        return (time.perf_counter() - t) / repeats


def members(K: int):
    """The members' hyperparameters: a row of a phase diagram (decoder weight decay varies)."""
    seeds = list(range(K))
    lr_dec = np.full(K, 1e-4)                        # the paper's decoder learning rate
    wd_dec = np.logspace(-2, 1, K)
    masks = split_masks(P * (P + 1) // 2, n_train=N_TRAIN, seeds=seeds)
    return seeds, lr_dec, wd_dec, masks


class Sequential:
    """K single models, each with its own torch.optim.AdamW: the loop a student would write."""

    def __init__(self, K: int, H: int, device):
        pairs, sums = addition_table(P)
        targets = target_vectors(P, OUT_DIM)[sums]
        seeds, lr_dec, wd_dec, masks = members(K)
        self.models, self.opts, self.data, self.device = [], [], [], device
        for k in range(K):
            model = ToyAdditionModel(P, EMBED_DIM, H, OUT_DIM, seed=seeds[k]).to(device)
            self.models.append(model)
            self.opts.append(torch.optim.AdamW(model.parameter_groups(
                embedding=dict(lr=LR_EMBED, weight_decay=0.0),
                decoder=dict(lr=float(lr_dec[k]), weight_decay=float(wd_dec[k])))))
            self.data.append((pairs[masks[k]].to(device), targets[masks[k]].to(device)))

    def train(self, members: Sequence[int], steps: int) -> float:
        """Train the given members, one after another, for ``steps`` steps each; return seconds."""
        sync(self.device)
        t = time.perf_counter()
        for k in members:
            model, opt, (X, Y) = self.models[k], self.opts[k], self.data[k]
            for _ in range(steps):
                opt.zero_grad(set_to_none=True)
                F.mse_loss(model(X), Y).backward()
                opt.step()
        sync(self.device)
        return time.perf_counter() - t

    def final_losses(self) -> np.ndarray:
        with torch.no_grad():
            return np.array([F.mse_loss(m(X), Y).item() for m, (X, Y) in zip(self.models, self.data)])


class Ensemble:
    """The same K members as one BatchedToyAdditionModel + BatchedAdamW, trained by train_ensemble."""

    def __init__(self, K: int, H: int, device, compile: bool = False):
        pairs, sums = addition_table(P)
        targets = target_vectors(P, OUT_DIM)[sums]
        seeds, lr_dec, wd_dec, masks = members(K)
        # Member k's own 45 training pairs, as the sequential loop has them: (K, 45, 2), (K, 45, 30).
        self.X = torch.stack([pairs[masks[k]] for k in range(K)]).to(device)
        self.Y = torch.stack([targets[masks[k]] for k in range(K)]).to(device)
        self.model = BatchedToyAdditionModel(K, P, EMBED_DIM, H, OUT_DIM, seeds=seeds).to(device)
        self.opt = BatchedAdamW(self.model.parameter_groups(
            embedding=dict(lr=LR_EMBED, weight_decay=0.0), decoder=dict(lr=lr_dec, weight_decay=wd_dec)),
            compile=compile)
        self.device = device
        if compile:   # the forward (and with it the backward) pass compiled too
            self.model = torch.compile(self.model)

    def train(self, steps: int) -> float:
        """``steps`` more steps of every member; return seconds."""
        sync(self.device)
        t = time.perf_counter()
        train_ensemble(self.model, mse_per_sample, self.X, self.Y, steps=steps, optimizer=self.opt,
                       per_member_data=True, record_steps=(), progress=False)
        sync(self.device)
        return time.perf_counter() - t

    def final_losses(self) -> np.ndarray:
        with torch.no_grad():
            return mse_per_sample(self.model(self.X), self.Y).mean(dim=1).cpu().numpy()


def compare(label: str, K: int, H: int, steps: int, device, rows: list, threads: int, *,
            rounds: int, with_bmm: bool = False, compile: bool = False) -> None:
    """Sequential vs ensemble, interleaved: in each of ``rounds`` rounds the sequential side trains
    K/rounds members for all ``steps`` steps and the ensemble trains all K members for
    steps/rounds steps (and, where asked, the batched-matmul probe and the compiled-update ensemble
    run one block each). Over all rounds both sides do exactly the same work, and a busy machine
    slows both alike. Totals give the speed-up; the fastest round of each gives the per-step rates."""
    seq, ens = Sequential(K, H, device), Ensemble(K, H, device)
    comp = Ensemble(K, H, device, compile=True) if compile else None
    warmup = comp.train(3) if comp is not None else 0.0       # compiling happens here, untimed
    probe = BmmProbe(K, H, device) if with_bmm else None
    groups = np.array_split(np.arange(K), rounds)
    chunks = [len(c) for c in np.array_split(np.arange(steps), rounds)]
    t_seq, t_ens, t_comp, t_bmm = [], [], [], []
    for group, chunk in zip(groups, chunks):
        t_seq.append(seq.train(group, steps) / (len(group) * steps))    # per member-step
        t_ens.append(ens.train(chunk) / chunk)                             # per ensemble step
        if comp is not None:
            t_comp.append(comp.train(chunk) / chunk)
        if probe is not None:
            t_bmm.append(probe.time_per_step(max(chunk // 2, 2)))
    total_seq = sum(t * len(g) * steps for t, g in zip(t_seq, groups))
    total_ens = sum(t * c for t, c in zip(t_ens, chunks))
    loss_seq, loss_ens = seq.final_losses(), ens.final_losses()
    agree = float(np.max(np.abs(loss_ens - loss_seq) / np.abs(loss_seq)))
    flops = matmul_flops_per_step(K, H)
    best_seq, best_ens = min(t_seq), min(t_ens)
    row = dict(case=label, H=H, threads=threads, seq=total_seq, ens=total_ens,
               speedup=total_seq / total_ens, best_speedup=K * best_seq / best_ens,
               gflops=flops / best_ens / 1e9, agree=agree)
    print(f"  {label:<11} H={H:<4} K={K}, {steps} steps, {rounds} interleaved rounds:")
    print(f"      sequential {total_seq:6.2f} s, ensemble {total_ens:5.2f} s: speed-up {row['speedup']:5.1f}x "
          f"(fastest rounds: {best_seq * 1e3:.3f} ms per member-step vs {best_ens * 1e3:.2f} ms per "
          f"ensemble step, {row['best_speedup']:.1f}x)")
    print(f"      final training losses agree: max relative difference {agree:.1e} over {K} members")
    line = f"      ensemble: {row['gflops']:.1f} GFLOP/s of matmul work"
    if probe is not None:
        row["bmm"] = flops / min(t_bmm) / 1e9
        line += f", batched-matmul probe {row['bmm']:.1f} GFLOP/s: {100 * row['gflops'] / row['bmm']:.0f}%"
    print(line)
    if comp is not None:
        best_comp = min(t_comp)
        row.update(compiled=sum(t * c for t, c in zip(t_comp, chunks)), compiled_gflops=flops / best_comp / 1e9,
                   best_compiled_speedup=K * best_seq / best_comp)
        print(f"      with torch.compile(model) and BatchedAdamW(compile=True) (compiled in {warmup:.1f} s, untimed): "
              f"{row['compiled']:.2f} s, speed-up {total_seq / row['compiled']:.1f}x "
              f"(fastest rounds {row['best_compiled_speedup']:.1f}x); "
              f"{row['compiled_gflops']:.1f} GFLOP/s"
              + (f" = {100 * row['compiled_gflops'] / row['bmm']:.0f}% of the probe" if probe else ""))
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
        for _ in range(5):
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
    whole = BatchedAdamW(groups(), chunk_elements=None)   # the same update, whole tensors at once
    whole.step()
    t_whole = timed(whole.step)
    h = torch.randn(K, N_TRAIN, H, device=device)
    t_tanh = timed(lambda: torch.tanh(h)) * 2          # two tanh layers per forward pass
    t_sig = timed(lambda: torch.sigmoid(2 * h).mul_(2).sub_(1)) * 2   # the same function, tanh = 2σ(2x) − 1
    line = (f"  H={H:<4} K={K}: forward {t_fwd:.2f} ms (of which tanh {t_tanh:.2f} ms; "
            f"as 2·sigmoid(2x)−1 it would take {t_sig:.2f} ms), "
            f"backward {t_fb - t_fwd:.2f} ms, AdamW update {t_opt:.2f} ms "
            f"(without cache blocking: {t_whole:.2f} ms")
    try:
        compiled = BatchedAdamW(groups(), compile=True)
        forward_backward()
        compiled.step()
        if compiled._compiled is not None:
            line += f"; compiled: {timed(compiled.step):.2f} ms"
    except Exception as err:  # pragma: no cover - depends on the machine
        line += f"; compiled: unavailable, {type(err).__name__}"
    line += ")"
    print(line)
    sys.stdout.flush()


def phase_grid(H: int, steps: int, seeds: int, device, record_every: int) -> None:
    """The wall time of a 10 × 10 decoder lr × weight decay grid with a few seeds per cell."""
    grid = Grid(weight_decay=np.logspace(-2, 1, 10), lr=np.logspace(-4, -2, 10), seed=range(seeds))
    t = time.perf_counter()
    pairs, sums = addition_table(P)
    Y = target_vectors(P, OUT_DIM)
    masks = split_masks(len(pairs), n_train=N_TRAIN, seeds=grid["seed"])
    pairs, sums, Y, m = pairs.to(device), sums.to(device), Y.to(device), masks.to(device)
    model = BatchedToyAdditionModel(grid.size, P, EMBED_DIM, H, OUT_DIM, seeds=grid["seed"]).to(device)
    opt = toy_optimizer(model, embed_lr=LR_EMBED, decoder_lr=grid["lr"], decoder_wd=grid["weight_decay"])

    outputs = {}   # one forward pass per record serves both accuracies (metrics run in this order)

    def train_acc(model):
        outputs["last"] = model(pairs)
        return nearest_target_accuracy(outputs["last"], Y, sums, m)

    def val_acc(model):
        return nearest_target_accuracy(outputs.pop("last"), Y, sums, ~m)

    hist = train_ensemble(model, mse_per_sample, pairs, Y[sums], steps=steps, optimizer=opt,
                          sample_weight=m, record_steps=range(0, steps + 1, record_every),
                          metrics={"train_acc": train_acc, "val_acc": val_acc}, progress=False)
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
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per comparison")
    parser.add_argument("--grid-width", type=int, default=32)
    parser.add_argument("--grid-steps", type=int, default=5000)
    parser.add_argument("--grid-seeds", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true",
                        help="skip the torch.compile variant (it needs a C++ compiler on a CPU)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.members, args.paper_steps, args.course_steps = 20, 10, 50
        args.grid_steps, args.grid_seeds, args.rounds = 200, 1, 2
    device = torch.device(args.device)
    K = args.members

    print(f"torch {torch.__version__}, {cpu_name()}, {os.cpu_count()} CPUs, device {device}")
    print(f"start: {load()}")
    start = time.perf_counter()
    rows: list = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        print(f"\n{threads} intra-op thread{'s' if threads > 1 else ''}:")
        compare("paper size", K, 200, args.paper_steps, device, rows, threads, rounds=args.rounds,
                with_bmm=True, compile=not args.no_compile)
        for H in args.course_widths:
            compare("course size", K, H, args.course_steps, device, rows, threads, rounds=args.rounds,
                    compile=not args.no_compile)
        print("  where an ensemble step's time goes (best of 5 blocks):")
        for H in [200] + args.course_widths:
            breakdown(K, H, device, repeats=3 if args.quick else (10 if H == 200 else 50))
    torch.set_num_threads(DEFAULT_NUM_THREADS)
    print(f"\nphase-diagram grid, course_utils default of {DEFAULT_NUM_THREADS} thread(s):")
    phase_grid(args.grid_width, args.grid_steps, args.grid_seeds, device,
               record_every=max(args.grid_steps // 100, 1))
    print(f"\nend: {load()}; the whole run took {time.perf_counter() - start:.0f} s")

    print("\nsummary (markdown):\n")
    print("| case | H | threads | sequential (s) | ensemble (s) | speed-up (totals) | speed-up (fastest rounds) | ensemble GFLOP/s | of bmm probe |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        of_bmm = f"{100 * r['gflops'] / r['bmm']:.0f}% of {r['bmm']:.1f}" if "bmm" in r else "–"
        print(f"| {r['case']} | {r['H']} | {r['threads']} | {r['seq']:.2f} | {r['ens']:.2f} | "
              f"{r['speedup']:.1f}× | {r['best_speedup']:.1f}× | {r['gflops']:.1f} | {of_bmm} |")
        if "compiled" in r:
            of_bmm = f"{100 * r['compiled_gflops'] / r['bmm']:.0f}% of {r['bmm']:.1f}" if "bmm" in r else "–"
            print(f"| {r['case']}, compiled | {r['H']} | {r['threads']} | {r['seq']:.2f} | "
                  f"{r['compiled']:.2f} | {r['seq'] / r['compiled']:.1f}× | {r['best_compiled_speedup']:.1f}× | "
                  f"{r['compiled_gflops']:.1f} | {of_bmm} |")


if __name__ == "__main__":
    main()
