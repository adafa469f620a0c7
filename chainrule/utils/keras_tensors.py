"""Keras's helpers about symbolic tensors: ``is_keras_tensor`` and ``get_source_inputs``."""

from __future__ import annotations

from typing import Any

__all__ = ["get_source_inputs", "is_keras_tensor"]


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor (from ``Input`` or a layer called on one).

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> is_keras_tensor(cr.layers.Input((3,))), is_keras_tensor(np.ones(3))
        (True, False)
    """
    from chainrule.layers.base import KerasTensor  # noqa: PLC0415

    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> list:
    """The ``Input`` tensors a symbolic tensor is computed from, in the order first reached.

    Args:
        tensor: a symbolic tensor.

    Returns:
        The list of input tensors (``[tensor]`` when it is itself an input).

    Raises:
        ValueError: when ``tensor`` is not a symbolic tensor.

    Example:
        >>> import chainrule as cr
        >>> a, b = cr.layers.Input((2,), name="a"), cr.layers.Input((2,), name="b")
        >>> y = cr.layers.Dense(1)(cr.layers.Dense(2)(b))
        >>> [t.name for t in get_source_inputs(y)]
        ['b']
    """
    if not is_keras_tensor(tensor):
        raise ValueError("get_source_inputs expects a symbolic tensor (from layers.Input). "
                         f"Received: tensor of type {type(tensor).__name__}")
    from chainrule.layers.core import InputLayer  # noqa: PLC0415

    out: list = []
    seen: set[int] = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        node = t.node
        if node is None or isinstance(node.layer, InputLayer) or not node.inputs:
            if id(t) not in seen:
                seen.add(id(t))
                out.append(t)
            continue
        stack.extend(reversed(node.inputs))
    return out
