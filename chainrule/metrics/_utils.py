"""Array helpers shared by the metrics: host conversion, rank alignment, weighting.

Metrics run on the host in NumPy. They see a handful of small arrays per
training batch, so every helper here is a few vectorized NumPy calls and
validates shapes only where a comparison of two tuples is enough.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule import backend


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array on the host.

    Accepts NumPy arrays (returned as they are), backend arrays (copied from
    the GPU when the backend is CuPy), objects with a ``numpy()`` method such as
    chainrule tensors, and nested lists or scalars.

    Args:
        x: the array-like value.

    Returns:
        A NumPy array.
    """
    if isinstance(x, np.ndarray):
        return x
    numpy_method = getattr(x, "numpy", None)
    if callable(numpy_method):
        return np.asarray(numpy_method())
    if backend.is_array(x):
        return backend.to_numpy(x)
    return np.asarray(x)


def float_array(x: Any) -> np.ndarray:
    """Return ``x`` as a floating-point NumPy array (integer and bool data become float64)."""
    x = to_numpy(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return x


def align_ranks(x1: np.ndarray, x2: np.ndarray, expand_rank_1: bool = True):
    """Squeeze or expand a trailing axis of size 1 so the two ranks match (Keras's rule).

    When the ranks differ by exactly one and the longer array ends in an axis of
    size 1, that axis is squeezed; a rank-1 partner is expanded instead when
    ``expand_rank_1`` is True. Otherwise the arrays are returned unchanged.

    Args:
        x1: first array.
        x2: second array.
        expand_rank_1: expand a rank-1 array rather than squeeze its partner.

    Returns:
        The two arrays, ranks aligned where the rule applies.

    Example:
        >>> a, b = align_ranks(np.zeros((4, 1)), np.zeros(4))
        >>> a.shape, b.shape
        ((4, 1), (4, 1))
    """
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def check_same_shape(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Raise a ValueError naming both shapes when ``y_true`` and ``y_pred`` differ.

    Args:
        kind: the metric's name, for the message.
        y_true: labels, after rank alignment.
        y_pred: predictions, after rank alignment.

    Raises:
        ValueError: when the shapes are not equal.
    """
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{kind} expects y_true and y_pred of the same shape (a trailing axis of size 1 "
            f"may be missing on one of them). Received: y_true.shape={y_true.shape}, "
            f"y_pred.shape={y_pred.shape}"
        )


def check_broadcastable(kind: str, y_true: np.ndarray, y_pred: np.ndarray) -> None:
    """Raise a ValueError naming both shapes when ``y_true`` and ``y_pred`` do not broadcast.

    The elementwise metrics (regression errors) compare targets and predictions
    of shapes that broadcast together, as Keras 3 does: targets ``(batch, 5)``
    against predictions ``(batch, 1)`` compare the 5 targets with the one prediction.

    Args:
        kind: the metric's name, for the message.
        y_true: labels, after rank alignment.
        y_pred: predictions, after rank alignment.

    Raises:
        ValueError: when the shapes do not broadcast together.
    """
    if y_true.shape == y_pred.shape:
        return
    try:
        np.broadcast_shapes(y_true.shape, y_pred.shape)
    except ValueError:
        raise ValueError(
            f"{kind} expects y_true and y_pred of the same shape or of shapes that broadcast "
            f"together (a trailing axis of size 1 may be missing on one of them). Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        ) from None


def broadcast_weight(sample_weight: np.ndarray, shape: tuple) -> np.ndarray:
    """Broadcast ``sample_weight`` to ``shape`` with an error that names both shapes.

    Args:
        sample_weight: the weights.
        shape: the shape of the values they weight.

    Returns:
        A read-only broadcast view of the weights.

    Raises:
        ValueError: when the shapes are not compatible.
    """
    try:
        return np.broadcast_to(sample_weight, shape)
    except ValueError:
        raise ValueError(
            f"sample_weight must be broadcastable to the shape of the values it weights, "
            f"{shape}: pass one weight per sample, shape (batch,). "
            f"Received: sample_weight.shape={sample_weight.shape}"
        ) from None


def samplewise_values(
    values: np.ndarray,
    sample_weight: Any,
    reduce: Callable[..., np.ndarray],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Reduce metric values to one per sample and apply the sample weights (Keras's rule).

    Values with more axes than the weights are first reduced over the extra
    axes; the weights are broadcast to the values and multiplied in; then both
    are reduced to one entry per sample.

    Args:
        values: per-element metric values, batch axis first.
        sample_weight: None, a scalar, or an array broadcastable to ``values``.
        reduce: ``np.mean`` for averaging metrics, ``np.sum`` for sums.

    Returns:
        ``(values, sample_weight)``: weighted values of shape ``(batch,)`` (or a
        scalar for scalar input) and the matching weights (None if none given).
    """
    if sample_weight is not None:
        sample_weight = float_array(sample_weight)
        values, sample_weight = align_ranks(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = broadcast_weight(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


def divide_no_nan(num: Any, den: Any) -> Any:
    """Return ``num / den`` elementwise, 0 where ``den`` is 0 (arrays or floats)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def check_name(name: Any) -> None:
    """Raise a TypeError unless ``name`` is None or a string."""
    if name is not None and not isinstance(name, str):
        raise TypeError(
            "name must be a string (pass other arguments by keyword, e.g. "
            f"BinaryAccuracy(threshold=0.7)). Received: name={name!r}"
        )


def check_positive_int(arg: str, value: Any) -> int:
    """Return ``value`` as an int, or raise a ValueError naming ``arg``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{arg} must be a positive integer. Received: {arg}={value!r}")
    return int(value)
