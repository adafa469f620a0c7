"""Record Keras 3's numbers for small convnets, for chainrule's parity tests.

For each model below (a list of ``(Keras layer class name, kwargs)``, built the same way
by the test), Keras 3 (TensorFlow backend, CPU) records: the data, the initial weights,
``predict`` on the data, then, after two epochs of Adam with ``shuffle=False``, the
weights and the loss history. The fixture ``tests/fixtures/conv_keras.npz`` holds them
with the Keras and TensorFlow versions; ``tests/test_conv_keras_parity.py`` loads it,
builds the same models in chainrule, copies the initial weights over with
``set_weights`` and compares. Needs Keras 3 and TensorFlow, so it runs in the benchmark
environment (``benchmarks/setup.sh``), never in the test suite:

    benchmarks/.venv/bin/python tools/keras_fixtures_conv.py
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests",
                   "fixtures", "conv_keras.npz")

# name -> (input shape, layers, loss, learning rate)
MODELS = {
    "cnn2d": ((12, 12, 1), [
        ("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
        ("MaxPooling2D", {"pool_size": 2}),
        ("Conv2D", {"filters": 6, "kernel_size": 3, "padding": "same", "activation": "relu"}),
        ("MaxPooling2D", {"pool_size": 2}),
        ("Flatten", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    "causal1d": ((16, 2), [
        ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2,
                    "activation": "relu"}),
        ("Conv1D", {"filters": 4, "kernel_size": 2, "strides": 2, "padding": "same",
                    "activation": "tanh"}),
        ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}),
        ("GlobalAveragePooling1D", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    "strides_same": ((9, 9, 2), [
        ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
                    "activation": "tanh"}),
        ("Conv2D", {"filters": 3, "kernel_size": 2, "dilation_rate": 2, "padding": "same"}),
        ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}),
        ("AveragePooling2D", {"pool_size": 2, "padding": "same"}),
        ("GlobalMaxPooling2D", {}),
        ("Dense", {"units": 1}),
    ], "mse", 0.01),
    "groups": ((8, 8, 4), [
        ("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 2, "activation": "relu"}),
        ("GlobalAveragePooling2D", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    "channels_first": ((2, 8, 8), [
        ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu",
                    "data_format": "channels_first"}),
        ("MaxPooling2D", {"pool_size": 2, "data_format": "channels_first"}),
        ("GlobalAveragePooling2D", {"data_format": "channels_first"}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    "transpose": ((4, 4, 2), [
        ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same",
                             "activation": "relu"}),
        ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 3,
                             "output_padding": 1}),
        ("Flatten", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    "transpose1d": ((6, 2), [
        ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2,
                             "activation": "tanh"}),
        ("GlobalMaxPooling1D", {}),
        ("Dense", {"units": 1}),
    ], "mse", 0.01),
    "depthwise_separable": ((8, 8, 3), [
        ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "activation": "relu"}),
        ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "strides": 2,
                             "activation": "relu"}),
        ("GlobalAveragePooling2D", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    "depthwise_separable1d": ((10, 3), [
        ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}),
        ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "dilation_rate": 2,
                             "activation": "relu"}),
        ("GlobalMaxPooling1D", {}),
        ("Dense", {"units": 3, "activation": "softmax"}),
    ], "sparse_categorical_crossentropy", 0.01),
    # a residual block with batch normalization, as a graph: (name, class, kwargs, inputs)
    "residual": ((8, 8, 3), [
        ("c1", "Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same", "use_bias": False},
         ["input"]),  # no bias before a batch normalization: its gradient is zero (noise)
        ("bn", "BatchNormalization", {}, ["c1"]),
        ("r1", "Activation", {"activation": "relu"}, ["bn"]),
        ("c2", "Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"}, ["r1"]),
        ("shortcut", "Conv2D", {"filters": 4, "kernel_size": 1}, ["input"]),
        ("sum", "Add", {}, ["c2", "shortcut"]),
        ("r2", "Activation", {"activation": "relu"}, ["sum"]),
        ("pool", "MaxPooling2D", {"pool_size": 2}, ["r2"]),
        ("gap", "GlobalAveragePooling2D", {}, ["pool"]),
        ("out", "Dense", {"units": 3, "activation": "softmax"}, ["gap"]),
    ], "sparse_categorical_crossentropy", 0.01),
}

SAMPLES, BATCH, EPOCHS = 16, 8, 2


def make_data(name: str, shape: tuple, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """The model's data, the same in Keras and in the test (seeded by the model's name)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    # values float16 can hold exactly: the fixture stores x at half the size, losing nothing
    x = rng.standard_normal((SAMPLES, *shape)).astype(np.float16).astype(np.float32)
    if loss == "mse":
        return x, rng.standard_normal((SAMPLES, 1)).astype(np.float32)
    return x, rng.integers(0, 3, SAMPLES).astype(np.int64)


def build(lib, shape: tuple, layers: list):
    """The model in ``lib`` (``keras`` or ``chainrule``): a Sequential stack of
    ``(class, kwargs)``, or a graph of ``(name, class, kwargs, input names)``."""
    if len(layers[0]) == 2:
        return lib.Sequential([lib.layers.Input(shape)] + [
            getattr(lib.layers, cls)(**kwargs) for cls, kwargs in layers])
    tensors = {"input": lib.layers.Input(shape)}
    for name, cls, kwargs, inputs in layers:
        args = [tensors[i] for i in inputs]
        tensors[name] = getattr(lib.layers, cls)(name=name, **kwargs)(
            args[0] if len(args) == 1 else args)
    return lib.Model(tensors["input"], tensors[layers[-1][0]])


def record(name: str, keras, tf) -> dict:
    shape, layers, loss, lr = MODELS[name]
    keras.utils.set_random_seed(0)
    model = build(keras, shape, layers)
    x, y = make_data(name, shape, loss)
    initial = model.get_weights()
    pred = model.predict(x, batch_size=BATCH, verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=loss)
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    out = {f"{name}/x": x.astype(np.float16), f"{name}/y": y, f"{name}/pred": pred,
           f"{name}/loss": np.array(history.history["loss"], dtype=np.float64)}
    for i, (w0, w1) in enumerate(zip(initial, model.get_weights())):
        out[f"{name}/initial_{i}"] = w0
        out[f"{name}/trained_{i}"] = w1
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()
    import keras  # noqa: PLC0415
    import tensorflow as tf  # noqa: PLC0415

    arrays: dict = {}
    recorded, skipped = {}, {}
    for name in MODELS:
        try:
            arrays.update(record(name, keras, tf))
            recorded[name] = MODELS[name]
        except Exception as e:  # noqa: BLE001 - e.g. an op the CPU build lacks
            skipped[name] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
            print(f"skipped {name}: {skipped[name]}")
    meta = {"keras": keras.__version__, "tensorflow": tf.__version__,
            "backend": keras.backend.backend(), "samples": SAMPLES, "batch_size": BATCH,
            "epochs": EPOCHS, "models": recorded, "skipped": skipped}
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    np.savez_compressed(args.out, **arrays)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes): {', '.join(recorded)}")


if __name__ == "__main__":
    main()
