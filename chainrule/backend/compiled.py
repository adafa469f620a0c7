"""The switch and the compiler of chainrule's optional Numba kernels (the ``fast`` extra).

Optimizers (``optimizers/_fused.py``), convolution and pooling (``ops/_conv_kernels.py``) and
recurrent cells (``ops/_rnn_kernels.py``) keep compiled loops beside their NumPy paths, each
bit-identical to it; one switch turns them all on or off
(:func:`chainrule.config.set_fused_kernels`, or ``CHAINRULE_FUSED=0``), and one function
compiles them with the same settings.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["fused_kernels", "set_fused_kernels", "numba_module", "compile_kernel"]

_enabled: bool | None = None  # None: on when numba is available, unless CHAINRULE_FUSED=0
_unavailable = False
_numba: Any = None  # the module, once imported
_environment = True  # CHAINRULE_FUSED != "0", read at import (see _read_environment)


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
    """Return whether the compiled kernels are used (optimizers, convolutions, recurrent cells).

    Returns:
        True when the kernels are enabled and Numba can be imported.

    Example:
        >>> isinstance(fused_kernels(), bool)
        True
    """
    enabled = _enabled if _enabled is not None else _environment
    return enabled and numba_module() is not None


def _read_environment() -> bool:
    """``CHAINRULE_FUSED`` as the default of the switch: read once, when chainrule is imported
    (as ``CHAINRULE_BACKEND`` and ``CHAINRULE_FLOATX`` are), not on every step."""
    global _environment
    _environment = os.environ.get("CHAINRULE_FUSED", "1") != "0"
    return _environment


def numba_module() -> Any:
    """The ``numba`` module, or None where it cannot be imported (looked up once)."""
    global _unavailable, _numba
    if _numba is not None or _unavailable:
        return _numba
    try:
        import numba  # noqa: PLC0415
    except ImportError:
        _unavailable = True
        return None
    _numba = numba
    return numba


def compile_kernel(fn: Callable[..., Any], numba: Any = None) -> Callable[..., Any]:
    """``fn`` compiled by Numba as every chainrule kernel is: no fast-math (so nothing is
    reordered or contracted into FMAs and results stay bit-identical to NumPy's), the GIL
    released, NumPy's error model, cached on disk where the install allows.

    Args:
        fn: a Python function of arrays and scalars, written for Numba's nopython mode.
        numba: the numba module (default: :func:`numba_module`).

    Returns:
        The compiled function.
    """
    numba = numba or numba_module()
    with warnings.catch_warnings():  # a read-only install cannot cache; compiling is enough
        warnings.simplefilter("ignore", getattr(numba, "NumbaWarning", Warning))
        try:
            return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
        except Exception:  # noqa: BLE001 - no usable cache directory
            return numba.njit(nogil=True, error_model="numpy")(fn)


_read_environment()
