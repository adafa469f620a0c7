"""More of Keras 3's NumPy-like math: inverse trigonometry, ``logaddexp``, ``hypot``, ``cbrt``,
``erfc``/``erfinv``, the ``nan*`` reductions, quantiles, tests and bitwise ops.

Differentiable elementwise ops are two Functions driven by a table of
(function, derivative) pairs; reductions and statistics are compositions of
existing ops (their gradients come free) or, for quantiles, one Function
whose gradient goes to the order statistics it interpolates. Tests, rounding
and bitwise ops carry no gradient.

Example:
    >>> import chainrule as cr
    >>> cr.ops.logaddexp(cr.Tensor([0.0]), cr.Tensor([0.0]))
    Tensor([0.6931472], dtype=float32)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, sum_to
from chainrule.ops.core import as_input, as_pair, cast, raw
from chainrule.ops.elementwise import Elementwise, isnan, logical_not
from chainrule.ops.indexing import where
from chainrule.ops.math import Erf, sqrt, square
from chainrule.ops.reduce import _norm_axis, max, min, sum
from chainrule.ops.statistics import Scan, _index_axis, prod

__all__ = [
    "arcsin", "arccos", "arcsinh", "arccosh", "arctanh", "arctan2", "exp2", "cbrt", "deg2rad",
    "rad2deg", "sinc", "fabs", "erfc", "erfinv", "log_sigmoid", "hypot", "logaddexp",
    "logaddexp2", "fmod", "fmax", "fmin", "divide_no_nan", "ldexp", "trunc", "signbit",
    "heaviside", "nextafter", "isneginf", "isposinf", "isreal", "isclose", "allclose", "real",
    "imag", "conj", "conjugate", "angle", "amax", "amin", "ptp", "average", "quantile",
    "percentile", "median", "nanquantile", "nanpercentile", "nanmedian", "nansum", "nanmean",
    "nanvar", "nanstd", "nanmax", "nanmin", "nanprod", "nancumsum", "nancumprod", "nanargmax",
    "nanargmin", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift", "gcd", "lcm",
]

_LN2 = math.log(2.0)


def _shape(x: Any) -> tuple:
    return x.shape if hasattr(x, "shape") else ()


def _sinc_grad(x, y):
    px = np.pi * x
    safe = np.where(x == 0, 1, x)
    return np.where(x == 0, 0, (np.cos(px) - y) / safe)


def _erfinv_array(y):
    """Inverse error function: Giles' single-precision approximation, then Newton steps on
    ``erf`` (accurate to float64 rounding inside (-1, 1); +-inf at +-1, NaN outside)."""
    y = np.asarray(y, dtype=np.float64)
    w = -np.log(np.clip((1.0 - y) * (1.0 + y), 1e-300, None))
    small = w < 5.0
    ws, wl = w - 2.5, np.sqrt(np.where(small, 5.0, w)) - 3.0
    p1 = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
              -0.00417768164, 0.246640727, 1.50140941):
        p1 = c + p1 * ws
    p2 = -0.000200214257
    for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
              0.00943887047, 1.00167406, 2.83297682):
        p2 = c + p2 * wl
    x = np.where(small, p1, p2) * y
    inside = np.abs(y) < 1
    for _ in range(3):  # Newton on erf(x) - y; erf's derivative is 2/sqrt(pi) exp(-x^2)
        err = Erf().forward(x) - y
        x = np.where(inside, x - err / (2.0 / math.sqrt(math.pi) * np.exp(-x * x)), x)
    x = np.where(np.abs(y) == 1, np.where(y > 0, np.inf, -np.inf), x)
    return np.where(np.abs(y) > 1, np.nan, x)


# name -> (forward on an array, derivative from (x, y))
_UNARY = {
    "arcsin": (np.arcsin, lambda x, y: 1.0 / np.sqrt(1.0 - x * x)),
    "arccos": (np.arccos, lambda x, y: -1.0 / np.sqrt(1.0 - x * x)),
    "arcsinh": (np.arcsinh, lambda x, y: 1.0 / np.sqrt(x * x + 1.0)),
    "arccosh": (np.arccosh, lambda x, y: 1.0 / np.sqrt(x * x - 1.0)),
    "arctanh": (np.arctanh, lambda x, y: 1.0 / (1.0 - x * x)),
    "exp2": (np.exp2, lambda x, y: y * _LN2),
    "cbrt": (np.cbrt, lambda x, y: 1.0 / (3.0 * y * y)),
    "deg2rad": (np.deg2rad, lambda x, y: np.full_like(x, np.pi / 180.0)),
    "rad2deg": (np.rad2deg, lambda x, y: np.full_like(x, 180.0 / np.pi)),
    "sinc": (np.sinc, _sinc_grad),
    "fabs": (np.fabs, lambda x, y: np.sign(x)),
    "erfc": (lambda x: 1.0 - Erf().forward(x),
             lambda x, y: -2.0 / math.sqrt(math.pi) * np.exp(-x * x)),
    "erfinv": (_erfinv_array, lambda x, y: math.sqrt(math.pi) / 2.0 * np.exp(y * y)),
    "log_sigmoid": (lambda x: -np.logaddexp(0.0, -x), lambda x, y: np.exp(y - x)),
}


class Unary(Function):
    """``y = f(x)`` for a function of :data:`_UNARY` (named by ``kind``); ``dy/dx`` from its
    table row."""

    def __init__(self, kind):
        self.kind = kind

    def forward(self, x):
        self.x = x
        self.y = np.asarray(_UNARY[self.kind][0](x)).astype(x.dtype, copy=False)
        return self.y

    def backward(self, gy):
        d = _UNARY[self.kind][1](self.x, self.y)
        return ((gy * d).astype(self.x.dtype, copy=False),)


def _fmask(x1, x2, y):
    first = (y == x1) | np.isnan(x2) & ~np.isnan(x1)
    return first, ~first & ((y == x2) | np.isnan(x1) & ~np.isnan(x2))


# name -> (forward of two arrays, (dy/dx1, dy/dx2) from (x1, x2, y))
_BINARY = {
    "arctan2": (np.arctan2, lambda a, b, y: (b / (a * a + b * b), -a / (a * a + b * b))),
    "hypot": (np.hypot, lambda a, b, y: (a / y, b / y)),
    "logaddexp": (np.logaddexp, lambda a, b, y: (np.exp(a - y), np.exp(b - y))),
    "logaddexp2": (np.logaddexp2, lambda a, b, y: (np.exp2(a - y), np.exp2(b - y))),
    "fmod": (np.fmod, lambda a, b, y: (np.ones_like(y), -np.trunc(a / b))),
    "fmax": (np.fmax, _fmask),
    "fmin": (np.fmin, _fmask),
    "divide_no_nan": (lambda a, b: np.where(b == 0, 0, a / np.where(b == 0, 1, b)),
                      lambda a, b, y: (np.where(b == 0, 0, 1 / np.where(b == 0, 1, b)),
                                       np.where(b == 0, 0, -a / np.where(b == 0, 1, b * b)))),
}


class Binary(Function):
    """``y = f(x1, x2)`` for a function of :data:`_BINARY`, with broadcasting undone in the
    gradients."""

    def __init__(self, kind):
        self.kind = kind

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.asarray(_BINARY[self.kind][0](a, b))
        self.y = y.astype(np.result_type(a, b), copy=False)
        return self.y

    def backward(self, gy):
        with np.errstate(divide="ignore", invalid="ignore"):
            da, db = _BINARY[self.kind][1](self.a, self.b, self.y)
        dt = self.y.dtype
        return (sum_to((gy * da).astype(dt, copy=False), _shape(self.a)) if self.needs[0]
                else None,
                sum_to((gy * db).astype(dt, copy=False), _shape(self.b)) if self.needs[1]
                else None)


def _float(x: Any) -> Any:
    """``x`` as an input of a float op: integers and booleans become floatx (Keras's rule)."""
    x = as_input(x)
    if raw(x).dtype.kind not in "fc":
        return cast(x, backend.floatx())
    return x


def _float_pair(x1: Any, x2: Any) -> tuple:
    a, b = as_pair(x1, x2)
    a_arr, b_arr = hasattr(raw(a), "dtype"), hasattr(raw(b), "dtype")
    if a_arr and raw(a).dtype.kind not in "fc" and not (b_arr and raw(b).dtype.kind == "f"):
        a = cast(a, backend.floatx())
    elif a_arr and raw(a).dtype.kind not in "fc":
        a = cast(a, raw(b).dtype)
    if b_arr and raw(b).dtype.kind not in "fc":
        b = cast(b, raw(a).dtype if hasattr(raw(a), "dtype") else backend.floatx())
    return a, b


def _unary(kind: str, x: Any) -> Tensor:
    return Unary(kind)(_float(x))


def arcsin(x: Any) -> Tensor:
    """Elementwise inverse sine; gradient ``1 / sqrt(1 - x**2)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arcsin(cr.Tensor([0.0, 1.0]))
        Tensor([0.       , 1.5707964], dtype=float32)
    """
    return _unary("arcsin", x)


def arccos(x: Any) -> Tensor:
    """Elementwise inverse cosine; gradient ``-1 / sqrt(1 - x**2)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arccos(cr.Tensor([1.0]))
        Tensor([0.], dtype=float32)
    """
    return _unary("arccos", x)


def arcsinh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic sine; gradient ``1 / sqrt(x**2 + 1)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arcsinh(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return _unary("arcsinh", x)


def arccosh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic cosine (``x >= 1``); gradient ``1 / sqrt(x**2 - 1)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arccosh(cr.Tensor([1.0]))
        Tensor([0.], dtype=float32)
    """
    return _unary("arccosh", x)


def arctanh(x: Any) -> Tensor:
    """Elementwise inverse hyperbolic tangent; gradient ``1 / (1 - x**2)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arctanh(cr.Tensor([0.0]))
        Tensor([0.], dtype=float32)
    """
    return _unary("arctanh", x)


def arctan2(x1: Any, x2: Any) -> Tensor:
    """Elementwise angle of the point ``(x2, x1)`` (quadrant-aware ``arctan(x1 / x2)``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arctan2(cr.Tensor([1.0, 0.0]), cr.Tensor([0.0, -1.0])).numpy().round(4)
        array([1.5708, 3.1416], dtype=float32)
    """
    return Binary("arctan2")(*_float_pair(x1, x2))


def exp2(x: Any) -> Tensor:
    """Elementwise ``2 ** x``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.exp2(cr.Tensor([3.0]))
        Tensor([8.], dtype=float32)
    """
    return _unary("exp2", x)


def cbrt(x: Any) -> Tensor:
    """Elementwise cube root (negative for negative ``x``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.cbrt(cr.Tensor([-8.0, 1.0]))
        Tensor([-2.,  1.], dtype=float32)
    """
    return _unary("cbrt", x)


def deg2rad(x: Any) -> Tensor:
    """Degrees to radians.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.deg2rad(cr.Tensor([180.0]))
        Tensor([3.1415927], dtype=float32)
    """
    return _unary("deg2rad", x)


def rad2deg(x: Any) -> Tensor:
    """Radians to degrees.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.rad2deg(cr.Tensor([np.pi]))
        Tensor([180.], dtype=float32)
    """
    return _unary("rad2deg", x)


def sinc(x: Any) -> Tensor:
    """Normalized sinc ``sin(pi x) / (pi x)`` (1 at 0).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sinc(cr.Tensor([0.0, 0.5])).numpy().round(6)
        array([1.      , 0.63662], dtype=float32)
    """
    return _unary("sinc", x)


def fabs(x: Any) -> Tensor:
    """Elementwise absolute value as a float (integers become floatx).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fabs([-2, 3])
        Tensor([2., 3.], dtype=float32)
    """
    return _unary("fabs", x)


def erfc(x: Any) -> Tensor:
    """Complementary error function ``1 - erf(x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.erfc(cr.Tensor([0.0]))
        Tensor([1.], dtype=float32)
    """
    return _unary("erfc", x)


def erfinv(x: Any) -> Tensor:
    """Inverse error function on (-1, 1); gradient ``sqrt(pi) / 2 * exp(erfinv(x)**2)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.erfinv(cr.Tensor([0.0, 0.5]))
        Tensor([0.        , 0.47693628], dtype=float32)
    """
    return _unary("erfinv", x)


def log_sigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``; gradient ``sigmoid(-x)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.log_sigmoid(cr.Tensor([0.0]))
        Tensor([-0.6931472], dtype=float32)
    """
    return _unary("log_sigmoid", x)


def hypot(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``sqrt(x1**2 + x2**2)`` without overflow.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.hypot(cr.Tensor([3.0]), cr.Tensor([4.0]))
        Tensor([5.], dtype=float32)
    """
    return Binary("hypot")(*_float_pair(x1, x2))


def logaddexp(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``log(exp(x1) + exp(x2))``, stable.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logaddexp(cr.Tensor([1000.0], dtype="float64"), 1000.0)
        Tensor([1000.69314718], dtype=float64)
    """
    return Binary("logaddexp")(*_float_pair(x1, x2))


def logaddexp2(x1: Any, x2: Any) -> Tensor:
    """Elementwise ``log2(2**x1 + 2**x2)``, stable.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.logaddexp2(cr.Tensor([1.0]), cr.Tensor([1.0]))
        Tensor([2.], dtype=float32)
    """
    return Binary("logaddexp2")(*_float_pair(x1, x2))


def fmod(x1: Any, x2: Any) -> Tensor:
    """Elementwise remainder with the sign of ``x1`` (C's ``fmod``; ``mod`` follows ``x2``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fmod(cr.Tensor([-3.0, 5.0]), 4.0)
        Tensor([-3.,  1.], dtype=float32)
    """
    a, b = as_pair(x1, x2)
    if all(raw(v).dtype.kind in "biu" for v in (a, b) if hasattr(raw(v), "dtype")):
        return Elementwise(np.fmod)(*(as_input(v) for v in (a, b)))
    return Binary("fmod")(*_float_pair(a, b))


def fmax(x1: Any, x2: Any) -> Tensor:
    """Elementwise maximum that ignores NaN (NaN only where both are NaN).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fmax(cr.Tensor([1.0, float("nan")]), cr.Tensor([0.0, 2.0]))
        Tensor([1., 2.], dtype=float32)
    """
    return Binary("fmax")(*as_pair(x1, x2))


def fmin(x1: Any, x2: Any) -> Tensor:
    """Elementwise minimum that ignores NaN.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fmin(cr.Tensor([1.0, float("nan")]), cr.Tensor([0.0, 2.0]))
        Tensor([0., 2.], dtype=float32)
    """
    return Binary("fmin")(*as_pair(x1, x2))


def divide_no_nan(x1: Any, x2: Any) -> Tensor:
    """``x1 / x2``, and 0 where ``x2`` is 0 (its gradients are 0 there too).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.divide_no_nan(cr.Tensor([1.0, 2.0]), cr.Tensor([0.0, 4.0]))
        Tensor([0. , 0.5], dtype=float32)
    """
    return Binary("divide_no_nan")(*_float_pair(x1, x2))


class Ldexp(Function):
    """``x1 * 2**x2`` for integer ``x2``: differentiable in ``x1`` only."""

    def forward(self, a, b):
        self.ashape = a.shape
        self.scale = np.ldexp(np.ones((), a.dtype), b)
        return np.ldexp(a, b).astype(a.dtype, copy=False)

    def backward(self, gy):
        return sum_to(gy * self.scale, self.ashape), None


def ldexp(x1: Any, x2: Any) -> Tensor:
    """``x1 * 2**x2``; ``x2`` must hold integers.

    Raises:
        TypeError: when ``x2`` is not an integer type.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ldexp(cr.Tensor([1.5]), np.array([3]))
        Tensor([12.], dtype=float32)
    """
    a, b = _float(x1), as_input(x2)
    if raw(b).dtype.kind not in "iu":
        raise TypeError(f"ldexp: the exponent x2 must be an integer type. Received: x2 of dtype "
                        f"{raw(b).dtype}")
    return Ldexp()(a, b)


def _nograd(fn: Any, *xs: Any, kwargs: dict | None = None) -> Tensor:
    return Elementwise(fn, kwargs)(*xs)


def trunc(x: Any) -> Tensor:
    """Round toward zero; integers are returned as they are. No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.trunc(cr.Tensor([-1.7, 1.7]))
        Tensor([-1.,  1.], dtype=float32)
    """
    return _nograd(np.trunc, as_input(x))


def signbit(x: Any) -> Tensor:
    """Whether the sign bit is set (True for negative numbers and -0.0).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.signbit(cr.Tensor([-1.0, -0.0, 2.0]))
        Tensor([ True,  True, False], dtype=bool)
    """
    return _nograd(np.signbit, as_input(x))


def heaviside(x1: Any, x2: Any) -> Tensor:
    """Step function: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``.

    No gradient (piecewise constant in ``x1``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.heaviside(cr.Tensor([-1.0, 0.0, 3.0]), 0.5)
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    return _nograd(np.heaviside, *_float_pair(x1, x2))


def nextafter(x1: Any, x2: Any) -> Tensor:
    """The next representable float after ``x1`` toward ``x2``. No gradient.

    Example:
        >>> import chainrule as cr
        >>> float(cr.ops.nextafter(cr.Tensor(1.0), 2.0)) > 1.0
        True
    """
    return _nograd(np.nextafter, *_float_pair(x1, x2))


def isneginf(x: Any) -> Tensor:
    """Elementwise test for negative infinity.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isneginf(cr.Tensor([-np.inf, np.inf]))
        Tensor([ True, False], dtype=bool)
    """
    return _nograd(np.isneginf, as_input(x))


def isposinf(x: Any) -> Tensor:
    """Elementwise test for positive infinity.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isposinf(cr.Tensor([-np.inf, np.inf]))
        Tensor([False,  True], dtype=bool)
    """
    return _nograd(np.isposinf, as_input(x))


def isreal(x: Any) -> Tensor:
    """Elementwise test for a zero imaginary part (always True: chainrule's tensors are real).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isreal(cr.Tensor([1.0]))
        Tensor([ True], dtype=bool)
    """
    return _nograd(np.isreal, as_input(x))


def isclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|`` (NumPy's rule).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.isclose(cr.Tensor([1.0, 1.1]), 1.0)
        Tensor([ True, False], dtype=bool)
    """
    return _nograd(np.isclose, *as_pair(x1, x2),
                   kwargs={"rtol": rtol, "atol": atol, "equal_nan": bool(equal_nan)})


def _allclose(a, b, **kwargs):
    return np.asarray(np.allclose(a, b, **kwargs))


def allclose(x1: Any, x2: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> Tensor:
    """Whether every element is close (a 0-d boolean Tensor; ``bool()`` reads it).

    Example:
        >>> import chainrule as cr
        >>> bool(cr.ops.allclose(cr.Tensor([1.0, 2.0]), [1.0, 2.0 + 1e-7]))
        True
    """
    return _nograd(_allclose, *as_pair(x1, x2),
                   kwargs={"rtol": rtol, "atol": atol, "equal_nan": bool(equal_nan)})


class Copy(Function):
    """A copy of ``x``; the gradient passes through."""

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return (gy,)


def real(x: Any) -> Tensor:
    """The real part (``x`` itself: chainrule's tensors are real).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.real(cr.Tensor([1.5]))
        Tensor([1.5], dtype=float32)
    """
    return Copy()(as_input(x))


def _imag(x):
    return np.imag(x).copy()  # np.imag of a real array is a read-only view


def imag(x: Any) -> Tensor:
    """The imaginary part (zeros: chainrule's tensors are real). No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.imag(cr.Tensor([1.5]))
        Tensor([0.], dtype=float32)
    """
    return _nograd(_imag, as_input(x))


def conjugate(x: Any) -> Tensor:
    """The complex conjugate (``x`` itself for real tensors).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.conjugate(cr.Tensor([1.5]))
        Tensor([1.5], dtype=float32)
    """
    return Copy()(as_input(x))


conj = conjugate


def angle(x: Any) -> Tensor:
    """The argument of each element: pi for negative reals, 0 otherwise. No gradient.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.angle(cr.Tensor([-1.0, 2.0]))
        Tensor([3.1415927, 0.       ], dtype=float32)
    """
    return _nograd(np.angle, _float(x))


# -- reductions and statistics -----------------------------------------------------------------


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The maximum over ``axis`` (Keras's alias of ``max``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.amax(cr.Tensor([[1.0, 3.0], [2.0, 0.0]]), axis=0)
        Tensor([2., 3.], dtype=float32)
    """
    return max(as_input(x), axis=axis, keepdims=keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The minimum over ``axis`` (Keras's alias of ``min``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.amin(cr.Tensor([[1.0, 3.0], [2.0, 0.0]]), axis=0)
        Tensor([1., 0.], dtype=float32)
    """
    return min(as_input(x), axis=axis, keepdims=keepdims)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Peak to peak: ``max - min`` over ``axis``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ptp(cr.Tensor([[1.0, 3.0], [2.0, 0.0]]), axis=1)
        Tensor([2., 2.], dtype=float32)
    """
    x = as_input(x)
    return max(x, axis=axis, keepdims=keepdims) - min(x, axis=axis, keepdims=keepdims)


def average(x: Any, axis: Any = None, weights: Any = None) -> Tensor:
    """The weighted mean over ``axis``: ``sum(x * w) / sum(w)``.

    Args:
        x: input.
        axis: an int, a tuple of ints or None (all axes).
        weights: None (the plain mean), an array of ``x``'s shape, or a 1-D array as long as
            ``x`` along an integer ``axis``.

    Raises:
        ValueError: when 1-D ``weights`` do not match the length of ``axis``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.average(cr.Tensor([1.0, 2.0, 4.0]), weights=[1.0, 1.0, 2.0])
        Tensor(2.75, dtype=float32)
    """
    x = _float(x)
    if weights is None:
        from chainrule.ops.reduce import mean  # noqa: PLC0415

        return mean(x, axis=axis)
    w = as_input(weights)
    xs, ws = raw(x).shape, raw(w).shape
    if ws != xs:
        if len(ws) != 1 or axis is None or isinstance(axis, (tuple, list)) or \
                ws[0] != xs[_norm_axis(axis, len(xs), "average")[0]]:
            raise ValueError(f"average: weights must have x's shape {xs}, or be 1-D with the "
                             f"length of x along an integer axis. Received: weights of shape "
                             f"{ws}, axis={axis!r}")
        from chainrule.ops.shaping import reshape  # noqa: PLC0415

        ax = _norm_axis(axis, len(xs), "average")[0]
        w = reshape(w, [-1 if d == ax else 1 for d in range(len(xs))])
    if raw(w).dtype != raw(x).dtype:
        w = cast(w, raw(x).dtype)
    return sum(x * w, axis=axis) / sum(w * np.ones(xs, raw(x).dtype), axis=axis)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


class Quantile(Function):
    """Quantiles along some axes: each one the interpolation of two order statistics, so the
    gradient goes to those two elements (NaN-ignoring with ``skip_nan``)."""

    def __init__(self, q, axis, method, keepdims, skip_nan):
        self.q, self.axis, self.method = q, axis, method
        self.keepdims, self.skip_nan = keepdims, skip_nan

    def forward(self, x):
        nd = x.ndim
        axes = tuple(range(nd)) if self.axis is None else _norm_axis(self.axis, nd, "quantile")
        rest = [d for d in range(nd) if d not in axes]
        self.perm, self.xshape = rest + list(axes), x.shape
        xr = x.transpose(self.perm).reshape([x.shape[d] for d in rest] + [-1])
        self.order = np.argsort(xr, axis=-1, kind="stable")  # NaN sorts last
        xs = np.take_along_axis(xr, self.order, -1)
        nan = np.isnan(xr)
        n = (~nan).sum(-1) if self.skip_nan else np.full(xr.shape[:-1], xr.shape[-1])
        q = np.asarray(self.q, dtype=np.float64)
        self.parts, outs = [], []
        for qk in q.reshape(-1):
            pos = qk * np.maximum(n - 1, 0)
            lo, hi = np.floor(pos).astype(np.intp), np.ceil(pos).astype(np.intp)
            w = pos - lo
            if self.method == "lower":
                hi, w = lo, np.zeros_like(w)
            elif self.method == "higher":
                lo, w = hi, np.zeros_like(w)
            elif self.method == "nearest":
                lo = hi = np.around(pos).astype(np.intp)
                w = np.zeros_like(w)
            elif self.method == "midpoint":
                w = np.where(hi > lo, 0.5, 0.0)
            w = w.astype(x.dtype)
            vlo = np.take_along_axis(xs, lo[..., None], -1)[..., 0]
            vhi = np.take_along_axis(xs, hi[..., None], -1)[..., 0]
            y = vlo + w * (vhi - vlo) if self.method != "midpoint" else \
                np.where(hi > lo, (vlo + vhi) * w, vlo)
            bad = (n == 0) if self.skip_nan else nan.any(-1)
            y = np.where(bad, np.nan, y)
            self.parts.append((lo, hi, w, bad))
            outs.append(y)
        out = np.stack(outs).reshape(q.shape + outs[0].shape).astype(x.dtype, copy=False)
        if self.keepdims:
            kshape = [1 if d in axes else x.shape[d] for d in range(nd)]
            out = out.reshape(q.shape + tuple(kshape))
        return out

    def backward(self, gy):
        q = np.asarray(self.q)
        g = gy.reshape((q.size,) + self.order.shape[:-1])
        gs = np.zeros(self.order.shape, dtype=gy.dtype)
        for k, (lo, hi, w, bad) in enumerate(self.parts):
            gk = np.where(bad, 0, g[k])
            a = np.zeros_like(gs)
            np.put_along_axis(a, lo[..., None], (gk * (1 - w))[..., None], -1)
            b = np.zeros_like(gs)
            np.put_along_axis(b, hi[..., None], (gk * w)[..., None], -1)
            gs += a + b
        gr = np.zeros_like(gs)
        np.put_along_axis(gr, self.order, gs, -1)
        shape = [self.xshape[d] for d in self.perm]
        return (gr.reshape(shape).transpose(np.argsort(self.perm)),)


def _quantile(x: Any, q: Any, axis: Any, method: str, keepdims: bool, skip_nan: bool,
              op: str, scale: float = 1.0) -> Tensor:
    if method not in _METHODS:
        raise ValueError(f"{op}: method must be one of {', '.join(_METHODS)}. "
                         f"Received: method={method!r}")
    qa = np.asarray(raw(q) if isinstance(q, Tensor) else q, dtype=np.float64) / scale
    if qa.ndim > 1 or np.any((qa < 0) | (qa > 1)) or np.isnan(qa).any():
        bound = "[0, 100]" if scale != 1 else "[0, 1]"
        raise ValueError(f"{op}: q must be a number or a 1-D list of numbers in {bound}. "
                         f"Received: q={q!r}")
    x = _float(x)
    q_arg = float(qa) if qa.ndim == 0 else tuple(float(v) for v in qa)
    return Quantile(q_arg, axis, method, bool(keepdims), skip_nan)(x)


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
             keepdims: bool = False) -> Tensor:
    """The ``q``-th quantiles over ``axis`` (NumPy's methods ``linear``, ``lower``, ``higher``,
    ``midpoint``, ``nearest``); NaN where the data hold a NaN.

    Args:
        x: input.
        q: a number or a 1-D list of numbers in [0, 1]; a list adds a leading axis.
        axis: an int, a tuple of ints or None (all axes).
        method: how to interpolate between the two nearest order statistics.
        keepdims: keep reduced axes with length 1.

    Returns:
        The quantiles; the gradient goes to the order statistics each one interpolates.

    Raises:
        ValueError: for an unknown method or ``q`` outside [0, 1].

    Example:
        >>> import chainrule as cr
        >>> cr.ops.quantile(cr.Tensor([1.0, 2.0, 3.0, 4.0]), [0.25, 0.5])
        Tensor([1.75, 2.5 ], dtype=float32)
    """
    return _quantile(x, q, axis, method, keepdims, False, "quantile")


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
               keepdims: bool = False) -> Tensor:
    """The ``q``-th percentiles (``q`` in [0, 100]); see :func:`quantile`.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.percentile(cr.Tensor([1.0, 2.0, 3.0, 4.0]), 50)
        Tensor(2.5, dtype=float32)
    """
    return _quantile(x, q, axis, method, keepdims, False, "percentile", 100.0)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The median over ``axis`` (the mean of the two middle values for an even count).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.median(cr.Tensor([[1.0, 5.0, 2.0], [0.0, 1.0, 9.0]]), axis=1)
        Tensor([2., 1.], dtype=float32)
    """
    return _quantile(x, 0.5, axis, "linear", keepdims, False, "median")


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                keepdims: bool = False) -> Tensor:
    """:func:`quantile` ignoring NaN (NaN where a slice holds only NaN).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanquantile(cr.Tensor([1.0, float("nan"), 3.0]), 0.5)
        Tensor(2., dtype=float32)
    """
    return _quantile(x, q, axis, method, keepdims, True, "nanquantile")


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear",
                  keepdims: bool = False) -> Tensor:
    """:func:`percentile` ignoring NaN.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanpercentile(cr.Tensor([1.0, float("nan"), 3.0]), 100)
        Tensor(3., dtype=float32)
    """
    return _quantile(x, q, axis, method, keepdims, True, "nanpercentile", 100.0)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """:func:`median` ignoring NaN.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanmedian(cr.Tensor([1.0, float("nan"), 3.0, 4.0]))
        Tensor(3., dtype=float32)
    """
    return _quantile(x, 0.5, axis, "linear", keepdims, True, "nanmedian")


def _valid(x: Any) -> tuple:
    x = as_input(x)
    if raw(x).dtype.kind not in "fc":
        return x, None
    return x, logical_not(isnan(x))


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The sum over ``axis`` treating NaN as 0 (NaN elements get no gradient).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nansum(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(4., dtype=float32)
    """
    x, ok = _valid(x)
    return sum(x if ok is None else where(ok, x, 0.0), axis=axis, keepdims=keepdims)


def _count(ok: Any, x: Any, axis: Any, keepdims: bool) -> Tensor:
    if ok is None:
        ok = np.ones(raw(x).shape, bool)
    return sum(cast(ok, raw(x).dtype if raw(x).dtype.kind == "f" else backend.floatx()),
               axis=axis, keepdims=keepdims)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The mean of the non-NaN elements over ``axis`` (NaN for a slice of only NaN).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanmean(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(2., dtype=float32)
    """
    x, ok = _valid(_float(x))
    total = sum(x if ok is None else where(ok, x, 0.0), axis=axis, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / _count(ok, x, axis, keepdims)


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The variance of the non-NaN elements over ``axis``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanvar(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(1., dtype=float32)
    """
    x, ok = _valid(_float(x))
    xf = x if ok is None else where(ok, x, 0.0)
    m = nanmean(x, axis=axis, keepdims=True)
    m = where(isnan(m), 0.0, m)  # an all-NaN slice: keep its deviations finite
    dev = square(xf - m)
    if ok is not None:
        dev = where(ok, dev, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sum(dev, axis=axis, keepdims=keepdims) / _count(ok, x, axis, keepdims)


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The standard deviation of the non-NaN elements over ``axis``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanstd(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(1., dtype=float32)
    """
    return sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_extreme(x: Any, axis: Any, keepdims: bool, fn: Any, fill: float) -> Tensor:
    from chainrule.ops.statistics import any as _any  # noqa: PLC0415

    x, ok = _valid(x)
    if ok is None:
        return fn(x, axis=axis, keepdims=keepdims)
    y = fn(where(ok, x, fill), axis=axis, keepdims=keepdims)
    return where(_any(ok, axis=axis, keepdims=keepdims), y, np.nan)


def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The maximum ignoring NaN (NaN for a slice of only NaN).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanmax(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(3., dtype=float32)
    """
    return _nan_extreme(x, axis, keepdims, max, -np.inf)


def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The minimum ignoring NaN.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanmin(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(1., dtype=float32)
    """
    return _nan_extreme(x, axis, keepdims, min, np.inf)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """The product treating NaN as 1.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanprod(cr.Tensor([2.0, float("nan"), 3.0]))
        Tensor(6., dtype=float32)
    """
    x, ok = _valid(x)
    return prod(x if ok is None else where(ok, x, 1.0), axis=axis, keepdims=keepdims)


def nancumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The cumulative sum treating NaN as 0.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nancumsum(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor([1., 1., 4.], dtype=float32)
    """
    x, ok = _valid(x)
    return Scan("sum", _index_axis(axis, "nancumsum"), dtype)(
        x if ok is None else where(ok, x, 0.0))


def nancumprod(x: Any, axis: int | None = None, dtype: Any = None) -> Tensor:
    """The cumulative product treating NaN as 1.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nancumprod(cr.Tensor([2.0, float("nan"), 3.0]))
        Tensor([2., 2., 6.], dtype=float32)
    """
    x, ok = _valid(x)
    return Scan("prod", _index_axis(axis, "nancumprod"), dtype)(
        x if ok is None else where(ok, x, 1.0))


class NanArg(Function):
    """Index of the largest (smallest) non-NaN value, -1 for a slice of only NaN; int32."""

    differentiable = False

    def __init__(self, largest, axis, keepdims):
        self.largest, self.axis, self.keepdims = largest, axis, keepdims

    def forward(self, x):
        fn = np.argmax if self.largest else np.argmin
        if x.dtype.kind != "f":
            return fn(x, axis=self.axis, keepdims=self.keepdims).astype(np.int32)
        nan = np.isnan(x)
        filled = np.where(nan, -np.inf if self.largest else np.inf, x)
        idx = fn(filled, axis=self.axis, keepdims=self.keepdims).astype(np.int32)
        return np.where(nan.all(axis=self.axis, keepdims=self.keepdims), np.int32(-1), idx)

    def backward(self, gy):
        return (None,)


def nanargmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the largest non-NaN value along ``axis`` (-1 where all are NaN), int32.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanargmax(cr.Tensor([1.0, float("nan"), 3.0]))
        Tensor(2, dtype=int32)
    """
    return NanArg(True, _index_axis(axis, "nanargmax"), bool(keepdims))(as_input(x))


def nanargmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest non-NaN value along ``axis`` (-1 where all are NaN), int32.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.nanargmin(cr.Tensor([1.0, float("nan"), 0.0]))
        Tensor(2, dtype=int32)
    """
    return NanArg(False, _index_axis(axis, "nanargmin"), bool(keepdims))(as_input(x))


# -- integer ops --------------------------------------------------------------------------------


def _ints(op: str, **named: Any) -> list:
    out = []
    for name, v in named.items():
        v = as_input(v)
        if raw(v).dtype.kind not in "biu":
            raise TypeError(f"{op}: {name} must hold integers or booleans. Received: {name} of "
                            f"dtype {raw(v).dtype}")
        out.append(v)
    return out


def bitwise_and(x: Any, y: Any) -> Tensor:
    """Elementwise bitwise AND of integers or booleans. No gradient.

    Raises:
        TypeError: for float inputs.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bitwise_and(np.array([12]), np.array([10]))
        Tensor([8], dtype=int64)
    """
    return _nograd(np.bitwise_and, *_ints("bitwise_and", x=x, y=y))


def bitwise_or(x: Any, y: Any) -> Tensor:
    """Elementwise bitwise OR.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bitwise_or(np.array([12]), np.array([10]))
        Tensor([14], dtype=int64)
    """
    return _nograd(np.bitwise_or, *_ints("bitwise_or", x=x, y=y))


def bitwise_xor(x: Any, y: Any) -> Tensor:
    """Elementwise bitwise XOR.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bitwise_xor(np.array([12]), np.array([10]))
        Tensor([6], dtype=int64)
    """
    return _nograd(np.bitwise_xor, *_ints("bitwise_xor", x=x, y=y))


def bitwise_invert(x: Any) -> Tensor:
    """Elementwise bitwise NOT (``~x``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bitwise_invert(np.array([0, 5]))
        Tensor([-1, -6], dtype=int64)
    """
    return _nograd(np.invert, *_ints("bitwise_invert", x=x))


bitwise_not = bitwise_invert


def bitwise_left_shift(x: Any, y: Any) -> Tensor:
    """Elementwise ``x << y``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bitwise_left_shift(np.array([1, 3]), np.array([2, 1]))
        Tensor([4, 6], dtype=int64)
    """
    return _nograd(np.left_shift, *_ints("bitwise_left_shift", x=x, y=y))


def bitwise_right_shift(x: Any, y: Any) -> Tensor:
    """Elementwise ``x >> y``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.bitwise_right_shift(np.array([8, 6]), np.array([2, 1]))
        Tensor([2, 3], dtype=int64)
    """
    return _nograd(np.right_shift, *_ints("bitwise_right_shift", x=x, y=y))


left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def gcd(x1: Any, x2: Any) -> Tensor:
    """Elementwise greatest common divisor of integers.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.gcd(np.array([12, 7]), np.array([18, 5]))
        Tensor([6, 1], dtype=int64)
    """
    return _nograd(np.gcd, *_ints("gcd", x1=x1, x2=x2))


def lcm(x1: Any, x2: Any) -> Tensor:
    """Elementwise least common multiple of integers.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.lcm(np.array([4, 3]), np.array([6, 5]))
        Tensor([12, 15], dtype=int64)
    """
    return _nograd(np.lcm, *_ints("lcm", x1=x1, x2=x2))
