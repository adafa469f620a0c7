"""EfficientNet and EfficientNetV2 against Keras 3: layer/weight names and shapes, outputs
with every weight set by a formula, and the deep variants' weight lists
(tools/keras_applications_appseff_fixtures.py wrote the reference)."""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import pytest
from applications_reference import fill_weights, weight_list

import chainrule as cr
from chainrule.layers import ShapeOnlyScope

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "keras_applications_appseff.json")
with open(FIXTURE, encoding="utf-8") as _f:
    REF = json.load(_f)


def _fill(weights):
    """The tool's formula (a Normalization's variance positive, its count k)."""
    return fill_weights(weights, positive=("variance",), counts=True)

SMALL = (32, 32, 3)


@pytest.fixture(autouse=True)
def fresh_names():
    """Default layer names from 0 (``normalization/mean``), as in the reference."""
    cr.backend.clear_session()


def sample_input(shape):
    size = 2 * int(np.prod(shape))
    return (127.5 + 120.0 * np.cos(np.arange(size) * 0.11)).reshape(
        (2,) + tuple(shape)).astype("float32")


def keras_weights(case):
    """The case's (path, shape) list; a top case stores only what it adds to its no-top case."""
    head = REF["cases"][case["weights_from"]]["weights"] if "weights_from" in case else []
    return [(p, s) for p, s in head + case["weights"]]


def build(case):
    kwargs = dict(case["kwargs"])
    kwargs["input_shape"] = tuple(kwargs["input_shape"])
    return getattr(cr.applications, case["builder"])(weights=None, **kwargs)


def check_forward(case_id):
    case = REF["cases"][case_id]
    model = build(case)
    assert model.name == case["name"]
    expected = keras_weights(case)
    assert weight_list(model) == expected
    model.set_weights(_fill(expected))
    y = np.asarray(model.predict(sample_input(case["kwargs"]["input_shape"]), verbose=0),
                   dtype="float64")
    assert list(y.shape) == case["output_shape"]
    np.testing.assert_allclose(y.ravel()[::case["stride"]], case["output"], rtol=1e-4,
                               atol=1e-4 * max(1e-3, float(np.abs(case["output"]).max())))
    np.testing.assert_allclose(y.sum(), case["output_sum"], rtol=1e-4,
                               atol=1e-5 * case["output_abs_sum"])
    np.testing.assert_allclose(np.abs(y).sum(), case["output_abs_sum"], rtol=1e-4)
    return model


def check_structure(builder):
    """A deep variant's weights without allocating them (ShapeOnlyScope), free image sizes."""
    ref = REF["structures"][builder]
    with ShapeOnlyScope():
        model = getattr(cr.applications, builder)(include_top=False, weights=None)
    weights = weight_list(model)
    assert model.name == ref["name"]
    assert list(model.output_shape) == ref["output_shape"]
    assert len(weights) == ref["count"]
    assert sum(math.prod(s) for _, s in weights) == ref["params"]
    text = json.dumps([[p, list(s)] for p, s in weights], separators=(",", ":"))
    assert hashlib.sha256(text.encode()).hexdigest() == ref["sha256"]


def saved_weights(model, path):
    """Set ``model``'s weights by the formula, save them to ``path`` and return them."""
    values = _fill(weight_list(model))
    model.set_weights(values)
    model.save_weights(path)
    return values


def fake_download(monkeypatch, path):
    """Point get_file at ``path`` and record what it was asked for."""
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        return path

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    return calls


# -- EfficientNet (B0 to B7) --------------------------------------------------------------------

@pytest.mark.parametrize("case_id", ["efficientnetb0_notop", "efficientnetb0_top"])
def test_efficientnet_matches_keras(case_id):
    check_forward(case_id)


@pytest.mark.parametrize("builder", [f"EfficientNetB{i}" for i in range(1, 8)])
def test_efficientnet_deep_variants_have_keras_weights(builder):
    check_structure(builder)


def test_efficientnet_drop_connect_drops_whole_samples():
    with ShapeOnlyScope():
        model = cr.applications.EfficientNetB0(include_top=False, weights=None)
    drops = {la.name: la for la in model.layers if la.name.endswith("_drop")}
    # Keras: rate 0.2 * b / 16 for the b-th block, on the blocks with an identity shortcut
    assert sorted(drops) == sorted(f"block{n}_drop" for n in (
        "2b", "3b", "4b", "4c", "5b", "5c", "6b", "6c", "6d"))
    assert drops["block6d_drop"].rate == pytest.approx(0.2 * 14 / 16)
    assert drops["block2b_drop"].get_config()["noise_shape"] == (None, 1, 1, 1)
    x = np.ones((64, 2, 2, 3), "float32")
    rate = drops["block6d_drop"].rate
    per_sample = cr.ops.convert_to_numpy(drops["block6d_drop"](x, training=True)).reshape(64, -1)
    assert np.all(per_sample == per_sample[:, :1])  # one draw per sample
    np.testing.assert_allclose(per_sample[per_sample[:, 0] != 0, 0], 1 / (1 - rate), rtol=1e-6)
    assert 0 < np.count_nonzero(per_sample[:, 0]) < 64


def test_efficientnet_imagenet_weights_use_keras_file_and_scaling(monkeypatch, tmp_path):
    reference = cr.applications.EfficientNetB0(input_shape=SMALL, include_top=False,
                                               weights=None)
    path = str(tmp_path / "w.weights.npz")
    values = saved_weights(reference, path)
    calls = fake_download(monkeypatch, path)
    cr.backend.clear_session()  # the same default names, as in a new process
    model = cr.applications.EfficientNetB0(input_shape=SMALL, include_top=False,
                                           weights="imagenet")
    name = "efficientnetb0_notop.h5"
    assert calls == [(name, "https://storage.googleapis.com/keras-applications/" + name,
                      {"cache_subdir": "models",
                       "file_hash": "50bc09e76180e00e4465e1a485ddc09d"})]
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    # Keras's extra division by sqrt(stddev) with ImageNet weights
    scales = [la.scale for la in model.layers if isinstance(la, cr.layers.Rescaling)]
    assert scales[0] == pytest.approx(1 / 255)
    assert scales[1] == pytest.approx([1 / math.sqrt(s) for s in (0.229, 0.224, 0.225)])
    assert all(isinstance(la, cr.layers.Rescaling) for la in reference.layers[1:2])
    assert sum(isinstance(la, cr.layers.Rescaling) for la in reference.layers) == 1


class Fetched(Exception):
    """Raised by a fake get_file once it has recorded the call."""


def test_efficientnet_imagenet_file_is_named_after_the_model(monkeypatch):
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        raise Fetched

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    with ShapeOnlyScope(), pytest.raises(Fetched):  # any size goes with input_tensor
        cr.applications.EfficientNetB0(weights="imagenet", name="mine",
                                       input_tensor=cr.layers.Input((None, None, 3)))
    assert calls == [("mine.h5", "https://storage.googleapis.com/keras-applications/mine.h5",
                      {"cache_subdir": "models",
                       "file_hash": "902e53a9f72be733fc0bcb005b3ebbac"})]


def test_efficientnet_weights_path_loads(tmp_path):
    reference = cr.applications.EfficientNetB0(input_shape=SMALL, include_top=True,
                                               weights=None, classes=3)
    path = str(tmp_path / "b0.weights.npz")
    values = saved_weights(reference, path)
    cr.backend.clear_session()
    model = cr.applications.EfficientNetB0(input_shape=SMALL, weights=path, classes=3)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_efficientnet_loads_a_keras_layout_h5(tmp_path):
    """Keras's ImageNet files are tf.keras-layout HDF5 (Normalization's int64 count too)."""
    from tests.test_applications import write_keras_h5  # skips without h5py

    reference = cr.applications.EfficientNetB0(input_shape=SMALL, include_top=False,
                                               weights=None)
    values = _fill(weight_list(reference))
    path = str(tmp_path / "efficientnetb0_notop.h5")
    write_keras_h5(reference, path, values)
    model = cr.applications.EfficientNetB0(input_shape=SMALL, include_top=False, weights=path)
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"weights": "no/such/file.h5"}, "The `weights` argument should be either"),
    ({"weights": "imagenet", "classes": 10}, "`classes` should be 1000. Received: classes=10"),
    ({"weights": "imagenet", "input_shape": SMALL},
     r"`input_shape` should be \(224, 224, 3\). Received: input_shape=\(32, 32, 3\)"),
    ({"weights": None, "include_top": False, "input_shape": (16, 16, 3)},
     "Input size must be at least 32x32. Received"),
])
def test_efficientnet_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cr.applications.EfficientNetB0(**kwargs)


def test_efficientnet_classifier_activation_with_weights(tmp_path):
    path = tmp_path / "w.h5"
    path.write_bytes(b"")
    with ShapeOnlyScope(), pytest.raises(ValueError,
                                         match="Received: classifier_activation=relu"):
        cr.applications.EfficientNetB0(input_shape=SMALL, weights=str(path),
                                       classifier_activation="relu")


def test_efficientnet_preprocess_input_is_identity_and_decode_is_imagenets():
    from chainrule.applications import efficientnet, imagenet_utils

    x = np.full((1, 2, 2, 3), 200.0, dtype="float32")
    assert efficientnet.preprocess_input(x) is x
    assert efficientnet.preprocess_input(x, data_format="channels_first") is x
    assert efficientnet.decode_predictions is imagenet_utils.decode_predictions


def test_efficientnet_frozen_base_with_new_head_trains_through_the_captured_step():
    base = cr.applications.EfficientNetB0(input_shape=SMALL, include_top=False, weights=None)
    base.trainable = False
    frozen = [w.copy() for w in base.get_weights()]
    inputs = cr.layers.Input(SMALL)
    x = base(inputs, training=False)
    x = cr.layers.Dropout(0.2)(cr.layers.GlobalAveragePooling2D()(x))
    model = cr.Model(inputs, cr.layers.Dense(3, activation="softmax")(x))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", jit_compile=True)
    rng = np.random.default_rng(0)
    x_train = rng.uniform(0, 255, (8, 32, 32, 3)).astype("float32")
    y_train = rng.integers(0, 3, 8)
    head_before = model.layers[-1].get_weights()[0].copy()
    model.fit(x_train, y_train, batch_size=4, epochs=2, verbose=0)
    assert len(model.trainable_weights) == 2
    assert any(e.program is not None for e in model._steps.entries.values())
    for got, want in zip(base.get_weights(), frozen):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(model.layers[-1].get_weights()[0], head_before)


# -- EfficientNetV2 (B0 to B3, S, M, L) ---------------------------------------------------------

@pytest.mark.parametrize("case_id", ["efficientnetv2b0_notop", "efficientnetv2b0_top",
                                     "efficientnetv2b1_noprep"])
def test_efficientnet_v2_matches_keras(case_id):
    check_forward(case_id)


@pytest.mark.parametrize("builder", ["EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
                                     "EfficientNetV2S", "EfficientNetV2M", "EfficientNetV2L"])
def test_efficientnet_v2_deep_variants_have_keras_weights(builder):
    check_structure(builder)


def scaling_layers(model):
    return [la for la in model.layers
            if isinstance(la, (cr.layers.Rescaling, cr.layers.Normalization))]


def test_efficientnet_v2_preprocessing_layers():
    x = sample_input(SMALL)[:1]
    with ShapeOnlyScope():
        b0 = cr.applications.EfficientNetV2B0(include_top=False, weights=None)
        s = cr.applications.EfficientNetV2S(include_top=False, weights=None)
        bare = cr.applications.EfficientNetV2B0(include_top=False, weights=None,
                                                include_preprocessing=False)
    rescale, norm = scaling_layers(b0)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(cr.ops.convert_to_numpy(norm(rescale(x))),
                               (x / 255 - mean) / std, rtol=1e-5, atol=1e-5)
    assert norm.weights == []  # fixed statistics, as in Keras
    (rescale,) = scaling_layers(s)
    np.testing.assert_allclose(cr.ops.convert_to_numpy(rescale(x)), x / 128 - 1, rtol=1e-6)
    assert scaling_layers(bare) == []
    assert bare.layers[1].name == "stem_conv"


def test_efficientnet_v2_custom_name_keeps_its_variant(monkeypatch):
    """Keras looks the blocks up by the model's name (KeyError for another name); here the
    builder decides, and the ImageNet file is still named after the model, as in Keras."""
    calls = []

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        raise Fetched

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    with ShapeOnlyScope():
        named = cr.applications.EfficientNetV2B1(include_top=False, weights=None, name="mine")
    assert named.name == "mine"
    assert named.count_params() == REF["structures"]["EfficientNetV2B1"]["params"]
    assert len(scaling_layers(named)) == 2  # the B variants' scaling, whatever the name
    with ShapeOnlyScope(), pytest.raises(Fetched):
        cr.applications.EfficientNetV2S(weights="imagenet",
                                        input_tensor=cr.layers.Input((None, None, 3)))
    url = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
    assert calls == [("efficientnetv2-s.h5", url + "efficientnetv2-s.h5",
                      {"cache_subdir": "models",
                       "file_hash": "e1d88a8495beba45748fedd0cecbe016"})]


def test_efficientnet_v2_imagenet_weights_load(monkeypatch, tmp_path):
    reference = cr.applications.EfficientNetV2B0(input_shape=SMALL, include_top=False,
                                                 weights=None)
    path = str(tmp_path / "w.weights.npz")
    values = saved_weights(reference, path)
    calls = fake_download(monkeypatch, path)
    cr.backend.clear_session()
    model = cr.applications.EfficientNetV2B0(input_shape=SMALL, include_top=False,
                                             weights="imagenet")
    name = "efficientnetv2-b0_notop.h5"
    assert calls == [(name, "https://storage.googleapis.com/tensorflow/keras-applications/"
                            "efficientnet_v2/" + name,
                      {"cache_subdir": "models",
                       "file_hash": "893217f2bb855e2983157299931e43ff"})]
    for got, want in zip(model.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_efficientnet_v2_bad_arguments():
    with pytest.raises(ValueError, match="`classes` should be 1000. Received: classes=5"):
        cr.applications.EfficientNetV2B0(weights="imagenet", classes=5)
    with pytest.raises(ValueError, match="Input size must be at least 32x32"):
        cr.applications.EfficientNetV2S(input_shape=(8, 8, 3), include_top=False, weights=None)


def test_efficientnet_v2_module_api():
    from chainrule.applications import efficientnet_v2, imagenet_utils

    x = np.full((1, 2, 2, 3), 200.0, dtype="float32")
    assert efficientnet_v2.preprocess_input(x) is x
    assert efficientnet_v2.decode_predictions is imagenet_utils.decode_predictions


def test_efficientnet_v2_fine_tunes_through_the_captured_step():
    """The whole model trains (batch normalisation, drop-connect and all) by replay."""
    model = cr.applications.EfficientNetV2B0(input_shape=SMALL, weights=None, classes=3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", jit_compile=True)
    rng = np.random.default_rng(1)
    x_train = rng.uniform(0, 255, (4, 32, 32, 3)).astype("float32")
    y_train = rng.integers(0, 3, 4)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x_train, y_train, batch_size=2, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    after = model.get_weights()
    names = [w.path for w in model.weights]
    changed = {n for n, a, b in zip(names, after, before) if not np.array_equal(a, b)}
    assert "stem_conv/kernel" in changed and "block6h_se_expand/bias" in changed
    assert "top_bn/moving_mean" in changed


@pytest.mark.parametrize("builder", ["EfficientNetB0", "EfficientNetV2B0", "EfficientNetV2S"])
def test_channels_first_has_the_same_weights(builder):
    with ShapeOnlyScope():
        last = getattr(cr.applications, builder)(include_top=False, weights=None)
    cr.backend.clear_session()
    cr.backend.set_image_data_format("channels_first")
    try:
        with ShapeOnlyScope():
            first = getattr(cr.applications, builder)(include_top=False, weights=None)
    finally:
        cr.backend.set_image_data_format("channels_last")
    assert weight_list(first) == weight_list(last)
    assert first.output_shape == (None, last.output_shape[-1], None, None)
