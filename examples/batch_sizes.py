"""Seed 000 §2 / seed 002 §3.3, §3.5: batch, stochastic and mini-batch gradient descent.

The same model (the seed's Dense(3, sigmoid) -> Dense(1, sigmoid), SGD, mse)
learns the study/sleep regression three ways:

* batch gradient descent, ``batch_size=len(X_train)``: one update per epoch;
* stochastic gradient descent, ``batch_size=1``: one update per sample;
* mini-batch gradient descent, ``batch_size=32``: in between (Keras's default).

An epoch is one pass over the data; iterations (steps) per epoch =
ceil(samples / batch_size), the number of weight updates in it.

Run:
    python examples/batch_sizes.py [--quick] [--out DIR]
"""

import argparse
import math
import os
import time

import chainrule as cr
from chainrule.datasets import make_study_sleep


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="less data, fewer epochs")
    parser.add_argument("--out", default=None, help="folder for the loss curves")
    args = parser.parse_args(argv)
    n, epochs = (300, 3) if args.quick else (1000, 20)

    X_train, y_train = make_study_sleep(n, seed=0)
    settings = [("batch", len(X_train)), ("stochastic", 1), ("mini-batch", 32)]
    histories = {}
    print(f"{n} samples, {epochs} epochs, SGD(learning_rate=0.01), loss='mse'\n")
    print(f"{'method':<12s} {'batch_size':>10s} {'updates/epoch':>14s} {'time/epoch':>11s} "
          f"{'final loss':>11s}")
    for name, batch_size in settings:
        cr.utils.set_random_seed(0)  # the same initial weights for every method
        model = cr.models.Sequential([
            cr.layers.Dense(3, input_dim=2, activation="sigmoid"),
            cr.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="sgd", loss="mse")
        start = time.perf_counter()
        history = model.fit(X_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
        per_epoch = (time.perf_counter() - start) / epochs
        updates = math.ceil(len(X_train) / batch_size)
        assert model.optimizer.iterations == updates * epochs
        histories[f"{name} (batch_size={batch_size})"] = history
        print(f"{name:<12s} {batch_size:>10d} {updates:>14d} {1000 * per_epoch:>9.1f}ms "
              f"{history.history['loss'][-1]:>11.5f}")
    print("\nMore updates per epoch make more progress per epoch but cost more time per epoch;"
          "\nmini-batches take most of the progress for a fraction of the time.")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "batch_sizes.png")
        plot.compare(histories, metric="loss", log_scale=True, path=path,
                     title="Batch vs stochastic vs mini-batch gradient descent")
        print(f"Figure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
