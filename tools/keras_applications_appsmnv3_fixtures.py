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

# (case id, builder name, keyword arguments, whether to run the model: True, False (weights
# only) or "hash" (weights only, the paths stored as their sha256 to keep the file small))
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
    ("convnext_tiny_notop", "ConvNeXtTiny",
     {"input_shape": (32, 32, 3), "include_top": False, "pooling": "avg"}, True),
    ("convnext_tiny_top", "ConvNeXtTiny",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7,
      "classifier_activation": None}, True),
    ("convnext_base_notop", "ConvNeXtBase",
     {"input_shape": (32, 32, 3), "include_top": False, "include_preprocessing": False}, False),
    # Small, Large and XLarge are Base's structure with other widths: their widths and depths are
    # compared through Keras's MODEL_CONFIGS (recorded below), which is cheaper to test
    ("nasnet_mobile_notop", "NASNetMobile",
     {"input_shape": (32, 32, 3), "include_top": False, "pooling": "max"}, True),
    ("nasnet_mobile_top", "NASNetMobile",
     {"input_shape": (32, 32, 3), "include_top": True, "classes": 7}, True),
    ("nasnet_large_notop", "NASNetLarge", {"input_shape": (32, 32, 3), "include_top": False},
     "hash"),
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


def paths_sha256(paths: list) -> str:
    """The sha256 of the paths, one a line (the test computes the same)."""
    import hashlib

    return hashlib.sha256("\n".join(paths).encode()).hexdigest()


def compact(weights: list, name: str, cases: dict) -> dict:
    """The shapes, and the paths as those of an earlier case (its model name replaced by
    this one's) plus the paths it does not have, to keep the file small."""
    paths = [p for p, _ in weights]
    out = {"shapes": [list(s) for _, s in weights]}
    best = None
    for other_id, other in cases.items():
        if "paths" not in other:
            continue
        theirs = [p.replace(other["name"], name) for p in expand_paths(other, cases)]
        n = len(theirs)
        if paths[:n] == theirs and (best is None or n > best[1]):
            best = (other_id, n)
    if best is None:
        out["paths"] = paths
    else:
        out["paths_from"], out["paths"] = best[0], paths[best[1]:]
    return out


def expand_paths(case: dict, cases: dict) -> list:
    """A case's weight paths (the inverse of ``compact``; the test does the same)."""
    if "paths_from" not in case:
        return list(case["paths"])
    other = cases[case["paths_from"]]
    return [p.replace(other["name"], case["name"])
            for p in expand_paths(other, cases)] + case["paths"]


def expand(case: dict, cases: dict) -> list:
    return [[p, s] for p, s in zip(expand_paths(case, cases), case["shapes"])]


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
        keras.backend.clear_session()  # default layer names start afresh (the test does too)
        model = getattr(keras.applications, builder)(weights=None, **kwargs)
        weights = [(w.path, list(w.shape)) for w in model.weights]
        case = {"builder": builder, "kwargs": kwargs, "name": model.name}
        if run is True:
            model.set_weights(fill_weights(weights))
            x = sample_input(kwargs["input_shape"])
            if input_scale(kwargs) != 1.0:
                x = x * input_scale(kwargs) + 127.5
            y = np.asarray(model(x, training=False))
            case.update({"output_shape": list(y.shape), "stride": stride(y.size),
                         "output": [float(f"{v:.7g}") for v in y.ravel()[::stride(y.size)]],
                         "output_sum": float(y.astype("float64").sum()),
                         "output_abs_sum": float(np.abs(y.astype("float64")).sum())})
        if run == "hash":
            case.update({"shapes": [s for _, s in weights], "paths_sha256": paths_sha256(
                [p for p, _ in weights]), "first_paths": [p for p, _ in weights[:3]]})
        else:
            case.update(compact(weights, model.name, cases))
            assert expand(case, cases) == [[p, s] for p, s in weights]
        cases[case_id] = case
        print(case_id, len(model.weights), case.get("output_shape"))
    from keras.src.applications import convnext, mobilenet_v3

    data = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "python": sys.version.split()[0], "cases": cases,
            "convnext_configs": convnext.MODEL_CONFIGS,
            "convnext_hashes": convnext.WEIGHTS_HASHES,
            "mnv3_hashes": mobilenet_v3.WEIGHTS_HASHES}
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, separators=(",", ":"))
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
