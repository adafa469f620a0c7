"""Fused optimizer updates, compiled with Numba when the ``fast`` extra is installed.

NumPy runs Adam's update as a dozen passes over the parameters (one ufunc per
operation). The kernel here does the same operations, in the same order and
the same precision, in one pass: each element reads its gradient, moments and
weight once and writes them once. IEEE arithmetic makes the result
bit-identical to the NumPy passes (tests compare them); the kernel is compiled
without fast-math, so no operation is reordered or contracted.

It is used when Numba can be imported and :func:`chainrule.config.set_fused_kernels`
has not turned it off; otherwise the optimizers use NumPy alone. One difference
besides speed: NumPy warns (``RuntimeWarning: overflow encountered``) when a
huge gradient overflows the second moment to inf; the kernel computes the same
inf silently (``fit`` still stops on a non-finite loss).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["adam_kernel", "fused_kernels", "set_fused_kernels"]

_lock = threading.Lock()
_enabled: bool | None = None  # None: on when numba is available, unless CHAINRULE_FUSED=0
_kernels: dict[str, Any] = {}
_unavailable = False


def set_fused_kernels(enabled: bool | None) -> None:
    """Turn the compiled (Numba) optimizer kernels on or off.

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


def adam_kernel() -> Callable[..., None] | None:
    """The fused Adam update, or None when the kernels are off or Numba is missing.

    The kernel is ``kernel(g, m, v, w, one_minus_beta_1, one_minus_beta_2,
    epsilon, alpha)`` on 1-D contiguous arrays of one dtype and scalars of that
    dtype; it updates ``m``, ``v`` and ``w`` in place exactly as
    :meth:`chainrule.optimizers.Adam.update_step` does. It releases the GIL.

    Returns:
        The compiled function, or None.
    """
    if not fused_kernels():
        return None
    kernel = _kernels.get("adam")
    if kernel is None:
        with _lock:
            kernel = _kernels.get("adam")
            if kernel is None:
                kernel = _kernels["adam"] = _compile_adam(_numba())
    return kernel


def _adam(g: Any, m: Any, v: Any, w: Any, b1c: Any, b2c: Any, eps: Any, alpha: Any) -> None:
    # Adam.update_step's operations, element by element (compiled by _compile_adam)
    for i in range(w.size):
        gi = g[i]
        mi = m[i]
        mi = mi + (gi - mi) * b1c
        vi = v[i]
        vi = vi + (gi * gi - vi) * b2c
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - (mi * alpha) / (np.sqrt(vi) + eps)


def _compile_adam(numba: Any) -> Callable[..., None]:
    with warnings.catch_warnings():  # a read-only install cannot cache; compiling is enough
        warnings.simplefilter("ignore", getattr(numba, "NumbaWarning", Warning))
        try:
            return numba.njit(cache=True, nogil=True, error_model="numpy")(_adam)
        except Exception:  # noqa: BLE001 - no usable cache directory
            return numba.njit(nogil=True, error_model="numpy")(_adam)
