"""``InputSpec``: the rank, dtype and shape a layer accepts, checked when it is called (Keras 3).

A layer sets ``self.input_spec`` (an :class:`InputSpec`, or a list of them,
one per input) in ``__init__`` or ``build``; every call then checks its inputs
with :func:`assert_input_compatibility` before the layer computes anything,
so a wrong input is reported naming the layer instead of failing inside an op.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

__all__ = ["InputSpec", "assert_input_compatibility"]


def _dtype_name(dtype: Any) -> str:
    return str(dtype) if isinstance(dtype, str) and dtype in ("string", "bool") else \
        np.dtype(dtype).name


def _dims(shape: Any, what: str) -> tuple:
    if not isinstance(shape, (tuple, list)) or not all(
            d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0)
            for d in shape):
        raise ValueError(f"InputSpec: {what} must be a tuple of non-negative integers or None. "
                         f"Received: {what}={shape!r}")
    return tuple(None if d is None else int(d) for d in shape)


class InputSpec:
    """What a layer expects of each input: dtype, shape or rank, and sizes of given axes.

    ``None`` in a shape matches any size. Give either ``shape`` (which fixes
    ``ndim``) or ``ndim``/``max_ndim``/``min_ndim``; ``axes`` maps axes
    (negative ones count from the end) to the size they must have.

    Args:
        dtype: the dtype the input must have, or None for any.
        shape: the full shape, batch dimension included (``None`` for any size).
        ndim: the exact rank.
        max_ndim: the largest rank.
        min_ndim: the smallest rank.
        axes: ``{axis: size}``, e.g. ``{-1: 64}`` for 64 features.
        allow_last_axis_squeeze: accept rank ``N + 1`` when the last axis is 1,
            and rank ``N - 1`` when the spec's last axis is 1.
        name: the input's key when inputs are passed as a dict.
        optional: whether the input may be None.

    Raises:
        TypeError: when ``axes`` has keys that are not integers.
        ValueError: when an axis of ``axes`` is beyond ``ndim``/``max_ndim``.

    Example:
        >>> import chainrule as cr
        >>> spec = cr.layers.InputSpec(ndim=3, axes={-1: 4})
        >>> spec
        InputSpec(ndim=3, axes={-1: 4})
        >>> cr.layers.InputSpec.from_config(spec.get_config()).axes
        {-1: 4}
    """

    def __init__(self, dtype: Any = None, shape: Sequence[Any] | None = None,
                 ndim: int | None = None, max_ndim: int | None = None,
                 min_ndim: int | None = None, axes: dict | None = None,
                 allow_last_axis_squeeze: bool = False, name: str | None = None,
                 optional: bool = False) -> None:
        self.dtype = _dtype_name(dtype) if dtype is not None else None
        if shape is not None:
            self.shape: tuple | None = _dims(shape, "shape")
            self.ndim: int | None = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        for key, value in (("ndim", self.ndim), ("max_ndim", max_ndim), ("min_ndim", min_ndim)):
            if value is not None and (isinstance(value, bool) or not isinstance(
                    value, (int, np.integer)) or value < 0):
                raise ValueError(f"InputSpec: {key} must be a non-negative integer or None. "
                                 f"Received: {key}={value!r}")
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = bool(optional)
        self.allow_last_axis_squeeze = bool(allow_last_axis_squeeze)
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError, AttributeError):
            raise TypeError("InputSpec: axes must be a dict with integer keys. "
                            f"Received: axes={axes!r}") from None
        top = self.ndim if self.ndim else self.max_ndim
        if self.axes and top is not None and max(self.axes) > top - 1:
            raise ValueError(f"InputSpec: axis {max(self.axes)} is greater than the largest "
                             f"allowed axis {top - 1}. Received: axes={self.axes}")

    def __repr__(self) -> str:
        parts = [f"{key}={value}" for key, value in (
            ("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
            ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim), ("axes", self.axes))
            if value]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self) -> dict:
        """The constructor's arguments (Keras's keys)."""
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config: dict) -> "InputSpec":
        """An ``InputSpec`` from :meth:`get_config`'s output."""
        return cls(**config)


def _flat(x: Any) -> list:
    if isinstance(x, (list, tuple)):
        return [v for item in x for v in _flat(item)]
    return [x]


def assert_input_compatibility(input_spec: Any, inputs: Any, layer_name: str) -> None:
    """Raise a ``ValueError`` naming the layer when ``inputs`` do not fit ``input_spec``.

    The checks are Keras's: the number of inputs, then for each input its rank
    (``ndim``, ``max_ndim``, ``min_ndim``), dtype, the sizes of ``axes`` and
    the ``shape`` (``None`` matches any size).

    Args:
        input_spec: an :class:`InputSpec`, a (nested) list of them, or None.
        inputs: a tensor or array, a list of them, or a dict keyed by the specs' names.
        layer_name: the layer's name, for the message.

    Raises:
        ValueError: on the first mismatch; the message ends with ``Received: ...``.

    Example:
        >>> import chainrule as cr
        >>> spec = cr.layers.InputSpec(ndim=2)
        >>> assert_input_compatibility(spec, np.zeros((2, 3)), "dense")
        >>> try:
        ...     assert_input_compatibility(spec, np.zeros((2, 3, 4)), "dense")
        ... except ValueError as e:
        ...     print(str(e)[:75])
        Input 0 of layer "dense" is incompatible with the layer: expected ndim=2, f
    """
    if not input_spec:
        return
    specs = _flat(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name if spec is not None else None for spec in specs]
        if all(names):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f'Layer "{layer_name}" expects inputs with the keys {names}; '
                    f"{missing[0]!r} is missing. Received: a dict with keys {list(inputs)}")
            inputs = [inputs[n] for n in names]
        else:
            inputs = list(inputs.values())
    flat = _flat(inputs)
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it '
                         f"received {len(flat)} input tensors. Received: {len(flat)} inputs")
    for index, (x, spec) in enumerate(zip(flat, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(f'Input {index} of layer "{layer_name}" must be a tensor. '
                             f"Received: an input of type {type(x).__name__}")
        shape = tuple(None if d is None else int(d) for d in x.shape)
        ndim = len(shape)
        start = f'Input {index} of layer "{layer_name}" is incompatible with the layer: expected'
        got = f"Received: inputs of shape {shape}"
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(f"{start} ndim={spec.ndim}, found ndim={ndim}. {got}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(f"{start} max_ndim={spec.max_ndim}, found ndim={ndim}. {got}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(f"{start} min_ndim={spec.min_ndim}, found ndim={ndim}. {got}")
        if spec.dtype is not None and getattr(x, "dtype", None) is not None:
            dtype = _dtype_name(x.dtype)
            if dtype != spec.dtype:
                raise ValueError(f"{start} dtype={spec.dtype}, found dtype={dtype}. "
                                 f"Received: inputs of dtype {dtype}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            if not -ndim <= axis < ndim:
                raise ValueError(f"{start} an axis {axis} of size {value}, found only {ndim} "
                                 f"axes. {got}")
            if shape[axis] not in (value, None):
                raise ValueError(f"{start} axis {axis} of the input shape to have value "
                                 f"{value}. {got}")
        if spec.shape is not None:
            spec_shape, seen = spec.shape, shape
            if spec.allow_last_axis_squeeze:
                if seen and seen[-1] == 1:
                    seen = seen[:-1]
                if spec_shape and spec_shape[-1] == 1:
                    spec_shape = spec_shape[:-1]
            for want, have in zip(spec_shape, seen):
                if want is not None and have is not None and want != have:
                    raise ValueError(f"{start} shape={spec.shape}, found shape={shape}. {got}")
