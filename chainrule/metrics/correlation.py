"""Correlation metrics: Pearson's and Lin's concordance correlation coefficients (Keras 3.6+).

Each is computed per sample along ``axis`` and averaged over samples by
:class:`~chainrule.metrics.MeanMetricWrapper`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from chainrule.metrics._utils import align_ranks, float_array
from chainrule.metrics.base import MeanMetricWrapper

__all__ = ["ConcordanceCorrelation", "PearsonCorrelation", "concordance_correlation",
           "pearson_correlation"]

_EPSILON = 1e-7


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """Pearson's correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    Example (Keras's documented numbers):
        >>> np.round(pearson_correlation([[0, 1, 0.5], [1, 1, 0.2]],
        ...                              [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]), 5).tolist()
        [1.0, 0.9934]
    """
    y_true, y_pred = align_ranks(float_array(y_true), float_array(y_pred))
    t = y_true - y_true.mean(axis=axis, keepdims=True)
    p = y_pred - y_pred.mean(axis=axis, keepdims=True)
    t = t / t.std(axis=axis, keepdims=True)
    p = p / p.std(axis=axis, keepdims=True)
    return (t * p).mean(axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> np.ndarray:
    """Lin's concordance correlation coefficient along ``axis``, as Keras 3 computes it.

    NOTE: Keras's covariance term centres ``y_true`` on the mean of ``y_pred``;
    chainrule does the same, so the numbers agree with Keras.

    Example (Keras's documented numbers):
        >>> np.round(concordance_correlation([[0, 1, 0.5], [1, 1, 0.2]],
        ...                                  [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]), 5).tolist()
        [0.97561, 0.98765]
    """
    y_true, y_pred = align_ranks(float_array(y_true), float_array(y_pred))
    t_mean = y_true.mean(axis=axis, keepdims=True)
    p_mean = y_pred.mean(axis=axis, keepdims=True)
    t_var = (y_true - t_mean).var(axis=axis, keepdims=True)
    p_var = (y_pred - p_mean).var(axis=axis, keepdims=True)
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + (t_mean - p_mean) ** 2
    return (2 * covar / (norm + _EPSILON)).mean(axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over samples of :func:`pearson_correlation`.

    Args:
        name: the metric's name.
        dtype: the float type of results.
        axis: the axis along which each sample's correlation is computed.

    Example (Keras's documented numbers):
        >>> m = PearsonCorrelation()
        >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
        >>> round(m.result(), 5)
        0.9967
    """

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=int(axis))

    def get_config(self) -> dict:
        """Return name, dtype and axis."""
        return {"name": self.name, "dtype": self.dtype, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> PearsonCorrelation:
        """Create the metric from :meth:`get_config`'s output."""
        return cls(**config)


class ConcordanceCorrelation(PearsonCorrelation):
    """The mean over samples of :func:`concordance_correlation`.

    Example (Keras's documented numbers):
        >>> m = ConcordanceCorrelation()
        >>> m.update_state([[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]])
        >>> round(m.result(), 5)
        0.98163
    """

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None,
                 axis: int = -1) -> None:
        MeanMetricWrapper.__init__(self, concordance_correlation, name=name, dtype=dtype,
                                   axis=int(axis))
