"""chainrule.applications against Keras 3: layer/weight names and shapes, and outputs with
every weight set by a formula (tools/keras_applications_fixtures.py wrote the reference)."""

from __future__ import annotations

import functools
import json
import os
import warnings

import numpy as np
import pytest
from applications_reference import fill_weights, sample_input, weight_list, write_keras_h5

import chainrule as cr
from chainrule.applications import imagenet_utils

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "keras_applications.json")
with open(FIXTURE, encoding="utf-8") as _f:
    REF = json.load(_f)


def build(case):
    kwargs = dict(case["kwargs"])
    kwargs["input_shape"] = tuple(kwargs["input_shape"])
    return getattr(cr.applications, case["builder"])(weights=None, **kwargs)


def keras_weights(case):
    """The case's (path, shape) list; a top case stores only what it adds to its no-top case."""
    head = REF["cases"][case["weights_from"]]["weights"] if "weights_from" in case else []
    return [(p, s) for p, s in head + case["weights"]]


@pytest.mark.parametrize("case_id", sorted(REF["cases"]))
def test_matches_keras(case_id):
    case = REF["cases"][case_id]
    model = build(case)
    assert model.name == case["name"]
    expected = keras_weights(case)
    assert weight_list(model) == expected
    model.set_weights(fill_weights(expected))
    y = np.asarray(model.predict(sample_input(case["kwargs"]["input_shape"]), verbose=0),
                   dtype="float64")
    assert list(y.shape) == case["output_shape"]
    np.testing.assert_allclose(y.ravel()[::case["stride"]], case["output"], rtol=1e-4,
                               atol=1e-4 * max(1e-3, float(np.abs(case["output"]).max())))
    np.testing.assert_allclose(y.sum(), case["output_sum"], rtol=1e-4,
                               atol=1e-5 * case["output_abs_sum"])
    np.testing.assert_allclose(np.abs(y).sum(), case["output_abs_sum"], rtol=1e-4)


# -- imagenet_utils -----------------------------------------------------------------------------

def numpy_reference(x, mode, channels_first):
    x = np.array(x, dtype="float64")
    if channels_first:
        x = np.moveaxis(x, -3, -1)
    if mode == "tf":
        out = x / 127.5 - 1.0
    elif mode == "torch":
        out = (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    else:
        out = x[..., ::-1] - [103.939, 116.779, 123.68]
    return np.moveaxis(out, -1, -3) if channels_first else out


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_preprocess_input_modes(mode, data_format, batched):
    rng = np.random.default_rng(0)
    shape = (3, 5, 4) if data_format == "channels_first" else (5, 4, 3)
    x = rng.uniform(0, 255, ((2,) + shape) if batched else shape).astype("float32")
    expected = numpy_reference(x, mode, data_format == "channels_first")
    got_tensor = imagenet_utils.preprocess_input(cr.ops.convert_to_tensor(x),
                                                 data_format=data_format, mode=mode)
    got_numpy = imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(cr.ops.convert_to_numpy(got_tensor), expected, rtol=1e-5,
                               atol=1e-4)
    np.testing.assert_allclose(got_numpy, expected, rtol=1e-5, atol=1e-4)
    assert got_numpy.dtype == np.float32


def test_preprocess_input_integer_array_becomes_floatx():
    x = np.full((1, 2, 2, 3), 255, dtype="uint8")
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out.dtype == np.float32 and np.all(out == 1.0)


def test_preprocess_input_float_array_changes_in_place_as_in_keras():
    x = np.full((1, 2, 2, 3), 255.0)
    imagenet_utils.preprocess_input(x, mode="torch")
    assert not np.all(x == 255.0)


def test_preprocess_input_symbolic_in_a_model():
    inputs = cr.layers.Input((4, 4, 3))
    model = cr.Model(inputs, imagenet_utils.preprocess_input(inputs, mode="caffe"))
    x = np.random.default_rng(1).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), numpy_reference(x, "caffe", False),
                               rtol=1e-5, atol=1e-4)


@pytest.fixture
def class_index(tmp_path, monkeypatch):
    """A made-up class index in Keras's layout, without the network."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return str(path)

    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    return calls


def test_decode_predictions(class_index):
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, [3, 7, 999]] = [0.5, 0.3, 0.2]
    preds[1, 42] = 1.0
    out = imagenet_utils.decode_predictions(preds, top=3)
    assert out[0] == [("n00000003", "class_3", 0.5), ("n00000007", "class_7",
                                                      np.float32(0.3)),
                      ("n00000999", "class_999", np.float32(0.2))]
    assert out[1][0] == ("n00000042", "class_42", 1.0) and len(out[1]) == 3
    assert class_index == [("imagenet_class_index.json", imagenet_utils.CLASS_INDEX_PATH,
                            {"cache_subdir": "models",
                             "file_hash": "c2c37ea517e94d9795004a39431a14cb"})]
    imagenet_utils.decode_predictions(cr.ops.convert_to_tensor(preds))  # read once, kept
    assert len(class_index) == 1


@pytest.mark.parametrize("family", ["mobilenet", "mobilenet_v2", "vgg16", "vgg19", "resnet", "resnet50",
                                    "resnet_v2"])
def test_family_modules_have_preprocess_and_decode(family, class_index):
    module = getattr(cr.applications, family)
    preds = np.eye(1000, dtype="float32")[[5]]
    assert module.decode_predictions(preds, top=1) == [[("n00000005", "class_5", 1.0)]]
    x = np.full((1, 2, 2, 3), 200.0, dtype="float32")
    mode = {"mobilenet": "tf", "mobilenet_v2": "tf", "vgg16": "caffe", "vgg19": "caffe", "resnet": "caffe",
            "resnet50": "caffe", "resnet_v2": "tf"}[family]
    np.testing.assert_allclose(module.preprocess_input(x.copy()),
                               numpy_reference(x, mode, False), rtol=1e-6, atol=1e-4)


def test_obtain_input_shape_defaults():
    assert imagenet_utils.obtain_input_shape(None, 224, 32, "channels_last", True) == (224, 224, 3)
    assert imagenet_utils.obtain_input_shape(None, 224, 32, "channels_first", False) == (
        3, None, None)
    assert imagenet_utils.obtain_input_shape((64, 48, 3), 224, 32, "channels_last", False,
                                             "imagenet") == (64, 48, 3)
    with pytest.warns(UserWarning, match="usually expects 1 or 3 input channels"):
        imagenet_utils.obtain_input_shape((64, 64, 5), 224, 32, "channels_last", False)


# -- weights, transfer learning -----------------------------------------------------------------

def small_mobilenet(**kwargs):
    kwargs.setdefault("weights", None)
    return cr.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                       **kwargs)


def test_weights_path_loads_a_keras_layout_h5(tmp_path):
    reference = small_mobilenet()
    values = fill_weights(weight_list(reference))
    path = str(tmp_path / "mobilenet_v2_no_top.h5")
    write_keras_h5(reference, path, values)
    model = small_mobilenet(weights=path)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_imagenet_weights_download_keras_file(monkeypatch, tmp_path):
    """weights="imagenet" asks get_file for Keras's own file name and address."""
    reference = small_mobilenet()
    values = fill_weights(weight_list(reference))
    path = str(tmp_path / "w.h5")
    write_keras_h5(reference, path, values)
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return path

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    with pytest.warns(UserWarning, match="Weights for input shape \\(224, 224\\)"):
        model = small_mobilenet(weights="imagenet")
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
    assert calls == [(name, "https://storage.googleapis.com/tensorflow/keras-applications/"
                            "mobilenet_v2/" + name, {"cache_subdir": "models"})]
    np.testing.assert_array_equal(model.get_weights()[5], values[5])


def test_frozen_base_with_new_head_trains_through_the_captured_step():
    base = small_mobilenet()
    base.trainable = False
    frozen = [w.copy() for w in base.get_weights()]
    inputs = cr.layers.Input((32, 32, 3))
    x = base(inputs, training=False)
    outputs = cr.layers.Dense(3, activation="softmax")(cr.layers.GlobalAveragePooling2D()(x))
    model = cr.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    rng = np.random.default_rng(0)
    x_train = cr.applications.mobilenet_v2.preprocess_input(
        rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32"))
    y_train = rng.integers(0, 3, 8)
    head_before = [w.copy() for w in model.layers[-1].get_weights()]
    model.fit(x_train, y_train, batch_size=4, epochs=2, verbose=0)
    assert len(model.trainable_weights) == 2
    assert any(e.program is not None for e in model._steps.entries.values())
    for got, want in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(model.layers[-1].get_weights()[0], head_before[0])


EXTRA = {"MobileNet": {"alpha": 0.25}}
KERAS_FILES = {
    "MobileNet": ("mobilenet_2_5_224_tf_no_top.h5",
                  "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
                  "mobilenet_2_5_224_tf_no_top.h5", None),  # Keras gives no hash
    # builder -> (file name, address, md5) of Keras's no-top ImageNet weights
    "VGG16": ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
              "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "6d6bbae143d832006294945121d1f1fc"),
    "VGG19": ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
              "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
              "253f8cb515780f3b799900260a226db6"),
    "ResNet50": ("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                 "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
                 "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                 "4d473c1dd8becc155b73f8504c6f6626"),
    "ResNet50V2": ("resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                   "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
                   "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                   "fac2f116257151a9d068a22e544a4917"),
}


@pytest.mark.parametrize("builder", sorted(KERAS_FILES))
def test_imagenet_weights_use_keras_names_and_hashes(builder, monkeypatch, tmp_path):
    build_it = functools.partial(getattr(cr.applications, builder), **EXTRA.get(builder, {}))
    reference = build_it(input_shape=(32, 32, 3), include_top=False, weights=None)
    values = fill_weights(weight_list(reference))
    path = str(tmp_path / "w.h5")
    write_keras_h5(reference, path, values)
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return path

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MobileNet: weights of the 224 model
        model = build_it(input_shape=(32, 32, 3), include_top=False, weights="imagenet")
    fname, origin, md5 = KERAS_FILES[builder]
    expected = {"cache_subdir": "models", "file_hash": md5} if md5 else {"cache_subdir": "models"}
    assert calls == [(fname, origin, expected)]
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_input_tensor_keeps_its_source_inputs():
    inputs = cr.layers.Input((32, 32, 3))
    scaled = cr.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    model = cr.applications.MobileNetV2(input_tensor=scaled, alpha=0.35, include_top=False,
                                        weights=None, pooling="avg")
    assert model.inputs[0] is inputs
    assert model.name == "mobilenetv2_0.35_None"  # as Keras names it (no input_shape given)
    assert model.predict(np.zeros((1, 32, 32, 3), "float32"), verbose=0).shape == (1, 1280)


def test_pooling_layers_have_keras_names():
    model = cr.applications.ResNet50(input_shape=(32, 32, 3), include_top=False, weights=None,
                                     pooling="max")
    assert model.layers[-1].name == "max_pool" and model.output_shape == (None, 2048)
    model = cr.applications.ResNet50(input_shape=(32, 32, 3), weights=None, classes=3)
    assert [la.name for la in model.layers[-2:]] == ["avg_pool", "predictions"]
