"""chainrule's preprocessing layers against outputs recorded from Keras 3.

The fixture ``tests/fixtures/prep_keras.json`` is written by
``tools/keras_fixtures_prep.py`` with Keras and TensorFlow installed; it holds
every input and what Keras returned, so these tests need neither.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers.preprocessing import _hash
from chainrule.ops import _image_ops

L = cr.layers
with open(os.path.join(os.path.dirname(__file__), "fixtures", "prep_keras.json"),
          encoding="utf-8") as _f:
    FIX = json.load(_f)
C = FIX["cases"]


def a(x, dtype=None):
    return np.asarray(x, dtype=dtype)


def test_fixture_records_versions():
    assert FIX["keras"].startswith("3.") and FIX["tensorflow"]


# -- Normalization -------------------------------------------------------------------------------


def test_normalization_adapt_on_an_array_matches_keras():
    c = C["normalization"]
    layer = L.Normalization()
    layer.adapt(a(c["x"], "float32"))
    np.testing.assert_allclose(layer.mean.numpy(), c["mean"], rtol=1e-6)
    np.testing.assert_allclose(layer.variance.numpy(), c["variance"], rtol=1e-5)
    np.testing.assert_allclose(layer(a(c["probe"], "float32")).numpy(), c["out"], rtol=1e-5,
                               atol=1e-6)
    assert [w.name for w in layer.weights] == c["weights"]


def test_normalization_adapt_on_batches_combines_as_keras():
    c = C["normalization"]
    x = a(c["x"], "float32")
    layer = L.Normalization()
    layer.adapt(iter([x[:7], x[7:25], x[25:]]))
    np.testing.assert_allclose(layer.mean.numpy(), c["iter_mean"], rtol=1e-6)
    np.testing.assert_allclose(layer.variance.numpy(), c["iter_variance"], rtol=1e-5)
    np.testing.assert_allclose(layer(a(c["probe"], "float32")).numpy(), c["iter_out"],
                               rtol=1e-5, atol=1e-6)


def test_normalization_axis_none_and_invert_match_keras():
    c = C["normalization"]
    layer = L.Normalization(axis=None)
    layer.adapt(a(c["x"], "float32"))
    np.testing.assert_allclose(layer(a(c["probe"], "float32")).numpy(), c["axis_none_out"],
                               rtol=1e-5, atol=1e-6)
    inv = L.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.0, 9.0], invert=True)
    np.testing.assert_allclose(inv(a(c["probe"], "float32")).numpy(), c["invert_out"],
                               rtol=1e-6)


# -- Discretization ------------------------------------------------------------------------------


def test_discretization_quantiles_and_modes_match_keras():
    c = C["discretization"]
    x, probe = a(c["x"], "float32"), a(c["probe"], "float32")
    for mode in ("int", "one_hot", "multi_hot", "count"):
        layer = L.Discretization(num_bins=5, epsilon=0.01, output_mode=mode)
        layer.adapt(x)
        np.testing.assert_allclose(layer.bin_boundaries, c["boundaries"], rtol=1e-6)
        got = layer(probe[:, :1] if mode == "one_hot" else probe).numpy()
        np.testing.assert_array_equal(got, c[mode], err_msg=mode)


def test_discretization_batched_adapt_matches_keras():
    c = C["discretization"]
    x = a(c["x"], "float32")
    layer = L.Discretization(num_bins=4, epsilon=0.05)
    layer.adapt([x[i:i + 64] for i in range(0, len(x), 64)].__iter__())
    np.testing.assert_allclose(layer.bin_boundaries, c["batched_boundaries"], rtol=1e-6)


# -- CategoryEncoding ---------------------------------------------------------------------------


def test_category_encoding_matches_keras():
    c = C["category_encoding"]
    x = a(c["inputs"])
    for mode in ("multi_hot", "count"):
        np.testing.assert_array_equal(L.CategoryEncoding(4, mode)(x).numpy(), c[mode])
    np.testing.assert_array_equal(L.CategoryEncoding(4, "one_hot")(a([3, 2, 0, 1])).numpy(),
                                  c["one_hot"])
    np.testing.assert_array_equal(L.CategoryEncoding(4, "one_hot")(a([[3], [2], [0]])).numpy(),
                                  c["one_hot_col"])
    np.testing.assert_array_equal(L.CategoryEncoding(4, "multi_hot")(a([3, 2, 3])).numpy(),
                                  c["multi_hot_1d"])


# -- Hashing ------------------------------------------------------------------------------------


def test_fingerprint64_and_siphash_match_tensorflow():
    c = C["hashing"]
    n = 2**62 + 12345
    assert [_hash.fingerprint64(w.encode()) % n for w in c["words"]] == c["fast"]
    assert [_hash.siphash24(w.encode(), 7, 99) % n for w in c["words"]] == c["strong"]


def test_hashing_layer_matches_keras():
    c = C["hashing"]
    words = a(c["words"])[:, None]
    np.testing.assert_array_equal(L.Hashing(7)(words).numpy(), c["bins7"])
    np.testing.assert_array_equal(L.Hashing(7, mask_value="A")(words).numpy(), c["bins7_mask"])
    np.testing.assert_array_equal(L.Hashing(7, salt=133)(words).numpy(), c["bins7_salt"])
    ints = a(c["ints"])
    np.testing.assert_array_equal(L.Hashing(5)(ints).numpy(), c["ints_bins5"])
    np.testing.assert_array_equal(L.Hashing(5, mask_value=0)(ints).numpy(), c["ints_bins5_mask"])
    got = L.Hashing(6, output_mode="multi_hot")(a([["A", "B"], ["C", "C"]])).numpy()
    np.testing.assert_array_equal(got, c["multi_hot"])


# -- lookups --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["int", "multi_hot", "count", "tf_idf"])
def test_string_lookup_adapt_and_modes_match_keras(mode):
    c = C["string_lookup"]
    layer = L.StringLookup(output_mode=mode)
    layer.adapt(a(c["data"]))
    assert layer.get_vocabulary() == c[mode + "_vocab"]
    np.testing.assert_allclose(layer(a(c["probe"])).numpy(), c[mode], rtol=1e-6)


def test_string_lookup_one_hot_oov_buckets_mask_and_invert_match_keras():
    c = C["string_lookup"]
    layer = L.StringLookup(output_mode="one_hot")
    layer.adapt(a(c["data"]))
    np.testing.assert_array_equal(layer(a(["a", "z", "g"])).numpy(), c["one_hot"])
    layer = L.StringLookup(num_oov_indices=3, mask_token="[MASK]", max_tokens=6)
    layer.adapt(a(c["data"]))
    assert layer.get_vocabulary() == c["oov3_vocab"]
    np.testing.assert_array_equal(layer(a(c["oov_probe"])).numpy(), c["oov3"])
    layer = L.StringLookup(vocabulary=["a", "b", "c"], invert=True, mask_token="")
    assert layer(a([[0, 1, 2, 3, 4]])).numpy().tolist() == c["invert"]
    layer = L.StringLookup(output_mode="tf_idf", pad_to_max_tokens=True, max_tokens=10)
    layer.adapt(a(c["data"]))
    np.testing.assert_allclose(layer(a(c["probe"])).numpy(), c["tf_idf_padded"], rtol=1e-6)


def test_integer_lookup_matches_keras():
    c = C["integer_lookup"]
    layer = L.IntegerLookup()
    layer.adapt(a(c["data"]))
    assert layer.get_vocabulary() == c["vocab"]
    np.testing.assert_array_equal(layer(a([[42, 7, 5, 1138]])).numpy(), c["int"])
    layer = L.IntegerLookup(num_oov_indices=2, mask_token=0)
    layer.adapt(a(c["data"]))
    assert layer.get_vocabulary() == c["oov2_vocab"]
    np.testing.assert_array_equal(layer(a([[0, 42, 5, 6, 1138, 9]])).numpy(), c["oov2"])
    layer = L.IntegerLookup(output_mode="count")
    layer.adapt(a(c["data"]))
    np.testing.assert_array_equal(layer(a([[42, 42, 5, 7]])).numpy(), c["count"])


def test_hashed_oov_buckets_of_integers_and_salted_strings_match_keras():
    c, s = C["integer_lookup"], C["string_lookup"]
    probe = a(c["farmhash_probe"])
    for key, kwargs in (("farmhash", {}), ("farmhash_salt", {"salt": 11})):
        layer = L.IntegerLookup(num_oov_indices=3, oov_method="farmhash", **kwargs)
        layer.adapt(a(c["data"]))
        np.testing.assert_array_equal(layer(probe).numpy(), c[key], err_msg=key)
    layer = L.StringLookup(num_oov_indices=3, salt=(5, 6))
    layer.adapt(a(s["data"]))
    np.testing.assert_array_equal(layer(a(s["oov_probe"])).numpy(), c["string_salt"])


# -- TextVectorization -----------------------------------------------------------------------------


def test_text_vectorization_matches_keras():
    c = C["text_vectorization"]
    probe = a(c["probe"])
    layer = L.TextVectorization(output_sequence_length=6)
    layer.adapt(c["corpus"])
    assert layer.get_vocabulary() == c["int_vocab"]
    np.testing.assert_array_equal(layer(probe).numpy(), c["int"])
    layer = L.TextVectorization(max_tokens=8, output_mode="multi_hot")
    layer.adapt(c["corpus"])
    assert layer.get_vocabulary() == c["multi_hot_vocab"]
    np.testing.assert_array_equal(layer(probe).numpy(), c["multi_hot"])
    layer = L.TextVectorization(output_mode="tf_idf", ngrams=2)
    layer.adapt(c["corpus"])
    assert layer.get_vocabulary() == c["tf_idf_vocab"]
    np.testing.assert_allclose(layer(probe).numpy(), c["tf_idf"], rtol=1e-6)
    layer = L.TextVectorization(output_mode="count", standardize="lower")
    layer.adapt(c["corpus"])
    assert layer.get_vocabulary() == c["count_vocab"]
    np.testing.assert_array_equal(layer(probe).numpy(), c["count"])


# -- images ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_resizing_matches_keras(interp):
    c = C["images"]
    img = a(c["images"], "float32")
    np.testing.assert_allclose(L.Resizing(7, 9, interpolation=interp)(img).numpy(),
                               c[f"resize_up_{interp}"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(L.Resizing(3, 4, interpolation=interp)(img).numpy(),
                               c[f"resize_down_{interp}"], rtol=1e-5, atol=1e-3)


def test_resizing_crop_and_center_crop_match_keras():
    c = C["images"]
    img = a(c["images"], "float32")
    np.testing.assert_allclose(L.Resizing(4, 4, crop_to_aspect_ratio=True)(img).numpy(),
                               c["resize_crop"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(L.Resizing(4, 8, pad_to_aspect_ratio=True, fill_value=3.0)(
        img).numpy(), c["resize_pad_wide"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(L.Resizing(8, 3, pad_to_aspect_ratio=True)(img).numpy(),
                               c["resize_pad_tall"], rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(L.CenterCrop(3, 4)(img).numpy(), c["center_crop"])
    np.testing.assert_allclose(L.CenterCrop(6, 4)(img).numpy(), c["center_crop_small"],
                               rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("fill", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_affine_warp_matches_keras(fill, interp):
    c = C["images"]
    img = a(c["images"], "float32")
    got = _image_ops.warp(img, a(c["matrices"]), None, interp, fill, 7.0).numpy()
    np.testing.assert_allclose(got, c[f"affine_{fill}_{interp}"], rtol=1e-4, atol=2e-3)


@pytest.mark.parametrize("fill", ["reflect", "wrap"])
def test_affine_warp_far_outside_matches_keras(fill):
    c = C["images"]
    img = a(c["images"], "float32")
    got = _image_ops.warp(img, a(c["far_matrices"]), None, "bilinear", fill).numpy()
    np.testing.assert_allclose(got, c[f"far_{fill}"], rtol=1e-4, atol=2e-3)


FIXED = {
    "rotation": lambda: L.RandomRotation((0.1, 0.1), fill_mode="constant", fill_value=3.0),
    "rotation_reflect": lambda: L.RandomRotation((-0.3, -0.3)),
    "zoom": lambda: L.RandomZoom((0.2, 0.2), (-0.3, -0.3), fill_mode="nearest"),
    "zoom_same": lambda: L.RandomZoom((-0.25, -0.25), interpolation="nearest"),
    "translation": lambda: L.RandomTranslation((0.2, 0.2), (-0.25, -0.25), fill_mode="wrap"),
    "contrast": lambda: L.RandomContrast((-0.2, 0.2)),
    "brightness": lambda: L.RandomBrightness((0.1, 0.1)),
}


@pytest.mark.parametrize("key", sorted(FIXED))
def test_random_layers_with_one_value_ranges_match_keras(key):
    c = C["images"]
    img = a(c["images"], "float32")
    layer = FIXED[key]()
    np.testing.assert_allclose(layer(img, training=True).numpy(), c[f"fixed_{key}"], rtol=1e-4,
                               atol=2e-3)
    np.testing.assert_array_equal(layer(img, training=False).numpy(),
                                  c[f"fixed_{key}_inference"])
