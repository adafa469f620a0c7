"""Record Keras 3's losses and metrics on targets whose shape broadcasts against the predictions.

Keras 3's elementwise losses (regression, hinge, Poisson, Kullback-Leibler,
cosine) squeeze or add a trailing axis of length 1, then broadcast: targets of
shape ``(batch, 5)`` against a ``(batch, 1)`` output average the 5 errors of
each sample. This script records, for the same small arrays,

- every such loss function on several shape pairs (and which pairs Keras refuses),
- the Loss classes with sample weights under every reduction,
- the matching metrics over two batches (the second one weighted),
- ``evaluate`` of a masked model (Embedding(mask_zero=True) -> Dense(1)) against
  ``(batch, steps, 3)`` targets, with and without sample weights,

into tests/fixtures/broadcast_keras.json with the Keras and TensorFlow versions.
It needs Keras 3 and TensorFlow, so it runs in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_broadcast.py
"""

from __future__ import annotations

import json
import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "broadcast_keras.json"

FUNCTIONS = [
    "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "hinge", "squared_hinge",
    "categorical_hinge", "kl_divergence", "poisson", "cosine_similarity",
]
# (y_true shape, y_pred shape); the last two do not broadcast
SHAPES = [((6, 5), (6, 1)), ((6, 1), (6, 5)), ((6, 5), (5,)), ((4, 3, 5), (4, 3, 1)),
          ((4, 3, 5), (4, 3)), ((6,), (6, 1)), ((6, 5), (6,)), ((6, 5), (3, 1))]
CLASSES = {  # loss class -> metric class of the same function (None: no metric)
    "MeanSquaredError": "MeanSquaredError", "MeanAbsoluteError": "MeanAbsoluteError",
    "MeanAbsolutePercentageError": "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError": "MeanSquaredLogarithmicError", "Huber": None,
    "LogCosh": "LogCoshError", "Hinge": "Hinge", "SquaredHinge": "SquaredHinge",
    "KLDivergence": "KLDivergence", "Poisson": "Poisson", "CosineSimilarity": "CosineSimilarity",
}
REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(11)
    arrays = {}
    for a, b in SHAPES:
        for shape in (a, b):
            key = "x" + "_".join(map(str, shape))
            if key not in arrays:
                arrays[key] = rng.uniform(0.2, 2.0, size=shape).round(4)
    arrays["sw"] = rng.uniform(0.0, 2.0, size=6).round(4)

    def arr(shape):
        return arrays["x" + "_".join(map(str, shape))]

    functions = []
    for name in FUNCTIONS:
        for a, b in SHAPES:
            try:
                value = np.asarray(getattr(keras.losses, name)(arr(a), arr(b))).tolist()
            except Exception as e:  # noqa: BLE001  # Keras (TF) refuses: recorded as such
                value = None
                print(f"{name} {a} {b}: {type(e).__name__}")
            functions.append({"fn": name, "y_true": list(a), "y_pred": list(b), "value": value})

    classes = []
    sw = arrays["sw"]
    for cls in CLASSES:
        for reduction in REDUCTIONS:
            loss = getattr(keras.losses, cls)(reduction=reduction)
            for a, b in SHAPES[:2]:
                for weighted in (False, True):
                    value = loss(arr(a), arr(b), sample_weight=sw if weighted else None)
                    classes.append({"class": cls, "reduction": reduction, "y_true": list(a),
                                    "y_pred": list(b), "weighted": weighted,
                                    "value": np.asarray(value).tolist()})

    metrics = []
    for metric_cls in [*CLASSES.values(), "RootMeanSquaredError"]:
        if metric_cls is None:
            continue
        for a, b in SHAPES[:2]:
            metric = getattr(keras.metrics, metric_cls)()
            metric.update_state(arr(a), arr(b))
            first = float(metric.result())
            metric.update_state(arr(a)[::-1], arr(b), sample_weight=sw)
            metrics.append({"class": metric_cls, "y_true": list(a), "y_pred": list(b),
                            "first": first, "result": float(metric.result())})

    # a masked model: the padding steps count neither in the loss nor in the metric
    keras.utils.set_random_seed(3)
    tokens = rng.integers(1, 7, size=(6, 4))
    tokens[0, 2:] = 0
    tokens[3, 1:] = 0
    tokens[5, 3:] = 0
    targets = rng.normal(size=(6, 4, 3)).round(4)
    inp = keras.Input((4,))
    x = keras.layers.Embedding(7, 2, mask_zero=True)(inp)
    out = keras.layers.Dense(1)(x)
    model = keras.Model(inp, out)
    model.compile(loss="mse", metrics=["mae"])
    plain = model.evaluate(tokens, targets, batch_size=6, verbose=0, return_dict=True)
    # per-step weights: Keras refuses (6,) weights against the (6, 4) mask (it multiplies
    # them without aligning), so the weighted case weighs every step
    step_weights = rng.uniform(0.0, 2.0, size=(6, 4)).round(4)
    weighted = model.evaluate(tokens, targets, batch_size=6, sample_weight=step_weights,
                              verbose=0, return_dict=True)
    masked = {"tokens": tokens.tolist(), "targets": targets.tolist(),
              "weights": [w.tolist() for w in model.get_weights()],
              "pred": np.asarray(model.predict(tokens, verbose=0)).tolist(),
              "step_weights": step_weights.tolist(),
              "evaluate": {k: float(v) for k, v in plain.items()},
              "evaluate_weighted": {k: float(v) for k, v in weighted.items()}}

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "keras": keras.__version__, "tensorflow": tf.__version__,
        "arrays": {k: v.tolist() for k, v in arrays.items()},
        "functions": functions, "classes": classes, "metrics": metrics, "masked": masked,
    }) + "\n")
    print(f"wrote {OUT}: {len(functions)} function cases, {len(classes)} class cases, "
          f"{len(metrics)} metric cases")


if __name__ == "__main__":
    main()
