"""chainrule.applications' MobileNetV3, ConvNeXt and NASNet against Keras 3: layer and
weight names, order and shapes, and outputs with every weight set by a formula
(tools/keras_applications_appsmnv3_fixtures.py wrote the reference)."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest

import chainrule as cr

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "keras_applications_appsmnv3.json")
with open(FIXTURE, encoding="utf-8") as _f:
    REF = json.load(_f)


def fill_weights(weights):
    """Same formula as the tool (and tests/test_applications.py)."""
    values = []
    for k, (path, shape) in enumerate(weights):
        size = int(np.prod(shape))
        w = 0.05 * np.sin(np.arange(size) * 0.37 + k).reshape(shape)
        if path.endswith("moving_variance"):
            w = np.abs(w) + 0.5
        values.append(w.astype("float32"))
    return values


def sample_input(kwargs):
    shape = tuple(kwargs["input_shape"])
    size = 2 * int(np.prod(shape))
    x = (2.0 * np.cos(np.arange(size) * 0.11)).reshape((2,) + shape).astype("float32")
    if kwargs.get("include_preprocessing", True):  # the model rescales pixels itself
        x = x * 60.0 + 127.5
    return x


def weight_list(model):
    return [[w.path, list(w.shape)] for w in model.weights]


def build(case, **extra):
    kwargs = dict(case["kwargs"])
    kwargs["input_shape"] = tuple(kwargs["input_shape"])
    return getattr(cr.applications, case["builder"])(weights=None, **kwargs, **extra)


def check_outputs(model, case):
    y = np.asarray(model.predict(sample_input(case["kwargs"]), verbose=0), dtype="float64")
    assert list(y.shape) == case["output_shape"]
    np.testing.assert_allclose(y.ravel()[::case["stride"]], case["output"], rtol=1e-4,
                               atol=1e-4 * max(1e-3, float(np.abs(case["output"]).max())))
    np.testing.assert_allclose(y.sum(), case["output_sum"], rtol=1e-4,
                               atol=1e-5 * case["output_abs_sum"])
    np.testing.assert_allclose(np.abs(y).sum(), case["output_abs_sum"], rtol=1e-4)


@pytest.mark.parametrize("case_id", sorted(REF["cases"]))
def test_matches_keras(case_id):
    case = REF["cases"][case_id]
    model = build(case)
    assert model.name == case["name"]
    assert weight_list(model) == case["weights"]
    assert [la.name for la in model.layers if la.weights] == case["layers"]
    if "output" in case:
        model.set_weights(fill_weights(case["weights"]))
        check_outputs(model, case)


# -- weights files ------------------------------------------------------------------------------

def write_keras_h5(model, path, values):
    """A tf.keras-layout weight file (as Keras's application weights are): layer_names,
    then each layer's weight_names and datasets."""
    h5py = pytest.importorskip("h5py")
    with h5py.File(path, "w") as f:
        layers = [la for la in model.layers if la.weights]
        f.attrs["layer_names"] = [la.name.encode() for la in layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.1.6"
        it = iter(values)
        for layer in layers:
            group = f.create_group(layer.name)
            names = []
            for w in layer.weights:
                name = f"{layer.name}/{w.name}:0"
                names.append(name.encode())
                group.create_dataset(name, data=next(it))
            group.attrs["weight_names"] = names


def check_imagenet_download(monkeypatch, tmp_path, build_it, expected_call):
    """weights="imagenet" asks get_file for Keras's file name, address and hash, and loads
    the file it returns (here one the test wrote)."""
    reference = build_it(weights=None)
    values = fill_weights(weight_list(reference))
    path = str(tmp_path / "w.h5")
    write_keras_h5(reference, path, values)
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return path

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # weights of the 224 model
        model = build_it(weights="imagenet")
    fname, origin, md5 = expected_call
    assert calls == [(fname, origin, {"cache_subdir": "models", "file_hash": md5})]
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


MNV3 = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"


@pytest.mark.parametrize("builder, kwargs, fname, md5", [
    ("MobileNetV3Small", {"include_top": False},
     "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5",
     "d3e8ec802a04aa4fc771ee12a9a9b836"),
    ("MobileNetV3Small", {"include_top": True, "minimalistic": True},
     "weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5",
     "99cd97fb2fcdad2bf028eb838de69e37"),
    ("MobileNetV3Large", {"include_top": False, "alpha": 0.75},
     "weights_mobilenet_v3_large_224_0.75_float_no_top_v2.h5",
     "40af19a13ebea4e2ee0c676887f69a2e"),
])
def test_mobilenet_v3_imagenet_weights_use_keras_files(builder, kwargs, fname, md5,
                                                       monkeypatch, tmp_path):
    def build_it(weights):
        return getattr(cr.applications, builder)(input_shape=(32, 32, 3), weights=weights,
                                                 **kwargs)

    check_imagenet_download(monkeypatch, tmp_path, build_it, (fname, MNV3 + fname, md5))


def test_mobilenet_v3_weights_path_loads_a_keras_layout_h5(tmp_path):
    reference = cr.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None,
                                                 include_top=False, minimalistic=True)
    values = fill_weights(weight_list(reference))
    path = str(tmp_path / "mnv3.h5")
    write_keras_h5(reference, path, values)
    model = cr.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=path,
                                             include_top=False, minimalistic=True)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


# -- MobileNetV3's arguments --------------------------------------------------------------------

def test_mobilenet_v3_errors_and_warning():
    small = cr.applications.MobileNetV3Small
    with pytest.raises(ValueError, match=r"alpha can be one of .*Received: alpha=0.5"):
        small(weights="imagenet", alpha=0.5)
    with pytest.raises(ValueError, match=r"`1.0` for minimalistic only. Received: alpha=0.75"):
        small(weights="imagenet", alpha=0.75, minimalistic=True)
    with pytest.raises(ValueError, match=r"at least 32x32. Received: input_shape=\(16, 64, 3\)"):
        small(weights=None, input_shape=(16, 64, 3))
    with pytest.raises(ValueError, match=r"should be 1000. Received: classes=10"):
        small(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match=r"Received: weights=nowhere.h5"):
        small(weights="nowhere.h5")
    with pytest.raises(ValueError, match=r"input_shape\[1\] must equal input_tensor.shape\[2\]"):
        small(weights=None, input_shape=(64, 64, 3), input_tensor=cr.layers.Input((48, 48, 3)))
    with pytest.raises(ValueError, match=r"symbolic tensor.*Received: input_tensor"):
        small(weights=None, input_tensor=np.zeros((1, 32, 32, 3)))


def test_mobilenet_v3_input_tensor_and_preprocessing():
    inputs = cr.layers.Input((40, 40, 3))
    model = cr.applications.MobileNetV3Small(input_tensor=inputs, weights=None,
                                             include_top=False, pooling="max")
    assert model.inputs[0] is inputs and model.output_shape == (None, 576)
    assert [type(la).__name__ for la in model.layers[:2]] == ["InputLayer", "Rescaling"]
    assert model.layers[-1].name == "max_pool"
    plain = cr.applications.MobileNetV3Small(weights=None, include_top=False,
                                             include_preprocessing=False)
    assert tuple(plain.inputs[0].shape) == (None, None, None, 3)
    assert "Rescaling" not in [type(la).__name__ for la in plain.layers]
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    same = cr.applications.mobilenet_v3.preprocess_input(x)
    assert same is x


def test_mobilenet_v3_decode_predictions(monkeypatch, tmp_path):
    from chainrule.applications import imagenet_utils

    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(cr.utils, "get_file", lambda *args, **kwargs: str(path))
    preds = np.eye(1000, dtype="float32")[[7]]
    out = cr.applications.mobilenet_v3.decode_predictions(preds, top=2)
    assert out[0][0] == ("n00000007", "class_7", 1.0) and len(out[0]) == 2


# -- transfer learning --------------------------------------------------------------------------

def train_frozen_base(base, size):
    """keras-io's transfer-learning recipe: a frozen base called with training=False, a new
    head, fit; the captured step must replay (jit_compile=True raises otherwise)."""
    base.trainable = False
    frozen = [w.copy() for w in base.get_weights()]
    inputs = cr.layers.Input((size, size, 3))
    x = base(inputs, training=False)
    outputs = cr.layers.Dense(3, activation="softmax")(cr.layers.GlobalAveragePooling2D()(x))
    model = cr.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 255, (8, size, size, 3)).astype("float32")
    y_train = rng.integers(0, 3, 8)
    head_before = [w.copy() for w in model.layers[-1].get_weights()]
    model.fit(x_train, y_train, batch_size=4, epochs=2, verbose=0)
    assert len(model.trainable_weights) == 2
    assert any(e.program is not None for e in model._steps.entries.values())
    for got, want in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(model.layers[-1].get_weights()[0], head_before[0])


def test_mobilenet_v3_frozen_base_trains_through_the_captured_step():
    train_frozen_base(cr.applications.MobileNetV3Small(input_shape=(32, 32, 3), weights=None,
                                                       include_top=False), 32)
