"""Seed 004 §4.3-4.4: numerical differentiation, gradients and gradient descent.

f(x0, x1) = x0² + x1². Its gradient, computed numerically with central
differences, points uphill; gradient descent walks the other way. From
(-3, 4) with a good learning rate it reaches the minimum (0, 0); with lr = 10
it overshoots further every step and diverges; with lr = 1e-10 it barely
moves. The result of gradient_descent says which happened.

Run:
    python examples/gradient_descent.py [--quick] [--out DIR]
"""

import argparse
import os

import numpy as np

from chainrule.gradcheck import gradient_descent, numerical_gradient


def function_2(x):
    return x[0] ** 2 + x[1] ** 2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="(no effect: this lesson is quick)")
    parser.add_argument("--out", default=None, help="folder for the figures")
    args = parser.parse_args(argv)

    print("Numerical derivatives: (f(x + h) - f(x - h)) / 2h with h = 1e-4")
    print("  f(x) = 0.01x² + 0.1x at x = 5:",
          f"{numerical_gradient(lambda x: 0.01 * x[0] ** 2 + 0.1 * x[0], np.array([5.0]))[0]:.6f}",
          "(exact 0.2)")
    print("Partial derivatives and the gradient of f(x0, x1) = x0² + x1²:")
    for point in ([3.0, 4.0], [0.0, 2.0], [3.0, 0.0]):
        g = numerical_gradient(function_2, np.array(point))
        print(f"  at {tuple(point)}: gradient {np.round(g, 6).tolist()}")

    print("\nGradient descent from (-3, 4), 100 steps:")
    results = {}
    for lr in (0.1, 10.0, 1e-10):
        result = gradient_descent(function_2, np.array([-3.0, 4.0]), lr=lr, step_num=100)
        results[lr] = result
        x = result.x
        print(f"  lr={lr:g}: x = [{x[0]:.6g}, {x[1]:.6g}], status '{result.status}'")
        print(f"    {result.message}")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figures skipped: {e})")
            return 0
        for lr, result in results.items():
            path = os.path.join(args.out, f"gradient_descent_lr_{lr:g}.png")
            plot.gradient_descent_path(function_2, result, lr=lr, path=path)
        print(f"\nFigures written to {os.path.abspath(args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
