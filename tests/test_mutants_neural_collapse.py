"""Tests written against the surviving mutants of benchmarks/mutation.md: course_utils.theory.neural_collapse.

Known values by hand (NC1 of a configuration with an exact within-class scatter and a diagonal Σ_B, NC3 of a
fitted C = 2 readout, a two-class ETF), invariances (scale of the features for NC4, scale of S for
psd_power's tolerance and cut-off), the deep-linear training loop against the closed-form gradients of
dln_gradients and against the imbalances of the trained weights, and the boundaries and messages of the
argument checks.
"""

import numpy as np
import pytest
import torch

from course_utils.models.deep_linear import DeepLinearNetwork
from course_utils.theory import neural_collapse as nc
from course_utils.train import TrainingDiverged
from course_utils.validate import ArgumentError

RNG = np.random.default_rng(11)
H = RNG.standard_normal((12, 4))
Y = np.repeat(np.arange(3), 4)


def _etf(C=3, per_class=4):
    """Features at the vertices of a simplex ETF (unit centred means), labels, and the vertices."""
    centred = np.eye(C) - 1 / C
    lam, U = np.linalg.eigh(centred)
    V = np.sqrt(C / (C - 1)) * centred @ U[:, lam > 0.5]
    y = np.repeat(np.arange(C), per_class)
    return V[y], y, V


# ------------------------------------------------------------------------------------------------
# labels and features
# ------------------------------------------------------------------------------------------------

def test_features_must_be_a_matrix():
    with pytest.raises(ValueError, match=r"^features H must have shape \(N, p\)"):
        nc.class_means(H[:, 0], Y)


@pytest.mark.parametrize("labels", [np.zeros(12, dtype=int),                  # one class only: C = 1
                                    np.where(Y == 1, 2, Y)])                  # class 1 has no sample
def test_every_class_needs_a_sample_and_two_classes_are_needed(labels):
    with pytest.raises(ValueError, match="^every class 0 … C−1 needs at least one sample and C ≥ 2"):
        nc.class_means(H, labels)


def test_a_class_mean_at_the_global_mean_has_no_direction():
    means = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]])      # μ_2 = μ_G = 0
    y = np.repeat(np.arange(3), 2)
    Hs = means[y] + np.array([[0.0, 1.0], [0.0, -1.0]] * 3)
    with pytest.raises(ValueError, match="^a class mean coincides with the global mean"):
        nc.centred_mean_gram(Hs, y)


# ------------------------------------------------------------------------------------------------
# NC1, NC3, NC4, collapse_measures
# ------------------------------------------------------------------------------------------------

def _diagonal_between_scatter(eps=0.1, s=0.5):
    """Means (1, ε), (−1, ε), (0, −2ε): μ_G = 0, Σ_B = diag(2/3, 2ε²); four samples per class at
    μ_c ± s e_1, μ_c ± s e_2, so Σ_W = (s²/2) I exactly."""
    means = np.array([[1.0, eps], [-1.0, eps], [0.0, -2 * eps]])
    offsets = s * np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    y = np.repeat(np.arange(3), 4)
    return means[y] + np.tile(offsets, (3, 1)), y


def test_nc1_by_hand_and_its_rcond_cuts_the_small_between_class_direction():
    eps, s = 0.1, 0.5
    Hs, y = _diagonal_between_scatter(eps, s)
    Sw, Sb = nc.scatter_matrices(Hs, y)
    np.testing.assert_allclose(Sw, s ** 2 / 2 * np.eye(2), atol=1e-15)
    np.testing.assert_allclose(Sb, np.diag([2 / 3, 2 * eps ** 2]), atol=1e-15)
    full = s ** 2 / 2 * (3 / 2 + 1 / (2 * eps ** 2)) / 3           # tr(Σ_W Σ_B⁻¹)/C
    assert nc.nc1(Hs, y) == pytest.approx(full, rel=1e-12)
    # eigenvalue ratio of Σ_B is 3ε² = 0.03: rcond = 0.1 keeps only the large direction
    assert nc.nc1(Hs, y, rcond=0.1) == pytest.approx(s ** 2 / 2 * (3 / 2) / 3, rel=1e-12)
    assert nc.nc1(Hs, y, rcond=0.01) == pytest.approx(full, rel=1e-12)


def test_nc3_messages():
    Hs, y, V = _etf()
    with pytest.raises(ValueError, match=r"^the classifier W must have shape \(C, p\) = \(3, 2\)"):
        nc.nc3(V.T, Hs, y)
    with pytest.raises(ArgumentError, match="^the classifier W is zero: its direction is undefined"):
        nc.nc3(np.zeros((3, 2)), Hs, y)
    with pytest.raises(ArgumentError, match="^the classifier W is zero once its mean row is removed"):
        nc.nc3(np.ones((3, 2)), Hs, y, center_classifier=True)


def test_collapse_measures_passes_center_classifier_on():
    Hs, y, V = _etf()
    W = 2.0 * V + np.array([1.0, -0.5])           # the ETF readout plus a common row
    scores = Hs @ W.T
    plain = nc.collapse_measures(Hs, y, W, scores)
    centred = nc.collapse_measures(Hs, y, W, scores, center_classifier=True)
    assert centred["NC3"] == pytest.approx(0.0, abs=1e-12)
    assert plain["NC3"] > 0.3
    assert plain["NC3"] == pytest.approx(nc.nc3(W, Hs, y), rel=1e-12)


def test_nc4_is_invariant_under_any_scale_of_the_features():
    Hs, y, V = _etf(per_class=3)
    Hs = Hs + 0.1 * np.random.default_rng(0).standard_normal(Hs.shape)
    scores = Hs @ V.T                              # the nearest-centre classifier of an ETF: NC4 = 0
    for c in (1e-120, 1.0, 1e120):
        assert nc.nc4(c * scores, c * Hs, y) == 0.0, c
    wrong = scores[:, [1, 2, 0]]                   # every prediction moved to another class
    for c in (1e-120, 1.0, 1e120):
        assert nc.nc4(wrong, c * Hs, y) == 1.0, c


# ------------------------------------------------------------------------------------------------
# deep linear helpers
# ------------------------------------------------------------------------------------------------

def test_weights_must_chain_everywhere():
    A, B = RNG.standard_normal((4, 3)), RNG.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"^grads must chain \(grads\[2\] after grads\[1\]\)"):
        nc.imbalance_step([A, B, RNG.standard_normal((2, 5))], 0.1)
    X, Yt = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))
    with pytest.raises(ValueError, match="^weights must chain"):
        nc.dln_gradients([np.ones(3), np.ones((2, 3))], X, Yt)          # a vector is not a layer


def test_dln_gradients_checks_the_width_of_x():
    Ws = [RNG.standard_normal((4, 3)), RNG.standard_normal((2, 4))]
    with pytest.raises(ValueError, match=r"^X must have shape \(N, 3\), got \(5, 4\)"):
        nc.dln_gradients(Ws, RNG.standard_normal((5, 4)), RNG.standard_normal((5, 2)))


def test_imbalance_step_gives_the_change_of_every_imbalance_of_a_four_layer_network():
    rng = np.random.default_rng(3)
    Ws = [rng.standard_normal((4, 3)), rng.standard_normal((5, 4)), rng.standard_normal((3, 5)),
          rng.standard_normal((2, 3))]
    X, Yt = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    grads, _ = nc.dln_gradients(Ws, X, Yt)
    lr = 0.05
    after = [W - lr * G for W, G in zip(Ws, grads)]
    D = lambda ws: [ws[l + 1].T @ ws[l + 1] - ws[l] @ ws[l].T for l in range(3)]   # noqa: E731
    steps = nc.imbalance_step(grads, lr)
    assert len(steps) == 3
    for got, a, b in zip(steps, D(after), D(Ws)):
        np.testing.assert_allclose(got, a - b, atol=1e-10)


def test_least_squares_map_uses_rcond():
    X = np.array([[1.0, 0.0], [0.0, 0.01], [0.0, 0.0]])
    Yt = np.array([[1.0], [1.0], [0.0]])
    np.testing.assert_allclose(nc.least_squares_map(X, Yt), [[1.0, 100.0]], rtol=1e-12)
    np.testing.assert_allclose(nc.least_squares_map(X, Yt, rcond=1e-3), [[1.0, 100.0]], rtol=1e-12)
    # singular values below rcond × the largest are dropped: the minimum-norm fit on the kept direction
    np.testing.assert_allclose(nc.least_squares_map(X, Yt, rcond=0.1), [[1.0, 0.0]], atol=1e-15)
    with pytest.raises(ValueError, match=r"^X \(N, d\) and Y \(N, C\) must have the same number of rows"):
        nc.least_squares_map(np.ones(3), Yt)


@pytest.mark.parametrize("c", [1e-6, 1.0, 1e6])
def test_psd_power_tolerance_and_cutoff_are_relative_to_the_largest_eigenvalue(c):
    # a negative eigenvalue of 1e-9 of the largest is round-off: accepted (and dropped)
    np.testing.assert_allclose(nc.psd_power(c * np.diag([1.0, -1e-9]), 0.5), np.sqrt(c) * np.diag([1.0, 0.0]),
                               rtol=1e-12, atol=0)
    # a zero eigenvalue is fine
    np.testing.assert_allclose(nc.psd_power(c * np.diag([4.0, 0.0]), 0.5), np.sqrt(c) * np.diag([2.0, 0.0]),
                               rtol=1e-12, atol=0)
    # 1e-6 of the largest is not round-off: refused
    with pytest.raises(ValueError, match="^S must be positive semi-definite"):
        nc.psd_power(c * np.diag([1.0, -1e-6]), 0.5)
    # eigenvalues below rcond = 1e-12 of the largest are dropped, whatever the scale
    np.testing.assert_array_equal(nc.psd_power(c * np.diag([1.0, 1e-14]), 1.0), c * np.diag([1.0, 0.0]))
    np.testing.assert_allclose(nc.psd_power(c * np.diag([1.0, 1e-10]), 1.0), c * np.diag([1.0, 1e-10]),
                               rtol=1e-12, atol=0)


def test_psd_power_tolerance_boundary_and_rcond_zero():
    # exactly −1e-8 × the largest eigenvalue is still tolerated
    np.testing.assert_allclose(nc.psd_power(np.diag([1.0, -1e-8]), 1.0), np.diag([1.0, 0.0]))
    # rcond = 0 keeps every positive eigenvalue but no zero one (a pseudo-inverse)
    np.testing.assert_allclose(nc.psd_power(np.diag([2.0, 0.0]), -1.0, rcond=0.0), np.diag([0.5, 0.0]))


def test_balanced_geometry_messages():
    E = RNG.standard_normal((2, 3))
    with pytest.raises(ValueError, match=r"^E \(C, d\) and X \(N, d\) must agree on d"):
        nc.balanced_geometry(E, RNG.standard_normal((5, 4)), 2)
    with pytest.raises(ValueError, match=r"^E \(C, d\) and X \(N, d\) must agree on d"):
        nc.balanced_geometry(E[0], RNG.standard_normal((5, 3)), 2)
    with pytest.raises(ValueError, match="^E Eᵀ is singular"):
        nc.balanced_geometry(np.vstack([E, E[:1]]), RNG.standard_normal((5, 3)), 2)


# ------------------------------------------------------------------------------------------------
# readouts
# ------------------------------------------------------------------------------------------------

def test_nc3_of_a_fitted_readout_with_two_classes():
    # W = u e_1ᵀ, u = (1, −1): ‖W‖_F = √2, W⁺J = e_1 (½, −½) of norm 1/√2, so κ_W = (C − 1)/1 = 1
    W = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert nc.nc3_of_a_fitted_readout(W, 0.0) == pytest.approx(0.0, abs=1e-7)
    assert nc.nc3_of_a_fitted_readout(W, 0.75) == pytest.approx(1.0, rel=1e-12)   # √(2 − 2·√0.25)


def test_readout_geometry_accepts_two_classes_and_square_readouts():
    rng = np.random.default_rng(4)
    W2 = rng.standard_normal((2, 3))
    geo = nc.readout_geometry(W2)
    # two centred means are always antipodal: a two-vertex ETF of equal norms
    assert geo["NC2"] == pytest.approx(0.0, abs=1e-12) and geo["equinorm"] == pytest.approx(0.0, abs=1e-12)
    assert geo["NC3"] == pytest.approx(nc.nc3_of_a_fitted_readout(W2, 0.0), rel=1e-10)
    W3 = rng.standard_normal((3, 3))
    assert nc.readout_geometry(W3)["NC3"] == pytest.approx(nc.nc3_of_a_fitted_readout(W3, 0.0), rel=1e-10)
    with pytest.raises(ValueError, match=r"^the readout W must be a \(C, p\) matrix with 2 ≤ C ≤ p"):
        nc.readout_geometry(np.ones((1, 3)))


def test_unit_imbalance_shapes():
    A, B = RNG.standard_normal((4, 3)), RNG.standard_normal((2, 4))
    b = np.array([0.5, -1.0, 0.0, 2.0])
    np.testing.assert_allclose(nc.unit_imbalance(A, b[:, None], B), (B ** 2).sum(0) - (A ** 2).sum(1) - b ** 2)
    with pytest.raises(ValueError, match=r"^W_out \(n_next, n\) must read the n units of W_in"):
        nc.unit_imbalance(np.ones(4), None, B)


# ------------------------------------------------------------------------------------------------
# train_deep_linear
# ------------------------------------------------------------------------------------------------

def _net(K=2, depth=3, dtype=torch.float64, init_scale=0.8, seed=0):
    return DeepLinearNetwork(6, [5, 4][:depth - 1], 3, depth, init_scale=init_scale, n_members=K,
                             generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _data(N=10, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, 6)), rng.standard_normal((N, 3))


def test_train_deep_linear_follows_the_closed_form_gradients():
    """The recorded losses are (1/2N)‖X E_kᵀ − Y‖² of gradient descent with each member's learning rate,
    computed here with dln_gradients in float64 from NumPy data."""
    X, Yt = _data()
    net = _net()
    lrs = [0.05, 0.1]
    Ws = [[W[k].detach().numpy().copy() for W in net.weights] for k in range(2)]
    hist = nc.train_deep_linear(net, X, Yt, lr=lrs, steps=3, record=(0, 2, 3))
    assert hist["step"].tolist() == [0, 2, 3]
    assert set(hist.keys()) == {"loss"} and hist.imbalance_change is None   # no measures without labels
    for k in range(2):
        want = []
        for _ in range(4):
            grads, loss = nc.dln_gradients(Ws[k], X, Yt)
            want.append(loss)
            Ws[k] = [W - lrs[k] * G for W, G in zip(Ws[k], grads)]
        np.testing.assert_allclose(hist["loss"][:, k], [want[0], want[2], want[3]], rtol=1e-12)


def test_train_deep_linear_takes_a_scalar_learning_rate():
    X, Yt = _data()
    a = nc.train_deep_linear(_net(), X, Yt, lr=0.05, steps=2, record=(2,))
    b = nc.train_deep_linear(_net(), X, Yt, lr=[0.05, 0.05], steps=2, record=(2,))
    np.testing.assert_array_equal(a["loss"], b["loss"])


def test_train_deep_linear_keeps_tensor_targets_unrounded():
    """A float32 network at zero (init_scale 0) with float64 tensor targets: the loss is ½‖Y‖²/N of the
    targets as given."""
    Yt = torch.tensor(_data()[1])
    net = _net(K=1, dtype=torch.float32, init_scale=0.0)
    hist = nc.train_deep_linear(net, np.ones((10, 6)), Yt, lr=0.1, steps=0, record=(0,))
    want = 0.5 * float((Yt ** 2).sum()) / 10
    assert abs(float(hist["loss"][0, 0]) - want) < 1e-13 * want     # float32 targets would be off by ~1e-8


def test_train_deep_linear_records_the_measures_of_the_penultimate_features():
    X, Yt = _data(N=12)
    labels = np.arange(12) % 3
    net = _net(K=1)
    hist = nc.train_deep_linear(net, X, np.eye(3)[labels], lr=0.05, steps=0, labels=labels, record=(0,))
    W1, W2, W3 = (W[0].detach().numpy() for W in net.weights)
    h = X @ W1.T @ W2.T
    want = nc.collapse_measures(h, labels, W3, h @ W3.T, center_classifier=True)
    assert want["NC3"] != pytest.approx(nc.nc3(W3, h, labels), rel=1e-3)   # the centring matters here
    for key, value in want.items():
        assert hist[key].shape == (1, 1)
        assert hist[key][0, 0] == pytest.approx(value, rel=1e-12, abs=1e-15), key


def test_train_deep_linear_accumulates_the_change_of_the_imbalances():
    X, Yt = _data()
    net = _net()
    before = [D.numpy().copy() for D in net.imbalance()]
    hist = nc.train_deep_linear(net, X, Yt, lr=[0.05, 0.1], steps=3, record=(), accumulate_imbalance_change=True)
    after = [D.numpy() for D in net.imbalance()]
    change = hist.imbalance_change
    assert len(change) == 2 and all(len(c) == 2 for c in change)        # members × (L − 1) matrices
    for k in range(2):
        for l in range(2):
            want = after[l][k] - before[l][k]
            assert np.abs(want).max() > 1e-6
            np.testing.assert_allclose(np.asarray(change[k][l]), want, rtol=1e-8, atol=1e-12)


def test_train_deep_linear_reports_divergence_at_the_first_non_finite_step():
    """The ensemble loop watches every step's loss: the error names the first step at which it was NaN or
    infinite, the member and its learning rate (not only the next recorded step)."""
    X, Yt = _data()
    net = _net(depth=2)
    with pytest.raises(TrainingDiverged, match=r"member \[1\].*first at step \d+.*learning rates \[50.0\]") as info:
        nc.train_deep_linear(net, X, Yt, lr=[0.01, 50.0], steps=30, record=(0,))
    assert 0 < info.value.step < 30
    assert info.value.members == [1]
    assert info.value.lr == [50.0]


@pytest.mark.parametrize("kwargs, start", [
    (dict(X=np.ones((10, 5))), "^X "),                       # width 5 for d = 6
    (dict(X=np.full((10, 6), np.nan)), "^X must contain only finite"),
    (dict(Y=np.ones((10, 1))), "^Y "),                       # one column for C = 3 classes
    (dict(Y=np.full((10, 3), np.nan)), "^Y must contain only finite"),
    (dict(lr=[0.1, 0.1, 0.1]), "^lr must be a number or one learning rate per member"),
    (dict(lr=[[0.1, 0.1]]), "^lr "),
    (dict(lr=np.nan), "^lr "),
    (dict(lr=[0.1, 0.0]), r"^lr \(the learning rates\) must be positive"),
    (dict(steps=-1), "^steps"),
])
def test_train_deep_linear_names_the_bad_argument(kwargs, start):
    X, Yt = _data()
    args = dict(X=X, Y=Yt, lr=0.1, steps=1)
    args.update(kwargs)
    with pytest.raises(ArgumentError, match=start):
        nc.train_deep_linear(_net(), args.pop("X"), args.pop("Y"), **args)


def test_train_deep_linear_needs_members():
    X, Yt = _data()
    with pytest.raises(ValueError, match="n_members"):
        nc.train_deep_linear(DeepLinearNetwork(6, 5, 3, 2), X, Yt, lr=0.1, steps=1)
