"""Graph operations in Keras 3's functional configs, read into and written from ``OpLayer``.

Keras 3 writes an op called on symbolic tensors (``x * 2.0``, ``ops.mean(y, axis=-1)``)
as an entry of its own class::

    {"module": "keras.src.ops.numpy", "class_name": "Mean", "registered_name": "Mean",
     "config": {"name": "mean", "axis": -1, "keepdims": true},        # constructor settings
     "name": "mean",
     "inbound_nodes": [{"args": [<keras tensor>], "kwargs": {}}]}     # call arguments

chainrule records the same call as an :class:`~chainrule.layers.OpLayer` running
``chainrule.ops.mean``. :data:`KERAS_OPS` is the one table between the two: for each
Keras class, the chainrule op, Keras's module, which arguments are constructor
settings (in ``config``) and which are call arguments (in ``inbound_nodes``), in
Keras's order and names. Adding an op is adding one entry. Nothing named in a file
is imported: an entry's class is looked up in the table, and a class it lacks is
refused (:func:`op_entry_spec`).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, Callable

import numpy as np

from chainrule import backend
from chainrule.layers.op_layer import Slot, encode_argument
from chainrule.ops.keras_classes import KERAS_OPS, REFUSED_OPS, KerasOp, keras_op_for, raw_op
from chainrule.saving.errors import InvalidArchiveError, UnsafeFileError

__all__ = ["KERAS_OPS", "KerasOp", "is_op_entry", "keras_op_for", "op_entry_spec",
           "op_layer_entry"]


_KERAS_TENSOR = "__keras_tensor__"
#: What Keras's op functions make of ``None`` for the settings in ``KerasOp.resolved``.
_RESOLVED: dict[str, Callable[[], Any]] = {"dtype": backend.floatx,
                                           "data_format": lambda: "channels_last"}


def is_op_entry(entry: Any) -> bool:
    """Whether a functional config entry is a Keras operation (not a layer).

    Keras writes its op classes from ``keras.src.ops.<module>``; class names alone
    do not tell (``Concatenate``, ``Add`` are layers too).

    Example:
        >>> is_op_entry({"module": "keras.src.ops.numpy", "class_name": "Add", "config": {}})
        True
        >>> is_op_entry({"module": "keras.layers", "class_name": "Add", "config": {}})
        False
    """
    module = entry.get("module") if isinstance(entry, dict) else None
    return isinstance(module, str) and module.startswith(("keras.src.ops.", "keras.ops"))


# --------------------------------------------------------------------------- Keras -> chainrule


def _decode(value: Any, refs: list, where: str, src: str) -> Any:
    """A Keras-serialized call argument or setting as a Python value; tensors become slots."""
    from chainrule.saving.keras_archive import _ref  # noqa: PLC0415

    if isinstance(value, list):
        return [_decode(v, refs, where, src) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("class_name")
    inner = value.get("config") if isinstance(value.get("config"), dict) else {}
    if kind == _KERAS_TENSOR:
        refs.append(_ref(value, where, src))
        return Slot(len(refs) - 1)
    if kind == "__slice__":
        return slice(*(_decode(inner.get(k), refs, where, src) for k in ("start", "stop", "step")))
    if kind == "__ellipsis__":
        return Ellipsis
    if kind in ("__numpy__", "__tensor__"):
        dtype = np.dtype(str(inner.get("dtype", "float32")))
        if dtype.kind not in "biuf":
            raise InvalidArchiveError(f"{src}: {where}: a constant of dtype {dtype} cannot be "
                                      f"read. Received: dtype={str(dtype)!r}")
        return np.asarray(inner.get("value"), dtype=dtype)
    if kind is None and all(isinstance(k, str) for k in value):
        return {k: _decode(v, refs, where, src) for k, v in value.items()}
    raise InvalidArchiveError(f"{src}: {where}: an argument chainrule cannot read. "
                              f"Received: {value!r:.120}")


def _as_tuple(value: Any) -> Any:
    """A JSON list back to the tuple Keras wrote, when it is an index key."""
    if isinstance(value, list) and any(isinstance(v, (slice, list)) or v is None or v is Ellipsis
                                       for v in value):
        return tuple(value)
    return value


def op_entry_spec(entry: dict, where: str, src: str) -> dict:
    """chainrule's ``OpLayer`` spec (with ``name`` and ``inbound_nodes``) for a Keras op entry.

    Args:
        entry: one element of a Keras functional config's ``layers`` whose
            ``module`` is ``keras.src.ops.*``.
        where: where it appears, for messages.
        src: the file's name, for messages.

    Raises:
        UnsafeFileError: for an operation class that is not in :data:`KERAS_OPS`.
        InvalidArchiveError: for a malformed entry or a setting the op does not take.

    Example:
        >>> spec = op_entry_spec({"module": "keras.src.ops.numpy", "class_name": "Multiply",
        ...     "config": {"name": "multiply"}, "name": "multiply", "inbound_nodes": [{"args": [
        ...     {"class_name": "__keras_tensor__", "config": {"keras_history": ["dense", 0, 0]}},
        ...     2.0], "kwargs": {}}]}, "layers[2]", "m.keras")
        >>> spec["config"]["function"], spec["config"]["arguments"], spec["inbound_nodes"]
        ('multiply', {'args': [{'__tensor__': 0}, 2.0], 'kwargs': {}}, [[['dense', 0, 0]]])
    """
    name, module = entry.get("class_name"), entry.get("module")
    config = entry.get("config")
    if not isinstance(config, dict):
        raise InvalidArchiveError(f"{src}: {where} ({name}) has no config dict. "
                                  f"Received: config={config!r:.80}")
    op_name = config.get("name", entry.get("name"))
    label = f"{where} ({name} {op_name!r})"
    spec = KERAS_OPS.get(name) if isinstance(name, str) else None
    if isinstance(name, str) and name in REFUSED_OPS:
        raise UnsafeFileError(
            f"{src}: {label}: chainrule does not read the Keras operation {name!r}: "
            f"{REFUSED_OPS[name]}. Received: class_name={name!r}, module={module!r}")
    if spec is None:
        raise UnsafeFileError(
            f"{src}: {label}: chainrule has no counterpart of the Keras operation {name!r} "
            f"(module {module!r}); chainrule.saving.keras_ops.KERAS_OPS lists the operations "
            "it reads. Rebuild that part of the model with chainrule ops and load the weights "
            f"with load_weights. Received: class_name={name!r}, module={module!r}")
    settings = dict(spec.setting_pairs)
    kwargs: dict = {}
    refs: list = []
    for key, value in config.items():
        if key == "name":
            continue
        if key not in settings:
            raise InvalidArchiveError(
                f"{src}: {label} sets {key}={value!r:.60}, which chainrule's ops.{spec.function} "
                f"does not take (it reads {sorted(settings)}). Received: {key}={value!r:.60}")
        kwargs[settings[key]] = _decode(value, refs, f"{label}.{key}", src)
        if refs:
            raise InvalidArchiveError(f"{src}: {label}: the setting {key} holds a tensor. "
                                      f"Received: {key}={value!r:.80}")
    nodes = entry.get("inbound_nodes")
    if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
        raise InvalidArchiveError(f"{src}: {label}: an operation is called exactly once, with "
                                  f"{{'args', 'kwargs'}}. Received: inbound_nodes={nodes!r:.120}")
    node_args, node_kwargs = nodes[0].get("args", []), nodes[0].get("kwargs") or {}
    if not isinstance(node_args, list) or not isinstance(node_kwargs, dict):
        raise InvalidArchiveError(f"{src}: {label}: invalid inbound node. "
                                  f"Received: {nodes[0]!r:.120}")
    call = spec.call_pairs
    if spec.variadic and len(node_args) >= len(call):  # the last takes the remaining tensors
        node_args = node_args[:len(call) - 1] + [node_args[len(call) - 1:]]
    if len(node_args) > len(call):
        raise InvalidArchiveError(f"{src}: {label} is called with {len(node_args)} arguments; "
                                  f"{name} takes {len(call)}. Received: {len(node_args)} arguments")
    given = {call[i][0]: v for i, v in enumerate(node_args)}
    for key, value in node_kwargs.items():
        if key not in dict(call) or key in given:
            raise InvalidArchiveError(
                f"{src}: {label} is called with the keyword argument {key!r}, which {name} "
                f"does not take (it takes {[k for k, _ in call]}). Received: {key}={value!r:.60}")
        given[key] = value
    args = []
    leading = list(inspect.signature(raw_op(spec.function)).parameters)
    if spec.variadic:  # ops.einsum(subscripts, *operands): the settings before, positionally
        args = [kwargs.pop(p) for p in leading[:leading.index(call[-1][1])] if p in kwargs]
        leading = leading[len(args):]
    for i, (keras_name, ours) in enumerate(call):
        if keras_name not in given:
            continue  # it takes its default
        value = _decode(given[keras_name], refs, f"{label} argument {keras_name}", src)
        value = _as_tuple(value) if ours in spec.tuples else value
        if spec.variadic and i == len(call) - 1:
            args.extend(value)
        elif len(args) == i and leading[i] == ours:
            args.append(value)  # positional while the call arguments lead the signature
        else:
            kwargs[ours] = value
    if not refs:
        raise InvalidArchiveError(f"{src}: {label}: a call without tensor inputs. "
                                  f"Received: {nodes[0]!r:.120}")
    arguments = {"args": [encode_argument(a) for a in args],
                 "kwargs": {k: encode_argument(v) for k, v in kwargs.items()}}
    return {"class_name": "OpLayer",
            "config": {"name": op_name, "function": spec.function, "arguments": arguments},
            "name": entry.get("name", op_name), "inbound_nodes": [refs]}


# --------------------------------------------------------------------------- chainrule -> Keras


def _encode(value: Any, tensor: Callable[[int], dict], where: str) -> Any:
    """A Python argument in Keras's serialized form; slots become Keras tensors."""
    from chainrule.autograd.engine import Tensor  # noqa: PLC0415
    if isinstance(value, Slot):
        return tensor(value.index)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_encode(v, tensor, where) for v in value]
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return {k: _encode(v, tensor, where) for k, v in value.items()}
    if isinstance(value, slice):
        return {"class_name": "__slice__", "config": {
            k: _encode(getattr(value, k), tensor, where) for k in ("start", "stop", "step")}}
    if value is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(value, (np.ndarray, Tensor)) and not getattr(value, "requires_grad", False):
        arr = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        if arr.ndim == 0:
            return arr.item()
        return {"class_name": "__numpy__", "config": {"value": arr.tolist(),
                                                      "dtype": str(arr.dtype)}}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    raise ValueError(f"{where}: an argument of type {type(value).__name__} cannot be written "
                     f"in Keras's format. Received: an argument of type {type(value).__name__}")


def _holds_slot(value: Any) -> bool:
    if isinstance(value, Slot):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_slot(v) for v in value)
    return isinstance(value, dict) and any(_holds_slot(v) for v in value.values())


def op_layer_entry(layer: Any, tensor: Callable[[int], dict]) -> dict:
    """Keras 3's entry for an ``OpLayer`` (module, class_name, config, inbound_nodes).

    Args:
        layer: the op layer.
        tensor: the Keras tensor dict for the op's ``i``-th tensor input.

    Raises:
        ValueError: for an op Keras's table lacks, or an argument Keras's class has
            no place for, naming the layer and the op.

    Example:
        >>> from chainrule.layers import OpLayer
        >>> layer = OpLayer("mean", {"args": [{"__tensor__": 0}], "kwargs": {"axis": -1}},
        ...                 name="mean")
        >>> entry = op_layer_entry(layer, lambda i: {"tensor": i})
        >>> entry["class_name"], entry["config"], entry["inbound_nodes"]
        ('Mean', {'name': 'mean', 'axis': -1, 'keepdims': False}, [{'args': [{'tensor': 0}], 'kwargs': {}}])
    """
    where = f"op layer {layer.name!r} (ops.{layer.function})"
    found = keras_op_for(layer.function)
    if found is None:
        raise ValueError(
            f"Cannot write {where} in Keras's .keras format: Keras 3 has no operation chainrule "
            "knows for it (chainrule.saving.keras_ops.KERAS_OPS lists them). Save in "
            f"chainrule's own format instead. Received: function={layer.function!r}")
    class_name, spec = found
    signature = inspect.signature(raw_op(spec.function))
    try:
        bound = signature.bind(*layer._args, **layer._kwargs)
    except TypeError as e:
        raise ValueError(f"Cannot write {where}: its arguments do not fit ops.{spec.function}"
                         f" ({e}). Received: {len(layer._args)} arguments") from None
    arguments = dict(bound.arguments)
    for alias in spec.aliases:
        theirs, ours = alias.split("=", 1)
        if theirs in arguments and theirs != ours:
            value = arguments.pop(theirs)
            if value is not None:
                arguments[ours] = value
    config: dict = {"name": layer.name}
    for keras_key, ours in spec.setting_pairs:
        param = signature.parameters[ours]
        value = arguments.pop(ours, param.default)
        if value is inspect.Parameter.empty:
            raise ValueError(f"Cannot write {where}: it lacks the argument {ours}. "
                             f"Received: {sorted(bound.arguments)}")
        if _holds_slot(value):
            raise ValueError(
                f"Cannot write {where} in Keras's .keras format: Keras's {class_name} takes "
                f"{keras_key} as a constant setting, not a tensor. Received: {ours}=a tensor")
        if value is None and keras_key in spec.resolved:
            value = _RESOLVED[keras_key]()
        config[keras_key] = _encode(value, tensor, where)
    args: list = []
    call_kwargs: dict = {}
    pending: list = []  # defaults of call arguments, written only before a given one
    for keras_name, ours in spec.call_pairs:
        if keras_name in spec.keywords:
            if ours in arguments:
                call_kwargs[keras_name] = _encode(arguments.pop(ours), tensor, where)
        elif spec.variadic and (keras_name, ours) == spec.call_pairs[-1]:
            args.extend(pending + [_encode(v, tensor, where) for v in arguments.pop(ours, ())])
        elif ours in arguments:
            args.extend(pending)
            pending.clear()
            args.append(_encode(arguments.pop(ours), tensor, where))
        else:
            pending.append(_encode(signature.parameters[ours].default, tensor, where))
    for key, value in arguments.items():
        default = signature.parameters[key].default
        if not (value is default or (isinstance(value, (bool, int, float, str))
                                     and type(value) is type(default) and value == default)):
            raise ValueError(
                f"Cannot write {where} in Keras's .keras format: Keras's {class_name} has no "
                f"argument {key!r}. Received: {key}={value!r:.60}")
    return {"module": spec.keras_module, "class_name": class_name, "config": config,
            "registered_name": class_name, "name": layer.name,
            "inbound_nodes": [{"args": args, "kwargs": call_kwargs}]}
