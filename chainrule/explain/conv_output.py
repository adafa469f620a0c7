"""One output value of a convolution layer, written out as the sum of its products.

The seed's worked example shows a Dense unit as ``z1 = W1·x1 + W2·x2``, number by
number. :func:`conv_output` does the same for a convolution: the value
``y[b, i, j, f]`` of a Conv2D (or Conv1D/Conv3D) layer is the sum, over the
kernel window (``kh × kw × in-channels`` of the filter's group), of
``input × kernel``, plus the bias, then the activation. Strides, dilation and
padding decide which input positions the window covers; positions outside the
input are the padding zeros. The sum is checked against the layer's own output.

Example:
    >>> import numpy as np
    >>> from chainrule.layers import Conv2D
    >>> conv = Conv2D(1, 2, kernel_initializer="ones", bias_initializer="zeros")
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> r = conv_output(conv, x, (0, 1, 1, 0))
    >>> r.value, r.matches
    (24.0, True)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from chainrule.autograd.engine import Tensor

__all__ = ["ConvOutputReport", "conv_output"]


def _fmt(v: float) -> str:
    return f"{float(v) + 0.0:.8f}"  # + 0.0: a product with a padding zero never prints as -0


def _idx(index: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _join_sum(values: Sequence[float]) -> str:
    """``a + b − c`` with the signs of the numbers folded into the operators."""
    out = ""
    for k, v in enumerate(values):
        if k == 0:
            out = _fmt(v)
        else:
            out += f" − {_fmt(-v)}" if v < 0 else f" + {_fmt(v)}"
    return out


class ConvOutputReport:
    """What :func:`conv_output` computed, as text and as data.

    Attributes:
        text: the explanation (what ``print(report)`` shows).
        index: the output position explained, in the layer's output layout.
        terms: one dict per kernel tap, in the kernel's order (rows, columns,
            channels): ``input_index`` (a tuple into ``x``; spatial entries
            outside the input are padding), ``kernel_index``, ``padding``
            (bool), ``x`` (the input value, 0.0 for padding), ``w`` (the kernel
            value) and ``product``.
        bias: the bias value added (None without a bias).
        z: the sum before the activation, in float64.
        value: the output value, the activation of ``z``.
        layer_value: the layer's own output at ``index``.
        matches: whether ``value`` equals ``layer_value`` (to the layer's precision).
    """

    def __init__(self, text: str, index: tuple, terms: list[dict], bias: float | None, z: float,
                 value: float, layer_value: float, matches: bool) -> None:
        self.text, self.index, self.terms, self.bias = text, index, terms, bias
        self.z, self.value, self.layer_value, self.matches = z, value, layer_value, matches

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return (f"<ConvOutputReport y{_idx(self.index)}={self.value:.8f} terms={len(self.terms)} "
                f"matches={self.matches}>")


def _check_layer(layer: Any) -> None:
    from chainrule.layers.convolutional import (  # noqa: PLC0415
        BaseConv,
        BaseConvTranspose,
        BaseDepthwiseConv,
        BaseSeparableConv,
    )

    other = (BaseConvTranspose, BaseDepthwiseConv, BaseSeparableConv)
    if not isinstance(layer, BaseConv) or isinstance(layer, other):
        raise TypeError("conv_output() explains a Conv1D, Conv2D or Conv3D layer. Received: "
                        f"layer of type {type(layer).__name__}")


def _check_index(index: Any, shape: tuple) -> tuple:
    ok = isinstance(index, (tuple, list)) and len(index) == len(shape) and all(
        isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in index)
    if not ok or not all(0 <= int(i) < n for i, n in zip(index, shape)):
        raise ValueError(
            f"index must be {len(shape)} non-negative ints inside the output shape {shape}. "
            f"Received: index={index!r}")
    return tuple(int(i) for i in index)


def conv_output(layer: Any, x: Any, index: Sequence[int]) -> ConvOutputReport:
    """Explain one output value of a convolution layer as the sum of its products.

    ``y[b, i, j, f] = act(Σ x[b, i·s + di·d − p, j·s + dj·d − p, c] × K[di, dj, c, f] + bias[f])``
    over the kernel window ``di < kh``, ``dj < kw`` and the input channels ``c`` of
    filter ``f``'s group (``s`` strides, ``d`` dilation, ``p`` the padding before).
    Every product is shown number by number; taps that fall outside the input
    are the padding zeros. The sum is computed in float64 from the layer's
    weights and checked against the layer's output.

    Args:
        layer: a Conv1D, Conv2D or Conv3D layer (built by the call if it is not).
        x: the input batch, shaped as the layer takes it.
        index: the output position, ``(b, i, j, f)`` for channels_last Conv2D
            (``(b, f, i, j)`` for channels_first; one spatial entry per axis).

    Returns:
        A :class:`ConvOutputReport`; ``print`` it for the text.

    Raises:
        TypeError: for another kind of layer or a non-numeric input.
        ValueError: for an index outside the output.

    Example:
        >>> import numpy as np
        >>> from chainrule.layers import Conv2D
        >>> conv = Conv2D(1, 2, kernel_initializer="ones", bias_initializer="zeros")
        >>> print(conv_output(conv, np.arange(9.0).reshape(1, 3, 3, 1), (0, 0, 0, 0)).text
        ...       .splitlines()[-1])
        the layer's output y[0, 0, 0, 0] = 8.00000000: the sum equals it
    """
    _check_layer(layer)
    try:
        xs = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"x must be numeric. Received: x of type {type(x).__name__}") from None
    dtype = layer.dtype if isinstance(getattr(layer, "dtype", None), str) else "float32"
    y = layer(Tensor(xs.astype(dtype)))
    out = np.asarray(y.data, dtype=np.float64)
    index = _check_index(index, out.shape)

    from chainrule.ops.conv import padding_amounts  # noqa: PLC0415

    first = layer.data_format == "channels_first"
    kernel = np.asarray(layer.kernel.data, dtype=np.float64)
    bias = None if layer.bias is None else np.asarray(layer.bias.data, dtype=np.float64)
    b = index[0]
    f = index[1] if first else index[-1]
    o = index[2:] if first else index[1:-1]
    spatial = xs.shape[2:] if first else xs.shape[1:-1]
    ksize, strides, dil = layer.kernel_size, layer.strides, layer.dilation_rate
    before = [padding_amounts(n, k, s, d, layer.padding)[0]
              for n, k, s, d in zip(spatial, ksize, strides, dil)]
    cin_g = kernel.shape[-2]
    group = f // (layer.filters // layer.groups)

    terms = []
    for taps in itertools.product(*(range(k) for k in ksize)):
        pos = tuple(oi * s + t * d - p for oi, s, t, d, p in zip(o, strides, taps, dil, before))
        inside = all(0 <= q < n for q, n in zip(pos, spatial))
        for cl in range(cin_g):
            c = group * cin_g + cl
            xi = (b, c) + pos if first else (b,) + pos + (c,)
            ki = taps + (cl, f)
            xv = float(xs[xi]) if inside else 0.0
            wv = float(kernel[ki])
            terms.append({"input_index": xi, "kernel_index": ki, "padding": not inside,
                          "x": xv, "w": wv, "product": xv * wv + 0.0})
    z = float(sum(t["product"] for t in terms))
    if bias is not None:
        z += float(bias[f])
    act = layer.activation
    act_name = getattr(act, "__name__", type(act).__name__)
    linear = act_name in ("linear", "identity") or act is None
    value = z if linear else float(np.asarray(act(Tensor(np.array([z]))).data)[0])
    layer_value = float(out[index])
    tol = 1e-12 if out.dtype == np.float64 and np.dtype(dtype) == np.float64 else 1e-5
    scale = max(1.0, sum(abs(t["product"]) for t in terms) + (abs(bias[f]) if bias is not None
                                                                else 0.0))
    matches = abs(value - layer_value) <= tol * scale

    text = _render(layer, index, o, f, b, first, terms, bias, z, value, act_name, linear,
                   layer_value, matches, before)
    return ConvOutputReport(text, index, terms, None if bias is None else float(bias[f]), z,
                            value, layer_value, bool(matches))


def _render(layer: Any, index: tuple, o: tuple, f: int, b: int, first: bool, terms: list,
            bias: Any, z: float, value: float, act_name: str, linear: bool, layer_value: float,
            matches: bool, before: list) -> str:
    rank = len(o)
    letters = ["di", "dj", "dk"][:rank] if rank > 1 else ["di"]
    pos = [f"{oi}·{s} + {t}·{d} − {p}" if (s, d, p) != (1, 1, 0) else f"{oi} + {t}"
           for oi, s, t, d, p in zip(o, layer.strides, letters, layer.dilation_rate, before)]
    xform = f"x[{b}, c, {', '.join(pos)}]" if first else f"x[{b}, {', '.join(pos)}, c]"
    head = f"y{_idx(index)} = Σ {xform} × K[{', '.join(letters)}, c, {f}]"
    if bias is not None:
        head += f" + b[{f}]"
    ks = "×".join(str(k) for k in layer.kernel_size)
    cin_g = terms and len(terms) // int(np.prod(layer.kernel_size))
    chans = f"{cin_g} input channel{'s' if cin_g != 1 else ''}"
    if layer.groups > 1:
        chans += f" (group {f // (layer.filters // layer.groups)} of {layer.groups})"
    lines = [
        f"{type(layer).__name__} {layer.name!r}: {head}",
        f"  kernel {ks}, {chans}, strides {tuple(layer.strides)}, padding {layer.padding!r}, "
        f"dilation {tuple(layer.dilation_rate)}",
    ]
    for t in terms:
        xs = f"x{_idx(t['input_index'])}" + (" (padding)" if t["padding"] else "")
        lines.append(f"  {xs} × K{_idx(t['kernel_index'])} = {_fmt(t['x'])} × {_fmt(t['w'])} = "
                     f"{_fmt(t['product'])}")
    values = [t["product"] for t in terms]
    if bias is not None:
        lines.append(f"  b[{f}] = {_fmt(bias[f])}")
        values.append(float(bias[f]))
    lines.append(f"  z = {_join_sum(values)} = {_fmt(z)}")
    if linear:
        lines.append(f"  y{_idx(index)} = z = {_fmt(value)}")
    else:
        lines.append(f"  y{_idx(index)} = {act_name}(z) = {_fmt(value)}")
    verdict = "the sum equals it" if matches else "the sum DIFFERS from it"
    lines.append(f"the layer's output y{_idx(index)} = {_fmt(layer_value)}: {verdict}")
    return "\n".join(lines)
