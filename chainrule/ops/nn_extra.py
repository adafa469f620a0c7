"""More of Keras 3's ``keras.ops.nn``: ``hard_silu``, ``sparse_sigmoid``, ``rms_normalization``,
``dot_product_attention``, ``depth_to_space``/``space_to_depth`` and ``psnr``.

All are compositions of existing ops (``clip``, ``mean``, ``einsum``,
``softmax``, ``reshape``, ``transpose``...), so their gradients are those ops'
and a captured step replays them like any other.

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
           "dot_product_attention", "depth_to_space", "space_to_depth", "psnr"]


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
