"""Optimizers and learning-rate schedules, with Keras 3's names, defaults and numbers.

``model.compile(optimizer="adam")`` resolves its optimizer with :func:`get`.

Example:
    >>> from chainrule import optimizers
    >>> optimizers.get("adam")
    <Adam name='adam' learning_rate=0.001 iterations=0>
    >>> opt = optimizers.SGD(learning_rate=0.01, momentum=0.9)
    >>> optimizers.deserialize(optimizers.serialize(opt)).get_config() == opt.get_config()
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainrule._registry import lookup
from chainrule.optimizers import schedules
from chainrule.optimizers.adadelta import Adadelta
from chainrule.optimizers.adagrad import Adagrad
from chainrule.optimizers.adam import Adam
from chainrule.optimizers.adamw import AdamW
from chainrule.optimizers.base import Optimizer
from chainrule.optimizers.nadam import Nadam
from chainrule.optimizers.rmsprop import RMSprop
from chainrule.optimizers.sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

#: Built-in optimizers by lower-case name (the class names, lower-cased).
ALL_OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.__name__.lower(): cls for cls in (SGD, Adagrad, RMSprop, Adam, AdamW, Nadam, Adadelta)
}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Return an optimizer's configuration as a JSON-compatible dict (Keras 3's layout).

    Only the configuration is serialized; the training state is
    :meth:`Optimizer.get_state`.

    Args:
        optimizer: the optimizer.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(SGD())["class_name"]
        'SGD'
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "serialize() expects an Optimizer. "
            f"Received: optimizer={optimizer!r} of type {type(optimizer).__name__}"
        )
    name = type(optimizer).__name__
    builtin = ALL_OPTIMIZERS.get(name.lower()) is type(optimizer)
    return {
        "module": "keras.optimizers",
        "class_name": name,
        "config": optimizer.get_config(),
        "registered_name": None if builtin else name,
    }


def deserialize(
    config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
) -> Optimizer:
    """Create an optimizer from :func:`serialize`'s dict (or Keras 3's).

    Args:
        config: a dict with ``class_name`` (case-insensitive for the built-ins)
            and ``config``.
        custom_objects: custom optimizer or schedule classes by name.

    Returns:
        A new, unbuilt optimizer.

    Raises:
        ValueError: for an unknown class name, with close matches.

    Example:
        >>> deserialize({"class_name": "adam", "config": {"learning_rate": 0.01}}).learning_rate
        0.01
    """
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(
            "A serialized optimizer must be a dict with 'class_name' and 'config'. "
            f"Received: config={config!r}"
        )
    name = config["class_name"]
    custom = dict(custom_objects or {})
    cls = custom.get(name) or custom.get(config.get("registered_name") or "")
    if cls is None:
        cls = lookup("optimizer", name, ALL_OPTIMIZERS)
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier: Any) -> Optimizer | None:
    """Return an optimizer for a name, config dict, class or instance.

    Args:
        identifier: ``"adam"``, ``"SGD"``, ... (case-insensitive); a dict from
            :func:`serialize`; an Optimizer subclass (created with its defaults);
            an Optimizer (returned as is); or None.

    Returns:
        An optimizer (None for None).

    Raises:
        ValueError: for an unknown name (``Unknown optimizer: 'adma'. Did you mean
            'adam'? Known: ...``) or anything else that is not an optimizer.

    Example:
        >>> get("RMSprop").get_config()["rho"]
        0.9
    """
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        return lookup("optimizer", identifier, ALL_OPTIMIZERS)()
    if isinstance(identifier, Mapping):
        return deserialize(identifier)
    raise ValueError(
        "Could not interpret optimizer identifier: expected a name such as 'adam', a config "
        f"dict, an Optimizer class or instance. Received: identifier={identifier!r}"
    )
