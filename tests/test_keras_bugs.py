"""Bugs found running Keras programs unchanged (each as the program wrote it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers


def test_dense_initializer_none_means_keras_default(tmp_path):
    # the TensorFlow imbalanced-data tutorial: Dense(1, activation="sigmoid",
    # bias_initializer=output_bias) with output_bias = None
    cr.utils.set_random_seed(0)
    dense = layers.Dense(4, activation="sigmoid", bias_initializer=None, kernel_initializer=None)
    dense.build((None, 3))
    # Keras 3: add_weight's default for a float weight is glorot_uniform, a 1-D weight included
    bias = dense.bias.numpy()
    limit = np.sqrt(6.0 / (4 + 4))
    assert np.all(np.abs(bias) <= limit) and np.any(bias != 0)
    assert np.all(np.abs(dense.kernel.numpy()) <= np.sqrt(6.0 / (3 + 4)))
    config = dense.get_config()
    assert config["bias_initializer"] is None and config["kernel_initializer"] is None
    model = cr.Sequential([layers.Input((3,)), layers.Dense(1, bias_initializer=None)])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(loaded.get_weights()[1], model.get_weights()[1])
    # add_weight itself: None is the default for the dtype
    layer = layers.Layer()
    assert layer.add_weight((2,), initializer=None, dtype="int32").numpy().tolist() == [0, 0]


def my_activation(x):
    return cr.ops.relu(x) * 2.0


@pytest.mark.parametrize("kind", ["sequential", "functional", "activation_layer"])
def test_load_model_with_a_custom_activation_function(tmp_path, kind):
    if kind == "sequential":
        model = cr.Sequential([layers.Dense(2, input_dim=3, activation=my_activation)])
    else:
        inp = layers.Input((3,))
        h = layers.Dense(2, activation=my_activation if kind == "functional" else None)(inp)
        if kind == "activation_layer":
            h = layers.Activation(my_activation)(h)
        model = cr.Model(inp, h)
    path = tmp_path / "m.keras"
    model.save(path)
    with pytest.raises(ValueError, match="Unknown activation: 'my_activation'"):
        cr.models.load_model(path)
    loaded = cr.models.load_model(path, custom_objects={"my_activation": my_activation})
    x = np.linspace(-1, 1, 9, dtype="float32").reshape(3, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with cr.saving.custom_object_scope({"my_activation": my_activation}):
        again = cr.models.model_from_json(model.to_json())
    assert again.count_params() == model.count_params()


def test_to_json_and_model_from_json():
    cr.utils.clear_session()
    inp = layers.Input((4,), name="x")
    h = layers.Dense(3, activation="relu", name="hidden")(inp)
    out = layers.Dense(1, activation="sigmoid", name="out")(h)
    model = cr.Model(inp, out, name="net")
    text = model.to_json()
    assert json.loads(text)["class_name"] in ("Functional", "Model")
    assert json.loads(model.to_json(indent=2)) == json.loads(text)
    clone = cr.models.model_from_json(text)
    assert clone.name == "net"
    assert [la.name for la in clone.layers] == ["x", "hidden", "out"]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(np.ones((2, 4)), verbose=0),
                                  model.predict(np.ones((2, 4)), verbose=0))
    seq = cr.Sequential([layers.Dense(2, input_dim=3)], name="seq")
    assert cr.models.model_from_json(seq.to_json()).name == "seq"


def test_model_from_json_errors():
    with pytest.raises(ValueError, match=r"not valid JSON .*Received: json_string='\{nope'"):
        cr.models.model_from_json("{nope")
    with pytest.raises(ValueError, match=r"expects a JSON object with 'class_name'"):
        cr.models.model_from_json("[1, 2]")
    with pytest.raises(ValueError, match=r"describes a Dense, not a model"):
        cr.models.model_from_json(json.dumps({"class_name": "Dense", "config": {"units": 2}}))
    with pytest.raises(ValueError, match=r"Received: json_string of type int"):
        cr.models.model_from_json(3)


def test_weights_h5_suffix_needs_the_h5_extra_and_the_difference_is_documented(tmp_path,
                                                                               monkeypatch):
    model = cr.Sequential([layers.Dense(1, input_dim=2)])
    monkeypatch.setitem(__import__("sys").modules, "h5py", None)  # as if h5py were absent
    with pytest.raises(ImportError, match=r"chainrule\[h5\]"):
        model.save_weights(tmp_path / "model.weights.h5")
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "differences.md").read_text()
    assert "`.weights.h5`" in doc
