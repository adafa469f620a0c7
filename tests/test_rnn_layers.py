"""Recurrent layers, cells, wrappers and Embedding: shapes, Keras's weight layouts and
config, the whole-sequence op against the cell run step by step, states, capture."""

import os

import numpy as np
import pytest

import chainrule as cr

L = cr.layers
RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 6, 3)).astype("float32")


@pytest.fixture(autouse=True)
def _fresh():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)


@pytest.mark.parametrize("layer,shapes", [
    (lambda: L.SimpleRNN(5), [(3, 5), (5, 5), (5,)]),
    (lambda: L.LSTM(5), [(3, 20), (5, 20), (20,)]),
    (lambda: L.GRU(5), [(3, 15), (5, 15), (2, 15)]),
    (lambda: L.GRU(5, reset_after=False), [(3, 15), (5, 15), (15,)]),
    (lambda: L.LSTM(5, use_bias=False), [(3, 20), (5, 20)]),
    (lambda: L.Bidirectional(L.GRU(2)), [(3, 6), (2, 6), (2, 6)] * 2),
])
def test_weight_layout_is_keras(layer, shapes):
    model = cr.Sequential([L.Input((6, 3)), layer()])
    assert [w.shape for w in model.get_weights()] == shapes


def test_recurrent_kernel_is_orthogonal_and_forget_bias_is_one():
    layer = L.LSTM(4)
    layer(X)
    r = layer.recurrent_kernel.numpy()
    np.testing.assert_allclose(r @ r.T, np.eye(4), atol=1e-5)  # rows of (4, 16) orthonormal
    np.testing.assert_array_equal(layer.bias.numpy(), np.r_[np.zeros(4), np.ones(4),
                                                            np.zeros(8)])
    plain = L.LSTM(4, unit_forget_bias=False)
    plain(X)
    np.testing.assert_array_equal(plain.bias.numpy(), 0)
    assert [w.path for w in layer.weights] == ["lstm/lstm_cell/kernel",
                                               "lstm/lstm_cell/recurrent_kernel",
                                               "lstm/lstm_cell/bias"]


@pytest.mark.parametrize("make", [L.SimpleRNN, L.LSTM, L.GRU])
def test_output_shapes(make):
    assert make(4)(X).shape == (4, 4)
    assert make(4, return_sequences=True)(X).shape == (4, 6, 4)
    out = make(4, return_state=True, return_sequences=True)(X)
    n_states = 2 if make is L.LSTM else 1
    assert [o.shape for o in out] == [(4, 6, 4)] + [(4, 4)] * n_states


# subclasses of the built-in cells run step by step through ops (RNN's generic loop)
class StepLSTMCell(L.LSTMCell):
    pass


class StepGRUCell(L.GRUCell):
    pass


class StepSimpleRNNCell(L.SimpleRNNCell):
    pass


@pytest.mark.parametrize("fused,step,kw", [
    (L.LSTMCell, StepLSTMCell, {}),
    (L.GRUCell, StepGRUCell, {}),
    (L.GRUCell, StepGRUCell, {"reset_after": False}),
    (L.SimpleRNNCell, StepSimpleRNNCell, {}),
])
@pytest.mark.parametrize("opts", [{}, {"return_sequences": True, "go_backwards": True},
                                  {"return_state": True}])
def test_whole_sequence_op_equals_the_cell_step_by_step(fused, step, kw, opts):
    cr.config.set_floatx("float64")
    try:
        x = RNG.standard_normal((3, 5, 2))
        mask = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
        a, b = L.RNN(fused(3, **kw), **opts), L.RNN(step(3, **kw), **opts)
        a(x)
        b(x)
        b.set_weights([w + 0.1 * RNG.standard_normal(w.shape) for w in a.get_weights()])
        a.set_weights(b.get_weights())
        xa, xb = cr.Tensor(x, requires_grad=True), cr.Tensor(x, requires_grad=True)
        ya = a(xa, mask=cr.Tensor(mask))
        yb = b(xb, mask=cr.Tensor(mask))
        ya, yb = (ya if isinstance(ya, list) else [ya]), (yb if isinstance(yb, list) else [yb])
        for p, q in zip(ya, yb):
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12, atol=1e-12)
        loss_a = sum(cr.ops.sum(t * t) for t in ya)
        loss_b = sum(cr.ops.sum(t * t) for t in yb)
        loss_a.backward()
        loss_b.backward()
        np.testing.assert_allclose(xa.grad, xb.grad, rtol=1e-10, atol=1e-12)
        for wa, wb in zip(a.weights, b.weights):
            np.testing.assert_allclose(wa.grad, wb.grad, rtol=1e-10, atol=1e-12)
    finally:
        cr.config.set_floatx("float32")


class MinimalRNNCell(L.Layer):
    """Keras's documented example of a user's cell."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight((self.units, self.units), name="recurrent_kernel")

    def call(self, inputs, states):
        prev = states[0]
        out = cr.ops.matmul(inputs, self.kernel) + cr.ops.matmul(prev, self.recurrent_kernel)
        return out, [out]


def test_users_own_cell_trains_and_is_captured():
    model = cr.Sequential([L.Input((6, 3)), L.RNN(MinimalRNNCell(4)), L.Dense(1)])
    model.compile("adam", "mse", jit_compile=True)
    y = X.sum(axis=(1, 2))[:, None]
    hist = model.fit(X, y, epochs=5, batch_size=2, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert any(e.program is not None for e in model._steps.entries.values())


def test_initial_state_argument_and_functional_states():
    inp = L.Input((6, 3))
    out, h, c = L.LSTM(4, return_state=True)(inp)
    model = cr.Model(inp, [out, h, c])
    o, h, c = model.predict(X, verbose=0)
    np.testing.assert_array_equal(o, h)
    layer = L.GRU(4)
    zero = layer(X).numpy()
    init = np.ones((4, 4), "float32")
    assert not np.allclose(layer(X, initial_state=[init]).numpy(), zero)
    np.testing.assert_allclose(layer(X, initial_state=[np.zeros((4, 4))]).numpy(), zero)
    with pytest.raises(ValueError, match=r"initial states of shape \(4, 4\)"):
        layer(X, initial_state=[np.ones((4, 2))])


def test_stateful_layer_carries_and_resets_its_states():
    model = cr.Sequential([L.Input(batch_shape=(4, 6, 3)), L.SimpleRNN(3, stateful=True)])
    a = model.predict(X, verbose=0)
    b = model.predict(X, verbose=0)
    assert not np.allclose(a, b)
    model.layers[0].reset_states()
    np.testing.assert_array_equal(model.predict(X, verbose=0), a)
    with pytest.raises(ValueError, match="stateful with batch size 4"):
        model.predict(X[:3], verbose=0, batch_size=3)


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes(mode):
    layer = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=mode)
    out = layer(X)
    fw = layer.forward_layer(X).numpy()
    bw = layer.backward_layer(X).numpy()[:, ::-1]
    want = {"concat": np.concatenate([fw, bw], -1), "sum": fw + bw, "mul": fw * bw,
            "ave": (fw + bw) / 2, None: None}[mode]
    if mode is None:
        np.testing.assert_allclose(out[0].numpy(), fw, rtol=1e-6)
        np.testing.assert_allclose(out[1].numpy(), bw, rtol=1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)


def test_bidirectional_backward_layer_and_states():
    layer = L.Bidirectional(L.GRU(2, return_state=True),
                            backward_layer=L.GRU(2, return_state=True, go_backwards=True))
    out, hf, hb = layer(X)
    assert out.shape == (4, 4) and hf.shape == hb.shape == (4, 2)
    with pytest.raises(ValueError, match="different go_backwards"):
        L.Bidirectional(L.GRU(2), backward_layer=L.GRU(2))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        L.Bidirectional(L.GRU(2), merge_mode="max")


def test_time_distributed_and_its_errors():
    layer = L.TimeDistributed(L.Dense(2))
    y = layer(X)
    np.testing.assert_allclose(y.numpy(), X @ layer.layer.kernel.numpy()
                               + layer.layer.bias.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        L.TimeDistributed(L.Dense(2))(np.ones((2, 3)))


@pytest.mark.parametrize("make", [
    lambda: L.LSTM(3, return_sequences=True, dropout=0.1, go_backwards=True),
    lambda: L.GRU(3, reset_after=False, recurrent_dropout=0.2),
    lambda: L.SimpleRNN(3, activation="relu", kernel_regularizer="l2"),
    lambda: L.Bidirectional(L.LSTM(2), merge_mode="sum"),
    lambda: L.TimeDistributed(L.Dense(2)),
    lambda: L.RNN(L.GRUCell(2), return_sequences=True),
    lambda: L.Masking(mask_value=-1.0),
    lambda: L.Embedding(7, 2, mask_zero=True),
])
def test_config_and_save_round_trip(make, tmp_path):
    layer = make()
    is_emb = isinstance(layer, L.Embedding)
    inp = L.Input((6,) if is_emb else (6, 3))
    model = cr.Sequential([inp, layer])
    x = RNG.integers(0, 7, (4, 6)) if is_emb else X
    want = model.predict(x, verbose=0)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    path = os.path.join(tmp_path, "m.keras")
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), want, rtol=1e-6)


def test_keras_config_keys():
    config = L.LSTM(3).get_config()
    for key in ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                "recurrent_initializer", "bias_initializer", "unit_forget_bias", "dropout",
                "recurrent_dropout", "return_sequences", "return_state", "go_backwards",
                "stateful", "unroll", "seed"):
        assert key in config, key
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert L.GRU(3).get_config()["reset_after"] is True
    assert L.Embedding(5, 2).get_config()["embeddings_initializer"]["class_name"] == \
        "RandomUniform"


def test_dropout_trains_on_the_captured_step():
    model = cr.Sequential([L.Input((6, 3)), L.LSTM(4, dropout=0.3, recurrent_dropout=0.3),
                           L.Dense(1)])
    model.compile("adam", "mse", jit_compile=True)
    model.fit(X, np.ones((4, 1)), epochs=4, batch_size=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    # inference ignores dropout: two predictions agree
    np.testing.assert_array_equal(model.predict(X, verbose=0), model.predict(X, verbose=0))


def test_cells_one_step():
    cell = L.LSTMCell(3)
    h, (h2, c) = cell(X[:, 0], [np.zeros((4, 3), "float32")] * 2)
    assert h is h2 and c.shape == (4, 3)
    assert L.GRUCell(3).state_size == 3 and cell.state_size == [3, 3]


def test_unsupported_activation_runs_step_by_step():
    layer = L.SimpleRNN(3, activation="elu")
    assert layer._fused_op(False) is None
    assert layer(X).shape == (4, 3)
    assert L.SimpleRNN(3)._fused_op(False) is not None


def test_input_length_is_accepted_with_a_warning():
    with pytest.warns(UserWarning, match="input_length"):
        L.Embedding(10, 3, input_length=5)


def test_embedding_invalid_arguments():
    with pytest.raises(ValueError, match="input_dim must be a positive integer"):
        L.Embedding(0, 3)
    with pytest.raises(ValueError, match="output_dim must be a positive integer"):
        L.Embedding(3, 2.5)


def test_unknown_sequence_length_stays_unknown_in_shapes():
    inp = L.Input(shape=(None,), dtype="int32")
    seq = L.LSTM(4, return_sequences=True)(L.Embedding(10, 3)(inp))
    last = L.GRU(2)(seq)
    assert seq.shape == (None, None, 4) and last.shape == (None, 2)
    model = cr.Model(inp, [seq, last])
    outs = model.predict(np.ones((2, 7), "int32"), verbose=0)
    assert [o.shape for o in outs] == [(2, 7, 4), (2, 2)]


def test_encoder_states_feed_a_decoder_in_a_functional_model(tmp_path):
    # keras-io's character-level sequence-to-sequence model, with its inference models
    enc_in, dec_in = L.Input((None, 5)), L.Input((None, 6))
    _, h, c = L.LSTM(8, return_state=True)(enc_in)
    dec_lstm = L.LSTM(8, return_sequences=True, return_state=True)
    seq, _, _ = dec_lstm(dec_in, initial_state=[h, c])
    dense = L.Dense(6, activation="softmax")
    model = cr.Model([enc_in, dec_in], dense(seq))
    model.compile("rmsprop", "categorical_crossentropy", jit_compile=True)
    a = RNG.random((8, 7, 5)).astype("float32")
    b = RNG.random((8, 4, 6)).astype("float32")
    t = np.eye(6, dtype="float32")[RNG.integers(0, 6, (8, 4))]
    model.fit([a, b], t, batch_size=4, epochs=2, verbose=0)
    # the decoder really starts from the encoder's states
    states = cr.Model(enc_in, [h, c]).predict(a, verbose=0)
    dh, dc = L.Input((8,)), L.Input((8,))
    out, _, _ = dec_lstm(dec_in, initial_state=[dh, dc])
    decoder = cr.Model([dec_in, dh, dc], dense(out))
    np.testing.assert_allclose(decoder.predict([b, *states], verbose=0),
                               model.predict([a, b], verbose=0), rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "s2s.keras")
    loaded = cr.models.load_model(tmp_path / "s2s.keras")
    np.testing.assert_array_equal(loaded.predict([a, b], verbose=0),
                                  model.predict([a, b], verbose=0))


def test_bidirectional_takes_symbolic_initial_states(tmp_path):
    inp = L.Input((6, 3))
    _, hf, cf, hb, cb = L.Bidirectional(L.LSTM(2, return_state=True))(inp)
    out = L.Bidirectional(L.LSTM(2))(inp, initial_state=[hf, cf, hb, cb])
    model = cr.Model(inp, out)
    y = model.predict(X, verbose=0)
    assert y.shape == (4, 4)
    model.save(tmp_path / "bi.keras")
    np.testing.assert_array_equal(cr.models.load_model(tmp_path / "bi.keras").predict(
        X, verbose=0), y)
