"""Record Keras 3's answers for chainrule's tests of name_scope, StatelessScope and ops.jvp.

Run with an environment that has Keras 3 (TensorFlow backend)::

    python tools/keras_scopes_fixtures.py

It writes ``tests/fixtures/keras_scopes.json`` (variable paths made inside
nested ``keras.name_scope`` blocks, the Keras and TensorFlow versions) and
``tests/fixtures/keras_scopes.npz`` (``keras.ops.jvp`` inputs and results, and
a ``StatelessScope`` run).
"""

from __future__ import annotations

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")


def paths() -> dict:
    """Weight and variable paths under nested scopes, override_parent and deduplicate."""
    out = {}
    with keras.name_scope("outer"):
        with keras.name_scope("inner"):
            dense = keras.layers.Dense(2, name="d")
            dense.build((None, 3))
            v = keras.Variable(1.0, name="v")
        w = keras.Variable(1.0, name="w")
    out["dense_in_nested"] = [x.path for x in dense.weights]
    out["variable_in_nested"] = v.path
    out["variable_in_outer"] = w.path
    with keras.name_scope("enc"):
        lstm = keras.layers.LSTM(2, name="lstm")
        lstm.build((None, 3, 4))
    out["lstm_in_scope"] = [x.path for x in lstm.weights]
    plain = keras.layers.Dense(2, name="plain")
    plain.build((None, 3))
    out["dense_outside"] = [x.path for x in plain.weights]
    with keras.name_scope("a"):
        with keras.name_scope("b", override_parent="root/sub"):
            out["override_parent"] = keras.Variable(1.0, name="x").path
    caller = object()
    with keras.name_scope("blk", caller=caller):
        with keras.name_scope("blk", caller=caller):
            out["dedup_same_caller"] = keras.Variable(1.0, name="x").path
        with keras.name_scope("blk", caller=caller, deduplicate=False):
            out["no_dedup"] = keras.Variable(1.0, name="x").path
        with keras.name_scope("blk"):
            out["no_caller"] = keras.Variable(1.0, name="x").path
    return out


def jvps() -> dict:
    """Primals, tangents and Keras's outputs for a few functions."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)
    t = rng.standard_normal(4)
    y = rng.standard_normal((2, 3))
    ty = rng.standard_normal((2, 3))
    out = {"a": a, "x": x, "t": t, "y": y, "ty": ty}

    def mlp(x):
        return ops.tanh(ops.matmul(ops.convert_to_tensor(a), x))

    c = ops.convert_to_tensor  # TensorFlow's forward accumulator wants tensors
    p, tt = ops.jvp(mlp, (c(x),), (c(t),))
    out["mlp_out"], out["mlp_tangent"] = np.asarray(p), np.asarray(tt)

    def two(x, y):
        return ops.sum(ops.square(x)) * ops.softmax(y, axis=-1)

    p, tt = ops.jvp(two, (c(x), c(y)), (c(t), c(ty)))
    out["two_out"], out["two_tangent"] = np.asarray(p), np.asarray(tt)
    p, tt = ops.jvp(ops.sin, (c(np.float64(0.1)),), (c(np.float64(0.2)),))
    out["sin_out"], out["sin_tangent"] = np.asarray(p), np.asarray(tt)
    return out


def stateless() -> dict:
    """A Dense layer called inside a StatelessScope, and a variable assigned in one."""
    dense = keras.layers.Dense(2, name="sd")
    dense.build((None, 3))
    kernel = np.arange(6, dtype="float32").reshape(3, 2) / 10
    bias = np.array([0.5, -0.5], dtype="float32")
    inp = np.ones((1, 3), dtype="float32")
    before = [np.asarray(w.numpy()) for w in dense.weights]
    with keras.StatelessScope([(dense.kernel, kernel), (dense.bias, bias)]) as scope:
        y = np.asarray(dense(inp))
        dense.bias.assign(bias * 3)
        y2 = np.asarray(dense(inp))
    after = [np.asarray(w.numpy()) for w in dense.weights]
    return {"sl_kernel": kernel, "sl_bias": bias, "sl_input": inp, "sl_out": y,
            "sl_out_after_assign": y2, "sl_collected_bias": np.asarray(
                scope.get_current_value(dense.bias)),
            "sl_unchanged": np.array(all(np.array_equal(b, a) for b, a in zip(before, after)))}


def main() -> None:
    meta = {"keras": keras.__version__, "tensorflow": tf.__version__, "paths": paths()}
    with open(os.path.join(OUT, "keras_scopes.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
    np.savez(os.path.join(OUT, "keras_scopes.npz"), **jvps(), **stateless())
    print(json.dumps(meta, indent=1))


if __name__ == "__main__":
    main()
