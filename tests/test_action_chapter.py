"""The claims of book/02_action/01_loss_as_action, checked at small sizes (same tolerances or looser)."""

import numpy as np
import pytest
import torch

from course_utils.data import classification as data
from course_utils.exercises import action as exercises
from course_utils.models.silu_net import action, init_params
from course_utils.theory import action as theory


@pytest.fixture(autouse=True, scope="module")
def _float64():
    before_dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before_dtype)


@pytest.fixture(scope="module")
def digits():
    z, y = data.load_digits()
    return z, y


def test_closed_forms_match_autograd_on_digits(digits):
    z, y = digits
    idx = data.balanced_indices(y, 40, seed=3)
    z, y = data.standardize(z[idx]), y[idx]
    theta = init_params(64, 8, 10, generator=torch.Generator().manual_seed(1))
    ad = theory.taylor_coefficients_along_ray(lambda p: action(p, z, y), theta, 4)
    cf = theory.closed_form_taylor_terms(theta, z, y, 10)[:5]
    assert ad[0] == pytest.approx(np.log(10), rel=1e-13) and abs(ad[1]) < 1e-13
    np.testing.assert_allclose(ad[2:], cf[2:], rtol=1e-9)
    # the source's coefficients are off by n + 1
    for n in (1, 2):
        src = theory.general_term(theta, z, y, 10, n, coefficient="source")
        assert ad[n + 1] / src == pytest.approx(n + 1, rel=1e-9)


def test_series_error_is_the_first_omitted_term():
    z, y = data.gaussian_classes(200, 6, 4, separation=2.0, seed=0)
    theta = init_params(6, 8, 4, generator=torch.Generator().manual_seed(0))
    terms = theory.closed_form_taylor_terms(theta, z, y, 4)
    t = 0.01
    S = float(action({k: t * v for k, v in theta.items()}, z, y))
    for K in (1, 2, 3, 4):
        partial = sum(terms[k] * t ** k for k in range(K + 1))
        assert abs(S - partial) == pytest.approx(abs(terms[K + 1]) * t ** (K + 1), rel=0.1)


@pytest.fixture(scope="module")
def trained(digits):
    z, y = digits
    (zT, yT), (zV, yV) = data.train_val_split(z, y, 20, 40, seed=0)
    zT, zV = data.standardize(zT, reference=zT), data.standardize(zV, reference=zT)
    theta0 = init_params(64, 32, 10, generator=torch.Generator().manual_seed(0))
    theta, hist = theory.train_tracking_alignment(theta0, (zT, yT), (zV, yV), steps=600, lr=0.5, progress=False)
    return dict(zT=zT, yT=yT, theta0=theta0, theta=theta, hist=hist)


def test_source_ubwj_coefficient_is_off_by_six():
    z, y = data.gaussian_classes(200, 6, 4, separation=2.0, seed=0)
    theta = init_params(6, 8, 4, generator=torch.Generator().manual_seed(2))
    no_bias = dict(theta, b=torch.zeros_like(theta["b"]))
    ad = (theory.taylor_coefficients_along_ray(lambda p: action(p, z, y), theta, 3)[3]
          - theory.taylor_coefficients_along_ray(lambda p: action(p, z, y), no_bias, 3)[3])
    J = theory.correlations(z, y, 4, max_order=1)
    total = float(torch.einsum("ab,b,bg,ag->", theta["U"], theta["b"], theta["W"], J[1]))
    assert ad == pytest.approx(total / (2 * 4), rel=1e-9)
    assert ad / (total / (12 * 4)) == pytest.approx(6, rel=1e-9)


def test_first_steps_from_a_small_start_follow_the_quadratic_action(digits):
    z, y = digits
    (zT, yT), _ = data.train_val_split(z, y, 20, 10, seed=0)
    zT = data.standardize(zT)
    J = theory.correlations(zT, yT, 10, max_order=1)
    s1 = float(torch.linalg.svdvals(J[1])[0]) / 20
    base = init_params(64, 32, 10, generator=torch.Generator().manual_seed(0))
    shares = {}
    for name, scale in (("small", 1e-3), ("default", 1.0)):
        p = {k: scale * v for k, v in base.items()}
        linear = theory.quadratic_action_descent(p, J, lr=0.5, steps=40)
        grad = torch.func.grad(action)
        rel, share, share_lin, r = [], [], [], []
        for step in range(41):
            g = grad(p, zT, yT)
            g2 = {"U": J[1] @ p["W"].T / 20, "W": p["U"].T @ J[1] / 20, "b": torch.zeros_like(p["b"])}
            r.append(float(sum(((g[k] - g2[k]) ** 2).sum() for k in g) ** 0.5 / sum((g2[k] ** 2).sum() for k in g) ** 0.5))
            uw, uw_lin = p["U"] @ p["W"], linear[step]["U"] @ linear[step]["W"]
            rel.append(float((uw - uw_lin).norm() / uw_lin.norm()))
            share.append(theory.top_singular_share(uw, J[1]))
            share_lin.append(theory.top_singular_share(uw_lin, J[1]))
            p = {k: p[k] - 0.5 * g[k] for k in p}
        shares[name] = share
        if name == "small":
            t_q = int(np.argmax(np.array(r) > 0.02)) - 1
            assert t_q > 10
            assert max(rel[:t_q + 1]) < 2 * (1 + 0.5 * s1) * 0.02
            assert share[t_q] > 0.5 and abs(share[t_q] - share_lin[t_q]) < 0.01
    assert shares["default"][t_q] < 0.5


def test_alignment_zero_is_the_validation_minimum(trained):
    h = trained["hist"]
    steps, sv = h["step"], h["S_V"]
    i = int(np.argmin(sv))
    assert 10 < i < len(sv) - 10, "the validation loss must have an interior minimum"
    assert abs(theory.first_sign_change(steps, h["alignment"]) - steps[i]) < 2
    dsv = np.diff(sv)
    pred = -0.5 * h["alignment"][:-1]
    assert np.linalg.norm(dsv - pred) <= 0.05 * np.linalg.norm(pred)


def test_training_biases_the_products_to_negative_values(trained):
    J = theory.correlations(trained["zT"], trained["yT"], 10, max_order=2)
    for order in (1, 2):
        Jk = J[order]
        assert abs(float(Jk.sum(0).abs().max())) < 1e-12  # Σ_α J = 0
        uw = theory.uw_tensor(trained["theta"], order)
        assert abs(float(uw.mean() / uw.std())) < 0.1
        prod = Jk * uw
        prod0 = Jk * theory.uw_tensor(trained["theta0"], order)
        assert float(prod.sum() / prod.abs().sum()) < -0.5
        assert float((prod[prod != 0] < 0).double().mean()) > 0.5  # mostly negative (the source: positive)
        assert abs(float(prod0.sum() / prod0.abs().sum())) < 0.2


def test_uww_term_dominates_s3_at_large_embedding_dimension(digits):
    z, y = digits
    zs = data.standardize(z)
    ratios = {}
    for E in (2, 128):
        r = []
        for s in range(2):
            R = torch.randn(64, E, generator=torch.Generator().manual_seed(100 + s)) / 8
            (zt, yt), (zv, yv) = data.train_val_split(zs @ R, y, 20, 10, seed=s)
            th0 = init_params(E, 32, 10, generator=torch.Generator().manual_seed(s))
            th, _ = theory.train_tracking_alignment(th0, (zt, yt), (zv, yv), steps=400, lr=0.5,
                                                    record_every=400, progress=False)
            t3 = theory.s3_terms(th, theory.correlations(zt, yt, 10, max_order=2))
            assert abs(t3["Ubb"]) < 1e-12
            r.append(abs(t3["UWWJ"] / t3["UbWJ"]))
        ratios[E] = np.exp(np.mean(np.log(r)))
    assert ratios[128] > 5
    assert ratios[128] > 2 * ratios[2]


def test_exercise_checkers(capsys):
    assert exercises.check_toy_correlations([[-0.25, 0.25], [0.25, -0.25]],
                                            [[[-0.25, 0.0], [0.0, 0.25]], [[0.25, 0.0], [0.0, -0.25]]])
    assert not exercises.check_toy_correlations([[0.25, -0.25], [-0.25, 0.25]])
    assert "sign" in capsys.readouterr().out
    assert exercises.check_toy_correlations([0.25, -0.25]) is False                 # a verdict, not a traceback
    assert "shape" in capsys.readouterr().out

    def s3(params, J):
        return float(torch.einsum("ab,bk,kg,ag->", params["U"], params["V"], params["W"], J[1])) / (4 * J[1].shape[0])

    assert exercises.check_two_hidden_layer_s3(s3)
    assert not exercises.check_two_hidden_layer_s3(lambda p, J: 2 * s3(p, J))
    assert "factor" in capsys.readouterr().out
    assert exercises.check_two_hidden_layer_s3(3.0) is False
    assert "function" in capsys.readouterr().out
