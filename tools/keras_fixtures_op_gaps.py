"""Write small Keras-3 ``.keras`` files whose graphs hold ``Einsum``, ``Diag``, ``MultiHot`` and
``Unique`` operations, for tests/test_keras_ops_gaps.py, and one whose layers take symbolic
tensors by keyword (``mha(q, v, attention_mask=m, use_causal_mask=True)``,
``rnn(x, mask=m)``), for tests/test_keyword_tensors.py.

Run with an environment that has Keras 3 (and TensorFlow) and h5py::

    python tools/keras_fixtures_op_gaps.py

It writes ``tests/fixtures/keras_files/ops_gaps_{einsum,diag,unique}.keras``,
``tests/fixtures/keras_files/keyword_tensors.keras`` and
``tests/fixtures/ops_gaps_keras.npz`` with the inputs, Keras's ``predict`` outputs and the
Keras and TensorFlow versions. ``ops_gaps_unique.keras`` is there to be refused (its output's
shape depends on the values).
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "ops_gaps_keras.npz")
FILES = os.path.join(HERE, "..", "tests", "fixtures", "keras_files")


def einsum_model(keras):
    """Einsum of two and of three operands and MultiHot, between Dense layers."""
    from keras import layers, ops

    x = keras.Input((4,), name="x")
    ids = keras.Input((3,), dtype="int32", name="ids")
    h = layers.Dense(3, name="hidden")(x)
    outer = ops.einsum("bi,bj->bij", h, x)                      # (None, 3, 4)
    triple = ops.einsum("bi,bi,bi->b", h, h, h)                  # (None,)
    hot = ops.multi_hot(ids, num_classes=6)                      # (None, 6)
    joined = ops.concatenate([ops.reshape(outer, (-1, 12)), ops.expand_dims(triple, -1), hot],
                             axis=-1)
    return keras.Model([x, ids], layers.Dense(2, name="head")(joined), name="einsum")


def diag_model(keras):
    """Diag of a matrix (its k-th diagonal) and of a vector (a matrix), fixed batch of 4."""
    from keras import layers, ops

    x = keras.Input((4,), batch_size=4, name="x")
    h = layers.Dense(4, name="hidden")(x)                        # (4, 4)
    band = ops.diag(h, k=1)                                      # (3,)
    square = ops.diag(band)                                      # (3, 3)
    return keras.Model(x, [band, square], name="diag")


def keyword_model(layers, inputs):
    """Tensors passed by keyword: an attention mask (with a causal mask) and an RNN's mask."""
    q, v, am, x, m = inputs
    att = layers.MultiHeadAttention(2, 4, name="mha")(q, v, attention_mask=am,
                                                      use_causal_mask=True)
    rnn = layers.SimpleRNN(3, name="rnn")(x, mask=m)
    return [att, rnn]


def keyword_inputs(rng):
    """The data of :func:`keyword_model` (the test makes the same from the same generator)."""
    return [rng.normal(size=(3, 4, 8)).astype("float32"),
            rng.normal(size=(3, 5, 8)).astype("float32"), rng.random((3, 4, 5)) > 0.3,
            rng.normal(size=(3, 5, 2)).astype("float32"),
            np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)]


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    rec: dict = {"keras_version": np.array(keras.__version__),
                 "tf_version": np.array(tf.__version__),
                 "backend": np.array(keras.backend.backend())}
    os.makedirs(FILES, exist_ok=True)
    keras.utils.set_random_seed(0)
    model = einsum_model(keras)
    x = rng.normal(size=(5, 4)).astype("float32")
    ids = rng.integers(0, 6, size=(5, 3)).astype("int32")
    rec["einsum/x"], rec["einsum/ids"] = x, ids
    rec["einsum/y"] = model.predict([x, ids], verbose=0)
    model.save(os.path.join(FILES, "ops_gaps_einsum.keras"))
    model = diag_model(keras)
    x = rng.normal(size=(4, 4)).astype("float32")
    rec["diag/x"] = x
    rec["diag/y0"], rec["diag/y1"] = model.predict(x, batch_size=4, verbose=0)
    model.save(os.path.join(FILES, "ops_gaps_diag.keras"))
    inp = keras.Input((4,), name="x")
    keras.Model(inp, keras.ops.unique(keras.layers.Dense(4)(inp)), name="unique").save(
        os.path.join(FILES, "ops_gaps_unique.keras"))
    shapes = [((4, 8), "float32"), ((5, 8), "float32"), ((4, 5), "bool"), ((5, 2), "float32"),
              ((5,), "bool")]
    inputs = [keras.Input(s, dtype=d) for s, d in shapes]
    model = keras.Model(inputs, keyword_model(keras.layers, inputs))
    data = keyword_inputs(np.random.default_rng(5))
    for i, y in enumerate(model.predict(data, verbose=0)):
        rec[f"keyword/y{i}"] = y
    model.save(os.path.join(FILES, "keyword_tensors.keras"))
    np.savez_compressed(OUT, **rec)
    print(f"wrote {OUT}: {len(rec)} arrays")


if __name__ == "__main__":
    main()
