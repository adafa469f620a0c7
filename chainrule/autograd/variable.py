"""Variable: a weight, a Tensor with a name, a trainable flag, a regularizer and a constraint.

Layers make them (``Layer.add_weight``), optimizers update their arrays in
place, metrics keep their running state in them. It sits beside the Tensor
it extends, below everything that uses it.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd import engine as _engine
from chainrule.autograd.engine import Tensor
from chainrule.backend import scoping as _scopes

__all__ = ["Variable"]


class Variable(Tensor):
    """A model weight: a Tensor with a name, a trainable flag and an optional regularizer.

    Args:
        value: the initial array.
        name: the weight's name (``kernel``, ``bias``, ...).
        trainable: whether optimizers update it.
        regularizer: optional callable adding a penalty to the loss.
        constraint: optional callable applied after each update.

    Example:
        >>> import numpy as np
        >>> v = Variable(np.zeros((2, 3)), name="kernel")
        >>> v.assign(np.ones((2, 3))); float(v.numpy().sum())
        6.0
    """

    __slots__ = ("trainable", "regularizer", "constraint", "path")

    def __init__(self, value: Any, name: str = "variable", trainable: bool = True,
                 regularizer: Any = None, constraint: Any = None, dtype: Any = None) -> None:
        arr = backend.as_array(value, dtype)
        super().__init__(arr, requires_grad=bool(trainable) and arr.dtype.kind == "f", name=name)
        self.trainable = bool(trainable)
        self.regularizer = regularizer
        self.constraint = constraint
        self.path = _scopes.scoped_path(name) if _scopes._STATE.names else name

    @property
    def value(self) -> Any:
        """The current array (no copy)."""
        return self.data

    def numpy(self) -> np.ndarray:
        """A host copy of the current value."""
        if _engine._recorder is not None:
            _engine._recorder.value_read(self, "numpy()")
        return np.array(backend.to_numpy(self.data), copy=True)

    def assign(self, value: Any) -> None:
        """Overwrite the value in place (the array object, and any view of it, stays the same).

        Raises:
            ValueError: when ``value`` has another shape.
        """
        arr = value.data if isinstance(value, Tensor) else backend.as_array(value)
        if tuple(arr.shape) != tuple(self.data.shape):
            raise ValueError(
                f"Cannot assign a value of shape {tuple(arr.shape)} to variable {self.path!r} of "
                f"shape {tuple(self.data.shape)}. Received: value of shape {tuple(arr.shape)}"
            )
        if _engine._recorder is not None:  # a replayed step would not repeat this assignment
            _engine._recorder.side_effect(f"assigns to weight {self.path!r}")
        stateless = _scopes._STATE.stateless
        if stateless is not None:  # collected by the StatelessScope, not applied
            stateless.add_update((self, np.broadcast_to(arr, self.data.shape)))
            return
        self.data[...] = arr

    def assign_add(self, value: Any) -> None:
        """Add ``value`` in place (a metric's running total, a counter).

        Raises:
            ValueError: when ``value`` does not broadcast to the variable's shape.

        Example:
            >>> v = Variable(np.zeros(2), name="total")
            >>> v.assign_add([1.0, 2.0]); v.assign_sub(0.5); v.numpy().tolist()
            [0.5, 1.5]
        """
        self._update_in_place(value, operator.iadd, "assign_add")

    def assign_sub(self, value: Any) -> None:
        """Subtract ``value`` in place (see :meth:`assign_add`)."""
        self._update_in_place(value, operator.isub, "assign_sub")

    def _update_in_place(self, value: Any, op: Any, what: str) -> None:
        arr = value.data if isinstance(value, Tensor) else backend.as_array(value)
        try:
            fits = np.broadcast_shapes(tuple(arr.shape), tuple(self.data.shape)) == tuple(
                self.data.shape)
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"Cannot {what} a value of shape {tuple(arr.shape)} to variable {self.path!r} "
                f"of shape {tuple(self.data.shape)}. Received: value of shape {tuple(arr.shape)}"
            )
        if _engine._recorder is not None:  # a replayed step would not repeat this update
            _engine._recorder.side_effect(f"assigns to weight {self.path!r}")
        stateless = _scopes._STATE.stateless
        if stateless is not None:  # collected by the StatelessScope, not applied
            stateless.add_update((self, op(self.data.copy(), arr.astype(self.data.dtype,
                                                                        copy=False))))
            return
        op(self.data, arr.astype(self.data.dtype, copy=False))

    def __repr__(self) -> str:
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, dtype={self.dtype}, "
                f"trainable={self.trainable}>")
