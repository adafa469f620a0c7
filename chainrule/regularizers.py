"""Weight regularizers: penalties added to the loss to keep weights small.

A regularizer is called on a weight Tensor and returns a scalar Tensor; the
layer adds it to the training loss, so its gradient (``l2 * 2w`` for L2,
``l1 * sign(w)`` for L1) joins the loss gradient in every update.

Example:
    >>> import numpy as np, chainrule as cr
    >>> from chainrule import regularizers
    >>> w = cr.Tensor(np.ones((5, 5)), requires_grad=True)
    >>> float(regularizers.L2(2.0)(w))
    50.0
    >>> regularizers.get("l1")
    L1(l1=0.01)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from chainrule import backend, ops
from chainrule._registry import Registry
from chainrule.autograd.engine import Tensor

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]


def _factor(value: Any, name: str) -> float:
    """Check a penalty factor: a finite number >= 0 (Keras's ``validate_float_arg``)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or math.isinf(value)
        or math.isnan(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


class Regularizer:
    """Base class of regularizers.

    Subclasses implement ``__call__(x) -> scalar Tensor`` with differentiable
    ops and ``get_config()``. Any function of one weight Tensor that returns a
    scalar Tensor can be used as a regularizer too.

    Example:
        >>> import chainrule as cr
        >>> class Half(Regularizer):
        ...     def __call__(self, x):
        ...         return 0.5 * cr.ops.sum(x)
        ...     def get_config(self):
        ...         return {}
        >>> float(Half()(cr.Tensor([1.0, 3.0])))
        2.0
    """

    def __call__(self, x: Any) -> Any:
        """Return the penalty for weight ``x`` (0.0 in the base class)."""
        return 0.0

    def get_config(self) -> dict:
        """Return the constructor arguments as a JSON-serializable dict."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        """Create a regularizer from the output of :meth:`get_config`.

        Args:
            config: the constructor arguments.

        Returns:
            A new regularizer.
        """
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """L1 and L2 penalties together: ``l1 * sum(|x|) + l2 * sum(x^2)``.

    Gradient: ``l1 * sign(x) + 2 * l2 * x``.

    Args:
        l1: the L1 factor, a float >= 0 (None means 0).
        l2: the L2 factor, a float >= 0 (None means 0).

    Raises:
        ValueError: for a negative, infinite or non-numeric factor.

    Example:
        >>> import chainrule as cr
        >>> float(L1L2(l1=0.5, l2=0.25)(cr.Tensor([1.0, -2.0])))
        2.75
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> Tensor:
        """Return ``l1 * sum(|x|) + l2 * sum(x^2)`` as a scalar Tensor."""
        x = _tensor(x)
        penalty = None
        if self.l1:
            penalty = self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            term = self.l2 * ops.sum(ops.square(x))
            penalty = term if penalty is None else penalty + term
        if penalty is None:
            return Tensor(backend.xp.zeros((), dtype=x.dtype))
        return penalty

    def get_config(self) -> dict:
        """Return ``{"l1": ..., "l2": ...}``."""
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """L1 penalty ``l1 * sum(|x|)``; gradient ``l1 * sign(x)``.

    Pushes weights to exactly zero (sparse weights).

    Args:
        l1: the factor, a float >= 0 (None means the default 0.01).

    Raises:
        ValueError: for a negative, infinite or non-numeric factor.

    Example:
        >>> import chainrule as cr
        >>> float(L1(0.5)(cr.Tensor([1.0, -2.0])))
        1.5
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: Any) -> Tensor:
        """Return ``l1 * sum(|x|)`` as a scalar Tensor."""
        return self.l1 * ops.sum(ops.abs(_tensor(x)))

    def get_config(self) -> dict:
        """Return ``{"l1": ...}``."""
        return {"l1": self.l1}


class L2(Regularizer):
    """L2 penalty (weight decay) ``l2 * sum(x^2)``; gradient ``2 * l2 * x``.

    Args:
        l2: the factor, a float >= 0 (None means the default 0.01).

    Raises:
        ValueError: for a negative, infinite or non-numeric factor.

    Example:
        >>> import chainrule as cr
        >>> float(L2(0.5)(cr.Tensor([1.0, -2.0])))
        2.5
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: Any) -> Tensor:
        """Return ``l2 * sum(x^2)`` as a scalar Tensor."""
        return self.l2 * ops.sum(ops.square(_tensor(x)))

    def get_config(self) -> dict:
        """Return ``{"l2": ...}``."""
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Encourages the rows (or columns) of a 2-D weight to be orthogonal.

    The penalty is ``factor * 0.5 * sum_{i != j} |u_i . u_j| / (n (n - 1) / 2)``,
    where ``u_i`` are the L2-normalized rows (``mode="rows"``) or columns and
    ``n`` their number: the mean absolute cosine between distinct pairs, times
    ``factor``.

    Args:
        factor: a float >= 0.
        mode: ``"rows"`` or ``"columns"``.

    Raises:
        ValueError: for a negative factor or an unknown mode; when called on a
            weight that is not 2-D.

    Example:
        >>> import numpy as np, chainrule as cr
        >>> float(OrthogonalRegularizer(1.0)(cr.Tensor(np.eye(3))))
        0.0
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"Invalid value for argument mode: expected 'rows' or 'columns'. "
                f"Received: mode={mode!r}"
            )
        self.mode = mode

    def __call__(self, x: Any) -> Tensor:
        """Return the orthogonality penalty of the 2-D weight ``x`` as a scalar Tensor."""
        x = _tensor(x)
        if x.ndim != 2:
            raise ValueError(
                "OrthogonalRegularizer needs a 2-D weight (a Dense kernel). "
                f"Received: a weight of shape {tuple(x.shape)}"
            )
        axis = 1 if self.mode == "rows" else 0
        eps = backend.epsilon()
        norm2 = ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), eps * eps)
        u = x / ops.sqrt(norm2)
        product = u @ u.T if self.mode == "rows" else u.T @ u
        n = product.shape[0]
        if n < 2:  # no pairs, nothing to make orthogonal (Keras divides 0 by 0 here)
            return Tensor(backend.xp.zeros((), dtype=x.dtype))
        off_diagonal = 1.0 - backend.xp.eye(n, dtype=x.dtype)
        pairs = n * (n - 1) / 2.0
        return ops.sum(ops.abs(product * off_diagonal)) * (self.factor * 0.5 / pairs)

    def get_config(self) -> dict:
        """Return ``{"factor": ..., "mode": ...}``."""
        return {"factor": self.factor, "mode": self.mode}


# Keras's lower-case aliases are the classes themselves.
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer


# -- registry ------------------------------------------------------------------

_CLASSES: dict[str, type] = {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer)}

#: String identifiers and what they build. ``"l1_l2"`` uses 0.01 for both
#: factors, as Keras documents for the string (``L1L2()`` itself defaults to 0).
_NAMES: dict[str, Callable[[], Regularizer]] = {
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,
    "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),
    "orthogonal_regularizer": OrthogonalRegularizer,
}


_REGISTRY = Registry(
    kind="regularizer",
    module="chainrule.regularizers",
    base=Regularizer,
    classes=_CLASSES,
    names=_NAMES,
    make=lambda factory, name: factory(),
    get_error=(
        TypeError,
        "Could not interpret regularizer identifier: expected None, a name, a config dict, "
        "a Regularizer or a function. Received: identifier={value!r}",
    ),
    serialize_error=(
        TypeError,
        "serialize expects a Regularizer (functions used as regularizers cannot be "
        "saved by name). Received: regularizer={value!r}",
    ),
)


def get(identifier: Any) -> Any:
    """Return the regularizer an identifier stands for.

    Args:
        identifier: None; a name (``"l1"``, ``"l2"``, ``"l1_l2"``,
            ``"orthogonal_regularizer"``, or a class name such as ``"L2"``); a
            config dict from :func:`serialize`; a Regularizer (returned as is);
            a Regularizer class (instantiated); or a function of one weight
            returning a scalar (returned as is).

    Returns:
        A Regularizer, a function, or None.

    Raises:
        ValueError: for an unknown name, with the closest known names.
        TypeError: for any other kind of identifier.

    Example:
        >>> get("l2")
        L2(l2=0.01)
        >>> get({"class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.0}})
        L1L2(l1=0.1, l2=0.0)
    """
    return _REGISTRY.get(identifier)


def serialize(regularizer: Regularizer) -> dict:
    """Return a JSON-serializable description of a regularizer (Keras's layout).

    Args:
        regularizer: a Regularizer with ``get_config``.

    Returns:
        ``{"module", "class_name", "config", "registered_name"}``.

    Raises:
        TypeError: for anything that is not a Regularizer.

    Example:
        >>> serialize(L2(0.1))["config"]
        {'l2': 0.1}
    """
    return _REGISTRY.serialize(regularizer)


def deserialize(config: Any, custom_objects: dict | None = None) -> Regularizer:
    """Rebuild a regularizer from the output of :func:`serialize` (or a name).

    Args:
        config: a dict with ``"class_name"`` and ``"config"``, or a name.
        custom_objects: optional ``{class_name: class}`` for regularizers of your own.
            Registered objects and a ``custom_object_scope``'s are found too.

    Returns:
        A new Regularizer.

    Raises:
        ValueError: for an unknown class name, with the closest known names.
        TypeError: for a config of another type.

    Example:
        >>> deserialize(serialize(L1(0.3)))
        L1(l1=0.3)
    """
    return _REGISTRY.deserialize(config, custom_objects)
