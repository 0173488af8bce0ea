"""Online training of a batched ensemble, and what it needs: networks of several widths as one
ensemble, a fresh batch of a task for every member at every step, and per-skill scores.

:func:`course_utils.ensemble.train_ensemble` trains on a fixed training set. Where data is endless
(online learning: no sample is seen twice, so the number of steps is also the amount of data),
:func:`train_online` is its loop with a fresh batch every step:

    θ_k ← update(θ_k, ∇ L_k),   L_k = (1/B) Σ_{i≤B} ℓ(f_k(x_ki), y_ki),   (x_ki, y_ki) fresh for every k and step.

:func:`padded_widths` puts networks of several widths into one :class:`~course_utils.ensemble.BatchedMLP`
(member = a width-w network inside the widest, its other units zero; they stay zero under Adam and SGD;
the chapter "Compute-optimal training" uses it too),
:func:`task_sampler` draws the batches of multitask sparse parity for every member, and
:func:`skill_scores` measures every member on every skill (accuracy, log-loss, probability of the
right answer).

Used by the chapters "Do trained networks follow the quantization model?"
(book/06_scaling/04_quanta_in_networks) and "Can emergence be predicted?"
(book/06_scaling/07_predicting_emergence); tested in ``tests/test_ensemble_online.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from .. import validate
from ..progress import progress as progress_bar
from ..train import checked_optimizer, metric_functions, record_step_set, trainable_parameters
from ..validate import ArgumentError
from .layers import BatchedMLP, make_activation, mlp
from .training import EnsembleHistory, _DivergenceWatch, cross_entropy_per_sample

__all__ = ["padded_widths", "padding_leak", "task_sampler", "train_online", "skill_scores"]


def skill_scores(model: torch.nn.Module, x_test: torch.Tensor, y_test: torch.Tensor,
                 n_skills: int) -> dict[str, torch.Tensor]:
    """Three scores of every member on every skill, each a (K, n_skills) float64 tensor:

    - ``acc``: the accuracy, the fraction of test queries whose arg-max class is the label (discontinuous);
    - ``logloss``: the mean cross-entropy −ln q_y (nats; ln 2 at chance);
    - ``p_right``: the mean probability q_y given to the right answer (continuous; ½ at chance).

    The test set must be grouped by skill, ``n_per_skill`` rows each, as
    :meth:`MultitaskSparseParity.test_set` makes it.
    """
    validate.function("model", model)
    n_skills = validate.positive_int("n_skills", n_skills)
    x_test = validate.tensor("x_test", x_test)  # once per record step: the NaN scan is cheap here
    y_test = validate.tensor("y_test", y_test, finite=False)
    if y_test.is_floating_point() or y_test.dim() != 1:
        raise ArgumentError(f"y_test must be a 1-D tensor of integer labels, got shape {tuple(y_test.shape)} "
                            f"and dtype {y_test.dtype}")
    if x_test.shape[0] != y_test.shape[0] or x_test.shape[0] % n_skills:
        raise ValueError(f"x_test and y_test need the same number of rows, a multiple of n_skills={n_skills} "
                         f"(grouped by skill), got {x_test.shape[0]} and {y_test.shape[0]}")
    with torch.no_grad():
        try:
            logits = model(x_test)
        except ValueError as err:
            raise ArgumentError(f"x_test does not fit the model: {err}") from None
        K = logits.shape[0]
        try:
            ce = cross_entropy_per_sample(logits, y_test).double()
        except ArgumentError as err:
            raise ArgumentError(f"y_test does not fit the model's outputs: {err}") from None
        acc = (logits.argmax(-1) == y_test).double()
        p_right = torch.exp(-ce)
    return {name: v.view(K, n_skills, -1).mean(-1) for name, v in
            (("acc", acc), ("logloss", ce), ("p_right", p_right))}


def task_sampler(tasks: Sequence) -> Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]:
    """The online data of an ensemble whose member k learns ``tasks[k]`` (a :class:`MultitaskSparseParity`).

    Returns ``sample(batch, generator) -> (x, y)`` with x of shape (K, batch, input_dim) and y (K, batch):
    a fresh batch for every member, drawn once per distinct task for all its members together (members
    sharing a task get different samples). All tasks must have the same input size.
    """
    if tasks is None or isinstance(tasks, (str, bytes)) or not hasattr(tasks, "__iter__"):
        raise ArgumentError(f"tasks must be a list of tasks (one per member), got {validate.show(tasks)}")
    tasks = list(tasks)
    if not all(hasattr(t, "input_dim") and hasattr(t, "sample") for t in tasks):
        raise ArgumentError(f"tasks must be a list of tasks with .input_dim and .sample (such as "
                            f"MultitaskSparseParity), got {validate.show(tasks)}")
    if not tasks or len({t.input_dim for t in tasks}) != 1:
        raise ValueError("tasks: need at least one task, all with the same input_dim")
    groups: dict[int, list[int]] = {}
    for k, t in enumerate(tasks):
        groups.setdefault(id(t), []).append(k)
    order = [(tasks[ks[0]], torch.tensor(ks)) for ks in groups.values()]
    K, d = len(tasks), tasks[0].input_dim

    def sample(batch: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.empty(K, batch, d)
        y = torch.empty(K, batch, dtype=torch.long)
        for task, members in order:
            xs, ys, _ = task.sample(len(members) * batch, generator=generator)
            x[members] = xs.view(len(members), batch, d).to(x.dtype)
            y[members] = ys.view(len(members), batch)
        return x, y

    return sample


def _int_list(name: str, value) -> list[int]:
    """``value`` (a list of whole numbers) as a list of ``int``; anything else raises naming ``name``."""
    if value is None or isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ArgumentError(f"{name} must be a list of integers, got {validate.show(value)}")
    return [validate.integer(f"{name}[{i}]", v) for i, v in enumerate(value)]


def padded_widths(input_dim: int, widths: Sequence[int], n_out: int, seeds: Sequence[int],
                  activation: str = "relu", *, positive_readout: bool = False) -> BatchedMLP:
    """Two-layer networks of different widths as one batched ensemble, each padded to the widest.

    Member k is ``mlp([input_dim, widths[k], n_out], activation, seed=seeds[k])`` (initialised as a
    network of its own width) in the first widths[k] hidden units of a network of width max(widths);
    its other units have every weight zero. Such a unit i outputs φ(0) = 0, so its output weights get
    the gradient ∂L/∂c_i ∝ φ(0) = 0, and its input weights and bias get ∂L/∂w_i ∝ c_i φ'(0) = 0; Adam and
    SGD leave a parameter whose gradient has always been zero where it is: the member stays a width-w
    network. This needs only φ(0) = 0 (ReLU, tanh, quadratic, GELU); an activation with φ(0) ≠ 0
    is refused.

    ``positive_readout=True`` takes the absolute value of the initial output weights (for a
    positive-definite quadratic teacher a unit with a negative output weight can only shrink: a trap for
    narrow networks; the chapter "Compute-optimal training" uses it).
    """
    input_dim = validate.positive_int("input_dim", input_dim)
    n_out = validate.positive_int("n_out", n_out)
    widths, seeds = _int_list("widths", widths), _int_list("seeds", seeds)
    if not widths or len(widths) != len(seeds) or min(widths) < 1:
        raise ValueError(f"need one seed per width and positive widths, got widths={widths}, seeds={seeds}")
    phi0 = float(make_activation(activation)(torch.zeros(1, dtype=torch.float64)))
    if phi0 != 0.0:
        raise ValueError(f"padding with zero units needs φ(0) = 0; activation={activation!r} has φ(0) = {phi0}")
    w_max = max(widths)
    members = []
    for w, s in zip(widths, seeds):
        small = mlp([input_dim, w, n_out], activation, seed=s)
        big = mlp([input_dim, w_max, n_out], activation, seed=s)
        with torch.no_grad():
            for p in big.parameters():
                p.zero_()
            big[0].weight[:w] = small[0].weight
            big[0].bias[:w] = small[0].bias
            big[2].weight[:, :w] = small[2].weight.abs() if positive_readout else small[2].weight
            big[2].bias.copy_(small[2].bias)
        members.append(big)
    return BatchedMLP.from_members(members, activation)


def padding_leak(model: BatchedMLP, widths: Sequence[int]) -> float:
    """How far the padding of :func:`padded_widths` has leaked: the largest weight of a padded unit,

        max over members k and units i ≥ widths[k] of  max_j |W_in[k, j, i]| + |b[k, i]| + max_o |W_out[k, i, o]|,

    which stays exactly 0 while member k is a width-``widths[k]`` network (0 also when no unit is padded).
    """
    if not isinstance(model, BatchedMLP) or len(model.layers) != 2:
        raise ArgumentError(f"model must be a two-layer BatchedMLP as made by padded_widths, got {validate.show(model)}")
    widths = np.asarray(_int_list("widths", widths))
    hidden_in, hidden_out = model.layers
    K, units = hidden_in.weight.shape[0], hidden_in.weight.shape[2]
    if widths.shape != (K,) or widths.min() < 1 or widths.max() > units:
        raise ValueError(f"widths must give one width in [1, {units}] per member ({K}), got {widths.tolist()}")
    with torch.no_grad():
        size = (hidden_in.weight.abs().amax(1) + hidden_in.bias.abs().reshape(K, units)
                + hidden_out.weight.abs().amax(2))                             # (members, units)
    padded = torch.from_numpy(widths[:, None] <= np.arange(units)[None, :])
    return float(size[padded].max()) if padded.any() else 0.0


def train_online(model: torch.nn.Module, sample: Callable[[int, torch.Generator], tuple],
                 optimizer: torch.optim.Optimizer, *, steps: int, batch: int, record_steps,
                 measure: Callable[[torch.nn.Module], dict[str, torch.Tensor]], seed: int,
                 desc: str = "online training", on_divergence: str = "record") -> dict[str, np.ndarray]:
    """Online training of a batched ensemble: every member gets a fresh batch each step (an endless data set).

    ``sample(batch, generator)`` returns (x, y) of shapes (K, batch, d) and (K, batch), one batch per
    member (:func:`task_sampler` makes it for sparse-parity tasks); the generator is seeded with ``seed``.
    Member k minimises the mean cross-entropy L_k of its batch; one step is one update of every member
    (the gradient of Σ_j L_j gives member k the gradient of its own L_k). At each of ``record_steps``
    (in [0, steps]) ``measure(model)`` returns tensors with a leading member axis. Returns a dict of NumPy
    arrays, each (records, K, ...), and ``"step"``: the loop of ``train_ensemble`` with fresh data.

    Divergence is handled as in :func:`~course_utils.ensemble.train_ensemble` (``on_divergence``):
    ``"diverged"`` (K,) and ``"diverged_step"`` (K,) (−1: never) say which members' loss became NaN or
    infinite and when; their measured values are NaN from then on and they are frozen at zero.
    """
    params = trainable_parameters("model", model)
    K = getattr(model, "n_members", None)
    if K is None:
        raise ArgumentError("need a batched model (with n_members), e.g. a BatchedMLP")
    validate.function("sample", sample)
    optimizer = checked_optimizer("optimizer", optimizer, params)
    steps = validate.nonnegative_int("steps", steps)
    batch = validate.positive_int("batch", batch)
    record = np.asarray(sorted(record_step_set(record_steps, steps)), dtype=int)
    if record.size == 0:
        raise ArgumentError(f"record_steps must be non-empty and lie in [0, {steps}]")
    measure = metric_functions({"measure": measure})["measure"]
    seed = validate.integer("seed", seed)
    on_divergence = validate.choice("on_divergence", on_divergence, ("record", "raise"))
    gen = torch.Generator().manual_seed(int(seed))
    dtype = next(model.parameters()).dtype
    device = params[0].device
    history = EnsembleHistory(K)            # only its divergence record is used
    watch = _DivergenceWatch(params, optimizer, K, steps, device, on_divergence, history)
    out: dict[str, list] = {}
    j = 0
    for step in progress_bar(range(steps + 1), desc=desc):
        if j < record.size and record[j] == step:
            watch.check(step)
            if watch.pending:                     # no graph is alive here: freeze the diverged members now
                watch._zero_frozen()
            values = watch.mask({name: torch.as_tensor(value).detach() for name, value in measure(model).items()})
            for name, value in values.items():   # a copy: a measured view of a parameter would follow the updates
                out.setdefault(name, []).append(value.cpu().numpy().copy())
            j += 1
        if step == steps:
            continue                              # the last record: no update after it (the bar completes)
        x, y = sample(batch, gen)
        if x.shape[:2] != (K, batch) or y.shape != (K, batch):
            raise ArgumentError(f"sample must return x of shape ({K}, {batch}, d) and y of shape ({K}, {batch}), "
                                f"got {tuple(x.shape)} and {tuple(y.shape)}")
        member_loss = cross_entropy_per_sample(model(x.to(dtype)), y).mean(1)
        watch.see(member_loss, step)
        loss = member_loss.sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        watch.before_step()
        optimizer.step()
        watch.after_step()
    watch.finish(steps)
    result = {name: np.stack(v) for name, v in out.items()}
    result["step"] = record
    result["diverged"], result["diverged_step"] = history.diverged.copy(), history.diverged_step.copy()
    return result
