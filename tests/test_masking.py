"""Masks flow as in Keras 3: Embedding(mask_zero=True) or Masking make one, layers that
support masking pass it on, recurrent layers skip the padded steps, and the loss of a
masked sequence output skips them too."""

import numpy as np
import pytest

import chainrule as cr

L = cr.layers


@pytest.fixture(autouse=True)
def _fresh():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)


@pytest.mark.parametrize("rnn", [lambda: L.LSTM(3), lambda: L.GRU(3), lambda: L.SimpleRNN(3),
                                 lambda: L.GRU(3, go_backwards=True),
                                 lambda: L.Bidirectional(L.LSTM(2))])
def test_padding_changes_nothing_with_mask_zero(rnn):
    ids = np.array([[3, 1, 4, 1, 5]])
    model = cr.Sequential([L.Embedding(8, 4, mask_zero=True), rnn()])
    plain = model.predict(ids, verbose=0)
    pre = model.predict(np.array([[0, 0, 3, 1, 4, 1, 5]]), verbose=0)
    post = model.predict(np.array([[3, 1, 4, 1, 5, 0, 0]]), verbose=0)
    np.testing.assert_allclose(pre, plain, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(post, plain, rtol=1e-6, atol=1e-7)


def test_without_mask_padding_changes_the_output():
    model = cr.Sequential([L.Embedding(8, 4), L.LSTM(3)])
    a = model.predict(np.array([[3, 1, 4]]), verbose=0)
    b = model.predict(np.array([[0, 0, 3, 1, 4]]), verbose=0)
    assert not np.allclose(a, b)


def test_masking_layer_skips_steps_and_zeroes_them():
    x = np.random.default_rng(0).standard_normal((2, 4, 3)).astype("float32")
    padded = np.concatenate([x, np.zeros((2, 2, 3), "float32")], axis=1)
    model = cr.Sequential([L.Masking(), L.LSTM(3)])
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    out = L.Masking(mask_value=1.0)(np.array([[[1.0, 1.0], [1.0, 2.0]]]))
    np.testing.assert_array_equal(out.numpy(), [[[0.0, 0.0], [1.0, 2.0]]])
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[False, True]])


def test_mask_flows_through_a_functional_model_and_dense():
    inp = L.Input((5,), dtype="int32")
    emb = L.Embedding(6, 3, mask_zero=True)(inp)
    seq = L.LSTM(2, return_sequences=True)(emb)
    out = L.Dense(1)(seq)
    model = cr.Model(inp, out)
    y = model(np.array([[1, 2, 0, 0, 0]]))
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, True, False, False, False]])
    # a layer without masking support drops the mask
    assert getattr(L.Flatten()(y), "_keras_mask", None) is None
    # a recurrent layer that returns only its last output has no mask
    assert getattr(L.LSTM(2)(model.layers[1](np.array([[1, 0]]))), "_keras_mask", None) is None


def test_loss_skips_masked_steps():
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.random.default_rng(1).standard_normal((2, 4, 1)).astype("float32")
    model = cr.Sequential([L.Embedding(6, 3, mask_zero=True),
                           L.SimpleRNN(2, return_sequences=True), L.Dense(1)])
    model.compile("sgd", "mse")
    pred = model.predict(ids, verbose=0)
    valid = ids != 0
    want = ((pred - y)[..., 0] ** 2)[valid].mean()
    assert model.evaluate(ids, y, verbose=0) == pytest.approx(want, rel=1e-5)
    # and with sample weights: weighted per sequence, then over the valid steps
    sw = np.array([1.0, 3.0], "float32")
    want_w = (((pred - y)[..., 0] ** 2) * sw[:, None] * valid).sum() / valid.sum()
    assert model.evaluate(ids, y, sample_weight=sw, verbose=0) == pytest.approx(want_w, rel=1e-5)


def test_masked_model_replays_bit_identically():
    ids = np.random.default_rng(2).integers(0, 6, (8, 5))
    y = np.random.default_rng(3).standard_normal((8, 5, 1)).astype("float32")
    results = []
    for jit in (True, False):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        model = cr.Sequential([L.Embedding(6, 3, mask_zero=True),
                               L.GRU(2, return_sequences=True), L.Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        hist = model.fit(ids, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        if jit:
            assert any(e.program is not None for e in model._steps.entries.values())
        results.append((hist.history["loss"], model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_compute_mask_defaults():
    m = cr.Tensor(np.array([[True, False]]))
    assert L.Layer().compute_mask(None, m) is m
    assert L.LSTM(2).compute_mask(None, m) is None
    assert L.LSTM(2, return_sequences=True).compute_mask(None, m) is m
    assert L.Embedding(3, 2).compute_mask(np.array([[0, 1]])) is None


def test_masked_loss_with_sum_reduction_uses_plain_zero_one_weights():
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.random.default_rng(1).standard_normal((2, 4, 1)).astype("float32")
    model = cr.Sequential([L.Embedding(6, 3, mask_zero=True),
                           L.SimpleRNN(2, return_sequences=True), L.Dense(1)])
    model.compile("sgd", cr.losses.MeanSquaredError(reduction="sum"))
    pred = model.predict(ids, verbose=0)
    want = ((pred - y)[..., 0] ** 2)[ids != 0].sum()
    assert model.evaluate(ids, y, verbose=0) == pytest.approx(want, rel=1e-5)
