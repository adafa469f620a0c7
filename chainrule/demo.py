"""``chainrule demo``: the seeds' lessons, run end to end, offline, in well under a minute.

1. Backpropagation number by number: the seed's 2-2-2 example explained by
   :func:`chainrule.explain.backprop`.
2. The perceptron: hand-set AND/NAND/OR gates, the perceptron rule learning
   them, failing on XOR (with its warning), and XOR from gates and from a
   network with a hidden layer.
3. A small network trained on two moons with the Keras progress output,
   ``summary()`` and the final accuracy.
4. Vanishing gradients: 10-layer sigmoid and ReLU networks under a GradientMonitor.
5. Figures (with matplotlib): activations, decision boundaries, history,
   gradient flow and the network diagram, written to a folder whose path is printed.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["run_demo"]


def _section(title: str) -> None:
    print()
    print(title)
    print("=" * len(title))


def _seed_network() -> Any:
    import chainrule as cr  # noqa: PLC0415
    from chainrule.explain.worked_example import seed_kernels  # noqa: PLC0415

    model = cr.models.Sequential([
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, input_dim=2, dtype="float64"),
        cr.layers.Dense(2, activation="sigmoid", use_bias=False, dtype="float64"),
    ], name="seed_2_2_2")
    model.set_weights(list(seed_kernels()))
    return model


def _worked_example(state: dict) -> None:
    from chainrule.explain import backprop  # noqa: PLC0415
    from chainrule.explain.worked_example import SEED_INPUTS, SEED_TARGETS  # noqa: PLC0415

    _section("1. Backpropagation, number by number (seed 002 §3.4)")
    print("A 2-2-2 sigmoid network, inputs (0.1, 0.2), targets (0.4, 0.6), learning rate 0.5.")
    print("Every factor below is read from the autograd engine (the .grad of each tensor).")
    print()
    model = _seed_network()
    report = backprop(model, SEED_INPUTS, SEED_TARGETS, learning_rate=0.5)
    print(report)
    print()
    print(f"E_total after one update = {report.loss_after:.8f} (was {report.loss:.8f}): one step of "
          "gradient descent lowered the error.")
    state["seed_model"] = model


def _perceptron(state: dict) -> None:
    import chainrule as cr  # noqa: PLC0415
    from chainrule.datasets import make_gates, make_xor  # noqa: PLC0415
    from chainrule.explain import gates  # noqa: PLC0415
    from chainrule.models import ConvergenceWarning, Perceptron  # noqa: PLC0415

    _section("2. The perceptron, logic gates and XOR (seed 002 §1)")
    for name in ("and", "nand", "or"):
        w1, w2, b = gates.GATE_WEIGHTS[name]
        outs = [out for _, out in gates.truth_table(name)]
        print(f"{name.upper():4s} gate, hand-set (w1, w2, b) = ({w1}, {w2}, {b}): "
              f"inputs 00 01 10 11 -> {outs}")
    print(f"XOR = AND(NAND, OR): inputs 00 01 10 11 -> {[o for _, o in gates.truth_table('xor')]}")
    print()
    print("The perceptron rule (w += lr (t - y) x) learning the gates from zero weights:")
    for name in ("and", "nand", "or"):
        x, y = make_gates(name)
        p = Perceptron(learning_rate=0.1).fit(x, y)
        print(f"  {name.upper():4s}: converged in {p.n_epochs_} epochs, w = "
              f"{np.round(p.weights_, 2).tolist()}, b = {p.bias_:.2f}, predicts "
              f"{p.predict(x).tolist()}")
    x, y = make_xor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        xor_p = Perceptron(learning_rate=0.1, max_epochs=100).fit(x, y)
    for w in caught:
        print(f"  XOR : {type(w.message).__name__}: {w.message}")
    print()
    print("XOR with a hidden layer: Dense(4, tanh) -> Dense(1, sigmoid), Adam, 300 epochs")
    cr.utils.set_random_seed(state["seed"])
    mlp = cr.models.Sequential([cr.layers.Dense(4, activation="tanh", input_dim=2),
                                cr.layers.Dense(1, activation="sigmoid")], name="xor_mlp")
    mlp.compile(optimizer=cr.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                metrics=["accuracy"])
    history = mlp.fit(x, y, epochs=300, batch_size=4, verbose=0)
    probs = mlp.predict(x, verbose=0).ravel().astype(float)
    print(f"  outputs for 00 01 10 11: {np.round(probs, 3).tolist()}, accuracy "
          f"{history.history['accuracy'][-1]:.2f}")
    state.update(and_perceptron=Perceptron(learning_rate=0.1).fit(*make_gates("and")),
                 xor_perceptron=xor_p, xor_mlp=mlp, xor_data=(x, y))


def _small_network(state: dict) -> None:
    import chainrule as cr  # noqa: PLC0415
    from chainrule.datasets import make_moons  # noqa: PLC0415
    from chainrule.explain import GradientMonitor  # noqa: PLC0415

    _section("3. A small network on two moons (seed 003's workflow)")
    quick = state["quick"]
    x, y = make_moons(300 if quick else 1000, noise=0.15, seed=state["seed"])
    cr.utils.set_random_seed(state["seed"])
    model = cr.models.Sequential([
        cr.layers.Dense(16, activation="relu", input_dim=2),
        cr.layers.Dense(16, activation="relu"),
        cr.layers.Dense(1, activation="sigmoid"),
    ], name="moons")
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.summary()
    monitor = GradientMonitor()
    epochs = 10 if quick else 40
    history = model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=1,
                        callbacks=[monitor])
    loss, acc = model.evaluate(x, y, verbose=0)
    print(f"Final accuracy on all {len(x)} points: {acc:.4f} (loss {loss:.4f})")
    state.update(moons_model=model, moons_data=(x, y), moons_history=history)


def _vanishing(state: dict) -> None:
    import chainrule as cr  # noqa: PLC0415
    from chainrule.datasets import make_moons  # noqa: PLC0415
    from chainrule.explain import GradientMonitor  # noqa: PLC0415

    _section("4. Vanishing gradients (seed 002 §2.3)")
    epochs = 1 if state["quick"] else 3
    print(f"Two 10-layer networks, 16 units per layer, {epochs} epoch(s) of SGD; the gradient norm "
          "of each layer's kernel:")
    x, y = make_moons(256, noise=0.1, seed=state["seed"])
    monitors = {}
    for activation, init in (("sigmoid", "glorot_uniform"), ("relu", "he_normal")):
        cr.utils.set_random_seed(state["seed"])
        layers = [cr.layers.Dense(16, activation=activation, kernel_initializer=init, input_dim=2)]
        layers += [cr.layers.Dense(16, activation=activation, kernel_initializer=init)
                   for _ in range(8)]
        layers.append(cr.layers.Dense(1, activation="sigmoid"))
        model = cr.models.Sequential(layers, name=f"deep_{activation}")
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        monitor = GradientMonitor(every=2)
        model.fit(x, y, epochs=epochs, batch_size=32, verbose=0,
                  callbacks=[monitor])
        g = monitor.grad_norms()[-1]
        monitors[activation] = monitor
        print(f"  {activation:7s}: first layer {g[0]:.1e}, last layer {g[-1]:.1e}, ratio "
              f"{g[0] / g[-1]:.1e}")
    print("Each sigmoid multiplies the gradient by at most 0.25 on its way back, so the layers near "
          "the input barely learn; ReLU passes it through.")
    state["monitors"] = monitors


def _figures(state: dict) -> None:
    _section("5. Figures")
    if not state["plots"]:
        print("Figures skipped (--no-plots).")
        return
    try:
        from chainrule.plot._mpl import require  # noqa: PLC0415

        require()
    except ImportError:
        print('Figures skipped: matplotlib is not installed (pip install "chainrule[plot]").')
        return
    from chainrule import plot  # noqa: PLC0415

    out = state["out_dir"]
    os.makedirs(out, exist_ok=True)
    written = []

    def save(name: str, draw: Callable[[str], Any]) -> None:
        path = os.path.join(out, name)
        draw(path)
        written.append(name)

    save("activations.png", lambda p: plot.activations(path=p))
    save("network_2_2_2.png", lambda p: plot.network(
        state["seed_model"], path=p, title="The seed's 2-2-2 network (weights W1..W8)"))
    if "xor_data" in state:
        from chainrule.datasets import make_gates  # noqa: PLC0415

        x, y = state["xor_data"]
        ga, gy = make_gates("and")
        save("decision_boundary_and_perceptron.png", lambda p: plot.decision_boundary(
            state["and_perceptron"], ga, gy, title="Perceptron: AND", path=p))
        save("decision_boundary_xor_perceptron.png", lambda p: plot.decision_boundary(
            state["xor_perceptron"], x, y, title="Perceptron on XOR: no line separates it",
            path=p))
        save("decision_boundary_xor_mlp.png", lambda p: plot.decision_boundary(
            state["xor_mlp"], x, y, title="XOR learned with a hidden layer", path=p))
    if "moons_model" in state:
        mx, my = state["moons_data"]
        save("decision_boundary_moons.png", lambda p: plot.decision_boundary(
            state["moons_model"], mx, my, title="Two moons: Dense(16)-Dense(16)-Dense(1)", path=p))
        save("history_moons.png", lambda p: plot.history(state["moons_history"], path=p))
    if "monitors" in state:
        save("gradient_flow.png", lambda p: plot.gradient_flow(state["monitors"], path=p))
    print(f"Wrote {len(written)} figures to {out}:")
    for name in written:
        print(f"  {name}")


def run_demo(out_dir: str | None = None, quick: bool = False, plots: bool = True,
             seed: int = 0) -> int:
    """Run every lesson of the demo and print what it shows.

    Args:
        out_dir: folder for the figures (created); default ``./chainrule-demo``.
        quick: fewer epochs.
        plots: write figures (needs matplotlib, the ``plot`` extra).
        seed: random seed.

    Returns:
        The exit code (0).

    Example:
        >>> run_demo(quick=True, plots=False)  # doctest: +SKIP
        0
    """
    from chainrule.utils import set_random_seed  # noqa: PLC0415

    start = time.perf_counter()
    set_random_seed(seed)
    state: dict = {"out_dir": os.path.abspath(out_dir or "chainrule-demo"), "quick": bool(quick),
                   "plots": bool(plots), "seed": int(seed)}
    sections: list[Callable[[dict], None]] = [_worked_example, _perceptron, _small_network,
                                              _vanishing, _figures]
    for section in sections:
        section(state)
    print()
    print(f"Done in {time.perf_counter() - start:.1f}s.")
    return 0
