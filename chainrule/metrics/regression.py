"""Regression metrics: mean squared, absolute, percentage and log errors, and RMSE.

The function forms follow Keras: they average over the last axis, so targets
of shape ``(batch, 1)`` give one value per sample. (Rank-1 targets of shape
``(batch,)`` on both sides are averaged into one value for the batch, exactly
as in Keras; a model's ``(batch, 1)`` output aligns them to one per sample.)
Targets and predictions of shapes that broadcast together are compared
elementwise after broadcasting, as in Keras: targets ``(batch, 5)`` against a
``(batch, 1)`` output average the 5 errors of each sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule import backend
from chainrule.metrics._utils import align_ranks, check_broadcastable, float_array
from chainrule.metrics.base import Mean, MeanMetricWrapper

__all__ = [
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
]


def _aligned(kind: str, y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = align_ranks(float_array(y_true), float_array(y_pred))
    check_broadcastable(kind, y_true, y_pred)
    return y_true, y_pred


def _mean_last(x: np.ndarray) -> np.ndarray:
    # NOTE: sum / n rather than np.mean: the same value at a third of the call overhead.
    return np.add.reduce(x, axis=-1) / x.shape[-1]


def mean_squared_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return ``mean((y_true - y_pred) ** 2, axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d)``.
        y_pred: predictions of the same shape, or of one that broadcasts against it.

    Returns:
        One value per sample, shape ``(batch,)``.

    Example:
        >>> mean_squared_error([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        array([0.5, 0. ])
        >>> mean_squared_error([[1, 3]], [[2]])  # two targets against one prediction
        array([1.])
    """
    y_true, y_pred = _aligned("mean_squared_error", y_true, y_pred)
    diff = y_true - y_pred
    return _mean_last(diff * diff)


def mean_absolute_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return ``mean(abs(y_true - y_pred), axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d)``.
        y_pred: predictions of the same shape, or of one that broadcasts against it.

    Returns:
        One value per sample, shape ``(batch,)``.

    Example:
        >>> mean_absolute_error([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        array([0.5, 0. ])
    """
    y_true, y_pred = _aligned("mean_absolute_error", y_true, y_pred)
    return _mean_last(np.abs(y_true - y_pred))


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return ``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d)``.
        y_pred: predictions of the same shape, or of one that broadcasts against it.

    Returns:
        One value per sample, shape ``(batch,)``.

    Example:
        >>> mean_absolute_percentage_error([[2.0], [4.0]], [[1.0], [5.0]])
        array([50., 25.])
    """
    y_true, y_pred = _aligned("mean_absolute_percentage_error", y_true, y_pred)
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), backend.epsilon()))
    return 100.0 * _mean_last(diff)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> np.ndarray:
    """Return ``mean((log(1 + y_pred) - log(1 + y_true)) ** 2, axis=-1)``.

    Values below ``epsilon`` are raised to ``epsilon`` first, as in Keras.

    Args:
        y_true: targets, shape ``(batch, d)``.
        y_pred: predictions of the same shape, or of one that broadcasts against it.

    Returns:
        One value per sample, shape ``(batch,)``.

    Example:
        >>> round(float(mean_squared_logarithmic_error([[np.e - 1]], [[0.0]])[0]), 6)
        1.0
    """
    y_true, y_pred = _aligned("mean_squared_logarithmic_error", y_true, y_pred)
    eps = backend.epsilon()
    diff = np.log1p(np.maximum(y_pred, eps)) - np.log1p(np.maximum(y_true, eps))
    return _mean_last(diff * diff)


class _NamedWrapper(MeanMetricWrapper):
    """A MeanMetricWrapper whose function is fixed by the class (config: name and dtype)."""

    _function = staticmethod(mean_squared_error)

    def __init__(self, name: str, dtype: Any = None) -> None:
        super().__init__(type(self)._function, name=name, dtype=dtype)

    def get_config(self) -> dict:
        """Return ``{'name', 'dtype'}``."""
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NamedWrapper):
    """The mean over samples of :func:`mean_squared_error`.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = MeanSquaredError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> m.result()
        0.25
    """

    _function = staticmethod(mean_squared_error)

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsoluteError(_NamedWrapper):
    """The mean over samples of :func:`mean_absolute_error`.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = MeanAbsoluteError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
        >>> m.result()
        0.5
    """

    _function = staticmethod(mean_absolute_error)

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanAbsolutePercentageError(_NamedWrapper):
    """The mean over samples of :func:`mean_absolute_percentage_error`.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = MeanAbsolutePercentageError()
        >>> m.update_state([[2.0], [4.0]], [[1.0], [5.0]])
        >>> m.result()
        37.5
    """

    _function = staticmethod(mean_absolute_percentage_error)

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class MeanSquaredLogarithmicError(_NamedWrapper):
    """The mean over samples of :func:`mean_squared_logarithmic_error`.

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = MeanSquaredLogarithmicError()
        >>> m.update_state([[np.e - 1], [0.0]], [[0.0], [0.0]])
        >>> round(m.result(), 6)
        0.5
    """

    _function = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """The square root of the mean squared error over every sample seen.

    Squared errors are averaged per sample, weighted, accumulated over batches,
    and the square root is taken in :meth:`result` (not per batch).

    Args:
        name: the metric's name.
        dtype: the float type of results.

    Example:
        >>> m = RootMeanSquaredError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> m.result()
        0.5
    """

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Add the squared errors of one batch.

        Args:
            y_true: targets.
            y_pred: predictions of the same shape, or of one that broadcasts against it.
            sample_weight: None, or one weight per sample.
        """
        y_true, y_pred = _aligned("root_mean_squared_error", y_true, y_pred)
        diff = y_pred - y_true
        super().update_state(diff * diff, sample_weight=sample_weight)

    def result(self) -> float:
        """Return ``sqrt(total / count)``."""
        return float(np.sqrt(super().result()))
