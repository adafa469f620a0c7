"""Write small Keras-3 files (``.keras`` and ``.weights.h5``) for chainrule's interop tests.

Run with an environment that has Keras 3 (and TensorFlow or another backend) and h5py::

    python tools/keras_files_fixtures.py              # writes tests/fixtures/keras_files/
    python tools/keras_files_fixtures.py --check DIR  # Keras loads the files chainrule wrote

For each model it writes ``<name>.keras`` and ``<name>.weights.h5`` (Keras's own
formats; for two models also ``<name>.h5``, the legacy whole-model HDF5 layout), and ``expected.npz`` holds the inputs and Keras's ``predict`` outputs
for every model; ``versions.json`` records the Keras, backend and h5py versions.

``--check DIR`` loads every ``<name>.keras`` (written by chainrule with
``model.save(path, format="keras")``), ``<name>.weights.h5`` and ``<name>.h5`` (legacy,
``model.save("m.h5")``) in DIR into Keras and compares Keras's ``predict`` with the ``<name>.out.npy`` chainrule
recorded next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import h5py  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

LEGACY = ("mlp", "bn_merge")
OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_files")


class Block(layers.Layer):
    """A layer of its own holding layers and a weight (chainrule's tests define the same)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units)
        self.norm = layers.LayerNormalization()

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(self.units,), initializer="random_normal",
                                    name="gain")

    def call(self, x):
        return self.norm(self.inner(x)) * self.gain


class Net(keras.Model):
    """A subclassed model: its weights file follows its attributes (``blocks``, ``head``)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.blocks = [Block(5), Block(3)]
        self.head = layers.Dense(2)

    def call(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def build_models() -> dict:
    """name -> (model, inputs) for the fixtures; weights are random but seeded."""
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(7)
    out = {}

    mlp = keras.Sequential([
        keras.Input((4,)), layers.Dense(8, activation="relu", name="hidden"),
        layers.Dropout(0.2), layers.Dense(3, activation="softmax", name="probs"),
    ], name="mlp")
    mlp.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    mlp.fit(x, y, epochs=1, batch_size=8, verbose=0)  # the optimizer holds state to save
    out["mlp"] = (mlp, [x[:5]])

    seq = keras.Sequential([
        keras.Input((6,), dtype="int32"), layers.Embedding(12, 4),
        layers.LSTM(5), layers.Dense(2),
    ], name="emb_lstm")
    out["emb_lstm"] = (seq, [rng.integers(0, 12, size=(3, 6)).astype("int32")])

    inp = keras.Input((4,), name="x")
    a = layers.Dense(6, name="a")(inp)
    b = layers.BatchNormalization(name="bn")(a)
    c = layers.Dense(6, activation="tanh", name="c")(inp)
    s = layers.Add(name="add")([b, c])
    m = layers.Concatenate(name="cat")([s, layers.Multiply(name="mul")([a, c])])
    o = layers.Dense(2, name="out")(m)
    bn = keras.Model(inp, o, name="bn_merge")
    bn.compile(optimizer="sgd", loss="mse")
    bn.fit(rng.normal(size=(16, 4)).astype("float32"), rng.normal(size=(16, 2)).astype("float32"),
           epochs=2, batch_size=8, verbose=0)  # moving statistics differ from their initial values
    out["bn_merge"] = (bn, [rng.normal(size=(4, 4)).astype("float32")])

    i1 = keras.Input((3,), name="left")
    i2 = keras.Input((2,), name="right")
    h = layers.Concatenate(name="join")([layers.Dense(4, name="l")(i1),
                                          layers.Dense(4, name="r")(i2)])
    o2 = layers.Dense(1, activation="sigmoid", name="score")(layers.Activation("relu")(h))
    two = keras.Model([i1, i2], o2, name="two_inputs")
    net = Net(name="net")
    net(np.zeros((1, 4), "float32"))
    out["subclassed"] = (net, [rng.normal(size=(3, 4)).astype("float32")])
    out["two_inputs"] = (two, [rng.normal(size=(5, 3)).astype("float32"),
                               rng.normal(size=(5, 2)).astype("float32")])
    return out


def write(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    expected = {}
    for name, (model, inputs) in build_models().items():
        if name != "subclassed":  # its code is not in a file: weights only
            model.save(os.path.join(out_dir, f"{name}.keras"))
        model.save_weights(os.path.join(out_dir, f"{name}.weights.h5"))
        if name in LEGACY:  # Keras's legacy whole-model HDF5 layout (tf.keras 2's model.save)
            model.save(os.path.join(out_dir, f"{name}.h5"))
        pred = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        for k, x in enumerate(inputs):
            expected[f"{name}/x{k}"] = x
        expected[f"{name}/y"] = np.asarray(pred)
    np.savez(os.path.join(out_dir, "expected.npz"), **expected)
    versions = {"keras": keras.__version__, "backend": keras.backend.backend(),
                "h5py": h5py.__version__, "numpy": np.__version__}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        versions["tensorflow"] = tf.__version__
    with open(os.path.join(out_dir, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1)
    print("wrote", sorted(os.listdir(out_dir)), versions)


def check(directory: str) -> int:
    """Load chainrule-written files into Keras and compare predictions; 0 when all agree."""
    failures = 0
    names = sorted(n[:-len(".out.npy")] for n in os.listdir(directory) if n.endswith(".out.npy"))
    for name in names:
        want = np.load(os.path.join(directory, f"{name}.out.npy"))
        inputs = [np.load(os.path.join(directory, f"{name}.x{k}.npy"))
                  for k in range(8) if os.path.exists(os.path.join(directory, f"{name}.x{k}.npy"))]
        x = inputs if len(inputs) > 1 else inputs[0]
        try:
            model = keras.saving.load_model(os.path.join(directory, f"{name}.keras"))
        except Exception as e:  # noqa: BLE001 - reported, and counted as a failure
            print(f"FAIL {name}.keras: Keras cannot load it: {type(e).__name__}: {e}"[:2000])
            failures += 1
            continue
        got = np.asarray(model.predict(x, verbose=0))
        err = float(np.max(np.abs(got - want)))
        line = f"{name}.keras: max |keras - chainrule| = {err:.2e}"
        wpath = os.path.join(directory, f"{name}.weights.h5")
        if os.path.exists(wpath):
            clone = keras.models.clone_model(model)
            clone.load_weights(wpath)
            err2 = float(np.max(np.abs(np.asarray(clone.predict(x, verbose=0)) - want)))
            line += f"; {name}.weights.h5: {err2:.2e}"
            err = max(err, err2)
        legacy = os.path.join(directory, f"{name}.h5")
        if os.path.exists(legacy):
            try:
                # compile=False: Keras 3.15 cannot recompile its own legacy files compiled
                # with loss="mse" ("Could not deserialize 'keras.metrics.mse'").
                old = keras.saving.load_model(legacy, compile=False)
                err3 = float(np.max(np.abs(np.asarray(old.predict(x, verbose=0)) - want)))
            except Exception as e:  # noqa: BLE001 - reported, and counted as a failure
                print(f"FAIL {name}.h5: Keras cannot load it: {type(e).__name__}: {e}"[:2000])
                err3 = np.inf
            line += f"; {name}.h5: {err3:.2e}"
            err = max(err, err3)
        ok = err <= 1e-5
        failures += not ok
        print(("OK   " if ok else "FAIL ") + line)
    return 1 if failures or not names else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--check", help="a directory of files chainrule wrote")
    args = parser.parse_args()
    if args.check:
        sys.exit(check(args.check))
    write(args.out)
