"""A small, readable training loop: full batch or minibatch, any optimiser, CPU or GPU.

It records a :class:`History` of the full training loss (and any metric you pass) at chosen
steps, shows a tqdm progress bar, and can stop early. Chapter 1 trains with it; the batched
ensembles of later chapters follow the same conventions.

Arguments are checked on entry (:mod:`course_utils.validate`): NumPy arrays and lists are turned
into tensors of the model's dtype and device, shapes must agree, NaN is refused in the data and in
the learning rate. A run whose loss or parameters become NaN or infinite stops with a
:class:`TrainingDiverged` error that says at which step and with which learning rate (or, with
``on_divergence="record"``, returns the history so far, marked as diverged).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import torch

from . import validate
from .progress import progress as progress_bar
from .validate import ArgumentError

__all__ = ["History", "TrainingDiverged", "log_spaced_steps", "train",
           # the checks shared with the ensemble loops
           "trainable_parameters", "model_dtype", "training_data", "checked_optimizer", "record_step_set",
           "metric_functions", "learning_rate_of"]


class TrainingDiverged(FloatingPointError):
    """Training produced a NaN or infinite loss or parameter and was stopped.

    ``step`` is the first step (number of updates made) at which it was seen, ``lr`` the learning
    rate (a list, one per member, for an ensemble), ``members`` the diverged members of an ensemble.
    """

    def __init__(self, message: str, *, step: int | None = None, lr=None, members=None) -> None:
        super().__init__(message)
        self.step, self.lr, self.members = step, lr, members


class History:
    """Values recorded during training, keyed by name, at the steps listed in ``steps``.

    ``hist["loss"]`` is a NumPy array with one entry per recorded step; ``hist.steps`` the steps.
    ``diverged`` is True (and ``diverged_step`` the step) when training was stopped because the
    loss or a parameter became NaN or infinite (``train(..., on_divergence="record")``).
    """

    def __init__(self) -> None:
        self.steps: list[int] = []
        self._values: dict[str, list] = {}
        self.diverged: bool = False
        self.diverged_step: int = -1

    def record(self, step: int, **values) -> None:
        """Append the values measured at ``step`` (after ``step`` optimiser updates)."""
        step = validate.nonnegative_int("step", step)
        if self.steps and step <= self.steps[-1]:
            raise ArgumentError(f"step must be larger than the last recorded step (steps must increase: "
                                f"got {step} after {self.steps[-1]})")
        for name, value in values.items():
            _check_recordable(name, value)
        if self.steps and set(values) != set(self._values):
            raise ValueError(f"every record needs the same names {sorted(self._values)}, got {sorted(values)}")
        self.steps.append(int(step))
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            self._values.setdefault(name, []).append(value)

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "step":
            return np.asarray(self.steps)
        if name not in self._values:
            raise KeyError(f"nothing named {name!r} was recorded; recorded: {sorted(self._values)}")
        return np.asarray(self._values[name])

    def keys(self) -> list[str]:
        """The names of the recorded quantities."""
        return list(self._values)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"History({len(self)} records of {self.keys()})"


def _check_recordable(name: str, value) -> None:
    """Refuse a recorded value that is not a number or an array of numbers (NaN is kept: it is a measurement)."""
    if isinstance(value, torch.Tensor):
        return
    if value is None or isinstance(value, (str, bytes, dict)) or callable(value):
        raise ArgumentError(f"{name} must be a number or an array of numbers, got {validate.show(value)}")
    try:
        np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ArgumentError(f"{name} must be a number or an array of numbers, got {validate.show(value)}") from None


def _measured(name: str, value):
    """A metric's value as recorded: one number as a float, an array (or tensor) of several as a NumPy array."""
    _check_recordable(f"metrics[{name!r}] (its value)", value)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=float) if not isinstance(value, np.ndarray) else value
    return float(value.reshape(())) if value.size == 1 else value.copy()


def log_spaced_steps(steps: int, n: int = 50) -> np.ndarray:
    """About ``n`` distinct integer steps from 0 to ``steps``, evenly spaced in log(1 + t).

    Dynamics that relax exponentially or as power laws are best recorded on a log-time grid.
    """
    try:
        steps, n = validate.positive_int("steps", steps), validate.integer("n", n, low=2)
    except ArgumentError as err:
        raise ArgumentError(f"need steps ≥ 1 and n ≥ 2: {err}") from None
    return np.unique(np.round(np.geomspace(1, steps + 1, n) - 1).astype(int))


# --- the checks of the training loops: shared by train() here and by course_utils.ensemble's ----------------
# train_ensemble and train_online (public, so that the ensemble loops do not reach into this module's privates)

def trainable_parameters(name: str, model) -> list[torch.nn.Parameter]:
    """The parameters of ``model`` (an ``nn.Module`` with at least one, all finite)."""
    if not isinstance(model, torch.nn.Module):
        raise ArgumentError(f"{name} must be a torch.nn.Module, got {validate.show(model)}")
    params = list(model.parameters())
    if not params:
        raise ArgumentError(f"{name} has no parameters to train")
    with torch.no_grad():
        if not all(bool(torch.isfinite(p).all()) for p in params if p.is_floating_point()):
            raise ArgumentError(f"{name} has NaN or infinite parameters before training: re-initialise it")
    return params


def _tensor_list(name: str, value) -> list[torch.Tensor]:
    """``value`` as a list of tensors (the parameters of a model), refusing anything else."""
    if isinstance(value, (torch.Tensor, str, bytes)) or not isinstance(value, Iterable):
        raise ArgumentError(f"{name} must be a list of tensors such as list(model.parameters()), got {validate.show(value)}")
    value = list(value)
    if not all(isinstance(p, torch.Tensor) for p in value):
        raise ArgumentError(f"{name} must be a list of tensors such as list(model.parameters()), got {validate.show(value)}")
    return value


def model_dtype(params) -> torch.dtype:
    """The dtype of the model: that of its first floating-point parameter."""
    params = _tensor_list("params", params)
    return next((p.dtype for p in params if p.is_floating_point()), torch.get_default_dtype())


def training_data(name: str, value, dtype: torch.dtype, device: torch.device, *, exact: bool) -> torch.Tensor:
    """``value`` as a finite tensor on ``device``; floating data converted to the model's ``dtype``.

    Integer data (class labels, token indices) keep their dtype. ``exact=False`` (targets) converts a
    floating tensor only where the conversion is exact (float32 → float64): a float64 target already
    works with a float32 model by type promotion, and converting it would change the arithmetic.
    """
    dtype, device = validate.float_dtype("dtype", dtype, allow_none=False), validate.device("device", device)
    exact = validate.flag("exact", exact)
    was_tensor = isinstance(value, torch.Tensor)
    t = validate.tensor(name, value)
    if t.dim() == 0:
        raise ArgumentError(f"{name} must have a leading sample axis, got a single number")
    if t.is_floating_point() and t.dtype != dtype and (
            exact or not was_tensor or torch.promote_types(t.dtype, dtype) == dtype):
        t = t.to(dtype)
    return t.to(device)


def checked_optimizer(name: str, optimizer, params) -> torch.optim.Optimizer:
    """``optimizer``, checked to be a ``torch.optim.Optimizer`` that updates some of ``params``."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ArgumentError(f"{name} must be a torch.optim.Optimizer (e.g. torch.optim.SGD(model.parameters(), "
                            f"lr=0.1)), got {validate.show(optimizer)}")
    mine = {id(p) for p in _tensor_list("params", params)}
    if not any(id(p) in mine for g in optimizer.param_groups for p in g["params"]):
        raise ArgumentError(f"{name} does not update any parameter of the model: build it from "
                            "model.parameters() of the model you train")
    return optimizer


def record_step_set(record_steps, steps: int) -> set[int]:
    """The record steps: default 0 and about 100 evenly spaced steps up to ``steps``; each in [0, steps]."""
    steps = validate.nonnegative_int("steps", steps)
    if record_steps is None:
        return set(range(0, steps + 1, max(steps // 100, 1)))
    if isinstance(record_steps, (np.ndarray, torch.Tensor)):
        record_steps = np.asarray(record_steps.detach().cpu() if isinstance(record_steps, torch.Tensor) else record_steps).ravel()
    if isinstance(record_steps, (str, bytes, dict)) or not isinstance(record_steps, Iterable):
        raise ArgumentError(f"record_steps must be a list of steps between 0 and steps={steps}, "
                            f"got {validate.show(record_steps)}")
    return {validate.integer(f"record_steps (each a step from 0 to steps = {steps})", s, low=0, high=steps)
            for s in record_steps}


def metric_functions(metrics) -> dict[str, Callable]:
    """``metrics``: None or a dict of name → function of the model."""
    if metrics is None:
        return {}
    if not isinstance(metrics, dict):
        raise ArgumentError("metrics must be a dict of name → function of the model, e.g. "
                            f"{{'wnorm': lambda m: m.weight.norm()}}, got {validate.show(metrics)}")
    return {name: validate.function(f"metrics[{name!r}]", f) for name, f in metrics.items()}


def learning_rate_of(optimizer: torch.optim.Optimizer):
    """The learning rate of the first parameter group, as a number or a list (one per member)."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ArgumentError(f"optimizer must be a torch.optim.Optimizer, got {validate.show(optimizer)}")
    lr = optimizer.param_groups[0].get("lr")
    if isinstance(lr, torch.Tensor):
        return lr.tolist() if lr.dim() else float(lr)
    return lr


def _diverged_message(what: str, step: int, lr) -> str:
    lr_text = "unknown" if lr is None else (f"{lr:.3g}" if isinstance(lr, (int, float)) else str(lr))
    smaller = (f" (say {lr / 10:.3g})" if isinstance(lr, (int, float)) and math.isfinite(lr) else "")
    return (f"training diverged at step {step}: {what} (learning rate {lr_text}). Try a smaller learning "
            f"rate{smaller}; check that the data hold no NaN or inf and that the loss is finite on them. "
            "Pass on_divergence='record' to get the history up to this step instead of this error.")


#: On a CPU the loss of every step is read at once (``loss.item()``, about a microsecond); on a GPU,
#: where reading it would wait for the device, the first non-finite step is kept on the device and
#: read at record steps and at the end. Tests set this to False to run the GPU path on a CPU.
_READ_LOSS_ON_CPU = True

_ELEMENTWISE_LOSSES = (torch.nn.functional.mse_loss, torch.nn.functional.l1_loss,
                       torch.nn.functional.smooth_l1_loss, torch.nn.functional.huber_loss)
_ELEMENTWISE_MODULES = (torch.nn.MSELoss, torch.nn.L1Loss, torch.nn.SmoothL1Loss, torch.nn.HuberLoss)


def _check_regression_target(loss_fn, output: torch.Tensor, y: torch.Tensor) -> None:
    """For torch's elementwise losses, refuse a target that would broadcast against the output.

    ``mse_loss`` of outputs (N, 1) and targets (N,) compares every output with every target, an
    (N, N) matrix, and only warns: the wrong loss is trained.
    """
    if (loss_fn in _ELEMENTWISE_LOSSES or isinstance(loss_fn, _ELEMENTWISE_MODULES)) and output.shape != y.shape:
        raise ArgumentError(f"y has shape {tuple(y.shape)} but the model's outputs have shape {tuple(output.shape)}: "
                            f"the loss would broadcast them to {tuple(torch.broadcast_shapes(output.shape, y.shape))}"
                            " and train on the wrong loss; reshape y (e.g. y.reshape(-1, 1) or y.ravel())"
                            if _broadcastable(output.shape, y.shape) else
                            f"y has shape {tuple(y.shape)} but the model's outputs have shape {tuple(output.shape)}")


def _broadcastable(a, b) -> bool:
    try:
        torch.broadcast_shapes(a, b)
        return True
    except RuntimeError:
        return False


def train(model: torch.nn.Module, loss_fn: Callable, X: torch.Tensor | None = None, y: torch.Tensor | None = None, *,
          steps: int, lr: float = 1e-2, optimizer: torch.optim.Optimizer | None = None,
          scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
          batch_size: int | None = None, record_steps: Iterable[int] | None = None,
          metrics: dict[str, Callable[[torch.nn.Module], float]] | None = None,
          stop_when: Callable[[History], bool] | None = None, seed: int = 0,
          progress: bool = True, desc: str = "training", on_divergence: str = "raise",
          on_record: Callable[[int, torch.nn.Module], None] | None = None) -> History:
    """Minimise ``loss_fn(model(X), y)`` for ``steps`` optimiser updates and return the history.

    Plain gradient descent θ ← θ − lr ∇L(θ) unless another ``optimizer`` is given (and a ``scheduler``
    of its learning rate, stepped after every update). ``batch_size=None`` is full-batch; otherwise
    minibatches are drawn without replacement, reshuffled every epoch with a generator seeded by ``seed``.
    Without data (``X`` and ``y`` left out) ``loss_fn(model)`` is the loss itself: a closure over the data
    (e.g. the loss of a deep linear network's weights, or the summed loss of an ensemble's members).

    At every step in ``record_steps`` (default: 0, then about 100 evenly spaced steps up to ``steps``) the
    *full* training loss and every ``metrics[name](model)`` are recorded (a number, or an array: the outputs
    on a grid, one value per member); ``on_record(step, model)``, if given, is called next (without gradients),
    for measurements kept elsewhere (several measures of every member, snapshots of the features);
    ``stop_when(history)``, if given, is asked after each record and ends training when it returns True.

    ``X`` and ``y`` may be tensors, NumPy arrays or lists (N samples each, all finite); floating
    data are converted to the model's dtype and moved to its device.

    Divergence: the loss of every step (already computed) and the recorded full loss are checked.
    When one is NaN or infinite (or a parameter is at the end), ``on_divergence="raise"`` (the
    default) raises :class:`TrainingDiverged` naming the step and the learning rate;
    ``on_divergence="record"`` stops there and returns the history so far with
    ``history.diverged = True`` and ``history.diverged_step`` (for learning-rate sweeps that cross
    the stability edge on purpose).
    """
    params = trainable_parameters("model", model)
    loss_fn = validate.function("loss_fn", loss_fn)
    steps = validate.nonnegative_int("steps", steps)
    on_divergence = validate.choice("on_divergence", on_divergence, ("raise", "record"))
    dtype, device = model_dtype(params), params[0].device
    closure = X is None and y is None
    if closure:
        if batch_size is not None:
            raise ArgumentError("batch_size needs data X, y: loss_fn(model) (no data) is always the full loss")
        X = y = torch.zeros(1, 1, dtype=dtype, device=device)   # placeholders: loss_fn(model) ignores them
    elif X is None or y is None:
        raise ArgumentError(f"give both X and y (the data), or neither (then loss_fn(model) is the loss); "
                            f"got {'y' if X is None else 'X'} only")
    X = training_data("X", X, dtype, device, exact=True)
    y = training_data("y", y, dtype, device, exact=False)
    if X.shape[0] != y.shape[0]:
        raise ArgumentError(f"X has {X.shape[0]} samples but y has {y.shape[0]} "
                            f"(shapes {tuple(X.shape)} and {tuple(y.shape)})")
    n = X.shape[0]
    if batch_size is not None:
        batch_size = validate.integer("batch_size", batch_size, low=1, high=n)
    if optimizer is None:
        lr = validate.positive("lr (the learning rate)", lr)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    else:
        optimizer = checked_optimizer("optimizer", optimizer, params)
    if scheduler is not None and getattr(scheduler, "optimizer", None) is not optimizer:
        raise ArgumentError("scheduler must be a torch.optim.lr_scheduler of the optimizer given here, got "
                            f"{validate.show(scheduler)}")
    record = record_step_set(record_steps, steps)
    metrics = metric_functions(metrics)
    if stop_when is not None:
        validate.function("stop_when", stop_when)
    if on_record is not None:
        validate.function("on_record", on_record)
    seed = validate.integer("seed", seed)
    on_cpu = device.type == "cpu" and _READ_LOSS_ON_CPU
    gen = torch.Generator().manual_seed(seed)
    order, pos = torch.randperm(n, generator=gen), 0
    history = History()
    # on a GPU: no sync per step. Equivalent mutants: only the sign of first_bad is read, and on a CPU it is
    # never updated (a tensor −1 there behaves as None)
    first_bad = None if on_cpu else torch.full((), -1, device=device)  # pragma: no mutate

    # ``checked`` only skips the repeated first-call checks: any other value gives the same result
    checked = False  # pragma: no mutate

    def loss_of(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``loss_fn(output, target)``; the first call checks the target's shape and that the loss is a number."""
        nonlocal checked
        if checked:
            return loss_fn(output) if closure else loss_fn(output, target)
        if not closure:
            _check_regression_target(loss_fn, output, target)
        loss = loss_fn(output) if closure else loss_fn(output, target)
        if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
            raise ArgumentError("loss_fn must return a single number (a tensor with one entry, e.g. the mean "
                                f"over the samples), got {validate.show(loss)}")
        checked = True  # pragma: no mutate (see above)
        return loss

    def run_model(inputs: torch.Tensor) -> torch.Tensor:
        """``model(inputs)`` (the model itself for a closure loss); before the first checked loss, a shape error
        of torch names X."""
        if closure:
            return model
        if checked:
            return model(inputs)
        try:
            return model(inputs)
        except RuntimeError as err:
            raise ArgumentError(f"X has shape {tuple(X.shape)}, which the model cannot take "
                                f"(torch says: {err})") from None

    def full_loss() -> float:
        with torch.no_grad():
            return float(loss_of(run_model(X), y))

    def diverged(step: int, what: str) -> bool:
        """Handle a divergence seen at ``step``; True: stop and return the history."""
        bar.close()
        if on_divergence == "raise":
            raise TrainingDiverged(_diverged_message(what, step, learning_rate_of(optimizer)), step=step,
                                   lr=learning_rate_of(optimizer))
        history.diverged, history.diverged_step = True, int(step)
        return True

    def seen_on_device() -> int:
        """The first step with a non-finite minibatch loss on a GPU (−1: none so far); one sync."""
        return -1 if first_bad is None else int(first_bad)  # pragma: no mutate (only the sign is read)

    bar = progress_bar(total=steps, desc=desc, disable=not progress)
    for step in range(steps + 1):  # pragma: no mutate (the loop leaves at step == steps: a longer range is the same)
        if step in record:
            values = {"loss": full_loss()}
            if not math.isfinite(values["loss"]):
                early = seen_on_device()
                if diverged(early if early >= 0 else step,
                            f"the loss is {values['loss']}" if early < 0 else "the minibatch loss is not finite"):
                    return history
            with torch.no_grad():
                values.update({name: _measured(name, f(model)) for name, f in metrics.items()})
                if on_record is not None:
                    on_record(step, model)
            history.record(step, **values)
            if stop_when is not None and stop_when(history):
                bar.total = step  # stopped early on purpose: the bar ends complete, not as a failure
                break
        if step == steps:
            break
        if batch_size is None:
            xb, yb = X, y
        else:
            if pos + batch_size > n:
                order, pos = torch.randperm(n, generator=gen), 0
            idx = order[pos:pos + batch_size].to(device)
            pos += batch_size
            xb, yb = X[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(run_model(xb), yb)
        if on_cpu:
            if not math.isfinite(loss.item()) and diverged(step, f"the loss is {loss.item()}"):
                return history
        else:
            first_bad = torch.where((first_bad < 0) & ~torch.isfinite(loss.detach()).reshape(()),
                                    step, first_bad)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        bar.update(1)
    bar.close()
    early = seen_on_device()
    if early >= 0:
        diverged(early, "the minibatch loss is not finite")
        return history
    with torch.no_grad():
        if not all(bool(torch.isfinite(p).all()) for p in params if p.is_floating_point()):
            diverged(step, "a parameter of the model is NaN or infinite")
    return history
