"""Keras 3 behaviour of ``Flatten(data_format=...)``, ``Sequential.get_config``/``from_config``
and the symbolic ``inputs``/``outputs`` of a Sequential model built from a shape."""

import json

import numpy as np
import pytest

import chainrule as cr

L = cr.layers


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


# -- Flatten(data_format=...) ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 4, 5), (2, 3, 2, 2, 2)])
def test_flatten_channels_first_moves_the_channel_axis_last(shape):
    x = _x(*shape)
    got = np.asarray(L.Flatten(data_format="channels_first")(x))
    np.testing.assert_array_equal(got, np.moveaxis(x, 1, -1).reshape(shape[0], -1))
    last = np.asarray(L.Flatten(data_format="channels_last")(x))
    np.testing.assert_array_equal(last, x.reshape(shape[0], -1))


def test_flatten_channels_first_on_a_2d_input_is_the_identity():
    x = _x(3, 4)
    np.testing.assert_array_equal(np.asarray(L.Flatten(data_format="channels_first")(x)), x)


def test_flatten_config_round_trip_and_default():
    assert L.Flatten().get_config()["data_format"] == "channels_last"
    layer = L.Flatten(data_format="channels_first", name="f")
    config = layer.get_config()
    assert config["data_format"] == "channels_first"
    again = L.Flatten.from_config(json.loads(json.dumps(config)))
    x = _x(2, 3, 4)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(layer(x)))


def test_flatten_bad_data_format_is_named():
    with pytest.raises(ValueError, match=r"Flatten .*data_format.*Received: data_format='nchw'"):
        L.Flatten(data_format="nchw")


def test_flatten_channels_first_model_saves_loads_and_is_captured(tmp_path):
    def make():
        model = cr.Sequential([cr.Input((3, 4, 2)), L.Flatten(data_format="channels_first"),
                               L.Dense(2, kernel_initializer="glorot_uniform")])
        model.compile(optimizer="sgd", loss="mse", jit_compile=True)
        return model

    model = make()
    x, y = _x(8, 3, 4, 2), _x(8, 2, seed=1)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    kernel, bias = model.layers[1].get_weights()
    expected = np.moveaxis(x, 1, -1).reshape(8, -1) @ kernel + bias
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "f.keras")
    loaded = cr.models.load_model(tmp_path / "f.keras")
    assert loaded.layers[0].data_format == "channels_first"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


# -- Sequential.get_config / from_config -----------------------------------------------------------
def _built_with_input():
    return cr.Sequential([cr.Input((3,)), L.Dense(4), L.Dense(2)])


def _built_with_input_shape():
    return cr.Sequential([L.Dense(4, input_shape=(3,)), L.Dense(2)])


def _built_by_build():
    model = cr.Sequential([L.Dense(4), L.Dense(2)])
    model.build((None, 3))
    return model


def _built_by_a_call():
    model = cr.Sequential([L.Dense(4), L.Dense(2)])
    model(np.zeros((5, 3), "float32"))
    return model


BUILDS = [_built_with_input, _built_with_input_shape, _built_by_build, _built_by_a_call]
IDS = ["input", "input-shape", "build", "call"]


@pytest.mark.parametrize("make", BUILDS, ids=IDS)
def test_config_starts_with_an_input_layer_as_keras3_does(make):
    model = make()
    config = json.loads(json.dumps(model.get_config()))
    first = config["layers"][0]
    assert first["class_name"] == "InputLayer"
    assert set(first["config"]) == {"batch_shape", "dtype", "sparse", "name"}
    assert first["config"]["batch_shape"] == [None, 3]
    assert first["config"]["dtype"] == "float32" and first["config"]["sparse"] is False
    assert [la["class_name"] for la in config["layers"][1:]] == ["Dense", "Dense"]
    assert config["build_input_shape"] == [None, 3]
    assert "batch_input_shape" not in config
    again = cr.Sequential.from_config(config)
    assert again.built and len(again.layers) == 2
    again.set_weights(model.get_weights())
    x = _x(4, 3)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert again.get_config()["layers"][0]["config"]["batch_shape"] == [None, 3]


def test_unbuilt_model_config_has_no_input_layer():
    config = cr.Sequential([L.Dense(2)]).get_config()
    assert [la["class_name"] for la in config["layers"]] == ["Dense"]
    assert "build_input_shape" not in config
    assert not cr.Sequential.from_config(config).built


def _dense_config(units, **extra):
    return {"class_name": "Dense", "config": {"units": units, **extra}}


@pytest.mark.parametrize("config", [
    # chainrule's older form: the shape at the top level
    {"name": "old", "layers": [_dense_config(4), _dense_config(2)], "batch_input_shape": [None, 3]},
    # the shape on the first layer
    {"name": "old", "layers": [_dense_config(4, batch_input_shape=[None, 3]), _dense_config(2)]},
    # Keras 3 with the shape only in build_input_shape
    {"name": "k3", "layers": [_dense_config(4), _dense_config(2)], "build_input_shape": [None, 3]},
], ids=["top-level", "first-layer", "build-input-shape"])
def test_older_configs_still_load_and_build(config):
    model = cr.Sequential.from_config(config)
    assert model.built
    assert [w.shape for w in model.get_weights()] == [(3, 4), (4,), (4, 2), (2,)]
    assert model.get_config()["build_input_shape"] == [None, 3]


# -- symbolic inputs/outputs of a model built from a shape -----------------------------------------
@pytest.mark.parametrize("make", BUILDS, ids=IDS)
def test_feature_extraction_from_a_sequential_built_each_way(make):
    seq = make()
    extractor = cr.Model(inputs=seq.inputs, outputs=[layer.output for layer in seq.layers])
    x = _x(6, 3)
    (k1, b1), (k2, b2) = (la.get_weights() for la in seq.layers)
    a, c = (np.asarray(t) for t in extractor(x))
    np.testing.assert_allclose(a, x @ k1 + b1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c, (x @ k1 + b1) @ k2 + b2, rtol=1e-5, atol=1e-6)
    assert seq.input is seq.inputs[0] and seq.output is seq.outputs[0]
    assert seq.inputs[0].shape == (None, 3) and seq.outputs[0].shape == (None, 2)


def test_inputs_follow_a_layer_added_after_build():
    seq = _built_by_build()
    seq.add(L.Dense(5))
    assert seq.outputs[0].shape == (None, 5)
    whole = cr.Model(seq.inputs, seq.outputs[0])
    x = _x(2, 3)
    np.testing.assert_allclose(np.asarray(whole(x)), seq.predict(x, verbose=0), rtol=1e-6)


def test_unbuilt_model_has_no_inputs():
    seq = cr.Sequential([L.Dense(2)])
    with pytest.raises(AttributeError, match=r"has no defined inputs yet.*Received: 1 layers"):
        _ = seq.inputs



@pytest.mark.parametrize("make", BUILDS, ids=IDS)
def test_keras_format_config_of_a_sequential_built_each_way(make):
    from chainrule.layers.serialization import deserialize
    from chainrule.saving.keras_archive import from_keras_config, to_keras_config

    model = make()
    config = json.loads(json.dumps(to_keras_config(model)))
    layers = config["config"]["layers"]
    assert [la["class_name"] for la in layers] == ["InputLayer", "Dense", "Dense"]
    assert layers[0]["config"]["batch_shape"] == [None, 3]
    assert config["config"]["build_input_shape"] == [None, 3]
    again = deserialize(from_keras_config(config))
    again.set_weights(model.get_weights())
    x = _x(3, 3)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert again.inputs[0].shape == (None, 3)


def test_the_input_made_at_build_is_not_a_tracked_layer():
    from chainrule.layers.base import layer_tree

    model = _built_by_build()
    names = [layer.name for layer in layer_tree(model)][1:]
    assert names == [layer.name for layer in model.layers]
    assert len(model._layers) == 2
