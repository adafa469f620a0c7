"""Compiled (Numba) loops for the convolution and pooling ops, when the ``fast`` extra is in.

The NumPy paths of :mod:`chainrule.ops.conv` and :mod:`chainrule.ops.pooling` make
several passes over their arrays (one strided slice per window offset, a mask, a
multiply). The loops here do the same element operations, in the same order, in one
pass each, so their results are bit-identical to the NumPy paths (tests compare them
with the kernels on and off): the offset-major slice-adds of col2im,
``np.maximum``'s choice on ties (the second operand on equal values, a NaN wins) for max
pooling, its backward's routing to the first maximum of a window, the bias's add and
its gradient's row-by-row sum, and ReLU's ``np.maximum(x, 0)`` and ``gy * (y > 0)``. No
general matrix product is done here: those stay in BLAS.

A captured program may fuse a convolution, its ReLU and a tiled max pooling
(``Program._link_absorb``): ``bias_relu*`` kernels do the bias's add, the ReLU and the
pooling in one pass, and the backward's routing and ReLU mask in one, with the same
arithmetic as the single kernels (bit-identical). One is a sum of products in another
order: ``one_channel_pooled_weight_grad``, a one-channel convolution's kernel gradient
straight from the pooled gradient (its bias's gradient is the same row-by-row sum).

Two more replace matrix products and are equal to rounding only: a
depthwise convolution's forward (``depthwise``: the kernel's offsets summed in row-major
order, which equals a NumPy sum of ``x[window] * w[offset]`` in that order, not the grouped
products) and its backward (``depthwise_grad``). Two more passes are bit-identical to the
ops they replace: ``relu_cap_pass`` (``ReLU(max_value)``: NumPy's ``maximum`` then
``minimum``, and their gradients' masks) and ``scale_shift`` (batch normalization's
``x * inv + shift`` in inference).

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
            ``"max_pool_grad"``, ``"bias_add"``, ``"bias_grad"``, ``"bias_grad_add"``,
            ``"relu"``, ``"relu_grad"``, ``"any_nan"``, ``"bias_relu"``,
            ``"bias_relu_max_pool"``, ``"bias_relu_max_pool_grad"``,
            ``"bias_relu_max_pool_2x2"``, ``"relu_max_pool_grad_2x2"``,
            ``"one_channel_pooled_weight_grad"``, ``"depthwise"``, ``"depthwise_grad"``,
            ``"relu_cap_pass"``, ``"scale_shift"``.
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
        if name in _RELU_CALLS:  # two calling conventions of one compiled pass
            fn = _compiled[name] = _RELU_CALLS[name](get("relu_pass"))
            return fn
        with _lock:
            fn = _compiled.get(name)
            if fn is None:
                fn = _compiled[name] = _compiled_switch.compile_kernel(_PYTHON[name])
    return fn


_RELU_CALLS = {
    "relu": lambda f: lambda x, y: f(x, x, y, False),  # y = max(x, 0)
    "relu_grad": lambda f: lambda gy, y, gx: f(gy, y, gx, True),  # gx = gy * (y > 0)
}


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


def _bias_grad_add(gy: Any, out: Any) -> None:
    # out += gy summed over its rows, row after row: "bias_grad" continued over a further
    # block of rows (the same additions in the same order as over all rows at once)
    m_, f_ = gy.shape
    for i in range(m_):
        for j in range(f_):
            out[j] += gy[i, j]


def _any_nan(a: Any) -> bool:
    # whether the flat array a holds a NaN
    nan = False
    for i in range(a.size):
        nan |= a[i] != a[i]
    return nan


def _relu_pass(a: Any, y: Any, out: Any, grad: bool) -> None:
    # ReLU's forward and backward in one compiled function (one compilation: each of Numba's
    # costs about 2 MiB of memory). Forward (grad False): out = np.maximum(a, 0) on flat
    # arrays: a where a > 0 or a is NaN, else +0 (y unused). Backward: out = a * (y > 0),
    # the gradient a times the mask as 1 or 0 of the dtype
    one, zero = out.dtype.type(1), out.dtype.type(0)
    if grad:
        for i in range(y.size):
            out[i] = a[i] * (one if y[i] > zero else zero)
    else:
        for i in range(a.size):
            v = a[i]
            out[i] = v if (v > zero or v != v) else zero


def _relu_cap_pass(a: Any, x: Any, out: Any, cap: Any, grad: bool) -> None:
    # ReLU with a cap (Keras's ReLU(max_value), relu6) on flat arrays, forward and backward in
    # one compilation. Forward (grad False): out = np.minimum(np.maximum(a, 0), cap), one
    # pass (NaN stays NaN; x unused). Backward: out = a * (1 if 0 < x <= cap else 0), the
    # gradient a times the mask of the input x as 1 or 0 of the dtype (what the product of
    # np.minimum's mask (relu(x) <= cap) and ReLU's (relu(x) > 0) gives)
    one, zero = out.dtype.type(1), out.dtype.type(0)
    if grad:
        for i in range(a.size):
            v = x[i]
            out[i] = a[i] * (one if (v > zero and v <= cap) else zero)
    else:
        for i in range(a.size):
            v = a[i]
            r = v if (v > zero or v != v) else zero
            out[i] = r if (r < cap or r != r) else cap


def _scale_shift(x: Any, a: Any, b: Any, y: Any) -> None:
    # y = x * a + b for x, y (m, f), a, b (f,): a batch normalization in inference (y = x * inv,
    # then y += shift) in one pass, each element rounded after the product and after the sum
    m_, f_ = x.shape
    for i in range(m_):
        for j in range(f_):
            y[i, j] = x[i, j] * a[j] + b[j]


def _bias_relu(x: Any, b: Any, y: Any) -> None:
    # y = relu(x + b) for x, y of shape (m, f), b (f,): the bias's add ("bias_add") and ReLU
    # ("relu") of every element in one pass, each rounding as there
    m_, f_ = x.shape
    zero = y.dtype.type(0)
    for i in range(m_):
        for j in range(f_):
            v = x[i, j] + b[j]
            y[i, j] = v if (v > zero or v != v) else zero


def _bias_relu_max_pool(x: Any, b: Any, bias: bool, y: Any, k0_: int, k1_: int,
                        k2_: int) -> None:
    # max pooling of relu(x + b) (b only when `bias`) over windows that tile x: the values
    # "bias_add" and "relu" compute, pooled as "max_pool" does (np.maximum's choice on ties)
    n_, o0_, o1_, o2_, c_ = y.shape
    zero = y.dtype.type(0)
    for n in range(n_):
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    i0, i1, i2 = o0 * k0_, o1 * k1_, o2 * k2_
                    for c in range(c_):
                        v = x[n, i0, i1, i2, c]
                        if bias:
                            v = v + b[c]
                        y[n, o0, o1, o2, c] = v if (v > zero or v != v) else zero
                    for k0 in range(k0_):
                        for k1 in range(k1_):
                            for k2 in range(k2_):
                                if k0 == 0 and k1 == 0 and k2 == 0:
                                    continue
                                i0, i1, i2 = o0 * k0_ + k0, o1 * k1_ + k1, o2 * k2_ + k2
                                for c in range(c_):
                                    a = y[n, o0, o1, o2, c]
                                    v = x[n, i0, i1, i2, c]
                                    if bias:
                                        v = v + b[c]
                                    v = v if (v > zero or v != v) else zero
                                    if not (a > v or a != a):
                                        y[n, o0, o1, o2, c] = v


def _bias_relu_max_pool_grad(x: Any, b: Any, bias: bool, y: Any, gy: Any, gx: Any, k0_: int,
                             k1_: int, k2_: int) -> None:
    # "max_pool_grad_tiled" on the ReLU's output r = relu(x + b), then ReLU's backward
    # ("relu_grad": times 1 where r > 0, else 0) of each element in the same pass
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
                                    v = x[n, i0, i1, i2, c]
                                    if bias:
                                        v = v + b[c]
                                    r = v if (v > zero or v != v) else zero
                                    h = r == y[n, o0, o1, o2, c]
                                    f = found[c]
                                    g = gy[n, o0, o1, o2, c] * (one if h and not f else zero)
                                    gx[n, i0, i1, i2, c] = g * (one if r > zero else zero)
                                    hits += h
                                    repeated |= h and f
                                    found[c] = f or h
    if not repeated or hits != y.size:
        return
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
                                    v = x[n, i0, i1, i2, c]
                                    if bias:
                                        v = v + b[c]
                                    r = v if (v > zero or v != v) else zero
                                    if r == y[n, o0, o1, o2, c]:
                                        g = gy[n, o0, o1, o2, c] * one
                                        gx[n, i0, i1, i2, c] = g * (one if r > zero else zero)


def _bias_relu_max_pool_2x2(x: Any, b: Any, bias: bool, y: Any, idx: Any, want: bool) -> None:
    # _bias_relu_max_pool for 2-D inputs and 2 x 2 windows, the four offsets spelled out
    # (straight-line code over the channels, which the compiler vectorizes); with `want`,
    # idx (uint8, y's shape) gets the offset of each window's first maximum (0-3, row-major:
    # where "max_pool_grad_tiled" routes the gradient; 3 where none is equal, a NaN maximum)
    n_, o0_, o1_, c_ = y.shape
    zero = y.dtype.type(0)
    for n in range(n_):
        for o0 in range(o0_):
            i0 = 2 * o0
            for o1 in range(o1_):
                i1 = 2 * o1
                for c in range(c_):
                    bc = b[c] if bias else zero
                    v0, v1 = x[n, i0, i1, c], x[n, i0, i1 + 1, c]
                    v2, v3 = x[n, i0 + 1, i1, c], x[n, i0 + 1, i1 + 1, c]
                    if bias:
                        v0, v1, v2, v3 = v0 + bc, v1 + bc, v2 + bc, v3 + bc
                    r0 = v0 if (v0 > zero or v0 != v0) else zero
                    r1 = v1 if (v1 > zero or v1 != v1) else zero
                    r2 = v2 if (v2 > zero or v2 != v2) else zero
                    r3 = v3 if (v3 > zero or v3 != v3) else zero
                    a = r0 if (r0 > r1 or r0 != r0) else r1
                    a = a if (a > r2 or a != a) else r2
                    a = a if (a > r3 or a != a) else r3
                    y[n, o0, o1, c] = a
                    if want:
                        k = np.uint8(3)
                        k = np.uint8(2) if r2 == a else k
                        k = np.uint8(1) if r1 == a else k
                        k = np.uint8(0) if r0 == a else k
                        idx[n, o0, o1, c] = k


def _relu_max_pool_grad_2x2(y: Any, idx: Any, gy: Any, gx: Any) -> bool:
    # _bias_relu_max_pool_grad for 2-D inputs and 2 x 2 windows from the offsets idx of
    # the windows' first maxima. The ReLU's output at that offset is the maximum m, so the
    # element there gets (gy * 1) * (1 if m > 0 else 0); the others (gy * 0) * (1 or 0),
    # which is gy * 0 bit for bit (the same signed zero or NaN). Where a maximum is NaN
    # (a window without a hit) it writes nothing and returns False: the general kernel
    # handles that case
    flat = y.reshape(-1)
    nan = False
    for i in range(flat.size):
        nan |= flat[i] != flat[i]
    if nan:
        return False
    n_, o0_, o1_, c_ = y.shape
    one, zero = gy.dtype.type(1), gy.dtype.type(0)
    for n in range(n_):
        for o0 in range(o0_):
            i0 = 2 * o0
            for o1 in range(o1_):
                i1 = 2 * o1
                for c in range(c_):
                    g, k = gy[n, o0, o1, c], idx[n, o0, o1, c]
                    hit = (g * one) * (one if y[n, o0, o1, c] > zero else zero)
                    miss = g * zero
                    gx[n, i0, i1, c] = hit if k == np.uint8(0) else miss
                    gx[n, i0, i1 + 1, c] = hit if k == np.uint8(1) else miss
                    gx[n, i0 + 1, i1, c] = hit if k == np.uint8(2) else miss
                    gx[n, i0 + 1, i1 + 1, c] = hit if k == np.uint8(3) else miss
    return True

def _one_channel_pooled_weight_grad(xp: Any, y: Any, idx: Any, gy: Any, gw: Any, gb: Any,
                                    bias: bool, kh: int, kw: int, sh: int, sw: int, dh: int,
                                    dw: int) -> bool:
    # The kernel's and bias's gradients of a one-channel 2-D convolution (padded input xp
    # (n, H, W)) whose output goes through ReLU and 2 x 2 max pooling (maxima y, offsets idx
    # of each window's first maximum, pooled gradient gy; see _relu_max_pool_grad_2x2),
    # without making the convolution's output gradient: only a window's first maximum has
    # one, v = (gy * 1) * (1 if y > 0 else 0). The bias's gradient adds v in the order of the
    # output's rows (the "bias_grad" sum; its other terms are zeros, which change no partial
    # sum, and so are the +0 added here); the kernel's sums patch value times v per sample
    # (in gw's dtype), then over the samples in float64 (not the order of a matrix product:
    # the last bits may differ). Returns False, having written nothing, where the pooled
    # gradient or the input is not all finite (there a zero term would not be: 0 * inf).
    n_, o0_, o1_, c_ = y.shape
    zero, one = gy.dtype.type(0), gy.dtype.type(1)
    bad = False
    g1 = gy.reshape(-1)
    for i in range(g1.size):
        bad |= g1[i] - g1[i] != zero  # NaN for NaN and infinities
    x1 = xp.reshape(-1)
    for i in range(x1.size):
        bad |= x1[i] - x1[i] != zero
    if bad:
        return False
    kk = kh * kw
    acc = np.zeros((kk, c_), np.float64)
    part = np.empty((kk, c_), gw.dtype)
    hv = np.empty((o1_, 4, c_), gy.dtype)  # v at each offset of a row of windows (else 0)
    bsum = np.zeros(c_, gy.dtype)  # the bias's gradient, from +0
    h = np.empty((4, c_), gy.dtype)
    for n in range(n_):
        part[:] = 0
        for o0 in range(o0_):
            for o1 in range(o1_):
                for c in range(c_):
                    v = (gy[n, o0, o1, c] * one) * (one if y[n, o0, o1, c] > zero else zero)
                    k = idx[n, o0, o1, c]
                    h[0, c] = v if k == 0 else zero
                    h[1, c] = v if k == 1 else zero
                    h[2, c] = v if k == 2 else zero
                    h[3, c] = v if k == 3 else zero
                if bias:
                    for c in range(c_):
                        hv[o1, 0, c], hv[o1, 1, c] = h[0, c], h[1, c]
                        hv[o1, 2, c], hv[o1, 3, c] = h[2, c], h[3, c]
                h0, h1, h2, h3 = h[0], h[1], h[2], h[3]
                i, j = 2 * o0 * sh, 2 * o1 * sw
                for a in range(kh):
                    for b in range(kw):
                        ia, jb = i + a * dh, j + b * dw
                        x0, x1_ = xp[n, ia, jb], xp[n, ia, jb + sw]
                        x2, x3 = xp[n, ia + sh, jb], xp[n, ia + sh, jb + sw]
                        p = part[a * kw + b]
                        for c in range(c_):
                            p[c] += x0 * h0[c] + x1_ * h1[c] + x2 * h2[c] + x3 * h3[c]
            if bias:  # this pair of output rows, row by row
                for qa in range(2):
                    for o1 in range(o1_):
                        for qb in range(2):
                            q = 2 * qa + qb
                            for c in range(c_):
                                bsum[c] += hv[o1, q, c]
        for ab in range(kk):
            for c in range(c_):
                acc[ab, c] += part[ab, c]
    for ab in range(kk):
        for c in range(c_):
            gw[ab, c] = acc[ab, c]
    if bias:
        for c in range(c_):
            gb[c] = bsum[c]
    return True


def _depthwise(xp: Any, w: Any, y: Any, s0: int, s1: int, s2: int, d0: int, d1: int,
               d2: int, p0: int, p1: int, p2: int) -> None:
    # depthwise convolution: xp (n, X0, X1, X2, c) the input, padded by p0, p1, p2 zeros
    # before each spatial axis (and as many after as the output needs) without a padded copy,
    # w (k0, k1, k2, c * mult) (Keras's (*k, c, mult) kernel flattened), y (n, o0, o1, o2,
    # c * mult): y[..., c * mult + m] is the sum over the kernel's offsets (row-major, from 0)
    # of xp[..., c] * w[k, c * mult + m] (a padded position's value a zero, multiplied and
    # added as a padded array's would be), each output row summed while it is in the cache
    n_, o0_, o1_, o2_, f_ = y.shape
    k0_, k1_, k2_ = w.shape[0], w.shape[1], w.shape[2]
    x0_, x1_, x2_, c_ = xp.shape[1], xp.shape[2], xp.shape[3], xp.shape[4]
    m_ = f_ // c_
    zero = y.dtype.type(0)
    for n in range(n_):
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    row = y[n, o0, o1, o2]
                    for j in range(f_):
                        row[j] = zero
                    for k0 in range(k0_):
                        i0 = o0 * s0 + k0 * d0 - p0
                        in0 = 0 <= i0 < x0_
                        for k1 in range(k1_):
                            i1 = o1 * s1 + k1 * d1 - p1
                            in1 = in0 and 0 <= i1 < x1_
                            for k2 in range(k2_):
                                i2 = o2 * s2 + k2 * d2 - p2
                                wr = w[k0, k1, k2]
                                if in1 and 0 <= i2 < x2_:
                                    xr = xp[n, i0, i1, i2]
                                    if m_ == 1:
                                        for c in range(c_):
                                            row[c] += xr[c] * wr[c]
                                    else:
                                        for c in range(c_):
                                            v = xr[c]
                                            for m in range(m_):
                                                row[c * m_ + m] += v * wr[c * m_ + m]
                                else:  # a padded position: zeros times the kernel
                                    for j in range(f_):
                                        row[j] += zero * wr[j]


def _depthwise_grad(xp: Any, w: Any, gy: Any, gxp: Any, part: Any, acc: Any, want_x: bool,
                    want_w: bool, s0: int, s1: int, s2: int, d0: int, d1: int, d2: int,
                    p0: int, p1: int, p2: int) -> None:
    # the backward of _depthwise in one pass over gy (n, o0, o1, o2, c * mult). With want_x,
    # gxp (xp's shape: the unpadded input's) = gy * w added back onto the input (zeroed
    # first; per element in the order of the outputs, then the kernel's offsets; what falls
    # on the padding is not made). With want_w, acc (float64, w's shape) = the sum over the
    # samples of each sample's sum part (w's dtype) of xp * gy (a padded position's zeros
    # multiplied and added too). Neither is a matrix product's order: the last bits may
    # differ from the NumPy path.
    n_, o0_, o1_, o2_, f_ = gy.shape
    k0_, k1_, k2_ = w.shape[0], w.shape[1], w.shape[2]
    x0_, x1_, x2_, c_ = xp.shape[1], xp.shape[2], xp.shape[3], xp.shape[4]
    m_ = f_ // c_
    zero = gy.dtype.type(0)
    if want_w:
        acc[:] = 0.0
    for n in range(n_):
        if want_x:
            gxp[n] = zero
        if want_w:
            part[:] = zero
        for o0 in range(o0_):
            for o1 in range(o1_):
                for o2 in range(o2_):
                    g = gy[n, o0, o1, o2]
                    for k0 in range(k0_):
                        i0 = o0 * s0 + k0 * d0 - p0
                        in0 = 0 <= i0 < x0_
                        for k1 in range(k1_):
                            i1 = o1 * s1 + k1 * d1 - p1
                            in1 = in0 and 0 <= i1 < x1_
                            for k2 in range(k2_):
                                i2 = o2 * s2 + k2 * d2 - p2
                                inside = in1 and 0 <= i2 < x2_
                                if want_x and inside:
                                    wr = w[k0, k1, k2]
                                    gr = gxp[n, i0, i1, i2]
                                    if m_ == 1:
                                        for c in range(c_):
                                            gr[c] += g[c] * wr[c]
                                    else:
                                        for c in range(c_):
                                            t = zero
                                            for m in range(m_):
                                                t += g[c * m_ + m] * wr[c * m_ + m]
                                            gr[c] += t
                                if want_w:
                                    pr = part[k0, k1, k2]
                                    if not inside:  # a padded position: zeros times gy
                                        for j in range(f_):
                                            pr[j] += zero * g[j]
                                        continue
                                    xr = xp[n, i0, i1, i2]
                                    if m_ == 1:
                                        for c in range(c_):
                                            pr[c] += xr[c] * g[c]
                                    else:
                                        for c in range(c_):
                                            v = xr[c]
                                            for m in range(m_):
                                                pr[c * m_ + m] += v * g[c * m_ + m]
        if want_w:
            for k0 in range(k0_):
                for k1 in range(k1_):
                    for k2 in range(k2_):
                        for j in range(f_):
                            acc[k0, k1, k2, j] += part[k0, k1, k2, j]


_PYTHON: dict[str, Callable[..., None]] = {
    "col2im": _col2im, "max_pool": _max_pool,
    "max_pool_grad_tiled": _max_pool_grad_tiled, "max_pool_grad": _max_pool_grad,
    "bias_add": _bias_add, "bias_grad": _bias_grad, "bias_grad_add": _bias_grad_add,
    "relu_pass": _relu_pass, "any_nan": _any_nan,
    "bias_relu": _bias_relu, "bias_relu_max_pool": _bias_relu_max_pool,
    "bias_relu_max_pool_grad": _bias_relu_max_pool_grad,
    "bias_relu_max_pool_2x2": _bias_relu_max_pool_2x2,
    "relu_max_pool_grad_2x2": _relu_max_pool_grad_2x2,
    "one_channel_pooled_weight_grad": _one_channel_pooled_weight_grad,
    "depthwise": _depthwise, "depthwise_grad": _depthwise_grad, "relu_cap_pass": _relu_cap_pass,
    "scale_shift": _scale_shift}
