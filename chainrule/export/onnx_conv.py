"""ONNX converters of the convolution and pooling layers (opset 17).

ONNX convolves channels-first tensors (``N, C, spatial...``); a channels-last
layer is wrapped in two ``Transpose`` nodes. Keras's ``"same"`` padding puts
the odd extra row at the end, which is ONNX's ``auto_pad="SAME_UPPER"``;
``"causal"`` (Conv1D) pads the start explicitly. Keras kernels
``(*kernel_size, in_channels / groups, filters)`` become ONNX weights
``(filters, in_channels / groups, *kernel_size)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.export.onnx_export import OnnxGraph, UnsupportedLayerError

__all__ = ["CONV_CONVERTERS"]


def _to_channels_first(g: OnnxGraph, layer: Any, x: str, rank: int) -> str:
    if layer.data_format == "channels_first":
        return x
    return g.node("Transpose", [x], layer.name, perm=[0, rank + 1] + list(range(1, rank + 1)))


def _from_channels_first(g: OnnxGraph, layer: Any, y: str, rank: int) -> str:
    if layer.data_format == "channels_first":
        return y
    return g.node("Transpose", [y], layer.name, perm=[0] + list(range(2, rank + 2)) + [1])


def _padding(g: OnnxGraph, layer: Any, x: str, rank: int, spatial: Any) -> tuple:
    """``(input, attributes)``: explicit pads where the sizes allow (ONNX Runtime refuses
    auto_pad with dilation), causal padding as a Pad node, else ONNX's auto_pad."""
    if layer.padding == "causal":
        left = (layer.kernel_size[0] - 1) * layer.dilation_rate[0]
        x = g.node("Pad", [x, g.ints([0, 0, left, 0, 0, 0], "pads")], layer.name, mode="constant")
        return x, {"pads": [0, 0]}
    if layer.padding != "same":
        return x, {"pads": [0] * (2 * rank)}
    begin, end = [], []
    for n, k, s, d in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate):
        span = (k - 1) * d + 1
        if s == 1:
            total = span - 1
        elif n is None:  # strides > 1 exclude dilation > 1 in Keras: auto_pad is exact
            return x, {"auto_pad": "SAME_UPPER"}
        else:
            total = max((-(-n // s) - 1) * s + span - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return x, {"pads": begin + end}


def _onnx_kernel(kernel: np.ndarray) -> np.ndarray:
    """``(*k, in, out)`` -> ``(out, in, *k)``."""
    r = kernel.ndim - 2
    return np.ascontiguousarray(kernel.transpose([r + 1, r] + list(range(r))))


def _finish(g: OnnxGraph, layer: Any, y: str, rank: int) -> list:
    from chainrule.export.onnx_layers import emit_activation  # noqa: PLC0415

    y = _from_channels_first(g, layer, y, rank)
    return [emit_activation(g, layer, layer.activation, y)]


def _spatial(layer: Any, shape: Any) -> list:
    rank = layer.rank
    return list(shape[2:] if layer.data_format == "channels_first" else shape[1:rank + 1])


def _conv_node(g: OnnxGraph, layer: Any, x: str, weight: np.ndarray, bias: Any, group: int,
               rank: int, shape: Any, strides: Any = None) -> str:
    x, attrs = _padding(g, layer, x, rank, _spatial(layer, shape))
    inputs = [x, g.const(weight, f"{layer.name}/W")]
    if bias is not None:
        inputs.append(g.const(np.asarray(bias, np.float32), f"{layer.name}/B"))
    return g.node("Conv", inputs, layer.name, kernel_shape=list(weight.shape[2:]),
                  strides=list(strides if strides is not None else layer.strides),
                  dilations=list(layer.dilation_rate), group=int(group), **attrs)


def _conv(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = layer.rank
    x = _to_channels_first(g, layer, inputs[0], rank)
    bias = layer.bias.numpy() if layer.bias is not None else None
    y = _conv_node(g, layer, x, _onnx_kernel(layer.kernel.numpy()), bias, layer.groups, rank, shapes[0])
    return _finish(g, layer, y, rank)


def _depthwise_weight(kernel: np.ndarray) -> np.ndarray:
    """``(*k, channels, multiplier)`` -> ``(channels * multiplier, 1, *k)`` (output channel
    ``c * multiplier + m``, as Keras orders them)."""
    r = kernel.ndim - 2
    flat = kernel.reshape(kernel.shape[:r] + (-1,))
    return np.ascontiguousarray(flat.transpose([r] + list(range(r)))[:, None])


def _depthwise(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = layer.rank
    x = _to_channels_first(g, layer, inputs[0], rank)
    kernel = layer.kernel.numpy()
    bias = layer.bias.numpy() if layer.bias is not None else None
    y = _conv_node(g, layer, x, _depthwise_weight(kernel), bias, kernel.shape[-2], rank,
                   shapes[0])
    return _finish(g, layer, y, rank)


def _separable(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = layer.rank
    x = _to_channels_first(g, layer, inputs[0], rank)
    dk = layer.depthwise_kernel.numpy()
    y = _conv_node(g, layer, x, _depthwise_weight(dk), None, dk.shape[-2], rank, shapes[0])
    pk = _onnx_kernel(layer.pointwise_kernel.numpy())
    pointwise = [y, g.const(pk, f"{layer.name}/pointwise")]
    if layer.bias is not None:
        pointwise.append(g.const(layer.bias.numpy(), f"{layer.name}/B"))
    y = g.node("Conv", pointwise, layer.name, kernel_shape=[1] * rank, strides=[1] * rank,
               group=1)
    return _finish(g, layer, y, rank)


def _conv_transpose(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                    out_shapes: list) -> list:
    rank = layer.rank
    if layer.output_padding is not None:
        raise UnsupportedLayerError(
            f'Layer "{layer.name}" ({type(layer).__name__}) cannot be exported to ONNX: only '
            f"output_padding=None is exported. Received: output_padding={layer.output_padding}")
    x = _to_channels_first(g, layer, inputs[0], rank)
    kernel = layer.kernel.numpy()  # (*k, filters, channels) -> (channels, filters, *k)
    weight = np.ascontiguousarray(kernel.transpose([rank + 1, rank] + list(range(rank))))
    pads_begin, pads_end, extra = [], [], []
    for k, s, d in zip(layer.kernel_size, layer.strides, layer.dilation_rate):
        span = (k - 1) * d + 1
        if layer.padding == "same":  # the output has in * stride rows
            total = span - s
        else:  # in * stride + max(span - stride, 0) rows
            total = min(span - s, 0)
        if total >= 0:
            pads_begin.append(total // 2)
            pads_end.append(total - total // 2)
            extra.append(0)
        else:  # rows of bias only at the end
            pads_begin.append(0)
            pads_end.append(0)
            extra.append(-total)
    ins = [x, g.const(weight, f"{layer.name}/W")]
    if layer.bias is not None:
        ins.append(g.const(layer.bias.numpy(), f"{layer.name}/B"))
    y = g.node("ConvTranspose", ins, layer.name, kernel_shape=list(layer.kernel_size),
               strides=list(layer.strides), dilations=list(layer.dilation_rate),
               pads=pads_begin + pads_end, output_padding=extra)
    return _finish(g, layer, y, rank)


def _pooling(op: str) -> Any:
    def convert(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
        rank = layer.rank
        x = _to_channels_first(g, layer, inputs[0], rank)
        attrs: dict = {"auto_pad": "SAME_UPPER" if layer.padding == "same" else "VALID"}
        if op == "AveragePool":
            attrs["count_include_pad"] = 0  # "same" averages over the window's valid values
        y = g.node(op, [x], layer.name, kernel_shape=list(layer.pool_size),
                   strides=list(layer.strides), **attrs)
        return [_from_channels_first(g, layer, y, rank)]
    return convert


def _global_pooling(op: str) -> Any:
    def convert(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
        rank = layer.rank
        axes = (list(range(2, rank + 2)) if layer.data_format == "channels_first"
                else list(range(1, rank + 1)))
        return [g.node(op, [inputs[0]], layer.name, axes=axes, keepdims=int(layer.keepdims))]
    return convert


CONV_CONVERTERS: dict = {
    "Conv1D": _conv, "Conv2D": _conv, "Conv3D": _conv,
    "DepthwiseConv1D": _depthwise, "DepthwiseConv2D": _depthwise,
    "SeparableConv1D": _separable, "SeparableConv2D": _separable,
    "Conv1DTranspose": _conv_transpose, "Conv2DTranspose": _conv_transpose,
    "Conv3DTranspose": _conv_transpose,
    "MaxPooling1D": _pooling("MaxPool"), "MaxPooling2D": _pooling("MaxPool"),
    "MaxPooling3D": _pooling("MaxPool"),
    "AveragePooling1D": _pooling("AveragePool"), "AveragePooling2D": _pooling("AveragePool"),
    "AveragePooling3D": _pooling("AveragePool"),
    "GlobalAveragePooling1D": _global_pooling("ReduceMean"),
    "GlobalAveragePooling2D": _global_pooling("ReduceMean"),
    "GlobalAveragePooling3D": _global_pooling("ReduceMean"),
    "GlobalMaxPooling1D": _global_pooling("ReduceMax"),
    "GlobalMaxPooling2D": _global_pooling("ReduceMax"),
    "GlobalMaxPooling3D": _global_pooling("ReduceMax"),
}
"""Converters of the convolution and pooling layers, merged into
:data:`chainrule.export.onnx_layers.CONVERTERS`."""
