"""Seed 000 §3 / seed 002 §3.3: SGD, momentum, Adagrad, RMSprop and Adam on one problem.

Each optimizer is created with the seed's own line (Keras 2 arguments such as
``lr=`` still work, with a DeprecationWarning pointing at ``learning_rate=``)
and trains the same network, from the same initial weights, on three spirals.

Run:
    python examples/optimizers.py [--quick] [--out DIR]
"""

import argparse
import os
import time
import warnings

import chainrule as cr
from chainrule import optimizers
from chainrule.datasets import make_spirals


def seed_optimizers():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the seed's Keras 2 spellings
        return {
            "SGD(lr=0.01)": optimizers.SGD(lr=0.01),
            "SGD(lr=0.01, momentum=0.9)": optimizers.SGD(lr=0.01, momentum=0.9),
            "Adagrad(lr=0.01, epsilon=1e-6)": optimizers.Adagrad(lr=0.01, epsilon=1e-6),
            "RMSprop(lr=0.001, rho=0.9, epsilon=1e-06)": optimizers.RMSprop(
                lr=0.001, rho=0.9, epsilon=1e-06),
            "Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False)":
                optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0,
                                amsgrad=False),
        }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default=None, help="folder for the loss curves")
    args = parser.parse_args(argv)
    epochs = 5 if args.quick else 200

    x, y = make_spirals(300, 3, seed=0)
    histories = {}
    print(f"three spirals, {len(x)} points, Dense(32, relu) x 2 -> Dense(3, softmax), "
          f"{epochs} epochs, batch_size=32\n")
    for line, optimizer in seed_optimizers().items():
        cr.utils.set_random_seed(0)  # the same initial weights and shuffling for every optimizer
        model = cr.models.Sequential([
            cr.layers.Dense(32, activation="relu", input_dim=2),
            cr.layers.Dense(32, activation="relu"),
            cr.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        start = time.perf_counter()
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
        took = time.perf_counter() - start
        name = line.split("(")[0] + (" + momentum" if "momentum" in line else "")
        histories[name] = history
        print(f"{line}\n    -> loss {history.history['loss'][-1]:.4f}, accuracy "
              f"{history.history['accuracy'][-1]:.3f} ({took:.2f}s)")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "optimizers.png")
        plot.compare(histories, metric="loss", path=path, title="Optimizers on three spirals")
        print(f"\nFigure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
