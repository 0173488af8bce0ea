"""SGD, Adam and AdamW for ensembles: one optimiser, K independent members, per-member hyperparameters.

Every parameter handed to these optimisers has a leading member axis of length K (as in
:class:`~course_utils.ensemble.BatchedMLP`). The learning rate and the weight decay of each
parameter group are *one value per member*; the optimiser state (momentum buffers, Adam's first
and second moments) has the shape of the parameter, so member k's state is the slice ``[k]`` and
nothing is shared between members. The update of member k is, operation for operation, the one
``torch.optim.SGD`` / ``Adam`` / ``AdamW`` applies to a single model (the same formulas in the same
order, with the per-member factors computed in double precision like PyTorch's Python scalars), so
an ensemble follows the trajectories of its members trained alone (tested in
``tests/test_ensemble.py``).

Per-parameter-group learning rates work as in ``torch.optim``::

    opt = BatchedAdamW([dict(params=[model.embedding], lr=1e-3, weight_decay=0.0),
                        dict(params=model.decoder.parameters(), lr=lr_per_member, weight_decay=wd_per_member)])

Speed (see ``benchmarks/README.md``): the update is a chain of elementwise operations, each one
pass over memory. On a CPU with one intra-op thread (the course default), tensors too large for
the cache are therefore updated a block of members at a time (``chunk_elements`` numbers per tensor, so that a block's parameter, gradient and
moments stay in the cache across the chain). That is several times faster at paper size and
changes no result (each element's arithmetic is the same). ``compile=True`` instead fuses the
whole chain into one loop with ``torch.compile`` (needs a C++ compiler on a CPU; it falls back to
the plain update, with a warning, where compiling fails).
"""

from __future__ import annotations

import math
import warnings

import torch

from .. import validate
from .layers import per_member

__all__ = ["BatchedSGD", "BatchedAdam", "BatchedAdamW"]

#: Numbers per tensor updated at once on a CPU, for tensors of more than 4 times as many
#: (2**17 float32 = 512 KiB per tensor: the fastest block size at paper size on the 2-core
#: reference machine, whose cores have 1 MiB of L2 cache each).
CHUNK_ELEMENTS = 2 ** 17


# --- the update formulas, on plain tensors (whole parameters, or chunks of members) ----------
# ``decay``, ``neg_lr``, ``wd`` and ``neg_step`` are per-member factors shaped (K, 1, ..., 1).

def _sgd_update(params, grads, bufs, wds, neg_lrs, momentum: float, nesterov: bool, first: bool):
    for p, g, buf, wd, neg_lr in zip(params, grads, bufs, wds, neg_lrs):
        if wd is not None:                       # L2 penalty: g ← g + λ θ
            g = g + p * wd
        if momentum != 0:                        # b ← μ b + g   (b = g at the first step)
            if first:
                buf.copy_(g)
            else:
                buf.mul_(momentum).add_(g)
            g = g + buf * momentum if nesterov else buf
        p.addcmul_(g, neg_lr)                    # θ ← θ − η g


def _adam_update(params, grads, exp_avgs, exp_avg_sqs, decays, wds, neg_steps,
                 beta1: float, beta2: float, eps: float, bias_correction2_sqrt: float):
    for p, g, m, v, decay, wd, neg_step in zip(params, grads, exp_avgs, exp_avg_sqs, decays, wds,
                                               neg_steps):
        if decay is not None:                    # AdamW: decoupled decay θ ← (1 − η λ) θ
            p.mul_(decay)
        if wd is not None:                       # Adam: L2 penalty g ← g + λ θ
            g = g + p * wd
        m.lerp_(g, 1 - beta1)                    # m ← β₁ m + (1 − β₁) g
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)   # v ← β₂ v + (1 − β₂) g²
        denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
        p.addcmul_(m / denom, neg_step)          # θ ← θ − η/(1 − β₁ᵗ) · m / (√(v/(1 − β₂ᵗ)) + ε)


def _chunks(tensor, n: int, n_members: int):
    """``tensor`` split into blocks of n members along the leading axis (``None`` stays ``None``)."""
    return (None,) * math.ceil(n_members / n) if tensor is None else tensor.split(n)


class _BatchedOptimizer(torch.optim.Optimizer):
    """Common part: K from the parameters' leading axis, per-member lr / weight decay per group.

    ``group["lr"]`` and ``group["weight_decay"]`` are (K,) float64 tensors on the CPU (edit them in
    place or replace them between steps, as with ``torch.optim``); their device copies are cached.
    """

    def __init__(self, params, defaults: dict, *, compile: bool = False,
                 chunk_elements: int | None = CHUNK_ELEMENTS):
        if params is None or isinstance(params, (str, bytes, torch.Tensor)) or not hasattr(params, "__iter__"):
            raise validate.ArgumentError(f"params must be an iterable of parameters, such as model.parameters(), "
                                         f"got {validate.show(params)}")
        params = list(params)
        if not params:
            raise validate.ArgumentError("params is empty: the optimiser needs at least one parameter "
                                         "(did the model's parameters() generator run out already?)")
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.is_floating_point() and not bool(torch.isfinite(p).all()):
                    raise validate.ArgumentError(f"params contains a parameter of shape {tuple(p.shape)} "
                                                 f"with NaN or infinite entries")
        sizes = {p.shape[0] if p.dim() > 0 else None for g in self.param_groups for p in g["params"]}
        if len(sizes) != 1 or None in sizes:
            raise ValueError("every parameter must have the same leading member axis; found "
                             f"leading sizes {sorted(map(str, sizes))}")
        self.n_members = sizes.pop()
        for group in self.param_groups:
            for name in ("lr", "weight_decay"):
                group[name] = per_member(group[name], self.n_members, name)
                if (group[name] < 0).any():
                    raise ValueError(f"{name} must be ≥ 0, got {group[name].tolist()}")
        if chunk_elements is not None and chunk_elements < 1:
            raise ValueError(f"chunk_elements must be ≥ 1 or None, got {chunk_elements}")
        self.chunk_elements = chunk_elements
        self._compiled = None
        if compile:
            self._compiled = torch.compile(self._update, fullgraph=True, dynamic=False)
        self._device_cache: dict = {}

    def _hyper(self, group: dict, name: str, device) -> tuple[torch.Tensor, bool]:
        """``group[name]`` on ``device`` (cached until it changes), and whether any entry is non-zero."""
        value = group[name]
        if not isinstance(value, torch.Tensor) or value.shape != (self.n_members,):
            value = group[name] = per_member(value, self.n_members, name)
        key = (id(group), name, device)
        cached = self._device_cache.get(key)
        if cached is None or cached[0] is not value or cached[1] != value._version:
            cached = (value, value._version, value.to(device), bool((value != 0).any()))
            self._device_cache[key] = cached
        return cached[2], cached[3]

    def _members_per_chunk(self, p: torch.Tensor) -> int:
        """How many members to update at once: as many as fit in ``chunk_elements`` on a CPU with one
        intra-op thread, for tensors larger than the cache (more than 4 chunks' worth); otherwise
        all of them (on a GPU, or with several threads, each operation is already spread over
        cores and caches, and more, smaller operations only cost more synchronisation)."""
        if (p.device.type != "cpu" or self.chunk_elements is None or self._compiled is not None
                or p.numel() <= 4 * self.chunk_elements or torch.get_num_threads() > 1):
            return self.n_members
        return max(1, self.chunk_elements // max(1, p.numel() // self.n_members))

    @staticmethod
    def _shaped(factor: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
        """A (K,) double-precision factor as (K, 1, ..., 1) tensors of each parameter's dtype."""
        cache: dict = {}
        out = []
        for p in params:
            key = (p.dtype, p.dim())
            if key not in cache:
                cache[key] = factor.to(p.dtype).view(-1, *([1] * (p.dim() - 1)))
            out.append(cache[key])
        return out

    def _run(self, tensor_lists: list[list], scalars: tuple, per_step: tuple = ()) -> None:
        """Apply ``self._update(*tensor_lists, *scalars, *per_step)`` to all parameters of a group.

        Compiled: one fused call. Otherwise one call for all tensors small enough, and the large
        ones (on a CPU) a block of members at a time, so that each block stays in the cache.
        ``per_step`` are the numbers that change every step (Adam's bias correction).
        """
        if self._compiled is not None:
            device = tensor_lists[0][0].device
            try:   # numbers that change as 0-d tensors (filled on the device: no copy, no
                # synchronisation), so that a new step does not trigger a recompilation
                self._compiled(*tensor_lists, *scalars,
                               *(torch.full((), s, dtype=torch.float64, device=device) for s in per_step))
                return
            except Exception as err:   # no compiler, unsupported platform, ...
                warnings.warn(f"torch.compile failed ({type(err).__name__}: {err}); "
                              "using the plain update", RuntimeWarning, stacklevel=3)
                self._compiled = None
        scalars = scalars + tuple(per_step)
        per_chunk = [self._members_per_chunk(p) for p in tensor_lists[0]]
        whole = [i for i, n in enumerate(per_chunk) if n >= self.n_members]
        if whole:
            self._update(*([lst[i] for i in whole] for lst in tensor_lists), *scalars)
        for i, n in enumerate(per_chunk):
            if n < self.n_members:
                for chunk in zip(*(_chunks(lst[i], n, self.n_members) for lst in tensor_lists)):
                    self._update(*([t] for t in chunk), *scalars)

    @staticmethod
    def _update(*args):  # pragma: no cover - overridden
        raise NotImplementedError


class BatchedSGD(_BatchedOptimizer):
    """Gradient descent for K members: θ ← θ − η_k (g + λ_k θ), with optional (Nesterov) momentum.

    As ``torch.optim.SGD`` (without dampening): the momentum buffer starts as the first gradient,
    then b ← μ b + g, and the step uses b (or g + μ b with ``nesterov=True``).
    ``lr`` and ``weight_decay`` are numbers or one value per member, per parameter group.
    """

    _update = staticmethod(_sgd_update)

    def __init__(self, params, lr=1e-2, *, momentum: float = 0.0, weight_decay=0.0,
                 nesterov: bool = False, compile: bool = False,
                 chunk_elements: int | None = CHUNK_ELEMENTS):
        validate.real("momentum", momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("nesterov=True needs a momentum > 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      nesterov=nesterov), compile=compile,
                         chunk_elements=chunk_elements)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every member."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            bufs, first = [], False
            for p in params:
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p) if group["momentum"] else None
                    first = True
                bufs.append(state["momentum_buffer"])
            lr, _ = self._hyper(group, "lr", params[0].device)
            wd, has_wd = self._hyper(group, "weight_decay", params[0].device)
            wds = self._shaped(wd, params) if has_wd else [None] * len(params)
            neg_lrs = self._shaped(-lr, params)
            if group["momentum"] == 0:
                bufs = [None] * len(params)
            self._run([params, [p.grad for p in params], bufs, wds, neg_lrs],
                      (group["momentum"], group["nesterov"], first))


class BatchedAdam(_BatchedOptimizer):
    """Adam for K members, with per-member learning rates and (L2, coupled) weight decay.

    m ← β₁ m + (1−β₁) g,  v ← β₂ v + (1−β₂) g²,
    θ ← θ − η_k/(1−β₁ᵗ) · m / (√(v/(1−β₂ᵗ)) + ε), with g ← g + λ_k θ first if λ_k > 0,
    exactly as ``torch.optim.Adam``. ``betas`` and ``eps`` are shared by all members.
    """

    _update = staticmethod(_adam_update)
    _decoupled = False

    def __init__(self, params, lr=1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay=0.0, compile: bool = False,
                 chunk_elements: int | None = CHUNK_ELEMENTS):
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise validate.ArgumentError(f"betas must be a pair (β₁, β₂) of numbers in [0, 1), "
                                         f"got {validate.show(betas)}")
        for i, beta in enumerate(betas):
            validate.real(f"betas[{i}]", beta)
        validate.real("eps", eps)
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"betas must lie in [0, 1), got {betas}")
        if eps < 0:
            raise ValueError(f"eps must be ≥ 0, got {eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay),
                         compile=compile, chunk_elements=chunk_elements)

    @torch.no_grad()
    def step(self, closure=None):
        """One update of every member."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
            t = self.state[params[0]]["step"]
            beta1, beta2 = group["betas"]
            lr, _ = self._hyper(group, "lr", params[0].device)
            wd, has_wd = self._hyper(group, "weight_decay", params[0].device)
            neg_step = -lr / (1 - beta1 ** t)
            none = [None] * len(params)
            decays = self._shaped(1 - lr * wd, params) if self._decoupled and has_wd else none
            wds = self._shaped(wd, params) if not self._decoupled and has_wd else none
            self._run([params, [p.grad for p in params],
                       [self.state[p]["exp_avg"] for p in params],
                       [self.state[p]["exp_avg_sq"] for p in params],
                       decays, wds, self._shaped(neg_step, params)],
                      (beta1, beta2, group["eps"]), (math.sqrt(1 - beta2 ** t),))


class BatchedAdamW(BatchedAdam):
    """AdamW for K members: Adam with decoupled weight decay θ ← (1 − η_k λ_k) θ before the Adam step.

    Exactly as ``torch.optim.AdamW`` (default ``weight_decay=1e-2`` as there), per member.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, *, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay=1e-2, compile: bool = False,
                 chunk_elements: int | None = CHUNK_ELEMENTS):
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         compile=compile, chunk_elements=chunk_elements)
