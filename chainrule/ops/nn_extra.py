"""More of Keras 3's ``keras.ops.nn``: ``hard_silu``, ``sparse_sigmoid``, ``rms_normalization``,
``dot_product_attention``, ``depth_to_space``/``space_to_depth``, ``psnr``, the adaptive
pools and ``unfold``/``fold``.

All are compositions of existing ops (``clip``, ``mean``, ``einsum``,
``softmax``, ``reshape``, ``transpose``, ``take``...; ``fold`` is the overlap-add
that ``istft`` uses), so their gradients are those ops' and a captured step
replays them like any other.

Example:
    >>> import chainrule as cr
    >>> cr.ops.hard_silu(cr.Tensor([-4.0, 0.0, 4.0]))
    Tensor([-0.,  0.,  4.], dtype=float32)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Tensor
from chainrule.ops.core import as_input, cast, raw
from chainrule.ops.elementwise import log10
from chainrule.ops.indexing import where
from chainrule.ops.linalg import einsum
from chainrule.ops.math import clip, divide, multiply, sqrt, square
from chainrule.ops.nn import hard_sigmoid, softmax
from chainrule.ops.reduce import mean
from chainrule.ops.shaping import reshape, transpose

__all__ = ["hard_silu", "hard_swish", "sparse_sigmoid", "rms_normalization",
           "dot_product_attention", "depth_to_space", "space_to_depth", "psnr",
           "adaptive_average_pool", "adaptive_max_pool", "unfold", "fold", "polar"]


def hard_silu(x: Any) -> Tensor:
    """``x * hard_sigmoid(x)`` (MobileNetV3's hard swish).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.hard_silu(cr.Tensor([1.0]))
        Tensor([0.6666667], dtype=float32)
    """
    x = as_input(x)
    return multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def sparse_sigmoid(x: Any) -> Tensor:
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.sparse_sigmoid(cr.Tensor([-2.0, 0.0, 0.5, 3.0]))
        Tensor([0.  , 0.5 , 0.75, 1.  ], dtype=float32)
    """
    return clip(as_input(x) * 0.5 + 0.5, 0.0, 1.0)


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1,
                      epsilon: float | None = None) -> Tensor:
    """``x / sqrt(mean(x**2, axis) + epsilon) * scale`` (root-mean-square normalization).

    Args:
        x: input.
        scale: optional multiplier, broadcast against ``x``.
        axis: the axis or axes to normalize over.
        epsilon: added to the mean square (default ``backend.epsilon()``).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.rms_normalization(cr.Tensor([[3.0, 4.0]]), epsilon=0.0)
        Tensor([[0.84852815, 1.1313709 ]], dtype=float32)
    """
    x = as_input(x)
    if epsilon is None:
        epsilon = backend.epsilon()
    axis = tuple(sorted(axis)) if isinstance(axis, (list, tuple)) else axis
    if np.ndim(raw(x)) == 0:
        x = reshape(x, (1,))
    y = divide(x, sqrt(mean(square(x), axis=axis, keepdims=True) + float(epsilon)))
    if scale is not None:
        s = as_input(scale)
        if raw(s).dtype != raw(y).dtype:
            s = cast(s, raw(y).dtype)
        y = multiply(y, s)
    return y


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None,
                          mask: Any = None, scale: float | None = None,
                          is_causal: bool = False, flash_attention: bool | None = None,
                          attn_logits_soft_cap: float | None = None) -> Tensor:
    """Scaled dot-product attention ``softmax(q k^T * scale + bias, masked) v`` on 4-D inputs.

    Args:
        query: shape ``(batch, target, heads, dim)``.
        key: shape ``(batch, source, heads, dim)``.
        value: shape ``(batch, source, heads, dim_v)``.
        bias: optional logits bias, broadcast to ``(batch, heads, target, source)``.
        mask: optional boolean mask of that shape (True: attend).
        scale: the logits' scale (default ``1 / sqrt(dim)``).
        is_causal: let each target position attend only to source positions up to it.
        flash_attention: must be None or False (no fused kernel here).
        attn_logits_soft_cap: must be None (Keras supports it on TPUs only).

    Returns:
        Shape ``(batch, target, heads, dim_v)``.

    Raises:
        ValueError: for inputs that are not 4-D, or ``flash_attention=True``.

    Example:
        >>> import chainrule as cr
        >>> q = cr.ops.ones((1, 2, 1, 4))
        >>> cr.ops.dot_product_attention(q, q, q).shape
        (1, 2, 1, 4)
    """
    if flash_attention:
        raise ValueError("dot_product_attention: chainrule has no flash attention kernel. "
                         f"Received: flash_attention={flash_attention!r}")
    if attn_logits_soft_cap is not None:
        raise ValueError("dot_product_attention: attn_logits_soft_cap is only supported by "
                         "Keras on TPUs. Received: "
                         f"attn_logits_soft_cap={attn_logits_soft_cap!r}")
    q, k, v = as_input(query), as_input(key), as_input(value)
    shapes = [np.shape(raw(t)) for t in (q, k, v)]
    if any(len(s) != 4 for s in shapes):
        raise ValueError("dot_product_attention: query, key and value must be 4-D (batch, "
                         f"length, heads, dim). Received: query.shape={shapes[0]}, "
                         f"key.shape={shapes[1]}, value.shape={shapes[2]}")
    dim = shapes[1][-1]
    scale = 1.0 / math.sqrt(dim) if scale is None else float(scale)
    logits = einsum("BTNH,BSNH->BNTS", q, k) * scale
    if bias is not None:
        logits = logits + as_input(bias)
    if mask is not None or is_causal:
        keep = np.ones((1, 1, 1, 1), bool)
        if is_causal:
            t, s = shapes[0][1], shapes[1][1]
            keep = np.tril(np.ones((t, s), bool))[None, None]
        if mask is not None:
            from chainrule.ops.elementwise import logical_and  # noqa: PLC0415

            m = as_input(mask)
            if raw(m).dtype != bool:
                m = cast(m, bool)
            keep = logical_and(m, keep)
        big = np.finfo(raw(logits).dtype).max * -0.7 if raw(logits).dtype.kind == "f" else -1e30
        logits = where(keep, logits, float(big))
    probs = softmax(logits, axis=-1)
    return einsum("BNTS,BSNH->BTNH", probs, v)


def _block(block_size: Any, op: str) -> int:
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)) or \
            block_size < 2:
        raise ValueError(f"{op}: block_size must be an integer of at least 2. "
                         f"Received: block_size={block_size!r}")
    return int(block_size)


def _image(x: Any, data_format: str, op: str) -> tuple:
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    x = as_input(x)
    s = np.shape(raw(x))
    if len(s) != 4:
        raise ValueError(f"{op}: x must be 4-D (batch, height, width, channels). Received: "
                         f"x of shape {s}")
    return x, s


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move channels into ``block_size x block_size`` spatial blocks (pixel shuffle):
    ``(N, H, W, C) -> (N, H*b, W*b, C/b**2)``.

    Raises:
        ValueError: for ``block_size < 2``, a 4-D input expected, or channels not divisible by
            ``block_size**2``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.depth_to_space(cr.ops.zeros((1, 2, 3, 8)), 2).shape
        (1, 4, 6, 2)
    """
    b = _block(block_size, "depth_to_space")
    x, s = _image(x, data_format, "depth_to_space")
    last = data_format == "channels_last"
    n, h, w, c = s if last else (s[0], s[2], s[3], s[1])
    if c % (b * b):
        raise ValueError(f"depth_to_space: the channels ({c}) must be divisible by "
                         f"block_size**2 ({b * b}). Received: x of shape {s}")
    nc = c // (b * b)
    if last:
        y = transpose(reshape(x, (n, h, w, b, b, nc)), (0, 1, 3, 2, 4, 5))
        return reshape(y, (n, h * b, w * b, nc))
    y = transpose(reshape(x, (n, nc, b, b, h, w)), (0, 1, 4, 2, 5, 3))
    return reshape(y, (n, nc, h * b, w * b))


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Move ``block_size x block_size`` spatial blocks into channels (pixel unshuffle):
    ``(N, H, W, C) -> (N, H/b, W/b, C*b**2)``.

    Raises:
        ValueError: for ``block_size < 2``, a non-4-D input, or height/width not divisible by
            ``block_size``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.space_to_depth(cr.ops.zeros((1, 4, 6, 2)), 2).shape
        (1, 2, 3, 8)
    """
    b = _block(block_size, "space_to_depth")
    x, s = _image(x, data_format, "space_to_depth")
    last = data_format == "channels_last"
    n, h, w, c = s if last else (s[0], s[2], s[3], s[1])
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width must be divisible by block_size "
                         f"({b}). Received: x of shape {s}")
    if last:
        y = transpose(reshape(x, (n, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5))
        return reshape(y, (n, h // b, w // b, c * b * b))
    y = transpose(reshape(x, (n, c, h // b, b, w // b, b)), (0, 1, 3, 5, 2, 4))
    return reshape(y, (n, c * b * b, h // b, w // b))


def psnr(x1: Any, x2: Any, max_val: float) -> Tensor:
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mean((x1 - x2)**2))``.

    Raises:
        ValueError: when the shapes differ.

    Example:
        >>> import chainrule as cr
        >>> round(float(cr.ops.psnr(cr.Tensor([0.0, 1.0]), cr.Tensor([0.0, 0.9]), 1.0)), 3)
        23.01
    """
    a, b = as_input(x1), as_input(x2)
    if np.shape(raw(a)) != np.shape(raw(b)):
        raise ValueError(f"psnr: x1 and x2 must have the same shape. Received: "
                         f"x1.shape={np.shape(raw(a))}, x2.shape={np.shape(raw(b))}")
    mse = mean(square(a - b))
    return 20.0 * math.log10(float(max_val)) - 10.0 * log10(mse)


def _data_format(data_format: Any, op: str) -> str:
    if data_format is None:  # chainrule has no image_data_format setting: Keras's default
        data_format = "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{op}: data_format must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    return data_format


def _adaptive_pool(inputs: Any, output_size: Any, data_format: Any, kind: str) -> Tensor:
    op = f"adaptive_{kind}_pool"
    fmt = _data_format(data_format, op)
    x = as_input(inputs)
    s = np.shape(raw(x))
    dims = len(s) - 2
    if dims not in (1, 2, 3):
        raise ValueError(f"{op}: inputs must be 3-D, 4-D or 5-D (batch, spatial..., channels). "
                         f"Received: inputs of shape {s}")
    sizes = (output_size,) * dims if isinstance(output_size, (int, np.integer)) else \
        tuple(output_size)
    if len(sizes) != dims or any(isinstance(n, bool) or not isinstance(n, (int, np.integer))
                                 or n < 1 for n in sizes):
        raise ValueError(f"{op}: output_size must be a positive integer or {dims} of them. "
                         f"Received: output_size={output_size!r}")
    from chainrule.ops.indexing import take  # noqa: PLC0415
    from chainrule.ops.reduce import max as _max  # noqa: PLC0415

    first = 1 if fmt == "channels_last" else 2
    for k, out in enumerate(sizes):  # one spatial axis at a time (the windows are separable)
        ax = first + k
        n = np.shape(raw(x))[ax]
        starts = (np.arange(out) * n) // out
        ends = -((-np.arange(1, out + 1) * n) // out)  # ceil
        small = -(-n // out)
        big_mask = (ends - starts) > small
        pooled = []
        for size in (small, small + 1):
            idx = np.minimum(starts[:, None] + np.arange(size)[None, :], n - 1)
            win = take(x, idx, axis=ax)  # the window axis lands after ax
            pooled.append(mean(win, axis=ax + 1) if kind == "average" else
                          _max(win, axis=ax + 1))
        if big_mask.any():
            shape = [1] * np.ndim(raw(pooled[0]))
            shape[ax] = out
            x = where(big_mask.reshape(shape), pooled[1], pooled[0])
        else:
            x = pooled[0]
    return x


def adaptive_average_pool(inputs: Any, output_size: Any, data_format: str | None = None
                          ) -> Tensor:
    """Average pooling to a fixed ``output_size``: output cell ``i`` of an axis of length ``n``
    averages positions ``floor(i n / out)`` to ``ceil((i + 1) n / out) - 1`` (PyTorch's and
    Keras's bins).

    Args:
        inputs: 3-D, 4-D or 5-D (1, 2 or 3 spatial axes).
        output_size: an int, or one per spatial axis.
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: the config's).

    Example:
        >>> import chainrule as cr
        >>> x = cr.Tensor(np.arange(5.0).reshape(1, 5, 1), dtype="float32")
        >>> cr.ops.adaptive_average_pool(x, 3)[0, :, 0]
        Tensor([0.5, 2. , 3.5], dtype=float32)
    """
    return _adaptive_pool(inputs, output_size, data_format, "average")


def adaptive_max_pool(inputs: Any, output_size: Any, data_format: str | None = None) -> Tensor:
    """Max pooling to a fixed ``output_size`` (the bins of :func:`adaptive_average_pool`).

    Example:
        >>> import chainrule as cr
        >>> x = cr.Tensor(np.arange(5.0).reshape(1, 5, 1), dtype="float32")
        >>> cr.ops.adaptive_max_pool(x, 3)[0, :, 0]
        Tensor([1., 3., 4.], dtype=float32)
    """
    return _adaptive_pool(inputs, output_size, data_format, "max")


def _pairs(op: str, **values: Any) -> list:
    out = []
    for name, v in values.items():
        p = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
        if len(p) != 2 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer))
                              for n in p) or min(p) < (0 if name == "padding" else 1):
            raise ValueError(f"{op}: {name} must be an integer or a pair of integers "
                             f"({'>= 0' if name == 'padding' else '>= 1'}). "
                             f"Received: {name}={v!r}")
        out.append(tuple(int(n) for n in p))
    return out


def _patch_index(hp: int, wp: int, k: tuple, d: tuple, s: tuple) -> tuple:
    """Flat positions in an ``(hp, wp)`` image of every kernel tap of every patch, as
    ``(kh * kw, patches)``, and the patch grid."""
    oh = (hp - (k[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (wp - (k[1] - 1) * d[1] - 1) // s[1] + 1
    rows = (np.arange(oh) * s[0])[:, None] + np.zeros(ow, int)[None, :]
    cols = np.zeros(oh, int)[:, None] + (np.arange(ow) * s[1])[None, :]
    taps_r = (np.arange(k[0]) * d[0])[:, None] + np.zeros(k[1], int)[None, :]
    taps_c = np.zeros(k[0], int)[:, None] + (np.arange(k[1]) * d[1])[None, :]
    r = taps_r.reshape(-1, 1) + rows.reshape(1, -1)
    c = taps_c.reshape(-1, 1) + cols.reshape(1, -1)
    return r * wp + c, oh, ow


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
           stride: Any = 1) -> Tensor:
    """Sliding local blocks of a channels-first image batch (PyTorch's ``unfold``, im2col):
    ``(N, C, H, W) -> (N, C * kh * kw, L)``.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.unfold(cr.ops.ones((2, 3, 4, 4)), 2).shape
        (2, 12, 9)
    """
    k, d, p, s = _pairs("unfold", kernel_size=kernel_size, dilation=dilation, padding=padding,
                        stride=stride)
    x = as_input(x)
    shape = np.shape(raw(x))
    if len(shape) != 4:
        raise ValueError(f"unfold: x must be 4-D (N, C, H, W). Received: x of shape {shape}")
    n, c, h, w = shape
    if any(p):
        from chainrule.ops.arrays import pad  # noqa: PLC0415

        x = pad(x, [(0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])])
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    idx, oh, ow = _patch_index(hp, wp, k, d, s)
    if oh < 1 or ow < 1:
        raise ValueError(f"unfold: the kernel {k} (dilation {d}) does not fit the padded image "
                         f"({hp}, {wp}). Received: kernel_size={kernel_size!r}")
    from chainrule.ops.indexing import take  # noqa: PLC0415

    cols = take(reshape(x, (n, c, hp * wp)), idx, axis=2)  # (n, c, kh*kw, L)
    return reshape(cols, (n, c * k[0] * k[1], oh * ow))


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum sliding local blocks back into an image (PyTorch's ``fold``, col2im; the adjoint
    of :func:`unfold`): ``(N, C * kh * kw, L) -> (N, C, H, W)``.

    Raises:
        ValueError: when ``x``'s shape does not match the kernel and the number of blocks.

    Example:
        >>> import chainrule as cr
        >>> cr.ops.fold(cr.ops.ones((1, 4, 4)), (3, 3), 2)[0, 0]
        Tensor([[1., 2., 1.],
                [2., 4., 2.],
                [1., 2., 1.]], dtype=float32)
    """
    from chainrule.ops.spectral import OverlapAdd  # noqa: PLC0415

    o, k, d, p, s = _pairs("fold", output_size=output_size, kernel_size=kernel_size,
                           dilation=dilation, padding=padding, stride=stride)
    x = as_input(x)
    shape = np.shape(raw(x))
    hp, wp = o[0] + 2 * p[0], o[1] + 2 * p[1]
    idx, oh, ow = _patch_index(hp, wp, k, d, s)
    kk = k[0] * k[1]
    if len(shape) != 3 or shape[1] % kk or shape[2] != oh * ow:
        raise ValueError(f"fold: x must have shape (N, C * {kk}, {oh * ow}) for kernel {k} and "
                         f"output {o}. Received: x of shape {shape}")
    n, c = shape[0], shape[1] // kk
    img = OverlapAdd(idx.reshape(-1), hp * wp)(reshape(x, (n, c, kk * oh * ow)))
    img = reshape(img, (n, c, hp, wp))
    if any(p):
        from chainrule.ops.shaping import getitem  # noqa: PLC0415

        img = getitem(img, (slice(None), slice(None), slice(p[0], p[0] + o[0]),
                            slice(p[1], p[1] + o[1])))
    return img


def _polar(a, t):
    return a * np.exp(1j * t)


def polar(abs_: Any, angle: Any) -> Tensor:
    """The complex numbers ``abs_ * exp(1j * angle)``, as a complex Tensor.

    No gradient: chainrule differentiates real tensors only (use
    ``abs_ * cos(angle)`` and ``abs_ * sin(angle)`` for the parts with gradients).

    Example:
        >>> import chainrule as cr
        >>> cr.ops.polar(cr.Tensor([2.0]), cr.Tensor([0.0]))
        Tensor([2.+0.j], dtype=complex64)
    """
    from chainrule.ops.numpy_extra import NoGrad  # noqa: PLC0415

    return NoGrad(_polar)(as_input(abs_), as_input(angle))
