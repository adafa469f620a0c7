"""Parity with Keras 3: the same model, weights and batches trained by both; compare the results.

For every optimizer and every loss, a small model starts from identical weights and
is trained with ``shuffle=False`` on the same data by Keras 3 (TensorFlow backend)
and by chainrule; the final weights and per-epoch history must agree to float32
rounding. Needs Keras 3 and TensorFlow, so it runs in the benchmark environment
(``benchmarks/setup.sh``), not in the test suite:

    benchmarks/.venv/bin/python tools/keras_parity.py
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

OPTIMIZERS = {
    "sgd": ("SGD", dict(learning_rate=0.05)),
    "sgd_momentum": ("SGD", dict(learning_rate=0.05, momentum=0.9)),
    "sgd_nesterov": ("SGD", dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    "adam": ("Adam", dict(learning_rate=0.01)),
    "adam_amsgrad": ("Adam", dict(learning_rate=0.01, amsgrad=True)),
    "adamw": ("AdamW", dict(learning_rate=0.01)),
    "nadam": ("Nadam", dict(learning_rate=0.01)),
    "rmsprop": ("RMSprop", dict(learning_rate=0.01)),
    "rmsprop_centered_momentum": ("RMSprop", dict(learning_rate=0.01, momentum=0.5, centered=True)),
    "adagrad": ("Adagrad", dict(learning_rate=0.05)),
    "adadelta": ("Adadelta", dict(learning_rate=1.0)),
    "adam_clipnorm": ("Adam", dict(learning_rate=0.01, clipnorm=0.1)),
    "sgd_global_clipnorm": ("SGD", dict(learning_rate=0.05, global_clipnorm=0.1)),
    "sgd_clipvalue": ("SGD", dict(learning_rate=0.05, clipvalue=0.01)),
}

# loss -> (final activation, target kind)
LOSSES = {
    "mse": ("linear", "reg"), "mae": ("linear", "reg"), "huber": ("linear", "reg"),
    "log_cosh": ("linear", "reg"), "mean_absolute_percentage_error": ("linear", "reg_pos"),
    "mean_squared_logarithmic_error": ("softplus", "reg_pos"), "poisson": ("softplus", "reg_pos"),
    "cosine_similarity": ("linear", "reg"),
    "binary_crossentropy": ("sigmoid", "binary"), "hinge": ("tanh", "binary"),
    "squared_hinge": ("tanh", "binary"),
    "categorical_crossentropy": ("softmax", "onehot"), "sparse_categorical_crossentropy": ("softmax", "sparse"),
    "kl_divergence": ("softmax", "onehot"), "categorical_hinge": ("linear", "onehot"),
}


def make_data(kind: str, n: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 5)).astype(np.float32)
    if kind == "reg":
        y = rng.standard_normal((n, 3)).astype(np.float32)
    elif kind == "reg_pos":
        y = rng.uniform(0.5, 2.0, (n, 3)).astype(np.float32)
    elif kind == "binary":
        y = (rng.random((n, 3)) > 0.5).astype(np.float32)
    elif kind == "onehot":
        y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]
    else:
        y = rng.integers(0, 3, n)
    return x, y


def run(framework: str, opt_name: str, opt_kwargs: dict, loss: str, act: str, x, y, weights,
        epochs: int, batch_size: int):
    if framework == "keras":
        import keras as lib  # noqa: PLC0415
    else:
        import chainrule as lib  # noqa: PLC0415
    model = lib.Sequential([
        lib.layers.Input(shape=(5,)),
        lib.layers.Dense(8, activation="tanh"),
        lib.layers.Dense(3, activation=act),
    ])
    model.set_weights(weights)
    opt = getattr(lib.optimizers, opt_name)(**opt_kwargs)
    metrics = ["accuracy"] if loss.startswith("sparse") else ["mae"]
    model.compile(optimizer=opt, loss=loss, metrics=metrics)
    hist = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return [np.asarray(w) for w in model.get_weights()], hist.history


def digits_accuracy(framework: str, seed: int) -> float:
    """Test accuracy on scikit-learn's handwritten digits: 64-32(relu)-10(softmax), Adam, 30 epochs."""
    from sklearn.datasets import load_digits  # noqa: PLC0415

    if framework == "keras":
        import keras as lib  # noqa: PLC0415
    else:
        import chainrule as lib  # noqa: PLC0415
    lib.utils.set_random_seed(seed)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    perm = np.random.default_rng(seed).permutation(len(x))
    x, y = x[perm], y[perm]
    n = int(0.8 * len(x))
    model = lib.Sequential([lib.layers.Input(shape=(64,)), lib.layers.Dense(32, activation="relu"),
                            lib.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:n], y[:n], batch_size=32, epochs=30, verbose=0)
    return float(model.evaluate(x[n:], y[n:], verbose=0)[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--digits", action="store_true",
                        help="compare test accuracy on scikit-learn's digits (5 seeds) instead")
    args = parser.parse_args(argv)
    if args.digits:
        accs = {fw: [digits_accuracy(fw, s) for s in range(5)] for fw in ("keras", "chainrule")}
        for fw, a in accs.items():
            print(f"{fw:10s} test accuracy per seed {np.round(a, 4).tolist()} mean {np.mean(a):.4f}")
        gap = abs(np.mean(accs["keras"]) - np.mean(accs["chainrule"]))
        print(f"difference of means: {gap * 100:.2f} percentage points")
        return 0 if gap <= 0.01 else 1
    rng = np.random.default_rng(1)
    weights = [rng.uniform(-0.5, 0.5, (5, 8)).astype(np.float32), np.zeros(8, np.float32),
               rng.uniform(-0.5, 0.5, (8, 3)).astype(np.float32), np.zeros(3, np.float32)]
    cases = [(o, "mse") for o in OPTIMIZERS] + [("adam", loss) for loss in LOSSES if loss != "mse"]
    failures = 0
    print(f"{'optimizer':28s} {'loss':34s} {'max weight rel err':>18s} {'max history rel err':>20s}")
    for opt_key, loss in cases:
        opt_name, opt_kwargs = OPTIMIZERS[opt_key]
        act, kind = LOSSES[loss]
        x, y = make_data(kind)
        wk, hk = run("keras", opt_name, opt_kwargs, loss, act, x, y, weights, args.epochs, args.batch_size)
        wc, hc = run("chainrule", opt_name, opt_kwargs, loss, act, x, y, weights, args.epochs, args.batch_size)
        werr = max(float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-3))) for a, b in zip(wk, wc))
        herr = max(float(np.max(np.abs(np.array(hk[k]) - np.array(hc[k])) /
                             np.maximum(np.abs(np.array(hk[k])), 1e-3))) for k in hk)
        ok = werr <= args.rtol * 10 and herr <= args.rtol * 10
        failures += not ok
        print(f"{opt_key:28s} {loss:34s} {werr:18.2e} {herr:20.2e} {'ok' if ok else 'MISMATCH'}")
    print(f"{len(cases) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
