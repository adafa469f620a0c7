"""Seed 002 §1: the perceptron, logic gates, and why XOR needs a hidden layer.

1. AND, NAND and OR as single perceptrons with the seed's hand-set weights.
2. Rosenblatt's perceptron learning rule finds weights for AND, NAND and OR by
   itself, and stops as soon as an epoch makes no mistake.
3. On XOR it cannot: no straight line separates the classes. It stops after
   ``max_epochs`` with a ConvergenceWarning.
4. XOR from gates: AND(NAND(x1, x2), OR(x1, x2)), a two-layer perceptron.
5. XOR learned: Dense(4, tanh) -> Dense(1, sigmoid), trained with fit.

Run:
    python examples/perceptron_gates.py [--quick] [--out DIR]
"""

import argparse
import os
import warnings

import numpy as np

import chainrule as cr
from chainrule.datasets import make_gates, make_xor
from chainrule.explain import gates
from chainrule.models import ConvergenceWarning, Perceptron


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default=None, help="folder for the figures")
    args = parser.parse_args(argv)
    cr.utils.set_random_seed(0)

    print("1. Gates as perceptrons with hand-set weights (w1, w2, b)")
    for name in ("and", "nand", "or"):
        print(gates.format_truth_table(name))
    print("AND_gate(0, 0), AND_gate(0, 1), AND_gate(1, 0), AND_gate(1, 1) =",
          (gates.AND_gate(0, 0), gates.AND_gate(0, 1), gates.AND_gate(1, 0), gates.AND_gate(1, 1)))

    print("\n2. The perceptron learning rule: w += lr * (t - y) * x, b += lr * (t - y)")
    learned = {}
    for name in ("and", "nand", "or"):
        x, y = make_gates(name)
        p = Perceptron(learning_rate=0.1, max_epochs=100).fit(x, y)
        learned[name] = p
        print(f"  {name.upper():4s}: converged after {p.n_epochs_} epochs "
              f"(mistakes per epoch {p.errors_}), w = {np.round(p.weights_, 2).tolist()}, "
              f"b = {p.bias_:.2f}, predictions {p.predict(x).tolist()}")

    print("\n3. XOR is not linearly separable: the perceptron gives up")
    x, y = make_xor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        xor_p = Perceptron(learning_rate=0.1, max_epochs=20 if args.quick else 100).fit(x, y)
    for w in caught:
        print(f"  {type(w.message).__name__}: {w.message}")
    print(f"  accuracy on XOR: {xor_p.score(x, y):.2f} (predictions {xor_p.predict(x).tolist()})")

    print("\n4. XOR from gates: AND(NAND(x1, x2), OR(x1, x2))")
    print(gates.format_truth_table("xor"))
    net = gates.xor_network()
    print("  the same as a two-layer step network:",
          net.predict(x, verbose=0).ravel().astype(int).tolist())

    print("\n5. XOR learned by a network with a hidden layer")
    model = cr.models.Sequential([
        cr.layers.Dense(4, activation="tanh", input_dim=2),
        cr.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=cr.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    probs = model.predict(x, verbose=0).ravel()
    print(f"  after 300 epochs: loss {history.history['loss'][-1]:.4f}, accuracy "
          f"{history.history['accuracy'][-1]:.2f}, outputs {np.round(probs.astype(float), 3).tolist()}")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figures skipped: {e})")
            return 0
        os.makedirs(args.out, exist_ok=True)
        xa, ya = make_gates("and")
        plot.decision_boundary(learned["and"], xa, ya, title="Perceptron: AND",
                               path=os.path.join(args.out, "perceptron_and.png"))
        plot.decision_boundary(xor_p, x, y, title="Perceptron on XOR: no line works",
                               path=os.path.join(args.out, "perceptron_xor.png"))
        plot.decision_boundary(model, x, y, title="Dense(4, tanh) -> Dense(1, sigmoid) on XOR",
                               path=os.path.join(args.out, "mlp_xor.png"))
        plot.network(net, title="XOR = AND(NAND, OR)", path=os.path.join(args.out, "xor_gates.png"))
        print(f"\nFigures written to {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
