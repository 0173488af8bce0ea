"""Train K models as one: the ensemble training loop, its history, and per-sample losses.

:func:`train_ensemble` is :func:`course_utils.train.train` for a batched model: the loss of
member k is the weighted mean of the per-sample losses over *its* training samples,

    L_k(θ_k) = Σ_i w_ki ℓ(f_{θ_k}(x_i), y_i) / Σ_i w_ki,

and one backward pass of Σ_k L_k gives every member its own gradient (∂(Σ_j L_j)/∂θ_k = ∂L_k/∂θ_k:
members never see each other's data). A 0/1 weight matrix ``sample_weight`` gives each member its
own training set (different sizes, different random splits); real-valued weights reweight samples.

History values stay on the device until training ends (no ``.item()`` per step); only the
early-exit test ``stop_when`` reads one boolean per record step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from ..progress import progress as progress_bar

from ..train import History

__all__ = ["EnsembleHistory", "train_ensemble", "mse_per_sample", "cross_entropy_per_sample",
           "accuracy", "first_step_reaching"]


def mse_per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error per sample, averaged over output dimensions: (K, N, D) → (K, N).

    Averaged over the samples of a member this is ``nn.MSELoss()`` of that member alone.
    """
    return (output - target).pow(2).flatten(2).mean(dim=2)


def cross_entropy_per_sample(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per sample: logits (K, N, C), integer labels (N,) or (K, N) → (K, N)."""
    labels = labels.expand(logits.shape[:2])
    return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(labels.shape)


def accuracy(logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None = None):
    """Fraction of samples whose arg-max class is the label: (…, N, C) logits → (…) accuracies.

    With ``weight`` ((N,) or (…, N), e.g. a 0/1 validation mask) the weighted fraction.
    """
    correct = (logits.argmax(dim=-1) == labels).to(logits.dtype)
    if weight is None:
        return correct.mean(dim=-1)
    weight = weight.to(correct.dtype)
    return (correct * weight).sum(dim=-1) / weight.sum(dim=-1)


class EnsembleHistory(History):
    """The history of an ensemble: ``hist["loss"]`` has shape (records, K), one column per member.

    Values are kept as tensors on the training device while training runs and converted to NumPy
    only when read, so recording costs no synchronisation. ``stop_step[k]`` is the first recorded
    step at which member k met the ``stop_when`` criterion of :func:`train_ensemble` (−1: never).
    """

    def __init__(self, n_members: int) -> None:
        super().__init__()
        self.n_members = n_members
        self.stop_step = np.full(n_members, -1)
        self.stopped_early = False
        self._cache: dict[str, np.ndarray] = {}

    def record(self, step: int, **values) -> None:
        """Append the (K, …) tensors measured at ``step``; they are converted when read."""
        if self.steps and step <= self.steps[-1]:
            raise ValueError(f"steps must increase: got {step} after {self.steps[-1]}")
        if self.steps and set(values) != set(self._values):
            raise ValueError(f"every record needs the same names {sorted(self._values)}, got {sorted(values)}")
        for name, value in values.items():
            value = torch.as_tensor(value).detach()
            if value.dim() == 0 or value.shape[0] != self.n_members:
                raise ValueError(f"{name!r} must have one entry per member (leading axis "
                                 f"{self.n_members}), got shape {tuple(value.shape)}")
            self._values.setdefault(name, []).append(value.clone())
        self.steps.append(int(step))
        self._cache.clear()

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "step":
            return np.asarray(self.steps)
        if name not in self._values:
            raise KeyError(f"nothing named {name!r} was recorded; recorded: {sorted(self._values)}")
        if name not in self._cache:
            self._cache[name] = torch.stack(self._values[name]).cpu().numpy()
        return self._cache[name]

    def member(self, k: int) -> History:
        """The history of member k alone, as a :class:`course_utils.train.History`."""
        if not 0 <= k < self.n_members:
            raise ValueError(f"member index must be in [0, {self.n_members}), got {k}")
        hist = History()
        for i, step in enumerate(self.steps):
            hist.record(step, **{name: self[name][i, k] for name in self._values})
        return hist


def first_step_crossing(steps, values, threshold: float, *, above: bool = True, never=np.nan) -> np.ndarray:
    """The first of ``steps`` at which ``values`` is ≥ ``threshold`` (≤ with ``above=False``).

    t* = min{ t_i : v(t_i) ≥ threshold }, column by column: ``values`` has shape (len(steps), ...)
    and the result has shape values.shape[1:] (a 0-d array for one series). Series that never get
    there receive ``never`` (NaN by default). The resolution is that of ``steps``.
    """
    steps = np.asarray(steps, dtype=float)
    values = np.asarray(values, dtype=float)
    if steps.ndim != 1 or values.shape[:1] != steps.shape:
        raise ValueError(f"values must have one row per step: steps {steps.shape}, values {values.shape}")
    hit = values >= threshold if above else values <= threshold
    return np.where(hit.any(axis=0), steps[hit.argmax(axis=0)], never)


def first_step_reaching(history: History, name: str, threshold: float, *, above: bool = True,
                        never=np.nan) -> np.ndarray:
    """For each member, the first recorded step at which ``history[name]`` is ≥ ``threshold``.

    With ``above=False``: ≤ ``threshold`` (e.g. a loss). Members that never get there receive
    ``never`` (NaN by default). The resolution is that of the record steps. Returns shape (K,).
    Grokking's phases are read from these "steps to threshold" of train and validation accuracy.
    For plain arrays of steps and values use :func:`first_step_crossing`.
    """
    values = np.asarray(history[name], dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    return first_step_crossing(history.steps, values, threshold, above=above, never=never)


class _MemberBatches:
    """The minibatches of one member, drawn exactly as :func:`course_utils.train.train` draws them.

    ``support`` lists the member's training samples. Each epoch a generator seeded with ``seed``
    draws a permutation; consecutive batches of ``batch_size`` are taken from it and the
    incomplete last batch is dropped.
    """

    def __init__(self, support: torch.Tensor, batch_size: int, seed: int):
        self.support, self.batch_size = support, batch_size
        self.gen = torch.Generator().manual_seed(int(seed))
        self.per_epoch = len(support) // batch_size
        self.pending = torch.empty(0, batch_size, dtype=torch.long)

    def take(self, n_steps: int) -> torch.Tensor:
        """Sample indices of the next ``n_steps`` batches, shape (n_steps, batch_size)."""
        blocks, have = [self.pending], len(self.pending)
        while have < n_steps:
            order = torch.randperm(len(self.support), generator=self.gen)
            blocks.append(self.support[order[: self.per_epoch * self.batch_size]]
                          .view(self.per_epoch, self.batch_size))
            have += self.per_epoch
        batches = torch.cat(blocks)
        self.pending = batches[n_steps:]
        return batches[:n_steps]


def _weighted_mean(losses: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Per-member weighted mean over samples: (K, N) losses, (K, N) weights summing to 1 → (K,)."""
    return losses.mean(dim=1) if weight is None else (losses * weight).sum(dim=1)


def train_ensemble(model: torch.nn.Module, loss_fn: Callable, X, y, *, steps: int,
                   optimizer: torch.optim.Optimizer, sample_weight=None,
                   per_member_data: bool = False, batch_size: int | None = None,
                   data_seeds: Iterable[int] | None = None,
                   record_steps: Iterable[int] | None = None,
                   metrics: dict[str, Callable[[torch.nn.Module], torch.Tensor]] | None = None,
                   stop_when: Callable[[dict[str, torch.Tensor]], torch.Tensor] | None = None,
                   progress: bool = True, desc: str = "ensemble") -> EnsembleHistory:
    """Train the K members of a batched ``model`` for ``steps`` updates; return their history.

    - ``model(X)`` returns (K, N, …): one output per member and sample. ``X`` (and ``y``) is shared
      by all members, shape (N, …), or, with ``per_member_data=True``, one data set per member,
      shape (K, N, …).
    - ``loss_fn(output, target)`` returns the per-sample losses (K, N), e.g. :func:`mse_per_sample`,
      :func:`cross_entropy_per_sample`.
    - ``sample_weight``: None (every sample counts), (N,), or (K, N) non-negative weights; a 0/1
      mask gives member k the training set ``X[mask[k]]``. (Every member still computes its outputs
      on all N samples; where members' sets are disjoint or much smaller than N, pass them as
      per-member data instead.)
    - ``optimizer``: a :class:`BatchedSGD` / :class:`BatchedAdam` / :class:`BatchedAdamW` over
      ``model.parameters()`` (per-member learning rates and weight decays live there).
    - ``batch_size=None`` is full batch. Otherwise each member draws its own minibatches from its
      own training samples, with a generator seeded by ``data_seeds[k]`` (default k), exactly as
      ``course_utils.train.train(..., seed=data_seeds[k])`` does for a model alone.
    - At every step in ``record_steps`` (default: 0, then about 100 evenly spaced steps up to
      ``steps``) the full training loss of each member (``"loss"``) and every
      ``metrics[name](model)`` — a tensor with one entry per member — are recorded.
    - ``stop_when(values)``, given the dict of values just recorded, returns a (K,) boolean tensor:
      which members have reached the criterion. Training ends at the first record step at which
      every member has reached it (at some record step so far); ``history.stop_step`` says when.

    Runs on whatever device the model is on (the data are moved there). Returns an
    :class:`EnsembleHistory`.
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    params = list(model.parameters())
    if not params:
        raise ValueError("the model has no parameters")
    device, dtype = params[0].device, params[0].dtype
    K = getattr(model, "n_members", params[0].shape[0])
    X, y = X.to(device), y.to(device)
    axis = 1 if per_member_data else 0
    n = X.shape[axis]
    if y.shape[axis] != n:
        raise ValueError(f"X has {n} samples but y has {y.shape[axis]} (per_member_data={per_member_data})")
    if per_member_data and (X.shape[0] != K or y.shape[0] != K):
        raise ValueError(f"per_member_data=True needs X and y of shape ({K}, N, ...), got "
                         f"{tuple(X.shape)} and {tuple(y.shape)}")

    # Per-member sample weights, normalised so that each member's weights sum to one.
    w = torch.ones(K, n) if sample_weight is None else torch.as_tensor(sample_weight, dtype=torch.float64).cpu()
    if w.dim() == 1:
        w = w.expand(K, n)
    if w.shape != (K, n):
        raise ValueError(f"sample_weight must have shape ({n},) or ({K}, {n}), got {tuple(w.shape)}")
    if (w < 0).any() or not torch.isfinite(w).all() or (w.sum(dim=1) <= 0).any():
        raise ValueError("sample_weight must be finite and ≥ 0, with at least one positive weight per member")
    w_full = None if sample_weight is None else (w / w.sum(dim=1, keepdim=True)).to(device, dtype)

    samplers = None
    if batch_size is not None:
        supports = [torch.nonzero(w[k] > 0).flatten() for k in range(K)]
        smallest = min(len(s) for s in supports)
        if not 1 <= batch_size <= smallest:
            raise ValueError(f"batch_size must be between 1 and the smallest training set ({smallest}), got {batch_size}")
        data_seeds = list(range(K)) if data_seeds is None else [int(s) for s in data_seeds]
        if len(data_seeds) != K:
            raise ValueError(f"need one data seed per member ({K}), got {len(data_seeds)}")
        samplers = [_MemberBatches(s, batch_size, seed) for s, seed in zip(supports, data_seeds)]
        w_device = w.to(device, dtype)
        rows = torch.arange(K, device=device)[:, None]

    record = set(range(0, steps + 1, max(steps // 100, 1)) if record_steps is None
                 else (int(s) for s in record_steps))
    if any(s < 0 or s > steps for s in record):
        raise ValueError(f"record_steps must lie between 0 and steps={steps}")
    metrics = metrics or {}
    history = EnsembleHistory(K)
    bar = progress_bar(total=steps, desc=desc, disable=not progress)
    reached = torch.zeros(K, dtype=torch.bool, device=device)

    def member_losses(output, target, weight):
        losses = loss_fn(output, target)
        if losses.shape != output.shape[:2]:
            raise ValueError(f"loss_fn must return per-sample losses of shape {tuple(output.shape[:2])} "
                             f"(members, samples), got {tuple(losses.shape)}")
        return _weighted_mean(losses, weight)

    def do_record(step: int, loss: torch.Tensor | None) -> bool:
        """Record at ``step``; return True when training should stop."""
        nonlocal reached
        with torch.no_grad():
            if loss is None:
                loss = member_losses(model(X), y, w_full)
            values = {"loss": loss.detach()}
            values.update({name: f(model) for name, f in metrics.items()})
        history.record(step, **values)
        if stop_when is None:
            return False
        now = torch.as_tensor(stop_when(values), device=device).bool()
        if now.shape != (K,):
            raise ValueError(f"stop_when must return one boolean per member, shape ({K},), got {tuple(now.shape)}")
        newly = now & ~reached
        reached = reached | now
        newly, n_reached = newly.cpu().numpy(), int(reached.sum())   # synchronises: record steps only
        history.stop_step[newly] = step
        bar.set_postfix_str(f"{n_reached}/{K} done", refresh=False)
        if n_reached == K:
            history.stopped_early = step < steps
            return True
        return False

    batches, chunk = None, 0
    for step in range(steps + 1):
        if step == steps:
            if step in record:
                do_record(step, None)
            break
        if samplers is None:                        # full batch: this forward pass is also the record
            optimizer.zero_grad(set_to_none=True)
            loss = member_losses(model(X), y, w_full)
            if step in record and do_record(step, loss):
                break
        else:
            if step in record and do_record(step, None):
                break
            if batches is None or chunk == len(batches):
                n_next = min(256, steps - step)
                batches = torch.stack([s.take(n_next) for s in samplers], dim=1).to(device)
                chunk = 0
            idx = batches[chunk]                     # (K, batch_size) sample indices
            chunk += 1
            xb = X[rows, idx] if per_member_data else X[idx]
            yb = y[rows, idx] if per_member_data else y[idx]
            wb = w_device[rows, idx]
            optimizer.zero_grad(set_to_none=True)
            loss = member_losses(model(xb), yb, wb / wb.sum(dim=1, keepdim=True))
        loss.sum().backward()                        # ∂(Σ_j L_j)/∂θ_k = ∂L_k/∂θ_k
        optimizer.step()
        bar.update(1)
    bar.close()
    return history
