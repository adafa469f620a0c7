"""Keras 3.15 compatibility: layer configs' dtype policy, ``.keras`` metadata, SwapEMAWeights
with wrapped optimizers, channels-first image preprocessing layers.

Reference values recorded from Keras by tools/keras_fixtures_kcompat.py
(tests/fixtures/keras_kcompat.json).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "keras_kcompat.json")
with open(FIXTURE) as _f:
    KERAS = json.load(_f)


def _policy(name: str) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


# ---------------------------------------------------------------- 1. dtype in get_config


@pytest.mark.parametrize("label", sorted(k for k in KERAS["dtype"] if "kwargs" in KERAS["dtype"][k]))
def test_get_config_writes_the_dtype_policy_as_keras_does(label):
    ref = KERAS["dtype"][label]
    config = getattr(layers, ref["class_name"])(**ref["kwargs"]).get_config()
    assert config["dtype"] == ref["dtype"]
    assert list(config).index("dtype") == ref["position"]


def test_nested_layer_configs_carry_the_policy_too():
    config = layers.Bidirectional(layers.LSTM(2)).get_config()
    assert config["layer"]["config"]["dtype"] == KERAS["dtype"]["bidirectional_inner"]["dtype"]


@pytest.mark.parametrize("label", ["input_layer", "input_layer_int"])
def test_input_layer_config_writes_its_dtype_name_as_keras_does(label):
    ref = KERAS["dtype"][label]
    config = layers.InputLayer(shape=(2,), **ref["input_kwargs"]).get_config()
    assert config["dtype"] == ref["dtype"]
    assert layers.InputLayer.from_config(config).output_tensor.dtype == ref["dtype"]


@pytest.mark.parametrize("form", [
    "float64",
    _policy("float64"),
    {"module": "keras.dtype_policies", "class_name": "FloatDTypePolicy",
     "config": {"name": "float64"}, "registered_name": None},
    {"class_name": "DTypePolicy", "config": {"name": "float64"}},
])
def test_from_config_accepts_every_form_keras_writes(form):
    config = layers.Dense(2).get_config()
    config["dtype"] = form
    layer = layers.Dense.from_config(config)
    assert layer.dtype == "float64"
    assert layer.get_config()["dtype"] == _policy("float64")
    out = layer(np.ones((1, 3)))
    assert out.dtype == np.float64 and layer.kernel.dtype == np.float64
    again = layers.deserialize({"class_name": "Dense", "config": config})
    assert again.dtype == "float64"


def test_from_config_refuses_a_policy_it_cannot_honour_naming_it():
    config = layers.Dense(2).get_config()
    config["dtype"] = _policy("mixed_float16")
    with pytest.raises(ValueError, match="mixed_float16"):
        layers.Dense.from_config(config)


@pytest.mark.parametrize("make", [
    lambda: layers.Dense(3, dtype="float64"),
    lambda: layers.Embedding(5, 2),
    lambda: layers.Hashing(4),
    lambda: layers.StringLookup(vocabulary=["a", "b"]),
    lambda: layers.LSTM(2),
    lambda: layers.Bidirectional(layers.GRU(2)),
    lambda: layers.Layer(dtype="string"),
])
def test_config_round_trips_with_the_policy(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert clone.dtype_policy == layer.dtype_policy


def test_a_layer_without_dtype_writes_the_global_policy():
    cr.config.set_dtype_policy("float64")
    try:
        assert layers.Dense(2).get_config()["dtype"] == _policy("float64")
    finally:
        cr.config.set_dtype_policy("float32")
    assert layers.Dense(2).get_config()["dtype"] == _policy("float32")


def test_own_archive_round_trips_the_policy(tmp_path):
    model = cr.Sequential([layers.Input((3,)), layers.Dense(2, dtype="float64"),
                           layers.Dense(1)])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = cr.saving.load_model(path)
    assert [la.dtype for la in loaded.layers] == ["float64", "float32"]
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ---------------------------------------------------------------- 2. metadata.json


def test_keras_format_metadata_has_keras_keys_and_date_format(tmp_path):
    pytest.importorskip("h5py")
    import datetime
    import zipfile

    from chainrule.saving.keras_archive import KERAS_DATE_FORMAT

    ref = KERAS["metadata"]
    # the recorded Keras value parses with the format chainrule writes
    datetime.datetime.strptime(ref["date_saved"], KERAS_DATE_FORMAT)
    model = cr.Sequential([layers.Input((3,)), layers.Dense(2)])
    path = tmp_path / "m.keras"
    before = datetime.datetime.now().replace(microsecond=0)
    model.save(path, format="keras")
    after = datetime.datetime.now()
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("metadata.json"))
    assert sorted(meta) == sorted(ref["keys"])
    assert meta["keras_version"].split(".")[:2] == ref["keras_version"].split(".")[:2]
    saved = datetime.datetime.strptime(meta["date_saved"], KERAS_DATE_FORMAT)
    assert before <= saved <= after
    editor = cr.saving.KerasFileEditor(str(path))
    assert editor.metadata == meta


# ---------------------------------------------------------------- 3. SwapEMAWeights


class _Record(cr.callbacks.Callback):
    """Copies of the weights (and, when given, the EMA optimizers' averages) at test time."""

    def __init__(self, ema_optimizers=None):
        super().__init__()
        self.ema_optimizers = ema_optimizers
        self.seen = []

    def _store(self, when):
        weights = {v.path: v.numpy().copy() for v in self.model.trainable_weights}
        averages = {}
        for opt in self.ema_optimizers or []:
            averages.update({v.path: np.array(a) for v, a in zip(opt._vars, opt._averages)})
        self.seen.append((when, weights, averages))

    def on_test_begin(self, logs=None):
        self._store("begin")

    def on_test_end(self, logs=None):
        self._store("end")


def _ema_model(optimizer):
    cr.utils.set_random_seed(1)
    model = cr.Sequential([cr.Input((2,)), layers.Dense(3, name="a"), layers.Dense(1, name="b")])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _multi(ema_a=True, ema_b=False):
    o = cr.optimizers
    return o.MultiOptimizer(o.OptimizerMap(o.Adam(0.05, use_ema=ema_b),
                                           {"a/.*": o.SGD(0.1, use_ema=ema_a, ema_momentum=0.5)}))


@pytest.mark.parametrize("wrap", ["multi", "loss_scale_multi", "loss_scale"])
def test_swap_ema_weights_finds_wrapped_optimizers(wrap):
    o = cr.optimizers
    if wrap == "loss_scale":
        ema = [o.SGD(0.1, use_ema=True, ema_momentum=0.5)]
        optimizer = o.LossScaleOptimizer(ema[0])
    else:
        optimizer = _multi()
        ema = [opt for opt in optimizer.optimizers if opt.use_ema]
        assert [opt.name for opt in ema] == ["sgd"] and len(optimizer.optimizers) == 2
        if wrap == "loss_scale_multi":
            optimizer = o.LossScaleOptimizer(optimizer)
    model = _ema_model(optimizer)
    before, after = _Record(ema), _Record()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 2)), rng.normal(size=(16, 1))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, validation_data=(x, y),
              callbacks=[before, cr.callbacks.SwapEMAWeights(), after])
    assert len(before.seen) == len(after.seen) == 4
    for k in range(0, 4, 2):  # each validation: begin, end
        _, trained, averages = before.seen[k]  # before the swap
        assert averages  # the averages were found
        swapped, restored = after.seen[k][1], after.seen[k + 1][1]
        for path, value in swapped.items():
            if path in averages:  # averaged weights are swapped in
                np.testing.assert_array_equal(value, averages[path])
                assert not np.array_equal(value, trained[path])
            else:  # the others keep their trained values
                np.testing.assert_array_equal(value, trained[path])
            np.testing.assert_array_equal(restored[path], trained[path])
    if wrap != "loss_scale":  # only the "a" layer's weights have averages
        assert sorted(before.seen[0][2]) == ["a/bias", "a/kernel"]


def test_swap_ema_weights_on_epoch_with_a_multi_optimizer_keeps_the_averages_at_the_end():
    optimizer = _multi()
    model = _ema_model(optimizer)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    model.fit(x, y, epochs=2, batch_size=4, verbose=0,
              callbacks=[cr.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    sgd = optimizer.optimizers[0]
    assert sgd.use_ema
    for var, avg in zip(sgd._vars, sgd._averages):  # finalized: the averages are the weights
        np.testing.assert_array_equal(var.numpy(), avg)


def test_swap_ema_weights_refuses_a_multi_optimizer_without_averages_as_keras_does():
    model = _ema_model(_multi(ema_a=False, ema_b=False))
    with pytest.raises(ValueError, match=r"at least one inner optimizer has `use_ema=True`"):
        model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0,
                       callbacks=[cr.callbacks.SwapEMAWeights()])
    model = _ema_model(cr.optimizers.LossScaleOptimizer(cr.optimizers.SGD()))
    with pytest.raises(ValueError, match=r"Received: use_ema=False$"):
        model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0,
                       callbacks=[cr.callbacks.SwapEMAWeights()])


def test_swap_ema_weights_before_the_first_step_leaves_the_weights():
    model = _ema_model(_multi())
    before = [w.copy() for w in model.get_weights()]
    model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0,
                   callbacks=[cr.callbacks.SwapEMAWeights()])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- 4. channels-first images

IMAGES = KERAS["images"]
X_FIRST = np.asarray(IMAGES["input"], dtype="float32")  # (2, 3, 5, 7): channels first


@pytest.mark.parametrize("label", sorted(IMAGES["layers"]))
def test_channels_first_image_layers_match_keras(label):
    ref = IMAGES["layers"][label]
    layer = getattr(layers, ref["class_name"])(**ref["kwargs"], data_format="channels_first")
    out = layer(X_FIRST, training=ref["training"]).numpy()
    expected = np.asarray(ref["output"], dtype="float32")
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-3)
    # one image without the batch axis gives the first image's result
    single = layer(X_FIRST[0], training=ref["training"]).numpy()
    np.testing.assert_allclose(single, expected[0], rtol=1e-5, atol=1e-3)


SEEDED = {
    "Resizing": lambda **kw: layers.Resizing(3, 4, **kw),
    "ResizingPad": lambda **kw: layers.Resizing(4, 4, pad_to_aspect_ratio=True, **kw),
    "CenterCrop": lambda **kw: layers.CenterCrop(3, 4, **kw),
    "RandomCrop": lambda **kw: layers.RandomCrop(3, 4, seed=1, **kw),
    "RandomFlip": lambda **kw: layers.RandomFlip(seed=1, **kw),
    "RandomRotation": lambda **kw: layers.RandomRotation(0.2, seed=1, **kw),
    "RandomZoom": lambda **kw: layers.RandomZoom(0.2, 0.3, seed=1, **kw),
    "RandomTranslation": lambda **kw: layers.RandomTranslation(0.2, 0.3, seed=1, **kw),
    "RandomContrast": lambda **kw: layers.RandomContrast(0.5, seed=1, **kw),
    "RandomBrightness": lambda **kw: layers.RandomBrightness(0.5, seed=1, **kw),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_channels_first_is_channels_last_transposed(name):
    x_last = X_FIRST.transpose(0, 2, 3, 1)
    last = SEEDED[name](data_format="channels_last")(x_last, training=True).numpy()
    first = SEEDED[name](data_format="channels_first")(X_FIRST, training=True).numpy()
    np.testing.assert_array_equal(first, last.transpose(0, 3, 1, 2))
    config = SEEDED[name](data_format="channels_first").get_config()
    assert config["data_format"] == "channels_first"
    clone = type(SEEDED[name]()).from_config(config)
    np.testing.assert_array_equal(clone(X_FIRST, training=True).numpy(), first)


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_image_layers_follow_the_global_channels_first_setting(name):
    cr.config.set_image_data_format("channels_first")
    try:
        layer = SEEDED[name]()
        assert layer.data_format == "channels_first"
        inputs = layers.Input((3, 5, 7))
        out = layer(inputs)
        expected = layer(X_FIRST, training=True).numpy().shape
        assert tuple(out.shape)[1:] == expected[1:]
    finally:
        cr.config.set_image_data_format("channels_last")
    assert SEEDED[name]().data_format == "channels_last"


def test_channels_first_preprocessing_model_trains_with_the_captured_step():
    def model(jit):
        cr.utils.set_random_seed(3)
        m = cr.Sequential([layers.Input((3, 5, 7)),
                           layers.RandomFlip(seed=2, data_format="channels_first"),
                           layers.RandomTranslation(0.1, 0.1, seed=2,
                                                    data_format="channels_first"),
                           layers.RandomCrop(4, 4, seed=2, data_format="channels_first"),
                           layers.Resizing(2, 2, data_format="channels_first"),
                           layers.Flatten(), layers.Dense(1)])
        m.compile(optimizer="sgd", loss="mse", jit_compile=jit)
        return m

    y = np.ones((2, 1), "float32")
    captured = model(True)
    captured.fit(X_FIRST / 255.0, y, epochs=3, batch_size=2, verbose=0)
    assert any(e.program is not None for e in captured._steps.entries.values())
    assert captured.predict(X_FIRST / 255.0, verbose=0).shape == (2, 1)

