"""Preprocessing layers: independent NumPy checks, gradients, saving, capture and errors.

Parity with Keras on recorded outputs is in tests/test_preprocessing_keras.py.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.gradcheck import check_gradients
from chainrule.layers.preprocessing import _ops
from chainrule.ops import _image_ops

L = cr.layers
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _fresh():
    cr.utils.clear_session()
    cr.utils.set_random_seed(0)


def programs(model, mode="train"):
    return [e.program for k, e in model._steps.entries.items() if k[0] == mode
            and e.program is not None]


# -- Normalization ------------------------------------------------------------------------------


def test_normalization_is_the_standard_score_of_numpy():
    x = RNG.normal(5, 3, size=(50, 4))
    layer = L.Normalization()
    layer.adapt(x)
    np.testing.assert_allclose(layer(x).numpy(), (x - x.mean(0)) / x.std(0), rtol=1e-4,
                               atol=1e-5)
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert not layer.trainable_weights


def test_normalization_batches_combine_to_the_full_statistics():
    x = RNG.normal(size=(90, 2, 3))
    layer = L.Normalization(axis=(1, 2))
    layer.adapt(x[i:i + 20] for i in range(0, 90, 20))
    np.testing.assert_allclose(layer.mean.numpy(), x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.variance.numpy(), x.var(0), rtol=1e-4)
    arr = L.Normalization()
    arr.adapt(x[:, 0], batch_size=7, steps=5)  # an array read in 5 batches of 7 rows
    np.testing.assert_allclose(arr.mean.numpy(), x[:35, 0].mean(0), rtol=1e-5)


def test_normalization_uses_epsilon_for_zero_variance_and_inverts():
    layer = L.Normalization(mean=2.0, variance=0.0)
    np.testing.assert_allclose(layer(np.array([[2.0, 3.0]])).numpy(), [[0.0, 1e7]], rtol=1e-5)
    inv = L.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(inv(np.array([[1.0, 1.0]])).numpy(), [[3.0, 5.0]])


def test_normalization_trains_captured_and_saves_its_statistics(tmp_path):
    x = RNG.normal(10, 4, size=(64, 3)).astype("float32")
    y = (x[:, :1] > 10).astype("float32")
    norm = L.Normalization()
    norm.adapt(x)
    model = cr.Sequential([L.Input(shape=(3,)), norm, L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", jit_compile=True)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert programs(model)
    path = str(tmp_path / "norm.keras")
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(loaded.layers[0].mean.numpy(), norm.mean.numpy())
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_normalization_adapt_after_capture_is_used_by_the_next_step():
    x = RNG.normal(size=(32, 2)).astype("float32")
    norm = L.Normalization()
    norm.adapt(x)
    model = cr.Sequential([L.Input(shape=(2,)), norm])
    for _ in range(3):
        model.predict(x, verbose=0)
    norm.adapt(x * 10 + 5)
    np.testing.assert_allclose(model.predict(x * 10 + 5, verbose=0), (x - x.mean(0)) / x.std(0),
                               rtol=1e-3, atol=1e-4)


# -- Discretization, CategoryEncoding, Hashing ----------------------------------------------------


def test_discretization_buckets_like_numpy_digitize():
    b = [-1.0, 0.0, 2.5]
    x = RNG.normal(size=(6, 5)).astype("float32")
    np.testing.assert_array_equal(L.Discretization(bin_boundaries=b)(x).numpy(),
                                  np.digitize(x, b))
    counts = L.Discretization(bin_boundaries=b, output_mode="count")(x).numpy()
    assert counts.shape == (6, 4)
    np.testing.assert_array_equal(counts.sum(1), np.full(6, 5))


def test_discretization_quantiles_split_uniform_data_evenly():
    x = np.linspace(0, 1, 10001)
    layer = L.Discretization(num_bins=4, epsilon=0.001)
    layer.adapt(x)
    np.testing.assert_allclose(layer.bin_boundaries, [0.25, 0.5, 0.75], atol=2e-3)
    layer2 = L.Discretization.from_config(layer.get_config())
    assert layer2.bin_boundaries == layer.bin_boundaries


def test_category_encoding_counts_like_bincount():
    x = RNG.integers(0, 5, size=(8, 6))
    out = L.CategoryEncoding(5, "count")(x).numpy()
    np.testing.assert_array_equal(out, np.stack([np.bincount(r, minlength=5) for r in x]))
    np.testing.assert_array_equal(L.CategoryEncoding(5)(x).numpy(), (out > 0).astype("float32"))


def test_hashing_mask_goes_to_zero_and_others_above():
    x = np.array([["a"], ["b"], [""], ["a"]])
    out = L.Hashing(4, mask_value="")(x).numpy()
    assert out[2, 0] == 0 and (np.delete(out, 2) >= 1).all() and out[0, 0] == out[3, 0]
    one = L.Hashing(4, output_mode="one_hot")(x).numpy()
    assert one.shape == (4, 4) and (one.sum(1) == 1).all()


# -- lookups --------------------------------------------------------------------------------------


def test_lookup_orders_by_count_then_greater_token_first():
    layer = L.StringLookup()
    layer.adapt(np.array(["b", "a", "c", "a", "b", "d"]))
    assert layer.get_vocabulary() == ["[UNK]", "b", "a", "d", "c"]
    ints = L.IntegerLookup(max_tokens=4)
    ints.adapt(np.array([5, 3, 3, 9, 9, 1, 2]))
    assert ints.get_vocabulary() == [-1, 9, 3, 5]
    assert ints.vocabulary_size() == 4


def test_lookup_set_vocabulary_special_tokens_and_invert_round_trip():
    layer = L.StringLookup(mask_token="", vocabulary=["", "[UNK]", "x", "y"])
    assert layer.get_vocabulary() == ["", "[UNK]", "x", "y"]
    ids = layer(np.array([["y", "", "q"]])).numpy()
    np.testing.assert_array_equal(ids, [[3, 0, 1]])
    inv = L.StringLookup(mask_token="", vocabulary=["x", "y"], invert=True)
    assert inv(ids).numpy().tolist() == [["y", "", "[UNK]"]]
    layer.set_vocabulary(["p", "q"])
    np.testing.assert_array_equal(layer(np.array(["q"])).numpy(), [3])


def test_lookup_several_oov_buckets_hash_strings_and_floormod_integers():
    s = L.StringLookup(vocabulary=["a"], num_oov_indices=4)
    out = s(np.array(["zz", "yy", "a"])).numpy()
    assert out[2] == 4 and (out[:2] < 4).all()
    expected = [_ops.string_buckets(np.array([w]), 4)[0] for w in ("zz", "yy")]
    np.testing.assert_array_equal(out[:2], expected)
    i = L.IntegerLookup(vocabulary=[100], num_oov_indices=3)
    np.testing.assert_array_equal(i(np.array([7, 8, 100])).numpy(), [1, 2, 3])


def test_text_vectorization_pipeline_and_ngrams_by_hand():
    layer = L.TextVectorization(ngrams=(1, 3), output_mode="count")
    docs = layer.tokenize(np.array(["Hello, World! hello a"]))
    assert docs == [["hello", "world", "hello", "a", "hello world hello", "world hello a"]]
    layer.adapt(["Hello, World! hello a"])
    assert layer.get_vocabulary()[:2] == ["[UNK]", "hello"]
    out = layer(np.array(["hello hello x"])).numpy()
    assert out[0, 1] == 2 and out[0, 0] == 2  # 'x' and the 3-gram are unknown
    chars = L.TextVectorization(split="character", standardize=None)
    chars.adapt(["abba"])
    assert chars.get_vocabulary() == ["", "[UNK]", "b", "a"]


def test_text_vectorization_with_callables_and_sequence_length():
    def keep_upper(x):
        return np.char.upper(x)

    layer = L.TextVectorization(standardize=keep_upper, split=lambda t: [s.split("-") for s in t],
                                output_sequence_length=3)
    layer.adapt(["a-b-b", "c"])
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "C", "A"]
    np.testing.assert_array_equal(layer(np.array(["b-a-c-b", "z"])).numpy(),
                                  [[2, 4, 3], [1, 0, 0]])


@pytest.mark.parametrize("make", [
    lambda: L.StringLookup(output_mode="multi_hot"),
    lambda: L.TextVectorization(output_mode="tf_idf", max_tokens=6),
    lambda: L.TextVectorization(output_sequence_length=4),
])
def test_text_models_fit_captured_and_save(make, tmp_path):
    layer = make()
    text = np.array(["the cat", "a dog", "the dog", "a cat"] * 8)
    x = text if isinstance(layer, L.TextVectorization) else np.array([t.split()[0] for t in text])
    layer.adapt(x)
    inp = L.Input(shape=(1,), dtype="string")
    feats = layer(inp)
    if isinstance(layer, L.TextVectorization) and layer.output_mode == "int":
        feats = L.CategoryEncoding(layer.vocabulary_size(), "count")(feats)
    model = cr.Model(inp, L.Dense(1, activation="sigmoid")(feats))
    model.compile("adam", "binary_crossentropy", jit_compile=True)
    y = np.array([1, 0, 0, 1] * 8, dtype="float32")
    x = x[:, None]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert programs(model)
    path = str(tmp_path / "text.keras")
    model.save(path)
    loaded = cr.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_numeric_models_still_refuse_strings():
    model = cr.Sequential([L.Dense(2, input_dim=3)])
    model.compile("sgd", "mse")
    with pytest.raises(TypeError, match=r"x must contain numbers"):
        model.predict(np.array([["a", "b", "c"]]), verbose=0)


# -- images ----------------------------------------------------------------------------------------


def test_resizing_bilinear_by_hand_and_center_crop():
    img = np.arange(16.0, dtype="float32").reshape(1, 4, 4, 1)
    half = L.Resizing(2, 2)(img).numpy()[0, :, :, 0]
    np.testing.assert_allclose(half, [[2.5, 4.5], [10.5, 12.5]])  # the mean of each 2x2 block
    same = L.Resizing(4, 4)(img).numpy()
    np.testing.assert_array_equal(same, img)
    crop = L.CenterCrop(2, 3)(img[0]).numpy()  # an unbatched image
    np.testing.assert_array_equal(crop[:, :, 0], img[0, 1:3, 0:3, 0])


def test_warp_identity_and_integer_shift():
    img = RNG.uniform(size=(2, 5, 4, 3)).astype("float32")
    ident = _image_ops.warp(img, [1, 0, 0, 0, 1, 0, 0, 0]).numpy()
    np.testing.assert_array_equal(ident, img)
    shifted = _image_ops.warp(img, [1, 0, 0, 0, 1, 2, 0, 0], fill_mode="constant", fill_value=-1).numpy()
    np.testing.assert_array_equal(shifted[:, :3], img[:, 2:])
    assert (shifted[:, 3:] == -1).all()


@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
@pytest.mark.parametrize("fill", ["reflect", "wrap", "constant", "nearest"])
def test_warp_gradient(interp, fill):
    img = RNG.uniform(size=(2, 4, 5, 2))
    m = [[0.9, -0.3, 1.1, 0.3, 0.9, -0.6, 0, 0], [1.3, 0.1, -1.3, 0, 0.7, 0.8, 0, 0]]
    r = check_gradients(lambda x: _image_ops.warp(x, m, None, interp, fill, 2.0), img)
    assert r.ok, str(r)


def test_resize_gradient():
    img = RNG.uniform(size=(1, 4, 5, 2))
    for h, w in ((7, 3), (2, 2)):
        assert check_gradients(lambda x, h=h, w=w: _image_ops.resize_images(x, h, w), img).ok


class _Fixed:
    """A generator stand-in whose draws repeat, so a gradient check sees one function."""

    def uniform(self, low=0.0, high=1.0, size=None):
        return np.random.default_rng(3).uniform(low, high, size)


@pytest.mark.parametrize("make", [
    lambda: _image_ops.RandomFlipOp(True, True, _Fixed()),
    lambda: _image_ops.RandomContrastOp(0.3, 0.6, (0.0, 1.0), _Fixed()),
    lambda: _image_ops.RandomBrightnessOp(-0.2, 0.2, (0.0, 1.0), _Fixed()),
    lambda: _image_ops.RandomWarp(L.RandomRotation(0.2).draw, "bilinear", "reflect", 0.0, _Fixed()),
])
def test_random_image_op_gradients(make):
    img = RNG.uniform(0.2, 0.8, size=(3, 4, 5, 2))
    assert check_gradients(lambda x: make()(x), img).ok


def test_random_flip_flips_whole_images_and_keeps_values():
    img = RNG.uniform(size=(16, 3, 4, 1)).astype("float32")
    out = L.RandomFlip("horizontal", seed=1)(img, training=True).numpy()
    for a, b in zip(out, img):
        assert np.array_equal(a, b) or np.array_equal(a, b[:, ::-1])
    assert not np.array_equal(out, img)
    np.testing.assert_array_equal(L.RandomFlip()(img, training=False).numpy(), img)


def test_random_contrast_brightness_stay_in_range_and_rotation_by_half_turn():
    img = RNG.uniform(0, 255, size=(4, 6, 6, 3)).astype("float32")
    out = L.RandomContrast(0.9, seed=0)(img).numpy()
    assert out.min() >= 0 and out.max() <= 255
    out = L.RandomBrightness((0.5, 0.5), value_range=(0, 255))(img).numpy()
    np.testing.assert_allclose(out, np.minimum(img + 127.5, 255), rtol=1e-6)
    rot = L.RandomRotation((0.5, 0.5), fill_mode="constant")(img).numpy()
    np.testing.assert_allclose(rot, img[:, ::-1, ::-1], atol=1e-3)  # 180 degrees


def test_zoom_and_translation_by_hand():
    img = RNG.uniform(size=(2, 5, 5, 1)).astype("float32")
    z = L.RandomZoom((-0.5, -0.5), fill_mode="constant", interpolation="nearest")(img).numpy()
    # zoom factor 0.5 (in): output pixel x reads 0.5 x + 1 about the centre
    np.testing.assert_array_equal(z[:, 2, 2], img[:, 2, 2])
    np.testing.assert_array_equal(z[:, 0, 0], img[:, 1, 1])
    t = L.RandomTranslation((0.2, 0.2), (0.0, 0.0), fill_mode="constant")(img).numpy()
    np.testing.assert_allclose(t[:, 1:], img[:, :4], rtol=1e-6)  # down by 0.2 * 5 = 1 pixel
    assert (t[:, 0] == 0).all()


def test_augmentation_replays_fresh_draws_and_is_identity_in_predict():
    x = RNG.uniform(0, 1, size=(32, 6, 6, 1)).astype("float32")
    y = RNG.integers(0, 2, size=32)
    model = cr.Sequential([L.Input(shape=(6, 6, 1)), L.RandomFlip(), L.RandomRotation(0.1),
                           L.RandomZoom(0.1), L.RandomTranslation(0.1, 0.1),
                           L.RandomContrast(0.2), L.RandomBrightness(0.1, value_range=(0, 1)),
                           L.Flatten(), L.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", jit_compile=True)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert programs(model)
    flat = L.Flatten()(x).numpy()
    w, b = model.layers[-1].get_weights()
    expected = np.exp(flat @ w + b)
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5)


def test_augmentation_captured_matches_the_tape():
    def run(jit):
        cr.utils.clear_session()
        cr.utils.set_random_seed(0)
        x = np.random.default_rng(1).uniform(size=(16, 5, 5, 1)).astype("float32")
        y = np.arange(16) % 2
        model = cr.Sequential([L.Input(shape=(5, 5, 1)), L.RandomFlip(),
                               L.RandomRotation(0.2), L.Flatten(), L.Dense(2)])
        model.compile("sgd", cr.losses.SparseCategoricalCrossentropy(from_logits=True),
                      jit_compile=jit)
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
        return model

    fast, slow = run("auto"), run(False)
    assert programs(fast) and not slow._steps.entries
    for a, b in zip(fast.get_weights(), slow.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- configs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [
    L.Normalization(axis=(1,), invert=True), L.Discretization(bin_boundaries=[0.0, 1.0]),
    L.CategoryEncoding(3, "count"), L.Hashing(5, salt=(1, 2), output_mode="one_hot"),
    L.StringLookup(vocabulary=["a"], mask_token="#"), L.IntegerLookup(num_oov_indices=2),
    L.TextVectorization(ngrams=2, output_sequence_length=3, vocabulary=["x", "y"]),
    L.Resizing(3, 4, "nearest"), L.CenterCrop(2, 2), L.RandomFlip("vertical", seed=3),
    L.RandomRotation((-0.1, 0.2), fill_mode="wrap"), L.RandomZoom(0.2, 0.3),
    L.RandomTranslation(0.1, 0.2), L.RandomContrast(0.3), L.RandomBrightness(0.1),
], ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = cr.layers.serialization.deserialize(cr.layers.serialization.serialize(layer))
    assert type(clone) is type(layer)
    assert clone.get_config() == config


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("action,error,pattern", [
    (lambda: L.StringLookup(output_mode="one-hot"), ValueError,
     r"Unknown output_mode for layer StringLookup: 'one-hot'\. Did you mean 'one_hot'\?.*"
     r"Received: output_mode='one-hot'$"),
    (lambda: L.Normalization().adapt(np.zeros((0, 3))), ValueError,
     r"adapt\(\) received empty data.*Received: data of shape \(0, 3\)$"),
    (lambda: L.StringLookup().adapt(iter([])), ValueError, r"empty iterable"),
    (lambda: L.Discretization(bin_boundaries=[1.0]).adapt([1.0]), ValueError,
     r"was given bin_boundaries"),
    (lambda: L.CategoryEncoding(3)(np.array([[0, 3]])), ValueError,
     r"expects integer inputs in \[0, num_tokens\) with num_tokens=3\. Received: values "
     r"from 0 to 3$"),
    (lambda: L.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["b"])), ValueError,
     r"num_oov_indices=0 .* Received: values \['b'\]$"),
    (lambda: L.StringLookup(vocabulary=["a", "a"]), ValueError, r"repeated tokens"),
    (lambda: L.Resizing(2, 2)(np.zeros((2, 3))), ValueError, r"expects images of shape"),
    (lambda: L.RandomRotation(2.0), ValueError, r"Received: factor=2\.0$"),
    (lambda: L.RandomZoom(0.1, fill_mode="mirror"), ValueError, r"Unknown fill_mode"),
    (lambda: L.TextVectorization(output_sequence_length=3, output_mode="count"), ValueError,
     r"output_sequence_length is only used with output_mode='int'"),
    (lambda: L.TextVectorization()(np.array([["a", "b"]])), ValueError,
     r"one string per sample.*Received: inputs of shape \(1, 2\)$"),
    (lambda: L.Hashing(0), ValueError, r"Received: num_bins=0$"),
])
def test_errors_name_the_argument(action, error, pattern):
    with pytest.raises(error, match=pattern):
        action()


def test_adapt_with_another_last_axis_than_built_is_an_error():
    layer = L.Normalization()
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(None, 3\).*Received: "
                                         r"data of shape \(4, 5\)$"):
        layer.adapt(np.zeros((4, 5)))


def test_integer_lookup_called_directly_sees_large_ids_exactly():
    layer = L.IntegerLookup(vocabulary=[16777217, 5])
    np.testing.assert_array_equal(layer(np.array([16777217, 16777216, 5])).numpy(), [1, 0, 2])


def _adapted(layer, data):
    layer.adapt(data)
    return layer


TEXT = np.array([["the cat sat"], ["a dog ran"], ["the dog sat down"]])
IMAGES = RNG.uniform(0, 1, size=(3, 6, 5, 2)).astype("float32")
FEATURES = RNG.normal(size=(3, 4)).astype("float32")

# name: (a layer in the state to save, the model's input shape and dtype, a batch)
ROUND_TRIPS = {
    "Normalization": (lambda: _adapted(L.Normalization(), FEATURES), ((4,), None), FEATURES),
    "Discretization": (lambda: _adapted(L.Discretization(num_bins=3, output_mode="one_hot"),
                                        FEATURES[:, :1]), ((1,), None), FEATURES[:, :1]),
    "CategoryEncoding": (lambda: L.CategoryEncoding(5, "count"), ((3,), None),
                         np.array([[0, 4, 4], [1, 2, 3], [0, 0, 0]])),
    "Hashing": (lambda: L.Hashing(5, salt=3, output_mode="multi_hot"), ((3,), "string"),
                np.array([["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]])),
    "IntegerLookup": (lambda: _adapted(L.IntegerLookup(output_mode="tf_idf"),
                                       np.array([[3, 5, 5], [7, 3, 9]])), ((3,), None),
                      np.array([[3, 5, 8], [9, 9, 9], [7, 1, 3]])),
    "StringLookup": (lambda: _adapted(L.StringLookup(num_oov_indices=2, mask_token="-"),
                                      TEXT.ravel()), ((1,), "string"), TEXT),
    "TextVectorization": (lambda: _adapted(L.TextVectorization(output_mode="tf_idf", ngrams=2),
                                           TEXT.ravel()), ((1,), "string"), TEXT),
    "Resizing": (lambda: L.Resizing(3, 4, crop_to_aspect_ratio=True), ((6, 5, 2), None),
                 IMAGES),
    "CenterCrop": (lambda: L.CenterCrop(4, 4), ((6, 5, 2), None), IMAGES),
    "RandomFlip": (lambda: L.RandomFlip("horizontal", seed=2), ((6, 5, 2), None), IMAGES),
    "RandomRotation": (lambda: L.RandomRotation(0.1, fill_mode="constant", fill_value=0.5),
                       ((6, 5, 2), None), IMAGES),
    "RandomZoom": (lambda: L.RandomZoom(0.2, (-0.1, 0.3), interpolation="nearest"),
                   ((6, 5, 2), None), IMAGES),
    "RandomTranslation": (lambda: L.RandomTranslation(0.1, 0.2, fill_mode="wrap"),
                          ((6, 5, 2), None), IMAGES),
    "RandomContrast": (lambda: L.RandomContrast((0.1, 0.4), value_range=(0, 1)),
                       ((6, 5, 2), None), IMAGES),
    "RandomBrightness": (lambda: L.RandomBrightness(0.1, value_range=(0, 1)),
                         ((6, 5, 2), None), IMAGES),
}


def test_every_preprocessing_layer_has_a_round_trip():
    # the layers of chainrule/layers/preprocessing that tests/test_saving.py leaves to this file
    mine = {"Normalization", "Discretization", "CategoryEncoding", "Hashing", "IntegerLookup",
            "StringLookup", "TextVectorization", "Resizing", "CenterCrop", "RandomFlip",
            "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
            "RandomBrightness"}
    assert sorted(ROUND_TRIPS) == sorted(mine) and mine <= set(L.__all__)


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_save_load_round_trip(name, tmp_path):
    make, (shape, dtype), x = ROUND_TRIPS[name]
    inp = L.Input(shape=shape, dtype=dtype)
    model = cr.Model(inp, make()(inp))
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    loaded = cr.models.load_model(path)
    assert loaded.layers[1].get_config() == model.layers[1].get_config()
    got, want = loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(got, want)
    assert not (want == 0).all()


def test_a_replayed_step_draws_new_transforms():
    x = RNG.uniform(size=(8, 5, 5, 1)).astype("float32")
    y = np.arange(8) % 2
    model = cr.Sequential([L.Input(shape=(5, 5, 1)), L.RandomRotation(0.5), L.Flatten(),
                           L.Dense(2)])
    model.compile(cr.optimizers.SGD(1e-30), cr.losses.SparseCategoricalCrossentropy(
        from_logits=True), jit_compile=True)
    losses = [model.train_on_batch(x, y) for _ in range(6)]
    assert programs(model)
    assert len(set(losses[2:])) == 4  # the replays (steps 3 to 6) rotate differently each time


def test_normalization_regression_tutorial_on_a_column_vector():
    """The TensorFlow regression tutorial: one feature given as a vector of samples."""
    hp = RNG.uniform(50, 200, 120).astype("float32")
    mpg = (40 - 0.1 * hp).astype("float32")
    norm = L.Normalization(input_shape=[1], axis=None)
    norm.adapt(hp)
    model = cr.Sequential([norm, L.Dense(units=1)])
    assert model.count_params() == 5  # mean, variance and count, as Keras counts them
    model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.1), loss="mean_absolute_error")
    history = model.fit(hp, mpg, epochs=60, batch_size=8, verbose=0, validation_split=0.2)
    assert history.history["loss"][-1] < 1.0
    assert model.predict(hp[:4], verbose=0).shape == (4, 1)


def test_end_to_end_text_model_on_batches_of_raw_strings():
    """The text classification tutorial's export model: raw strings in, batches from a generator."""
    text = np.array(["good fun film", "bad dull film", "fun and good", "dull, bad"] * 6)
    labels = np.array([1, 0, 1, 0] * 6, dtype="float32")
    vectorize = L.TextVectorization(max_tokens=20, output_sequence_length=4)
    vectorize.adapt(text)
    model = cr.Sequential([vectorize, L.CategoryEncoding(20, "count"),
                           L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    class Batches:  # re-iterable, as a tf.data.Dataset is
        def __iter__(self):
            return ((text[i:i + 8], labels[i:i + 8]) for i in range(0, 24, 8))

    batches = Batches()
    model.fit(batches, epochs=3, verbose=0)
    loss, acc = model.evaluate(batches, verbose=0)
    assert np.isfinite(loss) and 0 <= acc <= 1
    assert model.predict(text[:3], verbose=0).shape == (3, 1)


def test_unbuilt_text_model_builds_from_the_first_batch_of_an_iterable():
    text = np.array(["good fun", "bad dull", "fun good", "dull bad"] * 4)
    labels = np.array([1, 0, 1, 0] * 4, dtype="float32")
    vectorize = L.TextVectorization(output_mode="multi_hot")
    vectorize.adapt(text)
    model = cr.Sequential([vectorize, L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    model.fit(((text[i:i + 4], labels[i:i + 4]) for i in range(0, 16, 4)), verbose=0)
    assert model.built and model.layers[-1].kernel.shape == (vectorize.vocabulary_size(), 1)


def test_text_held_as_objects_or_bytes_is_read_as_text():
    vectorize = L.TextVectorization(output_sequence_length=3)
    vectorize.adapt(np.array(["b a", "b"], dtype=object))
    np.testing.assert_array_equal(vectorize(np.array(["a b", "zz"], dtype=object)).numpy(),
                                  [[3, 2, 0], [1, 0, 0]])
    lookup = L.StringLookup(vocabulary=["x", "y"])
    np.testing.assert_array_equal(lookup(np.array([b"y", b"q"])).numpy(), [2, 0])
    np.testing.assert_array_equal(lookup(["x", "y"]).numpy(), [1, 2])
