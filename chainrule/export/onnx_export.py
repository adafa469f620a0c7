"""Write a model as an ONNX graph (inference only).

The graph is built with the ``onnx`` package (``pip install chainrule[onnx]``)
and checked with ``onnx.checker.check_model`` before it is written. Each layer
class is translated by one entry of :data:`chainrule.export.onnx_layers.CONVERTERS`;
a layer class without one, and a subclassed model, through its ``call`` traced on
symbolic inputs (:func:`trace_call`).
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

__all__ = ["DEFAULT_OPSET", "OnnxGraph", "UnsupportedLayerError", "export_onnx"]

DEFAULT_OPSET = 17
"""The ONNX opset written by default (ONNX 1.12+, ONNX Runtime 1.12+ read it)."""

_MIN_OPSET = 17  # the converters use opset-17 forms (ReduceMean with an ``axes`` attribute)
_MAX_OPSET = 17


class UnsupportedLayerError(ValueError):
    """A layer (or a setting of one) that the ONNX export cannot translate."""


def _require_onnx() -> Any:
    try:
        import onnx  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export needs the `onnx` package: pip install 'chainrule[onnx]'. "
            "Received: import error " + repr(str(exc))) from exc
    return onnx


class OnnxGraph:
    """The ONNX graph under construction: nodes, initializers and unique names.

    Converters call :meth:`node` to add an operator and :meth:`const` to add a
    constant; both return the names of the values they create.

    Args:
        onnx: the imported ``onnx`` module.
    """

    def __init__(self, onnx: Any) -> None:
        self.onnx = onnx
        self.nodes: list = []
        self.initializers: list = []
        self._names: set = set()

    def unique(self, base: str) -> str:
        """A value or node name not used yet, made from ``base``."""
        base = "".join(c if c.isalnum() or c in "_./:-" else "_" for c in base) or "v"
        name, i = base, 0
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    def const(self, value: Any, name: str = "const", dtype: Any = None) -> str:
        """Add ``value`` as an initializer (float32 unless ``dtype`` or an int array)."""
        arr = np.asarray(value)
        if dtype is not None:
            arr = arr.astype(dtype)
        elif arr.dtype.kind == "f" or arr.dtype.kind == "b":
            arr = arr.astype(np.float32)
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        out = self.unique(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(arr), out))
        return out

    def ints(self, values: Sequence[int], name: str = "shape") -> str:
        """An int64 1-D constant (shapes, axes, pads)."""
        return self.const(np.asarray(list(values), dtype=np.int64), name, np.int64)

    def node(self, op: str, inputs: Sequence[str], name: str, n_out: int = 1,
             **attrs: Any) -> Any:
        """Add one operator; returns its output name (or a list when ``n_out > 1``)."""
        outs = [self.unique(f"{name}/{op}" + (f":{i}" if n_out > 1 else "")) for i in range(n_out)]
        self.nodes.append(self.onnx.helper.make_node(
            op, list(inputs), outs, name=self.unique(f"{name}/{op}_node"), **attrs))
        return outs if n_out > 1 else outs[0]


def _dims(shape: Sequence[Any], prefix: str) -> list:
    """ONNX dims: the batch axis named ``batch``, other unknown sizes named per axis."""
    return ["batch" if i == 0 else (f"{prefix}_dim{i}" if d is None else int(d))
            for i, d in enumerate(shape)]


def _onnx_dtype(onnx: Any, dtype: Any) -> int:
    kind = np.dtype(str(dtype)).kind
    if kind == "b":
        return onnx.TensorProto.BOOL
    if kind in "iu":
        return onnx.TensorProto.INT64 if np.dtype(str(dtype)).itemsize == 8 \
            else onnx.TensorProto.INT32
    return onnx.TensorProto.FLOAT


def _output_type(onnx: Any, dtype: str) -> int:
    """The ONNX element type of an output of ``dtype``: floats are written as float32,
    booleans as bool, integers as the op table writes them (int64 or int32)."""
    kind = np.dtype(dtype).kind
    if kind == "b":
        return onnx.TensorProto.BOOL
    if kind in "iu":
        from chainrule.export.onnx_ops import _onnx_type  # noqa: PLC0415

        return _onnx_type(dtype)
    return onnx.TensorProto.FLOAT


def _not_built_error(model: Any) -> ValueError:
    return ValueError(
        f"Cannot export model {model.name!r}: it is not built, so its input shape is unknown. "
        "Call it once on data (model.predict(x) or model(x)), give its first layer "
        "input_shape=... (or start it with an Input), or pass input_signature=[shape]. "
        f"Received: an unbuilt {type(model).__name__}")


def _model_graph(model: Any) -> tuple:
    """``(inputs, nodes, outputs)`` of a model: KerasTensors and functional nodes.

    A Sequential model is traced once on a symbolic input of its build shape.
    """
    from chainrule.layers.base import KerasTensor  # noqa: PLC0415
    from chainrule.models.model import Sequential  # noqa: PLC0415

    if isinstance(model, Sequential):
        if not model.built:
            raise _not_built_error(model)
        shape = model._declared_input_shape() or getattr(model, "_build_shape", None)
        if shape is None:
            raise _not_built_error(model)
        first = model._input_layer
        x = KerasTensor(tuple(shape), dtype=first.output_tensor.dtype if first else "float32",
                        name=first.name if first else "input")
        steps = []
        kt = x
        for layer in model.layers:
            out = layer(kt)
            steps.append((layer, [kt], [out], {}))
            kt = out
        for layer, _, (out,), _ in steps:  # the layers keep only their own calls
            if getattr(out, "node", None) in layer._inbound_nodes:
                layer._inbound_nodes.remove(out.node)
        return [x], steps, [kt]
    if getattr(model, "_functional", False):
        steps = [(n.layer, list(n.inputs), list(n.outputs), dict(n.kwargs)) for n in model._nodes]
        return list(model.inputs), steps, list(model.outputs)
    if not model.built or model._build_shape is None:
        raise _not_built_error(model)
    shapes = model._build_shape
    shapes = list(shapes) if isinstance(shapes, list) else [shapes]
    traced = trace_call(model, shapes, ["float32"] * len(shapes), {})
    steps = [(n.layer, list(n.inputs), list(n.outputs), dict(n.kwargs)) for n in traced._nodes]
    return list(traced.inputs), steps, list(traced.outputs)


def trace_call(layer: Any, shapes: Sequence[Any], dtypes: Sequence[Any],
               call_kwargs: dict) -> Any:
    """Trace ``layer.call`` (in inference mode) on symbolic inputs into a functional graph.

    The ops the call makes on the symbolic inputs become :class:`OpLayer` nodes and the
    layers it calls become nodes of their own, as when a functional model is built. The
    layers are left as they were: the traced calls are removed from their inbound nodes
    and the session's automatic names continue as before (the graph keeps its nodes).

    Args:
        layer: a built layer (or subclassed model) whose class has no converter.
        shapes: the shape of each positional input, batch axis first.
        dtypes: the dtype name of each input.
        call_kwargs: constant keyword arguments of the call (``training`` is set False
            where ``call`` takes it).

    Returns:
        The traced graph, a functional ``Model`` with inputs named ``input`` (or
        ``input_0``, ``input_1``, ...).

    Raises:
        UnsupportedLayerError: when the call cannot be traced (it reads a tensor's value,
            calls NumPy on it, returns something other than tensors...), naming the layer
            and the reason.

    Example:
        >>> import chainrule as cr
        >>> class Twice(cr.layers.Layer):
        ...     def call(self, x):
        ...         return x * 2.0
        >>> graph = trace_call(Twice(name="twice"), [(None, 3)], ["float32"], {})
        >>> [op.function for op in graph.operations[1:]]
        ['multiply']
    """
    import inspect  # noqa: PLC0415

    from chainrule.backend import session  # noqa: PLC0415
    from chainrule.layers.base import KerasTensor, flatten_structure  # noqa: PLC0415
    from chainrule.layers.core import Input  # noqa: PLC0415
    from chainrule.models.model import Model  # noqa: PLC0415

    counts = session.uid_counts()
    traced = None
    kind = "Model" if isinstance(layer, Model) else "Layer"
    cls = type(layer).__name__
    try:
        names = ["input"] if len(shapes) == 1 else [f"input_{i}" for i in range(len(shapes))]
        xs = [Input(batch_shape=tuple(s), dtype=str(d), name=n)
              for s, d, n in zip(shapes, dtypes, names)]
        kwargs = dict(call_kwargs)
        if "training" in inspect.signature(layer.call).parameters:
            kwargs["training"] = False
        outs = flatten_structure(layer.call(xs[0] if len(xs) == 1 else xs, **kwargs))
        if not outs or not all(isinstance(t, KerasTensor) for t in outs):
            kinds = ", ".join(sorted({type(t).__name__ for t in outs})) or "nothing"
            raise TypeError(f"it returned {kinds}, not symbolic tensors")
        if any(any(t is x for x in xs) for t in outs):
            raise TypeError("it returned one of its inputs unchanged")
        traced = Model(xs, outs if len(outs) > 1 else outs[0])
    except UnsupportedLayerError:
        raise
    except Exception as exc:  # whatever the user's call does with a symbolic tensor
        reason = (str(exc).splitlines() or [""])[0][:200]
        head = (f"Cannot export model {layer.name!r}: its call" if kind == "Model" else
                f'Layer "{layer.name}" of class {cls} has no ONNX converter, and its call')
        raise UnsupportedLayerError(
            f"{head} could not be traced on symbolic inputs to translate the ops it uses "
            f"({type(exc).__name__}: {reason}). Write its call with chainrule.ops only, or add "
            "a converter with chainrule.export.register_converter. "
            f"Received: {kind.lower()} {layer.name!r} of class {cls}") from None
    finally:
        session.set_uid_counts(counts)
    for node in traced._nodes:  # the layers keep only their own calls
        inbound = node.layer._inbound_nodes
        if node in inbound:
            inbound.remove(node)
    return traced


def emit_model(graph: OnnxGraph, model: Any, input_names: Sequence[str] | None = None) -> tuple:
    """Add a model's layers to ``graph``.

    Args:
        graph: the graph under construction.
        model: a Sequential or functional model (also one nested in another).
        input_names: the values feeding the model's inputs (``None``: the model's own inputs,
            which the caller declares as graph inputs).

    Returns:
        ``(inputs, outputs)``: the model's input KerasTensors and, per output, its ONNX
        value name and shape.
    """
    from chainrule.export.onnx_layers import convert_layer  # noqa: PLC0415

    inputs, steps, outputs = _model_graph(model)
    values: dict = {}
    for i, kt in enumerate(inputs):
        values[id(kt)] = (input_names[i] if input_names is not None else
                          _input_name(kt, i), kt.shape)
    for layer, ins, outs, kwargs in steps:
        missing = [t for t in ins if id(t) not in values]
        if missing:  # pragma: no cover - a graph's topological order guarantees inputs
            raise ValueError(f"Layer {layer.name!r} reads a value not computed yet.")
        names = [values[id(t)][0] for t in ins]
        shapes = [values[id(t)][1] for t in ins]
        out_shapes = [tuple(t.shape) for t in outs]
        dtypes = ([str(t.dtype) for t in ins], [str(t.dtype) for t in outs])
        results = convert_layer(graph, layer, names, shapes, out_shapes, kwargs, dtypes)
        for kt, name, shape in zip(outs, results, out_shapes):
            values[id(kt)] = (name, shape)
    return inputs, [values[id(t)] for t in outputs]


def _input_name(kt: Any, i: int) -> str:
    node = getattr(kt, "node", None)
    layer = getattr(node, "layer", None)
    return getattr(layer, "name", None) or kt.name or f"input_{i}"


def _apply_signature(model: Any, input_signature: Any) -> None:
    """Build ``model`` from ``input_signature``, or check the signature against its inputs."""
    shapes = []
    specs = input_signature if isinstance(input_signature, (list, tuple)) else [None]
    for spec in specs:
        shape = getattr(spec, "shape", spec)
        if not isinstance(shape, (list, tuple)) or not all(
                d is None or isinstance(d, (int, np.integer)) for d in shape):
            raise ValueError("input_signature must be a list of shapes (batch axis first, None "
                             f"for unknown sizes). Received: input_signature={input_signature!r}")
        shapes.append(tuple(shape))
    if not model.built:
        model.build(shapes[0] if len(shapes) == 1 else shapes)
        return
    inputs = _model_graph(model)[0]
    actual = [tuple(kt.shape) for kt in inputs]
    fits = len(actual) == len(shapes) and all(
        len(a) == len(s) and all(x is None or y is None or x == y for x, y in zip(a, s))
        for a, s in zip(actual, shapes))
    if not fits:
        raise ValueError(f"input_signature does not fit model {model.name!r}, whose inputs have "
                         f"shapes {actual}. Received: input_signature={shapes}")


def export_onnx(model: Any, filepath: Any, verbose: bool = False, input_signature: Any = None,
                opset_version: int | None = None) -> Any:
    """Write ``model`` to ``filepath`` as an ONNX model (inference: Dropout is the identity,
    BatchNormalization uses its moving statistics).

    The batch axis is dynamic (named ``batch``); the graph's inputs are named after
    the model's input layers, its outputs after the layers that produce them. All
    tensors are float32 (integer inputs keep their integer type, e.g. for Embedding).

    Args:
        model: a built model: Sequential, functional, or subclassed (traced through its call).
        filepath: the ``.onnx`` file to write (a path or path-like).
        verbose: print where the file went.
        input_signature: a list of input shapes (batch axis first, e.g. ``[(None, 4)]``, or
            objects with a ``shape``): builds a model not built yet; for a built model it
            must agree with the model's inputs (a ``None`` matches any size).
        opset_version: the ONNX opset (default and only value today: 17).

    Returns:
        The ``onnx.ModelProto`` that was written.

    Raises:
        ImportError: without the ``onnx`` package.
        ValueError: for an unbuilt model, an unsupported opset, or
            :class:`UnsupportedLayerError` for a layer without a converter.

    Example:
        >>> import os, tempfile, chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(2, activation="relu", input_shape=(3,))])
        >>> path = os.path.join(tempfile.mkdtemp(), "m.onnx")
        >>> proto = export_onnx(model, path)
        >>> proto.opset_import[0].version, [n.op_type for n in proto.graph.node]
        (17, ['MatMul', 'Add', 'Relu', 'Identity'])
    """
    onnx = _require_onnx()
    if opset_version is None:
        opset_version = DEFAULT_OPSET
    if isinstance(opset_version, bool) or not isinstance(opset_version, (int, np.integer)) \
            or not _MIN_OPSET <= opset_version <= _MAX_OPSET:
        raise ValueError(f"opset_version must be {DEFAULT_OPSET} (the opset the converters "
                         f"write). Received: opset_version={opset_version!r}")
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError("filepath must be a path (str or os.PathLike). "
                        f"Received: filepath={filepath!r}")
    if input_signature is not None:
        _apply_signature(model, input_signature)
    graph = OnnxGraph(onnx)
    declared = _model_graph(model)[0]
    for i, kt in enumerate(declared):  # the graph inputs keep their names
        graph._names.add(_input_name(kt, i))
    inputs, outputs = emit_model(graph, model)
    helper = onnx.helper
    graph_inputs = []
    for i, kt in enumerate(inputs):
        name = _input_name(kt, i)
        graph_inputs.append(helper.make_tensor_value_info(
            name, _onnx_dtype(onnx, kt.dtype), _dims(kt.shape, name)))
    graph_outputs = []
    out_dtypes = [str(t.dtype) for t in _model_graph(model)[2]]
    for i, (value, shape) in enumerate(outputs):
        name = graph.unique(value.split("/")[0] if "/" in value else f"output_{i}")
        graph.nodes.append(helper.make_node("Identity", [value], [name],
                                            name=graph.unique(f"{name}/output")))
        graph_outputs.append(helper.make_tensor_value_info(  # integer and boolean outputs
            name, _output_type(onnx, out_dtypes[i]), _dims(shape, name)))  # keep their type
    onnx_graph = helper.make_graph(graph.nodes, model.name, graph_inputs, graph_outputs,
                                   graph.initializers)
    from chainrule._version import __version__  # noqa: PLC0415

    proto = helper.make_model(onnx_graph, producer_name="chainrule", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", int(opset_version))])
    proto.ir_version = 8  # the IR of opset 17 (ONNX 1.12), read by older runtimes too
    onnx.checker.check_model(proto, full_check=True)
    path = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"Cannot write {path!r}: the folder does not exist. "
                                f"Received: filepath={path!r}")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(proto.SerializeToString())
    os.replace(tmp, path)
    if verbose:
        print(f"Saved ONNX model (opset {opset_version}) to {path!r}: inputs "
              f"{[g.name for g in graph_inputs]}, outputs {[g.name for g in graph_outputs]}")
    return proto
