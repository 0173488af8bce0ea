"""The four scaling regimes measured on trained networks: what the chapter
"Variance- or resolution-limited? The four scaling regimes of a trained network"
(book/06_scaling/05_regimes_in_networks) needs beyond the rest of the course.

* :func:`kernel_momentum_dynamics` — the exact trajectory of an infinitely wide (linearised) network
  trained by full-batch gradient descent **with heavy-ball momentum** (``torch.optim.SGD`` with
  ``momentum``): the infinite-width limit L_∞ that the width sweeps are compared with, at the same
  step as the networks;
* :func:`train_centred` — train a :class:`~course_utils.theory.ntk_ensemble.BatchedNTKMLP` ensemble
  as the *centred* networks f(x; θ) − f(x; θ₀) (their infinite-width limit is kernel regression with
  no random initial function added), with :func:`course_utils.ensemble.train_ensemble`;
* :func:`one_hidden_layer`, :func:`member_parameters`, :func:`loss_gradient_hessian`,
  :func:`newton_polish` — a one-hidden-layer network as a function of its flat parameter vector, and
  Newton's method to converge a small network (tens to a few hundred parameters) to a minimum of its
  training loss to machine precision, which first-order training cannot do in a few seconds;
* :func:`asymptotic_excess_coefficient` — the variance-limited coefficient c in L(D) − L(∞) ≈ c/D of a
  misspecified nonlinear least-squares fit, c = ½ tr(𝓗⁺𝓖) (the "sandwich" of M-estimation).

The fits of the chapter use :func:`course_utils.fits.fit_power_law`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .. import validate
from ..validate import flag
from ..ensemble import BatchedSGD, mse_per_sample, train_ensemble

__all__ = ["kernel_momentum_dynamics", "train_centred", "one_hidden_layer", "member_parameters",
           "network_jacobian", "loss_gradient_hessian", "newton_polish", "asymptotic_excess_coefficient", "fit_inverse_width"]


# ----------------------------------------------------------------------------------------------
# The infinite-width limit under gradient descent with momentum
# ----------------------------------------------------------------------------------------------

def kernel_momentum_dynamics(Theta_train, Theta_cross, y_train, steps: int, *, lr: float,
                             momentum: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Predictions of a model with a fixed tangent kernel Θ after ``steps`` steps of heavy-ball GD.

    The loss is L = ½ Σ_μ (f(x_μ) − y_μ)² and the optimiser is ``torch.optim.SGD(lr=η, momentum=β)``:
    b_t = β b_(t−1) + ∇L (b_0 = ∇L at the first step), θ_(t+1) = θ_t − η b_t. For a model linear in
    its parameters, started at f = 0 (a centred network), every update lies in the span of the
    gradients, so f = Θ(·, X) a with dual coefficients a, and

        g_t = Θ a_t − y,   B_t = β B_(t−1) + g_t,   a_(t+1) = a_t − η B_t,             (eq-regnet-momentum)

    which in the eigenbasis of Θ(X, X) is one scalar recursion per mode. As t → ∞ (when
    η λ_max < 2(1 + β)) it converges to ridgeless kernel regression, Θ(x, X) Θ⁻¹ y, on the modes with
    λ > 0, for any β: momentum changes how fast, not where. With β = 0 it is
    :func:`course_utils.theory.kernels.kernel_regression_dynamics` (``discrete=True``).

    For the mean squared error (1/N) Σ (f − y)² with step ``lr_mse`` pass η = 2 lr_mse / N.
    Returns ``(f_train (N,), f_test (P,))`` after ``steps`` steps.
    """
    Theta_train = validate.array("Theta_train", Theta_train)
    Theta_cross = np.atleast_2d(validate.array("Theta_cross", Theta_cross, allow_empty=True))
    y = validate.array("y_train", y_train).reshape(-1)
    n = y.size
    if Theta_train.shape != (n, n) or Theta_cross.ndim != 2 or Theta_cross.shape[1] != n:
        raise ValueError(f"shapes do not fit: Theta_train {Theta_train.shape} must be ({n}, {n}) and "
                         f"Theta_cross {Theta_cross.shape} must have {n} columns")
    validate.positive("lr", lr)
    validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    validate.nonnegative_int("steps", steps)
    lam, V = np.linalg.eigh((Theta_train + Theta_train.T) / 2)
    lam = np.clip(lam, 0.0, None)
    if lr * lam.max() >= 2 * (1 + momentum):
        raise ValueError(f"the step is unstable: η λ_max = {lr * lam.max():.3g} must be below 2(1 + β) = "
                         f"{2 * (1 + momentum):.3g}")
    yk = V.T @ y
    a = np.zeros(n)          # dual coefficients in the eigenbasis
    B = np.zeros(n)
    for t in range(int(steps)):
        g = lam * a - yk
        B = g if t == 0 else momentum * B + g
        a = a - lr * B
    coef = V @ a
    return Theta_train @ coef, Theta_cross @ coef


# ----------------------------------------------------------------------------------------------
# Centred networks in the NTK parameterisation
# ----------------------------------------------------------------------------------------------

def train_centred(net: torch.nn.Module, X, y, X_test, *, steps: int, lr: float, momentum: float = 0.0,
                  scale: float = 1.0, desc: str = "centred networks", progress: bool = True) -> dict:
    """Train the K members of ``net`` as centred networks α[f(x; θ) − f(x; θ₀)] on (X, y); full batch.

    The centred network starts at exactly 0, so its infinite-width limit trained on the mean squared
    error is kernel regression with the NTK (:func:`kernel_momentum_dynamics`), without the random
    initial function f(·; θ₀) of the plain network. Training f − f₀ on y is training f on the
    member's own targets y + f₀(X) (the gradients are the same), which is how it is done here: one
    call of :func:`course_utils.ensemble.train_ensemble` with per-member targets, loss
    :func:`~course_utils.ensemble.mse_per_sample` (1/N) Σ (f − y)², optimiser
    :class:`~course_utils.ensemble.BatchedSGD` (``lr``, ``momentum``).

    The output scale α (``scale``, Chizat, Oyallon & Bach's lazy training) makes the network lazy at
    any width: the loss (α(f − f₀) − y)² = α² (f − (f₀ + y/α))², so the parameters move by O(1/α) to fit
    the data and the nonlinear corrections to the linearised model vanish as α grows, while the
    function-space dynamics (step η on the loss of α(f − f₀)) is unchanged: the network is trained on
    the targets f₀ + y/α with the step ``lr`` unchanged (a step η on (1/N) Σ (f − f₀ − y/α)² moves α(f − f₀)
    exactly as a step η α²/α² = η on the loss of the scaled network with step η/α², the convention
    of lazy training that keeps the function-space dynamics fixed).

    ``X`` (N, d), ``y`` (N,), ``X_test`` (M, d) tensors. Returns a dict with ``test`` (K, M), the
    centred predictions α(f − f₀) at X_test after training, ``train_loss`` (K,), the final training loss, and
    ``history`` (the :class:`~course_utils.ensemble.EnsembleHistory`).
    """
    K = getattr(net, "n_members", None)
    if K is None:
        raise ValueError("net must be a batched model with an n_members attribute (e.g. BatchedNTKMLP)")
    dtype = next(net.parameters()).dtype
    dims = validate.Dims()
    X = validate.tensor("X", X, shape=("N", "d"), dims=dims, dtype=dtype)
    y = validate.tensor("y", y, shape=("N",), dims=dims, dtype=None if isinstance(y, torch.Tensor) else dtype)
    X_test = validate.tensor("X_test", X_test, shape=("M", "d"), dims=dims, dtype=dtype)
    steps = validate.nonnegative_int("steps", steps)
    if np.any(validate.array("lr", lr, ndim=(0, 1)) <= 0):
        raise validate.ArgumentError(f"lr (the learning rate) must be positive, got {lr!r}")
    validate.real("momentum", momentum, low=0.0, high=1.0, high_open=True)
    progress = flag("progress", progress)
    with torch.no_grad():
        f0_train = net(X)[..., 0]
        f0_test = net(X_test)[..., 0]
    scale = validate.positive("scale", scale)
    target = (y[None, :] / scale + f0_train)[..., None]
    opt = BatchedSGD(net.parameters(), lr=lr, momentum=momentum)
    hist = train_ensemble(net, mse_per_sample, X.expand(K, *X.shape), target, per_member_data=True, steps=steps,
                          optimizer=opt, record_steps=[0, steps], desc=desc, progress=progress)
    with torch.no_grad():
        test = scale * (net(X_test)[..., 0] - f0_test)
    if hist.diverged.any():                  # diverged members are frozen at zero: their predictions are NaN
        test[torch.from_numpy(hist.diverged).to(test.device)] = float("nan")
    return dict(test=test, train_loss=scale ** 2 * hist["loss"][-1], history=hist)


# ----------------------------------------------------------------------------------------------
# Small networks as functions of a flat parameter vector; Newton's method
# ----------------------------------------------------------------------------------------------

def one_hidden_layer(theta: torch.Tensor, X: torch.Tensor, width: int, *, sigma_w: float = math.sqrt(2.0),
                     sigma_b: float = 0.0) -> torch.Tensor:
    """The one-hidden-layer ReLU network of :class:`~course_utils.theory.ntk_ensemble.BatchedNTKMLP`
    (depth 1, one output) as a function of its flat parameter vector θ = (V⁰, β⁰, V¹, β¹):

        f(x) = σ_b β¹ + (σ_w/√n) Σ_j V¹_j relu(σ_b β⁰_j + (σ_w/√d) Σ_i x_i V⁰_ij),

    with V⁰ of shape (d, n) stored row by row, then β⁰ (n), V¹ (n), β¹ (1): (d + 2) n + 1 numbers.
    ``X`` (N, d) → f (N,). NumPy arrays are converted; ``X`` is converted to the dtype of θ.
    """
    theta, X, n = _network_arguments(theta, X, width, sigma_w, sigma_b)
    N, d = X.shape
    V0 = theta[: d * n].view(d, n)
    b0 = theta[d * n: (d + 1) * n]
    V1 = theta[(d + 1) * n: (d + 2) * n]
    b1 = theta[-1]
    h = torch.relu(sigma_b * b0 + (sigma_w / math.sqrt(d)) * X @ V0)
    return sigma_b * b1 + (sigma_w / math.sqrt(n)) * h @ V1


def _network_arguments(theta, X, width, sigma_w, sigma_b) -> tuple[torch.Tensor, torch.Tensor, int]:
    """θ and X as tensors of one dtype (θ's), the width as an int, checked to agree: θ has (d + 2)·width + 1
    entries for X of shape (N, d)."""
    theta = validate.tensor("theta", theta, ndim=1)
    if not theta.is_floating_point():
        theta = theta.to(torch.get_default_dtype())
    X = validate.tensor("X", X, dtype=theta.dtype, ndim=2)
    n = validate.positive_int("width", width)
    validate.real("sigma_w", sigma_w)
    validate.real("sigma_b", sigma_b)
    d = X.shape[1]
    if theta.shape != ((d + 2) * n + 1,):
        raise ValueError(f"theta must have (d + 2)·width + 1 = {(d + 2) * n + 1} entries for d = {d}, "
                         f"width = {n}; got shape {tuple(theta.shape)}")
    return theta, X, n


def member_parameters(net: torch.nn.Module, k: int) -> torch.Tensor:
    """Member k of a one-hidden-layer :class:`~course_utils.theory.ntk_ensemble.BatchedNTKMLP` with one
    output, as the flat float64 vector θ of :func:`one_hidden_layer`."""
    if not all(hasattr(net, a) for a in ("V", "beta", "sizes", "n_members")):
        raise validate.ArgumentError(f"net must be a BatchedNTKMLP (with V, beta, sizes and n_members), "
                                     f"got {validate.show(net)}")
    if len(net.V) != 2 or net.sizes[-1] != 1:
        raise ValueError(f"need a network with one hidden layer and one output, got sizes {net.sizes}")
    k = validate.integer(f"k (the member index, in [0, {net.n_members}))", k, low=0, high=net.n_members - 1)
    with torch.no_grad():
        parts = [net.V[0][k].reshape(-1), net.beta[0][k, 0], net.V[1][k, :, 0], net.beta[1][k, 0]]
        return torch.cat([p.double() for p in parts])


def network_jacobian(theta: torch.Tensor, X: torch.Tensor, width: int, *, sigma_w: float = math.sqrt(2.0),
                     sigma_b: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The outputs f (N,) of :func:`one_hidden_layer` and their Jacobian J = ∂f/∂θ (N, P), in closed form.

    With z = σ_b β⁰ + (σ_w/√d) X V⁰, h = relu(z), m = 1[z > 0] and c = σ_w/√n:
    ∂f/∂V⁰_ij = c V¹_j m_j (σ_w/√d) x_i,  ∂f/∂β⁰_j = c V¹_j m_j σ_b,  ∂f/∂V¹_j = c h_j,  ∂f/∂β¹ = σ_b.
    (Memory O(N P), where automatic differentiation row by row would need O(N² n).)
    """
    theta, X, n = _network_arguments(theta, X, width, sigma_w, sigma_b)
    N, d = X.shape
    V0 = theta[: d * n].view(d, n)
    b0 = theta[d * n: (d + 1) * n]
    V1 = theta[(d + 1) * n: (d + 2) * n]
    c = sigma_w / math.sqrt(n)
    z = sigma_b * b0 + (sigma_w / math.sqrt(d)) * X @ V0
    h, m = torch.relu(z), (z > 0).to(X.dtype)
    f = sigma_b * theta[-1] + c * h @ V1
    back = c * V1 * m                                            # (N, n): ∂f/∂z
    J = torch.cat([((sigma_w / math.sqrt(d)) * X[:, :, None] * back[:, None, :]).reshape(N, d * n),
                   sigma_b * back, c * h, torch.full((N, 1), sigma_b, dtype=X.dtype)], dim=1)
    return f, J


def loss_gradient_hessian(theta: torch.Tensor, X: torch.Tensor, y: torch.Tensor, width: int, *,
                          sigma_w: float = math.sqrt(2.0), sigma_b: float = 0.0, need_g: bool = False):
    """The loss L(θ) = (1/N) Σ_μ (f(x_μ; θ) − y_μ)² of :func:`one_hidden_layer`, its gradient and
    its Hessian 𝓗 = ∇²L = (2/N) Σ_μ [∇f ∇fᵀ + (f − y) ∇²f], exactly (ReLU has φ'' = 0 away from its
    kink, so ∇²f has only the blocks ∂²f/∂V¹_j ∂(V⁰_ij, β⁰_j) = (σ_w/√n) m_j ((σ_w/√d) x_i, σ_b)).

    With ``need_g`` also 𝓖 = (4/N) Σ_μ (f − y)² ∇f ∇fᵀ, the covariance of the per-sample gradients
    ∇(f − y)² at a minimum (where their mean is zero), for :func:`asymptotic_excess_coefficient`.
    Returns ``(L, grad, H)`` or ``(L, grad, H, G)`` (float64 tensors).
    """
    theta, X, y = _float64_problem(theta, X, y)
    N, d = X.shape
    n = validate.positive_int("width", width)
    need_g = flag("need_g", need_g)
    f, J = network_jacobian(theta, X, n, sigma_w=sigma_w, sigma_b=sigma_b)
    r = f - y
    L = torch.mean(r ** 2)
    grad = 2.0 * J.T @ r / N
    H = 2.0 * J.T @ J / N
    # the residual term Σ_μ r_μ ∇²f_μ: only the V¹_j × (V⁰_·j, β⁰_j) blocks
    z = sigma_b * theta[d * n: (d + 1) * n] + (sigma_w / math.sqrt(d)) * X @ theta[: d * n].view(d, n)
    m = (z > 0).to(X.dtype)
    c = sigma_w / math.sqrt(n)
    cross_V0 = c * (sigma_w / math.sqrt(d)) * (X * r[:, None]).T @ m      # (d, n): Σ_μ r x_i m_j
    cross_b0 = c * sigma_b * (r @ m)                                      # (n,)
    R = torch.zeros_like(H)
    iV1 = (d + 1) * n + torch.arange(n)
    iV0 = (torch.arange(d)[:, None] * n + torch.arange(n)[None, :])       # index of V⁰_ij
    R[iV0, iV1[None, :].expand(d, n)] = cross_V0
    R[d * n + torch.arange(n), iV1] = cross_b0
    H = H + 2.0 * (R + R.T) / N
    if not need_g:
        return L, grad, H
    G = 4.0 * (J * (r ** 2)[:, None]).T @ J / N
    return L, grad, H, G


def _float64_problem(theta, X, y) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """θ (P,), X (N, d) and y (N,) as float64 tensors (NumPy arrays and lists converted), y checked
    to have one target per row of X."""
    dims = validate.Dims()
    theta = validate.tensor("theta", theta, dtype=torch.float64, ndim=1).detach()
    X = validate.tensor("X", X, dtype=torch.float64, shape=("N", "d"), dims=dims)
    y = validate.tensor("y", y, dtype=torch.float64, shape=("N",), dims=dims)
    return theta, X, y


def newton_polish(theta, X, y, width: int, *, sigma_w: float = math.sqrt(2.0), sigma_b: float = 0.0,
                  dtol: float = 1e-10, max_iter: int = 50) -> dict:
    """Converge a one-hidden-layer network to a minimum of its training loss by damped Newton steps.

    From θ (e.g. the end of a first-order training run) iterate θ ← θ − Σ_k (u_k·∇L)/(|λ_k| + μ) u_k over
    the eigenpairs (λ_k, u_k) of the exact Hessian of :func:`loss_gradient_hessian` (|λ| gives a descent
    direction where 𝓗 is not positive; the damping μ makes the step safe along the flat directions of
    a ReLU network, such as scaling a unit's input weights and bias by a > 0 and its output weight by
    1/a). μ is divided by 10 after a step that lowers the loss and multiplied by 10 (and the step
    retried) after one that does not: Levenberg–Marquardt damping, which ends as plain Newton steps
    with quadratic convergence. Stops when the Newton decrement δ = ½ ∇Lᵀ|𝓗|⁻¹∇L, the decrease of the
    loss that one more full Newton step predicts (how far above its minimum the loss still is, where
    the loss is locally quadratic), is below ``dtol`` × L, or after ``max_iter`` iterations.

    A ReLU network's loss is only piecewise smooth: its gradient jumps by O(1/N) where a sample crosses
    a unit's kink, and a minimum can sit on such a kink, where Newton steps stall with a small but
    non-zero δ (of order 1e-6 L in the chapter). Check ``decrement`` against the precision you need.

    Returns a dict: ``theta`` (the polished parameters), ``loss``, ``grad_norm``, ``decrement`` (δ/L at
    the end), ``iterations`` and ``converged`` (δ ≤ ``dtol`` L).
    """
    validate.positive("dtol", dtol)
    validate.positive_int("max_iter", max_iter)
    theta, X, y = _float64_problem(theta, X, y)
    theta = theta.clone()
    _network_arguments(theta, X, width, sigma_w, sigma_b)

    def loss_at(t):
        with torch.no_grad():
            return float(torch.mean((one_hidden_layer(t, X, width, sigma_w=sigma_w, sigma_b=sigma_b) - y) ** 2))

    def decrement(g, H):
        lam, U = torch.linalg.eigh((H + H.T) / 2)
        lam = lam.abs()
        keep = lam > 1e-12 * lam.max()
        gk = U.T @ g
        return float(0.5 * torch.sum(gk[keep] ** 2 / lam[keep])), lam, U, gk

    L, g, H = loss_gradient_hessian(theta, X, y, width, sigma_w=sigma_w, sigma_b=sigma_b)
    dec, lam, U, gk = decrement(g, H)
    it, mu = 0, None
    while dec > dtol * float(L) and it < max_iter:
        mu = 1e-6 * float(lam.max()) if mu is None else mu
        for _ in range(30):
            trial = theta - U @ (gk / (lam + mu))
            L_trial = loss_at(trial)
            if L_trial <= float(L):
                mu = mu / 10
                break
            mu = mu * 10
        else:
            break                              # no decrease even with a tiny step: stop here
        theta = trial
        L, g, H = loss_gradient_hessian(theta, X, y, width, sigma_w=sigma_w, sigma_b=sigma_b)
        dec, lam, U, gk = decrement(g, H)
        it += 1
    relative = dec / float(L) if float(L) > 0 else 0.0     # an exact fit (L = 0) has δ = 0: nothing to polish
    return dict(theta=theta, loss=float(L), grad_norm=float(g.norm()), decrement=relative, iterations=it,
                converged=dec <= dtol * float(L))


def asymptotic_excess_coefficient(H, G, *, rcond: float = 1e-9) -> float:
    """The coefficient c of the variance-limited law E[L(θ̂_D)] − L(θ*) ≈ c / D, c = ½ tr(𝓗⁺ 𝓖).

    θ* minimises the population loss L(θ) = E (f(x; θ) − y)², θ̂_D the loss on D samples (the
    minimum near θ*). Expanding the empirical gradient around θ*, θ̂_D − θ* ≈ −𝓗⁻¹ ∇L_D(θ*), whose
    covariance is 𝓗⁻¹𝓖𝓗⁻¹/D with 𝓖 the covariance of one sample's gradient ∇(f − y)²; and
    L(θ̂_D) − L(θ*) ≈ ½ (θ̂_D − θ*)ᵀ 𝓗 (θ̂_D − θ*). So

        E[L(θ̂_D) − L(θ*)] ≈ tr(𝓗⁻¹𝓖) / (2D).                                         (eq-regnet-sandwich)

    For linear least squares with noise of variance σ² independent of the P features,
    𝓗 = 2Σ and 𝓖 = 4σ²Σ, and c = Pσ²: the law L_∞ P / D of the random-feature model. The inverse is
    a pseudo-inverse on the eigenvalues of 𝓗 above ``rcond`` times the largest (flat directions of
    the loss, such as the rescaling symmetry of ReLU units, carry no gradient noise either).
    """
    H = validate.array("H", H, finite=False, allow_empty=True)
    G = validate.array("G", G, finite=False, allow_empty=True)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or G.shape != H.shape or H.size == 0:
        raise ValueError(f"H and G must be square matrices of the same shape, got {H.shape} and {G.shape}")
    if not (np.all(np.isfinite(H)) and np.all(np.isfinite(G))):
        raise ValueError("H and G must be finite")
    validate.nonnegative("rcond", rcond)
    lam, U = np.linalg.eigh((H + H.T) / 2)
    keep = lam > rcond * np.abs(lam).max()
    Gk = U[:, keep].T @ ((G + G.T) / 2) @ U[:, keep]
    return float(0.5 * np.sum(np.diag(Gk) / lam[keep]))


def fit_inverse_width(width, loss, stderr) -> dict:
    """Weighted least-squares fit of L(w) = L_∞ + c / w (linear in 1/w), weights 1/stderr².

    Returns ``limit`` (L_∞), ``limit_stderr``, ``coefficient`` (c) and ``coefficient_stderr``, the
    standard errors from the weights (the measured standard errors of the mean losses), not rescaled
    by the residuals. Used to extrapolate a width sweep to infinite width and compare the fitted
    L_∞ with the exact kernel limit. (Kept here until it moves to :mod:`course_utils.fits`.)
    """
    w = validate.array("width", width, finite=False, allow_empty=True).ravel()
    L = validate.array("loss", loss, finite=False, allow_empty=True).ravel()
    se = validate.array("stderr", stderr, finite=False, allow_empty=True).ravel()
    if not (w.shape == L.shape == se.shape) or w.size < 3:
        raise ValueError(f"width, loss and stderr must have the same length ≥ 3, got {w.size}, {L.size}, {se.size}")
    if not (np.all(w > 0) and np.all(se > 0) and np.all(np.isfinite(w)) and np.all(np.isfinite(se))
            and np.all(np.isfinite(L))):
        raise ValueError("widths and standard errors must be positive and the losses finite (width > 0, "
                         "stderr > 0, loss finite)")
    if np.unique(w).size < 2:
        raise validate.ArgumentError("width needs at least two different widths to separate L_∞ from c/w")
    A = np.stack([np.ones_like(w), 1.0 / w], axis=1) / se[:, None]
    cov = np.linalg.inv(A.T @ A)
    coef = cov @ A.T @ (L / se)
    return dict(limit=float(coef[0]), limit_stderr=float(np.sqrt(cov[0, 0])),
                coefficient=float(coef[1]), coefficient_stderr=float(np.sqrt(cov[1, 1])))
