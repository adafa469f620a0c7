"""Record Keras 3's preprocessing layers on small inputs, for chainrule's parity tests.

Run with a Python that has Keras 3 and TensorFlow (the reference environment):

    python tools/keras_fixtures_prep.py tests/fixtures/prep_keras.json

Every input is written into the fixture next to what Keras returned, so the
tests (tests/test_preprocessing_keras.py) need neither Keras nor TensorFlow.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def main(path: str) -> None:
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    layers = keras.layers
    rng = np.random.default_rng(0)
    out: dict = {"keras": keras.__version__, "tensorflow": tf.__version__,
                 "backend": keras.backend.backend(), "cases": {}}
    cases = out["cases"]

    def arr(x):  # noqa: ANN001, ANN202
        return np.asarray(x).tolist()

    # -- Normalization ---------------------------------------------------------------------
    x = rng.normal(3.0, 2.0, size=(40, 3)).astype("float32")
    probe = rng.normal(3.0, 2.0, size=(5, 3)).astype("float32")
    norm = layers.Normalization()
    norm.adapt(x)
    batches = [x[:7], x[7:25], x[25:]]
    norm_it = layers.Normalization()
    norm_it.adapt(batches)
    norm_axis = layers.Normalization(axis=None)
    norm_axis.adapt(x)
    inv = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 0.0, 9.0], invert=True)
    cases["normalization"] = {
        "x": arr(x), "probe": arr(probe),
        "mean": arr(norm.adapt_mean.numpy()), "variance": arr(norm.adapt_variance.numpy()),
        "out": arr(norm(probe)),
        "iter_mean": arr(norm_it.adapt_mean.numpy()), "iter_variance": arr(
            norm_it.adapt_variance.numpy()), "iter_out": arr(norm_it(probe)),
        "axis_none_out": arr(norm_axis(probe)), "invert_out": arr(inv(probe)),
        "weights": [w.path.split("/")[-1] for w in norm.weights],
    }

    # -- Discretization ----------------------------------------------------------------------
    d_x = rng.gamma(2.0, 1.5, size=(300, 2)).astype("float32")
    d_probe = np.array([[-1.0, 0.5], [1.0, 2.0], [3.5, 9.0]], dtype="float32")
    disc = {}
    for mode in ("int", "one_hot", "multi_hot", "count"):
        layer = layers.Discretization(num_bins=5, epsilon=0.01, output_mode=mode)
        layer.adapt(d_x)
        disc[mode] = arr(layer(d_probe[:, :1] if mode == "one_hot" else d_probe))
        disc["boundaries"] = layer.bin_boundaries
    layer = layers.Discretization(num_bins=4, epsilon=0.05)
    layer.adapt(tf.data.Dataset.from_tensor_slices(d_x).batch(64))
    disc["batched_boundaries"] = layer.bin_boundaries
    cases["discretization"] = {"x": arr(d_x), "probe": arr(d_probe), **disc}

    # -- CategoryEncoding ----------------------------------------------------------------------
    c_in = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    cases["category_encoding"] = {
        "inputs": arr(c_in),
        "multi_hot": arr(layers.CategoryEncoding(4, "multi_hot")(c_in)),
        "count": arr(layers.CategoryEncoding(4, "count")(c_in)),
        "one_hot": arr(layers.CategoryEncoding(4, "one_hot")(np.array([3, 2, 0, 1]))),
        "one_hot_col": arr(layers.CategoryEncoding(4, "one_hot")(np.array([[3], [2], [0]]))),
        "multi_hot_1d": arr(layers.CategoryEncoding(4, "multi_hot")(np.array([3, 2, 3]))),
    }

    # -- Hashing -----------------------------------------------------------------------------
    words = ["A", "B", "C", "D", "E", "", "hello world", "x" * 17, "y" * 33, "z" * 70,
             "ünïcödé", "The quick brown fox jumps over the lazy dog" * 3]
    ints = np.array([[0, 1, 2, 3, 10, 100, 12345, -7, 2**40]])
    cases["hashing"] = {
        "words": words, "ints": arr(ints),
        "fast": arr(tf.strings.to_hash_bucket_fast(words, 2**62 + 12345)),
        "strong": arr(tf.strings.to_hash_bucket_strong(words, 2**62 + 12345, key=[7, 99])),
        "bins7": arr(layers.Hashing(num_bins=7)(np.array(words)[:, None])),
        "bins7_mask": arr(layers.Hashing(num_bins=7, mask_value="A")(np.array(words)[:, None])),
        "bins7_salt": arr(layers.Hashing(num_bins=7, salt=133)(np.array(words)[:, None])),
        "ints_bins5": arr(layers.Hashing(num_bins=5)(ints)),
        "ints_bins5_mask": arr(layers.Hashing(num_bins=5, mask_value=0)(ints)),
        "multi_hot": arr(layers.Hashing(num_bins=6, output_mode="multi_hot")(
            np.array([["A", "B"], ["C", "C"]]))),
    }

    # -- StringLookup / IntegerLookup ---------------------------------------------------------------
    vocab_data = np.array([["b", "a", "c", "a"], ["d", "b", "e", "a"], ["c", "f", "b", "g"]])
    s_probe = np.array([["a", "b", "z", "g"], ["q", "c", "c", "e"]])
    sl = {}
    for mode in ("int", "multi_hot", "count", "tf_idf"):
        layer = layers.StringLookup(output_mode=mode)
        layer.adapt(vocab_data)
        sl[mode] = arr(layer(s_probe))
        sl[mode + "_vocab"] = layer.get_vocabulary()
    layer = layers.StringLookup(output_mode="one_hot")
    layer.adapt(vocab_data)
    sl["one_hot"] = arr(layer(np.array(["a", "z", "g"])))
    layer = layers.StringLookup(num_oov_indices=3, mask_token="[MASK]", max_tokens=6)
    layer.adapt(vocab_data)
    oov_probe = np.array([["a", "[MASK]", "zz", "yy", "xx", "ww", "g", "c"]])
    sl["oov3_vocab"] = layer.get_vocabulary()
    sl["oov3"] = arr(layer(oov_probe))
    sl["oov_probe"] = arr(oov_probe)
    layer = layers.StringLookup(vocabulary=["a", "b", "c"], invert=True, mask_token="")
    sl["invert"] = [[v.decode() if isinstance(v, bytes) else v for v in row]
                    for row in np.asarray(layer(np.array([[0, 1, 2, 3, 4]]))).tolist()]
    layer = layers.StringLookup(output_mode="tf_idf", pad_to_max_tokens=True, max_tokens=10)
    layer.adapt(vocab_data)
    sl["tf_idf_padded"] = arr(layer(s_probe))
    cases["string_lookup"] = {"data": arr(vocab_data), "probe": arr(s_probe), **sl}

    i_data = np.array([12, 36, 1138, 42, 42, 36, 7, 7, 7])
    il = {}
    layer = layers.IntegerLookup()
    layer.adapt(i_data)
    il["vocab"] = [int(v) for v in layer.get_vocabulary()]
    il["int"] = arr(layer(np.array([[42, 7, 5, 1138]])))
    layer = layers.IntegerLookup(num_oov_indices=2, mask_token=0)
    layer.adapt(i_data)
    il["oov2_vocab"] = [int(v) for v in layer.get_vocabulary()]
    il["oov2"] = arr(layer(np.array([[0, 42, 5, 6, 1138, 9]])))
    layer = layers.IntegerLookup(output_mode="count")
    layer.adapt(i_data)
    il["count"] = arr(layer(np.array([[42, 42, 5, 7]])))
    probe = np.array([[42, 5, 6, 1138, 9, 123456, -3]])
    for key, kwargs in (("farmhash", {}), ("farmhash_salt", {"salt": 11})):
        layer = layers.IntegerLookup(num_oov_indices=3, oov_method="farmhash", **kwargs)
        layer.adapt(i_data)
        il[key] = arr(layer(probe))
    il["farmhash_probe"] = arr(probe)
    layer = layers.StringLookup(num_oov_indices=3, salt=(5, 6))
    layer.adapt(vocab_data)
    il["string_salt"] = arr(layer(oov_probe))
    cases["integer_lookup"] = {"data": arr(i_data), **il}

    # -- TextVectorization -----------------------------------------------------------------------
    corpus = ["The cat sat on the mat.", "The dog ate my homework!", "Cats and dogs, cats and DOGS",
              "I'm here: (really) here?", "a b c d e f g h"]
    t_probe = ["the cat and the dog", "unknown words here", "Homework: DOGS?"]
    tv = {}
    layer = layers.TextVectorization(output_sequence_length=6)
    layer.adapt(corpus)
    tv["int_vocab"] = layer.get_vocabulary()
    tv["int"] = arr(layer(np.array(t_probe)))
    layer = layers.TextVectorization(max_tokens=8, output_mode="multi_hot")
    layer.adapt(corpus)
    tv["multi_hot_vocab"] = layer.get_vocabulary()
    tv["multi_hot"] = arr(layer(np.array(t_probe)))
    layer = layers.TextVectorization(output_mode="tf_idf", ngrams=2)
    layer.adapt(corpus)
    tv["tf_idf_vocab"] = layer.get_vocabulary()
    tv["tf_idf"] = arr(layer(np.array(t_probe)))
    layer = layers.TextVectorization(output_mode="count", standardize="lower", split="whitespace")
    layer.adapt(corpus)
    tv["count_vocab"] = layer.get_vocabulary()
    tv["count"] = arr(layer(np.array(t_probe)))
    cases["text_vectorization"] = {"corpus": corpus, "probe": t_probe, **tv}

    # -- images ------------------------------------------------------------------------------------
    img = rng.uniform(0, 255, size=(2, 5, 6, 2)).astype("float32")
    im = {"images": arr(img)}
    for interp in ("bilinear", "nearest"):
        im[f"resize_up_{interp}"] = arr(layers.Resizing(7, 9, interpolation=interp)(img))
        im[f"resize_down_{interp}"] = arr(layers.Resizing(3, 4, interpolation=interp)(img))
    im["resize_crop"] = arr(layers.Resizing(4, 4, crop_to_aspect_ratio=True)(img))
    im["resize_pad_wide"] = arr(layers.Resizing(4, 8, pad_to_aspect_ratio=True,
                                                fill_value=3.0)(img))
    im["resize_pad_tall"] = arr(layers.Resizing(8, 3, pad_to_aspect_ratio=True)(img))
    im["center_crop"] = arr(layers.CenterCrop(3, 4)(img))
    im["center_crop_small"] = arr(layers.CenterCrop(6, 4)(img))
    matrices = np.array([
        [0.9, -0.3, 1.0, 0.3, 0.9, -0.5, 0.0, 0.0],
        [1.3, 0.0, -1.2, 0.0, 0.7, 0.8, 0.0, 0.0],
    ], dtype="float32")
    for fill in ("reflect", "wrap", "constant", "nearest"):
        for interp in ("bilinear", "nearest"):
            im[f"affine_{fill}_{interp}"] = arr(keras.ops.image.affine_transform(
                img, matrices, interpolation=interp, fill_mode=fill, fill_value=7.0))
    big = np.array([[1, 0, -9.5, 0, 1, 12.25, 0, 0], [-1, 0, 4, 0, 1, -30, 0, 0]],
                   dtype="float32")
    for fill in ("reflect", "wrap"):
        im[f"far_{fill}"] = arr(keras.ops.image.affine_transform(
            img, big, interpolation="bilinear", fill_mode=fill))
    # random layers with a range of one value: deterministic transforms, Keras's conventions
    fixed = {
        "rotation": layers.RandomRotation((0.1, 0.1), fill_mode="constant", fill_value=3.0),
        "rotation_reflect": layers.RandomRotation((-0.3, -0.3)),
        "zoom": layers.RandomZoom((0.2, 0.2), (-0.3, -0.3), fill_mode="nearest"),
        "zoom_same": layers.RandomZoom((-0.25, -0.25), interpolation="nearest"),
        "translation": layers.RandomTranslation((0.2, 0.2), (-0.25, -0.25), fill_mode="wrap"),
        "contrast": layers.RandomContrast((-0.2, 0.2)),
        "brightness": layers.RandomBrightness((0.1, 0.1)),
    }
    for key, layer in fixed.items():
        im[f"fixed_{key}"] = arr(layer(img, training=True))
        im[f"fixed_{key}_inference"] = arr(layer(img, training=False))
    im["matrices"] = arr(matrices)
    im["far_matrices"] = arr(big)
    cases["images"] = im

    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/prep_keras.json")
