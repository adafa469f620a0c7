"""Shape ops: reshape, transpose, concatenate, stack, indexing, broadcasting."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops.core import as_input

__all__ = [
    "reshape", "transpose", "concatenate", "stack", "getitem", "broadcast_to",
    "expand_dims", "squeeze", "flatten",
]


class Reshape(Function):
    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.src = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise shape_error(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) "
                f"into shape {tuple(self.shape)}. Received: shape={tuple(self.shape)}"
            ) from None

    def backward(self, gy):
        return (gy.reshape(self.src),)


class Transpose(Function):
    def __init__(self, axes):
        self.axes = axes

    def forward(self, x):
        if self.axes is not None and sorted(int(a) % max(x.ndim, 1) for a in self.axes) != list(
            range(x.ndim)
        ):
            raise shape_error(
                f"transpose: axes must be a permutation of {tuple(range(x.ndim))}. "
                f"Received: axes={tuple(self.axes)}"
            )
        return x.transpose(self.axes)

    def backward(self, gy):
        if self.axes is None:
            return (gy.transpose(),)
        return (gy.transpose(np.argsort([int(a) % gy.ndim for a in self.axes])),)


class Concatenate(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        shapes = [x.shape for x in xs]
        ndims = {len(s) for s in shapes}
        ax = self.axis
        if len(ndims) != 1 or not -len(shapes[0]) <= ax < len(shapes[0]):
            raise shape_error(
                f"concatenate: all inputs need the same number of dimensions and a valid "
                f"axis. Received: shapes {shapes}, axis={ax}"
            )
        ax %= len(shapes[0])
        for s in shapes[1:]:
            if s[:ax] + s[ax + 1 :] != shapes[0][:ax] + shapes[0][ax + 1 :]:
                raise shape_error(
                    f"concatenate: shapes must match except along axis {self.axis}. "
                    f"Received: shapes {shapes}"
                )
        self.ax = ax
        self.splits = np.cumsum([s[ax] for s in shapes])[:-1]
        return np.concatenate(xs, axis=ax)

    def backward(self, gy):
        return tuple(np.split(gy, self.splits, axis=self.ax))


class Stack(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, *xs):
        shapes = [x.shape for x in xs]
        if len(set(shapes)) != 1:
            raise shape_error(f"stack: all inputs need the same shape. Received: shapes {shapes}")
        ax = self.axis
        if not -(len(shapes[0]) + 1) <= ax <= len(shapes[0]):
            raise shape_error(
                f"stack: axis out of range for inputs of shape {shapes[0]}. Received: axis={ax}"
            )
        self.ax = ax % (len(shapes[0]) + 1)
        return np.stack(xs, axis=self.ax)

    def backward(self, gy):
        return tuple(np.moveaxis(gy, self.ax, 0))


def _is_basic(key: Any) -> bool:
    """True for keys made only of ints, slices, None and Ellipsis (no repeated elements)."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(
        isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis for k in parts
    )


class GetItem(Function):
    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.shape, self.dtype = x.shape, x.dtype
        try:
            return x[self.key]
        except IndexError as e:
            raise shape_error(
                f"getitem: index {self.key!r} is invalid for a tensor of shape {x.shape} ({e})"
            ) from None

    def backward(self, gy):
        gx = np.zeros(self.shape, dtype=gy.dtype)
        if _is_basic(self.key):
            gx[self.key] = gy
        else:  # fancy indexing may repeat elements: accumulate
            np.add.at(gx, self.key, gy)
        return (gx,)


class BroadcastTo(Function):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.src = x.shape
        try:
            return np.broadcast_to(x, self.shape)
        except ValueError:
            raise shape_error(
                f"broadcast_to: cannot broadcast shape {x.shape} to {self.shape}. "
                f"Received: shape={self.shape}"
            ) from None

    def backward(self, gy):
        from chainrule.autograd.engine import sum_to  # noqa: PLC0415

        return (sum_to(gy, self.src),)


def _input(x: Any) -> Any:
    """Tensors and arrays as they are; numbers and lists as arrays (see ``ops.core.as_input``)."""
    if isinstance(x, Tensor) or hasattr(x, "dtype"):
        return x
    return as_input(x)


def reshape(x: Any, shape: Sequence[int] | None = None, *,
            newshape: Sequence[int] | None = None) -> Tensor:
    """Give ``x`` a new shape with the same elements (one dimension may be -1).

    Args:
        x: input Tensor.
        shape: the new shape (Keras calls it ``newshape``; both names work).

    Returns:
        The reshaped Tensor (a view of the data).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.reshape(cr.Tensor([1.0, 2.0, 3.0, 4.0]), (2, 2)).shape
        (2, 2)
    """
    if shape is None:  # Keras names the argument newshape
        shape = newshape
    if shape is None:
        raise ValueError("reshape needs a shape. Received: shape=None")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return Reshape(tuple(int(n) for n in shape))(_input(x))


def flatten(x: Any) -> Tensor:
    """Flatten all axes but the first (the batch): ``(n, d1, d2, ...) -> (n, d1*d2*...)``."""
    n = x.shape[0] if hasattr(x, "shape") else len(x)
    return Reshape((n, -1))(x)


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute axes (reverse them when ``axes`` is None)."""
    return Transpose(None if axes is None else tuple(axes))(_input(x))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis.

    Args:
        tensors: a sequence of Tensors with equal shapes except along ``axis``.
        axis: the axis to join along.

    Returns:
        The joined Tensor.
    """
    if not isinstance(tensors, (list, tuple)) or len(tensors) == 0:
        raise ValueError(
            f"concatenate needs a non-empty list of tensors. Received: tensors={tensors!r}"
        )
    return Concatenate(axis)(*[_input(t) for t in tensors])


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join equally shaped tensors along a new axis (see :func:`concatenate`)."""
    if not isinstance(tensors, (list, tuple)) or len(tensors) == 0:
        raise ValueError(f"stack needs a non-empty list of tensors. Received: tensors={tensors!r}")
    return Stack(axis)(*[_input(t) for t in tensors])


def getitem(x: Any, key: Any) -> Tensor:
    """``x[key]`` with NumPy's indexing rules; repeated fancy indices accumulate gradient."""
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, tuple):
        key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
    return GetItem(key)(x)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """Broadcast ``x`` to ``shape``; the gradient is summed back."""
    return BroadcastTo(shape)(x)


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert axes of length 1 at ``axis`` (an int or a tuple of ints, as in Keras)."""
    x = _input(x)
    shape = list(np.shape(x.data if isinstance(x, Tensor) else x))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = len(shape) + len(axes)
    norm = sorted(int(a) + out if a < 0 else int(a) for a in axes)
    if any(not 0 <= a < out for a in norm) or len(set(norm)) != len(norm):
        raise ValueError(f"expand_dims: axis out of range for shape {tuple(shape)}. Received: axis={axis}")
    for a in norm:
        shape.insert(a, 1)
    return Reshape(tuple(shape))(x)


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove axes of length 1 (only those in ``axis``, an int or a tuple, when given)."""
    x = _input(x)
    shape = tuple(np.shape(x.data if isinstance(x, Tensor) else x))
    if axis is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        norm = set()
        for a in axes:
            ax = a % len(shape) if len(shape) and -len(shape) <= a < len(shape) else None
            if ax is None or shape[ax] != 1:
                raise ValueError(f"squeeze: axis {a} of shape {tuple(shape)} is not 1. Received: axis={axis}")
            norm.add(ax)
        new = tuple(n for i, n in enumerate(shape) if i not in norm)
    return Reshape(new)(x)
