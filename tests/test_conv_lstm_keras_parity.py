"""ConvLSTM models against Keras 3's recorded numbers (tools/keras_fixtures_conv_lstm.py).

Each model is built from the same spec of Keras layer names with chainrule's layers,
starts from Keras's initial weights, and must give Keras's ``predict`` and, after two
epochs of Adam with ``shuffle=False``, Keras's loss history and weights; each ConvLSTM
layer's configuration, parameter count and output shape must be Keras's. The same
training replayed by the captured step must equal the tape bit for bit, and a ``.keras``
file written by Keras must load and predict as Keras did.
"""

import importlib.util
import json
import os

import numpy as np
import pytest

import chainrule as cr

HERE = os.path.dirname(__file__)
FIXTURE = os.path.join(HERE, "fixtures", "conv_lstm_keras.npz")
_spec = importlib.util.spec_from_file_location(
    "keras_fixtures_conv_lstm", os.path.join(HERE, "..", "tools", "keras_fixtures_conv_lstm.py"))
tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tool)

DATA = np.load(FIXTURE)


def _model(name):
    cr.utils.set_random_seed(0)
    model = tool.build(cr, name)
    n = len([k for k in DATA.files if k.startswith(f"{name}/w0_")])
    model.set_weights([DATA[f"{name}/w0_{j}"] for j in range(n)])
    return model


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def test_fixture_records_versions():
    versions = json.loads(str(DATA["versions"]))
    assert versions["keras"].startswith("3.")


@pytest.mark.parametrize("name", list(tool.MODELS))
def test_predict_and_two_epochs_of_adam_match_keras(name):
    model = _model(name)
    x, y = DATA[f"{name}/x"], DATA[f"{name}/y"]
    want = DATA[f"{name}/pred0"]
    got = model.predict(x, verbose=0)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())
    model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.01), loss=tool.MODELS[name][3])
    hist = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], DATA[f"{name}/loss"], rtol=1e-5)
    for j, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, DATA[f"{name}/w2_{j}"], rtol=1e-4, atol=1e-6,
                                   err_msg=f"{name} weight {j}")


@pytest.mark.parametrize("name", list(tool.MODELS))
def test_configs_counts_and_shapes_match_keras(name):
    model = _model(name)
    ours = [layer for layer in model.layers if type(layer).__name__.startswith("ConvLSTM")]
    theirs = json.loads(DATA[f"{name}/configs"].item().decode())
    assert len(ours) == len(theirs)
    for layer, keras_config in zip(ours, theirs):
        assert layer.count_params() == keras_config.pop("count_params")
        assert list(layer.output.shape) == keras_config.pop("output_shape")
        config = _jsonable(layer.get_config())
        keras_config = _jsonable(keras_config)
        for key in ("name", "dtype"):
            keras_config.pop(key)
            config.pop(key, None)
        assert set(config) == set(keras_config)
        for key, value in keras_config.items():
            if key.endswith("_initializer"):
                assert config[key]["class_name"] == value["class_name"], key
            else:
                assert config[key] == value, key


@pytest.mark.parametrize("name", list(tool.MODELS))
def test_captured_replay_is_bit_identical_to_the_tape(name):
    x, y = DATA[f"{name}/x"], DATA[f"{name}/y"]
    loss = tool.MODELS[name][3]
    results = []
    for jit in (True, False):
        model = _model(name)
        model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.01), loss=loss,
                      jit_compile=jit)
        hist = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
        programs = [e.program is not None for e in model._steps.entries.values()]
        assert any(programs) if jit else not any(programs)
        results.append((hist.history["loss"], model.get_weights(), model.predict(x, verbose=0)))
    (l1, w1, p1), (l2, w2, p2) = results
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(p1, p2)


def test_keras_archive_loads_and_predicts_as_keras():
    pytest.importorskip("h5py")
    model = cr.models.load_model(os.path.join(HERE, "fixtures", "conv_lstm_keras.keras"))
    name = tool.SAVED
    assert [type(la).__name__ for la in model.layers].count("ConvLSTM2D") == 2
    want = DATA[f"{name}/pred2"]
    np.testing.assert_allclose(model.predict(DATA[f"{name}/x"], verbose=0), want, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(model.get_weights()[0], DATA[f"{name}/w2_0"], rtol=0, atol=0)


def _h5_structure(data: bytes) -> dict:
    import io

    h5py = pytest.importorskip("h5py")
    out = {}
    with h5py.File(io.BytesIO(data), "r") as f:
        def visit(name, obj):
            attrs = {k: (v.decode() if isinstance(v, bytes) else str(v))
                     for k, v in obj.attrs.items()}
            out[name] = (getattr(obj, "shape", None), str(getattr(obj, "dtype", "")), attrs)
        f.visititems(visit)
    return out


def test_keras_format_written_has_the_layout_of_keras_file(tmp_path):
    """Keras keeps a ConvLSTM's weights under ``layers/conv_lstm2d/cell/vars``: so does chainrule."""
    import zipfile

    pytest.importorskip("h5py")
    source = os.path.join(HERE, "fixtures", "conv_lstm_keras.keras")
    model = cr.models.load_model(source)
    path = tmp_path / "m.keras"
    model.save(path, format="keras")
    ours, theirs = zipfile.ZipFile(path), zipfile.ZipFile(source)
    # the layers' part (Keras's iteration counter is int32 on its PyTorch backend, int64 on
    # TensorFlow's, as chainrule writes it)
    a = {k: v for k, v in _h5_structure(ours.read("model.weights.h5")).items()
         if k.startswith("layers")}
    b = {k: v for k, v in _h5_structure(theirs.read("model.weights.h5")).items()
         if k.startswith("layers")}
    assert a == b
    assert a["layers/conv_lstm2d/cell/vars/1"][0] == (3, 3, 4, 16)
    again = cr.models.load_model(path)
    x = DATA[f"{tool.SAVED}/x"]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
