"""Reference numbers for tests/test_applications_appsdense.py, computed with Keras 3.

The DenseNet, InceptionV3, Xception and InceptionResNetV2 families at their smallest
inputs: each case records the model's weights in order as (path, shape) and, for the
cases with an image size, the output on a fixed input after every weight is set by a
formula of its index and shape (``fill_weights``, as in tools/keras_applications_fixtures.py).
Keras names the layers these builders leave unnamed with a global counter, so every
model is built right after ``clear_session()`` (the test does the same). Run with the
benchmark environment's Python (Keras installed):

    python tools/keras_applications_appsdense_fixtures.py

Writes tests/fixtures/keras_applications_appsdense.json.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_applications_appsdense.json")

# (case id, builder name, keyword arguments, image size of the recorded output or None).
# Free image sizes (None) build without a dry run in chainrule, so the tests stay quick;
# "input_tensor": shape stands for an Input of that shape (a top on free sizes).
CASES = [
    ("densenet121_notop", "DenseNet121",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "max"}, None),
    ("densenet121_top", "DenseNet121",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}, 32),
    ("densenet169_notop", "DenseNet169",
     {"input_shape": (None, None, 3), "include_top": False}, None),
    ("densenet201_notop", "DenseNet201",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "avg"}, None),
    ("inception_v3_notop", "InceptionV3",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "max"}, None),
    ("inception_v3_avg", "InceptionV3",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "avg"}, 75),
    ("inception_v3_top", "InceptionV3",
     {"input_tensor": (None, None, 3), "include_top": True, "classifier_activation": None},
     None),
    ("xception_notop", "Xception",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "avg"}, None),
    ("xception_max", "Xception",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "max"}, 71),
    ("xception_top", "Xception",
     {"input_tensor": (None, None, 3), "include_top": True, "classifier_activation": None},
     None),
    ("inception_resnet_v2_notop", "InceptionResNetV2",
     {"input_shape": (None, None, 3), "include_top": False}, 75),
    ("inception_resnet_v2_pool", "InceptionResNetV2",
     {"input_shape": (None, None, 3), "include_top": False, "pooling": "max"}, None),
    ("inception_resnet_v2_top", "InceptionResNetV2",
     {"input_tensor": (None, None, 3), "include_top": True}, None),
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
    """Every stride-th output value is stored (at most about 100 per case)."""
    return max(1, -(-size // 100))


def main() -> None:
    import keras
    import tensorflow as tf

    only = set(sys.argv[1:])
    cases = {}
    if only and os.path.exists(OUT):
        with open(OUT, encoding="utf-8") as f:
            cases = {k: v for k, v in json.load(f)["cases"].items() if k not in only}
    for case_id, builder, kwargs, size in CASES:
        if only and case_id not in only:
            continue
        keras.backend.clear_session()
        built = dict(kwargs)
        if "input_tensor" in built:
            built["input_tensor"] = keras.Input(shape=built["input_tensor"])
        model = getattr(keras.applications, builder)(weights=None, **built)
        weights = [(w.path, list(w.shape)) for w in model.weights]
        case = {"builder": builder, "kwargs": kwargs, "name": model.name,
                "layers": len(model.layers),
                "last_layers": [la.name for la in model.layers[-3:]],
                "output_shape": list(model.output.shape)}
        if size is not None:
            model.set_weights(fill_weights(weights))
            x = sample_input((size, size, 3))
            y = np.asarray(model(x, training=False))
            case.update({"image_size": size, "batch_output_shape": list(y.shape),
                         "stride": stride(y.size),
                         "output": [float(f"{v:.7g}") for v in y.ravel()[::stride(y.size)]],
                         "output_sum": float(y.astype("float64").sum()),
                         "output_abs_sum": float(np.abs(y.astype("float64")).sum())})
        # a case repeats an earlier case's leading weights: store only what it adds
        for other_id, other in cases.items():
            n = len(other["weights"])
            if ("weights_from" not in other and n <= len(weights)
                    and [list(w) for w in weights[:n]] == [list(w) for w in other["weights"]]):
                case["weights_from"], weights = other_id, weights[n:]
                break
        case["weights"] = weights
        cases[case_id] = case
        print(case_id, len(model.weights), case["output_shape"])
    data = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "python": sys.version.split()[0], "cases": cases}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
