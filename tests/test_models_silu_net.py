import pytest
import torch
import torch.nn.functional as F

from course_utils.models import silu_net as S


def _setup(E=5, H=4, M=3, N=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = S.init_params(E, H, M, generator=g, dtype=torch.float64)
    z = torch.randn(N, E, generator=g, dtype=torch.float64)
    return p, z


def test_functional_form_is_the_formula():
    p, z = _setup()
    f = S.silu_net(p, z)
    # f_α(z) = Σ_β U_αβ σ(Σ_γ W_βγ z_γ + b_β), written out with loops over one sample
    i, alpha = 2, 1
    expected = sum(p["U"][alpha, b] * F.silu(sum(p["W"][b, c] * z[i, c] for c in range(5)) + p["b"][b])
                   for b in range(4))
    assert f.shape == (7, 3)
    assert torch.allclose(f[i, alpha], expected)


def test_module_and_function_agree_and_share_names():
    g = torch.Generator().manual_seed(1)
    model = S.SiLUNet(5, 4, 3, generator=g)
    z = torch.randn(6, 5)
    assert torch.equal(model(z), S.silu_net(dict(model.named_parameters()), z))
    assert set(dict(model.named_parameters())) == set(S.PARAM_NAMES)
    assert "E=5, H=4, M=3" in repr(model)


def test_zero_parameters_give_uniform_softmax_and_action_ln_M():
    p, z = _setup()
    zero = S.zeros_like_params(p)
    assert torch.all(S.silu_net(zero, z) == 0)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    assert float(S.action(zero, z, y)) == pytest.approx(float(torch.log(torch.tensor(3.0))))
    assert all(torch.all(v == 0) for v in S.init_params(5, 4, 3, scale=0.0).values())


def test_init_ranges_follow_fan_in():
    p = S.init_params(100, 25, 3, generator=torch.Generator().manual_seed(0), scale=2.0)
    assert p["W"].abs().max() <= 2.0 / 10 and p["b"].abs().max() <= 2.0 / 10
    assert p["U"].abs().max() <= 2.0 / 5
    assert p["W"].abs().max() > 0.15  # the range is used, not a smaller one


def test_flatten_roundtrip_and_torch_func():
    p, z = _setup()
    v = S.flatten_params(p)
    assert v.numel() == 3 * 4 + 4 * 5 + 4
    back = S.unflatten_params(v, p)
    assert all(torch.equal(back[k], p[k]) for k in S.PARAM_NAMES)
    y = torch.zeros(7, dtype=torch.long)
    grads = torch.func.grad(S.action)(p, z, y)
    assert set(grads) == set(S.PARAM_NAMES) and grads["W"].shape == (4, 5)


def test_bad_arguments_raise_clear_errors():
    p, z = _setup()
    with pytest.raises(ValueError, match="missing"):
        S.silu_net({"U": p["U"]}, z)
    with pytest.raises(ValueError, match="hidden widths"):
        S.silu_net({**p, "b": torch.zeros(9)}, z)
    with pytest.raises(ValueError, match=r"shape \(N, E\)"):
        S.silu_net(p, torch.zeros(3, 2))
    with pytest.raises(ValueError, match="labels"):
        S.action(p, z, torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"E \(the input dimension\) must be an integer ≥ 1"):
        S.init_params(0, 4, 3)
    with pytest.raises(ValueError, match="entries"):
        S.unflatten_params(torch.zeros(5), p)
