"""Max and average pooling: one strided slice per window offset, never a loop over pixels.

A window of ``pool_size`` slides over the input; the output at each position is the
maximum (or mean) of the window. With the input seen through the slice that offset
``(i, j)`` of every window reads (``x[:, i::stride, j::stride, :]``, cut to the output
size), pooling is ``kh * kw`` elementwise maximum (or add) passes over output-sized
arrays. Max pooling's backward finds, offset by offset, where the maximum came from
(the first offset in row-major order on ties, as TensorFlow routes it) and writes the
gradient there; average pooling's spreads ``gy / count`` back over each window.
``"same"`` padding pads with ``-inf`` for the maximum, and the mean counts only the real
pixels of each window (TensorFlow's ``avg_pool``, which Keras 3 uses). Where the
``fast`` extra (Numba) is installed and :func:`chainrule.config.fused_kernels` is on, max
pooling and its backward run as one compiled pass each (``ops/_conv_kernels.py``), with
bit-identical results; in a captured program a tiled max pooling read after a ReLU takes
the ReLU's pass (and a convolution's bias) into its own (:meth:`MaxPool.absorb`).

Example:
    >>> import numpy as np, chainrule as cr
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> cr.ops.max_pool(x, 2).numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor
from chainrule.ops import _conv_kernels as _k
from chainrule.ops.conv import (
    _chunk,
    _Geometry,
    _padded,
    _to_first,
    _to_last,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)

__all__ = ["max_pool", "average_pool"]


class _Pool(Function):
    def __init__(self, pool, strides, padding, channels_first):
        self.pool, self.strides, self.padding = pool, strides, padding
        self.channels_first = channels_first

    def _setup(self, x, fill):
        x = _to_last(x, self.channels_first)
        nd = x.ndim - 2
        geo = self.geo = _Geometry(x.shape, self.pool, self.strides, (1,) * nd, self.padding,
                                   type(self).__name__.lower())
        # windows that do not overlap write disjoint parts of the input's gradient
        self.disjoint = all(s >= k for s, k in zip(self.strides, self.pool))
        return _padded(self, x, geo, fill), geo

    def _grad_buffer(self, dtype, zero=True):
        shape = (self.xshape[0],) + self.geo.padded + (self.xshape[-1],)
        return np.zeros(shape, dtype=dtype) if zero else np.empty(shape, dtype=dtype)

    def _unpad(self, gxp):
        gx = gxp[self.geo.interior()] if self.geo.any_pad else gxp
        return _to_first(gx, self.channels_first)

    # windows that tile the input (strides == pool_size): reshapes instead of slices
    @property
    def tiled(self) -> bool:
        return self.strides == self.pool

    def _tiles(self, a):
        """``a`` (of the padded shape) as ``(N, O1, k1, O2, k2, ..., C)``: a view, no copy."""
        geo = self.geo
        crop = (slice(None),) + tuple(slice(0, o * k) for o, k in zip(geo.out, self.pool))
        shape = (a.shape[0],) + tuple(v for o, k in zip(geo.out, self.pool) for v in (o, k)) + (
            a.shape[-1],)
        return a[crop].reshape(shape)

    def _per_window(self, y):
        """``y`` (N, O1, O2, ..., C) broadcastable against :meth:`_tiles`."""
        return y.reshape((y.shape[0],) + tuple(v for o in self.geo.out for v in (o, 1)) + (
            y.shape[-1],))

    def _covers(self) -> bool:
        """Whether the tiles cover the whole padded input (nothing cropped at the ends)."""
        return all(o * k == n for o, k, n in zip(self.geo.out, self.pool, self.geo.padded))


class MaxPool(_Pool):
    relu = None  # the ReLU op before this one, whose pass this op takes (absorb)
    fused = False  # whether this call took it
    forward_only = False  # set by a forward-only captured program: no backward will follow

    def absorb(self, producer: Function, sole: bool = False) -> bool:
        """Offered by a captured program the op whose output is this op's input: a ReLU read
        by this op alone hands its pass (and a convolution's bias it adds, see
        :meth:`chainrule.ops.nn.Relu.absorb`) to this op, where the windows tile the input
        without padding, channels last. Forward then pools ``relu(x + bias)`` in one
        compiled loop, backward routes the gradient and applies the ReLU's mask in one: the
        same arithmetic as the ops one by one, where the kernels are on.

        Args:
            producer: the op that computes this op's input in the same replay.
            sole: whether nothing else reads that input.

        Returns:
            Whether the ReLU's pass moved here.
        """
        from chainrule.ops.nn import Relu  # noqa: PLC0415

        if (not sole or type(producer) is not Relu or self.channels_first or not self.tiled
                or self.padding != "valid" or not 1 <= len(self.pool) <= 3):
            return False
        producer.pooled, self.relu = True, producer
        if producer.source is not None:  # a convolution: it hands on its output, and takes
            producer.source.blocks_grad = True  # the gradient, in blocks
            producer.source.lazy_output = True
        return True

    def forward(self, x):
        relu = self.relu
        self.fused = relu is not None and relu.passed
        if self.fused:  # the ReLU (and the bias) of the ops before, in the same pass
            return self._forward_fused(x, relu.bias)
        xp, geo = self._setup(x, -np.inf)
        self.xshape = _to_last(x, self.channels_first).shape
        offsets = list(geo.offsets())
        kernel = _k.get("max_pool", xp)
        if kernel is not None:  # np.maximum's passes in one compiled loop
            nd = len(geo.out)
            y = np.empty((xp.shape[0], *geo.out, xp.shape[-1]), dtype=xp.dtype)
            kernel(_k.as3d(xp, nd), _k.as3d(y, nd), *_k.pad3(self.pool), *_k.pad3(self.strides))
        elif len(offsets) == 1:
            y = xp[geo.window(offsets[0])].copy()
        else:
            y = np.maximum(xp[geo.window(offsets[0])], xp[geo.window(offsets[1])])
            for o in offsets[2:]:
                np.maximum(y, xp[geo.window(o)], out=y)
        self.xp, self.y = xp, y
        return _to_first(y, self.channels_first)

    def _forward_fused(self, x, b):
        geo = self.geo = _Geometry(x.shape, self.pool, self.strides, (1,) * (len(x.shape) - 2),
                                   self.padding, "maxpool")
        self.xshape, nd = x.shape, len(geo.out)
        self.b = np.empty(0, x.dtype) if b is None else b
        y = np.empty((x.shape[0], *geo.out, x.shape[-1]), dtype=x.dtype)
        probe = np.empty(0, x.dtype)
        want = not self.forward_only  # a backward may follow
        quick = self.pool == (2, 2)  # the common case, spelled out; keeps where each maximum is
        idx = self.idx = (np.empty(y.shape, np.uint8) if want and quick else
                          np.empty((0,) * 4, np.uint8) if quick else None)
        kernel = _k.get("bias_relu_max_pool_2x2" if quick else "bias_relu_max_pool", probe)
        self._grad_kernels = (_k.get("relu_max_pool_grad_2x2", probe),
                              _k.get("bias_relu_max_pool_grad", probe))
        self.xp, self.y = x, y
        n = x.shape[0]
        lazy = not isinstance(x, np.ndarray)  # a conv._ConvOutput: pooled block by block
        chunk = _chunk(n, math.prod(x.shape[1:-1]), x.shape[-1], x.dtype.itemsize) if lazy else n
        if lazy:
            buf = getattr(self, "_x_block", None)
            if buf is None or buf.shape != (chunk, *x.shape[1:]) or buf.dtype != x.dtype:
                buf = self._x_block = np.empty((chunk, *x.shape[1:]), x.dtype)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            xb = x.block(s, e, buf[:e - s]) if lazy else x
            if quick:
                kernel(xb, self.b, b is not None, y[s:e], idx[s:e] if want else idx, want)
            else:
                kernel(_k.as3d(xb, nd), self.b, b is not None, _k.as3d(y[s:e], nd),
                       *_k.pad3(self.pool))
        return y

    def _input(self):
        """The pooled input (the ReLU's input), made whole where it came in blocks."""
        if not isinstance(self.xp, np.ndarray):
            self.xp = self.xp.full()
        return self.xp

    def backward(self, gy):
        if not self.fused:
            return self._backward_unfused(gy)
        y = self.y
        if type(gy) is np.ndarray and gy.dtype == self.xp.dtype:
            gy = np.ascontiguousarray(gy)
            quick, general = self._grad_kernels
            fast = self.idx is not None and self.idx.size == y.size and not _any_nan(y)
            if fast and self.relu.source is not None and self.relu.source.blocks_grad:
                # the convolution before takes this gradient block by block of samples
                return (_PooledGradient(self, gy),)
            gx = self._grad_buffer(gy.dtype, zero=not self._covers())
            if fast and quick(y, self.idx, gy, gx):
                return (gx,)
            nd, x = len(self.geo.out), self._input()
            general(_k.as3d(x, nd), self.b, self.relu.bias is not None, _k.as3d(y, nd),
                    _k.as3d(gy, nd), _k.as3d(gx, nd), *_k.pad3(self.pool))
            return (gx,)
        # a gradient of another dtype: the ReLU's output, the pooling's backward, the ReLU's,
        # as the ops one by one compute them
        self.xp = self.relu._relu(self._input(), self.relu.bias)
        return (self.relu._mask(self._backward_unfused(gy)[0]),)

    def _backward_unfused(self, gy):
        gy = _to_last(gy, self.channels_first)
        xp, y, geo = self.xp, self.y, self.geo
        kernel = _k.get("max_pool_grad_tiled" if self.tiled else "max_pool_grad", xp, gy)
        if kernel is not None and gy.dtype == xp.dtype:  # the same routing in one compiled loop
            nd = len(geo.out)
            if self.tiled:
                gxp = self._grad_buffer(gy.dtype, zero=not self._covers())
                kernel(_k.as3d(xp, nd), _k.as3d(y, nd), _k.as3d(gy, nd), _k.as3d(gxp, nd),
                       *_k.pad3(self.pool))
            else:
                gxp = self._grad_buffer(gy.dtype)
                kernel(_k.as3d(xp, nd), _k.as3d(y, nd), _k.as3d(gy, nd), _k.as3d(gxp, nd),
                       *_k.pad3(self.pool), *_k.pad3(self.strides), not self.disjoint)
            return (self._unpad(gxp),)
        if self.tiled:
            return (self._unpad(self._backward_tiled(gy)),)
        gxp = self._grad_buffer(gy.dtype)
        offsets = list(geo.offsets())
        free = None  # output positions whose maximum is not placed yet
        for n, o in enumerate(offsets):
            hit = np.equal(xp[geo.window(o)], y)
            if free is not None:
                hit &= free
            if n < len(offsets) - 1:
                free = ~hit if free is None else np.logical_and(free, ~hit, out=free)
            if self.disjoint:
                np.copyto(gxp[geo.window(o)], gy, where=hit)
            else:
                gxp[geo.window(o)] += np.where(hit, gy, 0)
        return (self._unpad(gxp),)

    def _backward_tiled(self, gy):
        """One compare and one multiply over the input: where each window's maximum is."""
        y = self.y
        hit = np.equal(self._tiles(self.xp), self._per_window(y))
        if np.count_nonzero(hit) != y.size:  # ties: only the first maximum of a window (TF's)
            seen = None
            for off in self.geo.offsets():
                h = hit[(slice(None),) + tuple(v for i in off for v in (slice(None), i))]
                if seen is None:
                    seen = h.copy()
                else:
                    h &= ~seen
                    seen |= h
        gxp = self._grad_buffer(gy.dtype, zero=not self._covers())
        np.multiply(hit, self._per_window(gy), out=self._tiles(gxp))
        return gxp


def _any_nan(y):
    """Whether ``y`` holds a NaN (a compiled scan where the kernels are on)."""
    kernel = _k.get("any_nan", y)
    return bool(kernel(y.reshape(-1))) if kernel is not None else bool(np.isnan(y).any())


class _PooledGradient:
    """The input gradient of a fused max pooling (:meth:`MaxPool.absorb`) made block by block
    of samples on request, for the convolution before it (``Conv.blocks_grad``): each block
    is used while it is in the cache, and the whole array is never written.

    Attributes:
        shape, dtype: those of the gradient.
    """

    quick = True  # made by the 2 x 2 kernel from each window's first maximum (idx)

    def __init__(self, pool: MaxPool, gy: Any) -> None:
        self.pool, self.gy = pool, gy
        self.shape, self.dtype = pool.xshape, gy.dtype

    def block(self, start: int, stop: int, out: Any) -> Any:
        """Samples ``start:stop`` of the gradient, written into ``out`` (of their shape)."""
        p = self.pool
        if not p._covers():
            out.fill(0)
        p._grad_kernels[0](p.y[start:stop], p.idx[start:stop], self.gy[start:stop], out)
        return out

    def full(self) -> Any:
        """The whole gradient as an array."""
        return self.block(0, self.shape[0], np.empty(self.shape, self.dtype))


class AveragePool(_Pool):
    def forward(self, x):
        xp, geo = self._setup(x, 0)
        self.xshape = _to_last(x, self.channels_first).shape
        offsets = list(geo.offsets())
        y = xp[geo.window(offsets[0])].astype(x.dtype, copy=True)
        for o in offsets[1:]:
            y += xp[geo.window(o)]
        self.count = self._count(x.dtype)
        y /= self.count
        return _to_first(y, self.channels_first)

    def _count(self, dtype):
        """Real (unpadded) pixels per window: a number, or an array for ``"same"`` padding."""
        geo = self.geo
        if not geo.any_pad:
            return dtype.type(np.prod(self.pool))
        count = np.ones((1,) * (len(self.pool) + 2), dtype=dtype)
        for axis, (n, k, s, o, (a, _)) in enumerate(
                zip(self.xshape[1:-1], self.pool, self.strides, geo.out, geo.pads)):
            start = np.arange(o) * s - a
            per = np.minimum(start + k, n) - np.maximum(start, 0)
            shape = [1] * count.ndim
            shape[axis + 1] = o
            count = count * per.reshape(shape).astype(dtype)
        return count

    def backward(self, gy):
        gy = _to_last(gy, self.channels_first)
        g = gy / self.count
        if self.tiled:
            gxp = self._grad_buffer(g.dtype, zero=not self._covers())
            np.copyto(self._tiles(gxp), self._per_window(g))
            return (self._unpad(gxp),)
        gxp = self._grad_buffer(g.dtype)
        for o in self.geo.offsets():
            if self.disjoint:
                gxp[self.geo.window(o)] = g
            else:
                gxp[self.geo.window(o)] += g
        return (self._unpad(gxp),)


def _pool_args(inputs, pool_size, strides, padding, data_format, op):
    x = inputs if isinstance(inputs, Tensor) or backend.is_array(inputs) else backend.as_array(
        inputs)
    nd = np.ndim(getattr(x, "data", x)) - 2
    if nd < 1:
        raise ValueError(f"{op}: inputs must have a batch, at least one spatial axis and a "
                         f"channel axis. Received: inputs of shape {tuple(np.shape(x))}")
    pool = normalize_tuple(pool_size, nd, "pool_size", op)
    stride = pool if strides is None else normalize_tuple(strides, nd, "strides", op)
    pad = normalize_padding(padding, ("valid", "same"), op)
    fmt = normalize_data_format(data_format, op)
    return x, (pool, stride, pad, fmt == "channels_first")


def max_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
             data_format: str | None = None) -> Tensor:
    """Max pooling (Keras's ``keras.ops.max_pool``), 1-D, 2-D or 3-D.

    Args:
        inputs: ``(batch, *spatial, channels)`` or, with ``channels_first``,
            ``(batch, channels, *spatial)``.
        pool_size: an int or one int per spatial axis.
        strides: an int or one per axis; default ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (padded with ``-inf``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The pooled tensor; each output axis has ``(size - pool) // stride + 1``
        positions (``"valid"``) or ``ceil(size / stride)`` (``"same"``).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.ops.max_pool(np.array([[[1.0], [3.0], [2.0]]]), 2, strides=1).numpy().ravel()
        array([3., 3.])
    """
    x, args = _pool_args(inputs, pool_size, strides, padding, data_format, "max_pool")
    return MaxPool(*args)(x)


def average_pool(inputs: Any, pool_size: Any, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None) -> Tensor:
    """Average pooling (Keras's ``keras.ops.average_pool``), 1-D, 2-D or 3-D.

    With ``"same"`` padding each window's mean counts only its real pixels.

    Args:
        inputs: ``(batch, *spatial, channels)`` or, with ``channels_first``,
            ``(batch, channels, *spatial)``.
        pool_size: an int or one int per spatial axis.
        strides: an int or one per axis; default ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The pooled tensor (shapes as for :func:`max_pool`).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.ops.average_pool(np.array([[[1.0], [3.0], [2.0]]]), 2, padding="same").numpy().ravel()
        array([2., 2.])
    """
    x, args = _pool_args(inputs, pool_size, strides, padding, data_format, "average_pool")
    return AveragePool(*args)(x)
