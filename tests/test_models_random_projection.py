"""Unit tests of course_utils.models.random_projection: the teacher–student random-feature model."""

import numpy as np
import pytest

from course_utils.data.synthetic import power_law_spectrum
from course_utils.models.random_projection import resolution_limited_losses, variance_limited_losses


def _direct_loss(lam, D, P, rng, w=None):
    """One draw of the model, fitted with numpy's least squares (min norm), for comparison."""
    M = lam.size
    w = rng.standard_normal(M) if w is None else w
    X = rng.standard_normal((D, M)) * np.sqrt(lam)
    V = rng.standard_normal((P, M))
    theta = np.linalg.lstsq(X @ V.T, X @ w, rcond=None)[0]
    return np.sum(lam * (V.T @ theta - w) ** 2)


def test_resolution_limits_are_large_size_limits_of_the_model():
    """L(D, P) at P ≫ D approaches the 'data' limit; the two limits agree in distribution."""
    lam = power_law_spectrum(300, 2.0)
    rng = np.random.default_rng(0)
    data = resolution_limited_losses(lam, [10], limit="data", draws=400, rng=rng).mean()
    feats = resolution_limited_losses(lam, [10], limit="features", draws=400, rng=rng).mean()
    direct = np.mean([_direct_loss(lam, 10, 1000, rng) for _ in range(200)])
    assert data == pytest.approx(feats, rel=0.12)
    # at P = 1000 the variance-limited excess is 10/(1000 − 11) ≈ 1 %
    assert direct == pytest.approx(data * (1 + 10 / 989), rel=0.12)


def test_features_limit_is_the_best_fit():
    """For one draw, the 'features' loss is the minimum over θ of ‖Λ^½(Vᵀθ − w)‖² (direct least squares)."""
    lam = power_law_spectrum(50, 1.5)
    rng = np.random.default_rng(3)
    L = resolution_limited_losses(lam, [4, 7], limit="features", draws=1, rng=rng)
    rng = np.random.default_rng(3)
    w = rng.standard_normal(50)
    V = rng.standard_normal((7, 50))
    for j, n in enumerate([4, 7]):
        A = (V[:n] * np.sqrt(lam)).T
        theta = np.linalg.lstsq(A, np.sqrt(lam) * w, rcond=None)[0]
        assert L[0, j] == pytest.approx(np.sum((A @ theta - np.sqrt(lam) * w) ** 2), rel=1e-9)


@pytest.mark.parametrize("vary", ["data", "features"])
def test_variance_limited_trace_is_the_teacher_average(vary):
    """The trace formula equals the loss averaged over many explicit teachers, draw by draw."""
    lam = power_law_spectrum(40, 2.0)
    rng = np.random.default_rng(5)
    L, L_inf = variance_limited_losses(lam, 3, [8, 12], vary=vary, draws=1, rng=rng)
    rng = np.random.default_rng(5)
    if vary == "data":
        V = rng.standard_normal((3, 40))
        X = rng.standard_normal((12, 40)) * np.sqrt(lam)
    else:
        X = rng.standard_normal((3, 40)) * np.sqrt(lam)
        V = rng.standard_normal((12, 40))
    W = np.eye(40)  # E_w over w ~ N(0, I) of a quadratic form = sum over the basis vectors
    for j, n in enumerate([8, 12]):
        Xn, Vn = (X[:n], V) if vary == "data" else (X, V[:n])
        total = 0.0
        for w in W:
            theta = np.linalg.lstsq(Xn @ Vn.T, Xn @ w, rcond=None)[0]
            total += np.sum(lam * (Vn.T @ theta - w) ** 2)
        assert L[0, j] == pytest.approx(total, rel=1e-8)
    assert np.all(L >= L_inf[:, None] - 1e-12)


def test_bad_arguments():
    lam = power_law_spectrum(20, 2.0)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="limit"):
        resolution_limited_losses(lam, [2], limit="both", draws=1, rng=rng)
    with pytest.raises(ValueError, match="below the number of features"):
        resolution_limited_losses(lam, [20], limit="data", draws=1, rng=rng)
    with pytest.raises(ValueError, match="increasing"):
        resolution_limited_losses(lam, [4, 2], limit="data", draws=1, rng=rng)
    with pytest.raises(ValueError, match="draws"):
        resolution_limited_losses(lam, [2], limit="data", draws=0, rng=rng)
    with pytest.raises(ValueError, match="Generator"):
        resolution_limited_losses(lam, [2], limit="data", draws=1, rng="zero")
    # a seed is accepted in place of a Generator: the same draws as default_rng(seed)
    np.testing.assert_array_equal(resolution_limited_losses(lam, [2], limit="data", draws=1, rng=3),
                                  resolution_limited_losses(lam, [2], limit="data", draws=1,
                                                            rng=np.random.default_rng(3)))
    with pytest.raises(ValueError, match="positive variances"):
        resolution_limited_losses(-lam, [2], limit="data", draws=1, rng=rng)
    with pytest.raises(ValueError, match="vary"):
        variance_limited_losses(lam, 2, [8], vary="both", draws=1, rng=rng)
    with pytest.raises(ValueError, match="n_fixed"):
        variance_limited_losses(lam, 7, [8], vary="data", draws=1, rng=rng)
