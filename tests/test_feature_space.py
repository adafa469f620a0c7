"""keras.utils.FeatureSpace in chainrule: Keras's encodings, the keras-io example, config."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule import layers
from chainrule.utils import FeatureSpace

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "keras_feature_space")


@pytest.fixture(scope="module")
def ref():
    with np.load(FIX + ".npz") as z:
        arrays = {k: z[k] for k in z.files}
    with open(FIX + ".json") as f:
        meta = json.load(f)
    train = {k[len("train__"):]: v for k, v in arrays.items() if k.startswith("train__")}
    test = {k[len("test__"):]: v for k, v in arrays.items() if k.startswith("test__")}
    return arrays, meta, train, test


def concat_space() -> FeatureSpace:
    # the same space as tools/keras_feature_space_fixtures.py
    return FeatureSpace(
        features={
            "plain": FeatureSpace.float(),
            "scaled": FeatureSpace.float_rescaled(scale=0.1, offset=-1.0),
            "norm": FeatureSpace.float_normalized(),
            "disc": FeatureSpace.float_discretized(num_bins=6),
            "disc_default": "float_discretized",
            "int_cat": FeatureSpace.integer_categorical(max_tokens=5),
            "int_cat_noov": FeatureSpace.integer_categorical(num_oov_indices=0),
            "str_cat": FeatureSpace.string_categorical(),
            "int_hash": FeatureSpace.integer_hashed(num_bins=7),
            "str_hash": FeatureSpace.string_hashed(num_bins=9),
            "int_hash_default": "integer_hashed",
            "str_cat_default": "string_categorical",
        },
        crosses=[("int_cat", "str_cat"), FeatureSpace.cross(("disc", "str_hash"), 16)],
        crossing_dim=12, hashing_dim=10, num_discretization_bins=4, output_mode="concat")


def dict_space() -> FeatureSpace:
    return FeatureSpace(
        features={
            "norm": "float_normalized",
            "disc": FeatureSpace.float_discretized(num_bins=5, output_mode="int"),
            "int_cat": FeatureSpace.integer_categorical(output_mode="int"),
            "str_cat": FeatureSpace.string_categorical(num_oov_indices=2),
            "str_hash": FeatureSpace.string_hashed(num_bins=5, output_mode="int"),
            "scaled": "float_rescaled",
        },
        crosses=[FeatureSpace.cross(("int_cat", "str_cat"), crossing_dim=8, output_mode="int"),
                 ("disc", "str_hash")],
        crossing_dim=6, output_mode="dict")


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


def test_fixture_records_versions(ref):
    _, meta, _, _ = ref
    assert meta["keras"].startswith("3.") and meta["tensorflow"]


@pytest.mark.parametrize("split", ["train", "test"])
def test_concat_encoding_matches_keras(ref, split):
    arrays, _, train, test = ref
    fs = concat_space()
    fs.adapt({k: train[k] for k in fs.features})
    data = train if split == "train" else test
    out = fs({k: data[k] for k in fs.features})
    assert out.dtype == np.float32
    np.testing.assert_allclose(_np(out), arrays[f"concat__{split}"], rtol=1e-6, atol=1e-6)
    one = fs({k: test[k][0] for k in fs.features})  # one unbatched sample
    np.testing.assert_allclose(_np(one), arrays["concat__one"], rtol=1e-6, atol=1e-6)
    assert fs.get_encoded_features().shape == (None, arrays["concat__train"].shape[1])


@pytest.mark.parametrize("split", ["train", "test"])
def test_dict_encoding_matches_keras(ref, split):
    arrays, _, train, test = ref
    fs = dict_space()
    fs.adapt({k: train[k] for k in fs.features})
    data = train if split == "train" else test
    out = fs({k: data[k] for k in fs.features})
    prefix = f"dict__{split}__"
    expected = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
    assert list(out) == list(expected)  # sorted features, then sorted crosses
    for name, value in expected.items():
        got = _np(out[name])
        assert got.shape == value.shape, name
        if value.dtype.kind in "iu":
            np.testing.assert_array_equal(got, value, err_msg=name)
        else:
            np.testing.assert_allclose(got, value, rtol=1e-6, atol=1e-6, err_msg=name)


def test_adapt_on_batches_matches_adapt_on_a_dict(ref):
    arrays, _, train, _ = ref
    fs = concat_space()
    names = list(fs.features)
    # an iterable of (dict, labels) batches of 32 rows, as a batched dataset gives them
    batches = [({k: train[k][i:i + 32] for k in names}, np.zeros(32))
               for i in range(0, len(train["plain"]), 32)]
    fs.adapt(iter(batches))
    np.testing.assert_allclose(_np(fs({k: train[k] for k in names})), arrays["concat__train"],
                               rtol=1e-6, atol=1e-6)


def test_adapt_on_a_batch_dataset(ref):
    arrays, _, train, _ = ref
    fs = concat_space()
    names = list(fs.features)
    ds = cr.utils.BatchDataset.from_arrays({k: train[k] for k in names}, batch_size=32)
    fs.adapt(ds)
    np.testing.assert_allclose(_np(fs({k: train[k] for k in names})), arrays["concat__train"],
                               rtol=1e-6, atol=1e-6)


def test_reads_keras_config(ref):
    arrays, meta, train, _ = ref
    fs = FeatureSpace.from_config(meta["configs"]["dict"])
    assert [c.name for c in fs.crosses] == ["int_cat_X_str_cat", "disc_X_str_hash"]
    fs.adapt({k: train[k] for k in fs.features})
    out = fs({k: train[k] for k in fs.features})
    np.testing.assert_array_equal(_np(out["int_cat_X_str_cat"]),
                                  arrays["dict__train__int_cat_X_str_cat"])
    # the concat space's config: every helper, Keras's TFDIdentity for FeatureSpace.float()
    fs = FeatureSpace.from_config(meta["configs"]["concat"])
    assert isinstance(fs.preprocessors["plain"], layers.Identity)
    fs.adapt({k: train[k] for k in fs.features})
    np.testing.assert_allclose(_np(fs({k: train[k] for k in fs.features})),
                               arrays["concat__train"], rtol=1e-6, atol=1e-6)


def test_config_round_trip():
    fs = dict_space()
    config = fs.get_config()
    again = FeatureSpace.from_config(json.loads(json.dumps(config)))
    assert json.dumps(again.get_config()) == json.dumps(config)
    assert again.output_mode == "dict" and again.crossing_dim == 6
    assert isinstance(again.preprocessors["str_cat"], layers.StringLookup)


def test_no_adapt_needed_without_adaptable_features():
    fs = FeatureSpace({"a": "float", "b": FeatureSpace.float_rescaled(scale=2.0),
                       "h": FeatureSpace.string_hashed(num_bins=3)})
    out = _np(fs({"a": [1.0, 2.0], "b": [3.0, 4.0], "h": ["x", "y"]}))
    assert out.shape == (2, 5)
    np.testing.assert_allclose(out[:, :2], [[1.0, 6.0], [2.0, 8.0]])  # a, b in name order
    np.testing.assert_allclose(out[:, 2:].sum(axis=1), 1.0)


def test_keras_io_structured_data_example(tmp_path):
    """keras-io "Structured data classification with FeatureSpace", on a synthetic table."""
    rng = np.random.default_rng(0)
    n = 160
    table = {
        "age": rng.integers(29, 77, n).astype("float32"),
        "sex": rng.integers(0, 2, n), "cp": rng.integers(0, 5, n), "fbs": rng.integers(0, 2, n),
        "restecg": rng.integers(0, 3, n), "exang": rng.integers(0, 2, n),
        "ca": rng.integers(0, 4, n),
        "thal": rng.choice(["fixed", "normal", "reversible"], n),
        "trestbps": rng.normal(130, 17, n).astype("float32"),
        "chol": rng.normal(246, 51, n).astype("float32"),
        "thalach": rng.normal(150, 23, n).astype("float32"),
        "oldpeak": rng.exponential(1.0, n).astype("float32"),
        "slope": rng.integers(1, 4, n).astype("float32"),
    }
    target = ((table["age"] > 55) ^ (table["thal"] == "reversible")).astype("float32")
    cut = 128
    train = {k: v[:cut] for k, v in table.items()}
    val = {k: v[cut:] for k, v in table.items()}

    feature_space = FeatureSpace(
        features={
            "sex": FeatureSpace.integer_categorical(num_oov_indices=0),
            "cp": FeatureSpace.integer_categorical(num_oov_indices=0),
            "fbs": FeatureSpace.integer_categorical(num_oov_indices=0),
            "restecg": FeatureSpace.integer_categorical(num_oov_indices=0),
            "exang": FeatureSpace.integer_categorical(num_oov_indices=0),
            "ca": FeatureSpace.integer_categorical(num_oov_indices=0),
            "thal": FeatureSpace.string_categorical(num_oov_indices=0),
            "age": FeatureSpace.float_discretized(num_bins=30),
            "trestbps": FeatureSpace.float_normalized(),
            "chol": FeatureSpace.float_normalized(),
            "thalach": FeatureSpace.float_normalized(),
            "oldpeak": FeatureSpace.float_normalized(),
            "slope": FeatureSpace.float_normalized(),
        },
        crosses=[
            FeatureSpace.cross(feature_names=("sex", "age"), crossing_dim=64),
            FeatureSpace.cross(feature_names=("thal", "ca"), crossing_dim=16),
        ],
        output_mode="concat",
    )
    feature_space.adapt(train)
    preprocessed_x = feature_space({k: v[:32] for k, v in train.items()})
    dim = 2 + 5 + 2 + 3 + 2 + 4 + 3 + 30 + 5 + 64 + 16
    assert preprocessed_x.shape == (32, dim) and preprocessed_x.dtype == np.float32

    dict_inputs = feature_space.get_inputs()
    encoded_features = feature_space.get_encoded_features()
    x = layers.Dense(32, activation="relu")(encoded_features)
    x = layers.Dropout(0.5)(x)
    predictions = layers.Dense(1, activation="sigmoid")(x)
    training_model = cr.Model(inputs=encoded_features, outputs=predictions)
    training_model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    inference_model = cr.Model(inputs=dict_inputs, outputs=predictions)

    history = training_model.fit(feature_space(train), target[:cut], epochs=3, batch_size=32,
                                 validation_data=(feature_space(val), target[cut:]), verbose=0)
    assert len(history.history["val_loss"]) == 3
    assert np.isfinite(history.history["loss"]).all()

    sample = {"age": 60, "sex": 1, "cp": 1, "trestbps": 145, "chol": 233, "fbs": 1,
              "restecg": 2, "thalach": 150, "exang": 0, "oldpeak": 2.3, "slope": 3, "ca": 0,
              "thal": "fixed"}
    input_dict = {name: np.array([[value]]) for name, value in sample.items()}
    p = inference_model.predict(input_dict, verbose=0)
    assert p.shape == (1, 1) and 0.0 < p[0, 0] < 1.0
    # the end-to-end model and the space + training model agree
    direct = training_model.predict(_np(feature_space(sample))[None], verbose=0)
    np.testing.assert_allclose(p, direct, rtol=1e-5)
    batch = inference_model.predict({k: v[:, None] for k, v in val.items()}, verbose=0)
    np.testing.assert_allclose(batch, training_model.predict(_np(feature_space(val)), verbose=0),
                               rtol=1e-5, atol=1e-6)

    # the inference model (with the space's preprocessing layers) saves and loads
    path = str(tmp_path / "inference.keras")
    inference_model.save(path)
    reloaded = cr.models.load_model(path)
    np.testing.assert_allclose(reloaded.predict(input_dict, verbose=0), p, rtol=1e-6)
    # so does the training model, whose input is the encoded features (as in Keras)
    path = str(tmp_path / "training.keras")
    training_model.save(path)
    encoded_val = _np(feature_space(val))
    np.testing.assert_allclose(cr.models.load_model(path).predict(encoded_val, verbose=0),
                               training_model.predict(encoded_val, verbose=0), rtol=1e-6)


def test_training_model_on_encoded_features_replays():
    fs = FeatureSpace({"x": "float_normalized", "c": "string_categorical"})
    rng = np.random.default_rng(1)
    data = {"x": rng.normal(size=64), "c": rng.choice(["a", "b", "c"], 64)}
    fs.adapt(data)
    out = layers.Dense(1)(fs.get_encoded_features())
    model = cr.Model(fs.get_encoded_features(), out)
    model.compile("sgd", "mse", jit_compile=True)
    model.fit(_np(fs(data)), rng.normal(size=(64, 1)), epochs=2, batch_size=16, verbose=0)
    assert any(e.program is not None for e in model._steps.entries.values())


def test_model_whose_input_is_an_intermediate_tensor():
    """Keras 3 cuts the graph at a model's inputs: the layers before them are not run."""
    a = layers.Input((3,), name="a")
    mid = layers.Dense(4, name="before")(a)
    out = layers.Dense(2, name="after")(layers.Activation("relu")(mid))
    head = cr.Model(mid, out)
    assert [la.name for la in head.layers if la.name in ("before", "after")] == ["after"]
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    full = cr.Model(a, out)
    w, b = full.get_layer("after").get_weights()
    np.testing.assert_allclose(head.predict(x, verbose=0), np.maximum(x, 0) @ w + b, rtol=1e-5)
    layers_drawn, _ = cr.utils.model_visualization.model_graph(head)
    assert "before" not in [la.name for la in layers_drawn]
    # its config writes the cut input as an InputLayer "<name>CLONE", as Keras 3 does
    config = head.get_config()
    assert config["input_layers"] == [["beforeCLONE", 0, 0]]
    again = cr.Model.from_config(config)
    again.set_weights(head.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0), head.predict(x, verbose=0))


def test_own_preprocessors_match_keras(ref):
    """FeatureSpace.feature with TF-IDF TextVectorization and a preset Normalization."""
    arrays, _, _, _ = ref
    texts = ["1st string", "2nd string", "3rd string", "a longer string here", "string string"]
    preset = layers.Normalization(mean=2.0, variance=4.0)
    fs = FeatureSpace(
        features={
            "text": FeatureSpace.feature(
                preprocessor=layers.TextVectorization(output_mode="tf_idf"),
                dtype="string", output_mode="float"),
            "preset": FeatureSpace.feature(preprocessor=preset, dtype="float32",
                                           output_mode="float"),
        },
        output_mode="dict")
    assert fs._list_adaptable_preprocessors() == ["text"]  # preset statistics are kept
    data = {"text": np.array(texts), "preset": np.arange(5, dtype="float32")}
    fs.adapt(data)
    out = fs(data)
    np.testing.assert_allclose(_np(out["text"]), arrays["custom__text"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_np(out["preset"]), arrays["custom__preset"], rtol=1e-6)


def test_call_on_tensors_lists_and_scalars():
    fs = FeatureSpace({"x": "float_normalized", "i": "integer_categorical"}, output_mode="dict")
    fs.adapt({"x": [1.0, 2.0, 3.0], "i": [1, 2, 2]})
    out = fs({"x": cr.ops.convert_to_tensor(np.array([1.0, 2.0])),
              "i": cr.ops.convert_to_tensor(np.array([1, 5]))})
    assert out["x"].dtype == np.float32  # float64 data: the feature's float32, as in Keras
    np.testing.assert_allclose(_np(out["x"])[:, 0], [-np.sqrt(1.5), 0.0], rtol=1e-6)
    # vocabulary by frequency: [UNK], 2, 1; 5 is out of vocabulary
    np.testing.assert_array_equal(_np(out["i"]), [[0, 0, 1], [1, 0, 0]])
    one = fs({"x": 2.0, "i": 2})  # one unbatched sample: no batch axis
    assert one["x"].shape == (1,) and one["i"].shape == (3,)
    np.testing.assert_array_equal(_np(one["i"]), [0, 1, 0])
