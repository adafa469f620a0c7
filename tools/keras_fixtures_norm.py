"""Record Keras 3's numbers for the normalization, merging and reshaping layers.

Builds small models in Keras 3 (TensorFlow backend), records their inputs,
initial weights, outputs and (for the trained ones) final weights, moving
statistics included, and loss history after two epochs of Adam with
``shuffle=False``, into ``tests/fixtures/norm_keras.npz``. The tests build
the same models in chainrule from the recorded specifications and compare;
they never import Keras. Run it in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_norm.py
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "norm_keras.npz")

# Sequential models: (name, input shape, [(layer class, kwargs), ...], training or None)
SEQUENTIAL = [
    ("bn_mlp", (6,), [("Dense", {"units": 8, "activation": "relu"}),
                      ("BatchNormalization", {}),
                      ("Dense", {"units": 3, "activation": "softmax"})],
     {"loss": "sparse_categorical_crossentropy", "target": "sparse", "lr": 0.01}),
    ("bn_4d", (12,), [("Dense", {"units": 24}),
                      ("Reshape", {"target_shape": [2, 3, 4]}),
                      ("BatchNormalization", {"momentum": 0.9}),
                      ("BatchNormalization", {"axis": 1, "center": False, "epsilon": 0.01}),
                      ("Flatten", {}),
                      ("Dense", {"units": 2})],
     {"loss": "mse", "target": "reg", "lr": 0.01}),
    ("bn_frozen_inference", (2, 3, 4), [("BatchNormalization", {"axis": 1}),
                                        ("BatchNormalization", {"axis": -1, "scale": False})],
     None),
    ("layer_norm", (4, 6), [("Dense", {"units": 8}), ("LayerNormalization", {})], None),
    ("layer_norm_axes", (3, 4, 5), [("LayerNormalization", {"axis": [1, 2], "epsilon": 0.01}),
                                    ("LayerNormalization", {"center": False})], None),
    ("layer_norm_trained", (5,), [("Dense", {"units": 6, "activation": "tanh"}),
                                  ("LayerNormalization", {}),
                                  ("Dense", {"units": 1})],
     {"loss": "mse", "target": "reg1", "lr": 0.01}),
    ("group_norm", (4, 4, 8), [("GroupNormalization", {"groups": 4}),
                               ("GroupNormalization", {"groups": -1, "scale": False}),
                               ("GroupNormalization", {"groups": 1})], None),
    ("group_norm_axis1", (6, 5), [("GroupNormalization", {"groups": 3, "axis": 1})], None),
    ("group_norm_trained", (8,), [("Dense", {"units": 8}),
                                  ("Reshape", {"target_shape": [2, 4]}),
                                  ("GroupNormalization", {"groups": 2}),
                                  ("Flatten", {}),
                                  ("Dense", {"units": 1})],
     {"loss": "mse", "target": "reg1", "lr": 0.01}),
]

# single reshaping layers: (name, class, kwargs, input shape)
RESHAPING = [
    ("zp1", "ZeroPadding1D", {"padding": 2}, (2, 3, 4)),
    ("zp1_pair", "ZeroPadding1D", {"padding": [1, 3]}, (2, 3, 4)),
    ("zp2", "ZeroPadding2D", {"padding": [[1, 0], [2, 1]]}, (2, 3, 3, 2)),
    ("zp2_first", "ZeroPadding2D", {"padding": 1, "data_format": "channels_first"},
     (2, 2, 3, 3)),
    ("crop1", "Cropping1D", {"cropping": [1, 2]}, (2, 6, 3)),
    ("crop2", "Cropping2D", {"cropping": [[1, 0], [0, 2]]}, (2, 4, 5, 2)),
    ("crop2_first", "Cropping2D", {"cropping": 1, "data_format": "channels_first"},
     (2, 2, 4, 5)),
    ("up1", "UpSampling1D", {"size": 3}, (2, 3, 2)),
    ("up2", "UpSampling2D", {"size": [2, 3]}, (2, 2, 3, 2)),
    ("up2_bilinear", "UpSampling2D", {"size": [2, 3], "interpolation": "bilinear"},
     (2, 3, 4, 2)),
    ("up2_first", "UpSampling2D", {"size": 2, "data_format": "channels_first"}, (1, 2, 2, 3)),
    ("permute", "Permute", {"dims": [2, 3, 1]}, (2, 3, 4, 5)),
    ("repeat", "RepeatVector", {"n": 3}, (2, 4)),
    ("rescale", "Rescaling", {"scale": 0.5, "offset": -1.0}, (2, 3)),
    ("rescale_list", "Rescaling", {"scale": [1.0, 2.0, 3.0]}, (2, 4, 3)),
    ("sdrop1", "SpatialDropout1D", {"rate": 0.5}, (2, 3, 4)),
    ("sdrop2", "SpatialDropout2D", {"rate": 0.5}, (2, 3, 3, 4)),
]

CONFIG_LAYERS = [
    ("BatchNormalization", {}), ("LayerNormalization", {}), ("GroupNormalization", {"groups": 2}),
    ("Add", {}), ("Subtract", {}), ("Multiply", {}), ("Average", {}), ("Maximum", {}),
    ("Minimum", {}), ("Concatenate", {}), ("Dot", {"axes": 1}),
] + [(cls, kw) for _, cls, kw, _ in RESHAPING]


def data(kind: str, shape: tuple, n: int = 64, seed: int = 0) -> tuple:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n,) + tuple(shape)).astype(np.float32) * 2 + 0.5
    if kind == "sparse":
        y = rng.integers(0, 3, n)
    elif kind == "reg":
        y = rng.standard_normal((n, 2)).astype(np.float32)
    else:
        y = rng.standard_normal((n, 1)).astype(np.float32)
    return x, y


def residual(lib):
    """A residual block with add and concatenate, and the other merges, in one model."""
    L = lib.layers
    a = L.Input((8,), name="a")
    b = L.Input((1, 8), name="b")
    h = L.Dense(8, activation="relu", name="h")(a)
    h2 = L.Dense(8, name="h2")(h)
    r = L.add([a, h2], name="res")
    s = L.Subtract(name="sub")([r, h])
    mul = L.multiply([s, L.Reshape((8,), name="flat_b")(b)], name="mul")
    av = L.average([r, s, mul], name="avg")
    mx = L.maximum([r, s], name="max")
    mn = L.Minimum(name="min")([r, s])
    d = L.Dot(axes=1, name="dot")([r, s])
    dn = L.dot([r, h], axes=1, normalize=True, name="cos")
    c = L.concatenate([av, mx, mn, d, dn], name="cat")
    bc = L.Add(name="bcast")([b, L.Reshape((1, 8), name="r3")(h)])  # (None, 1, 8)
    out = L.Dense(2, name="out")(L.concatenate([c, L.Flatten(name="fl")(bc)], name="cat2"))
    return lib.Model([a, b], out)


def main() -> int:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    arrays: dict = {}
    meta: dict = {"keras": keras.__version__, "tensorflow": tf.__version__,
                  "sequential": [], "reshaping": [], "configs": {}, "histories": {}}
    rng = np.random.default_rng(1)
    for name, shape, specs, train in SEQUENTIAL:
        model = keras.Sequential([keras.layers.Input(shape)] + [
            getattr(keras.layers, cls)(**kw) for cls, kw in specs])
        if train is None:  # random weights, moving statistics included (variances positive)
            ws = []
            for w in model.weights:
                v = rng.standard_normal(w.shape).astype(np.float32)
                ws.append(np.abs(v) + 0.5 if "variance" in w.path else v)
            model.set_weights(ws)
        x, y = data(train["target"] if train else "reg", shape, n=64 if train else 8)
        arrays[f"{name}/x"] = x
        arrays[f"{name}/w0"] = np.concatenate([w.ravel() for w in model.get_weights()])
        if train:
            model.compile(optimizer=keras.optimizers.Adam(train["lr"]), loss=train["loss"])
            h = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
            arrays[f"{name}/y"] = y
            arrays[f"{name}/w1"] = np.concatenate([w.ravel() for w in model.get_weights()])
            meta["histories"][name] = [float(v) for v in h.history["loss"]]
        arrays[f"{name}/pred"] = model.predict(x, verbose=0)
        meta["sequential"].append({
            "name": name, "input_shape": list(shape), "layers": specs, "train": train,
            "weights": [[w.path.split("/")[-1], list(w.shape), bool(w.trainable)]
                        for w in model.weights],
            "params": int(model.count_params()),
        })
    model = residual(keras)
    xa, y = data("reg", (8,))
    xb = data("reg", (1, 8), seed=2)[0]
    arrays["residual/xa"], arrays["residual/xb"], arrays["residual/y"] = xa, xb, y
    arrays["residual/w0"] = np.concatenate([w.ravel() for w in model.get_weights()])
    arrays["residual/pred0"] = model.predict([xa, xb], verbose=0)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    h = model.fit([xa, xb], y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    meta["histories"]["residual"] = [float(v) for v in h.history["loss"]]
    arrays["residual/w1"] = np.concatenate([w.ravel() for w in model.get_weights()])
    meta["residual_shapes"] = {layer.name: list(layer.output.shape[1:])
                               for layer in model.layers}
    for name, cls, kw, shape in RESHAPING:
        layer = getattr(keras.layers, cls)(**kw)
        x = rng.standard_normal(shape).astype(np.float32)
        arrays[f"reshape/{name}/x"] = x
        arrays[f"reshape/{name}/y"] = np.asarray(layer(x))
        meta["reshaping"].append({"name": name, "class": cls, "kwargs": kw,
                                  "output_shape": list(layer.compute_output_shape(
                                      (None,) + shape[1:]))})
    for cls, kw in CONFIG_LAYERS:
        config = getattr(keras.layers, cls)(**kw).get_config()
        meta["configs"][cls] = sorted(k for k in config if k not in ("name", "dtype"))
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes), Keras {keras.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
