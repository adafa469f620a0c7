"""Gathering, reordering and selecting: ``take``, ``split``, ``flip``, ``roll``, ``sort``, ``top_k``...

Index arrays that come from ops (``argmax``, ``argsort``) are inputs of the op
that uses them, so a captured step recomputes them for every batch. Results
whose shape depends on the values (``unique`` without ``size``, one-argument
``where``) read those values, so a step using them runs on the tape.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops import math as _math
from chainrule.ops.core import as_input, raw
from chainrule.ops.reduce import _norm_axis
from chainrule.ops.reduce import sum as _sum
from chainrule.ops.shaping import getitem, reshape, transpose

__all__ = ["take", "take_along_axis", "split", "flip", "roll", "tril", "triu", "swapaxes",
           "moveaxis", "diag", "diagonal", "trace", "argsort", "sort", "top_k", "in_top_k",
           "unique", "nonzero", "where"]


def _indices(idx: Any, op: str) -> Any:
    if idx.dtype.kind in "iu":
        return idx
    if idx.dtype.kind == "f" and idx.size and not bool((idx == np.floor(idx)).all()):
        raise shape_error(f"{op}: indices must be integers. Received: indices of dtype "
                          f"{idx.dtype} with non-integer values")
    return idx.astype(np.intp)


class Take(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, indices):
        idx = _indices(indices, "take")
        self.shape, self.idx = x.shape, idx
        self.ax = None if self.axis is None else _norm_axis(self.axis, x.ndim, "take")[0]
        try:
            return np.take(x, idx, axis=self.ax)
        except IndexError as e:
            raise shape_error(f"take: an index is out of range for a tensor of shape {x.shape} "
                              f"along axis {self.axis}. Received: indices from {int(idx.min())} "
                              f"to {int(idx.max())} ({e})") from None

    def backward(self, gy):
        gx = np.zeros(self.shape, dtype=gy.dtype)
        if self.ax is None:
            np.add.at(gx.reshape(-1), self.idx, gy)
        else:
            np.add.at(gx, (slice(None),) * self.ax + (self.idx,), gy)
        return gx, None


class TakeAlongAxis(Function):
    def __init__(self, axis):
        self.axis = axis

    def forward(self, x, indices):
        idx = _indices(indices, "take_along_axis")
        self.shape = x.shape
        if self.axis is None:
            x, ax = x.reshape(-1), 0
        else:
            ax = _norm_axis(self.axis, x.ndim, "take_along_axis")[0]
        if idx.ndim != x.ndim:
            raise shape_error(f"take_along_axis: indices need {x.ndim} dimensions like x. "
                              f"Received: indices of shape {idx.shape}, x of shape {x.shape}")
        self.ax, self.idx, self.flat = ax, idx, x.shape
        try:
            return np.take_along_axis(x, idx, axis=ax)
        except IndexError as e:
            raise shape_error(f"take_along_axis: an index is out of range for x of shape "
                              f"{x.shape}. Received: indices from {int(idx.min())} to "
                              f"{int(idx.max())} ({e})") from None

    def backward(self, gy):
        shape, ax, idx = self.flat, self.ax, self.idx
        gx = np.zeros(shape, dtype=gy.dtype)
        fancy = tuple(idx if d == ax else np.arange(n).reshape(
            [-1 if e == d else 1 for e in range(len(shape))]) for d, n in enumerate(shape))
        np.add.at(gx, fancy, gy)
        return gx.reshape(self.shape), None


class Roll(Function):
    def __init__(self, shift, axis):
        self.shift, self.axis = shift, axis

    def forward(self, x):
        return np.roll(x, self.shift, axis=self.axis)

    def backward(self, gy):
        back = tuple(-s for s in self.shift) if isinstance(self.shift, tuple) else -self.shift
        return (np.roll(gy, back, axis=self.axis),)


class Diagonal(Function):
    def __init__(self, offset, axis1, axis2):
        self.offset, self.axis1, self.axis2 = offset, axis1, axis2

    def forward(self, x):
        if x.ndim < 2:
            raise shape_error(f"diagonal: needs at least 2 dimensions. Received: x of shape "
                              f"{x.shape}")
        self.shape = x.shape
        return np.diagonal(x, self.offset, self.axis1, self.axis2).copy()

    def backward(self, gy):
        gx = np.zeros(self.shape, dtype=gy.dtype)
        view = np.moveaxis(gx, (self.axis1, self.axis2), (-2, -1))
        i = np.arange(gy.shape[-1])
        view[..., i + builtins.max(-self.offset, 0), i + builtins.max(self.offset, 0)] = gy
        return (gx,)


class DiagMatrix(Function):
    """A 1-D ``x`` placed on the ``k``-th diagonal of a square matrix."""

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        return np.diag(x, self.k)

    def backward(self, gy):
        return (np.diagonal(gy, self.k).copy(),)


class Argsort(Function):
    """Stable ascending (or descending) sort order along an axis, as int32; no gradient."""

    differentiable = False

    def __init__(self, axis, descending=False):
        self.axis, self.descending = axis, descending

    def forward(self, x):
        if self.descending:
            if x.dtype.kind in "bu":
                x = x.astype(np.int64)
            x = -x
        return np.argsort(x, axis=self.axis, kind="stable").astype(np.int32)

    def backward(self, gy):
        return (None,)


class TopKIndices(Function):
    differentiable = False

    def __init__(self, k):
        self.k = k

    def forward(self, x):
        if x.ndim == 0 or self.k > x.shape[-1]:
            raise shape_error(f"top_k: k must not exceed the size of the last axis of x, shape "
                              f"{x.shape}. Received: k={self.k}")
        if x.dtype.kind in "bu":
            x = x.astype(np.int64)
        return np.argsort(-x, axis=-1, kind="stable")[..., : self.k].astype(np.int32)

    def backward(self, gy):
        return (None,)


class InTopK(Function):
    differentiable = False

    def __init__(self, k):
        self.k = k

    def forward(self, targets, predictions):
        if predictions.ndim != 2 or targets.shape != predictions.shape[:1]:
            raise shape_error(f"in_top_k: targets need shape (batch,) for predictions of shape "
                              f"(batch, classes). Received: targets of shape {targets.shape}, "
                              f"predictions of shape {predictions.shape}")
        t = _indices(targets, "in_top_k")
        classes = predictions.shape[1]
        valid = (t >= 0) & (t < classes)
        picked = predictions[np.arange(len(t)), np.where(valid, t, 0)]
        # ties at the k-th place count as in the top k (TensorFlow's rule)
        above = (predictions > picked[:, None]).sum(axis=1)
        return (above < self.k) & valid & np.isfinite(picked)

    def backward(self, gy):
        return None, None


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None).

    Args:
        x: input.
        indices: integer indices (a Tensor, array or list; negative ones count from the end).
        axis: the axis to gather along.

    Returns:
        Shape ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``; repeated indices
        accumulate gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.take(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 0], axis=1)
        Tensor([[2., 1.],
                [4., 3.]], dtype=float32)
    """
    return Take(axis)(as_input(x), as_input(indices))


def take_along_axis(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """Pick values along ``axis`` with an index array of ``x``'s rank (NumPy's rule).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.take_along_axis(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]), [[1], [0]], axis=1)
        Tensor([[2.],
                [3.]], dtype=float32)
    """
    return TakeAlongAxis(axis)(as_input(x), as_input(indices))


def _axis_of(x: Any, axis: int, op: str) -> int:
    nd = np.ndim(raw(x))
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -nd <= axis < nd:
        raise ValueError(f"{op}: axis out of range for a tensor with {nd} dimensions. "
                         f"Received: axis={axis!r}")
    return int(axis) % nd


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list:
    """Split ``x`` along ``axis`` into equal sections, or at the given indices.

    Args:
        x: input.
        indices_or_sections: a number of equal sections, or a list of split points.
        axis: the axis to split.

    Returns:
        A list of Tensors (slices of ``x``; gradients flow back to it).

    Raises:
        ValueError: when ``x`` cannot be split into that many equal sections.

    Example:
        >>> import chainrule as cr
        >>> [t.shape for t in cr.ops.split(cr.Tensor(np.zeros((4, 3))), [1, 3])]
        [(1, 3), (2, 3), (1, 3)]
    """
    x = as_input(x)
    ax = _axis_of(x, axis, "split")
    n = np.shape(raw(x))[ax]
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(
            indices_or_sections, bool):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(f"split: an axis of length {n} cannot be split into {k} equal "
                             f"sections. Received: indices_or_sections={k}")
        points = [n // k * i for i in range(1, k)]
    else:
        points = [int(p) for p in indices_or_sections]
    bounds = [0] + points + [n]
    lead = (slice(None),) * ax
    return [getitem(x, lead + (slice(a, builtins.max(a, b)),)) for a, b in zip(bounds, bounds[1:])]


def flip(x: Any, axis: Any = None) -> Tensor:
    """Reverse the order of elements along ``axis`` (all axes when None).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.flip(cr.Tensor([1.0, 2.0, 3.0]))
        Tensor([3., 2., 1.], dtype=float32)
    """
    x = as_input(x)
    nd = np.ndim(raw(x))
    axes = range(nd) if axis is None else _norm_axis(axis, nd, "flip")
    key = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(nd))
    return getitem(x, key)


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Shift elements cyclically by ``shift`` along ``axis`` (the flattened ``x`` when None).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.roll(cr.Tensor([1.0, 2.0, 3.0]), 1)
        Tensor([3., 1., 2.], dtype=float32)
    """
    shift = tuple(int(s) for s in shift) if isinstance(shift, (list, tuple)) else int(shift)
    axis = tuple(int(a) for a in axis) if isinstance(axis, (list, tuple)) else axis
    return Roll(shift, axis)(as_input(x))


def _triangle(x: Any, k: int, lower: bool, op: str) -> Tensor:
    x = as_input(x)
    shape = np.shape(raw(x))
    if len(shape) < 2:
        raise ValueError(f"{op}: needs at least 2 dimensions. Received: x of shape {shape}")
    n, m = shape[-2:]
    mask = np.tri(n, m, int(k), dtype=bool) if lower else ~np.tri(n, m, int(k) - 1, dtype=bool)
    return where(mask, x, 0)


def tril(x: Any, k: int = 0) -> Tensor:
    """Zero the elements above the ``k``-th diagonal (of the last two axes).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.tril(cr.ops.ones((2, 2)))
        Tensor([[1., 0.],
                [1., 1.]], dtype=float32)
    """
    return _triangle(x, k, True, "tril")


def triu(x: Any, k: int = 0) -> Tensor:
    """Zero the elements below the ``k``-th diagonal (of the last two axes).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.triu(cr.ops.ones((2, 2)))
        Tensor([[1., 1.],
                [0., 1.]], dtype=float32)
    """
    return _triangle(x, k, False, "triu")


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.swapaxes(cr.Tensor(np.zeros((2, 3, 4))), 0, 2).shape
        (4, 3, 2)
    """
    x = as_input(x)
    a, b = _axis_of(x, axis1, "swapaxes"), _axis_of(x, axis2, "swapaxes")
    perm = list(range(np.ndim(raw(x))))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, perm)


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """Move axes to new positions, the others keeping their order (NumPy's ``moveaxis``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.moveaxis(cr.Tensor(np.zeros((2, 3, 4))), 0, -1).shape
        (3, 4, 2)
    """
    x = as_input(x)
    nd = np.ndim(raw(x))
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination need the same number of axes. "
                         f"Received: source={source!r}, destination={destination!r}")
    src = [_axis_of(x, a, "moveaxis") for a in src]
    dst = [_axis_of(x, a, "moveaxis") for a in dst]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset``-th diagonal over ``axis1`` and ``axis2``, as the last axis.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.diagonal(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor([1., 4.], dtype=float32)
    """
    x = as_input(x)
    return Diagonal(int(offset), _axis_of(x, axis1, "diagonal"),
                    _axis_of(x, axis2, "diagonal"))(x)


def diag(x: Any, k: int = 0) -> Tensor:
    """A 1-D ``x`` as the ``k``-th diagonal of a matrix, or a 2-D ``x``'s ``k``-th diagonal.

    Raises:
        ValueError: for inputs that are not 1-D or 2-D.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.diag(cr.Tensor([1.0, 2.0]))
        Tensor([[1., 0.],
                [0., 2.]], dtype=float32)
    """
    x = as_input(x)
    nd = np.ndim(raw(x))
    if nd == 1:
        return DiagMatrix(int(k))(x)
    if nd == 2:
        return diagonal(x, k)
    raise ValueError(f"diag: x must be 1-D or 2-D. Received: x of shape {np.shape(raw(x))}")


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the ``offset``-th diagonal (over ``axis1`` and ``axis2``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.trace(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]))
        Tensor(5., dtype=float32)
    """
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def argsort(x: Any, axis: int | None = -1) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (stable, ascending), as int32; no gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.argsort(cr.Tensor([3.0, 1.0, 2.0]))
        Tensor([1, 2, 0], dtype=int32)
    """
    x = as_input(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return Argsort(_axis_of(x, axis, "argsort"))(x)


def sort(x: Any, axis: int | None = -1) -> Tensor:
    """``x`` sorted along ``axis``; the gradient goes back to each value's original place.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sort(cr.Tensor([3.0, 1.0, 2.0]))
        Tensor([1., 2., 3.], dtype=float32)
    """
    x = as_input(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    return take_along_axis(x, argsort(x, axis), axis)


def top_k(x: Any, k: int, sorted: bool = True, is_stable: bool = True) -> tuple:  # noqa: A002
    """The ``k`` largest values along the last axis and their indices (int32, no gradient).

    Ties go to the lower index. The values are always returned sorted, largest first.

    Returns:
        ``(values, indices)``, each of shape ``x.shape[:-1] + (k,)``.

    Example:
        >>> import chainrule as cr
        >>> values, indices = cr.ops.top_k(cr.Tensor([1.0, 4.0, 3.0]), 2)
        >>> values, indices
        (Tensor([4., 3.], dtype=float32), Tensor([1, 2], dtype=int32))
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"top_k: k must be a positive integer. Received: k={k!r}")
    x = as_input(x)
    idx = TopKIndices(int(k))(x)
    return take_along_axis(x, idx, -1), idx


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """Whether each target class is among the ``k`` highest predictions (ties count as in).

    Args:
        targets: class indices, shape ``(batch,)``.
        predictions: scores, shape ``(batch, classes)``.
        k: how many top classes count.

    Returns:
        A boolean Tensor of shape ``(batch,)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.in_top_k([1, 0], cr.Tensor([[0.1, 0.9, 0.0], [0.2, 0.5, 0.3]]), 1)
        Tensor([ True, False], dtype=bool)
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"in_top_k: k must be a positive integer. Received: k={k!r}")
    return InTopK(int(k))(as_input(targets), as_input(predictions))


def _values(x: Any) -> np.ndarray:
    """The host values of ``x`` (a read a captured step cannot replay: it runs on the tape)."""
    return np.asarray(x) if isinstance(x, Tensor) else np.asarray(raw(x))


def unique(x: Any, sorted: bool = True, return_index: bool = False,  # noqa: A002
           return_inverse: bool = False, return_counts: bool = False, axis: int | None = None,
           size: int | None = None, fill_value: Any = None) -> Any:
    """The unique elements of ``x`` (sorted), and optionally indices and counts; no gradient.

    Its result's shape depends on the values, so it reads them: a step using it runs
    on the tape. With ``size`` the values are padded (with ``fill_value``, default 0)
    or cut to ``size``.

    Returns:
        The unique values, or a tuple with the requested extras in NumPy's order.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.unique(cr.Tensor(np.array([3, 1, 3])))
        Tensor([1, 3], dtype=int64)
    """
    out = np.unique(_values(x), return_index=return_index, return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis)
    parts = list(out) if isinstance(out, tuple) else [out]
    if size is not None:
        vals = parts[0]
        fill = 0 if fill_value is None else fill_value
        if len(vals) < size:
            pad = np.full((size - len(vals),) + vals.shape[1:], fill, dtype=vals.dtype)
            vals = np.concatenate([vals, pad])
        parts[0] = vals[:size]
        for i in range(1, len(parts)):
            if (return_index and i == 1) or (return_counts and i == len(parts) - 1):
                p = parts[i]
                parts[i] = np.concatenate([p, np.zeros(builtins.max(size - len(p), 0), p.dtype)])[
                    :size]
    tensors = [Tensor(p) for p in parts]
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def nonzero(x: Any) -> tuple:
    """The indices of the nonzero elements, one index Tensor per axis (reads the values, so a
    step using it runs on the tape).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nonzero(cr.Tensor([0.0, 2.0, 3.0]))
        (Tensor([1, 2], dtype=int64),)
    """
    return tuple(Tensor(i) for i in np.nonzero(_values(x)))


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """Choose ``x1`` where ``condition`` is true, else ``x2`` (with broadcasting).

    With ``condition`` alone, Keras's one-argument form: the indices of its
    nonzero elements, one index Tensor per axis (see :func:`chainrule.ops.nonzero`).

    Args:
        condition: a boolean array or Tensor (not differentiated).
        x1: values where true.
        x2: values where false.

    Returns:
        A Tensor of the broadcast shape (a tuple of index Tensors with one argument).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.where(cr.Tensor([1.0, -1.0]) > 0, 1.0, 0.0)
        Tensor([1., 0.], dtype=float32)
    """
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("where: give both x1 and x2, or neither. Received: "
                         f"x1={'None' if x1 is None else 'a value'}, "
                         f"x2={'None' if x2 is None else 'a value'}")
    a, b = x1, x2
    if isinstance(a, (list, tuple)):
        a = as_input(a)
    if isinstance(b, (list, tuple)):
        b = as_input(b)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        a, b = as_input(a), as_input(b)
    if isinstance(condition, Tensor):  # e.g. from a comparison op: computed anew each replay
        return _math.Where()(condition, a, b)
    c = condition
    return _math.Where()(np.asarray(c, dtype=bool) if not hasattr(c, "dtype") else c.astype(bool), a, b)
