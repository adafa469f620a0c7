"""Record Keras 3's ``ops.image.extract_patches`` and ``ops.image.resize``, for
tests/test_image_ops.py.

For each setting in :data:`PATCHES` (2-D and 3-D sizes, strides, dilation, ``"same"``
padding, channels first, unbatched inputs) and :data:`RESIZES` it records the input and
Keras's output; and it saves a functional model whose graph calls
``ops.image.extract_patches`` as ``tests/fixtures/keras_files/extract_patches.keras`` (a
Keras ``ExtractPatches`` operation entry) with its predictions. Needs Keras 3 and
TensorFlow, so it runs in the benchmark environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_image_ops.py

It writes ``tests/fixtures/image_ops_keras.npz`` (with the Keras and TensorFlow versions).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "image_ops_keras.npz")
FILES = os.path.join(HERE, "..", "tests", "fixtures", "keras_files")

#: name -> (input shape, keyword arguments of extract_patches)
PATCHES = {
    "vit": ((2, 12, 12, 3), {"size": 4}),
    "overlap_same": ((2, 7, 9, 2), {"size": (3, 2), "strides": (2, 3), "padding": "same"}),
    "dilated": ((1, 9, 8, 2), {"size": (2, 3), "strides": 1, "dilation_rate": (2, 3)}),
    "channels_first": ((2, 3, 8, 6), {"size": (2, 3), "strides": (2, 1),
                                      "data_format": "channels_first"}),
    "unbatched": ((10, 10, 3), {"size": 3, "strides": 2, "padding": "same"}),
    "volumes": ((2, 6, 5, 4, 2), {"size": (2, 2, 3), "strides": (2, 1, 1)}),
}
#: name -> (input shape, keyword arguments of resize)
RESIZES = {
    "bilinear_up": ((2, 5, 7, 3), {"size": (8, 9)}),
    "nearest_down": ((2, 9, 8, 2), {"size": (4, 3), "interpolation": "nearest"}),
    "crop_channels_first": ((1, 2, 6, 10), {"size": (5, 5), "crop_to_aspect_ratio": True,
                                            "data_format": "channels_first"}),
    "pad_unbatched": ((6, 10, 1), {"size": (6, 6), "pad_to_aspect_ratio": True,
                                   "fill_value": 0.5}),
}
MODEL_PATCHES = {"size": (4, 2), "strides": (2, 3), "padding": "same"}


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rec: dict = {"keras_version": np.array(keras.__version__),
                 "tf_version": np.array(tf.__version__),
                 "backend": np.array(keras.backend.backend())}
    for name, (shape, kwargs) in PATCHES.items():
        x = rng.normal(size=shape).astype("float32")
        rec[f"patches/{name}/x"] = x
        rec[f"patches/{name}/y"] = keras.ops.convert_to_numpy(
            keras.ops.image.extract_patches(x, **kwargs))
    for name, (shape, kwargs) in RESIZES.items():
        x = rng.normal(size=shape).astype("float32")
        rec[f"resize/{name}/x"] = x
        rec[f"resize/{name}/y"] = keras.ops.convert_to_numpy(keras.ops.image.resize(x, **kwargs))
    inp = keras.Input((8, 8, 3))
    model = keras.Model(inp, keras.ops.image.extract_patches(inp, **MODEL_PATCHES))
    x = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    rec["model/x"], rec["model/y"] = x, model.predict(x, verbose=0)
    os.makedirs(FILES, exist_ok=True)
    model.save(os.path.join(FILES, "extract_patches.keras"))
    np.savez_compressed(OUT, **rec)
    print(f"wrote {OUT}: {len(rec)} arrays, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
