"""``serialize_keras_object`` / ``deserialize_keras_object``: one entry point for every kind.

Custom layers write ``get_config`` with these (Keras 3's idiom for a layer that
holds another layer, an initializer or an activation)::

    def get_config(self):
        return {**super().get_config(),
                "inner": saving.serialize_keras_object(self.inner)}

    @classmethod
    def from_config(cls, config):
        config["inner"] = saving.deserialize_keras_object(config["inner"])
        return cls(**config)

Each kind keeps its own registry (``chainrule.layers``, ``losses``, ``metrics``,
``optimizers``, ``initializers``, ``regularizers``, ``activations``); these two
functions only pick the right one, from the object's type or the config's
``module``. As everywhere in chainrule, only registered classes and those in
``custom_objects`` (or a ``custom_object_scope``) are ever instantiated.
"""

from __future__ import annotations

from typing import Any

__all__ = ["serialize_keras_object", "deserialize_keras_object"]

_PLAIN = (str, int, float, bool, type(None))


def _kinds() -> list:
    """``(module prefix, base class or None, serialize, deserialize)`` per kind, in lookup order."""
    from chainrule import (  # noqa: PLC0415
        activations,
        initializers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )
    from chainrule.layers import Layer  # noqa: PLC0415
    from chainrule.layers import serialization as layer_serialization  # noqa: PLC0415
    from chainrule.optimizers import schedules  # noqa: PLC0415

    return [
        ("chainrule.layers", Layer, layer_serialization.serialize,
         layer_serialization.deserialize),
        ("chainrule.losses", losses.Loss, losses.serialize, losses.deserialize),
        ("chainrule.metrics", metrics.Metric, metrics.serialize, metrics.deserialize),
        ("chainrule.optimizers.schedules", schedules.LearningRateSchedule, schedules.serialize,
         schedules.deserialize),
        ("chainrule.optimizers", optimizers.Optimizer, optimizers.serialize,
         optimizers.deserialize),
        ("chainrule.initializers", initializers.Initializer, initializers.serialize,
         initializers.deserialize),
        ("chainrule.regularizers", regularizers.Regularizer, regularizers.serialize,
         regularizers.deserialize),
        ("chainrule.activations", None, activations.serialize, activations.deserialize),
    ]


def serialize_keras_object(obj: Any) -> Any:
    """Describe ``obj`` as JSON-serializable data (Keras 3's ``serialize_keras_object``).

    Args:
        obj: a layer or model, loss, metric, optimizer, learning-rate schedule,
            initializer, regularizer, activation function, or plain data
            (numbers, strings, None, lists, tuples and dicts of them).

    Returns:
        ``{"class_name", "config", ...}`` for objects, the activation's name for
        an activation function, plain data as it is (tuples as lists).

    Raises:
        TypeError: for anything else, naming its type.

    Example:
        >>> import chainrule as cr
        >>> serialize_keras_object(cr.layers.Dense(2, name="d"))["class_name"]
        'Dense'
        >>> serialize_keras_object(cr.activations.relu)
        'relu'
    """
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    kinds = _kinds()
    for _, base, serialize, _ in kinds:
        if base is not None and isinstance(obj, base):
            return serialize(obj)
    if callable(obj):
        from chainrule import activations  # noqa: PLC0415

        return activations.serialize(obj)
    raise TypeError("serialize_keras_object takes a layer, loss, metric, optimizer, schedule, "
                    "initializer, regularizer, activation or plain data. Received: an object "
                    f"of type {type(obj).__name__}")


def deserialize_keras_object(config: Any, custom_objects: dict | None = None,
                             **kwargs: Any) -> Any:
    """Rebuild an object from :func:`serialize_keras_object`'s output.

    A dict with ``"class_name"`` is rebuilt by the registry its ``"module"``
    names (a layer when it names none, or the first registry that knows the
    class); a string is looked up among the activations and then the other
    kinds by name; other plain data is returned as it is.

    Args:
        config: the serialized description.
        custom_objects: ``{name: class or function}`` for your own objects.
        **kwargs: Keras's ``safe_mode`` and ``module_objects`` are accepted and
            have no effect (nothing in a config is ever imported or run).

    Returns:
        The new object.

    Raises:
        ValueError: for a class no registry knows, with the known names.

    Example:
        >>> import chainrule as cr
        >>> layer = deserialize_keras_object(serialize_keras_object(cr.layers.Dense(3)))
        >>> type(layer).__name__, layer.units
        ('Dense', 3)
    """
    unknown = sorted(set(kwargs) - {"safe_mode", "module_objects"})
    if unknown:
        raise TypeError(f"deserialize_keras_object() got unexpected keyword arguments: {unknown}."
                        f" Received: {', '.join(f'{k}={kwargs[k]!r}' for k in unknown)}")
    if isinstance(config, list):
        return [deserialize_keras_object(v, custom_objects) for v in config]
    if isinstance(config, str):
        from chainrule._registry import get_registered_object  # noqa: PLC0415

        custom = get_registered_object(config, custom_objects)
        if custom is not None:
            return custom
        from chainrule import activations  # noqa: PLC0415

        return activations.deserialize(config, custom_objects)
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    module = str(config.get("module") or "")
    for keras_prefix in ("keras.src.", "keras."):  # Keras's own module names map onto ours
        if module.startswith(keras_prefix):
            module = "chainrule." + module[len(keras_prefix):]
            break
    kinds = _kinds()
    chosen = [k for k in kinds if module and module.startswith(k[0])]
    if chosen:
        return chosen[0][3](config, custom_objects)
    if not module:  # chainrule's layer configs carry no module
        try:
            return kinds[0][3](config, custom_objects)
        except ValueError:
            pass
    for _, _, _, deserialize in kinds[1:]:
        try:
            return deserialize(config, custom_objects)
        except (ValueError, TypeError):
            continue
    raise ValueError(f"deserialize_keras_object: no registry knows class "
                     f"{config['class_name']!r} (layers, losses, metrics, optimizers, schedules, "
                     "initializers, regularizers, activations); pass your own classes in "
                     f"custom_objects. Received: class_name={config['class_name']!r}")
