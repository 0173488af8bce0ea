"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.regimes_networks.

train_centred against a hand-written training loop (plain autograd and the heavy-ball rule of torch.optim.SGD
on the centred targets), its progress bar, its per-member learning rates and diverged members; newton_polish's
stopping rule (inclusive, relative to the loss) on a problem with dyadic numbers where every float is exact,
its defaults and its dead-network case; the ReLU kink convention of the Jacobian and Hessian; the relative
cut-off of asymptotic_excess_coefficient; kernel_momentum_dynamics on column targets, negative eigenvalues
and the exact stability edge.

Found: newton_polish raises ZeroDivisionError when the start fits the data exactly (L = 0; the test marked
xfail below).

Equivalent mutants left (each on a line with other, non-equivalent mutants, so no pragma):

- kernel_momentum_dynamics ``B = np.zeros(n)`` -> ``B = None`` (mutmut_95): the first step (t == 0) sets
  B = g, the initial value is never read; and ``B = g if t == 0 else ...`` -> ``... if (t == 0) and False``
  (mutmut_103): with B = 0 initially, β·0 + g = g at t = 0, the same buffer.
- kernel_momentum_dynamics ``reshape(-1)`` -> ``reshape(-2)`` (mutmut_31): NumPy treats any negative size as
  the one unknown dimension.
- train_centred ``per_member_data=True`` dropped / False (mutmut_155, _164): full batch with no sample
  weights, the (K, N, d) data then count K "samples" along axis 0 that equal the member count, and the
  forward pass, the loss and the gradients are the same.
- train_centred ``.to(test.device)`` -> ``.to(None)`` (mutmut_172): ``tensor.to(None)`` returns the tensor
  unchanged (the mask already lives on the CPU with the data).
- network_jacobian ``(z > 0).to(X.dtype)`` -> ``.to(None)`` (mutmut_43): the mask stays boolean, and
  c·V¹·m promotes it to θ's float dtype: the same numbers.
- _float64_problem ``ndim=1`` of θ dropped / None (mutmut_6, _10): every caller then passes θ to
  _network_arguments, whose own ``validate.tensor("theta", ..., ndim=1)`` raises the same error.
- ``finite=False`` -> ``finite=None`` (asymptotic_excess_coefficient mutmut_5, _18; fit_inverse_width
  mutmut_4, _17, _30): validate.array only tests ``if finite``, None and False are the same.
- newton_polish, not killed and not equivalent, left: the Levenberg–Marquardt details ``mu = 1e-6 * λ_max``
  -> ``1e-6 / λ_max`` (mutmut_95), ``mu / 10`` -> ``mu / 11`` (mutmut_111) change the path, not the minimum;
  the eigenvalue cut ``lam > 1e-12 * lam.max()`` -> ``1e-12 / lam.max()`` (mutmut_57) needs eigenvalues
  between the two cuts; ``range(30)`` -> ``range(31)`` and ``break`` -> ``return`` in the for-else
  (mutmut_100, _116) need 30 rejected steps in a row, which a finite loss never gives (with μ grown 1e30-fold
  the trial step is below rounding and the loss is equal, which is accepted).
- train_centred ``dtype=None if isinstance(y, Tensor) else dtype`` -> always ``dtype`` (mutmut_54): only the
  rounding of y / α of a tensor y whose dtype is not the network's changes (the mutant rounds once less);
  not a behaviour worth pinning.
"""

import copy

import numpy as np
import pytest
import torch

from course_utils.theory import ntk_ensemble as ens
from course_utils.theory import regimes_networks as rn
from course_utils.validate import ArgumentError

# ----------------------------------------------------------------------------------------------
# train_centred
# ----------------------------------------------------------------------------------------------

K, D, WIDTH, N, M = 3, 2, 6, 5, 4


def _net(seed=0, dtype=torch.float64, **kw):
    return ens.BatchedNTKMLP(K, D, WIDTH, 1, activation="tanh", sigma_w=1.3, sigma_b=0.4,
                             seeds=range(seed, seed + K), dtype=dtype, **kw)


def _data(seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.standard_normal(N), rng.standard_normal((M, D))


def _by_hand(net, X, y, Xt, *, steps, lr, momentum=0.0, scale=1.0):
    """The centred networks α(f − f₀) trained by hand: full-batch GD with heavy-ball momentum (b₀ = g,
    b ← βb + g, θ ← θ − η_k b, torch.optim.SGD's rule) on member k's loss (1/N) Σ (f − f₀ − y/α)².
    Returns (test (K, M), train loss α²·(1/N) Σ (f − f₀ − y/α)² after the last step)."""
    net = copy.deepcopy(net)
    X, y, Xt = (torch.as_tensor(a, dtype=torch.float64) for a in (X, y, Xt))
    lr = torch.as_tensor(lr, dtype=torch.float64).reshape(-1, 1, 1) * torch.ones(K, 1, 1, dtype=torch.float64)
    with torch.no_grad():
        f0, f0t = net(X)[..., 0], net(Xt)[..., 0]
    params = list(net.parameters())
    bufs = [None] * len(params)

    def losses():
        return ((net(X)[..., 0] - f0 - y / scale) ** 2).mean(dim=1)     # (K,)

    for _ in range(steps):
        grads = torch.autograd.grad(losses().sum(), params)              # members are independent
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(params, grads)):
                bufs[i] = g.clone() if bufs[i] is None else momentum * bufs[i] + g
                p -= lr * bufs[i]
    with torch.no_grad():
        return scale * (net(Xt)[..., 0] - f0t), scale ** 2 * losses()


def test_train_centred_is_gradient_descent_with_momentum_on_the_centred_targets():
    """α(f − f₀) after 7 steps with β = 0.6, α = 3, and the final training loss α²·MSE, against the loop by
    hand. Both are float64 computations of the same updates in a different order: agreement to 1e-10
    (rounding ~1e-15 per step, 7 steps of a smooth tanh network)."""
    X, y, Xt = _data()
    net = _net()
    want_test, want_loss = _by_hand(net, X, y, Xt, steps=7, lr=0.2, momentum=0.6, scale=3.0)
    out = rn.train_centred(copy.deepcopy(net), torch.tensor(X), torch.tensor(y), torch.tensor(Xt), steps=7,
                           lr=0.2, momentum=0.6, scale=3.0, progress=False)
    np.testing.assert_allclose(out["test"].numpy(), want_test.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["train_loss"], want_loss.numpy(), rtol=1e-10, atol=1e-14)
    # momentum matters here: without it the result is far from this one
    plain, _ = _by_hand(net, X, y, Xt, steps=7, lr=0.2, momentum=0.0, scale=3.0)
    assert float((plain - want_test).abs().max()) > 1e-3
    # the history records the loss at step 0 and at the end only; at step 0 the centred network is 0, so
    # its loss is (1/N) Σ (y/α)² (before α² is put back): mean(y²)/9
    hist = out["history"]
    assert list(hist["step"]) == [0, 7]
    np.testing.assert_allclose(hist["loss"][0], np.full(K, np.mean(y ** 2) / 9), rtol=1e-12)
    np.testing.assert_allclose(out["train_loss"], 9 * hist["loss"][-1], rtol=1e-12)


def test_train_centred_default_scale_is_one_and_numpy_float64_targets_are_not_rounded():
    """Without ``scale`` the output is α = 1's; y given as a NumPy float64 array (not a tensor) is used
    in the network's dtype (float64), not rounded to float32 (which would move the result by ~1e-8)."""
    X, y, Xt = _data(2)
    y = y + 0.1                                                   # not representable in float32
    net = _net(5)
    want_test, want_loss = _by_hand(net, X, y, Xt, steps=4, lr=0.3, momentum=0.3, scale=1.0)
    out = rn.train_centred(copy.deepcopy(net), X, y, Xt, steps=4, lr=0.3, momentum=0.3, progress=False)
    np.testing.assert_allclose(out["test"].numpy(), want_test.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(out["train_loss"], want_loss.numpy(), rtol=1e-11)


def test_train_centred_per_member_learning_rates_and_a_diverged_member():
    """A learning rate per member (shape (K,)) trains each member with its own step; a member whose step
    is far beyond the stability edge diverges, and its predictions are NaN while the others are those of
    the loop by hand (same 1e-10 tolerance as above)."""
    X, y, Xt = _data(3)
    net = _net(9)
    lr = np.array([0.1, 0.25, 0.4])
    want_test, _ = _by_hand(net, X, y, Xt, steps=5, lr=lr, scale=2.0)
    out = rn.train_centred(copy.deepcopy(net), X, y, Xt, steps=5, lr=lr, scale=2.0, progress=False)
    np.testing.assert_allclose(out["test"].numpy(), want_test.numpy(), rtol=1e-10, atol=1e-12)
    with np.errstate(all="ignore"):
        bad = rn.train_centred(copy.deepcopy(net), X, y, Xt, steps=30, lr=np.array([0.1, 1e30, 0.1]),
                               scale=2.0, progress=False)
    assert bool(torch.isnan(bad["test"][1]).all())
    assert bool(torch.isfinite(bad["test"][[0, 2]]).all())
    assert list(bad["history"].diverged) == [False, True, False]
    ok, _ = _by_hand(net, X, y, Xt, steps=30, lr=np.array([0.1, 0.0, 0.1]), scale=2.0)
    np.testing.assert_allclose(bad["test"][[0, 2]].numpy(), ok[[0, 2]].numpy(), rtol=1e-9, atol=1e-12)


def test_train_centred_shows_a_progress_bar_with_its_label_unless_told_not_to(capsys, monkeypatch):
    """progress=True (the default) shows the bar labelled ``desc`` (default "centred networks") on stderr;
    progress=False shows nothing. (COURSE_PROGRESS=text: tqdm's text bar, written to sys.stderr.)"""
    monkeypatch.setenv("COURSE_PROGRESS", "text")
    X, y, Xt = _data(4)
    rn.train_centred(_net(), X, y, Xt, steps=2, lr=0.1)
    assert "centred networks" in capsys.readouterr().err
    rn.train_centred(_net(), X, y, Xt, steps=2, lr=0.1, desc="my sweep")
    err = capsys.readouterr().err
    assert "my sweep" in err and "centred networks" not in err
    rn.train_centred(_net(), X, y, Xt, steps=2, lr=0.1, progress=False)
    assert capsys.readouterr().err == ""


def test_train_centred_refuses_bad_arguments_by_name():
    """Each check names its argument: a model without members, complex inputs (not converted to the
    network's real dtype), y of the wrong length, a matrix of learning rates, a zero learning rate."""
    X, y, Xt = _data(5)
    net = _net()
    with pytest.raises(ValueError, match="n_members"):
        rn.train_centred(torch.nn.Linear(2, 1), X, y, Xt, steps=1, lr=0.1, progress=False)
    Xc = torch.tensor(X, dtype=torch.complex128)
    with pytest.raises(ArgumentError, match="^X must"):
        rn.train_centred(net, Xc, y, Xt, steps=1, lr=0.1, progress=False)
    with pytest.raises(ArgumentError, match="^X_test must"):
        rn.train_centred(net, X, y, torch.tensor(Xt, dtype=torch.complex128), steps=1, lr=0.1, progress=False)
    with pytest.raises(ArgumentError, match="^X must"):
        rn.train_centred(net, "abc", y, Xt, steps=1, lr=0.1, progress=False)
    with pytest.raises(ArgumentError, match="^y"):
        rn.train_centred(net, X, y[:-1], Xt, steps=1, lr=0.1, progress=False)
    with pytest.raises(ArgumentError, match="^lr"):
        rn.train_centred(net, X, y, Xt, steps=1, lr=np.full((K, 1), 0.1), progress=False)
    with pytest.raises(ArgumentError, match=r"^lr \(the learning rate\) must be positive"):
        rn.train_centred(net, X, y, Xt, steps=1, lr=0.0, progress=False)


# ----------------------------------------------------------------------------------------------
# newton_polish
# ----------------------------------------------------------------------------------------------

def _dyadic_problem():
    """d = 1, width 4, σ_w = 2 (so σ_w/√d = 2 and σ_w/√n = 1), σ_b = ½, dyadic inputs and parameters: every
    output is computed exactly, and y = f − r with r = ±2 gives a training loss of exactly 4."""
    theta = torch.tensor([1.0, -0.5, 0.75, -1.25,          # V⁰ (1, 4)
                          0.5, 0.25, -0.5, 1.0,            # β⁰
                          0.75, -1.0, 0.5, 1.5,            # V¹
                          0.25], dtype=torch.float64)      # β¹
    X = torch.tensor([[-1.5], [-0.75], [0.25], [0.5], [1.0], [1.75]], dtype=torch.float64)
    f = rn.one_hidden_layer(theta, X, 4, sigma_w=2.0, sigma_b=0.5)
    y = f - torch.tensor([2.0, -2.0, 2.0, -2.0, 2.0, -2.0], dtype=torch.float64)
    return theta, X, y


def test_newton_polish_stopping_rule_is_inclusive_and_relative_to_the_loss():
    """Converged means δ ≤ dtol·L (the docstring's rule, with the loss L = 4 here, exactly). With dtol set
    to the start's own δ/L (δ/4 and 4·(δ/4) = δ are exact in binary), the start already satisfies the
    rule: no step is taken and it reports converged; with half that dtol it is not converged at the start."""
    theta, X, y = _dyadic_problem()
    L, _, _ = rn.loss_gradient_hessian(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5)
    assert float(L) == 4.0
    start = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5, dtol=1e12)   # reports δ/L, no step
    rel = start["decrement"]
    assert start["iterations"] == 0 and rel > 0
    same = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5, dtol=rel)
    assert same["iterations"] == 0 and same["converged"] and same["decrement"] == rel
    assert torch.equal(same["theta"], theta)
    one = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5, dtol=rel / 2, max_iter=1)
    assert one["iterations"] == 1 and one["loss"] < 4.0


def test_newton_polish_flags_convergence_by_the_reported_relative_decrement():
    """``converged`` is ``decrement ≤ dtol`` for the reported δ/L, whatever the size of L (here L ≫ 1:
    targets of size 30). After one step, choose dtol just above and just below the reported δ/L."""
    theta, X, y = _dyadic_problem()
    y = 15 * y
    one = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5, dtol=1e-300, max_iter=1)
    assert one["iterations"] == 1 and one["loss"] > 10
    rel = one["decrement"]
    up = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5, dtol=rel * 1.01, max_iter=1)
    down = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5, dtol=rel * 0.99, max_iter=1)
    assert up["converged"] and not down["converged"]
    assert torch.equal(up["theta"], one["theta"]) and torch.equal(down["theta"], one["theta"])


def _relu_problem(seed=0, N=24, d=2, n=3):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, d, dtype=torch.float64, generator=g)
    y = torch.sin(2 * X[:, 0]) + 0.3 * X[:, 1]
    theta = torch.randn((d + 2) * n + 1, dtype=torch.float64, generator=g)
    return theta, X, y, n


def test_newton_polish_from_its_own_minimum_takes_no_step():
    """Polished to δ ≤ 1e-10 L with σ_b = 0.7, a second polish from that point is already converged: no
    iteration, θ unchanged (its first δ is the one of the same loss, σ_b included)."""
    theta, X, y, n = _relu_problem(1)
    first = rn.newton_polish(theta, X, y, n, sigma_w=1.5, sigma_b=0.7)
    assert first["converged"]
    again = rn.newton_polish(first["theta"], X, y, n, sigma_w=1.5, sigma_b=0.7)
    assert again["iterations"] == 0 and again["converged"] and torch.equal(again["theta"], first["theta"])


def test_newton_polish_default_has_no_biases_and_converges_despite_the_flat_directions():
    """With the default σ_b = 0 the biases do not enter f: their gradient is exactly 0, so they do not move
    (up to rounding in the eigenvectors of 𝓗, measured ~2e-11: 1e-9), the Hessian is singular (zero rows), and the damped steps on
    its non-zero eigenvalues still converge (δ ≤ 1e-10 L). The loss reported is the σ_b = 0 loss."""
    theta, X, y, n = _relu_problem(4)           # a start that converges in 8 steps (others stall on kinks)
    d = X.shape[1]
    out = rn.newton_polish(theta, X, y, n, sigma_w=1.5)
    assert out["converged"] and out["decrement"] <= 1e-10
    t = out["theta"]
    np.testing.assert_allclose(t[d * n:(d + 1) * n].numpy(), theta[d * n:(d + 1) * n].numpy(), atol=1e-9)
    assert float(t[-1]) == pytest.approx(float(theta[-1]), abs=1e-9)
    f = rn.one_hidden_layer(t, X, n, sigma_w=1.5, sigma_b=0.0)
    assert out["loss"] == pytest.approx(float(torch.mean((f - y) ** 2)), rel=1e-12)


def test_newton_polish_stops_after_fifty_iterations_by_default():
    """max_iter defaults to 50: with an unreachable tolerance (1e-300 of the loss) it stops there."""
    theta, X, y, n = _relu_problem(3, N=12)
    out = rn.newton_polish(theta, X, y, n, sigma_w=1.5, sigma_b=0.5, dtol=1e-300)
    assert out["iterations"] == 50 and not out["converged"]


def test_newton_polish_of_a_dead_network_is_converged_at_once():
    """Every ReLU unit off on every sample, σ_b = 0: f ≡ 0, ∇L = 0 and 𝓗 = 0 exactly. The Newton decrement
    is 0 (no direction predicts a decrease), so it reports converged without a step, decrement 0."""
    X = torch.tensor([[1.0], [2.0], [0.5]], dtype=torch.float64)
    y = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64)
    theta = torch.tensor([-1.0, -2.0, 0.3, -0.4, 0.7, 0.2, 0.9], dtype=torch.float64)   # d = 1, n = 2
    out = rn.newton_polish(theta, X, y, 2)
    assert out["iterations"] == 0 and out["converged"] and out["decrement"] == 0.0
    assert out["loss"] == pytest.approx(float(torch.mean(y ** 2)))
    assert torch.equal(out["theta"], theta)


def test_newton_polish_of_an_exact_fit_takes_no_step():
    """y = f(θ) exactly (dyadic numbers): L = 0, ∇L = 0, δ = 0, nothing to polish. It should return θ with
    loss 0, converged, no iteration (decrement 0 by convention, not 0/0)."""
    theta, X, _ = _dyadic_problem()
    y = rn.one_hidden_layer(theta, X, 4, sigma_w=2.0, sigma_b=0.5)
    out = rn.newton_polish(theta, X, y, 4, sigma_w=2.0, sigma_b=0.5)
    assert out["loss"] == 0.0 and out["iterations"] == 0 and out["converged"]
    assert torch.equal(out["theta"], theta)


# ----------------------------------------------------------------------------------------------
# one_hidden_layer, network_jacobian, loss_gradient_hessian, member_parameters
# ----------------------------------------------------------------------------------------------

def _kink_point():
    """d = 2, n = 3; sample 0 is x = 0 and β⁰ = (0, 0.4, 0): units 0 and 2 sit exactly on the kink z = 0."""
    theta = torch.tensor([0.5, -0.3, 0.8, -0.6, 0.2, 0.9,     # V⁰ (2, 3)
                          0.0, 0.4, 0.0,                      # β⁰
                          1.1, -0.7, 0.6,                     # V¹
                          0.3], dtype=torch.float64)          # β¹
    X = torch.tensor([[0.0, 0.0], [1.0, 0.5], [-0.4, 1.2], [0.7, -0.9]], dtype=torch.float64)
    y = torch.tensor([0.2, -0.5, 0.9, 0.1], dtype=torch.float64)
    return theta, X, y


def test_jacobian_and_hessian_use_relu_derivative_zero_at_the_kink_as_autograd():
    """At z = 0 exactly, relu'(0) = 0 (torch's convention, and the mask 1[z > 0] of the docstring): the closed
    forms equal autograd's Jacobian of one_hidden_layer and Hessian of the loss there (float64, 1e-12)."""
    theta, X, y = _kink_point()
    sw, sb = 1.3, 0.6
    f, J = rn.network_jacobian(theta, X, 3, sigma_w=sw, sigma_b=sb)
    J_auto = torch.autograd.functional.jacobian(lambda t: rn.one_hidden_layer(t, X, 3, sigma_w=sw, sigma_b=sb), theta)
    np.testing.assert_allclose(J.numpy(), J_auto.numpy(), atol=1e-12)
    L, g, H = rn.loss_gradient_hessian(theta, X, y, 3, sigma_w=sw, sigma_b=sb)
    H_auto = torch.autograd.functional.hessian(
        lambda t: torch.mean((rn.one_hidden_layer(t, X, 3, sigma_w=sw, sigma_b=sb) - y) ** 2), theta)
    np.testing.assert_allclose(H.numpy(), H_auto.numpy(), atol=1e-12)


def test_default_sigma_b_is_zero_and_the_bias_column_is_sigma_b_in_float64():
    """Without σ_b the biases do not enter (the default σ_b = 0): f, J and the loss are those of σ_b = 0 given
    explicitly; the ∂f/∂β¹ column is σ_b = 0.1 in float64 (not rounded through float32, ~1.5e-9 off)."""
    theta, X, y = _kink_point()
    f0, J0 = rn.network_jacobian(theta, X, 3, sigma_w=1.3, sigma_b=0.0)
    f, J = rn.network_jacobian(theta, X, 3, sigma_w=1.3)
    np.testing.assert_allclose(J.numpy(), J0.numpy(), atol=1e-15)
    assert not J[:, -1].any()
    moved = theta.clone()
    moved[6:9] += 5.0
    moved[-1] += 5.0                                          # only biases change
    np.testing.assert_allclose(rn.one_hidden_layer(moved, X, 3, sigma_w=1.3).numpy(), f0.numpy(), atol=1e-15)
    L, g, H = rn.loss_gradient_hessian(theta, X, y, 3, sigma_w=1.3)
    assert float(L) == pytest.approx(float(torch.mean((f0 - y) ** 2)), rel=1e-14)
    assert not g[6:9].any() and float(g[-1]) == 0.0
    _, J1 = rn.network_jacobian(theta, X, 3, sigma_w=1.3, sigma_b=0.1)
    np.testing.assert_allclose(J1[:, -1].numpy(), np.full(4, 0.1), rtol=1e-15)


def test_numpy_targets_are_used_in_float64():
    """y as a NumPy float64 array (or a list) gives the loss of the float64 tensor, to 1e-13 (float32
    rounding of y = 0.1 + … would change the loss by ~1e-8 relative)."""
    theta, X, y = _kink_point()
    y = y + 0.1
    L_t, g_t, _ = rn.loss_gradient_hessian(theta, X, y, 3, sigma_w=1.3, sigma_b=0.6)
    for yy in (y.numpy(), y.tolist()):
        L, g, _ = rn.loss_gradient_hessian(theta, X, yy, 3, sigma_w=1.3, sigma_b=0.6)
        assert float(L) == pytest.approx(float(L_t), rel=1e-13)
        np.testing.assert_allclose(g.numpy(), g_t.numpy(), rtol=1e-12, atol=1e-15)


def test_theta_must_be_a_vector_and_member_parameters_needs_one_output():
    """A θ of shape (P, 1) is refused by the argument check (ArgumentError on θ's dimensions), not by the
    later count of its entries; a network with two outputs is refused by member_parameters."""
    theta, X, _ = _kink_point()
    with pytest.raises(ArgumentError, match="theta"):
        rn.one_hidden_layer(theta[:, None], X, 3)
    with pytest.raises(ArgumentError, match="theta"):
        rn.network_jacobian(theta[None, :], X, 3)
    net = ens.BatchedNTKMLP(2, 2, 3, 1, d_out=2, activation="relu", dtype=torch.float64)
    with pytest.raises(ValueError, match="one hidden layer and one output"):
        rn.member_parameters(net, 0)


# ----------------------------------------------------------------------------------------------
# asymptotic_excess_coefficient, kernel_momentum_dynamics
# ----------------------------------------------------------------------------------------------

def test_asymptotic_excess_coefficient_cut_is_relative_and_excludes_exact_zeros():
    """c = ½ tr(𝓗⁺𝓖) on the eigenvalues above rcond·λ_max: with 𝓗 = diag(1e3, 1e-8) and the default
    rcond = 1e-9 the second is below 1e-6 and dropped (c = ½·4/1e3); with rcond = 0 an exactly zero
    eigenvalue is still not inverted (c = ½·4/2)."""
    G = np.diag([4.0, 1.0])
    assert rn.asymptotic_excess_coefficient(np.diag([1e3, 1e-8]), G) == pytest.approx(2e-3, rel=1e-12)
    assert rn.asymptotic_excess_coefficient(np.diag([2.0, 0.0]), G, rcond=0.0) == pytest.approx(1.0, rel=1e-12)


def test_kernel_momentum_dynamics_column_targets_negative_eigenvalues_and_the_edge():
    """y of shape (N, 1) is the same as (N,); a negative eigenvalue of Θ (rounding of a kernel) is treated as
    0: that mode is flat and its coefficient grows by η y each step (β = 0), so f = λ_true·(t η y) there,
    while the positive mode follows a_t = (1 − (1 − ηλ)^t) y/λ; at ηλ_max = 2(1 + β) exactly the step is
    refused (a mode that neither grows nor decays). Diagonal Θ: eigh is exact."""
    Th = np.diag([2.0, -0.5])
    Thc = np.array([[1.0, 1.0]])
    y = np.array([1.0, 3.0])
    lr, t = 0.25, 6
    f_tr, f_te = rn.kernel_momentum_dynamics(Th, Thc, y, t, lr=lr)
    a = np.array([(1 - (1 - lr * 2.0) ** t) * 1.0 / 2.0, t * lr * 3.0])
    np.testing.assert_allclose(f_tr, Th @ a, rtol=1e-12)
    np.testing.assert_allclose(f_te, Thc @ a, rtol=1e-12)
    g_tr, g_te = rn.kernel_momentum_dynamics(Th, Thc, y[:, None], t, lr=lr)
    np.testing.assert_allclose(g_tr, f_tr, rtol=1e-14)
    np.testing.assert_allclose(g_te, f_te, rtol=1e-14)
    with pytest.raises(ValueError, match="unstable"):
        rn.kernel_momentum_dynamics(np.diag([6.0, 1.0]), Thc, y, 3, lr=0.5, momentum=0.5)   # 0.5·6 = 2·1.5
    rn.kernel_momentum_dynamics(np.diag([6.0, 1.0]), Thc, y, 3, lr=0.49, momentum=0.5)
