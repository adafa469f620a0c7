"""Seed 000 §1: the compile lines of each loss, each on a problem it suits.

* mean squared error ('mse') for a continuous target: the study/sleep score;
* binary cross-entropy for two classes with a sigmoid output: two moons;
* categorical cross-entropy for several classes with a softmax output and
  one-hot labels: three spirals;
* sparse categorical cross-entropy for the same with integer labels.

Each is compiled twice, as the seed shows: with the loss's name and with its
class (tf.keras.losses.X() in the seed, chainrule.losses.X() here); the seed's
Adam line with legacy arguments is used for the last run.

Run:
    python examples/compile_losses.py [--quick] [--out DIR]
"""

import argparse
import os
import warnings

import chainrule as cr
from chainrule.datasets import make_moons, make_spirals, make_study_sleep
from chainrule.utils import to_categorical


def build(units_out, activation_out, hidden=16):
    cr.utils.set_random_seed(0)
    return cr.models.Sequential([
        cr.layers.Dense(hidden, activation="relu", input_dim=2),
        cr.layers.Dense(hidden, activation="relu"),
        cr.layers.Dense(units_out, activation=activation_out),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default=None, help="folder for the comparison figure")
    args = parser.parse_args(argv)
    epochs = 5 if args.quick else 60

    x_reg, y_reg = make_study_sleep(500, seed=0)
    x_moon, y_moon = make_moons(400, noise=0.15, seed=0)
    x_spi, y_spi = make_spirals(300, 3, seed=0)
    y_spi_onehot = to_categorical(y_spi, 3)

    runs = []  # (compile line as the seed writes it, model, compile arguments, x, y)

    def add(line, units, activation, x, y, **kwargs):
        runs.append((line, build(units, activation), kwargs, x, y))

    add("model.compile(optimizer='adam', loss='mse', metrics=['mse'])",
        1, "sigmoid", x_reg, y_reg, optimizer="adam", loss="mse", metrics=["mse"])
    add("model.compile(optimizer='adam', loss=losses.MeanSquaredError(), metrics=['mse'])",
        1, "sigmoid", x_reg, y_reg,
        optimizer="adam", loss=cr.losses.MeanSquaredError(), metrics=["mse"])
    add("model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['acc'])",
        1, "sigmoid", x_moon, y_moon, loss="binary_crossentropy", optimizer="adam",
        metrics=["acc"])
    add("model.compile(optimizer='adam', loss=losses.BinaryCrossentropy(), metrics=['acc'])",
        1, "sigmoid", x_moon, y_moon,
        optimizer="adam", loss=cr.losses.BinaryCrossentropy(), metrics=["acc"])
    add("model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['acc'])",
        3, "softmax", x_spi, y_spi_onehot,
        optimizer="adam", loss="categorical_crossentropy", metrics=["acc"])
    add("model.compile(optimizer='adam', loss=losses.CategoricalCrossentropy(), metrics=['acc'])",
        3, "softmax", x_spi, y_spi_onehot,
        optimizer="adam", loss=cr.losses.CategoricalCrossentropy(), metrics=["acc"])
    add("model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['acc'])",
        3, "softmax", x_spi, y_spi,
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    add("model.compile(optimizer='adam', loss=losses.SparseCategoricalCrossentropy(), "
        "metrics=['acc'])", 3, "softmax", x_spi, y_spi,
        optimizer="adam", loss=cr.losses.SparseCategoricalCrossentropy(), metrics=["acc"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # lr=, decay=, epsilon=None: Keras 2
        adam = cr.optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0,
                                  amsgrad=False)
    add("adam = optimizers.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, "
        "amsgrad=False)\nmodel.compile(loss='categorical_crossentropy', optimizer=adam, "
        "metrics=['acc'])", 3, "softmax", x_spi, y_spi_onehot,
        loss="categorical_crossentropy", optimizer=adam, metrics=["acc"])

    histories = {}
    for line, model, kwargs, x, y in runs:
        model.compile(**kwargs)
        cr.utils.set_random_seed(1)  # the same shuffling for every run: name and class agree
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
        h = history.history
        metric = next(k for k in h if k != "loss")
        print(line)
        print(f"    -> after {epochs} epochs: loss {h['loss'][-1]:.4g}, {metric} "
              f"{h[metric][-1]:.4g}   (history keys: {list(h)})")
        if isinstance(kwargs["loss"], str):  # the class versions give the same curves
            problem = {"mse": "study/sleep score", "binary_crossentropy": "two moons",
                       "categorical_crossentropy": "three spirals, one-hot labels",
                       "sparse_categorical_crossentropy": "three spirals, integer labels"}
            histories.setdefault(f"{kwargs['loss']} ({problem[kwargs['loss']]})", history)

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "losses.png")
        plot.compare(histories, metric="loss", path=path, title="Training loss of each loss function",
                     log_scale=True)
        print(f"\nFigure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
