"""Record Keras 3's numbers for small ConvLSTM models, for tests/test_conv_lstm_keras_parity.py.

For each model below (built by Keras layer names from a JSON-able spec), Keras 3
records: its initial weights, the data, ``predict`` before training, and after two
epochs of Adam with ``shuffle=False`` the weights and the loss history; also each
ConvLSTM layer's ``get_config()`` and ``count_params()``. The test builds the same spec
with chainrule's layers, copies the initial weights in, and compares. One model is also
saved by Keras as a ``.keras`` file (with its ``predict`` output), which chainrule must
load and predict alike. Needs Keras 3 and a backend, so it runs in the benchmark
environment, not in the test suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_conv_lstm.py

It writes ``tests/fixtures/conv_lstm_keras.npz`` (with the Keras, backend and library
versions) and ``tests/fixtures/conv_lstm_keras.keras``. Keras runs on its PyTorch
backend, as for the other recurrent fixtures (tools/keras_fixtures_rnn.py).
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

N = 8

# name -> (input shape, data kind, layers as [class name, kwargs], loss, target)
MODELS: dict = {
    "conv_lstm2d_valid": ((4, 7, 7, 2), "float", [
        ["ConvLSTM2D", {"filters": 3, "kernel_size": 3}],
        ["Flatten", {}], ["Dense", {"units": 1}]], "mse", "reg"),
    # the keras-io next-frame model in miniature: sequences in, sequences out
    "next_frame": ((4, 6, 6, 1), "unit", [
        ["ConvLSTM2D", {"filters": 4, "kernel_size": 3, "padding": "same",
                        "return_sequences": True, "activation": "relu"}],
        ["BatchNormalization", {}],
        ["ConvLSTM2D", {"filters": 3, "kernel_size": 1, "padding": "same",
                        "return_sequences": True, "activation": "relu"}],
        ["Conv3D", {"filters": 1, "kernel_size": 3, "padding": "same",
                    "activation": "sigmoid"}]], "binary_crossentropy", "next_frame"),
    "conv_lstm2d_strided_backwards": ((5, 8, 8, 2), "float", [
        ["ConvLSTM2D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same",
                        "go_backwards": True, "recurrent_activation": "hard_sigmoid"}],
        ["GlobalAveragePooling2D", {}], ["Dense", {"units": 1}]], "mse", "reg"),
    "conv_lstm2d_dilated_channels_first": ((4, 2, 7, 7), "float", [
        ["ConvLSTM2D", {"filters": 2, "kernel_size": 2, "dilation_rate": 2,
                        "data_format": "channels_first", "unit_forget_bias": False,
                        "return_sequences": True}],
        ["Flatten", {}], ["Dense", {"units": 1}]], "mse", "reg"),
    "conv_lstm1d_stack": ((5, 9, 3), "float", [
        ["ConvLSTM1D", {"filters": 4, "kernel_size": 3, "padding": "same",
                        "return_sequences": True}],
        ["ConvLSTM1D", {"filters": 2, "kernel_size": 2, "use_bias": False}],
        ["Flatten", {}], ["Dense", {"units": 1}]], "mse", "reg"),
    # padded sequences: Masking marks the all-zero positions of the padded frames, and the
    # layer keeps the previous state and output there
    "masking_conv_lstm1d": ((5, 6, 2), "float_padded", [
        ["Masking", {"mask_value": 0.0}],
        ["ConvLSTM1D", {"filters": 3, "kernel_size": 3, "padding": "same"}],
        ["Flatten", {}], ["Dense", {"units": 1}]], "mse", "reg"),
    "conv_lstm3d": ((3, 4, 4, 4, 1), "float", [
        ["ConvLSTM3D", {"filters": 2, "kernel_size": 2}],
        ["Flatten", {}], ["Dense", {"units": 1}]], "mse", "reg"),
}

#: the model Keras also saves as a .keras file
SAVED = "next_frame"


def make_data(shape: tuple, kind: str, target: str, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    if kind == "unit":  # frames in [0, 1] (pixel intensities)
        x = rng.random((N, *shape)).astype("float32")
    else:
        x = rng.standard_normal((N, *shape)).astype("float32")
        if kind == "float_padded":
            lengths = rng.integers(2, shape[0] + 1, N)
            for i, n in enumerate(lengths):
                x[i, n:] = 0.0  # post-padding: whole frames of zeros
    if target == "next_frame":  # the next frame of a moving bright spot-like pattern
        y = np.clip(np.roll(x, -1, axis=1) * 0.8 + 0.1, 0, 1).astype("float32")
    else:
        y = rng.standard_normal((N, 1)).astype("float32")
    return x, y


def build(lib, name: str):
    """The model ``name`` with ``lib``'s layers (``keras`` or ``chainrule``)."""
    shape, _, layers, _, _ = MODELS[name]
    made = [getattr(lib.layers, cls)(**dict(kwargs)) for cls, kwargs in layers]
    return lib.Sequential([lib.layers.Input(shape=shape)] + made)


def main() -> int:
    import keras

    backend = keras.backend.backend()
    lib = __import__("torch" if backend == "torch" else backend)
    out: dict = {"versions": np.array(json.dumps({"keras": keras.__version__, "backend": backend,
                                                  backend: lib.__version__}))}
    here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    for i, name in enumerate(MODELS):
        keras.utils.set_random_seed(i)
        shape, kind, _, loss, target = MODELS[name]
        x, y = make_data(shape, kind, target, seed=200 + i)
        model = build(keras, name)
        weights = model.get_weights()
        pred0 = model.predict(x, verbose=0)
        configs = [dict(layer.get_config(), count_params=layer.count_params(),
                        output_shape=list(layer.output.shape))
                   for layer in model.layers if type(layer).__name__.startswith("ConvLSTM")]
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=loss)
        hist = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
        out[f"{name}/x"], out[f"{name}/y"], out[f"{name}/pred0"] = x, y, pred0
        out[f"{name}/loss"] = np.array(hist.history["loss"])
        out[f"{name}/configs"] = np.array(json.dumps(configs, default=str).encode())
        for j, w in enumerate(weights):
            out[f"{name}/w0_{j}"] = w
        for j, w in enumerate(model.get_weights()):
            out[f"{name}/w2_{j}"] = w
        if name == SAVED:
            model.save(os.path.join(here, "conv_lstm_keras.keras"))
            out[f"{name}/pred2"] = model.predict(x, verbose=0)
        print(name, [w.shape for w in weights], hist.history["loss"])
    path = os.path.join(here, "conv_lstm_keras.npz")
    os.makedirs(here, exist_ok=True)
    np.savez_compressed(path, **out)
    for p in (path, os.path.join(here, "conv_lstm_keras.keras")):
        print("wrote", os.path.normpath(p), os.path.getsize(p), "bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
