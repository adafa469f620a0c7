"""Seed 002 §3.4 / seed 000 §4: the worked backpropagation example, number by number.

A 2-2-2 network, sigmoid everywhere, no biases; inputs (0.1, 0.2), targets
(0.4, 0.6), weights W1..W8 = 0.3, 0.25, 0.4, 0.35, 0.45, 0.4, 0.7, 0.6,
E = ½Σ(target − output)², learning rate 0.5. chainrule.explain.backprop runs
one step on the engine and writes every gradient as the product of its
chain-rule factors, as the seed does by hand; then the same step is taken with
model.fit and plain SGD, which lands on the same weights.

Run:
    python examples/backprop_worked_example.py [--quick] [--out DIR] [--loss mse]
"""

import argparse
import os

import numpy as np

import chainrule as cr
from chainrule.explain import backprop
from chainrule.explain.worked_example import SEED_INPUTS, SEED_TARGETS, seed_kernels


def seed_network():
    model = cr.models.Sequential([
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, input_dim=2, dtype="float64"),
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, dtype="float64"),
    ], name="seed_2_2_2")
    model.set_weights(list(seed_kernels()))
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(no effect: this lesson is quick)")
    parser.add_argument("--out", default=None, help="folder for the network diagram")
    parser.add_argument("--loss", default="half_sse", choices=["half_sse", "mse"],
                        help="the seed's ½Σ(t − o)² (default) or Keras's mean squared error")
    args = parser.parse_args(argv)

    model = seed_network()
    report = backprop(model, SEED_INPUTS, SEED_TARGETS, learning_rate=0.5, loss=args.loss)
    print(report)

    # Every factor came from the engine; their products are the engine's gradients.
    worst = max(abs(r["product"] - r["gradient"]) for r in report.rows)
    print(f"\nLargest |product of factors − engine gradient| over the 8 weights: {worst:.1e}")

    # The same step through the Keras API. For one sample with two outputs, Keras's
    # mse = ½((t1 − o1)² + (t2 − o2)²) is exactly the seed's E_total, so plain SGD with
    # learning rate 0.5 takes the same step. (fit feeds float32 inputs, and 0.1 is not exact
    # in float32, so the weights agree to about 11 decimals, not to the last bit.)
    fit_model = seed_network()
    fit_model.compile(optimizer=cr.optimizers.SGD(learning_rate=0.5), loss="mse")
    fit_model.fit(np.array([SEED_INPUTS]), np.array([SEED_TARGETS]), epochs=1, batch_size=1,
                  verbose=0, shuffle=False)
    diff = max(float(np.abs(a - b).max())
               for a, b in zip(fit_model.get_weights(), report.new_weights))
    print(f"model.fit(SGD(learning_rate=0.5), loss='mse') reaches the same weights: largest "
          f"difference {diff:.1e} (the same to 8 decimals: {diff < 5e-9})")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "worked_example_network.png")
        plot.network(model, path=path, title="The seed's 2-2-2 network (before the step)")
        print(f"Figure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
