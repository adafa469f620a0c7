"""Seed 002 §2.3: vanishing gradients, seen with a GradientMonitor.

Two 10-layer networks learn the two-moons problem: one with sigmoid hidden
layers (Glorot initialization), one with ReLU (He initialization). The
monitor records every layer's gradient norm; with sigmoids the gradient
shrinks by orders of magnitude on its way back to the first layer, so the
layers near the input barely learn. With ReLU it keeps its size.

Run:
    python examples/vanishing_gradients.py [--quick] [--out DIR]
"""

import argparse
import os

import chainrule as cr
from chainrule.datasets import make_moons
from chainrule.explain import GradientMonitor


def deep_network(activation, initializer, depth=10, width=16):
    model = cr.models.Sequential(name=f"deep_{activation}")
    model.add(cr.layers.Dense(width, activation=activation, kernel_initializer=initializer,
                              input_dim=2))
    for _ in range(depth - 2):
        model.add(cr.layers.Dense(width, activation=activation, kernel_initializer=initializer))
    model.add(cr.layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs")
    parser.add_argument("--out", default=None, help="folder for the figure")
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else 20

    x, y = make_moons(512, noise=0.1, seed=0)
    monitors = {}
    for activation, initializer in (("sigmoid", "glorot_uniform"), ("relu", "he_normal")):
        cr.utils.set_random_seed(0)
        model = deep_network(activation, initializer)
        monitor = GradientMonitor(every=4, activation_data=x[:128])
        history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[monitor])
        monitors[activation] = monitor
        print(f"\n{activation} network, {epochs} epochs: accuracy "
              f"{history.history['accuracy'][-1]:.3f}")
        print(monitor.summary())
        sat = monitor.activation_stats("activation_saturated_fraction")[-1]
        zeros = monitor.activation_stats("activation_zero_fraction")[-1]
        print(f"  hidden units saturated (within 1% of their range's ends): "
              f"{100 * sat[:-1].mean():.1f}%; exactly zero: {100 * zeros[:-1].mean():.1f}%")

    g_sig = monitors["sigmoid"].grad_norms()[-1]
    g_relu = monitors["relu"].grad_norms()[-1]
    print(f"\nFirst-layer gradient / last-layer gradient: sigmoid {g_sig[0] / g_sig[-1]:.1e}, "
          f"ReLU {g_relu[0] / g_relu[-1]:.1e}")

    if args.out:
        try:
            from chainrule import plot
        except ImportError as e:  # pragma: no cover
            print(f"(figure skipped: {e})")
            return 0
        path = os.path.join(args.out, "gradient_flow.png")
        plot.gradient_flow(monitors, path=path)
        print(f"Figure written to {os.path.abspath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
