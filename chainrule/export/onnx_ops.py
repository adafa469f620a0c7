"""ONNX converters for ops recorded in functional models (``OpLayer``) and for small layers.

An op called on symbolic tensors (``cr.ops.mean(x, axis=1)``, ``x * 2.0``, ``x[:, 0]``)
becomes an :class:`~chainrule.layers.OpLayer` node; :data:`OP_CONVERTERS` translates it by
the op's function name. Each entry is ``fn(g, name, args, out_dtype) -> value name``
where ``args`` are the op's bound arguments (tensors as :class:`Value`, the rest as given).
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

import numpy as np

from chainrule.export.onnx_export import OnnxGraph, UnsupportedLayerError

__all__ = ["OPS_CONVERTERS", "OP_CONVERTERS", "Value"]

_INT64_MAX = np.iinfo(np.int64).max
# ONNX TensorProto element types by NumPy dtype name
_ONNX_TYPES = {"float32": 1, "uint8": 2, "int8": 3, "uint16": 4, "int16": 5, "int32": 6,
               "int64": 7, "bool": 9, "float16": 10, "float64": 11, "uint32": 12,
               "uint64": 13}


class Value:
    """A tensor argument of an op: its ONNX value name, Keras shape and dtype name.

    Example:
        >>> Value("x", (None, 3), "float32").rank
        2
    """

    __slots__ = ("name", "shape", "dtype")

    def __init__(self, name: str, shape: tuple, dtype: str) -> None:
        self.name, self.shape, self.dtype = name, tuple(shape), dtype

    @property
    def rank(self) -> int:
        """The number of axes."""
        return len(self.shape)


def _onnx_type(dtype: str) -> int:
    """The ONNX element type of a dtype; float64 maps to float32, as the exporter writes."""
    dtype = str(np.dtype(dtype))
    if dtype == "float64":
        return 1
    return _ONNX_TYPES.get(dtype, 1)


def _np_dtype(dtype: str) -> Any:
    dtype = str(np.dtype(dtype))
    return np.float32 if dtype == "float64" else np.dtype(dtype)


def _operand(g: OnnxGraph, name: str, x: Any, dtype: str) -> str:
    """``x`` (a Value or a constant) as an ONNX value of ``dtype``."""
    if isinstance(x, Value):
        if _onnx_type(x.dtype) != _onnx_type(dtype):
            return g.node("Cast", [x.name], name, to=_onnx_type(dtype))
        return x.name
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return g.const(np.asarray(x).astype(_np_dtype(dtype)), f"{name}/const",
                   dtype=_np_dtype(dtype))


def _axes(axis: Any, rank: int) -> list:
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    return sorted(int(a) % rank for a in axes)


def _rank_of(x: Any) -> int:
    return x.rank if isinstance(x, Value) else np.ndim(x)


# -- op converters --------------------------------------------------------------------------------
def _binary(op: str) -> Callable:
    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        x1, x2 = list(a.values())[:2]
        # inputs in the output's dtype (a comparison: in the dtype they are compared in)
        dtype = out if out != "bool" else np.result_type(*[
            np.dtype(v.dtype) if isinstance(v, Value) else np.asarray(v).dtype
            for v in (x1, x2)]).name
        return g.node(op, [_operand(g, name, x1, dtype), _operand(g, name, x2, dtype)], name)
    return emit


def _logical(op: str) -> Callable:
    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        x1, x2 = list(a.values())[:2]
        return g.node(op, [_operand(g, name, x1, "bool"), _operand(g, name, x2, "bool")], name)
    return emit


def _unary(op: str, **attrs: Any) -> Callable:
    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        x = next(iter(a.values()))
        return g.node(op, [_operand(g, name, x, out)], name, **attrs)
    return emit


def _square(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    x = _operand(g, name, a["x"], out)
    return g.node("Mul", [x, x], name)


def _not(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    return g.node("Not", [_operand(g, name, a["x"], "bool")], name)


def softmax_axes(g: OnnxGraph, name: str, x: str, axes: list, log: bool = False) -> str:
    """Softmax (or log-softmax) of ``x`` over ``axes`` (non-negative; one axis: ONNX's op)."""
    if len(axes) == 1:
        return g.node("LogSoftmax" if log else "Softmax", [x], name, axis=int(axes[0]))
    shifted = g.node("Sub", [x, g.node("ReduceMax", [x], name, axes=axes, keepdims=1)], name)
    e = g.node("Exp", [shifted], name)
    total = g.node("ReduceSum", [e, g.ints(axes, "axes")], name, keepdims=1)
    if log:
        return g.node("Sub", [shifted, g.node("Log", [total], name)], name)
    return g.node("Div", [e, total], name)


def _softmax(log: bool) -> Callable:
    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        x = a["x"]
        axis = a.get("axis", -1)
        axes = list(range(x.rank)) if axis is None else _axes(axis, x.rank)
        return softmax_axes(g, name, _operand(g, name, x, out), axes, log)
    return emit


def _reduce(op: str) -> Callable:
    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        x = a["x"]
        if a.get("initial") is not None:
            raise UnsupportedLayerError(f'Op "{name}" is exported without `initial`. '
                                        f"Received: initial={a['initial']!r}")
        keep = int(bool(a.get("keepdims", False)))
        xv = _operand(g, name, x, out)
        axes = None if a.get("axis") is None else _axes(a["axis"], x.rank)
        if op == "ReduceSum":  # axes are an input from opset 13
            ins = [xv] if axes is None else [xv, g.ints(axes, "axes")]
            return g.node(op, ins, name, keepdims=keep)
        attrs = {} if axes is None else {"axes": axes}
        return g.node(op, [xv], name, keepdims=keep, **attrs)
    return emit


def _reshape(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    shape = a["shape"] if a.get("shape") is not None else a.get("newshape")
    shape = [int(shape)] if isinstance(shape, (int, np.integer)) else [int(d) for d in shape]
    if 0 in shape:
        raise UnsupportedLayerError(f'Op "{name}" (reshape) cannot be exported with a zero-size '
                                    f"axis. Received: newshape={tuple(shape)}")
    return g.node("Reshape", [a["x"].name, g.ints(shape)], name)


def _transpose(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    x = a["x"]
    axes = a.get("axes")
    perm = list(range(x.rank))[::-1] if axes is None else [int(p) % x.rank for p in axes]
    return g.node("Transpose", [x.name], name, perm=perm)


def _concatenate(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    xs = [_operand(g, name, x, out) for x in a["tensors"]]
    axis = a.get("axis", 0)
    if axis is None:
        xs = [g.node("Reshape", [x, g.ints([-1])], name) for x in xs]
        axis = 0
    return g.node("Concat", xs, name, axis=int(axis))


def _expand_dims(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    x, axis = a["x"], a["axis"]
    new_rank = x.rank + (1 if isinstance(axis, (int, np.integer)) else len(axis))
    return g.node("Unsqueeze", [x.name, g.ints(_axes(axis, new_rank), "axes")], name)


def _squeeze(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    x, axis = a["x"], a.get("axis")
    if axis is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    else:
        axes = _axes(axis, x.rank)
    return g.node("Squeeze", [x.name, g.ints(axes, "axes")], name)


def _matmul(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    x1, x2 = list(a.values())[:2]
    return g.node("MatMul", [_operand(g, name, x1, out), _operand(g, name, x2, out)], name)


def _cast(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    return g.node("Cast", [a["x"].name], name, to=_onnx_type(out))


def _where(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    if a.get("x1") is None or a.get("x2") is None:
        raise UnsupportedLayerError(f'Op "{name}" (where) is exported with both x1 and x2. '
                                    "Received: where(condition) alone")
    return g.node("Where", [_operand(g, name, a["condition"], "bool"),
                            _operand(g, name, a["x1"], out), _operand(g, name, a["x2"], out)],
                  name)


def _clip(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    lo = a["x_min"] if a.get("x_min") is not None else a.get("min_value")
    hi = a["x_max"] if a.get("x_max") is not None else a.get("max_value")
    y = _operand(g, name, a["x"], out)
    if lo is not None:
        y = g.node("Max", [y, _operand(g, name, lo, out)], name)
    if hi is not None:
        y = g.node("Min", [y, _operand(g, name, hi, out)], name)
    return y if y != a["x"].name else g.node("Identity", [y], name)


def _getitem(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    x = a["x"]
    key = a["key"]
    key = list(key) if isinstance(key, tuple) else [key]
    if any(k is not None and k is not Ellipsis and not isinstance(k, (slice, int, np.integer))
           for k in key) or sum(k is Ellipsis for k in key) > 1:
        raise UnsupportedLayerError(
            f'Op "{name}" (getitem) is exported for integers, slices, None and one Ellipsis. '
            f"Received: key={a['key']!r}")
    if Ellipsis in key:
        i = key.index(Ellipsis)
        used = sum(k is not None for k in key) - 1
        key = key[:i] + [slice(None)] * (x.rank - used) + key[i + 1:]
    starts, ends, axes, steps, drop, new = [], [], [], [], [], []
    axis = out_axis = 0
    for k in key:
        if k is None:  # a new axis of size 1 at this output position
            new.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, slice):
            out_axis += 1
            if k != slice(None):
                step = 1 if k.step is None else int(k.step)
                start = k.start if k.start is not None else (0 if step > 0 else -1)
                end = k.stop if k.stop is not None else (
                    _INT64_MAX if step > 0 else -_INT64_MAX)
                starts.append(int(start))
                ends.append(int(end))
                steps.append(step)
                axes.append(axis)
        else:
            i = int(k)
            starts.append(i)
            ends.append(i + 1 if i != -1 else _INT64_MAX)
            steps.append(1)
            drop.append(axis)
            axes.append(axis)
        axis += 1
    y = x.name
    if axes:
        y = g.node("Slice", [y, g.ints(starts, "starts"), g.ints(ends, "ends"),
                             g.ints(axes, "axes"), g.ints(steps, "steps")], name)
    if drop:
        y = g.node("Squeeze", [y, g.ints(drop, "axes")], name)
    if new:
        y = g.node("Unsqueeze", [y, g.ints(new, "axes")], name)
    if y == x.name:
        y = g.node("Identity", [y], name)
    return y


OP_CONVERTERS: dict[str, Callable] = {
    "add": _binary("Add"), "subtract": _binary("Sub"), "multiply": _binary("Mul"),
    "divide": _binary("Div"), "true_divide": _binary("Div"), "power": _binary("Pow"),
    "maximum": _binary("Max"), "minimum": _binary("Min"),
    "greater": _binary("Greater"), "less": _binary("Less"), "equal": _binary("Equal"),
    "greater_equal": _binary("GreaterOrEqual"), "less_equal": _binary("LessOrEqual"),
    "logical_and": _logical("And"), "logical_or": _logical("Or"), "logical_not": _not,
    "exp": _unary("Exp"), "log": _unary("Log"), "sqrt": _unary("Sqrt"), "abs": _unary("Abs"),
    "absolute": _unary("Abs"), "negative": _unary("Neg"), "relu": _unary("Relu"),
    "sigmoid": _unary("Sigmoid"), "tanh": _unary("Tanh"), "square": _square,
    "softmax": _softmax(False), "log_softmax": _softmax(True),
    "sum": _reduce("ReduceSum"), "mean": _reduce("ReduceMean"), "max": _reduce("ReduceMax"),
    "min": _reduce("ReduceMin"),
    "reshape": _reshape, "transpose": _transpose, "concatenate": _concatenate,
    "expand_dims": _expand_dims, "squeeze": _squeeze, "matmul": _matmul, "getitem": _getitem,
    "cast": _cast, "where": _where, "clip": _clip,
}
"""ONNX forms of ``chainrule.ops`` functions recorded in functional models, by name."""


def _not_equal(g: OnnxGraph, name: str, a: dict, out: str) -> str:
    return g.node("Not", [_binary("Equal")(g, name, a, out)], name)


def _filled_like(fill: float) -> Callable:
    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        value = g.onnx.numpy_helper.from_array(np.array([fill], dtype=_np_dtype(out)), "value")
        return g.node("ConstantOfShape", [g.node("Shape", [a["x"].name], name)], name,
                      value=value)
    return emit


OP_CONVERTERS.update({"not_equal": _not_equal, "zeros_like": _filled_like(0.0),
                      "ones_like": _filled_like(1.0)})


_ACTIVATION_ALIASES = {"swish": "silu", "hard_swish": "hard_silu"}


def _activation_op(fn_name: str) -> Callable | None:
    """An activation op (``ops.gelu(x, approximate=True)``, ``ops.silu``...) in its
    activation's ONNX form, its other arguments passed on; None for other ops."""
    from chainrule.export.onnx_layers import ACTIVATIONS  # noqa: PLC0415

    form = ACTIVATIONS.get(_ACTIVATION_ALIASES.get(fn_name, fn_name))
    if form is None:
        return None

    def emit(g: OnnxGraph, name: str, a: dict, out: str) -> str:
        x = _operand(g, name, a.pop("x") if "x" in a else a.pop(next(iter(a))), out)
        try:  # an argument left None (leaky_relu's old alpha) is not passed
            return form(g, x, name, **{k: v for k, v in a.items() if v is not None})
        except TypeError as exc:  # an argument the ONNX form does not take
            raise UnsupportedLayerError(
                f'Op "{name}" (ops.{fn_name}) is exported with its default arguments and those '
                f"of the {fn_name} activation. Received: {exc}") from None
    return emit


def _fill(value: Any, values: list) -> Any:
    from chainrule.layers.op_layer import Slot  # noqa: PLC0415

    if isinstance(value, Slot):
        return values[value.index]
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, tuple):
        return tuple(_fill(v, values) for v in value)
    return value


def _op_layer(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list,
              call_kwargs: dict | None = None, dtypes: tuple | None = None) -> list:
    fn_name = layer.function
    converter = OP_CONVERTERS.get(fn_name) or _activation_op(fn_name)
    if converter is None:
        raise UnsupportedLayerError(
            f'Op "{layer.name}" (ops.{fn_name}) has no ONNX converter. Exported ops: '
            f"{', '.join(sorted(OP_CONVERTERS))}. Received: ops.{fn_name}")
    in_dtypes, out_dtypes = dtypes if dtypes is not None else (
        ["float32"] * len(inputs), ["float32"] * len(out_shapes))
    values = [Value(n, s, d) for n, s, d in zip(inputs, shapes, in_dtypes)]
    args = _fill(tuple(layer._args), values)
    kwargs = {k: _fill(v, values) for k, v in layer._kwargs.items()}
    try:
        bound = inspect.signature(layer._fn).bind(*args, **kwargs)
    except TypeError as exc:  # pragma: no cover - the op ran on these arguments when recorded
        raise UnsupportedLayerError(f'Op "{layer.name}" (ops.{fn_name}): its arguments do not '
                                    f"bind. Received: {exc}") from None
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    for p in inspect.signature(layer._fn).parameters.values():  # **kwargs stay apart
        if p.kind is p.VAR_KEYWORD:
            arguments.update(arguments.pop(p.name, {}))
    return [converter(g, layer.name, arguments, out_dtypes[0])]


_op_layer.takes_call_arguments = True  # type: ignore[attr-defined]


# -- small layers -----------------------------------------------------------------------------------
def _identity(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("Identity", [inputs[0]], layer.name)]


def _prelu(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    alpha = np.asarray(layer.alpha.numpy(), np.float32)
    return [g.node("PRelu", [inputs[0], g.const(alpha, f"{layer.name}/alpha")], layer.name)]


def _elu(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    return [g.node("Elu", [inputs[0]], layer.name, alpha=float(layer.alpha))]


def _layer_axes(layer: Any, rank: int) -> list:
    axis = layer.axis
    return _axes(axis, rank)


def _unit_norm(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    name, x = layer.name, inputs[0]
    axes = _layer_axes(layer, len(shapes[0]))
    s = g.node("ReduceSum", [g.node("Mul", [x, x], name), g.ints(axes, "axes")], name,
               keepdims=1)
    s = g.node("Max", [s, g.const(np.float32(1e-12) ** 2, "eps2")], name)
    return [g.node("Div", [x, g.node("Sqrt", [s], name)], name)]


def _rms_norm(g: OnnxGraph, layer: Any, inputs: list, shapes: list, out_shapes: list) -> list:
    name, x = layer.name, inputs[0]
    rank = len(shapes[0])
    axes = _layer_axes(layer, rank)
    x = g.node("Cast", [x], name, to=1)
    ms = g.node("ReduceMean", [g.node("Mul", [x, x], name)], name, axes=axes, keepdims=1)
    inv = g.node("Reciprocal", [g.node("Sqrt", [g.node(
        "Add", [ms, g.const(np.float32(layer.epsilon), "epsilon")], name)], name)], name)
    scale = np.asarray(layer.scale.numpy(), np.float32)
    if axes != list(range(rank - len(axes), rank)):  # not the trailing axes
        scale = scale.reshape([shapes[0][i] if i in axes else 1 for i in range(rank)])
    return [g.node("Mul", [g.node("Mul", [x, inv], name), g.const(scale, f"{name}/scale")],
                   name)]


def _adaptive_pool(g: OnnxGraph, layer: Any, inputs: list, shapes: list,
                   out_shapes: list) -> list:
    shape = shapes[0]
    rank = len(shape)
    spatial = list(range(2, rank)) if layer.data_format == "channels_first" else \
        list(range(1, rank - 1))
    if any(shape[a] is None for a in spatial):
        raise UnsupportedLayerError(
            f'Layer "{layer.name}" ({type(layer).__name__}) cannot be exported to ONNX: adaptive '
            f"pooling is exported for known spatial sizes. Received: input shape {shape}")
    op = "ReduceMean" if layer._kind == "average" else "ReduceMax"
    y, name = inputs[0], layer.name
    for axis, out in zip(spatial, layer.output_size):
        n = int(shape[axis])
        cells = []
        for i in range(int(out)):  # input cells floor(i n / out) to ceil((i + 1) n / out)
            start, end = (i * n) // out, -((-(i + 1) * n) // out)
            piece = g.node("Slice", [y, g.ints([start], "starts"), g.ints([end], "ends"),
                                     g.ints([axis], "axes")], name)
            cells.append(g.node(op, [piece], name, axes=[axis], keepdims=1))
        y = g.node("Concat", cells, name, axis=axis) if len(cells) > 1 else cells[0]
    return [y]


OPS_CONVERTERS: dict[str, Callable] = {
    "OpLayer": _op_layer,
    "GaussianNoise": _identity, "GaussianDropout": _identity, "AlphaDropout": _identity,
    "ActivityRegularization": _identity, "SpatialDropout3D": _identity, "Identity": _identity,
    "PReLU": _prelu, "ELU": _elu, "UnitNormalization": _unit_norm,
    "RMSNormalization": _rms_norm,
    "AdaptiveAveragePooling1D": _adaptive_pool, "AdaptiveAveragePooling2D": _adaptive_pool,
    "AdaptiveAveragePooling3D": _adaptive_pool, "AdaptiveMaxPooling1D": _adaptive_pool,
    "AdaptiveMaxPooling2D": _adaptive_pool, "AdaptiveMaxPooling3D": _adaptive_pool,
}
"""Converters of :class:`~chainrule.layers.OpLayer` nodes and of small layers, by class name."""
