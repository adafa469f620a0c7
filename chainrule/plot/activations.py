"""The seed's activation-function figures (seed 002 §2.3), each with its derivative from the engine."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["activations", "activation_curves"]

# name -> (title, how to evaluate); leaky ReLU uses the seed's a = 0.1 so the leak is visible.
_TITLES = {
    "step": "Step Function",
    "sigmoid": "Sigmoid Function",
    "tanh": "Tanh Function",
    "relu": "ReLU Function",
    "leaky_relu": "Leaky ReLU Function (a = 0.1)",
    "softmax": "Softmax Function of [x, 0]",
}


def _engine_fn(name: str) -> Callable[[Any], Any]:
    from chainrule import activations as acts  # noqa: PLC0415
    from chainrule import ops  # noqa: PLC0415

    if name == "leaky_relu":
        return lambda t: ops.leaky_relu(t, 0.1)
    return acts.get(name)


def activation_curves(name: str, x: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An activation and its derivative on a grid, both computed by the autograd engine.

    ``f(x)`` is the forward pass; ``f'(x)`` is the gradient the backward pass
    gives for an incoming gradient of 1 (so it is the derivative that
    backpropagation actually uses). Softmax acts on vectors: it is evaluated on
    the two-class input ``[x, 0]``, whose first output is ``sigmoid(x)``.

    Args:
        name: an activation name known to :func:`chainrule.activations.get`
            (``'leaky_relu'`` uses the seed's slope 0.1).
        x: the grid (default ``np.arange(-5, 5, 0.01)``, the seed's range).

    Returns:
        ``(x, f(x), f'(x))`` as float64 arrays.

    Example:
        >>> x, y, dy = activation_curves("sigmoid", [0.0])
        >>> float(y[0]), float(dy[0])
        (0.5, 0.25)
    """
    from chainrule.autograd.engine import Tensor  # noqa: PLC0415

    grid = np.arange(-5.0, 5.0, 0.01) if x is None else np.asarray(x, dtype=np.float64).ravel()
    fn = _engine_fn(name)
    if name in ("softmax", "log_softmax"):
        pair = np.stack([grid, np.zeros_like(grid)], axis=1)
        t = Tensor(pair, requires_grad=True)
        out = fn(t)
        seed_grad = np.zeros_like(pair)
        seed_grad[:, 0] = 1.0  # d(first output)/d(x)
        out.backward(seed_grad)
        return grid, np.asarray(out.data[:, 0]), np.asarray(t.grad[:, 0])
    t = Tensor(grid.copy(), requires_grad=True)
    out = fn(t)
    if out is t:  # the identity: f'(x) = 1
        return grid, grid.copy(), np.ones_like(grid)
    if getattr(out, "requires_grad", False):
        out.backward(np.ones_like(out.data))
    dy = np.zeros_like(grid) if t.grad is None else np.asarray(t.grad, dtype=np.float64)
    return grid, np.asarray(out.data, dtype=np.float64), dy


def activations(names: Sequence[str] = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "softmax"),
                path: Any = None) -> Any:
    """Plot activation functions and their derivatives, one panel each (the seed's figures).

    Each panel shows ``f(x)`` (solid) and ``f'(x)`` (dashed) over ``[-5, 5)``,
    both from the autograd engine. The sigmoid panel shades where its slope is
    below 0.05, the flat ends that make gradients vanish in deep networks.

    Args:
        names: activation names (see :func:`activation_curves`).
        path: optional PNG file to write.

    Returns:
        The matplotlib Figure (one Axes per name, titled like the seed).

    Raises:
        ValueError: for an unknown or empty list of names.
        ImportError: when matplotlib is not installed.

    Example:
        >>> fig = activations(["sigmoid", "relu"])
        >>> [ax.get_title() for ax in fig.axes]
        ['Sigmoid Function', 'ReLU Function']
    """
    from chainrule import activations as acts  # noqa: PLC0415

    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError("activations() needs at least one activation name. Received: names=[]")
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"activation names must be strings. Received: {name!r}")
        if name != "leaky_relu":
            acts.get(name)  # unknown names fail here, with close matches
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig = new_figure(4.2 * cols, 3.3 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, name in zip(axes, names):
        x, y, dy = activation_curves(name)
        if name == "step":  # draw the jump as a jump, not a slanted line
            y = np.where(x > 0, 1.0, 0.0)
        ax.axhline(0, color="0.8", linewidth=0.8, zorder=0)
        ax.axvline(0, color="0.8", linewidth=0.8, linestyle=":", zorder=0)
        ax.plot(x, y, color="tab:blue", linewidth=2, label="f(x)")
        ax.plot(x, dy, color="tab:orange", linewidth=1.6, linestyle="--", label="f'(x) (engine)")
        if name == "sigmoid":
            flat = dy < 0.05
            ax.fill_between(x, -0.1, 1.1, where=flat, color="tab:red", alpha=0.08,
                            label="slope < 0.05")
        ax.set_title(_TITLES.get(name, f"{name} function"))
        ax.set_xlabel("x")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper left", fontsize=8)
    for ax in axes[len(names):]:
        ax.remove()
    fig.suptitle("Activation functions and their derivatives")
    return finish(fig, path)
