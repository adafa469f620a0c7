"""Arithmetic and elementwise ops, each a Function with a hand-written backward.

NumPy ufuncs dispatch to CuPy through ``__array_ufunc__``, so these run on either backend.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.autograd.engine import Function, Tensor, shape_error, sum_to
from chainrule.ops.core import as_input, as_pair, cast

__all__ = [
    "add", "subtract", "multiply", "divide", "power", "negative", "matmul",
    "exp", "log", "sqrt", "square", "abs", "sign", "clip", "maximum", "minimum",
    "cast", "log1p", "erf",
]


def _input(x: Any) -> Any:
    """Tensors and arrays as they are; numbers and lists as arrays (see ``ops.core.as_input``)."""
    if isinstance(x, Tensor) or hasattr(x, "dtype"):
        return x
    return as_input(x)


def _pair(a: Any, b: Any) -> tuple:
    """Operands of a binary op: lists become arrays, and so do two plain numbers."""
    if isinstance(a, Tensor):  # the common case: one check, nothing converted
        return (a, _input(b)) if isinstance(b, (list, tuple)) else (a, b)
    return as_pair(a, b)


def _shape(x: Any) -> tuple:
    return x.shape if hasattr(x, "shape") else ()


class Add(Function):
    def forward(self, a, b):
        self.sa, self.sb = _shape(a), _shape(b)
        return a + b

    def backward(self, gy):
        return (
            sum_to(gy, self.sa) if self.needs[0] else None,
            sum_to(gy, self.sb) if self.needs[1] else None,
        )


class Subtract(Function):
    def forward(self, a, b):
        self.sa, self.sb = _shape(a), _shape(b)
        return a - b

    def backward(self, gy):
        return (
            sum_to(gy, self.sa) if self.needs[0] else None,
            sum_to(-gy, self.sb) if self.needs[1] else None,
        )


class Multiply(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        a, b = self.a, self.b
        return (
            sum_to(gy * b, _shape(a)) if self.needs[0] else None,
            sum_to(gy * a, _shape(b)) if self.needs[1] else None,
        )


class Divide(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        a, b = self.a, self.b
        ga = gy / b
        return (
            sum_to(ga, _shape(a)) if self.needs[0] else None,
            sum_to(-ga * a / b, _shape(b)) if self.needs[1] else None,
        )


class Power(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a**b
        return self.y

    def backward(self, gy):
        a, b = self.a, self.b
        ga = gb = None
        if self.needs[0]:
            ga = sum_to(gy * b * a ** (b - 1), _shape(a))
        if self.needs[1]:
            with np.errstate(divide="ignore", invalid="ignore"):
                la = np.where(a > 0, np.log(np.where(a > 0, a, 1)), 0)
            gb = sum_to(gy * self.y * la, _shape(b))
        return ga, gb


class Negative(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return (-gy,)


class MatMul(Function):
    def forward(self, a, b):
        sa, sb = _shape(a), _shape(b)
        if len(sa) == 0 or len(sb) == 0:
            raise shape_error(
                f"matmul: both operands need at least 1 dimension. Received: shapes {sa} and {sb}"
            )
        ka = sa[-1]
        kb = sb[0] if len(sb) == 1 else sb[-2]
        if ka != kb:
            raise shape_error(
                f"matmul: shapes {sa} and {sb} are not aligned ({ka} != {kb})"
            )
        self.a, self.b = a, b
        return a @ b

    def backward(self, gy):
        a, b = self.a, self.b
        if a.ndim == 2 and b.ndim == 2:  # the common case, no reshaping
            return (
                gy @ b.T if self.needs[0] else None,
                a.T @ gy if self.needs[1] else None,
            )
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = gy
        if a.ndim == 1 and b.ndim == 1:
            g = gy.reshape(1, 1)
        elif a.ndim == 1:
            g = gy[..., None, :]
        elif b.ndim == 1:
            g = gy[..., None]
        ga = gb = None
        if self.needs[0]:
            ga = sum_to(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs[1]:
            gb = sum_to(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Exp(Function):
    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, gy):
        return (gy * self.y,)


class Log(Function):
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, gy):
        return (gy / self.x,)


class Log1p(Function):
    def forward(self, x):
        self.x = x
        return np.log1p(x)

    def backward(self, gy):
        return (gy / (1 + self.x),)


class Sqrt(Function):
    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, gy):
        return (gy / (2 * self.y),)


class Square(Function):
    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return (gy * 2 * self.x,)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, gy):
        return (gy * np.sign(self.x),)


class Clip(Function):
    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        self.x = x
        return np.clip(x, self.lo, self.hi)

    def backward(self, gy):
        x = self.x
        mask = np.ones_like(x, dtype=bool)
        if self.lo is not None:
            mask &= x >= self.lo
        if self.hi is not None:
            mask &= x <= self.hi
        return (gy * mask,)


class Maximum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return np.maximum(a, b)

    def backward(self, gy):
        mask = self.a >= self.b  # ties go to the first operand, as in TensorFlow
        return (
            sum_to(gy * mask, _shape(self.a)) if self.needs[0] else None,
            sum_to(gy * ~mask, _shape(self.b)) if self.needs[1] else None,
        )


class Minimum(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return np.minimum(a, b)

    def backward(self, gy):
        mask = self.a <= self.b
        return (
            sum_to(gy * mask, _shape(self.a)) if self.needs[0] else None,
            sum_to(gy * ~mask, _shape(self.b)) if self.needs[1] else None,
        )


class Where(Function):
    def forward(self, cond, a, b):
        if cond.dtype != bool:
            cond = cond.astype(bool)
        self.cond = cond
        self.sa, self.sb = _shape(a), _shape(b)
        return np.where(cond, a, b)

    def backward(self, gy):
        c = self.cond
        return (
            None,
            sum_to(gy * c, self.sa) if self.needs[1] else None,
            sum_to(gy * ~c, self.sb) if self.needs[2] else None,
        )


class Compare(Function):
    """An elementwise comparison (a boolean result; no gradient flows through it)."""

    differentiable = False

    def __init__(self, ufunc):
        self.ufunc = ufunc

    def forward(self, a, b):
        return self.ufunc(a, b)

    def backward(self, gy):
        return None, None


_erf_vec = np.vectorize(math.erf, otypes=[float])


def _erf_array(x):
    try:  # SciPy's erf is vectorized; otherwise Python's, elementwise (exact, slower)
        from scipy.special import erf as _scipy_erf  # noqa: PLC0415

        return _scipy_erf(x)
    except ImportError:
        return _erf_vec(x).astype(x.dtype)


class Erf(Function):
    def forward(self, x):
        self.x = x
        return np.asarray(_erf_array(x), dtype=x.dtype)

    def backward(self, gy):
        return (gy * (2.0 / math.sqrt(math.pi)) * np.exp(-self.x * self.x),)


# -- public wrappers ---------------------------------------------------------


def add(a: Any, b: Any) -> Tensor:
    """Elementwise ``a + b`` with broadcasting.

    Args:
        a: a Tensor, array or number.
        b: a Tensor, array or number.

    Returns:
        A Tensor of the broadcast shape.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.add(cr.Tensor([1.0, 2.0]), 1.0)
        Tensor([2., 3.], dtype=float32)
    """
    return Add()(*_pair(a, b))


def subtract(a: Any, b: Any) -> Tensor:
    """Elementwise ``a - b`` with broadcasting (see :func:`add`)."""
    return Subtract()(*_pair(a, b))


def multiply(a: Any, b: Any) -> Tensor:
    """Elementwise ``a * b`` with broadcasting (see :func:`add`)."""
    return Multiply()(*_pair(a, b))


def divide(a: Any, b: Any) -> Tensor:
    """Elementwise ``a / b`` with broadcasting (see :func:`add`)."""
    return Divide()(*_pair(a, b))


def power(a: Any, b: Any) -> Tensor:
    """Elementwise ``a ** b``; the gradient for ``b`` uses ``log(a)`` (0 where a <= 0)."""
    return Power()(*_pair(a, b))


def negative(x: Any) -> Tensor:
    """Elementwise ``-x``."""
    return Negative()(_input(x))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules (1-D operands, batched stacks).

    Args:
        a: shape ``(..., n, k)`` or ``(k,)``.
        b: shape ``(..., k, m)`` or ``(k,)``.

    Returns:
        Shape ``(..., n, m)``.

    Raises:
        ValueError: ``matmul: shapes (32, 784) and (28, 10) are not aligned (784 != 28)``.
    """
    return MatMul()(*_pair(a, b))


def exp(x: Any) -> Tensor:
    """Elementwise ``e ** x``; gradient ``exp(x)``."""
    return Exp()(_input(x))


def log(x: Any) -> Tensor:
    """Elementwise natural logarithm; gradient ``1 / x``."""
    return Log()(_input(x))


def log1p(x: Any) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for small x."""
    return Log1p()(_input(x))


def sqrt(x: Any) -> Tensor:
    """Elementwise square root; gradient ``1 / (2 sqrt(x))``."""
    return Sqrt()(_input(x))


def square(x: Any) -> Tensor:
    """Elementwise ``x * x``."""
    return Square()(_input(x))


def abs(x: Any) -> Tensor:  # noqa: A001 - mirrors numpy/keras naming
    """Elementwise absolute value; gradient ``sign(x)`` (0 at 0)."""
    return Abs()(_input(x))


class Sign(Function):
    """Elementwise sign: an op without gradient (so a captured step recomputes it)."""

    differentiable = False

    def forward(self, x):
        return np.sign(x)

    def backward(self, gy):
        return (None,)


def sign(x: Any) -> Tensor:
    """Elementwise sign (-1, 0 or 1); not differentiable, so never requires grad."""
    return Sign()(_input(x))


def clip(x: Any, x_min: Any = None, x_max: Any = None, *, min_value: Any = None,
         max_value: Any = None) -> Tensor:
    """Limit values to ``[x_min, x_max]``; the gradient passes only inside the range.

    Keras names the bounds ``x_min`` and ``x_max``; ``min_value`` and ``max_value``
    are accepted too.

    Args:
        x: input.
        x_min: lower bound or None.
        x_max: upper bound or None.

    Returns:
        A Tensor of ``x``'s shape.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.clip(cr.Tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    min_value = x_min if min_value is None else min_value
    max_value = x_max if max_value is None else max_value
    if min_value is None and max_value is None:
        raise ValueError("clip needs min_value or max_value. Received: min_value=None, max_value=None")
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ValueError(
            f"clip: min_value must not exceed max_value. Received: min_value={min_value}, "
            f"max_value={max_value}"
        )
    return Clip(min_value, max_value)(_input(x))


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; on ties the gradient goes to ``a``."""
    return Maximum()(*_pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; on ties the gradient goes to ``a``."""
    return Minimum()(*_pair(a, b))


def compare(a: Any, b: Any, op: str) -> Tensor:
    """Elementwise ``a <op> b`` for ``op`` in ``< <= > >= == !=``, as a boolean Tensor.

    The comparison is an op, so a captured step recomputes it for every batch
    (``ops.where(err <= delta, ...)`` replays correctly). It has no gradient.

    Args:
        a, b: Tensors, arrays or numbers (broadcast).
        op: the comparison.

    Returns:
        A boolean Tensor of the broadcast shape.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.compare(cr.Tensor([1.0, 3.0]), 2.0, "<")
        Tensor([ True, False], dtype=bool)
    """
    ufunc = _COMPARISONS.get(op)
    if ufunc is None:
        raise ValueError(f"op must be one of {sorted(_COMPARISONS)}. Received: op={op!r}")
    return Compare(ufunc)(a, b)


_COMPARISONS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
                "==": np.equal, "!=": np.not_equal}


def erf(x: Any) -> Tensor:
    """The error function, elementwise; gradient ``2/sqrt(pi) * exp(-x**2)``."""
    return Erf()(_input(x))
