"""Train K models as one: the ensemble training loop, its history, and per-sample losses.

:func:`train_ensemble` is :func:`course_utils.train.train` for a batched model: the loss of
member k is the weighted mean of the per-sample losses over *its* training samples,

    L_k(θ_k) = Σ_i w_ki ℓ(f_{θ_k}(x_i), y_i) / Σ_i w_ki,

and one backward pass of Σ_k L_k gives every member its own gradient (∂(Σ_j L_j)/∂θ_k = ∂L_k/∂θ_k:
members never see each other's data). A 0/1 weight matrix ``sample_weight`` gives each member its
own training set (different sizes, different random splits); real-valued weights reweight samples.

History values stay on the device until training ends (no ``.item()`` per step); divergence is
tracked on the device too (the first step at which each member's loss was NaN or infinite), and
read, with the early-exit test ``stop_when``, once per record step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from .. import validate
from ..progress import progress as progress_bar
from ..train import (History, TrainingDiverged, checked_optimizer, learning_rate_of, metric_functions, model_dtype,
                     record_step_set, trainable_parameters, training_data)
from ..validate import ArgumentError
from .layers import BatchedMLP, _is_index

__all__ = ["EnsembleHistory", "train_ensemble", "mse_per_sample", "cross_entropy_per_sample",
           "accuracy", "first_step_reaching"]


def mse_per_sample(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error per sample, averaged over output dimensions: (K, N, D) → (K, N).

    Averaged over the samples of a member this is ``nn.MSELoss()`` of that member alone. The
    target must have the output's shape, (N, D) (shared by all members) or (K, N, D): a target of
    shape (N,) against outputs (K, N, 1) would broadcast to (K, N, N) and is refused.
    """
    if not isinstance(output, torch.Tensor):
        output = validate.tensor("output", output, finite=False)
    if not isinstance(target, torch.Tensor):
        target = validate.tensor("target", target, dtype=output.dtype if output.is_floating_point() else None,
                                 finite=False)
    if target.shape != output.shape:
        _check_target_shape("target", target.shape, output.shape)
    return (output - target).pow(2).flatten(2).mean(dim=2)


def _check_target_shape(name: str, target_shape, output_shape) -> None:
    """Refuse a regression target that does not broadcast to exactly the outputs' shape (K, N, …)."""
    try:
        ok = torch.broadcast_shapes(target_shape, output_shape) == output_shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ArgumentError(f"{name} has shape {tuple(target_shape)} but the model's outputs have shape "
                            f"{tuple(output_shape)} (members, samples, outputs): {name} must have shape "
                            f"{tuple(output_shape[1:])} or {tuple(output_shape)}"
                            + (f"; as it is, the loss would compare every output with every target, shape "
                               f"{tuple(torch.broadcast_shapes(target_shape, output_shape))}"
                               if _broadcasts(target_shape, output_shape) else ""))


def _broadcasts(a, b) -> bool:
    try:
        torch.broadcast_shapes(a, b)
        return True
    except RuntimeError:
        return False


def _broadcasts_to(shape, target) -> bool:
    """Whether a tensor of ``shape`` broadcasts to exactly ``target`` (no new, larger result)."""
    return _broadcasts(shape, target) and torch.broadcast_shapes(shape, target) == target


def cross_entropy_per_sample(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy per sample: logits (K, N, C), integer labels (N,) or (K, N) → (K, N).

    ℓ_ki = −log softmax(z_ki)[y_i]."""
    if not isinstance(logits, torch.Tensor):
        logits = validate.tensor("logits", logits, finite=False)
    if not isinstance(labels, torch.Tensor):
        labels = validate.tensor("labels", labels, finite=False)
    if logits.dim() != 3 or labels.shape not in (logits.shape[1:2], logits.shape[:2]) or labels.is_floating_point():
        raise ArgumentError(f"cross_entropy_per_sample needs logits of shape (K, N, C) and integer labels of shape "
                            f"(N,) or (K, N); got logits {tuple(logits.shape)} and labels {tuple(labels.shape)} "
                            f"of dtype {labels.dtype}")
    labels = labels.expand(logits.shape[:2])
    try:
        return F.cross_entropy(logits.flatten(0, 1), labels.flatten(), reduction="none").view(labels.shape)
    except IndexError:
        raise ArgumentError(f"labels must be class indices in [0, {logits.shape[-1]}) for logits with "
                            f"{logits.shape[-1]} classes, got labels from {int(labels.min())} to "
                            f"{int(labels.max())}") from None


def accuracy(logits: torch.Tensor, labels: torch.Tensor, weight: torch.Tensor | None = None):
    """Fraction of samples whose arg-max class is the label: (…, N, C) logits → (…) accuracies.

    With ``weight`` ((N,) or (…, N), e.g. a 0/1 validation mask) the weighted fraction.
    """
    if not isinstance(logits, torch.Tensor):
        logits = validate.tensor("logits", logits, finite=False)
    if not isinstance(labels, torch.Tensor):
        labels = validate.tensor("labels", labels, finite=False)
    if logits.dim() < 2 or not _broadcasts_to(labels.shape, logits.shape[:-1]):
        raise ArgumentError(f"accuracy needs logits of shape (…, N, C) and labels of shape (N,) or (…, N); "
                            f"got logits {tuple(logits.shape)} and labels {tuple(labels.shape)}")
    if weight is not None:
        if not isinstance(weight, torch.Tensor):
            weight = validate.tensor("weight", weight, finite=False)
        if not _broadcasts_to(weight.shape, logits.shape[:-1]):
            raise ArgumentError(f"weight must have shape (N,) or (…, N) as the labels, got weight "
                                f"{tuple(weight.shape)} for logits {tuple(logits.shape)}")
        if weight.is_floating_point() and not bool(torch.isfinite(weight).all()):
            raise ArgumentError("weight must contain only finite numbers (a 0/1 mask or non-negative weights), "
                                f"but {int((~torch.isfinite(weight)).sum())} of its entries are NaN or infinite")
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
    ``diverged[k]`` says whether member k's loss became NaN or infinite, ``diverged_step[k]`` the
    first step at which it was (−1: never); from then on its recorded values are NaN.
    """

    def __init__(self, n_members: int) -> None:
        super().__init__()
        n_members = validate.positive_int("n_members", n_members)
        self.n_members = n_members
        self.stop_step = np.full(n_members, -1)
        self.diverged = np.zeros(n_members, dtype=bool)
        self.diverged_step = np.full(n_members, -1)
        self.stopped_early = False
        self._cache: dict[str, np.ndarray] = {}

    def record(self, step: int, **values) -> None:
        """Append the (K, …) tensors measured at ``step``; they are converted when read."""
        validate.integer("step", step)
        if self.steps and step <= self.steps[-1]:
            raise ValueError(f"steps must increase: got {step} after {self.steps[-1]} (argument step)")
        if self.steps and set(values) != set(self._values):
            raise ValueError(f"every record needs the same names {sorted(self._values)}, got {sorted(values)}")
        for name, value in values.items():
            if value is None or isinstance(value, (str, bytes)) or callable(value):
                raise ArgumentError(f"{name} must be a tensor with one entry per member, got {validate.show(value)}")
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
        if not _is_index(k, self.n_members):
            raise ValueError(f"member index must be in [0, {self.n_members}), got k = {validate.show(k)}")
        k = int(k)
        hist = History()
        for i, step in enumerate(self.steps):
            hist.record(step, **{name: self[name][i, k] for name in self._values})
        hist.diverged, hist.diverged_step = bool(self.diverged[k]), int(self.diverged_step[k])
        return hist


def first_step_crossing(steps, values, threshold: float, *, above: bool = True, never=np.nan) -> np.ndarray:
    """The first of ``steps`` at which ``values`` is ≥ ``threshold`` (≤ with ``above=False``).

    t* = min{ t_i : v(t_i) ≥ threshold }, column by column: ``values`` has shape (len(steps), ...)
    and the result has shape values.shape[1:] (a 0-d array for one series). Series that never get
    there receive ``never`` (NaN by default). The resolution is that of ``steps``.
    """
    steps = validate.array("steps", steps, allow_empty=True)
    values = validate.array("values", values, finite=False, allow_empty=True)
    validate.real("threshold", threshold, finite=False)
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
    if not isinstance(history, History):
        raise ArgumentError(f"history must be a History or EnsembleHistory (as returned by training), "
                            f"got {validate.show(history)}")
    try:
        recorded = history[name]
    except (KeyError, TypeError):
        raise ArgumentError(f"name must be the name of a recorded quantity, one of "
                            f"{sorted(history._values)}, got {validate.show(name)}") from None
    values = np.asarray(recorded, dtype=float)
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
        while have < n_steps:  # pragma: no mutate (drawing an epoch early keeps the order of the draws)
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
                   progress: bool = True, desc: str = "ensemble",
                   on_divergence: str = "record") -> EnsembleHistory:
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

    - Divergence: the loss of every member at every step (already computed) is watched on the
      device. With ``on_divergence="record"`` (the default: a sweep over learning rates crosses
      the stability edge on purpose) a member whose loss becomes NaN or infinite is noted in
      ``history.diverged`` / ``history.diverged_step`` (read at the next record step, or at the
      end), its parameters and optimiser state are set to zero and kept there (its learning rate
      in a batched optimiser is set to 0), its recorded values are NaN from then on, and it counts
      as finished for ``stop_when``; the other members are not affected. If *every* member
      diverges, :class:`~course_utils.train.TrainingDiverged` is raised. With
      ``on_divergence="raise"`` the first diverged member raises it.

    Runs on whatever device the model is on (the data are moved there). ``X`` and ``y`` may be
    tensors, NumPy arrays or lists (finite); floating data are converted to the model's dtype.
    Returns an :class:`EnsembleHistory`.
    """
    params = trainable_parameters("model", model)
    loss_fn = validate.function("loss_fn", loss_fn)
    steps = validate.nonnegative_int("steps", steps)
    on_divergence = validate.choice("on_divergence", on_divergence, ("record", "raise"))
    optimizer = checked_optimizer("optimizer", optimizer, params)
    device, dtype = params[0].device, model_dtype(params)
    K = getattr(model, "n_members", params[0].shape[0] if params[0].dim() else None)
    K = validate.positive_int("model.n_members (the number of members)", K)
    X = training_data("X", X, dtype, device, exact=True)
    y = training_data("y", y, dtype, device, exact=False)
    per_member_data = validate.flag("per_member_data", per_member_data)
    axis = 1 if per_member_data else 0
    if per_member_data and (X.dim() < 2 or y.dim() < 2 or X.shape[0] != K or y.shape[0] != K):
        raise ArgumentError(f"per_member_data=True needs X and y of shape ({K}, N, ...), got "
                            f"{tuple(X.shape)} and {tuple(y.shape)}")
    if isinstance(model, BatchedMLP) and (X.dim() not in (2, 3) or X.shape[-1] != model.sizes[0]):
        raise ArgumentError(f"X must have shape {'(K, ' if per_member_data else '('}N, {model.sizes[0]}) for a "
                            f"BatchedMLP with sizes {model.sizes}, got {tuple(X.shape)}")
    n = X.shape[axis]
    if y.shape[axis] != n:
        raise ArgumentError(f"X has {n} samples but y has {y.shape[axis]} (per_member_data={per_member_data}; "
                            f"shapes {tuple(X.shape)} and {tuple(y.shape)})")

    # Per-member sample weights, normalised so that each member's weights sum to one.
    w = torch.ones(K, n) if sample_weight is None else \
        validate.tensor("sample_weight", sample_weight, dtype=torch.float64).cpu()
    if w.dim() == 1 and w.shape[0] == n:
        w = w.expand(K, n)
    if w.shape != (K, n):
        raise ArgumentError(f"sample_weight must have shape ({n},) or ({K}, {n}), got {tuple(w.shape)}")
    if (w < 0).any() or (w.sum(dim=1) <= 0).any():
        raise ArgumentError("sample_weight must be finite and ≥ 0, with at least one positive weight per member")
    w_full = None if sample_weight is None else (w / w.sum(dim=1, keepdim=True)).to(device, dtype)

    samplers = None
    if batch_size is not None:
        batch_size = validate.positive_int("batch_size", batch_size)
        supports = [torch.nonzero(w[k] > 0).flatten() for k in range(K)]
        smallest = min(len(s) for s in supports)
        if not 1 <= batch_size <= smallest:
            raise ArgumentError(f"batch_size must be between 1 and the smallest training set ({smallest}), "
                                f"got {batch_size}")
        data_seeds = list(range(K)) if data_seeds is None else \
            [validate.integer("data_seeds", s) for s in validate.array("data_seeds", data_seeds, ndim=1, dtype=None)]
        if len(data_seeds) != K:
            raise ArgumentError(f"data_seeds: need one data seed per member ({K}), got {len(data_seeds)}")
        samplers = [_MemberBatches(s, batch_size, seed) for s, seed in zip(supports, data_seeds)]
        w_device = w.to(device, dtype)
        rows = torch.arange(K, device=device)[:, None]

    record = record_step_set(record_steps, steps)
    metrics = metric_functions(metrics)
    if stop_when is not None:
        validate.function("stop_when", stop_when)
    history = EnsembleHistory(K)
    watch = _DivergenceWatch(params, optimizer, K, steps, device, on_divergence, history)
    bar = progress_bar(total=steps, desc=desc, disable=not progress)
    reached = torch.zeros(K, dtype=torch.bool, device=device)
    check_target = loss_fn is mse_per_sample and y.is_floating_point()

    def member_losses(output, target, weight):
        nonlocal check_target
        if check_target:             # once: a target of the wrong shape would broadcast silently
            _check_target_shape("y", target.shape, output.shape)
            check_target = False
        losses = loss_fn(output, target)
        if not isinstance(losses, torch.Tensor) or losses.shape != output.shape[:2]:
            raise ArgumentError(f"loss_fn must return per-sample losses of shape {tuple(output.shape[:2])} "
                                f"(members, samples), got {validate.show(losses)}")
        return _weighted_mean(losses, weight)

    def do_record(step: int, loss: torch.Tensor | None) -> bool:
        """Record at ``step``; return True when training should stop."""
        nonlocal reached
        with torch.no_grad():
            if loss is None:
                loss = member_losses(model(X), y, w_full)
            watch.see(loss, step)
            values = {"loss": loss.detach()}
            values.update({name: f(model) for name, f in metrics.items()})
        watch.check(step)                                   # synchronises: record steps only
        values = watch.mask(values)
        history.record(step, **values)
        if stop_when is None:
            return False
        now = torch.as_tensor(stop_when(values), device=device).bool()
        if now.shape != (K,):
            raise ArgumentError(f"stop_when must return one boolean per member, shape ({K},), got {tuple(now.shape)}")
        newly = now & ~reached
        reached = reached | now
        done = reached if watch.dead is None else reached | watch.dead   # a diverged member never gets there
        newly, n_reached = newly.cpu().numpy(), int(done.sum())   # synchronises: record steps only
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
            if step in record:
                if do_record(step, loss):
                    break
            else:
                watch.see(loss, step)
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
            watch.see(loss, step)
        loss.sum().backward()                        # ∂(Σ_j L_j)/∂θ_k = ∂L_k/∂θ_k
        watch.before_step()
        optimizer.step()
        watch.after_step()
        bar.update(1)
    bar.close()
    watch.finish(step)
    return history


class _DivergenceWatch:
    """Which members of an ensemble diverged, and keeping them frozen (used by both ensemble loops).

    ``first`` is a (K,) tensor on the training device: the first step at which each member's loss
    was NaN or infinite (``steps + 1``: not yet). :meth:`see` only keeps the (K,) loss of the step
    (no operation on the device, no synchronisation); every ``FOLD`` steps, and in :meth:`check`,
    the kept losses are stacked and their first non-finite entry per member folded into ``first``.
    :meth:`check` then reads it (one synchronisation, at record steps and at the end) and deals
    with the members that diverged since the last check.
    """

    FOLD = 256

    def __init__(self, params, optimizer, K: int, steps: int, device, mode: str, history) -> None:
        self.K, self.optimizer, self.mode, self.history = K, optimizer, mode, history
        self.params = [p for p in params if p.dim() > 0 and p.shape[0] == K]   # one slice per member
        self.all_params = params
        self.first = torch.full((K,), steps + 1, dtype=torch.long, device=device)
        self.kept: list[torch.Tensor] = []             # the losses seen since the last fold, and their steps
        self.kept_steps: list[int] = []
        self.device = device
        self.pending = False
        self.dead: torch.Tensor | None = None          # (K,) bool on the device, once a member diverged
        self.index: torch.Tensor | None = None         # their indices

    def see(self, loss: torch.Tensor, step: int) -> None:
        """Note the members whose (K,) ``loss`` at ``step`` is NaN or infinite."""
        self.kept.append(loss.detach())
        self.kept_steps.append(step)
        if len(self.kept) >= self.FOLD:
            self._fold()

    def _fold(self) -> None:
        """first_k ← min(first_k, the first kept step at which member k's loss is not finite)."""
        if not self.kept:
            return
        bad = ~torch.isfinite(torch.stack(self.kept))                       # (kept steps, K)
        at = torch.tensor(self.kept_steps, device=self.first.device)[bad.to(torch.uint8).argmax(dim=0)]
        self.first = torch.where(bad.any(dim=0), torch.minimum(self.first, at), self.first)
        self.kept, self.kept_steps = [], []

    def check(self, step: int) -> None:
        """Read which members diverged up to ``step``; raise, or freeze them."""
        self._fold()
        first = self.first.cpu().numpy()
        diverged = self.history.diverged
        newly = (first <= step) & ~diverged
        if not newly.any():
            return
        diverged |= newly
        self.history.diverged_step[newly] = first[newly]
        lr = learning_rate_of(self.optimizer)
        members = np.flatnonzero(newly).tolist()
        member_lr = [lr[k] for k in members] if isinstance(lr, list) and len(lr) == self.K else lr
        if self.mode == "raise" or diverged.all():
            who = ("every member" if diverged.all() and self.mode == "record" else
                   f"member{'s' * (len(members) > 1)} {members}")
            raise TrainingDiverged(
                f"training diverged: the loss of {who} became NaN or infinite (first at step "
                f"{int(first[diverged].min())}; members {members} at steps {first[newly].tolist()}, learning "
                f"rate{'s' * isinstance(member_lr, list)} {member_lr}). Try smaller learning rates; check that "
                "the data hold no NaN or inf and that the loss is finite on them."
                + (" With on_divergence='record' (the default) diverged members are recorded and frozen, "
                   "as long as some member survives." if self.mode == "raise" else ""),
                step=int(first[newly].min()), lr=member_lr, members=members)
        self.dead = torch.from_numpy(diverged.copy()).to(self.device)
        self.index = torch.from_numpy(np.flatnonzero(diverged)).to(self.device)
        for group in self.optimizer.param_groups:       # batched optimisers: learning rate 0 from now on
            if isinstance(group.get("lr"), torch.Tensor) and group["lr"].shape == (self.K,):
                group["lr"][torch.from_numpy(newly)] = 0.0
        self.pending = True       # zeroed before the next update: the current loss may still be differentiated

    def _zero_frozen(self) -> None:
        """Set the diverged members' parameters and optimiser state to zero."""
        with torch.no_grad():
            for p in self.params:
                p.index_fill_(0, self.index, 0)
                for value in self.optimizer.state.get(p, {}).values():
                    if isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == self.K:
                        value.index_fill_(0, self.index.to(value.device), 0)
        self.pending = False

    def before_step(self) -> None:
        """Zero the gradients of the frozen members (their optimiser state stays zero)."""
        if self.index is not None:
            if self.pending:
                self._zero_frozen()
            for p in self.params:
                if p.grad is not None:
                    p.grad.index_fill_(0, self.index, 0)

    def after_step(self) -> None:
        """Put the frozen members back to zero (whatever the optimiser did, e.g. with eps = 0)."""
        if self.index is not None:
            with torch.no_grad():
                for p in self.params:
                    p.index_fill_(0, self.index, 0)

    def mask(self, values: dict) -> dict:
        """The recorded values with NaN for the diverged members (floating values with a member axis)."""
        if self.dead is None:
            return values
        out = {}
        for name, v in values.items():
            if isinstance(v, torch.Tensor) and v.is_floating_point() and v.dim() > 0 and v.shape[0] == self.K:
                v = v.masked_fill(self.dead.to(v.device).view(-1, *[1] * (v.dim() - 1)), float("nan"))
            out[name] = v
        return out

    def finish(self, step: int) -> None:
        """At the end: members whose parameters are NaN or infinite diverged too (at the last step)."""
        with torch.no_grad():
            ok = torch.ones(self.K, dtype=torch.bool, device=self.device)
            for p in self.params:
                if p.is_floating_point():
                    ok &= torch.isfinite(p).flatten(1).all(dim=1).to(self.device)
        self._fold()
        self.first = torch.where(ok, self.first, self.first.clamp(max=step))
        self.check(step)
        if self.pending:
            self._zero_frozen()
