"""Weight constraints: projections the optimizer applies to a weight after each update.

A constraint is called with a weight and returns its projected value
(clipped, rescaled); the optimizer writes that value back in place after every
update of a weight whose layer was given one (``kernel_constraint=``,
``bias_constraint=``, ...). Constraints are not differentiated: they work on
the weight's raw array, so they cost nothing on the tape and replay unchanged
in a captured training step.

The maths is Keras 3's, epsilon placement included: norms are
``sqrt(sum(w**2, axis, keepdims=True))`` and weights are rescaled by
``desired / (epsilon() + norms)``.

Example:
    >>> import numpy as np
    >>> from chainrule import constraints
    >>> constraints.NonNeg()(np.array([-1.0, 1.0]))
    array([0., 1.])
    >>> constraints.get("max_norm")
    MaxNorm(max_value=2, axis=0)
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from chainrule import backend
from chainrule._registry import _GLOBAL_CUSTOM_OBJECTS, Registry, get_registered_name
from chainrule.autograd.engine import Tensor

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]


def _raw(w: Any) -> Any:
    """The weight's array (a Tensor's or Variable's ``data``), as a float array."""
    data = w.data if isinstance(w, Tensor) else backend.as_array(w)
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype(backend.floatx())
    return data


def _like(w: Any, value: Any) -> Any:
    """Return ``value`` as the same kind of object as ``w``: a Tensor for a Tensor, else an array."""
    return Tensor(value) if isinstance(w, Tensor) else value


def _axis(axis: Any) -> Any:
    """Keras's ``axis``: an int or a list/tuple of ints (a list becomes a tuple for NumPy)."""
    if isinstance(axis, (list, tuple)):
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            raise ValueError(f"axis must be an int or a list of ints. Received: axis={axis!r}")
        return tuple(int(a) for a in axis)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an int or a list of ints. Received: axis={axis!r}")
    return int(axis)


def _norms(data: Any, axis: Any) -> Any:
    xp = backend.xp
    return xp.sqrt(xp.sum(xp.square(data), axis=_axis(axis), keepdims=True))


class Constraint:
    """Base class of weight constraints.

    A constraint works like a stateless function: ``__call__(w)`` returns the
    projected weight. Subclasses override ``__call__`` and, when they take
    arguments, ``get_config``. Plain functions of one weight work as
    constraints too (in memory; see :func:`serialize` for saving).

    Example:
        >>> import numpy as np
        >>> class Clip1(Constraint):
        ...     def __call__(self, w):
        ...         return np.clip(w, -1.0, 1.0)
        >>> Clip1()(np.array([-3.0, 0.5, 2.0]))
        array([-1. ,  0.5,  1. ])
    """

    def __call__(self, w: Any) -> Any:
        """Return the projected weight (the base class returns ``w`` unchanged).

        Args:
            w: the weight: a Variable, a Tensor or an array.

        Returns:
            The projected weight.
        """
        return w

    def get_config(self) -> dict:
        """Return the constructor arguments as a JSON-serializable dict (``{}`` here)."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        """Create a constraint from the output of :meth:`get_config`.

        Args:
            config: the constructor arguments.

        Returns:
            A new constraint.

        Example:
            >>> UnitNorm.from_config(UnitNorm(axis=1).get_config())
            UnitNorm(axis=1)
        """
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Keep the norm of the weights incident to each unit at most ``max_value``.

    ``w * clip(norms, 0, max_value) / (epsilon() + norms)`` with
    ``norms = sqrt(sum(w**2, axis, keepdims=True))``.

    Args:
        max_value: the largest norm allowed.
        axis: the axis (or list of axes) the norms are taken over: 0 for a
            Dense kernel ``(input_dim, units)``; ``[0, 1, 2]`` for a Conv2D
            kernel ``(rows, cols, in, filters)``.

    Example:
        >>> import numpy as np
        >>> MaxNorm(max_value=1.0)(np.array([[3.0], [4.0]])).round(6)
        array([[0.6],
               [0.8]])
    """

    def __init__(self, max_value: float = 2, axis: int | Sequence[int] = 0) -> None:
        self.max_value = max_value
        _axis(axis)
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        """Return ``w`` rescaled so that its norms along ``axis`` are at most ``max_value``."""
        data = _raw(w)
        norms = _norms(data, self.axis)
        desired = backend.xp.clip(norms, 0, self.max_value)
        return _like(w, data * (desired / (backend.epsilon() + norms)))

    def get_config(self) -> dict:
        """Return ``{"max_value": ..., "axis": ...}``."""
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Make the weights non-negative: ``maximum(w, 0)``.

    Example:
        >>> import numpy as np
        >>> NonNeg()(np.array([-2.0, 0.0, 3.0]))
        array([0., 0., 3.])
    """

    def __call__(self, w: Any) -> Any:
        """Return ``maximum(w, 0)``."""
        return _like(w, backend.xp.maximum(_raw(w), 0))


class UnitNorm(Constraint):
    """Give the weights incident to each unit a norm of 1: ``w / (epsilon() + norms)``.

    Args:
        axis: the axis (or list of axes) the norms are taken over (see :class:`MaxNorm`).

    Example:
        >>> import numpy as np
        >>> UnitNorm(axis=1)(np.array([[3.0, 4.0]])).round(6)
        array([[0.6, 0.8]])
    """

    def __init__(self, axis: int | Sequence[int] = 0) -> None:
        _axis(axis)
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        """Return ``w`` divided by its norms along ``axis`` (plus epsilon)."""
        data = _raw(w)
        return _like(w, data / (backend.epsilon() + _norms(data, self.axis)))

    def get_config(self) -> dict:
        """Return ``{"axis": ...}``."""
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep the norm of the weights incident to each unit between two bounds.

    The norms are moved to ``rate * clip(norms, min_value, max_value) + (1 - rate) * norms``:
    ``rate=1`` enforces the bounds at once, a smaller rate moves towards them step by step.

    Args:
        min_value: the smallest norm.
        max_value: the largest norm.
        rate: how far to move towards the bounds at each application.
        axis: the axis (or list of axes) the norms are taken over (see :class:`MaxNorm`).

    Example:
        >>> import numpy as np
        >>> MinMaxNorm(min_value=1.0, max_value=2.0)(np.array([[0.3], [0.4]])).round(6)
        array([[0.6],
               [0.8]])
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: int | Sequence[int] = 0) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        _axis(axis)
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        """Return ``w`` rescaled so that its norms move into ``[min_value, max_value]``."""
        data = _raw(w)
        norms = _norms(data, self.axis)
        clipped = backend.xp.clip(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return _like(w, data * (desired / (backend.epsilon() + norms)))

    def get_config(self) -> dict:
        """Return ``{"min_value", "max_value", "rate", "axis"}``."""
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras's lower-case aliases are the classes themselves.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm


# -- registry ------------------------------------------------------------------

_CLASSES: dict[str, type] = {
    c.__name__: c for c in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}

_NAMES: dict[str, type] = {
    "constraint": Constraint,
    "max_norm": MaxNorm,
    "min_max_norm": MinMaxNorm,
    "non_neg": NonNeg,
    "unit_norm": UnitNorm,
    "maxnorm": MaxNorm,
    "minmaxnorm": MinMaxNorm,
    "nonneg": NonNeg,
    "unitnorm": UnitNorm,
}

_REGISTRY = Registry(
    kind="constraint",
    module="chainrule.constraints",
    base=Constraint,
    classes=_CLASSES,
    names=_NAMES,
    functions={},  # only registered / custom functions can be named in a config
    name_custom_classes=True,
    get_error=(
        TypeError,
        "Could not interpret constraint identifier: expected None, a name, a config dict, "
        "a Constraint or a function. Received: identifier={value!r}",
    ),
    serialize_error=(
        TypeError,
        "serialize expects a Constraint or a registered function. "
        "Received: constraint={value!r}",
    ),
)


def get(identifier: Any) -> Any:
    """Return the constraint an identifier stands for.

    Args:
        identifier: None; a name (``"max_norm"``, ``"non_neg"``, ``"unit_norm"``,
            ``"min_max_norm"`` or a class name such as ``"MaxNorm"``); a config
            dict from :func:`serialize`; a Constraint (returned as is); a
            Constraint class (instantiated); or a function of one weight
            (returned as is).

    Returns:
        A Constraint, a function, or None.

    Raises:
        ValueError: for an unknown name, with the closest known names.
        TypeError: for any other kind of identifier.

    Example:
        >>> get("non_neg")
        NonNeg()
        >>> get({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}})
        MaxNorm(max_value=3, axis=0)
    """
    return _REGISTRY.get(identifier)


def _is_registered(fn: Any) -> bool:
    try:
        name = get_registered_name(fn)
    except AttributeError:
        return False
    return _GLOBAL_CUSTOM_OBJECTS.get(name) is fn


def serialize(constraint: Any) -> dict:
    """Return a JSON-serializable description of a constraint (Keras's layout).

    Args:
        constraint: a Constraint, or a function registered with
            ``register_keras_serializable`` (saved by its registered name).

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``.

    Raises:
        TypeError: for a function that is not registered, or anything else.

    Example:
        >>> serialize(MaxNorm(3))["config"]
        {'max_value': 3, 'axis': 0}
    """
    if not isinstance(constraint, Constraint) and not _is_registered(constraint):
        raise TypeError(_REGISTRY.serialize_error[1].format(value=constraint))
    return _REGISTRY.serialize(constraint)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild a constraint from the output of :func:`serialize` (or a name).

    Nothing is imported or evaluated: a config can name chainrule's constraints
    and those passed in ``custom_objects``, in a ``custom_object_scope`` or
    registered with ``register_keras_serializable``.

    Args:
        config: a dict with ``"class_name"`` and ``"config"``, or a name.
        custom_objects: optional ``{name: class or function}``.

    Returns:
        A new Constraint (or a registered function).

    Raises:
        ValueError: for an unknown name, with the closest known names.
        TypeError: for a config of another type.

    Example:
        >>> deserialize(serialize(UnitNorm(axis=[0, 1])))
        UnitNorm(axis=[0, 1])
    """
    return _REGISTRY.deserialize(config, custom_objects)


# -- what layers share -------------------------------------------------------------------

_KEEP_OBJECTS: contextvars.ContextVar[bool] = contextvars.ContextVar("keep_constraint_objects",
                                                                     default=False)


@contextlib.contextmanager
def _objects_in_configs() -> Iterator[None]:
    """Within the block, layer configs hold the constraint objects themselves.

    For copying a layer in memory through ``get_config``/``from_config`` (what
    ``Bidirectional`` does with the layer it wraps): a plain function keeps
    working there, though it cannot be saved to a file.
    """
    token = _KEEP_OBJECTS.set(True)
    try:
        yield
    finally:
        _KEEP_OBJECTS.reset(token)



def layer_config(layer: Any, keys: Sequence[str]) -> dict:
    """Serialize a layer's constraint arguments for its ``get_config``.

    Args:
        layer: the layer; ``getattr(layer, key)`` is each constraint.
        keys: the argument names, e.g. ``("kernel_constraint", "bias_constraint")``.

    Returns:
        ``{key: serialize(constraint) or None}``.

    Raises:
        ValueError: for a constraint that cannot be saved (a plain function that
            is not registered), naming the layer and the argument.

    Example:
        >>> from chainrule.layers import Dense
        >>> layer_config(Dense(2, kernel_constraint="non_neg"), ["kernel_constraint"])
        {'kernel_constraint': {'module': 'chainrule.constraints', 'class_name': 'NonNeg', \
'config': {}, 'registered_name': None}}
    """
    out: dict[str, Any] = {}
    for key in keys:
        value = getattr(layer, key, None)
        if value is None or (_KEEP_OBJECTS.get() and not isinstance(value, Constraint)):
            out[key] = value
            continue
        try:
            out[key] = serialize(value)
        except TypeError:
            raise ValueError(
                f'Layer "{getattr(layer, "name", type(layer).__name__)}" '
                f"({type(layer).__name__}): its {key} cannot be saved in a config: use a "
                "chainrule.constraints.Constraint, or register the function with "
                "chainrule.saving.register_keras_serializable(). "
                f"Received: {key}={value!r}") from None
    return out


def from_layer_config(config: Mapping[str, Any]) -> dict:
    """Turn the serialized constraints of a layer config (keys ``*_constraint``) into objects.

    Args:
        config: a layer config.

    Returns:
        A copy with every ``*_constraint`` name or dict deserialized.

    Example:
        >>> from_layer_config({"units": 2, "kernel_constraint": "non_neg"})
        {'units': 2, 'kernel_constraint': NonNeg()}
    """
    out = dict(config)
    for key, value in config.items():
        if key.endswith("_constraint") and isinstance(value, (str, Mapping)):
            out[key] = deserialize(value)
    return out
