"""Fourier analysis of modular addition (course_utils.theory.modular_fourier)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.theory import modular_fourier as mf


def grid(p):
    a = np.arange(p)
    return (a[:, None, None] + a[None, :, None] - a[None, None, :]) % p        # s = a + b − c


def test_basis_is_orthonormal_and_ordered():
    p = 9
    B = mf.fourier_basis(p)
    np.testing.assert_allclose(B @ B.T, np.eye(p), atol=1e-12)
    a = np.arange(p)
    np.testing.assert_allclose(B[0], np.full(p, 1 / 3))
    np.testing.assert_allclose(B[3], np.sqrt(2 / p) * np.cos(2 * np.pi * 2 * a / p))
    np.testing.assert_allclose(B[4], np.sqrt(2 / p) * np.sin(2 * np.pi * 2 * a / p))


@pytest.mark.parametrize("p", [2, 8, 1, "7"])
def test_basis_needs_an_odd_modulus(p):
    with pytest.raises(ValueError, match="p"):
        mf.fourier_basis(p)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 6), phase=st.floats(-3, 3), amp=st.floats(0.1, 10), shift=st.floats(-5, 5),
       n=st.integers(1, 4))
def test_a_pure_cosine_has_all_its_power_at_its_frequency(k, phase, amp, shift, n):
    p = 13
    a = np.arange(p)
    W = np.stack([amp * (j + 1) * np.cos(2 * np.pi * k * a / p + phase + j) + shift for j in range(n)], axis=1)
    power = mf.frequency_power(W)
    np.testing.assert_allclose(power.sum(), ((W - W.mean(0)) ** 2).sum(), rtol=1e-9)     # Parseval, no constant
    shares = mf.frequency_shares(W)
    assert shares.shape == ((p - 1) // 2,)
    np.testing.assert_allclose(shares[k - 1], 1.0, atol=1e-9)
    assert mf.effective_frequencies(shares) == pytest.approx(1.0, abs=1e-6)
    assert mf.top_frequencies(shares, 1)[0] == k
    assert mf.top_share(shares, 1) == pytest.approx(1.0)
    np.testing.assert_array_equal(mf.key_frequencies(shares), [k])


def test_shares_and_participation_ratio_of_known_spectra():
    p = 11
    a = np.arange(p)
    W = np.stack([np.cos(2 * np.pi * a / p), 2 * np.sin(2 * np.pi * 3 * a / p)], axis=1)   # powers 1 : 4
    s = mf.frequency_shares(W)
    np.testing.assert_allclose(s[[0, 2]], [0.2, 0.8], atol=1e-12)
    assert mf.effective_frequencies(s) == pytest.approx(1 / (0.04 + 0.64))
    np.testing.assert_array_equal(mf.top_frequencies(s, 2), [3, 1])
    assert mf.top_share(s, 1) == pytest.approx(0.8)
    np.testing.assert_array_equal(mf.key_frequencies(s), [3])                   # threshold 2/5
    np.testing.assert_array_equal(mf.key_frequencies(s, factor=0.5), [1, 3])    # threshold 1/10
    np.testing.assert_array_equal(mf.key_frequencies(s, factor=3.0), [3])         # threshold 3/5: only 0.8
    flat = np.full(5, 0.2)
    assert mf.effective_frequencies(flat) == pytest.approx(5.0)
    assert len(mf.key_frequencies(flat)) == 0


def test_shares_batch_over_leading_axes():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 2, 9, 4))
    s = mf.frequency_shares(W)
    assert s.shape == (3, 2, 4)
    np.testing.assert_allclose(s[1, 0], mf.frequency_shares(W[1, 0]))
    assert mf.effective_frequencies(s).shape == (3, 2)


def test_random_weights_match_the_participation_ratio_theory():
    p, n = 31, 16
    rng = np.random.default_rng(1)
    neff = mf.effective_frequencies(mf.frequency_shares(rng.standard_normal((400, p, n))))
    # mean of 400 draws; its standard error is ~0.05, the 1/F corrections of the formula ~0.1
    assert neff.mean() == pytest.approx(mf.random_effective_frequencies(p, n), abs=0.3)
    assert mf.random_effective_frequencies(p, n) == pytest.approx(15 / (1 + 1 / 16))


def test_constant_embeddings_have_no_shares():
    with pytest.raises(ValueError, match="same for every symbol"):
        mf.frequency_shares(np.ones((7, 3)))


@settings(max_examples=30, deadline=None)
@given(alpha=st.lists(st.floats(-5, 5), min_size=3, max_size=3), beta=st.lists(st.floats(-5, 5), min_size=3,
                                                                                   max_size=3),
       offset=st.floats(-3, 3))
def test_clock_amplitudes_recover_the_clock(alpha, beta, offset):
    p = 11
    s = grid(p)
    freqs = [1, 2, 4]
    a = np.arange(p)
    L = sum(al * np.cos(2 * np.pi * k * s / p) + be * np.sin(2 * np.pi * k * s / p)
            for k, al, be in zip(freqs, alpha, beta))
    L = L + offset + 0.7 * np.cos(2 * np.pi * 3 * a)[:, None, None]          # + terms outside the clock span
    al, be = mf.clock_amplitudes(L, freqs)
    np.testing.assert_allclose(al, alpha, atol=1e-9)
    np.testing.assert_allclose(be, beta, atol=1e-9)
    clock = mf.clock_component(L, freqs)
    np.testing.assert_allclose(clock + mf.excluded_logits(L, freqs), L, atol=1e-9)
    np.testing.assert_allclose(mf.restricted_logits(L, freqs), clock)
    np.testing.assert_allclose(clock, L - offset - 0.7 * np.cos(2 * np.pi * 3 * a)[:, None, None], atol=1e-9)


def test_clock_fraction_of_pure_partial_and_random_logits():
    p = 7
    s = grid(p)
    pure = 2 * np.cos(2 * np.pi * 3 * s / p) + 5.0
    assert mf.clock_fraction(pure, [3]) == pytest.approx(1.0)
    assert mf.clock_fraction(pure, [1, 2]) == pytest.approx(0.0, abs=1e-12)
    other = np.cos(2 * np.pi * np.arange(p) / p)[None, None, :] * np.ones((p, p, 1))   # depends on c only
    mixed = pure + other                                     # orthogonal parts: powers 2²/2 and 1/2 per triple
    assert mf.clock_fraction(mixed, [3]) == pytest.approx(4 / 5)
    rng = np.random.default_rng(2)
    R = rng.standard_normal((200, p, p, p))
    frac = mf.clock_fraction(R, [1, 2])
    assert frac.shape == (200,)
    assert frac.mean() == pytest.approx(4 / (p * p * (p - 1)), rel=0.15)


def test_restricted_logits_are_the_same_loss_on_every_pair():
    p = 9
    rng = np.random.default_rng(3)
    L = rng.standard_normal((p, p, p))
    R = mf.restricted_logits(L, [1, 4])
    # the clock depends on (a, b, c) through a + b − c only: the logit of the right answer c = a + b is h(0)
    right = R[np.arange(p)[:, None], np.arange(p)[None, :], (np.arange(p)[:, None] + np.arange(p)[None, :]) % p]
    np.testing.assert_allclose(right, right[0, 0])


def test_neuron_fraction_counts_linear_and_product_terms():
    p = 11
    a = np.arange(p)
    c2, s2, c3 = (np.cos(2 * np.pi * 2 * a / p), np.sin(2 * np.pi * 2 * a / p), np.cos(2 * np.pi * 3 * a / p))
    X = np.stack([c2[:, None] * s2[None, :],                    # product of key terms: all in
                  c2[:, None] + 0 * a[None, :],                 # linear in a: in
                  c3[:, None] * c2[None, :],                    # involves frequency 3: out
                  c2[:, None] * s2[None, :] + c3[:, None] * np.ones(p)[None, :],   # kept p²/4 of 3p²/4
                  np.ones((p, p))], axis=-1)                    # constant: undefined
    f = mf.neuron_fraction(X, [2])
    np.testing.assert_allclose(f[:4], [1.0, 1.0, 0.0, 1 / 3], atol=1e-9)       # variances p²/4 and p²/2
    assert np.isnan(f[4])
    np.testing.assert_allclose(mf.neuron_fraction(X, [2, 3])[:4], 1.0, atol=1e-9)
    rng = np.random.default_rng(4)
    noise = mf.neuron_fraction(rng.standard_normal((p, p, 2000)), [2])
    assert noise.mean() == pytest.approx(8 / (p * p - 1), rel=0.1)


@pytest.mark.parametrize("call, match", [
    (lambda: mf.frequency_power(np.ones(7)), "W"),
    (lambda: mf.frequency_power(np.ones((8, 2))), "odd"),
    (lambda: mf.frequency_shares([[np.nan, 1.0]] * 7), "finite"),
    (lambda: mf.effective_frequencies([0.5, 0.6]), "shares"),
    (lambda: mf.effective_frequencies([-0.5, 1.5]), "shares"),
    (lambda: mf.top_frequencies([0.5, 0.5], 3), "n"),
    (lambda: mf.top_share([0.5, 0.5], 0), "n"),
    (lambda: mf.key_frequencies(np.full((2, 2), 0.5)), "per member"),
    (lambda: mf.key_frequencies([0.5, 0.5], factor=0), "factor"),
    (lambda: mf.random_effective_frequencies(7, 0), "n"),
    (lambda: mf.clock_fraction(np.ones((5, 5, 4)), [1]), "shape"),
    (lambda: mf.clock_fraction(np.ones((5, 5, 5)), [1]), "no variance"),
    (lambda: mf.clock_component(np.zeros((5, 5, 5)), [3]), "freqs"),
    (lambda: mf.clock_component(np.zeros((5, 5, 5)), [1, 1]), "distinct"),
    (lambda: mf.clock_amplitudes(np.zeros((5, 5, 5)), [0]), "freqs"),
    (lambda: mf.neuron_fraction(np.zeros((5, 4, 2)), [1]), "activations"),
    (lambda: mf.neuron_fraction(np.zeros((6, 6, 2)), [1]), "odd"),
])
def test_bad_arguments_name_what_is_wrong(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_smallest_modulus_and_largest_frequency_are_allowed():
    B = mf.fourier_basis(3)
    np.testing.assert_allclose(B @ B.T, np.eye(3), atol=1e-12)
    p = 9
    s = grid(p)
    L = np.cos(2 * np.pi * 4 * s / p)                                   # k = (p − 1)/2, the largest
    assert mf.clock_fraction(L, 4) == pytest.approx(1.0)                # a single frequency may be a scalar
    assert mf.clock_fraction(L, [4.0]) == pytest.approx(1.0)            # whole floats are frequencies too
    with pytest.raises(ValueError, match="freqs"):
        mf.clock_fraction(L, [5])
    assert mf.random_effective_frequencies(9, 1) == pytest.approx(2.0)


def test_top_frequencies_and_shares_batch_and_bounds():
    s = np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]])
    np.testing.assert_array_equal(mf.top_frequencies(s, 2), [[2, 3], [1, 3]])
    np.testing.assert_array_equal(mf.top_frequencies(s, 3), [[2, 3, 1], [1, 3, 2]])
    np.testing.assert_allclose(mf.top_share(s, 2), [0.9, 0.8])
    assert mf.top_share(s, 3).shape == (2,)
    assert isinstance(mf.top_share(s[0], 1), float)
    assert isinstance(mf.effective_frequencies(s[0]), float)
    np.testing.assert_allclose(mf.effective_frequencies(s), [1 / 0.46, 1 / 0.38])
    for bad in (0, 4):
        with pytest.raises(ValueError, match="n"):
            mf.top_frequencies(s, bad)
        with pytest.raises(ValueError, match="n"):
            mf.top_share(s, bad)
    with pytest.raises(ValueError, match="shares"):
        mf.top_share(0.5, 1)
    assert mf.effective_frequencies([0.5, 0.5 + 5e-7]) == pytest.approx(2.0, rel=1e-5)   # rounding tolerated
    with pytest.raises(ValueError, match="shares"):
        mf.effective_frequencies([0.5, 0.5 + 1e-4])


def test_key_frequencies_threshold_is_strict_and_default_twice_flat():
    np.testing.assert_array_equal(mf.key_frequencies([0.5, 0.25, 0.25, 0.0]), [])        # 0.5 = 2/F exactly
    np.testing.assert_array_equal(mf.key_frequencies([0.55, 0.2, 0.25, 0.0]), [1])
    np.testing.assert_array_equal(mf.key_frequencies([0.45, 0.25, 0.3, 0.0], factor=1.0), [1, 3])


def test_clock_fraction_ignores_offsets_per_input_and_scale():
    p = 7
    s = grid(p)
    rng = np.random.default_rng(5)
    L = np.cos(2 * np.pi * s / p) + 0.5 * rng.standard_normal((p, p, p))
    f = mf.clock_fraction(L, [1])
    shifted = L + rng.standard_normal((p, p, 1)) * 10                   # a constant per (a, b): softmax ignores it
    assert mf.clock_fraction(shifted, [1]) == pytest.approx(f)
    assert mf.clock_fraction(1e-3 * L, [1]) == pytest.approx(f)
    batch = mf.clock_fraction(np.stack([L, 2 * L]), [1])
    np.testing.assert_allclose(batch, [f, f])
    with pytest.raises(ValueError, match="logits"):
        mf.clock_fraction(np.zeros((7, 7)), [1])
    np.testing.assert_allclose(mf.clock_component(np.stack([L, L]), [1])[1], mf.clock_component(L, [1]))


def test_nearly_constant_inputs_are_still_measured():
    p = 7
    a = np.arange(p)
    W = 1.0 + 1e-6 * np.cos(2 * np.pi * 2 * a / p)[:, None]
    np.testing.assert_allclose(mf.frequency_shares(W), [0, 1, 0], atol=1e-9)
    X = (1.0 + 1e-6 * np.cos(2 * np.pi * 2 * a / p)[:, None] * np.ones(p)[None, :])[..., None]
    assert mf.neuron_fraction(X, [2])[0] == pytest.approx(1.0)
    batch = np.stack([X, np.roll(X, 1, axis=1)])                        # (2, p, p, 1): leading axes allowed
    assert mf.neuron_fraction(batch, [2]).shape == (2, 1)


@pytest.mark.parametrize("call", [
    lambda: mf.frequency_power(np.ones((7, 2, 2, 2, 2, 2, 2, 2))),
    lambda: mf.effective_frequencies(np.full((1,) * 8, 1.0)),
    lambda: mf.clock_fraction(np.ones((7,) * 8), [1]),
    lambda: mf.neuron_fraction(np.ones((7, 7)), [1]),
    lambda: mf.clock_fraction(np.ones((7, 7, 7)), [[1, 2]]),
])
def test_too_many_or_too_few_axes_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_answer_loss_is_the_cross_entropy_of_the_right_answers():
    import torch
    p = 7
    rng = np.random.default_rng(6)
    L = rng.standard_normal((3, p, p, p)) * 3
    a = np.arange(p)
    labels = torch.as_tensor(((a[:, None] + a[None, :]) % p).ravel())
    for k in range(3):
        ref = torch.nn.functional.cross_entropy(torch.as_tensor(L[k]).reshape(p * p, p), labels).item()
        assert mf.answer_loss(L[k]) == pytest.approx(ref, rel=1e-12)
    np.testing.assert_allclose(mf.answer_loss(L), [mf.answer_loss(L[k]) for k in range(3)])
    mask = rng.random((p, p)) < 0.4
    ref = torch.nn.functional.cross_entropy(torch.as_tensor(L[0]).reshape(p * p, p)[mask.ravel()],
                                            labels[mask.ravel()]).item()
    assert mf.answer_loss(L[0], mask) == pytest.approx(ref, rel=1e-12)
    assert mf.answer_loss(np.ones((p, p, p))) == pytest.approx(np.log(p))
    s = grid(p)
    clock = 50 * np.cos(2 * np.pi * s / p)                              # a sharp clock: right answer certain
    assert mf.answer_loss(clock) < 1e-3
    assert mf.answer_loss(-clock) > 10                                  # the wrong phase: confidently wrong
    with pytest.raises(ValueError, match="which"):
        mf.answer_loss(L[0], np.ones((p, p - 1), bool))
    with pytest.raises(ValueError, match="no pair"):
        mf.answer_loss(L[0], np.zeros((p, p), bool))


def test_unit_frequency_shares_treat_each_column_alone():
    p = 11
    a = np.arange(p)
    W = np.stack([np.cos(2 * np.pi * 2 * a / p), 3 * np.sin(2 * np.pi * 5 * a / p) + 1, np.cos(2 * np.pi * a / p)],
                 axis=1)
    s = mf.unit_frequency_shares(W)
    assert s.shape == (3, 5)
    np.testing.assert_allclose(s[[0, 1, 2], [1, 4, 0]], 1.0, atol=1e-12)
    batch = mf.unit_frequency_shares(np.stack([W, W[:, ::-1]]))
    np.testing.assert_allclose(batch[1], s[::-1])
    with pytest.raises(ValueError, match="W"):
        mf.unit_frequency_shares(np.ones(p))
