"""``plot_model``: a diagram of a model's layers and connections, drawn with matplotlib.

Keras draws it with Graphviz; chainrule draws the same boxes and arrows with
matplotlib (the optional ``plot`` extra), so nothing outside Python is needed.
Layers are placed in rows by their depth from the inputs (a layer sits one row
below the deepest layer feeding it) and each box lists what was asked for:
name and type, input and output shapes, dtype, activation, trainability.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["plot_model", "model_graph"]


def _fmt(shape: Any) -> str:
    from chainrule.utils.summary import _fmt_shape  # noqa: PLC0415

    return _fmt_shape(shape)


def model_graph(model: Any) -> tuple[list, list]:
    """The layers of ``model`` and the edges between them, in drawing order.

    Args:
        model: a built Sequential, functional or subclassed model.

    Returns:
        ``(layers, edges)``: the layers (input layers first), and ``(i, j)``
        pairs meaning layer ``i`` feeds layer ``j`` (none for a subclassed
        model, whose wiring is Python code).

    Raises:
        ValueError: when the model is not built.

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Input((3,), name="x"), cr.layers.Dense(2, name="d")])
        >>> layers, edges = model_graph(model)
        >>> [la.name for la in layers], edges
        (['x', 'd'], [(0, 1)])
    """
    if not getattr(model, "built", False):
        raise ValueError(f"plot_model needs a built model: model {model.name!r} has no layers "
                         "with known shapes yet. Build it (give the first layer an input shape, "
                         "or call it on data) first. Received: an unbuilt model")
    if getattr(model, "_functional", False):
        layers = list(model.operations)  # ops included, as Keras 3 draws its graph operations
        index = {id(la): i for i, la in enumerate(layers)}
        edges: list = []
        for node in model._nodes:
            for t in node.inputs:
                if id(t.node.layer) not in index:  # an input that is not an Input (a cut graph)
                    continue
                edge = (index[id(t.node.layer)], index[id(node.layer)])
                if edge not in edges:
                    edges.append(edge)
        return layers, edges
    stack = list(getattr(model, "_stack", None) or [])
    if stack or hasattr(model, "_stack"):  # Sequential: a chain, its InputLayer first
        first = getattr(model, "_input_layer", None)
        layers = ([first] if first is not None else []) + stack
        return layers, [(i, i + 1) for i in range(len(layers) - 1)]
    return list(model.layers), []


def _label(layer: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    kind = getattr(layer, "operation_class_name", None) or type(layer).__name__
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    if show_shapes:
        nodes = getattr(layer, "_inbound_nodes", [])
        if nodes:
            outs = [t.shape for t in nodes[0].outputs]
            ins = [t.shape for t in nodes[0].inputs] or outs  # an InputLayer: its own shape
            lines.append("Input shape: " + _fmt(ins[0] if len(ins) == 1 else ins))
            lines.append("Output shape: " + _fmt(outs[0] if len(outs) == 1 else outs))
        elif kind == "InputLayer":
            lines.append("Output shape: " + _fmt(layer._batch_input_shape))
    if show_dtype:
        lines.append(f"dtype: {layer.dtype or 'float32'}")
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        from chainrule import activations  # noqa: PLC0415

        try:
            name = activations.serialize(activation)
        except (TypeError, ValueError):
            name = getattr(activation, "__name__", type(activation).__name__)
        lines.append(f"Activation: {name}")
    if show_trainable:
        lines.append(f"Trainable: {'Y' if layer.trainable else 'N'}")
    return "\n".join(lines)


def _depths(n: int, edges: list) -> list[int]:
    depth = [0] * n
    for _ in range(n):  # longest path from an input; edges follow the topological order
        changed = False
        for i, j in edges:
            if depth[j] < depth[i] + 1:
                depth[j] = depth[i] + 1
                changed = True
        if not changed:
            break
    if not edges:
        depth = list(range(n))  # a subclassed model: its layers in order, unconnected
    return depth


def plot_model(model: Any, to_file: Any = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, **kwargs: Any) -> Any:
    """Draw a model's layers as boxes joined by arrows, and save the picture (Keras's API).

    Args:
        model: a built model.
        to_file: where to save it; the extension chooses the format (``.png``,
            ``.pdf``, ``.svg``, ``.jpg``); None: do not save.
        show_shapes: add each layer's input and output shapes.
        show_dtype: add each layer's dtype.
        show_layer_names: write ``name (Type)`` rather than the type alone.
        rankdir: ``'TB'`` (top to bottom) or ``'LR'`` (left to right).
        expand_nested: accepted for Keras compatibility (nested models are one box).
        dpi: resolution of raster files.
        show_layer_activations: add the activation of layers that have one.
        show_trainable: add whether each layer is trainable.
        **kwargs: Keras's Graphviz-only options (``subgraph``, ``layer_range``)
            are refused with a TypeError.

    Returns:
        The matplotlib ``Figure`` (shown inline in a notebook).

    Raises:
        ValueError: for an unbuilt model, a bad ``rankdir`` or ``dpi``.
        ImportError: when matplotlib (the ``plot`` extra) is missing.

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(2)])
        >>> fig = plot_model(model, to_file=None, show_shapes=True)
        >>> len(fig.axes)
        1
    """
    from chainrule.plot._mpl import new_figure  # noqa: PLC0415

    if kwargs:
        raise TypeError(f"plot_model() got unexpected keyword arguments: {sorted(kwargs)}. "
                        f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' or 'LR'. Received: rankdir={rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"dpi must be a positive integer. Received: dpi={dpi!r}")
    del expand_nested
    layers, edges = model_graph(model)
    labels = [_label(la, show_shapes, show_dtype, show_layer_names, show_layer_activations,
                     show_trainable) for la in layers]
    depth = _depths(len(layers), edges)
    rows: dict[int, list[int]] = {}
    for i, d in enumerate(depth):
        rows.setdefault(d, []).append(i)
    n_rows = max(rows) + 1 if rows else 1
    n_cols = max((len(v) for v in rows.values()), default=1)
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    box_w = max(2.2, 0.085 * max((len(s) for lab in labels for s in lab.split("\n")),
                                 default=10))
    box_h = 0.15 * lines + 0.2
    pos: dict[int, tuple[float, float]] = {}
    for d, members in rows.items():
        for k, i in enumerate(members):
            across = k - (len(members) - 1) / 2
            if rankdir == "TB":
                pos[i] = (across * (box_w + 0.4), -d * (box_h + 0.6))
            else:
                pos[i] = (d * (box_w + 0.8), -across * (box_h + 0.4))
    if rankdir == "TB":
        width, height = n_cols * (box_w + 0.4) + 0.4, n_rows * (box_h + 0.6) + 0.2
    else:
        width, height = n_rows * (box_w + 0.8), n_cols * (box_h + 0.4) + 0.4
    fig = new_figure(max(width, 2.5), max(height, 1.0))
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    texts = []
    for i, label in enumerate(labels):
        x, y = pos[i]
        texts.append(ax.text(x, y, label, ha="center", va="center", fontsize=8,
                             family="monospace", bbox={"boxstyle": "round,pad=0.4",
                                                       "facecolor": "#eef3fb",
                                                       "edgecolor": "0.3"}))
    # arrows from the edge of one box to the edge of the next (coordinates relative to each
    # label's extent; the shrink clears the box's padding)
    start, end = ((0.5, 0.0), (0.5, 1.0)) if rankdir == "TB" else ((1.0, 0.5), (0.0, 0.5))
    for i, j in edges:
        ax.annotate("", xy=end, xycoords=texts[j], xytext=start, textcoords=texts[i],
                    arrowprops={"arrowstyle": "-|>", "color": "0.3", "shrinkA": 4,
                                "shrinkB": 4})
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - box_w / 2 - 0.2, max(xs) + box_w / 2 + 0.2)
    ax.set_ylim(min(ys) - box_h / 2 - 0.3, max(ys) + box_h / 2 + 0.3)
    if to_file is not None:
        if not isinstance(to_file, (str, os.PathLike)):
            raise TypeError("to_file must be a file path or None. Received: to_file of type "
                            f"{type(to_file).__name__}")
        folder = os.path.dirname(os.fspath(to_file))
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(os.fspath(to_file), dpi=dpi)
    return fig
