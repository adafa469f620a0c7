"""Keras 3's dtype names and type promotion: ``standardize_dtype``, ``result_type``.

The promotion lattice is Keras 3's (that of ``jax.numpy`` with weak Python types).
chainrule computes in 64 bits when asked, so 64-bit results stay 64-bit and a Python
``int`` is ``int64``, as Keras on its TensorFlow backend has them (Keras's JAX, Torch
and NumPy backends narrow 64-bit results to 32 bits).

Example:
    >>> result_type("int32", "float16"), result_type("int8", "uint8"), result_type("bool", int)
    ('float16', 'int16', 'int32')
"""

from __future__ import annotations

import functools
from typing import Any

__all__ = ["standardize_dtype", "result_type", "is_float_dtype", "is_int_dtype"]

_INT = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
_FLOAT8 = ("float8_e4m3fn", "float8_e5m2")
ALLOWED_DTYPES = ("float16", "float32", "float64", *_INT, "bfloat16", "bool", "string",
                  *_FLOAT8, "complex64", "complex128")
_PYTHON = {bool: "bool", int: "int64", float: "float32", str: "string", "int": "int64",
           complex: "complex128"}

# each type and the types immediately above it ("int" and "float" are Python's weak types)
_LATTICE = {
    "bool": ["int"], "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"], "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"],
    "complex64": ["complex128"], "complex128": [],
}


def _upper_bounds() -> dict[str, set[str]]:
    ub = {n: {n} for n in _LATTICE}
    for n in _LATTICE:
        while True:
            more = set().union(*(_LATTICE[b] for b in ub[n]))
            if more <= ub[n]:
                break
            ub[n] |= more
    return ub


_UB = _upper_bounds()


def standardize_dtype(dtype: Any) -> str:
    """Keras's name of a dtype: ``np.float32`` → ``'float32'``, ``int`` → ``'int64'``.

    Args:
        dtype: a dtype name, a NumPy dtype or scalar type, a Python type, or None
            (the :func:`~chainrule.backend.floatx`).

    Returns:
        One of Keras's dtype names.

    Raises:
        ValueError: for anything else.

    Example:
        >>> import numpy as np
        >>> standardize_dtype(np.float64), standardize_dtype(None), standardize_dtype(bool)
        ('float64', 'float32', 'bool')
    """
    if dtype is None:
        from chainrule.backend import floatx  # noqa: PLC0415

        return floatx()
    try:
        dtype = _PYTHON.get(dtype, dtype)
    except TypeError:  # unhashable
        pass
    if hasattr(dtype, "name") and isinstance(dtype.name, str):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: expected one of {', '.join(ALLOWED_DTYPES)}. "
                         f"Received: dtype={dtype!r}")
    return dtype


@functools.lru_cache(512)
def _least_upper_bound(*nodes: str) -> str:
    bounds = set.intersection(*(_UB[n] for n in set(nodes)))
    lub = (bounds & set(nodes)) or {c for c in bounds if bounds <= _UB[c]}
    if len(lub) != 1:
        raise ValueError(f"Input dtypes {nodes} have no available implicit dtype promotion "
                         "path. Try explicitly casting inputs to the desired output type. "
                         f"Received: dtypes={nodes}")
    return lub.pop()


def _weak(dtype: str) -> str:
    if dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return kind if kind != "complex" else "complex64"
    raise ValueError(f"Invalid dtype: {dtype!r} cannot be a Python scalar type. "
                     f"Received: dtype={dtype!r}")


def result_type(*dtypes: Any) -> str:
    """The dtype Keras 3's type promotion gives ``dtypes`` combined.

    Python ``int``/``float`` are weak: ``result_type("uint8", int)`` is ``'uint8'``.
    ``None`` stands for the float type :func:`~chainrule.backend.floatx`; no argument
    gives it too.

    Args:
        *dtypes: dtypes (anything :func:`standardize_dtype` accepts).

    Returns:
        The promoted dtype's name.

    Raises:
        ValueError: for a float8 type, an unknown dtype, or types with no promotion.

    Example:
        >>> result_type("int32", "float32"), result_type("uint8", int), result_type(int, float)
        ('float32', 'uint8', 'float32')
    """
    from chainrule.backend import floatx  # noqa: PLC0415

    if not dtypes:
        return floatx()
    for d in dtypes:
        if isinstance(d, str) and d in _FLOAT8:
            raise ValueError("There is no implicit conversions from float8 dtypes to others. "
                             f"Cast explicitly. Received: dtypes={dtypes}")
    names, weak = [], []
    for d in dtypes:
        d = floatx() if d is None else d
        weak.append(d is int or d is float)
        names.append(standardize_dtype(d))
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*set(names)), True
    else:
        out = _least_upper_bound(*{_weak(n) if w else n for n, w in zip(names, weak)})
        out_weak = out in ("int", "float")
    if out != "bool" and out_weak:  # a weak type takes floatx's precision
        bits = floatx()[-2:]
        out = {"b": "bool", "i": f"int{bits}", "u": f"uint{bits}"}.get(
            "f" if out == "bfloat16" else out[:1], f"float{bits}")
    return out


def is_float_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a float type (bfloat16 included).

    Example:
        >>> is_float_dtype("float16"), is_float_dtype(int)
        (True, False)
    """
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype: Any) -> bool:
    """Whether ``dtype`` is a signed or unsigned integer type (not bool).

    Example:
        >>> is_int_dtype("uint8"), is_int_dtype(bool)
        (True, False)
    """
    return standardize_dtype(dtype).startswith(("int", "uint"))
