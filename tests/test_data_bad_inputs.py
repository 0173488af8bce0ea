"""Bad arguments to course_utils.data end in a clear ArgumentError naming the argument; integer 0/1
masks are read as boolean masks; properties of the generators against independent computations."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.data import arithmetic as A
from course_utils.data import classification as C
from course_utils.data import counting as CT
from course_utils.data import manifold as MF
from course_utils.data import sparse_parity as SP
from course_utils.data import synthetic as SY
from course_utils.validate import ArgumentError

NAN, INF = float("nan"), float("inf")


def _digits_like():
    z = torch.arange(60, dtype=torch.float64).reshape(20, 3)
    return z, torch.arange(20) % 4


def _task():
    return SP.MultitaskSparseParity(n_skills=3, n_bits=5, m=2, alpha=1.0)


BAD_CALLS = [
    ("p", lambda: A.modular_addition(1)),
    ("p", lambda: A.addition_task(p="10")),
    ("pairs", lambda: A.one_hot_pairs(torch.tensor([[0, 5]]), 5)),
    ("pairs", lambda: A.one_hot_pairs(torch.tensor([[0, 1, 2]]), 5)),
    ("pairs", lambda: A.one_hot_pairs(torch.tensor([[0.5, 1.0]]), 5)),
    ("fraction", lambda: A.n_train_from_fraction(10, NAN)),
    ("fraction", lambda: A.n_train_from_fraction(10, 1.5)),
    ("n_total", lambda: A.n_train_from_fraction(-3, 0.5)),
    ("seed", lambda: A.split_mask(10, 0.5, seed=-1)),
    ("fractions[1]", lambda: A.split_masks(10, [0.5, 1.2], seeds=[0, 1])),
    ("fractions", lambda: A.split_masks(10, -0.5, seeds=[0, 1])),
    ("fractions", lambda: A.split_masks(10, [0.5, 0.5, 0.5], seeds=[0, 1])),
    ("fractions", lambda: A.split_masks(10, NAN, seeds=[0])),
    ("seeds", lambda: A.split_masks(10, 0.5, seeds=3)),
    ("train_mask", lambda: A.answerable(torch.arange(4), torch.tensor([0, 1, 2, 1]))),
    ("train_mask", lambda: A.answerable(torch.arange(4), torch.ones(5, dtype=torch.bool))),
    ("labels", lambda: A.answerable(torch.tensor([0.5, 1, 2, 3]), torch.ones(4, dtype=torch.bool))),
    ("dtype", lambda: C.load_digits(dtype=torch.int32)),
    ("M", lambda: C.gaussian_classes(10, 2, 1)),
    ("separation", lambda: C.gaussian_classes(10, 2, 2, separation=NAN)),
    ("seed", lambda: C.gaussian_classes(10, 2, 2, seed=1.5)),
    ("per_class", lambda: C.balanced_indices(torch.arange(4), 0)),
    ("y", lambda: C.balanced_indices(torch.tensor([0.5, 1.0]), 1)),
    ("n_train_per_class", lambda: C.train_val_split(*_digits_like(), -5, 1)),
    ("n_train_per_class", lambda: C.train_val_split(*_digits_like(), 0, 1)),
    ("n_val_per_class", lambda: C.train_val_split(*_digits_like(), 2, -1)),
    ("y", lambda: C.train_val_split(_digits_like()[0], torch.arange(19) % 4, 2, 1)),
    ("z", lambda: C.train_val_split(torch.full((20, 3), NAN), _digits_like()[1], 2, 1)),
    ("eps", lambda: C.standardize(_digits_like()[0], eps=-1.0)),
    ("reference", lambda: C.standardize(_digits_like()[0], torch.zeros(5, 4))),
    ("z", lambda: C.standardize("z")),
    ("E", lambda: C.pca_embed(_digits_like()[0], 0)),
    ("whiten", lambda: C.pca_embed(_digits_like()[0], 2, whiten="no")),
    ("split", lambda: C.load_fashion_mnist("validation")),
    ("timeout", lambda: C.load_fashion_mnist("train", timeout=0)),
    ("K", lambda: CT.zipf_probabilities(0, 1.0)),
    ("exponent", lambda: CT.zipf_probabilities(5, NAN)),
    ("p", lambda: CT.sample_counts([0.5, NAN], 10, 2, np.random.default_rng(0))),
    ("N", lambda: CT.sample_counts([0.5, 0.5], 2.5, 2, np.random.default_rng(0))),
    ("draws", lambda: CT.sample_labels([0.5, 0.5], 3, "2", np.random.default_rng(0))),
    ("d", lambda: MF.TorusManifold(2.0)),
    ("bend", lambda: MF.TorusManifold(2, bend=NAN)),
    ("n_bend", lambda: MF.TorusManifold(2, n_bend=-1)),
    ("seed", lambda: MF.TorusManifold(2, seed=-2)),
    ("phi", lambda: MF.TorusManifold(2).target([[0.1, NAN]])),
    ("X", lambda: MF.nearest_neighbour_distances([[0.0, NAN], [1.0, 1.0]], 1)),
    ("alpha", lambda: SP.MultitaskSparseParity(4, 10, 2, alpha=NAN)),
    ("alpha", lambda: SP.MultitaskSparseParity(4, 10, 2, alpha=INF)),
    ("m", lambda: SP.skill_subsets(3, 5, 6)),
    ("seed", lambda: SP.skill_subsets(3, 5, 2, seed=-1)),
    ("labels", lambda: _task().sample(4, seed=0, labels="bool")),
    ("n", lambda: _task().sample(-1, seed=0)),
    ("skill", lambda: _task().sample(4, seed=0, skill=3)),
    ("generator", lambda: _task().sample(4, generator=np.random.default_rng(0))),
    ("bits", lambda: _task().labels(torch.zeros(4, dtype=torch.long), torch.full((4, 5), 2))),
    ("bits", lambda: _task().labels(torch.zeros(4, dtype=torch.long), torch.zeros(4, 6))),
    ("skill", lambda: _task().encode(torch.tensor([0, 3]), torch.zeros(2, 5))),
    ("skills", lambda: _task().relu_network(4)),
    ("n_per_skill", lambda: _task().test_set(0)),
    ("d", lambda: SY.power_law_spectrum(2.5, 1.0)),
    ("exponent", lambda: SY.power_law_spectrum(3, NAN)),
    ("scale", lambda: SY.power_law_spectrum(3, 1.0, scale=INF)),
    ("spectrum", lambda: SY.gaussian_features(3, [1.0, NAN], 0)),
    ("batch", lambda: SY.gaussian_features(3, [1.0], 0, batch=(-1,))),
    ("rng", lambda: SY.gaussian_features(3, [1.0], rng=None)),
    ("noise", lambda: SY.linear_teacher(np.zeros((3, 2)), np.ones(2), NAN, 0)),
    ("X", lambda: SY.linear_teacher("X", np.ones(2), 0.1, 0)),
    ("n_features", lambda: SY.random_feature_weights(3, 0, 0)),
    ("weights", lambda: SY.random_relu_features(np.zeros((3, 2)), np.full((4, 2), INF))),
]


@pytest.mark.parametrize("name,call", BAD_CALLS, ids=[f"{i}-{n}" for i, (n, _) in enumerate(BAD_CALLS)])
def test_bad_arguments_raise_an_argument_error_naming_them(name, call):
    with pytest.raises(ArgumentError) as info:
        call()
    assert name in str(info.value)


def test_answerable_reads_an_integer_mask_as_a_boolean_one():
    """A 0/1 mask of ints used to be inverted bitwise (~1 = −2, ~0 = −1, both "true"): every sample
    came out answerable, training samples included."""
    task = A.addition_task(5, 3)
    mask = A.split_mask(task.n, 0.5, seed=1)
    want = A.answerable(task.sums, mask)
    for as_int in (mask.long(), mask.int(), mask.to(torch.uint8), mask.double(), mask.numpy()):
        assert torch.equal(A.answerable(task.sums, as_int), want)
    assert not (want & mask).any()                       # a training sample is never a validation sample
    masks = A.split_masks(task.n, [0.3, 0.7], seeds=[0, 1])
    assert torch.equal(A.answerable(task.sums, masks.long()), A.answerable(task.sums, masks))


def test_train_val_split_of_negative_size_is_refused_not_empty():
    z, y = _digits_like()
    (zt, yt), (zv, yv) = C.train_val_split(z, y, 2, 1, seed=0)
    assert len(yt) == 8 and len(yv) == 4
    assert set(torch.unique(yt).tolist()) == {0, 1, 2, 3}
    with pytest.raises(ArgumentError, match="n_train_per_class must be an integer ≥ 1, got -5"):
        C.train_val_split(z, y, -5, 1)


def test_standardize_converts_the_reference_to_the_dtype_of_z():
    z, _ = _digits_like()
    out = C.standardize(z, z.float())
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, C.standardize(z, z), rtol=1e-6, atol=1e-6)
    assert C.standardize(z.numpy()).dtype == torch.get_default_dtype()


@settings(max_examples=30, deadline=None)
@given(n_total=st.integers(1, 60), fraction=st.floats(1e-3, 1.0), seed=st.integers(0, 10**6))
def test_split_mask_holds_round_fraction_times_n(n_total, fraction, seed):
    mask = A.split_mask(n_total, fraction, seed)
    assert mask.dtype == torch.bool and mask.shape == (n_total,)
    assert int(mask.sum()) == min(n_total, max(1, round(fraction * n_total)))


@settings(max_examples=20, deadline=None)
@given(p=st.integers(2, 12))
def test_one_hot_pairs_encode_both_symbols(p):
    pairs, labels = A.modular_addition(p)
    x = A.one_hot_pairs(pairs, p)
    assert x.shape == (p * p, 2 * p) and torch.equal(x.sum(1), torch.full((p * p,), 2.0))
    assert torch.equal(x[:, :p].argmax(1), pairs[:, 0]) and torch.equal(x[:, p:].argmax(1), pairs[:, 1])
    assert torch.equal(labels, (pairs[:, 0] + pairs[:, 1]) % p)


@settings(max_examples=20, deadline=None)
@given(K=st.integers(1, 30), exponent=st.floats(0.0, 4.0))
def test_counting_zipf_probabilities_sum_to_one_and_fall(K, exponent):
    p = CT.zipf_probabilities(K, exponent)
    assert p.sum() == pytest.approx(1.0) and np.all(np.diff(p) <= 0)
    k = np.arange(1, K + 1)
    np.testing.assert_allclose(p[0] / p, k ** exponent, rtol=1e-10)


@settings(max_examples=15, deadline=None)
@given(n_skills=st.integers(1, 6), n_bits=st.integers(2, 8), data=st.data())
def test_sparse_parity_labels_are_parities_of_the_skill_subset(n_skills, n_bits, data):
    m = data.draw(st.integers(1, n_bits))
    seed = data.draw(st.integers(0, 99))
    task = SP.MultitaskSparseParity(n_skills=n_skills, n_bits=n_bits, m=m, alpha=0.5, seed=seed)
    x, y, k = task.sample(20, seed=0)
    bits = x[:, n_skills:].long()
    for i in range(20):
        assert int(y[i]) == int(bits[i, task.subsets[k[i]]].sum()) % 2
    assert torch.equal(task.labels(k.numpy(), bits.numpy()), y)     # NumPy input, same answer


def test_rng_may_be_a_seed_and_then_means_default_rng_of_it():
    a = SY.gaussian_features(4, [1.0, 2.0], 5)
    b = SY.gaussian_features(4, [1.0, 2.0], np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name,call", [
    ("target_scale", lambda: A.addition_task(5, 3, target_scale=NAN)),
    ("target_seed", lambda: A.addition_task(5, 3, target_seed=-1)),
    ("out_dim", lambda: A.addition_task(5, 0)),
    ("path", lambda: C.read_idx(3)),
    ("cache", lambda: C.load_fashion_mnist("train", cache=3)),
])
def test_more_bad_arguments(name, call):
    with pytest.raises(ArgumentError, match=name):
        call()
