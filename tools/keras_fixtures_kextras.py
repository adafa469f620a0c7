"""Record Keras 3's ``ops.image.sobel_edges`` and ``ops.image.ssim`` (and the layers and
distillation pieces tested next to them), for tests/test_kextras.py.

Needs Keras 3 and TensorFlow, so it runs in the benchmark environment, not in the test
suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_kextras.py

It writes ``tests/fixtures/keras_kextras.npz`` (inputs, Keras's outputs, JSON configs as
strings, and the Keras and TensorFlow versions). Every input comes from a seeded NumPy
generator, so the tests rebuild nothing random themselves: they read the inputs here.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "keras_kextras.npz")

#: name -> (shape, data_format) of the sobel_edges cases
SOBEL = {
    "sobel_last": ((2, 5, 6, 3), "channels_last"),
    "sobel_first": ((1, 2, 4, 5), "channels_first"),
    "sobel_tiny": ((1, 2, 2, 1), "channels_last"),
}
#: name -> (shape, keyword arguments of ssim)
SSIM = {
    "ssim_default": ((2, 16, 14, 3), {}),
    "ssim_small": ((13, 12, 2), {"filter_size": 5, "filter_sigma": 0.8, "max_val": 2.0}),
    "ssim_first": ((2, 2, 9, 10), {"filter_size": 3, "k1": 0.05, "k2": 0.1,
                                   "data_format": "channels_first"}),
}


def image_ops(rng: np.random.Generator, out: dict) -> None:
    from keras import ops

    for name, (shape, fmt) in SOBEL.items():
        x = rng.standard_normal(shape).astype("float32")
        out[f"{name}_x"] = x
        out[f"{name}_y"] = np.asarray(ops.image.sobel_edges(x, data_format=fmt))
    for name, (shape, kwargs) in SSIM.items():
        a = rng.random(shape).astype("float32")
        b = np.clip(a + 0.2 * rng.standard_normal(shape), 0, 1).astype("float32")
        out[f"{name}_a"], out[f"{name}_b"] = a, b
        out[f"{name}_y"] = np.asarray(ops.image.ssim(a, b, **kwargs))


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(20261130)
    out: dict = {"keras_version": np.array(keras.__version__),
                 "tensorflow_version": np.array(tf.__version__)}
    image_ops(rng, out)
    for section in SECTIONS:
        section(rng, out)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT}: {len(out)} arrays")


#: name -> (shape, dtype, keyword arguments of ContrastLimitedAdaptiveHistogramEqualization)
CLAHE = {
    "clahe_default": ((2, 20, 18, 3), "float32", {}),
    "clahe_unit_range": ((1, 9, 12, 2), "float32", {"value_range": (0, 1), "clip_limit": 2.0,
                                                    "tile_grid_size": (3, 2)}),
    "clahe_no_clip": ((11, 7, 1), "float32", {"clip_limit": 0.0, "tile_grid_size": (2, 3)}),
    "clahe_first": ((1, 2, 10, 10), "float32", {"tile_grid_size": (4, 4),
                                                "data_format": "channels_first"}),
    "clahe_uint8": ((1, 16, 16, 3), "uint8", {"tile_grid_size": (2, 2), "clip_limit": 1.5}),
}


def layers(rng: np.random.Generator, out: dict) -> None:
    import keras
    import tensorflow as tf

    for name, (shape, dtype, kwargs) in CLAHE.items():
        high = 1.0 if kwargs.get("value_range") == (0, 1) else 255.0
        x = rng.random(shape) * high
        # a narrow band in one corner gives the contrast limit something to clip
        x[..., : shape[-3] // 2, : shape[-2] // 2, :] *= 0.1
        x = x.astype(dtype)
        layer = keras.layers.ContrastLimitedAdaptiveHistogramEqualization(**kwargs)
        out[f"{name}_x"] = x
        out[f"{name}_y"] = np.asarray(layer(tf.constant(x)))
        out[f"{name}_config"] = np.array(json.dumps(layer.get_config()))
    layer = keras.layers.MaxNumBoundingBoxes(3, fill_value=-2, bounding_box_format="xyxy")
    out["maxnum_config"] = np.array(json.dumps(layer.get_config()))
    for name, n in (("maxnum_cut", 5), ("maxnum_pad", 2)):
        boxes = rng.random((2, n, 4)).astype("float32")
        labels = rng.integers(0, 9, (2, n)).astype("int32")
        got = layer({"images": np.zeros((2, 4, 4, 3), "float32"),
                     "bounding_boxes": {"boxes": boxes, "labels": labels}})
        out[f"{name}_boxes"], out[f"{name}_labels"] = boxes, labels
        out[f"{name}_boxes_y"] = np.asarray(got["bounding_boxes"]["boxes"])
        out[f"{name}_labels_y"] = np.asarray(got["bounding_boxes"]["labels"])


#: the later sections (layers, distillation), each ``f(rng, out)``
SECTIONS: list = [layers]

if __name__ == "__main__":
    main()
