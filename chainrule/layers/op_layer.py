"""OpLayer: one call of a ``chainrule.ops`` function in a functional graph.

Made by :mod:`chainrule.ops.symbolic` when an op is called on KerasTensors
(Keras 3 records such calls as graph operations). The layer keeps the op's
public name and its non-tensor arguments; it runs the real op on the real
tensors in :meth:`OpLayer.call`, so the model trains (and its step is
captured) like any other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend, ops
from chainrule.autograd.engine import Tensor, no_grad
from chainrule.layers.base import KerasTensor, Layer, Node, unique_name
from chainrule.ops import symbolic

__all__ = ["OpLayer"]

_PROBES = (2, 3)  # sizes given to unknown dimensions in the two dry runs


class Slot:
    """Where the ``index``-th tensor input goes in the op's arguments.

    Example:
        >>> Slot(1).index, encode_argument([Slot(0), 2.0])
        (1, [{'__tensor__': 0}, 2.0])
    """

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


_Slot = Slot


def _template(value: Any, tensors: list) -> Any:
    """``value`` with each KerasTensor replaced by a slot (collected into ``tensors``)."""
    if isinstance(value, KerasTensor):
        tensors.append(value)
        return _Slot(len(tensors) - 1)
    if isinstance(value, (list, tuple)):
        return type(value)(_template(v, tensors) for v in value)
    return value


def _fill(value: Any, inputs: list) -> Any:
    if isinstance(value, _Slot):
        return inputs[value.index]
    if isinstance(value, (list, tuple)):
        return type(value)(_fill(v, inputs) for v in value)
    if isinstance(value, dict):
        return {k: _fill(v, inputs) for k, v in value.items()}
    return value


class _Unsaveable(Exception):
    pass


def _encode(value: Any) -> Any:
    """A JSON-able spelling of an argument (tuples, slices and arrays kept apart)."""
    if isinstance(value, _Slot):
        return {"__tensor__": value.index}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"__dict__": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"__slice__": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
    if value is Ellipsis:
        return {"__ellipsis__": True}
    if isinstance(value, (np.ndarray, Tensor)) and not getattr(value, "requires_grad", False):
        arr = np.asarray(value.numpy() if isinstance(value, Tensor) else value)
        if arr.dtype.kind in "biuf":
            return {"__ndarray__": arr.tolist(), "dtype": str(arr.dtype)}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    raise _Unsaveable(type(value).__name__)


def encode_argument(value: Any) -> Any:
    """The config spelling of one op argument (``Slot(i)`` is ``{"__tensor__": i}``).

    Raises:
        ValueError: for a value a config cannot hold (a function, an object).

    Example:
        >>> encode_argument((slice(0, 2), Ellipsis))
        {'__tuple__': [{'__slice__': [0, 2, None]}, {'__ellipsis__': True}]}
    """
    try:
        return _encode(value)
    except _Unsaveable as e:
        raise ValueError("An op argument of this type cannot be written to a config. "
                         f"Received: an argument of type {e.args[0]}") from None


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return _Slot(int(value["__tensor__"]))
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__slice__" in value:
        return slice(*(_decode(v) for v in value["__slice__"]))
    if "__ellipsis__" in value:
        return Ellipsis
    if "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value.get("dtype", "float32"))
    raise ValueError(f"Invalid OpLayer argument in a config. Received: {value!r}")


def _count_slots(value: Any) -> int:
    if isinstance(value, _Slot):
        return 1
    if isinstance(value, (list, tuple)):
        return sum(_count_slots(v) for v in value)
    if isinstance(value, dict):
        return sum(_count_slots(v) for v in value.values())
    return 0


def _op_function(function: Any) -> Any:
    """The op named ``function`` in ``chainrule.ops`` (never anything else)."""
    public = isinstance(function, str) and (function in ops.__all__ or (  # or ops.image's
        function.startswith("image.") and function[6:] in ops.image.__all__))
    fn = symbolic.raw_op(function) if public else None
    if fn is None:
        raise ValueError(
            "OpLayer: `function` must name an op of chainrule.ops that can be recorded "
            f"(e.g. 'mean', 'add', 'getitem'). Received: function={function!r}")
    return fn


# chainrule's op names Keras 3 names otherwise (``ops.abs`` records Keras's ``absolute``)
_KERAS_NAMES = {"getitem": "get_item", "abs": "absolute", "layer_normalization": "layer_norm",
                "swish": "silu"}


def _keras_name(function: str) -> str:
    return _KERAS_NAMES.get(function, function)


class OpLayer(Layer):
    """One call of a ``chainrule.ops`` function on symbolic tensors (a graph node).

    Made for you when an op (or an operator such as ``+`` or ``x[:, 0]``) is
    applied to KerasTensors; named after the op (``mean``, ``add``,
    ``get_item``), as Keras names its graph operations. As in Keras 3 it is a
    graph operation, not a layer of the model: ``model.operations`` lists it,
    ``model.layers`` and ``model.get_layer`` do not.

    Args:
        function: the op's public name in :mod:`chainrule.ops`.
        arguments: ``{"args": [...], "kwargs": {...}}``, the op's arguments with
            each tensor input written ``{"__tensor__": i}`` (the config's form).
        **kwargs: base layer arguments (``name``, ``trainable``, ``dtype``).

    Example:
        >>> import chainrule as cr
        >>> x = cr.layers.Input((3,))
        >>> m = cr.Model(x, cr.ops.sum(x * 2.0, axis=-1))
        >>> [op.function for op in m.operations[1:]], m.output_shape
        (['multiply', 'sum'], (None,))
        >>> m.predict(np.ones((2, 3)), verbose=0)
        array([6., 6.], dtype=float32)
    """

    def __init__(self, function: str, arguments: dict | None = None, **kwargs: Any) -> None:
        self._fn = _op_function(function)
        self.function = function
        arguments = arguments or {}
        if not isinstance(arguments, dict):
            raise ValueError(f"OpLayer {function!r}: `arguments` must be a dict with 'args' and "
                             f"'kwargs'. Received: arguments={arguments!r}")
        self._args = tuple(_decode(list(arguments.get("args", []))))
        self._kwargs = {k: _decode(v) for k, v in dict(arguments.get("kwargs", {})).items()}
        kwargs.setdefault("name", unique_name(_keras_name(function)))
        super().__init__(**kwargs)
        self.built = True

    @classmethod
    def record(cls, function: str, args: tuple, kwargs: dict) -> Any:
        """Record ``ops.<function>(*args, **kwargs)`` on KerasTensors; return its output(s).

        Example:
            >>> import chainrule as cr
            >>> OpLayer.record("add", (cr.layers.Input((2,)), 1.0), {}).shape
            (None, 2)
        """
        tensors: list = []
        layer = cls(function)
        layer._args = tuple(_template(a, tensors) for a in args)
        layer._kwargs = {k: _template(v, tensors) for k, v in kwargs.items()}
        return layer(tensors)

    @property
    def operation_class_name(self) -> str:
        """The class Keras 3 records this op as (``Mean``, ``TrueDivide``, ``GetItem``).

        Shown as the type in :meth:`Model.summary <chainrule.models.Model.summary>` and
        ``plot_model``, as Keras shows its graph operations (``mean (Mean)``).

        Example:
            >>> OpLayer("true_divide").operation_class_name, OpLayer("abs").operation_class_name
            ('TrueDivide', 'Absolute')
        """
        from chainrule.ops.keras_classes import keras_op_for  # noqa: PLC0415  (saving's table)

        found = keras_op_for(self.function)  # the class a Keras-format file names
        if found is not None:
            return found[0]
        return "".join(part[:1].upper() + part[1:]
                       for part in _keras_name(self.function).split("_"))

    def _run(self, inputs: list) -> Any:
        args = _fill(self._args, inputs)
        kwargs = _fill(self._kwargs, inputs)
        return self._fn(*args, **kwargs)

    def call(self, inputs: Any) -> Any:
        """Run the op on real tensors (``inputs``: the tensor arguments, in order)."""
        inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        n = _count_slots(self._args) + _count_slots(self._kwargs)
        if len(inputs) != n:
            raise ValueError(f"OpLayer {self.name!r} ({self.function}) expects {n} tensor "
                             f"inputs. Received: {len(inputs)} inputs")
        return self._run(inputs)

    def _dry_run(self, flat: list, probe: int) -> list:
        zeros = []
        for kt in flat:
            shape = tuple(probe if d is None else d for d in kt.shape)
            zeros.append(Tensor(backend.xp.zeros(shape, dtype=kt.dtype)))
        with no_grad(), np.errstate(all="ignore"):
            out = self._run(zeros)
        self._sequence_output = isinstance(out, (list, tuple))
        outs = list(out) if self._sequence_output else [out]
        for o in outs:
            if not isinstance(o, Tensor):
                raise TypeError(f"Op {self.function!r} called on symbolic tensors must return "
                                f"tensors. Received: an output of type {type(o).__name__}")
        return outs

    def _symbolic_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        flat = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        first = self._dry_run(flat, _PROBES[0])
        if any(d is None for kt in flat for d in kt.shape):
            second = self._dry_run(flat, _PROBES[1])
            shapes = [tuple(None if a != b else a for a, b in zip(o.shape, p.shape))
                      if len(o.shape) == len(p.shape) else tuple(None for _ in o.shape)
                      for o, p in zip(first, second)]
        else:
            shapes = [tuple(o.shape) for o in first]
        kts = [KerasTensor(s, dtype=str(o.dtype)) for s, o in zip(shapes, first)]
        node = Node(self, flat, kts, {})
        for i, kt in enumerate(kts):
            kt.node = node
            kt.name = self.name if len(kts) == 1 else f"{self.name}_{i}"
        self._inbound_nodes.append(node)
        self._output_shape = kts[0].shape if len(kts) == 1 else [k.shape for k in kts]
        return kts if self._sequence_output else kts[0]

    def get_config(self) -> dict:
        """Base config plus ``function`` and its JSON-able ``arguments``.

        Raises:
            ValueError: when an argument cannot be written to JSON (a function, an object).
        """
        try:
            arguments = {"args": [_encode(a) for a in self._args],
                         "kwargs": {k: _encode(v) for k, v in self._kwargs.items()}}
        except _Unsaveable as e:
            raise ValueError(
                f"Cannot save op layer {self.name!r}: an argument of ops.{self.function} is a "
                f"{e.args[0]}, which cannot be written to a config (numbers, strings, "
                "lists/tuples, slices and constant arrays can). Received: an argument of type "
                f"{e.args[0]}") from None
        config = super().get_config()
        config.update({"function": self.function, "arguments": arguments})
        return config


# ops called on KerasTensors record an OpLayer (the ops module does not import the layers)
symbolic.use_graph(KerasTensor, OpLayer.record)
