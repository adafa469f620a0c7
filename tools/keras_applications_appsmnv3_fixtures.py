"""Reference numbers for tests/test_applications_appsmnv3.py (MobileNetV3, ConvNeXt,
NASNet), computed with Keras 3.

For each case at a small input, records the model's weights in order as (path, shape)
and the output on a fixed input after every weight is set by a formula of its index and
shape (``fill_weights``, the same as tools/keras_applications_fixtures.py and repeated in
the test). Run with the benchmark environment's Python (Keras installed):

    python tools/keras_applications_appsmnv3_fixtures.py

Writes tests/fixtures/keras_applications_appsmnv3.json.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_applications_appsmnv3.json")

# (case id, builder name, keyword arguments, whether to run the model)
CASES = [
    ("mnv3_small_notop", "MobileNetV3Small",
     {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}, True),
    ("mnv3_small_top", "MobileNetV3Small",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}, True),
    ("mnv3_small_min_075", "MobileNetV3Small",
     {"input_shape": (32, 32, 3), "alpha": 0.75, "minimalistic": True, "include_top": True,
      "classes": 5, "include_preprocessing": False, "dropout_rate": 0.0}, True),
    ("mnv3_large_notop", "MobileNetV3Large",
     {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}, True),
    ("mnv3_large_top", "MobileNetV3Large",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7}, True),
    ("mnv3_large_min_125", "MobileNetV3Large",
     {"input_shape": (32, 32, 3), "alpha": 1.25, "minimalistic": True, "include_top": False,
      "include_preprocessing": False}, True),
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
    """Two images: 2 * cos(0.11 * i) over the flattened batch, scaled to [0, 255]-ish by
    ``scale`` where a model rescales its input itself."""
    size = 2 * int(np.prod(shape))
    return (2.0 * np.cos(np.arange(size) * 0.11)).reshape((2,) + tuple(shape)).astype("float32")


def input_scale(kwargs: dict) -> float:
    """Models with their own Rescaling layer get pixels (x * 60 + 127.5)."""
    return 60.0 if kwargs.get("include_preprocessing", True) else 1.0


def stride(size: int) -> int:
    """Every stride-th output value is stored (at most about 200 per case)."""
    return max(1, -(-size // 200))


def main() -> None:
    import keras
    import tensorflow as tf

    only = set(sys.argv[1:])
    cases = {}
    if only and os.path.exists(OUT):
        with open(OUT, encoding="utf-8") as f:
            cases = json.load(f)["cases"]
    for case_id, builder, kwargs, run in CASES:
        if only and case_id not in only:
            continue
        model = getattr(keras.applications, builder)(weights=None, **kwargs)
        weights = [(w.path, list(w.shape)) for w in model.weights]
        case = {"builder": builder, "kwargs": kwargs, "name": model.name,
                "layers": [layer.name for layer in model.layers if layer.weights]}
        if run:
            model.set_weights(fill_weights(weights))
            x = sample_input(kwargs["input_shape"])
            if input_scale(kwargs) != 1.0:
                x = x * input_scale(kwargs) + 127.5
            y = np.asarray(model(x, training=False))
            case.update({"output_shape": list(y.shape), "stride": stride(y.size),
                         "output": [float(f"{v:.7g}") for v in y.ravel()[::stride(y.size)]],
                         "output_sum": float(y.astype("float64").sum()),
                         "output_abs_sum": float(np.abs(y.astype("float64")).sum())})
        case["weights"] = weights
        cases[case_id] = case
        print(case_id, len(model.weights), case.get("output_shape"))
    data = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "python": sys.version.split()[0], "cases": cases}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
