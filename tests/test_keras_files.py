"""Keras 3's own files both ways: ``.weights.h5`` and ``.keras`` files written by Keras.

The fixtures in ``tests/fixtures/keras_files`` were written by Keras 3 (versions in
``versions.json``) with ``tools/keras_files_fixtures.py``, which also recorded Keras's
``predict`` outputs. chainrule must load them and predict the same; files chainrule
writes must have the structure of Keras's (same groups, datasets, shapes, dtypes,
attributes), which Keras then loads (checked with the same script, ``--check``).
"""

from __future__ import annotations

import io
import json
import os
import sys
import warnings
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers
from chainrule.saving import InvalidArchiveError, Limits, UnsafeFileError, WeightMismatchError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "keras_files")
NAMES = ["mlp", "emb_lstm", "bn_merge", "two_inputs"]


def _fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


def _expected(name: str) -> tuple[list[np.ndarray], np.ndarray]:
    data = np.load(_fixture("expected.npz"))
    xs = [data[f"{name}/x{k}"] for k in range(4) if f"{name}/x{k}" in data.files]
    return xs, data[f"{name}/y"]


def _predict(model, xs):
    return np.asarray(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))


def _structure(source) -> dict:
    """{path: (kind, shape, dtype, attrs)} of every group and dataset of an HDF5 file."""
    h5py = pytest.importorskip("h5py")
    out = {}
    with h5py.File(source, "r") as f:
        def visit(name, obj):
            attrs = {k: (v.decode() if isinstance(v, bytes) else str(v))
                     for k, v in obj.attrs.items()}
            if isinstance(obj, h5py.Dataset):
                out[name] = ("dataset", obj.shape, str(obj.dtype), attrs)
            else:
                out[name] = ("group", None, None, attrs)
        f.visititems(visit)
    return out


def _zip_member(path, member) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(member)


def _rewrite(src, dst, config=None, extra=None, weights=None):
    """Copy a Keras .keras file, replacing config.json (and adding members)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "config.json" and config is not None:
                data = json.dumps(config).encode()
            if name == "model.weights.h5" and weights is not None:
                data = weights
            zout.writestr(name, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def _config(name):
    return json.loads(_zip_member(_fixture(f"{name}.keras"), "config.json"))


# --------------------------------------------------------------------------- without h5py


def test_weights_h5_without_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    model = cr.Sequential([layers.Input((2,)), layers.Dense(1)])
    with pytest.raises(ImportError, match=r'pip install "chainrule\[h5\]".*Received: h5py'):
        model.save_weights(tmp_path / "m.weights.h5")
    with pytest.raises(ImportError, match=r"chainrule\[h5\]"):
        cr.callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)
    with pytest.raises(ImportError, match=r"chainrule\[h5\]"):
        model.save(tmp_path / "m.keras", format="keras")
    with pytest.raises(ImportError, match=r"chainrule\[h5\]"):
        model.save(tmp_path / "m.h5")
    model.save(tmp_path / "own.keras")  # chainrule's own archive needs NumPy only
    assert cr.models.load_model(tmp_path / "own.keras").count_params() == 3


def test_lambda_is_refused_even_without_h5py(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    config = _config("mlp")
    config["config"]["layers"][2] = {"module": "keras.layers", "class_name": "Lambda",
                                     "config": {"name": "lam", "function": "bad"}}
    path = _rewrite(_fixture("mlp.keras"), tmp_path / "lam.keras", config)
    with pytest.raises(UnsafeFileError, match=r"layers\[2\] \(Lambda 'lam'\).*holds Python code"):
        cr.models.load_model(path)


# --------------------------------------------------------------------------- Keras -> chainrule


@pytest.mark.parametrize("name", NAMES)
def test_keras_archive_loads_and_predicts_as_keras(name):
    pytest.importorskip("h5py")
    model = cr.models.load_model(_fixture(f"{name}.keras"))
    xs, want = _expected(name)
    np.testing.assert_allclose(_predict(model, xs), want, rtol=1e-5, atol=1e-6)


def test_keras_archive_keeps_names_compile_settings_and_optimizer_state():
    pytest.importorskip("h5py")
    import h5py

    model = cr.models.load_model(_fixture("mlp.keras"))
    assert [la.name for la in model.layers] == ["hidden", "dropout", "probs"]
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    state = model.optimizer.get_state()
    with h5py.File(_fixture("mlp.weights.h5")) as f:
        assert int(state["iterations"]) == int(f["optimizer/vars/0"][()]) == 2
        np.testing.assert_array_equal(state["momentum/0"], f["optimizer/vars/2"][()])
        np.testing.assert_array_equal(state["velocity/3"], f["optimizer/vars/9"][()])
    uncompiled = cr.models.load_model(_fixture("mlp.keras"), compile=False)
    assert not uncompiled.compiled


def test_loading_a_keras_archive_leaves_the_random_state_alone():
    pytest.importorskip("h5py")
    cr.utils.set_random_seed(3)
    a = np.random.default_rng(0)  # noqa: F841 - NumPy's own generator is not chainrule's
    before = cr.backend.get_random_state()
    cr.models.load_model(_fixture("emb_lstm.keras"))
    assert repr(cr.backend.get_random_state()) == repr(before)


@pytest.mark.parametrize("name", NAMES)
def test_keras_weights_h5_loads_into_the_same_architecture(name):
    pytest.importorskip("h5py")
    model = cr.models.load_model(_fixture(f"{name}.keras"), compile=False)
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(_fixture(f"{name}.weights.h5"))
    xs, want = _expected(name)
    np.testing.assert_allclose(_predict(model, xs), want, rtol=1e-5, atol=1e-6)


def test_keras_weights_h5_loads_into_a_model_built_in_chainrule():
    pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((6,), dtype="int32"), layers.Embedding(12, 4),
                           layers.LSTM(5), layers.Dense(2)])
    model.load_weights(_fixture("emb_lstm.weights.h5"))
    xs, want = _expected("emb_lstm")
    np.testing.assert_allclose(_predict(model, xs), want, rtol=1e-5, atol=1e-6)


def test_load_weights_from_a_keras_archive():
    pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                           layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    model.load_weights(_fixture("mlp.keras"))
    xs, want = _expected("mlp")
    np.testing.assert_allclose(_predict(model, xs), want, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- chainrule -> Keras


@pytest.mark.parametrize("name", NAMES)
def test_weights_written_have_keras_structure(name, tmp_path):
    pytest.importorskip("h5py")
    model = cr.models.load_model(_fixture(f"{name}.keras"))
    model.save_weights(tmp_path / "w.weights.h5")
    assert _structure(str(tmp_path / "w.weights.h5")) == _structure(_fixture(f"{name}.weights.h5"))


@pytest.mark.parametrize("name", NAMES)
def test_keras_format_archive_has_keras_structure(name, tmp_path):
    pytest.importorskip("h5py")
    model = cr.models.load_model(_fixture(f"{name}.keras"))
    path = tmp_path / "m.keras"
    model.save(path, format="keras")
    ours, theirs = zipfile.ZipFile(path), zipfile.ZipFile(_fixture(f"{name}.keras"))
    assert sorted(ours.namelist()) == sorted(theirs.namelist())
    assert _structure(io.BytesIO(ours.read("model.weights.h5"))) == _structure(
        io.BytesIO(theirs.read("model.weights.h5")))
    a, b = json.loads(ours.read("config.json")), json.loads(theirs.read("config.json"))
    assert (a["class_name"], a["module"]) == (b["class_name"], b["module"])
    assert [(la["class_name"], la["config"]["name"]) for la in a["config"]["layers"]][-3:] == [
        (la["class_name"], la["config"]["name"]) for la in b["config"]["layers"]][-3:]
    for la, lb in zip(a["config"]["layers"], b["config"]["layers"]):
        if la["class_name"] != "InputLayer":
            assert set(la["config"]) <= set(lb["config"]), la["class_name"]
            assert la["config"]["dtype"] == {k: v for k, v in lb["config"]["dtype"].items()
                                             if k != "shared_object_id"}
        assert la.get("inbound_nodes", []) == [
            {"args": n["args"], "kwargs": {}} for n in lb.get("inbound_nodes", [])]
    assert a["config"].get("input_layers") == b["config"].get("input_layers")
    assert json.loads(ours.read("metadata.json"))["keras_version"].startswith("3.")


def test_keras_format_round_trip_is_exact(tmp_path):
    pytest.importorskip("h5py")
    cr.utils.set_random_seed(1)
    model = cr.Sequential([
        layers.Input((6,), dtype="int32"), layers.Embedding(12, 4, mask_zero=True),
        layers.Bidirectional(layers.GRU(3, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(3)), layers.SimpleRNN(3),
        layers.LayerNormalization(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).integers(0, 12, (8, 6))
    model.fit(x, np.arange(8) % 2, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras", format="keras")
    again = cr.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(_predict(again, [x]), _predict(model, [x]))
    for key, value in model.optimizer.get_state().items():
        np.testing.assert_array_equal(again.optimizer.get_state()[key], value, err_msg=key)
    model.save_weights(tmp_path / "w.weights.h5")
    paths = _structure(str(tmp_path / "w.weights.h5"))
    assert paths["layers/bidirectional/forward_layer/cell/vars/2"][1] == (2, 9)
    assert paths["layers/time_distributed/layer/vars"][3] == {"name": model.layers[2].layer.name}


def test_checkpoint_writes_weights_h5(tmp_path):
    pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    path = str(tmp_path / "w-{epoch:02d}.weights.h5")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), epochs=2, verbose=0,
              callbacks=[cr.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    other = cr.Sequential([layers.Input((3,)), layers.Dense(2)])
    other.load_weights(tmp_path / "w-02.weights.h5")
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_chainrule_own_archive_stays_the_default(tmp_path):
    model = cr.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.save(tmp_path / "m.keras")
    assert "model.weights.npz" in zipfile.ZipFile(tmp_path / "m.keras").namelist()
    with pytest.raises(ValueError, match=r"format must be 'chainrule' or 'keras'.*Received"):
        model.save(tmp_path / "m2.keras", format="h5")


# --------------------------------------------------------------------------- refusals


def test_unknown_class_is_named_with_its_place(tmp_path):
    pytest.importorskip("h5py")
    config = _config("two_inputs")
    config["config"]["layers"][3]["class_name"] = "FancyDense"
    path = _rewrite(_fixture("two_inputs.keras"), tmp_path / "u.keras", config)
    with pytest.raises(UnsafeFileError, match=r"layers\[3\] \(FancyDense 'r'\): chainrule has "
                                              r"no layer class 'FancyDense'"):
        cr.models.load_model(path)
    model = cr.models.load_model(path, custom_objects={"FancyDense": layers.Dense})
    xs, want = _expected("two_inputs")
    np.testing.assert_allclose(_predict(model, xs), want, rtol=1e-5, atol=1e-6)


def test_subclassed_keras_model_and_unsupported_settings_are_refused(tmp_path):
    pytest.importorskip("h5py")
    path = _rewrite(_fixture("mlp.keras"), tmp_path / "s.keras",
                    {"module": "my.models", "class_name": "MyModel", "config": {"units": 3}})
    with pytest.raises(UnsafeFileError, match=r"subclassed Keras model.*Received: "
                                              r"class_name='MyModel'"):
        cr.models.load_model(path)
    config = _config("bn_merge")
    config["config"]["layers"][2]["config"]["renorm"] = True
    path = _rewrite(_fixture("bn_merge.keras"), tmp_path / "r.keras", config)
    with pytest.raises(InvalidArchiveError, match=r"'bn'\) sets renorm=True, which chainrule's "
                                                  r"BatchNormalization does not support"):
        cr.models.load_model(path)
    config = _config("bn_merge")
    config["config"]["layers"][1]["inbound_nodes"][0]["kwargs"] = {"scale": 2.0}
    path = _rewrite(_fixture("bn_merge.keras"), tmp_path / "k.keras", config)
    with pytest.raises(InvalidArchiveError, match=r"keyword argument scale=2.0"):
        cr.models.load_model(path)
    path = _rewrite(_fixture("mlp.keras"), tmp_path / "a.keras", extra={"assets/vocab.txt": b"a"})
    with pytest.raises(UnsafeFileError, match=r"assets/vocab.txt"):
        cr.models.load_model(path)


def test_config_and_weights_that_disagree(tmp_path):
    pytest.importorskip("h5py")
    config = _config("mlp")
    config["config"]["layers"][1]["config"]["units"] = 9
    path = _rewrite(_fixture("mlp.keras"), tmp_path / "d.keras", config)
    with pytest.raises(InvalidArchiveError, match=r'Layer "hidden" weight "kernel" has shape '
                                                  r"\(4, 9\) in the model but \(4, 8\)"):
        cr.models.load_model(path)


def test_weights_that_do_not_fit_the_model(tmp_path):
    pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((4,)), layers.Dense(5, name="hidden"),
                           layers.Dropout(0.2), layers.Dense(3)])
    with pytest.raises(WeightMismatchError, match=r'Layer "hidden" weight "kernel" has shape '
                                                  r"\(4, 5\) in the model but \(4, 8\)"):
        model.load_weights(_fixture("mlp.weights.h5"))
    before = model.get_weights()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        model.load_weights(_fixture("mlp.weights.h5"), skip_mismatch=True)
    np.testing.assert_array_equal(model.get_weights()[0], before[0])  # skipped
    small = cr.Sequential([layers.Input((4,)), layers.Dense(8)])
    with pytest.raises(WeightMismatchError, match=r"holds variables in .*layers/dense_1/vars "
                                                  r"\('probs'\).* that the model does not have"):
        small.load_weights(_fixture("mlp.weights.h5"))
    unbuilt = cr.Sequential([layers.Dense(8)])
    with pytest.raises(ValueError, match=r"not built.*Received: filepath="):
        unbuilt.load_weights(_fixture("mlp.weights.h5"))


def test_files_that_are_not_keras_weights(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((4,)), layers.Dense(2)])
    text = tmp_path / "notes.weights.h5"
    text.write_bytes(b"hello, not HDF5")
    with pytest.raises(InvalidArchiveError, match=r"'.*notes.weights.h5' is not a Keras HDF5 "
                                                  r"weights file"):
        model.load_weights(text)
    other = tmp_path / "data.h5"
    with h5py.File(other, "w") as f:
        f["table"] = np.arange(4)
    with pytest.raises(InvalidArchiveError, match=r"'.*data.h5' is not a Keras 3 weights file"):
        model.load_weights(other)
    strings = tmp_path / "s.weights.h5"
    with h5py.File(strings, "w") as f:
        f.create_group("layers/dense/vars")["0"] = np.array([b"x", b"y"])
    with pytest.raises(UnsafeFileError, match=r"dataset layers/dense/vars/0 has dtype"):
        model.load_weights(strings)


def test_declared_sizes_beyond_the_budget_are_refused_before_reading(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((4,)), layers.Dense(2)])
    huge = tmp_path / "huge.weights.h5"
    with h5py.File(huge, "w") as f:  # declared, never written: the file stays small
        f.create_group("layers/dense/vars").create_dataset("0", shape=(2**20, 2**20),
                                                           dtype="float32", chunks=(16, 16))
    assert os.path.getsize(huge) < 100_000
    with pytest.raises(UnsafeFileError, match=r"declares shape \(1048576, 1048576\).*beyond the "
                                              r"limit.*Nothing was read"):
        model.load_weights(huge)
    with pytest.raises(UnsafeFileError, match=r"beyond the limit of 100 bytes"):
        cr.saving.load_weights(model, _fixture("mlp.weights.h5"),
                               limits=Limits(max_member_bytes=100))
    with pytest.raises(UnsafeFileError, match=r"more than the limit of 100"):
        cr.saving.load_model(_fixture("mlp.keras"), limits=Limits(max_member_bytes=100))


def test_a_config_asking_for_huge_weights_is_refused_before_allocating(tmp_path):
    pytest.importorskip("h5py")
    config = _config("emb_lstm")
    config["config"]["layers"][2]["config"]["units"] = 10**5  # a (10**5, 4 * 10**5) kernel
    path = _rewrite(_fixture("emb_lstm.keras"), tmp_path / "big.keras", config)
    with pytest.raises(UnsafeFileError, match=r"layer 'lstm_cell'.*Nothing was allocated"):
        cr.models.load_model(path)


def test_conversion_table_covers_every_chainrule_layer():
    from chainrule.saving.keras_archive import keras_layer_table

    table = keras_layer_table()
    for name in layers.__all__:
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, layers.Layer) and name != "Layer":
            assert table[name] is obj
    assert table["Functional"] is cr.Model


# --------------------------------------------------------------------------- legacy .h5


@pytest.mark.parametrize("name", ["mlp", "bn_merge"])
def test_legacy_h5_model_loads_and_predicts_as_keras(name):
    pytest.importorskip("h5py")
    model = cr.models.load_model(_fixture(f"{name}.h5"))
    xs, want = _expected(name)
    np.testing.assert_allclose(_predict(model, xs), want, rtol=1e-5, atol=1e-6)
    assert model.compiled
    again = cr.models.load_model(_fixture(f"{name}.keras"), compile=False)
    again.set_weights([np.zeros_like(w) for w in again.get_weights()])
    again.load_weights(_fixture(f"{name}.h5"))  # load_weights reads the legacy layout too
    np.testing.assert_allclose(_predict(again, xs), want, rtol=1e-5, atol=1e-6)


def _tf2_file(path, config, weights, names):
    """A legacy file as tf.keras 2 wrote it: a Keras 2 config, weights named ``layer/w:0``."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = "2.15.0"
        f.attrs["model_config"] = json.dumps(config)
        f.attrs["training_config"] = json.dumps({
            "loss": "mse", "metrics": [["mae"]],
            "optimizer_config": {"class_name": "Adam", "config": {"name": "Adam",
                                                                  "learning_rate": 0.01}}})
        group = f.create_group("model_weights")
        group.attrs["layer_names"] = [n.encode() for n in names]
        for layer in names:
            sub = group.create_group(layer)
            sub.attrs["weight_names"] = [k.encode() for k in weights.get(layer, {})]
            for key, value in weights.get(layer, {}).items():
                sub[key] = value
    return path


def _tf2_config():
    init = {"class_name": "GlorotUniform", "config": {"seed": None}}
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "dense_input"}},
        {"class_name": "Dense", "config": {"name": "dense", "trainable": True,
                                           "batch_input_shape": [None, 3], "dtype": "float32",
                                           "units": 2, "activation": "relu", "use_bias": True,
                                           "kernel_initializer": init,
                                           "bias_initializer": {"class_name": "Zeros",
                                                                "config": {}},
                                           "kernel_constraint": None}},
        {"class_name": "Reshape", "config": {"name": "reshape", "dtype": "float32",
                                             "target_shape": [1, 2]}},
        {"class_name": "LSTM", "config": {"name": "lstm", "dtype": "float32", "units": 2,
                                          "time_major": False, "implementation": 2,
                                          "kernel_initializer": init}}]}}


def test_tf_keras_2_legacy_file_loads(tmp_path):
    pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    weights = {"dense": {"dense/kernel:0": rng.normal(size=(3, 2)).astype("float32"),
                         "dense/bias:0": rng.normal(size=2).astype("float32")},
               "lstm": {"lstm/lstm_cell/kernel:0": rng.normal(size=(2, 8)).astype("float32"),
                        "lstm/lstm_cell/recurrent_kernel:0": rng.normal(size=(2, 8)).astype(
                            "float32"),
                        "lstm/lstm_cell/bias:0": rng.normal(size=8).astype("float32")}}
    path = _tf2_file(tmp_path / "tf2.h5", _tf2_config(), weights,
                     ["dense_input", "dense", "reshape", "lstm"])
    model = cr.models.load_model(path)
    assert [la.name for la in model.layers] == ["dense", "reshape", "lstm"]
    assert model.compiled and model.optimizer.get_config()["learning_rate"] == 0.01
    saved = [v for layer in ("dense", "lstm") for v in weights[layer].values()]
    for got, want in zip(model.get_weights(), saved):
        np.testing.assert_array_equal(got, want)
    x = rng.normal(size=(4, 3)).astype("float32")
    h = np.maximum(x @ saved[0] + saved[1], 0)  # one LSTM step from zero state, in NumPy
    z = h @ saved[2] + saved[4]
    i, _, c, o = np.split(z, 4, axis=1)  # Keras's gate order: input, forget, cell, output
    cell = (1 / (1 + np.exp(-i))) * np.tanh(c)
    want = (1 / (1 + np.exp(-o))) * np.tanh(cell)
    np.testing.assert_allclose(_predict(model, [x]), want, rtol=1e-5, atol=1e-6)


def test_legacy_files_that_do_not_fit(tmp_path):
    pytest.importorskip("h5py")
    weights = {"dense": {"dense/kernel:0": np.zeros((3, 5), "float32"),
                         "dense/bias:0": np.zeros(5, "float32")}}
    config = _tf2_config()
    del config["config"]["layers"][2:]
    path = _tf2_file(tmp_path / "bad.h5", config, weights, ["dense"])
    with pytest.raises(InvalidArchiveError, match=r'Layer "dense" weight "kernel" has shape '
                                                  r"\(3, 2\) in the model but \(3, 5\)"):
        cr.models.load_model(path)
    config["config"]["layers"][1]["class_name"] = "Lambda"
    path = _tf2_file(tmp_path / "lam.h5", config, weights, ["dense"])
    with pytest.raises(UnsafeFileError, match=r"Lambda layer, which holds Python code"):
        cr.models.load_model(path)
    model = cr.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    with pytest.raises(WeightMismatchError, match=r"holds weights for 1 layers \['dense'\] but "
                                                  r"the model has 2 layers with weights"):
        model.load_weights(path)


def _legacy_structure(path):
    import h5py

    with h5py.File(path, "r") as f:
        group = f["model_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["layer_names"]]
        layers_ = []
        for name in names:
            sub = group[name]
            weights = [w.decode() if isinstance(w, bytes) else w
                       for w in sub.attrs["weight_names"]]
            layers_.append((name, [(sub[w].shape, str(sub[w].dtype)) for w in weights]))
        config = json.loads(f.attrs["model_config"])
        return {"attrs": sorted(f.attrs), "groups": sorted(f),
                "weight_attrs": sorted(group.attrs), "layers": layers_,
                "classes": [la["class_name"] for la in config["config"]["layers"]],
                "entry_keys": [sorted(set(la) - {"inbound_nodes"})
                               for la in config["config"]["layers"]]}


@pytest.mark.parametrize("name", ["mlp", "bn_merge"])
def test_legacy_h5_written_has_keras_structure(name, tmp_path):
    pytest.importorskip("h5py")
    model = cr.models.load_model(_fixture(f"{name}.h5"))
    model.save(tmp_path / "m.h5")
    ours, theirs = _legacy_structure(tmp_path / "m.h5"), _legacy_structure(_fixture(f"{name}.h5"))
    theirs["groups"].remove("optimizer_weights")  # chainrule does not write the optimizer's
    assert ours == theirs
    again = cr.models.load_model(tmp_path / "m.h5")
    xs, want = _expected(name)
    np.testing.assert_allclose(_predict(again, xs), want, rtol=1e-5, atol=1e-6)


def _mutations(config, rng, n):
    """``n`` copies of ``config`` with one value replaced by something a hostile file could hold."""
    junk = [None, True, -1, 0, 2**70, 1.5, "", "Dense", "os.system", "__import__", [], {},
            [None, 3], {"class_name": "Lambda", "config": {}}, {"class_name": 7},
            {"class_name": "__keras_tensor__", "config": {"keras_history": ["x", 9, 9]}}]
    for _ in range(n):
        copy = json.loads(json.dumps(config))
        nodes = [copy]
        picked = []
        while nodes:
            node = nodes.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for k, v in items:
                picked.append((node, k))
                if isinstance(v, (dict, list)):
                    nodes.append(v)
        node, key = picked[rng.integers(len(picked))]
        node[key] = junk[rng.integers(len(junk))]
        yield copy


@pytest.mark.parametrize("name", ["mlp", "two_inputs"])
def test_mutated_keras_configs_load_or_raise_an_archive_error(name, tmp_path):
    pytest.importorskip("h5py")
    rng = np.random.default_rng(7)
    outcomes = set()
    for k, config in enumerate(_mutations(_config(name), rng, 40)):
        path = _rewrite(_fixture(f"{name}.keras"), tmp_path / f"{k}.keras", config)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = cr.models.load_model(path)
            except cr.saving.ArchiveError as e:
                outcomes.add(type(e).__name__)
                continue
        assert isinstance(model, cr.Model)
        outcomes.add("loaded")
    assert "loaded" in outcomes and len(outcomes) > 1


class ScaleBy(layers.Layer):
    """A layer with a 0-d weight (as Normalization's count)."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        return x * self.scale


def test_zero_dimensional_weights_stay_zero_dimensional(tmp_path):
    pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((2,)), ScaleBy(name="s"), layers.Dense(1)])
    model.layers[0].scale.assign(np.float32(3.0))
    model.save_weights(tmp_path / "w.weights.h5")
    assert _structure(str(tmp_path / "w.weights.h5"))["layers/scale_by/vars/0"][1] == ()
    model.save(tmp_path / "m.h5")
    assert _legacy_structure(tmp_path / "m.h5")["layers"][0] == ("s", [((), "float32")])
    other = cr.Sequential([layers.Input((2,)), ScaleBy(name="s"), layers.Dense(1)])
    other.load_weights(tmp_path / "w.weights.h5")
    assert float(other.layers[0].scale.numpy()) == 3.0


@pytest.mark.parametrize("make", [
    lambda: cr.optimizers.Adam(0.01, amsgrad=True), lambda: cr.optimizers.AdamW(0.01),
    lambda: cr.optimizers.RMSprop(0.01, momentum=0.9, centered=True),
    lambda: cr.optimizers.RMSprop(0.01), lambda: cr.optimizers.Adagrad(0.1),
    lambda: cr.optimizers.Adadelta(1.0), lambda: cr.optimizers.SGD(0.1, momentum=0.9),
    lambda: cr.optimizers.Adamax(0.01), lambda: cr.optimizers.Ftrl(0.1),
    lambda: cr.optimizers.Lion(0.001), lambda: cr.optimizers.Lamb(0.01)],
    ids=["adam-amsgrad", "adamw", "rmsprop-centered", "rmsprop", "adagrad", "adadelta", "sgd",
         "adamax", "ftrl", "lion", "lamb"])
def test_optimizer_variables_go_through_keras_layout_exactly(make, tmp_path):
    pytest.importorskip("h5py")
    import h5py

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    model = cr.Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"),
                           layers.Dense(2)])
    model.compile(optimizer=make(), loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras", format="keras")
    state = model.optimizer.get_state()
    with h5py.File(io.BytesIO(_zip_member(tmp_path / "m.keras", "model.weights.h5"))) as f:
        assert len(f["optimizer/vars"]) == len(state) - ("u_product" in state)
    again = cr.models.load_model(tmp_path / "m.keras")
    assert sorted(again.optimizer.get_state()) == sorted(state)
    for key, value in state.items():
        np.testing.assert_array_equal(again.optimizer.get_state()[key], value, err_msg=key)
    model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    again.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(again.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_optimizer_keras_lays_out_otherwise_is_left_out(tmp_path):
    pytest.importorskip("h5py")
    model = cr.Sequential([layers.Input((3,)), layers.Dense(2)])
    model.compile(optimizer="nadam", loss="mse")
    model.fit(np.ones((4, 3)), np.ones((4, 2)), verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    assert not any(k.startswith("optimizer") for k in _structure(str(tmp_path / "w.weights.h5")))


# --------------------------------------------------------------------------- your own classes


class Block(layers.Layer):
    """The fixture script's Block, in chainrule: Keras walks its attributes ``inner``, ``norm``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units)
        self.norm = layers.LayerNormalization()

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(self.units,), initializer="random_normal",
                                    name="gain")

    def call(self, x):
        return self.norm(self.inner(x)) * self.gain


class Net(cr.Model):
    """The fixture script's subclassed model: a list of blocks and a head."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [Block(5), Block(3)]
        self.head = layers.Dense(2)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def test_subclassed_model_weights_follow_its_attributes_as_in_keras(tmp_path):
    pytest.importorskip("h5py")
    net = Net(name="net")
    net(np.zeros((1, 4), "float32"))
    net.load_weights(_fixture("subclassed.weights.h5"))
    xs, want = _expected("subclassed")
    np.testing.assert_allclose(_predict(net, xs), want, rtol=1e-5, atol=1e-6)
    net.save_weights(tmp_path / "w.weights.h5")
    ours = _structure(str(tmp_path / "w.weights.h5"))
    theirs = _structure(_fixture("subclassed.weights.h5"))
    assert {k: v[:3] for k, v in ours.items()} == {k: v[:3] for k, v in theirs.items()}
    assert ours["vars"][3] == theirs["vars"][3] == {"name": "net"}
    with pytest.raises(ValueError, match=r"subclassed Net; Keras's \.keras format holds "
                                         r"Sequential and functional models only"):
        net.save(tmp_path / "net.keras", format="keras")
