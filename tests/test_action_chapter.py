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
    with pytest.raises(ValueError, match="shape"):
        exercises.check_toy_correlations([0.25, -0.25])

    def s3(params, J):
        return float(torch.einsum("ab,bk,kg,ag->", params["U"], params["V"], params["W"], J[1])) / (4 * J[1].shape[0])

    assert exercises.check_two_hidden_layer_s3(s3)
    assert not exercises.check_two_hidden_layer_s3(lambda p, J: 2 * s3(p, J))
    assert "factor" in capsys.readouterr().out
    with pytest.raises(ValueError, match="function"):
        exercises.check_two_hidden_layer_s3(3.0)
