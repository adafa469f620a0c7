"""``chainrule.Variable``: Keras 3's ``keras.Variable`` signature over the layer weight class.

A Variable assigned as an attribute of a layer (in ``__init__`` or ``build``)
is tracked in that layer's ``weights``, saved with it and, when trainable,
trained, as in Keras 3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.autograd.variable import Variable as _LayerVariable

__all__ = ["Variable"]

_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")
_SYNCHRONIZATIONS = ("none", "on_write", "on_read", "auto")


class Variable(_LayerVariable):
    """A variable made by the user, with Keras 3's ``keras.Variable`` arguments.

    Args:
        initializer: the initial value (an array or a number), or an
            initializer (a name such as ``"zeros"``, an object or a callable
            ``(shape, dtype)``), in which case ``shape`` is required.
        shape: the shape, needed when ``initializer`` is not a value.
        dtype: the dtype (default: the value's float dtype cast to
            :func:`chainrule.config.floatx`, or the value's own integer/bool dtype).
        trainable: whether optimizers update it.
        autocast: accepted for Keras compatibility (chainrule does not autocast).
        aggregation: ``"none"``, ``"mean"``, ``"sum"`` or ``"only_first_replica"``.
        synchronization: ``"none"``, ``"on_write"``, ``"on_read"`` or ``"auto"``.
        name: the variable's name (default ``"variable"``).

    Raises:
        ValueError: for an initializer without ``shape``, a value whose shape
            differs from ``shape``, or an unknown aggregation/synchronization.

    Example:
        >>> import chainrule as cr
        >>> v = cr.Variable("ones", shape=(2,), name="scale")
        >>> v.assign_add([1.0, 2.0]); (v * 2).numpy().tolist(), v.shape, v.name
        ([4.0, 6.0], (2,), 'scale')
    """

    __slots__ = ("autocast", "aggregation", "synchronization")
    _tracked_as_attribute = True  # Layer.__setattr__ adds it to the layer's weights

    def __init__(self, initializer: Any, shape: Any = None, dtype: Any = None,
                 trainable: bool = True, autocast: bool = True, aggregation: str = "none",
                 synchronization: str = "auto", name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError("Argument `name` must be a non-empty string without '/'. "
                             f"Received: name={name!r}")
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"Argument `aggregation` must be one of {list(_AGGREGATIONS)}. "
                             f"Received: aggregation={aggregation!r}")
        if synchronization not in _SYNCHRONIZATIONS:
            raise ValueError("Argument `synchronization` must be one of "
                             f"{list(_SYNCHRONIZATIONS)}. Received: "
                             f"synchronization={synchronization!r}")
        if isinstance(initializer, str) or (callable(initializer)
                                            and not hasattr(initializer, "shape")):
            from chainrule import initializers  # noqa: PLC0415

            if shape is None:
                raise ValueError("When creating a Variable from an initializer, the `shape` "
                                 f"argument must be specified. Received: initializer="
                                 f"{initializer!r} and shape={shape!r}")
            dt = np.dtype(dtype or backend.floatx())
            value = initializers.get(initializer)(tuple(int(d) for d in shape), dtype=dt)
        else:
            value = initializer.data if isinstance(initializer, _LayerVariable) else initializer
            arr = np.asarray(backend.to_numpy(value))
            if dtype is None:
                dtype = arr.dtype if arr.dtype.kind in "biu" else backend.floatx()
            if shape is not None and tuple(arr.shape) != tuple(shape):
                raise ValueError(f"Initial value has shape {tuple(arr.shape)}, not the requested "
                                 f"shape {tuple(shape)}. Received: shape={tuple(shape)}")
            dt = np.dtype(dtype)
        super().__init__(value, name=name or "variable", trainable=trainable, dtype=dt)
        self.autocast = bool(autocast)
        self.aggregation = aggregation
        self.synchronization = synchronization
