"""The one module that knows which array library runs chainrule.

NumPy is the default. CuPy runs the same code on an NVIDIA GPU when asked for
with :func:`set_backend` or the environment variable ``CHAINRULE_BACKEND=cupy``.
Everything else in chainrule asks this module for arrays, dtypes and random
numbers; it imports nothing of chainrule itself.

Example:
    >>> from chainrule import backend
    >>> backend.get_backend()
    'numpy'
    >>> backend.floatx()
    'float32'
"""

from __future__ import annotations

import math
import os
import random as _pyrandom
from types import ModuleType
from typing import Any

import numpy as np

__all__ = [
    "xp",
    "get_backend",
    "set_backend",
    "floatx",
    "set_floatx",
    "epsilon",
    "set_epsilon",
    "rng",
    "set_random_seed",
    "get_random_state",
    "set_random_state",
    "as_array",
    "to_numpy",
    "is_array",
    "all_finite",
]

_BACKENDS = ("numpy", "cupy")
_FLOAT_TYPES = ("float16", "float32", "float64")

#: The active array module (``numpy`` or ``cupy``). Read it as ``backend.xp``.
xp: ModuleType = np
_name = "numpy"
_floatx = "float32"
_epsilon = 1e-7
_rng = np.random.default_rng()


def get_backend() -> str:
    """Return the name of the active array library, ``'numpy'`` or ``'cupy'``.

    Returns:
        The backend name.
    """
    return _name


def set_backend(name: str) -> None:
    """Select the array library chainrule computes with.

    Tensors created before the switch keep the arrays they hold; create models
    after choosing the backend.

    Args:
        name: ``"numpy"`` or ``"cupy"``.

    Raises:
        ValueError: if ``name`` is not a known backend.
        ImportError: if ``"cupy"`` is asked for and CuPy is not installed.

    Example:
        >>> from chainrule import backend
        >>> backend.set_backend("numpy")
    """
    global xp, _name
    if not isinstance(name, str) or name.lower() not in _BACKENDS:
        raise ValueError(
            f"Unknown backend. Expected one of {', '.join(_BACKENDS)}. Received: name={name!r}"
        )
    name = name.lower()
    if name == "cupy":
        try:
            import cupy  # noqa: PLC0415
        except ImportError as e:  # pragma: no cover - depends on the machine
            raise ImportError(
                "The 'cupy' backend needs CuPy, which is not installed. Install the CuPy "
                "package matching your CUDA version (e.g. `pip install cupy-cuda12x`), or "
                "use backend 'numpy'. Received: name='cupy'"
            ) from e
        xp, _name = cupy, "cupy"
    else:
        xp, _name = np, "numpy"


def floatx() -> str:
    """Return the default float type, as a string (Keras's float policy).

    Returns:
        ``'float16'``, ``'float32'`` (the default) or ``'float64'``.
    """
    return _floatx


def set_floatx(value: str) -> None:
    """Set the default float type used for new tensors, weights and data.

    Args:
        value: ``"float16"``, ``"float32"`` or ``"float64"``.

    Raises:
        ValueError: for any other value.

    Example:
        >>> from chainrule import backend
        >>> backend.set_floatx("float64"); backend.floatx()
        'float64'
        >>> backend.set_floatx("float32")
    """
    global _floatx
    if str(value) not in _FLOAT_TYPES:
        raise ValueError(
            f"Unknown floatx type. Expected one of {', '.join(_FLOAT_TYPES)}. "
            f"Received: value={value!r}"
        )
    _floatx = str(value)


def epsilon() -> float:
    """Return the fuzz factor used to keep logs and divisions finite (Keras: 1e-7)."""
    return _epsilon


def set_epsilon(value: float) -> None:
    """Set the fuzz factor returned by :func:`epsilon`.

    Args:
        value: a positive float.
    """
    global _epsilon
    if not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"epsilon must be a positive number. Received: value={value!r}")
    _epsilon = float(value)


def rng() -> np.random.Generator:
    """Return chainrule's random generator (NumPy, on the host).

    Every random draw of chainrule (initializers, dropout, shuffling) comes from
    this generator, so :func:`set_random_seed` makes them all reproducible.
    Random arrays are drawn on the host and moved to the device, so NumPy and
    CuPy runs with the same seed start from the same weights.
    """
    return _rng


def set_random_seed(seed: int) -> None:
    """Seed chainrule's generator, NumPy's global one and Python's ``random``.

    Args:
        seed: a non-negative integer.

    Raises:
        ValueError: if ``seed`` is not a non-negative integer.
    """
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer. Received: seed={seed!r}")
    seed = int(seed)
    _rng = np.random.default_rng(seed)
    np.random.seed(seed % (2**32))
    _pyrandom.seed(seed)
    if _name == "cupy":  # pragma: no cover - GPU only
        xp.random.seed(seed % (2**32))


def get_random_state() -> dict:
    """Return the state of chainrule's generator (for checkpoints).

    Returns:
        A JSON-serializable dict; pass it to :func:`set_random_state`.
    """
    return _rng.bit_generator.state


def set_random_state(state: dict) -> None:
    """Restore a state returned by :func:`get_random_state`."""
    bg = np.random.PCG64()
    bg.state = state
    global _rng
    _rng = np.random.Generator(bg)


def is_array(x: Any) -> bool:
    """Return True when ``x`` is an array of the active backend."""
    return isinstance(x, xp.ndarray)


def as_array(data: Any, dtype: Any = None) -> Any:
    """Convert ``data`` to an array of the active backend.

    Python floats and lists of floats become :func:`floatx`; arrays keep their
    dtype unless ``dtype`` is given.

    Args:
        data: an array, a scalar or a nested list.
        dtype: optional dtype to cast to.

    Returns:
        A backend array.
    """
    if isinstance(data, xp.ndarray):
        return data if dtype is None or data.dtype == dtype else data.astype(dtype)
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        arr = xp.asarray(data)
    else:
        arr = xp.asarray(np.asarray(data))
        if dtype is None and arr.dtype.kind == "f":
            arr = arr.astype(_floatx)
    if dtype is not None and arr.dtype != dtype:
        arr = arr.astype(dtype)
    return arr


def all_finite(a: Any) -> bool:
    """Return whether every element of the float array ``a`` is finite (no NaN, no inf).

    One dot product of ``a`` with itself over its flat view when ``a`` is a
    contiguous float32 or float64 array (BLAS reads the array once and writes
    nothing: about five times faster than a float64 sum on large data); a NaN
    or an infinity anywhere makes it non-finite. Only when it is not (or for
    other arrays) an element-wise check decides, since squares of large finite
    values may overflow.

    Args:
        a: an array of the active backend (any shape; integers are always finite).

    Returns:
        True when no element is NaN or infinite.

    Example:
        >>> import numpy as np
        >>> all_finite(np.ones((2, 3), np.float32)), all_finite(np.array([1.0, np.nan]))
        (True, False)
        >>> all_finite(np.array([3e38, 3e38], np.float32))  # the squares overflow; still finite
        True
    """
    if a.dtype.kind not in "fc":
        return True
    mod = np if isinstance(a, np.ndarray) else xp
    if a.dtype in (np.float32, np.float64) and a.flags.c_contiguous and a.size:
        flat = a.reshape(-1)
        if math.isfinite(mod.vdot(flat, flat)):
            return True
    return bool(mod.isfinite(a).all())


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array on the host (copying from the GPU if needed)."""
    if _name == "cupy" and isinstance(x, xp.ndarray):  # pragma: no cover - GPU only
        return xp.asnumpy(x)
    return np.asarray(x)


_env = os.environ.get("CHAINRULE_BACKEND")
if _env:
    set_backend(_env)
_envf = os.environ.get("CHAINRULE_FLOATX")
if _envf:
    set_floatx(_envf)


# Keras 3's keras.backend names beyond the array library (dtype rules, image layout,
# the session's layer names). Layers live above this module: those names import them late.
from chainrule.backend.dtypes import (  # noqa: E402
    is_float_dtype,
    is_int_dtype,
    result_type,
    standardize_dtype,
)
from chainrule.backend.settings import image_data_format, set_image_data_format  # noqa: E402


def backend() -> str:
    """The name of the Keras backend chainrule stands for: ``'numpy'``.

    chainrule computes with NumPy's API (NumPy itself, or CuPy on a GPU, see
    :func:`get_backend`), so code that checks ``keras.backend.backend()`` takes its NumPy
    path.

    Example:
        >>> backend()
        'numpy'
    """
    return "numpy"


from chainrule.backend.session import clear_session, get_uid, is_keras_tensor  # noqa: E402

__all__ += ["backend", "clear_session", "get_uid", "is_keras_tensor", "standardize_dtype",
            "result_type", "is_float_dtype", "is_int_dtype", "image_data_format",
            "set_image_data_format"]
