"""A diagram of a small dense network with its weights on the edges (the seed's 2-2-2 picture)."""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.plot._mpl import finish, new_figure

__all__ = ["network"]

_MAX_UNITS = 16
_MAX_LABELLED_EDGES = 48


def _describe(model: Any) -> tuple[list[int], list[np.ndarray], list, list[str], list[str]]:
    """``(dims, kernels, biases, activation names, layer names)`` of a Perceptron or Dense stack."""
    if hasattr(model, "weights_") and hasattr(model, "bias_") and not hasattr(model, "layers"):
        if model.weights_ is None:
            raise ValueError("The Perceptron is not fitted: call fit(x, y) before drawing it. "
                             "Received: a Perceptron with weights_=None")
        w = np.asarray(model.weights_, dtype=np.float64).reshape(-1, 1)
        return [w.shape[0], 1], [w], [np.array([model.bias_])], ["step"], ["perceptron"]
    from chainrule import activations  # noqa: PLC0415
    from chainrule.layers.core import Dense  # noqa: PLC0415

    layers = [la for la in getattr(model, "layers", []) if type(la).__name__ != "InputLayer"]
    if not layers:
        raise TypeError("network() draws a Perceptron or a Sequential model of Dense layers. "
                        f"Received: {type(model).__name__}")
    dims: list[int] = []
    kernels, biases, acts, names = [], [], [], []
    for la in layers:
        if not isinstance(la, Dense):
            raise TypeError("network() draws models made of Dense layers only. Received: layer "
                            f"{la.name!r} of type {type(la).__name__}")
        if la.kernel is None:
            raise ValueError(f"The model is not built: layer {la.name!r} has no weights yet. Give "
                             "the first layer input_dim=... or call the model on data first. "
                             "Received: an unbuilt model")
        k = np.asarray(la.kernel.numpy(), dtype=np.float64)
        if not dims:
            dims.append(k.shape[0])
        dims.append(k.shape[1])
        kernels.append(k)
        biases.append(None if la.bias is None else np.asarray(la.bias.numpy(), dtype=np.float64))
        try:
            acts.append(str(activations.serialize(la.activation)))
        except Exception:  # noqa: BLE001 - custom callables
            acts.append(getattr(la.activation, "__name__", "?"))
        names.append(la.name)
    return dims, kernels, biases, acts, names


def network(model: Any, path: Any = None, show_weights: bool = True, title: str | None = None) -> Any:
    """Draw a small dense network: units as circles, weights on the edges, biases under the units.

    Units are named as the seed names them (``x1, x2`` → ``h1, h2`` → ``o1, o2``)
    and the edges as ``W1 … W8`` in the seed's order (:func:`chainrule.explain.backprop`
    uses the same names), with each weight's value. Edge color shows the sign
    (blue positive, red negative) and width the magnitude.

    Args:
        model: a built Sequential model of Dense layers with at most 16 units
            per layer (inputs included), or a fitted
            :class:`chainrule.models.Perceptron`.
        path: optional PNG file to write.
        show_weights: write the weight values on the edges (when there are at
            most 48 edges).
        title: the title (default: the layer sizes and activations).

    Returns:
        The matplotlib Figure; its Axes has one line per edge.

    Raises:
        TypeError: for models with layers other than Dense.
        ValueError: for unbuilt models or layers wider than 16 units.

    Example:
        >>> import chainrule as cr
        >>> model = cr.models.Sequential([cr.layers.Dense(2, input_dim=2, activation="sigmoid"),
        ...                               cr.layers.Dense(1, activation="sigmoid")])
        >>> len(network(model).axes[0].get_lines())  # 2*2 + 2*1 edges
        6
    """
    from chainrule.explain.backprop import _Names  # noqa: PLC0415

    dims, kernels, biases, acts, names = _describe(model)
    if max(dims) > _MAX_UNITS:
        raise ValueError(f"network() draws small networks (at most {_MAX_UNITS} units per layer); "
                         "use model.summary() for large ones. Received: layer sizes "
                         f"{dims}")
    nm = _Names(dims, names, seed_style=True)
    n_edges = sum(k.size for k in kernels)
    label_edges = show_weights and n_edges <= _MAX_LABELLED_EDGES
    top = max(dims)
    dx = 1.7  # horizontal distance between layers, in units of the vertical one
    inch = 1.45 if top <= 6 else 0.9
    fig = new_figure(inch * (dx * (len(dims) - 1) + 1.2) + 0.2, inch * (top + 0.45) + 0.6)
    ax = fig.subplots()
    ax.set_axis_off()

    def pos(col: int, j: int) -> tuple[float, float]:
        n = dims[col]
        return dx * col, (top - 1) / 2.0 - (j - (n - 1) / 2.0)

    scale = max(float(max(np.abs(k).max() for k in kernels)), 1e-12)
    for li, k in enumerate(kernels):
        for j in range(k.shape[1]):
            for i in range(k.shape[0]):
                (x0, y0), (x1, y1) = pos(li, i), pos(li + 1, j)
                w = k[i, j]
                ax.plot([x0, x1], [y0, y1], color="tab:blue" if w >= 0 else "tab:red",
                        linewidth=0.6 + 3.0 * abs(w) / scale, alpha=0.75, zorder=1)
                if label_edges:
                    t = 0.4 if li % 2 == 0 else 0.32  # off the middle, where edges cross
                    ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), f"{nm.w(li, i, j)}={w:.2f}",
                            fontsize=8, ha="center", va="center", zorder=4,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="0.7", lw=0.5))
    radius = 0.2
    from matplotlib.patches import Circle  # noqa: PLC0415

    for col, n in enumerate(dims):
        for j in range(n):
            x, y = pos(col, j)
            face = "#dde8f5" if col == 0 else ("#fde3c8" if col == len(dims) - 1 else "#e2f0d9")
            ax.add_patch(Circle((x, y), radius, facecolor=face, edgecolor="k", zorder=3))
            label = nm.x(j) if col == 0 else nm.a(col - 1, j)
            ax.text(x, y, label, ha="center", va="center", fontsize=10, zorder=5)
            if col > 0 and biases[col - 1] is not None:
                ax.text(x, y - radius - 0.08, f"b={biases[col - 1][j]:.2f}", ha="center",
                        va="top", fontsize=7.5, color="0.25", zorder=5,
                        bbox=dict(boxstyle="square,pad=0.05", fc="white", ec="none", alpha=0.8))
    for col in range(len(dims)):
        caption = "input" if col == 0 else f"{names[col - 1]} ({acts[col - 1]})"
        ax.text(dx * col, (top - 1) + 0.4, caption, ha="center", va="bottom", fontsize=9)
    ax.text(dx * (len(dims) - 1) / 2.0, -0.62, "blue: positive weight, red: negative; "
            "line width ∝ |weight|", ha="center", va="bottom", fontsize=7.5, color="0.35")
    ax.set_xlim(-0.6, dx * (len(dims) - 1) + 0.6)
    ax.set_ylim(-0.7, top - 1 + 0.75)
    ax.set_aspect("equal")
    sizes = "-".join(str(d) for d in dims)
    ax.set_title(title or f"Network {sizes} ({', '.join(acts)})")
    return finish(fig, path)
