"""ONNX converters, one table entry per layer class (opset 17, inference).

A converter is ``fn(g, layer, inputs, shapes, out_shapes) -> [output names]``:
``g`` is the :class:`~chainrule.export.onnx_export.OnnxGraph` under
construction, ``inputs`` the ONNX value names feeding the layer, ``shapes`` their
Keras shapes (``None`` for the batch and other unknown sizes) and ``out_shapes``
the shapes of the layer's outputs. It adds nodes with ``g.node(op, inputs, name,
**attributes)`` and constants with ``g.const(array, name)``. Adding a layer
class is one entry in :data:`CONVERTERS` (see :func:`register_converter`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from chainrule.export.onnx_export import OnnxGraph, UnsupportedLayerError

__all__ = ["ACTIVATIONS", "CONVERTERS", "convert_layer", "register_converter"]

Converter = Callable[[OnnxGraph, Any, list, list, list], list]

_INT64_MAX = np.iinfo(np.int64).max


def _weights(layer: Any) -> dict:
    """The layer's weights by short name (``kernel``, ``bias``, ...), as float32 arrays."""
    out = {}
    for v in layer.weights:
        short = v.name.split("/")[-1].split(":")[0]
        out[short] = np.asarray(v.numpy(), dtype=np.float32)
    return out


def _unsupported(layer: Any, what: str, received: str) -> UnsupportedLayerError:
    return UnsupportedLayerError(
        f'Layer "{layer.name}" ({type(layer).__name__}) cannot be exported to ONNX: {what}. '
        f"Received: {received}")


# -- activations -------------------------------------------------------------------------------
def _act_unary(op: str, **attrs: Any) -> Callable:
    def emit(g: OnnxGraph, x: str, name: str) -> str:
        return g.node(op, [x], name, **attrs)
    return emit


def _act_softmax(op: str) -> Callable:
    def emit(g: OnnxGraph, x: str, name: str, axis: int = -1) -> str:
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise UnsupportedLayerError(f'Layer "{name}": ONNX {op} takes one axis. '
                                            f"Received: axis={axis!r}")
            axis = axis[0]
        return g.node(op, [x], name, axis=int(axis))
    return emit


def _act_elu(g: OnnxGraph, x: str, name: str, alpha: float = 1.0) -> str:
    return g.node("Elu", [x], name, alpha=float(alpha))


def _act_leaky_relu(g: OnnxGraph, x: str, name: str, negative_slope: float = 0.2) -> str:
    return g.node("LeakyRelu", [x], name, alpha=float(negative_slope))


def _act_gelu(g: OnnxGraph, x: str, name: str, approximate: bool = False) -> str:
    half_x = g.node("Mul", [x, g.const(np.float32(0.5), "half")], name)
    if approximate:  # x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = g.node("Mul", [g.node("Mul", [x, x], name), x], name)
        inner = g.node("Add", [x, g.node("Mul", [x3, g.const(np.float32(0.044715), "c")],
                                         name)], name)
        t = g.node("Tanh", [g.node("Mul", [inner, g.const(np.float32(math.sqrt(2 / math.pi)),
                                                          "k")], name)], name)
    else:  # x/2 * (1 + erf(x / sqrt 2))
        t = g.node("Erf", [g.node("Mul", [x, g.const(np.float32(1 / math.sqrt(2)),
                                                     "inv_sqrt2")], name)], name)
    return g.node("Mul", [half_x, g.node("Add", [t, g.const(np.float32(1.0), "one")], name)],
                  name)


def _act_times(op: str, **attrs: Any) -> Callable:
    def emit(g: OnnxGraph, x: str, name: str) -> str:  # x * op(x)
        return g.node("Mul", [x, g.node(op, [x], name, **attrs)], name)
    return emit


def _act_step(g: OnnxGraph, x: str, name: str) -> str:
    pos = g.node("Greater", [x, g.const(np.float32(0.0), "zero")], name)
    return g.node("Cast", [pos], name, to=1)  # 1 = FLOAT


def _act_relu(g: OnnxGraph, x: str, name: str, negative_slope: float = 0.0,
              max_value: float | None = None, threshold: float = 0.0) -> str:
    slope, thr = float(negative_slope), float(threshold)
    if thr == 0.0:
        y = g.node("LeakyRelu", [x], name, alpha=slope) if slope else g.node("Relu", [x], name)
    else:  # x above the threshold, slope * (x - threshold) at or below it
        above = g.node("Greater", [x, g.const(np.float32(thr), "threshold")], name)
        low = g.node("Mul", [g.node("Sub", [x, g.const(np.float32(thr), "threshold")], name),
                             g.const(np.float32(slope), "slope")], name)
        y = g.node("Where", [above, x, low], name)
    if max_value is not None:
        y = g.node("Min", [y, g.const(np.float32(max_value), "max_value")], name)
    return y


def _act_relu6(g: OnnxGraph, x: str, name: str) -> str:
    return g.node("Clip", [x, g.const(np.float32(0.0), "lo"), g.const(np.float32(6.0), "hi")],
                  name)


def _act_log_sigmoid(g: OnnxGraph, x: str, name: str) -> str:
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", [x], name)], name)], name)


def _act_mish(g: OnnxGraph, x: str, name: str) -> str:
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x], name)], name)], name)


ACTIVATIONS: dict[str, Callable[..., str]] = {
    "linear": _act_unary("Identity"),
    "relu": _act_relu,
    "sigmoid": _act_unary("Sigmoid"),
    "tanh": _act_unary("Tanh"),
    "softmax": _act_softmax("Softmax"),
    "log_softmax": _act_softmax("LogSoftmax"),
    "elu": _act_elu,
    "selu": _act_unary("Selu", alpha=1.6732632423543772, gamma=1.0507009873554805),
    "gelu": _act_gelu,
    "silu": _act_times("Sigmoid"),
    "softplus": _act_unary("Softplus"),
    "softsign": _act_unary("Softsign"),
    "hard_sigmoid": _act_unary("HardSigmoid", alpha=1 / 6, beta=0.5),
    "hard_silu": _act_times("HardSigmoid", alpha=1 / 6, beta=0.5),
    "leaky_relu": _act_leaky_relu,
    "relu6": _act_relu6,
    "exponential": _act_unary("Exp"),
    "step": _act_step,
    "log_sigmoid": _act_log_sigmoid,
    "mish": _act_mish,
}
"""ONNX forms of chainrule's activations by name (``swish`` is ``silu``, ``hard_swish`` is
``hard_silu``). Each is ``fn(g, x, layer_name, **arguments)``; the arguments are those of a
``functools.partial`` of the activation, e.g. ``partial(gelu, approximate=True)`` (the tanh
form) or ``partial(leaky_relu, negative_slope=0.1)``."""


# -- ONNX forms of celu, glu, the shrinkages, sparse_plus, sparsemax, squareplus, threshold --
def _f32(g: OnnxGraph, value: float, name: str) -> str:
    return g.const(np.float32(value), name)


def _act_celu(g: OnnxGraph, x: str, name: str, alpha: float = 1.0) -> str:
    return g.node("Celu", [x], name, alpha=float(alpha))


def _act_glu(g: OnnxGraph, x: str, name: str, axis: int = -1) -> str:
    a, b = g.node("Split", [x], name, n_out=2, axis=int(axis))
    return g.node("Mul", [a, g.node("Sigmoid", [b], name)], name)


def _act_hard_shrink(g: OnnxGraph, x: str, name: str, threshold: float = 0.5) -> str:
    keep = g.node("Greater", [g.node("Abs", [x], name), _f32(g, threshold, "threshold")], name)
    return g.node("Where", [keep, x, _f32(g, 0.0, "zero")], name)


def _act_hard_tanh(g: OnnxGraph, x: str, name: str) -> str:
    return g.node("Clip", [x, _f32(g, -1.0, "lo"), _f32(g, 1.0, "hi")], name)


def _act_soft_shrink(g: OnnxGraph, x: str, name: str, threshold: float = 0.5) -> str:
    t, neg_t = _f32(g, threshold, "threshold"), _f32(g, -threshold, "neg_threshold")
    below = g.node("Where", [g.node("Less", [x, neg_t], name), g.node("Add", [x, t], name),
                             _f32(g, 0.0, "zero")], name)
    return g.node("Where", [g.node("Greater", [x, t], name), g.node("Sub", [x, t], name),
                            below], name)


def _act_sparse_plus(g: OnnxGraph, x: str, name: str) -> str:
    one = _f32(g, 1.0, "one")
    x1 = g.node("Add", [x, one], name)
    middle = g.node("Mul", [g.node("Mul", [x1, x1], name), _f32(g, 0.25, "quarter")], name)
    upper = g.node("Where", [g.node("Less", [x, one], name), middle, x], name)
    low = g.node("LessOrEqual", [x, _f32(g, -1.0, "minus_one")], name)
    return g.node("Where", [low, _f32(g, 0.0, "zero"), upper], name)


def _act_sparsemax(g: OnnxGraph, x: str, name: str, axis: int = -1) -> str:
    # sort descending (TopK over the whole axis); support: 1 + r z_r > cumsum_r; the threshold
    # tau = (sum of the sorted values in the support - 1) / k; y = relu(x - tau)
    ax = int(axis)
    shape = g.node("Shape", [x], name)
    n = g.node("Gather", [shape, g.const(np.array([ax], dtype=np.int64), "axis")], name)
    z, _ = g.node("TopK", [x, n], name, n_out=2, axis=ax, largest=1, sorted=1)
    ax_t = g.const(np.array(ax, dtype=np.int64), "axis_scalar")
    cumsum = g.node("CumSum", [z, ax_t], name)
    ones = g.node("ConstantOfShape", [shape], name,
                  value=g.onnx.helper.make_tensor("one", 1, [1], [1.0]))
    r = g.node("CumSum", [ones, ax_t], name)
    lhs = g.node("Add", [g.node("Mul", [r, z], name), _f32(g, 1.0, "one")], name)
    support = g.node("Greater", [lhs, cumsum], name)
    axes = g.const(np.array([ax], dtype=np.int64), "axes")
    k = g.node("ReduceSum", [g.node("Cast", [support], name, to=1), axes], name, keepdims=1)
    s = g.node("ReduceSum", [g.node("Where", [support, z, _f32(g, 0.0, "zero")], name), axes],
               name, keepdims=1)
    tau = g.node("Div", [g.node("Sub", [s, _f32(g, 1.0, "one")], name), k], name)
    return g.node("Relu", [g.node("Sub", [x, tau], name)], name)


def _act_squareplus(g: OnnxGraph, x: str, name: str, b: float = 4) -> str:
    root = g.node("Sqrt", [g.node("Add", [g.node("Mul", [x, x], name), _f32(g, b, "b")], name)],
                  name)
    return g.node("Div", [g.node("Add", [x, root], name), _f32(g, 2.0, "two")], name)


def _act_tanh_shrink(g: OnnxGraph, x: str, name: str) -> str:
    return g.node("Sub", [x, g.node("Tanh", [x], name)], name)


def _act_threshold(g: OnnxGraph, x: str, name: str, threshold: float,
                   default_value: float) -> str:
    above = g.node("Greater", [x, _f32(g, threshold, "threshold")], name)
    return g.node("Where", [above, x, _f32(g, default_value, "default_value")], name)


ACTIVATIONS.update({
    "celu": _act_celu, "glu": _act_glu, "hard_shrink": _act_hard_shrink,
    "hard_tanh": _act_hard_tanh, "soft_shrink": _act_soft_shrink,
    "sparse_plus": _act_sparse_plus, "sparsemax": _act_sparsemax,
    "squareplus": _act_squareplus, "tanh_shrink": _act_tanh_shrink,
    "threshold": _act_threshold,
})
# -- end of the ONNX forms of celu ... threshold --
# sparse_sigmoid, clip((x + 1) / 2, 0, 1), is ONNX's HardSigmoid with alpha = beta = 0.5
ACTIVATIONS["sparse_sigmoid"] = _act_unary("HardSigmoid", alpha=0.5, beta=0.5)


def _resolve_activation(layer: Any, fn: Any) -> tuple:
    """``(name, keyword arguments)`` of one of chainrule's activations (or a partial of one)."""
    import functools  # noqa: PLC0415
    import inspect  # noqa: PLC0415

    from chainrule import activations  # noqa: PLC0415

    params: dict = {}
    if isinstance(fn, functools.partial) and not fn.args:
        params, fn = dict(fn.keywords), fn.func
    name = getattr(fn, "__name__", None)
    name = {"swish": "silu", "hard_swish": "hard_silu"}.get(name, name)
    if name not in ACTIVATIONS or activations._TABLE.get(name) is not fn:
        raise _unsupported(layer, f"its activation {name or fn!r} has no ONNX form (exported: "
                           f"chainrule's {', '.join(sorted(ACTIVATIONS))})",
                           f"activation={name or fn!r}")
    accepted = set(inspect.signature(ACTIVATIONS[name]).parameters) - {"g", "x", "name"}
    bad = sorted(set(params) - accepted)
    if bad:
        raise _unsupported(layer, f"activation {name!r} is exported with the arguments "
                           f"{sorted(accepted)}", f"arguments {bad}")
    return name, params


def emit_activation(g: OnnxGraph, layer: Any, fn: Any, x: str) -> str:
    """Apply activation function ``fn`` (one of chainrule's) to value ``x``."""
    name, params = _resolve_activation(layer, fn)
    if name == "linear":
        return x
    return ACTIVATIONS[name](g, x, layer.name, **params)


# -- core layers ---------------------------------------------------------------------------------
def _identity(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("Identity", [inputs[0]], layer.name)]


def _dense(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    w = _weights(layer)
    y = g.node("MatMul", [inputs[0], g.const(w["kernel"], f"{layer.name}/kernel")], layer.name)
    if layer.use_bias:
        y = g.node("Add", [y, g.const(w["bias"], f"{layer.name}/bias")], layer.name)
    return [emit_activation(g, layer, layer.activation, y)]


def _activation(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    y = emit_activation(g, layer, layer.activation, inputs[0])
    return [y if y != inputs[0] else g.node("Identity", [y], layer.name)]


def _relu_layer(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [_act_relu(g, inputs[0], layer.name, layer.negative_slope, layer.max_value,
                      layer.threshold)]


def _leaky_relu(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("LeakyRelu", [inputs[0]], layer.name, alpha=float(layer.negative_slope))]


def _softmax_layer(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                   out_shapes: list) -> list:
    return [_act_softmax("Softmax")(g, inputs[0], layer.name, layer.axis)]


def _flatten(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    if len(shapes[0]) == 2:
        return [g.node("Identity", [inputs[0]], layer.name)]
    x = inputs[0]
    if getattr(layer, "data_format", None) == "channels_first":  # the channel axis last
        rank = len(shapes[0])
        x = g.node("Transpose", [x], layer.name, perm=[0, *range(2, rank), 1])
    return [g.node("Reshape", [x, g.ints([0, -1])], layer.name)]


def _reshape(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("Reshape", [inputs[0], g.ints([0] + list(layer.target_shape))], layer.name)]


# -- merging -----------------------------------------------------------------------------------------
def _broadcast_ranks(g: OnnxGraph, layer: Any, inputs: list, shapes: list) -> list:
    """Keras inserts new axes right after the batch axis for lower-rank inputs."""
    nd = max(len(s) for s in shapes)
    out = []
    for x, s in zip(inputs, shapes):
        if len(s) < nd:
            x = g.node("Unsqueeze", [x, g.ints(range(1, 1 + nd - len(s)), "axes")], layer.name)
        out.append(x)
    return out


def _variadic(op: str) -> Converter:
    def convert(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
        xs = _broadcast_ranks(g, layer, inputs, shapes)
        return [g.node(op, xs, layer.name)]
    return convert


def _binary_chain(op: str) -> Converter:
    def convert(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
        xs = _broadcast_ranks(g, layer, inputs, shapes)
        y = xs[0]
        for x in xs[1:]:
            y = g.node(op, [y, x], layer.name)
        return [y]
    return convert


def _average(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    xs = _broadcast_ranks(g, layer, inputs, shapes)
    return [g.node("Mean", xs, layer.name)]


def _concatenate(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("Concat", list(inputs), layer.name, axis=int(layer.axis))]


def _l2_normalize(g: OnnxGraph, name: str, x: str, axis: int) -> str:
    s = g.node("ReduceSum", [g.node("Mul", [x, x], name), g.ints([axis], "axes")], name,
               keepdims=1)
    s = g.node("Max", [s, g.const(np.float32(1e-7) ** 2, "eps2")], name)
    return g.node("Div", [x, g.node("Sqrt", [s], name)], name)


def _dot(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    s1, s2 = shapes
    a1, a2 = layer._resolve([tuple(s1), tuple(s2)])
    x, y, name = inputs[0], inputs[1], layer.name
    if layer.normalize:
        x, y = _l2_normalize(g, name, x, a1), _l2_normalize(g, name, y, a2)
    nx, ny = len(s1), len(s2)
    if nx > 3 or ny > 3:
        raise _unsupported(layer, "Dot is exported for inputs of rank 2 and 3",
                           f"inputs of shapes {tuple(s1)} and {tuple(s2)}")
    if nx == 2:
        x = g.node("Unsqueeze", [x, g.ints([1], "axes")], name)
        a1 += 1
    if ny == 2:
        y = g.node("Unsqueeze", [y, g.ints([2], "axes")], name)
    if a1 != 2:
        x = g.node("Transpose", [x], name, perm=[0, 2, 1])
    if a2 != 1:
        y = g.node("Transpose", [y], name, perm=[0, 2, 1])
    out = g.node("MatMul", [x, y], name)
    if nx == 2:
        out = g.node("Squeeze", [out, g.ints([1], "axes")], name)
    elif ny == 2:
        out = g.node("Squeeze", [out, g.ints([-1], "axes")], name)
    return [out]


# -- normalization -------------------------------------------------------------------------------------
def _channel_shape(rank: int, axis: int) -> list:
    shape = [1] * rank
    shape[axis] = -1
    return shape


def _batch_norm(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = len(shapes[0])
    axis = layer.axis % rank
    mean = layer.moving_mean.numpy().astype(np.float64)
    var = layer.moving_variance.numpy().astype(np.float64)
    gamma = layer.gamma.numpy().astype(np.float64) if layer.gamma is not None else 1.0
    beta = layer.beta.numpy().astype(np.float64) if layer.beta is not None else 0.0
    scale = gamma / np.sqrt(var + layer.epsilon) * np.ones_like(mean)
    shift = beta - mean * scale
    cshape = [1] * rank
    cshape[axis] = mean.shape[0]
    y = g.node("Mul", [inputs[0], g.const(scale.reshape(cshape), f"{layer.name}/scale")],
               layer.name)
    return [g.node("Add", [y, g.const(shift.reshape(cshape), f"{layer.name}/shift")], layer.name)]


def _layer_norm(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = len(shapes[0])
    axes = sorted(a % rank for a in (layer.axis if isinstance(layer.axis, list)
                                     else [layer.axis]))
    x, name = inputs[0], layer.name
    mean = g.node("ReduceMean", [x], name, axes=axes, keepdims=1)
    centered = g.node("Sub", [x, mean], name)
    var = g.node("ReduceMean", [g.node("Mul", [centered, centered], name)], name, axes=axes,
                 keepdims=1)
    inv = g.node("Reciprocal", [g.node("Sqrt", [
        g.node("Add", [var, g.const(np.float32(layer.epsilon), "epsilon")], name)], name)], name)
    y = g.node("Mul", [x if layer.rms_scaling else centered, inv], name)
    pshape = [shapes[0][a] if a in axes else 1 for a in range(rank)]
    if layer.gamma is not None:
        y = g.node("Mul", [y, g.const(layer.gamma.numpy().reshape(pshape[1:]),
                                      f"{name}/gamma")], name)
    if layer.beta is not None:
        y = g.node("Add", [y, g.const(layer.beta.numpy().reshape(pshape[1:]),
                                      f"{name}/beta")], name)
    return [y]


def _group_norm(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = len(shapes[0])
    axis = layer.axis % rank
    channels, groups, name = int(shapes[0][axis]), int(layer.groups), layer.name
    x = inputs[0]
    perm = [i for i in range(rank) if i != axis] + [axis]  # the channel axis last
    if axis != rank - 1:
        x = g.node("Transpose", [x], name, perm=perm)
    shape = g.node("Shape", [x], name)
    grouped = g.node("Reshape", [x, g.ints([0] * (rank - 1) + [groups, channels // groups])],
                     name)
    axes = list(range(1, rank - 1)) + [rank]  # all but the batch and the group axis
    mean = g.node("ReduceMean", [grouped], name, axes=axes, keepdims=1)
    centered = g.node("Sub", [grouped, mean], name)
    var = g.node("ReduceMean", [g.node("Mul", [centered, centered], name)], name, axes=axes,
                 keepdims=1)
    std = g.node("Sqrt", [g.node("Add", [var, g.const(np.float32(layer.epsilon), "epsilon")],
                                 name)], name)
    y = g.node("Reshape", [g.node("Div", [centered, std], name), shape], name)
    if layer.gamma is not None:
        y = g.node("Mul", [y, g.const(layer.gamma.numpy(), f"{name}/gamma")], name)
    if layer.beta is not None:
        y = g.node("Add", [y, g.const(layer.beta.numpy(), f"{name}/beta")], name)
    if axis != rank - 1:
        y = g.node("Transpose", [y], name, perm=[perm.index(i) for i in range(rank)])
    return [y]


# -- reshaping ----------------------------------------------------------------------------------------
def _spatial_axes(layer: Any, rank: int) -> list:
    if rank == 3:
        return [1]
    if getattr(layer, "data_format", "channels_last") == "channels_first":
        return list(range(2, rank))
    return list(range(1, rank - 1))


def _rescaling(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    y = g.node("Mul", [inputs[0], g.const(np.asarray(layer.scale, np.float32), "scale")],
               layer.name)
    off = np.asarray(layer.offset, np.float32)
    if off.ndim or float(off) != 0.0:
        y = g.node("Add", [y, g.const(off, "offset")], layer.name)
    return [y]


def _zero_padding(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = len(shapes[0])
    axes = _spatial_axes(layer, rank)
    pairs = [layer.padding] if rank == 3 else list(layer.padding)
    begin, end = [0] * rank, [0] * rank
    for ax, (a, b) in zip(axes, pairs):
        begin[ax], end[ax] = int(a), int(b)
    return [g.node("Pad", [inputs[0], g.ints(begin + end, "pads")], layer.name, mode="constant")]


def _cropping(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = len(shapes[0])
    axes = _spatial_axes(layer, rank)
    pairs = [layer.cropping] if rank == 3 else list(layer.cropping)
    starts = [int(a) for a, _ in pairs]
    ends = [-int(b) if b else _INT64_MAX for _, b in pairs]
    return [g.node("Slice", [inputs[0], g.ints(starts, "starts"), g.ints(ends, "ends"),
                             g.ints(axes, "axes")], layer.name)]


def _repeat_axes(g: OnnxGraph, name: str, x: str, shape: Sequence[Any], axes: Sequence[int],
                 sizes: Sequence[int]) -> str:
    """``np.repeat`` along each axis: a new axis after it, broadcast, merged back."""
    rank = len(shape)
    new_axes = [a + 1 + i for i, a in enumerate(axes)]  # positions in the expanded tensor
    y = g.node("Unsqueeze", [x, g.ints(new_axes, "axes")], name)
    expand = [1] * (rank + len(axes))
    for pos, s in zip(new_axes, sizes):
        expand[pos] = int(s)
    y = g.node("Expand", [y, g.ints(expand, "expand")], name)
    target = [0]
    for i in range(1, rank):
        d = shape[i]
        if i in axes:
            target.append(-1 if d is None else int(d) * int(sizes[list(axes).index(i)]))
        else:
            target.append(-1 if d is None else int(d))
    if target.count(-1) > 1:
        raise UnsupportedLayerError(f'Layer "{name}": repeating needs all but one non-batch size '
                                    f"known. Received: input shape {tuple(shape)}")
    return g.node("Reshape", [y, g.ints(target)], name)


def _upsampling(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    rank = len(shapes[0])
    if rank == 3:
        return [_repeat_axes(g, layer.name, inputs[0], shapes[0], [1], [layer.size])]
    interpolation = getattr(layer, "interpolation", "nearest")
    if interpolation != "nearest":
        raise _unsupported(layer, "only interpolation='nearest' is exported",
                           f"interpolation={interpolation!r}")
    return [_repeat_axes(g, layer.name, inputs[0], shapes[0], _spatial_axes(layer, rank),
                         list(layer.size))]


def _permute(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("Transpose", [inputs[0]], layer.name, perm=[0] + [int(d) for d in layer.dims])]


def _repeat_vector(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                   out_shapes: list) -> list:
    y = g.node("Unsqueeze", [inputs[0], g.ints([1], "axes")], layer.name)
    return [g.node("Expand", [y, g.ints([1, int(layer.n), 1], "expand")], layer.name)]


def _values(v: Any) -> np.ndarray:
    return np.asarray(v.numpy() if hasattr(v, "numpy") else v, dtype=np.float64)


def _normalization(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                   out_shapes: list) -> list:
    from chainrule import backend  # noqa: PLC0415

    mean, var = _values(layer.mean), _values(layer.variance)
    if layer.input_mean is None:
        mean = mean.reshape(layer._broadcast_shape)
        var = var.reshape(layer._broadcast_shape)
    scale = np.maximum(np.sqrt(var), backend.epsilon())
    x, name = g.node("Cast", [inputs[0]], layer.name, to=1), layer.name  # 1 = FLOAT
    mean_c, scale_c = g.const(mean, f"{name}/mean"), g.const(scale, f"{name}/scale")
    if layer.invert:
        return [g.node("Add", [g.node("Mul", [x, scale_c], name), mean_c], name)]
    return [g.node("Div", [g.node("Sub", [x, mean_c], name), scale_c], name)]


def _resizing(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    if layer.crop_to_aspect_ratio or layer.pad_to_aspect_ratio or len(shapes[0]) != 4:
        raise _unsupported(layer, "Resizing is exported for batches of images without "
                           "crop_to_aspect_ratio or pad_to_aspect_ratio",
                           f"crop_to_aspect_ratio={layer.crop_to_aspect_ratio}, "
                           f"pad_to_aspect_ratio={layer.pad_to_aspect_ratio}")
    name = layer.name
    x = g.node("Cast", [inputs[0]], name, to=1)
    sizes = g.node("Concat", [g.node("Shape", [x], name, start=0, end=1),
                              g.ints([layer.height, layer.width], "size"),
                              g.node("Shape", [x], name, start=3, end=4)], name, axis=0)
    # TensorFlow's half-pixel centres: bilinear reads (i + 1/2) * scale - 1/2, nearest
    # floor((i + 1/2) * scale)
    if layer.interpolation == "nearest":
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "tf_half_pixel_for_nn",
                 "nearest_mode": "floor"}
    else:
        attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    return [g.node("Resize", [x, "", "", sizes], name, **attrs)]


def _center_crop(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    shape = shapes[0]
    h, w = (shape[1], shape[2]) if len(shape) == 4 else (None, None)
    if h is None or w is None or h < layer.height or w < layer.width:
        raise _unsupported(layer, "CenterCrop is exported for batches of images at least as "
                           "large as the crop, of known size (smaller ones are resized)",
                           f"input shape {tuple(shape)}")
    top, left = (h - layer.height) // 2, (w - layer.width) // 2
    x = g.node("Cast", [inputs[0]], layer.name, to=1)
    return [g.node("Slice", [x, g.ints([top, left], "starts"),
                             g.ints([top + layer.height, left + layer.width], "ends"),
                             g.ints([1, 2], "axes")], layer.name)]


def _embedding(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    if layer.mask_zero:
        raise _unsupported(layer, "masks are not exported (mask_zero=True makes one); "
                           "export a copy of the model built with mask_zero=False",
                           "mask_zero=True")
    ids = g.node("Cast", [inputs[0]], layer.name, to=7)  # 7 = INT64, as Keras casts to int
    table = g.const(_weights(layer)["embeddings"], f"{layer.name}/embeddings")
    return [g.node("Gather", [table, ids], layer.name, axis=0)]


# -- recurrent layers ------------------------------------------------------------------------------------
_RNN_ACTIVATIONS = {"sigmoid": ("Sigmoid", None, None), "tanh": ("Tanh", None, None),
                    "relu": ("Relu", None, None), "hard_sigmoid": ("HardSigmoid", 1 / 6, 0.5),
                    "softsign": ("Softsign", None, None), "softplus": ("Softplus", None, None)}

# Keras's gate blocks in ONNX's order: LSTM Keras (i, f, c, o) -> ONNX (i, o, f, c);
# GRU Keras (z, r, h) -> ONNX (z, r, h); SimpleRNN one block.
_GATE_ORDER = {"LSTMCell": [0, 3, 1, 2], "GRUCell": [0, 1, 2], "SimpleRNNCell": [0]}
_RNN_OPS = {"LSTMCell": "LSTM", "GRUCell": "GRU", "SimpleRNNCell": "RNN"}


def _rnn_activation(layer: Any, fn: Any) -> tuple:
    name, params = _resolve_activation(layer, fn)
    if name not in _RNN_ACTIVATIONS or params:
        raise _unsupported(layer, f"ONNX recurrent ops take the activations "
                           f"{', '.join(sorted(_RNN_ACTIVATIONS))}", f"activation={name!r}")
    return _RNN_ACTIVATIONS[name]


def _reorder(w: np.ndarray, order: Sequence[int], units: int) -> np.ndarray:
    """Gate blocks of the last axis in ONNX's order."""
    return np.concatenate([w[..., k * units:(k + 1) * units] for k in order], axis=-1)


def _rnn_direction(g: OnnxGraph, layer: Any, x_seq: str, initial: Sequence[str] = ()) -> tuple:
    """Run one recurrent layer on a time-major input from optional initial states (each
    (batch, units)); returns ``(Y, [Y_h, Y_c])``: ``Y`` (steps, batch, units) in Keras's
    output order, the final states (batch, units)."""
    cell = layer.cell
    kind = type(cell).__name__
    if kind not in _RNN_OPS:
        raise _unsupported(layer, "only SimpleRNN, LSTM and GRU cells are exported",
                           f"a cell of class {kind}")
    if layer.stateful:
        raise _unsupported(layer, "stateful layers are not exported", "stateful=True")
    name, u = layer.name, cell.units
    order = _GATE_ORDER[kind]
    w = _weights(cell)
    kernel = _reorder(w["kernel"], order, u).T  # (gates*u, input)
    recurrent = _reorder(w["recurrent_kernel"], order, u).T
    n = len(order) * u
    if "bias" in w and cell.use_bias:
        b = w["bias"]
        if b.ndim == 2:  # GRU reset_after: input and recurrent biases
            b_in, b_rec = _reorder(b[0], order, u), _reorder(b[1], order, u)
        else:
            b_in, b_rec = _reorder(b, order, u), np.zeros(n, np.float32)
    else:
        b_in, b_rec = np.zeros(n, np.float32), np.zeros(n, np.float32)
    bias = np.concatenate([b_in, b_rec])[None]
    if layer.go_backwards:  # Keras reads the steps last to first and returns them in that order
        x_seq = g.node("Slice", [x_seq, g.ints([-1], "starts"), g.ints([-_INT64_MAX], "ends"),
                                 g.ints([0], "axes"), g.ints([-1], "steps")], name)
    acts = ([_rnn_activation(layer, cell.activation)] if kind == "SimpleRNNCell" else
            [_rnn_activation(layer, cell.recurrent_activation)]
            + [_rnn_activation(layer, cell.activation)] * (2 if kind == "LSTMCell" else 1))
    attrs: dict = {"hidden_size": u, "activations": [a[0] for a in acts]}
    if any(a[1] is not None for a in acts):
        attrs["activation_alpha"] = [a[1] if a[1] is not None else 0.0 for a in acts]
        attrs["activation_beta"] = [a[2] if a[2] is not None else 0.0 for a in acts]
    if kind == "GRUCell":
        attrs["linear_before_reset"] = int(cell.reset_after)
    n_out = 3 if kind == "LSTMCell" else 2
    ins = [x_seq, g.const(kernel[None], f"{name}/W"), g.const(recurrent[None], f"{name}/R"),
           g.const(bias, f"{name}/B")]
    if initial:  # after the optional sequence_lens input, left empty
        ins += [""] + [g.node("Unsqueeze", [h, g.ints([0], "axes")], name) for h in initial]
    outs = g.node(_RNN_OPS[kind], ins, name, n_out=n_out, **attrs)
    y = g.node("Squeeze", [outs[0], g.ints([1], "axes")], name)  # (steps, batch, units)
    states = [g.node("Squeeze", [s, g.ints([0], "axes")], name) for s in outs[1:]]
    return y, states


def _time_major(g: OnnxGraph, layer: Any, inputs: list, shapes: list) -> str:
    return g.node("Transpose", [inputs[0]], layer.name, perm=[1, 0, 2])


def _rnn_outputs(g: OnnxGraph, layer: Any, y: str, states: list) -> list:
    if layer.return_sequences:
        out = g.node("Transpose", [y], layer.name, perm=[1, 0, 2])
    else:
        out = states[0]
    return [out] + (list(states) if layer.return_state else [])


def _rnn(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    y, states = _rnn_direction(g, layer, _time_major(g, layer, inputs, shapes), inputs[1:])
    return _rnn_outputs(g, layer, y, states)


def _bidirectional(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                   out_shapes: list) -> list:
    x = _time_major(g, layer, inputs, shapes)
    fw, bw = layer.forward_layer, layer.backward_layer
    states = inputs[1:]  # the forward layer's initial states, then the backward layer's
    half = len(states) // 2
    y_f, s_f = _rnn_direction(g, fw, x, states[:half])
    y_b, s_b = _rnn_direction(g, bw, x, states[half:])
    name = layer.name
    if layer.return_sequences:
        out_f = g.node("Transpose", [y_f], name, perm=[1, 0, 2])
        y_b = g.node("Slice", [y_b, g.ints([-1], "starts"), g.ints([-_INT64_MAX], "ends"),
                               g.ints([0], "axes"), g.ints([-1], "steps")], name)
        out_b = g.node("Transpose", [y_b], name, perm=[1, 0, 2])
    else:
        out_f, out_b = s_f[0], s_b[0]
    mode = layer.merge_mode
    if mode == "concat":
        outs = [g.node("Concat", [out_f, out_b], name, axis=-1)]
    elif mode == "sum":
        outs = [g.node("Add", [out_f, out_b], name)]
    elif mode == "ave":
        outs = [g.node("Mean", [out_f, out_b], name)]
    elif mode == "mul":
        outs = [g.node("Mul", [out_f, out_b], name)]
    else:
        outs = [out_f, out_b]
    return outs + (list(s_f) + list(s_b) if layer.return_state else [])


def _time_distributed(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                      out_shapes: list) -> list:
    shape = shapes[0]
    name, inner = layer.name, layer.layer
    flat = g.node("Reshape", [inputs[0], g.ints([-1] + [int(d) if d is not None else 0
                                                         for d in shape[2:]])], name)
    if any(d is None for d in shape[2:]):
        raise _unsupported(layer, "TimeDistributed needs known sizes after the time axis",
                           f"input shape {tuple(shape)}")
    inner_in = (None,) + tuple(shape[2:])
    inner_out = (None,) + tuple(out_shapes[0][2:])
    y = convert_layer(g, inner, [flat], [inner_in], [inner_out], {})[0]
    lead = g.node("Shape", [inputs[0]], name, start=0, end=2)
    target = g.node("Concat", [lead, g.ints([int(d) for d in out_shapes[0][2:]])], name, axis=0)
    return [g.node("Reshape", [y, target], name)]


# -- the table ---------------------------------------------------------------------------------------
CONVERTERS: dict[str, Converter] = {
    "InputLayer": _identity,
    "Dense": _dense,
    "Activation": _activation,
    "ReLU": _relu_layer,
    "LeakyReLU": _leaky_relu,
    "Softmax": _softmax_layer,
    "Dropout": _identity,
    "SpatialDropout1D": _identity,
    "SpatialDropout2D": _identity,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Add": _variadic("Sum"),
    "Subtract": _binary_chain("Sub"),
    "Multiply": _binary_chain("Mul"),
    "Average": _average,
    "Maximum": _variadic("Max"),
    "Minimum": _variadic("Min"),
    "Concatenate": _concatenate,
    "Dot": _dot,
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "GroupNormalization": _group_norm,
    "Rescaling": _rescaling,
    "ZeroPadding1D": _zero_padding,
    "ZeroPadding2D": _zero_padding,
    "ZeroPadding3D": _zero_padding,
    "Cropping1D": _cropping,
    "Cropping2D": _cropping,
    "Cropping3D": _cropping,
    "UpSampling1D": _upsampling,
    "UpSampling2D": _upsampling,
    "UpSampling3D": _upsampling,
    "Permute": _permute,
    "RepeatVector": _repeat_vector,
    "Embedding": _embedding,
    "Normalization": _normalization,
    "CenterCrop": _center_crop,
    "Resizing": _resizing,
    # random augmentation: the identity at inference, as in predict
    "RandomFlip": _identity, "RandomRotation": _identity, "RandomZoom": _identity,
    "RandomTranslation": _identity, "RandomContrast": _identity, "RandomBrightness": _identity,
    "SimpleRNN": _rnn,
    "LSTM": _rnn,
    "GRU": _rnn,
    "RNN": _rnn,
    "Bidirectional": _bidirectional,
    "TimeDistributed": _time_distributed,
}
"""Converters by layer class name (a chainrule layer class's own name, not a subclass's)."""


def _add_conv_converters() -> None:
    from chainrule.export.onnx_attention import ATTENTION_CONVERTERS  # noqa: PLC0415
    from chainrule.export.onnx_conv import CONV_CONVERTERS  # noqa: PLC0415
    from chainrule.export.onnx_ops import OPS_CONVERTERS  # noqa: PLC0415

    CONVERTERS.update(CONV_CONVERTERS)
    CONVERTERS.update(OPS_CONVERTERS)
    CONVERTERS.update(ATTENTION_CONVERTERS)


_add_conv_converters()

_REFUSED = {
    "Masking": ("masks are not exported; remove the Masking layer (and pad sequences so that "
                "padding does not matter) before exporting", "a Masking layer"),
}


def register_converter(class_name: str, converter: Converter) -> None:
    """Add (or replace) the ONNX converter of a layer class.

    Args:
        class_name: the layer class's name, e.g. ``"MyScale"``.
        converter: ``fn(g, layer, inputs, shapes, out_shapes) -> [output names]``.

    Example:
        >>> def my_scale(g, layer, inputs, shapes, out_shapes):
        ...     return [g.node("Mul", [inputs[0], g.const(2.0, "two")], layer.name)]
        >>> register_converter("MyScale", my_scale)
        >>> "MyScale" in CONVERTERS
        True
        >>> del CONVERTERS["MyScale"]
    """
    if not isinstance(class_name, str) or not callable(converter):
        raise TypeError("register_converter expects a class name and a function. Received: "
                        f"class_name={class_name!r}, converter={converter!r}")
    CONVERTERS[class_name] = converter


def convert_layer(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list,
                  kwargs: dict, dtypes: tuple | None = None) -> list:
    """Translate one layer call; a nested model is translated layer by layer.

    A converter with a true ``takes_call_arguments`` attribute is also given the call's
    keyword arguments (``call_kwargs``: tensors as ``(value name, shape)`` pairs) and the
    input and output dtypes (``dtypes``: two lists of dtype names, or None).

    A layer class without a converter (a user's own layer) is translated through its
    ``call``, traced once on symbolic inputs: the ops it calls and the layers it holds
    are translated one by one (its weights become constants).

    Raises:
        UnsupportedLayerError: for a layer whose class has no converter and whose call
            cannot be traced, naming it and why.
    """
    from chainrule.layers.base import POSITIONAL_TENSORS, split_keyword_tensors  # noqa: PLC0415
    from chainrule.models.model import Model  # noqa: PLC0415

    if isinstance(layer, Model):
        from chainrule.export.onnx_export import emit_model  # noqa: PLC0415

        _, outputs = emit_model(g, layer, inputs)
        return [name for name, _ in outputs]
    pairs = [(n, tuple(s)) for n, s in zip(inputs, shapes)]
    call_kwargs, positional = split_keyword_tensors(kwargs, pairs)
    call_kwargs = {k: v for k, v in call_kwargs.items() if k not in ("training",)}
    call_kwargs.pop(POSITIONAL_TENSORS, None)
    cls = type(layer).__name__
    converter = CONVERTERS.get(cls)
    takes = getattr(converter, "takes_call_arguments", False)
    if call_kwargs.get("mask") is not None and not takes:
        raise _unsupported(layer, "masks are not exported", "a mask argument")
    if converter is None and cls in _REFUSED:
        raise _unsupported(layer, *_REFUSED[cls])
    if converter is None:  # a user's own layer: its call, traced into ops and layers
        from chainrule.export.onnx_export import emit_model, trace_call  # noqa: PLC0415

        in_dtypes = dtypes[0] if dtypes is not None else ["float32"] * len(positional)
        traced = trace_call(layer, [s for _, s in positional], in_dtypes, call_kwargs)
        _, outputs = emit_model(g, traced, [n for n, _ in positional])
        return [name for name, _ in outputs]
    names = [n for n, _ in positional]
    in_shapes = [s for _, s in positional]
    out_shapes = [tuple(s) for s in out_shapes]
    if takes:
        return converter(g, layer, names, in_shapes, out_shapes, call_kwargs=call_kwargs,
                         dtypes=dtypes)
    return converter(g, layer, names, in_shapes, out_shapes)
