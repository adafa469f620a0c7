"""Reference numbers for tests/test_applications.py, computed with Keras 3.

For each architecture at a small input, records the model's weights in order as
(path, shape) and the output on a fixed input after every weight is set by a formula
of its index and shape (``fill_weights`` below, repeated in the test). Run with the
benchmark environment's Python (Keras installed):

    python tools/keras_applications_fixtures.py

Writes tests/fixtures/keras_applications.json.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_applications.json")

# (case id, builder name, keyword arguments); include_top=False and True with classes=7
CASES = [
    ("mobilenet_notop", "MobileNet",
     {"input_shape": (32, 32, 3), "alpha": 0.25, "include_top": False, "pooling": "max"}),
    ("mobilenet_top", "MobileNet",
     {"input_shape": (32, 32, 3), "alpha": 0.25, "include_top": True, "classes": 7,
      "classifier_activation": None}),
    ("mobilenet_v2_notop", "MobileNetV2",
     {"input_shape": (32, 32, 3), "alpha": 0.35, "include_top": False, "pooling": "avg"}),
    ("mobilenet_v2_top", "MobileNetV2",
     {"input_shape": (32, 32, 3), "alpha": 0.35, "include_top": True, "classes": 7}),
    ("vgg16_notop", "VGG16",
     {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}),
    ("vgg16_top", "VGG16",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}),
    ("vgg19_notop", "VGG19", {"input_shape": (32, 32, 3), "include_top": False}),
    ("vgg19_top", "VGG19",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}),
    ("resnet50_notop", "ResNet50", {"input_shape": (32, 32, 3), "include_top": False}),
    ("resnet50_top", "ResNet50",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}),
    ("resnet50v2_notop", "ResNet50V2",
     {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}),
    ("resnet50v2_top", "ResNet50V2",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}),
]


def fill_weights(weights: list) -> list:
    """The k-th weight: 0.05 * sin(arange(size) * 0.37 + k); a moving variance gets
    abs() + 0.5 so it is positive."""
    values = []
    for k, (path, shape) in enumerate(weights):
        size = int(np.prod(shape))
        w = 0.05 * np.sin(np.arange(size) * 0.37 + k).reshape(shape)
        if path.endswith("moving_variance"):
            w = np.abs(w) + 0.5
        values.append(w.astype("float32"))
    return values


def sample_input(shape: tuple) -> np.ndarray:
    """Two images: 2 * cos(0.11 * i) over the flattened batch."""
    size = 2 * int(np.prod(shape))
    return (2.0 * np.cos(np.arange(size) * 0.11)).reshape((2,) + tuple(shape)).astype("float32")


def stride(size: int) -> int:
    """Every stride-th output value is stored (at most about 200 per case)."""
    return max(1, -(-size // 200))


def main() -> None:
    import keras
    import tensorflow as tf

    cases = {}
    for case_id, builder, kwargs in CASES:
        model = getattr(keras.applications, builder)(weights=None, **kwargs)
        weights = [(w.path, list(w.shape)) for w in model.weights]
        model.set_weights(fill_weights(weights))
        x = sample_input(kwargs["input_shape"])
        y = np.asarray(model(x, training=False))
        case = {"builder": builder, "kwargs": kwargs, "name": model.name}
        # a top case repeats its no-top case's weights: store only what it adds
        for other_id, other in cases.items():
            n = len(other["weights"])
            if other["builder"] == builder and "weights_from" not in other and [list(w) for w in weights[:n]] == [
                    list(w) for w in other["weights"]]:
                case["weights_from"], weights = other_id, weights[n:]
                break
        cases[case_id] = case
        case.update({"weights": weights, "output_shape": list(y.shape),
                     "stride": stride(y.size),
                     "output": [float(f"{v:.7g}") for v in y.ravel()[::stride(y.size)]],
                     "output_sum": float(y.astype("float64").sum()),
                     "output_abs_sum": float(np.abs(y.astype("float64")).sum())})
        print(case_id, len(model.weights), y.shape)
    data = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "python": sys.version.split()[0], "cases": cases}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
