"""Compiled (Numba) loops for the convolution and pooling ops, when the ``fast`` extra is in.

The NumPy paths of :mod:`chainrule.ops.conv` and :mod:`chainrule.ops.pooling` make
several passes over their arrays (one strided slice per window offset, a mask, a
multiply). The loops here do the same element operations, in the same order, in one
pass each, so their results are bit-identical to the NumPy paths (tests compare them
with the kernels on and off): the offset-major slice-adds of col2im,
``np.maximum``'s choice on ties (the second operand on equal values, a NaN wins) for max
pooling, its backward's routing to the first maximum of a window, the bias's add and
its gradient's row-by-row sum, and ReLU's ``np.maximum(x, 0)`` and ``gy * (y > 0)``. No
matrix product is done here: those stay in BLAS.

They are used when :func:`chainrule.config.fused_kernels` is on (the switch of the
optimizers' fused updates: Numba installed, not turned off) and the arrays are NumPy
arrays of float32 or float64; :func:`get` returns None otherwise and the ops use NumPy.
Every kernel takes arrays with three spatial axes, ``(batch, d, h, w, channels)``: 1-D and
2-D inputs get unit axes in front (:func:`as3d`), which is a view.

Example:
    >>> import numpy as np
    >>> as3d(np.zeros((2, 5, 4)), 1).shape
    (2, 1, 1, 5, 4)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.backend import compiled as _compiled_switch

__all__ = ["get", "as3d", "pad3"]

_lock = threading.Lock()
_compiled: dict[str, Any] = {}


def as3d(a: Any, nd: int) -> Any:
    """``a`` of shape ``(n, *spatial, c)`` with ``3 - nd`` unit spatial axes in front (a view).

    Example:
        >>> as3d(np.zeros((2, 6, 6, 3)), 2).shape
        (2, 1, 6, 6, 3)
    """
    return a.reshape((a.shape[0],) + (1,) * (3 - nd) + a.shape[1:])


def pad3(values: tuple, fill: int = 1) -> tuple:
    """A per-axis tuple of 1, 2 or 3 values, with ``fill`` in front to make three.

    Example:
        >>> pad3((2, 2))
        (1, 2, 2)
    """
    return (fill,) * (3 - len(values)) + tuple(values)


def get(name: str, *arrays: Any) -> Callable[..., Any] | None:
    """The compiled kernel ``name``, or None when the kernels are off or do not apply.

    Args:
        name: one of ``"col2im"``, ``"max_pool"``, ``"max_pool_grad_tiled"``,
            ``"max_pool_grad"``, ``"bias_add"``, ``"bias_grad"``, ``"relu"``, ``"relu_grad"``.
        *arrays: the arrays the call will take: the kernel applies only when every one is
            a NumPy array of float32 or float64.

    Returns:
        The compiled function, or None (use NumPy).

    Example:
        >>> import chainrule
        >>> chainrule.config.set_fused_kernels(False)
        >>> get("col2im", np.zeros((1, 3, 3, 1), "float32")) is None
        True
        >>> chainrule.config.set_fused_kernels(None)
    """
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype not in (np.float32, np.float64):
            return None
    if not _compiled_switch.fused_kernels():
        return None
    fn = _compiled.get(name)
    if fn is None:
        with _lock:
            fn = _compiled.get(name)
            if fn is None:
                fn = _compiled[name] = _compiled_switch.compile_kernel(_PYTHON[name])
    return fn


# -- the loops (plain Python; compiled by Numba) -----------------------------------------------


def _col2im(gc: Any, gxp: Any, s0: int, s1: int, s2: int, d0: int, d1: int, d2: int) -> None:
    # gxp = 0, then for each kernel offset in row-major order, the slice-add of the NumPy
    # path: every element of gxp receives its terms in the same order (sample by sample
    # here, which changes no element's order)
    n_, o0_, o1_, o2_, k0_, k1_, k2_, c_ = gc.shape
    zero = gxp.dtype.type(0)
    for n in range(n_):
        gxp[n] = zero
        for k0 in range(k0_):
            for k1 in range(k1_):
                for k2 in range(k2_):
                    for o0 in range(o0_):
                        i0 = o0 * s0 + k0 * d0
                        for o1 in range(o1_):
                            i1 = o1 * s1 + k1 * d1
                            for o2 in range(o2_):
                                i2 = o2 * s2 + k2 * d2
                                for c in range(c_):
                                    gxp[n, i0, i1, i2, c] += gc[n, o0, o1, o2, k0, k1, k2, c]


def _max_pool(xp: Any, y: Any, k0_: int, k1_: int, k2_: int, s0: int, s1: int, s2: int) -> None:
    # y = max over the window's offsets in row-major order, with np.maximum(a, b)'s choice:
    # a when a > b or a is NaN, else b (so b on equal values, a NaN b wins)
    n_, o0_, o1_, o2_, c_ = y.shape
    for n in range(n_):
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    for c in range(c_):
                        y[n, o0, o1, o2, c] = xp[n, o0 * s0, o1 * s1, o2 * s2, c]
                    for k0 in range(k0_):
                        for k1 in range(k1_):
                            for k2 in range(k2_):
                                if k0 == 0 and k1 == 0 and k2 == 0:
                                    continue
                                i0, i1, i2 = o0 * s0 + k0, o1 * s1 + k1, o2 * s2 + k2
                                for c in range(c_):
                                    a = y[n, o0, o1, o2, c]
                                    b = xp[n, i0, i1, i2, c]
                                    if not (a > b or a != a):
                                        y[n, o0, o1, o2, c] = b


def _max_pool_grad_tiled(xp: Any, y: Any, gy: Any, gxp: Any, k0_: int, k1_: int,
                         k2_: int) -> None:
    # windows that tile the input: gxp[window] = (x == y) * gy, where only a window's first
    # hit counts unless the hits number exactly y.size (the NumPy path's count_nonzero test)
    n_, o0_, o1_, o2_, c_ = y.shape
    one, zero = gy.dtype.type(1), gy.dtype.type(0)
    hits = 0
    repeated = False
    found = np.empty(c_, dtype=np.bool_)
    for n in range(n_):
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    found[:] = False
                    for k0 in range(k0_):
                        i0 = o0 * k0_ + k0
                        for k1 in range(k1_):
                            i1 = o1 * k1_ + k1
                            for k2 in range(k2_):
                                i2 = o2 * k2_ + k2
                                for c in range(c_):
                                    h = xp[n, i0, i1, i2, c] == y[n, o0, o1, o2, c]
                                    f = found[c]
                                    gxp[n, i0, i1, i2, c] = gy[n, o0, o1, o2, c] * (
                                        one if h and not f else zero)
                                    hits += h
                                    repeated |= h and f
                                    found[c] = f or h
    if not repeated or hits != y.size:
        return
    # as many hits as windows, some windows with several (others with none: a NaN maximum):
    # the NumPy path keeps every hit then
    for n in range(n_):
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    for k0 in range(k0_):
                        i0 = o0 * k0_ + k0
                        for k1 in range(k1_):
                            i1 = o1 * k1_ + k1
                            for k2 in range(k2_):
                                i2 = o2 * k2_ + k2
                                for c in range(c_):
                                    if xp[n, i0, i1, i2, c] == y[n, o0, o1, o2, c]:
                                        gxp[n, i0, i1, i2, c] = gy[n, o0, o1, o2, c] * one


def _max_pool_grad(xp: Any, y: Any, gy: Any, gxp: Any, k0_: int, k1_: int, k2_: int, s0: int,
                   s1: int, s2: int, add: bool) -> None:
    # gxp (zeros) gets gy at each window's first maximum (row-major offsets): copied where
    # windows are disjoint, added offset by offset (the NumPy path's order) where they overlap
    n_, o0_, o1_, o2_, c_ = y.shape
    win = np.empty(y.shape, dtype=np.int32)
    for n in range(n_):
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    for c in range(c_):
                        m = y[n, o0, o1, o2, c]
                        first = -1
                        k = 0
                        for k0 in range(k0_):
                            for k1 in range(k1_):
                                for k2 in range(k2_):
                                    if first < 0 and xp[n, o0 * s0 + k0, o1 * s1 + k1,
                                                        o2 * s2 + k2, c] == m:
                                        first = k
                                    k += 1
                        win[n, o0, o1, o2, c] = first
    k = 0
    for k0 in range(k0_):
        for k1 in range(k1_):
            for k2 in range(k2_):
                for n in range(n_):
                    for o0 in range(o0_):
                        i0 = o0 * s0 + k0
                        for o1 in range(o1_):
                            i1 = o1 * s1 + k1
                            for o2 in range(o2_):
                                i2 = o2 * s2 + k2
                                for c in range(c_):
                                    if win[n, o0, o1, o2, c] == k:
                                        if add:
                                            gxp[n, i0, i1, i2, c] += gy[n, o0, o1, o2, c]
                                        else:
                                            gxp[n, i0, i1, i2, c] = gy[n, o0, o1, o2, c]
                k += 1


def _bias_add(y: Any, b: Any) -> None:
    # y (m, f) += b (f,)
    m_, f_ = y.shape
    for i in range(m_):
        for j in range(f_):
            y[i, j] += b[j]


def _bias_grad(gy: Any, out: Any) -> None:
    # out = gy summed over its rows, from 0 and row after row (np.add.reduce(gy, axis=0)'s
    # order for f > 1; starting from 0 makes a column of -0.0 sum to +0.0 as there)
    m_, f_ = gy.shape
    zero = out.dtype.type(0)
    for j in range(f_):
        out[j] = zero
    for i in range(m_):
        for j in range(f_):
            out[j] += gy[i, j]


def _relu(x: Any, y: Any) -> None:
    # y = np.maximum(x, 0) on flat arrays: x where x > 0 or x is NaN, else +0
    zero = y.dtype.type(0)
    for i in range(x.size):
        a = x[i]
        y[i] = a if (a > zero or a != a) else zero


def _relu_grad(gy: Any, y: Any, gx: Any) -> None:
    # gx = gy * (y > 0) on flat arrays (the mask as 1 or 0 of the dtype, then the product)
    one, zero = gx.dtype.type(1), gx.dtype.type(0)
    for i in range(y.size):
        gx[i] = gy[i] * (one if y[i] > zero else zero)


_PYTHON: dict[str, Callable[..., None]] = {
    "col2im": _col2im, "max_pool": _max_pool,
    "max_pool_grad_tiled": _max_pool_grad_tiled, "max_pool_grad": _max_pool_grad,
    "bias_add": _bias_add, "bias_grad": _bias_grad, "relu": _relu, "relu_grad": _relu_grad}
