"""ConvLSTM1D/2D/3D against an independent NumPy ConvLSTM, in float64, and their life cycle.

The reference below spells Keras's ConvLSTM out directly: a convolution as a sum over the
kernel's offsets of strided slices of the padded input (TensorFlow's split of ``'same'``
padding), the gates i, f, c, o from the kernels' last axis, the recurrent convolution
``'same'``, the masked steps keeping the previous states and output, and the four
dropout masks per gate applied to the input and to ``h``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import conv_lstm as conv_lstm_module
from chainrule.layers import serialization
from chainrule.layers.conv_lstm import ConvLSTMCell
from chainrule.ops.nn import Dropout

L = cr.layers
RNG = np.random.default_rng(7)


@pytest.fixture
def float64():
    cr.config.set_floatx("float64")
    yield
    cr.config.set_floatx("float32")


# -- the NumPy reference -----------------------------------------------------------------


def np_conv(x, w, strides, padding, dilation):
    """Cross-correlation of channels-last ``x`` ``(n, *spatial, c)`` with ``w`` ``(*k, c, f)``."""
    nd = w.ndim - 2
    k = w.shape[:nd]
    pads, out = [], []
    for size, kk, s, d in zip(x.shape[1:-1], k, strides, dilation):
        span = (kk - 1) * d + 1
        if padding == "same":
            o = math.ceil(size / s)
            total = max((o - 1) * s + span - size, 0)
            pads.append((total // 2, total - total // 2))
        elif padding == "causal":
            o = size
            pads.append((span - 1, 0))
        else:
            o = (size - span) // s + 1
            pads.append((0, 0))
        out.append(o)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros((x.shape[0], *out, w.shape[-1]))
    for offset in itertools.product(*(range(kk) for kk in k)):
        window = tuple(slice(i * d, i * d + s * (o - 1) + 1, s)
                       for i, d, s, o in zip(offset, dilation, strides, out))
        y += xp[(slice(None),) + window] @ w[offset]
    return y


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference(layer, x, initial_state=None, mask=None, in_masks=None, rec_masks=None):
    """Keras's ConvLSTM on NumPy arrays (float64), with ``layer``'s settings and weights."""
    cell = layer.cell
    first = layer.data_format == "channels_first"
    x = np.asarray(x, np.float64)
    if first:  # work channels last
        x = np.moveaxis(x, 2, -1)
    w = [np.asarray(v.numpy(), np.float64) for v in cell.weights]
    kernel, rec = w[0], w[1]
    bias = w[2] if cell.use_bias else np.zeros(kernel.shape[-1])
    f = layer.filters
    acts = {"tanh": np.tanh, "sigmoid": sigmoid, "relu": lambda z: np.maximum(z, 0),
            "hard_sigmoid": lambda z: np.clip(z / 6 + 0.5, 0, 1)}
    act, ract = acts[cell.activation.__name__], acts[cell.recurrent_activation.__name__]
    batch, steps = x.shape[:2]
    probe = np_conv(x[:, 0], kernel, layer.strides, layer.padding, layer.dilation_rate)
    if initial_state is None:
        h = c = np.zeros(probe.shape[:-1] + (f,))
    else:
        h, c = (np.moveaxis(np.asarray(s, np.float64), 1, -1) if first else
                np.asarray(s, np.float64) for s in initial_state)
    if in_masks is not None and first:
        in_masks = [np.moveaxis(m, 2, -1) for m in in_masks]
    if rec_masks is not None and first:
        rec_masks = [np.moveaxis(m, 1, -1) for m in rec_masks]
    outputs, prev = [], np.zeros_like(h)
    order = range(steps - 1, -1, -1) if layer.go_backwards else range(steps)
    for t in order:
        z = []
        for g in range(4):
            xg = x[:, t] * (in_masks[g][:, 0] if in_masks is not None else 1.0)
            hg = h * (rec_masks[g] if rec_masks is not None else 1.0)
            cols = slice(g * f, (g + 1) * f)
            z.append(np_conv(xg, kernel[..., cols], layer.strides, layer.padding,
                             layer.dilation_rate) + bias[cols]
                     + np_conv(hg, rec[..., cols], (1,) * layer.rank, "same",
                               (1,) * layer.rank))
        i, fg, o = ract(z[0]), ract(z[1]), ract(z[3])
        c_new = fg * c + i * act(z[2])
        h_new = o * act(c_new)
        out = h_new
        if mask is not None:
            keep = mask[:, t].reshape((batch,) + mask.shape[2:] + (1,) * (
                h.ndim - mask.ndim + 1)).astype(bool)
            out = np.where(keep, h_new, prev)
            h_new, c_new = np.where(keep, h_new, h), np.where(keep, c_new, c)
            prev = out
            if layer.zero_output_for_mask:
                out = np.where(keep, out, 0.0)
        outputs.append(out)
        h, c = h_new, c_new
    y = np.stack(outputs, 1) if layer.return_sequences else outputs[-1]
    if first:
        y = np.moveaxis(y, -1, 2 if layer.return_sequences else 1)
        h, c = np.moveaxis(h, -1, 1), np.moveaxis(c, -1, 1)
    return [y, h, c] if layer.return_state else y


def randomize(layer):
    """Nonzero weights everywhere (a zero bias or the forget ones would hide mistakes)."""
    layer.set_weights([0.4 * RNG.standard_normal(w.shape) for w in layer.get_weights()])


CASES = {
    "2d-valid": (L.ConvLSTM2D, (2, 3, 6, 5, 2), {"filters": 3, "kernel_size": 3}),
    "2d-same-sequences": (L.ConvLSTM2D, (2, 4, 5, 5, 1),
                          {"filters": 2, "kernel_size": (3, 2), "padding": "same",
                           "return_sequences": True, "activation": "relu"}),
    "2d-strided-backwards-state": (L.ConvLSTM2D, (2, 3, 7, 6, 2),
                                   {"filters": 2, "kernel_size": 3, "strides": (2, 1),
                                    "padding": "same", "go_backwards": True,
                                    "return_state": True,
                                    "recurrent_activation": "hard_sigmoid"}),
    "2d-dilated-channels-first": (L.ConvLSTM2D, (2, 3, 2, 7, 7),
                                  {"filters": 2, "kernel_size": 2, "dilation_rate": 2,
                                   "data_format": "channels_first", "return_sequences": True,
                                   "return_state": True}),
    "1d-causal-no-bias": (L.ConvLSTM1D, (3, 4, 8, 2),
                          {"filters": 3, "kernel_size": 3, "padding": "causal",
                           "use_bias": False, "return_sequences": True}),
    "3d": (L.ConvLSTM3D, (1, 3, 4, 5, 3, 1), {"filters": 2, "kernel_size": 2}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_the_numpy_reference(case, float64):
    cls, shape, kwargs = CASES[case]
    layer = cls(**kwargs)
    x = RNG.standard_normal(shape)
    layer(x)
    randomize(layer)
    got = layer(x)
    want = reference(layer, x)
    for a, b in zip(got if isinstance(got, list) else [got], want if isinstance(want, list)
                    else [want]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_initial_state_is_used(fmt, float64):
    layer = L.ConvLSTM2D(2, 3, padding="same", return_state=True, data_format=fmt)
    shape = (2, 3, 5, 5, 2) if fmt == "channels_last" else (2, 3, 2, 5, 5)
    x = RNG.standard_normal(shape)
    layer(x)
    randomize(layer)
    state = (2, 5, 5, 2) if fmt == "channels_last" else (2, 2, 5, 5)
    h0, c0 = RNG.standard_normal(state), RNG.standard_normal(state)
    out, h, c = layer(x, initial_state=[h0, c0])
    want = reference(layer, x, initial_state=[h0, c0])
    for a, b in zip((out, h, c), want):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out.numpy(), h.numpy())  # the last output is h
    with pytest.raises(ValueError, match=r"expects initial states of shape \(2, .*\)\. "
                                         r"Received: initial_state of shape \(2, 4, 4, 2\)"):
        layer(x, initial_state=[np.zeros((2, 4, 4, 2))] * 2)


@pytest.mark.parametrize("zero_output", [False, True])
def test_masked_steps_keep_the_previous_state_and_output(zero_output, float64):
    layer = L.ConvLSTM1D(3, 2, padding="same", return_sequences=True, return_state=True,
                         zero_output_for_mask=zero_output)
    x = RNG.standard_normal((3, 5, 4, 2))
    layer(x)
    randomize(layer)
    mask = np.array([[1, 1, 0, 1, 1], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1]], bool)
    got = layer(x, mask=cr.Tensor(mask))
    want = reference(layer, x, mask=mask)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-10, atol=1e-12)
    seq = got[0].numpy()
    if zero_output:
        assert not seq[0, 2].any() and not seq[1, 0].any()
    else:
        np.testing.assert_array_equal(seq[0, 2], seq[0, 1])
    # one value per output position, as Masking gives it for frames (Keras broadcasts it)
    pixel_mask = RNG.random((3, 5, 4)) > 0.3
    got = layer(x, mask=pixel_mask)
    for a, b in zip(got, reference(layer, x, mask=pixel_mask)):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r'Layer "conv_lstm1d.*" \(ConvLSTM1D\) takes a mask of '
                                         r"shape \(batch, time\) = \(3, 5\).*Received: mask of "
                                         r"shape \(3, 4\)"):
        layer(x, mask=np.ones((3, 4), bool))


def test_dropout_draws_four_masks_per_gate_once_per_sequence(monkeypatch, float64):
    drawn = []

    def spy(x, rate, noise_shape=None, rng=None):
        fn = Dropout(rate, None if noise_shape is None else tuple(noise_shape), rng)
        out = fn(x)
        drawn.append(fn)
        return out

    monkeypatch.setattr(conv_lstm_module.ops, "dropout", spy)
    layer = L.ConvLSTM2D(2, 3, padding="same", return_sequences=True, dropout=0.4,
                         recurrent_dropout=0.3, seed=3)
    x = RNG.standard_normal((2, 5, 4, 4, 2))
    layer(x)
    randomize(layer)
    drawn.clear()
    got = layer(x, training=True)
    assert len(drawn) == 8  # 4 input masks and 4 state masks, not one per step
    in_masks = [fn.mask for fn in drawn[:4]]
    rec_masks = [fn.mask for fn in drawn[4:]]
    assert all(m.shape == (2, 1, 4, 4, 2) for m in in_masks)  # the same at every step
    assert all(m.shape == (2, 4, 4, 2) for m in rec_masks)
    assert not all(np.array_equal(in_masks[0], m) for m in in_masks[1:])  # one per gate
    assert set(np.unique(in_masks[0])) <= {0.0, 1 / 0.6}
    np.testing.assert_allclose(got.numpy(), reference(layer, x, in_masks=in_masks,
                                                      rec_masks=rec_masks),
                               rtol=1e-10, atol=1e-12)
    drawn.clear()
    np.testing.assert_allclose(layer(x).numpy(), reference(layer, x), rtol=1e-10)
    assert not drawn  # inference: no dropout


def _with_weights(layer, k, r, b, **call_kwargs):
    """``layer(**call_kwargs)`` computed with the Tensors ``k, r, b`` as its cell's weights."""
    cell = layer.cell
    names = ("kernel", "recurrent_kernel", "bias")
    saved = [getattr(cell, n) for n in names]
    for name, t in zip(names, (k, r, b)):
        object.__setattr__(cell, name, t)  # not tracked: the checked inputs stand in
    try:
        return layer(**call_kwargs)
    finally:
        for name, t in zip(names, saved):
            object.__setattr__(cell, name, t)


def test_gradients_through_several_steps_float64(float64):
    """The composed ops' gradient, numerically, for the input, the weights and the states."""
    layer = L.ConvLSTM2D(2, 2, return_sequences=True, go_backwards=True)
    x = RNG.standard_normal((2, 3, 4, 3, 1))
    layer(x)
    randomize(layer)
    k, r, b = layer.get_weights()
    h0, c0 = RNG.standard_normal((2, 3, 2, 2)), RNG.standard_normal((2, 3, 2, 2))
    mask = cr.Tensor(np.array([[1, 0, 1], [1, 1, 1]], bool))
    result = cr.gradcheck.check_gradients(
        lambda x, k, r, b, h0, c0: _with_weights(layer, k, r, b, inputs=x,
                                                 initial_state=[h0, c0], mask=mask),
        x, k, r, b, h0, c0, tolerance=1e-6)
    assert result.ok, str(result)
    # the zero start (no initial state: its recurrent convolution is skipped), four steps
    x = RNG.standard_normal((2, 4, 4, 3, 1))
    result = cr.gradcheck.check_gradients(
        lambda x, k, r, b: _with_weights(layer, k, r, b, inputs=x), x, k, r, b,
        tolerance=1e-6)
    assert result.ok, str(result)


def test_cell_is_one_step_of_the_layer(float64):
    layer = L.ConvLSTM2D(2, 3, padding="same", return_state=True)
    x = RNG.standard_normal((2, 1, 5, 5, 2))
    layer(x)
    randomize(layer)
    h0, c0 = RNG.standard_normal((2, 5, 5, 2)), RNG.standard_normal((2, 5, 5, 2))
    out, h, c = layer(x, initial_state=[h0, c0])
    h1, (h2, c1) = layer.cell(x[:, 0], [h0, c0])
    np.testing.assert_allclose(h1.numpy(), h.numpy(), rtol=1e-12)
    np.testing.assert_allclose(c1.numpy(), c.numpy(), rtol=1e-12)
    assert isinstance(layer.cell, ConvLSTMCell) and layer.cell.name == "conv_lstm_cell"


# -- weights, configuration, saving ----------------------------------------------------------


def test_weights_names_shapes_order_and_forget_bias():
    layer = L.ConvLSTM2D(4, (3, 2), name="clstm")
    layer(np.zeros((1, 2, 6, 6, 3), "float32"))
    assert [(w.path, w.shape) for w in layer.weights] == [
        ("clstm/conv_lstm_cell/kernel", (3, 2, 3, 16)),
        ("clstm/conv_lstm_cell/recurrent_kernel", (3, 2, 4, 16)),
        ("clstm/conv_lstm_cell/bias", (16,))]
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0] * 4 + [1] * 4 + [0] * 8)
    assert layer.count_params() == 3 * 2 * 3 * 16 + 3 * 2 * 4 * 16 + 16
    no_forget = L.ConvLSTM1D(2, 2, unit_forget_bias=False, bias_initializer="ones")
    no_forget(np.zeros((1, 2, 5, 1), "float32"))
    np.testing.assert_array_equal(no_forget.cell.bias.numpy(), np.ones(8))
    no_bias = L.ConvLSTM3D(2, 1, use_bias=False)
    no_bias(np.zeros((1, 2, 2, 2, 2, 1), "float32"))
    assert [w.name for w in no_bias.weights] == ["kernel", "recurrent_kernel"]
    # Keras's properties read through to the cell
    assert (layer.filters, layer.kernel_size, layer.strides, layer.padding, layer.rank) == (
        4, (3, 2), (1, 1), "valid", 2)
    assert layer.recurrent_initializer.__class__.__name__ == "Orthogonal"
    with pytest.raises(AttributeError, match="units"):
        layer.units  # noqa: B018


def test_config_round_trip():
    layer = L.ConvLSTM2D(3, (3, 2), strides=2, padding="same", data_format="channels_first",
                         activation="relu", recurrent_activation="hard_sigmoid",
                         unit_forget_bias=False, kernel_regularizer="l2", dropout=0.25,
                         recurrent_dropout=0.5, seed=4, return_sequences=True,
                         go_backwards=True, kernel_constraint="non_neg", name="c")
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 2)
    assert "cell" not in config and "units" not in config and "rank" not in config
    again = L.ConvLSTM2D.from_config(config)
    assert again.get_config() == config
    again = serialization.deserialize(serialization.serialize(layer))
    assert type(again) is L.ConvLSTM2D and again.get_config() == config
    import json

    loaded = L.ConvLSTM2D.from_config(json.loads(json.dumps(config)))  # tuples become lists
    assert loaded.get_config() == config


def _next_frame_model():
    inp = L.Input((None, 6, 6, 1))
    h = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, activation="relu")(inp)
    h = L.BatchNormalization()(h)
    h = L.ConvLSTM2D(2, 1, padding="same", return_sequences=True, recurrent_dropout=0.2)(h)
    out = L.Conv3D(1, 3, padding="same", activation="sigmoid")(h)
    return cr.Model(inp, out)


@pytest.mark.parametrize("ext", [".keras", ".weights.npz", ".weights.h5"])
def test_save_and_load(ext, tmp_path):
    if ext == ".weights.h5":
        pytest.importorskip("h5py")
    cr.utils.set_random_seed(1)
    model = _next_frame_model()
    model.compile("adam", "binary_crossentropy")
    x = RNG.random((4, 3, 6, 6, 1)).astype("float32")
    model.fit(x, x, epochs=1, batch_size=2, verbose=0)
    want = model.predict(x, verbose=0)
    path = str(tmp_path / f"m{ext}")
    if ext == ".keras":
        model.save(path)
        loaded = cr.models.load_model(path)
        assert [type(la).__name__ for la in loaded.layers].count("ConvLSTM2D") == 2
    else:
        model.save_weights(path)
        cr.utils.set_random_seed(2)
        loaded = _next_frame_model()
        loaded.load_weights(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)


def test_summary_counts_and_symbolic_shapes(capsys):
    model = _next_frame_model()
    model.summary()
    text = capsys.readouterr().out
    # ConvLSTM2D(3, 3x3) on 1 channel: 9*1*12 + 9*3*12 + 12; ConvLSTM2D(2, 1x1) on 3: 3*8+2*8+8
    assert "conv_lstm2d" in text and "444" in text and "48" in text
    assert model.layers[1].output.shape == (None, None, 6, 6, 3)
    layer = L.ConvLSTM2D(2, 3, strides=2, return_state=True)
    out, h, c = layer(L.Input((4, 9, 9, 1)))
    assert out.shape == h.shape == c.shape == (None, 4, 4, 2)
    assert layer.compute_output_shape((None, 4, 9, 9, 1)) == [(None, 4, 4, 2)] * 3
    seq = L.ConvLSTM1D(2, 3, return_sequences=True, data_format="channels_first")
    assert seq.compute_output_shape((5, 7, 3, 10)) == (5, 7, 2, 8)
    assert seq(L.Input((None, 3, 10))).shape == (None, None, 2, 8)


def test_stateful_carries_the_states_between_batches():
    cr.utils.set_random_seed(0)
    x = RNG.standard_normal((2, 6, 5, 5, 1)).astype("float32")
    whole = L.ConvLSTM2D(2, 3, padding="same")
    want = whole(x).numpy()
    stateful = L.ConvLSTM2D(2, 3, padding="same", stateful=True)
    model = cr.Sequential([L.Input((3, 5, 5, 1), batch_size=2), stateful])
    stateful.set_weights(whole.get_weights())
    model.predict(x[:, :3], verbose=0, batch_size=2)
    np.testing.assert_allclose(model.predict(x[:, 3:], verbose=0, batch_size=2), want,
                               rtol=1e-6, atol=1e-7)
    assert [v.shape for v in stateful.states] == [(2, 5, 5, 2)] * 2
    stateful.reset_states()
    assert not any(v.numpy().any() for v in stateful.states)
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0, batch_size=2),
                               whole(x[:, :3]).numpy(), rtol=1e-6, atol=1e-7)
    # the states are updated outside the ops: such a model trains on the tape (as LSTM's)
    model.compile("adam", "mse", jit_compile=True)
    with pytest.raises(ValueError, match=r'layer "conv_lstm2d.*" assigns to weight \'rnn_state\''):
        model.fit(x[:, :3], np.zeros((2, 5, 5, 2)), batch_size=2, verbose=0)


def test_dropout_model_trains_on_the_captured_step():
    cr.utils.set_random_seed(0)
    model = cr.Sequential([L.Input((4, 6, 6, 1)),
                           L.ConvLSTM2D(3, 3, padding="same", dropout=0.2,
                                        recurrent_dropout=0.3, return_sequences=True),
                           L.Conv3D(1, 1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", jit_compile=True)
    x = RNG.random((8, 4, 6, 6, 1)).astype("float32")
    hist = model.fit(x, x, epochs=6, batch_size=4, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    assert hist.history["loss"][-1] < hist.history["loss"][0]


# -- bad arguments and inputs ---------------------------------------------------------------


@pytest.mark.parametrize("make,match", [
    (lambda: L.ConvLSTM2D(0, 3), r"`filters`: expected a positive integer\. Received: filters=0"),
    (lambda: L.ConvLSTM2D(2, (3, 3, 3)), r"`kernel_size` argument must be an integer or a "
                                          r"tuple of 2 integers\. Received: kernel_size="),
    (lambda: L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2),
     r"`strides > 1` is not supported together with `dilation_rate > 1`"),
    (lambda: L.ConvLSTM2D(2, 3, padding="causal"), r"'causal' padding is for 1-D"),
    (lambda: L.ConvLSTM2D(2, 3, data_format="channel_last"), r"data_format must be"),
    (lambda: L.ConvLSTM2D(2, 3, dropout=1.5), r"dropout must be a number in \[0, 1\]"),
    (lambda: L.ConvLSTM2D(2, 3, unit=3), None),
])
def test_bad_arguments(make, match):
    if match is None:
        with pytest.raises(TypeError, match="Unrecognized keyword arguments passed to "
                                            "ConvLSTM2D"):
            make()
        return
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs():
    layer = L.ConvLSTM2D(2, 3, name="video")
    with pytest.raises(ValueError, match=r'Input 0 of layer "video" is incompatible with the '
                                         r"layer: ConvLSTM2D expects 5-D input \(batch, time, "
                                         r"rows, cols, channels\), received shape \(8, 6, 16, "
                                         r"16\)\. Add a channel axis"):
        layer(np.zeros((8, 6, 16, 16), "float32"))
    with pytest.raises(ValueError, match=r'Layer "conv_lstm2d.*" \(ConvLSTM2D\): ConvLSTM layers '
                                         r"only support static input shapes for the spatial "
                                         r"dimensions \(the time axis may be None\)\. Received: "
                                         r"input_shape=\(None, 4, None, 8, 1\)"):
        L.ConvLSTM2D(2, 3)(L.Input((4, None, 8, 1)))
    with pytest.raises(ValueError, match=r"the kernel \(5, 5\) is larger than the frames"):
        L.ConvLSTM2D(2, 5)(np.zeros((1, 2, 3, 3, 1), "float32"))
    first = L.ConvLSTM1D(2, 3, data_format="channels_first", name="sig")
    with pytest.raises(ValueError, match=r"ConvLSTM1D expects 4-D input \(batch, time, "
                                         r"channels, rows\)"):
        first(np.zeros((2, 3, 4), "float32"))
    model = cr.Sequential([L.ConvLSTM2D(2, 3, name="first")])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r'layer "first".*expects 5-D input.*received shape '
                                         r"\(None, 6, 8, 8\)\..*Received: inputs of shape"):
        model.fit(np.zeros((4, 6, 8, 8)), np.zeros((4, 6, 6, 2)), verbose=0)


def test_bidirectional_conv_lstm2d_concatenates_both_directions():
    # keras: Bidirectional(ConvLSTM2D(...)) over 5-D frames
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 6, 6, 1)).astype("float32")
    layer = cr.layers.Bidirectional(cr.layers.ConvLSTM2D(3, 3, padding="same",
                                                         return_sequences=True))
    out = np.asarray(layer(x))
    assert out.shape == (2, 4, 6, 6, 6)
    fw = np.asarray(layer.forward_layer(x))
    bw = np.asarray(layer.backward_layer(x))[:, ::-1]  # flipped back to the input's order
    np.testing.assert_allclose(out, np.concatenate([fw, bw], axis=-1), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match=r"ConvLSTM2D expects 5-D input"):
        layer(x[:, :, :, :, 0])
    model = cr.models.Sequential([cr.Input((4, 6, 6, 1)), layer, cr.layers.Flatten(),
                                  cr.layers.Dense(1)])
    assert model.count_params() == 2 * (9 * 1 * 12 + 9 * 3 * 12 + 12) + 4 * 6 * 6 * 6 + 1
    model.compile("adam", "mse")
    model.fit(x, np.ones((2, 1)), epochs=1, verbose=0)
