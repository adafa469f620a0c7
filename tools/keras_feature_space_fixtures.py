"""Reference encodings of ``keras.utils.FeatureSpace`` for tests/test_feature_space.py.

Builds two FeatureSpaces in Keras (every feature helper, crosses, ``"concat"`` and
``"dict"`` output) on a small fixed table, adapts them on a dict of arrays, and
records the table, a second table with unseen values, and the encodings to
``tests/fixtures/keras_feature_space.npz`` (+ ``.json`` with the versions and the
Keras configs). Run with the reference environment (Keras 3 + TensorFlow):

    python tools/keras_feature_space_fixtures.py
"""

from __future__ import annotations

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras.utils import FeatureSpace  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")


def table(rng: np.random.Generator, n: int, unseen: bool) -> dict:
    words = ["red", "green", "blue", "cyan"] + (["mauve"] if unseen else [])
    cities = ["oslo", "lima", "pune", "kyiv", "baku"] + (["nuuk"] if unseen else [])
    return {
        "plain": rng.normal(size=n).astype("float32"),
        "scaled": rng.uniform(0, 50, n).astype("float32"),
        "norm": (rng.normal(size=n) * 3 + 1).astype("float32"),
        "disc": rng.uniform(-5, 5, n).astype("float32"),
        "disc_default": rng.exponential(2.0, n).astype("float32"),
        "int_cat": rng.integers(0, 6 if unseen else 5, n).astype("int64"),
        "int_cat_noov": rng.integers(1, 4, n).astype("int64"),
        "str_cat": rng.choice(words, n),
        "int_hash": rng.integers(0, 1000, n).astype("int64"),
        "str_hash": rng.choice(cities, n),
        "int_hash_default": rng.integers(-50, 50, n).astype("int64"),
        "str_cat_default": rng.choice(cities, n),
    }


def concat_space() -> FeatureSpace:
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


TEXTS = ["1st string", "2nd string", "3rd string", "a longer string here", "string string"]


def custom_space() -> FeatureSpace:
    """Your own preprocessing layers: TF-IDF text and a Normalization with preset statistics."""
    return FeatureSpace(
        features={
            "text": FeatureSpace.feature(
                preprocessor=keras.layers.TextVectorization(output_mode="tf_idf"),
                dtype="string", output_mode="float"),
            "preset": FeatureSpace.feature(
                preprocessor=keras.layers.Normalization(mean=2.0, variance=4.0),
                dtype="float32", output_mode="float"),
        },
        output_mode="dict")  # Keras 3.15 cannot concat these two: (None, 1) and (None, 1, n)


def main() -> None:
    rng = np.random.default_rng(20261130)
    train = table(rng, 70, unseen=False)
    test = table(rng, 15, unseen=True)
    arrays = {f"train__{k}": v for k, v in train.items()}
    arrays.update({f"test__{k}": v for k, v in test.items()})
    configs = {}
    for mode, make in (("concat", concat_space), ("dict", dict_space)):
        fs = make()
        fs.adapt({k: train[k] for k in fs.features})
        for split, data in (("train", train), ("test", test)):
            out = fs({k: data[k] for k in fs.features})
            if mode == "concat":
                arrays[f"{mode}__{split}"] = np.asarray(out)
            else:
                for name, value in out.items():
                    arrays[f"{mode}__{split}__{name}"] = np.asarray(value)
        one = fs({k: data[k][0] for k in fs.features})  # one unbatched sample
        if mode == "concat":
            arrays[f"{mode}__one"] = np.asarray(one)
        configs[mode] = fs.get_config()
    fs = custom_space()
    custom = {"text": np.array(TEXTS), "preset": np.arange(5, dtype="float32")}
    fs.adapt(custom)
    for name, value in fs(custom).items():
        arrays[f"custom__{name}"] = np.asarray(value)
    np.savez_compressed(os.path.join(OUT, "keras_feature_space.npz"), **arrays)
    meta = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "numpy": np.__version__, "configs": configs}
    with open(os.path.join(OUT, "keras_feature_space.json"), "w") as f:
        json.dump(meta, f, indent=1, default=lambda o: list(o) if isinstance(o, tuple) else str(o))


if __name__ == "__main__":
    main()
