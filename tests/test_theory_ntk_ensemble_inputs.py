"""theory.ntk_ensemble: bad arguments end in a clear error naming the argument; the formulas against
independent computations (explicit gradient-descent loops, matrix inverses, a known kurtosis)."""

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.models.mlp import MLP
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as ne
from course_utils.validate import ArgumentError

NAN = float("nan")
Z = np.random.default_rng(0).standard_normal((6, 2))
TH = kernels.ntk_kernel(Z, depth=1)
KK = kernels.nngp_kernel(Z, depth=1)
TR, TE = slice(0, 4), slice(4, 6)
Y = np.array([1.0, -0.5, 0.3, 0.8])


def _moments(**over):
    kw = dict(Theta_train=TH[TR, TR], Theta_cross=TH[TE, TR], K_train=KK[TR, TR], K_cross=KK[TE, TR],
              K_test=KK[TE, TE], y=Y, t=5, lr=0.1)
    kw.update(over)
    return lambda: ne.ntk_ensemble_moments(**kw)


BAD = [
    ("Theta_train", lambda: ne.response_matrix(np.ones((3, 2)), np.ones((2, 3)), 5, lr=0.1)),
    ("Theta_train", lambda: ne.response_matrix(np.full((2, 2), NAN), np.ones((1, 2)), 5, lr=0.1)),
    ("Theta_train", lambda: ne.response_matrix("T", np.ones((1, 2)), 5, lr=0.1)),
    ("Theta_cross", lambda: ne.response_matrix(np.eye(2), np.ones((1, 3)), 5, lr=0.1)),
    ("lr", lambda: ne.response_matrix(np.eye(2), np.ones((1, 2)), 5, lr=NAN)),
    ("lr", lambda: ne.response_matrix(np.eye(2), np.ones((1, 2)), 5, lr="0.1")),
    ("t", lambda: ne.response_matrix(np.eye(2), np.ones((1, 2)), -1, lr=0.1)),
    ("t", lambda: ne.response_matrix(np.eye(2), np.ones((1, 2)), NAN, lr=0.1)),
    ("t", lambda: ne.response_matrix(np.eye(2), np.ones((1, 2)), [1, 2], lr=0.1)),
    ("whole number", lambda: ne.response_matrix(np.eye(2), np.ones((1, 2)), 1.5, lr=1.5)),
    ("K_train", _moments(K_train=KK[:3, :3])),
    ("K_test", _moments(K_test=KK[:3, :3])),
    ("K_cross", _moments(K_cross=KK[TE, :3])),
    ("y", _moments(y=Y[:3])),
    ("y", _moments(y=[1.0, NAN, 0.0, 0.0])),
    ("K_train", lambda: ne.nngp_posterior(KK[:3, :2], KK[TE, TR], KK[TE, TE], Y)),
    ("K_cross", lambda: ne.nngp_posterior(KK[TR, TR], KK[TE, :3], KK[TE, TE], Y)),
    ("K_test", lambda: ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[:3, :3], Y)),
    ("y", lambda: ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y[:2])),
    ("noise_var", lambda: ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, noise_var=NAN)),
    ("jitter", lambda: ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, jitter=-1.0)),
    ("singular", lambda: ne.nngp_posterior(np.zeros((2, 2)), np.ones((1, 2)), np.ones((1, 1)), [1.0, 2.0])),
    ("n_members", lambda: ne.BatchedNTKMLP(0, 2, 4, 1)),
    ("d_in", lambda: ne.BatchedNTKMLP(2, 2.5, 4, 1)),
    ("width", lambda: ne.BatchedNTKMLP(2, 2, None, 1)),
    ("depth", lambda: ne.BatchedNTKMLP(2, 2, 4, -1)),
    ("d_out", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, d_out=0)),
    ("activation", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, activation=torch.tanh)),
    ("sigma_w", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, sigma_w=NAN)),
    ("sigma_b", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, sigma_b=-1.0)),
    ("seeds", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, seeds=3)),
    ("seeds[1]", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, seeds=[1, 2.5])),
    ("dtype", lambda: ne.BatchedNTKMLP(2, 2, 4, 1, dtype=torch.int64)),
    ("shape", lambda: ne.BatchedNTKMLP(2, 2, 4, 1)(torch.ones(3, 3))),
    ("shape", lambda: ne.BatchedNTKMLP(2, 2, 4, 1)(torch.ones(3, 5, 2))),
    ("x", lambda: ne.BatchedNTKMLP(2, 2, 4, 1)("x")),
    ("x", lambda: ne.BatchedNTKMLP(2, 2, 4, 1)(torch.full((3, 2), NAN))),
    ("samples", lambda: ne.excess_kurtosis(np.ones((3, 2)))),
    ("samples", lambda: ne.excess_kurtosis([1.0, 2.0, NAN, 3.0, 4.0])),
    ("axis", lambda: ne.excess_kurtosis(np.random.default_rng(0).standard_normal((5, 2)), axis=2)),
    ("constant", lambda: ne.excess_kurtosis(np.ones((5, 2)))),
    ("g", lambda: ne.ensemble_discrepancy(np.ones((5, 3)), np.ones((5, 2)), np.eye(3))),
    ("cov_inf", lambda: ne.ensemble_discrepancy(np.ones((5, 3)), np.ones((5, 3)), np.eye(2))),
    ("M ≥ 4", lambda: ne.ensemble_discrepancy(np.ones((3, 3)), np.ones((3, 3)), np.eye(3))),
    ("f", lambda: ne.ensemble_discrepancy(np.full((5, 3), NAN), np.ones((5, 3)), np.eye(3))),
    ("n_boot", lambda: ne.ensemble_discrepancy(np.ones((5, 3)), np.ones((5, 3)), np.eye(3), n_boot=5)),
    ("seed", lambda: ne.ensemble_discrepancy(np.ones((5, 3)), np.ones((5, 3)), np.eye(3), seed=-1)),
    ("cov_inf", lambda: ne.ensemble_discrepancy(np.ones((5, 3)), np.ones((5, 3)), np.zeros((3, 3)))),
]


@pytest.mark.parametrize("needle, call", BAD, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD)])
def test_bad_arguments_raise_a_clear_error(needle, call):
    with pytest.raises(ValueError) as info:
        call()
    # the argument's name as a word of the message (not inside another word: "n" is not found in "None")
    assert re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", str(info.value)), str(info.value)
    assert isinstance(info.value, ArgumentError)


def test_response_matrix_against_explicit_gradient_descent():
    """Train the linearised model f = f₀ + Θ-dynamics by hand: f_t(x) − f₀(x) = −A_t (f₀(X) − y)."""
    rng = np.random.default_rng(1)
    f0, g0 = rng.standard_normal(4), rng.standard_normal(2)
    lr, steps = 0.4, 7
    f, g = f0.copy(), g0.copy()
    for _ in range(steps):
        r = f - Y
        f, g = f - lr * TH[TR, TR] @ r, g - lr * TH[TE, TR] @ r
    A = ne.response_matrix(TH[TR, TR], TH[TE, TR], steps, lr=lr)
    assert g == pytest.approx(g0 - A @ (f0 - Y), rel=1e-10)
    A_train = ne.response_matrix(TH[TR, TR], TH[TR, TR], steps, lr=lr)
    assert f == pytest.approx(f0 - A_train @ (f0 - Y), rel=1e-10)
    # gradient flow: A = Θ(x, X) Θ⁻¹ (I − e^{−ηΘt}) by the matrix exponential
    from scipy.linalg import expm
    Af = ne.response_matrix(TH[TR, TR], TH[TE, TR], 2.5, lr=lr, discrete=False)
    ref = TH[TE, TR] @ np.linalg.solve(TH[TR, TR], np.eye(4) - expm(-lr * TH[TR, TR] * 2.5))
    assert Af == pytest.approx(ref, rel=1e-8)
    # t = 0: no response; a zero eigenvalue: the gain ηt
    assert ne.response_matrix(TH[TR, TR], TH[TE, TR], 0, lr=lr) == pytest.approx(np.zeros((2, 4)), abs=1e-15)
    assert ne.response_matrix(np.zeros((1, 1)), np.ones((1, 1)), 3, lr=0.5) == pytest.approx(np.array([[1.5]]))
    assert ne.response_matrix(np.zeros((1, 1)), np.ones((1, 1)), 3, lr=0.5, discrete=False) == pytest.approx(np.array([[1.5]]))


def test_moments_against_the_formulas_and_a_monte_carlo_ensemble():
    """μ = A y, Σ = K** − A K(X, x) − K(x, X) Aᵀ + A K Aᵀ, and both from samples of f₀ ~ GP(0, K)."""
    A = ne.response_matrix(TH[TR, TR], TH[TE, TR], 5, lr=0.1)
    mu, cov = ne.ntk_ensemble_moments(TH[TR, TR], TH[TE, TR], KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, 5, lr=0.1)
    assert mu == pytest.approx(A @ Y)
    B = np.hstack([-A, np.eye(2)])                  # f_t(x) − A y = [−A, I] (f₀(X), f₀(x))
    Kj = np.block([[KK[TR, TR], KK[TR, TE]], [KK[TE, TR], KK[TE, TE]]])
    assert cov == pytest.approx(B @ Kj @ B.T, rel=1e-10)
    rng = np.random.default_rng(2)
    L = np.linalg.cholesky(Kj + 1e-12 * np.eye(6))
    f0 = (L @ rng.standard_normal((6, 100_000))).T
    ft = f0[:, 4:] - (f0[:, :4] - Y) @ A.T
    se = np.sqrt(np.diag(cov) / len(ft))
    assert np.all(np.abs(ft.mean(0) - mu) < 5 * se)
    assert np.cov(ft, rowvar=False) == pytest.approx(cov, rel=0.03, abs=0.03 * np.abs(cov).max())


def test_nngp_posterior_formula_and_limits():
    mean, cov = ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, noise_var=0.1, jitter=0.0)
    Ainv = np.linalg.inv(KK[TR, TR] + 0.1 * np.eye(4))
    assert mean == pytest.approx(KK[TE, TR] @ Ainv @ Y, rel=1e-10)
    assert cov == pytest.approx(KK[TE, TE] - KK[TE, TR] @ Ainv @ KK[TR, TE], rel=1e-10)
    # the same mean and variance as kernels.gp_posterior
    m2, v2 = kernels.gp_posterior(KK[TR, TR], KK[TE, TR], np.diag(KK[TE, TE]), Y, noise_var=0.1, jitter=0.0)
    assert mean == pytest.approx(m2) and np.diag(cov) == pytest.approx(v2)
    # infinite training time with Θ = K is the noiseless posterior
    mu, c = ne.ntk_ensemble_moments(KK[TR, TR], KK[TE, TR], KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, 1e5, lr=0.5,
                                    discrete=False)
    m0, c0 = ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, jitter=0.0)
    assert mu == pytest.approx(m0, rel=1e-6) and c == pytest.approx(c0, abs=1e-8)


def test_batched_ntk_mlp_member_is_the_mlp_and_converts_inputs():
    net = ne.BatchedNTKMLP(2, 3, 8, 2, activation="relu", sigma_b=0.2, seeds=[7, 8], dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    out = net(x)
    assert out.shape == (2, 5, 1)
    for k, s in enumerate([7, 8]):
        mlp = MLP(3, 8, 2, activation="relu", sigma_w=math.sqrt(2.0), sigma_b=0.2,
                  generator=torch.Generator().manual_seed(s), dtype=torch.float64)
        assert torch.allclose(out[k], mlp(x), rtol=1e-12, atol=1e-12)
    assert torch.equal(net(x.numpy()), out) and torch.equal(net(x.float()), net(x.float().double()))
    assert ne.BatchedNTKMLP(1, 3, 4, 0, activation="LINEAR")(x).shape == (1, 5, 1)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 1000))
def test_excess_kurtosis_of_known_distributions(seed):
    rng = np.random.default_rng(seed)
    n = 200_000
    g = rng.standard_normal(n)
    assert abs(ne.excess_kurtosis(g)) < 5 * math.sqrt(24 / n)
    u = rng.uniform(-1, 1, n)
    assert ne.excess_kurtosis(u) == pytest.approx(-1.2, abs=0.03)
    lap = rng.laplace(size=n)
    assert ne.excess_kurtosis(lap) == pytest.approx(3.0, abs=0.3)
    # exactly: ±1 with equal weight has m₄/m₂² − 3 = −2
    assert ne.excess_kurtosis(np.array([[1.0, -1.0, 1.0, -1.0]]), axis=1) == pytest.approx([-2.0])


def test_ensemble_discrepancy_on_constructed_ensembles():
    """A known bias of the mean (and none of the covariance) is found; f = g gives zero bias and spread."""
    rng = np.random.default_rng(3)
    M, P = 4000, 3
    cov = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 2.0]])
    g = rng.multivariate_normal(np.zeros(P), cov, size=M)
    shift = np.array([0.2, -0.1, 0.0])
    out = ne.ensemble_discrepancy(g + shift, g, cov, n_boot=50)
    s2 = np.mean(np.diag(cov))
    assert out["mean2"] == pytest.approx(np.mean(shift ** 2) / s2, rel=1e-6, abs=1e-6)   # d is exactly the shift
    assert out["spread"] == pytest.approx(math.sqrt(np.mean(shift ** 2) / s2))
    assert abs(out["cov2"]) < 1e-12
    same = ne.ensemble_discrepancy(g, g, cov, n_boot=20)
    assert same["mean2"] == 0 and same["spread"] == 0 and same["cov2"] == 0
    # a scaled ensemble: Cov f = 1.21 Cov g, a covariance bias of 0.21 Cov g
    out = ne.ensemble_discrepancy(1.1 * g, g, cov, n_boot=50)
    B = 0.21 * np.cov(g, rowvar=False)
    assert out["cov2"] == pytest.approx(np.mean(B ** 2) / np.mean(cov ** 2), rel=0.1)
    assert out["cov2_se"] > 0 and out["mean_noise2"] > 0


def test_nngp_posterior_relative_jitter_is_extra_noise():
    """The jitter is relative: jitter · mean(diag K) is added to the noise variance."""
    a = ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, noise_var=0.05, jitter=0.2)
    b = ne.nngp_posterior(KK[TR, TR], KK[TE, TR], KK[TE, TE], Y, noise_var=0.05 + 0.2 * np.mean(np.diag(KK[TR, TR])),
                          jitter=0.0)
    assert a[0] == pytest.approx(b[0], rel=1e-12) and a[1] == pytest.approx(b[1], rel=1e-12)


def test_batched_ntk_mlp_default_seeds_and_dtype():
    x = torch.randn(4, 2, dtype=torch.float64)
    a = ne.BatchedNTKMLP(3, 2, 5, 1, dtype=torch.float64)
    b = ne.BatchedNTKMLP(3, 2, 5, 1, seeds=[0, 1, 2], dtype=torch.float64)
    assert torch.equal(a(x), b(x))
    assert not torch.equal(a(x)[0], a(x)[1])
    assert ne.BatchedNTKMLP(1, 2, 5, 1).V[0].dtype == torch.get_default_dtype()
    # the per-member input form (K, N, d) gives each member its own inputs
    xs = torch.randn(3, 4, 2, dtype=torch.float64)
    out = a(xs)
    for k in range(3):
        assert torch.allclose(out[k], a(xs[k])[k])


def test_ensemble_discrepancy_noise_estimates():
    """d = f − g = shift + noise of variance v: the bootstrap noise of the mean is ≈ v/M per point, and the
    noise-subtracted mean² is ≈ |shift|² (both relative to s² = mean diag Σ)."""
    rng = np.random.default_rng(5)
    M, P, v = 2000, 4, 0.09
    cov = np.eye(P) * 2.0
    g = rng.standard_normal((M, P)) * np.sqrt(2.0)
    shift = np.array([0.1, 0.0, -0.2, 0.05])
    f = g + shift + math.sqrt(v) * rng.standard_normal((M, P))
    out = ne.ensemble_discrepancy(f, g, cov, n_boot=300, seed=1)
    s2 = 2.0
    assert out["mean_noise2"] == pytest.approx(v / M / s2, rel=0.25)
    assert out["mean2"] == pytest.approx(np.mean(shift ** 2) / s2, abs=3 * out["mean2_se"] + 3 * v / M / s2)
    assert 0 < out["mean2_se"] < 0.5 * np.mean(shift ** 2) / s2
    assert out["cov_noise2"] > 0 and out["cov2_se"] > 0
    assert out["spread"] == pytest.approx(math.sqrt(np.mean((f - g) ** 2) / s2))
    # another seed: other resamples, the same point estimates
    other = ne.ensemble_discrepancy(f, g, cov, n_boot=300, seed=2)
    assert other["spread"] == out["spread"] and other["mean_noise2"] != out["mean_noise2"]
