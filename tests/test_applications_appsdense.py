"""DenseNet, InceptionV3, Xception and InceptionResNetV2 against Keras 3: layer/weight names
and shapes, and outputs with every weight set by a formula
(tools/keras_applications_appsdense_fixtures.py wrote the reference)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from applications_reference import fill_weights, sample_input, weight_list, write_keras_h5

import chainrule as cr

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "keras_applications_appsdense.json")
with open(FIXTURE, encoding="utf-8") as _f:
    REF = json.load(_f)

BASE_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


def build(builder, **kwargs):
    """A model built as the fixture tool builds it: right after clear_session(), so the
    layers Keras leaves unnamed get the same numbered names. A list or tuple as
    ``input_tensor`` stands for an ``Input`` of that shape."""
    cr.backend.clear_session(free_memory=False)
    if isinstance(kwargs.get("input_tensor"), (list, tuple)):
        kwargs["input_tensor"] = cr.layers.Input(tuple(kwargs["input_tensor"]))
    return getattr(cr.applications, builder)(**kwargs)


def keras_weights(case):
    """The case's (path, shape) list; a case stores only what it adds to ``weights_from``."""
    head = keras_weights(REF["cases"][case["weights_from"]]) if "weights_from" in case else []
    return head + [(p, s) for p, s in case["weights"]]


# builder -> (file under BASE_URL, md5) of Keras's ImageNet weights (with the top, without)
KERAS_FILES = {
    "DenseNet121": (("densenet/densenet121_weights_tf_dim_ordering_tf_kernels.h5",
                     "9d60b8095a5708f2dcce2bca79d332c7"),
                    ("densenet/densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     "30ee3e1110167f948a6b9946edeeb738")),
    "DenseNet169": (("densenet/densenet169_weights_tf_dim_ordering_tf_kernels.h5",
                     "d699b8f76981ab1b30698df4c175e90b"),
                    ("densenet/densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     "b8c4d4c20dd625c148057b9ff1c1176b")),
    "DenseNet201": (("densenet/densenet201_weights_tf_dim_ordering_tf_kernels.h5",
                     "1ceb130c1ea1b78c3bf6114dbdfd8807"),
                    ("densenet/densenet201_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     "c13680b51ded0fb44dff2d8f86ac8bb1")),
    "InceptionV3": (("inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels.h5",
                     "9a0d58056eeedaa3f26cb7ebd46da564"),
                    ("inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5",
                     "bcbd6486424b2319ff4ef7d526e38f63")),
    "Xception": (("xception/xception_weights_tf_dim_ordering_tf_kernels.h5",
                  "0a58e3b7378bc2990ea3b43d5981f1f6"),
                 ("xception/xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
                  "b0042744bf5b25fce3cb969f33bebb97")),
    "InceptionResNetV2": (
        ("inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
         "e693bd0210a403b3192acc6073ad2e96"),
        ("inception_resnet_v2/inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
         "d19885ff4a710c122648d3b5c3b684e4")),
}


def fake_download(monkeypatch, stop=False):
    """Record what a builder asks ``get_file`` for, without the network; with ``stop`` the
    build ends there (``_Fetched``), else ``Model.load_weights`` records the path it gets."""
    calls = []

    def fake_get_file(name, origin, **kwargs):
        calls.append((name, origin, kwargs))
        if stop:
            raise _Fetched
        return "keras-imagenet-file.h5"

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    monkeypatch.setattr(cr.Model, "load_weights", lambda model, path: calls.append(path))
    return calls


class _Fetched(Exception):
    pass


def expected_download(builder, top):
    fname, md5 = KERAS_FILES[builder][0 if top else 1]
    return (fname.split("/")[1], BASE_URL + fname, {"cache_subdir": "models", "file_hash": md5})


@pytest.mark.parametrize("case_id", sorted(REF["cases"]))
def test_matches_keras(case_id, monkeypatch):
    """Names, shapes and order of the weights as Keras's; outputs where recorded. The
    cases without an output build with weights="imagenet": the builder asks for Keras's
    file (with or without the top) and loads it."""
    case = REF["cases"][case_id]
    kwargs = dict(case["kwargs"])
    if "input_shape" in kwargs:
        kwargs["input_shape"] = tuple(kwargs["input_shape"])
    imagenet = "output" not in case
    calls = fake_download(monkeypatch) if imagenet else []
    model = build(case["builder"], weights="imagenet" if imagenet else None, **kwargs)
    if imagenet:
        assert calls == [expected_download(case["builder"], top=kwargs["include_top"]),
                         "keras-imagenet-file.h5"]
    assert model.name == case["name"]
    assert len(model.layers) == case["layers"]
    assert [la.name for la in model.layers[-3:]] == case["last_layers"]
    assert list(model.output_shape) == case["output_shape"]
    expected = keras_weights(case)
    assert weight_list(model) == expected
    if "output" not in case:  # a deep variant: names and shapes only
        return
    model.set_weights(fill_weights(expected))
    size = case["image_size"]
    y = np.asarray(model.predict(sample_input((size, size, 3)), verbose=0), dtype="float64")
    assert list(y.shape) == case["batch_output_shape"]
    np.testing.assert_allclose(y.ravel()[::case["stride"]], case["output"], rtol=1e-4,
                               atol=1e-4 * max(1e-3, float(np.abs(case["output"]).max())))
    np.testing.assert_allclose(y.sum(), case["output_sum"], rtol=1e-4,
                               atol=1e-5 * case["output_abs_sum"])
    np.testing.assert_allclose(np.abs(y).sum(), case["output_abs_sum"], rtol=1e-4)


# -- preprocess_input, decode_predictions -------------------------------------------------------

MODES = {"densenet": "torch", "inception_v3": "tf", "xception": "tf",
         "inception_resnet_v2": "tf"}


def numpy_reference(x, mode):
    x = np.array(x, dtype="float64")
    if mode == "tf":
        return x / 127.5 - 1.0
    return (x / 255.0 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]


@pytest.fixture
def class_index(tmp_path, monkeypatch):
    """A made-up class index in Keras's layout, without the network."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setattr(cr.applications.imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(cr.utils, "get_file", lambda fname, origin, **kwargs: str(path))


@pytest.mark.parametrize("family", sorted(MODES))
def test_family_preprocess_and_decode(family, class_index):
    module = getattr(cr.applications, family)
    preds = np.eye(1000, dtype="float32")[[5]]
    assert module.decode_predictions(preds, top=1) == [[("n00000005", "class_5", 1.0)]]
    x = np.random.default_rng(0).uniform(0, 255, (2, 3, 4, 3)).astype("float32")
    expected = numpy_reference(x, MODES[family])
    np.testing.assert_allclose(module.preprocess_input(x.copy()), expected, rtol=1e-5,
                               atol=1e-5)
    tensor = module.preprocess_input(cr.ops.convert_to_tensor(x))
    np.testing.assert_allclose(cr.ops.convert_to_numpy(tensor), expected, rtol=1e-5, atol=1e-5)
    first = module.preprocess_input(np.moveaxis(x, -1, 1).copy(), data_format="channels_first")
    np.testing.assert_allclose(np.moveaxis(first, 1, -1), expected, rtol=1e-5, atol=1e-5)


# -- weights="imagenet" and weight files --------------------------------------------------------


def test_weights_path_loads_a_keras_layout_h5(tmp_path):
    """weights=<path> loads a tf.keras-layout file (as Keras's ImageNet files are), layer
    by layer in Keras's order."""
    shape = (None, None, 3)  # free sizes: the build needs no dry run
    reference = build("DenseNet121", input_shape=shape, include_top=False, weights=None)
    values = fill_weights(weight_list(reference))
    path = str(tmp_path / "densenet121_notop.h5")
    write_keras_h5(reference, path, values)
    model = build("DenseNet121", input_shape=shape, include_top=False, weights=path)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("builder", sorted(
    set(KERAS_FILES) - {c["builder"] for c in REF["cases"].values()
                        if c["kwargs"]["include_top"] and "output" not in c}))
def test_imagenet_weights_with_the_top_ask_for_keras_file(builder, monkeypatch):
    """With the top, the builders test_matches_keras does not build so ask for Keras's own
    file (the build is stopped at the download). Free image sizes through ``input_tensor``
    (which Keras also takes as it is) keep the build cheap."""
    calls = fake_download(monkeypatch, stop=True)
    with pytest.raises(_Fetched):
        build(builder, weights="imagenet", input_tensor=cr.layers.Input((None, None, 3)))
    assert calls == [expected_download(builder, top=True)]


# -- errors and defaults ------------------------------------------------------------------------

def test_densenet_refuses_channels_first():
    cr.backend.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match=r"DenseNet does not support the `channels_first` "
                           r"image data format\..*Received: data_format=channels_first$"):
            cr.applications.DenseNet121(weights=None)
    finally:
        cr.backend.set_image_data_format("channels_last")


def test_densenet_imagenet_weights_need_a_published_depth():
    with pytest.raises(ValueError, match=r"Received: blocks=\[1, 1, 1, 1\]$"):
        cr.applications.densenet.DenseNet([1, 1, 1, 1], weights="imagenet")


def test_densenet_input_checks_as_keras():
    with pytest.raises(ValueError, match=r"at least 32x32\. Received: input_shape=\(31, 40, 3\)"):
        cr.applications.DenseNet121(input_shape=(31, 40, 3), include_top=False, weights=None)
    with pytest.raises(ValueError, match=r"`classes` should be 1000\. Received: classes=10$"):
        cr.applications.DenseNet169(weights="imagenet", classes=10)


def test_inception_families_refuse_images_below_their_minimum():
    with pytest.raises(ValueError, match=r"at least 75x75\. Received: input_shape=\(74, 80, 3\)$"):
        cr.applications.InceptionV3(input_shape=(74, 80, 3), include_top=False, weights=None)
    with pytest.raises(ValueError, match=r"at least 71x71\. Received: input_shape=\(70, 70, 3\)$"):
        cr.applications.Xception(input_shape=(70, 70, 3), include_top=False, weights=None)
    with pytest.raises(ValueError, match=r"at least 75x75\. Received: input_shape=\(75, 60, 3\)$"):
        cr.applications.InceptionResNetV2(input_shape=(75, 60, 3), include_top=False,
                                          weights=None)
    with pytest.raises(ValueError, match=r"`input_shape` should be \(299, 299, 3\)\. "
                       r"Received: input_shape=\(224, 224, 3\)$"):
        cr.applications.InceptionV3(input_shape=(224, 224, 3), weights="imagenet")


# -- CustomScaleLayer -----------------------------------------------------------------------------

def test_custom_scale_layer_matches_numpy_and_keras_config():
    from chainrule.applications.inception_resnet_v2 import CustomScaleLayer

    assert CustomScaleLayer is cr.layers.CustomScaleLayer  # so saved models load it by name
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 3, 4)), rng.standard_normal((2, 3, 3, 4))
    layer = CustomScaleLayer(0.17, name="scale")
    out = layer([cr.ops.convert_to_tensor(a, "float64"), cr.ops.convert_to_tensor(b, "float64")])
    np.testing.assert_allclose(cr.ops.convert_to_numpy(out), a + 0.17 * b, rtol=1e-12)
    config = layer.get_config()
    assert config["scale"] == 0.17 and config["name"] == "scale"
    assert set(config) == set(cr.layers.Layer().get_config()) | {"scale"}  # as Keras
    again = cr.layers.deserialize({"class_name": "CustomScaleLayer", "config": config})
    assert type(again) is CustomScaleLayer and again.scale == 0.17


def test_custom_scale_layer_errors():
    from chainrule.applications.inception_resnet_v2 import CustomScaleLayer

    with pytest.raises(ValueError, match=r"`scale` must be a number\. Received: scale='big'$"):
        CustomScaleLayer("big")
    with pytest.raises(ValueError, match=r"expects a list of two inputs \(shortcut, branch\)\. "
                       r"Received: 3 input\(s\)$"):
        CustomScaleLayer(0.1)([np.ones((1, 2))] * 3)
    with pytest.raises(ValueError, match=r"Received: block_type=block99$"):
        cr.applications.inception_resnet_v2.inception_resnet_block(
            cr.layers.Input((4, 4, 8)), 0.1, "block99", 1)


def test_inception_resnet_block_saves_loads_and_replays(tmp_path):
    """A model with an Inception-ResNet block (its CustomScaleLayer) trains through the
    captured step as on the tape, and saves and loads by its config."""
    block = cr.applications.inception_resnet_v2.inception_resnet_block

    def make():
        cr.utils.clear_session()
        cr.utils.set_random_seed(3)
        inputs = cr.layers.Input((4, 4, 6))
        x = block(inputs, 0.2, "block8", 1)
        outputs = cr.layers.Dense(2)(cr.layers.GlobalAveragePooling2D()(x))
        return cr.Model(inputs, outputs)

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((8, 4, 4, 6)).astype("float32"), rng.integers(0, 2, 8)
    captured, taped = make(), make()
    captured.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                     jit_compile=True)
    taped.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=False)
    for model in (captured, taped):
        model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert any(e.program is not None for e in captured._steps.entries.values())
    assert taped._steps.entries == {}
    for got, want in zip(captured.get_weights(), taped.get_weights()):
        # the same ops; a threaded BLAS may split the convolutions' products differently
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    path = str(tmp_path / "block.keras")
    captured.save(path)
    loaded = cr.saving.load_model(path)
    assert any(la.__class__.__name__ == "CustomScaleLayer" and la.scale == 0.2
               for la in loaded.layers)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), captured.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


# -- transfer learning --------------------------------------------------------------------------

def test_frozen_densenet_with_new_head_trains_through_the_captured_step():
    base = cr.applications.densenet.DenseNet([1, 1, 1, 1], include_top=False, weights=None,
                                             input_shape=(32, 32, 3))
    base.trainable = False
    frozen = [w.copy() for w in base.get_weights()]
    inputs = cr.layers.Input((32, 32, 3))
    x = base(inputs, training=False)
    outputs = cr.layers.Dense(3, activation="softmax")(cr.layers.GlobalAveragePooling2D()(x))
    model = cr.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    rng = np.random.default_rng(0)
    x_train = cr.applications.densenet.preprocess_input(
        rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32"))
    y_train = rng.integers(0, 3, 8)
    head_before = [w.copy() for w in model.layers[-1].get_weights()]
    model.fit(x_train, y_train, batch_size=4, epochs=2, verbose=0)
    assert len(model.trainable_weights) == 2
    assert any(e.program is not None for e in model._steps.entries.values())
    for got, want in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(model.layers[-1].get_weights()[0], head_before[0])
