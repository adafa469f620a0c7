"""Layer.compute_weight_shapes: the weights a layer will create, described, none allocated."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import backend, initializers, layers, ops
from chainrule.layers import ShapeOnlyScope, WeightBudgetError, WeightShape
from chainrule.saving import InvalidArchiveError, UnsafeFileError, load_model

INITIALIZED: list = []  # the shapes the custom layers' initializers were asked for


def _init(name):
    """An initializer that records each shape it fills (none in a ShapeOnlyScope)."""
    def init(shape, dtype=None):
        INITIALIZED.append(tuple(shape))
        return initializers.get(name)(shape, dtype=dtype)

    return init


class LSTMShaped(layers.Layer):
    """Two steps of an LSTM cell on the same input, with Keras's LSTM weight layout."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        u = self.units
        self.kernel = self.add_weight((input_shape[-1], 4 * u), _init("glorot_uniform"),
                                      name="kernel")
        self.recurrent_kernel = self.add_weight((u, 4 * u), _init("orthogonal"),
                                                name="recurrent_kernel")
        self.bias = self.add_weight((4 * u,), _init("random_normal"), name="bias")

    def call(self, x):
        u = self.units
        xk = x @ self.kernel + self.bias
        h = c = None
        for _ in range(2):
            z = xk if h is None else xk + h @ self.recurrent_kernel
            i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
            new = ops.sigmoid(i) * ops.tanh(g)
            c = new if c is None else ops.sigmoid(f) * c + new
            h = ops.sigmoid(o) * ops.tanh(c)
        return h

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Conv3x3(layers.Layer):
    """A 'valid' 3x3 convolution, channels last, with Keras's Conv2D weight layout."""

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters

    def build(self, input_shape):
        self.kernel = self.add_weight((3, 3, input_shape[-1], self.filters),
                                      _init("glorot_uniform"), name="kernel")
        self.bias = self.add_weight((self.filters,), _init("random_normal"), name="bias")

    def call(self, x):
        h, w = x.shape[1] - 2, x.shape[2] - 2
        out = self.bias
        for i in range(3):
            for j in range(3):
                out = out + x[:, i:i + h, j:j + w, :] @ self.kernel[i, j]
        return out

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


CUSTOM = {"LSTMShaped": LSTMShaped, "Conv3x3": Conv3x3}


def _described(layer):
    return [WeightShape(w.path, tuple(w.shape), w.dtype.name) for w in layer.weights]


# --------------------------------------------------------------------------- the hook


def test_dense_with_and_without_bias():
    dense = layers.Dense(4, name="d")
    assert dense.compute_weight_shapes((None, 3)) == [
        ("d/kernel", (3, 4), "float32"), ("d/bias", (4,), "float32")]
    assert not dense.built and dense.weights == [] and dense.kernel is None
    no_bias = layers.Dense(4, use_bias=False, input_dim=7, name="nb", dtype="float64")
    shapes = no_bias.compute_weight_shapes()  # the declared input shape
    assert shapes == [("nb/kernel", (7, 4), "float64")]
    w = shapes[0]
    assert (w.layer, w.name, w.nbytes) == ("nb", "kernel", 7 * 4 * 8)


def test_lstm_shaped_custom_layer():
    layer = LSTMShaped(3, name="lstm")
    assert layer.compute_weight_shapes((None, 5)) == [
        ("lstm/kernel", (5, 12), "float32"),
        ("lstm/recurrent_kernel", (3, 12), "float32"),
        ("lstm/bias", (12,), "float32"),
    ]
    assert not layer.built and layer.weights == [] and not hasattr(layer, "kernel")


def test_conv_shaped_custom_layer():
    layer = Conv3x3(4, name="conv")
    assert layer.compute_weight_shapes((None, 8, 8, 2)) == [
        ("conv/kernel", (3, 3, 2, 4), "float32"), ("conv/bias", (4,), "float32")]


def test_the_answer_is_what_build_creates():
    def stack():
        return [Conv3x3(4, name="conv"), layers.Flatten(name="flat"),
                LSTMShaped(3, name="lstm"), layers.Dense(2, name="out")]

    described = cr.Sequential(stack()).compute_weight_shapes((None, 6, 6, 2))
    built = cr.Sequential(stack())
    built.build((None, 6, 6, 2))
    assert described == _described(built)
    assert [w.shape for w in described] == [(3, 3, 2, 4), (4,), (64, 12), (3, 12), (12,),
                                            (3, 2), (2,)]


def test_nothing_is_allocated_initialized_or_named():
    layer = LSTMShaped(100_000, name="huge")  # a 160 GB kernel
    state = backend.get_random_state()
    INITIALIZED.clear()
    tracemalloc.start()
    try:
        shapes = layer.compute_weight_shapes((None, 100_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert shapes[0].shape == (100_000, 400_000) and shapes[0].nbytes == 160 * 10**9
    assert peak < 2**20
    assert backend.get_random_state() == state and INITIALIZED == []  # no initializer ran

    class Wrapper(layers.Layer):  # its build makes a layer with a default name
        def build(self, input_shape):
            self.inner = layers.Dense(2)
            self.inner.build(input_shape)

    cr.layers.base.clear_session()
    wrapper = Wrapper(name="w")
    assert wrapper.compute_weight_shapes((None, 3)) == [("dense/kernel", (3, 2), "float32"),
                                                        ("dense/bias", (2,), "float32")]
    assert not hasattr(wrapper, "inner") and wrapper._layers == []
    assert layers.Dense(1).name == "dense"  # the description used up no default name


def test_a_built_layer_describes_its_weights_and_any_other_shape():
    dense = layers.Dense(4, name="d")
    dense(np.zeros((2, 3)))
    kernel = dense.kernel
    assert dense.compute_weight_shapes() == _described(dense)
    assert dense.compute_weight_shapes((None, 3)) == _described(dense)
    assert dense.compute_weight_shapes((None, 5))[0] == ("d/kernel", (5, 4), "float32")
    assert dense.kernel is kernel and dense.built and len(dense.weights) == 2
    model = cr.Sequential([Conv3x3(2, name="c"), layers.Flatten(), layers.Dense(1, name="o")])
    model.build((None, 5, 5, 1))
    before = [w.numpy() for w in model.weights]
    assert model.compute_weight_shapes() == _described(model)
    assert [w.shape for w in model.compute_weight_shapes((None, 6, 6, 1))] == [
        (3, 3, 1, 2), (2,), (32, 1), (1,)]
    assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, model.weights))


def test_subclassed_and_functional_models():
    class Net(cr.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.cell = LSTMShaped(2, name="cell")
            self.out = layers.Dense(1, name="out")

        def call(self, x, training=None):
            return self.out(self.cell(x))

    net = Net()
    assert net.compute_weight_shapes((None, 4)) == [
        ("cell/kernel", (4, 8), "float32"), ("cell/recurrent_kernel", (2, 8), "float32"),
        ("cell/bias", (8,), "float32"), ("out/kernel", (2, 1), "float32"),
        ("out/bias", (1,), "float32")]
    assert not net.built and net.weights == []
    inputs = layers.Input((7,))
    functional = cr.Model(inputs, layers.Dense(3, name="f")(inputs))
    assert functional.compute_weight_shapes() == [("f/kernel", (7, 3), "float32"),
                                                  ("f/bias", (3,), "float32")]


def test_no_input_shape_is_an_error():
    with pytest.raises(ValueError, match=r"Layer 'd' cannot tell .* Received: input_shape=None"):
        layers.Dense(2, name="d").compute_weight_shapes()
    with pytest.raises(ValueError, match="must be known"):
        layers.Dense(2, name="d").compute_weight_shapes((None, None))


# --------------------------------------------------------------------------- the scope


def test_scope_records_and_bounds_before_allocating():
    with ShapeOnlyScope() as scope:
        layers.Dense(4, name="d").compute_weight_shapes((None, 3))
    assert scope.weights == [("d/kernel", (3, 4), "float32"), ("d/bias", (4,), "float32")]
    assert scope.nbytes == 64
    with pytest.raises(WeightBudgetError, match=r'Layer "lstm" weight "recurrent_kernel" of '
                       r"shape \(1000, 4000\) .* more than the 20000000 allowed") as info:
        with ShapeOnlyScope(max_bytes=20_000_000):
            LSTMShaped(1000, name="lstm").compute_weight_shapes((None, 1000))
    assert info.value.weight.name == "recurrent_kernel" and info.value.max_bytes == 20_000_000
    with pytest.raises(ValueError, match=r"max_bytes must be .* Received: max_bytes=-1"):
        ShapeOnlyScope(max_bytes=-1)


def test_scope_refuses_invalid_weight_shapes():
    class Bad(layers.Layer):
        def build(self, input_shape):
            self.add_weight((3, -1), name="w")

    with pytest.raises(ValueError, match=r'Layer "bad" weight "w": .* Received: shape=\(3, -1\)'):
        Bad(name="bad").compute_weight_shapes((None, 2))


# --------------------------------------------------------------------------- saving and loading


def _models():
    rng = np.random.default_rng(0)
    lstm = cr.Sequential([LSTMShaped(6, input_shape=(5,), name="lstm"),
                          layers.Dense(2, name="out")])
    conv = cr.Sequential([Conv3x3(4, name="conv"), layers.Flatten(name="flat"),
                          layers.Dense(3, activation="softmax", name="out")])
    conv(np.zeros((1, 7, 7, 2), "float32"))  # built by a call: build_config holds the shape
    return [(lstm, rng.normal(size=(16, 5)).astype("float32")),
            (conv, rng.normal(size=(16, 7, 7, 2)).astype("float32"))]


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture
def saved_lstm(tmp_path):
    model, _ = _models()[0]
    model.save(tmp_path / "m.keras")
    members = _members(tmp_path / "m.keras")
    return members, json.loads(members["config.json"])


def _write(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _replace_weight(members, key, value):
    with zipfile.ZipFile(io.BytesIO(members["model.weights.npz"])) as zf:
        arrays = {n[:-4]: np.load(io.BytesIO(zf.read(n))) for n in zf.namelist()}
    arrays[key] = value
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return {**members, "model.weights.npz": buf.getvalue()}


@pytest.mark.parametrize("index", [0, 1])
def test_custom_layers_save_and_load_bit_identically(tmp_path, index):
    model, x = _models()[index]
    y = np.arange(16) % 2 if index else np.zeros((16, 2), "float32")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy" if index else "mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras", custom_objects=CUSTOM)
    assert [(w.path, w.shape) for w in loaded.weights] == [(w.path, w.shape) for w in model.weights]
    assert np.array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), loaded.get_weights()))


@pytest.mark.parametrize("index,setting,shape,class_name", [
    (0, {"units": 10**8}, r"\(5, 400000000\)", "LSTMShaped"),  # 8 GB
    (1, {"filters": 10**8}, r"\(3, 3, 2, 100000000\)", "Conv3x3"),  # 7.2 GB
])
def test_a_huge_weight_from_a_custom_layer_is_refused_before_allocation(
        tmp_path, index, setting, shape, class_name):
    model, _ = _models()[index]
    model.save(tmp_path / "m.keras")
    members = _members(tmp_path / "m.keras")
    config = json.loads(members["config.json"])
    layer = config["config"]["layers"][1]
    assert layer["class_name"] == class_name
    layer["config"].update(setting, name="huge")  # not in the file: only the budget stops it
    path = _write(tmp_path / "h.keras", {**members, "config.json": json.dumps(config)})
    INITIALIZED.clear()
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeFileError, match=rf"asks layer 'huge' for a weight 'kernel' of "
                           rf"shape {shape} .* implausibly many .* Nothing was allocated\. "
                           rf"Received: layer 'huge': {class_name}\("):
            load_model(path, custom_objects=CUSTOM)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20 and INITIALIZED == []


def test_saved_arrays_of_the_wrong_shape_are_refused(tmp_path, saved_lstm):
    members, _ = saved_lstm
    bad = _replace_weight(members, "lstm/recurrent_kernel", np.zeros((6, 20), "float32"))
    INITIALIZED.clear()
    with pytest.raises(InvalidArchiveError, match=r"layer 'lstm' weight 'recurrent_kernel' has "
                       r"shape \(6, 24\) by its config .* but shape \(6, 20\) in the saved "
                       r"weights\. Received: layer 'lstm': LSTMShaped\(.*units=6"):
        load_model(_write(tmp_path / "r.keras", bad), custom_objects=CUSTOM)
    assert INITIALIZED == []  # refused before building the model
    bad = _replace_weight(members, "lstm/bias", np.zeros((24, 1), "float32"))
    with pytest.raises(InvalidArchiveError, match=r"layer 'lstm' weight 'bias' has shape"):
        load_model(_write(tmp_path / "b.keras", bad), custom_objects=CUSTOM)
    conv, _ = _models()[1]
    conv.save(tmp_path / "c.keras")
    bad = _replace_weight(_members(tmp_path / "c.keras"), "conv/kernel",
                          np.zeros((3, 3, 2, 5), "float32"))
    with pytest.raises(InvalidArchiveError, match=r"layer 'conv' weight 'kernel' has shape "
                       r"\(3, 3, 2, 4\) .* but shape \(3, 3, 2, 5\)"):
        load_model(_write(tmp_path / "cb.keras", bad), custom_objects=CUSTOM)


def test_missing_weights_of_a_custom_layer_are_named(tmp_path, saved_lstm):
    members, config = saved_lstm
    config["config"]["layers"][1]["config"]["name"] = "renamed"
    path = _write(tmp_path / "n.keras", {**members, "config.json": json.dumps(config)})
    with pytest.raises(InvalidArchiveError, match=r"layer 'renamed' has no saved kernel, "
                       r"recurrent_kernel, bias, although the model is built"):
        load_model(path, custom_objects=CUSTOM)


def test_load_weights_checks_the_archives_build_shape(tmp_path, saved_lstm):
    members, config = saved_lstm
    config["build_config"] = {"input_shape": [None, 10**9]}
    path = _write(tmp_path / "s.keras", {**members, "config.json": json.dumps(config)})
    unbuilt = cr.Sequential([LSTMShaped(6, name="lstm"), layers.Dense(2, name="out")])
    INITIALIZED.clear()
    with pytest.raises(UnsafeFileError, match=r"input_shape=\[None, 1000000000\] "
                       r"\(1000000000 values per sample\), implausibly large"):
        unbuilt.load_weights(path)
    assert not unbuilt.built and INITIALIZED == []
    config["build_config"] = {"input_shape": [None, 5]}
    unbuilt.load_weights(_write(tmp_path / "ok.keras",
                                {**members, "config.json": json.dumps(config)}))
    assert [w.shape for w in unbuilt.weights] == [(5, 24), (6, 24), (24,), (6, 2), (2,)]
