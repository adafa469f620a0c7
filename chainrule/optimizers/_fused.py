"""Fused optimizer updates, compiled with Numba when the ``fast`` extra is installed.

NumPy runs an optimizer's update as several passes over the parameters (one
ufunc per operation: a dozen for Adam). The kernels here (Adam, SGD, RMSprop,
Adagrad) do the same operations, in the same order and the same precision, in
one pass: each element reads its gradient, state and weight once and writes
them once. IEEE arithmetic makes the result
bit-identical to the NumPy passes (tests compare them); the kernels are compiled
without fast-math, so no operation is reordered or contracted.

It is used when Numba can be imported and :func:`chainrule.config.set_fused_kernels`
has not turned it off (the same switch serves the convolution and recurrent kernels
of ``chainrule.ops``); otherwise the optimizers use NumPy alone. One difference
besides speed: NumPy warns (``RuntimeWarning: overflow encountered``) when a
huge gradient overflows a squared term to inf; a kernel computes the same
inf silently (``fit`` still stops on a non-finite loss).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["kernel", "adam_kernel", "fused_kernels", "set_fused_kernels"]

_lock = threading.Lock()
_enabled: bool | None = None  # None: on when numba is available, unless CHAINRULE_FUSED=0
_kernels: dict[str, Any] = {}
_unavailable = False


def set_fused_kernels(enabled: bool | None) -> None:
    """Turn the compiled (Numba) kernels on or off: the optimizers' fused updates, the
    convolution and pooling loops (``ops/_conv_kernels.py``) and the LSTM/GRU step
    arithmetic (``ops/_rnn_kernels.py``). Each is bit-identical to its NumPy path.

    Args:
        enabled: True or False; None for the default (on when Numba is
            installed, unless the environment sets ``CHAINRULE_FUSED=0``).

    Raises:
        ValueError: if ``enabled`` is not a bool or None.

    Example:
        >>> import chainrule
        >>> chainrule.config.set_fused_kernels(False)   # NumPy passes only
        >>> chainrule.config.fused_kernels()
        False
        >>> chainrule.config.set_fused_kernels(None)
    """
    global _enabled
    if enabled is not None and not isinstance(enabled, bool):
        raise ValueError(
            f"enabled must be True, False or None. Received: enabled={enabled!r}")
    _enabled = enabled


def fused_kernels() -> bool:
    """Return whether optimizers use the compiled kernels.

    Returns:
        True when the kernels are enabled and Numba can be imported.

    Example:
        >>> isinstance(fused_kernels(), bool)
        True
    """
    enabled = _enabled if _enabled is not None else os.environ.get("CHAINRULE_FUSED", "1") != "0"
    return enabled and _numba() is not None


def _numba() -> Any:
    global _unavailable
    if _unavailable:
        return None
    try:
        import numba  # noqa: PLC0415
    except ImportError:
        _unavailable = True
        return None
    return numba


def kernel(name: str) -> Callable[..., None] | None:
    """The fused update ``name``, or None when the kernels are off or Numba is missing.

    Each kernel takes 1-D contiguous arrays of one dtype and scalars of that
    dtype, updates the weight and state arrays in place exactly as the
    optimizer's ``update_step`` does, and releases the GIL. The kernels:

    - ``'adam'``: ``(g, w, m, v, 1 - beta_1, 1 - beta_2, epsilon, alpha)``;
    - ``'sgd'``: ``(g, w, m, lr, momentum, has_momentum, nesterov)``;
    - ``'rmsprop'``: ``(g, w, v, mom, avg, rho, 1 - rho, epsilon, momentum, lr,
      has_momentum, centered)``;
    - ``'adagrad'``: ``(g, w, acc, lr, epsilon)``.

    Arrays a flag turns off are never read (pass any array of the dtype).

    Args:
        name: one of the kernels above.

    Returns:
        The compiled function, or None.
    """
    if not fused_kernels():
        return None
    compiled = _kernels.get(name)
    if compiled is None:
        with _lock:
            compiled = _kernels.get(name)
            if compiled is None:
                compiled = _kernels[name] = _compile(_numba(), _PYTHON[name])
    return compiled


def adam_kernel() -> Callable[..., None] | None:
    """The fused Adam update (see :func:`kernel`), or None."""
    return kernel("adam")


def _adam(g: Any, w: Any, m: Any, v: Any, b1c: Any, b2c: Any, eps: Any, alpha: Any) -> None:
    # Adam.update_step's operations, element by element
    for i in range(w.size):
        gi = g[i]
        mi = m[i]
        mi = mi + (gi - mi) * b1c
        vi = v[i]
        vi = vi + (gi * gi - vi) * b2c
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - (mi * alpha) / (np.sqrt(vi) + eps)


def _sgd(g: Any, w: Any, m: Any, lr: Any, momentum: Any, has_momentum: bool, nesterov: bool) -> None:
    # SGD.update_step's operations, element by element
    for i in range(w.size):
        step = g[i] * lr
        if not has_momentum:
            w[i] = w[i] - step
            continue
        mi = m[i] * momentum
        mi = mi - step
        m[i] = mi
        if nesterov:
            ahead = mi * momentum
            ahead = ahead - step
            w[i] = w[i] + ahead
        else:
            w[i] = w[i] + mi


def _rmsprop(g: Any, w: Any, v: Any, mom: Any, avg: Any, rho: Any, one_minus_rho: Any, eps: Any,
             momentum: Any, lr: Any, has_momentum: bool, centered: bool) -> None:
    # RMSprop.update_step's operations, element by element
    for i in range(w.size):
        gi = g[i]
        vi = v[i] * rho
        s0 = gi * gi
        s0 = s0 * one_minus_rho
        vi = vi + s0
        v[i] = vi
        if centered:
            ai = avg[i] * rho
            s0 = gi * one_minus_rho
            ai = ai + s0
            avg[i] = ai
            s0 = ai * ai
            s0 = vi - s0
            s0 = s0 + eps
        else:
            s0 = vi + eps
        s0 = np.sqrt(s0)
        inc = gi * lr
        inc = inc / s0
        if has_momentum:
            mo = mom[i] * momentum
            mo = mo + inc
            mom[i] = mo
            w[i] = w[i] - mo
        else:
            w[i] = w[i] - inc


def _adagrad(g: Any, w: Any, acc: Any, lr: Any, eps: Any) -> None:
    # Adagrad.update_step's operations, element by element
    for i in range(w.size):
        gi = g[i]
        s0 = gi * gi
        ai = acc[i] + s0
        acc[i] = ai
        s0 = ai + eps
        s0 = np.sqrt(s0)
        s1 = gi * lr
        s1 = s1 / s0
        w[i] = w[i] - s1


_PYTHON: dict[str, Callable[..., None]] = {
    "adam": _adam, "sgd": _sgd, "rmsprop": _rmsprop, "adagrad": _adagrad}


def _compile(numba: Any, fn: Callable[..., None]) -> Callable[..., None]:
    with warnings.catch_warnings():  # a read-only install cannot cache; compiling is enough
        warnings.simplefilter("ignore", getattr(numba, "NumbaWarning", Warning))
        try:
            return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
        except Exception:  # noqa: BLE001 - no usable cache directory
            return numba.njit(nogil=True, error_model="numpy")(fn)
