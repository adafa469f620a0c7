"""``model_to_dot``: a model's graph as a ``pydot.Dot`` (Keras's; needs the ``dot`` extra).

Its own module so that :mod:`chainrule.utils.model_visualization` (``plot_model``,
matplotlib only) loads without pydot.
"""

from __future__ import annotations

from typing import Any

from chainrule.utils.model_visualization import _label, model_graph

__all__ = ["model_to_dot"]



def _pydot() -> Any:
    try:
        import pydot  # noqa: PLC0415
    except ImportError:
        raise ImportError("model_to_dot needs pydot: install the 'dot' extra "
                          "(pip install 'chainrule[dot]') or pip install pydot. "
                          "plot_model draws without it (matplotlib).") from None
    return pydot


def _dot_label(layer: Any, **show: bool) -> str:
    """Keras's HTML-like table label: the name row, then the details row."""
    import html  # noqa: PLC0415

    lines = _label(layer, **show).split("\n")
    rows = [f'<tr><td bgcolor="black"><font point-size="16" color="white"><b>'
            f"{html.escape(lines[0])}</b></font></td></tr>"]
    rows += [f'<tr><td bgcolor="white"><font point-size="14">{html.escape(line)}</font>'
             "</td></tr>" for line in lines[1:]]
    return ('<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
            + "".join(rows) + "</table>>")


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB",
                 expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False,
                 splines: str = "ortho", **kwargs: Any) -> Any:
    """A model's graph as a ``pydot.Dot`` (Keras's ``utils.model_to_dot``; needs pydot).

    One node per layer (and per op of a functional model), labelled as
    :func:`plot_model` labels them, and one edge per connection; a subclassed
    model is one node, as in Keras. Render it with pydot and Graphviz
    (``dot.write_png(...)``) or read its text with ``dot.to_string()``.

    Args:
        model: a built Sequential, functional or subclassed model.
        show_shapes: add each layer's input and output shapes.
        show_dtype: add each layer's dtype.
        show_layer_names: label nodes ``name (Class)`` (else the class only).
        rankdir: ``"TB"`` (top to bottom) or ``"LR"`` (left to right).
        expand_nested: draw a nested Sequential or functional model as a dashed
            cluster of its layers (edges go to its first and last node), as Keras;
            else one node.
        dpi: the image's resolution.
        subgraph: return a ``pydot.Cluster`` (for nesting in another graph).
        show_layer_activations: add the activation of layers that have one.
        show_trainable: add whether each layer is trainable.
        splines: how Graphviz draws edges (``"ortho"``, ``"curved"``, ...).

    Returns:
        A ``pydot.Dot`` (a ``pydot.Cluster`` with ``subgraph=True``).

    Raises:
        ImportError: when pydot is not installed (the ``dot`` extra).
        ValueError: for an unbuilt model, or an unknown keyword argument.

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Input((3,)), cr.layers.Dense(4),
        ...                        cr.layers.Dense(2)])
        >>> dot = model_to_dot(model)
        >>> len(dot.get_edges()), dot.get("rankdir")
        (1, 'TB')
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported. "
                         "Received: layer_range")
    if kwargs:
        raise ValueError(f"model_to_dot: unrecognized keyword arguments. Received: {kwargs}")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f'rankdir must be "TB" or "LR". Received: rankdir={rankdir!r}')
    layers, edges = model_graph(model)  # an unbuilt model is refused first, as in Keras
    pydot = _pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")
    show = {"show_shapes": show_shapes, "show_dtype": show_dtype,
            "show_layer_names": show_layer_names,
            "show_layer_activations": show_layer_activations, "show_trainable": show_trainable}
    functional = getattr(model, "_functional", False)
    if not functional and not hasattr(model, "_stack"):
        layers, edges = [model], []  # a subclassed model: one node, as in Keras
    elif not functional:  # Sequential: its layers without the InputLayer (Keras's .layers)
        layers = list(model._stack)
        edges = [(i, i + 1) for i in range(len(layers) - 1)]
    ends: dict = {}  # a nested model drawn as a cluster: its first and last node's names
    for layer in layers:
        if expand_nested and _is_nested_model(layer):
            cluster = model_to_dot(layer, expand_nested=True, subgraph=True, **show)
            dot.add_subgraph(cluster)
            ends[id(layer)] = cluster.chainrule_ends
            continue
        node = pydot.Node(str(id(layer)), label=_dot_label(layer, **show))
        node.set("fontname", "Helvetica")
        node.set("border", "0")
        node.set("margin", "0")
        dot.add_node(node)
    def end(layer: Any, k: int) -> str:  # k = 0: where edges enter, 1: where they leave
        return ends[id(layer)][k] if id(layer) in ends else str(id(layer))

    for i, j in edges:
        edge = pydot.Edge(end(layers[i], 1), end(layers[j], 0))
        edge.set("penwidth", "2")
        dot.add_edge(edge)
    if layers:  # for a graph that nests this one: its first and last node
        dot.chainrule_ends = (end(layers[0], 0), end(layers[-1], 1))
    return dot


def _is_nested_model(layer: Any) -> bool:
    """A built Sequential or functional model used as a layer (drawn as a cluster)."""
    return bool(layer.built and (getattr(layer, "_functional", False)
                                 or hasattr(layer, "_stack")) and layer.layers)
