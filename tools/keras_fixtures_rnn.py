"""Record Keras 3's numbers for small sequence models, for tests/test_rnn_keras_parity.py.

For each model below (built by Keras layer names from a JSON-able spec), Keras 3
(TensorFlow backend) records: its initial weights, the data, ``predict`` before
training, and after two epochs of Adam with ``shuffle=False`` the weights and the
loss history. The test builds the same spec with chainrule's layers, copies the
initial weights in, and compares. Needs Keras 3 and TensorFlow, so it runs in the
benchmark environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_rnn.py

It writes ``tests/fixtures/rnn_keras.npz`` (with the Keras, backend and library versions).

Keras runs on its PyTorch backend here. On the TensorFlow backend the gradient of an
embedding is a ``tf.IndexedSlices`` with one row per occurrence of an id, and Adam's
``square(gradient)`` then squares each occurrence before they are summed, so a
repeated id's second moment differs from Keras's rule on a dense gradient (which the
JAX and PyTorch backends, and chainrule, follow). Every other model gives the same
numbers on both backends.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

N, T, F, VOCAB = 16, 6, 3, 12

# name -> (input shape, input kind, layers as [class name, kwargs], loss, target kind)
MODELS: dict = {
    "simple_rnn": ((T, F), "float", [["SimpleRNN", {"units": 5}], ["Dense", {"units": 1}]],
                   "mse", "reg"),
    "lstm": ((T, F), "float", [["LSTM", {"units": 5}], ["Dense", {"units": 1}]], "mse", "reg"),
    "stacked_lstm": ((T, F), "float", [["LSTM", {"units": 4, "return_sequences": True}],
                                        ["LSTM", {"units": 3}], ["Dense", {"units": 1}]],
                     "mse", "reg"),
    "gru_reset_after": ((T, F), "float", [["GRU", {"units": 5}], ["Dense", {"units": 1}]],
                        "mse", "reg"),
    "gru_reset_before": ((T, F), "float", [["GRU", {"units": 5, "reset_after": False}],
                                           ["Dense", {"units": 1}]], "mse", "reg"),
    "bidirectional_lstm": ((T, F), "float",
                           [["Bidirectional", {"layer": ["LSTM", {"units": 3}]}],
                            ["Dense", {"units": 1}]], "mse", "reg"),
    "embedding_masked_lstm": ((T,), "ids", [
        ["Embedding", {"input_dim": VOCAB, "output_dim": 4, "mask_zero": True}],
        ["LSTM", {"units": 5}], ["Dense", {"units": 1, "activation": "sigmoid"}]],
        "binary_crossentropy", "binary"),
    "embedding_lstm": ((T,), "ids", [
        ["Embedding", {"input_dim": VOCAB, "output_dim": 4}],
        ["LSTM", {"units": 5}], ["Dense", {"units": 1, "activation": "sigmoid"}]],
        "binary_crossentropy", "binary"),
    # a masked sequence output: the loss skips the padded steps
    "masked_bidirectional_gru_sequence": ((T,), "ids", [
        ["Embedding", {"input_dim": VOCAB, "output_dim": 4, "mask_zero": True}],
        ["Bidirectional", {"layer": ["GRU", {"units": 3, "return_sequences": True}]}],
        ["Dense", {"units": 3, "activation": "softmax"}]],
        "sparse_categorical_crossentropy", "sparse_steps"),
    "masking_simple_rnn_sequence": ((T, F), "float_padded", [
        ["Masking", {"mask_value": 0.0}],
        ["SimpleRNN", {"units": 4, "return_sequences": True}],
        ["Dense", {"units": 2}]], "mse", "reg_steps"),
}


def make_data(kind: str, target: str, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    if kind == "ids":
        x = rng.integers(1, VOCAB, (N, T))
        lengths = rng.integers(2, T + 1, N)
        for i, n in enumerate(lengths):
            x[i, : T - n] = 0  # pre-padding, as pad_sequences does
        x = x.astype("int32")
    else:
        x = rng.standard_normal((N, T, F)).astype("float32")
        if kind == "float_padded":
            lengths = rng.integers(2, T + 1, N)
            for i, n in enumerate(lengths):
                x[i, n:] = 0.0  # post-padding
    if target == "reg":
        y = rng.standard_normal((N, 1)).astype("float32")
    elif target == "binary":
        y = rng.integers(0, 2, (N, 1)).astype("float32")
    elif target == "sparse_steps":
        y = rng.integers(0, 3, (N, T)).astype("int32")
    else:
        y = rng.standard_normal((N, T, 2)).astype("float32")
    return x, y


def build(lib, name: str):
    """The model ``name`` with ``lib``'s layers (``keras`` or ``chainrule``)."""
    shape, kind, layers, _, _ = MODELS[name]

    def make(spec):
        cls, kwargs = spec
        kwargs = dict(kwargs)
        if "layer" in kwargs:
            kwargs["layer"] = make(kwargs["layer"])
        return getattr(lib.layers, cls)(**kwargs)

    dtype = "int32" if kind == "ids" else "float32"
    model = lib.Sequential([lib.layers.Input(shape=shape, dtype=dtype)]
                           + [make(s) for s in layers])
    return model


def main() -> int:
    import keras

    backend = keras.backend.backend()
    lib = __import__("torch" if backend == "torch" else backend)
    out: dict = {"versions": np.array(json.dumps({"keras": keras.__version__, "backend": backend,
                                                  backend: lib.__version__}))}
    for i, name in enumerate(MODELS):
        keras.utils.set_random_seed(i)
        _, kind, _, loss, target = MODELS[name]
        x, y = make_data(kind, target, seed=100 + i)
        model = build(keras, name)
        weights = model.get_weights()
        pred0 = model.predict(x, verbose=0)
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=loss)
        hist = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        out[f"{name}/x"], out[f"{name}/y"], out[f"{name}/pred0"] = x, y, pred0
        out[f"{name}/loss"] = np.array(hist.history["loss"])
        for j, w in enumerate(weights):
            out[f"{name}/w0_{j}"] = w
        for j, w in enumerate(model.get_weights()):
            out[f"{name}/w2_{j}"] = w
        print(name, [w.shape for w in weights], hist.history["loss"])
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "rnn_keras.npz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez_compressed(path, **out)
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
