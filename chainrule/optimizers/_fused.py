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

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.backend.compiled import compile_kernel, fused_kernels, set_fused_kernels

__all__ = ["kernel", "adam_kernel", "fused_kernels", "set_fused_kernels"]

_lock = threading.Lock()
_kernels: dict[str, Any] = {}


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
                compiled = _kernels[name] = compile_kernel(_PYTHON[name])
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
