"""Record Keras 3's ``keras.preprocessing.image.smart_resize``.

Writes tests/fixtures/keras_smart_resize.npz: small random images (one image, a batch, a
channels-first batch) and their ``smart_resize`` results for several target sizes with
bilinear and nearest interpolation, with the Keras and TensorFlow versions. Run with an
environment that has Keras 3 on TensorFlow:
``python tools/keras_fixtures_smart_resize.py``.
"""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_smart_resize.npz")
SIZES = [(3, 3), (4, 9), (8, 5), (10, 10), (1, 2)]


def main() -> None:
    rng = np.random.default_rng(11)
    inputs = {
        "single": rng.integers(0, 256, (6, 9, 3)).astype("float32"),
        "batch": rng.integers(0, 256, (2, 7, 5, 2)).astype("float32"),
        "first": rng.integers(0, 256, (2, 3, 5, 8)).astype("float32"),
    }
    out = {"keras": np.array(keras.__version__), "tensorflow": np.array(tf.__version__)}
    for name, x in inputs.items():
        out[name] = x
        fmt = "channels_first" if name == "first" else "channels_last"
        for method in ("bilinear", "nearest"):
            for h, w in SIZES:
                y = keras.preprocessing.image.smart_resize(x, (h, w), interpolation=method,
                                                           data_format=fmt)
                out[f"{name}_{method}_{h}x{w}"] = np.asarray(y)
    np.savez_compressed(OUT, **out)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
