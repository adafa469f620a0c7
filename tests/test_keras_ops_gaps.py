"""Keras operations of functional graphs with deterministic shapes (``Einsum`` with any number of
operands, ``Diag``, ``MultiHot``) read from and written to Keras's ``.keras`` format, against
files and numbers Keras 3 wrote (tools/keras_fixtures_op_gaps.py); ``Unique`` (a shape that
depends on the values) refused, in files and on symbolic tensors."""

import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import ops
from chainrule.saving.errors import UnsafeFileError
from chainrule.saving.keras_ops import op_entry_spec, op_layer_entry

HERE = os.path.dirname(__file__)
FILES = os.path.join(HERE, "fixtures", "keras_files")
DATA = np.load(os.path.join(HERE, "fixtures", "ops_gaps_keras.npz"))


def _tensor(layer):
    return {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, 0, 0]}}


def test_fixture_records_versions():
    assert str(DATA["keras_version"]).startswith("3.")


def test_einsum_entry_takes_every_operand():
    entry = {"module": "keras.src.ops.numpy", "class_name": "Einsum",
             "config": {"name": "einsum", "subscripts": "bi,bi,bi->b"}, "name": "einsum",
             "inbound_nodes": [{"args": [_tensor("a"), _tensor("b"), _tensor("a")],
                                "kwargs": {}}]}
    spec = op_entry_spec(entry, "layers[2]", "m.keras")
    assert spec["config"]["function"] == "einsum"
    assert spec["config"]["arguments"]["args"] == [
        "bi,bi,bi->b", {"__tensor__": 0}, {"__tensor__": 1}, {"__tensor__": 2}]
    assert spec["inbound_nodes"] == [[["a", 0, 0], ["b", 0, 0], ["a", 0, 0]]]


def _einsum_model():
    x = cr.Input((4,))
    ids = cr.Input((3,), dtype="int32")
    h = cr.layers.Dense(3)(x)
    joined = ops.concatenate([ops.reshape(ops.einsum("bi,bj->bij", h, x), (-1, 12)),
                              ops.expand_dims(ops.einsum("bi,bi,bi->b", h, h, h), -1),
                              ops.multi_hot(ids, num_classes=6)], axis=-1)
    return cr.Model([x, ids], cr.layers.Dense(2)(joined))


def test_entries_written_as_keras_writes_them():
    model = _einsum_model()
    entries = {}
    for layer in model.operations:
        if isinstance(layer, cr.layers.OpLayer) and layer.function in ("einsum", "multi_hot"):
            entry = op_layer_entry(layer, lambda i: {"tensor": i})
            entries.setdefault(entry["class_name"], []).append(entry)
    two, three = entries["Einsum"]
    assert two["config"]["subscripts"] == "bi,bj->bij"
    assert two["inbound_nodes"] == [{"args": [{"tensor": 0}, {"tensor": 1}], "kwargs": {}}]
    assert len(three["inbound_nodes"][0]["args"]) == 3
    (hot,) = entries["MultiHot"]
    assert hot["module"] == "keras.src.ops.nn"
    assert {k: v for k, v in hot["config"].items() if k != "name"} == {
        "num_classes": 6, "axis": -1, "dtype": "float32", "sparse": False}


def test_own_format_round_trip(tmp_path):
    model = _einsum_model()
    model.save(tmp_path / "m.keras")
    again = cr.saving.load_model(tmp_path / "m.keras")
    x, ids = DATA["einsum/x"], DATA["einsum/ids"]
    np.testing.assert_array_equal(again.predict([x, ids], verbose=0),
                                  model.predict([x, ids], verbose=0))


def test_keras_files_load_and_predict_like_keras(tmp_path):
    pytest.importorskip("h5py", reason="Keras's .keras files need h5py (the h5 extra)")
    model = cr.saving.load_model(os.path.join(FILES, "ops_gaps_einsum.keras"))
    x, ids = DATA["einsum/x"], DATA["einsum/ids"]
    np.testing.assert_allclose(model.predict([x, ids], verbose=0), DATA["einsum/y"],
                               rtol=1e-5, atol=1e-6)
    diag = cr.saving.load_model(os.path.join(FILES, "ops_gaps_diag.keras"))
    band, square = diag.predict(DATA["diag/x"], batch_size=4, verbose=0)
    np.testing.assert_allclose(band, DATA["diag/y0"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(square, DATA["diag/y1"], rtol=1e-5, atol=1e-6)
    # and written back in Keras's format, read again the same
    model.save(tmp_path / "again.keras", format="keras")
    again = cr.saving.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(again.predict([x, ids], verbose=0),
                                  model.predict([x, ids], verbose=0))


def test_keras_unique_file_is_refused_with_the_reason():
    pytest.importorskip("h5py", reason="Keras's .keras files need h5py (the h5 extra)")
    with pytest.raises(UnsafeFileError, match=r"chainrule does not read the Keras operation "
                       r"'Unique': its output's shape depends on the input's values"):
        cr.saving.load_model(os.path.join(FILES, "ops_gaps_unique.keras"))


def test_value_shaped_ops_on_symbolic_tensors():
    x = cr.Input((4,))
    with pytest.raises(ValueError, match=r"ops\.nonzero cannot be called on a symbolic tensor"):
        ops.nonzero(x)
    y = ops.unique(x, size=3, fill_value=0.0)  # a fixed size makes the shape known
    model = cr.Model(x, y)
    got = model.predict(np.array([[3.0, 1.0, 3.0, 1.0]], "float32"), verbose=0)
    np.testing.assert_array_equal(got, [1.0, 3.0, 0.0])
