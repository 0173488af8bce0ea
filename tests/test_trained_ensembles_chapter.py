"""The theory-vs-experiment checks of the chapter "The ensemble of trained wide networks"
(book/03_wide_networks/03_trained_ensembles), at small sizes: the same task, fewer networks."""

import math

import numpy as np
import pytest
import torch

from course_utils.ensemble import BatchedSGD, mse_per_sample, train_ensemble
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as ens

SW2, SB2, N, STEPS = 2.0, 0.1, 8, 300


def _theory():
    t_train = np.pi * (np.arange(N) + 0.5) / N
    t_test = 2 * np.pi * (np.arange(24) + 0.5) / 24
    t = np.concatenate([t_train, t_test])
    X = np.stack([np.cos(t), np.sin(t)], axis=1)
    y = np.sin(t_train) + 0.5 * np.sin(3 * t_train)
    Theta, K = kernels.ntk_kernel(X, depth=1, activation="erf", sigma_w2=SW2, sigma_b2=SB2, return_nngp=True)
    lr = 1.0 / np.linalg.eigvalsh(Theta[:N, :N])[-1]
    A = ens.response_matrix(Theta[:N, :N], Theta[N:, :N], STEPS, lr=lr)
    mu, cov = ens.ntk_ensemble_moments(Theta[:N, :N], Theta[N:, :N], K[:N, :N], K[N:, :N], K[N:, N:], y, STEPS,
                                       lr=lr)
    gp_mu, _ = ens.nngp_posterior(K[:N, :N], K[N:, :N], K[N:, N:], y)
    return dict(X=X, y=y, lr=lr, A=A, mu=mu, cov=cov, gp_mu=gp_mu)


TH = _theory()


def _train(width, members, first_seed):
    net = ens.BatchedNTKMLP(members, 2, width, 1, activation="erf", sigma_w=math.sqrt(SW2), sigma_b=math.sqrt(SB2),
                            seeds=range(first_seed, first_seed + members), dtype=torch.float32)
    X = torch.tensor(TH["X"], dtype=torch.float32)
    with torch.no_grad():
        f0 = net(X)[:, :, 0].double().numpy()
    train_ensemble(net, mse_per_sample, X[:N], torch.tensor(TH["y"], dtype=torch.float32)[:, None], steps=STEPS,
                   optimizer=BatchedSGD(net.parameters(), lr=TH["lr"] * N / 2), record_steps=[STEPS], progress=False)
    with torch.no_grad():
        f = net(X)[:, :, 0].double().numpy()
    g = f0[:, N:] - (f0[:, :N] - TH["y"]) @ TH["A"].T
    return f[:, N:], g


@pytest.fixture(scope="module")
def wide():
    return _train(512, 256, first_seed=1000)


def test_wide_ensemble_has_the_ntk_mean_and_variance_not_the_nngp_posterior(wide):
    f, _ = wide
    se = np.sqrt(np.diag(TH["cov"]) / len(f))
    assert np.max(np.abs(f.mean(0) - TH["mu"]) / se) < 4.5
    z_var = (f.var(0, ddof=1) - np.diag(TH["cov"])) / (np.diag(TH["cov"]) * np.sqrt(2 / (len(f) - 1)))
    assert np.max(np.abs(z_var)) < 4.5
    assert np.sqrt(np.mean(((f.mean(0) - TH["gp_mu"]) / se) ** 2)) > 5


def test_one_network_approaches_its_prediction_as_inverse_sqrt_width(wide):
    f32, g32 = _train(32, 256, first_seed=2000)
    f512, g512 = wide
    ratio = np.sqrt(np.mean((f32 - g32) ** 2) / np.mean((f512 - g512) ** 2))
    slope = math.log(ratio) / math.log(16)
    assert 0.38 < slope < 0.55  # measured 0.45; 1/2 asymptotically, approached from below


def test_ensemble_mean_bias_is_resolved_and_far_below_one_network():
    f, g = _train(16, 2048, first_seed=3000)
    r = ens.ensemble_discrepancy(f, g, TH["cov"], n_boot=100, seed=1)
    assert r["mean2"] > 4 * r["mean2_se"]
    assert r["mean2"] < r["spread"] ** 2 / 10   # the ensemble is much closer than one network
