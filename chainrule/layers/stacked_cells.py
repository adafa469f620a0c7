"""``StackedRNNCells``: several recurrent cells run as one cell (each feeds the next)."""

from __future__ import annotations

from typing import Any, Sequence

from chainrule.layers import serialization
from chainrule.layers.base import Layer, call_arguments

__all__ = ["StackedRNNCells"]


def _sizes(state_size: Any) -> list:
    return list(state_size) if isinstance(state_size, (list, tuple)) else [state_size]


class StackedRNNCells(Layer):
    """A stack of recurrent cells that behaves as one cell: each step, the first cell reads the
    input, each next cell reads the previous cell's output, and the last cell's output is the
    stack's.

    ``RNN(StackedRNNCells(cells))`` runs one loop over time for the whole stack
    (Keras's "efficient stacked RNN"). ``state_size`` lists the cells' state
    sizes one after the other (an LSTM cell contributes two), so the RNN's
    ``initial_state`` and ``return_state`` list the states in that order.

    Args:
        cells: the cells, first to last (layers with ``state_size`` and
            ``call(inputs, states)`` returning ``(output, new_states)``).
        **kwargs: layer arguments.

    Weights:
        each cell's weights in order (an LSTM cell: ``kernel``,
        ``recurrent_kernel``, ``bias``).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cells = cr.layers.StackedRNNCells([cr.layers.LSTMCell(4), cr.layers.GRUCell(3)])
        >>> cells.state_size
        [4, 4, 3]
        >>> cr.layers.RNN(cells)(np.ones((2, 5, 6))).shape
        (2, 3)
    """

    def __init__(self, cells: Sequence[Layer], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError("StackedRNNCells needs a non-empty list of cells. Received: "
                             f"cells={cells!r}")
        for cell in cells:
            if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
                raise ValueError(
                    "StackedRNNCells: every cell must be a layer with a `state_size` and "
                    "call(inputs, states) returning (output, new_states). Received: cell "
                    f"{cell!r} of type {type(cell).__name__}")
        self.cells = list(cells)

    @property
    def state_size(self) -> list:
        """The state sizes of all cells, first cell first (flat)."""
        return [d for cell in self.cells for d in _sizes(cell.state_size)]

    @property
    def output_size(self) -> int:
        """The size of the last cell's output."""
        return self._output_size(self.cells[-1])

    @staticmethod
    def _output_size(cell: Layer) -> int:
        size = getattr(cell, "output_size", None)
        return int(size) if size is not None else int(_sizes(cell.state_size)[0])

    def build(self, input_shape: Any) -> None:
        batch = input_shape[0]
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
                cell._build_shape = shape
            shape = (batch, self._output_size(cell))
        self.built = True

    def call(self, inputs: Any, states: Any, training: Any = None) -> tuple:
        flat = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(flat) != len(self.state_size):
            raise ValueError(
                f'Layer "{self.name}" (StackedRNNCells) has {len(self.state_size)} states '
                f"(sizes {self.state_size}). Received: {len(flat)} states")
        new_states: list = []
        x = inputs
        start = 0
        for cell in self.cells:
            n = len(_sizes(cell.state_size))
            kwargs = {"training": training} if "training" in call_arguments(cell) else {}
            x, new = cell(x, flat[start:start + n], **kwargs)
            new_states.extend(new if isinstance(new, (list, tuple)) else [new])
            start += n
        return x, new_states

    def get_config(self) -> dict:
        config = super().get_config()
        config["cells"] = [serialization.serialize(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "StackedRNNCells":
        config = dict(config)
        cells = [serialization.deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
