"""Unit tests of course_utils.models.deep_linear: shapes, initialisation statistics, balanced
factors, members, the whitened loss, and the conserved imbalance under (small-step) gradient descent."""

import numpy as np
import pytest
import torch

from course_utils.models.deep_linear import DeepLinearNetwork, balanced_factors, end_to_end, whitened_loss


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_forward_is_the_end_to_end_map():
    net = DeepLinearNetwork(5, [7, 6], 3, depth=3, generator=_gen())
    assert [tuple(W.shape) for W in net.weights] == [(7, 5), (6, 7), (3, 6)]
    x = torch.randn(11, 5, generator=_gen(1), dtype=torch.float64)
    out = net(x)
    assert out.shape == (11, 3)
    torch.testing.assert_close(out, x @ net.end_to_end().T)
    assert net.weights[0].dtype == torch.float64
    assert DeepLinearNetwork(4, 8, 2, depth=1).weights[0].shape == (2, 4)   # depth 1: f = Wx


def test_init_scale_sets_the_variance():
    net = DeepLinearNetwork(200, 300, 100, depth=2, init_scale=0.3, generator=_gen())
    for W in net.weights:
        var = W.detach().var().item() * W.shape[1]
        assert var == pytest.approx(0.3 ** 2, rel=0.03)


def test_members_are_independent_networks_with_their_own_scale():
    scales = [1e-3, 1e-1, 1.0]
    net = DeepLinearNetwork(6, 8, 4, depth=3, init_scale=scales, n_members=3, generator=_gen())
    assert net.weights[0].shape == (3, 8, 6)
    x = torch.randn(5, 6, generator=_gen(2), dtype=torch.float64)
    out = net(x)
    assert out.shape == (3, 5, 4)
    norms = net.end_to_end().flatten(1).norm(dim=1)
    assert norms[0] < norms[1] < norms[2]
    for k in range(3):
        torch.testing.assert_close(out[k], x @ net.end_to_end()[k].T)
    M = torch.randn(3, 4, 6, generator=_gen(3), dtype=torch.float64)
    whitened_loss(list(net.weights), M).backward()
    g0 = net.weights[0].grad[0].clone()
    # member 0 trained alone gets the same gradient
    single = [W.detach()[0].clone().requires_grad_() for W in net.weights]
    whitened_loss(single, M[0]).backward()
    torch.testing.assert_close(single[0].grad, g0)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_balanced_factors(depth):
    A = torch.randn(3, 5, generator=_gen(4), dtype=torch.float64)
    Ws = balanced_factors(A, [6] * (depth - 1), generator=_gen(5))
    torch.testing.assert_close(end_to_end(Ws), A)
    for l in range(depth - 1):
        torch.testing.assert_close(Ws[l + 1].T @ Ws[l + 1], Ws[l] @ Ws[l].T)
    net = DeepLinearNetwork(5, 6, 3, depth=depth, init_scale=0.5, balanced=True, generator=_gen())
    for D in net.imbalance():
        assert D.abs().max() < 1e-12
    batched = balanced_factors(torch.stack([A, 2 * A]), [6] * (depth - 1), generator=_gen(5))
    torch.testing.assert_close(end_to_end(batched)[1], 2 * A)


def test_whitened_loss_is_the_data_loss_on_whitened_inputs():
    rng = np.random.default_rng(0)
    N, d = 40, 4
    Q, _ = np.linalg.qr(rng.standard_normal((N, d)))
    X = torch.tensor(np.sqrt(N) * Q)             # XᵀX/N = I exactly
    M = torch.tensor(rng.standard_normal((3, d)))
    net = DeepLinearNetwork(d, 5, 3, depth=2, generator=_gen())
    data_loss = 0.5 * ((net(X) - X @ M.T) ** 2).sum(dim=1).mean()
    torch.testing.assert_close(data_loss, whitened_loss(list(net.weights), M))


def test_imbalance_is_conserved_up_to_order_lr():
    """Gradient flow conserves W_{l+1}ᵀW_{l+1} − W_l W_lᵀ; a step of size η changes it by O(η²), so
    over a fixed training time ηt the drift is O(η): halving η halves it."""
    M = torch.randn(3, 4, generator=_gen(7), dtype=torch.float64)
    drift = []
    for lr in (1e-2, 5e-3):
        net = DeepLinearNetwork(4, 5, 3, depth=3, init_scale=0.7, generator=_gen(6))
        D0 = net.imbalance()
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        for _ in range(round(10 / lr)):
            opt.zero_grad()
            whitened_loss(list(net.weights), M).backward()
            opt.step()
        assert (net.end_to_end() - M).norm() < 0.5 * M.norm()      # it did learn
        drift.append(float(sum((a - b).norm() for a, b in zip(net.imbalance(), D0)) / sum(D.norm() for D in D0)))
    assert drift[0] < 0.02
    assert drift[0] / drift[1] == pytest.approx(2.0, rel=0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match="depth"):
        DeepLinearNetwork(3, 4, 2, depth=0)
    with pytest.raises(ValueError, match="hidden widths"):
        DeepLinearNetwork(3, [4, 4], 2, depth=2)
    with pytest.raises(ValueError, match="init_scale"):
        DeepLinearNetwork(3, 4, 2, depth=2, init_scale=[1.0, 2.0])
    with pytest.raises(ValueError, match="init_scale"):
        DeepLinearNetwork(3, 4, 2, depth=2, init_scale=-1.0)
    with pytest.raises(ValueError, match="width"):
        balanced_factors(torch.randn(3, 5, dtype=torch.float64), [2])
    with pytest.raises(ValueError, match="columns"):
        end_to_end([torch.zeros(3, 2), torch.zeros(4, 5)])
    with pytest.raises(ValueError, match="d_in"):
        DeepLinearNetwork(3, 4, 2, depth=2)(torch.zeros(5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="target"):
        whitened_loss([torch.zeros(3, 2)], torch.zeros(2, 2))
