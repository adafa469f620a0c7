"""Record Keras 3's HashedCrossing outputs for tests/test_keras_small_gaps.py.

Run with Keras 3 and TensorFlow installed:
    python tools/keras_fixtures_hashed_crossing.py
It writes tests/fixtures/hashed_crossing.json (inputs, num_bins, outputs, versions).
"""

from __future__ import annotations

import json
import os

import numpy as np


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    words = ["A", "B", "", "hello world", "ünïcödé", "x" * 40, "y" * 70, "0", "-1"]
    cases = []
    for num_bins in (5, 97, 1 << 20):
        a = [str(w) for w in rng.choice(words, 12)]
        b = [int(v) for v in rng.integers(-(2**40), 2**40, 12)]
        c = [int(v) for v in rng.integers(-5, 5, 12)]
        for feats, dtypes in (((a, b), ("string", "int64")), ((b, c), ("int64", "int64")),
                              ((a, a), ("string", "string")),
                              ((a, b, c), ("string", "int64", "int32"))):
            inputs = [np.array(f, dtype=object if d == "string" else d)
                      for f, d in zip(feats, dtypes)]
            out = keras.layers.HashedCrossing(num_bins=num_bins)(tuple(inputs))
            cases.append({"num_bins": num_bins, "features": [list(f) for f in feats],
                          "dtypes": list(dtypes), "output": np.asarray(out).tolist()})
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                        "hashed_crossing.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"keras": keras.__version__, "tensorflow": tf.__version__, "cases": cases}, f,
                  ensure_ascii=False)


if __name__ == "__main__":
    main()
