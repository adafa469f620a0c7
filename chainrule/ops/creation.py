"""Tensors made from shapes and values: ``ones``, ``zeros``, ``full``, ``arange``, ``eye``, ...

They hold constants, not results of ops, and carry no gradient. Inside a
layer's ``call`` they are fine as long as their shape comes from ``ops.shape``
(static for a captured step) and not from the batch's values.
"""

from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Tensor
from chainrule.ops.core import as_input

__all__ = ["ones", "zeros", "full", "arange", "eye", "identity", "ones_like", "zeros_like",
           "full_like", "linspace"]


def _shape_arg(shape: Any, op: str) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    try:
        dims = tuple(int(n) for n in shape)
        ok = all(n >= 0 for n in dims) and not builtins.any(isinstance(n, bool) for n in shape)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{op}: shape must be a tuple of non-negative integers. "
                         f"Received: shape={shape!r}")
    return dims


def _dtype(dtype: Any, default: Any = None) -> np.dtype:
    if dtype is None:
        return np.dtype(default or backend.floatx())
    try:
        return np.dtype(dtype)
    except TypeError:
        raise ValueError(f"Unknown dtype. Received: dtype={dtype!r}") from None


def _make(arr: Any) -> Tensor:
    return Tensor(backend.as_array(arr))


def _host(v: Any) -> Any:
    """A value on the host; a Tensor's through ``numpy()``, so a captured step that builds a
    constant from a computed tensor's value is refused rather than replayed stale."""
    return v.numpy() if isinstance(v, Tensor) else backend.to_numpy(as_input(v))


def ones(shape: Sequence[int] | int, dtype: Any = None) -> Tensor:
    """A tensor of ones.

    Args:
        shape: the shape, a tuple of ints (or one int).
        dtype: default ``floatx``.

    Returns:
        A Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ones((2,))
        Tensor([1., 1.], dtype=float32)
    """
    return _make(np.ones(_shape_arg(shape, "ones"), dtype=_dtype(dtype)))


def zeros(shape: Sequence[int] | int, dtype: Any = None) -> Tensor:
    """A tensor of zeros (see :func:`ones`).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.zeros((1, 2), dtype="int32")
        Tensor([[0, 0]], dtype=int32)
    """
    return _make(np.zeros(_shape_arg(shape, "zeros"), dtype=_dtype(dtype)))


def _fill_dtype(fill_value: Any, dtype: Any) -> np.dtype:
    if dtype is not None:
        return _dtype(dtype)
    if isinstance(fill_value, bool):
        return np.dtype(bool)
    if isinstance(fill_value, (int, np.integer)):
        return np.dtype("int32") if isinstance(fill_value, int) else np.dtype(fill_value.dtype)
    v = fill_value.data if isinstance(fill_value, Tensor) else fill_value
    if hasattr(v, "dtype"):
        return np.dtype(v.dtype)
    return _dtype(None)


def full(shape: Sequence[int] | int, fill_value: Any, dtype: Any = None) -> Tensor:
    """A tensor filled with ``fill_value`` (broadcast when it is an array).

    Args:
        shape: the shape.
        fill_value: a number or an array broadcastable to ``shape``.
        dtype: default from ``fill_value`` (Python ints give int32, floats ``floatx``).

    Returns:
        A Tensor.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.full((2,), 7.0)
        Tensor([7., 7.], dtype=float32)
    """
    dims = _shape_arg(shape, "full")
    return _make(np.full(dims, _host(fill_value), dtype=_fill_dtype(fill_value, dtype)))


def _like(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else as_input(x)


def ones_like(x: Any, dtype: Any = None) -> Tensor:
    """Ones with ``x``'s shape and (by default) dtype.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.ones_like(cr.Tensor([[1.0, 2.0]]))
        Tensor([[1., 1.]], dtype=float32)
    """
    a = _like(x)
    return _make(np.ones(np.shape(a), dtype=_dtype(dtype, a.dtype)))


def zeros_like(x: Any, dtype: Any = None) -> Tensor:
    """Zeros with ``x``'s shape and (by default) dtype.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.zeros_like(np.ones(2, dtype="int64"))
        Tensor([0, 0], dtype=int64)
    """
    a = _like(x)
    return _make(np.zeros(np.shape(a), dtype=_dtype(dtype, a.dtype)))


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Tensor:
    """``fill_value`` with ``x``'s shape and (by default) dtype.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.full_like(cr.Tensor([1.0, 2.0]), 0.5)
        Tensor([0.5, 0.5], dtype=float32)
    """
    a = _like(x)
    return _make(np.full(np.shape(a), _host(fill_value), dtype=_dtype(dtype, a.dtype)))


def _scalar_dtype(v: Any) -> Any:
    if isinstance(v, bool):
        return np.dtype("int32")
    if isinstance(v, int):
        return np.dtype("int32")
    if isinstance(v, float):
        return np.dtype(backend.floatx())
    return np.asarray(v).dtype


def arange(start: Any, stop: Any = None, step: Any = None, dtype: Any = None) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (NumPy's ``arange``).

    Args:
        start: the first value, or the end when ``stop`` is None.
        stop: the end (exclusive).
        step: the spacing (default 1).
        dtype: default from the arguments: int32 for Python ints, ``floatx`` for floats.

    Returns:
        A 1-D Tensor.

    Raises:
        ValueError: when ``step`` is 0.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.arange(3)
        Tensor([0, 1, 2], dtype=int32)
        >>> cr.ops.arange(0.0, 1.0, 0.5)
        Tensor([0. , 0.5], dtype=float32)
    """
    if dtype is None:
        dtype = np.result_type(*[_scalar_dtype(v) for v in (start, stop, step) if v is not None])
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if step == 0:
        raise ValueError(f"arange: step must not be 0. Received: step={step!r}")
    return _make(np.arange(start, stop, step, dtype=_dtype(dtype)))


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = None) -> Tensor:
    """A 2-D tensor with ones on the ``k``-th diagonal and zeros elsewhere.

    Args:
        N: rows.
        M: columns (default ``N``).
        k: the diagonal (0 the main one, > 0 above it).
        dtype: default ``floatx``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.eye(2)
        Tensor([[1., 0.],
                [0., 1.]], dtype=float32)
    """
    _shape_arg((N,) if M is None else (N, M), "eye")
    return _make(np.eye(int(N), None if M is None else int(M), int(k), dtype=_dtype(dtype)))


def identity(n: int, dtype: Any = None) -> Tensor:
    """The ``n`` by ``n`` identity matrix (see :func:`eye`).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.identity(1)
        Tensor([[1.]], dtype=float32)
    """
    return eye(n, dtype=dtype)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (NumPy's ``linspace``).

    Args:
        start: the first value (a number or array).
        stop: the last value (included when ``endpoint``).
        num: how many values (>= 0).
        endpoint: include ``stop``.
        retstep: also return the spacing.
        dtype: default ``floatx``.
        axis: where the new axis goes when ``start``/``stop`` are arrays.

    Returns:
        A Tensor, or ``(Tensor, step)`` when ``retstep``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.linspace(0.0, 1.0, 3)
        Tensor([0. , 0.5, 1. ], dtype=float32)
    """
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"linspace: num must be a non-negative integer. Received: num={num!r}")
    a, b = _host(start), _host(stop)
    out = np.linspace(a, b, int(num), endpoint=endpoint, retstep=retstep, axis=axis)
    if retstep:
        values, step = out
        return _make(values.astype(_dtype(dtype))), step
    return _make(out.astype(_dtype(dtype)))
