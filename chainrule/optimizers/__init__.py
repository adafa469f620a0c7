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

from chainrule import _lazy
from chainrule._registry import Registry
from chainrule.optimizers import schedules
from chainrule.optimizers.base import Optimizer

# Each optimizer loads with its module when first named (``optimizers.Adam``) or resolved
# (``compile(optimizer="adam")``)
_CLASSES = {
    ".adadelta": ["Adadelta"], ".adafactor": ["Adafactor"], ".adagrad": ["Adagrad"],
    ".adam": ["Adam"], ".adamax": ["Adamax"], ".adamw": ["AdamW"], ".ftrl": ["Ftrl"],
    ".lamb": ["Lamb"], ".lion": ["Lion"], ".loss_scale_optimizer": ["LossScaleOptimizer"],
    ".multi_optimizer": ["MultiOptimizer"], ".muon": ["Muon"], ".nadam": ["Nadam"],
    ".rmsprop": ["RMSprop"], ".schedule_free_adamw": ["ScheduleFreeAdamW"], ".sgd": ["SGD"],
}
_lazy.attach(globals(), {**_CLASSES, ".multi_optimizer": ["MultiOptimizer", "OptimizerMap"]})

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
__all__ += ["Adamax", "Ftrl", "Lamb", "Lion", "Adafactor"]
__all__ += ["LossScaleOptimizer", "MultiOptimizer", "Muon", "OptimizerMap", "ScheduleFreeAdamW"]

#: Built-in optimizers by lower-case name (the class names, lower-cased), loaded on use.
ALL_OPTIMIZERS: _lazy.LazyMapping = _lazy.LazyMapping({
    name.lower(): (f"chainrule.optimizers{module}", name)
    for module, (name,) in _CLASSES.items()
})

_OPTIMIZERS = Registry(
    kind="optimizer",
    module="keras.optimizers",
    base=Optimizer,
    classes=ALL_OPTIMIZERS,
    ignore_case=True,
    class_kind="optimizer",
    names=ALL_OPTIMIZERS,
    callables=False,
    names_in_deserialize=False,
    name_custom_classes=True,
    get_error=(
        ValueError,
        "Could not interpret optimizer identifier: expected a name such as 'adam', a config "
        "dict, an Optimizer class or instance. Received: identifier={value!r}",
    ),
    serialize_error=(
        TypeError,
        "serialize() expects an Optimizer. Received: optimizer={value!r} of type {type}",
    ),
    config_error=(
        ValueError,
        "A serialized optimizer must be a dict with 'class_name' and 'config'. "
        "Received: config={value!r}",
    ),
)


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Return an optimizer's configuration as a JSON-compatible dict (Keras 3's layout).

    Only the configuration is serialized; the training state is
    :meth:`Optimizer.get_state`.

    Args:
        optimizer: the optimizer.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``.

    Example:
        >>> serialize(get("sgd"))["class_name"]
        'SGD'
    """
    return _OPTIMIZERS.serialize(optimizer)


def deserialize(
    config: Mapping[str, Any], custom_objects: Mapping[str, Any] | None = None
) -> Optimizer:
    """Create an optimizer from :func:`serialize`'s dict (or Keras 3's).

    Args:
        config: a dict with ``class_name`` (case-insensitive for the built-ins)
            and ``config``.
        custom_objects: custom optimizer or schedule classes by name.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        A new, unbuilt optimizer.

    Raises:
        ValueError: for an unknown class name, with close matches.

    Example:
        >>> float(deserialize({"class_name": "adam", "config": {"learning_rate": 0.01}}).learning_rate)
        0.01
    """
    return _OPTIMIZERS.deserialize(config, custom_objects)


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
    return _OPTIMIZERS.get(identifier)
