"""Model (functional and subclassed) and Sequential, with Keras's summary table."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from chainrule import backend
from chainrule.autograd.engine import Tensor
from chainrule.layers.base import (
    POSITIONAL_TENSORS,
    KerasTensor,
    Layer,
    Node,
    as_tensor,
    call_arguments,
    flatten_structure,
    outermost_call,
    split_keyword_tensors,
    touch_structure,
    unique_name,
)
from chainrule.layers.core import InputLayer
from chainrule.layers.op_layer import OpLayer
from chainrule.layers.serialization import register_layer_class
from chainrule.models.trainer import Trainer

__all__ = ["Model", "Sequential"]


class Model(Trainer, Layer):
    """A model: layers plus ``compile``/``fit``/``evaluate``/``predict``.

    Two ways to make one, as in Keras:

    * Functional: ``Model(inputs, outputs)`` where ``outputs`` come from layers
      called on ``Input`` tensors (several inputs and outputs allowed).
    * Subclassing: derive from ``Model``, create layers in ``__init__`` and
      write ``call(inputs, training=None)``.

    Example:
        >>> import chainrule as cr
        >>> inputs = cr.layers.Input(shape=(2,))
        >>> outputs = cr.layers.Dense(1, activation="sigmoid")(inputs)
        >>> model = cr.models.Model(inputs, outputs)
        >>> model.predict(np.zeros((3, 2)), verbose=0).shape
        (3, 1)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        inputs = kwargs.pop("inputs", args[0] if len(args) > 0 else None)
        outputs = kwargs.pop("outputs", args[1] if len(args) > 1 else None)
        name = kwargs.pop("name", None)
        trainable = kwargs.pop("trainable", True)
        Layer.__init__(self, name=name or unique_name(_default_name(type(self))),
                       trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._functional = inputs is not None
        if self._functional:
            if outputs is None:
                raise ValueError("A functional Model needs both inputs and outputs. "
                                 "Received: outputs=None")
            self._init_graph(inputs, outputs)

    # -- functional graph ----------------------------------------------------
    def _init_graph(self, inputs: Any, outputs: Any) -> None:
        self._nested_inputs, self._nested_outputs = inputs, outputs
        self.inputs = flatten_structure(inputs)
        self.outputs = flatten_structure(outputs)
        for name, group in (("inputs", self.inputs), ("outputs", self.outputs)):
            for t in group:
                if not isinstance(t, KerasTensor):
                    raise TypeError(
                        f"Model {name} must be symbolic tensors from layers.Input(...) and layers "
                        f"called on them. Received: {name} containing {type(t).__name__}"
                    )
        # topological order of nodes from the inputs to the outputs; an input may be any
        # symbolic tensor (Keras 3 cuts the graph there), so the walk stops at the inputs
        input_ids = {id(t) for t in self.inputs}
        order: list = []
        seen: set = set()
        stack = [(t.node, False) for t in reversed(self.outputs)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            for t in reversed(node.inputs):  # the first input's branch first, as Keras orders
                if id(t.node) not in seen and id(t) not in input_ids:
                    stack.append((t.node, False))
        cut = {id(t.node) for t in self.inputs if not isinstance(t.node.layer, InputLayer)}
        order = [n for n in order if id(n) not in cut]
        for node in order:
            if isinstance(node.layer, InputLayer) and id(node.outputs[0]) not in input_ids:
                raise ValueError(
                    f"The outputs depend on input {node.layer.name!r}, which is not among the "
                    f"model's inputs. Received: inputs={[t.name for t in self.inputs]}"
                )
        self._nodes = [n for n in order if not isinstance(n.layer, InputLayer)]
        object.__setattr__(self, "_layers", _keras_layer_order(self.inputs, self.outputs,
                                                               self._nodes))
        self.built = True
        self._output_shape = self.outputs[0].shape if len(self.outputs) == 1 else [
            t.shape for t in self.outputs]

    @property
    def input(self) -> Any:
        """A functional model's inputs, in the structure it was built with (as Keras)."""
        if getattr(self, "_functional", False):
            return self._nested_inputs
        return Layer.input.fget(self)

    @property
    def input_shape(self) -> Any:
        """The shape of the model's input (a list of shapes for several inputs), batch axis
        first, as Keras 3's ``Model.input_shape``.

        Raises:
            AttributeError: for a model whose input shape is not known yet.

        Example:
            >>> import chainrule as cr
            >>> x = cr.layers.Input((4,))
            >>> cr.Model(x, cr.layers.Dense(2)(x)).input_shape
            (None, 4)
        """
        if getattr(self, "_functional", False):
            shapes = [tuple(t.shape) for t in self.inputs]
        else:
            shape = self._declared_input_shape() if isinstance(self, Sequential) else None
            if shape is None and self.built:
                shape = getattr(self, "_build_shape", None)
            if shape is None:
                raise AttributeError(
                    f"Model {self.name!r} has no defined input shape yet: give it an Input (or "
                    "its first layer input_shape=...), or call it on data. Received: an "
                    f"unbuilt {type(self).__name__}")
            shapes = list(shape) if isinstance(shape, list) else [tuple(shape)]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output(self) -> Any:
        """A functional model's outputs, in the structure it was built with (as Keras)."""
        if getattr(self, "_functional", False):
            return self._nested_outputs
        return Layer.output.fget(self)

    @property
    def layers(self) -> list[Layer]:
        """The model's layers, in order (input layers first for functional models).

        As in Keras 3, an op called on symbolic tensors (``x * 2.0``, ``ops.mean(y)``,
        ``x[:, 0]``) is a graph operation, not a layer: it is listed by
        :attr:`operations` (and in the summary and the config) but not here, so
        ``layers[i]`` and ``get_layer(index=i)`` count as Keras counts.

        Example:
            >>> import chainrule as cr
            >>> x = cr.layers.Input((3,), name="x")
            >>> y = cr.layers.Dense(2, name="d")(x * 2.0)
            >>> [layer.name for layer in cr.Model(x, y).layers]
            ['x', 'd']
        """
        return [la for la in self._layers if not isinstance(la, OpLayer)]

    @property
    def operations(self) -> list[Layer]:
        """Every node of a functional model's graph, in order: its layers and its ops.

        Keras 3's ``Functional.operations``: :attr:`layers` plus the ops called on
        symbolic tensors while the model was built (chainrule records each as an
        :class:`~chainrule.layers.OpLayer`). Sequential and subclassed models have
        no such list, as in Keras.

        Raises:
            AttributeError: for a model that is not functional.

        Example:
            >>> import chainrule as cr
            >>> cr.utils.clear_session()  # op names are numbered from here
            >>> x = cr.layers.Input((3,), name="x")
            >>> y = cr.layers.Dense(2, name="d")(x * 2.0)
            >>> [op.name for op in cr.Model(x, y).operations]
            ['x', 'multiply', 'd']
        """
        if not getattr(self, "_functional", False):
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute 'operations': only a "
                "functional model (Model(inputs, outputs)) has a graph of operations; use "
                f"model.layers. Received: model {self.name!r} of class {type(self).__name__}")
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """Return a layer by name or by index in :attr:`layers`, as Keras 3 does.

        Ops recorded in a functional graph are not layers (see :attr:`layers`), so
        they are neither counted by ``index`` nor found by ``name``.

        Args:
            name: the layer's name.
            index: its position in :attr:`layers` (negative counts from the end).

        Returns:
            The layer.

        Raises:
            ValueError: when both or neither of ``name`` and ``index`` are given, the
                index is out of range, or no layer has that name (the names are listed).

        Example:
            >>> import chainrule as cr
            >>> x = cr.layers.Input((3,), name="x")
            >>> m = cr.Model(x, cr.layers.Dense(1, name="out")(cr.ops.square(x)))
            >>> m.get_layer(index=1).name, m.get_layer("out").name
            ('out', 'out')
        """
        if index is not None and name is not None:
            raise ValueError("get_layer: provide only a layer name or a layer index. "
                             f"Received: index={index}, name={name!r}")
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f"index out of range: the model has {len(layers)} layers "
                                 f"(ops are not layers). Received: index={index}")
            return layers[index]
        if name is None:
            raise ValueError("get_layer needs a layer name or a layer index. "
                             "Received: name=None, index=None")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name!r}. Existing layers: "
                         f"{[la.name for la in layers]}. Received: name={name!r}")

    def call(self, inputs: Any, training: Any = None) -> Any:
        if not self._functional:
            raise NotImplementedError(
                f"Model {self.name!r} has no call(): subclass Model and define "
                "call(self, inputs, training=None), or build it with Model(inputs, outputs)."
            )
        flat = self._match_inputs(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} expects {len(self.inputs)} inputs. "
                             f"Received: {len(flat)} inputs")
        values = {id(kt): _match_rank(x, kt) for kt, x in zip(self.inputs, flat)}
        for node in self._nodes:
            arg, extra, kwargs = node_call_arguments(node, [values[id(t)] for t in node.inputs])
            # training=... written in the graph (base_model(x, training=False)) wins over the
            # model's own mode, as in Keras; otherwise the layer runs in the model's mode.
            if _accepts_training(node.layer) and kwargs.get("training") is None:
                kwargs["training"] = training
            out = node.layer(arg, *extra, **kwargs)
            outs = out if isinstance(out, (list, tuple)) else [out]
            for kt, o in zip(node.outputs, outs):
                values[id(kt)] = o
        result = [values[id(t)] for t in self.outputs]
        if isinstance(self._nested_outputs, (list, tuple, dict)):
            return result  # dict outputs: in their order (predict() returns the dict)
        return result[0]

    def _match_inputs(self, inputs: Any) -> list:
        """The flat list of input values in the order of ``self.inputs``.

        A dict is matched by key, as Keras does: against the keys of a dict the
        model was built with, else against the names of its ``Input``s; other
        structures are flattened in order.
        """
        if isinstance(inputs, dict):
            nested = self._nested_inputs
            keys = list(nested) if isinstance(nested, dict) else [t.name for t in self.inputs]
            if set(keys) <= set(inputs):
                if isinstance(nested, dict):
                    return flatten_structure([inputs[k] for k in keys])
                return [inputs[k] for k in keys]
        return flatten_structure(inputs)

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._functional and not self.built:
            flat = flatten_structure(inputs)
            if not (flat and all(isinstance(x, KerasTensor) for x in flat)):
                inputs = as_tensor(inputs)
                self._build_shape = tuple(flatten_structure(inputs)[0].shape)
                self.built = True
        if "training" in kwargs and not _accepts_training(self):
            del kwargs["training"]  # Keras passes `training` only to a call that takes it
        if self._functional and not isinstance(inputs, (Tensor, KerasTensor, dict)):
            inputs = self._declared_inputs(inputs)
        return Layer.__call__(self, inputs, *args, **kwargs)

    def _declared_inputs(self, inputs: Any) -> Any:
        """Arrays for inputs declared with an integer dtype, as Tensors of that dtype.

        ``Input(shape, dtype="int64")`` keeps token ids exact (Keras converts inputs
        to their ``Input``'s dtype); other inputs are left to the usual conversion.
        """
        steps = self._step_factory()
        if not steps.declares_integers():
            return inputs
        single = not isinstance(inputs, (list, tuple))
        flat = [inputs] if single else list(inputs)
        if len(flat) != len(self.inputs) or any(
                isinstance(x, (Tensor, KerasTensor, list, tuple, dict)) for x in flat):
            return inputs
        fed = [Tensor(a) for a in steps.feeds([backend.as_array(x) for x in flat])]
        return fed[0] if single else type(inputs)(fed)

    def build(self, input_shape: Any = None) -> None:
        """Build a subclassed model's layers by running it once on zeros of ``input_shape``."""
        if self._functional or input_shape is None:
            self.built = True
            return
        from chainrule.autograd.engine import no_grad  # noqa: PLC0415

        several = isinstance(input_shape, list) and all(
            isinstance(s, (list, tuple)) for s in input_shape)
        shapes = input_shape if several else [input_shape]
        zeros = [Tensor(np.zeros(tuple(1 if d is None else d for d in s), dtype="float32"))
                 for s in shapes]
        with no_grad():
            self(zeros if several else zeros[0])  # a call of the model: its losses start afresh
        self.built = True
        self._build_shape = [tuple(s) for s in shapes] if several else tuple(input_shape)

    # -- description -------------------------------------------------------------
    def summary(self, line_length: int | None = None, positions: Sequence[float] | None = None,
                print_fn: Any = None, expand_nested: bool = False, show_trainable: bool = False,
                layer_range: Sequence[str] | None = None) -> None:
        """Print the layer table as Keras does: name (type), output shape, parameter count.

        Args:
            line_length: total width (default 65, or 98 with a "Connected to" column).
            positions: relative or absolute column ends.
            print_fn: function called with each line (default ``print``).
            expand_nested: list a nested model's layers under its row (indented), as Keras.
            show_trainable: add a ``Trainable`` column.
            layer_range: ``[first, last]`` layer names to list.

        Raises:
            ValueError: if the model is not built yet.
        """
        from chainrule.utils.summary import print_summary  # noqa: PLC0415

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      expand_nested=expand_nested, show_trainable=show_trainable,
                      layer_range=layer_range)

    # -- saving ----------------------------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Save architecture, weights, compile settings and optimizer state to a ``.keras`` file.

        The file is a zip archive with a JSON config and ``.npz`` weights (no
        pickle); the write is atomic. See :func:`chainrule.models.load_model`.

        Args:
            filepath: path ending in ``.keras``; ``.h5`` writes Keras's legacy HDF5
                layout (needs the ``h5`` extra).
            overwrite: replace an existing file (otherwise raise).
            **kwargs: ``include_optimizer``, and ``format="keras"`` to write Keras 3's
                own ``.keras`` layout, which Keras loads (needs the ``h5`` extra; see
                ``docs/interop.md``).
        """
        from chainrule.saving import save_model  # noqa: PLC0415

        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def __reduce__(self) -> tuple:
        """Pickle (and ``copy.deepcopy``) a model as the bytes of its ``.keras`` archive.

        As in Keras 3, ``pickle.dumps(model)`` holds the saved model: its
        architecture, weights, compile settings and optimizer state, so the
        unpickled copy predicts the same and continues training as the original
        would. Custom classes must be registered
        (:func:`~chainrule.saving.register_keras_serializable`) to be unpickled.

        Returns:
            ``(rebuild function, (archive bytes,))``.

        Example:
            >>> import copy, pickle
            >>> import chainrule as cr
            >>> model = cr.Sequential([cr.Input((2,)), cr.layers.Dense(1)])
            >>> model.compile(optimizer="adam", loss="mse")
            >>> again = pickle.loads(pickle.dumps(model))
            >>> [w.shape for w in again.get_weights()], again.optimizer.get_config()["name"]
            ([(2, 1), (1,)], 'adam')
            >>> copy.deepcopy(model) is model
            False
        """
        return (_model_from_archive_bytes, (_model_archive_bytes(self),))

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights alone (``.weights.npz``), matched later by layer name and shape;
        ``.weights.h5`` writes Keras 3's HDF5 layout (needs the ``h5`` extra)."""
        from chainrule.saving import save_weights  # noqa: PLC0415

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False) -> None:
        """Load weights saved by :meth:`save_weights` (or from a ``.keras`` archive)."""
        from chainrule.saving import load_weights  # noqa: PLC0415

        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def export(self, filepath: Any, format: str = "tf_saved_model", verbose: bool = True,
               input_signature: Any = None, **kwargs: Any) -> None:
        """Export the model for inference in another runtime (Keras 3's signature).

        chainrule writes ``format="onnx"`` (needs ``pip install chainrule[onnx]``);
        see :func:`chainrule.export.export_onnx` for the graph written.

        Args:
            filepath: the file to write, e.g. ``"model.onnx"``.
            format: ``"onnx"``; Keras's other formats (``"tf_saved_model"``, the default,
                and ``"openvino"``) need TensorFlow or OpenVINO and are refused.
            verbose: print where the file went.
            input_signature: a list of input shapes: builds a model not built yet; for a
                built model it must agree with its inputs.
            **kwargs: ``opset_version`` for ONNX.

        Raises:
            ValueError: for another format, or an unbuilt model.

        Example:
            >>> import chainrule as cr
            >>> model = cr.Sequential([cr.layers.Dense(1, input_shape=(2,))])
            >>> model.export("saved_model")  # Keras's default format needs TensorFlow
            Traceback (most recent call last):
            ...
            ValueError: chainrule exports format='onnx' only ('tf_saved_model' needs ...
        """
        if format != "onnx":
            raise ValueError(
                f"chainrule exports format='onnx' only ({format!r} needs TensorFlow or another "
                "runtime). Use model.export(filepath, format='onnx'). "
                f"Received: format={format!r}")
        from chainrule.export import export_onnx  # noqa: PLC0415

        unknown = sorted(set(kwargs) - {"opset_version"})
        if unknown:
            raise TypeError(f"export(format='onnx') takes opset_version as its only extra "
                            f"argument. Received: {', '.join(unknown)}")
        export_onnx(self, filepath, input_signature=input_signature, verbose=verbose, **kwargs)

    def to_json(self, **kwargs: Any) -> str:
        """The model's architecture as JSON text (no weights); see
        :func:`chainrule.models.model_from_json`.

        Args:
            **kwargs: passed to ``json.dumps`` (e.g. ``indent=2``).

        Returns:
            ``{"class_name": ..., "config": ...}`` as a JSON string.

        Example:
            >>> import chainrule as cr
            >>> model = cr.Sequential([cr.layers.Dense(1, input_dim=2)])
            >>> model.to_json()[:30]
            '{"class_name": "Sequential", "'
        """
        import json  # noqa: PLC0415

        from chainrule.layers.serialization import serialize  # noqa: PLC0415

        return json.dumps(serialize(self), **kwargs)

    def get_config(self) -> dict:
        """The model's architecture as a JSON-serializable dict."""
        from chainrule.models.config import functional_config  # noqa: PLC0415

        if self._functional:
            return functional_config(self)
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        """Rebuild a model from :meth:`get_config`'s output."""
        from chainrule.models.config import functional_from_config  # noqa: PLC0415

        if "layers" in config and "input_layers" in config:
            return functional_from_config(cls, config, custom_objects)
        return cls(**config)


def _model_archive_bytes(model: Model) -> bytes:
    """The bytes of ``model.save(...)``'s ``.keras`` archive."""
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from chainrule.saving import save_model  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        save_model(model, path)
        with open(path, "rb") as f:
            return f.read()


def _model_from_archive_bytes(data: bytes) -> Model:
    """The model saved in ``data`` (bytes of a ``.keras`` archive): unpickling's rebuild."""
    import os  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from chainrule.saving import ArchiveError, load_model  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        try:
            return load_model(path)
        except ArchiveError as e:  # the temporary path means nothing to the caller
            reason = str(e).replace(repr(path), "the pickled model").split(". Known:")[0]
            raise type(e)(
                "Cannot unpickle (or deep-copy) the model: it is rebuilt from its .keras "
                "archive, so each custom layer, model, loss or metric class must be registered "
                "with @chainrule.saving.register_keras_serializable() (or the model unpickled "
                f"inside chainrule.saving.custom_object_scope(...)). Received: {reason}") from None


def node_call_arguments(node: Any, values: list) -> tuple:
    """``(first argument, further positional arguments, keyword arguments)`` to call a
    functional graph's node with, ``values`` being its inputs' values in order."""
    kwargs, values = split_keyword_tensors(node.kwargs, values)  # layer(x, mask=m)
    n_extra = kwargs.pop(POSITIONAL_TENSORS, 0)
    head, extra = values[:len(values) - n_extra], values[len(values) - n_extra:]
    return (head[0] if len(head) == 1 else head), extra, kwargs


def _default_name(cls: type) -> str:
    from chainrule.layers.base import to_snake_case  # noqa: PLC0415

    if cls is Model:
        return "functional"
    return to_snake_case(cls.__name__)


def _match_rank(x: Any, kt: KerasTensor) -> Any:
    """``x`` with its rank matched to its ``Input``'s, as Keras's functional models do: a
    trailing axis of 1 added where the Input declares one (``(n, 28, 28)`` for ``(28, 28, 1)``)
    or dropped where the Input has none (``(n, 4, 1)`` for ``(4,)``)."""
    if isinstance(x, KerasTensor) or not hasattr(x, "shape"):
        return x
    want = len(kt.shape)
    if len(x.shape) == want - 1 and kt.shape[-1] == 1:
        from chainrule import ops  # noqa: PLC0415

        return ops.expand_dims(x, -1)
    if len(x.shape) == want + 1 and x.shape[-1] == 1:
        from chainrule import ops  # noqa: PLC0415

        return ops.squeeze(x, -1)
    return x


def _accepts_training(layer: Layer) -> bool:
    """Whether ``layer.call`` takes ``training`` (by name or among ``**kwargs``)."""
    args = call_arguments(layer)
    return "training" in args or "**" in args


class Sequential(Model):
    """A plain stack of layers, each feeding the next.

    Args:
        layers: optional list of layers.
        name: the model's name (default ``sequential``, numbered).

    Example:
        >>> import chainrule as cr
        >>> model = cr.models.Sequential()
        >>> model.add(cr.layers.Dense(3, input_dim=2, activation="sigmoid"))
        >>> model.add(cr.layers.Dense(1, activation="sigmoid"))
        >>> [w.shape for w in model.get_weights()]
        [(2, 3), (3,), (3, 1), (1,)]
    """

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        if layers is not None:
            if isinstance(layers, Layer):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        """The layers in order (an explicit InputLayer is not listed, as in Keras)."""
        return list(self._stack)

    def add(self, layer: Layer) -> None:
        """Append a layer; builds the model as soon as the input shape is known.

        Raises:
            TypeError: if ``layer`` is not a Layer.
        """
        if isinstance(layer, KerasTensor) and layer.node is not None and isinstance(
                layer.node.layer, InputLayer):
            layer = layer.node.layer
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add() expects a Layer instance. "
                            f"Received: layer={layer!r} of type {type(layer).__name__}")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model. "
                                 f"Received: layer={layer.name!r}")
            self._input_layer = layer
            self._layers.append(layer)
            return
        if layer in self._stack:  # identity (layers compare by identity), at C speed
            raise ValueError(f"Layer {layer.name!r} is already in this model. "
                             f"Received: layer={layer.name!r}")
        self._stack.append(layer)
        touch_structure()
        if layer not in self._layers:
            self._layers.append(layer)
        shape = self._declared_input_shape()
        if shape is None and self.built:  # built from a shape: it stays built, as in Keras
            shape = getattr(self, "_build_shape", None)
        if shape is not None:
            if self.built and len(self._stack) > 1 and getattr(
                    self, "_build_shape", None) == tuple(shape):
                # only the new layer: rebuilding the whole stack per add is quadratic. It is
                # called on the previous output, so layer.output chains back to the input.
                previous = getattr(self, "_stack_output", None)
                out = layer(previous if previous is not None else KerasTensor(self._output_shape))
                self._stack_output = out if isinstance(out, KerasTensor) else None
                self._output_shape = out.shape
            else:
                self._build_stack(shape)
        else:
            self.built = False

    def pop(self) -> Layer:
        """Remove and return the last layer.

        Raises:
            IndexError: if the model has no layers.
        """
        if not self._stack:
            raise IndexError("pop() on a Sequential model with no layers.")
        layer = self._stack.pop()
        touch_structure()
        self._layers.remove(layer)
        shape = self._declared_input_shape()
        if shape is None and self.built:
            shape = getattr(self, "_build_shape", None)
        if shape is not None and self._stack:
            self._build_stack(shape)
        return layer

    def _declared_input_shape(self) -> tuple | None:
        if self._input_layer is not None:
            return self._input_layer._batch_input_shape
        if self._stack and self._stack[0]._batch_input_shape is not None:
            return self._stack[0]._batch_input_shape
        return None

    def _build_stack(self, batch_input_shape: tuple) -> None:
        if self._input_layer is not None and tuple(
                self._input_layer._batch_input_shape) == tuple(batch_input_shape):
            kt: Any = self._input_layer.output_tensor  # the layers' outputs chain back to it
        else:
            # as Keras does, a model built from a shape gets an Input of its own, so that
            # inputs/outputs and each layer's output chain back to one symbolic input
            auto = InputLayer(batch_shape=tuple(batch_input_shape))
            object.__setattr__(self, "_auto_input", auto)  # not tracked: layers stays as it was
            kt = auto.output_tensor
        self._stack_input = kt
        for layer in self._stack:
            kt = layer(kt)
            if isinstance(kt, (list, tuple)):  # e.g. a recurrent layer with return_state=True
                extra = " (return_state=True)" if getattr(layer, "return_state", False) else ""
                raise ValueError(
                    f'Layer "{layer.name}" returns {len(kt)} tensors{extra}, but every layer of '
                    "a Sequential model must return one tensor. Use the functional API "
                    "(Model(inputs, outputs)) to use several outputs. Received: "
                    f"{len(kt)} outputs from layer {layer.name!r}"
                )
        self._output_shape = kt.shape
        self._stack_output = kt
        self.built = True
        self._build_shape = tuple(batch_input_shape)

    def _symbolic_ends(self, which: str) -> KerasTensor:
        start = getattr(self, "_stack_input", None)
        end = getattr(self, "_stack_output", None)
        if (not self.built or not self._stack or end is None or start is None
                or start.node is None or not isinstance(start.node.layer, InputLayer)):
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined {which} yet: it has them once "
                "it has layers and a known input shape (an Input, input_shape= on the first "
                "layer, build(...) or a call on data). Received: "
                f"{len(self._stack)} layers, built={self.built}")
        return start if which == "inputs" else end

    @property
    def inputs(self) -> list:
        """The symbolic input, ``[keras.Input(...)]``, of a model whose input shape is known.

        That is a model that starts with an Input, whose first layer got ``input_shape=``, or
        that was built (``build(...)`` or called on data). As in Keras, ``Model(inputs=seq.inputs, outputs=[l.output for l in seq.layers])``
        makes a feature extractor from a Sequential model.

        Raises:
            AttributeError: if the model is not built or has no layers.

        Example:
            >>> import chainrule as cr
            >>> seq = cr.Sequential([cr.Input((3,)), cr.layers.Dense(4), cr.layers.Dense(2)])
            >>> extractor = cr.Model(seq.inputs, [layer.output for layer in seq.layers])
            >>> [tuple(t.shape) for t in extractor(cr.ops.ones((5, 3)))]
            [(5, 4), (5, 2)]
        """
        return [self._symbolic_ends("inputs")]

    @property
    def outputs(self) -> list:
        """The symbolic output (a list of one) of a model whose input shape is known.

        Raises:
            AttributeError: if the model is not built or has no layers.

        Example:
            >>> import chainrule as cr
            >>> seq = cr.Sequential([cr.Input((3,)), cr.layers.Dense(2)])
            >>> seq.outputs[0].shape
            (None, 2)
        """
        return [self._symbolic_ends("outputs")]

    @property
    def input(self) -> Any:
        """The symbolic input tensor (``inputs[0]``) of a model whose input shape is known.

        Example:
            >>> import chainrule as cr
            >>> seq = cr.Sequential([cr.layers.Dense(2, input_shape=(3,))])
            >>> seq.input.shape
            (None, 3)
        """
        try:
            return self._symbolic_ends("inputs")
        except AttributeError:
            return Model.input.fget(self)  # a model that was only called on symbolic tensors

    @property
    def output(self) -> Any:
        """The symbolic output tensor (``outputs[0]``) of a model whose input shape is known.

        Example:
            >>> import chainrule as cr
            >>> seq = cr.Sequential([cr.layers.Dense(2)])
            >>> seq.build((None, 3))
            >>> seq.output.shape
            (None, 2)
        """
        try:
            return self._symbolic_ends("outputs")
        except AttributeError:
            return Model.output.fget(self)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for inputs of ``input_shape`` (batch dimension included)."""
        if input_shape is None:
            input_shape = self._declared_input_shape()
        if input_shape is None:
            raise ValueError(
                f"Cannot build Sequential model {self.name!r}: the input shape is unknown. Give "
                "the first layer input_shape=... (or input_dim=...), add an Input, or call "
                "the model on data. Received: input_shape=None"
            )
        self._build_stack(tuple(input_shape))

    def call(self, inputs: Any, training: Any = None) -> Any:
        x = inputs
        for layer in self._stack:
            if _accepts_training(layer):
                x = layer(x, training=training)
            else:
                x = layer(x)
        return x

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        flat = flatten_structure(inputs)
        if flat and all(isinstance(x, KerasTensor) for x in flat):
            return Layer.__call__(self, inputs, *args, **kwargs)
        if not self.built:
            if not isinstance(inputs, Tensor):
                inputs = as_tensor(inputs)
            self.build((None,) + tuple(inputs.shape[1:]))
        if not isinstance(inputs, Tensor):
            inputs = as_tensor(inputs)
        with outermost_call(self):  # the losses its layers add start afresh
            return self.call(inputs, *args, **kwargs)

    def _symbolic_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        # Unknown sizes (an image model on Input((None, None, 3))): the stack built for
        # these shapes already knows its output shape from its layers' symbolic calls, so
        # answer from it; a dry run on size-1 axes fails for a window wider than 1 (as
        # ShapedLayer does for one layer)
        if (isinstance(inputs, KerasTensor) and None in inputs.shape[1:] and not args
                and set(kwargs) <= {"training"}):
            if not self.built:
                self._maybe_build(inputs)
            end = getattr(self, "_stack_output", None)
            if (end is not None and getattr(self, "_build_shape", None) is not None
                    and tuple(self._build_shape[1:]) == tuple(inputs.shape[1:])):
                out = KerasTensor((None,) + tuple(end.shape[1:]), dtype=end.dtype,
                                  name=self.name)
                node = Node(self, [inputs], [out], kwargs)
                out.node = node
                self._inbound_nodes.append(node)
                self._output_shape = out.shape
                return out
        return super()._symbolic_call(inputs, *args, **kwargs)

    def _config_input_layer(self) -> InputLayer | None:
        """The InputLayer that heads the config: the explicit one, else the one made at build."""
        shape = getattr(self, "_build_shape", None) if self.built else None
        if self._input_layer is not None and (
                shape is None or tuple(self._input_layer._batch_input_shape) == shape):
            return self._input_layer
        auto = getattr(self, "_auto_input", None)
        if auto is not None and shape is not None and tuple(auto._batch_input_shape) == shape:
            return auto
        return None

    def get_config(self) -> dict:
        """The model's config, as Keras 3 writes it.

        ``layers`` starts with an ``InputLayer`` entry (``batch_shape``, ``dtype``, ``sparse``,
        ``name``) once the input shape is known, and ``build_input_shape`` holds that shape.

        Example:
            >>> import chainrule as cr
            >>> seq = cr.Sequential([cr.layers.Dense(2, input_shape=(3,))])
            >>> config = seq.get_config()
            >>> [la["class_name"] for la in config["layers"]], config["build_input_shape"]
            (['InputLayer', 'Dense'], [None, 3])
        """
        from chainrule import backend  # noqa: PLC0415
        from chainrule.models.config import layer_to_config  # noqa: PLC0415

        layers = []
        first = self._config_input_layer()
        if first is not None:
            entry = layer_to_config(first)
            entry["config"] = {"batch_shape": list(first._batch_input_shape),
                               "dtype": first.dtype or backend.floatx(), "sparse": False,
                               "name": first.name}
            layers.append(entry)
        layers += [layer_to_config(la) for la in self._stack]
        config = {"name": self.name, "trainable": self.trainable,  # Keras's dtype entry too
                  "dtype": Layer.get_config(self)["dtype"], "layers": layers}
        if first is not None:
            config["build_input_shape"] = list(first._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        """Rebuild a model from :meth:`get_config`'s output.

        Also loads older configs: a top-level ``batch_input_shape``, or one on the first layer.
        A ``build_input_shape`` without an InputLayer entry builds the model for that shape.
        """
        from chainrule.models.config import layer_from_config  # noqa: PLC0415

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        shape = config.get("batch_input_shape")
        if shape is not None:
            model.add(InputLayer(batch_shape=tuple(shape)))
        for lc in config.get("layers", []):
            model.add(layer_from_config(lc, custom_objects))
        build_shape = config.get("build_input_shape")
        if build_shape is not None and not model.built and model._stack:
            model.build(tuple(build_shape))
        return model


register_layer_class(Model)
register_layer_class(Model, "Functional")
register_layer_class(Sequential)


def _keras_layer_order(inputs: list, outputs: list, nodes: list) -> list:
    """A functional graph's layers (and recorded ops) in the order Keras 3 lists them.

    Keras orders a functional model's operations by decreasing depth (the longest
    path from the operation to an output; a shared layer takes its largest), ties
    broken by the order a depth-first walk from the outputs, first input first, meets
    them. ``model.layers``, ``get_weights()``, the config and Keras's legacy ``.h5``
    weight files (matched layer by layer) follow that order; an input no output
    depends on comes first among the depth-0 operations.

    Args:
        inputs: the model's input tensors (an input may be an intermediate tensor: the
            graph is cut there).
        outputs: the model's output tensors.
        nodes: the graph's nodes, input layers excluded, parents before children.

    Returns:
        The layers, each once, input layers included.
    """
    in_graph = {id(n) for n in nodes}
    input_ids = {id(t) for t in inputs}
    first_met: dict[int, int] = {}  # layer -> index in the walk from the outputs (pre-order)
    depth_of: dict[int, int] = {}  # layer -> depth
    layer_of: dict[int, Any] = {}
    seen: set[int] = set()
    stack = [t for t in reversed(outputs)]
    while stack:
        t = stack.pop()
        node = t.node
        if id(node) in seen:
            continue
        is_input = isinstance(node.layer, InputLayer)
        if id(t) in input_ids and not is_input:
            continue  # a graph cut: the layer that made this input is outside the model
        seen.add(id(node))
        first_met.setdefault(id(node.layer), len(first_met))
        layer_of[id(node.layer)] = node.layer
        if not is_input:
            stack.extend(reversed(node.inputs))
    node_depth: dict[int, int] = {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), depth_of.get(id(node.layer), 0))
        depth_of[id(node.layer)] = node_depth[id(node)] = depth
        for t in node.inputs:
            if id(t.node) in in_graph:
                node_depth[id(t.node)] = max(depth + 1, node_depth.get(id(t.node), 0))
            elif isinstance(t.node.layer, InputLayer) and id(t.node.layer) in layer_of:
                key = id(t.node.layer)
                depth_of[key] = max(depth + 1, depth_of.get(key, 0))
    for t in inputs:  # inputs no output depends on: depth 0, first among their depth
        if isinstance(t.node.layer, InputLayer) and id(t.node.layer) not in layer_of:
            layer_of[id(t.node.layer)] = t.node.layer
            first_met[id(t.node.layer)] = -1
    return sorted(layer_of.values(),
                  key=lambda la: (-depth_of.get(id(la), 0), first_met[id(la)]))
