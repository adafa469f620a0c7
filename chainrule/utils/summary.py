"""``model.summary()``: the layer table in the tutorials' (tf.keras) format.

For a plain stack of layers::

    Model: "sequential"
    _________________________________________________________________
    Layer (type)                 Output Shape              Param #
    =================================================================
    flatten (Flatten)            (None, 784)               0
    _________________________________________________________________
    dense (Dense)                (None, 10)                7850
    =================================================================
    Total params: 7,850
    Trainable params: 7,850
    Non-trainable params: 0
    _________________________________________________________________

Functional models with branches get a fourth column, "Connected to".
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from chainrule.utils import io_utils

__all__ = ["print_summary"]


def _fmt_shape(shape: Any) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_fmt_shape(s) for s in shape) + "]"
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (
        ",)" if len(shape) == 1 else ")")


def _row(fields: Sequence[str], positions: Sequence[int], clip_last: bool = True) -> str:
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        if clip_last or i < len(fields) - 1:
            line = line[: positions[i]]
        line += " " * (positions[i] - len(line))
    return line


def _is_sequential_like(model: Any) -> bool:
    if not getattr(model, "_functional", False):
        return True
    for node in model._nodes:
        if len(node.inputs) > 1:
            return False
    return len(model.inputs) == 1 and len(model.outputs) == 1


def print_summary(model: Any, line_length: int | None = None,
                  positions: Sequence[float] | None = None,
                  print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Sequence[str] | None = None
                  ) -> None:
    """Print ``model``'s layer table (see the module docstring for the format).

    Args:
        model: a model (built or not).
        line_length: total width.
        positions: column ends, relative (<= 1) or absolute.
        print_fn: called with each line; default ``print``.
        expand_nested: list a nested model's layers under its row, indented by
            ``"   └ "`` per level, as Keras does.
        show_trainable: add a ``Trainable`` column (``Y``/``N``, ``-`` for a layer
            without weights), as Keras does.
        layer_range: ``[first, last]`` layer names: list only those layers and the
            ones between them.

    A model that is not built yet is listed as Keras 3 lists it: each unbuilt
    layer with output shape ``?`` and ``0 (unbuilt)`` parameters.

    Raises:
        ValueError: if ``layer_range`` names layers the model does not have.
    """
    print_fn = print_fn or io_utils.print_msg
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        header = header + ["Trainable"]
        line_length += 11
        positions = list(positions) + [line_length]
    shown = _layer_range(model, layer_range)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_fn(_row(header, positions))
    print_fn("=" * line_length)

    rows = []

    def add_rows(layer: Any, level: int) -> None:
        unbuilt = not layer.built and type(layer).__name__ != "InputLayer"
        try:
            shape = layer.output_shape
        except (AttributeError, ValueError):
            shape = None
        if type(layer).__name__ == "InputLayer":
            shape = [layer._batch_input_shape]
        kind = getattr(layer, "operation_class_name", None) or type(layer).__name__
        prefix = "   " * level + "└ " if level else ""  # a nested model's layers, as Keras
        fields = [f"{prefix}{layer.name} ({kind})",
                  "?" if unbuilt or shape is None and not model.built else _fmt_shape(shape),
                  "0 (unbuilt)" if unbuilt else str(layer.count_params())]
        if not sequential_like:
            conns = []
            for node in layer._inbound_nodes if not level else ():
                if getattr(model, "_nodes", None) is not None and node not in model._nodes:
                    continue
                for t in node.inputs:
                    src = t.node.layer
                    idx = src._inbound_nodes.index(t.node)
                    conns.append(f"{src.name}[{idx}][{t.node.outputs.index(t)}]")
            fields.append(conns[0] if conns else "")
            rows.append((fields, conns[1:]))
        else:
            rows.append((fields, []))
        if show_trainable:  # as Keras: "-" for a layer without weights
            fields.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        if expand_nested and isinstance(getattr(layer, "layers", None), list):
            for inner in layer.layers:  # a nested model: its layers, one level deeper
                add_rows(inner, level + 1)

    for layer in shown:
        add_rows(layer, 0)
    for i, (fields, more) in enumerate(rows):
        print_fn(_row(fields, positions, clip_last="0 (unbuilt)" not in fields))
        for c in more:
            print_fn(_row(["", "", "", c] + ([""] if show_trainable else []), positions))
        print_fn(("=" if i == len(rows) - 1 else "_") * line_length)
    if not rows:
        print_fn("=" * line_length)

    seen: set = set()
    trainable = total = 0
    trainable_ids = {id(w) for w in model.trainable_weights}
    for w in model.weights:
        if id(w) in seen:
            continue
        seen.add(id(w))
        n = int(np.prod(w.shape))
        total += n
        if id(w) in trainable_ids:
            trainable += n
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)


def _layer_range(model: Any, layer_range: Sequence[str] | None) -> list:
    # a functional model lists every node of its graph, ops included (as Keras 3 does)
    layers = list(model.operations if getattr(model, "_functional", False) else model.layers)
    if layer_range is None:
        return layers
    names = [layer.name for layer in layers]
    if (not isinstance(layer_range, (list, tuple)) or len(layer_range) != 2
            or any(n not in names for n in layer_range)):
        raise ValueError(f"layer_range must be [first, last], two names of the model's layers "
                         f"{names}. Received: layer_range={layer_range!r}")
    first, last = names.index(layer_range[0]), names.index(layer_range[1])
    return layers[first:last + 1]
