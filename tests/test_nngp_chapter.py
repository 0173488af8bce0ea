"""The theory-vs-experiment checks of the chapter "Networks at initialisation: the Gaussian-process
limit" (book/03_wide_networks/01_nngp), at small sizes."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

import course_utils as cu
from course_utils.models.mlp import MLP, random_mlp_outputs
from course_utils.theory import kernels



def _draw(X, n_networks, seed, **arch):
    out = random_mlp_outputs(torch.as_tensor(X, dtype=torch.float32), n_networks,
                             generator=torch.Generator().manual_seed(seed), **arch)
    return out[..., 0].double().numpy()


def _kurtosis(f, axis=-1):
    return np.mean(f ** 4, axis=axis) / np.mean(f ** 2, axis=axis) ** 2 - 3


@pytest.mark.parametrize("depth", [1, 2])
def test_excess_kurtosis_of_relu_networks_falls_like_one_over_width(depth):
    x = np.array([[1.0, 0.5]])
    widths = np.array([4, 8, 16, 32])
    z, measured = [], []
    for n in widths:
        f = _draw(x, 40_000, 10 * depth + int(n), width=int(n), depth=depth, sigma_w=math.sqrt(2.0))[:, 0]
        k = _kurtosis(f)
        se = np.std(_kurtosis(f.reshape(20, -1)), ddof=1) / math.sqrt(20)
        measured.append(k)
        z.append((k - kernels.relu_excess_kurtosis(n, depth)) / se)
    assert np.max(np.abs(z)) < 4
    fit = cu.fit_power_law(widths, measured)
    fit_theory = cu.fit_power_law(widths, kernels.relu_excess_kurtosis(widths, depth))
    assert fit.alpha == pytest.approx(fit_theory.alpha, abs=0.15)


def test_covariance_of_wide_networks_is_the_kernel_up_to_sampling_noise():
    angles = np.linspace(0, np.pi, 6)
    X = math.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    K = kernels.nngp_kernel(X, depth=2, sigma_w2=2.0, sigma_b2=0.1)
    M_total, M = 8192, 256
    f = _draw(X, M_total, 1, width=64, depth=2, sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.1))
    blocks = f.reshape(M_total // M, M, -1)
    C = np.einsum("bmi,bmj->bij", blocks, blocks) / M
    measured = np.sqrt(np.mean(np.sum((C - K) ** 2, axis=(1, 2)))) / np.linalg.norm(K)
    d = np.diag(K)
    predicted = np.sqrt(np.sum(np.outer(d, d) + K ** 2) / M) / np.linalg.norm(K)
    cu.check_close("covariance error vs Gaussian sampling noise", measured, predicted, rtol=0.2)
    # a width-2 network has a different covariance: its bias is far above the sampling noise
    f2 = _draw(X, M_total, 2, width=2, depth=2, sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.1))
    bias = np.linalg.norm(f2.T @ f2 / M_total - K) / np.linalg.norm(K)
    assert bias > 3 * predicted * math.sqrt(M / M_total)


def _correlations(X, sw2, n_networks, width, depth, seed):
    """Correlation of two inputs' preactivations per layer (pooled over units and networks) and its jackknife
    standard error over the networks, as in the chapter."""
    _, pre = random_mlp_outputs(torch.tensor(X, dtype=torch.float32), n_networks, width=width, depth=depth,
                                activation="tanh", sigma_w=math.sqrt(sw2), sigma_b=math.sqrt(0.05),
                                generator=torch.Generator().manual_seed(seed), return_preactivations=True)
    h = torch.stack(pre).double()
    A, B, C = ((h[:, :, 0] * h[:, :, 1]).sum(-1).numpy(), (h[:, :, 0] ** 2).sum(-1).numpy(),
               (h[:, :, 1] ** 2).sum(-1).numpy())
    corr = A.sum(1) / np.sqrt(B.sum(1) * C.sum(1))
    loo = (A.sum(1, keepdims=True) - A) / np.sqrt((B.sum(1, keepdims=True) - B) * (C.sum(1, keepdims=True) - C))
    return corr, np.sqrt((n_networks - 1) * np.var(loo, axis=1))


@pytest.mark.parametrize("sw2", [1.0, 3.0])
def test_correlations_follow_the_correlation_map(sw2):
    X = np.array([[1.0, 0.0], [0.6, 0.8]])
    depth = 15
    c, se = _correlations(X, sw2, 128, 128, depth, 5)
    c_half, se_half = _correlations(X, sw2, 128, 64, depth, 6)
    Ks = kernels.nngp_kernel(X, depth=depth - 1, activation="tanh", sigma_w2=sw2, sigma_b2=0.05, return_layers=True)
    theory = np.array([K[0, 1] / math.sqrt(K[0, 0] * K[1, 1]) for K in Ks])
    # the 1/n extrapolation 2c(n) − c(n/2) is the infinite-width correlation, within 4 standard errors
    z = (2 * c - c_half - theory) / np.sqrt(4 * se ** 2 + se_half ** 2)
    assert np.max(np.abs(z)) < 4


def test_relu_variance_grows_by_sigma_w2_over_two_per_layer():
    x = np.array([[1.0, 0.0]])

    def growth(q):
        return math.exp(np.polyfit(np.arange(len(q)), np.log(q), 1)[0])

    for sw2 in (1.8, 2.2):
        _, pre = random_mlp_outputs(torch.tensor(x, dtype=torch.float32), 64, width=128, depth=20,
                                    sigma_w=math.sqrt(sw2), generator=torch.Generator().manual_seed(8),
                                    return_preactivations=True)
        per_network = torch.stack([(h.double() ** 2).mean((-2, -1)) for h in pre]).numpy()   # (layers, networks)
        M = per_network.shape[1]
        loo = [growth((per_network.sum(1) - per_network[:, m]) / (M - 1)) for m in range(M)]
        se = math.sqrt((M - 1) * np.var(loo))
        assert growth(per_network.mean(1)) == pytest.approx(sw2 / 2, abs=4 * se)


def test_gp_posterior_is_calibrated_on_teachers_from_the_prior():
    x = np.linspace(-3, 3, 121)[:, None]
    K = kernels.nngp_kernel(x, depth=2, sigma_w2=2.0, sigma_b2=0.5)
    teachers = _draw(x, 100, 3, width=500, depth=2, sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.5))
    rng = np.random.default_rng(0)
    inside = []
    for f in teachers:
        idx = rng.choice(len(x), 8, replace=False)
        rest = np.setdiff1d(np.arange(len(x)), idx)
        mean, var = kernels.gp_posterior(K[np.ix_(idx, idx)], K[:, idx], np.diag(K), f[idx] + 0.1 * rng.standard_normal(8),
                                         noise_var=0.01)
        inside.append(np.abs(f[rest] - mean[rest]) <= 2 * np.sqrt(var[rest]))
    assert np.mean(inside) == pytest.approx(2 * norm.cdf(2) - 1, abs=0.03)


def test_bayesian_readout_of_a_finite_network_approaches_the_nngp_posterior():
    x = np.linspace(-3, 3, 81)[:, None]
    idx = np.array([5, 20, 33, 47, 60, 71])
    y = np.sin(x[idx, 0])
    K = kernels.nngp_kernel(x, depth=2, sigma_w2=2.0, sigma_b2=0.5)
    target, _ = kernels.gp_posterior(K[np.ix_(idx, idx)], K[:, idx], np.diag(K), y, noise_var=0.01)
    widths, gaps, gaps_se = [32, 128, 512, 2048], [], []
    for n in widths:
        g = []
        for s in range(8):
            net = MLP(1, n, 2, sigma_b=math.sqrt(0.5), generator=torch.Generator().manual_seed(100 * s + n),
                      dtype=torch.float64)
            with torch.no_grad():
                _, pre = net(torch.as_tensor(x), return_preactivations=True)
            phi = torch.relu(pre[-2]).numpy()
            Kh = 0.5 + 2.0 * phi @ phi.T / n
            mean, _ = kernels.gp_posterior(Kh[np.ix_(idx, idx)], Kh[:, idx], np.diag(Kh), y, noise_var=0.01)
            g.append(np.linalg.norm(mean - target) / np.linalg.norm(target))
        gaps.append(np.mean(g))
        gaps_se.append(np.std(g, ddof=1) / math.sqrt(len(g)))
    # tolerance: 4 standard errors of the exponent, propagated from the spread of the networks at each width
    x = np.log(widths) - np.mean(np.log(widths))
    alpha_se = math.sqrt(np.sum(x ** 2 * (np.array(gaps_se) / np.array(gaps)) ** 2)) / np.sum(x ** 2)
    assert cu.fit_power_law(widths, gaps).alpha == pytest.approx(0.5, abs=4 * alpha_se)


def test_nngp_classifies_digits():
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(0).permutation(len(d.target))
    X, y = d.data[order].astype(float), d.target[order]
    X -= X.mean(axis=0)
    X *= math.sqrt(X.shape[1]) / np.linalg.norm(X, axis=1, keepdims=True)
    X, y = X[:900], y[:900]
    K = kernels.nngp_kernel(X, depth=2, sigma_w2=2.0, sigma_b2=0.1)
    n = 500
    mean, var = kernels.gp_posterior(K[:n, :n], K[n:, :n], np.diag(K)[n:], np.eye(10)[y[:n]] - 0.1,
                                     noise_var=0.01 * np.mean(np.diag(K)))
    assert np.mean(mean.argmax(1) == y[n:]) > 0.95


def test_exercise_checkers(capsys):
    from scipy.optimize import brentq

    from course_utils.exercises import wide_networks as ex

    crit = brentq(lambda s: float(kernels.chi1(activation="tanh", sigma_w2=s, sigma_b2=0.1)) - 1, 1.0, 4.0)
    assert ex.check_critical_sigma_w2(crit)
    assert not ex.check_critical_sigma_w2(crit * 1.05)
    assert "chaotic" in capsys.readouterr().out
    assert ex.check_critical_sigma_w2("big") is False                         # a verdict, not a traceback
    assert "number" in capsys.readouterr().out
    assert ex.check_one_layer_kurtosis(15.0, activation="relu")
    assert not ex.check_one_layer_kurtosis(3.0, activation="erf")


def _square_gradients(X, sw2, sb2, n_networks, width, depth, seed):
    """‖∂f/∂f^ℓ‖² per hidden layer of random tanh networks (layers, networks), by the chapter's hand-written backprop."""
    gen = torch.Generator().manual_seed(seed)
    h = torch.tensor(X, dtype=torch.float32).T.unsqueeze(0).expand(n_networks, -1, -1)
    sizes = [X.shape[1]] + [width] * depth + [1]
    weights, pre = [], []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = torch.randn(n_networks, b, a, generator=gen) * math.sqrt(sw2 / a)
        z = torch.baddbmm(torch.randn(n_networks, b, 1, generator=gen) * math.sqrt(sb2), W, h)
        weights.append(W)
        if i < depth:
            pre.append(z)
            h = torch.tanh(z)
    delta, out = weights[-1].transpose(1, 2).expand(-1, -1, X.shape[0]), [None] * depth
    for layer in range(depth - 1, -1, -1):
        delta = delta * (1 - torch.tanh(pre[layer]) ** 2)
        out[layer] = (delta.double() ** 2).sum(1).mean(-1)
        if layer > 0:
            delta = torch.bmm(weights[layer].transpose(1, 2), delta)
    return torch.stack(out).numpy()


@pytest.mark.parametrize("sw2", [1.0, 3.0])
def test_squared_gradient_grows_by_chi1_per_layer(sw2):
    X = np.array([[1.0, 0.0], [0.6, 0.8]])

    def growth(g):
        return math.exp(-np.polyfit(np.arange(len(g)), np.log(g), 1)[0])

    fits = []
    for width, seed in ((64, 1), (32, 2)):
        g = _square_gradients(X, sw2, 0.05, 128, width, 15, seed)[4:]
        M = g.shape[1]
        loo = [growth((g.sum(1) - g[:, m]) / (M - 1)) for m in range(M)]
        fits.append((growth(g.mean(1)), math.sqrt((M - 1) * np.var(loo))))
    (g_n, se_n), (g_half, se_half) = fits
    chi = float(kernels.chi1(activation="tanh", sigma_w2=sw2, sigma_b2=0.05))
    # the 1/n extrapolation 2g(n) − g(n/2) is χ₁ within 4 standard errors; and the phases are told apart
    assert 2 * g_n - g_half == pytest.approx(chi, abs=4 * math.sqrt(4 * se_n ** 2 + se_half ** 2))
    assert (g_n > 1) == (chi > 1)


def test_covariance_bias_falls_like_one_over_width_and_spares_the_relu_diagonal():
    angles = np.linspace(0, np.pi, 5)
    X = math.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    K = kernels.nngp_kernel(X, depth=2, sigma_w2=2.0, sigma_b2=0.1)
    widths, far, far_se = np.array([8, 16, 32]), [], []
    for n in widths:
        _, pre = random_mlp_outputs(torch.tensor(X, dtype=torch.float32), 8192, width=int(n), depth=2,
                                    sigma_w=math.sqrt(2.0), sigma_b=math.sqrt(0.1),
                                    generator=torch.Generator().manual_seed(int(n)), return_preactivations=True)
        phi = torch.relu(pre[-1]).double()
        K_hat = (0.1 + 2.0 * torch.einsum("mia,mja->mij", phi, phi) / n).numpy()
        d = K_hat[:, 0, -1] - K[0, -1]
        far.append(-d.mean())
        far_se.append(d.std(ddof=1) / math.sqrt(len(d)))
        diag = np.mean(np.diagonal(K_hat, axis1=1, axis2=2) - np.diag(K), axis=1)
        assert abs(diag.mean()) < 4 * diag.std(ddof=1) / math.sqrt(len(diag))
    far, far_se = np.array(far), np.array(far_se)
    x = np.log(widths) - np.log(widths).mean()
    alpha_se = math.sqrt(np.sum(x ** 2 * (far_se / far) ** 2)) / np.sum(x ** 2)
    assert cu.fit_power_law(widths, far).alpha == pytest.approx(1.0, abs=4 * alpha_se)
