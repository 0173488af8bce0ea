"""Linear models on fixed features, as PyTorch modules that :func:`course_utils.train` trains.

* :class:`LinearModel`        f(x) = θ·x: linear regression on the given features;
* :class:`RandomFeatureModel` f(x) = θ·φ(x) with φ(x) = ReLU(F x/√d) and a frozen random F:
  a two-layer network whose first layer is never trained (Rahimi & Recht);
* :func:`half_mse`            the loss L = (1/2N) Σ (f − y)², whose gradient flow Chapter 1 solves;
* :func:`ridge_test_errors`   the experiment behind the ridge/min-norm theory: fit in closed form
  on many fresh Gaussian data sets (batched) and return each fit's exact test error.

Both models start from θ = 0 by default, the initialisation under which gradient descent
converges to the minimum-norm solution (Chapter 1, §3).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .. import validate
from ..data.synthetic import gaussian_features, linear_teacher
from ..theory.linear import population_test_error, ridge_solution
from ..validate import ArgumentError
from ..validate import float_dtype, model_input

__all__ = ["LinearModel", "RandomFeatureModel", "half_mse", "ridge_test_errors"]


def half_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L = (1/2N) Σ_μ (f_μ − y_μ)²: half the mean squared error, so that ∇L = Σ̂θ − Xᵀy/N.

    ``target`` is converted to the prediction's dtype and device (NumPy arrays too). Entries are
    not checked for NaN (this runs at every training step; a diverging run shows up in the loss).
    """
    if not isinstance(prediction, torch.Tensor) or not prediction.is_floating_point():
        prediction = validate.tensor("prediction", prediction, finite=False, allow_empty=True)
        if not prediction.is_floating_point():
            prediction = prediction.to(torch.get_default_dtype())
    if not (isinstance(target, torch.Tensor) and target.dtype == prediction.dtype
            and target.device == prediction.device):
        target = validate.tensor("target", target, dtype=prediction.dtype, device_=prediction.device,
                                 finite=False, allow_empty=True)
    if prediction.shape != target.shape:
        raise ArgumentError(f"prediction has shape {tuple(prediction.shape)} but the target "
                         f"{tuple(target.shape)}: they must match")
    return 0.5 * torch.mean((prediction - target) ** 2)


class LinearModel(nn.Module):
    """f(x) = θ·x with trainable θ ∈ R^D (no bias); x of shape (N, D) gives f of shape (N,).

    ``theta0`` (a length-D array or tensor) sets the initial weights; the default is θ = 0.
    """

    def __init__(self, n_features: int, theta0=None, dtype: torch.dtype = torch.float64):
        super().__init__()
        n_features = validate.positive_int("n_features", n_features)
        dtype = float_dtype("dtype", dtype, allow_none=False)
        if theta0 is None:
            theta = torch.zeros(n_features, dtype=dtype)
        else:
            theta = validate.tensor("theta0", theta0, dtype=dtype, allow_empty=True).clone()
        if theta.shape != (n_features,):
            raise ArgumentError(f"theta0 must have shape ({n_features},), got {tuple(theta.shape)}")
        self.theta = nn.Parameter(theta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f = x·θ for x of shape (…, D); NumPy or float32 inputs are converted to θ's dtype."""
        x = model_input("x", x, self.theta.dtype, self.theta.device, ndim=None)
        if x.dim() == 0 or x.shape[-1] != self.theta.shape[0]:
            raise ArgumentError(f"x has {x.shape[-1] if x.dim() else 0} features but the model expects "
                                f"{self.theta.shape[0]}")
        return x @ self.theta

    def weights(self) -> np.ndarray:
        """θ as a NumPy array (a copy), for comparisons with the closed-form theory."""
        return self.theta.detach().cpu().numpy().copy()


class RandomFeatureModel(nn.Module):
    """f(x) = θ·φ(x), φ(x) = ReLU(F x / √d), with F ∈ R^(P×d) frozen and only θ ∈ R^P trained.

    ``weights`` (P × d) fixes F, e.g. from :func:`course_utils.data.synthetic.random_feature_weights`;
    the features are then exactly :func:`course_utils.data.synthetic.random_relu_features`.
    """

    def __init__(self, weights, theta0=None, dtype: torch.dtype = torch.float64):
        super().__init__()
        dtype = float_dtype("dtype", dtype, allow_none=False)
        if isinstance(weights, torch.Tensor):
            weights = weights.detach().cpu()
        F = validate.tensor("weights", weights, dtype=dtype)
        if F.ndim != 2:
            raise ArgumentError(f"weights must be a (P, d) matrix, got shape {tuple(F.shape)}")
        self.register_buffer("F", F)  # a buffer: moves with .to(device), never trained
        self.readout = LinearModel(F.shape[0], theta0=theta0, dtype=dtype)

    @property
    def n_features(self) -> int:
        return self.F.shape[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """φ(x) = ReLU(F x / √d), shape (N, P)."""
        x = model_input("x", x, self.F.dtype, self.F.device)
        if x.dim() == 0 or x.shape[-1] != self.F.shape[1]:
            raise ArgumentError(f"x has dimension {x.shape[-1]} but the features expect {self.F.shape[1]}")
        return torch.relu(x @ self.F.T / math.sqrt(self.F.shape[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.readout(self.features(x))

    def weights(self) -> np.ndarray:
        """The trained readout θ as a NumPy array."""
        return self.readout.weights()


def ridge_test_errors(spectrum, w_star, noise: float, n: int, rng: np.random.Generator, *,
                      ridge=0.0, draws: int = 100, seen: int | None = None,
                      max_batch_entries: int = 2_000_000) -> np.ndarray:
    """Test errors of ridge regression (min-norm interpolation for ``ridge = 0``) on ``draws`` data sets.

    Each draw: N samples x ~ N(0, diag(spectrum)), labels y = x·w* + σξ
    (:mod:`course_utils.data.synthetic`), the fit of :func:`course_utils.theory.linear.ridge_solution`
    on the first ``seen`` features (all by default; the model simply leaves out the others), and
    its exact test error (θ − w*)ᵀΣ(θ − w*) + σ², with θ = 0 on the unseen features.
    ``ridge`` may be a list: every ridge is then fitted to the same draws (shape (len(ridge), draws));
    otherwise the shape is (draws,). Draws are made in batches of at most ``max_batch_entries``
    numbers of X.
    """
    dims = validate.Dims()
    lam = validate.array("spectrum", spectrum, shape=("D",), dims=dims)
    if np.any(lam < 0):
        raise ArgumentError("spectrum must hold non-negative variances")
    validate.array("w_star", w_star, shape=("D",), dims=dims)
    validate.nonnegative("noise", noise)
    n = validate.positive_int("n", n)
    rng = validate.generator("rng", rng)
    ridges = np.atleast_1d(validate.array("ridge", ridge, ndim=(0, 1)))
    if np.any(ridges < 0):
        raise ArgumentError(f"ridge must be ≥ 0 (0 is the min-norm interpolator), got {ridges.tolist()}")
    D = lam.size
    seen = D if seen is None else validate.integer("seen", seen, low=1, high=D)
    draws = validate.positive_int("draws", draws)
    max_batch_entries = validate.positive_int("max_batch_entries", max_batch_entries)
    batch = max(1, min(draws, max_batch_entries // (n * D)))
    errors = []
    for start in range(0, draws, batch):
        b = min(batch, draws - start)
        X = gaussian_features(n, lam, rng, batch=(b,))
        y = linear_teacher(X, w_star, noise, rng)
        theta = np.zeros((ridges.size, b, D))
        for j, rho in enumerate(ridges):
            theta[j, :, :seen] = ridge_solution(X[..., :seen], y, rho)
        errors.append(population_test_error(theta, w_star, lam, noise))
    errors = np.concatenate(errors, axis=1)
    return errors if np.ndim(ridge) else errors[0]
