"""Elementwise ops with Keras's NumPy-like names: trigonometry, logs, rounding, logic, tests.

Differentiable ones are Functions with a hand-written backward; rounding,
logic and the ``isnan`` family are ops without a gradient (so a captured step
still recomputes them for each batch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, sum_to
from chainrule.ops.core import as_input, as_pair
from chainrule.ops.math import Compare, divide, sqrt
from chainrule.ops.nn import leaky_relu as _leaky_relu
from chainrule.ops.nn import relu_ext as _relu_ext

__all__ = [
    "sin", "cos", "tan", "arctan", "sinh", "cosh", "log2", "log10", "expm1", "reciprocal",
    "rsqrt", "true_divide", "mod", "floor_divide", "floor", "ceil", "round", "isnan", "isinf",
    "isfinite", "logical_and", "logical_or", "logical_not", "logical_xor", "equal", "not_equal",
    "greater", "greater_equal", "less", "less_equal", "nan_to_num", "relu6", "leaky_relu",
]


def _shape(x: Any) -> tuple:
    return x.shape if hasattr(x, "shape") else ()


class Sin(Function):
    def forward(self, x):
        self.x = x
        return np.sin(x)

    def backward(self, gy):
        return (gy * np.cos(self.x),)


class Cos(Function):
    def forward(self, x):
        self.x = x
        return np.cos(x)

    def backward(self, gy):
        return (-gy * np.sin(self.x),)


class Tan(Function):
    def forward(self, x):
        self.y = np.tan(x)
        return self.y

    def backward(self, gy):
        return (gy * (1 + self.y * self.y),)


class Arctan(Function):
    def forward(self, x):
        self.x = x
        return np.arctan(x)

    def backward(self, gy):
        return (gy / (1 + self.x * self.x),)


class Sinh(Function):
    def forward(self, x):
        self.x = x
        return np.sinh(x)

    def backward(self, gy):
        return (gy * np.cosh(self.x),)


class Cosh(Function):
    def forward(self, x):
        self.x = x
        return np.cosh(x)

    def backward(self, gy):
        return (gy * np.sinh(self.x),)


class LogBase(Function):
    """log2 or log10: ``log(x) / log(base)``, gradient ``1 / (x log(base))``."""

    def __init__(self, base):
        self.base = base

    def forward(self, x):
        self.x = x
        return np.log2(x) if self.base == 2 else np.log10(x)

    def backward(self, gy):
        return (gy / (self.x * math.log(self.base)),)


class Expm1(Function):
    def forward(self, x):
        self.y = np.expm1(x)
        return self.y

    def backward(self, gy):
        return (gy * (self.y + 1),)


class Mod(Function):
    """``a - floor(a / b) * b`` (NumPy's and Keras's sign convention: the sign of ``b``)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.mod(a, b)

    def backward(self, gy):
        return (
            sum_to(gy, _shape(self.a)) if self.needs[0] else None,
            sum_to(-gy * np.floor_divide(self.a, self.b), _shape(self.b)) if self.needs[1] else None,
        )


class Elementwise(Function):
    """A ufunc of one or two inputs whose result carries no gradient (rounding, logic, tests)."""

    differentiable = False

    def __init__(self, ufunc, kwargs=None):
        self.ufunc, self.kwargs = ufunc, kwargs or {}

    def forward(self, *xs):
        return self.ufunc(*xs, **self.kwargs)

    def backward(self, gy):
        return None, None


class NanToNum(Function):
    def __init__(self, nan, posinf, neginf):
        self.nan, self.posinf, self.neginf = nan, posinf, neginf

    def forward(self, x):
        self.keep = np.isfinite(x)
        return np.nan_to_num(x, nan=self.nan, posinf=self.posinf, neginf=self.neginf)

    def backward(self, gy):
        return (gy * self.keep,)


def sin(x: Any) -> Tensor:
    """Elementwise sine; gradient ``cos(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sin(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return Sin()(as_input(x))


def cos(x: Any) -> Tensor:
    """Elementwise cosine; gradient ``-sin(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cos(cr.Tensor([0.0]))
        Tensor([1.], dtype=float32)
    """
    return Cos()(as_input(x))


def tan(x: Any) -> Tensor:
    """Elementwise tangent; gradient ``1 + tan(x)**2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.tan(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return Tan()(as_input(x))


def arctan(x: Any) -> Tensor:
    """Elementwise inverse tangent; gradient ``1 / (1 + x**2)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arctan(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return Arctan()(as_input(x))


def sinh(x: Any) -> Tensor:
    """Elementwise hyperbolic sine; gradient ``cosh(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sinh(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return Sinh()(as_input(x))


def cosh(x: Any) -> Tensor:
    """Elementwise hyperbolic cosine; gradient ``sinh(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cosh(cr.Tensor([0.0]))
        Tensor([1.], dtype=float32)
    """
    return Cosh()(as_input(x))


def log2(x: Any) -> Tensor:
    """Elementwise base-2 logarithm.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.log2(cr.Tensor([8.0]))
        Tensor([3.], dtype=float32)
    """
    return LogBase(2)(as_input(x))


def log10(x: Any) -> Tensor:
    """Elementwise base-10 logarithm.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.log10(cr.Tensor([10.0]))
        Tensor([1.], dtype=float32)
    """
    return LogBase(10)(as_input(x))


def expm1(x: Any) -> Tensor:
    """Elementwise ``exp(x) - 1``, accurate for small ``x``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.expm1(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return Expm1()(as_input(x))


def reciprocal(x: Any) -> Tensor:
    """Elementwise ``1 / x``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.reciprocal(cr.Tensor([4.0]))
        Tensor([0.25], dtype=float32)
    """
    return divide(1.0, as_input(x))


def rsqrt(x: Any) -> Tensor:
    """Elementwise ``1 / sqrt(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.rsqrt(cr.Tensor([4.0]))
        Tensor([0.5], dtype=float32)
    """
    return divide(1.0, sqrt(as_input(x)))


def true_divide(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 / x2`` (Keras's alias of ``divide``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.true_divide(cr.Tensor([3.0]), 2.0)
        Tensor([1.5], dtype=float32)
    """
    return divide(*as_pair(x1, x2))


def mod(x1: Any, x2: Any) -> Tensor:
    """Elementwise remainder with the sign of ``x2``; gradients ``1`` and ``-floor(x1 / x2)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.mod(cr.Tensor([-3.0, 5.0]), 4.0)
        Tensor([1., 1.], dtype=float32)
    """
    return Mod()(*as_pair(x1, x2))


def floor_divide(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``floor(x1 / x2)``; no gradient (it is piecewise constant).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.floor_divide(cr.Tensor([-3.0, 5.0]), 2.0)
        Tensor([-2.,  2.], dtype=float32)
    """
    return Elementwise(np.floor_divide)(*as_pair(x1, x2))


def floor(x: Any) -> Tensor:
    """Elementwise floor; no gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.floor(cr.Tensor([-1.5, 1.5]))
        Tensor([-2.,  1.], dtype=float32)
    """
    return Elementwise(np.floor)(as_input(x))


def ceil(x: Any) -> Tensor:
    """Elementwise ceiling; no gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ceil(cr.Tensor([-1.5, 1.5]))
        Tensor([-1.,  2.], dtype=float32)
    """
    return Elementwise(np.ceil)(as_input(x))


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - Keras's name
    """Round half to even to ``decimals`` places (NumPy's rule); no gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.round(cr.Tensor([0.5, 1.5, 2.25]), 1)
        Tensor([0.5, 1.5, 2.2], dtype=float32)
    """
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise ValueError(f"round: decimals must be an integer. Received: decimals={decimals!r}")
    return Elementwise(np.round, {"decimals": int(decimals)})(as_input(x))


def isnan(x: Any) -> Tensor:
    """Elementwise test for NaN (a boolean Tensor).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isnan(cr.Tensor([1.0, float("nan")]))
        Tensor([False,  True], dtype=bool)
    """
    return Elementwise(np.isnan)(as_input(x))


def isinf(x: Any) -> Tensor:
    """Elementwise test for positive or negative infinity.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isinf(cr.Tensor([1.0, float("-inf")]))
        Tensor([False,  True], dtype=bool)
    """
    return Elementwise(np.isinf)(as_input(x))


def isfinite(x: Any) -> Tensor:
    """Elementwise test for a finite value (not NaN, not infinite).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isfinite(cr.Tensor([1.0, float("inf")]))
        Tensor([ True, False], dtype=bool)
    """
    return Elementwise(np.isfinite)(as_input(x))


def logical_and(x1: Any, x2: Any) -> Tensor:
    """Elementwise logical AND (nonzero counts as true).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logical_and([True, True], [True, False])
        Tensor([ True, False], dtype=bool)
    """
    return Elementwise(np.logical_and)(*as_pair(x1, x2))


def logical_or(x1: Any, x2: Any) -> Tensor:
    """Elementwise logical OR.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logical_or([False, False], [True, False])
        Tensor([ True, False], dtype=bool)
    """
    return Elementwise(np.logical_or)(*as_pair(x1, x2))


def logical_xor(x1: Any, x2: Any) -> Tensor:
    """Elementwise logical XOR.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logical_xor([True, True], [True, False])
        Tensor([False,  True], dtype=bool)
    """
    return Elementwise(np.logical_xor)(*as_pair(x1, x2))


def logical_not(x: Any) -> Tensor:
    """Elementwise logical NOT.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logical_not([True, False])
        Tensor([False,  True], dtype=bool)
    """
    return Elementwise(np.logical_not)(as_input(x))


def equal(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 == x2`` (a boolean Tensor without gradient).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.equal(cr.Tensor([1.0, 2.0]), 2.0)
        Tensor([False,  True], dtype=bool)
    """
    return Compare(np.equal)(*as_pair(x1, x2))


def not_equal(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 != x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.not_equal(cr.Tensor([1.0, 2.0]), 2.0)
        Tensor([ True, False], dtype=bool)
    """
    return Compare(np.not_equal)(*as_pair(x1, x2))


def greater(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 > x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.greater(cr.Tensor([1.0, 3.0]), 2.0)
        Tensor([False,  True], dtype=bool)
    """
    return Compare(np.greater)(*as_pair(x1, x2))


def greater_equal(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 >= x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.greater_equal(cr.Tensor([1.0, 2.0]), 2.0)
        Tensor([False,  True], dtype=bool)
    """
    return Compare(np.greater_equal)(*as_pair(x1, x2))


def less(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 < x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.less(cr.Tensor([1.0, 3.0]), 2.0)
        Tensor([ True, False], dtype=bool)
    """
    return Compare(np.less)(*as_pair(x1, x2))


def less_equal(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``x1 <= x2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.less_equal(cr.Tensor([2.0, 3.0]), 2.0)
        Tensor([ True, False], dtype=bool)
    """
    return Compare(np.less_equal)(*as_pair(x1, x2))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (default: the dtype's
    largest and smallest values); the gradient flows only through finite elements.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nan_to_num(cr.Tensor([float("nan"), 1.0]))
        Tensor([0., 1.], dtype=float32)
    """
    return NanToNum(nan, posinf, neginf)(as_input(x))


def relu6(x: Any) -> Tensor:
    """``min(max(x, 0), 6)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.relu6(cr.Tensor([-1.0, 3.0, 9.0]))
        Tensor([0., 3., 6.], dtype=float32)
    """
    return _relu_ext(as_input(x), 6.0)  # minimum(relu(x), 6.0) in one pass (nn.ReluCap)


def leaky_relu(x: Any, negative_slope: float = 0.2, *, alpha: float | None = None) -> Tensor:
    """``x`` where positive, else ``negative_slope * x`` (Keras's argument name; chainrule's
    earlier ``alpha`` is accepted too).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.leaky_relu(cr.Tensor([-1.0, 2.0]), negative_slope=0.5)
        Tensor([-0.5,  2. ], dtype=float32)
    """
    return _leaky_relu(as_input(x), negative_slope if alpha is None else alpha)
