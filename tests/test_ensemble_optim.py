"""BatchedSGD / BatchedAdam / BatchedAdamW against torch.optim, member by member.

Member k of a batched parameter (K, ...) is compared with a single parameter trained alone by
``torch.optim.SGD / Adam / AdamW`` with member k's hyperparameters, on the same loss. The batched
update is the same formula in the same order, so the members must agree to rounding (float64
and float32), with the defaults, with weight decay on some members only, with several parameter
groups, with a parameter that gets no gradient, and in cache-sized blocks of members.
"""

from __future__ import annotations

import math

import pytest
import torch

from course_utils.ensemble import BatchedAdam, BatchedAdamW, BatchedSGD
from course_utils.ensemble import optim as bopt

K = 3


def start(dtype, seed=0, shapes=((4, 2), (1, 2))):
    g = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(K, *s, generator=g, dtype=dtype)) for s in shapes]
    X = torch.randn(5, shapes[0][0], generator=g, dtype=dtype)
    T = torch.randn(K, 5, shapes[0][1], generator=g, dtype=dtype)
    return params, X, T


def member_loss(W, b, X, t):
    return ((X @ W + b - t) ** 2).mean() + (W ** 4).sum() * 0.01     # a non-quadratic term: Adam's moments vary


def run(params, X, T, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        sum(member_loss(params[0][k], params[1][k], X, T[k]) for k in range(K)).backward()
        opt.step()


def run_alone(params, X, T, make_opt, steps):
    """Member k trained alone: single parameters, its own torch.optim optimiser."""
    out = []
    for k in range(K):
        W = torch.nn.Parameter(params[0][k].detach().clone())
        b = torch.nn.Parameter(params[1][k].detach().clone())
        opt = make_opt(k, W, b)
        for _ in range(steps):
            opt.zero_grad()
            member_loss(W, b, X, T[k]).backward()
            opt.step()
        out.append((W, b))
    return out


def assert_members_equal(params, alone):
    """Equal to rounding: torch.optim computes the same formulas with fused kernels (addcdiv where the
    batched update multiplies), which round differently in the last bit or two."""
    tol = 1e-14 if params[0].dtype == torch.float64 else 2e-7
    for k, (W, b) in enumerate(alone):
        for batched, single in ((params[0][k], W), (params[1][k], b)):
            torch.testing.assert_close(batched, single, rtol=tol, atol=tol, msg=f"member {k}")


LRS = [0.05, 0.01, 0.2]
WDS = [0.0, 0.3, 1e-2]

CASES = {
    "sgd default": (lambda ps: BatchedSGD(ps), lambda k, *ps: torch.optim.SGD(ps, lr=1e-2)),
    "sgd lr wd": (lambda ps: BatchedSGD(ps, lr=LRS, weight_decay=WDS),
                  lambda k, *ps: torch.optim.SGD(ps, lr=LRS[k], weight_decay=WDS[k])),
    "sgd momentum": (lambda ps: BatchedSGD(ps, lr=LRS, momentum=0.9, weight_decay=WDS),
                     lambda k, *ps: torch.optim.SGD(ps, lr=LRS[k], momentum=0.9, weight_decay=WDS[k])),
    "sgd nesterov": (lambda ps: BatchedSGD(ps, lr=LRS, momentum=0.5, nesterov=True),
                     lambda k, *ps: torch.optim.SGD(ps, lr=LRS[k], momentum=0.5, nesterov=True)),
    "adam default": (lambda ps: BatchedAdam(ps), lambda k, *ps: torch.optim.Adam(ps)),
    "adam all": (lambda ps: BatchedAdam(ps, lr=LRS, betas=(0.5, 0.9), eps=1e-3, weight_decay=WDS),
                 lambda k, *ps: torch.optim.Adam(ps, lr=LRS[k], betas=(0.5, 0.9), eps=1e-3, weight_decay=WDS[k])),
    "adamw default": (lambda ps: BatchedAdamW(ps), lambda k, *ps: torch.optim.AdamW(ps)),
    "adamw all": (lambda ps: BatchedAdamW(ps, lr=LRS, betas=(0.7, 0.95), eps=1e-6, weight_decay=WDS),
                  lambda k, *ps: torch.optim.AdamW(ps, lr=LRS[k], betas=(0.7, 0.95), eps=1e-6,
                                                   weight_decay=WDS[k])),
    "adamw no decay": (lambda ps: BatchedAdamW(ps, lr=LRS, weight_decay=0.0),
                       lambda k, *ps: torch.optim.AdamW(ps, lr=LRS[k], weight_decay=0.0)),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", list(CASES))
def test_every_member_is_equal_to_torch_optim_alone(case, dtype):
    make_batched, make_single = CASES[case]
    params, X, T = start(dtype)
    alone = run_alone(params, X, T, make_single, steps=6)
    opt = make_batched(params)
    run(params, X, T, opt, steps=6)
    assert_members_equal(params, alone)
    assert all(p.dtype == dtype for p in params)


@pytest.mark.parametrize("case", ["sgd momentum", "adamw all"])
def test_updating_in_blocks_of_members_changes_no_bit(case):
    make_batched, _ = CASES[case]
    results = []
    for chunk in (None, 1, 8, 16):
        params, X, T = start(torch.float64)
        opt = make_batched(params)
        opt.chunk_elements = chunk
        run(params, X, T, opt, steps=4)
        results.append(params)
    for other in results[1:]:
        assert all(torch.equal(a, b) for a, b in zip(results[0], other))


def test_members_per_chunk_follows_the_cache_rule():
    """Whole tensors unless, on a CPU with one thread, a tensor holds more than 4 chunks; then as many
    members as fit in chunk_elements (at least one)."""
    torch.set_num_threads(1)
    p = torch.nn.Parameter(torch.zeros(10, 6))                # 60 numbers, 6 per member
    opt = BatchedSGD([p], chunk_elements=15)                  # 60 ≤ 4·15: whole
    assert opt._members_per_chunk(p) == 10
    opt.chunk_elements = 14                                   # 60 > 56: blocks of 14 // 6 = 2 members
    assert opt._members_per_chunk(p) == 2
    opt.chunk_elements = 5                                    # fewer numbers than one member: one at a time
    assert opt._members_per_chunk(p) == 1
    opt.chunk_elements = None
    assert opt._members_per_chunk(p) == 10
    opt.chunk_elements = 14
    torch.set_num_threads(2)
    try:
        assert opt._members_per_chunk(p) == 10                # several threads: whole tensors
    finally:
        torch.set_num_threads(1)
    q = torch.nn.Parameter(torch.zeros(10, 2, 3))
    assert BatchedSGD([q], chunk_elements=14)._members_per_chunk(q) == 2
    assert BatchedSGD([p]).chunk_elements == bopt.CHUNK_ELEMENTS == 2 ** 17


def test_two_parameter_groups_with_their_own_rates_and_a_parameter_without_gradient():
    params, X, T = start(torch.float64)
    frozen = torch.nn.Parameter(torch.ones(K, 2))             # never used: no gradient, never moved
    opt = BatchedAdamW([dict(params=[params[0], frozen], lr=LRS, weight_decay=WDS),
                        dict(params=[params[1]], lr=0.02, weight_decay=0.5)], betas=(0.8, 0.99))
    alone = run_alone(params, X, T, lambda k, W, b: torch.optim.AdamW(
        [dict(params=[W], lr=LRS[k], weight_decay=WDS[k]), dict(params=[b], lr=0.02, weight_decay=0.5)],
        betas=(0.8, 0.99)), steps=5)
    run(params, X, T, opt, steps=5)
    assert_members_equal(params, alone)
    assert torch.equal(frozen, torch.ones(K, 2)) and frozen not in opt.state
    assert opt.state[params[0]]["step"] == 5
    assert opt.param_groups[1]["lr"].tolist() == [0.02] * K
    assert opt.param_groups[1]["weight_decay"].dtype == torch.float64
    # a group none of whose parameters has a gradient is skipped
    sgd = BatchedSGD([dict(params=[frozen]), dict(params=[params[0]])], lr=0.1, momentum=0.9)
    before = params[0].detach().clone()
    params[0].grad = torch.ones_like(params[0])
    sgd.step()
    assert torch.equal(params[0], before - 0.1) and torch.equal(frozen, torch.ones(K, 2))


def test_momentum_buffers_start_as_the_first_gradient_and_closure_is_ignored():
    p = torch.nn.Parameter(torch.zeros(2, 1, dtype=torch.float64))
    opt = BatchedSGD([p], lr=[1.0, 0.5], momentum=0.5)
    for g in (1.0, 2.0, 4.0):
        p.grad = torch.full_like(p, g)
        opt.step(closure=None)
    # b: 1, 0.5 + 2 = 2.5, 1.25 + 4 = 5.25; θ = −lr (1 + 2.5 + 5.25)
    assert p[:, 0].tolist() == [-8.75, -4.375]
    assert opt.state[p]["momentum_buffer"][:, 0].tolist() == [5.25, 5.25]
    plain = BatchedSGD([q := torch.nn.Parameter(torch.zeros(2, 1))], lr=0.5)
    q.grad = torch.ones_like(q)
    plain.step()
    assert plain.state[q]["momentum_buffer"] is None and q[:, 0].tolist() == [-0.5, -0.5]


def test_adam_step_counts_and_bias_corrections_by_hand():
    p = torch.nn.Parameter(torch.zeros(2, 1, dtype=torch.float64))
    opt = BatchedAdam([p], lr=[0.1, 0.2], betas=(0.5, 0.75), eps=0.0)
    p.grad = torch.tensor([[2.0], [-3.0]], dtype=torch.float64)
    opt.step()
    # first step: m̂ = g, v̂ = g², θ = −lr · sign(g)
    assert p[:, 0].tolist() == pytest.approx([-0.1, 0.2], rel=1e-15)
    p.grad = torch.tensor([[1.0], [1.0]], dtype=torch.float64)
    opt.step()
    m = [0.5 * 1.0 + 0.5 * 1, 0.5 * -1.5 + 0.5 * 1]          # m₁ = (1 − β₁) g₁ = (1, −1.5)
    v = [0.75 * 1.0 + 0.25 * 1, 0.75 * 2.25 + 0.25 * 1]       # v₁ = (1 − β₂) g₁² = (1, 2.25)
    expected = [-0.1 - 0.1 * (m[0] / 0.75) / math.sqrt(v[0] / (1 - 0.75 ** 2)),
                0.2 - 0.2 * (m[1] / 0.75) / math.sqrt(v[1] / (1 - 0.75 ** 2))]
    assert p[:, 0].tolist() == pytest.approx(expected, rel=1e-12)
    assert opt.state[p]["step"] == 2 and opt.state[p]["exp_avg"][:, 0].tolist() == pytest.approx(m)


def test_hyperparameters_may_be_replaced_or_edited_between_steps():
    params, X, T = start(torch.float64)
    opt = BatchedSGD(params, lr=0.1)
    run(params, X, T, opt, steps=1)
    opt.param_groups[0]["lr"] = 0.05                        # a plain number: per member again
    run(params, X, T, opt, steps=1)
    assert isinstance(opt.param_groups[0]["lr"], torch.Tensor) and opt.param_groups[0]["lr"].tolist() == [0.05] * K
    opt.param_groups[0]["weight_decay"][2] = 0.5            # edited in place: the cached copy follows
    before = [p.detach().clone() for p in params]
    run(params, X, T, opt, steps=1)
    again, X2, T2 = start(torch.float64)
    with torch.no_grad():
        for a, b in zip(again, before):
            a.copy_(b)
    ref = BatchedSGD(again, lr=0.05, weight_decay=[0.0, 0.0, 0.5])
    run(again, X, T, ref, steps=1)
    assert all(torch.equal(a, b) for a, b in zip(params, again))


def test_arguments_are_checked():
    p = torch.nn.Parameter(torch.zeros(K, 2))
    for make, match in [
        (lambda: BatchedSGD([p], momentum=1.0), r"momentum must be in \[0, 1\), got 1.0"),
        (lambda: BatchedSGD([p], momentum=-0.1), "momentum must be in"),
        (lambda: BatchedSGD([p], nesterov=True), "nesterov=True needs a momentum > 0"),
        (lambda: BatchedAdam([p], betas=(0.9, 1.0)), r"betas must lie in \[0, 1\), got \(0.9, 1.0\)"),
        (lambda: BatchedAdam([p], betas=(-0.1, 0.9)), "betas must lie in"),
        (lambda: BatchedAdam([p], betas=(0.9, -0.1)), "betas must lie in"),
        (lambda: BatchedAdamW([p], eps=-1e-8), "eps must be ≥ 0, got -1e-08"),
        (lambda: BatchedSGD([p], weight_decay=[0.0, -1.0, 0.0]), r"weight_decay must be ≥ 0, got \[0.0, -1.0, 0.0\]"),
        (lambda: BatchedSGD([p], lr=[0.1, 0.2]), "lr must be a number or have one entry per member"),
        (lambda: BatchedSGD([p], chunk_elements=0), "chunk_elements must be ≥ 1 or None, got 0"),
        (lambda: BatchedSGD([p, torch.nn.Parameter(torch.zeros(()))]), "same leading member axis"),
        (lambda: BatchedSGD([p, torch.nn.Parameter(torch.zeros(K + 1))]),
         r"leading sizes \['3', '4'\]"),
    ]:
        with pytest.raises(ValueError, match=match):
            make()
    # the edges that are allowed
    BatchedSGD([p], momentum=0.0, lr=0.0, chunk_elements=1)
    BatchedAdam([p], betas=(0.0, 0.0), eps=0.0)
    assert BatchedSGD([p]).n_members == K
    for cls in (BatchedSGD, BatchedAdam, BatchedAdamW):      # compile=False by default: the plain update
        o = cls([p], chunk_elements=7)
        assert o.chunk_elements == 7 and o._compiled is None
        assert cls([p]).chunk_elements == bopt.CHUNK_ELEMENTS and cls([p], chunk_elements=None).chunk_elements is None
