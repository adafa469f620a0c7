"""Layer configurations and their safe inverse (``keras.layers.serialize``/``deserialize``).

Rebuilding from a config only ever instantiates registered classes (chainrule's
layers, and the model classes, which register themselves with
:func:`register_layer_class`) and classes the caller passes in
``custom_objects``: nothing named in a config is imported or called.
"""

from __future__ import annotations

import inspect
from typing import Any

from chainrule.layers.base import Layer

__all__ = ["register_layer_class", "registered_layer_classes", "serialize", "deserialize"]

_REGISTERED: dict[str, type] = {}

# Layer classes of modules that load on first use (chainrule._lazy), by the module that
# registers them when imported: a saved ConvNeXt names LayerScale (a saved Distiller,
# itself) before anything has imported chainrule.applications.convnext
# (chainrule.distillation). Only these fixed modules are ever imported.
_REGISTERED_ON_IMPORT: dict[str, str] = {
    "LayerScale": "chainrule.applications.convnext",
    "StochasticDepth": "chainrule.applications.convnext",
    "Distiller": "chainrule.distillation.distiller",
}


def register_layer_class(cls: type, name: str | None = None) -> type:
    """Make a chainrule class loadable by name from a config (models register this way).

    Args:
        cls: a subclass of :class:`~chainrule.layers.Layer`.
        name: the name configs use (default the class's name).

    Returns:
        ``cls``.

    Raises:
        TypeError: when ``cls`` is not a Layer subclass.

    Example:
        >>> class Twice(Layer):
        ...     def call(self, x):
        ...         return x * 2
        >>> register_layer_class(Twice) is Twice
        True
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register_layer_class expects a Layer subclass. Received: cls={cls!r}")
    _REGISTERED[name or cls.__name__] = cls
    return cls


def registered_layer_classes() -> dict[str, type]:
    """``{name: class}`` of chainrule's layers and of the registered classes (the models)."""
    from chainrule import layers  # noqa: PLC0415

    table = {}
    for name in layers.__all__:
        obj = getattr(layers, name)
        if isinstance(obj, type) and issubclass(obj, Layer):
            table[name] = obj
    table.update(_REGISTERED)
    return table


def serialize(layer: Any) -> dict:
    """``{"class_name": ..., "config": layer.get_config()}`` (and a registered class's key).

    A class registered with ``register_keras_serializable`` also gets its
    ``"registered_name"``, so it loads without ``custom_objects``.

    Example:
        >>> import chainrule as cr
        >>> serialize(cr.layers.Dense(2, name="d"))["config"]["units"]
        2
    """
    from chainrule._registry import get_registered_name  # noqa: PLC0415

    config = {"class_name": type(layer).__name__, "config": layer.get_config()}
    registered = get_registered_name(type(layer))
    if registered != type(layer).__name__:
        config["registered_name"] = registered
    return config


def _resolve_class(class_name: Any, custom_objects: dict | None,
                   registered_name: Any = None) -> type:
    from chainrule._registry import get_registered_object, unknown_name_error  # noqa: PLC0415

    for name in (class_name, registered_name):  # custom_objects, a scope, registered classes
        custom = get_registered_object(name, custom_objects)
        if isinstance(custom, type) and issubclass(custom, Layer):
            return custom
    if isinstance(class_name, str) and class_name not in _REGISTERED \
            and class_name in _REGISTERED_ON_IMPORT:
        import importlib  # noqa: PLC0415

        importlib.import_module(_REGISTERED_ON_IMPORT[class_name])  # registers the class
    table = registered_layer_classes()
    if custom_objects:
        table.update({k: v for k, v in custom_objects.items() if isinstance(v, type)})
    if not isinstance(class_name, str) or class_name not in table:
        raise unknown_name_error("layer class", class_name, list(table))
    return table[class_name]


def _takes_custom(cls: type) -> bool:
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False


def deserialize(config: dict, custom_objects: dict | None = None) -> Any:
    """Instantiate a layer (or model) from :func:`serialize`'s output.

    Args:
        config: ``{"class_name": ..., "config": {...}}``.
        custom_objects: ``{"Name": class}`` for classes of your own.

    Returns:
        The new layer.

    Raises:
        ValueError: for a malformed config or an unknown class name.

    Example:
        >>> import chainrule as cr
        >>> deserialize({"class_name": "Dense", "config": {"units": 2}}).units
        2
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError("A layer config must be a dict with 'class_name' and 'config'. "
                         f"Received: {type(config).__name__}")
    cls = _resolve_class(config["class_name"], custom_objects, config.get("registered_name"))
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"A layer's 'config' must be a dict. Received: {type(inner).__name__}")
    if hasattr(cls, "from_config"):
        try:
            if _takes_custom(cls):
                return cls.from_config(inner, custom_objects)
            return cls.from_config(inner)
        except TypeError as e:
            raise ValueError(
                f"Invalid config for layer class {config['class_name']!r}: {e}"
            ) from None
    return cls(**inner)  # pragma: no cover
