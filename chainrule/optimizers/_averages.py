"""In-place moving averages shared by the optimizers' update steps.

Each writes into existing arrays (``out=``) with the operations in the order
Keras computes them, so the results round as Keras's do. ``tmp`` is a scratch
array of ``avg``'s shape; it may be ``value`` itself, which is then overwritten.
"""

from __future__ import annotations

from typing import Any

__all__ = ["move_toward", "decay_toward"]


def move_toward(xp: Any, avg: Any, value: Any, rate: Any, tmp: Any) -> None:
    """``avg += (value - avg) * rate`` in place: the Adam family's moment update.

    Args:
        xp: the array module (NumPy or CuPy).
        avg: the running average, updated in place.
        value: the new value (e.g. the gradient, or its square).
        rate: ``1 - beta`` in the arrays' dtype.
        tmp: a scratch array of ``avg``'s shape (may be ``value``).

    Example:
        >>> import numpy as np
        >>> m, g = np.array([1.0, 2.0]), np.array([3.0, 0.0])
        >>> move_toward(np, m, g, 0.5, np.empty(2))
        >>> m
        array([2., 1.])
    """
    xp.subtract(value, avg, out=tmp)
    xp.multiply(tmp, rate, out=tmp)
    xp.add(avg, tmp, out=avg)


def decay_toward(xp: Any, avg: Any, value: Any, rho: Any, one_minus_rho: Any, tmp: Any) -> None:
    """``avg = avg * rho + value * (1 - rho)`` in place: RMSprop's, Adadelta's and Lion's form.

    Args:
        xp: the array module (NumPy or CuPy).
        avg: the running average, updated in place.
        value: the new value (e.g. the gradient, or its square).
        rho: the decay in the arrays' dtype.
        one_minus_rho: ``1 - rho`` in the arrays' dtype.
        tmp: a scratch array of ``avg``'s shape (may be ``value``).

    Example:
        >>> import numpy as np
        >>> v, g = np.array([1.0, 2.0]), np.array([3.0, 0.0])
        >>> decay_toward(np, v, g, 0.5, 0.5, np.empty(2))
        >>> v
        array([2., 1.])
    """
    xp.multiply(avg, rho, out=avg)
    xp.multiply(value, one_minus_rho, out=tmp)
    xp.add(avg, tmp, out=avg)
