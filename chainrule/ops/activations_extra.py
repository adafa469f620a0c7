"""More activation ops of Keras 3 (``keras.ops``): shrinkage, clipping, gating and sparsemax.

Each op is one :class:`~chainrule.autograd.Function` with its forward and
backward written here once; the activations of the same names
(:mod:`chainrule.activations`) call them.

Example:
    >>> import chainrule as cr
    >>> from chainrule import ops
    >>> ops.soft_shrink(cr.Tensor([-2.0, 0.2, 1.0]))
    Tensor([-1.5,  0. ,  0.5], dtype=float32)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor
from chainrule.ops.core import as_input
from chainrule.ops.nn import _sigmoid

__all__ = [
    "celu", "glu", "hard_shrink", "hard_tanh", "soft_shrink", "sparse_plus", "sparsemax",
    "squareplus", "tanh_shrink", "threshold",
]


def _real(fn: str, name: str, value: Any, expect: str = "a real number", ok: Any = None) -> float:
    """``value`` as a float if it is a finite real number (and ``ok(value)``), else ValueError."""
    good = (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and math.isfinite(float(value))
        and (ok is None or ok(float(value)))
    )
    if not good:
        raise ValueError(f"{fn}: `{name}` must be {expect}. Received: {name}={value!r}")
    return float(value)


def _axis(fn: str, axis: Any, shape: tuple) -> int:
    """A valid axis of ``shape``, made non-negative."""
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"{fn}: `axis` must be an integer. Received: axis={axis!r}")
    ndim = len(shape)
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{fn}: `axis` {axis} is out of range for an input of shape {tuple(shape)}. "
            f"Received: axis={axis}"
        )
    return int(axis) % ndim


def _scalar(value: float, like: Any) -> Any:
    """``value`` in ``like``'s dtype (so float32 inputs stay float32)."""
    return np.asarray(value, dtype=like.dtype)


# -- the Functions ---------------------------------------------------------------


class Celu(Function):
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``; slope 1 above 0, ``e^(x/alpha)`` below."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def forward(self, x):
        alpha = _scalar(self.alpha, x)
        self.e = np.exp(np.minimum(x, 0) / alpha)  # the slope below 0 (1 above)
        return np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha)

    def backward(self, gy):
        return (gy * self.e,)


class Glu(Function):
    """``a * sigmoid(b)`` with ``a, b`` the two halves of ``x`` along ``axis``."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        self.a, b = np.split(x, 2, axis=self.axis)
        self.s = _sigmoid(np.array(b))
        return self.a * self.s

    def backward(self, gy):
        s = self.s
        return (np.concatenate([gy * s, gy * self.a * s * (1 - s)], axis=self.axis),)


class _Masked(Function):
    """An op whose slope is 1 where ``self.mask`` holds and 0 elsewhere."""

    mask: Any

    def backward(self, gy):
        return (np.where(self.mask, gy, 0).astype(gy.dtype, copy=False),)


class HardShrink(_Masked):
    """``x`` where ``|x| > threshold``, else 0."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def forward(self, x):
        self.mask = np.abs(x) > _scalar(self.threshold, x)
        return np.where(self.mask, x, 0).astype(x.dtype, copy=False)


class HardTanh(_Masked):
    """``clip(x, -1, 1)``; the slope is 1 on [-1, 1] (the ends included, as TensorFlow's clip)."""

    def forward(self, x):
        self.mask = (x >= -1) & (x <= 1)
        return np.clip(x, _scalar(-1, x), _scalar(1, x))


class SoftShrink(_Masked):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def forward(self, x):
        t = _scalar(self.threshold, x)
        above, below = x > t, x < -t
        self.mask = above | below
        return np.where(above, x - t, np.where(below, x + t, 0)).astype(x.dtype, copy=False)


class Threshold(_Masked):
    """``x`` where ``x > threshold``, else ``default_value``."""

    def __init__(self, threshold: float, default_value: float) -> None:
        self.threshold, self.default_value = threshold, default_value

    def forward(self, x):
        self.mask = x > _scalar(self.threshold, x)
        return np.where(self.mask, x, _scalar(self.default_value, x))


class SparsePlus(Function):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``|x| < 1``, ``x`` for ``x >= 1``."""

    def forward(self, x):
        self.x = x
        quarter = _scalar(0.25, x)
        middle = quarter * np.square(x + 1)
        return np.where(x <= -1, 0, np.where(x < 1, middle, x)).astype(x.dtype, copy=False)

    def backward(self, gy):
        x = self.x
        slope = np.where(x <= -1, 0, np.where(x < 1, (x + 1) * _scalar(0.5, x), 1))
        return (gy * slope.astype(gy.dtype, copy=False),)


class Squareplus(Function):
    """``(x + sqrt(x**2 + b)) / 2``; slope ``(1 + x / sqrt(x**2 + b)) / 2``."""

    def __init__(self, b: float) -> None:
        self.b = b

    def forward(self, x):
        self.x = x
        self.r = np.sqrt(np.square(x) + _scalar(self.b, x))
        return (x + self.r) / _scalar(2, x)

    def backward(self, gy):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(self.r > 0, self.x / self.r, 0)  # b = 0 at x = 0: relu's 0.5
        return (gy * ((1 + ratio) * 0.5).astype(gy.dtype, copy=False),)


class TanhShrink(Function):
    """``x - tanh(x)``; slope ``tanh(x)**2``."""

    def forward(self, x):
        self.t = np.tanh(x)
        return x - self.t

    def backward(self, gy):
        return (gy * np.square(self.t),)


class Sparsemax(Function):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``.

    ``y = max(x - tau, 0)`` with ``tau`` chosen so that ``y`` sums to 1
    (Martins & Astudillo, 2016, Algorithm 1). With ``S`` the support
    (``y > 0``) and ``k = |S|``, the backward is the closed form
    ``dx = mask * (dy - sum(dy * mask) / k)``.
    """

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def forward(self, x):
        ax = self.axis
        z = -np.sort(-x, axis=ax)  # descending
        cumsum = np.cumsum(z, axis=ax)
        shape = [1] * x.ndim
        shape[ax] = -1
        r = np.arange(1, x.shape[ax] + 1, dtype=x.dtype).reshape(shape)
        support = 1 + r * z > cumsum
        k = np.sum(support, axis=ax, keepdims=True)
        # the cumulative sum at the k-th largest element
        s_k = np.take_along_axis(cumsum, np.maximum(k - 1, 0), axis=ax)
        tau = (s_k - 1) / k.astype(x.dtype)
        y = np.maximum(x - tau, 0).astype(x.dtype, copy=False)
        self.mask = y > 0
        return y

    def backward(self, gy):
        ax = self.axis
        mask = self.mask
        k = np.maximum(np.sum(mask, axis=ax, keepdims=True), 1).astype(gy.dtype)
        mean = np.sum(np.where(mask, gy, 0), axis=ax, keepdims=True) / k
        return (np.where(mask, gy - mean, 0).astype(gy.dtype, copy=False),)


# -- the public functions ----------------------------------------------------------


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: ``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``.

    Args:
        x: input Tensor or array, any shape.
        alpha: the negative saturation value is ``-alpha``; a nonzero number.
            Defaults to 1.0.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: if ``alpha`` is 0 or not a number.

    Example:
        >>> import chainrule as cr
        >>> celu(cr.Tensor([-1.0, 0.0, 2.0]))
        Tensor([-0.63212055,  0.        ,  2.        ], dtype=float32)
    """
    alpha = _real("celu", "alpha", alpha, "a nonzero number", lambda v: v != 0)
    return Celu(alpha)(as_input(x))


def glu(x: Any, axis: int = -1) -> Tensor:
    """Gated linear unit: ``a * sigmoid(b)``, ``a, b`` the halves of ``x`` along ``axis``.

    Args:
        x: input Tensor or array; ``x.shape[axis]`` must be even.
        axis: the axis to split. Defaults to -1.

    Returns:
        A Tensor with ``x.shape[axis]`` halved.

    Raises:
        ValueError: if the axis is out of range or its size is odd.

    Example:
        >>> import chainrule as cr
        >>> glu(cr.Tensor([[1.0, 2.0, 0.0, 0.0]]))
        Tensor([[0.5, 1. ]], dtype=float32)
    """
    x = as_input(x)
    ax = _axis("glu", axis, x.shape)
    if x.shape[ax] % 2:
        raise ValueError(
            f"glu: the size of axis {axis} must be even (it is split into two halves). "
            f"Received: x.shape={tuple(x.shape)} with axis={axis}"
        )
    return Glu(ax)(x)


def hard_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """Hard shrinkage: ``x`` where ``|x| > threshold``, else 0.

    Args:
        x: input Tensor or array, any shape.
        threshold: a number. Defaults to 0.5.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> hard_shrink(cr.Tensor([-1.0, 0.5, 0.7]))
        Tensor([-1. ,  0. ,  0.7], dtype=float32)
    """
    threshold = _real("hard_shrink", "threshold", threshold)
    return HardShrink(threshold)(as_input(x))


def hard_tanh(x: Any) -> Tensor:
    """``clip(x, -1, 1)``; slope 1 on [-1, 1], 0 outside.

    Args:
        x: input Tensor or array, any shape.

    Returns:
        A Tensor of ``x``'s shape with values in [-1, 1].

    Example:
        >>> import chainrule as cr
        >>> hard_tanh(cr.Tensor([-3.0, 0.5, 2.0]))
        Tensor([-1. ,  0.5,  1. ], dtype=float32)
    """
    return HardTanh()(as_input(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> Tensor:
    """Soft shrinkage: ``x`` moved ``threshold`` towards 0, and 0 on ``[-threshold, threshold]``.

    Args:
        x: input Tensor or array, any shape.
        threshold: a number. Defaults to 0.5.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> soft_shrink(cr.Tensor([1.5]), threshold=1.0)
        Tensor([0.5], dtype=float32)
    """
    threshold = _real("soft_shrink", "threshold", threshold)
    return SoftShrink(threshold)(as_input(x))


def sparse_plus(x: Any) -> Tensor:
    """SparsePlus: 0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``|x| < 1``, ``x`` for ``x >= 1``.

    A smooth ReLU with a quadratic piece (slope ``(x + 1) / 2``) between -1 and 1.

    Args:
        x: input Tensor or array, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> sparse_plus(cr.Tensor([-2.0, 0.0, 3.0]))
        Tensor([0.  , 0.25, 3.  ], dtype=float32)
    """
    return SparsePlus()(as_input(x))


def sparsemax(x: Any, axis: int = -1) -> Tensor:
    """Sparsemax: the projection of ``x`` onto the probability simplex along ``axis``.

    Like softmax the result is non-negative and sums to 1, but small entries
    are exactly 0: ``max(x - tau, 0)`` with the threshold ``tau`` of Martins
    & Astudillo (2016).

    Args:
        x: input Tensor or array, at least 1-D.
        axis: the axis to normalize. Defaults to -1.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: if the axis is out of range.

    Example:
        >>> import chainrule as cr
        >>> sparsemax(cr.Tensor([[0.0, 0.5, 1.0]]))
        Tensor([[0.  , 0.25, 0.75]], dtype=float32)
    """
    x = as_input(x)
    ax = _axis("sparsemax", axis, x.shape)
    return Sparsemax(ax)(x)


def squareplus(x: Any, b: float = 4) -> Tensor:
    """Squareplus: ``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU made of square roots.

    Args:
        x: input Tensor or array, any shape.
        b: the smoothness, >= 0 (0 gives ReLU). Defaults to 4.

    Returns:
        A Tensor of ``x``'s shape.

    Raises:
        ValueError: if ``b`` is negative or not a number.

    Example:
        >>> import chainrule as cr
        >>> squareplus(cr.Tensor([0.0, 1.5]))
        Tensor([1., 2.], dtype=float32)
    """
    b = _real("squareplus", "b", b, "a number >= 0", lambda v: v >= 0)
    return Squareplus(b)(as_input(x))


def tanh_shrink(x: Any) -> Tensor:
    """Tanh shrink: ``x - tanh(x)``; slope ``tanh(x)**2``.

    Args:
        x: input Tensor or array, any shape.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> tanh_shrink(cr.Tensor([0.0, 1.0]))
        Tensor([0.        , 0.23840582], dtype=float32)
    """
    return TanhShrink()(as_input(x))


def threshold(x: Any, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value``.

    Args:
        x: input Tensor or array, any shape.
        threshold: a number.
        default_value: the value of the elements at or below ``threshold``.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> threshold(cr.Tensor([-1.0, 0.5, 2.0]), 1.0, -5.0)
        Tensor([-5., -5.,  2.], dtype=float32)
    """
    t = _real("threshold", "threshold", threshold)
    v = _real("threshold", "default_value", default_value)
    return Threshold(t, v)(as_input(x))
