"""Record TensorFlow's image resizing (what Keras's image_dataset_from_directory uses).

Writes tests/fixtures/tf_image_resize.npz: a small random image and its
``tf.image.resize`` results for a few sizes with bilinear and nearest
interpolation, with the TensorFlow version. Run with an environment that has
TensorFlow: ``python tools/record_image_resize.py``.
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "tf_image_resize.npz")
SIZES = [(3, 4), (8, 9), (5, 7), (1, 1), (12, 5)]


def main():
    image = np.random.default_rng(7).integers(0, 256, (5, 7, 3)).astype("float32")
    out = {"image": image, "tensorflow": np.array(tf.__version__)}
    for method in ("bilinear", "nearest"):
        for h, w in SIZES:
            out[f"{method}_{h}x{w}"] = tf.image.resize(image, (h, w), method=method).numpy()
    np.savez_compressed(OUT, **out)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
