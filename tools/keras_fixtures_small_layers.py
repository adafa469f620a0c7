"""Record Keras 3's numbers for the small layers (noise, PReLU, ELU, unit and RMS
normalization, 3-D padding/cropping/upsampling, RandomCrop's deterministic paths,
StackedRNNCells, ActivityRegularization's loss).

For each case the script builds the layer(s) in Keras 3 (TensorFlow backend),
records the input, the weights it gave them (PReLU's and RMSNormalization's set
to random values first, so they matter), and the output; one small model is also
trained with ``fit`` (SGD, ``shuffle=False``) and its losses and final weights
recorded. Everything goes to ``tests/fixtures/small_layers_keras.npz`` with the
versions of Keras and TensorFlow, and a model of all the layers is saved by Keras
to ``tests/fixtures/keras_files/small_layers.keras`` (loaded by chainrule in the tests). The tests rebuild the same layers in chainrule
from the recorded specifications and compare; they never import Keras. Run it in
the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_small_layers.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures",
                   "small_layers_keras.npz")
ARCHIVE = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_files",
                       "small_layers.keras")

# (name, input shape with batch, [(class, kwargs)], call kwargs, randomize weights)
CASES = [
    ("prelu_shared", (4, 5, 3), [("PReLU", {"shared_axes": [1]})], {}, True),
    ("prelu_full", (4, 2, 3), [("PReLU", {})], {}, True),
    ("prelu_image", (2, 3, 3, 2), [("PReLU", {"shared_axes": [1, 2]})], {}, True),
    ("elu", (4, 6), [("ELU", {"alpha": 0.7})], {}, False),
    ("elu_default", (3, 2, 4), [("ELU", {})], {}, False),
    ("identity", (2, 3), [("Identity", {})], {}, False),
    ("unit_norm", (4, 6), [("UnitNormalization", {})], {}, False),
    ("unit_norm_axes", (3, 4, 5), [("UnitNormalization", {"axis": [1, 2]})], {}, False),
    ("rms_norm", (4, 6), [("RMSNormalization", {})], {}, True),
    ("rms_norm_axes", (3, 4, 5), [("RMSNormalization", {"axis": [1, 2], "epsilon": 0.01})], {},
     True),
    ("upsampling3d", (2, 2, 3, 2, 2), [("UpSampling3D", {"size": [2, 1, 3]})], {}, False),
    ("upsampling3d_first", (1, 2, 2, 3, 2),
     [("UpSampling3D", {"size": 2, "data_format": "channels_first"})], {}, False),
    ("zeropadding3d", (2, 2, 3, 2, 2),
     [("ZeroPadding3D", {"padding": [[1, 0], [2, 1], [0, 2]]})], {}, False),
    ("zeropadding3d_first", (1, 2, 2, 3, 2),
     [("ZeroPadding3D", {"padding": [1, 2, 0], "data_format": "channels_first"})], {}, False),
    ("cropping3d", (2, 4, 5, 4, 2),
     [("Cropping3D", {"cropping": [[1, 0], [0, 1], [1, 1]]})], {}, False),
    ("cropping3d_first", (1, 2, 4, 5, 4),
     [("Cropping3D", {"cropping": 1, "data_format": "channels_first"})], {}, False),
    ("gaussian_noise_inference", (3, 4), [("GaussianNoise", {"stddev": 0.5})],
     {"training": False}, False),
    ("gaussian_dropout_inference", (3, 4), [("GaussianDropout", {"rate": 0.4})],
     {"training": False}, False),
    ("alpha_dropout_inference", (3, 4), [("AlphaDropout", {"rate": 0.3})],
     {"training": False}, False),
    ("random_crop_inference", (2, 5, 6, 1), [("RandomCrop", {"height": 3, "width": 4})],
     {"training": False}, False),
    ("random_crop_small", (2, 4, 8, 1), [("RandomCrop", {"height": 6, "width": 6})],
     {"training": True}, False),
    ("random_crop_equal_height", (2, 5, 8, 2), [("RandomCrop", {"height": 5, "width": 3})],
     {"training": True}, False),
]

STACKED = [
    ("stacked_lstm_gru_simple", (2, 5, 3),
     [("LSTMCell", {"units": 4}), ("GRUCell", {"units": 3}), ("SimpleRNNCell", {"units": 2})],
     {"return_sequences": True}),
    ("stacked_states", (3, 4, 2), [("GRUCell", {"units": 3}), ("LSTMCell", {"units": 2})],
     {"return_state": True}),
]


def _flat(x):
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [x]


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(1234)
    keras.utils.set_random_seed(7)
    arrays: dict = {}
    spec: dict = {"keras": keras.__version__, "tensorflow": tf.__version__, "cases": [],
                  "stacked": [], "trained": None, "activity": None}
    for name, shape, layers, call_kwargs, randomize in CASES:
        x = rng.standard_normal(shape).astype("float32")
        objs = [getattr(keras.layers, cls)(**kw) for cls, kw in layers]
        y = x
        for layer in objs:
            if not layer.built:
                layer.build(y.shape)
            if randomize:
                layer.set_weights([rng.uniform(-1.0, 1.5, w.shape).astype("float32")
                                   for w in layer.get_weights()])
            y = layer(y, **call_kwargs)
        arrays[f"{name}/x"] = x
        arrays[f"{name}/y"] = np.asarray(y)
        weights = [w for layer in objs for w in layer.get_weights()]
        for i, w in enumerate(weights):
            arrays[f"{name}/w{i}"] = w
        spec["cases"].append({"name": name, "layers": layers, "call": call_kwargs,
                              "n_weights": len(weights),
                              "configs": [layer.get_config() for layer in objs]})
    for name, shape, cells, rnn_kwargs in STACKED:
        x = rng.standard_normal(shape).astype("float32")
        stacked = keras.layers.StackedRNNCells(
            [getattr(keras.layers, cls)(**kw) for cls, kw in cells])
        rnn = keras.layers.RNN(stacked, **rnn_kwargs)
        out = rnn(x)
        outs = [np.asarray(o) for o in _flat(out)]
        arrays[f"{name}/x"] = x
        for i, o in enumerate(outs):
            arrays[f"{name}/y{i}"] = o
        weights = rnn.get_weights()
        for i, w in enumerate(weights):
            arrays[f"{name}/w{i}"] = w
        spec["stacked"].append({"name": name, "cells": cells, "rnn": rnn_kwargs,
                                "n_outputs": len(outs), "n_weights": len(weights),
                                "paths": [w.path for w in rnn.weights]})
    # ActivityRegularization's loss (Keras 3 divides it by the batch size)
    x = rng.standard_normal((5, 3)).astype("float32")
    layer = keras.layers.ActivityRegularization(l1=0.01, l2=0.003)
    layer(x)
    arrays["activity/x"] = x
    arrays["activity/loss"] = np.asarray(layer.losses[0])
    spec["activity"] = {"l1": 0.01, "l2": 0.003}
    # a small model trained with fit: Dense, PReLU, RMSNormalization, UnitNormalization,
    # ActivityRegularization and the noise layers (inactive in predict)
    xs = rng.standard_normal((32, 6)).astype("float32")
    ys = (xs[:, :2].sum(axis=1, keepdims=True) > 0).astype("float32") + 0.1 * xs[:, 2:3]
    trained_layers = [("Dense", {"units": 8}), ("PReLU", {}), ("RMSNormalization", {}),
                      ("ELU", {"alpha": 0.5}), ("ActivityRegularization", {"l2": 0.01}),
                      ("Dense", {"units": 4}), ("UnitNormalization", {}),
                      ("Dense", {"units": 1})]
    model = keras.Sequential([keras.Input((6,))] + [
        getattr(keras.layers, cls)(**kw) for cls, kw in trained_layers])
    for layer in model.layers:
        if type(layer).__name__ in ("PReLU", "RMSNormalization"):
            layer.set_weights([rng.uniform(0.1, 1.0, w.shape).astype("float32")
                               for w in layer.get_weights()])
    for i, w in enumerate(model.get_weights()):
        arrays[f"trained/w0_{i}"] = w
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    hist = model.fit(xs, ys, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        arrays[f"trained/w1_{i}"] = w
    arrays["trained/x"], arrays["trained/y"] = xs, ys
    arrays["trained/pred"] = np.asarray(model.predict(xs, verbose=0))
    spec["trained"] = {"layers": trained_layers, "lr": 0.05, "batch_size": 8, "epochs": 3,
                       "loss": hist.history["loss"], "n_weights": len(model.get_weights())}
    # a .keras archive Keras writes with every new layer, which chainrule must load and run
    archive = keras.Sequential([
        keras.Input((4, 4, 4, 2)), keras.layers.ZeroPadding3D(1), keras.layers.Cropping3D(1),
        keras.layers.UpSampling3D((1, 1, 2)), keras.layers.Reshape((16, 16)),
        keras.layers.PReLU(shared_axes=[1], alpha_initializer="ones"),
        keras.layers.RMSNormalization(), keras.layers.GaussianNoise(0.1),
        keras.layers.AlphaDropout(0.1), keras.layers.GaussianDropout(0.1),
        keras.layers.Identity(), keras.layers.ActivityRegularization(0.01),
        keras.layers.RNN(keras.layers.StackedRNNCells([keras.layers.LSTMCell(3),
                                                       keras.layers.GRUCell(2)])),
        keras.layers.Dense(3), keras.layers.ELU(), keras.layers.UnitNormalization()])
    xa = rng.standard_normal((2, 4, 4, 4, 2)).astype("float32")
    archive.save(ARCHIVE)
    arrays["archive/x"], arrays["archive/y"] = xa, archive.predict(xa, verbose=0)
    arrays["spec"] = np.frombuffer(json.dumps(spec, default=str).encode(), dtype=np.uint8)
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT}: {len(arrays)} arrays, {os.path.getsize(OUT)} bytes")


if __name__ == "__main__":
    main()
