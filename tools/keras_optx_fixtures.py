"""Record Keras 3's numbers for LossScaleOptimizer, Muon, ScheduleFreeAdamW, MultiOptimizer,
Circle and CTC.

Run with an environment that has Keras 3 and TensorFlow::

    python tools/keras_optx_fixtures.py   # writes tests/fixtures/keras_optx.npz

A small fixed model (Dense 4 -> 3 tanh -> Dense 2, named ``hidden`` and ``out``)
is trained a few steps with ``train_on_batch`` on a fixed batch (MSE) by each
optimizer; the fixture holds the initial weights, the batch, the losses of each
step and the weights after training (ScheduleFreeAdamW with ``run_eagerly=True``: Keras's
compiled step starts its ``momentum`` at zero, not at the weights as its build means to). ``LossScaleOptimizer`` is also driven by
``apply`` with a fixed gradient sequence that holds non-finite gradients (the
weights, ``dynamic_scale`` and ``step_counter`` after each call). Circle and CTC
are evaluated on fixed inputs with their gradients. The Keras and TensorFlow
versions are stored in ``versions``.
"""

from __future__ import annotations

import json
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "keras_optx.npz")
STEPS = 4

OPTIMIZERS = {
    "muon": lambda: keras.optimizers.Muon(learning_rate=0.02),
    "muon_options": lambda: keras.optimizers.Muon(
        learning_rate=0.01, exclude_layers=["out"], nesterov=False, rms_rate=None,
        adam_lr_ratio=0.5, weight_decay=0.1, adam_weight_decay=0.05, ns_steps=3),
    "sfadamw": lambda: keras.optimizers.ScheduleFreeAdamW(learning_rate=0.01),
    "sfadamw_options": lambda: keras.optimizers.ScheduleFreeAdamW(
        learning_rate=0.02, beta_1=0.8, warmup_steps=3, weight_decay=0.01),
    "lso_sgd": lambda: keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)),
    "multi": lambda: keras.optimizers.MultiOptimizer(keras.optimizers.OptimizerMap(
        keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        {".*out/.*": keras.optimizers.Adam(learning_rate=0.01)})),
    "lso_adam": lambda: keras.optimizers.LossScaleOptimizer(
        keras.optimizers.Adam(learning_rate=0.01), initial_scale=4.0, dynamic_growth_steps=2),
}


def model(weights):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh", name="hidden"),
                          keras.layers.Dense(2, name="out")])
    m.set_weights(weights)
    return m


def main() -> None:
    rng = np.random.default_rng(7)
    out: dict[str, np.ndarray] = {}
    weights = [rng.normal(0, 0.5, (4, 3)).astype("float32"), rng.normal(0, 0.1, 3).astype("float32"),
               rng.normal(0, 0.5, (3, 2)).astype("float32"), rng.normal(0, 0.1, 2).astype("float32")]
    x = rng.normal(size=(8, 4)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    out["x"], out["y"] = x, y
    for i, w in enumerate(weights):
        out[f"w0_{i}"] = w
    for name, make in OPTIMIZERS.items():
        m = model(weights)
        # ScheduleFreeAdamW trains eagerly: Keras's compiled step (TensorFlow) starts its
        # `momentum` (z) at zero instead of at the weights (the copy made in its build is lost)
        m.compile(optimizer=make(), loss="mse", run_eagerly=name.startswith("sfadamw"))
        losses = [float(m.train_on_batch(x, y)) for _ in range(STEPS)]
        out[f"{name}/losses"] = np.array(losses, "float32")
        for i, w in enumerate(m.get_weights()):
            out[f"{name}/w_{i}"] = w
        if name == "multi":
            out["multi/iterations"] = np.array(
                [int(m.optimizer.iterations.numpy())]
                + [int(o.iterations.numpy()) for o in m.optimizer.optimizers])
        if name.startswith("lso"):
            out[f"{name}/scale"] = np.float32(m.optimizer.dynamic_scale.numpy())
            out[f"{name}/counter"] = np.int64(m.optimizer.step_counter.numpy())

    # LossScaleOptimizer.apply with non-finite gradients among finite ones
    grads = rng.normal(size=(6, 3)).astype("float32")
    grads[2, 1] = np.inf
    grads[4, 0] = np.nan
    out["lso_apply/grads"] = grads
    v = keras.Variable(np.array([0.5, -0.25, 1.0], "float32"), name="v")
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(learning_rate=0.1),
                                              initial_scale=8.0, dynamic_growth_steps=2)
    rows = []
    for g in grads:
        scale = float(opt.dynamic_scale.numpy()) if opt.built else opt.initial_scale
        opt.apply([tf.constant(g * scale)], [v])
        rows.append([*v.numpy(), float(opt.dynamic_scale.numpy()),
                     float(opt.step_counter.numpy()), float(opt.iterations.numpy())])
    out["lso_apply/trace"] = np.array(rows, "float64")

    # Circle on L2-normalized embeddings
    emb = rng.normal(size=(6, 4)).astype("float32")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 0], "int32")
    out["circle/emb"], out["circle/labels"] = emb, labels
    ref_emb = rng.normal(size=(5, 4)).astype("float32")
    ref_emb /= np.linalg.norm(ref_emb, axis=1, keepdims=True)
    ref_labels = np.array([0, 1, 2, 2, 1], "int32")
    out["circle/ref_emb"], out["circle/ref_labels"] = ref_emb, ref_labels
    e = tf.Variable(emb)
    with tf.GradientTape() as tape:
        value = keras.losses.Circle()(labels, e)
    out["circle/loss"] = np.float32(value.numpy())
    out["circle/grad"] = tape.gradient(value, e).numpy()
    out["circle/loss_options"] = np.float32(keras.losses.Circle(
        gamma=10.0, margin=0.25, remove_diagonal=False, reduction="sum")(labels, emb).numpy())
    out["circle/fn"] = keras.losses.circle(labels, emb).numpy()
    out["circle/fn_ref"] = keras.losses.circle(labels, emb, ref_labels=ref_labels,
                                               ref_embeddings=ref_emb, gamma=20).numpy()

    # CTC on logits (blank 0), labels padded with 0
    logits = rng.normal(size=(3, 6, 4)).astype("float32")
    y_ctc = np.array([[1, 2, 0], [3, 3, 1], [2, 0, 0]], "int32")
    out["ctc/logits"], out["ctc/labels"] = logits, y_ctc
    lv = tf.Variable(logits)
    with tf.GradientTape() as tape:
        value = keras.losses.CTC()(y_ctc, lv)
    out["ctc/loss"] = np.float32(value.numpy())
    out["ctc/grad"] = tape.gradient(value, lv).numpy()
    out["ctc/fn"] = keras.losses.ctc(y_ctc, logits).numpy()

    out["versions"] = np.array(json.dumps({"keras": keras.__version__,
                                           "tensorflow": tf.__version__}))
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
