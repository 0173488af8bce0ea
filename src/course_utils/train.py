"""A small, readable training loop: full batch or minibatch, any optimiser, CPU or GPU.

It records a :class:`History` of the full training loss (and any metric you pass) at chosen
steps, shows a tqdm progress bar, and can stop early. Chapter 1 trains with it; the batched
ensembles of later chapters follow the same conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import torch
from .progress import progress as progress_bar

__all__ = ["History", "log_spaced_steps", "train"]


class History:
    """Values recorded during training, keyed by name, at the steps listed in ``steps``.

    ``hist["loss"]`` is a NumPy array with one entry per recorded step; ``hist.steps`` the steps.
    """

    def __init__(self) -> None:
        self.steps: list[int] = []
        self._values: dict[str, list] = {}

    def record(self, step: int, **values) -> None:
        """Append the values measured at ``step`` (after ``step`` optimiser updates)."""
        if self.steps and step <= self.steps[-1]:
            raise ValueError(f"steps must increase: got {step} after {self.steps[-1]}")
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


def log_spaced_steps(steps: int, n: int = 50) -> np.ndarray:
    """About ``n`` distinct integer steps from 0 to ``steps``, evenly spaced in log(1 + t).

    Dynamics that relax exponentially or as power laws are best recorded on a log-time grid.
    """
    if steps < 1 or n < 2:
        raise ValueError(f"need steps ≥ 1 and n ≥ 2, got steps={steps}, n={n}")
    return np.unique(np.round(np.geomspace(1, steps + 1, n) - 1).astype(int))


def train(model: torch.nn.Module, loss_fn: Callable, X: torch.Tensor, y: torch.Tensor, *,
          steps: int, lr: float = 1e-2, optimizer: torch.optim.Optimizer | None = None,
          batch_size: int | None = None, record_steps: Iterable[int] | None = None,
          metrics: dict[str, Callable[[torch.nn.Module], float]] | None = None,
          stop_when: Callable[[History], bool] | None = None, seed: int = 0,
          progress: bool = True, desc: str = "training") -> History:
    """Minimise ``loss_fn(model(X), y)`` for ``steps`` optimiser updates and return the history.

    Plain gradient descent θ ← θ − lr ∇L(θ) unless another ``optimizer`` is given.
    ``batch_size=None`` is full-batch; otherwise minibatches are drawn without replacement,
    reshuffled every epoch with a generator seeded by ``seed``. At every step in
    ``record_steps`` (default: 0, then about 100 evenly spaced steps up to ``steps``) the *full*
    training loss and every ``metrics[name](model)`` are recorded; ``stop_when(history)``, if
    given, is asked after each record and ends training when it returns True.
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but y has {y.shape[0]}")
    n = X.shape[0]
    if batch_size is not None and not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the number of samples {n}, got {batch_size}")
    if optimizer is None:
        if lr <= 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    record = set(range(0, steps + 1, max(steps // 100, 1)) if record_steps is None
                 else (int(s) for s in record_steps))
    if any(s < 0 or s > steps for s in record):
        raise ValueError(f"record_steps must lie between 0 and steps={steps}")
    device = next(model.parameters()).device
    X, y = X.to(device), y.to(device)
    metrics = metrics or {}
    gen = torch.Generator().manual_seed(seed)
    order, pos = torch.randperm(n, generator=gen), 0
    history = History()

    def full_loss() -> float:
        with torch.no_grad():
            return float(loss_fn(model(X), y))

    bar = progress_bar(total=steps, desc=desc, disable=not progress)
    for step in range(steps + 1):
        if step in record:
            values = {"loss": full_loss()}
            with torch.no_grad():
                values.update({name: float(f(model)) for name, f in metrics.items()})
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
        loss_fn(model(xb), yb).backward()
        optimizer.step()
        bar.update(1)
    bar.close()
    return history
