"""Backpropagation through time, seen: how much of the error reaches each time step.

The task needs memory: each sequence is 50 random numbers and the label says whether the
FIRST one was positive, so the loss at the end must send its gradient back through every
step to the start. For SimpleRNN, LSTM and GRU (Keras's defaults) the example measures, for
one batch, the gradient of the loss with respect to each step's input, ‖∂E/∂x_t‖: how much
of the error signal reaches step t (``chainrule.explain.gradient_through_time``, drawn by
``chainrule.plot.gradient_flow(..., over="time")``). Going back one step multiplies the gradient by the
layer's recurrent Jacobian, so what reaches step 0 is a product of 49 of them:

* SimpleRNN: ``R^T diag(1 - h_t^2)``. With small inputs its tanh works near its linear part
  and the orthogonal recurrent kernel keeps the gradient's size; with larger inputs
  (``--scale 4``) tanh saturates, ``1 - h^2`` is small at every step, and the gradient
  vanishes by many orders of magnitude: the vanishing gradient of the seed, through time.
* LSTM: through its cell state the factor is the forget gate, about sigmoid(1) = 0.73 at
  Keras's initialization (``unit_forget_bias``), whatever the inputs; training can open it
  towards 1 when the task needs memory.
* GRU: the update gate z plays that part.

Run:
    python examples/sequence_lessons.py [--quick] [--out DIR]
"""

import argparse
import os

import numpy as np

import chainrule as cr
from chainrule import explain


def make_data(n, steps, seed=0):
    """Sequences of ``steps`` numbers in [-1, 1); the label: was the first one positive?"""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, steps, 1)).astype("float32")
    y = (x[:, 0, 0] > 0).astype("float32")[:, None]
    return x, y


def build(kind, steps, units=16):
    layer = {"SimpleRNN": cr.layers.SimpleRNN, "LSTM": cr.layers.LSTM,
             "GRU": cr.layers.GRU}[kind](units)
    model = cr.Sequential([cr.layers.Input((steps, 1)), layer,
                           cr.layers.Dense(1, activation="sigmoid")], name=kind.lower())
    model.compile(optimizer=cr.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def gradient_through_time(model, x, y):
    """``‖∂E/∂x_t‖`` for every step t, averaged over the batch: the error reaching step t
    of the model's recurrent layer (its input is the model's input here)."""
    (g,) = explain.gradient_through_time(model, x, y).values()
    return g


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="less data, fewer epochs")
    parser.add_argument("--out", default=None, help="folder for the figure")
    args = parser.parse_args(argv)
    steps = 50
    n, epochs = (256, 1) if args.quick else (2048, 5)
    curves, runs = {}, {}
    print(f"Remember the first of {steps} numbers: {n} sequences, {epochs} epoch(s) of Adam\n")
    print(f"{'inputs':<12} {'layer':<10} {'accuracy':>9} {'|dE/dx_0|':>11} {'|dE/dx_49|':>11} "
          f"{'first/last':>11}")
    for scale in (1, 4):
        x, y = make_data(n, steps)
        x_test, y_test = make_data(256, steps, seed=1)
        x, x_test = x * scale, x_test * scale
        for kind in ("SimpleRNN", "LSTM", "GRU"):
            cr.utils.clear_session()
            cr.utils.set_random_seed(0)
            model = build(kind, steps)
            model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
            acc = model.evaluate(x_test, y_test, verbose=0)[1]
            g = gradient_through_time(model, x_test[:128], y_test[:128])
            curves[(scale, kind)] = g
            runs.setdefault(f"inputs U(-{scale}, {scale})", {})[kind] = g
            dist = f"U(-{scale}, {scale})"
            print(f"{dist:<12} {kind:<10} {acc:>9.3f} {g[0]:>11.3e} "
                  f"{g[-1]:>11.3e} {g[0] / g[-1]:>11.3e}")
    ratio = {k: v[0] / v[-1] for k, v in curves.items()}
    print("\nFirst-step gradient / last-step gradient:")
    for kind in ("SimpleRNN", "LSTM", "GRU"):
        print(f"  {kind:<10} small inputs {ratio[(1, kind)]:.1e}, large inputs "
              f"{ratio[(4, kind)]:.1e} (changed {ratio[(4, kind)] / ratio[(1, kind)]:.0e} x)")
    print("Large inputs saturate SimpleRNN's tanh and its gradient vanishes on the way back; "
          "LSTM's is set by its forget gate, not by the inputs.")

    if args.out:
        from chainrule import plot

        path = os.path.join(args.out, "sequence_gradients.png")
        plot.gradient_flow(runs, path=path, over="time")
        print(f"wrote {path}")
    return curves


if __name__ == "__main__":
    main()
