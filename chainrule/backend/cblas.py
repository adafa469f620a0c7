"""NumPy's own matrix product, callable from compiled (Numba) kernels.

A compiled kernel that runs a whole recurrent sequence in one call still needs one matrix
product per time step. Calling back into NumPy for it would cost the Python round trip the
kernel exists to avoid, and Numba's ``np.dot`` needs SciPy's copy of BLAS. NumPy itself is
linked against a BLAS (OpenBLAS in the wheels) whose C interface, ``cblas_?gemm``, the kernel
can call directly: the same library and the same call as ``np.matmul`` makes for C-contiguous
operands, so the products come out as NumPy's do.

:func:`gemm` finds that function once, by name, in the libraries NumPy's core module loads
(the wheels' OpenBLAS exports it as ``scipy_cblas_sgemm64_``, with 64-bit integers; other builds
as ``cblas_sgemm``), checks it on a small product against ``np.matmul``, and returns its
address and integer type, or None where it cannot be found (then the kernels are not used).
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any

import numpy as np

__all__ = ["gemm"]

#: Candidate symbol patterns (``{t}`` is ``s`` or ``d``) and the integer type each one takes.
_NAMES = (("scipy_cblas_{t}gemm64_", np.int64), ("cblas_{t}gemm64_", np.int64),
          ("scipy_cblas_{t}gemm", np.int32), ("cblas_{t}gemm", np.int32))
#: CBLAS enum values: row-major storage, no transposition.
ROW_MAJOR, NO_TRANS = 101, 111

_lock = threading.Lock()
_found: dict = {}


def _core_library() -> Any:
    try:
        from numpy._core import _multiarray_umath as core  # noqa: PLC0415 - NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core import _multiarray_umath as core  # noqa: PLC0415
    return ctypes.CDLL(core.__file__)


def _lookup(dtype: np.dtype) -> tuple[int, np.ndarray] | None:
    t = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}.get(dtype)
    if t is None:
        return None
    try:
        lib = _core_library()
    except (OSError, AttributeError, ImportError):
        return None
    for pattern, itype in _NAMES:
        try:
            fn = getattr(lib, pattern.format(t=t))
        except AttributeError:
            continue
        ity = ctypes.c_int64 if itype is np.int64 else ctypes.c_int32
        fty = ctypes.c_float if t == "s" else ctypes.c_double
        ptr = ctypes.c_void_p
        fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ity, ity, ity, fty, ptr, ity,
                       ptr, ity, fty, ptr, ity]
        fn.restype = None
        # one small product against np.matmul: a wrong guess is left unused
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((3, 5)).astype(dtype), rng.standard_normal((5, 4)).astype(dtype)
        c = np.zeros((3, 4), dtype)
        fn(ROW_MAJOR, NO_TRANS, NO_TRANS, 3, 4, 5, 1.0, a.ctypes.data, 5, b.ctypes.data, 4, 0.0,
           c.ctypes.data, 4)
        if np.allclose(c, a @ b, rtol=1e-5, atol=1e-6):
            return ctypes.cast(fn, ctypes.c_void_p).value, np.zeros(0, itype)
    return None


def gemm(dtype: Any) -> tuple[int, np.ndarray] | None:
    """The address of NumPy's BLAS ``cblas_?gemm`` for ``dtype`` and an empty array of the
    integer type it takes, or None where it cannot be found.

    A compiled kernel calls it as ``cblas_?gemm(101, 111, 111, M, N, K, 1, A, K, B, N, 0, C,
    N)``: ``C = A @ B`` for C-contiguous row-major operands. The empty array carries the
    integer width into the kernel's types (a kernel compiled for one width never sees the
    other).

    Args:
        dtype: float32 or float64 (any other dtype gives None).

    Returns:
        ``(address, integer_prototype)`` or None.

    Example:
        >>> import numpy as np
        >>> found = gemm(np.float32)
        >>> found is None or found[1].dtype in (np.int32, np.int64)
        True
        >>> gemm(np.float16) is None
        True
    """
    dtype = np.dtype(dtype)
    if dtype not in _found:
        with _lock:
            if dtype not in _found:
                _found[dtype] = _lookup(dtype)
    return _found[dtype]
