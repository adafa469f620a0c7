"""Record Keras 3's Adafactor on three variables for tests/test_keras_optimizers_more.py.

Run with Keras 3 and TensorFlow installed:
    python tools/keras_fixtures_adafactor.py
It writes tests/fixtures/adafactor_keras.npz: initial weights, five steps of gradients,
the weights after them (float32), and the versions.
"""

from __future__ import annotations

import os

import numpy as np


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    shapes = [(3,), (4, 5), (2, 3, 4)]
    w0 = [rng.normal(size=s).astype("float32") for s in shapes]
    grads = [[rng.normal(size=s).astype("float32") for s in shapes] for _ in range(5)]
    variables = [keras.Variable(w) for w in w0]
    opt = keras.optimizers.Adafactor(learning_rate=0.1)
    for g in grads:
        opt.apply(g, variables)
    arrays = {f"w0_{i}": w for i, w in enumerate(w0)}
    arrays.update({f"g{k}_{i}": g for k, gs in enumerate(grads) for i, g in enumerate(gs)})
    arrays.update({f"w5_{i}": np.asarray(v) for i, v in enumerate(variables)})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                        "adafactor_keras.npz")
    np.savez(path, keras=keras.__version__, tensorflow=tf.__version__, **arrays)


if __name__ == "__main__":
    main()
