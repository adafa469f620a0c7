"""Write small Keras-3 ``.keras`` files whose functional graphs hold raw ops (``x * 2.0``).

Run with an environment that has Keras 3 (and TensorFlow) and h5py::

    python tools/keras_fixtures_ops_files.py              # writes tests/fixtures/keras_ops/
    python tools/keras_fixtures_ops_files.py --check DIR  # Keras loads the files chainrule wrote

Keras writes each op of such a graph as an entry of its own class (``Multiply``,
``Mean``, module ``keras.src.ops.numpy``). For each model this writes
``<name>.keras``; ``expected.npz`` holds the inputs and Keras's ``predict`` outputs
(``<name>/x``, ``<name>/y<k>`` for output ``k``) and ``versions.json`` the versions.
chainrule's tests (tests/test_keras_ops_files.py) build the same programs with
chainrule, so the models are written once here and there.

``--check DIR`` loads every ``<name>.keras`` in DIR (written by chainrule with
``model.save(path, format="keras")``) into Keras and compares Keras's ``predict``
with the ``<name>.y<k>.npy`` chainrule recorded next to ``<name>.x.npy``.
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
from keras import layers, ops  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_ops")


def ops_arith() -> keras.Model:
    """Operators, reductions, joins and shape ops between two Dense layers."""
    inp = keras.Input((4,), name="x")
    h = layers.Dense(3, name="hidden")(inp)
    a = h * 2.0
    parts = [a, 2.0 * h, h - 1.0, 1.0 - h, h / 2.0, h ** 2, -h, h + a,
             ops.mean(a, axis=-1, keepdims=True), ops.expand_dims(ops.sum(h, axis=1), -1),
             ops.max(h, axis=-1, keepdims=True), ops.min(h, axis=-1, keepdims=True),
             h + np.array([1.0, 2.0, 3.0], dtype="float32")]
    head = layers.Dense(2, name="head")(ops.concatenate(parts, axis=-1))
    st = ops.stack([h, a], axis=1)                      # (None, 2, 3)
    r = ops.reshape(st, (-1, 3, 2))
    mm = ops.squeeze(ops.expand_dims(ops.matmul(st, r), 1), axis=1)   # (None, 2, 2)
    t = ops.transpose(r, (0, 2, 1))
    return keras.Model(inp, [head, ops.reshape(mm, (-1, 4)), mm[:, 0, :], t[..., 1]],
                       name="ops_arith")


def ops_nn() -> keras.Model:
    """Elementwise maths, selection, casts and activations on one tensor."""
    inp = keras.Input((4,), name="x")
    h = layers.Dense(4, name="hidden")(inp)
    parts = [ops.exp(ops.clip(h, -1.0, 1.0)), ops.log(ops.abs(h) + 1.0),
             ops.sqrt(ops.square(h)), ops.sign(h), ops.where(h > 0, h, 0.0),
             ops.cast(ops.cast(h * 10.0, "int32"), "float32"), ops.maximum(h, 0.5),
             ops.minimum(h, -0.5), ops.softmax(h, axis=-1), ops.relu(h), ops.sigmoid(h),
             ops.tanh(h), ops.gelu(h), ops.leaky_relu(h, 0.1), ops.elu(h),
             ops.log_softmax(h), ops.silu(h), ops.selu(h), ops.softplus(h), ops.softsign(h),
             ops.relu6(h * 4.0)]
    feats = ops.concatenate(parts, axis=-1)
    return keras.Model(inp, [feats, layers.Dense(1, name="head")(feats)], name="ops_nn")


def ops_more() -> keras.Model:
    """One of each further op chainrule's table maps (a reduction, a shape op, a comparison...)."""
    inp = keras.Input((4,), name="x")
    h = layers.Dense(4, name="hidden")(inp)
    sq = ops.reshape(h, (-1, 2, 2))
    outs = [ops.std(h, axis=-1, keepdims=True), ops.var(h, axis=1), ops.prod(h, axis=-1),
            ops.argmax(h, axis=-1), ops.argmin(h, axis=-1), ops.logsumexp(h, axis=-1),
            ops.swapaxes(sq, 1, 2), ops.moveaxis(sq, 1, 2), ops.flip(h, axis=-1),
            ops.tile(h, (1, 2)), ops.repeat(h, 2, axis=-1), ops.cumsum(h, axis=-1),
            ops.tensordot(h, h, axes=0)[:, 0], ops.dot(h, ops.transpose(h)),
            ops.reciprocal(h + 3.0), ops.log1p(ops.abs(h)), ops.expm1(h), ops.floor(h),
            ops.ceil(h), ops.round(h, 1), ops.sin(h), ops.cos(h), ops.erf(h),
            ops.rsqrt(ops.abs(h) + 1.0), ops.greater_equal(h, 0.0), ops.less(h, 0.0),
            ops.less_equal(h, 0.0), ops.equal(h, h), ops.not_equal(h, 0.0),
            ops.logical_and(h > 0, h < 1), ops.logical_or(h > 0, h < -1),
            ops.logical_not(h > 0), ops.stop_gradient(h), ops.zeros_like(h),
            ops.ones_like(h, dtype="float32"), ops.hard_sigmoid(h), ops.normalize(h),
            ops.one_hot(ops.argmax(h, axis=-1), 4), ops.floor_divide(h, 0.3), ops.mod(h, 0.3),
            ops.norm(h, axis=-1), ops.divide(h, 3.0), ops.sum(h, axis=None, keepdims=True), sq[:, 1]]
    return keras.Model(inp, outs, name="ops_more")


def ops_extra() -> keras.Model:
    """Further ops: pooling and convolutions with constant kernels, losses, two-output ops."""
    inp = keras.Input((4,), name="x")
    h = layers.Dense(8, name="hidden")(inp)
    k = np.linspace(-1.0, 1.0, 24, dtype="float32")
    x4 = ops.reshape(h, (-1, 2, 2, 2))
    sq = ops.reshape(h[:, :4], (-1, 2, 2))
    left, right = ops.split(h, 2, axis=-1)
    mean, var = ops.moments(h, axes=[-1])
    values, indices = ops.top_k(h, 3)
    outs = [ops.max_pool(x4, 2), ops.average_pool(x4, (2, 1), strides=1, padding="same"),
            ops.conv(x4, k[:24].reshape(2, 2, 2, 3)), ops.depthwise_conv(x4, k[:8].reshape(2, 2, 2, 1)),
            ops.separable_conv(x4, k[:8].reshape(2, 2, 2, 1), k[:6].reshape(1, 1, 2, 3)),
            left * right, mean, var, values, indices,
            ops.layer_normalization(h, np.linspace(0.5, 1.5, 8, dtype="float32"), None,
                                    epsilon=1e-3),
            ops.binary_crossentropy(ops.sigmoid(h), ops.sigmoid(h * 2.0)),
            ops.categorical_crossentropy(ops.softmax(h), h, from_logits=True),
            ops.sparse_categorical_crossentropy(ops.argmax(h, axis=-1), h, from_logits=True),
            ops.in_top_k(ops.argmin(h, axis=-1), h, 3),
            ops.arctan(h), ops.tan(h * 0.1), ops.sinh(h), ops.cosh(h),
            ops.log2(ops.abs(h) + 1.0), ops.log10(ops.abs(h) + 1.0), ops.isnan(h),
            ops.isfinite(h), ops.isinf(h), ops.logical_xor(h > 0, h < 0.5),
            ops.outer(h[:, 0], np.array([1.0, 2.0], dtype="float32")),
            ops.sort(h, axis=-1), ops.argsort(h, axis=-1), ops.tril(sq), ops.triu(sq, k=1),
            ops.roll(h, 1, axis=-1), ops.diagonal(sq, axis1=1, axis2=2),
            ops.trace(sq, axis1=1, axis2=2), ops.cumprod(h, axis=-1),
            ops.nan_to_num(ops.log(h)), ops.take(h, [0, 2], axis=-1),
            ops.take_along_axis(h, ops.argsort(h, axis=-1), axis=-1),
            ops.pad(h, ((0, 0), (1, 2)), constant_values=0.5), ops.full_like(h, 0.5),
            ops.all(h > -10.0, axis=-1), ops.any(h > 1.0, axis=-1),
            ops.count_nonzero(h > 0, axis=-1)]
    return keras.Model(inp, outs, name="ops_extra")


MODELS = {"ops_arith": ops_arith, "ops_nn": ops_nn, "ops_more": ops_more, "ops_extra": ops_extra}


def write(out_dir: str) -> None:
    os.makedirs(out_dir, exist_ok=True)
    keras.utils.set_random_seed(11)
    rng = np.random.default_rng(11)
    expected = {}
    for name, build in MODELS.items():
        keras.utils.clear_session()  # op names count from zero in each model (chainrule's tests too)
        model = build()
        model.save(os.path.join(out_dir, f"{name}.keras"))
        x = rng.normal(size=(5, 4)).astype("float32")
        expected[f"{name}/x"] = x
        for k, y in enumerate(model.predict(x, verbose=0)):
            expected[f"{name}/y{k}"] = np.asarray(y)
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
    names = sorted(n[:-len(".x.npy")] for n in os.listdir(directory) if n.endswith(".x.npy"))
    for name in names:
        x = np.load(os.path.join(directory, f"{name}.x.npy"))
        try:
            model = keras.saving.load_model(os.path.join(directory, f"{name}.keras"))
            got = model.predict(x, verbose=0)
        except Exception as e:  # noqa: BLE001 - reported, and counted as a failure
            print(f"FAIL {name}.keras: Keras cannot load or run it: {type(e).__name__}: {e}"[:2000])
            failures += 1
            continue
        got = got if isinstance(got, (list, tuple)) else [got]
        errs = []
        for k, y in enumerate(got):
            want = np.load(os.path.join(directory, f"{name}.y{k}.npy"))
            errs.append(float(np.max(np.abs(np.asarray(y, dtype="float64") - want)
                                     / np.maximum(np.abs(want), 1.0))))
        ops_seen = sorted({type(op).__name__ for op in model.operations})
        ok = max(errs) <= 1e-5
        failures += not ok
        print(("OK   " if ok else "FAIL ") + f"{name}.keras: max relative error {max(errs):.2e} "
              f"over {len(got)} outputs; Keras rebuilt {ops_seen}")
    return 1 if failures or not names else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--check", help="a directory of files chainrule wrote")
    args = parser.parse_args()
    if args.check:
        sys.exit(check(args.check))
    write(args.out)
