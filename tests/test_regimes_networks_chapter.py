"""The theory-vs-experiment checks of the chapter "Variance- or resolution-limited? The four scaling
regimes of a trained network" (book/06_scaling/05_regimes_in_networks), at small sizes."""

import math

import numpy as np
import torch

import course_utils as cu
from course_utils.data.manifold import TorusManifold
from course_utils.theory import kernels
from course_utils.theory import ntk_ensemble as ens
from course_utils.theory import regimes_networks as rn

SW, SB, ALPHA = math.sqrt(2.0), math.sqrt(0.1), 1000.0


def test_variance_limited_in_width_lazy_networks_approach_the_ntk_limit_as_one_over_width():
    torus = TorusManifold(3, 10, n_bend=2, max_frequency=1, seed=0)
    rng = np.random.default_rng(21)
    _, Xt, yt = torus.sample(1000, rng)
    _, X, y = torus.sample(48, rng)
    Th, Thc = (kernels.ntk_kernel(X, depth=1, sigma_w2=2.0, sigma_b2=0.1),
               kernels.ntk_kernel(Xt, X, depth=1, sigma_w2=2.0, sigma_b2=0.1))
    lr = 1 / np.linalg.eigvalsh(Th)[-1]
    _, f_inf = rn.kernel_momentum_dynamics(Th, Thc, y, 500, lr=lr, momentum=0.95)
    L_inf = np.mean((f_inf - yt) ** 2)
    widths, var, loss, se = np.array([32, 64, 128, 256]), [], [], []
    for w in widths:
        net = ens.BatchedNTKMLP(16, 10, int(w), 1, activation="relu", sigma_w=SW, sigma_b=SB,
                                seeds=range(100 * int(w), 100 * int(w) + 16), dtype=torch.float64)
        out = rn.train_centred(net, torch.tensor(X), torch.tensor(y), torch.tensor(Xt), steps=500, lr=lr * 48 / 2,
                               momentum=0.95, scale=ALPHA, progress=False)
        f = out["test"].numpy()
        L = np.mean((f - yt) ** 2, axis=1)
        var.append(np.mean(f.var(axis=0, ddof=1)))
        loss.append(L.mean())
        se.append(L.std(ddof=1) / 4)
    cu.check_close("slope of the variance over initialisations", cu.fit_power_law(widths, var).alpha, 1.0, atol=0.12)
    ext = rn.fit_inverse_width(widths, loss, se)
    cu.check_close("extrapolated L_∞ vs the NTK limit", ext["limit"], L_inf, atol=3 * ext["limit_stderr"])


def test_variance_limited_in_data_matches_the_sandwich_coefficient():
    torus = TorusManifold(3, 10, n_bend=2, max_frequency=1, seed=0)
    rng = np.random.default_rng(22)
    _, Xp, yp = torus.sample(32768, rng)
    Xp, yp = torch.tensor(Xp), torch.tensor(yp)
    net = ens.BatchedNTKMLP(8, 10, 3, 1, activation="relu", sigma_w=SW, sigma_b=SB, seeds=range(8),
                            dtype=torch.float64)

    def f(theta, X):
        return rn.one_hidden_layer(theta, X, 3, sigma_w=SW, sigma_b=SB)

    def pop_loss(theta, th0):
        return float(torch.mean((ALPHA * (f(theta, Xp) - f(th0, Xp)) - yp) ** 2))

    D = 2048
    excess, coeff = [], []
    for k in range(8):
        th0 = rn.member_parameters(net, k)
        best = rn.newton_polish(th0, Xp, f(th0, Xp) + yp / ALPHA, 3, sigma_w=SW, sigma_b=SB)
        _, _, H, G = rn.loss_gradient_hessian(best["theta"], Xp, f(th0, Xp) + yp / ALPHA, 3, sigma_w=SW,
                                              sigma_b=SB, need_g=True)
        coeff.append(ALPHA ** 2 * rn.asymptotic_excess_coefficient(H.numpy(), G.numpy()))
        for _ in range(3):
            _, XD, yD = torus.sample(D, rng)
            XD, yD = torch.tensor(XD), torch.tensor(yD)
            fit = rn.newton_polish(th0, XD, f(th0, XD) + yD / ALPHA, 3, sigma_w=SW, sigma_b=SB)
            assert fit["decrement"] < 1e-4
            excess.append(pop_loss(fit["theta"], th0) - pop_loss(best["theta"], th0))
    excess = np.array(excess)
    predicted = np.mean(coeff) * (1 / D + 1 / 32768)
    cu.check_close("excess vs c(1/D + 1/N)", excess.mean(), predicted, atol=3 * excess.std(ddof=1) / np.sqrt(excess.size))
