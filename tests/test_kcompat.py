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
