"""More reductions and scans: ``prod``, ``var``, ``std``, ``any``, ``all``, ``argmax``, ``cumsum``...

``var`` and ``std`` are compositions of ``mean``, ``square`` and ``sqrt``; ``prod``
and the scans are Functions with their own backward; the index and truth
reductions carry no gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.core import as_input
from chainrule.ops.math import cast, sqrt, square
from chainrule.ops.reduce import _norm_axis, mean

__all__ = ["prod", "var", "std", "any", "all", "count_nonzero", "argmax", "argmin", "cumsum",
           "cumprod"]


def _ndim(x: Any) -> int:
    return np.ndim(x.data if isinstance(x, Tensor) else x)


class Prod(Function):
    """Product over axes; the gradient is the product of the other elements (zeros handled)."""

    def __init__(self, axis, keepdims, dtype):
        self.axis, self.keepdims, self.dtype = axis, keepdims, dtype

    def forward(self, x):
        self.axes = _norm_axis(self.axis, x.ndim, "prod")
        self.x = x
        return np.prod(x, axis=self.axes, keepdims=self.keepdims, dtype=self.dtype)

    def backward(self, gy):
        x, axes = self.x, self.axes
        if not self.keepdims and axes is not None:
            gy = gy.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])
        zero = x == 0
        nonzero = np.where(zero, 1, x)
        p = np.prod(nonzero, axis=axes, keepdims=True)
        zeros = zero.sum(axis=axes, keepdims=True)
        # no zero: prod / x; one zero: the product of the others at the zero, 0 elsewhere
        g = np.where(zero, np.where(zeros == 1, p, 0), np.where(zeros == 0, p / nonzero, 0))
        return ((gy * g).astype(x.dtype, copy=False),)


class Reduction(Function):
    """A reduction without gradient: ``any``, ``all``, ``count_nonzero``, ``argmax``, ``argmin``."""

    differentiable = False

    def __init__(self, name, axis, keepdims, dtype=None):
        self.name, self.axis, self.keepdims, self.dtype = name, axis, keepdims, dtype

    def forward(self, x):
        if self.name in ("argmax", "argmin"):
            if x.size == 0:
                from chainrule.autograd.engine import shape_error  # noqa: PLC0415

                raise shape_error(f"{self.name}: cannot reduce an empty tensor. Received: "
                                  f"shape {x.shape}")
            ax = None if self.axis is None else _norm_axis(self.axis, x.ndim, self.name)[0]
            y = getattr(np, self.name)(x, axis=ax, keepdims=self.keepdims)
        else:
            axes = _norm_axis(self.axis, x.ndim, self.name)
            if self.name == "count_nonzero":
                y = np.count_nonzero(x, axis=axes)
            else:
                y = getattr(np, self.name)(x, axis=axes, keepdims=self.keepdims)
        y = np.asarray(y)
        return y if self.dtype is None else y.astype(self.dtype)

    def backward(self, gy):
        return (None,)


class Scan(Function):
    """Cumulative sum or product along an axis (the flattened input when ``axis`` is None)."""

    def __init__(self, kind, axis, dtype):
        self.kind, self.axis, self.dtype = kind, axis, dtype

    def forward(self, x):
        self.shape = x.shape
        if self.axis is None:
            x, ax = x.reshape(-1), 0
        else:
            ax = _norm_axis(self.axis, x.ndim, "cum" + self.kind)[0]
        self.ax, self.x = ax, x
        dtype = self.dtype
        if dtype is None and x.dtype == bool:
            dtype = np.int32
        fn = np.cumsum if self.kind == "sum" else np.cumprod
        self.y = fn(x, axis=ax, dtype=dtype)
        return self.y

    def backward(self, gy):
        ax = self.ax
        if self.kind == "sum":  # the sum of the later gradients: a reversed cumsum
            g = np.flip(np.cumsum(np.flip(gy, ax), axis=ax), ax)
        else:  # as TensorFlow: reversed cumsum of gy * y, divided by x (not defined at x = 0)
            g = np.flip(np.cumsum(np.flip(gy * self.y, ax), axis=ax), ax) / self.x
        return (g.reshape(self.shape).astype(self.x.dtype, copy=False),)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Tensor:
    """Product of elements over ``axis`` (all axes when None).

    Args:
        x: input.
        axis: an int, a tuple of ints or None.
        keepdims: keep reduced axes with length 1.
        dtype: optional dtype of the result.

    Returns:
        The reduced Tensor; its gradient is the product of the other elements.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.prod(cr.Tensor([[1.0, 2.0], [3.0, 4.0]]), axis=1)
        Tensor([ 2., 12.], dtype=float32)
    """
    return Prod(axis, keepdims, dtype)(as_input(x))


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Variance (the mean squared deviation from the mean, no Bessel correction).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.var(cr.Tensor([1.0, 2.0, 3.0, 4.0]))
        Tensor(1.25, dtype=float32)
    """
    x = as_input(x)
    xd = x.data if isinstance(x, Tensor) else x
    if xd.dtype.kind in "biu":
        from chainrule import backend  # noqa: PLC0415
        x = cast(x, backend.floatx())
    return mean(square(x - mean(x, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Standard deviation: ``sqrt(var(x))``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.std(cr.Tensor([1.0, 3.0]))
        Tensor(1., dtype=float32)
    """
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether any element over ``axis`` is true (nonzero); a boolean Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.any(cr.Tensor([[0.0, 1.0], [0.0, 0.0]]), axis=1)
        Tensor([ True, False], dtype=bool)
    """
    return Reduction("any", axis, keepdims)(as_input(x))


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Whether every element over ``axis`` is true (nonzero); a boolean Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.all(cr.Tensor([[1.0, 1.0], [0.0, 1.0]]), axis=1)
        Tensor([ True, False], dtype=bool)
    """
    return Reduction("all", axis, keepdims)(as_input(x))


def count_nonzero(x: Any, axis: Any = None) -> Tensor:
    """The number of nonzero elements over ``axis``, as int32.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.count_nonzero(cr.Tensor([[0.0, 1.0], [2.0, 3.0]]), axis=1)
        Tensor([1, 2], dtype=int32)
    """
    return Reduction("count_nonzero", axis, False, np.int32)(as_input(x))


def _index_axis(axis: Any, name: str) -> Any:
    if axis is not None and (isinstance(axis, bool) or not isinstance(axis, (int, np.integer))):
        raise ValueError(f"{name}: axis must be an integer or None. Received: axis={axis!r}")
    return axis


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value along ``axis`` (of the flattened input when None), as int32.

    Ties go to the first index. No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.argmax(cr.Tensor([[1.0, 3.0, 2.0]]), axis=-1)
        Tensor([1], dtype=int32)
    """
    return Reduction("argmax", _index_axis(axis, "argmax"), keepdims, np.int32)(as_input(x))


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value along ``axis``, as int32 (see :func:`argmax`).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.argmin(cr.Tensor([[1.0, 3.0, 0.5]]), axis=-1)
        Tensor([2], dtype=int32)
    """
    return Reduction("argmin", _index_axis(axis, "argmin"), keepdims, np.int32)(as_input(x))


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Cumulative sum along ``axis`` (of the flattened input when None).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cumsum(cr.Tensor([1.0, 2.0, 3.0]))
        Tensor([1., 3., 6.], dtype=float32)
    """
    return Scan("sum", _index_axis(axis, "cumsum"), dtype)(as_input(x))


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """Cumulative product along ``axis``; as in TensorFlow, its gradient divides by ``x``
    (undefined where ``x`` is 0).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cumprod(cr.Tensor([1.0, 2.0, 3.0]))
        Tensor([1., 2., 6.], dtype=float32)
    """
    return Scan("prod", _index_axis(axis, "cumprod"), dtype)(as_input(x))

