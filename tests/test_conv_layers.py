"""Conv and pooling layers: shapes, weights, configs, saving, errors and the captured step."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.layers import (
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling2D,
    Input,
    MaxPooling2D,
)
from chainrule.models import Model, Sequential
from chainrule.saving import load_model
from tests.test_conv_ops import ref_conv, ref_pool

L = cr.layers
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh_names():
    cr.utils.clear_session()


# (layer factory, input shape, expected output shape, expected weight shapes)
LAYERS = [
    (lambda: L.Conv1D(4, 3), (2, 10, 3), (2, 8, 4), [(3, 3, 4), (4,)]),
    (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 10, 3), (2, 10, 4),
     [(3, 3, 4), (4,)]),
    (lambda: L.Conv1D(6, 2, strides=2, padding="same", groups=3, use_bias=False), (2, 9, 3),
     (2, 5, 6), [(2, 1, 6)]),
    (lambda: L.Conv1D(2, 3, data_format="channels_first"), (2, 3, 10), (2, 2, 8),
     [(3, 3, 2), (2,)]),
    (lambda: L.Conv2D(32, 3, activation="relu"), (2, 28, 28, 1), (2, 26, 26, 32),
     [(3, 3, 1, 32), (32,)]),
    (lambda: L.Conv2D(8, (3, 2), strides=(2, 1), padding="same"), (2, 7, 6, 2), (2, 4, 6, 8),
     [(3, 2, 2, 8), (8,)]),
    (lambda: L.Conv2D(4, 3, dilation_rate=2, groups=2), (1, 9, 9, 6), (1, 5, 5, 4),
     [(3, 3, 3, 4), (4,)]),
    (lambda: L.Conv2D(5, 3, padding="same", data_format="channels_first"), (2, 3, 6, 7),
     (2, 5, 6, 7), [(3, 3, 3, 5), (5,)]),
    (lambda: L.Conv3D(2, 2), (1, 3, 4, 5, 1), (1, 2, 3, 4, 2), [(2, 2, 2, 1, 2), (2,)]),
    (lambda: L.Conv1DTranspose(4, 3, strides=2), (2, 5, 3), (2, 11, 4), [(3, 4, 3), (4,)]),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, padding="same"), (2, 5, 6, 3), (2, 10, 12, 4),
     [(3, 3, 4, 3), (4,)]),
    (lambda: L.Conv2DTranspose(2, (2, 3), strides=(3, 2), output_padding=(1, 0),
                               use_bias=False), (1, 3, 3, 2), (1, 9, 7, 2), [(2, 3, 2, 2)]),
    (lambda: L.Conv2DTranspose(3, 3, data_format="channels_first"), (2, 2, 4, 4), (2, 3, 6, 6),
     [(3, 3, 3, 2), (3,)]),
    (lambda: L.Conv3DTranspose(2, 2, strides=2), (1, 2, 2, 2, 3), (1, 4, 4, 4, 2),
     [(2, 2, 2, 2, 3), (2,)]),
    (lambda: L.DepthwiseConv1D(3, depth_multiplier=2), (2, 8, 4), (2, 6, 8), [(3, 4, 2), (8,)]),
    (lambda: L.DepthwiseConv2D(3, padding="same", strides=2), (2, 7, 7, 3), (2, 4, 4, 3),
     [(3, 3, 3, 1), (3,)]),
    (lambda: L.SeparableConv1D(5, 3, depth_multiplier=2), (2, 8, 4), (2, 6, 5),
     [(3, 4, 2), (1, 8, 5), (5,)]),
    (lambda: L.SeparableConv2D(8, 3, padding="same", use_bias=False), (2, 6, 6, 4),
     (2, 6, 6, 8), [(3, 3, 4, 1), (1, 1, 4, 8)]),
    (lambda: L.MaxPooling1D(), (2, 7, 3), (2, 3, 3), []),
    (lambda: L.MaxPooling1D(3, strides=1, padding="same"), (2, 7, 3), (2, 7, 3), []),
    (lambda: L.AveragePooling1D(2, data_format="channels_first"), (2, 3, 8), (2, 3, 4), []),
    (lambda: L.MaxPooling2D(), (2, 7, 7, 2), (2, 3, 3, 2), []),
    (lambda: L.MaxPooling2D((3, 3), strides=2, padding="same"), (2, 7, 7, 2), (2, 4, 4, 2), []),
    (lambda: L.AveragePooling2D(), (2, 6, 6, 2), (2, 3, 3, 2), []),
    (lambda: L.AveragePooling2D(2, padding="same", data_format="channels_first"), (2, 2, 5, 5),
     (2, 2, 3, 3), []),
    (lambda: L.MaxPooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), []),
    (lambda: L.AveragePooling3D(), (1, 4, 4, 4, 2), (1, 2, 2, 2, 2), []),
    (lambda: L.GlobalAveragePooling1D(), (2, 7, 3), (2, 3), []),
    (lambda: L.GlobalAveragePooling1D(keepdims=True), (2, 7, 3), (2, 1, 3), []),
    (lambda: L.GlobalMaxPooling1D(data_format="channels_first"), (2, 3, 7), (2, 3), []),
    (lambda: L.GlobalAveragePooling2D(), (2, 5, 5, 8), (2, 8), []),
    (lambda: L.GlobalMaxPooling2D(keepdims=True), (2, 5, 5, 8), (2, 1, 1, 8), []),
    (lambda: L.GlobalAveragePooling2D(data_format="channels_first", keepdims=True),
     (2, 8, 5, 5), (2, 8, 1, 1), []),
    (lambda: L.GlobalAveragePooling3D(), (1, 2, 3, 4, 2), (1, 2), []),
    (lambda: L.GlobalMaxPooling3D(), (1, 2, 3, 4, 2), (1, 2), []),
]
IDS = [f"{i}-{type(f[0]()).__name__}" for i, f in enumerate(LAYERS)]


@pytest.mark.parametrize("make,shape,out,weights", LAYERS, ids=IDS)
def test_shapes_weights_and_config_round_trip(make, shape, out, weights):
    layer = make()
    y = layer(rng.standard_normal(shape).astype("float32"))
    assert y.shape == out and y.dtype == np.float32
    assert [w.shape for w in layer.weights] == weights
    assert layer.count_params() == sum(int(np.prod(w)) for w in weights)
    symbolic = (None,) + shape[1:]
    assert layer.compute_output_shape(symbolic) == (None,) + out[1:]
    assert make().compute_output_shape(symbolic) == (None,) + out[1:]  # unbuilt too
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone.build(shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(y_in := rng.standard_normal(shape).astype("float32"))
                                  .numpy(), layer(y_in).numpy())


def test_conv_layers_compute_the_conv_op_with_bias_and_activation():
    layer = Conv2D(3, 2, strides=(1, 2), padding="same", activation="relu",
                   bias_initializer="random_normal")
    x = rng.standard_normal((2, 5, 6, 2)).astype("float32")
    y = layer(x).numpy()
    k, b = layer.get_weights()
    want = np.maximum(ref_conv(x.astype(float), k.astype(float), (1, 2), "same", (1, 1)) + b, 0)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_pooling_layers_are_the_pooling_ops():
    x = rng.standard_normal((2, 7, 5, 3))
    np.testing.assert_allclose(L.MaxPooling2D(3, 2, "same")(x).numpy(),
                               ref_pool(x, (3, 3), (2, 2), "same", "max"), rtol=1e-6)
    np.testing.assert_allclose(L.AveragePooling2D((2, 3))(x).numpy(),
                               ref_pool(x, (2, 3), (2, 3), "valid", "avg"), atol=1e-6)
    np.testing.assert_allclose(L.GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)), rtol=1e-6)


def test_transposed_depthwise_and_separable_layers_are_their_ops():
    x = rng.standard_normal((2, 5, 5, 3)).astype("float32")
    t = L.Conv2DTranspose(2, 3, strides=2, padding="same", bias_initializer="ones")
    y = t(x).numpy()
    k, b = t.get_weights()
    np.testing.assert_allclose(y, ops.conv_transpose(x, k, 2, "same").numpy() + b, rtol=1e-5,
                               atol=1e-6)
    dw = L.DepthwiseConv2D(3, depth_multiplier=2, activation="relu")
    y = dw(x).numpy()
    want = np.maximum(ops.depthwise_conv(x, dw.get_weights()[0]).numpy(), 0)
    np.testing.assert_allclose(y, want, rtol=1e-6)
    sep = L.SeparableConv2D(4, 3)
    z = sep(x).numpy()
    d, p, _ = sep.get_weights()
    np.testing.assert_allclose(z, ops.separable_conv(x, d, p).numpy(), rtol=1e-6)
    assert [w.name for w in sep.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    config = sep.get_config()
    assert {"depth_multiplier", "depthwise_initializer", "pointwise_initializer",
            "depthwise_regularizer", "pointwise_constraint"} <= set(config)
    assert "groups" not in config and "kernel_initializer" not in config
    dconf = dw.get_config()
    assert "filters" not in dconf and dconf["depth_multiplier"] == 2
    assert t.get_config()["output_padding"] is None and "groups" not in t.get_config()
    assert (t.name, dw.name, sep.name) == ("conv2d_transpose", "depthwise_conv2d",
                                           "separable_conv2d")
    assert L.Convolution2DTranspose is L.Conv2DTranspose
    assert L.SeparableConvolution2D is L.SeparableConv2D


def test_keras_names_defaults_and_config_keys():
    conv = Conv2D(8, 3)
    assert conv.name == "conv2d" and Conv2D(8, 3).name == "conv2d_1"
    assert Conv1D(2, 2).name == "conv1d"
    assert MaxPooling2D().name == "max_pooling2d"
    assert GlobalAveragePooling1D().name == "global_average_pooling1d"
    assert L.AvgPool2D().name == "average_pooling2d"  # an alias makes the class it names
    config = conv.get_config()
    assert set(config) >= {
        "name", "trainable", "filters", "kernel_size", "strides", "padding", "data_format",
        "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint"}
    assert (config["kernel_size"], config["strides"], config["dilation_rate"]) == (
        (3, 3), (1, 1), (1, 1))
    assert (config["padding"], config["data_format"], config["groups"]) == (
        "valid", "channels_last", 1)
    assert config["activation"] == "linear" and config["use_bias"] is True
    pool = MaxPooling2D(3).get_config()
    assert (pool["pool_size"], pool["strides"], pool["padding"], pool["data_format"]) == (
        (3, 3), (3, 3), "valid", "channels_last")
    assert GlobalMaxPooling2D().get_config()["keepdims"] is False
    assert L.Convolution2D is Conv2D and L.MaxPool2D is MaxPooling2D
    assert L.GlobalAvgPool2D is L.GlobalAveragePooling2D and L.GlobalMaxPool1D is \
        L.GlobalMaxPooling1D


def mnist_convnet():
    return Sequential([
        Input((12, 12, 1)),
        Conv2D(4, 3, activation="relu"),
        MaxPooling2D(2),
        Conv2D(6, 3, activation="relu", padding="same"),
        MaxPooling2D(2),
        Flatten(),
        Dropout(0.5),
        Dense(3, activation="softmax"),
    ])


def test_summary_rows_and_parameter_counts(capsys):
    model = mnist_convnet()
    model.summary()
    out = capsys.readouterr().out
    assert "conv2d (Conv2D)              (None, 10, 10, 4)         40" in out
    assert "max_pooling2d (MaxPooling2D) (None, 5, 5, 4)           0" in out
    assert "conv2d_1 (Conv2D)            (None, 5, 5, 6)           222" in out
    assert "flatten (Flatten)            (None, 24)                0" in out
    assert "Total params: 337" in out


def test_save_and_load_round_trip(tmp_path):
    model = mnist_convnet()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.standard_normal((16, 12, 12, 1)).astype("float32")
    model.fit(x, np.arange(16) % 3, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "cnn.keras")
    loaded = load_model(tmp_path / "cnn.keras")
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    assert loaded.layers[2].get_config() == model.layers[2].get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_functional_and_subclassed_models():
    inp = Input((20, 3))
    h = Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu")(inp)
    h = L.MaxPooling1D(2)(h)
    out = Dense(1)(GlobalAveragePooling1D()(h))
    model = Model(inp, out)
    assert model.predict(np.zeros((4, 20, 3), "float32"), verbose=0).shape == (4, 1)

    class Net(Model):
        def __init__(self):
            super().__init__()
            self.conv = Conv2D(3, 3, padding="same")
            self.pool = GlobalMaxPooling2D()

        def call(self, x):
            return self.pool(self.conv(x))

    assert Net()(np.zeros((2, 6, 6, 1), "float32")).shape == (2, 3)


def test_causal_conv_does_not_look_ahead():
    layer = Conv1D(1, 3, padding="causal", dilation_rate=2, kernel_initializer="ones")
    x = np.zeros((1, 9, 1), "float32")
    x[0, 5] = 1.0
    y = layer(x).numpy().ravel()
    assert np.all(y[:5] == 0) and y[5] == 1 and y[7] == 1 and y[6] == 0


def train(model_fn, x, y, jit, epochs=2, loss="sparse_categorical_crossentropy"):
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)
    model = model_fn()
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"], jit_compile=jit)
    history = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0)
    return model, history.history


def causal_model():
    return Sequential([Input((16, 2)),
                       Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
                       Conv1D(4, 2, strides=2, padding="same", groups=2),
                       L.AveragePooling1D(2, padding="same"),
                       GlobalAveragePooling1D(),
                       Dense(3, activation="softmax")])


def channels_first_model():
    return Sequential([Input((2, 8, 8)),
                       Conv2D(4, 3, padding="same", data_format="channels_first",
                              activation="relu"),
                       MaxPooling2D(2, data_format="channels_first"),
                       GlobalMaxPooling2D(data_format="channels_first"),
                       Dense(3, activation="softmax")])


@pytest.mark.parametrize("model_fn,shape", [(mnist_convnet, (12, 12, 1)),
                                            (causal_model, (16, 2)),
                                            (channels_first_model, (2, 8, 8))],
                         ids=["convnet", "causal1d", "channels_first"])
def test_captured_step_is_bit_identical_to_the_tape(model_fn, shape):
    x = rng.standard_normal((40,) + shape).astype("float32")
    y = np.arange(40) % 3
    fast = train(model_fn, x, y, True)  # jit_compile=True raises if the model is not captured
    assert any(e.program is not None for k, e in fast[0]._steps.entries.items()
               if k[0] == "train")
    slow = train(model_fn, x, y, False)
    assert slow[0]._steps.entries == {}
    for a, b in zip(fast[0].get_weights(), slow[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert fast[1] == slow[1]
    np.testing.assert_array_equal(fast[0].predict(x, verbose=0), slow[0].predict(x, verbose=0))


def test_conv_weight_gradient_through_the_layer_matches_finite_differences():
    cr.backend.set_floatx("float64")
    try:
        layer = Conv2D(2, 2, strides=2, padding="same", activation="tanh", dtype="float64")
        x = rng.standard_normal((2, 5, 5, 3))
        layer.build(x.shape)

        def fn(k, b):
            return ops.tanh(ops.conv(x, k, 2, "same", bias=b))

        k, b = layer.get_weights()
        np.testing.assert_allclose(layer(x).numpy(), fn(k, b).numpy())
        assert cr.gradcheck.check_gradients(fn, k, b).ok
    finally:
        cr.backend.set_floatx("float32")


def test_sequences_of_any_length():
    inp = Input((None, 3))
    h = L.MaxPooling1D()(Conv1D(4, 3, activation="relu")(inp))
    assert h.shape == (None, None, 4)
    model = Model(inp, Dense(2)(L.GlobalMaxPooling1D()(h)))
    for steps in (7, 20):
        assert model.predict(np.ones((2, steps, 3), "float32"), verbose=0).shape == (2, 2)
