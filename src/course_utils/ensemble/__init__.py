"""Batched ensembles: train hundreds of small models of the same architecture as one computation.

Phase diagrams, width / init-scale sweeps and error bars over seeds need many small trainings.
Here the K models ("members") are one model whose parameters have a leading member axis, so a
training step is a handful of batched matmuls instead of K Python loops:

- :mod:`~course_utils.ensemble.layers`   :class:`BatchedLinear`, :class:`BatchedMLP` (and :func:`mlp`,
  the single network that is each member), :func:`per_member` hyperparameters. The parameterisation
  (standard / NTK / mean-field, σ_w, σ_b) is an argument, as for the single
  :class:`course_utils.models.mlp.MLP`: with ``init="gaussian"`` member k *is* the MLP drawn from seed k
  (``BatchedMLP.from_members`` stacks MLPs, ``member(k)`` hands one back);
- :mod:`~course_utils.ensemble.optim`    :class:`BatchedSGD`, :class:`BatchedAdam`, :class:`BatchedAdamW`
  with per-member learning rates and weight decays in every parameter group, no shared state;
- :mod:`~course_utils.ensemble.training` :func:`train_ensemble` (per-member seeds, data subsets,
  minibatches, history at chosen steps, early exit, progress bar; CPU or CUDA) and the per-sample
  losses, :func:`accuracy`, :func:`first_step_reaching` and :func:`first_step_crossing` (steps to a threshold);
- :mod:`~course_utils.ensemble.grid`     :class:`Grid` (a sweep as members) and :class:`LabelledArray`
  (per-member results back on the grid, ready for a phase diagram).

Each member follows the trajectory it would follow trained alone with the same seed and
hyperparameters (to floating-point rounding), and members never see each other's data,
gradients, optimiser state or random numbers: ``tests/test_ensemble.py`` checks both.
The toy grokking model in both forms is :mod:`course_utils.models.grokking`. Timings on the
course's 2-core CPU: ``benchmarks/README.md``.

Example: 3 seeds × 4 widths are not one ensemble (widths differ), but 3 seeds × 4 init scales are::

    grid = Grid(init_scale=[0.5, 1, 2, 4], seed=range(3))
    model = BatchedMLP(grid.size, [2, 64, 1], "relu", init_scale=grid["init_scale"], seeds=grid["seed"])
    opt = BatchedSGD(model.parameters(), lr=0.02)
    hist = train_ensemble(model, mse_per_sample, X, y, steps=1000, optimizer=opt)
    final = grid.to_array(hist["loss"][-1], name="final loss").mean("seed")
"""

from .grid import Grid, LabelledArray
from .layers import BatchedLinear, BatchedMLP, make_activation, mlp, per_member
from .optim import BatchedAdam, BatchedAdamW, BatchedSGD
from .training import (EnsembleHistory, accuracy, cross_entropy_per_sample, first_step_crossing, first_step_reaching,
                       mse_per_sample, train_ensemble)

__all__ = [
    "Grid", "LabelledArray",
    "BatchedLinear", "BatchedMLP", "make_activation", "mlp", "per_member",
    "BatchedAdam", "BatchedAdamW", "BatchedSGD",
    "EnsembleHistory", "accuracy", "cross_entropy_per_sample", "first_step_crossing", "first_step_reaching",
    "mse_per_sample", "train_ensemble",
]
