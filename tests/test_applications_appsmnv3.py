"""chainrule.applications' MobileNetV3, ConvNeXt and NASNet against Keras 3: layer and
weight names, order and shapes, and outputs with every weight set by a formula
(tools/keras_applications_appsmnv3_fixtures.py wrote the reference)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings

import numpy as np
import pytest
from applications_reference import fill_weights, weight_list, write_keras_h5

import chainrule as cr

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures",
                       "keras_applications_appsmnv3.json")
with open(FIXTURE, encoding="utf-8") as _f:
    REF = json.load(_f)


def sample_input(kwargs):
    shape = tuple(kwargs["input_shape"])
    size = 2 * int(np.prod(shape))
    x = (2.0 * np.cos(np.arange(size) * 0.11)).reshape((2,) + shape).astype("float32")
    if kwargs.get("include_preprocessing", True):  # the model rescales pixels itself
        x = x * 60.0 + 127.5
    return x


def expand_paths(case):
    """The case's weight paths: the tool stores them as an earlier case's (its model name
    replaced) plus the rest."""
    if "paths_from" not in case:
        return list(case["paths"])
    other = REF["cases"][case["paths_from"]]
    return [p.replace(other["name"], case["name"]) for p in expand_paths(other)] + case["paths"]


def keras_weights(case):
    """Keras's (path, shape) list. Keras's LayerScale weight has no name, so its path ends
    with the session's next default name (``variable_17``); chainrule's is ``gamma``."""
    return [(re.sub(r"_layer_scale/variable(_\d+)?$", "_layer_scale/gamma", p), s)
            for p, s in zip(expand_paths(case), case["shapes"])]


def build(case, weights=None):
    kwargs = dict(case["kwargs"])
    kwargs["input_shape"] = tuple(kwargs["input_shape"])
    cr.utils.clear_session()  # default names start afresh, as in the tool
    return getattr(cr.applications, case["builder"])(weights=weights, **kwargs)


def check_outputs(model, case):
    y = np.asarray(model.predict(sample_input(case["kwargs"]), verbose=0), dtype="float64")
    assert list(y.shape) == case["output_shape"]
    np.testing.assert_allclose(y.ravel()[::case["stride"]], case["output"], rtol=1e-4,
                               atol=1e-4 * max(1e-3, float(np.abs(case["output"]).max())))
    np.testing.assert_allclose(y.sum(), case["output_sum"], rtol=1e-4,
                               atol=1e-5 * case["output_abs_sum"])
    np.testing.assert_allclose(np.abs(y).sum(), case["output_abs_sum"], rtol=1e-4)


LOADED = ["convnext_tiny_notop", "convnext_tiny_top"]  # checked through a weights file
RUN = sorted(k for k, c in REF["cases"].items() if "output" in c and k not in LOADED)
SHAPES_ONLY = sorted(k for k, c in REF["cases"].items() if "output" not in c)


@pytest.mark.parametrize("case_id", RUN)
def test_matches_keras(case_id):
    case = REF["cases"][case_id]
    model = build(case)
    assert model.name == case["name"]
    expected = keras_weights(case)
    assert weight_list(model) == expected
    model.set_weights(fill_weights(expected))
    check_outputs(model, case)


@pytest.mark.parametrize("case_id", SHAPES_ONLY)
def test_weights_match_keras_without_allocating(case_id):
    """The big variants: names, order and shapes, built in a ShapeOnlyScope (no values).
    The tool stores the paths of the biggest as their sha256."""
    case = REF["cases"][case_id]
    with cr.layers.ShapeOnlyScope():
        model = build(case)
        assert model.name == case["name"]
        if "paths_sha256" in case:
            paths = [p for p, _ in weight_list(model)]
            assert paths[:3] == case["first_paths"]
            assert [s for _, s in weight_list(model)] == case["shapes"]
            digest = hashlib.sha256("\n".join(paths).encode()).hexdigest()
            assert digest == case["paths_sha256"]
        else:
            assert weight_list(model) == keras_weights(case)
        if case["builder"].startswith("ConvNeXt"):
            normalizes = "Normalization" in [type(la).__name__ for la in model.layers]
            assert normalizes == case["kwargs"].get("include_preprocessing", True)


# -- weights files ------------------------------------------------------------------------------


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
    y = plain.predict(np.zeros((1, 64, 96, 3), "float32"), verbose=0)  # any size
    assert y.shape == (1, 2, 3, 576)


@pytest.mark.parametrize("family", ["mobilenet_v3", "convnext", "nasnet"])
def test_family_preprocess_and_decode(family, monkeypatch, tmp_path):
    from chainrule.applications import imagenet_utils

    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(cr.utils, "get_file", lambda *args, **kwargs: str(path))
    module = getattr(cr.applications, family)
    preds = np.eye(1000, dtype="float32")[[7]]
    out = module.decode_predictions(preds, top=2)
    assert out[0][0] == ("n00000007", "class_7", 1.0) and len(out[0]) == 2
    x = np.full((1, 2, 2, 3), 255.0, "float32")
    if family == "nasnet":  # "tf" mode: [0, 255] to [-1, 1]
        np.testing.assert_array_equal(module.preprocess_input(x.copy()), np.ones_like(x))
    else:  # the models scale their input themselves: a pass-through, as in Keras
        assert module.preprocess_input(x) is x


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


# -- ConvNeXt -----------------------------------------------------------------------------------

def test_convnext_configs_are_keras():
    """Large and XLarge are Base's blocks with other widths (Base is checked above)."""
    from chainrule.applications import convnext

    assert convnext.MODEL_CONFIGS == REF["convnext_configs"]


CONVNEXT = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"


def test_weight_file_hashes_are_keras():
    from chainrule.applications import convnext, mobilenet_v3

    assert {k: list(v) for k, v in convnext.WEIGHTS_HASHES.items()} == REF["convnext_hashes"]
    assert {k: list(v) for k, v in mobilenet_v3.WEIGHTS_HASHES.items()} == REF["mnv3_hashes"]


def write_h5_from_keras_list(path, weights, values):
    """tf.keras's weights-only layout from Keras's (path, shape) list: one group per
    top-level layer (a nested model's group holds its layers' weights)."""
    h5py = pytest.importorskip("h5py")
    groups = {}
    for (wpath, _), value in zip(weights, values):
        top, _, rest = wpath.partition("/")
        name = rest if "/" in rest else wpath  # "<layer>/<weight>" within its group
        groups.setdefault(top, []).append((name + ":0", value))
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode() for name in groups]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.9.0"
        for top, datasets in groups.items():
            group = f.create_group(top)
            for name, value in datasets:
                group.create_dataset(name, data=value)
            group.attrs["weight_names"] = [name.encode() for name, _ in datasets]


def test_convnext_tiny_loads_a_keras_layout_file_and_matches_keras(tmp_path):
    """One ConvNeXtTiny for three checks: the weights file (tf.keras's layout, written here
    from Keras's weight list, with the stem and downsampling blocks as nested models)
    loads; the model gives Keras's output; and its head's layer norm gives the no-top
    model's (the formula gives both models the same weights up to there)."""
    case, notop = REF["cases"]["convnext_tiny_top"], REF["cases"]["convnext_tiny_notop"]
    expected = keras_weights(case)
    path = str(tmp_path / "w.h5")
    write_h5_from_keras_list(path, expected, fill_weights(expected))
    model = build(case, weights=path)
    assert weight_list(model) == expected
    check_outputs(model, case)
    n = len(notop["shapes"])
    assert [w[1] for w in expected[:n]] == notop["shapes"]
    assert notop["kwargs"]["pooling"] == "avg"
    features = cr.Model(model.inputs, model.get_layer("convnext_tiny_head_layernorm").output)
    check_outputs(features, notop)


def test_convnext_imagenet_asks_for_keras_file(monkeypatch):
    """Keras's file name (after the model's name), address and sha256."""
    calls = []

    class Fetched(Exception):
        pass

    def fake_get_file(fname, origin, **kwargs):
        calls.append((fname, origin, kwargs))
        raise Fetched

    monkeypatch.setattr(cr.utils, "get_file", fake_get_file)
    with cr.layers.ShapeOnlyScope(), pytest.raises(Fetched):
        cr.applications.ConvNeXtTiny(include_top=False, weights="imagenet",
                                     input_shape=(32, 32, 3), name="my_convnext_tiny")
    fname = "my_convnext_tiny_notop.h5"
    sha256 = "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"
    assert calls == [(fname, CONVNEXT + fname, {"cache_subdir": "models", "file_hash": sha256})]


def test_nested_sequential_takes_images_of_any_size():
    """ConvNeXt's stem, a Sequential with a 4x4 stride-4 convolution, on Input((None, None,
    3)): the symbolic call answers from the stack's shapes, not a dry run on 1x1 images."""
    inputs = cr.layers.Input((None, None, 3))
    stem = cr.Sequential([cr.layers.Conv2D(5, 4, strides=4, name="c"),
                          cr.layers.LayerNormalization(name="n")], name="stem")
    model = cr.Model(inputs, cr.layers.GlobalAveragePooling2D()(stem(inputs)))
    assert stem.output_shape == (None, None, None, 5) and model.output_shape == (None, 5)
    for size in (8, 12):
        x = np.random.default_rng(size).normal(size=(2, size, size, 3)).astype("float32")
        np.testing.assert_allclose(model.predict(x, verbose=0),
                                   stem.predict(x, verbose=0).mean(axis=(1, 2)), rtol=1e-5,
                                   atol=1e-6)


def test_convnext_errors():
    with pytest.raises(ValueError, match=r'Model name "mine" does not match weights variant '
                                         r'"convnext_tiny".*Received: name=mine'):
        cr.applications.ConvNeXtTiny(weights="imagenet", name="mine")
    cr.backend.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match=r"does not support the `channels_first`.*"
                                             r"Received: image_data_format=channels_first"):
            cr.applications.ConvNeXtTiny(weights=None)
    finally:
        cr.backend.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match=r"StochasticDepth: drop_path_rate must be a number in "
                                         r"\[0, 1\)\. Received: drop_path_rate=1\.0"):
        cr.applications.convnext.StochasticDepth(1.0)


def test_stochastic_depth_drops_whole_samples_while_training():
    from chainrule.applications.convnext import StochasticDepth

    cr.utils.set_random_seed(1)
    layer = StochasticDepth(0.5, name="sd")
    x = np.ones((64, 3, 2), "float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: unchanged
    y = layer(x, training=True).numpy()
    per_sample = y.reshape(64, -1)
    assert set(np.unique(per_sample)) <= {0.0, 2.0}
    assert np.all(per_sample.min(axis=1) == per_sample.max(axis=1))  # one draw per sample
    assert 10 < (per_sample[:, 0] == 0).sum() < 54
    config = layer.get_config()
    assert config["drop_path_rate"] == 0.5 and config["name"] == "sd"
    assert StochasticDepth.from_config(config).drop_path_rate == 0.5


def test_layer_scale_and_stochastic_depth_train_replay_and_save(tmp_path):
    from chainrule.applications.convnext import LayerScale, StochasticDepth

    inputs = cr.layers.Input((4,))
    h = cr.layers.Dense(4, name="d")(inputs)
    h = LayerScale(0.5, 4, name="scale")(h)
    outputs = cr.layers.Dense(1, name="out")(inputs + StochasticDepth(0.3, name="drop")(h))
    model = cr.Model(inputs, outputs)
    assert model.get_layer("scale").weights[0].path == "scale/gamma"
    np.testing.assert_array_equal(model.get_layer("scale").get_weights()[0], np.full(4, 0.5))
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())
    assert not np.allclose(model.get_layer("scale").get_weights()[0], 0.5)  # gamma trains
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = cr.models.load_model(path)
    assert loaded.get_layer("scale").get_config() == model.get_layer("scale").get_config()
    assert loaded.get_layer("drop").get_config()["drop_path_rate"] == 0.3
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# -- NASNet -------------------------------------------------------------------------------------

NASNET = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"


def test_nasnet_files_are_keras():
    """Keras's names, addresses and md5s of the four files (read from Keras's source)."""
    from chainrule.applications import nasnet

    assert nasnet._FILES == {
        (224, True): ("nasnet_mobile.h5", NASNET + "NASNet-mobile.h5",
                      "020fb642bf7360b370c678b08e0adf61"),
        (224, False): ("nasnet_mobile_no_top.h5", NASNET + "NASNet-mobile-no-top.h5",
                       "1ed92395b5b598bdda52abe5c0dbfd63"),
        (331, True): ("nasnet_large.h5", NASNET + "NASNet-large.h5",
                      "11577c9a518f0070763c2b964a382f17"),
        (331, False): ("nasnet_large_no_top.h5", NASNET + "NASNet-large-no-top.h5",
                       "d81d89dc07e6e56530c4e77faddd61b5"),
    }


def test_nasnet_mobile_imagenet_weights_load_keras_file(monkeypatch, tmp_path):
    def build_it(weights):
        return cr.applications.NASNetMobile(input_shape=(32, 32, 3), include_top=False,
                                            weights=weights)

    check_imagenet_download(monkeypatch, tmp_path, build_it,
                            ("nasnet_mobile_no_top.h5", NASNET + "NASNet-mobile-no-top.h5",
                             "1ed92395b5b598bdda52abe5c0dbfd63"))


def test_nasnet_arguments(monkeypatch):
    with pytest.raises(ValueError, match=r"must be static \(no None entries\)\. "
                                         r"Received: input_shape=\(None, None, 3\)"):
        cr.applications.NASNetLarge(input_shape=(None, None, 3), include_top=False)
    cr.backend.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match=r"NASNet does not support the `channels_first`"):
            cr.applications.NASNetMobile(weights=None)
    finally:
        cr.backend.set_image_data_format("channels_last")
    from chainrule.applications import nasnet

    seen = {}
    monkeypatch.setattr(nasnet, "_nasnet", lambda input_shape, **kwargs: seen.update(
        input_shape=input_shape, **kwargs))
    nasnet.NASNetMobile(include_top=False, weights=None)  # no top, no shape: 224, as Keras
    assert seen["input_shape"] == (224, 224, 3) and seen["default_size"] == 224
    nasnet.NASNetLarge(include_top=False, weights=None)
    assert seen["input_shape"] is None and seen["skip_reduction"] is True


def test_a_saved_convnext_layer_loads_in_a_fresh_process(tmp_path):
    # LayerScale and StochasticDepth register when chainrule.applications.convnext is
    # imported; a process that only loads the file finds them all the same
    import subprocess
    import sys

    from chainrule.applications import convnext

    x = cr.layers.Input((4,))
    h = convnext.StochasticDepth(0.1)(convnext.LayerScale(1e-6, 4)(cr.layers.Dense(4)(x)))
    cr.Model(x, h).save(tmp_path / "ls.keras")
    code = ("import chainrule as cr, sys; m = cr.saving.load_model(sys.argv[1]); "
            "print(' '.join(type(la).__name__ for la in m.layers))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ls.keras")], cwd=root,
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": root})
    assert out.stdout.split() == ["InputLayer", "Dense", "LayerScale", "StochasticDepth"], out.stderr
