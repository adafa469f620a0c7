"""Record Keras 3's numbers for the weight constraints (``keras.constraints``).

Applies each constraint to fixed float32 arrays (a zero column included, where
epsilon placement shows), and trains a small Dense model with ``MaxNorm`` and
``UnitNorm`` kernels for two epochs of SGD with ``shuffle=False``, recording
its initial and final weights, into ``tests/fixtures/constraints_keras.npz``.
The tests compare chainrule against these numbers; they never import Keras.
Run it in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_constraints.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "constraints_keras.npz")

#: (name, class, kwargs, input key)
CASES = [
    ("max_norm", "MaxNorm", {"max_value": 2.0, "axis": 0}, "w2d"),
    ("max_norm_axis1", "MaxNorm", {"max_value": 0.5, "axis": 1}, "w2d"),
    ("max_norm_conv", "MaxNorm", {"max_value": 1.0, "axis": [0, 1, 2]}, "w4d"),
    ("unit_norm", "UnitNorm", {"axis": 0}, "w2d"),
    ("unit_norm_axis1", "UnitNorm", {"axis": 1}, "w2d"),
    ("min_max_norm", "MinMaxNorm", {"min_value": 0.5, "max_value": 1.5, "rate": 0.7,
                                    "axis": 0}, "w2d"),
    ("min_max_norm_strict", "MinMaxNorm", {"min_value": 1.0, "max_value": 2.0}, "w2d"),
    ("non_neg", "NonNeg", {}, "w2d"),
]


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(7)
    inputs = {"w2d": (rng.standard_normal((5, 6)) * 0.8).astype("float32"),
              "w4d": (rng.standard_normal((3, 3, 2, 4)) * 0.5).astype("float32")}
    inputs["w2d"][:, 2] = 0.0  # a zero column: epsilon keeps it zero
    out: dict = {f"in_{k}": v for k, v in inputs.items()}
    for name, cls, kw, key in CASES:
        c = getattr(keras.constraints, cls)(**kw)
        out[f"out_{name}"] = keras.ops.convert_to_numpy(c(inputs[key]))

    keras.utils.set_random_seed(0)
    x = rng.standard_normal((32, 6)).astype("float32")
    y = rng.standard_normal((32, 1)).astype("float32")
    model = keras.Sequential([
        keras.Input((6,)),
        keras.layers.Dense(4, activation="tanh",
                           kernel_constraint=keras.constraints.MaxNorm(0.5)),
        keras.layers.Dense(1, kernel_constraint=keras.constraints.UnitNorm()),
    ])
    for i, w in enumerate(model.get_weights()):
        out[f"train_init_{i}"] = w
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    hist = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        out[f"train_final_{i}"] = w
    out["train_x"], out["train_y"] = x, y
    out["train_loss"] = np.array(hist.history["loss"])
    out["meta"] = np.array(json.dumps({
        "keras": keras.__version__, "tensorflow": tf.__version__,
        "cases": CASES}))
    np.savez_compressed(OUT, **out)
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
