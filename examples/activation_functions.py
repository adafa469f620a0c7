"""Seed 002 §2.3: activation functions, their derivatives, and why sigmoid gradients vanish.

Every value below comes from chainrule's autograd engine: f(x) from the forward
pass, f'(x) from the backward pass with an incoming gradient of 1.

Run:
    python examples/activation_functions.py [--quick] [--out DIR]
"""

import argparse
import os

import numpy as np

from chainrule.plot.activations import activation_curves

NAMES = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(no effect: this lesson is quick)")
    parser.add_argument("--out", default=None, help="folder for the figure")
    args = parser.parse_args(argv)

    points = np.array([-5.0, -1.0, 0.5, 1.0, 5.0])
    print("f(x) and its derivative df = f'(x) from the engine (leaky ReLU with a = 0.1; "
          "softmax of [x, 0])")
    print(f"  {'x':>14s}" + "".join(f"{p:>9.1f}" for p in points))
    for name in NAMES:
        _, y, dy = activation_curves(name, points)
        print(f"  {name + ' f':>14s}" + "".join(f"{v:9.4f}" for v in y))
        print(f"  {name + ' df':>14s}" + "".join(f"{v:9.4f}" for v in dy))

    print("\nVanishing gradients: the sigmoid's slope is at most 0.25 (at x = 0), so n sigmoid")
    print("layers multiply the gradient flowing back by at most 0.25 ** n:")
    for n in (1, 2, 5, 10):
        print(f"  {n:2d} layers: at most {0.25 ** n:.2e}")
    _, _, dsig = activation_curves("sigmoid", [0.0])
    _, _, drelu = activation_curves("relu", [2.0])
    print(f"  (engine: sigmoid'(0) = {dsig[0]:.2f}; relu'(2) = {drelu[0]:.0f}, which passes "
          "gradients through unchanged)")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "activations.png")
        plot.activations(NAMES, path=path)
        print(f"\nFigure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
