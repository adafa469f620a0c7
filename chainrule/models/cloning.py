"""``clone_model`` and ``model_from_json``: new models from an existing one's architecture.

A clone has the same layers (by configuration and name) and the same wiring
as the original, and fresh weights from the layers' initializers; it is not
compiled. As in Keras 3, Sequential and functional models are cloned layer by
layer (through ``clone_function``), a subclassed model through its
``get_config``/``from_config``.

A clone is made in memory, so the configs it goes through hold a layer's
constraint functions themselves: a plain (unregistered) function as a
``kernel_constraint`` is cloned with the layer (Keras 3 raises there, as it
does when saving such a layer; chainrule raises only when saving).
"""

from __future__ import annotations

import inspect
import json
from typing import Any, Callable

__all__ = ["clone_model", "model_from_json"]


def _clone_layer(layer: Any) -> Any:
    """A layer like ``layer``: same class and configuration, no weights yet."""
    return type(layer).from_config(layer.get_config())


def clone_model(model: Any, input_tensors: Any = None, clone_function: Callable | None = None,
                call_function: Callable | None = None, recursive: bool = False,
                **kwargs: Any) -> Any:
    """Clone a model: the same architecture with newly initialized weights (Keras 3).

    Args:
        model: a ``Sequential``, functional or subclassed ``Model``.
        input_tensors: optional ``Input`` tensor(s) for the clone to be called on
            (Sequential and functional models).
        clone_function: ``f(layer) -> new layer`` used for every layer (default:
            ``type(layer).from_config(layer.get_config())``); return the same
            layer to share it (weights included) with the original.
        call_function: optional ``f(layer, *args, **kwargs)`` that calls each
            cloned layer while the functional graph is rebuilt (functional models).
        recursive: clone nested Sequential/functional models with the same
            ``clone_function``, instead of passing them to ``clone_function``.
        **kwargs: none are accepted (Keras's backend-specific options).

    Returns:
        The new, uncompiled model.

    Raises:
        ValueError: for something that is not a model, for ``clone_function``,
            ``input_tensors`` or ``call_function`` on a subclassed model, and for
            ``input_tensors`` that do not fit.

    A layer's plain-function constraint (not registered) is cloned with it:
    the clone is made in memory, so the configs it goes through keep the
    function itself (only saving needs it registered).

    Example:
        >>> import numpy as np
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(3, input_dim=2, name="d")])
        >>> clone = clone_model(model)
        >>> [layer.name for layer in clone.layers], clone.count_params()
        (['d'], 9)
        >>> bool(np.array_equal(clone.get_weights()[0], model.get_weights()[0]))
        False
    """
    from chainrule.constraints import _objects_in_configs  # noqa: PLC0415

    with _objects_in_configs():  # an in-memory copy: constraint functions are kept as they are
        return _clone_model(model, input_tensors, clone_function, call_function, recursive,
                            **kwargs)


def _clone_model(model: Any, input_tensors: Any = None, clone_function: Callable | None = None,
                 call_function: Callable | None = None, recursive: bool = False,
                 **kwargs: Any) -> Any:
    """:func:`clone_model` itself (configs hold constraint objects while it runs)."""
    from chainrule.models.model import Model, Sequential  # noqa: PLC0415

    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword arguments: {sorted(kwargs)}. "
                        f"Received: {', '.join(f'{k}={v!r}' for k, v in kwargs.items())}")
    if not isinstance(model, Model):
        raise ValueError("clone_model expects a Model (Sequential, functional or subclassed). "
                         f"Received: model of type {type(model).__name__}")
    if clone_function is not None and not callable(clone_function):
        raise ValueError("clone_function must be a function of a layer returning a layer. "
                         f"Received: clone_function={clone_function!r}")
    if call_function is not None and not callable(call_function):
        raise ValueError("call_function must be a function (layer, *args, **kwargs). "
                         f"Received: call_function={call_function!r}")
    clone = clone_function or _clone_layer

    def clone_one(layer: Any) -> Any:
        if recursive and isinstance(layer, Model) and (
                isinstance(layer, Sequential) or layer._functional):
            return clone_model(layer, clone_function=clone_function,
                               call_function=call_function, recursive=True)
        return clone(layer)

    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("call_function is supported for functional models; a Sequential "
                             "model calls its layers itself. Received: call_function="
                             f"{call_function!r} with Sequential model {model.name!r}")
        return _clone_sequential(model, input_tensors, clone_one)
    if model._functional:
        return _clone_functional(model, input_tensors, clone_one, call_function)
    if input_tensors is not None or clone_function is not None or call_function is not None:
        raise ValueError(
            "clone_function, input_tensors and call_function are supported for Sequential and "
            f"functional models only; subclassed model {model.name!r} is cloned through its "
            "get_config() and from_config(). Received: "
            f"{'input_tensors' if input_tensors is not None else 'clone_function' if clone_function is not None else 'call_function'}"  # noqa: E501
            " that is not None")
    return _clone_subclassed(model)


def _clone_sequential(model: Any, input_tensors: Any, clone: Callable) -> Any:
    from chainrule.layers.base import KerasTensor  # noqa: PLC0415
    from chainrule.layers.core import InputLayer  # noqa: PLC0415
    from chainrule.models.model import Sequential  # noqa: PLC0415

    new = Sequential(name=model.name, trainable=model.trainable)
    if input_tensors is not None:
        tensors = input_tensors if isinstance(input_tensors, (list, tuple)) else [input_tensors]
        if len(tensors) != 1 or not isinstance(tensors[0], KerasTensor):
            raise ValueError("input_tensors for a Sequential model must be one Input tensor. "
                             f"Received: input_tensors={input_tensors!r}")
        new.add(tensors[0])
    elif model._input_layer is not None:
        old = model._input_layer
        new.add(InputLayer(batch_shape=old._batch_input_shape, name=old.name))
    for layer in model.layers:
        new.add(clone(layer))
    if not new.built and model.built and model._build_shape is not None:
        new.build(model._build_shape)
    return new


def _clone_functional(model: Any, input_tensors: Any, clone: Callable,
                      call_function: Callable | None) -> Any:
    from chainrule.layers.base import KerasTensor  # noqa: PLC0415
    from chainrule.layers.core import Input  # noqa: PLC0415
    from chainrule.models.model import Model, node_call_arguments  # noqa: PLC0415

    if input_tensors is not None:
        new_inputs = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [
            input_tensors]
        if len(new_inputs) != len(model.inputs) or not all(
                isinstance(t, KerasTensor) for t in new_inputs):
            raise ValueError(f"input_tensors must be {len(model.inputs)} Input tensor(s), one per "
                             f"input of model {model.name!r}. Received: input_tensors="
                             f"{input_tensors!r}")
    else:
        new_inputs = [Input(batch_shape=t.shape, dtype=t.dtype, name=t.node.layer.name)
                      for t in model.inputs]
    values = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones: dict = {}
    for node in model._nodes:
        layer = node.layer
        if id(layer) not in clones:
            clones[id(layer)] = clone(layer)
        new_layer = clones[id(layer)]
        arg, extra, kwargs = node_call_arguments(node, [values[id(t)] for t in node.inputs])
        call = call_function or (lambda layer, *a, **kw: layer(*a, **kw))
        out = call(new_layer, arg, *extra, **kwargs)
        outs = out if isinstance(out, (list, tuple)) else [out]
        for old, new in zip(node.outputs, outs):
            values[id(old)] = new
    outputs = [values[id(t)] for t in model.outputs]
    nested_in = model._nested_inputs
    nested_out = model._nested_outputs
    inputs = new_inputs if isinstance(nested_in, (list, tuple)) else new_inputs[0]
    outs = outputs if isinstance(nested_out, (list, tuple)) else outputs[0]
    return Model(inputs, outs, name=model.name, trainable=model.trainable)


def _clone_subclassed(model: Any) -> Any:
    cls = type(model)
    config = model.get_config()
    try:
        return cls.from_config(config)
    except TypeError:
        pass
    # A subclass whose __init__ takes none of the base config's keys (name, trainable)
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):  # pragma: no cover
        params = {}
    takes_all = any(p.kind == p.VAR_KEYWORD for p in params.values())
    kept = {k: v for k, v in config.items() if takes_all or k in params}
    try:
        return cls(**kept)
    except TypeError as e:
        raise ValueError(
            f"Cannot clone subclassed model {model.name!r}: {cls.__name__}(**get_config()) "
            f"failed ({e}). Give {cls.__name__} a get_config() that returns its constructor's "
            f"arguments. Received: config={config!r}") from None


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Rebuild a model (fresh weights) from the JSON of :meth:`Model.to_json`.

    Args:
        json_string: the JSON text.
        custom_objects: ``{name: class or function}`` for your own layers,
            activations, models.

    Returns:
        The model, not compiled.

    Raises:
        ValueError: for text that is not JSON, or not a model's description.

    Example:
        >>> import chainrule as cr
        >>> model = cr.Sequential([cr.layers.Dense(3, input_dim=2, name="d")])
        >>> model_from_json(model.to_json()).layers[0].units
        3
    """
    from chainrule._registry import custom_object_scope  # noqa: PLC0415
    from chainrule.layers.serialization import deserialize  # noqa: PLC0415
    from chainrule.models.model import Model  # noqa: PLC0415

    if not isinstance(json_string, (str, bytes, bytearray)):
        raise ValueError("model_from_json expects the JSON text of model.to_json(). "
                         f"Received: json_string of type {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as e:
        raise ValueError(f"model_from_json: the text is not valid JSON ({e.msg} at line "
                         f"{e.lineno}, column {e.colno}). Received: json_string="
                         f"{str(json_string)[:60]!r}") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("model_from_json expects a JSON object with 'class_name' and 'config', "
                         f"as model.to_json() writes. Received: {str(json_string)[:60]!r}")
    with custom_object_scope(custom_objects or {}):
        model = deserialize(config, custom_objects)
    if not isinstance(model, Model):
        raise ValueError(f"model_from_json: the JSON describes a {type(model).__name__}, not a "
                         f"model. Received: class_name={config['class_name']!r}")
    return model
