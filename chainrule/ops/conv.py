"""Convolution as one matrix product per call: im2col by a strided view, col2im by slice-adds.

For an input of shape ``(batch, *spatial, channels)`` (channels last) and a kernel of
shape ``(*kernel_size, channels // groups, filters)`` (Keras's layout), the forward pass

1. pads the input (``"same"``: TensorFlow's split, the extra pixel after; ``"causal"``:
   all of it before, 1-D only),
2. looks at it through a strided view of shape ``(batch, *out, *kernel_size, channels)``
   (:func:`numpy.lib.stride_tricks.as_strided`: no copy) and copies that view once into
   the ``(batch * prod(out), prod(kernel_size) * channels)`` matrix of patches (*im2col*),
3. multiplies it by the kernel seen as a ``(prod(kernel_size) * channels, filters)`` matrix.

The backward pass is two more products (``patches.T @ gy`` for the kernel,
``gy @ kernel.T`` for the patches) and *col2im*: the patches' gradient added back
into the padded input, one strided slice-add per kernel offset (``kh * kw`` adds, never
a loop over pixels or samples). ``channels_first`` inputs are transposed to channels
last and back. A one-channel input (a grayscale image) is copied into the transposed
patch matrix instead, whose rows are runs along the image's rows.

Where the ``fast`` extra (Numba) is installed and :func:`chainrule.config.fused_kernels`
is on, col2im (with four channels or more), the bias's add and its gradient run as
compiled loops (``ops/_conv_kernels.py``) with bit-identical results. A depthwise
convolution (one group per input channel, any depth multiplier: ``depthwise_conv``,
``separable_conv``'s first step) makes no patches there: its forward and its backward (the
input's and the kernel's gradients in one pass) are compiled loops over the input, padded
implicitly (no padded copy; a padded position's zeros are multiplied and added all the same),
which sum the same terms as the grouped products in another order (equal to rounding; the
NumPy path stays the fallback). In a captured program a convolution absorbs a zero padding
of the spatial axes read by it alone (:meth:`Conv.absorb`, ``ZeroPadding2D`` before a strided
convolution): it adds the zeros to its own padding, bit-identical to the two ops. A 1x1 convolution (stride 1) multiplies the input itself,
seen as its patch matrix, without copying it.

Where one sample's patches pass ``_CHUNK_BYTES`` (1 MiB), the products run block by
block of samples so that each block's patches stay in the cache: the forward makes and
multiplies them block by block and keeps none, and the backward makes each block again
for the kernel's gradient (a sum of the blocks' products, which may round differently in
the last bits from one product over all rows) beside the block's patch gradients and
col2im. In a captured program, a convolution read only by a ReLU read only by a tiled
max pooling (``Program._link_absorb``) leaves its bias to the ReLU, its output to the
pooling block by block (:class:`_ConvOutput`), and takes the pooled gradient block by block
(``pooling._PooledGradient``) where its input needs no gradient (for one input channel,
straight from the pooled gradient in one compiled pass).

Example:
    >>> import numpy as np, chainrule as cr
    >>> x = np.arange(5.0).reshape(1, 5, 1)
    >>> cr.ops.conv(x, np.ones((2, 1, 1))).numpy().ravel()
    array([1., 3., 5., 7.])
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from chainrule import backend
from chainrule.autograd.engine import Function, Tensor, shape_error
from chainrule.ops import _conv_kernels as _k

__all__ = ["conv", "conv_transpose", "depthwise_conv", "separable_conv", "normalize_tuple", "normalize_padding", "normalize_data_format",
           "conv_output_length", "padding_amounts"]


# -- argument checks shared by the conv and pooling ops and layers ----------------------------


def normalize_tuple(value: Any, n: int, name: str, owner: str = "conv",
                    allow_zero: bool = False) -> tuple[int, ...]:
    """``value`` (an int or ``n`` ints) as a tuple of ``n`` positive ints.

    Args:
        value: an integer, or a tuple/list of ``n`` integers.
        n: the number of spatial dimensions.
        name: the argument's name, for the error.
        owner: who asks (a layer or op name), for the error.
        allow_zero: accept zeros (never negatives).

    Returns:
        A tuple of ``n`` ints.

    Raises:
        ValueError: naming the argument, for anything else.

    Example:
        >>> normalize_tuple(3, 2, "kernel_size")
        (3, 3)
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    elif isinstance(value, (tuple, list)) and len(value) == n and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        out = tuple(int(v) for v in value)
    else:
        raise ValueError(f"{owner}: the `{name}` argument must be an integer or a tuple of {n} "
                         f"integers. Received: {name}={value!r}")
    low = 0 if allow_zero else 1
    if any(v < low for v in out):
        what = "non-negative" if allow_zero else "positive (> 0)"
        raise ValueError(f"{owner}: every value of `{name}` must be {what}. "
                         f"Received: {name}={value!r}")
    return out


def normalize_padding(padding: Any, allowed: Sequence[str], owner: str = "conv") -> str:
    """``padding`` lower-cased, checked against ``allowed`` (with a close match suggested).

    Example:
        >>> normalize_padding("SAME", ("valid", "same"))
        'same'
    """
    if isinstance(padding, str) and padding.lower() in allowed:
        return padding.lower()
    import difflib  # noqa: PLC0415  (loads only for a wrong name)

    close = difflib.get_close_matches(str(padding).lower(), list(allowed), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    if str(padding).lower() == "causal":
        hint = " 'causal' padding is for 1-D convolutions (Conv1D) only."
    raise ValueError(f"{owner}: invalid padding.{hint} Expected one of "
                     f"{', '.join(repr(a) for a in allowed)}. Received: padding={padding!r}")


def normalize_data_format(data_format: Any, owner: str = "conv") -> str:
    """``None`` → ``'channels_last'`` (Keras's ``image_data_format`` default); checks the value."""
    if data_format is None:
        return "channels_last"
    if isinstance(data_format, str) and data_format.lower() in ("channels_last", "channels_first"):
        return data_format.lower()
    raise ValueError(f"{owner}: data_format must be 'channels_last' or 'channels_first'. "
                     f"Received: data_format={data_format!r}")


def padding_amounts(size: int, k: int, stride: int, dilation: int, padding: str
                    ) -> tuple[int, int]:
    """Pixels added before and after one spatial axis (TensorFlow's rule for ``"same"``).

    Example:
        >>> padding_amounts(28, 3, 1, 1, "same"), padding_amounts(5, 2, 2, 1, "same")
        ((1, 1), (0, 1))
    """
    span = (k - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return total // 2, total - total // 2
    if padding == "causal":
        return span - 1, 0
    return 0, 0


def conv_output_length(size: int | None, k: int, stride: int, dilation: int, padding: str
                       ) -> int | None:
    """Output length of one spatial axis (``None`` stays ``None``); may be <= 0 when too small.

    Example:
        >>> conv_output_length(28, 3, 1, 1, "valid"), conv_output_length(28, 3, 2, 1, "same")
        (26, 14)
    """
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    before, after = padding_amounts(size, k, stride, dilation, padding)
    span = (k - 1) * dilation + 1
    return (size + before + after - span) // stride + 1 if size + before + after >= span else 0


# -- the strided machinery (shared with pooling) ------------------------------------------------


class _Geometry:
    """Padding, output size and the slices of one kernel offset, for a channels-last input."""

    __slots__ = ("shape", "pads", "padded", "out", "k", "strides", "dilation")

    def __init__(self, shape, k, strides, dilation, padding, what, extra=None):
        self.shape, self.k, self.strides, self.dilation = shape, k, strides, dilation
        spatial = shape[1:-1]
        # extra: zero padding (before, after) per spatial axis taken from a padding op before
        # (Conv.absorb): the geometry is the padded input's, its zeros added to the pads
        extra = extra or ((0, 0),) * len(spatial)
        sizes = [n + eb + ea for n, (eb, ea) in zip(spatial, extra)]
        self.pads = [(a + eb, b + ea) for (a, b), (eb, ea) in zip(
            (padding_amounts(n, kk, s, d, padding)
             for n, kk, s, d in zip(sizes, k, strides, dilation)), extra)]
        self.padded = tuple(n + a + b for n, (a, b) in zip(spatial, self.pads))
        self.out = tuple(conv_output_length(n, kk, s, d, padding)
                         for n, kk, s, d in zip(sizes, k, strides, dilation))
        if any(o <= 0 for o in self.out):
            span = tuple((kk - 1) * d + 1 for kk, d in zip(k, dilation))
            raise shape_error(
                f"{what}: the window {span} (kernel {tuple(k)}, dilation {tuple(dilation)}) is "
                f"larger than the padded input {self.padded} (padding {padding!r}). "
                f"Received: inputs of shape {tuple(shape)}")

    @property
    def any_pad(self) -> bool:
        return any(a or b for a, b in self.pads)

    def interior(self) -> tuple:
        return (slice(None),) + tuple(slice(a, a + n) for (a, _), n in
                                      zip(self.pads, self.shape[1:-1])) + (slice(None),)

    def offsets(self):
        return itertools.product(*(range(kk) for kk in self.k))

    def window(self, offset) -> tuple:
        """The slice of the padded input that offset ``offset`` of every window reads."""
        return (slice(None),) + tuple(
            slice(i * d, i * d + s * (o - 1) + 1, s)
            for i, d, s, o in zip(offset, self.dilation, self.strides, self.out)) + (slice(None),)


def _padded(fn, x, geo, fill):
    """``x`` inside a buffer of the padded shape (kept by ``fn`` and reused: its border stays)."""
    if not geo.any_pad:
        return x
    shape = (x.shape[0],) + geo.padded + (x.shape[-1],)
    buf = getattr(fn, "_pad_buf", None)
    if buf is None or buf.shape != shape or buf.dtype != x.dtype or getattr(
            fn, "_pad_fill", None) != fill:
        buf = np.full(shape, fill, dtype=x.dtype)
        fn._pad_buf, fn._pad_fill = buf, fill
    buf[geo.interior()] = x
    return buf


def _to_last(x, channels_first):
    return np.moveaxis(x, 1, -1) if channels_first else x


def _to_first(y, channels_first):
    return np.ascontiguousarray(np.moveaxis(y, -1, 1)) if channels_first else y


def _im2col(fn, xp, geo, attr):
    """The patches of padded ``xp`` as a ``(n * prod(out), prod(k) * c)`` matrix: one copy of a
    strided view, into a buffer ``fn`` keeps under ``attr`` (a replayed step reuses it)."""
    n, c, st = xp.shape[0], xp.shape[-1], xp.strides
    view = as_strided(xp, (n, *geo.out, *geo.k, c), (
        st[0], *(s * t for s, t in zip(st[1:-1], geo.strides)),
        *(s * d for s, d in zip(st[1:-1], geo.dilation)), st[-1]), writeable=False)
    shape = (n * math.prod(geo.out), math.prod(geo.k) * c)
    cols = getattr(fn, attr, None)
    if cols is None or cols.shape != shape or cols.dtype != xp.dtype:
        cols = np.empty(shape, dtype=xp.dtype)
        setattr(fn, attr, cols)
    np.copyto(cols.reshape(view.shape), view)
    return cols


def _im2col_t(fn, xp, geo, attr):
    """The patches of a one-channel ``xp`` as the transposed ``(prod(k), n * prod(out))``
    matrix: one copy of a strided view whose rows are runs along the last spatial axis,
    where :func:`_im2col`'s rows would be ``prod(k)`` single pixels (``cols_t.T`` is
    :func:`_im2col`'s matrix; products take it as is)."""
    n, st = xp.shape[0], xp.strides
    view = as_strided(xp, (*geo.k, n, *geo.out), (
        *(s * d for s, d in zip(st[1:-1], geo.dilation)), st[0],
        *(s * t for s, t in zip(st[1:-1], geo.strides))), writeable=False)
    shape = (math.prod(geo.k), n * math.prod(geo.out))
    cols = getattr(fn, attr, None)
    if cols is None or cols.shape != shape or cols.dtype != xp.dtype:
        cols = np.empty(shape, dtype=xp.dtype)
        setattr(fn, attr, cols)
    np.copyto(cols.reshape(view.shape), view)
    return cols


def _col2im(gcols, geo, pshape, gxp=None):
    """The inverse gather of :func:`_im2col`: patches added back into an array of the padded
    shape ``pshape``, one strided slice-add per kernel offset; returns the unpadded part.

    ``gxp``: the padded array to write into (zeroed first), else a new one."""
    nd = len(geo.k)
    gc = gcols.reshape(pshape[0], *geo.out, *geo.k, pshape[-1])
    # the same adds in the same order in one compiled loop; with few channels (inner loops of
    # one or two elements) NumPy's slice-adds are as fast
    kernel = _k.get("col2im", gc) if pshape[-1] >= 4 else None
    if kernel is not None:
        if gxp is None:
            gxp = np.empty(pshape, dtype=gcols.dtype)
        kernel(gc.reshape(pshape[0], *_k.pad3(geo.out), *_k.pad3(geo.k), pshape[-1]),
               _k.as3d(gxp, nd), *_k.pad3(geo.strides), *_k.pad3(geo.dilation))
    else:
        if gxp is None:
            gxp = np.zeros(pshape, dtype=gcols.dtype)
        else:
            gxp.fill(0)
        lead = (slice(None),) * (1 + nd)
        for offset in geo.offsets():
            gxp[geo.window(offset)] += gc[lead + offset]
    return gxp[geo.interior()] if geo.any_pad else gxp


_CHUNK_BYTES = 1 << 20  # a block of patch rows that stays in a core's cache (L2)


# the output gradient's size (elements) from which a one-channel convolution's kernel and bias
# gradients come straight from a pooled gradient (Conv._one_channel_grads); smaller, its blocks
# stay in the cache and their product costs about what the kernel does
_ONE_CHANNEL_MIN = 1 << 18


def _chunk(n, m, k, itemsize):
    """Samples per block of a product's ``n * m`` rows of ``k`` values: about
    ``_CHUNK_BYTES`` of patches; ``n`` (one block) when that is all of them."""
    return max(1, min(n, _CHUNK_BYTES // max(1, m * k * itemsize)))


def _add_bias(y, b):
    """``y += b`` for ``y`` of shape ``(m, f)`` (a compiled loop where the kernels are on)."""
    kernel = _k.get("bias_add", y, b) if y.flags.c_contiguous and b.dtype == y.dtype else None
    if kernel is not None:
        kernel(y, b)
    else:
        y += b


def _bias_grad(gy2, out=None):
    """``gy2`` (contiguous ``(m, f)``) summed over its rows, into ``out`` when given.

    With more than one filter NumPy sums row after row (the reduced axis is not the
    contiguous one), which is what the compiled loop does; one filter is a contiguous
    (pairwise) sum and stays with NumPy.
    """
    m, f = gy2.shape
    kernel = _k.get("bias_grad", gy2) if f > 1 and m > 0 else None
    if kernel is None or (out is not None and (out.dtype != gy2.dtype or out.shape != (f,)
                                               or not out.flags.c_contiguous)):
        return np.add.reduce(gy2, axis=0, out=out)
    if out is None:
        out = np.empty(f, dtype=gy2.dtype)
    kernel(gy2, out)
    return out


def _group_cols(cols, g, cg):
    """Patches ``(m, K*C)`` as ``(g, m, K*cg)``: each group's channels together (one copy)."""
    m = cols.shape[0]
    return np.ascontiguousarray(cols.reshape(m, -1, g, cg).transpose(2, 0, 1, 3)).reshape(g, m, -1)


def _group_kernel(w, g):
    """Kernel ``(*k, cg, f)`` as ``(g, K*cg, f/g)``: group ``i`` makes filters ``i*f/g...``."""
    f = w.shape[-1]
    return w.reshape(-1, g, f // g).transpose(1, 0, 2)


def _ungroup_kernel(w_g, shape):
    """The inverse of :func:`_group_kernel`: ``(g, K*cg, f/g)`` back to ``shape``."""
    return w_g.transpose(1, 0, 2).reshape(shape)


def _group_grad(gy2, g):
    """Output gradient ``(m, f)`` as ``(g, m, f/g)`` (a view)."""
    m, f = gy2.shape
    return gy2.reshape(m, g, f // g).transpose(1, 0, 2)


class Conv(Function):
    """N-d convolution (cross-correlation, as in Keras) with an optional bias, groups by the kernel."""

    supports_grad_out = True
    defer_bias = False  # set when the op reading the output adds the bias (nn.Relu.absorb)
    deferred_bias = None  # this call's bias, when left to that op
    forward_only = False  # set by a forward-only captured program: no backward will follow
    blocks_grad = False  # set when the output's gradient may come in blocks (MaxPool.absorb)
    lazy_output = False  # set when a fused max pooling takes the output in blocks (the same)
    _direct = False  # this call ran the compiled depthwise loops (_depthwise_forward)
    _pointwise = False  # this call was a 1x1 convolution: the input is its patch matrix
    extra_pads = None  # zero padding per spatial axis taken from a padding op before (absorb)

    def __init__(self, strides, padding, dilation, channels_first):
        self.strides, self.padding = strides, padding
        self.dilation, self.channels_first = dilation, channels_first

    def absorb(self, producer: Function, sole: bool = False) -> bool:
        """Offered by a captured program (:meth:`~chainrule.autograd.capture.Program`) the op
        whose output is this op's input: a zero padding of the spatial axes alone
        (``ops.pad`` with zeros, as ``ZeroPadding2D`` before a strided convolution makes),
        read by this op alone, hands its input on unpadded; this op adds the zeros to its own
        padding (in the buffer it pads into and reuses, never a new padded array) and its
        input's gradient, made at the unpadded size, is the padding's. The same values are
        multiplied in the same order: bit-identical to the two ops one by one.

        Args:
            producer: the op that computes this op's input in the same replay.
            sole: whether nothing else reads that input.

        Returns:
            Whether the padding moved here.
        """
        from chainrule.ops.arrays import Pad  # noqa: PLC0415

        if not sole or type(producer) is not Pad or self.extra_pads is not None:
            return False
        widths, value = producer.widths, producer.value
        if (producer.mode != "constant" or type(value) not in (int, float) or value != 0
                or math.copysign(1.0, value) < 0 or len(widths) < 3):
            return False
        spatial = widths[2:] if self.channels_first else widths[1:-1]
        other = widths[:2] if self.channels_first else (widths[0], widths[-1])
        if any(other_pair != (0, 0) for other_pair in other):
            return False
        producer.handed, self.extra_pads = True, tuple(spatial)
        return True

    def forward(self, x, w, b=None):
        nd = w.ndim - 2
        if x.ndim != nd + 2:
            raise shape_error(
                f"conv: a kernel of shape {w.shape} needs {nd + 2}-D inputs (batch, "
                f"{nd} spatial axes, channels). Received: inputs of shape {x.shape}")
        x = _to_last(x, self.channels_first)
        c, cg, f = x.shape[-1], w.shape[-2], w.shape[-1]
        if cg == 0 or c % cg or f % (c // cg):
            raise shape_error(
                f"conv: the input's {c} channels must be a multiple of the kernel's input "
                f"channels {cg} (groups = {c} / {cg}), and its {f} filters a multiple of the "
                f"groups. Received: inputs of shape {x.shape}, kernel of shape {w.shape}")
        self.groups = c // cg
        k = w.shape[:nd]
        geo = self.geo = _Geometry(x.shape, k, self.strides, self.dilation, self.padding, "conv",
                                   self.extra_pads)
        self.w, self.xshape, self.has_bias = w, x.shape, b is not None
        self._direct = self._pointwise = False
        if c > 1 and cg == 1 and x.dtype == w.dtype:  # depthwise: compiled loops, no patches
            kernel = _k.get("depthwise", x, w)
            if kernel is not None:  # they pad implicitly: the input is read as it is
                self.xp, self.pshape = x, x.shape
                return self._depthwise_forward(kernel, b)
        xp = _padded(self, x, geo, 0)
        n, m = x.shape[0], x.shape[0] * math.prod(geo.out)
        self.pshape = xp.shape
        per = math.prod(geo.out)
        chunk = _chunk(n, per, math.prod(k) * c, x.dtype.itemsize)
        self.xp = xp
        if self._lazy(x, w, b):  # the max pooling after the ReLU takes the output in blocks
            self.cols = _im2col_t(self, xp, geo, "_cols_t").T if c == 1 else None
            self.deferred_bias = b
            return _ConvOutput(self, (n, *geo.out, f), np.result_type(x.dtype, w.dtype))
        if (c > 1 and self.groups == 1 and all(v == 1 for v in (*k, *self.strides))
                and not geo.any_pad):
            # a 1x1 convolution: the input is its own patch matrix (no copy, one product)
            cols = self.cols = np.ascontiguousarray(x).reshape(m, c)
            self._pointwise = True
        elif c > 1 and self.groups == 1 and chunk < n:
            # nothing keeps the patches (the backward makes them again, block by block): each
            # block of samples' patches, then their product, while they are in the cache
            # (each row of the product as in one product)
            y = np.empty((m, f), dtype=np.result_type(x.dtype, w.dtype))
            w2 = w.reshape(-1, f)
            for s in range(0, n, chunk):
                cols = _im2col(self, xp[s:s + chunk], geo, "_cols_block")
                np.matmul(cols, w2, out=y[s * per:s * per + cols.shape[0]])
            self.cols = None
        elif c == 1:  # one input channel: the patches transposed (see _im2col_t); a view
            cols = self.cols = _im2col_t(self, xp, geo, "_cols_t").T
        else:
            cols = self.cols = _im2col(self, xp, geo, "_cols")
        if self.cols is None:
            pass
        elif self.groups == 1:
            y = cols @ w.reshape(-1, f)
        else:  # one batched product over the groups: (g, m, K*cg) @ (g, K*cg, f/g)
            self._cols_g = _group_cols(cols, self.groups, cg)
            y = np.matmul(self._cols_g, _group_kernel(w, self.groups))
            y = y.transpose(1, 0, 2).reshape(m, f)
        self._bias(y, b)
        return _to_first(y.reshape(n, *geo.out, f), self.channels_first)

    def _bias(self, y, b):
        """Adds ``b`` to ``y`` (``(m, f)``), or leaves it to the ReLU after (``defer_bias``)."""
        self.deferred_bias = None
        if b is not None:
            if self.defer_bias and b.dtype == y.dtype and _k.get("bias_relu", y, b) is not None:
                self.deferred_bias = b  # the ReLU after this op adds it in its own pass
            else:
                _add_bias(y, b)

    def _depthwise_forward(self, kernel, b):
        """One group per input channel (Keras's depthwise convolution): the compiled loop
        ``depthwise`` over the input, padded implicitly (a padded position's zeros are
        multiplied and added as a padded array's would be; no padded copy), without patches.
        The sums are the NumPy path's terms in another order than its matrix products (the
        last bits may differ)."""
        geo, w, xp = self.geo, self.w, self.xp
        if not xp.flags.c_contiguous:  # channels first: a transposed view
            xp = self.xp = np.ascontiguousarray(xp)
        nd, n, f = len(geo.k), xp.shape[0], w.shape[-1]
        y = np.empty((n, *geo.out, f), dtype=xp.dtype)
        kernel(_k.as3d(xp, nd), np.ascontiguousarray(w).reshape(*_k.pad3(geo.k), f),
               _k.as3d(y, nd), *_k.pad3(geo.strides), *_k.pad3(geo.dilation),
               *_k.pad3(tuple(a for a, _ in geo.pads), 0))
        self.cols, self._direct = None, True
        self._bias(y.reshape(-1, f), b)
        return _to_first(y, self.channels_first)

    def _depthwise_backward(self, gy2):
        """The input's and the kernel's gradients of :meth:`_depthwise_forward` in one
        compiled pass over the output's gradient (``depthwise_grad``): the input's added back
        onto the input (at its unpadded size), the kernel's summed per sample in its dtype,
        then over the samples in float64."""
        geo, w, xp, needs = self.geo, self.w, self.xp, self.needs
        out = self.grad_out or {}
        nd, f = len(geo.k), w.shape[-1]
        gy2 = gy2.astype(xp.dtype, copy=False)
        want_x, want_w = bool(needs[0]), bool(needs[1])
        gxp = np.empty(self.pshape if want_x else (1,) * (nd + 2), dtype=xp.dtype)
        kshape = (*_k.pad3(geo.k), f) if want_w else (1, 1, 1, 1)
        part = np.empty(kshape, dtype=xp.dtype)
        acc = np.empty(kshape, dtype=np.float64)
        _k.get("depthwise_grad", xp, gy2)(
            _k.as3d(xp, nd), np.ascontiguousarray(w).reshape(*_k.pad3(geo.k), f),
            _k.as3d(gy2.reshape(xp.shape[0], *geo.out, f), nd), _k.as3d(gxp, nd), part, acc,
            want_x, want_w, *_k.pad3(geo.strides), *_k.pad3(geo.dilation),
            *_k.pad3(tuple(a for a, _ in geo.pads), 0))
        gx = gw = gb = None
        if want_w:
            if 1 in out:
                out[1][...] = acc.reshape(w.shape)
                gw = out[1]
            else:
                gw = acc.reshape(w.shape).astype(w.dtype)
        if self.has_bias and needs[2]:
            gb = _bias_grad(gy2, out.get(2))
        if want_x:
            gx = _to_first(gxp, self.channels_first)
        return gx, gw, gb

    def _lazy(self, x, w, b):
        """Whether this call hands its output on as a :class:`_ConvOutput` (``lazy_output``,
        set by ``pooling.MaxPool.absorb``; one group, channels last, the fused pooling's
        kernel on, the bias left to it)."""
        dt = np.result_type(x.dtype, w.dtype)
        return (self.lazy_output and self.groups == 1 and not self.channels_first
                and (b is None or (b.dtype == dt and self.defer_bias))
                and _k.get("bias_relu_max_pool", np.empty(0, dt)) is not None)

    def backward(self, gy):
        w, cols, g = self.w, self.cols, self.groups
        if not isinstance(gy, np.ndarray) and hasattr(gy, "block"):  # pooling._PooledGradient
            if self._takes_blocks(gy):
                return self._backward_blocks(gy)
            gy = gy.full()
        gy = _to_last(gy, self.channels_first)
        f = w.shape[-1]
        gy2 = gy.reshape(-1, f) if gy.flags.c_contiguous else np.ascontiguousarray(gy).reshape(-1, f)
        if self._direct:
            return self._depthwise_backward(gy2)
        needs = self.needs
        out = self.grad_out or {}
        gx = gw = gb = None
        if cols is None:  # the forward made the patches block by block
            gw, gx = self._backward_recompute(gy2)
            if self.has_bias and needs[2]:
                gb = _bias_grad(gy2, out.get(2))
            return gx, gw, gb
        if needs[1]:
            if self._pointwise:
                gw = self._pointwise_kernel_grad(gy2, out.get(1))
            elif g == 1:
                gw2 = out[1].reshape(-1, f) if 1 in out else None
                gw = np.matmul(cols.T, gy2, out=gw2).reshape(w.shape)
            else:
                gw_g = np.matmul(self._cols_g.transpose(0, 2, 1), _group_grad(gy2, g))
                gw = _ungroup_kernel(gw_g, w.shape)
                if 1 in out:
                    out[1][...] = gw
                    gw = out[1]
        if self.has_bias and needs[2]:
            gb = _bias_grad(gy2, out.get(2))
        if needs[0]:
            gx = self._col2im(gy2)
        return gx, gw, gb

    def _pointwise_kernel_grad(self, gy2, gw_out):
        """A 1x1 convolution's kernel gradient ``x.T @ gy``: where the patches of a sample
        pass ``_CHUNK_BYTES``, the sum of the products of blocks of samples, as
        :meth:`_backward_recompute` sums them (the same blocks, the same results)."""
        cols, w = self.cols, self.w
        n, (m, kc), f = self.xshape[0], cols.shape, w.shape[-1]
        per = m // n
        chunk = _chunk(n, per, kc, gy2.dtype.itemsize)
        gw2 = gw_out.reshape(-1, f) if gw_out is not None else None
        if chunk >= n:
            return np.matmul(cols.T, gy2, out=gw2).reshape(w.shape)
        if gw2 is None:
            gw2 = np.empty((kc, f), np.result_type(cols.dtype, gy2.dtype))
        part = np.empty_like(gw2)
        for s in range(0, n, chunk):
            rows = slice(s * per, min(n, s + chunk) * per)
            np.matmul(cols[rows].T, gy2[rows], out=gw2 if s == 0 else part)
            if s:
                gw2 += part
        return gw2.reshape(w.shape)

    def _backward_recompute(self, gy2):
        """The kernel's and the input's gradients block by block of samples, each block's
        patches made again (as the forward made them): ``patches.T @ gy`` summed over the
        blocks (which may round differently in the last bits from one product over all rows),
        the patches' gradient and col2im of each block while it is in the cache."""
        w, geo, xp = self.w, self.geo, self.xp
        f, n, kc = w.shape[-1], xp.shape[0], math.prod(geo.k) * xp.shape[-1]
        per = gy2.shape[0] // n
        chunk = _chunk(n, per, kc, gy2.dtype.itemsize)
        out = self.grad_out or {}
        gw2 = gxp = None
        if self.needs[1]:
            gw2 = out[1].reshape(-1, f) if 1 in out else np.empty(
                (kc, f), np.result_type(xp.dtype, gy2.dtype))
            part = np.empty_like(gw2)
        if self.needs[0]:
            gxp = np.empty(self.pshape, dtype=gy2.dtype)
            wt = w.reshape(-1, f).T
            gcols = getattr(self, "_gcols", None)
            if gcols is None or gcols.shape != (chunk * per, kc) or gcols.dtype != gy2.dtype:
                gcols = self._gcols = np.empty((chunk * per, kc), dtype=gy2.dtype)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            rows = gy2[s * per:e * per]
            if gw2 is not None:
                cols = _im2col(self, xp[s:e], geo, "_cols_block")
                np.matmul(cols.T, rows, out=gw2 if s == 0 else part)
                if s:
                    gw2 += part
            if gxp is not None:
                b = gcols[:rows.shape[0]]
                np.matmul(rows, wt, out=b)
                _col2im(b, geo, (e - s, *self.pshape[1:]), gxp[s:e])
        gw = None if gw2 is None else gw2.reshape(w.shape)
        if gxp is None:
            return gw, None
        gx = gxp[geo.interior()] if geo.any_pad else gxp
        return gw, _to_first(gx, self.channels_first)

    def _takes_blocks(self, lazy):
        """Whether :meth:`_backward_blocks` applies: no input gradient wanted, one group, the
        bias's gradient (if any) by the compiled row-by-row sum, continued block by block."""
        f, out = self.w.shape[-1], self.grad_out or {}
        gb = out.get(2)
        return (not self.needs[0] and self.groups == 1 and not self.channels_first and f > 1
                and (gb is None or (gb.dtype == lazy.dtype and gb.shape == (f,)
                                    and gb.flags.c_contiguous))
                and _k.get("bias_grad_add", np.empty(0, lazy.dtype)) is not None)

    def _backward_blocks(self, lazy):
        """The kernel's and bias's gradients from an output gradient made block by block of
        samples (:class:`chainrule.ops.pooling._PooledGradient`), each block used while it is
        in the cache. The bias's gradient is the same row-by-row sum as from the whole array;
        the kernel's is the sum of the blocks' products (``patches.T @ gy`` per block), which
        may round differently in the last bits from one product over all rows."""
        w, cols, f = self.w, self.cols, self.w.shape[-1]
        n, per = lazy.shape[0], math.prod(self.geo.out)
        kc = math.prod(self.geo.k) * self.xp.shape[-1]
        chunk = min(_chunk(n, per, f, lazy.dtype.itemsize), _chunk(n, per, kc,
                                                                   lazy.dtype.itemsize))
        shape = (chunk, *lazy.shape[1:])
        buf = getattr(self, "_gy_block", None)
        if buf is None or buf.shape != shape or buf.dtype != lazy.dtype:
            buf = self._gy_block = np.empty(shape, dtype=lazy.dtype)
        out = self.grad_out or {}
        gw2 = gb = None
        if self.needs[1]:
            gw2 = out[1].reshape(-1, f) if 1 in out else np.empty(
                (kc, f), np.result_type(self.xp.dtype, buf.dtype))
            part = np.empty_like(gw2)
        if self.has_bias and self.needs[2]:
            gb = out[2] if 2 in out else np.empty(f, dtype=lazy.dtype)
            add_rows = _k.get("bias_grad_add", gb)
        if self.xp.shape[-1] == 1 and self._one_channel_grads(lazy, gw2, gb):
            return None, None if gw2 is None else gw2.reshape(w.shape), gb
        if gb is not None:
            gb.fill(0)
        for s in range(0, n, chunk):
            e = min(n, s + chunk)
            g2 = lazy.block(s, e, buf[:e - s]).reshape(-1, f)
            if gw2 is not None:  # the block's patches: kept by the forward, or made again
                rows = cols[s * per:e * per] if cols is not None else _im2col(
                    self, self.xp[s:e], self.geo, "_cols_block")
                np.matmul(rows.T, g2, out=gw2 if s == 0 else part)
                if s:
                    gw2 += part
            if gb is not None:
                add_rows(g2, gb)
        return None, None if gw2 is None else gw2.reshape(w.shape), gb

    def _one_channel_grads(self, lazy, gw2, gb):
        """A one-channel 2-D convolution's kernel and bias gradients straight from the
        pooled gradient (``one_channel_pooled_weight_grad``: no output gradient is made;
        the bias's is the same row-by-row sum, the kernel's a per-sample then float64 sum);
        False where it does not apply (then nothing is written)."""
        geo, xp = self.geo, self.xp
        if math.prod(lazy.shape) < _ONE_CHANNEL_MIN:
            return False
        kernel = _k.get("one_channel_pooled_weight_grad", xp, lazy.gy)
        need_w = gw2 is not None
        if (kernel is None or len(geo.k) != 2 or not lazy.quick or xp.dtype != lazy.dtype
                or (need_w and gw2.dtype != lazy.dtype)):
            return False
        p = lazy.pool
        gw = gw2 if need_w else np.empty((math.prod(geo.k), lazy.shape[-1]), lazy.dtype)
        g_b = gb if gb is not None else np.empty(0, lazy.dtype)
        return bool(kernel(xp[..., 0], p.y, p.idx, lazy.gy, gw, g_b, gb is not None,
                           *geo.k, *geo.strides, *geo.dilation))

    def _col2im(self, gy2):
        w, geo, g = self.w, self.geo, self.groups
        if self._pointwise:  # the patches' gradient is the input's
            gx = (gy2 @ w.reshape(-1, w.shape[-1]).T).reshape(self.xshape)
            return _to_first(gx, self.channels_first)
        f, m = w.shape[-1], gy2.shape[0]
        n, pshape, kc = self.pshape[0], self.pshape, self.cols.shape[1]
        per = m // n
        chunk = _chunk(n, per, kc, gy2.dtype.itemsize) if g == 1 else n
        rows = chunk * per
        gcols = getattr(self, "_gcols", None)
        if gcols is None or gcols.shape != (rows, kc) or gcols.dtype != gy2.dtype:
            gcols = self._gcols = np.empty((rows, kc), dtype=gy2.dtype)
        if g == 1 and chunk < n:
            # block by block of samples: each block's patch gradients (a product), added back
            # while they are in the cache (each row of the product as in one product)
            wt = w.reshape(-1, f).T
            gxp = np.empty(pshape, dtype=gy2.dtype)
            for s in range(0, n, chunk):
                block = gy2[s * per:(s + chunk) * per]
                b = gcols[:block.shape[0]]
                np.matmul(block, wt, out=b)
                _col2im(b, geo, (block.shape[0] // per, *pshape[1:]), gxp[s:s + chunk])
            gx = gxp[geo.interior()] if geo.any_pad else gxp
            return _to_first(gx, self.channels_first)
        if g == 1:
            np.matmul(gy2, w.reshape(-1, f).T, out=gcols)
        else:
            cg = w.shape[-2]
            gcols_g = np.matmul(_group_grad(gy2, g), _group_kernel(w, g).transpose(0, 2, 1))
            gcols.reshape(m, -1, g, cg)[...] = gcols_g.reshape(g, m, -1, cg).transpose(1, 2, 0, 3)
        gx = _col2im(gcols, geo, self.pshape)
        return _to_first(gx, self.channels_first)


class _ConvOutput:
    """A convolution's output (without its bias) made block by block of samples on request,
    for a fused max pooling after its ReLU (``Conv.lazy_output``): each block is pooled
    while it is in the cache and the whole output is never written. Each row is the
    product's row as one product over all rows computes it.

    Attributes:
        shape, dtype: those of the output.
    """

    def __init__(self, conv: Conv, shape: tuple, dtype: Any) -> None:
        self.conv, self.shape, self.dtype = conv, shape, np.dtype(dtype)

    def block(self, start: int, stop: int, out: Any) -> Any:
        """Samples ``start:stop`` of the output, written into ``out`` (of their shape)."""
        conv, f = self.conv, self.shape[-1]
        per = math.prod(self.shape[1:-1])
        w2 = conv.w.reshape(-1, f)
        if conv.cols is not None:  # kept (one input channel: a view of the transposed patches)
            cols = conv.cols[start * per:stop * per]
        else:
            cols = _im2col(conv, conv.xp[start:stop], conv.geo, "_cols_block")
        np.matmul(cols, w2, out=out.reshape(-1, f))
        return out

    def full(self) -> Any:
        """The whole output as an array."""
        return self.block(0, self.shape[0], np.empty(self.shape, self.dtype))


def conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: Any = 1, bias: Any = None) -> Tensor:
    """N-d convolution (Keras's ``keras.ops.conv``), 1-D, 2-D or 3-D.

    Computes the cross-correlation of ``inputs`` with ``kernel`` as deep-learning
    libraries do (no kernel flip). Grouped convolution follows from the kernel's
    shape, as in Keras: ``groups = channels // kernel.shape[-2]``.

    Args:
        inputs: ``(batch, *spatial, channels)`` (``channels_last``) or
            ``(batch, channels, *spatial)`` (``channels_first``).
        kernel: ``(*kernel_size, channels // groups, filters)``.
        strides: an int or one int per spatial axis.
        padding: ``"valid"`` (none), ``"same"`` (output size ``ceil(size / stride)``,
            TensorFlow's split) or ``"causal"`` (1-D: all padding before).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or one int per spatial axis.
        bias: optional ``(filters,)`` added to every output position (one op with the
            convolution; not in Keras's signature).

    Returns:
        ``(batch, *out, filters)`` (or channels first), with ``out`` per axis
        ``ceil(size / stride)`` for ``"same"``, else
        ``(size + pad - dilation * (k - 1) - 1) // stride + 1``.

    Raises:
        ValueError: for a bad argument, mismatched channels, or a window larger than
            the padded input.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> x = np.ones((1, 4, 4, 1), dtype="float32")
        >>> cr.ops.conv(x, np.ones((3, 3, 1, 2), dtype="float32"), padding="same").shape
        (1, 4, 4, 2)
    """
    kshape = tuple(np.shape(getattr(kernel, "data", kernel)))
    nd = len(kshape) - 2
    if nd < 1:
        raise ValueError("conv: kernel must have shape (*kernel_size, in_channels, filters). "
                         f"Received: kernel of shape {kshape}")
    padding = normalize_padding(padding, ("valid", "same", "causal") if nd == 1
                                else ("valid", "same"), "conv")
    fmt = normalize_data_format(data_format, "conv")
    s = normalize_tuple(strides, nd, "strides", "conv")
    d = normalize_tuple(dilation_rate, nd, "dilation_rate", "conv")
    if not isinstance(inputs, Tensor) and not backend.is_array(inputs):
        inputs = backend.as_array(inputs)
    fn = Conv(s, padding, d, fmt == "channels_first")
    return fn(inputs, kernel) if bias is None else fn(inputs, kernel, bias)


def conv_transpose_output_length(size: int | None, k: int, stride: int, dilation: int,
                                 padding: str, output_padding: int | None = None) -> int | None:
    """Output length of one axis of a transposed convolution (Keras's rule).

    Example:
        >>> conv_transpose_output_length(7, 3, 2, 1, "same"), conv_transpose_output_length(7, 3, 2, 1, "valid")
        (14, 15)
    """
    if size is None:
        return None
    span = (k - 1) * dilation + 1
    if output_padding is None:
        return size * stride + max(span - stride, 0) if padding == "valid" else size * stride
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


class ConvTranspose(Function):
    """The transpose (gradient with respect to the input) of :class:`Conv`, as its own op.

    The kernel is ``(*kernel_size, out_channels, in_channels)`` (Keras's layout). Forward
    is the convolution's backward for the input (a product, then col2im) and backward is
    the convolution's forward (im2col, then products).
    """

    supports_grad_out = True

    def __init__(self, strides, padding, dilation, output_padding, channels_first):
        self.strides, self.padding, self.dilation = strides, padding, dilation
        self.output_padding, self.channels_first = output_padding, channels_first

    def forward(self, x, w, b=None):
        nd = w.ndim - 2
        if x.ndim != nd + 2:
            raise shape_error(
                f"conv_transpose: a kernel of shape {w.shape} needs {nd + 2}-D inputs. "
                f"Received: inputs of shape {x.shape}")
        x = _to_last(x, self.channels_first)
        cout, cin = w.shape[-2], w.shape[-1]
        if x.shape[-1] != cin:
            raise shape_error(
                f"conv_transpose: the kernel's last axis ({cin}) must be the input's channels. "
                f"Received: inputs of shape {x.shape}, kernel of shape {w.shape}")
        k = w.shape[:nd]
        op = self.output_padding or (None,) * nd
        length = tuple(conv_transpose_output_length(n, kk, s, d, self.padding, o) for
                       n, kk, s, d, o in zip(x.shape[1:-1], k, self.strides, self.dilation, op))
        if any(n <= 0 for n in length):
            raise shape_error(f"conv_transpose: the output would be empty ({length}). "
                              f"Received: inputs of shape {x.shape}, kernel of shape {w.shape}")
        shape = (x.shape[0], *length, cout)
        geo = self.geo = _Geometry(shape, k, self.strides, self.dilation, self.padding,
                                   "conv_transpose")
        if geo.out != x.shape[1:-1]:
            raise shape_error(
                f"conv_transpose: output_padding {self.output_padding} gives an output of "
                f"{length}, whose convolution has {geo.out} positions, not the input's "
                f"{x.shape[1:-1]}. Received: inputs of shape {x.shape}")
        self.x2, self.w, self.xshape = x.reshape(-1, cin), w, x.shape
        self.pshape = (x.shape[0], *geo.padded, cout)
        self.has_bias = b is not None
        y = _col2im(self.x2 @ w.reshape(-1, cin).T, geo, self.pshape)
        if b is not None:
            y += b
        return _to_first(y, self.channels_first)

    def backward(self, gy):
        w, x2 = self.w, self.x2
        gy = _to_last(gy, self.channels_first)
        cin = w.shape[-1]
        cols = _im2col(self, _padded(self, gy, self.geo, 0), self.geo, "_cols")
        out = self.grad_out or {}
        gx = gw = gb = None
        if self.needs[0]:
            gx = _to_first((cols @ w.reshape(-1, cin)).reshape(self.xshape), self.channels_first)
        if self.needs[1]:
            gw2 = out[1].reshape(-1, cin) if 1 in out else None
            gw = np.matmul(cols.T, x2, out=gw2).reshape(w.shape)
        if self.has_bias and self.needs[2]:
            gb = np.add.reduce(gy.reshape(-1, gy.shape[-1]), axis=0, out=out.get(2))
        return gx, gw, gb


def conv_transpose(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, data_format: str | None = None,
                   dilation_rate: Any = 1, bias: Any = None) -> Tensor:
    """Transposed convolution (Keras's ``keras.ops.conv_transpose``), 1-D, 2-D or 3-D.

    The gradient of :func:`conv` with respect to its input, as a layer: each input
    pixel scatters ``kernel`` times its value into the (larger) output.

    Args:
        inputs: ``(batch, *spatial, in_channels)`` (or channels first).
        kernel: ``(*kernel_size, out_channels, in_channels)``.
        strides: an int or one per spatial axis.
        padding: ``"valid"`` or ``"same"``.
        output_padding: None (infer), an int or one per axis (each below its stride):
            extra rows at the end of the output.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or one per spatial axis.
        bias: optional ``(out_channels,)`` added in the same op (not in Keras's signature).

    Returns:
        ``(batch, *out, out_channels)``: per axis ``size * stride`` (``"same"``) or
        ``size * stride + max(k - stride, 0)`` (``"valid"``) without ``output_padding``.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.ops.conv_transpose(np.ones((1, 3, 3, 2)), np.ones((3, 3, 4, 2)), strides=2,
        ...                       padding="same").shape
        (1, 6, 6, 4)
    """
    kshape = tuple(np.shape(getattr(kernel, "data", kernel)))
    nd = len(kshape) - 2
    if nd < 1:
        raise ValueError("conv_transpose: kernel must have shape (*kernel_size, out_channels, "
                         f"in_channels). Received: kernel of shape {kshape}")
    padding = normalize_padding(padding, ("valid", "same"), "conv_transpose")
    fmt = normalize_data_format(data_format, "conv_transpose")
    s = normalize_tuple(strides, nd, "strides", "conv_transpose")
    d = normalize_tuple(dilation_rate, nd, "dilation_rate", "conv_transpose")
    op = None
    if output_padding is not None:
        op = normalize_tuple(output_padding, nd, "output_padding", "conv_transpose",
                             allow_zero=True)
        if any(o >= st for o, st in zip(op, s)):
            raise ValueError("conv_transpose: every value of `output_padding` must be smaller "
                             f"than the stride {s}. Received: output_padding={output_padding!r}")
    if not isinstance(inputs, Tensor) and not backend.is_array(inputs):
        inputs = backend.as_array(inputs)
    fn = ConvTranspose(s, padding, d, op, fmt == "channels_first")
    return fn(inputs, kernel) if bias is None else fn(inputs, kernel, bias)


def depthwise_conv(inputs: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: Any = 1,
                   bias: Any = None) -> Tensor:
    """Depthwise convolution (Keras's ``keras.ops.depthwise_conv``): each channel on its own.

    Channel ``c`` is convolved with ``kernel[..., c, :]``, giving ``depth_multiplier``
    outputs, at positions ``c * depth_multiplier + m``: the grouped :func:`conv` with one
    group per channel (the kernel reshaped to ``(*k, 1, channels * depth_multiplier)``),
    which runs compiled loops without patch matrices where the ``fast`` extra is on.

    Args:
        inputs: ``(batch, *spatial, channels)`` (or channels first).
        kernel: ``(*kernel_size, channels, depth_multiplier)``.
        strides, padding, data_format, dilation_rate, bias: as for :func:`conv`.

    Returns:
        ``(batch, *out, channels * depth_multiplier)`` (or channels first).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.ops.depthwise_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2))).shape
        (1, 3, 3, 6)
    """
    from chainrule.ops.shaping import reshape  # noqa: PLC0415

    kshape = tuple(np.shape(getattr(kernel, "data", kernel)))
    if len(kshape) < 3:
        raise ValueError("depthwise_conv: kernel must have shape (*kernel_size, channels, "
                         f"depth_multiplier). Received: kernel of shape {kshape}")
    kernel = reshape(kernel, kshape[:-2] + (1, kshape[-2] * kshape[-1]))
    return conv(inputs, kernel, strides, padding, data_format, dilation_rate, bias=bias)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: Any = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: Any = 1, bias: Any = None) -> Tensor:
    """Separable convolution (Keras's ``keras.ops.separable_conv``).

    A :func:`depthwise_conv` then a pointwise (1×1) :func:`conv` mixing the channels.

    Args:
        inputs: ``(batch, *spatial, channels)`` (or channels first).
        depthwise_kernel: ``(*kernel_size, channels, depth_multiplier)``.
        pointwise_kernel: ``(1, ..., 1, channels * depth_multiplier, filters)``.
        strides, padding, data_format, dilation_rate: of the depthwise step.
        bias: optional ``(filters,)`` added by the pointwise step.

    Returns:
        ``(batch, *out, filters)`` (or channels first).

    Example:
        >>> import numpy as np, chainrule as cr
        >>> cr.ops.separable_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)),
        ...                       np.ones((1, 1, 6, 4))).shape
        (1, 3, 3, 4)
    """
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1, bias=bias)
