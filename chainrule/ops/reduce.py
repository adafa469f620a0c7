"""Reductions: sum, mean, max, min (with axis and keepdims)."""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.core import as_input
from chainrule.ops.math import maximum, minimum

__all__ = ["sum", "mean", "max", "min", "logsumexp"]


def _norm_axis(axis: Any, ndim: int, op: str) -> tuple | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < builtins.max(ndim, 1):
            raise shape_error(
                f"{op}: axis {a} is out of bounds for a tensor with {ndim} dimensions. "
                f"Received: axis={axis}"
            )
        out.append(int(a) % builtins.max(ndim, 1))
    return tuple(sorted(out))


def _input(x: Any) -> Any:
    """Tensors and arrays as they are; numbers and lists as arrays (see ``ops.core.as_input``)."""
    if isinstance(x, Tensor) or hasattr(x, "dtype"):
        return x
    return as_input(x)


def _expand(gy: Any, axes: tuple | None, keepdims: bool, shape: tuple) -> Any:
    """Broadcast a reduced gradient back to the input's shape (a read-only view, no copy)."""
    if not keepdims and axes is not None:
        gy = gy.reshape([1 if i in axes else n for i, n in enumerate(shape)])
    if isinstance(gy, np.generic):  # a reduction to a scalar gives a NumPy scalar
        gy = np.asarray(gy)
    if type(gy) is not np.ndarray or gy.ndim not in (0, len(shape)) or not gy.flags.c_contiguous:
        return np.broadcast_to(gy, shape)
    # np.broadcast_to's own view, built directly: its Python layer costs more than the
    # whole backward of a small mean (a loss over a batch of 32)
    strides = (0,) * len(shape) if gy.ndim == 0 else tuple(
        0 if g == 1 else st for g, st in zip(gy.shape, gy.strides))
    view = np.ndarray(shape, gy.dtype, buffer=gy, strides=strides)
    view.flags.writeable = False
    return view


class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _norm_axis(self.axis, x.ndim, "sum")
        self.shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        return (_expand(gy, self.axes, self.keepdims, self.shape),)


_FAST_MEAN = (np.dtype("float32"), np.dtype("float64"))


class Mean(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = _norm_axis(self.axis, x.ndim, "mean")
        self.shape = x.shape
        if x.size and x.dtype in _FAST_MEAN:  # x.mean's own arithmetic, without its Python layer
            y = np.add.reduce(x, axis=self.axes, keepdims=self.keepdims)
            self.n = x.size // builtins.max(y.size, 1)
            return y / self.n if isinstance(y, np.ndarray) and y.ndim else x.dtype.type(y / self.n)
        y = x.mean(axis=self.axes, keepdims=self.keepdims)
        self.n = x.size // builtins.max(y.size, 1) if x.size else 1
        return y

    def backward(self, gy):
        return (_expand(gy / self.n, self.axes, self.keepdims, self.shape),)


class _Extreme(Function):
    """max/min: the gradient is shared evenly among tied extreme elements (as TensorFlow)."""

    reducer = "max"

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if x.size == 0:
            raise shape_error(
                f"{self.reducer}: cannot reduce an empty tensor. Received: shape {x.shape}"
            )
        self.axes = _norm_axis(self.axis, x.ndim, self.reducer)
        self.x = x
        self.yk = getattr(x, self.reducer)(axis=self.axes, keepdims=True)
        if self.keepdims:
            return self.yk
        return self.yk.reshape(()) if self.axes is None else self.yk.squeeze(axis=self.axes)

    def backward(self, gy):
        mask = self.x == self.yk
        count = mask.sum(axis=self.axes, keepdims=True)
        return (mask * (gy.reshape(self.yk.shape) / count),)


class Max(_Extreme):
    reducer = "max"


class Min(_Extreme):
    reducer = "min"


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum of elements over ``axis`` (all axes when None).

    Args:
        x: input Tensor.
        axis: an int, a tuple of ints or None.
        keepdims: keep reduced axes with length 1.

    Returns:
        The reduced Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sum(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=0)
        Tensor([4., 6.], dtype=float32)
    """
    return Sum(axis, keepdims)(_input(x))


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (see :func:`sum`)."""
    return Mean(axis, keepdims)(_input(x))


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; ties share the gradient evenly (see :func:`sum`).

    ``initial`` (Keras and NumPy): a lower bound on the result, ``maximum(max(x), initial)``.
    """
    y = Max(axis, keepdims)(_input(x))
    if initial is None:
        return y
    return maximum(y, initial)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; ties share the gradient evenly (see :func:`sum`).

    ``initial``: an upper bound on the result, ``minimum(min(x), initial)``.
    """
    y = Min(axis, keepdims)(_input(x))
    if initial is None:
        return y
    return minimum(y, initial)


class LogSumExp(Function):
    """``log(sum(exp(x - m))) + m`` with ``m`` the maximum over the axes, as one op.

    The maximum is computed inside ``forward`` (a replayed step takes each batch's own)
    and treated as a constant, as the composed ops did; where it is not finite (a slice
    of -inf only, or an inf) it is taken as 0, as Keras does, so a slice of -inf gives
    -inf, not NaN. The gradient is ``exp(x - m) / sum(...)`` times the incoming one.
    """

    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = axes = _norm_axis(self.axis, x.ndim, "logsumexp")
        self.shape = x.shape
        m = x.max(axis=axes, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
        if not np.isfinite(m).all():
            m = np.where(np.isfinite(m), m, x.dtype.type(0))
        self.e = e = np.exp(x - m)
        self.s = s = e.sum(axis=axes, keepdims=True)
        y = np.log(s) + m
        return y if self.keepdims else (y.reshape(()) if axes is None else y.squeeze(axis=axes))

    def backward(self, gy):
        if not self.keepdims:
            gy = np.expand_dims(gy, self.axes) if self.axes is not None else np.reshape(
                gy, (1,) * len(self.shape))
        return (np.broadcast_to(gy / self.s, self.shape) * self.e,)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably (the maximum is subtracted first).

    One op (captured and replayed like any other); a slice of -inf gives -inf, as in Keras.

    Args:
        x: input Tensor.
        axis: an int, a tuple of ints or None.
        keepdims: keep reduced axes with length 1.

    Returns:
        The reduced Tensor.

    Example:
        >>> import numpy as np
        >>> logsumexp(np.array([[0.0, 0.0], [-np.inf, -np.inf]]), axis=1).numpy()
        array([0.69314718,       -inf])
    """
    return LogSumExp(axis, keepdims)(_input(x))
