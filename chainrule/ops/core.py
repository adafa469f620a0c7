"""Keras's core ops: shapes as tuples, conversion in and out, ``stop_gradient``.

Also the input conversion every Keras-style op uses, so that NumPy arrays,
Python numbers and nested lists are accepted wherever a Tensor is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor

__all__ = ["shape", "size", "ndim", "convert_to_tensor", "convert_to_numpy", "stop_gradient",
           "is_tensor", "cast"]


def as_input(x: Any) -> Any:
    """A Tensor or array unchanged; a number or nested list as a backend array.

    Python floats become :func:`chainrule.config.floatx` (as Keras converts them).
    """
    if isinstance(x, Tensor) or hasattr(x, "dtype"):
        return x
    return backend.as_array(x)


def as_pair(a: Any, b: Any) -> tuple:
    """Two operands of a binary op: lists become arrays; a Python number stays one next to an
    array (NumPy's weak scalars keep the array's dtype), two numbers become arrays."""
    a_num = isinstance(a, (int, float, bool)) and not isinstance(a, Tensor)
    b_num = isinstance(b, (int, float, bool)) and not isinstance(b, Tensor)
    if a_num and b_num:
        return backend.as_array(a), backend.as_array(b)
    if not a_num:
        a = as_input(a)
    if not b_num:
        b = as_input(b)
    return a, b


def raw(x: Any) -> Any:
    """The array behind ``x`` (a Tensor's data, or ``x`` converted)."""
    return x.data if isinstance(x, Tensor) else as_input(x)


def shape(x: Any) -> tuple:
    """The shape of ``x`` as a tuple of Python ints (Keras's ``ops.shape``).

    Shapes are static in chainrule: reading one inside a layer's ``call`` is fine
    and keeps the step capturable (a new batch shape is a new captured step).

    Args:
        x: a Tensor, array, number or nested list.

    Returns:
        A tuple of ints.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.shape(cr.Tensor(np.zeros((4, 3))))
        (4, 3)
    """
    if isinstance(x, Tensor):
        return tuple(x.data.shape)
    s = getattr(x, "shape", None)  # arrays, and symbolic KerasTensors (None for the batch)
    if s is None:
        s = np.shape(as_input(x))
    return tuple(None if n is None else int(n) for n in s)


def size(x: Any) -> int:
    """The number of elements of ``x``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.size(cr.Tensor(np.zeros((4, 3))))
        12
    """
    dims = shape(x)
    if None in dims:
        raise ValueError(f"size: the shape {dims} has an unknown dimension. Received: a "
                         "symbolic tensor")
    return int(np.prod(dims, dtype=np.int64))


def ndim(x: Any) -> int:
    """The number of dimensions of ``x``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ndim([[1.0, 2.0]])
        2
    """
    return len(shape(x))


def is_tensor(x: Any) -> bool:
    """True when ``x`` is a chainrule Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.is_tensor(cr.Tensor([1.0])), cr.ops.is_tensor(np.ones(1))
        (True, False)
    """
    return isinstance(x, Tensor)


def convert_to_tensor(x: Any, dtype: Any = None, sparse: Any = None, ragged: Any = None) -> Tensor:
    """Convert ``x`` to a Tensor (a Tensor is returned as it is, or cast when ``dtype`` differs).

    Args:
        x: a Tensor, array, number or nested list.
        dtype: optional dtype; Python floats default to ``floatx``.
        sparse: accepted for Keras compatibility; only dense tensors exist (True raises).
        ragged: accepted for Keras compatibility; True raises.

    Returns:
        A Tensor.

    Raises:
        ValueError: for ``sparse=True`` or ``ragged=True``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.convert_to_tensor([1, 2], dtype="float32")
        Tensor([1., 2.], dtype=float32)
    """
    if sparse or ragged:
        raise ValueError("convert_to_tensor: chainrule tensors are dense. Received: "
                         f"sparse={sparse!r}, ragged={ragged!r}")
    if isinstance(x, Tensor):
        if dtype is None or x.dtype == np.dtype(dtype):
            return x
        return cast(x, dtype)
    return Tensor(x, dtype=None if dtype is None else np.dtype(dtype))


def convert_to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array on the host.

    Reading a value is not an op: inside a layer's ``call`` it makes the step
    run on the tape (it cannot be captured), as ``Tensor.numpy()`` does.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.convert_to_numpy(cr.Tensor([1.0, 2.0]))
        array([1., 2.], dtype=float32)
    """
    if isinstance(x, Tensor):
        return x.numpy()
    return backend.to_numpy(as_input(x))


class StopGradient(Function):
    """The identity, with no gradient (an op, so a captured step recomputes it)."""

    differentiable = False

    def forward(self, x):
        return x

    def backward(self, gy):
        return (None,)


def stop_gradient(variable: Any) -> Tensor:
    """Return ``variable``'s value, cut from the graph: no gradient flows back through it.

    Args:
        variable: a Tensor, array or number.

    Returns:
        A Tensor that does not require grad.

    Example:
        >>> import chainrule as cr
        >>> w = cr.Tensor([2.0], requires_grad=True)
        >>> cr.ops.stop_gradient(w * 3.0).requires_grad
        False
    """
    return StopGradient()(as_input(variable))


class Cast(Function):
    def __init__(self, dtype):
        self.dtype = dtype

    def forward(self, x):
        self.src = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return (gy.astype(self.src),)


def cast(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``; the gradient is cast back to the input's dtype.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cast(cr.Tensor([1.5, 2.0]), "int32")
        Tensor([1, 2], dtype=int32)
    """
    return Cast(dtype)(as_input(x))
