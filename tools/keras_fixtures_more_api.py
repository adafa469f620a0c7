"""Record Keras 3's numbers for Adamax, Ftrl, Lion, Lamb, the focal/Dice/Tversky losses and
the activations celu ... threshold.

Writes ``tests/fixtures/more_api_keras.npz``:

- optimizers: two float32 variables (one starts at zero) updated five times with
  ``apply_gradients``; the gradient of each step is ``(w - target) * scale`` computed
  in float32 from the current weights (so the test can recompute it exactly), and
  the weights after every step are recorded; also the weights of a small Dense
  model after one epoch of five batches of ``fit`` (``shuffle=False``) with each
  optimizer, and each optimizer's ``get_config()``;
- losses: the class forms' values (default reduction, ``"sum"`` with sample
  weights and ``"none"``) and their gradients for ``y_pred`` (``tf.GradientTape``),
  and the function forms' per-sample values, on fixed inputs;
- activations: each one's values on a grid of float32 points (the pieces' ends
  included).

The tests compare chainrule against these numbers; they never import Keras.
Run it in the benchmark environment:

    benchmarks/.venv/bin/python tools/keras_fixtures_more_api.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "more_api_keras.npz")

#: (case name, optimizer class, kwargs)
OPTIMIZERS = [
    ("adamax", "Adamax", {"learning_rate": 0.01}),
    ("adamax_wd", "Adamax", {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.95,
                             "epsilon": 1e-3, "weight_decay": 0.1}),
    ("ftrl", "Ftrl", {"learning_rate": 0.05}),
    ("ftrl_reg", "Ftrl", {"learning_rate": 0.05, "l1_regularization_strength": 0.01,
                          "l2_regularization_strength": 0.02,
                          "l2_shrinkage_regularization_strength": 0.03, "beta": 0.1,
                          "initial_accumulator_value": 0.5}),
    ("ftrl_power0", "Ftrl", {"learning_rate": 0.05, "learning_rate_power": 0.0}),
    ("ftrl_power", "Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.3,
                            "initial_accumulator_value": 0.0}),
    ("lion", "Lion", {"learning_rate": 0.01}),
    ("lion_betas", "Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.7,
                            "weight_decay": 0.05}),
    ("lamb", "Lamb", {"learning_rate": 0.01}),
    ("lamb_betas", "Lamb", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.9,
                            "epsilon": 1e-4}),
]

#: (case name, loss class, kwargs, input key)
LOSSES = [
    ("bfce", "BinaryFocalCrossentropy", {}, "bin_prob"),
    ("bfce_gamma0", "BinaryFocalCrossentropy", {"gamma": 0.0}, "bin_prob"),
    ("bfce_balanced", "BinaryFocalCrossentropy",
     {"apply_class_balancing": True, "alpha": 0.4, "gamma": 3.0}, "bin_prob"),
    ("bfce_logits", "BinaryFocalCrossentropy", {"from_logits": True}, "bin_logit"),
    ("bfce_logits_smooth", "BinaryFocalCrossentropy",
     {"from_logits": True, "label_smoothing": 0.1, "apply_class_balancing": True},
     "bin_logit"),
    ("bfce_smooth", "BinaryFocalCrossentropy", {"label_smoothing": 0.2, "gamma": 1.5},
     "bin_prob"),
    ("cfce", "CategoricalFocalCrossentropy", {}, "cat_prob"),
    ("cfce_gamma0", "CategoricalFocalCrossentropy", {"gamma": 0.0, "alpha": 1.0}, "cat_prob"),
    ("cfce_alpha_list", "CategoricalFocalCrossentropy",
     {"alpha": [0.2, 0.3, 0.5, 1.0], "gamma": 1.5}, "cat_prob"),
    ("cfce_logits", "CategoricalFocalCrossentropy", {"from_logits": True}, "cat_logit"),
    ("cfce_logits_smooth", "CategoricalFocalCrossentropy",
     {"from_logits": True, "label_smoothing": 0.1}, "cat_logit"),
    ("dice", "Dice", {}, "seg"),
    ("dice_axis", "Dice", {"axis": (1, 2)}, "seg"),
    ("tversky", "Tversky", {}, "seg"),
    ("tversky_ab", "Tversky", {"alpha": 0.7, "beta": 0.3, "axis": (1, 2)}, "seg"),
]

#: (case name, activation, kwargs, grid key)
ACTIVATIONS = [
    ("celu", "celu", {}, "grid"),
    ("celu_alpha", "celu", {"alpha": 0.5}, "grid"),
    ("hard_shrink", "hard_shrink", {}, "grid"),
    ("hard_shrink_1", "hard_shrink", {"threshold": 1.0}, "grid"),
    ("hard_tanh", "hard_tanh", {}, "grid"),
    ("soft_shrink", "soft_shrink", {}, "grid"),
    ("soft_shrink_1", "soft_shrink", {"threshold": 1.0}, "grid"),
    ("sparse_plus", "sparse_plus", {}, "grid"),
    ("squareplus", "squareplus", {}, "grid"),
    ("squareplus_b1", "squareplus", {"b": 1}, "grid"),
    ("tanh_shrink", "tanh_shrink", {}, "grid"),
    ("threshold", "threshold", {"threshold": 0.5, "default_value": -1.0}, "grid"),
    ("glu", "glu", {}, "grid_pairs"),
    ("glu_axis0", "glu", {"axis": 0}, "grid_pairs"),
    ("sparsemax", "sparsemax", {}, "rows"),
]

STEPS = 5


def _inputs(rng: np.random.Generator) -> dict:
    f = np.float32
    bin_true = (rng.random((4, 3)) > 0.5).astype(f)
    cat_true = np.eye(4, dtype=f)[[0, 2, 1, 3, 3]]
    seg_true = (rng.random((3, 4, 5)) > 0.6).astype(f)
    prob = rng.random((5, 4)).astype(f) + 0.05
    return {
        "bin_true": bin_true,
        "bin_prob": rng.uniform(0.02, 0.98, (4, 3)).astype(f),
        "bin_logit": (rng.standard_normal((4, 3)) * 2).astype(f),
        "cat_true": cat_true,
        "cat_prob": prob / prob.sum(-1, keepdims=True),
        "cat_logit": (rng.standard_normal((5, 4)) * 2).astype(f),
        "seg_true": seg_true,
        "seg": rng.random((3, 4, 5)).astype(f),
        "grid": np.linspace(-3, 3, 61).astype(f),
        "grid_pairs": np.linspace(-3, 3, 48).astype(f).reshape(4, 12),
        "rows": np.concatenate([np.linspace(0, 12, 15).reshape(3, 5),
                                np.eye(5)[:2] * 3]).astype(f),
    }


def _true_key(key: str) -> str:
    return {"bin_prob": "bin_true", "bin_logit": "bin_true", "cat_prob": "cat_true",
            "cat_logit": "cat_true", "seg": "seg_true"}[key]


def main() -> None:
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(11)
    out: dict = {}
    # -- optimizers on a fixed problem -------------------------------------------------
    start = [(rng.standard_normal((3, 4)) * 0.5).astype("float32"), np.zeros(4, "float32")]
    target = [(rng.standard_normal((3, 4))).astype("float32"),
              (rng.standard_normal(4)).astype("float32")]
    scale = [np.float32(0.7), np.float32(1.3)]
    out["opt_start_0"], out["opt_start_1"] = start
    out["opt_target_0"], out["opt_target_1"] = target
    out["opt_scale"] = np.array(scale, "float32")
    configs = {}
    for name, cls, kw in OPTIMIZERS:
        opt = getattr(keras.optimizers, cls)(**kw)
        variables = [keras.Variable(s.copy(), name=f"v{i}") for i, s in enumerate(start)]
        for step in range(STEPS):
            grads = [(v.numpy() - t) * s for v, t, s in zip(variables, target, scale)]
            opt.apply_gradients(zip([tf.constant(g) for g in grads], variables))
            for i, v in enumerate(variables):
                out[f"opt_{name}_step{step}_{i}"] = v.numpy()
        configs[name] = opt.get_config()
    # -- each optimizer inside fit ----------------------------------------------------------
    x = rng.standard_normal((20, 4)).astype("float32")
    y = rng.standard_normal((20, 1)).astype("float32")
    out["fit_x"], out["fit_y"] = x, y
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"),
                              keras.layers.Dense(1)])
    init = model.get_weights()
    for i, w in enumerate(init):
        out[f"fit_init_{i}"] = w
    for name, cls, kw in OPTIMIZERS:
        model.set_weights(init)
        model.compile(optimizer=getattr(keras.optimizers, cls)(**kw), loss="mse")
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        for i, w in enumerate(model.get_weights()):
            out[f"fit_{name}_{i}"] = w
    # -- losses ----------------------------------------------------------------------------
    data = _inputs(rng)
    out.update({f"in_{k}": v for k, v in data.items()})
    for name, cls, kw, key in LOSSES:
        y_true, y_pred = data[_true_key(key)], data[key]
        loss = getattr(keras.losses, cls)(**kw)
        p = tf.Variable(y_pred)
        with tf.GradientTape() as tape:
            value = loss(y_true, p)
        out[f"loss_{name}"] = value.numpy()
        out[f"loss_{name}_grad"] = tape.gradient(value, p).numpy()
        sw = np.linspace(0.5, 1.5, y_true.shape[0]).astype("float32")
        summed = getattr(keras.losses, cls)(reduction="sum", **kw)
        out[f"loss_{name}_sum_weighted"] = np.asarray(summed(y_true, y_pred, sample_weight=sw))
        fn = getattr(keras.losses, keras.losses.serialize(loss)["config"]["name"])
        out[f"loss_{name}_fn"] = np.asarray(fn(y_true, y_pred, **kw))
        configs[f"loss_{name}"] = loss.get_config()
    # -- activations -----------------------------------------------------------------------
    for name, fn, kw, key in ACTIVATIONS:
        out[f"act_{name}"] = np.asarray(getattr(keras.activations, fn)(data[key], **kw))
    out["meta"] = np.array(json.dumps({
        "keras": keras.__version__, "tensorflow": tf.__version__, "steps": STEPS,
        "optimizers": OPTIMIZERS, "losses": LOSSES, "activations": ACTIVATIONS,
        "configs": configs}, default=list))
    np.savez_compressed(OUT, **out)
    print("wrote", os.path.normpath(OUT), os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
