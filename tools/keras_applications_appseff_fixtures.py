"""Reference numbers for tests/test_applications_appseff.py (EfficientNet, EfficientNetV2),
computed with Keras 3.

Forward cases: at a 32x32 input, the model's weights in order as (path, shape) and the
output on a fixed input after every weight is set by a formula of its index and shape
(``fill_weights`` below, repeated in the test). Structure cases (the deep variants,
without the top and with free image sizes): the number of weights, the number of
parameters and the SHA-256 of the (path, shape) list written as compact JSON, which
keeps the fixture small. Run with the benchmark environment's Python (Keras installed):

    python tools/keras_applications_appseff_fixtures.py

Writes tests/fixtures/keras_applications_appseff.json.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "keras_applications_appseff.json")

SMALL = (32, 32, 3)
FORWARD_CASES = [
    ("efficientnetb0_notop", "EfficientNetB0",
     {"input_shape": SMALL, "include_top": False, "pooling": "avg"}),
    ("efficientnetb0_top", "EfficientNetB0",
     {"input_shape": SMALL, "include_top": True, "classes": 7}),
    ("efficientnetv2b0_notop", "EfficientNetV2B0",
     {"input_shape": SMALL, "include_top": False, "pooling": "max"}),
    ("efficientnetv2b0_top", "EfficientNetV2B0",
     {"input_shape": SMALL, "include_top": True, "classes": 7,
      "classifier_activation": None}),
    ("efficientnetv2b1_noprep", "EfficientNetV2B1",
     {"input_shape": SMALL, "include_top": False, "include_preprocessing": False}),
]
STRUCTURE_CASES = [f"EfficientNetB{i}" for i in range(1, 8)] + [
    "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2S",
    "EfficientNetV2M", "EfficientNetV2L"]


def fill_weights(weights: list) -> list:
    """The k-th weight: 0.05 * sin(arange(size) * 0.37 + k); a variance (moving or
    Normalization's) gets abs() + 0.5 so it is positive, Normalization's count is k."""
    values = []
    for k, (path, shape) in enumerate(weights):
        size = int(np.prod(shape))
        w = 0.05 * np.sin(np.arange(size) * 0.37 + k).reshape(shape)
        if path.endswith("variance"):
            w = np.abs(w) + 0.5
        if path.endswith("/count"):
            values.append(np.array(k, dtype="int64"))
            continue
        values.append(w.astype("float32"))
    return values


def sample_input(shape: tuple) -> np.ndarray:
    """Two images with values in [0, 255]: 127.5 + 120 * cos(0.11 * i) over the batch."""
    size = 2 * int(np.prod(shape))
    return (127.5 + 120.0 * np.cos(np.arange(size) * 0.11)).reshape(
        (2,) + tuple(shape)).astype("float32")


def digest(weights: list) -> str:
    """SHA-256 of the (path, shape) list as compact JSON."""
    text = json.dumps([[p, list(s)] for p, s in weights], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def stride(size: int) -> int:
    """Every stride-th output value is stored (at most about 200 per case)."""
    return max(1, -(-size // 200))


def main() -> None:
    import keras
    import tensorflow as tf

    cases = {}
    for case_id, builder, kwargs in FORWARD_CASES:
        keras.backend.clear_session()  # default layer names (normalization/...) from 0
        model = getattr(keras.applications, builder)(weights=None, **kwargs)
        weights = [(w.path, list(w.shape)) for w in model.weights]
        model.set_weights(fill_weights(weights))
        x = sample_input(kwargs["input_shape"])
        y = np.asarray(model(x, training=False))
        case = {"builder": builder, "kwargs": kwargs, "name": model.name}
        # a top case repeats its no-top case's weights: store only what it adds
        for other_id, other in cases.items():
            n = len(other["weights"])
            if other["builder"] == builder and "weights_from" not in other and [
                    list(w) for w in weights[:n]] == [list(w) for w in other["weights"]]:
                case["weights_from"], weights = other_id, weights[n:]
                break
        cases[case_id] = case
        case.update({"weights": weights, "output_shape": list(y.shape),
                     "stride": stride(y.size),
                     "output": [float(f"{v:.7g}") for v in y.ravel()[::stride(y.size)]],
                     "output_sum": float(y.astype("float64").sum()),
                     "output_abs_sum": float(np.abs(y.astype("float64")).sum())})
        print(case_id, len(model.weights), y.shape)
    structures = {}
    for builder in STRUCTURE_CASES:
        keras.backend.clear_session()
        model = getattr(keras.applications, builder)(weights=None, include_top=False)
        weights = [(w.path, list(w.shape)) for w in model.weights]
        structures[builder] = {"name": model.name, "count": len(weights),
                               "params": int(model.count_params()),
                               "output_shape": list(model.output_shape),
                               "sha256": digest(weights)}
        print(builder, len(weights), model.count_params())
    data = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "python": sys.version.split()[0], "cases": cases, "structures": structures}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
